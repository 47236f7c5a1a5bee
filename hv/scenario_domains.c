/* scenario_domains.c — the scenario keys that depend on other keys: `sched`
 * (whose keys are the chosen policy's schema), `domains` (count expansion,
 * ranges from the policy's per-domain schema, workloads by their own
 * schema; the domains they name are resolved in scenario_peers.c), arinc653
 * windows (which name domains), and the policy's own checks of the result.
 */
#include "scenario_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The shortest window, and frame: Xen's minimum timer. A window of 1ns ran
 * the virtual-time engine 76 times slower than real time (a reschedule per
 * window) and means nothing on real hardware. */
#define MIN_WINDOW FV_US(100)
#define MIN_WINDOW_WHY "Xen's minimum timer"

/* ---- sched ---------------------------------------------------------------- */

const struct scn_gp_field scn_gp_fields[] = {
    { "tslice", offsetof(struct sched_global_params, tslice) },
    { "ratelimit", offsetof(struct sched_global_params, ratelimit) },
    { "frame", offsetof(struct sched_global_params, frame) },
    { "boost", offsetof(struct sched_global_params, boost) },
    { "dom0_budget", offsetof(struct sched_global_params, dom0_budget) },
    { "dom0_period", offsetof(struct sched_global_params, dom0_period) },
    { NULL, 0 },
};

const struct scn_gp_field *scn_gp_field_find(const char *name)
{
    for (const struct scn_gp_field *g = scn_gp_fields; g->name; g++)
        if (strcmp(g->name, name) == 0)
            return g;
    return NULL;
}

/* arinc653's windows are a list, which a flat param schema cannot describe:
 * a policy takes them when its schema has `frame` (or names `windows`). */
bool scn_policy_has_windows(const struct sched_ops *ops)
{
    return sched_param_find(ops->global_params, "frame") ||
           sched_param_find(ops->global_params, "windows");
}

static int parse_nothing(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)c, (void)f, (void)node, (void)obj;
    return 0;       /* resolved before the table was built */
}

static int note_windows(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f, (void)obj;
    c->windows_node = node;     /* resolved once the domains are known */
    return 0;
}

/* A key another policy takes: name the policy rather than say "unknown",
 * since the usual cause is a changed policy (sched.policy=rtds). */
static int sched_unknown(struct scn_ctx *c, const struct scn_mapping *m, int key, const char *name)
{
    for (int i = 0; sched_policies[i]; i++) {
        const struct sched_ops *o = sched_policies[i];
        if (sched_param_find(o->global_params, name) ||
            (strcmp(name, "windows") == 0 && scn_policy_has_windows(o))) {
            char keys[512];
            return scn_fail(c, key, "%s is not a parameter of policy %s (expected one of: %s)",
                            name, c->s->policy->name, scn_keys_list(m, keys, sizeof(keys)));
        }
    }
    return scn_unknown_key(c, m, key, name);
}

/* The sched: table of a policy: policy, its schema's keys, windows. */
static int sched_fields(struct scn_ctx *c, const struct sched_ops *ops, struct scn_field *fields,
                        int *n)
{
    fields[0] = (struct scn_field){ .name = "policy", .type = SCN_T_CUSTOM, .parse = parse_nothing };
    *n = 1;
    for (const struct sched_param_desc *d = ops->global_params; d && d->name; d++) {
        if (strcmp(d->name, "windows") == 0)
            continue;
        const struct scn_gp_field *g = scn_gp_field_find(d->name);
        if (!g || d->kind != SCHED_PARAM_NS || *n >= SCN_MAX_FIELDS - 1)
            return scn_fail(c, c->sched_node, "policy %s has a parameter %s that the scenario "
                            "loader cannot store (expected a duration named tslice, ratelimit "
                            "or frame)", ops->name, d->name);
        fields[(*n)++] = (struct scn_field){
            .name = d->name, .type = SCN_T_NS, .off = offsetof(struct scenario, gp) + g->off,
            .size = sizeof(fv_ns_t), .min = d->min, .max = d->max,
        };
    }
    if (scn_policy_has_windows(ops))
        fields[(*n)++] = (struct scn_field){ .name = "windows", .type = SCN_T_CUSTOM,
                                             .parse = note_windows };
    /* Every policy: charge-back is the core's (one that cannot charge says so). */
    fields[(*n)++] = (struct scn_field){ .name = "chargeback", .type = SCN_T_BOOL,
                                         SCN_FLD(struct scenario, chargeback) };
    return 0;
}

