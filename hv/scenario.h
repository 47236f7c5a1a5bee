/* scenario.h — experiment files (DESIGN §5): loading, validation, --set
 * overrides, and writing the fully resolved scenario back as YAML.
 *
 * A scenario is refused before anything runs when anything is wrong, with
 * one message of the form `FILE:LINE:COL: what is wrong (what was expected)`;
 * callers print it and exit 2.
 */
#ifndef FV_SCENARIO_H
#define FV_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../sched/sched.h"
#include "../workloads/workload.h"
#include "counters.h"
#include "cpumask.h"
#include "fvtime.h"

#define SCN_NAME_MAX 64

/* Limits checked before anything is expanded or allocated. Domain ids are
 * 1..SCN_MAX_DOMAINS: Xen's own limit (DOMID_FIRST_RESERVED 0x7FF0 is the
 * first id that is not a domain; 0 is the control domain). Every vCPU is a
 * real execution context with a stack of its own, hence the total. */
#define SCN_MAX_DOMAINS 32751
#define SCN_MAX_VCPUS 64                /* per domain */
#define SCN_MAX_TOTAL_VCPUS 65536       /* over all domains */

/* Limits on the text itself, checked before libyaml builds the document, so
 * that a small or hostile file cannot cost unbounded time or memory:
 *  - the size, read no further than one byte past it;
 *  - nesting: a scenario nests 4 levels (domains > domain > workload); libyaml
 *    spends time per token proportional to the nesting of flow lists, so
 *    [[[...]]] 40,000 deep took 16 s;
 *  - nodes (values, keys, lists, mappings), counting every use of an alias
 *    (*NAME) in full: what the loader walks and libyaml allocates (about 160
 *    bytes each: at most about 350 MB and 1.4 s for a 4 MiB file of
 *    [[[0,0,0,...]]] just under both limits).
 * Every run writes its resolved scenario.yaml to be run again: the size and
 * node limits leave room for SCN_MAX_DOMAINS domains with names of 63
 * characters and 8 workload parameters each (about 450 bytes and 42 nodes a
 * domain), and a scenario whose resolved form would still exceed them (long
 * pin lists on tens of thousands of domains) is refused when loaded. */
#define SCN_MAX_FILE_SIZE (16 << 20)    /* bytes; messages say "16MiB" */
#define SCN_MAX_DEPTH 32                /* lists and mappings inside each other */
#define SCN_MAX_NODES (1 << 21)         /* 2097152 */

struct scn_workload {
    const struct workload_desc *desc;   /* never NULL after loading (default: idle) */
    struct wl_args args;                /* every parameter, defaults filled */
};

/* A virtual NIC (DESIGN §5: `vifs: [{ mac, ip, weight, rate }]`). A domain
 * whose workload uses the network gets one vif by default. */
#define SCN_MAX_VIFS 8                  /* per domain */
struct scn_vif {
    uint8_t mac[6];                     /* `auto`: 00:16:3e (Xen's OUI) + domain id + index */
    bool mac_auto;                      /* mac was `auto` (made by the loader) */
    uint32_t ip;                        /* host byte order; `auto`: 198.18.0.2 upwards */
    uint8_t prefix;                     /* 1..32; default 24 */
    uint32_t weight;                    /* default 256: its DRR quantum is 1514 B * weight / 256 */
    uint64_t rate_bytes;                /* credit per interval; 0 = unlimited */
    fv_ns_t rate_interval;              /* default 50 ms */
};

/* The network backend (`netback:`). port is SCN_NB_NONE when no domain has
 * a vif: then there is no Domain-0 either, unless a domain has a vbd. */
enum scn_nb_port { SCN_NB_NONE = 0, SCN_NB_RING, SCN_NB_TAP, SCN_NB_NULL };
enum scn_nb_cpu { SCN_NB_DOM0 = 0, SCN_NB_DEDICATED };
/* `fairness:` none (each vif in turn, up to 64 frames a pass) | drr
 * (deficit round robin by the vifs' weights: netback/qos.h). */
