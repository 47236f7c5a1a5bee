/* test_sched_arinc653.c — the arinc653 policy against the fake core: every
 * window's domain gets exactly length × frames, switches happen exactly at
 * window boundaries, a blocked window idles, vCPU k runs on pCPU k, the
 * global checks, adjust_global, entitle, determinism. */
#include "testutil.h"
#include "fake_core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A schedule of n windows (domid, length) in frame. Domains made by
 * fake_add_domain get ids 1, 2, ... in order of creation. */
static struct sched_global_params windows(fv_ns_t frame, int n, const int *domid,
                                          const fv_ns_t *len)
{
    struct sched_global_params gp;
    sched_global_defaults(sched_find("arinc653"), &gp);
    gp.frame = frame;
    gp.nr_windows = n;
    for (int i = 0; i < n; i++)
        gp.windows[i] = (struct sched_window){ domid[i], len[i] };
    return gp;
}

static struct sched_global_params abc_schedule(void)
{
    static const int ids[] = { 1, 2, 3 };
    static const fv_ns_t len[] = { FV_MS(10), FV_MS(5), FV_MS(10) };
    return windows(FV_MS(30), 3, ids, len);
}

/* Frame 30 ms: A 10, B 5, C 10, 5 ms idle; 3 s = 100 frames on 1 pCPU. */
static void test_exact_windows(void **st)
{
    (void)st;
    struct fake_core fc;
    struct sched_global_params gp = abc_schedule();
    fake_sched_new(&fc, "arinc653", 1, &gp);
    struct sched_domain *a = fake_add_domain(&fc, "A", 1, NULL, NULL);
    struct sched_domain *b = fake_add_domain(&fc, "B", 1, NULL, NULL);
    struct sched_domain *c = fake_add_domain(&fc, "C", 1, NULL, NULL);
    fake_wake_domain(&fc, a);
    fake_wake_domain(&fc, b);
    fake_wake_domain(&fc, c);
    fake_run(&fc, FV_SEC(3));
    assert_int_equal(fake_dom_ns(&fc, a), 1000000000);
    assert_int_equal(fake_dom_ns(&fc, b), 500000000);
    assert_int_equal(fake_dom_ns(&fc, c), 1000000000);
    fake_sched_free(&fc);
}

/* Who runs at each instant: the window's domain, switched exactly at the
 * boundary (no nanosecond early or late), idle in the frame's tail. */
static void test_boundaries(void **st)
{
    (void)st;
    struct fake_core fc;
    struct sched_global_params gp = abc_schedule();
    fake_sched_new(&fc, "arinc653", 1, &gp);
    struct sched_domain *d[3] = {
        fake_add_domain(&fc, "A", 1, NULL, NULL),
        fake_add_domain(&fc, "B", 1, NULL, NULL),
        fake_add_domain(&fc, "C", 1, NULL, NULL),
    };
    for (int i = 0; i < 3; i++)
        fake_wake_domain(&fc, d[i]);
    fake_run(&fc, FV_MS(40) - 1);               /* A's second window, 1 ns early */
    assert_int_equal(fake_dom_ns(&fc, d[0]), FV_MS(20) - 1);
    fake_run(&fc, FV_MS(40));
    assert_int_equal(fake_dom_ns(&fc, d[0]), FV_MS(20));
    assert_int_equal(fake_dom_ns(&fc, d[1]), FV_MS(5));
    fake_run(&fc, FV_MS(40) + 1);
    assert_ptr_equal(sched_curr(fc.s, 0), d[1]->units[0]);
    fake_run(&fc, FV_MS(57));
    assert_null(sched_curr(fc.s, 0));           /* idle tail 55..60 */
    assert_int_equal(fake_dom_ns(&fc, d[2]), FV_MS(20));
    fake_run(&fc, FV_MS(60));
    assert_ptr_equal(sched_curr(fc.s, 0), d[0]->units[0]);
    fake_sched_free(&fc);
}

/* A blocked vCPU leaves its window idle (not lent to anyone); waking inside
 * its window, it runs again until the window ends. */
