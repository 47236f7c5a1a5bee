/* sweep_slo.c — a sweep's service-level objective: `--slo
 * 'NAME.FIELD.PATH<VALUE'` parsed against the numeric fields a domain has
 * in summary.json, checked against the scenario before anything runs, and
 * evaluated on each run's summary.json.
 *
 * A group (a `domains:` entry with `count`) is judged by its worst member:
 * an objective promised to every replica breaks when any one misses it.
 */
#include "sweep.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PCT(f) f ".p50", f ".p99", f ".max"

const char *const sweep_slo_fields[] = {
    "cpu_share", "entitled_share", "cpu_ns", "entitled_ns", "runnable_ns", "work_units",
    PCT("wakeup_latency_ns"), PCT("wait_ns"), PCT("app_latency_ns"),
    "deadline_misses", "sched_deadline_misses", "starved_ns", "starvation_events",
    "backend_cpu_ns", "charged_ns", "guest_errors", "mem_resident_bytes", "weight", "cap",
    "vcpus",
    "net.tx_pkts", "net.rx_pkts", "net.tx_bytes", "net.rx_bytes", "net.drops",
    PCT("net.latency_ns"),
    "net.drops_by_cause.no_rx_buffer", "net.drops_by_cause.no_dest",
    "net.drops_by_cause.port_full", "net.drops_by_cause.no_buffer",
    "net.drops_by_cause.disconnected", "net.drops_by_cause.spoofed",
    "blk.reads", "blk.writes", "blk.bytes", "blk.flushes", "blk.errors", "blk.unsupported",
    PCT("blk.latency_ns"),
    "starvation_by_resource.cpu.events", "starvation_by_resource.cpu.starved_ns",
    "starvation_by_resource.net.events", "starvation_by_resource.net.starved_ns",
    "starvation_by_resource.blk.events", "starvation_by_resource.blk.starved_ns",
    NULL,
};

__attribute__((format(printf, 4, 5)))
static int slo_fail(char *err, size_t errlen, const char *text, const char *fmt, ...)
{
    int w = snprintf(err, errlen, "--slo %.120s%s: ", text, strlen(text) > 120 ? "..." : "");
    if (w >= 0 && (size_t)w < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + w, errlen - (size_t)w, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static bool field_known(const char *f, size_t len)
{
    for (int i = 0; sweep_slo_fields[i]; i++)
        if (strlen(sweep_slo_fields[i]) == len && strncmp(sweep_slo_fields[i], f, len) == 0)
            return true;
    return false;
}

static void field_list(char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; sweep_slo_fields[i] && used + 1 < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", sweep_slo_fields[i]);
        used = w < 0 ? used : used + (size_t)w >= n ? n - 1 : used + (size_t)w;
    }
}

/* *_ns anywhere on the path: nanoseconds; a last step ending in bytes: bytes. */
static enum sweep_unit field_unit(const char *f)
{
    for (const char *p = f; (p = strstr(p, "_ns")); p += 3)
        if (p[3] == '\0' || p[3] == '.')
            return SWEEP_UNIT_NS;
    size_t len = strlen(f);
    return len >= 5 && strcmp(f + len - 5, "bytes") == 0 ? SWEEP_UNIT_BYTES : SWEEP_UNIT_NUMBER;
}

static int parse_threshold(struct sweep_slo *s, const char *v, char *err, size_t errlen)
{
    fv_ns_t ns;
    uint64_t b;
    int64_t c;
    char *end;
    double d = strtod(v, &end);
    bool plain = *v && !*end && isfinite(d) && *v != ' ';
    switch (s->unit) {
    case SWEEP_UNIT_NS:
        if (scn_parse_duration(v, &ns))
            return slo_fail(err, errlen, s->text, "\"%s\" is not a duration (%s is in "
                            "nanoseconds: expected a number with ns, us, ms or s, such as 1ms)",
                            v, s->field);
        s->threshold = (double)ns;
        return 0;
    case SWEEP_UNIT_BYTES:
        if (scn_parse_size(v, &b) == 0)
            return s->threshold = (double)b, 0;
        if (plain || scn_parse_count(v, &c) == 0)
            return s->threshold = plain ? d : (double)c, 0;
        return slo_fail(err, errlen, s->text, "\"%s\" is not a size (%s counts bytes: expected "
                        "a number, or one with B, KiB, MiB, GiB or TiB)", v, s->field);
    default:
        if (plain || scn_parse_count(v, &c) == 0)
            return s->threshold = plain ? d : (double)c, 0;
        return slo_fail(err, errlen, s->text, "\"%s\" is not a number (%s is a plain number: "
                        "expected such as 0.5 or 10k)", v, s->field);
    }
}

int sweep_slo_parse(const char *text, struct sweep_slo *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->text, sizeof(s->text), "%s", text);
    const char *usage = "expected NAME.FIELD<VALUE such as victim.net.latency_ns.p99<1ms; "
                        "also <=, > and >=";
    size_t lhs_len = strcspn(text, "<>");
    if (!text[lhs_len])
        return slo_fail(err, errlen, text, "no comparison (%s)", usage);
    s->op = text[lhs_len] == '<' ? SWEEP_LT : SWEEP_GT;
    const char *v = text + lhs_len + 1;
    if (*v == '=') {
        s->op = s->op == SWEEP_LT ? SWEEP_LE : SWEEP_GE;
        v++;
    }
    while (*v == ' ')
        v++;
    while (lhs_len && text[lhs_len - 1] == ' ')
        lhs_len--;
    const char *lhs = text;
    while (*lhs == ' ')
        lhs++, lhs_len--;
    /* NAME may hold dots (a domain name may): the first split whose rest is
     * a known field wins. */
    const char *dot = NULL;
    for (const char *p = lhs; (p = memchr(p, '.', lhs_len - (size_t)(p - lhs))); p++)
        if (p > lhs && field_known(p + 1, lhs_len - (size_t)(p + 1 - lhs))) {
            dot = p;
            break;
        }
    if (!dot) {
        const char *first = memchr(lhs, '.', lhs_len);
        if (!first || first == lhs || first + 1 == lhs + lhs_len)
            return slo_fail(err, errlen, text, "\"%.*s\" is not NAME.FIELD (%s)",
                            (int)(lhs_len > 120 ? 120 : lhs_len), lhs, usage);
        char list[2048];
        field_list(list, sizeof(list));
        return slo_fail(err, errlen, text, "unknown field \"%.*s\" (expected one of: %s)",
                        (int)(lhs + lhs_len - first - 1), first + 1, list);
    }
    size_t nlen = (size_t)(dot - lhs), flen = lhs_len - nlen - 1;
    if (nlen >= sizeof(s->name) || flen >= sizeof(s->field))
        return slo_fail(err, errlen, text, "the name is too long (expected at most %d "
                        "characters)", SCN_NAME_MAX - 1);
    memcpy(s->name, lhs, nlen);
    memcpy(s->field, dot + 1, flen);
    if (!*v)
        return slo_fail(err, errlen, text, "no value after the comparison (%s)", usage);
    s->unit = field_unit(s->field);
    return parse_threshold(s, v, err, errlen);
}

