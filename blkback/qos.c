/* qos.c — blkback's I/O scheduler: SFQ start tags, mClock's R and L tags,
 * FIFO. The rules and why are in qos.h. Flows are few (the vbds of a host)
 * and a dispatch looks at every head: O(flows) per request, no heap. */
#include "qos.h"

#include <errno.h>
#include <stdlib.h>

#define NS_PER_S 1000000000LL

/* floor(k x 1e9 / rate) for -rate < k < rate (|k x 1e9| < 1e16: no overflow). */
static fv_ns_t spacing_offset(int64_t k, uint64_t rate)
{
    int64_t n = k * NS_PER_S, r = (int64_t)rate, q = n / r;
    return (fv_ns_t)(n % r != 0 && n < 0 ? q - 1 : q);
}

/* The tag of the next request that arrived at `arrival`: max(previous +
 * 1/rate, arrival); the first one's is its arrival. */
static fv_ns_t spacing_next(struct bb_qos_spacing *sp, fv_ns_t arrival)
{
    if (sp->started) {
        int64_t k = sp->k + 1;
        fv_ns_t base = sp->base;
        if (k == (int64_t)sp->rate)         /* a whole second: exact, keeps k small */
            base += NS_PER_S, k = 0;
        fv_ns_t tag = base + spacing_offset(k, sp->rate);
        if (tag >= arrival) {
            sp->base = base, sp->k = k;
            return tag;
        }
    }
    /* Idle (or new): no credit for the time nothing was asked. */
    sp->started = true;
    sp->base = arrival, sp->k = 0;
    return arrival;
}

/* mClock's adjustment after a weight-phase dispatch: the flow's R tags move
 * back by 1/rate, so the next request gets the R tag this one had. */
static void spacing_undo(struct bb_qos_spacing *sp)
{
    if (!sp->started)
        return;
    if (--sp->k == -(int64_t)sp->rate)
        sp->base -= NS_PER_S, sp->k = 0;
}

int bb_qos_init(struct bb_qos *q, enum bb_qos_mode mode, int nflows)
{
    q->mode = mode;
    q->vtime = 0;
    q->nflows = nflows;
    q->flow = calloc(nflows > 0 ? (size_t)nflows : 1, sizeof(*q->flow));
    if (!q->flow)
        return -ENOMEM;
    for (int i = 0; i < nflows; i++)
        q->flow[i].weight = BB_QOS_WEIGHT_DEFAULT;
    return 0;
}

void bb_qos_fini(struct bb_qos *q)
{
    free(q->flow);
    q->flow = NULL;
    q->nflows = 0;
}

static uint64_t clamp_rate(uint64_t r)
{
    return r > BB_QOS_MAX_RATE ? BB_QOS_MAX_RATE : r;
}

void bb_qos_set(struct bb_qos *q, int i, uint32_t weight, uint64_t reservation, uint64_t limit)
{
    struct bb_qos_flow *f = &q->flow[i];
    f->weight = weight ? weight : BB_QOS_WEIGHT_DEFAULT;
    f->r = (struct bb_qos_spacing){ .rate = clamp_rate(reservation) };
    f->l = (struct bb_qos_spacing){ .rate = clamp_rate(limit) };
}

bool bb_qos_timed(const struct bb_qos *q)
{
    for (int i = 0; i < q->nflows; i++)
        if (q->flow[i].l.rate || (q->mode == BB_QOS_SFQ && q->flow[i].r.rate))
            return true;
    return false;
}

void bb_qos_head(struct bb_qos *q, int i, uint64_t seq, fv_ns_t arrival)
{
    struct bb_qos_flow *f = &q->flow[i];
    f->active = true;
    f->seq = seq;
    if (q->mode == BB_QOS_SFQ) {
        f->woke = q->vtime > f->finish;
        f->start = q->vtime > f->finish ? q->vtime : f->finish;
        f->finish = f->start + BB_QOS_VSCALE / f->weight;
        if (f->r.rate)
            f->rtag = spacing_next(&f->r, arrival);
    }
    if (f->l.rate)
        f->ltag = spacing_next(&f->l, arrival);
}

void bb_qos_drop(struct bb_qos *q, int i)
{
    q->flow[i].active = false;
}

/* The active flow with the smallest R tag that is due, or -1. */
static int pick_reservation(const struct bb_qos *q, fv_ns_t now)
{
    int best = -1;
    for (int i = 0; i < q->nflows; i++) {
        const struct bb_qos_flow *f = &q->flow[i];
        if (!f->active || !f->r.rate || f->rtag > now)
            continue;
        const struct bb_qos_flow *b = best < 0 ? NULL : &q->flow[best];
        if (!b || f->rtag < b->rtag || (f->rtag == b->rtag && f->seq < b->seq))
            best = i;
    }
    return best;
}

/* The active flow under its limit with the first arrival (FIFO) or the
 * smallest start tag (SFQ), or -1 with *wait the earliest L tag ahead. */
static int pick_weight(const struct bb_qos *q, fv_ns_t now, fv_ns_t *wait)
{
    int best = -1;
    *wait = 0;
    for (int i = 0; i < q->nflows; i++) {
        const struct bb_qos_flow *f = &q->flow[i];
        if (!f->active)
            continue;
        if (f->l.rate && f->ltag > now) {
            if (!*wait || f->ltag < *wait)
                *wait = f->ltag;
            continue;
        }
        const struct bb_qos_flow *b = best < 0 ? NULL : &q->flow[best];
        bool sfq = q->mode == BB_QOS_SFQ;
        bool before = !b || (sfq && f->start != b->start ? f->start < b->start
                             : sfq && f->woke != b->woke ? f->woke
                                                         : f->seq < b->seq);
        if (before)
            best = i;
    }
    return best;
}

int bb_qos_dispatch(struct bb_qos *q, fv_ns_t now, enum bb_qos_phase *phase, fv_ns_t *when)
{
    *phase = BB_QOS_NONE;
    *when = 0;
    int i = q->mode == BB_QOS_SFQ ? pick_reservation(q, now) : -1;
    if (i >= 0) {
        q->flow[i].active = false;
        q->flow[i].by_reservation++;
        *phase = BB_QOS_RESERVATION;
        return i;
    }
    if ((i = pick_weight(q, now, when)) < 0)
        return -1;
    *when = 0;
    struct bb_qos_flow *f = &q->flow[i];
    if (q->mode == BB_QOS_SFQ) {
        if (f->start > q->vtime)
            q->vtime = f->start;
        if (f->r.rate)
            spacing_undo(&f->r);
    }
    f->active = false;
    f->by_weight++;
    *phase = BB_QOS_WEIGHT;
    return i;
}
