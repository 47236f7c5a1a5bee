/* workload.h — the registry of guest programs and their parameter schemas.
 *
 * A workload is a `main` run on each vCPU of a domain, written against
 * guest.h. Its parameters (the keys of a scenario's `workload:` block besides
 * `kind`) are described by a schema the scenario loader validates against;
 * the loader hands main the parsed values in the schema's order. */
#ifndef FV_WORKLOAD_H
#define FV_WORKLOAD_H

#include <stdint.h>

#define WL_MAX_PARAMS 8
#define WL_STR_MAX 64

enum wl_param_kind {
    WL_NS,      /* a duration: "10ms" (ns) */
    WL_BYTES,   /* a size: "4MiB" (bytes) */
    WL_INT,     /* a plain integer, k/M suffixes allowed: "10k" */
    WL_BOOL,    /* true/false */
    WL_ENUM,    /* one of `choices`; value = index */
};

struct wl_param_desc {
    const char *name;
    enum wl_param_kind kind;
    int64_t min, max, def;
    const char *const *choices;     /* WL_ENUM: NULL-terminated */
    const char *help;
};

struct wl_args {
    int64_t v[WL_MAX_PARAMS];       /* by schema index */
};

struct workload_desc {
    const char *kind;               /* "cpu-hog" */
    const char *help;
    const struct wl_param_desc *params;   /* NULL-name terminated; may be NULL */
    void (*main)(const struct wl_args *a);
};

/* The workload named `kind`, or NULL. */
const struct workload_desc *workload_find(const char *kind);
/* All workloads, NULL-terminated. */
extern const struct workload_desc *const workload_kinds[];
/* Index of parameter `name` in w's schema, or -1. */
int workload_param_index(const struct workload_desc *w, const char *name);

#endif
