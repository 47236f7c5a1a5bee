/* plot.c — draw a results directory's graphs with gnuplot (results_plot).
 *
 * The C side only decides *what* to draw — which domains (at most
 * PLOT_MAX_DOMAINS, a legend beyond that is unreadable), the titles, the
 * terminal — and hands it to the templates in tools/gnuplot/ as gnuplot
 * variables (`-e "var='...'"`). How it looks lives in the templates, where
 * gnuplot users expect to tweak it.
 *
 * gnuplot is run directly (posix_spawnp, no shell: paths are never
 * re-parsed), with its stderr captured and shown only when it fails, since
 * it warns about harmless things (an empty series) on success too. Each
 * image is written to NAME.tmp and renamed, as every other results file.
 */
#include "results.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define PLOT_MAX_DOMAINS 12
#define GP_ERR_MAX 4096

/* A domain seen in a CSV file and its ranking key. */
struct pdom {
    char name[SCN_NAME_MAX];
    double key;
};

struct pdoms {
    struct pdom *v;
    int n, cap;
    int hint;               /* index after the last match (see pdoms_get) */
};

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

/* ---- reading the CSV files ---------------------------------------------------- */

/* Rows come grouped by interval in domain order, so the domain after the
 * last one matched is almost always the next one: O(1) per row without a
 * hash table, linear search only on a miss. */
static struct pdom *pdoms_get(struct pdoms *ds, const char *name)
{
    for (int k = 0; k < ds->n; k++) {
        int i = (ds->hint + k) % ds->n;
        if (strcmp(ds->v[i].name, name) == 0) {
            ds->hint = (i + 1) % ds->n;
            return &ds->v[i];
        }
    }
    if (ds->n == ds->cap) {
        int cap = ds->cap ? ds->cap * 2 : 64;
        struct pdom *v = realloc(ds->v, (size_t)cap * sizeof(*v));
        if (!v)
            return NULL;
        ds->v = v;
        ds->cap = cap;
    }
    struct pdom *d = &ds->v[ds->n++];
    snprintf(d->name, sizeof(d->name), "%s", name);
    d->key = 0;
    ds->hint = 0;
    return d;
}

/* Split a CSV line (no quoting: see results.c) into at most max fields. */
static int split_csv(char *line, char **f, int max)
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

/* For each domain (column name_col) of a CSV file: key = the sum, or the
 * max, of column val_col. Returns 0 or -errno (-ENOENT: no such file). */
static int read_domains(const char *path, int name_col, int val_col, bool use_max,
                        struct pdoms *ds)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    char *line = NULL, *fld[8];
    size_t cap = 0;
    int err = 0;
    for (long ln = 0; getline(&line, &cap, f) > 0; ln++) {
        if (ln == 0 || split_csv(line, fld, 8) <= val_col)
            continue;               /* the header, or a short (torn) line */
        struct pdom *d = pdoms_get(ds, fld[name_col]);
        if (!d) {
            err = -ENOMEM;
            break;
        }
        double v = strtod(fld[val_col], NULL);
        d->key = use_max ? (v > d->key ? v : d->key) : d->key + v;
    }
    free(line);
    fclose(f);
    return err;
}

