/* results_table.c — the one-screen summary table `fairvisor run` prints
 * (results_print_table): the CPU figures per domain, then a network and a
 * disk section when domains used them, then fairness and starvation. */
#include "results.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define TABLE_MAX_ROWS 20

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static int name_width(const struct run_result *rr, int rows)
{
    int w = (int)strlen("domain");
    for (int i = 0; i < rows; i++) {
        int len = (int)strnlen(rr->doms[i].name, sizeof(rr->doms[i].name));
        if (len > w)
            w = len;
    }
    return w;
}

static void print_row(FILE *f, const struct dom_result *d, int w)
{
    char norm[32];
    if (d->entitled_share > 0)
        snprintf(norm, sizeof(norm), "%.2f", d->cpu_share / d->entitled_share);
    else
        snprintf(norm, sizeof(norm), "-");
    fprintf(f, "%-*s  %7.1f  %12.1f  %6s  %13.3f  %15.3f  %12" PRIu64 "  %8" PRIu64
               "  %16" PRIu64 "\n",
            w, d->name, d->cpu_share * 100, d->entitled_share * 100, norm,
            ms(hist_quantile(&d->wait, 0.99)), ms(hist_quantile(&d->wakeup, 0.99)),
            d->work_units, d->deadline_misses, d->starvation_events);
}

/* The network half of the table, for domains with vifs (and Domain-0). */
static void print_net(const struct run_result *rr, FILE *f, int rows, int w)
{
    bool any = false;
    for (int i = 0; i < rows && !any; i++)
        any = rr->doms[i].net.present;
    if (!any)
        return;
    fprintf(f, "%-*s  %10s  %10s  %10s  %10s  %8s  %16s  %13s\n", w, "network", "tx pkts",
            "rx pkts", "tx MB", "rx MB", "drops", "backend cpu (ms)", "rtt p99 (ms)");
    for (int i = 0; i < rows; i++) {
        const struct dom_result *d = &rr->doms[i];
        if (!d->net.present)
            continue;
        fprintf(f, "%-*s  %10" PRIu64 "  %10" PRIu64 "  %10.2f  %10.2f  %8" PRIu64 "  %16.3f  %13.3f\n",
                w, d->name, d->net.tx_pkts, d->net.rx_pkts, (double)d->net.tx_bytes / 1e6,
                (double)d->net.rx_bytes / 1e6, d->net.drops, ms(d->backend_cpu_ns),
                ms(hist_quantile(&d->app_latency, 0.99)));
        if (d->net.disconnects)
            fprintf(f, "DISCONNECTED: %s %s\n", d->name, d->net.disconnect_reason);
    }
}

/* The block half of the table, for domains with vbds. */
static void print_blk(const struct run_result *rr, FILE *f, int rows, int w)
{
    bool any = false;
    for (int i = 0; i < rows && !any; i++)
        any = rr->doms[i].blk.present;
    if (!any)
        return;
    double secs = rr->duration_ns > 0 ? (double)rr->duration_ns / 1e9 : 1;
    fprintf(f, "%-*s  %10s  %10s  %10s  %10s  %8s  %16s  %13s\n", w, "disk", "reads", "writes",
            "IOPS", "MB", "errors", "backend cpu (ms)", "lat p99 (ms)");
    for (int i = 0; i < rows; i++) {
        const struct dom_result *d = &rr->doms[i];
        if (!d->blk.present)
            continue;
        fprintf(f, "%-*s  %10" PRIu64 "  %10" PRIu64 "  %10.0f  %10.2f  %8" PRIu64 "  %16.3f  %13.3f\n",
                w, d->name, d->blk.reads, d->blk.writes,
                (double)(d->blk.reads + d->blk.writes) / secs, (double)d->blk.bytes / 1e6,
                d->blk.errors + d->blk.unsupported + d->guest_errors, ms(d->backend_cpu_ns),
                ms(hist_quantile(&d->blk.latency, 0.99)));
        if (d->blk.disconnects)
            fprintf(f, "DISCONNECTED: %s %s\n", d->name, d->blk.disconnect_reason);
    }
}

void results_print_table(const struct run_result *rr, FILE *f)
{
    const struct scenario *s = rr->scn;
    fprintf(f, "scenario %s  policy %s  engine %s  %g s  %d pCPUs  seed %" PRIu64 "\n",
            s ? s->name : "?", rr->policy ? rr->policy : "?", rr->engine ? rr->engine : "?",
            (double)rr->duration_ns / 1e9, rr->pcpus, rr->seed);
    int rows = rr->nr_doms < TABLE_MAX_ROWS ? rr->nr_doms : TABLE_MAX_ROWS;
    int w = name_width(rr, rows);
    fprintf(f, "%-*s  %7s  %12s  %6s  %13s  %15s  %12s  %8s  %16s\n", w, "domain", "cpu %",
            "entitled %", "norm", "wait p99 (ms)", "wakeup p99 (ms)", "work units", "misses",
            "starved (events)");
    for (int i = 0; i < rows; i++)
        print_row(f, &rr->doms[i], w);
    if (rr->nr_doms > rows)
        fprintf(f, "... %d more domains (see summary.json)\n", rr->nr_doms - rows);
    fprintf(f, "fairness: jain %.3f (guests %.3f)  min normalized share %.2f  starvation events %"
            PRIu64 "\n", rr->jain, rr->jain_guests, rr->min_normalized_share, rr->starvation_events);
    for (int i = 0; i < rr->nr_doms; i++)
        if (rr->doms[i].crashed) {
            char t[32];
            fprintf(f, "CRASHED: %s at %s: %s\n", rr->doms[i].name,
                    fv_fmt_ns(rr->doms[i].crashed_at_ns, t, sizeof(t)), rr->doms[i].crash_reason);
        }
    print_net(rr, f, rows, w);
    print_blk(rr, f, rows, w);
    if (!rr->complete)
        fprintf(f, "INTERRUPTED: partial results\n");
}
