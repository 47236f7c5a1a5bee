/* serve.c — libmicrohttpd in front of api_handle (serve.h). One thread per
 * connection, so that an event stream may block in the host's
 * live_events; the daemon's own thread accepts. */
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SSE_BLOCK 4096
/* serve_stop lets event streams send the host's shutdown event first. */
#define STOP_WAIT_MS 2000

struct serve {
    struct MHD_Daemon *d;
    const struct api *a;
    int port;
    char *sock_path;            /* the Unix socket made, to remove */
    atomic_int streams;         /* event streams open */
};

struct sse {
    struct serve *s;
    struct api_stream *st;
};

/* One request's state across the handler's calls. */
struct conn {
    char *body;
    size_t len;
    bool too_large;
    bool stop_after;            /* POST /v1/shutdown answered: stop once sent */
};

/* ---- requests ----------------------------------------------------------------- */

static enum MHD_Result add_headers(struct MHD_Response *r, const struct api_reply *rp)
{
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rp->content_type) != MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES)
        return MHD_NO;
    if (rp->allow && MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rp->allow) != MHD_YES)
        return MHD_NO;
    if (rp->status == 401 &&
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer") != MHD_YES)
        return MHD_NO;
    return MHD_YES;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct sse *e = cls;
    ssize_t n = api_stream_read(e->st, buf, max);
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return n < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : n;
}

static void sse_free(void *cls)
{
    struct sse *e = cls;
    api_stream_free(e->st);
    atomic_fetch_sub(&e->s->streams, 1);
    free(e);
}

static struct MHD_Response *sse_response(struct serve *s, uint64_t after)
{
    struct sse *e = calloc(1, sizeof(*e));
    if (!e || !(e->st = api_stream_new(s->a, after))) {
        free(e);
        return NULL;
    }
    e->s = s;
    atomic_fetch_add(&s->streams, 1);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK,
                                                               sse_read, e, sse_free);
    if (!r)
        sse_free(e);
    return r;
}

