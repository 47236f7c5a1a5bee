/* net_hostile.c — net-hostile: a guest that attacks netback through its own
 * vif, one way per `mode`, so that tests (and users) can see that only its
 * vif is disconnected, with the reason in summary.json, while every other
 * domain's traffic and CPU share go on:
 *   overflow      TX producer 1000 requests ahead of the consumer
 *   rewrite       a valid request rewritten (size 4000) after it was posted
 *   bad-gref      a grant reference beyond the grant table
 *   foreign-gref  a page granted to another domain, not to domain 0
 *   offset        offset + size beyond the page
 *   readonly-rx   RX buffers granted read-only (netback must write them)
 *   storm         its event channel notified again and again with no work
 * It behaves (answers ARP) until `after`. Guest code: only guest.h calls. */
#include <errno.h>
#include <stddef.h>

#include "guest.h"
#include "netfront.h"
#include "netstack.h"
#include "workload.h"

enum { NH_MODE, NH_PEER, NH_AFTER };
enum { M_OVERFLOW, M_REWRITE, M_BAD_GREF, M_FOREIGN_GREF, M_OFFSET, M_READONLY_RX, M_STORM };

static const char *const nh_modes[] = {
    "overflow", "rewrite", "bad-gref", "foreign-gref", "offset", "readonly-rx", "storm", NULL,
};

/* `peer`: a net-sink to address (foreign-gref grants to it; readonly-rx
 * asks it for its MAC so that its answer lands in a read-only buffer). */
const struct wl_peer_rule workload_net_hostile_peer[] = {
    { .role = -1, .kind = "net-sink", .peer_role = -1 },
    { .kind = NULL },
};

static const struct wl_param_desc nh_params[] = {
    [NH_MODE] = { "mode", WL_ENUM, 0, 6, 0, nh_modes,
                  "overflow | rewrite | bad-gref | foreign-gref | offset | readonly-rx | storm" },
    [NH_PEER] = { "peer", WL_INT, 1, 0x7FEF, 1, NULL,
                  "a domain running net-sink (foreign-gref, readonly-rx)" },
    [NH_AFTER] = { "after", WL_NS, 0, 100000000000LL, 0, NULL,
                   "behave until this time, then misbehave" },
    { 0 },
};

static void idle_forever(void) { netfront_idle(0); }

/* A request in the next TX slot, published, the backend told. */
static void post(struct netfront *nf, uint32_t gref, uint16_t offset, uint16_t size)
{
    struct netif_tx_request *r = FV_RING_GET_REQUEST(&nf->tx, nf->tx.req_prod_pvt);
    r->gref = gref;
    r->offset = offset;
    r->flags = 0;
    r->id = 0;
    r->size = size;
    nf->tx.req_prod_pvt++;
    int notify;
    FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->tx, notify);
    (void)notify;
    guest_evtchn_send(nf->port);
}

/* A broadcast ARP request in TX buffer 0: a frame the backend would take. */
static uint32_t valid_frame(struct netfront *nf, struct ns_stack *ns, uint32_t ip)
{
    int len = ns_arp_request(ns, ip, nf->tx_page[0], NS_FRAME_MAX);
    return len > 0 ? (uint32_t)len : 60;
}

static void readonly_rx(struct netfront *nf, struct ns_stack *ns, uint32_t peer_ip)
{
    int ro = guest_grant_access(0, nf->rx_page[0], 1);
    if (ro < 0)
        idle_forever();
    /* Every posted RX request now names the read-only page. */
    for (uint32_t i = 0; i < NETFRONT_RX_BUFS; i++)
        FV_RING_GET_REQUEST(&nf->rx, i)->gref = (uint32_t)ro;
    int len = ns_arp_request(ns, peer_ip, nf->tx_page[1], NS_FRAME_MAX);
    post(nf, (uint32_t)nf->tx_ref[1], 0, (uint16_t)(len > 0 ? len : 60));
}

static void attack(struct netfront *nf, struct ns_stack *ns, int mode, int peer, uint32_t peer_ip)
{
    uint32_t len = valid_frame(nf, ns, peer_ip);
    switch (mode) {
    case M_OVERFLOW:
        nf->tx.req_prod_pvt += 1000;
        post(nf, (uint32_t)nf->tx_ref[0], 0, (uint16_t)len);
        break;
    case M_REWRITE: {
        /* Published and then changed before the backend looked: it must
         * judge (and use) the one copy it takes. */
        struct netif_tx_request *r = FV_RING_GET_REQUEST(&nf->tx, nf->tx.req_prod_pvt);
        r->gref = (uint32_t)nf->tx_ref[0];
        r->offset = 0;
        r->flags = 0;
        r->id = 0;
        r->size = (uint16_t)len;
        nf->tx.req_prod_pvt++;
        int notify;
        FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->tx, notify);
        (void)notify;
        r->size = 4000;
        guest_evtchn_send(nf->port);
        break;
    }
    case M_BAD_GREF:
        post(nf, 1u << 30, 0, (uint16_t)len);
        break;
    case M_FOREIGN_GREF: {
        int ref = guest_grant_access(peer, nf->tx_page[2], 1);
        if (ref >= 0)
            post(nf, (uint32_t)ref, 0, (uint16_t)len);
        break;
    }
    case M_OFFSET:
        post(nf, (uint32_t)nf->tx_ref[0], 4000, 200);
        break;
    case M_READONLY_RX:
        readonly_rx(nf, ns, peer_ip);
        break;
    default:
        /* One event after another, never a request: each wakes domain 0. */
        for (;;) {
            guest_evtchn_send(nf->port);
            guest_compute(1000);
        }
    }
}

static void net_hostile_main(const struct wl_args *a)
{
    if (guest_vcpuid() != 0)
        idle_forever();
    struct netfront *nf;
    if (netfront_init(&nf, 0))
        idle_forever();
    struct ns_stack ns;
    ns_init(&ns, nf->addr.mac, nf->addr.ip, nf->addr.prefix);
    struct guest_net_addr pa;
    uint32_t peer_ip = guest_net_addr((int)a->v[NH_PEER], 0, &pa) == 0 ? pa.ip : nf->addr.ip;
    uint8_t out[NS_FRAME_MAX];
    /* Behave: answer what comes, until `after`. */
    while (guest_now() < a->v[NH_AFTER]) {
        const uint8_t *f;
        uint32_t len, out_len;
        int id;
        while (netfront_recv(nf, &f, &len, &id)) {
            struct ns_udp u;
            struct ns_echo e;
            ns_input(&ns, f, len, out, &out_len, &u, &e);
            if (out_len)
                netfront_send(nf, out, out_len);
            netfront_rx_done(nf, id);
        }
        netfront_tx_reap(nf);
        guest_set_timer(a->v[NH_AFTER]);
        netfront_wait(nf);
    }
    attack(nf, &ns, (int)a->v[NH_MODE], (int)a->v[NH_PEER], peer_ip);
    netfront_idle(nf->port);
}

const struct workload_desc workload_net_hostile = {
    "net-hostile", "a guest attacking netback through its vif (from `after` on): a broken ring, "
    "a rewritten request, bad grants, an event storm", nh_params, net_hostile_main,
};
