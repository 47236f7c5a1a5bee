/* test_api.c — the management API's core (hv/api.h) against a fake host:
 * token, routing, validation before anything is applied, errno to status,
 * the JSON shapes, the Prometheus text and the event frames. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "testutil.h"
#include "hv/api.h"
#include "hv/serve.h"

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

static int find(const char *name)
{
    for (int i = 0; i < fk.n; i++)
        if (!strcmp(fk.doms[i].name, name))
            return i;
    return -1;
}

static int f_create(void *ctx, const char *file, const char *text, size_t len, int *id,
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

static int f_destroy(void *ctx, const char *name, char *err, size_t errlen)
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

static int f_pause(void *ctx, const char *name, bool pause, char *err, size_t errlen)
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

static int f_sched_dom(void *ctx, const char *name, const struct live_param *p, int n,
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

static int f_sched_global(void *ctx, const struct live_param *p, int n, char *err, size_t errlen)
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

static void f_host_info(void *ctx, struct live_host_info *h)
{
    (void)ctx;
    *h = (struct live_host_info){ .version = "0.1.0", .policy = fk.ops->name, .ops = fk.ops,
                                  .gp = fk.gp, .mode = "density", .pcpus = 2,
                                  .uptime_ns = 1500000000, .domains = fk.n,
                                  .created = fk.created, .max_domains = FAKE_MAX };
}

static int f_domains(void *ctx, struct live_dom_info **out, int *n)
{
    (void)ctx;
    *out = malloc(sizeof(fk.doms));
    memcpy(*out, fk.doms, sizeof(fk.doms));
    *n = fk.n;
    return 0;
}

static int f_domain(void *ctx, const char *name, struct live_dom_info *out)
{
    (void)ctx;
    int i = find(name);
    if (i < 0)
        return -ENOENT;
    *out = fk.doms[i];
    return 0;
}

static int f_events(void *ctx, uint64_t after, struct live_event *out, int max, int timeout_ms)
{
    (void)ctx, (void)timeout_ms;
    int n = 0;
    for (int i = 0; i < fk.nevs && n < max; i++)
        if (fk.evs[i].seq > after)
            out[n++] = fk.evs[i];
    return n;
}

static void f_stop(void *ctx) { (void)ctx; fk.stops++; fk.stopping = true; }
static bool f_stopping(void *ctx) { (void)ctx; return fk.stopping; }

/* A JSON list: every entry checked first, then all made (all or none). */
static int f_create_many(void *ctx, const char *file, const char *text, size_t len, int *ids,
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
static int setup(void **st)
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

static int req_full(const char *method, const char *path, const char *auth, const char *body,
                    bool too_large)
{
    struct api_request rq = { .method = method, .path = path, .authorization = auth,
                              .body = body, .body_len = body ? strlen(body) : 0,
                              .body_too_large = too_large };
    api_reply_free(&rp);
    assert_int_equal(api_handle(&api, &rq, &rp), 0);
    return rp.status;
}

static int req(const char *method, const char *path, const char *body)
{
    return req_full(method, path, AUTH, body, false);
}

/* The reply's JSON (json_decref it). */
static json_t *reply_json(void)
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
static void assert_error(int status, const char *want)
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

static void assert_unchanged(uint32_t web_weight)
{
    assert_int_equal(fk.calls_mut, 0);
    assert_int_equal(fk.n, 2);
    assert_int_equal(fk.doms[0].sp.weight, web_weight);
    assert_int_equal(fk.doms[0].sp.cap, 0);
    assert_int_equal(fk.gp.tslice, FV_MS(30));
}

static int teardown(void **st)
{
    (void)st;
    api_reply_free(&rp);
    return 0;
}

/* ---- token and routing -------------------------------------------------------------- */

static void test_token(void **st)
{
    (void)st;
    assert_int_equal(req_full("GET", "/v1/host", NULL, NULL, false), 401);
    assert_error(401, "token");
    assert_int_equal(req_full("GET", "/v1/host", "Bearer 0123456789abcdeX", NULL, false), 401);
    assert_int_equal(req_full("GET", "/v1/host", "Bearer 0123456789abcde", NULL, false), 401);
    assert_int_equal(req_full("GET", "/v1/host", AUTH "0", NULL, false), 401);
    assert_int_equal(req_full("GET", "/v1/host", TOKEN, NULL, false), 401);
    assert_int_equal(req_full("GET", "/v1/host", "Basic " TOKEN, NULL, false), 401);
    /* The token comes before everything: no route, method or size is told. */
    assert_int_equal(req_full("GET", "/nope", "Bearer x", NULL, false), 401);
    assert_int_equal(req_full("PUT", "/v1/host", NULL, NULL, false), 401);
    assert_int_equal(req_full("POST", "/v1/domains", NULL, "{\"name\":\"x\"}", true), 401);
    assert_int_equal(req_full("POST", "/v1/shutdown", "", NULL, false), 401);
    assert_false(rp.stop_after);
    assert_int_equal(req_full("GET", "/v1/host", "bearer " TOKEN, NULL, false), 200);
    assert_unchanged(256);
    assert_int_equal(fk.stops, 0);
}

static void test_not_found(void **st)
{
    (void)st;
    assert_int_equal(req("GET", "/v2/host", NULL), 404);
    assert_error(404, "no such path: /v2/host");
    assert_int_equal(req("GET", "/v1/host/", NULL), 404);
    assert_int_equal(req("GET", "/", NULL), 404);
    assert_int_equal(req("GET", "", NULL), 404);
    assert_int_equal(req("GET", "/v1/domains/web/nope", NULL), 404);
    assert_int_equal(req("GET", "/v1/domains/nosuch", NULL), 404);
    assert_error(404, "no domain named \"nosuch\"");
    assert_int_equal(req("DELETE", "/v1/domains/nosuch", NULL), 404);
    assert_int_equal(req("POST", "/v1/domains/nosuch/pause", NULL), 404);
    assert_int_equal(req("PATCH", "/v1/domains/nosuch/sched", "{\"weight\":5}"), 404);
    /* Names outside [A-Za-z0-9_.-]{1,63}: 404 without asking the host. */
    assert_int_equal(req("GET", "/v1/domains/we%62", NULL), 404);
    assert_error(404, "no such domain");
    assert_int_equal(req("GET", "/v1/domains/", NULL), 404);
    assert_int_equal(req("DELETE", "/v1/domains/a b", NULL), 404);
    char path[128] = "/v1/domains/";
    memset(path + 12, 'a', 64);
    assert_int_equal(req("GET", path, NULL), 404);
    path[12 + 63] = '\0';
    assert_int_equal(req("GET", path, NULL), 404);
    assert_error(404, "no domain named");
    assert_int_equal(req("GET", "/v1/domains/web?x=1", NULL), 200);
    assert_unchanged(256);
}

static void test_method(void **st)
{
    (void)st;
    assert_int_equal(req("PUT", "/v1/host", NULL), 405);
    assert_error(405, "PUT is not allowed on /v1/host");
    assert_string_equal(rp.allow, "GET");
    assert_int_equal(req("DELETE", "/v1/domains", NULL), 405);
    assert_string_equal(rp.allow, "GET, POST");
    assert_int_equal(req("POST", "/v1/domains/web", "{}"), 405);
    assert_string_equal(rp.allow, "GET, DELETE");
    assert_int_equal(req("GET", "/v1/domains/web/pause", NULL), 405);
    assert_int_equal(req("GET", "/v1/shutdown", NULL), 405);
    assert_int_equal(req("POST", "/metrics", NULL), 405);
    assert_int_equal(req("PATCH", "/v1/domains/web", "{\"weight\":5}"), 405);
    assert_int_equal(req("get", "/v1/host", NULL), 405);
    assert_unchanged(256);
    assert_int_equal(fk.stops, 0);
}

static void test_too_large(void **st)
{
    (void)st;
    assert_int_equal(req_full("POST", "/v1/domains", AUTH, "{\"name\":\"x\"}", true), 413);
    assert_error(413, "over 1048576 bytes");
    assert_int_equal(req_full("PATCH", "/v1/sched", AUTH, "{\"tslice\":\"10ms\"}", true), 413);
    assert_unchanged(256);
}

/* ---- PATCH validation: nothing applied unless all of it is right ----------------------- */

static void test_patch_refused(void **st)
{
    (void)st;
    static const struct { const char *path, *body, *want; } bad[] = {
        { "/v1/domains/web/sched", "{\"weight\":", "request:1:" },
        { "/v1/domains/web/sched", "", "request:" },
        { "/v1/domains/web/sched", "[1]", "expected a JSON object" },
        { "/v1/domains/web/sched", "{\"weight\":512,\"bogus\":1}", "bogus: unknown parameter "
          "(expected one of: weight, cap)" },
        { "/v1/domains/web/sched", "{\"weight\":0}", "weight: 0 is out of range (expected 1..65535)" },
        { "/v1/domains/web/sched", "{\"cap\":10,\"weight\":65536}", "weight: 65536 is out of range" },
        { "/v1/domains/web/sched", "{\"weight\":\"512\"}", "weight: expected an integer" },
        { "/v1/domains/web/sched", "{\"weight\":512.0}", "weight: expected an integer" },
        { "/v1/domains/web/sched", "{\"weight\":true}", "weight: expected an integer" },
        { "/v1/domains/web/sched", "{\"weight\":1,\"weight\":2}", "duplicate" },
        { "/v1/domains/web/sched", "{\"cap\":-1}", "cap: -1 is out of range" },
        { "/v1/domains/web/sched", "{\"tslice\":\"10ms\"}", "tslice: unknown parameter" },
        { "/v1/sched", "{\"tslice\":10}", "tslice: expected a duration string" },
        { "/v1/sched", "{\"tslice\":\"10\"}", "tslice: \"10\" is not a duration" },
        { "/v1/sched", "{\"tslice\":\"1us\"}", "tslice: 1us is out of range (expected 1ms..1s)" },
        { "/v1/sched", "{\"ratelimit\":\"1ms\",\"weight\":5}", "weight: unknown parameter "
          "(expected one of: tslice, ratelimit)" },
        { "/v1/sched", "{\"tslice\":\"10ms\"} x", "request:1:" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        print_message("PATCH %s %s\n", bad[i].path, bad[i].body);
        assert_int_equal(req("PATCH", bad[i].path, bad[i].body), 400);
        assert_error(400, bad[i].want);
        assert_unchanged(256);
    }
}

static void test_patch_applied(void **st)
{
    (void)st;
    assert_int_equal(req("PATCH", "/v1/domains/web/sched", "{\"weight\":512,\"cap\":50}"), 200);
    json_t *j = reply_json();
    json_t *want = json_pack("{s:s, s:i, s:{s:i, s:i}}", "name", "web", "id", 1, "sched",
                             "weight", 512, "cap", 50);
    assert_true(json_equal(j, want));
    json_decref(want);
    json_decref(j);
    assert_int_equal(fk.doms[0].sp.weight, 512);
    assert_int_equal(fk.doms[0].sp.cap, 50);
    assert_int_equal(fk.doms[1].sp.weight, 256);

    assert_int_equal(req("PATCH", "/v1/sched", "{\"tslice\":\"10ms\",\"ratelimit\":\"500us\"}"), 200);
    j = reply_json();
    want = json_pack("{s:{s:s, s:s}}", "sched", "tslice", "10ms", "ratelimit", "500us");
    assert_true(json_equal(j, want));
    json_decref(want);
    json_decref(j);
    assert_int_equal(fk.gp.tslice, FV_MS(10));
    assert_int_equal(fk.gp.ratelimit, FV_US(500));
    /* {} changes nothing and says how things are. */
    fk.calls_mut = 0;
    assert_int_equal(req("PATCH", "/v1/sched", "{}"), 200);
    assert_int_equal(fk.calls_mut, 0);
}

/* ---- the other verbs --------------------------------------------------------------------- */

static void test_create(void **st)
{
    (void)st;
    assert_int_equal(req("POST", "/v1/domains", "{\"name\":\"web\",\"vcpus\":1}"), 409);
    assert_error(409, "a domain named \"web\" exists");
    assert_unchanged(256);
    assert_int_equal(req("POST", "/v1/domains", "{\"vcpus\":1}"), 400);
    assert_error(400, "request:1:1: missing key \"name\"");
    assert_int_equal(req("POST", "/v1/domains", NULL), 400);
    assert_error(400, "the body is empty");
    assert_unchanged(256);

    assert_int_equal(req("POST", "/v1/domains", "{\"name\":\"app\"}"), 201);
    json_t *j = reply_json();
    assert_string_equal(json_string_value(json_object_get(j, "name")), "app");
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 3);
    json_decref(j);
    assert_int_equal(fk.n, 3);
    assert_int_equal(req("POST", "/v1/domains", "{\"name\":\"app2\"}"), 201);
    fk.calls_mut = 0;
    assert_int_equal(req("POST", "/v1/domains", "{\"name\":\"app3\"}"), 507);
    assert_error(507, "full");
    assert_int_equal(fk.calls_mut, 0);
}

/* A list body goes to create_many and is answered {"domains": [DOM...]}. */
static void test_create_list(void **st)
{
    (void)st;
    fk.calls_mut = 0;
    assert_int_equal(req("POST", "/v1/domains", "[{\"name\":\"x\"},{\"name\":\"web\"}]"), 409);
    assert_error(409, "entry 1 refused");
    assert_int_equal(fk.n, 2);
    assert_int_equal(fk.calls_mut, 0);
    assert_int_equal(req("POST", "/v1/domains", "[{\"name\":\"a1\"},\n {\"name\":\"a2\"}]"), 201);
    json_t *j = reply_json(), *list = json_object_get(j, "domains");
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")), "a1");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "id")), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "name")), "a2");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 1), "id")), 4);
    json_decref(j);
    assert_int_equal(fk.n, 4);
    fk.calls_mut = 0;
    assert_int_equal(req("POST", "/v1/domains", "[{\"name\":\"b1\"}]"), 507);
    assert_int_equal(fk.calls_mut, 0);
}

static void test_destroy_pause(void **st)
{
    (void)st;
    assert_int_equal(req("POST", "/v1/domains/web/unpause", NULL), 409);
    assert_error(409, "web is not paused");
    assert_unchanged(256);
    assert_int_equal(req("POST", "/v1/domains/web/pause", NULL), 200);
    json_t *j = reply_json();
    assert_string_equal(json_string_value(json_object_get(j, "state")), "paused");
    json_decref(j);
    assert_int_equal(req("POST", "/v1/domains/web/pause", NULL), 409);
    assert_int_equal(fk.doms[0].state, LIVE_PAUSED);
    assert_int_equal(req("POST", "/v1/domains/web/unpause", NULL), 200);
    assert_int_equal(fk.doms[0].state, LIVE_RUNNING);

    assert_int_equal(req("DELETE", "/v1/domains/db", NULL), 200);
    j = reply_json();
    json_t *want = json_pack("{s:s, s:i}", "destroyed", "db", "id", 2);
    assert_true(json_equal(j, want));
    json_decref(want);
    json_decref(j);
    assert_int_equal(fk.n, 1);
    assert_int_equal(req("GET", "/v1/domains/db", NULL), 404);
}

static void test_shutdown(void **st)
{
    (void)st;
    assert_int_equal(req("POST", "/v1/shutdown", NULL), 202);
    json_t *j = reply_json();
    assert_true(json_is_true(json_object_get(j, "shutdown")));
    json_decref(j);
    /* The transport stops the host once the reply is out. */
    assert_true(rp.stop_after);
    assert_int_equal(fk.stops, 0);
}

static void test_errno_status(void **st)
{
    (void)st;
    assert_int_equal(api_errno_status(-EINVAL), 400);
    assert_int_equal(api_errno_status(-ENOTSUP), 400);
    assert_int_equal(api_errno_status(-ENOENT), 404);
    assert_int_equal(api_errno_status(-EEXIST), 409);
    assert_int_equal(api_errno_status(-EBUSY), 409);
    assert_int_equal(api_errno_status(-ESHUTDOWN), 409);
    assert_int_equal(api_errno_status(-ENOSPC), 507);
    assert_int_equal(api_errno_status(-ENOMEM), 500);
    assert_int_equal(api_errno_status(-EIO), 500);
}

/* ---- shapes --------------------------------------------------------------------------------- */

static void fill_web(void)
{
    struct live_dom_info *d = &fk.doms[0];
    d->state = LIVE_BLOCKED;
    d->mem_resident = 4096;
    d->created_ns = 100;
    d->cpu_ns = 1250000000;
    d->cpu_share = 0.25;
    d->cpu_share_recent = 0.5;
    d->wait_ns = (struct live_pct){ 1000, 20000, 300000 };
    d->wakeup_ns = (struct live_pct){ 7, 8, 9 };
    d->work_units = 42;
    d->net_tx_pkts = 1, d->net_rx_pkts = 2, d->net_tx_bytes = 3, d->net_rx_bytes = 4;
    d->net_drops = 5, d->blk_reads = 6, d->blk_writes = 7, d->blk_bytes = 8;
    d->backend_cpu_ns = 9, d->starved_ns = 2000000, d->starvation_events = 11;
}

static void test_dom_json(void **st)
{
    (void)st;
    fill_web();
    assert_int_equal(req("GET", "/v1/domains/web", NULL), 200);
    json_t *j = reply_json();
    json_t *want = json_pack(
        "{s:s, s:i, s:s, s:i, s:I, s:I, s:{s:i, s:i}, s:I, s:I, s:f, s:f,"
        " s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I}, s:I,"
        " s:{s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I}, s:I, s:I, s:I, s:{}}",
        "name", "web", "id", 1, "state", "blocked", "vcpus", 1,
        "memory_bytes", (json_int_t)(64 << 20), "mem_resident_bytes", (json_int_t)4096,
        "sched", "weight", 256, "cap", 0, "created_ns", (json_int_t)100,
        "cpu_ns", (json_int_t)1250000000, "cpu_share", 0.25, "cpu_share_recent", 0.5,
        "wait_ns", "p50", (json_int_t)1000, "p99", (json_int_t)20000, "max", (json_int_t)300000,
        "wakeup_latency_ns", "p50", (json_int_t)7, "p99", (json_int_t)8, "max", (json_int_t)9,
        "work_units", (json_int_t)42,
        "net", "tx_pkts", (json_int_t)1, "rx_pkts", (json_int_t)2, "tx_bytes", (json_int_t)3,
        "rx_bytes", (json_int_t)4, "drops", (json_int_t)5,
        "blk", "reads", (json_int_t)6, "writes", (json_int_t)7, "bytes", (json_int_t)8,
        "backend_cpu_ns", (json_int_t)9, "starved_ns", (json_int_t)2000000,
        "starvation_events", (json_int_t)11, "counters");
    assert_non_null(want);
    if (!json_equal(j, want))
        fail_msg("DOM: %s", rp.body);
    json_decref(want);
    json_decref(j);
    /* The list: both, in creation order, same objects. */
    assert_int_equal(req("GET", "/v1/domains", NULL), 200);
    j = reply_json();
    json_t *list = json_object_get(j, "domains");
    assert_int_equal(json_object_size(j), 1);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")), "web");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "name")), "db");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "state")),
                        "running");
    json_decref(j);
}

