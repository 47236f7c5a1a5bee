/* test_ring.c — the shared ring (hv/ring.h): layout and sizes (Xen's netif
 * tx/rx and blkif rings), when a push notifies, final-check semantics, a
 * hostile producer index, accounting across the 2^32 wrap, private request
 * copies, and two threads moving 1,000,000 requests and responses with
 * event suppression (a lost wake-up would hang a side: it fails instead). */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hv/ring.h"

/* ---- ring types ---------------------------------------------------------------- */

/* Xen's netif tx (12-byte request, 4-byte response), rx (8 and 8) and blkif
 * (112-byte request) layouts. */
struct ttx_req { uint32_t gref; uint16_t offset, flags, id, size; };
struct ttx_rsp { uint16_t id; int16_t status; };
struct trx_req { uint16_t id, pad; uint32_t gref; };
struct trx_rsp { uint16_t id, offset, flags; int16_t status; };
struct tblk_seg { uint32_t gref; uint8_t first_sect, last_sect; uint16_t pad; };
struct tblk_req {
    uint8_t operation, nr_segments;
    uint16_t handle;
    uint32_t pad;
    uint64_t id, sector_number;
    struct tblk_seg seg[11];
};
struct tblk_rsp { uint64_t id; uint8_t operation; int16_t status; };

FV_RING_DEFINE(ttx, struct ttx_req, struct ttx_rsp);
FV_RING_DEFINE(trx, struct trx_req, struct trx_rsp);
FV_RING_DEFINE(tblk, struct tblk_req, struct tblk_rsp);

_Static_assert(sizeof(struct ttx_req) == 12 && sizeof(struct trx_req) == 8 &&
               sizeof(struct tblk_req) == 112, "the Xen layouts");
_Static_assert(ttx_RING_SIZE == 256, "netif tx ring: 256 entries");
_Static_assert(trx_RING_SIZE == 256, "netif rx ring: 256 entries");
_Static_assert(tblk_RING_SIZE == 32, "blkif ring: 32 entries");

/* The ring most tests use: sequence-numbered requests and responses. */
struct sq_req { uint32_t seq, val; };
struct sq_rsp { uint32_t seq, val; };
FV_RING_DEFINE(sq, struct sq_req, struct sq_rsp);
#define SQ 256u

struct fx {
    struct sq_sring *s;
    struct sq_front f;
    struct sq_back b;
};

static int setup(void **st)
{
    struct fx *x = calloc(1, sizeof(*x));
    x->s = aligned_alloc(FV_RING_PAGE_SIZE, FV_RING_PAGE_SIZE);
    memset(x->s, 0xA5, FV_RING_PAGE_SIZE);             /* init must not rely on zeroes */
    FV_SHARED_RING_INIT(x->s);
    FV_FRONT_RING_INIT(&x->f, x->s);
    FV_BACK_RING_INIT(&x->b, x->s);
    *st = x;
    return 0;
}

static int teardown(void **st)
{
    struct fx *x = *st;
    free(x->s);
    free(x);
    return 0;
}

/* Every shared and private index at i (event indices at i + 1), as if the
 * ring had run i requests. */
static void start_at(struct fx *x, uint32_t i)
{
    x->s->req_prod = x->s->rsp_prod = i;
    x->s->req_event = x->s->rsp_event = i + 1;
    FV_FRONT_RING_ATTACH(&x->f, x->s, i);
    FV_BACK_RING_ATTACH(&x->b, x->s, i);
}

/* ---- layout ---------------------------------------------------------------------- */

