/* test_scenario_mode.c — `mode: performance | density`: what performance
 * sets (backends on a dedicated pCPU, guests pinned round-robin over the
 * rest, short slices where the policy has them), that every knob the file
 * or --set gives wins, that density changes nothing, and that the resolved
 * scenario.yaml loads back to the same scenario. */
#include "testutil.h"
#include "scn_load.h"

#include <stdlib.h>
#include <string.h>

#define NET_DOMS                                                                  \
    "domains:\n"                                                                  \
    "  - name: c\n    workload: { kind: net-echo, role: client, peer: s }\n"      \
    "  - name: s\n    workload: { kind: net-echo, role: server }\n"               \
    "  - name: h\n    count: 3\n    workload: { kind: cpu-hog }\n"

static bool pinned_to(const struct scn_domain *d, int cpu)
{
    fv_cpumask_t m;
    cpumask_clear_all(&m);
    cpumask_set(&m, cpu);
    return d->pinned && memcmp(&d->pin, &m, sizeof(m)) == 0;
}

static void test_performance_sets_everything(void **st)
{
    (void)st;
    struct scenario s;
    load_ok("duration: 1s\nmode: performance\npcpus: 3\n" NET_DOMS, NULL, 0, &s);
    assert_int_equal(s.gp.tslice, FV_MS(1));
    assert_int_equal(s.gp.ratelimit, FV_US(100));
    assert_int_equal(s.netback.cpu, SCN_NB_DEDICATED);
    /* five guests round-robin over pCPUs 0 and 1; Domain-0 alone on 2 */
    int want[] = { 0, 1, 0, 1, 0 };
    assert_int_equal(s.nr_guests, 5);
    for (int i = 0; i < 5; i++)
        if (!pinned_to(&s.domains[i], want[i]))
            fail_msg("%s is not pinned to pCPU %d alone", s.domains[i].name, want[i]);
    assert_true(pinned_to(&s.domains[s.dom0], 2));
    scenario_free(&s);
}

static void test_given_knobs_win(void **st)
{
    (void)st;
    struct scenario s;
    const char *sets[] = { "sched.tslice=5ms" };
    load_ok("duration: 1s\nmode: performance\npcpus: 3\nnetback: { cpu: dom0 }\n"
            "domains:\n"
            "  - name: c\n    pin: [0, 1, 2]\n    workload: { kind: net-echo, role: client, peer: s }\n"
            "  - name: s\n    workload: { kind: net-echo, role: server }\n",
            sets, 1, &s);
    assert_int_equal(s.gp.tslice, FV_MS(5));
    assert_int_equal(s.gp.ratelimit, FV_US(100));
    assert_int_equal(s.netback.cpu, SCN_NB_DOM0);
    fv_cpumask_t all;
    cpumask_clear_all(&all);
    cpumask_fill(&all, 3);
    assert_memory_equal(&s.domains[0].pin, &all, sizeof(all));
    assert_true(pinned_to(&s.domains[1], 0));   /* no dedicated pCPU: all three in turn */
    assert_false(s.domains[s.dom0].pinned);
    scenario_free(&s);
}

static void test_multi_vcpu_and_one_pcpu(void **st)
{
    (void)st;
    struct scenario s;
    load_ok("duration: 1s\nmode: performance\npcpus: 4\n"
            "domains:\n  - name: a\n    vcpus: 2\n  - name: b\n    vcpus: 3\n"
            "  - name: c\n    vcpus: 8\n",
            NULL, 0, &s);
    assert_int_equal(s.dom0, -1);                /* no backends: all four pCPUs */
    assert_true(cpumask_test(&s.domains[0].pin, 0) && cpumask_test(&s.domains[0].pin, 1));
    assert_int_equal(cpumask_weight(&s.domains[0].pin), 2);
    assert_true(cpumask_test(&s.domains[1].pin, 2) && cpumask_test(&s.domains[1].pin, 3) &&
                cpumask_test(&s.domains[1].pin, 0));
    assert_int_equal(cpumask_weight(&s.domains[1].pin), 3);
    assert_int_equal(cpumask_weight(&s.domains[2].pin), 4);   /* more vCPUs than pCPUs */
    scenario_free(&s);

    /* one pCPU: nothing to dedicate, the slices still shrink */
    load_ok("duration: 1s\nmode: performance\n" NET_DOMS, NULL, 0, &s);
    assert_int_equal(s.netback.cpu, SCN_NB_DOM0);
    assert_int_equal(s.gp.tslice, FV_MS(1));
    scenario_free(&s);
}

static void test_policy_without_tslice(void **st)
{
    (void)st;
    struct scenario s, d;
    load_ok("duration: 1s\nmode: performance\nsched: { policy: credit2 }\n" ONE_DOM, NULL, 0, &s);
    load_ok("duration: 1s\nsched: { policy: credit2 }\n" ONE_DOM, NULL, 0, &d);
    assert_int_equal(s.gp.ratelimit, FV_US(100));
    assert_int_equal(s.gp.tslice, d.gp.tslice);  /* credit2 has none: left as it was */
    scenario_free(&s);
    scenario_free(&d);
}

static void test_density_is_the_default(void **st)
{
    (void)st;
    struct scenario a, b;
    load_ok("duration: 1s\npcpus: 3\n" NET_DOMS, NULL, 0, &a);
    load_ok("duration: 1s\nmode: density\npcpus: 3\n" NET_DOMS, NULL, 0, &b);
    assert_string_equal(a.mode, "density");
    assert_same(&a, &b);
    assert_int_equal(b.netback.cpu, SCN_NB_DOM0);
    assert_int_equal(b.gp.tslice, FV_MS(30));
    for (int i = 0; i < b.nr_domains; i++)
        assert_false(b.domains[i].pinned);
    scenario_free(&a);
    scenario_free(&b);
}

static void test_round_trip_and_refusal(void **st)
{
    (void)st;
    round_trip("duration: 1s\nmode: performance\npcpus: 3\n" NET_DOMS);
    round_trip("duration: 1s\nmode: performance\npcpus: 2\nsched: { policy: rtds }\n" ONE_DOM);
    load_bad("duration: 1s\nmode: turbo\n" ONE_DOM, NULL, 0,
             "s.yaml:2:7: unknown mode \"turbo\" (expected one of: density, performance)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_performance_sets_everything),
        cmocka_unit_test(test_given_knobs_win),
        cmocka_unit_test(test_multi_vcpu_and_one_pcpu),
        cmocka_unit_test(test_policy_without_tslice),
        cmocka_unit_test(test_density_is_the_default),
        cmocka_unit_test(test_round_trip_and_refusal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
