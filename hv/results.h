/* results.h — a run's results directory (DESIGN §7):
 *   scenario.yaml  the fully resolved scenario
 *   summary.json   the figures (field names are an interface: add, never rename)
 *   timeline.csv   one row per domain per sampling interval
 *   wakeup-latency.csv  per-domain wake-up latency CDF points (for plots)
 *   plots/         gnuplot PNG + SVG
 * Every file is written to a temporary name and renamed, so a crash never
 * leaves a half-written file behind.
 */
#ifndef FV_RESULTS_H
#define FV_RESULTS_H

#include <stddef.h>
#include <stdio.h>

#include "run.h"
#include "scenario.h"

struct results;

/* Choose and create the directory: `out` itself if given, else
 * results/<scenario>/<UTC yyyymmddThhmmssZ>-<policy>-<engine>/ under `root`
 * (default "results"). Writes scenario.yaml and opens timeline.csv.
 * Returns NULL with a message in err. */
struct results *results_open(const struct scenario *s, const char *out, const char *root,
                             char *err, size_t errlen);
const char *results_dir(const struct results *r);
/* A sink that appends rows to timeline.csv (buffered; not thread-safe: the
 * engine calls it from one thread at a time). Rows whose dom_index is not a
 * domain of the scenario are dropped. */
struct timeline_sink results_timeline_sink(struct results *r);
/* Write summary.json and wakeup-latency.csv, close timeline.csv (renaming
 * every file into place). Returns 0 or -errno. */
int results_finish(struct results *r, const struct run_result *rr);
void results_close(struct results *r);

/* The one-screen summary table, one row per domain, units in headers. */
void results_print_table(const struct run_result *rr, FILE *f);

/* Draw the graphs of a results directory with gnuplot. Returns 0, 1 if
 * gnuplot is absent (graphs skipped; says so on `log`), or -errno. */
int results_plot(const char *dir, FILE *log);

/* Write `len` bytes to dir/name atomically (temp file + fsync + rename). */
int results_write_atomic(const char *dir, const char *name, const char *data, size_t len);

/* The two files results_finish writes, separately (for tools and tests that
 * have a run_result but no open results): dir/summary.json and
 * dir/wakeup-latency.csv, each atomically. Return 0 or -errno. */
int results_write_summary(const char *dir, const struct run_result *rr);
int results_write_wakeup_csv(const char *dir, const struct run_result *rr);

#endif
