/* fuzz_blkback.c — libFuzzer harness: blkback (blkback/blkback.h) against a
 * guest that writes anything into its ring and grant table, beside two
 * well-behaved guests reading and writing their own disks. Built on
 * tests/blkback_fixture.h: guests 1, 2, 3 (indexes 0, 1, 2) with 32 pages,
 * 32 grant entries and a 64 KiB memory disk each; virtual time (latency
 * 10 us, 1 GB/s) or real time, the clock moving 50 us per pass.
 *
 * Input: a prefix, then a script.
 *   prefix (PREFIX bytes; a shorter input is padded with zeros):
 *     1   the reference guest 1 connects its ring with;
 *     1   the queue depth (mod 33; 0: the default, 32);
 *     1   flags: bit 0 real time;
 *     16  guest 1's ring header (req_prod, req_event, rsp_prod, rsp_event),
 *         then 4 request slots of 112 bytes, repeated over the ring's 32.
 *   script: ops, each an opcode byte (mod OP_MAX) and its arguments:
 *     PASS; SLOT k req[112]; SLOT_BYTE k off v; PROD_ADD n; RING_WORD w
 *     val[4]; GRANT page peer ro; END ref; EVENT; WRITE page off[2] n
 *     data[n]; POST op nseg sector[2] gref first last; STORM n (4n events,
 *     a pass after each); RECONNECT ref; PASSES n; WAIT (the clock to the
 *     next due time, a pass).
 * Guest 1's data pages are references 1..16 (pages 1..16, writable);
 * reference 17 is a grant of its last page to guest 2 instead of domain 0.
 *
 * Every pass, guests 2 and 3 each have one request in service, in turn a
 * write of a pattern and a read (1..3 pages, somewhere on their disks), and
 * after it these must hold (a violation aborts, a finding):
 *   - guests 2 and 3 stay connected; each request is answered OKAY within
 *     PAIR_PASSES passes, with its id and operation (the vbds share one
 *     disk, of one unit, served first come first served: a request may wait
 *     behind all guest 1 has taken, a ring, and the other pair guest's); a read brings back exactly
 *     what the guest last wrote there (a shadow of its disk), and at the
 *     end each whole disk is read back and compared;
 *   - no page of any guest that was never granted writable to domain 0
 *     changes, except where the harness itself wrote (a shadow copy;
 *     compared every FULL_CHECK passes and at the end, for speed);
 *   - counters never go down; a disconnected vbd stays so, with the same
 *     reason and its counters frozen; a connected guest 1's published
 *     response producer equals its answered requests, and every response
 *     published in a pass that copied no data into its pages (no read
 *     answered, no error that could have been a read) says OKAY, ERROR or
 *     EOPNOTSUPP;
 *   - blkback_connect on a vbd in use says -EBUSY, on none -ENODEV; the
 *     pins on guest 1's grants are its ring's while it is connected, none
 *     once it is disconnected or blkback is destroyed.
 * blkback's own "disconnected" lines go to /dev/null unless
 * BB_FUZZ_VERBOSE is set.
 *   tools/fuzz blkback [SECONDS]
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/blkback_fixture.h"

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
#define DISK (64u << 10)
#define DISK_PAGES (DISK / BBF_PAGE)
#define STEP FV_US(50)                  /* the clock per pass */
/* Each request ahead of a pair guest's on the shared disk takes at most two
 * passes (10 us + 11 pages at 1 GB/s, and a pass to send the next), and so
 * does the guest's own. */
#define PAIR_PASSES (2 * ((int)blkif_RING_SIZE + 2))
#define FULL_CHECK 32                   /* passes between memory checks */
#define SLOTS_IN 4
#define REQ_SIZE ((int)sizeof(struct blkif_request))
#define PREFIX (3 + 16 + SLOTS_IN * REQ_SIZE)
#define MAX_PASSES 2048
#define EVIL 0
#define OTHER_REF (1 + BBF_DATA)        /* guest 1's grant to guest 2 */
#define PAIR_W 0                        /* a pair guest's data pages: writes from 0.. */
#define PAIR_R 8                        /* ...reads into 8.. */

enum { OP_PASS, OP_SLOT, OP_SLOT_BYTE, OP_PROD_ADD, OP_RING_WORD, OP_GRANT, OP_END, OP_EVENT,
       OP_WRITE, OP_POST, OP_STORM, OP_RECONNECT, OP_PASSES, OP_WAIT, OP_MAX };