bool sweep_slo_holds(const struct sweep_slo *s, double v)
{
    switch (s->op) {
    case SWEEP_LT: return v < s->threshold;
    case SWEEP_LE: return v <= s->threshold;
    case SWEEP_GT: return v > s->threshold;
    default: return v >= s->threshold;
    }
}

/* Is `name` a replica of group g: "g-<digits>"? */
static bool replica_of(const char *name, const char *g)
{
    size_t gl = strlen(g);
    if (strncmp(name, g, gl) != 0 || name[gl] != '-' || !name[gl + 1])
        return false;
    return strspn(name + gl + 1, "0123456789") == strlen(name + gl + 1);
}

/* "victim, server, flood (group of 3), sink" into buf. */
static void domain_list(const struct scenario *scn, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < scn->nr_domains && used + 1 < n; i++) {
        const char *name = scn->domains[i].name;
        const char *dash = strrchr(name, '-');
        int members = 1;
        char group[SCN_NAME_MAX] = "";
        if (!scn->domains[i].is_dom0 && dash && dash > name && strcmp(dash, "-0") == 0) {
            memcpy(group, name, (size_t)(dash - name));
            group[dash - name] = '\0';
            while (i + members < scn->nr_domains && replica_of(scn->domains[i + members].name, group))
                members++;
        }
        int w = members > 1 || group[0]
                    ? snprintf(buf + used, n - used, "%s%s (group of %d)", used ? ", " : "", group,
                               members)
                    : snprintf(buf + used, n - used, "%s%s", used ? ", " : "", name);
        used = w < 0 ? used : used + (size_t)w >= n ? n - 1 : used + (size_t)w;
        i += members - 1;
    }
}

int sweep_slo_check(const struct sweep_slo *s, const struct scenario *scn, char *err,
                    size_t errlen)
{
    for (int i = 0; i < scn->nr_domains; i++)
        if (strcmp(scn->domains[i].name, s->name) == 0 || replica_of(scn->domains[i].name, s->name))
            return 0;
    char list[1024];
    domain_list(scn, list, sizeof(list));
    slo_fail(err, errlen, s->text, "no domain or group \"%s\" in scenario %s (expected one of: "
             "%s)", s->name, scn->name, list);
    return -ENOENT;
}

/* The field at s->field of domain object d, as a number. */
static int field_value(const struct sweep_slo *s, const json_t *d, double *v)
{
    const json_t *j = d;
    for (const char *p = s->field; j && *p;) {
        size_t len = strcspn(p, ".");
        char step[96];
        snprintf(step, sizeof(step), "%.*s", (int)len, p);
        j = json_object_get(j, step);
        p += len + (p[len] == '.');
    }
    if (!json_is_number(j))
        return -EINVAL;
    *v = json_number_value(j);
    return 0;
}

int sweep_slo_value(const struct sweep_slo *s, const json_t *summary, double *v)
{
    const json_t *doms = json_object_get(summary, "domains");
    size_t i;
    const json_t *d;
    int found = 0;
    bool worst_is_max = s->op == SWEEP_LT || s->op == SWEEP_LE;
    /* pass 0: the domain of that name; 1: the group's members by their
     * `group` field; 2: by their names, NAME-<digits> */
    for (int pass = 0; pass < 3 && !found; pass++) {
        json_array_foreach(doms, i, d) {
            const char *name = json_string_value(json_object_get(d, "name"));
            const char *group = json_string_value(json_object_get(d, "group"));
            bool member = pass == 0 ? name && strcmp(name, s->name) == 0
                        : pass == 1 ? group && strcmp(group, s->name) == 0
                                    : name && replica_of(name, s->name);
            if (!member)
                continue;
            double x;
            if (field_value(s, d, &x))
                return -EINVAL;
            if (!found++ || (worst_is_max ? x > *v : x < *v))
                *v = x;
        }
    }
    return found ? 0 : -ENOENT;
}
