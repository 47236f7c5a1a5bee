/* test_scenario_limits.c — the loader against hostile or careless input:
 * limits checked before anything is expanded (domains, vCPUs, file size,
 * nesting, aliases, the resolved form), floors, peers, reserved names,
 * tags, and messages that keep their "(expected ...)" whatever is echoed.
 * Each case asserts the exact message and position. */
#include "testutil.h"
#include "scn_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
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
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
