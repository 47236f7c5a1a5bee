/* compare.c — `fairvisor compare DIR...` (see compare.h): gather the runs'
 * domains into rows, print the table, write compare.csv. Reading
 * summary.json is compare_load.c, the charts compare_plot.c.
 *
 * A row is a domain name (or a `group`) over all runs, in the order first
 * seen; with --by group a row's shares and latencies are the median over
 * its members (what a typical replica got) and its rates and events the
 * sum (what the group did). The p99 a row shows is chosen once for the row,
 * so that the runs' numbers on one line measure the same thing: the network
 * round trip if the domain sampled one in any run, else its disk requests'
 * latency if it used its disk in any run, else its wake-up latency if it
 * ever woke up, else (a CPU hog, which never blocks) its wait from runnable
 * to running.
 */
#include "compare.h"
#include "compare_priv.h"
#include "results.h"
#include "results_priv.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define EXIT_BAD 2
/* Rows printed; compare.csv has them all. */
#define CMP_TABLE_MAX_ROWS 50

static void usage(FILE *f)
{
    fprintf(f,
        "usage: fairvisor compare DIR... [options]\n"
        "\n"
        "Puts the runs in the results directories DIR... side by side: for each\n"
        "domain and each run the normalized share (received / entitled), a p99\n"
        "latency (network round trip, else disk request, else wake-up, else wait\n"
        "for the CPU), work units/s, packets received (or sent, by a sender) per\n"
        "second or disk IOPS, and starvation events; then each run's fairness.\n"
        "Writes compare.csv and bar charts compare-{share,p99,throughput}.{png,svg}.\n"
        "\n"
        "options:\n"
        "  --out DIR         write compare.csv and the charts into DIR\n"
        "                    (default: results/compare/<UTC time>/)\n"
        "  --by domain|group one row per domain (default), or per scenario entry\n"
        "                    (replicas of `count: N` together: median shares and\n"
        "                    latencies, summed rates and events)\n"
        "  --no-plot         skip the charts\n"
        "  -h, --help        this text\n"
        "\n"
        "Runs of different scenarios are compared too (domains matched by name),\n"
        "with a warning. Exit status: 0 success, 1 an output could not be written,\n"
        "2 bad usage or an unreadable DIR/summary.json.\n");
}

/* ---- arguments ------------------------------------------------------------- */

struct cargs {
    const char *out;
    bool by_group, no_plot;
    char **dirs;
    int ndirs;
};

/* An empty value, or the next option taken as the value, is bad usage. */
static bool bad_value(FILE *err, const char *opt, const char *v)
{
    if (!*v)
        fprintf(err, "fairvisor compare: --%s needs a value, got an empty string\n", opt);
    else if (v[0] == '-' && v[1] == '-')
        fprintf(err, "fairvisor compare: --%s %s: the value looks like an option (was the "
                "value forgotten?)\n", opt, v);
    else
        return false;
    return true;
}

/* -1 to go on, else an exit status. */
static int parse_args(int argc, char **argv, struct cargs *a, FILE *out, FILE *err)
{
    static const struct option opts[] = {
        { "out", required_argument, NULL, 'o' }, { "by", required_argument, NULL, 'b' },
        { "no-plot", no_argument, NULL, 'P' }, { "help", no_argument, NULL, 'h' }, { 0 },
    };
    int c, li = -1;
    optind = 0;                     /* full reset: the tests call this repeatedly */
    opterr = 0;                     /* our messages, on `err` */
    while ((c = getopt_long(argc, argv, ":h", opts, &li)) != -1) {
        if (optarg && li >= 0 && bad_value(err, opts[li].name, optarg))
            goto bad;
        li = -1;
        switch (c) {
        case 'o': a->out = optarg; break;
        case 'P': a->no_plot = true; break;
        case 'h': usage(out); return 0;
        case 'b':
            if (strcmp(optarg, "domain") && strcmp(optarg, "group")) {
                fprintf(err, "fairvisor compare: --by %s: expected domain or group\n", optarg);
                goto bad;
            }
            a->by_group = optarg[0] == 'g';
            break;
        case ':':
            fprintf(err, "fairvisor compare: %s needs a value\n", argv[optind - 1]);
            goto bad;
        default:
            fprintf(err, "fairvisor compare: unknown option %s\n", argv[optind - 1]);
            goto bad;
        }
    }
    a->dirs = argv + optind;
    a->ndirs = argc - optind;
    if (a->ndirs < 1) {
        fprintf(err, "fairvisor compare: expected one or more results directories\n");
        goto bad;
    }
    for (int i = 0; i < a->ndirs; i++)
        if (!a->dirs[i][0]) {
            fprintf(err, "fairvisor compare: DIR %d is an empty string\n", i + 1);
            goto bad;
        }
    return -1;
bad:
    usage(err);
    return EXIT_BAD;
}

