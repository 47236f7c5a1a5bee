/* test_hist.c — log-linear histogram: bucket edges, exact extremes,
 * percentile error bound. */
#include "testutil.h"
#include "hv/hist.h"

static void test_small_values_exact(void **st)
{
    (void)st;
    struct fv_hist h;
    hist_init(&h);
    for (uint64_t v = 1; v <= 20; v++)
        hist_add(&h, v);
    assert_int_equal(hist_quantile(&h, 0.5), 10);
    assert_int_equal(hist_quantile(&h, 1.0), 20);
    assert_int_equal(h.min, 1);
    assert_int_equal(h.count, 20);
    assert_int_equal(h.sum, 210);
}

static void test_buckets_contiguous(void **st)
{
    (void)st;
    for (int i = 1; i < FV_HIST_BUCKETS; i++)
        assert_int_equal(hist_bucket_lo(i), hist_bucket_hi(i - 1) + 1);
    for (uint64_t v = 0; v < 100000; v += 7) {
        int b = hist_bucket_of(v);
        assert_true(hist_bucket_lo(b) <= v && v <= hist_bucket_hi(b));
    }
    assert_int_equal(hist_bucket_of(FV_HIST_MAX_VALUE), FV_HIST_BUCKETS - 1);
}

static void test_percentile_error_bound(void **st)
{
    (void)st;
    struct fv_hist h;
    hist_init(&h);
    for (uint64_t v = 1; v <= 1000000; v++)
        hist_add(&h, v * 1000);          /* 1 us .. 1 s */
    uint64_t p50 = hist_quantile(&h, 0.50), p99 = hist_quantile(&h, 0.99);
    assert_true(p50 >= 500000000ULL && p50 <= 500000000ULL * 33 / 32);
    assert_true(p99 >= 990000000ULL && p99 <= 990000000ULL * 33 / 32);
    assert_int_equal(hist_quantile(&h, 1.0), 1000000000ULL);
}

static void test_empty_and_merge(void **st)
{
    (void)st;
    struct fv_hist a, b;
    hist_init(&a);
    hist_init(&b);
    assert_int_equal(hist_quantile(&a, 0.99), 0);
    hist_add(&a, 5);
    hist_add(&b, 500);
    hist_merge(&a, &b);
    assert_int_equal(a.count, 2);
    assert_int_equal(a.max, 500);
    assert_int_equal(a.min, 5);
    assert_int_equal(hist_quantile(&a, 0.5), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_values_exact),
        cmocka_unit_test(test_buckets_contiguous),
        cmocka_unit_test(test_percentile_error_bound),
        cmocka_unit_test(test_empty_and_merge),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
