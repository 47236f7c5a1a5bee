/* fair_params.c — the fair policy's parameters (schemas and checks),
 * run-time adjustment, entitlement and dump; the policy itself is
 * sched/fair.c. Locking: as fair.c (every hook under the scheduler lock).
 */
#include "fair_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static const char *fmt_span(char *buf, size_t len, fv_ns_t ns)
{
    if (ns % FV_MS(1) == 0)
        snprintf(buf, len, "%" PRId64 "ms", (int64_t)(ns / FV_MS(1)));
    else if (ns % FV_US(1) == 0)
        snprintf(buf, len, "%" PRId64 "us", (int64_t)(ns / FV_US(1)));
    else
        snprintf(buf, len, "%" PRId64 "ns", (int64_t)ns);
    return buf;
}

/* ---- parameters --------------------------------------------------------- */

const struct sched_param_desc fair_dom_params[] = {
    { "weight", SCHED_PARAM_INT, SCHED_MIN_WEIGHT, SCHED_MAX_WEIGHT, SCHED_DEFAULT_WEIGHT,
      "relative share: virtual time runs at 256/weight of run and charged time" },
    { "cap", SCHED_PARAM_INT, 0, FAIR_MAX_CAP, 0,
      "most CPU it may use, in % of one pCPU (0 = none, <= 100 x vcpus)" },
    { NULL, 0, 0, 0, 0, NULL },
};

const struct sched_param_desc fair_global_params[] = {
    { "tslice", SCHED_PARAM_NS, FAIR_TSLICE_MIN, FAIR_TSLICE_MAX, FAIR_DEFAULT_TSLICE,
      "longest run before the domain with least virtual time gets the pCPU" },
    { "ratelimit", SCHED_PARAM_NS, 0, FAIR_RATELIMIT_MAX, 0,
      "least run before a wake-up may preempt (0 = off, else 100us..500ms, <= tslice)" },
    { "boost", SCHED_PARAM_NS, 0, FAIR_BOOST_MAX, FAIR_DEFAULT_BOOST,
      "lead a waking domain may have over the least-served one, and longest first run "
      "of a woken vCPU (0 = none)" },
    { "dom0_budget", SCHED_PARAM_NS, 0, FAIR_G_PERIOD_MAX, FAIR_DEFAULT_G_BUDGET,
      "Domain-0's run guaranteed ahead of every guest per dom0_period (0 = none)" },
    { "dom0_period", SCHED_PARAM_NS, FAIR_G_PERIOD_MIN, FAIR_G_PERIOD_MAX,
      FAIR_DEFAULT_G_PERIOD, "window of Domain-0's guarantee" },
    { NULL, 0, 0, 0, 0, NULL },
};

static int range_err(char *err, size_t errlen, const char *name, fv_ns_t v, fv_ns_t lo,
                     fv_ns_t hi, const char *extra)
{
    char a[32], b[32], c[32];
    snprintf(err, errlen, "%s %s out of range (expected %s%s..%s)", name,
             fmt_span(a, sizeof(a), v), extra, fmt_span(b, sizeof(b), lo),
             fmt_span(c, sizeof(c), hi));
    return -EINVAL;
}

int fair_check_global(const struct sched_global_params *gp, char *err, size_t errlen)
{
    char a[32], b[32];
    if (gp->tslice < FAIR_TSLICE_MIN || gp->tslice > FAIR_TSLICE_MAX)
        return range_err(err, errlen, "tslice", gp->tslice, FAIR_TSLICE_MIN, FAIR_TSLICE_MAX, "");
    if (gp->ratelimit &&
        (gp->ratelimit < FAIR_RATELIMIT_MIN || gp->ratelimit > FAIR_RATELIMIT_MAX))
        return range_err(err, errlen, "ratelimit", gp->ratelimit, FAIR_RATELIMIT_MIN,
                         FAIR_RATELIMIT_MAX, "0 for off, or ");
    if (gp->ratelimit > gp->tslice) {
        snprintf(err, errlen, "ratelimit %s exceeds tslice %s (expected ratelimit <= tslice)",
                 fmt_span(a, sizeof(a), gp->ratelimit), fmt_span(b, sizeof(b), gp->tslice));
        return -EINVAL;
    }
    if (gp->boost < 0 || gp->boost > FAIR_BOOST_MAX)
        return range_err(err, errlen, "boost", gp->boost, 0, FAIR_BOOST_MAX, "0 for none, or ");
    if (gp->dom0_period < FAIR_G_PERIOD_MIN || gp->dom0_period > FAIR_G_PERIOD_MAX)
        return range_err(err, errlen, "dom0_period", gp->dom0_period, FAIR_G_PERIOD_MIN,
                         FAIR_G_PERIOD_MAX, "");
    if (gp->dom0_budget < 0 || gp->dom0_budget > gp->dom0_period) {
        snprintf(err, errlen, "dom0_budget %s exceeds dom0_period %s (expected 0 for none, "
                 "or dom0_budget <= dom0_period)", fmt_span(a, sizeof(a), gp->dom0_budget),
                 fmt_span(b, sizeof(b), gp->dom0_period));
        return -EINVAL;
    }
    return 0;
}

