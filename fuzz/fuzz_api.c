/* fuzz_api.c — libFuzzer harness: the management API's core (hv/api.h)
 * against a small fake host, with no network and no threads.
 *
 * The input is lines: "METHOD[ POLICY]" (a leading '!' marks the body as
 * cut at the size limit; POLICY picks the fake host's scheduler, default
 * credit), the path (with any ?query), the Authorization header, the
 * Last-Event-ID header ("-" for none, for both headers), then the body (the
 * rest, any bytes). Oracles, each an abort: every JSON reply parses and
 * carries its status; an error reply changed nothing on the host; an
 * event stream ends (the fake's last event is "shutdown"); a create body
 * is also read by the real body reader beside a fixed host (check_parse),
 * whose messages must point into the body.
 *   tools/fuzz api [SECONDS]
 */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/api.h"
#include "hv/live_priv.h"
#include "hv/scenario.h"

#define TOKEN "fuzztoken"
#define FAKE_MAX 4

static struct {
    const struct sched_ops *ops;
    struct sched_global_params gp;
    struct live_dom_info doms[FAKE_MAX];
    int n, next_id;
    unsigned changes;           /* every change the host made */
} fk;

static int find(const char *name)
{
    for (int i = 0; i < fk.n; i++)
        if (!strcmp(fk.doms[i].name, name))
            return i;
    return -1;
}

static void add(const char *name)
{
    struct live_dom_info *d = &fk.doms[fk.n++];
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", name);
    d->id = ++fk.next_id;
    d->vcpus = 1;
    d->cpu_share = 0.5;
    sched_dom_defaults(&d->sp);
    fk.changes++;
}

/* The real body reader (live_parse.c, live_body.c: the scenario loader on
 * the body's entries beside a host's domains) against a fixed host, on
 * every body the API passes on. Oracle: a message that names a position
 * names a line of the body. */
static const char host_text[] =
    "name: h\nengine: real\nduration: 1s\npcpus: 2\nnetback: { port: ring }\n"
    "blkback: { backend: memory }\ndomains:\n"
    "  - {name: sink, workload: {kind: net-sink}}\n"
    "  - {name: ping, workload: {kind: evtchn-ping, role: client, peer: pong}}\n"
    "  - {name: pong, workload: {kind: evtchn-ping, role: server, peer: ping}}\n";

static struct live *parse_host(void)
{
    static struct live l;
    static struct scenario scn;
    static struct real_dstate ds[8];
    if (!l.scn) {
        char err[512];
        if (scenario_load_host_string("host", host_text, &scn, err, sizeof(err))) {
            fprintf(stderr, "fuzz_api: the fixed host: %s\n", err);
            abort();
        }
        l.scn = &scn;
        l.rl.ds = ds;
    }
    return &l;
}

static void check_parse(const char *text, size_t len)
{
    struct scn_domain out[8];
    int n = 0, line = 0, col = 0;
    char err[1024] = "";
    if (live_parse_domains(parse_host(), "request", text, len, out, 8, &n, err, sizeof(err)) ==
        0) {
        for (int i = 0; i < n; i++) {
            free(out[i].vifs);
            free(out[i].vbds);
        }
        return;
    }
    /* Lines as libyaml counts them: CR LF, CR, LF, NEL, LS, PS. */
    long lines = 1;
    const unsigned char *u = (const unsigned char *)text;
    for (size_t i = 0; i < len; i++)
        lines += u[i] == '\n' || (u[i] == '\r' && (i + 1 >= len || u[i + 1] != '\n')) ||
                 (u[i] == 0xc2 && i + 1 < len && u[i + 1] == 0x85) ||
                 (u[i] == 0xe2 && i + 2 < len && u[i + 1] == 0x80 &&
                  (u[i + 2] == 0xa8 || u[i + 2] == 0xa9));
    if (!err[0] || (sscanf(err, "request:%d:%d:", &line, &col) == 2 &&
                    (line < 1 || line > lines || col < 1))) {
        fprintf(stderr, "fuzz_api: a body of %ld lines: \"%s\"\n", lines, err);
        abort();
    }
}

static int f_create(void *x, const char *file, const char *text, size_t len, int *id,
                    char *err, size_t errlen)
{
    check_parse(text, len);
    (void)x;
    json_t *j = json_loadb(text, len, 0, NULL);
    const char *name = json_string_value(json_object_get(j, "name"));
    int rc = !name || !api_name_ok(name, strlen(name)) ? -EINVAL
             : find(name) >= 0 ? -EEXIST : fk.n == FAKE_MAX ? -ENOSPC : 0;
    if (rc)
        snprintf(err, errlen, "%s:1:1: refused (%d)", file, rc);
    else {
        add(name);
        *id = fk.next_id;
    }
    json_decref(j);
    return rc;
}

