/* test_plot_marks.c — the `share` graph (received against entitled share,
 * starved domains marked), the starvation events marked on the timeline
 * graphs (from starvation.csv), and drawing every graph in one gnuplot
 * with a fallback to one per graph. The data tests call the graph code
 * below results_plot; the drawing tests need gnuplot (tools/deps). */
#include "testutil.h"
#include "hv/plot_priv.h"
#include "hv/results.h"
#include "hv/run.h"
#include "hv/scenario.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results_fixtures.h"

static struct graph test_graph(const char *dir, const char *name)
{
    return (struct graph){ .dir = dir, .tmpl_dir = "/nonexistent", .log = stderr, .name = name };
}

static const char *vars_of(const struct graph *g, const char *name)
{
    for (int i = 0; i < g->njobs; i++)
        if (strcmp(g->jobs[i].name, name) == 0)
            return g->jobs[i].vars;
    fail_msg("graph %s not queued", name);
    return NULL;
}

/* plot_share on dir's summary.json, queued in *g; the groups from it. */
static void queue_share(struct graph *g, const char *dir)
{
    *g = test_graph(dir, "share");
    char *p = path2(dir, "summary.json");
    json_t *j = json_load_file(p, 0, NULL);
    assert_non_null(j);
    free(p);
    struct plot_groups pg = { 0 };
    assert_int_equal(plot_groups_from_summary(&pg, j), 0);
    assert_int_equal(plot_share(g, &pg, j, ": unit"), 0);
    plot_groups_free(&pg);
    json_decref(j);
}

/* ---- share ------------------------------------------------------------------------------ */

/* web and batch alone, dom-2..dom-4 one group (its medians and p5-p95);
 * starved: web, batch, and one of the group. */
static void test_share_data(void **st)
{
    (void)st;
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 5);
    for (int i = 2; i < 5; i++)
        snprintf(s.domains[i].group, sizeof(s.domains[i].group), "dom");
    make_rr(&rr, &s);
    for (int i = 2; i < 5; i++)
        rr.doms[i].cpu_share = 0.01 * (i - 1);         /* 0.01, 0.02, 0.03 */
    rr.doms[3].starvation_events = 1;
    char *dir = run_dir();
    assert_int_equal(results_write_summary(dir, &rr), 0);
    struct graph g;
    queue_share(&g, dir);
    char *text = read_in(dir, "plots/share.csv");
    assert_string_equal(text, "series,members,received,received_p5,received_p95,entitled,"
                              "entitled_p5,entitled_p95,starved\n"
                              "web,1,0.500000,0.500000,0.500000,0.500000,0.500000,0.500000,1\n"
                              "batch,1,0.250000,0.250000,0.250000,0.500000,0.500000,0.500000,1\n"
                              "dom,3,0.020000,0.011000,0.029000,0.010000,0.010000,0.010000,1\n");
    free(text);
    const char *v = vars_of(&g, "share");
    assert_non_null(strstr(v, "domains='web batch dom'; counts='1 1 3'; "));
    assert_non_null(strstr(v, "title_txt='CPU share received and entitled: unit'; nodata='0'; "
                              "nstarved='3'; nbars='3'; ymax='50'; "));
    plot_jobs_free(&g);
    tu_rmtree(dir);
    free(dir);
    free_all(&s, &rr);
}

/* 15 domains: the 12 that received least against their entitlement, in
 * scenario order, and the title says so. */
static void test_share_cut(void **st)
{
    (void)st;
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 15);
    make_rr(&rr, &s);
    rr.doms[1].cpu_share = 0.26;                        /* batch: 0.52 of 0.5 */
    for (int i = 2; i < 15; i++) {
        rr.doms[i].cpu_share = 0.01 * i + 0.001;        /* dom-N: N/10 + 0.01 of 0.1 */
        rr.doms[i].entitled_share = 0.1;
    }
    char *dir = run_dir();
    assert_int_equal(results_write_summary(dir, &rr), 0);
    struct graph g;
    queue_share(&g, dir);
    char *text = read_in(dir, "plots/share.csv");
    /* web (1.0), batch, dom-2 .. dom-11; not dom-12..14 (1.21 .. 1.41). */
    const char *rows[] = { "\nweb,", "\nbatch,", "\ndom-2,", "\ndom-3,", "\ndom-11,", NULL };
    const char *prev = text;
    for (int i = 0; rows[i]; i++) {
        const char *at = strstr(text, rows[i]);
        if (!at || at < prev)
            fail_msg("%s missing or out of order in\n%s", rows[i], text);
        prev = at;
    }
    assert_null(strstr(text, "dom-12"));
    assert_null(strstr(text, "dom-14"));
    free(text);
    assert_non_null(strstr(vars_of(&g, "share"), "(the 12 of 15 domains with the lowest "
                                                  "received/entitled share)"));
    plot_jobs_free(&g);
    tu_rmtree(dir);
    free(dir);
    free_all(&s, &rr);
}

