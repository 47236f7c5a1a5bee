/* metrics.c — see metrics.h. */
#include "metrics.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Domain d's vCPUs start BLOCKED at t, counted for d. */
static void init_dom_vcpus(struct metrics *m, int d, fv_ns_t t)
{
    const struct sched_domain *sd = m->s->doms[d];
    for (int i = 0; i < sd->nr_units; i++) {
        struct mt_vcpu *v = &m->vcpu[sd->units[i]->id];
        memset(v, 0, sizeof(*v));
        v->dom = d;
        v->since = v->acct = t;
    }
}

int metrics_init(struct metrics *m, struct scheduler *s, struct dom_result *res,
                 fv_ns_t threshold, struct timeline_sink sink, fv_ns_t start)
{
    return metrics_init_cap(m, s, res, threshold, sink, start, s->nr_doms, s->nr_units);
}

int metrics_init_cap(struct metrics *m, struct scheduler *s, struct dom_result *res,
                     fv_ns_t threshold, struct timeline_sink sink, fv_ns_t start,
                     int cap_doms, int cap_vcpus)
{
    memset(m, 0, sizeof(*m));
    m->s = s;
    m->nr_doms = s->nr_doms;
    m->nr_vcpus = s->nr_units;
    m->cap_doms = cap_doms > m->nr_doms ? cap_doms : m->nr_doms;
    m->cap_vcpus = cap_vcpus > m->nr_vcpus ? cap_vcpus : m->nr_vcpus;
    m->pcpus = s->nr_cpus;
    m->res = res;
    m->threshold = threshold;
    m->sink = sink;
    m->last_sample = start;
    size_t nd = m->cap_doms ? (size_t)m->cap_doms : 1, nv = m->cap_vcpus ? (size_t)m->cap_vcpus : 1;
    m->dom = calloc(nd, sizeof(*m->dom));
    m->vcpu = calloc(nv, sizeof(*m->vcpu));
    m->rows = calloc(nd, sizeof(*m->rows));
    m->demand = calloc(nd, sizeof(*m->demand));
    m->blk_cur = calloc(1, sizeof(*m->blk_cur));
    m->starve = starve_create_cap(m->cap_doms, m->nr_doms, threshold);
    if (!m->dom || !m->vcpu || !m->rows || !m->demand || !m->blk_cur || !m->starve) {
        metrics_fini(m);
        return -ENOMEM;
    }
    for (int d = 0; d < m->nr_doms; d++)
        init_dom_vcpus(m, d, start);
    return 0;
}

void metrics_fini(struct metrics *m)
{
    free(m->dom);
    free(m->vcpu);
    free(m->rows);
    free(m->demand);
    free(m->blk_cur);
    starve_destroy(m->starve);
    m->starve = NULL;
    m->blk_cur = NULL;
    m->dom = NULL;
    m->vcpu = NULL;
    m->rows = NULL;
    m->demand = NULL;
}

/* Starvation bookkeeping: call after changing a domain's counts. */
static void starve_update(struct metrics *m, int d, fv_ns_t now)
{
    starve_cpu(m->starve, d, m->dom[d].nr_running, m->dom[d].nr_waiting, now);
}

/* Leave the current state, accounting its time. */
static void leave(struct metrics *m, struct mt_vcpu *v, fv_ns_t now)
{
    fv_ns_t span = now - v->acct;
    struct mt_dom *md = &m->dom[v->dom];
    if (v->state == MT_RUNNING) {
        v->iv_cpu += span;
        v->iv_runnable += span;
        md->nr_running--;
    } else if (v->state == MT_WAITING) {
        v->iv_runnable += span;
        md->nr_waiting--;
    }
    v->acct = now;
}

static void enter(struct metrics *m, struct mt_vcpu *v, enum mt_state st, fv_ns_t now)
{
    struct mt_dom *md = &m->dom[v->dom];
    v->state = st;
    v->since = v->acct = now;
    if (st == MT_RUNNING)
        md->nr_running++;
    else if (st == MT_WAITING)
        md->nr_waiting++;
    starve_update(m, v->dom, now);
}

void metrics_wake(struct metrics *m, int vid, fv_ns_t now)
{
    struct mt_vcpu *v = &m->vcpu[vid];
    if (v->state != MT_BLOCKED)
        return;
    leave(m, v, now);
    v->woke = true;
    v->iv_wakeups++;
    enter(m, v, MT_WAITING, now);
}

void metrics_boot(struct metrics *m, int vid, fv_ns_t now)
{
    struct mt_vcpu *v = &m->vcpu[vid];
    if (v->state != MT_BLOCKED)
        return;
    leave(m, v, now);
    v->woke = false;
    enter(m, v, MT_WAITING, now);
}

