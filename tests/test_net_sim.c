/* test_net_sim.c — vifs, netfront, netback and the guest stack end to end
 * on the virtual-time engine (an in-memory loopback stands in for the
 * net_ring port). Virtual time is deterministic, so conservation of
 * packets and the backend's CPU accounting are checked exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hv/engine.h"
#include "hv/run.h"
#include "scn_build.h"
#include "testutil.h"

enum { NO_RX_BUFFER, NO_DEST, PORT_FULL, NO_BUFFER, DISCONNECTED };

/* flood -> sink at `rate` packets/s (0: as fast as it can) for `ms`. */
static struct scenario *flood_pair(int64_t rate, int ms, enum scn_nb_port port)
{
    struct scenario *s = scn_build("credit", 2, FV_MS(ms));
    struct scn_domain *f = scn_build_dom(s, "flood", "net-flood");
    scn_build_set(f, "peer", 2);
    scn_build_set(f, "rate", rate);
    scn_build_vif(s, f);
    struct scn_domain *k = scn_build_dom(s, "sink", "net-sink");
    scn_build_vif(s, k);
    scn_build_dom0(s, port);
    return s;
}

static fv_ns_t backend_sum(const struct run_result *r)
{
    fv_ns_t sum = 0;
    for (int i = 0; i < r->nr_doms; i++)
        sum += r->doms[i].backend_cpu_ns;
    return sum;
}

/* At a low rate every datagram arrives, intact and in order (the sink
 * counts a work unit only for those), and every frame is accounted for:
 * the flood's ARP request and datagrams reach the sink, the sink's ARP
 * reply reaches the flood, and nothing is dropped. */
static void low_rate_delivers_everything(void **state)
{
    (void)state;
    struct scenario *s = flood_pair(1000, 1000, SCN_NB_RING);
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    const struct dom_result *f = &r.doms[0], *k = &r.doms[1], *d0 = &r.doms[2];
    assert_string_equal(d0->name, "Domain-0");
    assert_int_equal(d0->id, 0);
    /* One datagram per ms from the moment ARP resolved (well under 1 ms
     * in): 1000, or 999 when the last falls at the very end. */
    assert_in_range(f->work_units, 999, 1000);
    assert_int_equal(k->work_units, f->work_units);
    assert_int_equal(f->net.tx_pkts, f->work_units + 1);        /* + the ARP request */
    assert_int_equal(k->net.rx_pkts, f->net.tx_pkts);
    assert_int_equal(k->net.tx_pkts, 1);                        /* the ARP reply */
    assert_int_equal(f->net.rx_pkts, 1);
    assert_int_equal(f->net.drops + k->net.drops + d0->net.drops, 0);
    /* the ARP request padded to Ethernet's 60-byte minimum, then 64 B frames */
    assert_int_equal(f->net.tx_bytes, 60 + 64 * f->work_units);
    assert_int_equal(f->net.disconnects + k->net.disconnects, 0);
    run_result_free(&r);
    scn_build_free(s);
}

/* Domain-0's CPU is netback's: in virtual time exactly the modelled cost
 * of every pass, all of it charged to the guests it served. */
static void backend_cpu_sums_to_dom0_busy_time(void **state)
{
    (void)state;
    struct scenario *s = flood_pair(5000, 500, SCN_NB_RING);
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    const struct dom_result *f = &r.doms[0], *k = &r.doms[1], *d0 = &r.doms[2];
    assert_true(d0->cpu_ns > 0);
    assert_int_equal(backend_sum(&r), d0->cpu_ns);
    /* Per frame moved: 250 ns + 100 ns per KiB copied, each way. */
    fv_ns_t per_frame = 250 + (100 * 64) / 1024;
    assert_true(f->backend_cpu_ns >= (fv_ns_t)f->work_units * per_frame);
    assert_true(k->backend_cpu_ns >= (fv_ns_t)k->work_units * per_frame);
    run_result_free(&r);
    scn_build_free(s);
}

/* More packets, more domain-0 CPU. */
static void dom0_cpu_rises_with_rate(void **state)
{
    (void)state;
    fv_ns_t prev = 0;
    const int64_t rates[] = { 1000, 4000, 16000 };
    for (int i = 0; i < 3; i++) {
        struct scenario *s = flood_pair(rates[i], 300, SCN_NB_RING);
        struct run_result r;
        tu_sim_ok(s, &r, NULL);
        fv_ns_t busy = r.doms[2].cpu_ns;
        assert_true(busy > prev);
        if (i)          /* at least 3x for 4x the packets (bursts get fuller) */
            assert_true(busy >= 3 * prev);
        prev = busy;
        run_result_free(&r);
        scn_build_free(s);
    }
}

/* A flood as fast as the ring drains overruns the sink's RX buffers: the
 * excess is dropped and counted by cause, and every frame the flood sent
 * is either delivered or counted. */
static void flood_drops_are_counted(void **state)
{
    (void)state;
    struct scenario *s = flood_pair(0, 200, SCN_NB_RING);
    scn_build_set(&s->domains[1], "work", FV_US(10));   /* the sink: 100k datagrams/s at most */
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    const struct dom_result *f = &r.doms[0], *k = &r.doms[1];
    assert_true(f->work_units > 10000);
    assert_true(k->net.drops_by[NO_RX_BUFFER] > 0);
    assert_int_equal(k->net.drops, k->net.drops_by[NO_RX_BUFFER]);
    assert_int_equal(f->net.tx_pkts, k->net.rx_pkts + k->net.drops + f->net.drops);
    /* What the sink counted arrived intact and in order: every frame
     * delivered but the ARP request. */
    assert_true(k->work_units <= k->net.rx_pkts - 1);
    run_result_free(&r);
    scn_build_free(s);
}

/* A null port is a sink: frames leave the flood and go nowhere, counted. */
static void null_port_takes_everything(void **state)
{
    (void)state;
    struct scenario *s = flood_pair(1000, 100, SCN_NB_NULL);
    /* nobody answers ARP through a null port: the flood keeps asking */
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    const struct dom_result *f = &r.doms[0], *k = &r.doms[1];
    assert_int_equal(f->work_units, 0);
    /* an ARP request every 10 ms: at 0, 10, ..., 100 ms (the last one at
     * the very instant the run ends still goes out) */
    assert_int_equal(f->net.tx_pkts, 11);
    assert_int_equal(k->net.rx_pkts, 0);
    run_result_free(&r);
    scn_build_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(low_rate_delivers_everything),
        cmocka_unit_test(backend_cpu_sums_to_dom0_busy_time),
        cmocka_unit_test(dom0_cpu_rises_with_rate),
        cmocka_unit_test(flood_drops_are_counted),
        cmocka_unit_test(null_port_takes_everything),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
