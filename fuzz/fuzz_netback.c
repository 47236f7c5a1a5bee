/* fuzz_netback.c — libFuzzer harness: netback (netback/netback.h) against a
 * guest that writes anything into its rings and grant table, beside two
 * well-behaved guests exchanging frames. Built on tests/netback_fixture.h:
 * guests 1, 2, 3 (indexes 0, 1, 2) with 32 pages and 32 grant entries each,
 * 16 RX buffers, a loop port of 128 frames in flight (a pass moves at most
 * 64 from each guest).
 *
 * Input: a prefix, then a script.
 *   prefix (PREFIX bytes; a shorter input is padded with zeros):
 *     2   the references guest 1 connects with (TX ring, RX ring);
 *     16  guest 1's TX ring header (req_prod, req_event, rsp_prod,
 *         rsp_event), then 8 TX request slots of 12 bytes, repeated over
 *         the ring's 256 slots;
 *     16  its RX ring header, then 8 RX request slots of 8 bytes, repeated.
 *   script: ops, each an opcode byte (mod OP_MAX) and its arguments:
 *     PASS; TX_SLOT k req[12]; RX_SLOT k req[8]; TX_PROD_ADD n;
 *     RX_PROD_ADD n; RING_WORD w val[4] (w: the 8 header words of both
 *     rings); GRANT page peer ro; END ref; EVENT; WRITE page off[2] n data[n];
 *     POST_TX gref off[2] size[2] flags; POST_RX gref; STORM n (4n events,
 *     a pass after each); RECONNECT tx rx; PASSES n.
 * Guest 1's buffer pages hold frames to guest 2, guest 3, everyone, and
 * (at offset 2048) to and from a MAC nobody has. Reference 22 is a grant of
 * one of its pages to guest 2 instead of domain 0.
 *
 * Every pass, guests 2 and 3 send each other one frame (as netfront does),
 * and after it these must hold (a violation aborts, a finding):
 *   - guests 2 and 3 stay connected; each gets the other's frame intact,
 *     unless a no_rx_buffer drop was counted on it in that pass; every
 *     RX response names a buffer it posted, with a length of 14..1514;
 *     every TX request of theirs is answered OKAY;
 *   - no page of any guest that was never granted writable to domain 0
 *     changes, except where the harness itself wrote (a shadow copy;
 *     compared every FULL_CHECK passes and at the end, for speed);
 *   - counters never go down, bytes lie between 14 and 1514 per frame,
 *     spurious <= events; a disconnected vif stays so, with the same
 *     reason and counters frozen; a connected guest 1's published response
 *     producers equal its frame counters, and its TX responses say OKAY;
 *   - every port buffer is back in the port after a pass (checked with the
 *     memory); netback_connect on a vif in use says -EBUSY; the pins on
 *     guest 1's grants are those of its two rings while it is connected,
 *     none once it is disconnected or netback is destroyed.
 * netback's own "disconnected" lines go to /dev/null unless
 * NB_FUZZ_VERBOSE is set.
 *   tools/fuzz netback [SECONDS]
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/netback_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *err_out;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(err_out, "fuzz: %s: ", #cond);                             \
            fprintf(err_out, __VA_ARGS__);                                     \
            fputc('\n', err_out);                                              \
            fflush(err_out);                                                   \
            abort();                                                           \
        }                                                                      \
    } while (0)

#define GUESTS 3
#define PAGES 32u
#define GRANTS 32u
#define RX_BUFS 16
#define PORT_BUFS 128u
#define FULL_CHECK 32                   /* passes between memory and port checks */
#define SLOTS_IN 8
#define PREFIX (2 + 16 + SLOTS_IN * 12 + 16 + SLOTS_IN * 8)
#define MAX_PASSES 4096
#define EVIL 0
#define OTHER_REF 22                    /* guest 1's grant to guest 2 */

enum { OP_PASS, OP_TX_SLOT, OP_RX_SLOT, OP_TX_PROD_ADD, OP_RX_PROD_ADD, OP_RING_WORD,
       OP_GRANT, OP_END, OP_EVENT, OP_WRITE, OP_POST_TX, OP_POST_RX, OP_STORM,
       OP_RECONNECT, OP_PASSES, OP_MAX };

