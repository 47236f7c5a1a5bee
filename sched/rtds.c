/* rtds.c — the RTDS policy: preemptive global EDF over deferrable servers,
 * after Xen's xen/common/sched/rt.c (Sisu Xi, Meng Xu et al.).
 *
 * Every vCPU is a server with a period, a budget and an extratime flag (the
 * domain's parameters, applied to each of its vCPUs). At each period boundary
 * the server's deadline moves on by whole periods, its budget is refilled and
 * its priority level returns to 0. Budget burns only while the vCPU runs
 * (deferrable server: a blocked vCPU keeps what it has left). When the budget
 * runs out, a vCPU with extratime drops one priority level and gets a fresh
 * budget, so it only runs where no level-0 work wants the pCPU; one without
 * extratime waits on the depleted queue until its next period.
 *
 * Queues (all global, one per scheduler instance as in Xen):
 *   runq       runnable, not running vCPUs with budget (or extratime),
 *              ordered by (priority_level, deadline), FIFO among equals;
 *   depletedq  runnable vCPUs without budget and without extratime;
 *   replq      every runnable vCPU (queued or running), ordered by deadline;
 *              the replenishment timer fires at its head's deadline.
 * A running vCPU is on no runq/depletedq (only on the replq); do_schedule
 * puts the previous vCPU back before it picks.
 *
 * Deadline misses: a vCPU that is runnable and still holds level-0 budget
 * when its deadline passes missed that deadline, unless it woke too late
 * to spend that budget before the deadline even on an idle pCPU; the
 * replenishment handler counts them per vCPU (one per deadline crossed)
 * and dump prints them.
 *
 * Locking: the core calls every hook, and the replenishment timer, with the
 * scheduler lock held (no lock at all in the single-threaded sim engine), so
 * the queues, the tickled mask and every rt_unit are only touched under it.
 * Nothing here blocks or calls back into the core except tickle/timer.
 *
 * Deliberate deviations from Xen:
 *  - No admission control (Xen refuses a reservation that would push the
 *    pool's utilisation over 100%): fairvisor exists to measure overload, so
 *    an overloaded reservation set is accepted, shows up as deadline misses,
 *    and entitle scales the reservations down to the capacity.
 *  - The replenishment handler tickles for every replenished vCPU waiting on
 *    the runq, not only for formerly depleted ones: in Xen an extratime vCPU
 *    promoted from level >= 1 back to level 0 can wait behind a running
 *    lower-priority vCPU until that one's slice ends.
 *  - The core commits a decision at once (no context_saved), so the previous
 *    vCPU is requeued inside do_schedule, and a preempted one is re-tickled
 *    there (Xen does it in rt_context_saved).
 *  - runq_tickle treats a pCPU whose current vCPU has just blocked as idle
 *    (it is about to be): Xen compares priorities with the blocked vCPU.
 *  - Period and budget are bounded above by UINT32_MAX us, what xl's
 *    32-bit microsecond fields can express, so deadline arithmetic cannot
 *    overflow.
 */
#include "sched.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

/* ---- data ------------------------------------------------------------- */

#define RT_MAX_SPAN ((fv_ns_t)UINT32_MAX * 1000)
#define RT_MAX_PRIORITY_LEVEL UINT32_MAX   /* saturate, never wrap to 0 */

/* A minimal intrusive doubly linked list (Xen's list_head). */
struct rt_list {
    struct rt_list *prev, *next;
};

enum rt_queue { RT_Q_NONE, RT_Q_RUN, RT_Q_DEPLETED };

struct rt_unit {
    struct sched_unit *unit;
    struct rt_list q_elem;          /* on runq or depletedq (see q) */
    struct rt_list replq_elem;      /* on replq when on_replq */
    enum rt_queue q;
    bool on_replq;

    fv_ns_t period;                 /* parameters */
    fv_ns_t budget;
    bool extratime;

    fv_ns_t cur_budget;             /* left in this period (at this level) */
    fv_ns_t cur_deadline;           /* end of the current period */
    fv_ns_t last_start;             /* when it last started running / was refilled */
    fv_ns_t earliest_done;          /* when it could have spent its budget, had
                                       it run from its last wake/refill on */
    uint32_t priority_level;        /* 0 = reservation; n = n-th extratime round */
    uint64_t deadline_misses;
};

