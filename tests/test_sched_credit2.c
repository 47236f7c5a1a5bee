/* test_sched_credit2.c — the credit2 policy (sched/credit2.c) against the
 * fake core: weighted shares, caps, SMP, burn rate, slice clamps, credit
 * resets, parameter checks, tickling, yield, run-time adjust, determinism,
 * runqueue order (FIFO among equal credit) and a run with 1,200 vCPUs. */
#include "testutil.h"
#include "fake_core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INIT      FV_MS(10)
#define CARRYOVER FV_US(500)
#define MIN_TIMER FV_US(500)
#define MAX_TIMER FV_MS(10)

static const struct sched_ops *ops(void)
{
    const struct sched_ops *o = sched_find("credit2");
    assert_non_null(o);
    return o;
}

/* A credit2 instance with the schema's defaults (ratelimit 1 ms) unless
 * ratelimit >= 0 overrides it. */
static struct scheduler *new_c2(struct fake_core *fc, int ncpus, fv_ns_t ratelimit)
{
    struct sched_global_params gp;
    sched_global_defaults(ops(), &gp);
    if (ratelimit >= 0)
        gp.ratelimit = ratelimit;
    return fake_sched_new(fc, "credit2", ncpus, &gp);
}

static struct sched_domain *add(struct fake_core *fc, const char *name, uint32_t weight,
                                uint32_t cap, int nvcpus)
{
    struct sched_dom_params p;
    sched_dom_defaults(&p);
    p.weight = weight;
    p.cap = cap;
    return fake_add_domain(fc, name, nvcpus, &p, NULL);
}

static double share(struct fake_core *fc, const struct sched_domain *d, fv_ns_t total)
{
    return (double)fake_dom_ns(fc, d) / (double)total;
}

static void assert_rel(double got, double want, double rel)
{
    double err = got > want ? got - want : want - got;
    if (err > want * rel)
        fail_msg("share %.5f, expected %.5f within %.1f%%", got, want, rel * 100);
}

/* The policy's dump as a string (malloc'd). */
static char *dump(struct scheduler *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    s->ops->dump(s, f);
    fclose(f);
    return buf;
}

/* Credit of unit `id` as the dump shows it. */
static fv_ns_t credit_of(struct scheduler *s, int id)
{
    char *d = dump(s);
    char key[32];
    snprintf(key, sizeof(key), "unit %d ", id);
    char *p = strstr(d, key);
    assert_non_null(p);
    p = strstr(p, "credit=");
    assert_non_null(p);
    long long c = strtoll(p + 7, NULL, 10);
    free(d);
    return c;
}

static unsigned long long resets(struct scheduler *s)
{
    char *d = dump(s);
    char *p = strstr(d, "resets=");
    assert_non_null(p);
    unsigned long long r = strtoull(p + 7, NULL, 10);
    free(d);
    return r;
}

/* The runqueue as the dump lists it, head first: unit ids and credits.
 * Returns its length (at most max are stored). */
static int runq_of(struct scheduler *s, int *ids, fv_ns_t *credits, int max)
{
    char *d = dump(s);
    char *p = strstr(d, "  runq:\n");
    char *end = strstr(d, "  domains:\n");
    int n = 0;
    assert_non_null(p);
    assert_non_null(end);
    for (p = strchr(p, '\n') + 1; p < end; p = strchr(p, '\n') + 1) {
        int id;
        long long c;
        const char *cr = strstr(p, "credit=");
        assert_int_equal(sscanf(p, " %*d: unit %d", &id), 1);
        assert_true(cr && sscanf(cr, "credit=%lld", &c) == 1);
        if (n < max) {
            ids[n] = id;
            credits[n] = c;
        }
        n++;
    }
    free(d);
    return n;
}

/* Every unit's credit is within [CREDIT_MIN, INIT + carry-over]. */
static void assert_credits_bounded(struct scheduler *s)
{
    for (int i = 0; i < s->nr_units; i++) {
        fv_ns_t c = credit_of(s, i);
        assert_true(c <= INIT + CARRYOVER);
        assert_true(c >= -INIT);
    }
}