static void test_layout_and_sizes(void **st)
{
    struct fx *x = *st;
    assert_int_equal(offsetof(struct sq_sring, req_prod), 0);
    assert_int_equal(offsetof(struct sq_sring, req_event), 4);
    assert_int_equal(offsetof(struct sq_sring, rsp_prod), 8);
    assert_int_equal(offsetof(struct sq_sring, rsp_event), 12);
    assert_int_equal(offsetof(struct sq_sring, ring), 64);
    assert_int_equal(offsetof(struct tblk_sring, ring), 64);
    assert_int_equal(sizeof(union ttx_sring_entry), 12);
    assert_int_equal(sizeof(union tblk_sring_entry), 112);
    assert_int_equal(sizeof(struct ttx_sring), 64 + 256 * 12);
    assert_int_equal(sizeof(struct trx_sring), 64 + 256 * 8);
    assert_int_equal(sizeof(struct tblk_sring), 64 + 32 * 112);
    struct ttx_front tf = { 0 };
    struct trx_back rb = { 0 };
    struct tblk_front bf = { 0 };
    assert_int_equal(FV_RING_SIZE(&tf), 256);
    assert_int_equal(FV_RING_SIZE(&rb), 256);
    assert_int_equal(FV_RING_SIZE(&bf), 32);
    assert_int_equal(FV_RING_SIZE(&x->f), SQ);
    /* slot i & (SIZE-1), the request and the response of one slot overlap */
    assert_ptr_equal(FV_RING_GET_REQUEST(&x->f, 0), &x->s->ring[0].req);
    assert_ptr_equal(FV_RING_GET_REQUEST(&x->f, SQ + 3), &x->s->ring[3].req);
    assert_ptr_equal(FV_RING_GET_RESPONSE(&x->b, UINT32_MAX), &x->s->ring[SQ - 1].rsp);
    assert_ptr_equal((void *)FV_RING_GET_REQUEST(&x->b, 7), (void *)FV_RING_GET_RESPONSE(&x->f, 7));
    assert_int_equal((char *)FV_RING_GET_REQUEST(&x->f, 1) - (char *)x->s, 64 + 8);
}

static void test_init(void **st)
{
    struct fx *x = *st;
    assert_int_equal(x->s->req_prod, 0);
    assert_int_equal(x->s->rsp_prod, 0);
    assert_int_equal(x->s->req_event, 1);
    assert_int_equal(x->s->rsp_event, 1);
    for (int i = 0; i < 48; i++)
        assert_int_equal(x->s->fv_pad[i], 0);
    assert_int_equal(x->f.req_prod_pvt, 0);
    assert_int_equal(x->f.rsp_cons, 0);
    assert_int_equal(x->b.rsp_prod_pvt, 0);
    assert_int_equal(x->b.req_cons, 0);
    assert_ptr_equal(x->f.sring, x->s);
    assert_ptr_equal(x->b.sring, x->s);
    assert_int_equal(FV_RING_FREE_REQUESTS(&x->f), SQ);
    assert_false(FV_RING_FULL(&x->f));
    assert_int_equal(FV_RING_UNCONSUMED_REQUESTS(&x->b), 0);
    assert_int_equal(FV_RING_HAS_UNCONSUMED_RESPONSES(&x->f), 0);
}

/* ---- notification ---------------------------------------------------------------- */

struct push_case { uint32_t old, new_, event; bool notify; };

static const struct push_case push_cases[] = {
    { 0, 1, 1, true },                      /* fresh ring: the first request */
    { 1, 2, 1, false },                     /* event already passed */
    { 2, 4, 5, false },                     /* event beyond the batch */
    { 4, 5, 5, true },                      /* event = new */
    { 5, 10, 7, true },                     /* event inside the batch */
    { 5, 10, 6, true },                     /* event = old + 1 */
    { 5, 10, 5, false },                    /* event = old: it was passed before */
    { 5, 10, 11, false },
    { 12, 12, 12, false },                  /* nothing new: never */
    { 12, 12, 13, false },
    { UINT32_MAX - 1, 1, 0, true },         /* batch across the wrap */
    { UINT32_MAX - 1, 1, UINT32_MAX, true },
    { UINT32_MAX - 1, 1, 1, true },
    { UINT32_MAX - 1, 1, UINT32_MAX - 1, false },
    { UINT32_MAX - 1, 1, 2, false },
    { UINT32_MAX, 0, 0, true },
};

static void test_push_requests_notify(void **st)
{
    struct fx *x = *st;
    for (size_t i = 0; i < sizeof(push_cases) / sizeof(push_cases[0]); i++) {
        const struct push_case *c = &push_cases[i];
        x->s->req_prod = c->old;
        x->s->req_event = c->event;
        x->f.req_prod_pvt = c->new_;
        bool notify = !c->notify;
        FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&x->f, notify);
        if (notify != c->notify)
            fail_msg("case %zu: old %u new %u event %u: notify %d", i, c->old, c->new_, c->event,
                     notify);
        assert_int_equal(x->s->req_prod, c->new_);
        assert_int_equal(x->s->req_event, c->event);    /* the producer never moves it */
        assert_int_equal(x->s->rsp_prod, 0);
    }
}

