/* test_blkback.c — blkback against hostile guests, white-box: every request
 * check (segment count, sector range in a page, past the disk's end,
 * unsupported operations, bad grants, a read into a read-only grant),
 * requests rewritten after they were posted (also by a second thread while
 * passes run), a broken ring, an event storm; and what blkback promises a
 * good guest: barrier ordering, flushes, the queue depth, the virtual-time
 * model's due times and CPU, connecting while a pass runs, real time on
 * memory and on image files.
 *
 * Each hostile request must get its exact response status (the vbd stays
 * connected) or disconnect the guilty vbd alone with its exact reason; and
 * afterwards another guest's vbd must still work (a pattern written and
 * read back intact) with not one byte of its disk changed.
 *
 * Fixture (tests/blkback_fixture.h): guests 1, 2, 3 (indexes 0, 1, 2),
 * 32 pages of memory and a 256 KiB disk each, virtual time (latency 100 us,
 * 100 MB/s, 500 ns per request, 100 ns per KiB), all connected and each
 * disk filled with its own pattern; guest 1 plays the hostile one. */
#include "testutil.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/blkback_fixture.h"

#define EVIL 0
#define A 1
#define B 2
#define PAGES 32u
#define DISK (256u << 10)
#define SECTORS (DISK / 512)
#define LAT 100000                      /* ns */
#define BW 100000000ull                 /* bytes/s: a page takes 40960 ns */
#define PAGE_NS 40960
#define COST_REQ 500
#define COST_KIB 100
#define FREE_PAGE 20                    /* a page the fixture never granted */

