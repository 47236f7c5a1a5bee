/* sim.c — the virtual-time engine (DESIGN §4).
 *
 * One event queue (evq) holds every timer: policy timers, each pCPU's slice
 * end and compute-done, each vCPU's one-shot timer, sampling and the end of
 * the run. The loop pops the earliest, advances virtual time to it, runs it,
 * then reschedules every pCPU that was tickled, lowest number first. Nothing
 * depends on the host (no wall clock, no addresses in orderings), so a seed
 * gives the same run on any machine.
 *
 * vCPUs are real user-level contexts (ctx.h) running workload code. Guest
 * code between two guest API calls takes no virtual time; a call that takes
 * time (compute, block, yield) switches back to the engine, which records
 * the request and resumes the context when the request is satisfied. A
 * compute span is cut by preemption at any virtual instant: what is left is
 * kept and resumed when the vCPU next runs.
 *
 * Locking: one thread; the scheduler lock is not needed.
 */
#include "engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctx.h"
#include "domtab.h"
#include "evq.h"
#include "guest_api.h"
#include "metrics.h"
#include "schedule.h"

enum sim_req { REQ_NONE, REQ_COMPUTE, REQ_BLOCK, REQ_YIELD };

struct sim;

struct sim_vcpu {
    struct guest_vcpu g;            /* first: guest_current points here */
    struct sim *sim;
    struct sched_unit *u;
    const struct scn_domain *sd;
    int dom_index;
    struct fv_ctx ctx;
    void *stack;
    size_t stack_size;
    enum sim_req req;               /* what the guest asked for when it left */
    fv_ns_t left;                   /* REQ_COMPUTE: CPU time still owed */
    bool pending;                   /* an event (timer) since the last block */
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
    struct engine_evtchn ev;
    bool done;
    bool oom;
    uint64_t events, schedules;
};

/* ---- core services for the policy ----------------------------------------- */

static fv_ns_t core_now(void *ctx) { return ((struct sim *)ctx)->now; }

static void core_tickle(void *ctx, int cpu) { cpumask_set(&((struct sim *)ctx)->tickled, cpu); }

static void core_timer_set(void *ctx, struct sched_timer *t, fv_ns_t when)
{
    struct sim *sim = ctx;
    if (sim->closing)
        return;
    if (when < sim->now)
        when = sim->now;            /* the past is now: fire next */
    if (evq_push(&sim->q, t, when))
        sim->oom = true;
}

static void core_timer_stop(void *ctx, struct sched_timer *t)
{
    struct sim *sim = ctx;
    if (!sim->closing)
        evq_cancel(&sim->q, t);
}

static const struct sched_core_ops sim_core_ops = {
    .now = core_now, .tickle = core_tickle,
    .timer_set = core_timer_set, .timer_stop = core_timer_stop,
};

static struct sim *sim_of(struct scheduler *s) { return s->core_ctx; }

/* ---- running guest code ------------------------------------------------------ */

static void enter_guest(struct sim *sim, struct sim_vcpu *v)
{
    v->req = REQ_NONE;
    guest_current = &v->g;
    fv_ctx_switch(&sim->engine_ctx, &v->ctx);
    guest_current = NULL;
}

static void leave_guest(struct sim_vcpu *v, enum sim_req req)
{
    v->req = req;
    fv_ctx_switch(&v->ctx, &v->sim->engine_ctx);
}

/* Run v on cpu from now until it needs time: arm its compute-done timer,
 * or hand a block/yield to the core (which tickles cpu). */
static void run_vcpu(struct sim *sim, int cpu, struct sim_vcpu *v)
{
    struct sim_pcpu *pc = &sim->pcpu[cpu];
    pc->start = sim->now;
    for (;;) {
        if (v->req == REQ_COMPUTE && v->left > 0) {
            core_timer_set(sim, &pc->done, sim->now + v->left);
            return;
        }
        enter_guest(sim, v);
        if (v->req == REQ_BLOCK) {
            sched_core_sleep(sim->s, v->u, sim->now);
            return;
        }
        if (v->req == REQ_YIELD) {
            sched_core_yield(sim->s, v->u, sim->now);
            return;
        }
    }
}

/* ---- scheduling ----------------------------------------------------------------- */

