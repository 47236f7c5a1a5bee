/* netif.h — the virtual NIC's shared-ring protocol, Xen's netif in shape:
 * a TX ring (guest -> backend: frames to send) and an RX ring (guest posts
 * empty buffers; the backend fills them with received frames), each one
 * 4 KiB page of hv/ring.h, one event channel per vif. Every buffer is one
 * granted page of the guest's memory; a frame lives at [offset, offset +
 * size) of it. Field widths are Xen's; see the response statuses below.
 */
#ifndef FV_NETIF_H
#define FV_NETIF_H

#include <stdint.h>

#include "../hv/ring.h"

/* Response statuses (TX), and RX's status when negative. */
#define NETIF_RSP_DROPPED (-2)
#define NETIF_RSP_ERROR (-1)
#define NETIF_RSP_OKAY 0
#define NETIF_RSP_NULL 1

#define NETIF_FRAME_MAX 1514            /* Ethernet without FCS: no jumbo frames */

struct netif_tx_request {
    uint32_t gref;                      /* the page holding the frame */
    uint16_t offset;                    /* where the frame starts in it */
    uint16_t flags;                     /* none defined: must be 0 */
    uint16_t id;                        /* echoed in the response */
    uint16_t size;                      /* frame length */
};

struct netif_tx_response {
    uint16_t id;
    int16_t status;                     /* NETIF_RSP_* */
};

struct netif_rx_request {
    uint16_t id;                        /* echoed in the response */
    uint16_t pad;
    uint32_t gref;                      /* an empty page the backend may write */
};

struct netif_rx_response {
    uint16_t id;
    uint16_t offset;                    /* where the frame starts in the page */
    uint16_t flags;
    int16_t status;                     /* > 0: the frame's length; else NETIF_RSP_* */
};

FV_RING_DEFINE(netif_tx, struct netif_tx_request, struct netif_tx_response);
FV_RING_DEFINE(netif_rx, struct netif_rx_request, struct netif_rx_response);

#endif
