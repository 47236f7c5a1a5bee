/* fair.c — fairvisor's own policy: weighted fair sharing by per-domain
 * virtual time that counts the backend work done on a domain's behalf, a
 * wake-up boost that stays bounded however many domains wake at once, and
 * a service guarantee for Domain-0's backends.
 *
 * Virtual time. Every domain has a virtual time vt that grows by
 * ns x 256 / weight for each ns its vCPUs run and, with charge-back
 * (`sched.chargeback`, on by default for this policy), for each ns
 * Domain-0's netback and blkback spend on its requests (the charge hook).
 * A pCPU runs a queued vCPU of the runnable domain with the least vt, for
 * at most `tslice`; so domains that stay runnable keep their run plus
 * charged time, divided by weight, within about a slice of each other. A
 * guest whose flood keeps Domain-0 busy pays for that CPU out of its own
 * share, as SEDF-DC did (Gupta et al., Middleware 2006): `dom0-overload`
 * shows the backend CPU credit never bills, `io-starvation-net` and
 * `io-starvation-blk` the victim that credit lets starve behind flooders
 * keeping its share here.
 *
 * Wake-up boost. A domain that wakes after all its vCPUs blocked is placed
 * at max(vt, vmin - boost), vmin being the least vt of the runnable
 * domains (never decreasing): sleeping earns at most `boost` of lead, so
 * a domain cannot bank CPU by sleeping. A woken vCPU preempts the running
 * vCPU of largest vt that its own domain's vt beats, so an I/O domain that
 * uses little CPU runs at once; its first run after the wake-up lasts at
 * most `boost` before it queues by vt like everyone. Domains that wake at
 * once are served in order of vt (ties: their vt before the clamp), so
 * the one that used least CPU for its weight goes first. Credit's BOOST is
 * FIFO among boosted vCPUs and loses its effect when many boost at once
 * (Ongaro, Cox and Rixner, VEE 2008): `multi-boost`. A domain over its
 * share waits behind the others' slices, which `tslice` (5 ms, against
 * credit's 30) keeps short: `ping-vs-hogs` (Hu et al.: 48.9 ms ping under
 * credit's 30 ms slice, 1.79 ms with 0.5 ms). `ratelimit` (off by
 * default) lets a vCPU keep its pCPU that long before a wake-up preempts
 * it, as credit's does, trading that latency for fewer switches.
 *
 * Domain-0 guarantee. Domain 0 (its vCPU 0 runs the backends) goes ahead
 * of every guest, and preempts one when it wakes, while it is behind its
 * guarantee: while it has run no more of the current `dom0_period`
 * (windows aligned to time 0) than dom0_budget / dom0_period of the part
 * gone by, up to `dom0_budget`. So the backends keep serving requests even
 * when every guest is CPU-bound (`dom0-overload`, `io-starvation-*`), and
 * an event-driven Domain-0 under its guarantee never waits. The guarantee
 * is spread over the window (catch-up runs of at least 500 us), not taken
 * at its start: a 5 ms block per window left a net-sink one ring of frames
 * per window, as it could only post buffers between the blocks. The
 * guaranteed time counts in Domain-0's vt like any run: it gets the larger
 * of the guarantee and its weighted share, not both, as entitle promises.
 *
 * Caps, as credit's (% of one pCPU), come from a per-domain pool refilled
 * every 10 ms (windows aligned to time 0; debt is carried, nothing is
 * banked). A domain that has spent its pool is parked (its vCPUs stay
 * queued but are not picked) until a timer refills it. Exact for one vCPU;
 * vCPUs of one domain running at once overdraw by less than a slice each,
 * repaid in the next windows. Neither charges nor the guarantee draw on a
 * cap: it limits the domain's own CPU.
 *
 * One runqueue for all pCPUs: a tree of domains ordered by (vt, vt before
 * the wake-up clamp, arrival), each holding its queued vCPUs in FIFO
 * order. A pCPU takes the first queued vCPU its affinity allows. Per-pCPU
 * counts of queued vCPUs that may run there tell an idle pCPU that work
 * waits for it (it is tickled whenever that count is positive), so no
 * pCPU idles while a vCPU it may run is queued; picking walks past domains
 * pinned elsewhere (all of them, at worst). Entitle is the core's weighted
 * water-filling (with charges), then Domain-0 is raised to min(its demand,
 * dom0_budget / dom0_period) if it got less, and the rest shared again.
 *
 * This file holds the mechanism and the ops table; the schemas, adjust,
 * entitle and dump are in fair_params.c, the data in fair_priv.h.
 *
 * Locking: the core calls every hook, and the two timer callbacks (cap
 * refill, Domain-0 falling behind), with the scheduler lock held. That
 * one lock covers the tree, the queues, the counts and every domain's vt,
 * pool and window, so nothing here takes a lock of its own; hooks reach
 * the engine only through tickle, now and the timers.
 */