static void free_cmp(struct cmp *c)
{
    for (int r = 0; r < c->nruns; r++) {
        json_decref(c->runs[r].root);
        free(c->runs[r].doms);
    }
    if (c->rows)
        free(c->rows[0].cell);
    free(c->rows);
    free(c->runs);
}

/* Said, not refused: comparing a policy across two scenarios is legitimate,
 * but a typo in a directory name should not pass silently. */
static void warn_scenarios(const struct cmp *c, FILE *err)
{
    int first_other = -1;
    for (int r = 1; r < c->nruns && first_other < 0; r++)
        if (strcmp(c->runs[r].scenario, c->runs[0].scenario))
            first_other = r;
    if (first_other < 0)
        return;
    fprintf(err, "fairvisor compare: warning: the runs are of different scenarios:");
    for (int r = 0; r < c->nruns; r++) {
        bool seen = false;
        for (int q = 0; q < r && !seen; q++)
            seen = !strcmp(c->runs[q].scenario, c->runs[r].scenario);
        if (!seen)
            fprintf(err, "%s %s (run %d)", r ? "," : "", c->runs[r].scenario, r + 1);
    }
    fprintf(err, "; domains are matched by name\n");
}

/* ---- rows ---------------------------------------------------------------------- */

/* Sum of the non-NaN values of a field over the members; NaN if none. */
static double member_sum(const struct cmp_run *r, const int *m, int k, size_t off)
{
    double s = NAN;
    for (int i = 0; i < k; i++) {
        double v = *(const double *)((const char *)&r->doms[m[i]] + off);
        if (!isnan(v))
            s = isnan(s) ? v : s + v;
    }
    return s;
}

/* A row's cell in run r from its k members m (indices into r->doms). */
static void aggregate(const struct cmp_row *row, const struct cmp_run *r, const int *m, int k,
                      double *scratch, struct cmp_cell *cell)
{
    double secs = r->duration_ns > 0 ? r->duration_ns / 1e9 : NAN;
    int n = 0;
    for (int i = 0; i < k; i++) {
        const struct cmp_dom *d = &r->doms[m[i]];
        if (d->entitled_share > 0 && !isnan(d->cpu_share))
            scratch[n++] = d->cpu_share / d->entitled_share;
    }
    cell->members = k;
    cell->norm = results_median(scratch, n);
    n = 0;
    for (int i = 0; i < k; i++)
        if (!isnan(r->doms[m[i]].p99_ns[row->lat]))
            scratch[n++] = r->doms[m[i]].p99_ns[row->lat];
    cell->p99_ms = results_median(scratch, n) / 1e6;
    cell->work_s = member_sum(r, m, k, offsetof(struct cmp_dom, work_units)) / secs;
    static const size_t io_field[] = {
        [CMP_IO_BLK] = offsetof(struct cmp_dom, blk_ios),
        [CMP_IO_NET_TX] = offsetof(struct cmp_dom, net_tx_pkts),
        [CMP_IO_NET_RX] = offsetof(struct cmp_dom, net_rx_pkts),
    };
    cell->io_s = row->io == CMP_IO_NONE ? NAN : member_sum(r, m, k, io_field[row->io]);
    cell->io_s /= secs;
    cell->starv = member_sum(r, m, k, offsetof(struct cmp_dom, starvation_events));
}

