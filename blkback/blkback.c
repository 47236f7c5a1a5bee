/* blkback.c — domain 0's block backend: vbd rings <-> disks. The contract
 * and the trust rules are in blkback.h.
 *
 * A pass, for each connected vbd: clear its event, read the request
 * producer once (a producer more than a ring ahead disconnects it), then
 *   - service: kick what is queued, reap completions (a barrier's write
 *     completing queues its flush), answer what is done (and, in virtual
 *     time, due), start a parked barrier once everything before it is
 *     answered;
 *   - take requests while a slot is free and no barrier is parked or in
 *     service: copy each out of the ring once, validate the copy, copy write
 *     data out of the guest's pages into the slot's own buffer (check a
 *     read's grants) and queue the I/O; a bad request is answered at once
 *     and takes no slot;
 *   - service again (one kick for what this pass queued);
 *   - push the responses, notify if the guest asked, and re-arm the request
 *     event only after a pass that took nothing (as netback).
 * A vbd has scn->blkback.qdepth slots (at most the ring's 32): a request
 * holds one from being taken until it is answered. Requests left on the
 * ring because every slot is busy wait there: they are taken when a slot
 * frees, in the pass that the caller makes at *next_due (virtual time) or
 * when it looks for completions (real time). A barrier holds the vbd: it
 * waits, parked in its slot, until every request taken before it is
 * answered, and nothing is taken after it until it is answered itself.
 *
 * Locking:
 *   - blkback_poll runs on one thread at a time (domain 0's vCPU with
 *     preemption off, or its dedicated pCPU); it alone touches a connected
 *     vbd's ring, slots, disk and counters. blkback_connect comes from guest
 *     vCPUs on other threads, and blkback_vbd_stats from anyone.
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
#include "blkback.h"

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
#include "blkif.h"
#include "disk.h"

#define BB_RING ((unsigned)blkif_RING_SIZE)
#define BB_STORM_RUN 1000               /* events in a row with no work: a storm */
#define BB_MAX_BYTES (BLKIF_MAX_SEGMENTS_PER_REQUEST * GNTTAB_PAGE_SIZE)
#define BB_REAL_POLL FV_US(20)          /* real time: look for completions again after */
#define BB_QDEPTH_DEFAULT 32u

_Static_assert(BB_MAX_BYTES % 4096 == 0, "slot buffers stay 4 KiB aligned");

enum { VBD_IDLE, VBD_CONNECTED, VBD_DEAD, VBD_CLAIMED };
enum { SLOT_FREE, SLOT_PARKED, SLOT_IO, SLOT_DONE };

/* A request taken off the ring and not answered yet. */
struct bb_slot {
    struct blkif_request req;           /* the private copy: the only one read */
    int state;
    bool flush_next;                    /* a barrier: its write is in service, then a flush */
    enum blk_disk_op op;                /* what is at the disk now */
    int16_t status;                     /* when DONE */
    uint32_t bytes;                     /* data moved (0 for a flush) */
    uint64_t seq;                       /* taking order */
    fv_ns_t taken, due;                 /* due: virtual time only */
    uint8_t *buf;                       /* BB_MAX_BYTES, 4 KiB aligned */
};

struct bb_vbd {
    _Atomic int state;
    int d, idx, domid;
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
    fv_ns_t now;                        /* the pass's time (virtual), its section's start (real) */
    fv_ns_t last_due;                   /* virtual time: when the disk is free again */
    uint32_t quiet_events;              /* events in a row that brought no work */
    bool dirty;                         /* responses to push this pass */
    unsigned nlat;                      /* real time: answered in this section */
    /* A section answers at most what was in service and what it took. */
    fv_ns_t lat_taken[2 * blkif_RING_SIZE];
    struct bb_slot *slot;
    uint8_t *bufs;
    struct blkback_vbd_stats st;
};

struct blkback {
    struct blkback_conf c;
    int nr_vbds;
    struct bb_vbd *vbd;
    int *first;                         /* by domain index: its vbd 0 in vbd[], or -1 */
    fv_ns_t cost;                       /* this pass's modelled cost */
};

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

/* Disconnect v alone: its ring unmapped, its event channel closed (the
 * guest sees the port close), the reason logged and kept. What it has in
 * flight at the disk completes into blkback's own buffers, unanswered. */
