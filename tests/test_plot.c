/* test_plot.c — the graphs of a results directory (gnuplot is required:
 * tools/deps installs it) with domains drawn one by one, and the CSV reader
 * (results_read_domains, results_rank_domains). Groups of replicas, the
 * share graph and the starvation marks: test_plot_groups.c,
 * test_plot_marks.c. */
#include "testutil.h"
#include "hv/results.h"
#include "hv/run.h"
#include "hv/scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results_fixtures.h"

/* ---- the graphs ----------------------------------------------------------------------------- */


/* A results directory made without results_open (independent of the
 * scenario writer): timeline rows for n domains over 10 intervals. */
static char *fake_run_dir(struct run_result *rr, int n, bool empty)
{
    char *dir = run_dir();
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    fputs("t_s,domain,cpu_ns,cpu_share,entitled_share,runnable_ns,work_units,wakeups\n", f);
    for (int t = 1; !empty && t <= 10; t++)
        for (int i = 0; i < n; i++)
            fprintf(f, "%d.%d00,%s,0,%.4f,0.5,0,0,0\n", t / 10, t % 10, rr->doms[i].name,
                    (i + 1) * 0.6 / n + (t % 3) * 0.01);
    fclose(f);
    free(tu_write(dir, "timeline.csv", buf));
    free(buf);
    if (empty)
        for (int i = 0; i < rr->nr_doms; i++)
            hist_init(&rr->doms[i].wakeup);
    assert_int_equal(results_write_summary(dir, rr), 0);
    assert_int_equal(results_write_wakeup_csv(dir, rr), 0);
    return dir;
}

static void assert_image(const char *dir, const char *name, const char *magic, bool strstr_ok)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/plots/%s", dir, name) > 0);
    size_t len = 0;
    char *data = tu_read(p, &len);
    if (!data)
        fail_msg("%s missing", p);
    assert_true(len > 100);
    if (strstr_ok)
        assert_non_null(strstr(data, magic));
    else
        assert_memory_equal(data, magic, strlen(magic));
    free(data);
    free(p);
}

static void plot_and_check(struct run_result *rr, int n, bool empty, const char *title_part)
{
    char *dir = fake_run_dir(rr, n, empty);
    assert_int_equal(results_plot(dir, stderr, NULL, 0), 0);
    assert_image(dir, "cpu-share.png", "\x89PNG", false);
    assert_image(dir, "cpu-share.svg", "<svg", true);
    assert_image(dir, "wakeup-latency-cdf.png", "\x89PNG", false);
    assert_image(dir, "wakeup-latency-cdf.svg", "<svg", true);
    /* A timeline from before the net and blk columns: no I/O graphs. */
    assert_false(exists(dir, "plots/net-throughput.svg"));
    assert_false(exists(dir, "plots/net-rtt-cdf.svg"));
    assert_false(exists(dir, "plots/net-throughput.csv"));
    assert_false(exists(dir, "plots/blk-iops.svg"));
    assert_false(exists(dir, "plots/blk-latency-cdf.svg"));
    assert_false(exists(dir, "plots/blk-iops.csv"));
    if (title_part) {
        char *p = path2(dir, "plots/cpu-share.svg");
        char *svg = tu_read(p, NULL);
        assert_non_null(strstr(svg, title_part));
        free(svg);
        free(p);
    }
    assert_int_equal(count_tmp(dir), 0);
    if (getenv("FV_KEEP_PLOTS"))
        print_message("plots kept in %s\n", dir);
    else
        rm_rf(dir);
    free(dir);
}


static void test_plot(void **st)
{
    (void)st;
    REQUIRE_GNUPLOT();
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 3);
    make_rr(&rr, &s);
    plot_and_check(&rr, 3, false, "CPU share over time: unit (credit, sim)");
    free_all(&s, &rr);
}

static void test_plot_empty(void **st)
{
    (void)st;
    REQUIRE_GNUPLOT();
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 2);
    make_rr(&rr, &s);
    plot_and_check(&rr, 2, true, "no samples");
    free_all(&s, &rr);
}

static void test_plot_many_domains(void **st)
{
    (void)st;
    REQUIRE_GNUPLOT();
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 15);
    make_rr(&rr, &s);
    plot_and_check(&rr, 15, false, "the 12 of 15 domains with the largest total share");
    free_all(&s, &rr);
}

