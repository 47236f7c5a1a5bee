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
 * The network graphs are drawn only when timeline.csv has traffic (a
 * non-zero net_* column; older files have none). Rates need each row's
 * interval, which starts at the previous distinct t_s (every sample writes
 * all domains at one t_s; the run starts at 0): computed here, into
 * plots/net-throughput.csv, which gnuplot only draws.
 *
 * Reading the CSV files back is results_csv.c.
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

extern char **environ;

#define PLOT_MAX_DOMAINS 12
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

struct graph {
    const char *dir;            /* the results directory */
    const char *tmpl_dir;
    const char *name;           /* "cpu-share": template NAME.gp, plots/NAME.{svg,png} */
    char *vars;                 /* data, domains, title_txt, nodata */
    FILE *log;
    char *why;                  /* results_plot's account, or NULL */
    size_t whylen;
    bool failed;                /* this graph's failure is in why already */
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

/* A data file g cannot be drawn from (`shown`: its name in `why`). */
static int data_failed(struct graph *g, const char *path, const char *shown, int err)
{
    plog(g->log, "graphs: %s: %s\n", path, strerror(-err));
    graph_failed(g, "%s: %s", shown, strerror(-err));
    return err;
}

/* Start on the graph `name`. */
static void graph_next(struct graph *g, const char *name)
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
static int render(struct graph *g, const char *data, struct results_doms *ds, const char *title)
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

/* title + which domains are drawn, or that there is nothing to draw. */
static void full_title(char *buf, size_t n, const char *title, int ndoms, const char *which,
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
        return data_failed(g, data, csv, err);
    }
    full_title(full, sizeof(full), title, ds.n, which, " - no samples");
    err = render(g, data, &ds, full);
    results_doms_free(&ds);
    return err;
}

/* ---- the network graphs ------------------------------------------------------------ */

/* timeline.csv's columns (results.c TIMELINE_HEADER). */
enum { TL_T, TL_DOM, TL_NET_TX_PKTS = 8, TL_NET_RX_PKTS, TL_NET_TX_BYTES, TL_NET_RX_BYTES,
       TL_NET_DROPS, TL_COLS };

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

/* Read timeline.csv's net columns: *any if some net_* value is non-zero;
 * ds gets the domains that sent or received bytes, keyed by their total
 * bytes. Rows without the net columns (an older file) count for nothing. */
static int net_scan(FILE *f, struct results_doms *ds, bool *any)
{
    char *line = NULL, *fld[RESULTS_CSV_MAX_COLS], name[SCN_NAME_MAX];
    size_t cap = 0;
    int err = 0;
    *any = false;
    for (long ln = 0; !err && getline(&line, &cap, f) > 0; ln++) {
        if (ln == 0 || results_split_csv(line, fld, RESULTS_CSV_MAX_COLS) < TL_COLS)
            continue;
        double bytes = strtod(fld[TL_NET_TX_BYTES], NULL) + strtod(fld[TL_NET_RX_BYTES], NULL);
        for (int c = TL_NET_TX_PKTS; c <= TL_NET_DROPS; c++)
            *any |= strtod(fld[c], NULL) != 0;
        if (!(bytes > 0))
            continue;
        snprintf(name, sizeof(name), "%s", fld[TL_DOM]);
        struct results_dom *d = results_doms_get(ds, name);
        if (d)
            d->key += bytes;
        else
            err = -ENOMEM;
    }
    if (!err && ferror(f))
        err = -EIO;
    free(line);
    return err;
}

/* The rows of the n domains ds->v[0..n) as t_s,domain,rx_mbit_s,tx_mbit_s. */
static void net_rates(FILE *in, FILE *out, const struct results_doms *ds, int n)
{
    char *line = NULL, *fld[RESULTS_CSV_MAX_COLS];
    size_t cap = 0;
    double prev = 0, cur = 0;           /* this row's interval: [prev, cur) */
    fputs("t_s,domain,rx_mbit_s,tx_mbit_s\n", out);
    for (long ln = 0; getline(&line, &cap, in) > 0; ln++) {
        if (ln == 0 || results_split_csv(line, fld, RESULTS_CSV_MAX_COLS) < TL_COLS)
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
                strtod(fld[TL_NET_RX_BYTES], NULL) * 8 / dt / 1e6,
                strtod(fld[TL_NET_TX_BYTES], NULL) * 8 / dt / 1e6);
    }
    free(line);
}

