/* sched.h — the scheduler interface: one const ops table per policy, in the
 * spirit of Xen's struct scheduler (xen/common/sched/private.h).
 *
 * The core (hv/schedule.c) owns time, locks, the vCPU state machine,
 * migration between pCPUs and accounting. A policy is pure decision logic:
 * it keeps its own per-pCPU/per-vCPU/per-domain data through the alloc
 * hooks, and reaches the engine only through the few core services declared
 * at the bottom of this file (now, tickle, timers). Both engines (sim and
 * real) drive the same ops, so a policy is written once.
 *
 * Locking: the core calls every hook, and every policy timer callback, with
 * the scheduler's lock held (in the sim engine there is one thread and the
 * lock is a no-op). A hook never blocks and never calls back into the core
 * except through the services below, which are safe under that lock.
 *
 * Units: times and spans are fv_ns_t nanoseconds; weights are Xen's (1..65535,
 * default 256); cap is % of one pCPU (0 = none).
 */
#ifndef FV_SCHED_H
#define FV_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../hv/cpumask.h"
#include "../hv/fvtime.h"

struct scheduler;

/* ---- parameters ------------------------------------------------------- */

/* Per-domain parameters. Every policy reads the ones it uses; the scenario
 * loader fills all of them with defaults (SCHED_DEFAULT_*). */
struct sched_dom_params {
    uint32_t weight;        /* 1..65535, default 256 (credit, credit2) */
    uint32_t cap;           /* % of one pCPU, 0 = none (credit, credit2) */
    fv_ns_t period;         /* rtds: default 10 ms, >= 10 us */
    fv_ns_t budget;         /* rtds: default 4 ms, >= 10 us, <= period */
    bool extratime;         /* rtds: default true */
};

#define SCHED_DEFAULT_WEIGHT   256
#define SCHED_MIN_WEIGHT       1
#define SCHED_MAX_WEIGHT       65535
#define SCHED_DEFAULT_PERIOD   FV_MS(10)
#define SCHED_DEFAULT_BUDGET   FV_MS(4)
#define SCHED_RTDS_MIN_SPAN    FV_US(10)

#define SCHED_MAX_WINDOWS 64   /* arinc653: entries in a major frame */

struct sched_window {
    int domid;              /* domain that owns the window (all its vCPUs) */
    fv_ns_t length;         /* > 0 */
};

/* Policy-wide parameters (the `sched:` block of a scenario, xl sched-*-s). */
struct sched_global_params {
    fv_ns_t tslice;         /* credit: 30 ms (1..1000 ms); fair: 5 ms (100 us..1 s) */
    fv_ns_t ratelimit;      /* credit/credit2: 1 ms (100 us..500 ms, <= tslice); 0 = off */
    fv_ns_t frame;          /* arinc653: major frame; 0 = sum of windows */
    fv_ns_t boost;          /* fair: wake-up boost allowance, 1 ms (0 = none) */
    fv_ns_t dom0_budget;    /* fair: Domain-0's guaranteed run per dom0_period, 5 ms (0 = none) */
    fv_ns_t dom0_period;    /* fair: 10 ms */
    int nr_windows;         /* arinc653 */
    struct sched_window windows[SCHED_MAX_WINDOWS];
};

/* The parameter schema a policy publishes: which keys it reads, their kind,
 * range and default. The scenario loader validates against it and --help
 * prints it. A NULL name ends the list. */
enum sched_param_kind { SCHED_PARAM_INT, SCHED_PARAM_NS, SCHED_PARAM_BOOL };

struct sched_param_desc {
    const char *name;       /* scenario key: "weight", "tslice", ... */
    enum sched_param_kind kind;
    int64_t min, max, def;  /* inclusive range and default (ns for NS) */
    const char *help;
};

/* ---- what the core shows a policy ---------------------------------------- */

struct sched_domain;

/* One schedulable vCPU (Xen's sched_unit). Fields marked core-owned are
 * written only by the core; a policy reads them. */
