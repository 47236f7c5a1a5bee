/* fuzz_set.c — libFuzzer harness: `--set KEY=VALUE` overrides.
 *
 * The input is up to FUZZ_MAX_SETS lines, each one --set argument
 * ("domains.0.weight=512", "sched=[1,2]", "pin=&a [*a]" ...), applied to a
 * small fixed scenario that is valid as it stands, so that every input
 * reaches the override code (path walking, creating keys, grafting YAML
 * values into the document) and then validation. A line is a C string: a
 * NUL byte inside it ends the argument there, as on a command line. Like
 * fuzz_scenario.c, a scenario that loads must write and load back to itself.
 *   tools/fuzz set [SECONDS]
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "hv/scenario.h"

#define FUZZ_MAX_SETS 8

/* Every kind of field the overrides can reach: top-level scalars, a nested
 * mapping, a list of domains (one expanded by count), pins, workloads. */
static const char base[] =
    "name: fz\n"
    "duration: 1s\n"
    "pcpus: 2\n"
    "sample: 100ms\n"
    "starvation: { threshold: 50ms }\n"
    "sched: { policy: credit, tslice: 10ms }\n"
    "domains:\n"
    "  - name: a\n"
    "    weight: 512\n"
    "    workload: { kind: cpu-hog, chunk: 1ms }\n"
    "  - name: b\n"
    "    count: 2\n"
    "    pin: [0, 1]\n"
    "    workload: { kind: cpu-periodic, period: 10ms, burst: 1ms }\n"
    "  - name: c\n"
    "    vcpus: 2\n"
    "    memory: 16MiB\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = fuzz_text(data, size);
    if (!copy)
        return 0;
    const char *sets[FUZZ_MAX_SETS];
    int nsets = 0;
    for (char *p = copy; nsets < FUZZ_MAX_SETS && p < copy + size; ) {
        char *nl = memchr(p, '\n', (size_t)(copy + size - p));
        if (nl)
            *nl = '\0';
        sets[nsets++] = p;
        if (!nl)
            break;
        p = nl + 1;
    }
    struct scenario s;
    char err[1024];
    if (scenario_load_string("fuzz.yaml", base, sets, nsets, &s, err, sizeof(err)) == 0) {
        fuzz_check_roundtrip("fuzz.yaml", &s);
        scenario_free(&s);
    }
    free(copy);
    return 0;
}
