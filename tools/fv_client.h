/* fv_client.h — the management API's client side: `fairvisor create, list,
 * destroy, pause, unpause, sched-credit, sched-credit2, sched-rtds,
 * shutdown, top` talk to `fairvisor serve` hosts over HTTP (libcurl), as
 * Xen's xl and xentop talk to a Xen host: xl's option letters, units and
 * table shapes, the API's JSON (api contract v1) underneath.
 *
 * Three layers, each testable on its own (tests/test_client.c):
 *   fvc_*  hosts (URLs, hosts files, tokens) and one request (fv_client.c)
 *   fvv_*  the xl-like verbs and their pure formatters (fv_verbs.c)
 *   fvt_*  top: rows from two snapshots, sorting, printing (fv_top.c)
 * Functions that can fail return 0 or -errno and put a message in err.
 * Exit statuses: 0 success, 1 a host failed (transport or the server's
 * error), 2 bad usage.
 */
#ifndef FV_CLIENT_H
#define FV_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define FVC_DEFAULT_HOST "http://127.0.0.1:8480"
#define FVC_EXIT_FAIL 1
#define FVC_EXIT_USAGE 2

/* ---- hosts and tokens (fv_client.c) ---------------------------------------- */

struct fvc_host {
    char *url;          /* as given: messages and the Host column show it */
    char *token_file;   /* the hosts file's second field (absolute), or NULL */
    char *token;        /* after fvc_resolve_token; NULL: see token_err */
    char *token_src;    /* where the token came from (named in 401 messages) */
    char *token_err;    /* why there is no token (the request is not sent) */
    void *curl;         /* CURL handle kept between requests (connection reuse) */
};

struct fvc_hosts {
    struct fvc_host *v;
    int n;
};

/* Is url a host URL: http://..., https://... or unix:PATH? */
int fvc_check_url(const char *url, char *err, size_t errlen);
int fvc_hosts_add(struct fvc_hosts *hs, const char *url, const char *token_file,
                  char *err, size_t errlen);
/* Parse a hosts file's text: one URL a line, an optional second field (its
 * token file; relative to dir when not absolute), `#` to the end of the line
 * a comment (at the start or after a blank). Errors name "FILE:LINE: ...".
 * A file with no host at all is an error too. */
int fvc_parse_hosts(struct fvc_hosts *hs, const char *file, const char *dir, const char *text,
                    char *err, size_t errlen);
int fvc_hosts_file(struct fvc_hosts *hs, const char *file, char *err, size_t errlen);
void fvc_hosts_free(struct fvc_hosts *hs);

/* The token file `fairvisor serve` writes for url (contract): PATH.token for
 * unix:PATH, HOME/.fairvisor/token-ADDR-PORT for http://ADDR:PORT (port 80,
 * https 443, when the URL has none). -EINVAL: not a host URL or no HOME. */
int fvc_token_path(const char *url, const char *home, char *buf, size_t len);
/* Read a token file: surrounding white space dropped; empty, or a byte
 * outside printable ASCII (it goes into a header), is -EINVAL. */
int fvc_read_token(const char *path, char **out, char *err, size_t errlen);
/* Give h its token, first found: h->token_file, token_file (--token-file),
 * env FAIRVISOR_TOKEN, the default path. A named file that cannot be read
 * is bad usage (-EINVAL, message in err); a missing default file is not an
 * error here: h->token_err says why and the host fails when used. */
int fvc_resolve_token(struct fvc_host *h, const char *token_file, char *err, size_t errlen);

/* ---- requests ------------------------------------------------------------------ */

/* One request: path starts with '/'; body (may be NULL) sent as is, with
 * Content-Type application/json when it starts with '{', else
 * application/yaml. Timeouts: connect 5 s, total 30 s. *status gets the
 * HTTP status, *reply the body (malloc'd, NUL-terminated; free it).
 * -EIO: no answer (err says why: refused, timed out...); -EACCES: no token. */
int fvc_request(struct fvc_host *h, const char *method, const char *path, const char *body,
                size_t len, long *status, char **reply, size_t *reply_len, char *err,
                size_t errlen);
/* A request whose success is JSON: 0 and *out (json_decref it) on 2xx;
 * -EPROTO with the server's "error" message on an error status (*status
 * may be NULL); -EBADMSG when a 2xx body is not JSON. */
int fvc_json(struct fvc_host *h, const char *method, const char *path, const char *body,
             size_t len, long *status, json_t **out, char *err, size_t errlen);
