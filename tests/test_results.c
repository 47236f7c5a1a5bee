/* test_results.c — the results directory (DESIGN §7): summary.json field
 * names and values, Jain's index, atomic writes, directory naming, the
 * timeline and wake-up latency CSVs, and the summary table. The graphs and
 * the CSV reader behind them are tested in test_plot.c. */
#include "testutil.h"
#include "hv/results.h"
#include "hv/run.h"
#include "hv/scenario.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results_fixtures.h"

/* results_open, failing the test if it fails. */
static struct results *open_or_fail(const struct scenario *s, const char *out, const char *root,
                                    char *tmp)
{
    (void)tmp;
    char err[1024] = "";
    struct results *r = results_open(s, out, root, err, sizeof(err));
    if (!r)
        fail_msg("results_open: %s", err);
    return r;
}

/* ---- run_result_finish ---------------------------------------------------------- */

static void test_jain_known(void **st)
{
    (void)st;
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 2);
    make_rr(&rr, &s);
    run_result_finish(&rr);
    /* x = {1, 0.5}: (1.5)^2 / (2 * 1.25) = 0.9 exactly. */
    assert_true(rr.jain == 0.9);
    assert_true(rr.min_normalized_share == 0.5);
    assert_int_equal(rr.starvation_events, 3);
    /* Nobody entitled to anything: the index is 1 by convention. */
    rr.doms[0].entitled_share = rr.doms[1].entitled_share = 0;
    run_result_finish(&rr);
    assert_true(rr.jain == 1.0 && rr.min_normalized_share == 1.0);
    /* One left out (entitled 0), the other alone: perfectly fair. */
    rr.doms[0].entitled_share = 0.5;
    run_result_finish(&rr);
    assert_true(rr.jain == 1.0 && rr.min_normalized_share == 1.0);
    /* Entitled to next to nothing (a guest whose I/O costs no CPU in virtual
     * time) is left out too; just above the bound it counts. */
    rr.doms[1].entitled_share = RUN_JAIN_MIN_ENTITLED / 2;
    rr.doms[1].cpu_share = 0;
    run_result_finish(&rr);
    assert_true(rr.jain == 1.0 && rr.min_normalized_share == 1.0);
    rr.doms[1].entitled_share = RUN_JAIN_MIN_ENTITLED;
    run_result_finish(&rr);
    assert_true(rr.jain == 0.5 && rr.min_normalized_share == 0.0);
    /* jain_guests leaves Domain-0 (id 0) out: x = {1 (Domain-0), 0}. */
    assert_true(rr.jain_guests == 0.5);
    rr.doms[0].id = 0;
    run_result_finish(&rr);
    assert_true(rr.jain == 0.5 && rr.jain_guests == 0.0);
    free_all(&s, &rr);
    assert_null(rr.doms);
}

/* ---- summary.json ------------------------------------------------------------------ */

static void assert_keys(json_t *o, const char *const *keys)
{
    const char *k;
    json_t *v;
    int i = 0;
    assert_true(json_is_object(o));
    /* DESIGN's fields first, in DESIGN's order; additions after them. */
    json_object_foreach(o, k, v) {
        if (!keys[i])
            break;
        assert_string_equal(k, keys[i]);
        i++;
    }
    assert_null(keys[i]);
}

static void assert_pct(json_t *o, json_int_t p50, json_int_t p99, json_int_t max)
{
    static const char *const keys[] = { "p50", "p99", "max", NULL };
    assert_keys(o, keys);
    assert_int_equal(json_integer_value(json_object_get(o, "p50")), p50);
    assert_int_equal(json_integer_value(json_object_get(o, "p99")), p99);
    assert_int_equal(json_integer_value(json_object_get(o, "max")), max);
}