/* 1. Shares follow weights: 128/256/512 => 1/7, 2/7, 4/7. */
static void test_weighted_shares(void **st)
{
    (void)st;
    struct fake_core fc;
    new_c2(&fc, 1, -1);
    struct sched_domain *a = add(&fc, "w128", 128, 0, 1);
    struct sched_domain *b = add(&fc, "w256", 256, 0, 1);
    struct sched_domain *c = add(&fc, "w512", 512, 0, 1);
    fake_wake_domain(&fc, a);
    fake_wake_domain(&fc, b);
    fake_wake_domain(&fc, c);
    fake_run(&fc, FV_SEC(10));
    double sa = share(&fc, a, FV_SEC(10)), sb = share(&fc, b, FV_SEC(10));
    double sc = share(&fc, c, FV_SEC(10));
    print_message("credit2 weights 128/256/512: %.5f %.5f %.5f\n", sa, sb, sc);
    assert_rel(sa, 1.0 / 7, 0.01);
    assert_rel(sb, 2.0 / 7, 0.01);
    assert_rel(sc, 4.0 / 7, 0.01);
    assert_int_equal(fake_dom_ns(&fc, a) + fake_dom_ns(&fc, b) + fake_dom_ns(&fc, c), FV_SEC(10));
    fake_sched_free(&fc);
}

/* 2. A 25% cap holds; the two others split what it leaves. */
static void test_cap(void **st)
{
    (void)st;
    struct fake_core fc;
    new_c2(&fc, 1, -1);
    struct sched_domain *cap = add(&fc, "capped", 256, 25, 1);
    struct sched_domain *x = add(&fc, "x", 256, 0, 1);
    struct sched_domain *y = add(&fc, "y", 256, 0, 1);
    fake_wake_domain(&fc, cap);
    fake_wake_domain(&fc, x);
    fake_wake_domain(&fc, y);
    fake_run(&fc, FV_SEC(10));
    double sc = share(&fc, cap, FV_SEC(10)), sx = share(&fc, x, FV_SEC(10));
    double sy = share(&fc, y, FV_SEC(10));
    print_message("credit2 cap 25: capped %.5f others %.5f %.5f\n", sc, sx, sy);
    assert_true(sc <= 0.255);
    assert_true(sc >= 0.24);
    assert_rel(sx, 0.375, 0.01);
    assert_rel(sy, 0.375, 0.01);
    fake_sched_free(&fc);
}

/* A cap is per domain: 50% over 2 vCPUs is half a pCPU in all, and the
 * uncapped domain gets the rest of the 2 pCPUs. */
static void test_cap_multi_vcpu(void **st)
{
    (void)st;
    struct fake_core fc;
    new_c2(&fc, 2, -1);
    struct sched_domain *cap = add(&fc, "capped", 256, 50, 2);
    struct sched_domain *x = add(&fc, "x", 256, 0, 2);
    fake_wake_domain(&fc, cap);
    fake_wake_domain(&fc, x);
    fake_run(&fc, FV_SEC(5));
    double sc = (double)fake_dom_ns(&fc, cap) / FV_SEC(5);
    double sx = (double)fake_dom_ns(&fc, x) / FV_SEC(5);
    print_message("credit2 cap 50 over 2 vcpus: %.5f pCPUs, uncapped %.5f pCPUs\n", sc, sx);
    assert_true(sc <= 0.51 && sc >= 0.48);
    assert_rel(sx, 1.5, 0.01);
    fake_sched_free(&fc);
}

