/* plot_io.c — the network and block graphs of a results directory (see
 * results_plot in results.h; the drawing itself is plot.c).
 *
 * Each kind of I/O has a graph of rates over time and a latency CDF, drawn
 * only when timeline.csv shows that kind of traffic: a non-zero value in
 * its columns (net_* or blk_*). Files from before a kind's columns existed
 * have rows too short to hold them, and so draw none of its graphs. Both
 * kinds are found in one pass over timeline.csv, which can be large (a row
 * per domain per sample).
 *
 * Rates need each row's interval, which starts at the previous distinct t_s
 * (every sample writes all domains at one t_s; the run starts at 0): they
 * are computed here, into plots/NAME.csv, which gnuplot only draws.
 */
#include "plot_priv.h"
#include "results_priv.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* timeline.csv's columns (results.c TIMELINE_HEADER). */
enum { TL_T, TL_DOM, TL_NET_TX_PKTS = 8, TL_NET_RX_PKTS, TL_NET_TX_BYTES, TL_NET_RX_BYTES,
       TL_NET_DROPS, TL_BLK_READS, TL_BLK_WRITES, TL_BLK_BYTES, TL_BLK_ERRORS };

/* One kind of I/O and its two graphs. */
struct io_kind {
    int first, last;            /* its columns: any non-zero one is traffic */
    int key_a, key_b;           /* summed: a domain's traffic (who is drawn, ranking) */
    int rate_a, rate_b;         /* drawn as value * mul / interval / div */
    double mul, div;
    const char *rates;          /* graph: template, plots/NAME.csv, images */
    const char *rates_header;
    const char *rates_title, *rates_which, *rates_none;
    const char *cdf;            /* graph */
    const char *cdf_csv;        /* its data, in the results directory */
    bool cdf_traffic_only;      /* the file has domains without this traffic too */
    const char *cdf_title;
};

static const struct io_kind io_kinds[] = {
    {
        .first = TL_NET_TX_PKTS, .last = TL_NET_DROPS,
        .key_a = TL_NET_TX_BYTES, .key_b = TL_NET_RX_BYTES,
        .rate_a = TL_NET_RX_BYTES, .rate_b = TL_NET_TX_BYTES, .mul = 8, .div = 1e6,
        .rates = "net-throughput", .rates_header = "t_s,domain,rx_mbit_s,tx_mbit_s\n",
        .rates_title = "Network throughput (Mbit/s; solid rx, dashed tx)",
        .rates_which = "most traffic", .rates_none = " - no traffic",
        /* app-latency.csv holds any workload's samples: only the
         * domains with traffic are round trips. */
        .cdf = "net-rtt-cdf", .cdf_csv = "app-latency.csv", .cdf_traffic_only = true,
        .cdf_title = "Round-trip latency CDF",
    },
    {
        .first = TL_BLK_READS, .last = TL_BLK_ERRORS,
        .key_a = TL_BLK_READS, .key_b = TL_BLK_WRITES,
        .rate_a = TL_BLK_READS, .rate_b = TL_BLK_WRITES, .mul = 1, .div = 1,
        .rates = "blk-iops", .rates_header = "t_s,domain,read_iops,write_iops\n",
        .rates_title = "Block I/O (requests/s; solid reads, dashed writes)",
        .rates_which = "most requests", .rates_none = " - no requests",
        .cdf = "blk-latency-cdf", .cdf_csv = "blk-latency.csv", .cdf_traffic_only = false,
        .cdf_title = "Block request latency CDF",
    },
};
#define IO_KINDS ((int)(sizeof(io_kinds) / sizeof(io_kinds[0])))

/* What timeline.csv showed of one kind. */
struct io_seen {
    bool any;                   /* some value in its columns is non-zero */
    struct results_doms traffic;/* the domains with key_a + key_b > 0, keyed by it */
};

/* Is `name` one of ds's domains? Without adding it (results_doms_get would). The
 * index is there from the first results_doms_get until results_rank_domains. */
