/* test_starve.c — the starvation detector (hv/starve.c) alone, with exact
 * numbers: what is an event and what is not, start and duration, the
 * holders (who, in which order, how many), I/O episodes through a scripted
 * source, the list's cap and list_truncated, the per-resource totals and
 * their sums in metrics, the summary.json fields and starvation.csv, and
 * I/O checks from several threads at once (for ThreadSanitizer). */
#include "testutil.h"
#include "fake_core.h"
#include "hv/metrics.h"
#include "hv/results.h"
#include "hv/results_starve.h"
#include "hv/run.h"
#include "hv/starve.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results_fixtures.h"

#define MS FV_MS(1)
#define TH FV_MS(10)                    /* the threshold of every test here */

/* ---- a scripted I/O source ---------------------------------------------------------- */

enum { NDOM = 6 };

struct src {
    bool net[NDOM], blk[NDOM];
    _Atomic uint64_t net_pending[NDOM], net_served[NDOM];
    _Atomic uint64_t blk_pending[NDOM], blk_served[NDOM];
    fv_ns_t now;
};

static void src_fn(void *ctx, int d, struct starve_io *out)
{
    struct src *s = ctx;
    out->net = s->net[d];
    out->blk = s->blk[d];
    out->net_pending = atomic_load(&s->net_pending[d]);
    out->net_served = atomic_load(&s->net_served[d]);
    out->blk_pending = atomic_load(&s->blk_pending[d]);
    out->blk_served = atomic_load(&s->blk_served[d]);
}

static fv_ns_t src_clock(void *ctx) { return ((struct src *)ctx)->now; }

static struct starve *make(int n)
{
    struct starve *st = starve_create(n, TH);
    assert_non_null(st);
    return st;
}

static struct run_starve_event *take(struct starve *st, int *n, bool *trunc)
{
    struct run_starve_event *l = NULL;
    *n = starve_take_list(st, &l, trunc);
    return l;
}

static void assert_event(const struct run_starve_event *e, int dom, int res, fv_ns_t start,
                         fv_ns_t dur, int total, int nh, const int *holders)
{
    assert_int_equal(e->dom, dom);
    assert_int_equal(e->resource, res);
    assert_int_equal(e->start_ns, start);
    assert_int_equal(e->duration_ns, dur);
    assert_int_equal(e->holders_total, total);
    assert_int_equal(e->nr_holders, nh);
    for (int i = 0; i < nh; i++)
        assert_int_equal(e->holders[i], holders[i]);
}

/* ---- CPU ----------------------------------------------------------------------------- */

/* Waiting with nothing running for the threshold or less is no event;
 * longer is one, from when it began, for its whole length. */
static void cpu_threshold_and_exact_times(void **state)
{
    (void)state;
    struct starve *st = make(2);
    starve_cpu(st, 0, 0, 1, 0);                 /* waits at 0 */
    starve_cpu(st, 1, 0, 1, 2 * MS);
    starve_cpu(st, 0, 1, 0, 5 * MS);            /* runs at 5 ms: no event */
    starve_cpu(st, 0, 0, 1, 7 * MS);            /* preempted at 7 */
    starve_cpu(st, 0, 1, 0, 17 * MS);           /* exactly the threshold: no event */
    starve_cpu(st, 1, 0, 0, 30 * MS);           /* blocked without running: 28 ms */
    starve_cpu(st, 0, 0, 1, 40 * MS);
    starve_cpu(st, 0, 1, 0, 50 * MS + 1);       /* 1 ns over */
    struct run_starve t0 = starve_totals(st, 0, STARVE_CPU), t1 = starve_totals(st, 1, STARVE_CPU);
    assert_int_equal(t0.events, 1);
    assert_int_equal(t0.starved_ns, 10 * MS + 1);
    assert_int_equal(t1.events, 1);
    assert_int_equal(t1.starved_ns, 28 * MS);
    assert_int_equal(starve_totals(st, 0, STARVE_NET).events, 0);
    assert_int_equal(starve_events(st), 2);
    int n;
    bool trunc;
    struct run_starve_event *l = take(st, &n, &trunc);
    assert_int_equal(n, 2);
    assert_false(trunc);
    /* In start order. While domain 1 waited, domain 0 ran (5..7 and
     * 17..30 ms): its holder; nobody ran while domain 0 waited. */
    const int h0[] = { 0 };
    assert_event(&l[0], 1, RUN_STARVE_CPU, 2 * MS, 28 * MS, 1, 1, h0);
    assert_event(&l[1], 0, RUN_STARVE_CPU, 40 * MS, 10 * MS + 1, 0, 0, NULL);
    free(l);
    starve_destroy(st);
}

