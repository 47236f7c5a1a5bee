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

/* Give d one vif: MAC 00:16:3e:00:00:ID, IP 198.18.0.(ID + 1)/24. */
static inline void scn_build_vif(struct scenario *s, struct scn_domain *d)
{
    (void)s;
    d->vifs = realloc(d->vifs, (size_t)(d->nr_vifs + 1) * sizeof(*d->vifs));
    struct scn_vif *v = &d->vifs[d->nr_vifs++];
    memset(v, 0, sizeof(*v));
    const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x00, (uint8_t)(d->id >> 8), (uint8_t)d->id };
    memcpy(v->mac, mac, 6);
    v->ip = (198u << 24) | (18u << 16) | (uint32_t)(d->id + 1);
    v->prefix = 24;
    v->weight = 256;
}

/* Add Domain-0 (last, id 0) running netback on `port`, with the loader's
 * defaults; call after every guest. */
static inline struct scn_domain *scn_build_dom0(struct scenario *s, enum scn_nb_port port)
{
    /* (port SCN_NB_NONE: disks only, no netback) */
    s->nr_guests = s->nr_domains;
    struct scn_domain *d = scn_build_dom(s, "Domain-0", "idle");
    d->id = 0;
    d->is_dom0 = true;
    extern const struct workload_desc workload_netback;
    d->wl.desc = &workload_netback;
    s->dom0 = s->nr_domains - 1;
    s->netback.port = port;
    s->netback.cpu = SCN_NB_DOM0;
    snprintf(s->netback.tap_name, sizeof(s->netback.tap_name), "fv0");
    s->netback.tap_ip = (198u << 24) | (18u << 16) | 1u;
    s->netback.tap_prefix = 24;
    s->netback.poll = FV_US(100);
    s->netback.cost_packet = 250;
    s->netback.cost_burst = 1000;
    s->netback.cost_kib = 100;
    s->netback.cost_notify = 5000;
    return d;
}

/* Give d one vbd of `size` bytes: a memory disk (path NULL) or the image
 * file `path`; blkback gets the loader's defaults the first time. */
static inline void scn_build_vbd(struct scenario *s, struct scn_domain *d, uint64_t size,
                                 const char *path)
{
    d->vbds = realloc(d->vbds, (size_t)(d->nr_vbds + 1) * sizeof(*d->vbds));
    struct scn_vbd *v = &d->vbds[d->nr_vbds++];
    memset(v, 0, sizeof(*v));
    v->size = size;
    v->backend = path ? SCN_BLK_FILE : SCN_BLK_MEMORY;
    if (path)
        snprintf(v->path, sizeof(v->path), "%s", path);
    if (!s->blkback.present)
        s->blkback = (struct scn_blkback){
            .present = true, .backend = SCN_BLK_MEMORY, .cpu = SCN_NB_DOM0, .qdepth = 32,
            .latency = FV_US(100), .bandwidth = 2ULL << 30, .cost_request = FV_US(2),
            .cost_kib = 100,
        };
}

static inline void scn_build_free(struct scenario *s)
{
    for (int i = 0; i < s->nr_domains; i++)
        free(s->domains[i].vbds);
    for (int i = 0; i < s->nr_domains; i++)
        free(s->domains[i].vifs);
    free(s->domains);
    free(s);
}

#endif
