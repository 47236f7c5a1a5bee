/* test_real_live_net.c — a live host that starts with devices: an echo
 * pair on vifs through Domain-0's netback (a DPDK net_ring port: one EAL,
 * so its own process; skipped (77) without DPDK). Its network figures are
 * live, a domain created at run time sits after Domain-0 (ids skip id 0's
 * index) and runs, Domain-0 cannot be paused or destroyed, a domain with a
 * vif cannot be destroyed yet but can be paused, and then sends nothing:
 * its TX count stands still (exactly: read 300 ms after the pause, when
 * the frames it had queued are gone, and again 300 ms later). */
#include "testutil.h"

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

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static struct live_dom_info info(struct live *l, const char *name)
{
    struct live_dom_info d;
    if (live_domain(l, name, &d))
        fail_msg("no domain %s", name);
    return d;
}

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
    sleep_ms(500);
    struct live_dom_info c = info(l, "cli");
    print_message("cli after 0.5 s: %llu frames sent, %llu received\n",
                  (unsigned long long)c.net_tx_pkts, (unsigned long long)c.net_rx_pkts);
    assert_true(c.net_tx_pkts > 0);
    assert_true(c.net_rx_pkts > 0);

    const char *hog = "{name: hog, workload: {kind: cpu-hog}}";
    int id = -1;
    assert_int_equal(live_create(l, "request", hog, strlen(hog), &id, err, sizeof(err)), 0);
    assert_int_equal(id, 3);            /* srv 1, cli 2, Domain-0 0, then 3 */
    assert_int_equal(info(l, "Domain-0").id, 0);
    sleep_ms(300);
    assert_true(info(l, "hog").cpu_ns > 0);

    assert_int_equal(live_pause(l, "Domain-0", true, err, sizeof(err)), -EBUSY);
    assert_int_equal(live_destroy(l, "Domain-0", err, sizeof(err)), -EBUSY);
    assert_int_equal(live_destroy(l, "srv", err, sizeof(err)), -ENOTSUP);
    assert_non_null(strstr(err, "vifs"));

    assert_int_equal(live_pause(l, "cli", true, err, sizeof(err)), 0);
    sleep_ms(300);
    uint64_t tx1 = info(l, "cli").net_tx_pkts;
    sleep_ms(300);
    assert_int_equal(info(l, "cli").net_tx_pkts, tx1);
    assert_int_equal(live_pause(l, "cli", false, err, sizeof(err)), 0);
    sleep_ms(300);
    assert_true(info(l, "cli").net_tx_pkts > tx1);
    assert_int_equal(live_destroy(l, "hog", err, sizeof(err)), 0);

    struct run_result rr;
    live_stop(l);
    live_wait(l);
    live_finish(l, &rr);
    assert_int_equal(rr.nr_doms, 4);
    assert_true(rr.doms[1].net.tx_pkts >= tx1);
    assert_true(rr.doms[3].destroyed_ns > 0);
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
