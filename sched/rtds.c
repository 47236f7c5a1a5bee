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
 *   replq      every runnable vCPU (queued or running), ordered by deadline,
 *              FIFO among equals; the replenishment timer fires at its
 *              head's deadline.
 * A running vCPU is on no runq/depletedq (only on the replq); do_schedule
 * puts the previous vCPU back before it picks. Xen keeps sorted lists; here
 * runq and replq are red-black trees (libbsd's RB_*), so that queueing a
 * vCPU costs O(log n) with thousands of them. The FIFO among equals is an
 * insertion number in the key (one counter for both trees, only ever
 * growing). Each tree remembers where its last insertion went, so the
 * replenishment handler, which requeues vCPUs of one deadline in a row,
 * inserts each in O(1) as Xen's list append does; the replq's head is
 * cached for the timer. The depletedq is never searched by key: it stays a
 * list. Per event, the handler does O(1) amortised work per vCPU it
 * replenishes, plus a tickle pass that skips vCPUs no pCPU can be found
 * for (see rt_tickle_pass); the other hooks are O(log n) plus O(pCPUs).
 *
 * Deadline misses: a vCPU that is runnable and still holds level-0 budget
 * when its deadline passes missed that deadline, unless it woke too late
 * to spend that budget before the deadline even on an idle pCPU; the
 * replenishment handler counts them per vCPU (one per deadline crossed)
 * and dump prints them.
 *
 * Charge-back: refused (no charge hook, so `charged_ns` stays 0 even with
 * `sched.chargeback: on`). A reservation is a promise of CPU to the vCPU
 * itself in every period: spending its budget on backend work it did not
 * run would make it miss the deadlines it was promised, and budget/period
 * would no longer say what it gets. Backend CPU is Domain-0's, under
 * Domain-0's own reservation; bound a guest's I/O with its vif's `rate`
 * instead.
 *
 * Locking: the core calls every hook, and the replenishment timer, with the
 * scheduler lock held (no lock at all in the single-threaded sim engine), so
 * the queues (trees, their hints and cached head), the tickled mask and
 * every rt_unit are only touched under it.
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
#include <string.h>

#include "../hv/rbtree.h"

/* ---- data ------------------------------------------------------------- */

#define RT_MAX_SPAN ((fv_ns_t)UINT32_MAX * 1000)
#define RT_MAX_PRIORITY_LEVEL UINT32_MAX   /* saturate, never wrap to 0 */

/* A minimal intrusive doubly linked list (Xen's list_head). */
struct rt_list {
    struct rt_list *prev, *next;
};

RB_HEAD(rt_runq, rt_unit);          /* by rt_runq_cmp */
RB_HEAD(rt_replq, rt_unit);         /* by rt_replq_cmp */

enum rt_queue { RT_Q_NONE, RT_Q_RUN, RT_Q_DEPLETED };

struct rt_unit {
    struct sched_unit *unit;
    RB_ENTRY(rt_unit) runq_node;    /* on runq when q == RT_Q_RUN */
    struct rt_list q_elem;          /* on depletedq when q == RT_Q_DEPLETED */
    RB_ENTRY(rt_unit) replq_node;   /* on replq when on_replq */
    uint64_t runq_seq, replq_seq;   /* insertion numbers: FIFO among equals */
    struct rt_unit *done_next;      /* repl_timer_fn's replenished list */
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

/* Where the last insertion into a tree went: `prev` (the unit inserted)
 * and its successor `next` (NULL: prev is the maximum). Valid until either
 * leaves the tree; any other insertion replaces it. */
struct rt_hint {
    struct rt_unit *prev, *next;
};

struct rt_private {
    struct rt_runq runq;
    struct rt_list depletedq;
    struct rt_replq replq;
    uint64_t seq;                   /* next insertion number (runq, replq) */
    struct rt_hint runq_hint;       /* where the last insertion went */
    struct rt_hint replq_hint;
    struct rt_unit *replq_first;    /* replq's head (the timer's), NULL if empty */
    struct sched_timer repl_timer;
    fv_cpumask_t tickled;           /* pCPUs asked to reschedule, not yet done */
};

/* ---- helpers ---------------------------------------------------------- */

static inline struct rt_private *rt_priv(const struct scheduler *s) { return s->priv; }
static inline struct rt_unit *rt_unit(const struct sched_unit *u) { return u->priv; }

static inline void rt_list_init(struct rt_list *l) { l->prev = l->next = l; }

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

/* Tree orders (< 0: a first). A vCPU is queued with the highest insertion
 * number yet, so it goes after all its equals, where Xen's sorted-list
 * insertion puts it. A key changes only while its vCPU is off the tree it
 * orders: rt_burn_budget (level) runs on a running vCPU, never on the runq;
 * rt_update_deadline (deadline, level) on one off both trees. */
static int rt_seq_cmp(uint64_t a, uint64_t b) { return a < b ? -1 : a > b; }

static int rt_runq_cmp(const struct rt_unit *a, const struct rt_unit *b)
{
    int c = rt_prio_cmp(b, a);
    return c ? c : rt_seq_cmp(a->runq_seq, b->runq_seq);
}

static int rt_replq_cmp(const struct rt_unit *a, const struct rt_unit *b)
{
    if (a->cur_deadline != b->cur_deadline)
        return a->cur_deadline < b->cur_deadline ? -1 : 1;
    return rt_seq_cmp(a->replq_seq, b->replq_seq);
}

RB_GENERATE_STATIC(rt_runq, rt_unit, runq_node, rt_runq_cmp)
RB_GENERATE_STATIC(rt_replq, rt_unit, replq_node, rt_replq_cmp)

/* RB_INSERT, but O(1) when elm goes right after the previous insertion. A
 * replenishment requeues vCPUs of one deadline in a row, each right after
 * the one before, where Xen's list appends in O(1); with 10,000 vCPUs a
 * descent from the root for each (~2 log n dependent loads) was most of
 * the handler's time. elm then takes the one free child slot between prev
 * and next (prev's right, else next's left), where RB_INSERT's descent
 * would end, and is rebalanced as RB_INSERT does. */
#define RT_GENERATE_INSERT_HINTED(name, field, cmp)                             \
    static void name##_insert_hinted(struct name *head, struct rt_hint *h,      \
                                     struct rt_unit *elm)                       \
    {                                                                           \
        if (h->prev && cmp(h->prev, elm) < 0 && (!h->next || cmp(elm, h->next) < 0)) { \
            if (!RB_RIGHT(h->prev, field)) {                                    \
                RB_SET(elm, h->prev, field);                                    \
                RB_RIGHT(h->prev, field) = elm;                                 \
            } else {                                                            \
                RB_SET(elm, h->next, field);                                    \
                RB_LEFT(h->next, field) = elm;                                  \
            }                                                                   \
            name##_RB_INSERT_COLOR(head, elm);                                  \
        } else {                                                                \
            RB_INSERT(name, head, elm);                                         \
            h->next = RB_NEXT(name, head, elm);                                 \
        }                                                                       \
        h->prev = elm;                                                          \
    }                                                                           \
    static void name##_remove_hinted(struct name *head, struct rt_hint *h,      \
                                     struct rt_unit *elm)                       \
    {                                                                           \
        RB_REMOVE(name, head, elm);                                             \
        if (h->prev == elm || h->next == elm)                                   \
            h->prev = h->next = NULL;                                           \
    }

