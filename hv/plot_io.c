/* plot_io.c — the timeline graphs of a results directory: cpu-share always,
 * net-throughput and blk-iops when timeline.csv shows that kind of traffic
 * (a non-zero value in its net_* or blk_* columns; files from before a
 * kind's columns existed have rows too short to hold them, and draw none of
 * its graphs). See results_plot in results.h; plot_priv.h for the files.
 *
 * timeline.csv has a row per domain per sample, so it can be large (2,000
 * domains x 100 samples = 200,000 rows). It is read twice, whatever the
 * number of domains: once for each domain's ranking keys and which kinds
 * of traffic there were, which decides the series each graph draws
 * (plot_select); once to write each graph's data, a row per sample:
 * t_s, then per series its metrics (one column for a domain, median, p5
 * and p95 for a group, over the members' values at that sample). gnuplot
 * then reads a file of a few columns, not 2,000 domains' rows once per
 * line drawn.
 *
 * Rates need each row's interval, which starts at the previous distinct
 * t_s (every sample writes all domains at one t_s; the run starts at 0).
 */
#include "plot_priv.h"
#include "results_priv.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* timeline.csv's columns (results.c TIMELINE_HEADER). */
enum { TL_T, TL_DOM, TL_CPU_NS, TL_CPU_SHARE, TL_NET_TX_PKTS = 8, TL_NET_RX_PKTS,
       TL_NET_TX_BYTES, TL_NET_RX_BYTES, TL_NET_DROPS, TL_BLK_READS, TL_BLK_WRITES,
       TL_BLK_BYTES, TL_BLK_ERRORS };

enum { K_CPU, K_NET, K_BLK, NKINDS };

/* One timeline graph. */
struct tl_kind {
    const char *graph;
    int first, last;            /* its columns: any non-zero one is traffic (not cpu) */
    int key_a, key_b;           /* summed: a domain's ranking key */
    int nmetrics;
    int col[2];                 /* drawn: value * mul / div (/ interval with rate) */
    const char *metric[2];      /* in the data file's header */
    double mul, div;
    bool rate;
    const char *title, *which, *none;
    const char *resource;       /* the starvation events marked on it */
};

static const struct tl_kind tl_kinds[NKINDS] = {
    [K_CPU] = {
        .graph = "cpu-share", .first = TL_CPU_SHARE, .last = TL_CPU_SHARE,
        .key_a = TL_CPU_SHARE, .key_b = -1, .nmetrics = 1, .col = { TL_CPU_SHARE },
        .metric = { "cpu_share" }, .mul = 1, .div = 1,
        .title = "CPU share over time", .which = "largest total share", .none = " - no samples",
        .resource = "cpu",
    },
    [K_NET] = {
        .graph = "net-throughput", .first = TL_NET_TX_PKTS, .last = TL_NET_DROPS,
        .key_a = TL_NET_TX_BYTES, .key_b = TL_NET_RX_BYTES, .nmetrics = 2,
        .col = { TL_NET_RX_BYTES, TL_NET_TX_BYTES }, .metric = { "rx_mbit_s", "tx_mbit_s" },
        .mul = 8, .div = 1e6, .rate = true,
        .title = "Network throughput (Mbit/s; solid rx, dashed tx)", .which = "most traffic",
        .none = " - no traffic", .resource = "net",
    },
    [K_BLK] = {
        .graph = "blk-iops", .first = TL_BLK_READS, .last = TL_BLK_ERRORS,
        .key_a = TL_BLK_READS, .key_b = TL_BLK_WRITES, .nmetrics = 2,
        .col = { TL_BLK_READS, TL_BLK_WRITES }, .metric = { "read_iops", "write_iops" },
        .mul = 1, .div = 1, .rate = true,
        .title = "Block I/O (requests/s; solid reads, dashed writes)", .which = "most requests",
        .none = " - no requests", .resource = "blk",
    },
};

/* What the first pass found. */
struct tl_scan {
    struct results_doms doms;   /* every domain, first seen order (never ranked) */
    double *key[NKINDS];        /* per domain */
    int cap;
    bool any[NKINDS];           /* K_CPU: some row; others: a non-zero value */
    double last_t;
};

/* One graph being written. */
struct tl_graph {
    const struct tl_kind *k;
    struct plot_sel sel;
    int *cols;                  /* each series' first column */
    double **v;                 /* [series * nmetrics]: the values at this sample */
    int *nv, *capv;
    FILE *out;
    char *buf;
    size_t len;
    bool finite;                /* some value written is a number */
};

