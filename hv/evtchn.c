/* evtchn.c — event channels (see evtchn.h for semantics and Locking). */
#include "evtchn.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#define NR_BUCKETS (EVTCHN_PORTS_MAX / EVTCHN_BUCKET)

struct evtchn_port {
    uint8_t state;                  /* enum evtchn_state; under the lock */
    uint16_t remote_dom;            /* under the lock */
    uint16_t remote_port;           /* under the lock */
    _Atomic int vcpu;               /* read lock-free by senders */
};

struct evtchn_dom {
    int id;
    int nr_vcpus;
    int max_ports;                  /* multiple of EVTCHN_BUCKET */
    pthread_spinlock_t lock;
    atomic_bool dying;
    _Atomic int nr_valid;           /* ports with a bucket (multiple of 64) */
    _Atomic(struct evtchn_port *) bucket[NR_BUCKETS];
    _Atomic uint64_t *pending;      /* max_ports bits */
    _Atomic uint64_t *mask;
    _Atomic uint64_t sent, received, coalesced, dropped;
};

/* Whom to notify once the locks are dropped (domid < 0: nobody). */
struct note {
    int domid, vcpu;
};

#define NO_NOTE ((struct note){ -1, 0 })

static void cnt(_Atomic uint64_t *c) { atomic_fetch_add_explicit(c, 1, memory_order_relaxed); }
static uint64_t bit_of(int port) { return 1ULL << (port % 64); }

/* ---- creation ------------------------------------------------------------------ */

void evtchn_tab_init(struct evtchn_tab *t, struct domtab *dt, evtchn_notify_fn notify,
                     void *ctx)
{
    *t = (struct evtchn_tab){ .dt = dt, .notify = notify, .ctx = ctx };
}

/* Caller holds d->lock (or owns d alone). */
static int add_bucket(struct evtchn_dom *d)
{
    int n = atomic_load_explicit(&d->nr_valid, memory_order_relaxed);
    if (n >= d->max_ports)
        return -ENOSPC;
    struct evtchn_port *b = calloc(EVTCHN_BUCKET, sizeof(*b));
    if (!b)
        return -ENOMEM;
    for (int i = 0; i < EVTCHN_BUCKET; i++)
        atomic_init(&b[i].vcpu, 0);
    /* release: an initialised bucket before its pointer and the new count */
    atomic_store_explicit(&d->bucket[n / EVTCHN_BUCKET], b, memory_order_release);
    atomic_store_explicit(&d->nr_valid, n + EVTCHN_BUCKET, memory_order_release);
    return 0;
}

static int round_ports(int max_ports)
{
    if (max_ports == 0)
        return EVTCHN_PORTS_DEFAULT;
    if (max_ports < 0 || max_ports > EVTCHN_PORTS_MAX)
        return -EINVAL;
    return (max_ports + EVTCHN_BUCKET - 1) / EVTCHN_BUCKET * EVTCHN_BUCKET;
}

struct evtchn_dom *evtchn_dom_create(int domid, int nr_vcpus, int max_ports)
{
    int maxp = round_ports(max_ports);
    if (domid < 0 || domid >= DOMID_FIRST_RESERVED || nr_vcpus < 1 || maxp < 0) {
        errno = EINVAL;
        return NULL;
    }
    struct evtchn_dom *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->id = domid;
    d->nr_vcpus = nr_vcpus;
    d->max_ports = maxp;
    pthread_spin_init(&d->lock, PTHREAD_PROCESS_PRIVATE);
    size_t words = (size_t)maxp / 64;
    d->pending = calloc(words, sizeof(*d->pending));
    d->mask = calloc(words, sizeof(*d->mask));
    if (!d->pending || !d->mask || add_bucket(d)) {
        evtchn_dom_free(d);
        errno = ENOMEM;
        return NULL;
    }
    for (size_t w = 0; w < words; w++) {
        atomic_init(&d->pending[w], 0);
        atomic_init(&d->mask[w], 0);
    }
    atomic_load_explicit(&d->bucket[0], memory_order_relaxed)[0].state = EVTCHN_RESERVED;
    return d;
}

void evtchn_dom_free(struct evtchn_dom *d)
{
    if (!d)
        return;
    for (int i = 0; i < NR_BUCKETS; i++)
        free(atomic_load_explicit(&d->bucket[i], memory_order_relaxed));
    free(d->pending);
    free(d->mask);
    pthread_spin_destroy(&d->lock);
    free(d);
}

