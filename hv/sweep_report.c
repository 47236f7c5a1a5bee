/* sweep_report.c — from the runs of a sweep to its CSV, its knees and its
 * density curve. Local sweeps and --collect both end here, reading only
 * the sweep directory (grid.tsv, logs/P.status, runs/P/summary.json), so a
 * sweep run on a cluster gives the same files as one run here.
 */
#include "sweep.h"
#include "results.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- one point ---------------------------------------------------------------- */

static double num(const json_t *o, const char *k1, const char *k2)
{
    const json_t *j = json_object_get(o, k1);
    if (k2)
        j = json_object_get(j, k2);
    return json_is_number(j) ? json_number_value(j) : 0;
}

void sweep_row_from_summary(const struct sweep_grid *g, const json_t *summary,
                            struct sweep_row *r)
{
    double secs = num(summary, "duration_ns", NULL) / 1e9;
    double rx = 0, blk = 0, work = 0;
    size_t i;
    const json_t *d;
    json_array_foreach(json_object_get(summary, "domains"), i, d) {
        if (num(d, "id", NULL) == 0)        /* Domain-0: not a guest */
            continue;
        rx += num(d, "net", "rx_bytes");
        blk += num(d, "blk", "bytes");
        work += num(d, "work_units", NULL);
    }
    r->net_rx = secs > 0 ? rx / secs : 0;
    r->blk = secs > 0 ? blk / secs : 0;
    r->work = secs > 0 ? work / secs : 0;
    r->thr = r->net_rx + r->blk + r->work;
    r->jain = num(summary, "fairness", "jain");
    r->slo = NAN;
    r->slo_ok = -1;
    if (g->has_slo) {
        double v;
        if (sweep_slo_value(&g->slo, summary, &v) == 0)
            r->slo = v;
        /* a value that cannot be read does not hold */
        r->slo_ok = !isnan(r->slo) && sweep_slo_holds(&g->slo, r->slo);
    }
}

void sweep_row_read(const struct sweep_grid *g, const char *dir, int p, struct sweep_row *r)
{
    memset(r, 0, sizeof(*r));
    r->slo = NAN;
    r->slo_ok = -1;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/logs/%d.status", dir, p);
    FILE *f = fopen(path, "re");
    if (!f)
        return;                             /* never finished: missing */
    int code = -1;
    if (fscanf(f, "%d", &code) != 1)
        code = -1;
    fclose(f);
    r->status = SWEEP_FAILED;
    if (code != 0)
        return;
    snprintf(path, sizeof(path), "%s/runs/%d/summary.json", dir, p);
    json_t *j = json_load_file(path, 0, NULL);
    if (j && json_is_true(json_object_get(j, "complete"))) {
        r->status = SWEEP_OK;
        sweep_row_from_summary(g, j, r);
    }
    json_decref(j);
}

/* ---- sweep.csv ---------------------------------------------------------------- */

/* A field as CSV: quoted when it holds a comma or a quote. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Whole numbers exactly (ns, bytes), others to 12 significant digits. */
static void csv_num(FILE *f, double v)
{
    if (isnan(v))
        return;
    if (v == floor(v) && fabs(v) < 1e15)
        fprintf(f, ",%.0f", v);
    else
        fprintf(f, ",%.12g", v);
}

static const char *const status_names[] = { "missing", "ok", "failed" };

int sweep_write_csv(const struct sweep_grid *g, const struct sweep_row *rows, FILE *f)
{
    fputs("point", f);
    for (int k = 0; k < g->nkeys; k++) {
        fputc(',', f);
        csv_field(f, g->axes[k].key);
    }
    fputs(",policy,repeat,seed,status,", f);
    if (g->has_slo)
        fprintf(f, "%s.%s", g->slo.name, g->slo.field);
    else
        fputs("slo_value", f);
    fputs(",net_rx_bytes_per_s,blk_bytes_per_s,work_units_per_s,throughput,jain,slo_ok\n", f);
    for (int p = 0; p < g->npoints; p++) {
        int vi[SWEEP_MAX_KEYS], pol, rep;
        sweep_point(g, p, vi, &pol, &rep);
        const struct sweep_row *r = &rows[p];
        fprintf(f, "%d", p);
        for (int k = 0; k < g->nkeys; k++) {
            fputc(',', f);
            csv_field(f, g->axes[k].vals[vi[k]]);
        }
        fprintf(f, ",%s,%d,%llu,%s", g->policies[pol], rep,
                (unsigned long long)(g->seed + (uint64_t)rep), status_names[r->status]);
        if (r->status != SWEEP_OK) {
            fputs(",,,,,,,\n", f);
            continue;
        }
        if (isnan(r->slo))
            fputc(',', f);
        else
            csv_num(f, r->slo);
        csv_num(f, r->net_rx);
        csv_num(f, r->blk);
        csv_num(f, r->work);
        csv_num(f, r->thr);
        csv_num(f, r->jain);
        if (r->slo_ok < 0)
            fputs(",\n", f);
        else
            fprintf(f, ",%d\n", r->slo_ok);
    }
    return ferror(f) ? -EIO : 0;
}

