/* compare_priv.h — what compare.c (reading the runs, the table, compare.csv)
 * shares with compare_plot.c (the bar charts): the runs as read and the
 * rows of the table. A figure that is not there (a domain missing from a
 * run, a latency nobody sampled) is NaN and prints as "-". */
#ifndef FV_COMPARE_PRIV_H
#define FV_COMPARE_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "scenario.h"

/* Which p99 a row shows, in order of preference (the larger wins): the
 * network round trip, the disk request, the wake-up latency, and for a
 * domain that never woke up (a CPU hog) its wait from runnable to running. */
enum cmp_lat { CMP_LAT_WAIT, CMP_LAT_WAKEUP, CMP_LAT_BLK, CMP_LAT_NET, CMP_LAT_KINDS };
/* Which I/O rate a row shows (the larger wins): packets received, or sent
 * for a domain that mostly sends (a flood), else disk requests. */
enum cmp_io { CMP_IO_NONE, CMP_IO_BLK, CMP_IO_NET_TX, CMP_IO_NET_RX };

/* One domain of one run, from its summary.json. */
struct cmp_dom {
    const char *name, *group;       /* owned by the run's JSON */
    double cpu_share, entitled_share;
    double work_units, starvation_events, net_rx_pkts, net_tx_pkts, blk_ios;
    double p99_ns[CMP_LAT_KINDS];   /* NaN: no samples of that kind */
    bool net_traffic, blk_traffic;
    int row;                        /* its row of the table */
};

struct cmp_run {
    const char *dir;                /* as given on the command line */
    json_t *root;
    const char *scenario, *policy, *engine, *mode;
    double duration_ns;             /* NaN if absent */
    int complete;                   /* 1, 0, or -1 when absent */
    double jain, min_norm;          /* NaN if absent */
    struct cmp_dom *doms;
    int ndoms;
};

/* A row's figures in one run. */
struct cmp_cell {
    int members;                    /* 0: not in that run */
    double norm, p99_ms, work_s, io_s, starv;
};

struct cmp_row {
    char name[SCN_NAME_MAX];
    enum cmp_lat lat;
    enum cmp_io io;
    struct cmp_cell *cell;          /* one per run */
};

struct cmp {
    struct cmp_run *runs;
    int nruns;
    struct cmp_row *rows;
    int nrows;
    bool by_group;
};

/* Read DIR/summary.json into r (compare_load.c); r->root and r->doms are
 * the caller's to free, also on failure. 0, or -errno with a message in
 * err naming the file and what is wrong. */
int cmp_load_run(const char *dir, struct cmp_run *r, char *err, size_t errlen);

/* "rtt", "blk", "wakeup", "wait"; "rx pkts", "tx pkts", "IOPS", "-" */
const char *cmp_lat_name(enum cmp_lat l);
const char *cmp_io_name(enum cmp_io io);
/* "1: credit (density)", "1: credit (density) on real" when the runs'
 * engines differ. */
void cmp_run_label(const struct cmp *c, int r, char *buf, size_t n);

/* Charts (compare_plot.c): compare-{share,p99,throughput}.{svg,png} and the
 * CSV each draws, into dir. 0, 1 if gnuplot is not installed (said on
 * `log`), or -errno with one line in `why` naming the chart and the
 * reason (gnuplot's own words when gnuplot failed). */
int cmp_charts(const struct cmp *c, const char *dir, FILE *log, char *why, size_t whylen);

#endif
