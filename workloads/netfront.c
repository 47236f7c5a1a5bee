/* netfront.c — the guest side of a vif (netfront.h). Guest code: only
 * guest.h calls, no libc. */
#include "netfront.h"

#include <errno.h>
#include <stddef.h>

#define PAGE 4096u

_Static_assert(sizeof(struct netfront) <= 2 * PAGE, "netfront state fits its two pages");
_Static_assert(4 + NETFRONT_TX_BUFS + NETFRONT_RX_BUFS <= NETFRONT_PAGES, "the slice holds it all");

static void post_rx(struct netfront *nf, int id)
{
    struct netif_rx_request *r = FV_RING_GET_REQUEST(&nf->rx, nf->rx.req_prod_pvt);
    r->id = (uint16_t)id;
    r->pad = 0;
    r->gref = (uint32_t)nf->rx_ref[id];
    nf->rx.req_prod_pvt++;
}

static int grant_all(struct netfront *nf, uint8_t *base)
{
    for (int i = 0; i < NETFRONT_TX_BUFS; i++) {
        nf->tx_page[i] = base + (4 + (uint64_t)i) * PAGE;
        nf->tx_ref[i] = guest_grant_access(0, nf->tx_page[i], 1);
        if (nf->tx_ref[i] < 0)
            return nf->tx_ref[i];
        nf->tx_free[i] = (uint16_t)i;
    }
    nf->tx_nfree = NETFRONT_TX_BUFS;
    for (int i = 0; i < NETFRONT_RX_BUFS; i++) {
        nf->rx_page[i] = base + (4 + NETFRONT_TX_BUFS + (uint64_t)i) * PAGE;
        nf->rx_ref[i] = guest_grant_access(0, nf->rx_page[i], 0);
        if (nf->rx_ref[i] < 0)
            return nf->rx_ref[i];
    }
    return 0;
}

int netfront_init(struct netfront **out, int vif)
{
    uint64_t size = 0;
    uint8_t *io = guest_io_area(&size);
    if (vif < 0 || vif >= guest_vif_count() || !io ||
        (uint64_t)(vif + 1) * NETFRONT_PAGES * PAGE > size)
        return -ENODEV;
    uint8_t *base = io + (uint64_t)vif * NETFRONT_PAGES * PAGE;
    struct netfront *nf = (struct netfront *)base;
    __builtin_memset(nf, 0, sizeof(*nf));
    nf->vif = vif;
    int rc = guest_net_addr(guest_domid(), vif, &nf->addr);
    if (rc)
        return rc;
    struct netif_tx_sring *txs = (struct netif_tx_sring *)(base + 2 * PAGE);
    struct netif_rx_sring *rxs = (struct netif_rx_sring *)(base + 3 * PAGE);
    FV_SHARED_RING_INIT(txs);
    FV_SHARED_RING_INIT(rxs);
    FV_FRONT_RING_INIT(&nf->tx, txs);
    FV_FRONT_RING_INIT(&nf->rx, rxs);
    if ((rc = grant_all(nf, base)))
        return rc;
    int tx_ref = guest_grant_access(0, txs, 0), rx_ref = guest_grant_access(0, rxs, 0);
    if (tx_ref < 0 || rx_ref < 0)
        return tx_ref < 0 ? tx_ref : rx_ref;
    for (int i = 0; i < NETFRONT_RX_BUFS; i++)
        post_rx(nf, i);
    int notify;
    FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->rx, notify);
    (void)notify;                       /* nobody is listening yet */
    nf->port = guest_evtchn_alloc_unbound(0);
    if (nf->port < 0)
        return nf->port;
    /* Responses wake the vCPU that waits on them. */
    guest_evtchn_bind_vcpu(nf->port, guest_vcpuid());
    if ((rc = guest_vif_connect(vif, tx_ref, rx_ref, nf->port)))
        return rc;
    *out = nf;
    return 0;
}

