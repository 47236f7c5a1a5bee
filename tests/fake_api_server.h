/* fake_api_server.h — a canned management API (tests/test_client.c): each
 * route answers METHOD PATH with a fixed status and body; a request without
 * "Authorization: Bearer TOKEN" gets 401, an unknown route 404 (JSON error
 * bodies, as the contract's). Listens on 127.0.0.1 (a free port) or, given
 * unix_path, on that Unix socket. Routes must outlive the server. */
#ifndef FV_FAKE_API_SERVER_H
#define FV_FAKE_API_SERVER_H

struct fake_route {
    const char *method, *path;
    int status;
    const char *body;
    const char *content_type;       /* NULL: application/json */
};

struct fake_request {
    char method[16], path[512], auth[256], content_type[128], body[8192];
};

struct fake_api;

struct fake_api *fake_api_start(const struct fake_route *routes, int nroutes, const char *token,
                                const char *unix_path);
/* "http://127.0.0.1:PORT" or "unix:PATH". */
const char *fake_api_url(const struct fake_api *f);
/* The last request (and how many so far). */
struct fake_request fake_api_last(struct fake_api *f, int *requests);
void fake_api_stop(struct fake_api *f);

#endif
