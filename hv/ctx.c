/* ctx.c — context creation, sanitizer bookkeeping and stacks. See ctx.h. */
#include "ctx.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fault.h"

#if defined(__SANITIZE_ADDRESS__)
#define FV_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(__SANITIZE_THREAD__)
#define FV_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif

#if !defined(__x86_64__)
#error "fv_ctx_swap is written for x86-64 only so far (see ctx_x86_64.S)"
#endif

void fv_ctx_trampoline(void);

/* The context being left by the switch in progress on this thread: the
 * context we arrive in must tell ASan the stack bounds of the one we left. */
static __thread struct fv_ctx *switching_from;

static void after_switch(void *fake)
{
#ifdef FV_ASAN
    struct fv_ctx *from = switching_from;
    const void *lo;
    size_t size;
    __sanitizer_finish_switch_fiber(fake, &lo, &size);
    if (from && !from->stack_lo) {          /* a thread's own stack: learn it */
        from->stack_lo = (void *)lo;
        from->stack_size = size;
    }
#else
    (void)fake;
#endif
}

static void ctx_boot(void *p)
{
    struct fv_ctx *c = p;
    after_switch(NULL);
    c->fn(c->arg);
    abort();
}

void fv_ctx_make(struct fv_ctx *c, void *stack_lo, size_t size, void (*fn)(void *), void *arg)
{
    memset(c, 0, sizeof(*c));
    c->stack_lo = stack_lo;
    c->stack_size = size;
    c->fn = fn;
    c->arg = arg;
    uintptr_t top = ((uintptr_t)stack_lo + size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 64);  /* ret lands with rsp == top: aligned */
    sp[0] = 0x037F00001F80ULL;              /* MXCSR default, x87 CW default */
    sp[1] = 0;                              /* r15 */
    sp[2] = 0;                              /* r14 */
    sp[3] = (uint64_t)(uintptr_t)c;         /* r13: boot argument */
    sp[4] = (uint64_t)(uintptr_t)ctx_boot;  /* r12: boot function */
    sp[5] = 0;                              /* rbx */
    sp[6] = 0;                              /* rbp */
    sp[7] = (uint64_t)(uintptr_t)fv_ctx_trampoline;
    c->sp = sp;
#ifdef FV_TSAN
    c->san_fake = __tsan_create_fiber(0);
#endif
}

void fv_ctx_init_thread(struct fv_ctx *c)
{
    memset(c, 0, sizeof(*c));
#ifdef FV_TSAN
    c->san_fake = __tsan_get_current_fiber();
#endif
}

void fv_ctx_switch(struct fv_ctx *from, struct fv_ctx *to)
{
    void *fake = NULL;
#ifdef FV_ASAN
    __sanitizer_start_switch_fiber(&fake, to->stack_lo, to->stack_size);
#endif
#ifdef FV_TSAN
    __tsan_switch_to_fiber(to->san_fake, 0);
#endif
    switching_from = from;
    fv_ctx_swap(&from->sp, to->sp);
    after_switch(fake);
}

int fv_ctx_max(void)
{
#ifdef FV_TSAN
    return 8000;                    /* TSan's 8,128 threads, less the real ones */
#else
    return INT_MAX;
#endif
}

void fv_ctx_destroy(struct fv_ctx *c)
{
#ifdef FV_TSAN
    if (c->fn && c->san_fake)
        __tsan_destroy_fiber(c->san_fake);
#endif
    c->san_fake = NULL;
}

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