void metrics_run(struct metrics *m, int vid, fv_ns_t now)
{
    struct mt_vcpu *v = &m->vcpu[vid];
    if (v->state == MT_RUNNING)
        return;
    fv_ns_t wait = now - v->since;
    if (v->state == MT_WAITING) {
        hist_add(&m->res[v->dom].wait, (uint64_t)wait);
        if (v->woke)
            hist_add(&m->res[v->dom].wakeup, (uint64_t)wait);
    }
    leave(m, v, now);
    v->woke = false;
    enter(m, v, MT_RUNNING, now);
}

void metrics_stop(struct metrics *m, int vid, fv_ns_t now, bool runnable)
{
    struct mt_vcpu *v = &m->vcpu[vid];
    if (v->state != MT_RUNNING)
        return;
    leave(m, v, now);
    v->woke = false;
    enter(m, v, runnable ? MT_WAITING : MT_BLOCKED, now);
    /* What it posted to its devices while it ran is posted by now. */
    starve_io_check(m->starve, v->dom, now);
}

void metrics_block(struct metrics *m, int vid, fv_ns_t now)
{
    struct mt_vcpu *v = &m->vcpu[vid];
    if (v->state != MT_WAITING)
        return;
    leave(m, v, now);
    enter(m, v, MT_BLOCKED, now);
}

/* Fold every vCPU's interval counters into its domain, cutting open states
 * at `now` so a long-running vCPU is counted in the interval it ran. */
static void fold_interval(struct metrics *m, fv_ns_t now)
{
    for (int d = 0; d < m->nr_doms; d++) {
        m->dom[d].iv_cpu = m->dom[d].iv_runnable = 0;
        m->dom[d].iv_wakeups = 0;
    }
    for (int i = 0; i < m->nr_vcpus; i++) {
        struct mt_vcpu *v = &m->vcpu[i];
        struct mt_dom *md = &m->dom[v->dom];
        fv_ns_t span = now - v->acct;
        if (v->state == MT_RUNNING)
            v->iv_cpu += span, v->iv_runnable += span;
        else if (v->state == MT_WAITING)
            v->iv_runnable += span;
        v->acct = now;
        md->iv_cpu += v->iv_cpu;
        md->iv_runnable += v->iv_runnable;
        md->iv_wakeups += v->iv_wakeups;
        v->iv_cpu = v->iv_runnable = 0;
        v->iv_wakeups = 0;
    }
}

void metrics_set_net_source(struct metrics *m, metrics_net_fn fn, void *ctx)
{
    m->net_fn = fn;
    m->net_ctx = ctx;
}

/* What a cumulative counter added since `*last`, moving `*last` on; a
 * counter below the reference was restarted and counts from 0. */
static uint64_t counter_delta(uint64_t cur, uint64_t *last)
{
    uint64_t d = cur >= *last ? cur - *last : cur;
    *last = cur;
    return d;
}

/* Fill row's net columns from the source's reading of domain d. */
static void net_sample(struct metrics *m, int d, struct timeline_row *row)
{
    struct dom_net cur;
    memset(&cur, 0, sizeof(cur));
    m->net_fn(m->net_ctx, d, &cur);
    if (!cur.tx_pkts && !cur.rx_pkts && !cur.tx_bytes && !cur.rx_bytes && !cur.drops)
        return;                     /* no reading: keep the reference */
    struct mt_dom *md = &m->dom[d];
    row->net_tx_pkts = counter_delta(cur.tx_pkts, &md->net_tx_pkts);
    row->net_rx_pkts = counter_delta(cur.rx_pkts, &md->net_rx_pkts);
    row->net_tx_bytes = counter_delta(cur.tx_bytes, &md->net_tx_bytes);
    row->net_rx_bytes = counter_delta(cur.rx_bytes, &md->net_rx_bytes);
    row->net_drops = counter_delta(cur.drops, &md->net_drops);
}

void metrics_set_blk_source(struct metrics *m, metrics_blk_fn fn, void *ctx)
{
    m->blk_fn = fn;
    m->blk_ctx = ctx;
}

/* Fill row's blk columns from the source's reading of domain d. */
static void blk_sample(struct metrics *m, int d, struct timeline_row *row)
{
    struct dom_blk *cur = m->blk_cur;
    const size_t hist_at = offsetof(struct dom_blk, latency);
    const size_t after = hist_at + sizeof(cur->latency);
    memset(cur, 0, hist_at);
    memset((char *)cur + after, 0, sizeof(*cur) - after);
    m->blk_fn(m->blk_ctx, d, cur);
    if (!cur->reads && !cur->writes && !cur->bytes && !cur->errors)
        return;                     /* no reading: keep the reference */
    struct mt_dom *md = &m->dom[d];
    row->blk_reads = counter_delta(cur->reads, &md->blk_reads);
    row->blk_writes = counter_delta(cur->writes, &md->blk_writes);
    row->blk_bytes = counter_delta(cur->bytes, &md->blk_bytes);
    row->blk_errors = counter_delta(cur->errors, &md->blk_errors);
}

