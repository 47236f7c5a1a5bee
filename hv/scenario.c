/* scenario.c — loading a scenario file (DESIGN §5): the YAML document, the
 * messages, the table-driven key parser, and the top-level keys.
 *
 * libyaml's document API (yaml_parser_load) is used rather than an
 * event-driven or binding library (libcyaml) because every node keeps its
 * start mark, which is what lets each refusal say FILE:LINE:COL, and because
 * --set overrides can be applied to the document before it is validated,
 * so an overridden value is checked by exactly the same code as a file one.
 *
 * The flow: read the text, load the one document, apply the overrides,
 * then walk the tables (top level here; sched and domains in
 * scenario_domains.c; blkback: before domains, as a vbd's default backend
 * is blkback's), then the network and disks (scenario_net.c: netback, vifs,
 * blkback's checks and the images of file vbds in scenario_blk.c, Domain-0),
 * then resolve arinc653 windows (which may name Domain-0) and let the policy
 * check what it was given. Everything is left zeroed on error.
 */
#include "scenario_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- nodes and messages --------------------------------------------------- */

yaml_node_t *scn_node(struct scn_ctx *c, int id)
{
    return id > 0 ? yaml_document_get_node(&c->doc, id) : NULL;
}

/* The "FILE:LINE:COL: " or "--set KEY=VALUE: " a message about node starts
 * with. Node 0 (the document as a whole) is 1:1. */
static int prefix(struct scn_ctx *c, int node, char *buf, size_t len)
{
    for (int i = 0; i < c->nspans; i++)
        if (node >= c->spans[i].first && node <= c->spans[i].last)
            return snprintf(buf, len, "--set %s: ", SCN_ECHO(c->spans[i].text));
    yaml_node_t *n = scn_node(c, node);
    size_t line = n ? n->start_mark.line + 1 : 1, col = n ? n->start_mark.column + 1 : 1;
    return snprintf(buf, len, "%s:%zu:%zu: ", c->file, line, col);
}

int scn_failv(struct scn_ctx *c, int n, const char *fmt, va_list ap)
{
    if (n >= 0 && (size_t)n < c->errlen)
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    return -EINVAL;
}

int scn_fail(struct scn_ctx *c, int node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = scn_failv(c, prefix(c, node, c->err, c->errlen), fmt, ap);
    va_end(ap);
    return rc;
}

int scn_oom(struct scn_ctx *c)
{
    snprintf(c->err, c->errlen, "%s: out of memory", c->file);
    return -ENOMEM;
}

const char *scn_echo(const char *s, char *buf)
{
    size_t n = strlen(s), cut = n;
    if (n > SCN_ECHO_MAX) {
        cut = SCN_ECHO_MAX;
        while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)  /* inside a UTF-8 character */
            cut--;
    }
    for (size_t i = 0; i < cut; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    memcpy(buf + cut, cut < n ? "..." : "", cut < n ? 4 : 1);
    return buf;
}

static const char *node_kind(const yaml_node_t *n)
{
    return n->type == YAML_SEQUENCE_NODE ? "a list" : "a mapping";
}

int scn_scalar(struct scn_ctx *c, int node, const char *what, const char *expect,
               const char **out)
{
    yaml_node_t *n = scn_node(c, node);
    if (n->type != YAML_SCALAR_NODE)
        return scn_fail(c, node, "%s is %s, not a single value (expected %s)", what,
                        node_kind(n), expect);
    const char *v = (const char *)n->data.scalar.value;
    if (strlen(v) != n->data.scalar.length)
        return scn_fail(c, node, "%s contains a NUL character (expected %s)", what, expect);
    *out = v;
    return 0;
}

int scn_map_get(struct scn_ctx *c, int map, const char *key)
{
    yaml_node_t *m = scn_node(c, map);
    if (!m || m->type != YAML_MAPPING_NODE)
        return 0;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = scn_node(c, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
            return p->value;
    }
    return 0;
}

