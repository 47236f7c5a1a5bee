/* test_plot_groups.c — graphs that stay readable at any scale: the group
 * of each domain (summary.json's `group`, or derived from old results'
 * names), the data handed to gnuplot (a group is its median, p5 and p95,
 * whatever its size), the latency CDFs of groups, the `share` graph and
 * the starvation marks. The data tests call the graph code below
 * results_plot and need no gnuplot; the drawing tests do (tools/deps
 * installs it). Nothing here is timed. */
#include "testutil.h"
#include "hv/plot_priv.h"
#include "hv/results.h"
#include "hv/run.h"
#include "hv/scenario.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results_fixtures.h"

/* The graph code below results_plot, on dir: groups from summary.json (if
 * any), the starvation events, the timeline graphs and the wake-up CDF,
 * queued in g (not drawn). */
struct queued {
    struct graph g;
    struct plot_groups pg;
    struct plot_starve st;
    struct plot_tl_info info;
    json_t *summary;
};

static void queue_graphs(struct queued *q, const char *dir)
{
    memset(q, 0, sizeof(*q));
    q->g = (struct graph){ .dir = dir, .tmpl_dir = "/nonexistent", .log = stderr,
                           .name = "cpu-share" };
    char *p = path2(dir, "summary.json");
    q->summary = json_load_file(p, 0, NULL);
    free(p);
    assert_int_equal(plot_groups_from_summary(&q->pg, q->summary), 0);
    assert_int_equal(plot_starve_read(dir, &q->st), 0);
    assert_int_equal(plot_timeline(&q->g, &q->pg, &q->st, "", &q->info), 0);
    plot_graph_next(&q->g, "wakeup-latency-cdf");
    assert_int_equal(plot_cdf(&q->g, &q->pg, "wakeup-latency.csv", NULL, "t"), 0);
}

static void queued_free(struct queued *q)
{
    plot_jobs_free(&q->g);
    plot_groups_free(&q->pg);
    plot_starve_free(&q->st);
    results_doms_free(&q->info.net_traffic);
    json_decref(q->summary);
}

/* The variables of the queued graph `name`. */
static const char *vars_of(const struct queued *q, const char *name)
{
    for (int i = 0; i < q->g.njobs; i++)
        if (strcmp(q->g.jobs[i].name, name) == 0)
            return q->g.jobs[i].vars;
    fail_msg("graph %s not queued", name);
    return NULL;
}

/* ---- groups ------------------------------------------------------------------------- */

/* summary.json's per-domain `group`: the scenario entry's name, the name
 * itself without count (and for Domain-0, which the loader adds). */
static void test_summary_group(void **st)
{
    (void)st;
    struct scenario s;
    char err[512];
    assert_int_equal(scenario_load_string("g.yaml",
                                          "duration: 1s\ndomains:\n"
                                          "  - { name: web }\n"
                                          "  - { name: flood, count: 3 }\n"
                                          "  - { name: one, count: 1 }\n",
                                          NULL, 0, &s, err, sizeof(err)), 0);
    assert_int_equal(s.nr_domains, 5);
    assert_string_equal(s.domains[1].name, "flood-0");
    assert_string_equal(s.domains[1].group, "flood");
    assert_string_equal(s.domains[3].group, "flood");
    assert_string_equal(s.domains[4].name, "one-0");
    assert_string_equal(s.domains[4].group, "one");
    struct run_result rr;
    make_rr(&rr, &s);
    /* A run_result that names its groups itself wins. */
    snprintf(rr.doms[0].group, sizeof(rr.doms[0].group), "front");
    char *dir = tu_tmpdir();
    assert_int_equal(results_write_summary(dir, &rr), 0);
    char *p = path2(dir, "summary.json");
    json_t *j = json_load_file(p, 0, NULL);
    assert_non_null(j);
    static const char *const want[] = { "front", "flood", "flood", "flood", "one" };
    json_t *doms = json_object_get(j, "domains");
    assert_int_equal(json_array_size(doms), 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(doms, i), "group")),
                            want[i]);
    json_decref(j);
    free(p);
    /* Without a scenario: each domain is its own group. */
    rr.scn = NULL;
    rr.doms[0].group[0] = '\0';
    assert_string_equal(results_dom_group(&rr, 0), "web");
    assert_string_equal(results_dom_group(&rr, 2), "flood-1");
    tu_rmtree(dir);
    free(dir);
    run_result_free(&rr);
    scenario_free(&s);
}