/* plots/net-throughput.csv from timeline.csv, for the domains drawn. */
static int write_net_rates(const char *dir, const char *timeline, struct results_doms *ds)
{
    if (ds->n > PLOT_MAX_DOMAINS)
        results_rank_domains(ds);
    int n = ds->n < PLOT_MAX_DOMAINS ? ds->n : PLOT_MAX_DOMAINS;
    FILE *in = fopen(timeline, "re");
    if (!in)
        return -errno;
    char *buf = NULL, plots[PATH_MAX];
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (out)
        net_rates(in, out, ds, n);
    int err = !out || fclose(out) != 0 ? -ENOMEM : ferror(in) ? -EIO : 0;
    fclose(in);
    if (!err)
        err = snprintf(plots, sizeof(plots), "%s/plots", dir) < (int)sizeof(plots)
            ? results_write_atomic(plots, "net-throughput.csv", buf, len) : -ENAMETOOLONG;
    free(buf);
    return err;
}

/* net-rtt-cdf: app-latency.csv's domains that also had traffic. */
static int plot_rtt(struct graph *g, const struct results_doms *traffic, const char *label)
{
    char data[PATH_MAX], title[400], full[1024];
    if (snprintf(data, sizeof(data), "%s/app-latency.csv", g->dir) >= (int)sizeof(data))
        return -ENAMETOOLONG;
    struct results_doms lat = { 0 }, rtt = { 0 };
    int err = 0;
    FILE *f = fopen(data, "re");
    if (f) {
        err = results_read_domains(f, 0, 1, true, &lat);
        fclose(f);
    } else if (errno != ENOENT) {       /* none (interrupted run): an empty plot */
        err = -errno;
    }
    for (int i = 0; !err && i < lat.n; i++) {
        if (!doms_has(traffic, lat.v[i].name))
            continue;
        struct results_dom *d = results_doms_get(&rtt, lat.v[i].name);
        if (!d)
            err = -ENOMEM;
        else
            d->key = lat.v[i].key;
    }
    if (err) {
        data_failed(g, data, "app-latency.csv", err);
    } else {
        snprintf(title, sizeof(title), "Round-trip latency CDF%s", label);
        full_title(full, sizeof(full), title, rtt.n, "highest max latency", " - no samples");
        err = render(g, data, &rtt, full);
    }
    results_doms_free(&lat);
    results_doms_free(&rtt);
    return err;
}

/* net-throughput, from plots/net-throughput.csv (made here). */
static int plot_rates(struct graph *g, const char *timeline, struct results_doms *traffic,
                      const char *label)
{
    char data[PATH_MAX], title[400], full[1024];
    if (snprintf(data, sizeof(data), "%s/plots/net-throughput.csv", g->dir) >= (int)sizeof(data))
        return -ENAMETOOLONG;
    int err = write_net_rates(g->dir, timeline, traffic);
    if (err)
        return data_failed(g, data, "plots/net-throughput.csv", err);
    snprintf(title, sizeof(title), "Network throughput (Mbit/s; solid rx, dashed tx)%s", label);
    full_title(full, sizeof(full), title, traffic->n, "most traffic", " - no traffic");
    return render(g, data, traffic, full);
}

/* Both network graphs, if timeline.csv shows any traffic. */
static int plot_net(struct graph *g, const char *label)
{
    char tl[PATH_MAX];
    if (snprintf(tl, sizeof(tl), "%s/timeline.csv", g->dir) >= (int)sizeof(tl))
        return -ENAMETOOLONG;
    FILE *f = fopen(tl, "re");
    if (!f)
        return 0;                       /* cpu-share has said so already */
    struct results_doms traffic = { 0 };
    bool any = false;
    int err = net_scan(f, &traffic, &any);
    fclose(f);
    graph_next(g, "net-rtt-cdf");
    if (err) {
        data_failed(g, tl, "timeline.csv", err);
    } else if (any) {
        /* rtt first: it looks names up in traffic, which plot_rates ranks. */
        err = plot_rtt(g, &traffic, label);
        graph_next(g, "net-throughput");
        int e2 = plot_rates(g, tl, &traffic, label);
        err = err ? err : e2;
    }
    results_doms_free(&traffic);
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
    graph_next(&g, "wakeup-latency-cdf");
    snprintf(title, sizeof(title), "Wake-up latency CDF%s", label);
    int e2 = plot_csv(&g, "wakeup-latency.csv", 0, 1, true, title, "highest max latency");
    int e3 = plot_net(&g, label);
    return err ? err : e2 ? e2 : e3;
}