int scn_copy_name(struct scn_ctx *c, int node, const char *what, const char *v,
                  char *dst, size_t size)
{
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
    if (!*v)
        return scn_fail(c, node, "%s is empty (expected letters, digits, _ . or -)", what);
    size_t bad = strspn(v, ok);
    unsigned char ch = (unsigned char)v[bad];
    if (ch)     /* a control or non-ASCII byte shown as '?' */
        return scn_fail(c, node, "%s \"%s\" contains '%c' (expected only letters, digits, _ . or -)",
                        what, SCN_ECHO(v), ch < 0x20 || ch >= 0x7f ? '?' : ch);
    if (strlen(v) >= size)
        return scn_fail(c, node, "%s \"%s\" is too long (expected at most %zu characters)", what,
                        SCN_ECHO(v), size - 1);
    /* A name becomes a directory name (results/<scenario>/, per-domain
     * files): "." and ".." would name the directory itself or its parent. */
    if (strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
        return scn_fail(c, node, "%s \"%s\" is reserved (expected a name other than . and ..)",
                        what, v);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/* ---- values --------------------------------------------------------------- */

static enum scn_ukind ukind(enum scn_ftype t)
{
    return t == SCN_T_NS ? SCN_UDURATION : t == SCN_T_SIZE ? SCN_USIZE : SCN_UCOUNT;
}

static const char *fmt_value(enum scn_ftype t, int64_t v, char *buf, size_t len)
{
    if (t == SCN_T_NS)
        return scn_format_duration(v, buf, len);
    if (t == SCN_T_SIZE)
        return scn_format_size((uint64_t)v, buf, len);
    snprintf(buf, len, "%" PRId64, v);
    return buf;
}

/* What a field accepts, for the "(expected ...)" part: "1..65535",
 * "an integer >= 1", "a duration > 0", "a size >= 1MiB", "1us..1s", then
 * ": WHY" when the field says why. */
#define RANGE_TEXT_MAX 256
static const char *range_text(const struct scn_field *f, char *buf, size_t len)
{
    static const char *const noun[] = { [SCN_T_INT] = "an integer", [SCN_T_NS] = "a duration",
                                        [SCN_T_SIZE] = "a size" };
    char lo[SCN_FMT_MAX], hi[SCN_FMT_MAX];
    fmt_value(f->type, f->min, lo, sizeof(lo));
    fmt_value(f->type, f->max, hi, sizeof(hi));
    if (f->max != INT64_MAX)
        snprintf(buf, len, "%s..%s", lo, hi);
    else if (f->min == 1 && f->type != SCN_T_INT)
        snprintf(buf, len, "%s > 0", noun[f->type]);
    else
        snprintf(buf, len, "%s >= %s", noun[f->type], lo);
    if (f->why) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, ": %s", f->why);
    }
    return buf;
}

static int number_error(struct scn_ctx *c, const struct scn_field *f, int node, const char *v,
                        enum scn_perr e)
{
    char r[RANGE_TEXT_MAX];
    v = SCN_ECHO(v);
    const char *units = scn_units_help(ukind(f->type));
    range_text(f, r, sizeof(r));
    bool counted = f->type == SCN_T_INT;
    /* A bad suffix on an integer ("10x") is just not an integer. */
    switch (e) {
    case SCN_PNOUNIT:
        return scn_fail(c, node, "%s \"%s\" has no unit (expected a number with %s)", f->name, v, units);
    case SCN_PUNIT:
        if (!counted)
            return scn_fail(c, node, "%s \"%s\" has an unknown unit (expected a number with %s)",
                            f->name, v, units);
        /* fall through */
    case SCN_PSYNTAX:
        return scn_fail(c, node, "%s \"%s\" is not %s (expected %s)", f->name, v,
                        counted ? "an integer" : f->type == SCN_T_NS ? "a duration" : "a size",
                        counted ? r : f->type == SCN_T_NS ? "a number with ns, us, ms or s"
                                                          : "a number with B, KiB, MiB, GiB or TiB");
    case SCN_PNEG:
        return scn_fail(c, node, "%s %s is negative (expected %s)", f->name, v, r);
    case SCN_PRANGE:
        if (f->max == INT64_MAX)        /* "a duration > 0" would not help here */
            fmt_value(f->type, INT64_MAX, r + snprintf(r, sizeof(r), "at most "), sizeof(r) - 8);
        return scn_fail(c, node, "%s %s is too large (expected %s)", f->name, v, r);
    default:
        return scn_fail(c, node, "%s %s is not a whole number%s (expected %s)", f->name, v,
                        counted ? "" : f->type == SCN_T_NS ? " of nanoseconds" : " of bytes", r);
    }
}

