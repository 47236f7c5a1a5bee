/* blk.c — the disk workloads, over blkfront on the domain's first vbd, on
 * its vCPU 0 (other vCPUs stay idle):
 *   blk-flood    reads and/or writes of `bs` at queue depth `iodepth`,
 *                random or sequential, flat out or at `rate` IOPS;
 *   blk-latency  4 KiB random reads one at a time, a latency sample each;
 *   blk-verify   writes a seeded pattern over the whole disk, reads it back
 *                and counts every 4 KiB block that differs (guest_errors);
 *                a work unit per block that matches.
 * Guest code: only guest.h calls, no libc. */
#include <errno.h>
#include <stddef.h>

#include "blk_pattern.h"
#include "blkfront.h"
#include "guest.h"
#include "guest_rand.h"
#include "workload.h"

#define PAGE 4096u
#define SECTOR 512u

enum { FL_RW, FL_MIX, FL_BS, FL_DEPTH, FL_PATTERN, FL_RATE };
enum { LAT_RATE };
enum { RW_READ, RW_WRITE, RW_RANDRW };

static const char *const rw_kinds[] = { "read", "write", "randrw", NULL };
static const char *const patterns[] = { "random", "seq", NULL };

static const struct wl_param_desc flood_params[] = {
    [FL_RW] = { "rw", WL_ENUM, 0, 2, 0, rw_kinds, "read | write | randrw" },
    [FL_MIX] = { "mix", WL_INT, 0, 100, 50, NULL, "randrw: the percentage of reads" },
    [FL_BS] = { "bs", WL_BYTES, 512, 45056, 4096, NULL,
                "bytes per request, a multiple of 512 (at most 11 pages: 44KiB)" },
    [FL_DEPTH] = { "iodepth", WL_INT, 1, 32, 32, NULL, "requests in flight at most" },
    [FL_PATTERN] = { "pattern", WL_ENUM, 0, 1, 0, patterns, "random | seq" },
    [FL_RATE] = { "rate", WL_INT, 0, 10000000, 0, NULL, "requests/s (0 = as fast as it can)" },
    { 0 },
};

static const struct wl_param_desc lat_params[] = {
    [LAT_RATE] = { "rate", WL_INT, 0, 10000000, 0, NULL,
                   "requests/s (0 = the next as soon as the last is answered)" },
    { 0 },
};

static void say(const char *what, int rc)
{
    char buf[96];
    int n = 0;
    for (const char *p = what; *p && n < 80; p++)
        buf[n++] = *p;
    buf[n++] = ' ';
    buf[n++] = '-';
    unsigned v = (unsigned)(rc < 0 ? -rc : rc);
    char d[12];
    int k = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && k < 11);
    while (k)
        buf[n++] = d[--k];
    guest_console_write(buf, (uint64_t)n);
}

static struct blkfront *up(void)
{
    if (guest_vcpuid() != 0)
        blkfront_idle(0);
    struct blkfront *bf;
    int rc = blkfront_init(&bf, 0);
    if (rc) {
        say("blkfront: cannot bring vbd 0 up: error", rc);
        blkfront_idle(0);
    }
    return bf;
}

/* Answers so far: each freed, a work unit for each OKAY (and its latency
 * when asked), an error for each other. Returns how many. */
static int reap_all(struct blkfront *bf, int sample)
{
    int s, status, n = 0;
    uint64_t id;
    while (blkfront_reap(bf, &s, &id, &status)) {
        if (status == BLKIF_RSP_OKAY) {
            guest_work_units(1);
            if (sample)
                guest_latency_sample(guest_now() - bf->slot[s].issued);
        } else {
            guest_errors(1);
        }
        blkfront_done(bf, s);
        n++;
    }
    return n;
}

/* ---- blk-flood --------------------------------------------------------------------- */

static void flood_main(const struct wl_args *a)
{
    struct blkfront *bf = up();
    struct guest_rng rng;
    grand_seed(&rng, guest_seed());
    uint32_t bs = (uint32_t)a->v[FL_BS] / SECTOR * SECTOR;
    uint64_t span = bf->sectors > bs / SECTOR ? bf->sectors - bs / SECTOR : 0, next_seq = 0;
    int depth = (int)a->v[FL_DEPTH], inflight = 0;
    fv_ns_t gap = a->v[FL_RATE] ? 1000000000LL / a->v[FL_RATE] : 0, next = guest_now();
    for (;;) {
        inflight -= reap_all(bf, 0);
        int posted = 0;
        while (inflight < depth) {
            if (gap && guest_now() < next)
                break;
            int s = blkfront_slot(bf);
            if (s < 0)
                break;
            int op = a->v[FL_RW] == RW_READ    ? BLKIF_OP_READ
                     : a->v[FL_RW] == RW_WRITE ? BLKIF_OP_WRITE
                     : grand_range(&rng, 0, 99) < a->v[FL_MIX] ? BLKIF_OP_READ : BLKIF_OP_WRITE;
            uint64_t sector;
            if (a->v[FL_PATTERN] == 0) {
                sector = (uint64_t)grand_range(&rng, 0, (int64_t)(span / (bs / SECTOR)));
                sector *= bs / SECTOR;
            } else {
                sector = next_seq;
                next_seq = next_seq + bs / SECTOR > span ? 0 : next_seq + bs / SECTOR;
            }
            blkfront_post(bf, s, op, sector, bs, 0);
            inflight++;
            posted++;
            if (gap)
                next += gap;
        }
        if (posted) {
            blkfront_flush(bf);
            continue;
        }
        if (gap && inflight < depth)
            guest_set_timer(next);
        blkfront_wait(bf);
    }
}

