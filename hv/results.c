/* results.c — a run's results directory (see results.h, DESIGN §7).
 *
 * Every file is first written as NAME.tmp in the same directory, flushed,
 * fsync'd and renamed over NAME: rename within one file system is atomic, so
 * a reader (or a crash) sees either the old file, the new one, or none — never
 * a half-written one. The directory is fsync'd after each rename so the new
 * name itself survives a power loss.
 *
 * Domain names are written into the CSV files with ',', '"' and whitespace
 * replaced by '_': the CSVs are read by gnuplot, which splits on commas and
 * receives the list of domains as a space-separated word list.
 */
#include "results.h"

#include "engine.h"
#include "results_starve.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "version.h"

/* Columns are only ever appended: scripts and `fairvisor plot` find them
 * by position, and read files from before the net_* or blk_* columns too. */
#define TIMELINE_HEADER "t_s,domain,cpu_ns,cpu_share,entitled_share,runnable_ns,work_units," \
                        "wakeups,net_tx_pkts,net_rx_pkts,net_tx_bytes,net_rx_bytes,net_drops," \
                        "blk_reads,blk_writes,blk_bytes,blk_errors\n"

/* A file being written under its temporary name. */
struct afile {
    FILE *f;
    char tmp[PATH_MAX];
    char final[PATH_MAX];
};

struct results {
    char dir[PATH_MAX];
    bool made_dir;                  /* dir is ours: stamped, or --out created here */
    const struct scenario *scn;
    struct afile tl;                /* timeline.csv.tmp while open */
    int tl_err;                     /* first write error on the timeline */
};

/* ---- paths and atomic files ------------------------------------------------ */

static int path_join(char *buf, size_t n, const char *a, const char *b)
{
    int len = snprintf(buf, n, "%s/%s", a, b);
    return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len == 0)
        return -EINVAL;
    if (len >= sizeof(buf))
        return -ENAMETOOLONG;
    memcpy(buf, path, len + 1);
    /* Create each prefix in turn; existing ones are fine. */
    for (char *p = buf + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0777) < 0 && errno != EEXIST)
            return -errno;
        *p = c;
        if (c == '\0')
            break;
    }
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* Best effort: make the renames in `dir` durable. Not every file system
 * supports fsync on a directory, and the data itself is already safe. */
static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static int afile_open(struct afile *af, const char *dir, const char *name)
{
    int err = path_join(af->final, sizeof(af->final), dir, name);
    if (err)
        return err;
    if (snprintf(af->tmp, sizeof(af->tmp), "%s.tmp", af->final) >= (int)sizeof(af->tmp))
        return -ENAMETOOLONG;
    af->f = fopen(af->tmp, "we");
    return af->f ? 0 : -errno;
}

static void afile_abort(struct afile *af)
{
    if (!af->f)
        return;
    fclose(af->f);
    af->f = NULL;
    unlink(af->tmp);
}

/* Flush, fsync and rename into place; on any error the temp file goes. */
static int afile_commit(struct afile *af)
{
    int err = 0;
    if (fflush(af->f) != 0)
        err = -errno;
    else if (ferror(af->f))
        err = -EIO;                 /* an earlier write failed; errno is long gone */
    else if (fsync(fileno(af->f)) < 0)
        err = -errno;
    if (fclose(af->f) != 0 && !err)
        err = -errno;
    af->f = NULL;
    if (!err && rename(af->tmp, af->final) < 0)
        err = -errno;
    if (err) {
        unlink(af->tmp);
        return err;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", af->final);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        fsync_dir(dir);
    }
    return 0;
}

int results_write_atomic(const char *dir, const char *name, const char *data, size_t len)
{
    struct afile af;
    int err = afile_open(&af, dir, name);
    if (err)
        return err;
    if (len && fwrite(data, 1, len, af.f) != len) {
        err = errno ? -errno : -EIO;
        afile_abort(&af);
        return err;
    }
    return afile_commit(&af);
}

/* ---- opening ---------------------------------------------------------------- */

static const char *scn_policy_name(const struct scenario *s)
{
    return s->policy && s->policy->name ? s->policy->name : "unknown";
}

/* results/<scenario>/<stamp>-<policy>-<engine>[-N]: mkdir() itself decides
 * which suffix is free, so two runs started in the same second never share a
 * directory. */
