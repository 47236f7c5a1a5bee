/* fv_top.c — `fairvisor top`: xentop for fairvisor hosts (fv_client.h).
 * Each refresh reads GET /v1/host and GET /v1/domains from every host; the
 * rows come from that snapshot and the previous one (CPU(%) over the
 * interval, as xentop). Batch mode (-b) prints plain rows; else a live
 * screen drawn with ANSI escapes, keys read in raw mode (no ncurses). */
#include "fv_client.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const struct fvt_coldesc {
    const char *head, *alias;
    int width, decimals;            /* decimals < 0: text */
} cols[FVT_NCOLS] = {
    [FVT_HOST] = { "HOST", "host", 4, -1 },
    [FVT_NAME] = { "NAME", "name", 10, -1 },
    [FVT_STATE] = { "STATE", "state", 6, -1 },
    [FVT_CPU_S] = { "CPU(sec)", "time", 10, 0 },
    [FVT_CPU_PCT] = { "CPU(%)", "cpu", 6, 1 },
    [FVT_MEM] = { "MEM(k)", "mem", 10, 0 },
    [FVT_VCPUS] = { "VCPUS", "vcpus", 5, 0 },
    [FVT_NETTX] = { "NETTX(k)", "nettx", 8, 0 },
    [FVT_NETRX] = { "NETRX(k)", "netrx", 8, 0 },
    [FVT_VBD_RD] = { "VBD_RD", "vbd_rd", 8, 0 },
    [FVT_VBD_WR] = { "VBD_WR", "vbd_wr", 8, 0 },
    [FVT_BACKEND] = { "BACKEND(%)", "backend", 10, 1 },
    [FVT_WAIT] = { "WAIT_p99(ms)", "wait", 12, 3 },
    [FVT_STARVED] = { "STARVED", "starved", 7, 0 },
};

const char *fvt_state(const char *state)
{
    if (!state)
        return "------";
    if (!strcmp(state, "running"))
        return "-----r";
    if (!strcmp(state, "blocked"))
        return "--b---";
    if (!strcmp(state, "paused"))
        return "----p-";
    return "------";
}

/* ---- rows ------------------------------------------------------------------------------ */

static const json_t *find_id(const json_t *doms, int64_t id)
{
    size_t i;
    const json_t *d;
    json_array_foreach(doms, i, d)
        if (fvc_int_or(d, "id", INT64_MIN) == id)
            return d;
    return NULL;
}

static void free_row(struct fvt_row *r)
{
    free(r->name);
    for (int i = 0; i < r->ncounters; i++)
        free(r->counters[i].name);
    free(r->counters);
}