/* `group:` on an entry names its domains' group; the resolved scenario
 * writes it on every replica, so that running it again keeps the groups;
 * keys after it are still read; a group that is not a name is refused
 * where it is written. */
static void test_group_key(void **st)
{
    (void)st;
    struct scenario s, r;
    char err[512];
    assert_int_equal(scenario_load_string("g.yaml",
                                          "duration: 1s\ndomains:\n"
                                          "  - { name: a, group: flooders, count: 2, vcpus: 2 }\n"
                                          "  - { name: b, group: flooders }\n"
                                          "  - { name: c, count: 2 }\n",
                                          NULL, 0, &s, err, sizeof(err)), 0);
    static const char *const want[] = { "flooders", "flooders", "flooders", "c", "c" };
    for (int i = 0; i < 5; i++)
        assert_string_equal(s.domains[i].group, want[i]);
    assert_int_equal(s.domains[1].vcpus, 2);
    char *text = NULL;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(scenario_write_yaml(&s, f), 0);
    fclose(f);
    assert_non_null(strstr(text, "  - name: \"c-1\"\n    group: \"c\"\n    vcpus: 1\n"));
    assert_non_null(strstr(text, "  - name: \"b\"\n    group: \"flooders\"\n"));
    assert_int_equal(scenario_load_string("resolved.yaml", text, NULL, 0, &r, err, sizeof(err)), 0);
    assert_int_equal(r.nr_domains, 5);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(r.domains[i].name, s.domains[i].name);
        assert_string_equal(r.domains[i].group, want[i]);
        assert_int_equal(r.domains[i].vcpus, s.domains[i].vcpus);
    }
    free(text);
    scenario_free(&r);
    scenario_free(&s);
    assert_int_equal(scenario_load_string("g.yaml", "duration: 1s\ndomains:\n"
                                          "  - name: a\n    group: [x]\n", NULL, 0, &s, err,
                                          sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "g.yaml:4:12: group"));
    assert_int_equal(scenario_load_string("g.yaml", "duration: 1s\ndomains:\n"
                                          "  - name: a\n    group: x\n    wieght: 3\n", NULL, 0,
                                          &s, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "g.yaml:5:5: unknown key \"wieght\" in domain"));
}

/* Old results: a trailing -N makes a group only when two or more names
 * share that prefix. */
static void test_derive_groups(void **st)
{
    (void)st;
    static const char *const names[] = { "web", "flood-0", "flood-1", "flood-12", "dom-1",
                                         "a-b-3", "a-b-12", "x-", "-5", "-6", "7", "flood" };
    static const char *const want[] = { "web", "flood", "flood", "flood", "dom-1",
                                        "a-b", "a-b", "x-", "-5", "-6", "7", "flood" };
    struct plot_groups pg = { 0 };
    assert_int_equal(plot_groups_derive(&pg, names, 12), 0);
    assert_int_equal(pg.dom.n, 12);
    for (int i = 0; i < 12; i++)
        assert_string_equal(pg.grp.v[pg.gid[i]].name, want[i]);
    /* A name it has not seen is a group of its own. */
    int g = plot_groups_of(&pg, "late-1");
    assert_true(g >= 0);
    assert_string_equal(pg.grp.v[g].name, "late-1");
    assert_int_equal(plot_groups_of(&pg, "flood-1"), pg.gid[1]);
    plot_groups_free(&pg);

    /* summary.json with `group` on every domain: taken as written. */
    json_t *j = json_loads("{\"domains\": [{\"name\": \"a-1\", \"group\": \"x\"},"
                           " {\"name\": \"a-2\", \"group\": \"y\"}]}", 0, NULL);
    assert_int_equal(plot_groups_from_summary(&pg, j), 0);
    assert_string_equal(pg.grp.v[pg.gid[0]].name, "x");
    assert_string_equal(pg.grp.v[pg.gid[1]].name, "y");
    plot_groups_free(&pg);
    json_decref(j);
    /* ... and without it (older results): derived. */
    j = json_loads("{\"domains\": [{\"name\": \"a-1\"}, {\"name\": \"a-2\", \"group\": \"y\"}]}",
                   0, NULL);
    assert_int_equal(plot_groups_from_summary(&pg, j), 0);
    assert_int_equal(pg.gid[0], pg.gid[1]);
    assert_string_equal(pg.grp.v[pg.gid[0]].name, "a");
    plot_groups_free(&pg);
    json_decref(j);
}