static void test_plot_without_gnuplot(void **st)
{
    (void)st;
    char *dir = tu_tmpdir();
    char *path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", dir, 1);                 /* an empty directory: no gnuplot */
    char *msg = NULL;
    size_t len;
    FILE *log = open_memstream(&msg, &len);
    int rc = results_plot(dir, log, NULL, 0);
    fclose(log);
    if (path)
        setenv("PATH", path, 1);
    else
        unsetenv("PATH");
    assert_int_equal(rc, 1);
    assert_string_equal(msg, "graphs skipped: gnuplot not found (tools/deps installs gnuplot-nox)\n");
    free(msg);
    free(path);
    rm_rf(dir);
    free(dir);
}

/* ---- the network graphs ----------------------------------------------------------------- */

static char *svg_text(const char *dir, const char *name)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/plots/%s", dir, name) > 0);
    char *svg = tu_read(p, NULL);
    if (!svg)
        fail_msg("%s missing", p);
    free(p);
    return svg;
}

/* A run whose timeline has the net columns, over intervals ending at
 * 0.100, 0.200 and 0.250 s (the last one 50 ms). web (0) receives 125,000
 * and sends 62,500 bytes every interval; batch (1) only drops; dom-N (N >=
 * 2) receives 12,500 x (N - 1) bytes in the second interval. With
 * drops_only, nobody sends or receives. app-latency.csv: web and dom-2
 * (which had traffic) and batch (which had none). */
static char *net_run_dir(struct run_result *rr, bool drops_only)
{
    char *dir = run_dir();
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    fputs("t_s,domain,cpu_ns,cpu_share,entitled_share,runnable_ns,work_units,wakeups,"
          "net_tx_pkts,net_rx_pkts,net_tx_bytes,net_rx_bytes,net_drops\n", f);
    static const char *const t[] = { "0.100", "0.200", "0.250" };
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < rr->nr_doms; i++) {
            long tx = 0, rx = 0;
            if (!drops_only && i == 0)
                tx = 62500, rx = 125000;
            else if (!drops_only && i >= 2 && k == 1)
                rx = 12500L * (i - 1);
            fprintf(f, "%s,%s,0,0.1,0.1,0,0,0,%ld,%ld,%ld,%ld,%d\n", t[k], rr->doms[i].name,
                    tx ? 50L : 0L, rx ? 100L : 0L, tx, rx, i == 1 ? 5 : 0);
        }
    fclose(f);
    free(tu_write(dir, "timeline.csv", buf));
    free(buf);
    hist_add(&rr->doms[0].app_latency, 2047);
    hist_add(&rr->doms[0].app_latency, 5000000);
    hist_add(&rr->doms[1].app_latency, 1000);
    if (rr->nr_doms > 2)
        hist_add(&rr->doms[2].app_latency, 300000);
    assert_int_equal(results_write_summary(dir, rr), 0);
    assert_int_equal(results_write_wakeup_csv(dir, rr), 0);
    assert_int_equal(results_write_app_latency_csv(dir, rr), 0);
    return dir;
}

/* results_plot succeeds and draws `graphs` (NULL-terminated) in both
 * formats, and no graph in `absent`. */
static void plot_dir(const char *dir, const char *const *graphs, const char *const *absent)
{
    char why[2048] = "";
    int rc = results_plot(dir, stderr, why, sizeof(why));
    if (rc != 0)
        fail_msg("results_plot: %d: %s", rc, why);
    for (size_t i = 0; graphs[i]; i++) {
        char png[64], svg[64];
        snprintf(png, sizeof(png), "%s.png", graphs[i]);
        snprintf(svg, sizeof(svg), "%s.svg", graphs[i]);
        assert_image(dir, png, "\x89PNG", false);
        assert_image(dir, svg, "<svg", true);
    }
    for (size_t i = 0; absent && absent[i]; i++) {
        char p[64];
        snprintf(p, sizeof(p), "plots/%s.svg", absent[i]);
        if (exists(dir, p))
            fail_msg("%s drawn", p);
        snprintf(p, sizeof(p), "plots/%s.png", absent[i]);
        assert_false(exists(dir, p));
    }
    assert_int_equal(count_tmp(dir), 0);
}

static const char *const blk_graphs[] = { "blk-iops", "blk-latency-cdf", NULL };

/* A timeline of last week's shape (net columns, no blk ones): the network
 * graphs, no block graphs. */
