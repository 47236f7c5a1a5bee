/* test_netback_qos.c — netback's service rules: the pure DRR and credit
 * arithmetic of netback/qos.c, exactly; then netback itself, white-box
 * through tests/netback_fixture.h, with netback.fairness: drr and a vif
 * `rate`: a light vif's request posted while a pass runs is served in the
 * next round although two heavy vifs have full rings (and, with fairness
 * none, only after both heavies' 64-frame batches); weights are honoured
 * in bytes; a vif out of credit keeps its requests on the ring until its
 * credit timer, and nothing is dropped; a hostile ring still disconnects
 * its vif alone under drr. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netback/qos.h"
#include "tests/netback_fixture.h"

/* ---- DRR -------------------------------------------------------------------------- */

static void drr_quantum_follows_weight(void **st)
{
    (void)st;
    assert_int_equal(nb_drr_quantum(256), 1514);
    assert_int_equal(nb_drr_quantum(768), 4542);
    assert_int_equal(nb_drr_quantum(128), 757);
    assert_int_equal(nb_drr_quantum(1), 5);             /* 1514 / 256 rounded down */
    assert_int_equal(nb_drr_quantum(65535), 387578);    /* 1514 * 65535 / 256 = 387578.1 */
    assert_int_equal(nb_drr_quantum(0), 1);             /* never 0: a turn always adds */
}

/* Two flows, always backlogged with `size`-byte frames, served in DRR
 * rounds (a before b); out: the frames each sent, and the order of the
 * first 16 sends ('a'/'b'). */
static void drr_run(uint32_t wa, uint32_t wb, uint32_t size, int rounds, uint64_t *na,
                    uint64_t *nb_, char *order)
{
    struct nb_drr d[2];
    nb_drr_init(&d[0], wa);
    nb_drr_init(&d[1], wb);
    uint64_t n[2] = { 0, 0 };
    int k = 0;
    for (int r = 0; r < rounds; r++)
        for (int f = 0; f < 2; f++) {
            nb_drr_turn(&d[f]);
            while (nb_drr_take(&d[f], size)) {
                n[f]++;
                if (order && k < 16)
                    order[k++] = (char)('a' + f);
            }
        }
    if (order)
        order[k] = '\0';
    *na = n[0];
    *nb_ = n[1];
}

static void drr_shares_one_to_three_exact(void **st)
{
    (void)st;
    uint64_t a, b;
    char order[17];
    /* Full frames: one for a, three for b, every round, in that order. */
    drr_run(256, 768, 1514, 1000, &a, &b, order);
    assert_int_equal(a, 1000);
    assert_int_equal(b, 3000);
    assert_string_equal(order, "abbbabbbabbbabbb");
    /* 1000-byte frames: after N rounds each flow has sent N * quantum bytes
     * less a deficit under one frame, so floor(N * q / 1000) frames. */
    drr_run(256, 768, 1000, 1000, &a, &b, order);
    assert_int_equal(a, 1514);
    assert_int_equal(b, 4542);
    assert_int_equal(3 * a, b);
    assert_string_equal(order, "abbbbaabbbbbabbb");
}

static void drr_deficit_resets_when_idle(void **st)
{
    (void)st;
    struct nb_drr d;
    nb_drr_init(&d, 256);
    nb_drr_turn(&d);
    assert_true(nb_drr_take(&d, 1000));
    assert_int_equal(d.deficit, 514);
    nb_drr_idle(&d);                    /* its queue emptied */
    assert_int_equal(d.deficit, 0);
    nb_drr_turn(&d);                    /* the next turn starts from the quantum alone */
    assert_false(nb_drr_take(&d, 1515));
    assert_int_equal(d.deficit, 1514);
    assert_true(nb_drr_take(&d, 1514));
    assert_int_equal(d.deficit, 0);
}