struct sched_unit {
    int id;                     /* unique, dense: 0..nr_units-1 (core-owned) */
    int vcpu_id;                /* index within the domain (core-owned) */
    struct sched_domain *dom;   /* (core-owned) */
    int cpu;                    /* pCPU it runs on or is queued for (the core
                                   sets it from pick_pcpu and on migration) */
    bool is_running;            /* currently on a pCPU (core-owned) */
    bool runnable;              /* not blocked/offline (core-owned) */
    fv_ns_t state_since;        /* when runnable/is_running last changed */
    fv_cpumask_t affinity;      /* hard affinity (core-owned) */
    uint64_t deadline_misses;   /* policy-owned: reservation deadlines this
                                   unit missed (rtds); the core reports the
                                   per-domain sum as sched_deadline_misses */
    void *priv;                 /* the policy's per-vCPU data */
};

struct sched_domain {
    int id;
    const char *name;
    struct sched_dom_params params;
    int nr_units;
    struct sched_unit **units;
    fv_ns_t charged_ns;         /* backend time charged to it so far (core-owned) */
    fv_ns_t charged_iv;         /* ... since the last sched_core_entitle (core-owned) */
    bool dead;                  /* removed at run time: its units are out of the
                                   policy and priv is NULL (core-owned) */
    void *priv;                 /* the policy's per-domain data */
};

struct sched_pcpu {
    int cpu;
    struct sched_unit *curr;    /* running unit, NULL when idle (core-owned) */
    void *priv;                 /* the policy's per-pCPU data */
};

/* A policy timer (credit's accounting tick, rtds replenishment, ...). The
 * policy embeds it and sets fn/data; the engine owns the rest. */
struct sched_timer {
    void (*fn)(struct scheduler *s, struct sched_timer *t, fv_ns_t now);
    void *data;
    int cpu;                    /* pCPU whose clock/thread fires it */
    fv_ns_t expires;            /* engine-owned */
    int64_t heap_idx;           /* engine-owned; -1 when not armed */
    uint64_t seq;               /* engine-owned: tie-break for determinism */
};

/* What do_schedule decides for a pCPU. */
struct sched_decision {
    struct sched_unit *next;    /* NULL = run idle */
    fv_ns_t runtime;            /* how long before the core calls again; < 0 = no limit */
};

/* Demand of one domain over a sampling interval, for entitled shares. */
struct sched_demand {
    const struct sched_domain *dom;
    double demand;              /* pCPUs wanted on average: runnable vCPU time / interval */
    double entitled;            /* out: pCPUs the policy promises it */
};

/* ---- the ops table ------------------------------------------------------- */

struct sched_ops {
    const char *name;                               /* "credit", ... */
    const char *help;                               /* one line for --help */
    const struct sched_param_desc *dom_params;      /* per-domain schema */
    const struct sched_param_desc *global_params;   /* sched: schema */

    /* Mandatory (checked once by sched_create). */
    int  (*init)(struct scheduler *s);
    void (*deinit)(struct scheduler *s);
    int  (*alloc_udata)(struct scheduler *s, struct sched_unit *u);
    void (*free_udata)(struct scheduler *s, struct sched_unit *u);
    struct sched_decision (*do_schedule)(struct scheduler *s, int cpu, fv_ns_t now);
    int  (*pick_pcpu)(struct scheduler *s, struct sched_unit *u);

    /* Optional: the core skips a NULL hook or supplies the default. */
    int  (*alloc_pdata)(struct scheduler *s, int cpu);
    void (*free_pdata)(struct scheduler *s, int cpu);
    int  (*alloc_domdata)(struct scheduler *s, struct sched_domain *d);
    void (*free_domdata)(struct scheduler *s, struct sched_domain *d);
    void (*insert_unit)(struct scheduler *s, struct sched_unit *u);  /* after alloc_udata */
    void (*remove_unit)(struct scheduler *s, struct sched_unit *u);
    void (*sleep)(struct scheduler *s, struct sched_unit *u, fv_ns_t now);
    void (*wake)(struct scheduler *s, struct sched_unit *u, fv_ns_t now);
    void (*yield)(struct scheduler *s, struct sched_unit *u);
    /* Validate global params (called before init with s->gp filled);
     * return 0 or -EINVAL and write a message into err. */
    int  (*check_global)(const struct sched_global_params *gp, char *err, size_t errlen);
    /* Same for one domain's params (all domains known: s->doms). */
    int  (*check_dom)(const struct sched_dom_params *p, char *err, size_t errlen);
    int  (*adjust)(struct scheduler *s, struct sched_domain *d,
                   const struct sched_dom_params *p);
    int  (*adjust_global)(struct scheduler *s, const struct sched_global_params *gp);
    /* Work done on a unit's behalf elsewhere (backend CPU) to be charged
     * (charge-back): ns > 0 of Domain-0's time spent on the domain's I/O,
     * given to the policy as if u had run it. NULL: the policy does not
     * charge (its header says why) and the core reports nothing charged. */
    void (*charge)(struct scheduler *s, struct sched_unit *u, fv_ns_t ns);
    /* Fill demand[i].entitled (in pCPUs) for the interval; default is
     * weighted water-filling with caps (sched_waterfill). */
    void (*entitle)(struct scheduler *s, struct sched_demand *d, int n);
    void (*dump)(struct scheduler *s, FILE *f);
    /* Charge-back's default for this policy (`sched.chargeback`). */
    bool chargeback;
};

