/* test_netback.c — netback against hostile guests, white-box: a broken
 * ring, requests rewritten after they were posted (also by a second thread
 * while passes run), bad grants and bad requests, a read-only RX buffer,
 * an event storm, drops by cause, response events, and vifs connecting
 * while a pass runs on another thread. Each hostile behaviour must
 * disconnect the guilty vif alone, with its exact reason (or give the
 * exact response status), and a well-behaved pair of other domains must
 * keep exchanging frames intact afterwards.
 *
 * Fixture (tests/netback_fixture.h): guests 1, 2, 3 (indexes 0, 1, 2),
 * 4 MiB of memory each, one vif each, all connected with 16 RX buffers
 * posted; guest 1 plays the hostile one, 2 and 3 the well-behaved pair. */
#include "testutil.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/netback_fixture.h"

#define EVIL 0
#define A 1
#define B 2
#define MEM_PAGES 1024                  /* 4 MiB */

static const uint8_t unknown_mac[6] = { 0x02, 0, 0, 0, 0, 0x99 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct nbf *make(uint32_t pages)
{
    struct nbf *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct nbf_conf c = { .guests = 3, .pages = pages, .rx_bufs = 16, .port_bufs = 256 };
    assert_int_equal(nbf_init(f, &c), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(nbf_front(f, i), 0);
    return f;
}

/* Guest i posts its RX buffers and connects, as netfront does. */
static void up(struct nbf *f, int i)
{
    nbf_post_rx(&f->g[i]);
    nbf_push(f, i);
    assert_int_equal(nbf_connect(f, i), 0);
}

static int setup(void **st)
{
    struct nbf *f = make(MEM_PAGES);
    for (int i = 0; i < 3; i++)
        up(f, i);
    nbf_pass(f);                        /* the bind's event, the posted buffers */
    *st = f;
    return 0;
}

/* Guests set up but not connected: the test connects them itself. */
static int setup_unconnected(void **st)
{
    *st = make(MEM_PAGES);
    return 0;
}

static int teardown(void **st)
{
    struct nbf *f = *st;
    nbf_fini(f);
    free(f);
    return 0;
}

static void assert_connected(struct nbf *f, int i)
{
    const struct netback_vif_stats *s = nbf_stats(f, i);
    if (s->disconnected)
        fail_msg("guest %d disconnected: %s", i + 1, s->reason);
    assert_true(s->connected);
}

/* Disconnected with exactly `reason`; its rings were given back (the guest
 * can end their grants), its channel closed, and it cannot come back. */
static void assert_disconnected(struct nbf *f, int i, const char *reason)
{
    const struct netback_vif_stats *s = nbf_stats(f, i);
    struct nbf_guest *g = &f->g[i];
    assert_true(s->disconnected);
    assert_string_equal(s->reason, reason);
    struct evtchn_status es;
    assert_int_equal(evtchn_status(&f->ev, g->domid, g->port, &es), 0);
    assert_int_equal(es.state, EVTCHN_UNBOUND);
    assert_int_equal(nbf_connect(f, i), -EBUSY);
    assert_int_equal(gnttab_end(g->gt, (grant_ref_t)g->tx_ref), 0);
    assert_int_equal(gnttab_end(g->gt, (grant_ref_t)g->rx_ref), 0);
}

/* Guests a and b exchange frames both ways, all intact and counted. */
static void assert_pair_works(struct nbf *f, int a, int b)
{
    const struct netback_vif_stats *sa = nbf_stats(f, a), *sb = nbf_stats(f, b);
    uint64_t atx = sa->tx_pkts, arx = sa->rx_pkts, btx = sb->tx_pkts, brx = sb->rx_pkts;
    uint64_t brxb = sb->rx_bytes, arxb = sa->rx_bytes;
    assert_int_equal(nbf_exchange(f, a, b, 4, 100, 7000), 4);
    assert_int_equal(nbf_exchange(f, b, a, 3, NETIF_FRAME_MAX, 8000), 3);
    assert_int_equal(sa->tx_pkts - atx, 4);
    assert_int_equal(sb->rx_pkts - brx, 4);
    assert_int_equal(sb->rx_bytes - brxb, 400);
    assert_int_equal(sb->tx_pkts - btx, 3);
    assert_int_equal(sa->rx_pkts - arx, 3);
    assert_int_equal(sa->rx_bytes - arxb, 3 * NETIF_FRAME_MAX);
    assert_connected(f, a);
    assert_connected(f, b);
}

static struct netif_tx_request good_req(struct nbf *f, int i, uint32_t len)
{
    struct nbf_guest *g = &f->g[i];
    nbf_frame_fill(nbf_page(g, NBF_TXB), f->g[B].mac, g->mac, len, 1);
    return (struct netif_tx_request){ .gref = (uint32_t)g->tx_buf_ref[0], .offset = 0,
                                      .flags = 0, .id = 0, .size = (uint16_t)len };
}

/* ---- a broken ring ------------------------------------------------------------------ */

static void test_tx_producer_far_ahead(void **st)
{
    struct nbf *f = *st;
    struct nbf_guest *g = &f->g[EVIL];
    __atomic_store_n(&g->tx.sring->req_prod, 1000, __ATOMIC_RELEASE);
    evtchn_send(&f->ev, g->domid, g->port);
    nbf_pass(f);
    assert_disconnected(f, EVIL, "TX ring: producer 1000 is 1000 requests ahead of the consumer "
                                 "(the ring has 256)");
    assert_int_equal(nbf_stats(f, EVIL)->tx_pkts, 0);
    assert_pair_works(f, A, B);
}

/* The producer behind the consumer is as broken: it wraps to "far ahead". */
static void test_tx_producer_behind(void **st)
{
    struct nbf *f = *st;
    assert_int_equal(nbf_exchange(f, EVIL, A, 2, 60, 1), 2);
    __atomic_store_n(&f->g[EVIL].tx.sring->req_prod, 1, __ATOMIC_RELEASE);
    nbf_pass(f);
    assert_disconnected(f, EVIL, "TX ring: producer 1 is 4294967295 requests ahead of the "
                                 "consumer (the ring has 256)");
    assert_pair_works(f, A, B);
}

/* RX: checked when a frame is to be delivered into the ring. */
static void test_rx_producer_far_ahead(void **st)
{
    struct nbf *f = *st;
    struct nbf_guest *g = &f->g[EVIL];
    __atomic_store_n(&g->rx.sring->req_prod, g->rx.req_prod_pvt + 300, __ATOMIC_RELEASE);
    /* Caught by the next pass's look at the RX producer, before any frame
     * comes for it. */
    nbf_pass(f);
    assert_disconnected(f, EVIL, "RX ring: producer 316 is 316 requests ahead of the consumer "
                                 "(the ring has 256)");
    assert_int_equal(nbf_queue(f, A, g->mac, 60, 1), 0);
    nbf_push(f, A);
    nbf_pass(f);
    assert_int_equal(nbf_tx_reap(&f->g[A]), 1);
    assert_int_equal(nbf_stats(f, EVIL)->drops[NB_DROP_DISCONNECTED], 1);
    assert_int_equal(nbf_stats(f, EVIL)->rx_pkts, 0);
    assert_pair_works(f, A, B);
}

/* ---- requests rewritten after they were posted ------------------------------------- */

static void test_request_rewritten_before_pass(void **st)
{
    struct nbf *f = *st;
    struct nbf_guest *g = &f->g[EVIL];
    assert_int_equal(nbf_queue(f, EVIL, f->g[A].mac, 60, 1), 0);
    nbf_push(f, EVIL);
    /* After publishing it: the pass must see 5000, and only 5000. */
    FV_RING_GET_REQUEST(&g->tx, 0)->size = 5000;
    nbf_pass(f);
    assert_disconnected(f, EVIL, "TX request id 0 (offset 0, size 5000): size outside 14..1514");
    assert_int_equal(nbf_stats(f, EVIL)->tx_pkts, 0);
    assert_int_equal(nbf_stats(f, A)->rx_pkts, 0);
    assert_pair_works(f, A, B);
}

/* A second thread flips the size of every TX slot between 60 and 3900 while
 * the first posts 60-byte frames and runs passes. netback copies each
 * request once (FV_RING_COPY_REQUEST) and reads only its copy, so each
 * request is either a 60-byte frame, delivered intact, or a 3900-byte one,
 * refused (the vif disconnected for its size). With a double fetch (the
 * check reading the shared slot, the copy reading it again) a request
 * checked at 60 could be copied at 3900: 3900 bytes into a 2048-byte port
 * buffer (into the next buffer of the port's block, then the loop port's
 * abort on a frame longer than its buffer), or a frame of the wrong length
 * delivered to guest 2. 3900 (0x0F3C) rather than 4000 shares its low byte
 * with 60 (0x003C), so even a copy torn between the two stores reads 60 or
 * 3900, never a third valid size.
 * The flipper's stores race with netback's copy on purpose (a guest may
 * write its ring at any time): it is not instrumented for ThreadSanitizer,
 * which would otherwise report the very race under test. */
struct flip {
    struct netif_tx_sring *s;
    atomic_bool stop;
    atomic_ulong sweeps;
};

__attribute__((no_sanitize("thread"))) static void flip_all(struct netif_tx_sring *s, uint16_t v)
{
    for (int k = 0; k < netif_tx_RING_SIZE; k++)
        *(volatile uint16_t *)&s->ring[k].req.size = v;
}

static void *flipper(void *arg)
{
    struct flip *fl = arg;
    while (!atomic_load_explicit(&fl->stop, memory_order_relaxed)) {
        flip_all(fl->s, 3900);
        flip_all(fl->s, 60);
        atomic_fetch_add_explicit(&fl->sweeps, 1, memory_order_relaxed);
    }
    return NULL;
}

/* One round on a fresh fixture: frames until the vif is disconnected or 64
 * passes. Returns the frames delivered; *dead says whether it was cut off. */
static int flip_round(bool *dead)
{
    struct nbf *f = make(32);
    for (int i = 0; i < 3; i++)
        up(f, i);
    nbf_pass(f);
    struct nbf_guest *ge = &f->g[EVIL], *ga = &f->g[A];
    struct flip fl = { .s = ge->tx.sring };
    atomic_init(&fl.stop, false);
    atomic_init(&fl.sweeps, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, flipper, &fl), 0);
    const struct netback_vif_stats *se = nbf_stats(f, EVIL), *sa = nbf_stats(f, A);
    int got = 0, bad = 0, status = 0;
    bool stalled = false;
    /* No cmocka assertion while the flipper runs (a failure would leave it
     * writing into freed memory): the first wrong frame is noted. */
    for (uint32_t seq = 0; seq < 64 && !se->disconnected && !bad; seq++) {
        /* The flipper is running, not merely started: each pass overlaps it. */
        unsigned long sw = atomic_load(&fl.sweeps);
        for (double end = tu_now() + TU_WAIT_S; atomic_load(&fl.sweeps) == sw && !stalled;)
            if (!(stalled = tu_now() > end))
                sched_yield();
        if (stalled)
            break;
        if (nbf_queue(f, EVIL, ga->mac, 60, seq))
            bad = -1;
        nbf_push(f, EVIL);
        nbf_pass(f);
        struct nbf_rx rx;
        int rc = 0;
        uint32_t s;
        while (!bad && (rc = nbf_rx_next(ga, &rx)) == 1) {
            status = rx.status;
            bad = rx.status != 60 || !nbf_frame_ok(rx.data, 60, ga->mac, ge->mac, &s) || s != seq;
            got += !bad;
        }
        if (rc < 0)
            bad = 1, status = rc;
        nbf_post_rx(ga);
        nbf_push(f, A);
        nbf_tx_reap(ge);
    }
    atomic_store(&fl.stop, true);
    tu_join(t, TU_WAIT_S, "the size flipper");
    if (stalled)
        fail_msg("the flipper made no progress in %.0f s", TU_WAIT_S);
    if (bad)
        fail_msg("frame %d: status %d, or not the 60-byte frame guest 1 posted", got, status);
    *dead = se->disconnected;
    if (*dead) {
        char want[160];
        snprintf(want, sizeof(want), "TX request id %u (offset 0, size 3900): size outside 14..1514",
                 (unsigned)(se->tx_pkts % NBF_TX_BUFS));
        assert_string_equal(se->reason, want);
    }
    assert_int_equal(se->tx_pkts, (uint64_t)got);
    assert_int_equal(se->tx_bytes, 60 * se->tx_pkts);
    assert_int_equal(sa->rx_pkts, (uint64_t)got);
    assert_int_equal(sa->rx_bytes, 60 * sa->rx_pkts);
    assert_pair_works(f, A, B);
    nbf_fini(f);
    free(f);
    return got;
}

static void test_request_flipped_by_another_thread(void **st)
{
    (void)st;
    int frames = 0, cut = 0;
    for (int r = 0; r < 200; r++) {
        bool dead;
        frames += flip_round(&dead);
        cut += dead;
    }
    print_message("[          ] 200 rounds: %d frames of 60 bytes delivered, %d disconnects "
                  "for size 3900\n", frames, cut);
}

/* ---- bad requests ------------------------------------------------------------------- */

/* Guest 1 posts req (after a good frame went through); the pass must
 * disconnect it with `reason` and nothing of it may reach anyone. */
static void hostile_tx(struct nbf *f, struct netif_tx_request req, const char *reason)
{
    struct nbf_guest *g = &f->g[EVIL];
    assert_int_equal(nbf_exchange(f, EVIL, A, 1, 60, 1), 1);
    uint64_t arx = nbf_stats(f, A)->rx_pkts;
    *FV_RING_GET_REQUEST(&g->tx, g->tx.req_prod_pvt) = req;
    g->tx.req_prod_pvt++;
    nbf_push(f, EVIL);
    nbf_pass(f);
    assert_disconnected(f, EVIL, reason);
    assert_int_equal(nbf_stats(f, EVIL)->tx_pkts, 1);
    assert_int_equal(nbf_stats(f, A)->rx_pkts, arx);
    /* The refused request's response is not published: the ring is dead. */
    assert_int_equal(__atomic_load_n(&g->tx.sring->rsp_prod, __ATOMIC_ACQUIRE), 1);
    assert_pair_works(f, A, B);
}

static void test_grant_out_of_range(void **st)
{
    struct nbf *f = *st;
    struct netif_tx_request r = good_req(f, EVIL, 60);
    r.gref = GNTTAB_DEFAULT_MAX;
    r.id = 7;
    hostile_tx(f, r, "TX request id 7: grant 4096 out of range");
}

static void test_grant_not_in_use(void **st)
{
    struct nbf *f = *st;
    struct netif_tx_request r = good_req(f, EVIL, 60);
    r.gref = 100;
    hostile_tx(f, r, "TX request id 0: grant 100 not in use");
}

static void test_grant_to_another_domain(void **st)
{
    struct nbf *f = *st;
    struct nbf_guest *g = &f->g[EVIL];
    struct netif_tx_request r = good_req(f, EVIL, 60);
    int ref = gnttab_grant(g->gt, f->g[B].domid, nbf_page(g, NBF_TXB), true);
    assert_int_equal(ref, 2 + NBF_TX_BUFS + 16);    /* the next free reference */
    r.gref = (uint32_t)ref;
    hostile_tx(f, r, "TX request id 0: grant 22 not granted to domain 0");
}

static void test_offset_plus_size_beyond_page(void **st)
{
    struct nbf *f = *st;
    struct netif_tx_request r = good_req(f, EVIL, 200);
    r.offset = 3900;
    hostile_tx(f, r, "TX request id 0 (offset 3900, size 200): offset + size beyond the page");
}

static void test_offset_beyond_page(void **st)
{
    struct nbf *f = *st;
    struct netif_tx_request r = good_req(f, EVIL, 60);
    r.offset = 65535;
    hostile_tx(f, r, "TX request id 0 (offset 65535, size 60): offset + size beyond the page");
}

static void test_tx_flags_set(void **st)
{
    struct nbf *f = *st;
    struct netif_tx_request r = good_req(f, EVIL, 60);
    r.flags = 1;
    hostile_tx(f, r, "TX request id 0 (offset 0, size 60): flags set (none are defined)");
}

static void test_size_zero(void **st)
{
    struct nbf *f = *st;
    struct netif_tx_request r = good_req(f, EVIL, 60);
    r.size = 0;
    hostile_tx(f, r, "TX request id 0 (offset 0, size 0): size outside 14..1514");
}

static void test_size_2000(void **st)
{
    struct nbf *f = *st;
    struct netif_tx_request r = good_req(f, EVIL, 60);
    r.size = 2000;
    hostile_tx(f, r, "TX request id 0 (offset 0, size 2000): size outside 14..1514");
}

/* The edges that are allowed: 14 and 1514 bytes, a frame ending at the
 * page's last byte. */
static void test_size_and_offset_edges_accepted(void **st)
{
    struct nbf *f = *st;
    struct nbf_guest *g = &f->g[EVIL];
    uint8_t *page = nbf_page(g, NBF_TXB + 1);
    nbf_frame_fill(page, f->g[A].mac, g->mac, 14, 0);
    nbf_frame_fill(page + NBF_PAGE - NETIF_FRAME_MAX, f->g[A].mac, g->mac, NETIF_FRAME_MAX, 5);
    struct netif_tx_request r[2] = {
        { .gref = (uint32_t)g->tx_buf_ref[1], .offset = 0, .id = 1, .size = 14 },
        { .gref = (uint32_t)g->tx_buf_ref[1], .offset = NBF_PAGE - NETIF_FRAME_MAX, .id = 2,
          .size = NETIF_FRAME_MAX },
    };
    for (int k = 0; k < 2; k++)
        *FV_RING_GET_REQUEST(&g->tx, g->tx.req_prod_pvt++) = r[k];
    nbf_push(f, EVIL);
    nbf_pass(f);
    assert_connected(f, EVIL);
    assert_int_equal(nbf_tx_reap(g), 2);
    assert_int_equal(g->tx_ok, 2);
    assert_int_equal(nbf_stats(f, EVIL)->tx_bytes, 14 + NETIF_FRAME_MAX);
    struct nbf_rx rx;
    uint32_t s;
    assert_int_equal(nbf_rx_next(&f->g[A], &rx), 1);
    assert_int_equal(rx.status, 14);
    assert_memory_equal(rx.data, f->g[A].mac, 6);
    assert_int_equal(nbf_rx_next(&f->g[A], &rx), 1);
    assert_int_equal(rx.status, NETIF_FRAME_MAX);
    assert_true(nbf_frame_ok(rx.data, NETIF_FRAME_MAX, f->g[A].mac, g->mac, &s));
    assert_int_equal(s, 5);
}

/* ---- a read-only RX buffer ---------------------------------------------------------- */

static void test_rx_buffer_read_only(void **st)
{
    struct nbf *f = *st;
    struct nbf_guest *g = &f->g[EVIL];
    /* Its TX buffer page, granted read-only, posted as an RX buffer. */
    struct netif_rx_request *r = FV_RING_GET_REQUEST(&g->rx, g->rx.req_prod_pvt++);
    r->id = 77;
    r->gref = (uint32_t)g->tx_buf_ref[3];
    nbf_push(f, EVIL);
    nbf_pass(f);
    assert_connected(f, EVIL);          /* posting it is no fault yet */
    /* Use up the 16 good buffers, then one frame lands on the bad one. */
    for (uint32_t k = 0; k < 16; k++)
        assert_int_equal(nbf_exchange(f, A, EVIL, 1, 80, k), 1);
    assert_int_equal(nbf_queue(f, A, g->mac, 80, 16), 0);
    nbf_push(f, A);
    nbf_pass(f);
    assert_int_equal(nbf_tx_reap(&f->g[A]), 1);
    assert_int_equal(f->g[A].tx_err, 0);        /* its frame was good */
    assert_disconnected(f, EVIL, "RX request id 77: grant 5 read-only");
    const struct netback_vif_stats *s = nbf_stats(f, EVIL);
    assert_int_equal(s->rx_pkts, 16);
    assert_int_equal(s->drops[NB_DROP_DISCONNECTED], 1);
    const uint8_t zero[NBF_PAGE] = { 0 };
    assert_memory_equal(nbf_page(g, NBF_TXB + 3), zero, NBF_PAGE);
    assert_pair_works(f, A, B);
}

/* ---- an event storm ----------------------------------------------------------------- */

static void test_event_storm(void **st)
{
    struct nbf *f = *st;
    struct nbf_guest *ge = &f->g[EVIL], *ga = &f->g[A];
    const struct netback_vif_stats *se = nbf_stats(f, EVIL), *sa = nbf_stats(f, A);
    uint64_t ev0 = se->events, sp0 = se->spurious;
    assert_int_equal(sp0, 0);
    for (int i = 1; i <= 1000; i++) {
        assert_int_equal(evtchn_send(&f->ev, ge->domid, ge->port), 0);
        /* Guest 2 notifies every time too, each time with a frame. */
        assert_int_equal(evtchn_send(&f->ev, ga->domid, ga->port), 0);
        assert_int_equal(nbf_exchange(f, A, B, 1, 64, (uint32_t)i), 1);
        if (i < 1000) {
            if (se->disconnected)
                fail_msg("disconnected after %d events, not 1000: %s", i, se->reason);
            assert_int_equal(se->spurious - sp0, (uint64_t)i);
        }
    }
    assert_disconnected(f, EVIL, "event storm: 1000 notifications in a row with no work");
    assert_int_equal(se->events - ev0, 1000);
    assert_int_equal(se->spurious - sp0, 1000);
    assert_int_equal(sa->spurious, 0);
    assert_true(sa->events >= 1000);
    assert_int_equal(sa->tx_pkts, 1000);
    assert_pair_works(f, A, B);
}

/* Work in between restarts the count: 999 empty events, one with a frame,
 * 999 more: still connected. */
static void test_event_storm_count_restarts(void **st)
{
    struct nbf *f = *st;
    struct nbf_guest *ge = &f->g[EVIL];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 999; i++) {
            evtchn_send(&f->ev, ge->domid, ge->port);
            nbf_pass(f);
        }
        assert_connected(f, EVIL);
        evtchn_send(&f->ev, ge->domid, ge->port);
        assert_int_equal(nbf_exchange(f, EVIL, A, 1, 60, (uint32_t)round), 1);
    }
    assert_connected(f, EVIL);
    assert_int_equal(nbf_stats(f, EVIL)->spurious, 2 * 999);
}