static void test_push_responses_notify(void **st)
{
    struct fx *x = *st;
    for (size_t i = 0; i < sizeof(push_cases) / sizeof(push_cases[0]); i++) {
        const struct push_case *c = &push_cases[i];
        x->s->rsp_prod = c->old;
        x->s->rsp_event = c->event;
        x->b.rsp_prod_pvt = c->new_;
        bool notify = !c->notify;
        FV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&x->b, notify);
        if (notify != c->notify)
            fail_msg("case %zu: old %u new %u event %u: notify %d", i, c->old, c->new_, c->event,
                     notify);
        assert_int_equal(x->s->rsp_prod, c->new_);
        assert_int_equal(x->s->req_prod, 0);
    }
}

/* The protocol end to end, single-threaded: who is told when. */
static void test_notify_sequence(void **st)
{
    struct fx *x = *st;
    bool n;
    int work;
    x->f.req_prod_pvt = 1;
    FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&x->f, n);
    assert_true(n);                         /* req_event starts at 1 */
    x->f.req_prod_pvt = 3;
    FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&x->f, n);
    assert_false(n);                        /* the back has not asked again */
    x->b.req_cons = 3;                      /* consumed all three ... */
    x->b.rsp_prod_pvt = 3;
    FV_RING_FINAL_CHECK_FOR_REQUESTS(&x->b, work);
    assert_int_equal(work, 0);
    assert_int_equal(x->s->req_event, 4);   /* ... and asks for the next one */
    x->f.req_prod_pvt = 4;
    FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&x->f, n);
    assert_true(n);
    x->f.req_prod_pvt = 6;
    FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&x->f, n);
    assert_false(n);
    /* responses: rsp_event starts at 1 */
    FV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&x->b, n);
    assert_true(n);
    x->f.rsp_cons = 3;
    FV_RING_FINAL_CHECK_FOR_RESPONSES(&x->f, work);
    assert_int_equal(work, 0);
    assert_int_equal(x->s->rsp_event, 4);
    x->b.rsp_prod_pvt = 5;
    FV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&x->b, n);
    assert_true(n);
}

static void test_final_check_requests(void **st)
{
    struct fx *x = *st;
    int work = -1;
    FV_RING_FINAL_CHECK_FOR_REQUESTS(&x->b, work);  /* empty ring */
    assert_int_equal(work, 0);
    assert_int_equal(x->s->req_event, 1);
    /* pending work: reported, the event index left alone */
    x->s->req_event = 42;
    x->s->req_prod = 3;
    FV_RING_FINAL_CHECK_FOR_REQUESTS(&x->b, work);
    assert_int_equal(work, 3);
    assert_int_equal(x->s->req_event, 42);
    /* consumed and answered: event = req_cons + 1 */
    x->b.req_cons = x->b.rsp_prod_pvt = 3;
    FV_RING_FINAL_CHECK_FOR_REQUESTS(&x->b, work);
    assert_int_equal(work, 0);
    assert_int_equal(x->s->req_event, 4);
    /* across the wrap */
    start_at(x, UINT32_MAX);
    x->s->req_event = 7;
    FV_RING_FINAL_CHECK_FOR_REQUESTS(&x->b, work);
    assert_int_equal(work, 0);
    assert_int_equal(x->s->req_event, 0);
    x->s->req_prod = 1;                     /* two requests: UINT32_MAX and 0 */
    FV_RING_FINAL_CHECK_FOR_REQUESTS(&x->b, work);
    assert_int_equal(work, 2);
}

