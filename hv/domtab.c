/* domtab.c — the RCU-protected domain table (see domtab.h for the rules).
 *
 * A flat array of DOMID-indexed slots: a lookup is one acquire load, and
 * 0x7FF0 slots of 8 bytes (256 KiB) is a fair price for no hashing. The
 * slots are C11 atomics rather than plain pointers passed to liburcu's
 * rcu_assign_pointer/rcu_dereference: same release/acquire semantics, but
 * visible to the C11 memory model and to ThreadSanitizer (liburcu 0.13
 * implements them with volatile accesses and inline-asm fences). liburcu
 * supplies what is hard to write: read-side sections that cost no atomic
 * instruction (membarrier flavour) and grace periods.
 */
#include "domtab.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <urcu.h>

#if defined(__SANITIZE_THREAD__)
#define DT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DT_TSAN 1
#endif
#endif

#ifdef DT_TSAN
/* The TSan runtime's annotation entry points (sanitizer/tsan_interface.h). */
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
static char dt_tsan_grace;          /* stands for "a grace period" */
#endif

struct domtab {
    int max;
    pthread_mutex_t wlock;          /* serialises writers */
    _Atomic(struct domtab_entry *) *slot;
};

struct domtab *domtab_create(int max)
{
    if (max < 1 || max > DOMID_FIRST_RESERVED) {
        errno = EINVAL;
        return NULL;
    }
    struct domtab *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->slot = calloc((size_t)max, sizeof(*t->slot));
    if (!t->slot) {
        free(t);
        return NULL;
    }
    for (int i = 0; i < max; i++)
        atomic_init(&t->slot[i], NULL);
    t->max = max;
    pthread_mutex_init(&t->wlock, NULL);
    return t;
}

void domtab_destroy(struct domtab *t,
                    void (*fn)(int id, void *dom, struct evtchn_dom *ev, void *arg),
                    void *arg)
{
    if (!t)
        return;
    for (int i = 0; i < t->max; i++) {
        struct domtab_entry *e = atomic_load_explicit(&t->slot[i], memory_order_relaxed);
        if (e && fn)
            fn(e->id, e->dom, e->evtchn, arg);
        free(e);
    }
    pthread_mutex_destroy(&t->wlock);
    free(t->slot);
    free(t);
}

static int id_ok(const struct domtab *t, int id) { return id >= 0 && id < t->max; }

int domtab_insert(struct domtab *t, int id, void *dom, struct evtchn_dom *ev)
{
    if (!id_ok(t, id))
        return -EINVAL;
    struct domtab_entry *e = malloc(sizeof(*e));
    if (!e)
        return -ENOMEM;
    *e = (struct domtab_entry){ .id = id, .dom = dom, .evtchn = ev };
    int rc = 0;
    pthread_mutex_lock(&t->wlock);
    if (atomic_load_explicit(&t->slot[id], memory_order_relaxed))
        rc = -EEXIST;
    else    /* release: the filled entry before the pointer (rcu_assign_pointer) */
        atomic_store_explicit(&t->slot[id], e, memory_order_release);
    pthread_mutex_unlock(&t->wlock);
    if (rc)
        free(e);
    return rc;
}

int domtab_remove(struct domtab *t, int id, void **dom, struct evtchn_dom **ev)
{
    if (!id_ok(t, id))
        return -EINVAL;
    pthread_mutex_lock(&t->wlock);
    struct domtab_entry *e = atomic_load_explicit(&t->slot[id], memory_order_relaxed);
    if (e)
        atomic_store_explicit(&t->slot[id], NULL, memory_order_relaxed);
    pthread_mutex_unlock(&t->wlock);
    if (!e)
        return -ENOENT;
    /* Readers that loaded e before the NULL store may still use it. */
    synchronize_rcu();
#ifdef DT_TSAN
    __tsan_acquire(&dt_tsan_grace);
#endif
    if (dom)
        *dom = e->dom;
    if (ev)
        *ev = e->evtchn;
    free(e);
    return 0;
}

const struct domtab_entry *domtab_lookup(const struct domtab *t, int id)
{
    if (!t || !id_ok(t, id))
        return NULL;
    /* acquire (rcu_dereference): pairs with the release in domtab_insert. */
    return atomic_load_explicit(&t->slot[id], memory_order_acquire);
}

int domtab_max(const struct domtab *t) { return t->max; }

void domtab_read_lock(void) { rcu_read_lock(); }

void domtab_read_unlock(void)
{
#ifdef DT_TSAN
    __tsan_release(&dt_tsan_grace);
#endif
    rcu_read_unlock();
}

void domtab_thread_online(void) { rcu_register_thread(); }
void domtab_thread_offline(void) { rcu_unregister_thread(); }
