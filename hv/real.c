/* real.c — the real engine (DESIGN §4): domains run for real on the host.
 *
 * Each pCPU is a host thread pinned to one host CPU, running the scheduler
 * loop on its own stack. vCPUs are user-level contexts (ctx.h) whose stacks
 * live at the top of their domain's memory, below a guard page. The same
 * sched/ policies decide, through the same core (schedule.c); times are
 * CLOCK_MONOTONIC nanoseconds since the start of the run.
 *
 * Preemption a guest cannot avoid: each pCPU has a POSIX timer that sends
 * FV_SIG_TICK to its own thread (SIGEV_THREAD_ID), armed at the earlier of
 * the slice end do_schedule returned and the pCPU's next timer. The handler
 * (SA_NODEFER, so the signal stays deliverable after we switch away inside
 * it) switches from the vCPU's context to the pCPU's scheduler context. The
 * kernel's signal frame stays on the vCPU's stack, so the interrupted
 * registers and FPU state come back through sigreturn when that vCPU is
 * resumed later, on whichever pCPU thread resumes it. Kicks between pCPUs
 * (tickles, like IPIs) use the same signal, or the pCPU's condition
 * variable when it idles.
 *
 * What may be preempted, and why it is safe:
 *  - guest code (workloads): it holds no hypervisor lock and no pointer to
 *    per-thread or per-pCPU state; it may resume on another thread.
 *  - guest_compute/guest_touch's spin loop: it re-reads the vCPU's run-time
 *    fields with atomic loads after every step, so a migration mid-loop is
 *    seen.
 *  - nothing else: a hypercall clears the vCPU's in_guest flag on entry
 *    (Xen's per-task preempt count, in one bit: hypercalls do not nest), so
 *    a tick arriving then only sets the pCPU's need_resched, honoured on
 *    hypercall exit. The flag is the vCPU's, not the pCPU's: clearing it
 *    needs no pCPU pointer, which a tick could make stale between the load
 *    and the store by moving the vCPU to another thread.
 * in_guest is set only from inside the vCPU's context once it has fully
 * arrived (after the switch returns), never by the scheduler before the
 * switch: a tick in the middle of fv_ctx_swap would otherwise save a
 * half-switched context. The tick handler switches only when it runs on
 * the stack of the vCPU it would switch (pc->cur), so a tick that lands in
 * scheduler code, or a nested tick after a migration, cannot switch the
 * wrong context. With preemption off a vCPU cannot move, so hypercalls may
 * use vcpu_pcpu(v) and this_pcpu freely.
 *
 * Locking: one scheduler lock (rl->lock) serialises the policy, the core,
 * every pCPU's timer heap, metrics and the vCPU request fields. Xen has one
 * lock per runqueue; with a handful of pCPUs one lock is simpler and its
 * hold times are short (no guest code runs under it). Guest code never runs
 * with it held; hypercalls take it with preemption off (in_guest clear).
 */
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "domtab.h"
#include "evq.h"
#include "fault.h"
#include "guest_api.h"
#include "metrics.h"
#include "schedule.h"

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
};

/* A domain's memory: [shared-info page][guest memory ...][guard][stack]... */
struct real_dom {
    char *mem;                              /* all of it */
    uint64_t mem_size, guest_size;          /* all / the guest memory (wss) */
    char *guest;                            /* mem + one page */
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
};

struct real {
    const struct scenario *scn;
    struct scheduler *s;
    pthread_mutex_t lock;
    struct timespec t0;
    int nr_pcpus;
    struct real_pcpu *pcpu;
    struct real_vcpu *vcpu;                 /* by unit id */
    struct real_dom *dom;                   /* by domain index */
    struct metrics m;
    struct dom_result *res;
    struct sched_timer sample_timer, end_timer;
    struct engine_evtchn ev;
    fv_ns_t end_time;
    bool done;
    bool oom;
    bool closing;                           /* tearing down: timers ignored */
    bool poll_idle;                         /* mode: performance */
    uint64_t events, schedules;
};

static __thread struct real_pcpu *this_pcpu;

/* ---- time ------------------------------------------------------------------ */

static fv_ns_t real_now(const struct real *rl)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (fv_ns_t)(ts.tv_sec - rl->t0.tv_sec) * 1000000000LL + (ts.tv_nsec - rl->t0.tv_nsec);
}