static int parse_number(struct scn_ctx *c, const struct scn_field *f, int node, const char *v,
                        int64_t *out)
{
    enum scn_perr e = scn_parse_units(v, ukind(f->type), out);
    if (e)
        return number_error(c, f, node, v, e);
    if (*out >= f->min && *out <= f->max)
        return 0;
    char r[RANGE_TEXT_MAX];
    range_text(f, r, sizeof(r));
    return scn_fail(c, node, "%s %s is %s (expected %s)", f->name, SCN_ECHO(v),
                    *out < 0 && f->min >= 0 ? "negative" : "out of range", r);
}

static int parse_u64(struct scn_ctx *c, const struct scn_field *f, int node, const char *v,
                     uint64_t *out)
{
    const char *expect = "an integer 0..18446744073709551615";
    if (*v == '-')
        return scn_fail(c, node, "%s %s is negative (expected %s)", f->name, SCN_ECHO(v), expect);
    if (!*v || strspn(v, "0123456789") != strlen(v))
        return scn_fail(c, node, "%s \"%s\" is not an integer (expected %s)", f->name, SCN_ECHO(v),
                        expect);
    uint64_t x = 0;
    for (; *v; v++)
        if (__builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, (unsigned)(*v - '0'), &x))
            return scn_fail(c, node, "%s is too large (expected %s)", f->name, expect);
    *out = x;
    return 0;
}

static int parse_bool(struct scn_ctx *c, const struct scn_field *f, int node, const char *v,
                      bool *out)
{
    /* YAML 1.1's spellings, which users of other YAML tools expect to work. */
    static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = true, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *out = false, 0;
    }
    return scn_fail(c, node, "%s \"%s\" is not a boolean (expected true or false)", f->name,
                    SCN_ECHO(v));
}

static int parse_choice(struct scn_ctx *c, const struct scn_field *f, int node, const char *v,
                        int64_t *index)
{
    for (int i = 0; f->choices[i]; i++)
        if (strcmp(f->choices[i], v) == 0)
            return *index = i, 0;
    char list[256] = "";
    for (int i = 0; f->choices[i]; i++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", f->choices[i]);
    }
    return scn_fail(c, node, "unknown %s \"%s\" (expected one of: %s)", f->name, SCN_ECHO(v), list);
}

static void store(void *dst, size_t size, int64_t v)
{
    if (size == sizeof(int64_t))
        memcpy(dst, &v, sizeof(v));
    else if (size == sizeof(int32_t)) {
        int32_t x = (int32_t)v;     /* ranges were checked; u32 fields get the same bits */
        memcpy(dst, &x, sizeof(x));
    } else
        *(bool *)dst = v != 0;
}

int scn_parse_field(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    if (f->type == SCN_T_CUSTOM)
        return f->parse(c, f, node, obj);
    char r[RANGE_TEXT_MAX] = "a value";
    if (f->type == SCN_T_INT || f->type == SCN_T_NS || f->type == SCN_T_SIZE)
        range_text(f, r, sizeof(r));
    const char *v;
    int rc = scn_scalar(c, node, f->name, r, &v);
    if (rc)
        return rc;
    char *dst = (char *)obj + f->off;
    int64_t x = 0;
    bool b = false;
    switch (f->type) {
    case SCN_T_U64:
        return parse_u64(c, f, node, v, (uint64_t *)(void *)dst);
    case SCN_T_BOOL:
        if ((rc = parse_bool(c, f, node, v, &b)) == 0)
            store(dst, f->size, b);
        return rc;
    case SCN_T_WORD:
        if ((rc = parse_choice(c, f, node, v, &x)) == 0)
            snprintf(dst, f->size, "%s", f->choices[x]);
        return rc;
    case SCN_T_ENUM:
        rc = parse_choice(c, f, node, v, &x);
        break;
    default:
        rc = parse_number(c, f, node, v, &x);
        break;
    }
    if (rc == 0)
        store(dst, f->size, x);
    return rc;
}

/* ---- mappings ------------------------------------------------------------- */

