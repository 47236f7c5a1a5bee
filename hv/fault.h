/* fault.h — fault injection, so tests can prove that every set-up failure
 * unwinds cleanly (the paths a healthy host never takes).
 *
 * FV_FAULT=SITE[,SITE...] in the environment makes fv_fault(SITE) return
 * true at each named site; unset (the normal case) it is one getenv per
 * call, and the sites are all on set-up paths, never per event. The sites
 * are listed in fv_fault_sites[], which the tests walk, so a new site
 * cannot go untested.
 */
#ifndef FV_FAULT_H
#define FV_FAULT_H

#include <stdbool.h>

bool fv_fault(const char *site);

/* Every site some code checks, NULL-terminated. */
extern const char *const fv_fault_sites[];

#endif
