/* test_chargeback.c — charge-back (`sched.chargeback`): the key and its
 * per-policy default, what the virtual-time engine charges after each of
 * Domain-0's backend passes, and what that does to the CPU the policy
 * gives the domain whose I/O keeps Domain-0 busy.
 *
 * The scenario: a net-flood guest floods a net-sink (2 us of CPU per
 * datagram) next to a CPU hog, one pCPU, netback on Domain-0. In virtual
 * time a flood's sends cost its guest no CPU at all (its cpu_ns is 0): its
 * backend time shows as charged_ns, and the CPU it takes from others as
 * the sink's, whose receive path also costs Domain-0. */
#include "testutil.h"
#include "scn_load.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/engine.h"
#include "hv/results.h"
#include "hv/run.h"

#define FLOOD_YAML                                                                  \
    "name: cb\nduration: 2s\npcpus: 1\nnetback: { port: ring }\n"                   \
    "domains:\n"                                                                     \
    "  - name: flood\n    workload: { kind: net-flood, peer: sink, size: 64B }\n"    \
    "  - name: sink\n    workload: { kind: net-sink, work: 2us }\n"                  \
    "  - name: hog\n    workload: { kind: cpu-hog }\n"

enum { FLOOD, SINK, HOG };

/* ---- the key ---------------------------------------------------------------- */

static void test_key_defaults(void **st)
{
    (void)st;
    static const char *const policies[] = { "credit", "credit2", "rtds", "null", "fair" };
    for (int i = 0; i < 5; i++) {
        char text[256], set[64];
        snprintf(text, sizeof(text), MIN_HEAD "sched: { policy: %s }\n" ONE_DOM, policies[i]);
        struct scenario s;
        load_ok(text, NULL, 0, &s);
        assert_int_equal(s.chargeback, strcmp(policies[i], "fair") == 0);
        scenario_free(&s);
        /* --set of the policy alone takes that policy's default too. */
        snprintf(set, sizeof(set), "sched.policy=%s", policies[i]);
        const char *sets[] = { set };
        load_ok(MIN_HEAD ONE_DOM, sets, 1, &s);
        assert_int_equal(s.chargeback, strcmp(policies[i], "fair") == 0);
        scenario_free(&s);
    }
    struct scenario s;
    load_ok(MIN_HEAD ONE_DOM, NULL, 0, &s);          /* no sched: credit, off */
    assert_false(s.chargeback);
    scenario_free(&s);
    load_ok(MIN_HEAD "sched: { policy: credit, chargeback: on }\n" ONE_DOM, NULL, 0, &s);
    assert_true(s.chargeback);
    scenario_free(&s);
    load_ok(MIN_HEAD "sched: { policy: fair, chargeback: off }\n" ONE_DOM, NULL, 0, &s);
    assert_false(s.chargeback);
    scenario_free(&s);
    const char *sets[] = { "sched.chargeback=on" };
    load_ok(MIN_HEAD ONE_DOM, sets, 1, &s);
    assert_true(s.chargeback);
    scenario_free(&s);
}

/* The resolved scenario.yaml says it explicitly, and loads to the same. */
static void test_key_written(void **st)
{
    (void)st;
    static const char *const texts[] = {
        MIN_HEAD "sched: { policy: fair }\n" ONE_DOM,
        MIN_HEAD "sched: { policy: fair, chargeback: off, boost: 0ms, dom0_budget: 2ms }\n" ONE_DOM,
        MIN_HEAD "sched: { policy: credit2, chargeback: yes }\n" ONE_DOM,
        MIN_HEAD ONE_DOM,
    };
    static const char *const lines[] = { "  chargeback: on\n", "  chargeback: off\n",
                                         "  chargeback: on\n", "  chargeback: off\n" };
    for (int i = 0; i < 4; i++) {
        struct scenario a, b;
        load_ok(texts[i], NULL, 0, &a);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_int_equal(scenario_write_yaml(&a, f), 0);
        fclose(f);
        assert_non_null(strstr(buf, lines[i]));
        load_ok(buf, NULL, 0, &b);
        assert_int_equal(a.chargeback, b.chargeback);
        assert_memory_equal(&a.gp, &b.gp, sizeof(a.gp));
        free(buf);
        scenario_free(&a);
        scenario_free(&b);
        round_trip(texts[i]);
    }
}

static void test_key_refused(void **st)
{
    (void)st;
    load_bad(MIN_HEAD "sched: { policy: fair, chargeback: maybe }\n" ONE_DOM, NULL, 0,
             "s.yaml:2:36: chargeback \"maybe\" is not a boolean (expected true or false)");
    load_bad_has(MIN_HEAD "sched: { policy: credit, boost: 1ms }\n" ONE_DOM, NULL, 0,
                 "s.yaml:2:26: ", "boost is not a parameter of policy credit");
    load_bad_has(MIN_HEAD "sched: { policy: fair, dom0_budget: 20ms }\n" ONE_DOM, NULL, 0,
                 "s.yaml:2:37: ", "dom0_budget 20ms exceeds dom0_period 10ms");
    load_bad_has(MIN_HEAD "sched: { policy: fair, tslice: 50us }\n" ONE_DOM, NULL, 0,
                 "s.yaml:2:32: ", "tslice 50us is out of range");
}

