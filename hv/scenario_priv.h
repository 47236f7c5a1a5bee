/* scenario_priv.h — what the scenario loader's files share (hv/scenario*.c):
 * the unit parsers with the reason a value was refused, so the loader can say
 * *why* ("has no unit", "is negative") rather than just "invalid". */
#ifndef FV_SCENARIO_PRIV_H
#define FV_SCENARIO_PRIV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "scenario.h"

/* Why a number-with-unit was refused. */
enum scn_perr {
    SCN_POK = 0,
    SCN_PSYNTAX,    /* not a number at all */
    SCN_PNOUNIT,    /* a bare number where a unit is required */
    SCN_PUNIT,      /* an unknown unit */
    SCN_PNEG,       /* negative where only >= 0 makes sense */
    SCN_PRANGE,     /* does not fit in 63 bits */
    SCN_PFRAC,      /* decimals that do not give a whole number of the base unit */
};

enum scn_ukind { SCN_UDURATION, SCN_USIZE, SCN_UCOUNT };

/* Parse `s` as a number of kind k. Durations and sizes refuse negatives;
 * counts accept them (the caller's range check names the problem). */
enum scn_perr scn_parse_units(const char *s, enum scn_ukind k, int64_t *out);
/* The units of kind k for messages: "ns, us, ms or s". */
const char *scn_units_help(enum scn_ukind k);

/* A vif rate as written, RATE[/PER][@INTERVAL] (scenario_units.c): an
 * amount of bits (bit kbit Kbit Mbit Gbit, powers of 1000) or bytes (B KiB
 * MiB GiB TiB, powers of 1024), decimals allowed when they give a whole
 * number of bits, per PER (`s`, the default, or a duration such as 50ms),
 * credited every INTERVAL (default 50ms). */
struct scn_rate {
    int64_t bits;           /* the amount, in bits */
    fv_ns_t per;            /* ... per this long */
    fv_ns_t interval;       /* credited every this long */
};
#define SCN_RATE_INTERVAL FV_MS(50)
/* SCN_PSYNTAX for a malformed rate, SCN_PUNIT/SCN_PNOUNIT for the
 * amount's unit, SCN_PNEG, SCN_PRANGE, SCN_PFRAC; `per` or `interval`
 * <= 0 is SCN_PRANGE. A zero amount is returned as such (bits = 0). */
enum scn_perr scn_parse_rate(const char *s, struct scn_rate *out);
/* The bytes credited per interval: floor(bits x interval / (8 x per)),
 * at least 1; 0 when that exceeds INT64_MAX. */
uint64_t scn_rate_credit(const struct scn_rate *r);

/* Network addresses (scenario_units.c); IPv4 in host byte order.
 * "00:16:3e:00:01:00", "198.18.0.2" (buf: SCN_FMT_MAX bytes); the rate of
 * a vif as the loader reads it back, exactly: "62500B/50ms@50ms" (buf:
 * 3 x SCN_FMT_MAX); a subnet "198.18.0.0/24" (buf: 2 x SCN_FMT_MAX). */
const char *scn_format_mac(const uint8_t mac[6], char *buf, size_t len);
/* vif `vif` of domain `id`'s auto MAC: 00:16:3e (Xen's OUI), the id in two
 * bytes, the vif's index. */
static inline void scn_auto_mac(int id, int vif, uint8_t mac[6])
{
    const uint8_t a[6] = { 0x00, 0x16, 0x3e, (uint8_t)(id >> 8), (uint8_t)id, (uint8_t)vif };
    memcpy(mac, a, sizeof(a));
}
const char *scn_format_ipv4(uint32_t ip, char *buf, size_t len);
const char *scn_format_rate(const struct scn_vif *v, char *buf, size_t len);
const char *scn_ip_subnet(uint32_t ip, int prefix, char *buf, size_t len);
uint32_t scn_ip_mask(int prefix);
/* "a.b.c.d" or "a.b.c.d/p" (p 1..32; *prefix = 0 when absent): 0, -1 not
 * an address, -2 a bad prefix. */
int scn_parse_ipv4(const char *v, uint32_t *ip, int *prefix);
/* Not 0.x, 127.x (loopback), or 224.x and above (multicast, reserved). */
bool scn_ip_unicast(uint32_t ip);
/* Why ip/prefix is no host's address in its subnet ("the network
 * address", "the broadcast address"), or NULL. */
const char *scn_ip_not_host(uint32_t ip, int prefix);