static int unknown_policy(struct scn_ctx *c, int node, const char *v)
{
    char list[256] = "";
    for (int i = 0; sched_policies[i]; i++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", sched_policies[i]->name);
    }
    return scn_fail(c, node, "unknown policy \"%s\" (expected one of: %s)", SCN_ECHO(v), list);
}

int scn_parse_sched(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    struct scenario *s = obj;
    c->sched_node = node;
    int pol = scn_map_get(c, node, "policy");
    if (pol) {
        const char *v;
        int rc = scn_scalar(c, pol, "policy", "a policy name such as credit", &v);
        if (rc)
            return rc;
        if (!(s->policy = sched_find(v)))
            return unknown_policy(c, pol, v);
        sched_global_defaults(s->policy, &s->gp);
        s->chargeback = s->policy->chargeback;
    }
    struct scn_field fields[SCN_MAX_FIELDS];
    int n, rc = sched_fields(c, s->policy, fields, &n);
    if (rc)
        return rc;
    struct scn_mapping m = { "sched", "sched: { policy: NAME, ... }", fields, n, sched_unknown };
    rc = scn_parse_mapping(c, &m, node, s);
    /* frame: 0 (the sum of the windows) or at least MIN_WINDOW. The policy
     * would refuse a frame shorter than its windows anyway, but not say why. */
    if (rc == 0 && scn_policy_has_windows(s->policy) && s->gp.frame > 0 &&
        s->gp.frame < MIN_WINDOW) {
        char a[SCN_FMT_MAX], b[SCN_FMT_MAX];
        return scn_fail(c, scn_map_get(c, node, "frame"), "frame %s is out of range (expected 0 "
                        "for the sum of the windows, or a duration >= %s: %s)",
                        scn_format_duration(s->gp.frame, a, sizeof(a)),
                        scn_format_duration(MIN_WINDOW, b, sizeof(b)), MIN_WINDOW_WHY);
    }
    return rc;
}

/* ---- arinc653 windows ------------------------------------------------------ */

static int parse_window_domain(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    struct sched_window *w = obj;
    const char *v;
    int rc = scn_scalar(c, node, f->name, "a domain name", &v);
    if (rc)
        return rc;
    const struct scenario *s = c->s;
    for (int i = 0; i < s->nr_domains; i++)
        if (strcmp(s->domains[i].name, v) == 0)
            return w->domid = s->domains[i].id, 0;
    return scn_fail(c, node, "unknown domain \"%s\" in window (expected the name of a domain "
                    "after count expansion, such as %s)", SCN_ECHO(v), s->domains[0].name);
}

int scn_parse_windows(struct scn_ctx *c)
{
    static const struct scn_field fields[] = {
        { .name = "domain", .type = SCN_T_CUSTOM, .parse = parse_window_domain,
          .absent = scn_missing, .hint = "domain: NAME" },
        { .name = "length", .type = SCN_T_NS, SCN_FLD(struct sched_window, length),
          .min = MIN_WINDOW, .max = INT64_MAX, .absent = scn_missing,
          .hint = "length: DURATION such as 5ms", .why = MIN_WINDOW_WHY },
    };
    static const struct scn_mapping m = { "window", "{ domain: NAME, length: DURATION }",
                                          fields, 2, NULL };
    if (!c->windows_node)
        return 0;
    yaml_node_t *n = scn_node(c, c->windows_node);
    if (n->type != YAML_SEQUENCE_NODE)
        return scn_fail(c, c->windows_node, "windows is not a list "
                        "(expected a list such as [{ domain: NAME, length: 5ms }])");
    long nr = n->data.sequence.items.top - n->data.sequence.items.start;
    if (nr > SCHED_MAX_WINDOWS)
        return scn_fail(c, c->windows_node, "windows has %ld entries (expected at most %d)", nr,
                        SCHED_MAX_WINDOWS);
    struct sched_global_params *gp = &c->s->gp;
    for (long i = 0; i < nr; i++) {
        struct sched_window w = { 0 };
        int rc = scn_parse_mapping(c, &m, scn_node(c, c->windows_node)->data.sequence.items.start[i],
                                   &w);
        if (rc)
            return rc;
        gp->windows[i].domid = w.domid;
        gp->windows[i].length = w.length;
    }
    gp->nr_windows = (int)nr;
    return 0;
}

