/* hist.c — see hist.h. Bucket index: values below FV_HIST_SUB map to
 * themselves; above, the top FV_HIST_SUB_BITS+1 significant bits pick the
 * bucket within the value's power of two. */
#include "hist.h"

#include <string.h>

void hist_init(struct fv_hist *h)
{
    memset(h, 0, sizeof(*h));
}

int hist_bucket_of(uint64_t v)
{
    if (v < FV_HIST_SUB)
        return (int)v;
    int msb = 63 - __builtin_clzll(v);                 /* >= FV_HIST_SUB_BITS */
    int shift = msb - FV_HIST_SUB_BITS;
    int sub = (int)((v >> shift) & (FV_HIST_SUB - 1));
    return (shift + 1) * FV_HIST_SUB + sub;
}

uint64_t hist_bucket_lo(int i)
{
    if (i < FV_HIST_SUB)
        return (uint64_t)i;
    int shift = i / FV_HIST_SUB - 1;
    uint64_t sub = (uint64_t)(i % FV_HIST_SUB);
    return (FV_HIST_SUB + sub) << shift;
}

uint64_t hist_bucket_hi(int i)
{
    if (i < FV_HIST_SUB)
        return (uint64_t)i;
    int shift = i / FV_HIST_SUB - 1;
    return hist_bucket_lo(i) + ((1ULL << shift) - 1);
}

void hist_add(struct fv_hist *h, uint64_t v)
{
    h->count++;
    h->sum += v;
    if (v < h->min || h->count == 1)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->b[hist_bucket_of(v < FV_HIST_MAX_VALUE ? v : FV_HIST_MAX_VALUE)]++;
}

void hist_merge(struct fv_hist *dst, const struct fv_hist *src)
{
    if (!src->count)
        return;
    if (!dst->count || src->min < dst->min)
        dst->min = src->min;
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->max > dst->max)
        dst->max = src->max;
    for (int i = 0; i < FV_HIST_BUCKETS; i++)
        dst->b[i] += src->b[i];
}

uint64_t hist_quantile(const struct fv_hist *h, double q)
{
    if (!h->count)
        return 0;
    if (q >= 1.0)
        return h->max;
    if (q < 0.0)
        q = 0.0;
    /* Rank of the q-quantile, 1-based, rounded up (nearest-rank method). */
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count || rank == 0)
        rank++;
    uint64_t seen = 0;
    for (int i = 0; i < FV_HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t hi = hist_bucket_hi(i);
            return hi < h->max ? hi : h->max;
        }
    }
    return h->max;
}
