/* blkback.c — domain 0's block backend: vbd rings <-> disks. The contract
 * and the trust rules are in blkback.h; set-up is blkback_setup.c, the
 * state both share blkback_priv.h, the I/O scheduler's tags qos.h.
 *
 * A pass:
 *   1. for each connected vbd: clear its event, read the request producer
 *      once (a producer more than a ring ahead disconnects it), then
 *        - service: kick what is queued, reap completions (a barrier's
 *          write completing queues its flush), answer what is done (and,
 *          in virtual time, due), queue a parked barrier for the disk once
 *          everything before it is answered;
 *        - take requests while a slot is free and no barrier is parked or
 *          in service: copy each out of the ring once, validate the copy,
 *          copy write data out of the guest's pages into the slot's own
 *          buffer (check a read's grants) and put it in the vbd's queue for
 *          the disk; a bad request is answered at once and takes no slot;
 *   2. dispatch: while fewer than blkback.depth requests are at the disks
 *      (over all vbds), the scheduler (qos.h: FIFO, or SFQ with mClock's
 *      reservations; limits in both) names the vbd whose oldest queued
 *      request goes next, and its I/O is queued to that vbd's disk; then
 *      each vbd that got some is serviced (one kick). What that answers
 *      frees room at the disks (a memory disk completes at the kick): then
 *      dispatch again, until nothing is answered;
 *   3. for each vbd: push the responses, notify if the guest asked, and
 *      re-arm the request event only after a pass that took nothing (as
 *      netback).
 * A vbd has scn->blkback.qdepth slots (at most the ring's 32): a request
 * holds one from being taken until it is answered, whether it waits in the
 * vbd's queue or is at the disk. Requests left on the ring because every
 * slot is busy wait there: they are taken when a slot frees, in the pass
 * that the caller makes at *next_due (virtual time) or when it looks for
 * completions (real time). A barrier holds the vbd: it waits, parked in its
 * slot, until every request taken before it is answered, and nothing is
 * taken after it until it is answered itself.
 *
 * Virtual time: every vbd shares one modelled device. It serves
 * blkback.model.depth requests at once (an SSD's internal parallelism);
 * each takes a unit for `latency`, then its bytes cross the device's one
 * transfer channel at `bandwidth`, in the order they started:
 *     start = max(now, the earliest time a unit is free)
 *     due   = max(start + latency, when the channel is free) + bytes / bandwidth
 * and holds its unit until due. With blkback.depth <= model.depth (the
 * defaults: 16 and 16) a request the scheduler sends starts at once: the
 * scheduler alone decides the order; a deeper blkback.depth queues at the
 * device, in the order sent, where fairness cannot reach. One unit and one
 * vbd is the old per-vbd model exactly: due = max(now, previous due) +
 * latency + bytes / bandwidth.
 *
 * Locking:
 *   - blkback_poll runs on one thread at a time (domain 0's vCPU with
 *     preemption off, or its dedicated pCPU); it alone touches a connected
 *     vbd's ring, slots, queue, disk and counters, and the scheduler and
 *     the modelled device. blkback_connect comes from guest vCPUs on other
 *     threads, and blkback_vbd_stats from anyone.
 *   - A vbd's state word is the only thing both sides write. connect claims
 *     an IDLE vbd with a compare-and-swap (two vCPUs of a guest may race),
 *     fills it in, then publishes CONNECTED with a release store; the pass
 *     reads the state with an acquire load before it touches the vbd. Only
 *     the pass moves a vbd from CONNECTED to DEAD, and nothing leaves DEAD.
 *   - Counters are written by the pass alone with relaxed single-writer
 *     stores (BB_ADD) and may be read meanwhile (the timeline's sampler);
 *     the latency histogram and the reason are read after the run.
 *   - The guest writes its ring page at any time: the producer is read once
 *     per pass (acquire), each request is copied once (FV_RING_COPY_REQUEST)
 *     and only the copy is read (XSA-155); responses are published with the
 *     ring's seq_cst push (ring.h).
 */
