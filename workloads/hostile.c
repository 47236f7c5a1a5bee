/* hostile.c — a misbehaving guest, for showing (and testing) that the
 * hypervisor copes: the other domains keep their share, a stop request
 * still ends the run, and in virtual time the offender is crashed instead
 * of stopping the clock. Guest code: only guest.h calls. */
#include <stddef.h>

#include "guest.h"
#include "workload.h"

enum { HOS_MODE, HOS_AFTER };

static const char *const hostile_modes[] = { "spin", "storm", "yield", NULL };

static const struct wl_param_desc hostile_params[] = {
    [HOS_MODE] = { "mode", WL_ENUM, 0, 2, 0, hostile_modes,
                   "spin: loop without any hypercall | storm: hypercalls that never let "
                   "time pass | yield: yield forever" },
    [HOS_AFTER] = { "after", WL_NS, 0, 100000000000LL, 0, NULL,
                    "behave (compute) until this time, then misbehave" },
    { 0 },
};

/* Work the compiler cannot drop: an LCG step on a volatile. */
static void step(volatile unsigned long *x) { *x = *x * 6364136223846793005UL + 1; }

static void hostile_main(const struct wl_args *a)
{
    fv_ns_t after = a->v[HOS_AFTER];
    while (guest_now() < after) {
        fv_ns_t left = after - guest_now();
        guest_compute(left < 1000000 ? left : 1000000);
        guest_work_units(1);
    }
    volatile unsigned long x = 1;
    switch (a->v[HOS_MODE]) {
    case 0:
        for (;;)
            step(&x);
    case 1:
        /* Block returns at once while an event is pending, and the pending
         * timer is never consumed by a poll: the loop never sleeps. */
        for (;;) {
            guest_set_timer(0);
            guest_evtchn_poll(1);
            guest_block();
        }
    default:
        for (;;)
            guest_yield();
    }
}

const struct workload_desc workload_hostile = {
    "hostile", "a misbehaving guest: spins without hypercalls, storms the hypervisor, or "
    "yields forever (from `after` on)", hostile_params, hostile_main,
};
