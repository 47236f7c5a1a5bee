/* test_sched_null.c — the null policy against the fake core: one vCPU per
 * pCPU with no time sharing, a FIFO of waiters that only a removal serves
 * (blocking keeps the pCPU), hard affinity, entitle, determinism. */
#include "testutil.h"
#include "fake_core.h"

#include <stdlib.h>
#include <string.h>

/* Take u off its pCPU and remove it the way a runtime removal must: block
 * it, let its pCPU reschedule, then the policy's remove_unit (the core has
 * no run-time removal entry point yet). */
static void remove_now(struct fake_core *fc, struct sched_unit *u)
{
    fake_block(fc, u);
    fake_run(fc, fc->now);
    assert_false(u->is_running);
    fc->s->ops->remove_unit(fc->s, u);
}

/* 2 pCPUs, 3 hogs: two own a pCPU each at 100%, the third waits at 0 —
 * also while an owner is blocked (its pCPU idles) — until an owner is
 * removed, then it gets the freed pCPU. */
static void test_three_hogs_two_pcpus(void **st)
{
    (void)st;
    struct fake_core fc;
    fake_sched_new(&fc, "null", 2, NULL);
    struct sched_domain *h[3] = {
        fake_add_domain(&fc, "h0", 1, NULL, NULL),
        fake_add_domain(&fc, "h1", 1, NULL, NULL),
        fake_add_domain(&fc, "h2", 1, NULL, NULL),
    };
    for (int i = 0; i < 3; i++)
        fake_wake_domain(&fc, h[i]);
    fake_run(&fc, FV_SEC(1));
    assert_int_equal(fake_dom_ns(&fc, h[0]), FV_SEC(1));
    assert_int_equal(fake_dom_ns(&fc, h[1]), FV_SEC(1));
    assert_int_equal(fake_dom_ns(&fc, h[2]), 0);
    assert_ptr_equal(sched_curr(fc.s, 0), h[0]->units[0]);
    assert_ptr_equal(sched_curr(fc.s, 1), h[1]->units[0]);

    /* Blocking does not free the pCPU: it idles, h2 still waits. */
    fake_block(&fc, h[0]->units[0]);
    fake_run(&fc, FV_SEC(2));
    assert_null(sched_curr(fc.s, 0));
    assert_int_equal(fake_dom_ns(&fc, h[0]), FV_SEC(1));
    assert_int_equal(fake_dom_ns(&fc, h[2]), 0);
    fake_wake(&fc, h[0]->units[0]);
    fake_run(&fc, FV_SEC(3));
    assert_int_equal(fake_dom_ns(&fc, h[0]), FV_SEC(2));
    assert_int_equal(fake_dom_ns(&fc, h[2]), 0);

    /* Removal frees it: h2 takes pCPU 0 at once. */
    remove_now(&fc, h[0]->units[0]);
    fake_run(&fc, FV_SEC(4));
    assert_ptr_equal(sched_curr(fc.s, 0), h[2]->units[0]);
    assert_int_equal(fake_dom_ns(&fc, h[2]), FV_SEC(1));
    assert_int_equal(fake_dom_ns(&fc, h[1]), FV_SEC(4));
    fake_sched_free(&fc);
}

/* One domain with 4 vCPUs on 2 pCPUs: vCPUs 0 and 1 own a pCPU each for
 * the whole run, never time-sliced (one schedule per pCPU), 2 and 3 wait. */
static void test_one_vcpu_per_pcpu(void **st)
{
    (void)st;
    struct fake_core fc;
    fake_sched_new(&fc, "null", 2, NULL);
    struct sched_domain *d = fake_add_domain(&fc, "quad", 4, NULL, NULL);
    fake_wake_domain(&fc, d);
    for (int t = 1; t <= 10; t++) {
        fake_run(&fc, FV_SEC(t));
        assert_ptr_equal(sched_curr(fc.s, 0), d->units[0]);
        assert_ptr_equal(sched_curr(fc.s, 1), d->units[1]);
    }
    assert_int_equal(fc.run_ns[d->units[0]->id], FV_SEC(10));
    assert_int_equal(fc.run_ns[d->units[1]->id], FV_SEC(10));
    assert_int_equal(fc.run_ns[d->units[2]->id], 0);
    assert_int_equal(fc.run_ns[d->units[3]->id], 0);
    assert_int_equal(fc.nr_schedules, 2);
    fake_sched_free(&fc);
}

/* Hard affinity: a waiter pinned to pCPU 1 does not take a freed pCPU 0;
 * it gets pCPU 1 when that one's owner goes. */
