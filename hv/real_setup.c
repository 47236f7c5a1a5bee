/* real_setup.c — the real engine's run from end to end: building it (the
 * host first, then time 0, the scheduler, vCPUs on their domains' stacks,
 * results and metrics), starting the pCPU threads, waiting for the end or
 * a stop request, collecting the figures, tearing down. Each set-up step
 * names itself when it fails. Locking: see real.c.
 */
#include "real_priv.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "domtab.h"
#include "fault.h"
#include "schedule.h"

/* ---- building ------------------------------------------------------------------------ */

/* Memory, event channels, grant tables and devices: the host (host.c). */
static int make_host(struct real *rl, char *err, size_t errlen)
{
    struct host_conf c = {
        .notify = real_notify, .ctx = rl, .virtual_time = false, .map_all = true,
        .stack_slot = fv_stack_default_size() + 4096, .cap_doms = rl->cap_doms,
    };
    int rc = host_build(&rl->h, rl->scn, &c, err, errlen);
    rl->host_built = true;
    return rc;
}

/* Domain d's vCPUs (registered with the scheduler): each stack is the
 * i-th slot from the top of its domain's memory, a guard page then the
 * stack. */
int real_vcpus_init(struct real *rl, int d)
{
    struct scheduler *s = rl->s;
    size_t stack = fv_stack_default_size();
    const struct host_dom *rd = &rl->h.dom[d];
    for (int i = 0; i < s->doms[d]->nr_units; i++) {
        struct sched_unit *u = s->doms[d]->units[i];
        struct real_vcpu *v = &rl->vcpu[u->id];
        char *slot = rd->stacks + (uint64_t)i * (stack + 4096);
        int rc = fv_fault("stack") ? -ENOMEM : fv_guard_page(slot, NULL);
        if (rc)
            return rc;
        memset(v, 0, sizeof(*v));
        v->g = (struct guest_vcpu){ &real_backend, engine_dom_seed(rl->scn->seed, s->doms[d]->id),
                                    s->doms[d]->id, i, (const struct fv_shared_info *)rd->mem };
        v->rl = rl;
        v->u = u;
        v->sd = &rl->scn->domains[d];
        v->dom_index = d;
        atomic_init(&v->pcpu, &rl->pcpu[u->cpu]);
        fv_ctx_make(&v->ctx, slot + 4096, stack, real_vcpu_main, v);
        sched_timer_init(&v->timer, real_fire_guest_timer, v, u->cpu);
        v->made = true;
    }
    return 0;
}

static int make_vcpus(struct real *rl)
{
    struct scheduler *s = rl->s;
    int cap = rl->cap_units > s->nr_units ? rl->cap_units : s->nr_units;
    rl->vcpu = fv_fault("vcpus") ? NULL : calloc(cap ? (size_t)cap : 1, sizeof(*rl->vcpu));
    if (!rl->vcpu)
        return -ENOMEM;
    for (int d = 0; d < s->nr_doms; d++) {
        int rc = real_vcpus_init(rl, d);
        if (rc)
            return rc;
    }
    return 0;
}

/* monitor.counters: the names each pCPU thread will count (a host without
 * a PMU gets the software fallback, said once here). */
static int setup_counters(struct real *rl, char *err, size_t errlen)
{
    const struct scenario *scn = rl->scn;
    if (!scn->nr_counters)
        return 0;
    _Static_assert(RUN_MAX_COUNTERS == FV_MAX_COUNTERS, "run.h holds what counters.h counts");
    _Static_assert(RUN_COUNTER_NAME_MAX == FV_COUNTER_NAME_MAX, "and their names");
    const char *names[FV_MAX_COUNTERS];
    for (int i = 0; i < scn->nr_counters; i++)
        names[i] = scn->counters[i];
    char why[256] = "";
    int n = counters_names(names, scn->nr_counters, rl->counter_names, why, sizeof(why));
    if (n < 0) {
        snprintf(err, errlen, "%s: monitor.counters: %s", scn->file, why);
        return n;
    }
    rl->nr_counters = n;
    return 0;
}