static struct bbf *make(unsigned qdepth, bool real_time)
{
    struct bbf *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct bbf_conf c = { .guests = 3, .pages = PAGES, .disk_size = DISK, .qdepth = qdepth,
                          .latency = LAT, .bandwidth = BW, .cost_request = COST_REQ,
                          .cost_kib = COST_KIB, .real_time = real_time };
    assert_int_equal(bbf_init(f, &c), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(bbf_front(f, i), 0);
    return f;
}

static void fill_disk(struct bbf *f, int i)
{
    for (uint32_t p = 0; p < DISK / BBF_PAGE; p += 8)
        assert_int_equal(bbf_write(f, i, p * 8, 8, 0, 1000u * (uint32_t)i + p), BLKIF_RSP_OKAY);
}

static struct bbf *make_up(unsigned qdepth, bool real_time)
{
    struct bbf *f = make(qdepth, real_time);
    for (int i = 0; i < 3; i++)
        assert_int_equal(bbf_connect(f, i), 0);
    bbf_settle(f);                      /* the binds' events */
    for (int i = 0; i < 3; i++)
        fill_disk(f, i);
    return f;
}

static int setup(void **st)
{
    *st = make_up(0, false);
    return 0;
}

static int setup_q4(void **st)
{
    *st = make_up(4, false);
    return 0;
}

static int setup_unconnected(void **st)
{
    *st = make(0, false);
    return 0;
}

static int teardown(void **st)
{
    struct bbf *f = *st;
    bbf_fini(f);
    free(f);
    return 0;
}

static void assert_connected(struct bbf *f, int i)
{
    const struct blkback_vbd_stats *s = bbf_stats(f, i);
    if (s->disconnected)
        fail_msg("guest %d disconnected: %s", i + 1, s->reason);
    assert_true(s->connected);
}

/* Guest a's vbd works: its disk is what it wrote, a new pattern goes in and
 * comes back intact; and so is guest b's. */
static void assert_others_ok(struct bbf *f)
{
    static uint32_t seed = 50000;
    for (int i = A; i <= B; i++) {
        assert_connected(f, i);
        assert_int_equal(bbf_disk_ok(f, i), 0);
        assert_int_equal(bbf_write(f, i, 8 * 9, 3, 4, seed++), BLKIF_RSP_OKAY);
        assert_int_equal(bbf_read_ok(f, i, 8 * 9, 3, 12), 0);
        assert_int_equal(bbf_disk_ok(f, i), 0);
    }
}

/* Disconnected with exactly `reason`: its ring was given back (the guest
 * can end its grant), its channel closed, it cannot come back, and what it
 * posts is not answered. */
static void assert_disconnected(struct bbf *f, int i, const char *reason)
{
    const struct blkback_vbd_stats *s = bbf_stats(f, i);
    struct bbf_guest *g = &f->g[i];
    assert_true(s->disconnected);
    assert_string_equal(s->reason, reason);
    struct evtchn_status es;
    assert_int_equal(evtchn_status(&f->ev, g->domid, g->port, &es), 0);
    assert_int_equal(es.state, EVTCHN_UNBOUND);
    assert_int_equal(bbf_connect(f, i), -EBUSY);
    assert_int_equal(gnttab_pinned(g->gt), 0);
    assert_int_equal(gnttab_end(g->gt, (grant_ref_t)g->ring_ref), 0);
}

static struct blkback_vbd_stats snap(struct bbf *f, int i) { return *bbf_stats(f, i); }

/* Guest 1's request r (posted with bbf_post, then made hostile) must be
 * answered `want` and nothing else happen: no data moved, the vbd
 * connected, its disk and the others' unchanged. It is refused on sight:
 * answered in the pass that takes it, spending no disk time. */
static void expect(struct bbf *f, const struct blkif_request *r, int16_t want)
{
    struct bbf_guest *g = &f->g[EVIL];
    uint64_t id = r->id;
    uint8_t op = r->operation;
    struct blkback_vbd_stats o = snap(f, EVIL);
    bbf_push(f, EVIL);
    bbf_pass(f);
    assert_int_equal(FV_RING_HAS_UNCONSUMED_RESPONSES(&g->ring), 1);
    assert_int_equal(f->due, 0);
    bbf_settle(f);
    struct blkif_response rsp;
    assert_int_equal(bbf_rsp(g, &rsp), 1);
    assert_int_equal(rsp.id, id);
    assert_int_equal(rsp.operation, op);
    assert_int_equal(rsp.status, want);
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    const struct blkback_vbd_stats *s = bbf_stats(f, EVIL);
    assert_int_equal(s->errors - o.errors, want == BLKIF_RSP_ERROR);
    assert_int_equal(s->unsupported - o.unsupported, want == BLKIF_RSP_EOPNOTSUPP);
    assert_int_equal(s->reads, o.reads);
    assert_int_equal(s->writes, o.writes);
    assert_int_equal(s->flushes, o.flushes);
    assert_int_equal(s->read_bytes + s->write_bytes, o.read_bytes + o.write_bytes);
    assert_int_equal(s->latency.count, o.latency.count + 1);
    assert_connected(f, EVIL);
    assert_int_equal(bbf_disk_ok(f, EVIL), 0);
    assert_others_ok(f);
}


static struct blkif_request *evil_post(struct bbf *f, uint8_t op, uint64_t sector, int nseg)
{
    struct bbf_guest *g = &f->g[EVIL];
    for (int k = 0; k < BBF_DATA; k++)
        bbf_fill(bbf_data(g, k), BBF_PAGE, 777u + (uint32_t)k);
    struct blkif_request *r = bbf_post(g, op, sector, nseg, 0);
    assert_non_null(r);
    return r;
}

static void take_rsp(struct bbf_guest *g, uint64_t id, uint8_t op, int16_t status)
{
    struct blkif_response rsp;
    assert_int_equal(bbf_rsp(g, &rsp), 1);
    assert_int_equal(rsp.id, id);
    assert_int_equal(rsp.operation, op);
    assert_int_equal(rsp.status, status);
}

/* ---- segment counts ------------------------------------------------------------- */

static void test_nr_segments_zero(void **st)
{
    struct bbf *f = *st;
    struct blkif_request *r = evil_post(f, BLKIF_OP_READ, 0, 1);
    r->nr_segments = 0;
    expect(f, r, BLKIF_RSP_ERROR);
    r = evil_post(f, BLKIF_OP_WRITE, 0, 1);
    r->nr_segments = 0;
    expect(f, r, BLKIF_RSP_ERROR);
}

static void test_nr_segments_200(void **st)
{
    struct bbf *f = *st;
    struct blkif_request *r = evil_post(f, BLKIF_OP_WRITE, 0, 11);
    r->nr_segments = 200;
    expect(f, r, BLKIF_RSP_ERROR);
    r = evil_post(f, BLKIF_OP_READ, 0, 11);
    r->nr_segments = 12;                /* the first count too many */
    expect(f, r, BLKIF_RSP_ERROR);
}

/* 11 segments, the most, are served. */
static void test_nr_segments_11_served(void **st)
{
    struct bbf *f = *st;
    assert_int_equal(bbf_write(f, EVIL, 8, 11, 2, 4242), BLKIF_RSP_OKAY);
    assert_int_equal(bbf_read_ok(f, EVIL, 8, 11, 5), 0);
    assert_int_equal(bbf_stats(f, EVIL)->errors, 0);
    assert_int_equal(bbf_disk_ok(f, EVIL), 0);
    assert_others_ok(f);
}

/* ---- sectors within a page -------------------------------------------------------- */

static void test_first_sect_after_last(void **st)
{
    struct bbf *f = *st;
    struct blkif_request *r = evil_post(f, BLKIF_OP_WRITE, 0, 3);
    r->seg[2].first_sect = 5;           /* the last segment: every one is checked */
    r->seg[2].last_sect = 4;
    expect(f, r, BLKIF_RSP_ERROR);
    r = evil_post(f, BLKIF_OP_READ, 0, 1);
    r->seg[0].first_sect = 7;
    r->seg[0].last_sect = 0;
    expect(f, r, BLKIF_RSP_ERROR);
}

static void test_last_sect_8(void **st)
{
    struct bbf *f = *st;
    struct blkif_request *r = evil_post(f, BLKIF_OP_WRITE, 0, 2);
    r->seg[1].last_sect = 8;
    expect(f, r, BLKIF_RSP_ERROR);
    r = evil_post(f, BLKIF_OP_READ, 0, 1);
    r->seg[0].first_sect = 8;
    r->seg[0].last_sect = 8;
    expect(f, r, BLKIF_RSP_ERROR);
    r = evil_post(f, BLKIF_OP_READ, 0, 1);
    r->seg[0].first_sect = 255;
    r->seg[0].last_sect = 255;
    expect(f, r, BLKIF_RSP_ERROR);
}

/* Partial pages are served: sectors 3..5 of a page go to sectors 3..5 of it. */
static void test_partial_segments_served(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[EVIL];
    bbf_fill(bbf_data(g, 0), BBF_PAGE, 99);
    struct blkif_request *r = bbf_post(g, BLKIF_OP_WRITE, 100, 1, 0);
    r->seg[0].first_sect = 3;
    r->seg[0].last_sect = 5;
    bbf_push(f, EVIL);
    bbf_settle(f);
    struct blkif_response rsp;
    assert_int_equal(bbf_rsp(g, &rsp), 1);
    assert_int_equal(rsp.status, BLKIF_RSP_OKAY);
    memcpy(g->disk + 100 * 512, bbf_data(g, 0) + 3 * 512, 3 * 512);
    assert_int_equal(bbf_stats(f, EVIL)->write_bytes - DISK, 3 * 512);
    memset(bbf_data(g, 1), 0x11, BBF_PAGE);
    r = bbf_post(g, BLKIF_OP_READ, 100, 1, 1);
    r->seg[0].first_sect = 6;
    r->seg[0].last_sect = 7;
    bbf_push(f, EVIL);
    bbf_settle(f);
    assert_int_equal(bbf_rsp(g, &rsp), 1);
    assert_int_equal(rsp.status, BLKIF_RSP_OKAY);
    uint8_t want[BBF_PAGE];
    memset(want, 0x11, sizeof(want));
    memcpy(want + 6 * 512, g->disk + 100 * 512, 2 * 512);
    assert_memory_equal(bbf_data(g, 1), want, BBF_PAGE);
    assert_int_equal(bbf_disk_ok(f, EVIL), 0);
}

/* ---- the disk's end --------------------------------------------------------------- */

static void test_sector_beyond_end(void **st)
{
    struct bbf *f = *st;
    /* Starting at the end. */
    expect(f, evil_post(f, BLKIF_OP_READ, SECTORS, 1), BLKIF_RSP_ERROR);
    /* Starting inside, one sector past it. */
    expect(f, evil_post(f, BLKIF_OP_WRITE, SECTORS - 7, 1), BLKIF_RSP_ERROR);
    /* Far past, and where sector + count wraps around 2^64. */
    expect(f, evil_post(f, BLKIF_OP_WRITE, 1ull << 60, 1), BLKIF_RSP_ERROR);
    expect(f, evil_post(f, BLKIF_OP_WRITE, UINT64_MAX - 3, 1), BLKIF_RSP_ERROR);
    expect(f, evil_post(f, BLKIF_OP_READ, UINT64_MAX, 11), BLKIF_RSP_ERROR);
    /* Ending exactly at the end is fine. */
    assert_int_equal(bbf_write(f, EVIL, SECTORS - 8, 1, 0, 31337), BLKIF_RSP_OKAY);
    assert_int_equal(bbf_read_ok(f, EVIL, SECTORS - 8, 1, 3), 0);
    assert_others_ok(f);
}

/* ---- operations ------------------------------------------------------------------- */

static void test_unknown_operation(void **st)
{
    struct bbf *f = *st;
    expect(f, evil_post(f, 99, 0, 1), BLKIF_RSP_EOPNOTSUPP);
    expect(f, evil_post(f, BLKIF_OP_DISCARD, 0, 1), BLKIF_RSP_EOPNOTSUPP);
    expect(f, evil_post(f, BLKIF_OP_INDIRECT, 0, 1), BLKIF_RSP_EOPNOTSUPP);
    expect(f, evil_post(f, 4, 0, 1), BLKIF_RSP_EOPNOTSUPP);
    /* Whatever else it holds. */
    struct blkif_request *r = evil_post(f, 255, UINT64_MAX, 0);
    r->nr_segments = 250;
    expect(f, r, BLKIF_RSP_EOPNOTSUPP);
    assert_int_equal(bbf_stats(f, EVIL)->unsupported, 5);
    assert_int_equal(bbf_stats(f, EVIL)->errors, 0);
}

/* ---- grants ----------------------------------------------------------------------- */

static void test_grant_of_another_domain(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[EVIL];
    /* Its page granted to guest 3, not to domain 0. */
    bbf_fill(bbf_page(g, FREE_PAGE), BBF_PAGE, 5);
    int ref = gnttab_grant(g->gt, f->g[B].domid, bbf_page(g, FREE_PAGE), false);
    assert_int_equal(ref, 1 + BBF_DATA);
    struct blkif_request *r = evil_post(f, BLKIF_OP_WRITE, 0, 3);
    r->seg[1].gref = (uint32_t)ref;
    expect(f, r, BLKIF_RSP_ERROR);
    uint8_t page[BBF_PAGE];
    memcpy(page, bbf_page(g, FREE_PAGE), BBF_PAGE);
    r = evil_post(f, BLKIF_OP_READ, 0, 1);
    r->seg[0].gref = (uint32_t)ref;
    expect(f, r, BLKIF_RSP_ERROR);
    assert_memory_equal(bbf_page(g, FREE_PAGE), page, BBF_PAGE);
}

static void test_grant_out_of_range_or_unused(void **st)
{
    struct bbf *f = *st;
    struct blkif_request *r = evil_post(f, BLKIF_OP_WRITE, 0, 1);
    r->seg[0].gref = GNTTAB_DEFAULT_MAX;
    expect(f, r, BLKIF_RSP_ERROR);
    r = evil_post(f, BLKIF_OP_READ, 0, 2);
    r->seg[1].gref = 100;               /* not in use */
    expect(f, r, BLKIF_RSP_ERROR);
    r = evil_post(f, BLKIF_OP_READ, 0, 1);
    r->seg[0].gref = UINT32_MAX;
    expect(f, r, BLKIF_RSP_ERROR);
}

/* A READ's grant ended while the read is in service: the copy into the
 * guest, when it is answered, fails; the answer is ERROR and the page,
 * no longer granted, is untouched. */
static void test_read_grant_ended_in_service(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[EVIL];
    uint8_t *page = bbf_page(g, FREE_PAGE);
    memset(page, 0x77, BBF_PAGE);
    int ref = gnttab_grant(g->gt, 0, page, false);
    assert_int_equal(ref, 1 + BBF_DATA);
    struct blkif_request *r = evil_post(f, BLKIF_OP_READ, 0, 2);
    r->seg[1].gref = (uint32_t)ref;
    uint64_t id = r->id;
    bbf_push(f, EVIL);
    bbf_pass(f);
    assert_true(f->due > f->now);       /* taken, in service */
    assert_int_equal(gnttab_end(g->gt, (grant_ref_t)ref), 0);
    bbf_settle(f);
    take_rsp(g, id, BLKIF_OP_READ, BLKIF_RSP_ERROR);
    for (uint32_t k = 0; k < BBF_PAGE; k++)
        if (page[k] != 0x77)
            fail_msg("byte %u of a page whose grant ended changed", k);
    assert_int_equal(bbf_stats(f, EVIL)->errors, 1);
    assert_int_equal(bbf_stats(f, EVIL)->reads, 0);
    assert_connected(f, EVIL);
    assert_others_ok(f);
}

/* A READ into a page granted read-only: the copy into the guest fails
 * (-EACCES), the answer is ERROR and the page is untouched. The same page
 * is a fine source for a WRITE. */
static void test_read_into_read_only_grant(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[EVIL];
    uint8_t *page = bbf_page(g, FREE_PAGE);
    bbf_fill(page, BBF_PAGE, 6);
    uint8_t before[BBF_PAGE];
    memcpy(before, page, BBF_PAGE);
    int ref = gnttab_grant(g->gt, 0, page, true);
    assert_int_equal(ref, 1 + BBF_DATA);
    struct blkif_request *r = evil_post(f, BLKIF_OP_READ, 16, 1);
    r->seg[0].gref = (uint32_t)ref;
    expect(f, r, BLKIF_RSP_ERROR);
    assert_memory_equal(page, before, BBF_PAGE);
    /* As the source of a write. */
    r = bbf_post(g, BLKIF_OP_WRITE, 16, 1, 0);
    r->seg[0].gref = (uint32_t)ref;
    bbf_push(f, EVIL);
    bbf_settle(f);
    struct blkif_response rsp;
    assert_int_equal(bbf_rsp(g, &rsp), 1);
    assert_int_equal(rsp.status, BLKIF_RSP_OKAY);
    memcpy(g->disk + 16 * 512, before, BBF_PAGE);
    assert_int_equal(bbf_disk_ok(f, EVIL), 0);
    assert_int_equal(gnttab_pinned(g->gt), 1);      /* the ring alone */
    assert_others_ok(f);
}

/* ---- requests rewritten after they were posted --------------------------------------- */

static void test_request_rewritten_after_post(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[EVIL];
    struct blkif_request *r = evil_post(f, BLKIF_OP_WRITE, 0, 4);
    bbf_push(f, EVIL);
    /* After publishing it: the pass must see 200, and only 200. */
    r->nr_segments = 200;
    expect(f, r, BLKIF_RSP_ERROR);
    /* A read turned into an unknown operation: EOPNOTSUPP, nothing copied. */
    memset(bbf_data(g, 15), 0x5A, BBF_PAGE);
    r = bbf_post(g, BLKIF_OP_READ, 0, 1, 15);
    bbf_push(f, EVIL);
    r->operation = 77;
    expect(f, r, BLKIF_RSP_EOPNOTSUPP);
    for (uint32_t k = 0; k < BBF_PAGE; k++)
        if (bbf_data(g, 15)[k] != 0x5A)
            fail_msg("byte %u of the page of a refused read changed", k);
}

/* A second thread flips nr_segments of every ring slot between 1 and 200
 * while the first posts one-segment writes and reads and runs passes.
 * blkback copies each request once (FV_RING_COPY_REQUEST) and reads only
 * its copy, so each request is either a one-segment request, served, or a
 * 200-segment one, refused with ERROR: a write answered OKAY put its data
 * on the disk, a read answered OKAY brought back exactly the last data
 * written there, a read answered ERROR left its page alone. With a double
 * fetch (the check reading the shared slot, the loop over segments reading
 * it again) a request checked at 1 could be served with 200 segments: 200
 * pages' worth into an 11-page buffer, past the request's 11 segments.
 * The flipper's stores race with blkback's copy on purpose (a guest may
 * write its ring at any time): it is not instrumented for ThreadSanitizer,
 * which would otherwise report the very race under test. Its stores land
 * on responses too (byte 1 of a response's id): the guest does that to
 * itself, so ids are compared without that byte. */
struct flip {
    struct blkif_sring *s;
    atomic_bool stop;
    atomic_ulong sweeps;
};

__attribute__((no_sanitize("thread"))) static void flip_all(struct blkif_sring *s, uint8_t v)
{
    for (int k = 0; k < blkif_RING_SIZE; k++)
        *(volatile uint8_t *)&s->ring[k].req.nr_segments = v;
}

static void *flipper(void *arg)
{
    struct flip *fl = arg;
    while (!atomic_load_explicit(&fl->stop, memory_order_relaxed)) {
        flip_all(fl->s, 200);
        flip_all(fl->s, 1);
        atomic_fetch_add_explicit(&fl->sweeps, 1, memory_order_relaxed);
    }
    return NULL;
}

struct flip_count {
    int w_ok, w_err, r_ok, r_err, bad;
    char why[160];
};

/* One request of the round: its status (OKAY or ERROR), or a note in c. */
static int flip_one(struct bbf *f, uint8_t op, uint64_t sector, int page, struct flip_count *c)
{
    struct bbf_guest *g = &f->g[EVIL];
    struct blkif_request *r = bbf_post(g, op, sector, 1, page);
    uint64_t id = BBF_ID_TAG | (g->ring.req_prod_pvt - 1);
    (void)r;                            /* the flipper may be writing it: not read back */
    bbf_push(f, EVIL);
    bbf_settle(f);
    struct blkif_response rsp = { .status = 99 };
    if (bbf_rsp(g, &rsp) != 1 || (rsp.id & ~0xff00ull) != (id & ~0xff00ull) ||
        rsp.operation != op || (rsp.status != BLKIF_RSP_OKAY && rsp.status != BLKIF_RSP_ERROR)) {
        snprintf(c->why, sizeof(c->why), "op %u: no answer, or id %llx op %u status %d", op,
                 (unsigned long long)rsp.id, rsp.operation, rsp.status);
        c->bad = 1;
        return -100;
    }
    return rsp.status;
}

static void flip_requests(struct bbf *f, struct flip *fl, struct flip_count *c)
{
    struct bbf_guest *g = &f->g[EVIL];
    for (uint32_t seq = 0; seq < 48 && !c->bad; seq++) {
        /* The flipper is running, not merely started: each pass overlaps it. */
        unsigned long sw = atomic_load(&fl->sweeps);
        for (double end = tu_now() + TU_WAIT_S; atomic_load(&fl->sweeps) == sw;)
            if (tu_now() > end) {
                snprintf(c->why, sizeof(c->why), "the flipper made no progress");
                c->bad = 1;
                return;
            } else {
                sched_yield();
            }
        uint64_t sector = 8 * (seq % 4);
        bbf_fill(bbf_data(g, 0), BBF_PAGE, 9000 + seq);
        int st = flip_one(f, BLKIF_OP_WRITE, sector, 0, c);
        if (st == BLKIF_RSP_OKAY)
            memcpy(g->disk + sector * 512, bbf_data(g, 0), BBF_PAGE), c->w_ok++;
        else
            c->w_err += st == BLKIF_RSP_ERROR;
        memset(bbf_data(g, 1), 0xEE, BBF_PAGE);
        st = flip_one(f, BLKIF_OP_READ, sector, 1, c);
        if (st == BLKIF_RSP_OKAY) {
            c->r_ok++;
            if (memcmp(bbf_data(g, 1), g->disk + sector * 512, BBF_PAGE))
                snprintf(c->why, sizeof(c->why), "read %u: not the data last written", seq),
                    c->bad = 1;
        } else if (st == BLKIF_RSP_ERROR) {
            c->r_err++;
            for (uint32_t k = 0; k < BBF_PAGE && !c->bad; k++)
                if (bbf_data(g, 1)[k] != 0xEE)
                    snprintf(c->why, sizeof(c->why), "read %u refused, its page changed", seq),
                        c->bad = 1;
        }
    }
}

static void flip_round(bool real_time, struct flip_count *total)
{
    struct bbf *f = make(0, real_time);
    for (int i = 0; i < 3; i++)
        assert_int_equal(bbf_connect(f, i), 0);
    bbf_settle(f);
    struct flip fl = { .s = f->g[EVIL].ring.sring };
    atomic_init(&fl.stop, false);
    atomic_init(&fl.sweeps, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, flipper, &fl), 0);
    /* No cmocka assertion while the flipper runs (a failure would leave it
     * writing into freed memory): the first inconsistency is noted. */
    struct flip_count c = { 0 };
    flip_requests(f, &fl, &c);
    atomic_store(&fl.stop, true);
    tu_join(t, TU_WAIT_S, "the nr_segments flipper");
    if (c.bad)
        fail_msg("%s", c.why);
    const struct blkback_vbd_stats *s = bbf_stats(f, EVIL);
    assert_connected(f, EVIL);
    assert_int_equal(s->writes, (uint64_t)c.w_ok);
    assert_int_equal(s->reads, (uint64_t)c.r_ok);
    assert_int_equal(s->errors, (uint64_t)(c.w_err + c.r_err));
    assert_int_equal(s->write_bytes, (uint64_t)c.w_ok * BBF_PAGE);
    assert_int_equal(bbf_disk_ok(f, EVIL), 0);
    assert_others_ok(f);
    total->w_ok += c.w_ok;
    total->w_err += c.w_err;
    total->r_ok += c.r_ok;
    total->r_err += c.r_err;
    bbf_fini(f);
    free(f);
}

