/* bench_io.c — the split-driver fast path: shared ring and grant table.
 *
 *   ring/push_pop_batch32    one thread plays both ends of a ring of
 *                            8-byte requests and responses, in batches of
 *                            32: the front fills and pushes (with the notify
 *                            check), the back reads req_prod once, copies each
 *                            request out and answers, pushes, and the front
 *                            copies the responses out. ns per request (one
 *                            round trip through the ring, both copies)
 *   memcpy/N                 a plain memcpy of N bytes from one 4 KiB page
 *                            to another: the baseline for grant copy
 *   grant/copy_from/N        gnttab_copy_from of N bytes: the same memcpy
 *                            plus checking and pinning the entry (one CAS)
 *                            and unpinning it (one atomic RMW)
 *   grant/copy_to/N          the same, into the granted page
 *   grant/map_unmap          gnttab_map + gnttab_unmap of one reference
 *
 * N is 64 (a small packet) and 1500 (an Ethernet MTU). No other thread
 * touches the table: these are uncontended costs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gbench.h"
#include "hv/gnttab.h"
#include "hv/ring.h"

#define BATCH 32            /* ring: requests per push (l2fwd's burst) */
#define OPS 1000            /* grant/memcpy: iterations per gb_keep_running_batch */
#define BACKEND 0           /* the backend's domain id */

/* ---- ring ------------------------------------------------------------------ */

struct bio_req { uint32_t id, len; };
struct bio_rsp { uint32_t id; int32_t status; };
FV_RING_DEFINE(bio, struct bio_req, struct bio_rsp);

static void bm_ring(gb_state *st, void *arg)
{
    (void)arg;
    struct bio_sring *s = aligned_alloc(FV_RING_PAGE_SIZE, FV_RING_PAGE_SIZE);
    struct bio_front f;
    struct bio_back b;
    FV_SHARED_RING_INIT(s);
    FV_FRONT_RING_INIT(&f, s);
    FV_BACK_RING_INIT(&b, s);
    uint32_t id = 0, sum = 0;
    long notifies = 0;
    while (gb_keep_running_batch(st, BATCH)) {
        for (int i = 0; i < BATCH; i++) {
            struct bio_req *r = FV_RING_GET_REQUEST(&f, f.req_prod_pvt++);
            r->id = id++;
            r->len = 64;
        }
        bool notify;
        FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f, notify);
        notifies += notify;

        uint32_t prod = FV_RING_REQ_PROD(&b);
        if (FV_RING_REQUEST_PROD_OVERFLOW(&b, prod)) {
            gb_skip_with_error(st, "ring overflow");
            break;
        }
        while (b.req_cons != prod) {
            struct bio_req q;
            FV_RING_COPY_REQUEST(&b, b.req_cons++, &q);
            struct bio_rsp *p = FV_RING_GET_RESPONSE(&b, b.rsp_prod_pvt++);
            p->id = q.id;
            p->status = (int32_t)q.len;
        }
        FV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&b, notify);
        notifies += notify;
        int work;
        FV_RING_FINAL_CHECK_FOR_REQUESTS(&b, work);     /* re-arm, as a backend does */

        for (uint32_t n = FV_RING_HAS_UNCONSUMED_RESPONSES(&f); n; n--) {
            struct bio_rsp p;
            FV_RING_COPY_RESPONSE(&f, f.rsp_cons++, &p);
            sum += p.id;
        }
        FV_RING_FINAL_CHECK_FOR_RESPONSES(&f, work);
        (void)work;
    }
    gb_do_not_optimize(&sum);
    gb_set_items(st, gb_iterations(st));
    gb_counter(st, "notify_per_req", (double)notifies, GB_COUNTER_AVG_ITERATIONS);
    free(s);
}

/* ---- grant copy and its baseline ---------------------------------------------- */

struct gfx {
    uint8_t *guest;         /* the guest's memory: one page, granted */
    uint8_t *buf;           /* the backend's own page */
    struct gnttab *gt;
    grant_ref_t ref;
};

