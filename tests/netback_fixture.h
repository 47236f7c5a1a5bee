/* netback_fixture.h — netback in one process, without an engine, for
 * tests/test_netback.c and fuzz/fuzz_netback.c. Header-only.
 *
 * nbf_init builds: a scenario of n guest domains (ids 1..n, domain index
 * id - 1, one vif each, MAC 00:16:3e:00:00:ID) and Domain-0 (id 0, the
 * last index); each guest's memory (pages * 4 KiB, page aligned, zeroed)
 * and its grant table over it; a domain table holding every domain's event
 * channels; an in-memory loop port; and netback in virtual time. The
 * calling thread must be domtab_thread_online(). Errors are returned
 * (0 or -errno), never asserted: the fuzz harness has no cmocka.
 *
 * A guest plays netfront. Its memory is laid out as
 *     page 0            TX ring
 *     page 1            RX ring
 *     pages 2..2+T-1    TX buffers (granted read-only to domain 0)
 *     then R pages      RX buffers (granted writable)
 * and every later page is never granted by the fixture (tests and the
 * fuzz harness check that netback leaves such pages alone). nbf_front
 * grants rings and buffers (references in that order: 0 TX ring, 1 RX
 * ring, 2.. TX buffers, then RX buffers), initialises the rings and
 * allocates the guest's event channel; nbf_connect hands them to netback.
 * The send/receive helpers behave like a well-behaved netfront; tests and
 * the harness write hostile requests straight into the ring pages.
 *
 * Frames (nbf_frame_fill) carry a 4-byte sequence number after the
 * Ethernet header, and every other byte is a function of it and its
 * offset, so a frame that arrives can be checked byte for byte.
 */
#ifndef FV_NETBACK_FIXTURE_H
#define FV_NETBACK_FIXTURE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/domtab.h"
#include "hv/evtchn.h"
#include "hv/gnttab.h"
#include "netback/netback.h"
#include "netback/netif.h"
#include "netback/port.h"
#include "tests/scn_build.h"

#define NBF_PAGE 4096u
#define NBF_MAX_GUESTS 4
#define NBF_TX_BUFS 4
#define NBF_MAX_RX 64
#define NBF_TXB 2                       /* first TX buffer page */
#define NBF_ETHERTYPE 0x88B5            /* IEEE local experimental */
#define NBF_HDR 18                      /* Ethernet header + sequence number */

struct nbf_conf {
    int guests;                         /* 1..NBF_MAX_GUESTS */
    uint32_t pages;                     /* per guest; >= 2 + NBF_TX_BUFS + rx_bufs */
    uint32_t max_grants;                /* per guest; 0: GNTTAB_DEFAULT_MAX */
    int rx_bufs;                        /* per guest, 1..NBF_MAX_RX */
    unsigned port_bufs;                 /* the loop port's frames in flight */
    /* Optional, for callers that build many fixtures (the fuzz harness):
     * the guests' memory (guests * pages pages, page aligned; zeroed here,
     * not freed), and a port to use instead of opening one (not closed). */
    uint8_t *mem;
    struct nb_port *port;
};

struct nbf_guest {
    int d, domid;                       /* domain index, id (d + 1) */
    uint8_t mac[6];
    uint8_t *mem;
    uint32_t pages;
    struct gnttab *gt;
    struct netif_tx_front tx;
    struct netif_rx_front rx;
    int tx_ref, rx_ref;                 /* the ring pages' grants */
    int port;                           /* the guest's end of its event channel */
    int tx_buf_ref[NBF_TX_BUFS];
    int nrx;
    int rx_buf_ref[NBF_MAX_RX];
    bool rx_out[NBF_MAX_RX];            /* posted, not answered yet */
    uint64_t tx_ok, tx_err;             /* TX responses seen */
};

struct nbf {
    struct nbf_conf c;
    struct scenario *scn;
    int nguests;
    struct nbf_guest g[NBF_MAX_GUESTS];
    struct domtab *dt;
    struct evtchn_tab ev;
    struct nb_port *port;
    struct netback *nb;
};

static inline uint8_t *nbf_page(const struct nbf_guest *g, uint32_t p)
{
    return g->mem + (size_t)p * NBF_PAGE;
}
static inline uint32_t nbf_rx_page_no(int id) { return NBF_TXB + NBF_TX_BUFS + (uint32_t)id; }

static inline void nbf_free_ev(int id, void *dom, struct evtchn_dom *ev, void *arg)
{
    (void)id;
    (void)dom;
    (void)arg;
    evtchn_dom_free(ev);
}

