/* bench_blk_disk.c — random reads through blkback's file disk
 * (blkback/disk.h): the loop blkback runs, without the rings and grants.
 * `qdepth` reads of `bs` bytes at random bs-aligned offsets are kept in
 * flight for `seconds`; each completion is replaced at once and each pass
 * ends with one kick. Prints IOPS and MiB/s. bench/blk_vs_fio.sh runs it
 * beside fio on the same file.
 *
 *   bench_blk_disk [--file PATH] [--size BYTES[k|m|g]] [--seconds S]
 *                  [--qdepth N] [--bs BYTES] [--remove]
 *
 * A missing or sparse file is first written through the disk (1 MiB
 * writes), so that reads hit allocated blocks as fio's do. --remove deletes
 * the file at the end (the ctest smoke run).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blkback/disk.h"

struct opts {
    const char *file;
    uint64_t size;
    double seconds;
    unsigned qdepth, bs;
    int remove;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t parse_size(const char *s)
{
    char *end;
    uint64_t v = strtoull(s, &end, 10);
    switch (*end) {
    case 'k': case 'K': return v << 10;
    case 'm': case 'M': return v << 20;
    case 'g': case 'G': return v << 30;
    default: return v;
    }
}

static int parse(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){ .file = "bench_blk_disk.img", .size = 1ull << 30, .seconds = 5,
                        .qdepth = 32, .bs = 4096 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--remove") == 0) {
            o->remove = 1;
            continue;
        }
        if (!v)
            return -1;
        if (strcmp(a, "--file") == 0)
            o->file = v;
        else if (strcmp(a, "--size") == 0)
            o->size = parse_size(v);
        else if (strcmp(a, "--seconds") == 0)
            o->seconds = atof(v);
        else if (strcmp(a, "--qdepth") == 0)
            o->qdepth = (unsigned)atoi(v);
        else if (strcmp(a, "--bs") == 0)
            o->bs = (unsigned)parse_size(v);
        else
            return -1;
        i++;
    }
    if (o->bs == 0 || o->bs % 4096 != 0 || o->size < o->bs || o->qdepth == 0 || o->seconds <= 0)
        return -1;
    return 0;
}

/* Wait for one completion at least and reap what is there; exit on error. */
static int reap_some(struct blk_disk *d, struct blk_completion *c, int n, unsigned want_bytes)
{
    int w = blk_disk_wait(d, 1000000000);
    if (w != 0 && w != -ETIME) {
        fprintf(stderr, "bench_blk_disk: wait: %s\n", strerror(-w));
        exit(1);
    }
    int k = blk_disk_reap(d, c, n);
    for (int i = 0; i < k; i++)
        if (c[i].res != (int)want_bytes) {
            fprintf(stderr, "bench_blk_disk: request %llu: %d (%s)\n",
                    (unsigned long long)c[i].tag, c[i].res,
                    c[i].res < 0 ? strerror(-c[i].res) : "short");
            exit(1);
        }
    return k;
}

/* Write the whole disk once (the file was missing or sparse). */
static void lay_out(struct blk_disk *d, uint64_t size)
{
    const unsigned chunk = 1u << 20;
    const unsigned depth = blk_disk_qdepth(d) < 8 ? blk_disk_qdepth(d) : 8;
    uint8_t *buf = aligned_alloc(4096, chunk);
    memset(buf, 0xa5, chunk);
    struct blk_completion c[8];
    uint64_t off = 0;
    unsigned busy = 0;
    while (off < size || busy > 0) {
        while (off < size && busy < depth) {
            uint64_t len = size - off < chunk ? size - off : chunk;
            struct iovec v = { buf, (size_t)len };
            if (blk_disk_queue(d, BLK_DISK_WRITE, off, &v, 1, off) != 0)
                exit(1);
            off += len;
            busy++;
        }
        blk_disk_kick(d);
        int w = blk_disk_wait(d, 1000000000);
        (void)w;
        int k = blk_disk_reap(d, c, 8);
        for (int i = 0; i < k; i++)
            if (c[i].res < 0) {
                fprintf(stderr, "bench_blk_disk: laying out: %s\n", strerror(-c[i].res));
                exit(1);
            }
        busy -= (unsigned)k;
    }
    free(buf);
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: bench_blk_disk [--file PATH] [--size BYTES[k|m|g]] [--seconds S] "
                        "[--qdepth N] [--bs BYTES (4 KiB multiple)] [--remove]\n");
        return 2;
    }
    struct stat st;
    int sparse = stat(o.file, &st) != 0 || (uint64_t)st.st_blocks * 512 < o.size;
    struct blk_disk_conf c = { .kind = BLK_DISK_FILE, .path = o.file, .size = o.size,
                               .qdepth = o.qdepth };
    struct blk_disk *d;
    char err[512];
    if (blk_disk_open(&d, &c, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_blk_disk: %s\n", err);
        return 1;
    }
    if (sparse)
        lay_out(d, o.size);

    uint8_t *bufs = aligned_alloc(4096, (size_t)o.qdepth * o.bs);
    struct blk_completion *done = calloc(o.qdepth, sizeof(*done));
    uint64_t rng = 0x9e3779b97f4a7c15ull, blocks = o.size / o.bs, reads = 0;
    /* Tag = the buffer's index: a completion frees its buffer for the next read. */
    for (unsigned i = 0; i < o.qdepth; i++)
        done[i].tag = i;
    int ready = (int)o.qdepth;
    double t0 = now_s(), end = t0 + o.seconds, t = t0;
    while (t < end) {
        for (int i = 0; i < ready; i++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            struct iovec v = { bufs + done[i].tag * o.bs, o.bs };
            if (blk_disk_queue(d, BLK_DISK_READ, (rng % blocks) * o.bs, &v, 1, done[i].tag) != 0)
                return 1;
        }
        blk_disk_kick(d);
        ready = reap_some(d, done, (int)o.qdepth, o.bs);
        reads += (uint64_t)ready;
        t = now_s();
    }
    double secs = t - t0;
    printf("blk_disk: %s, %s I/O, %u B random reads at qdepth %u: %llu in %.2f s: "
           "%.0f IOPS, %.1f MiB/s\n",
           o.file, blk_disk_direct(d) ? "direct" : "buffered", o.bs, o.qdepth,
           (unsigned long long)reads, secs, reads / secs, reads * (double)o.bs / secs / (1 << 20));
    blk_disk_close(d);
    free(bufs);
    free(done);
    if (o.remove)
        unlink(o.file);
    return 0;
}
