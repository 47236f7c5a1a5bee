/* test_real_live_net.c — a live host that starts with devices: an echo
 * pair on vifs through Domain-0's netback (a DPDK net_ring port: one EAL,
 * so its own process; skipped (77) without DPDK). Its network figures are
 * live, a domain created at run time sits after Domain-0 (ids skip id 0's
 * index) and runs, Domain-0 cannot be paused or destroyed, a domain with a
 * vif can be paused, and then sends nothing: its TX count stands still
 * (exactly: read 300 ms after the pause, when the frames it had queued are
 * gone, and again 300 ms later); the server destroyed while its client
 * sends: the client runs on and gets no answer. Run-time vifs and vbds:
 * test_real_live_dev.c. */
#include "live_fixture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hv/live.h"
#include "hv/scenario.h"

static const char *const text =
    "name: live-net\nengine: real\nduration: 1s\npcpus: 2\n"
    "domains:\n"
    "  - {name: srv, workload: {kind: net-echo, role: server}}\n"
    "  - {name: cli, workload: {kind: net-echo, role: client, peer: srv, rate: 2000}}\n";

static void test_devices(void **st)
{
    (void)st;
    struct scenario scn;
    char err[1024] = "";
    if (scenario_load_string("live-net.yaml", text, NULL, 0, &scn, err, sizeof(err)))
        fail_msg("%s", err);
    struct live *l;
    struct live_opts o = { .max_domains = 16 };
    int rc = live_start(&scn, &o, &l, err, sizeof(err));
    if (rc && strstr(err, "netback port"))
        TU_SKIP("%s", err);
    if (rc)
        fail_msg("%s", err);
    uint64_t tx0 = lt_wait_for(l, "cli", lt_tx, "frame sent"),
             rx0 = lt_wait_for(l, "cli", lt_rx, "frame received");
    print_message("cli: %llu frames sent, %llu received\n", (unsigned long long)tx0,
                  (unsigned long long)rx0);

    const char *hog = "{name: hog, workload: {kind: cpu-hog}}";
    int id = -1;
    assert_int_equal(live_create(l, "request", hog, strlen(hog), &id, err, sizeof(err)), 0);
    assert_int_equal(id, 3);            /* srv 1, cli 2, Domain-0 0, then 3 */
    assert_int_equal(lt_info(l, "Domain-0").id, 0);
    lt_wait_for(l, "hog", lt_cpu, "CPU time");

    assert_int_equal(live_pause(l, "Domain-0", true, err, sizeof(err)), -EBUSY);
    assert_int_equal(live_destroy(l, "Domain-0", err, sizeof(err)), -EBUSY);
    assert_int_equal(live_pause(l, "cli", true, err, sizeof(err)), 0);
    lt_sleep_ms(300);
    uint64_t tx1 = lt_info(l, "cli").net_tx_pkts;
    lt_sleep_ms(300);
    assert_int_equal(lt_info(l, "cli").net_tx_pkts, tx1);
    assert_int_equal(live_pause(l, "cli", false, err, sizeof(err)), 0);
    lt_wait_above(l, "cli", lt_tx, tx1, "frame sent");
    assert_int_equal(live_destroy(l, "hog", err, sizeof(err)), 0);

    /* The server goes while its client sends: the client runs on, and
     * no answer comes back any more (read 300 ms after, then later). */
    assert_int_equal(live_destroy(l, "srv", err, sizeof(err)), 0);
    lt_sleep_ms(300);
    uint64_t rx2 = lt_info(l, "cli").net_rx_pkts;
    lt_wait_above(l, "cli", lt_tx, lt_info(l, "cli").net_tx_pkts, "frame sent");
    lt_sleep_ms(300);
    assert_int_equal(lt_info(l, "cli").net_rx_pkts, rx2);

    struct run_result rr;
    live_stop(l);
    live_wait(l);
    live_finish(l, &rr);
    assert_int_equal(rr.nr_doms, 4);
    assert_true(rr.doms[1].net.tx_pkts >= tx1);
    assert_true(rr.doms[3].destroyed_ns > 0);
    assert_true(rr.doms[0].destroyed_ns > 0);
    assert_true(rr.doms[0].net.rx_pkts > 0);    /* srv's figures outlive it */
    run_result_free(&rr);
    scenario_free(&scn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
