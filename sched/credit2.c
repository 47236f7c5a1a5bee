/* credit2.c — Xen's credit2 scheduler (xen/common/sched/credit2.c), written
 * anew for fairvisor's ops interface.
 *
 * Every vCPU holds credit, in ns. Running burns it at max_weight / weight
 * credits per ns, so the heaviest vCPU burns 1 credit per ns and a vCPU of
 * half that weight burns 2. The runqueue is sorted by credit, highest first,
 * and a pCPU runs the highest-credit vCPU it may run. When the vCPU about to
 * run (the head) has no credit left, an epoch ends: every vCPU gets
 * CREDIT_INIT more, clipped to CREDIT_INIT + CARRYOVER_MAX, so a vCPU that
 * slept through an epoch cannot bank credit. Over an epoch each competing
 * vCPU burns about CREDIT_INIT credits, hence runs time in proportion to its
 * weight.
 *
 * A slice lasts until the vCPU's credit reaches 0 or that of the next
 * waiter, clamped to [max(MIN_TIMER, rest of the ratelimit), MAX_TIMER] and
 * to the cap budget. A cap gives the domain 10 ms x cap / 100 of budget per
 * 10 ms period, in a pool its vCPUs draw quotas from; a vCPU that finds the
 * pool empty is parked (kept off the runqueue) until the domain's
 * replenishment timer refills the pool.
 *
 * A vCPU put on the runqueue tickles an idle pCPU of its affinity, else the
 * busy pCPU whose vCPU it out-credits the most (by MIGRATE_RESIST more when
 * that pCPU is not the one it last ran on, and only once that vCPU has used
 * its ratelimit); pCPUs pull waiters from other pCPUs on the same terms.
 *
 * Data structures, for thousands of vCPUs: the runqueue is a red-black
 * tree (libbsd's RB_*) where Xen keeps a sorted list, keyed by credit and
 * then by an insertion number, so that equal credit stays first come,
 * first served exactly as in the list; its head is cached. Queueing and
 * dequeueing cost O(log n), and picking walks from the head only past
 * units that out-credit the current one but may not run here. The only
 * walks over every vCPU are Xen's own: the credit reset at the end of an
 * epoch (same trigger as Xen: the better of the next vCPU and the head
 * has no credit left) and recomputing max_weight when the last vCPU of
 * that weight leaves or weights change. A domain counts its parked vCPUs,
 * so returning budget does not walk them when none is parked.
 *
 * Locking: the core calls every hook, and the replenishment timer callback,
 * with the scheduler lock held (sched.h). All the state below — runqueue
 * tree, masks, credits, budgets — is therefore protected by that one lock;
 * Xen's runqueue locks, private rwlock and per-domain budget_lock collapse
 * into it, and nothing here takes a lock of its own.
 *
 * Deliberate deviations from Xen, and why:
 * - One runqueue shared by all pCPUs (Xen's credit2_runqueue=all). Xen's
 *   default is one per socket, but fairvisor has no sockets to group pCPUs
 *   by, and with a single runqueue Xen's load balancing between runqueues
 *   (and its load tracking, which exists only to drive it) has nothing to
 *   do, so neither is implemented. pick_pcpu only chooses a pCPU inside it.
 * - No soft affinity and no SMT awareness: the interface has neither.
 * - A vCPU picked from the runqueue whose domain has no budget left is
 *   parked and the scan goes on to the next candidate; Xen stops the scan
 *   there and may leave the pCPU idle until the next event.
 * - A yielding vCPU gives way to any eligible waiter, even one last run on
 *   another pCPU (Xen still applies migration resistance to it): a yield
 *   says the vCPU has nothing useful to do, so resisting is pointless.
 * - No context_saved step: the core commits a decision when do_schedule
 *   returns, so the previous vCPU is requeued (and its budget returned)
 *   inside do_schedule, after the slice of the next one has been computed
 *   against the runqueue without it, exactly as Xen computes it.
 * - Charge-back (`sched.chargeback: on`; off by default, as Xen never
 *   charges a domain for work done on its behalf elsewhere): the charge
 *   hook burns a vCPU's credit for backend time as for its own run,
 *   ns x max_weight / weight with the same residual, floored at
 *   CREDIT_MIN; a queued vCPU moves back in the runqueue (behind its new
 *   equals), a running one keeps its slice. The cap budget is not drawn:
 *   it bounds the domain's own CPU.
 */
#include "sched.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>

#include "../hv/rbtree.h"

/* ---- constants (Xen's values) ----------------------------------------- */

#define C2_CREDIT_INIT      FV_MS(10)           /* start of every epoch */
#define C2_CREDIT_MIN       (-C2_CREDIT_INIT)   /* deeper debt is not tracked */
#define C2_IDLE_CREDIT      (C2_CREDIT_MIN - 1) /* below any real vCPU */
#define C2_CREDIT_RESET     0                   /* head at or below: epoch ends */
#define C2_MIN_TIMER        FV_US(500)          /* shortest slice worth a switch */
#define C2_MAX_TIMER        C2_CREDIT_INIT      /* longest slice */
#define C2_CARRYOVER_MAX    C2_MIN_TIMER        /* credit kept across a reset */
#define C2_MIGRATE_RESIST   FV_US(500)          /* credit edge to pull across pCPUs */
#define C2_MIGRATE_COMP     FV_US(50)           /* refund for a cold cache */
#define C2_RATELIMIT_TOL    FV_US(50)           /* slack when peeking at others' runtime */
#define C2_BDGT_PERIOD      FV_MS(10)           /* cap replenishment period */

