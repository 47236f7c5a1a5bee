#include "testutil.h"

#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hv/engine.h"

const char *tu_src(const char *rel)
{
    static char buf[4096];
    const char *root = getenv("FV_SOURCE_DIR");
    snprintf(buf, sizeof(buf), "%s/%s", root ? root : FV_SOURCE_DIR, rel);
    return buf;
}

const char *tu_bin(void)
{
    const char *b = getenv("FV_BIN");
    return b && *b ? b : FV_BIN_DEFAULT;
}

int tu_fairvisor(const char *args, char **out)
{
    char *cmd = NULL;
    if (asprintf(&cmd, "cd %s && %s %s", tu_src(""), tu_bin(), args) < 0)
        abort();
    int rc = tu_run(cmd, out);
    free(cmd);
    return rc;
}

char *tu_tmpdir(void)
{
    char *t = strdup("/tmp/fvtest.XXXXXX");
    if (!t || !mkdtemp(t))
        abort();
    return t;
}

static int rmtree_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int r = (flag == FTW_DP) ? rmdir(path) : unlink(path);
    if (r != 0)
        fprintf(stderr, "tu_rmtree: cannot remove %s: %s\n", path,
                strerror(errno));
    return 0; /* keep going: remove as much as possible */
}

int tu_rmtree(const char *dir)
{
    struct stat st;
    if (!dir || (lstat(dir, &st) != 0 && errno == ENOENT))
        return 0;                   /* nothing to remove */
    if (nftw(dir, rmtree_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        fprintf(stderr, "tu_rmtree: cannot walk %s: %s\n", dir,
                strerror(errno));
        return -1;
    }
    return lstat(dir, &st) == 0 ? -1 : 0;
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

int tu_skipped;

int tu_status(int failed)
{
    /* cmocka returns the number of failures: keep it an exit status that
     * is neither 0 (mod 256) nor ctest's 77 for "skipped". */
    if (failed < 0)
        return 1;
    if (failed)
        return failed < 77 ? failed : 76;
    return tu_skipped ? 77 : 0;
}

double tu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void tu_join(pthread_t t, double secs, const char *what)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);     /* pthread_timedjoin_np's clock */
    dl.tv_sec += (time_t)secs;
    dl.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    int rc = pthread_timedjoin_np(t, NULL, &dl);
    if (rc == 0)
        return;
    fprintf(stderr, "FAILED: still running after %.0f s: %s (%s)\n", secs, what, strerror(rc));
    fflush(NULL);
    _exit(1);
}

json_t *tu_summary(const char *dir)
{
    char *p = NULL;
    if (asprintf(&p, "%s/summary.json", dir) < 0)
        abort();
    json_error_t e;
    json_t *j = json_load_file(p, 0, &e);
    if (!j)
        fail_msg("%s: %s", p, e.text);
    free(p);
    return j;
}

void tu_sim_ok(const struct scenario *s, struct run_result *r, const struct engine_opts *o)
{
    char err[512] = "";
    int rc = sim_run(s, o, r, err, sizeof(err));
    if (rc)
        fail_msg("sim_run: %d %s", rc, err);
}