static void reschedule(struct sim *sim, int cpu)
{
    struct sim_pcpu *pc = &sim->pcpu[cpu];
    struct sched_unit *cur = sim->s->pcpus[cpu].curr;
    if (cur) {
        struct sim_vcpu *v = &sim->vcpu[cur->id];
        if (v->req == REQ_COMPUTE)
            v->left -= sim->now - pc->start;
        evq_cancel(&sim->q, &pc->done);
    }
    struct sched_unit *prev;
    struct sched_decision d = sched_core_schedule(sim->s, cpu, sim->now, &prev);
    sim->schedules++;
    if (prev != d.next) {
        if (prev)
            metrics_stop(&sim->m, prev->id, sim->now, prev->runnable);
        if (d.next)
            metrics_run(&sim->m, d.next->id, sim->now);
    }
    if (d.runtime >= 0)
        core_timer_set(sim, &pc->slice, sim->now + d.runtime);
    else
        evq_cancel(&sim->q, &pc->slice);
    if (d.next)
        run_vcpu(sim, cpu, &sim->vcpu[d.next->id]);
}

static void do_tickles(struct sim *sim)
{
    int cpu;
    while ((cpu = cpumask_next(&sim->tickled, 0)) >= 0) {
        cpumask_clear(&sim->tickled, cpu);
        reschedule(sim, cpu);
    }
}

/* ---- engine events ------------------------------------------------------------------ */

static void ev_slice(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    (void)now;
    core_tickle(sim_of(s), t->cpu);
}

static void ev_done(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    struct sim *sim = sim_of(s);
    struct sched_unit *cur = s->pcpus[t->cpu].curr;
    if (!cur)
        return;
    struct sim_vcpu *v = &sim->vcpu[cur->id];
    v->left = 0;
    (void)now;
    run_vcpu(sim, t->cpu, v);
}

static void ev_guest_timer(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    struct sim *sim = sim_of(s);
    struct sim_vcpu *v = t->data;
    v->pending = true;
    if (!v->u->runnable) {
        metrics_wake(&sim->m, v->u->id, now);
        sched_core_wake(s, v->u, now);
    }
}

/* An event reached (domid, vcpu): wake it if it blocked. */
static void sim_notify(void *ctx, int domid, int vcpu)
{
    struct sim *sim = ctx;
    struct sched_unit *u = engine_unit_of(sim->s, sim->scn, domid, vcpu);
    if (!u)
        return;
    struct sim_vcpu *v = &sim->vcpu[u->id];
    v->pending = true;
    if (!v->u->runnable) {
        metrics_wake(&sim->m, v->u->id, sim->now);
        sched_core_wake(sim->s, v->u, sim->now);
    }
}

static void ev_sample(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    struct sim *sim = sim_of(s);
    metrics_sample(&sim->m, now);
    core_timer_set(sim, t, now + sim->scn->sample);
}

/* The run covers [0, duration]: what is due at the very end (a compute span
 * completing, a timer) still happens, so the end goes behind it. */
static void ev_end(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    struct sim *sim = sim_of(s);
    struct sched_timer *next = evq_peek(&sim->q);
    if (next && next->expires == now) {
        core_timer_set(sim, t, now);
        return;
    }
    sim->done = true;
}

/* ---- the guest backend ----------------------------------------------------------------- */

static struct sim_vcpu *sv(struct guest_vcpu *g) { return (struct sim_vcpu *)g; }

static void gb_compute(struct guest_vcpu *g, fv_ns_t ns)
{
    sv(g)->left = ns;
    leave_guest(sv(g), REQ_COMPUTE);
}

static void gb_touch(struct guest_vcpu *g, fv_ns_t ns, uint64_t wss)
{
    (void)wss;                      /* no memory hierarchy in virtual time */
    gb_compute(g, ns);
}

/* In the sim engine a domain's only memory is its vCPUs' stacks. */
static int gb_console_write(struct guest_vcpu *g, const char *buf, uint64_t len)
{
    struct sim *sim = sv(g)->sim;
    const struct sched_domain *d = sv(g)->u->dom;
    for (int i = 0; i < d->nr_units; i++) {
        const struct sim_vcpu *v = &sim->vcpu[d->units[i]->id];
        if (engine_range_ok(buf, len, v->stack, v->stack_size)) {
            engine_console(sv(g)->sd->name, buf, len);
            return 0;
        }
    }
    return -EFAULT;
}