static struct timespec abs_ts(const struct real *rl, fv_ns_t t)
{
    int64_t ns = rl->t0.tv_nsec + t;
    struct timespec ts = { rl->t0.tv_sec + ns / 1000000000LL, ns % 1000000000LL };
    if (ts.tv_nsec < 0) {
        ts.tv_nsec += 1000000000LL;
        ts.tv_sec--;
    }
    return ts;
}

/* ---- kicks and timers (lock held) ---------------------------------------------- */

static void kick(struct real *rl, int cpu)
{
    struct real_pcpu *pc = &rl->pcpu[cpu];
    if (pc == this_pcpu) {
        /* From a hypercall: honoured on its exit. From the loop: it looks
         * again before it sleeps. */
        if (pc->state == PC_GUEST)
            atomic_store(&pc->need_resched, 1);
        return;
    }
    if (pc->state == PC_IDLE) {
        atomic_store(&pc->kicked, 1);
        pthread_cond_signal(&pc->cond);
    } else if (pc->state == PC_GUEST) {
        atomic_store(&pc->need_resched, 1);
        syscall(SYS_tgkill, getpid(), pc->tid, FV_SIG_TICK);
    }
}

static fv_ns_t core_now(void *ctx) { return real_now(ctx); }

static void core_tickle(void *ctx, int cpu)
{
    struct real *rl = ctx;
    rl->pcpu[cpu].tickled = true;
    kick(rl, cpu);
}

static void core_timer_stop(void *ctx, struct sched_timer *t)
{
    struct real *rl = ctx;
    if (t->heap_idx >= 0 && !rl->closing)
        evq_cancel(&rl->pcpu[t->cpu].timers, t);
}

static void timer_set_on(struct real *rl, struct sched_timer *t, int cpu, fv_ns_t when)
{
    if (rl->closing)
        return;
    core_timer_stop(rl, t);
    t->cpu = cpu;
    if (evq_push(&rl->pcpu[cpu].timers, t, when))
        rl->oom = true;
    kick(rl, cpu);              /* it may need to fire sooner than it planned */
}

static void core_timer_set(void *ctx, struct sched_timer *t, fv_ns_t when)
{
    timer_set_on(ctx, t, t->cpu, when);
}

static const struct sched_core_ops real_core_ops = {
    .now = core_now, .tickle = core_tickle,
    .timer_set = core_timer_set, .timer_stop = core_timer_stop,
};

static struct real *real_of(struct scheduler *s) { return s->core_ctx; }

/* ---- the tick: preemption ------------------------------------------------------- */

static struct real_pcpu *vcpu_pcpu(struct real_vcpu *v) { return atomic_load(&v->pcpu); }

static void guest_arrived(struct real_vcpu *v);

/* Switch to the scheduler loop of the pCPU v runs on. Preemption is off
 * (v->in_guest clear), so v cannot move and vcpu_pcpu(v) is stable. */
static void switch_out(struct real_vcpu *v, enum real_req req)
{
    struct real_pcpu *pc = vcpu_pcpu(v);
    atomic_store(&v->left_at, real_now(v->rl));
    pc->cur = NULL;
    v->req = req;
    fv_ctx_switch(&v->ctx, &pc->sched_ctx);
}

/* Leave the guest for the scheduler loop, from guest context (a hypercall
 * or the tick handler) with preemption off. Returns when the vCPU is
 * resumed, possibly on another pCPU, with preemption on there. */
static void leave_guest(struct real_vcpu *v, enum real_req req)
{
    switch_out(v, req);
    guest_arrived(v);
}

/* The vCPU is (back) in guest context: preemption on. A kick that came
 * while it could not be preempted (need_resched) is honoured now. Reading
 * a stale pCPU's need_resched (a tick moved us between the two loads) can
 * only miss a kick, and the kick's own signal covers that. */
static void guest_arrived(struct real_vcpu *v)
{
    for (;;) {
        atomic_store(&v->in_guest, 1);
        if (!atomic_load(&vcpu_pcpu(v)->need_resched))
            return;
        if (!atomic_exchange(&v->in_guest, 0))
            continue;           /* a tick switched us out and back meanwhile */
        if (!atomic_exchange(&vcpu_pcpu(v)->need_resched, 0))
            continue;
        switch_out(v, RREQ_PREEMPT);
    }
}

/* A call the compiler can neither inline nor reason about (gcc: noipa;
 * clang has no noipa, and optnone keeps its attribute inference away). */
#if defined(__clang__)
#define FV_OPAQUE __attribute__((noinline, optnone))
#else
#define FV_OPAQUE __attribute__((noinline, noipa))
#endif

