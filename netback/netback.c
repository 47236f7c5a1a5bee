/* netback.c — domain 0's network backend: vif rings <-> the port. The
 * contract, the trust rules and the Locking block are in netback.h.
 *
 * A pass: for each connected vif, clear its event, take up to a budget of
 * TX requests (Linux netback's NAPI weight, 64), copy each frame out of the
 * guest through the grant table into a port buffer, answer the request, and
 * forward the burst; then drain the port into the vifs' RX rings; then push
 * the responses (notifying where the guest asked for it). A vif's request
 * event is re-armed (final check) only by a pass that took nothing from it,
 * just before domain 0 may sleep, and never by a busy-polling netback: the
 * write and full barrier hit a cache line the guest keeps writing.
 *
 * That is fairness none. With drr the TX side of the pass is
 * netback_drr.c's rounds instead; the events, the RX side and the flush
 * are the same. Either way a request is taken only if its vif's credit
 * (qos.h) covers it: the head request is copied once, its size checked
 * against the credit, and that same copy is what is then validated and
 * served, so the guest cannot change the size in between.
 */
#include "netback_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../hv/evtchn.h"
#include "../hv/gnttab.h"
#include "../hv/run.h"

_Static_assert(NB_DROP_MAX == RUN_NET_DROP_CAUSES, "run.h's drop causes follow nb_drop");

const char *const nb_drop_names[NB_DROP_MAX] = {
    "no_rx_buffer", "no_dest", "port_full", "no_buffer", "disconnected", "spoofed",
};

/* ---- helpers --------------------------------------------------------------------- */

static struct nb_vif *vif_by_mac(const struct netback *nb, const uint8_t *mac)
{
    for (uint32_t i = nb_mac_hash(mac) & nb->hmask;; i = (i + 1) & nb->hmask) {
        int32_t k = nb->htab[i];
        if (!k)
            return NULL;
        if (k != NB_HTAB_GONE && memcmp(nb->vif[k - 1].mac, mac, 6) == 0)
            return &nb->vif[k - 1];
    }
}

static bool is_group(const uint8_t *mac) { return mac[0] & 1; }

/* The last lookup, kept for the next: a burst's frames mostly share their
 * source and destination. */
struct mac_memo {
    uint8_t mac[6];
    struct nb_vif *v;
    bool valid;
};

static struct nb_vif *vif_by_mac_memo(const struct netback *nb, struct mac_memo *m,
                                      const uint8_t *mac)
{
    if (m->valid && memcmp(m->mac, mac, 6) == 0)
        return m->v;
    memcpy(m->mac, mac, 6);
    m->v = vif_by_mac(nb, mac);
    m->valid = true;
    return m->v;
}

/* The modelled cost of moving `bytes` (virtual time), charged to v. */
static void charge_packet(struct netback *nb, struct nb_vif *v, uint32_t bytes)
{
    if (!nb->c.virtual_time)
        return;
    const struct scn_netback *n = &nb->c.scn->netback;
    fv_ns_t c = n->cost_packet + (fv_ns_t)(((uint64_t)n->cost_kib * bytes) / 1024);
    nb->cost += c;
    if (v)
        NB_ADD(v->st.backend_ns, c);
}

/* What a pass spent that no single vif's section measured (its loops, the
 * event checks, pushing responses and notifying) is shared among the vifs
 * whose frames it moved, in proportion; a pass that moved nothing (the
 * final look before domain 0 sleeps, woken by an event) is carried to the
 * next pass that does, unless netback busy-polls (dedicated). So their backend_cpu_ns add up to the time of every pass
 * (but the last idle ones): all of netback's CPU but domain 0's own
 * block/wake overhead. */
static void share_rest(struct netback *nb, fv_ns_t pass_ns)
{
    uint64_t frames = 0;
    for (int i = 0; i < nb->nr_vifs; i++)
        frames += nb->vif[i].pass_frames;
    if (!frames) {
        /* A busy-polling backend's idle passes are its own choice, not
         * work for anyone. */
        if (!nb->c.polling)
            nb->carry += pass_ns - nb->measured;
        return;
    }
    fv_ns_t rest = pass_ns - nb->measured + nb->carry, left = rest;
    nb->carry = 0;
    /* Shares of the pass's whole frame count: each part <= its share, so
     * `left` never goes negative and no vif's backend_ns ever shrinks. */
    const uint64_t total = frames;
    for (int i = 0; i < nb->nr_vifs && frames && rest > 0; i++) {
        struct nb_vif *v = &nb->vif[i];
        if (!v->pass_frames)
            continue;
        fv_ns_t part = (fv_ns_t)((uint64_t)rest * v->pass_frames / total);
        frames -= v->pass_frames;
        if (!frames)
            part = left;                /* the last one takes the rounding */
        NB_ADD(v->st.backend_ns, part);
        left -= part;
    }
    for (int i = 0; i < nb->nr_vifs; i++)
        nb->vif[i].pass_frames = 0;
}

