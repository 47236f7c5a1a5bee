/* plot.c — draw a results directory's graphs with gnuplot (results_plot).
 *
 * The C side decides *what* to draw — which series (domains, or groups of
 * replicas as their median and p5-p95; at most PLOT_MAX_DOMAINS, a legend
 * beyond that is unreadable), their data (aggregated into one small file
 * per graph: plot_io.c, plot_cdf.c, plot_share.c), the titles, the
 * terminal — and hands it to the templates in tools/gnuplot/ as gnuplot
 * variables (`var='...'`). How it looks lives in the templates, where
 * gnuplot users expect to tweak it.
 *
 * gnuplot is run directly (gnuplot.c: posix_spawnp, no shell), once for
 * every graph, with its output captured (stderr and stdout: a template's
 * `print` and some of gnuplot's own reasons go to stdout) and shown only
 * when it fails, since it warns about harmless things (an empty series)
 * on success too. When that one process fails,
 * each graph is drawn again by a gnuplot of its own, so that the others
 * are drawn and results_plot can say which failed, in gnuplot's words.
 * Each image is written to NAME.tmp and renamed, as every other results
 * file.
 */
#include "results.h"
#include "gnuplot.h"
#include "plot_priv.h"
#include "results_priv.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- gnuplot's reason ---------------------------------------------------------- */

/* Does this line of gnuplot's output say where an error is? gnuplot writes
 * `"FILE" line 63: MESSAGE` or `line 0: MESSAGE`. */
static bool gp_located(const char *line, size_t len)
{
    for (const char *p = line; (p = memmem(p, len - (size_t)(p - line), "line ", 5)); p += 5) {
        const char *q = p + 5;
        if (q >= line + len || *q < '0' || *q > '9')
            continue;
        while (q < line + len && *q >= '0' && *q <= '9')
            q++;
        if (q < line + len && *q == ':')
            return true;
    }
    return false;
}

/* gnuplot's own reason, on one line: from the last line that locates an
 * error to the end (`line 0: cannot open file; output not changed; system
 * error: ...`), else its last non-empty line (a template's own `print`
 * before `exit status 1`); the lines joined with "; ". */
static void gp_reason(const char *out, char *buf, size_t n)
{
    const char *from = NULL, *last = NULL;
    for (const char *l = out; *l; ) {
        size_t len = strcspn(l, "\n");
        if (len && strspn(l, " \t\r^") < len) {
            last = l;
            if (gp_located(l, len))
                from = l;
        }
        l += len + (l[len] == '\n');
    }
    if (!from)
        from = last;
    size_t used = 0;
    buf[0] = '\0';
    for (const char *l = from; l && *l && used + 1 < n; ) {
        size_t len = strcspn(l, "\n");
        size_t lead = strspn(l, " \t");
        while (len > lead && (l[len - 1] == '\r' || l[len - 1] == ' '))
            len--;
        if (len > lead && strspn(l, " \t\r^") < len) {
            int w = snprintf(buf + used, n - used, "%s%.*s", used ? "; " : "",
                             (int)(len - lead), l + lead);
            used = w < 0 ? used : used + (size_t)w < n ? used + (size_t)w : n - 1;
        }
        l += strcspn(l, "\n");
        l += *l == '\n';
    }
}

/* ---- one graph, in both formats ------------------------------------------------ */

/* Set once pngcairo failed where png worked (gnuplot built without cairo),
 * so later graphs go straight to png. */
static bool pngcairo_missing;

__attribute__((format(printf, 2, 3)))
static void plog(FILE *log, const char *fmt, ...)
{
    if (!log)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log, fmt, ap);
    va_end(ap);
}

/* Say in g->why what failed (once per graph: its first failure). */
__attribute__((format(printf, 2, 3)))
static void graph_failed(struct graph *g, const char *fmt, ...)
{
    if (!g->why || !g->whylen || g->failed)
        return;
    g->failed = true;
    size_t used = strlen(g->why);
    if (used && used + 2 < g->whylen) {
        memcpy(g->why + used, "; ", 3);
        used += 2;
    }
    if (used + 1 >= g->whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->why + used, g->whylen - used, fmt, ap);
    va_end(ap);
}