static const uint8_t nobody[6] = { 0x02, 0, 0, 0, 0, 0x99 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct fz {
    struct nbf f;
    uint8_t *shadow[GUESTS];            /* what each guest's memory must hold */
    bool writable[GUESTS][PAGES];       /* ever granted writable to domain 0 */
    int ref_page[GRANTS];               /* guest 1: the page of each grant, -1 */
    bool ref_w0[GRANTS];                /* ...and whether it is writable to 0 */
    int tx_ref, rx_ref;                 /* what guest 1 connected with */
    bool rings_distinct;                /* two different pages */
    struct netback_vif_stats prev[GUESTS];
    uint32_t seq;
    int passes;
    const uint8_t *p, *end;             /* the script */
};

/* ---- reading the input ----------------------------------------------------------- */

static uint8_t rd8(struct fz *z)
{
    return z->p < z->end ? *z->p++ : 0;
}

static uint16_t rd16(struct fz *z)
{
    uint16_t v = rd8(z);
    return (uint16_t)(v | rd8(z) << 8);
}

static uint32_t rd32(struct fz *z)
{
    uint32_t v = rd16(z);
    return v | (uint32_t)rd16(z) << 16;
}

static void rdn(struct fz *z, void *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)dst)[i] = rd8(z);
}

/* ---- guest 1's memory, as the harness writes it -------------------------------------- */

static void wrote(struct fz *z, int gi, uint32_t page)
{
    memcpy(z->shadow[gi] + (size_t)page * NBF_PAGE, nbf_page(&z->f.g[gi], page), NBF_PAGE);
}

static void note_grant(struct fz *z, int ref, int page, int peer, bool ro)
{
    if (ref < 0 || ref >= (int)GRANTS)
        return;
    z->ref_page[ref] = page;
    z->ref_w0[ref] = peer == 0 && !ro;
    if (z->ref_w0[ref])
        z->writable[EVIL][page] = true;
}

static void fill_frames(struct fz *z)
{
    struct nbf *f = &z->f;
    struct nbf_guest *g = &f->g[EVIL];
    const uint8_t *dst[NBF_TX_BUFS] = { f->g[1].mac, f->g[2].mac, bcast, g->mac };
    for (uint32_t b = 0; b < NBF_TX_BUFS; b++) {
        uint8_t *page = nbf_page(g, NBF_TXB + b);
        nbf_frame_fill(page, dst[b], g->mac, NETIF_FRAME_MAX, b);
        nbf_frame_fill(page + 2048, nobody, b & 1 ? nobody : g->mac, NETIF_FRAME_MAX, b);
        wrote(z, EVIL, NBF_TXB + b);
    }
}

/* The prefix over guest 1's ring pages (after nbf_front initialised them). */
static void load_rings(struct fz *z, const uint8_t *in)
{
    struct nbf_guest *g = &z->f.g[EVIL];
    struct netif_tx_sring *txs = g->tx.sring;
    struct netif_rx_sring *rxs = g->rx.sring;
    memcpy(txs, in, 16);
    in += 16;
    for (int k = 0; k < netif_tx_RING_SIZE; k++)
        memcpy(&txs->ring[k].req, in + (k % SLOTS_IN) * 12, 12);
    in += SLOTS_IN * 12;
    memcpy(rxs, in, 16);
    in += 16;
    for (int k = 0; k < netif_rx_RING_SIZE; k++)
        memcpy(&rxs->ring[k].req, in + (k % SLOTS_IN) * 8, 8);
}

/* ---- the checks ------------------------------------------------------------------ */

static void check_memory(struct fz *z)
{
    for (int gi = 0; gi < GUESTS; gi++)
        for (uint32_t p = 0; p < PAGES; p++) {
            if (z->writable[gi][p])
                continue;
            CHECK(memcmp(nbf_page(&z->f.g[gi], p), z->shadow[gi] + (size_t)p * NBF_PAGE,
                         NBF_PAGE) == 0,
                  "guest %d page %u changed, never granted writable to domain 0", gi + 1, p);
        }
}

