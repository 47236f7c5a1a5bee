/* sweep_slurm.c — grid.tsv (a sweep as asked for, and point -> overrides)
 * and the Slurm array job that runs a sweep on a cluster.
 *
 * grid.tsv is what --collect rebuilds the grid from: its `#KEY<TAB>VALUE`
 * lines are the sweep's arguments (parsed again by the same code, so the
 * values, their order and the point numbers come out the same), its rows
 * the points for people and scripts, checked against the rebuilt grid.
 *
 * sweep.sbatch holds each task's whole command line (a `case` on
 * SLURM_ARRAY_TASK_ID, every argument single-quoted): a task needs nothing
 * but the binary and the scenario at the same absolute paths, on a shared
 * file system with DIR.
 */
#include "sweep.h"
#include "results.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- grid.tsv ---------------------------------------------------------------- */

int sweep_grid_write_tsv(const struct sweep_grid *g, FILE *f)
{
    fprintf(f, "# fairvisor sweep grid (fairvisor sweep --collect reads it): the sweep's "
               "arguments, then one row per point\n");
    fprintf(f, "#scenario\t%s\n#name\t%s\n#seed\t%" PRIu64 "\n#repeat\t%d\n#policies\t",
            g->scenario, g->name, g->seed, g->repeats);
    for (int i = 0; i < g->npol; i++)
        fprintf(f, "%s%s", i ? "," : "", g->policies[i]);
    fputc('\n', f);
    for (int k = 0; k < g->nkeys; k++)
        fprintf(f, "#vary\t%s=%s\n", g->axes[k].key, g->axes[k].spec);
    for (int i = 0; i < g->nsets; i++)
        fprintf(f, "#set\t%s\n", g->sets[i]);
    if (g->has_slo)
        fprintf(f, "#slo\t%s\n", g->slo.text);
    fputs("point", f);
    for (int k = 0; k < g->nkeys; k++)
        fprintf(f, "\t%s", g->axes[k].key);
    fputs("\tpolicy\trepeat\tseed\n", f);
    for (int p = 0; p < g->npoints; p++) {
        int vi[SWEEP_MAX_KEYS], pol, rep;
        sweep_point(g, p, vi, &pol, &rep);
        fprintf(f, "%d", p);
        for (int k = 0; k < g->nkeys; k++)
            fprintf(f, "\t%s", g->axes[k].vals[vi[k]]);
        fprintf(f, "\t%s\t%d\t%" PRIu64 "\n", g->policies[pol], rep, g->seed + (uint64_t)rep);
    }
    return ferror(f) ? -EIO : 0;
}

