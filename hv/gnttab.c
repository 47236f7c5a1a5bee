/* gnttab.c — grant tables (see gnttab.h for the interface and error codes).
 *
 * Locking:
 *   - Each entry has one 64-bit atomic state word holding everything a
 *     copier must check, so that one compare-and-swap both validates and
 *     pins (Xen likewise keeps the flags and the peer's domid in the word it
 *     cmpxchg's):
 *         bit 0        in use (granted)
 *         bit 1        read-only
 *         bits 2..16   pin count (copies in progress + maps)
 *         bits 17..31  peer domain id (ids are < 0x7FF0)
 *         bits 32..63  generation, bumped by every end
 *     The page pointer lives beside it as a plain field: it is written only
 *     while the entry is free and read only while it is pinned.
 *   - grant and end (the guest's vCPUs) take the table's spinlock `lock`,
 *     which guards the free-reference stack and serialises the two; the
 *     in-use counter is changed under it and read lock-free (relaxed).
 *   - copy, map and unmap take no lock. pin() loads the word, checks it,
 *     and CASes it to word + one pin; the CAS fails if anything changed
 *     since the load (another pin, an end, an end and a re-grant: the
 *     generation differs even if peer and mode are the same, so a copier
 *     that checked generation g can never pin generation g+1 — the ABA
 *     case) and the checks are redone on the fresh value.
 *   - Orderings (every one names what it pairs with):
 *       grant's release store of the word (in use) pairs with pin's CAS,
 *       which is seq_cst and so an acquire: the page pointer written before
 *       the store is the one the pinned copier reads. The CAS reads either
 *       that store or a pin/unpin RMW after it, which continue its release
 *       sequence.
 *       unpin (copy done, unmap) is a release RMW pairing with end's
 *       acquire CAS: everything the backend did to the page (copy_to's
 *       writes, reads of a map) happens before the guest gets the page back,
 *       and before a later grant rewrites the page pointer.
 *       end's CAS can only succeed with a pin count of 0, so an end never
 *       overtakes a pin: if a pin comes in between end's load and its CAS,
 *       the CAS fails and end returns -EBUSY.
 *       Shutdown is a Dekker pair: gnttab_shutdown stores `shut` seq_cst,
 *       gnttab_pinned then loads the words seq_cst; pin CASes seq_cst and
 *       then loads `shut` seq_cst. In the single total order of seq_cst
 *       operations, either the pin precedes the scan (the scan sees it
 *       pinned) or the store of `shut` precedes pin's load of it (the copy
 *       backs out with -ESHUTDOWN before touching the page). So once
 *       gnttab_pinned() reads 0 after a shutdown, no copy or map is using
 *       the domain's memory and none will.
 *   - The generation wraps after 2^32 ends of one entry: a copier stalled
 *     between its load and its CAS for that long could pin a re-grant with
 *     the same peer and mode. That is still a valid grant to this caller,
 *     and the page pointer is read only after the pin, so the copy touches
 *     the page granted now.
 */
#include "gnttab.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "domtab.h"

#define ST_IN_USE 0x1ull
#define ST_RO 0x2ull
#define ST_PIN_SHIFT 2
#define ST_PIN_ONE (1ull << ST_PIN_SHIFT)
#define ST_PIN_MASK ((uint64_t)GNTTAB_PIN_MAX << ST_PIN_SHIFT)
#define ST_PEER_SHIFT 17
#define ST_PEER_MASK (0x7FFFull << ST_PEER_SHIFT)
#define ST_GEN_SHIFT 32
#define ST_GEN_MASK (~0ull << ST_GEN_SHIFT)

_Static_assert(DOMID_FIRST_RESERVED - 1 <= 0x7FFF, "a domid fits the state word's peer field");

struct gnt_entry {
    _Atomic uint64_t state;
    void *page;                     /* written while free, read while pinned */
};

struct gnttab {
    int domid;
    uint32_t max;
    uintptr_t mem;
    uint64_t mem_size;
    struct gnt_entry *ent;
    pthread_spinlock_t lock;        /* free stack, nfree; grant vs end */
    uint32_t *free_stack;           /* free references, next to hand out on top */
    uint32_t nfree;
    _Atomic uint32_t in_use;
    atomic_bool shut;
};

static uint32_t st_pins(uint64_t s) { return (uint32_t)((s & ST_PIN_MASK) >> ST_PIN_SHIFT); }
static int st_peer(uint64_t s) { return (int)((s & ST_PEER_MASK) >> ST_PEER_SHIFT); }

/* ---- life cycle -------------------------------------------------------------------- */

static bool mem_ok(uintptr_t mem, uint64_t size)
{
    if (!mem)
        return size == 0;
    return size <= (uint64_t)UINTPTR_MAX - mem;     /* mem + size does not wrap */
}

