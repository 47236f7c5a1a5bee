/* net.c — the network workloads: net-flood, net-sink, net-echo, and
 * Domain-0's backend loop. Each guest runs the guest network stack
 * (netstack.h) over netfront (netfront.h) on its first vif, on vCPU 0 (its
 * other vCPUs stay idle). Every one of them answers ARP and ping.
 *
 * Datagrams of net-flood carry a sequence number, the sender's domain id
 * and a pattern with its checksum, so that net-sink counts a work unit
 * only for a datagram that arrived intact and in order from its sender
 * (it says on its console what was wrong with one that did not; a gap is
 * a loss, which netback counts as a drop).
 * Guest code: only guest.h calls, no libc. */
#include <errno.h>
#include <stddef.h>

#include "guest.h"
#include "netfront.h"
#include "netstack.h"
#include "workload.h"

enum { FLOOD_PEER, FLOOD_SIZE, FLOOD_RATE, FLOOD_PORT };
enum { SINK_PORT, SINK_WORK };
enum {
    ECHO_ROLE, ECHO_PEER, ECHO_RATE, ECHO_SIZE, ECHO_PORT, ECHO_COUNT, ECHO_WINDOW, ECHO_TIMEOUT,
    ECHO_BUSY
};

static const char *const echo_roles[] = { "client", "server", NULL };

/* As many requests in flight as the client has RX buffers for replies. */
#define ECHO_WINDOW_MAX NETFRONT_RX_BUFS

/* `peer` names a domain (workload_peer_params) or `host`, the host side of
 * the TAP port (value 0). */
const struct wl_peer_rule workload_net_flood_peer[] = {
    { .role = -1, .kind = "net-sink", .peer_role = -1, .host_ok = true },
    { .kind = NULL },
};
const struct wl_peer_rule workload_net_echo_peer[] = {
    { .role = 0, .kind = "net-echo", .peer_role = 1, .host_ok = true },
    { .role = 1, .kind = NULL, .unused = true },
    { .kind = NULL },
};

static const struct wl_param_desc flood_params[] = {
    [FLOOD_PEER] = { "peer", WL_INT, 0, 0x7FEF, 1, NULL,
                     "the receiver: a domain running net-sink, or host" },
    [FLOOD_SIZE] = { "size", WL_BYTES, 60, 1514, 64, NULL,
                     "Ethernet frame size without FCS (60B..1514B)" },
    [FLOOD_RATE] = { "rate", WL_INT, 0, 100000000, 0, NULL, "packets/s (0 = as fast as the ring drains)" },
    [FLOOD_PORT] = { "port", WL_INT, 1, 65535, 9, NULL, "UDP destination port" },
    { 0 },
};

static const struct wl_param_desc sink_params[] = {
    [SINK_PORT] = { "port", WL_INT, 1, 65535, 9, NULL, "UDP port it counts datagrams on" },
    [SINK_WORK] = { "work", WL_NS, 0, 1000000000, 0, NULL,
                    "CPU time spent per datagram received (an application's work)" },
    { 0 },
};

static const struct wl_param_desc echo_params[] = {
    [ECHO_ROLE] = { "role", WL_ENUM, 0, 1, 0, echo_roles, "client | server" },
    [ECHO_PEER] = { "peer", WL_INT, 0, 0x7FEF, 1, NULL,
                    "client: the server, a domain running net-echo role server, or host" },
    [ECHO_RATE] = { "rate", WL_INT, 0, 10000000, 1000, NULL,
                    "client: requests/s (0 = no pacing: as the window allows, or with window 0 "
                    "as the TX ring drains)" },
    [ECHO_SIZE] = { "size", WL_BYTES, 60, 1514, 64, NULL,
                    "client: Ethernet frame size without FCS (60B..1514B)" },
    [ECHO_PORT] = { "port", WL_INT, 1, 65535, 7, NULL, "UDP port of the server" },
    [ECHO_COUNT] = { "count", WL_INT, 0, 1LL << 40, 0, NULL,
                     "client: requests, then idle (0 = until the end)" },
    [ECHO_WINDOW] = { "window", WL_INT, 0, ECHO_WINDOW_MAX, 0, NULL,
                      "client: requests outstanding at most, 0..256 (0 = open loop at `rate`)" },
    [ECHO_TIMEOUT] = { "timeout", WL_NS, 1000, 60000000000LL, 100000000, NULL,
                       "client with a window: a request unanswered this long is lost and "
                       "frees its slot (1us..60s)" },
    [ECHO_BUSY] = { "busy", WL_NS, 0, 1000000000, 0, NULL,
                    "server: CPU computed between looks at the ring, never blocking "
                    "(0 = sleep until a request comes)" },
    { 0 },
};