const char *scn_keys_list(const struct scn_mapping *m, char *buf, size_t len)
{
    buf[0] = 0;
    size_t n = 0;
    for (int i = 0; i < m->nfields; i++) {
        if (m->fields[i].type == SCN_T_LATER)
            continue;
        int w = snprintf(buf + n, len - n, "%s%s", n ? ", " : "", m->fields[i].name);
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
    return buf;
}

static const char *in_what(const struct scn_mapping *m, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s", *m->what ? " in " : "", m->what);
    return buf;
}

int scn_unknown_key(struct scn_ctx *c, const struct scn_mapping *m, int key, const char *name)
{
    char keys[512], in[80];
    return scn_fail(c, key, "unknown key \"%s\"%s (expected one of: %s)", SCN_ECHO(name),
                    in_what(m, in, sizeof(in)), scn_keys_list(m, keys, sizeof(keys)));
}

int scn_missing(struct scn_ctx *c, const struct scn_field *f, int map, void *obj)
{
    (void)obj;
    return scn_fail(c, map, "missing key \"%s\" (expected %s)", f->name, f->hint);
}

static int find_field(const struct scn_mapping *m, const char *name)
{
    for (int i = 0; i < m->nfields; i++)
        if (strcmp(m->fields[i].name, name) == 0)
            return i;
    return -1;
}

/* Check every key of the mapping (known, available, once) and note where
 * each field's value is: vals[i] = value node of fields[i], 0 if absent. */
static int collect(struct scn_ctx *c, const struct scn_mapping *m, int node, int *vals)
{
    yaml_node_t *n = scn_node(c, node);
    char in[80];
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const char *name;
        int rc = scn_scalar(c, p->key, "a key", "a word such as name", &name);
        if (rc)
            return rc;
        int i = find_field(m, name);
        if (i < 0)
            return (m->unknown ? m->unknown : scn_unknown_key)(c, m, p->key, name);
        if (m->fields[i].type == SCN_T_LATER)
            return scn_fail(c, p->key, "%s is not available yet in this build (expected a %s without %s)",
                            name, *m->what ? m->what : "scenario", name);
        if (vals[i])
            return scn_fail(c, p->key, "duplicate key \"%s\"%s (expected each key once)", name,
                            in_what(m, in, sizeof(in)));
        vals[i] = p->value;
    }
    return 0;
}

/* Parse a mapping against a table. Fields are handled in table order, not
 * file order, so that a key can rely on those before it (pcpus before pin,
 * vcpus before cap, sched before domains). */
int scn_parse_mapping(struct scn_ctx *c, const struct scn_mapping *m, int node, void *obj)
{
    yaml_node_t *n = scn_node(c, node);
    if (!n || n->type != YAML_MAPPING_NODE)
        return scn_fail(c, node, "%s is %s (expected %s)", *m->what ? m->what : "the scenario",
                        !n ? "empty" : n->type == YAML_SCALAR_NODE ? "a single value" : "a list",
                        m->expect);
    int vals[SCN_MAX_FIELDS] = { 0 };
    if (m->nfields > SCN_MAX_FIELDS)
        return scn_fail(c, node, "%s has %d keys (expected at most %d: raise SCN_MAX_FIELDS)",
                        m->what, m->nfields, SCN_MAX_FIELDS);
    int rc = collect(c, m, node, vals);
    for (int i = 0; rc == 0 && i < m->nfields; i++) {
        const struct scn_field *f = &m->fields[i];
        if (vals[i])
            rc = scn_parse_field(c, f, vals[i], obj);
        else if (f->absent)
            rc = f->absent(c, f, node, obj);
    }
    return rc;
}

/* ---- the top level -------------------------------------------------------- */

static int parse_scn_name(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    struct scenario *s = obj;
    const char *v;
    int rc = scn_scalar(c, node, f->name, "a name of letters, digits, _ . or -", &v);
    return rc ? rc : scn_copy_name(c, node, "name", v, s->name, sizeof(s->name));
}

/* No `name:`: the file's base name without .yaml/.yml. Characters a name
 * may not hold become '_' (the name becomes a results directory). */
