/* test_domtab.c — the RCU domain table: insert/lookup/remove rules, and
 * readers on several threads racing a writer that removes and re-inserts
 * domains (no use-after-free, each lookup sees the old or the new entry). */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "hv/domtab.h"

static void test_create_bounds(void **st)
{
    (void)st;
    assert_null(domtab_create(0));
    assert_int_equal(errno, EINVAL);
    assert_null(domtab_create(DOMID_FIRST_RESERVED + 1));
    struct domtab *t = domtab_create(DOMID_FIRST_RESERVED);
    assert_non_null(t);
    assert_int_equal(domtab_max(t), DOMID_FIRST_RESERVED);
    domtab_destroy(t, NULL, NULL);
}

static void test_insert_lookup_remove(void **st)
{
    (void)st;
    int a = 1, b = 2;
    struct domtab *t = domtab_create(16);
    domtab_thread_online();
    assert_int_equal(domtab_insert(t, 3, &a, NULL), 0);
    assert_int_equal(domtab_insert(t, 3, &b, NULL), -EEXIST);
    assert_int_equal(domtab_insert(t, 16, &b, NULL), -EINVAL);
    assert_int_equal(domtab_insert(t, -1, &b, NULL), -EINVAL);

    domtab_read_lock();
    const struct domtab_entry *e = domtab_lookup(t, 3);
    assert_non_null(e);
    assert_int_equal(e->id, 3);
    assert_ptr_equal(e->dom, &a);
    assert_null(domtab_lookup(t, 4));
    assert_null(domtab_lookup(t, -5));
    assert_null(domtab_lookup(t, 16));
    assert_null(domtab_lookup(t, 0x7FFF));
    domtab_read_unlock();

    void *dom = NULL;
    struct evtchn_dom *ev = (struct evtchn_dom *)&b;
    assert_int_equal(domtab_remove(t, 3, &dom, &ev), 0);
    assert_ptr_equal(dom, &a);
    assert_null(ev);
    assert_int_equal(domtab_remove(t, 3, NULL, NULL), -ENOENT);
    assert_int_equal(domtab_remove(t, 99, NULL, NULL), -EINVAL);
    domtab_read_lock();
    assert_null(domtab_lookup(t, 3));
    domtab_read_unlock();
    assert_int_equal(domtab_insert(t, 3, &b, NULL), 0);    /* id reusable */
    domtab_thread_offline();
    domtab_destroy(t, NULL, NULL);
}

static void count_left(int id, void *dom, struct evtchn_dom *ev, void *arg)
{
    (void)dom;
    (void)ev;
    *(int *)arg += id;
}

static void test_destroy_visits_remaining(void **st)
{
    (void)st;
    struct domtab *t = domtab_create(8);
    int x, sum = 0;
    domtab_insert(t, 2, &x, NULL);
    domtab_insert(t, 5, &x, NULL);
    domtab_destroy(t, count_left, &sum);
    assert_int_equal(sum, 7);
}

/* ---- readers against a writer ------------------------------------------------ */

#define NIDS 16
#define NREADERS 4
#define WRITER_ROUNDS 5000
#define LIVE 0x11FE11FEu
#define DEAD 0xDEADDEADu

struct obj {
    unsigned magic;
    int id;
    long gen;
};

struct race {
    struct domtab *t;
    atomic_bool stop;
    atomic_long bad, lookups, hits;
};

static struct obj *obj_new(int id, long gen)
{
    struct obj *o = malloc(sizeof(*o));
    *o = (struct obj){ LIVE, id, gen };
    return o;
}

/* One checked lookup: the entry is whole and live, not older than what this
 * reader saw before, and stays live for the whole read-side section even if
 * the writer removes it meanwhile. */
static long check_lookup(struct race *r, int id, long last)
{
    domtab_read_lock();
    const struct domtab_entry *e = domtab_lookup(r->t, id);
    if (e) {
        struct obj *o = e->dom;
        if (e->id != id || o->magic != LIVE || o->id != id || o->gen < last)
            atomic_fetch_add(&r->bad, 1);
        last = o->gen;
        const struct domtab_entry *e2 = domtab_lookup(r->t, id);
        if (e2 && ((struct obj *)e2->dom)->gen < last)
            atomic_fetch_add(&r->bad, 1);     /* went back to an older entry */
        for (volatile int spin = 0; spin < 50; spin++)
            ;
        if (o->magic != LIVE)               /* freed under our feet */
            atomic_fetch_add(&r->bad, 1);
        atomic_fetch_add_explicit(&r->hits, 1, memory_order_relaxed);
    }
    domtab_read_unlock();
    atomic_fetch_add_explicit(&r->lookups, 1, memory_order_relaxed);
    return last;
}

static void *reader(void *arg)
{
    struct race *r = arg;
    long last[NIDS] = { 0 };
    unsigned seed = (unsigned)(uintptr_t)&last;
    domtab_thread_online();
    while (!atomic_load(&r->stop)) {
        int id = (int)(rand_r(&seed) % NIDS);
        last[id] = check_lookup(r, id, last[id]);
    }
    domtab_thread_offline();
    return NULL;
}

static void test_readers_race_writer(void **st)
{
    (void)st;
    struct race r = { .t = domtab_create(NIDS) };
    for (int id = 0; id < NIDS; id++)
        assert_int_equal(domtab_insert(r.t, id, obj_new(id, 0), NULL), 0);
    pthread_t th[NREADERS];
    for (int i = 0; i < NREADERS; i++)
        pthread_create(&th[i], NULL, reader, &r);
    /* On a loaded machine the readers may start late: let them get going,
     * so the race is really raced (and hits > 0 below cannot be luck). */
    double deadline = tu_now() + TU_WAIT_S;
    while (atomic_load(&r.lookups) < 1000 && tu_now() < deadline)
        sched_yield();
    if (atomic_load(&r.lookups) < 1000) {
        atomic_store(&r.stop, true);
        for (int i = 0; i < NREADERS; i++)
            tu_join(th[i], TU_WAIT_S, "domtab reader, told to stop");
        fail_msg("domtab race: the %d readers made only %ld lookups in %.0f s (expected 1000 "
                 "before the writer starts)", NREADERS, atomic_load(&r.lookups), TU_WAIT_S);
    }
    unsigned seed = 7;
    for (long gen = 1; gen <= WRITER_ROUNDS; gen++) {
        int id = (int)(rand_r(&seed) % NIDS);
        void *old = NULL;
        assert_int_equal(domtab_remove(r.t, id, &old, NULL), 0);
        ((struct obj *)old)->magic = DEAD;  /* no reader may see this */
        free(old);
        assert_int_equal(domtab_insert(r.t, id, obj_new(id, gen), NULL), 0);
    }
    atomic_store(&r.stop, true);
    for (int i = 0; i < NREADERS; i++)
        tu_join(th[i], TU_WAIT_S, "domtab reader, told to stop");
    printf("domtab race: %ld lookups, %ld hits, %d remove+insert\n",
           atomic_load(&r.lookups), atomic_load(&r.hits), WRITER_ROUNDS);
    assert_int_equal(atomic_load(&r.bad), 0);
    assert_true(atomic_load(&r.hits) > 0);
    for (int id = 0; id < NIDS; id++) {
        void *o;
        domtab_remove(r.t, id, &o, NULL);
        free(o);
    }
    domtab_destroy(r.t, NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_bounds),
        cmocka_unit_test(test_insert_lookup_remove),
        cmocka_unit_test(test_destroy_visits_remaining),
        cmocka_unit_test(test_readers_race_writer),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
