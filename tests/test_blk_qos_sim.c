/* test_blk_qos_sim.c — blkback's I/O scheduler end to end on the
 * virtual-time engine, every vbd on the one modelled device (blkback.depth
 * and model.depth at their default, 16; latency and bandwidth those of
 * tests/scn_build.h, and for the victim also the loader's defaults):
 *   - a blk-latency victim (4 KiB random reads, one at a time) next to
 *     three blk-flood neighbours at queue depth 32: with fairness none its
 *     reads fall below half of what it did alone (FIFO puts the floods' 96
 *     ahead of its one); with sfq they stay at 90% or more;
 *   - a limit of 1000 IOPS on a flood gives 1000 reads a second, within one,
 *     in both modes;
 *   - a reservation: a flood of weight 1 next to two of weight 1000 gets
 *     the IOPS it reserved, where its weight alone gives it a few.
 * Each vCPU has a pCPU of its own, so that only the disk is contended. The
 * engine is deterministic: the figures are printed, the ratios asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "hv/engine.h"
#include "hv/hist.h"
#include "hv/run.h"
#include "scn_build.h"
#include "testutil.h"

#define MIB (1ULL << 20)
#define RUN_MS 1000

struct neighbour {
    uint32_t weight;
    uint64_t reservation, limit;
};

/* The device: tests/scn_build.h's (100 us, 2 GiB/s) unless `loader`, then
 * the scenario loader's defaults (60 us, 1536 MiB/s). */
static bool loader;

/* A victim (unless victim is false) and n floods at queue depth 32, each
 * vbd with nb[i]'s scheduling keys. */
static struct scenario *build(bool victim, int n, const struct neighbour *nb,
                              enum scn_blk_fairness fairness)
{
    struct scenario *s = scn_build("credit", (victim ? 1 : 0) + n + 1, FV_MS(RUN_MS));
    if (victim)
        scn_build_vbd(s, scn_build_dom(s, "victim", "blk-latency"), 64 * MIB, NULL);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof(name), "flood%d", i);
        struct scn_domain *d = scn_build_dom(s, name, "blk-flood");
        scn_build_set(d, "rw", 0);
        scn_build_set(d, "iodepth", 32);
        scn_build_vbd(s, d, 64 * MIB, NULL);
        if (nb) {
            d->vbds[0].weight = nb[i].weight;
            d->vbds[0].reservation = nb[i].reservation;
            d->vbds[0].limit = nb[i].limit;
        }
    }
    scn_build_dom0(s, SCN_NB_NONE);
    s->blkback.fairness = fairness;
    if (loader) {
        s->blkback.latency = FV_US(60);
        s->blkback.bandwidth = 1536ULL << 20;
    }
    return s;
}

struct victim_fig {
    uint64_t reads;
    uint64_t p99;                       /* ns, request taken to answered */
    uint64_t flood_reads;
};

static struct victim_fig run_victim(int floods, enum scn_blk_fairness fairness)
{
    struct scenario *s = build(true, floods, NULL, fairness);
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    struct victim_fig v = { .reads = r.doms[0].blk.reads,
                            .p99 = hist_quantile(&r.doms[0].blk.latency, 0.99) };
    assert_int_equal(r.doms[0].work_units, r.doms[0].blk.reads);
    assert_int_equal(r.doms[0].guest_errors, 0);
    for (int i = 1; i <= floods; i++)
        v.flood_reads += r.doms[i].blk.reads;
    run_result_free(&r);
    scn_build_free(s);
    return v;
}

