/* test_blkback_qos.c — blkback's I/O scheduler: the tag logic alone
 * (blkback/qos.h) with exact numbers, then white-box through blkback
 * (tests/blkback_fixture.h): the order requests of several vbds reach the
 * shared disk, blkback.depth, the modelled device's units and channel, a
 * limit's *next_due, and a disconnected vbd giving its place at the disk
 * back.
 *
 * Scheduler tests drive a "device" that takes one request every `gap` ns;
 * a backlogged flow gets its next request at its head as soon as one is
 * dispatched, arrived at time 0 (it has been waiting all along). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "blkback/qos.h"
#include "tests/blkback_fixture.h"
#include "tests/scn_load.h"

#define U BB_QOS_VSCALE

/* ---- the tag logic ------------------------------------------------------------------ */

struct qsim {
    struct bb_qos q;
    uint64_t seq;
    uint64_t n[4];                  /* dispatched per flow */
    bool backlogged[4];
    int last;                       /* the flow dispatched last, or -1 */
    fv_ns_t when;
};

static void qsim_init(struct qsim *m, enum bb_qos_mode mode, int nflows)
{
    memset(m, 0, sizeof(*m));
    assert_int_equal(bb_qos_init(&m->q, mode, nflows), 0);
}

/* Flow i becomes backlogged: its first request is at its head. */
static void qsim_on(struct qsim *m, int i, fv_ns_t arrival)
{
    m->backlogged[i] = true;
    bb_qos_head(&m->q, i, m->seq++, arrival);
}

/* One dispatch at `now`; a backlogged flow's next request takes the head. */
static int qsim_step(struct qsim *m, fv_ns_t now)
{
    enum bb_qos_phase ph;
    int i = bb_qos_dispatch(&m->q, now, &ph, &m->when);
    m->last = i;
    if (i < 0)
        return -1;
    assert_true(ph == BB_QOS_RESERVATION || ph == BB_QOS_WEIGHT);
    m->n[i]++;
    if (m->backlogged[i])
        bb_qos_head(&m->q, i, m->seq++, 0);
    return i;
}

/* Weights 1:2, both backlogged: every 3 dispatches give 1 and 2, exactly
 * (ties of start tags go to the earlier arrival). */
static void qos_weights_one_to_two(void **st)
{
    (void)st;
    static const uint32_t w[][2] = { { 1, 2 }, { 256, 512 }, { 1000, 2000 } };
    for (unsigned k = 0; k < sizeof(w) / sizeof(w[0]); k++) {
        struct qsim m;
        qsim_init(&m, BB_QOS_SFQ, 2);
        bb_qos_set(&m.q, 0, w[k][0], 0, 0);
        bb_qos_set(&m.q, 1, w[k][1], 0, 0);
        qsim_on(&m, 0, 0);
        qsim_on(&m, 1, 0);
        for (int n = 1; n <= 1000; n++) {
            for (int j = 0; j < 3; j++)
                assert_true(qsim_step(&m, 0) >= 0);
            assert_int_equal(m.n[0], n);
            assert_int_equal(m.n[1], 2 * n);
        }
        bb_qos_fini(&m.q);
    }
}

/* SFQ's virtual time: v is the start tag of the request dispatched last. */
static void qos_start_tags_exact(void **st)
{
    (void)st;
    struct qsim m;
    qsim_init(&m, BB_QOS_SFQ, 2);
    bb_qos_set(&m.q, 0, 1, 0, 0);
    bb_qos_set(&m.q, 1, 4, 0, 0);
    qsim_on(&m, 0, 0);
    qsim_on(&m, 1, 0);
    assert_int_equal(m.q.flow[0].start, 0);
    assert_int_equal(m.q.flow[0].finish, U);
    assert_int_equal(m.q.flow[1].finish, U / 4);
    /* 0 (tie, earlier), then 1 at 0, U/4, U/2, 3U/4, then 0 at U (tie, earlier). */
    static const int order[] = { 0, 1, 1, 1, 1, 0, 1 };
    static const uint64_t v[] = { 0, 0, U / 4, U / 2, 3 * U / 4, U, U };
    for (int k = 0; k < 7; k++) {
        assert_int_equal(qsim_step(&m, 0), order[k]);
        assert_int_equal(m.q.vtime, v[k]);
    }
    bb_qos_fini(&m.q);
}

