/* test_sched_fair.c — the fair policy (sched/fair.c) against the fake core:
 * weighted shares by virtual time, charges counted in it, the bounded
 * wake-up boost and its order when many domains wake at once, Domain-0's
 * guarantee, caps, balancing over pCPUs, parameters; and, in the
 * virtual-time engine, many domains waking at once under fair and credit.
 *
 * Virtual time makes most figures exact: with one pCPU and a 5 ms slice,
 * the order of every slice follows from the domains' virtual times (vt:
 * ns run or charged x 256 / weight), worked out at each test. */
#include "testutil.h"
#include "fake_core.h"
#include "scn_build.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/engine.h"
#include "hv/run.h"

#define TSLICE FV_MS(5)
#define BOOST FV_MS(1)

static struct sched_global_params fair_gp(fv_ns_t tslice, fv_ns_t boost, fv_ns_t budget)
{
    struct sched_global_params gp;
    sched_global_defaults(sched_find("fair"), &gp);
    gp.tslice = tslice;
    gp.boost = boost;
    gp.dom0_budget = budget;
    return gp;
}

/* The defaults, without Domain-0's guarantee (there is no Domain-0). */
static struct scheduler *fair_new(struct fake_core *fc, int ncpus)
{
    struct sched_global_params gp = fair_gp(TSLICE, BOOST, FV_MS(5));
    return fake_sched_new(fc, "fair", ncpus, &gp);
}

static struct sched_dom_params dom_wc(uint32_t weight, uint32_t cap)
{
    struct sched_dom_params p;
    sched_dom_defaults(&p);
    p.weight = weight;
    p.cap = cap;
    return p;
}

static struct sched_domain *hog(struct fake_core *fc, const char *name, uint32_t weight,
                                uint32_t cap)
{
    struct sched_dom_params p = dom_wc(weight, cap);
    struct sched_domain *d = fake_add_domain(fc, name, 1, &p, NULL);
    fake_wake_domain(fc, d);
    return d;
}

/* Domain 0 (the backends' domain): fake_add_domain numbers from 1. */
static struct sched_domain *dom0(struct fake_core *fc, uint32_t weight)
{
    struct sched_dom_params p = dom_wc(weight, 0);
    char err[256] = "";
    struct sched_domain *d = sched_core_add_domain(fc->s, 0, "Domain-0", &p, 1, NULL, err,
                                                   sizeof(err));
    if (!d)
        fail_msg("%s", err);
    return d;
}

/* A field of domain d's line in the policy's dump ("vt=", "pool="). */
static int64_t dom_field(struct fake_core *fc, const struct sched_domain *d, const char *key)
{
    char *buf = NULL, pat[96];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fc->s->ops->dump(fc->s, f);
    fclose(f);
    snprintf(pat, sizeof(pat), "dom %d %s: ", d->id, d->name);
    char *line = strstr(buf, pat);
    assert_non_null(line);
    char *v = strstr(line, key);
    assert_non_null(v);
    int64_t val = strtoll(v + strlen(key), NULL, 10);
    free(buf);
    return val;
}

/* Wake u once and block it at once (placed, then idle). */
static void placed_blocked(struct fake_core *fc, struct sched_unit *u)
{
    fake_wake(fc, u);
    fake_block(fc, u);
}

/* ---- 1. weights ----------------------------------------------------------- */

/* Weights 256 and 768 on one pCPU. Both start at vt 0 and each first run
 * after a wake-up lasts the boost (1 ms): a [0,1) vt 1, b [1,2) vt 1/3;
 * from then on 5 ms slices to the least vt: b [2,7) vt 2, a [7,12) vt 6,
 * b three slices [12,27) vt 7, a [27,32) vt 11, ... Every 20 ms a runs one
 * slice and b three, so at 4 + 20k ms (b one ms into its first slice) a
 * has run exactly a quarter: 501 ms of 2004. vt counts exactly (a's is its
 * run time, b's a third of it, both as of their last decision). */
static void test_weights_1_3(void **st)
{
    (void)st;
    struct fake_core fc;
    fair_new(&fc, 1);
    struct sched_domain *a = hog(&fc, "a", 256, 0), *b = hog(&fc, "b", 768, 0);
    for (fv_ns_t t = FV_MS(100); t <= FV_SEC(2); t += FV_MS(100)) {
        fake_run(&fc, t);
        fv_ns_t ra = fake_dom_ns(&fc, a), rb = fake_dom_ns(&fc, b);
        int64_t va = dom_field(&fc, a, "vt="), vb = dom_field(&fc, b, "vt=");
        assert_int_equal(ra + rb, t);
        /* Accounted at the last decision, at most one slice ago. */
        assert_true(ra - va >= 0 && ra - va <= TSLICE);
        assert_true(rb / 3 - vb >= 0 && rb / 3 - vb <= TSLICE);
        assert_true(va - vb <= TSLICE + TSLICE && vb - va <= TSLICE + TSLICE);
    }
    fake_run(&fc, FV_MS(2004));
    print_message("weights 1:3 at 2004 ms: a %.3f ms, b %.3f ms\n",
                  fake_dom_ns(&fc, a) / 1e6, fake_dom_ns(&fc, b) / 1e6);
    assert_int_equal(fake_dom_ns(&fc, a), FV_MS(501));
    assert_int_equal(fake_dom_ns(&fc, b), FV_MS(1503));
    assert_int_equal(dom_field(&fc, a, "vt="), FV_MS(501));
    fake_sched_free(&fc);
}

