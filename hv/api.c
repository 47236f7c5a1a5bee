/* api.c — the management API's requests (api.h; the contract is
 * docs/API.md): token, routing, validation, the host's answer as a reply,
 * and the event stream. */
#include "api_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ERR_MAX 1024

/* One request on its way through: the route's captured name and query. */
struct call {
    const struct api *a;
    const struct api_request *rq;
    struct api_reply *out;
    char name[API_NAME_MAX + 1];
    bool name_ok;
    const char *query;          /* after '?', or NULL */
};

/* ---- replies ------------------------------------------------------------------ */

/* Steals j. A NULL j (out of memory) is a 500 with a static body. */
static int reply_json(struct call *c, int status, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    json_decref(j);
    c->out->content_type = API_CT_JSON;
    if (!s) {
        c->out->status = 500;
        return -ENOMEM;
    }
    size_t n = strlen(s);
    char *b = realloc(s, n + 2);
    if (!b) {
        free(s);
        c->out->status = 500;
        return -ENOMEM;
    }
    memcpy(b + n, "\n", 2);
    c->out->status = status;
    c->out->body = b;
    c->out->body_len = n + 1;
    return 0;
}

char *api_error_json(int status, const char *msg)
{
    json_t *j = json_pack("{s:i, s:s}", "status", status, "error", msg);
    if (!j) /* msg not UTF-8: say so rather than fail */
        j = json_pack("{s:i, s:s}", "status", status, "error", "(message not valid UTF-8)");
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

__attribute__((format(printf, 3, 4)))
static int reply_error(struct call *c, int status, const char *fmt, ...)
{
    char msg[ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *j = json_pack("{s:i, s:s}", "status", status, "error", msg);
    if (!j)
        j = json_pack("{s:i, s:s}", "status", status, "error", "(message not valid UTF-8)");
    return reply_json(c, status, j);
}

int api_errno_status(int rc)
{
    switch (rc) {
    case -EINVAL: case -ENOTSUP: return 400;
    case -ENOENT: return 404;
    case -EEXIST: case -EBUSY: case -ESHUTDOWN: return 409;
    case -ENOSPC: return 507;
    default: return 500;
    }
}

/* The host refused: its message, or one from errno when it gave none. */
static int reply_host_error(struct call *c, int rc, const char *err)
{
    int status = api_errno_status(rc);
    if (err[0])
        return reply_error(c, status, "%s", err);
    return reply_error(c, status, "%s%s", status == 500 ? "the host failed: " : "", strerror(-rc));
}

void api_reply_free(struct api_reply *r)
{
    free(r->body);
    r->body = NULL;
}

/* ---- the host's views ---------------------------------------------------------- */

static void host_get(struct call *c, struct live_host_info *h)
{
    memset(h, 0, sizeof(*h));
    c->a->ops->host_info(c->a->ctx, h);
}

static const struct sched_ops *host_ops(struct call *c)
{
    struct live_host_info h;
    host_get(c, &h);
    return h.ops;
}

/* The domain c->name into d: true, or false with a reply sent (404). */
static bool found(struct call *c, struct live_dom_info *d)
{
    if (!c->name_ok) {
        reply_error(c, 404, "no such domain (a name is 1 to %d of A-Z a-z 0-9 _ . -)",
                    API_NAME_MAX);
        return false;
    }
    int rc = c->a->ops->domain(c->a->ctx, c->name, d);
    if (rc == -ENOENT)
        reply_error(c, 404, "no domain named \"%s\"", c->name);
    else if (rc)
        reply_host_error(c, rc, "");
    return rc == 0;
}

static int reply_dom(struct call *c, int status, const struct live_dom_info *d)
{
    struct live_host_info h;
    host_get(c, &h);
    return reply_json(c, status, api_dom_json(d, &h));
}

/* ---- handlers -------------------------------------------------------------------- */

static int get_host(struct call *c)
{
    struct live_host_info h;
    memset(&h, 0, sizeof(h));
    c->a->ops->host_info(c->a->ctx, &h);
    return reply_json(c, 200, api_host_json(&h));
}

static int get_domains(struct call *c)
{
    struct live_dom_info *d = NULL;
    int n = 0, rc = c->a->ops->domains(c->a->ctx, &d, &n);
    if (rc)
        return reply_host_error(c, rc, "");
    struct live_host_info h;
    host_get(c, &h);
    json_t *list = json_array();
    for (int i = 0; list && i < n; i++)
        if (json_array_append_new(list, api_dom_json(&d[i], &h))) {
            json_decref(list);
            list = NULL;
        }
    free(d);
    return reply_json(c, 200, list ? json_pack("{s:o}", "domains", list) : NULL);
}

static int get_domain(struct call *c)
{
    struct live_dom_info d;
    return found(c, &d) ? reply_dom(c, 200, &d) : 0;
}

static bool has_nul(const char *s, size_t n)
{
    return n && memchr(s, '\0', n) != NULL;
}

/* 201 with the created domains' DOMs: one, or {"domains": [DOM, ...]} in
 * the list's order (a domain already gone again: just its id). */
static int reply_created(struct call *c, const int *ids, int k, bool list)
{
    struct live_dom_info *d = NULL;
    int n = 0;
    if (c->a->ops->domains(c->a->ctx, &d, &n))
        n = 0;
    struct live_host_info h;
    host_get(c, &h);
    json_t *all = list ? json_array() : NULL, *one = NULL;
    for (int i = 0; i < k && (all || !list); i++) {
        one = NULL;
        for (int j = 0; j < n && !one; j++)
            if (d[j].id == ids[i])
                one = api_dom_json(&d[j], &h);
        if (!one)
            one = json_pack("{s:i}", "id", ids[i]);
        if (list && json_array_append_new(all, one)) {
            json_decref(all);
            all = NULL;
        }
    }
    free(d);
    return reply_json(c, 201, !list ? one : all ? json_pack("{s:o}", "domains", all) : NULL);
}

/* One entry, or a list created together (live_create_many). */
static int post_domain(struct call *c)
{
    char err[ERR_MAX] = "";
    const struct api_request *rq = c->rq;
    if (!rq->body_len || has_nul(rq->body, rq->body_len))
        return reply_error(c, 400, "%s: %s (expected one domain entry in YAML or JSON, such as "
                           "{\"name\":\"web\",\"workload\":{\"kind\":\"cpu-hog\"}})", API_FILE,
                           rq->body_len ? "the body holds a NUL byte" : "the body is empty");
    bool list = c->a->ops->create_many && live_body_is_list(rq->body, rq->body_len);
    int ids[LIVE_CREATE_MAX], k = 1;
    int rc = list ? c->a->ops->create_many(c->a->ctx, API_FILE, rq->body, rq->body_len, ids,
                                           LIVE_CREATE_MAX, &k, err, sizeof(err))
                  : c->a->ops->create(c->a->ctx, API_FILE, rq->body, rq->body_len, &ids[0], err,
                                      sizeof(err));
    if (rc)
        return reply_host_error(c, rc, err);
    return reply_created(c, ids, k, list);
}

static int delete_domain(struct call *c)
{
    struct live_dom_info d;
    char err[ERR_MAX] = "";
    if (!found(c, &d))
        return 0;
    int rc = c->a->ops->destroy(c->a->ctx, c->name, err, sizeof(err));
    if (rc)
        return reply_host_error(c, rc, err);
    return reply_json(c, 200, json_pack("{s:s, s:i}", "destroyed", c->name, "id", d.id));
}

static int pause_common(struct call *c, bool pause)
{
    struct live_dom_info d;
    char err[ERR_MAX] = "";
    if (!found(c, &d))
        return 0;
    int rc = c->a->ops->pause(c->a->ctx, c->name, pause, err, sizeof(err));
    if (rc)
        return reply_host_error(c, rc, err);
    return found(c, &d) ? reply_dom(c, 200, &d) : 0;
}

static int post_pause(struct call *c) { return pause_common(c, true); }
static int post_unpause(struct call *c) { return pause_common(c, false); }

/* The body as a JSON object of parameters checked against schema: true
 * with p[0..*n-1], or false with a reply sent (400). */
static bool parse_patch(struct call *c, const struct sched_param_desc *schema,
                        struct live_param *p, int *n)
{
    json_error_t je;
    char err[ERR_MAX];
    json_t *j = json_loadb(c->rq->body ? c->rq->body : "", c->rq->body_len,
                           JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        reply_error(c, 400, "%s:%d:%d: %s", API_FILE, je.line, je.column, je.text);
        return false;
    }
    int rc = api_parse_params(schema, j, p, n, err, sizeof(err));
    json_decref(j);
    if (rc)
        reply_error(c, 400, "%s", err);
    return rc == 0;
}

static int patch_dom_sched(struct call *c)
{
    struct live_dom_info d;
    struct live_param p[API_PARAMS_MAX];
    char err[ERR_MAX] = "";
    int n;
    if (!found(c, &d))
        return 0;
    const struct sched_ops *ops = host_ops(c);
    if (!parse_patch(c, ops ? ops->dom_params : NULL, p, &n))
        return 0;
    int rc = n ? c->a->ops->sched_dom(c->a->ctx, c->name, p, n, err, sizeof(err)) : 0;
    if (rc)
        return reply_host_error(c, rc, err);
    if (!found(c, &d))
        return 0;
    return reply_json(c, 200, json_pack("{s:s%, s:i, s:o?}", "name", d.name,
                                        strnlen(d.name, sizeof(d.name)), "id", d.id, "sched",
                                        api_sched_json(ops ? ops->dom_params : NULL, &d.sp, NULL)));
}

static int patch_sched(struct call *c)
{
    struct live_host_info h;
    struct live_param p[API_PARAMS_MAX];
    char err[ERR_MAX] = "";
    int n;
    memset(&h, 0, sizeof(h));
    c->a->ops->host_info(c->a->ctx, &h);
    if (!parse_patch(c, h.ops ? h.ops->global_params : NULL, p, &n))
        return 0;
    int rc = n ? c->a->ops->sched_global(c->a->ctx, p, n, err, sizeof(err)) : 0;
    if (rc)
        return reply_host_error(c, rc, err);
    c->a->ops->host_info(c->a->ctx, &h);
    return reply_json(c, 200, json_pack("{s:o?}", "sched",
                      api_sched_json(h.ops ? h.ops->global_params : NULL, NULL, &h.gp)));
}

static int post_shutdown(struct call *c)
{
    c->out->stop_after = true;
    return reply_json(c, 202, json_pack("{s:b}", "shutdown", 1));
}

/* A decimal uint64_t filling [s, s+n): 0 or -EINVAL. */
static int parse_seq(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (!n || n > 20)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return -EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* ?after=SEQ wins over Last-Event-ID; other query keys are ignored. */
static int get_events(struct call *c)
{
    uint64_t after = 0;
    const char *v = NULL;
    size_t vn = 0;
    for (const char *q = c->query; q && *q; ) {
        size_t len = strcspn(q, "&");
        if (len >= 6 && !strncmp(q, "after=", 6)) {
            v = q + 6;
            vn = len - 6;
        }
        q += len + (q[len] == '&');
    }
    if (!v && c->rq->last_event_id) {
        v = c->rq->last_event_id;
        vn = strlen(v);
    }
    if (v && parse_seq(v, vn, &after))
        return reply_error(c, 400, "after: expected an event number (0 or more), got \"%.*s\"",
                           (int)(vn > 40 ? 40 : vn), v);
    c->out->status = 200;
    c->out->content_type = API_CT_EVENTS;
    c->out->events = true;
    c->out->events_after = after;
    return 0;
}

static int get_metrics(struct call *c)
{
    struct live_host_info h;
    struct live_dom_info *d = NULL;
    int n = 0;
    memset(&h, 0, sizeof(h));
    c->a->ops->host_info(c->a->ctx, &h);
    int rc = c->a->ops->domains(c->a->ctx, &d, &n);
    if (rc)
        return reply_host_error(c, rc, "");
    char *text = api_metrics_text(&h, d, n);
    free(d);
    if (!text)
        return reply_json(c, 500, NULL);
    c->out->status = 200;
    c->out->content_type = API_CT_METRICS;
    c->out->body = text;
    c->out->body_len = strlen(text);
    return 0;
}

/* ---- routing ------------------------------------------------------------------------ */

typedef int (*handler_fn)(struct call *c);

struct route {
    const char *prefix;         /* the path, or before the name */
    const char *suffix;         /* after the name; NULL: no name in the path */
    const char *allow;
    struct { const char *method; handler_fn fn; } m[2];
};

static const struct route routes[] = {
    { "/v1/host", NULL, "GET", { { "GET", get_host } } },
    { "/v1/domains", NULL, "GET, POST", { { "GET", get_domains }, { "POST", post_domain } } },
    { "/v1/domains/", "", "GET, DELETE", { { "GET", get_domain }, { "DELETE", delete_domain } } },
    { "/v1/domains/", "/pause", "POST", { { "POST", post_pause } } },
    { "/v1/domains/", "/unpause", "POST", { { "POST", post_unpause } } },
    { "/v1/domains/", "/sched", "PATCH", { { "PATCH", patch_dom_sched } } },
    { "/v1/sched", NULL, "PATCH", { { "PATCH", patch_sched } } },
    { "/v1/shutdown", NULL, "POST", { { "POST", post_shutdown } } },
    { "/v1/events", NULL, "GET", { { "GET", get_events } } },
    { "/metrics", NULL, "GET", { { "GET", get_metrics } } },
};

bool api_name_ok(const char *name, size_t len)
{
    if (len < 1 || len > API_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return false;
    }
    return true;
}

/* Does [path, path+n) match r? The name segment (no '/') is captured. */
static bool route_match(const struct route *r, const char *path, size_t n, struct call *c)
{
    size_t pl = strlen(r->prefix);
    if (n < pl || memcmp(path, r->prefix, pl))
        return false;
    if (!r->suffix)
        return n == pl;
    const char *name = path + pl;
    size_t rest = n - pl, nl = 0;
    while (nl < rest && name[nl] != '/')
        nl++;
    size_t sl = strlen(r->suffix);
    if (rest - nl != sl || memcmp(name + nl, r->suffix, sl))
        return false;
    c->name_ok = api_name_ok(name, nl);
    if (c->name_ok)
        memcpy(c->name, name, nl), c->name[nl] = '\0';
    return true;
}

/* Bearer token, compared in time independent of where it differs. */
static bool token_ok(const char *expected, const char *hdr)
{
    if (!expected || !expected[0] || !hdr || strncasecmp(hdr, "Bearer ", 7))
        return false;
    hdr += 7;
    while (*hdr == ' ')
        hdr++;
    size_t n = strlen(expected), m = strlen(hdr);
    unsigned diff = n != m;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)expected[i] ^ (unsigned char)(i < m ? hdr[i] : 0);
    return diff == 0;
}

static int dispatch(struct call *c)
{
    const struct api_request *rq = c->rq;
    if (!token_ok(c->a->token, rq->authorization))
        return reply_error(c, 401, "missing or wrong token (expected the header Authorization: "
                           "Bearer TOKEN, with the token from the file fairvisor serve names)");
    if (rq->body_too_large)
        return reply_error(c, 413, "request: the body is over %u bytes", API_BODY_MAX);
    const char *path = rq->path ? rq->path : "";
    const char *q = strchr(path, '?');
    size_t n = q ? (size_t)(q - path) : strlen(path);
    c->query = q ? q + 1 : NULL;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *r = &routes[i];
        if (!route_match(r, path, n, c))
            continue;
        for (int k = 0; k < 2 && r->m[k].method; k++)
            if (rq->method && !strcmp(rq->method, r->m[k].method))
                return r->m[k].fn(c);
        c->out->allow = r->allow;
        return reply_error(c, 405, "%.16s is not allowed on %.*s (allowed: %s)",
                           rq->method ? rq->method : "(none)", (int)(n > 100 ? 100 : n), path,
                           r->allow);
    }
    return reply_error(c, 404, "no such path: %.*s (see docs/API.md)", (int)(n > 100 ? 100 : n),
                       path);
}

int api_handle(const struct api *a, const struct api_request *rq, struct api_reply *out)
{
    struct call c = { .a = a, .rq = rq, .out = out };
    memset(out, 0, sizeof(*out));
    out->status = 500;
    out->content_type = API_CT_JSON;
    int rc = dispatch(&c);
    return rc == -ENOMEM && !out->body ? -ENOMEM : 0;
}

/* ---- the event stream ------------------------------------------------------------------- */

#define STREAM_BATCH 32
/* Once the host stops, its last event ("shutdown") may still be on its
 * way: polls STOP_POLL_MS apart, STOP_POLLS of them, before the end. */
#define STOP_POLL_MS 100
#define STOP_POLLS 10

struct api_stream {
    const struct api *a;
    uint64_t after;
    char *pend;                 /* bytes to send, from off */
    size_t len, off;
    struct timespec last;       /* when bytes were last queued */
    int stop_polls;             /* empty polls since the host stopped */
    bool ended;
};

static const char keepalive[] = ": keepalive\n\n";
static const char hello[] = ": fairvisor events\n\n";

/* Called with nothing pending (off == len). */
static int queue(struct api_stream *s, const char *b, size_t n)
{
    free(s->pend);
    s->pend = NULL;
    s->len = s->off = 0;
    char *p = malloc(n ? n : 1);
    if (!p)
        return -ENOMEM;
    memcpy(p, b, n);
    s->pend = p, s->len = n, s->off = 0;
    clock_gettime(CLOCK_MONOTONIC, &s->last);
    return 0;
}

struct api_stream *api_stream_new(const struct api *a, uint64_t after)
{
    struct api_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->a = a;
    s->after = after;
    /* A comment first, so that the client sees the stream open at once. */
    if (queue(s, hello, sizeof(hello) - 1)) {
        free(s);
        return NULL;
    }
    return s;
}

/* The frames of evs[0..n-1] as one pending buffer; a shutdown event is
 * the stream's last. */
static int queue_events(struct api_stream *s, const struct live_event *evs, int n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return -ENOMEM;
    for (int i = 0; i < n && !s->ended; i++) {
        size_t fl;
        char *fr = api_sse_frame(&evs[i], &fl);
        if (fr)
            fwrite(fr, 1, fl, f);
        free(fr);
        s->after = evs[i].seq;
        s->ended = evs[i].type == LIVE_EV_SHUTDOWN;
    }
    int rc = fclose(f) ? -ENOMEM : queue(s, buf, len);
    free(buf);
    return rc;
}

static int64_t ms_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

ssize_t api_stream_read(struct api_stream *s, char *buf, size_t max)
{
    struct live_event evs[STREAM_BATCH];
    const struct api_host_ops *o = s->a->ops;
    for (;;) {
        if (s->off < s->len) {
            size_t n = s->len - s->off < max ? s->len - s->off : max;
            memcpy(buf, s->pend + s->off, n);
            s->off += n;
            return (ssize_t)n;
        }
        if (s->ended)
            return 0;
        /* Stopping: what is still queued goes out without waiting. */
        bool stopping = o->stopping(s->a->ctx);
        int n = o->events(s->a->ctx, s->after, evs, STREAM_BATCH, stopping ? 0 : API_SSE_WAIT_MS);
        if (n < 0)
            return -1;
        if (n > 0) {
            if (queue_events(s, evs, n))
                return -1;
        } else if (stopping) {
            if (++s->stop_polls >= STOP_POLLS)
                s->ended = true;
            else
                nanosleep(&(struct timespec){ 0, STOP_POLL_MS * 1000000L }, NULL);
        } else if (ms_since(&s->last) >= API_SSE_KEEPALIVE_MS &&
                   queue(s, keepalive, sizeof(keepalive) - 1)) {
            return -1;
        }
    }
}

void api_stream_free(struct api_stream *s)
{
    if (s)
        free(s->pend);
    free(s);
}