static int f_destroy(void *x, const char *name, char *err, size_t errlen)
{
    (void)x, (void)err, (void)errlen;
    int i = find(name);
    if (i < 0)
        return -ENOENT;
    memmove(&fk.doms[i], &fk.doms[i + 1], (size_t)(fk.n - i - 1) * sizeof(fk.doms[0]));
    fk.n--;
    fk.changes++;
    return 0;
}

static int f_pause(void *x, const char *name, bool pause, char *err, size_t errlen)
{
    (void)x, (void)err, (void)errlen;
    int i = find(name);
    if (i < 0)
        return -ENOENT;
    if ((fk.doms[i].state == LIVE_PAUSED) == pause)
        return -EBUSY;
    fk.doms[i].state = pause ? LIVE_PAUSED : LIVE_RUNNING;
    fk.changes++;
    return 0;
}

/* Check what api.c promised: names from the schema, values in range. */
static void check_params(const struct sched_param_desc *schema, const struct live_param *p, int n)
{
    for (int k = 0; k < n; k++) {
        const struct sched_param_desc *d = sched_param_find(schema, p[k].name);
        if (!d || p[k].value < d->min || p[k].value > d->max) {
            fprintf(stderr, "fuzz: parameter %s=%lld reached the host unchecked\n", p[k].name,
                    (long long)p[k].value);
            abort();
        }
    }
}

static int f_sched_dom(void *x, const char *name, const struct live_param *p, int n, char *err,
                       size_t errlen)
{
    (void)x, (void)err, (void)errlen;
    check_params(fk.ops->dom_params, p, n);
    int i = find(name);
    if (i < 0)
        return -ENOENT;
    for (int k = 0; k < n; k++)
        if (!strcmp(p[k].name, "weight"))
            fk.doms[i].sp.weight = (uint32_t)p[k].value;
    fk.changes++;
    return 0;
}

static int f_sched_global(void *x, const struct live_param *p, int n, char *err, size_t errlen)
{
    (void)x, (void)err, (void)errlen;
    check_params(fk.ops->global_params, p, n);
    for (int k = 0; k < n; k++)
        if (!strcmp(p[k].name, "tslice"))
            fk.gp.tslice = p[k].value;
    fk.changes++;
    return 0;
}

static void f_host_info(void *x, struct live_host_info *h)
{
    (void)x;
    *h = (struct live_host_info){ .version = "0.1.0", .policy = fk.ops->name, .ops = fk.ops,
                                  .gp = fk.gp, .mode = "density", .pcpus = 2, .domains = fk.n,
                                  .created = fk.next_id, .max_domains = FAKE_MAX };
}

static int f_domains(void *x, struct live_dom_info **out, int *n)
{
    (void)x;
    if (!(*out = malloc(sizeof(fk.doms))))
        return -ENOMEM;
    memcpy(*out, fk.doms, sizeof(fk.doms));
    *n = fk.n;
    return 0;
}

static int f_domain(void *x, const char *name, struct live_dom_info *out)
{
    (void)x;
    int i = find(name);
    if (i < 0)
        return -ENOENT;
    *out = fk.doms[i];
    return 0;
}

static int f_events(void *x, uint64_t after, struct live_event *out, int max, int timeout_ms)
{
    (void)x, (void)timeout_ms;
    static const struct live_event evs[] = {
        { .seq = 1, .type = LIVE_EV_CREATED, .domain = "a", .id = 1 },
        { .seq = 2, .type = LIVE_EV_STARVATION, .domain = "a\"\\\n", .id = 1, .resource = "net",
          .duration_ns = 5 },
        { .seq = 3, .type = LIVE_EV_SHUTDOWN, .id = -1 },
    };
    int n = 0;
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]) && n < max; i++)
        if (evs[i].seq > after)
            out[n++] = evs[i];
    if (!n) /* past the end: the stream still ends at once, not after its grace polls */
        out[n++] = (struct live_event){ .seq = after, .type = LIVE_EV_SHUTDOWN, .id = -1 };
    return n;
}

static void f_stop(void *x) { (void)x; }
static bool f_stopping(void *x) { (void)x; return true; }

/* A list body: the real splitter (live_body.c) on it, its items checked to
 * lie within the body; then a JSON list's entries made as f_create does. */