static void test_request_flipped_by_another_thread(void **st)
{
    (void)st;
    struct flip_count t = { 0 };
    for (int r = 0; r < 40; r++)
        flip_round(r % 2, &t);
    print_message("[          ] 40 rounds: writes %d OKAY / %d ERROR, reads %d OKAY / %d ERROR\n",
                  t.w_ok, t.w_err, t.r_ok, t.r_err);
}

/* ---- a broken ring ---------------------------------------------------------------- */

static void test_producer_far_ahead(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[EVIL];
    uint32_t cons = g->ring.req_prod_pvt;     /* blkback took everything posted */
    uint64_t answered = bbf_stats(f, EVIL)->latency.count;
    __atomic_store_n(&g->ring.sring->req_prod, cons + 33, __ATOMIC_RELEASE);
    evtchn_send(&f->ev, g->domid, g->port);
    bbf_settle(f);
    char want[160];
    snprintf(want, sizeof(want), "ring: producer %u is 33 requests ahead of the consumer (the "
             "ring has 32)", cons + 33);
    assert_disconnected(f, EVIL, want);
    assert_int_equal(bbf_stats(f, EVIL)->latency.count, answered);
    assert_int_equal(__atomic_load_n(&g->ring.sring->rsp_prod, __ATOMIC_ACQUIRE), cons);
    /* It keeps posting: nothing is taken any more. */
    g->ring.req_prod_pvt = cons;
    __atomic_store_n(&g->ring.sring->req_prod, cons, __ATOMIC_RELEASE);
    evil_post(f, BLKIF_OP_WRITE, 0, 1);
    bbf_push(f, EVIL);
    bbf_settle(f);
    assert_int_equal(__atomic_load_n(&g->ring.sring->rsp_prod, __ATOMIC_ACQUIRE), cons);
    assert_others_ok(f);
}

