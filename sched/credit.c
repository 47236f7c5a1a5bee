/* credit.c — Xen's credit scheduler (credit1): weighted proportional share
 * with caps, BOOST on wake, per-pCPU runqueues and work stealing. It keeps
 * the semantics and constants of xen/common/sched/credit.c, written afresh
 * for fairvisor's ops interface (sched.h).
 *
 * Every tslice the master pCPU hands out credit among the active vCPUs by
 * their domain's weight; a vCPU burns 10 credits per ms it actually runs.
 * Priority follows credit: UNDER while credit >= 0, OVER below. Each pCPU
 * has a runqueue sorted by priority, FIFO within one. A vCPU that wakes
 * UNDER is boosted (BOOST) so that it preempts CPU hogs; the 10 ms tick
 * takes the boost back from whoever it finds running. A pCPU whose best
 * local choice is OVER (or nothing) steals strictly better work from its
 * peers. A capped vCPU that overspends is parked until its credit recovers.
 *
 * Insertion into a runqueue goes where Xen's scan would stop, before the
 * first vCPU of lower priority, but without the scan: each runqueue keeps
 * that vCPU for every priority (its "marks"), kept up to date as vCPUs come
 * and go and as accounting changes the priority of queued ones (a runqueue
 * is then unsorted until its next re-sort, as in Xen, and the marks follow
 * that order too). The re-sort itself walks a runqueue only if a vCPU may
 * be out of line in it.
 *
 * Charge-back (`sched.chargeback: on`; off by default, as Xen has none):
 * the charge hook burns a vCPU's credits for backend time exactly as for
 * time it ran (10 credits per ms, the same residual) and joins it to the
 * accounting as running does. Its priority changes at the next accounting,
 * as after a run: a domain whose I/O keeps Domain-0 busy goes OVER sooner,
 * so loses BOOST sooner, and if capped is parked sooner.
 *
 * Locking: the core calls every hook, and the two timer callbacks (the
 * master's accounting, each pCPU's tick), with the scheduler lock held. That
 * one lock covers all runqueues and the accounting state, so this file takes
 * no lock of its own: Xen's split between the private lock and per-runqueue
 * locks, and its trylock-based stealing, collapse into it.
 *
 * Deliberate deviations from Xen, and why:
 * - Burn is exact: the sub-credit remainder is carried once, in `residual`.
 *   Xen carries it both in residual and in start_time, so it over-burns by up
 *   to a credit per burn; a fairness testbed should not.
 * - A vCPU joins the accounting (the active list) whenever it burns credit,
 *   in do_schedule as well as at the tick. Xen joins only at the tick, so a
 *   vCPU whose runs all fall between ticks is never accounted: it burns
 *   credit yet keeps a stale UNDER, and so its BOOST, forever. Virtual time
 *   phase-locks any 10 ms periodic guest to the 10 ms tick, which would make
 *   that accident the rule (a 40%-hungry probe took 40% against 3 hogs).
 * - Parking is this policy's own state: a parked vCPU stays runnable to the
 *   core but is kept off the runqueues (Xen pauses it, which the core here
 *   does not offer).
 * - No migration of a running vCPU at the tick (Xen's csched_unit_acct asks
 *   _csched_cpu_pick for a better pCPU): the core cannot move a running unit.
 *   Instead the tick, and do_schedule when it leaves work queued, wake an
 *   idle pCPU that can steal that work; and stealing does not skip idle
 *   peers (the nr_runnable > 1 rule already leaves the peer its own work).
 *   So no pCPU idles while work it may run waits.
 * - Tickle: a vCPU waking onto an idle pCPU that is already tickled wakes
 *   another idle pCPU in its affinity, if any (Xen tickles the same pCPU
 *   again and spreads the load later through the tick migration above).
 * - A flat machine: no SMT/socket/NUMA balancing, no soft affinity, no
 *   migration delay (0 by default in Xen anyway).
 * - Ratelimit keeps the vCPU for max(ratelimit - runtime, 100 us); Xen uses
 *   100 us whenever runtime < 100 us, which only adds a reschedule.
 * - 64-bit accounting arithmetic, so that many pCPUs and heavy weights
 *   cannot overflow (Xen's is 32-bit).
 * - cap > 100 x vCPUs is refused when a domain is created or adjusted.
 */
#include "sched.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- constants (Xen's) ---------------------------------------------------- */

#define CSCHED_DEFAULT_WEIGHT     256
#define CSCHED_TICKS_PER_TSLICE   3
#define CSCHED_CREDITS_PER_MSEC   10
#define CSCHED_DEFAULT_TSLICE     FV_MS(30)
#define CSCHED_TSLICE_MIN         FV_MS(1)
#define CSCHED_TSLICE_MAX         FV_MS(1000)
#define CSCHED_DEFAULT_RATELIMIT  FV_MS(1)
#define CSCHED_RATELIMIT_MIN      FV_US(100)
#define CSCHED_RATELIMIT_MAX      FV_MS(500)
#define CSCHED_MIN_TIMER          CSCHED_RATELIMIT_MIN  /* never a shorter slice */
#define CSCHED_MAX_CAP            (100 * FV_MAX_PCPUS)  /* % of one pCPU */

#define CSCHED_PRI_TS_BOOST   0     /* time-share, waking up */
#define CSCHED_PRI_TS_UNDER  -1     /* time-share, with credit */
#define CSCHED_PRI_TS_OVER   -2     /* time-share, without credit */
#define CSCHED_PRI_IDLE     -64     /* nothing to run */
#define CSCHED_NR_RANKS       3     /* queued priorities: BOOST, UNDER, OVER */

#define CSCHED_FLAG_PARKED     (1u << 0)  /* capped and overspent: not run */
#define CSCHED_FLAG_YIELD      (1u << 1)  /* yielded since last descheduled */
#define CSCHED_FLAG_MIGRATING  (1u << 2)  /* just placed: next wake earns no boost */

/* ---- data ----------------------------------------------------------------- */

/* A minimal intrusive doubly-linked list, as Xen's list_head. */
struct clist {
    struct clist *prev, *next;
};

#define clist_entry(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

