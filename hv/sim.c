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
 * Guests are not trusted to let time pass: every guest API call is a
 * hypercall (sim_hc_enter/sim_hc_exit, sim_priv.h), and a guest that would
 * stop virtual time is crashed (sim_hostile.c).
 *
 * Locking: one thread; the scheduler lock is not needed.
 */
#include "sim_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../workloads/guest.h"
#include "ctx.h"
#include "domtab.h"
#include "evq.h"
#include "fault.h"
#include "guest_api.h"
#include "metrics.h"
#include "schedule.h"

/* Where sim->stop points when the caller gave no stop flag. */
static volatile sig_atomic_t never_stop;

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
    /* Virtual time cannot move while v runs: count its calls per instant
     * here rather than in every hypercall. */
    if (v->calls_at != sim->now) {
        v->calls_at = sim->now;
        v->calls = 0;
    }
    sim->entry++;
    atomic_signal_fence(memory_order_seq_cst);
    fv_ctx_switch(&sim->engine_ctx, &v->ctx);
    atomic_signal_fence(memory_order_seq_cst);
    sim->in_guest = NULL;
    guest_current = NULL;
}



/* Run v on cpu from now until it needs time: arm its compute-done timer,
 * or hand a block/yield to the core (which tickles cpu). */
static void run_vcpu(struct sim *sim, int cpu, struct sim_vcpu *v)
{
    struct sim_pcpu *pc = &sim->pcpu[cpu];
    pc->start = sim->now;
    for (;;) {
        if (v->dead || sim->stopped)
            return;
        if (v->req == REQ_COMPUTE && v->left > 0) {
            core_timer_set(sim, &pc->done, sim->now + v->left);
            return;
        }
        enter_guest(sim, v);
        sim_watchdog_after_switch(sim);
        if (v->req == REQ_CRASH) {
            sim_crash_domain(sim, v);
            return;
        }
        if (v->req == REQ_STOP) {
            sim->stopped = true;
            return;
        }
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
    while (!sim->stopped && (cpu = cpumask_next(&sim->tickled, 0)) >= 0) {
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
    if (!v->dead)
        run_vcpu(sim, t->cpu, v);
}

/* An event for v (its timer, an event channel): pending, and woken if it
 * blocked; a vCPU of a crashed domain takes no more events. */
static void guest_event(struct sim *sim, struct sim_vcpu *v)
{
    if (v->dead)
        return;
    v->pending = true;
    if (!v->u->runnable) {
        metrics_wake(&sim->m, v->u->id, sim->now);
        sched_core_wake(sim->s, v->u, sim->now);
    }
}

static void ev_guest_timer(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    (void)now;                      /* sim->now */
    guest_event(sim_of(s), t->data);
}

/* An event reached (domid, vcpu). */
static void sim_notify(void *ctx, int domid, int vcpu)
{
    struct sim *sim = ctx;
    struct sched_unit *u = engine_unit_of(sim->s, sim->scn, domid, vcpu);
    if (u)
        guest_event(sim, &sim->vcpu[u->id]);
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
    sim_hc_enter(sv(g));
    sv(g)->left = ns;
    sim_leave_guest(sv(g), REQ_COMPUTE);
    sim_hc_exit(sv(g));
}

static void gb_touch(struct guest_vcpu *g, fv_ns_t ns, uint64_t wss)
{
    (void)wss;                      /* no memory hierarchy in virtual time */
    gb_compute(g, ns);
}

/* In the sim engine a domain's memory is its vCPUs' stacks, and its
 * driver area when it has devices. */
static bool guest_buf_ok(const struct sim_vcpu *v, const void *buf, uint64_t len)
{
    const struct sim *sim = v->sim;
    const struct host_dom *hd = &sim->h.dom[v->dom_index];
    if (hd->mem && engine_range_ok(buf, len, hd->mem, hd->mem_size))
        return true;
    const struct sched_domain *d = v->u->dom;
    for (int i = 0; i < d->nr_units; i++) {
        const struct sim_vcpu *w = &sim->vcpu[d->units[i]->id];
        if (engine_range_ok(buf, len, w->ctx.stack_lo, w->ctx.stack_size))
            return true;
    }
    return false;
}

static int gb_console_write(struct guest_vcpu *g, const char *buf, uint64_t len)
{
    struct sim_vcpu *v = sv(g);
    sim_hc_enter(v);
    int rc = guest_buf_ok(v, buf, len) ? 0 : -EFAULT;
    if (!rc)
        engine_console(v->sd->name, buf, len);
    sim_hc_exit(v);
    return rc;
}

static void gb_block(struct guest_vcpu *g)
{
    struct sim_vcpu *v = sv(g);
    sim_hc_enter(v);
    if (!v->pending && evtchn_pending_any(&v->sim->h.ev.tab, g->domid, g->vcpuid) != 1)
        sim_leave_guest(v, REQ_BLOCK);
    v->pending = false;
    sim_hc_exit(v);
}

static int gb_evtchn(struct guest_vcpu *g, enum guest_evtchn_op op, int a, int b)
{
    sim_hc_enter(sv(g));
    int rc = engine_evtchn_op(&sv(g)->sim->h.ev, g->domid, op, a, b);
    sim_hc_exit(sv(g));
    return rc;
}

static void gb_yield(struct guest_vcpu *g)
{
    sim_hc_enter(sv(g));
    sim_leave_guest(sv(g), REQ_YIELD);
    sim_hc_exit(sv(g));
}

static int gb_set_timer(struct guest_vcpu *g, fv_ns_t when)
{
    struct sim_vcpu *v = sv(g);
    sim_hc_enter(v);
    int rc = 0;
    if (when <= v->sim->now) {
        evq_cancel(&v->sim->q, &v->timer);
        v->pending = true;
    } else {
        rc = evq_push(&v->sim->q, &v->timer, when);
    }
    sim_hc_exit(v);
    return rc;
}

static fv_ns_t gb_now(struct guest_vcpu *g)
{
    sim_hc_enter(sv(g));
    fv_ns_t now = sv(g)->sim->now;
    sim_hc_exit(sv(g));
    return now;
}

static void gb_work_units(struct guest_vcpu *g, uint64_t n)
{
    sim_hc_enter(sv(g));
    metrics_work(&sv(g)->sim->m, sv(g)->u->id, n);
    sim_hc_exit(sv(g));
}

static void gb_deadline_miss(struct guest_vcpu *g)
{
    sim_hc_enter(sv(g));
    sv(g)->sim->res[sv(g)->dom_index].deadline_misses++;
    sim_hc_exit(sv(g));
}

static void gb_errors(struct guest_vcpu *g, uint64_t n)
{
    sim_hc_enter(sv(g));
    sv(g)->sim->res[sv(g)->dom_index].guest_errors += n;
    sim_hc_exit(sv(g));
}

static void gb_latency_sample(struct guest_vcpu *g, fv_ns_t ns)
{
    sim_hc_enter(sv(g));
    hist_add(&sv(g)->sim->res[sv(g)->dom_index].app_latency, (uint64_t)ns);
    sim_hc_exit(sv(g));
}

/* ---- devices (host.c) ---- */

static void *gb_io_area(struct guest_vcpu *g, uint64_t *size)
{
    sim_hc_enter(sv(g));
    void *p = host_io_area(&sv(g)->sim->h, sv(g)->dom_index, size);
    sim_hc_exit(sv(g));
    return p;
}

static int gb_grant(struct guest_vcpu *g, int domid, const void *page, int readonly)
{
    sim_hc_enter(sv(g));
    int rc = host_grant(&sv(g)->sim->h, sv(g)->dom_index, domid, page, readonly);
    sim_hc_exit(sv(g));
    return rc;
}

static int gb_grant_end(struct guest_vcpu *g, int ref)
{
    sim_hc_enter(sv(g));
    int rc = host_grant_end(&sv(g)->sim->h, sv(g)->dom_index, ref);
    sim_hc_exit(sv(g));
    return rc;
}

static int gb_net_addr(struct guest_vcpu *g, int domid, int vif, struct guest_net_addr *out)
{
    struct sim_vcpu *v = sv(g);
    sim_hc_enter(v);
    int rc = guest_buf_ok(v, out, sizeof(*out)) ? host_net_addr(&v->sim->h, domid, vif, out)
                                                : -EFAULT;
    sim_hc_exit(v);
    return rc;
}

static int gb_vif_count(struct guest_vcpu *g)
{
    sim_hc_enter(sv(g));
    int n = host_vif_count(&sv(g)->sim->h, sv(g)->dom_index);
    sim_hc_exit(sv(g));
    return n;
}

static int gb_vif_connect(struct guest_vcpu *g, int vif, int tx_ref, int rx_ref, int port)
{
    sim_hc_enter(sv(g));
    int rc = host_vif_connect(&sv(g)->sim->h, sv(g)->dom_index, vif, tx_ref, rx_ref, port);
    sim_hc_exit(sv(g));
    return rc;
}

/* Charge-back: what the pass spent on each guest, charged to it now. */
static void charge_backend(struct sim *sim)
{
    const struct host_charge *ch;
    int n = host_backend_deltas(&sim->h, &ch);
    for (int i = 0; i < n; i++)
        sched_core_charge_domain(sim->s, sim->s->doms[ch[i].dom], ch[i].ns);
}

static int gb_backend_poll(struct guest_vcpu *g, struct guest_backend_pass *out)
{
    struct sim_vcpu *v = sv(g);
    sim_hc_enter(v);
    int rc = guest_buf_ok(v, out, sizeof(*out))
                 ? host_backend_poll(&v->sim->h, v->dom_index, v->sim->now, out) : -EFAULT;
    if (rc >= 0 && v->sim->scn->chargeback)
        charge_backend(v->sim);
    sim_hc_exit(v);
    return rc;
}

static int gb_vbd_count(struct guest_vcpu *g)
{
    sim_hc_enter(sv(g));
    int n = host_vbd_count(&sv(g)->sim->h, sv(g)->dom_index);
    sim_hc_exit(sv(g));
    return n;
}

static int gb_vbd_info(struct guest_vcpu *g, int vbd, uint64_t *sectors)
{
    struct sim_vcpu *v = sv(g);
    sim_hc_enter(v);
    int rc = guest_buf_ok(v, sectors, sizeof(*sectors))
                 ? host_vbd_info(&v->sim->h, v->dom_index, vbd, sectors) : -EFAULT;
    sim_hc_exit(v);
    return rc;
}

static int gb_vbd_connect(struct guest_vcpu *g, int vbd, int ring_ref, int port)
{
    sim_hc_enter(sv(g));
    int rc = host_vbd_connect(&sv(g)->sim->h, sv(g)->dom_index, vbd, ring_ref, port);
    sim_hc_exit(sv(g));
    return rc;
}

static const struct guest_backend sim_backend = {
    .compute = gb_compute, .touch = gb_touch, .console_write = gb_console_write,
    .block = gb_block, .yield = gb_yield, .virtual_time = 1,
    .set_timer = gb_set_timer, .now = gb_now, .work_units = gb_work_units,
    .deadline_miss = gb_deadline_miss, .latency_sample = gb_latency_sample, .errors = gb_errors,
    .evtchn = gb_evtchn, .io_area = gb_io_area, .grant = gb_grant, .grant_end = gb_grant_end,
    .net_addr = gb_net_addr, .vif_count = gb_vif_count, .vif_connect = gb_vif_connect,
    .backend_poll = gb_backend_poll, .vbd_count = gb_vbd_count, .vbd_info = gb_vbd_info,
    .vbd_connect = gb_vbd_connect,
};

static void vcpu_main(void *arg)
{
    struct sim_vcpu *v = arg;
    sim_guest_code(v);
    v->sd->wl.desc->main(&v->sd->wl.args);
    for (;;)                        /* a workload that returns goes quiet */
        gb_block(&v->g);
}

/* ---- building and tearing down ---------------------------------------------------------- */

static int make_vcpus(struct sim *sim)
{
    struct scheduler *s = sim->s;
    sim->vcpu = fv_fault("vcpus") ? NULL : calloc((size_t)s->nr_units, sizeof(*sim->vcpu));
    if (!sim->vcpu)
        return -ENOMEM;
    /* One mapping for every stack: two per vCPU (stack and guard) would
     * run into vm.max_map_count long before Xen's 32,751 domains. */
    int rc = fv_stack_arena_init(&sim->stacks, s->nr_units, fv_stack_default_size());
    if (rc)
        return rc;
    if (sim->stacks.unguarded)
        fprintf(stderr, "fairvisor: note: %d of %d vCPU stacks have no guard page (this kernel "
                "has no MADV_GUARD_INSTALL, and vm.max_map_count leaves no room for more "
                "mprotect guards)\n", sim->stacks.unguarded, s->nr_units);
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
            fv_ctx_make(&v->ctx, fv_stack_arena_get(&sim->stacks, u->id), sim->stacks.size,
                        vcpu_main, v);
            sched_timer_init(&v->timer, ev_guest_timer, v, u->cpu);
        }
    }
    return 0;
}