/* Exactly a ring ahead is a full ring, not a broken one: all 32 answered. */
static void test_producer_exactly_a_ring_ahead(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[EVIL];
    for (int k = 0; k < 32; k++)
        evil_post(f, BLKIF_OP_READ, 0, 1)->nr_segments = 0;
    bbf_push(f, EVIL);
    bbf_settle(f);
    struct blkif_response rsp;
    int n = 0;
    while (bbf_rsp(g, &rsp) == 1) {
        assert_int_equal(rsp.status, BLKIF_RSP_ERROR);
        n++;
    }
    assert_int_equal(n, 32);
    assert_int_equal(bbf_stats(f, EVIL)->errors, 32);
    assert_connected(f, EVIL);
    assert_others_ok(f);
}

/* The producer behind the consumer wraps to "far ahead". */
static void test_producer_behind(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[EVIL];
    uint32_t cons = g->ring.req_prod_pvt;
    __atomic_store_n(&g->ring.sring->req_prod, cons - 1, __ATOMIC_RELEASE);
    bbf_pass(f);
    char want[160];
    snprintf(want, sizeof(want), "ring: producer %u is 4294967295 requests ahead of the consumer "
             "(the ring has 32)", cons - 1);
    assert_disconnected(f, EVIL, want);
    assert_others_ok(f);
}

