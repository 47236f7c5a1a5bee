/* test_real_starvation.c — the shipped starvation scenarios on the real
 * engine: the same two runs as tests/test_e2e_starvation.c (credit with
 * charge-back off and no backend fairness, against fair with drr / sfq),
 * plus the victim alone, each run by the CLI as a user runs it
 * (`fairvisor run scenarios/X.yaml --engine real --set duration=3s`),
 * must move the victim the same way as in virtual time. Wall-clock time on
 * a shared host: every assertion compares runs of this test with each
 * other (a ratio of medians); none compares a time with a constant.
 *
 * Each scenario runs alone once, then credit and fair alternately three
 * times (paired, so that both see the same host load: the figures below
 * moved by up to 4x between quiet and busy periods of the measuring host,
 * in both runs of a pair alike), and compares the medians of the three.
 * About 45 s of wall time (14 runs of 3 s, plus start-up).
 *
 * Measured on the 2-core VM this was written on while six other engineers
 * built and tested on it (load 3-4), min/median/max over 10 runs (5 for
 * alone) of 3 s each; sim figures are the virtual-time engine's:
 *
 * io-starvation-net (victim: net-echo client, window 1, paced at 1,000/s)
 *                     alone            credit+none       fair+drr
 *   transactions      2991/2996/3000   2918/2982/2992    2973/2995/2998
 *   rtt p50 (ms)      0.11/0.16/0.18   0.009/0.07/0.21   0.054/0.058/0.14
 *   rtt p95 (ms)      2.36/2.69/3.02   1.11/1.54/2.06    0.23/0.48/0.54
 *   rtt p99 (ms)      4.06/4.33/6.16   2.36/7.47/13.1    0.35/4.78/5.37
 *   Domain-0 wait p99 (ms)             0.67/2.42/4.98    0.06/0.52/0.54
 *   sim: transactions 2000 / 254 / 1989, rtt p95 0.034 / 32 / 1.67 ms.
 * The paced victim keeps its transactions on the real engine under every
 * policy: netback moves a frame for a small fraction of what a flooding
 * guest spends producing it, so the floods cannot keep Domain-0 busy and
 * it blocks, and gets credit's BOOST when it wakes (in virtual time a
 * guest's sending costs nothing, netback's cost model does: Domain-0 never
 * blocks there). What moves the same way is the tail of the round trip:
 * under credit Domain-0, the echo server and the victim wait behind the
 * floods' and the sink's BOOSTed wake-ups and the hogs' 30 ms slices; fair
 * gives Domain-0 its guarantee and orders wake-ups by virtual time (fair
 * with netback fairness none does as well; credit with drr does not).
 * Credit over fair, per pair (9 pairs of adjacent runs): p95 2.67x..7.6x,
 * p99 1.33x..8.2x (every pair > 1); over all runs, credit's smallest p95 is 2.06x fair's
 * largest. On a quiet host (this test, 5 times, one of them ASan) the
 * medians were 5.9x..7.9x at p95 and 5.2x..9.9x at p99. Asserted: median
 * p95 credit >= 1.5 x fair (margin 1.4x on the worst case across all
 * runs, 1.8x on the worst pair) and median p99 credit > fair (direction
 * only: the worst pair is 1.33x); either fails if fair's scheduling
 * behaved as credit's. Also the sim's bound for fair, transactions >= 90%
 * of alone (measured >= 99%). Not asserted, because the real engine does
 * not reproduce them: credit's transactions < 50% of alone (they stay
 * >= 97%), and Jain over the guests >= 0.95 for fair (0.82..0.95; credit
 * 0.70..0.87). Alone, the rtt tail is longer than with neighbours under a
 * busy host: idle pCPU threads sleep and each round trip pays host thread
 * wake-ups, so alone is no latency baseline here. (Unpaced,
 * `domains.victim.workload.rate=0`, the victim made 65k..75k transactions
 * under credit, 30k..32k under fair and 41k..44k alone: a closed loop's
 * speed, which credit's BOOST of every waker favours; not starvation.)
 *
 * io-starvation-blk (victim: blk-latency, 4 KiB random reads one at a
 * time; three blk-flood at depth 32), on image files (O_DIRECT, ext4 on a
 * virtio disk) written in full first, so that every read reaches the disk:
 *                     alone            credit+none       fair+sfq
 *   victim reads      7078/7561/7778   454/725/1436      1197/1646/6018
 *   blk latency p50   0.088/0.088/0.090 1.18/1.75/3.74   0.28/0.31/0.43 ms
 *   blk latency p99   0.31/0.35/2.36   7.2/31/49         0.74/10.5/13.6 ms
 *   sim: reads 31805 / 629 / 30090, latency p50 0.063 / 3.1 / 0.066 ms.
 * The scenario's own `backend: memory` has no device to share on the real
 * engine (a read is a copy): there the victim's reads moved the same way
 * but overlapped (credit 4796..21294, fair 17999..32608, alone
 * 85569..173784 over 5 runs), so this test gives the vbds real images:
 * blkback.backend=file and the vbds' paths, nothing else. Fair over
 * credit, per pair (6): reads 2.42x..6.1x, latency p50 3.5x..11x; over all
 * runs, fair's fewest reads are 1.7x credit's most within one period of
 * host load (0.83x across a quiet and a busy one, which pairing avoids)
 * and credit's lowest p50 is 2.77x fair's highest; quiet-host medians
 * (this test, 5 times) 4.1x..4.7x and 3.6x..4.0x, alone 17k..20k reads.
 * Both halves count (quiet host, 2 runs each): credit+sfq 2840 reads,
 * p50 0.28 ms; fair+none 2330, p50 1.13 ms; credit+none 1340, 1.25 ms;
 * fair+sfq 5700, 0.33 ms. Asserted: median reads fair >= 1.3 x credit
 * (fails if neither half worked), median latency p50 credit >= 2 x fair
 * (fails if sfq ordered as none does), and the sim's bound for credit,
 * reads < 50% of alone (measured <= 20%). Not asserted: fair >= 90% of
 * alone (16%..80% here: sfq orders what blkback sends, but the real disk
 * queues up to blkback.depth requests of the floods ahead of the victim's,
 * where no scheduler reaches them).
 *
 * Skipped (77) without DPDK (netback's ring port), without io_uring, or
 * where the image directory has no O_DIRECT (a page-cache "disk" is no
 * shared device). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/io_uring.h>

#include "netback/port.h"
#include "testutil.h"

#define DURATION "3s"
#define PAIRS 3
#define IMG_MIB 64

/* What one run gives the victim. */
struct fig {
    double work;            /* work units: transactions, or reads */
    double rtt_p95, rtt_p99;
    double blk_p50, blk_p99;
    double jain;
    bool direct;
};

