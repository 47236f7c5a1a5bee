/* ctx_x86_64.S — the context switch for x86-64 (SysV ABI). See ctx.h.
 * Frame saved on the old stack, top to bottom: rbp rbx r12 r13 r14 r15,
 * then 8 bytes holding MXCSR (low 4) and the x87 control word (next 2). */
#if defined(__x86_64__)
    .text
    .globl fv_ctx_swap
    .type fv_ctx_swap, @function
/* void fv_ctx_swap(void **save, void *load) */
fv_ctx_swap:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size fv_ctx_swap, .-fv_ctx_swap

/* First return of a new context lands here with r12 = boot function and
 * r13 = its argument (see fv_ctx_make); rsp is 16-byte aligned. */
    .globl fv_ctx_trampoline
    .type fv_ctx_trampoline, @function
fv_ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip          /* outermost frame: unwinders stop here */
    xorl %ebp, %ebp
    movq %r13, %rdi
    callq *%r12
    ud2                         /* the boot function never returns */
    .cfi_endproc
    .size fv_ctx_trampoline, .-fv_ctx_trampoline
#endif
    .section .note.GNU-stack,"",@progbits
