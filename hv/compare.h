/* compare.h — `fairvisor compare DIR... [--out DIR] [--by domain|group]
 * [--no-plot]`: several runs' summary.json side by side.
 *
 * Prints one header line per run (directory, scenario, policy, engine,
 * mode, duration, complete), then one row per domain (or per scenario
 * entry, `group`, with --by group) giving for each run the normalized share,
 * a p99 latency (the network round trip where the domain sampled one, else
 * its disk requests' latency where it used its disk, else its wake-up
 * latency, else its wait for the CPU), work units/s, packets received (or
 * sent, by a domain that mostly sends) per second or IOPS, and starvation
 * events; then each run's fairness. Writes compare.csv (the same numbers,
 * one row per domain or group per run) and, with gnuplot, clustered bar
 * charts compare-{share,p99,throughput}.{png,svg} into --out DIR (default
 * results/compare/<UTC time>/). summary.json files from before `mode` or
 * `group` existed read as mode density and each domain its own group.
 *
 * Exit status: 0 success, 1 an output could not be written (or gnuplot
 * failed), 2 bad usage or an unreadable or malformed DIR/summary.json (the
 * message names the file and what is wrong).
 */
#ifndef FV_COMPARE_H
#define FV_COMPARE_H

#include <stdio.h>

/* argv[0] is the verb ("compare"), as main() passes it. */
int fv_cmd_compare(int argc, char **argv);
/* The same with the table going to `out` and messages to `err` (tests). */
int fv_compare_main(int argc, char **argv, FILE *out, FILE *err);

#endif
