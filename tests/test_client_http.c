/* test_client_http.c — the client verbs (create, list, destroy, pause,
 * unpause, sched-*, shutdown, top -b) run in-process against a canned
 * management API on 127.0.0.1 and on a Unix socket (fake_api_server.c):
 * the requests they send (method, path, token, body) and exactly what they
 * print and return, also when the server answers an error, HTML or garbage
 * or nothing at all. */
#include "testutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_fixtures.h"
#include "fake_api_server.h"
#include "tools/fv_client.h"

#define TOKEN "f00dfeed"
#define HOST_CREDIT "{\"version\":\"0.1.0\",\"policy\":\"credit\",\"pcpus\":2," \
    "\"uptime_ns\":5000000000,\"sched\":{\"tslice\":\"30ms\",\"ratelimit\":\"1ms\"}}"

static const struct fake_route routes[] = {
    { "GET", "/v1/host", 200, HOST_CREDIT, NULL },
    { "GET", "/v1/domains", 200, "{\"domains\":[" DOM_WEB "," DOM_DB "]}", NULL },
    { "GET", "/v1/domains/web", 200, DOM_WEB, NULL },
    { "POST", "/v1/domains", 201, DOM_WEB, NULL },
    { "DELETE", "/v1/domains/web", 200, "{\"destroyed\":\"web\",\"id\":3}", NULL },
    { "DELETE", "/v1/domains/ghost", 404, "{\"status\":404,\"error\":\"no domain 'ghost'\"}",
      NULL },
    { "POST", "/v1/domains/web/pause", 200, DOM_WEB, NULL },
    { "POST", "/v1/domains/web/unpause", 409,
      "{\"status\":409,\"error\":\"domain 'web' is not paused\"}", NULL },
    { "PATCH", "/v1/domains/web/sched", 200,
      "{\"name\":\"web\",\"id\":3,\"sched\":{\"weight\":512,\"cap\":0}}", NULL },
    { "PATCH", "/v1/sched", 400, "{\"status\":400,\"error\":\"tslice: 0ms is out of range\"}",
      NULL },
    { "POST", "/v1/shutdown", 202, "{\"shutdown\":true}", NULL },
};

/* A host that runs rtds and answers like a broken proxy. */
static const struct fake_route odd_routes[] = {
    { "GET", "/v1/host", 200, "{\"policy\":\"rtds\",\"pcpus\":1}", NULL },
    { "GET", "/v1/domains", 502, "<html>Bad Gateway</html>\n", "text/html" },
    { "POST", "/v1/shutdown", 200, "not json", "text/plain" },
};

struct env {
    char *dir, *tok;
    struct fake_api *api, *odd;
    char url[256], odd_url[256];
};

static int setup(void **st)
{
    struct env *e = calloc(1, sizeof(*e));
    e->dir = tu_tmpdir();
    e->tok = tu_write(e->dir, "token", TOKEN "\n");
    e->api = fake_api_start(routes, sizeof(routes) / sizeof(routes[0]), TOKEN, NULL);
    e->odd = fake_api_start(odd_routes, sizeof(odd_routes) / sizeof(odd_routes[0]), TOKEN, NULL);
    if (!e->api || !e->odd)
        return -1;
    snprintf(e->url, sizeof(e->url), "%s", fake_api_url(e->api));
    snprintf(e->odd_url, sizeof(e->odd_url), "%s", fake_api_url(e->odd));
    *st = e;
    return 0;
}

static int teardown(void **st)
{
    struct env *e = *st;
    fake_api_stop(e->api);
    fake_api_stop(e->odd);
    tu_rmtree(e->dir);
    free(e->dir);
    free(e->tok);
    free(e);
    return 0;
}

/* Run `fairvisor ARGS...` (NULL-terminated) in-process; *out and *err get
 * what it printed (free them). */
static int run(char **out, char **err, ...)
{
    char *argv[64];
    int argc = 0;
    va_list ap;
    va_start(ap, err);
    for (const char *a; (a = va_arg(ap, const char *)) && argc < 63;)
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    size_t lo, le;
    FILE *fo = open_memstream(out, &lo), *fe = open_memstream(err, &le);
    assert_non_null(fo);
    assert_non_null(fe);
    int rc = fvv_run(argc, argv, fo, fe);
    fclose(fo);
    fclose(fe);
    return rc;
}

