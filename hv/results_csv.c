/* results_csv.c — reading a run's CSV files back (timeline.csv,
 * wakeup-latency.csv, app-latency.csv, blk-latency.csv) for the graphs:
 * per-domain values in a table with a name index, ranked. Public through
 * results.h so that fuzz/ can feed it arbitrary bytes; the helpers plot.c
 * and plot_io.c share are in results_priv.h. A run with tens of thousands
 * of domains reads in linear time.
 */
#include "results.h"
#include "results_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- reading the CSV files ---------------------------------------------------- */

/* The name index: open addressing with linear probing over indices into
 * ds->v (slot = index + 1, 0 = empty), at most half full, FNV-1a hash.
 * Indices rather than pointers, so growing ds->v never invalidates it.
 * Not glibc's hsearch_r: its hash keeps only about the first 8 characters
 * of a key (4 bits per character shifted through 32 bits), so replica names
 * such as domain-000000 .. domain-049999 all collide and a lookup is
 * linear again (measured: 86 s for 50,000 such names, against 0.02 s for
 * short distinct ones); its table cannot grow either. Not uthash: it links
 * the elements by pointer, which ds->v's realloc and qsort would break. */
uint32_t results_name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int index_build(struct results_doms *ds, int nslot)
{
    int *slot = calloc((size_t)nslot, sizeof(*slot));
    if (!slot)
        return -ENOMEM;
    for (int i = 0; i < ds->n; i++) {
        uint32_t h = results_name_hash(ds->v[i].name) & (uint32_t)(nslot - 1);
        while (slot[h])
            h = (h + 1) & (uint32_t)(nslot - 1);
        slot[h] = i + 1;
    }
    free(ds->slot);
    ds->slot = slot;
    ds->nslot = nslot;
    return 0;
}

/* The domain named `name` (already cut to SCN_NAME_MAX - 1), added if new;
 * NULL when out of memory. */
struct results_dom *results_doms_get(struct results_doms *ds, const char *name)
{
    if (!ds->slot || 2 * (ds->n + 1) > ds->nslot) {
        int nslot = ds->nslot ? ds->nslot : 128;
        while (2 * (ds->n + 1) > nslot) {
            if (nslot > INT_MAX / 2)
                return NULL;
            nslot *= 2;
        }
        if (index_build(ds, nslot) < 0)
            return NULL;
    }
    uint32_t mask = (uint32_t)(ds->nslot - 1), h = results_name_hash(name) & mask;
    for (; ds->slot[h]; h = (h + 1) & mask) {
        struct results_dom *d = &ds->v[ds->slot[h] - 1];
        if (strcmp(d->name, name) == 0)
            return d;
    }
    if (ds->n == ds->cap) {
        if (ds->cap > INT_MAX / 2)
            return NULL;
        int cap = ds->cap ? ds->cap * 2 : 64;
        struct results_dom *v = realloc(ds->v, (size_t)cap * sizeof(*v));
        if (!v)
            return NULL;
        ds->v = v;
        ds->cap = cap;
    }
    struct results_dom *d = &ds->v[ds->n];
    memcpy(d->name, name, strlen(name) + 1);
    d->key = 0;
    d->order = ds->n;
    ds->slot[h] = ++ds->n;
    return d;
}

const struct results_dom *results_doms_find(const struct results_doms *ds, const char *name)
{
    if (!ds->slot) {                    /* ranked (or empty): no index */
        for (int i = 0; i < ds->n; i++)
            if (strcmp(ds->v[i].name, name) == 0)
                return &ds->v[i];
        return NULL;
    }
    uint32_t mask = (uint32_t)(ds->nslot - 1), h = results_name_hash(name) & mask;
    for (; ds->slot[h]; h = (h + 1) & mask)
        if (strcmp(ds->v[ds->slot[h] - 1].name, name) == 0)
            return &ds->v[ds->slot[h] - 1];
    return NULL;
}

void results_doms_free(struct results_doms *ds)
{
    free(ds->v);
    free(ds->slot);
    memset(ds, 0, sizeof(*ds));
}

/* Split a CSV line (no quoting: see results.c) into at most max fields. */
int results_split_csv(char *line, char **f, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    while (n < max) {
        f[n++] = line;
        char *c = strchr(line, ',');
        if (!c)
            break;
        *c = '\0';
        line = c + 1;
    }
    return n;
}

int results_read_domains(FILE *f, int name_col, int val_col, bool use_max,
                         struct results_doms *ds)
{
    if (name_col < 0 || name_col >= RESULTS_CSV_MAX_COLS || val_col < 0
        || val_col >= RESULTS_CSV_MAX_COLS)
        return -EINVAL;
    char *line = NULL, *fld[RESULTS_CSV_MAX_COLS], name[SCN_NAME_MAX];
    size_t cap = 0;
    int err = 0;
    int need = (name_col > val_col ? name_col : val_col) + 1;
    errno = 0;
    for (long ln = 0; getline(&line, &cap, f) > 0; ln++) {
        if (ln == 0 || results_split_csv(line, fld, RESULTS_CSV_MAX_COLS) < need)
            continue;               /* the header, or a short (torn) line */
        snprintf(name, sizeof(name), "%s", fld[name_col]);
        struct results_dom *d = results_doms_get(ds, name);
        if (!d) {
            err = -ENOMEM;
            break;
        }
        double v = strtod(fld[val_col], NULL);
        d->key = use_max ? (v > d->key ? v : d->key) : d->key + v;
    }
    if (!err && ferror(f))
        err = errno == ENOMEM ? -ENOMEM : -EIO;
    free(line);
    return err;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double results_median(double *v, int n)
{
    if (n <= 0)
        return NAN;
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int results_key_cmp(double xkey, int xorder, double ykey, int yorder)
{
    bool xn = isnan(xkey), yn = isnan(ykey);
    if (xn != yn)
        return xn ? 1 : -1;
    if (!xn && xkey != ykey)
        return xkey < ykey ? 1 : -1;
    return (xorder > yorder) - (xorder < yorder);
}

/* A "nan" in the file ranks after every number. */
static int by_key_desc(const void *a, const void *b)
{
    const struct results_dom *x = a, *y = b;
    return results_key_cmp(x->key, x->order, y->key, y->order);
}

void results_rank_domains(struct results_doms *ds)
{
    if (ds->n > 1)
        qsort(ds->v, (size_t)ds->n, sizeof(ds->v[0]), by_key_desc);
    /* The index holds positions: rebuilt on the next lookup. */
    free(ds->slot);
    ds->slot = NULL;
    ds->nslot = 0;
}
