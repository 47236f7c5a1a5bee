/* fuzz_results.c — libFuzzer harness: reading a results CSV back, as
 * `fairvisor plot` does (results_read_domains, results_rank_domains).
 *
 * The input is a CSV file (timeline.csv or wakeup-latency.csv, or
 * anything else). It is read both ways plot reads: per-domain sum of
 * column 3 (timeline cpu_share) and per-domain max of column 1 (latency),
 * then ranked; the ranking must be in order (largest first, NaN last) and
 * hold every domain once. A whole results directory, summary.json
 * included, goes through the graphs' aggregation in fuzz_plot.c.
 *   tools/fuzz results [SECONDS]
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ranked(const struct results_doms *ds)
{
    for (int i = 1; i < ds->n; i++) {
        double a = ds->v[i - 1].key, b = ds->v[i].key;
        if ((isnan(a) && !isnan(b)) || (!isnan(a) && !isnan(b) && a < b)) {
            fprintf(stderr, "fuzz: ranking out of order at %d: %g then %g\n", i, a, b);
            abort();
        }
        for (int j = 0; j < i && i < 64; j++)
            if (strcmp(ds->v[j].name, ds->v[i].name) == 0) {
                fprintf(stderr, "fuzz: domain %s twice\n", ds->v[i].name);
                abort();
            }
    }
}

static void read_one(const uint8_t *data, size_t size, int name_col, int val_col, bool use_max)
{
    /* fmemopen wants a non-empty writable buffer to be portable. */
    char *buf = malloc(size + 1);
    if (!buf)
        return;
    memcpy(buf, data, size);
    buf[size] = '\0';
    FILE *f = fmemopen(buf, size ? size : 1, "r");
    if (!f) {
        free(buf);
        return;
    }
    struct results_doms ds = { 0 };
    int rc = results_read_domains(f, name_col, val_col, use_max, &ds);
    fclose(f);
    if (rc == 0) {
        int n = ds.n;
        results_rank_domains(&ds);
        if (ds.n != n)
            abort();
        check_ranked(&ds);
    }
    results_doms_free(&ds);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_one(data, size, 1, 3, false);      /* timeline.csv: domain, cpu_share */
    read_one(data, size, 0, 1, true);       /* wakeup-latency.csv: domain, latency_ns */
    return 0;
}
