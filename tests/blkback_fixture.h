/* blkback_fixture.h — blkback in one process, without an engine, for
 * tests/test_blkback.c and fuzz/fuzz_blkback.c. Header-only.
 *
 * bbf_init builds: a scenario of n guest domains (ids 1..n, domain index
 * id - 1, one memory vbd each of disk_size bytes) and Domain-0 (id 0, the
 * last index); each guest's memory (pages * 4 KiB, page aligned, zeroed)
 * and its grant table over it; a domain table holding every domain's event
 * channels; and blkback, in virtual time unless real_time. The calling
 * thread must be domtab_thread_online(). Errors are returned (0 or
 * -errno), never asserted: the fuzz harness has no cmocka.
 *
 * A guest plays blkfront. Its memory is laid out as
 *     page 0              the ring (reference 0, writable)
 *     pages 1..BBF_DATA   data pages (references 1..BBF_DATA, writable)
 * and every later page is never granted by the fixture (tests grant what
 * they need there). bbf_front grants them, initialises the ring and
 * allocates the guest's event channel; bbf_connect hands them to blkback.
 *
 * Each guest has a shadow of its disk: what the disk must hold after the
 * writes answered OKAY (the helpers keep it; a test that writes by hand
 * updates it itself). bbf_disk_ok reads the whole disk back through the
 * ring and compares it with the shadow.
 */
#ifndef FV_BLKBACK_FIXTURE_H
#define FV_BLKBACK_FIXTURE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blkback/blkback.h"
#include "blkback/blkif.h"
#include "hv/domtab.h"
#include "hv/evtchn.h"
#include "hv/gnttab.h"
#include "tests/scn_build.h"

#define BBF_PAGE 4096u
#define BBF_MAX_GUESTS 4
#define BBF_DATA 16                     /* data pages per guest */
#define BBF_ID_TAG 0xB10C000000000000ull    /* high bits of the ids the helpers use */
#define BBF_SETTLE_MAX 4096             /* passes bbf_settle makes at most */

struct bbf_conf {
    int guests;                         /* 1..BBF_MAX_GUESTS */
    uint32_t pages;                     /* per guest; >= 1 + BBF_DATA */
    uint32_t max_grants;                /* per guest; 0: GNTTAB_DEFAULT_MAX */
    uint64_t disk_size;                 /* per vbd, a multiple of 4 KiB */
    unsigned qdepth;                    /* 0: blkback's default (32) */
    fv_ns_t latency;                    /* the virtual-time model */
    uint64_t bandwidth;
    unsigned model_depth;               /* 0: 1, one request at a time on the shared disk */
    fv_ns_t cost_request, cost_kib;
    bool real_time;                     /* measured CPU, no model */
    const char *file_dir;               /* real time: image files DIR/guestN.img, not memory */
    /* Optional (the fuzz harness): the guests' memory (guests * pages
     * pages, page aligned; zeroed here, not freed). */
    uint8_t *mem;
};

struct bbf_guest {
    int d, domid;                       /* domain index, id (d + 1) */
    uint8_t *mem;
    uint32_t pages;
    struct gnttab *gt;
    struct blkif_front ring;
    int ring_ref;
    int data_ref[BBF_DATA];
    int port;                           /* the guest's end of its event channel */
    uint8_t *disk;                      /* the shadow of its disk */
};

struct bbf {
    struct bbf_conf c;
    struct scenario *scn;
    int nguests;
    struct bbf_guest g[BBF_MAX_GUESTS];
    struct domtab *dt;
    struct evtchn_tab ev;
    struct blkback *bb;
    fv_ns_t now;                        /* the time the next pass runs at */
    fv_ns_t cost, due;                  /* what the last pass said */
    int work;
};

static inline uint8_t *bbf_page(const struct bbf_guest *g, uint32_t p)
{
    return g->mem + (size_t)p * BBF_PAGE;
}
/* Data page k (0..BBF_DATA-1). */
static inline uint8_t *bbf_data(const struct bbf_guest *g, int k)
{
    return bbf_page(g, 1 + (uint32_t)k);
}

static inline void bbf_free_ev(int id, void *dom, struct evtchn_dom *ev, void *arg)
{
    (void)id;
    (void)dom;
    (void)arg;
    evtchn_dom_free(ev);
}

