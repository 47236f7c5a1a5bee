/* sweep_plot.c — a sweep's density curve: plots/density.dat from the rows,
 * drawn by tools/gnuplot/sweep-density.gp.
 *
 * gnuplot runs as results_plot runs it (hv/gnuplot.c): directly, no
 * shell, its output kept and shown only when it fails, each image written
 * to a temporary name and renamed. The curve has variables of its own
 * (series titles, axis labels, the threshold), hence its own draw here.
 */
#include "sweep.h"
#include "gnuplot.h"
#include "results.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEMPLATE "sweep-density.gp"

/* ---- the data ------------------------------------------------------------------ */

static double y1_of(const struct sweep_grid *g, const struct sweep_row *r)
{
    if (!g->has_slo)
        return r->jain;
    return g->slo.unit == SWEEP_UNIT_NS ? r->slo / 1e6 : r->slo;    /* ms */
}

static void min_max(const double *v, int n, double *lo, double *hi)
{
    *lo = *hi = v[0];
    for (int i = 1; i < n; i++) {
        *lo = v[i] < *lo ? v[i] : *lo;
        *hi = v[i] > *hi ? v[i] : *hi;
    }
}

/* One block per series, one row per value of the first key with a
 * finished run; returns the number of rows over all blocks. */
static int write_data(const struct sweep_grid *g, const struct sweep_row *rows, FILE *f)
{
    const struct sweep_axis *a = &g->axes[0];
    int *order = malloc((size_t)a->n * sizeof(*order));
    double *y1 = malloc((size_t)g->repeats * 2 * sizeof(*y1)), *y2 = y1 + g->repeats;
    int total = 0, npol = g->npol;
    if (!order || !y1) {
        free(order);
        free(y1);
        return -ENOMEM;
    }
    sweep_axis_order(a, order);
    fputs("# x,label,y1_median,y1_min,y1_max,y2_median,y2_min,y2_max,runs\n", f);
    for (int s = 0; s < sweep_series_count(g); s++) {
        char label[640];
        sweep_series_label(g, s, label, sizeof(label));
        fprintf(f, "%s# series %d: %s\n", s ? "\n\n" : "", s, label);
        for (int i = 0; i < a->n; i++) {
            int n = 0;
            for (int rep = 0; rep < g->repeats; rep++) {
                /* the point of (series s, value order[i], rep): series
                 * s = others * npol + pol, as sweep_series */
                int vi[SWEEP_MAX_KEYS], pol = s % npol, others = s / npol;
                for (int k = g->nkeys - 1; k >= 1; k--) {
                    vi[k] = others % g->axes[k].n;
                    others /= g->axes[k].n;
                }
                vi[0] = order[i];
                const struct sweep_row *r = &rows[sweep_point_index(g, vi, pol, rep)];
                if (r->status == SWEEP_OK && !isnan(y1_of(g, r))) {
                    y1[n] = y1_of(g, r);
                    y2[n++] = r->thr;
                }
            }
            if (!n)
                continue;
            double lo1, hi1, lo2, hi2;
            min_max(y1, n, &lo1, &hi1);
            min_max(y2, n, &lo2, &hi2);
            double m1 = results_median(y1, n), m2 = results_median(y2, n);
            fprintf(f, "%.12g,%s,%.12g,%.12g,%.12g,%.12g,%.12g,%.12g,%d\n", a->x[order[i]],
                    a->vals[order[i]], m1, lo1, hi1, m2, lo2, hi2, n);
            total++;
        }
    }
    free(order);
    free(y1);
    return ferror(f) ? -EIO : total;
}

/* ---- gnuplot ---------------------------------------------------------------------- */

/* Draw with `term` into dir/plots/density.EXT (via a temporary name). */
static int draw(const char *vars, const char *tmpl, const char *dir, const char *term,
                const char *ext, char *gpout, size_t gplen)
{
    char final[PATH_MAX], tmp[PATH_MAX + 8];
    if (snprintf(final, sizeof(final), "%s/plots/density.%s", dir, ext) >= (int)sizeof(final))
        return -ENAMETOOLONG;
    snprintf(tmp, sizeof(tmp), "%s.tmp", final);
    char *all = gp_image_vars(vars, term, tmp);
    if (!all)
        return -ENOMEM;
    int st;
    int err = gp_run(all, tmpl, gpout, gplen, &st);
    free(all);
    /* No image is gnuplot's failure: -ENOENT would read as no gnuplot. */
    if (!err && (err = gp_commit_image(tmp, final)) == -ENOENT)
        err = -EIO;
    if (err)
        unlink(tmp);
    return err;
}