static void charge_burst(struct netback *nb, struct nb_vif *v)
{
    if (!nb->c.virtual_time)
        return;
    nb->cost += nb->c.scn->netback.cost_burst;
    if (v)
        NB_ADD(v->st.backend_ns, nb->c.scn->netback.cost_burst);
}

static void count_drop(struct netback *nb, struct nb_vif *v, enum nb_drop why)
{
    if (v)
        NB_ADD(v->st.drops[why], 1);
    else
        NB_ADD(nb->unowned_drops, 1);
}

void nb_vif_disconnect(struct netback *nb, struct nb_vif *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->st.reason, sizeof(v->st.reason), fmt, ap);
    va_end(ap);
    atomic_store_explicit(&v->state, VIF_DEAD, memory_order_relaxed);
    v->st.disconnected = true;
    gnttab_unmap(v->gt, v->tx_ref);
    gnttab_unmap(v->gt, v->rx_ref);
    evtchn_close(nb->c.ev, 0, v->port);
    fprintf(stderr, "fairvisor: netback: vif %s.%d disconnected: %s\n", v->dom_name, v->idx,
            v->st.reason);
}

static const char *grant_error(int rc)
{
    switch (rc) {
    case -EINVAL: return "out of range";
    case -ENOENT: return "not in use";
    case -EPERM: return "not granted to domain 0";
    case -EACCES: return "read-only";
    case -ERANGE: return "offset + size beyond the page";
    case -ESHUTDOWN: return "its domain is being torn down";
    default: return strerror(-rc);
    }
}

/* ---- RX: a frame into a guest ---------------------------------------------------- */

/* Read the guest's request producer once and check it. false: the ring is
 * broken and v was disconnected. */
static bool rx_ring_ok(struct netback *nb, struct nb_vif *v, uint32_t *prod)
{
    *prod = FV_RING_REQ_PROD(&v->rx);
    if (!FV_RING_REQUEST_PROD_OVERFLOW(&v->rx, *prod))
        return true;
    nb_vif_disconnect(nb, v, "RX ring: producer %u is %u requests ahead of the consumer (the ring "
                   "has %u)", *prod, *prod - v->rx.req_cons, (unsigned)netif_rx_RING_SIZE);
    return false;
}

static void deliver(struct netback *nb, struct nb_vif *w, const uint8_t *data, uint16_t len)
{
    int state = atomic_load_explicit(&w->state, memory_order_acquire);
    if (state != VIF_CONNECTED) {
        count_drop(nb, w, state == VIF_DEAD ? NB_DROP_DISCONNECTED : NB_DROP_NO_RX_BUFFER);
        return;
    }
    uint32_t prod;
    if (!rx_ring_ok(nb, w, &prod)) {
        count_drop(nb, w, NB_DROP_DISCONNECTED);
        return;
    }
    /* Responses never overtake the requests they answer, so a free request
     * slot is one between the consumer and the producer. */
    if (w->rx.req_cons == prod) {
        count_drop(nb, w, NB_DROP_NO_RX_BUFFER);
        return;
    }
    struct netif_rx_request req;
    FV_RING_COPY_REQUEST(&w->rx, w->rx.req_cons, &req);
    w->rx.req_cons++;
    int rc = gnttab_copy_to(w->gt, 0, req.gref, 0, data, len);
    struct netif_rx_response *rsp = FV_RING_GET_RESPONSE(&w->rx, w->rx.rsp_prod_pvt);
    rsp->id = req.id;
    rsp->offset = 0;
    rsp->flags = 0;
    rsp->status = rc ? NETIF_RSP_ERROR : (int16_t)len;
    w->rx.rsp_prod_pvt++;
    w->rx_dirty = true;
    if (rc) {
        nb_vif_disconnect(nb, w, "RX request id %u: grant %u %s", req.id, req.gref,
                          grant_error(rc));
        count_drop(nb, w, NB_DROP_DISCONNECTED);
        return;
    }
    w->pass_frames++;
    NB_ADD(w->st.rx_pkts, 1);
    NB_ADD(w->st.rx_bytes, len);
}

