/* test_scenario_blk.c — the scenario loader's disks: `blkback:` and its
 * defaults, per-domain `vbds`, the default vbd of a blk-* workload,
 * blkback.cpu against netback.cpu, Domain-0 added for a vbd alone, image
 * paths resolved against the scenario's directory (%d, %%) and checked on
 * this host, every refusal with its exact message and position, and the
 * resolved scenario.yaml loading back to the same scenario. File cases run
 * in a fresh directory; the loader must leave it as it found it. */
#include "testutil.h"
#include "scn_load.h"
#include "hv/scenario_priv.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory of the file cases (canonical) and a scenario file in it. */
static char tmp[PATH_MAX], file[PATH_MAX + 16];

static int setup(void **st)
{
    (void)st;
    char *t = tu_tmpdir();
    if (!realpath(t, tmp))
        abort();
    free(t);
    snprintf(file, sizeof(file), "%s/s.yaml", tmp);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    return tu_rmtree(tmp);
}

/* Load text as if it were tmp/s.yaml; expect success. */
static void fload_ok(const char *text, const char *const *sets, int nsets, struct scenario *s)
{
    if (scenario_load_string(file, text, sets, nsets, s, err, sizeof(err)))
        fail_msg("unexpected refusal: %s", err);
}

/* Load text as tmp/s.yaml; expect refusal with exactly the message fmt
 * makes, in which every '@' stands for tmp. */
