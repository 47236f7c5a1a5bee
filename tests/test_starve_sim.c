/* test_starve_sim.c — the starvation detector on the virtual-time engine:
 * CPU starvation behind hogs, network and disk starvation when Domain-0
 * cannot run, and none without contention. Every event is checked against
 * the timeline (1 ms samples): in each sample interval inside an episode
 * the victim got nothing of that resource, and every domain that got some
 * there is among the holders; and against the per-domain totals. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "hv/engine.h"
#include "hv/run.h"
#include "scn_build.h"

/* ---- capturing the timeline ------------------------------------------------------------ */

struct rows {
    struct timeline_row *r;
    int n, cap;
};

static void cap_rows(void *ctx, const struct timeline_row *r, int n)
{
    struct rows *c = ctx;
    if (c->n + n > c->cap) {
        c->cap = (c->n + n) * 2;
        c->r = realloc(c->r, (size_t)c->cap * sizeof(*c->r));
        assert_non_null(c->r);
    }
    memcpy(c->r + c->n, r, (size_t)n * sizeof(*r));
    c->n += n;
}

static void run(const struct scenario *s, struct run_result *r, struct rows *rows)
{
    memset(rows, 0, sizeof(*rows));
    struct engine_opts o = { .sink = { .rows = cap_rows, .ctx = rows } };
    tu_sim_ok(s, r, &o);
    assert_true(r->complete);
}

static int dom_index(const struct run_result *r, const char *name)
{
    for (int i = 0; i < r->nr_doms; i++)
        if (!strcmp(r->doms[i].name, name))
            return i;
    fail_msg("no domain %s", name);
    return -1;
}

/* What domain row->dom_index got of resource res in its interval. */
static uint64_t got(const struct timeline_row *row, int res)
{
    switch (res) {
    case RUN_STARVE_CPU:
        return (uint64_t)row->cpu_ns;
    case RUN_STARVE_NET:
        return row->net_tx_pkts + row->net_rx_pkts;
    default:
        return row->blk_reads + row->blk_writes + row->blk_errors;
    }
}

static bool is_holder(const struct run_starve_event *e, int d)
{
    for (int i = 0; i < e->nr_holders; i++)
        if (e->holders[i] == d)
            return true;
    return false;
}

/* Each event against the timeline (see the top). Intervals that touch an
 * end of the episode are left out: what happened at that very instant may
 * be counted in either row. */
static void check_timeline(const struct run_result *r, const struct rows *rows)
{
    for (int k = 0; k < r->nr_starve_list; k++) {
        const struct run_starve_event *e = &r->starve_list[k];
        fv_ns_t s = e->start_ns, end = e->start_ns + e->duration_ns;
        for (int i = 0; i < rows->n; i++) {
            const struct timeline_row *row = &rows->r[i];
            if (row->t0 <= s || row->t1 >= end)
                continue;
            if (row->dom_index == e->dom) {
                assert_int_equal(got(row, e->resource), 0);
                if (e->resource == RUN_STARVE_CPU)     /* one vCPU: runnable throughout */
                    assert_int_equal(row->runnable_ns, row->t1 - row->t0);
            } else if (got(row, e->resource) && e->holders_total <= RUN_STARVE_HOLDERS) {
                if (!is_holder(e, row->dom_index))
                    fail_msg("event %d (%s on %s at %lld ns): %s got some in [%lld, %lld) "
                             "but is not a holder", k, r->doms[e->dom].name,
                             run_starve_names[e->resource], (long long)s,
                             r->doms[row->dom_index].name, (long long)row->t0,
                             (long long)row->t1);
            }
        }
    }
}

/* The list against the totals: every event listed (none truncated here),
 * each longer than the threshold and inside the run, its holders distinct
 * and not the victim; per domain and resource the list's count and length
 * are starve_by's, and starvation_events / starved_ns their sums. */