void evtchn_dom_counters(const struct evtchn_dom *d, struct evtchn_counters *out)
{
    struct evtchn_dom *m = (struct evtchn_dom *)d;   /* atomic loads take non-const */
    out->sent = atomic_load_explicit(&m->sent, memory_order_relaxed);
    out->received = atomic_load_explicit(&m->received, memory_order_relaxed);
    out->coalesced = atomic_load_explicit(&m->coalesced, memory_order_relaxed);
    out->dropped = atomic_load_explicit(&m->dropped, memory_order_relaxed);
}

int evtchn_dom_max_ports(const struct evtchn_dom *d) { return d->max_ports; }

/* ---- helpers -------------------------------------------------------------------- */

/* The domain's event-channel state, or NULL. Inside a read-side section. */
static struct evtchn_dom *dom_get(const struct evtchn_tab *t, int domid)
{
    const struct domtab_entry *e = domtab_lookup(t->dt, domid);
    return e ? e->evtchn : NULL;
}

/* The port's slot, or NULL for 0, out of range, or not yet allocated. */
static struct evtchn_port *port_ptr(struct evtchn_dom *d, int port)
{
    if (port < 1 || port >= d->max_ports)
        return NULL;
    struct evtchn_port *b =
        atomic_load_explicit(&d->bucket[port / EVTCHN_BUCKET], memory_order_acquire);
    return b ? &b[port % EVTCHN_BUCKET] : NULL;
}

static void lock_pair(struct evtchn_dom *a, struct evtchn_dom *b)
{
    if (a == b) {
        pthread_spin_lock(&a->lock);
        return;
    }
    /* a fixed global order: lower domid first (address breaks a tie between
     * two incarnations of one id) */
    if (b->id < a->id || (b->id == a->id && (uintptr_t)b < (uintptr_t)a)) {
        struct evtchn_dom *x = a;
        a = b;
        b = x;
    }
    pthread_spin_lock(&a->lock);
    pthread_spin_lock(&b->lock);
}

static void unlock_pair(struct evtchn_dom *a, struct evtchn_dom *b)
{
    pthread_spin_unlock(&a->lock);
    if (b != a)
        pthread_spin_unlock(&b->lock);
}

/* Lowest FREE port, made fresh (clear bits, vCPU 0); grows by a bucket
 * when full. Caller holds d->lock. */
static int get_free_port(struct evtchn_dom *d)
{
    if (atomic_load_explicit(&d->dying, memory_order_relaxed))
        return -ESRCH;
    int n = atomic_load_explicit(&d->nr_valid, memory_order_relaxed);
    int port = 1;
    while (port < n && port_ptr(d, port)->state != EVTCHN_FREE)
        port++;
    if (port == n) {
        int rc = add_bucket(d);
        if (rc)
            return rc;
    }
    struct evtchn_port *p = port_ptr(d, port);
    atomic_store_explicit(&p->vcpu, 0, memory_order_relaxed);
    atomic_fetch_and_explicit(&d->pending[port / 64], ~bit_of(port), memory_order_relaxed);
    atomic_fetch_and_explicit(&d->mask[port / 64], ~bit_of(port), memory_order_relaxed);
    return port;
}

/* Caller holds d->lock. Clears pending so a reused port starts quiet. */
static void free_port(struct evtchn_dom *d, int port)
{
    struct evtchn_port *p = port_ptr(d, port);
    p->state = EVTCHN_FREE;
    p->remote_dom = 0;
    p->remote_port = 0;
    atomic_fetch_and_explicit(&d->pending[port / 64], ~bit_of(port), memory_order_relaxed);
}

/* Mark d's port pending; fill *n if the vCPU must be woken (the bit went
 * from clear to set on an unmasked port). Returns 1 if it was already
 * pending (the event merges with the earlier one). See Locking for the
 * memory orders. */
static int set_pending(struct evtchn_dom *d, int port, struct note *n)
{
    uint64_t bit = bit_of(port);
    if (atomic_fetch_or_explicit(&d->pending[port / 64], bit, memory_order_seq_cst) & bit)
        return 1;
    if (atomic_load_explicit(&d->mask[port / 64], memory_order_seq_cst) & bit)
        return 0;
    n->domid = d->id;
    n->vcpu = atomic_load_explicit(&port_ptr(d, port)->vcpu, memory_order_relaxed);
    return 0;
}

