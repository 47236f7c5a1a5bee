/* test_live.c — a live host (hv/live.h) on the real engine, driven through
 * its C interface: domains created, re-weighted, paused, destroyed while
 * it runs, and the soak of 1,000 create/destroy cycles. Wall-clock time,
 * so the shares have tolerances, each stated where it is checked; what
 * does not depend on timing (errors, states, ids, events, CPU time frozen
 * while paused) is exact. Measured values are printed. */
#include "live_fixture.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hv/live.h"
#include "hv/scenario.h"

/* One pCPU (shares between hogs follow weights exactly on average), and an
 * event-channel ping-pong pair that keeps sending throughout. */
static const char *const base =
    "name: live\nengine: real\nduration: 1s\npcpus: 1\n"
    "domains:\n"
    "  - {name: ping, workload: {kind: evtchn-ping, role: client, peer: pong}}\n"
    "  - {name: pong, workload: {kind: evtchn-ping, role: server, peer: ping}}\n";

struct host {
    struct scenario scn;
    struct live *l;
};

static void start(struct host *h, int max)
{
    char err[1024] = "";
    if (scenario_load_string("live.yaml", base, NULL, 0, &h->scn, err, sizeof(err)))
        fail_msg("%s", err);
    struct live_opts o = { .max_domains = max };
    if (live_start(&h->scn, &o, &h->l, err, sizeof(err)))
        fail_msg("%s", err);
}

static void finish(struct host *h, struct run_result *rr)
{
    live_stop(h->l);
    live_wait(h->l);
    live_finish(h->l, rr);
}

static void create(struct host *h, const char *text, int want_rc, const char *want_msg)
{
    char err[1024] = "";
    int rc = live_create(h->l, "request", text, strlen(text), NULL, err, sizeof(err));
    if (rc != want_rc)
        fail_msg("create %s: %d (%s), expected %d", text, rc, err, want_rc);
    if (want_msg && !strstr(err, want_msg))
        fail_msg("create %s: message '%s' lacks '%s'", text, err, want_msg);
}

static struct live_dom_info info(struct host *h, const char *name)
{
    return lt_info(h->l, name);
}

static int alive_count(struct host *h)
{
    return lt_alive(h->l);
}