static void gb_block(struct guest_vcpu *g)
{
    struct sim_vcpu *v = sv(g);
    if (!v->pending && evtchn_pending_any(&v->sim->ev.tab, g->domid, g->vcpuid) != 1)
        leave_guest(v, REQ_BLOCK);
    v->pending = false;
}

static int gb_evtchn(struct guest_vcpu *g, enum guest_evtchn_op op, int a, int b)
{
    return engine_evtchn_op(&sv(g)->sim->ev, g->domid, op, a, b);
}

static void gb_yield(struct guest_vcpu *g) { leave_guest(sv(g), REQ_YIELD); }

static int gb_set_timer(struct guest_vcpu *g, fv_ns_t when)
{
    struct sim_vcpu *v = sv(g);
    if (when <= v->sim->now) {
        evq_cancel(&v->sim->q, &v->timer);
        v->pending = true;
        return 0;
    }
    return evq_push(&v->sim->q, &v->timer, when);
}

static fv_ns_t gb_now(struct guest_vcpu *g) { return sv(g)->sim->now; }

static void gb_work_units(struct guest_vcpu *g, uint64_t n)
{
    metrics_work(&sv(g)->sim->m, sv(g)->u->id, n);
}

static void gb_deadline_miss(struct guest_vcpu *g)
{
    sv(g)->sim->res[sv(g)->dom_index].deadline_misses++;
}

static void gb_latency_sample(struct guest_vcpu *g, fv_ns_t ns)
{
    hist_add(&sv(g)->sim->res[sv(g)->dom_index].app_latency, (uint64_t)ns);
}

static const struct guest_backend sim_backend = {
    .compute = gb_compute, .touch = gb_touch, .console_write = gb_console_write,
    .block = gb_block, .yield = gb_yield, .virtual_time = 1,
    .set_timer = gb_set_timer, .now = gb_now, .work_units = gb_work_units,
    .deadline_miss = gb_deadline_miss, .latency_sample = gb_latency_sample,
    .evtchn = gb_evtchn,
};

static void vcpu_main(void *arg)
{
    struct sim_vcpu *v = arg;
    v->sd->wl.desc->main(&v->sd->wl.args);
    for (;;)                        /* a workload that returns goes quiet */
        gb_block(&v->g);
}

/* ---- building and tearing down ---------------------------------------------------------- */

static int make_vcpus(struct sim *sim)
{
    struct scheduler *s = sim->s;
    size_t stack = fv_stack_default_size();
    sim->vcpu = calloc((size_t)s->nr_units, sizeof(*sim->vcpu));
    if (!sim->vcpu)
        return -ENOMEM;
    for (int d = 0; d < s->nr_doms; d++) {
        for (int i = 0; i < s->doms[d]->nr_units; i++) {
            struct sched_unit *u = s->doms[d]->units[i];
            struct sim_vcpu *v = &sim->vcpu[u->id];
            v->g = (struct guest_vcpu){ &sim_backend, engine_dom_seed(sim->scn->seed, s->doms[d]->id),
                                        s->doms[d]->id, i, NULL };
            v->sim = sim;
            v->u = u;
            v->sd = &sim->scn->domains[d];
            v->dom_index = d;
            v->stack_size = stack;
            v->stack = fv_stack_alloc(stack);
            if (!v->stack)
                return -ENOMEM;
            fv_ctx_make(&v->ctx, v->stack, stack, vcpu_main, v);
            sched_timer_init(&v->timer, ev_guest_timer, v, u->cpu);
        }
    }
    return 0;
}

static void sim_free(struct sim *sim)
{
    if (sim->vcpu && sim->s) {
        for (int i = 0; i < sim->s->nr_units; i++) {
            fv_ctx_destroy(&sim->vcpu[i].ctx);
            fv_stack_free(sim->vcpu[i].stack, sim->vcpu[i].stack_size);
        }
    }
    metrics_fini(&sim->m);
    engine_evtchn_fini(&sim->ev);
    domtab_thread_offline();
    /* Policies may arm or stop timers while they tear down; the queue is
     * going away, so the core services ignore them from here on. */
    sim->closing = true;
    sched_core_destroy(sim->s);
    evq_fini(&sim->q);
    free(sim->vcpu);
    free(sim->pcpu);
}