static inline void bbf_fini(struct bbf *f)
{
    blkback_destroy(f->bb);
    if (f->dt)
        domtab_destroy(f->dt, bbf_free_ev, NULL);
    for (int i = 0; i < f->nguests; i++) {
        gnttab_destroy(f->g[i].gt);
        if (!f->c.mem)
            free(f->g[i].mem);
        free(f->g[i].disk);
    }
    if (f->scn)
        scn_build_free(f->scn);
    memset(f, 0, sizeof(*f));
}

static inline int bbf_evtchn_dom(struct bbf *f, int id)
{
    struct evtchn_dom *e = evtchn_dom_create(id, 1, 0);
    if (!e)
        return -errno;
    int rc = domtab_insert(f->dt, id, NULL, e);
    if (rc)
        evtchn_dom_free(e);
    return rc;
}

static inline int bbf_guest_mem(struct bbf *f, int i)
{
    struct bbf_guest *g = &f->g[i];
    g->d = i;
    g->domid = i + 1;
    g->pages = f->c.pages;
    g->mem = f->c.mem ? f->c.mem + (size_t)i * g->pages * BBF_PAGE
                      : aligned_alloc(BBF_PAGE, (size_t)g->pages * BBF_PAGE);
    g->disk = calloc(1, (size_t)f->c.disk_size);
    if (!g->mem || !g->disk)
        return -ENOMEM;
    memset(g->mem, 0, (size_t)g->pages * BBF_PAGE);
    g->gt = gnttab_create(g->domid, g->mem, (uint64_t)g->pages * BBF_PAGE, f->c.max_grants);
    return g->gt ? 0 : -errno;
}

static inline void bbf_scenario(struct bbf *f)
{
    const struct bbf_conf *c = &f->c;
    f->scn = scn_build("credit", 1, FV_MS(100));
    for (int i = 0; i < c->guests; i++) {
        char name[16];
        snprintf(name, sizeof(name), "guest%d", i + 1);
        char path[SCN_PATH_MAX];
        if (c->file_dir)
            snprintf(path, sizeof(path), "%s/guest%d.img", c->file_dir, i + 1);
        scn_build_vbd(f->scn, scn_build_dom(f->scn, name, "idle"), c->disk_size,
                      c->file_dir ? path : NULL);
    }
    scn_build_dom0(f->scn, SCN_NB_RING);
    struct scn_blkback *b = &f->scn->blkback;
    b->present = true;
    b->backend = SCN_BLK_MEMORY;
    b->cpu = SCN_NB_DOM0;
    b->qdepth = c->qdepth ? c->qdepth : 32;
    b->latency = c->latency;
    b->bandwidth = c->bandwidth;
    /* One unit by default: due = max(now, previous due) + latency + bytes /
     * bandwidth, the times the service tests compute. */
    b->model_depth = c->model_depth ? c->model_depth : 1;
    b->cost_request = c->cost_request;
    b->cost_kib = c->cost_kib;
}

/* Everything but the guests' rings and channels (bbf_front). */
static inline int bbf_init(struct bbf *f, const struct bbf_conf *c)
{
    memset(f, 0, sizeof(*f));
    f->c = *c;
    if (c->guests < 1 || c->guests > BBF_MAX_GUESTS || c->pages < 1 + BBF_DATA ||
        !c->disk_size || c->disk_size % BBF_PAGE)
        return -EINVAL;
    bbf_scenario(f);
    int rc;
    f->dt = domtab_create(c->guests + 1);
    if (!f->dt)
        return -errno;
    evtchn_tab_init(&f->ev, f->dt, NULL, NULL);
    for (int id = 0; id <= c->guests; id++)
        if ((rc = bbf_evtchn_dom(f, id)))
            return rc;
    struct gnttab *gt[BBF_MAX_GUESTS + 1] = { 0 };
    for (int i = 0; i < c->guests; i++, f->nguests++) {
        if ((rc = bbf_guest_mem(f, i)))
            return rc;
        gt[i] = f->g[i].gt;
    }
    char err[512];
    struct blkback_conf bc = { .scn = f->scn, .virtual_time = !c->real_time, .ev = &f->ev,
                               .gt = gt };
    f->bb = blkback_create(&bc, err, sizeof(err));
    if (!f->bb) {
        fprintf(stderr, "bbf_init: blkback_create: %s\n", err);
        return -ENOMEM;
    }
    return 0;
}