#include "blkback_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../hv/evtchn.h"
#include "../hv/gnttab.h"
#include "../hv/scenario.h"

#define BB_STORM_RUN 1000               /* events in a row with no work: a storm */
#define BB_REAL_POLL FV_US(20)          /* real time: look for completions again after */

_Static_assert(BB_MAX_BYTES % 4096 == 0, "slot buffers stay 4 KiB aligned");
_Static_assert(blkif_RING_SIZE <= 256, "a vbd's queue holds slot numbers in bytes");

/* ---- helpers --------------------------------------------------------------------- */

#define BB_ADD(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)

static fv_ns_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (fv_ns_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void charge(struct blkback *bb, struct bb_vbd *v, fv_ns_t c)
{
    bb->cost += c;
    BB_ADD(v->st.backend_ns, c);
}

/* The model's CPU for copying `bytes` (virtual time). */
static void charge_copy(struct blkback *bb, struct bb_vbd *v, uint64_t bytes)
{
    if (bb->c.virtual_time && bytes)
        charge(bb, v, (fv_ns_t)((uint64_t)bb->c.scn->blkback.cost_kib * bytes / 1024));
}

/* v's requests leave the scheduler: those queued are never sent, and
 * those at the disk no longer count against blkback.depth (a dead vbd's are
 * never reaped). */
void bb_vbd_release(struct blkback *bb, struct bb_vbd *v)
{
    bb_qos_drop(&bb->q, v->flow);
    bb->waiting -= v->wq_n;
    v->wq_n = 0;
    bb->inflight -= v->dispatched;
    v->dispatched = 0;
}

/* Disconnect v alone: its ring unmapped, its event channel closed (the
 * guest sees the port close), the reason logged and kept. What it has in
 * flight at the disk completes into blkback's own buffers, unanswered;
 * what it has queued is never sent. */
static void vbd_disconnect(struct blkback *bb, struct bb_vbd *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void vbd_disconnect(struct blkback *bb, struct bb_vbd *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->st.reason, sizeof(v->st.reason), fmt, ap);
    va_end(ap);
    atomic_store_explicit(&v->state, VBD_DEAD, memory_order_relaxed);
    bb_vbd_release(bb, v);
    v->st.disconnected = true;
    v->dirty = false;
    gnttab_unmap(v->gt, v->ring_ref);
    evtchn_close(bb->c.ev, 0, v->port);
    fprintf(stderr, "fairvisor: blkback: vbd %s.%d disconnected: %s\n", v->dom_name, v->idx,
            v->st.reason);
}

static uint32_t seg_bytes(const struct blkif_request_segment *s)
{
    return ((uint32_t)s->last_sect - s->first_sect + 1) * BLKIF_SECTOR;
}

/* ---- answering ------------------------------------------------------------------- */

static void respond(struct bb_vbd *v, uint64_t id, uint8_t op, int16_t status)
{
    struct blkif_response *rsp = FV_RING_GET_RESPONSE(&v->ring, v->ring.rsp_prod_pvt);
    rsp->id = id;
    rsp->operation = op;
    rsp->pad = 0;
    rsp->status = status;
    rsp->pad2 = 0;
    v->ring.rsp_prod_pvt++;
    v->dirty = true;
}

static void count_status(struct bb_vbd *v, uint8_t op, int16_t status, uint32_t bytes)
{
    if (status == BLKIF_RSP_EOPNOTSUPP) {
        BB_ADD(v->st.unsupported, 1);
    } else if (status != BLKIF_RSP_OKAY) {
        BB_ADD(v->st.errors, 1);
    } else if (op == BLKIF_OP_READ) {
        BB_ADD(v->st.reads, 1);
        BB_ADD(v->st.read_bytes, bytes);
    } else if (op == BLKIF_OP_FLUSH_DISKCACHE) {
        BB_ADD(v->st.flushes, 1);
    } else {
        BB_ADD(v->st.writes, 1);
        BB_ADD(v->st.write_bytes, bytes);
    }
}

/* Latency from taking to answering: in virtual time now; in real time at
 * the end of the section (its clock reading), to read the clock once. */
static void note_latency(struct bb_vbd *v, bool virtual_time, fv_ns_t taken)
{
    if (virtual_time)
        hist_add(&v->st.latency, (uint64_t)(v->now - taken));
    else if (v->nlat < sizeof(v->lat_taken) / sizeof(v->lat_taken[0]))
        v->lat_taken[v->nlat++] = taken;
}

/* A request answered without touching the disk (refused). */
static void answer_now(struct blkback *bb, struct bb_vbd *v, const struct blkif_request *r,
                       int16_t status)
{
    respond(v, r->id, r->operation, status);
    count_status(v, r->operation, status, 0);
    note_latency(v, bb->c.virtual_time, v->now);
}

/* Copy a READ's data from the slot's buffer into the guest's pages. */
static int16_t copy_read_out(struct blkback *bb, struct bb_vbd *v, struct bb_slot *s)
{
    uint32_t off = 0;
    int16_t status = BLKIF_RSP_OKAY;
    for (unsigned k = 0; k < s->req.nr_segments; k++) {
        const struct blkif_request_segment *g = &s->req.seg[k];
        uint32_t n = seg_bytes(g);
        if (gnttab_copy_to(v->gt, 0, g->gref, g->first_sect * BLKIF_SECTOR, s->buf + off, n)) {
            status = BLKIF_RSP_ERROR;
            break;
        }
        off += n;
    }
    charge_copy(bb, v, off);
    return status;
}

static void answer_slot(struct blkback *bb, struct bb_vbd *v, int k)
{
    struct bb_slot *s = &v->slot[k];
    int16_t status = s->status;
    if (status == BLKIF_RSP_OKAY && s->req.operation == BLKIF_OP_READ)
        status = copy_read_out(bb, v, s);
    respond(v, s->req.id, s->req.operation, status);
    count_status(v, s->req.operation, status, s->bytes);
    note_latency(v, bb->c.virtual_time, s->taken);
    if (s->dispatched) {
        s->dispatched = false;
        v->dispatched--;
        bb->inflight--;
    }
    s->state = SLOT_FREE;
    v->busy--;
    if (v->barrier == k)
        v->barrier = -1;
}

static bool answered_before(const struct bb_slot *a, const struct bb_slot *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

/* Answer every DONE slot that is due, by due time (virtual time), then in
 * the order they were taken. Returns how many. */
static int answer_due(struct blkback *bb, struct bb_vbd *v)
{
    int order[blkif_RING_SIZE], n = 0;
    for (unsigned k = 0; k < v->nslots; k++) {
        const struct bb_slot *s = &v->slot[k];
        if (s->state != SLOT_DONE || (bb->c.virtual_time && s->due > v->now))
            continue;
        int i = n++;
        for (; i > 0 && answered_before(s, &v->slot[order[i - 1]]); i--)
            order[i] = order[i - 1];
        order[i] = (int)k;
    }
    for (int i = 0; i < n; i++)
        answer_slot(bb, v, order[i]);
    return n;
}

/* ---- the disk -------------------------------------------------------------------- */

static void slot_done(struct bb_slot *s, int16_t status)
{
    s->state = SLOT_DONE;
    s->status = status;
}

/* Queue slot k's I/O (op), or finish it with ERROR if the disk refuses. */
static void slot_queue(struct bb_vbd *v, int k, enum blk_disk_op op)
{
    struct bb_slot *s = &v->slot[k];
    struct iovec iov = { .iov_base = s->buf, .iov_len = s->bytes };
    int rc = op == BLK_DISK_FLUSH
                 ? blk_disk_queue(v->disk, op, 0, NULL, 0, (uint64_t)k)
                 : blk_disk_queue(v->disk, op, s->req.sector_number * BLKIF_SECTOR, &iov, 1,
                                  (uint64_t)k);
    if (rc) {
        slot_done(s, BLKIF_RSP_ERROR);
        return;
    }
    s->state = SLOT_IO;
    s->op = op;
    v->queued++;
}

/* The modelled device's completion time of `bytes` sent to it now
 * (virtual time; the formula is at the top of this file); the disk has done
 * it already (a memory disk at once, an image file waited for: see drive). */
static fv_ns_t model_due(struct blkback *bb, uint32_t bytes)
{
    const struct scn_blkback *m = &bb->c.scn->blkback;
    unsigned u = 0;
    for (unsigned i = 1; i < bb->units; i++)
        if (bb->unit_free[i] < bb->unit_free[u])
            u = i;
    fv_ns_t start = bb->now > bb->unit_free[u] ? bb->now : bb->unit_free[u];
    fv_ns_t xfer = m->bandwidth ? (fv_ns_t)((uint64_t)bytes * 1000000000ULL / m->bandwidth) : 0;
    fv_ns_t ready = start + m->latency;
    fv_ns_t due = (ready > bb->chan_free ? ready : bb->chan_free) + xfer;
    bb->chan_free = due;
    bb->unit_free[u] = due;
    return due;
}

/* Start slot k's service: the disk op(s) of its request, counted against
 * blkback.depth until it is answered. */
static void slot_start(struct blkback *bb, struct bb_vbd *v, int k)
{
    struct bb_slot *s = &v->slot[k];
    s->dispatched = true;
    v->dispatched++;
    bb->inflight++;
    if (bb->c.virtual_time)
        s->due = model_due(bb, s->bytes);
    switch (s->req.operation) {
    case BLKIF_OP_READ: slot_queue(v, k, BLK_DISK_READ); break;
    case BLKIF_OP_WRITE: slot_queue(v, k, BLK_DISK_WRITE); break;
    case BLKIF_OP_FLUSH_DISKCACHE: slot_queue(v, k, BLK_DISK_FLUSH); break;
    case BLKIF_OP_WRITE_BARRIER:
        s->flush_next = s->bytes > 0;
        slot_queue(v, k, s->bytes ? BLK_DISK_WRITE : BLK_DISK_FLUSH);
        break;
    }
}

static void reap(struct bb_vbd *v)
{
    struct blk_completion c[blkif_RING_SIZE];
    int n;
    while ((n = blk_disk_reap(v->disk, c, (int)(sizeof(c) / sizeof(c[0])))) > 0) {
        for (int i = 0; i < n; i++) {
            if (c[i].tag >= v->nslots || v->slot[c[i].tag].state != SLOT_IO)
                continue;                       /* not ours: the disk's bug, not the guest's */
            int k = (int)c[i].tag;
            struct bb_slot *s = &v->slot[k];
            if (c[i].res < 0 || (s->op != BLK_DISK_FLUSH && (uint32_t)c[i].res != s->bytes)) {
                slot_done(s, BLKIF_RSP_ERROR);
            } else if (s->flush_next) {
                s->flush_next = false;          /* the barrier's write is durable once flushed */
                slot_queue(v, k, BLK_DISK_FLUSH);
            } else {
                slot_done(s, BLKIF_RSP_OKAY);
            }
        }
    }
}

/* Kick what is queued and reap; a barrier's flush queued by a completion
 * goes in the next round (at most two more). What the disk could not take
 * or send now stays queued there and is kicked again by the next pass. */
static void drive(struct bb_vbd *v)
{
    reap(v);
    for (int round = 0; round < 3 && v->queued; round++) {
        unsigned q = v->queued;
        int n = blk_disk_kick(v->disk);
        v->queued = n < 0 ? q : (unsigned)n < q ? q - (unsigned)n : 0;
        reap(v);
        /* Virtual time on an image file: the data is real, the timing is
         * the model's, so the pass waits for the file (answers are held
         * until their modelled due time anyway). */
        while (v->sync_io && blk_disk_inflight(v->disk) > 0 &&
               blk_disk_wait(v->disk, 1000000000LL) == 0)
            reap(v);
    }
}

/* Slot k joins v's queue for the disk; the head of a queue is the one the
 * scheduler sees (with its arrival: when it was taken). */
static void slot_wait(struct blkback *bb, struct bb_vbd *v, int k)
{
    struct bb_slot *s = &v->slot[k];
    s->state = SLOT_WAIT;
    s->gseq = bb->gseq++;
    v->wq[(v->wq_head + v->wq_n) % BB_RING] = (uint8_t)k;
    if (v->wq_n++ == 0)
        bb_qos_head(&bb->q, v->flow, s->gseq, s->taken);
    bb->waiting++;
}

/* Everything in service moves on; a parked barrier goes to the disk's
 * queue once it is the only request of its vbd left. Returns the requests
 * answered. */
static int service(struct blkback *bb, struct bb_vbd *v)
{
    int answered = 0;
    for (int i = 0; i < 2; i++) {
        drive(v);
        answered += answer_due(bb, v);
        if (v->barrier < 0 || v->busy != 1 || v->slot[v->barrier].state != SLOT_PARKED)
            break;
        slot_wait(bb, v, v->barrier);
    }
    return answered;
}

/* ---- taking requests ------------------------------------------------------------- */

/* Whether the copy r may be served (else BLKIF_RSP_ERROR); *bytes: its data. */
static bool request_ok(const struct bb_vbd *v, const struct blkif_request *r, uint32_t *bytes)
{
    *bytes = 0;
    unsigned nseg = r->nr_segments;
    if (r->operation == BLKIF_OP_FLUSH_DISKCACHE)
        return nseg == 0;
    /* A barrier of no data is an ordering point (and a flush). */
    if (nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST ||
        (nseg == 0 && r->operation != BLKIF_OP_WRITE_BARRIER))
        return false;
    uint64_t sectors = 0;
    for (unsigned k = 0; k < nseg; k++) {
        const struct blkif_request_segment *s = &r->seg[k];
        if (s->first_sect > s->last_sect || s->last_sect >= BLKIF_SECTORS_PER_PAGE)
            return false;
        sectors += (uint64_t)s->last_sect - s->first_sect + 1;
    }
    /* No overflow: each side is checked against the disk's size alone. */
    if (r->sector_number > v->sectors || sectors > v->sectors - r->sector_number)
        return false;
    *bytes = (uint32_t)(sectors * BLKIF_SECTOR);
    return true;
}

/* A write's data, out of the guest's pages into the slot's buffer. */
static bool copy_write_in(struct blkback *bb, struct bb_vbd *v, struct bb_slot *s)
{
    uint32_t off = 0;
    bool ok = true;
    for (unsigned k = 0; k < s->req.nr_segments && ok; k++) {
        const struct blkif_request_segment *g = &s->req.seg[k];
        uint32_t n = seg_bytes(g);
        ok = gnttab_copy_from(v->gt, 0, g->gref, g->first_sect * BLKIF_SECTOR, s->buf + off,
                              n) == 0;
        off += ok ? n : 0;
    }
    charge_copy(bb, v, off);
    return ok;
}

/* A read's pages can take its data: a copy of nothing checks the grant
 * (in use, for domain 0, writable, the range inside the page), so a read
 * into pages the guest cannot give costs no disk time (Linux blkback maps
 * them first). The copy at the answer checks again: the guest may end a
 * grant meanwhile. */
static bool read_grants_ok(const struct bb_vbd *v, const struct blkif_request *r,
                           const uint8_t *buf)
{
    for (unsigned k = 0; k < r->nr_segments; k++)
        if (gnttab_copy_to(v->gt, 0, r->seg[k].gref, r->seg[k].first_sect * BLKIF_SECTOR, buf,
                           0))
            return false;
    return true;
}

static int free_slot(const struct bb_vbd *v)
{
    for (unsigned k = 0; k < v->nslots; k++)
        if (v->slot[k].state == SLOT_FREE)
            return (int)k;
    return -1;
}

/* Whether another request may be taken now. */
static bool can_take(const struct bb_vbd *v)
{
    return v->barrier < 0 && v->busy < v->nslots;
}

/* Take one request (req_cons != prod, a slot free). */
static void take_one(struct blkback *bb, struct bb_vbd *v)
{
    struct blkif_request r;
    FV_RING_COPY_REQUEST(&v->ring, v->ring.req_cons, &r);
    v->ring.req_cons++;
    /* From here on only the private copy is read (XSA-155). */
    if (bb->c.virtual_time)
        charge(bb, v, bb->c.scn->blkback.cost_request);
    uint32_t bytes;
    switch (r.operation) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
    case BLKIF_OP_WRITE_BARRIER:
    case BLKIF_OP_FLUSH_DISKCACHE:
        break;
    default:                            /* DISCARD, INDIRECT, anything else */
        answer_now(bb, v, &r, BLKIF_RSP_EOPNOTSUPP);
        return;
    }
    if (!request_ok(v, &r, &bytes)) {
        answer_now(bb, v, &r, BLKIF_RSP_ERROR);
        return;
    }
    int k = free_slot(v);
    struct bb_slot *s = &v->slot[k];
    s->req = r;
    s->bytes = bytes;
    s->flush_next = false;
    s->seq = v->seq++;
    s->taken = v->now;
    s->due = 0;
    bool writes = r.operation == BLKIF_OP_WRITE || r.operation == BLKIF_OP_WRITE_BARRIER;
    if (writes ? !copy_write_in(bb, v, s) : !read_grants_ok(v, &r, s->buf)) {
        answer_now(bb, v, &r, BLKIF_RSP_ERROR);
        return;
    }
    v->busy++;
    if (r.operation == BLKIF_OP_WRITE_BARRIER) {
        /* After everything before it: it waits until the vbd is drained. */
        s->state = SLOT_PARKED;
        v->barrier = k;
        if (v->busy == 1)
            slot_wait(bb, v, k);
        return;
    }
    slot_wait(bb, v, k);
}

/* Take requests up to prod (read once) while slots are free. Returns how
 * many were taken. */
static int take(struct blkback *bb, struct bb_vbd *v, uint32_t prod)
{
    int taken = 0;
    while (v->ring.req_cons != prod && can_take(v) &&
           !FV_RING_REQUEST_CONS_OVERFLOW(&v->ring, v->ring.req_cons)) {
        take_one(bb, v);
        taken++;
    }
    return taken;
}

/* ---- a pass ---------------------------------------------------------------------- */

/* An event that brought no work, many times in a row, is a storm (XSA-332):
 * each costs domain 0 a wake-up. */
static void account_event(struct blkback *bb, struct bb_vbd *v, bool event, bool work)
{
    if (event)
        BB_ADD(v->st.events, 1);
    if (work) {
        v->quiet_events = 0;
        return;
    }
    if (!event)
        return;
    BB_ADD(v->st.spurious, 1);
    if (++v->quiet_events >= BB_STORM_RUN)
        vbd_disconnect(bb, v, "event storm: %u notifications in a row with no work",
                       v->quiet_events);
}

/* Push v's responses and notify the guest if it asked; re-arm the request
 * event before domain 0 may sleep, only after a pass that took nothing.
 * Returns 1 if v has requests blkback can take now (call again). */
static int vbd_flush(struct blkback *bb, struct bb_vbd *v, int taken, bool left)
{
    if (atomic_load_explicit(&v->state, memory_order_relaxed) != VBD_CONNECTED)
        return 0;
    if (v->dirty) {
        bool notify = false;
        FV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&v->ring, notify);
        v->dirty = false;
        if (notify)
            evtchn_send(bb->c.ev, 0, v->port);
    }
    if (left)                           /* requests wait for a slot: *next_due brings us back */
        return can_take(v) ? 1 : 0;
    if (taken)
        return 1;
    int more = 0;
    FV_RING_FINAL_CHECK_FOR_REQUESTS(&v->ring, more);
    return more && can_take(v) ? 1 : 0;
}

