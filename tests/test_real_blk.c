/* test_real_blk.c — block I/O on the real engine: a guest's requests cross
 * its blkif ring to Domain-0's blkback, which serves them with io_uring on
 * an image file (O_DIRECT where the filesystem allows it) or from memory.
 * Wall-clock time on a shared 2-core machine: tolerances are stated where
 * used, and nothing is timed. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hv/engine.h"
#include "hv/run.h"
#include "scn_build.h"
#include "testutil.h"
#include "workloads/blk_pattern.h"

#define MIB (1ULL << 20)

static struct scenario *one_disk(const char *engine, const char *kind, uint64_t size,
                                 const char *path, int ms)
{
    struct scenario *s = scn_build("credit", 2, FV_MS(ms));
    snprintf(s->engine, sizeof(s->engine), "%s", engine);
    struct scn_domain *d = scn_build_dom(s, "disk", kind);
    scn_build_vbd(s, d, size, path);
    scn_build_dom0(s, SCN_NB_NONE);
    return s;
}

static void run(const struct scenario *s, struct run_result *r)
{
    char err[512] = "";
    if (engine_run(s, NULL, r, err, sizeof(err)))
        fail_msg("%s", err);
}

/* The guest writes its pattern over a 128 MiB image (O_DIRECT: the page
 * cache cannot hide a lost write), reads it back and finds no mismatch;
 * after the run the file itself holds exactly the pattern. */
static void verify_file_integrity(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof(path), "%s/disk.img", dir);
    struct scenario *s = one_disk("real", "blk-verify", 128 * MIB, path, 8000);
    struct run_result r;
    run(s, &r);
    const struct dom_result *d = &r.doms[0];
    assert_int_equal(d->guest_errors, 0);
    assert_int_equal(d->work_units, 128 * MIB / 4096);
    assert_int_equal(d->blk.flushes, 1);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    uint8_t buf[BLK_PATTERN_BLOCK];
    uint64_t bad = 0, seed = engine_dom_seed(s->seed, 1);
    for (uint64_t b = 0; b < 128 * MIB / BLK_PATTERN_BLOCK; b++) {
        assert_int_equal(pread(fd, buf, sizeof(buf), (off_t)(b * sizeof(buf))), (ssize_t)sizeof(buf));
        bad += blk_pattern_check(seed, b, buf) != 0;
    }
    close(fd);
    assert_int_equal(bad, 0);
    run_result_free(&r);
    scn_build_free(s);
    tu_rmtree(dir);
    free(dir);
}

/* The memory backend on the real engine, too. */
static void verify_memory(void **state)
{
    (void)state;
    struct scenario *s = one_disk("real", "blk-verify", 32 * MIB, NULL, 3000);
    struct run_result r;
    run(s, &r);
    assert_int_equal(r.doms[0].guest_errors, 0);
    assert_int_equal(r.doms[0].work_units, 32 * MIB / 4096);
    run_result_free(&r);
    scn_build_free(s);
}

/* The same disk scenario on both engines fills the same fields, and at
 * 2,000 requests/s (well under either engine's capacity) the real engine
 * completes within 10% of the virtual-time engine's count. */
static void sim_and_real_agree(void **state)
{
    (void)state;
    struct scenario *ss = one_disk("sim", "blk-flood", 64 * MIB, NULL, 1000);
    struct scenario *rs = one_disk("real", "blk-flood", 64 * MIB, NULL, 1000);
    for (int i = 0; i < 2; i++) {
        struct scn_domain *d = &(i ? rs : ss)->domains[0];
        scn_build_set(d, "rate", 2000);
        scn_build_set(d, "iodepth", 4);
    }
    struct run_result sr, rr;
    tu_sim_ok(ss, &sr, NULL);
    run(rs, &rr);
    double a = (double)sr.doms[0].blk.reads, b = (double)rr.doms[0].blk.reads;
    if (b < a * 0.9 || b > a * 1.1)
        fail_msg("%.0f reads on the real engine vs %.0f in virtual time (tolerance 10%%)", b, a);
    assert_int_equal(sr.doms[0].blk.present, rr.doms[0].blk.present);
    assert_true(rr.doms[0].blk.latency.count > 0);
    assert_true(rr.doms[0].backend_cpu_ns > 0);
    assert_int_equal(rr.doms[0].guest_errors, 0);
    run_result_free(&sr);
    run_result_free(&rr);
    scn_build_free(ss);
    scn_build_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verify_memory),
        cmocka_unit_test(verify_file_integrity),
        cmocka_unit_test(sim_and_real_agree),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