#define C2_RATELIMIT_MIN    FV_US(100)
#define C2_RATELIMIT_MAX    FV_MS(500)
#define C2_RATELIMIT_DEF    FV_MS(1)
#define C2_CAP_MAX          65535               /* Xen keeps cap in a uint16_t */

/* ---- data --------------------------------------------------------------- */

/* Intrusive doubly-linked list with a sentinel (the unit list). */
struct c2_link {
    struct c2_link *next, *prev;
};

/* The runqueue: a red-black tree ordered by c2_rq_cmp (credit desc, then
 * insertion order), so a wake costs O(log n) however many vCPUs wait. */
RB_HEAD(c2_runq, c2_unit);

struct c2_private {
    struct c2_runq runq;            /* runnable, not running, by credit desc */
    struct c2_unit *rq_first;       /* leftmost of runq (its head), NULL if empty */
    uint64_t rq_seq;                /* next insertion number (FIFO among equals) */
    struct c2_link svc;             /* every inserted unit (Xen's rqd->svc) */
    fv_cpumask_t idle;              /* pCPUs running nothing */
    fv_cpumask_t tickled;           /* asked to schedule, not yet done */
    uint32_t max_weight;            /* heaviest inserted vCPU */
    uint32_t nr_max_weight;         /* inserted vCPUs that weigh max_weight */
    fv_ns_t ratelimit;              /* 0 = off */
    uint64_t nr_resets;             /* credit resets so far (dump) */
};

struct c2_pcpu {
    struct sched_unit *curr;        /* what this pCPU runs, as decided here */
};

struct c2_dom {
    uint32_t weight;
    uint32_t cap;                   /* % of one pCPU, 0 = none */
    fv_ns_t tot_budget;             /* per period: PERIOD x cap / 100 */
    fv_ns_t budget;                 /* pool left this period (may be < 0) */
    fv_ns_t next_repl;              /* next replenishment */
    struct sched_timer repl;        /* refills the pool every period */
    int nr_parked;                  /* its vCPUs parked for want of budget */
};

struct c2_unit {
    struct sched_unit *unit;        /* up-pointer */
    RB_ENTRY(c2_unit) rq;           /* on prv->runq when on_runq */
    uint64_t rq_seq;                /* insertion number, ties on the runq */
    bool on_runq;
    struct c2_link svc;             /* on prv->svc while inserted */
    fv_ns_t credit;
    uint32_t weight;
    uint32_t residual;              /* remainder of the last burn's division */
    fv_ns_t start;                  /* credit accounted up to here */
    fv_ns_t run_since;              /* when it got its pCPU (ratelimit) */
    fv_ns_t budget;                 /* grabbed from the pool (capped only) */
    fv_ns_t budget_quota;           /* what one grab takes */
    int tickled_cpu;                /* pCPU tickled to run it, -1 none */
    bool parked;                    /* capped and out of budget */
    bool yield;
};

/* ---- helpers: typed accessors ------------------------------------------- */

static inline struct c2_private *c2_priv(const struct scheduler *s) { return s->priv; }
static inline struct c2_pcpu *c2_pcpu(const struct scheduler *s, int cpu)
{
    return s->pcpus[cpu].priv;
}
static inline struct c2_unit *c2_unit(const struct sched_unit *u) { return u->priv; }
static inline struct c2_dom *c2_dom(const struct sched_domain *d) { return d->priv; }

static inline bool c2_capped(const struct sched_unit *u) { return c2_dom(u->dom)->cap != 0; }

/* Runnable as far as this policy is concerned: not blocked, not parked. */
static inline bool c2_runnable(const struct sched_unit *u)
{
    return u->runnable && !c2_unit(u)->parked;
}

/* ---- helpers: runqueue -------------------------------------------------- */

/* Runqueue order: more credit first; equal credit in order of insertion,
 * as Xen's list walk, which inserts after every unit with as much. rq_seq
 * only grows, so a unit inserted now goes after all its equals. */
static int c2_rq_cmp(const struct c2_unit *a, const struct c2_unit *b)
{
    if (a->credit != b->credit)
        return a->credit > b->credit ? -1 : 1;
    return a->rq_seq < b->rq_seq ? -1 : a->rq_seq > b->rq_seq;
}

RB_GENERATE_STATIC(c2_runq, c2_unit, rq, c2_rq_cmp)

static inline struct c2_unit *c2_svc_entry(struct c2_link *l)
{
    return (struct c2_unit *)((char *)l - offsetof(struct c2_unit, svc));
}

/* Every inserted unit, in insertion order. */
#define for_each_svc(prv, cu)                                                  \
    for (struct c2_link *l_ = (prv)->svc.next;                                 \
         l_ != &(prv)->svc ? ((cu) = c2_svc_entry(l_), true) : false; l_ = l_->next)

static inline struct sched_unit *c2_rq_head(struct c2_private *prv)
{
    return prv->rq_first ? prv->rq_first->unit : NULL;
}