__attribute__((format(printf, 2, 3)))
static void fload_bad(const char *text, const char *fmt, ...)
{
    char body[1024], want[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    size_t n = 0;
    for (const char *p = body; *p && n + strlen(tmp) + 2 < sizeof(want); p++) {
        if (*p == '@')
            n += (size_t)snprintf(want + n, sizeof(want) - n, "%s", tmp);
        else
            want[n++] = *p;
    }
    want[n] = 0;
    struct scenario s;
    int rc = scenario_load_string(file, text, NULL, 0, &s, err, sizeof(err));
    assert_int_equal(rc, -EINVAL);
    assert_string_equal(err, want);
    assert_null(s.domains);
}

static char *tpath(const char *name)
{
    static char b[2][PATH_MAX + 64];
    static int k;
    k ^= 1;
    if (snprintf(b[k], sizeof(b[k]), "%s/%s", tmp, name) >= (int)sizeof(b[k]))
        abort();
    return b[k];
}

static bool exists(const char *name)
{
    struct stat st;
    return lstat(tpath(name), &st) == 0;
}

#define HEAD "duration: 1s\n"
#define DOMS_A "domains:\n  - name: a\n"
#define DOM_A HEAD DOMS_A

/* ---- defaults ------------------------------------------------------------------ */

static void assert_bb_defaults(const struct scn_blkback *bb, enum scn_nb_cpu cpu)
{
    assert_true(bb->present);
    assert_int_equal(bb->backend, SCN_BLK_MEMORY);
    assert_int_equal(bb->cpu, cpu);
    assert_int_equal(bb->qdepth, 32);
    assert_int_equal(bb->latency, FV_US(60));
    assert_int_equal(bb->bandwidth, 1536ULL << 20);
    assert_int_equal(bb->cost_request, FV_US(2));
    assert_int_equal(bb->cost_kib, 85);
    assert_int_equal(bb->fairness, SCN_BLK_FAIR_NONE);
    assert_int_equal(bb->depth, 16);
    assert_int_equal(bb->model_depth, 16);
}

/* A vbd alone makes blkback and Domain-0 (no netback); none, neither. */
static void test_defaults(void **st)
{
    (void)st;
    struct scenario s;
    load_ok(DOM_A "    vbds: [{}, { size: 4KiB }]\n  - name: b\n", NULL, 0, &s);
    assert_bb_defaults(&s.blkback, SCN_NB_DOM0);
    assert_int_equal(s.netback.port, SCN_NB_NONE);
    assert_int_equal(s.nr_guests, 2);
    assert_int_equal(s.nr_domains, 3);
    assert_int_equal(s.dom0, 2);
    const struct scn_domain *d0 = &s.domains[2];
    assert_true(d0->is_dom0);
    assert_string_equal(d0->name, "Domain-0");
    assert_int_equal(d0->id, 0);
    assert_int_equal(d0->vcpus, 1);
    assert_int_equal(d0->nr_vbds, 0);
    assert_false(d0->pinned);
    assert_int_equal(s.domains[0].nr_vbds, 2);
    assert_int_equal(s.domains[0].vbds[0].size, 64ULL << 20);
    assert_int_equal(s.domains[0].vbds[0].backend, SCN_BLK_MEMORY);
    assert_string_equal(s.domains[0].vbds[0].path, "");
    assert_int_equal(s.domains[0].vbds[1].size, 4096);
    assert_int_equal(s.domains[1].nr_vbds, 0);
    assert_null(s.domains[1].vbds);
    scenario_free(&s);

    static const struct scn_blkback zero;
    load_ok(DOM_A "    vbds: []\n", NULL, 0, &s);
    assert_int_equal(s.dom0, -1);
    assert_int_equal(s.nr_domains, 1);
    assert_memory_equal(&s.blkback, &zero, sizeof(zero));
    scenario_free(&s);

    /* dom0: is taken with disks only */
    load_ok(HEAD "dom0: { vcpus: 2, weight: 512 }\ndomains:\n  - name: a\n    vbds: [{}]\n",
            NULL, 0, &s);
    assert_int_equal(s.domains[s.dom0].vcpus, 2);
    assert_int_equal(s.domains[s.dom0].sp.weight, 512);
    scenario_free(&s);

    /* arinc653 windows may name Domain-0 when it is there for a disk */
    load_ok(HEAD "sched: { policy: arinc653, windows: [{ domain: Domain-0, length: 1ms }] }\n"
            "domains:\n  - name: a\n    vbds: [{}]\n", NULL, 0, &s);
    assert_int_equal(s.gp.windows[0].domid, 0);
    scenario_free(&s);
}

static void test_knobs(void **st)
{
    (void)st;
    struct scenario s;
    load_ok(HEAD "blkback: { backend: file, cpu: dom0, qdepth: 7, fairness: none, model: "
            "{ latency: 0ns, bandwidth: 1.5GiB/s }, cost: { request: 1us, kib: 0ns } }\n"
            "domains:\n  - name: a\n    vbds: [{ size: 1000KiB, backend: memory }]\n",
            NULL, 0, &s);
    const struct scn_blkback *bb = &s.blkback;
    assert_true(bb->present);
    assert_int_equal(bb->backend, SCN_BLK_FILE);
    assert_int_equal(bb->qdepth, 7);
    assert_int_equal(bb->latency, 0);
    assert_int_equal(bb->bandwidth, 1610612736);
    assert_int_equal(bb->cost_request, FV_US(1));
    assert_int_equal(bb->cost_kib, 0);
    assert_int_equal(s.domains[0].vbds[0].size, 1024000);
    assert_int_equal(s.domains[0].vbds[0].backend, SCN_BLK_MEMORY);
    scenario_free(&s);

    static const struct {
        const char *bw;
        uint64_t bytes;
    } rates[] = {
        { "512B/s", 512 }, { "100MiB/s", 104857600 }, { "1TiB/s", 1ULL << 40 },
        { "0.5KiB/s", 512 }, { "1B/s", 1 },
    };
    for (size_t k = 0; k < sizeof(rates) / sizeof(rates[0]); k++) {
        char text[256];
        snprintf(text, sizeof(text), HEAD "blkback: { model: { bandwidth: %s } }\n"
                 "domains:\n  - name: a\n    vbds: [{}]\n", rates[k].bw);
        load_ok(text, NULL, 0, &s);
        if (s.blkback.bandwidth != rates[k].bytes)
            fail_msg("%s: %llu (expected %llu)", rates[k].bw,
                     (unsigned long long)s.blkback.bandwidth, (unsigned long long)rates[k].bytes);
        scenario_free(&s);
    }
}

/* Fake descriptors: the rule is the kind's prefix. */
static void test_blk_kind(void **st)
{
    (void)st;
    static const struct workload_desc blk = { "blk-x", "", NULL, NULL },
                                      bare = { "blk", "", NULL, NULL },
                                      net = { "net-flood", "", NULL, NULL };
    assert_true(scn_is_blk_kind(&blk));
    assert_false(scn_is_blk_kind(&bare));
    assert_false(scn_is_blk_kind(&net));
    assert_false(scn_is_blk_kind(NULL));
}

/* A blk-* workload without vbds gets one, every key its default. */
static void test_default_vbd(void **st)
{
    (void)st;
    struct scenario s;
    const struct workload_desc *w = NULL;
    for (int i = 0; workload_kinds[i] && !w; i++)
        if (scn_is_blk_kind(workload_kinds[i]))
            w = workload_kinds[i];
    if (!w)
        TU_SKIP("no blk-* workload is built in (scn_is_blk_kind is tested alone)");
    char text[512];
    snprintf(text, sizeof(text), DOM_A "    workload: %s\n  - name: b\n    workload: "
             "{ kind: %s }\n    vbds: [{ size: 1MiB }]\n", w->kind, w->kind);
    load_ok(text, NULL, 0, &s);
    assert_int_equal(s.domains[0].nr_vbds, 1);
    assert_int_equal(s.domains[0].vbds[0].size, 64ULL << 20);
    assert_int_equal(s.domains[0].vbds[0].backend, SCN_BLK_MEMORY);
    assert_int_equal(s.domains[1].nr_vbds, 1);
    assert_int_equal(s.domains[1].vbds[0].size, 1ULL << 20);
    assert_int_equal(s.dom0, 2);
    assert_true(s.blkback.present);
    scenario_free(&s);

    /* A file one is <scenario dir>/<domain name>.img, per replica */
    snprintf(text, sizeof(text), HEAD "blkback: { backend: file }\ndomains:\n  - name: r\n"
             "    count: 2\n    workload: %s\n", w->kind);
    fload_ok(text, NULL, 0, &s);
    assert_int_equal(s.domains[0].vbds[0].backend, SCN_BLK_FILE);
    assert_string_equal(s.domains[0].vbds[0].path, tpath("r-0.img"));
    assert_string_equal(s.domains[1].vbds[0].path, tpath("r-1.img"));
    assert_false(exists("r-0.img") || exists("r-1.img"));
    scenario_free(&s);

    snprintf(text, sizeof(text), DOM_A "    workload: %s\n    vbds: []\n", w->kind);
    char want[256];
    snprintf(want, sizeof(want), "s.yaml:5:11: vbds is empty (expected at least one vbd: "
             "workload %s uses the domain's first)", w->kind);
    load_bad(text, NULL, 0, want);
}

/* ---- refusals ---------------------------------------------------------------------- */

#define VBD_DOM "domains:\n  - name: a\n    vbds: [{}]\n"
#define BW_EXPECT "(expected a size per second such as 2GiB/s: B/s, KiB/s, MiB/s, GiB/s or TiB/s)"

static void test_blkback_refusals(void **st)
{
    (void)st;
    load_bad(HEAD "blkback: { backend: disk }\n" VBD_DOM, NULL, 0, "s.yaml:2:21: unknown "
             "blkback.backend \"disk\" (expected one of: memory, file)");
    load_bad(HEAD "blkback: { cpu: numa }\n" VBD_DOM, NULL, 0, "s.yaml:2:17: unknown "
             "blkback.cpu \"numa\" (expected one of: dom0, dedicated)");
    load_bad(HEAD "blkback: { qdepth: 0 }\n" VBD_DOM, NULL, 0,
             "s.yaml:2:20: qdepth 0 is out of range (expected 1..256)");
    load_bad(HEAD "blkback: { qdepth: 257 }\n" VBD_DOM, NULL, 0,
             "s.yaml:2:20: qdepth 257 is out of range (expected 1..256)");
    load_bad(HEAD "blkback: { fairness: drr }\n" VBD_DOM, NULL, 0,
             "s.yaml:2:22: unknown blkback.fairness \"drr\" (expected one of: none, sfq)");
    load_bad(HEAD "blkback: { model: { bandwidth: 2GB/s } }\n" VBD_DOM, NULL, 0,
             "s.yaml:2:32: bandwidth \"2GB/s\" is not a byte rate " BW_EXPECT);
    load_bad(HEAD "blkback: { model: { bandwidth: 2GiB } }\n" VBD_DOM, NULL, 0,
             "s.yaml:2:32: bandwidth \"2GiB\" is not a byte rate " BW_EXPECT);
    load_bad(HEAD "blkback: { model: { bandwidth: 0GiB/s } }\n" VBD_DOM, NULL, 0,
             "s.yaml:2:32: bandwidth 0GiB/s is zero (expected a rate > 0)");
    load_bad(HEAD "blkback: { model: { bandwidth: -1MiB/s } }\n" VBD_DOM, NULL, 0,
             "s.yaml:2:32: bandwidth -1MiB/s is negative " BW_EXPECT);
    load_bad(HEAD "blkback: { model: { bandwidth: 0.3B/s } }\n" VBD_DOM, NULL, 0,
             "s.yaml:2:32: bandwidth 0.3B/s is not a whole number of bytes per second "
             BW_EXPECT);
    load_bad(HEAD "blkback: { model: { bandwidth: 9000000TiB/s } }\n" VBD_DOM, NULL, 0,
             "s.yaml:2:32: bandwidth 9000000TiB/s is too large (expected at most "
             "9223372036854775807B/s)");
    load_bad(HEAD "blkback: { model: { latency: -1us } }\n" VBD_DOM, NULL, 0,
             "s.yaml:2:30: latency -1us is negative (expected a duration >= 0ns)");
    load_bad(HEAD "blkback: { cost: { request: 1 } }\n" VBD_DOM, NULL, 0,
             "s.yaml:2:29: request \"1\" has no unit (expected a number with ns, us, ms or s)");
    load_bad(HEAD "blkback: { dpth: 4 }\n" VBD_DOM, NULL, 0, "s.yaml:2:12: unknown key "
             "\"dpth\" in blkback (expected one of: backend, cpu, qdepth, fairness, depth, model, "
             "cost)");
    load_bad(HEAD "blkback: { model: { lat: 1us } }\n" VBD_DOM, NULL, 0, "s.yaml:2:21: unknown "
             "key \"lat\" in blkback.model (expected one of: latency, bandwidth, depth)");
    load_bad(HEAD "blkback: fast\n" VBD_DOM, NULL, 0, "s.yaml:2:10: blkback is a single value "
             "(expected blkback: { backend: memory, cpu: dom0 })");
    load_bad(HEAD "blkback: {}\n" ONE_DOM, NULL, 0, "s.yaml:2:10: blkback: no domain has a vbd "
             "(expected a domain with vbds, or running a blk-* workload)");
    load_bad(HEAD "blkback: {}\n" ONE_DOM "    vbds: []\n", NULL, 0, "s.yaml:2:10: blkback: no "
             "domain has a vbd (expected a domain with vbds, or running a blk-* workload)");
    load_bad(HEAD "dom0: { vcpus: 2 }\n" ONE_DOM, NULL, 0, "s.yaml:2:7: dom0: no domain has a "
             "vif or a vbd (expected a domain with vifs or vbds, or running a net-* or blk-* "
             "workload: Domain-0 runs netback and blkback)");
    load_bad(HEAD "blkback: { cpu: dedicated }\n" VBD_DOM, NULL, 0, "s.yaml:2:17: blkback.cpu: "
             "dedicated needs pcpus >= 2: one pCPU is Domain-0's own (expected pcpus >= 2, or "
             "cpu: dom0; pcpus is 1)");
}

#define VBDS DOM_A "    vbds: "

static void test_vbd_refusals(void **st)
{
    (void)st;
    load_bad(VBDS "[{ size: 5000B }]\n", NULL, 0, "s.yaml:4:20: size 5000B is not a whole number "
             "of 512-byte sectors (expected a multiple of 512 bytes)");
    load_bad(VBDS "[{ size: 8.25KiB }]\n", NULL, 0, "s.yaml:4:20: size 8448B is not a whole "
             "number of 512-byte sectors (expected a multiple of 512 bytes)");
    load_bad(VBDS "[{ size: 2KiB }]\n", NULL, 0, "s.yaml:4:20: size 2KiB is out of range "
             "(expected a size >= 4KiB: one 4KiB block)");
    load_bad(VBDS "[{ size: 64 }]\n", NULL, 0, "s.yaml:4:20: size \"64\" has no unit (expected "
             "a number with B, KiB, MiB, GiB or TiB)");
    load_bad(VBDS "[{ backend: disk }]\n", NULL, 0, "s.yaml:4:23: unknown backend \"disk\" "
             "(expected one of: memory, file)");
    load_bad(VBDS "[{ path: x.img }]\n", NULL, 0, "s.yaml:4:20: path on a vbd with backend "
             "memory (expected no path, or backend: file)");
    load_bad(VBDS "[{ backend: file }]\n", NULL, 0, "s.yaml:4:12: vbd with backend file has no "
             "path (expected path: FILE, the image)");
    load_bad(HEAD "blkback: { backend: file }\n" VBD_DOM, NULL, 0, "s.yaml:5:12: vbd with "
             "backend file has no path (expected path: FILE, the image)");
    load_bad(DOM_A "    count: 2\n    vbds: [{ backend: file, path: x.img }]\n", NULL, 0,
             "s.yaml:5:35: path on a domain with count 2 would be one image for every replica "
             "(expected a path with %d, the replica index)");
    load_bad(DOM_A "    count: 2\n    vbds: [{ backend: file, path: x%%d.img }]\n", NULL, 0,
             "s.yaml:5:35: path on a domain with count 2 would be one image for every replica "
             "(expected a path with %d, the replica index)");
    load_bad(VBDS "[{},{},{},{},{},{},{},{},{}]\n", NULL, 0,
             "s.yaml:4:11: vbds has 9 entries (expected at most 8 per domain)");
    load_bad(VBDS "{ size: 1MiB }\n", NULL, 0, "s.yaml:4:11: vbds is a mapping (expected a "
             "list such as [{ size: 64MiB }])");
    load_bad(VBDS "[{ backend: file, path: \"\" }]\n", NULL, 0, "s.yaml:4:35: path is empty "
             "(expected a file such as disk.img, relative to the scenario's directory)");
    load_bad(VBDS "[{ backend: file, path: \"a%sb\" }]\n", NULL, 0, "s.yaml:4:35: path "
             "\"a%sb\" has a % not followed by d or % (expected %d for the replica index, %% "
             "for a %)");
    load_bad(VBDS "[{ backend: file, path: \"a\\tb\" }]\n", NULL, 0, "s.yaml:4:35: path "
             "\"a?b\" contains a control character (expected printable characters)");
    load_bad(VBDS "[{ sz: 1MiB }]\n", NULL, 0, "s.yaml:4:14: unknown key \"sz\" in vbd "
             "(expected one of: size, backend, path, weight, reservation, limit)");
    char text[512];
    snprintf(text, sizeof(text), VBDS "[{ backend: file, path: %0256d }]\n", 0);
    load_bad(text, NULL, 0, "s.yaml:4:35: path \"0000000000000000000000000000000000000000...\" "
             "is too long (expected at most 255 characters)");
    load_bad(DOM_A "    wieght: 5\n", NULL, 0, "s.yaml:4:5: unknown key \"wieght\" in domain "
             "(expected one of: name, group, count, vcpus, memory, pin, weight, cap, period, budget, "
             "extratime, workload, vifs, vbds)");
}

/* ---- blkback.cpu and netback.cpu ------------------------------------------------------ */

static void assert_pins(const struct scn_domain *d, int first, int last)
{
    assert_true(d->pinned);
    assert_int_equal(cpumask_weight(&d->pin), last - first + 1);
    for (int cpu = first; cpu <= last; cpu++)
        assert_true(cpumask_test(&d->pin, cpu));
}

static void test_cpu(void **st)
{
    (void)st;
    struct scenario s;
    /* netback's is blkback's default */
    load_ok(HEAD "pcpus: 2\nnetback: { cpu: dedicated }\n" DOMS_A "    vifs: [{}]\n    vbds: [{}]\n",
            NULL, 0, &s);
    assert_int_equal(s.blkback.cpu, SCN_NB_DEDICATED);
    assert_int_equal(s.netback.cpu, SCN_NB_DEDICATED);
    assert_pins(&s.domains[s.dom0], 1, 1);
    scenario_free(&s);
    /* and blkback's netback's */
    load_ok(HEAD "pcpus: 3\nblkback: { cpu: dedicated }\n" DOMS_A "    vifs: [{}]\n    vbds: [{}]\n"
            "  - name: b\n    pin: [0]\n", NULL, 0, &s);
    assert_int_equal(s.blkback.cpu, SCN_NB_DEDICATED);
    assert_int_equal(s.netback.cpu, SCN_NB_DEDICATED);
    assert_pins(&s.domains[0], 0, 1);
    assert_pins(&s.domains[1], 0, 0);
    assert_int_equal(s.dom0, 2);
    assert_pins(&s.domains[2], 2, 2);
    scenario_free(&s);
    /* both written, alike */
    load_ok(HEAD "pcpus: 2\nnetback: { cpu: dom0 }\nblkback: { cpu: dom0 }\n" DOMS_A
            "    vifs: [{}]\n    vbds: [{}]\n", NULL, 0, &s);
    assert_int_equal(s.blkback.cpu, SCN_NB_DOM0);
    assert_false(s.domains[s.dom0].pinned);
    scenario_free(&s);
    /* disks alone */
    load_ok(HEAD "pcpus: 2\nblkback: { cpu: dedicated }\n" VBD_DOM, NULL, 0, &s);
    assert_int_equal(s.netback.port, SCN_NB_NONE);
    assert_int_equal(s.netback.cpu, SCN_NB_DOM0);
    assert_pins(&s.domains[0], 0, 0);
    assert_pins(&s.domains[1], 1, 1);
    scenario_free(&s);

    load_bad(HEAD "pcpus: 2\nnetback: { cpu: dom0 }\nblkback: { cpu: dedicated }\n" DOMS_A
             "    vifs: [{}]\n    vbds: [{}]\n", NULL, 0, "s.yaml:4:17: blkback.cpu: dedicated "
             "disagrees with netback.cpu: dom0 (expected the same cpu in both: one Domain-0 runs "
             "both backends)");
    load_bad(HEAD "pcpus: 2\nnetback: { cpu: dedicated }\nblkback: { cpu: dom0 }\n" DOMS_A
             "    vifs: [{}]\n    vbds: [{}]\n", NULL, 0, "s.yaml:4:17: blkback.cpu: dom0 "
             "disagrees with netback.cpu: dedicated (expected the same cpu in both: one "
             "Domain-0 runs both backends)");
    load_bad(HEAD "pcpus: 2\nblkback: { cpu: dedicated }\n" DOMS_A "    pin: [1]\n    vbds: [{}]\n",
             NULL, 0, "s.yaml:6:11: pin 1 is blkback's dedicated pCPU (expected pCPUs 0..0: "
             "blkback.cpu is dedicated)");
    load_bad(HEAD "pcpus: 2\nblkback: { cpu: dedicated }\n" DOMS_A "    pin: [1]\n    vbds: [{}]\n"
             "    vifs: [{}]\n", NULL, 0, "s.yaml:6:11: pin 1 is netback's dedicated pCPU "
             "(expected pCPUs 0..0: netback.cpu is dedicated)");
}

/* ---- image paths ------------------------------------------------------------------------ */

static void test_paths(void **st)
{
    (void)st;
    struct scenario s;
    char text[3 * PATH_MAX];
    assert_int_equal(mkdir(tpath("sub"), 0755), 0);
    snprintf(text, sizeof(text), VBDS "[{ backend: file, path: disk.img }, { backend: file, "
             "path: ./sub//d.img }, { backend: file, path: \"%s\" }, { path: \"%s/./sub/../e.img\","
             " backend: file }]\n", tpath("abs.img"), tmp);
    fload_ok(text, NULL, 0, &s);
    assert_string_equal(s.domains[0].vbds[0].path, tpath("disk.img"));
    assert_string_equal(s.domains[0].vbds[1].path, tpath("sub/d.img"));
    assert_string_equal(s.domains[0].vbds[2].path, tpath("abs.img"));
    assert_string_equal(s.domains[0].vbds[3].path, tpath("sub/../e.img"));
    /* nothing left behind */
    assert_false(exists("disk.img") || exists("sub/d.img") || exists("abs.img") ||
                 exists("e.img"));
    scenario_free(&s);

    /* %d is the replica index (0 without count), %% a % */
    fload_ok(HEAD "blkback: { backend: file }\ndomains:\n  - name: r\n    count: 3\n"
             "    vbds: [{ path: \"r%d.img\" }, { path: \"p%%-%d-%d.img\" }]\n"
             "  - name: one\n    vbds: [{ path: \"o%d.img\" }]\n", NULL, 0, &s);
    for (int i = 0; i < 3; i++) {
        char a[32], b[32];
        snprintf(a, sizeof(a), "r%d.img", i);
        snprintf(b, sizeof(b), "p%%-%d-%d.img", i, i);
        assert_string_equal(s.domains[i].vbds[0].path, tpath(a));
        assert_string_equal(s.domains[i].vbds[1].path, tpath(b));
        assert_int_equal(s.domains[i].vbds[0].backend, SCN_BLK_FILE);
    }
    assert_string_equal(s.domains[3].vbds[0].path, tpath("o0.img"));
    scenario_free(&s);

    /* An image that exists is left as it is */
    free(tu_write(tmp, "keep.img", "hello"));
    fload_ok(VBDS "[{ size: 4KiB, backend: file, path: keep.img }]\n", NULL, 0, &s);
    size_t len = 0;
    char *t = tu_read(tpath("keep.img"), &len);
    assert_int_equal(len, 5);
    assert_string_equal(t, "hello");
    free(t);
    scenario_free(&s);

    /* A scenario named relative to the current directory */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(tmp), 0);
    int rc = scenario_load_string("sub/s.yaml", VBDS "[{ backend: file, path: x.img }]\n", NULL,
                                  0, &s, err, sizeof(err));
    assert_int_equal(chdir(cwd), 0);
    if (rc)
        fail_msg("unexpected refusal: %s", err);
    assert_string_equal(s.domains[0].vbds[0].path, tpath("sub/x.img"));
    scenario_free(&s);
    assert_int_equal(rmdir(tpath("sub")), 0);
    assert_int_equal(unlink(tpath("keep.img")), 0);
}