static int sim_setup(struct sim *sim, const struct scenario *scn, const struct engine_opts *o,
                     char *err, size_t errlen)
{
    sim->scn = scn;
    if (evq_init(&sim->q))
        return -ENOMEM;
    sim->pcpu = calloc((size_t)scn->pcpus, sizeof(*sim->pcpu));
    if (!sim->pcpu)
        return -ENOMEM;
    sim->s = sched_core_create(scn->policy, scn->pcpus, &scn->gp, &sim_core_ops, sim, err, errlen);
    if (!sim->s)
        return -EINVAL;
    int rc = engine_add_domains(sim->s, scn, err, errlen);
    if (rc)
        return rc;
    if ((rc = make_vcpus(sim)))
        return rc;
    domtab_thread_online();
    if ((rc = engine_evtchn_init(&sim->ev, scn, sim_notify, sim)))
        return rc;
    for (int c = 0; c < scn->pcpus; c++) {
        sched_timer_init(&sim->pcpu[c].slice, ev_slice, NULL, c);
        sched_timer_init(&sim->pcpu[c].done, ev_done, NULL, c);
    }
    sim->res = engine_results_new(scn);
    if (!sim->res)
        return -ENOMEM;
    struct timeline_sink sink = o ? o->sink : (struct timeline_sink){ 0 };
    return metrics_init(&sim->m, sim->s, sim->res, scn->starvation_threshold, sink, 0);
}

/* Boot every vCPU: runnable at time 0 (not counted as a wake-up). */
static void boot(struct sim *sim)
{
    sched_timer_init(&sim->end_timer, ev_end, NULL, 0);
    sched_timer_init(&sim->sample_timer, ev_sample, NULL, 0);
    core_timer_set(sim, &sim->end_timer, sim->scn->duration);
    core_timer_set(sim, &sim->sample_timer, sim->scn->sample);
    for (int i = 0; i < sim->s->nr_units; i++) {
        metrics_boot(&sim->m, i, 0);
        sched_core_wake(sim->s, sim->s->units[i], 0);
    }
    fv_ctx_init_thread(&sim->engine_ctx);
}

static void loop(struct sim *sim, volatile sig_atomic_t *stop)
{
    do_tickles(sim);
    while (!sim->done && !sim->oom) {
        if (stop && *stop)
            break;
        struct sched_timer *t = evq_pop(&sim->q);
        if (!t)
            break;
        sim->now = t->expires;
        sim->events++;
        t->fn(sim->s, t, sim->now);
        do_tickles(sim);
    }
}

int sim_run(const struct scenario *scn, const struct engine_opts *o,
            struct run_result *out, char *err, size_t errlen)
{
    struct sim sim;
    memset(&sim, 0, sizeof(sim));
    memset(out, 0, sizeof(*out));
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    int rc = sim_setup(&sim, scn, o, err, errlen);
    if (rc) {
        if (!err[0])
            snprintf(err, errlen, "cannot set up the run: %s", strerror(-rc));
        free(sim.res);
        sim_free(&sim);
        return rc;
    }
    boot(&sim);
    loop(&sim, o ? o->stop : NULL);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    metrics_finish(&sim.m, 0, sim.now);
    engine_collect_sched_misses(sim.s, sim.res);
    engine_dump(sim.s);

    *out = (struct run_result){
        .scn = scn, .policy = scn->policy->name, .engine = "sim", .seed = scn->seed,
        .duration_ns = sim.now, .pcpus = scn->pcpus, .complete = sim.done,
        .nr_doms = scn->nr_domains, .doms = sim.res,
        .starvation_threshold_ns = scn->starvation_threshold,
        .events = sim.events, .schedules = sim.schedules,
        .wall_s = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) * 1e-9,
    };
    run_result_finish(out);
    rc = sim.oom ? -ENOMEM : 0;
    if (rc)
        snprintf(err, errlen, "out of memory during the run");
    sim_free(&sim);
    return rc;
}