/* 3. SMP: 4 equal hogs on 2 pCPUs get half a pCPU each; 1 hog gets one. */
static void test_smp(void **st)
{
    (void)st;
    struct fake_core fc;
    new_c2(&fc, 2, -1);
    struct sched_domain *d[4];
    const char *names[4] = { "h0", "h1", "h2", "h3" };
    for (int i = 0; i < 4; i++)
        d[i] = add(&fc, names[i], 256, 0, 1);
    for (int i = 0; i < 4; i++)
        fake_wake_domain(&fc, d[i]);
    fake_run(&fc, FV_SEC(10));
    print_message("credit2 2 pCPUs 4 hogs:");
    for (int i = 0; i < 4; i++) {
        double s = share(&fc, d[i], FV_SEC(10));   /* of one pCPU */
        print_message(" %.5f", s);
        assert_rel(s, 0.5, 0.01);
    }
    print_message("\n");
    fake_sched_free(&fc);

    new_c2(&fc, 2, -1);
    struct sched_domain *one = add(&fc, "solo", 256, 0, 1);
    fake_wake_domain(&fc, one);
    fake_run(&fc, FV_SEC(10));
    print_message("credit2 2 pCPUs 1 hog: %.4f of one pCPU\n", share(&fc, one, FV_SEC(10)));
    assert_int_equal(fake_dom_ns(&fc, one), FV_SEC(10));
    fake_sched_free(&fc);
}

/* 4. Burn rate: weight 256 burns twice as fast as 512 (the max weight). */
static void test_burn_rate(void **st)
{
    (void)st;
    struct fake_core fc;
    struct scheduler *s = new_c2(&fc, 1, -1);
    struct sched_domain *light = add(&fc, "light", 256, 0, 1);
    struct sched_domain *heavy = add(&fc, "heavy", 512, 0, 1);
    struct sched_unit *l = light->units[0], *h = heavy->units[0];

    /* Alone, the light one's slice is its whole credit in time: 10 ms of
     * credit at 2 credits/ns is 5 ms. */
    fake_wake(&fc, l);
    fake_run(&fc, 0);
    assert_ptr_equal(s->pcpus[0].curr, l);
    assert_int_equal(fc.slice_end[0], FV_MS(5));

    /* h wakes within l's ratelimit, so l keeps its slice; then h runs. */
    fake_wake(&fc, h);
    fake_run(&fc, FV_US(7300));
    fake_block(&fc, l);                 /* account both exactly */
    fake_block(&fc, h);
    fake_run(&fc, FV_US(7300));
    fv_ns_t xl = fc.run_ns[l->id], xh = fc.run_ns[h->id];
    assert_int_equal(xl, FV_MS(5));
    assert_int_equal(xh, FV_US(2300));
    assert_int_equal(resets(s), 0);
    assert_int_equal(credit_of(s, l->id), INIT - 2 * xl);
    assert_int_equal(credit_of(s, h->id), INIT - xh);
    fake_sched_free(&fc);
}

/* 5. Slices stay in [max(500 us, ratelimit), 10 ms], idle is -1, under a
 * churn of blocks and wakes on 2 pCPUs with a capped domain. A tiny engine
 * drives the core directly so every decision can be inspected. */
static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    return *x >> 33;
}

struct clamp_stats {
    int decisions, at_min, at_max;
};

static void check_decision(struct sched_decision d, struct sched_unit *prev, fv_ns_t rl,
                           struct clamp_stats *cs)
{
    if (!d.next) {
        assert_int_equal(d.runtime, -1);
        return;
    }
    fv_ns_t lo = MIN_TIMER, hi = rl > MAX_TIMER ? rl : MAX_TIMER;
    if (d.next != prev && rl > lo)
        lo = rl;                        /* a fresh unit gets its whole ratelimit */
    if (d.runtime < lo || d.runtime > hi)
        fail_msg("runtime %lld outside [%lld, %lld] (ratelimit %lld)", (long long)d.runtime,
                 (long long)lo, (long long)hi, (long long)rl);
    cs->decisions++;
    cs->at_min += d.runtime == lo;
    cs->at_max += d.runtime == hi;
}