static int by_row(const void *a, const void *b, void *ctx)
{
    const struct cmp_dom *d = ctx;
    int i = *(const int *)a, j = *(const int *)b;
    int x = d[i].row, y = d[j].row;
    return x != y ? (x > y) - (x < y) : (i > j) - (i < j);
}

/* Fill every row's cells in run r. */
static int aggregate_run(struct cmp *c, const struct cmp_run *r)
{
    int *idx = malloc(((size_t)r->ndoms + 1) * sizeof(*idx));
    double *scratch = malloc(((size_t)r->ndoms + 1) * sizeof(*scratch));
    if (!idx || !scratch) {
        free(idx);
        free(scratch);
        return -ENOMEM;
    }
    for (int i = 0; i < r->ndoms; i++)
        idx[i] = i;
    qsort_r(idx, (size_t)r->ndoms, sizeof(*idx), by_row, r->doms);
    for (int i = 0, j; i < r->ndoms; i = j) {
        struct cmp_row *row = &c->rows[r->doms[idx[i]].row];
        for (j = i; j < r->ndoms && r->doms[idx[j]].row == r->doms[idx[i]].row; j++)
            ;
        aggregate(row, r, idx + i, j - i, scratch, &row->cell[r - c->runs]);
    }
    free(idx);
    free(scratch);
    return 0;
}

/* The rows, in the order first seen, each with the p99 and rate it shows. */
static int build_rows(struct cmp *c)
{
    struct results_doms ds = { 0 };
    char key[SCN_NAME_MAX];
    for (int r = 0; r < c->nruns; r++)
        for (int i = 0; i < c->runs[r].ndoms; i++) {
            struct cmp_dom *d = &c->runs[r].doms[i];
            snprintf(key, sizeof(key), "%s", c->by_group ? d->group : d->name);
            struct results_dom *e = results_doms_get(&ds, key);
            if (!e) {
                results_doms_free(&ds);
                return -ENOMEM;
            }
            d->row = e->order;
        }
    c->nrows = ds.n;
    c->rows = calloc((size_t)ds.n + 1, sizeof(*c->rows));
    struct cmp_cell *cells = calloc((size_t)ds.n * (size_t)c->nruns + 1, sizeof(*cells));
    if (!c->rows || !cells) {
        free(cells);
        results_doms_free(&ds);
        return -ENOMEM;
    }
    for (int i = 0; i < ds.n; i++) {
        snprintf(c->rows[i].name, sizeof(c->rows[i].name), "%s", ds.v[i].name);
        c->rows[i].cell = cells + (size_t)i * (size_t)c->nruns;
        for (int r = 0; r < c->nruns; r++) {
            struct cmp_cell *cl = &c->rows[i].cell[r];
            cl->norm = cl->p99_ms = cl->work_s = cl->io_s = cl->starv = NAN;
        }
    }
    c->rows[0].cell = cells;        /* free_cmp frees the block through row 0 */
    results_doms_free(&ds);
    for (int r = 0; r < c->nruns; r++)
        for (int i = 0; i < c->runs[r].ndoms; i++) {
            const struct cmp_dom *d = &c->runs[r].doms[i];
            struct cmp_row *row = &c->rows[d->row];
            enum cmp_lat lat = CMP_LAT_NET;
            while (lat > CMP_LAT_WAIT && isnan(d->p99_ns[lat]))
                lat--;
            enum cmp_io io = !d->net_traffic ? (d->blk_traffic ? CMP_IO_BLK : CMP_IO_NONE)
                           : d->net_rx_pkts >= d->net_tx_pkts ? CMP_IO_NET_RX : CMP_IO_NET_TX;
            row->lat = lat > row->lat ? lat : row->lat;
            row->io = io > row->io ? io : row->io;
        }
    for (int r = 0; r < c->nruns; r++)
        if (aggregate_run(c, &c->runs[r]))
            return -ENOMEM;
    return 0;
}

const char *cmp_lat_name(enum cmp_lat l)
{
    static const char *const names[CMP_LAT_KINDS] = { "wait", "wakeup", "blk", "rtt" };
    return names[l];
}

