/* test_e2e_starvation.c — the shipped starvation scenarios as a user runs
 * them, on the virtual-time engine (deterministic: the figures in the
 * comments are what this build gives; the assertions are the issue's
 * bounds, not those figures):
 *  - io-starvation-net: under credit with charge-back off and netback
 *    fairness none, the victim's echo transactions fall below 50% of its
 *    transactions alone (254 of 2000); under fair with drr they stay at or
 *    above 90% (1989), with Jain's index over the guests >= 0.95;
 *  - io-starvation-blk: the same with blkback sfq (629 and 30090 of 31805);
 *  - a sweep of io-starvation-net over the flooder count finds a knee for
 *    credit and for fair (where the victim keeps 90% of its transactions),
 *    with knee(fair) > knee(credit) (2 and 3 flooders today);
 *  - every shipped scenario draws its graphs (short runs).
 * "Alone" is the same file with the neighbours' workloads set to idle. */
#include "testutil.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run scenario `scn` with `extra` into a fresh directory; its summary. */
static json_t *run(const char *scn, const char *extra, char **dir_out)
{
    char *dir = tu_tmpdir(), *args = NULL, *out = NULL;
    if (asprintf(&args, "run scenarios/%s.yaml --out %s --quiet --no-plot %s", scn, dir, extra) < 0)
        abort();
    int rc = tu_fairvisor(args, &out);
    if (rc != 0)
        fail_msg("fairvisor %s -> %d\n%s", args, rc, out);
    free(args);
    free(out);
    json_t *j = tu_summary(dir);
    if (dir_out)
        *dir_out = dir;
    else {
        tu_rmtree(dir);
        free(dir);
    }
    return j;
}

static json_t *dom(json_t *j, const char *name)
{
    json_t *doms = json_object_get(j, "domains");
    for (size_t i = 0; i < json_array_size(doms); i++) {
        json_t *d = json_array_get(doms, i);
        if (strcmp(json_string_value(json_object_get(d, "name")), name) == 0)
            return d;
    }
    fail_msg("no domain %s in summary.json", name);
    return NULL;
}

static double work(json_t *j, const char *name)
{
    return (double)json_integer_value(json_object_get(dom(j, name), "work_units"));
}

static double fairness(json_t *j, const char *key)
{
    return json_real_value(json_object_get(json_object_get(j, "fairness"), key));
}

static bool chargeback(json_t *j)
{
    return json_is_true(json_object_get(j, "chargeback"));
}

/* alone, then the two policies: the victim's work units against alone. */
static void starvation_case(const char *scn, const char *alone, const char *protect)
{
    json_t *a = run(scn, alone, NULL);
    json_t *c = run(scn, "", NULL);
    json_t *f = run(scn, protect, NULL);
    double base = work(a, "victim"), wc = work(c, "victim"), wf = work(f, "victim");
    print_message("%s: victim alone %.0f, credit %.0f (%.1f%%), fair %.0f (%.1f%%), "
                  "jain over guests credit %.3f fair %.3f\n", scn, base, wc, 100 * wc / base, wf,
                  100 * wf / base, fairness(c, "jain_guests"), fairness(f, "jain_guests"));
    assert_true(base > 0);
    assert_string_equal(json_string_value(json_object_get(c, "policy")), "credit");
    assert_false(chargeback(c));
    assert_string_equal(json_string_value(json_object_get(f, "policy")), "fair");
    assert_true(chargeback(f));
    assert_true(wc < 0.5 * base);
    assert_true(wf >= 0.9 * base);
    assert_true(fairness(f, "jain_guests") >= 0.95);
    /* under credit the guests are not treated alike */
    assert_true(fairness(c, "jain_guests") < 0.95);
    json_decref(a);
    json_decref(c);
    json_decref(f);
}

static void test_io_starvation_net(void **st)
{
    (void)st;
    starvation_case("io-starvation-net",
                    "--set 'domains.flood.workload={kind: idle}' "
                    "--set 'domains.sink.workload={kind: idle}' "
                    "--set 'domains.hog.workload={kind: idle}'",
                    "--set sched.policy=fair --set netback.fairness=drr");
}

static void test_io_starvation_blk(void **st)
{
    (void)st;
    starvation_case("io-starvation-blk",
                    "--set 'domains.flood.workload={kind: idle}' "
                    "--set 'domains.hog.workload={kind: idle}'",
                    "--set sched.policy=fair --set blkback.fairness=sfq");
}

/* multi-boost: credit's BOOST is FIFO among twelve wakers, fair's order is
 * by virtual time: the probe's wake-up p99 (6 ms under credit, 0 under fair). */
static void test_multi_boost(void **st)
{
    (void)st;
    json_t *c = run("multi-boost", "", NULL), *f = run("multi-boost", "--set sched.policy=fair", NULL);
    json_int_t pc = json_integer_value(json_object_get(json_object_get(dom(c, "probe"),
                                                                       "wakeup_latency_ns"), "p99"));
    json_int_t pf = json_integer_value(json_object_get(json_object_get(dom(f, "probe"),
                                                                       "wakeup_latency_ns"), "p99"));
    print_message("multi-boost: probe wake-up p99 credit %lld ns, fair %lld ns\n", (long long)pc,
                  (long long)pf);
    assert_true(pc >= 1000000);         /* behind at least one 1 ms burst */
    assert_true(pf < pc / 10);
    json_decref(c);
    json_decref(f);
}

