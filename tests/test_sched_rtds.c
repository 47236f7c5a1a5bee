/* test_sched_rtds.c — the rtds policy against the fake core: reservations
 * are exact, extratime soaks up idle time, deadline misses are counted,
 * deferrable-server budget, wake-up preemption, parameter checks, entitle,
 * determinism, FIFO among equal deadlines, 1,300 vCPUs. */
#include "testutil.h"
#include "fake_core.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sched_dom_params rt_params(fv_ns_t budget, fv_ns_t period, bool extratime)
{
    struct sched_dom_params p;
    sched_dom_defaults(&p);
    p.budget = budget;
    p.period = period;
    p.extratime = extratime;
    return p;
}

/* Deadline misses of domain d, summed over its vCPUs, read from the dump:
 * the "  dom ID (" header, then one "    vK: ... misses N" line per vCPU. */
static uint64_t dom_misses(struct scheduler *s, const struct sched_domain *d)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    s->ops->dump(s, f);
    rewind(f);
    char hdr[64], *line = NULL;
    size_t cap = 0;
    snprintf(hdr, sizeof(hdr), "  dom %d (", d->id);
    bool in_dom = false;
    int seen = 0;
    uint64_t sum = 0;
    while (getline(&line, &cap, f) > 0) {
        if (strncmp(line, "  dom ", 6) == 0)
            in_dom = strncmp(line, hdr, strlen(hdr)) == 0;
        else if (in_dom && strncmp(line, "    v", 5) == 0) {
            const char *m = strstr(line, " misses ");
            assert_non_null(m);
            sum += strtoull(m + 8, NULL, 10);
            seen++;
        }
    }
    free(line);
    fclose(f);
    assert_int_equal(seen, d->nr_units);
    return sum;
}

/* Whether the dump contains `needle`. */
static bool dump_has(struct scheduler *s, const char *needle)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    s->ops->dump(s, f);
    rewind(f);
    char *line = NULL;
    size_t cap = 0;
    bool found = false;
    while (!found && getline(&line, &cap, f) > 0)
        found = strstr(line, needle) != NULL;
    free(line);
    fclose(f);
    return found;
}

/* 2/10 ms without extratime next to two default hogs (4/10 ms, extratime):
 * level-0 utilisation is exactly 1, EDF meets every deadline, and the
 * reservation gets exactly its 20% while the hogs get their 40%. */
static void test_reservation_next_to_hogs(void **st)
{
    (void)st;
    struct fake_core fc;
    fake_sched_new(&fc, "rtds", 1, NULL);
    struct sched_dom_params rp = rt_params(FV_MS(2), FV_MS(10), false);
    struct sched_domain *r = fake_add_domain(&fc, "res", 1, &rp, NULL);
    struct sched_domain *h1 = fake_add_domain(&fc, "hog1", 1, NULL, NULL);
    struct sched_domain *h2 = fake_add_domain(&fc, "hog2", 1, NULL, NULL);
    fake_wake_domain(&fc, r);
    fake_wake_domain(&fc, h1);
    fake_wake_domain(&fc, h2);
    fake_run(&fc, FV_SEC(10));

    fv_ns_t rn = fake_dom_ns(&fc, r);
    assert_true(rn >= FV_MS(1950) && rn <= FV_MS(2050));   /* 20% +- 0.5% */
    assert_int_equal(rn, FV_SEC(2));                          /* and exactly */
    assert_int_equal(fake_dom_ns(&fc, h1), FV_SEC(4));
    assert_int_equal(fake_dom_ns(&fc, h2), FV_SEC(4));
    assert_int_equal(dom_misses(fc.s, r), 0);
    assert_int_equal(dom_misses(fc.s, h1), 0);
    assert_int_equal(dom_misses(fc.s, h2), 0);
    fake_sched_free(&fc);
}