/* The reply as an MHD response (takes rp's body). */
static struct MHD_Response *make_response(struct serve *s, struct MHD_Connection *c,
                                          struct api_reply *rp)
{
    struct MHD_Response *r;
    if (rp->events) {
        if (!(r = sse_response(s, rp->events_after)))
            return NULL;
        /* A stream is idle between events for as long as it likes. */
        MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned int)0);
    } else {
        r = MHD_create_response_from_buffer(rp->body_len, rp->body ? rp->body : (char *)"",
                                            rp->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (!r)
            return NULL;
        rp->body = NULL;
    }
    if (add_headers(r, rp) != MHD_YES) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

static enum MHD_Result respond(struct serve *s, struct MHD_Connection *c, struct conn *cs,
                               const char *url, const char *method)
{
    char path[PATH_MAX];
    const char *after = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
    snprintf(path, sizeof(path), "%s%s%s", url, after ? "?after=" : "", after ? after : "");
    struct api_request rq = {
        .method = method, .path = path,
        .authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_AUTHORIZATION),
        .last_event_id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID"),
        .body = cs->body, .body_len = cs->len, .body_too_large = cs->too_large,
    };
    struct api_reply rp;
    if (api_handle(s->a, &rq, &rp))
        return MHD_NO;          /* out of memory: drop the connection */
    struct MHD_Response *r = make_response(s, c, &rp);
    int status = rp.status;
    cs->stop_after = rp.stop_after;
    api_reply_free(&rp);
    if (!r)
        return MHD_NO;
    enum MHD_Result ok = MHD_queue_response(c, (unsigned int)status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Keep up to API_BODY_MAX bytes; past that, keep nothing (413). */
static void take_body(struct conn *cs, const char *data, size_t n)
{
    if (cs->too_large)
        return;
    if (n > API_BODY_MAX - cs->len) {
        cs->too_large = true;
        free(cs->body);
        cs->body = NULL;
        cs->len = 0;
        return;
    }
    char *b = realloc(cs->body, cs->len + n + 1);
    if (!b) {
        cs->too_large = true;   /* a body we cannot hold is too large for us */
        return;
    }
    memcpy(b + cs->len, data, n);
    cs->body = b;
    cs->len += n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct serve *s = cls;
    struct conn *cs = *con_cls;
    if (!cs) {
        if (!(cs = calloc(1, sizeof(*cs))))
            return MHD_NO;
        *con_cls = cs;
        /* A declared length over the limit is answered before the body is
         * read (and the connection closed after). */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > API_BODY_MAX) {
            cs->too_large = true;
            return respond(s, c, cs, url, method);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        take_body(cs, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    return respond(s, c, cs, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c, (void)toe;
    struct serve *s = cls;
    struct conn *cs = *con_cls;
    if (!cs)
        return;
    if (cs->stop_after)
        s->a->ops->stop(s->a->ctx);
    free(cs->body);
    free(cs);
    *con_cls = NULL;
}

/* Paths are matched as sent: %XX stays as it is (and no name has '%'). */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls, (void)c;
    return strlen(s);
}

/* ---- listening ------------------------------------------------------------------ */

int serve_parse_listen(const char *s, struct sockaddr_in *out, char *err, size_t errlen)
{
    char addr[INET_ADDRSTRLEN];
    const char *colon = strrchr(s, ':');
    size_t al = colon ? (size_t)(colon - s) : 0;
    char *end;
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    if (!colon || !al || al >= sizeof(addr))
        goto bad;
    memcpy(addr, s, al);
    addr[al] = '\0';
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (inet_pton(AF_INET, addr, &out->sin_addr) != 1 || colon[1] < '0' || colon[1] > '9' ||
        *end || errno || port > 65535)
        goto bad;
    if (out->sin_addr.s_addr == htonl(INADDR_ANY)) {
        snprintf(err, errlen, "--listen %s: 0.0.0.0 would listen on every interface; name one "
                 "address, such as 127.0.0.1", s);
        return -EINVAL;
    }
    out->sin_port = htons((uint16_t)port);
    return 0;
bad:
    snprintf(err, errlen, "--listen %s: expected ADDR:PORT with a dotted IPv4 address and a "
             "port 0..65535, such as %s", s, SERVE_DEFAULT_LISTEN);
    return -EINVAL;
}

/* A stale socket file (nobody accepts on it) is replaced; a live one or
 * anything else at the path is not. */
static int unix_clear(const char *path, const struct sockaddr_un *sa, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st))
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "--socket %s: exists and is not a socket", path);
        return -EEXIST;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
    close(fd);
    if (live) {
        snprintf(err, errlen, "--socket %s: another server is listening on it", path);
        return -EADDRINUSE;
    }
    return unlink(path) ? -errno : 0;
}

static int unix_listen(const char *path, int *fd_out, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (!path[0] || strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "--socket %s: the path must be 1 to %zu bytes", path,
                 sizeof(sa.sun_path) - 1);
        return -EINVAL;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int rc = unix_clear(path, &sa, err, errlen);
    if (rc)
        return err[0] ? rc : (snprintf(err, errlen, "--socket %s: %s", path, strerror(-rc)), rc);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    mode_t old = umask(077);    /* never reachable by others, not even between bind and chmod */
    rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
    umask(old);
    if (!rc && chmod(path, 0600))
        rc = -errno;
    if (!rc && listen(fd, SERVE_CONN_LIMIT))
        rc = -errno;
    if (rc) {
        snprintf(err, errlen, "--socket %s: %s", path, strerror(-rc));
        close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

/* libmicrohttpd's own messages, but for a client that went away mid-answer
 * (an event stream closed by its reader: routine, not an error). */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (strstr(msg, "no longer available") || strstr(msg, "Connection reset"))
        return;
    fprintf(stderr, "fairvisor serve: %s%s", msg, msg[0] && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
}

static struct MHD_Daemon *daemon_start(struct serve *s, const struct sockaddr_in *sa, int fd)
{
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                         MHD_USE_ERROR_LOG;
    struct MHD_OptionItem listen[] = {
        fd >= 0 ? (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET, fd, NULL }
                : (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, (void *)sa },
        { MHD_OPTION_END, 0, NULL },
    };
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,   /* first: for all */
                            MHD_OPTION_ARRAY, listen,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)SERVE_CONN_LIMIT,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)SERVE_CONN_TIMEOUT_S,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
                            MHD_OPTION_END);
}

int serve_start(const struct api *a, const struct serve_opts *o, struct serve **out, char *err,
                size_t errlen)
{
    struct sockaddr_in sa;
    int fd = -1, rc;
    err[0] = '\0';
    if (!o->socket_path &&
        (rc = serve_parse_listen(o->listen ? o->listen : SERVE_DEFAULT_LISTEN, &sa, err, errlen)))
        return rc;
    if (o->socket_path && (rc = unix_listen(o->socket_path, &fd, err, errlen)))
        return rc;
    struct serve *s = calloc(1, sizeof(*s));
    if (!s || (o->socket_path && !(s->sock_path = strdup(o->socket_path)))) {
        rc = -ENOMEM;
        goto fail;
    }
    s->a = a;
    if (!(s->d = daemon_start(s, &sa, fd))) {
        rc = -EADDRINUSE;
        snprintf(err, errlen, "cannot listen on %s (in use, or not an address of this host)",
                 o->socket_path ? o->socket_path : o->listen ? o->listen : SERVE_DEFAULT_LISTEN);
        goto fail;
    }
    if (!o->socket_path) {
        const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
        s->port = i ? i->port : ntohs(sa.sin_port);
    }
    *out = s;
    return 0;
fail:
    if (fd >= 0) {
        close(fd);
        unlink(o->socket_path);
    }
    if (s)
        free(s->sock_path);
    free(s);
    if (!err[0])
        snprintf(err, errlen, "starting the HTTP server: %s", strerror(-rc));
    return rc;
}