/* ---- workloads ------------------------------------------------------------ */

static int kind_error(struct scn_ctx *c, int node, const char *v)
{
    char list[256] = "";
    for (int i = 0; workload_kinds[i]; i++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", workload_kinds[i]->kind);
    }
    if (!v)
        return scn_fail(c, node, "missing key \"kind\" in workload (expected kind: one of %s)", list);
    return scn_fail(c, node, "unknown workload kind \"%s\" (expected one of: %s)", SCN_ECHO(v),
                    list);
}

static void workload_defaults(struct scn_workload *wl, const struct workload_desc *desc)
{
    memset(wl, 0, sizeof(*wl));
    wl->desc = desc;
    for (int i = 0; desc->params && desc->params[i].name; i++)
        wl->args.v[i] = desc->params[i].def;
}

/* A parameter naming a domain: only its text is checked here; it is
 * resolved once the domains are expanded (resolve_peers). */
static int parse_peer_text(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)obj;
    const char *v;
    int rc = scn_scalar(c, node, f->name, "the name of another domain, or its id", &v);
    if (rc == 0 && !*v)
        rc = scn_fail(c, node, "%s is empty (expected the name of another domain, or its id)",
                      f->name);
    return rc;
}

/* The workload: table of a kind, from its schema. */
static int workload_fields(struct scn_ctx *c, int node, const struct workload_desc *w,
                           struct scn_field *fields, int *n)
{
    static const enum scn_ftype types[] = {
        [WL_NS] = SCN_T_NS, [WL_BYTES] = SCN_T_SIZE, [WL_INT] = SCN_T_INT,
        [WL_BOOL] = SCN_T_BOOL, [WL_ENUM] = SCN_T_ENUM,
    };
    fields[0] = (struct scn_field){ .name = "kind", .type = SCN_T_CUSTOM, .parse = parse_nothing };
    *n = 1;
    for (int i = 0; w->params && w->params[i].name; i++) {
        const struct wl_param_desc *p = &w->params[i];
        if (i >= WL_MAX_PARAMS || *n >= SCN_MAX_FIELDS)
            return scn_fail(c, node, "workload %s has more parameters than the loader can hold "
                            "(expected at most %d)", w->kind, WL_MAX_PARAMS);
        bool peer = workload_peer_rules(w, p->name) != NULL;
        if (peer && p->kind != WL_INT)
            return scn_fail(c, node, "workload %s has a peer parameter %s that is not WL_INT "
                            "(expected the domain id to be stored as an integer)", w->kind,
                            p->name);
        fields[(*n)++] = (struct scn_field){
            .name = p->name, .type = peer ? SCN_T_CUSTOM : types[p->kind],
            .off = offsetof(struct scn_dom_tmpl, d.wl.args.v) + (size_t)i * sizeof(int64_t),
            .size = sizeof(int64_t), .min = p->min, .max = p->max, .choices = p->choices,
            .parse = peer ? parse_peer_text : NULL,
        };
    }
    return 0;
}