/* ---- drops by cause ----------------------------------------------------------------- */

static void send_raw(struct nbf *f, int i, const uint8_t *dst, const uint8_t *src, uint32_t seq)
{
    struct nbf_guest *g = &f->g[i];
    nbf_frame_fill(nbf_page(g, NBF_TXB), dst, src, 60, seq);
    *FV_RING_GET_REQUEST(&g->tx, g->tx.req_prod_pvt++) = (struct netif_tx_request){
        .gref = (uint32_t)g->tx_buf_ref[0], .id = 0, .size = 60 };
    nbf_push(f, i);
    nbf_pass(f);
    assert_int_equal(nbf_tx_reap(g), 1);
}

static void test_drop_no_dest(void **st)
{
    struct nbf *f = *st;
    const struct netback_vif_stats *sa = nbf_stats(f, A);
    send_raw(f, A, unknown_mac, f->g[A].mac, 1);
    assert_int_equal(sa->tx_pkts, 1);
    assert_int_equal(sa->drops[NB_DROP_NO_DEST], 1);
    assert_int_equal(netback_unowned_drops(f->nb), 0);
    /* From a MAC that is not A's: refused at once (anti-spoofing), so a
     * frame coming back from the port always names its sender truly. */
    send_raw(f, A, unknown_mac, unknown_mac, 2);
    assert_int_equal(sa->tx_pkts, 1);
    assert_int_equal(sa->drops[NB_DROP_NO_DEST], 1);
    assert_int_equal(sa->drops[NB_DROP_SPOOFED], 1);
    assert_int_equal(netback_unowned_drops(f->nb), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(nbf_stats(f, i)->rx_pkts, 0);
    assert_pair_works(f, A, B);
}

/* A frame sent with B's source MAC is A's drop, not B's: B's counters and
 * backend time do not move. */
static void test_spoofed_source_is_refused(void **st)
{
    struct nbf *f = *st;
    const struct netback_vif_stats *sa = nbf_stats(f, A), *sb = nbf_stats(f, B);
    fv_ns_t b_ns = sb->backend_ns;
    for (uint32_t k = 0; k < 4; k++)
        send_raw(f, A, unknown_mac, f->g[B].mac, k);
    assert_int_equal(sa->drops[NB_DROP_SPOOFED], 4);
    assert_int_equal(sa->tx_pkts, 0);
    assert_int_equal(sb->tx_pkts, 0);
    assert_int_equal(sb->drops[NB_DROP_NO_DEST], 0);
    assert_int_equal(sb->backend_ns, b_ns);
    assert_connected(f, A);
    assert_pair_works(f, A, B);
}

/* An event storm cannot hide behind an RX producer moved back and forth:
 * only buffers posted beyond any posted before count as work. */
static void test_storm_with_rx_producer_wobble(void **st)
{
    struct nbf *f = *st;
    struct nbf_guest *g = &f->g[EVIL];
    uint32_t base = g->rx.req_prod_pvt;
    for (int i = 0; i < 1100 && !nbf_stats(f, EVIL)->disconnected; i++) {
        __atomic_store_n(&g->rx.sring->req_prod, base + (uint32_t)(i & 1), __ATOMIC_RELEASE);
        evtchn_send(&f->ev, g->domid, g->port);
        nbf_pass(f);
    }
    assert_disconnected(f, EVIL, "event storm: 1000 notifications in a row with no work");
    assert_pair_works(f, A, B);
}

static void test_drop_no_rx_buffer(void **st)
{
    struct nbf *f = *st;
    up(f, EVIL);
    up(f, A);
    assert_int_equal(nbf_connect(f, B), 0);     /* no RX buffer posted */
    nbf_pass(f);
    const struct netback_vif_stats *sb = nbf_stats(f, B);
    assert_int_equal(nbf_exchange(f, A, B, 2, 60, 1), 0);
    assert_int_equal(sb->drops[NB_DROP_NO_RX_BUFFER], 2);
    assert_int_equal(sb->rx_pkts, 0);
    assert_int_equal(nbf_stats(f, A)->tx_pkts, 2);
    /* nbf_exchange reposted B's buffers: now it gets them. */
    assert_pair_works(f, A, B);
    assert_int_equal(sb->drops[NB_DROP_NO_RX_BUFFER], 2);
}

static void test_drop_not_connected_yet(void **st)
{
    struct nbf *f = *st;
    up(f, A);
    up(f, B);
    nbf_pass(f);
    send_raw(f, A, f->g[EVIL].mac, f->g[A].mac, 1);
    assert_int_equal(nbf_stats(f, EVIL)->drops[NB_DROP_NO_RX_BUFFER], 1);
    assert_pair_works(f, A, B);
}

static void test_drop_disconnected(void **st)
{
    struct nbf *f = *st;
    __atomic_store_n(&f->g[EVIL].tx.sring->req_prod, 999, __ATOMIC_RELEASE);
    nbf_pass(f);
    assert_true(nbf_stats(f, EVIL)->disconnected);
    send_raw(f, A, f->g[EVIL].mac, f->g[A].mac, 1);
    send_raw(f, A, f->g[EVIL].mac, f->g[A].mac, 2);
    const struct netback_vif_stats *se = nbf_stats(f, EVIL);
    assert_int_equal(se->drops[NB_DROP_DISCONNECTED], 2);
    assert_int_equal(se->rx_pkts, 0);
    /* A broadcast skips it without a drop, and reaches guest 3 only. */
    send_raw(f, A, bcast_mac, f->g[A].mac, 3);
    assert_int_equal(se->drops[NB_DROP_DISCONNECTED], 2);
    assert_int_equal(nbf_stats(f, B)->rx_pkts, 1);
    assert_int_equal(nbf_stats(f, A)->rx_pkts, 0);
    struct nbf_rx rx;
    uint32_t s;
    assert_int_equal(nbf_rx_next(&f->g[B], &rx), 1);
    assert_true(nbf_frame_ok(rx.data, 60, bcast_mac, f->g[A].mac, &s));
    nbf_post_rx(&f->g[B]);
    nbf_push(f, B);
    assert_pair_works(f, A, B);
}

/* ---- response events ---------------------------------------------------------------- */

static int pending(struct nbf *f, int i)
{
    return evtchn_test_and_clear_pending(&f->ev, f->g[i].domid, f->g[i].port);
}

static void test_tx_response_event(void **st)
{
    struct nbf *f = *st;
    struct nbf_guest *ga = &f->g[A];
    pending(f, A);
    /* Told when the third response is published: not before, not after. */
    __atomic_store_n(&ga->tx.sring->rsp_event, ga->tx.rsp_cons + 3, __ATOMIC_SEQ_CST);
    for (int k = 1; k <= 5; k++) {
        assert_int_equal(nbf_exchange(f, A, B, 1, 60, (uint32_t)k), 1);
        assert_int_equal(pending(f, A), k == 3);
    }
    /* A batch crossing it: one notification for three responses. */
    __atomic_store_n(&ga->tx.sring->rsp_event, ga->tx.rsp_cons + 2, __ATOMIC_SEQ_CST);
    assert_int_equal(nbf_exchange(f, A, B, 3, 60, 10), 3);
    assert_int_equal(pending(f, A), 1);
    /* An event index already passed is not crossed again. */
    __atomic_store_n(&ga->tx.sring->rsp_event, ga->tx.rsp_cons, __ATOMIC_SEQ_CST);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(nbf_exchange(f, A, B, 1, 60, 20 + (uint32_t)k), 1);
        assert_int_equal(pending(f, A), 0);
    }
}

