/* fuzz_plot.c — libFuzzer harness: a results directory a user edited or
 * truncated, aggregated as `fairvisor plot` does, without gnuplot
 * (plot_queue_results: every graph's data file, plots/NAME.csv, written
 * and its graph queued, not drawn).
 *
 * The input is up to six files, separated by NUL bytes, in this order:
 * summary.json, timeline.csv, wakeup-latency.csv, app-latency.csv,
 * blk-latency.csv, starvation.csv; a file past the last part is absent.
 * They are written to a directory of this process (on /dev/shm when it can,
 * where the data files' fsync costs nothing). What plot wrote must hold:
 *   - each graph queued once, with its data file;
 *   - a data file's header has the columns its graph's variables say
 *     (cols, counts: one column per domain and metric, median,p5,p95 per
 *     group), each series once; every row as many cells;
 *   - a value is a finite number or NaN (gnuplot's missing value), never
 *     nan, -nan or inf; a CDF's latencies are finite and in order;
 *   - a group's p5 <= median <= p95 (and so in share.csv);
 *   - the starvation spans are finite, in order, not overlapping, as many
 *     as the graph is told (nstarve, nlabels);
 *   - nodata is 0 exactly when some value is a number;
 *   - share.csv: at most PLOT_MAX_DOMAINS rows, every series once, no more
 *     members than summary.json has domains, starved <= members, and no
 *     NaN when every domain's shares are numbers;
 *   - plot_stats (every group's median, p5, p95) over the finite
 *     cpu_share values of timeline.csv equals plot_quantile of them
 *     sorted, within their range.
 * A breach prints what and aborts: a finding, like a crash.
 *   tools/fuzz plot [SECONDS]
 */
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv/plot_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const inputs[] = {
    "summary.json", "timeline.csv", "wakeup-latency.csv", "app-latency.csv", "blk-latency.csv",
    "starvation.csv",
};
#define NINPUTS (int)(sizeof(inputs) / sizeof(inputs[0]))

/* The graphs plot may queue, and their metrics per series (0: share). */
static const struct {
    const char *name;
    int nmetrics;
    const char *metric[2];
    bool cdf;
} graphs[] = {
    { "cpu-share", 1, { "cpu_share" }, false },
    { "net-throughput", 2, { "rx_mbit_s", "tx_mbit_s" }, false },
    { "blk-iops", 2, { "read_iops", "write_iops" }, false },
    { "wakeup-latency-cdf", 1, { "cdf" }, true },
    { "net-rtt-cdf", 1, { "cdf" }, true },
    { "blk-latency-cdf", 1, { "cdf" }, true },
    { "share", 0, { NULL }, false },
};
#define NGRAPHS (int)(sizeof(graphs) / sizeof(graphs[0]))

static char dir[PATH_MAX];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(p);
    return 0;
}

static void cleanup(void)
{
    if (dir[0])
        nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* A finding: say what, remove the directory (abort skips atexit), abort. */
#define FAIL(...)                                                              \
    do {                                                                       \
        fprintf(stderr, "fuzz: " __VA_ARGS__);                                 \
        fputc('\n', stderr);                                                   \
        cleanup();                                                             \
        abort();                                                               \
    } while (0)

static void setup(void)
{
    const char *bases[] = { "/dev/shm", getenv("TMPDIR"), "/tmp" };
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]) && !dir[0]; i++) {
        if (!bases[i] || access(bases[i], W_OK) != 0)
            continue;
        snprintf(dir, sizeof(dir), "%s/fv-fuzz-plot.XXXXXX", bases[i]);
        if (!mkdtemp(dir))
            dir[0] = '\0';
    }
    if (!dir[0])
        FAIL("no temporary directory: %s", strerror(errno));
    atexit(cleanup);
}

static void path_of(char *p, const char *rel)
{
    if (snprintf(p, PATH_MAX, "%s/%s", dir, rel) >= PATH_MAX)
        FAIL("path too long");
}

static void put_file(const char *rel, const uint8_t *data, size_t len)
{
    char p[PATH_MAX];
    path_of(p, rel);
    FILE *f = fopen(p, "w");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
        FAIL("cannot write %s", p);
}

static char *slurp(const char *rel)
{
    char p[PATH_MAX];
    path_of(p, rel);
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[4096];
    size_t n;
    while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    if (!m || fclose(m) != 0)
        FAIL("out of memory");
    return buf;
}

/* ---- the graph's variables (name='value'; with '' for a quote) ---------- */