/* Alone, then beside three floods under none and under sfq. */
static void victim_case(void)
{
    print_message("[          ] device: %s\n", loader ? "60us, 1536MiB/s (the loader's defaults)"
                                                      : "100us, 2GiB/s");
    struct victim_fig alone = run_victim(0, SCN_BLK_FAIR_NONE);
    struct victim_fig alone_sfq = run_victim(0, SCN_BLK_FAIR_SFQ);
    struct victim_fig none = run_victim(3, SCN_BLK_FAIR_NONE);
    struct victim_fig sfq = run_victim(3, SCN_BLK_FAIR_SFQ);
    double s = RUN_MS / 1000.0;
    print_message("[          ] victim alone:       %6.0f IOPS, p99 %6.1f us\n",
                  alone.reads / s, alone.p99 / 1e3);
    print_message("[          ] 3 floods, none:     %6.0f IOPS, p99 %6.1f us (%.2f of alone); "
                  "floods %.0f IOPS\n", none.reads / s, none.p99 / 1e3,
                  (double)none.reads / (double)alone.reads, none.flood_reads / s);
    print_message("[          ] 3 floods, sfq:      %6.0f IOPS, p99 %6.1f us (%.2f of alone); "
                  "floods %.0f IOPS\n", sfq.reads / s, sfq.p99 / 1e3,
                  (double)sfq.reads / (double)alone.reads, sfq.flood_reads / s);
    /* Alone, the scheduler has nothing to choose between. */
    assert_int_equal(alone.reads, alone_sfq.reads);
    assert_true(alone.reads > 1000);
    assert_true(2 * none.reads < alone.reads);
    assert_true(10 * sfq.reads >= 9 * alone.reads);
    /* Fairness costs the floods little: the device stays as busy. */
    assert_true(10 * sfq.flood_reads >= 9 * none.flood_reads);
}

static void victim_next_to_floods(void **state)
{
    (void)state;
    victim_case();
    loader = true;
    victim_case();
    loader = false;
}

/* A flood limited to 1000 IOPS reads 1000 times in a second, within one,
 * under both modes (the first request goes when the guest has booted, each
 * next one exactly 1 ms after the one before). */
static void limit_caps_flood(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        struct neighbour nb[2] = { { .limit = 1000 }, { 0 } };
        struct scenario *s = build(false, 2, nb, mode ? SCN_BLK_FAIR_SFQ : SCN_BLK_FAIR_NONE);
        struct run_result r;
        tu_sim_ok(s, &r, NULL);
        print_message("[          ] limit 1000 (%s): %llu reads in %d ms; its neighbour %llu\n",
                      mode ? "sfq" : "none", (unsigned long long)r.doms[0].blk.reads, RUN_MS,
                      (unsigned long long)r.doms[1].blk.reads);
        assert_in_range(r.doms[0].blk.reads, 1000 * RUN_MS / 1000 - 1, 1000 * RUN_MS / 1000 + 1);
        assert_true(r.doms[1].blk.reads > 50 * r.doms[0].blk.reads);
        run_result_free(&r);
        scn_build_free(s);
    }
}

/* A flood of weight 1 beside two of weight 1000 gets about 1/2001 of the
 * device by weight; with a reservation of 5000 IOPS it gets 5000 a second
 * (less the requests still in service when the run ends: at most 32). */
static void reservation_honoured(void **state)
{
    (void)state;
    uint64_t got[2];
    for (int with = 0; with < 2; with++) {
        struct neighbour nb[3] = { { .weight = 1, .reservation = with ? 5000 : 0 },
                                   { .weight = 1000 }, { .weight = 1000 } };
        struct scenario *s = build(false, 3, nb, SCN_BLK_FAIR_SFQ);
        struct run_result r;
        tu_sim_ok(s, &r, NULL);
        got[with] = r.doms[0].blk.reads;
        print_message("[          ] weight 1, reservation %s: %llu reads in %d ms; the two "
                      "others %llu, %llu\n", with ? "5000" : "none",
                      (unsigned long long)got[with], RUN_MS,
                      (unsigned long long)r.doms[1].blk.reads,
                      (unsigned long long)r.doms[2].blk.reads);
        run_result_free(&r);
        scn_build_free(s);
    }
    assert_true(got[0] < 1000);
    assert_in_range(got[1], 5000 * RUN_MS / 1000 - 32, 5000 * RUN_MS / 1000 + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(victim_next_to_floods),
        cmocka_unit_test(limit_caps_flood),
        cmocka_unit_test(reservation_honoured),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
