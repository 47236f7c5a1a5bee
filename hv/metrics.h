/* metrics.h — what every domain received, measured from vCPU state changes.
 * Engine-independent: an engine reports each vCPU transition (wake, run,
 * stop, block) with its timestamp and calls metrics_sample() every sampling
 * interval; this module turns them into the dom_result figures and the
 * timeline rows of run.h.
 *
 * A vCPU is BLOCKED, WAITING (runnable, not on a pCPU) or RUNNING. A wait is
 * the span WAITING -> RUNNING; a wake-up latency is such a wait that began
 * with a wake from BLOCKED. A domain starves while some vCPU of it is WAITING
 * and none is RUNNING; an episode longer than the threshold is a starvation
 * event, and its whole length counts in starved_ns. The detector (starve.h)
 * does the same for net and blk with an I/O source (metrics_set_io_source),
 * looked at every sample and whenever a vCPU of a domain with devices
 * leaves its pCPU; starved_ns and starvation_events are the sums over cpu,
 * net and blk (starve_by has each).
 *
 * Network: with a net source (metrics_set_net_source), each sample also
 * reads every domain's cumulative vif counters and puts what changed since
 * the previous sample into the timeline row; a blk source
 * (metrics_set_blk_source) does the same for the vbd request counters.
 *
 * Locking: none; the real engine serialises calls under its scheduler lock.
 */
#ifndef FV_METRICS_H
#define FV_METRICS_H

#include <stdbool.h>

#include "run.h"
#include "schedule.h"
#include "starve.h"

enum mt_state { MT_BLOCKED, MT_WAITING, MT_RUNNING };

struct mt_vcpu {
    enum mt_state state;
    bool woke;                  /* the current wait began with a wake */
    int dom;                    /* index into doms */
    fv_ns_t since;              /* start of the current state (waits) */
    fv_ns_t acct;               /* time accounted up to (interval cuts) */
    fv_ns_t iv_cpu, iv_runnable;/* this sampling interval */
    uint64_t iv_wakeups;
};

struct mt_dom {
    int nr_running, nr_waiting;
    fv_ns_t iv_cpu, iv_runnable;
    uint64_t iv_wakeups, iv_work, work_at_last_sample;
    /* net counters at the last sample that gave a reading */
    uint64_t net_tx_pkts, net_rx_pkts, net_tx_bytes, net_rx_bytes, net_drops;
    /* blk counters at the last sample that gave a reading */
    uint64_t blk_reads, blk_writes, blk_bytes, blk_errors;
    double recent_share;        /* its cpu_share over the last interval */
    fv_ns_t left_at;            /* removed at run time (metrics_remove_domain) */
};

/* Reads domain dom_index's CUMULATIVE net counters into *out (which the
 * caller zeroed) at this instant; must be safe to call from whichever
 * thread calls metrics_sample. */
typedef void (*metrics_net_fn)(void *ctx, int dom_index, struct dom_net *out);
/* The same for the CUMULATIVE vbd counters; only reads, writes, bytes and
 * errors are read. Every field but the latency histogram is zeroed before
 * the call; the histogram (10 KiB, not cleared at each sample of each
 * domain) is not the source's to fill. */
typedef void (*metrics_blk_fn)(void *ctx, int dom_index, struct dom_blk *out);

struct metrics {
    struct scheduler *s;        /* for entitlement */
    int nr_doms, nr_vcpus, pcpus;
    int cap_doms, cap_vcpus;    /* room for domains added at run time */
    struct dom_result *res;     /* [nr_doms], the output */
    struct mt_dom *dom;
    struct mt_vcpu *vcpu;       /* by sched unit id */
    fv_ns_t threshold;
    fv_ns_t last_sample;
    struct timeline_sink sink;
    struct timeline_row *rows;  /* scratch, [nr_doms] */
    struct sched_demand *demand;/* scratch, [nr_doms] */
    metrics_net_fn net_fn;      /* NULL: the net columns stay 0 */
    void *net_ctx;
    metrics_blk_fn blk_fn;      /* NULL: the blk columns stay 0 */
    void *blk_ctx;
    struct dom_blk *blk_cur;    /* scratch for blk_fn's answer */
    struct starve *starve;      /* the starvation detector (cpu, net, blk) */
};