static void test_rx_response_event(void **st)
{
    struct nbf *f = *st;
    struct nbf_guest *gb = &f->g[B];
    pending(f, B);
    __atomic_store_n(&gb->rx.sring->rsp_event, gb->rx.rsp_cons + 2, __ATOMIC_SEQ_CST);
    for (int k = 1; k <= 4; k++) {
        assert_int_equal(nbf_exchange(f, A, B, 1, 60, (uint32_t)k), 1);
        assert_int_equal(pending(f, B), k == 2);
    }
    /* Once a pass finds nothing more, netback asks for the next request
     * (not after a pass that took some: it looks again first), and the
     * guest's push notifies. */
    assert_int_equal(nbf_pass(f), 0);
    assert_int_equal(__atomic_load_n(&f->g[A].tx.sring->req_event, __ATOMIC_SEQ_CST),
                     f->g[A].tx.req_prod_pvt + 1);
    assert_int_equal(nbf_queue(f, A, gb->mac, 60, 9), 0);
    assert_true(nbf_push(f, A));
}

/* ---- connecting while a pass runs ---------------------------------------------------- */

/* netback_connect comes from guest vCPU threads while the pass runs on
 * domain 0's: connect fills the vif, then publishes CONNECTED with a
 * release store, so every load of the state after which the pass reads the
 * vif must be an acquire. A relaxed one (vif_flush's once was) lets the
 * pass read ring pointers connect has not published to it: ThreadSanitizer
 * reports it as a data race on the vif. In every build, the vifs must come
 * up and carry frames. */
