/* real_priv.h — what the real engine's files share (real.c: pCPU loop,
 * timers; real_setup.c: building, running and tearing down a run;
 * real_guest.c: guest context, preemption, hypercalls).
 * Locking and preemption rules are at the top of those two files.
 */
#ifndef FV_REAL_PRIV_H
#define FV_REAL_PRIV_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ctx.h"
#include "engine.h"
#include "evq.h"
#include "guest_api.h"
#include "host.h"
#include "metrics.h"

#define FV_SIG_TICK (SIGRTMIN + 1)

/* ThreadSanitizer runs signal handlers only at its own safe points (inside
 * intercepted calls), and a handler that switches stacks confuses it; under
 * TSan the tick therefore only raises need_resched, and the compute loop
 * (hypervisor code) polls it and the tick deadline. A guest that never calls
 * the hypervisor (cpu-spin) cannot be preempted in a TSan build. */
#if defined(__SANITIZE_THREAD__)
#define FV_ASYNC_PREEMPT 0
#else
#define FV_ASYNC_PREEMPT 1
#endif

enum real_req { RREQ_NONE, RREQ_BLOCK, RREQ_YIELD, RREQ_PREEMPT };
enum pcpu_state { PC_SCHED, PC_GUEST, PC_IDLE };

struct real;
struct real_pcpu;

struct real_vcpu {
    struct guest_vcpu g;                    /* first: guest_current points here */
    struct real *rl;
    struct sched_unit *u;
    const struct scn_domain *sd;
    int dom_index;
    struct fv_ctx ctx;
    _Atomic(struct real_pcpu *) pcpu;       /* where it runs (set before switch-in) */
    enum real_req req;                      /* why it left the pCPU (under lock) */
    bool pending;                           /* an event since the last block (under lock) */
    _Atomic fv_ns_t runtime;                /* CPU time before the current run */
    _Atomic fv_ns_t run_start;              /* start of the current run */
    _Atomic fv_ns_t left_at;                /* when it last left the guest */
    _Atomic int in_guest;                   /* preemptible: a tick may switch it away */
    struct sched_timer timer;               /* the guest's one-shot timer */
    bool made;                              /* its context exists (real_vcpus_init) */
    bool paused_runnable;                   /* runnable when its domain was paused */
};

/* A domain's life on a live host (real_dom.c), under the lock. */
struct real_dstate {
    bool paused;                            /* its vCPUs are kept asleep */
    bool dying;                             /* being destroyed: nothing wakes it */
    bool dead;                              /* destroyed: out of the policy, memory freed */
    fv_ns_t created_ns, destroyed_ns;
};

struct real_pcpu {
    int cpu;
    struct real *rl;
    pthread_t thread;
    pid_t tid;
    timer_t timer;
    bool timer_ok;
    pthread_cond_t cond;                    /* idle wait; signalled by kicks */
    struct fv_ctx sched_ctx;
    struct evq timers;                      /* timers that fire on this pCPU */
    struct sched_timer slice;
    enum pcpu_state state;                  /* under lock */
    bool tickled;                           /* under lock */
    _Atomic int need_resched;               /* a tick or kick came while it could not act */
    _Atomic fv_ns_t tick_at;                /* when the tick is armed for */
    _Atomic int kicked;                     /* a kick while idle (polling mode) */
    struct real_vcpu *cur;                  /* vCPU in the guest right now */
    struct counters *ctr;                   /* monitor.counters on this thread, or NULL */
    uint64_t ctr_in[RUN_MAX_COUNTERS], ctr_out[RUN_MAX_COUNTERS];
};

struct real {
    const struct scenario *scn;
    struct scheduler *s;
    pthread_mutex_t lock;
    struct timespec t0;
    int nr_pcpus;
    struct real_pcpu *pcpu;
    struct real_vcpu *vcpu;                 /* by unit id */
    struct metrics m;
    struct dom_result *res;
    struct sched_timer sample_timer, end_timer;
    struct host h;                          /* domains' memory, event channels, devices */
    bool host_built;
    fv_ns_t end_time;
    bool done;
    bool oom;
    bool closing;                           /* tearing down: timers ignored */
    bool poll_idle;                         /* mode: performance */
    uint64_t events, schedules;
    /* A live host (live.c): no end timer, domains added and removed while
     * it runs, with room for cap_doms domains and cap_units vCPUs over its
     * life (0: the scenario's). */
    bool live;
    int cap_doms, cap_units;
    struct real_dstate *ds;                 /* by domain index */
    starve_event_fn starve_hook;            /* set before real_open: each starvation event */
    void *starve_hook_ctx;
    struct timespec w0;                     /* wall clock at the start */
    /* monitor.counters, as each pCPU thread opens them (fallback applied) */
    int nr_counters;
    char counter_names[RUN_MAX_COUNTERS][RUN_COUNTER_NAME_MAX];
};

