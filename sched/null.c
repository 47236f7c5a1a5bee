/* null.c — the null policy: every pCPU owns at most one vCPU, no time
 * sharing, after Xen's xen/common/sched/null.c (Dario Faggioli).
 *
 * A vCPU is assigned a free pCPU of its hard affinity when it is inserted;
 * if none is free it waits in one global FIFO queue. An assignment lasts
 * until the vCPU is removed: when its owner blocks, the pCPU idles (it is
 * not lent to anyone), exactly as in Xen. When a vCPU is removed, its pCPU
 * goes to the first waiter whose affinity allows it. An assigned vCPU runs
 * with no time limit (runtime -1): only blocking or removal stop it.
 *
 * Charge-back: nothing to charge (no charge hook; `charged_ns` stays 0):
 * a vCPU owns its pCPU outright and no time is shared, so there is no
 * share to debit.
 *
 * Locking: the core calls every hook with the scheduler lock held (no lock
 * in the single-threaded sim engine); the wait queue, the free mask and the
 * per-pCPU owners are only touched under it. Nothing here blocks or calls
 * into the core except tickle.
 *
 * Deliberate deviations from Xen:
 *  - Xen's null also re-assigns on vCPU migration and cpupool changes, and
 *    prefers soft affinity; fairvisor has neither, so only hard affinity
 *    counts and assignments change only through insert/remove.
 *  - A vCPU removed at run time (sched_core_remove_domain) has been
 *    descheduled first: the engine blocks it and lets its pCPU reschedule.
 *  - entitle uses the assignment at the moment it is asked (Xen has no
 *    notion of entitlement).
 */
#include "sched.h"

#include <errno.h>
#include <stdlib.h>

/* ---- data ------------------------------------------------------------- */

struct null_unit {
    struct sched_unit *unit;
    int assigned;                   /* owning pCPU, or -1 */
    struct null_unit *wq_next;      /* wait queue link while waiting */
    bool waiting;
};

struct null_pcpu {
    struct sched_unit *owner;       /* assigned vCPU, NULL = free */
};

struct null_private {
    struct null_unit *wq_head;      /* FIFO of vCPUs without a pCPU */
    struct null_unit **wq_tail;
    fv_cpumask_t cpus_free;         /* pCPUs with no owner */
};

/* ---- helpers ---------------------------------------------------------- */

static inline struct null_private *null_priv(const struct scheduler *s) { return s->priv; }
static inline struct null_unit *null_unit(const struct sched_unit *u) { return u->priv; }
static inline struct null_pcpu *null_pcpu(const struct scheduler *s, int cpu)
{
    return s->pcpus[cpu].priv;
}

static void wq_append(struct null_private *prv, struct null_unit *nu)
{
    nu->wq_next = NULL;
    *prv->wq_tail = nu;
    prv->wq_tail = &nu->wq_next;
    nu->waiting = true;
}

static void wq_remove(struct null_private *prv, struct null_unit *nu)
{
    struct null_unit **pp = &prv->wq_head;
    while (*pp && *pp != nu)
        pp = &(*pp)->wq_next;
    if (!*pp)
        return;
    *pp = nu->wq_next;
    if (prv->wq_tail == &nu->wq_next)
        prv->wq_tail = pp;
    nu->wq_next = NULL;
    nu->waiting = false;
}

static void null_assign(struct scheduler *s, struct null_unit *nu, int cpu)
{
    null_pcpu(s, cpu)->owner = nu->unit;
    cpumask_clear(&null_priv(s)->cpus_free, cpu);
    nu->assigned = cpu;
}

static void null_unassign(struct scheduler *s, struct null_unit *nu)
{
    int cpu = nu->assigned;
    null_pcpu(s, cpu)->owner = NULL;
    cpumask_set(&null_priv(s)->cpus_free, cpu);
    nu->assigned = -1;
}

/* A free pCPU in u's affinity, preferring u->cpu; -1 if none. */
static int null_free_cpu(struct scheduler *s, const struct sched_unit *u)
{
    const fv_cpumask_t *free_mask = &null_priv(s)->cpus_free;
    if (u->cpu >= 0 && u->cpu < s->nr_cpus && cpumask_test(free_mask, u->cpu) &&
        cpumask_test(&u->affinity, u->cpu))
        return u->cpu;
    cpumask_for_each(cpu, free_mask) {
        if (cpu >= s->nr_cpus)
            break;
        if (cpumask_test(&u->affinity, cpu))
            return cpu;
    }
    return -1;
}

/* Give a free pCPU to the first waiter that may run there (FIFO order). */
static struct null_unit *wq_take_for(struct scheduler *s, int cpu)
{
    struct null_private *prv = null_priv(s);
    for (struct null_unit *nu = prv->wq_head; nu; nu = nu->wq_next) {
        if (cpumask_test(&nu->unit->affinity, cpu)) {
            wq_remove(prv, nu);
            null_assign(s, nu, cpu);
            return nu;
        }
    }
    return NULL;
}

/* ---- ops -------------------------------------------------------------- */

static int null_init(struct scheduler *s)
{
    struct null_private *prv = calloc(1, sizeof(*prv));
    if (!prv)
        return -ENOMEM;
    prv->wq_tail = &prv->wq_head;
    s->priv = prv;
    return 0;
}

static void null_deinit(struct scheduler *s)
{
    free(s->priv);
    s->priv = NULL;
}

static int null_alloc_pdata(struct scheduler *s, int cpu)
{
    struct null_pcpu *pc = calloc(1, sizeof(*pc));
    if (!pc)
        return -ENOMEM;
    s->pcpus[cpu].priv = pc;
    cpumask_set(&null_priv(s)->cpus_free, cpu);
    return 0;
}