static void deliver(const struct evtchn_tab *t, struct note n)
{
    if (n.domid >= 0 && t->notify)
        t->notify(t->ctx, n.domid, n.vcpu);
}

static int resolve(int dom, int remote)
{
    return remote == DOMID_SELF ? dom : remote;
}

/* ---- alloc_unbound --------------------------------------------------------------- */

static int alloc_unbound(const struct evtchn_tab *t, int dom, int remote)
{
    struct evtchn_dom *ld = dom_get(t, dom), *rd = dom_get(t, remote);
    if (!ld || !rd || atomic_load_explicit(&rd->dying, memory_order_relaxed))
        return -ESRCH;
    pthread_spin_lock(&ld->lock);
    int port = get_free_port(ld);
    if (port > 0) {
        struct evtchn_port *p = port_ptr(ld, port);
        p->state = EVTCHN_UNBOUND;
        p->remote_dom = (uint16_t)remote;
    }
    pthread_spin_unlock(&ld->lock);
    return port;
}

int evtchn_alloc_unbound(struct evtchn_tab *t, int dom, int remote_domid)
{
    domtab_read_lock();
    int rc = alloc_unbound(t, dom, resolve(dom, remote_domid));
    domtab_read_unlock();
    return rc;
}

/* ---- bind_interdomain ------------------------------------------------------------ */

/* Both locks held. */
static int bind_locked(struct evtchn_dom *ld, struct evtchn_dom *rd, int rport, struct note *n)
{
    if (atomic_load_explicit(&ld->dying, memory_order_relaxed) ||
        atomic_load_explicit(&rd->dying, memory_order_relaxed))
        return -ESRCH;
    struct evtchn_port *rp = port_ptr(rd, rport);
    if (!rp || rp->state != EVTCHN_UNBOUND || rp->remote_dom != ld->id)
        return -EINVAL;
    int lport = get_free_port(ld);
    if (lport < 0)
        return lport;
    struct evtchn_port *lp = port_ptr(ld, lport);
    lp->state = EVTCHN_INTERDOMAIN;
    lp->remote_dom = (uint16_t)rd->id;
    lp->remote_port = (uint16_t)rport;
    rp->state = EVTCHN_INTERDOMAIN;
    rp->remote_dom = (uint16_t)ld->id;
    rp->remote_port = (uint16_t)lport;
    (void)set_pending(ld, lport, n);    /* not an event received: not counted */
    return lport;
}

int evtchn_bind_interdomain(struct evtchn_tab *t, int dom, int remote_domid, int remote_port)
{
    struct note n = NO_NOTE;
    domtab_read_lock();
    int remote = resolve(dom, remote_domid);
    struct evtchn_dom *ld = dom_get(t, dom);
    struct evtchn_dom *rd = remote == dom ? ld : dom_get(t, remote);
    int rc;
    if (!ld || !rd)
        rc = -ESRCH;
    else if (remote_port < 1 || remote_port >= rd->max_ports)
        rc = -EINVAL;
    else {
        lock_pair(ld, rd);
        rc = bind_locked(ld, rd, remote_port, &n);
        unlock_pair(ld, rd);
    }
    deliver(t, n);
    domtab_read_unlock();
    return rc;
}

/* ---- send ------------------------------------------------------------------------ */

static int send_locked(const struct evtchn_tab *t, struct evtchn_dom *ld, int port,
                       struct note *n)
{
    struct evtchn_port *p = port_ptr(ld, port);
    if (!p)
        return -EINVAL;
    switch (p->state) {
    case EVTCHN_UNBOUND:
        cnt(&ld->dropped);          /* as Xen: silently dropped */
        return 0;
    case EVTCHN_INTERDOMAIN: {
        /* The binding holds while we hold ld's lock (undoing it takes both),
         * and teardown undoes it before the peer leaves the table. */
        struct evtchn_dom *rd = dom_get(t, p->remote_dom);
        if (!rd) {                  /* only if a peer skipped teardown */
            cnt(&ld->dropped);
            return 0;
        }
        cnt(&ld->sent);
        cnt(&rd->received);
        if (set_pending(rd, p->remote_port, n))
            cnt(&rd->coalesced);
        return 0;
    }
    default:                        /* FREE, RESERVED, VIRQ */
        return -EINVAL;
    }
}