/* Extratime alone on a pCPU: every nanosecond. */
static void test_extratime_alone_takes_all(void **st)
{
    (void)st;
    struct fake_core fc;
    fake_sched_new(&fc, "rtds", 1, NULL);
    struct sched_domain *h = fake_add_domain(&fc, "hog", 1, NULL, NULL);
    fake_wake_domain(&fc, h);
    fake_run(&fc, FV_SEC(10));
    assert_int_equal(fake_dom_ns(&fc, h), FV_SEC(10));
    fake_sched_free(&fc);
}

/* Three 3/10 ms reservations without extratime on one pCPU: 30% each and
 * the remaining 10% idle, not handed out. */
static void test_three_reservations_leave_idle(void **st)
{
    (void)st;
    struct fake_core fc;
    fake_sched_new(&fc, "rtds", 1, NULL);
    struct sched_dom_params p = rt_params(FV_MS(3), FV_MS(10), false);
    struct sched_domain *d[3] = {
        fake_add_domain(&fc, "r0", 1, &p, NULL),
        fake_add_domain(&fc, "r1", 1, &p, NULL),
        fake_add_domain(&fc, "r2", 1, &p, NULL),
    };
    for (int i = 0; i < 3; i++)
        fake_wake_domain(&fc, d[i]);
    fake_run(&fc, FV_SEC(10));
    fv_ns_t sum = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fake_dom_ns(&fc, d[i]), FV_SEC(3));
        assert_int_equal(dom_misses(fc.s, d[i]), 0);
        sum += fake_dom_ns(&fc, d[i]);
    }
    assert_int_equal(FV_SEC(10) - sum, FV_SEC(1));
    fake_sched_free(&fc);
}

/* Overload: two 6/10 ms reservations on one pCPU (120%). The pCPU stays
 * busy and each period one of them is left with 2 ms it was owed. */
static void test_overload_counts_misses(void **st)
{
    (void)st;
    struct fake_core fc;
    fake_sched_new(&fc, "rtds", 1, NULL);
    struct sched_dom_params p = rt_params(FV_MS(6), FV_MS(10), false);
    struct sched_domain *a = fake_add_domain(&fc, "a", 1, &p, NULL);
    struct sched_domain *b = fake_add_domain(&fc, "b", 1, &p, NULL);
    fake_wake_domain(&fc, a);
    fake_wake_domain(&fc, b);
    fake_run(&fc, FV_SEC(1));
    /* Equal deadlines, FIFO among equals: a always runs its 6 ms first and
     * b is cut off 2 ms short at every deadline, 1 s included (events at
     * the end of the run are processed). */
    assert_int_equal(fake_dom_ns(&fc, a), FV_MS(600));
    assert_int_equal(fake_dom_ns(&fc, b), FV_MS(400));
    assert_int_equal(dom_misses(fc.s, a), 0);
    assert_int_equal(dom_misses(fc.s, b), 100);
    fake_sched_free(&fc);
}

/* Deferrable server: budget is kept while blocked; a wake-up after the
 * deadline gets a full budget for the period it wakes in. */
