/* results.h — a run's results directory (DESIGN §7):
 *   scenario.yaml  the fully resolved scenario
 *   summary.json   the figures (field names are an interface: add, never rename)
 *   timeline.csv   one row per domain per sampling interval (CPU, work, the
 *                  domain's network traffic in the net_* columns and its
 *                  block requests in the blk_* columns)
 *   wakeup-latency.csv  per-domain wake-up latency CDF points (for plots)
 *   app-latency.csv     the same for the latencies the guests sampled
 *                  (net-echo: UDP round trips), same columns
 *   blk-latency.csv    the same for the block requests' service latency
 *   plots/         gnuplot PNG + SVG and each graph's data (NAME.csv)
 * Every file is written to a temporary name and renamed, so a crash never
 * leaves a half-written file behind.
 */
#ifndef FV_RESULTS_H
#define FV_RESULTS_H

#include <stdbool.h>
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
/* Write summary.json, wakeup-latency.csv, app-latency.csv and
 * blk-latency.csv, close
 * timeline.csv (renaming every file into place). Returns 0 or -errno. */
int results_finish(struct results *r, const struct run_result *rr);
void results_close(struct results *r);
/* results_finish, then (unless quiet) the summary table on stdout, the
 * "results: DIR/summary.json" line, and (unless no_plot) the graphs and
 * where they are. Returns the exit status: 0, or 1 (writing failed, or
 * the run did not complete: said on stderr). */
int results_report(struct results *r, const struct run_result *rr, bool quiet, bool no_plot);
/* For a run that never started (its set-up failed): remove what
 * results_open wrote, and the directory if results_open made it. */
void results_discard(struct results *r);

/* Domain i's `group` in summary.json: doms[i].group, else the scenario
 * entry its scenario domain was expanded from (struct scn_domain's group),
 * else its own name. */
const char *results_dom_group(const struct run_result *rr, int i);

/* The one-screen summary table, one row per domain, units in headers. */
void results_print_table(const struct run_result *rr, FILE *f);

/* Draw the graphs of a results directory with gnuplot: cpu-share,
 * wakeup-latency-cdf and share (received against entitled CPU share from
 * summary.json, starved domains marked; not without summary.json) always;
 * when the timeline has network traffic (a non-zero net_* column) also
 * net-throughput and net-rtt-cdf (from app-latency.csv, for the domains
 * that had traffic); when it has block traffic (a non-zero blk_* column)
 * also blk-iops and blk-latency-cdf (from blk-latency.csv). A timeline.csv
 * from before the net (blk) columns draws no network (block) graphs.
 * The replicas of a scenario entry (summary.json's per-domain `group`; for
 * older results, names NAME-N shared by several domains) are one series:
 * their median and p5-p95 band. At most 12 series are drawn (those with
 * the largest key: total share, traffic, requests, maximum latency). Each
 * graph's data is plots/NAME.csv: t_s (latency_ns for a CDF), then per
 * series its metrics (rx_mbit_s,tx_mbit_s; read_iops,write_iops;
 * cpu_share; cdf), one column each for a domain, .median,.p5,.p95 for a
 * group; the timeline graphs' files go on with the starvation events of
 * their resource from starvation.csv, if any (gnuplot index 1: spans;
 * index 2: a victim per event, when there are at most 20). Every image
 * is drawn by one gnuplot process (by one per graph and format if that
 * fails, so that `why` can say which). Returns 0, 1 if
 * gnuplot is absent (graphs skipped; says so on `log`), or -errno. On
 * failure `why` (if not NULL) gets one line saying which graph failed and
 * why, in gnuplot's own words when gnuplot failed:
 * `cpu-share.svg: gnuplot failed (exit status 1): "cpu-share.gp" line 63:
 * unrecognized plot type` (several failures are joined with "; "). gnuplot's
 * whole output (stdout and stderr) goes to `log`. */
int results_plot(const char *dir, FILE *log, char *why, size_t whylen);

/* ---- reading a results CSV back (what results_plot draws) ---- */

/* A domain of a results CSV and its ranking key. */
struct results_dom {
    char name[SCN_NAME_MAX];        /* cut to SCN_NAME_MAX - 1 bytes */
    double key;                     /* the sum or the max of the value column */
    int order;                      /* first seen: 0, 1, ... */
};

/* The domains of one or more CSVs, in the order first seen until ranked.
 * Start from { 0 }; release with results_doms_free. */
struct results_doms {
    struct results_dom *v;
    int n, cap;
    int *slot;                      /* private: the name index (plot.c) */
    int nslot;
};

#define RESULTS_CSV_MAX_COLS 32

/* Read a results CSV from f: the first line is the header and skipped; the
 * fields of a row are split on ',' without quoting (results.c writes names
 * with no ',' in them). For each distinct value of column name_col,
 * key = the sum, or with use_max the maximum (from 0), of column val_col
 * (strtod; anything else counts as 0). Rows with too few fields (a torn last
 * row) are skipped. Adds to ds, O(1) per row however many domains there
 * are. Returns 0, -EINVAL (a column outside 0..RESULTS_CSV_MAX_COLS - 1),
 * -ENOMEM or -EIO (a read error). */
int results_read_domains(FILE *f, int name_col, int val_col, bool use_max,
                         struct results_doms *ds);
/* Order ds->v by key, largest first; equal keys keep the order first seen,
 * NaN keys go last. */
void results_rank_domains(struct results_doms *ds);
void results_doms_free(struct results_doms *ds);

/* Write `len` bytes to dir/name atomically (temp file + fsync + rename). */
int results_write_atomic(const char *dir, const char *name, const char *data, size_t len);

/* The files results_finish writes, separately (for tools and tests that
 * have a run_result but no open results): dir/summary.json,
 * dir/wakeup-latency.csv, dir/app-latency.csv and dir/blk-latency.csv
 * (domain,latency_ns,cdf from each domain's blk.latency, for the domains
 * with samples), each atomically. Return 0 or -errno. */
int results_write_summary(const char *dir, const struct run_result *rr);
int results_write_wakeup_csv(const char *dir, const struct run_result *rr);
int results_write_app_latency_csv(const char *dir, const struct run_result *rr);
int results_write_blk_latency_csv(const char *dir, const struct run_result *rr);

/* The median of v[0..n-1] (sorts v; the mean of the middle two when n is
 * even); NAN when n is 0. compare and sweep summarise runs with it. */
double results_median(double *v, int n);

#endif
