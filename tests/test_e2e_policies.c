/* test_e2e_policies.c — the shipped scenarios through the whole stack
 * (YAML loader, scheduling core, policy, virtual-time engine, metrics), with
 * the figures the policies promise. Virtual time is deterministic, so the
 * tolerances below are the policies' own accuracy, not noise:
 *   weights: each share within 1% of the CPU (absolute) of 1/7, 2/7, 4/7
 *            over 10 s; credit2 also within 1% relative. credit's relative
 *            error is larger (light +2.9%): Xen halves the credit of a vCPU
 *            holding more than one tslice's worth at accounting, even while
 *            it waits, and one 30 ms slice is 2.1% of the light share;
 *   cap 25:  the capped hog <= 25.5%, the other two 37.5% +- 1% (relative);
 *   rtds:    the 2 ms / 10 ms reservation 20% +- 0.5 percentage points;
 *   latency: a probe under its share is BOOSTed: p99 wake-up latency <= the
 *            ratelimit at any tslice; a probe over its share waits behind
 *            the hogs: at 30 ms p99 is above one tslice and at most one
 *            tslice per hog + ratelimit, and it drops as the tslice shrinks
 *            (30 -> 10 -> 1 ms). Each p99 rests on at least 1000 wake-ups
 *            (the 10 largest samples lie above it), which the test asserts;
 *   rtds overload: exact deadline-miss counts, read back from the
 *            summary.json the CLI writes (derivation at the test). */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hv/engine.h"
#include "hv/scenario.h"

static void load_and_run(const char *file, const char *const *sets, int nsets,
                         struct scenario *scn, struct run_result *r)
{
    char err[1024] = "";
    if (scenario_load(tu_src(file), sets, nsets, scn, err, sizeof(err)))
        fail_msg("%s", err);
    if (sim_run(scn, NULL, r, err, sizeof(err)))
        fail_msg("%s", err);
    assert_true(r->complete);
}

static void free_run(struct scenario *scn, struct run_result *r)
{
    run_result_free(r);
    scenario_free(scn);
}

static void assert_rel(double got, double want, double rel, const char *what)
{
    if (fabs(got / want - 1.0) > rel)
        fail_msg("%s: %.5f, expected %.5f within %.1f%%", what, got, want, rel * 100);
}

static void check_weights(const char *policy)
{
    char set[64];
    snprintf(set, sizeof(set), "sched.policy=%s", policy);
    const char *sets[] = { set };
    struct scenario scn;
    struct run_result r;
    load_and_run("scenarios/cpu-weights.yaml", sets, 1, &scn, &r);
    print_message("%s weights 128/256/512: %.4f %.4f %.4f\n", policy,
                  r.doms[0].cpu_share, r.doms[1].cpu_share, r.doms[2].cpu_share);
    for (int d = 0; d < 3; d++) {
        double want = (double)(1 << d) / 7;
        if (fabs(r.doms[d].cpu_share - want) > 0.01)
            fail_msg("%s: share %.4f, expected %.4f +- 0.01", r.doms[d].name, r.doms[d].cpu_share, want);
        if (strcmp(policy, "credit2") == 0)
            assert_rel(r.doms[d].cpu_share, want, 0.01, r.doms[d].name);
    }
    /* What they got is what they were entitled to. */
    for (int d = 0; d < 3; d++)
        assert_rel(r.doms[d].entitled_share, (double)(1 << d) / 7, 1e-6, "entitled");
    assert_true(r.jain > 0.999);
    free_run(&scn, &r);
}

static void test_weights_credit(void **st) { (void)st; check_weights("credit"); }
static void test_weights_credit2(void **st) { (void)st; check_weights("credit2"); }

static void check_cap(const char *policy)
{
    char set[64];
    snprintf(set, sizeof(set), "sched.policy=%s", policy);
    const char *sets[] = { set };
    struct scenario scn;
    struct run_result r;
    load_and_run("scenarios/cpu-cap.yaml", sets, 1, &scn, &r);
    print_message("%s cap 25: %.4f %.4f %.4f\n", policy,
                  r.doms[0].cpu_share, r.doms[1].cpu_share, r.doms[2].cpu_share);
    assert_true(r.doms[0].cpu_share <= 0.255);
    assert_true(r.doms[0].cpu_share >= 0.24);
    assert_rel(r.doms[1].cpu_share, 0.375, 0.01, "free-0");
    assert_rel(r.doms[2].cpu_share, 0.375, 0.01, "free-1");
    /* No idle time while hogs are runnable. */
    assert_true(r.doms[0].cpu_ns + r.doms[1].cpu_ns + r.doms[2].cpu_ns == r.duration_ns);
    free_run(&scn, &r);
}