static json_int_t ival(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static void check_domain0(json_t *d)
{
    static const char *const keys[] = {
        "name", "id", "vcpus", "weight", "cpu_ns", "cpu_share", "entitled_share", "wait_ns",
        "wakeup_latency_ns", "work_units", "deadline_misses", "starved_ns", "starvation_events",
        "backend_cpu_ns", "net", "blk", "cap", "app_latency_ns", "entitled_ns", "runnable_ns",
        NULL };
    assert_keys(d, keys);
    assert_string_equal(json_string_value(json_object_get(d, "name")), "web");
    assert_int_equal(ival(d, "id"), 1);
    assert_int_equal(ival(d, "weight"), 256);
    assert_int_equal(ival(d, "cpu_ns"), 2000000000);
    assert_true(json_real_value(json_object_get(d, "cpu_share")) == 0.5);
    assert_true(json_real_value(json_object_get(d, "entitled_share")) == 0.5);
    assert_pct(json_object_get(d, "wait_ns"), 20, 30, 30);
    assert_pct(json_object_get(d, "wakeup_latency_ns"), 2047, 2047, 5000000);
    assert_pct(json_object_get(d, "app_latency_ns"), 0, 0, 0);
    assert_int_equal(ival(d, "work_units"), 77);
    assert_int_equal(ival(d, "starvation_events"), 2);
    static const char *const net[] = { "tx_pkts", "rx_pkts", "tx_bytes", "rx_bytes", "drops",
                                       "latency_ns", NULL };
    static const char *const blk[] = { "reads", "writes", "bytes", "latency_ns", NULL };
    assert_keys(json_object_get(d, "net"), net);
    assert_keys(json_object_get(d, "blk"), blk);
    assert_pct(json_object_get(json_object_get(d, "net"), "latency_ns"), 0, 0, 0);
    assert_pct(json_object_get(json_object_get(d, "blk"), "latency_ns"), 0, 0, 0);
}

static void check_summary(json_t *j, bool complete)
{
    static const char *const keys[] = {
        "scenario", "engine", "policy", "seed", "duration_ns", "pcpus", "complete", "domains",
        "fairness", "starvation", "mode", "events", "schedules", "wall_s", "host",
        "fairvisor_version", NULL };
    assert_keys(j, keys);
    assert_string_equal(json_string_value(json_object_get(j, "scenario")), "unit");
    assert_string_equal(json_string_value(json_object_get(j, "engine")), "sim");
    assert_string_equal(json_string_value(json_object_get(j, "policy")), "credit");
    assert_int_equal(ival(j, "seed"), 42);
    assert_int_equal(ival(j, "duration_ns"), 2000000000);
    assert_int_equal(ival(j, "pcpus"), 2);
    assert_true(json_is_boolean(json_object_get(j, "complete")));
    assert_int_equal(json_is_true(json_object_get(j, "complete")), complete);
    json_t *doms = json_object_get(j, "domains");
    assert_int_equal(json_array_size(doms), 2);
    check_domain0(json_array_get(doms, 0));
    json_t *d1 = json_array_get(doms, 1);
    assert_string_equal(json_string_value(json_object_get(d1, "name")), "batch");
    assert_int_equal(ival(d1, "cap"), 50);
    assert_int_equal(ival(d1, "deadline_misses"), 4);
    assert_pct(json_object_get(d1, "wait_ns"), 0, 0, 0);
    json_t *fair = json_object_get(j, "fairness");
    static const char *const fkeys[] = { "jain", "min_normalized_share", "jain_guests", NULL };
    assert_keys(fair, fkeys);
    assert_true(json_real_value(json_object_get(fair, "jain")) == 0.9);
    assert_true(json_real_value(json_object_get(fair, "min_normalized_share")) == 0.5);
    json_t *starv = json_object_get(j, "starvation");
    static const char *const skeys[] = { "threshold_ns", "events", NULL };
    assert_keys(starv, skeys);
    assert_int_equal(ival(starv, "threshold_ns"), 100000000);
    assert_int_equal(ival(starv, "events"), 3);
    assert_int_equal(ival(j, "events"), 1234);
    assert_int_equal(ival(j, "schedules"), 567);
    assert_true(json_real_value(json_object_get(j, "wall_s")) == 0.5);
    assert_non_null(json_string_value(json_object_get(json_object_get(j, "host"), "cpu_model")));
    assert_true(ival(json_object_get(j, "host"), "cpus") >= 1);
    assert_string_equal(json_string_value(json_object_get(j, "fairvisor_version")), "0.1.0");
}

static json_t *load_json(const char *dir)
{
    char *p = path2(dir, "summary.json");
    json_error_t e;
    json_t *j = json_load_file(p, 0, &e);
    if (!j)
        fail_msg("%s:%d: %s", p, e.line, e.text);
    free(p);
    return j;
}

static void test_summary_json(void **st)
{
    (void)st;
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 2);
    make_rr(&rr, &s);
    run_result_finish(&rr);
    char *dir = tu_tmpdir();
    assert_int_equal(results_write_summary(dir, &rr), 0);
    json_t *j = load_json(dir);
    check_summary(j, true);
    json_decref(j);
    /* Indented by 2, and a huge seed stays exact instead of wrapping. */
    char *p = path2(dir, "summary.json");
    char *text = tu_read(p, NULL);
    assert_non_null(strstr(text, "\n  \"scenario\": \"unit\""));
    free(text);
    rr.seed = UINT64_MAX;
    assert_int_equal(results_write_summary(dir, &rr), 0);
    text = tu_read(p, NULL);
    assert_non_null(strstr(text, "\"seed\": \"18446744073709551615\""));
    free(text);
    free(p);
    assert_int_equal(count_tmp(dir), 0);
    rm_rf(dir);
    free(dir);
    free_all(&s, &rr);
}

