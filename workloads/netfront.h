/* netfront.h — the guest's network driver (Xen's netfront in shape): the TX
 * and RX rings of one vif, each buffer a page of the guest's driver area
 * granted to domain 0 (TX read-only, RX writable), one event channel.
 * Guest code: only guest.h calls.
 *
 * Layout of a vif's slice of the driver area (HOST_IO_PAGES_PER_VIF pages):
 * [0, 2) this state, [2] TX ring, [3] RX ring, [4, 260) TX buffers,
 * [260, 516) RX buffers.
 */
#ifndef FV_NETFRONT_H
#define FV_NETFRONT_H

#include <stdint.h>

#include "../netback/netif.h"
#include "guest.h"

#define NETFRONT_TX_BUFS netif_tx_RING_SIZE
#define NETFRONT_RX_BUFS netif_rx_RING_SIZE
#define NETFRONT_PAGES 520

struct netfront {
    struct netif_tx_front tx;
    struct netif_rx_front rx;
    int vif, port;
    struct guest_net_addr addr;
    uint8_t *tx_page[NETFRONT_TX_BUFS];
    int32_t tx_ref[NETFRONT_TX_BUFS];
    uint16_t tx_free[NETFRONT_TX_BUFS];     /* ids of free TX buffers */
    int tx_nfree;
    uint8_t *rx_page[NETFRONT_RX_BUFS];
    int32_t rx_ref[NETFRONT_RX_BUFS];
    uint64_t tx_done, tx_errors, rx_frames, rx_errors;
};

/* Set up vif `vif` (rings, buffers, grants, event channel) and connect it
 * to the backend. 0 with *out set, or -errno. */
int netfront_init(struct netfront **out, int vif);

/* A free TX buffer (NETIF_FRAME_MAX bytes at *buf), or -EAGAIN when every
 * one is in flight. Fill it, then netfront_tx_commit. */
int netfront_tx_slot(struct netfront *nf, uint8_t **buf);
/* Queue the frame in slot id (len bytes); netfront_flush publishes. */
void netfront_tx_commit(struct netfront *nf, int id, uint32_t len);
/* Copy a frame into a free buffer and queue it: 0 or -EAGAIN. */
int netfront_send(struct netfront *nf, const void *frame, uint32_t len);
/* Publish queued requests (TX and reposted RX) and notify the backend if
 * it asked to be. */
void netfront_flush(struct netfront *nf);
/* Collect TX completions: returns how many buffers came back. */
int netfront_tx_reap(struct netfront *nf);

/* The next received frame: 1 with frame and len set (valid until
 * netfront_rx_done(id)), or 0 when there is none. */
int netfront_recv(struct netfront *nf, const uint8_t **frame, uint32_t *len, int *id);
/* Give RX buffer id back to the backend (queued; netfront_flush publishes). */
void netfront_rx_done(struct netfront *nf, int id);

/* Nothing to do: re-arm the response events and block unless a response
 * came in meanwhile. */
void netfront_wait(struct netfront *nf);

/* A full TX ring: re-arm only the TX response event and block unless a TX
 * response came in meanwhile. For a caller that waits for TX space without
 * taking received frames: RX responses it does not consume must not end
 * the wait at once, or it would spin at one instant (an RX event that
 * comes in wakes it once, and it waits again). */
void netfront_wait_tx(struct netfront *nf);

/* Idle for good, taking whatever the backend still signals on `port` (0:
 * none): a pending event would make every block return at once. */
void netfront_idle(int port) __attribute__((noreturn));

#endif