static void test_final_check_responses(void **st)
{
    struct fx *x = *st;
    int work = -1;
    FV_RING_FINAL_CHECK_FOR_RESPONSES(&x->f, work);
    assert_int_equal(work, 0);
    assert_int_equal(x->s->rsp_event, 1);
    x->s->rsp_event = 42;
    x->s->rsp_prod = 2;
    FV_RING_FINAL_CHECK_FOR_RESPONSES(&x->f, work);
    assert_int_equal(work, 2);
    assert_int_equal(x->s->rsp_event, 42);
    x->f.rsp_cons = 2;
    FV_RING_FINAL_CHECK_FOR_RESPONSES(&x->f, work);
    assert_int_equal(work, 0);
    assert_int_equal(x->s->rsp_event, 3);
}

/* ---- a hostile producer index ------------------------------------------------------ */

static void test_unconsumed_hostile_prod(void **st)
{
    struct fx *x = *st;
    struct { uint32_t cons, rsp_pvt, prod, unconsumed; bool overflow; } c[] = {
        { 0, 0, 0, 0, false },
        { 0, 0, 5, 5, false },
        { 0, 0, SQ, SQ, false },            /* a full ring is fine */
        { 0, 0, SQ + 1, SQ, true },         /* one too many */
        { 0, 0, 1000, SQ, true },
        { 0, 0, UINT32_MAX, SQ, true },     /* "behind" the consumer */
        { 10, 4, 10 + 300, SQ - 6, true },  /* 6 requests still unanswered */
        { 10, 4, 10 + SQ, SQ - 6, false },
        { 10, 4, 12, 2, false },
        { 10, 4, 9, SQ - 6, true },
        { 10, 10 - SQ, 20, 0, false },      /* every slot awaits a response */
        { UINT32_MAX - 5, UINT32_MAX - 5, 4, 10, false },    /* across the wrap */
        { UINT32_MAX - 5, UINT32_MAX - 5, UINT32_MAX - 5 + SQ + 1, SQ, true },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        x->b.req_cons = c[i].cons;
        x->b.rsp_prod_pvt = c[i].rsp_pvt;
        x->s->req_prod = c[i].prod;
        uint32_t prod = FV_RING_REQ_PROD(&x->b);
        assert_int_equal(prod, c[i].prod);
        if (FV_RING_REQUEST_PROD_OVERFLOW(&x->b, prod) != c[i].overflow)
            fail_msg("case %zu: overflow %d", i, !c[i].overflow);
        assert_int_equal(FV_RING_UNCONSUMED_REQUESTS_AT(&x->b, prod), c[i].unconsumed);
        assert_int_equal(FV_RING_UNCONSUMED_REQUESTS(&x->b), c[i].unconsumed);
        assert_true(FV_RING_UNCONSUMED_REQUESTS(&x->b) <= SQ);
    }
}

static void test_cons_overflow(void **st)
{
    struct fx *x = *st;
    x->b.rsp_prod_pvt = UINT32_MAX - 2;
    x->b.req_cons = UINT32_MAX - 2 + SQ - 1;
    assert_false(FV_RING_REQUEST_CONS_OVERFLOW(&x->b, x->b.req_cons));
    x->b.req_cons++;
    assert_true(FV_RING_REQUEST_CONS_OVERFLOW(&x->b, x->b.req_cons));
}

/* ---- accounting across the wrap ------------------------------------------------------ */

/* From index `start`, cycles of `batch` requests: the front fills, the back
 * answers, the front collects; sequence numbers and FREE/FULL checked at
 * every step. */