static int default_scn_name(struct scn_ctx *c, const struct scn_field *f, int map, void *obj)
{
    (void)f;
    struct scenario *s = obj;
    const char *base = strrchr(c->file, '/');
    base = base ? base + 1 : c->file;
    size_t len = strlen(base);
    for (const char *ext = ".yaml"; ext; ext = strcmp(ext, ".yaml") == 0 ? ".yml" : NULL)
        if (len > strlen(ext) && strcmp(base + len - strlen(ext), ext) == 0) {
            len -= strlen(ext);
            break;
        }
    if (len >= sizeof(s->name))
        return scn_fail(c, map, "file name \"%s\" is too long to name the scenario "
                        "(expected a name: key of at most %zu characters)",
                        SCN_ECHO(base), sizeof(s->name) - 1);
    for (size_t i = 0; i < len; i++)
        s->name[i] = strchr("_.-", base[i]) || (base[i] >= '0' && base[i] <= '9') ||
                     ((base[i] | 32) >= 'a' && (base[i] | 32) <= 'z') ? base[i] : '_';
    s->name[len] = 0;
    /* "..yaml" would name the results directory "." */
    if (!len || strcmp(s->name, ".") == 0 || strcmp(s->name, "..") == 0)
        snprintf(s->name, sizeof(s->name), "scenario");
    return 0;
}

static int default_pcpus(struct scn_ctx *c, const struct scn_field *f, int map, void *obj)
{
    (void)c, (void)f, (void)map;
    struct scenario *s = obj;
    s->pcpus = 1;
    if (strcmp(s->engine, "real") == 0) {
        /* The real engine pins one thread per host CPU; beyond FV_MAX_PCPUS
         * the default simply uses the first FV_MAX_PCPUS of them. */
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        s->pcpus = n < 1 ? 1 : n > FV_MAX_PCPUS ? FV_MAX_PCPUS : (int)n;
    }
    return 0;
}

static int parse_starvation(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    static const struct scn_field fields[] = {
        { .name = "threshold", .type = SCN_T_NS, SCN_FLD(struct scenario, starvation_threshold),
          .min = 1, .max = INT64_MAX },
    };
    static const struct scn_mapping m = {
        "starvation", "starvation: { threshold: DURATION }", fields, 1, NULL,
    };
    return scn_parse_mapping(c, &m, node, obj);
}

static const char *const engines[] = { "sim", "real", NULL };
static const char *const modes[] = { "density", "performance", NULL };

static const struct scn_field top_fields[] = {
    { .name = "name", .type = SCN_T_CUSTOM, .parse = parse_scn_name, .absent = default_scn_name },
    { .name = "engine", .type = SCN_T_WORD, SCN_FLD(struct scenario, engine), .choices = engines },
    { .name = "duration", .type = SCN_T_NS, SCN_FLD(struct scenario, duration), .min = 1,
      .max = INT64_MAX, .absent = scn_missing, .hint = "duration: with a time such as 10s" },
    { .name = "seed", .type = SCN_T_U64, SCN_FLD(struct scenario, seed) },
    { .name = "mode", .type = SCN_T_WORD, SCN_FLD(struct scenario, mode), .choices = modes },
    { .name = "pcpus", .type = SCN_T_INT, SCN_FLD(struct scenario, pcpus), .min = 1,
      .max = FV_MAX_PCPUS, .absent = default_pcpus },
    /* Every sample writes a timeline row per domain: 1ns wrote 25 MB/s of
     * virtual time until the disk filled. */
    { .name = "sample", .type = SCN_T_NS, SCN_FLD(struct scenario, sample), .min = FV_MS(1),
      .max = INT64_MAX, .why = "every sample writes a timeline row per domain" },
    { .name = "starvation", .type = SCN_T_CUSTOM, .parse = parse_starvation },
    { .name = "sched", .type = SCN_T_CUSTOM, .parse = scn_parse_sched },
    /* Before domains: blkback.backend is every vbd's default backend. */
    { .name = "blkback", .type = SCN_T_CUSTOM, .parse = scn_parse_blkback,
      .absent = scn_default_blkback },
    { .name = "domains", .type = SCN_T_CUSTOM, .parse = scn_parse_domains,
      .absent = scn_domains_absent, .hint = "domains: with a list of domains, each - name: NAME" },
    /* Read once the domains and their vifs are known (scn_net_finish). */
    { .name = "netback", .type = SCN_T_CUSTOM, .parse = scn_note_netback },
    { .name = "dom0", .type = SCN_T_CUSTOM, .parse = scn_note_dom0 },
    { .name = "monitor", .type = SCN_T_CUSTOM, .parse = scn_parse_monitor },
};

static const struct scn_mapping top = {
    "", "key: value lines such as duration: 10s", top_fields,
    sizeof(top_fields) / sizeof(top_fields[0]), NULL,
};

