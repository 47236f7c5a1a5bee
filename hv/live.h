/* live.h — domain 0 as a live host: the real engine running until told to
 * stop, with domains created, paused, re-weighted and destroyed while it
 * runs (`fairvisor serve`, DESIGN §1 and §6).
 *
 * A live host starts from a scenario's domains (or none) and runs them with
 * no end time. Every call below is thread-safe (the management API calls
 * them from its own threads) and either does all it says or nothing: a
 * refused request leaves the host as it was.
 *
 * Domains keep their index for the host's whole life: a destroyed domain
 * stays in the results (with destroyed_ns set) and its name becomes free
 * again. Domain ids are never reused (Xen hands out increasing domids).
 * `max_domains` bounds how many domains the host creates over its life.
 *
 * Errors: 0, or a negative errno with a message in err:
 *   -EINVAL  bad input (the message names the field: FILE:LINE:COL or key)
 *   -ENOENT  no such domain
 *   -EEXIST  a domain of that name exists
 *   -EBUSY   the request conflicts with the domain's state (pause a paused
 *            domain, unpause a running one)
 *   -ENOSPC  the host is full (max_domains over its life, or vCPUs)
 *   -ENOTSUP what this host cannot do at run time (say why)
 *   -ESHUTDOWN the host is stopping
 *   -ENOMEM and others: the host failed (not the request's fault)
 */
#ifndef FV_LIVE_H
#define FV_LIVE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../sched/sched.h"
#include "fvtime.h"
#include "run.h"

struct scenario;
struct live;

#define LIVE_MAX_DOMAINS_DEFAULT 4096

struct live_opts {
    int max_domains;                /* over the host's life; 0: LIVE_MAX_DOMAINS_DEFAULT */
    struct timeline_sink sink;      /* timeline rows as they come (NULL rows: none) */
};

/* Start a live host on scn (engine real; its duration is ignored: the host
 * runs until live_stop). scn must stay valid until live_finish and is
 * grown in place (its domains array) as domains are created. */
int live_start(struct scenario *scn, const struct live_opts *o, struct live **out,
               char *err, size_t errlen);

/* Ask the host to stop (any thread, also a signal handler: it only sets a
 * flag); live_wait returns. */
void live_stop(struct live *l);
bool live_stopping(const struct live *l);
/* Wait until stopped (live_stop, or the host failed). */
void live_wait(struct live *l);
/* After live_wait: stop the pCPUs and hand the whole life's figures to
 * out (as engine_run: free with run_result_free; every domain the host
 * ever had, in index order), then free the host. out may be NULL. */
int live_finish(struct live *l, struct run_result *out);

/* ---- domains ----------------------------------------------------------------- */

/* Create a domain from one entry in the scenario format (a mapping, YAML
 * or JSON; `count` is refused), validated by the scenario loader: a message
 * names "FILE:LINE:COL: ..." with `file` as FILE and the body's own lines.
 * The domain is running when this returns; *id_out (may be NULL) gets its
 * id. A list of entries is -EINVAL here: live_create_many. */
int live_create(struct live *l, const char *file, const char *text, size_t len, int *id_out,
                char *err, size_t errlen);
/* The same for one entry or a list of them (YAML or JSON), at most max (and
 * LIVE_CREATE_MAX): created together, all or none, so that entries may
 * name each other as peers (an evtchn-ping pair); none runs before all
 * are made. ids[0..*n) (ids may be NULL) get their ids, in list order. */
#define LIVE_CREATE_MAX 64
/* Is the body a list of entries (a YAML or JSON sequence)? */
bool live_body_is_list(const char *text, size_t len);
int live_create_many(struct live *l, const char *file, const char *text, size_t len, int *ids,
                     int max, int *n, char *err, size_t errlen);
/* Destroy it: vCPUs taken off their pCPUs and out of the policy, event
 * channels closed (peers see them close), grants revoked, memory freed. */
int live_destroy(struct live *l, const char *name, char *err, size_t errlen);
/* Pause (true) or unpause (false): a paused domain's vCPUs are not
 * runnable; events that arrive meanwhile wake it on unpause. */
int live_pause(struct live *l, const char *name, bool pause, char *err, size_t errlen);

