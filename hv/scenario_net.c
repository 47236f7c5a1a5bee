/* scenario_net.c — the scenario's network: each domain's `vifs`, the
 * `netback:` backend and `dom0:`, then what ties them together once every
 * domain is known: auto MACs and IPs, the checks no single value can make
 * (one MAC and one IP per vif, the TAP's subnet, netback's dedicated pCPU),
 * and Domain-0, the control domain that runs netback (and blkback:
 * scenario_blk.c), appended last when any domain has a vif or a vbd.
 *
 * Addresses are IPv4 in host byte order. An auto MAC is Xen's OUI 00:16:3e
 * followed by the domain id (16 bits) and the vif index (8 bits); auto IPs
 * are handed out upward from the TAP's subnet (198.18.0.0/24, or /15 past
 * 253 vifs: RFC 2544's benchmarking range), skipping the TAP address, the
 * .0 and .255 of every /24 and every address written explicitly.
 */
#include "scenario_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const struct workload_desc workload_netback;

#define TAP_NAME "fv0"
#define TAP_IP 0xc6120001u              /* 198.18.0.1 */
#define PREFIX_FEW 24
#define PREFIX_MANY 15
#define FEW_VIFS 253                    /* .2 .. .254 of one /24 */
/* A credit interval shorter than Xen's minimum timer would only make the
 * engines refill credit faster than any timer fires. */
#define RATE_MIN_INTERVAL FV_US(100)
#define RATE_EXPECT "RATE/s[@INTERVAL] such as 10Mbit/s@50ms, RATE in bit, kbit, Mbit, Gbit, " \
                    "B, KiB, MiB or GiB"
#define IP_EXPECT "auto, or A.B.C.D/PREFIX such as 198.18.0.2/24"
#define TAP_EXPECT "A.B.C.D/PREFIX such as 198.18.0.1/24"
#define MAC_EXPECT "auto, or six hex pairs such as 00:16:3e:00:01:00"

bool scn_is_net_kind(const struct workload_desc *w)
{
    return w && strncmp(w->kind, "net-", 4) == 0;
}

/* An address value (a vif's ip, the TAP's address) into ip/prefix. */
static int parse_address(struct scn_ctx *c, int node, const char *what, const char *expect,
                         const char *v, uint32_t *ip, int *prefix)
{
    int rc = scn_parse_ipv4(v, ip, prefix);
    if (rc == -2)
        return scn_fail(c, node, "%s \"%s\" has a bad prefix (expected /1 to /32 after the "
                        "address, such as /24)", what, SCN_ECHO(v));
    if (rc)
        return scn_fail(c, node, "%s \"%s\" is not an IPv4 address (expected %s)", what,
                        SCN_ECHO(v), expect);
    if (!scn_ip_unicast(*ip))
        return scn_fail(c, node, "%s %s is not a unicast address (expected a host address such "
                        "as 198.18.0.2/24)", what, SCN_ECHO(v));
    return 0;
}

/* ---- one vif -------------------------------------------------------------- */

static int hexval(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : (ch | 32) >= 'a' && (ch | 32) <= 'f'
                                                   ? (ch | 32) - 'a' + 10 : -1;
}

static int parse_mac(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    struct scn_vif *vif = obj;
    const char *v;
    int rc = scn_scalar(c, node, f->name, MAC_EXPECT, &v);
    if (rc)
        return rc;
    memset(vif->mac, 0, sizeof(vif->mac));
    if (strcmp(v, "auto") == 0)
        return 0;
    uint8_t m[6];
    for (int i = 0; i < 6; i++) {
        const char *p = v + 3 * i;
        /* Short-circuits at the NUL: never reads past the string. */
        if (hexval(p[0]) < 0 || hexval(p[1]) < 0 || p[2] != (i < 5 ? ':' : '\0'))
            return scn_fail(c, node, "mac \"%s\" is not a MAC address (expected %s)",
                            SCN_ECHO(v), MAC_EXPECT);
        m[i] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
    }
    if (m[0] & 1)
        return scn_fail(c, node, "mac %s is a multicast address (expected a unicast MAC: bit 0 "
                        "of the first byte clear)", v);
    static const uint8_t zero[6];
    if (memcmp(m, zero, sizeof(m)) == 0)
        return scn_fail(c, node, "mac %s is all zeros (expected a unicast MAC, or auto)", v);
    memcpy(vif->mac, m, sizeof(m));
    return 0;
}