static void c2_link_init(struct c2_link *l) { l->next = l->prev = l; }

static void c2_link_before(struct c2_link *l, struct c2_link *pos)
{
    l->next = pos;
    l->prev = pos->prev;
    pos->prev->next = l;
    pos->prev = l;
}

static void c2_link_del(struct c2_link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    c2_link_init(l);
}

/* Insert by credit, after every unit with as much: equal credit is FIFO.
 * The head is cached: the slice length and the reset test read it on
 * every decision. */
static void runq_insert(struct scheduler *s, struct sched_unit *u)
{
    struct c2_private *prv = c2_priv(s);
    struct c2_unit *cu = c2_unit(u);

    cu->rq_seq = prv->rq_seq++;
    RB_INSERT(c2_runq, &prv->runq, cu);
    cu->on_runq = true;
    if (!prv->rq_first || c2_rq_cmp(cu, prv->rq_first) < 0)
        prv->rq_first = cu;
}

static void runq_remove(struct scheduler *s, struct sched_unit *u)
{
    struct c2_private *prv = c2_priv(s);
    struct c2_unit *cu = c2_unit(u);

    if (!cu->on_runq)
        return;
    if (prv->rq_first == cu)
        prv->rq_first = RB_NEXT(c2_runq, &prv->runq, cu);
    RB_REMOVE(c2_runq, &prv->runq, cu);
    cu->on_runq = false;
}

/* Recompute max_weight (and how many units have it) from every unit. */
static void update_max_weight(struct scheduler *s)
{
    struct c2_private *prv = c2_priv(s);
    struct c2_unit *cu;
    uint32_t mw = 1, nr = 0;

    for_each_svc(prv, cu) {
        if (cu->weight > mw) {
            mw = cu->weight;
            nr = 0;
        }
        nr += cu->weight == mw;
    }
    prv->max_weight = mw;
    prv->nr_max_weight = nr;
}

/* ---- helpers: credit ---------------------------------------------------- */

/* Burn the credit (and budget) of a unit running since cu->start. The
 * residual keeps frequent short runs from rounding away credit. */
static void burn_credits(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    struct c2_unit *cu = c2_unit(u);
    fv_ns_t delta = now - cu->start;

    if (delta <= 0)
        return;
    uint64_t val = (uint64_t)delta * c2_priv(s)->max_weight + cu->residual;
    cu->residual = (uint32_t)(val % cu->weight);
    cu->credit -= (fv_ns_t)(val / cu->weight);
    if (cu->credit < C2_CREDIT_MIN)
        cu->credit = C2_CREDIT_MIN;
    if (c2_capped(u))
        cu->budget -= delta;
    cu->start = now;
}

/* Charge-back: backend time costs credit as run time does (see header). */
static void c2_charge(struct scheduler *s, struct sched_unit *u, fv_ns_t ns)
{
    struct c2_unit *cu = c2_unit(u);
    bool queued = cu->on_runq;

    if (queued)
        runq_remove(s, u);
    uint64_t val = (uint64_t)ns * c2_priv(s)->max_weight + cu->residual;
    cu->residual = (uint32_t)(val % cu->weight);
    cu->credit -= (fv_ns_t)(val / cu->weight);
    if (cu->credit < C2_CREDIT_MIN)
        cu->credit = C2_CREDIT_MIN;
    if (queued)
        runq_insert(s, u);
}

/* Time it takes u to burn `credit`. */
static fv_ns_t c2t(const struct scheduler *s, fv_ns_t credit, const struct sched_unit *u)
{
    return credit * c2_unit(u)->weight / c2_priv(s)->max_weight;
}

static void tickle_cpu(struct scheduler *s, int cpu)
{
    cpumask_set(&c2_priv(s)->tickled, cpu);
    sched_tickle(s, cpu);
}

/* End of an epoch: everyone gets CREDIT_INIT more, clipped to INIT plus the
 * carry-over. `snext` is the unit about to run; if it sits at CREDIT_MIN a
 * single INIT would leave it in the red, so everyone gets two. */
static void reset_credit(struct scheduler *s, int cpu, struct sched_unit *snext, fv_ns_t now)
{
    struct c2_private *prv = c2_priv(s);
    fv_ns_t reset = C2_CREDIT_INIT;

    if (c2_unit(snext)->credit == C2_CREDIT_MIN)
        reset += C2_CREDIT_INIT;
    /* Running units first account what they spent so far. */
    for (int c = 0; c < s->nr_cpus; c++) {
        struct sched_unit *r = c2_pcpu(s, c)->curr;
        if (!r)
            continue;
        burn_credits(s, r, now);
        /* Out of budget: its pCPU must park it (this one is deciding now). */
        if (c != cpu && c2_capped(r) && c2_unit(r)->budget <= 0)
            tickle_cpu(s, c);
    }
    struct c2_unit *cu;
    for_each_svc(prv, cu) {
        cu->credit += reset;
        if (cu->credit > C2_CREDIT_INIT + C2_CARRYOVER_MAX)
            cu->credit = C2_CREDIT_INIT + C2_CARRYOVER_MAX;
        cu->start = now;
    }
    prv->nr_resets++;
    /* Order is unchanged (same addend, clipping keeps it monotonic), but
     * clipping can make unequal credits equal: renumber the runqueue in its
     * order so the tie-break agrees with it again. The tree's shape is not
     * touched, and a reset walks every unit anyway. */
    RB_FOREACH(cu, c2_runq, &prv->runq)
        cu->rq_seq = prv->rq_seq++;
}