static int make_stamped_dir(const struct scenario *s, const char *root, char *dir, size_t n)
{
    char base[PATH_MAX], stamp[32];
    /* The name becomes a path component: it must not climb out of root. */
    if (!s->name[0] || strchr(s->name, '/') || !strcmp(s->name, ".") || !strcmp(s->name, ".."))
        return -EINVAL;
    if (snprintf(base, sizeof(base), "%s/%s", root ? root : "results", s->name) >= (int)sizeof(base))
        return -ENAMETOOLONG;
    int err = mkdir_p(base);
    if (err)
        return err;
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm))
        return -EINVAL;
    const char *engine = s->engine[0] ? s->engine : "sim";
    for (int i = 0; i < 10000; i++) {
        int len = i == 0
            ? snprintf(dir, n, "%s/%s-%s-%s", base, stamp, scn_policy_name(s), engine)
            : snprintf(dir, n, "%s/%s-%s-%s-%d", base, stamp, scn_policy_name(s), engine, i);
        if (len < 0 || (size_t)len >= n)
            return -ENAMETOOLONG;
        if (mkdir(dir, 0777) == 0)
            return 0;
        if (errno != EEXIST)
            return -errno;
    }
    return -EEXIST;
}

static int write_scenario_yaml(const struct results *r)
{
    struct afile af;
    int err = afile_open(&af, r->dir, "scenario.yaml");
    if (err)
        return err;
    err = scenario_write_yaml(r->scn, af.f);
    if (err) {
        afile_abort(&af);
        return err;
    }
    return afile_commit(&af);
}

static int open_timeline(struct results *r)
{
    int err = afile_open(&r->tl, r->dir, "timeline.csv");
    if (err)
        return err;
    if (fputs(TIMELINE_HEADER, r->tl.f) == EOF) {
        afile_abort(&r->tl);
        return -EIO;
    }
    return 0;
}

/* Fill r->dir and create it with plots/; *what names the failing step. */
static int make_dirs(struct results *r, const char *out, const char *root, const char **what)
{
    int err;
    *what = "cannot create directory";
    if (out) {
        if (snprintf(r->dir, sizeof(r->dir), "%s", out) >= (int)sizeof(r->dir))
            return -ENAMETOOLONG;
        struct stat st;
        r->made_dir = stat(r->dir, &st) != 0;
        err = mkdir_p(r->dir);
    } else {
        err = make_stamped_dir(r->scn, root, r->dir, sizeof(r->dir));
        r->made_dir = err == 0;
    }
    if (err)
        return err;
    char plots[PATH_MAX];
    err = path_join(plots, sizeof(plots), r->dir, "plots");
    return err ? err : mkdir_p(plots);
}

/* Undo make_dirs for a directory of our own naming, so a failed open leaves
 * no empty run behind (rmdir refuses anything not empty: nothing is lost). */
static void remove_stamped_dir(const char *dir)
{
    char plots[PATH_MAX];
    if (path_join(plots, sizeof(plots), dir, "plots") == 0)
        rmdir(plots);
    rmdir(dir);
}

struct results *results_open(const struct scenario *s, const char *out, const char *root,
                             char *err, size_t errlen)
{
    struct results *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "results: out of memory");
        return NULL;
    }
    r->scn = s;
    const char *what;
    int e = make_dirs(r, out, root, &what);
    if (!e) {
        what = "cannot write scenario.yaml";
        e = write_scenario_yaml(r);
    }
    if (!e) {
        what = "cannot create timeline.csv";
        e = open_timeline(r);
    }
    if (e) {
        snprintf(err, errlen, "%s: %s: %s", r->dir[0] ? r->dir : (out ? out : "results"),
                 what, strerror(-e));
        if (!out && r->dir[0])
            remove_stamped_dir(r->dir);
        free(r);
        return NULL;
    }
    return r;
}

const char *results_dir(const struct results *r)
{
    return r->dir;
}

/* ---- timeline ----------------------------------------------------------------- */

/* Copy a domain name for a CSV field (see the top of the file). */
static void csv_name(char *dst, size_t n, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c == ',' || c == '"' || c <= ' ' || c == 0x7f) ? '_' : (char)c;
    }
    dst[i] = '\0';
}