static void test_balance_two_pcpus(void **st)
{
    (void)st;
    struct fake_core fc;
    fair_new(&fc, 2);
    struct sched_domain *d[5];
    char name[5][8];
    for (int i = 0; i < 5; i++) {
        snprintf(name[i], sizeof(name[i]), "h%d", i);
        d[i] = hog(&fc, name[i], 256, 0);
    }
    fake_run(&fc, FV_SEC(2));
    fv_ns_t sum = 0;
    for (int i = 0; i < 5; i++) {
        fv_ns_t r = fake_dom_ns(&fc, d[i]);
        sum += r;
        print_message("2 pcpus, 5 hogs: %s %.3f ms\n", d[i]->name, r / 1e6);
        /* 2 x 2 s / 5, within one slice. */
        assert_true(r >= FV_MS(800) - TSLICE && r <= FV_MS(800) + TSLICE);
    }
    assert_int_equal(sum, FV_SEC(4));       /* no pCPU ever idled */
    fake_sched_free(&fc);
}

/* ---- 2. charge-back -------------------------------------------------------- */

/* Two equal hogs; a is charged 50 ms before anything runs (vt 50 ms).
 * b runs [0,1) (boost), then 5 ms slices while its vt is below 50: to
 * 51 ms (vt 51); a [51,52) (boost, vt 51); then they alternate 5 ms each
 * (b first: it has waited since 51 ms). Whenever their vts meet (at 62 ms,
 * then every 10 ms), a has run exactly 50 ms less than b: it paid for the
 * charged time out of its own share. */
static void test_charge_costs_share(void **st)
{
    (void)st;
    struct fake_core fc;
    fair_new(&fc, 1);
    struct sched_domain *a = hog(&fc, "a", 256, 0), *b = hog(&fc, "b", 256, 0);
    assert_int_equal(sched_core_charge_domain(fc.s, a, FV_MS(50)), FV_MS(50));
    assert_int_equal(a->charged_ns, FV_MS(50));
    assert_int_equal(dom_field(&fc, a, "vt="), FV_MS(50));
    fake_run(&fc, FV_MS(51));
    assert_int_equal(fake_dom_ns(&fc, a), 0);
    assert_int_equal(fake_dom_ns(&fc, b), FV_MS(51));
    fake_run(&fc, FV_MS(1002));
    print_message("charged 50 ms: a %.3f ms, b %.3f ms at 1002 ms\n",
                  fake_dom_ns(&fc, a) / 1e6, fake_dom_ns(&fc, b) / 1e6);
    assert_int_equal(fake_dom_ns(&fc, a), FV_MS(476));
    assert_int_equal(fake_dom_ns(&fc, b), FV_MS(526));
    assert_int_equal(dom_field(&fc, a, "vt="), dom_field(&fc, b, "vt="));
    fake_sched_free(&fc);
}

/* A charge is exact in virtual time: weight 512 pays half (256/512). The
 * remainder of the division carries: 3 ns at weight 512 add 1 ns, then 3
 * more add 2. And it is split over the runnable vCPUs (the odd ns to the
 * first), or goes to vCPU 0 when none is runnable. */
static void test_charge_exact(void **st)
{
    (void)st;
    struct fake_core fc;
    fair_new(&fc, 2);
    struct sched_dom_params p = dom_wc(512, 0);
    struct sched_domain *d = fake_add_domain(&fc, "two", 2, &p, NULL);
    assert_int_equal(sched_core_charge_domain(fc.s, d, FV_MS(4)), FV_MS(4));
    assert_int_equal(dom_field(&fc, d, "vt="), FV_MS(2));
    sched_core_charge_domain(fc.s, d, 3);
    assert_int_equal(dom_field(&fc, d, "vt="), FV_MS(2) + 1);
    sched_core_charge_domain(fc.s, d, 3);
    assert_int_equal(dom_field(&fc, d, "vt="), FV_MS(2) + 3);
    assert_int_equal(d->charged_ns, FV_MS(4) + 6);
    assert_int_equal(sched_core_charge_domain(fc.s, d, 0), 0);
    fake_sched_free(&fc);
}