static void test_deferrable_budget_and_late_wake(void **st)
{
    (void)st;
    struct fake_core fc;
    fake_sched_new(&fc, "rtds", 1, NULL);
    struct sched_dom_params p = rt_params(FV_MS(4), FV_MS(10), false);
    struct sched_domain *d = fake_add_domain(&fc, "d", 1, &p, NULL);
    struct sched_unit *u = d->units[0];
    fake_wake(&fc, u);
    fake_run(&fc, FV_MS(1));
    fake_block(&fc, u);                 /* 1 ms used, 3 ms kept */
    fake_run(&fc, FV_MS(5));
    fake_wake(&fc, u);
    fake_run(&fc, FV_MS(10));
    assert_int_equal(fc.run_ns[u->id], FV_MS(4));          /* 1 + 3, ends at 8 ms */
    fake_block(&fc, u);
    fake_run(&fc, FV_MS(25));           /* sleeps through the 20 ms deadline */
    fake_wake(&fc, u);
    fake_run(&fc, FV_MS(30));
    assert_int_equal(fc.run_ns[u->id], FV_MS(8));          /* + a full 4 ms */
    /* Xen keeps the period grid: woken at 25 ms, deadline 30 ms, then
     * replenished at 30 ms to 40 ms (now + period would say 35 ms). */
    assert_true(dump_has(fc.s, "deadline 40ms"));
    assert_int_equal(dom_misses(fc.s, d), 0);              /* blocked is no miss */

    /* Runs 30..34 ms, then 1 ms of period [40, 50), blocks, wakes at
     * 47.5 ms with 3 ms left and runs to 50 ms with 0.5 ms unspent: it
     * could not have spent them by 50 ms, so no miss. */
    fake_run(&fc, FV_MS(41));
    fake_block(&fc, u);
    fake_run(&fc, FV_US(47500));
    fake_wake(&fc, u);
    fake_run(&fc, FV_MS(50));
    assert_int_equal(fc.run_ns[u->id], FV_MS(8 + 4 + 1) + FV_US(2500));
    assert_int_equal(dom_misses(fc.s, d), 0);
    fake_sched_free(&fc);
}

/* A level-0 reservation waking while an extratime vCPU runs on its second
 * round preempts it at once (wake tickle). */
static void test_wake_preempts_extratime(void **st)
{
    (void)st;
    struct fake_core fc;
    fake_sched_new(&fc, "rtds", 1, NULL);
    struct sched_dom_params rp = rt_params(FV_MS(2), FV_MS(10), false);
    struct sched_domain *h = fake_add_domain(&fc, "hog", 1, NULL, NULL);
    struct sched_domain *r = fake_add_domain(&fc, "res", 1, &rp, NULL);
    fake_wake_domain(&fc, h);
    fake_run(&fc, FV_US(5500));         /* hog on level 1 since 4 ms */
    fake_wake_domain(&fc, r);
    fake_run(&fc, FV_US(7500));
    assert_int_equal(fake_dom_ns(&fc, r), FV_MS(2));
    assert_int_equal(fake_dom_ns(&fc, h), FV_US(5500));
    fake_sched_free(&fc);
}

/* Global EDF on 2 pCPUs: three default hogs share both pCPUs fully, each
 * at least its 40% reservation; a hog pinned to pCPU 1 stays there. */
static void test_global_edf_two_pcpus(void **st)
{
    (void)st;
    struct fake_core fc;
    fake_sched_new(&fc, "rtds", 2, NULL);
    fv_cpumask_t pin1;
    cpumask_clear_all(&pin1);
    cpumask_set(&pin1, 1);
    struct sched_domain *d[3] = {
        fake_add_domain(&fc, "h0", 1, NULL, NULL),
        fake_add_domain(&fc, "h1", 1, NULL, NULL),
        fake_add_domain(&fc, "pinned", 1, NULL, &pin1),
    };
    for (int i = 0; i < 3; i++)
        fake_wake_domain(&fc, d[i]);
    fv_ns_t sum = 0;
    for (int t = 1; t <= 100; t++) {
        fake_run(&fc, FV_MS(100) * t);
        for (int c = 0; c < 2; c++)
            assert_non_null(sched_curr(fc.s, c));        /* never idle */
        assert_int_equal(d[2]->units[0]->cpu, 1);
    }
    for (int i = 0; i < 3; i++) {
        assert_true(fake_dom_ns(&fc, d[i]) >= FV_SEC(4));
        assert_int_equal(dom_misses(fc.s, d[i]), 0);
        sum += fake_dom_ns(&fc, d[i]);
    }
    assert_int_equal(sum, FV_SEC(20));
    fake_sched_free(&fc);
}

