/* test_sweep.c — `fairvisor sweep`: the --vary grid, the --slo parser and
 * its evaluation on summary.json, the knee rule, sweep.csv, knees.csv and
 * grid.tsv, each on constructed inputs with exact expectations. The real
 * binary is test_e2e_sweep.c's. */
#include "testutil.h"
#include "hv/results.h"
#include "hv/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------------- */

static void axis_ok(const char *arg, struct sweep_axis *a)
{
    char err[1024] = "";
    if (sweep_axis_parse(arg, a, err, sizeof(err)))
        fail_msg("--vary %s: %s", arg, err);
}

static void axis_refused(const char *arg, const char *want)
{
    struct sweep_axis a;
    char err[4096] = "";
    assert_int_equal(sweep_axis_parse(arg, &a, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, want);
}

/* A grid of `vary` (NULL-terminated) x pols x repeats, seed 10. */
static void grid_init(struct sweep_grid *g, const char *const *vary, const char *pols,
                      int repeats, const char *slo)
{
    char err[4096] = "";
    memset(g, 0, sizeof(*g));
    g->scenario = strdup("/s/x.yaml");
    snprintf(g->name, sizeof(g->name), "x");
    for (; *vary; vary++)
        axis_ok(*vary, &g->axes[g->nkeys++]);
    if (sweep_grid_policies(g, pols, err, sizeof(err)))
        fail_msg("%s", err);
    g->repeats = repeats;
    g->seed = 10;
    if (slo) {
        g->has_slo = true;
        if (sweep_slo_parse(slo, &g->slo, err, sizeof(err)))
            fail_msg("%s", err);
    }
    if (sweep_grid_size(g, err, sizeof(err)))
        fail_msg("%s", err);
}

static char *memtext(const struct sweep_grid *g, const struct sweep_row *rows,
                     int (*fn)(const struct sweep_grid *, const struct sweep_row *, FILE *))
{
    char *buf = NULL;
    size_t len;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(fn(g, rows, m), 0);
    fclose(m);
    return buf;
}

/* Rows: ok, SLO values v[p] (NAN: the point is missing). */
static struct sweep_row *rows_of(const struct sweep_grid *g, const double *v)
{
    struct sweep_row *r = calloc((size_t)g->npoints, sizeof(*r));
    for (int p = 0; p < g->npoints; p++) {
        r[p].status = isnan(v[p]) ? SWEEP_MISSING : SWEEP_OK;
        r[p].slo = v[p];
        r[p].slo_ok = isnan(v[p]) ? -1 : sweep_slo_holds(&g->slo, v[p]);
    }
    return r;
}

static void knee_line(const struct sweep_grid *g, const struct sweep_row *rows, int s,
                      const char *want)
{
    struct sweep_knee k;
    char line[1024];
    sweep_knee(g, rows, s, &k);
    sweep_knee_line(g, &k, line, sizeof(line));
    assert_string_equal(line, want);
}

/* ---- the grid -------------------------------------------------------------------- */

static void test_vary_lists_and_ranges(void **st)
{
    (void)st;
    struct sweep_axis a;
    axis_ok("domains.flood.count=1..10:3", &a);
    assert_string_equal(a.key, "domains.flood.count");
    assert_int_equal(a.n, 4);
    assert_string_equal(a.vals[0], "1");
    assert_string_equal(a.vals[3], "10");
    assert_true(a.numeric);
    assert_true(a.x[2] == 7);
    sweep_axis_free(&a);

    axis_ok("k=-2..1", &a);
    assert_int_equal(a.n, 4);
    assert_string_equal(a.vals[0], "-2");
    sweep_axis_free(&a);

    axis_ok("k=5..5", &a);                          /* one value */
    assert_int_equal(a.n, 1);
    sweep_axis_free(&a);

    /* durations in their own order: the knee walks 500us, 1ms, 2ms */
    axis_ok("sched.tslice= 1ms, 500us ,2ms", &a);
    assert_int_equal(a.n, 3);
    assert_string_equal(a.vals[1], "500us");
    assert_true(a.numeric);
    assert_true(a.x[0] == 1e6 && a.x[1] == 5e5 && a.x[2] == 2e6);
    int order[3];
    sweep_axis_order(&a, order);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 0);
    assert_int_equal(order[2], 2);
    sweep_axis_free(&a);

    axis_ok("domains.client.workload.rate=10k,2000,0.5", &a);
    assert_true(a.numeric && a.x[0] == 10000 && a.x[2] == 0.5);
    sweep_axis_free(&a);

    /* words, or mixed kinds: the order given */
    axis_ok("netback.fairness=none,drr", &a);
    assert_false(a.numeric);
    assert_true(a.x[0] == 0 && a.x[1] == 1);
    sweep_axis_free(&a);
    axis_ok("k=4KiB,1ms", &a);
    assert_false(a.numeric);
    assert_true(a.x[1] == 1);
    sweep_axis_free(&a);
}