static int f_create_many(void *x, const char *file, const char *text, size_t len, int *ids,
                         int max, int *n, char *err, size_t errlen)
{
    check_parse(text, len);
    struct live_item items[LIVE_CREATE_MAX];
    int k = 0, rc = live_body_items(text, len, items, max < LIVE_CREATE_MAX ? max :
                                    LIVE_CREATE_MAX, &k);
    for (int i = 0; rc == 0 && i < k; i++)
        if (items[i].off > len || items[i].len > len - items[i].off || items[i].line < 1 ||
            items[i].col < 1)
            __builtin_trap();
    (void)x;
    json_t *j = rc ? NULL : json_loadb(text, len, 0, NULL);
    size_t m = json_array_size(j);
    rc = rc ? rc : m == 0 || m > (size_t)max || fk.n + (int)m > FAKE_MAX ? -EINVAL : 0;
    /* All or none: every entry checked before any is made. */
    for (size_t i = 0; !rc && i < m; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(j, i), "name"));
        rc = !name || !api_name_ok(name, strlen(name)) ? -EINVAL : find(name) >= 0 ? -EEXIST : 0;
        for (size_t k = 0; !rc && k < i; k++)
            if (!strcmp(name, json_string_value(json_object_get(json_array_get(j, k), "name"))))
                rc = -EINVAL;
    }
    for (size_t i = 0; !rc && i < m; i++) {
        add(json_string_value(json_object_get(json_array_get(j, i), "name")));
        ids[i] = fk.next_id;
    }
    if (!rc)
        *n = (int)m;
    else
        snprintf(err, errlen, "%s: refused (%d)", file, rc);
    json_decref(j);
    return rc;
}

static const struct api_host_ops fake_ops = {
    .create = f_create, .create_many = f_create_many, .destroy = f_destroy, .pause = f_pause,
    .sched_dom = f_sched_dom, .sched_global = f_sched_global, .host_info = f_host_info,
    .domains = f_domains, .domain = f_domain, .events = f_events, .stop = f_stop,
    .stopping = f_stopping,
};

/* The next line of [*p, end) as a C string (cut at its NUL byte, if any). */
static char *next_line(char **p, char *end)
{
    char *s = *p;
    if (s >= end)
        return NULL;
    char *nl = memchr(s, '\n', (size_t)(end - s));
    if (nl) {
        *nl = '\0';
        *p = nl + 1;
    } else {
        *p = end;
    }
    return s;
}

static void setup(const char *policy)
{
    memset(&fk, 0, sizeof(fk));
    fk.ops = (policy ? sched_find(policy) : NULL);
    if (!fk.ops)
        fk.ops = sched_find("credit");
    sched_global_defaults(fk.ops, &fk.gp);
    add("a");
    add("b.2");
    fk.changes = 0;
}

static void check_reply(const struct api *a, const struct api_reply *r)
{
    if (r->events) {
        struct api_stream *s = api_stream_new(a, r->events_after);
        char buf[64];
        int reads = 0;
        while (s && api_stream_read(s, buf, sizeof(buf)) > 0)
            if (++reads > 1000)
                abort();        /* the stream never ended */
        api_stream_free(s);
        return;
    }
    if (r->status >= 400 && fk.changes) {
        fprintf(stderr, "fuzz: a %d reply changed the host\n", r->status);
        abort();
    }
    if (!r->body || strcmp(r->content_type, "application/json"))
        return;
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    if (!j || (r->status >= 400 &&
               json_integer_value(json_object_get(j, "status")) != r->status)) {
        fprintf(stderr, "fuzz: reply %d is not what it should be: %s\n", r->status, r->body);
        abort();
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1), *p = copy, *end = copy + size;
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    struct api_request rq = { 0 };
    char *method = next_line(&p, end);
    rq.path = next_line(&p, end);
    rq.authorization = next_line(&p, end);
    rq.last_event_id = next_line(&p, end);
    if (method && method[0] == '!')
        rq.body_too_large = true, method++;
    char *policy = method ? strchr(method, ' ') : NULL;
    if (policy)
        *policy++ = '\0';
    rq.method = method;
    if (rq.authorization && !strcmp(rq.authorization, "-"))
        rq.authorization = NULL;
    if (rq.last_event_id && !strcmp(rq.last_event_id, "-"))
        rq.last_event_id = NULL;
    rq.body = p;
    rq.body_len = (size_t)(end - p);
    setup(policy);
    const struct api a = { &fake_ops, NULL, TOKEN };
    struct api_reply r;
    if (api_handle(&a, &rq, &r) == 0) {
        check_reply(&a, &r);
        api_reply_free(&r);
    }
    free(copy);
    return 0;
}