static bool doms_has(const struct results_doms *ds, const char *name)
{
    for (int i = 0; !ds->slot && i < ds->n; i++)
        if (strcmp(ds->v[i].name, name) == 0)
            return true;
    if (!ds->slot)
        return false;
    uint32_t mask = (uint32_t)(ds->nslot - 1), h = results_name_hash(name) & mask;
    for (; ds->slot[h]; h = (h + 1) & mask)
        if (strcmp(ds->v[ds->slot[h] - 1].name, name) == 0)
            return true;
    return false;
}

/* One row's contribution to what kind k saw (a row of nf fields). */
static int seen_row(const struct io_kind *k, struct io_seen *s, char **fld, int nf)
{
    if (nf <= k->last)
        return 0;                   /* written before the kind's columns */
    for (int c = k->first; c <= k->last; c++)
        s->any |= strtod(fld[c], NULL) != 0;
    double key = strtod(fld[k->key_a], NULL) + strtod(fld[k->key_b], NULL);
    if (!(key > 0))
        return 0;
    char name[SCN_NAME_MAX];
    snprintf(name, sizeof(name), "%s", fld[TL_DOM]);
    struct results_dom *d = results_doms_get(&s->traffic, name);
    if (!d)
        return -ENOMEM;
    d->key += key;
    return 0;
}

/* Read timeline.csv once for every kind. */
static int io_scan(FILE *f, struct io_seen *seen)
{
    char *line = NULL, *fld[RESULTS_CSV_MAX_COLS];
    size_t cap = 0;
    int err = 0;
    for (long ln = 0; !err && getline(&line, &cap, f) > 0; ln++) {
        if (ln == 0)
            continue;
        int nf = results_split_csv(line, fld, RESULTS_CSV_MAX_COLS);
        for (int k = 0; !err && k < IO_KINDS; k++)
            err = seen_row(&io_kinds[k], &seen[k], fld, nf);
    }
    if (!err && ferror(f))
        err = -EIO;
    free(line);
    return err;
}

/* The rows of the n domains ds->v[0..n) as t_s,domain,RATE_A,RATE_B. */
static void io_rates(const struct io_kind *k, FILE *in, FILE *out,
                     const struct results_doms *ds, int n)
{
    char *line = NULL, *fld[RESULTS_CSV_MAX_COLS];
    size_t cap = 0;
    double prev = 0, cur = 0;           /* this row's interval: [prev, cur) */
    fputs(k->rates_header, out);
    for (long ln = 0; getline(&line, &cap, in) > 0; ln++) {
        if (ln == 0 || results_split_csv(line, fld, RESULTS_CSV_MAX_COLS) <= k->last)
            continue;
        double t = strtod(fld[TL_T], NULL);
        if (t != cur) {
            prev = cur;
            cur = t;
        }
        double dt = cur - prev;
        int i = 0;
        while (i < n && strncmp(ds->v[i].name, fld[TL_DOM], SCN_NAME_MAX - 1) != 0)
            i++;
        if (i == n || !(dt > 0))
            continue;
        fprintf(out, "%s,%s,%.6f,%.6f\n", fld[TL_T], ds->v[i].name,
                strtod(fld[k->rate_a], NULL) * k->mul / dt / k->div,
                strtod(fld[k->rate_b], NULL) * k->mul / dt / k->div);
    }
    free(line);
}

/* plots/RATES.csv from timeline.csv, for the domains drawn. */
static int write_rates(const struct io_kind *k, const char *dir, const char *timeline,
                       struct results_doms *ds)
{
    if (ds->n > PLOT_MAX_DOMAINS)
        results_rank_domains(ds);
    int n = ds->n < PLOT_MAX_DOMAINS ? ds->n : PLOT_MAX_DOMAINS;
    FILE *in = fopen(timeline, "re");
    if (!in)
        return -errno;
    char *buf = NULL, plots[PATH_MAX], file[128];
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (out)
        io_rates(k, in, out, ds, n);
    int err = !out || fclose(out) != 0 ? -ENOMEM : ferror(in) ? -EIO : 0;
    fclose(in);
    snprintf(file, sizeof(file), "%s.csv", k->rates);
    if (!err)
        err = snprintf(plots, sizeof(plots), "%s/plots", dir) < (int)sizeof(plots)
            ? results_write_atomic(plots, file, buf, len) : -ENAMETOOLONG;
    free(buf);
    return err;
}

