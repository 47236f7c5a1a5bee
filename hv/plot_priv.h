/* plot_priv.h — what the graph files share (results_plot, results.h):
 *   plot.c        gnuplot (one process for every graph, or one per graph
 *                 to say which failed), results_plot
 *   plot_group.c  which group each domain is in, the series a graph draws
 *                 (groups and single domains, ranked), quantiles
 *   plot_io.c     the timeline graphs: cpu-share, net-throughput, blk-iops
 *   plot_cdf.c    the latency CDFs
 *   plot_share.c  received against entitled share, from summary.json
 *   plot_starve.c starvation.csv's events, marked on the timeline graphs
 *
 * The C side reads each results file once and writes one small data file
 * per graph (plots/NAME.csv): a group of replicas is three columns (median,
 * p5, p95) whatever its size, a single domain one. gnuplot only draws those
 * files, so the drawing time does not grow with the number of domains.
 */
#ifndef FV_PLOT_PRIV_H
#define FV_PLOT_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "results.h"

/* A legend beyond this many series (groups or domains) is unreadable: the
 * rest are left out. */
#define PLOT_MAX_DOMAINS 12
/* Starvation events of one resource beyond this many are shaded without
 * naming their victims. */
#define PLOT_MAX_STARVE_LABELS 20

/* ---- gnuplot (plot.c) ---- */

/* A graph queued: its name and gnuplot variables. */
struct plot_job {
    char name[32];
    char *vars;
};

struct graph {
    const char *dir;            /* the results directory */
    const char *tmpl_dir;
    const char *name;           /* "cpu-share": template NAME.gp, plots/NAME.{svg,png} */
    FILE *log;
    char *why;                  /* results_plot's account, or NULL */
    size_t whylen;
    bool failed;                /* this graph's failure is in why already */
    struct plot_job *jobs;      /* the graphs queued, drawn by plot_draw_all */
    int njobs, capjobs;
};

/* Start on the graph `name` (its template and images). */
void plot_graph_next(struct graph *g, const char *name);
/* A data file g cannot be drawn from (`shown`: its name in `why`); logs it
 * and returns err. */
int plot_data_failed(struct graph *g, const char *path, const char *shown, int err);
/* Append name='value'; for gnuplot to m (quotes doubled, newlines made
 * spaces). */
void plot_var(FILE *m, const char *name, const char *val);
/* Queue g->name, drawn from gnuplot variables `vars` (plot_var's). */
int plot_queue(struct graph *g, const char *vars);
/* Draw every queued graph in SVG and PNG: one gnuplot process for all; if
 * it fails, one per graph and format, so that the others are drawn and
 * `why` names the one that failed. 0 or the first -errno. */
int plot_draw_all(struct graph *g);
void plot_jobs_free(struct graph *g);
/* results_plot up to gnuplot, for fuzz/fuzz_plot.c: read g->dir's
 * summary.json, starvation.csv, timeline.csv and latency files, write each
 * graph's data file (g->dir/plots/NAME.csv; plots/ is made if missing) and
 * queue the graphs in g->jobs, undrawn (plot_jobs_free releases them;
 * g->tmpl_dir is not read). 0 or the first -errno, said in g->why. */
int plot_queue_results(struct graph *g);

/* ---- groups and series (plot_group.c) ---- */

/* Every domain known and its group: from summary.json's per-domain
 * `group`, else derived from the names (plot_groups_derive). */
struct plot_groups {
    struct results_doms dom;    /* v[i]: domain i (never ranked) */
    int *gid;                   /* domain i's group */
    int gcap;
    struct results_doms grp;    /* v[g].name: group g's name */
};

/* Domain `dom` in group `group` (NULL: its own name). 0 or -ENOMEM. */
int plot_groups_add(struct plot_groups *pg, const char *dom, const char *group);
/* The group of `dom`, added as a group of its own if unknown; -ENOMEM. */
int plot_groups_of(struct plot_groups *pg, const char *dom);
/* For results without `group` (written before it existed): a name ending
 * in -N (digits) is in group PREFIX when at least two names share that
 * PREFIX-digits form; any other is its own group. 0 or -ENOMEM. */
int plot_groups_derive(struct plot_groups *pg, const char *const *names, int n);
/* From summary.json's domains: their `group` when every domain has one,
 * else derived from their names. 0 (also without domains) or -ENOMEM. */
int plot_groups_from_summary(struct plot_groups *pg, json_t *summary);
void plot_groups_free(struct plot_groups *pg);

