/* plot_group.c — which group each domain is in, and the series a graph
 * draws (plot_priv.h).
 *
 * The replicas of a `count: N` entry are one group (summary.json's
 * per-domain `group`): a graph draws them as one series, the median and
 * the p5-p95 band over the group at each point, so that 2,000 replicas are
 * one legend entry and three data columns instead of 2,000 lines.
 */
#include "plot_priv.h"
#include "results_priv.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- groups ------------------------------------------------------------------ */

static int group_id(struct plot_groups *pg, const char *group)
{
    char name[SCN_NAME_MAX];
    snprintf(name, sizeof(name), "%s", group);
    struct results_dom *g = results_doms_get(&pg->grp, name);
    return g ? (int)(g - pg->grp.v) : -ENOMEM;
}

/* Domain `dom` (cut to SCN_NAME_MAX - 1), in group `group` if it is new;
 * its group id or -ENOMEM. */
static int add_dom(struct plot_groups *pg, const char *dom, const char *group)
{
    char name[SCN_NAME_MAX];
    snprintf(name, sizeof(name), "%s", dom);
    int before = pg->dom.n;
    struct results_dom *d = results_doms_get(&pg->dom, name);
    if (!d)
        return -ENOMEM;
    int i = (int)(d - pg->dom.v);
    if (pg->dom.n == before)
        return pg->gid[i];
    if (i >= pg->gcap) {
        int cap = pg->gcap ? 2 * pg->gcap : 64;
        int *gid = realloc(pg->gid, (size_t)cap * sizeof(*gid));
        if (!gid)
            return -ENOMEM;
        pg->gid = gid;
        pg->gcap = cap;
    }
    int g = group_id(pg, group && *group ? group : name);
    return g < 0 ? g : (pg->gid[i] = g);
}

int plot_groups_add(struct plot_groups *pg, const char *dom, const char *group)
{
    int g = add_dom(pg, dom, group);
    return g < 0 ? g : 0;
}

int plot_groups_of(struct plot_groups *pg, const char *dom)
{
    return add_dom(pg, dom, NULL);
}

/* The length of PREFIX when name is PREFIX-DIGITS (PREFIX not empty), else 0. */
static size_t replica_prefix(const char *name)
{
    size_t len = strlen(name), d = len;
    while (d > 0 && name[d - 1] >= '0' && name[d - 1] <= '9')
        d--;
    return d < len && d >= 2 && name[d - 1] == '-' ? d - 1 : 0;
}

int plot_groups_derive(struct plot_groups *pg, const char *const *names, int n)
{
    /* Count the names of each PREFIX-digits form first. */
    struct results_doms prefixes = { 0 };
    int err = 0;
    for (int i = 0; !err && i < n; i++) {
        size_t p = replica_prefix(names[i]);
        if (!p)
            continue;
        char pre[SCN_NAME_MAX];
        snprintf(pre, sizeof(pre), "%.*s", (int)p, names[i]);
        struct results_dom *d = results_doms_get(&prefixes, pre);
        if (!d)
            err = -ENOMEM;
        else
            d->key++;
    }
    for (int i = 0; !err && i < n; i++) {
        size_t p = replica_prefix(names[i]);
        char pre[SCN_NAME_MAX] = "";
        if (p) {
            snprintf(pre, sizeof(pre), "%.*s", (int)p, names[i]);
            struct results_dom *d = results_doms_get(&prefixes, pre);
            if (!d)
                err = -ENOMEM;
            else if (d->key < 2)
                pre[0] = '\0';
        }
        if (!err)
            err = plot_groups_add(pg, names[i], pre[0] ? pre : NULL);
    }
    results_doms_free(&prefixes);
    return err;
}

int plot_groups_from_summary(struct plot_groups *pg, json_t *summary)
{
    json_t *doms = json_object_get(summary, "domains");
    size_t n = json_array_size(doms);
    bool all = n > 0;
    for (size_t i = 0; all && i < n; i++) {
        json_t *d = json_array_get(doms, i);
        all = json_is_string(json_object_get(d, "name")) && json_is_string(json_object_get(d, "group"));
    }
    if (all) {
        for (size_t i = 0; i < n; i++) {
            json_t *d = json_array_get(doms, i);
            int err = plot_groups_add(pg, json_string_value(json_object_get(d, "name")),
                                      json_string_value(json_object_get(d, "group")));
            if (err)
                return err;
        }
        return 0;
    }
    const char **names = calloc(n ? n : 1, sizeof(*names));
    if (!names)
        return -ENOMEM;
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(doms, i), "name"));
        if (name)
            names[k++] = name;
    }
    int err = plot_groups_derive(pg, names, k);
    free(names);
    return err;
}