const char *cmp_io_name(enum cmp_io io)
{
    static const char *const names[] = { "-", "IOPS", "tx pkts", "rx pkts" };
    return names[io];
}

void cmp_run_label(const struct cmp *c, int r, char *buf, size_t n)
{
    bool engines_differ = false;
    for (int q = 1; q < c->nruns; q++)
        engines_differ |= strcmp(c->runs[q].engine, c->runs[0].engine) != 0;
    const struct cmp_run *run = &c->runs[r];
    snprintf(buf, n, "%d: %s (%s)%s%s", r + 1, run->policy, run->mode,
             engines_differ ? " on " : "", engines_differ ? run->engine : "");
}

/* ---- the table ------------------------------------------------------------------- */

static const struct metric {
    const char *title;
    int width, prec;
} metrics[] = {
    { "norm share", 6, 2 }, { "p99 (ms)", 9, 3 }, { "work units/s", 10, 1 },
    { "io/s", 10, 1 }, { "starvation events", 6, 0 },
};
#define NMETRICS ((int)(sizeof(metrics) / sizeof(metrics[0])))

static double cell_value(const struct cmp_cell *c, int m)
{
    const double v[NMETRICS] = { c->norm, c->p99_ms, c->work_s, c->io_s, c->starv };
    return c->members ? v[m] : NAN;
}

/* A line of the table, printed with its trailing blanks cut (the columns
 * of a missing figure are padded). */
struct line {
    FILE *m;
    char *buf;
    size_t len;
    bool direct;                    /* no memory: straight to the output */
};

static FILE *line_start(struct line *l, FILE *out)
{
    l->buf = NULL;
    l->m = open_memstream(&l->buf, &l->len);
    l->direct = !l->m;
    if (l->direct)
        l->m = out;
    return l->m;
}

static void line_end(struct line *l, FILE *out)
{
    if (l->direct) {
        fputc('\n', out);
        return;
    }
    if (fclose(l->m) == 0) {
        while (l->len && l->buf[l->len - 1] == ' ')
            l->len--;
        fprintf(out, "%.*s\n", (int)l->len, l->buf);
    }
    free(l->buf);
}

static void print_runs(const struct cmp *c, FILE *out)
{
    for (int r = 0; r < c->nruns; r++) {
        const struct cmp_run *run = &c->runs[r];
        char dur[32];
        if (isnan(run->duration_ns))
            snprintf(dur, sizeof(dur), "? s");
        else
            snprintf(dur, sizeof(dur), "%g s", run->duration_ns / 1e9);
        fprintf(out, "run %d: %s  scenario %s  policy %s  engine %s  mode %s  %s  %s\n", r + 1,
                run->dir, run->scenario, run->policy, run->engine, run->mode, dur,
                run->complete > 0 ? "complete" : run->complete == 0 ? "INCOMPLETE" : "complete ?");
    }
}

static void print_header(const struct cmp *c, FILE *out, int w, const int *cw)
{
    struct line l;
    FILE *f = line_start(&l, out);
    fprintf(f, "%-*s  %-6s  %-7s", w, "", "", "");
    for (int m = 0; m < NMETRICS; m++)
        fprintf(f, "  %-*s", c->nruns * cw[m] + (c->nruns - 1) * 2, metrics[m].title);
    line_end(&l, out);
    f = line_start(&l, out);
    fprintf(f, "%-*s  %-6s  %-7s", w, c->by_group ? "group" : "domain", "p99 of", "io/s of");
    for (int m = 0; m < NMETRICS; m++)
        for (int r = 0; r < c->nruns; r++)
            fprintf(f, "  %*d", cw[m], r + 1);
    line_end(&l, out);
}

static void print_row(const struct cmp *c, const struct cmp_row *row, FILE *out, int w,
                      const int *cw)
{
    struct line l;
    FILE *f = line_start(&l, out);
    fprintf(f, "%-*s  %-6s  %-7s", w, row->name, cmp_lat_name(row->lat), cmp_io_name(row->io));
    for (int m = 0; m < NMETRICS; m++)
        for (int r = 0; r < c->nruns; r++) {
            double v = cell_value(&row->cell[r], m);
            if (isnan(v))
                fprintf(f, "  %*s", cw[m], "-");
            else
                fprintf(f, "  %*.*f", cw[m], metrics[m].prec, v);
        }
    line_end(&l, out);
}