/* ---- the common part: a vif with the stack on it --------------------------------- */

#define SPORT 40000                     /* our UDP source port */
#define ARP_RETRY 10000000              /* 10 ms between ARP requests */
#define HDR_LEN 16                      /* seq (8), domid (4), checksum (4) */

struct app {
    struct netfront *nf;
    struct ns_stack ns;
    uint8_t out[NS_FRAME_MAX];
};

/* A domain whose vif cannot come up says why and stays idle. */
static void say(const char *what, int rc)
{
    char buf[96];
    int n = 0;
    for (const char *p = what; *p && n < 80; p++)
        buf[n++] = *p;
    buf[n++] = ' ';
    unsigned v = (unsigned)(rc < 0 ? -rc : rc);
    char d[12];
    int k = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && k < 11);
    if (rc < 0)
        buf[n++] = '-';
    while (k)
        buf[n++] = d[--k];
    guest_console_write(buf, (uint64_t)n);
}

static void idle_forever(void) { netfront_idle(0); }

static int app_up(struct app *a)
{
    if (guest_vcpuid() != 0)
        idle_forever();
    int rc = netfront_init(&a->nf, 0);
    if (rc) {
        say("netfront: cannot bring vif 0 up: error", rc);
        idle_forever();
    }
    ns_init(&a->ns, a->nf->addr.mac, a->nf->addr.ip, a->nf->addr.prefix);
    return 0;
}

/* Send a frame built in a->out; a full ring waits for the backend's TX
 * completions alone: the frames received meanwhile stay on the RX ring
 * (the caller takes them after), so they must not end the wait. */
static void app_send(struct app *a, uint32_t len)
{
    while (netfront_send(a->nf, a->out, len) == -EAGAIN) {
        if (!netfront_tx_reap(a->nf))
            netfront_wait_tx(a->nf);
    }
}

typedef void (*udp_fn)(struct app *a, const struct ns_udp *u, void *ctx);

/* Everything received: ARP and ping answered, UDP handed to fn. Returns
 * the frames taken. */
static int app_rx(struct app *a, udp_fn fn, void *ctx)
{
    const uint8_t *f;
    uint32_t len, out_len;
    int id, n = 0;
    while (netfront_recv(a->nf, &f, &len, &id)) {
        struct ns_udp u;
        struct ns_echo e;
        enum ns_rx r = ns_input(&a->ns, f, len, a->out, &out_len, &u, &e);
        if (out_len)
            app_send(a, out_len);
        if (r == NS_RX_UDP && fn)
            fn(a, &u, ctx);
        netfront_rx_done(a->nf, id);
        n++;
    }
    netfront_tx_reap(a->nf);
    return n;
}

/* Wait for something to do, or until `until` (0: no limit). */
static void app_wait(struct app *a, fv_ns_t until)
{
    if (until > 0)
        guest_set_timer(until);
    netfront_wait(a->nf);
}

/* Learn ip's MAC (ARP), answering whatever comes meanwhile. */
static void app_resolve(struct app *a, uint32_t ip)
{
    while (!ns_arp_lookup(&a->ns, ip)) {
        int len = ns_arp_request(&a->ns, ip, a->out, sizeof(a->out));
        if (len > 0)
            app_send(a, (uint32_t)len);
        netfront_flush(a->nf);
        fv_ns_t until = guest_now() + ARP_RETRY;
        while (!ns_arp_lookup(&a->ns, ip) && guest_now() < until) {
            app_rx(a, NULL, NULL);
            if (!ns_arp_lookup(&a->ns, ip))
                app_wait(a, until);
        }
    }
}