/* ---- the loader's working state (scenario.c, scenario_domains.c,
 * scenario_set.c) ---------------------------------------------------------- */

#include <yaml.h>

/* User text quoted in a message (a value, a key, a name, a --set): at most
 * SCN_ECHO_MAX bytes, cut at a character boundary and followed by "...",
 * control characters shown as '?'. Messages go to a fixed buffer (the CLI's
 * is 1024 bytes); clipping what was written, never the "(expected ...)"
 * part, keeps every message whole. buf holds SCN_ECHO_BUF bytes. */
#define SCN_ECHO_MAX 40
#define SCN_ECHO_BUF (SCN_ECHO_MAX + 4)
const char *scn_echo(const char *s, char *buf);
/* The same with a buffer that lives until the end of the enclosing block:
 * scn_fail(c, n, "... \"%s\" ...", SCN_ECHO(v)). */
#define SCN_ECHO(s) scn_echo((s), (char[SCN_ECHO_BUF]){ 0 })

/* Why scn_prescan stopped. */
enum scn_scan {
    SCN_SCAN_OK = 0,
    SCN_SCAN_DEEP,      /* a list or mapping nested deeper than SCN_MAX_DEPTH */
    SCN_SCAN_NODES,     /* more than SCN_MAX_NODES nodes */
    SCN_SCAN_NOMEM,
};
/* Run libyaml's scanner alone over text (len bytes), before the document is
 * built, and stop at the first token that opens a list or mapping more than
 * SCN_MAX_DEPTH deep or would make more than SCN_MAX_NODES nodes (*at: where).
 * The scanner's cost per token grows with the nesting, so stopping there
 * bounds it. A syntax error ends the scan with SCN_SCAN_OK: the loader
 * reports it. */
enum scn_scan scn_prescan(const char *text, size_t len, yaml_mark_t *at);
/* A tag libyaml gave node `n` that the loader does not honour (anything but
 * the default str, seq and map tags libyaml sets on untagged nodes), as
 * written ("!!float", clipped like scn_echo), or NULL. buf holds
 * SCN_ECHO_BUF + 2 bytes. */
const char *scn_bad_tag(const yaml_node_t *n, char *buf);

/* Nodes an override created: ids first..last of the document; messages about
 * them name the --set rather than a file position. */
struct scn_set_span {
    int first, last;
    const char *text;
};

/* One entry of `domains:` before `count` expansion. */
struct scn_dom_src {
    int node;               /* its mapping */
    int name_node;          /* its name value (for duplicate-name messages) */
    int64_t count;          /* 0 = no `count` key: one domain, plain name */
};

struct scn_ctx {
    const char *file;
    yaml_document_t doc;
    struct scn_set_span *spans;
    int nspans;
    char *err;
    size_t errlen;
    struct scenario *s;
    int root;
    int sched_node;         /* the sched: mapping, 0 if absent */
    int windows_node;       /* sched.windows: parsed once domains are known */
    struct scn_dom_src *src;
    int nsrc;
    int *src_of;            /* per expanded guest domain: its index in src */
    int netback_node;       /* netback: and dom0: mappings, 0 if absent: parsed */
    int dom0_node;          /* once the domains and their vifs are known */
    int blkback_node;       /* blkback: mapping, 0 if absent (parsed before domains) */
    bool host;              /* scenario_load_host: no domains is fine */
};

/* A domain entry before count expansion (scenario_domains.c; its vifs are
 * parsed by scenario_net.c, its vbds by scenario_blk.c). */
struct scn_dom_tmpl {
    struct scn_domain d;    /* d.vifs, d.vbds: malloc'd, copied to each replica */
    int64_t count;          /* 0: no count key */
};

/* A key of a mapping and how its value is parsed and stored: the loader is
 * driven by tables of these (top level, starvation, sched, domain, workload,
 * window), some built at run time from a policy's or workload's schema. */
enum scn_ftype {
    SCN_T_INT,      /* integer with optional k/M, range-checked, stored in `size` bytes */
    SCN_T_U64,      /* unsigned 64-bit integer (seed) */
    SCN_T_NS,       /* duration */
    SCN_T_SIZE,     /* size in bytes */
    SCN_T_BOOL,
    SCN_T_ENUM,     /* one of choices; stores the index (int64) */
    SCN_T_WORD,     /* one of choices; stores the string (char[size]) */
    SCN_T_CUSTOM,   /* parse() does it all */
    SCN_T_LATER,    /* a key of a feature this build does not have yet */
};