/* ---- blk-latency ------------------------------------------------------------------- */

static void latency_main(const struct wl_args *a)
{
    struct blkfront *bf = up();
    struct guest_rng rng;
    grand_seed(&rng, guest_seed() ^ 0x6c6174);
    uint64_t blocks = bf->sectors / (PAGE / SECTOR);
    fv_ns_t gap = a->v[LAT_RATE] ? 1000000000LL / a->v[LAT_RATE] : 0, next = guest_now();
    for (;;) {
        if (gap && guest_now() < next) {
            guest_sleep_until(next);
            continue;
        }
        next += gap;
        int s = blkfront_slot(bf);
        if (s < 0)
            break;
        uint64_t b = blocks ? (uint64_t)grand_range(&rng, 0, (int64_t)blocks - 1) : 0;
        blkfront_post(bf, s, BLKIF_OP_READ, b * (PAGE / SECTOR), PAGE, 0);
        blkfront_flush(bf);
        while (!reap_all(bf, 1))
            blkfront_wait(bf);
    }
    blkfront_idle(bf->port);
}

/* ---- blk-verify -------------------------------------------------------------------- */

#define VERIFY_BLOCKS 11                /* 4 KiB blocks per request: the most one carries */

/* Write (or read) every block of the disk, VERIFY_BLOCKS at a time, 32 in
 * flight; reads are checked against the pattern as they are answered. */
static void verify_pass(struct blkfront *bf, int op, uint64_t seed)
{
    uint64_t blocks = bf->sectors / (PAGE / SECTOR), next = 0;
    int inflight = 0;
    while (next < blocks || inflight) {
        int s, status;
        uint64_t first;
        while (blkfront_reap(bf, &s, &first, &status)) {
            uint64_t n = blocks - first < VERIFY_BLOCKS ? blocks - first : VERIFY_BLOCKS;
            for (uint64_t k = 0; k < n; k++) {
                uint32_t bad = status != BLKIF_RSP_OKAY ? 1
                               : op == BLKIF_OP_READ ? blk_pattern_check(seed, first + k, bf->page[s][k])
                                                     : 0;
                if (bad)
                    guest_errors(1);
                else if (op == BLKIF_OP_READ)
                    guest_work_units(1);
            }
            blkfront_done(bf, s);
            inflight--;
        }
        int posted = 0;
        while (next < blocks) {
            int slot = blkfront_slot(bf);
            if (slot < 0)
                break;
            uint64_t n = blocks - next < VERIFY_BLOCKS ? blocks - next : VERIFY_BLOCKS;
            if (op == BLKIF_OP_WRITE)
                for (uint64_t k = 0; k < n; k++)
                    blk_pattern_fill(seed, next + k, bf->page[slot][k]);
            blkfront_post(bf, slot, op, next * (PAGE / SECTOR), (uint32_t)(n * PAGE), next);
            next += n;
            inflight++;
            posted++;
        }
        if (posted)
            blkfront_flush(bf);
        else if (inflight)
            blkfront_wait(bf);
    }
}

static void verify_main(const struct wl_args *a)
{
    (void)a;
    struct blkfront *bf = up();
    uint64_t seed = guest_seed();
    verify_pass(bf, BLKIF_OP_WRITE, seed);
    /* Durable before it is read back (and before the run may end). */
    int s;
    while ((s = blkfront_slot(bf)) < 0)
        blkfront_wait(bf);
    blkfront_post(bf, s, BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0);
    blkfront_flush(bf);
    uint64_t id;
    int status;
    while (!blkfront_reap(bf, &s, &id, &status))
        blkfront_wait(bf);
    blkfront_done(bf, s);
    if (status != BLKIF_RSP_OKAY)
        guest_errors(1);
    verify_pass(bf, BLKIF_OP_READ, seed);
    blkfront_idle(bf->port);
}

const struct workload_desc workload_blk_flood = {
    "blk-flood", "disk reads and/or writes of `bs` at queue depth `iodepth`, random or "
    "sequential, flat out or at `rate` IOPS", flood_params, flood_main,
};
const struct workload_desc workload_blk_latency = {
    "blk-latency", "4 KiB random reads one at a time, a latency sample each", lat_params,
    latency_main,
};
const struct workload_desc workload_blk_verify = {
    "blk-verify", "writes a seeded pattern over the whole disk, reads it back and counts the "
    "4 KiB blocks that differ (guest_errors)", NULL, verify_main,
};
