/* run.c — overall figures of a run computed from its per-domain results. */
#include "run.h"

#include <stdlib.h>

const char *const run_starve_names[RUN_STARVE_RESOURCES] = { "cpu", "net", "blk" };

void run_result_finish(struct run_result *r)
{
    /* Jain's index J = (Σx)² / (n·Σx²) over the normalized shares
     * x = cpu_share / entitled_share: 1 when every domain got the same
     * fraction of what it was promised, 1/n when one domain got everything.
     * A domain promised (next to) nothing has no normalized share: below
     * RUN_JAIN_MIN_ENTITLED it is the ratio of two near-zero numbers (a
     * guest whose I/O takes no CPU in virtual time, waiting a few
     * microseconds now and then) and says nothing about fairness.
     * jain_guests is the same index without Domain-0 (id 0). */
    double sum = 0, sum2 = 0, min = 1.0, gsum = 0, gsum2 = 0;
    int n = 0, gn = 0;
    uint64_t events = 0;
    for (int i = 0; i < r->nr_doms; i++) {
        const struct dom_result *d = &r->doms[i];
        events += d->starvation_events;
        if (!(d->entitled_share >= RUN_JAIN_MIN_ENTITLED))
            continue;
        double x = d->cpu_share / d->entitled_share;
        if (n == 0 || x < min)
            min = x;
        sum += x;
        sum2 += x * x;
        n++;
        if (d->id != 0) {
            gsum += x;
            gsum2 += x * x;
            gn++;
        }
    }
    r->jain_guests = gn == 0 ? 1.0 : gsum2 > 0 ? (gsum * gsum) / ((double)gn * gsum2) : 0.0;
    /* Everyone received 0 of a non-zero promise: equal, but not fair; the
     * index is undefined (0/0), and 0 says "nobody got anything" best. */
    r->jain = n == 0 ? 1.0 : sum2 > 0 ? (sum * sum) / ((double)n * sum2) : 0.0;
    r->min_normalized_share = n == 0 ? 1.0 : min;
    r->starvation_events = events;
}

void run_result_free(struct run_result *r)
{
    if (!r)
        return;
    free(r->doms);
    r->doms = NULL;
    r->nr_doms = 0;
    free(r->starve_list);
    r->starve_list = NULL;
    r->nr_starve_list = 0;
}