/* Holders: the domains that ran during the episode, by vCPU time there
 * (two vCPUs count twice), still running at its end or not; a domain that
 * ran only before it, or only at its very start instant, is not one. */
static void cpu_holders_ranked(void **state)
{
    (void)state;
    struct starve *st = make(5);
    starve_cpu(st, 4, 1, 0, 0);                 /* 4 runs 0..5 ms, before the episode */
    starve_cpu(st, 4, 0, 0, 5 * MS);
    starve_cpu(st, 0, 1, 0, 5 * MS);            /* 0 runs 5..35 */
    starve_cpu(st, 1, 0, 1, 5 * MS);            /* the victim waits from 5 */
    starve_cpu(st, 2, 1, 0, 10 * MS);           /* 2: one vCPU 10..15, two 15..20 */
    starve_cpu(st, 2, 2, 0, 15 * MS);
    starve_cpu(st, 2, 0, 0, 20 * MS);
    starve_cpu(st, 3, 1, 0, 30 * MS);           /* 3 runs from 30 on */
    starve_cpu(st, 0, 0, 0, 35 * MS);
    starve_cpu(st, 1, 1, 0, 35 * MS);           /* the victim runs at 35: 30 ms */
    int n;
    bool trunc;
    struct run_starve_event *l = take(st, &n, &trunc);
    assert_int_equal(n, 1);
    /* 0: 30 ms; 2: 5 + 2 x 5 = 15 ms; 3: 5 ms (running at the end) */
    const int h[] = { 0, 2, 3 };
    assert_event(&l[0], 1, RUN_STARVE_CPU, 5 * MS, 30 * MS, 3, 3, h);
    free(l);
    starve_destroy(st);
}

/* At most STARVE_HOLDERS are named, the most served first (ties: lower
 * index), and holders_total counts them all. */
static void cpu_holders_bounded(void **state)
{
    (void)state;
    enum { N = 12 };
    struct starve *st = make(N);
    starve_cpu(st, 0, 0, 1, 0);
    /* domain k (11 down to 1) runs k ms, one after another; 9, 10 and 11
     * equal (served in the reverse of the order they are named in) */
    fv_ns_t t = 0;
    for (int k = N - 1; k >= 1; k--) {
        fv_ns_t len = (k < 9 ? k : 9) * MS;
        starve_cpu(st, k, 1, 0, t);
        starve_cpu(st, k, 0, 0, t + len);
        t += len;
    }
    starve_cpu(st, 0, 1, 0, t);
    int n;
    bool trunc;
    struct run_starve_event *l = take(st, &n, &trunc);
    assert_int_equal(n, 1);
    const int h[] = { 9, 10, 11, 8, 7, 6, 5, 4 };
    assert_event(&l[0], 0, RUN_STARVE_CPU, 0, t, 11, 8, h);
    free(l);
    starve_destroy(st);
}

/* The list keeps the first STARVE_LIST_MAX events and says it was cut;
 * every event still counts. */