static void run_cycles(struct fx *x, uint32_t start, uint32_t batch, int cycles)
{
    start_at(x, start);
    uint32_t seq = 0, got = 0;
    for (int c = 0; c < cycles; c++) {
        for (uint32_t i = 0; i < batch; i++) {
            assert_int_equal(FV_RING_FREE_REQUESTS(&x->f), SQ - i);
            assert_false(FV_RING_FULL(&x->f));
            struct sq_req *r = FV_RING_GET_REQUEST(&x->f, x->f.req_prod_pvt);
            r->seq = seq + i;
            r->val = (seq + i) * 7;
            x->f.req_prod_pvt++;
        }
        assert_int_equal(FV_RING_FULL(&x->f), batch == SQ);
        bool n;
        FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&x->f, n);
        assert_int_equal(n, c == 0);        /* req_event start + 1; the back never re-arms */
        uint32_t prod = FV_RING_REQ_PROD(&x->b);
        assert_false(FV_RING_REQUEST_PROD_OVERFLOW(&x->b, prod));
        assert_int_equal(FV_RING_UNCONSUMED_REQUESTS_AT(&x->b, prod), batch);
        while (x->b.req_cons != prod) {
            struct sq_req q;
            FV_RING_COPY_REQUEST(&x->b, x->b.req_cons, &q);
            assert_int_equal(q.seq, seq);
            assert_int_equal(q.val, seq * 7);
            struct sq_rsp *p = FV_RING_GET_RESPONSE(&x->b, x->b.rsp_prod_pvt);
            p->seq = q.seq;
            p->val = q.seq + 1;
            x->b.rsp_prod_pvt++;
            x->b.req_cons++;
            seq++;
        }
        FV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&x->b, n);
        assert_int_equal(n, c == 0);
        assert_int_equal(FV_RING_HAS_UNCONSUMED_RESPONSES(&x->f), batch);
        assert_int_equal(FV_RING_FREE_REQUESTS(&x->f), SQ - batch);  /* until collected */
        for (uint32_t left = batch; left; left--) {
            struct sq_rsp p;
            FV_RING_COPY_RESPONSE(&x->f, x->f.rsp_cons, &p);
            assert_int_equal(p.seq, got);
            assert_int_equal(p.val, got + 1);
            got++;
            x->f.rsp_cons++;
            assert_int_equal(FV_RING_HAS_UNCONSUMED_RESPONSES(&x->f), left - 1);
        }
        assert_int_equal(FV_RING_FREE_REQUESTS(&x->f), SQ);
    }
    assert_int_equal(got, batch * (uint32_t)cycles);
    assert_int_equal(x->f.req_prod_pvt, start + batch * (uint32_t)cycles);
    assert_int_equal(x->s->rsp_prod, x->f.req_prod_pvt);
}

static void test_wrap_full_batches(void **st)
{
    run_cycles(*st, UINT32_MAX - 100, SQ, 3);   /* wraps in the first batch */
}

static void test_wrap_odd_batches(void **st)
{
    run_cycles(*st, UINT32_MAX - 2, 100, 7);    /* wraps mid-batch, slots misaligned */
}

static void test_wrap_from_zero(void **st)
{
    run_cycles(*st, 0, 1, 600);
}

/* ---- copies ------------------------------------------------------------------------ */

static void test_copy_request_private(void **st)
{
    struct fx *x = *st;
    struct sq_req *slot = FV_RING_GET_REQUEST(&x->f, 0);
    slot->seq = 1;
    slot->val = 2;
    x->f.req_prod_pvt = 1;
    FV_RING_PUSH_REQUESTS(&x->f);
    struct sq_req q;
    FV_RING_COPY_REQUEST(&x->b, x->b.req_cons, &q);
    /* the front rewrites the slot after the back looked (XSA-155) */
    slot->seq = 99;
    slot->val = 0xFFFFFFFF;
    assert_int_equal(q.seq, 1);
    assert_int_equal(q.val, 2);
    /* a big request copies whole */
    static struct tblk_sring bs;
    struct tblk_back bb;
    FV_SHARED_RING_INIT(&bs);
    FV_BACK_RING_INIT(&bb, &bs);
    struct tblk_req *br = FV_RING_GET_REQUEST(&bb, 33);     /* slot 1 */
    memset(br, 0x11, sizeof(*br));
    br->seg[10].gref = 0xCAFE;
    struct tblk_req bq;
    FV_RING_COPY_REQUEST(&bb, 33, &bq);
    memset(br, 0x22, sizeof(*br));
    assert_int_equal(bq.seg[10].gref, 0xCAFE);
    assert_int_equal(bq.operation, 0x11);
    assert_int_equal(bq.id, 0x1111111111111111ull);
    /* and the front's copy of a response */
    struct sq_rsp *rs = FV_RING_GET_RESPONSE(&x->b, 5);
    rs->seq = 5;
    struct sq_rsp p;
    FV_RING_COPY_RESPONSE(&x->f, 5, &p);
    rs->seq = 6;
    assert_int_equal(p.seq, 5);
}

/* ---- the peer acting between a store and a load ------------------------------------ */

