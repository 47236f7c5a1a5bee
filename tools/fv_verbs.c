/* fv_verbs.c — the xl-like verbs of the management API's client
 * (fv_client.h): create, list, destroy, pause, unpause, shutdown, the
 * command-line handling they share with top and sched-*, and list's table.
 * The sched-* verbs are in fv_sched.c. */
#include "fv_client.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CREATE_MAX (16u << 20)      /* the server refuses past 1 MiB (413) anyway */

void fvv_fail(const struct fvv_ctx *c, const char *host, const char *fmt, ...)
{
    va_list ap;
    fprintf(c->err, "fairvisor %s: ", c->verb);
    if (host)
        fprintf(c->err, "%s: ", host);
    va_start(ap, fmt);
    vfprintf(c->err, fmt, ap);
    va_end(ap);
    fputc('\n', c->err);
}

/* ---- options shared by every verb --------------------------------------------------- */

int fvv_common_opt(struct fvv_ctx *c, int opt, const char *arg)
{
    char err[1024];
    int rc = 0;
    switch (opt) {
    case FVV_OPT_HOST: rc = fvc_hosts_add(&c->hosts, arg, NULL, err, sizeof(err)); break;
    case FVV_OPT_HOSTS_FILE: rc = fvc_hosts_file(&c->hosts, arg, err, sizeof(err)); break;
    case FVV_OPT_TOKEN_FILE:
        if (!*arg) {
            snprintf(err, sizeof(err), "--token-file needs a file, got an empty string");
            rc = -EINVAL;
        }
        c->token_file = arg;
        break;
    default: return 0;
    }
    if (!rc)
        return 1;
    fvv_fail(c, NULL, "%s", rc == -ENOMEM ? strerror(ENOMEM) : err);
    return -1;
}

int fvv_getopt(struct fvv_ctx *c, int argc, char **argv, const char *shortopts,
               const struct option *longopts, const char *help, int *status)
{
    static const struct option common[] = { FVV_COMMON_LONGOPTS, { 0 } };
    const struct option *lo = longopts ? longopts : common;
    char so[64];
    snprintf(so, sizeof(so), ":h%s", shortopts);
    for (;;) {
        int o = getopt_long(argc, argv, so, lo, NULL);
        if (o == -1)
            return FVV_END;
        int r = fvv_common_opt(c, o, optarg);
        if (r == 1)
            continue;
        if (r < 0) {
            *status = FVC_EXIT_USAGE;
            return FVV_EXIT;
        }
        if (o == 'h') {
            fputs(help, c->out);
            *status = 0;
            return FVV_EXIT;
        }
        if (o == '?' || o == ':') {
            const char *what = argv[optind - 1];
            if (o == ':')
                fvv_fail(c, NULL, "%s needs a value", what);
            else if (optopt)
                fvv_fail(c, NULL, "unknown option -%c", optopt);
            else
                fvv_fail(c, NULL, "unknown option %s", what);
            fputs(help, c->err);
            *status = FVC_EXIT_USAGE;
            return FVV_EXIT;
        }
        return o;
    }
}

int fvv_setup_hosts(struct fvv_ctx *c)
{
    char err[4608];
    if (!c->hosts.n && fvc_hosts_add(&c->hosts, FVC_DEFAULT_HOST, NULL, err, sizeof(err))) {
        fvv_fail(c, NULL, "%s", strerror(ENOMEM));
        return FVC_EXIT_FAIL;
    }
    for (int i = 0; i < c->hosts.n; i++) {
        int rc = fvc_resolve_token(&c->hosts.v[i], c->token_file, err, sizeof(err));
        if (rc == -ENOMEM) {
            fvv_fail(c, NULL, "%s", strerror(ENOMEM));
            return FVC_EXIT_FAIL;
        }
        if (rc) {
            fvv_fail(c, c->hosts.v[i].url, "%s", err);
            return FVC_EXIT_USAGE;
        }
    }
    return -1;
}

