/* test_client.c — the management API client's pure parts (tools/fv_client.h):
 * the token path rule and precedence, hosts files, xl's units, the list,
 * sched and top tables from parsed JSON (exact text), state letters, top's
 * CPU(%) from two snapshots. The verbs against a canned server:
 * test_client_http.c. */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/fv_client.h"
#include "client_fixtures.h"

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        fail_msg("bad test JSON: %s", je.text);
    return j;
}

/* What fn wrote to a FILE*, as a string (free it). */
#define CAPTURE(buf, stmt)                                                     \
    do {                                                                       \
        size_t cap_len_;                                                       \
        FILE *f = open_memstream(&(buf), &cap_len_);                           \
        assert_non_null(f);                                                    \
        stmt;                                                                  \
        fclose(f);                                                             \
    } while (0)

/* ---- hosts and tokens -------------------------------------------------------------- */

static void test_token_path_rule(void **st)
{
    (void)st;
    char p[512];
    assert_int_equal(fvc_token_path("http://127.0.0.1:8480", "/home/u", p, sizeof(p)), 0);
    assert_string_equal(p, "/home/u/.fairvisor/token-127.0.0.1-8480");
    assert_int_equal(fvc_token_path("http://127.0.0.1:9000/", "/h", p, sizeof(p)), 0);
    assert_string_equal(p, "/h/.fairvisor/token-127.0.0.1-9000");
    assert_int_equal(fvc_token_path("http://localhost", "/h", p, sizeof(p)), 0);
    assert_string_equal(p, "/h/.fairvisor/token-localhost-80");
    assert_int_equal(fvc_token_path("https://localhost/x", "/h", p, sizeof(p)), 0);
    assert_string_equal(p, "/h/.fairvisor/token-localhost-443");
    assert_int_equal(fvc_token_path("http://[::1]:8480", "/h", p, sizeof(p)), 0);
    assert_string_equal(p, "/h/.fairvisor/token-[::1]-8480");
    assert_int_equal(fvc_token_path("unix:/run/fv/api.sock", NULL, p, sizeof(p)), 0);
    assert_string_equal(p, "/run/fv/api.sock.token");
    assert_int_equal(fvc_token_path("ftp://x:1", "/h", p, sizeof(p)), -EINVAL);
    assert_int_equal(fvc_token_path("http://127.0.0.1:8480", NULL, p, sizeof(p)), -EINVAL);
    assert_int_equal(fvc_token_path("http://127.0.0.1:8480", "/h", p, 10), -ENAMETOOLONG);
}

