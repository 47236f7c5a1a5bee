/* test_gnttab.c — grant tables: every check of grant, end, copy and map with
 * its errno and their order, the per-domain limit, pins (end while mapped),
 * shutdown, a re-granted reference refusing its old peer, bytes landing at
 * the right offsets, and threads: grants and ends racing copies and maps
 * (every result either right or a listed error), and a shutdown racing
 * copies (once gnttab_pinned() reads 0, nothing touches the memory). */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/domtab.h"
#include "hv/gnttab.h"

#define PG ((int)GNTTAB_PAGE_SIZE)
#define NPAGES 16
#define MAXENT 8
#define DOM 1               /* the granting domain */
#define BACK 2              /* its backend */
#define OTHER 3

struct fx {
    uint8_t *mem;           /* NPAGES pages, page k filled with k + 1 */
    struct gnttab *gt;
};

static uint8_t *page(struct fx *f, int k) { return f->mem + (size_t)k * PG; }

static int setup(void **st)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->mem = aligned_alloc(PG, NPAGES * PG);
    for (int k = 0; k < NPAGES; k++)
        memset(page(f, k), k + 1, PG);
    f->gt = gnttab_create(DOM, f->mem, NPAGES * PG, MAXENT);
    assert_non_null(f->gt);
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    struct fx *f = *st;
    gnttab_destroy(f->gt);
    free(f->mem);
    free(f);
    return 0;
}

static int grant_ok(struct fx *f, int peer, int k, bool ro)
{
    int ref = gnttab_grant(f->gt, peer, page(f, k), ro);
    assert_true(ref >= 0);
    return ref;
}

/* ---- create ---------------------------------------------------------------------- */

static void test_create_validation(void **st)
{
    (void)st;
    static uint8_t mem[2 * PG];
    struct gnttab *gt = gnttab_create(5, mem, sizeof(mem), 0);
    assert_non_null(gt);
    assert_int_equal(gnttab_domid(gt), 5);
    assert_int_equal(gnttab_max_entries(gt), GNTTAB_DEFAULT_MAX);
    assert_int_equal(gnttab_in_use(gt), 0);
    gnttab_destroy(gt);
    struct { int dom; void *mem; uint64_t size; uint32_t max; } bad[] = {
        { -1, mem, sizeof(mem), 8 },
        { DOMID_FIRST_RESERVED, mem, sizeof(mem), 8 },
        { 1, NULL, PG, 8 },                                 /* no memory, but a size */
        { 1, mem, UINT64_MAX, 8 },                          /* wraps the address space */
        { 1, mem, sizeof(mem), GNTTAB_MAX_ENTRIES + 1 },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        errno = 0;
        assert_null(gnttab_create(bad[i].dom, bad[i].mem, bad[i].size, bad[i].max));
        assert_int_equal(errno, EINVAL);
    }
    gt = gnttab_create(0, NULL, 0, GNTTAB_MAX_ENTRIES);     /* no memory: nothing grantable */
    assert_non_null(gt);
    assert_int_equal(gnttab_max_entries(gt), GNTTAB_MAX_ENTRIES);
    assert_int_equal(gnttab_grant(gt, 1, mem, false), -EINVAL);
    gnttab_destroy(gt);
}

/* ---- grant ----------------------------------------------------------------------- */

static void test_grant_lowest_refs_and_count(void **st)
{
    struct fx *f = *st;
    for (int i = 0; i < 3; i++)
        assert_int_equal(gnttab_grant(f->gt, BACK, page(f, i), false), i);
    assert_int_equal(gnttab_in_use(f->gt), 3);
    /* the same page may be granted twice (to two peers, say) */
    assert_int_equal(gnttab_grant(f->gt, OTHER, page(f, 0), true), 3);
    assert_int_equal(gnttab_in_use(f->gt), 4);
}

static void test_grant_unaligned(void **st)
{
    struct fx *f = *st;
    assert_int_equal(gnttab_grant(f->gt, BACK, page(f, 1) + 1, false), -EINVAL);
    assert_int_equal(gnttab_grant(f->gt, BACK, page(f, 1) + PG / 2, false), -EINVAL);
    assert_int_equal(gnttab_grant(f->gt, BACK, page(f, 2) - 1, true), -EINVAL);
    assert_int_equal(gnttab_in_use(f->gt), 0);
}