struct csched_pcpu {
    struct clist runq;              /* by priority, FIFO within one */
    int nr_queued;
    /* below[r]: the first queued vCPU of rank > r (see pri_rank), where a
     * vCPU of rank r is inserted; &runq when there is none. Bit r of
     * stale: below[r] is to be found again before use. */
    struct clist *below[CSCHED_NR_RANKS];
    unsigned int stale;
    bool mixed;                     /* a BOOST/UNDER may be behind an OVER */
    unsigned int runq_sort_last;    /* accounting epoch last sorted for */
    struct sched_timer ticker;      /* burns and un-boosts the running vCPU */
};

struct csched_dom;

struct csched_unit {
    struct clist runq_elem;
    struct clist active_elem;       /* on sdom->active_units while earning */
    struct sched_unit *unit;
    struct csched_dom *sdom;
    int runq_cpu;                   /* runqueue holding it; -1 when none */
    int pri;
    unsigned int flags;
    int credit;
    int64_t residual;               /* burnt ns x credits/ms short of a credit */
    fv_ns_t start_time;             /* burn accounted up to here while running */
};

struct csched_dom {
    struct clist active_units;
    struct clist active_sdom_elem;  /* on prv->active_sdom while any earns */
    struct sched_domain *dom;
    int64_t active_count;
    uint32_t weight;
    uint32_t cap;
};

struct csched_private {
    struct clist active_sdom;
    uint64_t weight;                /* sum of weight over active vCPUs */
    int64_t credit;                 /* credits_per_tslice x nr_cpus */
    int64_t credit_balance;         /* sum of active credit after accounting */
    int credits_per_tslice;
    fv_ns_t tslice, tick_period, ratelimit;
    unsigned int runq_sort;         /* accounting epoch: runqueues to re-sort */
    int master;
    struct sched_timer master_ticker;
    fv_cpumask_t idlers;            /* idle and not yet tickled */
    int last_tickle_cpu;
    int balance_bias;               /* peer to start the next steal after */
};

/* ---- helpers -------------------------------------------------------------- */

static inline struct csched_private *csched_priv(const struct scheduler *s) { return s->priv; }
static inline struct csched_pcpu *csched_pcpu(const struct scheduler *s, int cpu)
{
    return s->pcpus[cpu].priv;
}
static inline struct csched_unit *csched_unit(const struct sched_unit *u) { return u->priv; }
static inline struct csched_dom *csched_dom(const struct sched_domain *d) { return d->priv; }
static inline struct csched_unit *runq_elem(struct clist *l)
{
    return clist_entry(l, struct csched_unit, runq_elem);
}

static inline void clist_init(struct clist *l) { l->prev = l->next = l; }
static inline bool clist_empty(const struct clist *l) { return l->next == l; }

/* Insert n just before pos (at the tail when pos is the head). */
static inline void clist_add_before(struct clist *n, struct clist *pos)
{
    n->next = pos;
    n->prev = pos->prev;
    pos->prev->next = n;
    pos->prev = n;
}

static inline void clist_del_init(struct clist *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    clist_init(n);
}