#define FILE_VBD(path) "    vbds: [{ backend: file, path: " path " }]\n"

static void test_image_refusals(void **st)
{
    (void)st;
    assert_int_equal(mkdir(tpath("dir"), 0755), 0);
    free(tu_write(tmp, "plain.img", ""));
    free(tu_write(tmp, "tgt.img", ""));
    assert_int_equal(symlink("tgt.img", tpath("link.img")), 0);
    assert_int_equal(symlink("nothing.img", tpath("dangle.img")), 0);
    fload_bad(DOM_A FILE_VBD("dir"), "@/s.yaml:4:35: path @/dir is a directory (expected a "
              "file: the vbd's image)");
    fload_bad(DOM_A FILE_VBD("nodir/x.img"), "@/s.yaml:4:35: path @/nodir/x.img cannot be "
              "created: its directory does not exist (expected a file in an existing directory)");
    fload_bad(DOM_A FILE_VBD("plain.img/x.img"), "@/s.yaml:4:35: path @/plain.img/x.img cannot "
              "be created: a parent of it is not a directory (expected a file in an existing "
              "directory)");
    fload_bad(DOM_A FILE_VBD("dangle.img"), "@/s.yaml:4:35: path @/dangle.img is a symbolic "
              "link to nothing (expected a file, or no file: fairvisor creates it)");
    if (access("/dev/null", F_OK) == 0)
        fload_bad(DOM_A FILE_VBD("/dev/null"), "@/s.yaml:4:35: path /dev/null is not a regular "
                  "file (expected a file: the vbd's image)");
    /* one image, two vbds: by name, through ./ or an absolute path, a symbolic link, a
     * default path, a replica's */
    fload_bad(DOM_A FILE_VBD("same.img") "  - name: b\n" FILE_VBD("same.img"),
              "@/s.yaml:6:35: path @/same.img of vbd 0 of domain b is also the image of vbd 0 "
              "of domain a (expected a different image for each vbd)");
    char text[1024];
    snprintf(text, sizeof(text), DOM_A FILE_VBD("./same.img") "  - name: b\n"
             FILE_VBD("\"%s\""), tpath("same.img"));
    fload_bad(text, "@/s.yaml:6:35: path @/same.img of vbd 0 of domain b is also the image of "
              "vbd 0 of domain a (expected a different image for each vbd)");
    fload_bad(DOM_A FILE_VBD("tgt.img") "  - name: b\n" FILE_VBD("link.img"),
              "@/s.yaml:6:35: path @/link.img of vbd 0 of domain b is also the image of vbd 0 "
              "of domain a (@/tgt.img) (expected a different image for each vbd)");
    fload_bad(DOM_A "    vbds: [{ backend: file, path: x.img }, { backend: file, path: x.img }]\n",
              "@/s.yaml:4:67: path @/x.img of vbd 1 of domain a is also the image of vbd 0 of "
              "domain a (expected a different image for each vbd)");
    fload_bad(HEAD "blkback: { backend: file }\ndomains:\n  - name: a\n    workload: blk-flood\n"
              "  - name: b\n    vbds: [{ path: a.img }]\n", "@/s.yaml:7:20: path @/a.img of vbd 0 "
              "of domain b is also the image of vbd 0 of domain a (expected a different image for "
              "each vbd)");
    fload_bad(HEAD "blkback: { backend: file }\ndomains:\n  - name: r\n    count: 2\n"
              "    vbds: [{ path: \"r%d.img\" }]\n  - name: x\n    vbds: [{ path: r1.img }]\n",
              "@/s.yaml:8:20: path @/r1.img of vbd 0 of domain x is also the image of vbd 0 of "
              "domain r-1 (expected a different image for each vbd)");
    /* Too long once the directory is prefixed */
    char name[256];
    memset(name, 'a', 250);
    name[250] = 0;
    snprintf(text, sizeof(text), DOM_A FILE_VBD("%s"), name);
    char want[16384];
    snprintf(want, sizeof(want), "@/s.yaml:4:35: path @/%s of vbd 0 of domain a is %zu "
             "characters long once resolved (expected at most 255: a shorter path)", name,
             strlen(tmp) + 251);
    fload_bad(text, "%s", want);
    /* No room on the filesystem: the size is blamed */
    struct scenario s;
    int rc = scenario_load_string(file, DOM_A "    vbds: [{ size: 4194304TiB, backend: file, path: "
                                  "big.img }]\n", NULL, 0, &s, err, sizeof(err));
    assert_int_equal(rc, -EINVAL);
    snprintf(want, sizeof(want), "%s/s.yaml:4:20: vbd size 4194304TiB needs 4.0EiB more on the "
             "filesystem of %s/big.img, which has ", tmp, tmp);
    const char *tail = " free (expected a smaller size, or a path on a filesystem with room)";
    if (strncmp(err, want, strlen(want)) != 0 || strlen(err) < strlen(tail) ||
        strcmp(err + strlen(err) - strlen(tail), tail) != 0)
        fail_msg("got \"%s\"", err);
    assert_false(exists("big.img") || exists("same.img") || exists("x.img") ||
                 exists("nodir") || exists("r1.img"));
}

