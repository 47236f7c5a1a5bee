/* plot_priv.h — what plot.c (gnuplot, the CPU and wake-up graphs) shares
 * with plot_io.c (the network and block graphs): one graph being drawn and
 * the helpers that draw it or say why it was not. */
#ifndef FV_PLOT_PRIV_H
#define FV_PLOT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "results.h"

/* A legend beyond this many domains is unreadable: the rest are left out. */
#define PLOT_MAX_DOMAINS 12

struct graph {
    const char *dir;            /* the results directory */
    const char *tmpl_dir;
    const char *name;           /* "cpu-share": template NAME.gp, plots/NAME.{svg,png} */
    char *vars;                 /* data, domains, title_txt, nodata */
    FILE *log;
    char *why;                  /* results_plot's account, or NULL */
    size_t whylen;
    bool failed;                /* this graph's failure is in why already */
};

/* Start on the graph `name` (its template and images). */
void plot_graph_next(struct graph *g, const char *name);
/* A data file g cannot be drawn from (`shown`: its name in `why`); logs it
 * and returns err. */
int plot_data_failed(struct graph *g, const char *path, const char *shown, int err);
/* `title` + which domains are drawn (`which`: "the 12 of N domains with the
 * WHICH"), or `none` appended when there are none. */
void plot_full_title(char *buf, size_t n, const char *title, int ndoms, const char *which,
                     const char *none);
/* Draw g from `data` for ds's domains (the PLOT_MAX_DOMAINS with the
 * largest key if more: ds is ranked then), in SVG and PNG. 0 or -errno. */
int plot_render(struct graph *g, const char *data, struct results_doms *ds, const char *title);

/* plot_io.c: the network graphs, then the block graphs, each pair only when
 * timeline.csv shows that kind of traffic. `label` ends the titles. */
int plot_io(struct graph *g, const char *label);

#endif
