/* test_scenario.c — the scenario loader (DESIGN §5): one test per refusal
 * the issue lists (exact FILE:LINE:COL and message), defaults, count
 * expansion, workload parameters, --set overrides, the unit parsers,
 * arinc653 windows, and the write/load round trip. The files under
 * tests/data/bad/ are loaded here too (their first line says what they
 * expect), so the refusals are covered even before the CLI exists. */
#include "testutil.h"
#include "hv/scenario.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char err[1024];

/* Load text as "s.yaml"; expect success. */
static void load_ok(const char *text, const char *const *sets, int nsets, struct scenario *s)
{
    int rc = scenario_load_string("s.yaml", text, sets, nsets, s, err, sizeof(err));
    if (rc)
        fail_msg("unexpected refusal: %s", err);
}

/* Load text; expect refusal with exactly `msg`. */
static void load_bad(const char *text, const char *const *sets, int nsets, const char *msg)
{
    struct scenario s;
    int rc = scenario_load_string("s.yaml", text, sets, nsets, &s, err, sizeof(err));
    assert_int_equal(rc, -EINVAL);
    assert_string_equal(err, msg);
    assert_null(s.domains);
}

/* Load text; expect refusal whose message starts with prefix and holds phrase. */
static void load_bad_has(const char *text, const char *const *sets, int nsets,
                         const char *prefix, const char *phrase)
{
    struct scenario s;
    int rc = scenario_load_string("s.yaml", text, sets, nsets, &s, err, sizeof(err));
    assert_int_equal(rc, -EINVAL);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, phrase))
        fail_msg("got \"%s\", expected prefix \"%s\" and \"%s\"", err, prefix, phrase);
}

#define MIN_HEAD "duration: 1s\n"
#define ONE_DOM "domains:\n  - name: a\n"

/* ---- the refusals of the issue ------------------------------------------- */

static void test_yaml_syntax_error(void **st)
{
    (void)st;
    load_bad_has("duration: 1s\ndomains:\n  - name: a\n   weight: 5\n", NULL, 0,
                 "s.yaml:4:4: ", "YAML syntax error: did not find expected '-' indicator");
    load_bad_has("duration: [1s\n", NULL, 0, "s.yaml:2:1: ", "YAML syntax error");
    assert_non_null(strstr(err, "(expected valid YAML)"));
}

static void test_unknown_key(void **st)
{
    (void)st;
    load_bad(MIN_HEAD ONE_DOM "    wieght: 5\n", NULL, 0,
             "s.yaml:4:5: unknown key \"wieght\" in domain (expected one of: name, count, "
             "vcpus, memory, pin, weight, cap, period, budget, extratime, workload)");
    load_bad_has(MIN_HEAD ONE_DOM "durration: 2s\n", NULL, 0, "s.yaml:4:1: ",
                 "unknown key \"durration\" (expected one of: name, engine, duration");
}

static void test_unknown_policy(void **st)
{
    (void)st;
    load_bad(MIN_HEAD "sched: {policy: fifo}\n" ONE_DOM, NULL, 0,
             "s.yaml:2:17: unknown policy \"fifo\" (expected one of: credit, credit2, rtds, "
             "null, arinc653)");
}

static void test_weight_zero(void **st)
{
    (void)st;
    load_bad(MIN_HEAD ONE_DOM "    weight: 0\n", NULL, 0,
             "s.yaml:4:13: weight 0 is out of range (expected 1..65535)");
}

static void test_budget_exceeds_period(void **st)
{
    (void)st;
    load_bad(MIN_HEAD "sched: { policy: rtds }\n" ONE_DOM "    period: 10ms\n    budget: 12ms\n",
             NULL, 0, "s.yaml:6:13: budget 12ms exceeds period 10ms (expected budget <= period)");
}

static void test_duration_without_unit(void **st)
{
    (void)st;
    load_bad("name: x\nduration: \"10\"\n" ONE_DOM, NULL, 0,
             "s.yaml:2:11: duration \"10\" has no unit (expected a number with ns, us, ms or s)");
    load_bad("duration: 10\n" ONE_DOM, NULL, 0,
             "s.yaml:1:11: duration \"10\" has no unit (expected a number with ns, us, ms or s)");
}

static void test_negative_count(void **st)
{
    (void)st;
    load_bad(MIN_HEAD ONE_DOM "    count: -1\n", NULL, 0,
             "s.yaml:4:12: count -1 is negative (expected an integer >= 1)");
}

static void test_tslice_under_rtds(void **st)
{
    (void)st;
    load_bad(MIN_HEAD "sched:\n  policy: rtds\n  tslice: 5ms\n" ONE_DOM, NULL, 0,
             "s.yaml:4:3: tslice is not a parameter of policy rtds (expected one of: policy)");
    load_bad_has(MIN_HEAD "sched: { policy: credit2, tslice: 5ms }\n" ONE_DOM, NULL, 0,
                 "s.yaml:2:27: ", "tslice is not a parameter of policy credit2 "
                 "(expected one of: policy, ratelimit)");
    load_bad_has(MIN_HEAD "sched: { policy: credit, windows: [] }\n" ONE_DOM, NULL, 0,
                 "s.yaml:2:26: ", "windows is not a parameter of policy credit");
}

/* ---- more refusals ----------------------------------------------------------- */