/* The interleavings the full barriers exist for, made deterministic: the
 * ring page is mapped twice (one memfd); the view the macro uses is made
 * read-only, so the macro's first store to the page faults. The SIGSEGV
 * handler plays the peer, writing through the other view, then makes the
 * page writable and the store is retried. So the peer's write lands exactly
 * between the macro's store and its following load. */
static struct {
    uint8_t *view, *alias;
    void (*peer)(struct sq_sring *alias);
    volatile sig_atomic_t faults;
} il;

static void il_segv(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    uint8_t *a = si->si_addr;
    if (a < il.view || a >= il.view + FV_RING_PAGE_SIZE || il.faults++) {
        signal(sig, SIG_DFL);           /* a real crash: let it happen */
        return;
    }
    il.peer((struct sq_sring *)il.alias);
    mprotect(il.view, FV_RING_PAGE_SIZE, PROT_READ | PROT_WRITE);
}

static int il_setup(void **st)
{
    int fd = memfd_create("fv-ring", 0);
    if (fd < 0 || ftruncate(fd, FV_RING_PAGE_SIZE))
        return -1;
    il.view = mmap(NULL, FV_RING_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    il.alias = mmap(NULL, FV_RING_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (il.view == MAP_FAILED || il.alias == MAP_FAILED)
        return -1;
    struct fx *x = calloc(1, sizeof(*x));
    x->s = (struct sq_sring *)il.view;
    FV_SHARED_RING_INIT(x->s);
    FV_FRONT_RING_INIT(&x->f, x->s);
    FV_BACK_RING_INIT(&x->b, x->s);
    *st = x;
    return 0;
}

static int il_teardown(void **st)
{
    munmap(il.view, FV_RING_PAGE_SIZE);
    munmap(il.alias, FV_RING_PAGE_SIZE);
    free(*st);
    return 0;
}

/* Installed inside the test: cmocka sets its own SIGSEGV handler around
 * each test; il_disarm puts it back. */
static struct sigaction il_saved;

static void il_arm(void (*peer)(struct sq_sring *))
{
    il.peer = peer;
    il.faults = 0;
    struct sigaction sa = { .sa_sigaction = il_segv, .sa_flags = SA_SIGINFO };
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGSEGV, &sa, &il_saved), 0);
    assert_int_equal(mprotect(il.view, FV_RING_PAGE_SIZE, PROT_READ), 0);
}

static void il_disarm(void)
{
    sigaction(SIGSEGV, &il_saved, NULL);
    mprotect(il.view, FV_RING_PAGE_SIZE, PROT_READ | PROT_WRITE);
}

static void peer_pushes_request(struct sq_sring *s)
{
    s->ring[3].req.seq = 77;
    __atomic_store_n(&s->req_prod, 4, __ATOMIC_SEQ_CST);
}

/* The back finds nothing, re-arms req_event, and the front publishes
 * before the back looks again: the second look must see the request. */
static void test_final_check_sees_late_request(void **st)
{
    struct fx *x = *st;
    x->s->req_prod = 3;                     /* three requests, consumed and answered */
    x->b.req_cons = x->b.rsp_prod_pvt = 3;
    int work = -1;
    il_arm(peer_pushes_request);
    FV_RING_FINAL_CHECK_FOR_REQUESTS(&x->b, work);
    il_disarm();
    assert_int_equal(il.faults, 1);         /* the peer ran, once */
    assert_int_equal(work, 1);
    assert_int_equal(x->s->req_event, 4);
    assert_int_equal(FV_RING_GET_REQUEST(&x->b, 3)->seq, 77);
}

static void peer_pushes_response(struct sq_sring *s)
{
    __atomic_store_n(&s->rsp_prod, 2, __ATOMIC_SEQ_CST);
}

static void test_final_check_sees_late_response(void **st)
{
    struct fx *x = *st;
    x->s->rsp_prod = 1;
    x->f.req_prod_pvt = 2;
    x->f.rsp_cons = 1;
    int work = -1;
    il_arm(peer_pushes_response);
    FV_RING_FINAL_CHECK_FOR_RESPONSES(&x->f, work);
    il_disarm();
    assert_int_equal(il.faults, 1);
    assert_int_equal(work, 1);
    assert_int_equal(x->s->rsp_event, 2);
}