/* ---- knees -------------------------------------------------------------------- */

static int others_count(const struct sweep_grid *g)
{
    int n = 1;
    for (int k = 1; k < g->nkeys; k++)
        n *= g->axes[k].n;
    return n;
}

int sweep_series_count(const struct sweep_grid *g)
{
    return others_count(g) * g->npol;
}

void sweep_series(const struct sweep_grid *g, int s, int *pol, int *others)
{
    *pol = s % g->npol;
    *others = s / g->npol;
}

/* vi[1..nkeys-1] of `others` (the last key fastest). */
static void others_values(const struct sweep_grid *g, int others, int *vi)
{
    for (int k = g->nkeys - 1; k >= 1; k--) {
        vi[k] = others % g->axes[k].n;
        others /= g->axes[k].n;
    }
}

static void others_text(const struct sweep_grid *g, int others, const char *sep, char *buf,
                        size_t n)
{
    int vi[SWEEP_MAX_KEYS];
    size_t used = 0;
    buf[0] = '\0';
    others_values(g, others, vi);
    for (int k = 1; k < g->nkeys && used + 1 < n; k++) {
        int w = snprintf(buf + used, n - used, "%s%s=%s", k > 1 ? sep : "", g->axes[k].key,
                         g->axes[k].vals[vi[k]]);
        used = w < 0 ? used : used + (size_t)w >= n ? n - 1 : used + (size_t)w;
    }
}

void sweep_series_label(const struct sweep_grid *g, int s, char *buf, size_t n)
{
    int pol, others;
    char o[512];
    sweep_series(g, s, &pol, &others);
    others_text(g, others, " ", o, sizeof(o));
    snprintf(buf, n, "%s%s%s", g->policies[pol], o[0] ? " " : "", o);
}

/* The median SLO value over the finished repeats of series (pol, others)
 * at value v of the first key; NAN when none finished. */
static double median_at(const struct sweep_grid *g, const struct sweep_row *rows, int pol,
                        int others, int v, double *buf)
{
    int vi[SWEEP_MAX_KEYS], n = 0;
    others_values(g, others, vi);
    vi[0] = v;
    for (int rep = 0; rep < g->repeats; rep++) {
        const struct sweep_row *r = &rows[sweep_point_index(g, vi, pol, rep)];
        if (r->status == SWEEP_OK)
            buf[n++] = isnan(r->slo) ? INFINITY * (g->slo.op <= SWEEP_LE ? 1 : -1) : r->slo;
    }
    return results_median(buf, n);
}

void sweep_knee(const struct sweep_grid *g, const struct sweep_row *rows, int s,
                struct sweep_knee *k)
{
    const struct sweep_axis *a = &g->axes[0];
    int *order = malloc((size_t)a->n * sizeof(*order));
    double *buf = malloc((size_t)g->repeats * sizeof(*buf));
    sweep_series(g, s, &k->pol, &k->others);
    k->knee = k->brk = -1;
    k->unknown = false;
    if (!order || !buf) {
        k->unknown = true;
        k->brk = 0;
        free(order);
        free(buf);
        return;
    }
    sweep_axis_order(a, order);
    for (int i = 0; i < a->n; i++) {
        double m = median_at(g, rows, k->pol, k->others, order[i], buf);
        if (isnan(m) || !sweep_slo_holds(&g->slo, m)) {
            k->brk = order[i];
            k->unknown = isnan(m);
            break;
        }
        k->knee = order[i];
    }
    free(order);
    free(buf);
}

void sweep_knee_line(const struct sweep_grid *g, const struct sweep_knee *k, char *buf, size_t n)
{
    const struct sweep_axis *a = &g->axes[0];
    char label[640];
    sweep_series_label(g, k->others * g->npol + k->pol, label, sizeof(label));
    if (k->knee >= 0 && k->brk < 0) {
        int *order = malloc((size_t)a->n * sizeof(*order));
        int last = a->n - 1;
        if (order) {
            sweep_axis_order(a, order);
            last = order[a->n - 1];
        }
        free(order);
        snprintf(buf, n, "knee %s: never breaks (%s up to %s)", label, a->key, a->vals[last]);
    } else if (k->knee < 0) {
        snprintf(buf, n, "knee %s: %s (%s=%s)", label,
                 k->unknown ? "unknown, no finished run at the first point"
                            : "breaks at the first point", a->key, a->vals[k->brk]);
    } else {
        snprintf(buf, n, "knee %s: %s=%s (%s %s)", label, a->key, a->vals[k->knee],
                 k->unknown ? "no finished run at" : "SLO breaks at", a->vals[k->brk]);
    }
}

