/* schedule.c — the engine-independent scheduling core. See schedule.h.
 *
 * Locking: every function here is called with the scheduler lock held by the
 * engine (none in the sim engine, which has one thread).
 */
#include "schedule.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int check_ops(const struct sched_ops *ops, char *err, size_t errlen)
{
    const char *missing = !ops->init ? "init" : !ops->deinit ? "deinit"
                        : !ops->alloc_udata ? "alloc_udata" : !ops->free_udata ? "free_udata"
                        : !ops->do_schedule ? "do_schedule" : !ops->pick_pcpu ? "pick_pcpu" : NULL;
    if (missing) {
        snprintf(err, errlen, "policy '%s' lacks the mandatory hook %s", ops->name, missing);
        return -EINVAL;
    }
    return 0;
}

struct scheduler *sched_core_create(const struct sched_ops *ops, int nr_cpus,
                                    const struct sched_global_params *gp,
                                    const struct sched_core_ops *core, void *core_ctx,
                                    char *err, size_t errlen)
{
    errno = EINVAL;
    if (check_ops(ops, err, errlen))
        return NULL;
    if (nr_cpus < 1 || nr_cpus > FV_MAX_PCPUS) {
        snprintf(err, errlen, "pcpus must be 1..%d, got %d", FV_MAX_PCPUS, nr_cpus);
        return NULL;
    }
    if (ops->check_global && ops->check_global(gp, err, errlen))
        return NULL;

    struct scheduler *s = calloc(1, sizeof(*s));
    if (!s)
        goto fail_alloc;
    s->pcpus = calloc((size_t)nr_cpus, sizeof(*s->pcpus));
    if (!s->pcpus)
        goto fail_pcpus;
    s->ops = ops;
    s->nr_cpus = nr_cpus;
    s->gp = *gp;
    s->core = core;
    s->core_ctx = core_ctx;
    for (int c = 0; c < nr_cpus; c++)
        s->pcpus[c].cpu = c;

    if (ops->init(s)) {
        snprintf(err, errlen, "policy '%s' failed to initialise", ops->name);
        goto fail_init;
    }
    for (int c = 0; c < nr_cpus; c++) {
        if (ops->alloc_pdata && ops->alloc_pdata(s, c)) {
            snprintf(err, errlen, "policy '%s': no per-pCPU data for cpu %d", ops->name, c);
            for (int k = 0; k < c; k++)
                if (ops->free_pdata)
                    ops->free_pdata(s, k);
            goto fail_pdata;
        }
    }
    return s;

fail_pdata:
    ops->deinit(s);
fail_init:
    free(s->pcpus);
fail_pcpus:
    free(s);
fail_alloc:
    if (!err[0])
        snprintf(err, errlen, "out of memory");
    errno = ENOMEM;             /* the hooks fail only for want of memory */
    return NULL;
}

static int grow(void *pp, int n, size_t elem)
{
    /* Doubling capacity, tracked implicitly: grow when n is a power of two. */
    void **p = pp;
    if (n & (n - 1))
        return 0;
    void *np = realloc(*p, (size_t)(n ? 2 * n : 1) * elem);
    if (!np)
        return -ENOMEM;
    *p = np;
    return 0;
}

