/* test_e2e_sweep.c — `fairvisor sweep` as a user runs it: a small local
 * sweep (rows, knees, graphs, --collect), bad input (exit 2 with the
 * message, nothing written) and Ctrl-C (finished points kept, the rest
 * missing, exit 1). The grid, SLO and knee logic on constructed inputs is
 * test_sweep.c's. */
#include "testutil.h"
#include "hv/results.h"
#include "hv/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the binary ------------------------------------------------------------------------- */

static char *line_of(const char *text, int n)
{
    for (; n > 0 && text; n--)
        text = (text = strchr(text, '\n')) ? text + 1 : NULL;
    return text ? strndup(text, strcspn(text, "\n")) : NULL;
}

static int sweep(const char *args, char **out)
{
    char *cmd = NULL;
    if (asprintf(&cmd, "cd %s && %s sweep %s", tu_src(""), tu_bin(), args) < 0)
        abort();
    int rc = tu_run(cmd, out);
    free(cmd);
    return rc;
}

/* The knee line the rows of a 3-value x (credit, credit2) sweep.csv call
 * for (one repeat: the median is the value): the last ok before the first
 * slo_ok 0. */
static void expected_knee(const char *csv, int pol, char *want, size_t n)
{
    int knee = 0, brk = 0;
    const char *p = pol ? "credit2" : "credit";
    for (int c = 1; c <= 3 && !brk; c++) {
        char *l = line_of(csv, 1 + (c - 1) * 2 + pol), name[16];
        int point, count;
        assert_int_equal(sscanf(l, "%d,%d,%15[^,]", &point, &count, name), 3);
        assert_int_equal(count, c);
        assert_string_equal(name, p);
        assert_non_null(strstr(l, ",ok,"));
        *(l[strlen(l) - 1] == '1' ? &knee : &brk) = c;
        free(l);
    }
    if (!knee)
        snprintf(want, n, "knee %s: breaks at the first point (domains.flood.count=1)", p);
    else if (!brk)
        snprintf(want, n, "knee %s: never breaks (domains.flood.count up to 3)", p);
    else
        snprintf(want, n, "knee %s: domains.flood.count=%d (SLO breaks at %d)", p, knee, brk);
}

static void test_e2e_local_sweep(void **st)
{
    (void)st;
    char *dir = tu_tmpdir(), *args = NULL, *out = NULL, path[1024];
    if (asprintf(&args, "tests/data/sweep.yaml --vary domains.flood.count=1..3 --policies "
                 "credit,credit2 -j 2 --slo 'victim.net.latency_ns.p99<1.5ms' --out %s/s", dir) < 0)
        abort();
    int rc = sweep(args, &out);
    if (rc)
        fail_msg("exit %d: %s", rc, out);
    assert_non_null(strstr(out, "points: 6 ok, 0 failed, 0 missing (of 6)"));
    snprintf(path, sizeof(path), "%s/s/sweep.csv", dir);
    char *csv = tu_read(path, NULL);
    assert_non_null(csv);
    char *l0 = line_of(csv, 0), *l6 = line_of(csv, 6), *l7 = line_of(csv, 7);
    assert_string_equal(l0, "point,domains.flood.count,policy,repeat,seed,status,"
                        "victim.net.latency_ns.p99,net_rx_bytes_per_s,blk_bytes_per_s,"
                        "work_units_per_s,throughput,jain,slo_ok");
    assert_non_null(l6);
    assert_true(l7 == NULL || !*l7);
    char want[2][256];
    for (int pol = 0; pol < 2; pol++) {
        expected_knee(csv, pol, want[pol], sizeof(want[pol]));
        assert_non_null(strstr(out, want[pol]));
    }
    snprintf(path, sizeof(path), "%s/s/knee.txt", dir);
    char *knees = tu_read(path, NULL), expect[600];
    snprintf(expect, sizeof(expect), "%s\n%s\n", want[0], want[1]);
    assert_string_equal(knees, expect);
    const char *files[] = { "plots/density.png", "plots/density.svg", "plots/density.dat",
                            "knees.csv", "grid.tsv", "runs/5/summary.json", "logs/5.status" };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct stat sb;
        snprintf(path, sizeof(path), "%s/s/%s", dir, files[i]);
        if (stat(path, &sb) || sb.st_size == 0)
            fail_msg("missing or empty: %s", path);
    }
    /* --collect gives the same CSV again */
    free(out);
    free(args);
    if (asprintf(&args, "--collect %s/s", dir) < 0)
        abort();
    assert_int_equal(sweep(args, &out), 0);
    snprintf(path, sizeof(path), "%s/s/sweep.csv", dir);
    char *again = tu_read(path, NULL);
    assert_string_equal(again, csv);
    free(again);
    free(knees);
    free(l0), free(l6), free(l7);
    free(csv);
    free(out);
    free(args);
    tu_rmtree(dir);
    free(dir);
}