static void null_free_pdata(struct scheduler *s, int cpu)
{
    free(s->pcpus[cpu].priv);
    s->pcpus[cpu].priv = NULL;
    cpumask_clear(&null_priv(s)->cpus_free, cpu);
}

static int null_alloc_udata(struct scheduler *s, struct sched_unit *u)
{
    (void)s;
    struct null_unit *nu = calloc(1, sizeof(*nu));
    if (!nu)
        return -ENOMEM;
    nu->unit = u;
    nu->assigned = -1;
    u->priv = nu;
    return 0;
}

static void null_free_udata(struct scheduler *s, struct sched_unit *u)
{
    (void)s;
    free(u->priv);
    u->priv = NULL;
}

/* Its own pCPU if assigned; else a free one; else any allowed one (it will
 * wait in the queue, and u->cpu only says where it would like to go). */
static int null_pick_pcpu(struct scheduler *s, struct sched_unit *u)
{
    struct null_unit *nu = null_unit(u);
    if (nu->assigned >= 0)
        return nu->assigned;
    int cpu = null_free_cpu(s, u);
    if (cpu >= 0)
        return cpu;
    if (u->cpu >= 0 && u->cpu < s->nr_cpus && cpumask_test(&u->affinity, u->cpu))
        return u->cpu;
    return cpumask_next(&u->affinity, 0);
}

static void null_insert_unit(struct scheduler *s, struct sched_unit *u)
{
    struct null_unit *nu = null_unit(u);
    int cpu = null_free_cpu(s, u);
    if (cpu < 0) {
        wq_append(null_priv(s), nu);
        return;
    }
    null_assign(s, nu, cpu);
    if (u->runnable)
        sched_tickle(s, cpu);
}

/* Free its pCPU (or its place in the queue); the pCPU goes to the first
 * waiter that may use it, and reschedules either way. */
static void null_remove_unit(struct scheduler *s, struct sched_unit *u)
{
    struct null_unit *nu = null_unit(u);
    if (nu->waiting)
        wq_remove(null_priv(s), nu);
    if (nu->assigned < 0)
        return;
    int cpu = nu->assigned;
    null_unassign(s, nu);
    wq_take_for(s, cpu);
    sched_tickle(s, cpu);
}

/* Its own pCPU if it has one; a waiter only gets a pCPU that is free, so
 * tickle one of those (its do_schedule takes from the queue). */
static void null_wake(struct scheduler *s, struct sched_unit *u, fv_ns_t now)
{
    (void)now;
    struct null_unit *nu = null_unit(u);
    if (nu->assigned >= 0) {
        if (!u->is_running)
            sched_tickle(s, nu->assigned);
        return;
    }
    int cpu = null_free_cpu(s, u);
    if (cpu >= 0)
        sched_tickle(s, cpu);
}

static struct sched_decision null_do_schedule(struct scheduler *s, int cpu, fv_ns_t now)
{
    (void)now;
    struct null_pcpu *pc = null_pcpu(s, cpu);
    if (!pc->owner)
        wq_take_for(s, cpu);
    struct sched_unit *owner = pc->owner;
    if (owner && owner->runnable)
        return (struct sched_decision){ owner, -1 };
    return (struct sched_decision){ NULL, -1 };
}

/* An assigned vCPU may use its whole pCPU; a waiting one gets nothing. Per
 * domain: min(demand, assigned vCPUs). */
static void null_entitle(struct scheduler *s, struct sched_demand *d, int n)
{
    (void)s;
    for (int i = 0; i < n; i++) {
        int assigned = 0;
        for (int k = 0; k < d[i].dom->nr_units; k++)
            assigned += null_unit(d[i].dom->units[k])->assigned >= 0;
        double want = d[i].demand > 0.0 ? d[i].demand : 0.0;
        d[i].entitled = want < assigned ? want : (double)assigned;
    }
}

static void null_dump(struct scheduler *s, FILE *f)
{
    fprintf(f, "null: %d pCPUs, %d free\n", s->nr_cpus,
            cpumask_weight(&null_priv(s)->cpus_free));
    for (int c = 0; c < s->nr_cpus; c++) {
        const struct sched_unit *o = null_pcpu(s, c)->owner;
        const struct sched_unit *cur = sched_curr(s, c);
        if (o)
            fprintf(f, "  cpu%d: owner %s.%d (%s)\n", c, o->dom->name, o->vcpu_id,
                    cur == o ? "running" : o->runnable ? "runnable" : "blocked");
        else
            fprintf(f, "  cpu%d: free\n", c);
    }
    fprintf(f, "  waitq:");
    for (const struct null_unit *nu = null_priv(s)->wq_head; nu; nu = nu->wq_next)
        fprintf(f, " %s.%d", nu->unit->dom->name, nu->unit->vcpu_id);
    fputc('\n', f);
}

const struct sched_ops sched_null_ops = {
    .name = "null",
    .help = "one vCPU per pCPU, no time sharing; extra vCPUs wait for a free pCPU (Xen's null)",
    .dom_params = NULL,
    .global_params = NULL,
    .init = null_init,
    .deinit = null_deinit,
    .alloc_udata = null_alloc_udata,
    .free_udata = null_free_udata,
    .do_schedule = null_do_schedule,
    .pick_pcpu = null_pick_pcpu,
    .alloc_pdata = null_alloc_pdata,
    .free_pdata = null_free_pdata,
    .insert_unit = null_insert_unit,
    .remove_unit = null_remove_unit,
    .wake = null_wake,
    .entitle = null_entitle,
    .dump = null_dump,
};
