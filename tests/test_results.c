/* test_results.c — the results directory (DESIGN §7): summary.json field
 * names and values, Jain's index, atomic writes, directory naming, the
 * timeline and wake-up latency CSVs, the summary table, and the gnuplot
 * graphs (gnuplot is required: tools/deps installs it). */
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

/* ---- fixtures ------------------------------------------------------------------ */

static void make_scn(struct scenario *s, int n)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->file, sizeof(s->file), "unit.yaml");
    snprintf(s->name, sizeof(s->name), "unit");
    snprintf(s->engine, sizeof(s->engine), "sim");
    snprintf(s->mode, sizeof(s->mode), "density");
    s->duration = FV_SEC(2);
    s->seed = 42;
    s->pcpus = 2;
    s->sample = FV_MS(100);
    s->starvation_threshold = FV_MS(100);
    s->policy = sched_find("credit");
    assert_non_null(s->policy);
    sched_global_defaults(s->policy, &s->gp);
    s->nr_domains = n;
    s->domains = calloc((size_t)n, sizeof(*s->domains));
    assert_non_null(s->domains);
    const struct workload_desc *idle = workload_find("idle");
    for (int i = 0; i < n; i++) {
        struct scn_domain *d = &s->domains[i];
        if (i == 0)
            snprintf(d->name, sizeof(d->name), "web");
        else if (i == 1)
            snprintf(d->name, sizeof(d->name), "batch");
        else
            snprintf(d->name, sizeof(d->name), "dom-%d", i);
        d->id = i + 1;
        d->vcpus = 1;
        d->memory = 64ULL << 20;
        sched_dom_defaults(&d->sp);
        d->wl.desc = idle ? idle : workload_kinds[0];
    }
}

/* web: share 0.5 of 0.5 promised (x = 1); batch: 0.25 of 0.5 (x = 0.5);
 * dom-N (n > 2): 0.01 of 0.01. Histograms with known percentiles. */
static void make_rr(struct run_result *rr, const struct scenario *s)
{
    memset(rr, 0, sizeof(*rr));
    rr->scn = s;
    rr->policy = "credit";
    rr->engine = "sim";
    rr->seed = 42;
    rr->duration_ns = FV_SEC(2);
    rr->pcpus = 2;
    rr->complete = true;
    rr->starvation_threshold_ns = FV_MS(100);
    rr->events = 1234;
    rr->schedules = 567;
    rr->wall_s = 0.5;
    rr->nr_doms = s->nr_domains;
    rr->doms = calloc((size_t)rr->nr_doms, sizeof(*rr->doms));
    assert_non_null(rr->doms);
    for (int i = 0; i < rr->nr_doms; i++) {
        struct dom_result *d = &rr->doms[i];
        snprintf(d->name, sizeof(d->name), "%s", s->domains[i].name);
        d->id = i + 1;
        d->vcpus = 1;
        d->weight = 256;
        d->cpu_share = i == 0 ? 0.5 : i == 1 ? 0.25 : 0.01;
        d->entitled_share = i < 2 ? 0.5 : 0.01;
        d->cpu_ns = (fv_ns_t)(d->cpu_share * 4e9);
        d->entitled_ns = (fv_ns_t)(d->entitled_share * 4e9);
        hist_init(&d->wait);
        hist_init(&d->wakeup);
        hist_init(&d->app_latency);
    }
    /* wait: 10, 20, 30 (small values are exact buckets) -> p50 20, p99 30. */
    for (int v = 10; v <= 30; v += 10)
        hist_add(&rr->doms[0].wait, (uint64_t)v);
    /* wakeup: 99 x 2047 (an exact bucket upper edge) + 1 x 5 ms. */
    for (int k = 0; k < 99; k++)
        hist_add(&rr->doms[0].wakeup, 2047);
    hist_add(&rr->doms[0].wakeup, 5000000);
    rr->doms[0].work_units = 77;
    rr->doms[0].starvation_events = 2;
    rr->doms[1].starvation_events = 1;
    rr->doms[1].deadline_misses = 4;
    hist_add(&rr->doms[1].wakeup, 1500000);
    rr->doms[1].cap = 50;
}

static void free_all(struct scenario *s, struct run_result *rr)
{
    run_result_free(rr);
    free(s->domains);
}

static char *path2(const char *a, const char *b)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", a, b) < 0)
        abort();
    return p;
}

static bool exists(const char *dir, const char *name)
{
    char *p = path2(dir, name);
    bool ok = access(p, F_OK) == 0;
    free(p);
    return ok;
}

/* Any *.tmp in dir or dir/plots? */
static int count_tmp(const char *dir)
{
    int n = 0;
    for (int pass = 0; pass < 2; pass++) {
        char *d = pass ? path2(dir, "plots") : strdup(dir);
        DIR *dh = opendir(d);
        struct dirent *e;
        while (dh && (e = readdir(dh))) {
            size_t len = strlen(e->d_name);
            if (len >= 4 && strcmp(e->d_name + len - 4, ".tmp") == 0)
                n++;
        }
        if (dh)
            closedir(dh);
        free(d);
    }
    return n;
}

static void rm_rf(const char *dir)
{
    assert_int_equal(tu_rmtree(dir), 0);
}

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
    static const char *const fkeys[] = { "jain", "min_normalized_share", NULL };
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
    "t_s,domain,cpu_ns,cpu_share,entitled_share,runnable_ns,work_units,wakeups\n"
    "0.100,web,100000000,0.500000,0.500000,100000000,7,3\n"
    "0.100,batch,50000000,0.250000,0.500000,200000000,1,0\n"
    "0.20025,web,100000000,0.500000,0.500000,100000000,7,3\n";

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
    assert_non_null(strstr(t, "fairness: jain 0.900  min normalized share 0.50  starvation events 3\n"));
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

/* ---- the graphs ----------------------------------------------------------------------------- */

static bool have_gnuplot(void)
{
    return tu_run("command -v gnuplot", NULL) == 0;
}

/* A results directory made without results_open (independent of the
 * scenario writer): timeline rows for n domains over 10 intervals. */
static char *fake_run_dir(struct run_result *rr, int n, bool empty)
{
    char *dir = tu_tmpdir();
    char *plots = path2(dir, "plots");
    assert_int_equal(mkdir(plots, 0777), 0);
    free(plots);
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

/* gnuplot is installed by tools/deps and CI checks the graphs: without it
 * the plot tests fail, naming it (they used to pass, skipped silently). */
#define REQUIRE_GNUPLOT()                                                                          \
    do {                                                                                           \
        if (!have_gnuplot())                                                                       \
            fail_msg("gnuplot not found (tools/deps installs gnuplot-nox)");                      \
    } while (0)

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
        cmocka_unit_test(test_plot),
        cmocka_unit_test(test_plot_empty),
        cmocka_unit_test(test_plot_many_domains),
        cmocka_unit_test(test_plot_without_gnuplot),
        cmocka_unit_test(test_read_domains),
        cmocka_unit_test(test_read_domains_50k),
        cmocka_unit_test(test_plot_gnuplot_failure_reason),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