/* Seconds with at least 3 and at most 9 decimals, exact (no float rounding):
 * 0.100, 1.000250. */
static void fmt_seconds(char *buf, size_t n, fv_ns_t ns)
{
    const char *sign = ns < 0 ? "-" : "";
    uint64_t v = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    int len = snprintf(buf, n, "%s%" PRIu64 ".%09" PRIu64, sign, v / 1000000000u, v % 1000000000u);
    if (len < 0 || (size_t)len >= n)
        return;
    char *dot = strchr(buf, '.');
    char *end = buf + len;
    while (end > dot + 4 && end[-1] == '0')
        end--;
    *end = '\0';
}

static void timeline_rows(void *ctx, const struct timeline_row *rows, int n)
{
    struct results *r = ctx;
    if (!r->tl.f)
        return;
    for (int i = 0; i < n; i++) {
        const struct timeline_row *row = &rows[i];
        char t[40], name[SCN_NAME_MAX];
        if (row->dom_index < 0 || row->dom_index >= r->scn->nr_domains)
            continue;               /* not a domain of this scenario: nothing to name it by */
        fmt_seconds(t, sizeof(t), row->t1);
        csv_name(name, sizeof(name), r->scn->domains[row->dom_index].name);
        if (fprintf(r->tl.f, "%s,%s,%" PRId64 ",%.6f,%.6f,%" PRId64 ",%" PRIu64 ",%" PRIu64
                    ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                    ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
                    t, name, (int64_t)row->cpu_ns, row->cpu_share, row->entitled_share,
                    (int64_t)row->runnable_ns, row->work_units, row->wakeups, row->net_tx_pkts,
                    row->net_rx_pkts, row->net_tx_bytes, row->net_rx_bytes, row->net_drops,
                    row->blk_reads, row->blk_writes, row->blk_bytes, row->blk_errors) < 0
            && !r->tl_err)
            r->tl_err = errno ? -errno : -EIO;
    }
}

struct timeline_sink results_timeline_sink(struct results *r)
{
    return (struct timeline_sink){ .rows = timeline_rows, .ctx = r };
}

static int close_timeline(struct results *r)
{
    if (!r->tl.f)
        return 0;
    if (r->tl_err) {
        /* Keep what was written before the error rather than lose it all. */
        int err = r->tl_err;
        (void)afile_commit(&r->tl);
        return err;
    }
    return afile_commit(&r->tl);
}

/* ---- summary.json ----------------------------------------------------------- */

/* json_integer is signed 64-bit; a larger unsigned value (a huge seed) is
 * kept exactly as a string of digits rather than wrapped negative. */
static json_t *ju64(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)v);
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return json_string(buf);
}

static json_t *json_pct(const struct fv_hist *h)
{
    return json_pack("{s:I, s:I, s:I}",
                     "p50", (json_int_t)hist_quantile(h, 0.50),
                     "p99", (json_int_t)hist_quantile(h, 0.99),
                     "max", (json_int_t)(h->count ? h->max : 0));
}

/* Device figures: the devices are not modelled yet, so all zeros, but the
 * fields are part of the interface and present already. */
static json_t *json_zero_pct(void)
{
    return json_pack("{s:I, s:I, s:I}", "p50", (json_int_t)0, "p99", (json_int_t)0,
                     "max", (json_int_t)0);
}

static const char *const net_drop_names[RUN_NET_DROP_CAUSES] = {
    "no_rx_buffer", "no_dest", "port_full", "no_buffer", "disconnected", "spoofed",
};

/* `net`: netback's counters for the domain's vifs; the round-trip latency
 * is what its workload sampled (net-echo). Additions to DESIGN's fields:
 * drops by cause, and the vifs netback disconnected with the first reason. */
