/* test_net_qos_sim.c — netback's service rules end to end on the
 * virtual-time engine: a vif's credit rate limit, DRR weights, and the
 * net-echo client's window and timeout. Virtual time is deterministic, so
 * the credit math is checked to the byte and the DRR shares to a tight
 * tolerance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hv/engine.h"
#include "hv/run.h"
#include "scn_build.h"
#include "testutil.h"

#define FRAME 1514

static struct scn_domain *flood_to(struct scenario *s, const char *name, int sink_id)
{
    struct scn_domain *f = scn_build_dom(s, name, "net-flood");
    scn_build_set(f, "peer", sink_id);
    scn_build_set(f, "size", FRAME);
    scn_build_vif(s, f);
    return f;
}

/* (a) A flood of full frames through `rate: 10Mbit/s@50ms` (62500 bytes
 * a window) to a sink for 2 s. The flood is always backlogged, so netback
 * accepts exactly what the credit allows: windows start at 0, 50 ms, ...,
 * 2000 ms (the engine runs what is due at the run's last instant, as the
 * null-port test of test_net_sim.c shows), 41 grants; the credit never
 * reaches the 128 KiB cap (at most 62500 + 1513 is left when a window
 * starts), so every byte of it goes out but the part of the last window no
 * whole frame fits in. The first frame is the flood's 60-byte ARP request,
 * paid from the same credit. Exact. */
static void rate_limit_run(enum scn_nb_fairness fairness)
{
    struct scenario *s = scn_build("credit", 2, FV_SEC(2));
    s->netback.fairness = fairness;
    struct scn_vif *vif = &flood_to(s, "flood", 2)->vifs[0];   /* (vifs outlive the realloc) */
    vif->rate_bytes = 62500;
    vif->rate_interval = FV_MS(50);
    scn_build_vif(s, scn_build_dom(s, "sink", "net-sink"));
    scn_build_dom0(s, SCN_NB_RING);
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    const struct dom_result *fl = &r.doms[0], *k = &r.doms[1];
    const uint64_t grants = 41, credit = 62500, arp = 60;
    uint64_t frames = (grants * credit - arp) / FRAME;          /* 1692 */
    assert_int_equal(frames, 1692);
    assert_int_equal(fl->net.tx_bytes, arp + frames * FRAME);   /* 2561748 */
    assert_int_equal(fl->net.tx_pkts, frames + 1);
    /* Nothing dropped for it: the stalled requests waited on the ring, and
     * everything netback took reached the sink. */
    assert_int_equal(fl->net.drops, 0);
    assert_int_equal(k->net.drops, 0);
    assert_int_equal(k->net.rx_pkts, fl->net.tx_pkts);
    assert_int_equal(k->work_units, frames);
    /* Unlimited, the same flood sends far more in a tenth of the time. */
    run_result_free(&r);
    vif->rate_bytes = 0;
    s->duration = FV_MS(200);
    tu_sim_ok(s, &r, NULL);
    assert_true(r.doms[0].net.tx_bytes > 20 * (arp + frames * FRAME));
    run_result_free(&r);
    scn_build_free(s);
}

static void rate_limit_accepts_the_credit(void **state)
{
    (void)state;
    rate_limit_run(SCN_NB_FAIR_NONE);
}

static void rate_limit_accepts_the_credit_drr(void **state)
{
    (void)state;
    rate_limit_run(SCN_NB_FAIR_DRR);
}

/* (b) drr: two floods of full frames, weights 256 and 768, to one sink for
 * 1 s; Domain-0 (one vCPU) is saturated: netback is the bottleneck. DRR
 * gives the bytes 1:3: every pass takes 64 requests for each (both rings
 * stay full), 32 and 96 of them. Tolerance 1%: a pass cut short at the
 * run's end and the start (ARP, the first ring fills) are the only
 * departures (measured: 2.9999997). With fairness none both get the same. */
