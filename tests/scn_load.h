/* scn_load.h — loading scenario text in tests, and what a refusal must
 * say (test_scenario.c, test_scenario_limits.c). Header-only. */
#ifndef FV_SCN_LOAD_H
#define FV_SCN_LOAD_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/scenario.h"
#include "testutil.h"

/* The last loader message. */
static char err[1024];

/* Load text as "s.yaml"; expect success. */
static inline void load_ok(const char *text, const char *const *sets, int nsets, struct scenario *s)
{
    int rc = scenario_load_string("s.yaml", text, sets, nsets, s, err, sizeof(err));
    if (rc)
        fail_msg("unexpected refusal: %s", err);
}

/* Load text; expect refusal with exactly `msg`. */
static inline void load_bad(const char *text, const char *const *sets, int nsets, const char *msg)
{
    struct scenario s;
    int rc = scenario_load_string("s.yaml", text, sets, nsets, &s, err, sizeof(err));
    assert_int_equal(rc, -EINVAL);
    assert_string_equal(err, msg);
    assert_null(s.domains);
}

/* Load text; expect refusal whose message starts with prefix and holds phrase. */
static inline void load_bad_has(const char *text, const char *const *sets, int nsets,
                         const char *prefix, const char *phrase)
{
    struct scenario s;
    int rc = scenario_load_string("s.yaml", text, sets, nsets, &s, err, sizeof(err));
    assert_int_equal(rc, -EINVAL);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, phrase))
        fail_msg("got \"%s\", expected prefix \"%s\" and \"%s\"", err, prefix, phrase);
}

#define MIN_HEAD "duration: 1s\n"
#define ONE_DOM "domains:\n  - name: a\n"

/* ---- round trip: what scenario_write_yaml writes loads to the same ---------- */

static inline void assert_same(const struct scenario *a, const struct scenario *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->engine, b->engine);
    assert_string_equal(a->mode, b->mode);
    assert_int_equal(a->duration, b->duration);
    assert_true(a->seed == b->seed);
    assert_int_equal(a->pcpus, b->pcpus);
    assert_int_equal(a->sample, b->sample);
    assert_int_equal(a->starvation_threshold, b->starvation_threshold);
    assert_ptr_equal(a->policy, b->policy);
    assert_memory_equal(&a->gp, &b->gp, sizeof(a->gp));
    assert_int_equal(a->nr_domains, b->nr_domains);
    for (int i = 0; i < a->nr_domains; i++) {
        const struct scn_domain *x = &a->domains[i], *y = &b->domains[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->id, y->id);
        assert_int_equal(x->vcpus, y->vcpus);
        assert_int_equal(x->memory, y->memory);
        assert_int_equal(x->pinned, y->pinned);
        assert_memory_equal(&x->pin, &y->pin, sizeof(x->pin));
        assert_int_equal(x->sp.weight, y->sp.weight);
        assert_int_equal(x->sp.cap, y->sp.cap);
        assert_int_equal(x->sp.period, y->sp.period);
        assert_int_equal(x->sp.budget, y->sp.budget);
        assert_int_equal(x->sp.extratime, y->sp.extratime);
        assert_ptr_equal(x->wl.desc, y->wl.desc);
        assert_memory_equal(&x->wl.args, &y->wl.args, sizeof(x->wl.args));
    }
}

static inline void round_trip(const char *text)
{
    struct scenario a, b;
    load_ok(text, NULL, 0, &a);
    char *dir = tu_tmpdir(), *path = NULL;
    assert_true(asprintf(&path, "%s/resolved.yaml", dir) > 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(scenario_write_yaml(&a, f), 0);
    fclose(f);
    if (scenario_load(path, NULL, 0, &b, err, sizeof(err))) {
        char *t = tu_read(path, NULL);
        fail_msg("reload refused: %s\n%s", err, t);
    }
    assert_same(&a, &b);
    scenario_free(&a);
    scenario_free(&b);
    assert_int_equal(tu_rmtree(dir), 0);
    free(path);
    free(dir);
}

#endif