/* ---- 3. wake-up boost ------------------------------------------------------ */

/* An I/O domain (little CPU) wakes while a hog runs: it preempts at once
 * and its first run lasts at most the boost; then it queues by vt. */
static void test_wake_preempts_bounded(void **st)
{
    (void)st;
    struct fake_core fc;
    fair_new(&fc, 1);
    struct sched_unit *io = fake_add_domain(&fc, "io", 1, NULL, NULL)->units[0];
    placed_blocked(&fc, io);
    struct sched_unit *h = hog(&fc, "hog", 256, 0)->units[0];
    fake_run(&fc, FV_MS(97));
    assert_ptr_equal(fc.s->pcpus[0].curr, h);
    fake_wake(&fc, io);
    assert_true(cpumask_test(&fc.tickled, 0));
    fake_run(&fc, FV_MS(97));
    assert_ptr_equal(fc.s->pcpus[0].curr, io);
    assert_int_equal(io->state_since, FV_MS(97));       /* no wait at all */
    assert_int_equal(fc.slice_end[0], FV_MS(97) + BOOST);
    /* It does not block: after its boost it is as far as the hog (it was
     * placed one boost behind it), and the hog, queued first, goes on. */
    fake_run(&fc, FV_MS(98));
    assert_ptr_equal(fc.s->pcpus[0].curr, h);
    fake_sched_free(&fc);
}

/* One vCPU wakes every 10 ms, does `work` and blocks, next to three hogs
 * on one pCPU; returns its longest wait from wake-up to running. */
static fv_ns_t periodic_max_wait(fv_ns_t work)
{
    struct fake_core fc;
    fair_new(&fc, 1);
    struct sched_unit *pu = fake_add_domain(&fc, "periodic", 1, NULL, NULL)->units[0];
    placed_blocked(&fc, pu);
    hog(&fc, "h0", 256, 0);
    hog(&fc, "h1", 256, 0);
    hog(&fc, "h2", 256, 0);
    fv_ns_t max = 0;
    for (fv_ns_t wake = FV_MS(500) + FV_US(5300); wake < FV_SEC(5);) {
        fake_run(&fc, wake);
        fake_wake(&fc, pu);
        while (fc.s->pcpus[0].curr != pu)
            fake_run(&fc, fc.now + FV_US(50));
        fv_ns_t waited = pu->state_since - wake;
        max = waited > max ? waited : max;
        fv_ns_t target = fc.run_ns[pu->id] + work;
        while (fc.run_ns[pu->id] < target)
            fake_run(&fc, fc.now + (target - fc.run_ns[pu->id]));
        fake_block(&fc, pu);
        do
            wake += FV_MS(10);
        while (wake <= fc.now);
    }
    fake_sched_free(&fc);
    return max;
}

/* Under its quarter (1 ms per 10 ms): it always preempts, never waits.
 * Over it (5 ms per 10 ms): it waits behind the hogs, at most one slice
 * per hog (credit's test shows up to 3 x 30 ms there). */
static void test_periodic_waker_latency(void **st)
{
    (void)st;
    fv_ns_t light = periodic_max_wait(FV_MS(1)), heavy = periodic_max_wait(FV_MS(5));
    print_message("periodic waker: light max wait %.3f ms, heavy %.3f ms\n", light / 1e6,
                  heavy / 1e6);
    assert_int_equal(light, 0);
    assert_true(heavy > 0);
    assert_true(heavy <= 3 * TSLICE);
}

/* Eight domains that used different amounts of CPU (charged 0, 100, ...,
 * 700 us) wake at the same instant, the most used first (FIFO would run
 * them in that order). Each runs 50 us and blocks: they run least vt
 * first, each exactly 50 us after the one before. */
static void test_many_wake_least_vt_first(void **st)
{
    (void)st;
    struct fake_core fc;
    fair_new(&fc, 1);
    struct sched_domain *d[8];
    char name[8][8];
    for (int i = 0; i < 8; i++) {
        snprintf(name[i], sizeof(name[i]), "io%d", i);
        d[i] = fake_add_domain(&fc, name[i], 1, NULL, NULL);
        placed_blocked(&fc, d[i]->units[0]);
        sched_core_charge_domain(fc.s, d[i], FV_US(100) * i);
    }
    struct sched_domain *h = hog(&fc, "hog", 256, 0);
    fv_ns_t t0 = FV_MS(200);
    fake_run(&fc, t0);
    for (int i = 7; i >= 0; i--)
        fake_wake(&fc, d[i]->units[0]);
    for (int k = 0; k < 8; k++) {
        fake_run(&fc, t0 + k * FV_US(50));
        assert_ptr_equal(fc.s->pcpus[0].curr, d[k]->units[0]);
        assert_int_equal(d[k]->units[0]->state_since, t0 + k * FV_US(50));
        fake_run(&fc, t0 + (k + 1) * FV_US(50));
        fake_block(&fc, d[k]->units[0]);
    }
    fake_run(&fc, t0 + FV_US(450));
    assert_ptr_equal(fc.s->pcpus[0].curr, h->units[0]);
    fake_sched_free(&fc);
}

