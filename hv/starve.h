/* starve.h — the starvation detector: episodes per domain per resource
 * (cpu, net, blk), the domains that held the resource meanwhile, and the
 * list of events (summary.json's starvation.list, starvation.csv).
 *
 * A domain is starved on a resource while it wants it and is served
 * nothing there:
 *   cpu  some vCPU of it is runnable and none runs (fed by metrics.c at
 *        every vCPU transition: starve_cpu);
 *   net  requests wait on one of its vif rings, or frames for it wait, and
 *        netback moves no frame of its;
 *   blk  requests of it are on a vbd ring or taken and not answered, and
 *        blkback answers none.
 * An episode longer than the threshold is an event; its whole length
 * counts in starved_ns. A net or blk domain is looked at through an I/O
 * source (starve_set_io_source) at each check: after every backend pass
 * that did work (host.c), at every timeline sample (metrics_sample), and
 * when a vCPU of that domain leaves its pCPU (what it posted is posted by
 * then), so an episode is seen even when Domain-0 never runs during it.
 * An episode starts when the domain is first seen waiting unserved (or is
 * served and still has requests pending), and ends when it is next served
 * (or has nothing pending any more); service is seen when it happens, as
 * every pass that serves anyone is followed by a check.
 *
 * Holders: cpu, the domains that ran on a pCPU during (start, end),
 * ranked by the vCPU time they got there; net and blk, the domains served
 * on that resource at a check in (start, end] (the pass that finally
 * serves the victim serves them too), ranked by requests and frames. An
 * event names the STARVE_HOLDERS most served (ties: lower domain index
 * first) and counts them all (holders_total). Only the first
 * STARVE_LIST_MAX events found are kept in the list (handed out in start
 * order); every event counts in the per-domain totals.
 *
 * Locking: starve_cpu is called under the caller's serialisation (the
 * real engine's scheduler lock, as all of metrics); it owns the CPU
 * episodes and the CPU service log. The I/O calls (starve_io_*) may come
 * from any thread (Domain-0's vCPU after a backend pass, a pCPU at a
 * sample) and take st->lock, which also guards the event list and the
 * totals (the CPU side takes it to record an event). st->lock is taken
 * inside the scheduler lock, never the other way round; the I/O source
 * is called with st->lock held, and neither it nor the clock may take the
 * scheduler lock. starve_finish, starve_totals and starve_take_list are
 * for after the run.
 */
#ifndef FV_STARVE_H
#define FV_STARVE_H

#include <stdbool.h>
#include <stdint.h>

#include "fvtime.h"
#include "run.h"

enum starve_res {
    STARVE_CPU = RUN_STARVE_CPU,
    STARVE_NET = RUN_STARVE_NET,
    STARVE_BLK = RUN_STARVE_BLK,
    STARVE_NR_RES = RUN_STARVE_RESOURCES
};
#define STARVE_HOLDERS RUN_STARVE_HOLDERS
#define STARVE_LIST_MAX 10000

/* One domain's I/O reading: whether it has vifs / vbds, what waits there
 * now (requests and frames) and what it was served so far (cumulative:
 * frames moved, requests answered). */
struct starve_io {
    bool net, blk;
    uint64_t net_pending, net_served;
    uint64_t blk_pending, blk_served;
};
typedef void (*starve_io_fn)(void *ctx, int d, struct starve_io *out);
/* Run time now (ns since the start of the run). */
typedef fv_ns_t (*starve_clock_fn)(void *ctx);

struct starve;

/* nr_doms domains, indexed 0..nr_doms-1 as in the run's results. NULL
 * when out of memory. */
struct starve *starve_create(int nr_doms, fv_ns_t threshold);
/* The same with room for `cap` domains, nr_doms of them present now; the
 * others join with starve_grow (a live host's domains created at run
 * time). */
struct starve *starve_create_cap(int cap, int nr_doms, fv_ns_t threshold);
/* Domains 0..n-1 are present from now on (n <= cap): 0 or -ENOSPC. Under
 * the caller's serialisation, as starve_cpu. */
int starve_grow(struct starve *st, int n);
/* Each event as it is found (fn called with the detector's lock held:
 * it must not call back into the detector). Set before the run. */
typedef void (*starve_event_fn)(void *ctx, const struct run_starve_event *ev);
void starve_set_event_hook(struct starve *st, starve_event_fn fn, void *ctx);
void starve_destroy(struct starve *st);

/* Domain d has nr_running vCPUs on a pCPU and nr_waiting runnable off
 * one, from `now` on (call after every change). */
void starve_cpu(struct starve *st, int d, int nr_running, int nr_waiting, fv_ns_t now);

/* A live host: domain d's vifs and vbds join (watch: read through the
 * source from now on) or leave (an open I/O episode of d's ends now, and
 * the source is never asked about d again once this returns: its rings
 * may go). After starve_set_io_source; 0 or -ENOSPC. */
int starve_io_watch(struct starve *st, int d, bool watch);

/* Read net and blk state through fn (fn(ctx, d, &out) on a zeroed out);
 * the domains it reports with vifs or vbds now are the ones watched.
 * clock: for starve_io_pass. fn NULL: no I/O detection. */
void starve_set_io_source(struct starve *st, starve_io_fn fn, void *ctx, starve_clock_fn clock,
                          void *clock_ctx);
/* Look at domain d (d < 0: every watched domain) at run time now. */
void starve_io_check(struct starve *st, int d, fv_ns_t now);
/* After a backend pass: starve_io_check(st, -1, clock()). */
void starve_io_pass(struct starve *st);

/* End of the run: open episodes end at now and count if longer than the
 * threshold (CPU, and I/O after a last look). */
void starve_finish(struct starve *st, fv_ns_t now);
/* Domain d's events and starved time on resource r so far. */
struct run_starve starve_totals(struct starve *st, int d, enum starve_res r);
/* Events recorded so far (every one, listed or not). */
uint64_t starve_events(struct starve *st);
/* Move the list out: *list (malloc'd, the caller frees; NULL when empty),
 * returns its length; *truncated: events were left out. */
int starve_take_list(struct starve *st, struct run_starve_event **list, bool *truncated);

#endif