/* ---- wakeup-latency.csv -------------------------------------------------------------- */

static void test_wakeup_csv(void **st)
{
    (void)st;
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 3);
    make_rr(&rr, &s);               /* dom-2 has no wake-up samples */
    char *dir = tu_tmpdir();
    assert_int_equal(results_write_wakeup_csv(dir, &rr), 0);
    char *p = path2(dir, "wakeup-latency.csv");
    char *text = tu_read(p, NULL);
    assert_non_null(text);
    assert_true(strncmp(text, "domain,latency_ns,cdf\n", 22) == 0);
    assert_null(strstr(text, "dom-2"));
    /* web: 2047 -> 0.99, then 5 ms (the max, not the bucket edge) -> 1. */
    assert_non_null(strstr(text, "\nweb,2047,0.990000\nweb,5000000,1.000000\n"));
    /* The last point of every domain is 1. */
    char name[64] = "", last[64] = "";
    double cdf = 0;
    unsigned long long lat;
    int domains = 0;
    for (char *line = strchr(text, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        assert_int_equal(sscanf(line, "%63[^,],%llu,%lf", name, &lat, &cdf), 3);
        char *nl = strchr(line, '\n');
        bool end = !nl[1] || strncmp(nl + 1, name, strlen(name)) != 0;
        if (end) {
            assert_true(cdf == 1.0);
            domains++;
            snprintf(last, sizeof(last), "%s", name);
        }
    }
    assert_int_equal(domains, 2);
    assert_string_equal(last, "batch");
    free(text);
    free(p);
    assert_int_equal(count_tmp(dir), 0);
    rm_rf(dir);
    free(dir);
    free_all(&s, &rr);
}

/* ---- atomic writes ----------------------------------------------------------------------- */