/* With a ratelimit, the hog (running since 0) keeps the pCPU for the rest
 * of it when the waker comes at 300 us; without, the waker runs at once. */
static void test_ratelimit(void **st)
{
    (void)st;
    for (int on = 0; on < 2; on++) {
        struct fake_core fc;
        struct sched_global_params gp = fair_gp(TSLICE, BOOST, FV_MS(5));
        gp.ratelimit = on ? FV_MS(1) : 0;
        fake_sched_new(&fc, "fair", 1, &gp);
        struct sched_unit *io = fake_add_domain(&fc, "io", 1, NULL, NULL)->units[0];
        placed_blocked(&fc, io);
        struct sched_unit *h = hog(&fc, "hog", 256, 0)->units[0];
        fake_run(&fc, FV_US(300));
        assert_ptr_equal(fc.s->pcpus[0].curr, h);
        assert_int_equal(h->state_since, 0);
        fake_wake(&fc, io);
        fake_run(&fc, FV_US(300));
        if (!on) {
            assert_ptr_equal(fc.s->pcpus[0].curr, io);
            assert_int_equal(fc.run_ns[h->id], FV_US(300));
        } else {
            assert_ptr_equal(fc.s->pcpus[0].curr, h);
            assert_int_equal(fc.slice_end[0], FV_MS(1));
            fake_run(&fc, FV_MS(1));
            assert_ptr_equal(fc.s->pcpus[0].curr, io);
            assert_int_equal(io->state_since, FV_MS(1));
            assert_int_equal(fc.run_ns[h->id], FV_MS(1));
        }
        fake_sched_free(&fc);
    }
}

/* A domain that slept long gets at most one boost of lead: placed at the
 * least vt of the runnable domains minus the boost. */
static void test_sleeper_lead_bounded(void **st)
{
    (void)st;
    struct fake_core fc;
    fair_new(&fc, 1);
    struct sched_domain *s = fake_add_domain(&fc, "sleeper", 1, NULL, NULL);
    placed_blocked(&fc, s->units[0]);
    struct sched_domain *h = hog(&fc, "hog", 256, 0);
    fake_run(&fc, FV_SEC(1));
    fake_wake(&fc, s->units[0]);
    assert_int_equal(dom_field(&fc, s, "vt="), dom_field(&fc, h, "vt=") - BOOST);
    assert_int_equal(dom_field(&fc, s, "tb="), 0);
    /* Both hogs now: the sleeper's lead is spent in one boost, then they
     * share equally. */
    fake_run(&fc, FV_SEC(2));
    fv_ns_t rs = fake_dom_ns(&fc, s), rh = fake_dom_ns(&fc, h) - FV_SEC(1);
    assert_true(rs - rh <= BOOST + TSLICE && rh - rs <= BOOST + TSLICE);
    fake_sched_free(&fc);
}

/* ---- 4. Domain-0's guarantee ----------------------------------------------- */

/* Domain-0 and three guests, all CPU-bound, one pCPU: its fair quarter is
 * below the guarantee (5 ms per 10 ms), so it gets exactly half. */
static void test_dom0_guarantee(void **st)
{
    (void)st;
    struct fake_core fc;
    fair_new(&fc, 1);
    struct sched_domain *d0 = dom0(&fc, 256);
    fake_wake_domain(&fc, d0);
    struct sched_domain *g[3] = { hog(&fc, "g0", 256, 0), hog(&fc, "g1", 256, 0),
                                  hog(&fc, "g2", 256, 0) };
    fake_run(&fc, FV_SEC(1));
    print_message("dom0 guarantee, 1 pCPU: dom0 %.3f ms, guests %.3f %.3f %.3f ms\n",
                  fake_dom_ns(&fc, d0) / 1e6, fake_dom_ns(&fc, g[0]) / 1e6,
                  fake_dom_ns(&fc, g[1]) / 1e6, fake_dom_ns(&fc, g[2]) / 1e6);
    assert_int_equal(fake_dom_ns(&fc, d0), FV_MS(500));
    for (int i = 0; i < 3; i++)
        assert_true(fake_dom_ns(&fc, g[i]) >= FV_MS(500) / 3 - TSLICE &&
                    fake_dom_ns(&fc, g[i]) <= FV_MS(500) / 3 + TSLICE);
    fake_sched_free(&fc);
}

/* On two pCPUs with four guests, Domain-0's weighted fifth (0.4 pCPU) is
 * below the guarantee: exactly 0.5 pCPU. Heavier (weight 1024: 1024/2048
 * of 2 pCPUs, more than the one pCPU it can use): one whole pCPU. */
