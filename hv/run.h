/* run.h — what one experiment produced, engine-independent: the figures of
 * summary.json (DESIGN §7) per domain and overall, plus the timeline rows the
 * engine streams out while it runs. */
#ifndef FV_RUN_H
#define FV_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "fvtime.h"
#include "hist.h"

struct scenario;

/* Network figures of a domain with vifs (summary.json's `net`), from
 * netback's per-vif counters. Drops by cause, in netback's order
 * (nb_drop_names): no_rx_buffer, no_dest, port_full, no_buffer,
 * disconnected, spoofed. */
#define RUN_NET_DROP_CAUSES 6
struct dom_net {
    bool present;                   /* the domain has a vif (or is Domain-0) */
    uint64_t tx_pkts, rx_pkts, tx_bytes, rx_bytes;
    uint64_t drops;
    uint64_t drops_by[RUN_NET_DROP_CAUSES];
    uint64_t disconnects;           /* vifs netback disconnected */
    char disconnect_reason[200];    /* the first one's reason */
};

/* Block figures of a domain with vbds (summary.json's `blk`), from
 * blkback's per-vbd counters: requests answered OKAY, bytes moved, the
 * service latency of each request (taken off the ring to answered). */
struct dom_blk {
    bool present;
    uint64_t reads, writes, flushes, bytes;
    uint64_t errors, unsupported;   /* answered ERROR / EOPNOTSUPP */
    struct fv_hist latency;
    uint64_t disconnects;
    char disconnect_reason[200];
    bool direct;                    /* file backend: O_DIRECT (false: buffered or memory) */
};

/* Starvation by resource (summary.json's starvation_by_resource and the
 * list's "resource"; names in run_starve_names). */
enum { RUN_STARVE_CPU, RUN_STARVE_NET, RUN_STARVE_BLK, RUN_STARVE_RESOURCES };
extern const char *const run_starve_names[RUN_STARVE_RESOURCES];   /* "cpu", "net", "blk" */

struct run_starve {
    uint64_t events;                /* episodes longer than the threshold */
    fv_ns_t starved_ns;             /* their total length */
};

/* One starvation event (summary.json's starvation.list, starvation.csv):
 * domain index `dom` was starved on `resource` for duration_ns from
 * start_ns (run time); holders[] are the domains served there meanwhile,
 * the most served first, holders_total how many there were in all. */
#define RUN_STARVE_HOLDERS 8
struct run_starve_event {
    fv_ns_t start_ns, duration_ns;
    int dom;
    int resource;                   /* RUN_STARVE_CPU, _NET, _BLK */
    int nr_holders;
    int holders_total;
    int holders[RUN_STARVE_HOLDERS];
};

#define RUN_MAX_COUNTERS 8          /* = FV_MAX_COUNTERS (counters.h) */
#define RUN_COUNTER_NAME_MAX 64

