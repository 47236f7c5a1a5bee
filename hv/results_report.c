/* results_report.c — the end of `fairvisor run` and `fairvisor serve`:
 * write the results, print the summary table and where everything is,
 * draw the graphs. */
#include "results.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "run.h"

/* Did any domain move frames, or disk requests? (then the network, or
 * block, graphs are drawn) */
static bool net_traffic(const struct run_result *rr)
{
    for (int i = 0; i < rr->nr_doms; i++)
        if (rr->doms[i].net.tx_bytes || rr->doms[i].net.rx_bytes)
            return true;
    return false;
}

static bool blk_traffic(const struct run_result *rr)
{
    for (int i = 0; i < rr->nr_doms; i++)
        if (rr->doms[i].blk.reads || rr->doms[i].blk.writes || rr->doms[i].blk.errors)
            return true;
    return false;
}

int results_report(struct results *res, const struct run_result *rr, bool quiet, bool no_plot)
{
    int rc = results_finish(res, rr);
    if (rc) {
        fprintf(stderr, "fairvisor: writing results to %s failed: %s\n", results_dir(res),
                strerror(-rc));
        return 1;
    }
    if (!quiet)
        results_print_table(rr, stdout);
    printf("results: %s/summary.json\n", results_dir(res));
    if (!no_plot) {
        char why[2048];
        int prc = results_plot(results_dir(res), stdout, why, sizeof(why));
        if (prc == 0)
            printf("graphs:  %s/plots/cpu-share.png, wakeup-latency-cdf.png%s%s (and .svg)\n",
                   results_dir(res), net_traffic(rr) ? ", net-throughput.png, net-rtt-cdf.png" : "",
                   blk_traffic(rr) ? ", blk-iops.png, blk-latency-cdf.png" : "");
        else if (prc < 0)
            fprintf(stderr, "fairvisor: graphs failed: %s (the results are kept)\n",
                    why[0] ? why : strerror(-prc));
    }
    if (!rr->complete) {
        if (rr->live)
            fprintf(stderr, "fairvisor: the host failed after %.3f s; partial results kept\n",
                    (double)rr->duration_ns / 1e9);
        else
            fprintf(stderr, "fairvisor: interrupted after %.3f s of %s time; partial results "
                    "kept\n", (double)rr->duration_ns / 1e9, rr->engine);
        return 1;
    }
    return 0;
}
