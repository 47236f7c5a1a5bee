/* test_compare.c — `fairvisor compare` on hand-written summary.json files:
 * the table's rows and compare.csv to the digit, --by group (medians and
 * sums), old files without `mode` or `group`, a domain missing from a run,
 * runs of different scenarios (said on stderr, still compared), bad usage
 * and unreadable input (exit 2, naming the file), and the charts. */
#include "testutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv/compare.h"

/* ---- fixtures -------------------------------------------------------------- */

struct fdom {
    const char *name, *group;       /* group NULL: an old file without it */
    double cpu, ent;
    long work, starv, wake_p99, wake_max;
    long tx, rx, net_p99, net_max;
    long reads, writes, blk_p99, blk_max;
};

static char *dom_json(const struct fdom *d)
{
    char *s = NULL, grp[128] = "";
    if (d->group)
        snprintf(grp, sizeof(grp), "\"group\": \"%s\", \"charged_ns\": 1000, ", d->group);
    if (asprintf(&s,
                 "{ \"name\": \"%s\", %s\"id\": 1, \"cpu_share\": %g, \"entitled_share\": %g,"
                 " \"wait_ns\": { \"p50\": 1, \"p99\": 30000000, \"max\": 40000000 },"
                 " \"wakeup_latency_ns\": { \"p50\": 0, \"p99\": %ld, \"max\": %ld },"
                 " \"work_units\": %ld, \"starvation_events\": %ld, \"backend_cpu_ns\": 0,"
                 " \"net\": { \"tx_pkts\": %ld, \"rx_pkts\": %ld, \"tx_bytes\": 0, \"rx_bytes\": 0,"
                 " \"drops\": 0, \"latency_ns\": { \"p50\": 0, \"p99\": %ld, \"max\": %ld } },"
                 " \"blk\": { \"reads\": %ld, \"writes\": %ld, \"bytes\": 0,"
                 " \"latency_ns\": { \"p50\": 0, \"p99\": %ld, \"max\": %ld } } }",
                 d->name, grp, d->cpu, d->ent, d->wake_p99, d->wake_max, d->work, d->starv,
                 d->tx, d->rx, d->net_p99, d->net_max, d->reads, d->writes, d->blk_p99,
                 d->blk_max) < 0)
        abort();
    return s;
}

/* dir/summary.json; `top` holds the top-level fields before "domains". */
static void write_summary(const char *dir, const char *top, const struct fdom *doms, int n)
{
    char *text = NULL, *p;
    if (asprintf(&text, "{ %s, \"domains\": [", top) < 0)
        abort();
    for (int i = 0; i < n; i++) {
        char *d = dom_json(&doms[i]);
        if (asprintf(&p, "%s%s\n%s", text, i ? "," : "", d) < 0)
            abort();
        free(text);
        free(d);
        text = p;
    }
    if (asprintf(&p, "%s] }\n", text) < 0)
        abort();
    free(text);
    free(tu_write(dir, "summary.json", p));
    free(p);
}

/* Run 1: an old summary (no mode, no group, no charged_ns): a net-echo
 * client, a disk user and a hog, credit. */
