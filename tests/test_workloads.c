/* test_workloads.c — each workload parameter changes what the guest does,
 * by exactly what it should, in virtual time (sim engine; scenarios built in
 * code with scn_build.h). Every expectation is exact, derived in its
 * comment, except the random draws of cpu-bursty, whose tolerance is derived
 * from the number of bursts.
 *   cpu-bursty:   fixed on/off gives a duty cycle of on/(on+off) to the
 *                 nanosecond; exponential and uniform draws converge to it
 *                 within 5 standard deviations of the ratio of sums;
 *   cpu-periodic: `offset` delays the first release: exact work units,
 *                 CPU time and wake-ups;
 *   evtchn-ping:  `work` per message: every round trip is exactly 2 x work,
 *                 so the count of round trips in the run is exact. */
#include "testutil.h"

#include <math.h>
#include <string.h>

#include "hv/engine.h"
#include "scn_build.h"

static void run_ok(const struct scenario *s, struct run_result *r)
{
    tu_sim_ok(s, r, NULL);
    assert_true(r->complete);
}

/* ---- cpu-bursty ----------------------------------------------------------------- */

enum { DIST_EXPONENTIAL = 0, DIST_UNIFORM = 1, DIST_FIXED = 2 };

/* Alone on a pCPU, dist fixed, on 3 ms, off 7 ms, 1 s: cycle k computes
 * [10k, 10k+3) ms (never waits: the pCPU is its own) and sleeps until
 * 10k+10. Cycles 0..99 complete (the last burst ends at 993 ms); the wake-up
 * at exactly 1 s happens (the end is inclusive) but its burst gets no time:
 * 300 ms of CPU, 100 work units, 100 wake-ups (10 ms .. 1 s; the boot is
 * not one), each served at once. Ignoring `off` would give the whole 1 s. */
static void test_bursty_fixed_duty_cycle(void **st)
{
    (void)st;
    struct scenario *s = scn_build("credit", 1, FV_SEC(1));
    struct scn_domain *d = scn_build_dom(s, "bursty", "cpu-bursty");
    scn_build_set(d, "on", FV_MS(3));
    scn_build_set(d, "off", FV_MS(7));
    scn_build_set(d, "dist", DIST_FIXED);
    struct run_result r;
    run_ok(s, &r);
    print_message("bursty fixed 3ms/7ms: cpu %.3f ms, %llu bursts\n", r.doms[0].cpu_ns / 1e6,
                  (unsigned long long)r.doms[0].work_units);
    assert_int_equal(r.doms[0].cpu_ns, FV_MS(300));
    assert_int_equal(r.doms[0].work_units, 100);
    assert_true(r.doms[0].cpu_share == 0.3);
    assert_int_equal(r.doms[0].wakeup.count, 100);
    assert_int_equal(r.doms[0].wakeup.max, 0);
    run_result_free(&r);
    scn_build_free(s);
}

/* Random on/off spans, alone on a pCPU for 100 s with means on 5 ms and
 * off 20 ms: the share is A/(A+B), A the sum of N on-draws and B of N
 * off-draws, N the number of bursts (about 4000). With cv the draws'
 * coefficient of variation (exponential 1, uniform on 0..2 x mean 1/sqrt 3),
 * Var A = N cv^2 on^2, Var B = N cv^2 off^2, and to first order (delta
 * method) sd(A/(A+B)) = cv sqrt 2 on off / ((on+off)^2 sqrt N): 0.0036 for
 * exponential draws. Allowed: 5 sd around on/(on+off) = 0.2, plus one
 * cycle's worth (on/duration) for the burst cut by the end of the run.
 * Ignoring `off` would give a share of 1; ignoring `on` (or the mean of
 * either) moves it by far more than the tolerance. */
static void check_bursty_random(int dist, double cv, const char *what)
{
    const fv_ns_t on = FV_MS(5), off = FV_MS(20), dur = FV_SEC(100);
    struct scenario *s = scn_build("credit", 1, dur);
    struct scn_domain *d = scn_build_dom(s, "bursty", "cpu-bursty");
    scn_build_set(d, "on", on);
    scn_build_set(d, "off", off);
    scn_build_set(d, "dist", dist);
    struct run_result r;
    run_ok(s, &r);
    double n = (double)r.doms[0].work_units;
    double want = (double)on / (double)(on + off);
    double sd = cv * sqrt(2.0) * (double)on * (double)off /
                ((double)(on + off) * (double)(on + off) * sqrt(n));
    double tol = 5 * sd + (double)on / (double)dur;
    double got = (double)r.doms[0].cpu_ns / (double)dur;
    print_message("bursty %s 5ms/20ms: share %.5f over %.0f bursts, expected %.3f +- %.5f\n", what,
                  got, n, want, tol);
    if (fabs(got - want) > tol)
        fail_msg("bursty %s: share %.5f, expected %.3f +- %.5f (5 sd over %.0f bursts)", what, got,
                 want, tol, n);
    /* About duration / (on + off) = 4000 bursts (wide bounds: the share is
     * the real test, this says the tolerance rests on that many). */
    if (n < 3000 || n > 5000)
        fail_msg("bursty %s: %.0f bursts in 100 s, expected about 4000", what, n);
    run_result_free(&r);
    scn_build_free(s);
}

