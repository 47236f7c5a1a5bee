/* plot.c — draw a results directory's graphs with gnuplot (results_plot).
 *
 * The C side only decides *what* to draw — which domains (at most
 * PLOT_MAX_DOMAINS, a legend beyond that is unreadable), the titles, the
 * terminal — and hands it to the templates in tools/gnuplot/ as gnuplot
 * variables (`-e "var='...'"`). How it looks lives in the templates, where
 * gnuplot users expect to tweak it.
 *
 * gnuplot is run directly (posix_spawnp, no shell: paths are never
 * re-parsed), with its output captured (stderr and stdout: a template's
 * `print` and some of gnuplot's own reasons go to stdout) and shown only
 * when it fails, since it warns about harmless things (an empty series) on
 * success too; results_plot also says which graph failed, in gnuplot's
 * words. Each image is written to NAME.tmp and renamed, as every other
 * results file.
 *
 * The network and block graphs are plot_io.c; reading the CSV files back
 * is results_csv.c.
 */
#include "results.h"
#include "plot_priv.h"
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

extern char **environ;

#define GP_ERR_MAX 4096

/* ---- finding gnuplot and the templates ------------------------------------- */

static bool gnuplot_on_path(void)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        char buf[PATH_MAX];
        /* An empty PATH element means the current directory. */
        if (snprintf(buf, sizeof(buf), "%.*s/gnuplot", (int)len, len ? path : ".") < (int)sizeof(buf)
            && access(buf, X_OK) == 0)
            return true;
        path += len + (path[len] == ':');
    }
    return false;
}

static bool has_templates(const char *dir)
{
    char p[PATH_MAX];
    return snprintf(p, sizeof(p), "%s/cpu-share.gp", dir) < (int)sizeof(p) && access(p, R_OK) == 0;
}

/* $FV_GNUPLOT_DIR, then next to the executable (build/fairvisor ->
 * tools/gnuplot of the tree it was built in, or an installed tree), then the
 * source tree the library was compiled from. */
static int find_templates(char *out, size_t n)
{
    const char *env = getenv("FV_GNUPLOT_DIR");
    if (env && *env && has_templates(env))
        return snprintf(out, n, "%s", env) < (int)n ? 0 : -ENAMETOOLONG;
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len > 0) {
        exe[len] = '\0';
        const char *dir = dirname(exe);
        const char *rel[] = { "../tools/gnuplot", "tools/gnuplot" };
        for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++)
            if (snprintf(out, n, "%s/%s", dir, rel[i]) < (int)n && has_templates(out))
                return 0;
    }
#ifdef FV_SOURCE_DIR
    if (snprintf(out, n, "%s/tools/gnuplot", FV_SOURCE_DIR) < (int)n && has_templates(out))
        return 0;
#endif
    return -ENOENT;
}

/* The gnuplot word list of the domains to draw: all of them, or the
 * PLOT_MAX_DOMAINS with the largest key (in that order, for the legend). */
static char *domain_words(struct results_doms *ds)
{
    if (ds->n > PLOT_MAX_DOMAINS)
        results_rank_domains(ds);
    int n = ds->n < PLOT_MAX_DOMAINS ? ds->n : PLOT_MAX_DOMAINS;
    char *s = calloc((size_t)n + 1, SCN_NAME_MAX + 1);
    if (!s)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, ds->v[i].name);
    }
    return s;
}

/* ---- running gnuplot ------------------------------------------------------------ */

/* name='value'; for gnuplot: in a single-quoted gnuplot string, '' is a
 * quote, and a newline would end the -e statement. */
static void gp_put(FILE *m, const char *name, const char *val)
{
    fprintf(m, "%s='", name);
    for (const char *p = val; *p; p++) {
        if (*p == '\n' || *p == '\r')
            fputc(' ', m);
        else if (*p == '\'')
            fputs("''", m);
        else
            fputc(*p, m);
    }
    fputs("'; ", m);
}

/* Wait for gnuplot while collecting its output: the last outlen - 1 bytes,
 * where its error is (after any warnings); *status = its wait status.
 * 0 if it exited 0. */
static int collect(pid_t pid, int fd, char *out, size_t outlen, int *status)
{
    size_t used = 0, room = outlen - 1;
    char tmp[1024];
    for (;;) {
        ssize_t r = read(fd, tmp, sizeof(tmp));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t take = (size_t)r < room ? (size_t)r : room;
        if (used + take > room) {           /* drop the oldest bytes */
            memmove(out, out + (used + take - room), room - take);
            used = room - take;
        }
        memcpy(out + used, tmp + ((size_t)r - take), take);
        used += take;
    }
    out[used] = '\0';
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(*status) && WEXITSTATUS(*status) == 0 ? 0 : -EIO;
}