static void list_cap_and_truncated(void **state)
{
    (void)state;
    struct starve *st = make(2);
    int total = STARVE_LIST_MAX + 5;
    starve_cpu(st, 1, 1, 0, 0);                 /* a holder throughout */
    for (int i = 0; i < total; i++) {
        starve_cpu(st, 0, 0, 1, (fv_ns_t)i * 20 * MS);
        starve_cpu(st, 0, 1, 0, (fv_ns_t)i * 20 * MS + 11 * MS);
    }
    struct run_starve t = starve_totals(st, 0, STARVE_CPU);
    assert_int_equal(t.events, total);
    assert_int_equal(t.starved_ns, (fv_ns_t)total * 11 * MS);
    int n;
    bool trunc;
    struct run_starve_event *l = take(st, &n, &trunc);
    assert_int_equal(n, STARVE_LIST_MAX);
    assert_true(trunc);
    const int h[] = { 1 };
    assert_event(&l[0], 0, RUN_STARVE_CPU, 0, 11 * MS, 1, 1, h);
    assert_event(&l[n - 1], 0, RUN_STARVE_CPU, (fv_ns_t)(n - 1) * 20 * MS, 11 * MS, 1, 1, h);
    free(l);
    starve_destroy(st);
    /* Exactly STARVE_LIST_MAX: all listed, not truncated. */
    st = make(1);
    for (int i = 0; i < STARVE_LIST_MAX; i++) {
        starve_cpu(st, 0, 0, 1, (fv_ns_t)i * 20 * MS);
        starve_cpu(st, 0, 1, 0, (fv_ns_t)i * 20 * MS + 11 * MS);
    }
    l = take(st, &n, &trunc);
    assert_int_equal(n, STARVE_LIST_MAX);
    assert_false(trunc);
    free(l);
    starve_destroy(st);
}

/* An episode open while the CPU log passes its maximum: the log drops its
 * oldest half rather than grow without end, and the event still names
 * who ran in what is left, with the exact start and length. */
static void long_episode_bounded_log(void **state)
{
    (void)state;
    struct starve *st = make(3);
    starve_cpu(st, 0, 0, 1, 0);                 /* waits the whole time */
    fv_ns_t t = 0;
    for (int i = 0; i < 300000; i++, t += 2) {  /* 1 and 2 take turns, 1 ns each */
        starve_cpu(st, 1, 1, 0, t);
        starve_cpu(st, 1, 0, 0, t + 1);
        starve_cpu(st, 2, 1, 0, t + 1);
        starve_cpu(st, 2, 0, 0, t + 2);
    }
    starve_cpu(st, 0, 1, 0, FV_MS(20));
    int n;
    bool trunc;
    struct run_starve_event *l = take(st, &n, &trunc);
    assert_int_equal(n, 1);
    const int h[] = { 1, 2 };
    assert_event(&l[0], 0, RUN_STARVE_CPU, 0, FV_MS(20), 2, 2, h);
    free(l);
    starve_destroy(st);
}

/* The end of the run closes open episodes: one already longer than the
 * threshold counts, a shorter one does not. */
static void finish_closes_open_episodes(void **state)
{
    (void)state;
    struct starve *st = make(3);
    starve_cpu(st, 0, 0, 1, 0);
    starve_cpu(st, 1, 0, 1, 95 * MS);
    starve_cpu(st, 2, 1, 0, 0);
    starve_finish(st, 100 * MS);
    assert_int_equal(starve_totals(st, 0, STARVE_CPU).events, 1);
    assert_int_equal(starve_totals(st, 0, STARVE_CPU).starved_ns, 100 * MS);
    assert_int_equal(starve_totals(st, 1, STARVE_CPU).events, 0);
    int n;
    bool trunc;
    struct run_starve_event *l = take(st, &n, &trunc);
    assert_int_equal(n, 1);
    const int h[] = { 2 };
    assert_event(&l[0], 0, RUN_STARVE_CPU, 0, 100 * MS, 1, 1, h);
    free(l);
    starve_destroy(st);
}

/* ---- net and blk ------------------------------------------------------------------- */

static void set_io(struct src *s, int d, int res, uint64_t pending, uint64_t served)
{
    if (res == STARVE_NET) {
        atomic_store(&s->net_pending[d], pending);
        atomic_store(&s->net_served[d], served);
    } else {
        atomic_store(&s->blk_pending[d], pending);
        atomic_store(&s->blk_served[d], served);
    }
}

/* A vif's requests wait from the check that first sees them (its vCPU
 * leaving its pCPU) until the pass that serves them: holders are the
 * domains served at checks after the start, up to and including that
 * pass, most frames first; one served at the start instant is not. */