static void plot_net_dir(const char *dir)
{
    static const char *const graphs[] = { "cpu-share", "wakeup-latency-cdf", "net-throughput",
                                          "net-rtt-cdf", NULL };
    plot_dir(dir, graphs, blk_graphs);
    assert_false(exists(dir, "plots/blk-iops.csv"));
}

/* Mbit/s over each row's own interval (the last one is half as long), for
 * the domains that sent or received bytes (not batch, which only dropped);
 * the RTT CDF for those of them with samples. */
static void test_plot_net(void **st)
{
    (void)st;
    REQUIRE_GNUPLOT();
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 3);
    make_rr(&rr, &s);
    char *dir = net_run_dir(&rr, false);
    plot_net_dir(dir);
    char *p = path2(dir, "plots/net-throughput.csv");
    char *text = tu_read(p, NULL);
    assert_non_null(text);
    /* A column per domain and metric (neither is a group of replicas). */
    assert_string_equal(text, "t_s,web.rx_mbit_s,web.tx_mbit_s,dom-2.rx_mbit_s,dom-2.tx_mbit_s\n"
                              "0.100,10.000000,5.000000,0.000000,0.000000\n"
                              "0.200,10.000000,5.000000,1.000000,0.000000\n"
                              "0.250,20.000000,10.000000,0.000000,0.000000\n");
    free(text);
    free(p);
    char *svg = svg_text(dir, "net-throughput.svg");
    assert_non_null(strstr(svg, "Network throughput (Mbit/s; solid rx, dashed tx): unit (credit, sim)"));
    assert_non_null(strstr(svg, "web rx"));
    assert_non_null(strstr(svg, "dom-2 tx"));
    assert_null(strstr(svg, "batch"));
    free(svg);
    svg = svg_text(dir, "net-rtt-cdf.svg");
    assert_non_null(strstr(svg, "Round-trip latency CDF: unit (credit, sim)"));
    assert_non_null(strstr(svg, ">web<"));
    assert_non_null(strstr(svg, ">dom-2<"));
    assert_null(strstr(svg, "batch"));
    free(svg);
    tu_rmtree(dir);
    free(dir);
    free_all(&s, &rr);
}

/* 14 domains with traffic: the 12 with the most bytes are drawn (web,
 * then dom-14 down to dom-4), and the titles say so. */
static void test_plot_net_many_domains(void **st)
{
    (void)st;
    REQUIRE_GNUPLOT();
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 15);
    make_rr(&rr, &s);
    char *dir = net_run_dir(&rr, false);
    plot_net_dir(dir);
    char *p = path2(dir, "plots/net-throughput.csv");
    char *text = tu_read(p, NULL);
    assert_non_null(text);
    /* In the order of their bytes: web, dom-14 (13 x 12,500 B) .. dom-4. */
    char want[1024] = "t_s,web.rx_mbit_s,web.tx_mbit_s", row[512] = "0.200,10.000000,5.000000";
    for (int i = 14; i >= 4; i--) {
        snprintf(want + strlen(want), sizeof(want) - strlen(want),
                 ",dom-%d.rx_mbit_s,dom-%d.tx_mbit_s", i, i);
        snprintf(row + strlen(row), sizeof(row) - strlen(row), ",%d.000000,0.000000", i - 1);
    }
    assert_memory_equal(text, want, strlen(want));
    assert_int_equal(text[strlen(want)], '\n');
    assert_non_null(strstr(text, row));
    assert_null(strstr(text, "dom-3."));
    assert_null(strstr(text, "dom-2."));
    free(text);
    free(p);
    char *svg = svg_text(dir, "net-throughput.svg");
    assert_non_null(strstr(svg, "(the 12 of 14 domains with the most traffic)"));
    free(svg);
    tu_rmtree(dir);
    free(dir);
    free_all(&s, &rr);
}

/* Drops but no bytes: there was network activity, so the graphs are
 * drawn, empty, saying why. */
static void test_plot_net_drops_only(void **st)
{
    (void)st;
    REQUIRE_GNUPLOT();
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 2);
    make_rr(&rr, &s);
    char *dir = net_run_dir(&rr, true);
    plot_net_dir(dir);
    char *svg = svg_text(dir, "net-throughput.svg");
    assert_non_null(strstr(svg, "- no traffic"));
    free(svg);
    svg = svg_text(dir, "net-rtt-cdf.svg");
    assert_non_null(strstr(svg, "- no samples"));
    assert_null(strstr(svg, "batch"));
    free(svg);
    tu_rmtree(dir);
    free(dir);
    free_all(&s, &rr);
}