int plot_data_failed(struct graph *g, const char *path, const char *shown, int err)
{
    plog(g->log, "graphs: %s: %s\n", path, strerror(-err));
    graph_failed(g, "%s: %s", shown, strerror(-err));
    return err;
}

void plot_graph_next(struct graph *g, const char *name)
{
    g->name = name;
    g->failed = false;
}

/* plots/NAME.ext (final) and plots/NAME.ext.tmp (what gnuplot writes). */
static int image_paths(const struct graph *g, const char *name, const char *ext, char *final,
                       char *tmp)
{
    if (snprintf(final, PATH_MAX, "%s/plots/%s.%s", g->dir, name, ext) >= PATH_MAX)
        return -ENAMETOOLONG;
    snprintf(tmp, PATH_MAX + 8, "%s.tmp", final);
    return 0;
}

/* Draw job j with terminal `term` into plots/NAME.ext, in a gnuplot of its
 * own; quiet on failure when `quiet` (a fallback will be tried). */
static int draw(struct graph *g, const struct plot_job *j, const char *term, const char *ext,
                bool quiet)
{
    char final[PATH_MAX], tmp[PATH_MAX + 8], tmpl[PATH_MAX], gpout[GP_OUT_MAX];
    if (image_paths(g, j->name, ext, final, tmp) < 0
        || snprintf(tmpl, sizeof(tmpl), "%s/%s.gp", g->tmpl_dir, j->name) >= (int)sizeof(tmpl))
        return -ENAMETOOLONG;
    char *vars = gp_image_vars(j->vars, term, tmp);
    if (!vars)
        return -ENOMEM;
    int st;
    int err = gp_run(vars, tmpl, gpout, sizeof(gpout), &st);
    free(vars);
    bool gp_ok = !err;
    if (!err)
        err = gp_commit_image(tmp, final);
    if (err) {
        unlink(tmp);
        if (quiet)
            return err;
        char reason[1024], stbuf[48];
        if (gp_ok) {
            plog(g->log, "graphs: %s: %s\n", final, strerror(-err));
            graph_failed(g, "%s.%s: %s%s", j->name, ext, strerror(-err),
                         err == -EIO ? " (gnuplot wrote an empty image)" : "");
        } else if (err != -EIO) {
            plog(g->log, "graphs: %s: %s\n", final, gpout);
            graph_failed(g, "%s.%s: %s", j->name, ext, gpout);
        } else {
            plog(g->log, "graphs: %s: gnuplot failed (%s)\n%s", final,
                 gp_wait_text(st, stbuf, sizeof(stbuf)), gpout);
            gp_reason(gpout, reason, sizeof(reason));
            graph_failed(g, "%s.%s: gnuplot failed (%s)%s%s", j->name, ext, stbuf,
                         reason[0] ? ": " : "", reason);
        }
    }
    return err;
}

static int draw_both(struct graph *g, const struct plot_job *j)
{
    int err = draw(g, j, "svg", "svg", false);
    int e2 = -1;
    if (!pngcairo_missing)
        e2 = draw(g, j, "pngcairo", "png", true);
    if (e2) {
        e2 = draw(g, j, "png", "png", false);
        if (!e2)
            pngcairo_missing = true;
    }
    return err ? err : e2;
}

/* ---- every graph in one gnuplot ------------------------------------------------ */

/* A gnuplot process costs tens of milliseconds before it draws anything
 * (more with cairo's fonts), and a run has up to 14 images: they are all
 * drawn by one. Each template starts with `reset`, so nothing one sets
 * leaks into the next, and is given every variable it reads. The png
 * terminal is chosen in gnuplot from GPVAL_TERMINALS (pngcairo if built
 * in). Nothing is renamed into place unless every image was written. */