/* ---- in the virtual-time engine ---------------------------------------------- */

static void run_flood(const char *policy, const char *chargeback, struct scenario *scn,
                      struct run_result *r)
{
    char p[64], c[64];
    snprintf(p, sizeof(p), "sched.policy=%s", policy);
    snprintf(c, sizeof(c), "sched.chargeback=%s", chargeback);
    const char *sets[] = { p, c };
    load_ok(FLOOD_YAML, sets, 2, scn);
    tu_sim_ok(scn, r, NULL);
    print_message("%-6s chargeback %-3s:", policy, chargeback);
    for (int d = 0; d < r->nr_doms; d++)
        print_message(" %s cpu %.1f backend %.1f charged %.1f ms;", r->doms[d].name,
                      r->doms[d].cpu_ns / 1e6, r->doms[d].backend_cpu_ns / 1e6,
                      r->doms[d].charged_ns / 1e6);
    print_message("\n");
}

/* Every ns of backend time is charged, to the ns: the sum of what each
 * pass added is what the run's counters hold at the end. */
static void check_charged(const struct run_result *r, bool on)
{
    assert_int_equal(r->chargeback, on);
    for (int d = 0; d < r->nr_doms; d++)
        assert_int_equal(r->doms[d].charged_ns, on ? r->doms[d].backend_cpu_ns : 0);
    assert_true(r->doms[FLOOD].backend_cpu_ns > FV_MS(100));
    assert_true(r->doms[SINK].backend_cpu_ns > FV_MS(100));
}

/* And summary.json says so. */
static void check_summary(const struct run_result *r)
{
    char *dir = tu_tmpdir();
    assert_int_equal(results_write_summary(dir, r), 0);
    json_t *j = tu_summary(dir);
    assert_true(json_is_boolean(json_object_get(j, "chargeback")));
    assert_int_equal(json_is_true(json_object_get(j, "chargeback")), r->chargeback);
    json_t *doms = json_object_get(j, "domains");
    for (int d = 0; d < r->nr_doms; d++) {
        json_t *c = json_object_get(json_array_get(doms, (size_t)d), "charged_ns");
        assert_true(json_is_integer(c));
        assert_int_equal(json_integer_value(c), r->doms[d].charged_ns);
    }
    json_decref(j);
    assert_int_equal(tu_rmtree(dir), 0);
    free(dir);
}

/* With charge-back the sink (the charged domain that uses CPU) gets less
 * CPU, by no more than it was charged: a charge costs at most its length
 * in the domain's own run (fair: vt; credit: credits, as run time). */
static void check_policy(const char *policy)
{
    struct scenario a, b;
    struct run_result off, on;
    run_flood(policy, "off", &a, &off);
    run_flood(policy, "on", &b, &on);
    check_charged(&off, false);
    check_charged(&on, true);
    check_summary(&off);
    check_summary(&on);
    fv_ns_t drop = off.doms[SINK].cpu_ns - on.doms[SINK].cpu_ns;
    print_message("%s: the sink's CPU drops %.1f ms for %.1f ms charged\n", policy, drop / 1e6,
                  on.doms[SINK].charged_ns / 1e6);
    assert_true(drop > 0);
    assert_true(drop <= on.doms[SINK].charged_ns);
    assert_int_equal(on.doms[FLOOD].cpu_ns, 0);
    run_result_free(&off);
    run_result_free(&on);
    scenario_free(&a);
    scenario_free(&b);
}

static void test_credit(void **st) { (void)st; check_policy("credit"); }
static void test_fair(void **st) { (void)st; check_policy("fair"); }

/* Policies without a charge hook refuse it: nothing is charged. */
static void test_refused_by_rtds_and_null(void **st)
{
    (void)st;
    static const char *const policies[] = { "rtds", "null" };
    for (int i = 0; i < 2; i++) {
        struct scenario s;
        struct run_result r;
        run_flood(policies[i], "on", &s, &r);
        assert_true(r.chargeback);
        for (int d = 0; d < r.nr_doms; d++)
            assert_int_equal(r.doms[d].charged_ns, 0);
        run_result_free(&r);
        scenario_free(&s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_defaults),
        cmocka_unit_test(test_key_written),
        cmocka_unit_test(test_key_refused),
        cmocka_unit_test(test_credit),
        cmocka_unit_test(test_fair),
        cmocka_unit_test(test_refused_by_rtds_and_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
