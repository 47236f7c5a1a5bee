/* fair_priv.h — what sched/fair.c (the policy's mechanism and its ops
 * table) and sched/fair_params.c (its parameters, adjust, entitle and
 * dump) share. The design and the locking rules are at the top of fair.c.
 */
#ifndef FV_FAIR_PRIV_H
#define FV_FAIR_PRIV_H

#include "sched.h"

#include "../hv/rbtree.h"

/* ---- constants -------------------------------------------------------- */

#define FAIR_W0                 256             /* weight whose vt runs at real time */
#define FAIR_DEFAULT_TSLICE     FV_MS(5)
#define FAIR_TSLICE_MIN         FV_US(100)
#define FAIR_TSLICE_MAX         FV_SEC(1)
#define FAIR_RATELIMIT_MIN      FV_US(100)
#define FAIR_RATELIMIT_MAX      FV_MS(500)
#define FAIR_DEFAULT_BOOST      FV_MS(1)
#define FAIR_BOOST_MAX          FV_SEC(1)
#define FAIR_DEFAULT_G_BUDGET   FV_MS(5)
#define FAIR_DEFAULT_G_PERIOD   FV_MS(10)
#define FAIR_G_PERIOD_MIN       FV_US(100)
#define FAIR_G_PERIOD_MAX       FV_SEC(1)
#define FAIR_G_MIN_RUN          FV_US(500)      /* Domain-0's shortest catch-up run */
#define FAIR_CAP_PERIOD         FV_MS(10)
#define FAIR_MAX_CAP            (100 * FV_MAX_PCPUS)    /* % of one pCPU */

/* ---- data ------------------------------------------------------------- */

struct fair_link {
    struct fair_link *prev, *next;
};

struct fair_dom;

struct fair_unit {
    struct sched_unit *unit;
    struct fair_dom *fd;
    struct fair_link q;             /* on fd->queue while queued */
    bool queued;
    bool woke;                      /* not run since its wake-up: slice <= boost */
    bool yielded;
    fv_ns_t run_since;              /* when it got its pCPU (ratelimit) */
    fv_ns_t start;                  /* run accounted up to here while running */
};

struct fair_dom {
    struct sched_domain *dom;
    RB_ENTRY(fair_dom) node;        /* in the tree: queued vCPUs, not parked */
    bool in_tree;
    fv_ns_t vt;                     /* weighted ns of run and charged time */
    fv_ns_t tb;                     /* ties: vt before the last wake-up clamp, else vt */
    uint64_t seq;                   /* when it entered the tree: FIFO among equals */
    uint64_t vt_res;                /* remainder of ns x FAIR_W0 / weight */
    uint32_t weight, cap;
    struct fair_link queue;         /* queued vCPUs, FIFO */
    int nr_queued, nr_runnable;
    fv_ns_t cap_left;               /* pool left in window cap_epoch (< 0: debt) */
    int64_t cap_epoch;
    bool parked;                    /* capped, pool spent */
    struct fair_dom *parked_next;
    fv_ns_t g_used;                 /* Domain-0: run in window g_epoch */
    int64_t g_epoch;
};

RB_HEAD(fair_tree, fair_dom);

struct fair_private {
    struct fair_tree tree;
    uint64_t seq;
    fv_ns_t vmin;                   /* least vt of the runnable domains, monotonic */
    fv_ns_t tslice, ratelimit, boost, g_budget, g_period;
    fv_cpumask_t idle;              /* running nothing */
    fv_cpumask_t tickled;           /* asked to schedule, not yet done */
    int *eligible;                  /* [nr_cpus]: queued vCPUs of unparked domains
                                       whose affinity allows the pCPU */
    struct fair_dom *dom0;          /* domain id 0, or NULL */
    struct fair_dom *parked;        /* parked domains, linked by parked_next */
    struct sched_timer cap_timer;   /* refills the pools of parked domains */
    struct sched_timer g_timer;     /* when queued Domain-0 falls behind */
};

static inline struct fair_private *fair_priv(const struct scheduler *s) { return s->priv; }
static inline struct fair_unit *fair_unit(const struct sched_unit *u) { return u->priv; }
static inline struct fair_dom *fair_dom(const struct sched_domain *d) { return d->priv; }

static inline fv_ns_t fair_cap_per_window(uint32_t cap)
{
    return FAIR_CAP_PERIOD * (fv_ns_t)cap / 100;
}

/* fair.c: account fu's run up to now (self: the pCPU deciding, not to be
 * tickled; -1 none); bring a parked domain back; drop fd from the parked
 * list. */
void fair_burn(struct scheduler *s, struct fair_unit *fu, fv_ns_t now, int self);
void fair_unpark(struct scheduler *s, struct fair_dom *fd, fv_ns_t now);
void fair_parked_remove(struct fair_private *prv, struct fair_dom *fd);

/* fair_params.c: the schemas, their checks, and the hooks of the ops table
 * that deal with parameters and reporting. */
extern const struct sched_param_desc fair_dom_params[];
extern const struct sched_param_desc fair_global_params[];
int fair_check_global(const struct sched_global_params *gp, char *err, size_t errlen);
int fair_check_dom(const struct sched_dom_params *p, char *err, size_t errlen);
void fair_set_global(struct scheduler *s, const struct sched_global_params *gp);
int fair_adjust(struct scheduler *s, struct sched_domain *d, const struct sched_dom_params *p);
int fair_adjust_global(struct scheduler *s, const struct sched_global_params *gp);
void fair_entitle(struct scheduler *s, struct sched_demand *d, int n);
void fair_dump(struct scheduler *s, FILE *f);

#endif
