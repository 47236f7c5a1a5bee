/* fault.c — see fault.h. Written here rather than taken from a library:
 * it is a dozen lines, and the sites are ours. */
#include "fault.h"

#include <stdlib.h>
#include <string.h>

/* Sites where a fault makes the run's set-up fail. Not listed, because it
 * is no failure: "guard-madvise" makes fv_guard_page behave as on a kernel
 * without MADV_GUARD_INSTALL (the mprotect fallback). */
const char *const fv_fault_sites[] = {
    "stack",            /* fv_stack_alloc */
    "stack-arena",      /* the sim engine's vCPU stacks */
    "evq",              /* event queues */
    "sched",            /* the scheduler instance */
    "domains",          /* registering domains with the policy */
    "vcpus",            /* per-vCPU engine state */
    "memory",           /* the host's table of domain memory (host.c) */
    "gnttab",           /* a domain's grant table */
    "netback",          /* the network backend */
    "evtchn",           /* event-channel tables */
    "results",          /* per-domain result entries */
    "metrics",          /* the metrics module */
    "watchdog",         /* the sim engine's hostile-guest watchdog timer */
    "threads",          /* the real engine's second pCPU thread */
    NULL,
};

bool fv_fault(const char *site)
{
    const char *env = getenv("FV_FAULT");
    if (!env || !*env)
        return false;
    size_t n = strlen(site);
    for (const char *p = env; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, site, n) == 0)
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}
