/* test_e2e_cli.c — the fairvisor binary as a user runs it: results
 * directory contents, graphs, determinism across runs, the resolved
 * scenario re-running identically, exit statuses. */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *bin(void)
{
    const char *b = getenv("FV_BIN");
    return b ? b : "build/fairvisor";
}

static int fv(const char *args, char **out)
{
    char *cmd = NULL;
    if (asprintf(&cmd, "cd %s && %s %s", tu_src(""), bin(), args) < 0)
        abort();
    int rc = tu_run(cmd, out);
    free(cmd);
    return rc;
}

static char *path(const char *dir, const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        abort();
    return p;
}

static void run_into(const char *scn, const char *dir, const char *extra)
{
    char *args = NULL, *out = NULL;
    if (asprintf(&args, "run %s --out %s %s", scn, dir, extra) < 0)
        abort();
    int rc = fv(args, &out);
    if (rc != 0)
        fail_msg("fairvisor %s -> %d\n%s", args, rc, out);
    free(args);
    free(out);
}

static void assert_file_starts(const char *dir, const char *name, const char *magic, const char *has)
{
    char *p = path(dir, name);
    size_t len = 0;
    char *data = tu_read(p, &len);
    if (!data)
        fail_msg("missing %s", p);
    assert_true(len > 100);
    if (magic)
        assert_memory_equal(data, magic, strlen(magic));
    if (has)
        assert_non_null(strstr(data, has));
    free(data);
    free(p);
}

static void test_results_and_graphs(void **st)
{
    (void)st;
    char *dir = tu_tmpdir();
    char *out = NULL;
    char *args = NULL;
    if (asprintf(&args, "run scenarios/latency-vs-hogs.yaml --out %s", dir) < 0)
        abort();
    int rc = fv(args, &out);
    if (rc)
        fail_msg("exit %d: %s", rc, out);
    assert_non_null(strstr(out, "probe"));              /* the summary table */
    assert_non_null(strstr(out, "summary.json"));
    assert_file_starts(dir, "summary.json", "{", "\"wakeup_latency_ns\"");
    assert_file_starts(dir, "timeline.csv", "t_s,", NULL);
    assert_file_starts(dir, "scenario.yaml", NULL, "latency-vs-hogs");
    /* gnuplot is installed by tools/deps and CI checks the graphs: without
     * it the test fails (it used to pass without looking at them). */
    if (tu_run("command -v gnuplot", NULL) != 0)
        fail_msg("gnuplot not found (tools/deps installs gnuplot-nox): graphs not drawn");
    {
        assert_file_starts(dir, "plots/cpu-share.png", "\x89PNG", NULL);
        assert_file_starts(dir, "plots/wakeup-latency-cdf.png", "\x89PNG", NULL);
        assert_file_starts(dir, "plots/cpu-share.svg", NULL, "<svg");
        assert_file_starts(dir, "plots/wakeup-latency-cdf.svg", NULL, "<svg");
        /* plot DIR redraws */
        char *p = path(dir, "plots/cpu-share.png");
        unlink(p);
        free(args);
        if (asprintf(&args, "plot %s", dir) < 0)
            abort();
        assert_int_equal(fv(args, NULL), 0);
        assert_file_starts(dir, "plots/cpu-share.png", "\x89PNG", NULL);
        free(p);
    }
    json_t *j = tu_summary(dir);
    assert_string_equal(json_string_value(json_object_get(j, "engine")), "sim");
    assert_string_equal(json_string_value(json_object_get(j, "policy")), "credit");
    assert_true(json_is_true(json_object_get(j, "complete")));
    assert_int_equal(json_integer_value(json_object_get(j, "duration_ns")), 10000000000LL);
    assert_int_equal(json_array_size(json_object_get(j, "domains")), 4);
    json_decref(j);
    free(args);
    free(out);
    assert_int_equal(tu_rmtree(dir), 0);
    free(dir);
}

static int same_json_field(json_t *a, json_t *b, const char *key)
{
    return json_equal(json_object_get(a, key), json_object_get(b, key));
}

static void test_seed_determinism(void **st)
{
    (void)st;
    char *d1 = tu_tmpdir(), *d2 = tu_tmpdir(), *d3 = tu_tmpdir();
    run_into("tests/data/bursty.yaml", d1, "--no-plot");
    run_into("tests/data/bursty.yaml", d2, "--no-plot");
    run_into("tests/data/bursty.yaml", d3, "--no-plot --seed 43");
    json_t *a = tu_summary(d1), *b = tu_summary(d2), *c = tu_summary(d3);
    assert_true(same_json_field(a, b, "domains"));
    assert_true(same_json_field(a, b, "fairness"));
    assert_false(same_json_field(a, c, "domains"));
    char *t1 = path(d1, "timeline.csv"), *t2 = path(d2, "timeline.csv"), *t3 = path(d3, "timeline.csv");
    char *x1 = tu_read(t1, NULL), *x2 = tu_read(t2, NULL), *x3 = tu_read(t3, NULL);
    assert_string_equal(x1, x2);
    assert_string_not_equal(x1, x3);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    free(x1), free(x2), free(x3), free(t1), free(t2), free(t3);
    assert_int_equal(tu_rmtree(d1) | tu_rmtree(d2) | tu_rmtree(d3), 0);
    free(d1), free(d2), free(d3);
}

