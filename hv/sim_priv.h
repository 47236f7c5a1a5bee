/* sim_priv.h — what the virtual-time engine's files share (sim.c: the
 * engine; sim_hostile.c: guests that would stop virtual time): its state,
 * and the hypercall entry and exit every guest call goes through, inline
 * because every guest call pays for them.
 */
#ifndef FV_SIM_PRIV_H
#define FV_SIM_PRIV_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ctx.h"
#include "engine.h"
#include "evq.h"
#include "guest_api.h"
#include "host.h"
#include "metrics.h"

/* Hypercalls one vCPU may make at one virtual instant. A real guest's
 * bookkeeping between two spans of work is a handful of calls. */
#define SIM_MAX_CALLS (1u << 20)
/* The watchdog: a tick per 100 ms of this thread's CPU time; 10 of them
 * (1 s of CPU) without a hypercall, or 600 (a minute) in one guest entry
 * whatever it calls, is a hostile guest. Tests shorten the tick with
 * FV_WD_TICK_US (in µs) so that a minute is not spent proving it. */
#define SIM_WD_TICK_NS 100000000L
#define SIM_WD_TICKS 10
#define SIM_WD_ENTRY_TICKS 600
#define FV_SIG_WATCHDOG (SIGRTMIN + 2)
#if defined(__SANITIZE_THREAD__)
#define SIM_WATCHDOG 0
#else
#define SIM_WATCHDOG 1
#endif

enum sim_req { REQ_NONE, REQ_COMPUTE, REQ_BLOCK, REQ_YIELD, REQ_CRASH, REQ_STOP };
enum sim_crash { CRASH_STORM = 1, CRASH_SPIN, CRASH_LONG };

struct sim;

struct sim_vcpu {
    struct guest_vcpu g;            /* first: guest_current points here */
    struct sim *sim;
    struct sched_unit *u;
    const struct scn_domain *sd;
    int dom_index;
    struct fv_ctx ctx;              /* its stack: ctx.stack_lo, ctx.stack_size */
    enum sim_req req;               /* what the guest asked for when it left */
    fv_ns_t left;                   /* REQ_COMPUTE: CPU time still owed */
    bool pending;                   /* an event (timer) since the last block */
    bool dead;                      /* its domain crashed: never runs or wakes again */
    enum sim_crash why;             /* REQ_CRASH: what it did */
    fv_ns_t calls_at;               /* the virtual instant `calls` counts at */
    uint32_t calls;                 /* hypercalls made at that instant */
    struct sched_timer timer;       /* the guest's one-shot timer */
};

struct sim_pcpu {
    struct sched_timer slice;       /* do_schedule's runtime ends */
    struct sched_timer done;        /* the running vCPU's compute completes */
    fv_ns_t start;                  /* compute progress counted from here */
};

struct sim {
    const struct scenario *scn;
    struct scheduler *s;
    struct evq q;
    fv_ns_t now;
    struct sim_pcpu *pcpu;
    struct sim_vcpu *vcpu;          /* by unit id */
    fv_cpumask_t tickled;
    bool closing;                   /* tearing down: timers are ignored */
    struct fv_ctx engine_ctx;
    struct metrics m;
    struct dom_result *res;
    struct sched_timer sample_timer, end_timer;
    struct host h;                  /* event channels, device memory, devices */
    bool host_built;
    struct fv_stack_arena stacks;
    volatile sig_atomic_t *stop;    /* set by SIGINT/SIGTERM (never NULL) */
    bool online;                    /* domtab_thread_online() was called */
    bool done;
    bool stopped;                   /* a stop request ended the run */
    bool oom;
    uint64_t events, schedules;
    /* the watchdog (sim_hostile.c) */
    struct sim_vcpu *volatile in_guest; /* whose guest code runs now; NULL: hypervisor code */
    volatile uint64_t entry;        /* guest entries so far */
    volatile uint64_t hcalls;       /* hypercalls so far */
    uint64_t wd_entry, wd_hcalls;   /* what the watchdog last saw */
    int wd_entry_ticks;             /* its ticks within that entry */
    int wd_quiet_ticks;             /* ... since that hypercall */
    bool wd_switched;               /* the vCPU left from the handler */
    sigset_t wd_mask;               /* this thread's signal mask outside handlers */
    long wd_tick_ns;                /* SIM_WD_TICK_NS, or FV_WD_TICK_US */
    timer_t wd_timer;
    bool wd_armed;
};

/* ---- entering and leaving the hypervisor --------------------------------- */

static inline void sim_leave_guest(struct sim_vcpu *v, enum sim_req req)
{
    v->req = req;
    fv_ctx_switch(&v->ctx, &v->sim->engine_ctx);
    if (req == REQ_CRASH || req == REQ_STOP) {
        /* Neither is ever resumed: reaching here is an engine bug. */
        fprintf(stderr, "fairvisor: sim: a crashed or stopped vCPU was resumed\n");
        abort();
    }
}

/* Guest code is running (again) on v: the watchdog may switch it out. */
static inline void sim_guest_code(struct sim_vcpu *v)
{
    atomic_signal_fence(memory_order_seq_cst);
    v->sim->in_guest = v;
    atomic_signal_fence(memory_order_seq_cst);
}

/* Every guest API call starts here: hypervisor code from now on (the
 * watchdog leaves it alone), a pending stop ends the run, and a vCPU
 * that keeps calling without letting time pass is crashed. */
static inline void sim_hc_enter(struct sim_vcpu *v)
{
    struct sim *sim = v->sim;
    sim->in_guest = NULL;
    sim->hcalls++;
    atomic_signal_fence(memory_order_seq_cst);
    if (*sim->stop)
        sim_leave_guest(v, REQ_STOP);
    if (++v->calls > SIM_MAX_CALLS) {
        v->why = CRASH_STORM;
        sim_leave_guest(v, REQ_CRASH);
    }
}

static inline void sim_hc_exit(struct sim_vcpu *v) { sim_guest_code(v); }


/* ---- sim_hostile.c ---------------------------------------------------------- */

/* Arm the watchdog on the calling thread (a no-op in a TSan build);
 * 0 or -errno. Stop it before the run's results are computed. */
int sim_watchdog_start(struct sim *sim);
void sim_watchdog_stop(struct sim *sim);
/* After any guest entry: if the vCPU left from the watchdog's handler,
 * restore the signal mask the handler never got to restore. */
void sim_watchdog_after_switch(struct sim *sim);
/* v's domain dies (v->why says why): every vCPU of it stops for good. */
void sim_crash_domain(struct sim *sim, struct sim_vcpu *v);

#endif