static void test_vary_errors(void **st)
{
    (void)st;
    axis_refused("domains.flood.count", "--vary domains.flood.count: no '=' (expected KEY=LIST "
                 "or KEY=A..B[:STEP], such as domains.flood.count=1..8 or "
                 "sched.tslice=1ms,10ms,30ms)");
    axis_refused("=1,2", "--vary =1,2: no key before '=' (expected KEY=LIST or KEY=A..B[:STEP], "
                 "such as domains.flood.count=1..8 or sched.tslice=1ms,10ms,30ms)");
    axis_refused("k=", "--vary k=: no values (expected KEY=LIST or KEY=A..B[:STEP], such as "
                 "domains.flood.count=1..8 or sched.tslice=1ms,10ms,30ms)");
    axis_refused("a b=1", "--vary a b=1: key \"a b\" is not a scenario path (expected steps of "
                 "letters, digits, _ or - joined by '.', such as domains.flood.count)");
    axis_refused("sched.policy=credit", "--vary sched.policy=credit: the policy is varied with "
                 "--policies P,Q");
    axis_refused("seed=1..3", "--vary seed=1..3: the seed is varied with --repeat R (repeat r "
                 "runs with the scenario's seed + r)");
    axis_refused("k=1ms..5ms", "--vary k=1ms..5ms: \"1ms\" is not an integer (A..B[:STEP] takes "
                 "integers; list values with units: 1ms,2ms,5ms)");
    axis_refused("k=1..", "--vary k=1..: \"\" is not an integer (A..B[:STEP] takes integers; "
                 "list values with units: 1ms,2ms,5ms)");
    axis_refused("k=5..1", "--vary k=5..1: 5 is above 1 (expected A <= B)");
    axis_refused("k=1..4:0", "--vary k=1..4:0: step 0 is not a positive integer (expected "
                 "A..B:STEP with STEP >= 1)");
    axis_refused("k=1..4:x", "--vary k=1..4:x: step \"x\" is not an integer (expected A..B:STEP "
                 "with STEP >= 1)");
    axis_refused("k=1..100000", "--vary k=1..100000: 100000 values (expected at most 10000)");
    axis_refused("k=1,,2", "--vary k=1,,2: value 2 is empty (expected comma-separated values "
                 "such as 1,2,4)");
    axis_refused("k=1,2,", "--vary k=1,2,: value 3 is empty (expected comma-separated values "
                 "such as 1,2,4)");
    axis_refused("k=1,2,1", "--vary k=1,2,1: value 1 is given twice (expected distinct values)");
    axis_refused("k=1k,1000", "--vary k=1k,1000: 1k and 1000 are the same value (expected "
                 "distinct values)");
    axis_refused("k=drr,none,drr", "--vary k=drr,none,drr: value drr is given twice (expected "
                 "distinct values)");
    axis_refused("k=a\tb", "--vary k=a\tb: value 1 has a control character (expected printable "
                 "values)");
}

