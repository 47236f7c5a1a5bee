/* starve.c — the starvation detector (see starve.h).
 *
 * Holders come from a service log per resource: the CPU log has one entry
 * per span during which a domain kept the same number of vCPUs running
 * (written when that number changes), the net and blk logs one entry per
 * domain served at a check. An open episode remembers where its log stood
 * when it began; when it ends as an event, the entries since then that
 * fall in the episode are added up per domain (plus, for CPU, the domains
 * running right now). A log is cut, when it fills, to what the open
 * episodes can still need; past STARVE_LOG_MAX entries the oldest half
 * goes regardless, and an episode older than that names the holders of
 * its recent part only. Once the list is full nothing is logged any more:
 * the events after that are counted, not listed.
 */
#include "starve.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define STARVE_LOG_MIN 1024
#define STARVE_LOG_MAX (1u << 18)
#define NR_IO 2                         /* net, blk: io arrays' index = resource - 1 */

struct st_entry {
    int dom;
    fv_ns_t a, b;                       /* CPU: the span; I/O: a = b = the check */
    uint64_t amount;                    /* CPU: vCPUs running; I/O: frames or requests */
};

struct st_log {
    struct st_entry *e;
    size_t len, cap;
    uint64_t base;                      /* absolute index of e[0] */
};

struct st_cpu_dom {
    int nr_running;
    fv_ns_t run_since;                  /* nr_running last changed (while > 0) */
    fv_ns_t since;                      /* the open episode's start, or -1 */
    uint64_t pos;                       /* the CPU log's end when it began */
    int run_slot;                       /* its index in running[], or -1 */
};

struct st_io_dom {
    bool has[NR_IO];
    uint64_t served[NR_IO];             /* the last reading */
    uint64_t pending[NR_IO], delta[NR_IO];  /* this check's */
    fv_ns_t since[NR_IO];
    uint64_t pos[NR_IO];
};

/* Per-domain sums while holders are added up. */
struct st_scratch {
    uint64_t *acc;
    int *touched;
    int nr_touched;
};

struct starve {
    int n, cap;                         /* domains now, and room for (starve_grow) */
    starve_event_fn event_fn;           /* set before the run: each event as found */
    void *event_ctx;
    fv_ns_t threshold;
    pthread_mutex_t lock;
    /* CPU: the caller's serialisation */
    struct st_cpu_dom *cpu;
    int *running;                       /* domains with a vCPU running */
    int nr_running;
    struct st_log cpu_log;
    struct st_scratch cpu_scr;
    /* I/O: set before the run, then read-only */
    starve_io_fn io_fn;
    void *io_ctx;
    starve_clock_fn clock;
    void *clock_ctx;
    int *watched;
    int nr_watched;
    /* I/O: under lock */
    struct st_io_dom *io;
    struct st_log io_log[NR_IO];
    struct st_scratch io_scr;
    /* results: under lock */
    struct run_starve *tot;             /* [d * STARVE_NR_RES + r] */
    uint64_t events;
    struct run_starve_event *list;
    int nr_list, cap_list;
    bool truncated;
    atomic_bool list_full;              /* nr_list == STARVE_LIST_MAX: stop logging */
};

/* ---- life cycle -------------------------------------------------------------- */

struct starve *starve_create(int nr_doms, fv_ns_t threshold)
{
    return starve_create_cap(nr_doms, nr_doms, threshold);
}

static void dom_init(struct starve *st, int d)
{
    st->cpu[d].since = -1;
    st->cpu[d].run_slot = -1;
    for (int k = 0; k < NR_IO; k++)
        st->io[d].since[k] = -1;
}

struct starve *starve_create_cap(int cap, int nr_doms, fv_ns_t threshold)
{
    struct starve *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    if (cap < nr_doms)
        cap = nr_doms;
    size_t n = cap > 0 ? (size_t)cap : 1;
    st->n = nr_doms;
    st->cap = (int)n;
    st->event_fn = NULL;
    st->threshold = threshold;
    pthread_mutex_init(&st->lock, NULL);
    atomic_init(&st->list_full, false);
    st->cpu = calloc(n, sizeof(*st->cpu));
    st->running = calloc(n, sizeof(*st->running));
    st->io = calloc(n, sizeof(*st->io));
    st->watched = calloc(n, sizeof(*st->watched));
    st->tot = calloc(n * STARVE_NR_RES, sizeof(*st->tot));
    st->cpu_scr.acc = calloc(n, sizeof(uint64_t));
    st->cpu_scr.touched = calloc(n, sizeof(int));
    st->io_scr.acc = calloc(n, sizeof(uint64_t));
    st->io_scr.touched = calloc(n, sizeof(int));
    if (!st->cpu || !st->running || !st->io || !st->watched || !st->tot || !st->cpu_scr.acc ||
        !st->cpu_scr.touched || !st->io_scr.acc || !st->io_scr.touched) {
        starve_destroy(st);
        return NULL;
    }
    for (int d = 0; d < nr_doms; d++)
        dom_init(st, d);
    return st;
}