/* Guest i sets up its ring, grants and event channel, as blkfront does
 * before it connects. */
static inline int bbf_front(struct bbf *f, int i)
{
    struct bbf_guest *g = &f->g[i];
    struct blkif_sring *s = (struct blkif_sring *)bbf_page(g, 0);
    FV_SHARED_RING_INIT(s);
    FV_FRONT_RING_INIT(&g->ring, s);
    if ((g->ring_ref = gnttab_grant(g->gt, 0, s, false)) < 0)
        return g->ring_ref;
    for (int k = 0; k < BBF_DATA; k++)
        if ((g->data_ref[k] = gnttab_grant(g->gt, 0, bbf_data(g, k), false)) < 0)
            return g->data_ref[k];
    g->port = evtchn_alloc_unbound(&f->ev, g->domid, 0);
    return g->port < 0 ? g->port : 0;
}

static inline int bbf_connect(struct bbf *f, int i)
{
    struct bbf_guest *g = &f->g[i];
    return blkback_connect(f->bb, g->d, 0, (uint32_t)g->ring_ref, g->port);
}

static inline const struct blkback_vbd_stats *bbf_stats(const struct bbf *f, int i)
{
    return blkback_vbd_stats(f->bb, f->g[i].d, 0);
}

static inline int bbf_pass(struct bbf *f)
{
    f->work = blkback_poll(f->bb, f->now, &f->cost, &f->due);
    return f->work;
}

/* Passes until blkback has nothing to do and nothing in service, moving
 * the clock to each *next_due; in real time (an image file's I/O in
 * flight) sleeping until then, for 10 s at most. Returns the passes made. */
static inline int bbf_settle(struct bbf *f)
{
    int n = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (f->c.real_time || n < BBF_SETTLE_MAX) {
        n++;
        if (bbf_pass(f) > 0)
            continue;
        if (!f->due)
            break;
        if (f->c.real_time) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec > 10)
                break;
            nanosleep(&(struct timespec){ .tv_nsec = f->due - f->now }, NULL);
        }
        if (f->due > f->now)
            f->now = f->due;
    }
    return n;
}

/* Publish the requests; notify domain 0 if it asked. Returns whether it did. */
static inline bool bbf_push(struct bbf *f, int i)
{
    struct bbf_guest *g = &f->g[i];
    bool notify = false;
    FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&g->ring, notify);
    if (notify)
        evtchn_send(&f->ev, g->domid, g->port);
    return notify;
}

/* Queue a request (not published: bbf_push): nseg whole data pages from
 * page0 on (sectors 0..7 of each), its id BBF_ID_TAG | its ring index.
 * Returns the slot, for a test to make it hostile; NULL if the ring is full. */
static inline struct blkif_request *bbf_post(struct bbf_guest *g, uint8_t op, uint64_t sector,
                                             int nseg, int page0)
{
    if (FV_RING_FULL(&g->ring))
        return NULL;
    struct blkif_request *r = FV_RING_GET_REQUEST(&g->ring, g->ring.req_prod_pvt);
    memset(r, 0, sizeof(*r));
    r->operation = op;
    r->nr_segments = (uint8_t)nseg;
    r->id = BBF_ID_TAG | g->ring.req_prod_pvt;
    r->sector_number = sector;
    for (int k = 0; k < nseg && k < BLKIF_MAX_SEGMENTS_PER_REQUEST; k++)
        r->seg[k] = (struct blkif_request_segment){
            .gref = (uint32_t)g->data_ref[(page0 + k) % BBF_DATA], .first_sect = 0,
            .last_sect = 7 };
    g->ring.req_prod_pvt++;
    return r;
}

/* The next response: 1 with *out, 0 if none. */
static inline int bbf_rsp(struct bbf_guest *g, struct blkif_response *out)
{
    if (!FV_RING_HAS_UNCONSUMED_RESPONSES(&g->ring))
        return 0;
    FV_RING_COPY_RESPONSE(&g->ring, g->ring.rsp_cons, out);
    g->ring.rsp_cons++;
    return 1;
}