/* The resolved scenario.yaml a run writes runs again to the same figures. */
static void test_resolved_scenario_reruns(void **st)
{
    (void)st;
    char *d1 = tu_tmpdir(), *d2 = tu_tmpdir();
    run_into("scenarios/cpu-cap.yaml", d1, "--no-plot --set duration=2s");
    char *resolved = path(d1, "scenario.yaml");
    run_into(resolved, d2, "--no-plot");
    json_t *a = tu_summary(d1), *b = tu_summary(d2);
    assert_true(same_json_field(a, b, "domains"));
    assert_true(same_json_field(a, b, "scenario"));
    json_decref(a);
    json_decref(b);
    free(resolved);
    assert_int_equal(tu_rmtree(d1) | tu_rmtree(d2), 0);
    free(d1), free(d2);
}

static void test_exit_statuses(void **st)
{
    (void)st;
    char *out = NULL;
    assert_int_equal(fv("", NULL), 2);
    assert_int_equal(fv("frobnicate", NULL), 2);
    assert_int_equal(fv("--help", NULL), 0);
    assert_int_equal(fv("run --help", NULL), 0);
    assert_int_equal(fv("run", NULL), 2);
    assert_int_equal(fv("run /nonexistent.yaml", &out), 2);
    assert_non_null(strstr(out, "/nonexistent.yaml"));
    free(out);
    assert_int_equal(fv("plot /nonexistent-dir", NULL), 2);
    assert_int_equal(fv("policies", &out), 0);
    assert_non_null(strstr(out, "credit2"));
    assert_non_null(strstr(out, "tslice"));
    free(out);
    assert_int_equal(fv("workloads", &out), 0);
    assert_non_null(strstr(out, "cpu-periodic"));
    free(out);
}

/* Empty or swallowed option values are bad usage (exit 2) with a message
 * naming the option, and nothing is run or written: `--results-root ''`
 * used to put the run under /, `--out ''` exited 1 as if the run failed. */
static void test_bad_option_values(void **st)
{
    (void)st;
    static const struct { const char *args, *msg; } cases[] = {
        { "run scenarios/cpu-weights.yaml --out ''", "--out needs a value" },
        { "run scenarios/cpu-weights.yaml --out=", "--out needs a value" },
        { "run scenarios/cpu-weights.yaml --results-root ''", "--results-root needs a value" },
        { "run scenarios/cpu-weights.yaml --engine ''", "--engine needs a value" },
        { "run scenarios/cpu-weights.yaml --seed ''", "--seed needs a value" },
        { "run scenarios/cpu-weights.yaml --set ''", "--set needs a value" },
        { "run scenarios/cpu-weights.yaml --out --no-plot", "looks like an option" },
        { "run scenarios/cpu-weights.yaml --out /tmp/x --results-root /tmp/y",
          "cannot be combined" },
        { "run ''", "got an empty name" },
        { "plot ''", "DIR is an empty string" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = NULL;
        int rc = fv(cases[i].args, &out);
        if (rc != 2 || !strstr(out, cases[i].msg))
            fail_msg("fairvisor %s -> %d (expected 2 and \"%s\"):\n%s", cases[i].args, rc,
                     cases[i].msg, out);
        assert_null(strstr(out, "results:"));       /* nothing ran */
        free(out);
    }
}

/* `fairvisor plot DIR` when gnuplot fails: exit 1, and the message says
 * which graph failed in gnuplot's own words (here a template's print to
 * stdout, which used to be thrown away, leaving "Input/output error"). */
static void test_plot_failure_reason(void **st)
{
    (void)st;
    if (tu_run("command -v gnuplot", NULL) != 0)
        fail_msg("gnuplot not found (tools/deps installs gnuplot-nox)");
    char *dir = tu_tmpdir(), *tdir = tu_tmpdir();
    free(tu_write(dir, "timeline.csv",
                  "t_s,domain,cpu_ns,cpu_share,entitled_share,runnable_ns,work_units,wakeups\n"
                  "0.100,a,50000000,0.5,0.5,0,0,0\n0.100,b,50000000,0.5,0.5,0,0,0\n"));
    free(tu_write(dir, "wakeup-latency.csv", "domain,latency_ns,cdf\na,1000,1.000000\n"));
    free(tu_write(tdir, "cpu-share.gp", "set terminal svg\nplot sin(x) with nonsense\n"));
    free(tu_write(tdir, "wakeup-latency-cdf.gp",
                  "set print '-'\nprint 'latency template refuses: xyzzy'\nexit status 1\n"));
    char *args = NULL, *out = NULL;
    if (asprintf(&args, "plot %s", dir) < 0)
        abort();
    char *cmd = NULL;
    if (asprintf(&cmd, "cd %s && FV_GNUPLOT_DIR=%s %s %s", tu_src(""), tdir, bin(), args) < 0)
        abort();
    int rc = tu_run(cmd, &out);
    print_message("%s", out);
    assert_int_equal(rc, 1);
    assert_null(strstr(out, "Input/output error"));
    assert_non_null(strstr(out, "fairvisor plot: graphs failed: cpu-share.svg: gnuplot failed"));
    assert_non_null(strstr(out, "line 2: unrecognized plot type"));
    assert_non_null(strstr(out, "wakeup-latency-cdf.svg: gnuplot failed (exit status 1): "
                                "latency template refuses: xyzzy"));
    free(cmd);
    free(args);
    free(out);
    tu_rmtree(dir);
    tu_rmtree(tdir);
    free(dir);
    free(tdir);
}

int main(void)
{
    struct stat sb;
    if (stat(bin(), &sb) != 0) {
        fprintf(stderr, "skip: %s not built\n", bin());
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results_and_graphs),
        cmocka_unit_test(test_seed_determinism),
        cmocka_unit_test(test_resolved_scenario_reruns),
        cmocka_unit_test(test_exit_statuses),
        cmocka_unit_test(test_bad_option_values),
        cmocka_unit_test(test_plot_failure_reason),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
