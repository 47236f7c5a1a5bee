/* port_loop.c — the public port calls, the in-memory LOOP port, and what
 * the DPDK kinds answer in a build without DPDK.
 *
 * The LOOP port owns one block of 2 * nr_bufs buffers of NB_LOOP_BUF
 * bytes, a stack of free buffer indices and a FIFO of nr_bufs frames in
 * flight. Each buffer has a state (free, held by the caller, in flight) so
 * that a double free, a buffer from elsewhere or a frame longer than its
 * buffer is caught where it happens (abort with a message: these are bugs
 * in the caller, and carrying on would corrupt frames silently).
 *
 * Locking: none; one caller at a time per port (port.h).
 */
#include "port.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#define NB_LOOP_BUF 2048u
#define NB_DEFAULT_BUFS 8191u
#define NB_LOOP_MAX_BUFS (1u << 20)

enum { BUF_FREE, BUF_HELD, BUF_QUEUED };

struct nb_loop {
    struct nb_port port;
    uint8_t *mem;               /* nbufs * NB_LOOP_BUF */
    uint8_t *state;             /* per buffer: BUF_* */
    unsigned nbufs;
    unsigned *free_idx;         /* stack of free buffers */
    unsigned nfree;
    struct nb_pkt *fifo;        /* frames in flight, as sent */
    unsigned depth, head, count;
};

static void loop_die(const char *call, const char *what)
{
    fprintf(stderr, "netback loop port: %s: %s\n", call, what);
    abort();
}

/* Index of the buffer behind pkt, after checking it is one of ours. */
static unsigned loop_index(const struct nb_loop *l, const struct nb_pkt *pkt, const char *call)
{
    const uint8_t *m = pkt->m;
    if (m < l->mem || m >= l->mem + (size_t)l->nbufs * NB_LOOP_BUF ||
        (size_t)(m - l->mem) % NB_LOOP_BUF != 0)
        loop_die(call, "a buffer this port did not hand out");
    return (unsigned)((size_t)(m - l->mem) / NB_LOOP_BUF);
}

static unsigned loop_alloc(struct nb_port *p, struct nb_pkt *pkts, unsigned n)
{
    struct nb_loop *l = (struct nb_loop *)p;
    if (n > l->nfree)
        return 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned b = l->free_idx[--l->nfree];
        l->state[b] = BUF_HELD;
        pkts[i] = (struct nb_pkt){ .data = l->mem + (size_t)b * NB_LOOP_BUF, .len = 0,
                                   .cap = NB_LOOP_BUF, .m = l->mem + (size_t)b * NB_LOOP_BUF };
    }
    return n;
}

static void loop_free(struct nb_port *p, struct nb_pkt *pkts, unsigned n)
{
    struct nb_loop *l = (struct nb_loop *)p;
    for (unsigned i = 0; i < n; i++) {
        unsigned b = loop_index(l, &pkts[i], "nb_port_free");
        if (l->state[b] != BUF_HELD)
            loop_die("nb_port_free", "a buffer the caller does not hold (freed twice?)");
        l->state[b] = BUF_FREE;
        l->free_idx[l->nfree++] = b;
    }
}

static unsigned loop_tx(struct nb_port *p, struct nb_pkt *pkts, unsigned n)
{
    struct nb_loop *l = (struct nb_loop *)p;
    unsigned k = 0;
    for (; k < n && l->count < l->depth; k++) {
        unsigned b = loop_index(l, &pkts[k], "nb_port_tx");
        const uint8_t *base = l->mem + (size_t)b * NB_LOOP_BUF;
        if (l->state[b] != BUF_HELD)
            loop_die("nb_port_tx", "a buffer the caller does not hold (sent twice?)");
        if (pkts[k].data < base ||
            (size_t)(pkts[k].data - base) + pkts[k].len > NB_LOOP_BUF)
            loop_die("nb_port_tx", "a frame that does not fit in its buffer");
        l->state[b] = BUF_QUEUED;
        l->fifo[(l->head + l->count) % l->depth] = pkts[k];
        l->count++;
    }
    return k;
}

static unsigned loop_rx(struct nb_port *p, struct nb_pkt *pkts, unsigned n)
{
    struct nb_loop *l = (struct nb_loop *)p;
    unsigned k = 0;
    for (; k < n && l->count > 0; k++) {
        pkts[k] = l->fifo[l->head];
        l->state[loop_index(l, &pkts[k], "nb_port_rx")] = BUF_HELD;
        l->head = (l->head + 1) % l->depth;
        l->count--;
    }
    return k;
}

static void loop_close(struct nb_port *p)
{
    struct nb_loop *l = (struct nb_loop *)p;
    unsigned held = l->nbufs - l->nfree - l->count;
    if (held)
        fprintf(stderr, "netback loop port: closed with %u buffer(s) still held by the caller\n",
                held);
    free(l->fifo);
    free(l->free_idx);
    free(l->state);
    free(l->mem);
    free(l);
}

