/* blkfront.c — the guest side of a vbd (blkfront.h). Guest code: only
 * guest.h calls, no libc. */
#include "blkfront.h"

#include "netfront.h"

#include <errno.h>
#include <stddef.h>

#define PAGE 4096u

_Static_assert(sizeof(struct blkfront) <= 2 * PAGE, "blkfront state fits its two pages");

/* Where vbd `vbd`'s slice starts: after every vif's. */
static uint8_t *slice(int vbd, uint64_t *left)
{
    uint64_t size = 0;
    uint8_t *io = guest_io_area(&size);
    uint64_t off = ((uint64_t)guest_vif_count() * NETFRONT_PAGES +
                    (uint64_t)vbd * BLKFRONT_PAGES) * PAGE;
    if (!io || off + (uint64_t)BLKFRONT_PAGES * PAGE > size)
        return NULL;
    *left = size - off;
    return io + off;
}

int blkfront_init(struct blkfront **out, int vbd)
{
    uint64_t sectors = 0, left = 0;
    int rc = guest_vbd_info(vbd, &sectors);
    if (rc)
        return rc;
    uint8_t *base = slice(vbd, &left);
    if (!base)
        return -ENODEV;
    struct blkfront *bf = (struct blkfront *)base;
    __builtin_memset(bf, 0, sizeof(*bf));
    bf->vbd = vbd;
    bf->sectors = sectors;
    struct blkif_sring *sr = (struct blkif_sring *)(base + 2 * PAGE);
    FV_SHARED_RING_INIT(sr);
    FV_FRONT_RING_INIT(&bf->ring, sr);
    for (int s = 0; s < BLKFRONT_SLOTS; s++) {
        for (int k = 0; k < BLKIF_MAX_SEGMENTS_PER_REQUEST; k++) {
            bf->page[s][k] = base + (3 + (uint64_t)s * BLKIF_MAX_SEGMENTS_PER_REQUEST + k) * PAGE;
            bf->ref[s][k] = guest_grant_access(0, bf->page[s][k], 0);
            if (bf->ref[s][k] < 0)
                return bf->ref[s][k];
        }
        bf->free[s] = (uint16_t)s;
    }
    bf->nfree = BLKFRONT_SLOTS;
    int ring_ref = guest_grant_access(0, sr, 0);
    if (ring_ref < 0)
        return ring_ref;
    bf->port = guest_evtchn_alloc_unbound(0);
    if (bf->port < 0)
        return bf->port;
    guest_evtchn_bind_vcpu(bf->port, guest_vcpuid());
    if ((rc = guest_vbd_connect(vbd, ring_ref, bf->port)))
        return rc;
    *out = bf;
    return 0;
}

int blkfront_slot(struct blkfront *bf)
{
    if (!bf->nfree || FV_RING_FULL(&bf->ring))
        return -EAGAIN;
    int s = bf->free[--bf->nfree];
    bf->slot[s].in_use = 1;
    return s;
}

void blkfront_post(struct blkfront *bf, int s, int op, uint64_t sector, uint32_t bytes, uint64_t id)
{
    struct blkif_request *r = FV_RING_GET_REQUEST(&bf->ring, bf->ring.req_prod_pvt);
    uint32_t sectors = bytes / BLKIF_SECTOR;
    r->operation = (uint8_t)op;
    r->handle = (uint16_t)bf->vbd;
    r->pad = 0;
    r->id = (uint64_t)s;
    r->sector_number = sector;
    uint8_t n = 0;
    for (uint32_t done = 0; done < sectors && n < BLKIF_MAX_SEGMENTS_PER_REQUEST; n++) {
        uint32_t here = sectors - done < BLKIF_SECTORS_PER_PAGE ? sectors - done
                                                                : BLKIF_SECTORS_PER_PAGE;
        r->seg[n] = (struct blkif_request_segment){ (uint32_t)bf->ref[s][n], 0,
                                                    (uint8_t)(here - 1), 0 };
        done += here;
    }
    r->nr_segments = n;
    bf->slot[s].id = id;
    bf->slot[s].op = op;
    bf->slot[s].issued = guest_now();
    bf->ring.req_prod_pvt++;
}

void blkfront_flush(struct blkfront *bf)
{
    int notify = 0;
    FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&bf->ring, notify);
    if (notify)
        guest_evtchn_send(bf->port);
}

int blkfront_reap(struct blkfront *bf, int *s, uint64_t *id, int *status)
{
    while (FV_RING_HAS_UNCONSUMED_RESPONSES(&bf->ring)) {
        struct blkif_response rsp;
        FV_RING_COPY_RESPONSE(&bf->ring, bf->ring.rsp_cons, &rsp);
        bf->ring.rsp_cons++;
        if (rsp.id >= BLKFRONT_SLOTS || !bf->slot[rsp.id].in_use)
            continue;                   /* not ours: the backend is trusted, but check */
        *s = (int)rsp.id;
        *id = bf->slot[rsp.id].id;
        *status = rsp.status;
        return 1;
    }
    return 0;
}

void blkfront_done(struct blkfront *bf, int s)
{
    bf->slot[s].in_use = 0;
    bf->free[bf->nfree++] = (uint16_t)s;
}

/* On the real engine a wake-up crosses host threads (tens of µs on a VM),
 * about what a fast disk takes to answer: look at the ring for a while
 * first, as Linux's blk-mq hybrid polling does. Virtual time never spins. */
#define BLKFRONT_SPIN_NS 20000

void blkfront_wait(struct blkfront *bf)
{
    int work = 0;
    blkfront_flush(bf);
    if (!guest_time_is_virtual()) {
        fv_ns_t until = guest_now() + BLKFRONT_SPIN_NS;
        while (guest_now() < until)
            if (FV_RING_HAS_UNCONSUMED_RESPONSES(&bf->ring))
                return;
    }
    FV_RING_FINAL_CHECK_FOR_RESPONSES(&bf->ring, work);
    if (!work && guest_evtchn_poll(bf->port) != 1)
        guest_block();
    guest_evtchn_poll(bf->port);
}

void blkfront_idle(int port)
{
    for (;;) {
        if (port > 0)
            guest_evtchn_poll(port);
        guest_block();
    }
}