/* Linear between the closest ranks; NaN left out. */
static void test_quantiles(void **st)
{
    (void)st;
    double v[] = { 5, NAN, 1, 4, 2, 3 }, q[3];
    plot_stats(v, 6, q);
    assert_true(q[0] == 3);
    assert_true(fabs(q[1] - 1.2) < 1e-12);
    assert_true(fabs(q[2] - 4.8) < 1e-12);
    double even[] = { 4, 1, 3, 2 };
    plot_stats(even, 4, q);
    assert_true(q[0] == 2.5);
    double one[] = { 7 };
    plot_stats(one, 1, q);
    assert_true(q[0] == 7 && q[1] == 7 && q[2] == 7);
    double none[] = { NAN };
    plot_stats(none, 1, q);
    assert_true(isnan(q[0]) && isnan(q[1]) && isnan(q[2]));
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* plot_stats selects rather than sorts: the same values as plot_quantile
 * on the sorted array, for sizes 1..300 with many equal values. */
static void test_quantiles_select(void **st)
{
    (void)st;
    uint64_t x = 88172645463325252ULL;
    double v[300], sorted[300];
    for (int n = 1; n <= 300; n++) {
        for (int i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            v[i] = (double)(x % (uint64_t)(n % 7 + 2));      /* 2..8 distinct values */
            sorted[i] = v[i];
        }
        qsort(sorted, (size_t)n, sizeof(*sorted), cmp_dbl);
        double q[3];
        plot_stats(v, n, q);
        assert_true(q[0] == plot_quantile(sorted, n, 0.5));
        assert_true(q[1] == plot_quantile(sorted, n, 0.05));
        assert_true(q[2] == plot_quantile(sorted, n, 0.95));
    }
}

/* 14 series (a group of 3 counting as the sum of its keys) cut to 12 by
 * key; the group keeps its name, a group with one member taken is that
 * domain. */
static void test_select(void **st)
{
    (void)st;
    enum { N = 17 };
    const char *names[N];
    char buf[N][16];
    double key[N];
    bool member[N];
    struct plot_groups pg = { 0 };
    int gid[N];
    for (int i = 0; i < N; i++) {
        if (i < 3)
            snprintf(buf[i], sizeof(buf[i]), "g-%d", i);
        else if (i < 5)
            snprintf(buf[i], sizeof(buf[i]), "h-%d", i);
        else
            snprintf(buf[i], sizeof(buf[i]), "s%d", i);
        names[i] = buf[i];
        key[i] = i < 3 ? 1 : i;             /* g: 3; h-3: 3, h-4: 4; s5..s16: 5..16 */
        member[i] = i != 3;                 /* h-4 alone is taken from h */
    }
    assert_int_equal(plot_groups_derive(&pg, names, N), 0);
    for (int i = 0; i < N; i++)
        gid[i] = pg.gid[i];
    struct plot_sel sel;
    assert_int_equal(plot_select(names, gid, key, member, N, &pg, false, false, 12, &sel), 0);
    assert_int_equal(sel.total, 14);        /* g, h-4, s5 .. s16 */
    assert_int_equal(sel.n, 12);
    assert_true(sel.grouped);
    /* s16 .. s5, largest first; g (3) and h-4 (4) have the smallest keys. */
    assert_string_equal(sel.s[0].name, "s16");
    assert_string_equal(sel.s[9].name, "s7");
    assert_string_equal(sel.s[10].name, "s6");
    assert_string_equal(sel.s[11].name, "s5");
    assert_int_equal(sel.of_dom[0], -1);    /* g (3) and h-4 (4) are cut */
    assert_int_equal(sel.of_dom[4], -1);
    assert_int_equal(sel.of_dom[16], 0);
    plot_sel_free(&sel);
    /* Uncut: the group is one series of 3, in the order first seen. */
    assert_int_equal(plot_select(names, gid, key, member, N, &pg, false, false, 20, &sel), 0);
    assert_string_equal(sel.s[0].name, "g");
    assert_int_equal(sel.s[0].members, 3);
    assert_true(sel.s[0].key == 3);
    assert_string_equal(sel.s[1].name, "h-4");
    assert_int_equal(sel.s[1].members, 1);
    assert_int_equal(sel.of_dom[2], 0);
    assert_int_equal(sel.of_dom[4], 1);
    plot_sel_free(&sel);
    /* With key_max, a group's key is its largest. */
    assert_int_equal(plot_select(names, gid, key, NULL, N, &pg, true, false, 20, &sel), 0);
    assert_true(sel.s[0].key == 1);
    assert_string_equal(sel.s[1].name, "h");
    assert_true(sel.s[1].key == 4);
    plot_sel_free(&sel);
    plot_groups_free(&pg);
}

/* ---- 2,000 domains, 3 groups ------------------------------------------------------------ */

/* A group of n members at sample t (1..3): the first n/10 have a*t, the
 * last n/10 c*t, the others b*t, written in a shuffled order, so that its
 * p5, median and p95 are exactly a*t, b*t and c*t. */
struct tgroup {
    const char *name;
    int n;
    double a, b, c;
};

static const struct tgroup tgroups[] = {
    { "flood", 999, 0.0001, 0.0002, 0.0004 },
    { "probe", 600, 0.000010, 0.000020, 0.000030 },
    { "hog", 400, 0.001, 0.002, 0.003 },
};

static double tgroup_value(const struct tgroup *g, int j, int t)
{
    int tenth = g->n / 10;
    return (j < tenth ? g->a : j >= g->n - tenth ? g->c : g->b) * t;
}

/* timeline.csv: victim and the three groups over 3 samples; summary.json
 * naming the groups, unless `old` (then no summary: groups derived). */
static char *groups_run_dir(bool old)
{
    char *dir = run_dir();
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    fputs("t_s,domain,cpu_ns,cpu_share,entitled_share,runnable_ns,work_units,wakeups\n", f);
    for (int t = 1; t <= 3; t++) {
        fprintf(f, "0.%d00,victim,0,%.6f,0.1,0,0,0\n", t, 0.05 * t);
        for (size_t k = 0; k < sizeof(tgroups) / sizeof(tgroups[0]); k++) {
            const struct tgroup *g = &tgroups[k];
            for (int r = 0; r < g->n; r++) {
                int j = (int)((long)r * 7 % g->n);      /* 7 is coprime with 999, 600, 400 */
                fprintf(f, "0.%d00,%s-%d,0,%.6f,0.1,0,0,0\n", t, g->name, j,
                        tgroup_value(g, j, t));
            }
        }
    }
    fclose(f);
    free(tu_write(dir, "timeline.csv", buf));
    free(buf);
    free(tu_write(dir, "wakeup-latency.csv", "domain,latency_ns,cdf\n"));
    if (!old) {
        f = open_memstream(&buf, &len);
        fputs("{\"scenario\": \"groups\", \"policy\": \"credit\", \"engine\": \"sim\", "
              "\"domains\": [{\"name\": \"victim\", \"group\": \"victim\"}", f);
        for (size_t k = 0; k < sizeof(tgroups) / sizeof(tgroups[0]); k++)
            for (int j = 0; j < tgroups[k].n; j++)
                fprintf(f, ", {\"name\": \"%s-%d\", \"group\": \"%s\"}", tgroups[k].name, j,
                        tgroups[k].name);
        fputs("]}\n", f);
        fclose(f);
        free(tu_write(dir, "summary.json", buf));
        free(buf);
    }
    return dir;
}

static char *groups_expected(void)
{
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    fputs("t_s,victim.cpu_share", f);
    for (int k = 0; k < 3; k++)
        fprintf(f, ",%s.cpu_share.median,%s.cpu_share.p5,%s.cpu_share.p95", tgroups[k].name,
                tgroups[k].name, tgroups[k].name);
    fputc('\n', f);
    for (int t = 1; t <= 3; t++) {
        fprintf(f, "0.%d00,%.6f", t, 0.05 * t);
        for (int k = 0; k < 3; k++)
            fprintf(f, ",%.6f,%.6f,%.6f", tgroups[k].b * t, tgroups[k].a * t, tgroups[k].c * t);
        fputc('\n', f);
    }
    fclose(f);
    return buf;
}

/* The data gnuplot gets: 4 series (victim and 3 groups), 10 columns, not
 * 2,000 domains; each group's median, p5 and p95 exact. */
static void check_groups_data(bool old)
{
    char *dir = groups_run_dir(old);
    struct queued q;
    queue_graphs(&q, dir);
    char *text = read_in(dir, "plots/cpu-share.csv");
    char *want = groups_expected();
    assert_string_equal(text, want);
    free(want);
    free(text);
    const char *v = vars_of(&q, "cpu-share");
    assert_non_null(strstr(v, "domains='victim flood probe hog'; counts='1 999 600 400'; "
                              "cols='2 3 6 9'; "));
    assert_non_null(strstr(v, "nodata='0'; nstarve='0'; nlabels='0'; "));
    assert_null(strstr(v, "(the "));            /* nothing cut */
    assert_false(q.info.net || q.info.blk);
    assert_int_equal(q.g.njobs, 2);             /* cpu-share, wakeup-latency-cdf */
    queued_free(&q);
    tu_rmtree(dir);
    free(dir);
}

static void test_timeline_2000_domains_3_groups(void **st)
{
    (void)st;
    check_groups_data(false);
}

/* The same run without summary.json's groups: derived from the names. */
static void test_timeline_groups_derived(void **st)
{
    (void)st;
    check_groups_data(true);
}

/* Drawn: one legend entry per group. */
static void test_draw_groups(void **st)
{
    (void)st;
    REQUIRE_GNUPLOT();
    char *dir = groups_run_dir(false);
    char why[2048] = "";
    int rc = results_plot(dir, stderr, why, sizeof(why));
    if (rc)
        fail_msg("results_plot: %d: %s", rc, why);
    char *svg = read_in(dir, "plots/cpu-share.svg");
    assert_non_null(strstr(svg, "flood (×999) median, p5–p95"));
    assert_non_null(strstr(svg, "hog (×400) median, p5–p95"));
    assert_non_null(strstr(svg, ">victim<"));
    assert_null(strstr(svg, "flood-1"));
    free(svg);
    char *png = read_in(dir, "plots/cpu-share.png");
    assert_memory_equal(png, "\x89PNG", 4);
    free(png);
    /* share: no summary figures (no cpu_share): drawn, NaN bars. */
    assert_true(exists(dir, "plots/share.svg"));
    tu_rmtree(dir);
    free(dir);
}

/* ---- CDFs of groups ------------------------------------------------------------------- */

/* g-0..g-2 (a group: derived, no summary) and solo. At each latency where
 * a curve steps, the values just before it, then at it; the group's
 * median and p5-p95 of its members' CDFs there. */
static void test_cdf_group(void **st)
{
    (void)st;
    char *dir = run_dir();
    /* No summary.json: the groups come from the timeline's names. */
    free(tu_write(dir, "timeline.csv", "t_s,domain,cpu_ns,cpu_share,entitled_share\n"
                                       "0.1,g-0,0,0,0\n0.1,g-1,0,0,0\n0.1,g-2,0,0,0\n"
                                       "0.1,solo,0,0,0\n"));
    free(tu_write(dir, "wakeup-latency.csv", "domain,latency_ns,cdf\n"
                                             "g-0,100,0.500000\ng-0,200,1.000000\n"
                                             "g-1,100,0.250000\ng-1,300,1.000000\n"
                                             "solo,150,1.000000\n"
                                             "g-2,300,1.000000\ng-2,200,0.500000\n"));
    struct queued q;
    queue_graphs(&q, dir);
    char *text = read_in(dir, "plots/wakeup-latency-cdf.csv");
    assert_string_equal(text, "latency_ns,g.cdf.median,g.cdf.p5,g.cdf.p95,solo.cdf\n"
                              "100,0.000000,0.000000,0.000000,0.000000\n"
                              "100,0.250000,0.025000,0.475000,0.000000\n"
                              "150,0.250000,0.025000,0.475000,0.000000\n"
                              "150,0.250000,0.025000,0.475000,1.000000\n"
                              "200,0.250000,0.025000,0.475000,1.000000\n"
                              "200,0.500000,0.275000,0.950000,1.000000\n"
                              "300,0.500000,0.275000,0.950000,1.000000\n"
                              "300,1.000000,1.000000,1.000000,1.000000\n");
    free(text);
    assert_non_null(strstr(vars_of(&q, "wakeup-latency-cdf"),
                           "domains='g solo'; counts='3 1'; cols='2 5'; "));
    queued_free(&q);
    tu_rmtree(dir);
    free(dir);
}

/* 2,000 domains each ending at its own maximum: the file keeps at most
 * about a thousand latencies (log-spaced), ending at the largest, where
 * every CDF is 1. */
static void test_cdf_many_latencies(void **st)
{
    (void)st;
    char *dir = run_dir();
    free(tu_write(dir, "timeline.csv", "t_s,domain,cpu_ns,cpu_share,entitled_share\n"));
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    fputs("domain,latency_ns,cdf\n", f);
    for (int i = 0; i < 2000; i++)
        fprintf(f, "r-%d,0,0.500000\nr-%d,%d,1.000000\n", i, i, 1000 + i);
    fclose(f);
    free(tu_write(dir, "wakeup-latency.csv", buf));
    free(buf);
    /* An old summary.json, names without groups: r-N are derived as one. */
    f = open_memstream(&buf, &len);
    fputs("{\"domains\": [{\"name\": \"r-0\"}", f);
    for (int i = 1; i < 2000; i++)
        fprintf(f, ", {\"name\": \"r-%d\"}", i);
    fputs("]}\n", f);
    fclose(f);
    free(tu_write(dir, "summary.json", buf));
    free(buf);
    struct queued q;
    queue_graphs(&q, dir);
    char *text = read_in(dir, "plots/wakeup-latency-cdf.csv");
    int rows = 0;
    for (const char *p = text; (p = strchr(p, '\n')); p++)
        rows++;
    assert_int_equal(rows, 1 + 2 * 1001);       /* header; 0 and 1,000 latencies, twice */
    assert_non_null(strstr(text, "\n0,0.500000,0.500000,0.500000\n1000,0.500000,"));
    assert_non_null(strstr(text, "\n2999,1.000000,1.000000,1.000000\n"));
    free(text);
    queued_free(&q);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_group),
        cmocka_unit_test(test_group_key),
        cmocka_unit_test(test_derive_groups),
        cmocka_unit_test(test_quantiles),
        cmocka_unit_test(test_quantiles_select),
        cmocka_unit_test(test_select),
        cmocka_unit_test(test_timeline_2000_domains_3_groups),
        cmocka_unit_test(test_timeline_groups_derived),
        cmocka_unit_test(test_draw_groups),
        cmocka_unit_test(test_cdf_group),
        cmocka_unit_test(test_cdf_many_latencies),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
