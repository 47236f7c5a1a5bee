/* compare_plot.c — the bar charts of `fairvisor compare`: one cluster per
 * row of the table (domain or group), one bar per run, drawn by the
 * templates tools/gnuplot/compare-{share,p99,throughput}.gp from a CSV
 * written next to the images (name, then one column per run headed by the
 * run's label), so that a chart can be redrawn or restyled by hand.
 *
 * gnuplot is run as results_plot runs it (gnuplot.c): directly, no shell,
 * its output captured and shown only when it fails, each image written to
 * NAME.tmp and renamed.
 *
 * Throughput bars are each row's rate as a percentage of the highest run
 * for that row: the rows mix units (work units/s, packets/s, IOPS) and
 * magnitudes (a flood's million packets beside a probe's thousand), so
 * absolute bars on one axis would hide all but the largest. The absolute
 * figures are in the table and compare.csv.
 */
#include "compare_priv.h"
#include "gnuplot.h"
#include "results.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Clusters drawn; more are unreadable (--by group folds replicas). */
#define CMP_CHART_MAX_ROWS 24

/* ---- the data --------------------------------------------------------------- */

/* A name as a field gnuplot splits on ',' (no quoting there). */
static void put_field(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc(*s == ',' || *s == '"' || *s == '\n' || *s == '\r' ? '_' : *s, f);
}

enum chart { CH_SHARE, CH_P99, CH_TPUT, CH_N };

static const char *const chart_names[CH_N] = {
    "compare-share", "compare-p99", "compare-throughput",
};

static double tput(const struct cmp_row *row, const struct cmp_cell *cl)
{
    if (!cl->members)
        return NAN;
    return row->io != CMP_IO_NONE ? cl->io_s : cl->work_s;
}

static void put_label(FILE *f, enum chart ch, const struct cmp_row *row)
{
    put_field(f, row->name);
    if (ch == CH_P99)
        fprintf(f, " (%s)", cmp_lat_name(row->lat));
    else if (ch == CH_TPUT)
        fprintf(f, " (%s%s)", row->io == CMP_IO_NONE ? "work units" : cmp_io_name(row->io),
                row->io == CMP_IO_BLK ? "" : "/s");
}

static void put_row(FILE *f, enum chart ch, const struct cmp *c, const struct cmp_row *row)
{
    double best = NAN;
    for (int r = 0; ch == CH_TPUT && r < c->nruns; r++) {
        double v = tput(row, &row->cell[r]);
        if (!isnan(v) && (isnan(best) || v > best))
            best = v;
    }
    put_label(f, ch, row);
    for (int r = 0; r < c->nruns; r++) {
        const struct cmp_cell *cl = &row->cell[r];
        double v = !cl->members ? NAN : ch == CH_SHARE ? cl->norm : ch == CH_P99 ? cl->p99_ms
                 : best > 0 ? 100 * tput(row, cl) / best : tput(row, cl);
        if (isnan(v))
            fputs(",NaN", f);
        else
            fprintf(f, ",%.6g", v);
    }
    fputc('\n', f);
}

/* dir/NAME.csv: label, then a column per run headed by its label. */
static int write_data(const struct cmp *c, enum chart ch, const char *dir, int rows)
{
    char *text = NULL, label[256], name[64];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return -ENOMEM;
    fputs(c->by_group ? "group" : "domain", f);
    for (int r = 0; r < c->nruns; r++) {
        cmp_run_label(c, r, label, sizeof(label));
        fputc(',', f);
        put_field(f, label);
    }
    fputc('\n', f);
    for (int i = 0; i < rows; i++)
        put_row(f, ch, c, &c->rows[i]);
    if (fclose(f) != 0) {
        free(text);
        return -ENOMEM;
    }
    snprintf(name, sizeof(name), "%s.csv", chart_names[ch]);
    int err = results_write_atomic(dir, name, text, len);
    free(text);
    return err;
}

/* ---- running gnuplot ------------------------------------------------------------ */

/* gnuplot -e VARS TEMPLATE; 0 if it exited 0. If it ran and failed, out
 * says how, with its last non-empty line. */
static int run_gnuplot(const char *vars, const char *tmpl, char *out, size_t outlen)
{
    int st;
    int err = gp_run(vars, tmpl, out, outlen, &st);
    if (!err || !st)            /* fine, or not run: out as gp_run left it */
        return err;
    char reason[512], stbuf[48];
    snprintf(reason, sizeof(reason), "%s", gp_last_line(out));
    gp_wait_text(st, stbuf, sizeof(stbuf));
    if (WIFSIGNALED(st))
        snprintf(out, outlen, "gnuplot %s", stbuf);
    else
        snprintf(out, outlen, "gnuplot failed (%s)%s%s", stbuf, reason[0] ? ": " : "", reason);
    return err;
}

