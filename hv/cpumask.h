/* cpumask.h — a fixed-size pCPU bitmap (hard affinity, idle sets). */
#ifndef FV_CPUMASK_H
#define FV_CPUMASK_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define FV_MAX_PCPUS 256

typedef struct { uint64_t bits[FV_MAX_PCPUS / 64]; } fv_cpumask_t;

static inline void cpumask_clear_all(fv_cpumask_t *m) { memset(m, 0, sizeof(*m)); }
static inline void cpumask_set(fv_cpumask_t *m, int c) { m->bits[c >> 6] |= 1ULL << (c & 63); }
static inline void cpumask_clear(fv_cpumask_t *m, int c) { m->bits[c >> 6] &= ~(1ULL << (c & 63)); }
static inline bool cpumask_test(const fv_cpumask_t *m, int c) { return (m->bits[c >> 6] >> (c & 63)) & 1; }

static inline void cpumask_fill(fv_cpumask_t *m, int n)
{
    cpumask_clear_all(m);
    for (int c = 0; c < n; c++)
        cpumask_set(m, c);
}

static inline bool cpumask_empty(const fv_cpumask_t *m)
{
    for (unsigned i = 0; i < FV_MAX_PCPUS / 64; i++)
        if (m->bits[i])
            return false;
    return true;
}

static inline int cpumask_weight(const fv_cpumask_t *m)
{
    int n = 0;
    for (unsigned i = 0; i < FV_MAX_PCPUS / 64; i++)
        n += __builtin_popcountll(m->bits[i]);
    return n;
}

/* Lowest set cpu >= from, or -1. */
static inline int cpumask_next(const fv_cpumask_t *m, int from)
{
    for (int i = from >> 6; from < FV_MAX_PCPUS && i < FV_MAX_PCPUS / 64; i++) {
        uint64_t w = m->bits[i];
        if (i == from >> 6)
            w &= ~0ULL << (from & 63);
        if (w)
            return i * 64 + __builtin_ctzll(w);
    }
    return -1;
}

#define cpumask_for_each(c, m) \
    for (int c = cpumask_next((m), 0); c >= 0; c = cpumask_next((m), c + 1))

#endif