static void test_dom0_guarantee_two_pcpus(void **st)
{
    (void)st;
    for (int heavy = 0; heavy < 2; heavy++) {
        struct fake_core fc;
        fair_new(&fc, 2);
        struct sched_domain *d0 = dom0(&fc, heavy ? 1024 : 256);
        fake_wake_domain(&fc, d0);
        for (int i = 0; i < 4; i++)
            hog(&fc, "g", 256, 0);
        fake_run(&fc, FV_SEC(1));
        print_message("dom0 weight %d, 2 pCPUs: %.3f ms\n", heavy ? 1024 : 256,
                      fake_dom_ns(&fc, d0) / 1e6);
        if (heavy)      /* by vt alone, but for the first slices (all at vt 0) */
            assert_true(fake_dom_ns(&fc, d0) >= FV_SEC(1) - TSLICE);
        else
            assert_int_equal(fake_dom_ns(&fc, d0), FV_MS(500));
        fake_sched_free(&fc);
    }
}

/* Domain-0 that works in short bursts (event-driven backends) never waits
 * while it is under its guarantee: it preempts the guest that runs. */
static void test_dom0_wakes_at_once(void **st)
{
    (void)st;
    struct fake_core fc;
    fair_new(&fc, 1);
    struct sched_unit *u0 = dom0(&fc, 256)->units[0];
    placed_blocked(&fc, u0);
    for (int i = 0; i < 3; i++)
        hog(&fc, "g", 256, 0);
    for (fv_ns_t t = FV_MS(100); t < FV_SEC(1); t += FV_US(700)) {
        fake_run(&fc, t);
        fake_wake(&fc, u0);
        fake_run(&fc, t);
        assert_ptr_equal(fc.s->pcpus[0].curr, u0);
        fake_run(&fc, t + FV_US(200));
        fake_block(&fc, u0);
    }
    fake_sched_free(&fc);
}

/* ---- 5. caps --------------------------------------------------------------- */

static void test_cap(void **st)
{
    (void)st;
    struct fake_core fc;
    fair_new(&fc, 1);
    struct sched_domain *c = hog(&fc, "capped", 256, 25);
    fake_run(&fc, FV_SEC(1));
    assert_int_equal(fake_dom_ns(&fc, c), FV_MS(250));  /* alone: parked, not run */
    fake_sched_free(&fc);

    fair_new(&fc, 1);
    c = hog(&fc, "capped", 256, 25);
    struct sched_domain *a = hog(&fc, "a", 256, 0), *b = hog(&fc, "b", 256, 0);
    fake_run(&fc, FV_SEC(1));
    print_message("cap 25 with two hogs: %.3f %.3f %.3f ms\n", fake_dom_ns(&fc, c) / 1e6,
                  fake_dom_ns(&fc, a) / 1e6, fake_dom_ns(&fc, b) / 1e6);
    assert_int_equal(fake_dom_ns(&fc, c), FV_MS(250));
    assert_int_equal(fake_dom_ns(&fc, a) + fake_dom_ns(&fc, b), FV_MS(750));
    assert_true(fake_dom_ns(&fc, a) >= FV_MS(375) - TSLICE &&
                fake_dom_ns(&fc, a) <= FV_MS(375) + TSLICE);
    fake_sched_free(&fc);
}

/* Two vCPUs, cap 150, two pCPUs to themselves: 1.5 pCPU, the pool shared
 * (both may draw the last of it at once: the header's overdraw). */
static void test_cap_two_vcpus(void **st)
{
    (void)st;
    struct fake_core fc;
    fair_new(&fc, 2);
    struct sched_dom_params p = dom_wc(256, 150);
    struct sched_domain *d = fake_add_domain(&fc, "two", 2, &p, NULL);
    fake_wake_domain(&fc, d);
    fake_run(&fc, FV_SEC(1));
    print_message("cap 150 over 2 vCPUs: %.3f ms\n", fake_dom_ns(&fc, d) / 1e6);
    /* Overdrawn by less than a slice per extra vCPU, repaid later. */
    assert_true(fake_dom_ns(&fc, d) >= FV_MS(1490) && fake_dom_ns(&fc, d) <= FV_MS(1500) + TSLICE);
    char err[256] = "";
    p.cap = 250;
    assert_null(sched_core_add_domain(fc.s, 9, "greedy", &p, 2, NULL, err, sizeof(err)));
    fake_sched_free(&fc);
}

/* ---- 6. adjust ------------------------------------------------------------- */

