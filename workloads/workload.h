/* workload.h — the registry of guest programs and their parameter schemas.
 *
 * A workload is a `main` run on each vCPU of a domain, written against
 * guest.h. Its parameters (the keys of a scenario's `workload:` block besides
 * `kind`) are described by a schema the scenario loader validates against;
 * the loader hands main the parsed values in the schema's order. */
#ifndef FV_WORKLOAD_H
#define FV_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#define WL_MAX_PARAMS 12
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

/* Parameters that name another domain (a peer) are WL_INT parameters listed
 * in workload_peer_params (registry.c) with rules about the peer. In a
 * scenario such a value is a domain's name (after count expansion: `peer:
 * echo`, `peer: flood-2`) or, when no domain has that name and it is a plain
 * number, a domain id (1.. in file order after count expansion). The loader
 * resolves it once every domain is known and stores the domain id, so main
 * reads an integer domain id in wl_args.v as for any WL_INT (`min`, `max`,
 * `def` are ids). The loader refuses a peer that is no domain or the domain
 * itself, then checks the first rule whose `role` matches this domain (the
 * list ends at a rule with no `kind` that is not `unused`; an empty list asks
 * for nothing more). A role is the value of the workload's WL_ENUM parameter
 * named "role". A rule with no `kind` and `unused` says the role has no
 * peer: the parameter may not be given, its default is not resolved, and
 * the loader stores 0. With `host_ok`, the value `host` names the host side
 * of the TAP port (netback.port: tap) and is stored as 0. */
struct wl_peer_rule {
    int64_t role;           /* this rule applies when this domain's role is this; -1: always */
    const char *kind;       /* the peer must run this workload kind... */
    int64_t peer_role;      /* ...with this role (-1: any)... */
    bool mutual;            /* ...and name this domain in its parameter of the same name */
    /* A parameter of this domain that must be at most the peer's vcpus (the
     * peer has one of them per vCPU, numbered from 1: evtchn ports); NULL:
     * none. */
    const char *per_peer_vcpu;
    bool host_ok;           /* `host` (stored as 0) is accepted: the host side of the TAP port */
    bool unused;            /* with kind NULL: this role has no peer */
};

struct wl_peer_param {
    const char *kind;                   /* workload kind */
    const char *param;                  /* its WL_INT parameter that names a domain */
    const struct wl_peer_rule *rules;   /* ends at a rule with no kind that is not unused */
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
/* Every parameter that names a domain, ending with { NULL }. */
extern const struct wl_peer_param workload_peer_params[];
/* The peer rules of parameter `name` of w when it names a domain, else NULL. */
const struct wl_peer_rule *workload_peer_rules(const struct workload_desc *w, const char *name);

#endif
