/* test_net_hostile.c — a guest attacking netback through its own vif, one
 * way per test, on the virtual-time engine: its vif alone is disconnected,
 * with the reason; a flood -> sink pair keeps delivering every datagram,
 * and a CPU hog keeps its CPU time.
 *
 * The tolerances: the hog's CPU time is compared with a run where the same
 * domain behaves (idles after `after`, or, for the storm, computes as the
 * storm loop does); in virtual time the two differ only by what netback
 * spent on the attack: within 2%. Every datagram the flood sent must
 * arrive, and it must send at least 85% of its 1 per ms: it sends on a
 * timer, and credit's 30 ms slices (two CPU-bound domains on two pCPUs)
 * delay some of its wake-ups, as they do in the well-behaved run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/engine.h"
#include "hv/run.h"
#include "scn_build.h"
#include "testutil.h"

#define DURATION_MS 300
#define AFTER FV_MS(20)

enum { HOSTILE, FLOOD, SINK, HOG, DOM0 };

/* mode < 0: the well-behaved twin (storm_twin: a CPU loop like the storm's). */
static struct scenario *build(int mode, bool storm_twin)
{
    struct scenario *s = scn_build("credit", 2, FV_MS(DURATION_MS));
    struct scn_domain *h = scn_build_dom(s, "hostile", storm_twin ? "cpu-hog" : "net-hostile");
    if (!storm_twin) {
        scn_build_set(h, "mode", mode < 0 ? 0 : mode);
        scn_build_set(h, "peer", SINK + 1);
        scn_build_set(h, "after", mode < 0 ? FV_MS(10 * DURATION_MS) : AFTER);
    }
    scn_build_vif(s, h);
    struct scn_domain *f = scn_build_dom(s, "flood", "net-flood");
    scn_build_set(f, "peer", SINK + 1);
    scn_build_set(f, "rate", 1000);
    scn_build_vif(s, f);
    scn_build_vif(s, scn_build_dom(s, "sink", "net-sink"));
    scn_build_dom(s, "hog", "cpu-hog");
    scn_build_dom0(s, SCN_NB_RING);
    return s;
}

static void run(struct scenario *s, struct run_result *r)
{
    tu_sim_ok(s, r, NULL);
}

static void check(int mode, const char *reason)
{
    struct scenario *s = build(mode, false), *t = build(-1, mode == 6);
    struct run_result r, b;
    run(s, &r);
    run(t, &b);
    const struct dom_result *h = &r.doms[HOSTILE];
    assert_int_equal(h->net.disconnects, 1);
    if (!strstr(h->net.disconnect_reason, reason))
        fail_msg("disconnect reason '%s' does not say '%s'", h->net.disconnect_reason, reason);
    for (int d = FLOOD; d <= DOM0; d++)
        assert_int_equal(r.doms[d].net.disconnects, 0);
    /* Every datagram the flood sent arrived, intact and in order, as in
     * the twin run. */
    assert_int_equal(r.doms[SINK].work_units, r.doms[FLOOD].work_units);
    if (r.doms[FLOOD].work_units < DURATION_MS * 85 / 100)
        fail_msg("flood sent %llu datagrams in %d ms (expected at least 85%% of 1 per ms)",
                 (unsigned long long)r.doms[FLOOD].work_units, DURATION_MS);
    double hog = (double)r.doms[HOG].cpu_ns, twin = (double)b.doms[HOG].cpu_ns;
    if (hog < twin * 0.98 || hog > twin * 1.02)
        fail_msg("hog CPU %.0f ns vs %.0f ns in the well-behaved run (tolerance 2%%)", hog, twin);
    assert_false(h->crashed);
    run_result_free(&r);
    run_result_free(&b);
    scn_build_free(s);
    scn_build_free(t);
}

static void overflow(void **st) { (void)st; check(0, "producer"); }
static void rewrite(void **st) { (void)st; check(1, "size outside 14..1514"); }
static void bad_gref(void **st) { (void)st; check(2, "out of range"); }
static void foreign_gref(void **st) { (void)st; check(3, "not granted to domain 0"); }
static void offset(void **st) { (void)st; check(4, "offset + size beyond the page"); }
static void readonly_rx(void **st) { (void)st; check(5, "read-only"); }
static void storm(void **st) { (void)st; check(6, "event storm"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(overflow),     cmocka_unit_test(rewrite),
        cmocka_unit_test(bad_gref),     cmocka_unit_test(foreign_gref),
        cmocka_unit_test(offset),       cmocka_unit_test(readonly_rx),
        cmocka_unit_test(storm),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