void plot_groups_free(struct plot_groups *pg)
{
    results_doms_free(&pg->dom);
    results_doms_free(&pg->grp);
    free(pg->gid);
    memset(pg, 0, sizeof(*pg));
}

/* ---- series ------------------------------------------------------------------ */

/* Largest key first, NaN last, ties in the order first seen. */
static int by_key_desc(const void *a, const void *b)
{
    const struct plot_series *x = a, *y = b;
    return results_key_cmp(x->key, x->order, y->key, y->order);
}

/* A series name for the data files, whose cells and rows are split at
 * commas and newlines: a name from an edited summary.json may hold them. */
static void series_name(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src);
    for (char *p = dst; *p; p++)
        if (*p == ',' || *p == '\n' || *p == '\r')
            *p = '_';
}

/* One series per group with a member, in the order first seen; of_dom
 * the series of each domain. Returns how many, or -ENOMEM. */
static int gather(const char *const *names, const int *gid, const double *key,
                  const bool *member, int ndom, int ngrp, bool key_max, struct plot_sel *out)
{
    int *first = malloc((size_t)(ngrp ? ngrp : 1) * sizeof(*first));
    if (!first)
        return -ENOMEM;
    for (int g = 0; g < ngrp; g++)
        first[g] = -1;
    int ns = 0;
    for (int i = 0; i < ndom; i++) {
        out->of_dom[i] = -1;
        if (member && !member[i])
            continue;
        int g = gid[i];
        struct plot_series *s;
        if (first[g] < 0) {
            first[g] = ns;
            s = &out->s[ns];
            *s = (struct plot_series){ .group = g, .dom = i, .key = key[i], .order = ns };
            series_name(s->name, sizeof(s->name), names[i]);
            ns++;
        } else {
            s = &out->s[first[g]];
            s->key = key_max ? (key[i] > s->key || isnan(s->key) ? key[i] : s->key)
                             : s->key + key[i];
        }
        s->members++;
        out->of_dom[i] = first[g];
    }
    free(first);
    return ns;
}

/* Make `name` (a series') unlike every name in `seen`, then add it: a
 * domain of an edited summary.json may be named as another group is, and
 * two series must not share a legend entry. NAME~2, NAME~3, ... 0 or
 * -ENOMEM. */
static int unique_name(struct results_doms *seen, char *name, size_t n)
{
    char base[SCN_NAME_MAX];
    snprintf(base, sizeof(base), "%s", name);
    for (int k = 2; results_doms_find(seen, name); k++) {
        char suffix[16];
        int sl = snprintf(suffix, sizeof(suffix), "~%d", k);
        snprintf(name, n, "%.*s%s", (int)(n - 1 - (size_t)sl), base, suffix);
    }
    return results_doms_get(seen, name) ? 0 : -ENOMEM;
}

/* Of the ns series gathered: groups named after their group, those
 * without a key dropped (need_key), the `max` with the largest keys kept,
 * of_dom pointed at their new places. 0 or -ENOMEM. */
static int cut(struct plot_sel *out, int ns, const struct plot_groups *pg, bool need_key, int max)
{
    int k = 0;
    struct results_doms seen = { 0 };
    int *remap = malloc((size_t)(ns ? ns : 1) * sizeof(*remap));
    int *pos = malloc((size_t)(ns ? ns : 1) * sizeof(*pos));
    if (!remap || !pos) {
        free(remap);
        free(pos);
        return -ENOMEM;
    }
    for (int i = 0; i < ns; i++) {
        struct plot_series *s = &out->s[i];
        remap[i] = -1;
        if (need_key && !(s->key > 0))
            continue;
        if (s->members > 1)
            series_name(s->name, sizeof(s->name), pg->grp.v[s->group].name);
        if (unique_name(&seen, s->name, sizeof(s->name)) < 0) {
            results_doms_free(&seen);
            free(remap);
            free(pos);
            return -ENOMEM;
        }
        s->order = k;
        remap[i] = k;
        out->s[k++] = *s;
    }
    out->total = k;
    if (k > max)
        qsort(out->s, (size_t)k, sizeof(*out->s), by_key_desc);
    out->n = k < max ? k : max;
    /* Where each kept series went (by `order`, its place before the sort). */
    for (int i = 0; i < k; i++)
        pos[out->s[i].order] = i < out->n ? i : -1;
    for (int i = 0; i < out->ndom; i++) {
        int s = out->of_dom[i];
        out->of_dom[i] = s < 0 || remap[s] < 0 ? -1 : pos[remap[s]];
    }
    for (int i = 0; i < k; i++)
        out->grouped |= out->s[i].members > 1;
    results_doms_free(&seen);
    free(pos);
    free(remap);
    return 0;
}