struct vars {
    char *domains, *counts, *cols, *nodata, *nstarve, *nlabels, *nbars, *nstarved;
};

static void vars_free(struct vars *v)
{
    free(v->domains);
    free(v->counts);
    free(v->cols);
    free(v->nodata);
    free(v->nstarve);
    free(v->nlabels);
    free(v->nbars);
    free(v->nstarved);
}

static void parse_vars(const char *s, struct vars *v)
{
    memset(v, 0, sizeof(*v));
    while (*s) {
        const char *eq = strstr(s, "='");
        if (!eq)
            FAIL("variables: no name='value' in \"%s\"", s);
        size_t nlen = (size_t)(eq - s);
        char *val = malloc(strlen(eq) + 1), *o = val;
        if (!val)
            FAIL("out of memory");
        const char *p = eq + 2;
        for (; *p && !(p[0] == '\'' && p[1] != '\''); p++) {
            *o++ = *p;
            if (*p == '\'')
                p++;
        }
        *o = '\0';
        if (*p != '\'' || strncmp(p, "'; ", 3) != 0)
            FAIL("variables: unterminated value of %.*s", (int)nlen, s);
        char **slot = NULL;
#define VAR(n) if (nlen == strlen(#n) && !strncmp(s, #n, nlen)) slot = &v->n
        VAR(domains); VAR(counts); VAR(cols); VAR(nodata); VAR(nstarve); VAR(nlabels);
        VAR(nbars); VAR(nstarved);
#undef VAR
        if (slot) {
            free(*slot);
            *slot = val;
        } else {
            free(val);
        }
        s = p + 3;
    }
}

/* The numbers of a space-separated list; returns how many (at most max). */
static int int_list(const char *s, int *out, int max)
{
    int n = 0;
    while (s && *s) {
        char *end;
        long x = strtol(s, &end, 10);
        if (end == s)
            FAIL("variables: \"%s\" is not a list of numbers", s);
        if (n >= max)
            FAIL("variables: more than %d numbers", max);
        out[n++] = (int)x;
        s = end;
        while (*s == ' ')
            s++;
    }
    return n;
}

static int word_count(const char *s)
{
    int n = 0;
    for (bool in = false; s && *s; s++) {
        if (*s != ' ' && !in)
            n++;
        in = *s != ' ';
    }
    return n;
}

static int int_var(const char *s, const char *what)
{
    if (!s)
        FAIL("variable %s missing", what);
    return atoi(s);
}

/* ---- data files ---------------------------------------------------------- */

/* Split a line (modified) at commas into at most max cells (the last
 * keeps the rest). */
static int cells(char *line, char **c, int max)
{
    int n = 0;
    for (char *p = line;; p++) {
        c[n++] = p;
        if (n == max)
            return n;
        p = strchr(p, ',');
        if (!p)
            return n;
        *p = '\0';
    }
}

/* A written value: NaN, or a finite number and nothing else. */
static bool value(const char *cell, double *v, const char *file, int line)
{
    if (strcmp(cell, "NaN") == 0) {
        *v = NAN;
        return false;
    }
    char *end;
    *v = strtod(cell, &end);
    if (end == cell || *end || !isfinite(*v))
        FAIL("%s line %d: \"%s\" is neither a finite number nor NaN", file, line, cell);
    return true;
}

static void ordered3(const double *q, const char *file, int line)
{
    if (isnan(q[0]) || isnan(q[1]) || isnan(q[2]))
        return;
    if (!(q[1] <= q[0] && q[0] <= q[2]))
        FAIL("%s line %d: median %.17g outside p5 %.17g .. p95 %.17g", file, line, q[0], q[1],
             q[2]);
}

#define MAX_COLS 4096
#define MAX_SERIES 64

