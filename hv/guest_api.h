/* guest_api.h — how guest.h calls reach an engine. Each engine fills a
 * backend table; the engine sets guest_current to the vCPU whose context it
 * switches into (per host thread), and every guest_* call dispatches
 * through it. In the real engine these entry points are the hypercalls. */
#ifndef FV_GUEST_API_H
#define FV_GUEST_API_H

#include <stdint.h>

#include "fvtime.h"

struct guest_vcpu;
struct guest_net_addr;
struct guest_backend_pass;

enum guest_evtchn_op {
    GEV_ALLOC_UNBOUND, GEV_BIND, GEV_SEND, GEV_CLOSE, GEV_POLL, GEV_MASK, GEV_UNMASK,
    GEV_BIND_VCPU,
};

struct guest_backend {
    void (*compute)(struct guest_vcpu *v, fv_ns_t ns);
    void (*touch)(struct guest_vcpu *v, fv_ns_t ns, uint64_t wss);
    int (*console_write)(struct guest_vcpu *v, const char *buf, uint64_t len);
    void (*block)(struct guest_vcpu *v);
    void (*yield)(struct guest_vcpu *v);
    int (*set_timer)(struct guest_vcpu *v, fv_ns_t when);
    fv_ns_t (*now)(struct guest_vcpu *v);
    void (*work_units)(struct guest_vcpu *v, uint64_t n);
    void (*deadline_miss)(struct guest_vcpu *v);
    void (*errors)(struct guest_vcpu *v, uint64_t n);
    void (*latency_sample)(struct guest_vcpu *v, fv_ns_t ns);
    /* An event-channel hypercall: evtchn.c semantics, run with preemption
     * off; the engine's notify wakes the bound vCPU. */
    int (*evtchn)(struct guest_vcpu *v, enum guest_evtchn_op op, int a, int b);
    /* Devices (host.c does the work; the engine runs it as a hypercall). */
    void *(*io_area)(struct guest_vcpu *v, uint64_t *size);
    int (*grant)(struct guest_vcpu *v, int domid, const void *page, int readonly);
    int (*grant_end)(struct guest_vcpu *v, int ref);
    int (*net_addr)(struct guest_vcpu *v, int domid, int vif, struct guest_net_addr *out);
    int (*vif_count)(struct guest_vcpu *v);
    int (*vif_connect)(struct guest_vcpu *v, int vif, int tx_ref, int rx_ref, int port);
    int (*backend_poll)(struct guest_vcpu *v, struct guest_backend_pass *out);
    int (*vbd_count)(struct guest_vcpu *v);
    int (*vbd_info)(struct guest_vcpu *v, int vbd, uint64_t *sectors);
    int (*vbd_connect)(struct guest_vcpu *v, int vbd, int ring_ref, int port);
    int virtual_time;
};

/* The shared-info page (Xen's shared_info/vcpu_time_info in miniature):
 * the first page of a domain's memory in the real engine, written by the
 * hypervisor, read by the guest without a hypercall. `version` is a
 * seqlock: odd while the hypervisor writes, bumped after. */
struct fv_shared_info {
    _Atomic uint32_t version;
    uint32_t pad;
    int64_t time_base_ns;       /* CLOCK_MONOTONIC at the run's time 0 */
};

/* Embedded first in each engine's vCPU. */
struct guest_vcpu {
    const struct guest_backend *be;
    uint64_t seed;
    int domid, vcpuid;
    const struct fv_shared_info *shinfo;    /* NULL: time through be->now */
};

extern __thread struct guest_vcpu *guest_current;

#endif
