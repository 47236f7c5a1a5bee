/* domtab.h — the domain table: domain id -> domain, read from any thread.
 *
 * Lookups are far more frequent than creations and destructions (every
 * event-channel send looks up two domains), so readers take no lock: the
 * table is an array of pointers published with RCU (liburcu, default
 * "memb" flavour). An entry holds what the engines know a domain by (an
 * opaque pointer to their own domain struct) and the event-channel state
 * (struct evtchn_dom, owned by evtchn.c). Entries are immutable once
 * published: to change one, remove it and insert a new one.
 *
 * Domain ids are Xen's: 0 .. DOMID_FIRST_RESERVED-1 (0x7FEF); 0x7FF0 and up
 * are reserved (DOMID_SELF is 0x7FF0).
 *
 * Locking:
 *   readers  domtab_read_lock(); e = domtab_lookup(t, id); ...use e and
 *            what it points to...; domtab_read_unlock(). A reader thread
 *            calls domtab_thread_online() once before its first read-side
 *            section and domtab_thread_offline() before it exits. Read-side
 *            sections nest and may be taken under any lock; they must not
 *            call domtab_insert/remove (a grace period would wait on itself).
 *   writers  insert and remove serialise on a mutex inside the table.
 *            Publication: domtab_insert fills the entry, then stores the
 *            pointer with release order (rcu_assign_pointer semantics); it
 *            pairs with the acquire load in domtab_lookup, so a reader that
 *            sees the pointer sees the filled entry. Reclamation:
 *            domtab_remove stores NULL, then synchronize_rcu() waits until
 *            every read-side section that could have seen the old pointer
 *            has ended; only then may the caller free the domain.
 *   TSan     ThreadSanitizer cannot see liburcu's grace periods (they are
 *            made of membarrier(2) and plain loads inside the uninstrumented
 *            library), so under -fsanitize=thread the read-unlock releases,
 *            and the end of synchronize_rcu acquires, a token: exactly the
 *            happens-before edge RCU guarantees, no suppressions.
 */
#ifndef FV_DOMTAB_H
#define FV_DOMTAB_H

#define DOMID_FIRST_RESERVED 0x7FF0
#define DOMID_SELF 0x7FF0

struct evtchn_dom;
struct domtab;

struct domtab_entry {
    int id;
    void *dom;                      /* the engine's domain (opaque here) */
    struct evtchn_dom *evtchn;      /* event channels (evtchn.c), may be NULL */
};

/* A table for ids 0 .. max-1 (1 <= max <= DOMID_FIRST_RESERVED). NULL with
 * errno EINVAL (bad max) or ENOMEM. */
struct domtab *domtab_create(int max);

/* Free the table. No reader may still use it. For every entry still
 * present, fn (if not NULL) is called to free what it points to. */
void domtab_destroy(struct domtab *t,
                    void (*fn)(int id, void *dom, struct evtchn_dom *ev, void *arg),
                    void *arg);

/* Publish domain `id`. 0, -EINVAL (id out of range), -EEXIST, -ENOMEM. */
int domtab_insert(struct domtab *t, int id, void *dom, struct evtchn_dom *ev);

/* Unpublish domain `id` and wait for every reader that may still see it
 * (synchronize_rcu), then hand back what the entry pointed to, for the
 * caller to free. 0, -EINVAL (id out of range), -ENOENT. Must not be called
 * inside a read-side section. */
int domtab_remove(struct domtab *t, int id, void **dom, struct evtchn_dom **ev);

/* The entry for `id`, or NULL (absent, removed, or id out of range: ids
 * are untrusted). The caller is inside domtab_read_lock(); the entry and
 * what it points to stay valid until domtab_read_unlock(). */
const struct domtab_entry *domtab_lookup(const struct domtab *t, int id);

/* Number of ids the table holds (its max). */
int domtab_max(const struct domtab *t);

/* Read-side critical section (rcu_read_lock/unlock, plus the TSan edge). */
void domtab_read_lock(void);
void domtab_read_unlock(void);

/* Register / unregister the calling thread as an RCU reader. */
void domtab_thread_online(void);
void domtab_thread_offline(void);

#endif