static void net_episode_and_holders(void **state)
{
    (void)state;
    struct src s = { .net = { true, true, true, true } };
    struct starve *st = make(4);
    starve_set_io_source(st, src_fn, &s, src_clock, &s);
    set_io(&s, 3, STARVE_NET, 0, 1);
    set_io(&s, 0, STARVE_NET, 2, 0);
    starve_io_check(st, -1, 1 * MS);            /* 3 served at 1 ms, 0 starts waiting */
    starve_io_check(st, 0, 2 * MS);             /* still waiting: same episode */
    set_io(&s, 2, STARVE_NET, 0, 3);
    s.now = 20 * MS;
    starve_io_pass(st);                         /* 2 served 3 frames at 20 ms */
    set_io(&s, 0, STARVE_NET, 0, 2);
    set_io(&s, 1, STARVE_NET, 0, 5);
    s.now = 50 * MS;
    starve_io_pass(st);                         /* 0 and 1 served at 50 */
    int n;
    bool trunc;
    struct run_starve_event *l = take(st, &n, &trunc);
    assert_int_equal(n, 1);
    const int h[] = { 1, 2 };
    assert_event(&l[0], 0, RUN_STARVE_NET, 1 * MS, 49 * MS, 2, 2, h);
    free(l);
    assert_int_equal(starve_totals(st, 0, STARVE_NET).starved_ns, 49 * MS);
    assert_int_equal(starve_totals(st, 0, STARVE_CPU).events, 0);
    starve_destroy(st);
}

/* Served with more still waiting starts a new episode at the service;
 * what waits and then is gone unserved (a disconnect) ends the episode
 * there; a check that sees nothing pending and nothing served changes
 * nothing; blk is kept apart from net. */
static void io_episode_edges(void **state)
{
    (void)state;
    struct src s = { .net = { true }, .blk = { true } };
    struct starve *st = make(1);
    starve_set_io_source(st, src_fn, &s, src_clock, &s);
    starve_io_check(st, -1, 0);                 /* nothing */
    set_io(&s, 0, STARVE_BLK, 4, 0);
    starve_io_check(st, 0, 5 * MS);             /* blk waits from 5 */
    set_io(&s, 0, STARVE_BLK, 2, 2);
    starve_io_check(st, -1, 30 * MS);           /* 2 answered at 30: 25 ms; 2 wait on */
    set_io(&s, 0, STARVE_BLK, 0, 4);
    starve_io_check(st, -1, 35 * MS);           /* answered after 5 ms: no event */
    set_io(&s, 0, STARVE_NET, 1, 0);
    starve_io_check(st, -1, 40 * MS);
    set_io(&s, 0, STARVE_NET, 0, 0);
    starve_io_check(st, -1, 61 * MS);           /* gone unserved at 61: 21 ms */
    set_io(&s, 0, STARVE_BLK, 1, 4);
    starve_io_check(st, -1, 90 * MS);
    starve_finish(st, 100 * MS);                /* still waiting at the end: 10 ms, no event */
    struct run_starve tb = starve_totals(st, 0, STARVE_BLK), tn = starve_totals(st, 0, STARVE_NET);
    assert_int_equal(tb.events, 1);
    assert_int_equal(tb.starved_ns, 25 * MS);
    assert_int_equal(tn.events, 1);
    assert_int_equal(tn.starved_ns, 21 * MS);
    int n;
    bool trunc;
    struct run_starve_event *l = take(st, &n, &trunc);
    assert_int_equal(n, 2);
    assert_event(&l[0], 0, RUN_STARVE_BLK, 5 * MS, 25 * MS, 0, 0, NULL);
    assert_event(&l[1], 0, RUN_STARVE_NET, 40 * MS, 21 * MS, 0, 0, NULL);
    free(l);
    starve_destroy(st);
}

/* Domains without vifs or vbds are not asked at all; one without a
 * source never starves on I/O; finish closes a long I/O episode. */