static void defaults(struct scenario *s)
{
    snprintf(s->engine, sizeof(s->engine), "sim");
    snprintf(s->mode, sizeof(s->mode), "density");
    s->seed = 1;
    s->pcpus = 1;
    s->sample = FV_MS(100);
    s->starvation_threshold = FV_MS(100);
    s->policy = sched_find("credit");
    if (s->policy)
        sched_global_defaults(s->policy, &s->gp);
    s->chargeback = s->policy && s->policy->chargeback;
}

/* ---- the document --------------------------------------------------------- */

/* libyaml reports reader errors (bad UTF-8) by byte offset only. */
static void offset_to_mark(const char *text, size_t off, yaml_mark_t *m)
{
    m->line = m->column = 0;
    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n')
            m->line++, m->column = 0;
        else if (((unsigned char)text[i] & 0xc0) != 0x80)
            m->column++;
    }
}

static int syntax_error(struct scn_ctx *c, yaml_parser_t *p, const char *text)
{
    if (p->error == YAML_MEMORY_ERROR)
        return scn_oom(c);
    yaml_mark_t m = p->problem ? p->problem_mark : p->context_mark;
    if (p->error == YAML_READER_ERROR)
        offset_to_mark(text, p->problem_offset, &m);
    snprintf(c->err, c->errlen, "%s:%zu:%zu: YAML syntax error: %s%s%s (expected valid YAML)",
             c->file, m.line + 1, m.column + 1, p->problem ? p->problem : "unknown problem",
             p->context ? " " : "", p->context ? p->context : "");
    return -EINVAL;
}

/* Load the one document of text into c->doc (initialised even on error). */
static int load_doc(struct scn_ctx *c, const char *text)
{
    size_t len = strnlen(text, (size_t)SCN_MAX_FILE_SIZE + 1);
    int rc = scn_check_text(c, text, len);
    if (rc)
        return rc;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return scn_oom(c);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &c->doc)) {
        memset(&c->doc, 0, sizeof(c->doc));
        rc = syntax_error(c, &p, text);
    } else if (yaml_document_get_root_node(&c->doc)) {
        yaml_document_t next;
        if (!yaml_parser_load(&p, &next)) {
            rc = syntax_error(c, &p, text);
        } else {
            if (yaml_document_get_root_node(&next)) {
                snprintf(c->err, c->errlen, "%s:%zu:%zu: a second YAML document "
                         "(expected one document per scenario file)", c->file,
                         next.start_mark.line + 1, next.start_mark.column + 1);
                rc = -EINVAL;
            }
            yaml_document_delete(&next);
        }
    }
    yaml_parser_delete(&p);
    return rc;
}

static int check_lengths(struct scn_ctx *c, const char *file, struct scenario *s)
{
    if (strlen(file) >= sizeof(s->file)) {
        snprintf(c->err, c->errlen, "%s: path is too long (expected at most %zu characters)",
                 SCN_ECHO(file), sizeof(s->file) - 1);
        return -EINVAL;
    }
    snprintf(s->file, sizeof(s->file), "%s", file);
    return 0;
}

static int build(struct scn_ctx *c)
{
    c->root = yaml_document_get_root_node(&c->doc) ? 1 : 0;
    if (!c->root) {
        snprintf(c->err, c->errlen, "%s:1:1: the scenario is empty "
                 "(expected a mapping with at least duration and domains)", c->file);
        return -EINVAL;
    }
    defaults(c->s);
    if (!c->s->policy)
        return scn_fail(c, 0, "policy credit is not built in (expected the default policy)");
    int rc = scn_parse_mapping(c, &top, c->root, c->s);
    if (rc == 0)
        rc = scn_net_finish(c);
    if (rc == 0)
        rc = scn_parse_windows(c);
    if (rc == 0)
        rc = scn_check_policy(c);
    if (rc == 0)
        rc = scn_check_resolved(c);
    return rc;
}

static int load_string(const char *file, const char *text, const char *const *sets, int nsets,
                       bool host, struct scenario *out, char *err, size_t errlen);
static int load_file(const char *path, const char *const *sets, int nsets, bool host,
                     struct scenario *out, char *err, size_t errlen);

int scenario_load_string(const char *file, const char *text, const char *const *sets,
                         int nsets, struct scenario *out, char *err, size_t errlen)
{
    return load_string(file, text, sets, nsets, false, out, err, errlen);
}

