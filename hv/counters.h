/* counters.h — per-domain hardware and software event counters
 * (`monitor: { counters: [...] }`).
 *
 * Each pCPU thread opens one group of perf events counting itself; the
 * engine reads the group at every switch and charges the difference to
 * the domain whose vCPU ran in between (guests run on the pCPU thread's own
 * stack, so what the thread counted is what the vCPU did, hypercalls and
 * page faults included).
 *
 * Names: hardware events as libpfm4 names them for this host's PMU
 * (cycles, instructions, branch-misses, LLC-load-misses, raw PMU events...)
 * plus perf's cache shorthands it lacks (LLC-misses for LLC-load-misses,
 * LLC-refs for LLC-loads, ...), and the software events task-clock,
 * page-faults, context-switches, cpu-migrations, minor-faults,
 * major-faults, cpu-clock (and perf's faults, cs, migrations).
 *
 * On a host without a hardware PMU (most VMs, our machines) hardware
 * events are replaced by task-clock, page-faults and context-switches;
 * stderr says so once per process, and counters_name() tells what is
 * actually counted.
 */
#ifndef FV_COUNTERS_H
#define FV_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FV_MAX_COUNTERS 8               /* events per group */
#define FV_COUNTER_NAME_MAX 64          /* bytes, with the NUL */

struct counters;                        /* one per pCPU thread */

/* Whether name is one this build can encode (a software name, or libpfm4
 * encodes it); says nothing of whether this host counts it. */
bool counters_known(const char *name);

/* Open names[0..n-1] (n <= FV_MAX_COUNTERS) for the calling thread, counting
 * from now, user and kernel. 0, or -errno with the message in err:
 * -EINVAL an unknown name (named) or n out of range, -EOPNOTSUPP an event
 * this host's PMU refuses, -EACCES perf events not allowed, ... */
int counters_open(struct counters **out, const char *const *names, int n,
                  char *err, size_t errlen);
int counters_count(const struct counters *c);
/* The name of event i as requested, or of a fallback event. */
const char *counters_name(const struct counters *c, int i);
/* Cumulative values since open into vals[counters_count(c)], in one read()
 * syscall; task-clock and cpu-clock in ns. 0 or -errno. Calling thread or
 * not, the values are those of the thread that opened them. */
int counters_read(struct counters *c, uint64_t *vals);
void counters_close(struct counters *c);

/* The names that would be counted for the request (fallback applied), for
 * a results header, without keeping anything open: opens and closes them
 * on the calling thread. Fills out[0..count-1]; returns the count
 * (<= FV_MAX_COUNTERS) or -errno as counters_open. */
int counters_names(const char *const *names, int n, char out[][FV_COUNTER_NAME_MAX],
                   char *err, size_t errlen);

#endif
