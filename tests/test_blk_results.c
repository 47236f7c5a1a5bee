/* test_blk_results.c — the block columns of the timeline: per-interval
 * deltas from a blk source (metrics_set_blk_source), their text in
 * timeline.csv, and blk-latency.csv (the request-latency CDF the
 * blk-latency-cdf graph draws). The graphs themselves are in test_plot.c. */
#include "testutil.h"
#include "fake_core.h"
#include "hv/metrics.h"
#include "hv/results.h"
#include "hv/run.h"
#include "hv/scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results_fixtures.h"

/* ---- metrics: deltas from a scripted source ------------------------------------------- */

enum { NDOMS = 2, MAX_SAMPLES = 10 };

/* Cumulative counters per sample per domain: reads, writes, bytes, errors,
 * and flushes (which the timeline ignores). A domain whose counters are all
 * zero is not answered at all: the answer must come out zero anyway. */
struct script {
    uint64_t c[MAX_SAMPLES][NDOMS][5];
    int sample;
    int calls[NDOMS];
    bool dirty_seen;            /* an answer did not start zeroed */
};

static void scripted_source(void *ctx, int dom_index, struct dom_blk *out)
{
    struct script *sc = ctx;
    assert_true(dom_index >= 0 && dom_index < NDOMS);
    sc->calls[dom_index]++;
    if (out->present || out->reads || out->writes || out->flushes || out->bytes || out->errors
        || out->unsupported || out->disconnects || out->direct || out->disconnect_reason[0])
        sc->dirty_seen = true;
    const uint64_t *c = sc->c[sc->sample][dom_index];
    if (!c[0] && !c[1] && !c[2] && !c[3] && !c[4])
        return;
    /* What a host function would also fill: the timeline must ignore it. */
    out->present = true;
    out->unsupported = 9;
    out->disconnects = 1;
    snprintf(out->disconnect_reason, sizeof(out->disconnect_reason), "scripted");
    out->reads = c[0];
    out->writes = c[1];
    out->bytes = c[2];
    out->errors = c[3];
    out->flushes = c[4];
}

static void net_source(void *ctx, int dom_index, struct dom_net *out)
{
    (void)ctx;
    if (dom_index == 1)
        out->rx_bytes = 1000;
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

static void assert_blk(const struct timeline_row *r, uint64_t reads, uint64_t writes,
                       uint64_t bytes, uint64_t errors)
{
    assert_int_equal(r->blk_reads, reads);
    assert_int_equal(r->blk_writes, writes);
    assert_int_equal(r->blk_bytes, bytes);
    assert_int_equal(r->blk_errors, errors);
}

/* Sample 0 without a source: zeros. Then domain 0 reads
 *   s1 {4,2,24576,0}         -> the whole of it (counters start at 0)
 *   s2 {10,2,49152,1}        -> {6,0,24576,1}
 *   s3 flushes only          -> zeros (no reading): s2 stays the reference
 *   s4 {12,7,69632,1}        -> {2,5,20480,0} (against s2)
 *   s5 {1,0,4096,0}          -> restarted counters count from 0: {1,0,4096,0}
 *   s6 {1,0,4096,3}          -> errors alone are a reading: {0,0,0,3}
 * while domain 1 only writes, in s2 (and has network traffic throughout,
 * which stays in the net columns). */
static void test_metrics_blk_deltas(void **st)
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
            [1] = { { 4, 2, 24576, 0, 0 } },
            [2] = { { 10, 2, 49152, 1, 0 }, { 0, 3, 12288, 0, 1 } },
            [3] = { { 0, 0, 0, 0, 5 } },
            [4] = { { 12, 7, 69632, 1, 5 } },
            [5] = { { 1, 0, 4096, 0, 0 } },
            [6] = { { 1, 0, 4096, 3, 0 } },
        },
    };
    metrics_sample(&m, FV_MS(100));
    metrics_set_blk_source(&m, scripted_source, &sc);
    metrics_set_net_source(&m, net_source, NULL);
    for (sc.sample = 1; sc.sample <= 6; sc.sample++)
        metrics_sample(&m, FV_MS(100) * (sc.sample + 1));
    assert_int_equal(cap.n, 7);
    assert_false(sc.dirty_seen);
    assert_blk(&cap.rows[0][0], 0, 0, 0, 0);
    assert_blk(&cap.rows[1][0], 4, 2, 24576, 0);
    assert_blk(&cap.rows[2][0], 6, 0, 24576, 1);
    assert_blk(&cap.rows[3][0], 0, 0, 0, 0);
    assert_blk(&cap.rows[4][0], 2, 5, 20480, 0);
    assert_blk(&cap.rows[5][0], 1, 0, 4096, 0);
    assert_blk(&cap.rows[6][0], 0, 0, 0, 3);
    for (int i = 0; i < cap.n; i++) {
        assert_int_equal(cap.rows[i][1].t1, FV_MS(100) * (i + 1));
        if (i != 2)
            assert_blk(&cap.rows[i][1], 0, 0, 0, 0);
        /* The net source's counters are its own: 1000 once, then no change. */
        assert_int_equal(cap.rows[i][1].net_rx_bytes, i == 1 ? 1000 : 0);
        assert_int_equal(cap.rows[i][0].net_rx_bytes, 0);
    }
    assert_blk(&cap.rows[2][1], 0, 3, 12288, 0);
    /* Every domain is asked at every sample, once. */
    assert_int_equal(sc.calls[0], 6);
    assert_int_equal(sc.calls[1], 6);
    /* Without a source again: zeros, and the source is not called. */
    metrics_set_blk_source(&m, NULL, NULL);
    metrics_set_net_source(&m, NULL, NULL);
    sc.sample = 7;
    sc.c[7][0][0] = 100;
    metrics_sample(&m, FV_MS(800));
    assert_int_equal(cap.n, 8);
    assert_blk(&cap.rows[7][0], 0, 0, 0, 0);
    assert_int_equal(sc.calls[0], 6);
    metrics_fini(&m);
    free(res);
    fake_sched_free(&fc);
}