/* A frame by destination MAC: one vif, or every vif but the sender's.
 * Returns the vif that got it (NULL: broadcast, or no one). */
static struct nb_vif *switch_frame(struct netback *nb, struct nb_vif *src, const uint8_t *data,
                                   uint16_t len, struct mac_memo *dst_memo)
{
    if (len < NB_ETH_HLEN) {
        count_drop(nb, src, NB_DROP_NO_DEST);
        return NULL;
    }
    if (is_group(data)) {
        for (int i = 0; i < nb->nr_vifs; i++) {
            struct nb_vif *w = &nb->vif[i];
            if (w != src && atomic_load_explicit(&w->state, memory_order_acquire) == VIF_CONNECTED) {
                deliver(nb, w, data, len);
                charge_packet(nb, w, len);
            }
        }
        return NULL;
    }
    struct nb_vif *w = dst_memo ? vif_by_mac_memo(nb, dst_memo, data) : vif_by_mac(nb, data);
    if (!w) {
        count_drop(nb, src, NB_DROP_NO_DEST);
        return NULL;
    }
    deliver(nb, w, data, len);
    charge_packet(nb, w, len);
    return w;
}

/* What the port received, in bursts while the pass's RX budget lasts. In
 * real time a burst's time is read once (the clock is not free) and shared
 * evenly among the vifs its frames went to. */
int nb_rx_from_port(struct netback *nb)
{
    if (nb->c.sink)
        return 0;
    struct nb_pkt p[NB_BURST];
    struct nb_vif *to[NB_BURST];
    int moved = 0;
    while (nb->rx_left > 0) {
        unsigned n = nb_port_rx(nb->c.port, p, NB_BURST);
        if (!n)
            break;
        /* (the rx call itself is in the pass's unmeasured rest) */
        fv_ns_t t0 = nb->c.virtual_time ? 0 : nb_mono_ns();
        struct mac_memo sm = { .valid = false }, dm = { .valid = false };
        /* The burst's own cost goes to the first frame's sender, if ours. */
        charge_burst(nb, p[0].len >= 12 ? vif_by_mac_memo(nb, &sm, p[0].data + 6) : NULL);
        for (unsigned i = 0; i < n; i++) {
            struct nb_vif *src = p[i].len >= 12 ? vif_by_mac_memo(nb, &sm, p[i].data + 6) : NULL;
            to[i] = switch_frame(nb, src, p[i].data, p[i].len, &dm);
            if (!to[i])
                to[i] = src;
        }
        nb_port_free(nb->c.port, p, n);
        if (!nb->c.virtual_time) {
            fv_ns_t dt = nb_mono_ns() - t0, each = dt / (fv_ns_t)n;
            for (unsigned i = 0; i < n; i++)
                if (to[i])
                    nb_charge_time(nb, to[i], i ? each : dt - each * (fv_ns_t)(n - 1));
        }
        moved += (int)n;
        nb->rx_left -= (int)n;
    }
    return moved;
}

/* ---- TX: frames out of a guest --------------------------------------------------- */

/* Send frames: to local vifs directly when the port is the host's (tap),
 * else all through the port; what the port refuses is dropped and counted
 * to its sender. */
void nb_forward(struct netback *nb, struct nb_vif *const *src, struct nb_pkt *p, unsigned n)
{
    if (nb->c.sink) {
        nb_port_free(nb->c.port, p, n);
        return;
    }
    struct nb_pkt out[NB_BURST];
    struct nb_vif *from[NB_BURST];
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        struct nb_vif *w = nb->c.local_switch && !is_group(p[i].data) ? vif_by_mac(nb, p[i].data)
                                                                       : NULL;
        if (nb->c.local_switch && (w || is_group(p[i].data)))
            switch_frame(nb, src[i], p[i].data, p[i].len, NULL);
        if (w) {
            nb_port_free(nb->c.port, &p[i], 1);
        } else {
            from[k] = src[i];
            out[k++] = p[i];
        }
    }
    unsigned sent = k ? nb_port_tx(nb->c.port, out, k) : 0;
    for (unsigned i = sent; i < k; i++)
        NB_ADD(from[i]->st.drops[NB_DROP_PORT_FULL], 1);
    if (sent < k)
        nb_port_free(nb->c.port, out + sent, k - sent);
}

