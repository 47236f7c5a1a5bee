/* test_blk_sim.c — vbds, blkfront, blkback and the disk workloads end to
 * end on the virtual-time engine: data integrity on both backends (the
 * image file checked from outside the guest), the service-time model's
 * IOPS exactly, and Domain-0's CPU for the requests. */
#include <errno.h>
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

static struct scenario *one_disk(const char *kind, uint64_t size, const char *path, int ms)
{
    struct scenario *s = scn_build("credit", 2, FV_MS(ms));
    struct scn_domain *d = scn_build_dom(s, "disk", kind);
    scn_build_vbd(s, d, size, path);
    scn_build_dom0(s, SCN_NB_NONE);
    return s;
}

/* Every 4 KiB block of the image holds the pattern of the domain's seed. */
static uint64_t check_image(const char *path, uint64_t size, uint64_t seed)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    uint8_t buf[BLK_PATTERN_BLOCK];
    uint64_t bad = 0;
    for (uint64_t b = 0; b < size / BLK_PATTERN_BLOCK; b++) {
        assert_int_equal(pread(fd, buf, sizeof(buf), (off_t)(b * sizeof(buf))), (ssize_t)sizeof(buf));
        bad += blk_pattern_check(seed, b, buf) != 0;
    }
    close(fd);
    return bad;
}

static void verify_memory(void **state)
{
    (void)state;
    struct scenario *s = one_disk("blk-verify", 16 * MIB, NULL, 2000);
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    const struct dom_result *d = &r.doms[0];
    assert_int_equal(d->guest_errors, 0);
    assert_int_equal(d->work_units, 16 * MIB / 4096);             /* every block read back */
    assert_true(d->blk.present);
    assert_int_equal(d->blk.bytes, 2 * 16 * MIB);                 /* written, then read */
    assert_int_equal(d->blk.flushes, 1);
    assert_int_equal(d->blk.errors, 0);
    run_result_free(&r);
    scn_build_free(s);
}

/* The file backend: blk-verify finds no mismatch, and once the run is over
 * the image holds exactly the pattern, read from outside the guest. */
static void verify_file_and_image(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char path[512];
    snprintf(path, sizeof(path), "%s/disk.img", dir);
    struct scenario *s = one_disk("blk-verify", 16 * MIB, path, 2000);
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    assert_int_equal(r.doms[0].guest_errors, 0);
    assert_int_equal(r.doms[0].work_units, 16 * MIB / 4096);
    assert_int_equal(check_image(path, 16 * MIB, engine_dom_seed(s->seed, 1)), 0);
    run_result_free(&r);
    scn_build_free(s);
    tu_rmtree(dir);
    free(dir);
}

/* A device of one unit (blkback.model.depth 1: the default 16 serves
 * 16 at once, tests/test_blk_qos_sim.c) serves one request at a time: 4 KiB
 * random reads take latency + 4096 B / bandwidth = 100 us + 1907 ns each
 * (rounded down to the ns), whatever the queue depth: 9,812 in one second. */
static void model_iops_exact(void **state)
{
    (void)state;
    struct scenario *s = one_disk("blk-flood", 64 * MIB, NULL, 1000);
    s->blkback.model_depth = 1;
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    fv_ns_t service = FV_US(100) + (fv_ns_t)((4096ULL * 1000000000ULL) / (2ULL << 30));
    uint64_t want = (uint64_t)(FV_MS(1000) / service);
    assert_in_range(r.doms[0].blk.reads, want - 1, want);
    assert_int_equal(r.doms[0].work_units, r.doms[0].blk.reads);
    assert_int_equal(r.doms[0].guest_errors, 0);
    run_result_free(&r);
    scn_build_free(s);
}

/* Domain-0 pays the model's CPU for each request it took (`request`, 2 us)
 * and for each KiB it copied (a read's data when it is answered, 100 ns),
 * all of it charged to the domain it served: the reads answered, plus the
 * request cost of those still in service when the run ended (at most the
 * queue depth, 32). */
static void backend_cpu_is_the_model(void **state)
{
    (void)state;
    struct scenario *s = one_disk("blk-flood", 64 * MIB, NULL, 500);
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    const struct dom_result *d = &r.doms[0], *d0 = &r.doms[1];
    fv_ns_t answered = (fv_ns_t)d->blk.reads * (FV_US(2) + 100 * 4);
    fv_ns_t rest = d->backend_cpu_ns - answered;
    assert_int_equal(rest % FV_US(2), 0);
    assert_in_range((uint64_t)(rest / FV_US(2)), 0, 32);
    assert_int_equal(d0->cpu_ns, d->backend_cpu_ns);
    run_result_free(&r);
    scn_build_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verify_memory),
        cmocka_unit_test(verify_file_and_image),
        cmocka_unit_test(model_iops_exact),
        cmocka_unit_test(backend_cpu_is_the_model),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