static void test_check_dom(void **st)
{
    (void)st;
    const struct sched_ops *ops = sched_find("rtds");
    char err[256] = "";
    struct sched_dom_params p;

    sched_dom_defaults(&p);
    assert_int_equal(ops->check_dom(&p, err, sizeof(err)), 0);
    p = rt_params(FV_MS(12), FV_MS(10), true);
    assert_int_equal(ops->check_dom(&p, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "budget 12ms exceeds period 10ms (expected budget <= period)");
    p = rt_params(FV_US(5), FV_US(5), true);
    assert_int_equal(ops->check_dom(&p, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "period 5us"));
    p = rt_params(FV_US(5), FV_MS(10), true);
    assert_int_equal(ops->check_dom(&p, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "budget 5us"));
    p = rt_params(FV_US(10), FV_US(10), false);             /* both minima */
    assert_int_equal(ops->check_dom(&p, err, sizeof(err)), 0);

    /* The schema publishes Xen's defaults. */
    const struct sched_param_desc *d = sched_param_find(ops->dom_params, "period");
    assert_non_null(d);
    assert_int_equal(d->def, FV_MS(10));
    assert_int_equal(d->min, FV_US(10));
    assert_int_equal(sched_param_find(ops->dom_params, "budget")->def, FV_MS(4));
    assert_int_equal(sched_param_find(ops->dom_params, "extratime")->def, 1);
}

/* Reservations first (bounded by demand), then extratime domains share
 * what is left equally per vCPU, each bounded by its demand. */
static void test_entitle(void **st)
{
    (void)st;
    struct fake_core fc;
    fake_sched_new(&fc, "rtds", 2, NULL);
    struct sched_dom_params rp = rt_params(FV_MS(2), FV_MS(10), false);
    struct sched_domain *r = fake_add_domain(&fc, "res", 1, &rp, NULL);
    struct sched_domain *h1 = fake_add_domain(&fc, "hog1", 1, NULL, NULL);
    struct sched_domain *h2 = fake_add_domain(&fc, "hog2", 1, NULL, NULL);
    struct sched_demand d[3] = { { r, 1.0, 0 }, { h1, 1.0, 0 }, { h2, 1.0, 0 } };

    sched_core_entitle(fc.s, d, 3);      /* 0.2 + 0.4 + 0.4, 1.0 left for 2 hogs */
    assert_true(d[0].entitled > 0.2 - 1e-9 && d[0].entitled < 0.2 + 1e-9);
    assert_true(d[1].entitled > 0.9 - 1e-9 && d[1].entitled < 0.9 + 1e-9);
    assert_true(d[2].entitled > 0.9 - 1e-9 && d[2].entitled < 0.9 + 1e-9);

    d[1].demand = 0.5;                   /* hog1 bounded: hog2 takes the rest */
    sched_core_entitle(fc.s, d, 3);
    assert_true(d[1].entitled > 0.5 - 1e-9 && d[1].entitled < 0.5 + 1e-9);
    assert_true(d[2].entitled > 1.0 - 1e-9 && d[2].entitled < 1.0 + 1e-9);

    d[0].demand = 0.1;                   /* reservation bounded by demand */
    d[1].demand = 0.0;
    sched_core_entitle(fc.s, d, 3);
    assert_true(d[0].entitled > 0.1 - 1e-9 && d[0].entitled < 0.1 + 1e-9);
    assert_true(d[1].entitled == 0.0);
    fake_sched_free(&fc);
}

/* adjust: a larger budget takes effect from the next period. */
static void test_adjust(void **st)
{
    (void)st;
    struct fake_core fc;
    fake_sched_new(&fc, "rtds", 1, NULL);
    struct sched_dom_params p = rt_params(FV_MS(2), FV_MS(10), false);
    struct sched_domain *d = fake_add_domain(&fc, "d", 1, &p, NULL);
    fake_wake_domain(&fc, d);
    fake_run(&fc, FV_MS(5));
    struct sched_dom_params bad = rt_params(FV_MS(20), FV_MS(10), false);
    assert_int_equal(fc.s->ops->adjust(fc.s, d, &bad), -EINVAL);
    struct sched_dom_params np = rt_params(FV_MS(5), FV_MS(10), false);
    assert_int_equal(fc.s->ops->adjust(fc.s, d, &np), 0);
    fake_run(&fc, FV_MS(20));
    assert_int_equal(fake_dom_ns(&fc, d), FV_MS(2) + FV_MS(5));
    /* Extratime switched on while depleted: runs on at once. */
    np.extratime = true;
    fake_run(&fc, FV_MS(26));
    assert_int_equal(fc.s->ops->adjust(fc.s, d, &np), 0);
    fake_run(&fc, FV_MS(30));
    assert_int_equal(fake_dom_ns(&fc, d), FV_MS(2) + FV_MS(5) + FV_MS(9));
    fake_sched_free(&fc);
}

/* EDF is optimal on one pCPU: reservations with unrelated periods (2/7,
 * 3/11, 4/13 ms) plus a 1/10 ms extratime hog, utilisation 0.966, never
 * miss a deadline; the hog soaks up the rest, the pCPU never idles. */
static void test_edf_uniprocessor_no_misses(void **st)
{
    (void)st;
    static const fv_ns_t bp[3][2] = { { 2, 7 }, { 3, 11 }, { 4, 13 } };
    struct fake_core fc;
    fake_sched_new(&fc, "rtds", 1, NULL);
    struct sched_domain *d[4];
    for (int i = 0; i < 3; i++) {
        struct sched_dom_params p = rt_params(FV_MS(bp[i][0]), FV_MS(bp[i][1]), false);
        d[i] = fake_add_domain(&fc, "res", 1, &p, NULL);
    }
    struct sched_dom_params hp = rt_params(FV_MS(1), FV_MS(10), true);
    d[3] = fake_add_domain(&fc, "hog", 1, &hp, NULL);
    for (int i = 0; i < 4; i++)
        fake_wake_domain(&fc, d[i]);
    fake_run(&fc, FV_SEC(10) + FV_MS(1));       /* 1 ms past a 7/11/13-free instant */
    fv_ns_t sum = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(dom_misses(fc.s, d[i]), 0);
        sum += fake_dom_ns(&fc, d[i]);
    }
    assert_int_equal(sum, FV_SEC(10) + FV_MS(1));
    /* Each reservation got its budget in every complete period. */
    for (int i = 0; i < 3; i++)
        assert_true(fake_dom_ns(&fc, d[i]) >= (FV_SEC(10) / FV_MS(bp[i][1])) * FV_MS(bp[i][0]));
    fake_sched_free(&fc);
}