/* One line (or band) of a graph: a domain, or a group of domains drawn as
 * its median and p5-p95. */
struct plot_series {
    char name[SCN_NAME_MAX];    /* the domain's, or the group's */
    int members;                /* >= 2: a group; 1: the domain `dom` */
    int group, dom;
    double key;                 /* the ranking key: the members' sum or max */
    int order;                  /* first seen */
};

/* The series of one graph, in legend order. */
struct plot_sel {
    struct plot_series *s;
    int n;                      /* drawn: at most max */
    int total;                  /* series before the cut */
    bool grouped;               /* some series (drawn or cut) is a group */
    int *of_dom;                /* domain -> drawn series, or -1 */
    int ndom;
};

/* The series over domains 0..ndom-1 (names[i], group gid[i], key[i]):
 * those with member[i] (NULL: all) are taken; the members of a group
 * taken form one series, a group with one member is that domain. A
 * series' key is the sum (or with key_max the max) of its members'. With
 * need_key only series whose key is > 0 are kept. Beyond `max`, the
 * largest keys (ties: first seen). 0 or -ENOMEM. */
int plot_select(const char *const *names, const int *gid, const double *key, const bool *member,
                int ndom, const struct plot_groups *pg, bool key_max, bool need_key, int max,
                struct plot_sel *out);
void plot_sel_free(struct plot_sel *sel);

/* The p-quantile of the n sorted values v (linear between the closest
 * ranks: p = 0.5 of an even count is the mean of the middle two). */
double plot_quantile(const double *v, int n, double p);
/* The same of v[0..n) without NaN (v is reordered): out = median, p5,
 * p95 (NaN when nothing is left). */
void plot_stats(double *v, int n, double out[3]);

/* `title` + which series are drawn ("the 12 of N domains with the WHICH";
 * "groups and domains" when some are groups), or `none` appended when
 * there are none. */
void plot_full_title(char *buf, size_t n, const char *title, const struct plot_sel *sel,
                     const char *which, const char *none);
/* The variables every series template takes: data, domains (series names),
 * counts (members per series), cols (each series' first column in data:
 * the metrics follow, 1 column each for a domain, 3 for a group), title_txt,
 * nodata ('1' without series, or when `empty`: no number in the data, which
 * gnuplot cannot scale an axis to). cols may be NULL (each series then
 * starts at column 2). */
void plot_series_vars(FILE *m, const char *data, const struct plot_sel *sel, const int *cols,
                      const char *title, bool empty);

/* ---- starvation marks (plot_starve.c) ---- */

struct plot_starve_ev {
    double start_s, end_s;
    char domain[SCN_NAME_MAX];
    char resource[8];           /* cpu, net, blk */
};

struct plot_starve {
    struct plot_starve_ev *ev;
    int n, cap;
};

/* Read dir/starvation.csv (start_ns,duration_ns,domain,resource,holders);
 * 0 without it, -errno if unreadable. Malformed rows are skipped. */
int plot_starve_read(const char *dir, struct plot_starve *st);
/* Append to out, for the events on `resource`: two blank lines and the
 * shaded spans (index 1: start_s,end_s, overlapping events, and those less
 * than run_s / 1000 apart, merged), then when there are at most
 * PLOT_MAX_STARVE_LABELS events two blank lines and a label per event
 * (index 2: start_s,victim). Nothing without events. *nspans, *nlabels:
 * the rows written. */
void plot_starve_blocks(const struct plot_starve *st, const char *resource, double run_s,
                        FILE *out, int *nspans, int *nlabels);
void plot_starve_free(struct plot_starve *st);

/* ---- the graphs ---- */

/* What the timeline showed, for the latency graphs: which domains had
 * network (net) or block (blk) traffic, and whether each kind was there. */
struct plot_tl_info {
    struct results_doms net_traffic;
    bool net, blk;
};

/* plot_io.c: cpu-share always, net-throughput and blk-iops when
 * timeline.csv shows that traffic; fills info. `label` ends the titles. */
int plot_timeline(struct graph *g, struct plot_groups *pg, const struct plot_starve *st,
                  const char *label, struct plot_tl_info *info);
/* plot_cdf.c: the CDF of latency file `csv` as graph g->name, of the
 * domains in it (only those in `only`, if not NULL). */
int plot_cdf(struct graph *g, struct plot_groups *pg, const char *csv,
             const struct results_doms *only, const char *title);
/* plot_share.c: the share graph from summary.json (nothing without it). */
int plot_share(struct graph *g, struct plot_groups *pg, json_t *summary, const char *label);

#endif