int sweep_write_knees_csv(const struct sweep_grid *g, const struct sweep_row *rows, FILE *f)
{
    fputs("policy,others,key,knee,breaks_at,reason\n", f);
    for (int s = 0; g->has_slo && s < sweep_series_count(g); s++) {
        struct sweep_knee k;
        char o[512];
        sweep_knee(g, rows, s, &k);
        others_text(g, k.others, ";", o, sizeof(o));
        fprintf(f, "%s,", g->policies[k.pol]);
        csv_field(f, o);
        fputc(',', f);
        csv_field(f, g->axes[0].key);
        fputc(',', f);
        csv_field(f, k.knee >= 0 ? g->axes[0].vals[k.knee] : "");
        fputc(',', f);
        csv_field(f, k.brk >= 0 ? g->axes[0].vals[k.brk] : "");
        fprintf(f, ",%s\n", k.brk < 0 ? "none" : k.unknown ? "missing" : "slo");
    }
    return ferror(f) ? -EIO : 0;
}

/* ---- the report ---------------------------------------------------------------- */

typedef int (*writer_fn)(const struct sweep_grid *, const struct sweep_row *, FILE *);

/* Write dir/name from `fn` (or `text`), atomically. */
static int write_file(const char *dir, const char *name, const struct sweep_grid *g,
                      const struct sweep_row *rows, writer_fn fn, const char *text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return -ENOMEM;
    int err = fn ? fn(g, rows, m) : (fputs(text, m) == EOF ? -EIO : 0);
    if (fclose(m) != 0 && !err)
        err = -ENOMEM;
    if (!err)
        err = results_write_atomic(dir, name, buf, len);
    free(buf);
    return err;
}

/* Print the knees on out and write knee.txt. */
static int report_knees(const struct sweep_grid *g, const struct sweep_row *rows, const char *dir,
                        FILE *out)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return -ENOMEM;
    if (!g->has_slo)
        fputs("no --slo given: no knees\n", m);
    for (int s = 0; g->has_slo && s < sweep_series_count(g); s++) {
        struct sweep_knee k;
        char line[1024];
        sweep_knee(g, rows, s, &k);
        sweep_knee_line(g, &k, line, sizeof(line));
        fprintf(m, "%s\n", line);
    }
    int err = fclose(m) == 0 ? 0 : -ENOMEM;
    if (!err) {
        fputs(text, out);
        err = write_file(dir, "knee.txt", g, rows, NULL, text);
    }
    free(text);
    return err;
}

/* "3 failed (logs/2.log, ...)" lines for the points not ok. */
static int report_status(const struct sweep_grid *g, const struct sweep_row *rows,
                         const char *dir, FILE *out)
{
    int n[3] = { 0 };
    for (int p = 0; p < g->npoints; p++)
        n[rows[p].status]++;
    fprintf(out, "points: %d ok, %d failed, %d missing (of %d)\n", n[SWEEP_OK],
            n[SWEEP_FAILED], n[SWEEP_MISSING], g->npoints);
    for (int st = SWEEP_MISSING; st <= SWEEP_FAILED; st += 2) {
        int shown = 0;
        for (int p = 0; p < g->npoints && shown < 10; p++) {
            if ((int)rows[p].status != st)
                continue;
            if (!shown++)
                fprintf(out, "%s", st == SWEEP_FAILED ? "failed (see their logs):"
                                                      : "missing (not run or not finished): points");
            if (st == SWEEP_FAILED)
                fprintf(out, " %s/logs/%d.log", dir, p);
            else
                fprintf(out, "%s %d", shown > 1 ? "," : "", p);
        }
        if (shown)
            fprintf(out, "%s\n", n[st] > shown ? " ..." : "");
    }
    return n[SWEEP_OK] == g->npoints ? 0 : 1;
}

int sweep_report(const struct sweep_grid *g, const char *dir, FILE *out)
{
    struct sweep_row *rows = calloc((size_t)g->npoints, sizeof(*rows));
    if (!rows)
        return -ENOMEM;
    for (int p = 0; p < g->npoints; p++)
        sweep_row_read(g, dir, p, &rows[p]);
    int err = write_file(dir, "sweep.csv", g, rows, sweep_write_csv, NULL);
    if (!err)
        err = write_file(dir, "knees.csv", g, rows, sweep_write_knees_csv, NULL);
    if (!err)
        err = report_knees(g, rows, dir, out);
    if (err) {
        free(rows);
        return err;
    }
    fprintf(out, "csv:    %s/sweep.csv\nknees:  %s/knee.txt, %s/knees.csv\n", dir, dir, dir);
    char why[2048] = "";
    int prc = sweep_plot(g, rows, dir, out, why, sizeof(why));
    if (prc == 0)
        fprintf(out, "graph:  %s/plots/density.png (and .svg)\n", dir);
    else if (prc < 0)
        fprintf(stderr, "fairvisor sweep: the density graph failed: %s (the CSV is kept)\n",
                why[0] ? why : strerror(-prc));
    int rc = report_status(g, rows, dir, out);
    free(rows);
    return rc;
}