int fair_check_dom(const struct sched_dom_params *p, char *err, size_t errlen)
{
    if (p->weight < SCHED_MIN_WEIGHT || p->weight > SCHED_MAX_WEIGHT) {
        snprintf(err, errlen, "weight %" PRIu32 " out of range (expected %d..%d)", p->weight,
                 SCHED_MIN_WEIGHT, SCHED_MAX_WEIGHT);
        return -EINVAL;
    }
    if (p->cap > FAIR_MAX_CAP) {
        snprintf(err, errlen, "cap %" PRIu32 " out of range (expected 0..%d, %% of one pCPU, "
                 "at most 100 per vCPU)", p->cap, FAIR_MAX_CAP);
        return -EINVAL;
    }
    return 0;
}

void fair_set_global(struct scheduler *s, const struct sched_global_params *gp)
{
    struct fair_private *prv = fair_priv(s);
    prv->tslice = gp->tslice;
    prv->ratelimit = gp->ratelimit;
    prv->boost = gp->boost;
    prv->g_budget = gp->dom0_budget;
    prv->g_period = gp->dom0_period;
    s->gp = *gp;
}

/* New weight from now on (running vCPUs are accounted first at the old
 * one); a new cap from the next window, or at once when set or cleared. */
int fair_adjust(struct scheduler *s, struct sched_domain *d,
                       const struct sched_dom_params *p)
{
    struct fair_private *prv = fair_priv(s);
    struct fair_dom *fd = fair_dom(d);
    fv_ns_t now = sched_now(s);
    char err[128];

    if (fair_check_dom(p, err, sizeof(err)) || p->cap > 100u * (uint32_t)d->nr_units)
        return -EINVAL;
    for (int i = 0; i < d->nr_units; i++)
        if (d->units[i]->is_running)
            fair_burn(s, fair_unit(d->units[i]), now, -1);
    fd->weight = p->weight;
    fd->vt_res = 0;
    if (!p->cap && fd->cap) {
        fd->cap = 0;
        if (fd->parked) {
            fair_parked_remove(prv, fd);
            fair_unpark(s, fd, now);
        }
    } else if (p->cap && !fd->cap) {
        fd->cap_left = fair_cap_per_window(p->cap);
        fd->cap_epoch = now / FAIR_CAP_PERIOD;
    }
    fd->cap = p->cap;
    d->params.weight = p->weight;
    d->params.cap = p->cap;
    return 0;
}

/* New values apply from each vCPU's next decision. */
int fair_adjust_global(struct scheduler *s, const struct sched_global_params *gp)
{
    char err[160];
    if (fair_check_global(gp, err, sizeof(err)))
        return -EINVAL;
    fair_set_global(s, gp);
    return 0;
}

void fair_dump(struct scheduler *s, FILE *f)
{
    struct fair_private *prv = fair_priv(s);
    char a[32], b[32], c[32], e[32];

    fprintf(f, "fair: ncpus=%d tslice=%s ratelimit=%" PRId64 "ns boost=%s dom0=%s/%s vmin=%"
            PRId64 "\n", s->nr_cpus, fmt_span(a, sizeof(a), prv->tslice),
            (int64_t)prv->ratelimit, fmt_span(b, sizeof(b), prv->boost),
            fmt_span(c, sizeof(c), prv->g_budget), fmt_span(e, sizeof(e), prv->g_period),
            (int64_t)prv->vmin);
    for (int k = 0; k < s->nr_cpus; k++) {
        struct sched_unit *cur = sched_curr(s, k);
        fprintf(f, "cpu %d: ", k);
        if (cur)
            fprintf(f, "runs %s.%d", cur->dom->name, cur->vcpu_id);
        else
            fprintf(f, "idle");
        fprintf(f, " eligible=%d%s\n", prv->eligible[k],
                cpumask_test(&prv->tickled, k) ? " tickled" : "");
    }
    for (int i = 0; i < s->nr_doms; i++) {
        if (s->doms[i]->dead)
            continue;
        const struct fair_dom *fd = fair_dom(s->doms[i]);
        fprintf(f, "dom %d %s: vt=%" PRId64 " tb=%" PRId64 " w=%" PRIu32 " cap=%" PRIu32
                " queued=%d runnable=%d", s->doms[i]->id, s->doms[i]->name, (int64_t)fd->vt,
                (int64_t)fd->tb, fd->weight, fd->cap, fd->nr_queued, fd->nr_runnable);
        if (fd->cap)
            fprintf(f, " pool=%" PRId64 "%s", (int64_t)fd->cap_left, fd->parked ? " parked" : "");
        if (fd == prv->dom0)
            fprintf(f, " guaranteed_used=%" PRId64, (int64_t)fd->g_used);
        fputc('\n', f);
    }
}

/* Water-filling (the core added the charges to demand and capacity); then
 * Domain-0 gets at least min(demand, its guarantee), the others share the
 * rest. */
void fair_entitle(struct scheduler *s, struct sched_demand *d, int n)
{
    struct fair_private *prv = fair_priv(s);
    double capacity = s->entitle_capacity > 0 ? s->entitle_capacity : (double)s->nr_cpus;
    int i0 = -1;

    sched_waterfill(d, n, capacity);
    for (int i = 0; i < n; i++)
        if (d[i].dom->id == 0)
            i0 = i;
    if (i0 < 0 || !prv->g_budget)
        return;
    double g = (double)prv->g_budget / (double)prv->g_period;
    double want = d[i0].demand < g ? d[i0].demand : g;
    if (d[i0].entitled >= want)
        return;
    struct sched_demand t = d[i0];
    d[i0] = d[n - 1];
    d[n - 1] = t;
    sched_waterfill(d, n - 1, capacity - want);
    t = d[n - 1];
    d[n - 1] = d[i0];
    d[i0] = t;
    d[i0].entitled = want;
}