/* ---- --set ------------------------------------------------------------------------------- */

static void test_sets(void **st)
{
    (void)st;
    struct scenario s;
    const char *const sets[] = { "blkback.qdepth=4", "domains.0.vbds.0.size=1MiB",
                                 "blkback.model.bandwidth=1GiB/s" };
    load_ok(VBDS "[{}]\n", sets, 3, &s);
    assert_int_equal(s.blkback.qdepth, 4);
    assert_int_equal(s.blkback.bandwidth, 1ULL << 30);
    assert_int_equal(s.domains[0].vbds[0].size, 1ULL << 20);
    scenario_free(&s);
    const char *const bad[] = { "domains.0.vbds.0.size=5000B" };
    load_bad(VBDS "[{}]\n", bad, 1, "--set domains.0.vbds.0.size=5000B: size 5000B is not a "
             "whole number of 512-byte sectors (expected a multiple of 512 bytes)");
    const char *const ded[] = { "blkback.cpu=dedicated" };
    load_bad(VBDS "[{}]\n", ded, 1, "--set blkback.cpu=dedicated: blkback.cpu: dedicated needs "
             "pcpus >= 2: one pCPU is Domain-0's own (expected pcpus >= 2, or cpu: dom0; pcpus "
             "is 1)");
}

/* ---- the resolved scenario.yaml ----------------------------------------------------------- */