static void expect(int rc, int want_rc, char *out, const char *want_out, char *err,
                   const char *want_err)
{
    if (rc != want_rc)
        print_error("exit %d, expected %d; stdout:\n%s\nstderr:\n%s\n", rc, want_rc, out, err);
    assert_int_equal(rc, want_rc);
    if (want_out)
        assert_string_equal(out, want_out);
    if (want_err)
        assert_string_equal(err, want_err);
    free(out);
    free(err);
}

static void test_list(void **st)
{
    struct env *e = *st;
    char *out, *err, want[2048];
    int rc = run(&out, &err, "list", "--host", e->url, "--token-file", e->tok, NULL);
    expect(rc, 0, out, LIST_HEAD LIST_WEB LIST_DB, err, "");
    struct fake_request r = fake_api_last(e->api, NULL);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.path, "/v1/domains");
    assert_string_equal(r.auth, "Bearer " TOKEN);

    /* Options after the names; a name no host has. */
    rc = run(&out, &err, "list", "db", "ghost", "--token-file", e->tok, "--host", e->url, NULL);
    snprintf(want, sizeof(want), "fairvisor list: %s: no domain 'ghost'\n", e->url);
    expect(rc, 1, out, LIST_HEAD LIST_DB, err, want);
}

/* Three hosts: one table with a Host column; the one answering HTML and
 * the one not answering at all are reported, the exit status is 1. */
static void test_list_hosts(void **st)
{
    struct env *e = *st;
    char *out, *err, want[2048];
    const char *dead = "http://127.0.0.1:1";
    int rc = run(&out, &err, "list", "--host", e->url, "--host", e->odd_url, "--host", dead,
                 "--token-file", e->tok, NULL);
    int w = (int)strlen(dead);          /* the Host column: as wide as the longest URL */
    if ((int)strlen(e->url) > w)
        w = (int)strlen(e->url);
    if ((int)strlen(e->odd_url) > w)
        w = (int)strlen(e->odd_url);
    snprintf(want, sizeof(want), "%-*s " LIST_HEAD "%-*s " LIST_WEB "%-*s " LIST_DB, w, "Host",
             w, e->url, w, e->url);
    assert_string_equal(out, want);
    snprintf(want, sizeof(want), "fairvisor list: %s: HTTP 502: <html>Bad Gateway</html>\n"
             "fairvisor list: %s: ", e->odd_url, dead);
    assert_memory_equal(err, want, strlen(want));
    assert_non_null(strstr(err + strlen(want), "127.0.0.1 port 1"));
    expect(rc, 1, out, NULL, err, NULL);
}

static void test_create(void **st)
{
    struct env *e = *st;
    char *out, *err, want[512];
    const char *yaml = "name: web\nvcpus: 1\nworkload: { kind: cpu-hog }\n";
    char *file = tu_write(e->dir, "web.yaml", yaml);
    int rc = run(&out, &err, "create", file, "--host", e->url, "--token-file", e->tok, NULL);
    snprintf(want, sizeof(want), "Created domain web (id 3) on %s\n", e->url);
    expect(rc, 0, out, want, err, "");
    struct fake_request r = fake_api_last(e->api, NULL);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path, "/v1/domains");
    assert_string_equal(r.body, yaml);
    assert_string_equal(r.content_type, "application/yaml");
    free(file);

    rc = run(&out, &err, "create", "/nonexistent/x.yaml", "--host", e->url, NULL);
    expect(rc, 2, out, "", err, "fairvisor create: /nonexistent/x.yaml: No such file or directory\n");
    rc = run(&out, &err, "create", "--host", e->url, NULL);
    expect(rc, 2, out, "", err, NULL);
}