static void check_counters(struct fz *z, int gi, const struct netback_vif_stats *s)
{
    const struct netback_vif_stats *o = &z->prev[gi];
    CHECK(s->tx_pkts >= o->tx_pkts && s->tx_bytes >= o->tx_bytes && s->rx_pkts >= o->rx_pkts &&
          s->rx_bytes >= o->rx_bytes && s->events >= o->events && s->spurious >= o->spurious,
          "guest %d: a counter went down", gi + 1);
    for (int k = 0; k < NB_DROP_MAX; k++)
        CHECK(s->drops[k] >= o->drops[k], "guest %d: drops[%s] went down", gi + 1,
              nb_drop_names[k]);
    CHECK(s->tx_bytes >= 14 * s->tx_pkts && s->tx_bytes <= NETIF_FRAME_MAX * s->tx_pkts,
          "guest %d: %llu TX bytes in %llu frames", gi + 1, (unsigned long long)s->tx_bytes,
          (unsigned long long)s->tx_pkts);
    CHECK(s->rx_bytes >= 14 * s->rx_pkts && s->rx_bytes <= NETIF_FRAME_MAX * s->rx_pkts,
          "guest %d: %llu RX bytes in %llu frames", gi + 1, (unsigned long long)s->rx_bytes,
          (unsigned long long)s->rx_pkts);
    CHECK(s->spurious <= s->events, "guest %d: more spurious events than events", gi + 1);
    CHECK(!o->connected || s->connected, "guest %d: connected went back to false", gi + 1);
    CHECK(s->disconnected == (s->reason[0] != 0), "guest %d: disconnected %d, reason '%s'",
          gi + 1, s->disconnected, s->reason);
    if (o->disconnected)
        CHECK(s->disconnected && strcmp(s->reason, o->reason) == 0 &&
              s->tx_pkts == o->tx_pkts && s->rx_pkts == o->rx_pkts && s->events == o->events,
              "guest %d: disconnected (%s), then: disconnected %d, '%s', counters moved",
              gi + 1, o->reason, s->disconnected, s->reason);
    if (s->disconnected && !o->disconnected)
        CHECK(s->connected, "guest %d: disconnected without being connected", gi + 1);
}

/* Guest 1, connected: what netback published matches its counters. Every
 * TX request it took is answered: OKAY for a frame sent (tx_pkts), ERROR
 * for one refused for its source MAC (drops[NB_DROP_SPOOFED]). */
static void check_evil_rings(struct fz *z, const struct netback_vif_stats *s)
{
    const struct netback_vif_stats *o = &z->prev[EVIL];
    struct nbf_guest *g = &z->f.g[EVIL];
    if (!s->connected || s->disconnected || !z->rings_distinct)
        return;
    uint64_t answered = s->tx_pkts + s->drops[NB_DROP_SPOOFED];
    uint64_t before = o->tx_pkts + o->drops[NB_DROP_SPOOFED];
    if (answered != before)
        CHECK(__atomic_load_n(&g->tx.sring->rsp_prod, __ATOMIC_ACQUIRE) == (uint32_t)answered,
              "guest 1: TX rsp_prod %u after %llu requests answered", g->tx.sring->rsp_prod,
              (unsigned long long)answered);
    if (s->rx_pkts != o->rx_pkts)
        CHECK(__atomic_load_n(&g->rx.sring->rsp_prod, __ATOMIC_ACQUIRE) == (uint32_t)s->rx_pkts,
              "guest 1: RX rsp_prod %u after %llu frames", g->rx.sring->rsp_prod,
              (unsigned long long)s->rx_pkts);
    if (s->rx_pkts != o->rx_pkts)
        return;                         /* a frame may have landed on its TX ring page */
    uint64_t okay = 0, error = 0;
    for (uint64_t i = before; i < answered; i++) {
        const struct netif_tx_response *r = FV_RING_GET_RESPONSE(&g->tx, (uint32_t)i);
        okay += r->status == NETIF_RSP_OKAY;
        error += r->status == NETIF_RSP_ERROR;
    }
    CHECK(okay == s->tx_pkts - o->tx_pkts && error == answered - before - okay,
          "guest 1: %llu OKAY and %llu ERROR responses for %llu frames sent and %llu refused",
          (unsigned long long)okay, (unsigned long long)error,
          (unsigned long long)(s->tx_pkts - o->tx_pkts),
          (unsigned long long)(s->drops[NB_DROP_SPOOFED] - o->drops[NB_DROP_SPOOFED]));
}