struct dom_result {
    char name[64];
    char group[64];                 /* its scenario entry's name ("": results_dom_group) */
    int id;
    int vcpus;
    uint32_t weight;
    uint32_t cap;
    fv_ns_t cpu_ns;                 /* CPU time received */
    double cpu_share;               /* cpu_ns / (duration × pcpus) */
    double entitled_share;          /* what the policy promised, same unit */
    fv_ns_t entitled_ns;            /* entitled_share × duration × pcpus */
    struct fv_hist wait;            /* runnable-to-running waits, ns */
    struct fv_hist wakeup;          /* blocked-wake-to-running, ns */
    struct fv_hist app_latency;     /* guest_latency_sample() */
    uint64_t work_units;
    uint64_t deadline_misses;       /* reported by the guest (its own deadlines) */
    uint64_t guest_errors;          /* reported by the guest: data it found wrong */
    uint64_t sched_deadline_misses; /* reported by the policy (reservations, rtds) */
    fv_ns_t starved_ns;             /* total length of starvation episodes */
    uint64_t starvation_events;     /* episodes longer than the threshold */
    /* the same by resource (starved_ns and starvation_events are their sums) */
    struct run_starve starve_by[RUN_STARVE_RESOURCES];
    fv_ns_t backend_cpu_ns;         /* work done on its behalf elsewhere */
    fv_ns_t charged_ns;             /* ... of it charged through the policy (charge-back) */
    fv_ns_t runnable_ns;            /* vCPU time spent runnable (waiting or running) */
    bool crashed;                   /* the hypervisor killed it (a hostile guest) */
    fv_ns_t crashed_at_ns;          /* when, in run time */
    char crash_reason[224];         /* what it did */
    uint64_t mem_resident_bytes;    /* real engine: guest memory it touched (resident pages) */
    /* monitor.counters: each counted event's total while its vCPUs ran
     * (run_result.counter_names says which) */
    uint64_t counters[RUN_MAX_COUNTERS];
    fv_ns_t created_ns;             /* a live host: when it was created (0: at the start) */
    fv_ns_t destroyed_ns;           /* ... and destroyed (0: alive at the end) */
    struct dom_net net;
    struct dom_blk blk;
};

/* Domains entitled to less than this share of the host are left out of
 * Jain's index and the minimum normalized share (run_result_finish). */
#define RUN_JAIN_MIN_ENTITLED 1e-3

struct run_result {
    const struct scenario *scn;
    const char *policy;
    const char *engine;
    uint64_t seed;
    fv_ns_t duration_ns;            /* what actually ran (less if interrupted) */
    int pcpus;
    bool complete;                  /* false if stopped early (SIGINT) */
    bool live;                      /* a live host (fairvisor serve): domains came and went */
    int nr_counters;                /* monitor.counters as counted (a fallback applied) */
    char counter_names[RUN_MAX_COUNTERS][RUN_COUNTER_NAME_MAX];
    int nr_doms;
    struct dom_result *doms;        /* [nr_doms], in scenario order */
    double jain;                    /* Jain's index over cpu_share/entitled_share */
    double jain_guests;             /* the same over the guests (Domain-0 left out) */
    double min_normalized_share;
    fv_ns_t starvation_threshold_ns;
    uint64_t starvation_events;     /* sum over domains */
    /* The first events found (STARVE_LIST_MAX at most), in start order;
     * starve_list_truncated: more were found than listed. */
    struct run_starve_event *starve_list;
    int nr_starve_list;
    bool starve_list_truncated;
    bool chargeback;                /* sched.chargeback of the run */
    uint64_t events;                /* engine events processed */
    uint64_t schedules;             /* do_schedule calls */
    double wall_s;                  /* wall-clock time the run took */
};

/* One timeline row: a domain over one sampling interval [t0, t1). */
struct timeline_row {
    fv_ns_t t0, t1;
    int dom_index;
    fv_ns_t cpu_ns;
    double cpu_share;               /* cpu_ns / ((t1 - t0) × pcpus) */
    double entitled_share;
    fv_ns_t runnable_ns;
    uint64_t work_units;
    uint64_t wakeups;
    /* The domain's vif traffic over the interval (deltas of struct dom_net's
     * counters; 0 without a net source: metrics_set_net_source). */
    uint64_t net_tx_pkts, net_rx_pkts, net_tx_bytes, net_rx_bytes;
    uint64_t net_drops;
    /* The domain's vbd requests over the interval (deltas of struct
     * dom_blk's counters; 0 without a blk source: metrics_set_blk_source). */
    uint64_t blk_reads, blk_writes, blk_bytes, blk_errors;
};

/* Receives timeline rows as the run goes (NULL: discard). */
struct timeline_sink {
    void (*rows)(void *ctx, const struct timeline_row *r, int n);
    void *ctx;
};

/* Fill jain, min_normalized_share and starvation_events from doms[].
 * Domains with entitled_share 0 are left out of the index. */
void run_result_finish(struct run_result *r);
void run_result_free(struct run_result *r);

#endif