static int scan_grow(struct tl_scan *sc)
{
    if (sc->doms.n <= sc->cap)
        return 0;
    int cap = sc->cap ? 2 * sc->cap : 256;
    while (cap < sc->doms.n)
        cap *= 2;
    for (int k = 0; k < NKINDS; k++) {
        double *p = realloc(sc->key[k], (size_t)cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        memset(p + sc->cap, 0, (size_t)(cap - sc->cap) * sizeof(*p));
        sc->key[k] = p;
    }
    sc->cap = cap;
    return 0;
}

/* The domain of a row (its name cut as the table cuts it), added if new. */
static int row_dom(struct results_doms *ds, const char *field)
{
    char name[SCN_NAME_MAX];
    snprintf(name, sizeof(name), "%s", field);
    struct results_dom *d = results_doms_get(ds, name);
    return d ? (int)(d - ds->v) : -ENOMEM;
}

static int scan_row(struct tl_scan *sc, char **fld, int nf)
{
    if (nf <= TL_CPU_SHARE)
        return 0;                       /* a torn row */
    int i = row_dom(&sc->doms, fld[TL_DOM]);
    if (i < 0 || scan_grow(sc) < 0)
        return -ENOMEM;
    double t = strtod(fld[TL_T], NULL);
    if (t > sc->last_t)
        sc->last_t = t;
    sc->any[K_CPU] = true;
    for (int k = 0; k < NKINDS; k++) {
        const struct tl_kind *kd = &tl_kinds[k];
        if (nf <= kd->last)
            continue;                   /* written before the kind's columns */
        for (int c = kd->first; k != K_CPU && !sc->any[k] && c <= kd->last; c++)
            sc->any[k] |= strtod(fld[c], NULL) != 0;
        double key = strtod(fld[kd->key_a], NULL);
        if (kd->key_b >= 0)
            key += strtod(fld[kd->key_b], NULL);
        sc->key[k][i] += key;
    }
    return 0;
}

static int scan(FILE *f, struct tl_scan *sc)
{
    char *line = NULL, *fld[RESULTS_CSV_MAX_COLS];
    size_t cap = 0;
    int err = 0;
    for (long ln = 0; !err && getline(&line, &cap, f) > 0; ln++)
        if (ln > 0)
            err = scan_row(sc, fld, results_split_csv(line, fld, RESULTS_CSV_MAX_COLS));
    if (!err && ferror(f))
        err = -EIO;
    free(line);
    return err;
}

/* ---- one graph's data --------------------------------------------------------- */

static void graph_free(struct tl_graph *tg)
{
    int nv = tg->sel.n * (tg->k ? tg->k->nmetrics : 0);
    for (int i = 0; tg->v && i < nv; i++)
        free(tg->v[i]);
    free(tg->v);
    free(tg->nv);
    free(tg->capv);
    free(tg->cols);
    if (tg->out)
        fclose(tg->out);
    free(tg->buf);
    plot_sel_free(&tg->sel);
    memset(tg, 0, sizeof(*tg));
}

/* The series of kind k, the columns and the header. */
static int graph_init(struct tl_graph *tg, const struct tl_kind *k, const struct tl_scan *sc,
                      const int *gid, struct plot_groups *pg, int kind)
{
    tg->k = k;
    const char **names = malloc((size_t)(sc->doms.n ? sc->doms.n : 1) * sizeof(*names));
    if (!names)
        return -ENOMEM;
    for (int i = 0; i < sc->doms.n; i++)
        names[i] = sc->doms.v[i].name;
    int err = plot_select(names, gid, sc->key[kind], NULL, sc->doms.n, pg, false,
                          kind != K_CPU, PLOT_MAX_DOMAINS, &tg->sel);
    free(names);
    if (err)
        return err;
    int nv = tg->sel.n * k->nmetrics;
    tg->v = calloc((size_t)(nv ? nv : 1), sizeof(*tg->v));
    tg->nv = calloc((size_t)(nv ? nv : 1), sizeof(*tg->nv));
    tg->capv = calloc((size_t)(nv ? nv : 1), sizeof(*tg->capv));
    tg->cols = calloc((size_t)(tg->sel.n ? tg->sel.n : 1), sizeof(*tg->cols));
    tg->out = open_memstream(&tg->buf, &tg->len);
    if (!tg->v || !tg->nv || !tg->capv || !tg->cols || !tg->out)
        return -ENOMEM;
    fputs("t_s", tg->out);
    int col = 2;
    for (int s = 0; s < tg->sel.n; s++) {
        const struct plot_series *se = &tg->sel.s[s];
        tg->cols[s] = col;
        for (int m = 0; m < k->nmetrics; m++) {
            if (se->members > 1)
                fprintf(tg->out, ",%s.%s.median,%s.%s.p5,%s.%s.p95", se->name, k->metric[m],
                        se->name, k->metric[m], se->name, k->metric[m]);
            else
                fprintf(tg->out, ",%s.%s", se->name, k->metric[m]);
            col += se->members > 1 ? 3 : 1;
        }
    }
    fputc('\n', tg->out);
    return 0;
}

static int push(struct tl_graph *tg, int slot, double v)
{
    if (tg->nv[slot] == tg->capv[slot]) {
        int cap = tg->capv[slot] ? 2 * tg->capv[slot] : 4;
        double *p = realloc(tg->v[slot], (size_t)cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        tg->v[slot] = p;
        tg->capv[slot] = cap;
    }
    tg->v[slot][tg->nv[slot]++] = v;
    return 0;
}

static void put_num(struct tl_graph *tg, double v)
{
    if (!isfinite(v)) {
        fputs(",NaN", tg->out);
        return;
    }
    fprintf(tg->out, ",%.6f", v);
    tg->finite = true;
}

/* The row of sample t: each series' value, or median, p5 and p95. Nothing
 * when no row of the sample counted (an interval of 0 s). */
static void flush(struct tl_graph *tg, const char *t)
{
    int nv = tg->sel.n * tg->k->nmetrics, any = 0;
    for (int i = 0; i < nv; i++)
        any |= tg->nv[i] > 0;
    if (!any)
        return;
    fputs(t, tg->out);
    for (int s = 0; s < tg->sel.n; s++)
        for (int m = 0; m < tg->k->nmetrics; m++) {
            int slot = s * tg->k->nmetrics + m;
            if (tg->sel.s[s].members > 1) {
                double q[3];
                plot_stats(tg->v[slot], tg->nv[slot], q);
                put_num(tg, q[0]);
                put_num(tg, q[1]);
                put_num(tg, q[2]);
            } else {
                put_num(tg, tg->nv[slot] ? tg->v[slot][tg->nv[slot] - 1] : NAN);
            }
            tg->nv[slot] = 0;
        }
    fputc('\n', tg->out);
}

/* The second pass: every graph's rows. */
static int fill(FILE *f, struct tl_graph *tg, int ng, struct results_doms *doms)
{
    char *line = NULL, *fld[RESULTS_CSV_MAX_COLS], cur_s[64] = "";
    size_t cap = 0;
    double prev = 0, cur = 0;           /* a row's interval: [prev, cur) */
    int err = 0;
    for (long ln = 0; !err && getline(&line, &cap, f) > 0; ln++) {
        int nf = ln ? results_split_csv(line, fld, RESULTS_CSV_MAX_COLS) : 0;
        if (nf <= TL_CPU_SHARE)
            continue;
        double t = strtod(fld[TL_T], NULL);
        if (t != cur || !cur_s[0]) {
            for (int i = 0; cur_s[0] && i < ng; i++)
                flush(&tg[i], cur_s);
            prev = cur;
            cur = t;
            snprintf(cur_s, sizeof(cur_s), "%s", fld[TL_T]);
        }
        int d = row_dom(doms, fld[TL_DOM]);
        if (d < 0) {
            err = d;
            break;
        }
        double dt = cur - prev;
        for (int i = 0; !err && i < ng; i++) {
            const struct tl_kind *k = tg[i].k;
            int s = d < tg[i].sel.ndom ? tg[i].sel.of_dom[d] : -1;
            if (s < 0 || nf <= k->last || (k->rate && !(dt > 0)))
                continue;
            for (int m = 0; !err && m < k->nmetrics; m++) {
                double v = strtod(fld[k->col[m]], NULL) * k->mul / k->div;
                err = push(&tg[i], s * k->nmetrics + m, k->rate ? v / dt : v);
            }
        }
    }
    for (int i = 0; !err && cur_s[0] && i < ng; i++)
        flush(&tg[i], cur_s);
    if (!err && ferror(f))
        err = -EIO;
    free(line);
    return err;
}

/* ---- drawing ---------------------------------------------------------------------- */

/* Write plots/GRAPH.csv (with the starvation marks) and queue the graph. */
static int finish_graph(struct graph *g, struct tl_graph *tg, const struct plot_starve *st,
                        double run_s, const char *label)
{
    char data[PATH_MAX], plots[PATH_MAX], file[64], title[400], full[1024];
    int nspans = 0, nlabels = 0;
    plot_graph_next(g, tg->k->graph);
    plot_starve_blocks(st, tg->k->resource, run_s, tg->out, &nspans, &nlabels);
    int err = fclose(tg->out) ? -ENOMEM : 0;
    tg->out = NULL;
    snprintf(file, sizeof(file), "%s.csv", tg->k->graph);
    if (snprintf(plots, sizeof(plots), "%s/plots", g->dir) >= (int)sizeof(plots)
        || snprintf(data, sizeof(data), "%s/%s", plots, file) >= (int)sizeof(data))
        err = -ENAMETOOLONG;
    if (!err)
        err = results_write_atomic(plots, file, tg->buf, tg->len);
    if (err) {
        char shown[80];
        snprintf(shown, sizeof(shown), "plots/%s", file);
        return plot_data_failed(g, data, shown, err);
    }
    snprintf(title, sizeof(title), "%s%s", tg->k->title, label);
    plot_full_title(full, sizeof(full), title, &tg->sel, tg->k->which, tg->k->none);
    char *vars = NULL, n[32];
    size_t len;
    FILE *m = open_memstream(&vars, &len);
    if (!m)
        return -ENOMEM;
    plot_series_vars(m, data, &tg->sel, tg->cols, full, !tg->finite);
    snprintf(n, sizeof(n), "%d", nspans);
    plot_var(m, "nstarve", n);
    snprintf(n, sizeof(n), "%d", nlabels);
    plot_var(m, "nlabels", n);
    err = fclose(m) ? -ENOMEM : plot_queue(g, vars);
    free(vars);
    return err;
}

/* The domains that had network traffic, for net-rtt-cdf. */
static int note_traffic(const struct tl_scan *sc, struct plot_tl_info *info)
{
    info->net = sc->any[K_NET];
    info->blk = sc->any[K_BLK];
    for (int i = 0; i < sc->doms.n; i++)
        if (sc->key[K_NET][i] > 0 && !results_doms_get(&info->net_traffic, sc->doms.v[i].name))
            return -ENOMEM;
    return 0;
}

/* The groups of the timeline's domains (derived from their names when
 * summary.json gave none). */
static int *timeline_groups(const struct tl_scan *sc, struct plot_groups *pg)
{
    int *gid = malloc((size_t)(sc->doms.n ? sc->doms.n : 1) * sizeof(*gid));
    if (!gid)
        return NULL;
    if (!pg->dom.n) {
        const char **names = malloc((size_t)(sc->doms.n ? sc->doms.n : 1) * sizeof(*names));
        int err = names ? 0 : -ENOMEM;
        for (int i = 0; names && i < sc->doms.n; i++)
            names[i] = sc->doms.v[i].name;
        if (!err)
            err = plot_groups_derive(pg, names, sc->doms.n);
        free(names);
        if (err) {
            free(gid);
            return NULL;
        }
    }
    for (int i = 0; i < sc->doms.n; i++)
        if ((gid[i] = plot_groups_of(pg, sc->doms.v[i].name)) < 0) {
            free(gid);
            return NULL;
        }
    return gid;
}

static void scan_free(struct tl_scan *sc)
{
    results_doms_free(&sc->doms);
    for (int k = 0; k < NKINDS; k++)
        free(sc->key[k]);
}

/* The second pass, and the graphs queued (cpu-share empty when
 * timeline.csv has no rows). */
static int timeline_graphs(struct graph *g, FILE *f, struct tl_scan *sc, struct plot_groups *pg,
                           const struct plot_starve *st, const char *label)
{
    struct tl_graph tg[NKINDS];
    memset(tg, 0, sizeof(tg));
    int *gid = timeline_groups(sc, pg);
    int ng = 0, err = gid ? 0 : -ENOMEM;
    for (int k = 0; !err && k < NKINDS; k++)
        if (k == K_CPU || sc->any[k])
            err = graph_init(&tg[ng++], &tl_kinds[k], sc, gid, pg, k);
    free(gid);
    if (!err && fseek(f, 0, SEEK_SET) < 0)
        err = -errno;
    if (!err)
        err = fill(f, tg, ng, &sc->doms);
    if (err)
        plot_data_failed(g, "timeline.csv", "timeline.csv", err);
    int draw_err = 0;
    for (int i = 0; !err && i < ng; i++) {
        int e = finish_graph(g, &tg[i], st, sc->last_t, label);
        draw_err = draw_err ? draw_err : e;
    }
    for (int i = 0; i < ng; i++)
        graph_free(&tg[i]);
    return err ? err : draw_err;
}

int plot_timeline(struct graph *g, struct plot_groups *pg, const struct plot_starve *st,
                  const char *label, struct plot_tl_info *info)
{
    char tl[PATH_MAX];
    plot_graph_next(g, "cpu-share");
    if (snprintf(tl, sizeof(tl), "%s/timeline.csv", g->dir) >= (int)sizeof(tl))
        return plot_data_failed(g, tl, "timeline.csv", -ENAMETOOLONG);
    struct tl_scan sc = { 0 };
    FILE *f = fopen(tl, "re");
    int err = f ? scan(f, &sc) : -errno;
    if (!err)
        err = note_traffic(&sc, info);
    if (err)
        plot_data_failed(g, tl, "timeline.csv", err);
    else
        err = timeline_graphs(g, f, &sc, pg, st, label);
    if (f)
        fclose(f);
    scan_free(&sc);
    return err;
}