static void test_other_refusals(void **st)
{
    (void)st;
    load_bad(MIN_HEAD ONE_DOM "    weight: 5\n    weight: 6\n", NULL, 0,
             "s.yaml:5:5: duplicate key \"weight\" in domain (expected each key once)");
    load_bad_has(MIN_HEAD "netback: { port: ring }\n" ONE_DOM, NULL, 0, "s.yaml:2:1: ",
                 "netback is not available yet in this build (expected");
    load_bad_has(MIN_HEAD ONE_DOM "    vifs: []\n", NULL, 0, "s.yaml:4:5: ",
                 "vifs is not available yet in this build");
    load_bad_has(ONE_DOM, NULL, 0, "s.yaml:1:1: ", "missing key \"duration\"");
    load_bad_has(MIN_HEAD, NULL, 0, "s.yaml:1:1: ", "missing key \"domains\"");
    load_bad_has(MIN_HEAD "domains: []\n", NULL, 0, "s.yaml:2:10: ", "domains is empty");
    load_bad_has("", NULL, 0, "s.yaml:1:1: ", "the scenario is empty");
    load_bad_has(MIN_HEAD ONE_DOM "---\nfoo: 1\n", NULL, 0, "s.yaml:4:1: ", "second YAML document");
    load_bad_has(MIN_HEAD "domains:\n  - name: a\n  - name: a\n", NULL, 0, "s.yaml:4:11: ",
                 "domain name \"a\" is used twice");
    load_bad_has(MIN_HEAD "domains:\n  - { name: a, count: 2 }\n  - name: a-1\n", NULL, 0,
                 "s.yaml:4:11: ", "domain name \"a-1\" is used twice");
    load_bad_has(MIN_HEAD "domains:\n  - name: a b\n", NULL, 0, "s.yaml:3:11: ", "contains ' '");
    load_bad_has(MIN_HEAD "domains:\n  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                 "aaaaaaaaaaaaaaaa\n", NULL, 0, "s.yaml:3:11: ", "is too long (expected at most 63");
    load_bad_has(MIN_HEAD "pcpus: 2\n" ONE_DOM "    pin: [0, 2]\n", NULL, 0, "s.yaml:5:14: ",
                 "pin 2 is out of range (expected 0..1)");
    load_bad_has(MIN_HEAD ONE_DOM "    vcpus: 2\n    cap: 201\n", NULL, 0, "s.yaml:5:10: ",
                 "cap 201 is out of range (expected 0..200 for 2 vcpus)");
    load_bad_has(MIN_HEAD "engine: vm\n" ONE_DOM, NULL, 0, "s.yaml:2:9: ",
                 "unknown engine \"vm\" (expected one of: sim, real)");
    load_bad_has(MIN_HEAD ONE_DOM "    extratime: maybe\n", NULL, 0, "s.yaml:4:16: ",
                 "not a boolean");
    load_bad_has(MIN_HEAD ONE_DOM "    memory: 64\n", NULL, 0, "s.yaml:4:13: ",
                 "memory \"64\" has no unit (expected a number with B, KiB, MiB, GiB or TiB)");
    load_bad_has(MIN_HEAD ONE_DOM "    workload: { kind: nope }\n", NULL, 0, "s.yaml:4:23: ",
                 "unknown workload kind \"nope\" (expected one of: cpu-hog");
    load_bad_has(MIN_HEAD ONE_DOM "    workload: { kind: cpu-hog, wsss: 1MiB }\n", NULL, 0,
                 "s.yaml:4:32: ", "unknown key \"wsss\" in workload cpu-hog "
                 "(expected one of: kind, wss, chunk)");
    load_bad_has(MIN_HEAD ONE_DOM "    workload: { kind: cpu-hog, chunk: 10ns }\n", NULL, 0,
                 "s.yaml:4:39: ", "chunk 10ns is out of range (expected 1us..1s)");
    load_bad_has("duration: -1ms\n" ONE_DOM, NULL, 0, "s.yaml:1:11: ", "is negative");
    load_bad_has("duration: 10m\n" ONE_DOM, NULL, 0, "s.yaml:1:11: ", "unknown unit");
    load_bad_has("duration: 99999999999s\n" ONE_DOM, NULL, 0, "s.yaml:1:11: ", "too large");
    load_bad_has("duration: 0s\n" ONE_DOM, NULL, 0, "s.yaml:1:11: ",
                 "duration 0s is out of range (expected a duration > 0)");
}

/* A policy's own check (credit: ratelimit <= tslice) points at the key. */
static void test_policy_check_marks_key(void **st)
{
    (void)st;
    load_bad_has(MIN_HEAD "sched:\n  policy: credit\n  tslice: 5ms\n  ratelimit: 10ms\n" ONE_DOM,
                 NULL, 0, "s.yaml:5:14: ", "ratelimit 10ms exceeds tslice 5ms");
}

/* ---- what loads ------------------------------------------------------------------ */

static void test_defaults(void **st)
{
    (void)st;
    struct scenario s;
    load_ok(MIN_HEAD ONE_DOM, NULL, 0, &s);
    assert_string_equal(s.name, "s");
    assert_string_equal(s.engine, "sim");
    assert_string_equal(s.mode, "density");
    assert_int_equal(s.duration, FV_SEC(1));
    assert_int_equal(s.seed, 1);
    assert_int_equal(s.pcpus, 1);
    assert_int_equal(s.sample, FV_MS(100));
    assert_int_equal(s.starvation_threshold, FV_MS(100));
    assert_string_equal(s.policy->name, "credit");
    assert_int_equal(s.gp.tslice, FV_MS(30));
    assert_int_equal(s.gp.ratelimit, FV_MS(1));
    assert_int_equal(s.nr_domains, 1);
    const struct scn_domain *d = &s.domains[0];
    assert_string_equal(d->name, "a");
    assert_int_equal(d->id, 1);
    assert_int_equal(d->vcpus, 1);
    assert_int_equal(d->memory, 64ULL << 20);
    assert_false(d->pinned);
    assert_int_equal(d->sp.weight, 256);
    assert_int_equal(d->sp.cap, 0);
    assert_int_equal(d->sp.period, FV_MS(10));
    assert_int_equal(d->sp.budget, FV_MS(4));
    assert_true(d->sp.extratime);
    assert_string_equal(d->wl.desc->kind, "idle");
    scenario_free(&s);
    assert_null(s.domains);
}

static void test_explicit_top_level(void **st)
{
    (void)st;
    struct scenario s;
    load_ok("name: io-starvation\nengine: sim\nduration: 1.5s\nseed: 18446744073709551615\n"
            "mode: performance\npcpus: 4\nsample: 50ms\nstarvation: { threshold: 20ms }\n"
            "sched: { policy: credit, tslice: '10ms', ratelimit: 500us }\n"
            "domains:\n  - name: web\n    pin: [1, 3]\n    vcpus: 2\n    cap: 150\n"
            "    memory: 1.5GiB\n    extratime: no\n", NULL, 0, &s);
    assert_string_equal(s.name, "io-starvation");
    assert_int_equal(s.duration, FV_MS(1500));
    assert_true(s.seed == UINT64_MAX);
    assert_string_equal(s.mode, "performance");
    assert_int_equal(s.pcpus, 4);
    assert_int_equal(s.sample, FV_MS(50));
    assert_int_equal(s.starvation_threshold, FV_MS(20));
    assert_int_equal(s.gp.tslice, FV_MS(10));
    assert_int_equal(s.gp.ratelimit, FV_US(500));
    const struct scn_domain *d = &s.domains[0];
    assert_true(d->pinned);
    assert_int_equal(cpumask_weight(&d->pin), 2);
    assert_true(cpumask_test(&d->pin, 1) && cpumask_test(&d->pin, 3));
    assert_int_equal(d->sp.cap, 150);
    assert_int_equal(d->memory, 3ULL << 29);
    assert_false(d->sp.extratime);
    scenario_free(&s);
}

static void test_count_expansion(void **st)
{
    (void)st;
    struct scenario s;
    load_ok(MIN_HEAD "domains:\n  - name: victim\n  - name: flood\n    count: 3\n    weight: 512\n"
            "  - name: one\n    count: 1\n", NULL, 0, &s);
    static const char *const names[] = { "victim", "flood-0", "flood-1", "flood-2", "one-0" };
    assert_int_equal(s.nr_domains, 5);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(s.domains[i].name, names[i]);
        assert_int_equal(s.domains[i].id, i + 1);
    }
    assert_int_equal(s.domains[0].sp.weight, 256);
    assert_int_equal(s.domains[3].sp.weight, 512);
    scenario_free(&s);
}

static void test_workload_params(void **st)
{
    (void)st;
    struct scenario s;
    load_ok(MIN_HEAD "domains:\n"
            "  - name: hog\n    workload: { kind: cpu-hog, wss: 4MiB, chunk: 1.5ms }\n"
            "  - name: probe\n    workload: { kind: cpu-periodic, period: 10ms, burst: 250us }\n"
            "  - name: b\n    workload: { kind: cpu-bursty, dist: uniform }\n"
            "  - name: short\n    workload: cpu-hog\n", NULL, 0, &s);
    const struct scn_workload *w = &s.domains[0].wl;
    assert_string_equal(w->desc->kind, "cpu-hog");
    assert_int_equal(w->args.v[workload_param_index(w->desc, "wss")], 4 << 20);
    assert_int_equal(w->args.v[workload_param_index(w->desc, "chunk")], 1500000);
    w = &s.domains[1].wl;
    assert_int_equal(w->args.v[workload_param_index(w->desc, "period")], FV_MS(10));
    assert_int_equal(w->args.v[workload_param_index(w->desc, "burst")], FV_US(250));
    assert_int_equal(w->args.v[workload_param_index(w->desc, "offset")], 0);
    w = &s.domains[2].wl;
    assert_int_equal(w->args.v[workload_param_index(w->desc, "dist")], 1);
    assert_int_equal(w->args.v[workload_param_index(w->desc, "on")], FV_MS(5));
    w = &s.domains[3].wl;
    assert_string_equal(w->desc->kind, "cpu-hog");
    assert_int_equal(w->args.v[workload_param_index(w->desc, "chunk")], FV_MS(1));
    scenario_free(&s);
}

static void test_arinc653_windows(void **st)
{
    (void)st;
    struct scenario s;
    load_ok(MIN_HEAD "sched:\n  policy: arinc653\n  frame: 20ms\n  windows:\n"
            "    - { domain: b-1, length: 5ms }\n    - { domain: a, length: 10ms }\n"
            "domains:\n  - name: a\n  - name: b\n    count: 2\n", NULL, 0, &s);
    assert_string_equal(s.policy->name, "arinc653");
    assert_int_equal(s.gp.frame, FV_MS(20));
    assert_int_equal(s.gp.nr_windows, 2);
    assert_int_equal(s.gp.windows[0].domid, 3);
    assert_int_equal(s.gp.windows[0].length, FV_MS(5));
    assert_int_equal(s.gp.windows[1].domid, 1);
    assert_int_equal(s.gp.windows[1].length, FV_MS(10));
    scenario_free(&s);
    load_bad_has(MIN_HEAD "sched:\n  policy: arinc653\n  windows:\n    - { domain: b, length: 5ms }\n"
                 ONE_DOM, NULL, 0, "s.yaml:5:17: ", "unknown domain \"b\" in window");
    load_bad_has(MIN_HEAD "sched:\n  policy: arinc653\n  windows:\n    - { domain: a }\n" ONE_DOM,
                 NULL, 0, "s.yaml:5:7: ", "missing key \"length\"");
}

/* ---- --set ------------------------------------------------------------------ */

static void test_set_overrides(void **st)
{
    (void)st;
    struct scenario s;
    const char *const sets[] = {
        "domains.0.weight=512", "sched.tslice=1ms", "duration=2s", "seed=7", "engine=sim",
        "domains.1.cap=50",                 /* a missing final key is added */
        "starvation.threshold=50ms",        /* a missing block is created */
        "domains.b.pin=[0]",                /* a list value; an entry by name */
    };
    load_ok(MIN_HEAD "sched: { policy: credit }\ndomains:\n  - name: a\n    weight: 100\n"
            "  - name: b\n", sets, 8, &s);
    assert_int_equal(s.domains[0].sp.weight, 512);
    assert_int_equal(s.gp.tslice, FV_MS(1));
    assert_int_equal(s.duration, FV_SEC(2));
    assert_int_equal(s.seed, 7);
    assert_int_equal(s.domains[1].sp.cap, 50);
    assert_int_equal(s.starvation_threshold, FV_MS(50));
    assert_true(s.domains[1].pinned && cpumask_test(&s.domains[1].pin, 0));
    scenario_free(&s);

    const char *const pol[] = { "sched.policy=credit2" };
    load_ok(MIN_HEAD ONE_DOM, pol, 1, &s);
    assert_string_equal(s.policy->name, "credit2");
    scenario_free(&s);
}

static void test_set_errors(void **st)
{
    (void)st;
    const char *const bad_value[] = { "domains.0.weight=0" };
    load_bad(MIN_HEAD ONE_DOM, bad_value, 1,
             "--set domains.0.weight=0: weight 0 is out of range (expected 1..65535)");
    const char *const bad_index[] = { "domains.3.weight=5" };
    load_bad(MIN_HEAD ONE_DOM, bad_index, 1,
             "--set domains.3.weight=5: index 3 is out of range for domains (expected 0..0)");
    const char *const through_scalar[] = { "duration.x=5" };
    load_bad(MIN_HEAD ONE_DOM, through_scalar, 1, "--set duration.x=5: duration is a single "
             "value (expected a path through mappings and lists)");
    const char *const no_eq[] = { "seed" };
    load_bad_has(MIN_HEAD ONE_DOM, no_eq, 1, "--set seed: ", "no '=' (expected KEY=VALUE");
    const char *const unknown[] = { "wat=1" };
    load_bad_has(MIN_HEAD ONE_DOM, unknown, 1, "--set wat=1: ", "unknown key \"wat\"");
    const char *const unit[] = { "sched.tslice=10" };
    load_bad_has(MIN_HEAD ONE_DOM, unit, 1, "--set sched.tslice=10: ", "has no unit");
    const char *const empty_step[] = { "sched..tslice=1ms" };
    load_bad_has(MIN_HEAD ONE_DOM, empty_step, 1, "--set sched..tslice=1ms: ", "empty step");
    const char *const bad_yaml[] = { "pcpus=[1" };
    load_bad_has(MIN_HEAD ONE_DOM, bad_yaml, 1, "--set pcpus=[1: ", "not valid YAML");
    /* Text after the value is not dropped: the fuzzer's find. */
    const char *const trailing[] = { "pin=[0] [1]" };
    load_bad_has(MIN_HEAD ONE_DOM, trailing, 1, "--set pin=[0] [1]: ", "not valid YAML");
    const char *const two_docs[] = { "duration=2s\n---\nx" };
    load_bad_has(MIN_HEAD ONE_DOM, two_docs, 1, "--set duration=2s?---?x: ",
                 "holds more than one YAML document");
    /* An error in a file value is still reported at its file position. */
    const char *const fine[] = { "seed=3" };
    load_bad_has(MIN_HEAD ONE_DOM "    weight: 0\n", fine, 1, "s.yaml:4:13: ", "weight 0");
}

/* ---- units -------------------------------------------------------------- */

static void test_unit_parsers(void **st)
{
    (void)st;
    fv_ns_t ns;
    uint64_t b;
    int64_t n;
    assert_int_equal(scn_parse_duration("1.5ms", &ns), 0);
    assert_int_equal(ns, 1500000);
    assert_int_equal(scn_parse_duration("30ms", &ns), 0);
    assert_int_equal(ns, FV_MS(30));
    assert_int_equal(scn_parse_duration("2s", &ns), 0);
    assert_int_equal(ns, FV_SEC(2));
    assert_int_equal(scn_parse_duration("123ns", &ns), 0);
    assert_int_equal(ns, 123);
    assert_int_equal(scn_parse_duration("7\xc2\xb5s", &ns), 0);
    assert_int_equal(ns, 7000);
    assert_int_equal(scn_parse_duration("0.000000001s", &ns), 0);
    assert_int_equal(ns, 1);
    assert_int_equal(scn_parse_duration("10", &ns), -EINVAL);
    assert_int_equal(scn_parse_duration("-1ms", &ns), -EINVAL);
    assert_int_equal(scn_parse_duration("1.5ns", &ns), -EINVAL);
    assert_int_equal(scn_parse_duration("10m", &ns), -EINVAL);
    assert_int_equal(scn_parse_duration("ms", &ns), -EINVAL);
    assert_int_equal(scn_parse_duration("9223372037s", &ns), -EINVAL);
    assert_int_equal(scn_parse_duration("99999999999999999999999ns", &ns), -EINVAL);
    assert_int_equal(scn_parse_size("4MiB", &b), 0);
    assert_int_equal(b, 4ULL << 20);
    assert_int_equal(scn_parse_size("0B", &b), 0);
    assert_int_equal(b, 0);
    assert_int_equal(scn_parse_size("2TiB", &b), 0);
    assert_int_equal(b, 2ULL << 40);
    assert_int_equal(scn_parse_size("4096", &b), -EINVAL);
    assert_int_equal(scn_parse_size("4MB", &b), -EINVAL);
    assert_int_equal(scn_parse_size("8388608TiB", &b), -EINVAL);
    assert_int_equal(scn_parse_count("10k", &n), 0);
    assert_int_equal(n, 10000);
    assert_int_equal(scn_parse_count("2M", &n), 0);
    assert_int_equal(n, 2000000);
    assert_int_equal(scn_parse_count("1.5k", &n), 0);
    assert_int_equal(n, 1500);
    assert_int_equal(scn_parse_count("42", &n), 0);
    assert_int_equal(n, 42);
    assert_int_equal(scn_parse_count("10x", &n), -EINVAL);
    assert_int_equal(scn_parse_count("1.5", &n), -EINVAL);
    assert_int_equal(scn_parse_count("9223372036854775808", &n), -EINVAL);
    assert_int_equal(scn_parse_count("10000000000000M", &n), -EINVAL);

    char buf[SCN_FMT_MAX];
    assert_string_equal(scn_format_duration(FV_MS(30), buf, sizeof(buf)), "30ms");
    assert_string_equal(scn_format_duration(1500000, buf, sizeof(buf)), "1500us");
    assert_string_equal(scn_format_duration(123, buf, sizeof(buf)), "123ns");
    assert_string_equal(scn_format_duration(FV_SEC(10), buf, sizeof(buf)), "10s");
    assert_string_equal(scn_format_duration(0, buf, sizeof(buf)), "0ns");
    assert_string_equal(scn_format_size(64ULL << 20, buf, sizeof(buf)), "64MiB");
    assert_string_equal(scn_format_size(1536, buf, sizeof(buf)), "1536B");
    assert_string_equal(scn_format_size(0, buf, sizeof(buf)), "0B");
}

/* ---- round trip ---------------------------------------------------------------- */

static void assert_same(const struct scenario *a, const struct scenario *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->engine, b->engine);
    assert_string_equal(a->mode, b->mode);
    assert_int_equal(a->duration, b->duration);
    assert_true(a->seed == b->seed);
    assert_int_equal(a->pcpus, b->pcpus);
    assert_int_equal(a->sample, b->sample);
    assert_int_equal(a->starvation_threshold, b->starvation_threshold);
    assert_ptr_equal(a->policy, b->policy);
    assert_memory_equal(&a->gp, &b->gp, sizeof(a->gp));
    assert_int_equal(a->nr_domains, b->nr_domains);
    for (int i = 0; i < a->nr_domains; i++) {
        const struct scn_domain *x = &a->domains[i], *y = &b->domains[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->id, y->id);
        assert_int_equal(x->vcpus, y->vcpus);
        assert_int_equal(x->memory, y->memory);
        assert_int_equal(x->pinned, y->pinned);
        assert_memory_equal(&x->pin, &y->pin, sizeof(x->pin));
        assert_int_equal(x->sp.weight, y->sp.weight);
        assert_int_equal(x->sp.cap, y->sp.cap);
        assert_int_equal(x->sp.period, y->sp.period);
        assert_int_equal(x->sp.budget, y->sp.budget);
        assert_int_equal(x->sp.extratime, y->sp.extratime);
        assert_ptr_equal(x->wl.desc, y->wl.desc);
        assert_memory_equal(&x->wl.args, &y->wl.args, sizeof(x->wl.args));
    }
}

