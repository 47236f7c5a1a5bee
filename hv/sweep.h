/* sweep.h — `fairvisor sweep`: one scenario run over a grid of overrides
 * (--vary KEY=LIST|A..B[:STEP], each a --set key) × policies × repeats,
 * each point a `fairvisor run` child process (at most -j at once) or a task
 * of a Slurm array job (--emit slurm DIR, gathered by --collect DIR), and
 * the runs reduced to one CSV, a knee per policy and a density curve.
 *
 * A sweep directory (--out, or the --emit DIR) holds:
 *   grid.tsv           how the grid was asked for (`#` lines) and, one row
 *                      per point, its overrides: what --collect reads
 *   runs/P/            point P's results directory (`fairvisor run --out`)
 *   logs/P.log         its stdout and stderr; logs/P.status its exit status
 *                      (no status file: the point never finished)
 *   sweep.csv          one row per point (sweep_write_csv)
 *   knees.csv, knee.txt  the knee of each policy (sweep_knees)
 *   plots/density.{svg,png}, plots/density.dat  the density curve
 *   sweep.sbatch       the Slurm array job (--emit slurm only)
 * Points are numbered 0..N-1 with the repeats varying fastest, then the
 * policies, then the --vary keys from the last to the first.
 *
 * The rest of this header is the machinery, exposed for the tests.
 */
#ifndef FV_SWEEP_H
#define FV_SWEEP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scenario.h"

/* The `sweep` verb: exit status 0 (every point ran), 1 (a point failed or
 * is missing, or Ctrl-C), 2 (bad usage or input: nothing ran). */
int fv_cmd_sweep(int argc, char **argv);

#define SWEEP_MAX_KEYS 8            /* --vary options */
#define SWEEP_MAX_VALUES 10000      /* values of one --vary */
#define SWEEP_MAX_POINTS 100000     /* runs in one sweep */

/* ---- the grid (sweep_grid.c) ---- */

/* One --vary. vals are passed to --set as written ("10ms", "20k"); x is
 * each value's place on the x axis and in the knee's order: the number it
 * stands for (plain numbers and counts as such, durations in ns, sizes in
 * bytes) when every value is a number of one kind, else its index. */
struct sweep_axis {
    char *key, *spec;               /* "domains.flood.count", "1..4" */
    int n;
    char **vals;
    double *x;
    bool numeric;
};

/* Parse "KEY=LIST" (comma separated, spaces around values dropped) or
 * "KEY=A..B[:STEP]" (integers, A <= B, STEP >= 1). 0, or -EINVAL with a
 * message naming the --vary in err. */
int sweep_axis_parse(const char *arg, struct sweep_axis *a, char *err, size_t errlen);
void sweep_axis_free(struct sweep_axis *a);
/* The value indexes of a in ascending x. */
void sweep_axis_order(const struct sweep_axis *a, int *order);

/* --slo 'NAME.FIELD.PATH<VALUE' (or <=, >, >=). NAME is a domain, or a
 * group (a `domains:` entry with `count`: its members NAME-0, NAME-1, ...,
 * the entry's worst member counts: the largest value for < and <=, the
 * smallest for > and >=). FIELD.PATH is one of sweep_slo_fields. VALUE takes
 * the field's unit: a duration (1ms) for the *_ns fields, a size or plain
 * number for the byte counts, a plain number (0.25, 10k) for the rest. */
enum sweep_op { SWEEP_LT, SWEEP_LE, SWEEP_GT, SWEEP_GE };
enum sweep_unit { SWEEP_UNIT_NUMBER, SWEEP_UNIT_NS, SWEEP_UNIT_BYTES };
struct sweep_slo {
    char text[256];                 /* as given */
    char name[SCN_NAME_MAX];
    char field[96];                 /* "net.latency_ns.p99" */
    enum sweep_op op;
    enum sweep_unit unit;
    double threshold;               /* in the field's unit (ns, bytes) */
};
/* The numeric fields of a domain's summary.json object an SLO may name. */
extern const char *const sweep_slo_fields[];