/* A flow idle while another was served alone gets no credit for it: from
 * when it wakes, equal weights share 50:50 (it goes first, at S = v, and is
 * not pushed back either). Credited, it would have had the next 100. */
static void qos_idle_flow_no_credit(void **st)
{
    (void)st;
    struct qsim m;
    qsim_init(&m, BB_QOS_SFQ, 2);
    bb_qos_set(&m.q, 0, 1, 0, 0);
    bb_qos_set(&m.q, 1, 1, 0, 0);
    qsim_on(&m, 1, 0);
    for (int k = 0; k < 100; k++)
        assert_int_equal(qsim_step(&m, 0), 1);
    assert_int_equal(m.q.vtime, 99 * U);
    qsim_on(&m, 0, 0);
    assert_int_equal(m.q.flow[0].start, 99 * U);
    assert_int_equal(qsim_step(&m, 0), 0);
    for (int k = 1; k < 100; k++)
        qsim_step(&m, 0);
    assert_int_equal(m.n[0], 50);
    assert_int_equal(m.n[1], 150);
    bb_qos_fini(&m.q);
}

/* Ties of start tags: a flow that wakes mid-round (S = v) goes before the
 * backlogged flows whose turn it also is (S = v too), though they arrived
 * first; among those, arrival order. */
static void qos_tie_woken_first(void **st)
{
    (void)st;
    struct qsim m;
    qsim_init(&m, BB_QOS_SFQ, 4);
    for (int i = 1; i < 4; i++)
        qsim_on(&m, i, 0);
    for (int k = 0; k < 31; k++)
        assert_int_equal(qsim_step(&m, 0), 1 + k % 3);
    uint64_t v = 10 * (U / BB_QOS_WEIGHT_DEFAULT);
    assert_int_equal(m.q.vtime, v);
    bb_qos_head(&m.q, 0, m.seq++, 0);
    assert_int_equal(m.q.flow[0].start, v);
    assert_int_equal(m.q.flow[2].start, v);
    assert_int_equal(m.q.flow[3].start, v);
    assert_true(m.q.flow[2].seq < m.q.flow[0].seq);
    assert_int_equal(qsim_step(&m, 0), 0);
    assert_int_equal(qsim_step(&m, 0), 2);
    assert_int_equal(qsim_step(&m, 0), 3);
    bb_qos_fini(&m.q);
}

/* Flow 0 (weight 1, reservation 1000 IOPS) beside flow 1 (weight 1000),
 * both backlogged, on a device taking 100,000 requests/s for 1 s: the
 * reservation gives flow 0 exactly one request per ms (1000); without it,
 * its weight gives it about 100. */
static void qos_reservation_met(void **st)
{
    (void)st;
    for (int with = 0; with < 2; with++) {
        struct qsim m;
        qsim_init(&m, BB_QOS_SFQ, 2);
        bb_qos_set(&m.q, 0, 1, with ? 1000 : 0, 0);
        bb_qos_set(&m.q, 1, 1000, 0, 0);
        qsim_on(&m, 0, 0);
        qsim_on(&m, 1, 0);
        for (fv_ns_t t = 0; t < FV_SEC(1); t += FV_US(10))
            assert_true(qsim_step(&m, t) >= 0);
        assert_int_equal(m.n[0] + m.n[1], 100000);
        print_message("[          ] reservation %s: flow 0 %llu (%llu by reservation), flow 1 "
                      "%llu\n", with ? "1000" : "none", (unsigned long long)m.n[0],
                      (unsigned long long)m.q.flow[0].by_reservation,
                      (unsigned long long)m.n[1]);
        if (with) {
            assert_int_equal(m.q.flow[0].by_reservation, 1000);
            assert_in_range(m.n[0], 1000, 1002);
        } else {
            assert_int_equal(m.q.flow[0].by_reservation, 0);
            assert_in_range(m.n[0], 95, 105);
        }
        bb_qos_fini(&m.q);
    }
}