static const struct fdom run1[] = {
    { "web", NULL, 0.2, 0.25, 100, 3, 1000000, 2000000, 1000, 1000, 2500000, 3000000, 0, 0, 0, 0 },
    { "db", NULL, 0.3, 0.25, 50, 0, 500000, 600000, 0, 0, 0, 0, 300, 100, 4000000, 5000000 },
    { "hog", NULL, 0.5, 0.5, 1000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
};
/* Run 2: fair, performance mode; hog is not there, three replicas are. */
static const struct fdom run2[] = {
    { "web", "web", 0.25, 0.25, 200, 0, 1000000, 1000000, 2000, 2000, 1000000, 1500000, 0, 0, 0, 0 },
    { "db", "db", 0.25, 0.25, 60, 0, 700000, 700000, 0, 0, 0, 0, 600, 200, 2000000, 3000000 },
    { "rep-0", "rep", 0.1, 0.1, 10, 1, 1000000, 1000000, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "rep-1", "rep", 0.2, 0.1, 20, 0, 2000000, 2000000, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "rep-2", "rep", 0.3, 0.1, 30, 2, 4000000, 4000000, 0, 0, 0, 0, 0, 0, 0, 0 },
};
/* Run 3: another scenario, the real engine, interrupted. */
static const struct fdom run3[] = {
    { "web", "web", 0.5, 0.5, 7, 0, 0, 0, 10, 10, 3000000, 3000000, 0, 0, 0, 0 },
    { "solo", "solo", 0.5, 0.5, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
    { "flood", "flood", 0, 0.5, 5000, 0, 0, 0, 5000, 2, 0, 0, 0, 0, 0, 0 },
};

struct fx {
    char *a, *b, *c, *out;
};

static int setup(void **st)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->a = tu_tmpdir(), f->b = tu_tmpdir(), f->c = tu_tmpdir(), f->out = tu_tmpdir();
    write_summary(f->a, "\"scenario\": \"mix\", \"engine\": \"sim\", \"policy\": \"credit\","
                  " \"seed\": 1, \"duration_ns\": 2000000000, \"pcpus\": 2, \"complete\": true,"
                  " \"fairness\": { \"jain\": 0.9, \"min_normalized_share\": 0.8 },"
                  " \"starvation\": { \"threshold_ns\": 100000000, \"events\": 3 }", run1, 3);
    write_summary(f->b, "\"scenario\": \"mix\", \"engine\": \"sim\", \"policy\": \"fair\","
                  " \"mode\": \"performance\", \"chargeback\": true,"
                  " \"seed\": 1, \"duration_ns\": 2000000000, \"pcpus\": 2, \"complete\": true,"
                  " \"fairness\": { \"jain\": 0.75, \"min_normalized_share\": 1.0 }", run2, 5);
    write_summary(f->c, "\"scenario\": \"other\", \"engine\": \"real\", \"policy\": \"credit\","
                  " \"mode\": \"density\", \"duration_ns\": 1000000000, \"complete\": false,"
                  " \"fairness\": { \"jain\": 1, \"min_normalized_share\": 1 }", run3, 3);
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    struct fx *f = *st;
    tu_rmtree(f->a), tu_rmtree(f->b), tu_rmtree(f->c), tu_rmtree(f->out);
    free(f->a), free(f->b), free(f->c), free(f->out);
    free(f);
    return 0;
}

/* fairvisor compare ARGS... (NULL-terminated); its stdout and stderr. */
static int compare(char **out, char **err, ...)
{
    char *argv[32] = { "compare" };
    int argc = 1;
    va_list ap;
    va_start(ap, err);
    for (char *a; argc < 31 && (a = va_arg(ap, char *)); )
        argv[argc++] = a;
    va_end(ap);
    size_t ol, el;
    char *ob = NULL, *eb = NULL;
    FILE *o = open_memstream(&ob, &ol), *e = open_memstream(&eb, &el);
    assert_non_null(o);
    assert_non_null(e);
    int rc = fv_compare_main(argc, argv, o, e);
    fclose(o);
    fclose(e);
    print_message("%s%s", ob, eb);
    *out = ob;
    *err = eb;
    return rc;
}

static char *fmt(const char *f, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, f);
    if (vasprintf(&s, f, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

static char *read_in(const char *dir, const char *name)
{
    char *p = fmt("%s/%s", dir, name);
    char *s = tu_read(p, NULL);
    if (!s)
        fail_msg("missing %s", p);
    free(p);
    return s;
}

/* ---- the table and compare.csv ---------------------------------------------------- */

static void test_by_domain(void **st)
{
    struct fx *f = *st;
    char *out, *err;
    assert_int_equal(compare(&out, &err, f->a, f->b, "--out", f->out, "--no-plot", NULL), 0);
    char *want = fmt(
        "run 1: %s  scenario mix  policy credit  engine sim  mode density  2 s  complete\n"
        "run 2: %s  scenario mix  policy fair  engine sim  mode performance  2 s  complete\n"
        "                         norm share      p99 (ms)              work units/s            io/s                    starvation events\n"
        "domain  p99 of  io/s of       1       2          1          2           1           2           1           2         1         2\n"
        "web     rtt     rx pkts    0.80    1.00      2.500      1.000        50.0       100.0       500.0      1000.0         3         0\n"
        "db      blk     IOPS       1.20    1.00      4.000      2.000        25.0        30.0       200.0       400.0         0         0\n"
        "hog     wait    -          1.00       -     30.000          -       500.0           -           -           -         0         -\n"
        "rep-0   wakeup  -             -    1.00          -      1.000           -         5.0           -           -         -         1\n"
        "rep-1   wakeup  -             -    2.00          -      2.000           -        10.0           -           -         -         0\n"
        "rep-2   wakeup  -             -    3.00          -      4.000           -        15.0           -           -         -         2\n"
        "p99 of: rtt = network round trip, blk = disk request, wakeup = wake-up latency,\n"
        "        wait = runnable to running (a domain that never blocked)\n"
        "io/s of: rx pkts = packets received per second (tx pkts: sent, for a domain that\n"
        "        mostly sends), IOPS = disk requests per second\n"
        "fairness run 1: jain 0.900  min normalized share 0.80\n"
        "fairness run 2: jain 0.750  min normalized share 1.00\n"
        "table:  %s/compare.csv\n", f->a, f->b, f->out);
    assert_string_equal(out, want);
    assert_string_equal(err, "");           /* same scenario: nothing to say */
    char *csv = read_in(f->out, "compare.csv");
    char *want_csv = fmt(
        "run,dir,scenario,policy,engine,mode,domain,members,norm_share,p99_of,p99_ms,work_per_s,io_of,io_per_s,starvation_events\n"
        "1,%s,mix,credit,sim,density,web,1,0.800000,rtt,2.500000,50.000,rx pkts,500.000,3\n"
        "2,%s,mix,fair,sim,performance,web,1,1.000000,rtt,1.000000,100.000,rx pkts,1000.000,0\n"
        "1,%s,mix,credit,sim,density,db,1,1.200000,blk,4.000000,25.000,IOPS,200.000,0\n"
        "2,%s,mix,fair,sim,performance,db,1,1.000000,blk,2.000000,30.000,IOPS,400.000,0\n"
        "1,%s,mix,credit,sim,density,hog,1,1.000000,wait,30.000000,500.000,,,0\n"
        "2,%s,mix,fair,sim,performance,rep-0,1,1.000000,wakeup,1.000000,5.000,,,1\n"
        "2,%s,mix,fair,sim,performance,rep-1,1,2.000000,wakeup,2.000000,10.000,,,0\n"
        "2,%s,mix,fair,sim,performance,rep-2,1,3.000000,wakeup,4.000000,15.000,,,2\n",
        f->a, f->b, f->a, f->b, f->a, f->b, f->b, f->b);
    assert_string_equal(csv, want_csv);
    free(csv), free(want_csv), free(want), free(out), free(err);
}

/* Replicas as one row: median share and latency, summed rates and events;
 * an old file's domains are each their own group. */
static void test_by_group(void **st)
{
    struct fx *f = *st;
    char *out, *err;
    assert_int_equal(compare(&out, &err, f->a, f->b, "--by", "group", "--out", f->out,
                             "--no-plot", NULL), 0);
    assert_non_null(strstr(out, "\ngroup  p99 of  io/s of       1       2          1   "));
    assert_non_null(strstr(out,
        "\nrep    wakeup  -             -    2.00          -      2.000           -        30.0"
        "           -           -         -         3\n"));
    assert_non_null(strstr(out,
        "\nweb    rtt     rx pkts    0.80    1.00      2.500      1.000        50.0       100.0"
        "       500.0      1000.0         3         0\n"));
    assert_null(strstr(out, "rep-0"));
    char *csv = read_in(f->out, "compare.csv");
    assert_non_null(strstr(csv, ",mode,group,members,"));
    char *row = fmt("\n2,%s,mix,fair,sim,performance,rep,3,2.000000,wakeup,2.000000,30.000,,,3\n",
                    f->b);
    assert_non_null(strstr(csv, row));
    free(row), free(csv), free(out), free(err);
}

static void test_different_scenarios(void **st)
{
    struct fx *f = *st;
    char *out, *err;
    assert_int_equal(compare(&out, &err, f->a, f->c, "--out", f->out, "--no-plot", NULL), 0);
    assert_string_equal(err, "fairvisor compare: warning: the runs are of different scenarios: "
                             "mix (run 1), other (run 2); domains are matched by name\n");
    char *hdr = fmt("run 2: %s  scenario other  policy credit  engine real  mode density  1 s  "
                    "INCOMPLETE\n", f->c);
    assert_non_null(strstr(out, hdr));
    /* web in both: rx 10 in 1 s; solo only in run 2 */
    assert_non_null(strstr(out, "\nweb     rtt     rx pkts    0.80    1.00      2.500      3.000"
                                "        50.0         7.0       500.0        10.0         3         0\n"));
    assert_non_null(strstr(out, "\nsolo    wait    -             -    1.00          -     30.000"));
    /* a sender's rate is what it sent; no CPU at all is a share of 0 */
    assert_non_null(strstr(out, "\nflood   wait    tx pkts       -    0.00          -     30.000"
                                "           -      5000.0           -      5000.0         -         0\n"));
    free(hdr), free(out), free(err);
}

/* ---- bad input ------------------------------------------------------------------------ */

static void expect_bad(const char *what, const char *msg, int rc, char *out, char *err)
{
    if (rc != 2 || !strstr(err, msg))
        fail_msg("%s: exit %d (expected 2 and \"%s\"):\n%s", what, rc, msg, err);
    assert_null(strstr(out, "table:"));     /* nothing written */
    free(out);
    free(err);
}

static void test_bad_input(void **st)
{
    struct fx *f = *st;
    char *out, *err, *msg;
    int rc = compare(&out, &err, f->a, "/nonexistent-fv-dir", "--no-plot", NULL);
    expect_bad("missing dir", "fairvisor compare: /nonexistent-fv-dir: No such file or directory",
               rc, out, err);

    char *empty = tu_tmpdir();
    rc = compare(&out, &err, f->a, empty, "--no-plot", NULL);
    msg = fmt("%s/summary.json: cannot read it: No such file or directory (is %s a results "
              "directory?)", empty, empty);
    expect_bad("no summary", msg, rc, out, err);
    free(msg);

    free(tu_write(empty, "summary.json", "{ \"scenario\": \"mix\",\n  \"domains\": [ { \"name\": \"x\" }\n"));
    rc = compare(&out, &err, f->a, empty, "--no-plot", NULL);
    msg = fmt("fairvisor compare: %s/summary.json:3:", empty);
    expect_bad("broken JSON", msg, rc, out, err);
    free(msg);

    free(tu_write(empty, "summary.json", "{ \"domains\": [ { \"name\": \"x\", \"cpu_share\": \"lots\" } ] }"));
    rc = compare(&out, &err, empty, "--no-plot", NULL);
    msg = fmt("%s/summary.json: domains[0].cpu_share: expected a number", empty);
    expect_bad("wrong type", msg, rc, out, err);
    free(msg);

    free(tu_write(empty, "summary.json", "{ \"domains\": [ { \"name\": \"x\", \"net\": { \"latency_ns\": [] } } ] }"));
    rc = compare(&out, &err, empty, "--no-plot", NULL);
    msg = fmt("%s/summary.json: domains[0].net.latency_ns: expected an object", empty);
    expect_bad("wrong nested type", msg, rc, out, err);
    free(msg);

    free(tu_write(empty, "summary.json", "{ \"scenario\": \"mix\" }"));
    rc = compare(&out, &err, empty, "--no-plot", NULL);
    msg = fmt("%s/summary.json: domains: missing", empty);
    expect_bad("no domains", msg, rc, out, err);
    free(msg);

    char *file = fmt("%s/summary.json", empty);
    rc = compare(&out, &err, file, "--no-plot", NULL);
    msg = fmt("%s: not a directory", file);
    expect_bad("a file", msg, rc, out, err);
    free(msg), free(file);

    rc = compare(&out, &err, NULL);
    expect_bad("no dirs", "expected one or more results directories", rc, out, err);
    rc = compare(&out, &err, f->a, "--by", "vm", NULL);
    expect_bad("--by vm", "--by vm: expected domain or group", rc, out, err);
    rc = compare(&out, &err, f->a, "--frobnicate", NULL);
    expect_bad("unknown option", "unknown option --frobnicate", rc, out, err);
    rc = compare(&out, &err, f->a, "--out", "", NULL);
    expect_bad("empty --out", "--out needs a value", rc, out, err);
    rc = compare(&out, &err, f->a, "--out", NULL);
    expect_bad("--out without value", "--out needs a value", rc, out, err);
    rc = compare(&out, &err, f->a, "", NULL);
    expect_bad("empty DIR", "DIR 2 is an empty string", rc, out, err);
    assert_int_equal(compare(&out, &err, "--help", NULL), 0);
    assert_non_null(strstr(out, "usage: fairvisor compare DIR..."));
    free(out), free(err);
    tu_rmtree(empty);
    free(empty);
}

/* Without --out: results/compare/<UTC time>/ under the working directory,
 * a second one in the same second gets its own. */
static void test_default_out_dir(void **st)
{
    struct fx *f = *st;
    char *cwd = getcwd(NULL, 0), *tmp = tu_tmpdir(), *out, *err, *out2, *err2;
    assert_int_equal(chdir(tmp), 0);
    assert_int_equal(compare(&out, &err, f->a, "--no-plot", NULL), 0);
    assert_int_equal(compare(&out2, &err2, f->a, "--no-plot", NULL), 0);
    assert_int_equal(chdir(cwd), 0);
    char *p = strstr(out, "table:  results/compare/"), *p2 = strstr(out2, "table:  results/compare/");
    assert_non_null(p);
    assert_non_null(p2);
    assert_string_not_equal(p, p2);
    char *csv = fmt("%s/%.*s", tmp, (int)strcspn(p + 8, "\n"), p + 8);
    assert_true(access(csv, R_OK) == 0);
    free(csv), free(out), free(err), free(out2), free(err2);
    tu_rmtree(tmp);
    free(tmp), free(cwd);
}

/* ---- charts --------------------------------------------------------------------------- */

static void assert_starts(const char *dir, const char *name, const char *magic, const char *has)
{
    char *s = read_in(dir, name);
    assert_memory_equal(s, magic, strlen(magic));
    if (has)
        assert_non_null(strstr(s, has));
    free(s);
}

static void test_charts(void **st)
{
    struct fx *f = *st;
    if (tu_run("command -v gnuplot", NULL) != 0)
        TU_SKIP("gnuplot not installed: the charts are not checked (tools/deps installs it)");
    char *out, *err;
    assert_int_equal(compare(&out, &err, f->a, f->b, f->c, "--out", f->out, NULL), 0);
    char *where = fmt("graphs: %s/compare-share.png, compare-p99.png, compare-throughput.png "
                      "(and .svg)\n", f->out);
    assert_non_null(strstr(out, where));
    static const char *const charts[] = { "compare-share", "compare-p99", "compare-throughput" };
    for (int i = 0; i < 3; i++) {
        char *png = fmt("%s.png", charts[i]), *svg = fmt("%s.svg", charts[i]);
        assert_starts(f->out, png, "\x89PNG", NULL);
        /* the legend names each run's policy and mode (and engine: they differ) */
        assert_starts(f->out, svg, "<?xml", "2: fair (performance) on sim");
        free(png), free(svg);
    }
    char *data = read_in(f->out, "compare-share.csv");
    assert_string_equal(data,
        "domain,1: credit (density) on sim,2: fair (performance) on sim,3: credit (density) on real\n"
        "web,0.8,1,1\ndb,1.2,1,NaN\nhog,1,NaN,NaN\nrep-0,NaN,1,NaN\nrep-1,NaN,2,NaN\n"
        "rep-2,NaN,3,NaN\nsolo,NaN,NaN,1\nflood,NaN,NaN,0\n");
    free(data);
    /* throughput: % of the highest run of the row (web: rx 500, 1000, 10 per s) */
    data = read_in(f->out, "compare-throughput.csv");
    assert_non_null(strstr(data, "\nweb (rx pkts/s),50,100,1\n"));
    assert_non_null(strstr(data, "\nhog (work units/s),100,NaN,NaN\n"));
    assert_non_null(strstr(data, "\nflood (tx pkts/s),NaN,NaN,100\n"));
    free(data);
    data = read_in(f->out, "compare-p99.csv");
    assert_non_null(strstr(data, "\ndb (blk),4,2,NaN\n"));
    free(data);
    char *cmd = fmt("ls %s | grep -c '\\.tmp$'", f->out), *ls = NULL;
    tu_run(cmd, &ls);
    assert_string_equal(ls, "0\n");
    free(ls), free(cmd), free(where), free(out), free(err);
}

/* A template gnuplot refuses: exit 1, naming the chart, in gnuplot's words. */
static void test_chart_failure(void **st)
{
    struct fx *f = *st;
    if (tu_run("command -v gnuplot", NULL) != 0)
        TU_SKIP("gnuplot not installed");
    char *tdir = tu_tmpdir(), *out, *err;
    free(tu_write(tdir, "compare-share.gp", "set print '-'\nprint 'share template refuses: xyzzy'\n"
                                            "exit status 1\n"));
    char *old = getenv("FV_GNUPLOT_DIR") ? strdup(getenv("FV_GNUPLOT_DIR")) : NULL;
    setenv("FV_GNUPLOT_DIR", tdir, 1);
    int rc = compare(&out, &err, f->a, f->b, "--out", f->out, NULL);
    if (old)
        setenv("FV_GNUPLOT_DIR", old, 1);
    else
        unsetenv("FV_GNUPLOT_DIR");
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "fairvisor compare: graphs failed: compare-share.svg: gnuplot "
                                "failed (exit status 1): share template refuses: xyzzy\n"));
    assert_non_null(strstr(out, "table:  "));     /* the table and CSV are kept */
    free(out), free(err), free(old);
    tu_rmtree(tdir);
    free(tdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_by_domain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_by_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_different_scenarios, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_out_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_charts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chart_failure, setup, teardown),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
