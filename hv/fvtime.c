/* fvtime.c — see fvtime.h. */
#include "fvtime.h"

#include <inttypes.h>
#include <stdio.h>

const char *fv_fmt_ns(fv_ns_t ns, char *buf, size_t len)
{
    static const struct { fv_ns_t div; const char *sfx; } units[] = {
        { FV_SEC(1), "s" }, { FV_MS(1), "ms" }, { FV_US(1), "us" },
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (ns != 0 && ns % units[i].div == 0) {
            snprintf(buf, len, "%" PRId64 "%s", ns / units[i].div, units[i].sfx);
            return buf;
        }
    snprintf(buf, len, "%" PRId64 "ns", ns);
    return buf;
}
