/* test_api_shapes.c — the management API's replies against a fake host
 * (api_fixture.h): the JSON shapes of a domain and the host, the
 * Prometheus text, the event frames and stream, and serve.h's pure parts
 * (--listen, the token file). */
#include "api_fixture.h"

#include <sys/stat.h>

#include "hv/serve.h"

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