/* Bad usage: the message, the verb's help on stderr, exit 2. */
int fvv_usage_error(const struct fvv_ctx *c, const char *help, const char *msg)
{
    fvv_fail(c, NULL, "%s", msg);
    fputs(help, c->err);
    return FVC_EXIT_USAGE;
}

/* ---- pure parts ------------------------------------------------------------------------ */

int fvv_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
        return -EINVAL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

/* In the unit the user typed: the server's messages then echo it back. */
const char *fvv_ms_dur(long ms, char *buf, size_t len)
{
    snprintf(buf, len, "%ldms", ms);
    return buf;
}

const char *fvv_us_dur(long us, char *buf, size_t len)
{
    snprintf(buf, len, "%ldus", us);
    return buf;
}

const char *fvv_in_unit(int64_t ns, int64_t unit_ns, char *buf, size_t len)
{
    if (ns % unit_ns == 0)
        snprintf(buf, len, "%lld", (long long)(ns / unit_ns));
    else
        snprintf(buf, len, "%.3f", (double)ns / (double)unit_ns);
    return buf;
}

const char *fvv_xl_state(const char *state)
{
    if (!state)
        return "------";
    if (!strcmp(state, "running"))
        return "r-----";
    if (!strcmp(state, "blocked"))
        return "-b----";
    if (!strcmp(state, "paused"))
        return "--p---";
    return "------";
}

/* ---- list -------------------------------------------------------------------------- */

struct list_row {
    const char *name, *state;
    int64_t id, mem, vcpus, cpu_ns;
};

static int list_row_of(const json_t *d, int i, struct list_row *r, char *err, size_t errlen)
{
    char why[256];
    if (!json_is_object(d)) {
        snprintf(err, errlen, "bad reply: domains[%d] is not an object", i);
        return -EINVAL;
    }
    if (fvc_str(d, "name", &r->name, why, sizeof(why))) {
        snprintf(err, errlen, "bad reply: domains[%d]: %s", i, why);
        return -EINVAL;
    }
    if (fvc_int(d, "id", &r->id, why, sizeof(why)) ||
        fvc_str(d, "state", &r->state, why, sizeof(why)) ||
        fvc_int(d, "memory_bytes", &r->mem, why, sizeof(why)) ||
        fvc_int(d, "vcpus", &r->vcpus, why, sizeof(why)) ||
        fvc_int(d, "cpu_ns", &r->cpu_ns, why, sizeof(why))) {
        snprintf(err, errlen, "bad reply: domain \"%s\": %s", r->name, why);
        return -EINVAL;
    }
    return 0;
}

void fvv_list_header(FILE *f, int host_w)
{
    if (host_w > 0)
        fprintf(f, "%-*s ", host_w, "Host");
    fputs("Name                                        ID   Mem VCPUs\tState\tTime(s)\n", f);
}

static bool wanted(const char *name, char *const *names, int nnames, bool *found)
{
    bool any = nnames == 0;
    for (int i = 0; i < nnames; i++)
        if (!strcmp(names[i], name)) {
            found[i] = true;
            any = true;
        }
    return any;
}

int fvv_list_rows(FILE *f, const char *host, int host_w, const json_t *domains,
                  char *const *names, int nnames, bool *found, char *err, size_t errlen)
{
    struct list_row r;
    size_t i;
    const json_t *d;
    if (!json_is_array(domains)) {
        snprintf(err, errlen, "bad reply: no array \"domains\"");
        return -EINVAL;
    }
    /* Check every entry before printing any: no half table from one host. */
    json_array_foreach(domains, i, d)
        if (list_row_of(d, (int)i, &r, err, errlen))
            return -EINVAL;
    json_array_foreach(domains, i, d) {
        list_row_of(d, (int)i, &r, err, errlen);
        if (!wanted(r.name, names, nnames, found))
            continue;
        if (host_w > 0)
            fprintf(f, "%-*s ", host_w, host);
        fprintf(f, "%-40s %5lld %5llu %5lld     %s  %8.1f\n", r.name, (long long)r.id,
                (unsigned long long)(r.mem < 0 ? 0 : r.mem) >> 20, (long long)r.vcpus,
                fvv_xl_state(r.state), (double)r.cpu_ns / 1e9);
    }
    return 0;
}