static int by_key_desc(const void *a, const void *b)
{
    double x = ((const struct pdom *)a)->key, y = ((const struct pdom *)b)->key;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The gnuplot word list of the domains to draw: all of them, or the
 * PLOT_MAX_DOMAINS with the largest key (in that order, for the legend). */
static char *domain_words(struct pdoms *ds)
{
    if (ds->n > PLOT_MAX_DOMAINS)
        qsort(ds->v, (size_t)ds->n, sizeof(ds->v[0]), by_key_desc);
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

/* Wait for gnuplot while collecting its stderr (kept to GP_ERR_MAX). */
static int collect(pid_t pid, int fd, char *err, size_t errlen)
{
    size_t used = 0;
    char tmp[1024];
    for (;;) {
        ssize_t r = read(fd, tmp, sizeof(tmp));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t take = (size_t)r < errlen - 1 - used ? (size_t)r : errlen - 1 - used;
        memcpy(err + used, tmp, take);
        used += take;
    }
    err[used] = '\0';
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/* gnuplot -e VARS TEMPLATE; 0 if it exited 0, stderr in err. */
static int run_gnuplot(const char *vars, const char *tmpl, char *err, size_t errlen)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    char *argv[] = { "gnuplot", "-e", (char *)vars, (char *)tmpl, NULL };
    pid_t pid;
    int rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        snprintf(err, errlen, "cannot run gnuplot: %s", strerror(rc));
        return -rc;
    }
    rc = collect(pid, p[0], err, errlen);
    close(p[0]);
    return rc;
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

struct graph {
    const char *dir;            /* the results directory */
    const char *tmpl_dir;
    const char *name;           /* "cpu-share": template NAME.gp, plots/NAME.{svg,png} */
    char *vars;                 /* data, domains, title_txt, nodata */
    FILE *log;
};

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

/* Draw g with terminal `term` into plots/NAME.ext; quiet on failure when
 * `quiet` (a fallback will be tried). */
static int draw(const struct graph *g, const char *term, const char *ext, bool quiet)
{
    char final[PATH_MAX], tmp[PATH_MAX + 8], tmpl[PATH_MAX], gperr[GP_ERR_MAX];
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
    int err = run_gnuplot(vars, tmpl, gperr, sizeof(gperr));
    free(vars);
    if (!err)
        err = commit_image(tmp, final);
    if (err) {
        unlink(tmp);
        if (!quiet)
            plog(g->log, "graphs: %s: gnuplot failed\n%s", final, gperr);
    }
    return err;
}

static int draw_both(const struct graph *g)
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
static int render(struct graph *g, const char *data, struct pdoms *ds, const char *title)
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

/* One graph from one CSV: domains keyed by column val_col (sum or max). */
static int plot_csv(struct graph *g, const char *csv, int name_col, int val_col, bool use_max,
                    const char *title, const char *which)
{
    char data[PATH_MAX], full[1024];
    if (snprintf(data, sizeof(data), "%s/%s", g->dir, csv) >= (int)sizeof(data))
        return -ENAMETOOLONG;
    struct pdoms ds = { 0 };
    int err = read_domains(data, name_col, val_col, use_max, &ds);
    if (err == -ENOENT && use_max)
        err = 0;                    /* no latency file (interrupted run): an empty plot */
    if (err) {
        plog(g->log, "graphs: %s: %s\n", data, strerror(-err));
        free(ds.v);
        return err;
    }
    if (ds.n > PLOT_MAX_DOMAINS)
        snprintf(full, sizeof(full), "%s (the %d of %d domains with the %s)", title,
                 PLOT_MAX_DOMAINS, ds.n, which);
    else
        snprintf(full, sizeof(full), "%s%s", title, ds.n ? "" : " - no samples");
    err = render(g, data, &ds, full);
    free(ds.v);
    return err;
}

int results_plot(const char *dir, FILE *log)
{
    if (!gnuplot_on_path()) {
        plog(log, "graphs skipped: gnuplot not found (tools/deps installs gnuplot-nox)\n");
        return 1;
    }
    char tdir[PATH_MAX], plots[PATH_MAX], label[300], title[400];
    if (find_templates(tdir, sizeof(tdir)) < 0) {
        plog(log, "graphs skipped: gnuplot templates (tools/gnuplot/*.gp) not found;"
                  " set FV_GNUPLOT_DIR\n");
        return -ENOENT;
    }
    if (snprintf(plots, sizeof(plots), "%s/plots", dir) >= (int)sizeof(plots))
        return -ENAMETOOLONG;
    if (mkdir(plots, 0777) < 0 && errno != EEXIST) {
        int err = -errno;
        plog(log, "graphs: %s: %s\n", plots, strerror(-err));
        return err;
    }
    run_label(dir, label, sizeof(label));
    struct graph g = { .dir = dir, .tmpl_dir = tdir, .log = log, .name = "cpu-share" };
    snprintf(title, sizeof(title), "CPU share over time%s", label);
    int err = plot_csv(&g, "timeline.csv", 1, 3, false, title, "largest total share");
    g.name = "wakeup-latency-cdf";
    snprintf(title, sizeof(title), "Wake-up latency CDF%s", label);
    int e2 = plot_csv(&g, "wakeup-latency.csv", 0, 1, true, title, "highest max latency");
    return err ? err : e2;
}
