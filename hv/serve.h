/* serve.h — the management API over HTTP (libmicrohttpd): a daemon that
 * hands each request to api_handle (hv/api.h) and streams GET /v1/events,
 * plus the bearer token's life (made, written 0600). `fairvisor serve`
 * (tools/fv_serve.c) puts it in front of a live host (hv/live.h).
 *
 * Limits: 64 connections, 10 s idle timeout (none on an event stream),
 * request bodies of API_BODY_MAX bytes (a longer one is read no further
 * than the limit and answered 413).
 */
#ifndef FV_SERVE_H
#define FV_SERVE_H

#include <stddef.h>
#include <netinet/in.h>

#include "api.h"

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8480"
#define SERVE_CONN_LIMIT 64
#define SERVE_CONN_TIMEOUT_S 10
#define SERVE_TOKEN_MAX 256             /* bytes of a token, NUL included */

struct serve;

struct serve_opts {
    const char *listen;                 /* "ADDR:PORT", IPv4; ignored with socket_path */
    const char *socket_path;            /* a Unix socket (made 0600) instead */
};

/* "127.0.0.1:8480" -> address and port (port 0: any free one). Only a
 * dotted IPv4 address (not 0.0.0.0) and a decimal port; -EINVAL with a
 * message. */
int serve_parse_listen(const char *s, struct sockaddr_in *out, char *err, size_t errlen);

/* Listen and serve a (which must outlive the server). 0 or -errno with a
 * message. */
int serve_start(const struct api *a, const struct serve_opts *o, struct serve **out, char *err,
                size_t errlen);
/* The TCP port listened on (the chosen one when 0 was asked), or 0 for a
 * Unix socket. */
int serve_port(const struct serve *s);
/* Stop listening, end every connection (event streams end when the host
 * stops, within API_SSE_WAIT_MS), remove the Unix socket, free. */
void serve_stop(struct serve *s);

/* The token: $FAIRVISOR_TOKEN when set (for tests), else 32 random bytes
 * (getrandom) in hex. 0 or -errno. */
int serve_token_new(char *buf, size_t len);
/* Where the token goes by default: PATH.token for a socket, else
 * $HOME/.fairvisor/token-ADDR-PORT. 0 or -errno. */
int serve_token_default_path(const char *addr, int port, const char *socket_path, char *buf,
                             size_t len);
/* Write token (and a newline) to path, mode 0600, atomically (a new file
 * renamed into place); the directory is made 0700 when missing. */
int serve_token_write(const char *path, const char *token, char *err, size_t errlen);

/* The real host: api_host_ops over hv/live.h (ctx: struct live *). */
extern const struct api_host_ops serve_live_ops;

/* `fairvisor serve` (tools/fv_serve.c). */
int fv_cmd_serve(int argc, char **argv);

#endif