/* A scheduler parameter by its schema name ("weight", "cap", "period",
 * "budget", "extratime"; "tslice", "ratelimit", ... for the policy), the
 * value in the schema's unit: ns for SCHED_PARAM_NS, 0/1 for BOOL. */
struct live_param {
    const char *name;
    int64_t value;
};
/* Change some of a domain's parameters through the policy's adjust (all
 * or none: unknown names, values out of the schema's range and values the
 * policy refuses are -EINVAL naming the parameter). */
int live_sched_dom(struct live *l, const char *name, const struct live_param *p, int n,
                   char *err, size_t errlen);
/* The same for the policy's global parameters (adjust_global). */
int live_sched_global(struct live *l, const struct live_param *p, int n, char *err, size_t errlen);

/* ---- what is going on ------------------------------------------------------------ */

struct live_host_info {
    const char *version;
    const char *policy;
    const struct sched_ops *ops;    /* the policy's schemas */
    struct sched_global_params gp;  /* current */
    const char *mode;
    int pcpus;
    fv_ns_t uptime_ns;
    int domains;                    /* alive now */
    int created, max_domains;       /* over the host's life */
    bool chargeback;
    /* monitor.counters as counted (a fallback applied): the names of
     * live_dom_info.counters */
    int nr_counters;
    char counter_names[RUN_MAX_COUNTERS][RUN_COUNTER_NAME_MAX];
};
void live_host_info(struct live *l, struct live_host_info *out);

enum live_state { LIVE_RUNNING, LIVE_BLOCKED, LIVE_PAUSED, LIVE_DESTROYED };
extern const char *const live_state_names[];   /* "running", "blocked", "paused", "destroyed" */

struct live_pct {
    uint64_t p50, p99, max;
};

struct live_dom_info {
    char name[64];
    int id;
    enum live_state state;          /* running: a vCPU runnable; blocked: none */
    int vcpus;
    uint64_t memory;                /* bytes configured */
    uint64_t mem_resident;          /* bytes of guest memory touched */
    struct sched_dom_params sp;     /* current */
    fv_ns_t created_ns, destroyed_ns;   /* host time; destroyed_ns 0: alive */
    fv_ns_t cpu_ns;                 /* since created */
    double cpu_share;               /* cpu_ns / (its lifetime x pcpus) */
    double cpu_share_recent;        /* over the last sampling interval */
    struct live_pct wait_ns, wakeup_ns;
    uint64_t work_units;
    uint64_t net_tx_pkts, net_rx_pkts, net_tx_bytes, net_rx_bytes, net_drops;
    uint64_t blk_reads, blk_writes, blk_bytes;
    fv_ns_t backend_cpu_ns;
    fv_ns_t starved_ns;
    uint64_t starvation_events;
    uint64_t counters[RUN_MAX_COUNTERS];    /* live_host_info.counter_names */
};
/* The domains alive now, in creation order: *out malloc'd (free it), *n. */
int live_domains(struct live *l, struct live_dom_info **out, int *n);
/* One (alive) domain by name; -ENOENT. */
int live_domain(struct live *l, const char *name, struct live_dom_info *out);

/* ---- events (life cycle and starvation, for GET /v1/events) ------------------- */

enum live_ev_type { LIVE_EV_CREATED, LIVE_EV_DESTROYED, LIVE_EV_PAUSED, LIVE_EV_UNPAUSED,
                    LIVE_EV_SCHED, LIVE_EV_STARVATION, LIVE_EV_SHUTDOWN };
extern const char *const live_ev_names[];   /* "created", ..., "shutdown" */

struct live_event {
    uint64_t seq;                   /* 1, 2, ... in order; never reused */
    fv_ns_t at;                     /* host time */
    enum live_ev_type type;
    char domain[64];                /* "" for host-wide ones */
    int id;                         /* domain id, or -1 */
    /* starvation: resource ("cpu", "net", "blk") and how long */
    char resource[8];
    fv_ns_t duration_ns;
};
/* Events with seq > after, oldest first, at most max into out; waits up to
 * timeout_ms for one if there is none yet. Returns how many (0: none in
 * time, or the host is stopping). The host keeps the last
 * LIVE_EVENT_RING; a reader further behind gets the oldest kept (its seq
 * shows the gap). */
#define LIVE_EVENT_RING 4096
int live_events(struct live *l, uint64_t after, struct live_event *out, int max, int timeout_ms);

#endif