RT_GENERATE_INSERT_HINTED(rt_runq, runq_node, rt_runq_cmp)
RT_GENERATE_INSERT_HINTED(rt_replq, replq_node, rt_replq_cmp)

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
 * the depleted queue when it has nothing to run with. */
static void runq_insert(struct scheduler *s, struct rt_unit *svc)
{
    struct rt_private *prv = rt_priv(s);
    if (svc->cur_budget <= 0 && !svc->extratime) {
        rt_list_add_before(&svc->q_elem, &prv->depletedq);
        svc->q = RT_Q_DEPLETED;
        return;
    }
    svc->runq_seq = prv->seq++;
    rt_runq_insert_hinted(&prv->runq, &prv->runq_hint, svc);
    svc->q = RT_Q_RUN;
}

static void q_remove(struct scheduler *s, struct rt_unit *svc)
{
    struct rt_private *prv = rt_priv(s);
    if (svc->q == RT_Q_RUN) {
        rt_runq_remove_hinted(&prv->runq, &prv->runq_hint, svc);
    } else if (svc->q == RT_Q_DEPLETED) {
        rt_list_del(&svc->q_elem);
    }
    svc->q = RT_Q_NONE;
}

static void repl_timer_rearm(struct scheduler *s)
{
    struct rt_private *prv = rt_priv(s);
    if (!prv->replq_first)
        sched_timer_stop(s, &prv->repl_timer);
    else
        sched_timer_set(s, &prv->repl_timer, prv->replq_first->cur_deadline);
}