/* ---- an event storm --------------------------------------------------------------- */

static void test_event_storm(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *ge = &f->g[EVIL], *ga = &f->g[A];
    /* Work restarts the count (the binds' events were empty). */
    assert_int_equal(bbf_write(f, EVIL, 0, 1, 0, 1), BLKIF_RSP_OKAY);
    const struct blkback_vbd_stats *se = bbf_stats(f, EVIL), *sa = bbf_stats(f, A);
    uint64_t ev0 = se->events, sp0 = se->spurious, sa0 = sa->spurious;
    for (int i = 1; i <= 1000; i++) {
        assert_int_equal(evtchn_send(&f->ev, ge->domid, ge->port), 0);
        /* Guest 2 notifies every time too, each time with a request. */
        assert_int_equal(evtchn_send(&f->ev, ga->domid, ga->port), 0);
        assert_int_equal(bbf_write(f, A, 8 * (uint64_t)(i % 16), 1, 0, (uint32_t)i),
                         BLKIF_RSP_OKAY);
        if (i < 1000) {
            if (se->disconnected)
                fail_msg("disconnected after %d events, not 1000: %s", i, se->reason);
            assert_int_equal(se->spurious - sp0, (uint64_t)i);
        }
    }
    assert_disconnected(f, EVIL, "event storm: 1000 notifications in a row with no work");
    assert_int_equal(se->events - ev0, 1000);
    assert_int_equal(se->spurious - sp0, 1000);
    assert_int_equal(sa->spurious, sa0);
    assert_others_ok(f);
}

/* Work in between restarts the count: 999 empty events, one with a
 * request, 999 more: still connected. */
static void test_event_storm_count_restarts(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[EVIL];
    assert_int_equal(bbf_write(f, EVIL, 0, 1, 0, 1), BLKIF_RSP_OKAY);
    uint64_t sp0 = bbf_stats(f, EVIL)->spurious;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 999; i++) {
            evtchn_send(&f->ev, g->domid, g->port);
            bbf_pass(f);
        }
        assert_connected(f, EVIL);
        evtchn_send(&f->ev, g->domid, g->port);
        assert_int_equal(bbf_write(f, EVIL, 8, 1, 0, (uint32_t)round), BLKIF_RSP_OKAY);
    }
    assert_connected(f, EVIL);
    assert_int_equal(bbf_stats(f, EVIL)->spurious - sp0, 2 * 999);
}

/* ---- ordering: barriers and flushes ----------------------------------------------- */

/* W (sector 0, 2 pages), BARRIER (sector 0, 1 page), R (sector 0), posted
 * together. The barrier starts only once W is answered (then its write and
 * a flush); R is not taken until the barrier is answered (rewriting it
 * meanwhile still counts: 3 pages), and reads the barrier's page over W's
 * first. */