/* When the caller should come back for v, or 0. */
static fv_ns_t vbd_next_due(const struct blkback *bb, const struct bb_vbd *v, fv_ns_t now)
{
    if (!bb->c.virtual_time)
        return v->busy ? now + BB_REAL_POLL : 0;
    fv_ns_t due = 0;
    for (unsigned k = 0; k < v->nslots; k++)
        if (v->slot[k].state == SLOT_DONE && (!due || v->slot[k].due < due))
            due = v->slot[k].due;
    return due;
}

/* Step 1 for v: service, then take into its queue for the disk. Returns
 * the work done. */
static int vbd_in(struct blkback *bb, struct bb_vbd *v, bool any_event)
{
    /* Clear the event before looking: one that comes after is kept. */
    v->p_event = any_event && evtchn_test_and_clear_pending(bb->c.ev, 0, v->port) == 1;
    v->p_in = true;
    v->p_taken = 0;
    uint32_t prod = v->p_prod = FV_RING_REQ_PROD(&v->ring);
    if (FV_RING_REQUEST_PROD_OVERFLOW(&v->ring, prod)) {
        vbd_disconnect(bb, v, "ring: producer %u is %u requests ahead of the consumer (the ring "
                       "has %u)", prod, prod - v->ring.req_cons, BB_RING);
        return 0;
    }
    /* The clock only around real work (real time): new requests, or a
     * completion ready (a busy-polling pass with I/O in flight mostly finds
     * none, and the clock is not free). */
    bool timed = !bb->c.virtual_time &&
                 (prod != v->ring.req_cons || (v->busy && blk_disk_wait(v->disk, 0) == 0));
    v->now = bb->c.virtual_time ? bb->now : timed ? mono_ns() : 0;
    v->nlat = 0;
    int work = service(bb, v);
    v->p_taken = take(bb, v, prod);
    if (timed)
        BB_ADD(v->st.backend_ns, mono_ns() - v->now);
    return work + v->p_taken;
}