static inline void nbf_fini(struct nbf *f)
{
    netback_destroy(f->nb);
    if (!f->c.port)
        nb_port_close(f->port);
    if (f->dt)
        domtab_destroy(f->dt, nbf_free_ev, NULL);
    for (int i = 0; i < f->nguests; i++) {
        gnttab_destroy(f->g[i].gt);
        if (!f->c.mem)
            free(f->g[i].mem);
    }
    if (f->scn)
        scn_build_free(f->scn);
    memset(f, 0, sizeof(*f));
}

static inline int nbf_evtchn_dom(struct nbf *f, int id)
{
    struct evtchn_dom *e = evtchn_dom_create(id, 1, 0);
    if (!e)
        return -errno;
    int rc = domtab_insert(f->dt, id, NULL, e);
    if (rc)
        evtchn_dom_free(e);
    return rc;
}

static inline int nbf_guest_mem(struct nbf *f, int i)
{
    struct nbf_guest *g = &f->g[i];
    g->d = i;
    g->domid = i + 1;
    memcpy(g->mac, f->scn->domains[i].vifs[0].mac, 6);
    g->pages = f->c.pages;
    g->mem = f->c.mem ? f->c.mem + (size_t)i * g->pages * NBF_PAGE
                      : aligned_alloc(NBF_PAGE, (size_t)g->pages * NBF_PAGE);
    if (!g->mem)
        return -ENOMEM;
    memset(g->mem, 0, (size_t)g->pages * NBF_PAGE);
    g->gt = gnttab_create(g->domid, g->mem, (uint64_t)g->pages * NBF_PAGE, f->c.max_grants);
    return g->gt ? 0 : -errno;
}

/* Everything but the guests' rings and channels (nbf_front). */
static inline int nbf_init(struct nbf *f, const struct nbf_conf *c)
{
    memset(f, 0, sizeof(*f));
    f->c = *c;
    if (c->guests < 1 || c->guests > NBF_MAX_GUESTS || c->rx_bufs < 1 ||
        c->rx_bufs > NBF_MAX_RX || c->pages < NBF_TXB + NBF_TX_BUFS + (uint32_t)c->rx_bufs)
        return -EINVAL;
    f->scn = scn_build("credit", 1, FV_MS(100));
    for (int i = 0; i < c->guests; i++) {
        char name[16];
        snprintf(name, sizeof(name), "guest%d", i + 1);
        scn_build_vif(f->scn, scn_build_dom(f->scn, name, "idle"));
    }
    scn_build_dom0(f->scn, SCN_NB_RING);
    int rc;
    f->dt = domtab_create(c->guests + 1);
    if (!f->dt)
        return -errno;
    evtchn_tab_init(&f->ev, f->dt, NULL, NULL);
    for (int id = 0; id <= c->guests; id++)
        if ((rc = nbf_evtchn_dom(f, id)))
            return rc;
    struct gnttab *gt[NBF_MAX_GUESTS + 1] = { 0 };
    for (int i = 0; i < c->guests; i++, f->nguests++) {
        if ((rc = nbf_guest_mem(f, i)))
            return rc;
        gt[i] = f->g[i].gt;
    }
    char err[256];
    struct nb_port_conf pc = { .kind = NB_PORT_LOOP, .nr_bufs = c->port_bufs };
    if (c->port)
        f->port = c->port;
    else if ((rc = nb_port_open(&f->port, &pc, err, sizeof(err))))
        return rc;
    struct netback_conf nc = { .scn = f->scn, .port = f->port, .virtual_time = true,
                               .ev = &f->ev, .gt = gt };
    f->nb = netback_create(&nc);
    return f->nb ? 0 : -errno;
}

/* Guest i sets up its rings, grants and event channel, as netfront does
 * before it connects; RX buffers are not posted yet (nbf_post_rx). */
