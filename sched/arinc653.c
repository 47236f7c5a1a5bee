/* arinc653.c — the ARINC 653 policy: a fixed, cyclic major frame of
 * (domain, length) windows, after Xen's xen/common/sched/arinc653.c
 * (DornerWorks).
 *
 * The frame (global `frame`, or the sum of the windows when 0) starts at
 * time 0 and repeats forever. Windows follow one another from the start of
 * the frame in the order given; the time between the end of the last window
 * and the end of the frame is idle. During a window only its domain runs:
 * vCPU k of that domain on pCPU k (if its hard affinity allows pCPU k). A
 * blocked vCPU leaves its pCPU idle until the window ends — windows are
 * never lent. do_schedule returns the time to the next window boundary as
 * the runtime, so every pCPU reschedules exactly at each boundary and no
 * policy timer is needed.
 *
 * Charge-back: nothing to charge (no charge hook; `charged_ns` stays 0):
 * windows are fixed in the frame and never lent, so nothing a domain gets
 * depends on what it used.
 *
 * Locking: the core calls every hook with the scheduler lock held (no lock
 * in the single-threaded sim engine); the window table is only read or
 * replaced under it. Nothing here blocks or calls into the core except
 * now and tickle.
 *
 * Deliberate deviations from Xen:
 *  - Xen's schedule entries name one (domain, vCPU) each and its pool is
 *    effectively one pCPU (a unit never migrates; others idle). Here a
 *    window names a domain and runs all its vCPUs at once, vCPU k on pCPU k;
 *    with one pCPU (the main case) that is exactly Xen's behaviour for
 *    single-vCPU domains. With more pCPUs, pCPU k idles in windows whose
 *    domain has no vCPU k (so with single-vCPU domains every pCPU but 0
 *    idles), and vCPUs k >= pCPUs never run.
 *  - The frame is anchored at time 0 (and at the time of adjust_global),
 *    computed from absolute time: Xen starts a frame at the first
 *    do_schedule after the previous one ended, so a late call shifts all
 *    later windows; here a late call only shortens the current window.
 *  - Xen gives dom0 a default 10 ms entry automatically and accepts an
 *    empty schedule; here every window is explicit (>= 1 required), and a
 *    domain named by no window never runs.
 *  - frame 0 means "sum of the windows" (Xen requires frame > 0).
 */
#include "sched.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

/* ---- data ------------------------------------------------------------- */

struct a653_window {
    int domid;
    fv_ns_t start, end;             /* offsets within the frame */
    struct sched_domain *dom;       /* resolved; NULL until the domain exists */
};

struct a653_private {
    fv_ns_t frame;                  /* major frame length, > 0 */
    fv_ns_t epoch;                  /* when the current schedule's frame 0 began */
    int nr_windows;
    struct a653_window win[SCHED_MAX_WINDOWS];
};

/* Where now falls in the schedule. */
struct a653_slot {
    const struct a653_window *win;  /* NULL: the idle tail of the frame */
    fv_ns_t end;                    /* absolute end of this window / idle tail */
};

/* ---- helpers ---------------------------------------------------------- */

static inline struct a653_private *a653_priv(const struct scheduler *s) { return s->priv; }

/* Sum of the (positive) window lengths, or -1 if it does not fit in fv_ns_t. */
static fv_ns_t a653_windows_sum(const struct sched_global_params *gp)
{
    fv_ns_t sum = 0;
    for (int i = 0; i < gp->nr_windows; i++) {
        if (gp->windows[i].length > INT64_MAX - sum)
            return -1;
        sum += gp->windows[i].length;
    }
    return sum;
}

/* Build the window table from gp (already validated) and bind windows to
 * the domains that exist. */
static void a653_load(struct scheduler *s, const struct sched_global_params *gp)
{
    struct a653_private *prv = a653_priv(s);
    fv_ns_t at = 0;
    prv->nr_windows = gp->nr_windows;
    for (int i = 0; i < gp->nr_windows; i++) {
        struct a653_window *w = &prv->win[i];
        w->domid = gp->windows[i].domid;
        w->start = at;
        w->end = at += gp->windows[i].length;
        w->dom = NULL;
        for (int k = 0; k < s->nr_doms; k++)
            if (s->doms[k]->id == w->domid)
                w->dom = s->doms[k];
    }
    prv->frame = gp->frame > 0 ? gp->frame : at;
}