static void check_pins(struct fz *z)
{
    const struct netback_vif_stats *s = nbf_stats(&z->f, EVIL);
    uint32_t pinned = gnttab_pinned(z->f.g[EVIL].gt);
    uint32_t want = !s->connected || s->disconnected ? 0 : z->tx_ref == z->rx_ref ? 1 : 2;
    CHECK(pinned == want, "guest 1: %u grants pinned, expected %u", pinned, want);
}

static void check_port(struct fz *z)
{
    static struct nb_pkt all[2 * PORT_BUFS];
    unsigned n = nb_port_alloc(z->f.port, all, 2 * PORT_BUFS);
    CHECK(n == 2 * PORT_BUFS, "port buffers still held or in flight after a pass");
    nb_port_free(z->f.port, all, n);
}

/* ---- the well-behaved pair --------------------------------------------------------- */

static uint32_t pair_len(uint32_t seq)
{
    return seq % 16 == 15 ? NETIF_FRAME_MAX : NBF_HDR + seq * 97 % 240;
}

static void pair_send(struct fz *z, int from, int to)
{
    struct nbf *f = &z->f;
    CHECK(nbf_queue(f, from, f->g[to].mac, pair_len(z->seq), z->seq) == 0,
          "guest %d: cannot queue its frame", from + 1);
    wrote(z, from, NBF_TXB + (f->g[from].tx.req_prod_pvt - 1) % NBF_TX_BUFS);
    nbf_push(f, from);
}

/* Guest `to` takes what came; the frame from `from` (z->seq) must be there
 * unless a no_rx_buffer drop was counted on `to`. */
static void pair_recv(struct fz *z, int from, int to)
{
    struct nbf *f = &z->f;
    struct nbf_guest *g = &f->g[to];
    struct nbf_rx rx;
    int rc;
    bool found = false;
    while ((rc = nbf_rx_next(g, &rx)) == 1) {
        CHECK(rx.status >= 14 && rx.status <= NETIF_FRAME_MAX, "guest %d: RX status %d",
              to + 1, rx.status);
        uint32_t s;
        if (rx.status == (int)pair_len(z->seq) &&
            nbf_frame_ok(rx.data, (uint32_t)rx.status, g->mac, f->g[from].mac, &s) && s == z->seq)
            found = true;
    }
    CHECK(rc == 0, "guest %d: an RX response for a buffer it did not post", to + 1);
    const struct netback_vif_stats *st = nbf_stats(f, to);
    CHECK(found || st->drops[NB_DROP_NO_RX_BUFFER] > z->prev[to].drops[NB_DROP_NO_RX_BUFFER],
          "guest %d: the frame from guest %d (seq %u) neither arrived nor was dropped", to + 1,
          from + 1, z->seq);
    uint64_t err = f->g[from].tx_err;
    CHECK(nbf_tx_reap(&f->g[from]) == 1 && f->g[from].tx_err == err,
          "guest %d: its TX request was not answered OKAY", from + 1);
    nbf_post_rx(g);
}