/* A reserved flow idle for a second gets no burst of reservation when it
 * wakes: R = max(R_prev + 1/r, arrival). Over the next 10 ms it gets 10. */
static void qos_reservation_idle_no_credit(void **st)
{
    (void)st;
    struct qsim m;
    qsim_init(&m, BB_QOS_SFQ, 2);
    bb_qos_set(&m.q, 0, 1, 1000, 0);
    bb_qos_set(&m.q, 1, 1, 0, 0);
    bb_qos_head(&m.q, 0, m.seq++, 0);   /* one request at 0, then idle */
    qsim_on(&m, 1, 0);
    assert_int_equal(qsim_step(&m, 0), 0);
    assert_int_equal(m.q.flow[0].by_reservation, 1);
    for (fv_ns_t t = FV_US(10); t < FV_SEC(1); t += FV_US(10))
        assert_int_equal(qsim_step(&m, t), 1);
    m.backlogged[0] = true;
    bb_qos_head(&m.q, 0, m.seq++, FV_SEC(1));
    assert_int_equal(m.q.flow[0].rtag, FV_SEC(1));
    for (fv_ns_t t = FV_SEC(1); t < FV_SEC(1) + FV_MS(10); t += FV_US(10))
        qsim_step(&m, t);
    assert_int_equal(m.q.flow[0].by_reservation, 1 + 10);
    bb_qos_fini(&m.q);
}

/* A limit of 1000 IOPS lets exactly 1000 through in a second a flow is
 * backlogged from its first request, in both modes, and the other flow has
 * the rest of the device. */
static void qos_limit_caps_exactly(void **st)
{
    (void)st;
    for (int mode = 0; mode < 2; mode++) {
        struct qsim m;
        qsim_init(&m, mode ? BB_QOS_SFQ : BB_QOS_FIFO, 2);
        bb_qos_set(&m.q, 0, 65535, 0, 1000);
        bb_qos_set(&m.q, 1, 1, 0, 0);
        qsim_on(&m, 0, 0);
        qsim_on(&m, 1, 0);
        for (fv_ns_t t = 0; t < FV_SEC(1); t += FV_US(10))
            assert_true(qsim_step(&m, t) >= 0);
        assert_int_equal(m.n[0], 1000);
        assert_int_equal(m.n[1], 99000);
        bb_qos_fini(&m.q);
    }
}

/* Alone, a flow limited to 3 IOPS is told when to come back: the n-th
 * request at exactly floor(n x 1e9 / 3) ns, for n up to 3001 (the tags stay
 * exact past every whole second). */
static void qos_limit_when_exact(void **st)
{
    (void)st;
    struct qsim m;
    qsim_init(&m, BB_QOS_SFQ, 1);
    bb_qos_set(&m.q, 0, 0, 0, 3);
    qsim_on(&m, 0, 0);
    assert_int_equal(qsim_step(&m, 0), 0);
    for (int64_t n = 1; n <= 3001; n++) {
        fv_ns_t due = (fv_ns_t)(n * 1000000000LL / 3);
        assert_int_equal(qsim_step(&m, due - 1), -1);
        assert_int_equal(m.when, due);
        assert_int_equal(qsim_step(&m, due), 0);
    }
    assert_int_equal(m.n[0], 3002);
    /* The last one at its head goes at 3002/3 s; then idle for a while: the
     * next request goes at its arrival, no sooner and no later (no credit
     * for the idle time, no debt). */
    m.backlogged[0] = false;
    assert_int_equal(qsim_step(&m, FV_SEC(1000) + 666666666), 0);
    bb_qos_head(&m.q, 0, m.seq++, FV_SEC(5000));
    assert_int_equal(qsim_step(&m, FV_SEC(5000) - 1), -1);
    assert_int_equal(m.when, FV_SEC(5000));
    assert_int_equal(qsim_step(&m, FV_SEC(5000)), 0);
    bb_qos_fini(&m.q);
}