int plot_select(const char *const *names, const int *gid, const double *key, const bool *member,
                int ndom, const struct plot_groups *pg, bool key_max, bool need_key, int max,
                struct plot_sel *out)
{
    memset(out, 0, sizeof(*out));
    out->s = calloc((size_t)(ndom ? ndom : 1), sizeof(*out->s));
    out->of_dom = malloc((size_t)(ndom ? ndom : 1) * sizeof(*out->of_dom));
    out->ndom = ndom;
    int ns = out->s && out->of_dom
             ? gather(names, gid, key, member, ndom, pg->grp.n, key_max, out) : -ENOMEM;
    int err = ns < 0 ? ns : cut(out, ns, pg, need_key, max);
    if (err)
        plot_sel_free(out);
    return err;
}

void plot_sel_free(struct plot_sel *sel)
{
    free(sel->s);
    free(sel->of_dom);
    memset(sel, 0, sizeof(*sel));
}

/* ---- quantiles ------------------------------------------------------------------ */

/* a + f (b - a) for a <= b, 0 <= f < 1, kept within [a, b]: b - a
 * overflows for values of opposite signs near DBL_MAX (an edited file's
 * -1e308 and 1e308), and 0 * inf is NaN where the quantile is a itself. */
static double lerp(double a, double b, double f)
{
    if (f == 0 || a == b)
        return a;
    double d = b - a;
    double r = isfinite(d) ? a + f * d : (1 - f) * a + f * b;
    return r < a ? a : r > b ? b : r;
}

double plot_quantile(const double *v, int n, double p)
{
    if (n <= 0)
        return NAN;
    double h = (n - 1) * p;
    int lo = (int)floor(h);
    if (lo >= n - 1)
        return v[n - 1];
    return lerp(v[lo], v[lo + 1], h - lo);
}

/* v[k] becomes the k-th smallest of v[0..n), everything before it no
 * larger and everything after it no smaller (Hoare's selection: linear on
 * average, where sorting each sample's 2,000 values was most of the time
 * of a large run's graphs). */
static void select_kth(double *v, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                double t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

/* plot_quantile's value, on unsorted v (reordered). */
static double quantile_of(double *v, int n, double p)
{
    if (n <= 0)
        return NAN;
    double h = (n - 1) * p;
    int lo = (int)floor(h);
    if (lo >= n - 1) {
        select_kth(v, n, n - 1);
        return v[n - 1];
    }
    select_kth(v, n, lo);
    double next = v[lo + 1];
    for (int i = lo + 2; i < n; i++)
        if (v[i] < next)
            next = v[i];
    return lerp(v[lo], next, h - lo);
}

void plot_stats(double *v, int n, double out[3])
{
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i]))
            v[k++] = v[i];
    out[0] = quantile_of(v, k, 0.5);
    out[1] = quantile_of(v, k, 0.05);
    out[2] = quantile_of(v, k, 0.95);
}

/* ---- what gnuplot is told -------------------------------------------------------- */

void plot_full_title(char *buf, size_t n, const char *title, const struct plot_sel *sel,
                     const char *which, const char *none)
{
    if (sel->total > sel->n)
        snprintf(buf, n, "%s (the %d of %d %s with the %s)", title, sel->n, sel->total,
                 sel->grouped ? "groups and domains" : "domains", which);
    else
        snprintf(buf, n, "%s%s", title, sel->n ? "" : none);
}

/* A series name as one gnuplot word: names have no blanks or quotes, but
 * a hand-made file might, or have an empty name (a row ",,..."), which
 * would be no word at all and shift every later series' title. */
static void put_word(FILE *m, const char *name)
{
    if (!*name)
        fputc('_', m);
    for (const char *p = name; *p; p++)
        fputc(*p == ' ' || *p == '\t' || *p == '"' || *p == '\'' ? '_' : *p, m);
}

void plot_series_vars(FILE *m, const char *data, const struct plot_sel *sel, const int *cols,
                      const char *title, bool empty)
{
    plot_var(m, "data", data);
    fputs("domains='", m);
    for (int i = 0; i < sel->n; i++) {
        if (i)
            fputc(' ', m);
        put_word(m, sel->s[i].name);
    }
    fputs("'; counts='", m);
    for (int i = 0; i < sel->n; i++)
        fprintf(m, "%s%d", i ? " " : "", sel->s[i].members);
    fputs("'; cols='", m);
    for (int i = 0; i < sel->n; i++)
        fprintf(m, "%s%d", i ? " " : "", cols ? cols[i] : 2);
    fputs("'; ", m);
    plot_var(m, "title_txt", title);
    plot_var(m, "nodata", sel->n && !empty ? "0" : "1");
}