static json_t *json_net(const struct dom_result *d)
{
    const struct dom_net *n = &d->net;
    json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "tx_pkts", (json_int_t)n->tx_pkts,
                          "rx_pkts", (json_int_t)n->rx_pkts, "tx_bytes", (json_int_t)n->tx_bytes,
                          "rx_bytes", (json_int_t)n->rx_bytes, "drops", (json_int_t)n->drops,
                          "latency_ns", n->present ? json_pct(&d->app_latency) : json_zero_pct());
    if (!j || !n->present)
        return j;
    json_t *by = json_object();
    int bad = !by;
    for (int k = 0; by && k < RUN_NET_DROP_CAUSES; k++)
        bad |= json_object_set_new(by, net_drop_names[k], json_integer((json_int_t)n->drops_by[k]));
    bad |= json_object_set_new(j, "drops_by_cause", by);
    bad |= json_object_set_new(j, "disconnects", json_integer((json_int_t)n->disconnects));
    if (n->disconnects)
        bad |= json_object_set_new(j, "disconnect_reason", json_string(n->disconnect_reason));
    if (bad) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* `blk`: blkback's counters for the domain's vbds. Additions to DESIGN's
 * fields: flushes, errors and unsupported requests, the vbds blkback
 * disconnected with the first reason, and whether a file was served with
 * O_DIRECT. */
static json_t *json_blk(const struct dom_result *d)
{
    const struct dom_blk *b = &d->blk;
    json_t *j = json_pack("{s:I, s:I, s:I, s:o}", "reads", (json_int_t)b->reads,
                          "writes", (json_int_t)b->writes, "bytes", (json_int_t)b->bytes,
                          "latency_ns", b->present ? json_pct(&b->latency) : json_zero_pct());
    if (!j || !b->present)
        return j;
    int bad = json_object_set_new(j, "flushes", json_integer((json_int_t)b->flushes));
    bad |= json_object_set_new(j, "errors", json_integer((json_int_t)b->errors));
    bad |= json_object_set_new(j, "unsupported", json_integer((json_int_t)b->unsupported));
    bad |= json_object_set_new(j, "direct", json_boolean(b->direct));
    bad |= json_object_set_new(j, "disconnects", json_integer((json_int_t)b->disconnects));
    if (b->disconnects)
        bad |= json_object_set_new(j, "disconnect_reason", json_string(b->disconnect_reason));
    if (bad) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static json_t *json_domain_base(const struct dom_result *d)
{
    return json_pack(
        "{s:s, s:i, s:i, s:I, s:I, s:f, s:f, s:o, s:o, s:I, s:I, s:I, s:I, s:I,"
        " s:o, s:o, s:I, s:o, s:I, s:I, s:I}",
        "name", d->name, "id", d->id, "vcpus", d->vcpus, "weight", (json_int_t)d->weight,
        "cpu_ns", (json_int_t)d->cpu_ns, "cpu_share", d->cpu_share,
        "entitled_share", d->entitled_share,
        "wait_ns", json_pct(&d->wait), "wakeup_latency_ns", json_pct(&d->wakeup),
        "work_units", (json_int_t)d->work_units, "deadline_misses", (json_int_t)d->deadline_misses,
        "starved_ns", (json_int_t)d->starved_ns,
        "starvation_events", (json_int_t)d->starvation_events,
        "backend_cpu_ns", (json_int_t)d->backend_cpu_ns,
        "net", json_net(d), "blk", json_blk(d),
        /* additions to the DESIGN fields */
        "cap", (json_int_t)d->cap, "app_latency_ns", json_pct(&d->app_latency),
        "entitled_ns", (json_int_t)d->entitled_ns, "runnable_ns", (json_int_t)d->runnable_ns,
        "sched_deadline_misses", (json_int_t)d->sched_deadline_misses);
}

/* More additions: whether the hypervisor crashed the domain (and when,
 * why), and the guest memory it touched (real engine). */
static json_t *json_domain(const struct dom_result *d, int nr_counters,
                           const char (*names)[RUN_COUNTER_NAME_MAX])
{
    json_t *j = json_domain_base(d);
    if (!j)
        return NULL;
    int bad = json_object_set_new(j, "crashed", json_boolean(d->crashed));
    if (d->crashed) {
        bad |= json_object_set_new(j, "crashed_at_ns", json_integer((json_int_t)d->crashed_at_ns));
        bad |= json_object_set_new(j, "crash_reason", json_string(d->crash_reason));
    }
    bad |= json_object_set_new(j, "mem_resident_bytes",
                               json_integer((json_int_t)d->mem_resident_bytes));
    bad |= json_object_set_new(j, "guest_errors", json_integer((json_int_t)d->guest_errors));
    bad |= json_object_set_new(j, "charged_ns", json_integer((json_int_t)d->charged_ns));
    if (nr_counters > 0) {
        json_t *c = json_object();
        for (int i = 0; c && i < nr_counters; i++)
            bad |= json_object_set_new(c, names[i], json_integer((json_int_t)d->counters[i]));
        bad |= c ? json_object_set_new(j, "counters", c) : -1;
    }
    if (d->created_ns || d->destroyed_ns) {     /* a live host's domains that came or went */
        bad |= json_object_set_new(j, "created_ns", json_integer((json_int_t)d->created_ns));
        bad |= json_object_set_new(j, "destroyed_ns", json_integer((json_int_t)d->destroyed_ns));
    }
    if (bad) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* The host's CPU model from /proc/cpuinfo, or "unknown" (e.g. on hosts whose
 * cpuinfo has no "model name" line). */
static void host_cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || !colon)
            continue;
        colon++;
        colon += strspn(colon, " \t");
        colon[strcspn(colon, "\n")] = '\0';
        if (*colon)
            snprintf(buf, n, "%s", colon);
        break;
    }
    fclose(f);
}