/* FIFO: a flood's 32 queued first go before a light flow's one, whatever
 * the weights; SFQ: the light one goes second. */
static void qos_fifo_order(void **st)
{
    (void)st;
    for (int mode = 0; mode < 2; mode++) {
        struct qsim m;
        qsim_init(&m, mode ? BB_QOS_SFQ : BB_QOS_FIFO, 2);
        bb_qos_set(&m.q, 0, 1, 0, 0);
        bb_qos_set(&m.q, 1, 1, 0, 0);
        /* Flow 0's 32 requests took seq 0..31 (its head now 0); flow 1's 32. */
        bb_qos_head(&m.q, 0, 0, 0);
        bb_qos_head(&m.q, 1, 32, 0);
        uint64_t next0 = 1;
        int pos = -1;
        for (int k = 0; k < 33; k++) {
            enum bb_qos_phase ph;
            fv_ns_t when;
            int i = bb_qos_dispatch(&m.q, 0, &ph, &when);
            assert_true(i >= 0);
            if (i == 1) {
                pos = k;
                break;
            }
            if (next0 < 32)
                bb_qos_head(&m.q, 0, next0++, 0);
        }
        assert_int_equal(pos, mode ? 1 : 32);
        bb_qos_fini(&m.q);
    }
}

/* FIFO with a limit: the held flow's head waits, a later one goes past it,
 * and with only held heads left the scheduler says when. A dropped flow is
 * never dispatched. */
static void qos_fifo_limit_and_drop(void **st)
{
    (void)st;
    struct qsim m;
    qsim_init(&m, BB_QOS_FIFO, 3);
    bb_qos_set(&m.q, 0, 0, 5000, 1);     /* reservations do not apply in FIFO */
    qsim_on(&m, 0, 0);
    bb_qos_head(&m.q, 1, m.seq++, 0);
    assert_int_equal(qsim_step(&m, 0), 0);
    assert_int_equal(qsim_step(&m, 0), 1);
    assert_int_equal(qsim_step(&m, 0), -1);
    assert_int_equal(m.when, FV_SEC(1));
    assert_int_equal(m.q.flow[0].by_reservation, 0);
    bb_qos_head(&m.q, 2, m.seq++, 0);
    bb_qos_drop(&m.q, 2);
    assert_int_equal(qsim_step(&m, FV_SEC(1) - 1), -1);
    assert_int_equal(qsim_step(&m, FV_SEC(1)), 0);
    bb_qos_drop(&m.q, 0);
    assert_int_equal(qsim_step(&m, FV_SEC(9)), -1);
    assert_int_equal(m.when, 0);
    assert_false(bb_qos_timed(&(struct bb_qos){ .mode = BB_QOS_FIFO, .nflows = 0 }));
    assert_true(bb_qos_timed(&m.q));
    bb_qos_fini(&m.q);
}

/* ---- the scenario keys ------------------------------------------------------------- */

/* blkback.fairness, blkback.depth, blkback.model.depth and a vbd's weight,
 * reservation and limit: defaults, values, overrides, refusals. */
