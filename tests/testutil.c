#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

const char *tu_src(const char *rel)
{
    static char buf[4096];
    const char *root = getenv("FV_SOURCE_DIR");
    snprintf(buf, sizeof(buf), "%s/%s", root ? root : FV_SOURCE_DIR, rel);
    return buf;
}

char *tu_tmpdir(void)
{
    char *t = strdup("/tmp/fvtest.XXXXXX");
    if (!t || !mkdtemp(t))
        abort();
    return t;
}

char *tu_write(const char *dir, const char *name, const char *text)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        abort();
    FILE *f = fopen(p, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
    return p;
}

char *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap + 1);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, (cap *= 2) + 1);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    if (b) {
        b[n] = 0;
        if (len)
            *len = n;
    }
    return b;
}

int tu_run(const char *cmd, char **out)
{
    char *full = NULL;
    if (asprintf(&full, "(%s) 2>&1", cmd) < 0)
        return -1;
    FILE *p = popen(full, "r");
    free(full);
    if (!p)
        return -1;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap + 1);
    size_t r;
    while ((r = fread(b + n, 1, cap - n, p)) > 0) {
        n += r;
        if (n == cap)
            b = realloc(b, (cap *= 2) + 1);
    }
    b[n] = 0;
    int st = pclose(p);
    if (out)
        *out = b;
    else
        free(b);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