static void drr_turns_needed(void **st)
{
    (void)st;
    struct nb_drr d;
    nb_drr_init(&d, 1);                 /* quantum 5 */
    assert_int_equal(nb_drr_turns_needed(&d, 1514), 303);     /* 5 * 303 = 1515 */
    d.deficit = 10;
    assert_int_equal(nb_drr_turns_needed(&d, 1514), 301);     /* 10 + 5 * 301 = 1515 */
    assert_int_equal(nb_drr_turns_needed(&d, 15), 1);
    assert_int_equal(nb_drr_turns_needed(&d, 16), 2);
    /* The turns it says are the turns it takes. */
    d.deficit = 3;
    uint64_t k = nb_drr_turns_needed(&d, 1514), t = 0;
    while (!nb_drr_take(&d, 1514))
        nb_drr_turn(&d), t++;
    assert_int_equal(t, k);
}

/* ---- credit ----------------------------------------------------------------------- */

#define MS FV_MS(1)

static void credit_unlimited_takes_everything(void **st)
{
    (void)st;
    struct nb_credit c;
    fv_ns_t due = -1;
    nb_credit_init(&c, 0, FV_MS(50), 0);
    for (int i = 0; i < 100000; i++)
        assert_true(nb_credit_take(&c, 1514, 0, &due));
    assert_int_equal(due, -1);
}

/* 10Mbit/s@50ms: 62500 bytes a window, the first at once. */
static void credit_window_refill(void **st)
{
    (void)st;
    struct nb_credit c;
    fv_ns_t due = 0;
    nb_credit_init(&c, 62500, 50 * MS, 0);
    for (int i = 0; i < 41; i++)        /* 41 * 1514 = 62074 */
        assert_true(nb_credit_take(&c, 1514, 0, &due));
    assert_int_equal(c.remaining, 426);
    assert_false(nb_credit_take(&c, 1514, 0, &due));
    assert_int_equal(due, 50 * MS);
    assert_int_equal(c.remaining, 426);         /* a stalled frame is not paid */
    /* Until the timer fires: stalled, the same timer, nothing added. */
    assert_false(nb_credit_take(&c, 1514, 50 * MS - 1, &due));
    assert_int_equal(due, 50 * MS);
    assert_true(nb_credit_stalled(&c, 50 * MS - 1, &due));
    assert_int_equal(c.remaining, 426);
    /* The timer fires: one window's credit. */
    assert_true(nb_credit_take(&c, 1514, 50 * MS, &due));
    assert_int_equal(c.remaining, 426 + 62500 - 1514);
    assert_false(nb_credit_stalled(&c, 50 * MS, &due));
}

/* A window passed while the vif was idle is one refill, not several: the
 * credit is added when a frame does not fit (Linux's rule, not a token
 * bucket). */
static void credit_idle_windows_do_not_add_up(void **st)
{
    (void)st;
    struct nb_credit c;
    fv_ns_t due = 0;
    nb_credit_init(&c, 62500, 50 * MS, 0);
    assert_true(nb_credit_take(&c, 62000, 0, &due));
    assert_true(nb_credit_take(&c, 1500, 500 * MS, &due));     /* ten windows later */
    assert_int_equal(c.remaining, 500 + 62500 - 1500);
    assert_int_equal(c.window_start, 500 * MS);
}

/* The burst cap: remaining + credit, at most max(131072, credit). */
static void credit_burst_floor(void **st)
{
    (void)st;
    struct nb_credit c;
    fv_ns_t due = 0;
    nb_credit_init(&c, 100000, 10 * MS, 0);
    assert_int_equal(nb_credit_max_burst(&c), 131072);
    assert_true(nb_credit_take(&c, 90000, 0, &due));            /* 10000 left */
    assert_true(nb_credit_take(&c, 60000, 10 * MS, &due));      /* 110000, under the cap */
    assert_int_equal(c.remaining, 50000);
    assert_true(nb_credit_take(&c, 120000, 20 * MS, &due));     /* 150000 capped to 131072 */
    assert_int_equal(c.remaining, 131072 - 120000);
    /* A credit above the floor is its own cap. */
    nb_credit_init(&c, 200000, 10 * MS, 0);
    assert_int_equal(nb_credit_max_burst(&c), 200000);
    assert_true(nb_credit_take(&c, 150000, 0, &due));            /* 50000 left */
    assert_true(nb_credit_take(&c, 190000, 10 * MS, &due));      /* 250000 capped to 200000 */
    assert_int_equal(c.remaining, 10000);
}

/* A frame larger than the credit stalls until a timer at the end of the
 * window; with less credit than a frame a window, the credit builds up over
 * windows (each timer adds one), and a timer due no later than when it is
 * armed fires at the next nanosecond, never at once. */
