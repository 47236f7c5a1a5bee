/* counters.c — per-thread perf event groups for per-domain counters.
 *
 * Hardware event names go through libpfm4 rather than a table of our own:
 * it knows every PMU's events by name (Intel's INST_RETIRED:ANY_P, AMD's
 * RETIRED_INSTRUCTIONS, ...) and perf's generic ones (cycles, instructions,
 * LLC-load-misses) and encodes any of them into a perf_event_attr for the
 * PMU this host actually has, so a scenario's names mean the same on every
 * machine without fairvisor keeping raw event codes per CPU model.
 *
 * The fallback: virtual machines usually have no PMU (the hypervisor does
 * not virtualise it; perf_event_open of cycles fails with ENOENT), and a
 * scenario written for bare metal should still run there and count
 * something per domain rather than be refused. The software events are
 * there on every kernel; the results' header says what was counted.
 *
 * Every event of a thread is in one group read with PERF_FORMAT_GROUP: one
 * read() per switch returns them all, at the cost of one syscall.
 */
#include "counters.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <perfmon/pfmlib_perf_event.h>

struct counters {
    int n;
    int fd[FV_MAX_COUNTERS];            /* fd[0] leads the group */
    char name[FV_MAX_COUNTERS][FV_COUNTER_NAME_MAX];
};

/* An event resolved from its name, not yet opened. */
struct event {
    const char *name;
    struct perf_event_attr attr;
};

/* Software events by perf's names (libpfm4 knows them too, but these need
 * neither libpfm4 nor a PMU). */
static const struct {
    const char *name;
    uint64_t config;
} soft[] = {
    { "task-clock", PERF_COUNT_SW_TASK_CLOCK },
    { "page-faults", PERF_COUNT_SW_PAGE_FAULTS },
    { "faults", PERF_COUNT_SW_PAGE_FAULTS },
    { "context-switches", PERF_COUNT_SW_CONTEXT_SWITCHES },
    { "cs", PERF_COUNT_SW_CONTEXT_SWITCHES },
    { "cpu-migrations", PERF_COUNT_SW_CPU_MIGRATIONS },
    { "migrations", PERF_COUNT_SW_CPU_MIGRATIONS },
    { "minor-faults", PERF_COUNT_SW_PAGE_FAULTS_MIN },
    { "major-faults", PERF_COUNT_SW_PAGE_FAULTS_MAJ },
    { "cpu-clock", PERF_COUNT_SW_CPU_CLOCK },
};
static const char *const fallback[] = { "task-clock", "page-faults", "context-switches" };

/* ---- names ----------------------------------------------------------------- */

static pthread_once_t pfm_once = PTHREAD_ONCE_INIT;
static int pfm_status;
/* libpfm4 promises thread safety only after pfm_initialize; its encoder is
 * called at open only, so a lock costs nothing and spares the doubt. */
static pthread_mutex_t pfm_lock = PTHREAD_MUTEX_INITIALIZER;

static void pfm_init(void)
{
    pfm_status = pfm_initialize();
}

static bool soft_event(const char *name, struct perf_event_attr *a)
{
    for (size_t i = 0; i < sizeof(soft) / sizeof(soft[0]); i++)
        if (strcmp(name, soft[i].name) == 0) {
            memset(a, 0, sizeof(*a));
            a->type = PERF_TYPE_SOFTWARE;
            a->config = soft[i].config;
            a->exclude_hv = 1;
            return true;
        }
    return false;
}

