/* results_fixtures.h — a scenario and a run result with known figures,
 * and small file helpers, for the results tests (test_results.c,
 * test_plot.c). Header-only. */
#ifndef FV_RESULTS_FIXTURES_H
#define FV_RESULTS_FIXTURES_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hv/run.h"
#include "hv/scenario.h"
#include "testutil.h"

static inline void make_scn(struct scenario *s, int n)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->file, sizeof(s->file), "unit.yaml");
    snprintf(s->name, sizeof(s->name), "unit");
    snprintf(s->engine, sizeof(s->engine), "sim");
    snprintf(s->mode, sizeof(s->mode), "density");
    s->duration = FV_SEC(2);
    s->seed = 42;
    s->pcpus = 2;
    s->sample = FV_MS(100);
    s->starvation_threshold = FV_MS(100);
    s->policy = sched_find("credit");
    assert_non_null(s->policy);
    sched_global_defaults(s->policy, &s->gp);
    s->nr_domains = n;
    s->domains = calloc((size_t)n, sizeof(*s->domains));
    assert_non_null(s->domains);
    const struct workload_desc *idle = workload_find("idle");
    for (int i = 0; i < n; i++) {
        struct scn_domain *d = &s->domains[i];
        if (i == 0)
            snprintf(d->name, sizeof(d->name), "web");
        else if (i == 1)
            snprintf(d->name, sizeof(d->name), "batch");
        else
            snprintf(d->name, sizeof(d->name), "dom-%d", i);
        d->id = i + 1;
        d->vcpus = 1;
        d->memory = 64ULL << 20;
        sched_dom_defaults(&d->sp);
        d->wl.desc = idle ? idle : workload_kinds[0];
    }
}

/* web: share 0.5 of 0.5 promised (x = 1); batch: 0.25 of 0.5 (x = 0.5);
 * dom-N (n > 2): 0.01 of 0.01. Histograms with known percentiles. */
static inline void make_rr(struct run_result *rr, const struct scenario *s)
{
    memset(rr, 0, sizeof(*rr));
    rr->scn = s;
    rr->policy = "credit";
    rr->engine = "sim";
    rr->seed = 42;
    rr->duration_ns = FV_SEC(2);
    rr->pcpus = 2;
    rr->complete = true;
    rr->starvation_threshold_ns = FV_MS(100);
    rr->events = 1234;
    rr->schedules = 567;
    rr->wall_s = 0.5;
    rr->nr_doms = s->nr_domains;
    rr->doms = calloc((size_t)rr->nr_doms, sizeof(*rr->doms));
    assert_non_null(rr->doms);
    for (int i = 0; i < rr->nr_doms; i++) {
        struct dom_result *d = &rr->doms[i];
        snprintf(d->name, sizeof(d->name), "%s", s->domains[i].name);
        d->id = i + 1;
        d->vcpus = 1;
        d->weight = 256;
        d->cpu_share = i == 0 ? 0.5 : i == 1 ? 0.25 : 0.01;
        d->entitled_share = i < 2 ? 0.5 : 0.01;
        d->cpu_ns = (fv_ns_t)(d->cpu_share * 4e9);
        d->entitled_ns = (fv_ns_t)(d->entitled_share * 4e9);
        hist_init(&d->wait);
        hist_init(&d->wakeup);
        hist_init(&d->app_latency);
    }
    /* wait: 10, 20, 30 (small values are exact buckets) -> p50 20, p99 30. */
    for (int v = 10; v <= 30; v += 10)
        hist_add(&rr->doms[0].wait, (uint64_t)v);
    /* wakeup: 99 x 2047 (an exact bucket upper edge) + 1 x 5 ms. */
    for (int k = 0; k < 99; k++)
        hist_add(&rr->doms[0].wakeup, 2047);
    hist_add(&rr->doms[0].wakeup, 5000000);
    rr->doms[0].work_units = 77;
    rr->doms[0].starvation_events = 2;
    rr->doms[1].starvation_events = 1;
    rr->doms[1].deadline_misses = 4;
    hist_add(&rr->doms[1].wakeup, 1500000);
    rr->doms[1].cap = 50;
}

static inline void free_all(struct scenario *s, struct run_result *rr)
{
    run_result_free(rr);
    free(s->domains);
}

static char *path2(const char *a, const char *b)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", a, b) < 0)
        abort();
    return p;
}

static inline bool exists(const char *dir, const char *name)
{
    char *p = path2(dir, name);
    bool ok = access(p, F_OK) == 0;
    free(p);
    return ok;
}

/* Any *.tmp in dir or dir/plots? */
static inline int count_tmp(const char *dir)
{
    int n = 0;
    for (int pass = 0; pass < 2; pass++) {
        char *d = pass ? path2(dir, "plots") : strdup(dir);
        DIR *dh = opendir(d);
        struct dirent *e;
        while (dh && (e = readdir(dh))) {
            size_t len = strlen(e->d_name);
            if (len >= 4 && strcmp(e->d_name + len - 4, ".tmp") == 0)
                n++;
        }
        if (dh)
            closedir(dh);
        free(d);
    }
    return n;
}

static inline void rm_rf(const char *dir)
{
    assert_int_equal(tu_rmtree(dir), 0);
}

/* gnuplot is installed by tools/deps and CI checks the graphs: without it
 * the plot tests fail, naming it (they used to pass, skipped silently). */
#define REQUIRE_GNUPLOT()                                                                          \
    do {                                                                                           \
        if (tu_run("command -v gnuplot", NULL) != 0)                                              \
            fail_msg("gnuplot not found (tools/deps installs gnuplot-nox)");                      \
    } while (0)

/* A fresh results directory with an empty plots/ (remove with tu_rmtree). */
static inline char *run_dir(void)
{
    char *dir = tu_tmpdir();
    char *plots = path2(dir, "plots");
    assert_int_equal(mkdir(plots, 0777), 0);
    free(plots);
    return dir;
}

/* DIR/NAME's whole text (malloc'd); the test fails if it is missing. */
static inline char *read_in(const char *dir, const char *name)
{
    char *p = path2(dir, name);
    char *text = tu_read(p, NULL);
    if (!text)
        fail_msg("%s missing", p);
    free(p);
    return text;
}

#endif