static int parse_vif_ip(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    struct scn_vif *vif = obj;
    const char *v;
    int rc = scn_scalar(c, node, f->name, IP_EXPECT, &v), prefix = 0;
    if (rc)
        return rc;
    vif->ip = 0;
    vif->prefix = 0;
    if (strcmp(v, "auto") == 0)
        return 0;
    if ((rc = parse_address(c, node, "ip", IP_EXPECT, v, &vif->ip, &prefix)) == 0)
        vif->prefix = (uint8_t)prefix;
    return rc;
}

static int parse_vif_rate(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    struct scn_vif *vif = obj;
    const char *v;
    int rc = scn_scalar(c, node, f->name, RATE_EXPECT, &v);
    if (rc)
        return rc;
    struct scn_rate r;
    char a[SCN_FMT_MAX], b[SCN_FMT_MAX];
    switch (scn_parse_rate(v, &r)) {
    case SCN_POK:
        break;
    case SCN_PNEG:
        return scn_fail(c, node, "rate %s is negative (expected %s)", SCN_ECHO(v), RATE_EXPECT);
    case SCN_PRANGE:
        return scn_fail(c, node, "rate %s is out of range (expected %s, each part > 0)",
                        SCN_ECHO(v), RATE_EXPECT);
    case SCN_PFRAC:
        return scn_fail(c, node, "rate %s is not a whole number of bits (expected %s)",
                        SCN_ECHO(v), RATE_EXPECT);
    default:
        return scn_fail(c, node, "rate \"%s\" is not a rate (expected %s)", SCN_ECHO(v),
                        RATE_EXPECT);
    }
    if (r.bits == 0)
        return scn_fail(c, node, "rate %s is zero (expected a rate > 0: a vif without rate is "
                        "unlimited)", SCN_ECHO(v));
    if (r.interval < RATE_MIN_INTERVAL)
        return scn_fail(c, node, "rate %s credits every %s (expected @INTERVAL >= %s: Xen's "
                        "minimum timer)", SCN_ECHO(v), scn_format_duration(r.interval, a, sizeof(a)),
                        scn_format_duration(RATE_MIN_INTERVAL, b, sizeof(b)));
    uint64_t credit = scn_rate_credit(&r);
    if (!credit)
        return scn_fail(c, node, "rate %s is out of range (expected at most %" PRId64 " bytes "
                        "per interval)", SCN_ECHO(v), INT64_MAX / 8);
    vif->rate_bytes = credit;
    vif->rate_interval = r.interval;
    return 0;
}

static const struct scn_field vif_fields[] = {
    { .name = "mac", .type = SCN_T_CUSTOM, .parse = parse_mac },
    { .name = "ip", .type = SCN_T_CUSTOM, .parse = parse_vif_ip },
    { .name = "weight", .type = SCN_T_INT, SCN_FLD(struct scn_vif, weight), .min = 1,
      .max = 65535 },
    { .name = "rate", .type = SCN_T_CUSTOM, .parse = parse_vif_rate },
};

static const struct scn_mapping vif_map = {
    "vif", "a mapping such as { mac: auto, ip: auto, weight: 256, rate: 10Mbit/s }", vif_fields,
    sizeof(vif_fields) / sizeof(vif_fields[0]), NULL,
};

static struct scn_vif vif_defaults(void)
{
    return (struct scn_vif){ .weight = 256, .rate_interval = SCN_RATE_INTERVAL };
}

/* An explicit MAC or IP on an entry with count >= 2 would be every replica's. */
static int check_replicated(struct scn_ctx *c, int item, const struct scn_dom_tmpl *t,
                            const struct scn_vif *v)
{
    static const uint8_t zero[6];
    const char *key = memcmp(v->mac, zero, sizeof(zero)) ? "mac" : v->ip ? "ip" : NULL;
    if (t->count < 2 || !key)
        return 0;
    return scn_fail(c, scn_map_get(c, item, key), "%s on a domain with count %" PRId64 " would "
                    "be the same on every replica (expected %s: auto, or no %s key)", key,
                    t->count, key, key);
}