/* ---- helpers: tickling -------------------------------------------------- */

/* Has the unit running on a pCPU used up its ratelimit (with tolerance)? */
static bool is_preemptable(const struct scheduler *s, const struct sched_unit *cur, fv_ns_t now)
{
    fv_ns_t rl = c2_priv(s)->ratelimit;
    if (rl <= C2_RATELIMIT_TOL)
        return true;
    return now - c2_unit(cur)->run_since > rl - C2_RATELIMIT_TOL;
}

/* How much `u` deserves pCPU `cpu` over what runs there; <= 0: it doesn't. */
static fv_ns_t tickle_score(struct scheduler *s, struct sched_unit *u, int cpu, fv_ns_t now)
{
    struct sched_unit *cur = c2_pcpu(s, cpu)->curr;

    if (!cur || !is_preemptable(s, cur, now))
        return -1;
    burn_credits(s, cur, now);
    fv_ns_t score = c2_unit(u)->credit - c2_unit(cur)->credit;
    if (u->cpu != cpu)
        score -= C2_MIGRATE_RESIST;
    return score;
}

/* Lowest cpu of m, starting at `from` and wrapping; -1 if m is empty. */
static int mask_cycle(const fv_cpumask_t *m, int from)
{
    int c = cpumask_next(m, from);
    return c >= 0 ? c : cpumask_next(m, 0);
}

/* Find a pCPU for a unit just put on the runqueue: an idle, untickled one in
 * its affinity (its last pCPU first); else the busy one whose unit it beats
 * by the most (its last pCPU winning ties, as migrating costs). */
static void runq_tickle(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    struct c2_private *prv = c2_priv(s);
    fv_cpumask_t m;
    int ipid = -1;

    for (unsigned i = 0; i < FV_MAX_PCPUS / 64; i++)
        m.bits[i] = prv->idle.bits[i] & ~prv->tickled.bits[i] & u->affinity.bits[i];
    ipid = mask_cycle(&m, u->cpu);
    if (ipid < 0) {
        fv_ns_t max = 0;
        for (unsigned i = 0; i < FV_MAX_PCPUS / 64; i++)
            m.bits[i] = ~prv->idle.bits[i] & ~prv->tickled.bits[i] & u->affinity.bits[i];
        for (int k = 0, c = u->cpu; k < s->nr_cpus; k++, c = (c + 1) % s->nr_cpus) {
            if (!cpumask_test(&m, c))
                continue;
            fv_ns_t score = tickle_score(s, u, c, now);
            if (score > max) {
                max = score;
                ipid = c;
            }
        }
    }
    if (ipid < 0)
        return;
    tickle_cpu(s, ipid);
    c2_unit(u)->tickled_cpu = ipid;
}

/* ---- helpers: cap budget ------------------------------------------------ */

static void park_unit(struct scheduler *s, struct sched_unit *u)
{
    struct c2_unit *cu = c2_unit(u);

    if (!cu->parked) {
        cu->parked = true;
        c2_dom(u->dom)->nr_parked++;
    }
    runq_remove(s, u);
}

/* Take a quota from the domain's pool; park u if the pool is dry. An
 * overrun (budget < 0) is paid back to the pool first. */
static bool grab_budget(struct scheduler *s, struct sched_unit *u)
{
    struct c2_unit *cu = c2_unit(u);
    struct c2_dom *sd = c2_dom(u->dom);

    if (cu->budget > 0)
        return true;
    sd->budget += cu->budget;
    if (sd->budget > 0) {
        cu->budget = sd->budget < cu->budget_quota ? sd->budget : cu->budget_quota;
        sd->budget -= cu->budget;
        return true;
    }
    cu->budget = 0;
    park_unit(s, u);
    return false;
}

/* Parked units of d go back to compete for the (refilled) pool, in vCPU
 * order (it decides which pCPUs they tickle). Most calls come from a
 * capped vCPU switching out with budget left and find nothing parked:
 * the count spares them the walk over the domain's vCPUs. */
static void unpark_domain(struct scheduler *s, struct sched_domain *d, fv_ns_t now)
{
    struct c2_dom *sd = c2_dom(d);

    for (int i = 0; i < d->nr_units && sd->nr_parked > 0; i++) {
        struct sched_unit *u = d->units[i];
        if (!u || !u->priv || !c2_unit(u)->parked)
            continue;
        c2_unit(u)->parked = false;
        sd->nr_parked--;
        if (u->runnable && !u->is_running && !c2_unit(u)->on_runq) {
            runq_insert(s, u);
            runq_tickle(s, u, now);
        }
    }
}

/* A unit leaving its pCPU puts back what it did not use. */
static void return_budget(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    struct c2_unit *cu = c2_unit(u);
    struct c2_dom *sd = c2_dom(u->dom);

    if (!c2_capped(u) || cu->budget <= 0)
        return;
    sd->budget += cu->budget;
    cu->budget = 0;
    if (sd->budget > 0)
        unpark_domain(s, u->dom, now);
}

