/* test_evtchn.c — event channels: Xen's error rules for alloc/bind/send/
 * close, pending and mask bits and when the engine is notified, counters,
 * port exhaustion, teardown, and threads: a 1,000,000 round-trip ping-pong
 * between two domains, binds/closes racing sends, and a domain destroyed
 * and re-created while a peer keeps sending. */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hv/domtab.h"
#include "hv/evtchn.h"

/* ---- fixture: domains 1, 2, 3 with 2 vCPUs each, a fake notify ----------------- */

#define MAX_NOTES 64

struct fx {
    struct domtab *dt;
    struct evtchn_tab t;
    atomic_int notes;               /* notifications so far */
    int note_dom[MAX_NOTES], note_vcpu[MAX_NOTES];  /* the first ones */
};

static void fake_notify(void *ctx, int domid, int vcpu)
{
    struct fx *f = ctx;
    int i = atomic_fetch_add(&f->notes, 1);
    if (i < MAX_NOTES) {
        f->note_dom[i] = domid;
        f->note_vcpu[i] = vcpu;
    }
}

static void add_dom(struct fx *f, int id, int max_ports)
{
    struct evtchn_dom *d = evtchn_dom_create(id, 2, max_ports);
    assert_non_null(d);
    assert_int_equal(domtab_insert(f->dt, id, NULL, d), 0);
}

static void free_dom(int id, void *dom, struct evtchn_dom *ev, void *arg)
{
    (void)id;
    (void)dom;
    (void)arg;
    evtchn_dom_free(ev);
}

static int setup(void **st)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->dt = domtab_create(64);
    evtchn_tab_init(&f->t, f->dt, fake_notify, f);
    domtab_thread_online();
    for (int id = 1; id <= 3; id++)
        add_dom(f, id, 0);
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    struct fx *f = *st;
    domtab_thread_offline();
    domtab_destroy(f->dt, free_dom, NULL);
    free(f);
    return 0;
}

static void clear_notes(struct fx *f)
{
    atomic_store(&f->notes, 0);
}

static struct evtchn_counters counters(struct fx *f, int id)
{
    struct evtchn_counters c;
    domtab_read_lock();
    evtchn_dom_counters(domtab_lookup(f->dt, id)->evtchn, &c);
    domtab_read_unlock();
    return c;
}

static struct evtchn_status status(struct fx *f, int dom, int port)
{
    struct evtchn_status s;
    assert_int_equal(evtchn_status(&f->t, dom, port, &s), 0);
    return s;
}

/* dom a allocates for b; b binds; both ends' ports; bind's pending cleared. */
static void connect(struct fx *f, int a, int b, int *pa, int *pb)
{
    *pa = evtchn_alloc_unbound(&f->t, a, b);
    assert_true(*pa >= 1);
    *pb = evtchn_bind_interdomain(&f->t, b, a, *pa);
    assert_true(*pb >= 1);
    assert_int_equal(evtchn_test_and_clear_pending(&f->t, b, *pb), 1);
    clear_notes(f);
}

/* ---- the rules -------------------------------------------------------------------- */

static void test_alloc_unbound_unknown_domain(void **st)
{
    struct fx *f = *st;
    assert_int_equal(evtchn_alloc_unbound(&f->t, 1, 9), -ESRCH);
    assert_int_equal(evtchn_alloc_unbound(&f->t, 1, -1), -ESRCH);
    assert_int_equal(evtchn_alloc_unbound(&f->t, 1, 0x7FFF), -ESRCH);
    assert_int_equal(evtchn_alloc_unbound(&f->t, 9, 1), -ESRCH);   /* caller unknown */
    int p = evtchn_alloc_unbound(&f->t, 1, 2);
    assert_int_equal(p, 1);                 /* lowest free; port 0 is reserved */
    struct evtchn_status s = status(f, 1, p);
    assert_int_equal(s.state, EVTCHN_UNBOUND);
    assert_int_equal(s.remote_dom, 2);
    assert_int_equal(evtchn_alloc_unbound(&f->t, 1, DOMID_SELF), 2);
    assert_int_equal(status(f, 1, 2).remote_dom, 1);
}