/* The starvation detector's clock, for its checks after backend passes. */
static fv_ns_t starve_clock(void *ctx) { return real_now(ctx); }

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
    /* The host first: opening a DPDK port starts DPDK's EAL, which takes
     * a good part of a second that must not count as run time. */
    int rc = make_host(rl, err, errlen);
    if (rc)
        return rc;
    /* Time 0 of the run: policies read the clock as soon as they exist. */
    clock_gettime(CLOCK_MONOTONIC, &rl->t0);
    host_set_time_base(&rl->h, (int64_t)rl->t0.tv_sec * 1000000000LL + rl->t0.tv_nsec);
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
        sched_timer_init(&pc->slice, real_ev_slice, NULL, c);
        if (fv_fault("evq") || evq_init(&pc->timers)) {
            pthread_condattr_destroy(&ca);
            return engine_setup_error(err, errlen, "timer queues", -ENOMEM);
        }
    }
    pthread_condattr_destroy(&ca);
    if ((rc = engine_sched_build(&rl->s, scn, &real_core_ops, rl, err, errlen)))
        return rc;
    if ((rc = make_vcpus(rl)))
        return engine_setup_error(err, errlen, rc == -ENOMEM ? "vCPU stacks and their guard pages "
                                  "(each guard page may cost a mapping: see vm.max_map_count)"
                                  : "vCPU stacks", rc);
    rl->res = engine_results_new_cap(scn, rl->cap_doms);
    rl->ds = calloc(rl->cap_doms > scn->nr_domains ? (size_t)rl->cap_doms : (size_t)scn->nr_domains + 1,
                    sizeof(*rl->ds));
    if (!rl->res || !rl->ds)
        return engine_setup_error(err, errlen, "per-domain results", -ENOMEM);
    struct timeline_sink sink = o ? o->sink : (struct timeline_sink){ 0 };
    rc = fv_fault("metrics") ? -ENOMEM
                             : metrics_init_cap(&rl->m, rl->s, rl->res, scn->starvation_threshold, sink,
                                                0, rl->cap_doms, rl->cap_units);
    if (rc)
        return engine_setup_error(err, errlen, "metrics", rc);
    metrics_set_net_source(&rl->m, host_net_source, &rl->h);
    metrics_set_blk_source(&rl->m, host_blk_source, &rl->h);
    metrics_set_io_source(&rl->m, host_starve_source, &rl->h, starve_clock, rl);
    rl->h.starve = rl->m.starve;
    if (rl->starve_hook)
        starve_set_event_hook(rl->m.starve, rl->starve_hook, rl->starve_hook_ctx);
    return setup_counters(rl, err, errlen);
}

void real_free(struct real *rl)
{
    metrics_fini(&rl->m);
    if (rl->vcpu && rl->s)
        for (int i = 0; i < rl->s->nr_units; i++)
            if (rl->vcpu[i].made)
                fv_ctx_destroy(&rl->vcpu[i].ctx);
    /* Policies may arm or stop timers while they tear down; the heaps are
     * going away, so the core services ignore them from here on. */
    rl->closing = true;
    sched_core_destroy(rl->s);
    for (int c = 0; rl->pcpu && c < rl->nr_pcpus; c++) {
        evq_fini(&rl->pcpu[c].timers);
        pthread_cond_destroy(&rl->pcpu[c].cond);
    }
    if (rl->host_built)                 /* last: the vCPU stacks live in domain memory */
        host_destroy(&rl->h);
    free(rl->vcpu);
    free(rl->pcpu);
    free(rl->ds);
    pthread_mutex_destroy(&rl->lock);
}

static int install_tick_handler(void)
{
    return engine_switching_handler(FV_SIG_TICK, real_on_tick);
}

static void boot(struct real *rl)
{
    sched_timer_init(&rl->end_timer, real_ev_end, NULL, 0);
    sched_timer_init(&rl->sample_timer, real_ev_sample, NULL, 0);
    if (!rl->live)                      /* a live host runs until stopped */
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
        /* Atomic: besides a signal handler, a live host's API threads set it. */
        if (!rl->done && stop && __atomic_load_n(stop, __ATOMIC_SEQ_CST)) {
            rl->done = true;
            rl->end_time = real_now(rl);
        }
        bool done = rl->done || rl->oom;
        if (done)                       /* every pCPU must see it, idle or not */
            for (int c = 0; c < rl->nr_pcpus; c++)
                real_kick(rl, c);
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
                                           : pthread_create(&rl->pcpu[c].thread, NULL, real_pcpu_thread,
                                                            &rl->pcpu[c]);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        engine_setup_error(err, errlen, "starting pCPU threads", -rc);
    return -rc;
}

