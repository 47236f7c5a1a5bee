/* blkback_tests.h — what tests/test_blkback.c (hostile requests) and
 * tests/test_blkback_service.c (what a good guest is promised) share: the
 * fixture's set-up for them and the assertions they make about the other
 * guests. Fixture (tests/blkback_fixture.h): guests 1, 2, 3 (indexes 0, 1,
 * 2), 32 pages of memory and a 256 KiB disk each, virtual time (latency
 * 100 us, 100 MB/s, 500 ns per request, 100 ns per KiB), all connected and
 * each disk filled with its own pattern; guest 1 plays the hostile one. */
#ifndef FV_BLKBACK_TESTS_H
#define FV_BLKBACK_TESTS_H

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

static inline struct bbf *make(unsigned qdepth, bool real_time)
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

static inline void fill_disk(struct bbf *f, int i)
{
    for (uint32_t p = 0; p < DISK / BBF_PAGE; p += 8)
        assert_int_equal(bbf_write(f, i, p * 8, 8, 0, 1000u * (uint32_t)i + p), BLKIF_RSP_OKAY);
}

static inline struct bbf *make_up(unsigned qdepth, bool real_time)
{
    struct bbf *f = make(qdepth, real_time);
    for (int i = 0; i < 3; i++)
        assert_int_equal(bbf_connect(f, i), 0);
    bbf_settle(f);                      /* the binds' events */
    for (int i = 0; i < 3; i++)
        fill_disk(f, i);
    return f;
}

static inline int setup(void **st)
{
    *st = make_up(0, false);
    return 0;
}

static inline int setup_q4(void **st)
{
    *st = make_up(4, false);
    return 0;
}

static inline int setup_unconnected(void **st)
{
    *st = make(0, false);
    return 0;
}

static inline int teardown(void **st)
{
    struct bbf *f = *st;
    bbf_fini(f);
    free(f);
    return 0;
}

static inline void assert_connected(struct bbf *f, int i)
{
    const struct blkback_vbd_stats *s = bbf_stats(f, i);
    if (s->disconnected)
        fail_msg("guest %d disconnected: %s", i + 1, s->reason);
    assert_true(s->connected);
}

/* Guest a's vbd works: its disk is what it wrote, a new pattern goes in and
 * comes back intact; and so is guest b's. */
static inline void assert_others_ok(struct bbf *f)
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
static inline void assert_disconnected(struct bbf *f, int i, const char *reason)
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

static inline struct blkback_vbd_stats snap(struct bbf *f, int i) { return *bbf_stats(f, i); }

/* Guest 1's request r (posted with bbf_post, then made hostile) must be
 * answered `want` and nothing else happen: no data moved, the vbd
 * connected, its disk and the others' unchanged. It is refused on sight:
 * answered in the pass that takes it, spending no disk time. */
static inline void expect(struct bbf *f, const struct blkif_request *r, int16_t want)
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


static inline struct blkif_request *evil_post(struct bbf *f, uint8_t op, uint64_t sector, int nseg)
{
    struct bbf_guest *g = &f->g[EVIL];
    for (int k = 0; k < BBF_DATA; k++)
        bbf_fill(bbf_data(g, k), BBF_PAGE, 777u + (uint32_t)k);
    struct blkif_request *r = bbf_post(g, op, sector, nseg, 0);
    assert_non_null(r);
    return r;
}

static inline void take_rsp(struct bbf_guest *g, uint64_t id, uint8_t op, int16_t status)
{
    struct blkif_response rsp;
    assert_int_equal(bbf_rsp(g, &rsp), 1);
    assert_int_equal(rsp.id, id);
    assert_int_equal(rsp.operation, op);
    assert_int_equal(rsp.status, status);
}

#endif