static void drive_churn(fv_ns_t rl, struct clamp_stats *cs)
{
    struct fake_core fc;
    struct scheduler *s = new_c2(&fc, 2, rl);
    add(&fc, "a", 128, 0, 1);
    add(&fc, "b", 256, 0, 2);
    add(&fc, "c", 1024, 0, 1);
    add(&fc, "d", 256, 30, 2);
    add(&fc, "e", 65535, 0, 1);
    for (int i = 0; i < s->nr_units; i++)
        fake_wake(&fc, s->units[i]);
    fv_ns_t end[2] = { FV_NS_NEVER, FV_NS_NEVER };
    uint64_t seed = 7;
    fv_ns_t next_ev = 0;

    while (fc.now < FV_SEC(2)) {
        while (!cpumask_empty(&fc.tickled)) {
            int cpu = cpumask_next(&fc.tickled, 0);
            struct sched_unit *prev;
            cpumask_clear(&fc.tickled, cpu);
            struct sched_decision d = sched_core_schedule(s, cpu, fc.now, &prev);
            check_decision(d, prev, rl, cs);
            end[cpu] = d.runtime < 0 ? FV_NS_NEVER : fc.now + d.runtime;
        }
        struct sched_timer *t = NULL;
        for (int i = 0; i < fc.nr_timers; i++)
            if (!t || fc.timers[i]->expires < t->expires)
                t = fc.timers[i];
        fv_ns_t when = next_ev;
        int what = 0;                   /* 0 churn, 1 timer, 2+cpu slice end */
        if (t && t->expires < when)
            when = t->expires, what = 1;
        for (int c = 0; c < 2; c++)
            if (end[c] < when)
                when = end[c], what = 2 + c;
        fc.now = when;
        if (what == 1) {
            t->fn(s, t, fc.now);
            if (t->heap_idx >= 0 && t->expires <= fc.now)
                fail_msg("timer rearmed in the past");
        } else if (what >= 2) {
            end[what - 2] = FV_NS_NEVER;
            cpumask_set(&fc.tickled, what - 2);
        } else {
            /* Units 0 and 1 are hogs; the others block and wake at random. */
            struct sched_unit *u = s->units[2 + lcg(&seed) % (s->nr_units - 2)];
            if (u->runnable)
                fake_block(&fc, u);
            else
                fake_wake(&fc, u);
            next_ev = fc.now + (fv_ns_t)(lcg(&seed) % FV_MS(3));
        }
    }
    assert_credits_bounded(s);
    fake_sched_free(&fc);
}

static void test_runtime_clamps(void **st)
{
    (void)st;
    const fv_ns_t rls[] = { 0, FV_US(100), FV_MS(1), FV_MS(5), FV_MS(20) };
    for (unsigned i = 0; i < sizeof(rls) / sizeof(rls[0]); i++) {
        struct clamp_stats cs = { 0 };
        drive_churn(rls[i], &cs);
        print_message("credit2 ratelimit %lld us: %d decisions, %d at min, %d at max\n",
                      (long long)rls[i] / 1000, cs.decisions, cs.at_min, cs.at_max);
        assert_true(cs.decisions > 300);
        assert_true(cs.at_min > 0);     /* both ends of the clamp were exercised */
    }
}

/* 6. Reset exactly when the head runs out, clipped to INIT + carry-over. */
static void test_credit_reset(void **st)
{
    (void)st;
    struct fake_core fc;
    struct scheduler *s = new_c2(&fc, 1, -1);
    struct sched_domain *a = add(&fc, "a", 256, 0, 1);
    struct sched_domain *sleeper = add(&fc, "sleeper", 512, 0, 1);
    struct sched_unit *ua = a->units[0], *us = sleeper->units[0];

    /* a alone burns 2 credits/ns: its 10 ms last 5 ms of run time. */
    fake_wake(&fc, ua);
    fake_run(&fc, FV_MS(5) - 1);
    assert_int_equal(resets(s), 0);
    assert_int_equal(credit_of(s, us->id), INIT);
    fake_run(&fc, FV_MS(5));
    /* At 5 ms the head (a) has 0 credit: reset. a gets exactly +INIT; the
     * sleeper, untouched at INIT, is clipped to INIT + carry-over. */
    assert_int_equal(resets(s), 1);
    assert_int_equal(credit_of(s, ua->id), INIT);
    assert_int_equal(credit_of(s, us->id), INIT + CARRYOVER);
    assert_int_equal(fc.slice_end[0], FV_MS(10));
    fake_run(&fc, FV_MS(10));
    assert_int_equal(resets(s), 2);
    fake_sched_free(&fc);

    /* Three hogs for a while: resets happen, credits stay bounded. */
    new_c2(&fc, 1, -1);
    add(&fc, "x", 128, 0, 1);
    add(&fc, "y", 256, 0, 1);
    add(&fc, "z", 300, 0, 1);
    for (int i = 0; i < fc.s->nr_units; i++)
        fake_wake(&fc, fc.s->units[i]);
    unsigned long long last = 0;
    for (fv_ns_t t = FV_US(730); t < FV_SEC(1); t += FV_US(730)) {
        fake_run(&fc, t);
        assert_credits_bounded(fc.s);
        unsigned long long r = resets(fc.s);
        assert_true(r >= last);
        last = r;
    }
    assert_true(last > 10);
    fake_sched_free(&fc);
}

