/* results_priv.h — what the graph files (plot*.c) and results_csv.c share: the CSV reader's
 * helpers (results_csv.c). */
#ifndef FV_RESULTS_PRIV_H
#define FV_RESULTS_PRIV_H

#include <stdint.h>

#include "results.h"

/* FNV-1a over a NUL-terminated name. */
uint32_t results_name_hash(const char *s);
/* The domain named `name` (already cut to SCN_NAME_MAX - 1), added if
 * new; NULL when out of memory. */
struct results_dom *results_doms_get(struct results_doms *ds, const char *name);
/* The domain named `name` (cut as above), or NULL; never adds one. */
const struct results_dom *results_doms_find(const struct results_doms *ds, const char *name);
/* Split a CSV line in place (no quoting: see results.c) into at most max
 * fields; returns how many. */
int results_split_csv(char *line, char **f, int max);
/* The ranking order of graphs and the table: the larger key first, NaN
 * after every number, ties by `order` (first seen), so that any qsort
 * gives the same ranking. A qsort comparator's result. */
int results_key_cmp(double xkey, int xorder, double ykey, int yorder);

#endif
