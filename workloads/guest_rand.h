/* guest_rand.h — deterministic random numbers for guests: pure integer and
 * IEEE arithmetic, so the same seed gives the same stream on any machine
 * (libc's rand() and libm's log() make no such promise across versions).
 * xoshiro256** seeded through splitmix64, as its authors recommend. */
#ifndef FV_GUEST_RAND_H
#define FV_GUEST_RAND_H

#include <stdint.h>

struct guest_rng { uint64_t s[4]; };

static inline uint64_t grand_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline void grand_seed(struct guest_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = grand_splitmix(&seed);
}

static inline uint64_t grand_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t grand_u64(struct guest_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = grand_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = grand_rotl(s[3], 45);
    return out;
}

/* Uniform in (0, 1]: never 0, so -log(u) is finite. */
static inline double grand_unit(struct guest_rng *r)
{
    return ((double)(grand_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [lo, hi]. */
static inline int64_t grand_range(struct guest_rng *r, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int64_t)(span ? grand_u64(r) % span : grand_u64(r));
}

/* Natural log of x > 0 using only + - * / and exact scaling: x = m * 2^e
 * with m in [sqrt(1/2), sqrt(2)), then ln m = 2 atanh((m-1)/(m+1)) by its
 * series, which converges fast for |t| < 0.172. Accurate to ~1e-15. */
static inline double grand_log(double x)
{
    int e = 0;
    while (x >= 1.4142135623730951) { x *= 0.5; e++; }
    while (x < 0.7071067811865476) { x *= 2.0; e--; }
    double t = (x - 1.0) / (x + 1.0), t2 = t * t, term = t, sum = 0.0;
    for (int k = 1; k < 40; k += 2) {
        sum += term / k;
        term *= t2;
    }
    return 2.0 * sum + e * 0.6931471805599453;
}

/* Exponentially distributed with the given mean (>= 0). */
static inline int64_t grand_exp(struct guest_rng *r, int64_t mean)
{
    return (int64_t)(-(double)mean * grand_log(grand_unit(r)));
}

#endif