/* len bytes that depend on seed and their offset: each page a window of a
 * fixed pseudo-random pattern chosen by seed, led by its seed (a memcpy,
 * not a loop per byte: the fuzz harness fills pages every pass). */
static inline void bbf_fill(uint8_t *p, size_t len, uint32_t seed)
{
    static uint8_t pat[2 * BBF_PAGE];
    static bool made;
    if (!made) {
        uint32_t x = 2463534242u;
        for (size_t k = 0; k < sizeof(pat); k++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            pat[k] = (uint8_t)x;
        }
        made = true;
    }
    for (size_t off = 0; off < len; off += BBF_PAGE) {
        size_t n = len - off < BBF_PAGE ? len - off : BBF_PAGE;
        uint32_t s = seed + (uint32_t)(off / BBF_PAGE) * 7919u;
        memcpy(p + off, pat + s * 61u % BBF_PAGE, n);
        memcpy(p + off, &s, n < 4 ? n : 4);
    }
}

/* One request through the ring: post, push, settle, take the one answer.
 * Returns its status, or -100 for no answer or an answer with another id. */
static inline int bbf_do(struct bbf *f, int i, uint8_t op, uint64_t sector, int nseg, int page0)
{
    struct bbf_guest *g = &f->g[i];
    struct blkif_request *r = bbf_post(g, op, sector, nseg, page0);
    if (!r)
        return -100;
    uint64_t id = r->id;
    bbf_push(f, i);
    bbf_settle(f);
    struct blkif_response rsp;
    if (bbf_rsp(g, &rsp) != 1 || rsp.id != id || rsp.operation != op)
        return -100;
    return rsp.status;
}

/* Write nseg pages of pattern seed at sector (data pages page0..), keeping
 * the shadow. Returns the status (see bbf_do). */
static inline int bbf_write(struct bbf *f, int i, uint64_t sector, int nseg, int page0,
                            uint32_t seed)
{
    struct bbf_guest *g = &f->g[i];
    for (int k = 0; k < nseg; k++)
        bbf_fill(bbf_data(g, (page0 + k) % BBF_DATA), BBF_PAGE, seed + (uint32_t)k);
    int st = bbf_do(f, i, BLKIF_OP_WRITE, sector, nseg, page0);
    if (st == BLKIF_RSP_OKAY)
        for (int k = 0; k < nseg; k++)
            memcpy(g->disk + sector * BLKIF_SECTOR + (size_t)k * BBF_PAGE,
                   bbf_data(g, (page0 + k) % BBF_DATA), BBF_PAGE);
    return st;
}

/* Read nseg pages at sector into data pages page0..; 0 if answered OKAY
 * with exactly the shadow's bytes, else -1. */
static inline int bbf_read_ok(struct bbf *f, int i, uint64_t sector, int nseg, int page0)
{
    struct bbf_guest *g = &f->g[i];
    for (int k = 0; k < nseg; k++)
        memset(bbf_data(g, (page0 + k) % BBF_DATA), 0xEE, BBF_PAGE);
    if (bbf_do(f, i, BLKIF_OP_READ, sector, nseg, page0) != BLKIF_RSP_OKAY)
        return -1;
    for (int k = 0; k < nseg; k++)
        if (memcmp(bbf_data(g, (page0 + k) % BBF_DATA),
                   g->disk + sector * BLKIF_SECTOR + (size_t)k * BBF_PAGE, BBF_PAGE))
            return -1;
    return 0;
}

/* The whole disk of guest i, read back through its ring, equals its
 * shadow: 0, else -1. */
static inline int bbf_disk_ok(struct bbf *f, int i)
{
    uint64_t pages = f->c.disk_size / BBF_PAGE;
    for (uint64_t p = 0; p < pages; p += BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        int n = pages - p < BLKIF_MAX_SEGMENTS_PER_REQUEST ? (int)(pages - p)
                                                           : BLKIF_MAX_SEGMENTS_PER_REQUEST;
        if (bbf_read_ok(f, i, p * BLKIF_SECTORS_PER_PAGE, n, 0))
            return -1;
    }
    return 0;
}

#endif