static void check_totals(const struct run_result *r, const struct scenario *scn)
{
    assert_false(r->starve_list_truncated);
    uint64_t all = 0;
    for (int d = 0; d < r->nr_doms; d++) {
        const struct dom_result *dr = &r->doms[d];
        uint64_t ev = 0;
        fv_ns_t ns = 0;
        for (int res = 0; res < RUN_STARVE_RESOURCES; res++) {
            uint64_t n = 0;
            fv_ns_t len = 0;
            for (int k = 0; k < r->nr_starve_list; k++) {
                const struct run_starve_event *e = &r->starve_list[k];
                if (e->dom != d || e->resource != res)
                    continue;
                n++;
                len += e->duration_ns;
            }
            assert_int_equal(n, dr->starve_by[res].events);
            assert_int_equal(len, dr->starve_by[res].starved_ns);
            ev += n;
            ns += len;
        }
        assert_int_equal(ev, dr->starvation_events);
        assert_int_equal(ns, dr->starved_ns);
        all += ev;
    }
    assert_int_equal(all, r->starvation_events);
    assert_int_equal((uint64_t)r->nr_starve_list, all);
    for (int k = 0; k < r->nr_starve_list; k++) {
        const struct run_starve_event *e = &r->starve_list[k];
        assert_true(e->duration_ns > scn->starvation_threshold);
        assert_true(e->start_ns >= 0 && e->start_ns + e->duration_ns <= r->duration_ns);
        if (k)
            assert_true(e->start_ns >= r->starve_list[k - 1].start_ns);
        assert_true(e->nr_holders <= e->holders_total && e->nr_holders <= RUN_STARVE_HOLDERS);
        for (int i = 0; i < e->nr_holders; i++) {
            assert_true(e->holders[i] != e->dom);
            for (int j = 0; j < i; j++)
                assert_true(e->holders[i] != e->holders[j]);
        }
    }
}

/* The events of domain d on resource res, and the union of their holders
 * (a bit per domain index). */
static int events_of(const struct run_result *r, int d, int res, uint64_t *holders)
{
    int n = 0;
    *holders = 0;
    for (int k = 0; k < r->nr_starve_list; k++) {
        const struct run_starve_event *e = &r->starve_list[k];
        if (e->dom != d || e->resource != res)
            continue;
        n++;
        for (int i = 0; i < e->nr_holders; i++)
            *holders |= 1ull << e->holders[i];
    }
    return n;
}

static void finish(struct run_result *r, struct rows *rows, struct scenario *s)
{
    free(rows->r);
    run_result_free(r);
    scn_build_free(s);
}

/* ---- (a) CPU -------------------------------------------------------------------------- */

/* Under null a second domain on a single pCPU never runs: one event, the
 * whole run, the owner its only holder; the owner has none. */
static void cpu_never_runs_exact(void **state)
{
    (void)state;
    struct scenario *s = scn_build("null", 1, FV_SEC(2));
    scn_build_dom(s, "owner", "cpu-hog");
    scn_build_dom(s, "starved", "cpu-hog");
    struct run_result r;
    struct rows rows;
    run(s, &r, &rows);
    check_totals(&r, s);
    check_timeline(&r, &rows);
    assert_int_equal(r.nr_starve_list, 1);
    const struct run_starve_event *e = &r.starve_list[0];
    assert_int_equal(e->dom, 1);
    assert_int_equal(e->resource, RUN_STARVE_CPU);
    assert_int_equal(e->start_ns, 0);
    assert_int_equal(e->duration_ns, FV_SEC(2));
    assert_int_equal(e->holders_total, 1);
    assert_int_equal(e->nr_holders, 1);
    assert_int_equal(e->holders[0], 0);
    assert_int_equal(r.doms[1].starve_by[RUN_STARVE_CPU].starved_ns, FV_SEC(2));
    finish(&r, &rows, s);
}

/* A periodic task wanting 40% of a pCPU next to two hogs under credit:
 * once over its share it gets no BOOST and waits behind the hogs' 30 ms
 * slices. Its episodes over 5 ms are events whose holders are the hogs,
 * both of them across the run, and no one else; the hogs, each running
 * most of the time, wait behind each other. */
