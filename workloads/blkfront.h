/* blkfront.h — the guest's block driver (Xen's blkfront in shape): one
 * blkif ring per vbd in a page granted to domain 0, one event channel, and
 * a pool of data pages (granted writable to domain 0, reused: a READ's data
 * lands in them, a WRITE's is taken from them). Guest code: only guest.h.
 *
 * Layout of a vbd's slice of the driver area (BLKFRONT_PAGES pages), after
 * the vifs' slices: [0, 2) this state, [2] the ring, [3, 3 + 32 × 11) data
 * pages, 11 per ring slot.
 */
#ifndef FV_BLKFRONT_H
#define FV_BLKFRONT_H

#include <stdint.h>

#include "../blkback/blkif.h"
#include "guest.h"

#define BLKFRONT_SLOTS blkif_RING_SIZE
#define BLKFRONT_PAGES (3 + BLKFRONT_SLOTS * BLKIF_MAX_SEGMENTS_PER_REQUEST + 5)

struct blkfront_req {
    uint64_t id;                        /* what the caller passed */
    fv_ns_t issued;                     /* guest_now() when it was posted */
    int op;                             /* BLKIF_OP_* */
    int in_use;
};

struct blkfront {
    struct blkif_front ring;
    int vbd, port;
    uint64_t sectors;                   /* the disk's size in 512-byte sectors */
    uint8_t *page[BLKFRONT_SLOTS][BLKIF_MAX_SEGMENTS_PER_REQUEST];
    int32_t ref[BLKFRONT_SLOTS][BLKIF_MAX_SEGMENTS_PER_REQUEST];
    struct blkfront_req slot[BLKFRONT_SLOTS];
    uint16_t free[BLKFRONT_SLOTS];
    int nfree;
};

/* Set up vbd `vbd` and connect it. 0 with *out set, or -errno. */
int blkfront_init(struct blkfront **out, int vbd);
/* A free slot whose data pages the caller fills (writes) or reads after the
 * answer (reads): its index, or -EAGAIN when all are in flight. */
int blkfront_slot(struct blkfront *bf);
/* Post a request on slot s: `op` at `sector` for `bytes` (a multiple of
 * 512, at most 11 pages, starting at the start of the slot's first page).
 * id is echoed by blkfront_reap. Published by blkfront_flush. */
void blkfront_post(struct blkfront *bf, int s, int op, uint64_t sector, uint32_t bytes, uint64_t id);
/* Publish posted requests, notifying the backend if it asked. */
void blkfront_flush(struct blkfront *bf);
/* One answer: 1 with *s (the slot, to free with blkfront_done), *id and
 * *status set, or 0 when none is waiting. */
int blkfront_reap(struct blkfront *bf, int *s, uint64_t *id, int *status);
void blkfront_done(struct blkfront *bf, int s);
/* Nothing to do: re-arm the response event and block unless an answer
 * came in meanwhile. */
void blkfront_wait(struct blkfront *bf);
/* Idle for good, taking whatever the backend still signals on `port` (0:
 * none). */
void blkfront_idle(int port) __attribute__((noreturn));

#endif
