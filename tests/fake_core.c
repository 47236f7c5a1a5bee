/* fake_core.c — see fake_core.h. Single-threaded; timers in a flat array
 * (tests use a handful), ties broken by arming order. */
#include "fake_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fv_ns_t fc_now(void *ctx) { return ((struct fake_core *)ctx)->now; }

static void fc_tickle(void *ctx, int cpu)
{
    struct fake_core *fc = ctx;
    cpumask_set(&fc->tickled, cpu);
    fc->nr_tickles++;
}

static void fc_timer_stop(void *ctx, struct sched_timer *t)
{
    struct fake_core *fc = ctx;
    if (t->heap_idx < 0)
        return;
    int i = (int)t->heap_idx;
    fc->timers[i] = fc->timers[--fc->nr_timers];
    fc->timers[i]->heap_idx = i;
    t->heap_idx = -1;
}

static void fc_timer_set(void *ctx, struct sched_timer *t, fv_ns_t when)
{
    struct fake_core *fc = ctx;
    fc_timer_stop(ctx, t);
    if (fc->nr_timers >= FAKE_MAX_TIMERS) {
        fprintf(stderr, "fake_core: too many timers\n");
        abort();
    }
    t->expires = when;
    t->seq = fc->timer_seq++;
    t->heap_idx = fc->nr_timers;
    fc->timers[fc->nr_timers++] = t;
}

static const struct sched_core_ops fake_ops = {
    .now = fc_now, .tickle = fc_tickle, .timer_set = fc_timer_set, .timer_stop = fc_timer_stop,
};

struct scheduler *fake_sched_new(struct fake_core *fc, const char *name, int ncpus,
                                 const struct sched_global_params *gp)
{
    memset(fc, 0, sizeof(*fc));
    struct sched_global_params zero = { 0 };
    const struct sched_ops *ops = sched_find(name);
    char err[256] = "";
    if (!ops) {
        fprintf(stderr, "fake_core: no policy %s\n", name);
        abort();
    }
    for (int c = 0; c < FV_MAX_PCPUS; c++)
        fc->slice_end[c] = FV_NS_NEVER;
    fc->s = sched_core_create(ops, ncpus, gp ? gp : &zero, &fake_ops, fc, err, sizeof(err));
    if (!fc->s) {
        fprintf(stderr, "fake_core: %s\n", err);
        abort();
    }
    return fc->s;
}

struct sched_domain *fake_add_domain(struct fake_core *fc, const char *name, int nvcpus,
                                     const struct sched_dom_params *p, const fv_cpumask_t *pin)
{
    struct sched_dom_params def = {
        .weight = SCHED_DEFAULT_WEIGHT, .period = SCHED_DEFAULT_PERIOD,
        .budget = SCHED_DEFAULT_BUDGET, .extratime = true,
    };
    char err[256] = "";
    struct sched_domain *d = sched_core_add_domain(fc->s, fc->s->nr_doms + 1, name,
                                                   p ? p : &def, nvcpus, pin, err, sizeof(err));
    if (!d) {
        fprintf(stderr, "fake_core: %s\n", err);
        abort();
    }
    return d;
}

void fake_wake(struct fake_core *fc, struct sched_unit *u) { sched_core_wake(fc->s, u, fc->now); }
void fake_block(struct fake_core *fc, struct sched_unit *u) { sched_core_sleep(fc->s, u, fc->now); }

void fake_wake_domain(struct fake_core *fc, struct sched_domain *d)
{
    for (int i = 0; i < d->nr_units; i++)
        fake_wake(fc, d->units[i]);
}

static void account(struct fake_core *fc, int cpu)
{
    struct sched_unit *u = fc->s->pcpus[cpu].curr;
    if (u)
        fc->run_ns[u->id] += fc->now - fc->run_start[cpu];
    fc->run_start[cpu] = fc->now;
}

static void do_tickles(struct fake_core *fc)
{
    while (!cpumask_empty(&fc->tickled)) {
        int cpu = cpumask_next(&fc->tickled, 0);
        cpumask_clear(&fc->tickled, cpu);
        account(fc, cpu);
        struct sched_decision d = sched_core_schedule(fc->s, cpu, fc->now, NULL);
        fc->nr_schedules++;
        fc->slice_end[cpu] = d.runtime < 0 ? FV_NS_NEVER : fc->now + d.runtime;
    }
}

void fake_run(struct fake_core *fc, fv_ns_t until)
{
    do_tickles(fc);
    for (;;) {
        /* Earliest of: policy timers (by expiry, then arming order), slice ends. */
        struct sched_timer *t = NULL;
        for (int i = 0; i < fc->nr_timers; i++) {
            struct sched_timer *x = fc->timers[i];
            if (!t || x->expires < t->expires || (x->expires == t->expires && x->seq < t->seq))
                t = x;
        }
        int cpu = -1;
        for (int c = 0; c < fc->s->nr_cpus; c++)
            if (fc->slice_end[c] != FV_NS_NEVER && (cpu < 0 || fc->slice_end[c] < fc->slice_end[cpu]))
                cpu = c;
        fv_ns_t when = FV_NS_NEVER;
        if (t)
            when = t->expires;
        if (cpu >= 0 && fc->slice_end[cpu] < when)
            when = fc->slice_end[cpu], t = NULL;
        if (when > until)
            break;
        if (when > fc->now)
            fc->now = when;
        for (int c = 0; c < fc->s->nr_cpus; c++)
            account(fc, c);
        if (t) {
            fc_timer_stop(fc, t);
            t->fn(fc->s, t, fc->now);
        } else {
            fc->slice_end[cpu] = FV_NS_NEVER;
            cpumask_set(&fc->tickled, cpu);
        }
        do_tickles(fc);
    }
    fc->now = until;
    for (int c = 0; c < fc->s->nr_cpus; c++)
        account(fc, c);
}

void fake_churn(struct fake_core *fc, int steps, int stride, fv_ns_t period)
{
    for (int step = 1; step <= steps; step++) {
        struct sched_unit *u = fc->s->units[(step * stride) % fc->s->nr_units];
        if (u->runnable)
            fake_block(fc, u);
        else
            fake_wake(fc, u);
        fake_run(fc, period * step);
    }
}

fv_ns_t fake_dom_ns(struct fake_core *fc, const struct sched_domain *d)
{
    fv_ns_t sum = 0;
    for (int i = 0; i < d->nr_units; i++)
        sum += fc->run_ns[d->units[i]->id];
    return sum;
}

void fake_sched_free(struct fake_core *fc)
{
    sched_core_destroy(fc->s);
    fc->s = NULL;
}