static void assert_same_blk(const struct scenario *a, const struct scenario *b)
{
    assert_same(a, b);
    assert_int_equal(a->dom0, b->dom0);
    assert_int_equal(a->nr_guests, b->nr_guests);
    assert_int_equal(a->netback.port, b->netback.port);
    assert_int_equal(a->netback.cpu, b->netback.cpu);
    const struct scn_blkback *x = &a->blkback, *y = &b->blkback;
    assert_int_equal(x->present, y->present);
    assert_int_equal(x->backend, y->backend);
    assert_int_equal(x->cpu, y->cpu);
    assert_int_equal(x->qdepth, y->qdepth);
    assert_int_equal(x->latency, y->latency);
    assert_int_equal(x->bandwidth, y->bandwidth);
    assert_int_equal(x->cost_request, y->cost_request);
    assert_int_equal(x->cost_kib, y->cost_kib);
    assert_int_equal(x->fairness, y->fairness);
    assert_int_equal(x->depth, y->depth);
    assert_int_equal(x->model_depth, y->model_depth);
    for (int i = 0; i < a->nr_domains; i++) {
        const struct scn_domain *d = &a->domains[i], *e = &b->domains[i];
        assert_int_equal(d->is_dom0, e->is_dom0);
        assert_int_equal(d->nr_vifs, e->nr_vifs);
        assert_int_equal(d->nr_vbds, e->nr_vbds);
        for (int j = 0; j < d->nr_vbds; j++) {
            assert_int_equal(d->vbds[j].size, e->vbds[j].size);
            assert_int_equal(d->vbds[j].backend, e->vbds[j].backend);
            assert_string_equal(d->vbds[j].path, e->vbds[j].path);
            assert_int_equal(d->vbds[j].weight, e->vbds[j].weight);
            assert_int_equal(d->vbds[j].reservation, e->vbds[j].reservation);
            assert_int_equal(d->vbds[j].limit, e->vbds[j].limit);
        }
    }
}

