/* qos.h — netback's per-vif service rules, pure arithmetic (no rings, no
 * clock): deficit round robin (`netback.fairness: drr`) and Xen's credit
 * rate limit (a vif's `rate`). netback.c decides when to call them; these
 * say only whether a frame may go.
 *
 * DRR (Shreedhar and Varghese, SIGCOMM 1995): on each of its turns a vif
 * with TX requests pending gets its quantum, NB_DRR_FRAME * weight / 256
 * bytes, added to its deficit and sends head frames while each fits in the
 * deficit, which pays for them; a vif with nothing pending has its deficit
 * reset to 0, so idleness cannot be saved up. Over any stretch of rounds in
 * which two vifs stay backlogged, the bytes each sends differ from their
 * weights' share by less than one quantum plus one frame.
 *
 * Credit (Linux xen-netback's tx_credit_exceeded/tx_add_credit): the vif
 * starts with `bytes` of credit; a frame that fits in the remaining credit
 * is paid from it. One that does not fit looks at the window: once
 * window_start + interval has passed, the window restarts now and `bytes`
 * more credit comes in, the total capped at max(131072, bytes) (a 128 KiB
 * burst floor, so a small rate never seizes the vif). A frame still larger
 * than the credit stalls the vif until a timer at the end of the window,
 * which restarts the window there and adds the credit when it fires. A
 * timer due no later than the moment it is armed fires at the next instant
 * (Linux: the next jiffy), never at once.
 *
 * Times are nanoseconds on any clock the caller keeps to (run time in
 * virtual time, CLOCK_MONOTONIC in real time). Not thread-safe: one caller
 * per object (netback's pass). */
#ifndef FV_NETBACK_QOS_H
#define FV_NETBACK_QOS_H

#include <stdbool.h>
#include <stdint.h>

#include "../hv/fvtime.h"

#define NB_DRR_FRAME 1514               /* a full Ethernet frame without FCS */
#define NB_DRR_WEIGHT_UNIT 256          /* the weight whose quantum is one full frame */
#define NB_CREDIT_BURST_FLOOR 131072u   /* Linux netback: 128 KiB */

struct nb_drr {
    uint32_t quantum;                   /* bytes added per turn (>= 1) */
    uint64_t deficit;                   /* bytes the vif may still send this turn */
};

/* NB_DRR_FRAME * weight / NB_DRR_WEIGHT_UNIT rounded down, at least 1. */
uint32_t nb_drr_quantum(uint32_t weight);
void nb_drr_init(struct nb_drr *d, uint32_t weight);
/* The start of a turn: the quantum is added. */
void nb_drr_turn(struct nb_drr *d);
/* Whether a frame of `size` bytes fits; if so its size is paid. */
bool nb_drr_take(struct nb_drr *d, uint32_t size);
/* Nothing pending: the deficit goes back to 0. */
void nb_drr_idle(struct nb_drr *d);
/* Turns (>= 1) until a head frame of `size` bytes fits, counting the next
 * turn as the first: what a round with nobody able to send may skip. */
uint64_t nb_drr_turns_needed(const struct nb_drr *d, uint32_t size);

struct nb_credit {
    uint64_t bytes;                     /* credit per window; 0 = unlimited */
    fv_ns_t interval;
    uint64_t remaining;
    fv_ns_t window_start;
    bool timer_armed;
    fv_ns_t timer;                      /* when the armed timer fires */
};

/* A limit of `bytes` per `interval` (bytes 0: unlimited) whose first window
 * starts at `now` with `bytes` of credit. */
void nb_credit_init(struct nb_credit *c, uint64_t bytes, fv_ns_t interval, fv_ns_t now);
/* The burst cap: max(NB_CREDIT_BURST_FLOOR, bytes). */
uint64_t nb_credit_max_burst(const struct nb_credit *c);
/* May a frame of `size` bytes go at `now`? true: its size was paid. false:
 * the vif stalls; *due is when the timer fires (the caller comes back
 * then). A timer whose time has come fires first. */
bool nb_credit_take(struct nb_credit *c, uint32_t size, fv_ns_t now, fv_ns_t *due);
/* Whether the vif is stalled at `now` (a timer armed and not yet due);
 * *due is then its time. Fires a due timer as nb_credit_take does. */
bool nb_credit_stalled(struct nb_credit *c, fv_ns_t now, fv_ns_t *due);

#endif