static const char list_help[] =
    "usage: fairvisor list [NAME...] [--host URL]... [--hosts-file FILE] [--token-file FILE]\n"
    "\n"
    "The domains of the hosts (only NAME... when given), as `xl list`: Mem in MiB,\n"
    "State r----- running, -b---- blocked, --p--- paused, Time(s) CPU time received.\n"
    "With several hosts, one table with a first column Host; a host that fails is\n"
    "reported on stderr, the others still listed (exit 1).\n"
    "\n"
    "options:\n" FVV_COMMON_HELP;

static int cmd_list(struct fvv_ctx *c, int argc, char **argv)
{
    int st;
    if (fvv_getopt(c, argc, argv, "", NULL, list_help, &st) != FVV_END ||
        (st = fvv_setup_hosts(c)) >= 0)
        return st;
    char *const *names = argv + optind;
    int nnames = argc - optind, rc = 0, host_w = 0, ok = 0;
    bool found[nnames + 1];
    memset(found, 0, sizeof(found));
    json_t *docs[c->hosts.n];
    char err[4608];
    for (int i = 0; i < c->hosts.n; i++) {
        struct fvc_host *h = &c->hosts.v[i];
        if (c->hosts.n > 1 && (int)strlen(h->url) > host_w)
            host_w = (int)strlen(h->url);
        if (fvc_json(h, "GET", "/v1/domains", NULL, 0, NULL, &docs[i], err, sizeof(err))) {
            fvv_fail(c, h->url, "%s", err);
            rc = FVC_EXIT_FAIL;
        }
    }
    if (host_w && host_w < 4)
        host_w = 4;
    for (int i = 0; i < c->hosts.n; i++) {
        const json_t *doms = docs[i] ? json_object_get(docs[i], "domains") : NULL;
        if (!docs[i])
            continue;
        if (!ok++)
            fvv_list_header(c->out, host_w);
        if (fvv_list_rows(c->out, c->hosts.v[i].url, host_w, doms, names, nnames, found, err,
                          sizeof(err))) {
            fvv_fail(c, c->hosts.v[i].url, "%s", err);
            rc = FVC_EXIT_FAIL;
        }
        json_decref(docs[i]);
    }
    for (int i = 0; i < nnames; i++)
        if (!found[i] && ok) {
            fvv_fail(c, c->hosts.n == 1 ? c->hosts.v[0].url : NULL, "no domain '%s'%s", names[i],
                     c->hosts.n == 1 ? "" : " on any host");
            rc = FVC_EXIT_FAIL;
        }
    return rc;
}

/* ---- create ------------------------------------------------------------------------ */

static const char create_help[] =
    "usage: fairvisor create FILE [--host URL]... [--hosts-file FILE] [--token-file FILE]\n"
    "\n"
    "Creates a domain on each host from FILE (`-`: stdin): ONE domain entry of the\n"
    "scenario format, YAML or JSON, sent as is, e.g.\n"
    "    {\"name\": \"web\", \"vcpus\": 1, \"weight\": 512, \"workload\": {\"kind\": \"cpu-hog\"}}\n"
    "or a list of entries, created together (all or none; entries may name each\n"
    "other as peers, as an evtchn-ping pair must).\n"
    "Prints \"Created domain NAME (id N) on HOST\" for each.\n"
    "\n"
    "options:\n" FVV_COMMON_HELP;