static void test_write_atomic(void **st)
{
    (void)st;
    char *dir = tu_tmpdir();
    assert_int_equal(results_write_atomic(dir, "f.txt", "first\n", 6), 0);
    assert_int_equal(results_write_atomic(dir, "f.txt", "second\n", 7), 0);
    char *p = path2(dir, "f.txt");
    size_t len;
    char *text = tu_read(p, &len);
    assert_string_equal(text, "second\n");
    assert_int_equal(len, 7);
    free(text);
    free(p);
    assert_int_equal(results_write_atomic(dir, "empty", "", 0), 0);
    assert_true(exists(dir, "empty"));
    assert_int_equal(count_tmp(dir), 0);
    char *missing = path2(dir, "no/such/dir");
    assert_int_equal(results_write_atomic(missing, "f", "x", 1), -ENOENT);
    free(missing);
    rm_rf(dir);
    free(dir);
}

/* ---- the directory --------------------------------------------------------------------- */

static void emit_rows(struct results *r)
{
    struct timeline_sink sink = results_timeline_sink(r);
    struct timeline_row rows[2] = {
        { .t0 = 0, .t1 = FV_MS(100), .dom_index = 0, .cpu_ns = 100000000, .cpu_share = 0.5,
          .entitled_share = 0.5, .runnable_ns = 100000000, .work_units = 7, .wakeups = 3 },
        { .t0 = 0, .t1 = FV_MS(100), .dom_index = 1, .cpu_ns = 50000000, .cpu_share = 0.25,
          .entitled_share = 0.5, .runnable_ns = 200000000, .work_units = 1, .wakeups = 0 },
    };
    sink.rows(sink.ctx, rows, 2);
    rows[0].t0 = rows[1].t0 = FV_MS(100);
    rows[0].t1 = rows[1].t1 = FV_NS(200250000);
    rows[1].dom_index = 5;          /* not a domain of the scenario: dropped */
    sink.rows(sink.ctx, rows, 2);
}

static const char timeline_expected[] =
    "t_s,domain,cpu_ns,cpu_share,entitled_share,runnable_ns,work_units,wakeups,"
    "net_tx_pkts,net_rx_pkts,net_tx_bytes,net_rx_bytes,net_drops,"
    "blk_reads,blk_writes,blk_bytes,blk_errors\n"
    "0.100,web,100000000,0.500000,0.500000,100000000,7,3,0,0,0,0,0,0,0,0,0\n"
    "0.100,batch,50000000,0.250000,0.500000,200000000,1,0,0,0,0,0,0,0,0,0,0\n"
    "0.20025,web,100000000,0.500000,0.500000,100000000,7,3,0,0,0,0,0,0,0,0,0\n";

static void assert_timeline(const char *dir)
{
    char *p = path2(dir, "timeline.csv");
    char *text = tu_read(p, NULL);
    assert_non_null(text);
    assert_string_equal(text, timeline_expected);
    free(text);
    free(p);
}

static void test_out_dir_used_as_is(void **st)
{
    (void)st;
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 2);
    make_rr(&rr, &s);
    run_result_finish(&rr);
    char *tmp = tu_tmpdir();
    char *out = path2(tmp, "a/b/run");      /* parents created too */
    struct results *r = open_or_fail(&s, out, "ignored-root", tmp);
    assert_string_equal(results_dir(r), out);
    assert_true(exists(out, "plots"));
    assert_true(exists(out, "scenario.yaml"));
    assert_true(exists(out, "timeline.csv.tmp"));
    assert_false(exists(out, "timeline.csv"));
    emit_rows(r);
    assert_int_equal(results_finish(r, &rr), 0);
    results_close(r);
    assert_timeline(out);
    assert_true(exists(out, "summary.json"));
    assert_true(exists(out, "wakeup-latency.csv"));
    assert_int_equal(count_tmp(out), 0);
    assert_false(exists(tmp, "ignored-root"));
    /* scenario.yaml loads back to the same scenario. */
    char *yaml = path2(out, "scenario.yaml");
    struct scenario back;
    char err[512];
    int rc = scenario_load(yaml, NULL, 0, &back, err, sizeof(err));
    if (rc)
        fail_msg("scenario.yaml does not load back: %s", err);
    assert_string_equal(back.name, "unit");
    assert_int_equal(back.nr_domains, 2);
    assert_string_equal(back.domains[1].name, "batch");
    scenario_free(&back);
    free(yaml);
    rm_rf(tmp);
    free(tmp);
    free(out);
    free_all(&s, &rr);
}