/* The variables of the template but term and out. */
static char *plot_vars(const struct sweep_grid *g)
{
    char *vars = NULL, buf[1024];
    size_t len;
    FILE *m = open_memstream(&vars, &len);
    if (!m)
        return NULL;
    int ns = sweep_series_count(g);
    fprintf(m, "nseries=%d; ", ns);
    for (int s = 0; s < ns; s++) {
        char name[16];
        snprintf(name, sizeof(name), "t%d", s);
        sweep_series_label(g, s, buf, sizeof(buf));
        gp_put(m, name, buf);
    }
    snprintf(buf, sizeof(buf), "Sweep of %s: %s", g->name,
             g->has_slo ? g->slo.text : "Jain's index and throughput");
    gp_put(m, "title_txt", buf);
    gp_put(m, "xlabel_txt", g->axes[0].key);
    if (g->has_slo)
        snprintf(buf, sizeof(buf), "%s %s%s (median, min..max over repeats)", g->slo.name,
                 g->slo.field, g->slo.unit == SWEEP_UNIT_NS ? " (ms)" : "");
    else
        snprintf(buf, sizeof(buf), "Jain's fairness index (median, min..max over repeats)");
    gp_put(m, "ylabel_txt", buf);
    gp_put(m, "y2label_txt", "throughput, dashed: guests' net rx B/s + blk B/s + work units/s");
    if (g->has_slo)
        snprintf(buf, sizeof(buf), "%.12g",
                 g->slo.unit == SWEEP_UNIT_NS ? g->slo.threshold / 1e6 : g->slo.threshold);
    else
        buf[0] = '\0';
    gp_put(m, "slo_y", buf);
    /* the values as written label the tics, unless there are too many */
    gp_put(m, "xt", !g->axes[0].numeric || g->axes[0].n <= 16 ? "1" : "0");
    if (fclose(m)) {
        free(vars);
        return NULL;
    }
    return vars;
}

int sweep_plot(const struct sweep_grid *g, const struct sweep_row *rows, const char *dir,
               FILE *log, char *why, size_t whylen)
{
    char plots[PATH_MAX], data[PATH_MAX + 16], tdir[PATH_MAX], tmpl[PATH_MAX];
    snprintf(plots, sizeof(plots), "%s/plots", dir);
    if (mkdir(plots, 0777) < 0 && errno != EEXIST)
        return snprintf(why, whylen, "%s: %s", plots, strerror(errno)), -errno;
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return -ENOMEM;
    int rows_drawn = write_data(g, rows, m);
    int err = fclose(m) ? -ENOMEM : rows_drawn < 0 ? rows_drawn : 0;
    if (!err)
        err = results_write_atomic(plots, "density.dat", text, len);
    free(text);
    if (err)
        return snprintf(why, whylen, "plots/density.dat: %s", strerror(-err)), err;
    if (rows_drawn == 0) {
        fprintf(log, "graph:  none (no point finished)\n");
        return 1;
    }
    if (gp_template_dir(TEMPLATE, tdir, sizeof(tdir)) < 0
        || snprintf(tmpl, sizeof(tmpl), "%s/" TEMPLATE, tdir) >= (int)sizeof(tmpl)) {
        snprintf(why, whylen, "the gnuplot template %s was not found; set FV_GNUPLOT_DIR", TEMPLATE);
        return -ENOENT;
    }
    snprintf(data, sizeof(data), "%s/density.dat", plots);
    char *vars = plot_vars(g), gpout[GP_OUT_MAX] = "";
    if (!vars)
        return -ENOMEM;
    char *all = NULL;
    m = open_memstream(&all, &len);
    if (!m) {
        free(vars);
        return -ENOMEM;
    }
    fputs(vars, m);
    gp_put(m, "data", data);
    free(vars);
    if (fclose(m)) {
        free(all);
        return -ENOMEM;
    }
    err = draw(all, tmpl, dir, "svg", "svg", gpout, sizeof(gpout));
    if (!err && draw(all, tmpl, dir, "pngcairo", "png", gpout, sizeof(gpout)))
        err = draw(all, tmpl, dir, "png", "png", gpout, sizeof(gpout));
    free(all);
    if (err == -ENOENT) {
        fprintf(log, "graph:  skipped: gnuplot not found (tools/deps installs gnuplot-nox)\n");
        return 1;
    }
    if (err) {
        /* gnuplot's last words say what went wrong */
        const char *last = gp_last_line(gpout);
        snprintf(why, whylen, "density: %s", gpout[0] ? last : strerror(-err));
    }
    return err;
}