struct rt_private {
    struct rt_list runq;
    struct rt_list depletedq;
    struct rt_list replq;
    struct sched_timer repl_timer;
    fv_cpumask_t tickled;           /* pCPUs asked to reschedule, not yet done */
};

/* ---- helpers ---------------------------------------------------------- */

static inline struct rt_private *rt_priv(const struct scheduler *s) { return s->priv; }
static inline struct rt_unit *rt_unit(const struct sched_unit *u) { return u->priv; }

#define rt_entry(ptr, member) \
    ((struct rt_unit *)((char *)(ptr) - offsetof(struct rt_unit, member)))

static inline void rt_list_init(struct rt_list *l) { l->prev = l->next = l; }
static inline bool rt_list_empty(const struct rt_list *l) { return l->next == l; }

/* Insert elem just before pos (at the tail when pos is the head). */
static inline void rt_list_add_before(struct rt_list *elem, struct rt_list *pos)
{
    elem->prev = pos->prev;
    elem->next = pos;
    pos->prev->next = elem;
    pos->prev = elem;
}

static inline void rt_list_del(struct rt_list *elem)
{
    elem->prev->next = elem->next;
    elem->next->prev = elem->prev;
    rt_list_init(elem);
}

/* > 0 if a has the higher priority, < 0 if b has, 0 if equal. A lower
 * priority level wins; within a level, the earlier deadline. */
static int rt_prio_cmp(const struct rt_unit *a, const struct rt_unit *b)
{
    if (a->priority_level != b->priority_level)
        return a->priority_level < b->priority_level ? 1 : -1;
    if (a->cur_deadline != b->cur_deadline)
        return a->cur_deadline < b->cur_deadline ? 1 : -1;
    return 0;
}

