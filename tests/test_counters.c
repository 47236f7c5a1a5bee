/* test_counters.c — hv/counters.c for real on this host: the fallback when
 * there is no PMU (what perf_event_open of cycles says decides what is
 * expected), that what a thread does between two reads is what the
 * difference shows, unknown names, and the scenario key
 * `monitor: { counters: [...] }` (refusals, --set, the resolved YAML). */
#include "testutil.h"
#include "hv/counters.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "scn_load.h"

/* ---- the host ---------------------------------------------------------------- */

static int probe_open(uint32_t type, uint64_t config, int exclude_kernel)
{
    struct perf_event_attr a = { .size = sizeof(a), .type = type, .config = config,
                                 .disabled = 1, .exclude_kernel = exclude_kernel,
                                 .exclude_hv = 1 };
    int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
    if (fd < 0)
        return -errno;
    close(fd);
    return 0;
}

/* Perf events at all (a container's seccomp or perf_event_paranoid may
 * forbid them), and whether the host has a PMU, as counters.c decides it. */
static void require_perf(void)
{
    int rc = probe_open(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, 0);
    if (rc)
        TU_SKIP("perf_event_open task-clock: %s (perf events not allowed here)", strerror(-rc));
}

static bool no_pmu(void)
{
    int rc = probe_open(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, 1);
    return rc == -ENOENT || rc == -EOPNOTSUPP || rc == -ENODEV;
}

static struct counters *open_ok(const char *const *names, int n)
{
    struct counters *c = NULL;
    char e[256];
    int rc = counters_open(&c, names, n, e, sizeof(e));
    if (rc)
        fail_msg("counters_open: %d %s", rc, e);
    return c;
}

static void assert_names(const struct counters *c, const char *const *want, int n)
{
    assert_int_equal(counters_count(c), n);
    for (int i = 0; i < n; i++)
        assert_string_equal(counters_name(c, i), want[i]);
    assert_null(counters_name(c, n));
}

/* What stderr received while opening names (fd 2 redirected to a file). */
static char *open_capturing(const char *const *names, int n, struct counters **c)
{
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    assert_true(saved >= 0 && tmp);
    assert_true(dup2(fileno(tmp), 2) == 2);
    *c = open_ok(names, n);
    fflush(stderr);
    assert_true(dup2(saved, 2) == 2);
    close(saved);
    long len = ftell(tmp);
    char *text = calloc(1, (size_t)len + 1);
    rewind(tmp);
    assert_int_equal(fread(text, 1, (size_t)len, tmp), (size_t)len);
    fclose(tmp);
    return text;
}

/* ---- what is counted -------------------------------------------------------------- */

/* First in main: the message is said once per process. */
static void test_fallback(void **st)
{
    (void)st;
    require_perf();
    const char *const hw[] = { "cycles", "instructions" };
    const char *const soft[] = { "task-clock", "page-faults", "context-switches" };
    struct counters *c;
    char *said = open_capturing(hw, 2, &c);
    if (no_pmu()) {
        assert_names(c, soft, 3);
        assert_non_null(strstr(said, "fairvisor: no hardware PMU (perf_event_open cycles: "));
        assert_non_null(strstr(said, "): counting task-clock, page-faults, context-switches "
                                     "instead\n"));
    } else {
        assert_names(c, hw, 2);
        assert_string_equal(said, "");
    }
    counters_close(c);
    free(said);

    /* Once only; requested software events stay, first, and one named
     * twice (cs is context-switches) is counted once. */
    const char *const mixed[] = { "page-faults", "cycles", "cs" };
    said = open_capturing(mixed, 3, &c);
    assert_string_equal(said, "");
    if (no_pmu()) {
        const char *const want[] = { "page-faults", "cs", "task-clock" };
        assert_names(c, want, 3);
    } else {
        assert_names(c, mixed, 3);
    }
    counters_close(c);
    free(said);

    const char *const pf[] = { "page-faults" };
    c = open_ok(pf, 1);
    assert_names(c, pf, 1);
    counters_close(c);

    char out[FV_MAX_COUNTERS][FV_COUNTER_NAME_MAX], e[256];
    int n = counters_names(hw, 2, out, e, sizeof(e));
    assert_int_equal(n, no_pmu() ? 3 : 2);
    for (int i = 0; i < n; i++)
        assert_string_equal(out[i], no_pmu() ? soft[i] : hw[i]);
}

/* Page faults are charged to whoever made them: 256 fresh pages touched
 * between two reads show up as at least 256, and arithmetic after them as
 * almost none. "Almost": the first run of a code path may fault in a page
 * of this program's text or stack, and the read() itself may fault in a
 * page of libc the first time, so a few stray faults are allowed, far
 * fewer than the 256 that must be there. Under a sanitizer each page
 * written also faults in its shadow: ThreadSanitizer keeps several shadow
 * bytes per byte (511 faults for 256 pages here), AddressSanitizer one per
 * 8 (288), so the bound above is 4 x (TSan) or 2 x (ASan) the pages. */