int evtchn_send(struct evtchn_tab *t, int dom, int port)
{
    struct note n = NO_NOTE;
    domtab_read_lock();
    struct evtchn_dom *ld = dom_get(t, dom);
    int rc = -ESRCH;
    if (ld) {
        pthread_spin_lock(&ld->lock);
        rc = send_locked(t, ld, port, &n);
        pthread_spin_unlock(&ld->lock);
    }
    deliver(t, n);
    domtab_read_unlock();
    return rc;
}

/* ---- close ------------------------------------------------------------------------ */

static bool still_bound(const struct evtchn_port *p, int rid, int rport)
{
    return p->state == EVTCHN_INTERDOMAIN && p->remote_dom == rid && p->remote_port == rport;
}

/* Close an INTERDOMAIN port whose peer is (rid, rport), read under ld's
 * lock, which the caller has dropped. 1: done; 0: it changed, try again. */
static int close_interdomain(const struct evtchn_tab *t, struct evtchn_dom *ld, int port,
                             int rid, int rport)
{
    struct evtchn_dom *rd = dom_get(t, rid);
    if (!rd)
        rd = ld;                    /* peer gone without teardown: ours alone */
    lock_pair(ld, rd);
    struct evtchn_port *p = port_ptr(ld, port);
    int done = still_bound(p, rid, rport);
    if (done) {
        struct evtchn_port *rp = rd->id == rid ? port_ptr(rd, rport) : NULL;
        if (rp && still_bound(rp, ld->id, port)) {
            rp->state = EVTCHN_UNBOUND;     /* as Xen: the peer may rebind */
            rp->remote_dom = (uint16_t)ld->id;
            rp->remote_port = 0;
        }
        free_port(ld, port);
    }
    unlock_pair(ld, rd);
    return done;
}

static int close_port(const struct evtchn_tab *t, struct evtchn_dom *ld, int port)
{
    for (;;) {
        pthread_spin_lock(&ld->lock);
        struct evtchn_port *p = port_ptr(ld, port);
        if (!p || p->state == EVTCHN_FREE || p->state == EVTCHN_RESERVED) {
            pthread_spin_unlock(&ld->lock);
            return -EINVAL;
        }
        if (p->state != EVTCHN_INTERDOMAIN) {
            free_port(ld, port);
            pthread_spin_unlock(&ld->lock);
            return 0;
        }
        int rid = p->remote_dom, rport = p->remote_port;
        /* Both locks are needed, in order: drop ours, take both, re-check. */
        pthread_spin_unlock(&ld->lock);
        if (close_interdomain(t, ld, port, rid, rport))
            return 0;
    }
}

int evtchn_close(struct evtchn_tab *t, int dom, int port)
{
    domtab_read_lock();
    struct evtchn_dom *ld = dom_get(t, dom);
    int rc = ld ? close_port(t, ld, port) : -ESRCH;
    domtab_read_unlock();
    return rc;
}

void evtchn_dom_teardown(struct evtchn_tab *t, struct evtchn_dom *d)
{
    pthread_spin_lock(&d->lock);
    atomic_store_explicit(&d->dying, true, memory_order_relaxed);
    pthread_spin_unlock(&d->lock);
    /* No port can be allocated from here on, so nr_valid is final. */
    int n = atomic_load_explicit(&d->nr_valid, memory_order_relaxed);
    domtab_read_lock();
    for (int port = 1; port < n; port++)
        (void)close_port(t, d, port);
    domtab_read_unlock();
}

/* ---- mask, pending, vCPU ------------------------------------------------------------ */

/* The domain and a checked port for the lock-free bit operations. */
static struct evtchn_dom *dom_port(const struct evtchn_tab *t, int dom, int port, int *rc)
{
    struct evtchn_dom *d = dom_get(t, dom);
    *rc = !d ? -ESRCH : !port_ptr(d, port) ? -EINVAL : 0;
    return *rc ? NULL : d;
}

int evtchn_mask(struct evtchn_tab *t, int dom, int port)
{
    int rc;
    domtab_read_lock();
    struct evtchn_dom *d = dom_port(t, dom, port, &rc);
    if (d)
        atomic_fetch_or_explicit(&d->mask[port / 64], bit_of(port), memory_order_seq_cst);
    domtab_read_unlock();
    return rc;
}