static inline int nbf_front(struct nbf *f, int i)
{
    struct nbf_guest *g = &f->g[i];
    struct netif_tx_sring *txs = (struct netif_tx_sring *)nbf_page(g, 0);
    struct netif_rx_sring *rxs = (struct netif_rx_sring *)nbf_page(g, 1);
    FV_SHARED_RING_INIT(txs);
    FV_SHARED_RING_INIT(rxs);
    FV_FRONT_RING_INIT(&g->tx, txs);
    FV_FRONT_RING_INIT(&g->rx, rxs);
    g->tx_ref = gnttab_grant(g->gt, 0, txs, false);
    g->rx_ref = gnttab_grant(g->gt, 0, rxs, false);
    if (g->tx_ref < 0 || g->rx_ref < 0)
        return g->tx_ref < 0 ? g->tx_ref : g->rx_ref;
    for (int b = 0; b < NBF_TX_BUFS; b++)
        if ((g->tx_buf_ref[b] = gnttab_grant(g->gt, 0, nbf_page(g, NBF_TXB + (uint32_t)b), true)) < 0)
            return g->tx_buf_ref[b];
    g->nrx = f->c.rx_bufs;
    for (int b = 0; b < g->nrx; b++)
        if ((g->rx_buf_ref[b] = gnttab_grant(g->gt, 0, nbf_page(g, nbf_rx_page_no(b)), false)) < 0)
            return g->rx_buf_ref[b];
    g->port = evtchn_alloc_unbound(&f->ev, g->domid, 0);
    return g->port < 0 ? g->port : 0;
}

static inline int nbf_connect(struct nbf *f, int i)
{
    struct nbf_guest *g = &f->g[i];
    return netback_connect(f->nb, g->d, 0, (uint32_t)g->tx_ref, (uint32_t)g->rx_ref, g->port);
}

static inline const struct netback_vif_stats *nbf_stats(const struct nbf *f, int i)
{
    return netback_vif_stats(f->nb, f->g[i].d, 0);
}

static inline int nbf_pass(struct nbf *f)
{
    fv_ns_t cost;
    return netback_poll(f->nb, &cost);
}

/* Publish both rings; notify domain 0 if it asked. Returns whether it did. */
static inline bool nbf_push(struct nbf *f, int i)
{
    struct nbf_guest *g = &f->g[i];
    bool n1 = false, n2 = false;
    FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&g->tx, n1);
    FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&g->rx, n2);
    if (n1 || n2)
        evtchn_send(&f->ev, g->domid, g->port);
    return n1 || n2;
}

/* Queue every RX buffer that is not posted (not published: nbf_push). */
static inline int nbf_post_rx(struct nbf_guest *g)
{
    int n = 0;
    for (int id = 0; id < g->nrx; id++) {
        if (g->rx_out[id] || FV_RING_FULL(&g->rx))
            continue;
        struct netif_rx_request *r = FV_RING_GET_REQUEST(&g->rx, g->rx.req_prod_pvt);
        r->id = (uint16_t)id;
        r->pad = 0;
        r->gref = (uint32_t)g->rx_buf_ref[id];
        g->rx.req_prod_pvt++;
        g->rx_out[id] = true;
        n++;
    }
    return n;
}

/* Payload byte k of frame seq is pattern[seq % 256 + k]: it differs from
 * frame to frame, and a fill or a check is one memcpy or memcmp. */
static inline const uint8_t *nbf_pattern(uint32_t seq)
{
    static uint8_t pat[256 + NETIF_FRAME_MAX];
    static bool made;
    if (!made) {
        for (uint32_t k = 0; k < sizeof(pat); k++)
            pat[k] = (uint8_t)(k * 7u + 1u);
        made = true;
    }
    return pat + seq % 256;
}

static inline void nbf_frame_fill(uint8_t *buf, const uint8_t *dst, const uint8_t *src,
                                  uint32_t len, uint32_t seq)
{
    uint8_t hdr[NBF_HDR];
    memcpy(hdr, dst, 6);
    memcpy(hdr + 6, src, 6);
    hdr[12] = NBF_ETHERTYPE >> 8;
    hdr[13] = NBF_ETHERTYPE & 0xff;
    memcpy(hdr + 14, &seq, 4);
    memcpy(buf, hdr, len < NBF_HDR ? len : NBF_HDR);
    if (len > NBF_HDR)
        memcpy(buf + NBF_HDR, nbf_pattern(seq) + NBF_HDR, len - NBF_HDR);
}

/* Whether buf holds exactly the frame nbf_frame_fill made (any seq); *seq. */
static inline bool nbf_frame_ok(const uint8_t *buf, uint32_t len, const uint8_t *dst,
                                const uint8_t *src, uint32_t *seq)
{
    if (len < NBF_HDR || memcmp(buf, dst, 6) || memcmp(buf + 6, src, 6) ||
        buf[12] != NBF_ETHERTYPE >> 8 || buf[13] != (NBF_ETHERTYPE & 0xff))
        return false;
    memcpy(seq, buf + 14, 4);
    return len <= NETIF_FRAME_MAX &&
           memcmp(buf + NBF_HDR, nbf_pattern(*seq) + NBF_HDR, len - NBF_HDR) == 0;
}