/* Step 2: queued requests to the disks in the scheduler's order, while
 * fewer than blkback.depth are there. Returns how many were sent. */
static int dispatch(struct blkback *bb)
{
    int sent = 0;
    bb->q_when = 0;
    if (!bb->waiting)
        return 0;
    /* Real time: the host's clock, read only when a tag is a time. */
    bb->q_now = bb->c.virtual_time ? bb->now : bb->q_timed ? mono_ns() : 0;
    while (bb->inflight < bb->depth && bb->waiting) {
        enum bb_qos_phase phase;
        int f = bb_qos_dispatch(&bb->q, bb->q_now, &phase, &bb->q_when);
        if (f < 0)
            break;                      /* every queue is held by its limit until q_when */
        struct bb_vbd *v = &bb->vbd[f];
        int k = v->wq[v->wq_head];
        v->wq_head = (v->wq_head + 1) % BB_RING;
        v->wq_n--;
        bb->waiting--;
        if (v->wq_n) {
            const struct bb_slot *h = &v->slot[v->wq[v->wq_head]];
            bb_qos_head(&bb->q, f, h->gseq, h->taken);
        }
        slot_start(bb, v, k);
        v->kick = true;
        sent++;
    }
    return sent;
}

/* Step 2 and the service of each vbd that was sent requests (one kick);
 * what that answers frees room at the disks, so again until nothing is
 * answered (no request is taken meanwhile: it ends). Returns the answers. */
