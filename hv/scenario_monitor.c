/* scenario_monitor.c — the `monitor:` block of a scenario: which events
 * (hv/counters.h) are counted per domain. */
#include "scenario_priv.h"

#include <string.h>

#include "counters.h"

/* `monitor: { counters: [NAME, ...] }`: each name one counters_known()
 * accepts, once, at most FV_MAX_COUNTERS (one perf event group per pCPU).
 * A single name is a list of one (--set monitor.counters=cycles). */
static int parse_counter(struct scn_ctx *c, int node, struct scenario *s)
{
    const char *v;
    int rc = scn_scalar(c, node, "a counter", "an event name such as cycles", &v);
    if (rc)
        return rc;
    if (!*v)
        return scn_fail(c, node, "a counter is empty (expected an event name such as cycles)");
    if (strlen(v) >= FV_COUNTER_NAME_MAX)
        return scn_fail(c, node, "counter \"%s\" is too long (expected at most %d characters)",
                        SCN_ECHO(v), FV_COUNTER_NAME_MAX - 1);
    if (!counters_known(v))
        return scn_fail(c, node, "unknown counter \"%s\" (expected an event such as cycles, "
                        "instructions, branch-misses, LLC-misses, task-clock, page-faults or "
                        "context-switches)", SCN_ECHO(v));
    for (int i = 0; i < s->nr_counters; i++)
        if (strcmp(s->counters[i], v) == 0)
            return scn_fail(c, node, "duplicate counter \"%s\" (expected each counter once)",
                            SCN_ECHO(v));
    if (s->nr_counters == FV_MAX_COUNTERS)
        return scn_fail(c, node, "more than %d counters (expected at most %d: one perf event "
                        "group per pCPU)", FV_MAX_COUNTERS, FV_MAX_COUNTERS);
    memcpy(s->counters[s->nr_counters++], v, strlen(v) + 1);
    return 0;
}

static int parse_counters(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    yaml_node_t *n = scn_node(c, node);
    if (n->type == YAML_MAPPING_NODE)
        return scn_fail(c, node, "counters is a mapping (expected a list of event names "
                        "such as [cycles, instructions])");
    if (n->type == YAML_SCALAR_NODE)
        return parse_counter(c, node, obj);
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        int rc = parse_counter(c, *it, obj);
        if (rc)
            return rc;
    }
    return 0;
}

int scn_parse_monitor(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    static const struct scn_field fields[] = {
        { .name = "counters", .type = SCN_T_CUSTOM, .parse = parse_counters },
    };
    static const struct scn_mapping m = {
        "monitor", "monitor: { counters: [NAME, ...] }", fields, 1, NULL,
    };
    return scn_parse_mapping(c, &m, node, obj);
}