static void test_affinity(void **st)
{
    (void)st;
    struct fake_core fc;
    fake_sched_new(&fc, "null", 2, NULL);
    fv_cpumask_t pin1;
    cpumask_clear_all(&pin1);
    cpumask_set(&pin1, 1);
    struct sched_domain *a = fake_add_domain(&fc, "a", 1, NULL, &pin1);
    struct sched_domain *b = fake_add_domain(&fc, "b", 1, NULL, &pin1);
    struct sched_domain *c = fake_add_domain(&fc, "c", 1, NULL, NULL);
    fake_wake_domain(&fc, a);
    fake_wake_domain(&fc, b);
    fake_wake_domain(&fc, c);
    fake_run(&fc, FV_SEC(1));
    assert_ptr_equal(sched_curr(fc.s, 1), a->units[0]);
    assert_ptr_equal(sched_curr(fc.s, 0), c->units[0]);
    assert_int_equal(fake_dom_ns(&fc, b), 0);

    remove_now(&fc, c->units[0]);
    fake_run(&fc, FV_SEC(2));
    assert_null(sched_curr(fc.s, 0));
    assert_int_equal(fake_dom_ns(&fc, b), 0);

    remove_now(&fc, a->units[0]);
    fake_run(&fc, FV_SEC(3));
    assert_ptr_equal(sched_curr(fc.s, 1), b->units[0]);
    assert_int_equal(fake_dom_ns(&fc, b), FV_SEC(1));
    fake_sched_free(&fc);
}

/* A blocked waiter that is handed a pCPU keeps it and runs when it wakes. */
static void test_blocked_waiter_gets_pcpu(void **st)
{
    (void)st;
    struct fake_core fc;
    fake_sched_new(&fc, "null", 1, NULL);
    struct sched_domain *x = fake_add_domain(&fc, "x", 1, NULL, NULL);
    struct sched_domain *w = fake_add_domain(&fc, "w", 1, NULL, NULL);
    fake_wake_domain(&fc, x);
    fake_run(&fc, FV_MS(10));
    remove_now(&fc, x->units[0]);
    fake_run(&fc, FV_MS(20));
    assert_null(sched_curr(fc.s, 0));
    fake_wake_domain(&fc, w);
    fake_run(&fc, FV_MS(30));
    assert_int_equal(fake_dom_ns(&fc, w), FV_MS(10));
    fake_sched_free(&fc);
}

/* Entitled: min(demand, vCPUs holding a pCPU); waiters get nothing. */
static void test_entitle(void **st)
{
    (void)st;
    struct fake_core fc;
    fake_sched_new(&fc, "null", 2, NULL);
    struct sched_domain *a = fake_add_domain(&fc, "a", 1, NULL, NULL);
    struct sched_domain *b = fake_add_domain(&fc, "b", 3, NULL, NULL);
    struct sched_demand d[2] = { { a, 0.25, 0 }, { b, 3.0, 0 } };
    sched_core_entitle(fc.s, d, 2);
    assert_true(d[0].entitled == 0.25);
    assert_true(d[1].entitled == 1.0);
    d[1].demand = 0.5;
    sched_core_entitle(fc.s, d, 2);
    assert_true(d[1].entitled == 0.5);
    fake_sched_free(&fc);
}

static void mixed_run(fv_ns_t *out, int *n)
{
    struct fake_core *fc = calloc(1, sizeof(*fc));
    assert_non_null(fc);
    fake_sched_new(fc, "null", 3, NULL);
    fake_add_domain(fc, "a", 2, NULL, NULL);
    fake_add_domain(fc, "b", 3, NULL, NULL);
    for (int i = 0; i < fc->s->nr_doms; i++)
        fake_wake_domain(fc, fc->s->doms[i]);
    fake_churn(fc, 200, 3, FV_US(1700));
    *n = fc->s->nr_units;
    memcpy(out, fc->run_ns, sizeof(fv_ns_t) * (size_t)*n);
    fake_sched_free(fc);
    free(fc);
}

static void test_determinism(void **st)
{
    (void)st;
    fv_ns_t a[8], b[8];
    int na, nb;
    mixed_run(a, &na);
    mixed_run(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, sizeof(fv_ns_t) * (size_t)na);
    assert_int_equal(a[3] + a[4], 0);        /* b.1, b.2 never get a pCPU */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_hogs_two_pcpus),
        cmocka_unit_test(test_one_vcpu_per_pcpu),
        cmocka_unit_test(test_affinity),
        cmocka_unit_test(test_blocked_waiter_gets_pcpu),
        cmocka_unit_test(test_entitle),
        cmocka_unit_test(test_determinism),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