__attribute__((format(printf, 5, 6)))
static int tsv_fail(char *err, size_t errlen, const char *path, int line, const char *fmt, ...)
{
    int w = snprintf(err, errlen, "%s:%d: ", path, line);
    if (w >= 0 && (size_t)w < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + w, errlen - (size_t)w, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int add_str(char ***v, int *n, const char *s)
{
    char **nv = realloc(*v, (size_t)(*n + 1) * sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    *v = nv;
    return (nv[*n] = strdup(s)) ? (++*n, 0) : -ENOMEM;
}

/* One `#KEY<TAB>VALUE` line into g. */
static int tsv_meta(struct sweep_grid *g, const char *key, const char *val, char *err,
                    size_t errlen)
{
    char *end;
    if (strcmp(key, "scenario") == 0)
        return (g->scenario = strdup(val)) ? 0 : -ENOMEM;
    if (strcmp(key, "name") == 0)
        return snprintf(g->name, sizeof(g->name), "%s", val), 0;
    if (strcmp(key, "seed") == 0) {
        g->seed = strtoull(val, &end, 10);
        return *val && !*end ? 0 : (snprintf(err, errlen, "seed \"%s\" is not a number", val), -EINVAL);
    }
    if (strcmp(key, "repeat") == 0) {
        long r = strtol(val, &end, 10);
        g->repeats = (int)r;
        return *val && !*end && r >= 1 && r <= 1000
                   ? 0 : (snprintf(err, errlen, "repeat \"%s\" is not 1..1000", val), -EINVAL);
    }
    if (strcmp(key, "policies") == 0)
        return sweep_grid_policies(g, val, err, errlen);
    if (strcmp(key, "vary") == 0) {
        if (g->nkeys >= SWEEP_MAX_KEYS)
            return snprintf(err, errlen, "more than %d #vary lines", SWEEP_MAX_KEYS), -EINVAL;
        int rc = sweep_axis_parse(val, &g->axes[g->nkeys], err, errlen);
        return rc ? rc : (g->nkeys++, 0);
    }
    if (strcmp(key, "set") == 0)
        return add_str(&g->sets, &g->nsets, val);
    if (strcmp(key, "slo") == 0) {
        g->has_slo = true;
        return sweep_slo_parse(val, &g->slo, err, errlen);
    }
    return snprintf(err, errlen, "unknown line #%s", key), -EINVAL;
}

/* A point row: the same values as the rebuilt grid's point? */
static bool row_matches(const struct sweep_grid *g, int p, char *line)
{
    int vi[SWEEP_MAX_KEYS], pol, rep;
    char want[64], *save = NULL;
    sweep_point(g, p, vi, &pol, &rep);
    snprintf(want, sizeof(want), "%d", p);
    const char *f = strtok_r(line, "\t", &save);
    if (!f || strcmp(f, want))
        return false;
    for (int k = 0; k < g->nkeys; k++)
        if (!(f = strtok_r(NULL, "\t", &save)) || strcmp(f, g->axes[k].vals[vi[k]]))
            return false;
    if (!(f = strtok_r(NULL, "\t", &save)) || strcmp(f, g->policies[pol]))
        return false;
    snprintf(want, sizeof(want), "%d", rep);
    if (!(f = strtok_r(NULL, "\t", &save)) || strcmp(f, want))
        return false;
    snprintf(want, sizeof(want), "%" PRIu64, g->seed + (uint64_t)rep);
    return (f = strtok_r(NULL, "\t", &save)) && !strcmp(f, want) && !strtok_r(NULL, "\t", &save);
}

int sweep_grid_read_tsv(const char *path, struct sweep_grid *g, char *err, size_t errlen)
{
    memset(g, 0, sizeof(*g));
    FILE *f = fopen(path, "re");
    if (!f)
        return snprintf(err, errlen, "%s: %s (expected the grid.tsv of a sweep directory)",
                        path, strerror(errno)), -ENOENT;
    char *line = NULL, msg[1024];
    size_t cap = 0;
    ssize_t len;
    int rc = 0, lineno = 0, rows = 0;
    bool header = false;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (line[0] == '#' && line[1] != ' ') {
            char *tab = strchr(line, '\t');
            if (!tab || header)
                rc = tsv_fail(err, errlen, path, lineno, "expected #KEY<TAB>VALUE before the "
                              "point rows");
            else if (*tab = '\0', (rc = tsv_meta(g, line + 1, tab + 1, msg, sizeof(msg))))
                rc = tsv_fail(err, errlen, path, lineno, "%s", msg);
        } else if (line[0] == '#') {
            continue;
        } else if (!header) {
            header = true;
            if (!g->scenario || !g->npol || !g->nkeys || !g->repeats)
                rc = tsv_fail(err, errlen, path, lineno, "#scenario, #policies, #vary or "
                              "#repeat is missing");
            else if ((rc = sweep_grid_size(g, msg, sizeof(msg))))
                rc = tsv_fail(err, errlen, path, lineno, "%s", msg);
        } else if (rows >= g->npoints || !row_matches(g, rows, line)) {
            rc = tsv_fail(err, errlen, path, lineno, "point row %d does not match the grid of "
                          "the # lines (was the file edited?)", rows);
        } else {
            rows++;
        }
    }
    free(line);
    fclose(f);
    if (rc == 0 && (!header || rows != g->npoints))
        rc = tsv_fail(err, errlen, path, lineno, "%d point rows (expected %d)", rows,
                      header ? g->npoints : 0);
    if (rc == -ENOMEM)
        snprintf(err, errlen, "%s: out of memory", path);
    if (rc)
        sweep_grid_free(g);
    return rc;
}

/* ---- sweep.sbatch --------------------------------------------------------------- */

static void shell_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

/* Slurm reads #SBATCH lines without shell quoting: a path goes there only
 * if it needs none (else the task's own redirection is all there is). */
static bool sbatch_safe(const char *s)
{
    return !strpbrk(s, " \t\n'\"\\%$`");
}

static int write_sbatch(const struct sweep_grid *g, const char *dir, const char *exe, int cpus,
                        FILE *f)
{
    fprintf(f, "#!/bin/bash\n"
               "# fairvisor sweep of %s: %d points as a Slurm array job, one task per point.\n"
               "#   sbatch %s/sweep.sbatch\n"
               "#   fairvisor sweep --collect %s   (when the tasks are done)\n"
               "# Task P runs point P (grid.tsv) into runs/P/, its output in logs/P.log and\n"
               "# its exit status in logs/P.status (none: the point did not finish).\n",
            g->name, g->npoints, dir, dir);
    fprintf(f, "#SBATCH --job-name=fv-sweep-%s\n#SBATCH --array=0-%d\n#SBATCH --ntasks=1\n"
               "#SBATCH --cpus-per-task=%d\n", sbatch_safe(g->name) ? g->name : "scenario",
            g->npoints - 1, cpus);
    if (sbatch_safe(dir))
        fprintf(f, "#SBATCH --output=%s/logs/slurm-%%A_%%a.out\n", dir);
    fputs("set -u\ndir=", f);
    shell_quote(f, dir);
    fputs("\nid=${SLURM_ARRAY_TASK_ID:?not run as a Slurm array task}\ncase $id in\n", f);
    char out[PATH_MAX];
    for (int p = 0; p < g->npoints; p++) {
        snprintf(out, sizeof(out), "%s/runs/%d", dir, p);
        char **argv = sweep_point_argv(g, p, exe, out);
        if (!argv)
            return -ENOMEM;
        fprintf(f, "%d) set --", p);
        for (char **a = argv; a && *a; a++) {
            fputc(' ', f);
            shell_quote(f, *a);
        }
        fputs(" ;;\n", f);
        sweep_argv_free(argv);
    }
    fputs("*) echo \"fairvisor sweep: no point $id in this sweep\" >&2; exit 2 ;;\nesac\n"
          "# a task run again (requeued) starts afresh\n"
          "rm -rf \"$dir/runs/$id\" \"$dir/logs/$id.status\"\n"
          "\"$@\" >\"$dir/logs/$id.log\" 2>&1\n"
          "rc=$?\n"
          "echo $rc >\"$dir/logs/$id.status.tmp\" && mv \"$dir/logs/$id.status.tmp\" "
          "\"$dir/logs/$id.status\"\n"
          "exit $rc\n", f);
    return 0;
}

int sweep_emit_slurm(const struct sweep_grid *g, const char *dir, const char *exe, int cpus,
                     char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return -ENOMEM;
    int rc = write_sbatch(g, dir, exe, cpus, m);
    if (fclose(m) && !rc)
        rc = -ENOMEM;
    if (rc == 0)
        rc = results_write_atomic(dir, "sweep.sbatch", text, len);
    if (rc == 0) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/sweep.sbatch", dir);
        if (chmod(path, 0755) < 0)
            rc = -errno;
    }
    free(text);
    if (rc)
        snprintf(err, errlen, "%s/sweep.sbatch: %s", dir, strerror(-rc));
    return rc;
}