/* errno is thread-local and glibc's __errno_location is `const`, so the
 * compiler may keep its address across the switch, which can resume us on
 * another thread: read and write it through calls it cannot see through. */
FV_OPAQUE static int errno_get(void) { return errno; }
FV_OPAQUE static void errno_set(int e) { errno = e; }

/* sigreturn restores the alternate signal stack saved in the frame: after
 * a resume on another thread that would be the first thread's. Keep this
 * thread's own. */
FV_OPAQUE static void keep_own_altstack(ucontext_t *uc)
{
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0)
        uc->uc_stack = cur;
}

static void on_tick(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    struct real_pcpu *pc = this_pcpu;
    if (!pc)
        return;
    struct real_vcpu *v = pc->cur;
    if (!FV_ASYNC_PREEMPT || !v || !fv_ctx_on_stack(&v->ctx, __builtin_frame_address(0)) || !atomic_exchange(&v->in_guest, 0)) {
        atomic_store(&pc->need_resched, 1);
        return;
    }
    int saved = errno_get();
    leave_guest(v, RREQ_PREEMPT);
    keep_own_altstack(uc);
    errno_set(saved);
}

/* ---- hypercalls ------------------------------------------------------------------ */

static struct real_vcpu *rv(struct guest_vcpu *g) { return (struct real_vcpu *)g; }

/* Enter: preemption off, scheduler lock taken. */
static struct real *hc_enter(struct real_vcpu *v)
{
    atomic_store(&v->in_guest, 0);
    pthread_mutex_lock(&v->rl->lock);
    return v->rl;
}

/* Exit: lock dropped, preemption on; a tick that came meanwhile is honoured. */
static void hc_exit(struct real_vcpu *v)
{
    pthread_mutex_unlock(&v->rl->lock);
    guest_arrived(v);
}

static fv_ns_t own_runtime(struct real_vcpu *v)
{
    return atomic_load_explicit(&v->runtime, memory_order_relaxed) +
           (real_now(v->rl) - atomic_load_explicit(&v->run_start, memory_order_relaxed));
}

/* Without asynchronous preemption: give the pCPU up if it is asked for or
 * the tick is due. */
static void preempt_point(struct real_vcpu *v)
{
    struct real_pcpu *pc = vcpu_pcpu(v);
    if (!atomic_load(&pc->need_resched) && real_now(v->rl) < atomic_load(&pc->tick_at))
        return;
    if (!atomic_exchange(&v->in_guest, 0))
        return;
    atomic_store(&vcpu_pcpu(v)->need_resched, 0);
    leave_guest(v, RREQ_PREEMPT);
}

/* Spin until this vCPU has run `ns` more: real work, preemptible anywhere. */
static void rb_touch(struct guest_vcpu *g, fv_ns_t ns, uint64_t wss)
{
    struct real_vcpu *v = rv(g);
    const struct real_dom *d = &v->rl->dom[v->dom_index];
    if (wss > d->guest_size)
        wss = d->guest_size;
    volatile uint64_t *mem = (volatile uint64_t *)d->guest;
    uint64_t lines = wss / 64, at = 0, x = 1;
    fv_ns_t target = own_runtime(v) + ns;
    while (own_runtime(v) < target) {
        for (int i = 0; i < 64; i++) {
            if (lines) {
                mem[at * 8] += x;           /* one cache line per step */
                at = at + 1 == lines ? 0 : at + 1;
            }
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        }
        if (!FV_ASYNC_PREEMPT)
            preempt_point(v);
    }
}

static void rb_compute(struct guest_vcpu *g, fv_ns_t ns) { rb_touch(g, ns, 0); }

static void rb_block(struct guest_vcpu *g)
{
    struct real_vcpu *v = rv(g);
    hc_enter(v);
    if (v->pending || evtchn_pending_any(&v->rl->ev.tab, g->domid, g->vcpuid) == 1) {
        v->pending = false;
        hc_exit(v);
        return;
    }
    pthread_mutex_unlock(&v->rl->lock);
    leave_guest(v, RREQ_BLOCK);         /* the loop blocks it under the lock */
}

static void rb_yield(struct guest_vcpu *g)
{
    struct real_vcpu *v = rv(g);
    atomic_store(&v->in_guest, 0);
    leave_guest(v, RREQ_YIELD);
}

static void fire_guest_timer(struct scheduler *s, struct sched_timer *t, fv_ns_t now);