struct poller {
    struct nbf *f;
    atomic_bool stop;
    atomic_int passes;
};

static void *poll_thread(void *arg)
{
    struct poller *p = arg;
    domtab_thread_online();
    while (!atomic_load(&p->stop)) {
        nbf_pass(p->f);
        atomic_fetch_add(&p->passes, 1);
    }
    domtab_thread_offline();
    return NULL;
}

static void test_connect_while_polling(void **st)
{
    (void)st;
    for (int r = 0; r < 50; r++) {
        struct nbf *f = make(32);
        for (int i = 0; i < 3; i++) {
            nbf_post_rx(&f->g[i]);
            nbf_push(f, i);
        }
        struct poller p = { .f = f };
        atomic_init(&p.stop, false);
        atomic_init(&p.passes, 0);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, poll_thread, &p), 0);
        int rc[3];
        bool stalled = false;
        for (int i = 0; i < 3; i++) {
            /* Into a pass in progress, not before the first. */
            int n = atomic_load(&p.passes);
            for (double end = tu_now() + TU_WAIT_S; atomic_load(&p.passes) == n && !stalled;)
                if (!(stalled = tu_now() > end))
                    sched_yield();
            rc[i] = nbf_connect(f, i);
        }
        atomic_store(&p.stop, true);
        tu_join(t, TU_WAIT_S, "the polling thread");
        if (stalled)
            fail_msg("the polling thread made no pass in %.0f s", TU_WAIT_S);
        for (int i = 0; i < 3; i++)
            assert_int_equal(rc[i], 0);
        nbf_pass(f);
        assert_pair_works(f, EVIL, A);
        assert_pair_works(f, A, B);
        nbf_fini(f);
        free(f);
    }
}