int sweep_slo_parse(const char *text, struct sweep_slo *s, char *err, size_t errlen);
/* Does scn have the domain or group the SLO names? 0 or -ENOENT (message). */
int sweep_slo_check(const struct sweep_slo *s, const struct scenario *scn, char *err,
                    size_t errlen);
/* The SLO's value in a parsed summary.json: the domain's field, or the
 * group's worst. 0, -ENOENT (no such domain) or -EINVAL (not a number). */
int sweep_slo_value(const struct sweep_slo *s, const json_t *summary, double *v);
bool sweep_slo_holds(const struct sweep_slo *s, double v);

struct sweep_grid {
    char *scenario;                 /* absolute path */
    char name[SCN_NAME_MAX];        /* the scenario's name */
    int nsets;
    char **sets;                    /* the user's --set, for every point */
    int nkeys;
    struct sweep_axis axes[SWEEP_MAX_KEYS];
    int npol;
    char **policies;
    int repeats;
    uint64_t seed;                  /* repeat r runs with seed + r */
    bool has_slo;
    struct sweep_slo slo;
    int npoints;                    /* sweep_grid_size */
};

/* Parse "P,Q" into g->policies (duplicates refused). 0 or -EINVAL. */
int sweep_grid_policies(struct sweep_grid *g, const char *list, char *err, size_t errlen);
/* Set g->npoints, refusing a grid past SWEEP_MAX_POINTS. 0 or -EINVAL. */
int sweep_grid_size(struct sweep_grid *g, char *err, size_t errlen);
/* Point p's value index on each axis (vi[nkeys]), policy and repeat. */
void sweep_point(const struct sweep_grid *g, int p, int *vi, int *pol, int *rep);
/* The point of these coordinates (the inverse). */
int sweep_point_index(const struct sweep_grid *g, const int *vi, int pol, int rep);
/* Point p's command line: EXE run SCENARIO --out OUTDIR --set ... (the
 * user's, then the --vary values) --set sched.policy=P --seed S --quiet
 * --no-plot (NULL-terminated, every string malloc'd: sweep_argv_free).
 * NULL when out of memory. */
char **sweep_point_argv(const struct sweep_grid *g, int p, const char *exe, const char *outdir);
void sweep_argv_free(char **argv);
void sweep_grid_free(struct sweep_grid *g);

/* grid.tsv: write g; read one back (for --collect). */
int sweep_grid_write_tsv(const struct sweep_grid *g, FILE *f);
int sweep_grid_read_tsv(const char *path, struct sweep_grid *g, char *err, size_t errlen);

/* ---- the results (sweep_report.c) ---- */

enum sweep_status { SWEEP_MISSING = 0, SWEEP_OK, SWEEP_FAILED };
/* One point's figures. The rates are sums over the guests (every domain
 * but Domain-0) per second of the run; throughput is their sum. */
struct sweep_row {
    enum sweep_status status;
    double slo;                     /* the SLO field; NAN when unknown or no SLO */
    double net_rx, blk, work;       /* net rx bytes/s, blk bytes/s, work units/s */
    double thr, jain;
    int slo_ok;                     /* 1, 0; -1 without SLO or result */
};
/* The figures of a parsed summary.json (status is left alone). */
void sweep_row_from_summary(const struct sweep_grid *g, const json_t *summary,
                            struct sweep_row *r);
/* Point p of the sweep in dir: missing without logs/P.status, failed when
 * the status is not 0 or runs/P/summary.json is absent or incomplete. */
void sweep_row_read(const struct sweep_grid *g, const char *dir, int p, struct sweep_row *r);

