/* guest.h — the guest API: everything a workload may ask of the hypervisor.
 *
 * Workloads are written once against this header and run unchanged on both
 * engines. In the sim engine a call that takes time (compute, block, yield)
 * switches from the vCPU's context back to the engine, which advances
 * virtual time; in the real engine these are hypercalls. A guest calls no
 * host libc: only these functions and the pure helpers in guest_rand.h.
 *
 * Every function acts on the calling vCPU ("current"). Functions that can
 * fail return 0 or a negative errno.
 */
#ifndef FV_GUEST_H
#define FV_GUEST_H

#include <stdint.h>

#include "../hv/fvtime.h"

/* Consume `ns` of this vCPU's own CPU time. Preemption may cut it at any
 * instant; the call returns once the whole span has been run. ns <= 0 is a
 * no-op. */
void guest_compute(fv_ns_t ns);

/* Consume `ns` of CPU time as guest_compute does; in the real engine the
 * work is a loop reading and writing the first `wss` bytes of this
 * domain's memory (one cache line at a time), so domains contend for
 * caches. wss beyond the domain's memory is clamped. */
void guest_touch(fv_ns_t ns, uint64_t wss);

/* Block until an event or this vCPU's timer fires. Returns at once if one
 * is already pending (the pending flag is consumed). */
void guest_block(void);

/* Give up the pCPU; stays runnable. */
void guest_yield(void);

/* Arm this vCPU's one-shot timer at absolute time `when` (replacing any
 * earlier one); when <= now fires at once. Returns -EINVAL for when < 0. */
int guest_set_timer(fv_ns_t when);

/* Block until absolute time `when` (set_timer + block, ignoring other events). */
void guest_sleep_until(fv_ns_t when);

/* Current time (virtual in sim, monotonic in real). */
fv_ns_t guest_now(void);

/* Record n completed work units for this domain. */
void guest_work_units(uint64_t n);

/* Record that work this domain woke for finished after its deadline. */
void guest_deadline_miss(void);

/* Record n errors the workload found in what it was given (data that does
 * not match what it wrote, say): summary.json's `guest_errors`. */
void guest_errors(uint64_t n);

/* Record one application latency sample (ns) measured by the guest itself
 * (a request's round trip, say). Wake-up latency needs no call: the
 * hypervisor measures it from wake to run. */
void guest_latency_sample(fv_ns_t ns);

/* This domain's deterministic random seed (from the scenario seed and the
 * domain id), for guest_rand.h. */
uint64_t guest_seed(void);

/* Write len bytes at buf to this domain's console (the run's log, one line
 * per call, prefixed with the domain name). buf must lie in the domain's
 * own memory: -EFAULT otherwise; -EINVAL for len > 4096. */
int guest_console_write(const char *buf, uint64_t len);

/* Event channels (Xen's semantics, hv/evtchn.h). Each returns a port
 * (>= 1), 0, or -errno: -ESRCH unknown domain, -EINVAL bad port or a port
 * in the wrong state or not meant for this domain, -ENOSPC no free port.
 * A send to a bound port sets it pending at the peer and wakes the peer's
 * bound vCPU from guest_block; poll tests and clears this domain's port:
 * 1 if it was pending, 0 if not. */
int guest_evtchn_alloc_unbound(int remote_domid);
int guest_evtchn_bind(int remote_domid, int remote_port);
int guest_evtchn_send(int port);
int guest_evtchn_close(int port);
int guest_evtchn_poll(int port);
int guest_evtchn_mask(int port);
int guest_evtchn_unmask(int port);
int guest_evtchn_bind_vcpu(int port, int vcpu);

/* ---- devices: memory for drivers, grants, virtual NICs ------------------- */

/* This domain's driver memory: a page-aligned area of its own memory that
 * guest_touch never uses, sized for its vifs' rings and buffers (empty for
 * a domain without devices). Returns the area and sets *size (bytes). */
void *guest_io_area(uint64_t *size);

/* Grant domain `domid` access to one page of this domain's memory (page
 * aligned), read-only or writable. Returns the grant reference (>= 0), or
 * -EINVAL (not a page of this domain, or domid is this domain), -ENOSPC
 * (the per-domain limit on grants is reached), -ESHUTDOWN. */
int guest_grant_access(int domid, const void *page, int readonly);
/* End a grant: 0, -EINVAL (not granted), -EBUSY (the peer is using it right
 * now: retry later). */
int guest_grant_end(int ref);

/* The address of vif `vif` of domain `domid` (its MAC, IPv4 and prefix), as
 * the host configured it; domid 0 is the host side of the TAP port.
 * 0, -ENODEV (no such vif), -ESRCH (no such domain). */
struct guest_net_addr {
    uint8_t mac[6];
    uint8_t prefix;
    uint8_t pad;
    uint32_t ip;                        /* host byte order */
};
int guest_net_addr(int domid, int vif, struct guest_net_addr *out);
/* How many vifs this domain has. */
int guest_vif_count(void);
/* Hand vif `vif`'s rings to the backend (what netfront writes to xenstore
 * in Xen): the grant references of its TX and RX ring pages (granted to
 * domain 0, writable) and an unbound event-channel port for domain 0.
 * 0, -ENODEV, -EBUSY (already connected), or the backend's refusal. */
int guest_vif_connect(int vif, int tx_ref, int rx_ref, int port);

/* Virtual disks: how many this domain has, vbd `vbd`'s size in 512-byte
 * sectors (0, or -ENODEV), and handing its ring to the backend (the grant
 * reference of its ring page, granted to domain 0 writable, and an unbound
 * event-channel port for domain 0): 0, -ENODEV, -EBUSY, or the backend's
 * refusal. */
int guest_vbd_count(void);
int guest_vbd_info(int vbd, uint64_t *sectors);
int guest_vbd_connect(int vbd, int ring_ref, int port);

/* Domain 0's backends, one pass (domain 0 only; -EPERM elsewhere): moves
 * what is pending between the vifs' rings and the port. Returns the work
 * done (packets moved), with *cost the CPU time that pass is modelled to
 * take in virtual time (0 in the real engine, where it was really spent),
 * and *poll_ns how long an idle backend may sleep before it must look at
 * the port again (0: events suffice), *dedicated 1 when it busy-polls. */
struct guest_backend_pass {
    fv_ns_t cost;
    fv_ns_t poll_ns;
    int dedicated;
};
int guest_backend_poll(struct guest_backend_pass *out);

/* 1 if time is virtual (sim engine): guest code between two calls takes no
 * time there, so a guest must not loop without calling the hypervisor. */
int guest_time_is_virtual(void);

/* This domain's id and the calling vCPU's index. */
int guest_domid(void);
int guest_vcpuid(void);

#endif