/* 7. Parameter checks. */
static void test_checks(void **st)
{
    (void)st;
    char err[256];
    struct sched_dom_params p;
    sched_dom_defaults(&p);

    assert_int_equal(ops()->check_dom(&p, err, sizeof(err)), 0);
    p.weight = 0;
    err[0] = 0;
    assert_int_equal(ops()->check_dom(&p, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "weight"));
    p.weight = 65536;
    err[0] = 0;
    assert_int_equal(ops()->check_dom(&p, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "weight"));
    assert_non_null(strstr(err, "65536"));
    p.weight = 65535;
    assert_int_equal(ops()->check_dom(&p, err, sizeof(err)), 0);

    struct sched_global_params gp;
    sched_global_defaults(ops(), &gp);
    assert_int_equal(gp.ratelimit, FV_MS(1));
    assert_int_equal(ops()->check_global(&gp, err, sizeof(err)), 0);
    gp.ratelimit = FV_MS(600);
    err[0] = 0;
    assert_int_equal(ops()->check_global(&gp, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "ratelimit"));
    gp.ratelimit = FV_US(50);
    assert_int_equal(ops()->check_global(&gp, err, sizeof(err)), -EINVAL);
    gp.ratelimit = 0;                   /* off */
    assert_int_equal(ops()->check_global(&gp, err, sizeof(err)), 0);
    gp.ratelimit = FV_MS(500);
    assert_int_equal(ops()->check_global(&gp, err, sizeof(err)), 0);

    assert_non_null(sched_param_find(ops()->dom_params, "weight"));
    assert_non_null(sched_param_find(ops()->dom_params, "cap"));
    assert_int_equal(sched_param_find(ops()->global_params, "ratelimit")->def, FV_MS(1));

    /* cap <= 100 x vcpus, checked when the domain is added. */
    struct fake_core fc;
    new_c2(&fc, 1, -1);
    sched_dom_defaults(&p);
    p.cap = 201;
    err[0] = 0;
    assert_null(sched_core_add_domain(fc.s, 1, "toomuch", &p, 2, NULL, err, sizeof(err)));
    p.cap = 200;
    assert_non_null(sched_core_add_domain(fc.s, 2, "ok", &p, 2, NULL, err, sizeof(err)));
    fake_sched_free(&fc);
}

/* 8. Two identical runs give identical per-unit run times. */
static void run_mixed(fv_ns_t *out, int n)
{
    struct fake_core fc;
    struct scheduler *s = new_c2(&fc, 3, -1);
    add(&fc, "a", 100, 0, 2);
    add(&fc, "b", 700, 0, 1);
    add(&fc, "c", 256, 40, 3);
    add(&fc, "d", 256, 0, 1);
    for (int i = 0; i < s->nr_units; i++)
        fake_wake(&fc, s->units[i]);
    for (int k = 1; k <= 50; k++) {
        fake_run(&fc, FV_MS(37) * k);
        struct sched_unit *u = s->units[(k * 5) % s->nr_units];
        if (u->runnable)
            fake_block(&fc, u);
        else
            fake_wake(&fc, u);
    }
    fake_run(&fc, FV_SEC(3));
    assert_true(s->nr_units <= n);
    memcpy(out, fc.run_ns, sizeof(fv_ns_t) * (size_t)n);
    fake_sched_free(&fc);
}