int scn_parse_vifs(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    struct scn_dom_tmpl *t = obj;
    yaml_node_t *n = scn_node(c, node);
    if (n->type != YAML_SEQUENCE_NODE)
        return scn_fail(c, node, "vifs is %s (expected a list such as [{ mac: auto, ip: auto }])",
                        n->type == YAML_SCALAR_NODE ? "a single value" : "a mapping");
    long nr = n->data.sequence.items.top - n->data.sequence.items.start;
    if (nr > SCN_MAX_VIFS)
        return scn_fail(c, node, "vifs has %ld entries (expected at most %d per domain)", nr,
                        SCN_MAX_VIFS);
    if (nr == 0 && scn_is_net_kind(t->d.wl.desc))
        return scn_fail(c, node, "vifs is empty (expected at least one vif: workload %s uses "
                        "the domain's first)", t->d.wl.desc->kind);
    free(t->d.vifs);
    t->d.nr_vifs = 0;
    if (!(t->d.vifs = calloc((size_t)(nr ? nr : 1), sizeof(*t->d.vifs))))
        return scn_oom(c);
    for (long i = 0; i < nr; i++) {
        int item = scn_node(c, node)->data.sequence.items.start[i];
        struct scn_vif v = vif_defaults();
        int rc = scn_parse_mapping(c, &vif_map, item, &v);
        if (rc == 0)
            rc = check_replicated(c, item, t, &v);
        if (rc)
            return rc;
        t->d.vifs[t->d.nr_vifs++] = v;
    }
    return 0;
}

int scn_default_vifs(struct scn_ctx *c, const struct scn_field *f, int map, void *obj)
{
    (void)f, (void)map;
    struct scn_dom_tmpl *t = obj;
    if (!scn_is_net_kind(t->d.wl.desc))
        return 0;
    if (!(t->d.vifs = calloc(1, sizeof(*t->d.vifs))))
        return scn_oom(c);
    t->d.vifs[0] = vif_defaults();
    t->d.nr_vifs = 1;
    return 0;
}

/* Where a message about key `key` of vif j of guest i points: the value,
 * else the vif, else its vifs list, else the domain. */
static int vif_node(struct scn_ctx *c, int i, int j, const char *key)
{
    int dom = c->src[c->src_of[i]].node, vifs = scn_map_get(c, dom, "vifs");
    yaml_node_t *n = scn_node(c, vifs);
    if (!n || n->type != YAML_SEQUENCE_NODE ||
        j >= n->data.sequence.items.top - n->data.sequence.items.start)
        return vifs ? vifs : dom;
    int item = n->data.sequence.items.start[j], at = scn_map_get(c, item, key);
    return at ? at : item;
}

/* ---- netback: and dom0: --------------------------------------------------- */

int scn_note_netback(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f, (void)obj;
    c->netback_node = node;
    return 0;
}

int scn_note_dom0(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f, (void)obj;
    c->dom0_node = node;
    return 0;
}

/* One of choices (NULL-terminated): its index, or a message naming `what`. */
int scn_parse_word(struct scn_ctx *c, int node, const char *what, const char *const *choices,
                   int *index)
{
    const char *v;
    char list[128] = "";
    for (int i = 0; choices[i]; i++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", choices[i]);
    }
    int rc = scn_scalar(c, node, what, list, &v);
    if (rc)
        return rc;
    for (int i = 0; choices[i]; i++)
        if (strcmp(v, choices[i]) == 0)
            return *index = i, 0;
    return scn_fail(c, node, "unknown %s \"%s\" (expected one of: %s)", what, SCN_ECHO(v), list);
}

static int parse_port(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    static const char *const ports[] = { "ring", "tap", "null", NULL };
    struct scn_netback *nb = obj;
    int i, rc = scn_parse_word(c, node, "netback.port", ports, &i);
    if (rc == 0)
        nb->port = (enum scn_nb_port)(SCN_NB_RING + i);
    return rc;
}

int scn_parse_backend_cpu(struct scn_ctx *c, int node, const char *what, enum scn_nb_cpu *out)
{
    static const char *const cpus[] = { "dom0", "dedicated", NULL };
    int i, rc = scn_parse_word(c, node, what, cpus, &i);
    if (rc == 0)
        *out = i ? SCN_NB_DEDICATED : SCN_NB_DOM0;
    return rc;
}

static int parse_nb_cpu(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    return scn_parse_backend_cpu(c, node, "netback.cpu", &((struct scn_netback *)obj)->cpu);
}