static void test_adjust(void **st)
{
    (void)st;
    struct fake_core fc;
    fair_new(&fc, 1);
    struct sched_domain *a = hog(&fc, "a", 256, 0), *b = hog(&fc, "b", 256, 0);
    fake_run(&fc, FV_SEC(1));
    fv_ns_t a0 = fake_dom_ns(&fc, a);
    struct sched_dom_params p = dom_wc(768, 0);
    assert_int_equal(fc.s->ops->adjust(fc.s, a, &p), 0);
    assert_int_equal(a->params.weight, 768);
    fake_run(&fc, FV_SEC(3));
    fv_ns_t ra = fake_dom_ns(&fc, a) - a0;
    assert_true(ra >= FV_MS(1500) - 2 * TSLICE && ra <= FV_MS(1500) + 2 * TSLICE);

    /* Cap on, then off. */
    p = dom_wc(256, 10);
    assert_int_equal(fc.s->ops->adjust(fc.s, b, &p), 0);
    fv_ns_t b0 = fake_dom_ns(&fc, b);
    fake_run(&fc, FV_SEC(4));
    fv_ns_t rb = fake_dom_ns(&fc, b) - b0;
    assert_true(rb <= FV_MS(100) + TSLICE);
    /* Off: parked time banked nothing (it comes back placed as a waker),
     * so b gets its quarter again, not a catch-up burst. */
    p.cap = 0;
    assert_int_equal(fc.s->ops->adjust(fc.s, b, &p), 0);
    b0 = fake_dom_ns(&fc, b);
    fake_run(&fc, FV_SEC(5));
    rb = fake_dom_ns(&fc, b) - b0;
    assert_true(rb >= FV_MS(250) - TSLICE && rb <= FV_MS(250) + TSLICE + BOOST);

    p = dom_wc(0, 0);
    assert_int_equal(fc.s->ops->adjust(fc.s, b, &p), -EINVAL);
    p = dom_wc(256, 101);
    assert_int_equal(fc.s->ops->adjust(fc.s, b, &p), -EINVAL);      /* one vCPU */
    fake_sched_free(&fc);
}

static void test_adjust_global(void **st)
{
    (void)st;
    struct fake_core fc;
    fair_new(&fc, 1);
    hog(&fc, "a", 256, 0);
    hog(&fc, "b", 256, 0);
    fake_run(&fc, FV_MS(100));
    struct sched_global_params gp = fair_gp(FV_MS(2), 0, 0);
    assert_int_equal(fc.s->ops->adjust_global(fc.s, &gp), 0);
    fake_run(&fc, fc.slice_end[0]);
    assert_int_equal(fc.slice_end[0] - fc.now, FV_MS(2));
    assert_int_equal(fc.s->gp.tslice, FV_MS(2));
    gp.tslice = FV_US(50);
    assert_int_equal(fc.s->ops->adjust_global(fc.s, &gp), -EINVAL);
    gp = fair_gp(FV_MS(5), BOOST, FV_MS(20));
    assert_int_equal(fc.s->ops->adjust_global(fc.s, &gp), -EINVAL);     /* budget > period */
    fake_sched_free(&fc);
}

/* ---- 7. parameters --------------------------------------------------------- */

static void expect_global_err(struct sched_global_params gp, const char *msg)
{
    char err[256] = "";
    assert_int_not_equal(sched_find("fair")->check_global(&gp, err, sizeof(err)), 0);
    print_message("check_global: %s\n", err);
    assert_string_equal(err, msg);
}

static void test_params(void **st)
{
    (void)st;
    const struct sched_ops *ops = sched_find("fair");
    assert_non_null(ops);
    assert_true(ops->chargeback);
    assert_false(sched_find("credit")->chargeback);
    struct sched_global_params gp;
    sched_global_defaults(ops, &gp);
    assert_int_equal(gp.tslice, FV_MS(5));
    assert_int_equal(gp.boost, FV_MS(1));
    assert_int_equal(gp.dom0_budget, FV_MS(5));
    assert_int_equal(gp.dom0_period, FV_MS(10));
    char err[256];
    assert_int_equal(ops->check_global(&gp, err, sizeof(err)), 0);
    gp.boost = 0;
    gp.dom0_budget = 0;
    assert_int_equal(ops->check_global(&gp, err, sizeof(err)), 0);

    sched_global_defaults(ops, &gp);
    gp.tslice = FV_US(50);
    expect_global_err(gp, "tslice 50us out of range (expected 100us..1000ms)");
    sched_global_defaults(ops, &gp);
    assert_int_equal(gp.ratelimit, 0);
    gp.ratelimit = FV_US(50);
    expect_global_err(gp, "ratelimit 50us out of range (expected 0 for off, or 100us..500ms)");
    gp.ratelimit = FV_MS(6);
    expect_global_err(gp, "ratelimit 6ms exceeds tslice 5ms (expected ratelimit <= tslice)");
    sched_global_defaults(ops, &gp);
    gp.boost = FV_SEC(2);
    expect_global_err(gp, "boost 2000ms out of range (expected 0 for none, or 0ms..1000ms)");
    sched_global_defaults(ops, &gp);
    gp.dom0_budget = FV_MS(11);
    expect_global_err(gp, "dom0_budget 11ms exceeds dom0_period 10ms (expected 0 for none, "
                          "or dom0_budget <= dom0_period)");
    sched_global_defaults(ops, &gp);
    gp.dom0_period = FV_US(10);
    gp.dom0_budget = 0;
    expect_global_err(gp, "dom0_period 10us out of range (expected 100us..1000ms)");

    struct sched_dom_params p = dom_wc(0, 0);
    assert_int_not_equal(ops->check_dom(&p, err, sizeof(err)), 0);
    assert_string_equal(err, "weight 0 out of range (expected 1..65535)");
    p = dom_wc(256, 30000);
    assert_int_not_equal(ops->check_dom(&p, err, sizeof(err)), 0);
    assert_non_null(sched_param_find(ops->dom_params, "weight"));
    assert_non_null(sched_param_find(ops->dom_params, "cap"));
    assert_non_null(sched_param_find(ops->global_params, "boost"));
}

