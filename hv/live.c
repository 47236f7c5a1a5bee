/* live.c — domain 0 as a live host (see live.h): the real engine with no
 * end time, and the management calls the API makes while it runs.
 *
 * Management calls take `mu` first, so they run one at a time and see a
 * stable set of domains; the engine's state changes under its own lock
 * (real_dom.c). Figures are read under the engine lock: what metrics has
 * folded in by the last sample (every `sample`, 100 ms by default), plus
 * the I/O counters as they are now.
 */
#include "live_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../blkback/blkback.h"
#include "../netback/netback.h"
#include "ctx.h"
#include "engine.h"
#include "hist.h"
#include "scenario_priv.h"
#include "schedule.h"
#include "starve.h"

const char *const live_state_names[] = { "running", "blocked", "paused", "destroyed" };
const char *const live_ev_names[] = { "created", "destroyed", "paused", "unpaused", "sched",
                                      "starvation", "shutdown" };

/* ---- events ---------------------------------------------------------------------- */

static void emit(struct live *l, enum live_ev_type type, int d, const char *resource,
                 fv_ns_t duration)
{
    fv_ns_t now = real_now(&l->rl);
    pthread_mutex_lock(&l->ev_mu);
    struct live_event *e = &l->ring[l->seq % LIVE_EVENT_RING];
    *e = (struct live_event){ .seq = ++l->seq, .at = now, .type = type, .id = -1,
                              .duration_ns = duration };
    if (d >= 0) {
        snprintf(e->domain, sizeof(e->domain), "%s", l->scn->domains[d].name);
        e->id = l->scn->domains[d].id;
    }
    if (resource)
        snprintf(e->resource, sizeof(e->resource), "%s", resource);
    pthread_cond_broadcast(&l->ev_cv);
    pthread_mutex_unlock(&l->ev_mu);
}

/* The starvation detector's hook (its lock held; ev_mu is a leaf lock). */
static void on_starvation(void *ctx, const struct run_starve_event *ev)
{
    emit(ctx, LIVE_EV_STARVATION, ev->dom, run_starve_names[ev->resource], ev->duration_ns);
}

int live_events(struct live *l, uint64_t after, struct live_event *out, int max, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L)
        until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&l->ev_mu);
    while (l->seq <= after && !live_stopping(l))
        if (pthread_cond_timedwait(&l->ev_cv, &l->ev_mu, &until))
            break;
    uint64_t first = after + 1, oldest = l->seq > LIVE_EVENT_RING ? l->seq - LIVE_EVENT_RING + 1 : 1;
    if (first < oldest)
        first = oldest;
    int n = 0;
    for (uint64_t s = first; s <= l->seq && n < max; s++)
        out[n++] = l->ring[(s - 1) % LIVE_EVENT_RING];
    pthread_mutex_unlock(&l->ev_mu);
    return n;
}

/* ---- the host ---------------------------------------------------------------------- */

static int grow_domains(struct scenario *scn, int cap)
{
    struct scn_domain *d = realloc(scn->domains, (size_t)cap * sizeof(*d));
    if (!d)
        return -ENOMEM;
    memset(d + scn->nr_domains, 0, (size_t)(cap - scn->nr_domains) * sizeof(*d));
    scn->domains = d;
    return 0;
}