static void test_cap_credit(void **st) { (void)st; check_cap("credit"); }
static void test_cap_credit2(void **st) { (void)st; check_cap("credit2"); }

static void test_rtds_guarantee(void **st)
{
    (void)st;
    struct scenario scn;
    struct run_result r;
    load_and_run("scenarios/rtds-guarantee.yaml", NULL, 0, &scn, &r);
    print_message("rtds 2ms/10ms: %.4f, misses %llu\n", r.doms[0].cpu_share,
                  (unsigned long long)r.doms[0].deadline_misses);
    assert_true(fabs(r.doms[0].cpu_share - 0.20) <= 0.005);
    assert_int_equal(r.doms[0].sched_deadline_misses, 0);
    free_run(&scn, &r);

    /* The same reservation as a periodic task (2 ms of work every 10 ms):
     * every release completes before the next one. */
    const char *sets[] = { "domains.0.workload.kind=cpu-periodic",
                           "domains.0.workload.period=10ms", "domains.0.workload.burst=2ms" };
    load_and_run("scenarios/rtds-guarantee.yaml", sets, 3, &scn, &r);
    assert_int_equal(r.doms[0].work_units, 1000);
    assert_int_equal(r.doms[0].deadline_misses, 0);
    assert_int_equal(r.doms[0].sched_deadline_misses, 0);
    free_run(&scn, &r);
}

/* arinc653 through the loader and the engine: each window's domain gets
 * exactly its length per frame, to the nanosecond. */