/* The host: its CPU model and CPU count; for the real engine also the host
 * CPU each pCPU thread was pinned to (pcpu i -> cpus_used[i]). */
static json_t *json_host(const struct run_result *rr)
{
    char model[256];
    host_cpu_model(model, sizeof(model));
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    json_t *h = json_pack("{s:s, s:I}", "cpu_model", model, "cpus", (json_int_t)(cpus > 0 ? cpus : 1));
    if (h && rr->engine && strcmp(rr->engine, "real") == 0) {
        json_t *used = json_array();
        for (int c = 0; used && c < rr->pcpus; c++)
            json_array_append_new(used, json_integer(engine_host_cpu(c)));
        json_object_set_new(h, "cpus_used", used);
    }
    return h;
}

static json_t *json_domains(const struct run_result *rr)
{
    json_t *a = json_array();
    for (int i = 0; a && i < rr->nr_doms; i++) {
        if (json_array_append_new(a, json_domain(&rr->doms[i], rr->nr_counters, rr->counter_names)) < 0) {
            json_decref(a);
            return NULL;
        }
        json_object_set_new(json_array_get(a, i), "group", json_string(results_dom_group(rr, i)));
    }
    return a;
}

static json_t *json_summary(const struct run_result *rr)
{
    const struct scenario *s = rr->scn;
    const char *policy = rr->policy ? rr->policy : s ? scn_policy_name(s) : "unknown";
    const char *engine = rr->engine ? rr->engine : s ? s->engine : "unknown";
    return json_pack(
        "{s:s, s:s, s:s, s:o, s:I, s:i, s:b, s:o,"
        " s:{s:f, s:f, s:f}, s:{s:I, s:I},"
        " s:s, s:I, s:I, s:f, s:o, s:s}",
        "scenario", s ? s->name : "", "engine", engine, "policy", policy,
        "seed", ju64(rr->seed), "duration_ns", (json_int_t)rr->duration_ns,
        "pcpus", rr->pcpus, "complete", (int)rr->complete, "domains", json_domains(rr),
        "fairness", "jain", rr->jain, "min_normalized_share", rr->min_normalized_share,
        "jain_guests", rr->jain_guests,
        "starvation", "threshold_ns", (json_int_t)rr->starvation_threshold_ns,
        "events", (json_int_t)rr->starvation_events,
        /* additions to the DESIGN fields */
        "mode", s && s->mode[0] ? s->mode : "density",
        "events", (json_int_t)rr->events, "schedules", (json_int_t)rr->schedules,
        "wall_s", rr->wall_s, "host", json_host(rr), "fairvisor_version", FV_VERSION);
}

/* Write summary.json into dir. -EINVAL if a field cannot be encoded (a name
 * that is not UTF-8). */
int results_write_summary(const char *dir, const struct run_result *rr)
{
    json_t *root = results_starve_json(json_summary(rr), rr);
    if (root && json_object_set_new(root, "chargeback", json_boolean(rr->chargeback)))
        json_decref(root), root = NULL;
    if (root && rr->live && json_object_set_new(root, "live", json_true()))
        json_decref(root), root = NULL;
    if (root && rr->nr_counters) {
        json_t *names = json_array();
        for (int i = 0; names && i < rr->nr_counters; i++)
            json_array_append_new(names, json_string(rr->counter_names[i]));
        if (!names || json_object_set_new(root, "counters", names))
            json_decref(root), root = NULL;
    }
    if (!root)
        return -EINVAL;
    /* 12 significant digits: shares print as 0.25, not 0.25000000000000000. */
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    json_decref(root);
    if (!text)
        return -ENOMEM;
    size_t len = strlen(text);
    text[len] = '\n';               /* replaces the NUL: a text file ends with a newline */
    int err = results_write_atomic(dir, "summary.json", text, len + 1);
    free(text);
    return err;
}