#include "fair_priv.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

/* ---- helpers ---------------------------------------------------------- */

static inline struct fair_unit *q_entry(struct fair_link *l)
{
    return (struct fair_unit *)((char *)l - offsetof(struct fair_unit, q));
}

static void link_init(struct fair_link *l) { l->prev = l->next = l; }

static void link_add_tail(struct fair_link *l, struct fair_link *head)
{
    l->next = head;
    l->prev = head->prev;
    head->prev->next = l;
    head->prev = l;
}

static void link_del(struct fair_link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    link_init(l);
}

#define for_each_queued(fd, fu)                                                   \
    for (struct fair_link *l_ = (fd)->queue.next;                                 \
         l_ != &(fd)->queue ? ((fu) = q_entry(l_), true) : false; l_ = l_->next)

static int fair_cmp(const struct fair_dom *a, const struct fair_dom *b)
{
    if (a->vt != b->vt)
        return a->vt < b->vt ? -1 : 1;
    if (a->tb != b->tb)
        return a->tb < b->tb ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

RB_GENERATE_STATIC(fair_tree, fair_dom, node, fair_cmp)

static void tickle(struct scheduler *s, int cpu)
{
    cpumask_set(&fair_priv(s)->tickled, cpu);
    sched_tickle(s, cpu);
}

/* ---- the runqueue ------------------------------------------------------- */

static void tree_enter(struct fair_private *prv, struct fair_dom *fd)
{
    fd->seq = prv->seq++;
    RB_INSERT(fair_tree, &prv->tree, fd);
    fd->in_tree = true;
}

static void tree_leave(struct fair_private *prv, struct fair_dom *fd)
{
    RB_REMOVE(fair_tree, &prv->tree, fd);
    fd->in_tree = false;
}

/* A new key for fd; among equals it keeps its place (seq). */
static void set_key(struct fair_private *prv, struct fair_dom *fd, fv_ns_t vt, fv_ns_t tb)
{
    if (fd->in_tree)
        RB_REMOVE(fair_tree, &prv->tree, fd);
    fd->vt = vt;
    fd->tb = tb;
    if (fd->in_tree)
        RB_INSERT(fair_tree, &prv->tree, fd);
}

/* ns of run or charge in fd's virtual time, exactly: the remainder of the
 * division by weight is carried to the next call. */
static void vt_add(struct fair_private *prv, struct fair_dom *fd, fv_ns_t ns)
{
    uint64_t val = (uint64_t)ns * FAIR_W0 + fd->vt_res;
    fd->vt_res = val % fd->weight;
    fv_ns_t vt = fd->vt + (fv_ns_t)(val / fd->weight);
    set_key(prv, fd, vt, vt);
}

static void eligible_add(struct scheduler *s, const struct sched_unit *u, int k)
{
    int *e = fair_priv(s)->eligible;
    for (int c = cpumask_next(&u->affinity, 0); c >= 0 && c < s->nr_cpus;
         c = cpumask_next(&u->affinity, c + 1))
        e[c] += k;
}

static void q_add(struct scheduler *s, struct fair_unit *fu)
{
    struct fair_dom *fd = fu->fd;
    link_add_tail(&fu->q, &fd->queue);
    fu->queued = true;
    fd->nr_queued++;
    if (fd->parked)
        return;
    eligible_add(s, fu->unit, 1);
    if (!fd->in_tree)
        tree_enter(fair_priv(s), fd);
}

static void q_del(struct scheduler *s, struct fair_unit *fu)
{
    struct fair_dom *fd = fu->fd;
    link_del(&fu->q);
    fu->queued = false;
    fd->nr_queued--;
    if (fd->parked)
        return;
    eligible_add(s, fu->unit, -1);
    if (!fd->nr_queued && fd->in_tree)
        tree_leave(fair_priv(s), fd);
}

/* ---- windows: caps and Domain-0's guarantee ---------------------------- */

static inline fv_ns_t window_end(fv_ns_t t, fv_ns_t period) { return (t / period + 1) * period; }

/* Refill fd's pool for the windows begun by time t; debt is repaid first
 * and no more than one window's worth is ever held. */
static void cap_refill(struct fair_dom *fd, fv_ns_t t)
{
    int64_t epoch = t / FAIR_CAP_PERIOD;
    if (!fd->cap || epoch <= fd->cap_epoch)
        return;
    fv_ns_t per = fair_cap_per_window(fd->cap);
    int64_t n = epoch - fd->cap_epoch;
    fv_ns_t v = fd->cap_left + (n > 1000 ? 1000 : n) * per;
    fd->cap_left = v > per ? per : v;
    fd->cap_epoch = epoch;
}

static void g_roll(struct fair_private *prv, struct fair_dom *fd, fv_ns_t t)
{
    int64_t epoch = t / prv->g_period;
    if (epoch > fd->g_epoch) {
        fd->g_epoch = epoch;
        fd->g_used = 0;
    }
}

/* Whether fd is Domain-0 behind its guarantee: it has run no more of the
 * window of `now` than dom0_budget / dom0_period of the part gone by.
 * (Products of spans <= 1 s fit in 63 bits.) */
static bool g_behind(struct fair_private *prv, struct fair_dom *fd, fv_ns_t now)
{
    if (fd != prv->dom0 || !prv->g_budget || fd->parked)
        return false;
    g_roll(prv, fd, now);
    fv_ns_t elapsed = now - fd->g_epoch * prv->g_period;
    return fd->g_used < prv->g_budget && fd->g_used * prv->g_period <= elapsed * prv->g_budget;
}

/* How long Domain-0, behind at now, runs to catch up (at least
 * FAIR_G_MIN_RUN), within the window's budget. */
static fv_ns_t g_catch_up(struct fair_private *prv, struct fair_dom *fd, fv_ns_t now)
{
    fv_ns_t left = prv->g_budget - fd->g_used, rt = left;
    if (prv->g_budget < prv->g_period) {
        fv_ns_t lag = (now - fd->g_epoch * prv->g_period) * prv->g_budget -
                      fd->g_used * prv->g_period;
        fv_ns_t den = prv->g_period - prv->g_budget;
        rt = (lag + den - 1) / den;
    }
    rt = rt < FAIR_G_MIN_RUN ? FAIR_G_MIN_RUN : rt;
    return rt < left ? rt : left;
}

static void park(struct scheduler *s, struct fair_dom *fd, fv_ns_t now, int self)
{
    struct fair_private *prv = fair_priv(s);
    struct fair_unit *fu;

    fd->parked = true;
    for_each_queued(fd, fu)
        eligible_add(s, fu->unit, -1);
    if (fd->in_tree)
        tree_leave(prv, fd);
    fd->parked_next = prv->parked;
    prv->parked = fd;
    if (!sched_timer_armed(&prv->cap_timer))
        sched_timer_set(s, &prv->cap_timer, window_end(now, FAIR_CAP_PERIOD));
    /* Its running vCPUs stop at their pCPU's next decision, now. */
    for (int i = 0; i < fd->dom->nr_units; i++) {
        struct sched_unit *u = fd->dom->units[i];
        if (u->is_running && u->cpu != self)
            tickle(s, u->cpu);
    }
}

/* Account fu's run from fu->start to now: its domain's vt, and the pool
 * or Domain-0's window of each stretch between window boundaries. */
void fair_burn(struct scheduler *s, struct fair_unit *fu, fv_ns_t now, int self)
{
    struct fair_private *prv = fair_priv(s);
    struct fair_dom *fd = fu->fd;
    fv_ns_t t = fu->start;

    if (now <= t)
        return;
    fu->start = now;
    vt_add(prv, fd, now - t);
    for (fv_ns_t a = t; fd->cap && a < now;) {
        cap_refill(fd, a);
        fv_ns_t b = window_end(a, FAIR_CAP_PERIOD);
        b = b < now ? b : now;
        fd->cap_left -= b - a;
        a = b;
    }
    /* A stretch of a window already closed (another decision looked at the
     * new one before this run was accounted) belongs to no window now. */
    for (fv_ns_t a = t; fd == prv->dom0 && prv->g_budget && a < now;) {
        g_roll(prv, fd, a);
        fv_ns_t b = window_end(a, prv->g_period);
        b = b < now ? b : now;
        if (a / prv->g_period == fd->g_epoch)
            fd->g_used += b - a;
        a = b;
    }
    if (fd->cap && fd->cap_left <= 0 && !fd->parked)
        park(s, fd, now, self);
}

/* ---- decisions -------------------------------------------------------- */

/* vmin from the runnable domains, running ones accounted to now first. */
static void update_vmin(struct scheduler *s, fv_ns_t now, bool burn_running, int self)
{
    struct fair_private *prv = fair_priv(s);
    struct fair_dom *head = RB_MIN(fair_tree, &prv->tree);
    bool any = head != NULL;
    fv_ns_t m = head ? head->vt : 0;

    for (int c = 0; c < s->nr_cpus; c++) {
        struct sched_unit *cur = sched_curr(s, c);
        if (!cur || !cur->runnable)
            continue;
        if (burn_running)
            fair_burn(s, fair_unit(cur), now, self);
        struct fair_dom *fd = fair_unit(cur)->fd;
        if (!fd->parked && (!any || fd->vt < m))
            m = fd->vt, any = true;
    }
    if (any && m > prv->vmin)
        prv->vmin = m;
}

static struct fair_unit *first_fit(struct fair_dom *fd, int cpu, const struct sched_unit *skip)
{
    struct fair_unit *fu;
    for_each_queued(fd, fu)
        if (fu->unit != skip && cpumask_test(&fu->unit->affinity, cpu))
            return fu;
    return NULL;
}

/* Domain-0 within its guarantee first, then the least vt. */
static struct fair_unit *pick(struct scheduler *s, int cpu, fv_ns_t now,
                              const struct sched_unit *skip)
{
    struct fair_private *prv = fair_priv(s);
    struct fair_dom *fd;
    struct fair_unit *fu;

    if (!prv->eligible[cpu])
        return NULL;
    if (prv->dom0 && prv->dom0->in_tree && g_behind(prv, prv->dom0, now) &&
        (fu = first_fit(prv->dom0, cpu, skip)))
        return fu;
    RB_FOREACH(fd, fair_tree, &prv->tree)
        if ((fu = first_fit(fd, cpu, skip)))
            return fu;
    return NULL;
}

/* Whether queued a goes before running b (accounted to now). */
static bool beats(struct scheduler *s, struct fair_unit *a, struct fair_unit *b, fv_ns_t now)
{
    struct fair_private *prv = fair_priv(s);
    bool ga = g_behind(prv, a->fd, now), gb = g_behind(prv, b->fd, now);
    if (ga != gb)
        return ga;
    return a->fd != b->fd && fair_cmp(a->fd, b->fd) < 0;
}

static bool cpu_free(struct scheduler *s, int c)
{
    struct fair_private *prv = fair_priv(s);
    struct sched_unit *cur = sched_curr(s, c);
    /* One whose vCPU has just blocked is about to be idle. */
    return !cpumask_test(&prv->tickled, c) && (!cur || !cur->runnable);
}

/* fu was queued: an idle pCPU of its affinity (its last first) runs it;
 * else it preempts the vCPU it beats that is furthest ahead. */
static void tickle_for(struct scheduler *s, struct fair_unit *fu, fv_ns_t now)
{
    struct fair_private *prv = fair_priv(s);
    const fv_cpumask_t *aff = &fu->unit->affinity;
    struct fair_unit *worst = NULL;
    int c0 = fu->unit->cpu, best = -1;

    if (fu->fd->parked)
        return;
    if (!(c0 >= 0 && c0 < s->nr_cpus && cpumask_test(aff, c0) && cpu_free(s, c0)))
        for (c0 = cpumask_next(aff, 0); c0 >= 0 && c0 < s->nr_cpus && !cpu_free(s, c0);
             c0 = cpumask_next(aff, c0 + 1))
            ;
    if (c0 >= 0 && c0 < s->nr_cpus) {
        tickle(s, c0);
        return;
    }
    for (int c = cpumask_next(aff, 0); c >= 0 && c < s->nr_cpus; c = cpumask_next(aff, c + 1)) {
        struct sched_unit *cur = sched_curr(s, c);
        if (!cur || cpumask_test(&prv->tickled, c))
            continue;
        struct fair_unit *cf = fair_unit(cur);
        fair_burn(s, cf, now, -1);
        if (cpumask_test(&prv->tickled, c) || !beats(s, fu, cf, now))
            continue;
        if (!worst || beats(s, worst, cf, now)) {
            worst = cf;
            best = c;
        }
    }
    if (best >= 0)
        tickle(s, best);
}

/* Idle pCPUs that queued work may run on are told so. */
static void kick_idlers(struct scheduler *s, int self)
{
    struct fair_private *prv = fair_priv(s);
    for (int c = cpumask_next(&prv->idle, 0); c >= 0 && c < s->nr_cpus;
         c = cpumask_next(&prv->idle, c + 1))
        if (c != self && prv->eligible[c] > 0 && !cpumask_test(&prv->tickled, c))
            tickle(s, c);
}

/* Domain-0 queued and not behind: the timer goes off when it falls behind
 * (by the rate, or at the next window), to preempt then. */
static void g_watch(struct scheduler *s, fv_ns_t now)
{
    struct fair_private *prv = fair_priv(s);
    struct fair_dom *d0 = prv->dom0;
    if (!d0 || !prv->g_budget || !d0->nr_queued || d0->parked || g_behind(prv, d0, now))
        return;
    fv_ns_t ws = d0->g_epoch * prv->g_period, when = ws + prv->g_period;
    if (d0->g_used < prv->g_budget)
        when = ws + (d0->g_used * prv->g_period + prv->g_budget - 1) / prv->g_budget;
    if (!sched_timer_armed(&prv->g_timer) || prv->g_timer.expires != when)
        sched_timer_set(s, &prv->g_timer, when);
}

static void g_timer_fn(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    (void)t;
    struct fair_private *prv = fair_priv(s);
    struct fair_unit *fu;
    if (!prv->dom0 || prv->dom0->parked)
        return;
    for_each_queued(prv->dom0, fu)
        tickle_for(s, fu, now);
    g_watch(s, now);
}

/* fd comes back to compete (woken from all-blocked, or unparked): at most
 * `boost` of lead over the least vt of the runnable domains, its old vt
 * breaking ties; so sleeping or being parked banks nothing. */
static void place(struct scheduler *s, struct fair_dom *fd, fv_ns_t now)
{
    struct fair_private *prv = fair_priv(s);
    update_vmin(s, now, true, -1);
    if (fd->vt < prv->vmin - prv->boost)
        set_key(prv, fd, prv->vmin - prv->boost, fd->vt);
}

void fair_unpark(struct scheduler *s, struct fair_dom *fd, fv_ns_t now)
{
    struct fair_unit *fu;
    place(s, fd, now);
    fd->parked = false;
    for_each_queued(fd, fu)
        eligible_add(s, fu->unit, 1);
    if (fd->nr_queued)
        tree_enter(fair_priv(s), fd);
    for_each_queued(fd, fu)
        tickle_for(s, fu, now);
}

void fair_parked_remove(struct fair_private *prv, struct fair_dom *fd)
{
    for (struct fair_dom **pp = &prv->parked; *pp; pp = &(*pp)->parked_next)
        if (*pp == fd) {
            *pp = fd->parked_next;
            return;
        }
}

static void cap_timer_fn(struct scheduler *s, struct sched_timer *t, fv_ns_t now)
{
    struct fair_private *prv = fair_priv(s);
    for (struct fair_dom **pp = &prv->parked; *pp;) {
        struct fair_dom *fd = *pp;
        cap_refill(fd, now);
        if (fd->cap_left <= 0) {
            pp = &fd->parked_next;
            continue;
        }
        *pp = fd->parked_next;
        fair_unpark(s, fd, now);
    }
    if (prv->parked)
        sched_timer_set(s, t, window_end(now, FAIR_CAP_PERIOD));
}

/* How long the vCPU picked at now may run. */
static fv_ns_t slice(struct scheduler *s, struct fair_unit *fu, fv_ns_t now)
{
    struct fair_private *prv = fair_priv(s);
    struct fair_dom *fd = fu->fd;
    fv_ns_t rt = prv->tslice;

    if (fu->woke && prv->boost && prv->boost < rt)
        rt = prv->boost;
    if (g_behind(prv, fd, now)) {
        fv_ns_t g = g_catch_up(prv, fd, now);
        rt = g < rt ? g : rt;
    }
    if (fd->cap) {
        cap_refill(fd, now);
        if (fd->cap_left < rt)
            rt = fd->cap_left;
    }
    return rt > 0 ? rt : 1;
}

/* ---- ops -------------------------------------------------------------- */

static struct sched_decision fair_schedule(struct scheduler *s, int cpu, fv_ns_t now)
{
    struct fair_private *prv = fair_priv(s);
    struct sched_unit *prev = sched_curr(s, cpu);
    const struct sched_unit *skip = NULL;

    cpumask_clear(&prv->tickled, cpu);
    if (prev) {
        struct fair_unit *fp = fair_unit(prev);
        fair_burn(s, fp, now, cpu);
        /* Ratelimit: it keeps the pCPU for the rest of it, unless it
         * blocked, yielded or was parked. */
        fv_ns_t ran = now - fp->run_since;
        if (prv->ratelimit && ran < prv->ratelimit && prev->runnable && !fp->yielded &&
            !fp->fd->parked)
            return (struct sched_decision){ prev, prv->ratelimit - ran };
        if (fp->yielded)
            skip = prev;            /* any other waiter first */
        fp->yielded = false;
        fp->woke = false;
        if (prev->runnable && !fp->queued)
            q_add(s, fp);
    }
    update_vmin(s, now, false, cpu);
    struct fair_unit *next = pick(s, cpu, now, skip);
    if (!next && skip)
        next = pick(s, cpu, now, NULL);
    struct sched_decision dec = { NULL, -1 };
    if (next) {
        q_del(s, next);
        next->start = now;
        if (next->unit != prev)
            next->run_since = now;
        cpumask_clear(&prv->idle, cpu);
        dec = (struct sched_decision){ next->unit, slice(s, next, now) };
    } else {
        cpumask_set(&prv->idle, cpu);
    }
    g_watch(s, now);
    kick_idlers(s, cpu);
    return dec;
}

static void fair_wake(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    struct fair_unit *fu = fair_unit(u);
    struct fair_dom *fd = fu->fd;

    if (fd->nr_runnable++ == 0)
        place(s, fd, now);
    /* Still on its pCPU (blocked and woke before it was switched out). */
    if (u->is_running || fu->queued)
        return;
    fu->woke = true;
    q_add(s, fu);
    tickle_for(s, fu, now);
    g_watch(s, now);
}

static void fair_sleep(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    (void)now;
    struct fair_unit *fu = fair_unit(u);
    fu->fd->nr_runnable--;
    if (fu->queued)
        q_del(s, fu);
}

static void fair_yield(struct scheduler *s, struct sched_unit *u)
{
    (void)s;
    if (u->is_running)
        fair_unit(u)->yielded = true;
}

/* Charge-back: backend time is paid in virtual time exactly as run time
 * (the domain's vt grows by ns x 256 / weight), so the domain waits that
 * much longer for its next turn. It draws neither on a cap (which bounds
 * the domain's own CPU) nor on Domain-0's guarantee. */
static void fair_charge(struct scheduler *s, struct sched_unit *u, fv_ns_t ns)
{
    vt_add(fair_priv(s), fair_unit(u)->fd, ns);
}

static int fair_init(struct scheduler *s)
{
    struct fair_private *prv = calloc(1, sizeof(*prv));
    if (!prv)
        return -ENOMEM;
    prv->eligible = calloc((size_t)s->nr_cpus, sizeof(*prv->eligible));
    if (!prv->eligible) {
        free(prv);
        return -ENOMEM;
    }
    RB_INIT(&prv->tree);
    sched_timer_init(&prv->cap_timer, cap_timer_fn, NULL, 0);
    sched_timer_init(&prv->g_timer, g_timer_fn, NULL, 0);
    s->priv = prv;
    fair_set_global(s, &s->gp);
    return 0;
}

static void fair_deinit(struct scheduler *s)
{
    struct fair_private *prv = fair_priv(s);
    if (!prv)
        return;
    sched_timer_stop(s, &prv->cap_timer);
    sched_timer_stop(s, &prv->g_timer);
    free(prv->eligible);
    free(prv);
    s->priv = NULL;
}

static int fair_alloc_pdata(struct scheduler *s, int cpu)
{
    cpumask_set(&fair_priv(s)->idle, cpu);
    return 0;
}

static int fair_alloc_domdata(struct scheduler *s, struct sched_domain *d)
{
    struct fair_private *prv = fair_priv(s);
    /* Only here are the vCPUs known: more than 100% per vCPU is unusable. */
    if (d->params.cap > 100u * (uint32_t)d->nr_units)
        return -EINVAL;
    struct fair_dom *fd = calloc(1, sizeof(*fd));
    if (!fd)
        return -ENOMEM;
    fd->dom = d;
    fd->vt = fd->tb = prv->vmin;
    fd->weight = d->params.weight;
    fd->cap = d->params.cap;
    link_init(&fd->queue);
    fd->cap_left = fair_cap_per_window(fd->cap);
    fd->cap_epoch = sched_now(s) / FAIR_CAP_PERIOD;
    fd->g_epoch = -1;
    if (d->id == 0)
        prv->dom0 = fd;
    d->priv = fd;
    return 0;
}

static void fair_free_domdata(struct scheduler *s, struct sched_domain *d)
{
    struct fair_private *prv = fair_priv(s);
    struct fair_dom *fd = fair_dom(d);
    if (!fd)
        return;
    if (fd->parked)
        fair_parked_remove(prv, fd);
    if (fd->in_tree)
        tree_leave(prv, fd);
    if (prv->dom0 == fd)
        prv->dom0 = NULL;
    free(fd);
    d->priv = NULL;
}

static int fair_alloc_udata(struct scheduler *s, struct sched_unit *u)
{
    (void)s;
    struct fair_unit *fu = calloc(1, sizeof(*fu));
    if (!fu)
        return -ENOMEM;
    fu->unit = u;
    fu->fd = fair_dom(u->dom);
    link_init(&fu->q);
    u->priv = fu;
    return 0;
}

static void fair_free_udata(struct scheduler *s, struct sched_unit *u)
{
    (void)s;
    free(u->priv);
    u->priv = NULL;
}

static void fair_remove_unit(struct scheduler *s, struct sched_unit *u)
{
    struct fair_unit *fu = fair_unit(u);
    if (fu->queued)
        q_del(s, fu);
}

/* An idle pCPU of its affinity (its current one first), else its current
 * one if allowed, else the first allowed: the queue is shared, so this
 * only says where it starts. */
static int fair_pick_pcpu(struct scheduler *s, struct sched_unit *u)
{
    struct fair_private *prv = fair_priv(s);
    bool cur_ok = u->cpu >= 0 && u->cpu < s->nr_cpus && cpumask_test(&u->affinity, u->cpu);
    if (cur_ok && cpumask_test(&prv->idle, u->cpu) && !cpumask_test(&prv->tickled, u->cpu))
        return u->cpu;
    for (int c = cpumask_next(&u->affinity, 0); c >= 0 && c < s->nr_cpus;
         c = cpumask_next(&u->affinity, c + 1))
        if (cpumask_test(&prv->idle, c) && !cpumask_test(&prv->tickled, c))
            return c;
    if (cur_ok)
        return u->cpu;
    int c = cpumask_next(&u->affinity, 0);
    return c >= 0 && c < s->nr_cpus ? c : 0;
}

const struct sched_ops sched_fair_ops = {
    .name = "fair",
    .help = "fairvisor's own: weighted virtual time charged for backend work, bounded "
            "wake-up boost, Domain-0 guarantee",
    .dom_params = fair_dom_params,
    .global_params = fair_global_params,
    .init = fair_init,
    .deinit = fair_deinit,
    .alloc_udata = fair_alloc_udata,
    .free_udata = fair_free_udata,
    .do_schedule = fair_schedule,
    .pick_pcpu = fair_pick_pcpu,
    .alloc_pdata = fair_alloc_pdata,
    .alloc_domdata = fair_alloc_domdata,
    .free_domdata = fair_free_domdata,
    .remove_unit = fair_remove_unit,
    .sleep = fair_sleep,
    .wake = fair_wake,
    .yield = fair_yield,
    .check_global = fair_check_global,
    .check_dom = fair_check_dom,
    .adjust = fair_adjust,
    .adjust_global = fair_adjust_global,
    .charge = fair_charge,
    .entitle = fair_entitle,
    .dump = fair_dump,
    .chargeback = true,
};