/* The starvation blocks after the data: spans, then maybe labels. */
static void check_marks(char *rest, const struct vars *v, const char *file, int line)
{
    int spans = 0, labels = 0, block = 0;
    double prev_end = -INFINITY, prev_label = -INFINITY;
    for (char *l = rest; l && *l; line++) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = '\0';
        if (!*l) {
        } else if (!strncmp(l, "# starvation on ", 16)) {
            block = 1;
        } else if (!strncmp(l, "# victims: ", 11)) {
            block = 2;
        } else if (block == 1) {
            char *c[3];
            double a, b;
            if (cells(l, c, 3) != 2 || !value(c[0], &a, file, line) || !value(c[1], &b, file, line))
                FAIL("%s line %d: a span is not two numbers", file, line);
            if (!(a <= b) || !(a >= prev_end))     /* equal: apart by less than %.9f shows */
                FAIL("%s line %d: span %.17g..%.17g after one ending at %.17g", file, line, a, b,
                     prev_end);
            prev_end = b;
            spans++;
        } else if (block == 2) {
            char *c[MAX_COLS];
            double a;
            if (cells(l, c, MAX_COLS) < 2 || !value(c[0], &a, file, line) || a < prev_label)
                FAIL("%s line %d: a victim label out of order", file, line);
            prev_label = a;
            labels++;
        } else {
            FAIL("%s line %d: \"%s\" after the data", file, line, l);
        }
        l = nl ? nl + 1 : NULL;
    }
    if (spans != int_var(v->nstarve, "nstarve") || labels != int_var(v->nlabels, "nlabels"))
        FAIL("%s: %d spans and %d labels, the graph is told %s and %s", file, spans, labels,
             v->nstarve, v->nlabels);
}

/* The header against the variables: returns the number of columns;
 * group[c]: column c starts a median,p5,p95 triple. */
static int check_header(char *hdr, int g, const struct vars *v, bool *group, const char *file)
{
    char *c[MAX_COLS];
    int nc = cells(hdr, c, MAX_COLS);
    if (strcmp(c[0], graphs[g].cdf ? "latency_ns" : "t_s") != 0)
        FAIL("%s: header starts with \"%s\"", file, c[0]);
    int counts[MAX_SERIES], cols[MAX_SERIES];
    int ns = int_list(v->counts, counts, MAX_SERIES);
    if (int_list(v->cols, cols, MAX_SERIES) != ns || word_count(v->domains) != ns)
        FAIL("%s: %d counts, cols '%s', domains '%s'", file, ns, v->cols, v->domains);
    if (ns > PLOT_MAX_DOMAINS)
        FAIL("%s: %d series, more than %d", file, ns, PLOT_MAX_DOMAINS);
    memset(group, 0, MAX_COLS * sizeof(*group));
    char *names[MAX_SERIES];
    int col = 2;                        /* gnuplot's columns count from 1 */
    for (int s = 0; s < ns; s++) {
        if (cols[s] != col || counts[s] < 1)
            FAIL("%s: series %d at column %d (counts %d), told %d", file, s, col, counts[s],
                 cols[s]);
        int w = counts[s] > 1 ? 3 : 1;
        for (int m = 0; m < graphs[g].nmetrics; m++, col += w) {
            if (col - 1 + w > nc)
                FAIL("%s: %d columns, series %d needs more", file, nc, s);
            char *h = c[col - 1], suffix[64];
            snprintf(suffix, sizeof(suffix), ".%s%s", graphs[g].metric[m], w > 1 ? ".median" : "");
            size_t hl = strlen(h), sl = strlen(suffix);
            if (hl < sl || strcmp(h + hl - sl, suffix) != 0)
                FAIL("%s: column %d is \"%s\", not NAME%s", file, col, h, suffix);
            h[hl - sl] = '\0';
            if (m == 0)
                names[s] = h;
            else if (strcmp(names[s], h) != 0)
                FAIL("%s: series %d is \"%s\" and \"%s\"", file, s, names[s], h);
            for (int k = 1; k < w; k++) {
                char want[SCN_NAME_MAX + 80];
                snprintf(want, sizeof(want), "%s.%s.%s", h, graphs[g].metric[m],
                         k == 1 ? "p5" : "p95");
                if (strcmp(c[col - 1 + k], want) != 0)
                    FAIL("%s: column %d is \"%s\", not \"%s\"", file, col + k, c[col - 1 + k], want);
            }
            group[col - 1] = w > 1;
        }
        for (int t = 0; t < s; t++)
            if (strcmp(names[t], names[s]) == 0)
                FAIL("%s: series \"%s\" twice", file, names[s]);
    }
    if (col - 1 != nc)
        FAIL("%s: %d columns, the series take %d", file, nc, col - 1);
    return nc;
}