static void test_policies(void **st)
{
    (void)st;
    struct sweep_grid g = { 0 };
    char err[1024] = "";
    assert_int_equal(sweep_grid_policies(&g, "credit, credit2", err, sizeof(err)), 0);
    assert_int_equal(g.npol, 2);
    assert_string_equal(g.policies[1], "credit2");
    sweep_grid_free(&g);
    assert_int_equal(sweep_grid_policies(&g, "credit,nope", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--policies credit,nope: policy 2 \"nope\" is not a policy "
                            "(expected distinct policies among: credit, credit2, rtds"));
    sweep_grid_free(&g);
    assert_int_equal(sweep_grid_policies(&g, "credit,credit", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--policies credit,credit: policy 2 \"credit\" is given twice"));
    sweep_grid_free(&g);
    assert_int_equal(sweep_grid_policies(&g, "credit,", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--policies credit,: policy 2 is empty (expected"));
    sweep_grid_free(&g);
}

static void test_points_and_argv(void **st)
{
    (void)st;
    static const char *const vary[] = { "a.b=1..3", "c=x,y", NULL };
    struct sweep_grid g;
    grid_init(&g, vary, "credit,credit2", 2, NULL);
    assert_int_equal(g.npoints, 3 * 2 * 2 * 2);
    for (int p = 0; p < g.npoints; p++) {
        int vi[SWEEP_MAX_KEYS], pol, rep;
        sweep_point(&g, p, vi, &pol, &rep);
        assert_int_equal(sweep_point_index(&g, vi, pol, rep), p);
    }
    int vi[SWEEP_MAX_KEYS], pol, rep;
    sweep_point(&g, 13, vi, &pol, &rep);        /* 13 = ((1*2 + 1)*2 + 0)*2 + 1 */
    assert_int_equal(vi[0], 1);
    assert_int_equal(vi[1], 1);
    assert_int_equal(pol, 0);
    assert_int_equal(rep, 1);
    g.sets = calloc(1, sizeof(char *));
    g.sets[g.nsets++] = strdup("duration=1s");
    char **argv = sweep_point_argv(&g, 13, "/bin/fv", "/d/runs/13");
    const char *want[] = { "/bin/fv", "run", "/s/x.yaml", "--out", "/d/runs/13", "--set",
                           "duration=1s", "--set", "a.b=2", "--set", "c=y", "--set",
                           "sched.policy=credit", "--seed", "11", "--quiet", "--no-plot", NULL };
    for (int i = 0; want[i]; i++)
        assert_string_equal(argv[i], want[i]);
    assert_null(argv[17]);
    sweep_argv_free(argv);
    assert_int_equal(sweep_series_count(&g), 4);
    char label[256];
    sweep_series_label(&g, 3, label, sizeof(label));
    assert_string_equal(label, "credit2 c=y");
    sweep_grid_free(&g);

    static const char *const big[] = { "a=1..1000", "b=1..200", NULL };
    memset(&g, 0, sizeof(g));
    char err[256];
    for (int k = 0; big[k]; k++)
        axis_ok(big[k], &g.axes[g.nkeys++]);
    sweep_grid_policies(&g, "credit", err, sizeof(err));
    g.repeats = 1;
    assert_int_equal(sweep_grid_size(&g, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "the grid has 200000 points (expected at most 100000: fewer "
                        "values, policies or repeats)");
    sweep_grid_free(&g);
}

/* ---- the SLO ------------------------------------------------------------------------ */

static void slo_refused(const char *text, const char *want)
{
    struct sweep_slo s;
    char err[4096] = "";
    assert_int_equal(sweep_slo_parse(text, &s, err, sizeof(err)), -EINVAL);
    if (strncmp(err, want, strlen(want)))
        fail_msg("got  %s\nwant %s...", err, want);
}

static void test_slo_parse(void **st)
{
    (void)st;
    struct sweep_slo s;
    char err[4096] = "";
    assert_int_equal(sweep_slo_parse("victim.net.latency_ns.p99<1ms", &s, err, sizeof(err)), 0);
    assert_string_equal(s.name, "victim");
    assert_string_equal(s.field, "net.latency_ns.p99");
    assert_int_equal(s.op, SWEEP_LT);
    assert_int_equal(s.unit, SWEEP_UNIT_NS);
    assert_true(s.threshold == 1e6);
    assert_int_equal(sweep_slo_parse("web.1.cpu_share >= 0.25", &s, err, sizeof(err)), 0);
    assert_string_equal(s.name, "web.1");               /* names may hold dots */
    assert_int_equal(s.op, SWEEP_GE);
    assert_int_equal(s.unit, SWEEP_UNIT_NUMBER);
    assert_true(s.threshold == 0.25);
    assert_int_equal(sweep_slo_parse("db.blk.bytes>4MiB", &s, err, sizeof(err)), 0);
    assert_int_equal(s.unit, SWEEP_UNIT_BYTES);
    assert_true(s.threshold == 4194304);
    assert_int_equal(sweep_slo_parse("db.work_units<=10k", &s, err, sizeof(err)), 0);
    assert_int_equal(s.op, SWEEP_LE);
    assert_true(s.threshold == 10000);
    assert_int_equal(sweep_slo_parse("d.starvation_by_resource.net.starved_ns>1s", &s, err,
                                     sizeof(err)), 0);
    assert_int_equal(s.unit, SWEEP_UNIT_NS);

    slo_refused("victim.cpu_share", "--slo victim.cpu_share: no comparison (expected "
                "NAME.FIELD<VALUE such as victim.net.latency_ns.p99<1ms; also <=, > and >=)");
    slo_refused("victim<1", "--slo victim<1: \"victim\" is not NAME.FIELD (expected");
    slo_refused("victim.net.latency_ns.p98<1ms", "--slo victim.net.latency_ns.p98<1ms: unknown "
                "field \"net.latency_ns.p98\" (expected one of: cpu_share, entitled_share, ");
    slo_refused("victim.net.latency_ns.p99<1", "--slo victim.net.latency_ns.p99<1: \"1\" is not "
                "a duration (net.latency_ns.p99 is in nanoseconds: expected a number with ns, "
                "us, ms or s, such as 1ms)");
    slo_refused("victim.cpu_share<1ms", "--slo victim.cpu_share<1ms: \"1ms\" is not a number "
                "(cpu_share is a plain number: expected such as 0.5 or 10k)");
    slo_refused("victim.cpu_share<", "--slo victim.cpu_share<: no value after the comparison");
    slo_refused("v.blk.bytes<1ms", "--slo v.blk.bytes<1ms: \"1ms\" is not a size (blk.bytes "
                "counts bytes: expected a number, or one with B, KiB, MiB, GiB or TiB)");
}

static json_t *summary_of(void)
{
    json_error_t e;
    json_t *j = json_loads(
        "{\"duration_ns\": 2000000000, \"fairness\": {\"jain\": 0.5},"
        " \"domains\": ["
        "  {\"name\": \"victim\", \"id\": 1, \"group\": \"victim\", \"work_units\": 10,"
        "   \"net\": {\"rx_bytes\": 1000, \"latency_ns\": {\"p99\": 900000}}, \"blk\": {\"bytes\": 0}},"
        "  {\"name\": \"flood-0\", \"id\": 2, \"group\": \"flood\", \"work_units\": 0,"
        "   \"net\": {\"rx_bytes\": 0, \"latency_ns\": {\"p99\": 5}}, \"blk\": {\"bytes\": 4096}},"
        "  {\"name\": \"flood-1\", \"id\": 3, \"group\": \"flood\", \"work_units\": 0,"
        "   \"net\": {\"rx_bytes\": 0, \"latency_ns\": {\"p99\": 7}}, \"blk\": {\"bytes\": 4096}},"
        "  {\"name\": \"old-0\", \"id\": 4, \"work_units\": 1, \"cpu_share\": 0.5,"
        "   \"net\": {\"rx_bytes\": 0}, \"blk\": {\"bytes\": 0}},"
        "  {\"name\": \"old-1\", \"id\": 5, \"work_units\": 1, \"cpu_share\": 0.25,"
        "   \"net\": {\"rx_bytes\": 0}, \"blk\": {\"bytes\": 0}},"
        "  {\"name\": \"Domain-0\", \"id\": 0, \"work_units\": 1000,"
        "   \"net\": {\"rx_bytes\": 99999}, \"blk\": {\"bytes\": 0}}]}", 0, &e);
    if (!j)
        fail_msg("%s", e.text);
    return j;
}

static double slo_value(const char *text, int want_rc)
{
    struct sweep_slo s;
    char err[1024];
    double v = NAN;
    assert_int_equal(sweep_slo_parse(text, &s, err, sizeof(err)), 0);
    json_t *j = summary_of();
    assert_int_equal(sweep_slo_value(&s, j, &v), want_rc);
    json_decref(j);
    return v;
}

static void test_slo_value(void **st)
{
    (void)st;
    assert_true(slo_value("victim.net.latency_ns.p99<1ms", 0) == 900000);
    /* a group's worst member: the largest for <, the smallest for > */
    assert_true(slo_value("flood.net.latency_ns.p99<1ms", 0) == 7);
    assert_true(slo_value("flood.net.latency_ns.p99>=1ns", 0) == 5);
    /* no `group` field (an older summary): NAME-<digits> */
    assert_true(slo_value("old.cpu_share<=1", 0) == 0.5);
    assert_true(slo_value("old.cpu_share>0", 0) == 0.25);
    assert_true(slo_value("flood-1.net.latency_ns.p99<1ms", 0) == 7);
    slo_value("nosuch.cpu_share<1", -ENOENT);
    slo_value("fl.cpu_share<1", -ENOENT);
    slo_value("victim.cpu_share<1", -EINVAL);           /* not in this summary */

    struct sweep_slo s;
    char err[256];
    sweep_slo_parse("a.cpu_share<0.5", &s, err, sizeof(err));
    assert_true(sweep_slo_holds(&s, 0.49) && !sweep_slo_holds(&s, 0.5));
    sweep_slo_parse("a.cpu_share<=0.5", &s, err, sizeof(err));
    assert_true(sweep_slo_holds(&s, 0.5) && !sweep_slo_holds(&s, 0.51));
    sweep_slo_parse("a.cpu_share>0.5", &s, err, sizeof(err));
    assert_true(sweep_slo_holds(&s, 0.51) && !sweep_slo_holds(&s, 0.5));
    sweep_slo_parse("a.cpu_share>=0.5", &s, err, sizeof(err));
    assert_true(sweep_slo_holds(&s, 0.5) && !sweep_slo_holds(&s, 0.49));

    /* the row: rates over the guests (never Domain-0) per second */
    static const char *const vary[] = { "k=1", NULL };
    struct sweep_grid g;
    grid_init(&g, vary, "credit", 1, "flood.net.latency_ns.p99<6ns");
    json_t *j = summary_of();
    struct sweep_row r;
    sweep_row_from_summary(&g, j, &r);
    assert_true(r.net_rx == 500 && r.blk == 4096 && r.work == 6);
    assert_true(r.thr == 500 + 4096 + 6 && r.jain == 0.5);
    assert_true(r.slo == 7);
    assert_int_equal(r.slo_ok, 0);
    json_decref(j);
    sweep_grid_free(&g);
}

static void test_slo_check_scenario(void **st)
{
    (void)st;
    struct scenario scn;
    char err[2048] = "";
    const char *yaml = "name: t\nduration: 1s\ndomains:\n  - name: victim\n"
                       "  - name: flood\n    count: 3\n  - name: sink\n";
    if (scenario_load_string("t.yaml", yaml, NULL, 0, &scn, err, sizeof(err)))
        fail_msg("%s", err);
    struct sweep_slo s;
    sweep_slo_parse("flood.cpu_share<1", &s, err, sizeof(err));
    assert_int_equal(sweep_slo_check(&s, &scn, err, sizeof(err)), 0);
    sweep_slo_parse("flood-2.cpu_share<1", &s, err, sizeof(err));
    assert_int_equal(sweep_slo_check(&s, &scn, err, sizeof(err)), 0);
    sweep_slo_parse("victim.cpu_share<1", &s, err, sizeof(err));
    assert_int_equal(sweep_slo_check(&s, &scn, err, sizeof(err)), 0);
    sweep_slo_parse("vict.cpu_share<1", &s, err, sizeof(err));
    assert_int_equal(sweep_slo_check(&s, &scn, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "--slo vict.cpu_share<1: no domain or group \"vict\" in scenario t "
                        "(expected one of: victim, flood (group of 3), sink)");
    scenario_free(&scn);
}

/* ---- the knee ------------------------------------------------------------------------ */

static void test_knee_rule(void **st)
{
    (void)st;
    /* values given out of order: the knee walks 1, 2, 4, 8 */
    static const char *const vary[] = { "domains.flood.count=4,1,8,2", NULL };
    struct sweep_grid g;
    grid_init(&g, vary, "credit,fair", 1, "victim.net.latency_ns.p99<1ms");
    /* points: (4,credit) (4,fair) (1,c) (1,f) (8,c) (8,f) (2,c) (2,f) */
    const double v[] = { 2e6, 5e5, 5e5, 5e5, 3e6, 9e5, 9.9e5, 6e5 };
    struct sweep_row *rows = rows_of(&g, v);
    knee_line(&g, rows, 0, "knee credit: domains.flood.count=2 (SLO breaks at 4)");
    knee_line(&g, rows, 1, "knee fair: never breaks (domains.flood.count up to 8)");
    rows[2].slo = 1e6;                                  /* < is strict */
    knee_line(&g, rows, 0, "knee credit: breaks at the first point (domains.flood.count=1)");
    rows[2].slo = 5e5;
    rows[4].slo = 1;            /* holds again at 8: the knee stays below the first break */
    knee_line(&g, rows, 0, "knee credit: domains.flood.count=2 (SLO breaks at 4)");
    rows[7].status = SWEEP_MISSING;
    knee_line(&g, rows, 1, "knee fair: domains.flood.count=1 (no finished run at 2)");
    rows[3].status = SWEEP_FAILED;
    knee_line(&g, rows, 1, "knee fair: unknown, no finished run at the first point "
              "(domains.flood.count=1)");
    rows[3].status = SWEEP_OK;
    rows[3].slo = NAN;                              /* a run without the field: no hold */
    knee_line(&g, rows, 1, "knee fair: breaks at the first point (domains.flood.count=1)");
    free(rows);
    sweep_grid_free(&g);
}

static void test_knee_median_over_repeats(void **st)
{
    (void)st;
    static const char *const vary[] = { "k=1..3", NULL };
    struct sweep_grid g;
    grid_init(&g, vary, "credit", 3, "d.cpu_share>0.5");
    /* k=1: 0.9 0.1 0.8 (median 0.8 holds despite an outlier); k=2: 0.6
     * 0.2 0.3 (median 0.3 breaks) */
    const double v[] = { 0.9, 0.1, 0.8, 0.6, 0.2, 0.3, 0.9, 0.9, 0.9 };
    struct sweep_row *rows = rows_of(&g, v);
    knee_line(&g, rows, 0, "knee credit: k=1 (SLO breaks at 2)");
    rows[4].status = SWEEP_MISSING;                     /* median of 0.6 0.3: 0.45 */
    knee_line(&g, rows, 0, "knee credit: k=1 (SLO breaks at 2)");
    rows[5].slo = 0.5;                                  /* median of 0.6 0.5: 0.55 */
    knee_line(&g, rows, 0, "knee credit: never breaks (k up to 3)");
    double m[] = { 3, 1, 2, 10 };
    assert_true(results_median(m, 4) == 2.5);
    assert_true(results_median(m, 3) == 2);
    assert_true(isnan(results_median(m, 0)));
    free(rows);
    sweep_grid_free(&g);
}

/* ---- the files ------------------------------------------------------------------------ */

static void test_csv(void **st)
{
    (void)st;
    static const char *const vary[] = { "domains.flood.count=1,2", "sched.tslice=1ms,30ms", NULL };
    struct sweep_grid g;
    grid_init(&g, vary, "credit", 1, "victim.net.latency_ns.p99<1ms");
    struct sweep_row rows[4] = {
        { SWEEP_OK, 900000, 1000.5, 0, 12, 1012.5, 0.75, 1 },
        { SWEEP_FAILED, NAN, 0, 0, 0, 0, 0, -1 },
        { SWEEP_MISSING, NAN, 0, 0, 0, 0, 0, -1 },
        { SWEEP_OK, 2000000, 1.0 / 3, 4096, 0, 4096 + 1.0 / 3, 1, 0 },
    };
    char *csv = memtext(&g, rows, sweep_write_csv);
    assert_string_equal(csv,
        "point,domains.flood.count,sched.tslice,policy,repeat,seed,status,"
        "victim.net.latency_ns.p99,net_rx_bytes_per_s,blk_bytes_per_s,work_units_per_s,"
        "throughput,jain,slo_ok\n"
        "0,1,1ms,credit,0,10,ok,900000,1000.5,0,12,1012.5,0.75,1\n"
        "1,1,30ms,credit,0,10,failed,,,,,,,\n"
        "2,2,1ms,credit,0,10,missing,,,,,,,\n"
        "3,2,30ms,credit,0,10,ok,2000000,0.333333333333,4096,0,4096.33333333,1,0\n");
    free(csv);
    char *knees = memtext(&g, rows, sweep_write_knees_csv);
    assert_string_equal(knees,
        "policy,others,key,knee,breaks_at,reason\n"
        "credit,sched.tslice=1ms,domains.flood.count,1,2,missing\n"
        "credit,sched.tslice=30ms,domains.flood.count,,1,missing\n");
    free(knees);
    g.has_slo = false;
    csv = memtext(&g, rows, sweep_write_csv);
    assert_non_null(strstr(csv, ",status,slo_value,net_rx"));
    free(csv);
    knees = memtext(&g, rows, sweep_write_knees_csv);
    assert_string_equal(knees, "policy,others,key,knee,breaks_at,reason\n");
    free(knees);
    sweep_grid_free(&g);
}

static void test_grid_tsv_round_trip(void **st)
{
    (void)st;
    static const char *const vary[] = { "domains.flood.count=1..3:2", "sched.tslice=1ms,5ms",
                                        NULL };
    struct sweep_grid g, back;
    grid_init(&g, vary, "credit,credit2", 2, "flood.wakeup_latency_ns.p99<=2ms");
    g.sets = calloc(1, sizeof(char *));
    g.sets[g.nsets++] = strdup("duration=300ms");
    char *dir = tu_tmpdir(), path[512], err[1024] = "";
    snprintf(path, sizeof(path), "%s/grid.tsv", dir);
    FILE *f = fopen(path, "w");
    assert_int_equal(sweep_grid_write_tsv(&g, f), 0);
    fclose(f);
    assert_int_equal(sweep_grid_read_tsv(path, &back, err, sizeof(err)), 0);
    assert_string_equal(back.scenario, "/s/x.yaml");
    assert_int_equal(back.npoints, g.npoints);
    assert_int_equal(back.npoints, 2 * 2 * 2 * 2);
    assert_int_equal(back.repeats, 2);
    assert_true(back.seed == 10);
    assert_string_equal(back.axes[0].vals[1], "3");
    assert_string_equal(back.policies[1], "credit2");
    assert_string_equal(back.sets[0], "duration=300ms");
    assert_string_equal(back.slo.text, "flood.wakeup_latency_ns.p99<=2ms");
    char *text = tu_read(path, NULL);
    assert_non_null(strstr(text, "\npoint\tdomains.flood.count\tsched.tslice\tpolicy\trepeat\tseed\n"
                                 "0\t1\t1ms\tcredit\t0\t10\n1\t1\t1ms\tcredit\t1\t11\n"));
    /* a row that no longer matches its # lines is refused */
    char *bad = strstr(text, "1\t1\t1ms\tcredit\t1\t11");
    bad[5] = '9';
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    sweep_grid_free(&back);
    assert_int_equal(sweep_grid_read_tsv(path, &back, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "grid.tsv:13: point row 1 does not match the grid of the # "
                                "lines (was the file edited?)"));
    free(text);
    sweep_grid_free(&g);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vary_lists_and_ranges),
        cmocka_unit_test(test_vary_errors),
        cmocka_unit_test(test_policies),
        cmocka_unit_test(test_points_and_argv),
        cmocka_unit_test(test_slo_parse),
        cmocka_unit_test(test_slo_value),
        cmocka_unit_test(test_slo_check_scenario),
        cmocka_unit_test(test_knee_rule),
        cmocka_unit_test(test_knee_median_over_repeats),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_grid_tsv_round_trip),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
