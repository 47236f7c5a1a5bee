/* testutil.h — small helpers shared by the tests. */
#ifndef FV_TESTUTIL_H
#define FV_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* Path of a file in the source tree (static buffer, valid until next call). */
const char *tu_src(const char *rel);
/* Make a fresh temporary directory; returns its path (malloc'd). */
char *tu_tmpdir(void);
/* Write text to a new file dir/name, return its path (malloc'd). */
char *tu_write(const char *dir, const char *name, const char *text);
/* Read a whole file (malloc'd, NUL-terminated) or NULL. */
char *tu_read(const char *path, size_t *len);
/* Run a shell command, capture stdout+stderr into *out (malloc'd); return
 * the exit status (or -1). */
int tu_run(const char *cmd, char **out);

#endif