static void test_domain_ops(void **st)
{
    struct env *e = *st;
    char *out, *err, want[512];
    int rc = run(&out, &err, "destroy", "web", "--host", e->url, "--token-file", e->tok, NULL);
    expect(rc, 0, out, "", err, "");
    struct fake_request r = fake_api_last(e->api, NULL);
    assert_string_equal(r.method, "DELETE");
    assert_string_equal(r.path, "/v1/domains/web");

    rc = run(&out, &err, "destroy", "ghost", "--host", e->url, "--token-file", e->tok, NULL);
    snprintf(want, sizeof(want), "fairvisor destroy: %s: no domain 'ghost'\n", e->url);
    expect(rc, 1, out, "", err, want);

    rc = run(&out, &err, "pause", "web", "--host", e->url, "--token-file", e->tok, NULL);
    expect(rc, 0, out, "", err, "");
    r = fake_api_last(e->api, NULL);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path, "/v1/domains/web/pause");

    rc = run(&out, &err, "unpause", "web", "--host", e->url, "--token-file", e->tok, NULL);
    snprintf(want, sizeof(want), "fairvisor unpause: %s: domain 'web' is not paused\n", e->url);
    expect(rc, 1, out, "", err, want);

    rc = run(&out, &err, "pause", "--host", e->url, NULL);
    expect(rc, 2, out, "", err, NULL);
}

static void test_sched_credit(void **st)
{
    struct env *e = *st;
    char *out, *err, want[2048];
    int rc = run(&out, &err, "sched-credit", "-d", "web", "-w", "512", "--host", e->url,
                 "--token-file", e->tok, NULL);
    expect(rc, 0, out, "", err, "");
    struct fake_request r = fake_api_last(e->api, NULL);
    assert_string_equal(r.method, "PATCH");
    assert_string_equal(r.path, "/v1/domains/web/sched");
    assert_string_equal(r.body, "{\"weight\":512}");
    assert_string_equal(r.content_type, "application/json");

    rc = run(&out, &err, "sched-credit", "-s", "-t", "0", "--host", e->url, "--token-file",
             e->tok, NULL);
    snprintf(want, sizeof(want), "fairvisor sched-credit: %s: tslice: 0ms is out of range\n",
             e->url);
    expect(rc, 1, out, "", err, want);

    rc = run(&out, &err, "sched-credit", "--host", e->url, "--token-file", e->tok, NULL);
    snprintf(want, sizeof(want), "Host %s: tslice=30ms ratelimit=1000us\n"
             "Name                                ID Weight  Cap\n"
             "web                                  3    512    0\n"
             "db                                   4    256   50\n", e->url);
    expect(rc, 0, out, want, err, "");

    rc = run(&out, &err, "sched-credit", "-d", "web", "--host", e->url, "--token-file", e->tok,
             NULL);
    expect(rc, 0, out, "Name                                ID Weight  Cap\n"
                       "web                                  3    512    0\n", err, "");

    rc = run(&out, &err, "sched-credit", "-s", "--host", e->url, "--token-file", e->tok, NULL);
    snprintf(want, sizeof(want), "Host %s: tslice=30ms ratelimit=1000us\n", e->url);
    expect(rc, 0, out, want, err, "");

    rc = run(&out, &err, "sched-credit2", "--host", e->url, "--token-file", e->tok, NULL);
    snprintf(want, sizeof(want), "fairvisor sched-credit2: %s: host runs credit, not credit2\n",
             e->url);
    expect(rc, 1, out, "", err, want);
    rc = run(&out, &err, "sched-rtds", "-d", "web", "--host", e->url, "--token-file", e->tok,
             NULL);
    snprintf(want, sizeof(want), "fairvisor sched-rtds: %s: host runs credit, not rtds\n",
             e->url);
    expect(rc, 1, out, "", err, want);
}