static void set_budget_params(struct sched_domain *d, uint32_t cap)
{
    struct c2_dom *sd = c2_dom(d);
    sd->tot_budget = C2_BDGT_PERIOD * cap / 100;
    for (int i = 0; i < d->nr_units; i++) {
        if (!d->units[i] || !d->units[i]->priv)
            continue;
        fv_ns_t q = sd->tot_budget / d->nr_units;
        /* Tiny quotas would only cost switches: a slice is >= MIN_TIMER. */
        c2_unit(d->units[i])->budget_quota = q > C2_MIN_TIMER ? q : C2_MIN_TIMER;
    }
}

static void replenish(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    struct sched_domain *d = t->data;
    struct c2_dom *sd = c2_dom(d);

    /* Catch up on missed periods, each adding one period's worth, so a
     * late timer never lets the domain exceed its cap. */
    do {
        sd->next_repl += C2_BDGT_PERIOD;
        sd->budget += sd->tot_budget;
    } while (sd->next_repl <= now);
    if (sd->budget > 0) {
        if (sd->budget > sd->tot_budget)
            sd->budget = sd->tot_budget;
        unpark_domain(s, d, now);
    }
    sched_timer_set(s, t, sd->next_repl);
}

static void start_replenish(struct scheduler *s, struct sched_domain *d, int cpu, fv_ns_t now)
{
    struct c2_dom *sd = c2_dom(d);
    sd->budget = sd->tot_budget;
    sd->next_repl = now + C2_BDGT_PERIOD;
    sd->repl.cpu = cpu;
    sched_timer_set(s, &sd->repl, sd->next_repl);
}

/* ---- helpers: scheduling decision --------------------------------------- */

/* Xen's runq_candidate: prev keeps the pCPU within its ratelimit or if no
 * eligible waiter has more credit; a yield hands it to the first eligible.
 * The walk goes in credit order and stops, without a yield, at the first
 * unit with no more credit than snext: Xen's would go on, but past that
 * point it can only skip units or stop at one of this pCPU's, and neither
 * changes snext. That bounds it by the units that out-credit snext. */
static struct sched_unit *runq_candidate(struct scheduler *s, struct sched_unit *prev,
                                         int cpu, fv_ns_t now, bool yield)
{
    struct c2_private *prv = c2_priv(s);
    struct sched_unit *snext = NULL;
    fv_ns_t snext_credit = C2_IDLE_CREDIT;

    if (prev && c2_runnable(prev)) {
        if (!yield && prv->ratelimit && now - c2_unit(prev)->run_since < prv->ratelimit)
            return prev;
        snext = prev;
        snext_credit = c2_unit(prev)->credit;
    }
    for (struct c2_unit *cu = prv->rq_first, *nx; cu; cu = nx) {
        struct sched_unit *u = cu->unit;
        nx = RB_NEXT(c2_runq, &prv->runq, cu);  /* grab_budget may remove cu */
        if (!yield && cu->credit <= snext_credit)
            break;
        if (!cpumask_test(&u->affinity, cpu))
            continue;
        /* Reserved for another pCPU that was tickled for it. */
        if (cu->tickled_cpu >= 0 && cu->tickled_cpu != cpu &&
            cpumask_test(&prv->tickled, cu->tickled_cpu))
            continue;
        if (!yield && u->cpu != cpu && snext_credit + C2_MIGRATE_RESIST > cu->credit)
            continue;
        if (yield || cu->credit > snext_credit) {
            if (c2_capped(u) && !grab_budget(s, u))
                continue;               /* parked; see header */
            snext = u;
        }
        break;
    }
    return snext;
}

/* Xen's csched2_runtime. The runqueue holds neither next nor prev here. */
static fv_ns_t c2_runtime(struct scheduler *s, struct sched_unit *next,
                          struct sched_unit *prev, fv_ns_t now)
{
    struct c2_private *prv = c2_priv(s);
    struct c2_unit *cn = c2_unit(next);
    fv_ns_t min_time = C2_MIN_TIMER;

    if (prv->ratelimit) {
        fv_ns_t rl = next == prev ? cn->run_since + prv->ratelimit - now : prv->ratelimit;
        if (rl > min_time)
            min_time = rl;
    }
    /* Run until credit is 0, or equals the next positive waiter's. */
    fv_ns_t rt_credit = cn->credit;
    struct sched_unit *w = c2_rq_head(prv);
    if (w && c2_unit(w)->credit > 0)
        rt_credit = cn->credit - c2_unit(w)->credit;
    fv_ns_t time = rt_credit > 0 ? c2t(s, rt_credit, next) : 0;
    if (c2_capped(next) && cn->budget < time)
        time = cn->budget;
    if (time < min_time)
        time = min_time;
    else if (time > C2_MAX_TIMER)
        time = C2_MAX_TIMER;
    return time;
}

/* Bookkeeping for the unit that gets the pCPU; resets credit if the epoch
 * is over (the best of next and the runqueue head has none left). */
