/* test_real_counters.c — monitor.counters on the real engine: events are
 * counted on each pCPU thread and given to the domain whose vCPU ran
 * between two switches. A domain that touches 8 MiB of fresh memory next
 * to an idle one on the same pCPU: the toucher's page faults are at least
 * its 2,048 pages, the idle one's fewer than 16 (it touches no memory of
 * its own; a few faults could come from the host's own pages). On a host
 * without a PMU (ours) `cycles` falls back to the software events. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "hv/engine.h"
#include "hv/results.h"
#include "hv/scenario.h"

static const char *const text =
    "name: ctr\nengine: real\nduration: 1s\npcpus: 1\n"
    "monitor: { counters: [page-faults, cycles] }\n"
    "domains:\n"
    "  - { name: toucher, workload: { kind: cpu-hog, wss: 8MiB } }\n"
    "  - { name: idle }\n";

static int index_of(const struct run_result *r, const char *name)
{
    for (int i = 0; i < r->nr_counters; i++)
        if (strcmp(r->counter_names[i], name) == 0)
            return i;
    return -1;
}

static void test_page_faults_attributed(void **st)
{
    (void)st;
    struct scenario scn;
    struct run_result r;
    char err[1024] = "";
    if (scenario_load_string("ctr.yaml", text, NULL, 0, &scn, err, sizeof(err)))
        fail_msg("%s", err);
    if (engine_run(&scn, NULL, &r, err, sizeof(err)))
        fail_msg("%s", err);
    int pf = index_of(&r, "page-faults"), tc = index_of(&r, "task-clock");
    assert_true(pf >= 0);
    assert_true(index_of(&r, "cycles") >= 0 || tc >= 0);   /* a PMU, or the fallback */
    print_message("page-faults: toucher %llu, idle %llu\n",
                  (unsigned long long)r.doms[0].counters[pf],
                  (unsigned long long)r.doms[1].counters[pf]);
    assert_true(r.doms[0].counters[pf] >= 2048);
    assert_true(r.doms[1].counters[pf] < 16);
    if (tc >= 0)        /* the toucher ran most of the second; idle ran microseconds */
        assert_true(r.doms[0].counters[tc] > 100 * r.doms[1].counters[tc]);

    /* summary.json names them and gives each domain its own. */
    char *dir = tu_tmpdir(), path[512];
    assert_int_equal(results_write_summary(dir, &r), 0);
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    char *json = tu_read(path, NULL);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"counters\": ["));
    assert_non_null(strstr(json, "\"page-faults\": "));
    free(json);
    tu_rmtree(dir);
    free(dir);
    run_result_free(&r);
    scenario_free(&scn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_faults_attributed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
