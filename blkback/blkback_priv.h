/* blkback_priv.h — internal to blkback/blkback*.c, not for callers (they
 * use blkback.h): the backend's state, shared by the pass (blkback.c) and
 * its set-up (blkback_setup.c). The rules for who touches what, and when,
 * are in blkback.c's comment. */
#ifndef FV_BLKBACK_PRIV_H
#define FV_BLKBACK_PRIV_H

#include <pthread.h>
#include <stdatomic.h>

#include "../hv/gnttab.h"
#include "blkback.h"
#include "blkif.h"
#include "disk.h"
#include "qos.h"

#define BB_RING ((unsigned)blkif_RING_SIZE)
#define BB_MAX_BYTES (BLKIF_MAX_SEGMENTS_PER_REQUEST * GNTTAB_PAGE_SIZE)
#define BB_QDEPTH_DEFAULT 32u
#define BB_DEPTH_DEFAULT 16u            /* blkback.depth and blkback.model.depth */

enum { VBD_IDLE, VBD_CONNECTED, VBD_DEAD, VBD_CLAIMED };
/* A slot: FREE; PARKED (a barrier waiting for its vbd to drain); WAIT (in
 * its vbd's queue for the disk: the scheduler has not sent it); IO (at the
 * disk); DONE (completed, answered once due). */
enum { SLOT_FREE, SLOT_PARKED, SLOT_WAIT, SLOT_IO, SLOT_DONE };

/* A request taken off the ring and not answered yet. */
struct bb_slot {
    struct blkif_request req;           /* the private copy: the only one read */
    int state;
    bool flush_next;                    /* a barrier: its write is in service, then a flush */
    bool dispatched;                    /* counted in blkback.inflight until answered */
    enum blk_disk_op op;                /* what is at the disk now */
    int16_t status;                     /* when DONE */
    uint32_t bytes;                     /* data moved (0 for a flush) */
    uint64_t seq;                       /* taking order (in its vbd) */
    uint64_t gseq;                      /* queueing order (over all vbds): FIFO */
    fv_ns_t taken, due;                 /* due: virtual time only */
    uint8_t *buf;                       /* BB_MAX_BYTES, 4 KiB aligned */
};

struct bb_vbd {
    _Atomic int state;
    int d, idx, domid;
    int flow;                           /* its flow in blkback.q: its index in blkback.vbd */
    const char *dom_name;
    struct gnttab *gt;
    struct blk_disk *disk;
    bool sync_io;                       /* virtual time on an image file: wait for the disk */
    uint64_t sectors;
    uint32_t ring_ref;
    struct blkif_back ring;
    int port;                           /* domain 0's end of the event channel */
    unsigned nslots, busy;              /* slots, and those not FREE */
    int barrier;                        /* the slot of a parked or running barrier, or -1 */
    unsigned queued;                    /* queued to the disk since the last kick */
    uint64_t seq;
    /* The slots waiting for the disk, in the order they were queued. */
    uint8_t wq[blkif_RING_SIZE];
    unsigned wq_head, wq_n;
    unsigned dispatched;                /* slots counted in blkback.inflight */
    bool kick;                          /* this pass dispatched some of its requests */
    fv_ns_t now;                        /* the pass's time (virtual), its section's start (real) */
    uint32_t quiet_events;              /* events in a row that brought no work */
    bool dirty;                         /* responses to push this pass */
    /* This pass: whether step 1 saw it, its event, the producer it read,
     * what it took. */
    bool p_in, p_event;
    uint32_t p_prod;
    int p_taken;
    unsigned nlat;                      /* real time: answered in this pass */
    /* A pass answers at most what was in service and what it took. */
    fv_ns_t lat_taken[2 * blkif_RING_SIZE];
    struct bb_slot *slot;
    uint8_t *bufs;
    struct blkback_vbd_stats st;
};

struct blkback {
    struct blkback_conf c;
    int nr_vbds;
    int cap_vbds;                       /* room in vbd[] (a live host adds vbds) */
    struct bb_vbd *vbd;
    int *first;                         /* by domain index: its vbd 0 in vbd[], or -1 */
    int nr_doms;                        /* room in first[]: the domains at build time, or
                                           a live host's room_doms */
    /* A pass holds it throughout; adding and removing a domain's vbds take
     * it, so that no pass ever sees a vbd half made or half gone. */
    pthread_mutex_t lock;
    fv_ns_t cost;                       /* this pass's modelled cost */
    fv_ns_t now;                        /* this pass's time (virtual time) */
    /* The I/O scheduler: one flow per vbd. */
    struct bb_qos q;
    bool q_timed;                       /* reservations or limits: tags need a clock */
    unsigned depth;                     /* requests at the disks at most (blkback.depth) */
    unsigned inflight;                  /* dispatched and not answered, over all vbds */
    unsigned waiting;                   /* in the vbds' queues for the disk */
    uint64_t gseq;
    fv_ns_t q_now;                      /* the time the scheduler was last asked at */
    fv_ns_t q_when;                     /* then: its next eligible time (limits), or 0 */
    /* The modelled device (virtual time): when each of its model.depth
     * units is free, and when its transfer channel is. */
    unsigned units;
    fv_ns_t *unit_free;
    fv_ns_t chan_free;
};

/* v's requests leave the scheduler (blkback.c): those queued are never
 * sent, and those at the disk no longer count against blkback.depth. */
void bb_vbd_release(struct blkback *bb, struct bb_vbd *v);

#endif