struct sched_domain *sched_core_add_domain(struct scheduler *s, int domid, const char *name,
                                           const struct sched_dom_params *p, int nr_units,
                                           const fv_cpumask_t *affinity,
                                           char *err, size_t errlen)
{
    const struct sched_ops *ops = s->ops;
    errno = EINVAL;
    if (ops->check_dom && ops->check_dom(p, err, errlen))
        return NULL;
    if (nr_units < 1) {
        snprintf(err, errlen, "domain %s: vcpus must be >= 1", name);
        return NULL;
    }
    struct sched_domain *d = calloc(1, sizeof(*d));
    if (!d)
        goto oom;
    d->units = calloc((size_t)nr_units, sizeof(*d->units));
    if (!d->units)
        goto oom_d;
    d->id = domid;
    d->name = name;
    d->params = *p;
    d->nr_units = nr_units;
    if (grow(&s->doms, s->nr_doms, sizeof(*s->doms)))
        goto oom_units;
    if (ops->alloc_domdata && ops->alloc_domdata(s, d)) {
        snprintf(err, errlen, "domain %s: policy refused its data", name);
        goto fail_units;
    }
    s->doms[s->nr_doms++] = d;

    for (int i = 0; i < nr_units; i++) {
        struct sched_unit *u = calloc(1, sizeof(*u));
        if (!u || grow(&s->units, s->nr_units, sizeof(*s->units))) {
            free(u);
            goto oom;   /* the instance is unusable now; the caller destroys it */
        }
        u->id = s->nr_units;
        u->vcpu_id = i;
        u->dom = d;
        if (affinity && !cpumask_empty(affinity))
            u->affinity = *affinity;
        else
            cpumask_fill(&u->affinity, s->nr_cpus);
        u->cpu = cpumask_next(&u->affinity, 0);
        if (ops->alloc_udata(s, u)) {
            free(u);
            snprintf(err, errlen, "domain %s: policy refused vCPU %d", name, i);
            errno = ENOMEM;
            return NULL;
        }
        d->units[i] = u;
        s->units[s->nr_units++] = u;
        u->cpu = ops->pick_pcpu(s, u);
        if (ops->insert_unit)
            ops->insert_unit(s, u);
    }
    return d;

fail_units:
    free(d->units);
    free(d);
    errno = ENOMEM;             /* alloc hooks fail only for want of memory */
    return NULL;
oom_units:
    free(d->units);
oom_d:
    free(d);
oom:
    snprintf(err, errlen, "out of memory adding domain %s", name);
    errno = ENOMEM;
    return NULL;
}

void sched_core_remove_domain(struct scheduler *s, struct sched_domain *d)
{
    const struct sched_ops *ops = s->ops;
    if (d->dead)
        return;
    for (int i = 0; ops->remove_unit && i < d->nr_units; i++)
        ops->remove_unit(s, d->units[i]);
    for (int i = 0; i < d->nr_units; i++) {
        ops->free_udata(s, d->units[i]);
        d->units[i]->priv = NULL;
    }
    if (ops->free_domdata)
        ops->free_domdata(s, d);
    d->priv = NULL;
    d->dead = true;
}

int sched_core_adjust(struct scheduler *s, struct sched_domain *d, const struct sched_dom_params *p)
{
    if (!s->ops->adjust)
        return -ENOTSUP;
    int rc = s->ops->adjust(s, d, p);
    if (!rc)
        d->params = *p;
    return rc;
}

int sched_core_adjust_global(struct scheduler *s, const struct sched_global_params *gp)
{
    if (!s->ops->adjust_global)
        return -ENOTSUP;
    int rc = s->ops->adjust_global(s, gp);
    if (!rc)
        s->gp = *gp;
    return rc;
}

void sched_core_destroy(struct scheduler *s)
{
    if (!s)
        return;
    const struct sched_ops *ops = s->ops;
    /* Every unit is removed before any is freed: a policy's remove_unit
     * may walk its own lists of the others. Units of domains removed at
     * run time are out of the policy already. */
    for (int i = 0; ops->remove_unit && i < s->nr_units; i++)
        if (!s->units[i]->dom->dead)
            ops->remove_unit(s, s->units[i]);
    for (int i = 0; i < s->nr_units; i++) {
        if (!s->units[i]->dom->dead)
            ops->free_udata(s, s->units[i]);
        free(s->units[i]);
    }
    for (int i = 0; i < s->nr_doms; i++) {
        struct sched_domain *d = s->doms[i];
        if (ops->free_domdata && !d->dead)
            ops->free_domdata(s, d);
        free(d->units);
        free(d);
    }
    for (int c = 0; c < s->nr_cpus; c++)
        if (ops->free_pdata)
            ops->free_pdata(s, c);
    ops->deinit(s);
    free(s->units);
    free(s->doms);
    free(s->pcpus);
    free(s);
}

