/* qos.h — blkback's I/O scheduler: which waiting request goes to the disk
 * next, across the vbds (flows) of a host. Pure tag arithmetic: no rings,
 * no disks, no clock of its own (the caller passes `now`), so that it is
 * tested with exact numbers (tests/test_blkback_qos.c).
 *
 * Each flow is a FIFO of requests kept by the caller; the scheduler sees
 * only the request at its head (bb_qos_head). A flow's requests are served
 * in order, so tagging each request when it reaches the head, from its
 * arrival time, gives the tags the papers give it at arrival.
 *
 * Modes:
 *   FIFO  the head that arrived first (the order requests were taken off
 *         the rings), among the flows not held by their limit;
 *   SFQ   start-time fair queueing (Goyal, Vin & Cheng, SIGCOMM 1996) with
 *         mClock's reservations and limits (Gulati, Merchant & Varman,
 *         OSDI 2010):
 *           P (start tag)  S = max(v, F of the flow's previous request),
 *                          F = S + 1/weight, v = the S of the request last
 *                          dispatched by weight;
 *           R              max(R_prev + 1/reservation, arrival), seconds;
 *           L              max(L_prev + 1/limit, arrival), seconds.
 *         Dispatch the smallest R tag <= now (the constraint phase); else
 *         the smallest S among the flows whose L tag <= now (the weight
 *         phase; SFQ leaves ties to us: first a flow that was idle, whose
 *         S is v rather than its own previous F, as it has had nothing in
 *         this round, then the earlier arrival: a domain that reads one
 *         block at a time is not put behind every flood whose turn it also
 *         is), and then take 1/reservation off the flow's R tags, so
 *         that R counts only what the reservation itself gave (mClock's
 *         adjustment). A flow that was idle starts again at S = v and at
 *         R = L = its arrival: no credit for the time it was idle, and no
 *         debt either (what mClock's adjustment of P tags on activation
 *         does for real-time P tags, SFQ's max(v, F) does for virtual ones).
 * A limit holds in both modes; reservations only with SFQ.
 *
 * Cost: one request is one unit, whatever its size. Reservations and limits
 * are IOPS, so per-request tags keep the three tags in one currency; and on
 * the modelled device (and on SSDs) a small random request's cost is its
 * latency, not its bytes. A flood of large requests gets the same request
 * share as one of small requests (and so more bytes).
 *
 * Exactness: S and F are integers in units of 1/BB_QOS_VSCALE of a request
 * at weight 1 (exact for weights that divide 2^24, within 2^-24 relative
 * otherwise). R and L tags are kept as base + floor(k x 1e9 / rate) ns with
 * |k| < rate, so that the n-th request of a backlogged flow is due exactly
 * n/rate seconds after the first: a limit of 1000 IOPS lets exactly
 * floor(T x 1000) + 1 requests through in any T seconds a flow is
 * backlogged from its first.
 *
 * Locking: none; one caller (blkback's pass).
 */
#ifndef FV_BB_QOS_H
#define FV_BB_QOS_H

#include <stdbool.h>
#include <stdint.h>

#include "../hv/fvtime.h"

#define BB_QOS_VSCALE (1ull << 24)      /* virtual time of one request at weight 1 */
#define BB_QOS_WEIGHT_DEFAULT 256u
#define BB_QOS_MAX_RATE 10000000ull     /* IOPS: reservations and limits */

enum bb_qos_mode { BB_QOS_FIFO, BB_QOS_SFQ };
enum bb_qos_phase { BB_QOS_NONE, BB_QOS_RESERVATION, BB_QOS_WEIGHT };

/* A tag spaced 1/rate seconds per request (mClock's R or L). */
struct bb_qos_spacing {
    uint64_t rate;                      /* per second; 0: none */
    bool started;                       /* a request was tagged */
    fv_ns_t base;                       /* tag = base + floor(k x 1e9 / rate) */
    int64_t k;                          /* -rate < k < rate */
};

struct bb_qos_flow {
    uint32_t weight;                    /* 1..65535 */
    struct bb_qos_spacing r, l;
    bool active;                        /* a request is at its head */
    bool woke;                          /* SFQ: the head's S is v (the flow was idle), not its F */
    uint64_t seq;                       /* the head's arrival order (FIFO, ties) */
    uint64_t start, finish;             /* the head's S; F of the last request tagged */
    fv_ns_t rtag, ltag;                 /* the head's R and L tags (when the rate is set) */
    uint64_t by_reservation, by_weight; /* dispatched in each phase (FIFO counts as weight) */
};

struct bb_qos {
    enum bb_qos_mode mode;
    uint64_t vtime;                     /* SFQ's v */
    int nflows;
    struct bb_qos_flow *flow;
};

/* nflows flows, each of the default weight, no reservation, no limit.
 * 0 or -ENOMEM. */
int bb_qos_init(struct bb_qos *q, enum bb_qos_mode mode, int nflows);
void bb_qos_fini(struct bb_qos *q);
/* Flow i's weight (0: the default) and its reservation and limit in IOPS
 * (0: none; each at most BB_QOS_MAX_RATE). Before its first request. */
void bb_qos_set(struct bb_qos *q, int i, uint32_t weight, uint64_t reservation, uint64_t limit);
/* Flow i has a request at its head (it had none): the request's arrival
 * order `seq` (increasing over all flows) and arrival time. */
void bb_qos_head(struct bb_qos *q, int i, uint64_t seq, fv_ns_t arrival);
/* Flow i is gone (its vbd disconnected): its head, if any, is forgotten. */
void bb_qos_drop(struct bb_qos *q, int i);
/* The flow whose head goes to the disk now, which then has no head until
 * bb_qos_head (*phase: how it was chosen); or -1: *when is the earliest
 * time a head becomes eligible (every waiting flow is over its limit), 0
 * when no flow has a head. */
int bb_qos_dispatch(struct bb_qos *q, fv_ns_t now, enum bb_qos_phase *phase, fv_ns_t *when);
/* Whether any flow has a reservation or a limit (tags need a clock). */
bool bb_qos_timed(const struct bb_qos *q);

#endif