static void test_bind_not_meant_for_me(void **st)
{
    struct fx *f = *st;
    int p = evtchn_alloc_unbound(&f->t, 1, 2);
    assert_int_equal(evtchn_bind_interdomain(&f->t, 3, 1, p), -EINVAL);
    assert_int_equal(status(f, 1, p).state, EVTCHN_UNBOUND);    /* untouched */
    assert_true(evtchn_bind_interdomain(&f->t, 2, 1, p) >= 1);
}

static void test_bind_already_bound(void **st)
{
    struct fx *f = *st;
    int p = evtchn_alloc_unbound(&f->t, 1, 2);
    int l = evtchn_bind_interdomain(&f->t, 2, 1, p);
    assert_true(l >= 1);
    assert_int_equal(evtchn_bind_interdomain(&f->t, 2, 1, p), -EINVAL);
    struct evtchn_status s = status(f, 1, p);
    assert_int_equal(s.state, EVTCHN_INTERDOMAIN);
    assert_int_equal(s.remote_dom, 2);
    assert_int_equal(s.remote_port, l);
    assert_int_equal(status(f, 2, l).remote_port, p);
}

static void test_bind_bad_arguments(void **st)
{
    struct fx *f = *st;
    int p = evtchn_alloc_unbound(&f->t, 1, 2);
    assert_int_equal(evtchn_bind_interdomain(&f->t, 2, 9, p), -ESRCH);
    assert_int_equal(evtchn_bind_interdomain(&f->t, 2, 1, 0), -EINVAL);     /* reserved */
    assert_int_equal(evtchn_bind_interdomain(&f->t, 2, 1, -1), -EINVAL);
    assert_int_equal(evtchn_bind_interdomain(&f->t, 2, 1, 1024), -EINVAL);  /* out of range */
    assert_int_equal(evtchn_bind_interdomain(&f->t, 2, 1, 70000), -EINVAL);
    assert_int_equal(evtchn_bind_interdomain(&f->t, 2, 1, p + 1), -EINVAL); /* FREE */
    assert_int_equal(evtchn_bind_interdomain(&f->t, 2, 1, 900), -EINVAL);   /* no bucket yet */
}

static void test_bind_sets_local_pending(void **st)
{
    struct fx *f = *st;
    int p = evtchn_alloc_unbound(&f->t, 1, 2);
    clear_notes(f);
    int l = evtchn_bind_interdomain(&f->t, 2, 1, p);
    assert_true(status(f, 2, l).pending);
    assert_false(status(f, 1, p).pending);
    assert_int_equal(f->notes, 1);
    assert_int_equal(f->note_dom[0], 2);
    assert_int_equal(evtchn_test_and_clear_pending(&f->t, 2, l), 1);
    assert_int_equal(evtchn_test_and_clear_pending(&f->t, 2, l), 0);
    assert_int_equal(counters(f, 2).received, 0);   /* nobody sent anything */
}

static void test_loopback_bind(void **st)
{
    struct fx *f = *st;
    int p = evtchn_alloc_unbound(&f->t, 1, DOMID_SELF);
    int l = evtchn_bind_interdomain(&f->t, 1, DOMID_SELF, p);
    assert_true(l >= 1 && l != p);
    evtchn_test_and_clear_pending(&f->t, 1, l);
    assert_int_equal(evtchn_send(&f->t, 1, l), 0);
    assert_int_equal(evtchn_test_and_clear_pending(&f->t, 1, p), 1);
    assert_int_equal(evtchn_close(&f->t, 1, p), 0);
    assert_int_equal(status(f, 1, l).state, EVTCHN_UNBOUND);
}