static void test_stamped_dir(void **st)
{
    (void)st;
    struct scenario s;
    make_scn(&s, 2);
    char *tmp = tu_tmpdir();
    char *root = path2(tmp, "results");
    struct results *a = open_or_fail(&s, NULL, root, tmp);
    struct results *b = open_or_fail(&s, NULL, root, tmp);
    regex_t re;
    char *pat = NULL;
    assert_true(asprintf(&pat, "^%s/unit/[0-9]{8}T[0-9]{6}Z-credit-sim(-[0-9]+)?$", root) > 0);
    assert_int_equal(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB), 0);
    assert_int_equal(regexec(&re, results_dir(a), 0, NULL, 0), 0);
    assert_int_equal(regexec(&re, results_dir(b), 0, NULL, 0), 0);
    /* Two runs in the same second do not share a directory. */
    assert_string_not_equal(results_dir(a), results_dir(b));
    assert_true(exists(results_dir(a), "plots"));
    regfree(&re);
    free(pat);
    results_close(a);
    results_close(b);
    rm_rf(tmp);
    free(tmp);
    free(root);
    free(s.domains);
}

/* results_open into a fresh root works; into a path that cannot be a
 * directory it fails cleanly. */
static void test_open_failure_cleans_up(void **st)
{
    (void)st;
    struct scenario s;
    make_scn(&s, 1);
    char *tmp = tu_tmpdir();
    char *root = path2(tmp, "results");
    char err[512] = "";
    struct results *r = results_open(&s, NULL, root, err, sizeof(err));
    if (!r)
        fail_msg("results_open: %s", err);
    results_close(r);
    /* A path that cannot be a directory: a clean error, no crash. */
    char *file = tu_write(tmp, "plainfile", "x");
    char *out = path2(file, "sub");
    assert_null(results_open(&s, out, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot create directory"));
    free(out);
    free(file);
    rm_rf(tmp);
    free(tmp);
    free(root);
    free(s.domains);
}

/* A scenario.yaml that cannot be written (here: a scenario without
 * domains) fails results_open after the stamped directory was made: it is
 * removed again, and the scenario's directory holds nothing. */
static void test_open_failure_removes_stamped_dir(void **st)
{
    (void)st;
    struct scenario s;
    make_scn(&s, 1);
    struct scn_domain *doms = s.domains;
    s.domains = NULL;
    char *tmp = tu_tmpdir();
    char *root = path2(tmp, "results");
    char err[512] = "";
    assert_null(results_open(&s, NULL, root, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot write scenario.yaml"));
    char *scn_dir = path2(root, "unit");
    DIR *d = opendir(scn_dir);
    assert_non_null(d);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));)
        entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    assert_int_equal(entries, 0);
    rm_rf(tmp);
    free(scn_dir);
    free(tmp);
    free(root);
    free(doms);
}

/* A run whose set-up failed: results_discard removes what results_open
 * wrote, and the directory when results_open made it (stamped, or a new
 * --out); a directory the user had already made stays. */
static void test_discard(void **st)
{
    (void)st;
    struct scenario s;
    make_scn(&s, 1);
    char *tmp = tu_tmpdir();
    char *root = path2(tmp, "results");
    struct results *r = open_or_fail(&s, NULL, root, tmp);
    char *stamped = strdup(results_dir(r));
    results_discard(r);
    struct stat sb;
    assert_int_not_equal(stat(stamped, &sb), 0);
    char *fresh = path2(tmp, "fresh");
    results_discard(open_or_fail(&s, fresh, NULL, tmp));
    assert_int_not_equal(stat(fresh, &sb), 0);
    char *mine = path2(tmp, "mine");
    assert_int_equal(mkdir(mine, 0777), 0);
    results_discard(open_or_fail(&s, mine, NULL, tmp));
    assert_int_equal(stat(mine, &sb), 0);
    assert_false(exists(mine, "scenario.yaml"));
    assert_false(exists(mine, "timeline.csv.tmp"));
    assert_false(exists(mine, "plots"));
    rm_rf(tmp);
    free(stamped), free(fresh), free(mine), free(tmp), free(root);
    free(s.domains);
}

/* Crash / Ctrl-C path: results_finish never runs; the rows are kept. */
static void test_close_without_finish(void **st)
{
    (void)st;
    struct scenario s;
    make_scn(&s, 2);
    char *tmp = tu_tmpdir();
    char *out = path2(tmp, "run");
    struct results *r = open_or_fail(&s, out, NULL, tmp);
    emit_rows(r);
    results_close(r);
    assert_timeline(out);
    assert_false(exists(out, "summary.json"));
    assert_int_equal(count_tmp(out), 0);
    rm_rf(tmp);
    free(tmp);
    free(out);
    free(s.domains);
}

/* ---- the table ---------------------------------------------------------------------------- */

static char *table(const struct run_result *rr)
{
    char *buf = NULL;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    results_print_table(rr, f);
    fclose(f);
    /* A copy: gcc -O2 cannot tell buf's value from its address, which
     * escaped to open_memstream, and warns of a dangling pointer. */
    char *copy = strdup(buf);
    free(buf);
    return copy;
}

static void test_print_table(void **st)
{
    (void)st;
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 2);
    make_rr(&rr, &s);
    run_result_finish(&rr);
    char *t = table(&rr);
    print_message("%s", t);
    assert_true(strncmp(t, "scenario unit  policy credit  engine sim  2 s  2 pCPUs  seed 42\n",
                        63) == 0);
    assert_non_null(strstr(t, "cpu %"));
    assert_non_null(strstr(t, "wakeup p99 (ms)"));
    assert_non_null(strstr(t, "\nweb "));
    assert_non_null(strstr(t, "\nbatch "));
    assert_non_null(strstr(t, "fairness: jain 0.900 (guests 0.900)  min normalized share 0.50  starvation events 3\n"));
    assert_null(strstr(t, "INTERRUPTED"));
    /* Columns line up: every table row is as long as the header row. */
    char *l1 = strchr(t, '\n') + 1, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    assert_int_equal(l2 - l1, l3 - l2);
    free(t);
    rr.complete = false;
    t = table(&rr);
    assert_non_null(strstr(t, "INTERRUPTED: partial results\n"));
    free(t);
    free_all(&s, &rr);
}

static void test_print_table_many(void **st)
{
    (void)st;
    struct scenario s;
    struct run_result rr;
    make_scn(&s, 2000);
    make_rr(&rr, &s);
    run_result_finish(&rr);
    char *t = table(&rr);
    assert_non_null(strstr(t, "\ndom-19 "));
    assert_null(strstr(t, "\ndom-20 "));
    assert_non_null(strstr(t, "\n... 1980 more domains (see summary.json)\n"));
    assert_non_null(strstr(t, "fairness: jain"));
    free(t);
    free_all(&s, &rr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jain_known),
        cmocka_unit_test(test_summary_json),
        cmocka_unit_test(test_wakeup_csv),
        cmocka_unit_test(test_write_atomic),
        cmocka_unit_test(test_out_dir_used_as_is),
        cmocka_unit_test(test_stamped_dir),
        cmocka_unit_test(test_open_failure_cleans_up),
        cmocka_unit_test(test_open_failure_removes_stamped_dir),
        cmocka_unit_test(test_discard),
        cmocka_unit_test(test_close_without_finish),
        cmocka_unit_test(test_print_table),
        cmocka_unit_test(test_print_table_many),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