static int drive_all(struct blkback *bb)
{
    int answered = 0, a;
    do {
        if (!dispatch(bb))
            break;
        a = 0;
        fv_ns_t t0 = bb->c.virtual_time ? 0 : mono_ns();
        for (int i = 0; i < bb->nr_vbds; i++) {
            struct bb_vbd *v = &bb->vbd[i];
            if (!v->kick)
                continue;
            v->kick = false;
            a += service(bb, v);
            if (!bb->c.virtual_time) {
                fv_ns_t t1 = mono_ns();
                BB_ADD(v->st.backend_ns, t1 - t0);
                t0 = t1;
            }
        }
        answered += a;
    } while (a && bb->waiting);
    return answered;
}

/* Step 3 for v. Returns 1 if it has requests blkback can take now. */
static int vbd_out(struct blkback *bb, struct bb_vbd *v)
{
    if (!bb->c.virtual_time && v->nlat) {
        fv_ns_t t1 = mono_ns();
        for (unsigned i = 0; i < v->nlat; i++)
            hist_add(&v->st.latency, (uint64_t)(t1 - v->lat_taken[i]));
    }
    bool left = v->ring.req_cons != v->p_prod;
    account_event(bb, v, v->p_event, v->p_taken > 0 || left);
    return vbd_flush(bb, v, v->p_taken, left);
}