int evtchn_unmask(struct evtchn_tab *t, int dom, int port)
{
    struct note n = NO_NOTE;
    int rc;
    domtab_read_lock();
    struct evtchn_dom *d = dom_port(t, dom, port, &rc);
    uint64_t bit = bit_of(port);
    /* Notify only on a masked -> unmasked change of a pending port (Xen). */
    if (d && (atomic_fetch_and_explicit(&d->mask[port / 64], ~bit, memory_order_seq_cst) & bit) &&
        (atomic_load_explicit(&d->pending[port / 64], memory_order_seq_cst) & bit)) {
        n.domid = d->id;
        n.vcpu = atomic_load_explicit(&port_ptr(d, port)->vcpu, memory_order_relaxed);
    }
    deliver(t, n);
    domtab_read_unlock();
    return rc;
}

int evtchn_test_and_clear_pending(struct evtchn_tab *t, int dom, int port)
{
    int rc;
    domtab_read_lock();
    struct evtchn_dom *d = dom_port(t, dom, port, &rc);
    if (d) {
        uint64_t bit = bit_of(port);
        /* acquire: pairs with send's fetch_or (see Locking) */
        rc = !!(atomic_fetch_and_explicit(&d->pending[port / 64], ~bit, memory_order_acquire) &
                bit);
    }
    domtab_read_unlock();
    return rc;
}

int evtchn_bind_vcpu(struct evtchn_tab *t, int dom, int port, int vcpu)
{
    domtab_read_lock();
    struct evtchn_dom *d = dom_get(t, dom);
    int rc = -ESRCH;
    if (d && (vcpu < 0 || vcpu >= d->nr_vcpus))
        rc = -ENOENT;
    else if (d) {
        pthread_spin_lock(&d->lock);
        struct evtchn_port *p = port_ptr(d, port);
        rc = -EINVAL;
        if (p && (p->state == EVTCHN_UNBOUND || p->state == EVTCHN_INTERDOMAIN)) {
            atomic_store_explicit(&p->vcpu, vcpu, memory_order_relaxed);
            rc = 0;
        }
        pthread_spin_unlock(&d->lock);
    }
    domtab_read_unlock();
    return rc;
}

int evtchn_status(struct evtchn_tab *t, int dom, int port, struct evtchn_status *out)
{
    int rc;
    domtab_read_lock();
    struct evtchn_dom *d = dom_port(t, dom, port, &rc);
    if (d) {
        pthread_spin_lock(&d->lock);
        struct evtchn_port *p = port_ptr(d, port);
        uint64_t bit = bit_of(port);
        *out = (struct evtchn_status){
            .state = p->state, .remote_dom = p->remote_dom, .remote_port = p->remote_port,
            .vcpu = atomic_load_explicit(&p->vcpu, memory_order_relaxed),
            .pending = !!(atomic_load(&d->pending[port / 64]) & bit),
            .masked = !!(atomic_load(&d->mask[port / 64]) & bit),
        };
        pthread_spin_unlock(&d->lock);
    }
    domtab_read_unlock();
    return rc;
}

/* Does a pending, unmasked port in this word notify vcpu? */
static bool word_hits(struct evtchn_dom *d, int w, int vcpu)
{
    uint64_t bits = atomic_load_explicit(&d->pending[w], memory_order_seq_cst) &
                    ~atomic_load_explicit(&d->mask[w], memory_order_seq_cst);
    while (bits) {
        int port = w * 64 + __builtin_ctzll(bits);
        bits &= bits - 1;
        struct evtchn_port *p = port_ptr(d, port);
        if (p && atomic_load_explicit(&p->vcpu, memory_order_relaxed) == vcpu)
            return true;
    }
    return false;
}

int evtchn_pending_any(struct evtchn_tab *t, int dom, int vcpu)
{
    domtab_read_lock();
    struct evtchn_dom *d = dom_get(t, dom);
    int rc = d ? 0 : -ESRCH;
    if (d) {
        int words = atomic_load_explicit(&d->nr_valid, memory_order_acquire) / 64;
        for (int w = 0; w < words && !rc; w++)
            rc = word_hits(d, w, vcpu);
    }
    domtab_read_unlock();
    return rc;
}