/* ---- a scheduler instance ------------------------------------------------ */

/* Services the core gives a policy. The engine supplies them. */
struct sched_core_ops {
    fv_ns_t (*now)(void *ctx);
    /* Ask pCPU `cpu` to call do_schedule soon (Xen's SCHEDULE_SOFTIRQ / an IPI). */
    void (*tickle)(void *ctx, int cpu);
    void (*timer_set)(void *ctx, struct sched_timer *t, fv_ns_t expires);
    void (*timer_stop)(void *ctx, struct sched_timer *t);
};

struct scheduler {
    const struct sched_ops *ops;
    void *priv;                         /* the policy's global data */
    int nr_cpus;
    struct sched_pcpu *pcpus;           /* [nr_cpus] */
    int nr_doms;
    struct sched_domain **doms;         /* every domain, by index */
    int nr_units;
    struct sched_unit **units;          /* every unit, by id */
    struct sched_global_params gp;
    const struct sched_core_ops *core;
    void *core_ctx;
    fv_ns_t entitle_at;                 /* last sched_core_entitle (core-owned) */
    /* pCPUs an entitle hook shares out: nr_cpus plus the domains' charged
     * backend time per ns of the interval (core-owned; see
     * sched_core_entitle). */
    double entitle_capacity;
};

/* ---- core services for policies (inline fast path) ----------------------- */

static inline fv_ns_t sched_now(struct scheduler *s) { return s->core->now(s->core_ctx); }
static inline void sched_tickle(struct scheduler *s, int cpu) { s->core->tickle(s->core_ctx, cpu); }
static inline void sched_timer_set(struct scheduler *s, struct sched_timer *t, fv_ns_t when)
{
    s->core->timer_set(s->core_ctx, t, when);
}
static inline void sched_timer_stop(struct scheduler *s, struct sched_timer *t)
{
    s->core->timer_stop(s->core_ctx, t);
}
static inline struct sched_unit *sched_curr(struct scheduler *s, int cpu) { return s->pcpus[cpu].curr; }

/* ---- registry and helpers (sched/registry.c) ----------------------------- */

/* The policy named `name`, or NULL. */
const struct sched_ops *sched_find(const char *name);
/* All policies, NULL-terminated, in registration order. */
extern const struct sched_ops *const sched_policies[];

/* Look a parameter up in a schema, or NULL. */
const struct sched_param_desc *sched_param_find(const struct sched_param_desc *schema,
                                                const char *name);

/* Fill gp / p with the defaults of ops' schemas (and the common defaults for
 * keys the policy does not use). What the scenario loader starts from. */
void sched_global_defaults(const struct sched_ops *ops, struct sched_global_params *gp);
void sched_dom_defaults(struct sched_dom_params *p);

/* Weighted max-min fair allocation of `capacity` pCPUs among d[0..n-1]:
 * proportional to weight, each bounded by its demand and by cap/100 (if
 * cap > 0); what a bounded domain leaves is redistributed. Writes
 * d[i].entitled. Exact: no iteration limit beyond n rounds. */
void sched_waterfill(struct sched_demand *d, int n, double capacity);

/* Initialise an unarmed timer. */
static inline void sched_timer_init(struct sched_timer *t,
                                    void (*fn)(struct scheduler *, struct sched_timer *, fv_ns_t),
                                    void *data, int cpu)
{
    t->fn = fn;
    t->data = data;
    t->cpu = cpu;
    t->expires = 0;
    t->heap_idx = -1;
    t->seq = 0;
}

static inline bool sched_timer_armed(const struct sched_timer *t) { return t->heap_idx >= 0; }

#endif