static void scn_qos_keys(void **st)
{
    (void)st;
    struct scenario s;
    load_ok("duration: 1s\ndomains:\n  - name: a\n    workload: blk-flood\n", NULL, 0, &s);
    assert_int_equal(s.blkback.fairness, SCN_BLK_FAIR_NONE);
    assert_int_equal(s.blkback.depth, 16);
    assert_int_equal(s.blkback.model_depth, 16);
    assert_int_equal(s.domains[0].vbds[0].weight, 256);
    assert_int_equal(s.domains[0].vbds[0].reservation, 0);
    assert_int_equal(s.domains[0].vbds[0].limit, 0);
    scenario_free(&s);
    const char *text = "duration: 1s\nblkback: { fairness: sfq, depth: 8, model: { depth: 64 } }\n"
                       "domains:\n  - name: a\n    vbds: [{ weight: 65535, reservation: 1k, "
                       "limit: 10000000 }, { reservation: 5, limit: 5 }]\n";
    load_ok(text, NULL, 0, &s);
    assert_int_equal(s.blkback.fairness, SCN_BLK_FAIR_SFQ);
    assert_int_equal(s.blkback.depth, 8);
    assert_int_equal(s.blkback.model_depth, 64);
    assert_int_equal(s.domains[0].vbds[0].weight, 65535);
    assert_int_equal(s.domains[0].vbds[0].reservation, 1000);
    assert_int_equal(s.domains[0].vbds[0].limit, 10000000);
    assert_int_equal(s.domains[0].vbds[1].weight, 256);
    assert_int_equal(s.domains[0].vbds[1].reservation, 5);
    scenario_free(&s);
    const char *const sets[] = { "blkback.fairness=none", "domains.0.vbds.1.limit=0",
                                 "domains.0.vbds.0.weight=3" };
    load_ok(text, sets, 3, &s);
    assert_int_equal(s.blkback.fairness, SCN_BLK_FAIR_NONE);
    assert_int_equal(s.domains[0].vbds[1].limit, 0);
    assert_int_equal(s.domains[0].vbds[0].weight, 3);
    scenario_free(&s);
    const char *const over[] = { "domains.0.vbds.0.limit=999" };
    load_bad(text, over, 1, "s.yaml:5:42: reservation 1000 IOPS is above limit 999 IOPS "
             "(expected a reservation <= the limit, or limit: 0 for none)");
#define VBD1 "duration: 1s\ndomains:\n  - name: a\n    vbds: "
    load_bad(VBD1 "[{ limit: 10000001 }]\n", NULL, 0, "s.yaml:4:21: limit 10000001 is out of "
             "range (expected 0..10000000: IOPS, 0 = none)");
    load_bad(VBD1 "[{ reservation: -1 }]\n", NULL, 0, "s.yaml:4:27: reservation -1 is negative "
             "(expected 0..10000000: IOPS, 0 = none)");
    load_bad(VBD1 "[{ limit: 1.5 }]\n", NULL, 0, "s.yaml:4:21: limit 1.5 is not a whole "
             "number (expected 0..10000000: IOPS, 0 = none)");
    load_bad(VBD1 "[{ weight: 65536 }]\n", NULL, 0, "s.yaml:4:22: weight 65536 is out of range "
             "(expected 1..65535)");
    load_bad("duration: 1s\nblkback: { depth: 1025 }\n" ONE_DOM "    vbds: [{}]\n", NULL, 0,
             "s.yaml:2:19: depth 1025 is out of range (expected 1..1024: requests at the disk "
             "over all vbds)");
#undef VBD1
}

/* ---- through blkback ---------------------------------------------------------------- */

#define LAT 100000                      /* ns */
#define BW 100000000ull                 /* a page takes 40960 ns */
#define P 40960

struct qconf {
    enum scn_blk_fairness fairness;
    unsigned depth, model_depth;
    uint32_t weight[3];
    uint64_t reservation[3], limit[3];
};

/* Three guests, connected, on blkback rebuilt with q's scheduler. */
static struct bbf *make_q(const struct qconf *q)
{
    struct bbf *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct bbf_conf c = { .guests = 3, .pages = 32, .disk_size = 256u << 10, .latency = LAT,
                          .bandwidth = BW, .model_depth = q->model_depth };
    assert_int_equal(bbf_init(f, &c), 0);
    blkback_destroy(f->bb);
    struct scn_blkback *b = &f->scn->blkback;
    b->fairness = q->fairness;
    b->depth = q->depth;
    struct gnttab *gt[BBF_MAX_GUESTS + 1] = { 0 };
    for (int i = 0; i < 3; i++) {
        struct scn_vbd *v = &f->scn->domains[i].vbds[0];
        v->weight = q->weight[i];
        v->reservation = q->reservation[i];
        v->limit = q->limit[i];
        gt[i] = f->g[i].gt;
    }
    char err[256];
    struct blkback_conf bc = { .scn = f->scn, .virtual_time = true, .ev = &f->ev, .gt = gt };
    f->bb = blkback_create(&bc, err, sizeof(err));
    assert_non_null(f->bb);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(bbf_front(f, i), 0);
        assert_int_equal(bbf_connect(f, i), 0);
    }
    bbf_settle(f);
    f->now = FV_MS(1);
    return f;
}