/* Refused with exit 2, `want` as the first stderr line (or its start, with
 * prefix), no directory. */
static void refused_as(const char *args, const char *want, bool prefix)
{
    char *dir = tu_tmpdir(), *cmd = NULL, *out = NULL, path[512];
    if (asprintf(&cmd, "tests/data/sweep.yaml --out %s/s %s 2>&1 >/dev/null", dir, args) < 0)
        abort();
    int rc = sweep(cmd, &out);
    char *first = line_of(out, 0);
    if (rc != 2 || (prefix ? strncmp(first, want, strlen(want)) : strcmp(first, want)))
        fail_msg("sweep %s: exit %d, stderr:\n%s\nexpected exit 2 and:\n%s", args, rc, out, want);
    struct stat sb;
    snprintf(path, sizeof(path), "%s/s", dir);
    assert_int_not_equal(stat(path, &sb), 0);
    free(first);
    free(out);
    free(cmd);
    tu_rmtree(dir);
    free(dir);
}

static void refused(const char *args, const char *want)
{
    refused_as(args, want, false);
}

static void test_e2e_bad_input(void **st)
{
    (void)st;
    refused("--vary domains.flood.cnt=1,2", "fairvisor sweep: --vary domains.flood.cnt=1,2 "
            "(value 1): unknown key \"cnt\" in domain (expected one of: name, group, count, vcpus, "
            "memory, pin, weight, cap, period, budget, extratime, workload, vifs, vbds)");
    refused("--vary sched.tslice=1ms,2", "fairvisor sweep: --vary sched.tslice=1ms,2 (value 2): "
            "tslice \"2\" has no unit (expected a number with ns, us, ms or s)");
    refused("--vary domains.victim.workload.rate=1k,5ms", "fairvisor sweep: --vary "
            "domains.victim.workload.rate=1k,5ms (value 5ms): rate \"5ms\" is not an integer "
            "(expected 0..10000000)");
    refused("--vary domains.flood.count=1..2 --slo 'nosuch.net.latency_ns.p99<1ms'",
            "fairvisor sweep: --slo nosuch.net.latency_ns.p99<1ms: no domain or group "
            "\"nosuch\" in scenario sweep-small (expected one of: victim, server, flood (group "
            "of 1), sink, Domain-0)");
    refused_as("--vary domains.flood.count=1..2 --slo 'victim.net.latency_ns.p98<1ms'",
               "fairvisor sweep: --slo victim.net.latency_ns.p98<1ms: unknown field "
               "\"net.latency_ns.p98\" (expected one of: cpu_share, entitled_share, cpu_ns, ", true);
    refused("--vary domains.flood.count=0..2", "fairvisor sweep: --vary domains.flood.count=0..2 "
            "(value 0): count 0 is out of range (expected an integer >= 1)");
    refused_as("--vary sched.tslice=10ms --policies credit,rtds", "fairvisor sweep: --vary "
               "sched.tslice=10ms (value 10ms): tslice is not a parameter of policy rtds "
               "(expected one of: policy", true);
    refused("--vary domains.flood.count=1,2 --policies credit,nope", "fairvisor sweep: "
            "--policies credit,nope: policy 2 \"nope\" is not a policy (expected distinct "
            "policies among: credit, credit2, rtds, null, arinc653, fair)");
    refused("--vary domains.flood.count=1 --set domains.flood.count=2", "fairvisor sweep: --set "
            "domains.flood.count=2: sets a key --vary varies");
}

/* ---- Ctrl-C ------------------------------------------------------------------------------ */

struct child_out {
    pid_t pid;
    int fd;
    char *text;             /* everything read so far */
    size_t len;
};