static void io_unwatched_and_finish(void **state)
{
    (void)state;
    struct src s = { .blk = { false, true } };
    struct starve *st = make(2);
    starve_io_check(st, -1, 0);                 /* no source yet: nothing */
    starve_set_io_source(st, src_fn, &s, src_clock, &s);
    set_io(&s, 0, STARVE_BLK, 7, 0);            /* domain 0 has no vbd: ignored */
    set_io(&s, 1, STARVE_BLK, 1, 0);
    starve_io_check(st, 0, MS);
    starve_io_check(st, -1, 2 * MS);
    starve_finish(st, 50 * MS);
    assert_int_equal(starve_totals(st, 0, STARVE_BLK).events, 0);
    assert_int_equal(starve_totals(st, 1, STARVE_BLK).events, 1);
    assert_int_equal(starve_totals(st, 1, STARVE_BLK).starved_ns, 48 * MS);
    starve_destroy(st);
}

/* ---- metrics: the sums over the resources ------------------------------------------ */

/* One domain starved on each resource: starvation_events and starved_ns
 * are the sums, starve_by each part; the list moves into the result. */
static void metrics_sums_by_resource(void **state)
{
    (void)state;
    struct fake_core fc;
    struct sched_global_params gp;
    sched_global_defaults(sched_find("credit"), &gp);
    struct scheduler *s = fake_sched_new(&fc, "credit", 1, &gp);
    fake_add_domain(&fc, "a", 1, NULL, NULL);
    fake_add_domain(&fc, "b", 1, NULL, NULL);
    struct dom_result *res = calloc(2, sizeof(*res));
    assert_non_null(res);
    struct metrics m;
    assert_int_equal(metrics_init(&m, s, res, TH, (struct timeline_sink){ 0 }, 0), 0);
    struct src io = { .net = { true }, .blk = { true } };
    metrics_set_io_source(&m, src_fn, &io, src_clock, &io);
    int a = s->doms[0]->units[0]->id, b = s->doms[1]->units[0]->id;
    metrics_boot(&m, a, 0);
    metrics_boot(&m, b, 0);
    metrics_run(&m, a, 0);                      /* b waits 0..30: cpu */
    set_io(&io, 0, STARVE_NET, 1, 0);
    metrics_stop(&m, a, 30 * MS, false);        /* a posted a frame: net from 30 */
    metrics_run(&m, b, 30 * MS);
    set_io(&io, 0, STARVE_BLK, 1, 0);
    metrics_sample(&m, 40 * MS);                /* a sample sees a's request: blk from 40 */
    set_io(&io, 0, STARVE_NET, 0, 1);
    set_io(&io, 0, STARVE_BLK, 0, 1);
    starve_io_check(m.starve, -1, 100 * MS);    /* a pass serves both at 100 */
    metrics_finish(&m, 0, 200 * MS);
    assert_int_equal(res[0].starve_by[RUN_STARVE_NET].events, 1);
    assert_int_equal(res[0].starve_by[RUN_STARVE_NET].starved_ns, 70 * MS);
    assert_int_equal(res[0].starve_by[RUN_STARVE_BLK].events, 1);
    assert_int_equal(res[0].starve_by[RUN_STARVE_BLK].starved_ns, 60 * MS);
    assert_int_equal(res[0].starve_by[RUN_STARVE_CPU].events, 0);
    assert_int_equal(res[0].starvation_events, 2);
    assert_int_equal(res[0].starved_ns, 130 * MS);
    assert_int_equal(res[1].starve_by[RUN_STARVE_CPU].events, 1);
    assert_int_equal(res[1].starve_by[RUN_STARVE_CPU].starved_ns, 30 * MS);
    assert_int_equal(res[1].starvation_events, 1);
    assert_int_equal(res[1].starved_ns, 30 * MS);
    struct run_result rr = { .nr_doms = 2, .doms = res };
    metrics_take_starvation(&m, &rr);
    assert_int_equal(rr.nr_starve_list, 3);
    const int ha[] = { 0 };
    assert_event(&rr.starve_list[0], 1, RUN_STARVE_CPU, 0, 30 * MS, 1, 1, ha);
    assert_event(&rr.starve_list[1], 0, RUN_STARVE_NET, 30 * MS, 70 * MS, 0, 0, NULL);
    assert_event(&rr.starve_list[2], 0, RUN_STARVE_BLK, 40 * MS, 60 * MS, 0, 0, NULL);
    assert_false(rr.starve_list_truncated);
    metrics_fini(&m);
    run_result_free(&rr);
    fake_sched_free(&fc);
}