static volatile uint64_t sink;
#if defined(__SANITIZE_THREAD__)
#define SHADOW_FAULTS 3
#elif defined(__SANITIZE_ADDRESS__)
#define SHADOW_FAULTS 1
#else
#define SHADOW_FAULTS 0
#endif

static void test_page_faults_attributed(void **st)
{
    (void)st;
    require_perf();
    enum { PAGES = 256, PAGE = 4096 };
    char *mem = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    assert_true(mem != MAP_FAILED);
    madvise(mem, PAGES * PAGE, MADV_NOHUGEPAGE);  /* one fault per 4 KiB page */
    const char *const pf[] = { "page-faults" };
    struct counters *c = open_ok(pf, 1);
    uint64_t v0, v1, v2;
    assert_int_equal(counters_read(c, &v0), 0);
    for (int i = 0; i < PAGES; i++)
        mem[(size_t)i * PAGE] = 1;
    assert_int_equal(counters_read(c, &v1), 0);
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20 * 1000 * 1000; i++) {   /* xorshift: registers only */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    sink = x;
    assert_int_equal(counters_read(c, &v2), 0);
    const uint64_t most = PAGES + 15 + SHADOW_FAULTS * PAGES;
    if (v1 - v0 < PAGES || v1 - v0 > most || v2 - v1 >= 16)
        fail_msg("page faults: %llu touching %d pages (expected %d..%llu), %llu computing "
                 "(expected < 16)", (unsigned long long)(v1 - v0), PAGES, PAGES,
                 (unsigned long long)most, (unsigned long long)(v2 - v1));
    counters_close(c);
    munmap(mem, PAGES * PAGE);
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One group, read in one go: each value lands at its own name's index. */
static void test_group_order(void **st)
{
    (void)st;
    require_perf();
    const char *const names[] = { "context-switches", "task-clock", "page-faults" };
    struct counters *c = open_ok(names, 3);
    assert_names(c, names, 3);
    uint64_t a[3], b[3], d[3];
    assert_int_equal(counters_read(c, a), 0);
    /* At least 1 ms of this thread's CPU time (a loop condition, not a
     * timed assertion): task-clock, in ns, grows by as much. */
    int64_t until = thread_cpu_ns() + 1000000;
    while (thread_cpu_ns() < until)
        sink++;
    assert_int_equal(counters_read(c, b), 0);
    if (b[1] <= a[1] || b[1] - a[1] < 900000)
        fail_msg("task-clock went from %llu to %llu over 1 ms of CPU (expected >= +900000 ns)",
                 (unsigned long long)a[1], (unsigned long long)b[1]);
    /* A sleep always blocks, and so switches this thread out. */
    struct timespec ms = { 0, 1000000 };
    nanosleep(&ms, NULL);
    assert_int_equal(counters_read(c, d), 0);
    assert_true(d[0] >= b[0] + 1);
    assert_true(d[1] >= b[1]);
    assert_true(d[2] >= a[2]);
    counters_close(c);
}

/* ---- names ----------------------------------------------------------------------- */

static void test_names(void **st)
{
    (void)st;
    assert_false(counters_known("bogus-event"));
    assert_false(counters_known(""));
    assert_false(counters_known(NULL));
    assert_false(counters_known("LLC-bogus"));
    const char *const ok[] = { "cycles", "instructions", "branch-misses", "LLC-misses",
                               "LLC-load-misses", "dTLB-misses", "cpu-cycles", "task-clock",
                               "page-faults", "context-switches", "cpu-migrations",
                               "minor-faults", "major-faults", "cs", "faults" };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!counters_known(ok[i]))
            fail_msg("counters_known(\"%s\") is false", ok[i]);

    struct counters *c = (struct counters *)&c;
    char e[256];
    const char *const bad[] = { "task-clock", "bogus-event" };
    assert_int_equal(counters_open(&c, bad, 2, e, sizeof(e)), -EINVAL);
    assert_null(c);
    assert_non_null(strstr(e, "unknown counter \"bogus-event\""));
    const char *const many[9] = { "cs", "cs", "cs", "cs", "cs", "cs", "cs", "cs", "cs" };
    assert_int_equal(counters_open(&c, many, 9, e, sizeof(e)), -EINVAL);
    assert_string_equal(e, "9 counters (expected 0..8)");
}

/* ---- the scenario key --------------------------------------------------------------- */

#define EXPECT_EVENT "(expected an event such as cycles, instructions, branch-misses, " \
                     "LLC-misses, task-clock, page-faults or context-switches)"