struct scn_ctx;
struct scn_field;
typedef int scn_parse_fn(struct scn_ctx *c, const struct scn_field *f, int node, void *obj);

struct scn_field {
    const char *name;
    enum scn_ftype type;
    size_t off, size;               /* where the value goes in the object */
    int64_t min, max;               /* inclusive */
    const char *const *choices;     /* ENUM, WORD: NULL-terminated */
    scn_parse_fn *parse;            /* CUSTOM */
    /* Key missing: fill a computed default, or refuse. NULL: keep the
     * default already in the object. */
    int (*absent)(struct scn_ctx *c, const struct scn_field *f, int map, void *obj);
    const char *hint;               /* what a missing required key should hold */
    const char *why;                /* optional: why the range is what it is, added to an
                                     * out-of-range message: "(expected >= 1ms: WHY)" */
};

#define SCN_FLD(type, member) offsetof(type, member), sizeof(((type *)0)->member)
#define SCN_MAX_FIELDS 24

struct scn_mapping {
    const char *what;               /* "domain", "sched", ...; "" = top level */
    const char *expect;             /* shape, for "must be a mapping" */
    const struct scn_field *fields;
    int nfields;
    /* Optional: explain a key not in fields (sched: another policy's). */
    int (*unknown)(struct scn_ctx *c, const struct scn_mapping *m, int key, const char *name);
};