/* Bad requests change nothing: the same domains after each. */
static void test_refused(void **st)
{
    (void)st;
    struct host h;
    start(&h, 16);
    create(&h, "{name: a, workload: {kind: cpu-hog}}", 0, NULL);
    create(&h, "{\"name\": \"a\"}", -EEXIST, "a domain named a exists");
    create(&h, "name: b\nweight: 0\n", -EINVAL, "request:2:9: weight 0 is out of range");
    create(&h, "name: b\nbogus: 1\n", -EINVAL, "request:2:1:");
    create(&h, "{name: b, count: 2}", -EINVAL, "count");
    create(&h, "{name: b, workload: {kind: net-sink}}", -ENOTSUP, "this host has no netback");
    create(&h, "{name: b, workload: {kind: evtchn-ping, role: client, peer: nobody}}", -EINVAL,
           "nobody");
    create(&h, "{name: Domain-0}", -EINVAL, NULL);
    create(&h, "[1, 2", -EINVAL, "request:");
    assert_int_equal(alive_count(&h), 3);
    char err[256];
    assert_int_equal(live_destroy(h.l, "zzz", err, sizeof(err)), -ENOENT);
    assert_int_equal(live_pause(h.l, "a", false, err, sizeof(err)), -EBUSY);
    struct live_param w0 = { "weight", 0 }, bogus = { "period", 1000 };
    assert_int_equal(live_sched_dom(h.l, "a", &w0, 1, err, sizeof(err)), -EINVAL);
    assert_int_equal(live_sched_dom(h.l, "a", &bogus, 1, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not a parameter of policy credit"));
    assert_int_equal(info(&h, "a").sp.weight, 256);
    struct live_param ts = { "tslice", 5 };      /* 5 ns: below credit's 1 ms */
    assert_int_equal(live_sched_global(h.l, &ts, 1, err, sizeof(err)), -EINVAL);
    struct live_host_info hi;
    live_host_info(h.l, &hi);
    assert_int_equal(hi.gp.tslice, 30000000);
    assert_int_equal(hi.domains, 3);
    assert_int_equal(hi.created, 3);
    struct run_result rr;
    finish(&h, &rr);
    assert_int_equal(rr.nr_doms, 3);
    run_result_free(&rr);
    scenario_free(&h.scn);
}

/* Two hogs at weights 512 and 256 on one pCPU: credit gives 2/3 and 1/3 of
 * what they share; over 2 s within 0.1 of that (the ping-pong pair takes a
 * little, the machine is shared). Pausing freezes CPU time exactly once the
 * sample after the pause is folded in (300 ms later: 3 intervals). */
static void test_lifecycle(void **st)
{
    (void)st;
    struct host h;
    start(&h, 16);
    create(&h, "name: a\nworkload: {kind: cpu-hog}\n", 0, NULL);
    create(&h, "{\"name\": \"b\", \"workload\": {\"kind\": \"cpu-hog\"}}", 0, NULL);
    struct live_dom_info a = info(&h, "a"), b = info(&h, "b");
    assert_int_equal(a.id, 3);
    assert_int_equal(b.id, 4);
    char err[256];
    struct live_param w = { "weight", 512 };
    assert_int_equal(live_sched_dom(h.l, "a", &w, 1, err, sizeof(err)), 0);
    assert_int_equal(info(&h, "a").sp.weight, 512);
    lt_sleep_ms(300);
    a = info(&h, "a"), b = info(&h, "b");
    lt_sleep_ms(2000);
    struct live_dom_info a2 = info(&h, "a"), b2 = info(&h, "b");
    double da = (double)(a2.cpu_ns - a.cpu_ns), db = (double)(b2.cpu_ns - b.cpu_ns);
    print_message("weights 512/256: a %.3f b %.3f of what they got\n", da / (da + db),
                  db / (da + db));
    assert_true(fabs(da / (da + db) - 2.0 / 3) < 0.1);

    assert_int_equal(live_pause(h.l, "b", true, err, sizeof(err)), 0);
    assert_int_equal(live_pause(h.l, "b", true, err, sizeof(err)), -EBUSY);
    lt_sleep_ms(300);
    struct live_dom_info p1 = info(&h, "b");
    assert_int_equal(p1.state, LIVE_PAUSED);
    lt_sleep_ms(500);
    struct live_dom_info p2 = info(&h, "b");
    print_message("paused: b cpu %lld then %lld ns\n", (long long)p1.cpu_ns, (long long)p2.cpu_ns);
    assert_int_equal(p2.cpu_ns, p1.cpu_ns);
    assert_int_equal(live_pause(h.l, "b", false, err, sizeof(err)), 0);
    lt_sleep_ms(500);
    assert_true(info(&h, "b").cpu_ns > p2.cpu_ns);

    /* The server goes while the client keeps sending: the client's sends
     * fail from then on, the host goes on. */
    uint64_t rt0 = info(&h, "ping").work_units;
    assert_true(rt0 > 0);
    assert_int_equal(live_destroy(h.l, "pong", err, sizeof(err)), 0);
    assert_int_equal(live_destroy(h.l, "pong", err, sizeof(err)), -ENOENT);
    lt_sleep_ms(300);
    uint64_t rt1 = info(&h, "ping").work_units;
    lt_sleep_ms(500);
    assert_int_equal(info(&h, "ping").work_units, rt1);
    fv_ns_t a3 = info(&h, "a").cpu_ns;
    lt_sleep_ms(300);
    assert_true(info(&h, "a").cpu_ns > a3);
    /* Its name is free again; ids are not reused. */
    create(&h, "{name: pong}", 0, NULL);
    assert_int_equal(info(&h, "pong").id, 5);

    /* The life-cycle events in order (starvation events come between them:
     * four domains on one pCPU under credit's 30 ms slices). */
    static struct live_event all[LIVE_EVENT_RING];
    struct live_event ev[16];
    int na = live_events(h.l, 0, all, LIVE_EVENT_RING, 0), n = 0;
    for (int i = 0; i < na; i++) {
        assert_int_equal(all[i].seq, (uint64_t)i + 1);
        if (all[i].type != LIVE_EV_STARVATION && n < 16)
            ev[n++] = all[i];
    }
    const char *want[] = { "created", "created", "created", "created", "sched", "paused",
                           "unpaused", "destroyed", "created" };
    assert_int_equal(n, 9);
    for (int i = 0; i < n; i++)
        assert_string_equal(live_ev_names[ev[i].type], want[i]);
    assert_string_equal(ev[7].domain, "pong");
    assert_int_equal(ev[7].id, 2);

    struct run_result rr;
    finish(&h, &rr);
    assert_int_equal(rr.nr_doms, 5);
    assert_true(rr.live);
    assert_string_equal(rr.doms[1].name, "pong");
    assert_true(rr.doms[1].destroyed_ns > 0);
    assert_true(rr.doms[1].work_units > 0);
    assert_true(rr.doms[2].created_ns > 0);
    assert_int_equal(rr.doms[2].destroyed_ns, 0);
    assert_true(rr.doms[2].cpu_ns > 0);
    run_result_free(&rr);
    scenario_free(&h.scn);
}

/* 1,000 create/destroy cycles while the ping-pong pair keeps its round
 * trips going: every cycle's two events are there in order, nothing is
 * left over (ASan checks the memory), and the pair goes on: its round trips
 * during the soak at least a quarter of its rate before (a generous bound:
 * the soak shares the machine's two CPUs with the pair's one pCPU). */
static void test_soak(void **st)
{
    (void)st;
    struct host h;
    start(&h, 1100);
    lt_sleep_ms(500);
    uint64_t r0 = info(&h, "ping").work_units;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    lt_sleep_ms(1000);
    uint64_t r1 = info(&h, "ping").work_units;
    double before = (double)(r1 - r0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char err[1024];
    for (int i = 0; i < 1000; i++) {
        const char *text = i % 2 ? "{name: t, workload: {kind: cpu-bursty}}" : "{name: t}";
        if (live_create(h.l, "request", text, strlen(text), NULL, err, sizeof(err)))
            fail_msg("cycle %d: create: %s", i, err);
        if (live_destroy(h.l, "t", err, sizeof(err)))
            fail_msg("cycle %d: destroy: %s", i, err);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    lt_sleep_ms(200);
    uint64_t r2 = info(&h, "ping").work_units;
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    double during = (double)(r2 - r1) / (secs + 0.2);
    print_message("soak: 1000 cycles in %.2f s; ping round trips %.0f/s before, %.0f/s during\n",
                  secs, before, during);
    assert_true(during >= before / 4);
    assert_int_equal(alive_count(&h), 2);
    static struct live_event ev[LIVE_EVENT_RING];
    int n = live_events(h.l, 0, ev, LIVE_EVENT_RING, 0);
    assert_int_equal(n, 2 + 2000);
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(ev[2 + i].seq, (uint64_t)i + 3);
        assert_string_equal(live_ev_names[ev[2 + i].type], i % 2 ? "destroyed" : "created");
        assert_int_equal(ev[2 + i].id, 3 + i / 2);
    }
    struct run_result rr;
    finish(&h, &rr);
    assert_int_equal(rr.nr_doms, 1002);
    for (int d = 2; d < rr.nr_doms; d++)
        assert_true(rr.doms[d].destroyed_ns >= rr.doms[d].created_ns);
    run_result_free(&rr);
    scenario_free(&h.scn);
}

static int create_many(struct host *h, const char *text, int *ids, int want_rc,
                       const char *want_msg)
{
    char err[1024] = "";
    int n = 0, rc = live_create_many(h->l, "request", text, strlen(text), ids, LIVE_CREATE_MAX,
                                     &n, err, sizeof(err));
    if (rc != want_rc)
        fail_msg("create %s: %d (%s), expected %d", text, rc, err, want_rc);
    if (want_msg && !strstr(err, want_msg))
        fail_msg("create %s: message '%s' lacks '%s'", text, err, want_msg);
    return n;
}

/* Entries that name each other are created together from a list (YAML or
 * JSON), all or none, and run: each pair's client counts round trips.
 * A message about a list's entry has the body's own line and column. */
static void test_pairs(void **st)
{
    (void)st;
    struct host h;
    start(&h, 16);
    int ids[LIVE_CREATE_MAX];
    assert_int_equal(create_many(&h, "- {name: p1, workload: {kind: evtchn-ping, role: client, "
                                 "peer: p2}}\n- {name: p2, workload: {kind: evtchn-ping, role: "
                                 "server, peer: p1}}\n", ids, 0, NULL), 2);
    assert_int_equal(ids[0], 3);        /* ping 1, pong 2, then in list order */
    assert_int_equal(ids[1], 4);
    const char *json = "[{\"name\": \"q1\", \"workload\": {\"kind\": \"evtchn-ping\", "
                       "\"role\": \"client\", \"peer\": \"q2\"}},\n {\"name\": \"q2\", "
                       "\"workload\": {\"kind\": \"evtchn-ping\", \"role\": \"server\", "
                       "\"peer\": \"q1\"}}]";
    assert_int_equal(create_many(&h, json, ids, 0, NULL), 2);
    assert_int_equal(ids[0], 5);
    assert_int_equal(ids[1], 6);
    /* Each pair's client counts round trips (waited for: a liveness check). */
    uint64_t p1 = lt_wait_for(h.l, "p1", lt_work, "round trip");
    uint64_t q1 = lt_wait_for(h.l, "q1", lt_work, "round trip");
    print_message("round trips: p1 %llu, q1 %llu\n", (unsigned long long)p1,
                  (unsigned long long)q1);

    /* All or none, and the body's positions. */
    create_many(&h, "- name: r1\n  workload: {kind: cpu-hog}\n- name: r2\n  weight: 0\n", ids,
                -EINVAL, "request:4:11: weight 0 is out of range");
    create_many(&h, "[{name: r1},\n   {name: r2, bogus: 1}]", ids, -EINVAL, "request:2:15:");
    create_many(&h, "- {name: r1}\n- {name: r2, workload: {kind: evtchn-ping, role: client, "
                "peer: nobody}}\n", ids, -EINVAL, "nobody");
    create_many(&h, "- {name: r1}\n- {name: r1}\n", ids, -EINVAL, "request:2:");
    create_many(&h, "- {name: r1}\n- {name: ping}\n", ids, -EEXIST, "a domain named ping exists");
    create_many(&h, "[]", ids, -EINVAL, "an empty list");
    create(&h, "- {name: r1}\n- {name: r2}\n", -EINVAL, "more than 1 domain entries");
    assert_int_equal(alive_count(&h), 6);
    struct live_dom_info d;
    assert_int_equal(live_domain(h.l, "r1", &d), -ENOENT);
    /* One entry in a list is one domain, as a mapping is. */
    create(&h, "- {name: r1, workload: {kind: cpu-hog}}\n", 0, NULL);
    assert_int_equal(info(&h, "r1").id, 7);

    struct run_result rr;
    finish(&h, &rr);
    assert_int_equal(rr.nr_doms, 7);
    run_result_free(&rr);
    scenario_free(&h.scn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_soak),
        cmocka_unit_test(test_pairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
