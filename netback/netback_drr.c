/* netback_drr.c — the TX side of a pass with netback.fairness: drr.
 *
 * Rounds: in each, every connected vif with TX requests pending has a turn
 * (qos.h: its quantum is added and head frames go while they fit in the
 * deficit); its producer is read again at every turn, so a request posted
 * while the pass runs waits one round, not behind every other vif's whole
 * budget. Frames go to the port in bursts of up to NB_BURST, whoever sent
 * them; a round that took the last request of some vif's ring (a light
 * vif, perhaps waiting for an answer) sends its burst at once, and after a
 * round that sent a burst what the port has received is delivered and its
 * RX responses pushed (the guest notified if it asked) before the next
 * round, so a reply is not held behind floods. (In virtual time a pass
 * takes effect at once, so only its length shows: there a light vif gains
 * nothing over none; on the real engine it gains its place in the pass.)
 * A round in which no head frame fitted skips the empty rounds DRR would
 * go through (every waiting vif gets the quanta of those rounds at once).
 *
 * The pass stops once it has taken what none would (up to NB_TX_BUDGET
 * requests for every vif that had any pending; DRR shares that total by
 * weight), or when a round takes nothing, or the port runs out of buffers;
 * a turn the budget cut short is resumed by the next pass without a second
 * quantum. Costs are netback.c's: per packet and per KiB to its vif; a
 * burst's cost is shared by the vifs whose requests it carried, in
 * proportion (virtual time); measured time per turn and per burst (real
 * time). */
#include "netback_priv.h"

#include <stdint.h>

#define NB_DRR_MAX_ROUNDS 4096          /* per pass: a bound a racing guest cannot lift */

/* The requests taken since the last burst: [0, n) frames for the port,
 * [n, have) fresh buffers not used yet; who[] took each request (refused
 * ones too: their burst cost is theirs as well). */
struct batch {
    struct nb_pkt p[NB_BURST];
    struct nb_vif *src[NB_BURST];
    struct nb_vif *who[NB_BURST];
    unsigned n, have, reqs;
    fv_ns_t flushed;                    /* real time: measured in flushes, this turn */
    bool urgent;                        /* it holds the last request of a vif's ring */
    bool sent;                          /* a burst went to the port this round */
};

struct round {
    int budget, total;                  /* requests this pass may take / has taken */
    bool sent, waiting, no_buffers;
    uint64_t skip;                      /* waiting vifs: the fewest turns until one fits */
};

/* A buffer for the next frame (allocated `hint` at a time, at most a
 * burst), or NULL when the port has none left. */
static struct nb_pkt *batch_buffer(struct netback *nb, struct batch *b, uint32_t hint)
{
    if (b->n < b->have)
        return &b->p[b->n];
    unsigned want = NB_BURST - b->have;
    if (hint && hint < want)
        want = hint;
    unsigned got = nb_port_alloc(nb->c.port, b->p + b->have, want);
    if (!got && want > 1)
        got = nb_port_alloc(nb->c.port, b->p + b->have, 1);
    if (!got)
        return NULL;
    b->have += got;
    return &b->p[b->n];
}

/* Send the batch as one burst and charge it. */
static void batch_flush(struct netback *nb, struct batch *b)
{
    if (b->have > b->n)
        nb_port_free(nb->c.port, b->p + b->n, b->have - b->n);
    if (!b->reqs) {
        b->n = b->have = 0;
        return;
    }
    if (nb->c.virtual_time) {
        fv_ns_t c = nb->c.scn->netback.cost_burst, each = c / (fv_ns_t)b->reqs;
        nb->cost += c;
        for (unsigned i = 0; i < b->reqs; i++)
            NB_ADD(b->who[i]->st.backend_ns, i ? each : c - each * (fv_ns_t)(b->reqs - 1));
    }
    fv_ns_t t0 = nb->c.virtual_time || !b->n ? 0 : nb_mono_ns();
    if (b->n)
        nb_forward(nb, b->src, b->p, b->n);
    if (t0) {
        fv_ns_t dt = nb_mono_ns() - t0, each = dt / (fv_ns_t)b->n;
        for (unsigned i = 0; i < b->n; i++)
            nb_charge_time(nb, b->src[i], i ? each : dt - each * (fv_ns_t)(b->n - 1));
        b->flushed += dt;
    }
    b->n = b->have = b->reqs = 0;
    b->urgent = false;
    b->sent = true;
}

/* Whether v is out of credit (a timer armed, not due yet); notes it. */
static bool credit_stalled(struct netback *nb, struct nb_vif *v)
{
    fv_ns_t due = 0;
    if (v->stalled)
        return true;
    if (!nb_credit_stalled(&v->credit, nb->now, &due))
        return false;
    nb_vif_stall(nb, v, due);
    return true;
}

/* One request of v, if its head frame fits the deficit and the credit:
 * 1 taken, 0 not (v's turn ends), -1 taken and v disconnected. */