static void test_scenario_refusals(void **st)
{
    (void)st;
    load_bad(MIN_HEAD "monitor: { counters: [bogus] }\n" ONE_DOM, NULL, 0,
             "s.yaml:2:23: unknown counter \"bogus\" " EXPECT_EVENT);
    load_bad(MIN_HEAD "monitor:\n  counters:\n    - cycles\n    - bogus-event\n" ONE_DOM, NULL, 0,
             "s.yaml:5:7: unknown counter \"bogus-event\" " EXPECT_EVENT);
    load_bad(MIN_HEAD "monitor: { counters: [cycles, page-faults, cycles] }\n" ONE_DOM, NULL, 0,
             "s.yaml:2:44: duplicate counter \"cycles\" (expected each counter once)");
    load_bad(MIN_HEAD "monitor: { counters: [cs, faults, cycles, instructions, task-clock, "
             "cpu-clock, minor-faults, major-faults, migrations] }\n" ONE_DOM, NULL, 0,
             "s.yaml:2:108: more than 8 counters (expected at most 8: one perf event group "
             "per pCPU)");
    load_bad(MIN_HEAD "monitor: { counters: { a: b } }\n" ONE_DOM, NULL, 0,
             "s.yaml:2:22: counters is a mapping (expected a list of event names such as "
             "[cycles, instructions])");
    load_bad(MIN_HEAD "monitor: { counters: [''] }\n" ONE_DOM, NULL, 0,
             "s.yaml:2:23: a counter is empty (expected an event name such as cycles)");
    load_bad(MIN_HEAD "monitor: { counters: [[cycles]] }\n" ONE_DOM, NULL, 0,
             "s.yaml:2:23: a counter is a list, not a single value (expected an event name "
             "such as cycles)");
    load_bad_has(MIN_HEAD "monitor: { counters: [x123456789012345678901234567890123456789012345"
                 "67890123456789012345] }\n" ONE_DOM, NULL, 0, "s.yaml:2:23: counter \"",
                 "is too long (expected at most 63 characters)");
    load_bad(MIN_HEAD "monitor: { count: [cycles] }\n" ONE_DOM, NULL, 0,
             "s.yaml:2:12: unknown key \"count\" in monitor (expected one of: counters)");
    load_bad(MIN_HEAD "monitor: cycles\n" ONE_DOM, NULL, 0,
             "s.yaml:2:10: monitor is a single value "
             "(expected monitor: { counters: [NAME, ...] })");
    const char *set[] = { "monitor.counters=[cycles, bogus]" };
    load_bad(MIN_HEAD ONE_DOM, set, 1, "--set monitor.counters=[cycles, bogus]: unknown counter "
             "\"bogus\" " EXPECT_EVENT);
}

static char *resolved(const struct scenario *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(scenario_write_yaml(s, f), 0);
    fclose(f);
    return text;
}

static void test_scenario_round_trip(void **st)
{
    (void)st;
    struct scenario a, b;
    load_ok(MIN_HEAD "monitor: { counters: [cycles, LLC-misses, 'page-faults'] }\n" ONE_DOM,
            NULL, 0, &a);
    assert_int_equal(a.nr_counters, 3);
    assert_string_equal(a.counters[0], "cycles");
    assert_string_equal(a.counters[1], "LLC-misses");
    assert_string_equal(a.counters[2], "page-faults");
    char *text = resolved(&a);
    assert_non_null(strstr(text, "\nmonitor:\n  counters: [\"cycles\", \"LLC-misses\", "
                                 "\"page-faults\"]\n"));
    load_ok(text, NULL, 0, &b);
    assert_same(&a, &b);
    assert_int_equal(b.nr_counters, a.nr_counters);
    assert_memory_equal(b.counters, a.counters, sizeof(a.counters));
    free(text);
    scenario_free(&a);
    scenario_free(&b);

    /* None by default, [] is none, and none writes no monitor: at all. */
    load_ok(MIN_HEAD "monitor: { counters: [] }\n" ONE_DOM, NULL, 0, &a);
    assert_int_equal(a.nr_counters, 0);
    text = resolved(&a);
    assert_null(strstr(text, "monitor"));
    load_ok(text, NULL, 0, &b);
    assert_int_equal(b.nr_counters, 0);
    free(text);
    scenario_free(&a);
    scenario_free(&b);

    const char *set[] = { "monitor.counters=task-clock" };
    load_ok(MIN_HEAD ONE_DOM, set, 1, &a);
    assert_int_equal(a.nr_counters, 1);
    assert_string_equal(a.counters[0], "task-clock");
    scenario_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_page_faults_attributed),
        cmocka_unit_test(test_group_order),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_scenario_refusals),
        cmocka_unit_test(test_scenario_round_trip),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
