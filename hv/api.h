/* api.h — the management API's core (`fairvisor serve`, docs/API.md):
 * one HTTP request in, one reply out, with no transport. hv/serve.c feeds
 * it from libmicrohttpd; the tests and fuzz/fuzz_api.c call it directly.
 *
 * The host is reached only through struct api_host_ops, which mirrors
 * hv/live.h one to one (serve.c wires the live_* functions; a test wires a
 * fake), so that the core can be exercised without a running engine.
 *
 * api_handle checks the token first (401), then routes (404 unknown path
 * or domain, 405 wrong method), validates the whole request before it
 * calls the host (a refused request changes nothing) and maps the host's
 * -errno to a status: -EINVAL 400, -ENOENT 404, -EEXIST/-EBUSY/-ESHUTDOWN
 * 409, -ENOSPC 507, -ENOTSUP 400, anything else 500. Every error body is
 * {"status":N,"error":"..."}.
 */
#ifndef FV_API_H
#define FV_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "live.h"

#define API_BODY_MAX (1u << 20)         /* bytes; a longer body is 413 */
#define API_NAME_MAX 63                 /* domain names: [A-Za-z0-9_.-]{1,63} */
#define API_PARAMS_MAX 16               /* keys in one PATCH body */
#define API_FILE "request"              /* how create's messages name the body */

/* The host, as live.h (ctx is the struct live for the real one). */
struct api_host_ops {
    int (*create)(void *ctx, const char *file, const char *text, size_t len, int *id_out,
                  char *err, size_t errlen);
    /* A list body (live_create_many); NULL: lists go to create. */
    int (*create_many)(void *ctx, const char *file, const char *text, size_t len, int *ids,
                       int max, int *n, char *err, size_t errlen);
    int (*destroy)(void *ctx, const char *name, char *err, size_t errlen);
    int (*pause)(void *ctx, const char *name, bool pause, char *err, size_t errlen);
    int (*sched_dom)(void *ctx, const char *name, const struct live_param *p, int n,
                     char *err, size_t errlen);
    int (*sched_global)(void *ctx, const struct live_param *p, int n, char *err, size_t errlen);
    void (*host_info)(void *ctx, struct live_host_info *out);
    int (*domains)(void *ctx, struct live_dom_info **out, int *n);
    int (*domain)(void *ctx, const char *name, struct live_dom_info *out);
    int (*events)(void *ctx, uint64_t after, struct live_event *out, int max, int timeout_ms);
    void (*stop)(void *ctx);
    bool (*stopping)(void *ctx);
};

struct api {
    const struct api_host_ops *ops;
    void *ctx;
    const char *token;                  /* the bearer token every request must carry */
};

struct api_request {
    const char *method;                 /* "GET", "POST", ... */
    const char *path;                   /* "/v1/domains/web", may end in ?query */
    const char *authorization;          /* the header's value, or NULL */
    const char *last_event_id;          /* the Last-Event-ID header, or NULL */
    const char *body;                   /* need not be NUL-terminated */
    size_t body_len;
    bool body_too_large;                /* the transport stopped reading at API_BODY_MAX */
};

struct api_reply {
    int status;
    const char *content_type;           /* static */
    char *body;                         /* malloc'd (NUL-terminated), or NULL */
    size_t body_len;
    const char *allow;                  /* 405: the Allow header's value (static) */
    /* GET /v1/events accepted: the transport streams events with seq >
     * events_after (api_stream_*); body is NULL. */
    bool events;
    uint64_t events_after;
    /* POST /v1/shutdown accepted: the transport calls ops->stop once the
     * reply has been sent (so that it is not cut by the host going away). */
    bool stop_after;
};

/* Handle one request. Returns 0 with *out filled (free with
 * api_reply_free), or -ENOMEM (nothing to send but a bare 500). */
int api_handle(const struct api *a, const struct api_request *rq, struct api_reply *out);
void api_reply_free(struct api_reply *r);

/* ---- rendering (pure; for the tests) ------------------------------------- */

/* {"status":N,"error":msg}, malloc'd. */
char *api_error_json(int status, const char *msg);
/* The HTTP status for a host's -errno. */
int api_errno_status(int rc);
/* One server-sent-events frame: "id: SEQ\nevent: TYPE\ndata: {...}\n\n",
 * malloc'd with its length in *len. */
char *api_sse_frame(const struct live_event *ev, size_t *len);
/* The Prometheus text (format 0.0.4) for a host and its domains, malloc'd. */
char *api_metrics_text(const struct live_host_info *h, const struct live_dom_info *d, int n);
/* Does name fit [A-Za-z0-9_.-]{1,63}? */
bool api_name_ok(const char *name, size_t len);

/* ---- the event stream ------------------------------------------------------ */

#define API_SSE_KEEPALIVE_MS 5000
#define API_SSE_WAIT_MS 1000

struct api_stream;
/* A stream of events after `after` (NULL if out of memory). */
struct api_stream *api_stream_new(const struct api *a, uint64_t after);
/* Up to max bytes of the stream into buf, waiting (API_SSE_WAIT_MS at a
 * time) until there is something: frames, or ": keepalive\n\n" after
 * API_SSE_KEEPALIVE_MS without one. Returns the bytes written, 0 at the
 * end: after the host's shutdown event, or (none coming) about a second
 * after the host began stopping; -1 on error. The stream opens with the
 * comment ": fairvisor events\n\n". */
ssize_t api_stream_read(struct api_stream *s, char *buf, size_t max);
void api_stream_free(struct api_stream *s);

#endif
