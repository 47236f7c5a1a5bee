/* host.h — what a run builds once, whichever engine runs it: the event
 * channels, each domain's memory and grant table, the vifs and their
 * backend (DESIGN §4: the engines supply only time, running vCPUs and how
 * device service is paid for). The engines call the host_* hypercalls
 * below with preemption off; these take their own locks and never the
 * scheduler's.
 *
 * A domain's memory, one mapping (MAP_NORESERVE: only what is used is ever
 * backed):  [shared-info page][guest memory][driver I/O area][guard][stacks]
 * The real engine maps it for every domain, stacks included; the sim engine
 * (stacks in its own arena) only for domains with devices.
 */
#ifndef FV_HOST_H
#define FV_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "fvtime.h"

struct gnttab;
struct netback;
struct blkback;
struct nb_port;
struct guest_net_addr;
struct guest_backend_pass;
struct dom_result;
struct starve;
struct starve_io;

/* Charge-back: backend time domain index `dom` accrued (ns). */
struct host_charge {
    int dom;
    fv_ns_t ns;
};

/* Driver memory per vif: netfront's state, two ring pages, 256 TX and 256
 * RX buffer pages (workloads/netfront.h lays it out); per vbd: blkfront's
 * state, its ring and 32 × 11 data pages (workloads/blkfront.h), after the
 * vifs'. */
#define HOST_IO_PAGES_PER_VIF 520u
#define HOST_IO_PAGES_PER_VBD 360u
#define HOST_PAGE 4096u

struct host_dom {
    char *mem;                      /* the whole mapping, or NULL */
    uint64_t mem_size;
    char *guest;                    /* guest memory: what guest_touch walks */
    uint64_t guest_size;
    char *io;                       /* driver I/O area (page aligned) */
    uint64_t io_size;
    char *stacks;                   /* real engine: vCPU slots (guard + stack) */
    struct gnttab *gt;              /* NULL without a mapping */
};

struct host_conf {
    evtchn_notify_fn notify;        /* event-channel wake-ups */
    void *ctx;
    bool virtual_time;              /* sim: modelled costs, an in-memory port */
    bool map_all;                   /* real: every domain gets its mapping */
    uint64_t stack_slot;            /* real: bytes per vCPU slot (a guard page + the stack) */
    int cap_doms;                   /* room for domains added at run time (0: none) */
};

struct host {
    const struct scenario *scn;
    struct host_conf conf;
    struct engine_evtchn ev;
    struct host_dom *dom;           /* by domain index */
    struct nb_port *port;
    struct netback *nb;
    struct blkback *bb;             /* NULL without vbds */
    struct starve *starve;          /* fed after each backend pass (NULL: not) */
    /* host_backend_deltas: per domain with a vif or vbd, the backend time
     * seen so far; and its last answer. */
    struct host_charge *charge_seen, *charges;
    int nr_charge_doms;
    int64_t time_base;              /* host_set_time_base's, for domains added later */
};

/* Build it all; 0, or -EINVAL (the scenario asks for what this engine or
 * build cannot do: bad input) or another -errno, with a message in err. */
int host_build(struct host *h, const struct scenario *scn, const struct host_conf *c,
               char *err, size_t errlen);
void host_destroy(struct host *h);
/* Publish the run's time 0 (CLOCK_MONOTONIC ns) in every shared-info page. */
void host_set_time_base(struct host *h, int64_t ns);
/* A live host's domains (index d of scn->domains, filled in; room for it
 * from conf.cap_doms). host_dom_map maps its memory, makes its grant
 * table and gives its vifs and vbds to netback and blkback (-ENOTSUP when
 * the host has no such backend; other errors: its memory, a disk, no room;
 * the reason in err); host_dom_evtchn_add publishes it in the domain table with its
 * event channels (last, once it can be woken). host_dom_evtchn_remove
 * closes its ports (peers see them close), unpublishes it and waits for
 * every reader (synchronize_rcu: not from a read-side section);
 * host_dom_devices_remove takes its vifs and vbds out of the backends
 * (no pass touches its rings or grants afterwards: its vCPUs must be off
 * their pCPUs); host_dom_unmap revokes its grants and frees its memory. */
int host_dom_map(struct host *h, int d, char *err, size_t errlen);
/* forget: the creation is undone and the index will be used again (its
 * devices' statistics and backend time are dropped). */
void host_dom_devices_remove(struct host *h, int d, bool forget);
int host_dom_evtchn_add(struct host *h, int d);
void host_dom_evtchn_remove(struct host *h, int d);
void host_dom_unmap(struct host *h, int d);

/* After the run: each domain's backend_cpu_ns and net figures. */
void host_collect(const struct host *h, struct dom_result *res);

/* Domain index d's network counters so far (cumulative), from any thread
 * while the run goes on; all zero for a domain without vifs. */
struct dom_net;
void host_net_counters(const struct host *h, int d, struct dom_net *out);
/* The same as a metrics net source (metrics_set_net_source; ctx: the host). */
void host_net_source(void *ctx, int d, struct dom_net *out);
/* Backend time spent on domain index d's vifs and vbds so far (ns), from
 * any thread. */
fv_ns_t host_backend_ns(const struct host *h, int d);
/* Domain index d's block counters so far (cumulative; the latency
 * histogram is left empty), from any thread; a metrics blk source. */
struct dom_blk;
void host_blk_source(void *ctx, int d, struct dom_blk *out);
/* Domain index d's requests waiting at netback and blkback and what they
 * served it so far, from any thread; a starvation I/O source
 * (starve_set_io_source; ctx: the host). */
void host_starve_source(void *ctx, int d, struct starve_io *out);

/* Charge-back, after a backend pass, on the thread that ran it (Domain-0's
 * vCPU 0): the backend time (netback_vif_stats and blkback_vbd_stats
 * backend_ns) each domain accrued since the previous call, as (index, ns)
 * pairs in *out (the host's array, valid until the next call). Returns how
 * many. Takes no lock: the pass is those counters' only writer. */
int host_backend_deltas(struct host *h, const struct host_charge **out);

/* ---- hypercalls (d: the calling domain's index) ---- */
void *host_io_area(struct host *h, int d, uint64_t *size);
int host_grant(struct host *h, int d, int domid, const void *page, int readonly);
int host_grant_end(struct host *h, int d, int ref);
int host_net_addr(const struct host *h, int domid, int vif, struct guest_net_addr *out);
int host_vif_count(const struct host *h, int d);
int host_vif_connect(struct host *h, int d, int vif, int tx_ref, int rx_ref, int port);
int host_vbd_count(const struct host *h, int d);
int host_vbd_info(const struct host *h, int d, int vbd, uint64_t *sectors);
int host_vbd_connect(struct host *h, int d, int vbd, int ring_ref, int port);
/* Domain-0's backend pass at run time `now` (virtual time; 0 in real time,
 * where the backends read the clock themselves and due times are relative
 * to 0): netback's, then blkback's. */
int host_backend_poll(struct host *h, int d, fv_ns_t now, struct guest_backend_pass *out);

#endif