static void credit_frame_over_remaining_stalls(void **st)
{
    (void)st;
    struct nb_credit c;
    fv_ns_t due = 0;
    nb_credit_init(&c, 1000, 1 * MS, 0);
    assert_false(nb_credit_take(&c, 1514, 0, &due));           /* 1000 < 1514: timer at 1 ms */
    assert_int_equal(due, 1 * MS);
    assert_true(nb_credit_take(&c, 1514, 1 * MS, &due));       /* fired: 2000 */
    assert_int_equal(c.remaining, 486);
    /* Idle since: the window is over, so a refill to 1486, still short. */
    assert_false(nb_credit_take(&c, 1514, 5 * MS, &due));
    assert_int_equal(c.remaining, 1486);
    assert_int_equal(due, 5 * MS + 1);          /* its end (2 ms) is past: the next ns */
    assert_true(nb_credit_take(&c, 1514, 5 * MS + 1, &due));   /* fired: 2486 */
    assert_int_equal(c.remaining, 972);
}

/* A greedy sender of full frames that comes back exactly when told: over
 * K windows it sends floor(K * credit / 1514) frames, and the K+1st window's
 * credit comes at K * interval. */
static void credit_exact_bytes_over_windows(void **st)
{
    (void)st;
    struct nb_credit c;
    const uint64_t credit = 62500;
    nb_credit_init(&c, credit, 50 * MS, 0);
    fv_ns_t now = 0, due = 0;
    uint64_t frames = 0;
    const int K = 40;
    while (now < K * 50 * MS) {
        if (nb_credit_take(&c, 1514, now, &due))
            frames++;
        else
            now = due;
    }
    assert_int_equal(frames, K * credit / 1514);                /* 1651 */
    assert_int_equal(frames, 1651);
    assert_int_equal(now, K * 50 * MS);
}

/* ---- netback, white-box ------------------------------------------------------------ */

#define HEAVY0 0
#define HEAVY1 1
#define LIGHT 2
#define MEM_PAGES 64
static const uint8_t nowhere[6] = { 0x02, 0, 0, 0, 0, 0x77 };   /* no vif: dropped after the port */

/* A loop port that logs the sender of every frame it is given and, once,
 * lets a callback post a request (a request arriving while a pass runs). */
#define LOG_MAX 4096
struct spy_port {
    struct nb_port base;
    struct nb_port *inner;
    uint8_t log[LOG_MAX];               /* last byte of each frame's source MAC: its domain id */
    int nlog;
    void (*on_tx)(struct spy_port *sp);
    struct nbf *f;
};

static void spy_close(struct nb_port *p)
{
    struct spy_port *sp = (struct spy_port *)p;
    nb_port_close(sp->inner);
    free(sp);
}
static unsigned spy_alloc(struct nb_port *p, struct nb_pkt *k, unsigned n)
{
    return nb_port_alloc(((struct spy_port *)p)->inner, k, n);
}
static void spy_free(struct nb_port *p, struct nb_pkt *k, unsigned n)
{
    nb_port_free(((struct spy_port *)p)->inner, k, n);
}
static unsigned spy_tx(struct nb_port *p, struct nb_pkt *k, unsigned n)
{
    struct spy_port *sp = (struct spy_port *)p;
    for (unsigned i = 0; i < n && sp->nlog < LOG_MAX; i++)
        sp->log[sp->nlog++] = k[i].data[11];
    void (*cb)(struct spy_port *) = sp->on_tx;
    sp->on_tx = NULL;
    if (cb)
        cb(sp);
    return nb_port_tx(sp->inner, k, n);
}
static unsigned spy_rx(struct nb_port *p, struct nb_pkt *k, unsigned n)
{
    return nb_port_rx(((struct spy_port *)p)->inner, k, n);
}
static const struct nb_port_ops spy_ops = { spy_close, spy_alloc, spy_free, spy_tx, spy_rx };

struct qf {
    struct nbf f;
    struct spy_port *spy;
};

/* Three guests; netback rebuilt with `fairness`, weights and rates set
 * (netback reads them when created), every guest connected with 16 RX
 * buffers posted. */