static void print_table(const struct cmp *c, FILE *out)
{
    int cw[NMETRICS], w = c->by_group ? 5 : 6;
    int rows = c->nrows < CMP_TABLE_MAX_ROWS ? c->nrows : CMP_TABLE_MAX_ROWS;
    for (int i = 0; i < rows; i++) {
        int len = (int)strlen(c->rows[i].name);
        w = len > w ? len : w;
    }
    /* Each metric's columns together at least as wide as its title. */
    for (int m = 0; m < NMETRICS; m++) {
        int need = (int)strlen(metrics[m].title) - (c->nruns - 1) * 2;
        int per = (need + c->nruns - 1) / c->nruns;
        cw[m] = per > metrics[m].width ? per : metrics[m].width;
    }
    print_runs(c, out);
    print_header(c, out, w, cw);
    for (int i = 0; i < rows; i++)
        print_row(c, &c->rows[i], out, w, cw);
    if (c->nrows > rows)
        fprintf(out, "... %d more %s (see compare.csv)\n", c->nrows - rows,
                c->by_group ? "groups" : "domains");
    fprintf(out, "p99 of: rtt = network round trip, blk = disk request, wakeup = wake-up latency,\n"
                 "        wait = runnable to running (a domain that never blocked)\n"
                 "io/s of: rx pkts = packets received per second (tx pkts: sent, for a domain that\n"
                 "        mostly sends), IOPS = disk requests per second\n");
    for (int r = 0; r < c->nruns; r++) {
        char j[32], mn[32];
        snprintf(j, sizeof(j), isnan(c->runs[r].jain) ? "-" : "%.3f", c->runs[r].jain);
        snprintf(mn, sizeof(mn), isnan(c->runs[r].min_norm) ? "-" : "%.2f", c->runs[r].min_norm);
        fprintf(out, "fairness run %d: jain %s  min normalized share %s\n", r + 1, j, mn);
    }
}

/* ---- compare.csv and the output directory --------------------------------------------- */

/* A CSV field, quoted when it must be (RFC 4180): directory and domain
 * names are the user's. */
static void csv_str(FILE *f, const char *s, bool last)
{
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputc(last ? '\n' : ',', f);
}

static void csv_num(FILE *f, double v, int prec, bool last)
{
    if (!isnan(v))
        fprintf(f, "%.*f", prec, v);
    fputc(last ? '\n' : ',', f);
}

static int write_csv(const struct cmp *c, const char *dir)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return -ENOMEM;
    fprintf(f, "run,dir,scenario,policy,engine,mode,%s,members,norm_share,p99_of,p99_ms,"
               "work_per_s,io_of,io_per_s,starvation_events\n", c->by_group ? "group" : "domain");
    for (int i = 0; i < c->nrows; i++)
        for (int r = 0; r < c->nruns; r++) {
            const struct cmp_row *row = &c->rows[i];
            const struct cmp_cell *cl = &row->cell[r];
            const struct cmp_run *run = &c->runs[r];
            if (!cl->members)
                continue;           /* not in that run: no row rather than a row of blanks */
            fprintf(f, "%d,", r + 1);
            csv_str(f, run->dir, false);
            csv_str(f, run->scenario, false);
            csv_str(f, run->policy, false);
            csv_str(f, run->engine, false);
            csv_str(f, run->mode, false);
            csv_str(f, row->name, false);
            fprintf(f, "%d,", cl->members);
            csv_num(f, cl->norm, 6, false);
            csv_str(f, cmp_lat_name(row->lat), false);
            csv_num(f, cl->p99_ms, 6, false);
            csv_num(f, cl->work_s, 3, false);
            csv_str(f, row->io == CMP_IO_NONE ? "" : cmp_io_name(row->io), false);
            csv_num(f, cl->io_s, 3, false);
            csv_num(f, cl->starv, 0, true);
        }
    if (fclose(f) != 0) {
        free(text);
        return -ENOMEM;
    }
    int err = results_write_atomic(dir, "compare.csv", text, len);
    free(text);
    return err;
}

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -ENAMETOOLONG;
    for (char *p = buf + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char ch = *p;
        *p = '\0';
        if (mkdir(buf, 0777) < 0 && errno != EEXIST)
            return -errno;
        *p = ch;
        if (!ch)
            break;
    }
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* --out, or results/compare/<UTC time>[-N] (mkdir decides which N is free,
 * so two compares in one second never share a directory). */