/* Print a span in the largest unit that represents it exactly. */
static const char *rt_fmt_ns(char *buf, size_t len, fv_ns_t ns)
{
    static const struct { fv_ns_t div; const char *sfx; } units[] = {
        { FV_SEC(1), "s" }, { FV_MS(1), "ms" }, { FV_US(1), "us" },
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (ns != 0 && ns % units[i].div == 0) {
            snprintf(buf, len, "%" PRId64 "%s", ns / units[i].div, units[i].sfx);
            return buf;
        }
    snprintf(buf, len, "%" PRId64 "ns", ns);
    return buf;
}

/* Move the deadline past now by whole periods (catching up over periods
 * missed while blocked or late; Xen keeps this grid, anchored at time 0,
 * rather than restarting a period at now), refill the budget, back to
 * level 0. Xen's rt_update_deadline. */
static void rt_update_deadline(struct rt_unit *svc, fv_ns_t now)
{
    if (now < svc->cur_deadline)
        return;
    svc->cur_deadline += ((now - svc->cur_deadline) / svc->period + 1) * svc->period;
    /* A running vCPU only burns what it runs from now on, in the new period. */
    svc->last_start = now;
    svc->cur_budget = svc->budget;
    svc->priority_level = 0;
}

/* What it has left right now (a running vCPU has not been charged yet). */
static fv_ns_t rt_budget_left(const struct rt_unit *svc, fv_ns_t now)
{
    if (svc->unit->is_running)
        return svc->cur_budget - (now - svc->last_start);
    return svc->cur_budget;
}

static void rt_burn_budget(struct rt_unit *svc, fv_ns_t now)
{
    fv_ns_t delta = now - svc->last_start;
    if (delta < 0)
        delta = 0;      /* a clock that went backwards charges nothing */
    svc->cur_budget -= delta;
    svc->last_start = now;
    if (svc->cur_budget > 0)
        return;
    if (svc->extratime) {
        if (svc->priority_level < RT_MAX_PRIORITY_LEVEL)
            svc->priority_level++;
        svc->cur_budget = svc->budget;
    } else {
        svc->cur_budget = 0;
    }
}

/* ---- queues ----------------------------------------------------------- */

/* Into the runq in priority order (after equals: FIFO among them), or onto
 * the depleted queue when it has nothing to run with. The scan starts at
 * the tail: a requeued or replenished vCPU usually has the latest deadline,
 * so with many vCPUs of one period insertion stays O(1). */
static void runq_insert(struct scheduler *s, struct rt_unit *svc)
{
    struct rt_private *prv = rt_priv(s);
    if (svc->cur_budget <= 0 && !svc->extratime) {
        rt_list_add_before(&svc->q_elem, &prv->depletedq);
        svc->q = RT_Q_DEPLETED;
        return;
    }
    struct rt_list *pos = prv->runq.prev;
    while (pos != &prv->runq && rt_prio_cmp(svc, rt_entry(pos, q_elem)) > 0)
        pos = pos->prev;
    rt_list_add_before(&svc->q_elem, pos->next);
    svc->q = RT_Q_RUN;
}

static void q_remove(struct rt_unit *svc)
{
    if (svc->q == RT_Q_NONE)
        return;
    rt_list_del(&svc->q_elem);
    svc->q = RT_Q_NONE;
}

static void repl_timer_rearm(struct scheduler *s)
{
    struct rt_private *prv = rt_priv(s);
    if (rt_list_empty(&prv->replq))
        sched_timer_stop(s, &prv->repl_timer);
    else
        sched_timer_set(s, &prv->repl_timer, rt_entry(prv->replq.next, replq_elem)->cur_deadline);
}

/* Ordered by deadline, FIFO among equals (scanned from the tail, as
 * runq_insert); the timer follows the head. */
static void replq_insert(struct scheduler *s, struct rt_unit *svc)
{
    struct rt_private *prv = rt_priv(s);
    struct rt_list *pos = prv->replq.prev;
    while (pos != &prv->replq && svc->cur_deadline < rt_entry(pos, replq_elem)->cur_deadline)
        pos = pos->prev;
    rt_list_add_before(&svc->replq_elem, pos->next);
    svc->on_replq = true;
    if (prv->replq.next == &svc->replq_elem)
        repl_timer_rearm(s);
}

static void replq_remove(struct scheduler *s, struct rt_unit *svc)
{
    struct rt_private *prv = rt_priv(s);
    if (!svc->on_replq)
        return;
    bool was_head = prv->replq.next == &svc->replq_elem;
    rt_list_del(&svc->replq_elem);
    svc->on_replq = false;
    if (was_head)
        repl_timer_rearm(s);
}

/* The first runq vCPU whose hard affinity allows cpu (runq vCPUs never run). */
static struct rt_unit *runq_pick(struct scheduler *s, int cpu)
{
    struct rt_private *prv = rt_priv(s);
    for (struct rt_list *pos = prv->runq.next; pos != &prv->runq; pos = pos->next) {
        struct rt_unit *svc = rt_entry(pos, q_elem);
        if (cpumask_test(&svc->unit->affinity, cpu))
            return svc;
    }
    return NULL;
}

/* ---- tickling --------------------------------------------------------- */

static void rt_tickle_cpu(struct scheduler *s, int cpu)
{
    cpumask_set(&rt_priv(s)->tickled, cpu);
    sched_tickle(s, cpu);
}

/* A pCPU with nothing (runnable) on it: idle, or its vCPU just blocked. */
static inline bool rt_cpu_free(struct scheduler *s, int cpu)
{
    struct sched_unit *curr = sched_curr(s, cpu);
    return !curr || !curr->runnable;
}

/* Find `new` a pCPU (Xen's runq_tickle): among the untickled pCPUs of its
 * affinity, starting with its own, an idle one; else the one running the
 * lowest-priority vCPU, if new beats it. skip_cpu is a pCPU that is
 * deciding right now (its curr is stale), or -1. */
static void runq_tickle(struct scheduler *s, const struct rt_unit *new, int skip_cpu)
{
    struct rt_private *prv = rt_priv(s);
    const struct sched_unit *u = new->unit;
    const struct rt_unit *latest = NULL;
    int latest_cpu = -1;

    for (int i = 0; i < s->nr_cpus; i++) {
        int cpu = (u->cpu + i) % s->nr_cpus;
        if (cpu == skip_cpu || !cpumask_test(&u->affinity, cpu) ||
            cpumask_test(&prv->tickled, cpu))
            continue;
        if (rt_cpu_free(s, cpu)) {
            rt_tickle_cpu(s, cpu);
            return;
        }
        const struct rt_unit *cur = rt_unit(sched_curr(s, cpu));
        if (!latest || rt_prio_cmp(cur, latest) < 0) {
            latest = cur;
            latest_cpu = cpu;
        }
    }
    if (latest && rt_prio_cmp(new, latest) > 0)
        rt_tickle_cpu(s, latest_cpu);
}

/* ---- replenishment ---------------------------------------------------- */

/* Charge the deadlines it is crossing now to svc if it is runnable and
 * still holds reservation (level-0) budget: it was denied what it was owed.
 * Not when it woke (or was refilled) too close to the deadline to spend
 * that budget even on an idle pCPU (a deferrable server keeps budget across
 * a block): that lateness is the guest's, not the scheduler's. */
static void rt_count_misses(struct rt_unit *svc, fv_ns_t now)
{
    fv_ns_t left = rt_budget_left(svc, now);
    if (!svc->unit->runnable || svc->priority_level != 0 || left <= 0)
        return;
    uint64_t crossed = (uint64_t)((now - svc->cur_deadline) / svc->period) + 1;
    if (svc->earliest_done > svc->cur_deadline)
        crossed--;
    svc->deadline_misses += crossed;
    svc->unit->deadline_misses += crossed;
}

/* After svc's replenishment: let it (or whoever it now yields to) preempt. */
static void repl_tickle(struct scheduler *s, struct rt_unit *svc)
{
    struct rt_private *prv = rt_priv(s);
    if (svc->unit->is_running) {
        if (rt_list_empty(&prv->runq))
            return;
        struct rt_unit *head = rt_entry(prv->runq.next, q_elem);
        if (rt_prio_cmp(head, svc) > 0)
            runq_tickle(s, head, -1);
    } else if (svc->q == RT_Q_RUN) {
        runq_tickle(s, svc, -1);
    }
}

/* Replenish every vCPU whose deadline is due, reorder the queues, then
 * tickle (after all updates, so comparisons see the new deadlines). */
static void repl_timer_fn(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    struct rt_private *prv = rt_priv(s);
    struct rt_list done;
    (void)t;

    rt_list_init(&done);
    while (!rt_list_empty(&prv->replq)) {
        struct rt_unit *svc = rt_entry(prv->replq.next, replq_elem);
        if (now < svc->cur_deadline)
            break;
        rt_list_del(&svc->replq_elem);
        rt_count_misses(svc, now);
        rt_update_deadline(svc, now);
        svc->earliest_done = now + svc->cur_budget;
        rt_list_add_before(&svc->replq_elem, &done);
        if (svc->q != RT_Q_NONE) {
            q_remove(svc);
            runq_insert(s, svc);
        }
    }
    while (!rt_list_empty(&done)) {
        struct rt_unit *svc = rt_entry(done.next, replq_elem);
        rt_list_del(&svc->replq_elem);
        svc->on_replq = false;
        repl_tickle(s, svc);
        replq_insert(s, svc);
    }
    repl_timer_rearm(s);
}

/* ---- parameters ------------------------------------------------------- */

static int rt_validate(const struct sched_dom_params *p, char *err, size_t errlen)
{
    char a[32], b[32];
    if (p->period < SCHED_RTDS_MIN_SPAN || p->period > RT_MAX_SPAN) {
        snprintf(err, errlen, "period %s out of range (expected 10us <= period <= %" PRIu32 "us)",
                 rt_fmt_ns(a, sizeof(a), p->period), UINT32_MAX);
        return -EINVAL;
    }
    if (p->budget < SCHED_RTDS_MIN_SPAN) {
        snprintf(err, errlen, "budget %s is below the minimum (expected budget >= 10us)",
                 rt_fmt_ns(a, sizeof(a), p->budget));
        return -EINVAL;
    }
    if (p->budget > p->period) {
        snprintf(err, errlen, "budget %s exceeds period %s (expected budget <= period)",
                 rt_fmt_ns(a, sizeof(a), p->budget), rt_fmt_ns(b, sizeof(b), p->period));
        return -EINVAL;
    }
    return 0;
}

/* Turning extratime on for a depleted vCPU: do the demotion and refill
 * burn_budget would have done, and let it run now (Xen's rt_dom_cntl). */
static void rt_set_extratime(struct scheduler *s, struct rt_unit *svc, bool on)
{
    bool was = svc->extratime;
    svc->extratime = on;
    if (!on || was || svc->cur_budget > 0)
        return;
    if (svc->priority_level < RT_MAX_PRIORITY_LEVEL)
        svc->priority_level++;
    svc->cur_budget = svc->budget;
    if (svc->q == RT_Q_DEPLETED) {
        q_remove(svc);
        runq_insert(s, svc);
        runq_tickle(s, svc, -1);
    }
}

/* ---- ops -------------------------------------------------------------- */

static int rt_init(struct scheduler *s)
{
    struct rt_private *prv = calloc(1, sizeof(*prv));
    if (!prv)
        return -ENOMEM;
    rt_list_init(&prv->runq);
    rt_list_init(&prv->depletedq);
    rt_list_init(&prv->replq);
    sched_timer_init(&prv->repl_timer, repl_timer_fn, NULL, 0);
    s->priv = prv;
    return 0;
}

static void rt_deinit(struct scheduler *s)
{
    struct rt_private *prv = rt_priv(s);
    sched_timer_stop(s, &prv->repl_timer);
    free(prv);
    s->priv = NULL;
}

static int rt_alloc_udata(struct scheduler *s, struct sched_unit *u)
{
    (void)s;
    struct rt_unit *svc = calloc(1, sizeof(*svc));
    if (!svc)
        return -ENOMEM;
    const struct sched_dom_params *p = &u->dom->params;
    svc->unit = u;
    rt_list_init(&svc->q_elem);
    rt_list_init(&svc->replq_elem);
    svc->period = p->period;
    svc->budget = p->budget;
    svc->extratime = p->extratime;
    /* Deadline 0: the first update puts it on the period grid from time 0. */
    u->priv = svc;
    return 0;
}

static void rt_free_udata(struct scheduler *s, struct sched_unit *u)
{
    (void)s;
    free(u->priv);
    u->priv = NULL;
}

/* Keep its pCPU if the affinity allows it, else the next allowed one. */
static int rt_pick_pcpu(struct scheduler *s, struct sched_unit *u)
{
    if (u->cpu >= 0 && u->cpu < s->nr_cpus && cpumask_test(&u->affinity, u->cpu))
        return u->cpu;
    int cpu = cpumask_next(&u->affinity, u->cpu < 0 ? 0 : u->cpu);
    if (cpu < 0 || cpu >= s->nr_cpus)
        cpu = cpumask_next(&u->affinity, 0);
    return cpu;
}

static void rt_insert_unit(struct scheduler *s, struct sched_unit *u)
{
    struct rt_unit *svc = rt_unit(u);
    fv_ns_t now = sched_now(s);
    rt_update_deadline(svc, now);
    if (!u->runnable || svc->on_replq)
        return;
    svc->earliest_done = now + svc->cur_budget;
    replq_insert(s, svc);
    if (!u->is_running) {
        runq_insert(s, svc);
        runq_tickle(s, svc, -1);
    }
}

static void rt_remove_unit(struct scheduler *s, struct sched_unit *u)
{
    struct rt_unit *svc = rt_unit(u);
    q_remove(svc);
    replq_remove(s, svc);
}

/* A running vCPU is dealt with when its pCPU (tickled by the core)
 * reschedules; a queued one leaves the queues and its replenishment. */
static void rt_sleep(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    (void)now;
    if (u->is_running)
        return;
    struct rt_unit *svc = rt_unit(u);
    q_remove(svc);
    replq_remove(s, svc);
}

static void rt_wake(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    struct rt_unit *svc = rt_unit(u);
    if (u->is_running || svc->q != RT_Q_NONE)
        return;     /* blocked and woke before its pCPU rescheduled */
    /* A deadline passed while it slept: new period, full budget. */
    rt_update_deadline(svc, now);
    svc->earliest_done = now + svc->cur_budget;
    replq_remove(s, svc);       /* never there when blocked; be safe */
    replq_insert(s, svc);
    runq_insert(s, svc);
    runq_tickle(s, svc, -1);
}

static struct sched_decision rt_do_schedule(struct scheduler *s, int cpu, fv_ns_t now)
{
    struct rt_private *prv = rt_priv(s);
    struct sched_unit *prev = sched_curr(s, cpu);
    struct rt_unit *sprev = prev ? rt_unit(prev) : NULL;

    cpumask_clear(&prv->tickled, cpu);
    if (sprev) {
        rt_burn_budget(sprev, now);
        if (prev->runnable)
            runq_insert(s, sprev);
        else
            replq_remove(s, sprev);     /* blocked: no replenishment until it wakes */
    }

    struct rt_unit *snext = runq_pick(s, cpu);
    if (sprev && snext != sprev && sprev->q == RT_Q_RUN)
        runq_tickle(s, sprev, cpu);     /* preempted: maybe it fits elsewhere */
    if (!snext)
        return (struct sched_decision){ NULL, -1 };
    q_remove(snext);
    snext->last_start = now;
    return (struct sched_decision){ snext->unit, snext->cur_budget };
}

static int rt_check_dom(const struct sched_dom_params *p, char *err, size_t errlen)
{
    return rt_validate(p, err, errlen);
}

/* New parameters for every vCPU of d. Like Xen, the current period keeps
 * its deadline and budget; the new values apply from the next one. */
static int rt_adjust(struct scheduler *s, struct sched_domain *d, const struct sched_dom_params *p)
{
    char err[128];
    if (rt_validate(p, err, sizeof(err)))
        return -EINVAL;
    for (int i = 0; i < d->nr_units; i++) {
        struct rt_unit *svc = rt_unit(d->units[i]);
        svc->period = p->period;
        svc->budget = p->budget;
        rt_set_extratime(s, svc, p->extratime);
    }
    return 0;
}

/* Reservation of a domain (pCPUs) and how many of its vCPUs have extratime. */
static double rt_dom_reservation(const struct sched_domain *d, int *nr_extra)
{
    double r = 0.0;
    *nr_extra = 0;
    for (int i = 0; i < d->nr_units; i++) {
        const struct rt_unit *svc = rt_unit(d->units[i]);
        r += (double)svc->budget / (double)svc->period;
        *nr_extra += svc->extratime;
    }
    return r;
}

struct rt_extra {
    int idx;
    double bound;       /* extra pCPUs it could still use */
    int nr;             /* extratime vCPUs */
};

static int rt_extra_cmp(const void *a, const void *b)
{
    const struct rt_extra *x = a, *y = b;
    double kx = x->bound / x->nr, ky = y->bound / y->nr;
    if (kx != ky)
        return kx < ky ? -1 : 1;
    return x->idx - y->idx;
}

/* Water-fill `left` pCPUs equally per extratime vCPU, each domain bounded
 * by the demand its reservation leaves: visit domains by increasing bound
 * per vCPU; a domain whose bound is under the current equal level takes its
 * bound, the rest share what remains. */
static void rt_share_extra(struct sched_demand *d, struct rt_extra *e, int ne, double left)
{
    int vcpus = 0;
    qsort(e, (size_t)ne, sizeof(*e), rt_extra_cmp);
    for (int k = 0; k < ne; k++)
        vcpus += e[k].nr;
    for (int k = 0; k < ne && left > 0.0; k++) {
        double level = left / vcpus;
        double give = e[k].bound <= level * e[k].nr ? e[k].bound : level * e[k].nr;
        d[e[k].idx].entitled += give;
        left -= give;
        vcpus -= e[k].nr;
    }
}

/* Entitlement: first each domain's reservation (sum of its vCPUs'
 * budget/period), bounded by its demand — scaled down to the capacity if
 * the reservations overcommit it (no admission control). Then extratime
 * domains share the capacity left equally per extratime vCPU, each bounded
 * by the demand its reservation did not cover. Demand is per domain, so a
 * domain's reservation is credited up to its total demand (a domain whose
 * vCPUs have unequal demand may be credited a little more than its busy
 * vCPUs could use). */
static void rt_entitle(struct scheduler *s, struct sched_demand *d, int n)
{
    double cap = (double)s->nr_cpus, resv = 0.0;
    struct rt_extra *e = calloc((size_t)(n > 0 ? n : 1), sizeof(*e));
    int ne = 0;
    if (!e)
        abort();
    for (int i = 0; i < n; i++) {
        int nr_extra;
        double r = rt_dom_reservation(d[i].dom, &nr_extra);
        double want = d[i].demand > 0.0 ? d[i].demand : 0.0;
        d[i].entitled = r < want ? r : want;
        resv += d[i].entitled;
        if (nr_extra && want > d[i].entitled)
            e[ne++] = (struct rt_extra){ i, want - d[i].entitled, nr_extra };
    }
    if (resv > cap) {
        for (int i = 0; i < n; i++)
            d[i].entitled *= cap / resv;
    } else {
        rt_share_extra(d, e, ne, cap - resv);
    }
    free(e);
}

static void rt_dump_unit(struct scheduler *s, const struct rt_unit *svc, FILE *f)
{
    char b[32], dl[32];
    const struct sched_unit *u = svc->unit;
    static const char *const qname[] = { "-", "runq", "depleted" };
    fv_ns_t left = rt_budget_left(svc, sched_now(s));
    fprintf(f, "    v%d: cpu %d %s%s q %s level %" PRIu32 " budget_left %s deadline %s"
            " misses %" PRIu64 "\n",
            u->vcpu_id, u->cpu, u->is_running ? "running" : "-",
            u->runnable ? "" : " blocked", qname[svc->q], svc->priority_level,
            rt_fmt_ns(b, sizeof(b), left), rt_fmt_ns(dl, sizeof(dl), svc->cur_deadline),
            svc->deadline_misses);
}

static int rt_list_len(const struct rt_list *l)
{
    int n = 0;
    for (const struct rt_list *p = l->next; p != l; p = p->next)
        n++;
    return n;
}

static void rt_dump(struct scheduler *s, FILE *f)
{
    struct rt_private *prv = rt_priv(s);
    char b[32], p[32];
    fprintf(f, "rtds: %d pCPUs, runq %d, depleted %d, replq %d", s->nr_cpus,
            rt_list_len(&prv->runq), rt_list_len(&prv->depletedq), rt_list_len(&prv->replq));
    if (sched_timer_armed(&prv->repl_timer))
        fprintf(f, ", next replenishment at %s", rt_fmt_ns(b, sizeof(b), prv->repl_timer.expires));
    fputc('\n', f);
    for (int c = 0; c < s->nr_cpus; c++) {
        const struct sched_unit *u = sched_curr(s, c);
        if (u)
            fprintf(f, "  cpu%d: %s.%d\n", c, u->dom->name, u->vcpu_id);
        else
            fprintf(f, "  cpu%d: idle\n", c);
    }
    for (int i = 0; i < s->nr_doms; i++) {
        const struct sched_domain *d = s->doms[i];
        const struct rt_unit *svc0 = rt_unit(d->units[0]);
        fprintf(f, "  dom %d (%s): period %s budget %s extratime %d\n", d->id, d->name,
                rt_fmt_ns(p, sizeof(p), svc0->period), rt_fmt_ns(b, sizeof(b), svc0->budget),
                svc0->extratime);
        for (int k = 0; k < d->nr_units; k++)
            rt_dump_unit(s, rt_unit(d->units[k]), f);
    }
}

static const struct sched_param_desc rt_dom_params[] = {
    { "period", SCHED_PARAM_NS, SCHED_RTDS_MIN_SPAN, RT_MAX_SPAN, SCHED_DEFAULT_PERIOD,
      "replenishment period of each vCPU" },
    { "budget", SCHED_PARAM_NS, SCHED_RTDS_MIN_SPAN, RT_MAX_SPAN, SCHED_DEFAULT_BUDGET,
      "guaranteed run time per period of each vCPU (<= period)" },
    { "extratime", SCHED_PARAM_BOOL, 0, 1, 1,
      "may run beyond the budget when no reservation wants the pCPU" },
    { NULL, 0, 0, 0, 0, NULL },
};

const struct sched_ops sched_rtds_ops = {
    .name = "rtds",
    .help = "global EDF of deferrable servers (period, budget, extratime), as Xen's RTDS",
    .dom_params = rt_dom_params,
    .global_params = NULL,
    .init = rt_init,
    .deinit = rt_deinit,
    .alloc_udata = rt_alloc_udata,
    .free_udata = rt_free_udata,
    .do_schedule = rt_do_schedule,
    .pick_pcpu = rt_pick_pcpu,
    .insert_unit = rt_insert_unit,
    .remove_unit = rt_remove_unit,
    .sleep = rt_sleep,
    .wake = rt_wake,
    .check_dom = rt_check_dom,
    .adjust = rt_adjust,
    .entitle = rt_entitle,
    .dump = rt_dump,
};