static void test_arinc653_windows_exact(void **st)
{
    (void)st;
    const char *text =
        "name: frame\nduration: 3s\npcpus: 1\n"
        "sched: { policy: arinc653, frame: 30ms, windows: [ {domain: a, length: 10ms},\n"
        "         {domain: b, length: 5ms}, {domain: c, length: 10ms} ] }\n"
        "domains:\n"
        "  - { name: a, workload: cpu-hog }\n"
        "  - { name: b, workload: cpu-hog }\n"
        "  - { name: c, workload: cpu-hog }\n";
    struct scenario scn;
    struct run_result r;
    char err[1024] = "";
    if (scenario_load_string("frame.yaml", text, NULL, 0, &scn, err, sizeof(err)))
        fail_msg("%s", err);
    if (sim_run(&scn, NULL, &r, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(r.doms[0].cpu_ns, FV_MS(1000));
    assert_int_equal(r.doms[1].cpu_ns, FV_MS(500));
    assert_int_equal(r.doms[2].cpu_ns, FV_MS(1000));
    /* Window length over the frame is what each is entitled to. */
    assert_rel(r.doms[1].entitled_share, 5.0 / 30, 1e-6, "b entitled");
    free_run(&scn, &r);
}

struct probe_lat {
    uint64_t p99, wakeups;
};

/* A p99 means something when at least this many samples lie behind it. */
#define MIN_WAKEUPS 1000

static struct probe_lat probe_p99(const char *burst, const char *tslice, const char *ratelimit,
                                  const char *duration)
{
    char b[64], t[64], r[64], d[64];
    snprintf(b, sizeof(b), "domains.probe.workload.burst=%s", burst);
    snprintf(t, sizeof(t), "sched.tslice=%s", tslice);
    snprintf(r, sizeof(r), "sched.ratelimit=%s", ratelimit);
    snprintf(d, sizeof(d), "duration=%s", duration);
    const char *sets[] = { b, t, r, d };
    struct scenario scn;
    struct run_result rr;
    load_and_run("scenarios/latency-vs-hogs.yaml", sets, 4, &scn, &rr);
    struct probe_lat l = { hist_quantile(&rr.doms[0].wakeup, 0.99), rr.doms[0].wakeup.count };
    print_message("probe burst %s/30ms, tslice %s: wakeup p99 %.3f ms, max %.3f ms, %llu wake-ups\n",
                  burst, tslice, l.p99 / 1e6, rr.doms[0].wakeup.max / 1e6,
                  (unsigned long long)l.wakeups);
    free_run(&scn, &rr);
    return l;
}

static void assert_wakeups(struct probe_lat l, const char *what)
{
    if (l.wakeups < MIN_WAKEUPS)
        fail_msg("%s: p99 over %llu wake-ups, expected at least %d", what,
                 (unsigned long long)l.wakeups, MIN_WAKEUPS);
}

/* Under its share (3 ms per 30 ms = 10%): BOOST on every wake. It sleeps
 * after every burst: one wake-up per 30 ms release, 1333 in 40 s. */
static void test_latency_boosted_probe(void **st)
{
    (void)st;
    struct probe_lat at30 = probe_p99("3ms", "30ms", "1ms", "40s");
    struct probe_lat at1 = probe_p99("3ms", "1ms", "100us", "40s");
    assert_wakeups(at30, "boosted probe, tslice 30ms");
    assert_wakeups(at1, "boosted probe, tslice 1ms");
    assert_true(at30.p99 <= (uint64_t)FV_MS(1));
    assert_true(at1.p99 <= (uint64_t)FV_US(100));
}

/* Over its share: often OVER at wake, so it queues behind the hogs. The
 * shipped scenario's probe (7.8 ms per 30 ms, 26%) hardly ever sleeps at a
 * 1 ms tslice: served round-robin in 1 ms slices it gets 1/4 of the pCPU,
 * less than it asks for, so it runs late release after release and woke 4
 * times in 10 s, and still 4 in 1000 s: no p99 to speak of. At 7.65 ms
 * (25.5%, still over its quarter) it catches up now and then: over 400 s it
 * wakes about 12800 times at 30 ms, 7200 at 10 ms and 1400 at 1 ms. */
static void test_latency_over_probe(void **st)
{
    (void)st;
    struct probe_lat at30 = probe_p99("7.65ms", "30ms", "1ms", "400s");
    struct probe_lat at10 = probe_p99("7.65ms", "10ms", "1ms", "400s");
    struct probe_lat at1 = probe_p99("7.65ms", "1ms", "100us", "400s");
    assert_wakeups(at30, "over-share probe, tslice 30ms");
    assert_wakeups(at10, "over-share probe, tslice 10ms");
    assert_wakeups(at1, "over-share probe, tslice 1ms");
    /* Bounded by one 30 ms slice per hog ahead of it, plus the ratelimit ... */
    assert_true(at30.p99 <= (uint64_t)(3 * FV_MS(30) + FV_MS(1)));
    /* ... longer than one slice at 30 ms (it really waits for hogs) ... */
    assert_true(at30.p99 > (uint64_t)FV_MS(30));
    /* ... and dropping with the tslice. */
    assert_true(at10.p99 < at30.p99);
    assert_true(at1.p99 < at10.p99);
}

/* ---- rtds overload: exact deadline misses, through the CLI into summary.json ---- */

/* The CLI's results directory; the teardown removes it, failed or not. */
static char *cli_dir;

static int remove_cli_dir(void **st)
{
    (void)st;
    int rc = tu_rmtree(cli_dir);
    free(cli_dir);
    cli_dir = NULL;
    return rc;
}

static json_t *run_cli_summary(const char *scenario, char **dir)
{
    const char *bin = tu_bin();
    struct stat sb;
    /* The binary is built with the tests: its absence is a broken build,
     * not a missing capability. */
    if (stat(bin, &sb) != 0)
        fail_msg("no fairvisor binary at %s (build the whole tree)", bin);
    *dir = tu_tmpdir();
    char *cmd = NULL, *out = NULL;
    if (asprintf(&cmd, "%s run %s --out %s/run --no-plot", bin, tu_src(scenario), *dir) < 0)
        abort();
    int rc = tu_run(cmd, &out);
    if (rc != 0)
        fail_msg("%s -> exit %d\n%s", cmd, rc, out);
    free(cmd);
    free(out);
    char *run = NULL;
    if (asprintf(&run, "%s/run", *dir) < 0)
        abort();
    json_t *j = tu_summary(run);
    free(run);
    return j;
}

static json_t *json_domain(json_t *j, const char *name)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(j, "domains"), i, d)
        if (strcmp(json_string_value(json_object_get(d, "name")), name) == 0)
            return d;
    fail_msg("summary.json has no domain %s", name);
    return NULL;
}

static long long json_int(json_t *d, const char *key)
{
    json_t *v = json_object_get(d, key);
    if (!json_is_integer(v))
        fail_msg("summary.json: domain %s: %s is not an integer",
                 json_string_value(json_object_get(d, "name")), key);
    return json_integer_value(v);
}