int serve_port(const struct serve *s)
{
    return s->port;
}

void serve_stop(struct serve *s)
{
    if (!s)
        return;
    for (int ms = 0; ms < STOP_WAIT_MS && atomic_load(&s->streams) > 0; ms += 10)
        nanosleep(&(struct timespec){ 0, 10 * 1000000L }, NULL);
    MHD_stop_daemon(s->d);
    if (s->sock_path)
        unlink(s->sock_path);
    free(s->sock_path);
    free(s);
}

/* ---- the token --------------------------------------------------------------------- */

int serve_token_new(char *buf, size_t len)
{
    const char *env = getenv("FAIRVISOR_TOKEN");
    unsigned char r[32];
    if (env && env[0]) {
        if (strlen(env) >= len || strcspn(env, " \t\r\n") != strlen(env))
            return -EINVAL;
        memcpy(buf, env, strlen(env) + 1);
        return 0;
    }
    if (len < 2 * sizeof(r) + 1)
        return -ENOSPC;
    for (size_t got = 0; got < sizeof(r); ) {
        ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
        if (n < 0 && errno != EINTR)
            return -errno;
        got += n > 0 ? (size_t)n : 0;
    }
    for (size_t i = 0; i < sizeof(r); i++)
        snprintf(buf + 2 * i, 3, "%02x", r[i]);
    return 0;
}

int serve_token_default_path(const char *addr, int port, const char *socket_path, char *buf,
                             size_t len)
{
    int n;
    if (socket_path) {
        n = snprintf(buf, len, "%s.token", socket_path);
    } else {
        const char *home = getenv("HOME");
        if (!home || !home[0])
            return -ENOENT;
        n = snprintf(buf, len, "%s/.fairvisor/token-%s-%d", home, addr, port);
    }
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int make_parent(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path || (size_t)(slash - path) >= sizeof(dir))
        return 0;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    return mkdir(dir, 0700) && errno != EEXIST ? -errno : 0;
}

int serve_token_write(const char *path, const char *token, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    int rc = make_parent(path);
    if (!rc && snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        rc = -ENAMETOOLONG;
    int fd = rc ? -1 : open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (!rc && fd < 0)
        rc = -errno;
    if (fd >= 0) {
        size_t n = strlen(token);
        if (write(fd, token, n) != (ssize_t)n || write(fd, "\n", 1) != 1)
            rc = -EIO;
        if (close(fd) && !rc)
            rc = -errno;
        if (!rc && rename(tmp, path))
            rc = -errno;
        if (rc)
            unlink(tmp);
    }
    if (rc)
        snprintf(err, errlen, "writing the token to %s: %s", path, strerror(-rc));
    return rc;
}

/* ---- the real host ------------------------------------------------------------------- */

static int lv_create(void *x, const char *file, const char *text, size_t len, int *id,
                     char *err, size_t errlen)
{
    return live_create(x, file, text, len, id, err, errlen);
}
static int lv_create_many(void *x, const char *file, const char *text, size_t len, int *ids,
                          int max, int *n, char *err, size_t errlen)
{
    return live_create_many(x, file, text, len, ids, max, n, err, errlen);
}
static int lv_destroy(void *x, const char *name, char *err, size_t errlen)
{
    return live_destroy(x, name, err, errlen);
}
static int lv_pause(void *x, const char *name, bool pause, char *err, size_t errlen)
{
    return live_pause(x, name, pause, err, errlen);
}
static int lv_sched_dom(void *x, const char *name, const struct live_param *p, int n, char *err,
                        size_t errlen)
{
    return live_sched_dom(x, name, p, n, err, errlen);
}
static int lv_sched_global(void *x, const struct live_param *p, int n, char *err, size_t errlen)
{
    return live_sched_global(x, p, n, err, errlen);
}
static void lv_host_info(void *x, struct live_host_info *out) { live_host_info(x, out); }
static int lv_domains(void *x, struct live_dom_info **out, int *n) { return live_domains(x, out, n); }
static int lv_domain(void *x, const char *name, struct live_dom_info *out)
{
    return live_domain(x, name, out);
}
static int lv_events(void *x, uint64_t after, struct live_event *out, int max, int timeout_ms)
{
    return live_events(x, after, out, max, timeout_ms);
}
static void lv_stop(void *x) { live_stop(x); }
static bool lv_stopping(void *x) { return live_stopping(x); }

const struct api_host_ops serve_live_ops = {
    .create = lv_create, .create_many = lv_create_many, .destroy = lv_destroy,
    .pause = lv_pause, .sched_dom = lv_sched_dom, .sched_global = lv_sched_global,
    .host_info = lv_host_info, .domains = lv_domains, .domain = lv_domain,
    .events = lv_events, .stop = lv_stop, .stopping = lv_stopping,
};