static char *read_input(const char *file, size_t *len, char *err, size_t errlen)
{
    FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
    const char *name = f == stdin ? "stdin" : file;
    if (!f) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            char *nb = cap >= CREATE_MAX ? NULL : realloc(buf, cap * 2 + 1);
            if (!nb) {
                snprintf(err, errlen, "%s: %s", name, cap >= CREATE_MAX ? "over 16 MiB" :
                         strerror(ENOMEM));
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "%s: read error", name);
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    } else if (!*err) {
        snprintf(err, errlen, "%s", strerror(ENOMEM));
    }
    return buf;
}

static int cmd_create(struct fvv_ctx *c, int argc, char **argv)
{
    int st;
    if (fvv_getopt(c, argc, argv, "", NULL, create_help, &st) != FVV_END)
        return st;
    if (argc - optind != 1)
        return fvv_usage_error(c, create_help, "expected exactly one FILE");
    char err[4608] = "";
    size_t len = 0;
    char *body = read_input(argv[optind], &len, err, sizeof(err));
    if (!body) {
        fvv_fail(c, NULL, "%s", err);
        return FVC_EXIT_USAGE;
    }
    int rc = fvv_setup_hosts(c);
    if (rc >= 0) {
        free(body);
        return rc;
    }
    rc = 0;
    for (int i = 0; i < c->hosts.n; i++) {
        struct fvc_host *h = &c->hosts.v[i];
        json_t *dom;
        const char *name;
        int64_t id;
        char why[256];
        if (fvc_json(h, "POST", "/v1/domains", body, len, NULL, &dom, err, sizeof(err))) {
            fvv_fail(c, h->url, "%s", err);
            rc = FVC_EXIT_FAIL;
            continue;
        }
        /* One entry: its DOM; a list: {"domains": [DOM, ...]}. */
        json_t *list = json_object_get(dom, "domains");
        size_t k = json_is_array(list) ? json_array_size(list) : 1;
        for (size_t i = 0; i < k; i++) {
            json_t *one = json_is_array(list) ? json_array_get(list, i) : dom;
            if (fvc_str(one, "name", &name, why, sizeof(why)) ||
                fvc_int(one, "id", &id, why, sizeof(why))) {
                fvv_fail(c, h->url, "bad reply: %s", why);
                rc = FVC_EXIT_FAIL;
                break;
            }
            fprintf(c->out, "Created domain %s (id %lld) on %s\n", name, (long long)id, h->url);
        }
        json_decref(dom);
    }
    free(body);
    return rc;
}

/* ---- destroy, pause, unpause, shutdown --------------------------------------------- */

static const char destroy_help[] =
    "usage: fairvisor destroy NAME [--host URL]... [--hosts-file FILE] [--token-file FILE]\n"
    "\n"
    "Destroys the domain NAME on each host (silent on success, as xl).\n"
    "\n"
    "options:\n" FVV_COMMON_HELP;
static const char pause_help[] =
    "usage: fairvisor pause NAME [--host URL]... [--hosts-file FILE] [--token-file FILE]\n"
    "\n"
    "Pauses the domain NAME on each host: its vCPUs stop running; what arrives\n"
    "meanwhile wakes it on unpause. Silent on success.\n"
    "\n"
    "options:\n" FVV_COMMON_HELP;
static const char unpause_help[] =
    "usage: fairvisor unpause NAME [--host URL]... [--hosts-file FILE] [--token-file FILE]\n"
    "\n"
    "Unpauses the domain NAME on each host. Silent on success.\n"
    "\n"
    "options:\n" FVV_COMMON_HELP;
static const char shutdown_help[] =
    "usage: fairvisor shutdown [--host URL]... [--hosts-file FILE] [--token-file FILE]\n"
    "\n"
    "Asks each host to stop: it writes its results and exits. Prints\n"
    "\"Host HOST shutting down\".\n"
    "\n"
    "options:\n" FVV_COMMON_HELP;