/* ---- 8. entitle ------------------------------------------------------------ */

static void test_entitle(void **st)
{
    (void)st;
    struct fake_core fc;
    fair_new(&fc, 1);
    struct sched_domain *d0 = dom0(&fc, 256);
    struct sched_domain *g[3] = { hog(&fc, "g0", 256, 0), hog(&fc, "g1", 256, 0),
                                  hog(&fc, "g2", 256, 0) };
    fake_run(&fc, FV_MS(100));
    struct sched_demand d[4] = { { d0, 1.0, 0 }, { g[0], 1.0, 0 }, { g[1], 1.0, 0 },
                                 { g[2], 1.0, 0 } };
    sched_core_entitle(fc.s, d, 4);
    assert_float_equal(d[0].entitled, 0.5, 1e-12);      /* the guarantee, not a quarter */
    for (int i = 1; i < 4; i++)
        assert_float_equal(d[i].entitled, 0.5 / 3, 1e-12);
    /* Charge-back: g0 was charged 10 ms of the next 100 ms. Capacity 1.1
     * (water-filling gives each 0.275); Domain-0 gets 0.5; the guests
     * share 0.6: 0.2 each, g0 promised that less its 0.1. */
    fake_run(&fc, FV_MS(200));
    sched_core_charge_domain(fc.s, g[0], FV_MS(10));
    sched_core_entitle(fc.s, d, 4);
    assert_float_equal(d[0].entitled, 0.5, 1e-12);
    assert_float_equal(d[1].entitled, 0.1, 1e-12);
    assert_float_equal(d[2].entitled, 0.2, 1e-12);
    assert_float_equal(d[1].demand, 1.0, 1e-12);        /* given back as it was */
    assert_int_equal(g[0]->charged_iv, 0);
    assert_int_equal(g[0]->charged_ns, FV_MS(10));
    fake_sched_free(&fc);
}

/* ---- 9. determinism and no idling while work waits ------------------------- */

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static bool idle_while_runnable(struct fake_core *fc)
{
    for (int c = 0; c < fc->s->nr_cpus; c++) {
        if (fc->s->pcpus[c].curr)
            continue;
        for (int i = 0; i < fc->s->nr_units; i++) {
            struct sched_unit *u = fc->s->units[i];
            if (u->runnable && !u->is_running && !u->dom->params.cap &&
                cpumask_test(&u->affinity, c))
                return true;
        }
    }
    return false;
}

static void random_run(struct fake_core *fc, uint64_t seed, bool check)
{
    uint64_t x = 0x9E3779B97F4A7C15ULL * seed;
    int ncpus = 1 + (int)(xorshift(&x) % 6);
    struct sched_global_params gp = fair_gp(FV_US(100 + (int64_t)(xorshift(&x) % 20000)),
                                            FV_US((int64_t)(xorshift(&x) % 3000)), FV_MS(3));
    fake_sched_new(fc, "fair", ncpus, &gp);
    if (xorshift(&x) % 2)
        fake_wake_domain(fc, dom0(fc, 256));
    int nd = 1 + (int)(xorshift(&x) % 8);
    for (int i = 0; i < nd; i++) {
        int nv = 1 + (int)(xorshift(&x) % 3);
        struct sched_dom_params p = dom_wc(1 + (uint32_t)(xorshift(&x) % 1000), 0);
        if (xorshift(&x) % 4 == 0)
            p.cap = 10 + (uint32_t)(xorshift(&x) % (uint64_t)(nv * 90));
        fv_cpumask_t m;
        cpumask_clear_all(&m);
        if (xorshift(&x) % 3 == 0)
            for (int c = 0; c < ncpus; c++)
                if (xorshift(&x) % 2)
                    cpumask_set(&m, c);
        fake_wake_domain(fc, fake_add_domain(fc, "r", nv, &p, cpumask_empty(&m) ? NULL : &m));
    }
    for (fv_ns_t t = 0; t < FV_SEC(2);) {
        t += FV_US(1 + (int64_t)(xorshift(&x) % 5000));
        fake_run(fc, t);
        struct sched_unit *u = fc->s->units[xorshift(&x) % (uint64_t)fc->s->nr_units];
        switch (xorshift(&x) % 5) {
        case 0: fake_block(fc, u); break;
        case 1: fake_wake(fc, u); break;
        case 2: if (u->is_running) sched_core_yield(fc->s, u, fc->now); break;
        case 3: sched_core_charge_domain(fc->s, u->dom, (fv_ns_t)(xorshift(&x) % 500000)); break;
        default: break;
        }
        fake_run(fc, t);
        if (check)
            assert_false(idle_while_runnable(fc));
    }
}