/* ---- the block graphs ------------------------------------------------------------------ */

enum blk_mode { BLK_ONLY, BLK_ERRORS_ONLY, BLK_WITH_NET };

/* A run whose timeline has the net and blk columns, over intervals ending
 * at 0.100, 0.200 and 0.250 s (the last one 50 ms). web (0) reads 100 and
 * writes 50 requests every interval; batch (1) only has errors; dom-N
 * (N >= 2) writes 10 x (N - 1) requests in the second interval. With
 * BLK_ERRORS_ONLY nobody reads or writes; with BLK_WITH_NET web also
 * receives 125,000 bytes every interval. blk-latency.csv: web, batch (its
 * failed requests) and dom-2. */
static char *blk_run_dir(struct run_result *rr, enum blk_mode mode)
{
    char *dir = run_dir();
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    fputs("t_s,domain,cpu_ns,cpu_share,entitled_share,runnable_ns,work_units,wakeups,"
          "net_tx_pkts,net_rx_pkts,net_tx_bytes,net_rx_bytes,net_drops,"
          "blk_reads,blk_writes,blk_bytes,blk_errors\n", f);
    static const char *const t[] = { "0.100", "0.200", "0.250" };
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < rr->nr_doms; i++) {
            long rd = 0, wr = 0, rx = 0;
            if (mode != BLK_ERRORS_ONLY && i == 0)
                rd = 100, wr = 50;
            else if (mode != BLK_ERRORS_ONLY && i >= 2 && k == 1)
                wr = 10L * (i - 1);
            if (mode == BLK_WITH_NET && i == 0)
                rx = 125000;
            fprintf(f, "%s,%s,0,0.1,0.1,0,0,0,0,%ld,0,%ld,0,%ld,%ld,%ld,%d\n", t[k],
                    rr->doms[i].name, rx ? 100L : 0L, rx, rd, wr, (rd + wr) * 4096,
                    i == 1 ? 2 : 0);
        }
    fclose(f);
    free(tu_write(dir, "timeline.csv", buf));
    free(buf);
    hist_add(&rr->doms[0].blk.latency, 40);
    hist_add(&rr->doms[0].blk.latency, 5000000);
    hist_add(&rr->doms[1].blk.latency, 1000);
    if (rr->nr_doms > 2)
        hist_add(&rr->doms[2].blk.latency, 300000);
    assert_int_equal(results_write_summary(dir, rr), 0);
    assert_int_equal(results_write_wakeup_csv(dir, rr), 0);
    assert_int_equal(results_write_blk_latency_csv(dir, rr), 0);
    return dir;
}

static const char *const net_graphs[] = { "net-throughput", "net-rtt-cdf", NULL };

/* Requests per second over each row's own interval (the last one is half
 * as long), for the domains that read or wrote (not batch, which only had
 * errors); the latency CDF for every domain with samples. No network
 * traffic: no network graphs. */
static void test_plot_blk(void **st)
{
    (void)st;
    REQUIRE_GNUPLOT();
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 3);
    make_rr(&rr, &s);
    char *dir = blk_run_dir(&rr, BLK_ONLY);
    static const char *const graphs[] = { "cpu-share", "wakeup-latency-cdf", "blk-iops",
                                          "blk-latency-cdf", NULL };
    plot_dir(dir, graphs, net_graphs);
    char *p = path2(dir, "plots/blk-iops.csv");
    char *text = tu_read(p, NULL);
    assert_non_null(text);
    assert_string_equal(text, "t_s,web.read_iops,web.write_iops,dom-2.read_iops,dom-2.write_iops\n"
                              "0.100,1000.000000,500.000000,0.000000,0.000000\n"
                              "0.200,1000.000000,500.000000,0.000000,100.000000\n"
                              "0.250,2000.000000,1000.000000,0.000000,0.000000\n");
    free(text);
    free(p);
    assert_false(exists(dir, "plots/net-throughput.csv"));
    char *svg = svg_text(dir, "blk-iops.svg");
    assert_non_null(strstr(svg, "Block I/O (requests/s; solid reads, dashed writes): unit (credit, sim)"));
    assert_non_null(strstr(svg, "web reads"));
    assert_non_null(strstr(svg, "dom-2 writes"));
    assert_null(strstr(svg, "batch"));
    free(svg);
    svg = svg_text(dir, "blk-latency-cdf.svg");
    assert_non_null(strstr(svg, "Block request latency CDF: unit (credit, sim)"));
    assert_non_null(strstr(svg, ">web<"));
    assert_non_null(strstr(svg, ">batch<"));
    assert_non_null(strstr(svg, ">dom-2<"));
    free(svg);
    /* `fairvisor plot DIR` again: the same data, redrawn over the old. */
    p = path2(dir, "plots/blk-iops.svg");
    assert_int_equal(unlink(p), 0);
    free(p);
    plot_dir(dir, graphs, net_graphs);
    tu_rmtree(dir);
    free(dir);
    free_all(&s, &rr);
}

