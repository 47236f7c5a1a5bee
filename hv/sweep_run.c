/* sweep_run.c — a sweep's points as child processes on this machine.
 *
 * Each point is `EXE run ...` (sweep_point_argv), its stdout and stderr in
 * logs/P.log, its exit status written to logs/P.status when it ends: the
 * same files a Slurm task leaves, so the report reads both alike.
 *
 * The children run in process groups of their own, so that the terminal's
 * Ctrl-C reaches only the sweep, which decides: the first stops launching
 * and lets the running points finish (a sim point takes well under a
 * second; their results are kept); a second sends them SIGTERM, on which
 * `fairvisor run` stops and keeps partial results. A point stopped so gets
 * no status file: it is reported missing, as one never launched.
 */
#include "sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t interrupts;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupts++;
}

struct child {
    pid_t pid;
    int point;
    struct timespec start;
};

static int spawn_point(const struct sweep_grid *g, const char *dir, const char *exe, int p,
                       pid_t *pid)
{
    char out[PATH_MAX], log[PATH_MAX];
    snprintf(out, sizeof(out), "%s/runs/%d", dir, p);
    snprintf(log, sizeof(log), "%s/logs/%d.log", dir, p);
    char **argv = sweep_point_argv(g, p, exe, out);
    if (!argv)
        return -ENOMEM;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_init(&at);
    /* Own process group (Ctrl-C is the sweep's to handle); SIGINT and
     * SIGTERM at their defaults even if the sweep started with them
     * ignored (nohup, `&`): the child's handlers must see them. */
    sigset_t def, none;
    sigemptyset(&def);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                  POSIX_SPAWN_SETSIGMASK);
    int rc = posix_spawn(pid, exe, &fa, &at, argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    sweep_argv_free(argv);
    return -rc;
}

static void write_status(const char *dir, int p, int wstatus)
{
    char path[PATH_MAX], text[32];
    snprintf(path, sizeof(path), "%s/logs/%d.status", dir, p);
    int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    int len = snprintf(text, sizeof(text), "%d\n", code);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        if (write(fd, text, (size_t)len) != len)
            unlink(path);
        close(fd);
    }
}

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* "credit domains.flood.count=2 repeat 0" */
static void point_text(const struct sweep_grid *g, int p, char *buf, size_t n)
{
    int vi[SWEEP_MAX_KEYS], pol, rep;
    size_t used = 0;
    sweep_point(g, p, vi, &pol, &rep);
    int w = snprintf(buf, n, "%s", g->policies[pol]);
    used = w < 0 ? 0 : (size_t)w;
    for (int k = 0; k < g->nkeys && used + 1 < n; k++) {
        w = snprintf(buf + used, n - used, " %s=%s", g->axes[k].key, g->axes[k].vals[vi[k]]);
        used = w < 0 ? used : used + (size_t)w;
    }
    if (g->repeats > 1 && used + 1 < n)
        snprintf(buf + used, n - used, " repeat %d", rep);
}

/* A child ended: record it, say so. */
static void reap(const struct sweep_grid *g, const char *dir, struct child *c, int wstatus,
                 bool killed, int done, FILE *out)
{
    char what[512];
    point_text(g, c->point, what, sizeof(what));
    bool ok = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
    killed = killed && !ok;         /* one that finished before SIGTERM is kept */
    if (!killed)
        write_status(dir, c->point, wstatus);
    fprintf(out, "[%d/%d] point %d (%s): ", done, g->npoints, c->point, what);
    if (killed)
        fprintf(out, "stopped (missing)\n");
    else if (ok)
        fprintf(out, "ok, %.1f s\n", since(&c->start));
    else
        fprintf(out, "failed (see %s/logs/%d.log)\n", dir, c->point);
    fflush(out);
    c->pid = 0;
}

/* Ctrl-C: the first stops launching, a second stops the running points. */
static void on_interrupts(struct child *kids, int jobs, int running, bool *told, bool *killed,
                          FILE *out)
{
    if (interrupts >= 1 && !*told) {
        *told = true;
        fprintf(out, "interrupted: launching no more points; waiting for the %d running "
                "(Ctrl-C again to stop them)\n", running);
        fflush(out);
    }
    if (interrupts >= 2 && !*killed) {
        *killed = true;
        fprintf(out, "interrupted again: stopping the %d running points\n", running);
        fflush(out);
        for (int i = 0; i < jobs; i++)
            if (kids[i].pid > 0)
                kill(kids[i].pid, SIGTERM);
    }
}

int sweep_run_local(const struct sweep_grid *g, const char *dir, const char *exe, int jobs,
                    FILE *out)
{
    struct child *kids = calloc((size_t)jobs, sizeof(*kids));
    if (!kids)
        return -ENOMEM;
    struct sigaction sa = { .sa_handler = on_interrupt }, old_int, old_term;
    sigemptyset(&sa.sa_mask);       /* no SA_RESTART: waitpid returns on Ctrl-C */
    interrupts = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    /* said once Ctrl-C is ours to handle: a caller may interrupt from here */
    fprintf(out, "sweep: %d points of %s, %d at once, in %s\n", g->npoints, g->name, jobs, dir);
    fflush(out);
    int next = 0, running = 0, done = 0, rc = 0;
    bool told = false, killed = false;
    while (next < g->npoints || running) {
        if (interrupts)
            on_interrupts(kids, jobs, running, &told, &killed, out);
        while (!interrupts && !rc && running < jobs && next < g->npoints) {
            int slot = 0;
            while (kids[slot].pid)
                slot++;
            int err = spawn_point(g, dir, exe, next, &kids[slot].pid);
            if (err) {
                fprintf(stderr, "fairvisor sweep: cannot start point %d (%s): %s\n", next, exe,
                        strerror(-err));
                kids[slot].pid = 0;
                rc = 1;                 /* stop launching; the rest are missing */
                break;
            }
            kids[slot].point = next++;
            clock_gettime(CLOCK_MONOTONIC, &kids[slot].start);
            running++;
        }
        if (!running)
            break;
        int ws;
        pid_t pid = waitpid(-1, &ws, 0);
        if (pid < 0) {
            if (errno != EINTR)
                break;
            continue;
        }
        for (int i = 0; i < jobs; i++)
            if (kids[i].pid == pid) {
                reap(g, dir, &kids[i], ws, killed, ++done, out);
                running--;
            }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (interrupts && !rc)
        fprintf(stderr, "fairvisor sweep: interrupted after %d of %d points; the rest are "
                "missing from the CSV\n", done, g->npoints);
    free(kids);
    return interrupts ? 1 : rc;
}