/* dir/NAME.ext with gnuplot's terminal term; why gets the reason. */
static int draw(const char *dir, const char *tdir, const char *name, const char *vars,
                const char *term, const char *ext, char *why, size_t whylen)
{
    char final[PATH_MAX], tmp[PATH_MAX + 8], tmpl[PATH_MAX], gpout[GP_OUT_MAX];
    if (snprintf(final, sizeof(final), "%s/%s.%s", dir, name, ext) >= (int)sizeof(final)
        || snprintf(tmpl, sizeof(tmpl), "%s/%s.gp", tdir, name) >= (int)sizeof(tmpl))
        return -ENAMETOOLONG;
    snprintf(tmp, sizeof(tmp), "%s.tmp", final);
    char *all = gp_image_vars(vars, term, tmp);
    if (!all)
        return -ENOMEM;
    int err = run_gnuplot(all, tmpl, gpout, sizeof(gpout));
    free(all);
    if (!err && (err = gp_commit_image(tmp, final)) != 0)
        snprintf(gpout, sizeof(gpout), "%s%s", strerror(-err),
                 err == -EIO ? " (gnuplot wrote an empty image)" : "");
    if (err) {
        unlink(tmp);
        snprintf(why, whylen, "%s.%s: %s", name, ext, gpout);
    }
    return err;
}

/* SVG, then PNG with cairo or, on a gnuplot built without it, plain png. */
static int draw_both(const char *dir, const char *tdir, const char *name, const char *vars,
                     char *why, size_t whylen)
{
    int err = draw(dir, tdir, name, vars, "svg", "svg", why, whylen);
    if (err)
        return err;
    char ignored[16];
    if (draw(dir, tdir, name, vars, "pngcairo", "png", ignored, sizeof(ignored)) == 0)
        return 0;
    return draw(dir, tdir, name, vars, "png", "png", why, whylen);
}

static void chart_title(const struct cmp *c, enum chart ch, int rows, char *buf, size_t n)
{
    static const char *const what[CH_N] = {
        "Normalized CPU share (received / entitled)", "p99 latency (ms)",
        "Throughput (% of the highest run)",
    };
    const char *unit = c->by_group ? "groups" : "domains";
    if (rows < c->nrows)
        snprintf(buf, n, "%s: %s (the first %d of %d %s)", what[ch], c->runs[0].scenario, rows,
                 c->nrows, unit);
    else
        snprintf(buf, n, "%s: %s", what[ch], c->runs[0].scenario);
}

int cmp_charts(const struct cmp *c, const char *dir, FILE *log, char *why, size_t whylen)
{
    char tdir[PATH_MAX], title[512], nruns[16];
    if (why && whylen)
        why[0] = '\0';
    if (!gp_available()) {
        if (log)
            fprintf(log, "graphs skipped: gnuplot not found (tools/deps installs gnuplot-nox)\n");
        return 1;
    }
    if (gp_template_dir("compare-share.gp", tdir, sizeof(tdir)) < 0) {
        snprintf(why, whylen, "gnuplot templates (tools/gnuplot/compare-*.gp) not found; "
                 "set FV_GNUPLOT_DIR");
        return -ENOENT;
    }
    int rows = c->nrows < CMP_CHART_MAX_ROWS ? c->nrows : CMP_CHART_MAX_ROWS;
    snprintf(nruns, sizeof(nruns), "%d", c->nruns);
    for (int ch = 0; ch < CH_N; ch++) {
        int err = write_data(c, ch, dir, rows);
        if (err) {
            snprintf(why, whylen, "%s/%s.csv: %s", dir, chart_names[ch], strerror(-err));
            return err;
        }
        char *vars = NULL, data[PATH_MAX];
        size_t len;
        snprintf(data, sizeof(data), "%s/%s.csv", dir, chart_names[ch]);
        chart_title(c, ch, rows, title, sizeof(title));
        FILE *m = open_memstream(&vars, &len);
        if (!m)
            return -ENOMEM;
        gp_put(m, "data", data);
        gp_put(m, "nruns", nruns);
        gp_put(m, "title_txt", title);
        gp_put(m, "nodata", rows ? "0" : "1");
        err = fclose(m) == 0 ? draw_both(dir, tdir, chart_names[ch], vars, why, whylen) : -ENOMEM;
        free(vars);
        if (err) {
            if (log)
                fprintf(log, "graphs: %s\n", why);
            return err;
        }
    }
    return 0;
}