static int parse_fairness(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    static const char *const modes[] = { "none", "drr", NULL };
    int i, rc = scn_parse_word(c, node, "netback.fairness", modes, &i);
    if (rc == 0)
        ((struct scn_netback *)obj)->fairness = i ? SCN_NB_FAIR_DRR : SCN_NB_FAIR_NONE;
    return rc;
}

static int parse_tap_name(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    struct scn_netback *nb = obj;
    const char *v;
    int rc = scn_scalar(c, node, f->name, "an interface name such as fv0", &v);
    return rc ? rc : scn_copy_name(c, node, "netback.tap.name", v, nb->tap_name,
                                   sizeof(nb->tap_name));
}

static int parse_tap_address(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    struct scn_netback *nb = obj;
    const char *v;
    int prefix = 0, rc = scn_scalar(c, node, f->name, TAP_EXPECT, &v);
    if (rc == 0 && (rc = parse_address(c, node, "netback.tap.address", TAP_EXPECT, v,
                                       &nb->tap_ip, &prefix)) == 0)
        nb->tap_prefix = (uint8_t)prefix;
    return rc;
}

static int parse_tap(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    static const struct scn_field fields[] = {
        { .name = "name", .type = SCN_T_CUSTOM, .parse = parse_tap_name },
        { .name = "address", .type = SCN_T_CUSTOM, .parse = parse_tap_address },
    };
    static const struct scn_mapping m = {
        "netback.tap", "tap: { name: fv0, address: 198.18.0.1/24 }", fields, 2, NULL,
    };
    return scn_parse_mapping(c, &m, node, obj);
}

static int parse_cost(struct scn_ctx *c, const struct scn_field *f, int node, void *obj)
{
    (void)f;
    static const struct scn_field fields[] = {
        { .name = "packet", .type = SCN_T_NS, SCN_FLD(struct scn_netback, cost_packet),
          .min = 0, .max = INT64_MAX },
        { .name = "burst", .type = SCN_T_NS, SCN_FLD(struct scn_netback, cost_burst),
          .min = 0, .max = INT64_MAX },
        { .name = "kib", .type = SCN_T_NS, SCN_FLD(struct scn_netback, cost_kib),
          .min = 0, .max = INT64_MAX },
        { .name = "notify", .type = SCN_T_NS, SCN_FLD(struct scn_netback, cost_notify),
          .min = 0, .max = INT64_MAX },
    };
    static const struct scn_mapping m = {
        "netback.cost", "cost: { packet: 70ns, kib: 350ns, burst: 1us, notify: 15us }", fields, 4,
        NULL,
    };
    return scn_parse_mapping(c, &m, node, obj);
}

static const struct scn_field nb_fields[] = {
    { .name = "port", .type = SCN_T_CUSTOM, .parse = parse_port },
    { .name = "cpu", .type = SCN_T_CUSTOM, .parse = parse_nb_cpu },
    { .name = "tap", .type = SCN_T_CUSTOM, .parse = parse_tap },
    { .name = "poll", .type = SCN_T_NS, SCN_FLD(struct scn_netback, poll), .min = 1,
      .max = INT64_MAX },
    { .name = "cost", .type = SCN_T_CUSTOM, .parse = parse_cost },
    { .name = "fairness", .type = SCN_T_CUSTOM, .parse = parse_fairness },
};

static const struct scn_mapping nb_map = {
    "netback", "netback: { port: ring, cpu: dom0 }", nb_fields,
    sizeof(nb_fields) / sizeof(nb_fields[0]), NULL,
};

/* The value of netback.KEY (KEY2 under it when given), else the closest
 * node that is there: a message about a default points at what made it
 * matter (`fallback`), else at netback:, else at the top. */
static int nb_node(struct scn_ctx *c, const char *key, const char *key2, int fallback)
{
    int at = scn_map_get(c, c->netback_node, key);
    int at2 = key2 ? scn_map_get(c, at, key2) : 0;
    return at2 ? at2 : at && !key2 ? at : fallback ? fallback : c->netback_node;
}

/* A TAP name the host already has: creating it would fail, or (a TAP left
 * by another run) mix two runs' packets. */
static bool iface_exists(const char *name)
{
    char path[64];
    snprintf(path, sizeof(path), "/sys/class/net/%s", name);
    return access(path, F_OK) == 0;
}