static const struct nb_port_ops loop_ops = {
    .close = loop_close, .alloc = loop_alloc, .free = loop_free, .tx = loop_tx, .rx = loop_rx,
};

static int loop_open(struct nb_port **out, unsigned depth, char *err, size_t errlen)
{
    if (depth > NB_LOOP_MAX_BUFS) {
        snprintf(err, errlen, "-EINVAL: nr_bufs %u is more than a loop port's %u", depth,
                 NB_LOOP_MAX_BUFS);
        return -EINVAL;
    }
    struct nb_loop *l = calloc(1, sizeof(*l));
    if (!l)
        goto fail;
    l->port = (struct nb_port){ .ops = &loop_ops, .kind = NB_PORT_LOOP };
    l->depth = depth;
    l->nbufs = 2 * depth;
    /* calloc of a large block maps zero pages lazily: an idle port costs
     * address space, not memory. */
    l->mem = calloc(l->nbufs, NB_LOOP_BUF);
    l->state = calloc(l->nbufs, 1);
    l->free_idx = calloc(l->nbufs, sizeof(*l->free_idx));
    l->fifo = calloc(depth, sizeof(*l->fifo));
    if (!l->mem || !l->state || !l->free_idx || !l->fifo)
        goto fail_free;
    /* Hand out the lowest buffers first (a stack popped from the top). */
    for (unsigned i = 0; i < l->nbufs; i++)
        l->free_idx[i] = l->nbufs - 1 - i;
    l->nfree = l->nbufs;
    *out = &l->port;
    return 0;

fail_free:
    free(l->fifo);
    free(l->free_idx);
    free(l->state);
    free(l->mem);
    free(l);
fail:
    snprintf(err, errlen, "-ENOMEM: no memory for a loop port of %u buffers", 2 * depth);
    return -ENOMEM;
}

#ifndef FV_HAVE_DPDK
/* The DPDK kinds in a build without DPDK (port_dpdk.c is not compiled). */
int nb_dpdk_available(enum nb_port_kind k, char *why, size_t len)
{
    snprintf(why, len,
             "-ENOTSUP: %s ports need DPDK, and this build has none: "
             "rebuild with libdpdk-dev installed (tools/deps)", nb_port_kind_name(k));
    return -ENOTSUP;
}

int nb_dpdk_open(struct nb_port **out, const struct nb_port_conf *c, char *err, size_t errlen)
{
    (void)out;
    return nb_dpdk_available(c->kind, err, errlen);
}
#endif

/* ---- the public calls ------------------------------------------------------------ */

const char *nb_port_kind_name(enum nb_port_kind k)
{
    switch (k) {
    case NB_PORT_LOOP: return "loop";
    case NB_PORT_RING: return "ring";
    case NB_PORT_TAP: return "tap";
    case NB_PORT_NULL: return "null";
    }
    return "?";
}

static bool kind_valid(enum nb_port_kind k)
{
    return k == NB_PORT_LOOP || k == NB_PORT_RING || k == NB_PORT_TAP || k == NB_PORT_NULL;
}

int nb_port_available(enum nb_port_kind k, char *why, size_t len)
{
    if (!kind_valid(k)) {
        snprintf(why, len, "-EINVAL: no port kind %d", (int)k);
        return -EINVAL;
    }
    if (k == NB_PORT_LOOP)
        return 0;
    return nb_dpdk_available(k, why, len);
}

int nb_port_open(struct nb_port **out, const struct nb_port_conf *c, char *err, size_t errlen)
{
    *out = NULL;
    if (!kind_valid(c->kind)) {
        snprintf(err, errlen, "-EINVAL: no port kind %d", (int)c->kind);
        return -EINVAL;
    }
    if (c->kind == NB_PORT_LOOP)
        return loop_open(out, c->nr_bufs ? c->nr_bufs : NB_DEFAULT_BUFS, err, errlen);
    return nb_dpdk_open(out, c, err, errlen);
}

void nb_port_close(struct nb_port *p)
{
    if (p)
        p->ops->close(p);
}

unsigned nb_port_alloc(struct nb_port *p, struct nb_pkt *pkts, unsigned n)
{
    return p->ops->alloc(p, pkts, n);
}

void nb_port_free(struct nb_port *p, struct nb_pkt *pkts, unsigned n)
{
    p->ops->free(p, pkts, n);
}

unsigned nb_port_tx(struct nb_port *p, struct nb_pkt *pkts, unsigned n)
{
    return p->ops->tx(p, pkts, n);
}

unsigned nb_port_rx(struct nb_port *p, struct nb_pkt *pkts, unsigned n)
{
    return p->ops->rx(p, pkts, n);
}