/* Random blocking and waking of 12 vCPUs with mixed affinities on 4 pCPUs:
 * the core aborts if the policy ever picks an impossible vCPU; no pCPU is
 * ever double-booked; time is conserved. */
static void test_stress_affinity(void **st)
{
    (void)st;
    struct fake_core *fc = calloc(1, sizeof(*fc));
    assert_non_null(fc);
    fake_sched_new(fc, "rtds", 4, NULL);
    uint64_t rng = 42;
    for (int i = 0; i < 6; i++) {
        fv_cpumask_t pin;
        cpumask_clear_all(&pin);
        cpumask_set(&pin, i % 4);
        cpumask_set(&pin, (i * 3 + 1) % 4);
        struct sched_dom_params p = rt_params(FV_US(300 + 700 * i), FV_MS(1 + 2 * i), i % 2);
        fake_add_domain(fc, "d", 2, &p, i % 3 ? &pin : NULL);
    }
    for (int step = 1; step <= 3000; step++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        struct sched_unit *u = fc->s->units[(rng >> 33) % (uint64_t)fc->s->nr_units];
        if (u->runnable)
            fake_block(fc, u);
        else
            fake_wake(fc, u);
        fake_run(fc, FV_US(377) * step);
        for (int a = 0; a < 4; a++) {
            struct sched_unit *c = sched_curr(fc->s, a);
            if (!c)
                continue;
            assert_true(cpumask_test(&c->affinity, a));
            for (int b = a + 1; b < 4; b++)
                assert_ptr_not_equal(c, sched_curr(fc->s, b));
        }
    }
    fv_ns_t sum = 0;
    for (int i = 0; i < fc->s->nr_units; i++)
        sum += fc->run_ns[i];
    assert_true(sum > 0 && sum <= FV_US(377) * 3000 * 4);
    fake_sched_free(fc);
    free(fc);
}

