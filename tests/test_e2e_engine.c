/* test_e2e_engine.c — the engines' limits and failure paths as a user meets
 * them through the CLI: set-up failures end with a message and exit 1
 * (never an abort), Xen's 32,751 domains run in virtual time and one more
 * is refused, a hostile guest cannot keep Ctrl-C from working, and the
 * event-channel scenario that used to livelock runs to an exact result. */
#include "testutil.h"

#include <jansson.h>
#include <signal.h>
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *bin(void)
{
    const char *b = getenv("FV_BIN");
    return b ? b : "build/fairvisor";
}

static char *tmp;

static int setup(void **st)
{
    (void)st;
    tmp = tu_tmpdir();
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    tu_rmtree(tmp);
    free(tmp);
    return 0;
}

/* Run `fairvisor ARGS` with env prefix ENV (may be ""); output in *out. */
static int fv(const char *env, const char *args, char **out)
{
    char *cmd = NULL;
    if (asprintf(&cmd, "%s %s %s", env, bin(), args) < 0)
        abort();
    int rc = tu_run(cmd, out);
    free(cmd);
    return rc;
}

static json_int_t dom_int(json_t *j, int d, const char *key)
{
    json_t *v = json_object_get(json_array_get(json_object_get(j, "domains"), (size_t)d), key);
    if (!json_is_integer(v))
        fail_msg("domains[%d].%s is not an integer", d, key);
    return json_integer_value(v);
}

static void assert_clean_failure(const char *out)
{
    assert_null(strstr(out, "Assertion"));
    assert_null(strstr(out, "AddressSanitizer"));
    assert_null(strstr(out, "LeakSanitizer"));
    assert_null(strstr(out, "runtime error"));
}

/* Write `yaml` as NAME.yaml, run it into tmp/NAME (extra options after),
 * expect exit 0 and return its summary.json. */
static json_t *run_ok(const char *name, const char *yaml)
{
    char *file = NULL, *dir = NULL, *args = NULL, *out = NULL, *scn;
    if (asprintf(&file, "%s.yaml", name) < 0 || asprintf(&dir, "%s/%s", tmp, name) < 0)
        abort();
    scn = tu_write(tmp, file, yaml);
    if (asprintf(&args, "run %s --out %s --no-plot --quiet", scn, dir) < 0)
        abort();
    int rc = fv("", args, &out);
    if (rc != 0)
        fail_msg("%s: exit %d:\n%s", name, rc, out);
    json_t *j = tu_summary(dir);
    free(file), free(dir), free(args), free(out), free(scn);
    return j;
}