static struct qf *qf_make(enum scn_nb_fairness fairness, const uint32_t *weights,
                          const uint64_t *rates, fv_ns_t interval)
{
    struct qf *q = calloc(1, sizeof(*q));
    assert_non_null(q);
    q->spy = calloc(1, sizeof(*q->spy));
    assert_non_null(q->spy);
    char err[256];
    struct nb_port_conf pc = { .kind = NB_PORT_LOOP, .nr_bufs = 1024 };
    assert_int_equal(nb_port_open(&q->spy->inner, &pc, err, sizeof(err)), 0);
    q->spy->base = (struct nb_port){ .ops = &spy_ops, .kind = NB_PORT_LOOP };
    q->spy->f = &q->f;
    struct nbf_conf c = { .guests = 3, .pages = MEM_PAGES, .rx_bufs = 16, .port = &q->spy->base };
    assert_int_equal(nbf_init(&q->f, &c), 0);
    struct nbf *f = &q->f;
    f->scn->netback.fairness = fairness;
    for (int i = 0; i < 3; i++) {
        struct scn_vif *v = &f->scn->domains[i].vifs[0];
        v->weight = weights ? weights[i] : 256;
        v->rate_bytes = rates ? rates[i] : 0;
        v->rate_interval = interval;
    }
    netback_destroy(f->nb);
    struct gnttab *gt[NBF_MAX_GUESTS + 1] = { 0 };
    for (int i = 0; i < 3; i++)
        gt[i] = f->g[i].gt;
    struct netback_conf nc = { .scn = f->scn, .port = f->port, .virtual_time = true,
                               .ev = &f->ev, .gt = gt };
    f->nb = netback_create(&nc);
    assert_non_null(f->nb);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(nbf_front(f, i), 0);
        nbf_post_rx(&f->g[i]);
        nbf_push(f, i);
        assert_int_equal(nbf_connect(f, i), 0);
    }
    nbf_pass(f);                        /* the binds' events, the posted buffers */
    q->spy->nlog = 0;
    return q;
}

static void qf_free(struct qf *q)
{
    nbf_fini(&q->f);
    nb_port_close(&q->spy->base);
    free(q);
}

/* Guest i queues and publishes n frames of len bytes to `dst`. */
static void fill(struct nbf *f, int i, const uint8_t *dst, int n, uint32_t len)
{
    for (int k = 0; k < n; k++)
        assert_int_equal(nbf_queue(f, i, dst, len, (uint32_t)k), 0);
    nbf_push(f, i);
}

static void light_posts_one(struct spy_port *sp) { fill(sp->f, LIGHT, nowhere, 1, 64); }

/* Where in the port's log the light guest's frame is. */
static int light_position(const struct spy_port *sp)
{
    for (int k = 0; k < sp->nlog; k++)
        if (sp->log[k] == sp->f->g[LIGHT].domid)
            return k;
    return -1;
}

static void drr_light_request_served_next_round(void **st)
{
    (void)st;
    struct qf *q = qf_make(SCN_NB_FAIR_DRR, NULL, NULL, FV_MS(50));
    struct nbf *f = &q->f;
    fill(f, HEAVY0, nowhere, 256, NETIF_FRAME_MAX);
    fill(f, HEAVY1, nowhere, 256, NETIF_FRAME_MAX);
    q->spy->on_tx = light_posts_one;    /* during the first burst */
    fv_ns_t cost = 0;
    int moved = netback_poll_at(f->nb, 0, &cost, NULL);
    /* Rounds 1-16: one full frame from each heavy a round (quantum 1514);
     * the first burst of 32 goes out during heavy 1's turn in round 16, and
     * the light request comes then. The light vif's turn, next in that
     * round, takes it, and it goes out at the end of the round, before the
     * heavies' next frames. */
    for (int k = 0; k < 32; k++)
        assert_int_equal(q->spy->log[k], f->g[k % 2 ? HEAVY1 : HEAVY0].domid);
    assert_int_equal(light_position(q->spy), 32);
    /* The pass took what none would have, 64 for each heavy and the light
     * one's single request (its unused part is not the heavies'). */
    assert_int_equal(nbf_stats(f, LIGHT)->tx_pkts, 1);
    assert_int_equal(nbf_stats(f, HEAVY0)->tx_pkts, 64);
    assert_int_equal(nbf_stats(f, HEAVY1)->tx_pkts, 64);
    assert_true(moved >= 129);
    assert_true(cost > 0);
    qf_free(q);
}