/* Queue a frame of len bytes from guest i to dst (not published: nbf_push).
 * The TX buffer is chosen by the request's slot, so up to NBF_TX_BUFS
 * frames may be queued between passes. 0 or -EAGAIN (ring full). */
static inline int nbf_queue(struct nbf *f, int i, const uint8_t *dst, uint32_t len, uint32_t seq)
{
    struct nbf_guest *g = &f->g[i];
    if (FV_RING_FULL(&g->tx) || len < NBF_HDR || len > NETIF_FRAME_MAX)
        return -EAGAIN;
    int b = (int)(g->tx.req_prod_pvt % NBF_TX_BUFS);
    nbf_frame_fill(nbf_page(g, NBF_TXB + (uint32_t)b), dst, g->mac, len, seq);
    struct netif_tx_request *r = FV_RING_GET_REQUEST(&g->tx, g->tx.req_prod_pvt);
    r->gref = (uint32_t)g->tx_buf_ref[b];
    r->offset = 0;
    r->flags = 0;
    r->id = (uint16_t)b;
    r->size = (uint16_t)len;
    g->tx.req_prod_pvt++;
    return 0;
}

/* Collect TX responses; returns how many (counted in tx_ok / tx_err). */
static inline int nbf_tx_reap(struct nbf_guest *g)
{
    int n = 0;
    while (FV_RING_HAS_UNCONSUMED_RESPONSES(&g->tx)) {
        struct netif_tx_response rsp;
        FV_RING_COPY_RESPONSE(&g->tx, g->tx.rsp_cons, &rsp);
        g->tx.rsp_cons++;
        if (rsp.status == NETIF_RSP_OKAY)
            g->tx_ok++;
        else
            g->tx_err++;
        n++;
    }
    return n;
}

struct nbf_rx {
    int id;
    int status;                         /* > 0: the frame's length */
    const uint8_t *data;                /* the frame, when status > 0 */
};

/* The next RX response of guest i: 1 with *out, 0 if none, -EPROTO if the
 * response names no buffer the guest posted or lies outside the page. The
 * buffer is free again (nbf_post_rx reposts it). */
static inline int nbf_rx_next(struct nbf_guest *g, struct nbf_rx *out)
{
    *out = (struct nbf_rx){ .id = -1 };
    if (!FV_RING_HAS_UNCONSUMED_RESPONSES(&g->rx))
        return 0;
    struct netif_rx_response rsp;
    FV_RING_COPY_RESPONSE(&g->rx, g->rx.rsp_cons, &rsp);
    g->rx.rsp_cons++;
    if (rsp.id >= g->nrx || !g->rx_out[rsp.id])
        return -EPROTO;
    g->rx_out[rsp.id] = false;
    if (rsp.status > 0 && (uint32_t)rsp.offset + (uint32_t)rsp.status > NBF_PAGE)
        return -EPROTO;
    out->id = rsp.id;
    out->status = rsp.status;
    out->data = nbf_page(g, nbf_rx_page_no(rsp.id)) + rsp.offset;
    return 1;
}

/* Well-behaved traffic: guest a sends n frames (len bytes, sequence numbers
 * seq..seq+n-1, n <= NBF_TX_BUFS) to guest b, one pass, b takes what came
 * and reposts its buffers, a reaps its responses. Returns the frames b got
 * from a intact and in order, or -1 for anything else (a lost, altered or
 * foreign frame, a refused request). */
static inline int nbf_exchange(struct nbf *f, int a, int b, int n, uint32_t len, uint32_t seq)
{
    struct nbf_guest *ga = &f->g[a], *gb = &f->g[b];
    for (int k = 0; k < n; k++)
        if (nbf_queue(f, a, gb->mac, len, seq + (uint32_t)k))
            return -1;
    nbf_push(f, a);
    nbf_pass(f);
    int got = 0;
    struct nbf_rx rx;
    int rc;
    while ((rc = nbf_rx_next(gb, &rx)) == 1) {
        uint32_t s;
        if (rx.status != (int)len || !nbf_frame_ok(rx.data, len, gb->mac, ga->mac, &s) ||
            s != seq + (uint32_t)got)
            return -1;
        got++;
    }
    nbf_post_rx(gb);
    nbf_push(f, b);
    uint64_t err = ga->tx_err;
    if (rc < 0 || nbf_tx_reap(ga) != n || ga->tx_err != err)
        return -1;
    return got;
}

#endif