/* The message of an error reply: its JSON "error", else "HTTP N: first line
 * of the body" (what a proxy or a crashed server sends). */
void fvc_error_message(long status, const char *body, size_t len, char *err, size_t errlen);
/* name escaped for a path segment (malloc'd), or NULL. */
char *fvc_escape(const char *name);

/* ---- JSON fields ------------------------------------------------------------- */

/* The value at a dotted path ("net.tx_bytes") of obj, or NULL. */
const json_t *fvc_at(const json_t *obj, const char *path);
/* An integer (a real is truncated): 0, or -EINVAL with `no integer "path"`. */
int fvc_int(const json_t *obj, const char *path, int64_t *out, char *err, size_t errlen);
int fvc_str(const json_t *obj, const char *path, const char **out, char *err, size_t errlen);
int64_t fvc_int_or(const json_t *obj, const char *path, int64_t def);
double fvc_num_or(const json_t *obj, const char *path, double def);
/* A duration field: a string with units ("30ms"), or an integer of ns. */
int fvc_duration_ns(const json_t *obj, const char *path, int64_t *ns, char *err, size_t errlen);

/* ---- common command-line handling (fv_verbs.c) -------------------------------- */

struct fvv_ctx {
    const char *verb;
    struct fvc_hosts hosts;
    const char *token_file;
    FILE *out, *err;
};