/* The same with fairness none: the light request waits for both heavies'
 * 64-frame batches. */
static void none_light_request_waits_behind_batches(void **st)
{
    (void)st;
    struct qf *q = qf_make(SCN_NB_FAIR_NONE, NULL, NULL, FV_MS(50));
    struct nbf *f = &q->f;
    fill(f, HEAVY0, nowhere, 256, NETIF_FRAME_MAX);
    fill(f, HEAVY1, nowhere, 256, NETIF_FRAME_MAX);
    q->spy->on_tx = light_posts_one;
    fv_ns_t cost = 0;
    netback_poll_at(f->nb, 0, &cost, NULL);
    assert_int_equal(light_position(q->spy), 128);
    assert_int_equal(nbf_stats(f, HEAVY0)->tx_pkts, 64);
    assert_int_equal(nbf_stats(f, HEAVY1)->tx_pkts, 64);
    qf_free(q);
}

/* Weights 256 and 768 with both rings full: bytes 1:3, pass after pass. */
static void drr_weights_in_bytes(void **st)
{
    (void)st;
    const uint32_t w[3] = { 256, 768, 256 };
    struct qf *q = qf_make(SCN_NB_FAIR_DRR, w, NULL, FV_MS(50));
    struct nbf *f = &q->f;
    for (int pass = 0; pass < 8; pass++) {
        for (int i = 0; i < 2; i++) {
            nbf_tx_reap(&f->g[i]);
            int room = (int)FV_RING_FREE_REQUESTS(&f->g[i].tx);
            fill(f, i, nowhere, room, NETIF_FRAME_MAX);
        }
        fv_ns_t cost;
        netback_poll_at(f->nb, 0, &cost, NULL);
    }
    const struct netback_vif_stats *a = nbf_stats(f, HEAVY0), *b = nbf_stats(f, HEAVY1);
    /* 128 a pass (64 for each), a quarter and three quarters. */
    assert_int_equal(a->tx_pkts, 8 * 32);
    assert_int_equal(b->tx_pkts, 8 * 96);
    assert_int_equal(3 * a->tx_bytes, b->tx_bytes);
    assert_int_equal(a->drops[NB_DROP_NO_DEST] + b->drops[NB_DROP_NO_DEST], 8 * 128);
    qf_free(q);
}

/* A vif out of credit keeps its requests on the ring: nothing answered,
 * nothing dropped, the caller told when to come back, and a pass before
 * then moves nothing (so domain 0 sleeps until then). */
static void rate_limited_ring_stalls(enum scn_nb_fairness fairness)
{
    const uint64_t rates[3] = { 0, 0, 10000 };
    struct qf *q = qf_make(fairness, NULL, rates, FV_MS(10));
    struct nbf *f = &q->f;
    struct nbf_guest *g = &f->g[LIGHT];
    fill(f, LIGHT, nowhere, 25, 1000);
    fv_ns_t cost, due = 0;
    assert_true(netback_poll_at(f->nb, FV_MS(1), &cost, &due) > 0);
    assert_int_equal(nbf_stats(f, LIGHT)->tx_pkts, 10);        /* 10000 bytes of credit */
    assert_int_equal(q->spy->nlog, 10);                         /* ...and all went out */
    assert_int_equal(due, FV_MS(10));
    assert_int_equal(nbf_tx_reap(g), 10);
    assert_int_equal(g->tx_err, 0);
    /* Before the timer: nothing moves, and nothing asks to be called again. */
    assert_int_equal(netback_poll_at(f->nb, FV_MS(9), &cost, &due), 0);
    assert_int_equal(due, FV_MS(10));
    assert_int_equal(nbf_stats(f, LIGHT)->tx_pkts, 10);
    assert_int_equal(nbf_tx_reap(g), 0);
    /* The timer: 10 more; then the rest at 20 ms. */
    netback_poll_at(f->nb, FV_MS(10), &cost, &due);
    netback_poll_at(f->nb, FV_MS(10), &cost, &due);
    assert_int_equal(nbf_stats(f, LIGHT)->tx_pkts, 20);
    assert_int_equal(due, FV_MS(20));
    netback_poll_at(f->nb, FV_MS(20), &cost, &due);
    netback_poll_at(f->nb, FV_MS(20), &cost, &due);
    assert_int_equal(nbf_stats(f, LIGHT)->tx_pkts, 25);
    assert_int_equal(q->spy->nlog, 25);
    assert_int_equal(nbf_stats(f, LIGHT)->drops[NB_DROP_NO_DEST], 25);   /* back from the port */
    assert_int_equal(due, 0);
    assert_int_equal(nbf_tx_reap(g), 15);
    assert_int_equal(g->tx_ok, 25);
    assert_int_equal(g->tx_err, 0);
    const struct netback_vif_stats *s = nbf_stats(f, LIGHT);
    assert_int_equal(s->tx_bytes, 25000);
    assert_int_equal(s->drops[NB_DROP_PORT_FULL] + s->drops[NB_DROP_NO_BUFFER], 0);
    assert_false(s->disconnected);
    qf_free(q);
}