static int rb_set_timer(struct guest_vcpu *g, fv_ns_t when)
{
    struct real_vcpu *v = rv(g);
    struct real *rl = hc_enter(v);
    /* timer_set_on kicks this pCPU (need_resched), whose tick may be armed
     * later than the new timer: the loop re-arms it. */
    timer_set_on(rl, &v->timer, vcpu_pcpu(v)->cpu, when);
    hc_exit(v);
    return 0;
}

static fv_ns_t rb_now(struct guest_vcpu *g) { return real_now(rv(g)->rl); }

static void rb_work_units(struct guest_vcpu *g, uint64_t n)
{
    struct real_vcpu *v = rv(g);
    struct real *rl = hc_enter(v);
    metrics_work(&rl->m, v->u->id, n);
    hc_exit(v);
}

static void rb_deadline_miss(struct guest_vcpu *g)
{
    struct real_vcpu *v = rv(g);
    struct real *rl = hc_enter(v);
    rl->res[v->dom_index].deadline_misses++;
    hc_exit(v);
}

static void rb_latency_sample(struct guest_vcpu *g, fv_ns_t ns)
{
    struct real_vcpu *v = rv(g);
    struct real *rl = hc_enter(v);
    hist_add(&rl->res[v->dom_index].app_latency, (uint64_t)ns);
    hc_exit(v);
}

static int rb_console_write(struct guest_vcpu *g, const char *buf, uint64_t len)
{
    struct real_vcpu *v = rv(g);
    const struct real_dom *d = &v->rl->dom[v->dom_index];
    if (!engine_range_ok(buf, len, d->mem, d->mem_size))
        return -EFAULT;
    struct real *rl = hc_enter(v);
    engine_console(v->sd->name, buf, len);
    hc_exit(v);
    (void)rl;
    return 0;
}

/* Event channels take their own locks and call notify, which takes the
 * scheduler lock: run them with preemption off but without that lock. */
static int rb_evtchn(struct guest_vcpu *g, enum guest_evtchn_op op, int a, int b)
{
    struct real_vcpu *v = rv(g);
    atomic_store(&v->in_guest, 0);
    int rc = engine_evtchn_op(&v->rl->ev, g->domid, op, a, b);
    guest_arrived(v);
    return rc;
}

/* An event reached (domid, vcpu): wake it if it blocked. Any thread. */
static void real_notify(void *ctx, int domid, int vcpu)
{
    struct real *rl = ctx;
    struct sched_unit *u = engine_unit_of(rl->s, rl->scn, domid, vcpu);
    if (!u)
        return;
    struct real_vcpu *v = &rl->vcpu[u->id];
    pthread_mutex_lock(&rl->lock);
    v->pending = true;
    if (!v->u->runnable) {
        fv_ns_t now = real_now(rl);
        metrics_wake(&rl->m, v->u->id, now);
        sched_core_wake(rl->s, v->u, now);
    }
    pthread_mutex_unlock(&rl->lock);
}

static const struct guest_backend real_backend = {
    .compute = rb_compute, .touch = rb_touch, .console_write = rb_console_write,
    .block = rb_block, .yield = rb_yield, .set_timer = rb_set_timer, .now = rb_now,
    .work_units = rb_work_units, .deadline_miss = rb_deadline_miss,
    .latency_sample = rb_latency_sample, .evtchn = rb_evtchn, .virtual_time = 0,
};

static void vcpu_main(void *arg)
{
    struct real_vcpu *v = arg;
    guest_arrived(v);
    v->sd->wl.desc->main(&v->sd->wl.args);
    for (;;)
        rb_block(&v->g);
}

/* ---- timer events (lock held) ---------------------------------------------------- */

static void fire_guest_timer(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    struct real *rl = real_of(s);
    struct real_vcpu *v = t->data;
    v->pending = true;
    if (!v->u->runnable) {
        /* The wake-up was due at t->expires: its latency counts from then,
         * so a late timer or a busy pCPU loop shows up in it. */
        metrics_wake(&rl->m, v->u->id, t->expires < now ? t->expires : now);
        sched_core_wake(s, v->u, now);
    }
}

static void ev_slice(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    (void)now;
    real_of(s)->pcpu[t->cpu].tickled = true;
}

static void ev_sample(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    struct real *rl = real_of(s);
    metrics_sample(&rl->m, now);
    timer_set_on(rl, t, t->cpu, t->expires + rl->scn->sample);
}

static void ev_end(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    (void)t;
    struct real *rl = real_of(s);
    rl->done = true;
    rl->end_time = now;
    for (int c = 0; c < rl->nr_pcpus; c++)
        kick(rl, c);
}