static void peer_rearms_req_event(struct sq_sring *s)
{
    __atomic_store_n(&s->req_event, 1, __ATOMIC_SEQ_CST);
}

/* The front publishes; the back re-arms its event index before the front
 * reads it: the push must read the event index after publishing (and so
 * notify). */
static void test_push_reads_event_after_publish(void **st)
{
    struct fx *x = *st;
    x->s->req_event = 100;                  /* the back asked for nothing near */
    x->f.req_prod_pvt = 1;
    bool notify = false;
    il_arm(peer_rearms_req_event);
    FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&x->f, notify);
    il_disarm();
    assert_int_equal(il.faults, 1);
    assert_true(notify);
    assert_int_equal(x->s->req_prod, 1);
}

static void peer_rearms_rsp_event(struct sq_sring *s)
{
    __atomic_store_n(&s->rsp_event, 1, __ATOMIC_SEQ_CST);
}

static void test_push_responses_reads_event_after_publish(void **st)
{
    struct fx *x = *st;
    x->s->rsp_event = 100;
    x->b.rsp_prod_pvt = 1;
    bool notify = false;
    il_arm(peer_rearms_rsp_event);
    FV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&x->b, notify);
    il_disarm();
    assert_int_equal(il.faults, 1);
    assert_true(notify);
}

/* ---- two threads --------------------------------------------------------------------- */

#define MSGS 1000000u
#define EVENT_WAIT_S 10     /* a wait this long is a lost wake-up */

struct kick {
    pthread_mutex_t m;
    pthread_cond_t c;
    bool pending;
    long sent, waits;
};

static void kick(struct kick *k)
{
    pthread_mutex_lock(&k->m);
    k->pending = true;
    k->sent++;
    pthread_cond_signal(&k->c);
    pthread_mutex_unlock(&k->m);
}

/* 0, or -ETIMEDOUT: nobody kicked within EVENT_WAIT_S. */
static int wait_kick(struct kick *k)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += EVENT_WAIT_S;
    int rc = 0;
    pthread_mutex_lock(&k->m);
    k->waits++;
    while (!k->pending && rc == 0)
        rc = pthread_cond_timedwait(&k->c, &k->m, &dl);
    bool got = k->pending;
    k->pending = false;
    pthread_mutex_unlock(&k->m);
    return got ? 0 : -ETIMEDOUT;
}

struct duo {
    struct fx *x;
    struct kick to_back, to_front;
    atomic_int err;
    char why[160];
    uint32_t front_got, back_got;
};

static void duo_fail(struct duo *d, int code, const char *what, uint32_t a, uint32_t b)
{
    int zero = 0;
    if (atomic_compare_exchange_strong(&d->err, &zero, code))
        snprintf(d->why, sizeof(d->why), "%s (%u, %u)", what, a, b);
}

static void *front_thread(void *arg)
{
    struct duo *d = arg;
    struct sq_front *f = &d->x->f;
    uint32_t sent = 0, got = 0;
    while (got < MSGS && !atomic_load(&d->err)) {
        uint32_t made = 0;
        while (sent < MSGS && !FV_RING_FULL(f)) {
            struct sq_req *r = FV_RING_GET_REQUEST(f, f->req_prod_pvt++);
            r->seq = sent;
            r->val = sent ^ 0x5A5A5A5Au;
            sent++;
            made++;
        }
        if (made) {
            bool notify;
            FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(f, notify);
            if (notify)
                kick(&d->to_back);
        }
        uint32_t n = FV_RING_HAS_UNCONSUMED_RESPONSES(f);
        bool progress = made || n;
        for (; n; n--) {
            struct sq_rsp p;
            FV_RING_COPY_RESPONSE(f, f->rsp_cons, &p);
            if (p.seq != got || p.val != got * 3u)
                duo_fail(d, 1, "front: response out of order (expected, got)", got, p.seq);
            got++;
            f->rsp_cons++;
        }
        if (got == MSGS)
            break;
        if (progress)
            continue;                       /* maybe more room, more responses */
        int work;
        FV_RING_FINAL_CHECK_FOR_RESPONSES(f, work);
        if (!work && wait_kick(&d->to_front))
            duo_fail(d, 2, "front: lost wake-up (sent, got)", sent, got);
    }
    d->front_got = got;
    kick(&d->to_back);                      /* in case the back waits after an error */
    return NULL;
}