static void free_q(struct bbf *f)
{
    bbf_fini(f);
    free(f);
}

/* Passes at each *next_due until nothing is left; which guest each answer
 * went to, in order (at most max). Returns how many. */
static int answer_order(struct bbf *f, int *who, int max)
{
    int n = 0;
    for (int pass = 0; pass < 1000; pass++) {
        bbf_pass(f);
        for (int i = 0; i < 3; i++) {
            struct blkif_response r;
            while (bbf_rsp(&f->g[i], &r)) {
                assert_int_equal(r.status, BLKIF_RSP_OKAY);
                if (n < max)
                    who[n] = i;
                n++;
            }
        }
        if (f->work > 0)
            continue;
        if (!f->due)
            break;
        f->now = f->due;
    }
    return n;
}

/* Guest 0 posts 8 one-page reads, then guest 1 one; one request at the
 * disk at a time. none: guest 1's waits for all 8 (FIFO in the order they
 * were taken); sfq: it goes second. */
static void bb_fifo_and_sfq_order(void **st)
{
    (void)st;
    for (int sfq = 0; sfq < 2; sfq++) {
        struct qconf q = { .fairness = sfq ? SCN_BLK_FAIR_SFQ : SCN_BLK_FAIR_NONE, .depth = 1,
                           .model_depth = 1 };
        struct bbf *f = make_q(&q);
        for (int k = 0; k < 8; k++)
            bbf_post(&f->g[0], BLKIF_OP_READ, 8 * (uint64_t)k, 1, k);
        bbf_post(&f->g[1], BLKIF_OP_READ, 0, 1, 0);
        bbf_push(f, 0);
        bbf_push(f, 1);
        fv_ns_t t0 = f->now;
        int who[9];
        assert_int_equal(answer_order(f, who, 9), 9);
        int at = sfq ? 1 : 8;
        for (int k = 0; k < 9; k++)
            assert_int_equal(who[k], k == at ? 1 : 0);
        /* One at a time, back to back: the last is answered at 9 services. */
        assert_int_equal(f->now, t0 + 9 * (LAT + P));
        free_q(f);
    }
}

/* blkback.depth 2 on a device of 16 units: two at the disk at once; both
 * start at t0, their transfers cross the channel one after the other; each
 * answer lets the next in. depth 16: all four at once. */
static void bb_depth_and_model(void **st)
{
    (void)st;
    for (int deep = 0; deep < 2; deep++) {
        struct qconf q = { .depth = deep ? 16 : 2, .model_depth = 16 };
        struct bbf *f = make_q(&q);
        fv_ns_t t0 = f->now;
        for (int k = 0; k < 4; k++)
            bbf_post(&f->g[0], BLKIF_OP_READ, 8 * (uint64_t)k, 1, k);
        bbf_push(f, 0);
        fv_ns_t want[4] = { t0 + LAT + P, t0 + LAT + 2 * P, t0 + 2 * LAT + 2 * P,
                            t0 + 2 * LAT + 3 * P };
        if (deep)
            for (int k = 0; k < 4; k++)
                want[k] = t0 + LAT + (k + 1) * P;
        bbf_pass(f);
        for (int k = 0; k < 4; k++) {
            assert_int_equal(f->due, want[k]);
            f->now = f->due;
            bbf_pass(f);
            struct blkif_response r;
            assert_int_equal(bbf_rsp(&f->g[0], &r), 1);
            assert_int_equal(r.id, BBF_ID_TAG | (uint64_t)k);
        }
        assert_int_equal(f->due, 0);
        free_q(f);
    }
}