static json_t *obj(json_t *j, const char *k)
{
    json_t *v = json_object_get(j, k);
    if (!v)
        fail_msg("summary.json: no \"%s\"", k);
    return v;
}

static double num(json_t *j, const char *k) { return json_number_value(obj(j, k)); }

static json_t *victim(json_t *sum)
{
    json_t *doms = obj(sum, "domains");
    for (size_t i = 0; i < json_array_size(doms); i++) {
        json_t *d = json_array_get(doms, i);
        if (strcmp(json_string_value(obj(d, "name")), "victim") == 0)
            return d;
    }
    fail_msg("summary.json: no domain victim");
    return NULL;
}

/* The victim's p95 round trip from app-latency.csv (summary.json has p50
 * and p99): the first CDF point at or past 0.95. */
static double rtt_p95(const char *dir)
{
    char *p = NULL;
    if (asprintf(&p, "%s/app-latency.csv", dir) < 0)
        abort();
    FILE *f = fopen(p, "r");
    if (!f)
        fail_msg("%s: %s", p, strerror(errno));
    char line[256], name[64];
    long long ns;
    double cdf, got = -1;
    while (got < 0 && fgets(line, sizeof(line), f))
        if (sscanf(line, "%63[^,],%lld,%lf", name, &ns, &cdf) == 3 &&
            strcmp(name, "victim") == 0 && cdf >= 0.95 - 1e-9)
            got = (double)ns;
    fclose(f);
    if (got < 0)
        fail_msg("%s: no p95 for victim", p);
    free(p);
    return got;
}

/* Skip when the run failed for want of a capability of this host. */
static void skip_if_host_lacks(const char *out)
{
    if (strstr(out, "netback port"))
        TU_SKIP("%s", out);
    if (strstr(out, "io_uring is unavailable"))
        TU_SKIP("%s", out);
}

/* `fairvisor run scenarios/SCN.yaml --engine real` with `extra`; checks
 * the policy and charge-back the run reports, and reads the victim's
 * figures. */