/* A mixed run with blocking, on 3 pCPUs: identical runs, identical run_ns. */
static void mixed_run(fv_ns_t *out, int *n)
{
    struct fake_core *fc = calloc(1, sizeof(*fc));
    assert_non_null(fc);
    fake_sched_new(fc, "rtds", 3, NULL);
    struct sched_dom_params p1 = rt_params(FV_MS(3), FV_MS(7), false);
    struct sched_dom_params p2 = rt_params(FV_US(1500), FV_MS(5), true);
    fake_add_domain(fc, "a", 2, &p1, NULL);
    fake_add_domain(fc, "b", 3, &p2, NULL);
    fake_add_domain(fc, "c", 2, NULL, NULL);
    for (int i = 0; i < fc->s->nr_doms; i++)
        fake_wake_domain(fc, fc->s->doms[i]);
    fake_churn(fc, 400, 7, FV_US(2300));
    *n = fc->s->nr_units;
    memcpy(out, fc->run_ns, sizeof(fv_ns_t) * (size_t)*n);
    fake_sched_free(fc);
    free(fc);
}

static void test_determinism(void **st)
{
    (void)st;
    fv_ns_t a[16], b[16];
    int na, nb;
    mixed_run(a, &na);
    mixed_run(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, sizeof(fv_ns_t) * (size_t)na);
    fv_ns_t sum = 0;
    for (int i = 0; i < na; i++)
        sum += a[i];
    assert_true(sum > 0 && sum <= FV_US(2300) * 400 * 3);
}

/* Equal deadlines are served in arrival order, period after period: five
 * 1/10 ms reservations woken in a shuffled order on one pCPU run in that
 * order, and again in that order after their replenishment at 10 ms. */
static void test_fifo_equal_deadlines(void **st)
{
    (void)st;
    static const int order[] = { 2, 4, 0, 3, 1 };
    struct fake_core fc;
    struct scheduler *s = fake_sched_new(&fc, "rtds", 1, NULL);
    struct sched_dom_params p = rt_params(FV_MS(1), FV_MS(10), false);
    for (int i = 0; i < 5; i++)
        fake_add_domain(&fc, "eq", 1, &p, NULL);
    for (int k = 0; k < 5; k++)
        fake_wake(&fc, s->units[order[k]]);
    fake_run(&fc, FV_US(2500));
    const fv_ns_t first[] = { FV_MS(1), FV_MS(1), FV_US(500), 0, 0 };
    for (int k = 0; k < 5; k++)
        assert_int_equal(fc.run_ns[order[k]], first[k]);
    fake_run(&fc, FV_US(12500));
    const fv_ns_t second[] = { FV_MS(2), FV_MS(2), FV_US(1500), FV_MS(1), FV_MS(1) };
    for (int k = 0; k < 5; k++)
        assert_int_equal(fc.run_ns[order[k]], second[k]);
    fake_sched_free(&fc);
}

/* Many vCPUs on 8 pCPUs: 1,000 reservations of 0.5 ms / 100 ms and 100 of
 * 0.2 ms / 20 ms without extratime, and 200 hogs of 50 us / 10 ms with
 * extratime (16 of them pinned to pairs of pCPUs). Level-0 utilisation is
 * 7.0, under global EDF's bound for tasks this light (8 - 7 x 0.01), so
 * every reservation gets exactly its budget each period and no deadline is
 * missed; the hogs soak up the rest, so no pCPU idles. Hundreds of vCPUs
 * replenished at one instant exercise the queues' bulk paths. */
