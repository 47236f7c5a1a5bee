/* test_scenario.c — the scenario loader (DESIGN §5): one test per refusal
 * the issue lists (exact FILE:LINE:COL and message), defaults, count
 * expansion, workload parameters, --set overrides, the unit parsers,
 * arinc653 windows, and the write/load round trip. The files under
 * tests/data/bad/ are loaded here too (their first line says what they
 * expect), so the refusals are covered even before the CLI exists. Limits
 * on hostile input are tested in test_scenario_limits.c. */
#include "testutil.h"
#include "hv/scenario.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scn_load.h"

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
             "s.yaml:4:5: unknown key \"wieght\" in domain (expected one of: name, group, count, "
             "vcpus, memory, pin, weight, cap, period, budget, extratime, workload, vifs, vbds)");
    load_bad_has(MIN_HEAD ONE_DOM "durration: 2s\n", NULL, 0, "s.yaml:4:1: ",
                 "unknown key \"durration\" (expected one of: name, engine, duration");
}

static void test_unknown_policy(void **st)
{
    (void)st;
    load_bad(MIN_HEAD "sched: {policy: fifo}\n" ONE_DOM, NULL, 0,
             "s.yaml:2:17: unknown policy \"fifo\" (expected one of: credit, credit2, rtds, "
             "null, arinc653, fair)");
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
             "s.yaml:4:3: tslice is not a parameter of policy rtds (expected one of: policy, chargeback)");
    load_bad_has(MIN_HEAD "sched: { policy: credit2, tslice: 5ms }\n" ONE_DOM, NULL, 0,
                 "s.yaml:2:27: ", "tslice is not a parameter of policy credit2 "
                 "(expected one of: policy, ratelimit, chargeback)");
    load_bad_has(MIN_HEAD "sched: { policy: credit, windows: [] }\n" ONE_DOM, NULL, 0,
                 "s.yaml:2:26: ", "windows is not a parameter of policy credit");
}

/* ---- more refusals ----------------------------------------------------------- */

static void test_other_refusals(void **st)
{
    (void)st;
    load_bad(MIN_HEAD ONE_DOM "    weight: 5\n    weight: 6\n", NULL, 0,
             "s.yaml:5:5: duplicate key \"weight\" in domain (expected each key once)");
    load_bad_has(MIN_HEAD "netback: { port: ring }\n" ONE_DOM, NULL, 0, "s.yaml:2:10: ",
                 "netback: no domain has a vif (expected");
    load_bad_has(MIN_HEAD ONE_DOM "    vifs: {}\n", NULL, 0, "s.yaml:4:11: ",
                 "vifs is a mapping (expected a list");
    load_bad_has(MIN_HEAD "blkback: {}\n" ONE_DOM, NULL, 0, "s.yaml:2:10: ",
                 "blkback: no domain has a vbd (expected");
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
        cmocka_unit_test(test_bad_files),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