static void run_real(const char *scn, const char *extra, const char *policy, bool chargeback,
                     struct fig *f)
{
    char *dir = tu_tmpdir(), *args = NULL, *out = NULL;
    if (asprintf(&args, "run scenarios/%s.yaml --engine real --set duration=" DURATION
                        " --out %s --quiet --no-plot %s", scn, dir, extra) < 0)
        abort();
    int rc = tu_fairvisor(args, &out);
    if (rc != 0) {
        skip_if_host_lacks(out);
        fail_msg("fairvisor %s -> %d\n%s", args, rc, out);
    }
    json_t *j = tu_summary(dir);
    assert_string_equal(json_string_value(obj(j, "engine")), "real");
    assert_string_equal(json_string_value(obj(j, "policy")), policy);
    assert_int_equal(json_is_true(obj(j, "chargeback")), chargeback);
    json_t *v = victim(j);
    memset(f, 0, sizeof(*f));
    f->work = num(v, "work_units");
    f->jain = num(obj(j, "fairness"), "jain_guests");
    json_t *net = json_object_get(v, "net"), *blk = json_object_get(v, "blk");
    if (net && num(obj(net, "latency_ns"), "p99") > 0) {
        f->rtt_p99 = num(obj(net, "latency_ns"), "p99");
        f->rtt_p95 = rtt_p95(dir);
    }
    if (blk && num(blk, "reads") > 0) {
        f->blk_p50 = num(obj(blk, "latency_ns"), "p50");
        f->blk_p99 = num(obj(blk, "latency_ns"), "p99");
        f->direct = json_is_true(json_object_get(blk, "direct"));
    }
    assert_true(f->work > 0);
    json_decref(j);
    tu_rmtree(dir);
    free(dir);
    free(args);
    free(out);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of field `off` (a double in struct fig) over n runs. */
static double median(const struct fig *r, int n, size_t off)
{
    double v[PAIRS];
    for (int i = 0; i < n; i++)
        memcpy(&v[i], (const char *)&r[i] + off, sizeof(double));
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
#define MED(r, field) median(r, PAIRS, offsetof(struct fig, field))

/* Credit and fair alternately, PAIRS times (after the alone run `a`). */
static void run_pairs(const char *scn, const char *common, const char *protect,
                      const struct fig *a, struct fig *c, struct fig *f)
{
    char *args = NULL;
    if (asprintf(&args, "%s %s", common, protect) < 0)
        abort();
    for (int i = 0; i < PAIRS; i++) {
        run_real(scn, common, "credit", false, &c[i]);
        run_real(scn, args, "fair", true, &f[i]);
    }
    free(args);
    for (int i = 0; i < PAIRS; i++)
        print_message("%s pair %d: victim work credit %.0f fair %.0f; rtt p95 %.3f/%.3f ms, "
                      "p99 %.3f/%.3f ms; blk p50 %.3f/%.3f ms, p99 %.3f/%.3f ms; "
                      "jain guests %.3f/%.3f\n", scn, i, c[i].work, f[i].work,
                      c[i].rtt_p95 / 1e6, f[i].rtt_p95 / 1e6, c[i].rtt_p99 / 1e6,
                      f[i].rtt_p99 / 1e6, c[i].blk_p50 / 1e6, f[i].blk_p50 / 1e6,
                      c[i].blk_p99 / 1e6, f[i].blk_p99 / 1e6, c[i].jain, f[i].jain);
    print_message("%s alone: victim work %.0f, rtt p95 %.3f ms, blk p50 %.3f ms\n", scn, a->work,
                  a->rtt_p95 / 1e6, a->blk_p50 / 1e6);
}

/* AddressSanitizer slows every guest and the backend 2-3x, which moves
 * latencies of a millisecond or so by as much as the policies do (CI,
 * 2026-12-01: rtt p95 credit 1.245 ms against fair 1.311 ms, blk p50 ratio
 * 1.90 against the 2x bound). Under ASan the run still goes through every
 * path for its memory checks, and the throughput claims stay asserted;
 * the latency ratios are asserted in the uninstrumented build, which CI
 * runs first. */
#if defined(__SANITIZE_ADDRESS__)
#define LATENCY_CLAIMS 0
#else
#define LATENCY_CLAIMS 1
#endif

static void test_net(void **st)
{
    (void)st;
    char why[256];
    if (nb_port_available(NB_PORT_RING, why, sizeof(why)))
        TU_SKIP("%s", why);
    struct fig a, c[PAIRS], f[PAIRS];
    run_real("io-starvation-net",
             "--set 'domains.flood.workload={kind: idle}' "
             "--set 'domains.sink.workload={kind: idle}' "
             "--set 'domains.hog.workload={kind: idle}'", "credit", false, &a);
    run_pairs("io-starvation-net", "", "--set sched.policy=fair --set netback.fairness=drr", &a,
              c, f);
    double c95 = MED(c, rtt_p95), f95 = MED(f, rtt_p95);
    double c99 = MED(c, rtt_p99), f99 = MED(f, rtt_p99), fw = MED(f, work);
    print_message("io-starvation-net medians: rtt p95 credit %.3f fair %.3f ms (%.2fx), p99 "
                  "credit %.3f fair %.3f ms (%.2fx); fair transactions %.0f of %.0f alone\n",
                  c95 / 1e6, f95 / 1e6, c95 / f95, c99 / 1e6, f99 / 1e6, c99 / f99, fw, a.work);
    if (LATENCY_CLAIMS && c95 < 1.5 * f95)
        fail_msg("victim rtt p95: credit %.3f ms is not >= 1.5 x fair's %.3f ms", c95 / 1e6,
                 f95 / 1e6);
    if (LATENCY_CLAIMS && c99 <= f99)
        fail_msg("victim rtt p99: credit %.3f ms is not above fair's %.3f ms", c99 / 1e6,
                 f99 / 1e6);
    if (fw < 0.9 * a.work)
        fail_msg("victim transactions under fair %.0f < 90%% of alone's %.0f", fw, a.work);
}

/* io_uring_setup(2) answers ENOSYS or EPERM where the kernel lacks it, it
 * is disabled (kernel.io_uring_disabled) or a seccomp filter blocks it. */
static bool io_uring_usable(char *why, size_t len)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof(p));
    long fd = syscall(__NR_io_uring_setup, 4, &p);
    if (fd >= 0) {
        close((int)fd);
        return true;
    }
    snprintf(why, len, "io_uring is unavailable here (io_uring_setup: %s)", strerror(errno));
    return false;
}