static int cmd_domain_op(struct fvv_ctx *c, int argc, char **argv)
{
    const char *help = !strcmp(c->verb, "destroy") ? destroy_help :
                       !strcmp(c->verb, "pause") ? pause_help : unpause_help;
    int st;
    if (fvv_getopt(c, argc, argv, "", NULL, help, &st) != FVV_END)
        return st;
    if (argc - optind != 1 || !argv[optind][0])
        return fvv_usage_error(c, help, "expected exactly one domain NAME");
    if ((st = fvv_setup_hosts(c)) >= 0)
        return st;
    char *esc = fvc_escape(argv[optind]), *path = NULL;
    bool destroy = !strcmp(c->verb, "destroy");
    if (!esc || asprintf(&path, "/v1/domains/%s%s%s", esc, destroy ? "" : "/",
                         destroy ? "" : c->verb) < 0) {
        free(esc);
        fvv_fail(c, NULL, "%s", strerror(ENOMEM));
        return FVC_EXIT_FAIL;
    }
    int rc = 0;
    for (int i = 0; i < c->hosts.n; i++) {
        char err[4608];
        json_t *j;
        if (fvc_json(&c->hosts.v[i], destroy ? "DELETE" : "POST", path, NULL, 0, NULL, &j, err,
                     sizeof(err))) {
            fvv_fail(c, c->hosts.v[i].url, "%s", err);
            rc = FVC_EXIT_FAIL;
        }
        json_decref(j);
    }
    free(path);
    free(esc);
    return rc;
}

static int cmd_shutdown(struct fvv_ctx *c, int argc, char **argv)
{
    int st;
    if (fvv_getopt(c, argc, argv, "", NULL, shutdown_help, &st) != FVV_END)
        return st;
    if (argc != optind)
        return fvv_usage_error(c, shutdown_help, "expected no argument (the hosts are "
                               "--host or --hosts-file)");
    if ((st = fvv_setup_hosts(c)) >= 0)
        return st;
    int rc = 0;
    for (int i = 0; i < c->hosts.n; i++) {
        char err[4608];
        json_t *j;
        if (fvc_json(&c->hosts.v[i], "POST", "/v1/shutdown", NULL, 0, NULL, &j, err,
                     sizeof(err))) {
            fvv_fail(c, c->hosts.v[i].url, "%s", err);
            rc = FVC_EXIT_FAIL;
            continue;
        }
        fprintf(c->out, "Host %s shutting down\n", c->hosts.v[i].url);
        json_decref(j);
    }
    return rc;
}

/* ---- dispatch ---------------------------------------------------------------------- */

static const struct {
    const char *name;
    int (*run)(struct fvv_ctx *c, int argc, char **argv);
} verbs[] = {
    { "create", cmd_create }, { "list", cmd_list }, { "destroy", cmd_domain_op },
    { "pause", cmd_domain_op }, { "unpause", cmd_domain_op }, { "shutdown", cmd_shutdown },
    { "sched-credit", fvv_cmd_sched }, { "sched-credit2", fvv_cmd_sched },
    { "sched-rtds", fvv_cmd_sched }, { "top", fvt_main },
};

bool fv_client_verb(const char *cmd)
{
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (!strcmp(cmd, verbs[i].name))
            return true;
    return false;
}

int fvv_run(int argc, char **argv, FILE *out, FILE *err)
{
    struct fvv_ctx c = { .verb = argv[0], .out = out, .err = err };
    int rc = FVC_EXIT_USAGE;
    optind = 0;                         /* a fresh getopt scan (tests run several) */
    opterr = 0;
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (!strcmp(argv[0], verbs[i].name))
            rc = verbs[i].run(&c, argc, argv);
    fflush(out);
    fvc_hosts_free(&c.hosts);
    return rc;
}

int fv_client_main(int argc, char **argv)
{
    return fvv_run(argc, argv, stdout, stderr);
}