/* Guest memory domain d touched: its resident pages (mincore). */
void real_measure_memory(struct real *rl, int d)
{
    long pg = sysconf(_SC_PAGESIZE);
    const struct host_dom *rd = &rl->h.dom[d];
    if (!rd->guest)
        return;                         /* destroyed: measured then */
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

static void halt(struct real *rl)
{
    pthread_mutex_lock(&rl->lock);
    rl->done = true;
    for (int c = 0; c < rl->nr_pcpus; c++)
        real_kick(rl, c);
    pthread_mutex_unlock(&rl->lock);
}

int real_open(struct real *rl, const struct scenario *scn, const struct engine_opts *o,
              char *err, size_t errlen)
{
    int rc = install_tick_handler();
    if (!rc)
        rc = real_setup(rl, scn, o, err, errlen);
    if (rc) {
        if (!err[0])
            engine_setup_error(err, errlen, NULL, rc);
        free(rl->res);
        real_free(rl);
        return rc;
    }
    pthread_mutex_lock(&rl->lock);
    boot(rl);
    pthread_mutex_unlock(&rl->lock);
    clock_gettime(CLOCK_MONOTONIC, &rl->w0);
    rc = start_pcpus(rl, err, errlen);
    if (rc) {                           /* nothing ran that could be reported */
        halt(rl);
        for (int c = 0; c < rl->nr_pcpus; c++)
            if (rl->pcpu[c].thread)
                pthread_join(rl->pcpu[c].thread, NULL);
        free(rl->res);
        real_free(rl);
    }
    return rc;
}

void real_wait(struct real *rl, volatile sig_atomic_t *stop)
{
    wait_end(rl, stop);
}

void real_close(struct real *rl, bool stopped, struct run_result *out)
{
    halt(rl);
    for (int c = 0; c < rl->nr_pcpus; c++)
        if (rl->pcpu[c].thread)
            pthread_join(rl->pcpu[c].thread, NULL);
    struct timespec w1;
    clock_gettime(CLOCK_MONOTONIC, &w1);
    for (int d = 0; rl->h.dom && d < rl->scn->nr_domains; d++)
        real_measure_memory(rl, d);
    const struct scenario *scn = rl->scn;
    fv_ns_t end = rl->end_time ? rl->end_time : real_now(rl);
    for (int c = 0; c < rl->nr_pcpus; c++) {
        struct sched_unit *u = sched_curr(rl->s, c);
        if (u)
            metrics_stop(&rl->m, u->id, end, u->runnable);
    }
    metrics_finish(&rl->m, 0, end);
    engine_collect_sched(rl->s, rl->res);
    host_collect(&rl->h, rl->res);
    engine_dump(rl->s);
    bool complete = rl->live ? !rl->oom : !rl->oom && end >= scn->duration && !stopped;
    *out = (struct run_result){
        .scn = scn, .policy = scn->policy->name, .engine = "real", .seed = scn->seed,
        .duration_ns = end, .pcpus = scn->pcpus, .complete = complete,
        .nr_doms = scn->nr_domains, .doms = rl->res,
        .starvation_threshold_ns = scn->starvation_threshold,
        .chargeback = scn->chargeback,
        .events = rl->events, .schedules = rl->schedules,
        .wall_s = (double)(w1.tv_sec - rl->w0.tv_sec) + (double)(w1.tv_nsec - rl->w0.tv_nsec) * 1e-9,
    };
    out->nr_counters = rl->nr_counters;
    memcpy(out->counter_names, rl->counter_names, sizeof(out->counter_names));
    metrics_take_starvation(&rl->m, out);
    run_result_finish(out);
    real_free(rl);
}

int real_run(const struct scenario *scn, const struct engine_opts *o,
             struct run_result *out, char *err, size_t errlen)
{
    struct real rl;
    memset(&rl, 0, sizeof(rl));
    memset(out, 0, sizeof(*out));
    int rc = real_open(&rl, scn, o, err, errlen);
    if (rc)
        return rc;
    volatile sig_atomic_t *stop = o ? o->stop : NULL;
    real_wait(&rl, stop);
    real_close(&rl, stop && *stop, out);
    return 0;
}
