/* fv_client.c — hosts, tokens and requests of the management API's client
 * (fv_client.h): one small libcurl layer, JSON through jansson. */
#include "fv_client.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hv/scenario.h"

#define FVC_CONNECT_TIMEOUT_S 5L
#define FVC_TOTAL_TIMEOUT_S 30L
/* A reply past this is not a management API answer: stop reading. */
#define FVC_REPLY_MAX (64u << 20)
#define FVC_TOKEN_MAX 4096

/* ---- hosts ----------------------------------------------------------------------- */

int fvc_check_url(const char *url, char *err, size_t errlen)
{
    bool ok = false;
    if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
        const char *auth = strstr(url, "//") + 2;
        ok = *auth && *auth != '/';
    } else if (!strncmp(url, "unix:", 5)) {
        ok = url[5] != '\0';
    }
    if (ok && !strpbrk(url, " \t\r\n"))
        return 0;
    snprintf(err, errlen, "'%s': not a host URL (http://ADDR:PORT or unix:/PATH)", url);
    return -EINVAL;
}

int fvc_hosts_add(struct fvc_hosts *hs, const char *url, const char *token_file,
                  char *err, size_t errlen)
{
    if (fvc_check_url(url, err, errlen))
        return -EINVAL;
    struct fvc_host *v = realloc(hs->v, (size_t)(hs->n + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    hs->v = v;
    struct fvc_host *h = &v[hs->n];
    memset(h, 0, sizeof(*h));
    h->url = strdup(url);
    h->token_file = token_file ? strdup(token_file) : NULL;
    if (!h->url || (token_file && !h->token_file)) {
        free(h->url);
        free(h->token_file);
        return -ENOMEM;
    }
    hs->n++;
    return 0;
}

/* Cut a comment: '#' at the start of the line or after a blank. */
static void cut_comment(char *line)
{
    for (char *p = line; *p; p++)
        if (*p == '#' && (p == line || isspace((unsigned char)p[-1]))) {
            *p = '\0';
            return;
        }
}

static int hosts_line(struct fvc_hosts *hs, const char *file, int lineno, const char *dir,
                      char *line, char *err, size_t errlen)
{
    char *fields[3] = { 0 }, *save = NULL;
    int nf = 0;
    cut_comment(line);
    for (char *tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
        if (nf == 2) {
            snprintf(err, errlen, "%s:%d: expected URL [TOKEN-FILE], got a third field '%s'",
                     file, lineno, tok);
            return -EINVAL;
        }
        fields[nf++] = tok;
    }
    if (!nf)
        return 0;
    char why[512];
    if (fvc_check_url(fields[0], why, sizeof(why))) {
        snprintf(err, errlen, "%s:%d: %s", file, lineno, why);
        return -EINVAL;
    }
    char *tf = NULL;
    if (fields[1] && fields[1][0] != '/' && dir && *dir) {
        if (asprintf(&tf, "%s/%s", dir, fields[1]) < 0)
            return -ENOMEM;
    }
    int rc = fvc_hosts_add(hs, fields[0], tf ? tf : fields[1], err, errlen);
    free(tf);
    return rc;
}

int fvc_parse_hosts(struct fvc_hosts *hs, const char *file, const char *dir, const char *text,
                    char *err, size_t errlen)
{
    int before = hs->n, lineno = 0, rc = 0;
    const char *p = text;
    while (*p && !rc) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = strndup(p, len);
        if (!line)
            return -ENOMEM;
        rc = hosts_line(hs, file, ++lineno, dir, line, err, errlen);
        free(line);
        p += len + (nl ? 1 : 0);
    }
    if (!rc && hs->n == before) {
        snprintf(err, errlen, "%s: no host in it (one URL a line)", file);
        rc = -EINVAL;
    }
    return rc;
}

static char *read_small_file(const char *path, size_t max, size_t *len, int *rc)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        *rc = -errno;
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    *rc = !buf ? -ENOMEM : ferror(f) ? -EIO : n > max ? -EFBIG : 0;
    fclose(f);
    if (*rc) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

int fvc_hosts_file(struct fvc_hosts *hs, const char *file, char *err, size_t errlen)
{
    int rc;
    char *text = read_small_file(file, 1u << 20, NULL, &rc);
    if (!text) {
        snprintf(err, errlen, "%s: %s", file, rc == -EFBIG ? "over 1 MiB" : strerror(-rc));
        return rc;
    }
    char *dir = strdup(file);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    rc = dir ? fvc_parse_hosts(hs, file, slash ? dir : NULL, text, err, errlen) : -ENOMEM;
    free(dir);
    free(text);
    return rc;
}

void fvc_hosts_free(struct fvc_hosts *hs)
{
    for (int i = 0; i < hs->n; i++) {
        struct fvc_host *h = &hs->v[i];
        if (h->curl)
            curl_easy_cleanup(h->curl);
        free(h->url);
        free(h->token_file);
        free(h->token);
        free(h->token_src);
        free(h->token_err);
    }
    free(hs->v);
    hs->v = NULL;
    hs->n = 0;
}

/* ---- tokens ------------------------------------------------------------------------ */

int fvc_token_path(const char *url, const char *home, char *buf, size_t len)
{
    int n;
    if (!strncmp(url, "unix:", 5)) {
        if (!url[5])
            return -EINVAL;
        n = snprintf(buf, len, "%s.token", url + 5);
        return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
    }
    bool tls = !strncmp(url, "https://", 8);
    if (strncmp(url, "http://", 7) && !tls)
        return -EINVAL;
    if (!home || !*home)
        return -EINVAL;
    const char *auth = url + (tls ? 8 : 7);
    size_t alen = strcspn(auth, "/?#");
    if (!alen)
        return -EINVAL;
    /* The port follows the last ':' outside an IPv6 literal's brackets. */
    const char *end = auth + alen, *colon = NULL;
    for (const char *p = auth; p < end; p++)
        if (*p == ':')
            colon = p;
        else if (*p == ']')
            colon = NULL;
    const char *port = tls ? "443" : "80";
    size_t plen = strlen(port), hlen = alen;
    if (colon && colon + 1 < end) {
        port = colon + 1;
        plen = (size_t)(end - port);
        hlen = (size_t)(colon - auth);
    } else if (colon) {
        hlen = (size_t)(colon - auth);
    }
    n = snprintf(buf, len, "%s/.fairvisor/token-%.*s-%.*s", home, (int)hlen, auth, (int)plen,
                 port);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int check_token(const char *tok, const char *what, char *err, size_t errlen)
{
    if (!*tok) {
        snprintf(err, errlen, "%s: empty token", what);
        return -EINVAL;
    }
    for (const unsigned char *p = (const unsigned char *)tok; *p; p++)
        if (*p < 0x21 || *p > 0x7e) {
            snprintf(err, errlen, "%s: the token has a byte that is not printable ASCII "
                     "(0x%02x)", what, *p);
            return -EINVAL;
        }
    return 0;
}

/* s without surrounding white space (in place). */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int fvc_read_token(const char *path, char **out, char *err, size_t errlen)
{
    int rc;
    char *text = read_small_file(path, FVC_TOKEN_MAX, NULL, &rc);
    if (!text) {
        snprintf(err, errlen, "%s: %s", path, rc == -EFBIG ? "too long for a token" :
                 strerror(-rc));
        return rc;
    }
    char *tok = trim(text);
    rc = check_token(tok, path, err, errlen);
    if (!rc) {
        *out = strdup(tok);
        rc = *out ? 0 : -ENOMEM;
    }
    free(text);
    return rc;
}

static int set_token(struct fvc_host *h, char *tok, const char *src)
{
    h->token = tok;
    h->token_src = strdup(src);
    return h->token_src ? 0 : -ENOMEM;
}

int fvc_resolve_token(struct fvc_host *h, const char *token_file, char *err, size_t errlen)
{
    char *tok = NULL, path[4096];
    const char *named = h->token_file ? h->token_file : token_file;
    if (named) {
        int rc = fvc_read_token(named, &tok, err, errlen);
        return rc ? rc : set_token(h, tok, named);
    }
    const char *env = getenv("FAIRVISOR_TOKEN");
    if (env && *env) {
        char *t = strdup(env);
        if (!t)
            return -ENOMEM;
        char *trimmed = trim(t);
        int rc = check_token(trimmed, "FAIRVISOR_TOKEN", err, errlen);
        if (!rc)
            memmove(t, trimmed, strlen(trimmed) + 1);
        return rc ? (free(t), rc) : set_token(h, t, "FAIRVISOR_TOKEN");
    }
    int rc = fvc_token_path(h->url, getenv("HOME"), path, sizeof(path));
    char why[4608];
    if (rc)
        snprintf(why, sizeof(why), "no token: HOME is not set (use --token-file or "
                 "FAIRVISOR_TOKEN)");
    else if ((rc = fvc_read_token(path, &tok, why, sizeof(why))) == 0)
        return set_token(h, tok, path);
    else
        snprintf(why + strlen(why), sizeof(why) - strlen(why), " (no token: is `fairvisor "
                 "serve` running there? else use --token-file or FAIRVISOR_TOKEN)");
    h->token_err = strdup(why);
    return h->token_err ? 0 : -ENOMEM;
}

/* ---- requests ------------------------------------------------------------------------ */

struct reply_buf {
    char *p;
    size_t len, cap;
    bool over;
};

static size_t on_data(char *data, size_t size, size_t n, void *ud)
{
    struct reply_buf *b = ud;
    size_t add = size * n;
    if (b->len + add > FVC_REPLY_MAX) {
        b->over = true;
        return 0;                       /* makes curl stop with a write error */
    }
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + add + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, add);
    b->len += add;
    b->p[b->len] = '\0';
    return add;
}

static int build_url(const struct fvc_host *h, const char *path, char **url)
{
    if (!strncmp(h->url, "unix:", 5))
        return asprintf(url, "http://localhost%s", path) < 0 ? -ENOMEM : 0;
    size_t n = strlen(h->url);
    while (n > 0 && h->url[n - 1] == '/')
        n--;
    return asprintf(url, "%.*s%s", (int)n, h->url, path) < 0 ? -ENOMEM : 0;
}

static struct curl_slist *build_headers(const struct fvc_host *h, const char *body, size_t len)
{
    char *auth = NULL;
    struct curl_slist *l = NULL, *t;
    if (asprintf(&auth, "Authorization: Bearer %s", h->token) < 0)
        return NULL;
    const char *hdrs[] = {
        auth, "Accept: application/json",
        "Expect:",                      /* no 100-continue round trip for bodies */
        !body ? NULL : len && body[strspn(body, " \t\r\n")] == '{' ?
            "Content-Type: application/json" : "Content-Type: application/yaml",
    };
    for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        if (!hdrs[i])
            continue;
        if (!(t = curl_slist_append(l, hdrs[i]))) {
            curl_slist_free_all(l);
            l = NULL;
            break;
        }
        l = t;
    }
    free(auth);
    return l;
}