static int parse_netback(struct scn_ctx *c, long nvifs)
{
    struct scenario *s = c->s;
    struct scn_netback *nb = &s->netback;
    *nb = (struct scn_netback){
        .port = SCN_NB_RING, .cpu = SCN_NB_DOM0, .tap_ip = TAP_IP, .poll = FV_US(100),
        /* bench/calibrate_net.sh on a 2-core VM (docs/CALIBRATION.md) */
        .cost_packet = FV_NS(70), .cost_burst = FV_US(1), .cost_kib = FV_NS(350),
        .cost_notify = FV_US(15),
    };
    snprintf(nb->tap_name, sizeof(nb->tap_name), "%s", TAP_NAME);
    int rc = c->netback_node ? scn_parse_mapping(c, &nb_map, c->netback_node, nb) : 0;
    if (rc)
        return rc;
    if (!nb->tap_prefix)
        nb->tap_prefix = nvifs > FEW_VIFS ? PREFIX_MANY : PREFIX_FEW;
    const char *why = scn_ip_not_host(nb->tap_ip, nb->tap_prefix);
    char a[SCN_FMT_MAX], sn[2 * SCN_FMT_MAX];
    if (why)
        return scn_fail(c, nb_node(c, "tap", "address", 0), "netback.tap.address %s/%d is %s "
                        "of its subnet (expected a host address in %s)",
                        scn_format_ipv4(nb->tap_ip, a, sizeof(a)), nb->tap_prefix, why,
                        scn_ip_subnet(nb->tap_ip, nb->tap_prefix, sn, sizeof(sn)));
    if (nb->cpu == SCN_NB_DEDICATED && s->pcpus < 2)
        return scn_fail(c, nb_node(c, "cpu", NULL, 0), "netback.cpu: dedicated needs pcpus >= 2: "
                        "one pCPU is netback's own (expected pcpus >= 2, or cpu: dom0; pcpus "
                        "is %d)", s->pcpus);
    if (nb->port == SCN_NB_TAP && strcmp(s->engine, "sim") == 0)
        return scn_fail(c, nb_node(c, "port", NULL, 0), "netback.port: tap needs engine: real "
                        "(the host's own network stack does not run in virtual time; expected "
                        "ring or null with engine: sim)");
    if (nb->port == SCN_NB_TAP && iface_exists(nb->tap_name))
        return scn_fail(c, nb_node(c, "tap", "name", nb_node(c, "port", NULL, 0)),
                        "netback.tap.name: interface %s already exists on this host (expected "
                        "the name of no interface: fairvisor creates the TAP)", nb->tap_name);
    return 0;
}

static int parse_dom0(struct scn_ctx *c, struct scn_domain *d)
{
    static const struct scn_field fields[] = {
        { .name = "vcpus", .type = SCN_T_INT, SCN_FLD(struct scn_domain, vcpus), .min = 1,
          .max = SCN_MAX_VCPUS },
        { .name = "weight", .type = SCN_T_INT, SCN_FLD(struct scn_domain, sp.weight),
          .min = SCHED_MIN_WEIGHT, .max = SCHED_MAX_WEIGHT },
        { .name = "cap", .type = SCN_T_INT, SCN_FLD(struct scn_domain, sp.cap), .min = 0,
          .max = 100 * SCN_MAX_VCPUS },
        { .name = "memory", .type = SCN_T_SIZE, SCN_FLD(struct scn_domain, memory),
          .min = 1 << 20, .max = INT64_MAX },
    };
    static const struct scn_mapping m = {
        "dom0", "dom0: { vcpus: 1, weight: 256, cap: 0, memory: 64MiB }", fields, 4, NULL,
    };
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "Domain-0");
    d->is_dom0 = true;
    d->vcpus = 1;
    d->memory = 64ULL << 20;
    sched_dom_defaults(&d->sp);
    d->wl.desc = &workload_netback;
    int rc = c->dom0_node ? scn_parse_mapping(c, &m, c->dom0_node, d) : 0;
    if (rc == 0 && d->sp.cap > 100u * (unsigned)d->vcpus)
        rc = scn_fail(c, scn_map_get(c, c->dom0_node, "cap"), "cap %" PRIu32 " is out of range "
                      "(expected 0..%d for %d vcpus)", d->sp.cap, 100 * d->vcpus, d->vcpus);
    return rc;
}

/* ---- MACs and IPs over all vifs -------------------------------------------- */

struct vref {
    uint64_t key;           /* the MAC as 48 bits, or the IP */
    int dom, vif;
    bool given;             /* written in the file, not auto */
};

