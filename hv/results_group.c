/* results_group.c — a domain's group in summary.json (results.h): the
 * name of the scenario entry it was expanded from, which the graphs and
 * `compare --by group` fold replicas by. */
#include "results.h"

#include <string.h>

const char *results_dom_group(const struct run_result *rr, int i)
{
    const struct dom_result *d = &rr->doms[i];
    if (d->group[0])
        return d->group;
    /* The engines fill doms[] in scenario order; a run_result made by hand
     * may not, so the name must match too. */
    const struct scenario *s = rr->scn;
    if (s && i < s->nr_domains && s->domains[i].group[0]
        && strncmp(s->domains[i].name, d->name, sizeof(d->name)) == 0)
        return s->domains[i].group;
    return d->name;
}