/* 14 domains with requests: the 12 with the most are drawn (web, then
 * dom-14 down to dom-4), and the title says so. */
static void test_plot_blk_many_domains(void **st)
{
    (void)st;
    REQUIRE_GNUPLOT();
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 15);
    make_rr(&rr, &s);
    char *dir = blk_run_dir(&rr, BLK_ONLY);
    static const char *const graphs[] = { "blk-iops", "blk-latency-cdf", NULL };
    plot_dir(dir, graphs, net_graphs);
    char *p = path2(dir, "plots/blk-iops.csv");
    char *text = tu_read(p, NULL);
    assert_non_null(text);
    /* In the order of their requests: web, dom-14 (13 x 10 writes) .. dom-4. */
    char want[1024] = "t_s,web.read_iops,web.write_iops";
    char row[512] = "0.200,1000.000000,500.000000";
    for (int i = 14; i >= 4; i--) {
        snprintf(want + strlen(want), sizeof(want) - strlen(want),
                 ",dom-%d.read_iops,dom-%d.write_iops", i, i);
        snprintf(row + strlen(row), sizeof(row) - strlen(row), ",0.000000,%d00.000000", i - 1);
    }
    assert_memory_equal(text, want, strlen(want));
    assert_int_equal(text[strlen(want)], '\n');
    assert_non_null(strstr(text, row));
    assert_null(strstr(text, "dom-3."));
    assert_null(strstr(text, "dom-2."));
    free(text);
    free(p);
    char *svg = svg_text(dir, "blk-iops.svg");
    assert_non_null(strstr(svg, "(the 12 of 14 domains with the most requests)"));
    free(svg);
    tu_rmtree(dir);
    free(dir);
    free_all(&s, &rr);
}

/* Errors but no reads or writes: there was block activity, so the graphs
 * are drawn, the rates empty, saying why. */
static void test_plot_blk_errors_only(void **st)
{
    (void)st;
    REQUIRE_GNUPLOT();
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 2);
    make_rr(&rr, &s);
    char *dir = blk_run_dir(&rr, BLK_ERRORS_ONLY);
    plot_dir(dir, blk_graphs, net_graphs);
    char *svg = svg_text(dir, "blk-iops.svg");
    assert_non_null(strstr(svg, "- no requests"));
    free(svg);
    char *p = path2(dir, "plots/blk-iops.csv");
    char *text = tu_read(p, NULL);
    assert_string_equal(text, "t_s\n");      /* nobody to draw */
    free(text);
    free(p);
    tu_rmtree(dir);
    free(dir);
    free_all(&s, &rr);
}

/* Both kinds of traffic: all six graphs, each from its own columns. */
static void test_plot_blk_and_net(void **st)
{
    (void)st;
    REQUIRE_GNUPLOT();
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 3);
    make_rr(&rr, &s);
    char *dir = blk_run_dir(&rr, BLK_WITH_NET);
    static const char *const graphs[] = { "cpu-share", "wakeup-latency-cdf", "net-throughput",
                                          "net-rtt-cdf", "blk-iops", "blk-latency-cdf", NULL };
    plot_dir(dir, graphs, NULL);
    char *p = path2(dir, "plots/net-throughput.csv");
    char *text = tu_read(p, NULL);
    assert_string_equal(text, "t_s,web.rx_mbit_s,web.tx_mbit_s\n"
                              "0.100,10.000000,0.000000\n"
                              "0.200,10.000000,0.000000\n"
                              "0.250,20.000000,0.000000\n");
    free(text);
    free(p);
    p = path2(dir, "plots/blk-iops.csv");
    text = tu_read(p, NULL);
    assert_non_null(strstr(text, "\n0.200,1000.000000,500.000000,0.000000,100.000000\n"));
    free(text);
    free(p);
    tu_rmtree(dir);
    free(dir);
    free_all(&s, &rr);
}

