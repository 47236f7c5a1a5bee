/* test_blkback.c — blkback against hostile guests, white-box: every request
 * check (segment count, sector range in a page, past the disk's end,
 * unsupported operations, bad grants, a read into a read-only grant),
 * requests rewritten after they were posted (also by a second thread while
 * passes run), a broken ring, an event storm. What blkback promises a good
 * guest is tests/test_blkback_service.c.
 *
 * Each hostile request must get its exact response status (the vbd stays
 * connected) or disconnect the guilty vbd alone with its exact reason; and
 * afterwards another guest's vbd must still work (a pattern written and
 * read back intact) with not one byte of its disk changed. The fixture:
 * tests/blkback_tests.h. */
#include "tests/blkback_tests.h"

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
    };
    int rc = tu_status(cmocka_run_group_tests(tests, NULL, NULL));
    domtab_thread_offline();
    return rc;
}