static void test_write_barrier_ordering(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[A];
    uint64_t answered = bbf_stats(f, A)->latency.count;
    fv_ns_t t0 = f->now + FV_MS(1);
    f->now = t0;
    bbf_fill(bbf_data(g, 0), 3 * BBF_PAGE, 1);
    uint64_t w = bbf_post(g, BLKIF_OP_WRITE, 0, 2, 0)->id;
    uint64_t b = bbf_post(g, BLKIF_OP_WRITE_BARRIER, 0, 1, 2)->id;
    struct blkif_request *rr = bbf_post(g, BLKIF_OP_READ, 0, 2, 4);
    uint64_t r = rr->id;
    bbf_push(f, A);
    bbf_pass(f);
    fv_ns_t t_w = t0 + LAT + 2 * PAGE_NS;
    assert_int_equal(f->due, t_w);
    rr->nr_segments = 3;
    rr->seg[2] = (struct blkif_request_segment){ .gref = (uint32_t)g->data_ref[6], .last_sect = 7 };
    struct blkif_response rsp;
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    f->now = t_w - 1;
    bbf_pass(f);
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    assert_int_equal(f->due, t_w);
    /* W answered; the barrier starts now, alone. */
    f->now = t_w;
    bbf_pass(f);
    take_rsp(g, w, BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    fv_ns_t t_b = t_w + LAT + PAGE_NS;
    assert_int_equal(f->due, t_b);
    f->now = t_b - 1;
    bbf_pass(f);
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    f->now = t_b;
    bbf_pass(f);
    take_rsp(g, b, BLKIF_OP_WRITE_BARRIER, BLKIF_RSP_OKAY);
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    fv_ns_t t_r = t_b + LAT + 3 * PAGE_NS;
    assert_int_equal(f->due, t_r);
    f->now = t_r;
    bbf_pass(f);
    take_rsp(g, r, BLKIF_OP_READ, BLKIF_RSP_OKAY);
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    assert_int_equal(f->due, 0);
    memcpy(g->disk, bbf_data(g, 2), BBF_PAGE);
    memcpy(g->disk + BBF_PAGE, bbf_data(g, 1), BBF_PAGE);
    assert_memory_equal(bbf_data(g, 4), g->disk, 3 * BBF_PAGE);
    const struct blkback_vbd_stats *s = bbf_stats(f, A);
    assert_int_equal(s->errors, 0);
    assert_int_equal(s->flushes, 0);    /* a barrier counts as a write */
    assert_int_equal(s->latency.count, answered + 3);
    assert_int_equal(bbf_disk_ok(f, A), 0);
    assert_others_ok(f);
}

/* A barrier posted after reads in service waits for them; one with no
 * segments is a pure ordering point (and a flush). */
static void test_barrier_without_data(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[A];
    const struct blkback_vbd_stats *s = bbf_stats(f, A);
    uint64_t writes = s->writes, wbytes = s->write_bytes;
    fv_ns_t t0 = f->now + FV_MS(1);
    f->now = t0;
    uint64_t r1 = bbf_post(g, BLKIF_OP_READ, 0, 1, 0)->id;
    struct blkif_request *b = bbf_post(g, BLKIF_OP_WRITE_BARRIER, 0, 1, 2);
    b->nr_segments = 0;
    uint64_t bid = b->id;
    bbf_push(f, A);
    bbf_pass(f);
    fv_ns_t t1 = t0 + LAT + PAGE_NS;
    assert_int_equal(f->due, t1);
    f->now = t1;
    bbf_pass(f);
    take_rsp(g, r1, BLKIF_OP_READ, BLKIF_RSP_OKAY);
    assert_int_equal(f->due, t1 + LAT);
    f->now = t1 + LAT;
    bbf_pass(f);
    take_rsp(g, bid, BLKIF_OP_WRITE_BARRIER, BLKIF_RSP_OKAY);
    assert_int_equal(f->due, 0);
    assert_int_equal(s->writes, writes + 1);
    assert_int_equal(s->write_bytes, wbytes);
    assert_others_ok(f);
}

static void test_flush(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[A];
    fv_ns_t t0 = f->now + FV_MS(1);
    f->now = t0;
    struct blkif_request *r = bbf_post(g, BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0);
    uint64_t id = r->id;
    bbf_push(f, A);
    bbf_pass(f);
    assert_int_equal(f->due, t0 + LAT);
    assert_int_equal(f->cost, COST_REQ);
    f->now = f->due;
    bbf_pass(f);
    take_rsp(g, id, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_RSP_OKAY);
    const struct blkback_vbd_stats *s = bbf_stats(f, A);
    assert_int_equal(s->flushes, 1);
    assert_int_equal(s->errors, 0);
    /* A flush names no data: one with segments is refused. */
    expect(f, evil_post(f, BLKIF_OP_FLUSH_DISKCACHE, 0, 1), BLKIF_RSP_ERROR);
    assert_int_equal(bbf_stats(f, EVIL)->flushes, 0);
    assert_int_equal(bbf_do(f, EVIL, BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0), BLKIF_RSP_OKAY);
    assert_int_equal(bbf_stats(f, EVIL)->flushes, 1);
}

/* ---- the queue depth ------------------------------------------------------------- */

/* qdepth 4: ten reads posted at once; four are taken, the rest wait on the
 * ring (rewriting one of them still counts), and each answer lets one more in. */
static void test_qdepth_respected(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[A];
    fv_ns_t t0 = f->now + FV_MS(1);
    f->now = t0;
    struct blkif_request *req[10];
    uint64_t id[10];
    for (int k = 0; k < 10; k++) {
        req[k] = bbf_post(g, BLKIF_OP_READ, 8 * (uint64_t)k, 1, k);
        id[k] = req[k]->id;
    }
    bbf_push(f, A);
    bbf_pass(f);
    struct blkif_response rsp;
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    fv_ns_t step = LAT + PAGE_NS;
    assert_int_equal(f->due, t0 + step);
    /* Requests 4..9 are still the guest's: the last becomes unsupported. */
    req[9]->operation = 200;
    for (int k = 0; k < 4; k++)                 /* the four in service stay served */
        req[k]->sector_number = UINT64_MAX;
    /* Each due time answers one and starts one: serial service, one at a time. */
    for (int k = 0; k < 9; k++) {
        f->now = t0 + step * (k + 1);
        bbf_pass(f);
        take_rsp(g, id[k], BLKIF_OP_READ, BLKIF_RSP_OKAY);
        if (k < 5) {
            assert_int_equal(bbf_rsp(g, &rsp), 0);
        } else if (k == 5) {
            /* The slot 5 left took 9, refused at once (no slot needed). */
            take_rsp(g, id[9], 200, BLKIF_RSP_EOPNOTSUPP);
        }
        assert_int_equal(f->due, k < 8 ? t0 + step * (k + 2) : 0);
        assert_memory_equal(bbf_data(g, k), g->disk + (size_t)k * BBF_PAGE, BBF_PAGE);
    }
    assert_int_equal(bbf_stats(f, A)->reads, 9);
    assert_int_equal(bbf_stats(f, A)->unsupported, 1);
    assert_others_ok(f);
}

/* ---- the virtual-time model -------------------------------------------------------- */

/* due = max(now, the vbd's previous due) + latency + bytes / bandwidth;
 * *next_due is the earliest; blkback's CPU is exactly the model. */
static void test_virtual_time_due_and_cost(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[A];
    const struct blkback_vbd_stats *s = bbf_stats(f, A);
    fv_ns_t ns0 = s->backend_ns;
    uint64_t lat0 = s->latency.count;
    fv_ns_t t0 = f->now + FV_MS(1);
    f->now = t0;
    uint64_t id[3];
    for (int k = 0; k < 3; k++) {
        bbf_fill(bbf_data(g, 2 * k), 2 * BBF_PAGE, 70u + (uint32_t)k);
        id[k] = bbf_post(g, BLKIF_OP_WRITE, 8 * (uint64_t)k, k + 1, 2 * k)->id;
    }
    bbf_push(f, A);
    bbf_pass(f);
    fv_ns_t d1 = t0 + LAT + 1 * PAGE_NS, d2 = d1 + LAT + 2 * PAGE_NS, d3 = d2 + LAT + 3 * PAGE_NS;
    assert_int_equal(f->due, d1);
    /* 3 requests, 6 pages copied out: 24 KiB. */
    assert_int_equal(f->cost, 3 * COST_REQ + 24 * COST_KIB);
    assert_int_equal(s->backend_ns - ns0, 3 * COST_REQ + 24 * COST_KIB);
    struct blkif_response rsp;
    f->now = d1 - 1;
    bbf_pass(f);
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    assert_int_equal(f->due, d1);
    assert_int_equal(f->cost, 0);
    f->now = d2;                        /* late: both answered in this pass */
    bbf_pass(f);
    take_rsp(g, id[0], BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
    take_rsp(g, id[1], BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    assert_int_equal(f->due, d3);
    assert_int_equal(f->cost, 0);       /* writes copy nothing back */
    f->now = d3;
    bbf_pass(f);
    take_rsp(g, id[2], BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
    assert_int_equal(f->due, 0);
    assert_int_equal(s->latency.count - lat0, 3);
    assert_int_equal(s->latency.max, (uint64_t)(d3 - t0));
    /* Idle since d3: a read at t4 starts at t4, and its copy back is charged
     * when it is answered. */
    fv_ns_t t4 = d3 + 5000000;
    f->now = t4;
    uint64_t rid = bbf_post(g, BLKIF_OP_READ, 0, 2, 8)->id;
    bbf_push(f, A);
    bbf_pass(f);
    assert_int_equal(f->cost, COST_REQ);
    fv_ns_t d4 = t4 + LAT + 2 * PAGE_NS;
    assert_int_equal(f->due, d4);
    f->now = d4;
    bbf_pass(f);
    take_rsp(g, rid, BLKIF_OP_READ, BLKIF_RSP_OKAY);
    assert_int_equal(f->cost, 8 * COST_KIB);
    assert_int_equal(s->backend_ns - ns0, 4 * COST_REQ + 32 * COST_KIB);
    /* What was written is there. */
    memcpy(g->disk, bbf_data(g, 0), BBF_PAGE);
    memcpy(g->disk + 8 * 512, bbf_data(g, 2), 2 * BBF_PAGE);
    memcpy(g->disk + 16 * 512, bbf_data(g, 4), 3 * BBF_PAGE);
    assert_int_equal(bbf_disk_ok(f, A), 0);
    assert_others_ok(f);
}

/* The vbds are served independently: each has its own serial disk. */
static void test_virtual_time_per_vbd(void **st)
{
    struct bbf *f = *st;
    fv_ns_t t0 = f->now + FV_MS(1);
    f->now = t0;
    uint64_t ia = bbf_post(&f->g[A], BLKIF_OP_READ, 0, 4, 0)->id;
    uint64_t ib = bbf_post(&f->g[B], BLKIF_OP_READ, 0, 1, 0)->id;
    bbf_push(f, A);
    bbf_push(f, B);
    bbf_pass(f);
    assert_int_equal(f->due, t0 + LAT + PAGE_NS);
    f->now = f->due;
    bbf_pass(f);
    take_rsp(&f->g[B], ib, BLKIF_OP_READ, BLKIF_RSP_OKAY);
    assert_int_equal(f->due, t0 + LAT + 4 * PAGE_NS);
    f->now = f->due;
    bbf_pass(f);
    take_rsp(&f->g[A], ia, BLKIF_OP_READ, BLKIF_RSP_OKAY);
    assert_int_equal(f->due, 0);
}

/* ---- connecting ------------------------------------------------------------------- */

static void test_connect_errors(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[EVIL];
    assert_int_equal(blkback_connect(f->bb, g->d, 1, 0, g->port), -ENODEV);
    assert_int_equal(blkback_connect(f->bb, g->d, -1, 0, g->port), -ENODEV);
    assert_int_equal(blkback_connect(f->bb, 3, 0, 0, g->port), -ENODEV);    /* Domain-0 */
    assert_int_equal(blkback_connect(f->bb, 4, 0, 0, g->port), -ENODEV);
    assert_int_equal(blkback_connect(f->bb, -1, 0, 0, g->port), -ENODEV);
    assert_null(blkback_vbd_stats(f->bb, g->d, 1));
    assert_null(blkback_vbd_stats(f->bb, 3, 0));
    /* A ring reference that is no grant, a read-only one, a bad port: the
     * vbd stays free for a good connect. */
    assert_int_equal(blkback_connect(f->bb, g->d, 0, 100, g->port), -ENOENT);
    int ro = gnttab_grant(g->gt, 0, bbf_page(g, FREE_PAGE), true);
    assert_true(ro > 0);
    assert_int_equal(blkback_connect(f->bb, g->d, 0, (uint32_t)ro, g->port), -EACCES);
    assert_int_equal(blkback_connect(f->bb, g->d, 0, (uint32_t)g->ring_ref, 999), -EINVAL);
    assert_int_equal(gnttab_pinned(g->gt), 0);
    assert_false(bbf_stats(f, EVIL)->connected);
    assert_int_equal(bbf_connect(f, EVIL), 0);
    assert_int_equal(bbf_connect(f, EVIL), -EBUSY);
    assert_true(bbf_stats(f, EVIL)->connected);
    bbf_settle(f);
    assert_int_equal(bbf_write(f, EVIL, 0, 2, 0, 5), BLKIF_RSP_OKAY);
    assert_int_equal(bbf_read_ok(f, EVIL, 0, 2, 6), 0);
    assert_int_equal(gnttab_pinned(g->gt), 1);
}

/* blkback_connect comes from guest vCPU threads while the pass runs on
 * domain 0's: connect fills the vbd, then publishes CONNECTED with a
 * release store, which the pass's acquire load pairs with (a data race on
 * the vbd under ThreadSanitizer otherwise). In every build, the vbds must
 * come up and serve. */
struct poller {
    struct bbf *f;
    atomic_bool stop;
    atomic_int passes;
};

static void *poll_thread(void *arg)
{
    struct poller *p = arg;
    domtab_thread_online();
    while (!atomic_load(&p->stop)) {
        fv_ns_t cost, due;
        blkback_poll(p->f->bb, 0, &cost, &due);
        atomic_fetch_add(&p->passes, 1);
    }
    domtab_thread_offline();
    return NULL;
}

static void test_connect_while_polling(void **st)
{
    (void)st;
    for (int r = 0; r < 30; r++) {
        struct bbf *f = make(0, r % 2);
        struct poller p = { .f = f };
        atomic_init(&p.stop, false);
        atomic_init(&p.passes, 0);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, poll_thread, &p), 0);
        int rc[3];
        bool stalled = false;
        for (int i = 0; i < 3; i++) {
            int n = atomic_load(&p.passes);
            for (double end = tu_now() + TU_WAIT_S; atomic_load(&p.passes) == n && !stalled;)
                if (!(stalled = tu_now() > end))
                    sched_yield();
            rc[i] = bbf_connect(f, i);
        }
        atomic_store(&p.stop, true);
        tu_join(t, TU_WAIT_S, "the polling thread");
        if (stalled)
            fail_msg("the polling thread made no pass in %.0f s", TU_WAIT_S);
        for (int i = 0; i < 3; i++)
            assert_int_equal(rc[i], 0);
        bbf_settle(f);
        assert_int_equal(bbf_write(f, EVIL, 0, 1, 0, 1), BLKIF_RSP_OKAY);
        assert_others_ok(f);
        bbf_fini(f);
        free(f);
    }
}

/* Real time: answered in the pass that took them (the memory disk), CPU
 * measured, no due time. */
static void test_real_time_pass(void **st)
{
    (void)st;
    struct bbf *f = make_up(0, true);
    const struct blkback_vbd_stats *s = bbf_stats(f, A);
    fv_ns_t ns0 = s->backend_ns;
    struct bbf_guest *g = &f->g[A];
    uint64_t id = bbf_post(g, BLKIF_OP_WRITE, 0, 3, 0)->id;
    bbf_fill(bbf_data(g, 0), 3 * BBF_PAGE, 3);
    bbf_push(f, A);
    assert_true(bbf_pass(f) > 0);
    assert_int_equal(f->cost, 0);
    assert_int_equal(f->due, 0);
    take_rsp(g, id, BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
    memcpy(g->disk, bbf_data(g, 0), 3 * BBF_PAGE);
    assert_true(s->backend_ns > ns0);
    assert_int_equal(bbf_disk_ok(f, A), 0);
    assert_others_ok(f);
    bbf_fini(f);
    free(f);
}

/* Real time on image files (io_uring): completions come in later passes,
 * which *next_due asks for; barriers, flushes and refusals as in memory. */
static void test_file_disks_real_time(void **st)
{
    (void)st;
    char *dir = tu_tmpdir();
    struct bbf *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct bbf_conf c = { .guests = 3, .pages = PAGES, .disk_size = DISK, .real_time = true,
                          .file_dir = dir };
    assert_int_equal(bbf_init(f, &c), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(bbf_front(f, i), 0);
        assert_int_equal(bbf_connect(f, i), 0);
    }
    bbf_settle(f);
    for (int i = 0; i < 3; i++)
        fill_disk(f, i);
    struct bbf_guest *g = &f->g[A];
    bbf_fill(bbf_data(g, 0), 2 * BBF_PAGE, 8);
    uint64_t w = bbf_post(g, BLKIF_OP_WRITE, 0, 1, 0)->id;
    uint64_t b = bbf_post(g, BLKIF_OP_WRITE_BARRIER, 0, 1, 1)->id;
    uint64_t fl = bbf_post(g, BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0)->id;
    bbf_push(f, A);
    bbf_settle(f);
    take_rsp(g, w, BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
    take_rsp(g, b, BLKIF_OP_WRITE_BARRIER, BLKIF_RSP_OKAY);
    take_rsp(g, fl, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_RSP_OKAY);
    memcpy(g->disk, bbf_data(g, 1), BBF_PAGE);
    assert_int_equal(f->due, 0);
    assert_int_equal(bbf_stats(f, A)->flushes, 1);
    assert_true(bbf_stats(f, A)->backend_ns > 0);
    expect(f, evil_post(f, BLKIF_OP_READ, SECTORS, 1), BLKIF_RSP_ERROR);
    bbf_fini(f);
    free(f);
    assert_int_equal(tu_rmtree(dir), 0);
    free(dir);
}

int main(void)
{
    domtab_thread_online();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_nr_segments_zero),
        T(test_nr_segments_200),
        T(test_nr_segments_11_served),
        T(test_first_sect_after_last),
        T(test_last_sect_8),
        T(test_partial_segments_served),
        T(test_sector_beyond_end),
        T(test_unknown_operation),
        T(test_grant_of_another_domain),
        T(test_grant_out_of_range_or_unused),
        T(test_read_into_read_only_grant),
        T(test_read_grant_ended_in_service),
        T(test_request_rewritten_after_post),
        cmocka_unit_test(test_request_flipped_by_another_thread),
        T(test_producer_far_ahead),
        T(test_producer_exactly_a_ring_ahead),
        T(test_producer_behind),
        T(test_event_storm),
        T(test_event_storm_count_restarts),
        T(test_write_barrier_ordering),
        T(test_barrier_without_data),
        T(test_flush),
        cmocka_unit_test_setup_teardown(test_qdepth_respected, setup_q4, teardown),
        T(test_virtual_time_due_and_cost),
        T(test_virtual_time_per_vbd),
        cmocka_unit_test_setup_teardown(test_connect_errors, setup_unconnected, teardown),
        cmocka_unit_test(test_connect_while_polling),
        cmocka_unit_test(test_real_time_pass),
        cmocka_unit_test(test_file_disks_real_time),
    };
    int rc = tu_status(cmocka_run_group_tests(tests, NULL, NULL));
    domtab_thread_offline();
    return rc;
}