static int parse_workload(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    struct scn_dom_tmpl *t = obj;
    yaml_node_t *n = scn_node(c, node);
    if (n->type == YAML_SEQUENCE_NODE)
        return scn_fail(c, node, "workload is a list (expected workload: { kind: NAME, ... })");
    /* `workload: cpu-hog` is shorthand for { kind: cpu-hog }. */
    int kn = n->type == YAML_SCALAR_NODE ? node : scn_map_get(c, node, "kind");
    const char *v;
    if (!kn)
        return kind_error(c, node, NULL);
    int rc = scn_scalar(c, kn, "kind", "a workload kind such as cpu-hog", &v);
    if (rc)
        return rc;
    const struct workload_desc *w = workload_find(v);
    if (!w)
        return kind_error(c, kn, v);
    workload_defaults(&t->d.wl, w);
    if (kn == node)
        return 0;
    struct scn_field fields[SCN_MAX_FIELDS];
    int nf;
    if ((rc = workload_fields(c, node, w, fields, &nf)))
        return rc;
    char what[80];
    snprintf(what, sizeof(what), "workload %s", w->kind);
    struct scn_mapping m = { what, "workload: { kind: NAME, ... }", fields, nf, NULL };
    return scn_parse_mapping(c, &m, node, t);
}

static int default_workload(struct scn_ctx *c, const struct scn_field *f, int map, void *obj)
{
    (void)f;
    struct scn_dom_tmpl *t = obj;
    const struct workload_desc *idle = workload_find("idle");
    if (!idle)
        return scn_fail(c, map, "workload idle is not built in (expected the default workload)");
    workload_defaults(&t->d.wl, idle);
    return 0;
}

/* ---- one domain ----------------------------------------------------------- */

static int parse_dom_name(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    struct scn_dom_tmpl *t = obj;
    const char *v;
    int rc = scn_scalar(c, node, f->name, "a name of letters, digits, _ . or -", &v);
    return rc ? rc : scn_copy_name(c, node, "name", v, t->d.name, sizeof(t->d.name));
}

static int pin_one(struct scn_ctx *c, int node, struct scn_dom_tmpl *t)
{
    struct scn_field cpu = { .name = "pin", .type = SCN_T_INT, .off = 0, .size = sizeof(int64_t),
                             .min = 0, .max = c->s->pcpus - 1 };
    int64_t v;
    int rc = scn_parse_field(c, &cpu, node, &v);
    if (rc == 0)
        cpumask_set(&t->d.pin, (int)v);
    return rc;
}

static int parse_pin(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    struct scn_dom_tmpl *t = obj;
    yaml_node_t *n = scn_node(c, node);
    t->d.pinned = true;
    cpumask_clear_all(&t->d.pin);
    if (n->type == YAML_SCALAR_NODE)
        return pin_one(c, node, t);
    if (n->type != YAML_SEQUENCE_NODE)
        return scn_fail(c, node, "pin is a mapping (expected a list of pCPU indices such as [0, 1])");
    long nr = n->data.sequence.items.top - n->data.sequence.items.start;
    if (nr == 0)
        return scn_fail(c, node, "pin is empty (expected at least one pCPU index 0..%d)",
                        c->s->pcpus - 1);
    for (long i = 0; i < nr; i++) {
        int rc = pin_one(c, scn_node(c, node)->data.sequence.items.start[i], t);
        if (rc)
            return rc;
    }
    return 0;
}

/* `group: NAME`: the group the entry's domains are drawn and compared in
 * (default: the entry's name, so that `count` replicas are one group). The
 * resolved scenario.yaml writes it on each replica, so that running it
 * again keeps the groups. */
static int parse_group(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    struct scn_dom_tmpl *t = obj;
    const char *v;
    int rc = scn_scalar(c, node, "group", "a name of letters, digits, _ . or -", &v);
    return rc ? rc : scn_copy_name(c, node, "group", v, t->d.group, sizeof(t->d.group));
}