static void tx_respond(struct nb_vif *v, uint16_t id, int16_t status)
{
    struct netif_tx_response *rsp = FV_RING_GET_RESPONSE(&v->tx, v->tx.rsp_prod_pvt);
    rsp->id = id;
    rsp->status = status;
    v->tx.rsp_prod_pvt++;
    v->tx_dirty = true;
}

bool nb_tx_prod_ok(struct netback *nb, struct nb_vif *v, uint32_t prod)
{
    if (!FV_RING_REQUEST_PROD_OVERFLOW(&v->tx, prod))
        return true;
    nb_vif_disconnect(nb, v, "TX ring: producer %u is %u requests ahead of the consumer (the "
                      "ring has %u)", prod, prod - v->tx.req_cons, (unsigned)netif_tx_RING_SIZE);
    return false;
}

bool nb_tx_peek(struct nb_vif *v, struct netif_tx_request *req)
{
    FV_RING_COPY_REQUEST(&v->tx, v->tx.req_cons, req);
    return req->size >= NB_ETH_HLEN && req->size <= NETIF_FRAME_MAX;
}

void nb_vif_stall(struct netback *nb, struct nb_vif *v, fv_ns_t due)
{
    v->stalled = true;
    if (!nb->due || due < nb->due)
        nb->due = due;
}

bool nb_tx_credit(struct netback *nb, struct nb_vif *v, uint32_t size)
{
    fv_ns_t due = 0;
    if (nb_credit_take(&v->credit, size, nb->now, &due))
        return true;
    nb_vif_stall(nb, v, due);
    return false;
}

/* The copy *req was taken once: only it is read from here on (XSA-155),
 * whatever the guest writes into the slot meanwhile. */
int nb_tx_take(struct netback *nb, struct nb_vif *v, const struct netif_tx_request *req,
               struct nb_pkt *p)
{
    v->tx.req_cons++;
    const char *bad = NULL;
    if (req->size < NB_ETH_HLEN || req->size > NETIF_FRAME_MAX)
        bad = "size outside 14..1514";
    else if (req->flags)
        bad = "flags set (none are defined)";
    else if ((uint32_t)req->offset + req->size > GNTTAB_PAGE_SIZE)
        bad = "offset + size beyond the page";
    int rc = bad ? -EINVAL : gnttab_copy_from(v->gt, 0, req->gref, req->offset, p->data,
                                              req->size);
    if (rc) {
        tx_respond(v, req->id, NETIF_RSP_ERROR);
        if (bad)
            nb_vif_disconnect(nb, v, "TX request id %u (offset %u, size %u): %s", req->id,
                              req->offset, req->size, bad);
        else
            nb_vif_disconnect(nb, v, "TX request id %u: grant %u %s", req->id, req->gref,
                              grant_error(rc));
        return -1;
    }
    if (memcmp(p->data + 6, v->mac, 6) != 0) {
        tx_respond(v, req->id, NETIF_RSP_ERROR);
        NB_ADD(v->st.drops[NB_DROP_SPOOFED], 1);
        return 1;
    }
    p->len = req->size;
    tx_respond(v, req->id, NETIF_RSP_OKAY);
    v->pass_frames++;
    NB_ADD(v->st.tx_pkts, 1);
    NB_ADD(v->st.tx_bytes, req->size);
    charge_packet(nb, v, req->size);
    return 0;
}

/* fairness none: up to the budget of v's TX requests, up to `prod` (the
 * guest's producer, read once), in bursts; a request the vif's credit does
 * not cover stays on the ring. Returns the requests taken. */
static int vif_tx(struct netback *nb, struct nb_vif *v, uint32_t prod)
{
    if (!nb_tx_prod_ok(nb, v, prod))
        return 0;
    int taken = 0;
    while (v->tx.req_cons != prod && taken < NB_TX_BUDGET && !v->stalled) {
        unsigned want = prod - v->tx.req_cons;
        if (want > NB_BURST)
            want = NB_BURST;
        if (want > (unsigned)(NB_TX_BUDGET - taken))
            want = (unsigned)(NB_TX_BUDGET - taken);
        struct nb_pkt p[NB_BURST];
        struct nb_vif *src[NB_BURST];
        unsigned n = nb_port_alloc(nb->c.port, p, want);
        if (!n)
            break;                      /* no buffers: the requests wait for the next pass */
        unsigned ok = 0, used = 0;
        bool dead = false;
        for (unsigned i = 0; i < n && !dead; i++, used++) {
            struct netif_tx_request req;
            if (nb_tx_peek(v, &req) && !nb_tx_credit(nb, v, req.size))
                break;
            int rc = nb_tx_take(nb, v, &req, &p[ok]);
            src[ok] = v;
            ok += rc == 0;
            dead = rc < 0;
            taken += rc == 1;           /* a request consumed all the same */
        }
        if (used)
            charge_burst(nb, v);
        if (n > ok)
            nb_port_free(nb->c.port, p + ok, n - ok);
        if (ok)
            nb_forward(nb, src, p, ok);
        taken += (int)ok;
        if (dead)
            break;
    }
    return taken;
}