static int cmp_vref(const void *a, const void *b)
{
    const struct vref *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->dom != y->dom)
        return x->dom < y->dom ? -1 : 1;
    return (x->vif > y->vif) - (x->vif < y->vif);
}

/* Sort r[0..n-1]; the first entry, in file order, that repeats the key of
 * one before it: its index in r (*first: that earlier one), or -1. */
static long find_repeat(struct vref *r, long n, long *first)
{
    qsort(r, (size_t)n, sizeof(*r), cmp_vref);
    long best = -1, start = 0;
    for (long k = 1; k < n; k++) {
        if (r[k].key != r[k - 1].key) {
            start = k;
            continue;
        }
        if (best < 0 || r[k].dom < r[best].dom ||
            (r[k].dom == r[best].dom && r[k].vif < r[best].vif))
            best = k, *first = start;
    }
    return best;
}

static const char *vif_label(const struct scenario *s, const struct vref *r, char *buf,
                             size_t len)
{
    snprintf(buf, len, "vif %d of domain %s", r->vif, s->domains[r->dom].name);
    return buf;
}

static int assign_macs(struct scn_ctx *c, long nvifs)
{
    struct scenario *s = c->s;
    struct vref *r = calloc((size_t)nvifs, sizeof(*r));
    if (!r)
        return scn_oom(c);
    static const uint8_t zero[6];
    long n = 0;
    for (int i = 0; i < s->nr_guests; i++)
        for (int j = 0; j < s->domains[i].nr_vifs; j++) {
            uint8_t *m = s->domains[i].vifs[j].mac;
            bool given = memcmp(m, zero, sizeof(zero)) != 0;
            s->domains[i].vifs[j].mac_auto = !given;
            if (!given)
                scn_auto_mac(s->domains[i].id, j, m);
            uint64_t key = 0;
            for (int b = 0; b < 6; b++)
                key = key << 8 | m[b];
            r[n++] = (struct vref){ key, i, j, given };
        }
    long first = 0, k = find_repeat(r, n, &first);
    int rc = 0;
    if (k >= 0) {
        /* Two auto MACs never meet (ids and indexes differ): one is given. */
        const struct vref *bad = r[k].given ? &r[k] : &r[first], *other = bad == &r[k] ? &r[first]
                                                                                    : &r[k];
        char mac[SCN_FMT_MAX], a[SCN_NAME_MAX + 24], b[SCN_NAME_MAX + 24];
        rc = scn_fail(c, vif_node(c, bad->dom, bad->vif, "mac"), "mac %s of %s is also the %smac "
                      "of %s (expected a different MAC for each vif)",
                      scn_format_mac(s->domains[bad->dom].vifs[bad->vif].mac, mac, sizeof(mac)),
                      vif_label(s, bad, a, sizeof(a)), other->given ? "" : "auto ",
                      vif_label(s, other, b, sizeof(b)));
    }
    free(r);
    return rc;
}

/* A given IP: a host address of its subnet, not the TAP's, in the TAP's
 * subnet when the port is the TAP. A missing prefix is the TAP's. */
static int check_given_ip(struct scn_ctx *c, int i, int j)
{
    const struct scn_netback *nb = &c->s->netback;
    struct scn_vif *v = &c->s->domains[i].vifs[j];
    char a[SCN_FMT_MAX], sn[2 * SCN_FMT_MAX];
    if (!v->prefix)
        v->prefix = nb->tap_prefix;
    int at = vif_node(c, i, j, "ip");
    const char *why = scn_ip_not_host(v->ip, v->prefix);
    scn_format_ipv4(v->ip, a, sizeof(a));
    if (why)
        return scn_fail(c, at, "ip %s/%d is %s of its subnet (expected a host address in %s)", a,
                        v->prefix, why, scn_ip_subnet(v->ip, v->prefix, sn, sizeof(sn)));
    if (v->ip == nb->tap_ip)
        return scn_fail(c, at, "ip %s is the TAP's address (expected another address: "
                        "netback.tap.address is %s/%d)", a, a, nb->tap_prefix);
    uint32_t m = scn_ip_mask(nb->tap_prefix);
    if (nb->port == SCN_NB_TAP && (v->ip & m) != (nb->tap_ip & m))
        return scn_fail(c, at, "ip %s is outside the TAP's subnet %s (expected an address in %s: "
                        "netback.port is tap)", a, scn_ip_subnet(nb->tap_ip, nb->tap_prefix, sn,
                                                          sizeof(sn)), sn);
    return 0;
}