static const struct scn_field dom_base[] = {
    { .name = "name", .type = SCN_T_CUSTOM, .parse = parse_dom_name, .absent = scn_missing,
      .hint = "name: NAME in every domain" },
    { .name = "group", .type = SCN_T_CUSTOM, .parse = parse_group },
    { .name = "count", .type = SCN_T_INT, SCN_FLD(struct scn_dom_tmpl, count), .min = 1,
      .max = INT64_MAX },
    { .name = "vcpus", .type = SCN_T_INT, SCN_FLD(struct scn_dom_tmpl, d.vcpus), .min = 1,
      .max = SCN_MAX_VCPUS },
    { .name = "memory", .type = SCN_T_SIZE, SCN_FLD(struct scn_dom_tmpl, d.memory), .min = 1 << 20,
      .max = INT64_MAX },
    { .name = "pin", .type = SCN_T_CUSTOM, .parse = parse_pin },
    { .name = "weight", .type = SCN_T_INT, SCN_FLD(struct scn_dom_tmpl, d.sp.weight),
      .min = SCHED_MIN_WEIGHT, .max = SCHED_MAX_WEIGHT },
    /* cap <= 100 x vcpus is checked once vcpus is known (check_spans). */
    { .name = "cap", .type = SCN_T_INT, SCN_FLD(struct scn_dom_tmpl, d.sp.cap), .min = 0,
      .max = 100 * SCN_MAX_VCPUS },
    { .name = "period", .type = SCN_T_NS, SCN_FLD(struct scn_dom_tmpl, d.sp.period),
      .min = SCHED_RTDS_MIN_SPAN, .max = INT64_MAX },
    { .name = "budget", .type = SCN_T_NS, SCN_FLD(struct scn_dom_tmpl, d.sp.budget),
      .min = SCHED_RTDS_MIN_SPAN, .max = INT64_MAX },
    { .name = "extratime", .type = SCN_T_BOOL, SCN_FLD(struct scn_dom_tmpl, d.sp.extratime) },
    { .name = "workload", .type = SCN_T_CUSTOM, .parse = parse_workload,
      .absent = default_workload },
    /* After workload: a network workload gets a vif by default, a blk-*
     * workload a vbd. */
    { .name = "vifs", .type = SCN_T_CUSTOM, .parse = scn_parse_vifs,
      .absent = scn_default_vifs },
    { .name = "vbds", .type = SCN_T_CUSTOM, .parse = scn_parse_vbds,
      .absent = scn_default_vbds },
};
#define NR_DOM_FIELDS ((int)(sizeof(dom_base) / sizeof(dom_base[0])))

/* Every policy's per-domain keys are accepted whatever the policy, so one
 * file can be run under each policy (--set sched.policy=...); the chosen
 * policy's schema supplies the ranges of the keys it reads. */
static void dom_fields(const struct sched_ops *ops, struct scn_field *fields)
{
    static const enum sched_param_kind kinds[] = {
        [SCN_T_INT] = SCHED_PARAM_INT, [SCN_T_NS] = SCHED_PARAM_NS, [SCN_T_BOOL] = SCHED_PARAM_BOOL,
    };
    const size_t sp_lo = offsetof(struct scn_dom_tmpl, d.sp);
    const size_t sp_hi = sp_lo + sizeof(struct sched_dom_params);
    for (int i = 0; i < NR_DOM_FIELDS; i++) {
        fields[i] = dom_base[i];
        bool sched_key = fields[i].type != SCN_T_CUSTOM && fields[i].type != SCN_T_LATER &&
                         fields[i].off >= sp_lo && fields[i].off < sp_hi;
        const struct sched_param_desc *d = sched_key ? sched_param_find(ops->dom_params,
                                                                        fields[i].name) : NULL;
        if (d && d->kind == kinds[fields[i].type] && d->kind != SCHED_PARAM_BOOL) {
            fields[i].min = d->min;
            fields[i].max = d->max;
        }
    }
}

static int check_spans(struct scn_ctx *c, int node, const struct scn_dom_tmpl *t)
{
    const struct sched_dom_params *p = &t->d.sp;
    if (p->cap > 100u * (unsigned)t->d.vcpus) {
        int at = scn_map_get(c, node, "cap");
        return scn_fail(c, at, "cap %" PRIu32 " is out of range (expected 0..%d for %d vcpus)",
                        p->cap, 100 * t->d.vcpus, t->d.vcpus);
    }
    if (p->budget > p->period) {
        int at = scn_map_get(c, node, "budget");
        char b[SCN_FMT_MAX], q[SCN_FMT_MAX];
        return scn_fail(c, at ? at : scn_map_get(c, node, "period"),
                        "budget %s exceeds period %s (expected budget <= period)",
                        scn_format_duration(p->budget, b, sizeof(b)),
                        scn_format_duration(p->period, q, sizeof(q)));
    }
    return 0;
}

