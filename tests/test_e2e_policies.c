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
 *            (30 -> 10 -> 1 ms). */
#include "testutil.h"

#include <math.h>
#include <string.h>

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

static struct probe_lat probe_p99(const char *burst, const char *tslice, const char *ratelimit)
{
    char b[64], t[64], r[64];
    snprintf(b, sizeof(b), "domains.probe.workload.burst=%s", burst);
    snprintf(t, sizeof(t), "sched.tslice=%s", tslice);
    snprintf(r, sizeof(r), "sched.ratelimit=%s", ratelimit);
    const char *sets[] = { b, t, r };
    struct scenario scn;
    struct run_result rr;
    load_and_run("scenarios/latency-vs-hogs.yaml", sets, 3, &scn, &rr);
    struct probe_lat l = { hist_quantile(&rr.doms[0].wakeup, 0.99), rr.doms[0].wakeup.count };
    print_message("probe burst %s/30ms, tslice %s: wakeup p99 %.3f ms, max %.3f ms, %llu wake-ups\n",
                  burst, tslice, l.p99 / 1e6, rr.doms[0].wakeup.max / 1e6,
                  (unsigned long long)l.wakeups);
    free_run(&scn, &rr);
    return l;
}

/* Under its share (3 ms per 30 ms = 10%): BOOST on every wake. */
static void test_latency_boosted_probe(void **st)
{
    (void)st;
    struct probe_lat at30 = probe_p99("3ms", "30ms", "1ms");
    struct probe_lat at1 = probe_p99("3ms", "1ms", "100us");
    assert_true(at30.wakeups >= 300 && at1.wakeups >= 300);
    assert_true(at30.p99 <= (uint64_t)FV_MS(1));
    assert_true(at1.p99 <= (uint64_t)FV_US(100));
}

/* Over its share (26%): often OVER at wake, so it queues behind the hogs. */
static void test_latency_over_probe(void **st)
{
    (void)st;
    struct probe_lat at30 = probe_p99("7.8ms", "30ms", "1ms");
    struct probe_lat at10 = probe_p99("7.8ms", "10ms", "1ms");
    struct probe_lat at1 = probe_p99("7.8ms", "1ms", "100us");
    assert_true(at30.wakeups >= 100 && at10.wakeups >= 100);
    assert_true(at1.wakeups >= 1);
    /* Bounded by one 30 ms slice per hog ahead of it, plus the ratelimit ... */
    assert_true(at30.p99 <= (uint64_t)(3 * FV_MS(30) + FV_MS(1)));
    /* ... longer than one slice at 30 ms (it really waits for hogs) ... */
    assert_true(at30.p99 > (uint64_t)FV_MS(30));
    /* ... and dropping with the tslice. */
    assert_true(at10.p99 < at30.p99);
    assert_true(at1.p99 < at10.p99);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
