/* ctx.h — user-level execution contexts (vCPUs) and the switch between them.
 *
 * The switch saves only what the SysV ABI says a callee must preserve
 * (rbx, rbp, r12-r15, the MXCSR control bits and the x87 control word on
 * x86-64; x19-x29, lr, d8-d15 and FPCR on aarch64), because it is always
 * entered by a function call: the compiler has already spilled everything
 * else. No system call on this path (ucontext's swapcontext makes one for
 * the signal mask, which is why it is not used).
 *
 * Sanitizers: under ASan the switch tells the runtime about the stack change
 * (__sanitizer_start/finish_switch_fiber), under TSan it switches fibers
 * (__tsan_switch_to_fiber), so both keep working across contexts.
 */
#ifndef FV_CTX_H
#define FV_CTX_H

#include <stddef.h>

struct fv_ctx {
    void *sp;                   /* saved stack pointer while switched out */
    void *stack_lo;             /* lowest usable byte (above the guard page) */
    size_t stack_size;
    void (*fn)(void *);         /* entry, for a context made by fv_ctx_make */
    void *arg;
    void *san_fake;             /* ASan fake stack / TSan fiber */
};

/* Initialise `c` to run fn(arg) on [stack_lo, stack_lo + size) when first
 * switched to. fn must never return (switch away for good instead). */
void fv_ctx_make(struct fv_ctx *c, void *stack_lo, size_t size, void (*fn)(void *), void *arg);

/* The context of the calling thread's own stack (no allocation). */
void fv_ctx_init_thread(struct fv_ctx *c);

/* Save the current context in `from` and resume `to`. Returns when someone
 * switches back to `from`. */
void fv_ctx_switch(struct fv_ctx *from, struct fv_ctx *to);

/* Does p lie on c's stack? (A signal handler asks whether it interrupted
 * the context it would switch away from.) */
static inline int fv_ctx_on_stack(const struct fv_ctx *c, const void *p)
{
    const char *a = p, *lo = c->stack_lo;
    return a >= lo && (size_t)(a - lo) < c->stack_size;
}

/* How many contexts a process may make: unlimited (INT_MAX) but under
 * ThreadSanitizer, which counts each context as a thread (fiber) against
 * its limit of 8,128 threads and dies past it. */
int fv_ctx_max(void);

/* Release per-context sanitizer state (a context that will never run again). */
void fv_ctx_destroy(struct fv_ctx *c);

/* Stacks: mmap'ed with a guard page below, so an overflow faults instead
 * of corrupting a neighbour. Returns the usable low address or NULL. */
void *fv_stack_alloc(size_t size);
void fv_stack_free(void *lo, size_t size);

/* Make the page at p (page-aligned) fault on any access. With
 * madvise(MADV_GUARD_INSTALL) where the kernel has it (Linux 6.13 and
 * later: a page-table marker that leaves the mapping whole), else with
 * mprotect(PROT_NONE), which splits the mapping: a process may hold only
 * vm.max_map_count (65,530 by default) mappings, two per guarded stack.
 * *split (may be NULL) is set when mprotect was used. 0 or -errno. */
int fv_guard_page(void *p, int *split);

/* Many stacks in one mapping (thousands of vCPUs): slot i is a guard page
 * then `size` usable bytes. Guards are installed as fv_guard_page does;
 * when only mprotect is available and the host's mapping budget would run
 * out, the remaining stacks go without a guard (counted in `unguarded`)
 * rather than the run failing. */
struct fv_stack_arena {
    char *base;                 /* the mapping */
    size_t len, slot, size;     /* whole mapping, one slot, usable per slot */
    int n;
    int unguarded;              /* stacks left without a guard page */
};
int fv_stack_arena_init(struct fv_stack_arena *a, int n, size_t size);
void *fv_stack_arena_get(const struct fv_stack_arena *a, int i);
void fv_stack_arena_fini(struct fv_stack_arena *a);
/* Forget sanitizer state about [lo, lo + size): memory about to hold (or
 * that held) contexts abandoned mid-function. No-op without ASan. */
void fv_stack_unpoison(void *lo, size_t size);
/* Default vCPU stack size (larger under sanitizers, whose frames are big). */
size_t fv_stack_default_size(void);

/* The raw switch (assembly): *save = sp; sp = load; pop; ret. */
void fv_ctx_swap(void **save, void *load);

#endif
