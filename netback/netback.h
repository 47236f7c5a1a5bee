/* netback.h — domain 0's network backend (Xen's netback in miniature).
 *
 * Every vif of every domain has a TX and an RX ring (netif.h) in pages its
 * guest granted to domain 0, and an event channel to domain 0. One pass
 * (netback_poll) takes each connected vif's TX requests, copies each frame
 * out of the guest's granted page into a port buffer (gnttab copy, with
 * every check), answers the request, and sends the frames to the port; then
 * it takes what the port received and delivers each frame by destination
 * MAC (broadcast: to every vif but the sender's) into a buffer the
 * destination guest posted on its RX ring, like dom0's bridge.
 *
 * A guest is untrusted: every request is copied out of the shared ring
 * once and then validated; a broken ring (a producer more than a ring ahead
 * of the consumer), a bad request (size, flags, offset + size past the
 * page), a grant the copy refuses (out of range, not ours, read-only for an
 * RX buffer) or an event storm disconnects that vif alone, with the reason
 * logged and kept. Nothing a guest writes can make netback touch memory
 * other than through a grant check. A frame whose source MAC is not its
 * vif's is answered with an error and dropped (as dom0's bridge with
 * anti-spoofing would): the source MAC is how netback tells, for a frame
 * coming back from the port, whose it was.
 *
 * Service (netback.fairness, netback/qos.h): with `none` a pass takes up
 * to 64 TX requests of each vif in turn, then delivers up to 256 frames
 * from the port. With `drr` it goes round the vifs in deficit round robin
 * by their weights, re-reading each producer every round (a request that
 * comes mid-pass is served in the next round) and delivering the port's
 * frames between rounds; a pass takes as many requests as none would (up
 * to 64 per vif that has any pending), shared by DRR. Either way a vif
 * with a `rate` pays each frame from its credit (Linux netback's rule,
 * qos.h); a frame its credit does not cover stays on the ring, with every
 * one behind it, until the credit timer (next_due): nothing is dropped.
 *
 * Locking: netback_poll runs on one thread at a time (domain 0's vCPU 0,
 * with preemption off, or its dedicated pCPU); netback_connect comes from
 * guest vCPUs on other threads. A vif's state word is the only thing both
 * touch: connect fills the vif and publishes CONNECTED with a release
 * store, which pairs with the acquire load in the pass; only the pass
 * moves a vif from CONNECTED to DISCONNECTED. Statistics are written by
 * the pass only and read after the run. A live host adds and removes a
 * domain's vifs from its management thread: both hold netback's lock,
 * which a pass holds throughout (a pass is microseconds; the lock is
 * uncontended but for those calls).
 */
#ifndef FV_NETBACK_H
#define FV_NETBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "../hv/fvtime.h"

struct scenario;
struct nb_port;
struct gnttab;
struct evtchn_tab;

/* Why a frame was dropped. Each is counted for one domain. */
enum nb_drop {
    NB_DROP_NO_RX_BUFFER,           /* the destination posted no RX buffer */
    NB_DROP_NO_DEST,                /* no vif has the destination MAC (ring port) */
    NB_DROP_PORT_FULL,              /* the port took fewer than offered */
    NB_DROP_NO_BUFFER,              /* netback ran out of packet buffers */
    NB_DROP_DISCONNECTED,           /* the destination vif is disconnected */
    NB_DROP_SPOOFED,                /* a guest sent a frame with another source MAC than its vif's */
    NB_DROP_MAX
};
extern const char *const nb_drop_names[NB_DROP_MAX];   /* "no_rx_buffer", ... */

struct netback_vif_stats {
    uint64_t tx_pkts, tx_bytes;     /* frames the guest sent, accepted by netback */
    uint64_t rx_pkts, rx_bytes;     /* frames delivered into the guest */
    uint64_t drops[NB_DROP_MAX];
    uint64_t events, spurious;      /* notifications from the guest; ones with no work */
    fv_ns_t backend_ns;             /* netback's CPU spent on this vif's frames */
    bool connected, disconnected;
    char reason[160];               /* why it was disconnected */
};

struct netback_conf {
    const struct scenario *scn;
    struct nb_port *port;           /* where frames go; NULL with sink set */
    bool sink;                      /* a null port: frames are counted and dropped */
    bool local_switch;              /* deliver to local MACs without the port (tap) */
    bool virtual_time;              /* charge the scenario's cost model, not measured time */
    bool polling;                   /* dedicated: passes run back to back, idle ones are polls */
    struct evtchn_tab *ev;
    struct gnttab *const *gt;       /* by domain index (NULL: no grants) */
    /* A live host: room for domains (indexes) and vifs added while passes
     * run (netback_add_domain); 0: none. */
    int room_doms, room_vifs;
};

struct netback;

/* NULL with errno set (ENOMEM). */
struct netback *netback_create(const struct netback_conf *c);
void netback_destroy(struct netback *nb);

/* A guest hands vif `vif` of domain index `d` its rings: maps them, binds
 * the event channel. 0, -ENODEV (no such vif), -EBUSY (connected or
 * disconnected already), or the grant or event-channel error. */
int netback_connect(struct netback *nb, int d, int vif, uint32_t tx_ref, uint32_t rx_ref, int port);

/* A live host (hv/live.h): domain index d, filled in scn->domains[d] with
 * resolved MACs, gets its vifs while passes run; gt is its grant table.
 * 0, -ENOSPC (no room: room_doms, room_vifs), -EEXIST (d has vifs). */
int netback_add_domain(struct netback *nb, int d, struct gnttab *gt);
/* Domain index d's vifs go, between two passes: each connected one has
 * its rings unmapped and its event channel closed, its MAC is forgotten
 * (frames to it count as no_dest), and none is touched again, so its
 * grants may be revoked after this returns. Its statistics stay, unless
 * `forget` (the index is to be used again: a creation undone). The
 * domain's vCPUs must not be running (nothing may connect meanwhile). */
void netback_remove_domain(struct netback *nb, int d, bool forget);

/* One pass over every vif and the port at `now` (virtual time: the run's
 * time, never going back; real time: ignored, netback reads
 * CLOCK_MONOTONIC). Returns the frames moved (> 0: call again); *cost is
 * the modelled CPU time of the pass (virtual time) or 0. *next_due (NULL:
 * not wanted) is 0, or when a vif out of credit gets more (its requests
 * wait on its ring until then, and no event will come for them): a run
 * time in virtual time, nanoseconds from now in real time. */
int netback_poll_at(struct netback *nb, fv_ns_t now, fv_ns_t *cost, fv_ns_t *next_due);
/* netback_poll_at at the last pass's time (virtual time: 0 before any),
 * without next_due. */
int netback_poll(struct netback *nb, fv_ns_t *cost);

/* The statistics of vif `vif` of domain index d, or NULL. */
const struct netback_vif_stats *netback_vif_stats(const struct netback *nb, int d, int vif);
/* Drops not attributable to a guest (a frame from the port to no one). */
uint64_t netback_unowned_drops(const struct netback *nb);

/* Starvation (hv/starve.h): TX requests vif `vif` of domain index d has on
 * its ring not answered yet (0 when it is not connected), and in *served
 * the frames of its netback moved so far (sent, delivered, and refused as
 * spoofed). From any thread while passes run: it reads only the shared
 * ring's indices and the counters, atomically. -ENODEV: no such vif. */
int netback_vif_backlog(const struct netback *nb, int d, int vif, uint64_t *served);

#endif
