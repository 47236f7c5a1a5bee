/* test_e2e_compare.c — `fairvisor compare` as a user runs it: two short
 * virtual-time runs of scenarios/cpu-weights.yaml under different policies,
 * compared by the real binary: the table, compare.csv against each run's
 * own summary.json, the charts; a third run of another scenario is
 * compared with a warning; a missing directory is exit 2. */
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void run_into(const char *scn, const char *dir, const char *extra)
{
    char *args = NULL, *out = NULL;
    if (asprintf(&args, "run %s --out %s --no-plot --quiet --set duration=2s %s", scn, dir,
                 extra) < 0)
        abort();
    int rc = tu_fairvisor(args, &out);
    if (rc != 0)
        fail_msg("fairvisor %s -> %d\n%s", args, rc, out);
    free(args);
    free(out);
}

static char *fmt(const char *f, const char *a, const char *b)
{
    char *s = NULL;
    if (asprintf(&s, f, a, b) < 0)
        abort();
    return s;
}

/* compare.csv's row for each domain of run `idx` (dir), from its summary. */
static void assert_csv_rows(const char *csv, int idx, const char *dir, const char *policy)
{
    json_t *j = tu_summary(dir);
    json_t *doms = json_object_get(j, "domains");
    assert_int_equal(json_array_size(doms), 3);
    for (size_t i = 0; i < json_array_size(doms); i++) {
        json_t *d = json_array_get(doms, i);
        double cpu = json_real_value(json_object_get(d, "cpu_share"));
        double ent = json_real_value(json_object_get(d, "entitled_share"));
        json_int_t p99 = json_integer_value(json_object_get(json_object_get(d, "wait_ns"), "p99"));
        json_int_t work = json_integer_value(json_object_get(d, "work_units"));
        json_int_t starv = json_integer_value(json_object_get(d, "starvation_events"));
        char *row = NULL;
        if (asprintf(&row, "%d,%s,cpu-weights,%s,sim,density,%s,1,%.6f,wait,%.6f,%.3f,,,%lld\n",
                     idx, dir, policy, json_string_value(json_object_get(d, "name")), cpu / ent,
                     (double)p99 / 1e6, (double)work / 2, (long long)starv) < 0)
            abort();
        if (!strstr(csv, row))
            fail_msg("compare.csv lacks\n%sin\n%s", row, csv);
        free(row);
    }
    json_decref(j);
}

static void assert_png(const char *dir, const char *name)
{
    char *p = fmt("%s/%s", dir, name);
    size_t len = 0;
    char *data = tu_read(p, &len);
    if (!data)
        fail_msg("missing %s", p);
    assert_true(len > 1000);
    assert_memory_equal(data, "\x89PNG", 4);
    free(data);
    free(p);
}

static void test_compare_two_policies(void **st)
{
    (void)st;
    char *d1 = tu_tmpdir(), *d2 = tu_tmpdir(), *out_dir = tu_tmpdir(), *out = NULL;
    run_into("scenarios/cpu-weights.yaml", d1, "");
    run_into("scenarios/cpu-weights.yaml", d2, "--set sched.policy=credit2");
    char *full = NULL, *h1 = NULL, *h2 = NULL;
    if (asprintf(&full, "compare %s %s --out %s", d1, d2, out_dir) < 0
        || asprintf(&h1, "run 1: %s  scenario cpu-weights  policy credit  engine sim  "
                    "mode density  2 s  complete\n", d1) < 0
        || asprintf(&h2, "run 2: %s  scenario cpu-weights  policy credit2  engine sim  "
                    "mode density  2 s  complete\n", d2) < 0)
        abort();
    int rc = tu_fairvisor(full, &out);
    print_message("%s", out);
    if (rc != 0)
        fail_msg("fairvisor %s -> %d\n%s", full, rc, out);
    assert_non_null(strstr(out, h1));
    assert_non_null(strstr(out, h2));
    assert_non_null(strstr(out, "\nlight   wait    -   "));
    assert_non_null(strstr(out, "\nheavy   wait    -   "));
    assert_non_null(strstr(out, "\nfairness run 2: jain "));
    assert_null(strstr(out, "warning"));
    char *p = fmt("%s/%s", out_dir, "compare.csv");
    char *csv = tu_read(p, NULL);
    assert_non_null(csv);
    assert_csv_rows(csv, 1, d1, "credit");
    assert_csv_rows(csv, 2, d2, "credit2");
    int lines = 0;
    for (char *c = csv; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 1 + 6);
    /* gnuplot is installed by tools/deps and CI checks the graphs. */
    if (tu_run("command -v gnuplot", NULL) != 0)
        fail_msg("gnuplot not found (tools/deps installs gnuplot-nox): charts not drawn");
    assert_png(out_dir, "compare-share.png");
    assert_png(out_dir, "compare-p99.png");
    assert_png(out_dir, "compare-throughput.png");
    assert_non_null(strstr(out, "graphs: "));
    free(csv), free(p), free(h1), free(h2), free(full), free(out);
    assert_int_equal(tu_rmtree(d1) | tu_rmtree(d2) | tu_rmtree(out_dir), 0);
    free(d1), free(d2), free(out_dir);
}

static void test_compare_other_scenario_and_errors(void **st)
{
    (void)st;
    char *d1 = tu_tmpdir(), *d2 = tu_tmpdir(), *out_dir = tu_tmpdir(), *out = NULL;
    run_into("scenarios/cpu-weights.yaml", d1, "");
    run_into("scenarios/cpu-cap.yaml", d2, "");
    char *args = NULL;
    if (asprintf(&args, "compare %s %s --out %s --no-plot", d1, d2, out_dir) < 0)
        abort();
    assert_int_equal(tu_fairvisor(args, &out), 0);
    assert_non_null(strstr(out, "warning: the runs are of different scenarios: cpu-weights "
                                "(run 1), cpu-cap (run 2)"));
    assert_non_null(strstr(out, "\nfairness run 2: "));
    free(out), free(args);
    if (asprintf(&args, "compare %s /nonexistent-fv-run --no-plot", d1) < 0)
        abort();
    assert_int_equal(tu_fairvisor(args, &out), 2);
    assert_non_null(strstr(out, "/nonexistent-fv-run: No such file or directory"));
    free(out), free(args);
    assert_int_equal(tu_fairvisor("compare --help", &out), 0);
    assert_non_null(strstr(out, "--by domain|group"));
    free(out);
    assert_int_equal(tu_fairvisor("compare", NULL), 2);
    assert_int_equal(tu_fairvisor("--help", &out), 0);
    assert_non_null(strstr(out, "compare DIR..."));
    free(out);
    assert_int_equal(tu_rmtree(d1) | tu_rmtree(d2) | tu_rmtree(out_dir), 0);
    free(d1), free(d2), free(out_dir);
}

int main(void)
{
    struct stat sb;
    if (stat(tu_bin(), &sb) != 0) {
        fprintf(stderr, "skip: %s not built\n", tu_bin());
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_two_policies),
        cmocka_unit_test(test_compare_other_scenario_and_errors),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