/* ---- results: summary.json and starvation.csv -------------------------------------------- */

static void fill_list(struct run_result *rr)
{
    rr->nr_starve_list = 2;
    rr->starve_list = calloc(2, sizeof(*rr->starve_list));
    assert_non_null(rr->starve_list);
    rr->starve_list[0] = (struct run_starve_event){
        .start_ns = 5000000, .duration_ns = 120000000, .dom = 1, .resource = RUN_STARVE_NET,
        .nr_holders = 1, .holders_total = 1, .holders = { 0 } };
    rr->starve_list[1] = (struct run_starve_event){
        .start_ns = 7000000, .duration_ns = 150000000, .dom = 0, .resource = RUN_STARVE_CPU,
        .nr_holders = 0, .holders_total = 0 };
    rr->starve_list_truncated = true;
    rr->doms[1].starve_by[RUN_STARVE_NET] = (struct run_starve){ 1, 120000000 };
    rr->doms[1].starve_by[RUN_STARVE_CPU] = (struct run_starve){ 1, 5 };
    rr->doms[0].starve_by[RUN_STARVE_CPU] = (struct run_starve){ 2, 150000000 };
}

static void summary_json_fields(void **state)
{
    (void)state;
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 2);
    snprintf(s.domains[0].name, sizeof(s.domains[0].name), "web;1");
    make_rr(&rr, &s);
    snprintf(rr.doms[0].name, sizeof(rr.doms[0].name), "web;1");
    fill_list(&rr);
    run_result_finish(&rr);
    char *dir = tu_tmpdir();
    assert_int_equal(results_write_summary(dir, &rr), 0);
    json_t *j = tu_summary(dir);
    json_t *starv = json_object_get(j, "starvation");
    assert_true(json_is_true(json_object_get(starv, "list_truncated")));
    json_t *list = json_object_get(starv, "list");
    assert_int_equal(json_array_size(list), 2);
    json_t *e = json_array_get(list, 0);
    assert_int_equal(json_integer_value(json_object_get(e, "start_ns")), 5000000);
    assert_int_equal(json_integer_value(json_object_get(e, "duration_ns")), 120000000);
    assert_string_equal(json_string_value(json_object_get(e, "domain")), "batch");
    assert_string_equal(json_string_value(json_object_get(e, "resource")), "net");
    json_t *h = json_object_get(e, "holders");
    assert_int_equal(json_array_size(h), 1);
    assert_string_equal(json_string_value(json_array_get(h, 0)), "web;1");
    assert_int_equal(json_integer_value(json_object_get(e, "holders_total")), 1);
    e = json_array_get(list, 1);
    assert_string_equal(json_string_value(json_object_get(e, "resource")), "cpu");
    assert_int_equal(json_array_size(json_object_get(e, "holders")), 0);
    json_t *d1 = json_array_get(json_object_get(j, "domains"), 1);
    json_t *by = json_object_get(d1, "starvation_by_resource");
    const char *names[] = { "cpu", "net", "blk" };
    const json_int_t ev[] = { 1, 1, 0 }, ns[] = { 5, 120000000, 0 };
    for (int k = 0; k < 3; k++) {
        json_t *r = json_object_get(by, names[k]);
        assert_int_equal(json_integer_value(json_object_get(r, "events")), ev[k]);
        assert_int_equal(json_integer_value(json_object_get(r, "starved_ns")), ns[k]);
    }
    json_decref(j);
    /* No events: an empty list, not truncated. */
    run_result_free(&rr);
    make_rr(&rr, &s);
    assert_int_equal(results_write_summary(dir, &rr), 0);
    j = tu_summary(dir);
    starv = json_object_get(j, "starvation");
    assert_int_equal(json_array_size(json_object_get(starv, "list")), 0);
    assert_true(json_is_false(json_object_get(starv, "list_truncated")));
    json_decref(j);
    tu_rmtree(dir);
    free(dir);
    free_all(&s, &rr);
}