/* Ordered by deadline, FIFO among equals; the timer follows the head. The
 * head is cached: the handler takes it once per vCPU it replenishes. */
static void replq_insert(struct scheduler *s, struct rt_unit *svc)
{
    struct rt_private *prv = rt_priv(s);
    svc->replq_seq = prv->seq++;
    rt_replq_insert_hinted(&prv->replq, &prv->replq_hint, svc);
    svc->on_replq = true;
    if (!prv->replq_first || rt_replq_cmp(svc, prv->replq_first) < 0) {
        prv->replq_first = svc;
        repl_timer_rearm(s);
    }
}

/* Off the replq tree (on_replq is the caller's business). */
static void replq_unlink(struct rt_private *prv, struct rt_unit *svc)
{
    if (prv->replq_first == svc)
        prv->replq_first = RB_NEXT(rt_replq, &prv->replq, svc);
    rt_replq_remove_hinted(&prv->replq, &prv->replq_hint, svc);
}

static void replq_remove(struct scheduler *s, struct rt_unit *svc)
{
    struct rt_private *prv = rt_priv(s);
    if (!svc->on_replq)
        return;
    bool was_head = prv->replq_first == svc;
    replq_unlink(prv, svc);
    svc->on_replq = false;
    if (was_head)
        repl_timer_rearm(s);
}

/* The first runq vCPU whose hard affinity allows cpu (runq vCPUs never
 * run). With affinities that allow most pCPUs the first one does. */
