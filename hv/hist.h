/* hist.h — log-linear latency histograms (HDR-style): values in ns, each
 * power-of-two range split into 32 linear sub-buckets, so a percentile is
 * reported with at most 1/32 (3.1%) relative error; min, max, count and sum
 * are exact (max and min before clamping; min is meaningful once count > 0).
 * Fixed size, no allocation; all-zero bytes are an empty histogram, so
 * calloc'ed ones need no hist_init (and their pages are never touched
 * until used).
 * Written here rather than taken from a library because Debian 12 packages
 * no C HDR histogram, and the layout is 40 lines. */
#ifndef FV_HIST_H
#define FV_HIST_H

#include <stdint.h>
#include <stdio.h>

#define FV_HIST_SUB_BITS 5
#define FV_HIST_SUB (1 << FV_HIST_SUB_BITS)
/* Values are clamped to 2^42 - 1 ns (73 minutes) to keep a histogram ~10 KiB. */
#define FV_HIST_MAX_BITS 42
#define FV_HIST_MAX_VALUE ((1ULL << FV_HIST_MAX_BITS) - 1)
#define FV_HIST_BUCKETS ((FV_HIST_MAX_BITS - FV_HIST_SUB_BITS + 1) * FV_HIST_SUB)

struct fv_hist {
    uint64_t count;
    uint64_t sum;
    uint64_t min, max;
    uint64_t b[FV_HIST_BUCKETS];
};

void hist_init(struct fv_hist *h);
void hist_add(struct fv_hist *h, uint64_t v);
void hist_merge(struct fv_hist *dst, const struct fv_hist *src);
/* Value at quantile q (0..1): the upper edge of the bucket holding it, never
 * above max; 0 for an empty histogram. q = 1 gives max exactly. */
uint64_t hist_quantile(const struct fv_hist *h, double q);
/* Bucket i covers [hist_bucket_lo(i), hist_bucket_hi(i)]. */
uint64_t hist_bucket_lo(int i);
uint64_t hist_bucket_hi(int i);
int hist_bucket_of(uint64_t v);

#endif
