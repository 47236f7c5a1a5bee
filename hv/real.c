/* real.c — the real engine (DESIGN §4): domains run for real on the host.
 *
 * Each pCPU is a host thread pinned to one host CPU, running the scheduler
 * loop on its own stack. vCPUs are user-level contexts (ctx.h) whose stacks
 * live at the top of their domain's memory, below a guard page. The same
 * sched/ policies decide, through the same core (schedule.c); times are
 * CLOCK_MONOTONIC nanoseconds since the start of the run.
 *
 * The guest side (entering and leaving guest context, the preemption
 * tick, the hypercalls) is in real_guest.c; real_priv.h holds the state.
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

#include "domtab.h"
#include "fault.h"
#include "schedule.h"

__thread struct real_pcpu *real_this_pcpu;

/* ---- kicks and timers (lock held) ---------------------------------------------- */

static void kick(struct real *rl, int cpu)
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

void real_timer_set_on(struct real *rl, struct sched_timer *t, int cpu, fv_ns_t when)
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
    real_timer_set_on(ctx, t, t->cpu, when);
}

static const struct sched_core_ops real_core_ops = {
    .now = core_now, .tickle = core_tickle,
    .timer_set = core_timer_set, .timer_stop = core_timer_stop,
};

/* ---- timer events (lock held) ---------------------------------------------------- */

void real_fire_guest_timer(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
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
    real_timer_set_on(rl, t, t->cpu, t->expires + rl->scn->sample);
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
    real_this_pcpu = pc;
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
    real_this_pcpu = NULL;
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
            fv_ctx_make(&v->ctx, slot + 4096, stack, real_vcpu_main, v);
            sched_timer_init(&v->timer, real_fire_guest_timer, v, u->cpu);
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
    return engine_switching_handler(FV_SIG_TICK, real_on_tick);
}

static void boot(struct real *rl)
{
    sched_timer_init(&rl->end_timer, ev_end, NULL, 0);
    sched_timer_init(&rl->sample_timer, ev_sample, NULL, 0);
    real_timer_set_on(rl, &rl->end_timer, 0, rl->scn->duration);
    real_timer_set_on(rl, &rl->sample_timer, 0, rl->scn->sample);
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