static uint32_t peer_ip(struct app *a, int64_t peer)
{
    struct guest_net_addr pa;
    int rc = guest_net_addr((int)peer, 0, &pa);
    if (rc) {
        say("net: the peer has no address: error", rc);
        netfront_idle(a->nf->port);
    }
    return pa.ip;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static uint32_t fnv(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* ---- net-flood ------------------------------------------------------------------- */

/* payload: seq, domid, checksum of the pattern that follows */
static void flood_fill(uint8_t *p, uint32_t len, uint64_t seq)
{
    put64(p, seq);
    uint32_t dom = (uint32_t)guest_domid();
    for (int i = 0; i < 4; i++)
        p[8 + i] = (uint8_t)(dom >> (24 - 8 * i));
    for (uint32_t i = HDR_LEN; i < len; i++)
        p[i] = (uint8_t)(seq * 31 + i);
    uint32_t h = fnv(p + HDR_LEN, len > HDR_LEN ? len - HDR_LEN : 0);
    for (int i = 0; i < 4; i++)
        p[12 + i] = (uint8_t)(h >> (24 - 8 * i));
}

static void net_flood(const struct wl_args *args)
{
    struct app a;
    app_up(&a);
    uint32_t dst = peer_ip(&a, args->v[FLOOD_PEER]);
    app_resolve(&a, dst);
    int64_t rate = args->v[FLOOD_RATE];
    fv_ns_t gap = rate ? 1000000000LL / rate : 0, next = guest_now();
    uint64_t seq = 0;
    for (;;) {
        app_rx(&a, NULL, NULL);
        if (gap) {
            fv_ns_t now = guest_now();
            if (now < next) {
                netfront_flush(a.nf);
                app_wait(&a, next);
                continue;
            }
            next += gap;
        }
        uint8_t *buf;
        int id = netfront_tx_slot(a.nf, &buf);
        if (id < 0) {
            if (!netfront_tx_reap(a.nf))
                netfront_wait(a.nf);
            continue;
        }
        uint32_t off = 0, arp_len = 0;
        int len = ns_udp_frame_sized(&a.ns, dst, SPORT, (uint16_t)args->v[FLOOD_PORT],
                                     (uint32_t)args->v[FLOOD_SIZE], buf, NETIF_FRAME_MAX, &off,
                                     &arp_len);
        if (len == -EAGAIN) {           /* the peer's MAC left the cache: ask again */
            netfront_tx_commit(a.nf, id, arp_len);
            app_resolve(&a, dst);
            continue;
        }
        if (len < 0) {
            say("net-flood: cannot build a frame: error", len);
            netfront_idle(a.nf->port);
        }
        flood_fill(buf + off, (uint32_t)len - off, seq++);
        ns_udp_fix_csum(buf, (uint32_t)len);
        netfront_tx_commit(a.nf, id, (uint32_t)len);
        guest_work_units(1);
        if (gap || seq % 32 == 0)
            netfront_flush(a.nf);
    }
}

/* ---- net-sink -------------------------------------------------------------------- */

/* Senders whose order is checked: past that many, a new sender's datagrams
 * count when intact, unchecked for order (a full table must not make the
 * sink loop looking for a free slot). */
#define SINK_SOURCES 1024
struct sink {
    uint16_t port;
    fv_ns_t work;
    uint32_t src[SINK_SOURCES];         /* sender domain ids seen (0: empty) */
    uint64_t next[SINK_SOURCES];        /* the sequence number each one sends next */
    uint64_t bad;
};

/* The slot of sender `key` (dom + 1), taken if new; -1 when the table is full. */
static int sink_slot(struct sink *s, uint32_t key)
{
    int k = (int)(key % SINK_SOURCES);
    for (int i = 0; i < SINK_SOURCES; i++, k = (k + 1) % SINK_SOURCES) {
        if (s->src[k] == key)
            return k;
        if (!s->src[k]) {
            s->src[k] = key;
            return k;
        }
    }
    return -1;
}

static void sink_udp(struct app *a, const struct ns_udp *u, void *ctx)
{
    (void)a;
    struct sink *s = ctx;
    if (u->dport != s->port || u->len < HDR_LEN)
        return;
    const uint8_t *p = u->payload;
    uint64_t seq = get64(p);
    uint32_t dom = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
    uint32_t sum = (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 | (uint32_t)p[14] << 8 | p[15];
    int k = sink_slot(s, dom + 1);
    /* A gap is a loss (netback drops what a full RX ring cannot take, and
     * counts it); going backwards is not something a ring may do. */
    const char *what = NULL;
    if (fnv(p + HDR_LEN, u->len - HDR_LEN) != sum)
        what = "net-sink: a datagram's payload does not match its checksum";
    else if (k >= 0 && seq < s->next[k])
        what = "net-sink: a datagram out of order from domain";
    if (k >= 0 && seq >= s->next[k])
        s->next[k] = seq + 1;
    if (s->work > 0)
        guest_compute(s->work);
    if (what) {
        if (s->bad++ < 5)
            say(what, (int)dom);
        return;
    }
    guest_work_units(1);
}

static void net_sink(const struct wl_args *args)
{
    struct app a;
    app_up(&a);
    struct sink s;
    __builtin_memset(&s, 0, sizeof(s));
    s.port = (uint16_t)args->v[SINK_PORT];
    s.work = args->v[SINK_WORK];
    for (;;) {
        if (!app_rx(&a, sink_udp, &s))
            app_wait(&a, 0);
    }
}

/* ---- net-echo -------------------------------------------------------------------- */

static void echo_answer(struct app *a, const struct ns_udp *u, void *ctx)
{
    uint16_t port = *(const uint16_t *)ctx;
    if (u->dport != port)
        return;
    /* The payload lives in the RX buffer: copy it before building over out. */
    uint8_t body[NS_FRAME_MAX];
    __builtin_memcpy(body, u->payload, u->len);
    uint32_t arp_len = 0;
    int len = ns_udp_frame(&a->ns, u->src_ip, u->dport, u->sport, body, u->len, a->out,
                           sizeof(a->out), &arp_len);
    if (len > 0) {
        app_send(a, (uint32_t)len);
        guest_work_units(1);
    } else if (len == -EAGAIN) {
        app_send(a, arp_len);           /* the answer is lost; the client retries */
    }
}

/* With a window, the requests in flight: a reply frees its slot, and one
 * unanswered for `timeout` is lost (no latency sample, no work unit) and
 * frees its slot too. */
struct echo_client {
    uint32_t server;
    uint16_t port;
    int window;                         /* 0: open loop */
    fv_ns_t timeout;
    int inflight;
    uint64_t seq[ECHO_WINDOW_MAX];
    fv_ns_t sent[ECHO_WINDOW_MAX];
};

static void echo_reply(struct app *a, const struct ns_udp *u, void *ctx)
{
    (void)a;
    struct echo_client *c = ctx;
    if (u->src_ip != c->server || u->sport != c->port || u->dport != SPORT || u->len < 16)
        return;
    if (c->window) {
        uint64_t seq = get64(u->payload);
        int k = 0;
        while (k < c->inflight && c->seq[k] != seq)
            k++;
        if (k == c->inflight)
            return;                     /* counted lost already (or never sent) */
        c->inflight--;
        c->seq[k] = c->seq[c->inflight];
        c->sent[k] = c->sent[c->inflight];
    }
    fv_ns_t sent = (fv_ns_t)get64(u->payload + 8);
    guest_latency_sample(guest_now() - sent);
    guest_work_units(1);
}

/* Free the slots of requests unanswered for the timeout; returns the
 * earliest time another one will be (0: none in flight). */
static fv_ns_t echo_expire(struct echo_client *c, fv_ns_t now)
{
    fv_ns_t first = 0;
    for (int k = 0; k < c->inflight;) {
        fv_ns_t end = c->sent[k] + c->timeout;
        if (end <= now) {
            c->inflight--;
            c->seq[k] = c->seq[c->inflight];
            c->sent[k] = c->sent[c->inflight];
            continue;
        }
        if (!first || end < first)
            first = end;
        k++;
    }
    return first;
}

/* Whether the client may send at `now`; if not, *wake is when to look
 * again without a reply (0: only a reply helps). */
static bool echo_may_send(struct echo_client *c, fv_ns_t now, fv_ns_t next, fv_ns_t *wake)
{
    fv_ns_t slot = c->window ? echo_expire(c, now) : 0;
    bool full = c->window && c->inflight >= c->window;
    if (!full && now >= next)
        return true;
    *wake = !full ? next : now >= next ? slot : slot < next ? slot : next;
    return false;
}

static void echo_client(struct app *a, const struct wl_args *args)
{
    struct echo_client c = { .server = peer_ip(a, args->v[ECHO_PEER]),
                             .port = (uint16_t)args->v[ECHO_PORT],
                             .window = (int)args->v[ECHO_WINDOW],
                             .timeout = args->v[ECHO_TIMEOUT] };
    app_resolve(a, c.server);
    int64_t rate = args->v[ECHO_RATE];
    fv_ns_t gap = rate ? 1000000000LL / rate : 0, next = guest_now();
    uint32_t size = (uint32_t)args->v[ECHO_SIZE];
    for (uint64_t seq = 0; args->v[ECHO_COUNT] == 0 || seq < (uint64_t)args->v[ECHO_COUNT];) {
        app_rx(a, echo_reply, &c);
        fv_ns_t now = guest_now(), wake = 0;
        if (!echo_may_send(&c, now, next, &wake)) {
            netfront_flush(a->nf);
            app_wait(a, wake);
            continue;
        }
        /* The schedule is kept whatever held the client back: a window
         * bounds how far it catches up (at most `window` in flight). */
        next += gap;
        uint32_t off = 0, arp_len = 0;
        int len = ns_udp_frame_sized(&a->ns, c.server, SPORT, c.port, size, a->out,
                                     sizeof(a->out), &off, &arp_len);
        if (len == -EAGAIN) {
            app_send(a, arp_len);
            continue;
        }
        if (len < 0) {
            say("net-echo: cannot build a frame: error", len);
            netfront_idle(a->nf->port);
        }
        if (c.window) {
            c.seq[c.inflight] = seq;
            c.sent[c.inflight++] = guest_now();
        }
        put64(a->out + off, seq++);
        put64(a->out + off + 8, (uint64_t)guest_now());
        ns_udp_fix_csum(a->out, (uint32_t)len);
        app_send(a, (uint32_t)len);
        netfront_flush(a->nf);
    }
    for (;;) {                          /* the last replies, then answer ARP and ping */
        if (!app_rx(a, echo_reply, &c))
            app_wait(a, 0);
    }
}

static void net_echo(const struct wl_args *args)
{
    struct app a;
    app_up(&a);
    if (args->v[ECHO_ROLE] == 0)
        echo_client(&a, args);
    uint16_t port = (uint16_t)args->v[ECHO_PORT];
    fv_ns_t busy = args->v[ECHO_BUSY];
    for (;;) {
        /* A busy server is CPU-bound: it never blocks, so a request waits
         * for it to be scheduled (no BOOST on wake-up), as a loaded
         * domain answering pings does. */
        if (!app_rx(&a, echo_answer, &port)) {
            if (busy) {
                netfront_flush(a.nf);   /* answers and RX buffers out before computing */
                guest_compute(busy);
            } else {
                app_wait(&a, 0);
            }
        }
    }
}

/* ---- Domain-0: the backend loop ---------------------------------------------------- */

/* Run netback's passes: while there is work, again (paying the modelled
 * cost in virtual time); when idle, sleep until an event (or the port's
 * poll interval, for frames from the host) — or, dedicated, poll again. */
static void netback_loop(const struct wl_args *args)
{
    (void)args;
    if (guest_vcpuid() != 0)
        idle_forever();
    for (;;) {
        struct guest_backend_pass p;
        int n = guest_backend_poll(&p);
        if (n < 0) {
            say("netback: cannot run: error", n);
            idle_forever();
        }
        if (p.cost > 0)
            guest_compute(p.cost);
        if (n > 0)
            continue;
        if (p.dedicated) {
            if (guest_time_is_virtual())
                guest_compute(p.poll_ns);
            continue;
        }
        if (p.poll_ns)
            guest_set_timer(guest_now() + p.poll_ns);
        guest_block();
    }
}

const struct workload_desc workload_net_flood = {
    "net-flood", "send UDP datagrams to a peer as fast as possible or at `rate`", flood_params,
    net_flood,
};
const struct workload_desc workload_net_sink = {
    "net-sink", "receive and count UDP datagrams (intact and in order)", sink_params, net_sink,
};
const struct workload_desc workload_net_echo = {
    "net-echo", "UDP echo: a client measuring round trips at `rate` (with `window`: at most that "
    "many in flight), or a server answering",
    echo_params, net_echo,
};
/* Domain 0's backend vCPU (not a user-selectable kind). */
const struct workload_desc workload_netback = {
    "backends", "domain 0: the network and block backends (netback, blkback)", NULL, netback_loop,
};