static void test_blocked_window_idles(void **st)
{
    (void)st;
    struct fake_core fc;
    struct sched_global_params gp = abc_schedule();
    fake_sched_new(&fc, "arinc653", 1, &gp);
    struct sched_domain *a = fake_add_domain(&fc, "A", 1, NULL, NULL);
    struct sched_domain *b = fake_add_domain(&fc, "B", 1, NULL, NULL);
    fake_wake_domain(&fc, a);
    fake_wake_domain(&fc, b);
    fake_run(&fc, FV_MS(2));
    fake_block(&fc, a->units[0]);
    fake_run(&fc, FV_MS(5));
    assert_null(sched_curr(fc.s, 0));
    assert_int_equal(fake_dom_ns(&fc, b), 0);
    fake_wake(&fc, a->units[0]);
    fake_run(&fc, FV_MS(30));                    /* C's window: C absent, idle */
    assert_int_equal(fake_dom_ns(&fc, a), FV_MS(2) + FV_MS(5));
    assert_int_equal(fake_dom_ns(&fc, b), FV_MS(5));
    fake_sched_free(&fc);
}

/* frame 0 = sum of the windows: A 10 ms, B 20 ms, no idle. */
static void test_frame_zero_is_sum(void **st)
{
    (void)st;
    static const int ids[] = { 1, 2 };
    static const fv_ns_t len[] = { FV_MS(10), FV_MS(20) };
    struct fake_core fc;
    struct sched_global_params gp = windows(0, 2, ids, len);
    fake_sched_new(&fc, "arinc653", 1, &gp);
    struct sched_domain *a = fake_add_domain(&fc, "A", 1, NULL, NULL);
    struct sched_domain *b = fake_add_domain(&fc, "B", 1, NULL, NULL);
    fake_wake_domain(&fc, a);
    fake_wake_domain(&fc, b);
    fake_run(&fc, FV_SEC(3));
    assert_int_equal(fake_dom_ns(&fc, a), FV_SEC(1));
    assert_int_equal(fake_dom_ns(&fc, b), FV_SEC(2));
    fake_sched_free(&fc);
}

/* 2 pCPUs: a 2-vCPU domain runs vCPU k on pCPU k in its window; in a
 * 1-vCPU domain's window pCPU 1 idles. */
static void test_two_pcpus(void **st)
{
    (void)st;
    static const int ids[] = { 1, 2 };
    static const fv_ns_t len[] = { FV_MS(10), FV_MS(10) };
    struct fake_core fc;
    struct sched_global_params gp = windows(FV_MS(20), 2, ids, len);
    fake_sched_new(&fc, "arinc653", 2, &gp);
    struct sched_domain *a = fake_add_domain(&fc, "A", 2, NULL, NULL);
    struct sched_domain *b = fake_add_domain(&fc, "B", 1, NULL, NULL);
    fake_wake_domain(&fc, a);
    fake_wake_domain(&fc, b);
    fake_run(&fc, FV_MS(5));
    assert_ptr_equal(sched_curr(fc.s, 0), a->units[0]);
    assert_ptr_equal(sched_curr(fc.s, 1), a->units[1]);
    fake_run(&fc, FV_MS(15));
    assert_ptr_equal(sched_curr(fc.s, 0), b->units[0]);
    assert_null(sched_curr(fc.s, 1));
    fake_run(&fc, FV_SEC(2));
    assert_int_equal(fc.run_ns[a->units[0]->id], FV_SEC(1));
    assert_int_equal(fc.run_ns[a->units[1]->id], FV_SEC(1));
    assert_int_equal(fake_dom_ns(&fc, b), FV_SEC(1));
    fake_sched_free(&fc);
}