static void start_sweep(struct child_out *c, const char *dir, const char *duration)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    char out[600], set[64];
    snprintf(out, sizeof(out), "%s/s", dir);
    snprintf(set, sizeof(set), "duration=%s", duration);
    c->pid = fork();
    assert_true(c->pid >= 0);
    if (c->pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        if (chdir(tu_src("")) != 0)
            _exit(127);
        execl(tu_bin(), tu_bin(), "sweep", "tests/data/sweep.yaml", "--vary",
              "domains.flood.count=1..6", "--set", set, "-j", "1", "--out", out, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    c->fd = p[0];
    c->text = calloc(1, 1);
    c->len = 0;
}

/* Read until `needle` shows up (NULL: until EOF), at most TU_WAIT_S * 4. */
static void read_until(struct child_out *c, const char *needle)
{
    double end = tu_now() + TU_WAIT_S * 4;
    while (!needle || !strstr(c->text, needle)) {
        struct pollfd pf = { .fd = c->fd, .events = POLLIN };
        if (tu_now() > end)
            fail_msg("waited for \"%s\"; got:\n%s", needle ? needle : "EOF", c->text);
        if (poll(&pf, 1, 1000) <= 0)
            continue;
        char buf[4096];
        ssize_t r = read(c->fd, buf, sizeof(buf));
        if (r <= 0) {
            if (needle)
                fail_msg("EOF before \"%s\":\n%s", needle, c->text);
            return;
        }
        c->text = realloc(c->text, c->len + (size_t)r + 1);
        memcpy(c->text + c->len, buf, (size_t)r);
        c->len += (size_t)r;
        c->text[c->len] = '\0';
    }
}

static int finish(struct child_out *c)
{
    read_until(c, NULL);
    close(c->fd);
    int st;
    assert_int_equal(waitpid(c->pid, &st, 0), c->pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The status column of sweep.csv's rows, as one letter each (o, m, f). */
static void statuses(const char *dir, char *st)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/s/sweep.csv", dir);
    char *csv = tu_read(path, NULL);
    assert_non_null(csv);
    int n = 0;
    for (char *l = strchr(csv, '\n'); l && l[1]; l = strchr(l + 1, '\n'))
        st[n++] = strstr(l, ",ok,") && strstr(l, ",ok,") < strchr(l + 1, '\n') ? 'o'
                : strstr(l, ",missing,") && strstr(l, ",missing,") < strchr(l + 1, '\n') ? 'm' : 'f';
    st[n] = '\0';
    free(csv);
}

static void test_e2e_interrupt_keeps_finished(void **st)
{
    (void)st;
    char *dir = tu_tmpdir(), got[16];
    struct child_out c;
    start_sweep(&c, dir, "10s");        /* about a second of wall time per point */
    read_until(&c, "sweep: 6 points");
    usleep(300000);
    kill(c.pid, SIGINT);
    int rc = finish(&c);
    if (rc != 1 || !strstr(c.text, "interrupted: launching no more points") ||
        !strstr(c.text, "fairvisor sweep: interrupted after"))
        fail_msg("exit %d:\n%s", rc, c.text);
    statuses(dir, got);
    /* the running point finished and was kept; none was launched after */
    assert_int_equal(strlen(got), 6);
    size_t ok = strspn(got, "o");
    assert_true(ok >= 1 && ok < 6);
    assert_int_equal(strspn(got + ok, "m"), 6 - ok);
    free(c.text);
    tu_rmtree(dir);
    free(dir);
}

static void test_e2e_second_interrupt_stops(void **st)
{
    (void)st;
    char *dir = tu_tmpdir(), got[16];
    struct child_out c;
    start_sweep(&c, dir, "600s");       /* a minute or more per point */
    read_until(&c, "sweep: 6 points");
    usleep(300000);
    kill(c.pid, SIGINT);
    read_until(&c, "Ctrl-C again to stop them");
    kill(c.pid, SIGINT);
    int rc = finish(&c);
    if (rc != 1 || !strstr(c.text, "point 0 (credit domains.flood.count=1): stopped (missing)"))
        fail_msg("exit %d:\n%s", rc, c.text);
    statuses(dir, got);
    assert_string_equal(got, "mmmmmm");
    assert_non_null(strstr(c.text, "points: 0 ok, 0 failed, 6 missing (of 6)"));
    free(c.text);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e2e_local_sweep),
        cmocka_unit_test(test_e2e_bad_input),
        cmocka_unit_test(test_e2e_interrupt_keeps_finished),
        cmocka_unit_test(test_e2e_second_interrupt_stops),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