enum scn_nb_fairness { SCN_NB_FAIR_NONE = 0, SCN_NB_FAIR_DRR };
struct scn_netback {
    enum scn_nb_port port;              /* default ring when any vif exists */
    enum scn_nb_cpu cpu;                /* default dom0 */
    char tap_name[16];                  /* `tap: { name }`, default "fv0" */
    uint32_t tap_ip;                    /* `tap: { address }`, default 198.18.0.1/24 */
    uint8_t tap_prefix;
    fv_ns_t poll;                       /* dom0: how often an idle netback looks at the port for RX; default 100us */
    /* The virtual-time engine's cost model of netback's CPU (`cost:`):
     * per packet, per burst (of up to 32) and per event handled, per KiB
     * copied, and per notification sent to a guest (waking it). */
    fv_ns_t cost_packet, cost_burst, cost_kib, cost_notify;
    enum scn_nb_fairness fairness;      /* default none */
};

/* A virtual disk (`vbds: [{ size, backend, path, weight, reservation, limit }]`). */
#define SCN_MAX_VBDS 8                  /* per domain */
#define SCN_PATH_MAX 256
enum scn_blk_backend { SCN_BLK_MEMORY = 0, SCN_BLK_FILE };
struct scn_vbd {
    uint64_t size;                      /* bytes, a multiple of 512; default 64 MiB */
    enum scn_blk_backend backend;       /* default: blkback.backend */
    char path[SCN_PATH_MAX];            /* file: the image (created and sized if missing);
                                         * absolute once loaded; "" for memory */
    /* blkback's I/O scheduler (blkback/qos.h): the share under sfq (1..65535,
     * default 256; 0 in a scenario built by hand is the default), and
     * mClock's reservation (sfq) and limit (both modes) in IOPS, 0 = none. */
    uint32_t weight;
    uint64_t reservation, limit;
};

/* The block backend (`blkback:`); `present` when any domain has a vbd. */
enum scn_blk_fairness { SCN_BLK_FAIR_NONE = 0, SCN_BLK_FAIR_SFQ };
struct scn_blkback {
    bool present;
    enum scn_blk_backend backend;       /* default for vbds: memory */
    enum scn_nb_cpu cpu;                /* dom0 | dedicated, as netback.cpu */
    unsigned qdepth;                    /* requests taken per vbd (queued or at the disk), 32 */
    /* The virtual-time engine's model: one device shared by every vbd,
     * serving model_depth requests at once, each `latency` then its bytes
     * at `bandwidth` (bytes/s, the device's, one transfer at a time);
     * blkback's CPU is `request` per request and `kib` per KiB copied,
     * charged as netback's is. */
    fv_ns_t latency;
    uint64_t bandwidth;
    fv_ns_t cost_request, cost_kib;
    /* The I/O scheduler: `fairness` (none: FIFO over all vbds; sfq), `depth`
     * requests at the disk at most over all vbds, and the model's device
     * serving `model.depth` at once (both default 16; 0 in a scenario built
     * by hand is the default). */
    enum scn_blk_fairness fairness;
    unsigned depth, model_depth;
};

struct scn_domain {
    char name[SCN_NAME_MAX];            /* after `count` expansion: NAME-0, NAME-1, ... */
    char group[SCN_NAME_MAX];           /* the entry's name before expansion ("" = name) */
    int id;                             /* 1.. in file order (0 is the control domain) */
    int vcpus;                          /* default 1 */
    uint64_t memory;                    /* bytes, default 64 MiB */
    bool pinned;                        /* `pin` given */
    fv_cpumask_t pin;                   /* when pinned; pCPUs < scenario pcpus */
    struct sched_dom_params sp;         /* weight, cap, period, budget, extratime */
    struct scn_workload wl;
    int nr_vifs;
    struct scn_vif *vifs;               /* nr_vifs of them */
    bool is_dom0;                       /* the control domain the loader added */
    int nr_vbds;
    struct scn_vbd *vbds;               /* nr_vbds of them */
};

