/* testutil.h — small helpers shared by the tests. */
#ifndef FV_TESTUTIL_H
#define FV_TESTUTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* Path of a file in the source tree (static buffer, valid until next call). */
const char *tu_src(const char *rel);
/* The fairvisor binary: $FV_BIN (ctest sets it), else the one built next
 * to the tests. */
const char *tu_bin(void);
/* Make a fresh temporary directory; returns its path (malloc'd). */
char *tu_tmpdir(void);
/* Remove dir and everything under it (nftw, FTW_DEPTH|FTW_PHYS: symlinks
 * are removed, never followed). Returns 0, or -1 if anything could not be
 * removed (the reason is printed on stderr). A NULL or absent dir is a
 * no-op. */
int tu_rmtree(const char *dir);
/* Write text to a new file dir/name, return its path (malloc'd). */
char *tu_write(const char *dir, const char *name, const char *text);
/* Read a whole file (malloc'd, NUL-terminated) or NULL. */
char *tu_read(const char *path, size_t *len);
/* Run a shell command, capture stdout+stderr into *out (malloc'd); return
 * the exit status (or -1). */
int tu_run(const char *cmd, char **out);
/* Run `fairvisor ARGS` (tu_bin) from the source tree, as tu_run. */
int tu_fairvisor(const char *args, char **out);
/* Run s on the virtual-time engine (o may be NULL); fail the test with
 * the engine's message if it refuses. */
struct scenario;
struct run_result;
struct engine_opts;
void tu_sim_ok(const struct scenario *s, struct run_result *r, const struct engine_opts *o);
/* DIR/summary.json of a run, parsed (json_decref it); fails the test if it
 * is missing or not JSON. */
struct json_t;
struct json_t *tu_summary(const char *dir);

/* Skips. cmocka's skip() alone leaves the executable's exit status 0, which
 * ctest reports as "Passed". A test that cannot run for want of something
 * calls TU_SKIP("why"), and main returns
 * tu_status(cmocka_run_group_tests(...)): the number of failures if any
 * (at most 76), else 77 (ctest's SKIP_RETURN_CODE: "Skipped") if anything was skipped,
 * else 0. Something tools/deps installs and CI must have (gnuplot, say) is
 * not a reason to skip: the test fails, naming it. */
extern int tu_skipped;
#define TU_SKIP(...)                                                           \
    do {                                                                       \
        print_message("[ SKIPPED  ] " __VA_ARGS__);                            \
        print_message("\n");                                                   \
        tu_skipped++;                                                          \
        skip();                                                                \
    } while (0)
int tu_status(int failed);

/* Bounded waits. Every wait for something another thread (or process) must
 * do has a deadline, after which the test fails saying what it waited for;
 * ctest's TIMEOUT (tests/CMakeLists.txt) is only the last resort. */
#define TU_WAIT_S 30.0      /* generous: ASan build on a loaded 2-core machine */
/* Monotonic clock, seconds. */
double tu_now(void);
/* Join t within `secs`, or print "still running after N s: what" and exit
 * the test executable with status 1 (a thread that never ends cannot be
 * left behind: teardown would free what it is using). */
void tu_join(pthread_t t, double secs, const char *what);

#endif