/* ping-vs-hogs: a 30 ms slice against 1 ms: the pinger's rtt p99. */
static void test_ping_vs_hogs(void **st)
{
    (void)st;
    json_t *l = run("ping-vs-hogs", "", NULL), *s = run("ping-vs-hogs", "--set sched.tslice=1ms", NULL);
    json_int_t rl = json_integer_value(json_object_get(
        json_object_get(json_object_get(dom(l, "pinger"), "net"), "latency_ns"), "p99"));
    json_int_t rs = json_integer_value(json_object_get(
        json_object_get(json_object_get(dom(s, "pinger"), "net"), "latency_ns"), "p99"));
    print_message("ping-vs-hogs: rtt p99 tslice 30ms %lld ns, 1ms %lld ns\n", (long long)rl,
                  (long long)rs);
    assert_true(rl >= 30000000);        /* at least one 30 ms slice */
    assert_true(rs * 5 < rl);
    json_decref(l);
    json_decref(s);
}

/* dom0-overload: Domain-0 spends >= 20% of the host on web's frames, which
 * credit charges to no one and charge-back charges to web exactly. */
static void test_dom0_overload(void **st)
{
    (void)st;
    json_t *c = run("dom0-overload", "", NULL);
    json_t *b = run("dom0-overload", "--set sched.chargeback=on", NULL);
    json_t *d0 = dom(c, "Domain-0"), *web = dom(b, "web");
    double share = json_real_value(json_object_get(d0, "cpu_share"));
    print_message("dom0-overload: Domain-0 %.1f%% of the host\n", 100 * share);
    assert_true(share >= 0.2);
    assert_int_equal(json_integer_value(json_object_get(dom(c, "web"), "charged_ns")), 0);
    assert_true(json_integer_value(json_object_get(web, "charged_ns")) > 0);
    assert_int_equal(json_integer_value(json_object_get(web, "charged_ns")),
                     json_integer_value(json_object_get(web, "backend_cpu_ns")));
    json_decref(c);
    json_decref(b);
}

/* The density sweep: knees.csv names a knee per policy, fair's larger. */
static void test_sweep_knees(void **st)
{
    (void)st;
    char *dir = tu_tmpdir(), *args = NULL, *out = NULL;
    tu_rmtree(dir);                     /* sweep wants a new (or empty) directory */
    if (asprintf(&args, "sweep scenarios/io-starvation-net.yaml --vary domains.flood.count=1..4 "
                 "--policies credit,fair --slo 'victim.work_units>=1800' -j 2 --out %s", dir) < 0)
        abort();
    int rc = tu_fairvisor(args, &out);
    if (rc != 0)
        fail_msg("fairvisor %s -> %d\n%s", args, rc, out);
    char *p = NULL;
    if (asprintf(&p, "%s/knees.csv", dir) < 0)
        abort();
    char *knees = tu_read(p, NULL);
    assert_non_null(knees);
    int kc = -1, kf = -1;
    for (char *line = strtok(knees, "\n"); line; line = strtok(NULL, "\n")) {
        int k = -1;
        if (sscanf(line, "credit,,domains.flood.count,%d,", &k) == 1)
            kc = k;
        else if (sscanf(line, "fair,,domains.flood.count,%d,", &k) == 1)
            kf = k;
    }
    print_message("sweep knees: credit %d, fair %d\n%s", kc, kf, out);
    assert_true(kc >= 1 && kf >= 1);
    assert_true(kf > kc);
    free(p);
    if (asprintf(&p, "%s/plots/density.png", dir) < 0)
        abort();
    size_t len = 0;
    char *png = tu_read(p, &len);
    assert_non_null(png);
    assert_memory_equal(png, "\x89PNG", 4);
    free(png);
    free(p);
    free(knees);
    free(args);
    free(out);
    tu_rmtree(dir);
    free(dir);
}

/* Every shipped scenario of the issue draws its graphs. */
static void test_graphs_exist(void **st)
{
    (void)st;
    if (tu_run("command -v gnuplot", NULL) != 0)
        fail_msg("gnuplot not found (tools/deps installs gnuplot-nox): graphs not drawn");
    static const struct { const char *scn, *graphs[4]; } cases[] = {
        { "io-starvation-net", { "net-throughput", "net-rtt-cdf", "share", NULL } },
        { "io-starvation-blk", { "blk-iops", "blk-latency-cdf", "share", NULL } },
        { "dom0-overload", { "cpu-share", "net-throughput", "share", NULL } },
        { "ping-vs-hogs", { "net-rtt-cdf", "cpu-share", NULL } },
        { "multi-boost", { "wakeup-latency-cdf", "cpu-share", "share", NULL } },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *dir = tu_tmpdir(), *args = NULL, *out = NULL;
        if (asprintf(&args, "run scenarios/%s.yaml --out %s --quiet --set duration=500ms",
                     cases[i].scn, dir) < 0)
            abort();
        int rc = tu_fairvisor(args, &out);
        if (rc != 0)
            fail_msg("fairvisor %s -> %d\n%s", args, rc, out);
        for (int g = 0; cases[i].graphs[g]; g++) {
            char *p = NULL;
            if (asprintf(&p, "%s/plots/%s.png", dir, cases[i].graphs[g]) < 0)
                abort();
            size_t len = 0;
            char *data = tu_read(p, &len);
            if (!data)
                fail_msg("%s: no %s after `fairvisor %s`\n%s", cases[i].scn, p, args, out);
            assert_memory_equal(data, "\x89PNG", 4);
            free(data);
            free(p);
        }
        free(args);
        free(out);
        tu_rmtree(dir);
        free(dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io_starvation_net),
        cmocka_unit_test(test_io_starvation_blk),
        cmocka_unit_test(test_multi_boost),
        cmocka_unit_test(test_ping_vs_hogs),
        cmocka_unit_test(test_dom0_overload),
        cmocka_unit_test(test_sweep_knees),
        cmocka_unit_test(test_graphs_exist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
