/* scenario_peers.c — workload parameters that name another domain (a
 * `peer`): resolved, once `count` is expanded, from a domain name or id to
 * the domain id the workload receives, then checked against the rules the
 * workload registers (workloads/registry.c: the peer's kind and role,
 * whether it must name this domain back, which parameter may not exceed
 * the peer's vCPUs, whether `host` (the TAP's host side, id 0) will do,
 * whether a role has no peer at all).
 *
 * Peers are resolved before Domain-0 is appended, among the guests: ids
 * 1..nr_guests at indexes 0..nr_guests-1.
 */
#include "scenario_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The domain a peer value names, as an index in s->domains, or -1: the
 * domain of that name (after count expansion) first; else, when the value is
 * a plain decimal number, the domain with that id. So `peer: 2` keeps its
 * old meaning, domain id 2, unless a domain is named "2"; and the resolved
 * scenario.yaml, which writes names, means the same domain when loaded back. */
static int find_domain(const struct scenario *s, const struct name_ref *sorted, const char *v)
{
    int lo = 0, hi = s->nr_guests - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2, r = strcmp(v, sorted[mid].name);
        if (r == 0)
            return sorted[mid].idx;
        if (r < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    size_t len = strlen(v);
    if (len == 0 || len > 9 || strspn(v, "0123456789") != len)
        return -1;
    long id = strtol(v, NULL, 10);
    return id >= 1 && id <= s->nr_guests ? (int)id - 1 : -1;
}

/* Where a message about parameter `name` of domain i points: the value in
 * its workload: mapping; else (the default) the workload, or the domain. */
static int param_node(struct scn_ctx *c, int i, const char *name, bool *given)
{
    int dom = c->src[c->src_of[i]].node, wl = scn_map_get(c, dom, "workload");
    int at = scn_map_get(c, wl, name);
    *given = at != 0;
    return at ? at : wl ? wl : dom;
}

static int64_t role_of(const struct scn_domain *d)
{
    int r = workload_param_index(d->wl.desc, "role");
    return r >= 0 && d->wl.desc->params[r].kind == WL_ENUM ? d->wl.args.v[r] : -1;
}

/* "evtchn-ping with role server", "cpu-hog" */
static const char *running(const struct workload_desc *w, int64_t role, char *buf, size_t len)
{
    int r = workload_param_index(w, "role");
    if (r >= 0 && role >= 0 && w->params[r].kind == WL_ENUM)
        snprintf(buf, len, "%s with role %s", w->kind, w->params[r].choices[role]);
    else
        snprintf(buf, len, "%s", w->kind);
    return buf;
}

const struct wl_peer_rule *scn_peer_rule(const struct scn_domain *d, const char *param)
{
    for (const struct wl_peer_rule *r = workload_peer_rules(d->wl.desc, param);
         r && (r->kind || r->unused); r++)
        if (r->role < 0 || r->role == role_of(d))
            return r;
    return NULL;
}

/* " of domain NAME" for a count replica (they share one file position). */
static const char *of_replica(struct scn_ctx *c, int i, char *buf, size_t len)
{
    buf[0] = 0;
    if (c->src[c->src_of[i]].count)
        snprintf(buf, len, " of domain %s", c->s->domains[i].name);
    return buf;
}

/* Parameter p of domain i: resolve it to a domain id (in wl_args.v[p]). */
static int resolve_one(struct scn_ctx *c, const struct name_ref *sorted, int i, int p)
{
    struct scenario *s = c->s;
    struct scn_domain *d = &s->domains[i];
    const struct wl_param_desc *pd = &d->wl.desc->params[p];
    const struct wl_peer_rule *r = scn_peer_rule(d, pd->name);
    bool given, host_ok = r && r->host_ok;
    int at = param_node(c, i, pd->name, &given);
    char def[24], of[SCN_NAME_MAX + 16], want[128];
    const char *v = def;
    snprintf(def, sizeof(def), "%" PRId64, pd->def);
    if (given && scn_scalar(c, at, pd->name, "the name of another domain, or its id", &v))
        return -EINVAL;     /* checked when parsed: not reached */
    of_replica(c, i, of, sizeof(of));
    char what[SCN_ECHO_BUF + 32];   /* peer "web", or peer 1 (the default) */
    snprintf(what, sizeof(what), given ? "%s \"%s\"" : "%s %s (the default)", pd->name,
             SCN_ECHO(v));
    if (r && !r->kind) {    /* unused: the role has no peer */
        d->wl.args.v[p] = 0;
        return given ? scn_fail(c, at, "%s%s means nothing to %s (expected no %s: this role has "
                                "none)", what, of, running(d->wl.desc, role_of(d), want,
                                                           sizeof(want)), pd->name) : 0;
    }
    if (host_ok && strcmp(v, "host") == 0) {
        d->wl.args.v[p] = 0;    /* the TAP's host side: checked against netback.port later */
        return 0;
    }
    int k = find_domain(s, sorted, v);
    if (k < 0)
        return scn_fail(c, at, "%s%s is not a domain (expected the name of another domain, "
                        "%sits id 1..%d%s)", what, of, host_ok ? "" : "or ", s->nr_guests,
                        host_ok ? ", or host" : "");
    if (k == i)
        return scn_fail(c, at, "%s%s is this domain itself (expected another domain)", what, of);
    /* Written back by name, "host" would mean the TAP's host side. */
    if (host_ok && strcmp(s->domains[k].name, "host") == 0)
        return scn_fail(c, at, "%s%s is the domain named host, which this %s would read as the "
                        "TAP's host side (expected a domain with another name)", what, of,
                        pd->name);
    d->wl.args.v[p] = s->domains[k].id;
    return 0;
}

/* The rule of parameter p of domain i, once every peer is resolved. */
static int check_peer_rule(struct scn_ctx *c, int i, int p)
{
    struct scenario *s = c->s;
    const struct scn_domain *d = &s->domains[i];
    const struct wl_param_desc *pd = &d->wl.desc->params[p];
    const struct wl_peer_rule *r = scn_peer_rule(d, pd->name);
    /* No rule, no peer (unused), or the host (id 0: scn_check_net_peers). */
    if (!r || !r->kind || d->wl.args.v[p] == 0)
        return 0;
    const struct scn_domain *q = &s->domains[d->wl.args.v[p] - 1];     /* guest ids are 1.. in order */
    bool given;
    int at = param_node(c, i, pd->name, &given);
    char of[SCN_NAME_MAX + 16], want[128], have[128];
    of_replica(c, i, of, sizeof(of));
    const struct workload_desc *kind = workload_find(r->kind);
    if (!kind)
        return scn_fail(c, at, "workload %s names a peer kind %s that is not built in "
                        "(expected a kind of workload_kinds)", d->wl.desc->kind, r->kind);
    running(kind, r->peer_role, want, sizeof(want));
    if (q->wl.desc != kind || (r->peer_role >= 0 && role_of(q) != r->peer_role))
        return scn_fail(c, at, "%s %s%s runs %s (expected a domain running %s)", pd->name,
                        q->name, of, running(q->wl.desc, role_of(q), have, sizeof(have)), want);
    int qp = workload_param_index(q->wl.desc, pd->name);
    if (r->mutual && (qp < 0 || q->wl.args.v[qp] != d->id)) {
        /* The peer's own peer: resolved in the first pass when it names a
         * domain too (same kind); else shown as it is. */
        int64_t back = qp < 0 ? 0 : q->wl.args.v[qp];
        char other[SCN_NAME_MAX + 24] = "none";
        if (back >= 1 && back <= s->nr_guests)
            snprintf(other, sizeof(other), "%s", s->domains[back - 1].name);
        else if (qp >= 0)
            snprintf(other, sizeof(other), "%" PRId64, back);
        return scn_fail(c, at, "%s %s%s has %s %s (expected its %s to be %s: each side names the "
                        "other)", pd->name, q->name, of, pd->name, other, pd->name, d->name);
    }
    int pv = r->per_peer_vcpu ? workload_param_index(d->wl.desc, r->per_peer_vcpu) : -1;
    if (pv >= 0 && d->wl.args.v[pv] > q->vcpus) {
        const struct wl_param_desc *pp = &d->wl.desc->params[pv];
        int pat = param_node(c, i, pp->name, &given);
        return scn_fail(c, given ? pat : at, "%s %" PRId64 "%s is out of range (expected "
                        "%" PRId64 "..%d: %s %s has one %s per vCPU)", pp->name,
                        d->wl.args.v[pv], of, pp->min, q->vcpus, pd->name, q->name, pp->name);
    }
    return 0;
}

/* Resolve every peer parameter to a domain id, then check the rules (which
 * may look at the peer's own peer, hence two passes). */
int scn_resolve_peers(struct scn_ctx *c, const struct name_ref *sorted)
{
    struct scenario *s = c->s;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < s->nr_domains; i++) {
            const struct workload_desc *w = s->domains[i].wl.desc;
            for (int p = 0; w->params && w->params[p].name; p++) {
                if (!workload_peer_rules(w, w->params[p].name))
                    continue;
                int rc = pass == 0 ? resolve_one(c, sorted, i, p) : check_peer_rule(c, i, p);
                if (rc)
                    return rc;
            }
        }
    return 0;
}

