/* test_sim.c — the virtual-time engine: exact accounting of compute spans
 * cut by preemption, timers and wake-ups, starvation detection, stopping
 * early, determinism. Scenarios are built in code (scn_build.h) so these
 * tests do not depend on the YAML loader. Virtual time is deterministic:
 * every expectation here is exact unless it says otherwise. */
#include "testutil.h"

#include <signal.h>
#include <string.h>

#include "hv/engine.h"
#include "scn_build.h"

/* A hog alone receives the whole pCPU, one work unit per chunk. */
static void test_hog_alone_exact(void **st)
{
    (void)st;
    struct scenario *s = scn_build("credit", 1, FV_SEC(1));
    scn_build_dom(s, "hog", "cpu-hog");
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    assert_true(r.complete);
    assert_int_equal(r.duration_ns, FV_SEC(1));
    assert_int_equal(r.doms[0].cpu_ns, FV_SEC(1));
    assert_int_equal(r.doms[0].work_units, 1000);
    assert_true(r.doms[0].cpu_share == 1.0);
    assert_true(r.doms[0].entitled_share > 0.999999 && r.doms[0].entitled_share < 1.000001);
    assert_int_equal(r.doms[0].starvation_events, 0);
    run_result_free(&r);
    scn_build_free(s);
}

/* Compute spans cut by preemption resume exactly where they stopped: with a
 * 7 ms chunk that no slice divides, each hog's work units are exactly its
 * CPU time divided by the chunk, and the pCPU is never idle. */
static void test_preempted_compute_resumes(void **st)
{
    (void)st;
    struct scenario *s = scn_build("credit", 1, FV_SEC(10));
    scn_build_set(scn_build_dom(s, "a", "cpu-hog"), "chunk", FV_MS(7));
    scn_build_set(scn_build_dom(s, "b", "cpu-hog"), "chunk", FV_MS(7));
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    assert_int_equal(r.doms[0].cpu_ns + r.doms[1].cpu_ns, FV_SEC(10));
    for (int d = 0; d < 2; d++) {
        assert_true(r.doms[d].cpu_ns > FV_SEC(4));
        assert_int_equal(r.doms[d].work_units, (uint64_t)(r.doms[d].cpu_ns / FV_MS(7)));
    }
    run_result_free(&r);
    scn_build_free(s);
}

/* A periodic task alone: 100 releases in 1 s, each served at once. */
static void test_periodic_alone(void **st)
{
    (void)st;
    struct scenario *s = scn_build("credit", 1, FV_SEC(1));
    struct scn_domain *d = scn_build_dom(s, "probe", "cpu-periodic");
    scn_build_set(d, "period", FV_MS(10));
    scn_build_set(d, "burst", FV_MS(1));
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    assert_int_equal(r.doms[0].cpu_ns, FV_MS(100));
    assert_int_equal(r.doms[0].work_units, 100);
    assert_int_equal(r.doms[0].deadline_misses, 0);
    /* Release 0 is the boot; 10 ms .. 1 s are wake-ups (the end is inclusive:
     * the release due at exactly 1 s happens, its burst gets no time). */
    assert_int_equal(r.doms[0].wakeup.count, 100);
    assert_int_equal(r.doms[0].wakeup.max, 0);
    /* It wanted 10% of the pCPU and was entitled to exactly that. */
    assert_true(r.doms[0].entitled_share > 0.0999 && r.doms[0].entitled_share < 0.1001);
    run_result_free(&r);
    scn_build_free(s);
}

/* Under null, a second vCPU on a single pCPU never runs: one starvation
 * episode covering the whole run, none for the owner. */
static void test_starvation_detected(void **st)
{
    (void)st;
    struct scenario *s = scn_build("null", 1, FV_SEC(2));
    scn_build_dom(s, "owner", "cpu-hog");
    scn_build_dom(s, "starved", "cpu-hog");
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    assert_int_equal(r.doms[0].cpu_ns, FV_SEC(2));
    assert_int_equal(r.doms[1].cpu_ns, 0);
    assert_int_equal(r.doms[0].starvation_events, 0);
    assert_int_equal(r.doms[1].starvation_events, 1);
    assert_int_equal(r.doms[1].starved_ns, FV_SEC(2));
    assert_int_equal(r.starvation_events, 1);
    run_result_free(&r);
    scn_build_free(s);
}

/* An idle domain receives nothing and is entitled to nothing. */
static void test_idle_domain(void **st)
{
    (void)st;
    struct scenario *s = scn_build("credit", 2, FV_SEC(1));
    scn_build_dom(s, "idle", "idle");
    scn_build_dom(s, "hog", "cpu-hog");
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    assert_int_equal(r.doms[0].cpu_ns, 0);
    assert_true(r.doms[0].entitled_share == 0.0);
    assert_int_equal(r.doms[1].cpu_ns, FV_SEC(1));
    assert_true(r.doms[1].cpu_share == 0.5);            /* of 2 pCPUs */
    run_result_free(&r);
    scn_build_free(s);
}