struct scenario {
    char file[256];                     /* path as given, for messages */
    char name[SCN_NAME_MAX];            /* default: file's base name without .yaml */
    char engine[16];                    /* "sim" (default) | "real" */
    fv_ns_t duration;                   /* required, > 0 */
    uint64_t seed;                      /* default 1 */
    char mode[16];                      /* "density" (default) | "performance" */
    int pcpus;                          /* default 1 (sim), host CPUs (real) */
    fv_ns_t sample;                     /* timeline interval, default 100 ms */
    fv_ns_t starvation_threshold;       /* `starvation: { threshold: }`, default 100 ms */
    const struct sched_ops *policy;     /* `sched: { policy: }`, default credit */
    struct sched_global_params gp;      /* policy defaults filled */
    bool chargeback;                    /* `sched: { chargeback: }`, default the policy's */
    int nr_domains;                     /* after count expansion, Domain-0 included */
    struct scn_domain *domains;
    /* Domain-0 (id 0, "Domain-0") is added as the LAST entry of domains when
     * any domain has a vif or a vbd: it runs netback and blkback. dom0 is
     * its index, or -1; nr_guests counts the others (ids 1..nr_guests,
     * indexes 0..nr_guests-1). */
    int dom0;
    int nr_guests;
    struct scn_netback netback;
    struct scn_blkback blkback;
    /* `monitor: { counters: [NAME, ...] }`: events counted per domain
     * (counters.h), as written; default none. */
    int nr_counters;
    char counters[FV_MAX_COUNTERS][FV_COUNTER_NAME_MAX];
};

/* Load `path`, apply overrides sets[0..nsets-1] ("key.path=value"; a path
 * step into a list is an index: domains.0.weight=512), validate, expand
 * `count`, fill defaults. Returns 0, or -EINVAL with the message in err. */
int scenario_load(const char *path, const char *const *sets, int nsets,
                  struct scenario *out, char *err, size_t errlen);
/* The same from a string; `file` names it in messages. */
int scenario_load_string(const char *file, const char *text, const char *const *sets,
                         int nsets, struct scenario *out, char *err, size_t errlen);
/* The same for a live host (`fairvisor serve`): from the file `path`, or
 * from `text` (named "host") when path is NULL; `domains` may be empty or
 * absent (the host starts with none). */
int scenario_load_host(const char *path, const char *text, const char *const *sets, int nsets,
                       struct scenario *out, char *err, size_t errlen);
/* The same from a string that `file` names in messages. A live host's
 * scenario may also name `netback:` or `blkback:` with no domain that has a
 * vif or a vbd: its Domain-0 then runs that backend for domains created
 * later. */
int scenario_load_host_string(const char *file, const char *text, struct scenario *out,
                              char *err, size_t errlen);
void scenario_free(struct scenario *s);

/* Write the fully resolved scenario (every default filled, replicas
 * expanded) as YAML that scenario_load accepts and that resolves to the same
 * scenario. Returns 0 or -errno. */
int scenario_write_yaml(const struct scenario *s, FILE *f);

/* One domain entry as scenario_write_yaml writes it under `domains:`
 * ("  - name: ..."), peers named through s. 0 or -EIO. */
int scenario_write_domain_yaml(const struct scenario *s, const struct scn_domain *d, FILE *f);

/* Unit parsers shared with the CLI: "30ms" -> ns, "4MiB" -> bytes,
 * "10k" -> 10000. A bare number is refused for durations and sizes (units
 * are explicit). Return 0 or -EINVAL. */
int scn_parse_duration(const char *s, fv_ns_t *out);
int scn_parse_size(const char *s, uint64_t *out);
int scn_parse_count(const char *s, int64_t *out);

/* The inverse, exact (never rounded): the largest unit that divides the
 * value, "30ms", "1500us", "123ns", "64MiB", "0B". Returns buf, which holds
 * at least SCN_FMT_MAX bytes. */
#define SCN_FMT_MAX 32
const char *scn_format_duration(fv_ns_t ns, char *buf, size_t len);
const char *scn_format_size(uint64_t bytes, char *buf, size_t len);

#endif
