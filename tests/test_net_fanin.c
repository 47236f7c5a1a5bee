/* test_net_fanin.c — many senders into one receiver on the virtual-time
 * engine. A receiver whose TX ring fills up (netback takes at most 64 of a
 * vif's TX requests a pass while it may deliver a whole RX ring) waits for
 * TX completions with received frames still on its RX ring; that wait must
 * block until netback answers, not return at once because of the RX
 * responses it is not taking, or the guest spins at one instant of virtual
 * time and the hypervisor crashes it as hostile. And a sink must tell more
 * senders apart than it used to have room for. Each case crashed the
 * receiver before the fix; each checks that it went on working. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "hv/engine.h"
#include "hv/run.h"
#include "scn_build.h"
#include "testutil.h"

#define SAMPLE FV_MS(10)

/* The receiver's work units in each sample interval. */
struct per_sample {
    int dom;                            /* the receiver's index */
    int n;
    uint64_t work[64];
};

static void capture(void *ctx, const struct timeline_row *r, int n)
{
    struct per_sample *c = ctx;
    for (int i = 0; i < n; i++)
        if (r[i].dom_index == c->dom && c->n < 64)
            c->work[c->n++] = r[i].work_units;
}

static void run_sampled(struct scenario *s, int receiver, struct run_result *r,
                        struct per_sample *c)
{
    s->sample = SAMPLE;
    *c = (struct per_sample){ .dom = receiver };
    struct engine_opts o = { .sink = { .rows = capture, .ctx = c } };
    tu_sim_ok(s, r, &o);
    assert_true(r->complete);
    for (int i = 0; i < r->nr_doms; i++) {
        if (r->doms[i].crashed)
            fail_msg("%s crashed at %lld ns: %s", r->doms[i].name,
                     (long long)r->doms[i].crashed_at_ns, r->doms[i].crash_reason);
    }
}

/* The receiver did work in every sample interval: it was neither crashed
 * nor stuck at any time. */
static void busy_throughout(const struct per_sample *c, const struct scenario *s)
{
    assert_int_equal(c->n, (int)(s->duration / SAMPLE));
    for (int i = 0; i < c->n; i++)
        if (!c->work[i])
            fail_msg("no work in sample %d (of %d)", i, c->n);
}

/* The smallest case: an echo server and two open-loop clients (rate 0: as
 * fast as their TX rings drain) on 2 pCPUs. The server answers more than
 * netback takes from it each pass, so its TX ring fills while requests
 * wait on its RX ring; it crashed within the first millisecond. */
static void echo_server_two_open_loop_clients(void **state)
{
    (void)state;
    struct scenario *s = scn_build("credit", 2, FV_MS(100));
    struct scn_domain *srv = scn_build_dom(s, "server", "net-echo");
    scn_build_set(srv, "role", 1);
    scn_build_vif(s, srv);
    for (int i = 0; i < 2; i++) {
        struct scn_domain *c = scn_build_dom(s, i ? "client-1" : "client-0", "net-echo");
        scn_build_set(c, "role", 0);
        scn_build_set(c, "peer", 1);
        scn_build_set(c, "rate", 0);
        scn_build_vif(s, c);
    }
    scn_build_dom0(s, SCN_NB_RING);
    struct run_result r;
    struct per_sample c;
    run_sampled(s, 0, &r, &c);
    busy_throughout(&c, s);
    const struct dom_result *k = &r.doms[0], *c0 = &r.doms[1], *c1 = &r.doms[2];
    assert_true(k->work_units > 10000);
    /* The clients drop nothing: every frame the server sent reached one,
     * and each got, besides the answers it counted, the server's ARP reply
     * and the other client's ARP request. */
    assert_int_equal(c0->net.drops + c1->net.drops, 0);
    assert_int_equal(c0->net.rx_pkts + c1->net.rx_pkts, k->net.tx_pkts + 2);
    assert_int_equal(c0->work_units, c0->net.rx_pkts - 2);
    assert_int_equal(c1->work_units, c1->net.rx_pkts - 2);
    /* What the server answered but netback had not taken at the end fills
     * at most its TX ring (its 2 ARP replies were taken too). */
    assert_in_range(k->work_units + 2 - k->net.tx_pkts, 0, 256);
    run_result_free(&r);
    scn_build_free(s);
}

