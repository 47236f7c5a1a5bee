/* guest_api.c — the guest.h entry points: dispatch to the running engine. */
#include "guest_api.h"

#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include "../workloads/guest.h"

__thread struct guest_vcpu *guest_current;

void guest_compute(fv_ns_t ns)
{
    if (ns > 0)
        guest_current->be->compute(guest_current, ns);
}

void guest_touch(fv_ns_t ns, uint64_t wss)
{
    if (ns > 0)
        guest_current->be->touch(guest_current, ns, wss);
}

int guest_console_write(const char *buf, uint64_t len)
{
    if (len > 4096)
        return -EINVAL;
    return guest_current->be->console_write(guest_current, buf, len);
}

int guest_time_is_virtual(void) { return guest_current->be->virtual_time; }

void guest_block(void) { guest_current->be->block(guest_current); }
void guest_yield(void) { guest_current->be->yield(guest_current); }

int guest_set_timer(fv_ns_t when)
{
    if (when < 0)
        return -EINVAL;
    return guest_current->be->set_timer(guest_current, when);
}

void guest_sleep_until(fv_ns_t when)
{
    while (guest_now() < when) {
        if (guest_set_timer(when))
            return;
        guest_block();
    }
}

/* Time from the shared-info page when there is one: no hypercall, no lock;
 * the seqlock retries if the hypervisor was rewriting the base. */
fv_ns_t guest_now(void)
{
    const struct fv_shared_info *si = guest_current->shinfo;
    if (!si)
        return guest_current->be->now(guest_current);
    uint32_t v;
    int64_t base;
    do {
        v = atomic_load_explicit(&si->version, memory_order_acquire);
        base = si->time_base_ns;
        atomic_thread_fence(memory_order_acquire);
    } while ((v & 1) || v != atomic_load_explicit(&si->version, memory_order_relaxed));
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (fv_ns_t)ts.tv_sec * 1000000000LL + ts.tv_nsec - base;
}
void guest_work_units(uint64_t n) { guest_current->be->work_units(guest_current, n); }
void guest_deadline_miss(void) { guest_current->be->deadline_miss(guest_current); }
void guest_errors(uint64_t n) { guest_current->be->errors(guest_current, n); }

void guest_latency_sample(fv_ns_t ns)
{
    if (ns >= 0)
        guest_current->be->latency_sample(guest_current, ns);
}

uint64_t guest_seed(void) { return guest_current->seed; }
int guest_domid(void) { return guest_current->domid; }
int guest_vcpuid(void) { return guest_current->vcpuid; }

static int ev(enum guest_evtchn_op op, int a, int b)
{
    return guest_current->be->evtchn(guest_current, op, a, b);
}

int guest_evtchn_alloc_unbound(int remote_domid) { return ev(GEV_ALLOC_UNBOUND, remote_domid, 0); }
int guest_evtchn_bind(int remote_domid, int remote_port) { return ev(GEV_BIND, remote_domid, remote_port); }
int guest_evtchn_send(int port) { return ev(GEV_SEND, port, 0); }
int guest_evtchn_close(int port) { return ev(GEV_CLOSE, port, 0); }
int guest_evtchn_poll(int port) { return ev(GEV_POLL, port, 0); }
int guest_evtchn_mask(int port) { return ev(GEV_MASK, port, 0); }
int guest_evtchn_unmask(int port) { return ev(GEV_UNMASK, port, 0); }
int guest_evtchn_bind_vcpu(int port, int vcpu) { return ev(GEV_BIND_VCPU, port, vcpu); }

/* ---- devices ---- */

void *guest_io_area(uint64_t *size) { return guest_current->be->io_area(guest_current, size); }

int guest_grant_access(int domid, const void *page, int readonly)
{
    return guest_current->be->grant(guest_current, domid, page, readonly);
}

int guest_grant_end(int ref) { return guest_current->be->grant_end(guest_current, ref); }

int guest_net_addr(int domid, int vif, struct guest_net_addr *out)
{
    return guest_current->be->net_addr(guest_current, domid, vif, out);
}

int guest_vif_count(void) { return guest_current->be->vif_count(guest_current); }

int guest_vif_connect(int vif, int tx_ref, int rx_ref, int port)
{
    return guest_current->be->vif_connect(guest_current, vif, tx_ref, rx_ref, port);
}

int guest_backend_poll(struct guest_backend_pass *out)
{
    return guest_current->be->backend_poll(guest_current, out);
}

int guest_vbd_count(void) { return guest_current->be->vbd_count(guest_current); }

int guest_vbd_info(int vbd, uint64_t *sectors)
{
    return guest_current->be->vbd_info(guest_current, vbd, sectors);
}

int guest_vbd_connect(int vbd, int ring_ref, int port)
{
    return guest_current->be->vbd_connect(guest_current, vbd, ring_ref, port);
}
