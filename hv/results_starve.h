/* results_starve.h — the starvation part of a results directory:
 *   summary.json  top level starvation.list (one object per event:
 *                 start_ns, duration_ns, domain, resource ("cpu", "net",
 *                 "blk"), holders (names, the most served first) and
 *                 holders_total) and starvation.list_truncated; per domain
 *                 starvation_by_resource: { cpu|net|blk: { events,
 *                 starved_ns } };
 *   starvation.csv  start_ns,duration_ns,domain,resource,holders — one row
 *                 per listed event, holders joined with ';', times in run
 *                 nanoseconds, names with ',', ';', '"' and whitespace
 *                 replaced by '_' (as the other CSVs).
 * Written by results_finish; the list comes from run_result's starve_list.
 */
#ifndef FV_RESULTS_STARVE_H
#define FV_RESULTS_STARVE_H

#include <jansson.h>

#include "run.h"

/* Add the fields above to root (what results.c built for summary.json).
 * Returns root, or NULL after releasing it when a field cannot be built. */
json_t *results_starve_json(json_t *root, const struct run_result *rr);
/* Write dir/starvation.csv atomically (temp file + rename). 0 or -errno. */
int results_write_starvation_csv(const char *dir, const struct run_result *rr);

#endif