/* ---- a pass ---------------------------------------------------------------------- */

/* Did the guest post RX buffers beyond any it posted before? Only forward
 * progress counts as work (a producer moved back and forth is not), and a
 * producer more than a ring ahead breaks the ring here too, not only when
 * a frame comes for it. */
static bool rx_posted(struct netback *nb, struct nb_vif *v)
{
    uint32_t prod;
    if (!rx_ring_ok(nb, v, &prod))
        return false;
    if ((int32_t)(prod - v->rx_prod_seen) <= 0)
        return false;
    v->rx_prod_seen = prod;
    return true;
}

/* An event that brought no work, many times in a row, is a storm (XSA-332):
 * each one costs domain 0 a wake-up. */
static void account_event(struct netback *nb, struct nb_vif *v, bool event, bool work)
{
    if (event) {
        v->st.events++;
        charge_burst(nb, v);            /* waking for it is not free */
    }
    if (work) {
        v->quiet_events = 0;
        return;
    }
    if (!event)
        return;
    v->st.spurious++;
    if (++v->quiet_events >= NB_STORM_RUN)
        nb_vif_disconnect(nb, v, "event storm: %u notifications in a row with no work",
                          v->quiet_events);
}

void nb_push_rx(struct netback *nb, struct nb_vif *v)
{
    if (!v->rx_dirty || atomic_load_explicit(&v->state, memory_order_acquire) != VIF_CONNECTED)
        return;
    bool n1 = false;
    FV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&v->rx, n1);
    v->rx_dirty = false;
    if (n1) {
        evtchn_send(nb->c.ev, 0, v->port);
        if (nb->c.virtual_time) {
            nb->cost += nb->c.scn->netback.cost_notify;
            NB_ADD(v->st.backend_ns, nb->c.scn->netback.cost_notify);
        }
    }
}

/* Push v's responses, notify the guest if it asked, and re-arm its request
 * event. Returns 1 if requests came in meanwhile. */
static int vif_flush(struct netback *nb, struct nb_vif *v)
{
    if (atomic_load_explicit(&v->state, memory_order_acquire) != VIF_CONNECTED) {
        v->tx_dirty = v->rx_dirty = false;      /* its rings are no longer ours */
        return 0;
    }
    bool notify = false, n1 = false;
    if (v->tx_dirty)
        FV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&v->tx, notify);
    if (v->rx_dirty)
        FV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&v->rx, n1);
    v->tx_dirty = v->rx_dirty = false;
    if (notify || n1) {
        evtchn_send(nb->c.ev, 0, v->port);
        if (nb->c.virtual_time) {
            nb->cost += nb->c.scn->netback.cost_notify;
            NB_ADD(v->st.backend_ns, nb->c.scn->netback.cost_notify);
        }
    }
    /* Re-arm the request event (a full barrier on a line the guest keeps
     * writing) only before sleeping: never when busy-polling, and not
     * after a pass that took requests (the next pass looks again first),
     * as Linux netback re-enables notifications only once NAPI is done. */
    if (nb->c.polling)
        return 0;
    if (v->pass_tx)
        return 1;
    /* Out of credit: its requests wait for the credit timer (the caller's
     * next_due), and a re-armed event would only wake domain 0 for them. */
    if (v->stalled)
        return 0;
    int more = 0;
    FV_RING_FINAL_CHECK_FOR_REQUESTS(&v->tx, more);
    return more ? 1 : 0;
}

/* After v's TX: did the guest post RX buffers (a busy-polling backend looks
 * at the RX producer, another cache line the guest writes, only when the
 * guest signalled), and was its event work? A vif out of credit had work
 * pending all the same. */