int starve_grow(struct starve *st, int n)
{
    if (n > st->cap)
        return -ENOSPC;
    pthread_mutex_lock(&st->lock);
    for (int d = st->n; d < n; d++)
        dom_init(st, d);
    st->n = n;
    pthread_mutex_unlock(&st->lock);
    return 0;
}

void starve_set_event_hook(struct starve *st, starve_event_fn fn, void *ctx)
{
    st->event_fn = fn;
    st->event_ctx = ctx;
}

void starve_destroy(struct starve *st)
{
    if (!st)
        return;
    free(st->cpu);
    free(st->running);
    free(st->io);
    free(st->watched);
    free(st->tot);
    free(st->cpu_scr.acc);
    free(st->cpu_scr.touched);
    free(st->io_scr.acc);
    free(st->io_scr.touched);
    free(st->cpu_log.e);
    for (int k = 0; k < NR_IO; k++)
        free(st->io_log[k].e);
    free(st->list);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

/* ---- service logs -------------------------------------------------------------- */

static uint64_t log_end(const struct st_log *l) { return l->base + l->len; }

/* The oldest log position an open episode on resource r still needs
 * (UINT64_MAX: none). */
static uint64_t needed_from(const struct starve *st, enum starve_res r)
{
    uint64_t min = UINT64_MAX;
    if (r == STARVE_CPU) {
        for (int d = 0; d < st->n; d++)
            if (st->cpu[d].since >= 0 && st->cpu[d].pos < min)
                min = st->cpu[d].pos;
        return min;
    }
    for (int i = 0; i < st->nr_watched; i++) {
        const struct st_io_dom *io = &st->io[st->watched[i]];
        if (io->since[r - 1] >= 0 && io->pos[r - 1] < min)
            min = io->pos[r - 1];
    }
    return min;
}

static void log_drop(struct st_log *l, size_t n)
{
    if (!n)
        return;
    memmove(l->e, l->e + n, (l->len - n) * sizeof(*l->e));
    l->len -= n;
    l->base += n;
}

/* Room for one more entry in a full log: cut what no open episode needs,
 * grow while that leaves it more than half full, and past the maximum
 * drop the oldest half. false: out of memory (the entry is not logged). */
static bool log_room(struct starve *st, struct st_log *l, enum starve_res r)
{
    if (l->len < l->cap)
        return true;
    uint64_t keep = needed_from(st, r);
    if (keep > l->base)
        log_drop(l, keep - l->base < l->len ? (size_t)(keep - l->base) : l->len);
    if (l->len < l->cap / 2 && l->cap)
        return true;
    if (l->cap >= STARVE_LOG_MAX) {
        log_drop(l, l->len / 2);
        return true;
    }
    size_t cap = l->cap ? 2 * l->cap : (size_t)(2 * st->n > STARVE_LOG_MIN ? 2 * st->n : STARVE_LOG_MIN);
    struct st_entry *e = realloc(l->e, cap * sizeof(*e));
    if (!e)
        return false;
    l->e = e;
    l->cap = cap;
    return true;
}

static void log_push(struct starve *st, struct st_log *l, enum starve_res r, int dom, fv_ns_t a,
                     fv_ns_t b, uint64_t amount)
{
    if (atomic_load_explicit(&st->list_full, memory_order_relaxed) || !log_room(st, l, r))
        return;
    l->e[l->len++] = (struct st_entry){ .dom = dom, .a = a, .b = b, .amount = amount };
}

/* ---- holders ------------------------------------------------------------------- */

static void scr_add(struct st_scratch *s, int dom, uint64_t amount)
{
    if (!amount)
        return;
    if (!s->acc[dom])
        s->touched[s->nr_touched++] = dom;
    s->acc[dom] += amount;
}

/* Name the STARVE_HOLDERS most served in ev (ties: lower index first),
 * count them all, and clear the scratch. */
static void scr_pick(struct st_scratch *s, struct run_starve_event *ev)
{
    ev->holders_total = s->nr_touched;
    ev->nr_holders = 0;
    for (int k = 0; k < STARVE_HOLDERS && k < s->nr_touched; k++) {
        int best = -1;
        for (int i = k; i < s->nr_touched; i++) {
            int d = s->touched[i];
            if (best < 0 || s->acc[d] > s->acc[s->touched[best]] ||
                (s->acc[d] == s->acc[s->touched[best]] && d < s->touched[best]))
                best = i;
        }
        int t = s->touched[k];
        s->touched[k] = s->touched[best];
        s->touched[best] = t;
        ev->holders[ev->nr_holders++] = s->touched[k];
    }
    for (int i = 0; i < s->nr_touched; i++)
        s->acc[s->touched[i]] = 0;
    s->nr_touched = 0;
}

static fv_ns_t overlap(fv_ns_t a, fv_ns_t b, fv_ns_t s, fv_ns_t e)
{
    fv_ns_t lo = a > s ? a : s, hi = b < e ? b : e;
    return hi > lo ? hi - lo : 0;
}

/* CPU: who ran during (s, e), by vCPU time there. */
static void cpu_holders(struct starve *st, int victim, fv_ns_t s, fv_ns_t e, uint64_t pos,
                        struct run_starve_event *ev)
{
    const struct st_log *l = &st->cpu_log;
    for (size_t i = pos > l->base ? (size_t)(pos - l->base) : 0; i < l->len; i++) {
        const struct st_entry *x = &l->e[i];
        if (x->dom != victim)
            scr_add(&st->cpu_scr, x->dom, (uint64_t)overlap(x->a, x->b, s, e) * x->amount);
    }
    for (int i = 0; i < st->nr_running; i++) {
        int d = st->running[i];
        if (d != victim)
            scr_add(&st->cpu_scr, d, (uint64_t)overlap(st->cpu[d].run_since, e, s, e) *
                                         (uint64_t)st->cpu[d].nr_running);
    }
    scr_pick(&st->cpu_scr, ev);
}

/* I/O (lock held): who was served at a check in (s, e], by amount. */
static void io_holders(struct starve *st, int k, int victim, fv_ns_t s, fv_ns_t e, uint64_t pos,
                       struct run_starve_event *ev)
{
    const struct st_log *l = &st->io_log[k];
    for (size_t i = pos > l->base ? (size_t)(pos - l->base) : 0; i < l->len; i++) {
        const struct st_entry *x = &l->e[i];
        if (x->dom != victim && x->b > s && x->b <= e)
            scr_add(&st->io_scr, x->dom, x->amount);
    }
    scr_pick(&st->io_scr, ev);
}

/* ---- events ---------------------------------------------------------------------- */

/* (lock held) Count an event and list it while there is room. */
static void record(struct starve *st, const struct run_starve_event *ev, bool have_holders)
{
    struct run_starve *t = &st->tot[ev->dom * STARVE_NR_RES + ev->resource];
    t->events++;
    t->starved_ns += ev->duration_ns;
    st->events++;
    if (st->event_fn)
        st->event_fn(st->event_ctx, ev);
    if (!have_holders || st->nr_list >= STARVE_LIST_MAX) {
        st->truncated = true;
        return;
    }
    if (st->nr_list == st->cap_list) {
        int cap = st->cap_list ? 2 * st->cap_list : 64;
        if (cap > STARVE_LIST_MAX)
            cap = STARVE_LIST_MAX;
        struct run_starve_event *l = realloc(st->list, (size_t)cap * sizeof(*l));
        if (!l) {
            st->truncated = true;
            return;
        }
        st->list = l;
        st->cap_list = cap;
    }
    st->list[st->nr_list++] = *ev;
    if (st->nr_list == STARVE_LIST_MAX)
        atomic_store_explicit(&st->list_full, true, memory_order_relaxed);
}

static bool is_event(const struct starve *st, fv_ns_t s, fv_ns_t e)
{
    return e - s > st->threshold;
}

static void cpu_close(struct starve *st, int d, fv_ns_t now)
{
    struct st_cpu_dom *c = &st->cpu[d];
    fv_ns_t s = c->since;
    c->since = -1;
    if (!is_event(st, s, now))
        return;
    struct run_starve_event ev = { .start_ns = s, .duration_ns = now - s, .dom = d,
                                   .resource = STARVE_CPU };
    bool listed = !atomic_load_explicit(&st->list_full, memory_order_relaxed);
    if (listed)
        cpu_holders(st, d, s, now, c->pos, &ev);
    pthread_mutex_lock(&st->lock);
    record(st, &ev, listed);
    pthread_mutex_unlock(&st->lock);
}

/* (lock held) */
static void io_close(struct starve *st, int d, int k, fv_ns_t now)
{
    struct st_io_dom *io = &st->io[d];
    fv_ns_t s = io->since[k];
    io->since[k] = -1;
    if (!is_event(st, s, now))
        return;
    struct run_starve_event ev = { .start_ns = s, .duration_ns = now - s, .dom = d,
                                   .resource = k + 1 };
    bool listed = st->nr_list < STARVE_LIST_MAX;
    if (listed)
        io_holders(st, k, d, s, now, io->pos[k], &ev);
    record(st, &ev, listed);
}

/* ---- CPU ------------------------------------------------------------------------ */

static void running_set(struct starve *st, int d, bool on)
{
    struct st_cpu_dom *c = &st->cpu[d];
    if (on && c->run_slot < 0) {
        c->run_slot = st->nr_running;
        st->running[st->nr_running++] = d;
    } else if (!on && c->run_slot >= 0) {
        int last = st->running[--st->nr_running];
        st->running[c->run_slot] = last;
        st->cpu[last].run_slot = c->run_slot;
        c->run_slot = -1;
    }
}

void starve_cpu(struct starve *st, int d, int nr_running, int nr_waiting, fv_ns_t now)
{
    struct st_cpu_dom *c = &st->cpu[d];
    if (nr_running != c->nr_running) {
        if (c->nr_running > 0 && now > c->run_since)
            log_push(st, &st->cpu_log, STARVE_CPU, d, c->run_since, now, (uint64_t)c->nr_running);
        running_set(st, d, nr_running > 0);
        c->nr_running = nr_running;
        c->run_since = now;
    }
    bool starving = nr_waiting > 0 && nr_running == 0;
    if (starving && c->since < 0) {
        c->since = now;
        c->pos = log_end(&st->cpu_log);
    } else if (!starving && c->since >= 0) {
        cpu_close(st, d, now);
    }
}

/* ---- I/O ------------------------------------------------------------------------- */

void starve_set_io_source(struct starve *st, starve_io_fn fn, void *ctx, starve_clock_fn clock,
                          void *clock_ctx)
{
    st->io_fn = fn;
    st->io_ctx = ctx;
    st->clock = clock;
    st->clock_ctx = clock_ctx;
    st->nr_watched = 0;
    for (int d = 0; fn && d < st->n; d++) {
        struct starve_io r;
        memset(&r, 0, sizeof(r));
        fn(ctx, d, &r);
        st->io[d].has[0] = r.net;
        st->io[d].has[1] = r.blk;
        if (r.net || r.blk)
            st->watched[st->nr_watched++] = d;
    }
}

/* (lock held) Read d and log what it was served since the last check. */
static void io_read(struct starve *st, int d, fv_ns_t now)
{
    struct st_io_dom *io = &st->io[d];
    if (!io->has[0] && !io->has[1])
        return;                         /* gone (starve_io_watch) */
    struct starve_io r;
    memset(&r, 0, sizeof(r));
    st->io_fn(st->io_ctx, d, &r);
    const uint64_t pending[NR_IO] = { r.net_pending, r.blk_pending };
    const uint64_t served[NR_IO] = { r.net_served, r.blk_served };
    for (int k = 0; k < NR_IO; k++) {
        if (!io->has[k])
            continue;
        /* A counter below the last reading restarted from 0. */
        io->delta[k] = served[k] >= io->served[k] ? served[k] - io->served[k] : served[k];
        io->served[k] = served[k];
        io->pending[k] = pending[k];
        if (io->delta[k])
            log_push(st, &st->io_log[k], (enum starve_res)(k + 1), d, now, now, io->delta[k]);
    }
}

/* (lock held) Move d's episodes on by this check's reading. */
static void io_step(struct starve *st, int d, fv_ns_t now)
{
    struct st_io_dom *io = &st->io[d];
    for (int k = 0; k < NR_IO; k++) {
        if (!io->has[k])
            continue;
        if (io->delta[k]) {
            if (io->since[k] >= 0)
                io_close(st, d, k, now);
            if (io->pending[k]) {           /* served, and more waits: a new episode */
                io->since[k] = now;
                io->pos[k] = log_end(&st->io_log[k]);
            }
        } else if (io->pending[k]) {
            if (io->since[k] < 0) {
                io->since[k] = now;
                io->pos[k] = log_end(&st->io_log[k]);
            }
        } else if (io->since[k] >= 0) {
            io_close(st, d, k, now);
        }
    }
}

void starve_io_check(struct starve *st, int d, fv_ns_t now)
{
    if (!st || !st->io_fn)
        return;
    if (d >= 0 && (d >= st->n || !(st->io[d].has[0] || st->io[d].has[1])))
        return;
    pthread_mutex_lock(&st->lock);
    if (d >= 0) {
        io_read(st, d, now);
        io_step(st, d, now);
    } else {
        /* Everyone's service first: a victim served at this check has the
         * others served at it among its holders, whatever their order. */
        for (int i = 0; i < st->nr_watched; i++)
            io_read(st, st->watched[i], now);
        for (int i = 0; i < st->nr_watched; i++)
            io_step(st, st->watched[i], now);
    }
    pthread_mutex_unlock(&st->lock);
}

int starve_io_watch(struct starve *st, int d, bool watch)
{
    if (!st || !st->io_fn)
        return 0;
    if (d < 0 || d >= st->cap)
        return -ENOSPC;
    pthread_mutex_lock(&st->lock);
    struct st_io_dom *io = &st->io[d];
    int at = -1;
    for (int i = 0; i < st->nr_watched && at < 0; i++)
        if (st->watched[i] == d)
            at = i;
    if (watch && at < 0) {
        struct starve_io r;
        memset(&r, 0, sizeof(r));
        st->io_fn(st->io_ctx, d, &r);
        io->has[0] = r.net;
        io->has[1] = r.blk;
        if (r.net || r.blk)
            st->watched[st->nr_watched++] = d;
    } else if (!watch && at >= 0) {
        fv_ns_t now = st->clock ? st->clock(st->clock_ctx) : 0;
        for (int k = 0; k < NR_IO; k++)
            if (io->has[k] && io->since[k] >= 0)
                io_close(st, d, k, now);
        io->has[0] = io->has[1] = false;
        memmove(&st->watched[at], &st->watched[at + 1],
                (size_t)(st->nr_watched - at - 1) * sizeof(*st->watched));
        st->nr_watched--;
    }
    pthread_mutex_unlock(&st->lock);
    return 0;
}

void starve_io_pass(struct starve *st)
{
    if (st && st->io_fn && st->clock)
        starve_io_check(st, -1, st->clock(st->clock_ctx));
}

/* ---- the end ----------------------------------------------------------------------- */

void starve_finish(struct starve *st, fv_ns_t now)
{
    starve_io_check(st, -1, now);
    pthread_mutex_lock(&st->lock);
    for (int i = 0; i < st->nr_watched; i++)
        for (int k = 0; k < NR_IO; k++)
            if (st->io[st->watched[i]].since[k] >= 0)
                io_close(st, st->watched[i], k, now);
    pthread_mutex_unlock(&st->lock);
    for (int d = 0; d < st->n; d++)
        if (st->cpu[d].since >= 0)
            cpu_close(st, d, now);
}

struct run_starve starve_totals(struct starve *st, int d, enum starve_res r)
{
    pthread_mutex_lock(&st->lock);
    struct run_starve t = st->tot[d * STARVE_NR_RES + r];
    pthread_mutex_unlock(&st->lock);
    return t;
}

uint64_t starve_events(struct starve *st)
{
    pthread_mutex_lock(&st->lock);
    uint64_t n = st->events;
    pthread_mutex_unlock(&st->lock);
    return n;
}

static int event_order(const void *pa, const void *pb)
{
    const struct run_starve_event *a = pa, *b = pb;
    if (a->start_ns != b->start_ns)
        return a->start_ns < b->start_ns ? -1 : 1;
    if (a->dom != b->dom)
        return a->dom < b->dom ? -1 : 1;
    return (a->resource > b->resource) - (a->resource < b->resource);
}

int starve_take_list(struct starve *st, struct run_starve_event **list, bool *truncated)
{
    pthread_mutex_lock(&st->lock);
    int n = st->nr_list;
    *list = st->list;
    *truncated = st->truncated;
    st->list = NULL;
    st->nr_list = st->cap_list = 0;
    pthread_mutex_unlock(&st->lock);
    /* In start order (then victim, resource): the order they were found in
     * depends on when each ended. */
    if (n > 1)
        qsort(*list, (size_t)n, sizeof(**list), event_order);
    return n;
}