static int take_one(struct netback *nb, struct nb_vif *v, uint32_t prod, struct batch *b,
                    struct round *r)
{
    struct nb_pkt *p = batch_buffer(nb, b, prod - v->tx.req_cons);
    if (!p) {
        r->no_buffers = true;           /* the requests wait for the next pass */
        return 0;
    }
    struct netif_tx_request req;
    /* A size netback refuses skips the checks: taking it disconnects v. */
    if (nb_tx_peek(v, &req)) {
        if (req.size > v->drr.deficit) {
            v->drr_waiting = r->waiting = true;
            uint64_t k = nb_drr_turns_needed(&v->drr, req.size);
            if (k < r->skip)
                r->skip = k;
            return 0;
        }
        if (!nb_tx_credit(nb, v, req.size))
            return 0;
        nb_drr_take(&v->drr, req.size);
    }
    int rc = nb_tx_take(nb, v, &req, p);
    b->who[b->reqs++] = v;
    if (rc == 0)
        b->src[b->n++] = v;
    v->pass_tx++;
    r->total++;
    r->sent = true;
    if (b->reqs == NB_BURST)
        batch_flush(nb, b);
    return rc < 0 ? -1 : 1;
}

/* v's turn (resume: the quantum of this turn was added by the last pass).
 * Returns whether v has requests it could still send now (the budget cut
 * its turn short). */
static bool vif_turn(struct netback *nb, struct nb_vif *v, bool resume, struct batch *b,
                     struct round *r)
{
    v->drr_waiting = false;
    if (atomic_load_explicit(&v->state, memory_order_acquire) != VIF_CONNECTED)
        return false;
    uint32_t prod = FV_RING_REQ_PROD(&v->tx);
    if (!nb_tx_prod_ok(nb, v, prod))
        return false;
    if (v->tx.req_cons == prod || credit_stalled(nb, v)) {
        nb_drr_idle(&v->drr);
        return false;
    }
    /* Its part of the pass: what none would take from it, so that a light
     * vif's unused part does not lengthen the heavy ones' pass. */
    if (!v->pass_budgeted) {
        v->pass_budgeted = true;
        uint32_t pending = prod - v->tx.req_cons;
        r->budget += pending < NB_TX_BUDGET ? (int)pending : NB_TX_BUDGET;
    }
    fv_ns_t t0 = nb->c.virtual_time ? 0 : nb_mono_ns();
    b->flushed = 0;
    if (!resume)
        nb_drr_turn(&v->drr);
    int rc = 1;
    while (v->tx.req_cons != prod && r->total < r->budget && rc > 0)
        rc = take_one(nb, v, prod, b, r);
    if (t0)
        nb_charge_time(nb, v, nb_mono_ns() - t0 - b->flushed);
    if (rc < 0)
        return false;
    if (v->tx.req_cons == prod || v->stalled)
        nb_drr_idle(&v->drr);
    /* A vif that emptied its ring is a light one, maybe waiting for an
     * answer: its frames go out at the end of the round. A heavy one's
     * wait for a full burst. */
    if (v->tx.req_cons == prod && v->pass_tx)
        b->urgent = true;
    return rc > 0 && v->tx.req_cons != prod;
}

/* The empty rounds DRR would go through before a waiting vif's head fits:
 * each waiting vif gets their quanta now. */
static void skip_rounds(struct netback *nb, uint64_t rounds)
{
    for (int i = 0; i < nb->nr_vifs; i++) {
        struct nb_vif *v = &nb->vif[i];
        if (v->drr_waiting)
            v->drr.deficit += rounds * v->drr.quantum;
    }
}

int nb_drr_tx(struct netback *nb)
{
    int n = nb->nr_vifs, moved_rx = 0;
    if (!n)
        return 0;
    for (int i = 0; i < n; i++)
        nb->vif[i].pass_budgeted = false;
    struct batch b = { .n = 0 };
    struct round r = { .budget = 0 };
    int start = nb->drr_cur < n ? nb->drr_cur : 0;
    bool resume = nb->drr_in_turn;
    nb->drr_in_turn = false;
    for (int round = 0; round < NB_DRR_MAX_ROUNDS; round++) {
        r.sent = r.waiting = false;
        r.skip = UINT64_MAX;
        for (int k = 0; k < n; k++) {
            int i = (start + k) % n;
            bool more = vif_turn(nb, &nb->vif[i], resume && k == 0, &b, &r);
            resume = false;
            /* (Every vif adds its part when first seen: the first round
             * goes all the way round.) */
            bool seen_all = round > 0 || k == n - 1;
            if (r.no_buffers || (seen_all && r.budget && r.total >= r.budget)) {
                /* The next pass begins here; with the rest of this turn if
                 * the budget cut it short. */
                nb->drr_cur = more || r.no_buffers ? i : (i + 1) % n;
                nb->drr_in_turn = more || r.no_buffers;
                batch_flush(nb, &b);
                return r.total + moved_rx;
            }
        }
        if (b.urgent)
            batch_flush(nb, &b);
        if (b.sent) {
            moved_rx += nb_rx_from_port(nb);
            for (int i = 0; i < n; i++)
                nb_push_rx(nb, &nb->vif[i]);
            b.sent = false;
        }
        if (!r.sent) {
            if (!r.waiting)
                break;
            skip_rounds(nb, r.skip - 1);
        }
    }
    batch_flush(nb, &b);                /* what the last rounds took (the caller takes RX) */
    return r.total + moved_rx;
}