static void test_sched_usage(void **st)
{
    struct env *e = *st;
    char *out, *err;
    int n0, n1;
    fake_api_last(e->api, &n0);
    int rc = run(&out, &err, "sched-credit", "-w", "5", "--host", e->url, NULL);
    assert_int_equal(rc, 2);
    assert_memory_equal(err, "fairvisor sched-credit: setting a domain's parameters needs -d NAME\n"
                        "usage: fairvisor sched-credit", 96);
    expect(rc, 2, out, "", err, NULL);
    rc = run(&out, &err, "sched-credit", "-d", "x", "-w", "abc", NULL);
    assert_memory_equal(err, "fairvisor sched-credit: -w: expected a whole number >= 0, got 'abc'\n",
                        68);
    expect(rc, 2, out, "", err, NULL);
    rc = run(&out, &err, "sched-credit", "-s", "-d", "web", NULL);
    expect(rc, 2, out, "", err, NULL);
    rc = run(&out, &err, "sched-credit", "-t", "5", NULL);
    assert_memory_equal(err, "fairvisor sched-credit: -t and -r need -s\n", 42);
    expect(rc, 2, out, "", err, NULL);
    rc = run(&out, &err, "sched-credit2", "-s", "-t", "5", NULL);
    assert_memory_equal(err, "fairvisor sched-credit2: unknown option -t\n", 43);
    expect(rc, 2, out, "", err, NULL);
    rc = run(&out, &err, "sched-rtds", "-d", "rt", "-e", "2", NULL);
    assert_memory_equal(err, "fairvisor sched-rtds: -e: expected 0 or 1, got '2'\n", 51);
    expect(rc, 2, out, "", err, NULL);
    rc = run(&out, &err, "sched-credit", "--bogus", NULL);
    assert_memory_equal(err, "fairvisor sched-credit: unknown option --bogus\n", 47);
    expect(rc, 2, out, "", err, NULL);
    rc = run(&out, &err, "sched-credit", "--help", NULL);
    assert_memory_equal(out, "usage: fairvisor sched-credit [-d NAME", 38);
    expect(rc, 0, out, NULL, err, "");
    fake_api_last(e->api, &n1);
    assert_int_equal(n1, n0);           /* bad usage sends nothing */
}

static void test_shutdown(void **st)
{
    struct env *e = *st;
    char *out, *err, want[512];
    int rc = run(&out, &err, "shutdown", "--host", e->url, "--token-file", e->tok, NULL);
    snprintf(want, sizeof(want), "Host %s shutting down\n", e->url);
    expect(rc, 0, out, want, err, "");
    struct fake_request r = fake_api_last(e->api, NULL);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path, "/v1/shutdown");

    rc = run(&out, &err, "shutdown", "--host", e->odd_url, "--token-file", e->tok, NULL);
    snprintf(want, sizeof(want), "fairvisor shutdown: %s: POST /v1/shutdown: the reply (HTTP 200) "
             "is not a JSON object: ", e->odd_url);
    assert_memory_equal(err, want, strlen(want));
    expect(rc, 1, out, "", err, NULL);
}

static void test_tokens(void **st)
{
    struct env *e = *st;
    char *out, *err, want[1024];
    char *wrong = tu_write(e->dir, "wrong", "nope\n");
    int rc = run(&out, &err, "list", "--host", e->url, "--token-file", wrong, NULL);
    snprintf(want, sizeof(want), "fairvisor list: %s: missing or wrong token (token from %s)\n",
             e->url, wrong);
    expect(rc, 1, out, "", err, want);

    rc = run(&out, &err, "list", "--host", e->url, "--token-file", "/nonexistent/tok", NULL);
    snprintf(want, sizeof(want), "fairvisor list: %s: /nonexistent/tok: No such file or "
             "directory\n", e->url);
    expect(rc, 2, out, "", err, want);

    /* No token anywhere: the file the server would write is named. */
    setenv("HOME", e->dir, 1);
    rc = run(&out, &err, "list", "--host", e->url, NULL);
    snprintf(want, sizeof(want), "fairvisor list: %s: %s/.fairvisor/token-127.0.0.1-", e->url,
             e->dir);
    assert_memory_equal(err, want, strlen(want));
    assert_non_null(strstr(err, "is `fairvisor serve` running there?"));
    expect(rc, 1, out, "", err, NULL);

    setenv("FAIRVISOR_TOKEN", TOKEN, 1);
    rc = run(&out, &err, "list", "--host", e->url, NULL);
    expect(rc, 0, out, LIST_HEAD LIST_WEB LIST_DB, err, "");
    unsetenv("FAIRVISOR_TOKEN");

    /* A hosts file whose second field names the token file. */
    char text[1024];
    snprintf(text, sizeof(text), "# hosts\n%s token   # relative to this file\n", e->url);
    char *hosts = tu_write(e->dir, "lab.hosts", text);
    rc = run(&out, &err, "list", "--hosts-file", hosts, NULL);
    expect(rc, 0, out, LIST_HEAD LIST_WEB LIST_DB, err, "");
    free(hosts);
    free(wrong);
}

