/* bench_ctx.c — the cost of one vCPU context switch, against a floor and a
 * reference (issue 3). Every benchmark reports ns per switch (per call for
 * the floor): one iteration is one switch, a round trip counts two.
 *
 *   call/indirect          a noinline call through a volatile function
 *                          pointer: the floor of any switch entered by call
 *   switch/bare_swap       fv_ctx_swap (the assembly alone) ping-ponging
 *                          between two stacks: callee-saved registers,
 *                          MXCSR and x87 control word
 *   switch/vcpu            fv_ctx_switch between an engine context (the
 *                          thread's own stack) and a vCPU context (an mmap'ed
 *                          stack), as hv/sim.c does: swap + bookkeeping
 *   switch/ucontext        swapcontext(3) for comparison (it saves the whole
 *                          FP environment and makes a sigprocmask system call)
 *
 * The bare swap and ucontext are not measured in a sanitizer build: neither
 * tells the sanitizer runtime about the stack change (fv_ctx_switch does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

#include "gbench.h"
#include "hv/ctx.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BENCH_SANITIZED 1
#endif

#define BATCH 1000      /* iterations per gb_keep_running_batch: even */

static void *stack_or_die(size_t size)
{
    void *lo = fv_stack_alloc(size);
    if (!lo) {
        perror("bench_ctx: fv_stack_alloc");
        exit(1);
    }
    return lo;
}

/* ---- floor: an indirect call ------------------------------------------- */

__attribute__((noinline)) static void empty_fn(void)
{
    __asm__ volatile("");
}

static void (*volatile call_target)(void) = empty_fn;

static void bm_call(gb_state *st, void *arg)
{
    (void)arg;
    while (gb_keep_running_batch(st, BATCH))
        for (int i = 0; i < BATCH; i++)
            call_target();
}

/* ---- the bare swap --------------------------------------------------------- */

#ifndef BENCH_SANITIZED
static struct fv_ctx bare_main, bare_peer;

__attribute__((noreturn)) static void bare_peer_fn(void *arg)
{
    (void)arg;
    for (;;)
        fv_ctx_swap(&bare_peer.sp, bare_main.sp);
}

static void bm_bare_swap(gb_state *st, void *arg)
{
    (void)arg;
    size_t size = fv_stack_default_size();
    void *stack = stack_or_die(size);
    fv_ctx_init_thread(&bare_main);
    /* fv_ctx_make lays the first frame; its boot path is a no-op without
     * sanitizers, so the raw swap can start the context. */
    fv_ctx_make(&bare_peer, stack, size, bare_peer_fn, NULL);
    fv_ctx_swap(&bare_main.sp, bare_peer.sp);           /* boot, warm up */
    while (gb_keep_running_batch(st, BATCH))
        for (int i = 0; i < BATCH / 2; i++)
            fv_ctx_swap(&bare_main.sp, bare_peer.sp);   /* there and back: 2 */
    fv_ctx_destroy(&bare_peer);                         /* parked for good */
    fv_stack_free(stack, size);
}
#endif

/* ---- the vCPU switch, as the engines use it ---------------------------- */

static struct fv_ctx engine_ctx, vcpu_ctx;

__attribute__((noreturn)) static void vcpu_fn(void *arg)
{
    (void)arg;
    for (;;)
        fv_ctx_switch(&vcpu_ctx, &engine_ctx);
}

static void bm_vcpu_switch(gb_state *st, void *arg)
{
    (void)arg;
    size_t size = fv_stack_default_size();
    void *stack = stack_or_die(size);
    fv_ctx_init_thread(&engine_ctx);
    fv_ctx_make(&vcpu_ctx, stack, size, vcpu_fn, NULL);
    fv_ctx_switch(&engine_ctx, &vcpu_ctx);              /* boot, warm up */
    while (gb_keep_running_batch(st, BATCH))
        for (int i = 0; i < BATCH / 2; i++)
            fv_ctx_switch(&engine_ctx, &vcpu_ctx);      /* there and back: 2 */
    fv_ctx_destroy(&vcpu_ctx);
    fv_stack_free(stack, size);
}

/* ---- ucontext ------------------------------------------------------------ */

#ifndef BENCH_SANITIZED
static ucontext_t uc_main, uc_peer;

static void uc_peer_fn(void)
{
    for (;;)
        swapcontext(&uc_peer, &uc_main);
}

static void bm_ucontext(gb_state *st, void *arg)
{
    (void)arg;
    size_t size = fv_stack_default_size();
    void *stack = stack_or_die(size);
    if (getcontext(&uc_peer)) {
        gb_skip_with_error(st, "getcontext failed");
        fv_stack_free(stack, size);
        return;
    }
    uc_peer.uc_stack.ss_sp = stack;
    uc_peer.uc_stack.ss_size = size;
    uc_peer.uc_link = NULL;
    makecontext(&uc_peer, uc_peer_fn, 0);
    swapcontext(&uc_main, &uc_peer);                    /* boot, warm up */
    while (gb_keep_running_batch(st, BATCH))
        for (int i = 0; i < BATCH / 2; i++)
            swapcontext(&uc_main, &uc_peer);            /* there and back: 2 */
    fv_stack_free(stack, size);
}
#endif

#ifdef BENCH_SANITIZED
static void bm_unannotated(gb_state *st, void *arg)
{
    (void)arg;
    gb_skip_with_error(st, "not measured under sanitizers (the switch is unannotated)");
}
#define bm_bare_swap bm_unannotated
#define bm_ucontext bm_unannotated
#endif

int main(int argc, char **argv)
{
    gb_register("call/indirect", bm_call, NULL);
    gb_register("switch/bare_swap", bm_bare_swap, NULL);
    gb_register("switch/vcpu", bm_vcpu_switch, NULL);
    gb_register("switch/ucontext", bm_ucontext, NULL);
    return gb_main(argc, argv);
}
