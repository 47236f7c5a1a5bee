/* compare_load.c — reading a run's summary.json for `fairvisor compare`
 * (cmp_load_run, compare_priv.h).
 *
 * Only summary.json is read: it is the interface of a results directory
 * (field names are added, never renamed), so a run of any age compares.
 * Every field but `domains` and each domain's `name` is optional (a figure
 * that is absent prints "-"), but a field that is there with the wrong type
 * is an error naming the file and the field: a hand-edited or truncated
 * file must not compare as zeros.
 *
 * jansson's own message (with line and column) says what is wrong with a
 * file that is not JSON.
 */
#include "compare_priv.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where a field is being read, for the messages. */
struct ld {
    const char *file;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int bad(struct ld *l, const char *fmt, ...)
{
    int n = snprintf(l->err, l->errlen, "%s: ", l->file);
    if (n >= 0 && (size_t)n < l->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(l->err + n, l->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* obj.key: absent (or null) gives def; present with another type, an error. */
static int get_num(struct ld *l, json_t *obj, const char *where, const char *key, double def,
                   double *out)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    *out = def;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return bad(l, "%s%s: expected a number", where, key);
    *out = json_number_value(v);
    return 0;
}

static int get_str(struct ld *l, json_t *obj, const char *where, const char *key, const char *def,
                   const char **out)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    *out = def;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return bad(l, "%s%s: expected a string", where, key);
    *out = json_string_value(v);
    return 0;
}

static int get_obj(struct ld *l, json_t *obj, const char *where, const char *key, json_t **out)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return bad(l, "%s%s: expected an object", where, key);
    *out = v;
    return 0;
}

/* obj.key.p99 (NaN if absent), and whether .max says it has samples. */
static int get_p99(struct ld *l, json_t *obj, const char *where, const char *key, double *p99,
                   bool *sampled)
{
    json_t *pct;
    double max;
    char w[96];
    snprintf(w, sizeof(w), "%s%s.", where, key);
    int err = get_obj(l, obj, where, key, &pct);
    if (!err)
        err = get_num(l, pct, w, "p99", NAN, p99);
    if (!err)
        err = get_num(l, pct, w, "max", NAN, &max);
    *sampled = !isnan(*p99) && max > 0;
    return err;
}

/* A domain's network and disk figures. */
static int load_io(struct ld *l, json_t *jd, const char *where, struct cmp_dom *d)
{
    json_t *net, *blk;
    double reads, writes;
    char w[80];
    bool net_sampled, blk_sampled;
    int err = get_obj(l, jd, where, "net", &net);
    if (!err)
        err = get_obj(l, jd, where, "blk", &blk);
    if (err)
        return err;
    snprintf(w, sizeof(w), "%snet.", where);
    if ((err = get_num(l, net, w, "tx_pkts", 0, &d->net_tx_pkts))
        || (err = get_num(l, net, w, "rx_pkts", 0, &d->net_rx_pkts))
        || (err = get_p99(l, net, w, "latency_ns", &d->p99_ns[CMP_LAT_NET], &net_sampled)))
        return err;
    snprintf(w, sizeof(w), "%sblk.", where);
    if ((err = get_num(l, blk, w, "reads", 0, &reads))
        || (err = get_num(l, blk, w, "writes", 0, &writes))
        || (err = get_p99(l, blk, w, "latency_ns", &d->p99_ns[CMP_LAT_BLK], &blk_sampled)))
        return err;
    d->net_traffic = d->net_tx_pkts > 0 || d->net_rx_pkts > 0;
    d->blk_traffic = reads + writes > 0;
    d->blk_ios = reads + writes;
    /* A round trip only where the workload sampled one (the echo client,
     * not the server or a flood); a disk latency wherever there were
     * requests (blkback times every one). */
    if (!net_sampled)
        d->p99_ns[CMP_LAT_NET] = NAN;
    if (!d->blk_traffic)
        d->p99_ns[CMP_LAT_BLK] = NAN;
    return 0;
}

static int load_dom(struct ld *l, json_t *jd, int i, struct cmp_dom *d)
{
    char where[48];
    bool sampled, wait_sampled;
    snprintf(where, sizeof(where), "domains[%d].", i);
    if (!json_is_object(jd))
        return bad(l, "domains[%d]: expected an object", i);
    int err = get_str(l, jd, where, "name", NULL, &d->name);
    if (!err && !d->name)
        return bad(l, "domains[%d].name: missing", i);
    if (err || (err = get_str(l, jd, where, "group", d->name, &d->group))
        || (err = get_num(l, jd, where, "cpu_share", NAN, &d->cpu_share))
        || (err = get_num(l, jd, where, "entitled_share", NAN, &d->entitled_share))
        || (err = get_num(l, jd, where, "work_units", NAN, &d->work_units))
        || (err = get_num(l, jd, where, "starvation_events", NAN, &d->starvation_events))
        || (err = get_p99(l, jd, where, "wakeup_latency_ns", &d->p99_ns[CMP_LAT_WAKEUP], &sampled))
        || (err = get_p99(l, jd, where, "wait_ns", &d->p99_ns[CMP_LAT_WAIT], &wait_sampled)))
        return err;
    if (!sampled)
        d->p99_ns[CMP_LAT_WAKEUP] = NAN;
    if (!d->group[0])
        d->group = d->name;
    return load_io(l, jd, where, d);
}

static int load_top(struct ld *l, struct cmp_run *r)
{
    json_t *j = r->root, *fair, *jc = json_object_get(j, "complete");
    int err;
    if ((err = get_str(l, j, "", "scenario", "?", &r->scenario))
        || (err = get_str(l, j, "", "policy", "?", &r->policy))
        || (err = get_str(l, j, "", "engine", "?", &r->engine))
        || (err = get_str(l, j, "", "mode", "density", &r->mode))
        || (err = get_num(l, j, "", "duration_ns", NAN, &r->duration_ns))
        || (err = get_obj(l, j, "", "fairness", &fair))
        || (err = get_num(l, fair, "fairness.", "jain", NAN, &r->jain))
        || (err = get_num(l, fair, "fairness.", "min_normalized_share", NAN, &r->min_norm)))
        return err;
    if (jc && !json_is_boolean(jc))
        return bad(l, "complete: expected true or false");
    r->complete = jc ? json_is_true(jc) : -1;
    return 0;
}

int cmp_load_run(const char *dir, struct cmp_run *r, char *err, size_t errlen)
{
    char file[PATH_MAX];
    struct stat st;
    struct ld l = { .file = file, .err = err, .errlen = errlen };
    r->dir = dir;
    if (stat(dir, &st) != 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -ENOENT;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a directory (expected a results directory)", dir);
        return -ENOTDIR;
    }
    if (snprintf(file, sizeof(file), "%s/summary.json", dir) >= (int)sizeof(file)) {
        snprintf(err, errlen, "%s: %s", dir, strerror(ENAMETOOLONG));
        return -ENAMETOOLONG;
    }
    if (access(file, R_OK) != 0) {
        snprintf(err, errlen, "%s: cannot read it: %s (is %s a results directory?)", file,
                 strerror(errno), dir);
        return -ENOENT;
    }
    json_error_t je;
    r->root = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
    if (!r->root) {
        snprintf(err, errlen, "%s:%d:%d: not valid JSON: %s", file, je.line, je.column, je.text);
        return -EINVAL;
    }
    if (!json_is_object(r->root))
        return bad(&l, "expected a JSON object at the top level");
    int e = load_top(&l, r);
    if (e)
        return e;
    json_t *doms = json_object_get(r->root, "domains");
    if (!json_is_array(doms))
        return bad(&l, "domains: %s", doms ? "expected a list" : "missing");
    r->ndoms = (int)json_array_size(doms);
    r->doms = calloc((size_t)r->ndoms + 1, sizeof(*r->doms));
    if (!r->doms)
        return bad(&l, "%s", strerror(ENOMEM));
    for (int i = 0; i < r->ndoms; i++)
        if ((e = load_dom(&l, json_array_get(doms, (size_t)i), i, &r->doms[i])))
            return e;
    return 0;
}