static void rate_limit_stalls_drr(void **st)
{
    (void)st;
    rate_limited_ring_stalls(SCN_NB_FAIR_DRR);
}

static void rate_limit_stalls_none(void **st)
{
    (void)st;
    rate_limited_ring_stalls(SCN_NB_FAIR_NONE);
}

/* Under drr a broken ring and a bad request still disconnect their vif
 * alone, with the same reasons as under none. */
static void drr_keeps_validation(void **st)
{
    (void)st;
    struct qf *q = qf_make(SCN_NB_FAIR_DRR, NULL, NULL, FV_MS(50));
    struct nbf *f = &q->f;
    __atomic_store_n(&f->g[HEAVY0].tx.sring->req_prod, 1000, __ATOMIC_RELEASE);
    struct nbf_guest *g = &f->g[HEAVY1];
    struct netif_tx_request *r = FV_RING_GET_REQUEST(&g->tx, g->tx.req_prod_pvt);
    *r = (struct netif_tx_request){ .gref = (uint32_t)g->tx_buf_ref[0], .size = 2000 };
    g->tx.req_prod_pvt++;
    nbf_push(f, HEAVY1);
    fill(f, LIGHT, f->g[HEAVY0].mac, 3, 100);
    fv_ns_t cost;
    netback_poll_at(f->nb, 0, &cost, NULL);
    assert_true(nbf_stats(f, HEAVY0)->disconnected);
    assert_string_equal(nbf_stats(f, HEAVY0)->reason, "TX ring: producer 1000 is 1000 requests "
                                                      "ahead of the consumer (the ring has 256)");
    assert_true(nbf_stats(f, HEAVY1)->disconnected);
    assert_string_equal(nbf_stats(f, HEAVY1)->reason, "TX request id 0 (offset 0, size 2000): "
                                                      "size outside 14..1514");
    assert_false(nbf_stats(f, LIGHT)->disconnected);
    assert_int_equal(nbf_stats(f, LIGHT)->tx_pkts, 3);
    /* its frames to the dead vif: dropped, counted to the destination */
    assert_int_equal(nbf_stats(f, HEAVY0)->drops[NB_DROP_DISCONNECTED], 3);
    qf_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drr_quantum_follows_weight),
        cmocka_unit_test(drr_shares_one_to_three_exact),
        cmocka_unit_test(drr_deficit_resets_when_idle),
        cmocka_unit_test(drr_turns_needed),
        cmocka_unit_test(credit_unlimited_takes_everything),
        cmocka_unit_test(credit_window_refill),
        cmocka_unit_test(credit_idle_windows_do_not_add_up),
        cmocka_unit_test(credit_burst_floor),
        cmocka_unit_test(credit_frame_over_remaining_stalls),
        cmocka_unit_test(credit_exact_bytes_over_windows),
        cmocka_unit_test(drr_light_request_served_next_round),
        cmocka_unit_test(none_light_request_waits_behind_batches),
        cmocka_unit_test(drr_weights_in_bytes),
        cmocka_unit_test(rate_limit_stalls_drr),
        cmocka_unit_test(rate_limit_stalls_none),
        cmocka_unit_test(drr_keeps_validation),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