static bool ip_used(const struct vref *used, long n, uint32_t ip)
{
    long lo = 0, hi = n - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (used[mid].key == ip)
            return true;
        if (used[mid].key < ip)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return false;
}

/* The next auto address after *cand in the TAP's subnet; false when none. */
static bool next_ip(const struct scn_netback *nb, const struct vref *used, long n, uint64_t *cand)
{
    uint32_t m = scn_ip_mask(nb->tap_prefix), net = nb->tap_ip & m;
    for (uint64_t a = *cand + 1; a <= UINT32_MAX && ((uint32_t)a & m) == net; a++) {
        uint32_t ip = (uint32_t)a, low = ip & 0xff;
        if (low == 0 || low == 0xff || ip == nb->tap_ip || scn_ip_not_host(ip, nb->tap_prefix) ||
            ip_used(used, n, ip))
            continue;
        *cand = a;
        return true;
    }
    return false;
}

static int assign_ips(struct scn_ctx *c, long nvifs)
{
    struct scenario *s = c->s;
    const struct scn_netback *nb = &s->netback;
    struct vref *r = calloc((size_t)nvifs, sizeof(*r));
    if (!r)
        return scn_oom(c);
    long n = 0, first = 0;
    int rc = 0;
    for (int i = 0; rc == 0 && i < s->nr_guests; i++)
        for (int j = 0; rc == 0 && j < s->domains[i].nr_vifs; j++)
            if (s->domains[i].vifs[j].ip && (rc = check_given_ip(c, i, j)) == 0)
                r[n++] = (struct vref){ s->domains[i].vifs[j].ip, i, j, true };
    long k = rc ? -1 : find_repeat(r, n, &first);
    char a[SCN_FMT_MAX], x[SCN_NAME_MAX + 24], y[SCN_NAME_MAX + 24], sn[2 * SCN_FMT_MAX];
    if (k >= 0)
        rc = scn_fail(c, vif_node(c, r[k].dom, r[k].vif, "ip"), "ip %s of %s is also the ip of "
                      "%s (expected a different address for each vif)",
                      scn_format_ipv4((uint32_t)r[k].key, a, sizeof(a)),
                      vif_label(s, &r[k], x, sizeof(x)), vif_label(s, &r[first], y, sizeof(y)));
    uint64_t cand = nb->tap_ip & scn_ip_mask(nb->tap_prefix);
    for (int i = 0; rc == 0 && i < s->nr_guests; i++)
        for (int j = 0; rc == 0 && j < s->domains[i].nr_vifs; j++) {
            struct scn_vif *v = &s->domains[i].vifs[j];
            if (v->ip)
                continue;
            if (!next_ip(nb, r, n, &cand))
                rc = scn_fail(c, vif_node(c, i, j, "ip"), "no address left in %s for vif %d of "
                              "domain %s (expected fewer vifs or fewer given ips, or "
                              "netback.tap.address with a shorter prefix)",
                              scn_ip_subnet(nb->tap_ip, nb->tap_prefix, sn, sizeof(sn)), j,
                              s->domains[i].name);
            v->ip = (uint32_t)cand;
            v->prefix = nb->tap_prefix;
        }
    free(r);
    return rc;
}

/* ---- netback.cpu: dedicated and Domain-0 ------------------------------------ */

/* The item of domain i's pin list that names pCPU cpu, else the pin value. */
static int pin_node(struct scn_ctx *c, int i, int cpu)
{
    int pin = scn_map_get(c, c->src[c->src_of[i]].node, "pin");
    yaml_node_t *n = scn_node(c, pin);
    for (yaml_node_item_t *it = n && n->type == YAML_SEQUENCE_NODE ?
                                n->data.sequence.items.start : NULL;
         it && it < n->data.sequence.items.top; it++) {
        yaml_node_t *v = scn_node(c, *it);
        int64_t x;
        if (v->type == YAML_SCALAR_NODE &&
            scn_parse_count((const char *)v->data.scalar.value, &x) == 0 && x == cpu)
            return *it;
    }
    return pin;
}

/* Domain-0's pCPU is the last (netback.cpu or blkback.cpu: dedicated; they
 * agree when both exist): no guest may use it, and one without `pin` gets
 * all the others, written out in the resolved scenario. */