static void test_send_invalid_port(void **st)
{
    struct fx *f = *st;
    int p = evtchn_alloc_unbound(&f->t, 1, 2);
    int bad[] = { 0, -1, -1000, p + 1, 63, 64, 1023, 1024, 1 << 20 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(evtchn_send(&f->t, 1, bad[i]), -EINVAL);
    assert_int_equal(evtchn_send(&f->t, 9, p), -ESRCH);
    assert_int_equal(f->notes, 0);
}

static void test_send_unbound_dropped(void **st)
{
    struct fx *f = *st;
    int p = evtchn_alloc_unbound(&f->t, 1, 2);
    clear_notes(f);
    assert_int_equal(evtchn_send(&f->t, 1, p), 0);
    assert_int_equal(evtchn_send(&f->t, 1, p), 0);
    assert_int_equal(f->notes, 0);
    struct evtchn_counters c = counters(f, 1);
    assert_int_equal(c.dropped, 2);
    assert_int_equal(c.sent, 0);
    assert_int_equal(counters(f, 2).received, 0);
    assert_false(status(f, 1, p).pending);
}

static void test_send_interdomain_notifies_once(void **st)
{
    struct fx *f = *st;
    int p1, p2;
    connect(f, 1, 2, &p1, &p2);
    assert_int_equal(evtchn_send(&f->t, 1, p1), 0);
    assert_true(status(f, 2, p2).pending);
    assert_false(status(f, 1, p1).pending);
    assert_int_equal(f->notes, 1);
    assert_int_equal(f->note_dom[0], 2);
    assert_int_equal(f->note_vcpu[0], 0);
    /* already pending: merged, no second wake-up */
    assert_int_equal(evtchn_send(&f->t, 1, p1), 0);
    assert_int_equal(f->notes, 1);
    struct evtchn_counters c1 = counters(f, 1), c2 = counters(f, 2);
    assert_int_equal(c1.sent, 2);
    assert_int_equal(c2.received, 2);
    assert_int_equal(c2.coalesced, 1);
    assert_int_equal(c1.dropped + c2.dropped, 0);
    /* rebound to vCPU 1, after the guest consumed the event */
    assert_int_equal(evtchn_test_and_clear_pending(&f->t, 2, p2), 1);
    assert_int_equal(evtchn_bind_vcpu(&f->t, 2, p2, 1), 0);
    assert_int_equal(evtchn_send(&f->t, 1, p1), 0);
    assert_int_equal(f->notes, 2);
    assert_int_equal(f->note_dom[1], 2);
    assert_int_equal(f->note_vcpu[1], 1);
    /* the other direction */
    assert_int_equal(evtchn_send(&f->t, 2, p2), 0);
    assert_int_equal(f->notes, 3);
    assert_int_equal(f->note_dom[2], 1);
}

static void test_masked_port(void **st)
{
    struct fx *f = *st;
    int p1, p2;
    connect(f, 1, 2, &p1, &p2);
    assert_int_equal(evtchn_mask(&f->t, 2, p2), 0);
    assert_int_equal(evtchn_send(&f->t, 1, p1), 0);
    struct evtchn_status s = status(f, 2, p2);
    assert_true(s.pending);
    assert_true(s.masked);
    assert_int_equal(f->notes, 0);
    assert_int_equal(evtchn_pending_any(&f->t, 2, 0), 0);   /* masked: block may sleep */
    assert_int_equal(evtchn_unmask(&f->t, 2, p2), 0);
    assert_int_equal(f->notes, 1);
    assert_int_equal(f->note_dom[0], 2);
    assert_int_equal(f->note_vcpu[0], 0);
    assert_int_equal(evtchn_pending_any(&f->t, 2, 0), 1);
    assert_int_equal(evtchn_unmask(&f->t, 2, p2), 0);      /* not masked: no news */
    assert_int_equal(f->notes, 1);
    /* masking and unmasking a quiet port notifies nobody */
    assert_int_equal(evtchn_test_and_clear_pending(&f->t, 2, p2), 1);
    evtchn_mask(&f->t, 2, p2);
    evtchn_unmask(&f->t, 2, p2);
    assert_int_equal(f->notes, 1);
    assert_int_equal(evtchn_mask(&f->t, 2, 0), -EINVAL);
    assert_int_equal(evtchn_unmask(&f->t, 2, 5000), -EINVAL);
}

static void test_pending_any_per_vcpu(void **st)
{
    struct fx *f = *st;
    int p1, p2;
    connect(f, 1, 2, &p1, &p2);
    assert_int_equal(evtchn_bind_vcpu(&f->t, 2, p2, 1), 0);
    assert_int_equal(evtchn_pending_any(&f->t, 2, 0), 0);
    assert_int_equal(evtchn_pending_any(&f->t, 2, 1), 0);
    evtchn_send(&f->t, 1, p1);
    assert_int_equal(evtchn_pending_any(&f->t, 2, 0), 0);
    assert_int_equal(evtchn_pending_any(&f->t, 2, 1), 1);
    evtchn_test_and_clear_pending(&f->t, 2, p2);
    assert_int_equal(evtchn_pending_any(&f->t, 2, 1), 0);
    assert_int_equal(evtchn_pending_any(&f->t, 9, 0), -ESRCH);
    assert_int_equal(evtchn_bind_vcpu(&f->t, 2, p2, 2), -ENOENT);
    assert_int_equal(evtchn_bind_vcpu(&f->t, 2, p2, -1), -ENOENT);
    assert_int_equal(evtchn_bind_vcpu(&f->t, 2, p2 + 1, 0), -EINVAL);
    assert_int_equal(evtchn_test_and_clear_pending(&f->t, 2, 0), -EINVAL);
    assert_int_equal(evtchn_test_and_clear_pending(&f->t, 2, -3), -EINVAL);
}

static void test_close_makes_peer_unbound(void **st)
{
    struct fx *f = *st;
    int p1, p2;
    connect(f, 1, 2, &p1, &p2);
    evtchn_send(&f->t, 1, p1);              /* pending at 2, to be discarded */
    clear_notes(f);
    assert_int_equal(evtchn_close(&f->t, 2, p2), 0);
    struct evtchn_status s = status(f, 1, p1);
    assert_int_equal(s.state, EVTCHN_UNBOUND);
    assert_int_equal(s.remote_dom, 2);
    assert_int_equal(status(f, 2, p2).state, EVTCHN_FREE);
    assert_false(status(f, 2, p2).pending);
    uint64_t dropped = counters(f, 1).dropped;
    assert_int_equal(evtchn_send(&f->t, 1, p1), 0);         /* dropped */
    assert_int_equal(counters(f, 1).dropped, dropped + 1);
    assert_int_equal(f->notes, 0);
    assert_int_equal(evtchn_send(&f->t, 2, p2), -EINVAL);   /* closed */
    assert_int_equal(evtchn_close(&f->t, 2, p2), -EINVAL);
    assert_int_equal(evtchn_close(&f->t, 2, 0), -EINVAL);
    assert_int_equal(evtchn_close(&f->t, 2, 4096), -EINVAL);
    assert_int_equal(evtchn_close(&f->t, 9, 1), -ESRCH);
    /* the peer's port is UNBOUND for 2 again: 2 may bind it anew */
    int l = evtchn_bind_interdomain(&f->t, 2, 1, p1);
    assert_int_equal(l, p2);                /* lowest free port reused */
    assert_int_equal(evtchn_close(&f->t, 1, p1), 0);       /* unbound side too */
    assert_int_equal(status(f, 2, l).state, EVTCHN_UNBOUND);
    assert_int_equal(evtchn_close(&f->t, 2, l), 0);
}

static void test_port_exhaustion(void **st)
{
    struct fx *f = *st;
    for (int i = 1; i < EVTCHN_PORTS_DEFAULT; i++)
        assert_int_equal(evtchn_alloc_unbound(&f->t, 1, 2), i);
    assert_int_equal(evtchn_alloc_unbound(&f->t, 1, 2), -ENOSPC);
    assert_int_equal(evtchn_bind_interdomain(&f->t, 1, 2, evtchn_alloc_unbound(&f->t, 2, 1)),
                     -ENOSPC);
    assert_int_equal(evtchn_close(&f->t, 1, 500), 0);
    assert_int_equal(evtchn_alloc_unbound(&f->t, 1, 2), 500);
    assert_int_equal(evtchn_alloc_unbound(&f->t, 1, 2), -ENOSPC);
    /* a small domain */
    add_dom(f, 7, 100);                     /* rounded up to 128 */
    for (int i = 1; i < 128; i++)
        assert_int_equal(evtchn_alloc_unbound(&f->t, 7, 1), i);
    assert_int_equal(evtchn_alloc_unbound(&f->t, 7, 1), -ENOSPC);
}

static void test_dom_create_validation(void **st)
{
    (void)st;
    assert_null(evtchn_dom_create(1, 0, 0));
    assert_int_equal(errno, EINVAL);
    assert_null(evtchn_dom_create(1, 1, EVTCHN_PORTS_MAX + 1));
    assert_null(evtchn_dom_create(1, 1, -1));
    assert_null(evtchn_dom_create(DOMID_FIRST_RESERVED, 1, 0));
    struct evtchn_dom *d = evtchn_dom_create(1, 1, EVTCHN_PORTS_MAX);
    assert_int_equal(evtchn_dom_max_ports(d), EVTCHN_PORTS_MAX);
    evtchn_dom_free(d);
}

static void test_teardown(void **st)
{
    struct fx *f = *st;
    int p1, p2, q2;
    connect(f, 1, 2, &p1, &p2);
    q2 = evtchn_alloc_unbound(&f->t, 2, 3);
    int u1 = evtchn_alloc_unbound(&f->t, 1, 2);
    domtab_read_lock();
    struct evtchn_dom *d2 = domtab_lookup(f->dt, 2)->evtchn;
    domtab_read_unlock();
    evtchn_dom_teardown(&f->t, d2);
    assert_int_equal(status(f, 1, p1).state, EVTCHN_UNBOUND);
    assert_int_equal(status(f, 2, q2).state, EVTCHN_FREE);
    assert_int_equal(evtchn_alloc_unbound(&f->t, 2, 1), -ESRCH);
    assert_int_equal(evtchn_alloc_unbound(&f->t, 1, 2), -ESRCH);
    assert_int_equal(evtchn_bind_interdomain(&f->t, 2, 1, u1), -ESRCH);
    assert_int_equal(evtchn_bind_interdomain(&f->t, 3, 2, q2), -ESRCH);
    assert_int_equal(domtab_remove(f->dt, 2, NULL, NULL), 0);
    evtchn_dom_free(d2);
    assert_int_equal(evtchn_send(&f->t, 1, p1), 0);         /* dropped */
    assert_int_equal(evtchn_send(&f->t, 2, p2), -ESRCH);
}

/* ---- threads ---------------------------------------------------------------------- */

#define ROUND_TRIPS 1000000L
/* One event normally arrives within microseconds; one that has not come
 * after this long was lost (a dropped send), and the test fails saying so
 * rather than spinning until ctest's TIMEOUT. */
#define EVENT_WAIT_S 10.0

struct pp {
    struct evtchn_tab *t;
    int dom, port;
    bool starts;
    long n;
    atomic_int *err;
    char why[160];                  /* this side's failure, if any */
};

/* Spin a little, then yield: the peer may share our host CPU. 1: the event
 * came; 0: the peer gave up (err set); < 0: an error code, or -ETIMEDOUT
 * after EVENT_WAIT_S. */
static int wait_event(struct pp *a)
{
    double deadline = 0;
    for (int spins = 0;; spins++) {
        int rc = evtchn_test_and_clear_pending(a->t, a->dom, a->port);
        if (rc)
            return rc;
        if (spins <= 100)
            continue;
        sched_yield();
        if (atomic_load_explicit(a->err, memory_order_relaxed))
            return 0;
        double now = tu_now();
        if (deadline == 0)
            deadline = now + EVENT_WAIT_S;
        else if (now > deadline)
            return -ETIMEDOUT;
    }
}

static void pp_fail(struct pp *a, int code, long i, const char *what, int rc)
{
    if (atomic_exchange(a->err, code))
        return;                     /* the other side failed first */
    snprintf(a->why, sizeof(a->why), "round trip %ld: domain %d port %d: %s (%d%s)", i, a->dom,
             a->port, what, rc, rc == -ETIMEDOUT ? ": no event within 10 s, lost?" : "");
}

static void *pingpong(void *arg)
{
    struct pp *a = arg;
    domtab_thread_online();
    for (long i = 0; i < a->n && !atomic_load_explicit(a->err, memory_order_relaxed); i++) {
        int rc;
        if (!a->starts && (rc = wait_event(a)) != 1 && rc)
            pp_fail(a, 1, i, "waiting for the ping", rc);
        if ((rc = evtchn_send(a->t, a->dom, a->port)))
            pp_fail(a, 2, i, "send", rc);
        if (a->starts && (rc = wait_event(a)) != 1 && rc)
            pp_fail(a, 3, i, "waiting for the pong", rc);
    }
    domtab_thread_offline();
    return NULL;
}

static void test_pingpong_threads(void **st)
{
    struct fx *f = *st;
    int p1, p2;
    connect(f, 1, 2, &p1, &p2);
    atomic_int err = 0;
    struct pp a = { &f->t, 1, p1, true, ROUND_TRIPS, &err, "" };
    struct pp b = { &f->t, 2, p2, false, ROUND_TRIPS, &err, "" };
    pthread_t ta, tb;
    double t0 = tu_now();
    pthread_create(&tb, NULL, pingpong, &b);
    pthread_create(&ta, NULL, pingpong, &a);
    /* Each side gives up EVENT_WAIT_S after the last event it got. */
    tu_join(ta, 240, "evtchn ping-pong: the pinging thread");
    tu_join(tb, 60, "evtchn ping-pong: the answering thread");
    double dt = tu_now() - t0;
    if (atomic_load(&err))
        fail_msg("evtchn ping-pong failed: %s", a.why[0] ? a.why : b.why);
    printf("evtchn ping-pong: %ld round trips in %.3f s = %.0f round trips/s\n", ROUND_TRIPS, dt,
           (double)ROUND_TRIPS / dt);
    struct evtchn_counters c1 = counters(f, 1), c2 = counters(f, 2);
    assert_int_equal(c1.sent, ROUND_TRIPS);
    assert_int_equal(c2.sent, ROUND_TRIPS);
    assert_int_equal(c1.received, ROUND_TRIPS);
    assert_int_equal(c2.received, ROUND_TRIPS);
    assert_int_equal(c1.coalesced + c2.coalesced + c1.dropped + c2.dropped, 0);
    assert_int_equal(atomic_load(&f->notes), 2 * ROUND_TRIPS);    /* one per event */
    assert_false(status(f, 1, p1).pending);
    assert_false(status(f, 2, p2).pending);
}

/* Two threads connect and disconnect 1<->2 (from opposite sides, so the
 * two-domain locks are taken in both directions) while two more send on
 * whatever ports exist. Nothing may deadlock or return an unexpected code. */
#define CHURN_ROUNDS 20000

struct churn {
    struct evtchn_tab *t;
    int a, b;
    atomic_bool *stop;
    atomic_int *err;
};

static void *churner(void *arg)
{
    struct churn *c = arg;
    domtab_thread_online();
    for (int i = 0; i < CHURN_ROUNDS; i++) {
        int pa = evtchn_alloc_unbound(c->t, c->a, c->b);
        int pb = evtchn_bind_interdomain(c->t, c->b, c->a, pa);
        if (pa < 1 || pb < 1)
            atomic_store(c->err, 1);
        if (evtchn_send(c->t, c->a, pa) || evtchn_send(c->t, c->b, pb))
            atomic_store(c->err, 2);
        /* close either end first; the other is UNBOUND then */
        int first = i & 1 ? c->a : c->b, fp = i & 1 ? pa : pb;
        int second = i & 1 ? c->b : c->a, sp = i & 1 ? pb : pa;
        if (evtchn_close(c->t, first, fp) || evtchn_close(c->t, second, sp))
            atomic_store(c->err, 3);
    }
    domtab_thread_offline();
    return NULL;
}

static void *sender(void *arg)
{
    struct churn *c = arg;
    unsigned seed = (unsigned)c->a;
    domtab_thread_online();
    while (!atomic_load(c->stop)) {
        int dom = rand_r(&seed) & 1 ? c->a : c->b, port = (int)(rand_r(&seed) % 8);
        int rc = evtchn_send(c->t, dom, port);
        if (rc && rc != -EINVAL)
            atomic_store(c->err, 4);
        evtchn_test_and_clear_pending(c->t, dom, port);
        evtchn_unmask(c->t, dom, port);
    }
    domtab_thread_offline();
    return NULL;
}

static void test_bind_close_race_sends(void **st)
{
    struct fx *f = *st;
    atomic_bool stop = false;
    atomic_int err = 0;
    struct churn c12 = { &f->t, 1, 2, &stop, &err }, c21 = { &f->t, 2, 1, &stop, &err };
    pthread_t th[4];
    pthread_create(&th[0], NULL, churner, &c12);
    pthread_create(&th[1], NULL, churner, &c21);
    pthread_create(&th[2], NULL, sender, &c12);
    pthread_create(&th[3], NULL, sender, &c21);
    tu_join(th[0], 240, "bind/close churner 1->2 (deadlocked?)");
    tu_join(th[1], 240, "bind/close churner 2->1 (deadlocked?)");
    atomic_store(&stop, true);
    tu_join(th[2], TU_WAIT_S, "sender on 1/2 after stop (deadlocked?)");
    tu_join(th[3], TU_WAIT_S, "sender on 2/1 after stop (deadlocked?)");
    assert_int_equal(atomic_load(&err), 0);
    for (int port = 1; port < 8; port++) {  /* everything closed again */
        assert_int_equal(status(f, 1, port).state, EVTCHN_FREE);
        assert_int_equal(status(f, 2, port).state, EVTCHN_FREE);
    }
}

/* Domain 2 is destroyed and re-created again and again while domain 1
 * keeps sending to it: every send is 0 (delivered or dropped), and ASan
 * sees no use of a freed domain. */
#define REBIRTHS 2000

static void *steady_sender(void *arg)
{
    struct churn *c = arg;
    domtab_thread_online();
    while (!atomic_load(c->stop)) {
        for (int port = 1; port <= 2; port++) {
            int rc = evtchn_send(c->t, c->a, port);
            if (rc && rc != -EINVAL)
                atomic_store(c->err, 1);
        }
    }
    domtab_thread_offline();
    return NULL;
}

static void test_domain_destroyed_while_sending(void **st)
{
    struct fx *f = *st;
    atomic_bool stop = false;
    atomic_int err = 0;
    struct churn c = { &f->t, 1, 2, &stop, &err };
    pthread_t th;
    pthread_create(&th, NULL, steady_sender, &c);
    for (int i = 0; i < REBIRTHS; i++) {
        int p2 = evtchn_alloc_unbound(&f->t, 2, 1);
        int p1 = evtchn_bind_interdomain(&f->t, 1, 2, p2);
        assert_true(p1 >= 1 && p2 >= 1);
        domtab_read_lock();
        struct evtchn_dom *d2 = domtab_lookup(f->dt, 2)->evtchn;
        domtab_read_unlock();
        evtchn_dom_teardown(&f->t, d2);
        assert_int_equal(domtab_remove(f->dt, 2, NULL, NULL), 0);
        evtchn_dom_free(d2);
        assert_int_equal(evtchn_close(&f->t, 1, p1), 0);   /* UNBOUND for the dead 2 */
        add_dom(f, 2, 0);
    }
    atomic_store(&stop, true);
    tu_join(th, TU_WAIT_S, "steady sender after stop (deadlocked?)");
    assert_int_equal(atomic_load(&err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alloc_unbound_unknown_domain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_not_meant_for_me, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_already_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_sets_local_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback_bind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_invalid_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_unbound_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_interdomain_notifies_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_masked_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_any_per_vcpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_makes_peer_unbound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_exhaustion, setup, teardown),
        cmocka_unit_test(test_dom_create_validation),
        cmocka_unit_test_setup_teardown(test_teardown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pingpong_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_close_race_sends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_destroyed_while_sending, setup, teardown),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
