/* live_fixture.h — what the live-host tests (test_real_live*.c) share: a
 * sleep, a domain's live figures by name (failing the test when it is
 * gone), how many domains are alive. */
#ifndef FV_LIVE_FIXTURE_H
#define FV_LIVE_FIXTURE_H

#include <stdlib.h>
#include <time.h>

#include "hv/live.h"
#include "testutil.h"

static inline void lt_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static inline struct live_dom_info lt_info(struct live *l, const char *name)
{
    struct live_dom_info d;
    if (live_domain(l, name, &d))
        fail_msg("no domain %s", name);
    return d;
}

static inline int lt_alive(struct live *l)
{
    struct live_dom_info *all;
    int n = 0;
    assert_int_equal(live_domains(l, &all, &n), 0);
    free(all);
    return n;
}

#endif