struct gnttab *gnttab_create(int domid, void *mem, uint64_t mem_size, uint32_t max_entries)
{
    if (max_entries == 0)
        max_entries = GNTTAB_DEFAULT_MAX;
    if (domid < 0 || domid >= DOMID_FIRST_RESERVED || max_entries > GNTTAB_MAX_ENTRIES ||
        !mem_ok((uintptr_t)mem, mem_size)) {
        errno = EINVAL;
        return NULL;
    }
    int err = ENOMEM;
    struct gnttab *gt = calloc(1, sizeof(*gt));
    if (!gt)
        goto fail;
    gt->ent = calloc(max_entries, sizeof(*gt->ent));
    if (!gt->ent)
        goto free_gt;
    gt->free_stack = malloc(max_entries * sizeof(*gt->free_stack));
    if (!gt->free_stack)
        goto free_ent;
    err = pthread_spin_init(&gt->lock, PTHREAD_PROCESS_PRIVATE);
    if (err)
        goto free_stack;
    gt->domid = domid;
    gt->max = max_entries;
    gt->mem = (uintptr_t)mem;
    gt->mem_size = mem_size;
    for (uint32_t i = 0; i < max_entries; i++) {
        atomic_init(&gt->ent[i].state, 0);
        gt->free_stack[i] = max_entries - 1 - i;    /* reference 0 on top */
    }
    gt->nfree = max_entries;
    atomic_init(&gt->in_use, 0);
    atomic_init(&gt->shut, false);
    return gt;

free_stack:
    free(gt->free_stack);
free_ent:
    free(gt->ent);
free_gt:
    free(gt);
fail:
    errno = err;
    return NULL;
}

void gnttab_destroy(struct gnttab *gt)
{
    if (!gt)
        return;
    pthread_spin_destroy(&gt->lock);
    free(gt->free_stack);
    free(gt->ent);
    free(gt);
}

void gnttab_shutdown(struct gnttab *gt)
{
    atomic_store_explicit(&gt->shut, true, memory_order_seq_cst);  /* pairs with pin()'s load */
}

/* ---- the guest's side ------------------------------------------------------------ */

static bool page_ok(const struct gnttab *gt, uintptr_t p)
{
    if (p % GNTTAB_PAGE_SIZE || gt->mem_size < GNTTAB_PAGE_SIZE || p < gt->mem)
        return false;
    return p - gt->mem <= gt->mem_size - GNTTAB_PAGE_SIZE;
}