static bool pfm_encode(const char *name, struct perf_event_attr *a)
{
    pthread_once(&pfm_once, pfm_init);
    if (pfm_status != PFM_SUCCESS)
        return false;
    memset(a, 0, sizeof(*a));
    pfm_perf_encode_arg_t arg = { .attr = a, .size = sizeof(arg) };
    /* PLM0|PLM3: kernel and user, so a guest's hypercalls and page faults
     * (kernel work on the pCPU thread's behalf) count as its own. */
    pthread_mutex_lock(&pfm_lock);
    int rc = pfm_get_os_event_encoding(name, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
    pthread_mutex_unlock(&pfm_lock);
    return rc == PFM_SUCCESS;
}

/* perf's cache shorthands that libpfm4 lacks: with no operation perf means
 * a read, so LLC-misses is LLC-load-misses and LLC-refs is LLC-loads. */
static bool perf_shorthand(const char *name, char *buf, size_t len)
{
    static const char *const caches[] = { "L1-dcache", "L1-icache", "LLC", "dTLB", "iTLB",
                                          "branch", "node" };
    static const struct {
        const char *suffix, *as;
    } results[] = { { "-misses", "-load-misses" }, { "-miss", "-load-misses" },
                    { "-refs", "-loads" }, { "-access", "-loads" }, { "-ops", "-loads" } };
    for (size_t i = 0; i < sizeof(caches) / sizeof(caches[0]); i++) {
        size_t cl = strlen(caches[i]);
        if (strncasecmp(name, caches[i], cl) != 0)
            continue;
        for (size_t j = 0; j < sizeof(results) / sizeof(results[0]); j++)
            if (strcasecmp(name + cl, results[j].suffix) == 0) {
                snprintf(buf, len, "%s%s", caches[i], results[j].as);
                return true;
            }
    }
    return false;
}

static bool encode(const char *name, struct perf_event_attr *a)
{
    char alias[FV_COUNTER_NAME_MAX + 16];
    if (strlen(name) >= FV_COUNTER_NAME_MAX)
        return false;
    if (soft_event(name, a) || pfm_encode(name, a))
        return true;
    return perf_shorthand(name, alias, sizeof(alias)) && pfm_encode(alias, a);
}

bool counters_known(const char *name)
{
    struct perf_event_attr a;
    return name && encode(name, &a);
}

/* ---- the PMU ------------------------------------------------------------------ */

static pthread_once_t pmu_once = PTHREAD_ONCE_INIT;
static int no_pmu;                      /* errno of opening cycles when there is no PMU, else 0 */
static atomic_flag no_pmu_said = ATOMIC_FLAG_INIT;

static int perf_open(struct perf_event_attr *a, int group)
{
    return (int)perf_event_open(a, 0, -1, group, PERF_FLAG_FD_CLOEXEC);
}

/* Whether the host has a PMU: cycles, user only (so perf_event_paranoid
 * cannot refuse it) and disabled. Any other failure is left for the real
 * open to report. */
static void pmu_probe(void)
{
    struct perf_event_attr a = { .size = sizeof(a), .type = PERF_TYPE_HARDWARE,
                                 .config = PERF_COUNT_HW_CPU_CYCLES, .disabled = 1,
                                 .exclude_kernel = 1, .exclude_hv = 1 };
    int fd = perf_open(&a, -1);
    if (fd >= 0)
        close(fd);
    else if (errno == ENOENT || errno == EOPNOTSUPP || errno == ENODEV)
        no_pmu = errno;
}

static bool same_event(const struct perf_event_attr *a, const struct perf_event_attr *b)
{
    return a->type == b->type && a->config == b->config;
}

/* Append (name, a) to ev[*k] unless it is a software event already there. */
static void add(struct event *ev, int *k, const char *name, const struct perf_event_attr *a)
{
    for (int i = 0; a->type == PERF_TYPE_SOFTWARE && i < *k; i++)
        if (same_event(&ev[i].attr, a))
            return;
    ev[*k].name = name;
    ev[*k].attr = *a;
    (*k)++;
}

/* The events to open for names[0..n-1]: hardware ones dropped on a host
 * without a PMU and the fallback added; a software event twice is counted
 * once (so at most 7 distinct software events, fewer than
 * FV_MAX_COUNTERS). Returns how many, or -EINVAL. */
static int resolve(const char *const *names, int n, struct event *ev, char *err, size_t errlen)
{
    if (n < 0 || n > FV_MAX_COUNTERS) {
        snprintf(err, errlen, "%d counters (expected 0..%d)", n, FV_MAX_COUNTERS);
        return -EINVAL;
    }
    pthread_once(&pmu_once, pmu_probe);
    int k = 0;
    bool dropped = false;
    for (int i = 0; i < n; i++) {
        struct perf_event_attr a;
        if (!names[i] || !encode(names[i], &a)) {
            snprintf(err, errlen, "unknown counter \"%.*s\" (expected a software event such as "
                     "task-clock or a hardware event libpfm4 knows, such as cycles)",
                     FV_COUNTER_NAME_MAX, names[i] ? names[i] : "(null)");
            return -EINVAL;
        }
        if (a.type != PERF_TYPE_SOFTWARE && no_pmu)
            dropped = true;
        else
            add(ev, &k, names[i], &a);
    }
    if (!dropped)
        return k;
    if (!atomic_flag_test_and_set(&no_pmu_said))
        fprintf(stderr, "fairvisor: no hardware PMU (perf_event_open cycles: %s): counting "
                "task-clock, page-faults, context-switches instead\n", strerror(no_pmu));
    for (size_t i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++) {
        struct perf_event_attr a;
        soft_event(fallback[i], &a);
        add(ev, &k, fallback[i], &a);
    }
    return k;
}

/* ---- opening and reading -------------------------------------------------------- */

static int open_error(const struct event *e, int errnum, char *err, size_t errlen)
{
    const char *why = "";
    if (errnum == EACCES || errnum == EPERM)
        why = " (counting the kernel's work for a thread needs root, or "
              "kernel.perf_event_paranoid 1 or lower)";
    else if (e->attr.type != PERF_TYPE_SOFTWARE &&
             (errnum == ENOENT || errnum == EOPNOTSUPP || errnum == ENODEV || errnum == EINVAL))
        why = " (this host's PMU does not count it)";
    snprintf(err, errlen, "perf_event_open %s: %s%s", e->name, strerror(errnum), why);
    return errnum == ENOENT || errnum == ENODEV ? -EOPNOTSUPP : -errnum;
}

int counters_open(struct counters **out, const char *const *names, int n, char *err,
                  size_t errlen)
{
    struct event ev[FV_MAX_COUNTERS];
    *out = NULL;
    if (errlen)
        err[0] = 0;
    int k = resolve(names, n, ev, err, errlen);
    if (k < 0)
        return k;
    struct counters *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (int i = 0; i < k; i++) {
        struct perf_event_attr *a = &ev[i].attr;
        a->size = sizeof(*a);
        a->read_format = PERF_FORMAT_GROUP;
        a->disabled = 0;                /* counting from the open */
        a->inherit = 0;                 /* this thread only (and GROUP reads need it) */
        int fd = perf_open(a, i ? c->fd[0] : -1);
        if (fd < 0) {
            int rc = open_error(&ev[i], errno, err, errlen);
            counters_close(c);
            return rc;
        }
        c->fd[i] = fd;
        snprintf(c->name[i], sizeof(c->name[i]), "%s", ev[i].name);
        c->n = i + 1;
    }
    *out = c;
    return 0;
}

int counters_count(const struct counters *c)
{
    return c->n;
}

const char *counters_name(const struct counters *c, int i)
{
    return i >= 0 && i < c->n ? c->name[i] : NULL;
}

int counters_read(struct counters *c, uint64_t *vals)
{
    uint64_t buf[1 + FV_MAX_COUNTERS];  /* PERF_FORMAT_GROUP: nr, then each value */
    if (c->n == 0)
        return 0;
    size_t want = sizeof(uint64_t) * (size_t)(1 + c->n);
    ssize_t r = read(c->fd[0], buf, want);
    if (r < 0)
        return -errno;
    if ((size_t)r != want || buf[0] != (uint64_t)c->n)
        return -EIO;
    memcpy(vals, buf + 1, sizeof(uint64_t) * (size_t)c->n);
    return 0;
}

void counters_close(struct counters *c)
{
    if (!c)
        return;
    for (int i = c->n - 1; i >= 0; i--)     /* members before their leader */
        close(c->fd[i]);
    free(c);
}

int counters_names(const char *const *names, int n, char out[][FV_COUNTER_NAME_MAX],
                   char *err, size_t errlen)
{
    struct counters *c;
    int rc = counters_open(&c, names, n, err, errlen);
    if (rc)
        return rc;
    for (int i = 0; i < c->n; i++)
        memcpy(out[i], c->name[i], sizeof(c->name[i]));
    rc = c->n;
    counters_close(c);
    return rc;
}
