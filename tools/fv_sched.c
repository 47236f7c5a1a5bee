/* fv_sched.c — `fairvisor sched-credit | sched-credit2 | sched-rtds`: xl's
 * option letters and units (tslice ms, ratelimit us, rtds period and budget
 * us) turned into the API's duration strings, and xl's tables back
 * (fv_client.h). */
#include "fv_client.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

const char *const fvv_policy_name[] = { "credit", "credit2", "rtds" };

/* ---- pure parts ---------------------------------------------------------------------- */

json_t *fvv_sched_patch(enum fvv_policy pol, const struct fvv_sched_opts *o)
{
    char buf[32];
    json_t *j = json_object();
    if (!j)
        return NULL;
    if (o->s) {
        if (pol == FVV_CREDIT && o->has_t)
            json_object_set_new(j, "tslice", json_string(fvv_ms_dur(o->t, buf, sizeof(buf))));
        if (o->has_r)
            json_object_set_new(j, "ratelimit", json_string(fvv_us_dur(o->r, buf, sizeof(buf))));
    } else if (pol == FVV_RTDS) {
        if (o->has_p)
            json_object_set_new(j, "period", json_string(fvv_us_dur(o->p, buf, sizeof(buf))));
        if (o->has_b)
            json_object_set_new(j, "budget", json_string(fvv_us_dur(o->b, buf, sizeof(buf))));
        if (o->has_e)
            json_object_set_new(j, "extratime", json_boolean(o->e));
    } else {
        if (o->has_w)
            json_object_set_new(j, "weight", json_integer(o->w));
        if (o->has_c)
            json_object_set_new(j, "cap", json_integer(o->c));
    }
    if (!json_object_size(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

void fvv_sched_header(FILE *f, enum fvv_policy pol)
{
    if (pol == FVV_RTDS)
        fprintf(f, "%-33s %4s %9s %9s %10s\n", "Name", "ID", "Period", "Budget", "Extratime");
    else
        fprintf(f, "%-33s %4s %6s %4s\n", "Name", "ID", "Weight", "Cap");
}

/* One row into buf (nothing printed on a bad entry). */
static int sched_row(char *buf, size_t len, enum fvv_policy pol, const json_t *d, char *err,
                     size_t errlen)
{
    const char *name;
    int64_t id, a, b;
    char why[256], sa[32], sb[32];
    if (fvc_str(d, "name", &name, err, errlen))
        return -EINVAL;
    int rc = fvc_int(d, "id", &id, why, sizeof(why));
    if (!rc && pol == FVV_RTDS) {
        const json_t *e = fvc_at(d, "sched.extratime");
        rc = fvc_duration_ns(d, "sched.period", &a, why, sizeof(why)) ||
             fvc_duration_ns(d, "sched.budget", &b, why, sizeof(why));
        if (!rc && !json_is_boolean(e) && !json_is_integer(e)) {
            snprintf(why, sizeof(why), "no boolean \"sched.extratime\"");
            rc = -EINVAL;
        }
        if (!rc)
            snprintf(buf, len, "%-33s %4lld %9s %9s %10s\n", name, (long long)id,
                     fvv_in_unit(a, 1000, sa, sizeof(sa)), fvv_in_unit(b, 1000, sb, sizeof(sb)),
                     json_is_true(e) || json_integer_value(e) ? "yes" : "no");
    } else if (!rc) {
        rc = fvc_int(d, "sched.weight", &a, why, sizeof(why)) ||
             fvc_int(d, "sched.cap", &b, why, sizeof(why));
        if (!rc)
            snprintf(buf, len, "%-33s %4lld %6lld %4lld\n", name, (long long)id, (long long)a,
                     (long long)b);
    }
    if (rc) {
        snprintf(err, errlen, "domain \"%s\": %s", name, why);
        return -EINVAL;
    }
    return 0;
}

int fvv_sched_rows(FILE *f, enum fvv_policy pol, const json_t *doms, char *err, size_t errlen)
{
    size_t n = json_is_array(doms) ? json_array_size(doms) : 1;
    char (*rows)[512] = calloc(n ? n : 1, sizeof(*rows));
    char why[512];
    if (!rows)
        return -ENOMEM;
    int rc = 0;
    if (!json_is_array(doms) && !json_is_object(doms)) {
        snprintf(why, sizeof(why), "no domains");
        rc = -EINVAL;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        const json_t *d = json_is_array(doms) ? json_array_get(doms, i) : doms;
        rc = sched_row(rows[i], sizeof(rows[i]), pol, d, why, sizeof(why));
    }
    if (rc)
        snprintf(err, errlen, "bad reply: %s", why);
    for (size_t i = 0; i < n && !rc; i++)
        fputs(rows[i], f);
    free(rows);
    return rc;
}

int fvv_sched_host_line(FILE *f, enum fvv_policy pol, const char *host, const json_t *hostdoc,
                        char *err, size_t errlen)
{
    int64_t ts = 0, rl = 0;
    char why[256], a[32], b[32];
    if (pol == FVV_RTDS) {
        fprintf(f, "Host %s: sched=RTDS\n", host);
        return 0;
    }
    if ((pol == FVV_CREDIT && fvc_duration_ns(hostdoc, "sched.tslice", &ts, why, sizeof(why))) ||
        fvc_duration_ns(hostdoc, "sched.ratelimit", &rl, why, sizeof(why))) {
        snprintf(err, errlen, "bad reply: %s", why);
        return -EINVAL;
    }
    if (pol == FVV_CREDIT)
        fprintf(f, "Host %s: tslice=%sms ratelimit=%sus\n", host,
                fvv_in_unit(ts, 1000000, a, sizeof(a)), fvv_in_unit(rl, 1000, b, sizeof(b)));
    else
        fprintf(f, "Host %s: ratelimit=%sus\n", host, fvv_in_unit(rl, 1000, b, sizeof(b)));
    return 0;
}

/* ---- the verbs ------------------------------------------------------------------------- */

static const char credit_help[] =
    "usage: fairvisor sched-credit [-d NAME [-w WEIGHT] [-c CAP]] [options]\n"
    "       fairvisor sched-credit -s [-t TSLICE_MS] [-r RATELIMIT_US] [options]\n"
    "\n"
    "As `xl sched-credit`, on hosts running the credit policy. Without -w/-c (or\n"
    "-t/-r) prints the parameters: of domain NAME, of every domain, or (-s) of the\n"
    "host. Setting is silent.\n"
    "\n"
    "  -d NAME        the domain\n"
    "  -w WEIGHT      relative CPU share (e.g. 256)\n"
    "  -c CAP         most CPU it may use, % of one pCPU (0: none)\n"
    "  -s             the host's parameters\n"
    "  -t TSLICE_MS   time slice, milliseconds\n"
    "  -r RATELIMIT_US least run before preemption, microseconds (0: off)\n"
    FVV_COMMON_HELP;
static const char credit2_help[] =
    "usage: fairvisor sched-credit2 [-d NAME [-w WEIGHT] [-c CAP]] [options]\n"
    "       fairvisor sched-credit2 -s [-r RATELIMIT_US] [options]\n"
    "\n"
    "As `xl sched-credit2`, on hosts running the credit2 policy. Without -w/-c\n"
    "(or -r) prints the parameters: of domain NAME, of every domain, or (-s) of\n"
    "the host. Setting is silent.\n"
    "\n"
    "  -d NAME        the domain\n"
    "  -w WEIGHT      relative CPU share (e.g. 256)\n"
    "  -c CAP         most CPU it may use, % of one pCPU (0: none)\n"
    "  -s             the host's parameters\n"
    "  -r RATELIMIT_US least run before preemption, microseconds (0: off)\n"
    FVV_COMMON_HELP;
static const char rtds_help[] =
    "usage: fairvisor sched-rtds [-d NAME [-p PERIOD_US] [-b BUDGET_US] [-e 0|1]] [options]\n"
    "\n"
    "As `xl sched-rtds`, on hosts running the rtds policy. Without -p/-b/-e prints\n"
    "the parameters of domain NAME, or of every domain. Setting is silent.\n"
    "\n"
    "  -d NAME        the domain\n"
    "  -p PERIOD_US   replenishment period, microseconds\n"
    "  -b BUDGET_US   guaranteed run time per period, microseconds\n"
    "  -e 0|1         extratime: may run beyond the budget when the pCPU is free\n"
    FVV_COMMON_HELP;

struct sched_verb {
    enum fvv_policy pol;
    const char *shortopts, *help;
};

static const struct sched_verb sched_verbs[] = {
    { FVV_CREDIT, "d:w:c:st:r:", credit_help },
    { FVV_CREDIT2, "d:w:c:sr:", credit2_help },
    { FVV_RTDS, "d:p:b:e:", rtds_help },
};

/* A value of option o into *v: -1 to go on, else an exit status. */
static int sched_value(const struct fvv_ctx *c, const struct sched_verb *sv, int o,
                       const char *arg, long *v)
{
    static const struct { char o; long max; const char *what; } lim[] = {
        { 'w', INT_MAX, "a whole number >= 0" }, { 'c', INT_MAX, "a whole number >= 0" },
        { 't', 1000000000L, "milliseconds, a whole number >= 0" },
        { 'r', 1000000000L, "microseconds, a whole number >= 0" },
        { 'p', 1000000000000L, "microseconds, a whole number >= 0" },
        { 'b', 1000000000000L, "microseconds, a whole number >= 0" },
        { 'e', 1, "0 or 1" },
    };
    for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++)
        if (lim[i].o == o) {
            if (!fvv_parse_long(arg, 0, lim[i].max, v))
                return -1;
            char msg[256];
            snprintf(msg, sizeof(msg), "-%c: expected %s, got '%s'", o, lim[i].what, arg);
            return fvv_usage_error(c, sv->help, msg);
        }
    return fvv_usage_error(c, sv->help, "unexpected option");
}

static int sched_parse(struct fvv_ctx *c, const struct sched_verb *sv, int argc, char **argv,
                       struct fvv_sched_opts *o)
{
    int st, opt;
    while ((opt = fvv_getopt(c, argc, argv, sv->shortopts, NULL, sv->help, &st)) != FVV_END) {
        if (opt == FVV_EXIT)
            return st;
        bool *has = opt == 'w' ? &o->has_w : opt == 'c' ? &o->has_c : opt == 't' ? &o->has_t :
                    opt == 'r' ? &o->has_r : opt == 'p' ? &o->has_p : opt == 'b' ? &o->has_b :
                    opt == 'e' ? &o->has_e : NULL;
        long *v = opt == 'w' ? &o->w : opt == 'c' ? &o->c : opt == 't' ? &o->t :
                  opt == 'r' ? &o->r : opt == 'p' ? &o->p : opt == 'b' ? &o->b : &o->e;
        if (opt == 'd')
            o->dom = optarg;
        else if (opt == 's')
            o->s = true;
        else if ((st = sched_value(c, sv, opt, optarg, v)) >= 0)
            return st;
        else
            *has = true;
    }
    if (argc != optind)
        return fvv_usage_error(c, sv->help, "unexpected argument (the domain is -d NAME)");
    if (o->dom && !*o->dom)
        return fvv_usage_error(c, sv->help, "-d needs a domain NAME, got an empty string");
    if (o->s && (o->dom || o->has_w || o->has_c))
        return fvv_usage_error(c, sv->help, "-s (the host's parameters) cannot be combined "
                               "with -d, -w or -c");
    if (!o->dom && (o->has_w || o->has_c || o->has_p || o->has_b || o->has_e))
        return fvv_usage_error(c, sv->help, "setting a domain's parameters needs -d NAME");
    if (!o->s && (o->has_t || o->has_r))
        return fvv_usage_error(c, sv->help, sv->pol == FVV_CREDIT ? "-t and -r need -s" :
                               "-r needs -s");
    return -1;
}

/* GET /v1/host and check its policy: 0 with *hd, or -1 (reported). */
static int host_policy(struct fvv_ctx *c, struct fvc_host *h, enum fvv_policy pol, json_t **hd)
{
    char err[4608];
    const char *p;
    if (fvc_json(h, "GET", "/v1/host", NULL, 0, NULL, hd, err, sizeof(err))) {
        fvv_fail(c, h->url, "%s", err);
        return -1;
    }
    if (fvc_str(*hd, "policy", &p, err, sizeof(err)))
        fvv_fail(c, h->url, "bad reply to GET /v1/host: %s", err);
    else if (strcmp(p, fvv_policy_name[pol]))
        fvv_fail(c, h->url, "host runs %s, not %s", p, fvv_policy_name[pol]);
    else
        return 0;
    json_decref(*hd);
    *hd = NULL;
    return -1;
}

static int sched_show(struct fvv_ctx *c, struct fvc_host *h, enum fvv_policy pol,
                      const struct fvv_sched_opts *o, const json_t *hd, const char *esc)
{
    char err[4608], path[4200];
    json_t *j = NULL;
    int rc = 0;
    if (o->s)
        return fvv_sched_host_line(c->out, pol, h->url, hd, err, sizeof(err)) ?
               (fvv_fail(c, h->url, "%s", err), -1) : 0;
    if (o->dom)
        snprintf(path, sizeof(path), "/v1/domains/%s", esc);
    else
        snprintf(path, sizeof(path), "/v1/domains");
    if (fvc_json(h, "GET", path, NULL, 0, NULL, &j, err, sizeof(err))) {
        fvv_fail(c, h->url, "%s", err);
        return -1;
    }
    const json_t *doms = o->dom ? j : json_object_get(j, "domains");
    if (!o->dom && !json_is_array(doms)) {
        snprintf(err, sizeof(err), "bad reply: no array \"domains\"");
        rc = -1;
    }
    /* Into a buffer first: nothing half printed when the reply is bad. */
    char *text = NULL;
    size_t tlen = 0;
    FILE *m = rc ? NULL : open_memstream(&text, &tlen);
    if (m) {
        if (!o->dom)
            rc = fvv_sched_host_line(m, pol, h->url, hd, err, sizeof(err));
        if (!rc) {
            fvv_sched_header(m, pol);
            rc = fvv_sched_rows(m, pol, doms, err, sizeof(err));
        }
        fclose(m);
        if (!rc)
            fputs(text, c->out);
    } else if (!rc) {
        snprintf(err, sizeof(err), "%s", strerror(ENOMEM));
        rc = -1;
    }
    if (rc)
        fvv_fail(c, h->url, "%s", err);
    free(text);
    json_decref(j);
    return rc ? -1 : 0;
}

static int sched_on_host(struct fvv_ctx *c, struct fvc_host *h, enum fvv_policy pol,
                         const struct fvv_sched_opts *o, const json_t *patch, const char *esc)
{
    json_t *hd = NULL, *j = NULL;
    char err[4608], path[4200];
    if (host_policy(c, h, pol, &hd))
        return -1;
    int rc = 0;
    if (!patch) {
        rc = sched_show(c, h, pol, o, hd, esc);
    } else {
        char *body = json_dumps(patch, JSON_COMPACT | JSON_SORT_KEYS);
        if (o->s)
            snprintf(path, sizeof(path), "/v1/sched");
        else
            snprintf(path, sizeof(path), "/v1/domains/%s/sched", esc);
        if (!body) {
            snprintf(err, sizeof(err), "%s", strerror(ENOMEM));
            rc = -1;
        } else if (fvc_json(h, "PATCH", path, body, strlen(body), NULL, &j, err, sizeof(err))) {
            rc = -1;
        }
        if (rc)
            fvv_fail(c, h->url, "%s", err);
        free(body);
        json_decref(j);
    }
    json_decref(hd);
    return rc;
}

int fvv_cmd_sched(struct fvv_ctx *c, int argc, char **argv)
{
    const struct sched_verb *sv = !strcmp(c->verb, "sched-credit") ? &sched_verbs[0] :
                                  !strcmp(c->verb, "sched-credit2") ? &sched_verbs[1] :
                                  &sched_verbs[2];
    struct fvv_sched_opts o = { 0 };
    int st = sched_parse(c, sv, argc, argv, &o);
    if (st >= 0 || (st = fvv_setup_hosts(c)) >= 0)
        return st;
    json_t *patch = fvv_sched_patch(sv->pol, &o);
    char *esc = fvc_escape(o.dom ? o.dom : "");
    if (!esc) {
        json_decref(patch);
        fvv_fail(c, NULL, "%s", strerror(ENOMEM));
        return FVC_EXIT_FAIL;
    }
    int rc = 0;
    for (int i = 0; i < c->hosts.n; i++)
        if (sched_on_host(c, &c->hosts.v[i], sv->pol, &o, patch, esc))
            rc = FVC_EXIT_FAIL;
    free(esc);
    json_decref(patch);
    return rc;
}