static void cpu_behind_hogs(void **state)
{
    (void)state;
    struct scenario *s = scn_build("credit", 1, FV_SEC(1));
    s->sample = FV_MS(1);
    s->starvation_threshold = FV_MS(5);
    struct scn_domain *p = scn_build_dom(s, "periodic", "cpu-periodic");
    scn_build_set(p, "period", FV_MS(10));
    scn_build_set(p, "burst", FV_MS(4));
    scn_build_dom(s, "hog1", "cpu-hog");
    scn_build_dom(s, "hog2", "cpu-hog");
    struct run_result r;
    struct rows rows;
    run(s, &r, &rows);
    check_totals(&r, s);
    check_timeline(&r, &rows);
    int per = dom_index(&r, "periodic"), h1 = dom_index(&r, "hog1"), h2 = dom_index(&r, "hog2");
    uint64_t holders;
    int n = events_of(&r, per, RUN_STARVE_CPU, &holders);
    assert_true(n > 0);
    assert_int_equal(holders, (1ull << h1) | (1ull << h2));
    for (int k = 0; k < r.nr_starve_list; k++)
        if (r.starve_list[k].dom == per)
            assert_true(r.starve_list[k].holders_total >= 1);
    /* No I/O here: every event is a CPU one. */
    for (int d = 0; d < r.nr_doms; d++)
        assert_int_equal(r.doms[d].starve_by[RUN_STARVE_NET].events +
                         r.doms[d].starve_by[RUN_STARVE_BLK].events, 0);
    finish(&r, &rows, s);
}

/* ---- (b) network ------------------------------------------------------------------------- */

/* A net-echo client, a flood into a sink, two hogs on one pCPU, and a
 * Domain-0 capped at 1% of it: past its cap, Domain-0 waits behind the
 * hogs, and so do the client's requests on its TX ring. They are net
 * events (the client's frames do not move while they last), and the
 * holders are the domains whose frames netback moved meanwhile — at the
 * latest in the pass that serves the client — among them the flood. */
static void net_when_dom0_cannot_run(void **state)
{
    (void)state;
    struct scenario *s = scn_build("credit", 1, FV_SEC(1));
    s->sample = FV_MS(1);
    s->starvation_threshold = FV_MS(10);
    struct scn_domain *c = scn_build_dom(s, "client", "net-echo");
    scn_build_set(c, "role", 0);
    scn_build_set(c, "peer", 2);
    scn_build_set(c, "rate", 1000);
    scn_build_vif(s, c);
    struct scn_domain *sv = scn_build_dom(s, "server", "net-echo");
    scn_build_set(sv, "role", 1);
    scn_build_vif(s, sv);
    struct scn_domain *f = scn_build_dom(s, "flood", "net-flood");
    scn_build_set(f, "peer", 4);
    scn_build_set(f, "rate", 20000);
    scn_build_vif(s, f);
    scn_build_vif(s, scn_build_dom(s, "sink", "net-sink"));
    scn_build_dom(s, "hog1", "cpu-hog");
    scn_build_dom(s, "hog2", "cpu-hog");
    scn_build_dom0(s, SCN_NB_RING)->sp.cap = 1;
    struct run_result r;
    struct rows rows;
    run(s, &r, &rows);
    check_totals(&r, s);
    check_timeline(&r, &rows);
    int cl = dom_index(&r, "client"), fl = dom_index(&r, "flood");
    uint64_t holders;
    int n = events_of(&r, cl, RUN_STARVE_NET, &holders);
    assert_true(n > 0);
    assert_true(holders & (1ull << fl));
    /* Only domains with vifs are ever served by netback. */
    uint64_t vifs = (1ull << cl) | (1ull << dom_index(&r, "server")) | (1ull << fl) |
                    (1ull << dom_index(&r, "sink"));
    assert_int_equal(holders & ~vifs, 0);
    /* Some of them passed without Domain-0 running at all (no backend
     * pass to look): inside one of its CPU events. */
    int d0 = dom_index(&r, "Domain-0");
    bool unseen_by_dom0 = false;
    for (int k = 0; k < r.nr_starve_list; k++)
        for (int j = 0; j < r.nr_starve_list; j++) {
            const struct run_starve_event *e = &r.starve_list[k], *z = &r.starve_list[j];
            if (e->dom == cl && e->resource == RUN_STARVE_NET && z->dom == d0 &&
                z->resource == RUN_STARVE_CPU && z->start_ns <= e->start_ns &&
                e->start_ns + e->duration_ns <= z->start_ns + z->duration_ns)
                unseen_by_dom0 = true;
        }
    assert_true(unseen_by_dom0);
    /* Domain-0 itself waited behind the hogs: CPU events naming them. */
    assert_true(events_of(&r, d0, RUN_STARVE_CPU, &holders) > 0);
    assert_true(holders & ((1ull << dom_index(&r, "hog1")) | (1ull << dom_index(&r, "hog2"))));
    assert_int_equal(r.doms[cl].starve_by[RUN_STARVE_BLK].events, 0);
    finish(&r, &rows, s);
}

