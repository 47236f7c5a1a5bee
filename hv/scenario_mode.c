/* scenario_mode.c — `mode: performance | density`: one key that sets the
 * knobs a host is tuned with, each of which the file (or --set) can still
 * override, and all of which the resolved scenario.yaml writes out.
 *
 * performance: the backends get a dedicated polling pCPU (netback.cpu and
 *   blkback.cpu: dedicated, when there are backends and pcpus >= 2); every
 *   guest without `pin` is pinned round-robin, one domain per pCPU (a
 *   domain with v vCPUs gets v consecutive pCPUs) over the pCPUs the
 *   backends leave; short slices: tslice 1 ms and ratelimit 100 us where
 *   the policy has them (Xen's smallest ratelimit; Hu et al. showed a short
 *   slice cutting inter-domain latency by an order of magnitude).
 * density: today's defaults, written out explicitly: shared pCPUs,
 *   event-driven backends on Domain-0's vCPU, no pinning (any overcommit),
 *   the policy's own slices.
 *
 * A knob counts as given when its key is in the document (the file or a
 * --set): the mode never overrides it.
 */
#include "scenario_priv.h"

#include <string.h>

static bool performance(const struct scenario *s)
{
    return strcmp(s->mode, "performance") == 0;
}

/* A global parameter of the policy, set to v (clamped into its range)
 * unless the sched: block names it. */
static void mode_param(struct scn_ctx *c, const char *key, fv_ns_t v, fv_ns_t *field)
{
    const struct sched_param_desc *p = sched_param_find(c->s->policy->global_params, key);
    if (!p || scn_map_get(c, c->sched_node, key))
        return;
    *field = v < p->min ? p->min : v > p->max ? p->max : v;
}

static void mode_backends(struct scn_ctx *c, bool net, bool blk)
{
    struct scenario *s = c->s;
    if (s->pcpus < 2)
        return;             /* no pCPU to spare: the backends stay on Domain-0's vCPU */
    bool net_given = net && scn_map_get(c, c->netback_node, "cpu");
    bool blk_given = blk && scn_map_get(c, c->blkback_node, "cpu");
    if (net_given || blk_given)
        return;             /* one written cpu decides both (they must agree) */
    if (net)
        s->netback.cpu = SCN_NB_DEDICATED;
    if (blk)
        s->blkback.cpu = SCN_NB_DEDICATED;
}

/* Pin every guest without `pin`: domain k's vCPUs to consecutive pCPUs from
 * a cursor that goes round the first `n` pCPUs. */
static void mode_pin(struct scenario *s, int n)
{
    int next = 0;
    for (int i = 0; i < s->nr_guests; i++) {
        struct scn_domain *d = &s->domains[i];
        if (d->pinned)
            continue;
        d->pinned = true;
        cpumask_clear_all(&d->pin);
        if (d->vcpus >= n) {
            cpumask_fill(&d->pin, n);
            continue;
        }
        for (int v = 0; v < d->vcpus; v++, next = (next + 1) % n)
            cpumask_set(&d->pin, next);
    }
}

int scn_apply_mode(struct scn_ctx *c, bool net, bool blk)
{
    struct scenario *s = c->s;
    if (!performance(s))
        return 0;
    mode_param(c, "tslice", FV_MS(1), &s->gp.tslice);
    mode_param(c, "ratelimit", FV_US(100), &s->gp.ratelimit);
    mode_backends(c, net, blk);
    bool dedicated = (net && s->netback.cpu == SCN_NB_DEDICATED) ||
                     (blk && s->blkback.cpu == SCN_NB_DEDICATED);
    mode_pin(s, dedicated ? s->pcpus - 1 : s->pcpus);
    return 0;
}