/* sweep.csv: header `point,KEY...,policy,repeat,seed,status,SLOCOL,
 * net_rx_bytes_per_s,blk_bytes_per_s,work_units_per_s,throughput,jain,
 * slo_ok` (SLOCOL: NAME.FIELD.PATH of the SLO, or slo_value without one),
 * one row per point; figures empty unless the status is ok. */
int sweep_write_csv(const struct sweep_grid *g, const struct sweep_row *rows, FILE *f);

/* A series: one policy at one combination of the other --vary keys (axes
 * 1..nkeys-1; `others` indexes their product, the last fastest). Its knee
 * is the largest value of the first key (in ascending x) at which the SLO
 * holds for the median over the finished repeats, every smaller value
 * holding too. knee: that value's index in axes[0], -1 when the first
 * value breaks; brk: the first value that does not hold, -1 when none;
 * unknown: brk has no finished run rather than a broken SLO. */
struct sweep_knee {
    int pol, others;
    int knee, brk;
    bool unknown;
};
int sweep_series_count(const struct sweep_grid *g);
/* Series s (0..sweep_series_count-1) -> its policy and `others`. */
void sweep_series(const struct sweep_grid *g, int s, int *pol, int *others);
/* "credit" or "credit sched.tslice=1ms" into buf. */
void sweep_series_label(const struct sweep_grid *g, int s, char *buf, size_t n);
void sweep_knee(const struct sweep_grid *g, const struct sweep_row *rows, int s,
                struct sweep_knee *k);
/* "knee credit: domains.flood.count=3 (SLO breaks at 4)", "knee credit:
 * never breaks (domains.flood.count up to 4)", "knee credit: breaks at the
 * first point (domains.flood.count=1)", "... (no finished run at 4)". */
void sweep_knee_line(const struct sweep_grid *g, const struct sweep_knee *k, char *buf,
                     size_t n);
/* knees.csv: `policy,others,key,knee,breaks_at,reason`: others "k=v;k=v"
 * (empty with one --vary), knee/breaks_at the values (empty: breaks at the
 * first / never breaks), reason slo|missing|none. */
int sweep_write_knees_csv(const struct sweep_grid *g, const struct sweep_row *rows, FILE *f);

/* Read every point of the sweep in dir and write sweep.csv, knees.csv,
 * knee.txt and the density curve, printing the knees and a line per
 * missing or failed point on `out`. Returns 0 when every point is ok, 1
 * otherwise, -errno when a file cannot be written. */
int sweep_report(const struct sweep_grid *g, const char *dir, FILE *out);

/* ---- the density curve (sweep_plot.c) ---- */

/* Write dir/plots/density.dat and draw dir/plots/density.{svg,png} with
 * tools/gnuplot/sweep-density.gp: x the first --vary key, y1 the SLO field
 * (Jain's index without an SLO), y2 the throughput, one line per series
 * through the medians over the repeats with min..max error bars, the SLO
 * threshold as a horizontal line. 0, 1 when gnuplot is absent or nothing
 * finished (said on `log`), or -errno (why in why). */
int sweep_plot(const struct sweep_grid *g, const struct sweep_row *rows, const char *dir,
               FILE *log, char *why, size_t whylen);

/* ---- running (sweep_run.c, sweep_slurm.c) ---- */

/* Run every point of g as a child process of `exe` under dir, at most
 * `jobs` at once. Ctrl-C (SIGINT, SIGTERM) stops launching and waits for
 * the running points; a second one stops them (SIGTERM: they keep partial
 * results and count as missing). Returns 0, or 1 when interrupted. */
int sweep_run_local(const struct sweep_grid *g, const char *dir, const char *exe, int jobs,
                    FILE *out);
/* Write dir/sweep.sbatch: an array job, task P running point P with `exe`
 * on `cpus` CPUs into dir/runs/P (dir absolute). 0 or -errno (message). */
int sweep_emit_slurm(const struct sweep_grid *g, const char *dir, const char *exe, int cpus,
                     char *err, size_t errlen);

#endif