static struct a653_slot a653_slot_at(const struct a653_private *prv, fv_ns_t now)
{
    fv_ns_t pos = (now - prv->epoch) % prv->frame;
    fv_ns_t frame_start = now - pos;
    for (int i = 0; i < prv->nr_windows; i++)
        if (pos < prv->win[i].end)
            return (struct a653_slot){ &prv->win[i], frame_start + prv->win[i].end };
    return (struct a653_slot){ NULL, frame_start + prv->frame };
}

/* The vCPU that pCPU cpu runs in window w: vCPU `cpu` of w's domain. */
static struct sched_unit *a653_unit_for(const struct a653_window *w, int cpu)
{
    if (!w || !w->dom || cpu >= w->dom->nr_units)
        return NULL;
    struct sched_unit *u = w->dom->units[cpu];
    return cpumask_test(&u->affinity, cpu) ? u : NULL;
}

/* pCPUs (of one) on which domain d's vCPUs can ever run: vCPU k on pCPU k. */
static int a653_usable_vcpus(const struct scheduler *s, const struct sched_domain *d)
{
    int n = 0;
    for (int k = 0; k < d->nr_units && k < s->nr_cpus; k++)
        n += cpumask_test(&d->units[k]->affinity, k);
    return n;
}

/* ---- ops -------------------------------------------------------------- */

static int a653_check_global(const struct sched_global_params *gp, char *err, size_t errlen)
{
    char a[32], b[32];
    if (gp->nr_windows < 1 || gp->nr_windows > SCHED_MAX_WINDOWS) {
        snprintf(err, errlen, "%d windows (expected 1..%d windows in the major frame)",
                 gp->nr_windows, SCHED_MAX_WINDOWS);
        return -EINVAL;
    }
    if (gp->frame < 0) {
        snprintf(err, errlen, "frame %" PRId64 "ns is negative (expected frame >= 0)", gp->frame);
        return -EINVAL;
    }
    for (int i = 0; i < gp->nr_windows; i++)
        if (gp->windows[i].length <= 0) {
            snprintf(err, errlen, "window %d (domain %d) has length %s (expected length > 0)",
                     i, gp->windows[i].domid, fv_fmt_ns(gp->windows[i].length, a, sizeof(a)));
            return -EINVAL;
        }
    fv_ns_t sum = a653_windows_sum(gp);
    if (sum < 0) {
        snprintf(err, errlen, "windows sum past %" PRId64 "ns (expected a finite frame)", INT64_MAX);
        return -EINVAL;
    }
    if (gp->frame > 0 && sum > gp->frame) {
        snprintf(err, errlen, "windows sum to %s, more than the frame %s (expected sum <= frame)",
                 fv_fmt_ns(sum, a, sizeof(a)), fv_fmt_ns(gp->frame, b, sizeof(b)));
        return -EINVAL;
    }
    return 0;
}

static int a653_init(struct scheduler *s)
{
    struct a653_private *prv = calloc(1, sizeof(*prv));
    if (!prv)
        return -ENOMEM;
    s->priv = prv;
    a653_load(s, &s->gp);
    return 0;
}

static void a653_deinit(struct scheduler *s)
{
    free(s->priv);
    s->priv = NULL;
}

/* Bind the windows naming d (d is not in s->doms yet). */
static int a653_alloc_domdata(struct scheduler *s, struct sched_domain *d)
{
    struct a653_private *prv = a653_priv(s);
    for (int i = 0; i < prv->nr_windows; i++)
        if (prv->win[i].domid == d->id)
            prv->win[i].dom = d;
    return 0;
}

static void a653_free_domdata(struct scheduler *s, struct sched_domain *d)
{
    struct a653_private *prv = a653_priv(s);
    for (int i = 0; i < prv->nr_windows; i++)
        if (prv->win[i].dom == d)
            prv->win[i].dom = NULL;
}

/* No per-vCPU state: the window table and the core's runnable flag (Xen's
 * `awake`) say everything. */
static int a653_alloc_udata(struct scheduler *s, struct sched_unit *u)
{
    (void)s;
    u->priv = NULL;
    return 0;
}

static void a653_free_udata(struct scheduler *s, struct sched_unit *u)
{
    (void)s;
    (void)u;
}

/* vCPU k belongs on pCPU k; one that can never run stays where it is. */
static int a653_pick_pcpu(struct scheduler *s, struct sched_unit *u)
{
    if (u->vcpu_id < s->nr_cpus && cpumask_test(&u->affinity, u->vcpu_id))
        return u->vcpu_id;
    return u->cpu;
}