/* ---- starvation marks ---------------------------------------------------------------- */

/* A run with CPU, network and block traffic over 10 samples (to 1.0 s),
 * and starvation.csv: 3 cpu events (two overlapping), 25 net events (too
 * many to name), 2 blk events less than 1/1000 of the run apart, and a
 * malformed row. */
static char *starved_run_dir(void)
{
    char *dir = run_dir();
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    fputs("t_s,domain,cpu_ns,cpu_share,entitled_share,runnable_ns,work_units,wakeups,"
          "net_tx_pkts,net_rx_pkts,net_tx_bytes,net_rx_bytes,net_drops,"
          "blk_reads,blk_writes,blk_bytes,blk_errors\n", f);
    for (int t = 1; t <= 10; t++) {
        fprintf(f, "%d.%d00,victim,0,0.2,0.5,0,0,0,1,1,1000,1000,0,0,0,0,0\n", t / 10, t % 10);
        fprintf(f, "%d.%d00,disk,0,0.1,0.5,0,0,0,0,0,0,0,0,10,0,40960,0\n", t / 10, t % 10);
    }
    fclose(f);
    free(tu_write(dir, "timeline.csv", buf));
    free(buf);
    free(tu_write(dir, "wakeup-latency.csv", "domain,latency_ns,cdf\nvictim,1000,1.000000\n"));
    f = open_memstream(&buf, &len);
    fputs("start_ns,duration_ns,domain,resource,holders\n"
          "100000000,50000000,victim,cpu,hog-0;hog-1\n"
          "500000000,20000000,victim,cpu,hog-1\n"
          "120000000,100000000,flood-3,cpu,hog-0\n"
          "300000000,500000,disk,blk,flood-0\n"
          "300900000,100000,disk,blk,\n"
          "garbage,1,x,cpu,\n", f);
    for (int k = 0; k < 25; k++)
        fprintf(f, "%d,10000000,victim,net,flood-%d\n", k * 30000000, k);
    fclose(f);
    free(tu_write(dir, "starvation.csv", buf));
    free(buf);
    return dir;
}

static void test_starvation_data(void **st)
{
    (void)st;
    char *dir = starved_run_dir();
    struct graph g = test_graph(dir, "cpu-share");
    struct plot_groups pg = { 0 };
    struct plot_starve sv = { 0 };
    struct plot_tl_info info = { 0 };
    assert_int_equal(plot_starve_read(dir, &sv), 0);
    assert_int_equal(sv.n, 30);                 /* the malformed row skipped */
    assert_int_equal(plot_timeline(&g, &pg, &sv, "", &info), 0);
    assert_true(info.net && info.blk);
    /* The table, then the merged spans, then a label per event. */
    char *text = read_in(dir, "plots/cpu-share.csv");
    assert_non_null(strstr(text, "\n1.000,0.200000,0.100000\n\n\n"
                                 "# starvation on cpu: start_s,end_s\n"
                                 "0.100000000,0.220000000\n0.500000000,0.520000000\n\n\n"
                                 "# victims: start_s,domain\n"
                                 "0.100000000,victim\n0.120000000,flood-3\n0.500000000,victim\n"));
    free(text);
    assert_non_null(strstr(vars_of(&g, "cpu-share"), "nstarve='2'; nlabels='3'; "));
    /* 25 events 20 ms apart: 25 spans, no labels. */
    text = read_in(dir, "plots/net-throughput.csv");
    assert_non_null(strstr(text, "# starvation on net: start_s,end_s\n0.000000000,0.010000000\n"
                                 "0.030000000,0.040000000\n"));
    assert_null(strstr(text, "# victims"));
    free(text);
    assert_non_null(strstr(vars_of(&g, "net-throughput"), "nstarve='25'; nlabels='0'; "));
    /* 0.4 ms apart in a 1 s run: one span, both named. */
    text = read_in(dir, "plots/blk-iops.csv");
    assert_non_null(strstr(text, "# starvation on blk: start_s,end_s\n0.300000000,0.301000000\n\n\n"
                                 "# victims: start_s,domain\n0.300000000,disk\n0.300900000,disk\n"));
    free(text);
    assert_non_null(strstr(vars_of(&g, "blk-iops"), "nstarve='1'; nlabels='2'; "));
    plot_jobs_free(&g);
    plot_starve_free(&sv);
    plot_groups_free(&pg);
    results_doms_free(&info.net_traffic);
    tu_rmtree(dir);
    free(dir);
}

/* Drawn: the spans in the legend, the victims named. Without
 * starvation.csv: no marks, nothing in the legend. */