static int add_cname(struct fvt_table *t, const char *name)
{
    int i = 0;
    while (i < t->nc && strcmp(t->cnames[i], name) < 0)
        i++;
    if (i < t->nc && !strcmp(t->cnames[i], name))
        return 0;
    char **v = realloc(t->cnames, (size_t)(t->nc + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    t->cnames = v;
    memmove(v + i + 1, v + i, (size_t)(t->nc - i) * sizeof(*v));
    if (!(v[i] = strdup(name)))
        return -ENOMEM;
    t->nc++;
    return 0;
}

static int row_counters(struct fvt_table *t, struct fvt_row *r, const json_t *d)
{
    const json_t *cs = json_object_get(d, "counters"), *v;
    const char *k;
    if (!json_is_object(cs))
        return 0;
    r->counters = calloc(json_object_size(cs) + 1, sizeof(*r->counters));
    if (!r->counters)
        return -ENOMEM;
    json_object_foreach((json_t *)cs, k, v) {
        if (!json_is_number(v))
            continue;
        struct fvt_counter *c = &r->counters[r->ncounters];
        if (!(c->name = strdup(k)) || add_cname(t, k))
            return -ENOMEM;
        c->v = json_is_integer(v) ? json_integer_value(v) : (int64_t)json_number_value(v);
        r->ncounters++;
    }
    return 0;
}

/* Share of one pCPU in % over the interval, or the fallback. */
static double pct(int64_t cur, int64_t prev, bool have_prev, int64_t dt, double fallback)
{
    if (!have_prev || dt <= 0 || cur < prev)
        return fallback;
    return (double)(cur - prev) / (double)dt * 100.0;
}

static int fill_row(struct fvt_row *r, const json_t *d, const struct fvt_snap *cur,
                    const struct fvt_snap *prev, char *why, size_t wlen)
{
    const char *name, *state;
    int64_t cpu, vcpus, mem;
    if (fvc_str(d, "name", &name, why, wlen))
        return -EINVAL;
    if (!(r->name = strdup(name)))
        return -ENOMEM;
    if (fvc_int(d, "id", &r->id, why, wlen) || fvc_str(d, "state", &state, why, wlen) ||
        fvc_int(d, "cpu_ns", &cpu, why, wlen) || fvc_int(d, "vcpus", &vcpus, why, wlen) ||
        fvc_int(d, "memory_bytes", &mem, why, wlen))
        return -EINVAL;
    snprintf(r->state, sizeof(r->state), "%s", fvt_state(state));
    const json_t *pd = prev && json_is_array(prev->domains) ? find_id(prev->domains, r->id) : NULL;
    int64_t dt = prev ? cur->t_ns - prev->t_ns : 0;
    int64_t be = fvc_int_or(d, "backend_cpu_ns", 0), created = fvc_int_or(d, "created_ns", -1);
    int64_t life = created >= 0 ? cur->uptime_ns - created : 0;
    double v[FVT_NCOLS] = {
        [FVT_CPU_S] = (double)(cpu / 1000000000),
        [FVT_CPU_PCT] = pct(cpu, fvc_int_or(pd, "cpu_ns", 0), pd, dt,
                            fvc_num_or(d, "cpu_share_recent", 0) * cur->pcpus * 100.0),
        [FVT_MEM] = (double)(mem / 1024),
        [FVT_VCPUS] = (double)vcpus,
        [FVT_NETTX] = (double)(fvc_int_or(d, "net.tx_bytes", 0) / 1024),
        [FVT_NETRX] = (double)(fvc_int_or(d, "net.rx_bytes", 0) / 1024),
        [FVT_VBD_RD] = (double)fvc_int_or(d, "blk.reads", 0),
        [FVT_VBD_WR] = (double)fvc_int_or(d, "blk.writes", 0),
        [FVT_BACKEND] = pct(be, fvc_int_or(pd, "backend_cpu_ns", 0), pd, dt,
                            life > 0 ? (double)be / (double)life * 100.0 : 0.0),
        [FVT_WAIT] = (double)fvc_int_or(d, "wait_ns.p99", 0) / 1e6,
        [FVT_STARVED] = (double)fvc_int_or(d, "starvation_events", 0),
    };
    memcpy(r->v, v, sizeof(v));
    return 0;
}

int fvt_add_host(struct fvt_table *t, const char *host, const struct fvt_snap *cur,
                 const struct fvt_snap *prev, char *err, size_t errlen)
{
    size_t n = json_is_array(cur->domains) ? json_array_size(cur->domains) : 0, i;
    const json_t *d;
    if (!json_is_array(cur->domains)) {
        snprintf(err, errlen, "bad reply: no array \"domains\"");
        return -EINVAL;
    }
    struct fvt_row *rows = realloc(t->rows, (t->n + n + 1) * sizeof(*rows));
    if (!rows)
        return -ENOMEM;
    t->rows = rows;
    int base = t->n, rc = 0;
    json_array_foreach(cur->domains, i, d) {
        struct fvt_row *r = &rows[base + (int)i];
        char why[256] = "not an object";
        memset(r, 0, sizeof(*r));
        r->host = host;
        r->idx = base + (int)i;
        rc = json_is_object(d) ? fill_row(r, d, cur, prev, why, sizeof(why)) : -EINVAL;
        if (!rc)
            rc = row_counters(t, r, d);
        if (rc) {
            if (r->name)
                snprintf(err, errlen, "bad reply: domain \"%s\": %s", r->name, why);
            else
                snprintf(err, errlen, "bad reply: domains[%zu]: %s", i, why);
            for (int k = base; k <= base + (int)i; k++)
                free_row(&rows[k]);
            return rc == -ENOMEM ? rc : -EINVAL;
        }
    }
    t->n += (int)n;
    return 0;
}

void fvt_free(struct fvt_table *t)
{
    for (int i = 0; i < t->n; i++)
        free_row(&t->rows[i]);
    for (int i = 0; i < t->nc; i++)
        free(t->cnames[i]);
    free(t->rows);
    free(t->cnames);
    memset(t, 0, sizeof(*t));
}

/* ---- sorting ------------------------------------------------------------------------------ */

static int fixed_column(const char *column)
{
    for (int i = 0; i < FVT_NCOLS; i++)
        if (!strcasecmp(column, cols[i].head) || !strcasecmp(column, cols[i].alias))
            return i;
    return -1;
}

bool fvt_known_column(const char *column)
{
    return fixed_column(column) >= 0;
}

static const struct fvt_counter *counter_of(const struct fvt_row *r, const char *name)
{
    for (int i = 0; i < r->ncounters; i++)
        if (!strcmp(r->counters[i].name, name))
            return &r->counters[i];
    return NULL;
}

struct sort_key {
    int col;                    /* a fixed column, or -1 */
    const char *counter;        /* else this counter */
};

static int cmp_rows(const void *pa, const void *pb, void *ud)
{
    const struct fvt_row *a = pa, *b = pb;
    const struct sort_key *k = ud;
    int c = 0;
    if (k->counter) {
        const struct fvt_counter *x = counter_of(a, k->counter), *y = counter_of(b, k->counter);
        int64_t xv = x ? x->v : INT64_MIN, yv = y ? y->v : INT64_MIN;
        c = xv > yv ? -1 : xv < yv;
    } else if (k->col == FVT_HOST) {
        c = strcmp(a->host, b->host);
    } else if (k->col == FVT_NAME) {
        c = strcasecmp(a->name, b->name);
    } else if (k->col == FVT_STATE) {
        c = strcmp(a->state, b->state);
    } else {                    /* numbers: the largest first, as xentop */
        c = a->v[k->col] > b->v[k->col] ? -1 : a->v[k->col] < b->v[k->col];
    }
    return c ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

int fvt_sort(struct fvt_table *t, const char *column)
{
    struct sort_key k = { .col = fixed_column(column) };
    for (int i = 0; k.col < 0 && !k.counter && i < t->nc; i++)
        if (!strcasecmp(t->cnames[i], column))
            k.counter = t->cnames[i];
    if (k.col < 0 && !k.counter)
        return -ENOENT;
    if (t->n > 1)
        qsort_r(t->rows, (size_t)t->n, sizeof(*t->rows), cmp_rows, &k);
    return 0;
}

/* ---- printing ------------------------------------------------------------------------------ */

static void upper(char *dst, const char *src, size_t len)
{
    size_t i = 0;
    for (; src[i] && i + 1 < len; i++)
        dst[i] = (char)toupper((unsigned char)src[i]);
    dst[i] = '\0';
}

void fvt_print(FILE *f, const struct fvt_table *t, bool host_col)
{
    int hw = cols[FVT_HOST].width, nw = cols[FVT_NAME].width, cw[t->nc + 1];
    char head[128];
    for (int i = 0; i < t->n; i++) {
        if ((int)strlen(t->rows[i].host) > hw)
            hw = (int)strlen(t->rows[i].host);
        if ((int)strlen(t->rows[i].name) > nw)
            nw = (int)strlen(t->rows[i].name);
    }
    if (host_col)
        fprintf(f, "%-*s ", hw, "HOST");
    fprintf(f, "%*s", nw, "NAME");
    for (int c = FVT_STATE; c < FVT_NCOLS; c++)
        fprintf(f, " %*s", cols[c].width, cols[c].head);
    for (int k = 0; k < t->nc; k++) {
        upper(head, t->cnames[k], sizeof(head));
        cw[k] = strlen(head) > 8 ? (int)strlen(head) : 8;
        fprintf(f, " %*s", cw[k], head);
    }
    fputc('\n', f);
    for (int i = 0; i < t->n; i++) {
        const struct fvt_row *r = &t->rows[i];
        if (host_col)
            fprintf(f, "%-*s ", hw, r->host);
        fprintf(f, "%*s %*s", nw, r->name, cols[FVT_STATE].width, r->state);
        for (int c = FVT_STATE + 1; c < FVT_NCOLS; c++)
            if (cols[c].decimals)
                fprintf(f, " %*.*f", cols[c].width, cols[c].decimals, r->v[c]);
            else
                fprintf(f, " %*lld", cols[c].width, (long long)r->v[c]);
        for (int k = 0; k < t->nc; k++) {
            const struct fvt_counter *cn = counter_of(r, t->cnames[k]);
            if (cn)
                fprintf(f, " %*lld", cw[k], (long long)cn->v);
            else
                fprintf(f, " %*s", cw[k], "-");
        }
        fputc('\n', f);
    }
}

/* ---- the command ------------------------------------------------------------------------ */

static const char top_help[] =
    "usage: fairvisor top [-d SECS] [-b] [-i N] [-s COLUMN] [--host URL]... [options]\n"
    "\n"
    "The domains of the hosts, refreshed every SECS, as xentop: NAME STATE\n"
    "CPU(sec) CPU(%) MEM(k) VCPUS NETTX(k) NETRX(k) VBD_RD VBD_WR BACKEND(%)\n"
    "WAIT_p99(ms) STARVED and one column per counter the domains report.\n"
    "CPU(%) is the share since the previous refresh (100 = one pCPU; the first\n"
    "refresh shows the host's recent share); BACKEND(%) the Domain-0 CPU spent on\n"
    "the domain's I/O, likewise; WAIT_p99 the 99th percentile of its runnable\n"
    "wait; STARVED its starvation events. With several hosts, a column HOST.\n"
    "Keys: q quit; sort by n name, c CPU(%), t CPU(sec), m memory, w wait,\n"
    "b backend, s starved, h host.\n"
    "\n"
    "  -d SECS     seconds between refreshes (default 3; fractions: 0.5)\n"
    "  -b          batch: plain rows, each refresh after the header line\n"
    "  -i N        N refreshes, then exit\n"
    "  -s COLUMN   sort by COLUMN: a header (CPU(%)), name, cpu, mem, wait,\n"
    "              starved, backend, ... or a counter (page-faults)\n"
    FVV_COMMON_HELP;

struct top_state {
    double delay;
    bool batch;
    long iters;
    const char *sort;
    bool warned_sort;
    json_t **prev_doc;              /* per host: its last GET /v1/domains */
    struct fvt_snap *prev;
    char **errs;                    /* per host: this refresh's failure */
    struct fvt_table t;
};

static volatile sig_atomic_t top_stop;

static void on_stop(int sig)
{
    (void)sig;
    top_stop = 1;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int top_parse(struct fvv_ctx *c, int argc, char **argv, struct top_state *s)
{
    int st, o;
    char *end, msg[256];
    while ((o = fvv_getopt(c, argc, argv, "d:bi:s:", NULL, top_help, &st)) != FVV_END) {
        if (o == FVV_EXIT)
            return st;
        if (o == 'b') {
            s->batch = true;
        } else if (o == 'd') {
            errno = 0;
            s->delay = strtod(optarg, &end);
            if (end == optarg || *end || errno || !isfinite(s->delay) || s->delay <= 0 ||
                s->delay > 86400) {
                snprintf(msg, sizeof(msg), "-d: expected seconds > 0 (3, 0.5), got '%s'", optarg);
                return fvv_usage_error(c, top_help, msg);
            }
        } else if (o == 'i') {
            if (fvv_parse_long(optarg, 1, 1000000000L, &s->iters)) {
                snprintf(msg, sizeof(msg), "-i: expected a count >= 1, got '%s'", optarg);
                return fvv_usage_error(c, top_help, msg);
            }
        } else if (o == 's') {
            if (!*optarg)
                return fvv_usage_error(c, top_help, "-s needs a COLUMN");
            s->sort = optarg;
        }
    }
    if (argc != optind)
        return fvv_usage_error(c, top_help, "unexpected argument");
    return -1;
}

/* One host's refresh into s->t; its failure into s->errs[i]. */
static void refresh_host(struct fvv_ctx *c, struct top_state *s, int i)
{
    struct fvc_host *h = &c->hosts.v[i];
    char err[4608];
    json_t *hd = NULL, *dd = NULL;
    free(s->errs[i]);
    s->errs[i] = NULL;
    if (fvc_json(h, "GET", "/v1/host", NULL, 0, NULL, &hd, err, sizeof(err)) ||
        fvc_json(h, "GET", "/v1/domains", NULL, 0, NULL, &dd, err, sizeof(err))) {
        s->errs[i] = strdup(err);
        json_decref(hd);
        return;
    }
    struct fvt_snap cur = {
        .domains = json_object_get(dd, "domains"), .t_ns = mono_ns(),
        .pcpus = (int)fvc_int_or(hd, "pcpus", 1), .uptime_ns = fvc_int_or(hd, "uptime_ns", 0),
    };
    if (fvt_add_host(&s->t, h->url, &cur, s->prev_doc[i] ? &s->prev[i] : NULL, err,
                     sizeof(err))) {
        s->errs[i] = strdup(err);
        json_decref(dd);
    } else {
        /* Kept while a host fails: the next delta then spans the gap, still right. */
        json_decref(s->prev_doc[i]);
        s->prev_doc[i] = dd;
        s->prev[i] = cur;
    }
    json_decref(hd);
}

static const char *sort_name(const struct top_state *s)
{
    return s->sort ? s->sort : "none (creation order)";
}

static void apply_sort(struct fvv_ctx *c, struct top_state *s)
{
    if (s->sort && fvt_sort(&s->t, s->sort) && s->t.n && s->batch && !s->warned_sort) {
        fvv_fail(c, NULL, "-s %s: no such column; rows left unsorted", s->sort);
        s->warned_sort = true;
    }
}

/* The live screen: a status line, failures, the table cut to the terminal. */
static void draw_screen(struct fvv_ctx *c, struct top_state *s)
{
    char *text = NULL, now[16];
    size_t len = 0;
    time_t tt = time(NULL);
    struct tm tm;
    struct winsize ws = { 0 };
    int lines = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row ? ws.ws_row : 0, used;
    strftime(now, sizeof(now), "%H:%M:%S", localtime_r(&tt, &tm));
    fprintf(c->out, "\033[H\033[2Jfairvisor top - %s  hosts %d  domains %d  sort: %s%s  "
            "(q quit; sort n c t m w b s h)\n", now, c->hosts.n, s->t.n, sort_name(s),
            s->sort && fvt_sort(&s->t, s->sort) && s->t.n ? " (no such column)" : "");
    used = 1;
    for (int i = 0; i < c->hosts.n; i++)
        if (s->errs[i]) {
            fprintf(c->out, "%s: %s\n", c->hosts.v[i].url, s->errs[i]);
            used++;
        }
    fputc('\n', c->out);
    used++;
    FILE *m = open_memstream(&text, &len);
    if (m) {
        fvt_print(m, &s->t, c->hosts.n > 1);
        fclose(m);
        const char *p = text;
        for (; *p && (!lines || used < lines); used++) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
            fwrite(p, 1, n, c->out);
            p += n;
        }
    }
    free(text);
    fflush(c->out);
}

/* A key: true to quit. */
static bool on_key(struct top_state *s, char k)
{
    static const char keys[] = "nctmwbsh";
    static const char *const sorts[] = { "name", "cpu", "time", "mem", "wait", "backend",
                                         "starved", "host" };
    if (k == 'q' || k == 'Q')
        return true;
    const char *p = strchr(keys, k);
    if (p && *p)
        s->sort = sorts[p - keys];
    return false;
}

/* Wait delay seconds; in live mode read keys meanwhile (a sort key redraws
 * at once). true: quit. */
static bool top_wait(struct fvv_ctx *c, struct top_state *s, bool keys)
{
    int64_t end = mono_ns() + (int64_t)(s->delay * 1e9);
    for (int64_t left; !top_stop && (left = end - mono_ns()) > 0;) {
        struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
        int ms = (int)((left + 999999) / 1000000);
        if (!keys) {
            struct timespec ts = { left / 1000000000, left % 1000000000 };
            nanosleep(&ts, NULL);
            continue;
        }
        if (poll(&pfd, 1, ms) <= 0 || !(pfd.revents & POLLIN))
            continue;
        char buf[32];
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
        for (ssize_t i = 0; i < n; i++)
            if (on_key(s, buf[i]))
                return true;
        if (n > 0) {
            apply_sort(c, s);
            draw_screen(c, s);
        }
    }
    return top_stop;
}

static int top_loop(struct fvv_ctx *c, struct top_state *s, bool keys)
{
    int rc = 0;
    for (long it = 0; !top_stop; it++) {
        fvt_free(&s->t);
        for (int i = 0; i < c->hosts.n; i++) {
            refresh_host(c, s, i);
            /* Batch output is read by scripts: a failed host is on stderr and in
             * the exit status. The live screen shows it; quitting is success. */
            if (s->errs[i] && s->batch) {
                rc = FVC_EXIT_FAIL;
                fvv_fail(c, c->hosts.v[i].url, "%s", s->errs[i]);
            }
        }
        apply_sort(c, s);
        if (s->batch) {
            fvt_print(c->out, &s->t, c->hosts.n > 1);
            fflush(c->out);
        } else {
            draw_screen(c, s);
        }
        if ((s->iters && it + 1 >= s->iters) || top_wait(c, s, keys))
            break;
    }
    return rc;
}

int fvt_main(struct fvv_ctx *c, int argc, char **argv)
{
    struct top_state s = { .delay = 3.0 };
    int st = top_parse(c, argc, argv, &s);
    if (st >= 0 || (st = fvv_setup_hosts(c)) >= 0)
        return st;
    int n = c->hosts.n;
    s.prev_doc = calloc((size_t)n, sizeof(*s.prev_doc));
    s.prev = calloc((size_t)n, sizeof(*s.prev));
    s.errs = calloc((size_t)n, sizeof(*s.errs));
    if (!s.prev_doc || !s.prev || !s.errs) {
        fvv_fail(c, NULL, "%s", strerror(ENOMEM));
        st = FVC_EXIT_FAIL;
        goto out;
    }
    struct termios saved, raw;
    bool keys = !s.batch && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    struct sigaction sa = { .sa_handler = on_stop }, old_int, old_term;
    top_stop = 0;
    if (!s.batch) {
        /* No SA_RESTART: poll and nanosleep return at once on Ctrl-C. */
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        fputs("\033[?25l", c->out);                 /* hide the cursor */
    }
    if (keys) {
        raw = saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);  /* ISIG kept: Ctrl-C still stops */
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    st = top_loop(c, &s, keys);
    if (keys)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    if (!s.batch) {
        fputs("\033[?25h\n", c->out);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
out:
    fvt_free(&s.t);
    for (int i = 0; i < n; i++) {
        if (s.prev_doc)
            json_decref(s.prev_doc[i]);
        if (s.errs)
            free(s.errs[i]);
    }
    free(s.prev_doc);
    free(s.prev);
    free(s.errs);
    return st;
}