static void test_grant_outside_memory(void **st)
{
    struct fx *f = *st;
    assert_int_equal(gnttab_grant(f->gt, BACK, (void *)((uintptr_t)f->mem - PG), false), -EINVAL);
    assert_int_equal(gnttab_grant(f->gt, BACK, f->mem + NPAGES * PG, false), -EINVAL);
    assert_int_equal(gnttab_grant(f->gt, BACK, NULL, false), -EINVAL);
    assert_int_equal(gnttab_grant(f->gt, BACK, page(f, NPAGES - 1), false), 0);    /* last page */
    assert_int_equal(gnttab_grant(f->gt, BACK, page(f, 0), false), 1);             /* first */
    /* memory that does not start on a page: the first aligned page inside
     * counts, the last aligned one that runs past the end does not */
    struct gnttab *gt = gnttab_create(DOM, f->mem + 100, 3 * PG, 4);
    assert_int_equal(gnttab_grant(gt, BACK, page(f, 0), false), -EINVAL);   /* starts before */
    assert_int_equal(gnttab_grant(gt, BACK, page(f, 1), false), 0);
    assert_int_equal(gnttab_grant(gt, BACK, page(f, 2), false), 1);
    assert_int_equal(gnttab_grant(gt, BACK, page(f, 3), false), -EINVAL);   /* ends 100 B past */
    gnttab_destroy(gt);
}