static void test_determinism(void **st)
{
    (void)st;
    fv_ns_t a[16], b[16];
    run_mixed(a, 16);
    run_mixed(b, 16);
    assert_memory_equal(a, b, sizeof(a));
    fv_ns_t sum = 0;
    for (int i = 0; i < 16; i++)
        sum += a[i];
    assert_true(sum > 0 && sum <= FV_SEC(9));
}

/* Wake-up tickling: an idle pCPU first; else preempt a lower-credit unit. */
static void test_tickle(void **st)
{
    (void)st;
    struct fake_core fc;
    struct scheduler *s = new_c2(&fc, 2, -1);
    struct sched_domain *a = add(&fc, "a", 256, 0, 1);
    struct sched_domain *b = add(&fc, "b", 256, 0, 1);
    fake_wake_domain(&fc, a);
    fake_run(&fc, FV_MS(1));
    int ca = a->units[0]->cpu;
    assert_ptr_equal(s->pcpus[ca].curr, a->units[0]);
    cpumask_clear_all(&fc.tickled);
    fake_wake_domain(&fc, b);
    assert_true(cpumask_test(&fc.tickled, 1 - ca));    /* the idle one */
    assert_false(cpumask_test(&fc.tickled, ca));
    fake_run(&fc, FV_MS(2));
    assert_ptr_equal(s->pcpus[1 - ca].curr, b->units[0]);
    fake_sched_free(&fc);

    /* One pCPU: a runs 3 ms (credit 7 ms); b wakes with 10 ms, past a's
     * ratelimit, so it preempts at once. */
    s = new_c2(&fc, 1, -1);
    a = add(&fc, "a", 256, 0, 1);
    b = add(&fc, "b", 256, 0, 1);
    fake_wake_domain(&fc, a);
    fake_run(&fc, FV_MS(3));
    fake_wake_domain(&fc, b);
    assert_true(cpumask_test(&fc.tickled, 0));
    fake_run(&fc, FV_MS(3));
    assert_ptr_equal(s->pcpus[0].curr, b->units[0]);
    assert_int_equal(fc.run_ns[a->units[0]->id], FV_MS(3));
    fake_sched_free(&fc);
}

/* A yield hands the pCPU to a waiter, even within the ratelimit. */
static void test_yield(void **st)
{
    (void)st;
    struct fake_core fc;
    struct scheduler *s = new_c2(&fc, 1, -1);
    struct sched_domain *a = add(&fc, "a", 256, 0, 1);
    struct sched_domain *b = add(&fc, "b", 256, 0, 1);
    fake_wake_domain(&fc, a);
    fake_wake_domain(&fc, b);
    fake_run(&fc, FV_US(100));
    struct sched_unit *cur = s->pcpus[0].curr, *other = cur == a->units[0] ? b->units[0]
                                                                            : a->units[0];
    sched_core_yield(s, cur, fc.now);
    fake_run(&fc, FV_US(100));
    assert_ptr_equal(s->pcpus[0].curr, other);
    /* Alone, a yielder keeps running. */
    fake_block(&fc, cur);
    fake_run(&fc, FV_US(200));
    sched_core_yield(s, other, fc.now);
    fake_run(&fc, FV_US(200));
    assert_ptr_equal(s->pcpus[0].curr, other);
    fake_sched_free(&fc);
}