static void setup_easy(CURL *c, const struct fvc_host *h, const char *method, const char *url,
                       const char *body, size_t len, struct curl_slist *hdrs,
                       struct reply_buf *rb, char *cerr)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, FVC_CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, FVC_TOTAL_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, rb);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    if (!strncmp(h->url, "unix:", 5))
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, h->url + 5);
    if (!strcmp(method, "GET")) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        /* POST, PATCH, DELETE: a body (maybe empty) and the method's name. */
        if (body || strcmp(method, "DELETE")) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
        }
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
}

int fvc_request(struct fvc_host *h, const char *method, const char *path, const char *body,
                size_t len, long *status, char **reply, size_t *reply_len, char *err,
                size_t errlen)
{
    static bool inited;
    *reply = NULL;
    if (!h->token) {
        snprintf(err, errlen, "%s", h->token_err ? h->token_err : "no token");
        return -EACCES;
    }
    if (!inited) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
            snprintf(err, errlen, "libcurl failed to initialise");
            return -EIO;
        }
        inited = true;
    }
    CURL *c = h->curl;
    if (c)
        curl_easy_reset(c);             /* keeps its connections */
    else if (!(c = h->curl = curl_easy_init())) {
        snprintf(err, errlen, "libcurl failed to initialise");
        return -EIO;
    }
    char *url = NULL, cerr[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = build_headers(h, body, len);
    struct reply_buf rb = { 0 };
    if (!hdrs || build_url(h, path, &url)) {
        curl_slist_free_all(hdrs);
        return -ENOMEM;
    }
    setup_easy(c, h, method, url, body, len, hdrs, &rb, cerr);
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(hdrs);
    free(url);
    if (cc != CURLE_OK) {
        long oserr = 0;
        curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
        if (rb.over)
            snprintf(err, errlen, "the reply is over %u MiB: not the management API?",
                     FVC_REPLY_MAX >> 20);
        else if (cc == CURLE_COULDNT_CONNECT && !strncmp(h->url, "unix:", 5))
            snprintf(err, errlen, "cannot connect to %s: %s", h->url + 5,
                     oserr ? strerror((int)oserr) : curl_easy_strerror(cc));
        else
            snprintf(err, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
        free(rb.p);
        return -EIO;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if (!rb.p && !(rb.p = calloc(1, 1)))
        return -ENOMEM;
    *reply = rb.p;
    if (reply_len)
        *reply_len = rb.len;
    return 0;
}

void fvc_error_message(long status, const char *body, size_t len, char *err, size_t errlen)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    const json_t *e = j ? json_object_get(j, "error") : NULL;
    if (json_is_string(e) && json_string_length(e)) {
        snprintf(err, errlen, "%s", json_string_value(e));
    } else {
        size_t n = strcspn(body, "\r\n");
        if (n > 200)
            n = 200;
        if (n)
            snprintf(err, errlen, "HTTP %ld: %.*s", status, (int)n, body);
        else
            snprintf(err, errlen, "HTTP %ld (no message)", status);
    }
    json_decref(j);
}

int fvc_json(struct fvc_host *h, const char *method, const char *path, const char *body,
             size_t len, long *status, json_t **out, char *err, size_t errlen)
{
    long st = 0;
    char *reply;
    size_t rlen = 0;
    *out = NULL;
    int rc = fvc_request(h, method, path, body, len, &st, &reply, &rlen, err, errlen);
    if (status)
        *status = st;
    if (rc)
        return rc;
    if (st < 200 || st > 299) {
        fvc_error_message(st, reply, rlen, err, errlen);
        if (st == 401 && h->token_src) {
            size_t n = strlen(err);
            snprintf(err + n, errlen - n, " (token from %s)", h->token_src);
        }
        free(reply);
        return -EPROTO;
    }
    json_error_t je;
    *out = json_loadb(reply, rlen, 0, &je);
    free(reply);
    if (!*out || !json_is_object(*out)) {
        snprintf(err, errlen, "%s %s: the reply (HTTP %ld) is not a JSON object%s%s", method,
                 path, st, *out ? "" : ": ", *out ? "" : je.text);
        json_decref(*out);
        *out = NULL;
        return -EBADMSG;
    }
    return 0;
}

char *fvc_escape(const char *name)
{
    char *e = curl_easy_escape(NULL, name, 0);
    char *r = e ? strdup(e) : NULL;
    curl_free(e);
    return r;
}

/* ---- JSON fields ------------------------------------------------------------------- */

const json_t *fvc_at(const json_t *obj, const char *path)
{
    char key[128];
    while (obj && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof(key) || !json_is_object(obj))
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        obj = json_object_get(obj, key);
        path += n + (path[n] == '.');
    }
    return obj;
}