/* A set-up failure on either engine: one clear line, exit 1. */
static void test_setup_failure_exit_1(void **st)
{
    (void)st;
    char *scn = tu_write(tmp, "two.yaml", "duration: 50ms\npcpus: 2\n"
                         "domains: [{name: a, workload: cpu-hog}, {name: b, workload: cpu-hog}]\n");
    const char *cases[][3] = {
        { "sim", "stack-arena", "cannot set up the run: vCPUs and their stacks: Cannot allocate memory" },
        { "sim", "watchdog", "cannot set up the run: the hostile-guest watchdog timer" },
        { "real", "memory", "cannot set up the run: domain memory and grant tables: Cannot allocate memory" },
        { "real", "threads", "cannot set up the run: starting pCPU threads" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *env = NULL, *args = NULL, *out = NULL;
        if (asprintf(&env, "FV_FAULT=%s", cases[i][1]) < 0 ||
            asprintf(&args, "run %s --engine %s --results-root %s/root --no-plot", scn, cases[i][0],
                     tmp) < 0)
            abort();
        int rc = fv(env, args, &out);
        if (rc != 1 || !strstr(out, cases[i][2]))
            fail_msg("%s with FV_FAULT=%s: exit %d (expected 1), output:\n%s\n(expected '%s')",
                     cases[i][0], cases[i][1], rc, out, cases[i][2]);
        assert_clean_failure(out);
        free(env), free(args), free(out);
    }
    /* Nothing ran, so no results directory is left behind. */
    char *runs = NULL;
    if (asprintf(&runs, "%s/root/two", tmp) < 0)
        abort();
    DIR *d = opendir(runs);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            fail_msg("a failed set-up left %s/%s", runs, e->d_name);
    if (d)
        closedir(d);
    free(runs);
    free(scn);
}

/* The audit's case: 600 domains x 64 vCPUs (38,400 stacks: two mappings
 * each would pass vm.max_map_count) used to abort in the RCU clean-up. */
/* ThreadSanitizer counts every vCPU context as a thread, up to 8,128: a TSan
 * build refuses more vCPUs than that (hv/ctx.c), so these runs are skipped. */
#if defined(__SANITIZE_THREAD__)
#define SKIP_IF_TSAN() TU_SKIP("a TSan build runs at most 8000 vCPUs")
#else
#define SKIP_IF_TSAN() ((void)0)
#endif

static void test_600_by_64_runs(void **st)
{
    (void)st;
    SKIP_IF_TSAN();
    json_t *j = run_ok("wide", "duration: 1s\ndomains: [{name: a, count: 600, vcpus: 64}]\n");
    assert_int_equal(json_array_size(json_object_get(j, "domains")), 600);
    assert_int_equal(dom_int(j, 599, "vcpus"), 64);
    assert_int_equal(dom_int(j, 599, "id"), 600);
    json_decref(j);
}

/* Xen's limit: domain ids 1..32751. All of them run (8 pCPUs, all busy:
 * the CPU time adds up to exactly 8 x 100 ms); one more is refused before
 * anything runs, naming the limit. */
static void test_xen_domain_limit(void **st)
{
    (void)st;
    SKIP_IF_TSAN();
    json_t *j = run_ok("max", "duration: 100ms\npcpus: 8\n"
                       "domains: [{name: d, count: 32751, workload: cpu-hog}]\n");
    assert_int_equal(json_array_size(json_object_get(j, "domains")), 32751);
    assert_int_equal(dom_int(j, 32750, "id"), 32751);
    json_int_t cpu = 0;
    for (int d = 0; d < 32751; d++)
        cpu += dom_int(j, d, "cpu_ns");
    assert_int_equal(cpu, 8 * 100000000LL);
    json_decref(j);

    char *over = NULL, *out = NULL, *o = NULL;
    if (asprintf(&over, "run %s/max.yaml --set domains.0.count=32752 --out %s/over --no-plot",
                 tmp, tmp) < 0 || asprintf(&o, "%s/over", tmp) < 0)
        abort();
    int rc = fv("", over, &out);
    if (rc != 2 || !strstr(out, "32751"))
        fail_msg("32752 domains: exit %d (expected 2, naming the limit 32751):\n%s", rc, out);
    struct stat sb;
    assert_int_not_equal(stat(o, &sb), 0);      /* refused before anything was written */
    free(o), free(over), free(out);
}

/* On a kernel without MADV_GUARD_INSTALL (forced with FV_FAULT), 32,751
 * stacks cannot all have an mprotect guard within vm.max_map_count: the
 * run still goes, and says how many stacks went without. */
static void test_xen_domain_limit_old_kernel(void **st)
{
    (void)st;
    SKIP_IF_TSAN();
    char *args = NULL, *out = NULL;
    if (asprintf(&args, "run %s --out %s/old --no-plot --quiet", tu_src("bench/xen-limit.yaml"),
                 tmp) < 0)
        abort();
    int rc = fv("FV_FAULT=guard-madvise", args, &out);
    if (rc != 0 || !strstr(out, "of 32751 vCPU stacks have no guard page"))
        fail_msg("exit %d (expected 0 and a note on unguarded stacks):\n%s", rc, out);
    free(args), free(out);
}

/* The audit's livelock: a client bound to port 2 of a 2-vCPU server. Each
 * server vCPU now serves its own port, so it runs: the client binds at
 * 100us (its first try at 0 finds no port and sleeps 100us), then each
 * round trip is 1us of client work and 1us of server work, one pCPU each:
 * (1s - 100us) / 2us = 499,950 round trips, counted by both sides. */
static void test_evtchn_two_vcpu_server(void **st)
{
    (void)st;
    json_t *j = run_ok("live", "duration: 1s\npcpus: 2\ndomains:\n"
        "  - {name: c, workload: {kind: evtchn-ping, role: client, peer: 2, port: 2}}\n"
        "  - {name: s, vcpus: 2, workload: {kind: evtchn-ping, role: server, peer: 1}}\n");
    assert_int_equal(dom_int(j, 0, "work_units"), 499950);
    assert_int_equal(dom_int(j, 1, "work_units"), 499950);
    assert_false(json_is_true(json_object_get(json_array_get(json_object_get(j, "domains"), 1),
                                              "crashed")));
    json_decref(j);
}

/* Ctrl-C while a guest spins without ever calling the hypervisor: the run
 * stops, keeps what it measured (complete: false) and exits 1. The
 * requirement is within a second; the bound asserted is 5 s (an ASan build
 * on a loaded 2-core machine) and the figure is printed. TSan runs signal
 * handlers only inside intercepted calls, which a pure spin never makes. */
static void test_sigint_with_spinning_guest(void **st)
{
    (void)st;
#if defined(__SANITIZE_THREAD__)
    TU_SKIP("test_sigint_with_spinning_guest: TSan cannot interrupt a pure spin");
#endif
    char *scn = tu_write(tmp, "spin.yaml", "duration: 1000s\npcpus: 2\ndomains:\n"
                         "  - {name: bad, workload: {kind: hostile, mode: spin, after: 10ms}}\n"
                         "  - {name: hog, workload: cpu-hog}\n");
    char *dir = NULL;
    if (asprintf(&dir, "%s/spin", tmp) < 0)
        abort();
    char *argv[] = { (char *)bin(), "run", scn, "--out", dir, "--no-plot", "--quiet", NULL };
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, bin(), &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    struct timespec ts = { 0, 500 * 1000000 };    /* well inside the spin: it starts at once */
    nanosleep(&ts, NULL);
    double t0 = tu_now();
    kill(pid, SIGINT);
    int status = 0;
    double waited = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        waited = tu_now() - t0;
        if (waited > 30) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("fairvisor ignored SIGINT for 30 s");
        }
        struct timespec p = { 0, 10 * 1000000 };
        nanosleep(&p, NULL);
    }
    waited = tu_now() - t0;
    printf("exit %.3f s after SIGINT\n", waited);
    assert_true(waited < 5.0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    json_t *j = tu_summary(dir);
    assert_true(json_is_false(json_object_get(j, "complete")));
    json_decref(j);
    free(scn), free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_setup_failure_exit_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_600_by_64_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xen_domain_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xen_domain_limit_old_kernel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evtchn_two_vcpu_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigint_with_spinning_guest, setup, teardown),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
