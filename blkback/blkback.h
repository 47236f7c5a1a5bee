/* blkback.h — domain 0's block backend (Xen's blkback in miniature).
 *
 * Every vbd of every domain has one ring (blkif.h) in a page its guest
 * granted to domain 0, one event channel to domain 0 and one disk
 * (disk.h: memory, or an image file through io_uring). One pass
 * (blkback_poll) takes each connected vbd's requests, copies write data out
 * of the guest's granted pages into blkback's own aligned buffers, queues
 * the I/O to the disk (one kick per pass), reaps completions, copies read
 * data into the guest's pages and answers.
 *
 * A guest is untrusted: each request is copied out of the shared ring
 * once and only the copy is used (XSA-155). A bad request (segment count,
 * sector range within a page, a range past the disk's end, a grant the copy
 * refuses) is answered BLKIF_RSP_ERROR and the vbd stays connected, as
 * Linux blkback; DISCARD, INDIRECT and unknown operations are answered
 * BLKIF_RSP_EOPNOTSUPP. A broken ring (a producer more than a ring ahead of
 * the consumer) or an event storm (1000 events in a row with no work)
 * disconnects that vbd alone, with the reason logged and kept. Nothing a
 * guest writes makes blkback touch memory other than through a grant check.
 *
 * Requests taken wait in their vbd's queue; at most blkback.depth of them,
 * over all vbds, are at the disks at once, sent in the order the I/O
 * scheduler says (blkback.fairness: none, FIFO over all vbds; sfq, start-
 * time fair queueing by vbd weight with mClock's reservations; a vbd's
 * limit in both: blkback/qos.h).
 *
 * Virtual time: the disk is served at once, but an answer is held until
 * its modelled completion on one device that every vbd shares
 * (blkback.model: `depth` requests at once, each `latency` then its bytes
 * at `bandwidth` over the device's one transfer channel: blkback.c);
 * blkback's CPU is cost_request per request and cost_kib per KiB copied.
 *
 * Locking: blkback_poll runs on one thread at a time (domain 0's vCPU, or
 * its dedicated pCPU); blkback_connect comes from guest vCPUs on other
 * threads. A vbd's state word is the only thing both touch: connect fills
 * the vbd and publishes CONNECTED with a release store, which pairs with
 * the acquire load in the pass; only the pass moves a vbd from CONNECTED to
 * DISCONNECTED. Statistics are written by the pass only (relaxed stores)
 * and may be read meanwhile. A live host adds and removes a domain's vbds
 * from its management thread: both hold blkback's lock, which a pass holds
 * throughout.
 */
#ifndef FV_BLKBACK_H
#define FV_BLKBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../hv/fvtime.h"
#include "../hv/hist.h"

struct scenario;
struct gnttab;
struct evtchn_tab;

struct blkback_vbd_stats {
    uint64_t reads, writes, flushes;            /* requests answered OKAY */
    uint64_t read_bytes, write_bytes;
    uint64_t errors, unsupported;               /* answered ERROR / EOPNOTSUPP */
    uint64_t events, spurious;                  /* the guest's notifications; ones with no work */
    struct fv_hist latency;                     /* ns from taking a request to answering it */
    fv_ns_t backend_ns;                         /* blkback's CPU for this vbd (measured, or the
                                                 * model in virtual time) */
    bool direct;                                /* an image file served with O_DIRECT */
    bool connected, disconnected;
    char reason[160];                           /* why it was disconnected */
};

struct blkback_conf {
    const struct scenario *scn;                 /* its domains' vbds and scn->blkback */
    bool virtual_time;
    struct evtchn_tab *ev;
    struct gnttab *const *gt;                   /* by domain index */
    /* A live host: room for domains (indexes) and vbds added while passes
     * run (blkback_add_domain); 0: none. */
    int room_doms, room_vbds;
};

struct blkback;

/* Opens every vbd's disk (blk_disk_open). NULL with the reason in err. */
struct blkback *blkback_create(const struct blkback_conf *c, char *err, size_t errlen);
void blkback_destroy(struct blkback *bb);       /* waits for in-flight I/O */

/* A guest hands vbd `vbd` of domain index d its ring (one page, granted to
 * domain 0, writable) and an unbound event-channel port for domain 0: maps
 * the ring, binds the channel. 0, -ENODEV (no such vbd), -EBUSY (connected
 * or disconnected already), or the grant/event-channel error. */
int blkback_connect(struct blkback *bb, int d, int vbd, uint32_t ring_ref, int port);

/* A live host (hv/live.h): domain index d, filled in scn->domains[d],
 * gets its vbds (their disks opened) while passes run; gt is its grant
 * table. 0, -ENOSPC (no room: room_doms, room_vbds), -EEXIST (d has vbds),
 * or the disk's error, with the reason in err. */
int blkback_add_domain(struct blkback *bb, int d, struct gnttab *gt, char *err, size_t errlen);
/* Domain index d's vbds go, between two passes: each connected one has its
 * ring unmapped and its event channel closed; what it had queued is never
 * sent and what it had at the disk completes into blkback's own buffers
 * (waited for here, then its disk is closed). No pass touches the guest's
 * grants after this returns. Its statistics stay, unless `forget` (the
 * index is to be used again: a creation undone). The domain's vCPUs must
 * not be running (nothing may connect meanwhile). */
void blkback_remove_domain(struct blkback *bb, int d, bool forget);

/* One pass at time `now` (run time, ns). Returns the work done (> 0: call
 * again). *cost: the modelled CPU of the pass (virtual time) or 0.
 * *next_due: in virtual time, the earliest time a request in service
 * completes or a request held by its vbd's limit may go (the caller sleeps
 * until then at most); in real time, with I/O of a file disk in flight or
 * requests queued, a time to look again (now + the wait); else 0. */
int blkback_poll(struct blkback *bb, fv_ns_t now, fv_ns_t *cost, fv_ns_t *next_due);

/* The statistics of vbd `vbd` of domain index d, or NULL. */
const struct blkback_vbd_stats *blkback_vbd_stats(const struct blkback *bb, int d, int vbd);

/* Starvation (hv/starve.h): requests vbd `vbd` of domain index d has on
 * its ring or taken and not answered yet (0 when it is not connected), and
 * in *served the requests blkback answered so far (OKAY, ERROR or
 * EOPNOTSUPP). From any thread while passes run: it reads only the shared
 * ring's indices and the counters, atomically. -ENODEV: no such vbd. */
int blkback_vbd_backlog(const struct blkback *bb, int d, int vbd, uint64_t *served);

#endif