static void fire_due(struct real *rl, struct real_pcpu *pc, fv_ns_t now)
{
    struct sched_timer *t;
    while ((t = evq_peek(&pc->timers)) && t->expires <= now) {
        evq_pop(&pc->timers);
        rl->events++;
        t->fn(rl->s, t, now);
    }
}

/* ---- the pCPU loop ------------------------------------------------------------------ */

/* Charge v's run: from just before the switch in to when it left. */
static void account(struct real_vcpu *v)
{
    fv_ns_t span = atomic_load(&v->left_at) - atomic_load(&v->run_start);
    if (span > 0)
        atomic_store(&v->runtime, atomic_load(&v->runtime) + span);
}

static void reschedule(struct real *rl, struct real_pcpu *pc, fv_ns_t now)
{
    pc->tickled = false;
    struct sched_unit *prev;
    struct sched_decision d = sched_core_schedule(rl->s, pc->cpu, now, &prev);
    rl->schedules++;
    if (prev != d.next) {
        if (prev)
            metrics_stop(&rl->m, prev->id, now, prev->runnable);
        if (d.next)
            metrics_run(&rl->m, d.next->id, now);
    }
    if (d.runtime >= 0)
        timer_set_on(rl, &pc->slice, pc->cpu, now + d.runtime);
    else
        core_timer_stop(rl, &pc->slice);
}

/* What the vCPU asked for when it left (lock held). */
static void handle_request(struct real *rl, struct real_vcpu *v, fv_ns_t now)
{
    switch (v->req) {
    case RREQ_BLOCK:
        if (v->pending)
            v->pending = false;         /* woken between the check and here */
        else
            sched_core_sleep(rl->s, v->u, now);
        break;
    case RREQ_YIELD:
        sched_core_yield(rl->s, v->u, now);
        break;
    default:
        break;
    }
    v->req = RREQ_NONE;
}

static void arm_tick(struct real *rl, struct real_pcpu *pc)
{
    struct sched_timer *t = evq_peek(&pc->timers);
    atomic_store(&pc->tick_at, FV_NS_NEVER);
    if (!pc->timer_ok || !t)
        return;
    atomic_store(&pc->tick_at, t->expires);
    struct itimerspec its = { .it_value = abs_ts(rl, t->expires) };
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1;
    timer_settime(pc->timer, TIMER_ABSTIME, &its, NULL);
}

static void run_guest(struct real *rl, struct real_pcpu *pc, struct real_vcpu *v, fv_ns_t now)
{
    (void)now;
    atomic_store(&v->pcpu, pc);
    pc->cur = v;
    pc->state = PC_GUEST;
    atomic_store(&pc->need_resched, 0);
    arm_tick(rl, pc);
    guest_current = &v->g;
    atomic_store(&v->run_start, real_now(rl));
    pthread_mutex_unlock(&rl->lock);
    fv_ctx_switch(&pc->sched_ctx, &v->ctx);
    pthread_mutex_lock(&rl->lock);
    guest_current = NULL;
    pc->state = PC_SCHED;
    account(v);
    handle_request(rl, v, real_now(rl));
}

/* mode: performance — an idle pCPU polls for kicks and timers instead of
 * sleeping: wake-ups cost a cache-line transfer instead of a futex wake,
 * at the price of a busy host CPU (what `density` mode avoids). */
static void idle_poll(struct real *rl, struct real_pcpu *pc, fv_ns_t until)
{
    atomic_store(&pc->kicked, 0);
    pthread_mutex_unlock(&rl->lock);
    while (!atomic_load(&pc->kicked) && real_now(rl) < until)
        __builtin_ia32_pause();
    pthread_mutex_lock(&rl->lock);
}

static void idle_wait(struct real *rl, struct real_pcpu *pc)
{
    struct sched_timer *t = evq_peek(&pc->timers);
    pc->state = PC_IDLE;
    if (rl->poll_idle) {
        idle_poll(rl, pc, t ? t->expires : real_now(rl) + FV_MS(1));
    } else if (t) {
        struct timespec ts = abs_ts(rl, t->expires);
        pthread_cond_timedwait(&pc->cond, &rl->lock, &ts);
    } else {
        pthread_cond_wait(&pc->cond, &rl->lock);
    }
    pc->state = PC_SCHED;
}