static int poll_locked(struct blkback *bb, fv_ns_t now, fv_ns_t *cost, fv_ns_t *next_due)
{
    bb->cost = 0;
    bb->now = now;
    fv_ns_t due = 0;
    int work = 0;
    /* One look at domain 0's pending bits saves a lookup per vbd. */
    bool any_event = evtchn_pending_any(bb->c.ev, 0, 0) == 1;
    for (int i = 0; i < bb->nr_vbds; i++) {
        struct bb_vbd *v = &bb->vbd[i];
        if (atomic_load_explicit(&v->state, memory_order_acquire) == VBD_CONNECTED)
            work += vbd_in(bb, v, any_event);
    }
    work += drive_all(bb);
    /* Only the vbds step 1 saw: one may have connected since. */
    for (int i = 0; i < bb->nr_vbds; i++) {
        struct bb_vbd *v = &bb->vbd[i];
        if (!v->p_in)
            continue;
        v->p_in = false;
        if (atomic_load_explicit(&v->state, memory_order_relaxed) != VBD_CONNECTED)
            continue;
        work += vbd_out(bb, v);
        if (atomic_load_explicit(&v->state, memory_order_relaxed) != VBD_CONNECTED)
            continue;
        fv_ns_t d = vbd_next_due(bb, v, now);
        if (d && (!due || d < due))
            due = d;
    }
    /* Requests held by a limit: come back when the first may go. */
    if (bb->q_when) {
        fv_ns_t d = bb->c.virtual_time ? bb->q_when : now + (bb->q_when - bb->q_now);
        if (!due || d < due)
            due = d;
    }
    *cost = bb->cost;
    *next_due = due;
    return work;
}

