/* test_api.c — the management API's core (hv/api.h) against a fake host
 * (api_fixture.h): token, routing, validation before anything is applied,
 * the verbs, errno to status. The JSON shapes, the Prometheus text, the
 * event frames and serve.h's pure parts: test_api_shapes.c. */
#include "api_fixture.h"

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
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