static struct rt_unit *runq_pick(struct scheduler *s, int cpu)
{
    struct rt_unit *svc;
    RB_FOREACH(svc, rt_runq, &rt_priv(s)->runq)
        if (cpumask_test(&svc->unit->affinity, cpu))
            return svc;
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
static bool runq_tickle(struct scheduler *s, const struct rt_unit *new, int skip_cpu)
{
    struct rt_private *prv = rt_priv(s);
    const struct sched_unit *u = new->unit;
    const struct rt_unit *latest = NULL;
    int latest_cpu = -1;
    fv_cpumask_t m;

    /* Once every pCPU of its affinity is tickled (soon the case when many
     * vCPUs wake or are replenished at once), a few word operations say
     * there is nothing to look at. */
    for (unsigned i = 0; i < FV_MAX_PCPUS / 64; i++)
        m.bits[i] = u->affinity.bits[i] & ~prv->tickled.bits[i];
    if (skip_cpu >= 0)
        cpumask_clear(&m, skip_cpu);
    int first = cpumask_next(&m, 0);
    if (first < 0 || first >= s->nr_cpus)
        return false;
    for (int i = 0; i < s->nr_cpus; i++) {
        int cpu = (u->cpu + i) % s->nr_cpus;
        if (cpu == skip_cpu || !cpumask_test(&u->affinity, cpu) ||
            cpumask_test(&prv->tickled, cpu))
            continue;
        if (rt_cpu_free(s, cpu)) {
            rt_tickle_cpu(s, cpu);
            return true;
        }
        const struct rt_unit *cur = rt_unit(sched_curr(s, cpu));
        if (!latest || rt_prio_cmp(cur, latest) < 0) {
            latest = cur;
            latest_cpu = cpu;
        }
    }
    if (!latest || rt_prio_cmp(new, latest) <= 0)
        return false;
    rt_tickle_cpu(s, latest_cpu);
    return true;
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

/* The replenishment handler calls runq_tickle for vCPU after vCPU while
 * nothing it looks at (pCPUs' current vCPUs and their priorities, the
 * tickled mask) changes but through its own tickles. A call that found no
 * pCPU for `failed` would find none for a vCPU with the same affinity and
 * no higher priority (same candidate pCPUs, none free, none running
 * anything it beats): such calls are skipped until something is tickled.
 * With thousands of vCPUs replenished at once, most are. */
struct rt_tickle_pass {
    const struct rt_unit *failed;
};

static void pass_tickle(struct scheduler *s, struct rt_tickle_pass *p, const struct rt_unit *new)
{
    const struct rt_unit *f = p->failed;
    if (f && rt_prio_cmp(new, f) <= 0 &&
        !memcmp(&new->unit->affinity, &f->unit->affinity, sizeof(f->unit->affinity)))
        return;
    p->failed = runq_tickle(s, new, -1) ? NULL : new;
}

/* After svc's replenishment: let it (or whoever it now yields to) preempt. */
static void repl_tickle(struct scheduler *s, struct rt_tickle_pass *p, struct rt_unit *svc)
{
    struct rt_private *prv = rt_priv(s);
    if (svc->unit->is_running) {
        struct rt_unit *head = RB_MIN(rt_runq, &prv->runq);
        if (!head)
            return;
        if (rt_prio_cmp(head, svc) > 0)
            pass_tickle(s, p, head);
    } else if (svc->q == RT_Q_RUN) {
        pass_tickle(s, p, svc);
    }
}

/* Replenish every vCPU whose deadline is due, reorder the queues, then
 * tickle (after all updates, so comparisons see the new deadlines) in
 * deadline order. Each vCPU leaves its queues before its keys change. */
static void repl_timer_fn(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    struct rt_private *prv = rt_priv(s);
    struct rt_unit *svc, *done = NULL, **tail = &done;
    struct rt_tickle_pass pass = { NULL };
    (void)t;

    while ((svc = prv->replq_first) && now >= svc->cur_deadline) {
        bool queued = svc->q != RT_Q_NONE;
        replq_unlink(prv, svc);
        q_remove(s, svc);
        rt_count_misses(svc, now);
        rt_update_deadline(svc, now);
        svc->earliest_done = now + svc->cur_budget;
        svc->done_next = NULL;
        *tail = svc;
        tail = &svc->done_next;
        if (queued)
            runq_insert(s, svc);
    }
    while ((svc = done)) {
        done = svc->done_next;
        svc->on_replq = false;
        repl_tickle(s, &pass, svc);
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
                 fv_fmt_ns(p->period, a, sizeof(a)), UINT32_MAX);
        return -EINVAL;
    }
    if (p->budget < SCHED_RTDS_MIN_SPAN) {
        snprintf(err, errlen, "budget %s is below the minimum (expected budget >= 10us)",
                 fv_fmt_ns(p->budget, a, sizeof(a)));
        return -EINVAL;
    }
    if (p->budget > p->period) {
        snprintf(err, errlen, "budget %s exceeds period %s (expected budget <= period)",
                 fv_fmt_ns(p->budget, a, sizeof(a)), fv_fmt_ns(p->period, b, sizeof(b)));
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
        q_remove(s, svc);
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
    RB_INIT(&prv->runq);
    rt_list_init(&prv->depletedq);
    RB_INIT(&prv->replq);
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
    q_remove(s, svc);
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
    q_remove(s, svc);
    replq_remove(s, svc);
}

static void rt_wake(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    struct rt_unit *svc = rt_unit(u);
    if (u->is_running || svc->q != RT_Q_NONE)
        return;     /* blocked and woke before its pCPU rescheduled */
    replq_remove(s, svc);       /* never there when blocked; be safe */
    /* A deadline passed while it slept: new period, full budget. */
    rt_update_deadline(svc, now);
    svc->earliest_done = now + svc->cur_budget;
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
    q_remove(s, snext);
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
            fv_fmt_ns(left, b, sizeof(b)), fv_fmt_ns(svc->cur_deadline, dl, sizeof(dl)),
            svc->deadline_misses);
}

static void rt_dump(struct scheduler *s, FILE *f)
{
    struct rt_private *prv = rt_priv(s);
    struct rt_unit *svc;
    int nr_runq = 0, nr_depleted = 0, nr_replq = 0;
    char b[32], p[32];

    RB_FOREACH(svc, rt_runq, &prv->runq)
        nr_runq++;
    for (const struct rt_list *l = prv->depletedq.next; l != &prv->depletedq; l = l->next)
        nr_depleted++;
    RB_FOREACH(svc, rt_replq, &prv->replq)
        nr_replq++;
    fprintf(f, "rtds: %d pCPUs, runq %d, depleted %d, replq %d", s->nr_cpus,
            nr_runq, nr_depleted, nr_replq);
    if (sched_timer_armed(&prv->repl_timer))
        fprintf(f, ", next replenishment at %s", fv_fmt_ns(prv->repl_timer.expires, b, sizeof(b)));
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
        if (d->dead)
            continue;
        const struct rt_unit *svc0 = rt_unit(d->units[0]);
        fprintf(f, "  dom %d (%s): period %s budget %s extratime %d\n", d->id, d->name,
                fv_fmt_ns(svc0->period, p, sizeof(p)), fv_fmt_ns(svc0->budget, b, sizeof(b)),
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