/* ---- timeline.csv ------------------------------------------------------------------------- */

static void test_timeline_blk_columns(void **st)
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
          .net_rx_bytes = 30000, .blk_reads = 12, .blk_writes = 4, .blk_bytes = 65536,
          .blk_errors = 1 },
        { .t0 = 0, .t1 = FV_MS(100), .dom_index = 1, .cpu_ns = 50000000, .cpu_share = 0.25,
          .entitled_share = 0.5, .runnable_ns = 200000000, .work_units = 1, .wakeups = 0,
          .blk_bytes = UINT64_MAX },
    };
    sink.rows(sink.ctx, rows, 2);
    assert_int_equal(results_finish(r, &rr), 0);
    results_close(r);
    char *p = path2(out, "timeline.csv");
    char *text = tu_read(p, NULL);
    assert_non_null(text);
    /* The older columns first, in their order: scripts index them. */
    assert_string_equal(text,
        "t_s,domain,cpu_ns,cpu_share,entitled_share,runnable_ns,work_units,wakeups,"
        "net_tx_pkts,net_rx_pkts,net_tx_bytes,net_rx_bytes,net_drops,"
        "blk_reads,blk_writes,blk_bytes,blk_errors\n"
        "0.100,web,100000000,0.500000,0.500000,100000000,7,3,0,0,0,30000,0,12,4,65536,1\n"
        "0.100,batch,50000000,0.250000,0.500000,200000000,1,0,0,0,0,0,0,"
        "0,0,18446744073709551615,0\n");
    free(text);
    free(p);
    /* results_finish writes blk-latency.csv too (no samples here). */
    p = path2(out, "blk-latency.csv");
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

/* ---- blk-latency.csv ---------------------------------------------------------------------- */

/* The shape of wakeup-latency.csv, from blk.latency: one point per
 * non-empty bucket (its upper edge, the maximum for the last), cumulative
 * fraction; only domains with samples; wake-up and app latencies do not
 * leak in. Values under 64 ns have a bucket each; 1000 ns lies in
 * [992, 1007]. */
static void test_blk_latency_csv(void **st)
{
    (void)st;
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 3);
    make_rr(&rr, &s);               /* web and batch have wake-up samples */
    hist_add(&rr.doms[0].app_latency, 777);
    hist_add(&rr.doms[0].blk.latency, 40);
    hist_add(&rr.doms[0].blk.latency, 40);
    hist_add(&rr.doms[0].blk.latency, 50);
    hist_add(&rr.doms[2].blk.latency, 1000);
    hist_add(&rr.doms[2].blk.latency, 100000);
    rr.doms[0].blk.present = rr.doms[1].blk.present = rr.doms[2].blk.present = true;
    char *dir = tu_tmpdir();
    assert_int_equal(results_write_blk_latency_csv(dir, &rr), 0);
    char *p = path2(dir, "blk-latency.csv");
    char *text = tu_read(p, NULL);
    assert_non_null(text);
    assert_string_equal(text, "domain,latency_ns,cdf\n"
                              "web,40,0.666667\n"
                              "web,50,1.000000\n"
                              "dom-2,1007,0.500000\n"
                              "dom-2,100000,1.000000\n");
    free(text);
    free(p);
    assert_int_equal(count_tmp(dir), 0);
    /* A directory that is not there: the error, and no file. */
    char *missing = path2(dir, "no/such");
    assert_int_equal(results_write_blk_latency_csv(missing, &rr), -ENOENT);
    free(missing);
    rm_rf(dir);
    free(dir);
    free_all(&s, &rr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_blk_deltas),
        cmocka_unit_test(test_timeline_blk_columns),
        cmocka_unit_test(test_blk_latency_csv),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