int gnttab_grant(struct gnttab *gt, int peer, const void *page, bool readonly)
{
    if (peer < 0 || peer >= DOMID_FIRST_RESERVED || peer == gt->domid ||
        !page_ok(gt, (uintptr_t)page))
        return -EINVAL;
    int rc;
    pthread_spin_lock(&gt->lock);
    if (atomic_load_explicit(&gt->shut, memory_order_relaxed)) {
        rc = -ESHUTDOWN;
    } else if (gt->nfree == 0) {
        rc = -ENOSPC;
    } else {
        grant_ref_t ref = gt->free_stack[--gt->nfree];
        struct gnt_entry *e = &gt->ent[ref];
        /* A free entry is never pinned (pins need in-use) nor changed by
         * anyone but grant/end, which hold the lock: a plain update. */
        uint64_t s = atomic_load_explicit(&e->state, memory_order_relaxed);
        e->page = (void *)page;
        s = (s & ST_GEN_MASK) | ST_IN_USE | (readonly ? ST_RO : 0) |
            ((uint64_t)peer << ST_PEER_SHIFT);
        /* release: the page pointer before in-use; pairs with pin()'s CAS */
        atomic_store_explicit(&e->state, s, memory_order_release);
        atomic_store_explicit(&gt->in_use, atomic_load_explicit(&gt->in_use, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        rc = (int)ref;
    }
    pthread_spin_unlock(&gt->lock);
    return rc;
}

int gnttab_end(struct gnttab *gt, grant_ref_t ref)
{
    if (ref >= gt->max)
        return -EINVAL;
    struct gnt_entry *e = &gt->ent[ref];
    int rc;
    pthread_spin_lock(&gt->lock);
    uint64_t s = atomic_load_explicit(&e->state, memory_order_relaxed);
    if (!(s & ST_IN_USE)) {
        rc = -EINVAL;
    } else if (st_pins(s)) {
        rc = -EBUSY;
    } else if (!atomic_compare_exchange_strong_explicit(&e->state, &s,
                                                        (s & ST_GEN_MASK) + (1ull << ST_GEN_SHIFT),
                                                        memory_order_acquire,
                                                        memory_order_relaxed)) {
        /* acquire above pairs with unpin's release. Under the lock only a
         * pin can have changed the word since the load: pinned now. */
        rc = -EBUSY;
    } else {
        gt->free_stack[gt->nfree++] = ref;
        atomic_store_explicit(&gt->in_use, atomic_load_explicit(&gt->in_use, memory_order_relaxed) - 1,
                              memory_order_relaxed);
        rc = 0;
    }
    pthread_spin_unlock(&gt->lock);
    return rc;
}

/* ---- the backend's side: lock-free ----------------------------------------------- */

/* The checks on one snapshot of the word, in the documented order. */
static int check(uint64_t s, int caller, bool write, bool ranged, uint32_t offset, uint32_t len)
{
    if (!(s & ST_IN_USE))
        return -ENOENT;
    if (caller < 0 || st_peer(s) != caller)
        return -EPERM;
    if (write && (s & ST_RO))
        return -EACCES;
    if (ranged && (offset > GNTTAB_PAGE_SIZE || len > GNTTAB_PAGE_SIZE - offset))
        return -ERANGE;
    return 0;
}

static void unpin(struct gnt_entry *e)
{
    /* release: the page accesses before the unpin; pairs with end's CAS */
    atomic_fetch_sub_explicit(&e->state, ST_PIN_ONE, memory_order_release);
}

/* Validate and pin ref; the entry, or NULL with *rc. */
static struct gnt_entry *pin(struct gnttab *gt, int caller, grant_ref_t ref, bool write,
                             bool ranged, uint32_t offset, uint32_t len, int *rc)
{
    if (ref >= gt->max) {
        *rc = -EINVAL;
        return NULL;
    }
    struct gnt_entry *e = &gt->ent[ref];
    /* relaxed: nothing is read on the strength of this load; the CAS below
     * re-reads the word and is the acquire. */
    uint64_t s = atomic_load_explicit(&e->state, memory_order_relaxed);
    for (;;) {
        *rc = check(s, caller, write, ranged, offset, len);
        if (*rc)
            return NULL;
        if (atomic_load_explicit(&gt->shut, memory_order_relaxed)) {
            *rc = -ESHUTDOWN;       /* cheap early out; the seq_cst check is below */
            return NULL;
        }
        if (st_pins(s) == GNTTAB_PIN_MAX) {
            *rc = -EBUSY;
            return NULL;
        }
        /* seq_cst: acquire pairing with grant's release store, and one half
         * of the shutdown Dekker pair (see Locking). */
        if (atomic_compare_exchange_weak_explicit(&e->state, &s, s + ST_PIN_ONE,
                                                  memory_order_seq_cst, memory_order_relaxed))
            break;
    }
    if (atomic_load_explicit(&gt->shut, memory_order_seq_cst)) {
        unpin(e);
        *rc = -ESHUTDOWN;
        return NULL;
    }
    return e;
}

int gnttab_copy_from(struct gnttab *gt, int caller, grant_ref_t ref, uint32_t offset, void *dst,
                     uint32_t len)
{
    int rc;
    struct gnt_entry *e = pin(gt, caller, ref, false, true, offset, len, &rc);
    if (!e)
        return rc;
    if (len)
        memcpy(dst, (const char *)e->page + offset, len);
    unpin(e);
    return 0;
}

int gnttab_copy_to(struct gnttab *gt, int caller, grant_ref_t ref, uint32_t offset,
                   const void *src, uint32_t len)
{
    int rc;
    struct gnt_entry *e = pin(gt, caller, ref, true, true, offset, len, &rc);
    if (!e)
        return rc;
    if (len)
        memcpy((char *)e->page + offset, src, len);
    unpin(e);
    return 0;
}

void *gnttab_map(struct gnttab *gt, int caller, grant_ref_t ref, bool writable, int *err)
{
    int rc;
    struct gnt_entry *e = pin(gt, caller, ref, writable, false, 0, 0, &rc);
    if (err)
        *err = e ? 0 : rc;
    return e ? e->page : NULL;
}

int gnttab_unmap(struct gnttab *gt, grant_ref_t ref)
{
    if (ref >= gt->max)
        return -EINVAL;
    struct gnt_entry *e = &gt->ent[ref];
    uint64_t s = atomic_load_explicit(&e->state, memory_order_relaxed);
    do {
        if (!st_pins(s))
            return -EINVAL;         /* never mapped: must not underflow into other fields */
    } while (!atomic_compare_exchange_weak_explicit(&e->state, &s, s - ST_PIN_ONE,
                                                    memory_order_release, memory_order_relaxed));
    /* release above: as unpin, pairs with end's CAS */
    return 0;
}

/* ---- queries --------------------------------------------------------------------- */

uint32_t gnttab_in_use(const struct gnttab *gt)
{
    return atomic_load_explicit(&gt->in_use, memory_order_relaxed);
}

uint32_t gnttab_pinned(const struct gnttab *gt)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < gt->max; i++)
        /* seq_cst: the scan half of the shutdown Dekker pair */
        if (st_pins(atomic_load_explicit(&gt->ent[i].state, memory_order_seq_cst)))
            n++;
    return n;
}

uint32_t gnttab_max_entries(const struct gnttab *gt)
{
    return gt->max;
}

int gnttab_domid(const struct gnttab *gt)
{
    return gt->domid;
}