struct stop_ctx {
    volatile sig_atomic_t *flag;
    int rows;
};

static void stop_after_first_sample(void *ctx, const struct timeline_row *r, int n)
{
    struct stop_ctx *c = ctx;
    (void)r;
    c->rows += n;
    *c->flag = 1;
}

/* A stop request ends the run at the next event, keeping what was measured. */
static void test_stop_keeps_partial(void **st)
{
    (void)st;
    struct scenario *s = scn_build("credit", 1, FV_SEC(10));
    scn_build_dom(s, "hog", "cpu-hog");
    volatile sig_atomic_t flag = 0;
    struct stop_ctx c = { &flag, 0 };
    struct engine_opts o = { .sink = { stop_after_first_sample, &c }, .stop = &flag };
    struct run_result r;
    tu_sim_ok(s, &r, &o);
    assert_false(r.complete);
    assert_true(r.duration_ns >= FV_MS(100) && r.duration_ns < FV_SEC(1));
    assert_int_equal(r.doms[0].cpu_ns, r.duration_ns);
    assert_true(c.rows >= 1);
    run_result_free(&r);
    scn_build_free(s);
}

static struct scenario *bursty_scenario(uint64_t seed)
{
    struct scenario *s = scn_build("credit", 2, FV_SEC(5));
    s->seed = seed;
    for (int i = 0; i < 6; i++) {
        char name[16];
        snprintf(name, sizeof(name), "b%d", i);
        scn_build_dom(s, name, "cpu-bursty");
    }
    return s;
}

static int same_result(const struct run_result *a, const struct run_result *b)
{
    if (a->nr_doms != b->nr_doms || a->jain != b->jain || a->events != b->events)
        return 0;
    for (int d = 0; d < a->nr_doms; d++) {
        const struct dom_result *x = &a->doms[d], *y = &b->doms[d];
        if (x->cpu_ns != y->cpu_ns || x->work_units != y->work_units ||
            x->entitled_ns != y->entitled_ns || memcmp(&x->wait, &y->wait, sizeof(x->wait)) ||
            memcmp(&x->wakeup, &y->wakeup, sizeof(x->wakeup)))
            return 0;
    }
    return 1;
}

static void test_determinism(void **st)
{
    (void)st;
    struct run_result r1, r2, r3;
    struct scenario *s1 = bursty_scenario(42), *s2 = bursty_scenario(42), *s3 = bursty_scenario(43);
    tu_sim_ok(s1, &r1, NULL);
    tu_sim_ok(s2, &r2, NULL);
    tu_sim_ok(s3, &r3, NULL);
    assert_true(same_result(&r1, &r2));
    assert_false(same_result(&r1, &r3));
    run_result_free(&r1);
    run_result_free(&r2);
    run_result_free(&r3);
    scn_build_free(s1);
    scn_build_free(s2);
    scn_build_free(s3);
}

/* Event-channel ping-pong in virtual time: each message costs 1 us of CPU,
 * the pCPUs are otherwise idle, so every round trip is exactly 2 us; the
 * client binds at 100 us (its first try finds no port and sleeps 100 us). */
static void test_evtchn_pingpong_exact(void **st)
{
    (void)st;
    struct scenario *s = scn_build("credit", 2, FV_SEC(3));
    struct scn_domain *c = scn_build_dom(s, "client", "evtchn-ping");
    scn_build_set(c, "role", 0);
    scn_build_set(c, "peer", 2);
    struct scn_domain *v = scn_build_dom(s, "server", "evtchn-ping");
    scn_build_set(v, "role", 1);
    scn_build_set(v, "peer", 1);
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    uint64_t want = (uint64_t)((FV_SEC(3) - FV_US(100)) / FV_US(2));
    assert_int_equal(r.doms[0].work_units, want);
    assert_int_equal(r.doms[1].work_units, want);
    assert_int_equal(r.doms[0].app_latency.min, 2000);
    assert_int_equal(r.doms[0].app_latency.max, 2000);
    run_result_free(&r);
    scn_build_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hog_alone_exact),
        cmocka_unit_test(test_preempted_compute_resumes),
        cmocka_unit_test(test_periodic_alone),
        cmocka_unit_test(test_starvation_detected),
        cmocka_unit_test(test_idle_domain),
        cmocka_unit_test(test_stop_keeps_partial),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_evtchn_pingpong_exact),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