/* The CDF graph: the latency file's domains (with cdf_traffic_only, those
 * that also had traffic), keyed by their maximum latency. */
static int plot_cdf(struct graph *g, const struct io_kind *k, const struct results_doms *traffic,
                    const char *label)
{
    char data[PATH_MAX], title[400], full[1024];
    if (snprintf(data, sizeof(data), "%s/%s", g->dir, k->cdf_csv) >= (int)sizeof(data))
        return -ENAMETOOLONG;
    struct results_doms lat = { 0 }, drawn = { 0 };
    int err = 0;
    FILE *f = fopen(data, "re");
    if (f) {
        err = results_read_domains(f, 0, 1, true, &lat);
        fclose(f);
    } else if (errno != ENOENT) {       /* none (interrupted run): an empty plot */
        err = -errno;
    }
    for (int i = 0; !err && i < lat.n; i++) {
        if (k->cdf_traffic_only && !doms_has(traffic, lat.v[i].name))
            continue;
        struct results_dom *d = results_doms_get(&drawn, lat.v[i].name);
        if (!d)
            err = -ENOMEM;
        else
            d->key = lat.v[i].key;
    }
    if (err) {
        plot_data_failed(g, data, k->cdf_csv, err);
    } else {
        snprintf(title, sizeof(title), "%s%s", k->cdf_title, label);
        plot_full_title(full, sizeof(full), title, drawn.n, "highest max latency",
                        " - no samples");
        err = plot_render(g, data, &drawn, full);
    }
    results_doms_free(&lat);
    results_doms_free(&drawn);
    return err;
}

/* The rates graph, from plots/RATES.csv (made here). */
static int plot_rates(struct graph *g, const struct io_kind *k, const char *timeline,
                      struct results_doms *traffic, const char *label)
{
    char data[PATH_MAX], shown[160], title[400], full[1024];
    if (snprintf(data, sizeof(data), "%s/plots/%s.csv", g->dir, k->rates) >= (int)sizeof(data))
        return -ENAMETOOLONG;
    int err = write_rates(k, g->dir, timeline, traffic);
    if (err) {
        snprintf(shown, sizeof(shown), "plots/%s.csv", k->rates);
        return plot_data_failed(g, data, shown, err);
    }
    snprintf(title, sizeof(title), "%s%s", k->rates_title, label);
    plot_full_title(full, sizeof(full), title, traffic->n, k->rates_which, k->rates_none);
    return plot_render(g, data, traffic, full);
}

int plot_io(struct graph *g, const char *label)
{
    char tl[PATH_MAX];
    if (snprintf(tl, sizeof(tl), "%s/timeline.csv", g->dir) >= (int)sizeof(tl))
        return -ENAMETOOLONG;
    FILE *f = fopen(tl, "re");
    if (!f)
        return 0;                       /* cpu-share has said so already */
    struct io_seen seen[IO_KINDS];
    memset(seen, 0, sizeof(seen));
    int err = io_scan(f, seen), draw_err = 0;
    fclose(f);
    if (err) {
        plot_graph_next(g, io_kinds[0].cdf);
        plot_data_failed(g, tl, "timeline.csv", err);
    }
    /* Each kind is drawn even if the other's graphs failed. */
    for (int i = 0; !err && i < IO_KINDS; i++) {
        const struct io_kind *k = &io_kinds[i];
        if (!seen[i].any)
            continue;
        /* The CDF first: it looks names up in traffic, which plot_rates ranks. */
        plot_graph_next(g, k->cdf);
        int e1 = plot_cdf(g, k, &seen[i].traffic, label);
        plot_graph_next(g, k->rates);
        int e2 = plot_rates(g, k, tl, &seen[i].traffic, label);
        if (!draw_err)
            draw_err = e1 ? e1 : e2;
    }
    for (int i = 0; i < IO_KINDS; i++)
        results_doms_free(&seen[i].traffic);
    return err ? err : draw_err;
}