static char *write_text(const struct scenario *s)
{
    char *text = NULL;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(scenario_write_yaml(s, f), 0);
    assert_int_equal(fclose(f), 0);
    return text;
}

/* Written, loaded back (from elsewhere: the paths are absolute), the same;
 * written again, the same text. */
static void blk_round_trip(const char *text)
{
    struct scenario a, b, c;
    fload_ok(text, NULL, 0, &a);
    char *y1 = write_text(&a);
    if (scenario_load_string("elsewhere/r.yaml", y1, NULL, 0, &b, err, sizeof(err)))
        fail_msg("reload refused: %s\n%s", err, y1);
    assert_same_blk(&a, &b);
    char *y2 = write_text(&b);
    assert_string_equal(y1, y2);
    if (scenario_load_string("r.yaml", y2, NULL, 0, &c, err, sizeof(err)))
        fail_msg("reload refused: %s\n%s", err, y2);
    assert_same_blk(&a, &c);
    scenario_free(&a);
    scenario_free(&b);
    scenario_free(&c);
    free(y1);
    free(y2);
}

static void test_round_trip(void **st)
{
    (void)st;
    blk_round_trip(HEAD "pcpus: 3\nnetback: { cpu: dedicated }\nblkback: { backend: file, "
                   "qdepth: 4, fairness: sfq, depth: 3, model: { latency: 1ms, bandwidth: "
                   "100MiB/s, depth: 5 }, cost: { request: "
                   "3us, kib: 7ns } }\ndom0: { vcpus: 2 }\ndomains:\n  - name: a\n"
                   "    workload: blk-flood\n  - name: r\n    count: 2\n"
                   "    vbds: [{ size: 1MiB, path: \"r%d-%%.img\" }, { size: 8KiB, backend: "
                   "memory, weight: 7, reservation: 10, limit: 2k }]\n  - name: n\n"
                   "    workload: net-sink\n");
    blk_round_trip(VBDS "[{ size: 1.5MiB }]\n");
    blk_round_trip(HEAD "pcpus: 2\nblkback: { cpu: dedicated }\n" VBD_DOM "  - name: b\n");
    /* The exact text of a vbd-only scenario's disks and Domain-0 */
    struct scenario s;
    load_ok(VBDS "[{ size: 1MiB }]\n", NULL, 0, &s);
    char *y = write_text(&s);
    const char *want = "blkback:\n  backend: memory\n  cpu: dom0\n  qdepth: 32\n"
                       "  fairness: none\n  depth: 16\n  model:\n    latency: 60us\n"
                       "    bandwidth: 1536MiB/s\n    depth: 16\n"
                       "  cost:\n    request: 2us\n    kib: 85ns\ndom0:\n  vcpus: 1\n"
                       "  memory: 64MiB\n  weight: 256\n  cap: 0\ndomains:\n";
    if (!strstr(y, want) ||
        !strstr(y, "    vbds:\n      - { size: 1MiB, backend: memory, weight: 256 }\n"))
        fail_msg("resolved:\n%s", y);
    assert_null(strstr(y, "netback"));
    free(y);
    scenario_free(&s);
    /* A file vbd's path, every % doubled */
    fload_ok(VBDS "[{ backend: file, path: \"p%%.img\" }]\n", NULL, 0, &s);
    y = write_text(&s);
    char line[PATH_MAX + 128];
    snprintf(line, sizeof(line), "      - { size: 64MiB, backend: file, path: \"%s/p%%%%.img\", "
             "weight: 256 }\n", tmp);
    if (!strstr(y, line))
        fail_msg("no \"%s\" in:\n%s", line, y);
    free(y);
    scenario_free(&s);
}