/* Once netback is known: `host` needs the TAP port; the peer of a network
 * workload sends and receives on its vifs. */
int scn_check_net_peers(struct scn_ctx *c)
{
    static const char *const ports[] = { "none", "ring", "tap", "null" };
    struct scenario *s = c->s;
    for (int i = 0; i < s->nr_guests; i++) {
        const struct scn_domain *d = &s->domains[i];
        for (int p = 0; d->wl.desc->params && d->wl.desc->params[p].name; p++) {
            const char *name = d->wl.desc->params[p].name;
            const struct wl_peer_rule *r = scn_peer_rule(d, name);
            if (!r || !r->kind)
                continue;
            int64_t id = d->wl.args.v[p];
            bool given;
            int at = param_node(c, i, name, &given);
            char of[SCN_NAME_MAX + 16];
            of_replica(c, i, of, sizeof(of));
            if (id == 0 && s->netback.port != SCN_NB_TAP)
                return scn_fail(c, at, "%s host%s is the host side of the TAP port, but "
                                "netback.port is %s (expected netback.port: tap, or a domain)",
                                name, of, ports[s->netback.port]);
            const struct scn_domain *q = id >= 1 && id <= s->nr_guests ? &s->domains[id - 1]
                                                                         : NULL;
            if (q && scn_is_net_kind(d->wl.desc) && q->nr_vifs == 0)
                return scn_fail(c, at, "%s %s%s has no vif (expected a domain with vifs: %s "
                                "talks to its first)", name, q->name, of, d->wl.desc->kind);
        }
    }
    return 0;
}