/* A vbd limited to 1000 IOPS: its second request goes 1 ms after its first
 * arrived, and with nothing in service *next_due says so. */
static void bb_limit_next_due(void **st)
{
    (void)st;
    struct qconf q = { .fairness = SCN_BLK_FAIR_SFQ, .model_depth = 16, .limit = { 1000 } };
    struct bbf *f = make_q(&q);
    fv_ns_t t0 = f->now;
    for (int k = 0; k < 3; k++)
        bbf_post(&f->g[0], BLKIF_OP_READ, 8 * (uint64_t)k, 1, k);
    bbf_push(f, 0);
    bbf_pass(f);
    assert_int_equal(f->due, t0 + LAT + P);
    f->now = f->due;
    bbf_pass(f);
    struct blkif_response r;
    assert_int_equal(bbf_rsp(&f->g[0], &r), 1);
    assert_int_equal(f->work, 1);
    bbf_pass(f);
    assert_int_equal(f->work, 0);       /* nothing to do until the limit allows */
    assert_int_equal(f->due, t0 + FV_MS(1));
    f->now = f->due;
    bbf_pass(f);
    assert_int_equal(f->due, t0 + FV_MS(1) + LAT + P);
    f->now = f->due;
    bbf_pass(f);
    assert_int_equal(bbf_rsp(&f->g[0], &r), 1);
    assert_int_equal(f->due, t0 + FV_MS(2));
    free_q(f);
}

/* Guest 0 holds the disk's only place (depth 1) and has another request
 * queued when its ring breaks: disconnected, it gives the place back, and
 * guest 1's request is served. */
static void bb_disconnect_releases_depth(void **st)
{
    (void)st;
    struct qconf q = { .depth = 1, .model_depth = 1 };
    struct bbf *f = make_q(&q);
    struct bbf_guest *g = &f->g[0];
    bbf_post(g, BLKIF_OP_READ, 0, 1, 0);
    bbf_post(g, BLKIF_OP_READ, 8, 1, 1);
    bbf_push(f, 0);
    bbf_pass(f);
    uint32_t cons = g->ring.req_prod_pvt;
    __atomic_store_n(&g->ring.sring->req_prod, cons + 33, __ATOMIC_RELEASE);
    evtchn_send(&f->ev, g->domid, g->port);
    bbf_pass(f);
    assert_true(bbf_stats(f, 0)->disconnected);
    fv_ns_t t1 = f->now;
    bbf_post(&f->g[1], BLKIF_OP_READ, 0, 1, 0);
    bbf_push(f, 1);
    int who[4];
    assert_int_equal(answer_order(f, who, 4), 1);
    assert_int_equal(who[0], 1);
    /* It went to the disk at once: the dead vbd's request no longer counts
     * against blkback.depth (its modelled unit stays busy until its due). */
    assert_int_equal(f->now, (t1 > FV_MS(1) + LAT + P ? t1 : FV_MS(1) + LAT + P) + LAT + P);
    free_q(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qos_weights_one_to_two),
        cmocka_unit_test(qos_start_tags_exact),
        cmocka_unit_test(qos_idle_flow_no_credit),
        cmocka_unit_test(qos_tie_woken_first),
        cmocka_unit_test(qos_reservation_met),
        cmocka_unit_test(qos_reservation_idle_no_credit),
        cmocka_unit_test(qos_limit_caps_exactly),
        cmocka_unit_test(qos_limit_when_exact),
        cmocka_unit_test(qos_fifo_order),
        cmocka_unit_test(qos_fifo_limit_and_drop),
        cmocka_unit_test(scn_qos_keys),
        cmocka_unit_test(bb_fifo_and_sfq_order),
        cmocka_unit_test(bb_depth_and_model),
        cmocka_unit_test(bb_limit_next_due),
        cmocka_unit_test(bb_disconnect_releases_depth),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