static void start_next(struct scheduler *s, struct sched_unit *next, struct sched_unit *prev,
                       int cpu, fv_ns_t now)
{
    struct c2_unit *cn = c2_unit(next);
    struct sched_unit *head = c2_rq_head(c2_priv(s));
    fv_ns_t top = cn->credit;

    if (head && c2_unit(head)->credit > top)
        top = c2_unit(head)->credit;
    if (top <= C2_CREDIT_RESET)
        reset_credit(s, cpu, next, now);
    if (next != prev)
        cn->run_since = now;
    cn->start = now;
    cn->tickled_cpu = -1;
    if (next->cpu != cpu)
        cn->credit += C2_MIGRATE_COMP;
}

/* ---- ops ---------------------------------------------------------------- */

static const struct sched_param_desc c2_dom_params[] = {
    { "weight", SCHED_PARAM_INT, SCHED_MIN_WEIGHT, SCHED_MAX_WEIGHT, SCHED_DEFAULT_WEIGHT,
      "relative share of CPU (credit burns at max_weight/weight per ns)" },
    { "cap", SCHED_PARAM_INT, 0, C2_CAP_MAX, 0,
      "% of one pCPU the domain may use, 0 = no cap, at most 100 x vcpus" },
    { NULL, 0, 0, 0, 0, NULL },
};

static const struct sched_param_desc c2_global_params[] = {
    { "ratelimit", SCHED_PARAM_NS, 0, C2_RATELIMIT_MAX, C2_RATELIMIT_DEF,
      "minimum run before preemption: 0 = off, else 100us..500ms" },
    { NULL, 0, 0, 0, 0, NULL },
};

static int c2_check_global(const struct sched_global_params *gp, char *err, size_t errlen)
{
    fv_ns_t rl = gp->ratelimit;
    if (rl != 0 && (rl < C2_RATELIMIT_MIN || rl > C2_RATELIMIT_MAX)) {
        snprintf(err, errlen, "credit2: ratelimit must be 0 (off) or 100us..500ms, got %" PRId64 " ns",
                 (int64_t)rl);
        return -EINVAL;
    }
    return 0;
}

static int c2_check_dom(const struct sched_dom_params *p, char *err, size_t errlen)
{
    if (p->weight < SCHED_MIN_WEIGHT || p->weight > SCHED_MAX_WEIGHT) {
        snprintf(err, errlen, "credit2: weight must be %d..%d, got %" PRIu32,
                 SCHED_MIN_WEIGHT, SCHED_MAX_WEIGHT, p->weight);
        return -EINVAL;
    }
    if (p->cap > C2_CAP_MAX) {
        snprintf(err, errlen, "credit2: cap must be 0 (none) or 1..100 x vcpus %%, got %" PRIu32,
                 p->cap);
        return -EINVAL;
    }
    return 0;
}

static int c2_init(struct scheduler *s)
{
    struct c2_private *prv = calloc(1, sizeof(*prv));
    if (!prv)
        return -ENOMEM;
    RB_INIT(&prv->runq);
    c2_link_init(&prv->svc);
    cpumask_fill(&prv->idle, s->nr_cpus);
    prv->max_weight = 1;
    prv->ratelimit = s->gp.ratelimit;
    s->priv = prv;
    return 0;
}

static void c2_deinit(struct scheduler *s)
{
    free(s->priv);
    s->priv = NULL;
}

static int c2_alloc_pdata(struct scheduler *s, int cpu)
{
    struct c2_pcpu *pc = calloc(1, sizeof(*pc));
    if (!pc)
        return -ENOMEM;
    s->pcpus[cpu].priv = pc;
    return 0;
}

static void c2_free_pdata(struct scheduler *s, int cpu)
{
    free(s->pcpus[cpu].priv);
    s->pcpus[cpu].priv = NULL;
}

static int c2_alloc_domdata(struct scheduler *s, struct sched_domain *d)
{
    (void)s;
    /* Checked here, not in check_dom, which does not see the vCPU count. */
    if (d->params.cap > 100u * (uint32_t)d->nr_units)
        return -EINVAL;
    struct c2_dom *sd = calloc(1, sizeof(*sd));
    if (!sd)
        return -ENOMEM;
    sd->weight = d->params.weight;
    sd->cap = d->params.cap;
    sched_timer_init(&sd->repl, replenish, d, 0);
    d->priv = sd;
    set_budget_params(d, sd->cap);
    return 0;
}

static void c2_free_domdata(struct scheduler *s, struct sched_domain *d)
{
    struct c2_dom *sd = c2_dom(d);
    if (!sd)
        return;
    sched_timer_stop(s, &sd->repl);
    free(sd);
    d->priv = NULL;
}

static int c2_alloc_udata(struct scheduler *s, struct sched_unit *u)
{
    (void)s;
    struct c2_unit *cu = calloc(1, sizeof(*cu));
    if (!cu)
        return -ENOMEM;
    struct c2_dom *sd = c2_dom(u->dom);
    cu->unit = u;
    c2_link_init(&cu->svc);
    cu->credit = C2_CREDIT_INIT;
    cu->weight = sd->weight;
    cu->tickled_cpu = -1;
    cu->budget = 0;                     /* capped: must grab before running */
    fv_ns_t q = sd->tot_budget / u->dom->nr_units;
    cu->budget_quota = q > C2_MIN_TIMER ? q : C2_MIN_TIMER;
    u->priv = cu;
    return 0;
}