static void pcpu_loop(struct real *rl, struct real_pcpu *pc)
{
    pthread_mutex_lock(&rl->lock);
    while (!rl->done && !rl->oom) {
        fv_ns_t now = real_now(rl);
        fire_due(rl, pc, now);
        if (rl->done)
            break;
        if (pc->tickled)
            reschedule(rl, pc, now);
        struct sched_unit *u = sched_curr(rl->s, pc->cpu);
        if (u && !pc->tickled)
            run_guest(rl, pc, &rl->vcpu[u->id], now);
        else if (!pc->tickled)
            idle_wait(rl, pc);
    }
    pthread_mutex_unlock(&rl->lock);
}

static int pin_to(int host_cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(host_cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *pcpu_thread(void *arg)
{
    struct real_pcpu *pc = arg;
    struct real *rl = pc->rl;
    pin_to(engine_host_cpu(pc->cpu));
    pc->tid = (pid_t)syscall(SYS_gettid);
    this_pcpu = pc;
    fv_ctx_init_thread(&pc->sched_ctx);
    struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = FV_SIG_TICK };
    sev._sigev_un._tid = pc->tid;
    pc->timer_ok = timer_create(CLOCK_MONOTONIC, &sev, &pc->timer) == 0;
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, FV_SIG_TICK);
    pthread_sigmask(SIG_UNBLOCK, &ss, NULL);
    domtab_thread_online();
    pcpu_loop(rl, pc);
    domtab_thread_offline();
    if (pc->timer_ok)
        timer_delete(pc->timer);
    this_pcpu = NULL;
    return NULL;
}

/* ---- building ------------------------------------------------------------------------ */

static int make_domains_memory(struct real *rl)
{
    const struct scenario *scn = rl->scn;
    size_t stack = fv_stack_default_size();
    rl->dom = calloc((size_t)scn->nr_domains, sizeof(*rl->dom));
    if (!rl->dom || fv_fault("memory"))
        return -ENOMEM;
    for (int d = 0; d < scn->nr_domains; d++) {
        const struct scn_domain *sd = &scn->domains[d];
        uint64_t stacks = (uint64_t)sd->vcpus * (stack + 4096);
        uint64_t size = sd->memory > stacks + 8192 ? sd->memory : stacks + (1 << 20);
        /* NORESERVE: only what the guest touches is ever backed. */
        void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            return -errno;
        fv_stack_unpoison(m, size);
        rl->dom[d] = (struct real_dom){ m, size, size - stacks - 4096, (char *)m + 4096 };
        struct fv_shared_info *si = (struct fv_shared_info *)m;
        si->time_base_ns = (int64_t)rl->t0.tv_sec * 1000000000LL + rl->t0.tv_nsec;
        atomic_store_explicit(&si->version, 2, memory_order_release);
    }
    return 0;
}

/* vCPU i's stack: the i-th slot from the top of its domain's memory, each
 * slot a guard page then the stack. */
static int make_vcpus(struct real *rl)
{
    struct scheduler *s = rl->s;
    size_t stack = fv_stack_default_size();
    rl->vcpu = fv_fault("vcpus") ? NULL : calloc((size_t)s->nr_units, sizeof(*rl->vcpu));
    if (!rl->vcpu)
        return -ENOMEM;
    for (int d = 0; d < s->nr_doms; d++) {
        struct real_dom *rd = &rl->dom[d];
        for (int i = 0; i < s->doms[d]->nr_units; i++) {
            struct sched_unit *u = s->doms[d]->units[i];
            struct real_vcpu *v = &rl->vcpu[u->id];
            char *slot = rd->guest + rd->guest_size + (uint64_t)i * (stack + 4096);
            int rc = fv_fault("stack") ? -ENOMEM : fv_guard_page(slot, NULL);
            if (rc)
                return rc;
            v->g = (struct guest_vcpu){ &real_backend, engine_dom_seed(rl->scn->seed, s->doms[d]->id),
                                        s->doms[d]->id, i, (const struct fv_shared_info *)rd->mem };
            v->rl = rl;
            v->u = u;
            v->sd = &rl->scn->domains[d];
            v->dom_index = d;
            atomic_init(&v->pcpu, &rl->pcpu[u->cpu]);
            fv_ctx_make(&v->ctx, slot + 4096, stack, vcpu_main, v);
            sched_timer_init(&v->timer, fire_guest_timer, v, u->cpu);
        }
    }
    return 0;
}

