/* evtchn.h — event channels (Xen semantics, 2-level ABI), engine-independent.
 *
 * Each domain has a table of ports. Port 0 is reserved (never allocated,
 * always invalid). Ports are allocated lowest-free-first in buckets of 64,
 * grown on demand up to a per-domain limit fixed at creation (default 1024,
 * at most 4096 as Xen's 2-level ABI on 64-bit); past it, -ENOSPC. A port is
 * FREE, UNBOUND (waiting for a named remote domain to bind it) or
 * INTERDOMAIN (bound to a remote domain's port); VIRQ is reserved for later.
 * Each port has a pending bit, a mask bit and the vCPU it notifies (vCPU 0
 * unless rebound).
 *
 * Sending on an INTERDOMAIN port sets the remote port pending; when that
 * bit goes from clear to set and the port is not masked, the engine's
 * notify(ctx, remote_domid, vcpu) wakes the vCPU. Unmasking a pending port
 * notifies too. A guest's event loop clears pending bits with
 * evtchn_test_and_clear_pending; block asks evtchn_pending_any first.
 *
 * Domains are found through the domain table (domtab.h): the entry's
 * `evtchn` is the struct evtchn_dom made here. Every call below takes the
 * calling domain's id (`dom`, from the engine: trusted to be the caller,
 * but still looked up) and untrusted guest arguments, all validated. They
 * return a port number (>= 1), 0, or -errno:
 *   -ESRCH  a domain does not exist (or is being destroyed)
 *   -EINVAL a bad port number, a port in the wrong state, a port not meant
 *           for the caller
 *   -ENOSPC no free port; -ENOENT bad vCPU (bind_vcpu)
 *
 * Locking:
 *   - Every call runs inside a domtab read-side section (taken here), so
 *     a domain found by id stays allocated for the call. The calling
 *     thread must be domtab_thread_online().
 *   - Port state (state, remote domain and port) changes only under the
 *     owning domain's spinlock `lock`. An operation touching two domains
 *     (bind, close of an INTERDOMAIN port) holds both locks, taken in
 *     (domid, address) order, so two concurrent binds/closes cannot
 *     deadlock. close drops its own lock to take both, then re-checks.
 *   - send holds only the sender's lock: a binding cannot change while
 *     either end's lock is held (undoing it needs both), so the remote
 *     port is stable without the remote's lock.
 *   - Pending and mask bits are C11 atomic bitmaps, changed without locks:
 *       send's fetch_or(pending) (seq_cst, so also a release) pairs with
 *       test_and_clear's fetch_and(pending) (acquire): whatever the sender
 *       wrote before sending (a ring's requests) is visible to a guest once
 *       it sees the bit.
 *       send (fetch_or pending; load mask) against unmask (fetch_and mask;
 *       load pending) is a store-buffering pattern: all four are seq_cst so
 *       at least one side sees the other's write, and the event is notified
 *       (possibly twice: a wake-up is idempotent), never lost.
 *       pending_any loads pending and mask seq_cst: an engine that stores
 *       "vCPU is blocking" seq_cst before calling it, and whose notify
 *       reads that flag, cannot miss a wake-up.
 *   - A port bucket is published with a release store under the lock and
 *     read lock-free with acquire (send reading the remote port's vCPU,
 *     pending_any, unmask); buckets are freed only by evtchn_dom_free.
 *   - The notify vCPU is an atomic int (rebound under the owner's lock,
 *     read lock-free by senders); counters are relaxed atomics.
 *   - notify is called with no evtchn lock held, inside the read-side
 *     section: it may take the scheduler's locks and look up the domain,
 *     and must not call domtab_remove or synchronize_rcu.
 *
 * Destroying a domain: evtchn_dom_teardown (closes every port: peers go
 * back to UNBOUND, no new port can be made), then domtab_remove, then
 * evtchn_dom_free.
 */
#ifndef FV_EVTCHN_H
#define FV_EVTCHN_H

#include <stdint.h>

#include "domtab.h"

#define EVTCHN_PORTS_DEFAULT 1024
#define EVTCHN_PORTS_MAX 4096
#define EVTCHN_BUCKET 64            /* ports allocated together */