static int parse_one(struct scn_ctx *c, const struct scn_mapping *m, int node, struct scn_dom_tmpl *t)
{
    memset(t, 0, sizeof(*t));
    t->d.vcpus = 1;
    t->d.memory = 64ULL << 20;
    sched_dom_defaults(&t->d.sp);
    int rc = scn_parse_mapping(c, m, node, t);
    return rc ? rc : check_spans(c, node, t);
}

/* ---- count expansion and names ----------------------------------------------- */

/* The totals so far with entry t (mapping `item`) added: at most
 * SCN_MAX_DOMAINS domains and SCN_MAX_TOTAL_VCPUS vCPUs, checked entry by
 * entry before anything is expanded, so that `count: 2147483647` is refused
 * where it is written rather than by running out of memory. */
static int check_totals(struct scn_ctx *c, int item, const struct scn_dom_tmpl *t, int64_t *doms,
                        int64_t *vcpus)
{
    int64_t n = t->count ? t->count : 1;
    int cn = scn_map_get(c, item, "count");
    if (n > SCN_MAX_DOMAINS - *doms) {
        uint64_t total = (uint64_t)*doms + (uint64_t)n;     /* count <= INT64_MAX: fits */
        char what[SCN_NAME_MAX + 32];
        if (t->count)
            snprintf(what, sizeof(what), "count %" PRId64, t->count);
        else
            snprintf(what, sizeof(what), "domain %s", t->d.name);
        return scn_fail(c, cn ? cn : item, "%s makes %" PRIu64 " domains (expected at most %d "
                        "domains in all, Xen's limit: domain ids 1..%d)", what, total,
                        SCN_MAX_DOMAINS, SCN_MAX_DOMAINS);
    }
    *doms += n;
    int64_t v = n * t->d.vcpus;     /* <= SCN_MAX_DOMAINS x SCN_MAX_VCPUS */
    if (v > SCN_MAX_TOTAL_VCPUS - *vcpus) {
        int vn = scn_map_get(c, item, "vcpus");
        char what[64];
        if (t->count)
            snprintf(what, sizeof(what), "count %" PRId64 " with vcpus %d", t->count, t->d.vcpus);
        else
            snprintf(what, sizeof(what), "vcpus %d", t->d.vcpus);
        return scn_fail(c, cn ? cn : vn ? vn : item, "%s makes %" PRId64 " vCPUs (expected at "
                        "most %d vCPUs in all: each is an execution context with a stack of "
                        "its own)", what, *vcpus + v, SCN_MAX_TOTAL_VCPUS);
    }
    *vcpus += v;
    return 0;
}

static int expand(struct scn_ctx *c, const struct scn_dom_tmpl *t, int n)
{
    struct scenario *s = c->s;
    int64_t total = 0;
    for (int i = 0; i < n; i++)
        total += t[i].count ? t[i].count : 1;   /* <= SCN_MAX_DOMAINS: check_totals */
    s->domains = calloc((size_t)total, sizeof(*s->domains));
    c->src_of = calloc((size_t)total, sizeof(*c->src_of));
    if (!s->domains || !c->src_of)
        return scn_oom(c);
    s->nr_domains = (int)total;     /* zeroed: scenario_free frees what is copied on an error */
    int k = 0;
    for (int i = 0; i < n; i++) {
        char last[SCN_NAME_MAX + 24];
        if (t[i].count && snprintf(last, sizeof(last), "%s-%" PRId64, t[i].d.name,
                                   t[i].count - 1) >= SCN_NAME_MAX)
            return scn_fail(c, c->src[i].name_node, "name \"%s\" with count %" PRId64 " gives "
                            "\"%s\", which is too long (expected at most %d characters)",
                            t[i].d.name, t[i].count, last, SCN_NAME_MAX - 1);
        for (int64_t r = 0; r < (t[i].count ? t[i].count : 1); r++, k++) {
            s->domains[k] = t[i].d;
            s->domains[k].vifs = NULL;
            s->domains[k].vbds = NULL;
            size_t vb = (size_t)t[i].d.nr_vifs * sizeof(struct scn_vif);
            size_t db = (size_t)t[i].d.nr_vbds * sizeof(struct scn_vbd);
            if ((vb && !(s->domains[k].vifs = malloc(vb))) ||
                (db && !(s->domains[k].vbds = malloc(db))))
                return scn_oom(c);
            if (vb)
                memcpy(s->domains[k].vifs, t[i].d.vifs, vb);
            if (db)
                memcpy(s->domains[k].vbds, t[i].d.vbds, db);
            if (t[i].count) {
                /* Fits: the longest replica name was checked above. */
                snprintf(last, sizeof(last), "%s-%" PRId64, t[i].d.name, r);
                memcpy(s->domains[k].name, last, SCN_NAME_MAX - 1);
                s->domains[k].name[SCN_NAME_MAX - 1] = '\0';
            }
            if (!s->domains[k].group[0])
                memcpy(s->domains[k].group, t[i].d.name, sizeof(s->domains[k].group));
            s->domains[k].id = k + 1;
            c->src_of[k] = i;
        }
    }
    s->nr_domains = s->nr_guests = k;   /* Domain-0 comes later (scn_net_finish) */
    s->dom0 = -1;
    return 0;
}

