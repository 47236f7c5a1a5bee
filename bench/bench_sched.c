/* bench_sched.c — the cost of one scheduling decision (issue 3): the core's
 * sched_core_schedule (the policy's do_schedule plus the core's commit) for
 * pCPU 0 of a 1-pCPU scheduler with N runnable vCPUs, N = 1, 10, 100, 1000.
 *
 * The scheduler is built with tests/fake_core (the real policy and core, a
 * fake clock): N single-vCPU hog domains, all woken, policy defaults except
 * ratelimit off. Each call advances the clock by STEP, so the running vCPU
 * has used a slice: it is charged, requeued, and the next one picked (the
 * `switched` counter is the fraction of calls that changed the vCPU).
 *
 * Policy timers (credit's tick and accounting, rtds replenishment) fire
 * between batches of BATCH calls, outside the measured time (manual timing:
 * the batch alone is timed with a monotonic clock), so the measured decisions
 * see the state timers would leave; their own cost is not in the figure.
 * Time is ns per call.
 */
#include <stdio.h>
#include <stdlib.h>

#include "gbench.h"
#include "sched/sched.h"
#include "tests/fake_core.h"

#define STEP   FV_US(100)  /* virtual time between two decisions */
#define BATCH  100         /* decisions per timed batch (10 ms virtual) */

/* Fire the policy timers due by fc->now (and serve any tickle), as an engine
 * would between slices. The benchmark drives pCPU 0 itself: no slice end. */
static void fire_timers(struct fake_core *fc)
{
    fc->slice_end[0] = FV_NS_NEVER;
    fake_run(fc, fc->now);
    fc->slice_end[0] = FV_NS_NEVER;
}

/* n schedule calls at advancing time; returns how many changed the vCPU. */
static int64_t run_calls(struct fake_core *fc, int n)
{
    struct scheduler *s = fc->s;
    fv_ns_t now = fc->now;
    int64_t switched = 0;
    for (int i = 0; i < n; i++) {
        struct sched_unit *prev;
        now += STEP;
        fc->now = now;
        struct sched_decision d = sched_core_schedule(s, 0, now, &prev);
        switched += d.next != prev;
    }
    return switched;
}

static void bm_schedule(gb_state *st, void *arg)
{
    const char *policy = arg;
    int n = (int)gb_range(st, 0);
    struct fake_core *fc = malloc(sizeof(*fc));
    if (!fc) {
        gb_skip_with_error(st, "out of memory");
        return;
    }
    struct sched_global_params gp;
    sched_global_defaults(sched_find(policy), &gp);
    gp.ratelimit = 0;       /* else 9 in 10 calls at 100 us would keep prev */
    fake_sched_new(fc, policy, 1, &gp);
    for (int i = 0; i < n; i++)
        fake_add_domain(fc, "hog", 1, NULL, NULL);
    for (int i = 0; i < fc->s->nr_doms; i++)
        fake_wake_domain(fc, fc->s->doms[i]);
    fire_timers(fc);

    /* Warm up: every vCPU runs a few times, accounting reaches its steady
     * state. */
    for (int done = 0; done < 3 * n + 1000; done += BATCH) {
        run_calls(fc, BATCH);
        fire_timers(fc);
    }

    int64_t calls = 0, switched = 0;
    while (gb_keep_running_batch(st, BATCH)) {
        double t0 = gb_now();
        switched += run_calls(fc, BATCH);
        gb_set_iteration_time(st, gb_now() - t0);
        calls += BATCH;
        fire_timers(fc);
    }
    gb_counter(st, "switched", calls ? (double)switched / (double)calls : 0.0, 0);
    fake_sched_free(fc);
    free(fc);
}

int main(int argc, char **argv)
{
    /* null does no time sharing (the first vCPU owns the pCPU, the others
     * wait for a free one): its figure is the core's floor. */
    static const char *const policies[] = { "credit", "credit2", "rtds", "null" };
    char name[64];
    for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
        if (!sched_find(policies[i])) {
            fprintf(stderr, "bench_sched: no policy %s\n", policies[i]);
            return 1;
        }
        snprintf(name, sizeof(name), "do_schedule/%s", policies[i]);
        gb_bench *b = gb_register_range(name, bm_schedule, (void *)policies[i], 1, 1000, 10);
        gb_arg_name(gb_use_manual_time(b), "vcpus");
    }
    return gb_main(argc, argv);
}
