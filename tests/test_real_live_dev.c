/* test_real_live_dev.c — vifs and vbds of domains created and destroyed
 * while a live host runs (a DPDK net_ring port: one EAL, so its own
 * process; skipped (77) without DPDK).
 *
 * The host starts with one net-sink and names `blkback:`, so its Domain-0
 * runs both backends. Then, while it runs:
 *  - a net-flood created at run time gets a vif and its frames reach the
 *    sink; a blk-flood gets a memory vbd, another a file vbd, and both
 *    are served;
 *  - a MAC or an image an alive domain has already is refused, with the
 *    host unchanged; so is a domain whose vbd's disk cannot be made after
 *    its vif was taken (undone; the next domain gets its index and works);
 *  - each is destroyed mid-traffic: the sink receives nothing more from
 *    the flooder (exactly: read 300 ms after, then 300 ms later), the
 *    image's file descriptor is closed, and a flooder of the same name
 *    comes back with a new id and sends again;
 *  - a soak: 200 create/destroy cycles of a domain with a vif and a vbd,
 *    flooding both, beside the sink, which keeps receiving;
 *  - the sink is destroyed while the flooder sends to it: the flooder
 *    keeps running (its frames go nowhere);
 * and the results hold every domain, with the net and blk figures of the
 * destroyed ones. Under ASan this is the leak and use-after-free check of
 * the backends' run-time paths. */
#include "live_fixture.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hv/live.h"
#include "hv/scenario.h"

static const char *const text =
    "name: live-dev\nengine: real\nduration: 1s\npcpus: 2\n"
    "blkback: { backend: memory }\n"
    "domains:\n"
    "  - {name: sink, workload: {kind: net-sink}}\n";

static int create(struct live *l, const char *body, int want, const char *msg)
{
    char err[1024] = "";
    int id = -1;
    int rc = live_create(l, "request", body, strlen(body), &id, err, sizeof(err));
    if (rc != want)
        fail_msg("create %s: %d (%s), expected %d", body, rc, err, want);
    if (msg && !strstr(err, msg))
        fail_msg("create %s: \"%s\" does not say \"%s\"", body, err, msg);
    return id;
}

static void destroy(struct live *l, const char *name)
{
    char err[1024] = "";
    if (live_destroy(l, name, err, sizeof(err)))
        fail_msg("destroy %s: %s", name, err);
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_devices_at_run_time(void **st)
{
    (void)st;
    struct scenario scn;
    char err[1024] = "";
    if (scenario_load_host_string("live-dev.yaml", text, &scn, err, sizeof(err)))
        fail_msg("%s", err);
    struct live *l;
    struct live_opts o = { .max_domains = 512 };
    int rc = live_start(&scn, &o, &l, err, sizeof(err));
    if (rc && strstr(err, "netback port"))
        TU_SKIP("%s", err);
    if (rc)
        fail_msg("%s", err);
    char *dir = tu_tmpdir();

    /* A vif: its frames reach the sink. */
    int id1 = create(l, "{name: fl, workload: {kind: net-flood, peer: sink, rate: 20000}}", 0,
                     NULL);
    uint64_t tx0 = lt_wait_for(l, "fl", lt_tx, "frame sent"),
             rx0 = lt_wait_for(l, "sink", lt_rx, "frame received");
    print_message("fl (id %d): %llu frames sent; sink received %llu\n", id1,
                  (unsigned long long)tx0, (unsigned long long)rx0);

    /* vbds: memory, and an image file. */
    create(l, "{name: mem, workload: {kind: blk-flood, iodepth: 8}, vbds: [{size: 4MiB}]}", 0,
           NULL);
    int fds = open_fds();
    char body[1024];
    snprintf(body, sizeof(body), "{name: img, workload: {kind: blk-flood, iodepth: 8}, vbds: "
             "[{size: 4MiB, backend: file, path: %s/a.img}]}", dir);
    create(l, body, 0, NULL);
    uint64_t mb = lt_wait_for(l, "mem", lt_blk, "request served"),
             ib = lt_wait_for(l, "img", lt_blk, "request served");
    print_message("requests served: mem %llu, img %llu\n", (unsigned long long)mb,
                  (unsigned long long)ib);

    /* What an alive domain has is refused, and nothing changes. */
    int before = lt_alive(l);
    snprintf(body, sizeof(body), "{name: img2, workload: {kind: blk-flood}, vbds: "
             "[{size: 4MiB, backend: file, path: %s/a.img}]}", dir);
    create(l, body, -EINVAL, "two vbds cannot share an image");
    create(l, "{name: dup, workload: {kind: net-sink}, vifs: [{mac: \"00:16:3e:00:01:00\"}]}",
           -EINVAL, "is also the mac of vif 0 of domain sink");
    /* A vbd whose disk cannot be made (2^60 bytes of memory) after its vif
     * was taken: both undone, and the index is the next domain's. */
    create(l, "{name: big, workload: {kind: net-flood, peer: sink}, "
           "vbds: [{size: 1048576TiB}]}", -ENOMEM, "memory disk");
    assert_int_equal(lt_alive(l), before);

    /* Destroyed mid-traffic. */
    destroy(l, "fl");
    lt_sleep_ms(300);
    uint64_t rx1 = lt_info(l, "sink").net_rx_pkts;
    lt_sleep_ms(300);
    assert_int_equal(lt_info(l, "sink").net_rx_pkts, rx1);
    destroy(l, "mem");
    destroy(l, "img");
    /* img's image and io_uring are closed (mem's memory disk has none). */
    int now_fds = open_fds();
    print_message("open descriptors: %d before img, %d after destroying it\n", fds, now_fds);
    assert_true(now_fds <= fds);
    int id2 = create(l, "{name: fl, workload: {kind: net-flood, peer: sink, rate: 20000}}", 0,
                     NULL);
    assert_int_equal(id2, 5);           /* the index big did not keep (ids: index, skipping 0) */
    assert_true(id2 > id1);
    lt_wait_for(l, "fl", lt_tx, "frame sent");
    lt_wait_above(l, "sink", lt_rx, rx1, "frame received");

    /* The soak. */
    const char *cyc = "{name: cyc, workload: {kind: net-flood, peer: sink, rate: 5000}, "
                      "vbds: [{size: 1MiB}]}";
    for (int i = 0; i < 200; i++) {
        create(l, cyc, 0, NULL);
        if (i % 50 == 0)
            lt_sleep_ms(50);
        destroy(l, "cyc");
    }
    lt_wait_above(l, "sink", lt_rx, lt_info(l, "sink").net_rx_pkts, "frame received");
    assert_int_equal(lt_alive(l), 3);      /* sink, fl, Domain-0 */

    /* The flooder's peer goes; the flooder runs on. */
    destroy(l, "sink");
    lt_wait_above(l, "fl", lt_tx, lt_info(l, "fl").net_tx_pkts, "frame sent");

    struct run_result rr;
    live_stop(l);
    live_wait(l);
    assert_int_equal(live_finish(l, &rr), 0);
    /* sink, Domain-0, fl, mem, img, fl, 200 x cyc */
    assert_int_equal(rr.nr_doms, 206);
    int dead = 0;
    for (int i = 0; i < rr.nr_doms; i++)
        dead += rr.doms[i].destroyed_ns > 0;
    assert_int_equal(dead, 204);
    assert_true(rr.doms[2].net.tx_pkts > 0);        /* the first fl, destroyed */
    assert_true(rr.doms[3].blk.present);
    assert_true(rr.doms[3].blk.reads + rr.doms[3].blk.writes > 0);
    run_result_free(&rr);
    scenario_free(&scn);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devices_at_run_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
