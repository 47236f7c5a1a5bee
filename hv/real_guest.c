/* real_guest.c — the real engine's guest side: entering and leaving
 * guest context, the preemption tick, and the hypercalls (the guest
 * backend). The pCPU loop, timers and set-up are in real.c.
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
 * use vcpu_pcpu(v) and real_this_pcpu freely.
 *
 * Locking: see real.c. Guest code never runs with the scheduler lock held;
 * hypercalls take it with preemption off (in_guest clear).
 */
#include "real_priv.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "../workloads/guest.h"
#include "domtab.h"
#include "schedule.h"

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

void real_on_tick(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    struct real_pcpu *pc = real_this_pcpu;
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
    const struct host_dom *d = &v->rl->h.dom[v->dom_index];
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
    if (v->pending || evtchn_pending_any(&v->rl->h.ev.tab, g->domid, g->vcpuid) == 1) {
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

static int rb_set_timer(struct guest_vcpu *g, fv_ns_t when)
{
    struct real_vcpu *v = rv(g);
    struct real *rl = hc_enter(v);
    /* timer_set_on kicks this pCPU (need_resched), whose tick may be armed
     * later than the new timer: the loop re-arms it. */
    real_timer_set_on(rl, &v->timer, vcpu_pcpu(v)->cpu, when);
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

static void rb_errors(struct guest_vcpu *g, uint64_t n)
{
    struct real_vcpu *v = rv(g);
    struct real *rl = hc_enter(v);
    rl->res[v->dom_index].guest_errors += n;
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
    const struct host_dom *d = &v->rl->h.dom[v->dom_index];
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
    int rc = engine_evtchn_op(&v->rl->h.ev, g->domid, op, a, b);
    guest_arrived(v);
    return rc;
}

/* Devices: host.c takes its own locks (grant tables, netback) and may send
 * events, whose notify takes the scheduler lock: preemption off, no lock. */
static void *rb_io_area(struct guest_vcpu *g, uint64_t *size)
{
    struct real_vcpu *v = rv(g);
    atomic_store(&v->in_guest, 0);
    void *p = host_io_area(&v->rl->h, v->dom_index, size);
    guest_arrived(v);
    return p;
}

static int rb_grant(struct guest_vcpu *g, int domid, const void *page, int readonly)
{
    struct real_vcpu *v = rv(g);
    atomic_store(&v->in_guest, 0);
    int rc = host_grant(&v->rl->h, v->dom_index, domid, page, readonly);
    guest_arrived(v);
    return rc;
}

static int rb_grant_end(struct guest_vcpu *g, int ref)
{
    struct real_vcpu *v = rv(g);
    atomic_store(&v->in_guest, 0);
    int rc = host_grant_end(&v->rl->h, v->dom_index, ref);
    guest_arrived(v);
    return rc;
}

static int rb_net_addr(struct guest_vcpu *g, int domid, int vif, struct guest_net_addr *out)
{
    struct real_vcpu *v = rv(g);
    const struct host_dom *d = &v->rl->h.dom[v->dom_index];
    if (!engine_range_ok(out, sizeof(*out), d->mem, d->mem_size))
        return -EFAULT;
    atomic_store(&v->in_guest, 0);
    int rc = host_net_addr(&v->rl->h, domid, vif, out);
    guest_arrived(v);
    return rc;
}

static int rb_vif_count(struct guest_vcpu *g)
{
    return host_vif_count(&rv(g)->rl->h, rv(g)->dom_index);
}

static int rb_vif_connect(struct guest_vcpu *g, int vif, int tx_ref, int rx_ref, int port)
{
    struct real_vcpu *v = rv(g);
    atomic_store(&v->in_guest, 0);
    int rc = host_vif_connect(&v->rl->h, v->dom_index, vif, tx_ref, rx_ref, port);
    guest_arrived(v);
    return rc;
}

/* Charge-back after a pass: the deltas are read without the lock (the pass
 * is their only writer, and Domain-0's vCPU 0 its only caller), charged
 * under it, and only when the pass spent something on a guest: a
 * busy-polling backend's idle passes never touch the lock. */
static void charge_backend(struct real *rl)
{
    const struct host_charge *ch;
    int n = host_backend_deltas(&rl->h, &ch);
    if (!n)
        return;
    pthread_mutex_lock(&rl->lock);
    for (int i = 0; i < n; i++)
        if (!rl->ds || !rl->ds[ch[i].dom].dead)     /* gone from the policy: nothing to charge */
            sched_core_charge_domain(rl->s, rl->s->doms[ch[i].dom], ch[i].ns);
    pthread_mutex_unlock(&rl->lock);
}

/* Domain 0's backend pass runs here, with preemption off: DPDK calls keep
 * per-thread state (the lcore id) and must not move threads midway. */
static int rb_backend_poll(struct guest_vcpu *g, struct guest_backend_pass *out)
{
    struct real_vcpu *v = rv(g);
    const struct host_dom *d = &v->rl->h.dom[v->dom_index];
    if (!engine_range_ok(out, sizeof(*out), d->mem, d->mem_size))
        return -EFAULT;
    atomic_store(&v->in_guest, 0);
    /* The backends read their own clock in real time, and only around
     * real work: `now` (virtual time's) is 0 here, and next_due relative. */
    int rc = host_backend_poll(&v->rl->h, v->dom_index, 0, out);
    if (rc >= 0 && v->rl->scn->chargeback)
        charge_backend(v->rl);
    guest_arrived(v);
    return rc;
}

static int rb_vbd_count(struct guest_vcpu *g)
{
    return host_vbd_count(&rv(g)->rl->h, rv(g)->dom_index);
}

static int rb_vbd_info(struct guest_vcpu *g, int vbd, uint64_t *sectors)
{
    struct real_vcpu *v = rv(g);
    const struct host_dom *d = &v->rl->h.dom[v->dom_index];
    if (!engine_range_ok(sectors, sizeof(*sectors), d->mem, d->mem_size))
        return -EFAULT;
    return host_vbd_info(&v->rl->h, v->dom_index, vbd, sectors);
}

static int rb_vbd_connect(struct guest_vcpu *g, int vbd, int ring_ref, int port)
{
    struct real_vcpu *v = rv(g);
    atomic_store(&v->in_guest, 0);
    int rc = host_vbd_connect(&v->rl->h, v->dom_index, vbd, ring_ref, port);
    guest_arrived(v);
    return rc;
}

/* An event reached (domid, vcpu): wake it if it blocked. Any thread. */
void real_notify(void *ctx, int domid, int vcpu)
{
    struct real *rl = ctx;
    /* Under the lock: a live host adds domains (and grows the scheduler's
     * arrays) under it. */
    pthread_mutex_lock(&rl->lock);
    struct sched_unit *u = engine_unit_of(rl->s, rl->scn, domid, vcpu);
    if (!u) {
        pthread_mutex_unlock(&rl->lock);
        return;
    }
    struct real_vcpu *v = &rl->vcpu[u->id];
    v->pending = true;
    if (!v->u->runnable && real_dom_wakeable(rl, v->dom_index)) {
        fv_ns_t now = real_now(rl);
        metrics_wake(&rl->m, v->u->id, now);
        sched_core_wake(rl->s, v->u, now);
    }
    pthread_mutex_unlock(&rl->lock);
}

const struct guest_backend real_backend = {
    .compute = rb_compute, .touch = rb_touch, .console_write = rb_console_write,
    .block = rb_block, .yield = rb_yield, .set_timer = rb_set_timer, .now = rb_now,
    .work_units = rb_work_units, .deadline_miss = rb_deadline_miss, .errors = rb_errors,
    .latency_sample = rb_latency_sample, .evtchn = rb_evtchn, .virtual_time = 0,
    .io_area = rb_io_area, .grant = rb_grant, .grant_end = rb_grant_end, .net_addr = rb_net_addr,
    .vif_count = rb_vif_count, .vif_connect = rb_vif_connect, .backend_poll = rb_backend_poll,
    .vbd_count = rb_vbd_count, .vbd_info = rb_vbd_info, .vbd_connect = rb_vbd_connect,
};

void real_vcpu_main(void *arg)
{
    struct real_vcpu *v = arg;
    guest_arrived(v);
    v->sd->wl.desc->main(&v->sd->wl.args);
    for (;;)
        rb_block(&v->g);
}