int scn_fail(struct scn_ctx *c, int node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Write fmt after the first n bytes of c->err (a prefix already there);
 * returns -EINVAL. */
int scn_failv(struct scn_ctx *c, int n, const char *fmt, va_list ap);
int scn_oom(struct scn_ctx *c);
yaml_node_t *scn_node(struct scn_ctx *c, int id);
/* The scalar text of node, or NULL (with a message naming `what`) when the
 * node is a list or mapping or holds a NUL byte. */
int scn_scalar(struct scn_ctx *c, int node, const char *what, const char *expect,
               const char **out);
/* Value node of `key` in mapping `map` (first occurrence), or 0. */
int scn_map_get(struct scn_ctx *c, int map, const char *key);

/* `mode:` (scenario_mode.c): set the knobs of mode performance that the
 * document does not give (backends' cpu, guests' pins, slices), once the
 * backends are known (net: any vif; blk: any vbd) and before Domain-0 is
 * pinned. 0 or -EINVAL. */
int scn_apply_mode(struct scn_ctx *c, bool net, bool blk);
int scn_parse_mapping(struct scn_ctx *c, const struct scn_mapping *m, int node, void *obj);
int scn_parse_field(struct scn_ctx *c, const struct scn_field *f, int node, void *obj);
int scn_missing(struct scn_ctx *c, const struct scn_field *f, int map, void *obj);
int scn_unknown_key(struct scn_ctx *c, const struct scn_mapping *m, int key, const char *name);
/* "a, b, c" of m's keys (not the later ones) into buf. */
const char *scn_keys_list(const struct scn_mapping *m, char *buf, size_t len);
/* Check a name against [A-Za-z0-9_.-]+ and copy it into dst[size]. */
int scn_copy_name(struct scn_ctx *c, int node, const char *what, const char *v,
                  char *dst, size_t size);

/* scenario_monitor.c: `monitor: { counters: [...] }` (a top-level CUSTOM field). */
int scn_parse_monitor(struct scn_ctx *c, const struct scn_field *f, int node, void *obj);

/* scenario_domains.c */
int scn_parse_sched(struct scn_ctx *c, const struct scn_field *f, int node, void *obj);
int scn_parse_domains(struct scn_ctx *c, const struct scn_field *f, int node, void *obj);
/* `domains:` absent: an error, but for a live host (scenario_load_host). */
int scn_domains_absent(struct scn_ctx *c, const struct scn_field *f, int map, void *obj);
int scn_parse_windows(struct scn_ctx *c);
int scn_check_policy(struct scn_ctx *c);
/* The global-parameter fields of struct sched_global_params that a policy
 * schema may name (shared with the writer). */
struct scn_gp_field {
    const char *name;
    size_t off;             /* in struct sched_global_params; all fv_ns_t */
};
extern const struct scn_gp_field scn_gp_fields[];
const struct scn_gp_field *scn_gp_field_find(const char *name);
/* Whether a policy takes arinc653-style `windows`. */
bool scn_policy_has_windows(const struct sched_ops *ops);

/* A domain name and its index in s->domains, sorted by name. */
struct name_ref {
    const char *name;
    int idx;
};

/* scenario_peers.c: resolve every peer parameter of the expanded domains
 * (sorted: their names, sorted) to a domain id and check its rules. */
int scn_resolve_peers(struct scn_ctx *c, const struct name_ref *sorted);
/* The rule of peer parameter `param` that applies to domain d (by its
 * role), or NULL: a rule with kind NULL is an `unused` one. */
const struct wl_peer_rule *scn_peer_rule(const struct scn_domain *d, const char *param);
/* Once netback is known: a peer `host` needs netback.port tap, and a
 * network workload's peer domain needs a vif. */
int scn_check_net_peers(struct scn_ctx *c);

/* scenario_net.c: a domain's `vifs` (a CUSTOM field of struct
 * scn_dom_tmpl) and the default vif of a network workload; a scn_vif left
 * with an all-zero mac or ip 0 is `auto`, prefix 0 is the TAP's. */
int scn_parse_vifs(struct scn_ctx *c, const struct scn_field *f, int node, void *obj);
int scn_default_vifs(struct scn_ctx *c, const struct scn_field *f, int map, void *obj);
/* netback: and dom0: (top-level CUSTOM fields): the nodes are noted. */
int scn_note_netback(struct scn_ctx *c, const struct scn_field *f, int node, void *obj);
int scn_note_dom0(struct scn_ctx *c, const struct scn_field *f, int node, void *obj);
/* Once the guests are expanded and their peers resolved: netback and dom0,
 * blkback (scn_blk_finish), auto MACs and IPs, the network checks,
 * netback.cpu or blkback.cpu: dedicated pinning, then Domain-0 appended
 * when any guest has a vif or a vbd (else dom0 = -1; port SCN_NB_NONE
 * without vifs). */
int scn_net_finish(struct scn_ctx *c);
/* The workload kinds that use the network (and get a default vif). */
bool scn_is_net_kind(const struct workload_desc *w);

/* scenario_blk.c: blkback: (a top-level CUSTOM field read before domains,
 * since blkback.backend is every vbd's default; absent: the defaults), a
 * domain's `vbds` (a CUSTOM field of struct scn_dom_tmpl) and the default
 * vbd of a blk-* workload. A vbd's path stays as written (% escapes and a
 * relative path unresolved; "" for the default vbd's) until
 * scn_blk_finish. */
int scn_parse_blkback(struct scn_ctx *c, const struct scn_field *f, int node, void *obj);
int scn_default_blkback(struct scn_ctx *c, const struct scn_field *f, int map, void *obj);
int scn_parse_vbds(struct scn_ctx *c, const struct scn_field *f, int node, void *obj);
int scn_default_vbds(struct scn_ctx *c, const struct scn_field *f, int map, void *obj);
/* The workload kinds that use a disk (and get a default vbd): "blk-*". */
bool scn_is_blk_kind(const struct workload_desc *w);
/* The vbds of the guests (s->domains[0..nr_guests-1]). */
long scn_nr_vbds(const struct scenario *s);
/* Once netback is read (called by scn_net_finish, vbds or not): blkback
 * present or refused, blkback.cpu against netback.cpu (a cpu one of them
 * gives is the other's default), then every file vbd's path resolved
 * (%d, the scenario's directory, the default <dir>/<domain>.img) and
 * checked on this host: creatable, room to grow, one image per vbd. */
int scn_blk_finish(struct scn_ctx *c);
/* A resolved image path as the loader reads it back: every % doubled. buf
 * holds 2 x SCN_PATH_MAX bytes. */
const char *scn_escape_path(const char *path, char *buf, size_t len);

/* scenario_limits.c: the text before libyaml builds a document of it
 * (size, depth, node count); the built document with overrides applied
 * (tags, alias expansion); the resolved form a run writes back. Each
 * returns 0 or -EINVAL/-ENOMEM with the message in c->err. */
int scn_check_text(struct scn_ctx *c, const char *text, size_t len);
int scn_check_doc(struct scn_ctx *c);
int scn_check_resolved(struct scn_ctx *c);

/* scenario_set.c */
int scn_apply_sets(struct scn_ctx *c, const char *const *sets, int nsets);

/* One of `choices` (NULL-terminated) at node: its index in *index, or a
 * refusal naming `what` and the choices (scenario_net.c). */
int scn_parse_word(struct scn_ctx *c, int node, const char *what, const char *const *choices,
                   int *index);
/* A backend's `cpu:` (dom0 | dedicated). */
int scn_parse_backend_cpu(struct scn_ctx *c, int node, const char *what, enum scn_nb_cpu *out);

#endif