void metrics_sample(struct metrics *m, fv_ns_t now)
{
    fv_ns_t len = now - m->last_sample;
    if (len <= 0)
        return;
    fold_interval(m, now);
    starve_io_check(m->starve, -1, now);
    /* Domains removed at run time (a live host) have left the policy:
     * only the others are entitled, and a removed one gets rows until the
     * interval it left in. */
    int n = 0;
    for (int d = 0; d < m->nr_doms; d++) {
        if (m->s->doms[d]->dead)
            continue;
        m->demand[n].dom = m->s->doms[d];
        m->demand[n].demand = (double)m->dom[d].iv_runnable / (double)len;
        m->demand[n].entitled = 0.0;
        n++;
    }
    sched_core_entitle(m->s, m->demand, n);
    double capacity = (double)len * m->pcpus;
    int nrows = 0, k = 0;           /* k: the live domains' entries, in the same order */
    for (int d = 0; d < m->nr_doms; d++) {
        struct mt_dom *md = &m->dom[d];
        struct dom_result *r = &m->res[d];
        bool dead = m->s->doms[d]->dead;
        double entitled = dead ? 0.0 : m->demand[k++].entitled;
        r->cpu_ns += md->iv_cpu;
        r->runnable_ns += md->iv_runnable;
        r->entitled_ns += (fv_ns_t)(entitled * (double)len + 0.5);
        md->recent_share = (double)md->iv_cpu / capacity;
        if (dead && md->left_at < m->last_sample)
            continue;
        struct timeline_row *row = &m->rows[nrows++];
        *row = (struct timeline_row){
            .t0 = m->last_sample, .t1 = now, .dom_index = d,
            .cpu_ns = md->iv_cpu, .cpu_share = (double)md->iv_cpu / capacity,
            .entitled_share = entitled / m->pcpus,
            .runnable_ns = md->iv_runnable,
            .work_units = r->work_units - md->work_at_last_sample,
            .wakeups = md->iv_wakeups,
        };
        md->work_at_last_sample = r->work_units;
        if (m->net_fn)
            net_sample(m, d, row);
        if (m->blk_fn)
            blk_sample(m, d, row);
    }
    if (m->sink.rows)
        m->sink.rows(m->sink.ctx, m->rows, nrows);
    m->last_sample = now;
}

void metrics_finish(struct metrics *m, fv_ns_t start, fv_ns_t now)
{
    metrics_sample(m, now);
    /* An episode still open at the end counts if already too long. */
    starve_finish(m->starve, now);
    for (int d = 0; d < m->nr_doms; d++) {
        struct dom_result *r = &m->res[d];
        r->starvation_events = 0;
        r->starved_ns = 0;
        for (int k = 0; k < RUN_STARVE_RESOURCES; k++) {
            r->starve_by[k] = starve_totals(m->starve, d, (enum starve_res)k);
            r->starvation_events += r->starve_by[k].events;
            r->starved_ns += r->starve_by[k].starved_ns;
        }
        double total = (double)(now - start) * m->pcpus;
        m->res[d].cpu_share = total > 0 ? (double)m->res[d].cpu_ns / total : 0.0;
        m->res[d].entitled_share = total > 0 ? (double)m->res[d].entitled_ns / total : 0.0;
    }
}

int metrics_add_domain(struct metrics *m, fv_ns_t now)
{
    struct scheduler *s = m->s;
    int d = s->nr_doms - 1;
    if (d != m->nr_doms || s->nr_doms > m->cap_doms || s->nr_units > m->cap_vcpus)
        return -ENOSPC;
    int rc = starve_grow(m->starve, d + 1);
    if (rc)
        return rc;
    memset(&m->dom[d], 0, sizeof(m->dom[d]));
    init_dom_vcpus(m, d, now);
    m->nr_vcpus = s->nr_units;
    m->nr_doms = d + 1;
    return 0;
}

void metrics_remove_domain(struct metrics *m, int d, fv_ns_t now)
{
    const struct sched_domain *sd = m->s->doms[d];
    for (int i = 0; i < sd->nr_units; i++) {
        int vid = sd->units[i]->id;
        metrics_stop(m, vid, now, false);
        metrics_block(m, vid, now);
    }
    m->dom[d].left_at = now;
}

double metrics_recent_share(const struct metrics *m, int d)
{
    return d >= 0 && d < m->nr_doms ? m->dom[d].recent_share : 0.0;
}

void metrics_set_io_source(struct metrics *m, starve_io_fn fn, void *ctx, starve_clock_fn clock,
                           void *clock_ctx)
{
    starve_set_io_source(m->starve, fn, ctx, clock, clock_ctx);
}

void metrics_take_starvation(struct metrics *m, struct run_result *rr)
{
    rr->nr_starve_list = m->starve ? starve_take_list(m->starve, &rr->starve_list,
                                                      &rr->starve_list_truncated) : 0;
}