static void test_grant_bad_peer(void **st)
{
    struct fx *f = *st;
    int bad[] = { -1, -1000, DOM, DOMID_FIRST_RESERVED, DOMID_SELF, 0x10000 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(gnttab_grant(f->gt, bad[i], page(f, 0), false), -EINVAL);
    assert_int_equal(gnttab_grant(f->gt, 0, page(f, 0), false), 0);                 /* dom0 */
    assert_int_equal(gnttab_grant(f->gt, DOMID_FIRST_RESERVED - 1, page(f, 0), false), 1);
    assert_int_equal(gnttab_copy_from(f->gt, DOMID_FIRST_RESERVED - 1, 1, 0, NULL, 0), 0);
    assert_int_equal(gnttab_in_use(f->gt), 2);
}

static void test_per_domain_limit(void **st)
{
    struct fx *f = *st;
    for (int i = 0; i < MAXENT; i++)
        assert_int_equal(gnttab_grant(f->gt, BACK, page(f, i), false), i);
    assert_int_equal(gnttab_in_use(f->gt), MAXENT);
    assert_int_equal(gnttab_grant(f->gt, BACK, page(f, 9), false), -ENOSPC);
    assert_int_equal(gnttab_grant(f->gt, OTHER, page(f, 9), true), -ENOSPC);
    assert_int_equal(gnttab_end(f->gt, 3), 0);
    assert_int_equal(gnttab_in_use(f->gt), MAXENT - 1);
    assert_int_equal(gnttab_grant(f->gt, OTHER, page(f, 9), true), 3);
    assert_int_equal(gnttab_grant(f->gt, BACK, page(f, 9), false), -ENOSPC);
    uint8_t b;
    assert_int_equal(gnttab_copy_from(f->gt, OTHER, 3, 0, &b, 1), 0);
    assert_int_equal(b, 10);                                /* page 9 */
}

/* ---- end ------------------------------------------------------------------------- */

static void test_end_errors(void **st)
{
    struct fx *f = *st;
    assert_int_equal(gnttab_end(f->gt, 0), -EINVAL);                /* never granted */
    int r = grant_ok(f, BACK, 0, false);
    assert_int_equal(gnttab_end(f->gt, MAXENT), -EINVAL);
    assert_int_equal(gnttab_end(f->gt, UINT32_MAX), -EINVAL);
    assert_int_equal(gnttab_end(f->gt, (grant_ref_t)r + 1), -EINVAL);
    assert_int_equal(gnttab_end(f->gt, (grant_ref_t)r), 0);
    assert_int_equal(gnttab_end(f->gt, (grant_ref_t)r), -EINVAL);  /* twice */
    assert_int_equal(gnttab_in_use(f->gt), 0);
}

static void test_end_while_mapped(void **st)
{
    struct fx *f = *st;
    grant_ref_t r = (grant_ref_t)grant_ok(f, BACK, 4, false);
    int err = -1;
    assert_ptr_equal(gnttab_map(f->gt, BACK, r, true, &err), page(f, 4));
    assert_int_equal(err, 0);
    assert_ptr_equal(gnttab_map(f->gt, BACK, r, false, &err), page(f, 4));
    assert_int_equal(gnttab_pinned(f->gt), 1);
    assert_int_equal(gnttab_end(f->gt, r), -EBUSY);
    assert_int_equal(gnttab_unmap(f->gt, r), 0);
    assert_int_equal(gnttab_end(f->gt, r), -EBUSY);         /* one map left */
    assert_int_equal(gnttab_in_use(f->gt), 1);
    assert_int_equal(gnttab_unmap(f->gt, r), 0);
    assert_int_equal(gnttab_pinned(f->gt), 0);
    assert_int_equal(gnttab_end(f->gt, r), 0);
    assert_int_equal(gnttab_in_use(f->gt), 0);
}

static void test_unmap_errors(void **st)
{
    struct fx *f = *st;
    grant_ref_t r = (grant_ref_t)grant_ok(f, BACK, 0, false);
    assert_int_equal(gnttab_unmap(f->gt, r), -EINVAL);              /* not mapped */
    assert_int_equal(gnttab_unmap(f->gt, r + 1), -EINVAL);          /* not granted */
    assert_int_equal(gnttab_unmap(f->gt, MAXENT), -EINVAL);
    assert_non_null(gnttab_map(f->gt, BACK, r, false, NULL));
    assert_int_equal(gnttab_unmap(f->gt, r), 0);
    assert_int_equal(gnttab_unmap(f->gt, r), -EINVAL);              /* once per map */
    /* the stray unmaps corrupted nothing: still granted to BACK, read-write */
    uint8_t b = 0x5A;
    assert_int_equal(gnttab_copy_to(f->gt, BACK, r, 7, &b, 1), 0);
    assert_int_equal(page(f, 0)[7], 0x5A);
    assert_int_equal(gnttab_end(f->gt, r), 0);
}

/* ---- copy and map: one test per check ------------------------------------------------ */

static void test_copy_ref_out_of_range(void **st)
{
    struct fx *f = *st;
    uint8_t b[8];
    int err = 0;
    assert_int_equal(gnttab_copy_from(f->gt, BACK, MAXENT, 0, b, 8), -EINVAL);
    assert_int_equal(gnttab_copy_to(f->gt, BACK, UINT32_MAX, 0, b, 8), -EINVAL);
    assert_null(gnttab_map(f->gt, BACK, MAXENT, false, &err));
    assert_int_equal(err, -EINVAL);
}

static void test_copy_not_in_use(void **st)
{
    struct fx *f = *st;
    uint8_t b[8];
    int err = 0;
    assert_int_equal(gnttab_copy_from(f->gt, BACK, 0, 0, b, 8), -ENOENT);
    assert_int_equal(gnttab_copy_to(f->gt, BACK, MAXENT - 1, 0, b, 8), -ENOENT);
    assert_null(gnttab_map(f->gt, BACK, 0, false, &err));
    assert_int_equal(err, -ENOENT);
}

static void test_copy_after_end(void **st)
{
    struct fx *f = *st;
    grant_ref_t r = (grant_ref_t)grant_ok(f, BACK, 5, false);
    uint8_t b = 0;
    int err = 0;
    assert_int_equal(gnttab_copy_from(f->gt, BACK, r, 0, &b, 1), 0);
    assert_int_equal(b, 6);
    assert_int_equal(gnttab_end(f->gt, r), 0);
    assert_int_equal(gnttab_copy_from(f->gt, BACK, r, 0, &b, 1), -ENOENT);
    assert_int_equal(gnttab_copy_to(f->gt, BACK, r, 0, &b, 1), -ENOENT);
    assert_null(gnttab_map(f->gt, BACK, r, false, &err));
    assert_int_equal(err, -ENOENT);
}

static void test_copy_wrong_peer(void **st)
{
    struct fx *f = *st;
    grant_ref_t r = (grant_ref_t)grant_ok(f, BACK, 0, false);
    uint8_t b[4];
    int err = 0;
    int callers[] = { OTHER, DOM, 0, -1, DOMID_SELF };
    for (size_t i = 0; i < sizeof(callers) / sizeof(callers[0]); i++) {
        assert_int_equal(gnttab_copy_from(f->gt, callers[i], r, 0, b, 4), -EPERM);
        assert_int_equal(gnttab_copy_to(f->gt, callers[i], r, 0, b, 4), -EPERM);
        assert_null(gnttab_map(f->gt, callers[i], r, false, &err));
        assert_int_equal(err, -EPERM);
    }
    assert_int_equal(gnttab_pinned(f->gt), 0);
    assert_int_equal(gnttab_copy_from(f->gt, BACK, r, 0, b, 4), 0);
}

static void test_copy_to_readonly(void **st)
{
    struct fx *f = *st;
    grant_ref_t r = (grant_ref_t)grant_ok(f, BACK, 3, true);
    uint8_t w[16], rd[16];
    memset(w, 0xEE, sizeof(w));
    int err = 0;
    assert_int_equal(gnttab_copy_to(f->gt, BACK, r, 0, w, 16), -EACCES);
    assert_int_equal(gnttab_copy_to(f->gt, BACK, r, 0, w, 0), -EACCES);    /* even nothing */
    assert_null(gnttab_map(f->gt, BACK, r, true, &err));
    assert_int_equal(err, -EACCES);
    for (unsigned i = 0; i < PG; i++)
        assert_int_equal(page(f, 3)[i], 4);                 /* untouched */
    /* reading it is what read-only is for */
    assert_int_equal(gnttab_copy_from(f->gt, BACK, r, 100, rd, 16), 0);
    for (int i = 0; i < 16; i++)
        assert_int_equal(rd[i], 4);
    assert_ptr_equal(gnttab_map(f->gt, BACK, r, false, &err), page(f, 3));
    assert_int_equal(gnttab_unmap(f->gt, r), 0);
}

static void test_copy_range(void **st)
{
    struct fx *f = *st;
    grant_ref_t r = (grant_ref_t)grant_ok(f, BACK, 0, false);
    static uint8_t b[2 * PG];
    struct { uint32_t off, len; int rc; } c[] = {
        { 0, PG, 0 }, { PG, 0, 0 }, { PG - 1, 1, 0 }, { 0, 0, 0 }, { 100, PG - 100, 0 },
        { 0, PG + 1, -ERANGE }, { PG, 1, -ERANGE }, { PG - 1, 2, -ERANGE },
        { PG + 1, 0, -ERANGE }, { 100, PG - 99, -ERANGE },
        { UINT32_MAX, 2, -ERANGE },             /* offset + len wraps to 1 */
        { 2, UINT32_MAX, -ERANGE }, { UINT32_MAX, UINT32_MAX, -ERANGE },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        assert_int_equal(gnttab_copy_from(f->gt, BACK, r, c[i].off, b, c[i].len), c[i].rc);
        assert_int_equal(gnttab_copy_to(f->gt, BACK, r, c[i].off, b, c[i].len), c[i].rc);
    }
}

static void test_copy_shutdown(void **st)
{
    struct fx *f = *st;
    grant_ref_t r = (grant_ref_t)grant_ok(f, BACK, 0, false);
    uint8_t b[4] = { 0 };
    int err = 0;
    gnttab_shutdown(f->gt);
    assert_int_equal(gnttab_copy_from(f->gt, BACK, r, 0, b, 4), -ESHUTDOWN);
    assert_int_equal(gnttab_copy_to(f->gt, BACK, r, 0, b, 4), -ESHUTDOWN);
    assert_null(gnttab_map(f->gt, BACK, r, false, &err));
    assert_int_equal(err, -ESHUTDOWN);
    assert_int_equal(page(f, 0)[0], 1);
    assert_int_equal(gnttab_pinned(f->gt), 0);
}

/* Several checks fail at once: the first in the documented order wins. */
static void test_check_order(void **st)
{
    struct fx *f = *st;
    grant_ref_t ro = (grant_ref_t)grant_ok(f, BACK, 0, true);
    uint8_t b[4];
    int err = 0;
    /* wrong peer + read-only + bad range: -EPERM */
    assert_int_equal(gnttab_copy_to(f->gt, OTHER, ro, PG, b, 4), -EPERM);
    assert_null(gnttab_map(f->gt, OTHER, ro, true, &err));
    assert_int_equal(err, -EPERM);
    /* read-only + bad range: -EACCES */
    assert_int_equal(gnttab_copy_to(f->gt, BACK, ro, PG, b, 4), -EACCES);
    /* bad range on a read: -ERANGE */
    assert_int_equal(gnttab_copy_from(f->gt, BACK, ro, PG, b, 4), -ERANGE);
    gnttab_shutdown(f->gt);
    /* each of the above still wins over the shutdown */
    assert_int_equal(gnttab_copy_from(f->gt, BACK, MAXENT, PG, b, 4), -EINVAL);
    assert_int_equal(gnttab_copy_from(f->gt, BACK, ro + 1, PG, b, 4), -ENOENT);
    assert_int_equal(gnttab_copy_to(f->gt, OTHER, ro, PG, b, 4), -EPERM);
    assert_int_equal(gnttab_copy_to(f->gt, BACK, ro, PG, b, 4), -EACCES);
    assert_int_equal(gnttab_copy_from(f->gt, BACK, ro, PG, b, 4), -ERANGE);
    assert_int_equal(gnttab_copy_from(f->gt, BACK, ro, 0, b, 4), -ESHUTDOWN);
}

static void test_shutdown(void **st)
{
    struct fx *f = *st;
    grant_ref_t a = (grant_ref_t)grant_ok(f, BACK, 0, false);
    grant_ref_t m = (grant_ref_t)grant_ok(f, BACK, 1, false);
    uint8_t *p = gnttab_map(f->gt, BACK, m, true, NULL);
    assert_ptr_equal(p, page(f, 1));
    gnttab_shutdown(f->gt);
    gnttab_shutdown(f->gt);                                 /* idempotent */
    assert_int_equal(gnttab_grant(f->gt, BACK, page(f, 2), false), -ESHUTDOWN);
    /* argument errors are still reported as such */
    assert_int_equal(gnttab_grant(f->gt, BACK, page(f, 2) + 1, false), -EINVAL);
    assert_int_equal(gnttab_grant(f->gt, DOM, page(f, 2), false), -EINVAL);
    /* a map made before stays usable until unmapped: teardown waits for it */
    assert_int_equal(gnttab_pinned(f->gt), 1);
    p[0] = 0x77;
    assert_int_equal(gnttab_end(f->gt, m), -EBUSY);
    assert_int_equal(gnttab_unmap(f->gt, m), 0);
    assert_int_equal(gnttab_pinned(f->gt), 0);
    /* the guest may still end its grants */
    assert_int_equal(gnttab_end(f->gt, a), 0);
    assert_int_equal(gnttab_end(f->gt, m), 0);
    assert_int_equal(gnttab_in_use(f->gt), 0);
    assert_int_equal(gnttab_grant(f->gt, BACK, page(f, 2), false), -ESHUTDOWN);
}

/* ---- reuse of a reference ---------------------------------------------------------- */

static void test_regrant_refuses_old_peer(void **st)
{
    struct fx *f = *st;
    grant_ref_t r = (grant_ref_t)grant_ok(f, BACK, 2, false);
    uint8_t b = 0;
    assert_int_equal(gnttab_copy_from(f->gt, BACK, r, 0, &b, 1), 0);
    assert_int_equal(b, 3);
    assert_int_equal(gnttab_end(f->gt, r), 0);
    /* the freed reference is handed out again, to another domain */
    assert_int_equal(gnttab_grant(f->gt, OTHER, page(f, 7), false), (int)r);
    b = 0;
    assert_int_equal(gnttab_copy_from(f->gt, BACK, r, 0, &b, 1), -EPERM);
    assert_int_equal(b, 0);
    assert_null(gnttab_map(f->gt, BACK, r, false, NULL));
    assert_int_equal(gnttab_copy_to(f->gt, BACK, r, 0, &b, 1), -EPERM);
    assert_int_equal(page(f, 7)[0], 8);
    assert_int_equal(gnttab_copy_from(f->gt, OTHER, r, 0, &b, 1), 0);
    assert_int_equal(b, 8);
    /* and again to the old peer, read-only, another page: the new terms hold */
    assert_int_equal(gnttab_end(f->gt, r), 0);
    assert_int_equal(gnttab_grant(f->gt, BACK, page(f, 11), true), (int)r);
    assert_int_equal(gnttab_copy_from(f->gt, BACK, r, 0, &b, 1), 0);
    assert_int_equal(b, 12);
    assert_int_equal(gnttab_copy_to(f->gt, BACK, r, 0, &b, 1), -EACCES);
    assert_int_equal(gnttab_copy_from(f->gt, OTHER, r, 0, &b, 1), -EPERM);
}

/* ---- bytes ------------------------------------------------------------------------- */

static void test_bytes_land_at_offset(void **st)
{
    struct fx *f = *st;
    grant_ref_t r = (grant_ref_t)grant_ok(f, BACK, 6, false);
    uint8_t src[50], dst[PG];
    for (int i = 0; i < 50; i++)
        src[i] = (uint8_t)(0x80 + i);
    assert_int_equal(gnttab_copy_to(f->gt, BACK, r, 100, src, 50), 0);
    uint8_t *p = page(f, 6);
    for (int i = 0; i < PG; i++)
        assert_int_equal(p[i], i >= 100 && i < 150 ? 0x80 + (i - 100) : 7);
    assert_int_equal(page(f, 5)[PG - 1], 6);                /* neighbours untouched */
    assert_int_equal(page(f, 7)[0], 8);
    memset(dst, 0, sizeof(dst));
    assert_int_equal(gnttab_copy_from(f->gt, BACK, r, 90, dst, 70), 0);
    for (int i = 0; i < 70; i++)
        assert_int_equal(dst[i], i >= 10 && i < 60 ? 0x80 + (i - 10) : 7);
    assert_int_equal(dst[70], 0);                           /* no more than len */
    assert_int_equal(gnttab_copy_to(f->gt, BACK, r, PG - 3, src, 3), 0);
    assert_int_equal(p[PG - 4], 7);
    assert_int_equal(p[PG - 3], 0x80);
    assert_int_equal(p[PG - 1], 0x82);
    assert_int_equal(page(f, 7)[0], 8);
    /* a writable map is the page itself */
    uint8_t *m = gnttab_map(f->gt, BACK, r, true, NULL);
    assert_ptr_equal(m, p);
    m[5] = 0x42;
    assert_int_equal(gnttab_unmap(f->gt, r), 0);
    assert_int_equal(gnttab_copy_from(f->gt, BACK, r, 5, dst, 1), 0);
    assert_int_equal(dst[0], 0x42);
}

/* ---- threads ----------------------------------------------------------------------- */

/* The guest (domain 1) grants and ends references in rounds, page k to
 * BACK if k is even (read-only if k % 4 == 0), to OTHER if odd; two
 * backends (BACK, OTHER) copy and map every reference meanwhile. A copy
 * that succeeds must have read a whole page of the caller's parity, a map
 * of the caller's parity (and of the rw kind if writable). Between rounds
 * the guest waits until both backends made progress, so they overlap. */
#define ROUNDS 200
#define CYCLES 500          /* grant/end per round */
#define OUTSTANDING 6       /* grants the guest keeps */

struct stress {
    struct fx *f;
    atomic_bool stop;
    atomic_int err;
    atomic_long attempts[2], ok[2];
    int left[OUTSTANDING], nleft;   /* the guest's grants at its end */
    char why[160];
};

static void stress_fail(struct stress *s, int code, const char *what, long a, long b)
{
    int zero = 0;
    if (atomic_compare_exchange_strong(&s->err, &zero, code))
        snprintf(s->why, sizeof(s->why), "%s (%ld, %ld)", what, a, b);
}

static void *guest(void *arg)
{
    struct stress *s = arg;
    struct gnttab *gt = s->f->gt;
    int refs[OUTSTANDING], n = 0, k = 0;
    long seen[2] = { 0, 0 };
    for (int round = 0; round < ROUNDS && !atomic_load(&s->err); round++) {
        for (int c = 0; c < CYCLES; c++) {
            if (n == OUTSTANDING) {             /* end the oldest that is not pinned */
                int i, rc = -EBUSY;
                for (i = 0; i < n && (rc = gnttab_end(gt, (grant_ref_t)refs[i])) == -EBUSY; i++)
                    ;
                if (rc == -EBUSY)
                    continue;                   /* all pinned just now: try again */
                if (rc)
                    stress_fail(s, 1, "end", refs[i], rc);
                refs[i] = refs[--n];
            }
            int peer = k % 2 ? OTHER : BACK;
            int r = gnttab_grant(gt, peer, page(s->f, k), k % 4 == 0);
            if (r < 0 || r >= MAXENT)
                stress_fail(s, 2, "grant", k, r);
            else
                refs[n++] = r;
            k = (k + 1) % NPAGES;
        }
        double t0 = tu_now();
        for (int w = 0; w < 2; w++) {
            while (atomic_load(&s->attempts[w]) == seen[w] && !atomic_load(&s->err)) {
                if (tu_now() - t0 > TU_WAIT_S)
                    stress_fail(s, 3, "a backend made no progress (backend, round)", w, round);
                sched_yield();
            }
            seen[w] = atomic_load(&s->attempts[w]);
        }
    }
    memcpy(s->left, refs, sizeof(refs));        /* ended by the test once all stopped */
    s->nleft = n;
    return NULL;
}

struct backend {
    struct stress *s;
    int dom, w;
};

/* The page index a successful copy read (-1: not one whole page). */
static int whole_page(const uint8_t *b)
{
    for (int i = 1; i < PG; i++)
        if (b[i] != b[0])
            return -1;
    return b[0] - 1;
}

static void *backend(void *arg)
{
    struct backend *be = arg;
    struct stress *s = be->s;
    struct gnttab *gt = s->f->gt;
    int parity = be->dom == OTHER;
    uint8_t *buf = malloc(PG);
    for (unsigned i = 0; !atomic_load(&s->stop); i++) {
        grant_ref_t ref = i % (MAXENT + 1);             /* one out of range */
        int rc = gnttab_copy_from(gt, be->dom, ref, 0, buf, PG);
        if (rc == 0) {
            int k = whole_page(buf);
            if (k < 0 || k % 2 != parity)
                stress_fail(s, 10, "copied a page not granted to me (dom, page)", be->dom, k);
            atomic_fetch_add(&s->ok[be->w], 1);
        } else if (rc != -ENOENT && rc != -EPERM && !(rc == -EINVAL && ref == MAXENT)) {
            stress_fail(s, 11, "copy_from: unexpected error (ref, rc)", ref, rc);
        }
        bool writable = i & 1;
        int err = 1;
        uint8_t *p = gnttab_map(gt, be->dom, ref, writable, &err);
        if (p) {
            long k = (p - s->f->mem) / PG;
            if (err || (p - s->f->mem) % PG || k % 2 != parity || (writable && k % 4 == 0))
                stress_fail(s, 12, "mapped a page not granted so (dom, page)", be->dom, k);
            if (whole_page(p) != k)
                stress_fail(s, 13, "mapped page content (page, first byte)", k, p[0]);
            if (gnttab_unmap(gt, ref))
                stress_fail(s, 14, "unmap", ref, 0);
        } else if (err != -ENOENT && err != -EPERM && !(err == -EACCES && writable) &&
                   !(err == -EINVAL && ref == MAXENT)) {
            stress_fail(s, 15, "map: unexpected error (ref, err)", ref, err);
        }
        atomic_fetch_add(&s->attempts[be->w], 1);
    }
    free(buf);
    return NULL;
}

static void test_threads_grant_end_vs_copy(void **st)
{
    struct stress *s = calloc(1, sizeof(*s));
    s->f = *st;
    struct backend b0 = { s, BACK, 0 }, b1 = { s, OTHER, 1 };
    pthread_t tg, t0, t1;
    pthread_create(&t0, NULL, backend, &b0);
    pthread_create(&t1, NULL, backend, &b1);
    pthread_create(&tg, NULL, guest, s);
    tu_join(tg, 240, "grant stress: the granting guest");
    atomic_store(&s->stop, true);
    tu_join(t0, TU_WAIT_S, "grant stress: backend 2 after stop");
    tu_join(t1, TU_WAIT_S, "grant stress: backend 3 after stop");
    if (atomic_load(&s->err))
        fail_msg("grant stress: %s", s->why);
    for (int i = 0; i < s->nleft; i++)
        assert_int_equal(gnttab_end(s->f->gt, (grant_ref_t)s->left[i]), 0);
    printf("grant stress: %ld/%ld and %ld/%ld copies succeeded\n", (long)s->ok[0],
           (long)s->attempts[0], (long)s->ok[1], (long)s->attempts[1]);
    /* the backends overlapped granted references at least once each */
    assert_true(s->ok[0] > 0);
    assert_true(s->ok[1] > 0);
    assert_int_equal(gnttab_in_use(s->f->gt), 0);
    assert_int_equal(gnttab_pinned(s->f->gt), 0);
    for (int k = 0; k < NPAGES; k++)                    /* nobody wrote anything */
        assert_int_equal(whole_page(page(s->f, k)), k);
    free(s);
}

/* Backends keep copying while the domain is shut down; once gnttab_pinned()
 * reads 0, every later copy and map fails with -ESHUTDOWN. */
struct sd {
    struct fx *f;
    atomic_bool quiesced, stop;
    atomic_int bad;
    atomic_long after;      /* calls started after quiescence was seen */
};

static void *sd_backend(void *arg)
{
    struct sd *s = arg;
    uint8_t b[64];
    for (unsigned i = 0; !atomic_load(&s->stop); i++) {
        bool late = atomic_load(&s->quiesced);
        grant_ref_t ref = i % 4;
        int rc = gnttab_copy_from(s->f->gt, BACK, ref, 0, b, sizeof(b));
        int err = 0;
        void *p = gnttab_map(s->f->gt, BACK, ref, false, &err);
        if (p)
            gnttab_unmap(s->f->gt, ref);
        if (late) {
            if (rc != -ESHUTDOWN || p || err != -ESHUTDOWN)
                atomic_store(&s->bad, 1);
            atomic_fetch_add(&s->after, 1);
        } else if ((rc && rc != -ESHUTDOWN) || (!p && err != -ESHUTDOWN)) {
            atomic_store(&s->bad, 2);
        }
    }
    return NULL;
}

static void test_threads_shutdown_quiesces(void **st)
{
    struct sd *s = calloc(1, sizeof(*s));
    s->f = *st;
    for (int k = 0; k < 4; k++)
        assert_int_equal(gnttab_grant(s->f->gt, BACK, page(s->f, k), false), k);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, sd_backend, s);
    for (int i = 0; i < 1000; i++)
        sched_yield();
    gnttab_shutdown(s->f->gt);
    double t0 = tu_now();
    while (gnttab_pinned(s->f->gt) != 0) {
        if (tu_now() - t0 > TU_WAIT_S)
            fail_msg("pins never drained after shutdown");
        sched_yield();
    }
    atomic_store(&s->quiesced, true);
    t0 = tu_now();
    while (atomic_load(&s->after) < 1000 && tu_now() - t0 < TU_WAIT_S)
        sched_yield();
    atomic_store(&s->stop, true);
    for (int i = 0; i < 2; i++)
        tu_join(t[i], TU_WAIT_S, "shutdown: backend after stop");
    assert_int_equal(atomic_load(&s->bad), 0);
    assert_true(atomic_load(&s->after) >= 1000);
    assert_int_equal(gnttab_pinned(s->f->gt), 0);
    for (int k = 0; k < 4; k++)
        assert_int_equal(gnttab_end(s->f->gt, (grant_ref_t)k), 0);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_validation),
        cmocka_unit_test_setup_teardown(test_grant_lowest_refs_and_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grant_unaligned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grant_outside_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grant_bad_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_domain_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_while_mapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmap_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_ref_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_not_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_after_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_wrong_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_to_readonly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regrant_refuses_old_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bytes_land_at_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_grant_end_vs_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_shutdown_quiesces, setup, teardown),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