int netfront_tx_slot(struct netfront *nf, uint8_t **buf)
{
    if (!nf->tx_nfree || FV_RING_FULL(&nf->tx))
        return -EAGAIN;
    int id = nf->tx_free[--nf->tx_nfree];
    *buf = nf->tx_page[id];
    return id;
}

void netfront_tx_commit(struct netfront *nf, int id, uint32_t len)
{
    struct netif_tx_request *r = FV_RING_GET_REQUEST(&nf->tx, nf->tx.req_prod_pvt);
    r->gref = (uint32_t)nf->tx_ref[id];
    r->offset = 0;
    r->flags = 0;
    r->id = (uint16_t)id;
    r->size = (uint16_t)len;
    nf->tx.req_prod_pvt++;
}

int netfront_send(struct netfront *nf, const void *frame, uint32_t len)
{
    uint8_t *buf;
    if (len > NETIF_FRAME_MAX)
        return -EMSGSIZE;
    int id = netfront_tx_slot(nf, &buf);
    if (id < 0)
        return id;
    __builtin_memcpy(buf, frame, len);
    netfront_tx_commit(nf, id, len);
    return 0;
}

void netfront_flush(struct netfront *nf)
{
    int n1 = 0, n2 = 0;
    FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->tx, n1);
    FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->rx, n2);
    if (n1 || n2)
        guest_evtchn_send(nf->port);
}

int netfront_tx_reap(struct netfront *nf)
{
    int n = 0;
    while (FV_RING_HAS_UNCONSUMED_RESPONSES(&nf->tx)) {
        struct netif_tx_response rsp;
        FV_RING_COPY_RESPONSE(&nf->tx, nf->tx.rsp_cons, &rsp);
        nf->tx.rsp_cons++;
        if (rsp.id >= NETFRONT_TX_BUFS || nf->tx_nfree >= NETFRONT_TX_BUFS) {
            nf->tx_errors++;
            continue;
        }
        if (rsp.status != NETIF_RSP_OKAY)
            nf->tx_errors++;
        else
            nf->tx_done++;
        nf->tx_free[nf->tx_nfree++] = rsp.id;
        n++;
    }
    return n;
}

int netfront_recv(struct netfront *nf, const uint8_t **frame, uint32_t *len, int *id)
{
    while (FV_RING_HAS_UNCONSUMED_RESPONSES(&nf->rx)) {
        struct netif_rx_response rsp;
        FV_RING_COPY_RESPONSE(&nf->rx, nf->rx.rsp_cons, &rsp);
        nf->rx.rsp_cons++;
        if (rsp.id >= NETFRONT_RX_BUFS)
            continue;
        if (rsp.status <= 0 || rsp.offset + (uint32_t)rsp.status > PAGE) {
            nf->rx_errors++;
            netfront_rx_done(nf, rsp.id);
            continue;
        }
        nf->rx_frames++;
        *frame = nf->rx_page[rsp.id] + rsp.offset;
        *len = (uint32_t)rsp.status;
        *id = rsp.id;
        return 1;
    }
    return 0;
}

void netfront_rx_done(struct netfront *nf, int id) { post_rx(nf, id); }

void netfront_wait(struct netfront *nf)
{
    int tx = 0, rx = 0;
    netfront_flush(nf);
    FV_RING_FINAL_CHECK_FOR_RESPONSES(&nf->tx, tx);
    FV_RING_FINAL_CHECK_FOR_RESPONSES(&nf->rx, rx);
    if (!tx && !rx && guest_evtchn_poll(nf->port) != 1)
        guest_block();
    guest_evtchn_poll(nf->port);
}

void netfront_wait_tx(struct netfront *nf)
{
    int tx = 0;
    netfront_flush(nf);
    FV_RING_FINAL_CHECK_FOR_RESPONSES(&nf->tx, tx);
    if (!tx && guest_evtchn_poll(nf->port) != 1)
        guest_block();
    guest_evtchn_poll(nf->port);
}

void netfront_idle(int port)
{
    for (;;) {
        if (port > 0)
            guest_evtchn_poll(port);
        guest_block();
    }
}