static char *batch_script(struct graph *g)
{
    char *s = NULL;
    size_t len;
    FILE *m = open_memstream(&s, &len);
    if (!m)
        return NULL;
    fputs("fv_png = strstrt(GPVAL_TERMINALS, 'pngcairo') > 0 ? 'pngcairo' : 'png'; ", m);
    for (int i = 0; i < g->njobs; i++) {
        const struct plot_job *j = &g->jobs[i];
        static const char *const ext[] = { "svg", "png" };
        char final[PATH_MAX], tmp[PATH_MAX + 8], tmpl[PATH_MAX];
        if (snprintf(tmpl, sizeof(tmpl), "%s/%s.gp", g->tmpl_dir, j->name) >= (int)sizeof(tmpl))
            break;
        for (int e = 0; e < 2; e++) {
            if (image_paths(g, j->name, ext[e], final, tmp) < 0)
                break;
            fputs(j->vars, m);
            if (e == 0)
                plot_var(m, "term", "svg");
            else
                fputs("term = fv_png; ", m);
            plot_var(m, "out", tmp);
            fputs("load '", m);
            for (const char *p = tmpl; *p; p++)
                fputs(*p == '\'' ? "''" : (char[2]){ *p, 0 }, m);
            fputs("'; ", m);
        }
    }
    fputs("unset output\n", m);
    if (fclose(m) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* Every image of the batch written (non-empty)? Renames them if so,
 * removes them if not. */
static bool batch_commit(struct graph *g, bool ok)
{
    static const char *const ext[] = { "svg", "png" };
    char final[PATH_MAX], tmp[PATH_MAX + 8];
    struct stat st;
    for (int i = 0; ok && i < g->njobs; i++)
        for (int e = 0; ok && e < 2; e++)
            ok = image_paths(g, g->jobs[i].name, ext[e], final, tmp) == 0
                 && stat(tmp, &st) == 0 && st.st_size > 0;
    for (int i = 0; i < g->njobs; i++)
        for (int e = 0; e < 2; e++) {
            if (image_paths(g, g->jobs[i].name, ext[e], final, tmp) < 0)
                continue;
            if (!ok || gp_commit_image(tmp, final) < 0) {
                ok = false;
                unlink(tmp);
            }
        }
    return ok;
}

/* The MAX_ARG_STRLEN of Linux, with room to spare. */
#define BATCH_MAX (96 * 1024)

int plot_draw_all(struct graph *g)
{
    if (!g->njobs)
        return 0;
    char *script = batch_script(g);
    if (script && strlen(script) < BATCH_MAX) {
        char gpout[GP_OUT_MAX];
        int st;
        int err = gp_run(script, NULL, gpout, sizeof(gpout), &st);
        free(script);
        if (batch_commit(g, err == 0))
            return 0;
        plog(g->log, "graphs: gnuplot failed on the batch; drawing each graph alone\n");
    } else {
        free(script);
    }
    /* One gnuplot per graph and format, to say which failed. */
    int err = 0;
    for (int i = 0; i < g->njobs; i++) {
        plot_graph_next(g, g->jobs[i].name);
        int e = draw_both(g, &g->jobs[i]);
        if (!err)
            err = e;
    }
    return err;
}

void plot_var(FILE *m, const char *name, const char *val)
{
    gp_put(m, name, val);
}

int plot_queue(struct graph *g, const char *vars)
{
    if (g->njobs == g->capjobs) {
        int cap = g->capjobs ? 2 * g->capjobs : 8;
        struct plot_job *j = realloc(g->jobs, (size_t)cap * sizeof(*j));
        if (!j)
            return -ENOMEM;
        g->jobs = j;
        g->capjobs = cap;
    }
    struct plot_job *j = &g->jobs[g->njobs];
    snprintf(j->name, sizeof(j->name), "%s", g->name);
    if (!(j->vars = strdup(vars)))
        return -ENOMEM;
    g->njobs++;
    return 0;
}

void plot_jobs_free(struct graph *g)
{
    for (int i = 0; i < g->njobs; i++)
        free(g->jobs[i].vars);
    free(g->jobs);
    g->jobs = NULL;
    g->njobs = g->capjobs = 0;
}

/* ---- the graphs ------------------------------------------------------------------ */

/* "io-starvation (credit, sim)" from summary.json, for the titles; empty if
 * there is none (an interrupted run without summary). */
static void run_label(json_t *j, char *buf, size_t n)
{
    buf[0] = '\0';
    const char *scn = json_string_value(json_object_get(j, "scenario"));
    const char *pol = json_string_value(json_object_get(j, "policy"));
    const char *eng = json_string_value(json_object_get(j, "engine"));
    if (scn && pol && eng)
        snprintf(buf, n, ": %s (%s, %s)", scn, pol, eng);
}

/* Find the templates for g; 0, or -errno said in g->why. */
static int plot_setup(struct graph *g, char *tdir, size_t n)
{
    if (gp_template_dir("cpu-share.gp", tdir, n) < 0) {
        plog(g->log, "graphs skipped: gnuplot templates (tools/gnuplot/*.gp) not found;"
                     " set FV_GNUPLOT_DIR\n");
        graph_failed(g, "gnuplot templates (tools/gnuplot/*.gp) not found; set FV_GNUPLOT_DIR");
        return -ENOENT;
    }
    return 0;
}

/* Make g->dir/plots; 0, or -errno said in g->why. */
static int plots_dir(struct graph *g)
{
    char plots[PATH_MAX];
    if (snprintf(plots, sizeof(plots), "%s/plots", g->dir) >= (int)sizeof(plots)) {
        graph_failed(g, "%s/plots: %s", g->dir, strerror(ENAMETOOLONG));
        return -ENAMETOOLONG;
    }
    if (mkdir(plots, 0777) < 0 && errno != EEXIST) {
        int err = -errno;
        plog(g->log, "graphs: %s: %s\n", plots, strerror(-err));
        graph_failed(g, "%s: %s", plots, strerror(-err));
        return err;
    }
    return 0;
}

/* Read the results files and queue every graph; the first -errno. */
static int plot_queue_all(struct graph *g, json_t *summary, const char *label)
{
    struct plot_groups pg = { 0 };
    struct plot_starve st = { 0 };
    struct plot_tl_info info = { 0 };
    char title[400];
    int err = plot_groups_from_summary(&pg, summary);
    if (err) {
        plot_groups_free(&pg);
        return plot_data_failed(g, "summary.json", "summary.json", err);
    }
    int e = plot_starve_read(g->dir, &st);
    if (e)      /* said, and the graphs drawn without marks */
        err = plot_data_failed(g, "starvation.csv", "starvation.csv", e);
    e = plot_timeline(g, &pg, &st, label, &info);
    err = err ? err : e;
    plot_graph_next(g, "wakeup-latency-cdf");
    snprintf(title, sizeof(title), "Wake-up latency CDF%s", label);
    e = plot_cdf(g, &pg, "wakeup-latency.csv", NULL, title);
    err = err ? err : e;
    if (info.net) {
        plot_graph_next(g, "net-rtt-cdf");
        snprintf(title, sizeof(title), "Round-trip latency CDF%s", label);
        e = plot_cdf(g, &pg, "app-latency.csv", &info.net_traffic, title);
        err = err ? err : e;
    }
    if (info.blk) {
        plot_graph_next(g, "blk-latency-cdf");
        snprintf(title, sizeof(title), "Block request latency CDF%s", label);
        e = plot_cdf(g, &pg, "blk-latency.csv", NULL, title);
        err = err ? err : e;
    }
    plot_graph_next(g, "share");
    e = plot_share(g, &pg, summary, label);
    err = err ? err : e;
    results_doms_free(&info.net_traffic);
    plot_starve_free(&st);
    plot_groups_free(&pg);
    return err;
}

int plot_queue_results(struct graph *g)
{
    char label[300], p[PATH_MAX];
    int err = plots_dir(g);
    if (err)
        return err;
    json_t *summary = NULL;
    if (snprintf(p, sizeof(p), "%s/summary.json", g->dir) < (int)sizeof(p))
        summary = json_load_file(p, 0, NULL);       /* none: an interrupted run */
    run_label(summary, label, sizeof(label));
    err = plot_queue_all(g, summary, label);
    json_decref(summary);
    return err;
}

int results_plot(const char *dir, FILE *log, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    if (!gp_available()) {
        plog(log, "graphs skipped: gnuplot not found (tools/deps installs gnuplot-nox)\n");
        return 1;
    }
    char tdir[PATH_MAX];
    struct graph g = { .dir = dir, .tmpl_dir = tdir, .log = log, .name = "cpu-share",
                       .why = why, .whylen = whylen };
    int err = plot_setup(&g, tdir, sizeof(tdir));
    if (err)
        return err;
    err = plot_queue_results(&g);
    int e2 = plot_draw_all(&g);
    plot_jobs_free(&g);
    return err ? err : e2;
}