/* ---- reading the CSVs back (results_read_domains) ------------------------------------ */

static int read_text(const char *text, int name_col, int val_col, bool use_max,
                     struct results_doms *ds)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    int rc = results_read_domains(f, name_col, val_col, use_max, ds);
    fclose(f);
    return rc;
}

/* Sums per domain, first-seen order, the header and torn rows skipped,
 * maxima, ties and NaN in the ranking, long names cut, bad columns. */
static void test_read_domains(void **st)
{
    (void)st;
    struct results_doms ds = { 0 };
    assert_int_equal(read_text("t_s,domain,cpu_ns,cpu_share\n"
                               "0.1,b,0,0.25\n0.1,a,0,0.5\n"
                               "0.2,b,0,0.25\n0.2,a,0,0.5\n"
                               "0.3,c,0,0.5\n0.3,d,0,nan\n0.3,e", 1, 3, false, &ds), 0);
    assert_int_equal(ds.n, 4);                  /* e: a torn row */
    assert_string_equal(ds.v[0].name, "b");
    assert_true(ds.v[0].key == 0.5);
    assert_string_equal(ds.v[1].name, "a");
    assert_true(ds.v[1].key == 1.0);
    results_rank_domains(&ds);
    /* a 1.0, then b and c tied at 0.5 in the order first seen, NaN last. */
    assert_string_equal(ds.v[0].name, "a");
    assert_string_equal(ds.v[1].name, "b");
    assert_string_equal(ds.v[2].name, "c");
    assert_string_equal(ds.v[3].name, "d");
    /* Reading on after ranking still finds the domains by name. */
    assert_int_equal(read_text("hdr\n0.4,c,0,1\n", 1, 3, false, &ds), 0);
    assert_int_equal(ds.n, 4);
    assert_true(ds.v[2].key == 1.5);
    results_doms_free(&ds);
    assert_null(ds.v);

    assert_int_equal(read_text("domain,latency_ns,cdf\nx,100,0.5\nx,900,1\ny,50,1\n",
                               0, 1, true, &ds), 0);
    assert_int_equal(ds.n, 2);
    assert_true(ds.v[0].key == 900 && ds.v[1].key == 50);
    results_doms_free(&ds);

    /* Names longer than SCN_NAME_MAX - 1 are cut: two that differ only
     * past the cut are one domain. */
    char text[512], longname[200];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    snprintf(text, sizeof(text), "h\n%s1,1\n%s2,2\n", longname, longname);
    assert_int_equal(read_text(text, 0, 1, false, &ds), 0);
    assert_int_equal(ds.n, 1);
    assert_int_equal(strlen(ds.v[0].name), SCN_NAME_MAX - 1);
    assert_true(ds.v[0].key == 3);
    results_doms_free(&ds);

    /* timeline.csv's net columns lie past the eighth. */
    assert_int_equal(read_text("h\n0.1,a,0,0,0,0,0,0,1,2,3,4,5\n0.2,a,0,0,0,0,0,0,1,2,3,4,7\n",
                               1, 12, false, &ds), 0);
    assert_int_equal(ds.n, 1);
    assert_true(ds.v[0].key == 12);
    results_doms_free(&ds);

    /* ... and the blk columns past the net ones: the 17th is blk_errors. */
    assert_int_equal(read_text("h\n0.1,a,0,0,0,0,0,0,1,2,3,4,5,6,7,8,9\n"
                               "0.2,a,0,0,0,0,0,0,1,2,3,4,5,6,7,8,10\n", 1, 16, false, &ds), 0);
    assert_int_equal(ds.n, 1);
    assert_true(ds.v[0].key == 19);
    results_doms_free(&ds);

    assert_int_equal(read_text("", 0, 1, false, &ds), 0);
    assert_int_equal(ds.n, 0);
    assert_int_equal(read_text("h\na,1\n", 0, RESULTS_CSV_MAX_COLS, false, &ds), -EINVAL);
    assert_int_equal(read_text("h\na,1\n", -1, 1, false, &ds), -EINVAL);
    results_doms_free(&ds);
}

/* 50,000 distinct names (replica names that differ only at the end, the
 * worst case for a weak string hash), 3 intervals: every one is counted
 * and the 12 largest come out in order. Before the name index each new
 * name was a linear search (21 s for 50,000 names); no time is asserted
 * here, the result is. */
