/* scenario_units.c — numbers with explicit units: durations (ns us ms s),
 * sizes (B KiB MiB GiB TiB), counts (k, M) and vif rates (10Mbit/s@50ms),
 * parsed exactly and formatted back exactly; and the network addresses a
 * scenario writes (MAC, IPv4 with prefix).
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

/* ---- vif rates -------------------------------------------------------------- */

/* In bits: network rates are quoted in bits (powers of 1000), memory-like
 * amounts in bytes (powers of 1024); kbit and Kbit are both 1000 bits. */
static const struct unit rate_units[] = {
    { "bit", 1 }, { "kbit", 1000 }, { "Kbit", 1000 }, { "Mbit", 1000000 },
    { "Gbit", 1000000000 }, { "B", 8 }, { "KiB", 8ULL << 10 }, { "MiB", 8ULL << 20 },
    { "GiB", 8ULL << 30 }, { "TiB", 8ULL << 40 }, { NULL, 0 },
};

/* A duration after '/' or '@' (the text up to `end`): > 0. */
static enum scn_perr rate_time(const char *p, const char *end, fv_ns_t *out)
{
    char buf[64];
    size_t n = (size_t)(end - p);
    if (n == 0 || n + 1 >= sizeof(buf))
        return SCN_PSYNTAX;
    /* A bare unit is one of it: "/s", "/ms" (µs starts with 0xc2). */
    size_t bare = ((*p | 32) >= 'a' && (*p | 32) <= 'z') || (unsigned char)*p == 0xc2;
    buf[0] = '1';
    memcpy(buf + bare, p, n);
    buf[n + bare] = 0;
    int64_t v;
    enum scn_perr e = scn_parse_units(buf, SCN_UDURATION, &v);
    if (e == SCN_POK && v <= 0)
        e = SCN_PRANGE;
    if (e == SCN_POK)
        *out = v;
    return e;
}

enum scn_perr scn_parse_rate(const char *s, struct scn_rate *out)
{
    *out = (struct scn_rate){ .per = FV_SEC(1), .interval = SCN_RATE_INTERVAL };
    const char *at = strchr(s, '@');
    const char *end = at ? at : s + strlen(s);
    const char *slash = memchr(s, '/', (size_t)(end - s));
    const char *p = s;
    bool neg = *p == '-';
    p += neg;
    struct decimal d;
    enum scn_perr e = read_decimal(&p, &d);
    if (e)
        return e;
    while (*p == ' ')
        p++;
    const char *uend = slash ? slash : end;
    size_t ulen = (size_t)(uend - p);
    if (!ulen)
        return SCN_PNOUNIT;
    const struct unit *u = rate_units;
    for (; u->name && (strlen(u->name) != ulen || strncmp(u->name, p, ulen) != 0); u++)
        ;
    if (!u->name)
        return SCN_PUNIT;
    uint64_t bits;
    if ((e = scale(&d, u->mult, &bits)))
        return e;
    if (neg && bits)
        return SCN_PNEG;
    if (slash && (e = rate_time(slash + 1, end, &out->per)))
        return e;
    if (at && (e = rate_time(at + 1, at + strlen(at), &out->interval)))
        return e;
    out->bits = (int64_t)bits;
    return SCN_POK;
}

uint64_t scn_rate_credit(const struct scn_rate *r)
{
    unsigned __int128 v = (unsigned __int128)(uint64_t)r->bits * (uint64_t)r->interval /
                          ((unsigned __int128)(uint64_t)r->per * 8);
    if (v > (unsigned __int128)INT64_MAX)
        return 0;
    return v ? (uint64_t)v : 1;
}

/* ---- network addresses ------------------------------------------------------- */

uint32_t scn_ip_mask(int prefix)
{
    return prefix <= 0 ? 0 : prefix >= 32 ? ~0u : ~0u << (32 - prefix);
}

const char *scn_format_ipv4(uint32_t ip, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
    return buf;
}

const char *scn_format_mac(const uint8_t m[6], char *buf, size_t len)
{
    snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return buf;
}

/* Per interval, so that what is written loads back to the same credit
 * whatever the interval (a per-second rate would need a fraction). */
const char *scn_format_rate(const struct scn_vif *v, char *buf, size_t len)
{
    char b[SCN_FMT_MAX], i[SCN_FMT_MAX];
    scn_format_duration(v->rate_interval, i, sizeof(i));
    snprintf(buf, len, "%s/%s@%s", scn_format_size(v->rate_bytes, b, sizeof(b)), i, i);
    return buf;
}

const char *scn_ip_subnet(uint32_t ip, int prefix, char *buf, size_t len)
{
    char a[SCN_FMT_MAX];
    snprintf(buf, len, "%s/%d", scn_format_ipv4(ip & scn_ip_mask(prefix), a, sizeof(a)), prefix);
    return buf;
}

/* Octets with leading zeros are refused: other tools read them as octal. */
int scn_parse_ipv4(const char *v, uint32_t *ip, int *prefix)
{
    uint32_t a = 0;
    const char *p = v;
    for (int i = 0; i < 4; i++) {
        int n = 0, digits = 0;
        for (; is_digit(*p) && digits < 4; p++, digits++)
            n = n * 10 + (*p - '0');
        if (!digits || digits > 3 || n > 255 || (digits > 1 && p[-digits] == '0'))
            return -1;
        a = a << 8 | (uint32_t)n;
        if (i < 3 && *p++ != '.')
            return -1;
    }
    *prefix = 0;
    if (*p == '/') {
        int n = 0, digits = 0;
        for (p++; is_digit(*p) && digits < 3; p++, digits++)
            n = n * 10 + (*p - '0');
        if (!digits || *p || n < 1 || n > 32)
            return -2;
        *prefix = n;
    } else if (*p) {
        return -1;
    }
    *ip = a;
    return 0;
}

bool scn_ip_unicast(uint32_t ip)
{
    uint32_t top = ip >> 24;
    return top != 0 && top != 127 && top < 224;
}

/* /31 and /32 have no network or broadcast address (RFC 3021). */
const char *scn_ip_not_host(uint32_t ip, int prefix)
{
    uint32_t host = ip & ~scn_ip_mask(prefix);
    if (prefix < 31 && host == 0)
        return "the network address";
    if (prefix < 31 && host == ~scn_ip_mask(prefix))
        return "the broadcast address";
    return NULL;
}