static void test_random_no_idle_while_runnable(void **st)
{
    (void)st;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        struct fake_core fc;
        random_run(&fc, seed, true);
        fake_sched_free(&fc);
    }
}

static void test_deterministic(void **st)
{
    (void)st;
    static struct fake_core a, b;
    random_run(&a, 7, false);
    random_run(&b, 7, false);
    assert_memory_equal(a.run_ns, b.run_ns, sizeof(a.run_ns));
    assert_int_equal(a.nr_schedules, b.nr_schedules);
    fake_sched_free(&a);
    fake_sched_free(&b);
}

/* ---- 10. many domains waking at once, in the virtual-time engine ----------- */

/* Eight probes (cpu-periodic: 200 us every 10 ms, all released together)
 * and a hog on one pCPU; probe k has weight 256 x (k + 1), so for the same
 * CPU the heavier has used less for its weight. Credit BOOSTs all eight
 * (each is under its share: 2% against 256/9472 = 2.7% for the lightest)
 * and runs them first come, first served: in the order they first ran
 * (domain order), probe k waiting exactly k bursts every period. Fair runs
 * them by virtual time: the heaviest first, never waiting, probe k
 * waiting exactly 7 - k bursts. */
static void many_wake(const char *policy, fv_ns_t max_ns[8])
{
    struct scenario *s = scn_build(policy, 1, FV_SEC(2));
    for (int k = 0; k < 8; k++) {
        char name[16];
        snprintf(name, sizeof(name), "probe%d", k);
        struct scn_domain *d = scn_build_dom(s, name, "cpu-periodic");
        scn_build_set(d, "period", FV_MS(10));
        scn_build_set(d, "burst", FV_US(200));
        d->sp.weight = 256 * (uint32_t)(k + 1);
    }
    scn_build_dom(s, "hog", "cpu-hog");
    struct run_result r;
    tu_sim_ok(s, &r, NULL);
    for (int k = 0; k < 8; k++) {
        const struct fv_hist *h = &r.doms[k].wakeup;
        assert_true(h->count >= 199);
        max_ns[k] = (fv_ns_t)h->max;
        /* The same wait nearly every period (the first may differ). */
        assert_true(h->sum >= (h->count - 1) * h->max);
    }
    print_message("%s: wake-up latency of probes 0..7 (weights 256..2048):", policy);
    for (int k = 0; k < 8; k++)
        print_message(" %.1f", max_ns[k] / 1e3);
    print_message(" us\n");
    run_result_free(&r);
    scn_build_free(s);
}

static void test_many_wake_sim(void **st)
{
    (void)st;
    fv_ns_t credit[8], fair[8];
    many_wake("credit", credit);
    many_wake("fair", fair);
    for (int k = 0; k < 8; k++) {
        assert_int_equal(credit[k], k * FV_US(200));
        assert_int_equal(fair[k], (7 - k) * FV_US(200));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_1_3),
        cmocka_unit_test(test_balance_two_pcpus),
        cmocka_unit_test(test_charge_costs_share),
        cmocka_unit_test(test_charge_exact),
        cmocka_unit_test(test_wake_preempts_bounded),
        cmocka_unit_test(test_periodic_waker_latency),
        cmocka_unit_test(test_many_wake_least_vt_first),
        cmocka_unit_test(test_ratelimit),
        cmocka_unit_test(test_sleeper_lead_bounded),
        cmocka_unit_test(test_dom0_guarantee),
        cmocka_unit_test(test_dom0_guarantee_two_pcpus),
        cmocka_unit_test(test_dom0_wakes_at_once),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_cap_two_vcpus),
        cmocka_unit_test(test_adjust),
        cmocka_unit_test(test_adjust_global),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_entitle),
        cmocka_unit_test(test_random_no_idle_while_runnable),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_many_wake_sim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