/* res[] must already hold names/ids and zeroed histograms (calloc); units are s->units (dom index = the
 * domain's index in s->doms, which must match res[]). */
int metrics_init(struct metrics *m, struct scheduler *s, struct dom_result *res,
                 fv_ns_t threshold, struct timeline_sink sink, fv_ns_t start);
/* The same with room for cap_doms domains and cap_vcpus vCPUs in all,
 * for a live host whose domains come and go (res[] must have room too). */
int metrics_init_cap(struct metrics *m, struct scheduler *s, struct dom_result *res,
                     fv_ns_t threshold, struct timeline_sink sink, fv_ns_t start,
                     int cap_doms, int cap_vcpus);
/* The scheduler's newest domain (s->doms[s->nr_doms - 1], just added at
 * run time) joins, its vCPUs BLOCKED from `now`. 0 or -ENOSPC. */
int metrics_add_domain(struct metrics *m, fv_ns_t now);
/* Domain d leaves at `now` (destroyed): its vCPUs stop and block; what it
 * received stays in res[d]; after the interval it left in it gets no
 * timeline rows, and no entitlement once the scheduler marks it dead. */
void metrics_remove_domain(struct metrics *m, int d, fv_ns_t now);
/* Domain d's cpu_share over the last sampling interval. */
double metrics_recent_share(const struct metrics *m, int d);
void metrics_fini(struct metrics *m);

void metrics_wake(struct metrics *m, int vid, fv_ns_t now);     /* BLOCKED -> WAITING */
void metrics_boot(struct metrics *m, int vid, fv_ns_t now);     /* the same, not a wake-up */
void metrics_run(struct metrics *m, int vid, fv_ns_t now);      /* WAITING -> RUNNING */
void metrics_stop(struct metrics *m, int vid, fv_ns_t now, bool runnable); /* RUNNING -> WAITING|BLOCKED */
void metrics_block(struct metrics *m, int vid, fv_ns_t now);    /* WAITING -> BLOCKED */

static inline void metrics_work(struct metrics *m, int vid, uint64_t n)
{
    int d = m->vcpu[vid].dom;
    m->res[d].work_units += n;
}

/* From now on, metrics_sample calls fn(ctx, d, &out) for every domain d
 * and puts the per-interval deltas of tx_pkts, rx_pkts, tx_bytes,
 * rx_bytes and drops into the rows' net_* fields. Counters start from 0
 * (set it before the first packet). An all-zero answer means "no traffic
 * to report" (a domain without vifs, or not readable now): the row gets 0
 * and the previous reading stays the reference. A counter that went down
 * (restarted) counts from 0 again. fn NULL removes the source. */
void metrics_set_net_source(struct metrics *m, metrics_net_fn fn, void *ctx);
/* The same for block I/O: the per-interval deltas of reads, writes, bytes
 * and errors go into the rows' blk_* fields, with the same rules (all four
 * zero: no reading; a counter that went down counts from 0). */
void metrics_set_blk_source(struct metrics *m, metrics_blk_fn fn, void *ctx);

/* From now on the detector also looks at net and blk through fn (see
 * starve_set_io_source; clock: the run's time, for checks after backend
 * passes, which feed m->starve themselves: starve_io_pass). */
void metrics_set_io_source(struct metrics *m, starve_io_fn fn, void *ctx, starve_clock_fn clock,
                           void *clock_ctx);

/* Close the interval [last_sample, now): entitlement, timeline rows. */
void metrics_sample(struct metrics *m, fv_ns_t now);
/* Close everything at the end of the run (open waits and starvation
 * episodes count up to `now`), fill cpu_share/entitled_share over
 * `duration` (= now - start). */
void metrics_finish(struct metrics *m, fv_ns_t start, fv_ns_t now);
/* After metrics_finish: move the detector's event list into rr
 * (starve_list, nr_starve_list, starve_list_truncated). */
void metrics_take_starvation(struct metrics *m, struct run_result *rr);

#endif