int blkback_poll(struct blkback *bb, fv_ns_t now, fv_ns_t *cost, fv_ns_t *next_due)
{
    pthread_mutex_lock(&bb->lock);
    int rc = poll_locked(bb, now, cost, next_due);
    pthread_mutex_unlock(&bb->lock);
    return rc;
}

const struct blkback_vbd_stats *blkback_vbd_stats(const struct blkback *bb, int d, int vbd)
{
    if (d < 0 || d >= bb->nr_doms || bb->first[d] < 0 || vbd < 0 ||
        vbd >= bb->c.scn->domains[d].nr_vbds)
        return NULL;
    return &bb->vbd[bb->first[d] + vbd].st;
}

/* ---- starvation (hv/starve.h) ----------------------------------------------------- */

int blkback_vbd_backlog(const struct blkback *bb, int d, int vbd, uint64_t *served)
{
    *served = 0;
    if (d < 0 || d >= bb->nr_doms || bb->first[d] < 0 || vbd < 0 ||
        vbd >= bb->c.scn->domains[d].nr_vbds)
        return -ENODEV;
    const struct bb_vbd *v = &bb->vbd[bb->first[d] + vbd];
#define BB_LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
    *served = BB_LD(v->st.reads) + BB_LD(v->st.writes) + BB_LD(v->st.flushes) +
              BB_LD(v->st.errors) + BB_LD(v->st.unsupported);
#undef BB_LD
    if (atomic_load_explicit(&v->state, memory_order_acquire) != VBD_CONNECTED)
        return 0;
    /* Every request is answered once: what is on the ring or taken and not
     * answered is between the two shared producers (at most a ring). */
    uint32_t n = __atomic_load_n(&v->ring.sring->req_prod, __ATOMIC_ACQUIRE) -
                 __atomic_load_n(&v->ring.sring->rsp_prod, __ATOMIC_ACQUIRE);
    return n > BB_RING ? (int)BB_RING : (int)n;
}