/* Only worth a reschedule if its window is open on its pCPU right now. */
static void a653_wake(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    struct a653_slot slot = a653_slot_at(a653_priv(s), now);
    if (u->vcpu_id < s->nr_cpus && a653_unit_for(slot.win, u->vcpu_id) == u)
        sched_tickle(s, u->vcpu_id);
}

static struct sched_decision a653_do_schedule(struct scheduler *s, int cpu, fv_ns_t now)
{
    struct a653_slot slot = a653_slot_at(a653_priv(s), now);
    struct sched_unit *u = a653_unit_for(slot.win, cpu);
    if (u && !u->runnable)
        u = NULL;
    return (struct sched_decision){ u, slot.end - now };
}

/* A new schedule takes effect at once, its frame starting now (Xen). */
static int a653_adjust_global(struct scheduler *s, const struct sched_global_params *gp)
{
    char err[160];
    if (a653_check_global(gp, err, sizeof(err)))
        return -EINVAL;
    a653_load(s, gp);
    a653_priv(s)->epoch = sched_now(s);
    for (int c = 0; c < s->nr_cpus; c++)
        sched_tickle(s, c);
    return 0;
}

/* Each window gives its domain length/frame of one pCPU per vCPU that can
 * run (vCPU k on pCPU k), bounded by the demand. */
static void a653_entitle(struct scheduler *s, struct sched_demand *d, int n)
{
    const struct a653_private *prv = a653_priv(s);
    for (int i = 0; i < n; i++) {
        fv_ns_t owned = 0;
        for (int w = 0; w < prv->nr_windows; w++)
            if (prv->win[w].domid == d[i].dom->id)
                owned += prv->win[w].end - prv->win[w].start;
        double share = (double)owned / (double)prv->frame * a653_usable_vcpus(s, d[i].dom);
        double want = d[i].demand > 0.0 ? d[i].demand : 0.0;
        d[i].entitled = share < want ? share : want;
    }
}

static void a653_dump(struct scheduler *s, FILE *f)
{
    const struct a653_private *prv = a653_priv(s);
    char a[32], b[32], c[32];
    fv_ns_t now = sched_now(s);
    struct a653_slot slot = a653_slot_at(prv, now);
    fprintf(f, "arinc653: frame %s from %s, %d windows, now in %s\n",
            fv_fmt_ns(prv->frame, a, sizeof(a)), fv_fmt_ns(prv->epoch, b, sizeof(b)),
            prv->nr_windows, slot.win ? "a window" : "the idle tail");
    for (int i = 0; i < prv->nr_windows; i++) {
        const struct a653_window *w = &prv->win[i];
        fprintf(f, "  %c[%d] %s..%s domain %d (%s)\n", slot.win == w ? '*' : ' ', i,
                fv_fmt_ns(w->start, a, sizeof(a)), fv_fmt_ns(w->end, b, sizeof(b)),
                w->domid, w->dom ? w->dom->name : "absent");
    }
    if (prv->win[prv->nr_windows - 1].end < prv->frame)
        fprintf(f, "  %c    %s..%s idle\n", slot.win ? ' ' : '*',
                fv_fmt_ns(prv->win[prv->nr_windows - 1].end, a, sizeof(a)),
                fv_fmt_ns(prv->frame, c, sizeof(c)));
}

static const struct sched_param_desc a653_global_params[] = {
    { "frame", SCHED_PARAM_NS, 0, INT64_MAX, 0,
      "major frame; 0 = the sum of the windows (windows: [{domain, length}...])" },
    { NULL, 0, 0, 0, 0, NULL },
};

const struct sched_ops sched_arinc653_ops = {
    .name = "arinc653",
    .help = "fixed cyclic major frame of (domain, length) windows, as Xen's ARINC 653",
    .dom_params = NULL,
    .global_params = a653_global_params,
    .init = a653_init,
    .deinit = a653_deinit,
    .alloc_udata = a653_alloc_udata,
    .free_udata = a653_free_udata,
    .do_schedule = a653_do_schedule,
    .pick_pcpu = a653_pick_pcpu,
    .alloc_domdata = a653_alloc_domdata,
    .free_domdata = a653_free_domdata,
    .wake = a653_wake,
    .check_global = a653_check_global,
    .adjust_global = a653_adjust_global,
    .entitle = a653_entitle,
    .dump = a653_dump,
};