/* Vbds count toward the resolved form's size, and the message names them. */
static void test_limits(void **st)
{
    (void)st;
    load_bad(DOM_A "    count: 32751\n    vbds: [{},{},{},{},{},{},{},{}]\n", NULL, 0,
             "s.yaml:3:3: the resolved scenario, every replica written out, would be larger than "
             "16MiB or 2097152 values (expected fewer domains, shorter pin lists or fewer vbds: "
             "a run's scenario.yaml must load again)");
    load_bad(DOM_A "    count: 32751\n    vbds: [{},{},{},{},{},{},{},{}]\n    vifs: [{}]\n",
             NULL, 0, "s.yaml:3:3: the resolved scenario, every replica written out, would be "
             "larger than 16MiB or 2097152 values (expected fewer domains, shorter pin lists, "
             "fewer vifs or fewer vbds: a run's scenario.yaml must load again)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_knobs),
        cmocka_unit_test(test_blk_kind),
        cmocka_unit_test(test_default_vbd),
        cmocka_unit_test(test_blkback_refusals),
        cmocka_unit_test(test_vbd_refusals),
        cmocka_unit_test(test_cpu),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_image_refusals),
        cmocka_unit_test(test_sets),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_limits),
    };
    return tu_status(cmocka_run_group_tests(tests, setup, teardown));
}
