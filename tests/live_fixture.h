/* live_fixture.h — what the live-host tests (test_real_live*.c) share: a
 * sleep, a domain's live figures by name (failing the test when it is
 * gone), waiting for a figure to move, how many domains are alive. */
#ifndef FV_LIVE_FIXTURE_H
#define FV_LIVE_FIXTURE_H

#include <stdint.h>
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

/* Wait until fig(domain name) > above, up to TU_WAIT_S (a liveness check,
 * not a timing one: a loaded machine, or a sanitizer build, may take long);
 * returns the figure. */
typedef uint64_t (*lt_figure)(const struct live_dom_info *d);
static inline uint64_t lt_wait_above(struct live *l, const char *name, lt_figure fig,
                                     uint64_t above, const char *what)
{
    double t0 = tu_now();
    for (;;) {
        struct live_dom_info d = lt_info(l, name);
        uint64_t v = fig(&d);
        if (v > above)
            return v;
        if (tu_now() - t0 > TU_WAIT_S)
            fail_msg("%s: no %s after %llu in %.0f s", name, what, (unsigned long long)above,
                     TU_WAIT_S);
        lt_sleep_ms(20);
    }
}
static inline uint64_t lt_wait_for(struct live *l, const char *name, lt_figure fig,
                                   const char *what)
{
    return lt_wait_above(l, name, fig, 0, what);
}
static inline uint64_t lt_work(const struct live_dom_info *d) { return d->work_units; }
static inline uint64_t lt_tx(const struct live_dom_info *d) { return d->net_tx_pkts; }
static inline uint64_t lt_rx(const struct live_dom_info *d) { return d->net_rx_pkts; }
static inline uint64_t lt_blk(const struct live_dom_info *d) { return d->blk_reads + d->blk_writes; }
static inline uint64_t lt_cpu(const struct live_dom_info *d) { return (uint64_t)d->cpu_ns; }

static inline int lt_alive(struct live *l)
{
    struct live_dom_info *all;
    int n = 0;
    assert_int_equal(live_domains(l, &all, &n), 0);
    free(all);
    return n;
}

#endif