static void test_starvation_drawn(void **st)
{
    (void)st;
    REQUIRE_GNUPLOT();
    char *dir = starved_run_dir();
    char why[2048] = "";
    int rc = results_plot(dir, stderr, why, sizeof(why));
    if (rc)
        fail_msg("results_plot: %d: %s", rc, why);
    char *svg = read_in(dir, "plots/cpu-share.svg");
    assert_non_null(strstr(svg, "starved (cpu)"));
    assert_non_null(strstr(svg, ">flood-3<"));
    free(svg);
    svg = read_in(dir, "plots/net-throughput.svg");
    assert_non_null(strstr(svg, "starved (net)"));
    free(svg);
    char *p = path2(dir, "starvation.csv");
    assert_int_equal(unlink(p), 0);
    free(p);
    assert_int_equal(results_plot(dir, stderr, why, sizeof(why)), 0);
    svg = read_in(dir, "plots/cpu-share.svg");
    assert_null(strstr(svg, "starved"));
    free(svg);
    tu_rmtree(dir);
    free(dir);
}

/* The share graph drawn: received, entitled, the group's label and the
 * starved mark in the legend. */
static void test_share_drawn(void **st)
{
    (void)st;
    REQUIRE_GNUPLOT();
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 5);
    for (int i = 2; i < 5; i++)
        snprintf(s.domains[i].group, sizeof(s.domains[i].group), "dom");
    make_rr(&rr, &s);
    char *dir = run_dir();
    free(tu_write(dir, "timeline.csv", "t_s,domain,cpu_ns,cpu_share,entitled_share\n"));
    assert_int_equal(results_write_summary(dir, &rr), 0);
    assert_int_equal(results_write_wakeup_csv(dir, &rr), 0);
    char why[2048] = "";
    int rc = results_plot(dir, stderr, why, sizeof(why));
    if (rc)
        fail_msg("results_plot: %d: %s", rc, why);
    char *svg = read_in(dir, "plots/share.svg");
    assert_non_null(strstr(svg, "CPU share received and entitled: unit (credit, sim)"));
    assert_non_null(strstr(svg, ">received<"));
    assert_non_null(strstr(svg, ">entitled<"));
    assert_non_null(strstr(svg, ">starved<"));
    assert_non_null(strstr(svg, "dom (×3)"));
    free(svg);
    char *png = read_in(dir, "plots/share.png");
    assert_memory_equal(png, "\x89PNG", 4);
    free(png);
    tu_rmtree(dir);
    free(dir);
    free_all(&s, &rr);
}

/* ---- one gnuplot for all, one per graph when it fails ---------------------------------- */

/* A template that stops without drawing (exit status 0): the batch looks
 * fine to gnuplot but its images are missing, so every graph is drawn
 * again on its own: all but that one, which `why` names. */
static void test_batch_fallback(void **st)
{
    (void)st;
    REQUIRE_GNUPLOT();
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 2);
    make_rr(&rr, &s);
    char *dir = run_dir();
    free(tu_write(dir, "timeline.csv", "t_s,domain,cpu_ns,cpu_share,entitled_share\n"
                                       "0.100,web,0,0.5,0.5\n0.100,batch,0,0.25,0.5\n"));
    assert_int_equal(results_write_summary(dir, &rr), 0);
    assert_int_equal(results_write_wakeup_csv(dir, &rr), 0);
    char *tdir = tu_tmpdir();
    static const char *const keep[] = { "cpu-share.gp", "wakeup-latency-cdf.gp" };
    for (int i = 0; i < 2; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "tools/gnuplot/%s", keep[i]);
        char *text = tu_read(tu_src(rel), NULL);
        assert_non_null(text);
        free(tu_write(tdir, keep[i], text));
        free(text);
    }
    free(tu_write(tdir, "share.gp", "exit\n"));
    char *old = getenv("FV_GNUPLOT_DIR") ? strdup(getenv("FV_GNUPLOT_DIR")) : NULL;
    setenv("FV_GNUPLOT_DIR", tdir, 1);
    char why[2048] = "";
    int rc = results_plot(dir, stderr, why, sizeof(why));
    if (old)
        setenv("FV_GNUPLOT_DIR", old, 1);
    else
        unsetenv("FV_GNUPLOT_DIR");
    print_message("why: %s\n", why);
    assert_true(rc < 0);
    assert_string_equal(why, "share.svg: No such file or directory");
    assert_true(exists(dir, "plots/cpu-share.svg"));
    assert_true(exists(dir, "plots/cpu-share.png"));
    assert_true(exists(dir, "plots/wakeup-latency-cdf.png"));
    assert_false(exists(dir, "plots/share.svg"));
    assert_int_equal(count_tmp(dir), 0);
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
        cmocka_unit_test(test_share_data),
        cmocka_unit_test(test_share_cut),
        cmocka_unit_test(test_starvation_data),
        cmocka_unit_test(test_starvation_drawn),
        cmocka_unit_test(test_share_drawn),
        cmocka_unit_test(test_batch_fallback),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