static void c2_free_udata(struct scheduler *s, struct sched_unit *u)
{
    (void)s;
    free(u->priv);
    u->priv = NULL;
}

static void c2_insert_unit(struct scheduler *s, struct sched_unit *u)
{
    struct c2_private *prv = c2_priv(s);
    struct c2_dom *sd = c2_dom(u->dom);
    struct c2_unit *cu = c2_unit(u);

    c2_link_before(&cu->svc, &prv->svc);
    if (cu->weight > prv->max_weight) {
        prv->max_weight = cu->weight;
        prv->nr_max_weight = 0;
    }
    prv->nr_max_weight += cu->weight == prv->max_weight;
    /* The first vCPU of a capped domain starts its budget periods. */
    if (sd->cap && !sched_timer_armed(&sd->repl))
        start_replenish(s, u->dom, u->cpu, sched_now(s));
}

static void c2_remove_unit(struct scheduler *s, struct sched_unit *u)
{
    struct c2_private *prv = c2_priv(s);
    struct c2_unit *cu = c2_unit(u);

    runq_remove(s, u);
    c2_link_del(&cu->svc);
    /* Only the last unit of the heaviest weight can change max_weight:
     * rescanning on every removal made teardown O(n^2). */
    if (cu->weight == prv->max_weight && --prv->nr_max_weight == 0)
        update_max_weight(s);
}

static void c2_sleep(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    (void)now;
    /* A running unit leaves at its pCPU's next do_schedule (the core
     * tickles it); a parked one stays parked. */
    runq_remove(s, u);
}

static void c2_wake(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    struct c2_unit *cu = c2_unit(u);
    /* Still on its pCPU (blocked and woke before it was switched out), or
     * already queued, or waiting for budget: nothing to do. */
    if (u->is_running || cu->on_runq || cu->parked)
        return;
    runq_insert(s, u);
    runq_tickle(s, u, now);
}

static void c2_yield(struct scheduler *s, struct sched_unit *u)
{
    (void)s;
    if (u->is_running)
        c2_unit(u)->yield = true;
}

static struct sched_decision c2_do_schedule(struct scheduler *s, int cpu, fv_ns_t now)
{
    struct c2_private *prv = c2_priv(s);
    struct c2_pcpu *pc = c2_pcpu(s, cpu);
    struct sched_unit *prev = sched_curr(s, cpu);
    bool yield = false;

    cpumask_clear(&prv->tickled, cpu);
    if (prev) {
        burn_credits(s, prev, now);
        if (c2_capped(prev) && c2_unit(prev)->budget <= 0)
            grab_budget(s, prev);       /* overran: more, or park it */
        yield = c2_unit(prev)->yield;
        c2_unit(prev)->yield = false;
    }
    struct sched_unit *next = runq_candidate(s, prev, cpu, now, yield);
    if (next && next != prev)
        runq_remove(s, next);
    if (next)
        start_next(s, next, prev, cpu, now);
    pc->curr = next;
    if (next)
        cpumask_clear(&prv->idle, cpu);
    else
        cpumask_set(&prv->idle, cpu);
    fv_ns_t runtime = next ? c2_runtime(s, next, prev, now) : -1;

    /* Xen's context_saved: prev gives back unused budget and, if it can
     * still run, competes again (perhaps on another pCPU). */
    if (prev && prev != next) {
        return_budget(s, prev, now);
        if (c2_runnable(prev) && !c2_unit(prev)->on_runq) {
            runq_insert(s, prev);
            runq_tickle(s, prev, now);
        }
    }
    return (struct sched_decision){ next, runtime };
}

static int c2_pick_pcpu(struct scheduler *s, struct sched_unit *u)
{
    struct c2_private *prv = c2_priv(s);
    fv_cpumask_t m;

    for (unsigned i = 0; i < FV_MAX_PCPUS / 64; i++)
        m.bits[i] = prv->idle.bits[i] & ~prv->tickled.bits[i] & u->affinity.bits[i];
    if (cpumask_test(&m, u->cpu))
        return u->cpu;
    int c = cpumask_next(&m, 0);
    if (c >= 0 && c < s->nr_cpus)
        return c;
    if (u->cpu >= 0 && u->cpu < s->nr_cpus && cpumask_test(&u->affinity, u->cpu))
        return u->cpu;
    return cpumask_next(&u->affinity, 0);
}

/* Cap switched on: units start drawing from a fresh pool; running ones are
 * accounted first (cap still off, so the past is not billed as budget) and
 * sent through do_schedule to grab budget. */
static void enable_cap(struct scheduler *s, struct sched_domain *d, uint32_t cap, fv_ns_t now)
{
    int timer_cpu = d->units[0] ? d->units[0]->cpu : 0;
    for (int i = 0; i < d->nr_units; i++) {
        struct sched_unit *u = d->units[i];
        if (u->is_running) {
            burn_credits(s, u, now);
            tickle_cpu(s, u->cpu);
        }
        c2_unit(u)->budget = 0;
    }
    c2_dom(d)->cap = cap;
    start_replenish(s, d, timer_cpu, now);
}

static void disable_cap(struct scheduler *s, struct sched_domain *d, fv_ns_t now)
{
    struct c2_dom *sd = c2_dom(d);
    sched_timer_stop(s, &sd->repl);
    for (int i = 0; i < d->nr_units; i++)
        c2_unit(d->units[i])->budget = 0;
    sd->cap = 0;
    unpark_domain(s, d, now);
}

