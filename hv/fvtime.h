/* fvtime.h — time in fairvisor: signed 64-bit nanoseconds, as Xen's s_time_t.
 * Both engines use it: virtual ns in the sim engine, CLOCK_MONOTONIC ns in
 * the real one. A negative span means "none" (e.g. no timer). */
#ifndef FV_TIME_H
#define FV_TIME_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t fv_ns_t;

#define FV_NS(x)    ((fv_ns_t)(x))
#define FV_US(x)    ((fv_ns_t)(x) * 1000LL)
#define FV_MS(x)    ((fv_ns_t)(x) * 1000000LL)
#define FV_SEC(x)   ((fv_ns_t)(x) * 1000000000LL)
#define FV_NS_NEVER INT64_MAX

/* Format ns in the largest unit that represents it exactly ("30ms",
 * "1500us", "-2s", "0ns"): what scenario files accept back, never rounded.
 * Returns buf. */
const char *fv_fmt_ns(fv_ns_t ns, char *buf, size_t len);

#endif