/* adjust: weight and cap changed at run time take effect. */
static void test_adjust(void **st)
{
    (void)st;
    struct fake_core fc;
    struct scheduler *s = new_c2(&fc, 1, -1);
    struct sched_domain *a = add(&fc, "a", 256, 0, 1);
    struct sched_domain *b = add(&fc, "b", 256, 0, 1);
    fake_wake_domain(&fc, a);
    fake_wake_domain(&fc, b);
    fake_run(&fc, FV_SEC(1));

    struct sched_dom_params p = a->params;
    p.weight = 768;                     /* a: 3/4 */
    assert_int_equal(s->ops->adjust(s, a, &p), 0);
    fv_ns_t a0 = fake_dom_ns(&fc, a);
    fake_run(&fc, FV_SEC(5));
    assert_rel((double)(fake_dom_ns(&fc, a) - a0) / FV_SEC(4), 0.75, 0.01);

    p.cap = 10;                         /* now capped at 10% */
    assert_int_equal(s->ops->adjust(s, a, &p), 0);
    a0 = fake_dom_ns(&fc, a);
    fake_run(&fc, FV_SEC(9));
    double capped = (double)(fake_dom_ns(&fc, a) - a0) / FV_SEC(4);
    assert_true(capped <= 0.105 && capped >= 0.09);

    p.cap = 0;                          /* uncapped again */
    assert_int_equal(s->ops->adjust(s, a, &p), 0);
    a0 = fake_dom_ns(&fc, a);
    fake_run(&fc, FV_SEC(13));
    assert_rel((double)(fake_dom_ns(&fc, a) - a0) / FV_SEC(4), 0.75, 0.01);

    p.weight = 0;
    assert_int_equal(s->ops->adjust(s, a, &p), -EINVAL);
    p.weight = 256;
    p.cap = 101;                        /* > 100 x 1 vCPU */
    assert_int_equal(s->ops->adjust(s, a, &p), -EINVAL);

    struct sched_global_params gp = s->gp;
    gp.ratelimit = FV_MS(600);
    assert_int_equal(s->ops->adjust_global(s, &gp), -EINVAL);
    gp.ratelimit = 0;
    assert_int_equal(s->ops->adjust_global(s, &gp), 0);
    fake_sched_free(&fc);
}

/* Equal credit queues in arrival order: units woken in a shuffled order
 * wait in that order, and one requeued with less credit goes behind them. */
static void test_runq_fifo(void **st)
{
    (void)st;
    static const char *const names[] = { "q0", "q1", "q2", "q3", "q4", "q5" };
    static const int order[] = { 3, 1, 5, 0, 4, 2 };
    struct fake_core fc;
    struct scheduler *s = new_c2(&fc, 1, -1);
    int ids[8];
    fv_ns_t cr[8];

    for (int i = 0; i < 6; i++)
        add(&fc, names[i], 256, 0, 1);
    for (int k = 0; k < 6; k++)
        fake_wake(&fc, s->units[order[k]]);
    assert_int_equal(runq_of(s, ids, cr, 8), 6);
    for (int k = 0; k < 6; k++) {
        assert_int_equal(ids[k], order[k]);
        assert_int_equal(cr[k], INIT);
    }
    /* The first takes the pCPU for its 1 ms ratelimit, then waits behind
     * the four that still hold INIT. */
    fake_run(&fc, 0);
    assert_ptr_equal(s->pcpus[0].curr, s->units[order[0]]);
    fake_run(&fc, FV_MS(1));
    assert_ptr_equal(s->pcpus[0].curr, s->units[order[1]]);
    assert_int_equal(runq_of(s, ids, cr, 8), 5);
    for (int k = 0; k < 4; k++)
        assert_int_equal(ids[k], order[k + 2]);
    assert_int_equal(ids[4], order[0]);
    assert_int_equal(cr[4], INIT - FV_MS(1));
    fake_sched_free(&fc);
}

/* Many vCPUs: 1,200 domains of mixed weights on 8 pCPUs, some capped, some
 * pinned, the 100 first always runnable and the others blocking and
 * waking at random. Checked every 40 ms: the runqueue is sorted by credit
 * and credits are bounded; at the end, epochs have ended (resets), no
 * pCPU was ever idle (a hog always waits), caps held. */
#define MANY 1200