static void *back_thread(void *arg)
{
    struct duo *d = arg;
    struct sq_back *b = &d->x->b;
    uint32_t got = 0;
    while (got < MSGS && !atomic_load(&d->err)) {
        uint32_t prod = FV_RING_REQ_PROD(b);
        if (FV_RING_REQUEST_PROD_OVERFLOW(b, prod)) {
            duo_fail(d, 3, "back: producer overflow (prod, cons)", prod, b->req_cons);
            break;
        }
        uint32_t n = 0;
        while (b->req_cons != prod && !FV_RING_REQUEST_CONS_OVERFLOW(b, b->req_cons)) {
            struct sq_req q;
            FV_RING_COPY_REQUEST(b, b->req_cons, &q);
            b->req_cons++;
            if (q.seq != got || q.val != (got ^ 0x5A5A5A5Au))
                duo_fail(d, 4, "back: request out of order (expected, got)", got, q.seq);
            struct sq_rsp *p = FV_RING_GET_RESPONSE(b, b->rsp_prod_pvt++);
            p->seq = q.seq;
            p->val = q.seq * 3u;
            got++;
            n++;
        }
        if (n) {
            bool notify;
            FV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(b, notify);
            if (notify)
                kick(&d->to_front);
            continue;
        }
        int work;
        FV_RING_FINAL_CHECK_FOR_REQUESTS(b, work);
        if (!work && wait_kick(&d->to_back))
            duo_fail(d, 5, "back: lost wake-up (got, req_cons)", got, b->req_cons);
    }
    d->back_got = got;
    kick(&d->to_front);
    return NULL;
}

static void test_threads_million(void **st)
{
    struct duo *d = calloc(1, sizeof(*d));
    d->x = *st;
    pthread_mutex_init(&d->to_back.m, NULL);
    pthread_cond_init(&d->to_back.c, NULL);
    pthread_mutex_init(&d->to_front.m, NULL);
    pthread_cond_init(&d->to_front.c, NULL);
    pthread_t tf, tb;
    double t0 = tu_now();
    pthread_create(&tb, NULL, back_thread, d);
    pthread_create(&tf, NULL, front_thread, d);
    tu_join(tf, 240, "ring: the front thread");
    tu_join(tb, TU_WAIT_S, "ring: the back thread");
    double dt = tu_now() - t0;
    if (atomic_load(&d->err))
        fail_msg("ring threads: %s", d->why);
    printf("ring: %u requests in %.3f s (%.0f/s); notifications to back %ld, to front %ld; "
           "waits back %ld, front %ld\n", MSGS, dt, MSGS / dt, d->to_back.sent, d->to_front.sent,
           d->to_back.waits, d->to_front.waits);
    assert_int_equal(d->front_got, MSGS);
    assert_int_equal(d->back_got, MSGS);
    assert_int_equal(d->x->f.req_prod_pvt, MSGS);
    assert_int_equal(d->x->b.req_cons, MSGS);
    assert_int_equal(d->x->s->req_prod, MSGS);
    assert_int_equal(d->x->s->rsp_prod, MSGS);
    assert_int_equal(FV_RING_FREE_REQUESTS(&d->x->f), SQ);
    pthread_cond_destroy(&d->to_back.c);
    pthread_mutex_destroy(&d->to_back.m);
    pthread_cond_destroy(&d->to_front.c);
    pthread_mutex_destroy(&d->to_front.m);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout_and_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_requests_notify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push_responses_notify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_final_check_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_final_check_responses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_final_check_sees_late_request, il_setup, il_teardown),
        cmocka_unit_test_setup_teardown(test_final_check_sees_late_response, il_setup, il_teardown),
        cmocka_unit_test_setup_teardown(test_push_reads_event_after_publish, il_setup, il_teardown),
        cmocka_unit_test_setup_teardown(test_push_responses_reads_event_after_publish, il_setup,
                                        il_teardown),
        cmocka_unit_test_setup_teardown(test_unconsumed_hostile_prod, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cons_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrap_full_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrap_odd_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrap_from_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_request_private, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_million, setup, teardown),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