static void drr_weights_share_bytes(void **state)
{
    (void)state;
    for (int drr = 0; drr < 2; drr++) {
        struct scenario *s = scn_build("credit", 2, FV_SEC(1));
        s->netback.fairness = drr ? SCN_NB_FAIR_DRR : SCN_NB_FAIR_NONE;
        flood_to(s, "light", 3)->vifs[0].weight = 256;
        flood_to(s, "heavy", 3)->vifs[0].weight = 768;
        scn_build_vif(s, scn_build_dom(s, "sink", "net-sink"));
        scn_build_dom0(s, SCN_NB_RING);
        struct run_result r;
        tu_sim_ok(s, &r, NULL);
        const struct dom_result *l = &r.doms[0], *h = &r.doms[1], *d0 = &r.doms[3];
        /* Domain-0's one vCPU ran all the time: 1 of the 2 pCPUs. */
        assert_true(d0->cpu_share > 0.49);
        double ratio = (double)h->net.tx_bytes / (double)l->net.tx_bytes;
        if (drr)
            assert_true(ratio > 2.97 && ratio < 3.03);
        else
            assert_true(ratio > 0.99 && ratio < 1.01);
        assert_true(l->net.tx_bytes > 50000000);
        run_result_free(&r);
        scn_build_free(s);
    }
}

/* An echo client and its server; window and timeout as given, rate 0 (no
 * pacing: the next request as soon as the window has room). */
static struct scenario *echo_pair(int64_t window, fv_ns_t timeout, int64_t server_port)
{
    struct scenario *s = scn_build("credit", 2, FV_SEC(1));
    struct scn_domain *c = scn_build_dom(s, "client", "net-echo");
    scn_build_set(c, "peer", 2);
    scn_build_set(c, "rate", 0);
    scn_build_set(c, "window", window);
    scn_build_set(c, "timeout", timeout);
    scn_build_vif(s, c);
    struct scn_domain *v = scn_build_dom(s, "server", "net-echo");
    scn_build_set(v, "role", 1);
    scn_build_set(v, "peer", 0);
    scn_build_set(v, "port", server_port);
    scn_build_vif(s, v);
    scn_build_dom0(s, SCN_NB_RING);
    return s;
}

/* (c) window 1, alone: a closed loop. Every request is answered (no loss),
 * each answer is one work unit and one latency sample, and at most one
 * request is in flight at any time: the server answered all but the one
 * outstanding at the end. */
static void echo_window_one_is_closed_loop(void **state)
{
    (void)state;
    struct scenario *s = echo_pair(1, FV_MS(100), 7);
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    const struct dom_result *c = &r.doms[0], *v = &r.doms[1];
    assert_true(c->work_units > 1000);
    assert_int_equal(c->app_latency.count, c->work_units);
    assert_int_equal(c->net.drops + v->net.drops, 0);
    /* requests = the client's frames but its ARP request */
    uint64_t requests = c->net.tx_pkts - 1;
    assert_in_range(requests - c->work_units, 0, 1);
    assert_in_range(v->work_units - c->work_units, 0, 1);
    /* Each transaction waits for the one before: the mean round trip is
     * the run divided by the transactions. */
    assert_true(c->app_latency.sum <= (uint64_t)FV_SEC(1));
    assert_true(c->app_latency.sum >= (uint64_t)FV_SEC(1) * 9 / 10);
    uint64_t one = c->work_units;
    run_result_free(&r);
    scn_build_free(s);

    /* window 4: more requests in flight, more transactions per second */
    s = echo_pair(4, FV_MS(100), 7);
    tu_sim_ok(s, &r, NULL);
    assert_true(r.doms[0].work_units > one);
    assert_in_range(r.doms[0].net.tx_pkts - 1 - r.doms[0].work_units, 0, 4);
    run_result_free(&r);
    scn_build_free(s);
}

/* A server on another port answers nothing: each request of a window-1
 * client is lost after the timeout, which frees its slot; so it sends one
 * every 10 ms, and counts no work and no latency. */
static void echo_timeout_frees_the_slot(void **state)
{
    (void)state;
    struct scenario *s = echo_pair(1, FV_MS(10), 8);
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    const struct dom_result *c = &r.doms[0];
    assert_int_equal(c->work_units, 0);
    assert_int_equal(c->app_latency.count, 0);
    /* after ARP (well under 1 ms), at t0, t0 + 10 ms, ... < 1 s */
    assert_in_range(c->net.tx_pkts - 1, 99, 100);
    run_result_free(&r);
    scn_build_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rate_limit_accepts_the_credit),
        cmocka_unit_test(rate_limit_accepts_the_credit_drr),
        cmocka_unit_test(drr_weights_share_bytes),
        cmocka_unit_test(echo_window_one_is_closed_loop),
        cmocka_unit_test(echo_timeout_frees_the_slot),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