static void vif_after_tx(struct netback *nb, struct nb_vif *v, bool event)
{
    bool posted = false;
    if ((event || !nb->c.polling) &&
        atomic_load_explicit(&v->state, memory_order_relaxed) == VIF_CONNECTED)
        posted = rx_posted(nb, v);
    if (atomic_load_explicit(&v->state, memory_order_relaxed) == VIF_CONNECTED)
        account_event(nb, v, event, v->pass_tx > 0 || posted || v->stalled);
}

/* fairness none: each vif in turn, up to its budget; then the port. */
static int pass_none(struct netback *nb, bool any_event)
{
    int moved = 0;
    for (int i = 0; i < nb->nr_vifs; i++) {
        struct nb_vif *v = &nb->vif[i];
        if (atomic_load_explicit(&v->state, memory_order_acquire) != VIF_CONNECTED)
            continue;
        /* Clear the event before looking: one that comes after is kept. */
        bool event = any_event && evtchn_test_and_clear_pending(nb->c.ev, 0, v->port) == 1;
        /* The producer is read once: the guest writes its cache line all
         * the time. The clock only around real work. */
        uint32_t prod = FV_RING_REQ_PROD(&v->tx);
        bool timed = !nb->c.virtual_time && prod != v->tx.req_cons;
        fv_ns_t t0 = timed ? nb_mono_ns() : 0;
        int n = vif_tx(nb, v, prod);
        if (timed)
            nb_charge_time(nb, v, nb_mono_ns() - t0);
        v->pass_tx = n;
        vif_after_tx(nb, v, event);
        moved += n;
    }
    return moved + nb_rx_from_port(nb);
}

/* fairness drr: every event cleared first, then the rounds (which deliver
 * the port's frames between them), then the rest of the port. */
static int pass_drr(struct netback *nb, bool any_event)
{
    for (int i = 0; i < nb->nr_vifs; i++) {
        struct nb_vif *v = &nb->vif[i];
        v->pass_tx = 0;
        v->pass_event = atomic_load_explicit(&v->state, memory_order_acquire) == VIF_CONNECTED &&
                        any_event && evtchn_test_and_clear_pending(nb->c.ev, 0, v->port) == 1;
    }
    int moved = nb_drr_tx(nb);
    for (int i = 0; i < nb->nr_vifs; i++) {
        struct nb_vif *v = &nb->vif[i];
        if (atomic_load_explicit(&v->state, memory_order_acquire) == VIF_CONNECTED)
            vif_after_tx(nb, v, v->pass_event);
    }
    return moved + nb_rx_from_port(nb);
}

static int poll_locked(struct netback *nb, fv_ns_t now, fv_ns_t *cost, fv_ns_t *next_due)
{
    nb->cost = 0;
    nb->measured = 0;
    nb->due = 0;
    nb->rx_left = NB_RX_BUDGET;
    fv_ns_t pass0 = nb->c.virtual_time ? 0 : nb_mono_ns();
    nb->now = nb->c.virtual_time ? (now > nb->now ? now : nb->now) : pass0;
    for (int i = 0; i < nb->nr_vifs; i++)
        nb->vif[i].stalled = false;
    /* One look at domain 0's pending bits saves a lookup per vif when no
     * event came (a busy-polling pass, mostly). */
    bool any_event = evtchn_pending_any(nb->c.ev, 0, 0) == 1;
    int moved = nb->drr ? pass_drr(nb, any_event) : pass_none(nb, any_event);
    int more = 0;
    for (int i = 0; i < nb->nr_vifs; i++)
        more |= vif_flush(nb, &nb->vif[i]);
    if (nb->c.virtual_time) {
        for (int i = 0; i < nb->nr_vifs; i++)
            nb->vif[i].pass_frames = 0;
    } else if (moved || !nb->c.polling) {
        share_rest(nb, nb_mono_ns() - pass0);
    }
    *cost = nb->cost;
    if (next_due)
        *next_due = !nb->due ? 0 : nb->c.virtual_time ? nb->due
                                  : nb->due > nb->now ? nb->due - nb->now : 1;
    return moved + more;
}

int netback_poll_at(struct netback *nb, fv_ns_t now, fv_ns_t *cost, fv_ns_t *next_due)
{
    pthread_mutex_lock(&nb->lock);
    int rc = poll_locked(nb, now, cost, next_due);
    pthread_mutex_unlock(&nb->lock);
    return rc;
}

int netback_poll(struct netback *nb, fv_ns_t *cost)
{
    return netback_poll_at(nb, nb->now, cost, NULL);
}