static int pin_dedicated(struct scn_ctx *c, struct scn_domain *dom0)
{
    struct scenario *s = c->s;
    bool net = s->netback.cpu == SCN_NB_DEDICATED;
    if (!net && s->blkback.cpu != SCN_NB_DEDICATED)
        return 0;
    const char *who = net ? "netback" : "blkback";
    int last = s->pcpus - 1;
    for (int i = 0; i < s->nr_guests; i++) {
        struct scn_domain *d = &s->domains[i];
        if (!d->pinned) {
            d->pinned = true;
            cpumask_fill(&d->pin, last);
        } else if (cpumask_test(&d->pin, last)) {
            char of[SCN_NAME_MAX + 16] = "";
            if (c->src[c->src_of[i]].count)
                snprintf(of, sizeof(of), " of domain %s", d->name);
            return scn_fail(c, pin_node(c, i, last), "pin %d%s is %s's dedicated pCPU "
                            "(expected pCPUs 0..%d: %s.cpu is dedicated)", last, of, who,
                            last - 1, who);
        }
    }
    dom0->pinned = true;
    cpumask_clear_all(&dom0->pin);
    cpumask_set(&dom0->pin, last);
    return 0;
}

static int add_dom0(struct scn_ctx *c, const struct scn_domain *dom0)
{
    struct scenario *s = c->s;
    int64_t vcpus = dom0->vcpus;
    for (int i = 0; i < s->nr_guests; i++)
        vcpus += s->domains[i].vcpus;
    if (vcpus > SCN_MAX_TOTAL_VCPUS) {
        int at = scn_map_get(c, c->dom0_node, "vcpus");
        return scn_fail(c, at ? at : c->dom0_node ? c->dom0_node
                                      : scn_map_get(c, c->root, "domains"),
                        "Domain-0's %d vcpus make %" PRId64 " vCPUs (expected at most %d vCPUs "
                        "in all: each is an execution context with a stack of its own)",
                        dom0->vcpus, vcpus, SCN_MAX_TOTAL_VCPUS);
    }
    struct scn_domain *d = realloc(s->domains, (size_t)(s->nr_guests + 1) * sizeof(*d));
    if (!d)
        return scn_oom(c);
    s->domains = d;
    s->domains[s->nr_guests] = *dom0;
    s->dom0 = s->nr_guests;
    s->nr_domains = s->nr_guests + 1;
    return 0;
}

int scn_net_finish(struct scn_ctx *c)
{
    struct scenario *s = c->s;
    long nvifs = 0;
    s->dom0 = -1;
    s->nr_guests = s->nr_domains;
    for (int i = 0; i < s->nr_guests; i++)
        nvifs += s->domains[i].nr_vifs;
    bool disks = scn_nr_vbds(s) > 0;
    /* A live host's Domain-0 may run netback for vifs that come later. */
    bool net = nvifs || (c->host && c->netback_node);
    if (!net) {
        if (c->netback_node)
            return scn_fail(c, c->netback_node, "netback: no domain has a vif (expected a domain "
                            "with vifs, or running a net-* workload)");
        if (c->dom0_node && !disks && !(c->host && c->blkback_node))
            return scn_fail(c, c->dom0_node, "dom0: no domain has a vif or a vbd (expected a "
                            "domain with vifs or vbds, or running a net-* or blk-* workload: "
                            "Domain-0 runs netback and blkback%s)",
                            c->host ? "; or, for a live host, netback: or blkback:" : "");
        memset(&s->netback, 0, sizeof(s->netback));
        s->netback.port = SCN_NB_NONE;
    }
    /* blkback.cpu may follow netback.cpu, and dom0's pinning both. */
    int rc = net ? parse_netback(c, nvifs) : 0;
    if (rc == 0)
        rc = scn_blk_finish(c);
    disks = s->blkback.present;
    if (rc == 0)
        rc = scn_apply_mode(c, net, disks);
    if (rc || (!net && !disks))
        return rc;
    struct scn_domain dom0;
    rc = parse_dom0(c, &dom0);
    if (rc == 0 && nvifs)
        rc = assign_macs(c, nvifs);
    if (rc == 0 && nvifs)
        rc = assign_ips(c, nvifs);
    if (rc == 0 && nvifs)
        rc = scn_check_net_peers(c);
    if (rc == 0)
        rc = pin_dedicated(c, &dom0);
    if (rc == 0)
        rc = add_dom0(c, &dom0);
    return rc;
}