/* ---- (c) disk ------------------------------------------------------------------------------- */

/* blk-latency next to two blk-floods and two hogs, Domain-0 of weight 1:
 * the victim's one request waits, taken or not, while Domain-0 cannot run;
 * blk events whose holders are the floods blkback answered meanwhile. */
static void blk_when_dom0_cannot_run(void **state)
{
    (void)state;
    struct scenario *s = scn_build("credit", 1, FV_SEC(1));
    s->sample = FV_MS(1);
    s->starvation_threshold = FV_MS(10);
    scn_build_vbd(s, scn_build_dom(s, "victim", "blk-latency"), 64ULL << 20, NULL);
    scn_build_vbd(s, scn_build_dom(s, "flood1", "blk-flood"), 64ULL << 20, NULL);
    scn_build_vbd(s, scn_build_dom(s, "flood2", "blk-flood"), 64ULL << 20, NULL);
    scn_build_dom(s, "hog1", "cpu-hog");
    scn_build_dom(s, "hog2", "cpu-hog");
    scn_build_dom0(s, SCN_NB_NONE)->sp.weight = 1;
    struct run_result r;
    struct rows rows;
    run(s, &r, &rows);
    check_totals(&r, s);
    check_timeline(&r, &rows);
    int v = dom_index(&r, "victim"), f1 = dom_index(&r, "flood1"), f2 = dom_index(&r, "flood2");
    uint64_t holders;
    int n = events_of(&r, v, RUN_STARVE_BLK, &holders);
    assert_true(n > 0);
    assert_true(holders & ((1ull << f1) | (1ull << f2)));
    assert_int_equal(holders & ~((1ull << f1) | (1ull << f2)), 0);
    assert_int_equal(r.doms[v].starve_by[RUN_STARVE_NET].events, 0);
    finish(&r, &rows, s);
}

/* ---- (d) no contention ---------------------------------------------------------------------- */

/* Echo, a disk and a periodic task on 4 pCPUs with nothing else: no event
 * on any resource, an empty list. */
static void no_contention_no_events(void **state)
{
    (void)state;
    struct scenario *s = scn_build("credit", 4, FV_SEC(1));
    s->sample = FV_MS(1);
    s->starvation_threshold = FV_MS(10);
    struct scn_domain *c = scn_build_dom(s, "client", "net-echo");
    scn_build_set(c, "role", 0);
    scn_build_set(c, "peer", 2);
    scn_build_vif(s, c);
    struct scn_domain *sv = scn_build_dom(s, "server", "net-echo");
    scn_build_set(sv, "role", 1);
    scn_build_vif(s, sv);
    scn_build_vbd(s, scn_build_dom(s, "disk", "blk-latency"), 64ULL << 20, NULL);
    scn_build_dom(s, "periodic", "cpu-periodic");
    scn_build_dom0(s, SCN_NB_RING);
    struct run_result r;
    struct rows rows;
    run(s, &r, &rows);
    check_totals(&r, s);
    assert_int_equal(r.starvation_events, 0);
    assert_int_equal(r.nr_starve_list, 0);
    for (int d = 0; d < r.nr_doms; d++)
        for (int res = 0; res < RUN_STARVE_RESOURCES; res++) {
            assert_int_equal(r.doms[d].starve_by[res].events, 0);
            assert_int_equal(r.doms[d].starve_by[res].starved_ns, 0);
        }
    /* It did work: the detector had something to look at. */
    assert_true(r.doms[dom_index(&r, "client")].work_units > 900);
    assert_true(r.doms[dom_index(&r, "disk")].blk.reads > 1000);
    finish(&r, &rows, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpu_never_runs_exact),
        cmocka_unit_test(cpu_behind_hogs),
        cmocka_unit_test(net_when_dom0_cannot_run),
        cmocka_unit_test(blk_when_dom0_cannot_run),
        cmocka_unit_test(no_contention_no_events),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