static void vbd_disconnect(struct blkback *bb, struct bb_vbd *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void vbd_disconnect(struct blkback *bb, struct bb_vbd *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->st.reason, sizeof(v->st.reason), fmt, ap);
    va_end(ap);
    atomic_store_explicit(&v->state, VBD_DEAD, memory_order_relaxed);
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

/* The model's completion time of `bytes` started now, one after another
 * per vbd (virtual time); the disk has done it already (a memory disk at
 * once, an image file waited for: see drive). */
static fv_ns_t model_due(struct blkback *bb, struct bb_vbd *v, uint32_t bytes)
{
    const struct scn_blkback *m = &bb->c.scn->blkback;
    fv_ns_t start = v->now > v->last_due ? v->now : v->last_due;
    fv_ns_t xfer = m->bandwidth ? (fv_ns_t)((uint64_t)bytes * 1000000000ULL / m->bandwidth) : 0;
    v->last_due = start + m->latency + xfer;
    return v->last_due;
}

/* Start slot k's service: the disk op(s) of its request. */
static void slot_start(struct blkback *bb, struct bb_vbd *v, int k)
{
    struct bb_slot *s = &v->slot[k];
    if (bb->c.virtual_time)
        s->due = model_due(bb, v, s->bytes);
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

/* Everything in service moves on; a parked barrier starts once it is the
 * only request of its vbd left. Returns the requests answered. */
static int service(struct blkback *bb, struct bb_vbd *v)
{
    int answered = 0;
    for (int i = 0; i < 2; i++) {
        drive(v);
        answered += answer_due(bb, v);
        if (v->barrier < 0 || v->busy != 1 || v->slot[v->barrier].state != SLOT_PARKED)
            break;
        slot_start(bb, v, v->barrier);
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
            slot_start(bb, v, k);
        return;
    }
    slot_start(bb, v, k);
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

static int vbd_pass(struct blkback *bb, struct bb_vbd *v, fv_ns_t now, bool any_event)
{
    /* Clear the event before looking: one that comes after is kept. */
    bool event = any_event && evtchn_test_and_clear_pending(bb->c.ev, 0, v->port) == 1;
    uint32_t prod = FV_RING_REQ_PROD(&v->ring);
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
    v->now = bb->c.virtual_time ? now : timed ? mono_ns() : 0;
    v->nlat = 0;
    int work = service(bb, v);
    int taken = take(bb, v, prod);
    if (taken)
        work += service(bb, v);
    bool left = v->ring.req_cons != prod;
    if (timed || (!bb->c.virtual_time && v->nlat)) {
        fv_ns_t t1 = mono_ns();
        if (timed)
            BB_ADD(v->st.backend_ns, t1 - v->now);
        for (unsigned i = 0; i < v->nlat; i++)
            hist_add(&v->st.latency, (uint64_t)(t1 - v->lat_taken[i]));
    }
    account_event(bb, v, event, taken > 0 || left);
    return work + taken + vbd_flush(bb, v, taken, left);
}

int blkback_poll(struct blkback *bb, fv_ns_t now, fv_ns_t *cost, fv_ns_t *next_due)
{
    bb->cost = 0;
    fv_ns_t due = 0;
    int work = 0;
    /* One look at domain 0's pending bits saves a lookup per vbd. */
    bool any_event = evtchn_pending_any(bb->c.ev, 0, 0) == 1;
    for (int i = 0; i < bb->nr_vbds; i++) {
        struct bb_vbd *v = &bb->vbd[i];
        if (atomic_load_explicit(&v->state, memory_order_acquire) != VBD_CONNECTED)
            continue;
        work += vbd_pass(bb, v, now, any_event);
        if (atomic_load_explicit(&v->state, memory_order_relaxed) != VBD_CONNECTED)
            continue;
        fv_ns_t d = vbd_next_due(bb, v, now);
        if (d && (!due || d < due))
            due = d;
    }
    *cost = bb->cost;
    *next_due = due;
    return work;
}

/* ---- set-up ---------------------------------------------------------------------- */

int blkback_connect(struct blkback *bb, int d, int vbd, uint32_t ring_ref, int port)
{
    if (d < 0 || d >= bb->c.scn->nr_domains || bb->first[d] < 0 || vbd < 0 ||
        vbd >= bb->c.scn->domains[d].nr_vbds)
        return -ENODEV;
    struct bb_vbd *v = &bb->vbd[bb->first[d] + vbd];
    if (!v->gt)
        return -ENODEV;                 /* a domain without a grant table has no ring to give */
    int expect = VBD_IDLE;
    /* Claim it first: two vCPUs of one guest may race to connect. */
    if (!atomic_compare_exchange_strong(&v->state, &expect, VBD_CLAIMED))
        return -EBUSY;
    int err = 0;
    struct blkif_sring *s = gnttab_map(v->gt, 0, ring_ref, true, &err);
    if (!s) {
        atomic_store(&v->state, VBD_IDLE);
        return err ? err : -EINVAL;
    }
    int local = evtchn_bind_interdomain(bb->c.ev, 0, v->domid, port);
    if (local < 0) {
        gnttab_unmap(v->gt, ring_ref);
        atomic_store(&v->state, VBD_IDLE);
        return local;
    }
    v->ring_ref = ring_ref;
    v->port = local;
    FV_BACK_RING_INIT(&v->ring, s);
    v->st.connected = true;
    /* Pairs with the acquire load in the pass: the vbd is filled in. */
    atomic_store_explicit(&v->state, VBD_CONNECTED, memory_order_release);
    return 0;
}

static int open_disk(struct blkback *bb, struct bb_vbd *v, const struct scn_vbd *sv, char *err,
                     size_t errlen)
{
    const struct scn_blkback *m = &bb->c.scn->blkback;
    unsigned qdepth = m->qdepth ? m->qdepth : BB_QDEPTH_DEFAULT;
    /* In virtual time the disk serves at once; the model says when. */
    bool file = sv->backend == SCN_BLK_FILE;
    v->sync_io = file && bb->c.virtual_time;
    struct blk_disk_conf dc = { .kind = file ? BLK_DISK_FILE : BLK_DISK_MEMORY,
                                .path = file ? sv->path : NULL, .size = sv->size,
                                .qdepth = qdepth < BB_RING ? qdepth : BB_RING };
    char why[256] = "";
    int rc = blk_disk_open(&v->disk, &dc, why, sizeof(why));
    if (rc) {
        v->disk = NULL;
        snprintf(err, errlen, "domain %s vbd %d: %s", v->dom_name, v->idx,
                 why[0] ? why : strerror(-rc));
        return rc;
    }
    v->sectors = blk_disk_size(v->disk) / BLKIF_SECTOR;
    v->st.direct = blk_disk_direct(v->disk);
    unsigned n = blk_disk_qdepth(v->disk);
    v->nslots = dc.qdepth < n ? dc.qdepth : n;
    v->slot = calloc(v->nslots, sizeof(*v->slot));
    /* Untouched until used: a large aligned_alloc is fresh mapped memory. */
    v->bufs = aligned_alloc(4096, (size_t)v->nslots * BB_MAX_BYTES);
    if (!v->slot || !v->bufs) {
        snprintf(err, errlen, "domain %s vbd %d: out of memory for its buffers", v->dom_name,
                 v->idx);
        return -ENOMEM;
    }
    for (unsigned k = 0; k < v->nslots; k++)
        v->slot[k].buf = v->bufs + (size_t)k * BB_MAX_BYTES;
    return 0;
}

static int build_vbds(struct blkback *bb, struct gnttab *const *gt, char *err, size_t errlen)
{
    const struct scenario *scn = bb->c.scn;
    for (int d = 0; d < scn->nr_domains; d++)
        bb->nr_vbds += scn->domains[d].nr_vbds;
    bb->vbd = calloc((size_t)bb->nr_vbds + 1, sizeof(*bb->vbd));
    bb->first = malloc(((size_t)scn->nr_domains + 1) * sizeof(*bb->first));
    if (!bb->vbd || !bb->first) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int k = 0;
    for (int d = 0; d < scn->nr_domains; d++) {
        const struct scn_domain *sd = &scn->domains[d];
        bb->first[d] = sd->nr_vbds ? k : -1;
        for (int i = 0; i < sd->nr_vbds; i++, k++) {
            struct bb_vbd *v = &bb->vbd[k];
            atomic_init(&v->state, VBD_IDLE);
            v->d = d;
            v->idx = i;
            v->domid = sd->id;
            v->dom_name = sd->name;
            v->gt = gt ? gt[d] : NULL;
            v->barrier = -1;
            int rc = open_disk(bb, v, &sd->vbds[i], err, errlen);
            if (rc)
                return rc;
        }
    }
    return 0;
}

struct blkback *blkback_create(const struct blkback_conf *c, char *err, size_t errlen)
{
    if (errlen)
        err[0] = 0;
    struct blkback *bb = calloc(1, sizeof(*bb));
    if (!bb) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    bb->c = *c;
    bb->c.gt = NULL;                    /* the caller's array need not outlive the call */
    if (build_vbds(bb, c->gt, err, errlen) == 0)
        return bb;
    blkback_destroy(bb);
    return NULL;
}

void blkback_destroy(struct blkback *bb)
{
    if (!bb)
        return;
    for (int k = 0; bb->vbd && k < bb->nr_vbds; k++) {
        struct bb_vbd *v = &bb->vbd[k];
        if (atomic_load(&v->state) == VBD_CONNECTED)
            gnttab_unmap(v->gt, v->ring_ref);
        if (v->disk)
            blk_disk_close(v->disk);    /* waits for I/O into the buffers below */
        free(v->slot);
        free(v->bufs);
    }
    free(bb->vbd);
    free(bb->first);
    free(bb);
}

const struct blkback_vbd_stats *blkback_vbd_stats(const struct blkback *bb, int d, int vbd)
{
    if (d < 0 || d >= bb->c.scn->nr_domains || bb->first[d] < 0 || vbd < 0 ||
        vbd >= bb->c.scn->domains[d].nr_vbds)
        return NULL;
    return &bb->vbd[bb->first[d] + vbd].st;
}
