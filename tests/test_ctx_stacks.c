/* test_ctx_stacks.c — vCPU stacks for thousands of domains (hv/ctx.c): one
 * mapping for all of them, a guard page below each that faults on touch,
 * whether made with MADV_GUARD_INSTALL or, on an older kernel (forced here
 * with FV_FAULT=guard-madvise), with mprotect. */
#include "testutil.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hv/ctx.h"

static int maps_lines(void)
{
    FILE *f = fopen("/proc/self/maps", "re");
    assert_non_null(f);
    int n = 0, ch;
    while ((ch = getc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

/* In a child: make an arena of 4 stacks, write the top and bottom byte of
 * stack 1 (fine), then the last byte of its guard page. The child must
 * die there of SIGSEGV: exit 0 would mean the write went through. */
static void guard_faults(const char *fault)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* cmocka (and ASan) catch SIGSEGV: the child must simply die of it. */
        signal(SIGSEGV, SIG_DFL);
        if (fault)
            setenv("FV_FAULT", fault, 1);
        struct fv_stack_arena a;
        if (fv_stack_arena_init(&a, 4, 64 * 1024) || a.unguarded)
            _exit(3);
        char *lo = fv_stack_arena_get(&a, 1);
        lo[0] = 1;
        lo[a.size - 1] = 1;
        ((volatile char *)lo)[-1] = 1;
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFEXITED(st))
        fail_msg("%s: the child exited %d: %s", fault ? fault : "madvise", WEXITSTATUS(st),
                 WEXITSTATUS(st) ? "no guarded arena" : "the guard page did not fault");
    assert_int_equal(WTERMSIG(st), SIGSEGV);
}

static bool kernel_has_guard_regions(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    bool ok = madvise(p, (size_t)pg, 102 /* MADV_GUARD_INSTALL */) == 0;
    munmap(p, (size_t)pg);
    return ok;
}

static void test_guard_page_faults(void **st)
{
    (void)st;
    if (kernel_has_guard_regions())
        guard_faults(NULL);
    guard_faults("guard-madvise");
}

/* 40,000 stacks (more than vm.max_map_count allows at two mappings a
 * stack) cost one mapping with guard regions; with mprotect the arena
 * guards what the mapping budget allows and leaves the rest unguarded. */
static void test_many_stacks(void **st)
{
    (void)st;
    if (!kernel_has_guard_regions())
        TU_SKIP("this kernel has no MADV_GUARD_INSTALL (Linux 6.13)");
    int before = maps_lines();
    struct fv_stack_arena a;
    assert_int_equal(fv_stack_arena_init(&a, 40000, 64 * 1024), 0);
    assert_int_equal(a.unguarded, 0);
    int after = maps_lines();
    printf("40,000 guarded stacks: %d more mappings\n", after - before);
    /* One for the arena (1 here); sanitizer runtimes may map shadow memory
     * for it too. What matters: not one or two per stack (80,000). */
    assert_true(after - before < 100);
    /* Every stack is usable end to end. */
    for (int i = 0; i < 40000; i += 997) {
        char *lo = fv_stack_arena_get(&a, i);
        lo[0] = lo[a.size - 1] = 1;
    }
    fv_stack_arena_fini(&a);
    assert_null(a.base);
}

static void test_many_stacks_mprotect(void **st)
{
    (void)st;
    setenv("FV_FAULT", "guard-madvise", 1);
    struct fv_stack_arena a;
    int rc = fv_stack_arena_init(&a, 40000, 64 * 1024);
    unsetenv("FV_FAULT");
    assert_int_equal(rc, 0);
    printf("40,000 stacks with mprotect guards: %d unguarded\n", a.unguarded);
    assert_true(a.unguarded > 0 && a.unguarded < 40000);
    /* The guarded ones come first: the last stack has no guard below it. */
    char *last = fv_stack_arena_get(&a, 39999);
    last[-1] = 1;
    fv_stack_arena_fini(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guard_page_faults),
        cmocka_unit_test(test_many_stacks),
        cmocka_unit_test(test_many_stacks_mprotect),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
