/* test_net_results.c — the network columns of the timeline: per-interval
 * deltas from a net source (metrics_set_net_source), their text in
 * timeline.csv, and app-latency.csv (the round-trip CDF the net-rtt-cdf
 * graph draws). The graphs themselves are in test_plot.c. */
#include "testutil.h"
#include "fake_core.h"
#include "hv/metrics.h"
#include "hv/results.h"
#include "hv/run.h"
#include "hv/scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results_fixtures.h"

/* ---- metrics: deltas from a scripted source ------------------------------------------- */

enum { NDOMS = 2, MAX_SAMPLES = 8 };

/* Cumulative counters per sample per domain: tx_pkts, rx_pkts, tx_bytes,
 * rx_bytes, drops. */
struct script {
    uint64_t c[MAX_SAMPLES][NDOMS][5];
    int sample;                 /* which reading the source gives now */
    int calls[NDOMS];
};

static void scripted_source(void *ctx, int dom_index, struct dom_net *out)
{
    struct script *sc = ctx;
    assert_true(dom_index >= 0 && dom_index < NDOMS);
    const uint64_t *c = sc->c[sc->sample][dom_index];
    out->tx_pkts = c[0];
    out->rx_pkts = c[1];
    out->tx_bytes = c[2];
    out->rx_bytes = c[3];
    out->drops = c[4];
    sc->calls[dom_index]++;
}

struct captured {
    struct timeline_row rows[MAX_SAMPLES][NDOMS];
    int n;
};

static void capture(void *ctx, const struct timeline_row *r, int n)
{
    struct captured *cap = ctx;
    assert_int_equal(n, NDOMS);
    assert_true(cap->n < MAX_SAMPLES);
    memcpy(cap->rows[cap->n++], r, sizeof(*r) * (size_t)n);
}

static void assert_net(const struct timeline_row *r, uint64_t tx_pkts, uint64_t rx_pkts,
                       uint64_t tx_bytes, uint64_t rx_bytes, uint64_t drops)
{
    assert_int_equal(r->net_tx_pkts, tx_pkts);
    assert_int_equal(r->net_rx_pkts, rx_pkts);
    assert_int_equal(r->net_tx_bytes, tx_bytes);
    assert_int_equal(r->net_rx_bytes, rx_bytes);
    assert_int_equal(r->net_drops, drops);
}

/* Sample 0 without a source: zeros. Then, domain 0 reads
 *   s1 {10,20,1000,2000,1}       -> the whole of it (counters start at 0)
 *   s2 {15,20,1500,2000,3}       -> {5,0,500,0,2}
 *   s3 all zero (no reading)     -> zeros, s2 stays the reference
 *   s4 {25,30,2500,3000,3}       -> {10,10,1000,1000,0} (against s2)
 *   s5 {2,1,100,3001,4}          -> restarted counters count from 0:
 *                                   {2,1,100,1,1}
 * while domain 1 never has traffic. */
static void test_metrics_net_deltas(void **st)
{
    (void)st;
    struct fake_core fc;
    struct sched_global_params gp;
    sched_global_defaults(sched_find("credit"), &gp);
    struct scheduler *s = fake_sched_new(&fc, "credit", 1, &gp);
    fake_add_domain(&fc, "a", 1, NULL, NULL);
    fake_add_domain(&fc, "b", 1, NULL, NULL);
    struct dom_result *res = calloc(NDOMS, sizeof(*res));
    assert_non_null(res);
    struct captured cap = { .n = 0 };
    struct metrics m;
    struct timeline_sink sink = { .rows = capture, .ctx = &cap };
    assert_int_equal(metrics_init(&m, s, res, FV_MS(100), sink, 0), 0);
    static struct script sc = {
        .c = {
            [1] = { { 10, 20, 1000, 2000, 1 } },
            [2] = { { 15, 20, 1500, 2000, 3 } },
            [4] = { { 25, 30, 2500, 3000, 3 } },
            [5] = { { 2, 1, 100, 3001, 4 } },
        },
    };
    metrics_sample(&m, FV_MS(100));
    metrics_set_net_source(&m, scripted_source, &sc);
    for (sc.sample = 1; sc.sample <= 5; sc.sample++)
        metrics_sample(&m, FV_MS(100) * (sc.sample + 1));
    assert_int_equal(cap.n, 6);
    for (int i = 0; i < cap.n; i++) {
        assert_int_equal(cap.rows[i][1].t1, FV_MS(100) * (i + 1));
        assert_net(&cap.rows[i][1], 0, 0, 0, 0, 0);
    }
    assert_net(&cap.rows[0][0], 0, 0, 0, 0, 0);
    assert_net(&cap.rows[1][0], 10, 20, 1000, 2000, 1);
    assert_net(&cap.rows[2][0], 5, 0, 500, 0, 2);
    assert_net(&cap.rows[3][0], 0, 0, 0, 0, 0);
    assert_net(&cap.rows[4][0], 10, 10, 1000, 1000, 0);
    assert_net(&cap.rows[5][0], 2, 1, 100, 1, 1);
    /* Every domain is asked at every sample, once. */
    assert_int_equal(sc.calls[0], 5);
    assert_int_equal(sc.calls[1], 5);
    /* Without a source again: zeros, and the source is not called. */
    metrics_set_net_source(&m, NULL, NULL);
    metrics_sample(&m, FV_MS(700));
    assert_net(&cap.rows[6][0], 0, 0, 0, 0, 0);
    assert_int_equal(sc.calls[0], 5);
    metrics_fini(&m);
    free(res);
    fake_sched_free(&fc);
}