static bool gfx_init(gb_state *st, struct gfx *g)
{
    g->guest = aligned_alloc(GNTTAB_PAGE_SIZE, GNTTAB_PAGE_SIZE);
    g->buf = aligned_alloc(GNTTAB_PAGE_SIZE, GNTTAB_PAGE_SIZE);
    memset(g->guest, 0x3C, GNTTAB_PAGE_SIZE);
    memset(g->buf, 0xC3, GNTTAB_PAGE_SIZE);
    g->gt = gnttab_create(1, g->guest, GNTTAB_PAGE_SIZE, 0);
    int ref = g->gt ? gnttab_grant(g->gt, BACKEND, g->guest, false) : -1;
    if (ref < 0) {
        gb_skip_with_error(st, "cannot create the grant table");
        return false;
    }
    g->ref = (grant_ref_t)ref;
    return true;
}

static void gfx_fini(struct gfx *g)
{
    if (g->gt) {
        gnttab_end(g->gt, g->ref);
        gnttab_destroy(g->gt);
    }
    free(g->guest);
    free(g->buf);
}

static void bm_memcpy(gb_state *st, void *arg)
{
    (void)arg;
    struct gfx g = { 0 };
    if (!gfx_init(st, &g))
        goto out;
    size_t len = (size_t)gb_range(st, 0);
    while (gb_keep_running_batch(st, OPS))
        for (int i = 0; i < OPS; i++) {
            memcpy(g.buf, g.guest, len);
            gb_do_not_optimize(g.buf);
        }
    gb_set_items(st, gb_iterations(st));
out:
    gfx_fini(&g);
}

/* Grant copy in either direction (arg: non-NULL for into the guest). */
static void bm_copy(gb_state *st, void *arg)
{
    bool to = arg != NULL;
    struct gfx g = { 0 };
    if (!gfx_init(st, &g))
        goto out;
    uint32_t len = (uint32_t)gb_range(st, 0);
    int bad = 0;
    while (gb_keep_running_batch(st, OPS))
        for (int i = 0; i < OPS; i++) {
            bad |= to ? gnttab_copy_to(g.gt, BACKEND, g.ref, 0, g.buf, len)
                      : gnttab_copy_from(g.gt, BACKEND, g.ref, 0, g.buf, len);
            gb_do_not_optimize(g.buf);
            gb_clobber_memory();
        }
    if (bad)
        gb_skip_with_error(st, to ? "gnttab_copy_to failed" : "gnttab_copy_from failed");
    gb_set_items(st, gb_iterations(st));
out:
    gfx_fini(&g);
}

static void bm_map_unmap(gb_state *st, void *arg)
{
    (void)arg;
    struct gfx g = { 0 };
    if (!gfx_init(st, &g))
        goto out;
    int bad = 0;
    while (gb_keep_running_batch(st, OPS))
        for (int i = 0; i < OPS; i++) {
            void *p = gnttab_map(g.gt, BACKEND, g.ref, true, NULL);
            gb_do_not_optimize(p);
            bad |= (p == NULL) | (gnttab_unmap(g.gt, g.ref) != 0);
        }
    if (bad)
        gb_skip_with_error(st, "gnttab_map/unmap failed");
    gb_set_items(st, gb_iterations(st));
out:
    gfx_fini(&g);
}

int main(int argc, char **argv)
{
    gb_register("ring/push_pop_batch32", bm_ring, NULL);
    gb_arg(gb_arg(gb_arg_name(gb_register("memcpy", bm_memcpy, NULL), "bytes"), 64), 1500);
    gb_arg(gb_arg(gb_arg_name(gb_register("grant/copy_from", bm_copy, NULL), "bytes"), 64),
           1500);
    gb_arg(gb_arg(gb_arg_name(gb_register("grant/copy_to", bm_copy, (void *)1), "bytes"), 64),
           1500);
    gb_register("grant/map_unmap", bm_map_unmap, NULL);
    return gb_main(argc, argv);
}