static int load_string(const char *file, const char *text, const char *const *sets, int nsets,
                       bool host, struct scenario *out, char *err, size_t errlen)
{
    struct scn_ctx c = { .file = file, .err = err, .errlen = errlen, .s = out, .host = host };
    memset(out, 0, sizeof(*out));
    if (errlen)
        err[0] = 0;
    int rc = check_lengths(&c, file, out);
    if (rc == 0)
        rc = load_doc(&c, text);
    if (rc == 0)
        rc = scn_apply_sets(&c, sets, nsets);
    if (rc == 0)
        rc = scn_check_doc(&c);
    if (rc == 0)
        rc = build(&c);
    if (c.doc.nodes.start)
        yaml_document_delete(&c.doc);
    for (int i = 0; i < c.nspans; i++)
        free((void *)c.spans[i].text);
    free(c.spans);
    free(c.src);
    free(c.src_of);
    if (rc)
        scenario_free(out);
    return rc;
}

/* Read at most SCN_MAX_FILE_SIZE + 1 bytes: one more than allowed shows the
 * file is too large without reading the rest (/dev/zero never ends). A NUL
 * byte is left for the caller to place. Returns the text (NUL-terminated,
 * *len bytes before the terminator) or NULL with *errnum. */
static char *read_all(const char *path, size_t *len, int *errnum)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return *errnum = errno, NULL;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return *errnum = EISDIR, NULL;
    }
    const size_t limit = (size_t)SCN_MAX_FILE_SIZE + 1;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    errno = 0;
    while (buf && n < limit) {
        if (n == cap) {
            cap = 2 * cap < limit ? 2 * cap : limit;
            char *nb = realloc(buf, cap + 1);
            if (!nb)
                free(buf);
            buf = nb;
            if (!buf)
                break;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    *errnum = !buf ? ENOMEM : ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (*errnum) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

int scenario_load(const char *path, const char *const *sets, int nsets,
                  struct scenario *out, char *err, size_t errlen)
{
    return load_file(path, sets, nsets, false, out, err, errlen);
}

int scenario_load_host(const char *path, const char *text, const char *const *sets, int nsets,
                       struct scenario *out, char *err, size_t errlen)
{
    return path ? load_file(path, sets, nsets, true, out, err, errlen)
                : load_string("host", text, sets, nsets, true, out, err, errlen);
}

int scenario_load_host_string(const char *file, const char *text, struct scenario *out,
                              char *err, size_t errlen)
{
    return load_string(file, text, NULL, 0, true, out, err, errlen);
}

static int load_file(const char *path, const char *const *sets, int nsets, bool host,
                     struct scenario *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    struct scn_ctx c = { .file = path, .err = err, .errlen = errlen, .s = out };
    int errnum = 0;
    size_t len = 0;
    char *text = NULL;
    int rc = check_lengths(&c, path, out);
    if (rc == 0 && !(text = read_all(path, &len, &errnum))) {
        if (errnum == EISDIR)
            snprintf(err, errlen, "%s: is a directory (expected a YAML scenario file)", path);
        else
            snprintf(err, errlen, "%s: cannot read: %s (expected a readable YAML scenario file)",
                     path, strerror(errnum));
        rc = -EINVAL;
    }
    const char *nul = rc == 0 ? memchr(text, 0, len) : NULL;
    if (rc == 0 && len > SCN_MAX_FILE_SIZE) {
        rc = scn_check_text(&c, text, len);
    } else if (nul) {
        yaml_mark_t m;
        offset_to_mark(text, (size_t)(nul - text), &m);
        snprintf(err, errlen, "%s:%zu:%zu: the file contains a NUL byte (expected a text file)",
                 path, m.line + 1, m.column + 1);
        rc = -EINVAL;
    }
    if (rc == 0)
        rc = load_string(path, text, sets, nsets, host, out, err, errlen);
    free(text);
    if (rc)
        memset(out, 0, sizeof(*out));
    return rc;
}

void scenario_free(struct scenario *s)
{
    for (int i = 0; s->domains && i < s->nr_domains; i++) {
        free(s->domains[i].vifs);
        free(s->domains[i].vbds);
    }
    free(s->domains);
    memset(s, 0, sizeof(*s));
}
