/* api_fixture.h — what the management-API tests (test_api.c,
 * test_api_shapes.c) share: a fake host (a table of domains, counters of
 * what was called) behind hv/api.h's ops, requests through api_handle
 * without the network, and assertions on the replies. */
#ifndef FV_API_FIXTURE_H
#define FV_API_FIXTURE_H

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "hv/api.h"

#define TOKEN "0123456789abcdef"
#define AUTH "Bearer " TOKEN
#define FAKE_MAX 4

/* ---- the fake host: a table of domains, counters of what was called ---------- */

struct fake {
    const struct sched_ops *ops;
    struct sched_global_params gp;
    struct live_dom_info doms[FAKE_MAX];
    int n, next_id, created;
    int calls_mut;              /* create/destroy/pause/sched calls that changed something */
    int stops;
    bool stopping;
    struct live_event evs[8];
    int nevs;
};

static struct fake fk;

static inline int find(const char *name)
{
    for (int i = 0; i < fk.n; i++)
        if (!strcmp(fk.doms[i].name, name))
            return i;
    return -1;
}

static inline int f_create(void *ctx, const char *file, const char *text, size_t len, int *id,
                    char *err, size_t errlen)
{
    (void)ctx;
    json_error_t je;
    json_t *j = json_loadb(text, len, 0, &je);
    const char *name = json_string_value(json_object_get(j, "name"));
    int rc = 0;
    if (!name) {
        snprintf(err, errlen, "%s:1:1: missing key \"name\"", file);
        rc = -EINVAL;
    } else if (find(name) >= 0) {
        snprintf(err, errlen, "%s: a domain named \"%s\" exists", file, name);
        rc = -EEXIST;
    } else if (fk.n == FAKE_MAX) {
        snprintf(err, errlen, "the host is full (%d domains)", FAKE_MAX);
        rc = -ENOSPC;
    } else {
        struct live_dom_info *d = &fk.doms[fk.n++];
        memset(d, 0, sizeof(*d));
        snprintf(d->name, sizeof(d->name), "%s", name);
        d->id = *id = ++fk.next_id;
        d->vcpus = 1;
        d->memory = 64 << 20;
        sched_dom_defaults(&d->sp);
        fk.created++;
        fk.calls_mut++;
    }
    json_decref(j);
    return rc;
}

static inline int f_destroy(void *ctx, const char *name, char *err, size_t errlen)
{
    (void)ctx, (void)err, (void)errlen;
    int i = find(name);
    if (i < 0)
        return -ENOENT;
    memmove(&fk.doms[i], &fk.doms[i + 1], (size_t)(fk.n - i - 1) * sizeof(fk.doms[0]));
    fk.n--;
    fk.calls_mut++;
    return 0;
}

static inline int f_pause(void *ctx, const char *name, bool pause, char *err, size_t errlen)
{
    (void)ctx;
    int i = find(name);
    if (i < 0)
        return -ENOENT;
    if ((fk.doms[i].state == LIVE_PAUSED) == pause) {
        snprintf(err, errlen, "%s is %s", name, pause ? "already paused" : "not paused");
        return -EBUSY;
    }
    fk.doms[i].state = pause ? LIVE_PAUSED : LIVE_RUNNING;
    fk.calls_mut++;
    return 0;
}

static inline int f_sched_dom(void *ctx, const char *name, const struct live_param *p, int n,
                       char *err, size_t errlen)
{
    (void)ctx, (void)err, (void)errlen;
    int i = find(name);
    if (i < 0)
        return -ENOENT;
    for (int k = 0; k < n; k++) {
        if (!strcmp(p[k].name, "weight"))
            fk.doms[i].sp.weight = (uint32_t)p[k].value;
        else if (!strcmp(p[k].name, "cap"))
            fk.doms[i].sp.cap = (uint32_t)p[k].value;
    }
    fk.calls_mut++;
    return 0;
}

static inline int f_sched_global(void *ctx, const struct live_param *p, int n, char *err, size_t errlen)
{
    (void)ctx, (void)err, (void)errlen;
    for (int k = 0; k < n; k++) {
        if (!strcmp(p[k].name, "tslice"))
            fk.gp.tslice = p[k].value;
        else if (!strcmp(p[k].name, "ratelimit"))
            fk.gp.ratelimit = p[k].value;
    }
    fk.calls_mut++;
    return 0;
}

static inline void f_host_info(void *ctx, struct live_host_info *h)
{
    (void)ctx;
    *h = (struct live_host_info){ .version = "0.1.0", .policy = fk.ops->name, .ops = fk.ops,
                                  .gp = fk.gp, .mode = "density", .pcpus = 2,
                                  .uptime_ns = 1500000000, .domains = fk.n,
                                  .created = fk.created, .max_domains = FAKE_MAX };
}

static inline int f_domains(void *ctx, struct live_dom_info **out, int *n)
{
    (void)ctx;
    *out = malloc(sizeof(fk.doms));
    memcpy(*out, fk.doms, sizeof(fk.doms));
    *n = fk.n;
    return 0;
}