static void round_trip(const char *text)
{
    struct scenario a, b;
    load_ok(text, NULL, 0, &a);
    char *dir = tu_tmpdir(), *path = NULL;
    assert_true(asprintf(&path, "%s/resolved.yaml", dir) > 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(scenario_write_yaml(&a, f), 0);
    fclose(f);
    if (scenario_load(path, NULL, 0, &b, err, sizeof(err))) {
        char *t = tu_read(path, NULL);
        fail_msg("reload refused: %s\n%s", err, t);
    }
    assert_same(&a, &b);
    scenario_free(&a);
    scenario_free(&b);
    assert_int_equal(tu_rmtree(dir), 0);
    free(path);
    free(dir);
}

static void test_round_trip(void **st)
{
    (void)st;
    round_trip("name: rt\nduration: 1500us\nseed: 42\npcpus: 3\nsample: 1.5ms\n"
               "starvation: { threshold: 123ns }\n"
               "sched: { policy: credit, tslice: 7ms, ratelimit: 0ms }\n"
               "domains:\n  - name: hog\n    count: 3\n    pin: [0, 2]\n    weight: 1k\n"
               "    memory: 1536KiB\n    cap: 50\n    extratime: false\n"
               "    workload: { kind: cpu-hog, wss: 4MiB, chunk: 1.5ms }\n"
               "  - name: 'true'\n    vcpus: 4\n    period: 20ms\n    budget: 20ms\n"
               "    workload: { kind: cpu-bursty, dist: fixed, off: 0s }\n");
    round_trip("name: a653\nduration: 1s\n"
               "sched:\n  policy: arinc653\n  frame: 30ms\n  windows:\n"
               "    - { domain: p-1, length: 10ms }\n    - { domain: p-0, length: 5ms }\n"
               "    - { domain: q, length: 2500us }\n"
               "domains:\n  - { name: p, count: 2, workload: cpu-hog }\n  - name: q\n");
    round_trip(MIN_HEAD "sched: { policy: rtds }\n" ONE_DOM "    period: 100us\n    budget: 50us\n");
}

/* ---- files ------------------------------------------------------------------ */

static void test_load_file(void **st)
{
    (void)st;
    char *dir = tu_tmpdir();
    char *p = tu_write(dir, "from-file.yml", MIN_HEAD ONE_DOM);
    struct scenario s;
    assert_int_equal(scenario_load(p, NULL, 0, &s, err, sizeof(err)), 0);
    assert_string_equal(s.name, "from-file");
    assert_string_equal(s.file, p);
    scenario_free(&s);
    unlink(p);
    free(p);
    assert_int_equal(scenario_load("/nonexistent/x.yaml", NULL, 0, &s, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "/nonexistent/x.yaml: cannot read"));
    assert_int_equal(tu_rmtree(dir), 0);
    free(dir);
}

/* ---- hardening: limits, floors, peers, names, tags, messages ---------------- */

/* head + n copies of unit (separated by sep) + tail, malloc'd. */
static char *repeat(const char *head, const char *unit, const char *sep, int n, const char *tail)
{
    size_t len = strlen(head) + (size_t)n * (strlen(unit) + strlen(sep)) + strlen(tail) + 1;
    char *s = malloc(len), *p = s;
    assert_non_null(s);
    p = stpcpy(p, head);
    for (int i = 0; i < n; i++)
        p = stpcpy(stpcpy(p, i ? sep : ""), unit);
    strcpy(p, tail);
    return s;
}

#define XEN_LIMIT "(expected at most 32751 domains in all, Xen's limit: domain ids 1..32751)"
#define VCPU_LIMIT "(expected at most 65536 vCPUs in all: each is an execution context with a " \
                   "stack of its own)"

/* Totals are checked before count expansion allocates anything: the count
 * that crosses a limit is named where it is written. */
static void test_limit_domains(void **st)
{
    (void)st;
    load_bad(MIN_HEAD ONE_DOM "    count: 2147483647\n", NULL, 0,
             "s.yaml:4:12: count 2147483647 makes 2147483647 domains " XEN_LIMIT);
    load_bad(MIN_HEAD ONE_DOM "    count: 9223372036854775807\n", NULL, 0,
             "s.yaml:4:12: count 9223372036854775807 makes 9223372036854775807 domains " XEN_LIMIT);
    load_bad(MIN_HEAD ONE_DOM "    count: 32752\n", NULL, 0,
             "s.yaml:4:12: count 32752 makes 32752 domains " XEN_LIMIT);
    load_bad(MIN_HEAD "domains:\n  - { name: a, count: 32750 }\n  - name: b\n  - name: c\n", NULL, 0,
             "s.yaml:5:5: domain c makes 32752 domains " XEN_LIMIT);
    load_bad(MIN_HEAD "domains:\n  - { name: a, count: 30000 }\n  - { name: b, count: 2752 }\n",
             NULL, 0, "s.yaml:4:23: count 2752 makes 32752 domains " XEN_LIMIT);
    const char *const set[] = { "domains.0.count=40000" };
    load_bad(MIN_HEAD ONE_DOM, set, 1,
             "--set domains.0.count=40000: count 40000 makes 40000 domains " XEN_LIMIT);

    struct scenario s;
    load_ok(MIN_HEAD ONE_DOM "    count: 32751\n", NULL, 0, &s);
    assert_int_equal(s.nr_domains, SCN_MAX_DOMAINS);
    assert_int_equal(s.domains[SCN_MAX_DOMAINS - 1].id, 32751);
    assert_string_equal(s.domains[SCN_MAX_DOMAINS - 1].name, "a-32750");
    scenario_free(&s);

    load_ok(MIN_HEAD ONE_DOM "    count: 1024\n    vcpus: 64\n", NULL, 0, &s);
    assert_int_equal(s.nr_domains, 1024);
    scenario_free(&s);
    load_bad(MIN_HEAD ONE_DOM "    count: 1024\n    vcpus: 64\n  - name: b\n", NULL, 0,
             "s.yaml:6:5: vcpus 1 makes 65537 vCPUs " VCPU_LIMIT);
    load_bad(MIN_HEAD "domains:\n  - { name: a, count: 1025, vcpus: 64 }\n", NULL, 0,
             "s.yaml:3:23: count 1025 with vcpus 64 makes 65600 vCPUs " VCPU_LIMIT);
    load_bad(MIN_HEAD "domains:\n  - { name: a, count: 1023, vcpus: 64 }\n"
             "  - { name: b, vcpus: 65 }\n", NULL, 0, "s.yaml:4:23: vcpus 65 is out of range (expected 1..64)");
}

/* "[0, 1, ..., n-1]" (static buffer). */
static const char *pin_list(int n)
{
    static char buf[8 * 256];
    int k = snprintf(buf, sizeof(buf), "[");
    for (int i = 0; i < n; i++)
        k += snprintf(buf + k, sizeof(buf) - (size_t)k, "%s%d", i ? ", " : "", i);
    snprintf(buf + k, sizeof(buf) - (size_t)k, "]");
    return buf;
}

/* What loads writes a scenario.yaml that loads again, at the limits too;
 * one whose resolved form would not is refused when loaded. */
static void test_limit_resolved(void **st)
{
    (void)st;
    /* The largest: 32751 domains with names of 63 characters. */
    round_trip("duration: 1s\ndomains:\n"
               "  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
               "    count: 32751\n    workload: { kind: cpu-bursty, dist: fixed }\n");
    /* 20000 domains pinned to 100 pCPUs: 2.5M values once written out. */
    char *text;
    assert_true(asprintf(&text, "duration: 1s\npcpus: 100\ndomains:\n  - name: a\n    count: 20000\n"
                         "    pin: %s\n", pin_list(100)) > 0);
    load_bad(text, NULL, 0, "s.yaml:4:3: the resolved scenario, every replica written out, would "
             "be larger than 16MiB or 2097152 values (expected fewer domains or shorter pin "
             "lists: a run's scenario.yaml must load again)");
    free(text);
    /* 22000 domains pinned to 60 pCPUs: over the quick bound, under the
     * limits once measured (1.9M values). */
    assert_true(asprintf(&text, "duration: 1s\npcpus: 60\ndomains:\n  - name: a\n    count: 22000\n"
                         "    pin: %s\n", pin_list(60)) > 0);
    struct scenario s;
    load_ok(text, NULL, 0, &s);
    assert_int_equal(s.nr_domains, 22000);
    assert_int_equal(cpumask_weight(&s.domains[21999].pin), 60);
    scenario_free(&s);
    free(text);
}

#define DEEP "(expected at most 32 levels)"

/* Nesting is refused by a scan of the tokens, before libyaml builds the
 * document (40,000 levels took 16 s). Level 32 is the limit: the top
 * mapping, domains, a domain and 29 lists in pin. */
static void test_limit_depth(void **st)
{
    (void)st;
    const char *head = MIN_HEAD ONE_DOM "    pin: ";
    char *open = repeat("", "[", "", 29, "0"), *close = repeat("", "]", "", 29, "\n");
    char *text = repeat(head, open, "", 1, close);
    load_bad(text, NULL, 0, "s.yaml:4:11: pin is a list, not a single value (expected 0..0)");
    free(text), free(open), free(close);
    open = repeat("", "[", "", 30, "0"), close = repeat("", "]", "", 30, "\n");
    text = repeat(head, open, "", 1, close);
    load_bad(text, NULL, 0, "s.yaml:4:39: lists and mappings nest more than 32 deep " DEEP);
    free(text), free(open), free(close);
    open = repeat("", "[", "", 40000, ""), close = repeat("", "]", "", 40000, "\n");
    text = repeat(head, open, "", 1, close);
    load_bad(text, NULL, 0, "s.yaml:4:39: lists and mappings nest more than 32 deep " DEEP);
    free(text), free(open), free(close);
    /* Block mappings count as well: key k sits at column k+1. */
    char *block = malloc(64 * 64);
    assert_non_null(block);
    block[0] = 0;
    for (int k = 0; k < 40; k++)
        sprintf(block + strlen(block), "%*sk%d:\n", k, "", k);
    load_bad(block, NULL, 0, "s.yaml:33:33: lists and mappings nest more than 32 deep " DEEP);
    free(block);
    const char *const set[] = { "domains.0.pin=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]"
                                "]]]]]]]]]]]]]]]]" };
    load_bad(MIN_HEAD ONE_DOM, set, 1, "--set domains.0.pin=[[[[[[[[[[[[[[[[[[[[[[[[[[...: "
             "the value nests lists and mappings more than 32 deep (expected a value such as 512, "
             "10ms or [0, 1])");
}

/* Aliases are allowed, but what they expand to is counted: a few lines of
 * aliases of aliases asked for about 450 GB. */
static void test_limit_aliases(void **st)
{
    (void)st;
    struct scenario s;
    load_ok(MIN_HEAD "pcpus: 2\ndomains:\n  - name: a\n    pin: &p [1]\n"
            "    workload: &w { kind: cpu-hog, chunk: 2ms }\n"
            "  - name: b\n    pin: *p\n    workload: *w\n", NULL, 0, &s);
    assert_true(cpumask_test(&s.domains[1].pin, 1));
    const struct scn_workload *w = &s.domains[1].wl;
    assert_string_equal(w->desc->kind, "cpu-hog");
    assert_int_equal(w->args.v[workload_param_index(w->desc, "chunk")], FV_MS(2));
    scenario_free(&s);

    /* Each level is 8 of the one before: &g stands for 2.4M values. */
    load_bad(MIN_HEAD ONE_DOM "    pin: [&a [0, 0, 0, 0, 0, 0, 0, 0],\n"
             "      &b [*a, *a, *a, *a, *a, *a, *a, *a], &c [*b, *b, *b, *b, *b, *b, *b, *b],\n"
             "      &d [*c, *c, *c, *c, *c, *c, *c, *c], &e [*d, *d, *d, *d, *d, *d, *d, *d],\n"
             "      &f [*e, *e, *e, *e, *e, *e, *e, *e], &g [*f, *f, *f, *f, *f, *f, *f, *f]]\n",
             NULL, 0, "s.yaml:7:44: this value expands to more than 2097152 values through "
             "aliases (expected at most 2097152 in all, each use of an alias counting in full)");
    load_bad(MIN_HEAD "domains: &d\n  - name: a\n  - *d\n", NULL, 0,
             "s.yaml:2:10: an alias inside this value names the value itself (expected no alias "
             "loops)");

    const char *const bomb[] = { "domains.0.pin=[&a [0,0,0,0,0,0,0,0], "
                                 "&b [*a,*a,*a,*a,*a,*a,*a,*a], &c [*b,*b,*b,*b,*b,*b,*b,*b], "
                                 "&d [*c,*c,*c,*c,*c,*c,*c,*c], &e [*d,*d,*d,*d,*d,*d,*d,*d], "
                                 "&f [*e,*e,*e,*e,*e,*e,*e,*e]]" };
    load_bad(MIN_HEAD ONE_DOM, bomb, 1, "--set domains.0.pin=[&a [0,0,0,0,0,0,0,0], &b ...: the "
             "value expands to more than 65536 values through aliases (expected a plain value)");
    const char *const loop[] = { "domains.0.pin=&a [*a]" };
    load_bad(MIN_HEAD ONE_DOM, loop, 1, "--set domains.0.pin=&a [*a]: the value nests more than "
             "32 levels through its aliases (expected a plain value)");
    char *path = repeat("", "x", ".", 33, "=1");
    const char *const steps[] = { path };
    load_bad(MIN_HEAD ONE_DOM, steps, 1, "--set x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x....: the "
             "key has more than 32 steps (expected KEY such as domains.0.weight)");
    free(path);
}

/* The file is read no further than one byte past the limit. */
static void test_limit_file(void **st)
{
    (void)st;
    struct scenario s;
    assert_int_equal(scenario_load("/dev/zero", NULL, 0, &s, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "/dev/zero: the scenario is larger than 16MiB (expected at most "
                        "16MiB of YAML)");
    char *big = malloc(SCN_MAX_FILE_SIZE + 2);
    assert_non_null(big);
    memset(big, '#', SCN_MAX_FILE_SIZE + 1);
    big[SCN_MAX_FILE_SIZE + 1] = 0;
    load_bad(big, NULL, 0, "s.yaml: the scenario is larger than 16MiB (expected at most 16MiB of "
             "YAML)");
    free(big);

    char *dir = tu_tmpdir(), *p = NULL;
    assert_int_equal(scenario_load(dir, NULL, 0, &s, err, sizeof(err)), -EINVAL);
    char want[4200];
    snprintf(want, sizeof(want), "%s: is a directory (expected a YAML scenario file)", dir);
    assert_string_equal(err, want);
    assert_null(s.domains);

    /* A NUL byte is placed, not reported as a multibyte sequence. */
    assert_true(asprintf(&p, "%s/nul.yaml", dir) > 0);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    static const char nul[] = "duration: 1s\ndomains:\n  - name: a\0b\n";
    fwrite(nul, 1, sizeof(nul) - 1, f);
    fclose(f);
    assert_int_equal(scenario_load(p, NULL, 0, &s, err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), "%s:3:12: the file contains a NUL byte (expected a text file)", p);
    assert_string_equal(err, want);
    free(p);
    assert_int_equal(tu_rmtree(dir), 0);
    free(dir);
}

/* Floors under values that cannot be meant. */
static void test_floors(void **st)
{
    (void)st;
    load_bad(MIN_HEAD "sample: 1ns\n" ONE_DOM, NULL, 0, "s.yaml:2:9: sample 1ns is out of range "
             "(expected a duration >= 1ms: every sample writes a timeline row per domain)");
    load_bad(MIN_HEAD "sample: 999us\n" ONE_DOM, NULL, 0, "s.yaml:2:9: sample 999us is out of "
             "range (expected a duration >= 1ms: every sample writes a timeline row per domain)");
    struct scenario s;
    load_ok(MIN_HEAD "sample: 1ms\n" ONE_DOM, NULL, 0, &s);
    assert_int_equal(s.sample, FV_MS(1));
    scenario_free(&s);

#define A653 MIN_HEAD "sched:\n  policy: arinc653\n"
    load_bad(A653 "  windows: [{ domain: a, length: 1ns }]\n" ONE_DOM, NULL, 0,
             "s.yaml:4:34: length 1ns is out of range (expected a duration >= 100us: Xen's "
             "minimum timer)");
    load_bad(A653 "  windows: [{ domain: a, length: 99us }]\n" ONE_DOM, NULL, 0,
             "s.yaml:4:34: length 99us is out of range (expected a duration >= 100us: Xen's "
             "minimum timer)");
    load_bad(A653 "  frame: 50us\n  windows: [{ domain: a, length: 100us }]\n" ONE_DOM, NULL, 0,
             "s.yaml:4:10: frame 50us is out of range (expected 0 for the sum of the windows, or a "
             "duration >= 100us: Xen's minimum timer)");
    load_ok(A653 "  frame: 100us\n  windows: [{ domain: a, length: 100us }]\n" ONE_DOM, NULL, 0,
            &s);
    assert_int_equal(s.gp.frame, FV_US(100));
    assert_int_equal(s.gp.windows[0].length, FV_US(100));
    scenario_free(&s);
    load_ok(A653 "  frame: 0s\n  windows: [{ domain: a, length: 100us }]\n" ONE_DOM, NULL, 0, &s);
    scenario_free(&s);
#undef A653
}

#define PING(role, peer) "    workload: { kind: evtchn-ping, role: " role ", peer: " peer " }\n"
#define PAIR MIN_HEAD "domains:\n  - name: c\n" PING("client", "s") "  - name: s\n"

/* A peer is a domain, not this one, of the kind and role the workload
 * needs, naming this domain back; a client's port exists on its server. */
static void test_peers(void **st)
{
    (void)st;
    struct scenario s;
    /* By name (DESIGN: peer: echo) or by id. */
    load_ok(PAIR PING("server", "1"), NULL, 0, &s);
    assert_int_equal(s.domains[0].wl.args.v[1], 2);
    assert_int_equal(s.domains[1].wl.args.v[1], 1);
    scenario_free(&s);
    /* A name goes before an id: "2" is the domain named 2 (id 1). */
    load_ok(MIN_HEAD "domains:\n  - name: \"2\"\n" PING("server", "3") "  - name: x\n"
            "  - name: \"3\"\n" PING("client", "2"), NULL, 0, &s);
    assert_int_equal(s.domains[0].wl.args.v[1], 3);
    assert_int_equal(s.domains[2].wl.args.v[1], 1);
    scenario_free(&s);
    /* After count expansion; --set by name. */
    const char *const set[] = { "domains.s.workload.peer=c-0" };
    load_ok(MIN_HEAD "domains:\n  - name: x\n  - name: c\n    count: 1\n" PING("client", "s")
            "  - name: s\n" PING("server", "x"), set, 1, &s);
    assert_int_equal(s.domains[2].wl.args.v[1], 2);
    assert_int_equal(s.domains[1].wl.args.v[1], 3);
    scenario_free(&s);

    load_bad(PAIR PING("server", "nope"), NULL, 0, "s.yaml:6:56: peer \"nope\" is not a domain "
             "(expected the name of another domain, or its id 1..2)");
    load_bad(PAIR PING("server", "3"), NULL, 0, "s.yaml:6:56: peer \"3\" is not a domain "
             "(expected the name of another domain, or its id 1..2)");
    load_bad(PAIR PING("server", "s"), NULL, 0, "s.yaml:6:56: peer \"s\" is this domain itself "
             "(expected another domain)");
    load_bad(PAIR PING("server", "2"), NULL, 0, "s.yaml:6:56: peer \"2\" is this domain itself "
             "(expected another domain)");
    load_bad(MIN_HEAD "domains:\n  - name: c\n    workload: evtchn-ping\n", NULL, 0,
             "s.yaml:4:15: peer 1 (the default) is this domain itself (expected another domain)");
    load_bad(MIN_HEAD "domains:\n  - name: c\n    count: 2\n" PING("client", "c-1"), NULL, 0,
             "s.yaml:5:56: peer \"c-1\" of domain c-1 is this domain itself (expected another "
             "domain)");
    /* Kind and role: a client's peer is a server, a server's a client. */
    load_bad(PAIR "    workload: cpu-hog\n", NULL, 0, "s.yaml:4:56: peer s runs cpu-hog (expected "
             "a domain running evtchn-ping with role server)");
    load_bad(PAIR PING("client", "c"), NULL, 0, "s.yaml:4:56: peer s runs evtchn-ping with role "
             "client (expected a domain running evtchn-ping with role server)");
    load_bad(MIN_HEAD "domains:\n  - name: c\n  - name: s\n" PING("server", "c"), NULL, 0,
             "s.yaml:5:56: peer c runs idle (expected a domain running evtchn-ping with role "
             "client)");
    /* Each side names the other. */
    load_bad(PAIR PING("server", "x") "  - name: x\n" PING("client", "s"), NULL, 0,
             "s.yaml:4:56: peer s has peer x (expected its peer to be c: each side names the "
             "other)");
    load_bad(MIN_HEAD "domains:\n  - name: c\n    count: 2\n" PING("client", "s") "  - name: s\n"
             PING("server", "c-0"), NULL, 0, "s.yaml:5:56: peer s of domain c-1 has peer c-0 "
             "(expected its peer to be c-1: each side names the other)");
    /* A server has ports 1..vcpus. */
    load_bad(MIN_HEAD "domains:\n  - name: c\n"
             "    workload: { kind: evtchn-ping, role: client, peer: s, port: 2 }\n"
             "  - name: s\n" PING("server", "c"), NULL, 0,
             "s.yaml:4:65: port 2 is out of range (expected 1..1: peer s has one port per vCPU)");
    load_ok(MIN_HEAD "domains:\n  - name: c\n"
            "    workload: { kind: evtchn-ping, role: client, peer: s, port: 2 }\n"
            "  - name: s\n    vcpus: 2\n" PING("server", "c"), NULL, 0, &s);
    scenario_free(&s);

    /* Every shipped scenario and test file still loads. */
    static const char *const files[] = { "scenarios/evtchn-pingpong.yaml",
                                         "tests/data/migration.yaml" };
    for (int i = 0; i < 2; i++) {
        if (scenario_load(tu_src(files[i]), NULL, 0, &s, err, sizeof(err)))
            fail_msg("%s: %s", files[i], err);
        scenario_free(&s);
    }
}

/* The resolved scenario names peers by name: the same domains on reload,
 * even where a name looks like another domain's id. */
static void test_peers_round_trip(void **st)
{
    (void)st;
    round_trip(MIN_HEAD "domains:\n  - name: \"2\"\n    vcpus: 2\n" PING("server", "3")
               "  - name: x\n  - name: \"3\"\n"
               "    workload: { kind: evtchn-ping, role: client, peer: 1, port: 2 }\n");
    round_trip(MIN_HEAD "domains:\n  - name: c\n    count: 1\n" PING("client", "s")
               "  - name: s\n" PING("server", "c-0") "  - name: d\n" PING("client", "t")
               "  - name: t\n" PING("server", "3"));
    /* The table names only WL_INT parameters that exist. */
    for (const struct wl_peer_param *p = workload_peer_params; p->kind; p++) {
        const struct workload_desc *w = workload_find(p->kind);
        assert_non_null(w);
        int i = workload_param_index(w, p->param);
        assert_true(i >= 0);
        assert_int_equal(w->params[i].kind, WL_INT);
        assert_ptr_equal(workload_peer_rules(w, p->param), p->rules);
    }
}

/* A name becomes a directory: "." and ".." are refused ('/' already is). */
static void test_reserved_names(void **st)
{
    (void)st;
    load_bad(MIN_HEAD "domains:\n  - name: ..\n", NULL, 0,
             "s.yaml:3:11: name \"..\" is reserved (expected a name other than . and ..)");
    load_bad(MIN_HEAD "domains:\n  - name: .\n", NULL, 0,
             "s.yaml:3:11: name \".\" is reserved (expected a name other than . and ..)");
    load_bad("name: ..\n" MIN_HEAD ONE_DOM, NULL, 0,
             "s.yaml:1:7: name \"..\" is reserved (expected a name other than . and ..)");
    load_bad(MIN_HEAD "domains:\n  - name: a/b\n", NULL, 0, "s.yaml:3:11: name \"a/b\" contains "
             "'/' (expected only letters, digits, _ . or -)");
    struct scenario s;
    load_ok(MIN_HEAD "domains:\n  - name: ...\n  - name: .a\n", NULL, 0, &s);
    scenario_free(&s);
    /* No name: key and a file "..yaml": not the results directory "." */
    assert_int_equal(scenario_load_string("dir/..yaml", MIN_HEAD ONE_DOM, NULL, 0, &s, err,
                                          sizeof(err)), 0);
    assert_string_equal(s.name, "scenario");
    scenario_free(&s);
    assert_int_equal(scenario_load_string("...yaml", MIN_HEAD ONE_DOM, NULL, 0, &s, err,
                                          sizeof(err)), 0);
    assert_string_equal(s.name, "scenario");
    scenario_free(&s);
}

/* Tags are not honoured, so they are refused rather than ignored. */
static void test_tags(void **st)
{
    (void)st;
    load_bad(MIN_HEAD ONE_DOM "    weight: !!float 512\n", NULL, 0, "s.yaml:4:13: tag !!float is "
             "not supported (expected no tag: every value is read from its text, such as 512 or "
             "10ms)");
    load_bad(MIN_HEAD ONE_DOM "    workload: !custom { kind: cpu-hog }\n", NULL, 0, "s.yaml:4:15: "
             "tag !custom is not supported (expected no tag: every value is read from its text, "
             "such as 512 or 10ms)");
    load_bad(MIN_HEAD ONE_DOM "    pin: !!str [0]\n", NULL, 0, "s.yaml:4:10: tag !!str is not "
             "supported (expected no tag: every value is read from its text, such as 512 or 10ms)");
    const char *const set[] = { "domains.0.weight=!!int 7" };
    load_bad(MIN_HEAD ONE_DOM, set, 1, "--set domains.0.weight=!!int 7: tag !!int is not "
             "supported (expected no tag: every value is read from its text, such as 512 or 10ms)");
    /* The default tags, written out, change nothing. */
    struct scenario s;
    load_ok(MIN_HEAD ONE_DOM "    weight: !!str 512\n    pin: !!seq [0]\n", NULL, 0, &s);
    assert_int_equal(s.domains[0].sp.weight, 512);
    scenario_free(&s);
}

/* Echoed text is clipped so that the "(expected ...)" part always fits the
 * CLI's 1024 bytes. */
static void test_echo_clipped(void **st)
{
    (void)st;
    char *v = repeat(MIN_HEAD ONE_DOM "    weight: ", "x", "", 300, "\n");
    load_bad(v, NULL, 0, "s.yaml:4:13: weight \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\" is "
             "not an integer (expected 1..65535)");
    free(v);
    /* Cut at a character boundary; control characters shown as '?'. */
    load_bad(MIN_HEAD ONE_DOM "    weight: \"x\\tx\"\n", NULL, 0,
             "s.yaml:4:13: weight \"x?x\" is not an integer (expected 1..65535)");
    v = repeat(MIN_HEAD ONE_DOM "    weight: ", "x", "", 39, "\xc3\xa9xxxx\n");
    load_bad(v, NULL, 0, "s.yaml:4:13: weight \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\" is "
             "not an integer (expected 1..65535)");
    free(v);
    char *set = repeat("domains.0.weight=", "9", "", 300, "");
    const char *const sets[] = { set };
    load_bad(MIN_HEAD ONE_DOM, sets, 1, "--set domains.0.weight=99999999999999999999999...: "
             "weight 9999999999999999999999999999999999999999... is too large (expected 1..65535)");
    free(set);
    /* The longest prefix (a path of 255 characters) with the longest
     * expectation (a key list) still ends whole in 1024 bytes. */
    char file[256];
    memset(file, 'f', 255);
    file[255] = 0;
    char *key = repeat("name: x\n" MIN_HEAD ONE_DOM "    workload:\n      kind: evtchn-ping\n"
                       "      ", "k", "", 1000, ": 1\n");
    struct scenario s;
    char small[1024];
    assert_int_equal(scenario_load_string(file, key, NULL, 0, &s, small, sizeof(small)), -EINVAL);
    size_t n = strlen(small);
    assert_true(n < sizeof(small) - 1);
    const char *tail = "k...\" in workload evtchn-ping (expected one of: kind, role, peer, count, "
                       "work, port)";
    assert_string_equal(small + n - strlen(tail), tail);
    free(key);
}

/* Every tests/data/bad/NAME.yaml starts with `# expect: LINE:COL PHRASE`. */
static void test_bad_files(void **st)
{
    (void)st;
    char dirpath[4096];
    snprintf(dirpath, sizeof(dirpath), "%s", tu_src("tests/data/bad"));
    DIR *d = opendir(dirpath);
    assert_non_null(d);
    int seen = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        char path[8192], phrase[256], want[8400];
        snprintf(path, sizeof(path), "%s/%s", dirpath, e->d_name);
        char *text = tu_read(path, NULL);
        assert_non_null(text);
        int line, col;
        if (sscanf(text, "# expect: %d:%d %255[^\n]", &line, &col, phrase) != 3)
            fail_msg("%s: no `# expect: LINE:COL PHRASE` first line", path);
        struct scenario s;
        assert_int_equal(scenario_load(path, NULL, 0, &s, err, sizeof(err)), -EINVAL);
        snprintf(want, sizeof(want), "%s:%d:%d: ", path, line, col);
        if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, phrase))
            fail_msg("%s: got \"%s\", expected \"%s...%s...\"", e->d_name, err, want, phrase);
        free(text);
        seen++;
    }
    closedir(d);
    assert_true(seen >= 26);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_syntax_error),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_unknown_policy),
        cmocka_unit_test(test_weight_zero),
        cmocka_unit_test(test_budget_exceeds_period),
        cmocka_unit_test(test_duration_without_unit),
        cmocka_unit_test(test_negative_count),
        cmocka_unit_test(test_tslice_under_rtds),
        cmocka_unit_test(test_other_refusals),
        cmocka_unit_test(test_policy_check_marks_key),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_explicit_top_level),
        cmocka_unit_test(test_count_expansion),
        cmocka_unit_test(test_workload_params),
        cmocka_unit_test(test_arinc653_windows),
        cmocka_unit_test(test_set_overrides),
        cmocka_unit_test(test_set_errors),
        cmocka_unit_test(test_unit_parsers),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_limit_domains),
        cmocka_unit_test(test_limit_resolved),
        cmocka_unit_test(test_limit_depth),
        cmocka_unit_test(test_limit_aliases),
        cmocka_unit_test(test_limit_file),
        cmocka_unit_test(test_floors),
        cmocka_unit_test(test_peers),
        cmocka_unit_test(test_peers_round_trip),
        cmocka_unit_test(test_reserved_names),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_echo_clipped),
        cmocka_unit_test(test_bad_files),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
