/* fake_core.h — a fake clock and fake vCPUs for testing policy code alone
 * (in the manner of Xen's tools/tests/vpci): the real sched/ file, the real
 * hv/schedule.c core, and this tiny driver in place of an engine.
 *
 * The driver knows only "hogs": units that stay runnable unless the test
 * blocks them with fake_block()/fake_wake(). fake_run() advances virtual time,
 * firing policy timers and slice ends in time order and calling the core's
 * schedule on tickled pCPUs, and adds each unit's run time to run_ns[id]. */
#ifndef FV_FAKE_CORE_H
#define FV_FAKE_CORE_H

#include "../hv/schedule.h"

#define FAKE_MAX_TIMERS 512
#define FAKE_MAX_UNITS 4096

struct fake_core {
    struct scheduler *s;
    fv_ns_t now;
    fv_cpumask_t tickled;
    int nr_tickles;                       /* total tickle calls */
    struct sched_timer *timers[FAKE_MAX_TIMERS];
    int nr_timers;
    uint64_t timer_seq;
    fv_ns_t slice_end[FV_MAX_PCPUS];      /* FV_NS_NEVER when none */
    fv_ns_t run_start[FV_MAX_PCPUS];
    fv_ns_t run_ns[FAKE_MAX_UNITS];
    int nr_schedules;
};

/* Create policy `name` on ncpus pCPUs; gp NULL = zeroed (policy defaults
 * apply only if the test fills them). Aborts the test on failure. */
struct scheduler *fake_sched_new(struct fake_core *fc, const char *name, int ncpus,
                                 const struct sched_global_params *gp);
/* Add a domain with nvcpus units, params p (NULL = weight 256, rtds
 * defaults), pinned to `pin` (NULL = all). Returns it. */
struct sched_domain *fake_add_domain(struct fake_core *fc, const char *name, int nvcpus,
                                     const struct sched_dom_params *p, const fv_cpumask_t *pin);
/* Make every unit of d runnable (wake) at the current time. */
void fake_wake_domain(struct fake_core *fc, struct sched_domain *d);
void fake_wake(struct fake_core *fc, struct sched_unit *u);
void fake_block(struct fake_core *fc, struct sched_unit *u);
/* Advance to `until`, scheduling as an engine would. */
void fake_run(struct fake_core *fc, fv_ns_t until);
/* Churn for determinism tests: at step k (1..steps) toggle unit
 * (k * stride) % nr_units between blocked and runnable, then run to
 * k * period. */
void fake_churn(struct fake_core *fc, int steps, int stride, fv_ns_t period);
/* Destroy the scheduler. */
void fake_sched_free(struct fake_core *fc);
/* Sum of run_ns over a domain's units. */
fv_ns_t fake_dom_ns(struct fake_core *fc, const struct sched_domain *d);

#endif