static int real_setup(struct real *rl, const struct scenario *scn, const struct engine_opts *o,
                      char *err, size_t errlen)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (scn->pcpus > ncpu) {
        snprintf(err, errlen, "%s: pcpus %d exceeds the host's %ld online CPUs "
                 "(expected pcpus <= %ld with engine: real)", scn->file, scn->pcpus, ncpu, ncpu);
        return -EINVAL;
    }
    rl->scn = scn;
    rl->nr_pcpus = scn->pcpus;
    rl->poll_idle = strcmp(scn->mode, "performance") == 0;
    /* Time 0 of the run: policies read the clock as soon as they exist. */
    clock_gettime(CLOCK_MONOTONIC, &rl->t0);
    pthread_mutex_init(&rl->lock, NULL);
    rl->pcpu = calloc((size_t)scn->pcpus, sizeof(*rl->pcpu));
    if (!rl->pcpu)
        return engine_setup_error(err, errlen, "pCPUs", -ENOMEM);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    for (int c = 0; c < scn->pcpus; c++) {
        struct real_pcpu *pc = &rl->pcpu[c];
        pc->cpu = c;
        pc->rl = rl;
        pthread_cond_init(&pc->cond, &ca);
        sched_timer_init(&pc->slice, ev_slice, NULL, c);
        if (fv_fault("evq") || evq_init(&pc->timers)) {
            pthread_condattr_destroy(&ca);
            return engine_setup_error(err, errlen, "timer queues", -ENOMEM);
        }
    }
    pthread_condattr_destroy(&ca);
    int rc = engine_sched_build(&rl->s, scn, &real_core_ops, rl, err, errlen);
    if (rc)
        return rc;
    if ((rc = make_domains_memory(rl)))
        return engine_setup_error(err, errlen, "domain memory", rc);
    if ((rc = make_vcpus(rl)))
        return engine_setup_error(err, errlen, rc == -ENOMEM ? "vCPU stacks and their guard pages "
                                  "(each guard page may cost a mapping: see vm.max_map_count)"
                                  : "vCPU stacks", rc);
    rl->res = engine_results_new(scn);
    if (!rl->res)
        return engine_setup_error(err, errlen, "per-domain results", -ENOMEM);
    if ((rc = engine_evtchn_init(&rl->ev, scn, real_notify, rl)))
        return engine_setup_error(err, errlen, "event channels", rc);
    struct timeline_sink sink = o ? o->sink : (struct timeline_sink){ 0 };
    rc = fv_fault("metrics") ? -ENOMEM
                             : metrics_init(&rl->m, rl->s, rl->res, scn->starvation_threshold, sink, 0);
    return rc ? engine_setup_error(err, errlen, "metrics", rc) : 0;
}

static void real_free(struct real *rl)
{
    metrics_fini(&rl->m);
    engine_evtchn_fini(&rl->ev);
    if (rl->vcpu && rl->s)
        for (int i = 0; i < rl->s->nr_units; i++)
            fv_ctx_destroy(&rl->vcpu[i].ctx);
    /* Policies may arm or stop timers while they tear down; the heaps are
     * going away, so the core services ignore them from here on. */
    rl->closing = true;
    sched_core_destroy(rl->s);
    for (int c = 0; rl->pcpu && c < rl->nr_pcpus; c++) {
        evq_fini(&rl->pcpu[c].timers);
        pthread_cond_destroy(&rl->pcpu[c].cond);
    }
    for (int d = 0; rl->dom && d < rl->scn->nr_domains; d++)
        if (rl->dom[d].mem) {
            fv_stack_unpoison(rl->dom[d].mem, rl->dom[d].mem_size);
            munmap(rl->dom[d].mem, rl->dom[d].mem_size);
        }
    free(rl->dom);
    free(rl->vcpu);
    free(rl->pcpu);
    pthread_mutex_destroy(&rl->lock);
}

static int install_tick_handler(void)
{
    return engine_switching_handler(FV_SIG_TICK, on_tick);
}

static void boot(struct real *rl)
{
    sched_timer_init(&rl->end_timer, ev_end, NULL, 0);
    sched_timer_init(&rl->sample_timer, ev_sample, NULL, 0);
    timer_set_on(rl, &rl->end_timer, 0, rl->scn->duration);
    timer_set_on(rl, &rl->sample_timer, 0, rl->scn->sample);
    fv_ns_t now = real_now(rl);
    for (int i = 0; i < rl->s->nr_units; i++) {
        metrics_boot(&rl->m, i, now);
        sched_core_wake(rl->s, rl->s->units[i], now);
    }
}