static void sim_free(struct sim *sim)
{
    sim_watchdog_stop(sim);
    if (sim->vcpu && sim->s)
        for (int i = 0; i < sim->s->nr_units; i++)
            fv_ctx_destroy(&sim->vcpu[i].ctx);
    fv_stack_arena_fini(&sim->stacks);
    metrics_fini(&sim->m);
    if (sim->host_built)
        host_destroy(&sim->h);
    if (sim->online)
        domtab_thread_offline();
    sim->online = false;
    /* Policies may arm or stop timers while they tear down; the queue is
     * going away, so the core services ignore them from here on. */
    sim->closing = true;
    sched_core_destroy(sim->s);
    evq_fini(&sim->q);
    free(sim->vcpu);
    free(sim->pcpu);
}

/* Each step names itself in the message when it fails. */
static int sim_setup(struct sim *sim, const struct scenario *scn, const struct engine_opts *o,
                     char *err, size_t errlen)
{
    sim->scn = scn;
    sim->stop = o && o->stop ? o->stop : &never_stop;
    int rc;
    if (fv_fault("evq") || evq_init(&sim->q))
        return engine_setup_error(err, errlen, "the event queue", -ENOMEM);
    sim->pcpu = calloc((size_t)scn->pcpus, sizeof(*sim->pcpu));
    if (!sim->pcpu)
        return engine_setup_error(err, errlen, "pCPUs", -ENOMEM);
    if ((rc = engine_sched_build(&sim->s, scn, &sim_core_ops, sim, err, errlen)))
        return rc;
    if ((rc = make_vcpus(sim)))
        return engine_setup_error(err, errlen, "vCPUs and their stacks", rc);
    domtab_thread_online();
    sim->online = true;
    struct host_conf hc = { .notify = sim_notify, .ctx = sim, .virtual_time = true };
    sim->host_built = true;
    if ((rc = host_build(&sim->h, scn, &hc, err, errlen)))
        return rc;
    for (int c = 0; c < scn->pcpus; c++) {
        sched_timer_init(&sim->pcpu[c].slice, ev_slice, NULL, c);
        sched_timer_init(&sim->pcpu[c].done, ev_done, NULL, c);
    }
    sim->res = engine_results_new(scn);
    if (!sim->res)
        return engine_setup_error(err, errlen, "per-domain results", -ENOMEM);
    struct timeline_sink sink = o ? o->sink : (struct timeline_sink){ 0 };
    rc = fv_fault("metrics") ? -ENOMEM
                             : metrics_init(&sim->m, sim->s, sim->res, scn->starvation_threshold, sink, 0);
    if (rc)
        return engine_setup_error(err, errlen, "metrics", rc);
    metrics_set_net_source(&sim->m, host_net_source, &sim->h);
    metrics_set_blk_source(&sim->m, host_blk_source, &sim->h);
    metrics_set_io_source(&sim->m, host_starve_source, &sim->h, core_now, sim);
    sim->h.starve = sim->m.starve;
    if ((rc = sim_watchdog_start(sim)))
        return engine_setup_error(err, errlen, "the hostile-guest watchdog timer", rc);
    return 0;
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

static void loop(struct sim *sim)
{
    do_tickles(sim);
    while (!sim->done && !sim->oom && !sim->stopped) {
        if (*sim->stop)
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
            engine_setup_error(err, errlen, NULL, rc);
        free(sim.res);
        sim_free(&sim);
        return rc;
    }
    boot(&sim);
    loop(&sim);
    sim_watchdog_stop(&sim);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    metrics_finish(&sim.m, 0, sim.now);
    engine_collect_sched(sim.s, sim.res);
    host_collect(&sim.h, sim.res);
    engine_dump(sim.s);

    *out = (struct run_result){
        .scn = scn, .policy = scn->policy->name, .engine = "sim", .seed = scn->seed,
        .duration_ns = sim.now, .pcpus = scn->pcpus, .complete = sim.done,
        .nr_doms = scn->nr_domains, .doms = sim.res,
        .starvation_threshold_ns = scn->starvation_threshold,
        .chargeback = scn->chargeback,
        .events = sim.events, .schedules = sim.schedules,
        .wall_s = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) * 1e-9,
    };
    metrics_take_starvation(&sim.m, out);
    run_result_finish(out);
    rc = sim.oom ? -ENOMEM : 0;
    if (rc)
        snprintf(err, errlen, "out of memory during the run");
    sim_free(&sim);
    return rc;
}
