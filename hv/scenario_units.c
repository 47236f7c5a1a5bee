/* scenario_units.c — numbers with explicit units: durations (ns us ms s),
 * sizes (B KiB MiB GiB TiB) and counts (k, M), parsed exactly and formatted
 * back exactly.
 *
 * Written by hand rather than with strtod: decimals such as "1.5ms" must
 * give exactly 1500000 ns (binary floating point cannot promise that for
 * every input), overflow must be detected rather than saturated, and a bare
 * number must be refused for durations and sizes (units are explicit).
 */
#include "scenario_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct unit {
    const char *name;
    uint64_t mult;
};

static const struct unit duration_units[] = {
    { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 } /* µs */, { "ms", 1000000 },
    { "s", 1000000000 }, { NULL, 0 },
};
static const struct unit size_units[] = {
    { "B", 1 }, { "KiB", 1ULL << 10 }, { "MiB", 1ULL << 20 }, { "GiB", 1ULL << 30 },
    { "TiB", 1ULL << 40 }, { NULL, 0 },
};
/* "" is the bare number: counts need no unit. */
static const struct unit count_units[] = {
    { "", 1 }, { "k", 1000 }, { "M", 1000000 }, { NULL, 0 },
};

static const struct unit *units_of(enum scn_ukind k)
{
    return k == SCN_UDURATION ? duration_units : k == SCN_USIZE ? size_units : count_units;
}

const char *scn_units_help(enum scn_ukind k)
{
    switch (k) {
    case SCN_UDURATION:
        return "ns, us, ms or s";
    case SCN_USIZE:
        return "B, KiB, MiB, GiB or TiB";
    default:
        return "an optional k or M";
    }
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* The digits before and after the point. Fractional digits past 19 must be
 * zeros (they could never give a whole number of the base unit anyway). */
struct decimal {
    uint64_t ip;        /* integer part */
    uint64_t frac;      /* fractional digits as an integer */
    int nfrac;          /* how many of them (trailing zeros dropped) */
};

static enum scn_perr read_decimal(const char **pp, struct decimal *d)
{
    const char *p = *pp;
    *d = (struct decimal){ 0 };
    if (!is_digit(*p))
        return SCN_PSYNTAX;
    for (; is_digit(*p); p++) {
        unsigned dig = (unsigned)(*p - '0');
        if (__builtin_mul_overflow(d->ip, 10, &d->ip) || __builtin_add_overflow(d->ip, dig, &d->ip))
            return SCN_PRANGE;
    }
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return SCN_PSYNTAX;
        int zeros = 0;  /* pending zeros: kept only if a nonzero digit follows */
        for (; is_digit(*p); p++) {
            if (*p == '0') {
                zeros++;
                continue;
            }
            for (; zeros >= 0; zeros--) {
                if (d->nfrac >= 19)
                    return SCN_PFRAC;
                d->frac = d->frac * 10 + (zeros ? 0 : (uint64_t)(*p - '0'));
                d->nfrac++;
            }
            zeros = 0;
        }
    }
    *pp = p;
    return SCN_POK;
}

/* ip × mult + frac × mult / 10^nfrac, exactly, or an error. The product
 * frac × mult may need more than 64 bits (19 digits × 2^40), hence the
 * 128-bit intermediate (a GCC/Clang extension, available on every target
 * fairvisor builds for). */
static enum scn_perr scale(const struct decimal *d, uint64_t mult, uint64_t *out)
{
    uint64_t v;
    if (__builtin_mul_overflow(d->ip, mult, &v))
        return SCN_PRANGE;
    if (d->nfrac) {
        unsigned __int128 p10 = 1;
        for (int i = 0; i < d->nfrac; i++)
            p10 *= 10;
        unsigned __int128 t = (unsigned __int128)d->frac * mult;
        if (t % p10)
            return SCN_PFRAC;
        if (__builtin_add_overflow(v, (uint64_t)(t / p10), &v))
            return SCN_PRANGE;
    }
    if (v > (uint64_t)INT64_MAX)
        return SCN_PRANGE;
    *out = v;
    return SCN_POK;
}

enum scn_perr scn_parse_units(const char *s, enum scn_ukind k, int64_t *out)
{
    const char *p = s;
    bool neg = *p == '-';
    if (neg)
        p++;
    struct decimal d;
    enum scn_perr e = read_decimal(&p, &d);
    if (e)
        return e;
    while (*p == ' ')
        p++;
    const struct unit *u = units_of(k);
    for (; u->name && strcmp(u->name, p) != 0; u++)
        ;
    if (!u->name)
        return *p ? SCN_PUNIT : SCN_PNOUNIT;
    uint64_t v;
    if ((e = scale(&d, u->mult, &v)))
        return e;
    if (neg && v && k != SCN_UCOUNT)
        return SCN_PNEG;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return SCN_POK;
}

int scn_parse_duration(const char *s, fv_ns_t *out)
{
    int64_t v;
    if (scn_parse_units(s, SCN_UDURATION, &v))
        return -EINVAL;
    *out = v;
    return 0;
}

int scn_parse_size(const char *s, uint64_t *out)
{
    int64_t v;
    if (scn_parse_units(s, SCN_USIZE, &v))
        return -EINVAL;
    *out = (uint64_t)v;
    return 0;
}

int scn_parse_count(const char *s, int64_t *out)
{
    return scn_parse_units(s, SCN_UCOUNT, out) ? -EINVAL : 0;
}

/* Largest unit of `u` (ascending table) that divides v exactly. */
static const char *format_exact(uint64_t v, bool neg, const struct unit *u, char *buf, size_t len)
{
    const struct unit *best = u;
    for (; u->name; u++)
        if (v && v % u->mult == 0 && u->mult > best->mult)
            best = u;
    snprintf(buf, len, "%s%" PRIu64 "%s", neg ? "-" : "", v / best->mult, best->name);
    return buf;
}

const char *scn_format_duration(fv_ns_t ns, char *buf, size_t len)
{
    return fv_fmt_ns(ns, buf, len);
}

const char *scn_format_size(uint64_t bytes, char *buf, size_t len)
{
    return format_exact(bytes, false, size_units, buf, len);
}