/* Write a whole image, so that reads reach the disk (ext4 answers a hole
 * without one). */
static void write_image(const char *dir, const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        abort();
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        fail_msg("%s: %s", p, strerror(errno));
    static char buf[1 << 20];
    memset(buf, 0xa5, sizeof(buf));
    for (int i = 0; i < IMG_MIB; i++)
        if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
            fail_msg("%s: %s", p, strerror(errno));
    if (fsync(fd) != 0)
        fail_msg("%s: fsync: %s", p, strerror(errno));
    close(fd);
    free(p);
}

/* The images (256 MiB) go however the test ends. */
static int blk_teardown(void **st)
{
    if (*st) {
        tu_rmtree(*st);
        free(*st);
    }
    return 0;
}

static void test_blk(void **st)
{
    char why[256];
    if (!io_uring_usable(why, sizeof(why)))
        TU_SKIP("%s", why);
    char *img = tu_tmpdir(), *common = NULL;
    *st = img;
    const char *names[] = { "victim.img", "flood-0.img", "flood-1.img", "flood-2.img" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        write_image(img, names[i]);
    if (asprintf(&common, "--set blkback.backend=file "
                          "--set 'domains.victim.vbds=[{size: %dMiB, path: %s/victim.img}]' "
                          "--set 'domains.flood.vbds=[{size: %dMiB, path: %s/flood-%%d.img}]'",
                 IMG_MIB, img, IMG_MIB, img) < 0)
        abort();
    char *alone = NULL;
    if (asprintf(&alone, "%s --set 'domains.flood.workload={kind: idle}' "
                         "--set 'domains.hog.workload={kind: idle}'", common) < 0)
        abort();
    struct fig a, c[PAIRS], f[PAIRS];
    run_real("io-starvation-blk", alone, "credit", false, &a);
    free(alone);
    if (!a.direct)
        TU_SKIP("the images' filesystem (%s) has no O_DIRECT: blkback would read them "
                "from the page cache, which is no shared disk", img);
    run_pairs("io-starvation-blk", common, "--set sched.policy=fair --set blkback.fairness=sfq",
              &a, c, f);
    free(common);
    double cw = MED(c, work), fw = MED(f, work), c50 = MED(c, blk_p50), f50 = MED(f, blk_p50);
    print_message("io-starvation-blk medians: victim reads credit %.0f fair %.0f (%.2fx) alone "
                  "%.0f; blk latency p50 credit %.3f fair %.3f ms (%.2fx)\n", cw, fw, fw / cw,
                  a.work, c50 / 1e6, f50 / 1e6, c50 / f50);
    if (fw < 1.3 * cw)
        fail_msg("victim reads: fair %.0f is not >= 1.3 x credit's %.0f", fw, cw);
    if (LATENCY_CLAIMS && c50 < 2 * f50)
        fail_msg("victim blk latency p50: credit %.3f ms is not >= 2 x fair's %.3f ms",
                 c50 / 1e6, f50 / 1e6);
    if (cw >= 0.5 * a.work)
        fail_msg("victim reads under credit %.0f not below 50%% of alone's %.0f", cw, a.work);
}

/* ThreadSanitizer builds have no asynchronous preemption (hv/real_priv.h:
 * a vCPU gives its pCPU up only at the hypervisor's preempt points) and run
 * 5-15x slower, so they do not schedule as the real engine does: the
 * figures this test compares are not the real engine's there (measured:
 * blk p50 ratio 1.76 against the 2x bound). The threads themselves are
 * checked under TSan by test_real_net and test_real_blk. */
#if defined(__SANITIZE_THREAD__)
#define FV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FV_TSAN 1
#endif
#endif

int main(void)
{
#ifdef FV_TSAN
    print_message("[ SKIPPED  ] a ThreadSanitizer build: no asynchronous preemption, "
                  "so the policies' timing is not the real engine's\n");
    return 77;
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_net),
        cmocka_unit_test_teardown(test_blk, blk_teardown),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