void *fv_stack_alloc(size_t size)
{
    size_t pg = page_size();
    size = (size + pg - 1) & ~(pg - 1);
    /* NORESERVE: thousands of vCPUs reserve address space, not memory;
     * only the pages a guest touches are ever backed. */
    char *p = mmap(NULL, size + pg, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (fv_fault("stack") || fv_guard_page(p, NULL)) {
        munmap(p, size + pg);
        return NULL;
    }
    fv_stack_unpoison(p + pg, size);
    return p + pg;
}

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102      /* <linux/mman.h> of Linux 6.13 */
#endif

/* -1 unknown, 0 the kernel refused it once (no need to ask again), 1 works */
static _Atomic int guard_madvise_ok = -1;

int fv_guard_page(void *p, int *split)
{
    size_t pg = page_size();
    if (split)
        *split = 0;
    if (guard_madvise_ok != 0 && !fv_fault("guard-madvise")) {
        if (madvise(p, pg, MADV_GUARD_INSTALL) == 0) {
            guard_madvise_ok = 1;
            return 0;
        }
        if (errno != EINVAL)        /* EINVAL: a kernel without guard regions */
            return -errno;
        guard_madvise_ok = 0;
    }
    if (mprotect(p, pg, PROT_NONE))
        return -errno;
    if (split)
        *split = 1;
    return 0;
}

/* Mappings this process may still create: vm.max_map_count less what
 * /proc/self/maps lists now, less room for what the rest of the run maps
 * (malloc arenas, threads, sanitizer runtimes). Unknown: assume plenty. */
static long map_budget(void)
{
    long max = 0, used = 0;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
    if (!f || fscanf(f, "%ld", &max) != 1)
        max = 0;
    if (f)
        fclose(f);
    if (max <= 0)
        return LONG_MAX;
    if (!(f = fopen("/proc/self/maps", "re")))
        return LONG_MAX;
    int ch;
    while ((ch = getc(f)) != EOF)
        used += ch == '\n';
    fclose(f);
    long left = max - used - 4096;
    return left > 0 ? left : 0;
}

int fv_stack_arena_init(struct fv_stack_arena *a, int n, size_t size)
{
    size_t pg = page_size();
    memset(a, 0, sizeof(*a));
    if (n <= 0)
        return 0;
    size = (size + pg - 1) & ~(pg - 1);
    a->slot = size + pg;
    a->size = size;
    if (__builtin_mul_overflow((size_t)n, a->slot, &a->len))
        return -ENOMEM;
    if (fv_fault("stack-arena"))
        return -ENOMEM;
    /* NORESERVE: only the pages a guest touches are ever backed. */
    void *p = mmap(NULL, a->len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        a->len = 0;
        return -errno;
    }
    a->base = p;
    a->n = n;
    fv_stack_unpoison(a->base, a->len);
    long budget = -1;               /* mappings left for mprotect guards */
    for (int i = 0; i < n; i++) {
        int split, rc;
        if (budget >= 0 && budget < 2) {
            a->unguarded = n - i;
            break;
        }
        if ((rc = fv_guard_page(a->base + (size_t)i * a->slot, &split))) {
            if (rc == -ENOMEM && budget >= 0) {
                /* mprotect ran out of mappings before the budget said it
                 * would (something else mapped meanwhile): no more guards. */
                a->unguarded = n - i;
                break;
            }
            fv_stack_arena_fini(a);
            return rc;
        }
        if (split && budget < 0)
            budget = map_budget();
        if (split)
            budget -= 2;
    }
    return 0;
}

void *fv_stack_arena_get(const struct fv_stack_arena *a, int i)
{
    return a->base + (size_t)i * a->slot + (a->slot - a->size);
}

void fv_stack_arena_fini(struct fv_stack_arena *a)
{
    if (a->base) {
        fv_stack_unpoison(a->base, a->len);
        munmap(a->base, a->len);
    }
    memset(a, 0, sizeof(*a));
}

void fv_stack_free(void *lo, size_t size)
{
    if (!lo)
        return;
    size_t pg = page_size();
    size = (size + pg - 1) & ~(pg - 1);
    fv_stack_unpoison(lo, size);
    munmap((char *)lo - pg, size + pg);
}

void fv_stack_unpoison(void *lo, size_t size)
{
    /* A context abandoned mid-function leaves its frames' redzones poisoned
     * in ASan's shadow; a later mmap can return the same addresses. */
#ifdef FV_ASAN
    __asan_unpoison_memory_region(lo, size);
#else
    (void)lo;
    (void)size;
#endif
}

size_t fv_stack_default_size(void)
{
#if defined(FV_ASAN) || defined(FV_TSAN)
    return 512 * 1024;
#else
    return 64 * 1024;
#endif
}
