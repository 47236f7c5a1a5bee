/* plot_starve.c — starvation events on the timeline graphs (plot_priv.h).
 *
 * starvation.csv has a row per event (start_ns,duration_ns,domain,
 * resource,holders). Each timeline graph marks the events of its resource
 * (cpu-share: cpu, net-throughput: net, blk-iops: blk) as shaded spans,
 * and names the victim at each start when there are few enough events to
 * read. Thousands of replicas starved at once would be thousands of
 * overlapping spans: they are merged first (and spans closer than 1/1000
 * of the run, finer than a graph shows), so the graph gets at most about a
 * thousand of them.
 */
#include "plot_priv.h"
#include "results_priv.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { SV_START, SV_DURATION, SV_DOMAIN, SV_RESOURCE, SV_FIELDS };

static int add_event(struct plot_starve *st, char **fld)
{
    char *end;
    /* An edited file's nan, inf or 1e999 is no place on the time axis. */
    double start = strtod(fld[SV_START], &end);
    if (end == fld[SV_START] || !(start >= 0) || !isfinite(start))
        return 0;
    double dur = strtod(fld[SV_DURATION], &end);
    if (end == fld[SV_DURATION] || !(dur >= 0) || !isfinite(start + dur))
        return 0;
    if (st->n == st->cap) {
        if (st->cap > INT_MAX / 2)
            return -ENOMEM;
        int cap = st->cap ? 2 * st->cap : 64;
        struct plot_starve_ev *ev = realloc(st->ev, (size_t)cap * sizeof(*ev));
        if (!ev)
            return -ENOMEM;
        st->ev = ev;
        st->cap = cap;
    }
    struct plot_starve_ev *e = &st->ev[st->n++];
    e->start_s = start / 1e9;
    e->end_s = (start + dur) / 1e9;
    snprintf(e->domain, sizeof(e->domain), "%s", fld[SV_DOMAIN]);
    snprintf(e->resource, sizeof(e->resource), "%s", fld[SV_RESOURCE]);
    return 0;
}

int plot_starve_read(const char *dir, struct plot_starve *st)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof(p), "%s/starvation.csv", dir) >= (int)sizeof(p))
        return -ENAMETOOLONG;
    FILE *f = fopen(p, "re");
    if (!f)
        return errno == ENOENT ? 0 : -errno;
    char *line = NULL, *fld[RESULTS_CSV_MAX_COLS];
    size_t cap = 0;
    int err = 0;
    for (long ln = 0; !err && getline(&line, &cap, f) > 0; ln++)
        if (ln > 0 && results_split_csv(line, fld, RESULTS_CSV_MAX_COLS) >= SV_FIELDS)
            err = add_event(st, fld);
    if (!err && ferror(f))
        err = -EIO;
    free(line);
    fclose(f);
    return err;
}

static int by_start(const void *a, const void *b)
{
    const struct plot_starve_ev *x = *(const struct plot_starve_ev *const *)a;
    const struct plot_starve_ev *y = *(const struct plot_starve_ev *const *)b;
    if (x->start_s != y->start_s)
        return x->start_s < y->start_s ? -1 : 1;
    return (x > y) - (x < y);           /* file order */
}

void plot_starve_blocks(const struct plot_starve *st, const char *resource, double run_s,
                        FILE *out, int *nspans, int *nlabels)
{
    *nspans = *nlabels = 0;
    int n = 0;
    for (int i = 0; i < st->n; i++)
        n += strcmp(st->ev[i].resource, resource) == 0;
    const struct plot_starve_ev **v = n ? malloc((size_t)n * sizeof(*v)) : NULL;
    if (!v)
        return;                         /* none, or no memory: no marks */
    n = 0;
    for (int i = 0; i < st->n; i++)
        if (strcmp(st->ev[i].resource, resource) == 0)
            v[n++] = &st->ev[i];
    qsort(v, (size_t)n, sizeof(*v), by_start);
    double gap = run_s > 0 ? run_s / 1000 : 0;
    fputs("\n\n# starvation on ", out);
    fputs(resource, out);
    fputs(": start_s,end_s\n", out);
    double a = v[0]->start_s, b = v[0]->end_s;
    for (int i = 1; i <= n; i++) {
        if (i < n && v[i]->start_s <= b + gap) {
            if (v[i]->end_s > b)
                b = v[i]->end_s;
            continue;
        }
        fprintf(out, "%.9f,%.9f\n", a, b);
        ++*nspans;
        if (i < n) {
            a = v[i]->start_s;
            b = v[i]->end_s;
        }
    }
    if (n <= PLOT_MAX_STARVE_LABELS) {
        fputs("\n\n# victims: start_s,domain\n", out);
        for (int i = 0; i < n; i++)
            fprintf(out, "%.9f,%s\n", v[i]->start_s, v[i]->domain);
        *nlabels = n;
    }
    free(v);
}

void plot_starve_free(struct plot_starve *st)
{
    free(st->ev);
    memset(st, 0, sizeof(*st));
}