/* ---- wakeup-latency.csv, app-latency.csv, blk-latency.csv --------------------- */

/* One CDF point per non-empty bucket of h (a histogram of d): its upper
 * edge (the maximum for the last one) and the fraction of samples up to it. */
static void write_cdf(FILE *f, const struct dom_result *d, const struct fv_hist *h)
{
    char name[sizeof(d->name)];
    csv_name(name, sizeof(name), d->name);
    uint64_t cum = 0;
    for (int b = 0; b < FV_HIST_BUCKETS && cum < h->count; b++) {
        if (!h->b[b])
            continue;
        cum += h->b[b];
        uint64_t hi = hist_bucket_hi(b);
        fprintf(f, "%s,%" PRIu64 ",%.6f\n", name, hi < h->max ? hi : h->max,
                (double)cum / (double)h->count);
    }
}

/* Which latency a CDF file holds. */
enum cdf_of { CDF_WAKEUP, CDF_APP, CDF_BLK };

static const struct fv_hist *cdf_hist(const struct dom_result *d, enum cdf_of which)
{
    switch (which) {
    case CDF_APP:
        return &d->app_latency;
    case CDF_BLK:
        return &d->blk.latency;
    default:
        return &d->wakeup;
    }
}

/* dir/file: domain,latency_ns,cdf for every domain whose histogram of that
 * latency has samples. */
static int write_cdf_csv(const char *dir, const char *file, const struct run_result *rr,
                         enum cdf_of which)
{
    struct afile af;
    int err = afile_open(&af, dir, file);
    if (err)
        return err;
    fputs("domain,latency_ns,cdf\n", af.f);
    for (int i = 0; i < rr->nr_doms; i++) {
        const struct fv_hist *h = cdf_hist(&rr->doms[i], which);
        if (h->count)
            write_cdf(af.f, &rr->doms[i], h);
    }
    return afile_commit(&af);   /* reports any write error (ferror) */
}

int results_write_wakeup_csv(const char *dir, const struct run_result *rr)
{
    return write_cdf_csv(dir, "wakeup-latency.csv", rr, CDF_WAKEUP);
}

int results_write_app_latency_csv(const char *dir, const struct run_result *rr)
{
    return write_cdf_csv(dir, "app-latency.csv", rr, CDF_APP);
}

int results_write_blk_latency_csv(const char *dir, const struct run_result *rr)
{
    return write_cdf_csv(dir, "blk-latency.csv", rr, CDF_BLK);
}

/* ---- finish / close ---------------------------------------------------------- */

int results_finish(struct results *r, const struct run_result *rr)
{
    /* Each file is attempted even if an earlier one failed: keep what we can. */
    int err = results_write_summary(r->dir, rr);
    int e2 = results_write_wakeup_csv(r->dir, rr);
    int e3 = results_write_app_latency_csv(r->dir, rr);
    int e4 = results_write_blk_latency_csv(r->dir, rr);
    int e5 = close_timeline(r);
    int e6 = results_write_starvation_csv(r->dir, rr);
    return err ? err : e2 ? e2 : e3 ? e3 : e4 ? e4 : e5 ? e5 : e6;
}

void results_discard(struct results *r)
{
    if (!r)
        return;
    char p[PATH_MAX];
    if (r->tl.f)
        afile_abort(&r->tl);
    if (path_join(p, sizeof(p), r->dir, "scenario.yaml") == 0)
        unlink(p);
    if (path_join(p, sizeof(p), r->dir, "plots") == 0)
        rmdir(p);
    if (r->made_dir)
        rmdir(r->dir);
    free(r);
}

void results_close(struct results *r)
{
    if (!r)
        return;
    /* Crash / interrupt path: results_finish never ran, keep the rows. */
    (void)close_timeline(r);
    free(r);
}