static void check_graph_file(int g, const struct vars *v)
{
    char rel[64];
    snprintf(rel, sizeof(rel), "plots/%s.csv", graphs[g].name);
    char *text = slurp(rel);
    if (!text)
        FAIL("%s queued without its data file", graphs[g].name);
    char *rest = strstr(text, "\n\n");
    if (rest)
        *rest++ = '\0';
    char *nl = strchr(text, '\n');
    if (nl)
        *nl = '\0';
    bool *group = malloc(MAX_COLS * sizeof(*group));
    char **c = malloc(MAX_COLS * sizeof(*c));
    if (!group || !c)
        FAIL("out of memory");
    int nc = check_header(text, g, v, group, rel), line = 2;
    bool finite = false;
    double prev_x = -INFINITY;
    for (char *l = nl ? nl + 1 : NULL; l && *l; line++) {
        char *e = strchr(l, '\n');
        if (e)
            *e = '\0';
        if (cells(l, c, MAX_COLS) != nc)
            FAIL("%s line %d: not %d cells", rel, line, nc);
        double x, q[3];
        if (graphs[g].cdf) {
            if (!value(c[0], &x, rel, line) || x < prev_x)
                FAIL("%s line %d: latency %s not a number in order", rel, line, c[0]);
            prev_x = x;
        }
        for (int k = 1; k < nc; k++) {
            double y;
            finite |= value(c[k], &y, rel, line);
            if (group[k]) {
                for (int j = 0; j < 3; j++)
                    value(c[k + j], &q[j], rel, line);
                ordered3(q, rel, line);
            }
        }
        l = e ? e + 1 : NULL;
    }
    if (!v->nodata || (strcmp(v->nodata, "0") == 0) != (finite && nc > 1))
        FAIL("%s: nodata='%s' but %s", rel, v->nodata ? v->nodata : "(none)",
             finite ? "a value is a number" : "no value is a number");
    if (!graphs[g].cdf)
        check_marks(rest, v, rel, line);
    else if (rest && rest[strspn(rest, "\n")])
        FAIL("%s: text after the data", rel);
    free(c);
    free(group);
    free(text);
}

/* Does every domain of summary.json have both shares as numbers? Then
 * every figure of share.csv is a number (JSON has no nan or inf). */
static bool shares_numeric(json_t *summary)
{
    json_t *doms = json_object_get(summary, "domains"), *d;
    size_t i;
    json_array_foreach(doms, i, d)
        if (!json_is_number(json_object_get(d, "cpu_share"))
            || !json_is_number(json_object_get(d, "entitled_share")))
            return false;
    return true;
}

static void check_share(const struct vars *v, json_t *summary)
{
    char *text = slurp("plots/share.csv");
    if (!text)
        FAIL("share queued without plots/share.csv");
    const char *hdr = "series,members,received,received_p5,received_p95,entitled,entitled_p5,"
                      "entitled_p95,starved\n";
    if (strncmp(text, hdr, strlen(hdr)) != 0)
        FAIL("share.csv: header");
    char *names[PLOT_MAX_DOMAINS + 1];
    int rows = 0, members = 0, starved = 0, line = 2;
    bool numeric = shares_numeric(summary);
    for (char *l = text + strlen(hdr); *l; line++) {
        char *e = strchr(l, '\n'), *c[16];
        if (!e)
            FAIL("share.csv line %d: no newline", line);
        *e = '\0';
        if (cells(l, c, 16) != 9)
            FAIL("share.csv line %d: not 9 cells", line);
        if (rows == PLOT_MAX_DOMAINS)
            FAIL("share.csv: more than %d rows", PLOT_MAX_DOMAINS);
        for (int t = 0; t < rows; t++)
            if (strcmp(names[t], c[0]) == 0)
                FAIL("share.csv: series \"%s\" twice", c[0]);
        names[rows++] = c[0];
        int m = atoi(c[1]), st = atoi(c[8]);
        if (m < 1 || st < 0 || st > m)
            FAIL("share.csv line %d: %d members, %d starved", line, m, st);
        members += m;
        starved += st > 0;
        double q[6];
        for (int k = 0; k < 6; k++)
            if (!value(c[2 + k], &q[k], "share.csv", line) && numeric)
                FAIL("share.csv line %d: NaN from shares that are all numbers", line);
        ordered3(q, "share.csv", line);
        ordered3(q + 3, "share.csv", line);
        l = e + 1;
    }
    size_t nd = json_array_size(json_object_get(summary, "domains"));
    if ((size_t)members > nd)
        FAIL("share.csv: %d members of %zu domains", members, nd);
    if (rows != int_var(v->nbars, "nbars") || starved != int_var(v->nstarved, "nstarved")
        || word_count(v->domains) != rows)
        FAIL("share.csv: %d rows (%d starved), told nbars %s, nstarved %s, domains '%s'", rows,
             starved, v->nbars, v->nstarved, v->domains);
    free(text);
}