void sched_core_wake(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    if (u->runnable)
        return;
    u->runnable = true;
    u->state_since = now;
    if (s->ops->wake)
        s->ops->wake(s, u, now);
    else
        sched_tickle(s, u->cpu);
}

void sched_core_sleep(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    if (!u->runnable)
        return;
    u->runnable = false;
    u->state_since = now;
    if (s->ops->sleep)
        s->ops->sleep(s, u, now);
    if (u->is_running)
        sched_tickle(s, u->cpu);
}

void sched_core_yield(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    (void)now;
    if (s->ops->yield)
        s->ops->yield(s, u);
    if (u->is_running)
        sched_tickle(s, u->cpu);
}

struct sched_decision sched_core_schedule(struct scheduler *s, int cpu, fv_ns_t now,
                                          struct sched_unit **prev)
{
    struct sched_pcpu *pc = &s->pcpus[cpu];
    struct sched_unit *old = pc->curr;
    struct sched_decision dec = s->ops->do_schedule(s, cpu, now);
    struct sched_unit *next = dec.next;

    /* A policy may only pick a runnable unit that is not running elsewhere
     * and whose hard affinity allows this cpu; anything else is a policy
     * bug that would corrupt the engine, so it is caught here, once. */
    if (next && (!next->runnable || (next->is_running && next != old) ||
                 !cpumask_test(&next->affinity, cpu))) {
        fprintf(stderr, "fairvisor: policy %s chose an impossible vCPU %s.%d for cpu %d\n",
                s->ops->name, next->dom->name, next->vcpu_id, cpu);
        abort();
    }
    if (old != next) {
        if (old) {
            old->is_running = false;
            old->state_since = now;
        }
        if (next) {
            next->is_running = true;
            next->cpu = cpu;
            next->state_since = now;
        }
        pc->curr = next;
    }
    if (prev)
        *prev = old;
    return dec;
}

fv_ns_t sched_core_charge(struct scheduler *s, struct sched_unit *u, fv_ns_t ns)
{
    if (!s->ops->charge || ns <= 0)
        return 0;
    s->ops->charge(s, u, ns);
    u->dom->charged_ns += ns;
    u->dom->charged_iv += ns;
    return ns;
}

fv_ns_t sched_core_charge_domain(struct scheduler *s, struct sched_domain *d, fv_ns_t ns)
{
    if (!s->ops->charge || ns <= 0)
        return 0;
    int runnable = 0;
    for (int i = 0; i < d->nr_units; i++)
        runnable += d->units[i]->runnable;
    if (!runnable)
        return sched_core_charge(s, d->units[0], ns);
    fv_ns_t each = ns / runnable, odd = ns % runnable, done = 0;
    for (int i = 0; i < d->nr_units; i++) {
        if (!d->units[i]->runnable)
            continue;
        done += sched_core_charge(s, d->units[i], each + (odd > 0));
        odd--;
    }
    return done;
}

void sched_core_entitle(struct scheduler *s, struct sched_demand *d, int n)
{
    fv_ns_t now = sched_now(s), len = now - s->entitle_at;
    double extra = 0.0;
    s->entitle_at = now;
    for (int i = 0; i < n && len > 0; i++) {
        if (!d[i].dom->charged_iv)
            continue;
        double c = (double)d[i].dom->charged_iv / (double)len;
        d[i].demand += c;
        extra += c;
    }
    s->entitle_capacity = (double)s->nr_cpus + extra;
    if (s->ops->entitle)
        s->ops->entitle(s, d, n);
    else
        sched_waterfill(d, n, s->entitle_capacity);
    for (int i = 0; i < n && len > 0; i++) {
        if (!d[i].dom->charged_iv)
            continue;
        double c = (double)d[i].dom->charged_iv / (double)len;
        d[i].demand -= c;
        d[i].entitled = d[i].entitled > c ? d[i].entitled - c : 0.0;
    }
    for (int i = 0; i < s->nr_doms; i++)
        s->doms[i]->charged_iv = 0;
}