/* Report "fairvisor VERB: HOST: message" (host may be NULL). */
void fvv_fail(const struct fvv_ctx *c, const char *host, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* After option parsing: the default host when none was given, then every
 * host's token. Returns -1 to go on, else an exit status. */
int fvv_setup_hosts(struct fvv_ctx *c);
/* The verb's next option (getopt_long over shortopts, longopts or the
 * common ones): its letter; FVV_END after the last (optind: the first
 * argument); FVV_EXIT with *status set (--help printed, or bad usage
 * reported). Common options are handled here. */
#define FVV_END (-1)
#define FVV_EXIT (-2)
struct option;
int fvv_getopt(struct fvv_ctx *c, int argc, char **argv, const char *shortopts,
               const struct option *longopts, const char *help, int *status);
/* Report msg and the verb's help on stderr; returns exit status 2. */
int fvv_usage_error(const struct fvv_ctx *c, const char *help, const char *msg);
/* Handle a common option (--host, --hosts-file, --token-file): 1 handled,
 * 0 not a common option, -1 a bad value (reported: exit 2). */
int fvv_common_opt(struct fvv_ctx *c, int opt, const char *arg);
#define FVV_OPT_HOST 1001
#define FVV_OPT_HOSTS_FILE 1002
#define FVV_OPT_TOKEN_FILE 1003
#define FVV_COMMON_LONGOPTS                                                 \
    { "host", required_argument, NULL, FVV_OPT_HOST },                      \
    { "hosts-file", required_argument, NULL, FVV_OPT_HOSTS_FILE },          \
    { "token-file", required_argument, NULL, FVV_OPT_TOKEN_FILE },          \
    { "help", no_argument, NULL, 'h' }
#define FVV_COMMON_HELP                                                     \
    "  --host URL         a host: http://ADDR:PORT or unix:/PATH (repeatable;\n" \
    "                     default " FVC_DEFAULT_HOST ")\n"                 \
    "  --hosts-file FILE  hosts, one URL a line, optional second field: its token\n" \
    "                     file (# comments)\n"                              \
    "  --token-file FILE  the token (else $FAIRVISOR_TOKEN, else the file\n" \
    "                     `fairvisor serve` wrote for that host)\n"         \
    "  -h, --help         this text\n"

/* ---- the verbs ----------------------------------------------------------------- */

/* Is cmd one of the client verbs (top included)? */
bool fv_client_verb(const char *cmd);
/* Run argv[0] (a client verb) with stdout and stderr. */
int fv_client_main(int argc, char **argv);
/* The same, writing to out and err (tests). */
int fvv_run(int argc, char **argv, FILE *out, FILE *err);
/* sched-credit, sched-credit2, sched-rtds (fv_sched.c). */
int fvv_cmd_sched(struct fvv_ctx *c, int argc, char **argv);

/* Pure parts (tests/test_client.c). */
/* A whole decimal number in [min, max]: 0 or -EINVAL. */
int fvv_parse_long(const char *s, long min, long max, long *out);
/* xl's units to the API's durations: 30 (ms) -> "30ms", 1500 (us) ->
 * "1500us". */
const char *fvv_ms_dur(long ms, char *buf, size_t len);
const char *fvv_us_dur(long us, char *buf, size_t len);
/* ns in unit_ns (1000000 ms, 1000 us): "30", or "1.500" when not whole. */
const char *fvv_in_unit(int64_t ns, int64_t unit_ns, char *buf, size_t len);
/* xl list's 6-letter state: "r-----", "-b----", "--p---"; "------" else. */
const char *fvv_xl_state(const char *state);

enum fvv_policy { FVV_CREDIT, FVV_CREDIT2, FVV_RTDS };
extern const char *const fvv_policy_name[];

struct fvv_sched_opts {
    const char *dom;
    bool s, has_w, has_c, has_t, has_r, has_p, has_b, has_e;
    long w, c, t, r, p, b, e;
};
/* The PATCH body of a sched verb's options: global (-s) or the domain's;
 * NULL when nothing is to be set (a display). */
json_t *fvv_sched_patch(enum fvv_policy pol, const struct fvv_sched_opts *o);

/* xl list: the header (host_w > 0: a first column Host that wide), and the
 * rows of one host's domains array (names: only those, marking found[]). A
 * bad entry prints nothing and names the domain and field in err. */
void fvv_list_header(FILE *f, int host_w);
int fvv_list_rows(FILE *f, const char *host, int host_w, const json_t *domains,
                  char *const *names, int nnames, bool *found, char *err, size_t errlen);
/* xl sched-*: the header, one row per domain of the array (or one DOM
 * object), and the host line ("Host URL: tslice=30ms ratelimit=1000us"). */
void fvv_sched_header(FILE *f, enum fvv_policy pol);
int fvv_sched_rows(FILE *f, enum fvv_policy pol, const json_t *doms, char *err, size_t errlen);
int fvv_sched_host_line(FILE *f, enum fvv_policy pol, const char *host, const json_t *hostdoc,
                        char *err, size_t errlen);

/* ---- top (fv_top.c) ------------------------------------------------------------ */

enum fvt_col {
    FVT_HOST, FVT_NAME, FVT_STATE, FVT_CPU_S, FVT_CPU_PCT, FVT_MEM, FVT_VCPUS, FVT_NETTX,
    FVT_NETRX, FVT_VBD_RD, FVT_VBD_WR, FVT_BACKEND, FVT_WAIT, FVT_STARVED, FVT_NCOLS
};

struct fvt_row {
    const char *host;
    char *name;
    int64_t id;
    char state[7];
    double v[FVT_NCOLS];        /* the numeric columns, as shown */
    struct fvt_counter { char *name; int64_t v; } *counters;  /* as the domain reports */
    int ncounters;
    int idx;                    /* insertion order (stable sort) */
};

struct fvt_table {
    struct fvt_row *rows;
    int n;
    char **cnames;              /* every row's counter names, sorted */
    int nc;
};

/* One host's refresh: its domains array at t_ns (any monotonic clock),
 * pcpus and uptime_ns from GET /v1/host. */
struct fvt_snap {
    const json_t *domains;
    int64_t t_ns;
    int pcpus;
    int64_t uptime_ns;
};

/* xentop's state letters (dying shutdown blocked crashed paused running):
 * "-----r", "--b---", "----p-". */
const char *fvt_state(const char *state);
/* Add one host's rows. CPU(%) = delta cpu_ns / delta t * 100 against prev
 * (matched by id); with no prev (or a domain new since), its
 * cpu_share_recent * pcpus * 100. BACKEND(%) likewise from backend_cpu_ns
 * (no prev: its average since created_ns). */
int fvt_add_host(struct fvt_table *t, const char *host, const struct fvt_snap *cur,
                 const struct fvt_snap *prev, char *err, size_t errlen);
/* Sort by a column: a header (case-insensitive, "CPU(%)"), an alias (name,
 * cpu, mem, starved, wait, backend...) or a counter name. -ENOENT: none. */
int fvt_sort(struct fvt_table *t, const char *column);
/* Is column a fixed column's name or alias? */
bool fvt_known_column(const char *column);
void fvt_print(FILE *f, const struct fvt_table *t, bool host_col);
void fvt_free(struct fvt_table *t);

int fvt_main(struct fvv_ctx *c, int argc, char **argv);

#endif