/* plot_stats, which every group's median, p5 and p95 come from, over the
 * finite cpu_share values of timeline.csv (column 4, as plot reads it):
 * the same as plot_quantile of them sorted, and within their range. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void check_stats(const uint8_t *p, size_t len)
{
    enum { MAXV = 64 };
    double v[MAXV], sorted[MAXV], q[3];
    int n = 0;
    char *text = malloc(len + 1);
    if (!text)
        FAIL("out of memory");
    memcpy(text, p, len);
    text[len] = '\0';
    for (char *l = text, *e; l && n < MAXV; l = e ? e + 1 : NULL) {
        if ((e = strchr(l, '\n')))
            *e = '\0';
        char *c[5];
        if (l != text && cells(l, c, 5) >= 4) {
            double x = strtod(c[3], NULL);
            if (isfinite(x))
                v[n++] = x;
        }
    }
    free(text);
    for (int k = 1; k <= n; k++) {      /* every prefix: each count of values */
        memcpy(sorted, v, (size_t)k * sizeof(*v));
        qsort(sorted, (size_t)k, sizeof(*sorted), cmp_double);
        double w[MAXV];
        memcpy(w, v, (size_t)k * sizeof(*v));
        plot_stats(w, k, q);
        static const double ps[3] = { 0.5, 0.05, 0.95 };
        for (int j = 0; j < 3 && k > 0; j++) {
            double want = plot_quantile(sorted, k, ps[j]);
            if (!(q[j] == want) || !(q[j] >= sorted[0] && q[j] <= sorted[k - 1]))
                FAIL("plot_stats of %d values: quantile %g is %.17g, plot_quantile %.17g, "
                     "range %.17g .. %.17g", k, ps[j], q[j], want, sorted[0], sorted[k - 1]);
        }
        if (k > 0)
            ordered3(q, "plot_stats", k);
    }
}

/* ---- one input ----------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0])
        setup();
    const uint8_t *p = data, *end = data + size;
    json_t *summary = NULL;
    for (int i = 0; i < NINPUTS; i++) {
        char path[PATH_MAX];
        path_of(path, inputs[i]);
        if (!p) {
            unlink(path);
            continue;
        }
        const uint8_t *z = memchr(p, 0, (size_t)(end - p));
        size_t len = z ? (size_t)(z - p) : (size_t)(end - p);
        put_file(inputs[i], p, len);
        if (i == 0)
            summary = json_loadb((const char *)p, len, 0, NULL);
        if (i == 1)
            check_stats(p, len);
        p = z ? z + 1 : NULL;
    }
    for (int g = 0; g < NGRAPHS; g++) {
        char rel[64], path[PATH_MAX];
        snprintf(rel, sizeof(rel), "plots/%s.csv", graphs[g].name);
        path_of(path, rel);
        unlink(path);
    }
    char why[512];
    struct graph gr = { .dir = dir, .name = "cpu-share", .why = why, .whylen = sizeof(why) };
    why[0] = '\0';
    int rc = plot_queue_results(&gr);
    bool seen[NGRAPHS] = { false };
    for (int j = 0; j < gr.njobs; j++) {
        int g = 0;
        while (g < NGRAPHS && strcmp(gr.jobs[j].name, graphs[g].name) != 0)
            g++;
        if (g == NGRAPHS || seen[g])
            FAIL("graph \"%s\" queued %s", gr.jobs[j].name, g == NGRAPHS ? "unknown" : "twice");
        seen[g] = true;
        struct vars v;
        parse_vars(gr.jobs[j].vars, &v);
        if (graphs[g].nmetrics)
            check_graph_file(g, &v);
        else
            check_share(&v, summary);
        vars_free(&v);
    }
    /* What is always drawn: cpu-share (timeline.csv read), the wake-up
     * latency CDF, and share with a summary.json. */
    if (rc == 0 && (!seen[0] || !seen[3]))
        FAIL("plot succeeded without cpu-share or wakeup-latency-cdf");
    if (rc == 0 && (summary != NULL) != seen[NGRAPHS - 1])
        FAIL("share %s with%s a summary", seen[NGRAPHS - 1] ? "drawn" : "not drawn",
             summary ? "" : "out");
    if (rc != 0 && !why[0])
        FAIL("plot failed (%d) without saying why", rc);
    plot_jobs_free(&gr);
    json_decref(summary);
    return 0;
}