static inline int64_t div_up(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Next cpu after `from` in m, among the first n, wrapping; -1 if none. */
static int cpumask_cycle(const fv_cpumask_t *m, int from, int n)
{
    int c = cpumask_next(m, from + 1);
    if (c < 0 || c >= n)
        c = cpumask_next(m, 0);
    return c >= 0 && c < n ? c : -1;
}

static fv_cpumask_t cpumask_and2(const fv_cpumask_t *a, const fv_cpumask_t *b)
{
    fv_cpumask_t r;
    for (unsigned i = 0; i < FV_MAX_PCPUS / 64; i++)
        r.bits[i] = a->bits[i] & b->bits[i];
    return r;
}

static const char *fmt_span(char *buf, size_t len, fv_ns_t ns)
{
    if (ns % FV_MS(1) == 0)
        snprintf(buf, len, "%" PRId64 "ms", (int64_t)(ns / FV_MS(1)));
    else if (ns % FV_US(1) == 0)
        snprintf(buf, len, "%" PRId64 "us", (int64_t)(ns / FV_US(1)));
    else
        snprintf(buf, len, "%" PRId64 "ns", ns);
    return buf;
}

static inline bool unit_on_runq(const struct csched_unit *svc) { return svc->runq_cpu >= 0; }

static int nr_runnable(const struct scheduler *s, int cpu)
{
    return csched_pcpu(s, cpu)->nr_queued + (s->pcpus[cpu].curr != NULL);
}

/* A queued priority as an index, best first: BOOST 0, UNDER 1, OVER 2. A
 * vCPU of rank r goes before the first one of a rank > r. */
static inline int pri_rank(int pri) { return CSCHED_PRI_TS_BOOST - pri; }
static inline int elem_rank(struct clist *l) { return pri_rank(runq_elem(l)->pri); }

/* The marks found by walking the queue, as the scan they replace would:
 * only the debugging check and an empty queue need this. */
static void runq_find_marks(struct csched_pcpu *spc, struct clist *below[])
{
    struct clist *head = &spc->runq;
    int found = 0;

    for (int r = 0; r < CSCHED_NR_RANKS; r++)
        below[r] = head;
    /* Nothing queued is below OVER: its mark is always the end. */
    for (struct clist *it = head->next; it != head && found < CSCHED_NR_RANKS - 1; it = it->next)
        for (int k = elem_rank(it); found < k && found < CSCHED_NR_RANKS - 1; found++)
            below[found] = it;
}

/* The first vCPU after e of rank > r: where the mark below[r] moves when e,
 * which held it, leaves the queue or rises above r. */
static struct clist *runq_next_below(struct csched_pcpu *spc, struct clist *e, int r)
{
    struct clist *it = e->next;
    while (it != &spc->runq && elem_rank(it) <= r)
        it = it->next;
    return it;
}

/* Whether a comes before b (both queued at head, a != b): 1, 0, or -1
 * if walking on from both at once has not told within `budget` steps. */
static int clist_precedes(const struct clist *a, const struct clist *b, const struct clist *head,
                          int budget)
{
    for (const struct clist *fa = a, *fb = b; budget-- > 0;) {
        fa = fa->next;
        if (fa == b || fa == head)
            return fa == b;
        fb = fb->next;
        if (fb == a || fb == head)
            return fb == head;
    }
    return -1;
}

static inline bool mark_stale(const struct csched_pcpu *spc, int r) { return spc->stale & (1u << r); }

/* Find below[r] again, walking on from the nearest good mark before it
 * (each mark is at or after the one of a better rank) and finding the
 * stale marks in between on the way. */
static void runq_refresh_mark(struct csched_pcpu *spc, int r)
{
    struct clist *it = spc->runq.next;
    int k = r - 1;

    while (k >= 0 && mark_stale(spc, k))
        k--;
    if (k >= 0)
        it = spc->below[k];
    for (k++; k <= r; k++) {
        while (it != &spc->runq && elem_rank(it) <= k)
            it = it->next;
        spc->below[k] = it;
        spc->stale &= ~(1u << k);
    }
}

#ifdef CSCHED_CHECK_RUNQ
/* Debugging aid (the unit test defines it): check the marks against the
 * linear scan they replace, Xen's csched_runq_insert, on every change. */
static void runq_check(struct csched_pcpu *spc, const struct csched_unit *svc,
                       const struct clist *pos)
{
    struct clist *iter, *mark[CSCHED_NR_RANKS];

    if (svc) {
        for (iter = spc->runq.next; iter != &spc->runq; iter = iter->next)
            if (svc->pri > runq_elem(iter)->pri)
                break;
        if ((svc->flags & CSCHED_FLAG_YIELD) && iter != &spc->runq)
            iter = iter->next;
        if (iter != pos) {
            fprintf(stderr, "credit: runq_insert u%d off the scan's place\n", svc->unit->id);
            abort();
        }
    }
    bool over_seen = false;
    for (iter = spc->runq.next; iter != &spc->runq && !spc->mixed; iter = iter->next) {
        over_seen |= elem_rank(iter) == pri_rank(CSCHED_PRI_TS_OVER);
        if (over_seen && elem_rank(iter) != pri_rank(CSCHED_PRI_TS_OVER)) {
            fprintf(stderr, "credit: runqueue out of order but not flagged mixed\n");
            abort();
        }
    }
    runq_find_marks(spc, mark);
    for (int r = 0; r < CSCHED_NR_RANKS; r++)
        if (!mark_stale(spc, r) && mark[r] != spc->below[r]) {
            fprintf(stderr, "credit: runqueue mark %d out of date\n", r);
            abort();
        }
}
#else
static inline void runq_check(struct csched_pcpu *spc, const struct csched_unit *svc,
                              const struct clist *pos)
{
    (void)spc, (void)svc, (void)pos;
}
#endif

/* How far set_pri walks to place a falling vCPU against a mark before it
 * leaves the mark to runq_refresh_mark. */
#define CSCHED_MARK_WALK 16

/* Accounting changes the priority of queued vCPUs, leaving the queue
 * unsorted until its next re-sort (as in Xen); the marks must follow. One
 * that rises passes on the marks it held. One that falls takes those it now
 * comes before: vCPUs fall because they ran, so they were queued lately,
 * often close to the mark; else the mark goes stale, to be found by one
 * walk for all the vCPUs that fall in this accounting. */
static void set_pri(struct scheduler *s, struct csched_unit *svc, int pri)
{
    int from = pri_rank(svc->pri), to = pri_rank(pri);

    svc->pri = pri;
    if (!unit_on_runq(svc) || from == to)
        return;
    struct csched_pcpu *spc = csched_pcpu(s, svc->runq_cpu);
    struct clist *e = &svc->runq_elem;
    /* Unless it is the first OVER rising or the last of BOOST and UNDER
     * falling, the re-sort will have to put it back in line. */
    int under = pri_rank(CSCHED_PRI_TS_UNDER), over = pri_rank(CSCHED_PRI_TS_OVER);
    if ((from == over) != (to == over)) {
        struct clist *first_over = mark_stale(spc, under) ? NULL : spc->below[under];
        if (first_over != (from == over ? e : e->next))
            spc->mixed = true;
    }
    for (int r = to; r < from; r++)
        if (!mark_stale(spc, r) && spc->below[r] == e)
            spc->below[r] = runq_next_below(spc, e, r);
    for (int r = from; r < to; r++) {
        if (mark_stale(spc, r))
            continue;
        int before = spc->below[r] == &spc->runq ? 1 :
                     clist_precedes(e, spc->below[r], &spc->runq, CSCHED_MARK_WALK);
        if (before > 0)
            spc->below[r] = e;
        else if (before < 0)
            spc->stale |= 1u << r;
    }
    runq_check(spc, NULL, NULL);
}

static void runq_insert(struct scheduler *s, struct csched_unit *svc, int cpu)
{
    struct csched_pcpu *spc = csched_pcpu(s, cpu);
    int rank = pri_rank(svc->pri);

    if (mark_stale(spc, rank))
        runq_refresh_mark(spc, rank);
    struct clist *pos = spc->below[rank];
    /* A yielder lets one lower-priority vCPU go first, if there is one; the
     * next sort brings it forward again if the queue is long. */
    if ((svc->flags & CSCHED_FLAG_YIELD) && pos != &spc->runq) {
        if (elem_rank(pos) == pri_rank(CSCHED_PRI_TS_OVER))
            spc->mixed = true;      /* an UNDER (or BOOST) behind an OVER */
        pos = pos->next;
    }
    runq_check(spc, svc, pos);
    clist_add_before(&svc->runq_elem, pos);
    /* svc is below the ranks better than its own. The marks of those were
     * at or before below[rank]: svc is their first only if it went just
     * before the one they held (not so for a yielder, which goes after). */
    for (int r = 0; r < rank; r++)
        if (!mark_stale(spc, r) && spc->below[r] == pos)
            spc->below[r] = &svc->runq_elem;
    svc->runq_cpu = cpu;
    spc->nr_queued++;
    runq_check(spc, NULL, NULL);
}

/* A mark on svc moves on to the next vCPU below its rank: on a sorted
 * queue, the next vCPU. */
static void runq_remove(struct scheduler *s, struct csched_unit *svc)
{
    struct csched_pcpu *spc = csched_pcpu(s, svc->runq_cpu);
    struct clist *e = &svc->runq_elem;

    for (int r = 0; r < CSCHED_NR_RANKS - 1; r++)
        if (!mark_stale(spc, r) && spc->below[r] == e)
            spc->below[r] = runq_next_below(spc, e, r);
    spc->nr_queued--;
    clist_del_init(e);
    svc->runq_cpu = -1;
    runq_check(spc, NULL, NULL);
}

/* Debit what svc ran since start_time, exactly: the remainder that does not
 * make a whole credit carries over, so a vCPU that always stops just before
 * a boundary still pays for all of it. */
static void burn_credits(struct csched_unit *svc, fv_ns_t now)
{
    fv_ns_t delta = now - svc->start_time;
    if (delta <= 0)
        return;
    int64_t val = delta * CSCHED_CREDITS_PER_MSEC + svc->residual;
    svc->credit -= (int)(val / FV_MS(1));
    svc->residual = val % FV_MS(1);
    svc->start_time = now;
}

static void acct_start(struct csched_private *prv, struct csched_unit *svc)
{
    struct csched_dom *sdom = svc->sdom;

    sdom->active_count++;
    clist_add_before(&svc->active_elem, sdom->active_units.next);
    prv->weight += sdom->weight;
    if (clist_empty(&sdom->active_sdom_elem))
        clist_add_before(&sdom->active_sdom_elem, prv->active_sdom.next);
}

/* Charge-back: backend time costs credits as run time does (see header). */
static void csched_charge(struct scheduler *s, struct sched_unit *u, fv_ns_t ns)
{
    struct csched_unit *svc = csched_unit(u);
    int64_t val = ns * CSCHED_CREDITS_PER_MSEC + svc->residual;

    svc->credit -= (int)(val / FV_MS(1));
    svc->residual = val % FV_MS(1);
    if (clist_empty(&svc->active_elem))
        acct_start(csched_priv(s), svc);
}

static void acct_stop(struct csched_private *prv, struct csched_unit *svc)
{
    struct csched_dom *sdom = svc->sdom;

    sdom->active_count--;
    clist_del_init(&svc->active_elem);
    prv->weight -= sdom->weight;
    if (clist_empty(&sdom->active_units))
        clist_del_init(&sdom->active_sdom_elem);
}

/* ---- tickling ------------------------------------------------------------- */

static void tickle_cpu(struct scheduler *s, int cpu)
{
    cpumask_clear(&csched_priv(s)->idlers, cpu);
    sched_tickle(s, cpu);
}

/* One idle pCPU among `m`, round-robin so that wake-ups spread. */
static int pick_idler(struct scheduler *s, const fv_cpumask_t *m)
{
    struct csched_private *prv = csched_priv(s);
    int c = cpumask_cycle(m, prv->last_tickle_cpu, s->nr_cpus);
    if (c >= 0)
        prv->last_tickle_cpu = c;
    return c;
}

/* svc was just queued on its runqueue's pCPU: make someone schedule it. An
 * idle target runs it; otherwise an idle pCPU in its affinity steals it, so
 * that a cache-hot running vCPU is left alone; only with no such idler does
 * a higher priority preempt the running vCPU. */
static void runq_tickle(struct scheduler *s, struct csched_unit *svc)
{
    struct csched_private *prv = csched_priv(s);
    int cpu = svc->runq_cpu;
    struct sched_unit *cur = sched_curr(s, cpu);
    int cur_pri = cur ? csched_unit(cur)->pri : CSCHED_PRI_IDLE;
    fv_cpumask_t suitable = cpumask_and2(&prv->idlers, &svc->unit->affinity);
    int target = -1;

    if ((!cur && cpumask_test(&prv->idlers, cpu)) ||
        (cpumask_empty(&prv->idlers) && svc->pri > cur_pri))
        target = cpu;
    else if (!cpumask_empty(&suitable))
        target = pick_idler(s, &suitable);
    if (target < 0 && svc->pri > cur_pri)
        target = cpu;
    if (target >= 0)
        tickle_cpu(s, target);
}

/* Work waits on cpu's runqueue: wake an idle pCPU that may steal it. */
static void kick_idler(struct scheduler *s, int cpu)
{
    struct csched_private *prv = csched_priv(s);
    struct csched_pcpu *spc = csched_pcpu(s, cpu);

    if (cpumask_empty(&prv->idlers))
        return;
    for (struct clist *it = spc->runq.next; it != &spc->runq; it = it->next) {
        fv_cpumask_t m = cpumask_and2(&prv->idlers, &runq_elem(it)->unit->affinity);
        int c = pick_idler(s, &m);
        if (c >= 0) {
            tickle_cpu(s, c);
            return;
        }
    }
}

/* ---- parking (capped vCPUs) ----------------------------------------------- */

static void park(struct scheduler *s, struct csched_unit *svc)
{
    svc->flags |= CSCHED_FLAG_PARKED;
    if (unit_on_runq(svc))
        runq_remove(s, svc);
    else if (svc->unit->is_running)
        sched_tickle(s, svc->unit->cpu);   /* do_schedule will not requeue it */
}

/* Back on a runqueue like a wake-up, but with no boost: it earned its way
 * back, it did not wait for I/O. */
static void unpark(struct scheduler *s, struct csched_unit *svc)
{
    struct sched_unit *u = svc->unit;

    svc->flags &= ~CSCHED_FLAG_PARKED;
    if (!u->runnable || u->is_running || unit_on_runq(svc))
        return;
    runq_insert(s, svc, u->cpu);
    runq_tickle(s, svc);
}

/* ---- accounting ----------------------------------------------------------- */

struct acct_round {
    int64_t credit_total;           /* grows by what capped domains leave */
    int64_t weight_total, weight_left;
    bool credit_xtra;               /* an earlier domain could use more */
    int64_t credit_balance;
};

static void acct_unit(struct scheduler *s, struct csched_unit *svc, int64_t fair,
                      int64_t cap, struct acct_round *r)
{
    struct csched_private *prv = csched_priv(s);
    int cpt = prv->credits_per_tslice;

    svc->credit += (int)fair;
    if (svc->credit < 0) {
        set_pri(s, svc, CSCHED_PRI_TS_OVER);
        if (svc->sdom->cap && svc->credit < -cap && !(svc->flags & CSCHED_FLAG_PARKED))
            park(s, svc);
        if (svc->credit < -cpt)
            svc->credit = -cpt;
    } else {
        set_pri(s, svc, CSCHED_PRI_TS_UNDER);
        if (svc->flags & CSCHED_FLAG_PARKED)
            unpark(s, svc);
        /* Idle-ish: stop earning, and restart a little ahead later. */
        if (svc->credit > cpt) {
            acct_stop(prv, svc);
            svc->credit /= 2;
        }
    }
    r->credit_balance += svc->credit;
}

static void acct_domain(struct scheduler *s, struct csched_dom *sdom, struct acct_round *r)
{
    struct csched_private *prv = csched_priv(s);
    int64_t n = sdom->active_count, w = sdom->weight, cap = 0;

    r->weight_left -= w * n;
    /* At most a tslice per active vCPU; more only to repay a negative balance. */
    int64_t peak = n * prv->credits_per_tslice;
    if (prv->credit_balance < 0)
        peak += div_up(-prv->credit_balance * w * n, r->weight_total);
    if (sdom->cap) {
        cap = div_up((int64_t)sdom->cap * prv->credits_per_tslice, 100);
        if (cap < peak)
            peak = cap;
        cap = div_up(cap, n);       /* per vCPU, the parking threshold */
    }
    int64_t fair = div_up(r->credit_total * w * n, r->weight_total);
    if (fair < peak) {
        r->credit_xtra = true;
    } else {
        /* What this domain cannot use goes to the ones after it... */
        if (r->weight_left)
            r->credit_total += div_up((fair - peak) * r->weight_total, r->weight_left);
        /* ...and it moves to the front, so that next time the ones before
         * it see its leftovers too. */
        if (r->credit_xtra) {
            clist_del_init(&sdom->active_sdom_elem);
            clist_add_before(&sdom->active_sdom_elem, prv->active_sdom.next);
        }
        fair = peak;
    }
    fair = div_up(fair, n);
    for (struct clist *it = sdom->active_units.next, *nx; it != &sdom->active_units; it = nx) {
        nx = it->next;
        acct_unit(s, clist_entry(it, struct csched_unit, active_elem), fair, cap, r);
    }
}

/* The master's timer, once a tslice. */
static void csched_acct(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    struct csched_private *prv = csched_priv(s);
    struct acct_round r = {
        .credit_total = prv->credit,
        .weight_total = (int64_t)prv->weight,
        .weight_left = (int64_t)prv->weight,
    };

    /* A negative balance means vCPUs ran on credit not yet handed out:
     * hand out more until it converges back to 0. */
    if (prv->credit_balance < 0)
        r.credit_total -= prv->credit_balance;
    if (prv->weight == 0) {
        prv->credit_balance = 0;
        goto out;
    }
    for (struct clist *it = prv->active_sdom.next, *nx; it != &prv->active_sdom; it = nx) {
        nx = it->next;
        acct_domain(s, clist_entry(it, struct csched_dom, active_sdom_elem), &r);
    }
    prv->credit_balance = r.credit_balance;
    prv->runq_sort++;
out:
    sched_timer_set(s, t, now + prv->tslice);
}

/* Priorities changed under the queued vCPUs: move UNDER (and BOOST) ahead of
 * OVER, keeping the order within each, once per accounting epoch. Nothing
 * to move unless `mixed` says so. The walk finds the marks on the way:
 * BOOST and UNDER keep their order, so the first UNDER it meets is the
 * first below BOOST, unless none is. */
static void runq_sort(struct scheduler *s, int cpu)
{
    struct csched_private *prv = csched_priv(s);
    struct csched_pcpu *spc = csched_pcpu(s, cpu);
    struct clist *elem = spc->runq.next, *last_under = &spc->runq, *first_under = NULL;

    if (spc->runq_sort_last == prv->runq_sort)
        return;
    spc->runq_sort_last = prv->runq_sort;
    if (!spc->mixed)
        return;
    while (elem != &spc->runq) {
        struct clist *next = elem->next;
        int pri = runq_elem(elem)->pri;
        if (pri >= CSCHED_PRI_TS_UNDER) {
            if (pri == CSCHED_PRI_TS_UNDER && !first_under)
                first_under = elem;
            if (elem->prev != last_under) {
                clist_del_init(elem);
                clist_add_before(elem, last_under->next);
            }
            last_under = elem;
        }
        elem = next;
    }
    spc->below[pri_rank(CSCHED_PRI_TS_OVER)] = &spc->runq;
    spc->below[pri_rank(CSCHED_PRI_TS_UNDER)] = last_under->next;
    spc->below[pri_rank(CSCHED_PRI_TS_BOOST)] = first_under ? first_under : last_under->next;
    spc->stale = 0;
    spc->mixed = false;
    runq_check(spc, NULL, NULL);
}

/* Each pCPU's tick, while it runs a vCPU. A vCPU found running here uses
 * real CPU, so it loses its boost; one that always blocks again before a
 * tick keeps it, which is what BOOST is for (I/O-bound vCPUs). */
static void csched_tick(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    struct csched_private *prv = csched_priv(s);
    int cpu = t->cpu;
    struct sched_unit *cur = sched_curr(s, cpu);

    if (cur) {
        struct csched_unit *svc = csched_unit(cur);
        if (svc->pri == CSCHED_PRI_TS_BOOST)
            set_pri(s, svc, CSCHED_PRI_TS_UNDER);
        burn_credits(svc, now);
        if (clist_empty(&svc->active_elem))
            acct_start(prv, svc);
        kick_idler(s, cpu);
    }
    runq_sort(s, cpu);
    sched_timer_set(s, t, now + prv->tick_period);
}

/* ---- scheduling ----------------------------------------------------------- */

static struct csched_unit *runq_steal(struct scheduler *s, int peer, int cpu, int pri)
{
    struct csched_pcpu *spc = csched_pcpu(s, peer);

    for (struct clist *it = spc->runq.next; it != &spc->runq; it = it->next) {
        struct csched_unit *speer = runq_elem(it);
        /* Sorted: nothing further can beat what we have. */
        if (speer->pri <= pri)
            break;
        if ((speer->flags & CSCHED_FLAG_YIELD) || speer->unit->is_running ||
            !cpumask_test(&speer->unit->affinity, cpu))
            continue;
        runq_remove(s, speer);
        return speer;
    }
    return NULL;
}

/* Strictly better work than `pri` from a peer, starting after the last peer
 * stolen from. A peer with one runnable vCPU has nothing to spare. */
static struct csched_unit *load_balance(struct scheduler *s, int cpu, int pri)
{
    struct csched_private *prv = csched_priv(s);

    for (int i = 1; i <= s->nr_cpus; i++) {
        int peer = (prv->balance_bias + i) % s->nr_cpus;
        if (peer == cpu || nr_runnable(s, peer) <= 1)
            continue;
        struct csched_unit *speer = runq_steal(s, peer, cpu, pri);
        if (speer) {
            prv->balance_bias = peer;
            return speer;
        }
    }
    return NULL;
}

static struct csched_unit *runq_pick(struct scheduler *s, int cpu)
{
    struct csched_pcpu *spc = csched_pcpu(s, cpu);
    struct csched_unit *snext = clist_empty(&spc->runq) ? NULL : runq_elem(spc->runq.next);
    int pri = snext ? snext->pri : CSCHED_PRI_IDLE;

    if (pri <= CSCHED_PRI_TS_OVER) {
        struct csched_unit *speer = load_balance(s, cpu, pri);
        if (speer)
            return speer;
    }
    if (snext)
        runq_remove(s, snext);
    return snext;
}

/* Whether prev keeps the pCPU: it ran less than ratelimit and neither
 * blocked, was parked nor yielded (a yielder may be about to spin). */
static bool ratelimited(const struct csched_private *prv, const struct sched_unit *prev,
                        fv_ns_t runtime)
{
    const struct csched_unit *scurr = csched_unit(prev);
    return prv->ratelimit && runtime < prv->ratelimit && prev->runnable &&
           !(scurr->flags & (CSCHED_FLAG_YIELD | CSCHED_FLAG_PARKED));
}

/* The tick runs only while the pCPU runs a vCPU, aligned to its period. */
static void ticker_update(struct scheduler *s, int cpu, bool busy, fv_ns_t now)
{
    struct csched_private *prv = csched_priv(s);
    struct sched_timer *t = &csched_pcpu(s, cpu)->ticker;

    if (busy && !sched_timer_armed(t))
        sched_timer_set(s, t, now + prv->tick_period - now % prv->tick_period);
    else if (!busy && sched_timer_armed(t))
        sched_timer_stop(s, t);
}

static struct sched_decision csched_schedule(struct scheduler *s, int cpu, fv_ns_t now)
{
    struct csched_private *prv = csched_priv(s);
    struct sched_unit *prev = sched_curr(s, cpu);

    if (prev) {
        struct csched_unit *scurr = csched_unit(prev);
        fv_ns_t runtime = now - prev->state_since;
        burn_credits(scurr, now);
        if (clist_empty(&scurr->active_elem))
            acct_start(prv, scurr);
        if (ratelimited(prv, prev, runtime)) {
            fv_ns_t left = prv->ratelimit - runtime;
            if (left < CSCHED_MIN_TIMER)
                left = CSCHED_MIN_TIMER;
            return (struct sched_decision){ prev, left };
        }
        if (prev->runnable && !(scurr->flags & CSCHED_FLAG_PARKED))
            runq_insert(s, scurr, cpu);
        scurr->flags &= ~CSCHED_FLAG_YIELD;
    }

    struct csched_unit *snext = runq_pick(s, cpu);
    if (snext)
        cpumask_clear(&prv->idlers, cpu);
    else
        cpumask_set(&prv->idlers, cpu);
    ticker_update(s, cpu, snext != NULL, now);
    if (!snext)
        return (struct sched_decision){ NULL, -1 };
    /* prev requeued behind stolen work, say: let an idler take it now. */
    kick_idler(s, cpu);
    snext->start_time = now;
    return (struct sched_decision){ snext->unit, prv->tslice };
}

/* ---- parameters ----------------------------------------------------------- */

static const struct sched_param_desc csched_dom_params[] = {
    { .name = "weight", .kind = SCHED_PARAM_INT, .min = 1, .max = 65535,
      .def = CSCHED_DEFAULT_WEIGHT, .help = "relative CPU share against other domains" },
    { .name = "cap", .kind = SCHED_PARAM_INT, .min = 0, .max = CSCHED_MAX_CAP, .def = 0,
      .help = "most CPU it may use, in % of one pCPU (0 = none, <= 100 x vcpus)" },
    { .name = NULL },
};

static const struct sched_param_desc csched_global_params[] = {
    { .name = "tslice", .kind = SCHED_PARAM_NS, .min = CSCHED_TSLICE_MIN,
      .max = CSCHED_TSLICE_MAX, .def = CSCHED_DEFAULT_TSLICE,
      .help = "time slice and accounting period (3 ticks of credit burn)" },
    { .name = "ratelimit", .kind = SCHED_PARAM_NS, .min = 0, .max = CSCHED_RATELIMIT_MAX,
      .def = CSCHED_DEFAULT_RATELIMIT,
      .help = "least run before preemption (0 = off, else 100us..500ms, <= tslice)" },
    { .name = NULL },
};

static int csched_check_global(const struct sched_global_params *gp, char *err, size_t errlen)
{
    char a[32], b[32];

    if (gp->tslice < CSCHED_TSLICE_MIN || gp->tslice > CSCHED_TSLICE_MAX) {
        snprintf(err, errlen, "tslice %s out of range (expected 1ms..1000ms)",
                 fmt_span(a, sizeof(a), gp->tslice));
        return -EINVAL;
    }
    if (gp->ratelimit &&
        (gp->ratelimit < CSCHED_RATELIMIT_MIN || gp->ratelimit > CSCHED_RATELIMIT_MAX)) {
        snprintf(err, errlen, "ratelimit %s out of range (expected 0 for off, or 100us..500ms)",
                 fmt_span(a, sizeof(a), gp->ratelimit));
        return -EINVAL;
    }
    if (gp->ratelimit > gp->tslice) {
        snprintf(err, errlen, "ratelimit %s exceeds tslice %s (expected ratelimit <= tslice)",
                 fmt_span(a, sizeof(a), gp->ratelimit), fmt_span(b, sizeof(b), gp->tslice));
        return -EINVAL;
    }
    return 0;
}

static int csched_check_dom(const struct sched_dom_params *p, char *err, size_t errlen)
{
    if (p->weight < SCHED_MIN_WEIGHT || p->weight > SCHED_MAX_WEIGHT) {
        snprintf(err, errlen, "weight %" PRIu32 " out of range (expected %d..%d)",
                 p->weight, SCHED_MIN_WEIGHT, SCHED_MAX_WEIGHT);
        return -EINVAL;
    }
    if (p->cap > CSCHED_MAX_CAP) {
        snprintf(err, errlen, "cap %" PRIu32 " out of range (expected 0..%d, "
                 "%% of one pCPU, at most 100 per vCPU)", p->cap, CSCHED_MAX_CAP);
        return -EINVAL;
    }
    return 0;
}

static void csched_set_tslice(struct scheduler *s, fv_ns_t tslice)
{
    struct csched_private *prv = csched_priv(s);
    int ticks = tslice < FV_MS(CSCHED_TICKS_PER_TSLICE) ? 1 : CSCHED_TICKS_PER_TSLICE;

    prv->tslice = tslice;
    prv->tick_period = tslice / ticks;
    prv->credits_per_tslice = (int)(tslice * CSCHED_CREDITS_PER_MSEC / FV_MS(1));
    prv->credit = (int64_t)prv->credits_per_tslice * s->nr_cpus;
}

/* ---- ops ------------------------------------------------------------------ */

static int csched_init(struct scheduler *s)
{
    struct csched_private *prv = calloc(1, sizeof(*prv));
    if (!prv)
        return -ENOMEM;
    s->priv = prv;
    clist_init(&prv->active_sdom);
    csched_set_tslice(s, s->gp.tslice);
    prv->ratelimit = s->gp.ratelimit;
    prv->master = 0;
    prv->last_tickle_cpu = s->nr_cpus - 1;
    prv->balance_bias = s->nr_cpus - 1;
    sched_timer_init(&prv->master_ticker, csched_acct, prv, prv->master);
    sched_timer_set(s, &prv->master_ticker, sched_now(s) + prv->tslice);
    return 0;
}

static void csched_deinit(struct scheduler *s)
{
    struct csched_private *prv = csched_priv(s);
    if (!prv)
        return;
    sched_timer_stop(s, &prv->master_ticker);
    free(prv);
    s->priv = NULL;
}

static int csched_alloc_pdata(struct scheduler *s, int cpu)
{
    struct csched_pcpu *spc = calloc(1, sizeof(*spc));
    if (!spc)
        return -ENOMEM;
    clist_init(&spc->runq);
    runq_find_marks(spc, spc->below);
    spc->runq_sort_last = csched_priv(s)->runq_sort;
    sched_timer_init(&spc->ticker, csched_tick, spc, cpu);
    s->pcpus[cpu].priv = spc;
    cpumask_set(&csched_priv(s)->idlers, cpu);
    return 0;
}

static void csched_free_pdata(struct scheduler *s, int cpu)
{
    struct csched_pcpu *spc = csched_pcpu(s, cpu);
    if (!spc)
        return;
    sched_timer_stop(s, &spc->ticker);
    free(spc);
    s->pcpus[cpu].priv = NULL;
}

static int csched_alloc_domdata(struct scheduler *s, struct sched_domain *d)
{
    (void)s;
    /* Only here are the vCPUs known: more than 100% per vCPU is unusable. */
    if (d->params.cap > 100u * (uint32_t)d->nr_units)
        return -EINVAL;
    struct csched_dom *sdom = calloc(1, sizeof(*sdom));
    if (!sdom)
        return -ENOMEM;
    clist_init(&sdom->active_units);
    clist_init(&sdom->active_sdom_elem);
    sdom->dom = d;
    sdom->weight = d->params.weight;
    sdom->cap = d->params.cap;
    d->priv = sdom;
    return 0;
}

static void csched_free_domdata(struct scheduler *s, struct sched_domain *d)
{
    (void)s;
    free(d->priv);
    d->priv = NULL;
}

static int csched_alloc_udata(struct scheduler *s, struct sched_unit *u)
{
    (void)s;
    struct csched_unit *svc = calloc(1, sizeof(*svc));
    if (!svc)
        return -ENOMEM;
    clist_init(&svc->runq_elem);
    clist_init(&svc->active_elem);
    svc->unit = u;
    svc->sdom = csched_dom(u->dom);
    svc->runq_cpu = -1;
    svc->pri = CSCHED_PRI_TS_UNDER;
    u->priv = svc;
    return 0;
}

static void csched_free_udata(struct scheduler *s, struct sched_unit *u)
{
    (void)s;
    free(u->priv);
    u->priv = NULL;
}

/* An idle pCPU in the affinity, the current one first; else the current
 * one if allowed; else the first allowed. */
static int csched_pick_pcpu(struct scheduler *s, struct sched_unit *u)
{
    struct csched_private *prv = csched_priv(s);
    fv_cpumask_t idle = cpumask_and2(&prv->idlers, &u->affinity);
    bool cur_ok = u->cpu >= 0 && u->cpu < s->nr_cpus && cpumask_test(&u->affinity, u->cpu);

    if (cur_ok && cpumask_test(&idle, u->cpu))
        return u->cpu;
    int c = cpumask_cycle(&idle, cur_ok ? u->cpu : -1, s->nr_cpus);
    if (c >= 0)
        return c;
    if (cur_ok)
        return u->cpu;
    c = cpumask_cycle(&u->affinity, -1, s->nr_cpus);
    return c >= 0 ? c : 0;
}

/* As Xen's insert, which places the vCPU through pick_resource: its first
 * wake-up is a placement, not the end of a wait, and earns no boost. */
static void csched_insert_unit(struct scheduler *s, struct sched_unit *u)
{
    struct csched_unit *svc = csched_unit(u);

    svc->flags |= CSCHED_FLAG_MIGRATING;
    if (u->runnable && !u->is_running && !unit_on_runq(svc)) {
        runq_insert(s, svc, u->cpu);
        runq_tickle(s, svc);
    }
}

static void csched_remove_unit(struct scheduler *s, struct sched_unit *u)
{
    struct csched_unit *svc = csched_unit(u);

    if (unit_on_runq(svc))
        runq_remove(s, svc);
    svc->flags &= ~CSCHED_FLAG_PARKED;
    if (!clist_empty(&svc->active_elem))
        acct_stop(csched_priv(s), svc);
}

/* Blocked: off the runqueue. If it is running the core tickles its pCPU and
 * do_schedule will not requeue it. */
static void csched_sleep(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    (void)now;
    struct csched_unit *svc = csched_unit(u);
    if (unit_on_runq(svc))
        runq_remove(s, svc);
}

/* Boost a vCPU that waits with credit to spare so that it preempts hogs:
 * if it then runs long enough to meet a tick, it loses the boost, so only
 * the ones that block again quickly (I/O) keep it. */
static void csched_wake(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    (void)now;
    struct csched_unit *svc = csched_unit(u);
    bool migrating = svc->flags & CSCHED_FLAG_MIGRATING;

    if (u->is_running || unit_on_runq(svc))
        return;
    svc->flags &= ~CSCHED_FLAG_MIGRATING;
    if (svc->flags & CSCHED_FLAG_PARKED)
        return;                     /* accounting unparks it */
    if (!migrating && svc->pri == CSCHED_PRI_TS_UNDER)
        set_pri(s, svc, CSCHED_PRI_TS_BOOST);
    int cpu = u->cpu;
    if (cpu < 0 || cpu >= s->nr_cpus || !cpumask_test(&u->affinity, cpu))
        cpu = csched_pick_pcpu(s, u);   /* affinity changed under it */
    runq_insert(s, svc, cpu);
    runq_tickle(s, svc);
}

/* Only the running vCPU can yield (Xen's yield is its own hypercall): a
 * flag left on a queued one would just make it unstealable. */
static void csched_yield(struct scheduler *s, struct sched_unit *u)
{
    (void)s;
    if (u->is_running)
        csched_unit(u)->flags |= CSCHED_FLAG_YIELD;
}

static int csched_adjust(struct scheduler *s, struct sched_domain *d,
                         const struct sched_dom_params *p)
{
    struct csched_private *prv = csched_priv(s);
    struct csched_dom *sdom = csched_dom(d);
    char err[128];

    if (csched_check_dom(p, err, sizeof(err)) || p->cap > 100u * (uint32_t)d->nr_units)
        return -EINVAL;
    if (!clist_empty(&sdom->active_sdom_elem)) {
        prv->weight -= (uint64_t)sdom->weight * (uint64_t)sdom->active_count;
        prv->weight += (uint64_t)p->weight * (uint64_t)sdom->active_count;
    }
    sdom->weight = p->weight;
    sdom->cap = p->cap;
    return 0;
}

/* New values apply from each timer's next period, as in Xen. */
static int csched_adjust_global(struct scheduler *s, const struct sched_global_params *gp)
{
    char err[128];

    if (csched_check_global(gp, err, sizeof(err)))
        return -EINVAL;
    csched_set_tslice(s, gp->tslice);
    csched_priv(s)->ratelimit = gp->ratelimit;
    return 0;
}

static void dump_unit(FILE *f, const struct csched_unit *svc)
{
    const struct sched_unit *u = svc->unit;
    fprintf(f, "u%d [%d.%d] pri=%d credit=%d flags=%s%s%s cpu=%d w=%" PRIu32 " cap=%" PRIu32
            " active=%d\n", u->id, u->dom->id, u->vcpu_id, svc->pri, svc->credit,
            svc->flags & CSCHED_FLAG_PARKED ? "P" : "-", svc->flags & CSCHED_FLAG_YIELD ? "Y" : "-",
            svc->flags & CSCHED_FLAG_MIGRATING ? "M" : "-", u->cpu, svc->sdom->weight,
            svc->sdom->cap, !clist_empty(&svc->active_elem));
}

static void csched_dump(struct scheduler *s, FILE *f)
{
    struct csched_private *prv = csched_priv(s);
    char a[32], b[32];

    fprintf(f, "credit: ncpus=%d master=%d tslice=%s ratelimit=%s credits/tslice=%d "
            "credit=%" PRId64 " balance=%" PRId64 " weight=%" PRIu64 " runq_sort=%u\n",
            s->nr_cpus, prv->master, fmt_span(a, sizeof(a), prv->tslice),
            fmt_span(b, sizeof(b), prv->ratelimit), prv->credits_per_tslice, prv->credit,
            prv->credit_balance, prv->weight, prv->runq_sort);
    for (int c = 0; c < s->nr_cpus; c++) {
        struct csched_pcpu *spc = csched_pcpu(s, c);
        struct sched_unit *cur = sched_curr(s, c);
        fprintf(f, "cpu %d: nr_runnable=%d sort=%u%s\n", c, nr_runnable(s, c),
                spc->runq_sort_last, cpumask_test(&prv->idlers, c) ? " idle" : "");
        if (cur) {
            fprintf(f, "  run: ");
            dump_unit(f, csched_unit(cur));
        }
        int i = 0;
        for (struct clist *it = spc->runq.next; it != &spc->runq; it = it->next) {
            fprintf(f, "  %3d: ", ++i);
            dump_unit(f, runq_elem(it));
        }
    }
    fprintf(f, "units:\n");
    for (int i = 0; i < s->nr_units; i++) {
        if (s->units[i]->dom->dead)
            continue;
        fprintf(f, "  ");
        dump_unit(f, csched_unit(s->units[i]));
    }
}

const struct sched_ops sched_credit_ops = {
    .name = "credit",
    .help = "Xen's credit scheduler: weights, caps, BOOST on wake, 30 ms slices",
    .dom_params = csched_dom_params,
    .global_params = csched_global_params,
    .init = csched_init,
    .deinit = csched_deinit,
    .alloc_udata = csched_alloc_udata,
    .free_udata = csched_free_udata,
    .do_schedule = csched_schedule,
    .pick_pcpu = csched_pick_pcpu,
    .alloc_pdata = csched_alloc_pdata,
    .free_pdata = csched_free_pdata,
    .alloc_domdata = csched_alloc_domdata,
    .free_domdata = csched_free_domdata,
    .insert_unit = csched_insert_unit,
    .remove_unit = csched_remove_unit,
    .sleep = csched_sleep,
    .wake = csched_wake,
    .yield = csched_yield,
    .check_global = csched_check_global,
    .check_dom = csched_check_dom,
    .adjust = csched_adjust,
    .adjust_global = csched_adjust_global,
    .charge = csched_charge,
    .dump = csched_dump,
};
