/* scenario_yaml.c — writing the fully resolved scenario (DESIGN §7's
 * scenario.yaml): every default filled in, replicas expanded, arinc653
 * windows by domain name, durations and sizes in exact units, every vif's
 * MAC and IP, every vbd's resolved image path. Domain-0 is not among the
 * domains (the loader adds it again); `dom0:` holds its parameters. Loading what this writes gives the same
 * struct scenario; tests/test_scenario.c and test_scenario_net.c check that
 * round trip.
 *
 * Written with stdio rather than libyaml's emitter: the output is a fixed
 * shape, and this keeps its layout (one key per line, flow lists for short
 * ones) readable in a results directory.
 */
#include "scenario_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* Names are written double-quoted so no YAML reader takes a name such as
 * "true" or "1e3" for a boolean or a number; escapes keep any byte safe. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(f, "\\x%02x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void put_ns(FILE *f, const char *indent, const char *key, fv_ns_t ns)
{
    char b[SCN_FMT_MAX];
    fprintf(f, "%s%s: %s\n", indent, key, scn_format_duration(ns, b, sizeof(b)));
}

/* The name of domain `id`, or NULL. Once loaded, guest ids are 1.. in
 * order and Domain-0 (id 0) is at s->dom0; a scenario built otherwise is
 * searched. */
static const char *domain_name(const struct scenario *s, int64_t id)
{
    if (id >= 1 && id <= s->nr_domains && s->domains[id - 1].id == id)
        return s->domains[id - 1].name;
    if (id == 0 && s->dom0 >= 0 && s->dom0 < s->nr_domains && s->domains[s->dom0].id == 0)
        return s->domains[s->dom0].name;
    for (int k = 0; k < s->nr_domains; k++)
        if (s->domains[k].id == id)
            return s->domains[k].name;
    return NULL;
}

static void put_sched(FILE *f, const struct scenario *s)
{
    const struct sched_ops *ops = s->policy;
    fprintf(f, "sched:\n  policy: %s\n  chargeback: %s\n", ops->name,
            s->chargeback ? "on" : "off");
    for (const struct sched_param_desc *d = ops->global_params; d && d->name; d++) {
        const struct scn_gp_field *g = scn_gp_field_find(d->name);
        if (g) {
            fv_ns_t v;
            memcpy(&v, (const char *)&s->gp + g->off, sizeof(v));
            put_ns(f, "  ", d->name, v);
        }
    }
    if (!scn_policy_has_windows(ops))
        return;
    fprintf(f, "  windows:%s\n", s->gp.nr_windows ? "" : " []");
    for (int i = 0; i < s->gp.nr_windows; i++) {
        const struct sched_window *w = &s->gp.windows[i];
        char b[SCN_FMT_MAX];
        const char *name = domain_name(s, w->domid);
        fputs("    - { domain: ", f);
        put_quoted(f, name ? name : "?");
        fprintf(f, ", length: %s }\n", scn_format_duration(w->length, b, sizeof(b)));
    }
}

static void put_pin(FILE *f, const struct scn_domain *d)
{
    if (!d->pinned)
        return;
    fputs("    pin: [", f);
    const char *sep = "";
    cpumask_for_each(cpu, &d->pin) {
        fprintf(f, "%s%d", sep, cpu);
        sep = ", ";
    }
    fputs("]\n", f);
}

static void put_workload(FILE *f, const struct scenario *s, const struct scn_domain *d)
{
    const struct scn_workload *wl = &d->wl;
    fprintf(f, "    workload:\n      kind: %s\n", wl->desc->kind);
    for (int i = 0; wl->desc->params && wl->desc->params[i].name; i++) {
        const struct wl_param_desc *p = &wl->desc->params[i];
        int64_t v = wl->args.v[i];
        char b[SCN_FMT_MAX];
        const struct wl_peer_rule *r = scn_peer_rule(d, p->name);
        if (r && !r->kind)
            continue;       /* a role without a peer: the loader refuses one */
        fprintf(f, "      %s: ", p->name);
        if (r && r->host_ok && v == 0) {
            fputs("host\n", f);
            continue;
        }
        /* A peer by name: names are unique and the loader looks a name up
         * before an id, so this is the same domain on reload. */
        const char *peer = workload_peer_rules(wl->desc, p->name) ? domain_name(s, v) : NULL;
        if (peer) {
            put_quoted(f, peer);
            fputc('\n', f);
            continue;
        }
        switch (p->kind) {
        case WL_NS:
            fprintf(f, "%s\n", scn_format_duration(v, b, sizeof(b)));
            break;
        case WL_BYTES:
            fprintf(f, "%s\n", scn_format_size((uint64_t)v, b, sizeof(b)));
            break;
        case WL_BOOL:
            fprintf(f, "%s\n", v ? "true" : "false");
            break;
        case WL_ENUM:
            fprintf(f, "%s\n", p->choices[v]);
            break;
        default:
            fprintf(f, "%" PRId64 "\n", v);
            break;
        }
    }
}

static void put_domain(FILE *f, const struct scenario *s, const struct scn_domain *d)
{
    char b[SCN_FMT_MAX];
    fputs("  - name: ", f);
    put_quoted(f, d->name);
    if (d->group[0] && strcmp(d->group, d->name) != 0) {
        fputs("\n    group: ", f);
        put_quoted(f, d->group);
    }
    fprintf(f, "\n    vcpus: %d\n    memory: %s\n", d->vcpus,
            scn_format_size(d->memory, b, sizeof(b)));
    put_pin(f, d);
    fprintf(f, "    weight: %" PRIu32 "\n    cap: %" PRIu32 "\n", d->sp.weight, d->sp.cap);
    put_ns(f, "    ", "period", d->sp.period);
    put_ns(f, "    ", "budget", d->sp.budget);
    fprintf(f, "    extratime: %s\n", d->sp.extratime ? "true" : "false");
    put_workload(f, s, d);
    if (d->nr_vifs)
        fputs("    vifs:\n", f);
    for (int i = 0; i < d->nr_vifs; i++) {
        const struct scn_vif *v = &d->vifs[i];
        char m[SCN_FMT_MAX], ip[SCN_FMT_MAX], r[3 * SCN_FMT_MAX];
        static const uint8_t unset[6];   /* not resolved yet: the loader's auto */
        fprintf(f, "      - { mac: %s%s%s, ip: %s/%d, weight: %" PRIu32,
                memcmp(v->mac, unset, 6) ? "\"" : "",
                memcmp(v->mac, unset, 6) ? scn_format_mac(v->mac, m, sizeof(m)) : "auto",
                memcmp(v->mac, unset, 6) ? "\"" : "", scn_format_ipv4(v->ip, ip, sizeof(ip)),
                v->prefix, v->weight);
        if (v->rate_bytes)
            fprintf(f, ", rate: %s", scn_format_rate(v, r, sizeof(r)));
        fputs(" }\n", f);
    }
    if (d->nr_vbds)
        fputs("    vbds:\n", f);
    for (int i = 0; i < d->nr_vbds; i++) {
        const struct scn_vbd *v = &d->vbds[i];
        char p[2 * SCN_PATH_MAX];
        fprintf(f, "      - { size: %s, backend: %s", scn_format_size(v->size, b, sizeof(b)),
                v->backend == SCN_BLK_FILE ? "file" : "memory");
        if (v->backend == SCN_BLK_FILE) {
            fputs(", path: ", f);
            put_quoted(f, scn_escape_path(v->path, p, sizeof(p)));
        }
        /* As a vif's rate: reservation and limit only when set (0 = none);
         * 0 for weight or a depth (a scenario built by hand) is the default. */
        fprintf(f, ", weight: %" PRIu32, v->weight ? v->weight : 256);
        if (v->reservation)
            fprintf(f, ", reservation: %" PRIu64, v->reservation);
        if (v->limit)
            fprintf(f, ", limit: %" PRIu64, v->limit);
        fputs(" }\n", f);
    }
}

int scenario_write_domain_yaml(const struct scenario *s, const struct scn_domain *d, FILE *f)
{
    put_domain(f, s, d);
    return ferror(f) ? -EIO : 0;
}

/* netback: with every knob; nothing without a network (port SCN_NB_NONE),
 * so a CPU-only scenario reads as before. */
static void put_net(FILE *f, const struct scenario *s)
{
    static const char *const ports[] = { "none", "ring", "tap", "null" };
    const struct scn_netback *nb = &s->netback;
    if (nb->port == SCN_NB_NONE || (unsigned)nb->port > SCN_NB_NULL)
        return;
    char a[SCN_FMT_MAX];
    fprintf(f, "netback:\n  port: %s\n  cpu: %s\n  tap:\n    name: ", ports[nb->port],
            nb->cpu == SCN_NB_DEDICATED ? "dedicated" : "dom0");
    put_quoted(f, nb->tap_name);
    fprintf(f, "\n    address: %s/%d\n", scn_format_ipv4(nb->tap_ip, a, sizeof(a)),
            nb->tap_prefix);
    put_ns(f, "  ", "poll", nb->poll);
    fputs("  cost:\n", f);
    put_ns(f, "    ", "packet", nb->cost_packet);
    put_ns(f, "    ", "burst", nb->cost_burst);
    put_ns(f, "    ", "kib", nb->cost_kib);
    put_ns(f, "    ", "notify", nb->cost_notify);
    fprintf(f, "  fairness: %s\n", nb->fairness == SCN_NB_FAIR_DRR ? "drr" : "none");
}

/* blkback: with every knob, when any domain has a vbd. */
static void put_blk(FILE *f, const struct scenario *s)
{
    const struct scn_blkback *bb = &s->blkback;
    if (!bb->present)
        return;
    char a[SCN_FMT_MAX];
    fprintf(f, "blkback:\n  backend: %s\n  cpu: %s\n  qdepth: %u\n  fairness: %s\n  depth: %u\n"
            "  model:\n", bb->backend == SCN_BLK_FILE ? "file" : "memory",
            bb->cpu == SCN_NB_DEDICATED ? "dedicated" : "dom0", bb->qdepth,
            bb->fairness == SCN_BLK_FAIR_SFQ ? "sfq" : "none", bb->depth ? bb->depth : 16);
    put_ns(f, "    ", "latency", bb->latency);
    fprintf(f, "    bandwidth: %s/s\n    depth: %u\n  cost:\n",
            scn_format_size(bb->bandwidth, a, sizeof(a)), bb->model_depth ? bb->model_depth : 16);
    put_ns(f, "    ", "request", bb->cost_request);
    put_ns(f, "    ", "kib", bb->cost_kib);
}

/* Domain-0's parameters, when there is a Domain-0 (a vif or a vbd). */
static void put_dom0(FILE *f, const struct scenario *s)
{
    if (s->dom0 < 0 || s->dom0 >= s->nr_domains || !s->domains[s->dom0].is_dom0)
        return;
    const struct scn_domain *d = &s->domains[s->dom0];
    char a[SCN_FMT_MAX];
    fprintf(f, "dom0:\n  vcpus: %d\n  memory: %s\n  weight: %" PRIu32 "\n  cap: %" PRIu32 "\n",
            d->vcpus, scn_format_size(d->memory, a, sizeof(a)), d->sp.weight, d->sp.cap);
}

/* monitor: only when counters were asked for, so a scenario without them
 * reads as before; names quoted as domain names are. */
static void put_monitor(FILE *f, const struct scenario *s)
{
    if (s->nr_counters <= 0)
        return;
    fputs("monitor:\n  counters: [", f);
    for (int i = 0; i < s->nr_counters && i < FV_MAX_COUNTERS; i++) {
        fputs(i ? ", " : "", f);
        put_quoted(f, s->counters[i]);
    }
    fputs("]\n", f);
}

int scenario_write_yaml(const struct scenario *s, FILE *f)
{
    if (!s->policy || (!s->domains && s->nr_domains))
        return -EINVAL;
    fputs("# fully resolved: every default filled in, count replicas expanded\nname: ", f);
    put_quoted(f, s->name);
    fprintf(f, "\nengine: %s\n", s->engine);
    put_ns(f, "", "duration", s->duration);
    fprintf(f, "seed: %" PRIu64 "\nmode: %s\npcpus: %d\n", s->seed, s->mode, s->pcpus);
    put_ns(f, "", "sample", s->sample);
    fputs("starvation:\n", f);
    put_ns(f, "  ", "threshold", s->starvation_threshold);
    put_sched(f, s);
    put_net(f, s);
    put_blk(f, s);
    put_dom0(f, s);
    put_monitor(f, s);
    bool guests = false;            /* a live host starts with none */
    for (int i = 0; i < s->nr_domains; i++)
        guests |= !s->domains[i].is_dom0;
    fputs(guests ? "domains:\n" : "domains: []\n", f);
    for (int i = 0; i < s->nr_domains; i++)
        if (!s->domains[i].is_dom0)
            put_domain(f, s, &s->domains[i]);
    fflush(f);
    return ferror(f) ? -EIO : 0;
}