static void pass(struct fz *z)
{
    struct nbf *f = &z->f;
    z->passes++;
    pair_send(z, 1, 2);
    pair_send(z, 2, 1);
    int moved = nbf_pass(f);
    CHECK(moved >= 0 && moved <= GUESTS * 64 + 256 + 1, "netback_poll returned %d", moved);
    pair_recv(z, 1, 2);
    pair_recv(z, 2, 1);
    nbf_push(f, 1);
    nbf_push(f, 2);
    z->seq++;
    for (int gi = 1; gi < GUESTS; gi++)
        CHECK(!nbf_stats(f, gi)->disconnected, "well-behaved guest %d disconnected: %s", gi + 1,
              nbf_stats(f, gi)->reason);
    if (z->passes % FULL_CHECK == 0) {
        check_memory(z);
        check_port(z);
    }
    check_pins(z);
    const struct netback_vif_stats *s = nbf_stats(f, EVIL);
    check_evil_rings(z, s);
    for (int gi = 0; gi < GUESTS; gi++) {
        check_counters(z, gi, nbf_stats(f, gi));
        z->prev[gi] = *nbf_stats(f, gi);
    }
}

/* ---- the script ------------------------------------------------------------------ */

static void op_grant(struct fz *z)
{
    struct nbf_guest *g = &z->f.g[EVIL];
    uint32_t page = rd8(z) % PAGES;
    int peer = rd8(z) % 4;
    bool ro = rd8(z) & 1;
    int ref = gnttab_grant(g->gt, peer, nbf_page(g, page), ro);
    CHECK(ref < 0 ? peer == g->domid || ref == -ENOSPC : peer != g->domid,
          "gnttab_grant to %d: %d", peer, ref);
    note_grant(z, ref, (int)page, peer, ro);
}

static void op_write(struct fz *z)
{
    struct nbf_guest *g = &z->f.g[EVIL];
    uint32_t page = rd8(z) % PAGES, off = rd16(z) % NBF_PAGE, n = rd8(z) % 65;
    if (n > NBF_PAGE - off)
        n = NBF_PAGE - off;
    rdn(z, nbf_page(g, page) + off, n);
    wrote(z, EVIL, page);
}

static void op_post_tx(struct fz *z)
{
    struct nbf_guest *g = &z->f.g[EVIL];
    uint32_t prod = __atomic_load_n(&g->tx.sring->req_prod, __ATOMIC_RELAXED);
    struct netif_tx_request r = { .gref = rd8(z) };
    r.offset = rd16(z);
    r.size = rd16(z);
    r.flags = rd8(z);
    r.id = (uint16_t)prod;
    g->tx.sring->ring[prod % netif_tx_RING_SIZE].req = r;
    __atomic_store_n(&g->tx.sring->req_prod, prod + 1, __ATOMIC_RELEASE);
}

static void op_post_rx(struct fz *z)
{
    struct nbf_guest *g = &z->f.g[EVIL];
    uint32_t prod = __atomic_load_n(&g->rx.sring->req_prod, __ATOMIC_RELAXED);
    struct netif_rx_request r = { .id = (uint16_t)prod, .gref = rd8(z) };
    g->rx.sring->ring[prod % netif_rx_RING_SIZE].req = r;
    __atomic_store_n(&g->rx.sring->req_prod, prod + 1, __ATOMIC_RELEASE);
}

static void op_ring_word(struct fz *z)
{
    struct nbf_guest *g = &z->f.g[EVIL];
    int w = rd8(z) % 8;
    uint32_t v = rd32(z);
    uint32_t *hdr = (uint32_t *)(void *)(w < 4 ? (uint8_t *)g->tx.sring : (uint8_t *)g->rx.sring);
    __atomic_store_n(&hdr[w % 4], v, __ATOMIC_RELEASE);
}

static void try_connect(struct fz *z, uint32_t tx, uint32_t rx);

static void op_reconnect(struct fz *z)
{
    struct nbf *f = &z->f;
    uint32_t tx = rd8(z), rx = rd8(z);
    if (nbf_stats(f, EVIL)->connected) {
        int rc = netback_connect(f->nb, f->g[EVIL].d, 0, tx, rx, f->g[EVIL].port);
        CHECK(rc == -EBUSY, "netback_connect on a vif in use: %d", rc);
    } else {
        try_connect(z, tx, rx);
    }
    CHECK(netback_connect(f->nb, f->g[EVIL].d, 1, 0, 1, 1) == -ENODEV, "vif 1 exists");
    CHECK(netback_connect(f->nb, GUESTS, 0, 0, 1, 1) == -ENODEV, "Domain-0 has a vif");
}

