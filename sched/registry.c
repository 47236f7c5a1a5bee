/* registry.c — the one explicit table of policies, chosen by name, and the
 * helpers every policy shares. */
#include "sched.h"

#include <stdlib.h>
#include <string.h>

extern const struct sched_ops sched_credit_ops;
extern const struct sched_ops sched_credit2_ops;
extern const struct sched_ops sched_rtds_ops;
extern const struct sched_ops sched_null_ops;
extern const struct sched_ops sched_arinc653_ops;
extern const struct sched_ops sched_fair_ops;

const struct sched_ops *const sched_policies[] = {
    &sched_credit_ops,
    &sched_credit2_ops,
    &sched_rtds_ops,
    &sched_null_ops,
    &sched_arinc653_ops,
    &sched_fair_ops,
    NULL,
};

const struct sched_ops *sched_find(const char *name)
{
    for (int i = 0; sched_policies[i]; i++)
        if (strcmp(sched_policies[i]->name, name) == 0)
            return sched_policies[i];
    return NULL;
}

const struct sched_param_desc *sched_param_find(const struct sched_param_desc *schema,
                                                const char *name)
{
    for (; schema && schema->name; schema++)
        if (strcmp(schema->name, name) == 0)
            return schema;
    return NULL;
}

void sched_global_defaults(const struct sched_ops *ops, struct sched_global_params *gp)
{
    memset(gp, 0, sizeof(*gp));
    const struct sched_param_desc *d;
    if ((d = sched_param_find(ops->global_params, "tslice")))
        gp->tslice = d->def;
    if ((d = sched_param_find(ops->global_params, "ratelimit")))
        gp->ratelimit = d->def;
    if ((d = sched_param_find(ops->global_params, "frame")))
        gp->frame = d->def;
    if ((d = sched_param_find(ops->global_params, "boost")))
        gp->boost = d->def;
    if ((d = sched_param_find(ops->global_params, "dom0_budget")))
        gp->dom0_budget = d->def;
    if ((d = sched_param_find(ops->global_params, "dom0_period")))
        gp->dom0_period = d->def;
}

void sched_dom_defaults(struct sched_dom_params *p)
{
    *p = (struct sched_dom_params){
        .weight = SCHED_DEFAULT_WEIGHT, .cap = 0,
        .period = SCHED_DEFAULT_PERIOD, .budget = SCHED_DEFAULT_BUDGET, .extratime = true,
    };
}

void sched_waterfill(struct sched_demand *d, int n, double capacity)
{
    /* Each round hands the remaining capacity out by weight among the
     * domains not yet bounded; any domain whose share exceeds its bound
     * (demand, cap) is fixed at the bound and the round repeats. At most n
     * rounds, since each round either finishes or fixes one domain. */
    bool *fixed = calloc((size_t)n, sizeof(*fixed));
    if (!fixed)
        abort();
    for (int i = 0; i < n; i++) {
        d[i].entitled = 0.0;
        if (d[i].demand <= 0.0)
            fixed[i] = true;
    }
    double left = capacity;
    for (int round = 0; round <= n && left > 1e-12; round++) {
        double wsum = 0.0;
        for (int i = 0; i < n; i++)
            if (!fixed[i])
                wsum += d[i].dom->params.weight;
        if (wsum <= 0.0)
            break;
        bool bounded = false;
        for (int i = 0; i < n; i++) {
            if (fixed[i])
                continue;
            double bound = d[i].demand;
            uint32_t cap = d[i].dom->params.cap;
            if (cap && cap / 100.0 < bound)
                bound = cap / 100.0;
            double share = left * d[i].dom->params.weight / wsum;
            if (share >= bound) {
                d[i].entitled = bound;
                fixed[i] = true;
                bounded = true;
            }
        }
        if (!bounded) {
            for (int i = 0; i < n; i++)
                if (!fixed[i])
                    d[i].entitled = left * d[i].dom->params.weight / wsum;
            break;
        }
        left = capacity;
        for (int i = 0; i < n; i++)
            if (fixed[i])
                left -= d[i].entitled;
    }
    free(fixed);
}