static int cmp_name_ref(const void *a, const void *b)
{
    const struct name_ref *x = a, *y = b;
    int r = strcmp(x->name, y->name);
    return r ? r : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Domain-0 is the control domain's name (scn_net_finish adds it when there
 * is a vif or a vbd; reserved always, so adding one never breaks a name).
 * i: a domain of that name. */
static int reserved_name(struct scn_ctx *c, int i)
{
    const struct scn_dom_src *src = &c->src[c->src_of[i]];
    if (src->count)     /* replica 0 of "Domain" */
        return scn_fail(c, src->name_node, "name \"Domain\" with count %" PRId64 " gives "
                        "\"Domain-0\", which is reserved for the control domain (expected "
                        "another name)", src->count);
    return scn_fail(c, src->name_node, "domain name \"Domain-0\" is reserved for the "
                    "control domain (expected another name)");
}

/* Names unique after expansion; sorted, so thousands of replicas are cheap.
 * The message points at the first domain (in file order) that repeats a
 * name used before it. *sorted: the names in order, for scn_resolve_peers
 * (the caller frees it). */
static int check_unique(struct scn_ctx *c, struct name_ref **sorted)
{
    struct scenario *s = c->s;
    struct name_ref *r = calloc((size_t)s->nr_domains, sizeof(*r));
    if (!r)
        return scn_oom(c);
    for (int i = 0; i < s->nr_domains; i++)
        r[i] = (struct name_ref){ s->domains[i].name, i };
    qsort(r, (size_t)s->nr_domains, sizeof(*r), cmp_name_ref);
    int dup = -1;
    for (int i = 1; i < s->nr_domains; i++)
        if (strcmp(r[i].name, r[i - 1].name) == 0 && (dup < 0 || r[i].idx < dup))
            dup = r[i].idx;
    for (int i = 0; i < s->nr_domains; i++)
        if (strcmp(r[i].name, "Domain-0") == 0) {     /* the first in file order: sorted so */
            int idx = r[i].idx;
            free(r);
            return reserved_name(c, idx);
        }
    if (dup < 0)
        return *sorted = r, 0;
    free(r);
    return scn_fail(c, c->src[c->src_of[dup]].name_node, "domain name \"%s\" is used twice "
                    "(expected unique names; count replicas are named NAME-0, NAME-1, ...)",
                    s->domains[dup].name);
}

int scn_domains_absent(struct scn_ctx *c, const struct scn_field *f, int map, void *obj)
{
    return c->host ? 0 : scn_missing(c, f, map, obj);
}