static void test_check_global(void **st)
{
    (void)st;
    const struct sched_ops *ops = sched_find("arinc653");
    char err[256] = "";
    struct sched_global_params gp = abc_schedule();
    assert_int_equal(ops->check_global(&gp, err, sizeof(err)), 0);

    static const int ids[] = { 1, 2, 3 };
    static const fv_ns_t too_long[] = { FV_MS(10), FV_MS(20), FV_MS(10) };
    gp = windows(FV_MS(30), 3, ids, too_long);
    assert_int_equal(ops->check_global(&gp, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "windows sum to 40ms, more than the frame 30ms (expected sum <= frame)");

    static const fv_ns_t zero[] = { FV_MS(10), 0, FV_MS(10) };
    gp = windows(FV_MS(30), 3, ids, zero);
    assert_int_equal(ops->check_global(&gp, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "expected length > 0"));

    gp = windows(FV_MS(30), 0, ids, zero);
    assert_int_equal(ops->check_global(&gp, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "0 windows"));

    static const fv_ns_t exact[] = { FV_MS(10), FV_MS(10), FV_MS(10) };
    gp = windows(FV_MS(30), 3, ids, exact);      /* sum == frame is fine */
    assert_int_equal(ops->check_global(&gp, err, sizeof(err)), 0);
    gp = windows(0, 3, ids, exact);              /* frame 0: the sum */
    assert_int_equal(ops->check_global(&gp, err, sizeof(err)), 0);

    /* The core refuses to build an instance with a bad schedule. */
    gp = windows(FV_MS(30), 3, ids, too_long);
    assert_null(sched_core_create(ops, 1, &gp, NULL, NULL, err, sizeof(err)));
}

/* A new schedule takes effect at once, its frame starting now. */
static void test_adjust_global(void **st)
{
    (void)st;
    struct fake_core fc;
    struct sched_global_params gp = abc_schedule();
    fake_sched_new(&fc, "arinc653", 1, &gp);
    struct sched_domain *a = fake_add_domain(&fc, "A", 1, NULL, NULL);
    struct sched_domain *b = fake_add_domain(&fc, "B", 1, NULL, NULL);
    fake_wake_domain(&fc, a);
    fake_wake_domain(&fc, b);
    fake_run(&fc, FV_MS(3));
    static const int ids[] = { 2 };
    static const fv_ns_t len[] = { FV_MS(7) };
    struct sched_global_params ng = windows(FV_MS(10), 1, ids, len);
    assert_int_equal(fc.s->ops->adjust_global(fc.s, &ng), 0);
    fake_run(&fc, FV_MS(23));                    /* B 3..10, 13..20 */
    assert_int_equal(fake_dom_ns(&fc, a), FV_MS(3));
    assert_int_equal(fake_dom_ns(&fc, b), FV_MS(14));
    ng.nr_windows = 0;
    assert_int_equal(fc.s->ops->adjust_global(fc.s, &ng), -EINVAL);
    fake_sched_free(&fc);
}

/* Entitled: window length / frame of one pCPU, bounded by demand; a domain
 * without a window gets nothing. */
static void test_entitle(void **st)
{
    (void)st;
    struct fake_core fc;
    struct sched_global_params gp = abc_schedule();
    fake_sched_new(&fc, "arinc653", 1, &gp);
    struct sched_domain *a = fake_add_domain(&fc, "A", 1, NULL, NULL);
    struct sched_domain *b = fake_add_domain(&fc, "B", 1, NULL, NULL);
    struct sched_domain *c = fake_add_domain(&fc, "C", 1, NULL, NULL);
    struct sched_domain *x = fake_add_domain(&fc, "X", 1, NULL, NULL);
    struct sched_demand d[4] = { { a, 1.0, 0 }, { b, 1.0, 0 }, { c, 0.1, 0 }, { x, 1.0, 0 } };
    sched_core_entitle(fc.s, d, 4);
    assert_true(d[0].entitled > 1.0 / 3 - 1e-12 && d[0].entitled < 1.0 / 3 + 1e-12);
    assert_true(d[1].entitled > 1.0 / 6 - 1e-12 && d[1].entitled < 1.0 / 6 + 1e-12);
    assert_true(d[2].entitled == 0.1);
    assert_true(d[3].entitled == 0.0);
    fake_sched_free(&fc);
}

static void mixed_run(fv_ns_t *out, int *n)
{
    static const int ids[] = { 1, 2, 1, 3 };
    static const fv_ns_t len[] = { FV_US(3300), FV_MS(4), FV_US(700), FV_MS(5) };
    struct fake_core *fc = calloc(1, sizeof(*fc));
    assert_non_null(fc);
    struct sched_global_params gp = windows(FV_MS(17), 4, ids, len);
    fake_sched_new(fc, "arinc653", 2, &gp);
    fake_add_domain(fc, "a", 2, NULL, NULL);
    fake_add_domain(fc, "b", 1, NULL, NULL);
    fake_add_domain(fc, "c", 3, NULL, NULL);
    for (int i = 0; i < fc->s->nr_doms; i++)
        fake_wake_domain(fc, fc->s->doms[i]);
    fake_churn(fc, 300, 5, FV_US(1300));
    *n = fc->s->nr_units;
    memcpy(out, fc->run_ns, sizeof(fv_ns_t) * (size_t)*n);
    fake_sched_free(fc);
    free(fc);
}

static void test_determinism(void **st)
{
    (void)st;
    fv_ns_t a[8], b[8];
    int na, nb;
    mixed_run(a, &na);
    mixed_run(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, sizeof(fv_ns_t) * (size_t)na);
    assert_int_equal(a[5], 0);                   /* c.2: no pCPU 2 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_windows),
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_blocked_window_idles),
        cmocka_unit_test(test_frame_zero_is_sum),
        cmocka_unit_test(test_two_pcpus),
        cmocka_unit_test(test_check_global),
        cmocka_unit_test(test_adjust_global),
        cmocka_unit_test(test_entitle),
        cmocka_unit_test(test_determinism),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
