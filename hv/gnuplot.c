/* gnuplot.c — finding and running gnuplot (gnuplot.h). */
#include "gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

bool gp_available(void)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        char buf[PATH_MAX];
        /* An empty PATH element means the current directory. */
        if (snprintf(buf, sizeof(buf), "%.*s/gnuplot", (int)len, len ? path : ".") < (int)sizeof(buf)
            && access(buf, X_OK) == 0)
            return true;
        path += len + (path[len] == ':');
    }
    return false;
}

static bool has_probe(const char *dir, const char *probe)
{
    char p[PATH_MAX];
    return snprintf(p, sizeof(p), "%s/%s", dir, probe) < (int)sizeof(p) && access(p, R_OK) == 0;
}

/* Next to the executable: build/fairvisor finds tools/gnuplot of the tree
 * it was built in, an installed one its own share of it. The source tree
 * the library was compiled from comes last, for tests run from anywhere. */
int gp_template_dir(const char *probe, char *out, size_t n)
{
    const char *env = getenv("FV_GNUPLOT_DIR");
    if (env && *env && has_probe(env, probe))
        return snprintf(out, n, "%s", env) < (int)n ? 0 : -ENAMETOOLONG;
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len > 0) {
        exe[len] = '\0';
        const char *dir = dirname(exe);
        const char *rel[] = { "../tools/gnuplot", "tools/gnuplot" };
        for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++)
            if (snprintf(out, n, "%s/%s", dir, rel[i]) < (int)n && has_probe(out, probe))
                return 0;
    }
#ifdef FV_SOURCE_DIR
    if (snprintf(out, n, "%s/tools/gnuplot", FV_SOURCE_DIR) < (int)n && has_probe(out, probe))
        return 0;
#endif
    return -ENOENT;
}

void gp_put(FILE *m, const char *name, const char *val)
{
    fprintf(m, "%s='", name);
    for (const char *p = val; *p; p++) {
        if (*p == '\n' || *p == '\r')
            fputc(' ', m);
        else if (*p == '\'')
            fputs("''", m);
        else
            fputc(*p, m);
    }
    fputs("'; ", m);
}

char *gp_image_vars(const char *vars, const char *term, const char *out)
{
    char *all = NULL;
    size_t len;
    FILE *m = open_memstream(&all, &len);
    if (!m)
        return NULL;
    fputs(vars, m);
    gp_put(m, "term", term);
    gp_put(m, "out", out);
    if (fclose(m) != 0) {
        free(all);
        return NULL;
    }
    return all;
}

/* Read fd to its end keeping the last outlen - 1 bytes (the error comes
 * after any warnings), the oldest dropped as the newest arrive. */
static void collect(int fd, char *out, size_t outlen)
{
    size_t used = 0, room = outlen - 1;
    char tmp[1024];
    for (;;) {
        ssize_t r = read(fd, tmp, sizeof(tmp));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t take = (size_t)r < room ? (size_t)r : room;
        if (used + take > room) {
            memmove(out, out + (used + take - room), room - take);
            used = room - take;
        }
        memcpy(out + used, tmp + ((size_t)r - take), take);
        used += take;
    }
    out[used] = '\0';
}

int gp_run(const char *vars, const char *tmpl, char *out, size_t outlen, int *status)
{
    int p[2];
    *status = 0;
    out[0] = '\0';
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    /* Both streams: gnuplot reports most errors on stderr, but a
     * template's `print` (set print "-") and some messages go to stdout. */
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    char *argv[] = { "gnuplot", "-e", (char *)vars, (char *)tmpl, NULL };
    pid_t pid;
    int rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        snprintf(out, outlen, "cannot run gnuplot: %s", strerror(rc));
        return -rc;
    }
    collect(p[0], out, outlen);
    /* Closed before waiting: should the read have failed, a gnuplot still
     * writing gets EPIPE rather than blocking forever on a full pipe. */
    close(p[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -errno;
    *status = st;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

const char *gp_wait_text(int status, char *buf, size_t n)
{
    if (WIFSIGNALED(status))
        snprintf(buf, n, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, n, "exit status %d", WEXITSTATUS(status));
    return buf;
}

const char *gp_last_line(char *out)
{
    size_t used = strlen(out);
    while (used && (out[used - 1] == '\n' || out[used - 1] == ' '))
        out[--used] = '\0';
    const char *last = strrchr(out, '\n');
    return last ? last + 1 : out;
}

int gp_commit_image(const char *tmp, const char *final)
{
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int err = fstat(fd, &st) < 0 ? -errno : st.st_size == 0 ? -EIO : 0;
    if (!err && fsync(fd) < 0)
        err = -errno;
    close(fd);
    if (!err && rename(tmp, final) < 0)
        err = -errno;
    return err;
}