static int make_out_dir(const char *out, char *dir, size_t n)
{
    if (out) {
        if (snprintf(dir, n, "%s", out) >= (int)n)
            return -ENAMETOOLONG;
        return mkdir_p(dir);
    }
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm))
        return -EINVAL;
    snprintf(dir, n, "results/compare");
    int err = mkdir_p(dir);
    for (int i = 0; !err && i < 10000; i++) {
        int len = i ? snprintf(dir, n, "results/compare/%s-%d", stamp, i)
                    : snprintf(dir, n, "results/compare/%s", stamp);
        if (len < 0 || (size_t)len >= n)
            return -ENAMETOOLONG;
        if (mkdir(dir, 0777) == 0)
            return 0;
        if (errno != EEXIST)
            return -errno;
    }
    return err ? err : -EEXIST;
}

/* ---- the verb ------------------------------------------------------------------------ */

/* Write compare.csv and the charts; print where they are. 0 or 1. */
static int write_outputs(const struct cmp *c, const struct cargs *a, FILE *out, FILE *err)
{
    char dir[PATH_MAX], why[2048];
    int e = make_out_dir(a->out, dir, sizeof(dir));
    if (e) {
        fprintf(err, "fairvisor compare: cannot create %s: %s\n", a->out ? a->out : dir,
                strerror(-e));
        return 1;
    }
    if ((e = write_csv(c, dir))) {
        fprintf(err, "fairvisor compare: cannot write %s/compare.csv: %s\n", dir, strerror(-e));
        return 1;
    }
    fprintf(out, "table:  %s/compare.csv\n", dir);
    if (a->no_plot)
        return 0;
    why[0] = '\0';
    e = cmp_charts(c, dir, out, why, sizeof(why));
    if (e == 0)
        fprintf(out, "graphs: %s/compare-share.png, compare-p99.png, compare-throughput.png "
                     "(and .svg)\n", dir);
    if (e < 0) {
        fprintf(err, "fairvisor compare: graphs failed: %s\n", why[0] ? why : strerror(-e));
        return 1;
    }
    return 0;
}

int fv_compare_main(int argc, char **argv, FILE *out, FILE *err)
{
    struct cargs a = { 0 };
    int rc = parse_args(argc, argv, &a, out, err);
    if (rc >= 0)
        return rc;
    struct cmp c = { .by_group = a.by_group };
    c.runs = calloc((size_t)a.ndirs, sizeof(*c.runs));
    if (!c.runs) {
        fprintf(err, "fairvisor compare: %s\n", strerror(ENOMEM));
        return 1;
    }
    char msg[PATH_MAX + 512];
    for (int i = 0; i < a.ndirs; i++) {
        c.nruns = i + 1;
        if (cmp_load_run(a.dirs[i], &c.runs[i], msg, sizeof(msg))) {
            fprintf(err, "fairvisor compare: %s\n", msg);
            rc = EXIT_BAD;
            goto out;
        }
    }
    warn_scenarios(&c, err);
    if (build_rows(&c)) {
        fprintf(err, "fairvisor compare: %s\n", strerror(ENOMEM));
        rc = 1;
        goto out;
    }
    print_table(&c, out);
    fflush(out);
    rc = write_outputs(&c, &a, out, err);
out:
    free_cmp(&c);
    return rc;
}

int fv_cmd_compare(int argc, char **argv)
{
    return fv_compare_main(argc, argv, stdout, stderr);
}
