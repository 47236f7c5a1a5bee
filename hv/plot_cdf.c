/* plot_cdf.c — the latency CDF graphs (wakeup-latency-cdf, net-rtt-cdf,
 * blk-latency-cdf) from a latency file (domain,latency_ns,cdf: one point
 * per histogram bucket and domain); see plot_priv.h.
 *
 * A group's CDF is the median curve: at each latency, the median of its
 * members' CDFs there (each a step function of its points), with the p5
 * and p95 of them as the band. It is not the CDF of the pooled samples:
 * the file has no sample counts, and the median curve shows a typical
 * replica where pooling would let the busiest ones dominate.
 *
 * The data written (plots/NAME.csv) has a column per domain (3 per group)
 * over the latencies where any drawn curve steps, each twice (the values
 * just before it, then at it), so that gnuplot draws the steps, and the
 * bands between two steps, with plain lines.
 */
#include "plot_priv.h"
#include "results_priv.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cdf_pt {
    double x, f;
    int dom, seq;
};

struct cdf_data {
    struct results_doms doms;   /* first seen order; key: the largest latency */
    struct cdf_pt *pt;
    int n, cap;
};

static int add_point(struct cdf_data *cd, char **fld)
{
    char name[SCN_NAME_MAX];
    double x = strtod(fld[1], NULL), f = strtod(fld[2], NULL);
    if (!isfinite(x))
        return 0;               /* an edited file's nan or inf: no place on the axis */
    snprintf(name, sizeof(name), "%s", fld[0]);
    struct results_dom *d = results_doms_get(&cd->doms, name);
    if (!d)
        return -ENOMEM;
    if (cd->n == cd->cap) {
        if (cd->cap > INT_MAX / 2)
            return -ENOMEM;
        int cap = cd->cap ? 2 * cd->cap : 256;
        struct cdf_pt *p = realloc(cd->pt, (size_t)cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        cd->pt = p;
        cd->cap = cap;
    }
    if (x > d->key)
        d->key = x;
    cd->pt[cd->n] = (struct cdf_pt){ x, f, (int)(d - cd->doms.v), cd->n };
    cd->n++;
    return 0;
}

static int read_points(FILE *f, struct cdf_data *cd)
{
    char *line = NULL, *fld[RESULTS_CSV_MAX_COLS];
    size_t cap = 0;
    int err = 0;
    for (long ln = 0; !err && getline(&line, &cap, f) > 0; ln++)
        if (ln > 0 && results_split_csv(line, fld, RESULTS_CSV_MAX_COLS) >= 3)
            err = add_point(cd, fld);
    if (!err && ferror(f))
        err = -EIO;
    free(line);
    return err;
}

static int by_dom_x(const void *a, const void *b)
{
    const struct cdf_pt *p = a, *q = b;
    if (p->dom != q->dom)
        return p->dom < q->dom ? -1 : 1;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    return (p->seq > q->seq) - (p->seq < q->seq);
}

static int cmp_x(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Per drawn series, its members (domains) in mem[start[s] .. start[s + 1]). */
struct cdf_eval {
    int *start, *mem;
    int *cur, *end;             /* per domain: its next point, and past its last */
    double *fv;                 /* per domain: its CDF at the current latency */
    double *scratch;
    double *prev;               /* per series: median, p5, p95 before the latency */
};

/* One row; false if it holds no number. */
static bool row(FILE *out, double x, const struct plot_sel *sel, const double *q)
{
    bool finite = false;
    fprintf(out, "%.15g", x);
    for (int s = 0; s < sel->n; s++)
        for (int k = 0; k < (sel->s[s].members > 1 ? 3 : 1); k++) {
            /* An edited file's nan or inf: gnuplot's missing value, as
             * the timeline graphs write it. */
            if (isfinite(q[3 * s + k]))
                fprintf(out, ",%.6f", q[3 * s + k]);
            else
                fputs(",NaN", out);
            finite |= isfinite(q[3 * s + k]);
        }
    fputc('\n', out);
    return finite && isfinite(x);
}

/* The rows, at each latency in xs[0..nx). */
static bool write_rows(FILE *out, const struct cdf_data *cd, const struct plot_sel *sel,
                       struct cdf_eval *ev, const double *xs, int nx)
{
    bool finite = false;
    for (int i = 0; i < nx; i++) {
        finite |= row(out, xs[i], sel, ev->prev);
        for (int s = 0; s < sel->n; s++) {
            int k = 0;
            for (int m = ev->start[s]; m < ev->start[s + 1]; m++) {
                int d = ev->mem[m];
                while (ev->cur[d] < ev->end[d] && cd->pt[ev->cur[d]].x <= xs[i])
                    ev->fv[d] = cd->pt[ev->cur[d]++].f;
                ev->scratch[k++] = ev->fv[d];
            }
            if (k > 1)
                plot_stats(ev->scratch, k, &ev->prev[3 * s]);
            else
                ev->prev[3 * s] = ev->prev[3 * s + 1] = ev->prev[3 * s + 2] = ev->scratch[0];
        }
        finite |= row(out, xs[i], sel, ev->prev);
    }
    return finite;
}

static void eval_free(struct cdf_eval *ev)
{
    free(ev->start);
    free(ev->mem);
    free(ev->cur);
    free(ev->end);
    free(ev->fv);
    free(ev->scratch);
    free(ev->prev);
}

/* Where the curves step: every latency a drawn domain has a point at,
 * unless there are more than CDF_MAX_X of them (each domain's last point
 * is its exact maximum, so 2,000 domains have about 2,000): then
 * CDF_MAX_X latencies spaced evenly on the log axis from the smallest to
 * the largest (and 0 if there), finer than the graph can show. The file
 * and the work per curve stay bounded. xs[0..nx) is sorted, without
 * duplicates, and has room for CDF_MAX_X + 1; returns the new count. */
#define CDF_MAX_X 1000
static int regrid(double *xs, int nx)
{
    if (nx <= CDF_MAX_X)
        return nx;
    int p = 0;
    while (p < nx && !(xs[p] > 0))
        p++;
    if (p >= nx - 1 || !(xs[nx - 1] > xs[p]))
        return CDF_MAX_X;           /* not latencies: the first ones only */
    double lo = xs[p], hi = xs[nx - 1];
    int k = p > 0;
    if (k)
        xs[0] = 0;
    for (int i = 0; i < CDF_MAX_X; i++)
        xs[k + i] = i == CDF_MAX_X - 1 ? hi : lo * pow(hi / lo, (double)i / (CDF_MAX_X - 1));
    return k + CDF_MAX_X;
}

/* The data file's text for the series sel of cd, into out; *finite: it
 * holds a point gnuplot can draw. */
static int cdf_text(FILE *out, const struct cdf_data *cd, const struct plot_sel *sel, int *cols,
                    bool *finite)
{
    int nd = cd->doms.n, ns = sel->n;
    struct cdf_eval ev = {
        .start = calloc((size_t)ns + 1, sizeof(int)), .mem = calloc((size_t)nd + 1, sizeof(int)),
        .cur = calloc((size_t)nd + 1, sizeof(int)), .end = calloc((size_t)nd + 1, sizeof(int)),
        .fv = calloc((size_t)nd + 1, sizeof(double)),
        .scratch = calloc((size_t)nd + 1, sizeof(double)),
        .prev = calloc(3 * (size_t)ns + 1, sizeof(double)),
    };
    double *xs = malloc(((size_t)cd->n + CDF_MAX_X + 2) * sizeof(*xs));
    int err = ev.start && ev.mem && ev.cur && ev.end && ev.fv && ev.scratch && ev.prev && xs
              ? 0 : -ENOMEM;
    for (int d = 0; !err && d < nd; d++)
        if (sel->of_dom[d] >= 0)
            ev.start[sel->of_dom[d] + 1]++;
    for (int s = 0; !err && s < ns; s++)
        ev.start[s + 1] += ev.start[s];
    int *fillp = err ? NULL : calloc((size_t)ns + 1, sizeof(int));
    if (!err && !fillp)
        err = -ENOMEM;
    for (int d = 0; !err && d < nd; d++)
        if (sel->of_dom[d] >= 0)
            ev.mem[ev.start[sel->of_dom[d]] + fillp[sel->of_dom[d]]++] = d;
    free(fillp);
    /* The points are sorted by domain: each domain's run, and the latencies. */
    int nx = 0;
    for (int i = 0; !err && i < cd->n; i++) {
        int d = cd->pt[i].dom;
        if (i == 0 || cd->pt[i - 1].dom != d)
            ev.cur[d] = i;
        ev.end[d] = i + 1;
        if (sel->of_dom[d] >= 0)
            xs[nx++] = cd->pt[i].x;
    }
    if (!err) {
        if (nx > 1)
            qsort(xs, (size_t)nx, sizeof(*xs), cmp_x);
        int k = 0;
        for (int i = 0; i < nx; i++)
            if (k == 0 || xs[i] != xs[k - 1])
                xs[k++] = xs[i];
        nx = regrid(xs, k);
        fputs("latency_ns", out);
        int col = 2;
        for (int s = 0; s < ns; s++) {
            const char *nm = sel->s[s].name;
            cols[s] = col;
            if (sel->s[s].members > 1)
                fprintf(out, ",%s.cdf.median,%s.cdf.p5,%s.cdf.p95", nm, nm, nm);
            else
                fprintf(out, ",%s.cdf", nm);
            col += sel->s[s].members > 1 ? 3 : 1;
        }
        fputc('\n', out);
        *finite = write_rows(out, cd, sel, &ev, xs, nx);
    }
    free(xs);
    eval_free(&ev);
    return err;
}

/* The series of cd: its domains (in `only`, if given), by largest latency. */
static int cdf_select(struct cdf_data *cd, struct plot_groups *pg, const struct results_doms *only,
                      struct plot_sel *sel)
{
    int nd = cd->doms.n;
    const char **names = malloc(((size_t)nd + 1) * sizeof(*names));
    int *gid = malloc(((size_t)nd + 1) * sizeof(*gid));
    double *key = malloc(((size_t)nd + 1) * sizeof(*key));
    bool *member = malloc(((size_t)nd + 1) * sizeof(*member));
    int err = names && gid && key && member ? 0 : -ENOMEM;
    for (int d = 0; !err && d < nd; d++) {
        names[d] = cd->doms.v[d].name;
        key[d] = cd->doms.v[d].key;
        member[d] = !only || results_doms_find(only, names[d]);
        if ((gid[d] = plot_groups_of(pg, names[d])) < 0)
            err = gid[d];
    }
    if (!err)
        err = plot_select(names, gid, key, member, nd, pg, true, false, PLOT_MAX_DOMAINS, sel);
    free(names);
    free(gid);
    free(key);
    free(member);
    return err;
}

/* Write plots/NAME.csv and queue the graph. */
static int cdf_queue(struct graph *g, struct cdf_data *cd, const struct plot_sel *sel,
                     const char *title)
{
    char plots[PATH_MAX], file[64], data[PATH_MAX], full[1024];
    char *buf = NULL, *vars = NULL;
    size_t len = 0, vlen;
    int *cols = calloc((size_t)sel->n + 1, sizeof(*cols));
    FILE *out = open_memstream(&buf, &len);
    bool finite = false;
    int err = cols && out ? cdf_text(out, cd, sel, cols, &finite) : -ENOMEM;
    if (out && fclose(out) != 0 && !err)
        err = -ENOMEM;
    snprintf(file, sizeof(file), "%s.csv", g->name);
    if (!err && (snprintf(plots, sizeof(plots), "%s/plots", g->dir) >= (int)sizeof(plots)
                 || snprintf(data, sizeof(data), "%s/%s", plots, file) >= (int)sizeof(data)))
        err = -ENAMETOOLONG;
    if (!err)
        err = results_write_atomic(plots, file, buf, len);
    free(buf);
    if (err) {
        free(cols);
        char shown[80];
        snprintf(shown, sizeof(shown), "plots/%s", file);
        return plot_data_failed(g, file, shown, err);
    }
    plot_full_title(full, sizeof(full), title, sel, "highest max latency", " - no samples");
    FILE *m = open_memstream(&vars, &vlen);
    if (m)
        plot_series_vars(m, data, sel, cols, full, !finite);
    err = !m || fclose(m) != 0 ? -ENOMEM : plot_queue(g, vars);
    free(vars);
    free(cols);
    return err;
}

int plot_cdf(struct graph *g, struct plot_groups *pg, const char *csv,
             const struct results_doms *only, const char *title)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", g->dir, csv) >= (int)sizeof(path))
        return plot_data_failed(g, csv, csv, -ENAMETOOLONG);
    struct cdf_data cd = { 0 };
    struct plot_sel sel = { 0 };
    int err = 0;
    FILE *f = fopen(path, "re");
    if (f) {
        err = read_points(f, &cd);
        fclose(f);
    } else if (errno != ENOENT) {       /* none (interrupted run): an empty plot */
        err = -errno;
    }
    if (!err) {
        if (cd.n > 1)
            qsort(cd.pt, (size_t)cd.n, sizeof(*cd.pt), by_dom_x);
        err = cdf_select(&cd, pg, only, &sel);
    }
    if (err)
        plot_data_failed(g, path, csv, err);
    else
        err = cdf_queue(g, &cd, &sel, title);
    plot_sel_free(&sel);
    results_doms_free(&cd.doms);
    free(cd.pt);
    return err;
}