enum evtchn_state {
    EVTCHN_FREE,
    EVTCHN_RESERVED,                /* port 0 */
    EVTCHN_UNBOUND,
    EVTCHN_INTERDOMAIN,
    EVTCHN_VIRQ,                    /* later */
};

/* Wake vCPU `vcpu` of domain `domid`: an event became pending for it. */
typedef void (*evtchn_notify_fn)(void *ctx, int domid, int vcpu);

struct evtchn_tab {
    struct domtab *dt;
    evtchn_notify_fn notify;
    void *ctx;
};

struct evtchn_counters {
    uint64_t sent;                  /* sends on INTERDOMAIN ports */
    uint64_t received;              /* events set pending on this domain */
    uint64_t coalesced;             /* ...of which found the port already pending */
    uint64_t dropped;               /* sends on UNBOUND ports */
};

struct evtchn_status {
    enum evtchn_state state;
    int remote_dom;                 /* UNBOUND: who may bind; INTERDOMAIN: peer */
    int remote_port;                /* INTERDOMAIN */
    int vcpu;
    int pending, masked;
};

struct evtchn_dom;

void evtchn_tab_init(struct evtchn_tab *t, struct domtab *dt, evtchn_notify_fn notify,
                     void *ctx);

/* Per-domain state for domain `domid` with nr_vcpus vCPUs (>= 1) and up to
 * max_ports ports (0: EVTCHN_PORTS_DEFAULT; rounded up to a multiple of
 * EVTCHN_BUCKET; at most EVTCHN_PORTS_MAX). NULL with errno EINVAL/ENOMEM. */
struct evtchn_dom *evtchn_dom_create(int domid, int nr_vcpus, int max_ports);
/* Close every port and refuse new ones (-ESRCH). */
void evtchn_dom_teardown(struct evtchn_tab *t, struct evtchn_dom *d);
void evtchn_dom_free(struct evtchn_dom *d);
void evtchn_dom_counters(const struct evtchn_dom *d, struct evtchn_counters *out);
int evtchn_dom_max_ports(const struct evtchn_dom *d);

/* ---- the hypercalls (engines call these from guest_evtchn_*) ---------------- */

/* A new port of `dom`, UNBOUND, that remote_domid (DOMID_SELF: dom) may bind. */
int evtchn_alloc_unbound(struct evtchn_tab *t, int dom, int remote_domid);
/* A new port of `dom` bound to (remote_domid, remote_port), which must be
 * UNBOUND for `dom`. Both ends become INTERDOMAIN; the new local port is
 * set pending (as Xen does, so nothing sent before the bind is missed). */
int evtchn_bind_interdomain(struct evtchn_tab *t, int dom, int remote_domid, int remote_port);
/* Notify the peer. UNBOUND: dropped (counted), returns 0. */
int evtchn_send(struct evtchn_tab *t, int dom, int port);
/* Free the port; an INTERDOMAIN peer goes back to UNBOUND for `dom`. */
int evtchn_close(struct evtchn_tab *t, int dom, int port);
int evtchn_mask(struct evtchn_tab *t, int dom, int port);
/* Clears the mask; if the port is pending, notifies its vCPU. */
int evtchn_unmask(struct evtchn_tab *t, int dom, int port);
/* 1 if the port was pending (now cleared), 0 if not, or -errno. */
int evtchn_test_and_clear_pending(struct evtchn_tab *t, int dom, int port);
/* Notify `vcpu` (0 .. nr_vcpus-1) instead for an UNBOUND/INTERDOMAIN port. */
int evtchn_bind_vcpu(struct evtchn_tab *t, int dom, int port, int vcpu);
int evtchn_status(struct evtchn_tab *t, int dom, int port, struct evtchn_status *out);

/* 1 if some pending, unmasked port of `dom` notifies `vcpu`, else 0, or
 * -ESRCH. Lock-free; cost: one pass over the allocated ports' bitmap words
 * (16 words for 1024 ports). */
int evtchn_pending_any(struct evtchn_tab *t, int dom, int vcpu);

#endif