int fvc_int(const json_t *obj, const char *path, int64_t *out, char *err, size_t errlen)
{
    const json_t *v = fvc_at(obj, path);
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_real(v) && json_real_value(v) >= (double)INT64_MIN &&
        json_real_value(v) < (double)INT64_MAX) {
        *out = (int64_t)json_real_value(v);
        return 0;
    }
    snprintf(err, errlen, "no integer \"%s\"", path);
    return -EINVAL;
}

int fvc_str(const json_t *obj, const char *path, const char **out, char *err, size_t errlen)
{
    const json_t *v = fvc_at(obj, path);
    if (json_is_string(v)) {
        *out = json_string_value(v);
        return 0;
    }
    snprintf(err, errlen, "no string \"%s\"", path);
    return -EINVAL;
}

int64_t fvc_int_or(const json_t *obj, const char *path, int64_t def)
{
    int64_t v;
    char e[8];
    return fvc_int(obj, path, &v, e, sizeof(e)) ? def : v;
}

double fvc_num_or(const json_t *obj, const char *path, double def)
{
    const json_t *v = fvc_at(obj, path);
    return json_is_number(v) ? json_number_value(v) : def;
}

int fvc_duration_ns(const json_t *obj, const char *path, int64_t *ns, char *err, size_t errlen)
{
    const json_t *v = fvc_at(obj, path);
    fv_ns_t d;
    if (json_is_integer(v)) {
        *ns = json_integer_value(v);
        return 0;
    }
    if (json_is_string(v) && !scn_parse_duration(json_string_value(v), &d)) {
        *ns = d;
        return 0;
    }
    if (json_is_string(v))
        snprintf(err, errlen, "\"%s\": '%s' is not a duration", path, json_string_value(v));
    else
        snprintf(err, errlen, "no duration \"%s\"", path);
    return -EINVAL;
}