static void test_unix_socket(void **st)
{
    struct env *e = *st;
    char path[600], url[640], *out, *err;
    snprintf(path, sizeof(path), "%s/api.sock", e->dir);
    struct fake_api *u = fake_api_start(routes, sizeof(routes) / sizeof(routes[0]), TOKEN, path);
    assert_non_null(u);
    snprintf(url, sizeof(url), "unix:%s", path);
    int rc = run(&out, &err, "list", "--host", url, "--token-file", e->tok, NULL);
    expect(rc, 0, out, LIST_HEAD LIST_WEB LIST_DB, err, "");
    fake_api_stop(u);
    rc = run(&out, &err, "list", "--host", url, "--token-file", e->tok, NULL);
    char want[1400];
    snprintf(want, sizeof(want), "fairvisor list: %s: cannot connect to %s: ", url, path);
    assert_memory_equal(err, want, strlen(want));
    expect(rc, 1, out, "", err, NULL);
}

#define TOP_HEAD "      NAME  STATE   CPU(sec) CPU(%)     MEM(k) VCPUS NETTX(k) NETRX(k)   " \
    "VBD_RD   VBD_WR BACKEND(%) WAIT_p99(ms) STARVED\n"
#define TOP_WEB "       web -----r         12    0.0      65536     1        0        0      " \
    "  0        0        0.0        0.000       0\n"
#define TOP_DB "        db ----p-          0    0.0     131072     2        0        0      " \
    "  0        0        0.0        0.000       0\n"

/* The canned host's counters never move: every refresh is the same block. */
static void test_top_batch(void **st)
{
    struct env *e = *st;
    char *out, *err, want[1024];
    int rc = run(&out, &err, "top", "-b", "-i", "2", "-d", "0.01", "--host", e->url,
                 "--token-file", e->tok, NULL);
    expect(rc, 0, out, TOP_HEAD TOP_WEB TOP_DB TOP_HEAD TOP_WEB TOP_DB, err, "");

    rc = run(&out, &err, "top", "-b", "-i", "1", "-s", "mem", "--host", e->url, "--token-file",
             e->tok, NULL);
    expect(rc, 0, out, TOP_HEAD TOP_DB TOP_WEB, err, "");

    rc = run(&out, &err, "top", "-b", "-i", "1", "-s", "bogus", "--host", e->url,
             "--token-file", e->tok, NULL);
    expect(rc, 0, out, TOP_HEAD TOP_WEB TOP_DB, err,
           "fairvisor top: -s bogus: no such column; rows left unsorted\n");

    rc = run(&out, &err, "top", "-b", "-i", "1", "--host", e->odd_url, "--token-file", e->tok,
             NULL);
    snprintf(want, sizeof(want), "fairvisor top: %s: HTTP 502: <html>Bad Gateway</html>\n",
             e->odd_url);
    expect(rc, 1, out, TOP_HEAD, err, want);

    rc = run(&out, &err, "top", "-d", "0", NULL);
    expect(rc, 2, out, "", err, NULL);
    rc = run(&out, &err, "top", "-b", "-i", "x", NULL);
    expect(rc, 2, out, "", err, NULL);
}

int main(void)
{
    unsetenv("FAIRVISOR_TOKEN");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_list_hosts),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_domain_ops),
        cmocka_unit_test(test_sched_credit),
        cmocka_unit_test(test_sched_usage),
        cmocka_unit_test(test_shutdown),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_unix_socket),
        cmocka_unit_test(test_top_batch),
    };
    return tu_status(cmocka_run_group_tests(tests, setup, teardown));
}