static inline int f_domain(void *ctx, const char *name, struct live_dom_info *out)
{
    (void)ctx;
    int i = find(name);
    if (i < 0)
        return -ENOENT;
    *out = fk.doms[i];
    return 0;
}

static inline int f_events(void *ctx, uint64_t after, struct live_event *out, int max, int timeout_ms)
{
    (void)ctx, (void)timeout_ms;
    int n = 0;
    for (int i = 0; i < fk.nevs && n < max; i++)
        if (fk.evs[i].seq > after)
            out[n++] = fk.evs[i];
    return n;
}

static inline void f_stop(void *ctx) { (void)ctx; fk.stops++; fk.stopping = true; }
static inline bool f_stopping(void *ctx) { (void)ctx; return fk.stopping; }

/* A JSON list: every entry checked first, then all made (all or none). */
static inline int f_create_many(void *ctx, const char *file, const char *text, size_t len, int *ids,
                         int max, int *n, char *err, size_t errlen)
{
    json_t *j = json_loadb(text, len, 0, NULL);
    size_t k = json_array_size(j);
    int rc = k == 0 || k > (size_t)max ? -EINVAL : 0;
    for (size_t i = 0; !rc && i < k; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(j, i), "name"));
        rc = !name ? -EINVAL : find(name) >= 0 ? -EEXIST : fk.n + (int)k > FAKE_MAX ? -ENOSPC : 0;
        if (rc)
            snprintf(err, errlen, "%s: entry %zu refused", file, i);
    }
    for (size_t i = 0; !rc && i < k; i++) {
        char *one = json_dumps(json_array_get(j, i), 0);
        rc = f_create(ctx, file, one, strlen(one), &ids[i], err, errlen);
        free(one);
    }
    if (!rc)
        *n = (int)k;
    json_decref(j);
    return rc;
}

static const struct api_host_ops fake_ops = {
    .create = f_create, .create_many = f_create_many, .destroy = f_destroy, .pause = f_pause,
    .sched_dom = f_sched_dom, .sched_global = f_sched_global, .host_info = f_host_info,
    .domains = f_domains, .domain = f_domain, .events = f_events, .stop = f_stop,
    .stopping = f_stopping,
};
static const struct api api = { &fake_ops, NULL, TOKEN };

/* Two domains, web (id 1) and db (id 2), under credit's defaults. */
static inline int setup(void **st)
{
    (void)st;
    memset(&fk, 0, sizeof(fk));
    fk.ops = sched_find("credit");
    assert_non_null(fk.ops);
    sched_global_defaults(fk.ops, &fk.gp);
    int id;
    char err[256];
    assert_int_equal(f_create(NULL, "t", "{\"name\":\"web\"}", 14, &id, err, sizeof(err)), 0);
    assert_int_equal(f_create(NULL, "t", "{\"name\":\"db\"}", 13, &id, err, sizeof(err)), 0);
    fk.calls_mut = 0;
    return 0;
}

/* ---- helpers ---------------------------------------------------------------------- */

static struct api_reply rp;

static inline int req_full(const char *method, const char *path, const char *auth, const char *body,
                    bool too_large)
{
    struct api_request rq = { .method = method, .path = path, .authorization = auth,
                              .body = body, .body_len = body ? strlen(body) : 0,
                              .body_too_large = too_large };
    api_reply_free(&rp);
    assert_int_equal(api_handle(&api, &rq, &rp), 0);
    return rp.status;
}

static inline int req(const char *method, const char *path, const char *body)
{
    return req_full(method, path, AUTH, body, false);
}

/* The reply's JSON (json_decref it). */
static inline json_t *reply_json(void)
{
    json_error_t je;
    assert_non_null(rp.body);
    assert_string_equal(rp.content_type, "application/json");
    assert_int_equal(strlen(rp.body), rp.body_len);
    json_t *j = json_loads(rp.body, 0, &je);
    if (!j)
        fail_msg("not JSON (%s): %s", je.text, rp.body);
    return j;
}

/* The reply is {"status":status,"error":"...want..."}. */
static inline void assert_error(int status, const char *want)
{
    json_t *j = reply_json();
    assert_int_equal(rp.status, status);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
    const char *e = json_string_value(json_object_get(j, "error"));
    assert_non_null(e);
    if (!strstr(e, want))
        fail_msg("error \"%s\" does not contain \"%s\"", e, want);
    assert_int_equal(json_object_size(j), 2);
    json_decref(j);
}

static inline void assert_unchanged(uint32_t web_weight)
{
    assert_int_equal(fk.calls_mut, 0);
    assert_int_equal(fk.n, 2);
    assert_int_equal(fk.doms[0].sp.weight, web_weight);
    assert_int_equal(fk.doms[0].sp.cap, 0);
    assert_int_equal(fk.gp.tslice, FV_MS(30));
}

static inline int teardown(void **st)
{
    (void)st;
    api_reply_free(&rp);
    return 0;
}

#endif