static void test_host_json(void **st)
{
    (void)st;
    assert_int_equal(req("GET", "/v1/host", NULL), 200);
    json_t *j = reply_json();
    json_t *want = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:i, s:i, s:i, s:b, s:{s:s, s:s}}",
                             "version", "0.1.0", "engine", "real", "policy", "credit",
                             "mode", "density", "pcpus", 2, "uptime_ns", (json_int_t)1500000000,
                             "domains", 2, "created", 2, "max_domains", FAKE_MAX,
                             "chargeback", 0, "sched", "tslice", "30ms", "ratelimit", "1ms");
    if (!json_equal(j, want))
        fail_msg("host: %s", rp.body);
    json_decref(want);
    json_decref(j);
}

static void test_metrics(void **st)
{
    (void)st;
    fill_web();
    snprintf(fk.doms[1].name, sizeof(fk.doms[1].name), "d\"b");    /* escaping */
    assert_int_equal(req("GET", "/metrics", NULL), 200);
    assert_string_equal(rp.content_type, "text/plain; version=0.0.4");
    static const char *const lines[] = {
        "# TYPE fairvisor_host_uptime_seconds gauge\nfairvisor_host_uptime_seconds 1.5\n",
        "\nfairvisor_host_domains 2\n",
        ("# HELP fairvisor_domain_cpu_seconds_total CPU time a domain received.\n"
         "# TYPE fairvisor_domain_cpu_seconds_total counter\n"
         "fairvisor_domain_cpu_seconds_total{domain=\"web\",id=\"1\"} 1.25\n"
         "fairvisor_domain_cpu_seconds_total{domain=\"d\\\"b\",id=\"2\"} 0\n"),
        "\nfairvisor_domain_vcpus{domain=\"web\",id=\"1\"} 1\n",
        "\nfairvisor_domain_cpu_share{domain=\"web\",id=\"1\"} 0.25\n",
        ("\nfairvisor_domain_wait_seconds{domain=\"web\",id=\"1\",quantile=\"0.5\"} 0.000001\n"
         "fairvisor_domain_wait_seconds{domain=\"web\",id=\"1\",quantile=\"0.99\"} 0.00002\n"),
        "\nfairvisor_domain_net_tx_packets_total{domain=\"web\",id=\"1\"} 1\n",
        "\nfairvisor_domain_net_rx_bytes_total{domain=\"web\",id=\"1\"} 4\n",
        "\nfairvisor_domain_blk_writes_total{domain=\"web\",id=\"1\"} 7\n",
        "\nfairvisor_domain_backend_cpu_seconds_total{domain=\"web\",id=\"1\"} 0.000000009\n",
        "\nfairvisor_domain_starved_seconds_total{domain=\"web\",id=\"1\"} 0.002\n",
        "\nfairvisor_domain_starvation_events_total{domain=\"web\",id=\"1\"} 11\n",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        if (!strstr(rp.body, lines[i]))
            fail_msg("metrics lack:\n%s\n---- got:\n%s", lines[i], rp.body);
    /* Every line: a comment, or NAME{LABELS} VALUE. */
    for (char *l = rp.body; *l; l = strchr(l, '\n') + 1) {
        assert_non_null(strchr(l, '\n'));
        assert_true(l[0] == '#' || !strncmp(l, "fairvisor_", 10));
    }
}

/* ---- events ----------------------------------------------------------------------------------- */

static void test_sse_frame(void **st)
{
    (void)st;
    struct live_event ev = { .seq = 1, .at = 5000, .type = LIVE_EV_CREATED, .domain = "web",
                             .id = 3 };
    size_t len;
    char *f = api_sse_frame(&ev, &len);
    const char *want = "id: 1\nevent: created\n"
                       "data: {\"seq\":1,\"at_ns\":5000,\"type\":\"created\",\"domain\":\"web\",\"id\":3}\n\n";
    assert_string_equal(f, want);
    assert_int_equal(len, strlen(want));
    free(f);
    ev = (struct live_event){ .seq = 17, .at = 9, .type = LIVE_EV_STARVATION, .domain = "db",
                              .id = 2, .resource = "net", .duration_ns = 150000000 };
    f = api_sse_frame(&ev, &len);
    assert_string_equal(f, "id: 17\nevent: starvation\ndata: {\"seq\":17,\"at_ns\":9,\"type\":"
                           "\"starvation\",\"domain\":\"db\",\"id\":2,\"resource\":\"net\","
                           "\"duration_ns\":150000000}\n\n");
    free(f);
    ev = (struct live_event){ .seq = 18, .at = 10, .type = LIVE_EV_SHUTDOWN, .id = -1 };
    f = api_sse_frame(&ev, &len);
    assert_string_equal(f, "id: 18\nevent: shutdown\ndata: {\"seq\":18,\"at_ns\":10,\"type\":"
                           "\"shutdown\"}\n\n");
    free(f);
}

static void test_events_route(void **st)
{
    (void)st;
    assert_int_equal(req("GET", "/v1/events", NULL), 200);
    assert_true(rp.events);
    assert_string_equal(rp.content_type, "text/event-stream");
    assert_null(rp.body);
    assert_int_equal(rp.events_after, 0);
    assert_int_equal(req("GET", "/v1/events?x=1&after=42", NULL), 200);
    assert_int_equal(rp.events_after, 42);
    struct api_request rq = { .method = "GET", .path = "/v1/events", .authorization = AUTH,
                              .last_event_id = "7" };
    api_reply_free(&rp);
    assert_int_equal(api_handle(&api, &rq, &rp), 0);
    assert_int_equal(rp.events_after, 7);
    rq.path = "/v1/events?after=9";
    assert_int_equal(api_handle(&api, &rq, &rp), 0);
    assert_int_equal(rp.events_after, 9);
    assert_int_equal(req("GET", "/v1/events?after=-1", NULL), 400);
    assert_error(400, "after: expected an event number");
    assert_false(rp.events);
    assert_int_equal(req("GET", "/v1/events?after=99999999999999999999", NULL), 400);
    assert_int_equal(req("GET", "/v1/events?after=", NULL), 400);
}

/* With the host stopping, the stream sends what is queued, then ends. */
static void test_stream(void **st)
{
    (void)st;
    fk.evs[0] = (struct live_event){ .seq = 1, .type = LIVE_EV_CREATED, .domain = "web", .id = 1 };
    fk.evs[1] = (struct live_event){ .seq = 2, .type = LIVE_EV_PAUSED, .domain = "web", .id = 1 };
    fk.evs[2] = (struct live_event){ .seq = 3, .type = LIVE_EV_SHUTDOWN, .id = -1 };
    fk.nevs = 3;
    fk.stopping = true;
    struct api_stream *s = api_stream_new(&api, 1);
    char all[1024] = "", buf[7];
    size_t len = 0;
    ssize_t n;
    while ((n = api_stream_read(s, buf, sizeof(buf))) > 0) {     /* small reads: split frames */
        assert_true(len + (size_t)n < sizeof(all));
        memcpy(all + len, buf, (size_t)n);
        len += (size_t)n;
    }
    assert_int_equal(n, 0);
    all[len] = '\0';
    assert_string_equal(all, ": fairvisor events\n\n"
        "id: 2\nevent: paused\ndata: {\"seq\":2,\"at_ns\":0,\"type\":\"paused\",\"domain\":\"web\",\"id\":1}\n\n"
        "id: 3\nevent: shutdown\ndata: {\"seq\":3,\"at_ns\":0,\"type\":\"shutdown\"}\n\n");
    assert_int_equal(api_stream_read(s, buf, sizeof(buf)), 0);
    api_stream_free(s);
}

/* The host stops with no shutdown event coming: the stream still ends. */
static void test_stream_ends_without_shutdown(void **st)
{
    (void)st;
    fk.evs[0] = (struct live_event){ .seq = 1, .type = LIVE_EV_CREATED, .domain = "web", .id = 1 };
    fk.nevs = 1;
    fk.stopping = true;
    struct api_stream *s = api_stream_new(&api, 0);
    char buf[512];
    size_t len = 0;
    ssize_t n;
    while ((n = api_stream_read(s, buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    assert_int_equal(n, 0);
    assert_string_equal(buf, ": fairvisor events\n\nid: 1\nevent: created\ndata: {\"seq\":1,"
                             "\"at_ns\":0,\"type\":\"created\",\"domain\":\"web\",\"id\":1}\n\n");
    api_stream_free(s);
}

/* ---- serve.h's pure parts: --listen, the token file ---------------------------------- */

static void test_listen_parse(void **st)
{
    (void)st;
    struct sockaddr_in sa;
    char err[256];
    assert_int_equal(serve_parse_listen("127.0.0.1:8480", &sa, err, sizeof(err)), 0);
    assert_int_equal(ntohs(sa.sin_port), 8480);
    assert_int_equal(ntohl(sa.sin_addr.s_addr), 0x7f000001);
    assert_int_equal(serve_parse_listen("127.0.0.1:0", &sa, err, sizeof(err)), 0);
    static const char *const bad[] = { "localhost:8480", ":8480", "127.0.0.1", "127.0.0.1:",
                                       "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x",
                                       "[::1]:80", "1.2.3:4", "0.0.0.0:8480", "" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(serve_parse_listen(bad[i], &sa, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "--listen"));
    }
}

static void test_token_file(void **st)
{
    (void)st;
    char *dir = tu_tmpdir(), path[4096], err[512];
    char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", dir, 1);
    assert_int_equal(serve_token_default_path("127.0.0.1", 8480, NULL, path, sizeof(path)), 0);
    char want[4096];
    snprintf(want, sizeof(want), "%s/.fairvisor/token-127.0.0.1-8480", dir);
    assert_string_equal(path, want);
    assert_int_equal(serve_token_default_path(NULL, 0, "/run/fv.sock", path, sizeof(path)), 0);
    assert_string_equal(path, "/run/fv.sock.token");
    /* Written 0600 in a directory made 0700; written again, replaced whole. */
    assert_int_equal(serve_token_write(want, "first-token", err, sizeof(err)), 0);
    assert_int_equal(serve_token_write(want, "tok2", err, sizeof(err)), 0);
    struct stat sb;
    assert_int_equal(stat(want, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char *text = tu_read(want, NULL);
    assert_string_equal(text, "tok2\n");
    free(text);
    snprintf(path, sizeof(path), "%s/.fairvisor", dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    /* The token: FAIRVISOR_TOKEN, else 64 hex digits, new each time. */
    char t1[SERVE_TOKEN_MAX], t2[SERVE_TOKEN_MAX];
    setenv("FAIRVISOR_TOKEN", "from-env", 1);
    assert_int_equal(serve_token_new(t1, sizeof(t1)), 0);
    assert_string_equal(t1, "from-env");
    setenv("FAIRVISOR_TOKEN", "has space", 1);
    assert_int_equal(serve_token_new(t1, sizeof(t1)), -EINVAL);
    unsetenv("FAIRVISOR_TOKEN");
    assert_int_equal(serve_token_new(t1, sizeof(t1)), 0);
    assert_int_equal(serve_token_new(t2, sizeof(t2)), 0);
    assert_int_equal(strlen(t1), 64);
    assert_int_equal(strspn(t1, "0123456789abcdef"), 64);
    assert_string_not_equal(t1, t2);
    if (home)
        setenv("HOME", home, 1);
    free(home);
    assert_int_equal(tu_rmtree(dir), 0);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_method, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_pause, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
        cmocka_unit_test(test_errno_status),
        cmocka_unit_test_setup_teardown(test_dom_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
        cmocka_unit_test(test_sse_frame),
        cmocka_unit_test_setup_teardown(test_events_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_ends_without_shutdown, setup, teardown),
        cmocka_unit_test(test_listen_parse),
        cmocka_unit_test(test_token_file),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