/* A well-behaved guest's request in service. */
struct pend {
    bool on;
    uint64_t id;
    uint8_t op;
    uint64_t sector;
    int pages;
    int age;                            /* passes it has been through */
};

/* A vbd's statistics without the histogram (copied every pass: 10 KiB). */
struct snap {
    uint64_t reads, writes, flushes, read_bytes, write_bytes, errors, unsupported;
    uint64_t events, spurious, answers;
    fv_ns_t backend_ns;
    bool connected, disconnected;
    char reason[160];
};

struct fz {
    struct bbf f;
    uint8_t *shadow[GUESTS];            /* what each guest's memory must hold */
    bool writable[GUESTS][PAGES];       /* ever granted writable to domain 0 */
    int ref_page[GRANTS];               /* guest 1: the page of each grant, -1 */
    bool ref_w0[GRANTS];                /* ...and whether it is writable to 0 */
    int ring_ref;                       /* what guest 1 connected with, -1 */
    struct snap prev[GUESTS];
    struct pend pend[GUESTS];
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

/* ---- memory, as the harness writes it ---------------------------------------------- */

static void wrote(struct fz *z, int gi, uint32_t page)
{
    memcpy(z->shadow[gi] + (size_t)page * BBF_PAGE, bbf_page(&z->f.g[gi], page), BBF_PAGE);
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

static void check_memory(struct fz *z)
{
    for (int gi = 0; gi < GUESTS; gi++)
        for (uint32_t p = 0; p < PAGES; p++) {
            if (z->writable[gi][p])
                continue;
            CHECK(memcmp(bbf_page(&z->f.g[gi], p), z->shadow[gi] + (size_t)p * BBF_PAGE,
                         BBF_PAGE) == 0,
                  "guest %d page %u changed, never granted writable to domain 0", gi + 1, p);
        }
}

/* ---- the checks ------------------------------------------------------------------ */

static uint64_t answered(const struct blkback_vbd_stats *s)
{
    return s->reads + s->writes + s->flushes + s->errors + s->unsupported;
}

static void take_snap(struct snap *o, const struct blkback_vbd_stats *s)
{
    *o = (struct snap){ .reads = s->reads, .writes = s->writes, .flushes = s->flushes,
                        .read_bytes = s->read_bytes, .write_bytes = s->write_bytes,
                        .errors = s->errors, .unsupported = s->unsupported,
                        .events = s->events, .spurious = s->spurious, .answers = answered(s),
                        .backend_ns = s->backend_ns, .connected = s->connected,
                        .disconnected = s->disconnected };
    memcpy(o->reason, s->reason, sizeof(o->reason));
}

static void check_counters(struct fz *z, int gi, const struct blkback_vbd_stats *s)
{
    const struct snap *o = &z->prev[gi];
    CHECK(s->reads >= o->reads && s->writes >= o->writes && s->flushes >= o->flushes &&
          s->read_bytes >= o->read_bytes && s->write_bytes >= o->write_bytes &&
          s->errors >= o->errors && s->unsupported >= o->unsupported &&
          s->events >= o->events && s->spurious >= o->spurious &&
          answered(s) >= o->answers && s->backend_ns >= o->backend_ns,
          "guest %d: a counter went down", gi + 1);
    CHECK(s->read_bytes <= s->reads * 11 * BBF_PAGE && s->read_bytes >= s->reads * 512,
          "guest %d: %llu bytes in %llu reads", gi + 1, (unsigned long long)s->read_bytes,
          (unsigned long long)s->reads);
    CHECK(s->write_bytes <= s->writes * 11 * BBF_PAGE, "guest %d: %llu bytes in %llu writes",
          gi + 1, (unsigned long long)s->write_bytes, (unsigned long long)s->writes);
    CHECK(s->latency.count == answered(s), "guest %d: %llu latencies for %llu answers", gi + 1,
          (unsigned long long)s->latency.count, (unsigned long long)answered(s));
    CHECK(s->spurious <= s->events, "guest %d: more spurious events than events", gi + 1);
    CHECK(!o->connected || s->connected, "guest %d: connected went back to false", gi + 1);
    CHECK(s->disconnected == (s->reason[0] != 0), "guest %d: disconnected %d, reason '%s'",
          gi + 1, s->disconnected, s->reason);
    if (o->disconnected)
        CHECK(s->disconnected && strcmp(s->reason, o->reason) == 0 &&
              answered(s) == o->answers && s->events == o->events,
              "guest %d: disconnected (%s), then: disconnected %d, '%s', counters moved",
              gi + 1, o->reason, s->disconnected, s->reason);
    if (s->disconnected && !o->disconnected)
        CHECK(s->connected, "guest %d: disconnected without being connected", gi + 1);
}

/* Guest 1, connected: what blkback published matches its counters, and the
 * new responses' statuses are valid where no data could have been copied
 * over them (a read may land on the ring page: the guest's own doing). */
static void check_evil_ring(struct fz *z, const struct blkback_vbd_stats *s)
{
    const struct snap *o = &z->prev[EVIL];
    struct bbf_guest *g = &z->f.g[EVIL];
    if (!s->connected || s->disconnected || answered(s) == o->answers)
        return;
    uint32_t rsp_prod = __atomic_load_n(&g->ring.sring->rsp_prod, __ATOMIC_ACQUIRE);
    CHECK(rsp_prod == (uint32_t)answered(s), "guest 1: rsp_prod %u after %llu answers", rsp_prod,
          (unsigned long long)answered(s));
    /* More than a ring of answers in one pass reuse their slots. */
    if (s->reads != o->reads || s->errors != o->errors ||
        answered(s) - o->answers > blkif_RING_SIZE)
        return;
    for (uint64_t i = o->answers; i < answered(s); i++) {
        const struct blkif_response *r = FV_RING_GET_RESPONSE(&g->ring, (uint32_t)i);
        CHECK(r->status == BLKIF_RSP_OKAY || r->status == BLKIF_RSP_ERROR ||
              r->status == BLKIF_RSP_EOPNOTSUPP, "guest 1: response %llu has status %d",
              (unsigned long long)i, r->status);
    }
    uint64_t okay = 0, unsupp = 0;
    for (uint64_t i = o->answers; i < answered(s); i++) {
        const struct blkif_response *r = FV_RING_GET_RESPONSE(&g->ring, (uint32_t)i);
        okay += r->status == BLKIF_RSP_OKAY;
        unsupp += r->status == BLKIF_RSP_EOPNOTSUPP;
    }
    CHECK(okay == (s->writes + s->flushes) - (o->writes + o->flushes) &&
          unsupp == s->unsupported - o->unsupported,
          "guest 1: %llu OKAY and %llu EOPNOTSUPP responses do not match its counters",
          (unsigned long long)okay, (unsigned long long)unsupp);
}

static void check_pins(struct fz *z)
{
    const struct blkback_vbd_stats *s = bbf_stats(&z->f, EVIL);
    uint32_t pinned = gnttab_pinned(z->f.g[EVIL].gt);
    uint32_t want = s->connected && !s->disconnected ? 1 : 0;
    CHECK(pinned == want, "guest 1: %u grants pinned, expected %u", pinned, want);
}

/* ---- the well-behaved pair --------------------------------------------------------- */

static void pair_post(struct fz *z, int gi)
{
    struct bbf *f = &z->f;
    struct bbf_guest *g = &f->g[gi];
    struct pend *p = &z->pend[gi];
    if (p->on)
        return;
    uint32_t s = z->seq++;
    p->op = s % 2 ? BLKIF_OP_READ : BLKIF_OP_WRITE;
    p->pages = 1 + (int)(s / 2 % 3);
    p->sector = 8 * (uint64_t)(s * 5 % (DISK_PAGES - 2));
    int page0 = p->op == BLKIF_OP_WRITE ? PAIR_W : PAIR_R;
    for (int k = 0; k < p->pages; k++) {
        if (p->op == BLKIF_OP_WRITE)
            bbf_fill(bbf_data(g, page0 + k), BBF_PAGE, s * 16 + (uint32_t)k);
        else
            memset(bbf_data(g, page0 + k), 0xEE, BBF_PAGE);
    }
    struct blkif_request *r = bbf_post(g, p->op, p->sector, p->pages, page0);
    CHECK(r, "guest %d: its ring is full", gi + 1);
    p->id = r->id;
    p->on = true;
    p->age = 0;
    bbf_push(f, gi);
}

/* The pair guest's answer, if it came: exactly its request's, OKAY, and a
 * read brings back the shadow. */
static void pair_recv(struct fz *z, int gi)
{
    struct bbf_guest *g = &z->f.g[gi];
    struct pend *p = &z->pend[gi];
    struct blkif_response rsp;
    if (!bbf_rsp(g, &rsp)) {
        CHECK(!p->on || ++p->age < PAIR_PASSES, "guest %d: request %llx unanswered after %d "
              "passes", gi + 1, (unsigned long long)p->id, PAIR_PASSES);
        return;
    }
    CHECK(p->on && rsp.id == p->id && rsp.operation == p->op && rsp.status == BLKIF_RSP_OKAY,
          "guest %d: response id %llx op %u status %d, expected %llx op %u OKAY", gi + 1,
          (unsigned long long)rsp.id, rsp.operation, rsp.status, (unsigned long long)p->id, p->op);
    CHECK(!bbf_rsp(g, &rsp), "guest %d: a second response", gi + 1);
    uint8_t *disk = g->disk + p->sector * BLKIF_SECTOR;
    for (int k = 0; k < p->pages; k++) {
        if (p->op == BLKIF_OP_WRITE)
            memcpy(disk + (size_t)k * BBF_PAGE, bbf_data(g, PAIR_W + k), BBF_PAGE);
        else
            CHECK(memcmp(disk + (size_t)k * BBF_PAGE, bbf_data(g, PAIR_R + k), BBF_PAGE) == 0,
                  "guest %d: page %d of a read at sector %llu is not what it wrote", gi + 1, k,
                  (unsigned long long)p->sector);
    }
    p->on = false;
}

static void pass(struct fz *z)
{
    struct bbf *f = &z->f;
    z->passes++;
    for (int gi = 1; gi < GUESTS; gi++)
        pair_post(z, gi);
    int work = bbf_pass(f);
    CHECK(work >= 0 && work <= 3 * 3 * (int)blkif_RING_SIZE + 3, "blkback_poll returned %d",
          work);
    CHECK(f->c.real_time || f->due == 0 || f->due > f->now, "next_due %lld at %lld",
          (long long)f->due, (long long)f->now);
    f->now += STEP;
    for (int gi = 1; gi < GUESTS; gi++) {
        pair_recv(z, gi);
        CHECK(!bbf_stats(f, gi)->disconnected, "well-behaved guest %d disconnected: %s", gi + 1,
              bbf_stats(f, gi)->reason);
    }
    if (z->passes % FULL_CHECK == 0)
        check_memory(z);
    check_pins(z);
    check_evil_ring(z, bbf_stats(f, EVIL));
    for (int gi = 0; gi < GUESTS; gi++) {
        check_counters(z, gi, bbf_stats(f, gi));
        take_snap(&z->prev[gi], bbf_stats(f, gi));
    }
}

/* ---- the script ------------------------------------------------------------------ */

static void op_grant(struct fz *z)
{
    struct bbf_guest *g = &z->f.g[EVIL];
    uint32_t page = rd8(z) % PAGES;
    int peer = rd8(z) % 4;
    bool ro = rd8(z) & 1;
    int ref = gnttab_grant(g->gt, peer, bbf_page(g, page), ro);
    CHECK(ref < 0 ? peer == g->domid || ref == -ENOSPC : peer != g->domid,
          "gnttab_grant to %d: %d", peer, ref);
    note_grant(z, ref, (int)page, peer, ro);
}

static void op_write(struct fz *z)
{
    struct bbf_guest *g = &z->f.g[EVIL];
    uint32_t page = rd8(z) % PAGES, off = rd16(z) % BBF_PAGE, n = rd8(z) % 65;
    if (n > BBF_PAGE - off)
        n = BBF_PAGE - off;
    rdn(z, bbf_page(g, page) + off, n);
    wrote(z, EVIL, page);
}

/* A sector within a page: mostly 0..7, any byte when the top bit is set. */
static uint8_t sect(uint8_t b)
{
    return b & 0x80 ? b : b & 7;
}

static void op_post(struct fz *z)
{
    struct bbf_guest *g = &z->f.g[EVIL];
    uint32_t prod = __atomic_load_n(&g->ring.sring->req_prod, __ATOMIC_RELAXED);
    struct blkif_request r = { .operation = rd8(z) % 8, .nr_segments = rd8(z) };
    r.sector_number = rd16(z);
    if (r.nr_segments > 16)
        r.nr_segments = (uint8_t)(r.nr_segments % 13);
    uint8_t gref = rd8(z), first = sect(rd8(z)), last = sect(rd8(z));
    for (int k = 0; k < BLKIF_MAX_SEGMENTS_PER_REQUEST; k++)
        r.seg[k] = (struct blkif_request_segment){ .gref = (uint8_t)(gref + k),
                                                   .first_sect = first, .last_sect = last };
    r.id = prod;
    g->ring.sring->ring[prod % blkif_RING_SIZE].req = r;
    __atomic_store_n(&g->ring.sring->req_prod, prod + 1, __ATOMIC_RELEASE);
}

static void op_ring_word(struct fz *z)
{
    struct bbf_guest *g = &z->f.g[EVIL];
    int w = rd8(z) % 4;
    uint32_t v = rd32(z);
    uint32_t *hdr = (uint32_t *)(void *)g->ring.sring;
    __atomic_store_n(&hdr[w], v, __ATOMIC_RELEASE);
}

static bool ref_ok_for_ring(const struct fz *z, uint32_t ref)
{
    return ref < GRANTS && z->ref_page[ref] >= 0 && z->ref_w0[ref];
}

/* Guest 1 connects with reference ref: it must work exactly when ref is an
 * in-use grant, writable by domain 0. */
static void try_connect(struct fz *z, uint32_t ref)
{
    struct bbf *f = &z->f;
    struct bbf_guest *g = &f->g[EVIL];
    int rc = blkback_connect(f->bb, g->d, 0, ref, g->port);
    CHECK((rc == 0) == ref_ok_for_ring(z, ref), "blkback_connect(%u): %d", ref, rc);
    if (rc)
        return;
    z->ring_ref = (int)ref;
    /* blkback attaches to the ring as it finds it (its indices at 0); the
     * script's ring ops write where blkback reads. */
    g->ring.sring = (struct blkif_sring *)bbf_page(g, (uint32_t)z->ref_page[ref]);
}

static void op_reconnect(struct fz *z)
{
    struct bbf *f = &z->f;
    uint32_t ref = rd8(z);
    if (bbf_stats(f, EVIL)->connected) {
        int rc = blkback_connect(f->bb, f->g[EVIL].d, 0, ref, f->g[EVIL].port);
        CHECK(rc == -EBUSY, "blkback_connect on a vbd in use: %d", rc);
    } else {
        try_connect(z, ref);
    }
    CHECK(blkback_connect(f->bb, f->g[EVIL].d, 1, 0, 1) == -ENODEV, "vbd 1 exists");
    CHECK(blkback_connect(f->bb, GUESTS, 0, 0, 1) == -ENODEV, "Domain-0 has a vbd");
    CHECK(blkback_connect(f->bb, 1, 0, 0, 1) == -EBUSY, "guest 2's vbd is free");
}

static void prod_add(uint32_t *prod, uint8_t n)
{
    __atomic_store_n(prod, __atomic_load_n(prod, __ATOMIC_RELAXED) + n, __ATOMIC_RELEASE);
}

static void run_op(struct fz *z, int op)
{
    struct bbf *f = &z->f;
    struct bbf_guest *g = &f->g[EVIL];
    switch (op) {
    case OP_PASS: pass(z); break;
    case OP_SLOT: rdn(z, &g->ring.sring->ring[rd8(z) % blkif_RING_SIZE].req, REQ_SIZE); break;
    case OP_SLOT_BYTE: {
        uint8_t k = rd8(z), off = rd8(z);
        ((uint8_t *)&g->ring.sring->ring[k % blkif_RING_SIZE].req)[off % REQ_SIZE] = rd8(z);
        break;
    }
    case OP_PROD_ADD: prod_add(&g->ring.sring->req_prod, rd8(z)); break;
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
    case OP_POST: op_post(z); break;
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
    case OP_WAIT:
        if (f->due > f->now)
            f->now = f->due;
        pass(z);
        break;
    }
}

/* ---- set-up ---------------------------------------------------------------------- */

/* The guests' memory and the shadows live across inputs. */
static uint8_t *arena, *shadows;

/* The prefix over guest 1's ring page (after bbf_front initialised it). */
static void load_ring(struct fz *z, const uint8_t *in)
{
    struct blkif_sring *s = z->f.g[EVIL].ring.sring;
    memcpy(s, in, 16);
    in += 16;
    for (int k = 0; k < blkif_RING_SIZE; k++)
        memcpy(&s->ring[k].req, in + (k % SLOTS_IN) * REQ_SIZE, REQ_SIZE);
}

static int setup(struct fz *z, unsigned qdepth, bool real_time)
{
    struct bbf *f = &z->f;
    if (!arena) {
        arena = aligned_alloc(BBF_PAGE, (size_t)GUESTS * PAGES * BBF_PAGE);
        shadows = malloc((size_t)GUESTS * PAGES * BBF_PAGE);
        if (!arena || !shadows)
            return -ENOMEM;
    }
    struct bbf_conf c = { .guests = GUESTS, .pages = PAGES, .max_grants = GRANTS,
                          .disk_size = DISK, .qdepth = qdepth, .latency = FV_US(10),
                          .bandwidth = 1000000000ull, .cost_request = 500, .cost_kib = 100,
                          .real_time = real_time, .mem = arena };
    int rc = bbf_init(f, &c);
    for (int gi = 0; !rc && gi < GUESTS; gi++)
        rc = bbf_front(f, gi);
    if (rc)
        return rc;
    memset(z->ref_page, -1, sizeof(z->ref_page));
    z->ring_ref = -1;
    struct bbf_guest *g = &f->g[EVIL];
    for (int gi = 0; gi < GUESTS; gi++) {
        for (uint32_t p = 0; p <= BBF_DATA; p++)
            z->writable[gi][p] = true;
        if (gi != EVIL && (rc = bbf_connect(f, gi)))
            return rc;
    }
    note_grant(z, g->ring_ref, 0, 0, false);
    for (int k = 0; k < BBF_DATA; k++)
        note_grant(z, g->data_ref[k], 1 + k, 0, false);
    int other = gnttab_grant(g->gt, f->g[1].domid, bbf_page(g, PAGES - 1), false);
    CHECK(other == OTHER_REF, "the grant to guest 2 is reference %d", other);
    note_grant(z, other, PAGES - 1, f->g[1].domid, false);
    for (int gi = 0; gi < GUESTS; gi++) {
        z->shadow[gi] = shadows + (size_t)gi * PAGES * BBF_PAGE;
        memcpy(z->shadow[gi], f->g[gi].mem, (size_t)PAGES * BBF_PAGE);
    }
    /* Something recognisable in guest 1's data pages. */
    for (int k = 0; k < BBF_DATA; k++) {
        bbf_fill(bbf_data(g, k), BBF_PAGE, 100u + (uint32_t)k);
        wrote(z, EVIL, 1 + (uint32_t)k);
    }
    return 0;
}

static void quiet_blkback(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    domtab_thread_online();
    err_out = stderr;
    if (!getenv("BB_FUZZ_VERBOSE")) {
        FILE *null = fopen("/dev/null", "w");
        if (null)
            stderr = null;          /* blkback's messages; sanitizers write to fd 2 */
    }
}

/* The end: everything in service answered, the pair's disks read back
 * whole, blkback destroyed with no pin left behind. */
static void finish(struct fz *z)
{
    struct bbf *f = &z->f;
    pass(z);
    bbf_settle(f);
    for (int gi = 1; gi < GUESTS; gi++) {
        z->pend[gi].age = 0;
        pair_recv(z, gi);
        CHECK(!z->pend[gi].on, "guest %d: its last request was not answered", gi + 1);
        CHECK(bbf_disk_ok(f, gi) == 0, "guest %d: its disk is not what it wrote", gi + 1);
    }
    check_memory(z);
    blkback_destroy(f->bb);
    f->bb = NULL;
    for (int gi = 0; gi < GUESTS; gi++)
        CHECK(gnttab_pinned(f->g[gi].gt) == 0, "guest %d: grants still pinned after "
              "blkback_destroy", gi + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    quiet_blkback();
    uint8_t prefix[PREFIX] = { 0 };
    memcpy(prefix, data, size < PREFIX ? size : PREFIX);
    struct fz *z = calloc(1, sizeof(*z));
    CHECK(z, "out of memory");
    CHECK(setup(z, prefix[1] % 33, prefix[2] & 1) == 0, "the fixture could not be built");
    load_ring(z, prefix + 3);
    try_connect(z, prefix[0]);
    for (int gi = 0; gi < GUESTS; gi++)
        take_snap(&z->prev[gi], bbf_stats(&z->f, gi));
    z->p = size > PREFIX ? data + PREFIX : data + size;
    z->end = data + size;
    pass(z);
    while (z->p < z->end && z->passes < MAX_PASSES)
        run_op(z, rd8(z) % OP_MAX);
    finish(z);
    bbf_fini(&z->f);
    free(z);
    return 0;
}