static void test_check_url(void **st)
{
    (void)st;
    char err[256];
    assert_int_equal(fvc_check_url("http://127.0.0.1:8480", err, sizeof(err)), 0);
    assert_int_equal(fvc_check_url("unix:/tmp/s", err, sizeof(err)), 0);
    assert_int_equal(fvc_check_url("http://", err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "'http://': not a host URL (http://ADDR:PORT or unix:/PATH)");
    assert_int_equal(fvc_check_url("unix:", err, sizeof(err)), -EINVAL);
    assert_int_equal(fvc_check_url("127.0.0.1:8480", err, sizeof(err)), -EINVAL);
}

static void test_read_token(void **st)
{
    (void)st;
    char *dir = tu_tmpdir(), err[512], *tok = NULL;
    char *good = tu_write(dir, "good", "  0123abcd\n\n");
    char *empty = tu_write(dir, "empty", " \n");
    char *space = tu_write(dir, "space", "ab cd\n");
    assert_int_equal(fvc_read_token(good, &tok, err, sizeof(err)), 0);
    assert_string_equal(tok, "0123abcd");
    free(tok);
    assert_int_equal(fvc_read_token(empty, &tok, err, sizeof(err)), -EINVAL);
    char want[600];
    snprintf(want, sizeof(want), "%s: empty token", empty);
    assert_string_equal(err, want);
    assert_int_equal(fvc_read_token(space, &tok, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not printable ASCII (0x20)"));
    snprintf(want, sizeof(want), "%s/missing", dir);
    assert_int_equal(fvc_read_token(want, &tok, err, sizeof(err)), -ENOENT);
    free(good);
    free(empty);
    free(space);
    tu_rmtree(dir);
    free(dir);
}

/* The host's own file, then --token-file, then FAIRVISOR_TOKEN, then the
 * file the server writes for that URL; a missing default is the host's
 * failure later, a named file that cannot be read an error now. */
static void test_token_precedence(void **st)
{
    (void)st;
    char *dir = tu_tmpdir(), err[4608], sub[600];
    snprintf(sub, sizeof(sub), "%s/.fairvisor", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    char *own = tu_write(dir, "own", "own-token\n");
    char *cli = tu_write(dir, "cli", "cli-token\n");
    char *def = tu_write(sub, "token-127.0.0.1-8480", "default-token\n");
    setenv("HOME", dir, 1);
    setenv("FAIRVISOR_TOKEN", " env-token\n", 1);
    struct fvc_hosts hs = { 0 };
    assert_int_equal(fvc_hosts_add(&hs, "http://127.0.0.1:8480", own, err, sizeof(err)), 0);
    assert_int_equal(fvc_hosts_add(&hs, "http://127.0.0.1:8480", NULL, err, sizeof(err)), 0);
    assert_int_equal(fvc_hosts_add(&hs, "http://127.0.0.1:8480", NULL, err, sizeof(err)), 0);
    assert_int_equal(fvc_hosts_add(&hs, "http://127.0.0.1:8480", NULL, err, sizeof(err)), 0);
    assert_int_equal(fvc_hosts_add(&hs, "http://127.0.0.1:9", NULL, err, sizeof(err)), 0);
    assert_int_equal(fvc_resolve_token(&hs.v[0], cli, err, sizeof(err)), 0);
    assert_string_equal(hs.v[0].token, "own-token");
    assert_int_equal(fvc_resolve_token(&hs.v[1], cli, err, sizeof(err)), 0);
    assert_string_equal(hs.v[1].token, "cli-token");
    assert_string_equal(hs.v[1].token_src, cli);
    assert_int_equal(fvc_resolve_token(&hs.v[2], NULL, err, sizeof(err)), 0);
    assert_string_equal(hs.v[2].token, "env-token");
    unsetenv("FAIRVISOR_TOKEN");
    assert_int_equal(fvc_resolve_token(&hs.v[3], NULL, err, sizeof(err)), 0);
    assert_string_equal(hs.v[3].token, "default-token");
    assert_string_equal(hs.v[3].token_src, def);
    assert_int_equal(fvc_resolve_token(&hs.v[4], NULL, err, sizeof(err)), 0);
    assert_null(hs.v[4].token);
    assert_non_null(strstr(hs.v[4].token_err, "token-127.0.0.1-9: No such file or directory"));
    /* A named file that is missing: an error, naming it. */
    char missing[600];
    snprintf(missing, sizeof(missing), "%s/nope", dir);
    free(hs.v[4].token_err);
    hs.v[4].token_err = NULL;
    assert_int_equal(fvc_resolve_token(&hs.v[4], missing, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "/nope: No such file or directory"));
    fvc_hosts_free(&hs);
    free(own);
    free(cli);
    free(def);
    tu_rmtree(dir);
    free(dir);
}

static void test_hosts_file(void **st)
{
    (void)st;
    char err[1024];
    struct fvc_hosts hs = { 0 };
    const char *text =
        "# the lab's hosts\n"
        "\n"
        "http://127.0.0.1:8480\n"
        "  http://127.0.0.1:8481   tok/b.token   # its own token\n"
        "unix:/run/fv.sock /etc/fv/c.token\n"
        "http://127.0.0.1:8482/#frag\n";
    assert_int_equal(fvc_parse_hosts(&hs, "lab.hosts", "/cfg", text, err, sizeof(err)), 0);
    assert_int_equal(hs.n, 4);
    assert_string_equal(hs.v[0].url, "http://127.0.0.1:8480");
    assert_null(hs.v[0].token_file);
    assert_string_equal(hs.v[1].url, "http://127.0.0.1:8481");
    assert_string_equal(hs.v[1].token_file, "/cfg/tok/b.token");
    assert_string_equal(hs.v[2].url, "unix:/run/fv.sock");
    assert_string_equal(hs.v[2].token_file, "/etc/fv/c.token");
    assert_string_equal(hs.v[3].url, "http://127.0.0.1:8482/#frag");
    fvc_hosts_free(&hs);

    assert_int_equal(fvc_parse_hosts(&hs, "lab.hosts", NULL, "http://a:1\n\nhttp://b:2 t x\n",
                                     err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "lab.hosts:3: expected URL [TOKEN-FILE], got a third field 'x'");
    fvc_hosts_free(&hs);
    assert_int_equal(fvc_parse_hosts(&hs, "lab.hosts", NULL, "# x\nftp://a:1\n", err,
                                     sizeof(err)), -EINVAL);
    assert_string_equal(err, "lab.hosts:2: 'ftp://a:1': not a host URL (http://ADDR:PORT or "
                        "unix:/PATH)");
    fvc_hosts_free(&hs);
    assert_int_equal(fvc_parse_hosts(&hs, "lab.hosts", NULL, "# only\n  # comments\n", err,
                                     sizeof(err)), -EINVAL);
    assert_string_equal(err, "lab.hosts: no host in it (one URL a line)");
    assert_int_equal(hs.n, 0);
    assert_int_equal(fvc_hosts_file(&hs, "/nonexistent/lab.hosts", err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "/nonexistent/lab.hosts: No such file or directory");
}

/* ---- units, bodies, states ----------------------------------------------------------- */

static void test_xl_units(void **st)
{
    (void)st;
    char b[32];
    assert_string_equal(fvv_ms_dur(30, b, sizeof(b)), "30ms");
    assert_string_equal(fvv_us_dur(1500, b, sizeof(b)), "1500us");
    assert_string_equal(fvv_us_dur(0, b, sizeof(b)), "0us");
    assert_string_equal(fvv_in_unit(30000000, 1000000, b, sizeof(b)), "30");
    assert_string_equal(fvv_in_unit(1500000, 1000000, b, sizeof(b)), "1.500");
    assert_string_equal(fvv_in_unit(1000000, 1000, b, sizeof(b)), "1000");
    long v;
    assert_int_equal(fvv_parse_long("512", 0, 65535, &v), 0);
    assert_int_equal(v, 512);
    assert_int_equal(fvv_parse_long("", 0, 9, &v), -EINVAL);
    assert_int_equal(fvv_parse_long("12x", 0, 99, &v), -EINVAL);
    assert_int_equal(fvv_parse_long(" 1", 0, 9, &v), -EINVAL);
    assert_int_equal(fvv_parse_long("-1", 0, 9, &v), -EINVAL);
    assert_int_equal(fvv_parse_long("10", 0, 9, &v), -EINVAL);
    assert_int_equal(fvv_parse_long("99999999999999999999", 0, 9, &v), -EINVAL);
}

static void assert_patch(enum fvv_policy pol, const struct fvv_sched_opts *o, const char *want)
{
    json_t *j = fvv_sched_patch(pol, o);
    if (!want) {
        assert_null(j);
        return;
    }
    assert_non_null(j);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, want);
    free(s);
    json_decref(j);
}

static void test_sched_patch(void **st)
{
    (void)st;
    struct fvv_sched_opts o = { .s = true, .has_t = true, .t = 10, .has_r = true, .r = 1000 };
    assert_patch(FVV_CREDIT, &o, "{\"ratelimit\":\"1000us\",\"tslice\":\"10ms\"}");
    assert_patch(FVV_CREDIT2, &o, "{\"ratelimit\":\"1000us\"}");
    o = (struct fvv_sched_opts){ .s = true };
    assert_patch(FVV_CREDIT2, &o, NULL);
    o = (struct fvv_sched_opts){ .dom = "web", .has_w = true, .w = 512 };
    assert_patch(FVV_CREDIT, &o, "{\"weight\":512}");
    o.has_c = true;
    o.c = 50;
    assert_patch(FVV_CREDIT2, &o, "{\"cap\":50,\"weight\":512}");
    o = (struct fvv_sched_opts){ .dom = "rt", .has_p = true, .p = 10000, .has_b = true,
                                 .b = 2500, .has_e = true, .e = 0 };
    assert_patch(FVV_RTDS, &o, "{\"budget\":\"2500us\",\"extratime\":false,\"period\":\"10000us\"}");
    o = (struct fvv_sched_opts){ .dom = "rt" };
    assert_patch(FVV_RTDS, &o, NULL);
}

static void test_state_letters(void **st)
{
    (void)st;
    assert_string_equal(fvv_xl_state("running"), "r-----");
    assert_string_equal(fvv_xl_state("blocked"), "-b----");
    assert_string_equal(fvv_xl_state("paused"), "--p---");
    assert_string_equal(fvv_xl_state("dying?"), "------");
    assert_string_equal(fvv_xl_state(NULL), "------");
    assert_string_equal(fvt_state("running"), "-----r");
    assert_string_equal(fvt_state("blocked"), "--b---");
    assert_string_equal(fvt_state("paused"), "----p-");
    assert_string_equal(fvt_state("other"), "------");
}

/* ---- list and sched tables ---------------------------------------------------------- */

static void test_list_table(void **st)
{
    (void)st;
    json_t *doms = parse("[" DOM_WEB "," DOM_DB "," DOM_LONG "]");
    char *out = NULL, err[512], want[1024];
    CAPTURE(out, fvv_list_header(f, 0);
            assert_int_equal(fvv_list_rows(f, "h", 0, doms, NULL, 0, NULL, err, sizeof(err)), 0));
    snprintf(want, sizeof(want), "%s", LIST_HEAD LIST_WEB LIST_DB LIST_LONG);
    assert_string_equal(out, want);
    free(out);

    /* Names: only those, found[] marked; a Host column. */
    char *names[] = { "db", "nope" };
    bool found[2] = { false, false };
    CAPTURE(out, fvv_list_header(f, 10);
            assert_int_equal(fvv_list_rows(f, "http://a:1", 10, doms, names, 2, found, err,
                                           sizeof(err)), 0));
    snprintf(want, sizeof(want), "%s", "Host       " LIST_HEAD "http://a:1 " LIST_DB);
    assert_string_equal(out, want);
    assert_true(found[0]);
    assert_false(found[1]);
    free(out);
    json_decref(doms);
}

static void test_list_bad_reply(void **st)
{
    (void)st;
    json_t *doms = parse("[" DOM_WEB ",{\"name\":\"x\",\"id\":5,\"state\":\"running\","
                         "\"vcpus\":1,\"cpu_ns\":0}]");
    char *out = NULL, err[512];
    CAPTURE(out, assert_int_equal(fvv_list_rows(f, "h", 0, doms, NULL, 0, NULL, err,
                                                sizeof(err)), -EINVAL));
    assert_string_equal(out, "");               /* not even web's row */
    assert_string_equal(err, "bad reply: domain \"x\": no integer \"memory_bytes\"");
    free(out);
    json_decref(doms);
    doms = parse("[{\"id\":1}]");
    CAPTURE(out, assert_int_equal(fvv_list_rows(f, "h", 0, doms, NULL, 0, NULL, err,
                                                sizeof(err)), -EINVAL));
    assert_string_equal(err, "bad reply: domains[0]: no string \"name\"");
    free(out);
    json_decref(doms);
    doms = parse("{\"domains\":3}");
    CAPTURE(out, assert_int_equal(fvv_list_rows(f, "h", 0, json_object_get(doms, "domains"),
                                                NULL, 0, NULL, err, sizeof(err)), -EINVAL));
    assert_string_equal(err, "bad reply: no array \"domains\"");
    free(out);
    json_decref(doms);
}

static void test_sched_tables(void **st)
{
    (void)st;
    json_t *doms = parse("[" DOM_WEB "," DOM_DB "]");
    json_t *rt = parse("{\"name\":\"rt\",\"id\":5,\"sched\":{\"period\":\"10ms\","
                       "\"budget\":\"2500us\",\"extratime\":true}}");
    json_t *host = parse("{\"policy\":\"credit\",\"sched\":{\"tslice\":\"30ms\","
                         "\"ratelimit\":\"1ms\"}}");
    char *out = NULL, err[512];
    CAPTURE(out, fvv_sched_header(f, FVV_CREDIT);
            assert_int_equal(fvv_sched_rows(f, FVV_CREDIT, doms, err, sizeof(err)), 0));
    assert_string_equal(out, "Name                                ID Weight  Cap\n"
                             "web                                  3    512    0\n"
                             "db                                   4    256   50\n");
    free(out);
    CAPTURE(out, fvv_sched_header(f, FVV_RTDS);
            assert_int_equal(fvv_sched_rows(f, FVV_RTDS, rt, err, sizeof(err)), 0));
    assert_string_equal(out, "Name                                ID    Period    Budget  Extratime\n"
                             "rt                                   5     10000      2500        yes\n");
    free(out);
    CAPTURE(out, assert_int_equal(fvv_sched_host_line(f, FVV_CREDIT, "http://h:1", host, err,
                                                      sizeof(err)), 0);
            assert_int_equal(fvv_sched_host_line(f, FVV_CREDIT2, "http://h:1", host, err,
                                                 sizeof(err)), 0));
    assert_string_equal(out, "Host http://h:1: tslice=30ms ratelimit=1000us\n"
                             "Host http://h:1: ratelimit=1000us\n");
    free(out);
    /* An rtds table asked of credit domains: the field is named, nothing printed. */
    CAPTURE(out, assert_int_equal(fvv_sched_rows(f, FVV_RTDS, doms, err, sizeof(err)),
                                  -EINVAL));
    assert_string_equal(out, "");
    assert_string_equal(err, "bad reply: domain \"web\": no duration \"sched.period\"");
    free(out);
    json_decref(doms);
    json_decref(rt);
    json_decref(host);
}

/* ---- top -------------------------------------------------------------------------- */

static const char top_head[] =
    "      NAME  STATE   CPU(sec) CPU(%)     MEM(k) VCPUS NETTX(k) NETRX(k)   VBD_RD   VBD_WR "
    "BACKEND(%) WAIT_p99(ms) STARVED CONTEXT-SWITCHES PAGE-FAULTS\n";
static const char top_web[] =
    "       web -----r          2   75.0      65536     1        2        4        7        9 "
    "       5.0        1.500       2                -          12\n";
static const char top_db[] =
    "        db ----p-          4   50.0     131072     2        0        0        0        0 "
    "      10.0        0.000       0               40           3\n";

/* web ran 1.5 s of CPU in 2 s (75%) and cost Domain-0 0.1 s (5%); db is new
 * since the previous refresh: its recent share 0.25 of 2 pCPUs (50%), its
 * backend 0.4 s over its 4 s of life (10%). */
static void top_fixture(json_t **prev, json_t **cur)
{
    *prev = parse("[{\"name\":\"web\",\"id\":1,\"state\":\"running\",\"vcpus\":1,"
                  "\"memory_bytes\":67108864,\"cpu_ns\":1000000000,\"backend_cpu_ns\":0}]");
    *cur = parse("[{\"name\":\"web\",\"id\":1,\"state\":\"running\",\"vcpus\":1,"
                 "\"memory_bytes\":67108864,\"cpu_ns\":2500000000,\"backend_cpu_ns\":100000000,"
                 "\"cpu_share_recent\":0.9,\"net\":{\"tx_bytes\":2048,\"rx_bytes\":5000},"
                 "\"blk\":{\"reads\":7,\"writes\":9},\"wait_ns\":{\"p99\":1500000},"
                 "\"starvation_events\":2,\"counters\":{\"page-faults\":12}},"
                 "{\"name\":\"db\",\"id\":2,\"state\":\"paused\",\"vcpus\":2,"
                 "\"memory_bytes\":134217728,\"cpu_ns\":4000000000,\"cpu_share_recent\":0.25,"
                 "\"created_ns\":1000000000,\"backend_cpu_ns\":400000000,"
                 "\"counters\":{\"page-faults\":3,\"context-switches\":40}}]");
}

static void test_top_rows(void **st)
{
    (void)st;
    json_t *prev, *cur;
    top_fixture(&prev, &cur);
    struct fvt_snap p = { .domains = prev, .t_ns = 1000000000, .pcpus = 2, .uptime_ns = 3000000000 };
    struct fvt_snap c = { .domains = cur, .t_ns = 3000000000, .pcpus = 2, .uptime_ns = 5000000000 };
    struct fvt_table t = { 0 };
    char err[256], *out = NULL, want[2048];
    assert_int_equal(fvt_add_host(&t, "http://h:1", &c, &p, err, sizeof(err)), 0);
    assert_int_equal(t.n, 2);
    assert_true(t.rows[0].v[FVT_CPU_PCT] == 75.0);
    assert_true(t.rows[1].v[FVT_CPU_PCT] == 50.0);
    assert_true(t.rows[0].v[FVT_BACKEND] == 5.0);
    assert_true(t.rows[1].v[FVT_BACKEND] == 10.0);
    CAPTURE(out, fvt_print(f, &t, false));
    snprintf(want, sizeof(want), "%s%s%s", top_head, top_web, top_db);
    assert_string_equal(out, want);
    free(out);

    assert_int_equal(fvt_sort(&t, "name"), 0);
    CAPTURE(out, fvt_print(f, &t, false));
    snprintf(want, sizeof(want), "%s%s%s", top_head, top_db, top_web);
    assert_string_equal(out, want);
    free(out);
    assert_int_equal(fvt_sort(&t, "CPU(%)"), 0);
    assert_string_equal(t.rows[0].name, "web");
    assert_int_equal(fvt_sort(&t, "CONTEXT-SWITCHES"), 0);    /* web has none: last */
    assert_string_equal(t.rows[0].name, "db");
    assert_int_equal(fvt_sort(&t, "page-faults"), 0);
    assert_string_equal(t.rows[0].name, "web");
    assert_int_equal(fvt_sort(&t, "bogus"), -ENOENT);
    assert_true(fvt_known_column("starved"));
    assert_false(fvt_known_column("page-faults"));
    fvt_free(&t);

    /* The first refresh: every domain's recent share (web: 0.9 x 2 pCPUs). */
    assert_int_equal(fvt_add_host(&t, "http://h:1", &c, NULL, err, sizeof(err)), 0);
    assert_true(t.rows[0].v[FVT_CPU_PCT] == 180.0);
    fvt_free(&t);
    json_decref(prev);
    json_decref(cur);
}

static void test_top_hosts_and_errors(void **st)
{
    (void)st;
    json_t *prev, *cur;
    top_fixture(&prev, &cur);
    struct fvt_snap c = { .domains = cur, .t_ns = 5, .pcpus = 2, .uptime_ns = 5000000000 };
    struct fvt_table t = { 0 };
    char err[256], *out = NULL;
    assert_int_equal(fvt_add_host(&t, "http://a:1", &c, NULL, err, sizeof(err)), 0);
    assert_int_equal(fvt_add_host(&t, "unix:/tmp/b.sock", &c, NULL, err, sizeof(err)), 0);
    CAPTURE(out, fvt_print(f, &t, true));
    assert_memory_equal(out, "HOST                   NAME  STATE", 34);
    assert_non_null(strstr(out, "\nhttp://a:1              web -----r"));
    assert_non_null(strstr(out, "\nunix:/tmp/b.sock         db ----p-"));
    free(out);
    fvt_free(&t);

    json_t *bad = parse("[{\"name\":\"web\",\"id\":1,\"state\":\"running\",\"vcpus\":1,"
                        "\"memory_bytes\":1}]");
    c.domains = bad;
    assert_int_equal(fvt_add_host(&t, "h", &c, NULL, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "bad reply: domain \"web\": no integer \"cpu_ns\"");
    assert_int_equal(t.n, 0);
    c.domains = NULL;
    assert_int_equal(fvt_add_host(&t, "h", &c, NULL, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "bad reply: no array \"domains\"");
    fvt_free(&t);
    json_decref(bad);
    json_decref(prev);
    json_decref(cur);
}

static void test_error_message(void **st)
{
    (void)st;
    char err[512];
    const char *j = "{\"status\":404,\"error\":\"no domain 'web'\"}";
    fvc_error_message(404, j, strlen(j), err, sizeof(err));
    assert_string_equal(err, "no domain 'web'");
    const char *h = "<html>Bad Gateway</html>\r\nmore";
    fvc_error_message(502, h, strlen(h), err, sizeof(err));
    assert_string_equal(err, "HTTP 502: <html>Bad Gateway</html>");
    fvc_error_message(500, "", 0, err, sizeof(err));
    assert_string_equal(err, "HTTP 500 (no message)");
    const char *noerr = "{\"status\":400}";
    fvc_error_message(400, noerr, strlen(noerr), err, sizeof(err));
    assert_string_equal(err, "HTTP 400: {\"status\":400}");
}

int main(void)
{
    unsetenv("FAIRVISOR_TOKEN");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_path_rule),
        cmocka_unit_test(test_check_url),
        cmocka_unit_test(test_read_token),
        cmocka_unit_test(test_token_precedence),
        cmocka_unit_test(test_hosts_file),
        cmocka_unit_test(test_xl_units),
        cmocka_unit_test(test_sched_patch),
        cmocka_unit_test(test_state_letters),
        cmocka_unit_test(test_list_table),
        cmocka_unit_test(test_list_bad_reply),
        cmocka_unit_test(test_sched_tables),
        cmocka_unit_test(test_top_rows),
        cmocka_unit_test(test_top_hosts_and_errors),
        cmocka_unit_test(test_error_message),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