#define RT_MANY 1300

static void many_run(fv_ns_t *out, bool churn)
{
    struct fake_core *fc = calloc(1, sizeof(*fc));
    assert_non_null(fc);
    struct scheduler *s = fake_sched_new(fc, "rtds", 8, NULL);
    struct sched_dom_params slow = rt_params(FV_US(500), FV_MS(100), false);
    struct sched_dom_params fast = rt_params(FV_US(200), FV_MS(20), false);
    struct sched_dom_params hog = rt_params(FV_US(50), FV_MS(10), true);
    fv_cpumask_t pin;
    uint64_t rng = 99;

    fake_add_domain(fc, "slow", 1000, &slow, NULL);
    fake_add_domain(fc, "fast", 100, &fast, NULL);
    fake_add_domain(fc, "hog", 184, &hog, NULL);
    for (int c = 0; c < 8; c++) {
        cpumask_clear_all(&pin);
        cpumask_set(&pin, c);
        cpumask_set(&pin, (c + 1) % 8);
        fake_add_domain(fc, "pinned", 2, &hog, &pin);
    }
    assert_int_equal(s->nr_units, RT_MANY);
    for (int i = 0; i < RT_MANY; i++)
        fake_wake(fc, s->units[i]);
    for (int step = 1; step <= 100; step++) {
        fake_run(fc, FV_MS(10) * step);
        for (int k = 0; churn && k < 40; k++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            struct sched_unit *u = s->units[(rng >> 33) % RT_MANY];
            if (u->runnable)
                fake_block(fc, u);
            else
                fake_wake(fc, u);
        }
    }
    memcpy(out, fc->run_ns, sizeof(fv_ns_t) * RT_MANY);
    uint64_t misses = 0;
    fv_ns_t total = 0;
    for (int i = 0; i < RT_MANY; i++) {
        misses += s->units[i]->deadline_misses;
        total += fc->run_ns[i];
    }
    if (!churn) {
        assert_int_equal(misses, 0);
        assert_int_equal(total, 8 * FV_SEC(1));
        for (int i = 0; i < 1000; i++)
            assert_int_equal(fc->run_ns[i], 10 * FV_US(500));
        for (int i = 1000; i < 1100; i++)
            assert_int_equal(fc->run_ns[i], 50 * FV_US(200));
        for (int i = 1100; i < RT_MANY; i++)
            assert_true(fc->run_ns[i] >= 100 * FV_US(50));
    }
    fake_sched_free(fc);
    free(fc);
}

static void test_many_vcpus(void **st)
{
    (void)st;
    static fv_ns_t a[RT_MANY], b[RT_MANY];
    many_run(a, false);
    /* With blocking and waking: two runs agree to the nanosecond. */
    many_run(a, true);
    many_run(b, true);
    assert_memory_equal(a, b, sizeof(a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reservation_next_to_hogs),
        cmocka_unit_test(test_extratime_alone_takes_all),
        cmocka_unit_test(test_three_reservations_leave_idle),
        cmocka_unit_test(test_overload_counts_misses),
        cmocka_unit_test(test_deferrable_budget_and_late_wake),
        cmocka_unit_test(test_wake_preempts_extratime),
        cmocka_unit_test(test_global_edf_two_pcpus),
        cmocka_unit_test(test_edf_uniprocessor_no_misses),
        cmocka_unit_test(test_stress_affinity),
        cmocka_unit_test(test_check_dom),
        cmocka_unit_test(test_entitle),
        cmocka_unit_test(test_adjust),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_fifo_equal_deadlines),
        cmocka_unit_test(test_many_vcpus),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