int live_start(struct scenario *scn, const struct live_opts *o, struct live **out, char *err,
               size_t errlen)
{
    int max = o && o->max_domains > 0 ? o->max_domains : LIVE_MAX_DOMAINS_DEFAULT;
    if (max < scn->nr_domains || max > SCN_MAX_DOMAINS) {
        snprintf(err, errlen, "max domains %d must be %d..%d (the scenario has %d)", max,
                 scn->nr_domains, SCN_MAX_DOMAINS, scn->nr_domains);
        return -EINVAL;
    }
    struct live *l = calloc(1, sizeof(*l));
    if (!l || !(l->ring = calloc(LIVE_EVENT_RING, sizeof(*l->ring))) || grow_domains(scn, max)) {
        if (l)
            free(l->ring);
        free(l);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    l->scn = scn;
    l->max_domains = max;
    pthread_mutex_init(&l->mu, NULL);
    pthread_mutex_init(&l->ev_mu, NULL);
    pthread_cond_init(&l->ev_cv, NULL);
    l->rl.live = true;
    l->rl.cap_doms = max;
    l->rl.cap_units = SCN_MAX_TOTAL_VCPUS < fv_ctx_max() ? SCN_MAX_TOTAL_VCPUS : fv_ctx_max();
    l->rl.starve_hook = on_starvation;
    l->rl.starve_hook_ctx = l;
    struct engine_opts eo = { .sink = o ? o->sink : (struct timeline_sink){ 0 }, .stop = &l->stop };
    int rc = real_open(&l->rl, scn, &eo, err, errlen);
    if (rc) {
        pthread_mutex_destroy(&l->mu);
        pthread_mutex_destroy(&l->ev_mu);
        pthread_cond_destroy(&l->ev_cv);
        free(l->ring);
        free(l);
        return rc;
    }
    for (int d = 0; d < scn->nr_domains; d++)
        emit(l, LIVE_EV_CREATED, d, NULL, 0);
    *out = l;
    return 0;
}

/* The flag is a sig_atomic_t (a signal handler may set it) that the API's
 * threads set too: atomic accesses, which are async-signal-safe on it. */
void live_stop(struct live *l) { __atomic_store_n(&l->stop, 1, __ATOMIC_SEQ_CST); }

bool live_stopping(const struct live *l) { return __atomic_load_n(&l->stop, __ATOMIC_SEQ_CST) != 0; }

void live_wait(struct live *l)
{
    real_wait(&l->rl, &l->stop);
    live_stop(l);                       /* the host failed: stopping all the same */
    emit(l, LIVE_EV_SHUTDOWN, -1, NULL, 0);
}

int live_finish(struct live *l, struct run_result *out)
{
    struct run_result rr;
    real_close(&l->rl, true, &rr);
    rr.live = true;
    if (out)
        *out = rr;
    else
        run_result_free(&rr);
    pthread_mutex_destroy(&l->mu);
    pthread_mutex_destroy(&l->ev_mu);
    pthread_cond_destroy(&l->ev_cv);
    free(l->ring);
    free(l);
    return 0;
}

/* ---- domains ------------------------------------------------------------------------ */

/* (mu held) The index of the alive domain called name, or -1. */
static int find(const struct live *l, const char *name)
{
    for (int d = 0; d < l->scn->nr_domains; d++)
        if (live_alive(l, d) && strcmp(l->scn->domains[d].name, name) == 0)
            return d;
    return -1;
}

static int no_domain(const char *name, char *err, size_t errlen)
{
    snprintf(err, errlen, "no domain named %s", name);
    return -ENOENT;
}

/* Domain-0 hosts the backends (pausing or destroying it would stop every
 * guest's I/O), and the backends keep a domain's devices for the host's
 * life: such requests are refused. */
static int untouchable(const struct live *l, int d, bool destroy, char *err, size_t errlen)
{
    const struct scn_domain *sd = &l->scn->domains[d];
    if (sd->is_dom0) {
        snprintf(err, errlen, "%s hosts netback and blkback: it cannot be %s", sd->name,
                 destroy ? "destroyed" : "paused");
        return -EBUSY;
    }
    return 0;
}

static int begin(struct live *l, char *err, size_t errlen)
{
    pthread_mutex_lock(&l->mu);
    if (!live_stopping(l))
        return 0;
    pthread_mutex_unlock(&l->mu);
    snprintf(err, errlen, "the host is shutting down");
    return -ESHUTDOWN;
}

/* (mu held) Make parsed domains nd[0..k) at indexes nr_domains..., then wake
 * them all; all or none: those made before a failure are destroyed. */
static int create_all(struct live *l, struct scn_domain *nd, int k, int *ids, char *err,
                      size_t errlen)
{
    int d0 = l->scn->nr_domains, made = 0, rc = 0;
    if (d0 + k > l->max_domains) {
        snprintf(err, errlen, "the host has created its %d domains (--max-domains)", l->max_domains);
        return -ENOSPC;
    }
    for (; made < k && !rc; made++) {
        int d = d0 + made;
        nd[made].id = engine_dom_id(l->scn, d);
        l->scn->domains[d] = nd[made];  /* not counted in nr_domains until registered */
        if ((rc = real_dom_add(&l->rl, l->scn, d, err, errlen)) == 0)
            continue;
        if (l->scn->nr_domains <= d) {  /* never registered: its arrays are still ours */
            memset(&l->scn->domains[d], 0, sizeof(*nd));
            break;
        }
    }
    if (rc) {
        for (int d = d0; d < l->scn->nr_domains; d++)
            real_dom_remove(&l->rl, d);
        live_free_devices(nd, made, k);   /* the ones not made */
        return rc;
    }
    for (int i = 0; i < k; i++) {
        real_dom_wake(&l->rl, d0 + i);
        emit(l, LIVE_EV_CREATED, d0 + i, NULL, 0);
        if (ids)
            ids[i] = nd[i].id;
    }
    return 0;
}

int live_create_many(struct live *l, const char *file, const char *text, size_t len, int *ids,
                     int max, int *n, char *err, size_t errlen)
{
    int rc = begin(l, err, errlen);
    if (rc)
        return rc;
    if (max > LIVE_CREATE_MAX)
        max = LIVE_CREATE_MAX;
    struct scn_domain nd[LIVE_CREATE_MAX];
    int k = 0;
    rc = live_parse_domains(l, file, text, len, nd, max, &k, err, errlen);
    for (int i = 0; !rc && i < k; i++)
        if (find(l, nd[i].name) >= 0) {
            snprintf(err, errlen, "%s: a domain named %s exists (expected a new name)", file,
                     nd[i].name);
            rc = -EEXIST;
        }
    if (!rc)
        rc = create_all(l, nd, k, ids, err, errlen);
    else
        live_free_devices(nd, 0, k);
    if (!rc && n)
        *n = k;
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int live_create(struct live *l, const char *file, const char *text, size_t len, int *id_out,
                char *err, size_t errlen)
{
    int id = -1, n = 0;
    int rc = live_create_many(l, file, text, len, &id, 1, &n, err, errlen);
    if (!rc && id_out)
        *id_out = id;
    return rc;
}

int live_destroy(struct live *l, const char *name, char *err, size_t errlen)
{
    int rc = begin(l, err, errlen);
    if (rc)
        return rc;
    int d = find(l, name);
    rc = d < 0 ? no_domain(name, err, errlen) : untouchable(l, d, true, err, errlen);
    if (!rc)
        rc = real_dom_remove(&l->rl, d);
    if (!rc)
        emit(l, LIVE_EV_DESTROYED, d, NULL, 0);
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int live_pause(struct live *l, const char *name, bool pause, char *err, size_t errlen)
{
    int rc = begin(l, err, errlen);
    if (rc)
        return rc;
    int d = find(l, name);
    rc = d < 0 ? no_domain(name, err, errlen) : untouchable(l, d, false, err, errlen);
    if (!rc)
        rc = real_dom_pause(&l->rl, d, pause);
    if (rc == -EBUSY)
        snprintf(err, errlen, "domain %s is %s", name, pause ? "paused already" : "not paused");
    if (!rc)
        emit(l, pause ? LIVE_EV_PAUSED : LIVE_EV_UNPAUSED, d, NULL, 0);
    pthread_mutex_unlock(&l->mu);
    return rc;
}

/* ---- scheduler parameters ---------------------------------------------------------- */

/* Check p[0..n-1] against schema and store each through put(). */
static int apply_params(const struct sched_param_desc *schema, const char *policy,
                        const struct live_param *p, int n, void *obj,
                        int (*put)(void *obj, const char *name, int64_t v),
                        char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        const struct sched_param_desc *pd = schema ? sched_param_find(schema, p[i].name) : NULL;
        if (!pd) {
            snprintf(err, errlen, "%s: not a parameter of policy %s", p[i].name, policy);
            return -EINVAL;
        }
        if (p[i].value < pd->min || p[i].value > pd->max) {
            char a[SCN_FMT_MAX], b[SCN_FMT_MAX], v[SCN_FMT_MAX];
            bool ns = pd->kind == SCHED_PARAM_NS;
            if (ns)
                snprintf(err, errlen, "%s %s is out of range (expected %s..%s)", p[i].name,
                         scn_format_duration(p[i].value, v, sizeof(v)),
                         scn_format_duration(pd->min, a, sizeof(a)),
                         scn_format_duration(pd->max, b, sizeof(b)));
            else
                snprintf(err, errlen, "%s %lld is out of range (expected %lld..%lld)", p[i].name,
                         (long long)p[i].value, (long long)pd->min, (long long)pd->max);
            return -EINVAL;
        }
        if (put(obj, p[i].name, p[i].value)) {
            snprintf(err, errlen, "%s: not a parameter fairvisor can change", p[i].name);
            return -EINVAL;
        }
    }
    return 0;
}

static int put_dom(void *obj, const char *name, int64_t v)
{
    struct sched_dom_params *sp = obj;
    if (strcmp(name, "weight") == 0)
        sp->weight = (uint32_t)v;
    else if (strcmp(name, "cap") == 0)
        sp->cap = (uint32_t)v;
    else if (strcmp(name, "period") == 0)
        sp->period = v;
    else if (strcmp(name, "budget") == 0)
        sp->budget = v;
    else if (strcmp(name, "extratime") == 0)
        sp->extratime = v != 0;
    else
        return -EINVAL;
    return 0;
}

static int put_global(void *obj, const char *name, int64_t v)
{
    const struct scn_gp_field *g = scn_gp_field_find(name);
    if (!g)
        return -EINVAL;
    *(fv_ns_t *)((char *)obj + g->off) = v;
    return 0;
}

static int refused(int rc, const char *what, const char *policy, char *err, size_t errlen)
{
    if (rc == -ENOTSUP)
        snprintf(err, errlen, "policy %s cannot change %s while it runs", policy, what);
    else if (rc)
        snprintf(err, errlen, "policy %s refused the %s (a value out of its range, or a cap over "
                 "100%% per vCPU)", policy, what);
    return rc == -ENOTSUP ? -ENOTSUP : rc ? -EINVAL : 0;
}

int live_sched_dom(struct live *l, const char *name, const struct live_param *p, int n,
                   char *err, size_t errlen)
{
    int rc = begin(l, err, errlen);
    if (rc)
        return rc;
    int d = find(l, name);
    const struct sched_ops *ops = l->scn->policy;
    if (d < 0) {
        rc = no_domain(name, err, errlen);
    } else {
        pthread_mutex_lock(&l->rl.lock);
        struct sched_domain *dom = l->rl.s->doms[d];
        struct sched_dom_params sp = dom->params;
        rc = apply_params(ops->dom_params, ops->name, p, n, &sp, put_dom, err, errlen);
        if (!rc)
            rc = refused(sched_core_adjust(l->rl.s, dom, &sp), "parameters", ops->name, err,
                         errlen);
        if (!rc) {
            l->scn->domains[d].sp = sp;
            l->rl.res[d].weight = sp.weight;
            l->rl.res[d].cap = sp.cap;
        }
        pthread_mutex_unlock(&l->rl.lock);
    }
    if (!rc)
        emit(l, LIVE_EV_SCHED, d, NULL, 0);
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int live_sched_global(struct live *l, const struct live_param *p, int n, char *err, size_t errlen)
{
    int rc = begin(l, err, errlen);
    if (rc)
        return rc;
    const struct sched_ops *ops = l->scn->policy;
    pthread_mutex_lock(&l->rl.lock);
    struct sched_global_params gp = l->rl.s->gp;
    rc = apply_params(ops->global_params, ops->name, p, n, &gp, put_global, err, errlen);
    if (!rc)
        rc = refused(sched_core_adjust_global(l->rl.s, &gp), "global parameters", ops->name, err,
                     errlen);
    if (!rc)
        l->scn->gp = gp;
    pthread_mutex_unlock(&l->rl.lock);
    if (!rc)
        emit(l, LIVE_EV_SCHED, -1, NULL, 0);
    pthread_mutex_unlock(&l->mu);
    return rc;
}