int scn_parse_domains(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f, (void)obj;
    yaml_node_t *n = scn_node(c, node);
    if (n->type != YAML_SEQUENCE_NODE)
        return scn_fail(c, node, "domains is %s (expected a list of domains, each - name: NAME)",
                        n->type == YAML_SCALAR_NODE ? "a single value" : "a mapping");
    int nr = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (nr == 0 && c->host)
        return 0;                   /* a live host's domains come later */
    if (nr == 0)
        return scn_fail(c, node, "domains is empty (expected at least one domain)");
    struct scn_field fields[NR_DOM_FIELDS];
    dom_fields(c->s->policy, fields);
    struct scn_mapping m = { "domain", "a mapping such as - name: web", fields, NR_DOM_FIELDS,
                             NULL };
    /* Every entry makes at least one domain, so check_totals refuses entry
     * SCN_MAX_DOMAINS (0-based) at the latest: no more are ever parsed. */
    int room = nr <= SCN_MAX_DOMAINS ? nr : SCN_MAX_DOMAINS + 1;
    struct scn_dom_tmpl *t = calloc((size_t)room, sizeof(*t));
    c->src = calloc((size_t)room, sizeof(*c->src));
    if (!t || !c->src) {
        free(t);
        return scn_oom(c);
    }
    int rc = 0;
    int64_t doms = 0, vcpus = 0;
    for (int i = 0; rc == 0 && i < nr; i++) {
        int item = scn_node(c, node)->data.sequence.items.start[i];
        c->src[i].node = item;
        c->src[i].name_node = scn_map_get(c, item, "name");
        c->nsrc = i + 1;
        rc = parse_one(c, &m, item, &t[i]);
        c->src[i].count = t[i].count;
        if (rc == 0)
            rc = check_totals(c, item, &t[i], &doms, &vcpus);
    }
    if (rc == 0)
        rc = expand(c, t, c->nsrc);
    for (int i = 0; i < c->nsrc; i++) {
        free(t[i].d.vifs);
        free(t[i].d.vbds);
    }
    free(t);
    struct name_ref *sorted = NULL;
    if (rc == 0)
        rc = check_unique(c, &sorted);
    if (rc == 0)
        rc = scn_resolve_peers(c, sorted);
    free(sorted);
    return rc;
}

/* ---- the policy's own checks ---------------------------------------------- */

static bool word_char(char ch)
{
    return ch == '_' || (ch >= '0' && ch <= '9') || ((ch | 32) >= 'a' && (ch | 32) <= 'z');
}

/* The key of mapping `map` that a policy's message is about: the one named
 * earliest in the message, as a whole word; else the mapping itself. */
static int blame(struct scn_ctx *c, int map, const char *msg)
{
    yaml_node_t *m = scn_node(c, map);
    if (!m || m->type != YAML_MAPPING_NODE)
        return map;
    int best = map;
    const char *best_at = NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *key = (const char *)scn_node(c, p->key)->data.scalar.value;
        size_t len = strlen(key);
        for (const char *at = strstr(msg, key); len && at; at = strstr(at + 1, key)) {
            bool word = (at == msg || !word_char(at[-1])) && !word_char(at[len]);
            if (word && (!best_at || at < best_at))
                best = p->value, best_at = at;
            if (word)
                break;
        }
    }
    return best;
}

int scn_check_policy(struct scn_ctx *c)
{
    const struct scenario *s = c->s;
    const struct sched_ops *ops = s->policy;
    char msg[512] = "";
    if (ops->check_global && ops->check_global(&s->gp, msg, sizeof(msg)))
        return scn_fail(c, blame(c, c->sched_node, msg), "%s", *msg ? msg :
                        "the policy refused its sched: parameters (expected values it accepts)");
    for (int i = 0; ops->check_dom && i < s->nr_domains; i++) {
        msg[0] = 0;
        /* Domain-0 has no entry of its own: its dom0: mapping, if any. */
        int node = i == s->dom0 ? (c->dom0_node ? c->dom0_node : c->root)
                                : c->src[c->src_of[i]].node;
        if (ops->check_dom(&s->domains[i].sp, msg, sizeof(msg)))
            return scn_fail(c, blame(c, node, msg), "%s", *msg ? msg :
                            "the policy refused this domain's parameters (expected values it "
                            "accepts)");
    }
    return 0;
}