static void run_many(fv_ns_t *out, unsigned long long *nr_resets)
{
    static const char *names[MANY];
    static char buf[MANY][16];
    static int ids[MANY];
    static fv_ns_t cr[MANY];
    static const uint32_t weights[] = { 128, 256, 512, 1000 };
    struct fake_core fc;
    struct scheduler *s = new_c2(&fc, 8, -1);
    fv_cpumask_t pin;
    uint64_t seed = 12345;

    for (int i = 0; i < MANY; i++) {
        struct sched_dom_params p;
        sched_dom_defaults(&p);
        snprintf(buf[i], sizeof(buf[i]), "d%d", i);
        names[i] = buf[i];
        p.weight = weights[i % 4];
        p.cap = i % 97 == 5 ? 30 : 0;   /* 12 capped domains */
        cpumask_clear_all(&pin);
        cpumask_set(&pin, i % 8);
        cpumask_set(&pin, (i + 3) % 8);
        fake_add_domain(&fc, names[i], 1, &p, i % 10 == 7 ? &pin : NULL);
    }
    for (int i = 0; i < MANY; i++)
        if (i < 100 || lcg(&seed) % 2)
            fake_wake(&fc, s->units[i]);
    for (fv_ns_t t = FV_MS(1); t <= FV_SEC(2); t += FV_MS(1)) {
        fake_run(&fc, t);
        for (int k = 0; k < 20; k++) {
            struct sched_unit *u = s->units[100 + lcg(&seed) % (MANY - 100)];
            if (u->runnable)
                fake_block(&fc, u);
            else
                fake_wake(&fc, u);
        }
        if (t % FV_MS(40))
            continue;
        int n = runq_of(s, ids, cr, MANY);
        assert_true(n <= MANY);
        for (int k = 0; k < n; k++) {
            assert_true(cr[k] <= INIT + CARRYOVER && cr[k] >= -INIT);
            if (k && cr[k] > cr[k - 1])
                fail_msg("runq position %d: unit %d has %lld credit, more than %lld ahead of it",
                         k, ids[k], (long long)cr[k], (long long)cr[k - 1]);
        }
    }
    fv_ns_t total = 0;
    for (int i = 0; i < MANY; i++) {
        total += fc.run_ns[i];
        if (i % 97 == 5)
            assert_true(fc.run_ns[i] <= FV_MS(600) + FV_MS(10));
    }
    assert_int_equal(total, 8 * FV_SEC(2));
    *nr_resets = resets(s);
    memcpy(out, fc.run_ns, sizeof(fv_ns_t) * MANY);
    fake_sched_free(&fc);
}

static void test_many_units(void **st)
{
    (void)st;
    static fv_ns_t a[MANY], b[MANY];
    unsigned long long ra, rb;
    run_many(a, &ra);
    run_many(b, &rb);
    print_message("credit2 %d vCPUs on 8 pCPUs: %llu resets\n", MANY, ra);
    assert_true(ra > 0);
    assert_int_equal(ra, rb);
    assert_memory_equal(a, b, sizeof(a));
}

/* Pinned units only run where allowed; dump names the runqueue. */
static void test_affinity_and_dump(void **st)
{
    (void)st;
    struct fake_core fc;
    struct scheduler *s = new_c2(&fc, 2, -1);
    struct sched_dom_params p;
    sched_dom_defaults(&p);
    fv_cpumask_t pin;
    cpumask_clear_all(&pin);
    cpumask_set(&pin, 1);
    struct sched_domain *a = fake_add_domain(&fc, "pinned", 2, &p, &pin);
    struct sched_domain *b = add(&fc, "free", 256, 0, 1);
    fake_wake_domain(&fc, a);
    fake_wake_domain(&fc, b);
    fake_run(&fc, FV_SEC(2));
    /* Two vCPUs share pCPU 1; the free one has pCPU 0 alone. */
    assert_rel((double)fake_dom_ns(&fc, a) / FV_SEC(2), 1.0, 0.001);
    assert_rel((double)fake_dom_ns(&fc, b) / FV_SEC(2), 1.0, 0.001);
    char *d = dump(s);
    assert_non_null(strstr(d, "credit2"));
    assert_non_null(strstr(d, "runq:"));
    assert_non_null(strstr(d, "pinned.1"));
    free(d);
    fake_sched_free(&fc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weighted_shares),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_cap_multi_vcpu),
        cmocka_unit_test(test_smp),
        cmocka_unit_test(test_burn_rate),
        cmocka_unit_test(test_runtime_clamps),
        cmocka_unit_test(test_credit_reset),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_tickle),
        cmocka_unit_test(test_yield),
        cmocka_unit_test(test_adjust),
        cmocka_unit_test(test_affinity_and_dump),
        cmocka_unit_test(test_runq_fifo),
        cmocka_unit_test(test_many_units),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