static void op_ring_slot(struct fz *z, bool tx)
{
    struct nbf_guest *g = &z->f.g[EVIL];
    uint8_t k = rd8(z);
    if (tx)
        rdn(z, &g->tx.sring->ring[k % netif_tx_RING_SIZE].req, 12);
    else
        rdn(z, &g->rx.sring->ring[k % netif_rx_RING_SIZE].req, 8);
}

static void prod_add(uint32_t *prod, uint8_t n)
{
    __atomic_store_n(prod, __atomic_load_n(prod, __ATOMIC_RELAXED) + n, __ATOMIC_RELEASE);
}

static void run_op(struct fz *z, int op)
{
    struct nbf *f = &z->f;
    struct nbf_guest *g = &f->g[EVIL];
    switch (op) {
    case OP_PASS: pass(z); break;
    case OP_TX_SLOT: op_ring_slot(z, true); break;
    case OP_RX_SLOT: op_ring_slot(z, false); break;
    case OP_TX_PROD_ADD: prod_add(&g->tx.sring->req_prod, rd8(z)); break;
    case OP_RX_PROD_ADD: prod_add(&g->rx.sring->req_prod, rd8(z)); break;
    case OP_RING_WORD: op_ring_word(z); break;
    case OP_GRANT: op_grant(z); break;
    case OP_END: {
        uint8_t ref = rd8(z);
        if (gnttab_end(g->gt, ref) == 0 && ref < GRANTS)
            z->ref_page[ref] = -1;
        break;
    }
    case OP_EVENT: evtchn_send(&f->ev, g->domid, g->port); break;
    case OP_WRITE: op_write(z); break;
    case OP_POST_TX: op_post_tx(z); break;
    case OP_POST_RX: op_post_rx(z); break;
    case OP_STORM:
        for (int n = 4 * rd8(z); n > 0 && z->passes < MAX_PASSES; n--) {
            evtchn_send(&f->ev, g->domid, g->port);
            pass(z);
        }
        break;
    case OP_RECONNECT: op_reconnect(z); break;
    case OP_PASSES:
        for (int n = rd8(z); n > 0 && z->passes < MAX_PASSES; n--)
            pass(z);
        break;
    }
}

/* ---- set-up ---------------------------------------------------------------------- */

static bool ref_ok_for_ring(const struct fz *z, uint32_t ref)
{
    return ref < GRANTS && z->ref_page[ref] >= 0 && z->ref_w0[ref];
}

/* Guest 1 connects with references tx and rx: it must work exactly when
 * both are in-use grants, writable by domain 0. */
static void try_connect(struct fz *z, uint32_t tx, uint32_t rx)
{
    struct nbf *f = &z->f;
    struct nbf_guest *g = &f->g[EVIL];
    int rc = netback_connect(f->nb, g->d, 0, tx, rx, g->port);
    bool ok = ref_ok_for_ring(z, tx) && ref_ok_for_ring(z, rx);
    CHECK((rc == 0) == ok, "netback_connect(%u, %u): %d", tx, rx, rc);
    if (rc)
        return;
    z->tx_ref = (int)tx;
    z->rx_ref = (int)rx;
    /* netback attaches to the rings as it finds them (its indices at 0);
     * the script's ring ops write where netback reads. */
    g->tx.sring = (struct netif_tx_sring *)nbf_page(g, (uint32_t)z->ref_page[tx]);
    g->rx.sring = (struct netif_rx_sring *)nbf_page(g, (uint32_t)z->ref_page[rx]);
    z->rings_distinct = z->ref_page[tx] != z->ref_page[rx];
}

/* The guests' memory, the shadows and the port live across inputs (a
 * fresh mapping per input cost more than the passes). */
static uint8_t *arena, *shadows;
static struct nb_port *port;

