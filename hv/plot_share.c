/* plot_share.c — the `share` graph (plot_priv.h): per domain, or per group
 * of replicas, a bar of the CPU share it received next to one of the share
 * it was entitled to (summary.json's cpu_share and entitled_share), and a
 * mark over those that starved (starvation_events > 0). A group's bars are
 * its medians, with its p5-p95 as error bars, and its mark says how many
 * of its members starved.
 *
 * Its data is plots/share.csv: series,members,received,received_p5,
 * received_p95,entitled,entitled_p5,entitled_p95,starved (shares as in
 * summary.json, starved: the members with starvation events).
 *
 * Beyond PLOT_MAX_DOMAINS series, the ones shown are those that received
 * the least against their entitlement (the median's received/entitled):
 * the victims are what this graph is for. They are shown in scenario order.
 */
#include "plot_priv.h"
#include "results_priv.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One bar pair. */
struct share_row {
    double recv[3], ent[3];     /* median, p5, p95 */
    int starved;
    double norm;                /* recv / ent medians; NaN without entitlement */
    int series;                 /* in sel */
};

static double num(json_t *d, const char *key)
{
    json_t *v = json_object_get(d, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Lowest normalized share first, NaN last, ties in series order. */
static int by_norm(const void *a, const void *b)
{
    const struct share_row *x = a, *y = b;
    bool xn = isnan(x->norm), yn = isnan(y->norm);
    if (xn != yn)
        return xn ? 1 : -1;
    if (!xn && x->norm != y->norm)
        return x->norm < y->norm ? -1 : 1;
    return (x->series > y->series) - (x->series < y->series);
}

static int by_series(const void *a, const void *b)
{
    const struct share_row *x = a, *y = b;
    return (x->series > y->series) - (x->series < y->series);
}

/* Each series' figures over its members (domains of summary.json). */
static int share_rows(json_t *doms, const struct plot_sel *sel, struct share_row *rows)
{
    size_t nd = json_array_size(doms);
    double *r = malloc((nd + 1) * sizeof(*r)), *e = malloc((nd + 1) * sizeof(*e));
    int *at = calloc((size_t)sel->n + 1, sizeof(*at)), *start = calloc((size_t)sel->n + 2, sizeof(*start));
    int err = r && e && at && start ? 0 : -ENOMEM;
    for (size_t i = 0; !err && i < nd; i++)
        if (sel->of_dom[i] >= 0)
            start[sel->of_dom[i] + 1]++;
    for (int s = 0; !err && s < sel->n; s++)
        start[s + 1] += start[s];
    for (int s = 0; !err && s < sel->n; s++)
        rows[s] = (struct share_row){ .series = s };
    for (size_t i = 0; !err && i < nd; i++) {
        int s = sel->of_dom[i];
        if (s < 0)
            continue;
        json_t *d = json_array_get(doms, i);
        r[start[s] + at[s]] = num(d, "cpu_share");
        e[start[s] + at[s]++] = num(d, "entitled_share");
        json_t *ev = json_object_get(d, "starvation_events");
        rows[s].starved += json_is_integer(ev) && json_integer_value(ev) > 0;
    }
    for (int s = 0; !err && s < sel->n; s++) {
        plot_stats(r + start[s], at[s], rows[s].recv);
        plot_stats(e + start[s], at[s], rows[s].ent);
        rows[s].norm = rows[s].ent[0] > 0 ? rows[s].recv[0] / rows[s].ent[0] : NAN;
    }
    free(r);
    free(e);
    free(at);
    free(start);
    return err;
}

/* The series of summary.json's domains (all of them: cut here, by share). */
static int share_select(json_t *doms, struct plot_groups *pg, struct plot_sel *sel)
{
    size_t nd = json_array_size(doms);
    const char **names = malloc((nd + 1) * sizeof(*names));
    int *gid = malloc((nd + 1) * sizeof(*gid));
    double *key = calloc(nd + 1, sizeof(*key));
    int err = names && gid && key ? 0 : -ENOMEM;
    for (size_t i = 0; !err && i < nd; i++) {
        names[i] = json_string_value(json_object_get(json_array_get(doms, i), "name"));
        if (!names[i])
            names[i] = "?";
        if ((gid[i] = plot_groups_of(pg, names[i])) < 0)
            err = gid[i];
    }
    if (!err)
        err = plot_select(names, gid, key, NULL, (int)nd, pg, false, false, INT_MAX, sel);
    free(names);
    free(gid);
    free(key);
    return err;
}

static void put3(FILE *f, const double *v)
{
    for (int k = 0; k < 3; k++) {
        if (!isfinite(v[k]))
            fputs(",NaN", f);
        else
            fprintf(f, ",%.6f", v[k]);
    }
}

/* plots/share.csv's text; the rows kept (at most PLOT_MAX_DOMAINS) moved
 * to the front of sel in scenario order, sel->n cut to them. *top: the
 * tallest bar or error bar (a share), for the room above it. */
static int share_text(FILE *out, json_t *doms, struct plot_sel *sel, int *nstarved, double *top)
{
    struct share_row *rows = calloc((size_t)sel->n + 1, sizeof(*rows));
    if (!rows)
        return -ENOMEM;
    int err = share_rows(doms, sel, rows);
    if (!err && sel->n > PLOT_MAX_DOMAINS) {
        qsort(rows, (size_t)sel->n, sizeof(*rows), by_norm);
        qsort(rows, PLOT_MAX_DOMAINS, sizeof(*rows), by_series);
        struct plot_series kept[PLOT_MAX_DOMAINS];
        for (int i = 0; i < PLOT_MAX_DOMAINS; i++)
            kept[i] = sel->s[rows[i].series];
        memcpy(sel->s, kept, sizeof(kept));
        sel->n = PLOT_MAX_DOMAINS;
    }
    fputs("series,members,received,received_p5,received_p95,entitled,entitled_p5,entitled_p95,"
          "starved\n", out);
    *nstarved = 0;
    *top = 0;
    for (int i = 0; !err && i < sel->n; i++) {
        if (rows[i].recv[2] > *top)
            *top = rows[i].recv[2];
        if (rows[i].ent[2] > *top)
            *top = rows[i].ent[2];
        fprintf(out, "%s,%d", sel->s[i].name, sel->s[i].members);
        put3(out, rows[i].recv);
        put3(out, rows[i].ent);
        fprintf(out, ",%d\n", rows[i].starved);
        *nstarved += rows[i].starved > 0;
    }
    free(rows);
    return err;
}

int plot_share(struct graph *g, struct plot_groups *pg, json_t *summary, const char *label)
{
    if (!summary)
        return 0;                       /* an interrupted run without its figures */
    json_t *doms = json_object_get(summary, "domains");
    struct plot_sel sel = { 0 };
    char plots[PATH_MAX], data[PATH_MAX], title[400], full[1024], n[32];
    char *buf = NULL, *vars = NULL;
    size_t len = 0, vlen;
    int nstarved = 0;
    double top = 0;
    int err = share_select(doms, pg, &sel);
    FILE *out = err ? NULL : open_memstream(&buf, &len);
    if (!err)
        err = out ? share_text(out, doms, &sel, &nstarved, &top) : -ENOMEM;
    if (out && fclose(out) != 0 && !err)
        err = -ENOMEM;
    if (!err && (snprintf(plots, sizeof(plots), "%s/plots", g->dir) >= (int)sizeof(plots)
                 || snprintf(data, sizeof(data), "%s/share.csv", plots) >= (int)sizeof(data)))
        err = -ENAMETOOLONG;
    if (!err)
        err = results_write_atomic(plots, "share.csv", buf, len);
    free(buf);
    if (err) {
        plot_sel_free(&sel);
        return plot_data_failed(g, "share.csv", "plots/share.csv", err);
    }
    snprintf(title, sizeof(title), "CPU share received and entitled%s", label);
    plot_full_title(full, sizeof(full), title, &sel, "lowest received/entitled share",
                    " - no domains");
    FILE *m = open_memstream(&vars, &vlen);
    if (m) {
        plot_series_vars(m, data, &sel, NULL, full, false);
        snprintf(n, sizeof(n), "%d", nstarved);
        plot_var(m, "nstarved", n);
        snprintf(n, sizeof(n), "%d", sel.n);
        plot_var(m, "nbars", n);
        snprintf(n, sizeof(n), "%.9g", top * 100);
        plot_var(m, "ymax", n);
    }
    err = !m || fclose(m) != 0 ? -ENOMEM : plot_queue(g, vars);
    free(vars);
    plot_sel_free(&sel);
    return err;
}