/* The reported shape: 40 flooders into a net-sink while 50 CPU hogs keep
 * Domain-0 waiting for the CPU, so the flooders' ARP requests pile up
 * answers on the sink's TX ring. It crashed at 88 ms. */
static void sink_forty_floods_under_load(void **state)
{
    (void)state;
    struct scenario *s = scn_build("credit", 2, FV_MS(200));
    s->gp.tslice = FV_MS(1);
    struct scn_domain *k = scn_build_dom(s, "sink", "net-sink");
    scn_build_set(k, "work", FV_US(2));
    scn_build_vif(s, k);
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof(name), "flood-%d", i);
        struct scn_domain *f = scn_build_dom(s, name, "net-flood");
        scn_build_set(f, "peer", 1);
        scn_build_set(f, "rate", 200);
        scn_build_vif(s, f);
    }
    for (int i = 0; i < 50; i++) {
        char name[16];
        snprintf(name, sizeof(name), "hog-%d", i);
        scn_build_dom(s, name, "cpu-hog");
    }
    scn_build_dom0(s, SCN_NB_RING);
    s->netback.cost_packet = 70;        /* the loader's defaults */
    s->netback.cost_burst = FV_US(1);
    s->netback.cost_kib = 350;
    s->netback.cost_notify = FV_US(15);
    struct run_result r;
    struct per_sample c;
    run_sampled(s, 0, &r, &c);
    const struct dom_result *sink = &r.doms[0];
    uint64_t sent = 0;
    for (int i = 1; i <= 40; i++)
        sent += r.doms[i].work_units;
    /* Domain-0 gets a few ms of CPU in the run: the sink works in bursts;
     * it counted datagrams (intact and in order) after the time it died
     * at, no more than were sent, and answered every flooder's ARP. */
    uint64_t late = 0;
    for (int i = 10; i < c.n; i++)
        late += c.work[i];
    assert_true(late > 0);
    assert_true(sink->work_units <= sent);
    assert_true(sink->net.tx_pkts >= 40);
    assert_int_equal(sink->net.drops, sink->net.drops_by[0]);  /* no_rx_buffer alone */
    run_result_free(&r);
    scn_build_free(s);
}

/* 100 senders, more than the sink's table of senders used to hold (64):
 * it looped for good looking for a free slot. At 100 datagrams/s each for
 * 100 ms, every one arrives intact and in order: 10 from each. */
static void sink_hundred_senders(void **state)
{
    (void)state;
    enum { N = 100 };
    struct scenario *s = scn_build("credit", 2, FV_MS(100));
    struct scn_domain *k = scn_build_dom(s, "sink", "net-sink");
    scn_build_vif(s, k);
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof(name), "flood-%d", i);
        struct scn_domain *f = scn_build_dom(s, name, "net-flood");
        scn_build_set(f, "peer", 1);
        scn_build_set(f, "rate", 100);
        scn_build_vif(s, f);
    }
    scn_build_dom0(s, SCN_NB_RING);
    struct run_result r;
    struct per_sample c;
    run_sampled(s, 0, &r, &c);
    busy_throughout(&c, s);
    const struct dom_result *sink = &r.doms[0];
    for (int i = 1; i <= N; i++) {
        assert_int_equal(r.doms[i].work_units, 10);
        assert_int_equal(r.doms[i].net.drops, 0);
        /* one ARP reply, and every other flooder's ARP request */
        assert_int_equal(r.doms[i].net.rx_pkts, 1 + (N - 1));
    }
    assert_int_equal(sink->work_units, 10 * N);
    assert_int_equal(sink->net.rx_pkts, 10 * N + N);    /* + each one's ARP request */
    assert_int_equal(sink->net.tx_pkts, N);             /* the ARP replies */
    assert_int_equal(sink->net.drops, 0);
    run_result_free(&r);
    scn_build_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(echo_server_two_open_loop_clients),
        cmocka_unit_test(sink_forty_floods_under_load),
        cmocka_unit_test(sink_hundred_senders),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