/* The pCPU the calling thread runs (NULL off the pCPU threads). */
extern __thread struct real_pcpu *real_this_pcpu;

/* ---- time ------------------------------------------------------------------ */

static inline fv_ns_t real_now(const struct real *rl)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (fv_ns_t)(ts.tv_sec - rl->t0.tv_sec) * 1000000000LL + (ts.tv_nsec - rl->t0.tv_nsec);
}

static inline struct timespec abs_ts(const struct real *rl, fv_ns_t t)
{
    int64_t ns = rl->t0.tv_nsec + t;
    struct timespec ts = { rl->t0.tv_sec + ns / 1000000000LL, ns % 1000000000LL };
    if (ts.tv_nsec < 0) {
        ts.tv_nsec += 1000000000LL;
        ts.tv_sec--;
    }
    return ts;
}

static inline struct real *real_of(struct scheduler *s) { return s->core_ctx; }

/* real.c: the pCPU side. */
extern const struct sched_core_ops real_core_ops;
/* The pCPU thread's body (arg: its struct real_pcpu). */
void *real_pcpu_thread(void *arg);
/* (lock held) Make pCPU cpu look at its state: a signal, or its condition
 * variable when it idles. */
void real_kick(struct real *rl, int cpu);
/* Timer events (lock held): a slice ends, a timeline sample, the end. */
void real_ev_slice(struct scheduler *s, struct sched_timer *t, fv_ns_t now);
void real_ev_sample(struct scheduler *s, struct sched_timer *t, fv_ns_t now);
void real_ev_end(struct scheduler *s, struct sched_timer *t, fv_ns_t now);
/* real.c (lock held): arm timer t on pCPU cpu at `when`, kicking it. */
void real_timer_set_on(struct real *rl, struct sched_timer *t, int cpu, fv_ns_t when);
/* real.c (lock held): a vCPU's one-shot timer fired. */
void real_fire_guest_timer(struct scheduler *s, struct sched_timer *t, fv_ns_t now);

/* real_setup.c: a run in three steps (real_run does all three): build and
 * start it (0, or -errno with a message: nothing to close), wait for its
 * end or *stop, then stop the pCPUs, collect `out` and free it. */
int real_open(struct real *rl, const struct scenario *scn, const struct engine_opts *o,
              char *err, size_t errlen);
void real_wait(struct real *rl, volatile sig_atomic_t *stop);
void real_close(struct real *rl, bool stopped, struct run_result *out);
void real_free(struct real *rl);
/* Domain d's vCPU contexts, once the scheduler has its units (lock held,
 * or before the run). 0 or -errno. */
int real_vcpus_init(struct real *rl, int d);
/* res[d].mem_resident_bytes from the pages its guest memory has resident. */
void real_measure_memory(struct real *rl, int d);

/* real_dom.c: domains at run time (a live host), from any thread but the
 * pCPUs'. Add: scn->domains[d] filled in, d == scn->nr_domains; the domain
 * is made (peers can find it) but does not run until real_dom_wake. 0 or
 * -errno with a message. */
int real_dom_add(struct real *rl, struct scenario *scn, int d, char *err, size_t errlen);
void real_dom_wake(struct real *rl, int d);
/* Destroy domain d: -ENOENT if it is already going. */
int real_dom_remove(struct real *rl, int d);
/* Pause or unpause domain d: -ENOENT (gone), -EBUSY (already so). */
int real_dom_pause(struct real *rl, int d, bool pause);
/* May domain d be woken (lock held)? Not paused, dying or dead. */
static inline bool real_dom_wakeable(const struct real *rl, int d)
{
    return !rl->ds || !(rl->ds[d].paused || rl->ds[d].dying || rl->ds[d].dead);
}

/* real_guest.c */
extern const struct guest_backend real_backend;
/* A vCPU context's entry point (fv_ctx_make). */
void real_vcpu_main(void *arg);
/* The tick handler (FV_SIG_TICK). */
void real_on_tick(int sig, siginfo_t *si, void *uc);
/* evtchn notify: an event reached (domid, vcpu). */
void real_notify(void *ctx, int domid, int vcpu);

#endif
