/* scn_build.h — build a struct scenario in code, without the YAML loader,
 * for engine tests. Header-only; the scenario is freed with scn_build_free. */
#ifndef FV_SCN_BUILD_H
#define FV_SCN_BUILD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/scenario.h"

static inline struct scenario *scn_build(const char *policy, int pcpus, fv_ns_t duration)
{
    struct scenario *s = calloc(1, sizeof(*s));
    snprintf(s->file, sizeof(s->file), "<test>");
    snprintf(s->name, sizeof(s->name), "test");
    snprintf(s->engine, sizeof(s->engine), "sim");
    snprintf(s->mode, sizeof(s->mode), "density");
    s->duration = duration;
    s->seed = 1;
    s->pcpus = pcpus;
    s->sample = FV_MS(100);
    s->starvation_threshold = FV_MS(100);
    s->policy = sched_find(policy);
    if (!s->policy)
        abort();
    sched_global_defaults(s->policy, &s->gp);
    return s;
}

/* Add a domain running workload `kind` with its defaults; returns it so the
 * test can set parameters (weight: d->sp.weight, args: d->wl.args.v[i]). */
static inline struct scn_domain *scn_build_dom(struct scenario *s, const char *name, const char *kind)
{
    s->domains = realloc(s->domains, (size_t)(s->nr_domains + 1) * sizeof(*s->domains));
    struct scn_domain *d = &s->domains[s->nr_domains++];
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", name);
    d->id = s->nr_domains;
    d->vcpus = 1;
    d->memory = 64ULL << 20;
    sched_dom_defaults(&d->sp);
    d->wl.desc = workload_find(kind);
    if (!d->wl.desc)
        abort();
    for (int i = 0; d->wl.desc->params && d->wl.desc->params[i].name; i++)
        d->wl.args.v[i] = d->wl.desc->params[i].def;
    return d;
}

static inline void scn_build_set(struct scn_domain *d, const char *param, int64_t v)
{
    int i = workload_param_index(d->wl.desc, param);
    if (i < 0)
        abort();
    d->wl.args.v[i] = v;
}

static inline void scn_build_free(struct scenario *s)
{
    free(s->domains);
    free(s);
}

#endif