static void test_bursty_exponential_duty_cycle(void **st)
{
    (void)st;
    check_bursty_random(DIST_EXPONENTIAL, 1.0, "exponential");
}

static void test_bursty_uniform_duty_cycle(void **st)
{
    (void)st;
    check_bursty_random(DIST_UNIFORM, 1.0 / sqrt(3.0), "uniform");
}

/* ---- cpu-periodic offset --------------------------------------------------------- */

/* Alone on a pCPU, period 10 ms, burst 1 ms, offset 250 ms, 1 s: it sleeps
 * from the boot until 250 ms, then releases at 250 + 10k ms, k = 0..75 (the
 * one at exactly 1 s happens, its burst gets no time): 75 bursts of 1 ms
 * complete, 76 wake-ups, each served at once, none late. Without the offset
 * it would complete 100 bursts (0 .. 990 ms). */
static void test_periodic_offset(void **st)
{
    (void)st;
    struct scenario *s = scn_build("credit", 1, FV_SEC(1));
    struct scn_domain *d = scn_build_dom(s, "probe", "cpu-periodic");
    scn_build_set(d, "period", FV_MS(10));
    scn_build_set(d, "burst", FV_MS(1));
    scn_build_set(d, "offset", FV_MS(250));
    struct run_result r;
    run_ok(s, &r);
    print_message("periodic offset 250ms: %llu bursts, cpu %.3f ms, %llu wake-ups\n",
                  (unsigned long long)r.doms[0].work_units, r.doms[0].cpu_ns / 1e6,
                  (unsigned long long)r.doms[0].wakeup.count);
    assert_int_equal(r.doms[0].work_units, 75);
    assert_int_equal(r.doms[0].cpu_ns, FV_MS(75));
    assert_int_equal(r.doms[0].wakeup.count, 76);
    assert_int_equal(r.doms[0].wakeup.max, 0);
    assert_int_equal(r.doms[0].deadline_misses, 0);
    /* Every burst starts at its release (the guest's own latency sample). */
    assert_int_equal(r.doms[0].app_latency.count, 76);
    assert_int_equal(r.doms[0].app_latency.max, 0);
    run_result_free(&r);
    scn_build_free(s);
}

/* ---- evtchn-ping work ------------------------------------------------------------ */

/* Client and server on two pCPUs (credit, nothing else running), work 7 us
 * per message. The client's first bind finds no port (the server, booted
 * after it, has not allocated one yet) and it retries 100 us later. From
 * T = 100 us each round trip is: client computes 7 us, sends (the idle
 * server pCPU runs the server at once), server computes 7 us, sends, the
 * client wakes at once: exactly 14 us. Round trips completed by 1 s (the
 * end inclusive): floor((1 s - 100 us) / 14 us) = floor(999900 / 14) =
 * 71421, the last at 100 + 71421 x 14 = 999994 us; both sides count each.
 * CPU: the server 71421 x 7 us = 499947 us; the client that plus the 6 us
 * of the next message it was computing when the run ended = 499953 us.
 * Ignoring `work` (1 us per message) would give 499950 round trips. */
static void test_evtchn_ping_work(void **st)
{
    (void)st;
    struct scenario *s = scn_build("credit", 2, FV_SEC(1));
    struct scn_domain *c = scn_build_dom(s, "client", "evtchn-ping");
    scn_build_set(c, "role", 0);
    scn_build_set(c, "peer", 2);
    scn_build_set(c, "work", FV_US(7));
    struct scn_domain *v = scn_build_dom(s, "server", "evtchn-ping");
    scn_build_set(v, "role", 1);
    scn_build_set(v, "peer", 1);
    scn_build_set(v, "work", FV_US(7));
    struct run_result r;
    run_ok(s, &r);
    print_message("evtchn-ping work 7us: %llu round trips, client cpu %lld ns, server cpu %lld ns\n",
                  (unsigned long long)r.doms[0].work_units, (long long)r.doms[0].cpu_ns,
                  (long long)r.doms[1].cpu_ns);
    const uint64_t want = (uint64_t)((FV_SEC(1) - FV_US(100)) / FV_US(14));
    assert_int_equal(want, 71421);
    assert_int_equal(r.doms[0].work_units, want);
    assert_int_equal(r.doms[1].work_units, want);
    assert_int_equal(r.doms[0].app_latency.count, want);
    assert_int_equal(r.doms[0].app_latency.min, FV_US(14));
    assert_int_equal(r.doms[0].app_latency.max, FV_US(14));
    assert_int_equal(r.doms[1].cpu_ns, FV_US(499947));
    assert_int_equal(r.doms[0].cpu_ns, FV_US(499953));
    run_result_free(&r);
    scn_build_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bursty_fixed_duty_cycle),
        cmocka_unit_test(test_bursty_exponential_duty_cycle),
        cmocka_unit_test(test_bursty_uniform_duty_cycle),
        cmocka_unit_test(test_periodic_offset),
        cmocka_unit_test(test_evtchn_ping_work),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