/* The calling thread waits for the end, or for a stop request. */
static void wait_end(struct real *rl, volatile sig_atomic_t *stop)
{
    for (;;) {
        struct timespec ts = { 0, 10 * 1000000 };
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&rl->lock);
        if (!rl->done && stop && *stop) {
            rl->done = true;
            rl->end_time = real_now(rl);
        }
        bool done = rl->done || rl->oom;
        if (done)                       /* every pCPU must see it, idle or not */
            for (int c = 0; c < rl->nr_pcpus; c++)
                kick(rl, c);
        pthread_mutex_unlock(&rl->lock);
        if (done)
            return;
    }
}

static int start_pcpus(struct real *rl, char *err, size_t errlen)
{
    sigset_t ss, old;
    sigemptyset(&ss);
    sigaddset(&ss, FV_SIG_TICK);
    sigaddset(&ss, SIGINT);
    sigaddset(&ss, SIGTERM);
    /* pCPU threads start with SIGINT/SIGTERM blocked: the caller takes them. */
    pthread_sigmask(SIG_BLOCK, &ss, &old);
    int rc = 0;
    for (int c = 0; c < rl->nr_pcpus && !rc; c++)
        rc = c == 1 && fv_fault("threads") ? EAGAIN
                                           : pthread_create(&rl->pcpu[c].thread, NULL, pcpu_thread,
                                                            &rl->pcpu[c]);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        engine_setup_error(err, errlen, "starting pCPU threads", -rc);
    return -rc;
}

/* Guest memory each domain touched: its resident pages (mincore). */
static void measure_memory(struct real *rl)
{
    long pg = sysconf(_SC_PAGESIZE);
    for (int d = 0; rl->dom && d < rl->scn->nr_domains; d++) {
        const struct real_dom *rd = &rl->dom[d];
        size_t pages = (rd->guest_size + (uint64_t)pg - 1) / (uint64_t)pg;
        unsigned char *vec = malloc(pages ? pages : 1);
        if (!vec)
            return;
        if (mincore(rd->guest, rd->guest_size, vec) == 0) {
            uint64_t n = 0;
            for (size_t i = 0; i < pages; i++)
                n += vec[i] & 1;
            rl->res[d].mem_resident_bytes = n * (uint64_t)pg;
        }
        free(vec);
    }
}

int real_run(const struct scenario *scn, const struct engine_opts *o,
             struct run_result *out, char *err, size_t errlen)
{
    struct real rl;
    memset(&rl, 0, sizeof(rl));
    memset(out, 0, sizeof(*out));
    int rc = install_tick_handler();
    if (!rc)
        rc = real_setup(&rl, scn, o, err, errlen);
    if (rc) {
        if (!err[0])
            engine_setup_error(err, errlen, NULL, rc);
        free(rl.res);
        real_free(&rl);
        return rc;
    }
    pthread_mutex_lock(&rl.lock);
    boot(&rl);
    pthread_mutex_unlock(&rl.lock);
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    rc = start_pcpus(&rl, err, errlen);
    if (!rc)
        wait_end(&rl, o ? o->stop : NULL);
    else {
        pthread_mutex_lock(&rl.lock);
        rl.done = true;
        for (int c = 0; c < rl.nr_pcpus; c++)
            kick(&rl, c);
        pthread_mutex_unlock(&rl.lock);
    }
    for (int c = 0; c < rl.nr_pcpus; c++)
        if (rl.pcpu[c].thread)
            pthread_join(rl.pcpu[c].thread, NULL);
    if (rc) {                           /* nothing ran that could be reported */
        free(rl.res);
        real_free(&rl);
        return rc;
    }
    clock_gettime(CLOCK_MONOTONIC, &w1);
    measure_memory(&rl);
    fv_ns_t end = rl.end_time ? rl.end_time : real_now(&rl);
    for (int c = 0; c < rl.nr_pcpus; c++) {
        struct sched_unit *u = sched_curr(rl.s, c);
        if (u)
            metrics_stop(&rl.m, u->id, end, u->runnable);
    }
    metrics_finish(&rl.m, 0, end);
    engine_collect_sched_misses(rl.s, rl.res);
    engine_dump(rl.s);
    *out = (struct run_result){
        .scn = scn, .policy = scn->policy->name, .engine = "real", .seed = scn->seed,
        .duration_ns = end, .pcpus = scn->pcpus,
        .complete = !rl.oom && end >= scn->duration && !(o && o->stop && *o->stop),
        .nr_doms = scn->nr_domains, .doms = rl.res,
        .starvation_threshold_ns = scn->starvation_threshold,
        .events = rl.events, .schedules = rl.schedules,
        .wall_s = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) * 1e-9,
    };
    run_result_finish(out);
    real_free(&rl);
    return rc;
}