static int c2_adjust(struct scheduler *s, struct sched_domain *d, const struct sched_dom_params *p)
{
    struct c2_dom *sd = c2_dom(d);
    fv_ns_t now = sched_now(s);
    char err[128];

    if (c2_check_dom(p, err, sizeof(err)) || p->cap > 100u * (uint32_t)d->nr_units)
        return -EINVAL;
    sd->weight = p->weight;
    for (int i = 0; i < d->nr_units; i++)
        c2_unit(d->units[i])->weight = p->weight;
    update_max_weight(s);
    if (p->cap) {
        set_budget_params(d, p->cap);
        if (!sd->cap)
            enable_cap(s, d, p->cap, now);
        sd->cap = p->cap;
    } else if (sd->cap) {
        disable_cap(s, d, now);
    }
    /* Keep the core's view (entitled shares) in step. */
    d->params.weight = p->weight;
    d->params.cap = p->cap;
    return 0;
}

static int c2_adjust_global(struct scheduler *s, const struct sched_global_params *gp)
{
    char err[128];
    if (c2_check_global(gp, err, sizeof(err)))
        return -EINVAL;
    c2_priv(s)->ratelimit = gp->ratelimit;
    s->gp.ratelimit = gp->ratelimit;
    return 0;
}

static void dump_unit(struct scheduler *s, FILE *f, const struct sched_unit *u)
{
    const struct c2_unit *cu = c2_unit(u);
    fprintf(f, "unit %d %s.%d credit=%" PRId64 " w=%" PRIu32 " cpu=%d%s%s%s", u->id,
            u->dom->name, u->vcpu_id, (int64_t)cu->credit, cu->weight, u->cpu,
            u->is_running ? " running" : "", u->runnable ? "" : " blocked",
            cu->parked ? " parked" : "");
    if (c2_capped(u))
        fprintf(f, " budget=%" PRId64 " quota=%" PRId64, (int64_t)cu->budget,
                (int64_t)cu->budget_quota);
    fputc('\n', f);
    (void)s;
}

/* Credits of running units are as of their last accounting (slice start,
 * tickle check or reset): dumping must not change scheduling state. */
static void c2_dump(struct scheduler *s, FILE *f)
{
    struct c2_private *prv = c2_priv(s);
    struct c2_unit *cu;
    int pos = 0;

    fprintf(f, "credit2: 1 runqueue, %d pcpus, max_weight=%" PRIu32 " ratelimit=%" PRId64
            " ns resets=%" PRIu64 "\n", s->nr_cpus, prv->max_weight, (int64_t)prv->ratelimit,
            prv->nr_resets);
    for (int c = 0; c < s->nr_cpus; c++) {
        struct sched_unit *r = c2_pcpu(s, c)->curr;
        if (r)
            fprintf(f, "  cpu %d: runs %s.%d", c, r->dom->name, r->vcpu_id);
        else
            fprintf(f, "  cpu %d: idle", c);
        fprintf(f, "%s\n", cpumask_test(&prv->tickled, c) ? " tickled" : "");
    }
    fprintf(f, "  runq:\n");
    RB_FOREACH(cu, c2_runq, &prv->runq) {
        fprintf(f, "    %d: ", pos++);
        dump_unit(s, f, cu->unit);
    }
    fprintf(f, "  domains:\n");
    for (int i = 0; i < s->nr_doms; i++) {
        struct sched_domain *d = s->doms[i];
        if (d->dead)
            continue;
        struct c2_dom *sd = c2_dom(d);
        fprintf(f, "    dom %d %s w=%" PRIu32 " cap=%" PRIu32, d->id, d->name, sd->weight,
                sd->cap);
        if (sd->cap)
            fprintf(f, " budget=%" PRId64 "/%" PRId64, (int64_t)sd->budget,
                    (int64_t)sd->tot_budget);
        fputc('\n', f);
        for (int k = 0; k < d->nr_units; k++) {
            fprintf(f, "      ");
            dump_unit(s, f, d->units[k]);
        }
    }
}

const struct sched_ops sched_credit2_ops = {
    .name = "credit2",
    .help = "Xen credit2: credit burned by weight, sorted runqueue, credit reset per epoch",
    .dom_params = c2_dom_params,
    .global_params = c2_global_params,
    .init = c2_init,
    .deinit = c2_deinit,
    .alloc_udata = c2_alloc_udata,
    .free_udata = c2_free_udata,
    .do_schedule = c2_do_schedule,
    .pick_pcpu = c2_pick_pcpu,
    .alloc_pdata = c2_alloc_pdata,
    .free_pdata = c2_free_pdata,
    .alloc_domdata = c2_alloc_domdata,
    .free_domdata = c2_free_domdata,
    .insert_unit = c2_insert_unit,
    .remove_unit = c2_remove_unit,
    .sleep = c2_sleep,
    .wake = c2_wake,
    .yield = c2_yield,
    .check_global = c2_check_global,
    .check_dom = c2_check_dom,
    .adjust = c2_adjust,
    .adjust_global = c2_adjust_global,
    .charge = c2_charge,
    .dump = c2_dump,
};