static void test_read_domains_50k(void **st)
{
    (void)st;
    enum { N = 50000 };
    char *buf = NULL;
    size_t len;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    fputs("t_s,domain,cpu_ns,cpu_share,entitled_share,runnable_ns,work_units,wakeups\n", m);
    /* share of domain-i: (i * 7919 % N) / 1e9 per interval, a permutation,
     * so the top 12 are the i with i * 7919 % N = N - 1 .. N - 12. */
    for (int t = 1; t <= 3; t++)
        for (int i = 0; i < N; i++)
            fprintf(m, "%d.000,domain-%06d,0,%.9f,0,0,0,0\n", t, i,
                    (double)((long)i * 7919 % N) / 1e9);
    fclose(m);
    struct results_doms ds = { 0 };
    assert_int_equal(read_text(buf, 1, 3, false, &ds), 0);
    free(buf);
    assert_int_equal(ds.n, N);
    results_rank_domains(&ds);
    /* 7919 is prime and coprime with 50,000: its inverse mod N gives i. */
    long inv = 0;
    for (long k = 1; k < N; k++)
        if (7919 * k % N == 1)
            inv = k;
    assert_true(inv > 0);
    for (int r = 0; r < 12; r++) {
        char want[32];
        snprintf(want, sizeof(want), "domain-%06ld", (long)(N - 1 - r) * inv % N);
        assert_string_equal(ds.v[r].name, want);
    }
    results_doms_free(&ds);
}

/* gnuplot fails: its own reason (here printed on its stdout, which used to
 * go to /dev/null) reaches the log and `why`, which names the graph. */
static void test_plot_gnuplot_failure_reason(void **st)
{
    (void)st;
    REQUIRE_GNUPLOT();
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 2);
    make_rr(&rr, &s);
    char *dir = fake_run_dir(&rr, 2, false);
    char *tdir = tu_tmpdir();
    free(tu_write(tdir, "cpu-share.gp",
                  "set print '-'\nprint 'cpu-share.gp: no such column xyzzy'\nexit status 3\n"));
    char *good = tu_read(tu_src("tools/gnuplot/wakeup-latency-cdf.gp"), NULL);
    assert_non_null(good);
    free(tu_write(tdir, "wakeup-latency-cdf.gp", good));
    free(good);
    char *old = getenv("FV_GNUPLOT_DIR") ? strdup(getenv("FV_GNUPLOT_DIR")) : NULL;
    setenv("FV_GNUPLOT_DIR", tdir, 1);
    char *msg = NULL, why[2048];
    size_t len;
    FILE *log = open_memstream(&msg, &len);
    int rc = results_plot(dir, log, why, sizeof(why));
    fclose(log);
    if (old)
        setenv("FV_GNUPLOT_DIR", old, 1);
    else
        unsetenv("FV_GNUPLOT_DIR");
    print_message("log: %s\nwhy: %s\n", msg, why);
    assert_true(rc < 0);
    assert_non_null(strstr(msg, "no such column xyzzy"));
    assert_non_null(strstr(why, "cpu-share.svg: gnuplot failed (exit status 3): "
                                "cpu-share.gp: no such column xyzzy"));
    assert_null(strstr(why, "wakeup-latency-cdf"));     /* that one was drawn */
    assert_true(exists(dir, "plots/wakeup-latency-cdf.svg"));
    assert_false(exists(dir, "plots/cpu-share.svg"));
    assert_int_equal(count_tmp(dir), 0);
    free(msg);
    free(old);
    tu_rmtree(tdir);
    free(tdir);
    tu_rmtree(dir);
    free(dir);
    free_all(&s, &rr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plot),
        cmocka_unit_test(test_plot_empty),
        cmocka_unit_test(test_plot_many_domains),
        cmocka_unit_test(test_plot_without_gnuplot),
        cmocka_unit_test(test_plot_net),
        cmocka_unit_test(test_plot_net_many_domains),
        cmocka_unit_test(test_plot_net_drops_only),
        cmocka_unit_test(test_plot_blk),
        cmocka_unit_test(test_plot_blk_many_domains),
        cmocka_unit_test(test_plot_blk_errors_only),
        cmocka_unit_test(test_plot_blk_and_net),
        cmocka_unit_test(test_read_domains),
        cmocka_unit_test(test_read_domains_50k),
        cmocka_unit_test(test_plot_gnuplot_failure_reason),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
