/* fake_api_server.c — a canned management API for tests/test_client.c: a
 * libmicrohttpd daemon on 127.0.0.1 (a free port) or a Unix socket that
 * answers each METHOD PATH with a fixed status and body, checks the bearer
 * token, and records the last request. */
#include "fake_api_server.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <microhttpd.h>

struct fake_api {
    struct MHD_Daemon *d;
    const struct fake_route *routes;
    int nroutes;
    char token[128];
    char url[256];
    pthread_mutex_t lock;
    struct fake_request last;
    int requests;
};

struct upload {
    char *p;
    size_t len;
};

static enum MHD_Result reply(struct MHD_Connection *conn, int status, const char *body,
                             const char *ctype)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static void record(struct fake_api *f, struct MHD_Connection *conn, const char *method,
                   const char *url, const struct upload *up)
{
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    pthread_mutex_lock(&f->lock);
    snprintf(f->last.method, sizeof(f->last.method), "%s", method);
    snprintf(f->last.path, sizeof(f->last.path), "%s", url);
    snprintf(f->last.auth, sizeof(f->last.auth), "%s", auth ? auth : "");
    snprintf(f->last.content_type, sizeof(f->last.content_type), "%s", ct ? ct : "");
    snprintf(f->last.body, sizeof(f->last.body), "%.*s", (int)up->len, up->p ? up->p : "");
    f->requests++;
    pthread_mutex_unlock(&f->lock);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *data, size_t *data_size, void **con_cls)
{
    struct fake_api *f = cls;
    struct upload *up = *con_cls;
    (void)version;
    if (!up) {
        *con_cls = up = calloc(1, sizeof(*up));
        return up ? MHD_YES : MHD_NO;
    }
    if (*data_size) {
        char *p = realloc(up->p, up->len + *data_size + 1);
        if (!p)
            return MHD_NO;
        memcpy(p + up->len, data, *data_size);
        up->p = p;
        up->len += *data_size;
        *data_size = 0;
        return MHD_YES;
    }
    record(f, conn, method, url, up);
    char want[160];
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    snprintf(want, sizeof(want), "Bearer %s", f->token);
    if (!auth || strcmp(auth, want))
        return reply(conn, 401, "{\"status\":401,\"error\":\"missing or wrong token\"}",
                     "application/json");
    for (int i = 0; i < f->nroutes; i++)
        if (!strcmp(f->routes[i].method, method) && !strcmp(f->routes[i].path, url))
            return reply(conn, f->routes[i].status, f->routes[i].body,
                         f->routes[i].content_type ? f->routes[i].content_type :
                         "application/json");
    char body[600];
    snprintf(body, sizeof(body), "{\"status\":404,\"error\":\"no route %s %.400s\"}", method, url);
    return reply(conn, 404, body, "application/json");
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    struct upload *up = *con_cls;
    (void)cls;
    (void)conn;
    (void)toe;
    if (up) {
        free(up->p);
        free(up);
        *con_cls = NULL;
    }
}

static int unix_listener(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
        goto fail;
    strcpy(sa.sun_path, path);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16))
        goto fail;
    return fd;
fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

struct fake_api *fake_api_start(const struct fake_route *routes, int nroutes, const char *token,
                                const char *unix_path)
{
    struct fake_api *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->routes = routes;
    f->nroutes = nroutes;
    snprintf(f->token, sizeof(f->token), "%s", token);
    pthread_mutex_init(&f->lock, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    if (unix_path) {
        int fd = unix_listener(unix_path);
        if (fd >= 0)
            f->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, f,
                                    MHD_OPTION_LISTEN_SOCKET, fd,
                                    MHD_OPTION_NOTIFY_COMPLETED, on_done, f, MHD_OPTION_END);
        if (!f->d && fd >= 0)
            close(fd);
        snprintf(f->url, sizeof(f->url), "unix:%s", unix_path);
    } else {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        f->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, f,
                                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                MHD_OPTION_NOTIFY_COMPLETED, on_done, f, MHD_OPTION_END);
        const union MHD_DaemonInfo *di = f->d ? MHD_get_daemon_info(f->d,
                                                                    MHD_DAEMON_INFO_BIND_PORT) : NULL;
        if (di)
            snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u", (unsigned)di->port);
        else if (f->d) {
            MHD_stop_daemon(f->d);
            f->d = NULL;
        }
    }
    if (!f->d) {
        pthread_mutex_destroy(&f->lock);
        free(f);
        return NULL;
    }
    return f;
}

const char *fake_api_url(const struct fake_api *f)
{
    return f->url;
}

struct fake_request fake_api_last(struct fake_api *f, int *requests)
{
    pthread_mutex_lock(&f->lock);
    struct fake_request r = f->last;
    if (requests)
        *requests = f->requests;
    pthread_mutex_unlock(&f->lock);
    return r;
}

void fake_api_stop(struct fake_api *f)
{
    if (!f)
        return;
    MHD_stop_daemon(f->d);
    pthread_mutex_destroy(&f->lock);
    free(f);
}