/* ---- timeline.csv ------------------------------------------------------------------------- */

static void test_timeline_net_columns(void **st)
{
    (void)st;
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 2);
    make_rr(&rr, &s);
    run_result_finish(&rr);
    char *tmp = tu_tmpdir();
    char *out = path2(tmp, "run");
    char err[512] = "";
    struct results *r = results_open(&s, out, NULL, err, sizeof(err));
    if (!r)
        fail_msg("results_open: %s", err);
    struct timeline_sink sink = results_timeline_sink(r);
    struct timeline_row rows[2] = {
        { .t0 = 0, .t1 = FV_MS(100), .dom_index = 0, .cpu_ns = 100000000, .cpu_share = 0.5,
          .entitled_share = 0.5, .runnable_ns = 100000000, .work_units = 7, .wakeups = 3,
          .net_tx_pkts = 10, .net_rx_pkts = 20, .net_tx_bytes = 1500, .net_rx_bytes = 30000,
          .net_drops = 2 },
        { .t0 = 0, .t1 = FV_MS(100), .dom_index = 1, .cpu_ns = 50000000, .cpu_share = 0.25,
          .entitled_share = 0.5, .runnable_ns = 200000000, .work_units = 1, .wakeups = 0,
          .net_tx_bytes = UINT64_MAX },
    };
    sink.rows(sink.ctx, rows, 2);
    assert_int_equal(results_finish(r, &rr), 0);
    results_close(r);
    char *p = path2(out, "timeline.csv");
    char *text = tu_read(p, NULL);
    assert_non_null(text);
    /* The old columns first, in their old order: scripts index them. */
    assert_string_equal(text,
        "t_s,domain,cpu_ns,cpu_share,entitled_share,runnable_ns,work_units,wakeups,"
        "net_tx_pkts,net_rx_pkts,net_tx_bytes,net_rx_bytes,net_drops,"
        "blk_reads,blk_writes,blk_bytes,blk_errors\n"
        "0.100,web,100000000,0.500000,0.500000,100000000,7,3,10,20,1500,30000,2,0,0,0,0\n"
        "0.100,batch,50000000,0.250000,0.500000,200000000,1,0,0,0,18446744073709551615,0,0,"
        "0,0,0,0\n");
    free(text);
    free(p);
    /* results_finish writes app-latency.csv too (no samples here). */
    p = path2(out, "app-latency.csv");
    text = tu_read(p, NULL);
    assert_non_null(text);
    assert_string_equal(text, "domain,latency_ns,cdf\n");
    free(text);
    free(p);
    assert_int_equal(count_tmp(out), 0);
    rm_rf(tmp);
    free(out);
    free(tmp);
    free_all(&s, &rr);
}

/* ---- app-latency.csv ---------------------------------------------------------------------- */

/* The shape of wakeup-latency.csv, from app_latency: one point per
 * non-empty bucket (its upper edge, the maximum for the last), cumulative
 * fraction; only domains with samples; wake-ups do not leak in. */
static void test_app_latency_csv(void **st)
{
    (void)st;
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 3);
    make_rr(&rr, &s);               /* web and batch have wake-up samples */
    hist_add(&rr.doms[1].app_latency, 2047);
    for (int k = 0; k < 3; k++)
        hist_add(&rr.doms[1].app_latency, 5000000);
    hist_add(&rr.doms[2].app_latency, 10);
    char *dir = tu_tmpdir();
    assert_int_equal(results_write_app_latency_csv(dir, &rr), 0);
    char *p = path2(dir, "app-latency.csv");
    char *text = tu_read(p, NULL);
    assert_non_null(text);
    assert_string_equal(text, "domain,latency_ns,cdf\n"
                              "batch,2047,0.250000\n"
                              "batch,5000000,1.000000\n"
                              "dom-2,10,1.000000\n");
    free(text);
    free(p);
    assert_int_equal(count_tmp(dir), 0);
    rm_rf(dir);
    free(dir);
    free_all(&s, &rr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_net_deltas),
        cmocka_unit_test(test_timeline_net_columns),
        cmocka_unit_test(test_app_latency_csv),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
