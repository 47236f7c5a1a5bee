/* evtchn.c — evtchn-ping: two domains bounce events over one event channel.
 * Each vCPU of the server allocates an unbound port for its peer (a
 * one-vCPU server's port is 1) and serves it; the client binds to one, then sends and waits for the answer `count`
 * times, recording each round trip with guest_latency_sample and a work
 * unit. Guest code: only guest.h calls. */
#include <stddef.h>

#include "guest.h"
#include "workload.h"

enum { PING_ROLE, PING_PEER, PING_COUNT, PING_WORK, PING_PORT };

static const char *const ping_roles[] = { "client", "server", NULL };

/* `peer` names a domain (workload_peer_params): a client talks to a server
 * that names it back, and binds one of the server's ports, one per server
 * vCPU (1..vcpus); a server serves a client that names it back. */
const struct wl_peer_rule workload_evtchn_ping_peer[] = {
    { .role = 0, .kind = "evtchn-ping", .peer_role = 1, .mutual = true, .per_peer_vcpu = "port" },
    { .role = 1, .kind = "evtchn-ping", .peer_role = 0, .mutual = true },
    { .kind = NULL },
};

static const struct wl_param_desc ping_params[] = {
    [PING_ROLE] = { "role", WL_ENUM, 0, 1, 0, ping_roles, "client | server" },
    [PING_PEER] = { "peer", WL_INT, 1, 0x7FEF, 1, NULL,
                    "the other side: a domain name, or a domain id" },
    [PING_COUNT] = { "count", WL_INT, 0, 1LL << 40, 0, NULL,
                     "client: round trips, then idle (0 = until the end)" },
    [PING_WORK] = { "work", WL_NS, 0, 1000000000, 0, NULL,
                    "CPU time spent per message (at least 1us in virtual time)" },
    [PING_PORT] = { "port", WL_INT, 1, 4095, 1, NULL, "client: the server's port to bind" },
    { 0 },
};

/* Wait until `port` is pending, clearing it. */
static void wait_port(int port)
{
    while (guest_evtchn_poll(port) != 1)
        guest_block();
}

static void work(fv_ns_t ns)
{
    /* Guest code takes no virtual time: a message must cost something. */
    if (ns < 1000 && guest_time_is_virtual())
        ns = 1000;
    guest_compute(ns);
}

static void ping_server(const struct wl_args *a)
{
    int port = guest_evtchn_alloc_unbound((int)a->v[PING_PEER]);
    if (port < 0)
        return;
    /* Each vCPU of a server allocates a port of its own (vCPU i of an
     * N-vCPU server gets one of ports 1..N) and serves it. A port notifies
     * vCPU 0 unless rebound: without this, vCPU 0 would be woken for every
     * port and, polling only its own, never sleep again. */
    guest_evtchn_bind_vcpu(port, guest_vcpuid());
    for (;;) {
        wait_port(port);
        work(a->v[PING_WORK]);
        guest_evtchn_send(port);
        guest_work_units(1);
    }
}

static void ping_client(const struct wl_args *a)
{
    int port;
    while ((port = guest_evtchn_bind((int)a->v[PING_PEER], (int)a->v[PING_PORT])) < 0)
        guest_sleep_until(guest_now() + 100000);    /* the server is not up yet */
    guest_evtchn_poll(port);                         /* bind sets it pending */
    for (int64_t n = 0; a->v[PING_COUNT] == 0 || n < a->v[PING_COUNT]; n++) {
        fv_ns_t t0 = guest_now();
        work(a->v[PING_WORK]);
        guest_evtchn_send(port);
        wait_port(port);
        guest_latency_sample(guest_now() - t0);
        guest_work_units(1);
    }
}

static void ping_main(const struct wl_args *a)
{
    if (a->v[PING_ROLE] == 1)
        ping_server(a);
    else
        ping_client(a);
}

const struct workload_desc workload_evtchn_ping = {
    "evtchn-ping", "event-channel ping-pong between two domains (round-trip latency)",
    ping_params, ping_main,
};