static void starvation_csv(void **state)
{
    (void)state;
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 3);
    make_rr(&rr, &s);
    snprintf(rr.doms[0].name, sizeof(rr.doms[0].name), "web;1");
    fill_list(&rr);
    rr.starve_list[1].nr_holders = rr.starve_list[1].holders_total = 2;
    rr.starve_list[1].holders[0] = 2;
    rr.starve_list[1].holders[1] = 1;
    char *dir = tu_tmpdir();
    assert_int_equal(results_write_starvation_csv(dir, &rr), 0);
    char *p = path2(dir, "starvation.csv");
    char *text = tu_read(p, NULL);
    assert_non_null(text);
    assert_string_equal(text, "start_ns,duration_ns,domain,resource,holders\n"
                              "5000000,120000000,batch,net,web_1\n"
                              "7000000,150000000,web_1,cpu,dom-2;batch\n");
    free(text);
    free(p);
    assert_int_equal(count_tmp(dir), 0);
    char *missing = path2(dir, "nope");
    assert_int_equal(results_write_starvation_csv(missing, &rr), -ENOENT);
    free(missing);
    tu_rmtree(dir);
    free(dir);
    free_all(&s, &rr);
}

/* ---- threads ------------------------------------------------------------------------- */

struct race {
    struct starve *st;
    struct src s;
    atomic_int stop;
};

static void *io_thread(void *arg)
{
    struct race *r = arg;
    for (int i = 0; i < 20000; i++)
        starve_io_check(r->st, i & 1 ? -1 : 0, (fv_ns_t)i * MS);
    return NULL;
}

static void *served_thread(void *arg)
{
    struct race *r = arg;
    for (uint64_t i = 1; !atomic_load(&r->stop); i++) {
        atomic_store(&r->s.net_pending[0], i & 3);
        atomic_store(&r->s.net_served[0], i / 8);
    }
    return NULL;
}

/* I/O checks from two threads while the served counters move and the CPU
 * side records events under its own serialisation: no race (TSan), and
 * the CPU figures are exactly the sequence's. */
static void threads_io_and_cpu(void **state)
{
    (void)state;
    static struct race r;
    memset(&r, 0, sizeof(r));
    r.s.net[0] = r.s.net[1] = true;
    r.st = make(2);
    starve_set_io_source(r.st, src_fn, &r.s, src_clock, &r.s);
    pthread_t a, b, c;
    assert_int_equal(pthread_create(&a, NULL, io_thread, &r), 0);
    assert_int_equal(pthread_create(&b, NULL, io_thread, &r), 0);
    assert_int_equal(pthread_create(&c, NULL, served_thread, &r), 0);
    for (int i = 0; i < 2000; i++) {
        starve_cpu(r.st, 1, 0, 1, (fv_ns_t)i * 20 * MS);
        starve_cpu(r.st, 1, 1, 0, (fv_ns_t)i * 20 * MS + 15 * MS);
    }
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    atomic_store(&r.stop, 1);
    pthread_join(c, NULL);
    starve_finish(r.st, FV_SEC(100));
    assert_int_equal(starve_totals(r.st, 1, STARVE_CPU).events, 2000);
    assert_int_equal(starve_totals(r.st, 1, STARVE_CPU).starved_ns, 2000 * 15 * MS);
    int n;
    bool trunc;
    struct run_starve_event *l = take(r.st, &n, &trunc);
    uint64_t events = starve_events(r.st);
    assert_int_equal((uint64_t)n, events < STARVE_LIST_MAX ? events : STARVE_LIST_MAX);
    assert_int_equal(trunc, events > STARVE_LIST_MAX);
    free(l);
    starve_destroy(r.st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpu_threshold_and_exact_times),
        cmocka_unit_test(cpu_holders_ranked),
        cmocka_unit_test(cpu_holders_bounded),
        cmocka_unit_test(list_cap_and_truncated),
        cmocka_unit_test(long_episode_bounded_log),
        cmocka_unit_test(finish_closes_open_episodes),
        cmocka_unit_test(net_episode_and_holders),
        cmocka_unit_test(io_episode_edges),
        cmocka_unit_test(io_unwatched_and_finish),
        cmocka_unit_test(metrics_sums_by_resource),
        cmocka_unit_test(summary_json_fields),
        cmocka_unit_test(starvation_csv),
        cmocka_unit_test(threads_io_and_cpu),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