/* gnuplot -e VARS TEMPLATE; 0 if it exited 0. Its stdout and stderr both
 * land in out, in the order written: gnuplot reports most errors on stderr,
 * but a template's `print` (set print "-") and some messages go to stdout. */
static int run_gnuplot(const char *vars, const char *tmpl, char *out, size_t outlen, int *status)
{
    int p[2];
    *status = 0;
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    char *argv[] = { "gnuplot", "-e", (char *)vars, (char *)tmpl, NULL };
    pid_t pid;
    int rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        snprintf(out, outlen, "cannot run gnuplot: %s", strerror(rc));
        return -rc;
    }
    rc = collect(pid, p[0], out, outlen, status);
    close(p[0]);
    return rc;
}

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

/* Make sure the image gnuplot wrote is there and durable, then rename. */
static int commit_image(const char *tmp, const char *final)
{
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int err = fstat(fd, &st) < 0 ? -errno : st.st_size == 0 ? -EIO : 0;
    if (!err && fsync(fd) < 0)
        err = -errno;
    close(fd);
    if (!err && rename(tmp, final) < 0)
        err = -errno;
    return err;
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

/* "exit status 1", "killed by signal 9" */
static const char *wait_text(int st, char *buf, size_t n)
{
    if (WIFSIGNALED(st))
        snprintf(buf, n, "killed by signal %d", WTERMSIG(st));
    else
        snprintf(buf, n, "exit status %d", WEXITSTATUS(st));
    return buf;
}

/* Draw g with terminal `term` into plots/NAME.ext; quiet on failure when
 * `quiet` (a fallback will be tried). */
static int draw(struct graph *g, const char *term, const char *ext, bool quiet)
{
    char final[PATH_MAX], tmp[PATH_MAX + 8], tmpl[PATH_MAX], gpout[GP_ERR_MAX];
    if (snprintf(final, sizeof(final), "%s/plots/%s.%s", g->dir, g->name, ext) >= (int)sizeof(final)
        || snprintf(tmpl, sizeof(tmpl), "%s/%s.gp", g->tmpl_dir, g->name) >= (int)sizeof(tmpl))
        return -ENAMETOOLONG;
    snprintf(tmp, sizeof(tmp), "%s.tmp", final);
    char *vars = NULL;
    size_t len;
    FILE *m = open_memstream(&vars, &len);
    if (!m)
        return -ENOMEM;
    fputs(g->vars, m);
    gp_put(m, "term", term);
    gp_put(m, "out", tmp);
    if (fclose(m) != 0) {
        free(vars);
        return -ENOMEM;
    }
    int st;
    int err = run_gnuplot(vars, tmpl, gpout, sizeof(gpout), &st);
    free(vars);
    bool gp_ok = !err;
    if (!err)
        err = commit_image(tmp, final);
    if (err) {
        unlink(tmp);
        if (quiet)
            return err;
        char reason[1024], stbuf[48];
        if (gp_ok) {
            plog(g->log, "graphs: %s: %s\n", final, strerror(-err));
            graph_failed(g, "%s.%s: %s%s", g->name, ext, strerror(-err),
                         err == -EIO ? " (gnuplot wrote an empty image)" : "");
        } else if (err != -EIO) {
            plog(g->log, "graphs: %s: %s\n", final, gpout);
            graph_failed(g, "%s.%s: %s", g->name, ext, gpout);
        } else {
            plog(g->log, "graphs: %s: gnuplot failed (%s)\n%s", final,
                 wait_text(st, stbuf, sizeof(stbuf)), gpout);
            gp_reason(gpout, reason, sizeof(reason));
            graph_failed(g, "%s.%s: gnuplot failed (%s)%s%s", g->name, ext, stbuf,
                         reason[0] ? ": " : "", reason);
        }
    }
    return err;
}

static int draw_both(struct graph *g)
{
    int err = draw(g, "svg", "svg", false);
    int e2 = -1;
    if (!pngcairo_missing)
        e2 = draw(g, "pngcairo", "png", true);
    if (e2) {
        e2 = draw(g, "png", "png", false);
        if (!e2)
            pngcairo_missing = true;
    }
    return err ? err : e2;
}

/* Build g->vars and draw. */
int plot_render(struct graph *g, const char *data, struct results_doms *ds, const char *title)
{
    char *words = domain_words(ds);
    if (!words)
        return -ENOMEM;
    size_t len;
    FILE *m = open_memstream(&g->vars, &len);
    if (!m) {
        free(words);
        return -ENOMEM;
    }
    gp_put(m, "data", data);
    gp_put(m, "domains", words);
    gp_put(m, "title_txt", title);
    gp_put(m, "nodata", ds->n ? "0" : "1");
    free(words);
    int err = fclose(m) == 0 ? draw_both(g) : -ENOMEM;
    free(g->vars);
    g->vars = NULL;
    return err;
}

/* ---- the graphs ------------------------------------------------------------------ */

/* "io-starvation (credit, sim)" from summary.json, for the titles; empty if
 * there is none (an interrupted run without summary). */
static void run_label(const char *dir, char *buf, size_t n)
{
    char p[PATH_MAX];
    buf[0] = '\0';
    if (snprintf(p, sizeof(p), "%s/summary.json", dir) >= (int)sizeof(p))
        return;
    json_t *j = json_load_file(p, 0, NULL);
    const char *scn = json_string_value(json_object_get(j, "scenario"));
    const char *pol = json_string_value(json_object_get(j, "policy"));
    const char *eng = json_string_value(json_object_get(j, "engine"));
    if (scn && pol && eng)
        snprintf(buf, n, ": %s (%s, %s)", scn, pol, eng);
    json_decref(j);
}

void plot_full_title(char *buf, size_t n, const char *title, int ndoms, const char *which,
                     const char *none)
{
    if (ndoms > PLOT_MAX_DOMAINS)
        snprintf(buf, n, "%s (the %d of %d domains with the %s)", title, PLOT_MAX_DOMAINS,
                 ndoms, which);
    else
        snprintf(buf, n, "%s%s", title, ndoms ? "" : none);
}

/* One graph from one CSV: domains keyed by column val_col (sum or max). */
static int plot_csv(struct graph *g, const char *csv, int name_col, int val_col, bool use_max,
                    const char *title, const char *which)
{
    char data[PATH_MAX], full[1024];
    if (snprintf(data, sizeof(data), "%s/%s", g->dir, csv) >= (int)sizeof(data))
        return -ENAMETOOLONG;
    struct results_doms ds = { 0 };
    int err = 0;
    FILE *f = fopen(data, "re");
    if (f) {
        err = results_read_domains(f, name_col, val_col, use_max, &ds);
        fclose(f);
    } else {
        err = -errno;
    }
    if (err == -ENOENT && use_max)
        err = 0;                    /* no latency file (interrupted run): an empty plot */
    if (err) {
        results_doms_free(&ds);
        return plot_data_failed(g, data, csv, err);
    }
    plot_full_title(full, sizeof(full), title, ds.n, which, " - no samples");
    err = plot_render(g, data, &ds, full);
    results_doms_free(&ds);
    return err;
}

int results_plot(const char *dir, FILE *log, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    if (!gnuplot_on_path()) {
        plog(log, "graphs skipped: gnuplot not found (tools/deps installs gnuplot-nox)\n");
        return 1;
    }
    char tdir[PATH_MAX], plots[PATH_MAX], label[300], title[400];
    struct graph g = { .dir = dir, .tmpl_dir = tdir, .log = log, .name = "cpu-share",
                       .why = why, .whylen = whylen };
    if (find_templates(tdir, sizeof(tdir)) < 0) {
        plog(log, "graphs skipped: gnuplot templates (tools/gnuplot/*.gp) not found;"
                  " set FV_GNUPLOT_DIR\n");
        graph_failed(&g, "gnuplot templates (tools/gnuplot/*.gp) not found; set FV_GNUPLOT_DIR");
        return -ENOENT;
    }
    if (snprintf(plots, sizeof(plots), "%s/plots", dir) >= (int)sizeof(plots)) {
        graph_failed(&g, "%s/plots: %s", dir, strerror(ENAMETOOLONG));
        return -ENAMETOOLONG;
    }
    if (mkdir(plots, 0777) < 0 && errno != EEXIST) {
        int err = -errno;
        plog(log, "graphs: %s: %s\n", plots, strerror(-err));
        graph_failed(&g, "%s: %s", plots, strerror(-err));
        return err;
    }
    run_label(dir, label, sizeof(label));
    snprintf(title, sizeof(title), "CPU share over time%s", label);
    int err = plot_csv(&g, "timeline.csv", 1, 3, false, title, "largest total share");
    plot_graph_next(&g, "wakeup-latency-cdf");
    snprintf(title, sizeof(title), "Wake-up latency CDF%s", label);
    int e2 = plot_csv(&g, "wakeup-latency.csv", 0, 1, true, title, "highest max latency");
    int e3 = plot_io(&g, label);
    return err ? err : e2 ? e2 : e3;
}