int main(void)
{
    domtab_thread_online();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define U(fn) cmocka_unit_test_setup_teardown(fn, setup_unconnected, teardown)
    const struct CMUnitTest tests[] = {
        T(test_tx_producer_far_ahead),
        T(test_tx_producer_behind),
        T(test_rx_producer_far_ahead),
        T(test_spoofed_source_is_refused),
        T(test_storm_with_rx_producer_wobble),
        T(test_request_rewritten_before_pass),
        cmocka_unit_test(test_request_flipped_by_another_thread),
        T(test_grant_out_of_range),
        T(test_grant_not_in_use),
        T(test_grant_to_another_domain),
        T(test_offset_plus_size_beyond_page),
        T(test_offset_beyond_page),
        T(test_tx_flags_set),
        T(test_size_zero),
        T(test_size_2000),
        T(test_size_and_offset_edges_accepted),
        T(test_rx_buffer_read_only),
        T(test_event_storm),
        T(test_event_storm_count_restarts),
        T(test_drop_no_dest),
        U(test_drop_no_rx_buffer),
        U(test_drop_not_connected_yet),
        T(test_drop_disconnected),
        T(test_tx_response_event),
        T(test_rx_response_event),
        cmocka_unit_test(test_connect_while_polling),
    };
    int rc = tu_status(cmocka_run_group_tests(tests, NULL, NULL));
    domtab_thread_offline();
    return rc;
}
