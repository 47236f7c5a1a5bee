/* real.c — the real engine (DESIGN §4): domains run for real on the host.
 *
 * Each pCPU is a host thread pinned to one host CPU, running the scheduler
 * loop on its own stack. vCPUs are user-level contexts (ctx.h) whose stacks
 * live at the top of their domain's memory, below a guard page. The same
 * sched/ policies decide, through the same core (schedule.c); times are
 * CLOCK_MONOTONIC nanoseconds since the start of the run.
 *
 * This file is the pCPU side: kicks, timers and the scheduler loop each
 * pCPU thread runs. The guest side (entering and leaving guest context,
 * the preemption tick, the hypercalls) is in real_guest.c; building,
 * starting and stopping a run in real_setup.c; real_priv.h holds the
 * state.
 *
 * Locking: one scheduler lock (rl->lock) serialises the policy, the core,
 * every pCPU's timer heap, metrics and the vCPU request fields. Xen has one
 * lock per runqueue; with a handful of pCPUs one lock is simpler and its
 * hold times are short (no guest code runs under it). Guest code never runs
 * with it held; hypercalls take it with preemption off (in_guest clear).
 */
#include "real_priv.h"

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

#include "counters.h"
#include "domtab.h"
#include "fault.h"
#include "schedule.h"

__thread struct real_pcpu *real_this_pcpu;

/* ---- kicks and timers (lock held) ---------------------------------------------- */

void real_kick(struct real *rl, int cpu)
{
    struct real_pcpu *pc = &rl->pcpu[cpu];
    if (pc == real_this_pcpu) {
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
        /* One signal per pending kick: FV_SIG_TICK is a realtime signal, so
         * copies queue rather than merge, and a pCPU thread the host had
         * descheduled got them all at once, nesting the (SA_NODEFER)
         * handler until its stack overflowed (fair tickles often). A kick
         * that finds the flag set is covered by the signal already sent, or
         * by guest_arrived/run_guest, which consume or clear it; the armed
         * tick preempts regardless. */
        if (!atomic_exchange(&pc->need_resched, 1))
            syscall(SYS_tgkill, getpid(), pc->tid, FV_SIG_TICK);
    }
}

static fv_ns_t core_now(void *ctx) { return real_now(ctx); }

static void core_tickle(void *ctx, int cpu)
{
    struct real *rl = ctx;
    rl->pcpu[cpu].tickled = true;
    real_kick(rl, cpu);
}

static void core_timer_stop(void *ctx, struct sched_timer *t)
{
    struct real *rl = ctx;
    if (t->heap_idx >= 0 && !rl->closing)
        evq_cancel(&rl->pcpu[t->cpu].timers, t);
}

void real_timer_set_on(struct real *rl, struct sched_timer *t, int cpu, fv_ns_t when)
{
    if (rl->closing)
        return;
    core_timer_stop(rl, t);
    t->cpu = cpu;
    if (evq_push(&rl->pcpu[cpu].timers, t, when))
        rl->oom = true;
    real_kick(rl, cpu);              /* it may need to fire sooner than it planned */
}

static void core_timer_set(void *ctx, struct sched_timer *t, fv_ns_t when)
{
    real_timer_set_on(ctx, t, t->cpu, when);
}

const struct sched_core_ops real_core_ops = {
    .now = core_now, .tickle = core_tickle,
    .timer_set = core_timer_set, .timer_stop = core_timer_stop,
};

/* ---- timer events (lock held) ---------------------------------------------------- */

void real_fire_guest_timer(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    struct real *rl = real_of(s);
    struct real_vcpu *v = t->data;
    v->pending = true;
    if (!v->u->runnable && real_dom_wakeable(rl, v->dom_index)) {
        /* The wake-up was due at t->expires: its latency counts from then,
         * so a late timer or a busy pCPU loop shows up in it. */
        metrics_wake(&rl->m, v->u->id, t->expires < now ? t->expires : now);
        sched_core_wake(s, v->u, now);
    }
}

void real_ev_slice(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    (void)now;
    real_of(s)->pcpu[t->cpu].tickled = true;
}

void real_ev_sample(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    struct real *rl = real_of(s);
    metrics_sample(&rl->m, now);
    real_timer_set_on(rl, t, t->cpu, t->expires + rl->scn->sample);
}

void real_ev_end(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    (void)t;
    struct real *rl = real_of(s);
    rl->done = true;
    rl->end_time = now;
    for (int c = 0; c < rl->nr_pcpus; c++)
        real_kick(rl, c);
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
        real_timer_set_on(rl, &pc->slice, pc->cpu, now + d.runtime);
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
        if (v->u->runnable)             /* not if paused meanwhile */
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
    /* monitor.counters: what this thread counts while v runs is v's
     * domain's (hypercalls included: work done on its behalf). */
    bool counted = pc->ctr && counters_read(pc->ctr, pc->ctr_in) == 0;
    fv_ctx_switch(&pc->sched_ctx, &v->ctx);
    counted = counted && counters_read(pc->ctr, pc->ctr_out) == 0;
    pthread_mutex_lock(&rl->lock);
    guest_current = NULL;
    pc->state = PC_SCHED;
    for (int i = 0; counted && i < rl->nr_counters; i++)
        rl->res[v->dom_index].counters[i] += pc->ctr_out[i] - pc->ctr_in[i];
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

/* monitor.counters on this thread; without them (refused) the run goes on
 * uncounted, as said once. */
static void open_counters(struct real *rl, struct real_pcpu *pc)
{
    if (!rl->nr_counters)
        return;
    const char *names[RUN_MAX_COUNTERS];
    for (int i = 0; i < rl->nr_counters; i++)
        names[i] = rl->counter_names[i];
    char err[256];
    if (counters_open(&pc->ctr, names, rl->nr_counters, err, sizeof(err)) ||
        counters_count(pc->ctr) != rl->nr_counters) {
        counters_close(pc->ctr);
        pc->ctr = NULL;
        static atomic_flag said = ATOMIC_FLAG_INIT;
        if (!atomic_flag_test_and_set(&said))
            fprintf(stderr, "fairvisor: pCPU %d counts no events: %s\n", pc->cpu, err);
    }
}

void *real_pcpu_thread(void *arg)
{
    struct real_pcpu *pc = arg;
    struct real *rl = pc->rl;
    pin_to(engine_host_cpu(pc->cpu));
    pc->tid = (pid_t)syscall(SYS_gettid);
    real_this_pcpu = pc;
    fv_ctx_init_thread(&pc->sched_ctx);
    struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = FV_SIG_TICK };
    sev._sigev_un._tid = pc->tid;
    pc->timer_ok = timer_create(CLOCK_MONOTONIC, &sev, &pc->timer) == 0;
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, FV_SIG_TICK);
    pthread_sigmask(SIG_UNBLOCK, &ss, NULL);
    open_counters(rl, pc);
    domtab_thread_online();
    pcpu_loop(rl, pc);
    domtab_thread_offline();
    counters_close(pc->ctr);
    pc->ctr = NULL;
    if (pc->timer_ok)
        timer_delete(pc->timer);
    real_this_pcpu = NULL;
    return NULL;
}