static int setup(struct fz *z)
{
    struct nbf *f = &z->f;
    if (!port) {
        char err[256];
        struct nb_port_conf pc = { .kind = NB_PORT_LOOP, .nr_bufs = PORT_BUFS };
        arena = aligned_alloc(NBF_PAGE, (size_t)GUESTS * PAGES * NBF_PAGE);
        shadows = malloc((size_t)GUESTS * PAGES * NBF_PAGE);
        if (!arena || !shadows || nb_port_open(&port, &pc, err, sizeof(err)))
            return -ENOMEM;
    }
    struct nbf_conf c = { .guests = GUESTS, .pages = PAGES, .max_grants = GRANTS,
                          .rx_bufs = RX_BUFS, .port_bufs = PORT_BUFS, .mem = arena,
                          .port = port };
    int rc = nbf_init(f, &c);
    for (int gi = 0; !rc && gi < GUESTS; gi++)
        rc = nbf_front(f, gi);
    if (rc)
        return rc;
    memset(z->ref_page, -1, sizeof(z->ref_page));
    struct nbf_guest *g = &f->g[EVIL];
    for (int gi = 0; gi < GUESTS; gi++) {
        struct nbf_guest *h = &f->g[gi];
        for (uint32_t p = 0; p < 2; p++)
            z->writable[gi][p] = true;
        for (int b = 0; b < RX_BUFS; b++)
            z->writable[gi][nbf_rx_page_no(b)] = true;
        if (gi != EVIL) {
            nbf_post_rx(h);
            nbf_push(f, gi);
            if ((rc = nbf_connect(f, gi)))
                return rc;
        }
    }
    note_grant(z, g->tx_ref, 0, 0, false);
    note_grant(z, g->rx_ref, 1, 0, false);
    for (int b = 0; b < NBF_TX_BUFS; b++)
        note_grant(z, g->tx_buf_ref[b], NBF_TXB + b, 0, true);
    for (int b = 0; b < RX_BUFS; b++)
        note_grant(z, g->rx_buf_ref[b], (int)nbf_rx_page_no(b), 0, false);
    int other = gnttab_grant(g->gt, f->g[1].domid, nbf_page(g, PAGES - 1), false);
    CHECK(other == OTHER_REF, "the grant to guest 2 is reference %d", other);
    note_grant(z, other, PAGES - 1, f->g[1].domid, false);
    for (int gi = 0; gi < GUESTS; gi++) {
        z->shadow[gi] = shadows + (size_t)gi * PAGES * NBF_PAGE;
        memcpy(z->shadow[gi], f->g[gi].mem, (size_t)PAGES * NBF_PAGE);
    }
    fill_frames(z);
    return 0;
}

static void quiet_netback(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    domtab_thread_online();
    err_out = stderr;
    if (!getenv("NB_FUZZ_VERBOSE")) {
        FILE *null = fopen("/dev/null", "w");
        if (null)
            stderr = null;          /* netback's messages; sanitizers write to fd 2 */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    quiet_netback();
    uint8_t prefix[PREFIX] = { 0 };
    memcpy(prefix, data, size < PREFIX ? size : PREFIX);
    struct fz *z = calloc(1, sizeof(*z));
    CHECK(z, "out of memory");
    CHECK(setup(z) == 0, "the fixture could not be built");
    load_rings(z, prefix + 2);
    try_connect(z, prefix[0], prefix[1]);
    for (int gi = 0; gi < GUESTS; gi++)
        z->prev[gi] = *nbf_stats(&z->f, gi);
    z->p = size > PREFIX ? data + PREFIX : data + size;
    z->end = data + size;
    pass(z);
    while (z->p < z->end && z->passes < MAX_PASSES)
        run_op(z, rd8(z) % OP_MAX);
    pass(z);
    check_memory(z);
    check_port(z);
    netback_destroy(z->f.nb);
    z->f.nb = NULL;
    for (int gi = 0; gi < GUESTS; gi++)
        CHECK(gnttab_pinned(z->f.g[gi].gt) == 0, "guest %d: grants still pinned after "
              "netback_destroy", gi + 1);
    nbf_fini(&z->f);
    free(z);
    return 0;
}