/* tests/data/rtds-overload.yaml: two RTDS servers of 6 ms every 10 ms,
 * extratime off, on one pCPU for 1 s: 120% reserved, so one of them misses
 * every period. light runs cpu-periodic 5 ms every 10 ms; heavy
 * cpu-periodic 20 ms every 10 ms, so it never sleeps (each burst outlasts
 * two periods: its release stays on the 10 ms grid and it starts the next
 * burst at once). Timeline in ms (sched/rtds.c; events due at the same
 * instant fire in arming order):
 *   0   both woken: deadline 10, budget 6, FIFO: light runs (slice 6).
 *   5   light's burst is done: it arms its timer for 10 and blocks with 1 ms
 *       of budget left, leaving the replenishment queue, whose timer is
 *       re-armed for heavy's deadline 10 (after light's). heavy runs (slice 6).
 *   10  light wakes first: new period (deadline 20, budget 6), queued; it
 *       cannot preempt heavy (deadline 10 is earlier). The replenishment:
 *       heavy is runnable with 6 - 5 = 1 ms of level-0 budget left at its
 *       deadline, and could have spent it (earliest_done 6 <= 10):
 *       rt_count_misses counts one miss. heavy: deadline 20, budget 6, equal
 *       priority to light, so it keeps the pCPU until its slice ends.
 *   11  heavy has burnt 1 ms since the refill (5 left) and is queued behind
 *       light (same level and deadline, light queued first): light runs
 *       11-16, done, sleeps until 20; heavy runs 16-21 on its 5 ms.
 * Every period [10k, 10k+10), k >= 1, repeats this: light runs
 * [10k+1, 10k+6), heavy [10k+6, 10k+11), and at each replenishment 10k,
 * k = 1..100 (the end is inclusive), heavy holds 1 ms of budget: 100 rtds
 * misses for heavy; light is asleep whenever its deadline passes and wakes
 * into a new period: 0. The pCPU is never idle: 500 ms each.
 * Guest side: light's bursts end at 5 and 10k+6 (k = 1..99): 100 work units,
 * none late, and each of its 100 wake-ups waits exactly 1 ms (heavy's slice).
 * heavy has 6 ms of CPU at 11 and 5 more per period, so its CPU reaches 20n
 * ms 4 ms into the slice starting at 10(4n-1)+6: burst n ends at exactly
 * 40n ms, its own release 40(n-1) plus 10 passed (1 miss) and the releases
 * 40n-20, 40n-10, 40n skipped (3 more): 4 misses per burst, bursts at 40,
 * 80, ..., 1000: 25 work units, 100 guest misses. */
static void test_rtds_overload_misses(void **st)
{
    (void)st;
    json_t *j = run_cli_summary("tests/data/rtds-overload.yaml", &cli_dir);
    assert_string_equal(json_string_value(json_object_get(j, "policy")), "rtds");
    assert_true(json_is_true(json_object_get(j, "complete")));
    assert_int_equal(json_int(j, "duration_ns"), FV_SEC(1));
    json_t *light = json_domain(j, "light"), *heavy = json_domain(j, "heavy");
    print_message("light: sched misses %lld, guest misses %lld; heavy: sched misses %lld, "
                  "guest misses %lld\n", json_int(light, "sched_deadline_misses"),
                  json_int(light, "deadline_misses"), json_int(heavy, "sched_deadline_misses"),
                  json_int(heavy, "deadline_misses"));
    assert_int_equal(json_int(heavy, "sched_deadline_misses"), 100);
    assert_int_equal(json_int(light, "sched_deadline_misses"), 0);
    assert_int_equal(json_int(heavy, "deadline_misses"), 100);
    assert_int_equal(json_int(light, "deadline_misses"), 0);
    assert_int_equal(json_int(heavy, "work_units"), 25);
    assert_int_equal(json_int(light, "work_units"), 100);
    assert_int_equal(json_int(heavy, "cpu_ns"), FV_MS(500));
    assert_int_equal(json_int(light, "cpu_ns"), FV_MS(500));
    json_t *wl = json_object_get(light, "wakeup_latency_ns");
    assert_int_equal(json_int(wl, "max"), FV_MS(1));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_credit),
        cmocka_unit_test(test_weights_credit2),
        cmocka_unit_test(test_cap_credit),
        cmocka_unit_test(test_cap_credit2),
        cmocka_unit_test(test_rtds_guarantee),
        cmocka_unit_test(test_arinc653_windows_exact),
        cmocka_unit_test(test_latency_boosted_probe),
        cmocka_unit_test(test_latency_over_probe),
        cmocka_unit_test_teardown(test_rtds_overload_misses, remove_cli_dir),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
