/* test_blk_disk.c — blkback's disks (blkback/disk.h), the memory disk and
 * the raw image file through io_uring, each behaviour on both kinds where
 * it applies: round trips of 512 B .. 44 KiB in one or several iovecs,
 * batches, nothing done before the kick, qdepth and -EAGAIN until reaped,
 * refused requests, FLUSH, close with I/O in flight; for files: creation and
 * sizing, larger and smaller existing files, data on disk after close,
 * refusals with their messages, O_DIRECT where the filesystem has it and
 * buffered on tmpfs (checked against the fd's flags in /proc), and a short
 * read at a truncated end. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "blkback/disk.h"

#define KIB 1024u
#define MIB (1024u * 1024u)
#define WAIT_NS 100000000           /* one blk_disk_wait: 100 ms */

/* ---- fixture: a fresh directory, the kind under test ------------------------ */

struct fx {
    enum blk_disk_kind kind;
    char *dir;
    char path[512];                 /* dir/disk.img */
    char shm[64];                   /* a directory on tmpfs, if made */
    char err[512];
};

static enum blk_disk_kind K_MEM = BLK_DISK_MEMORY, K_FILE = BLK_DISK_FILE;

static int setup(void **st)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->kind = *(enum blk_disk_kind *)*st;
    f->dir = tu_tmpdir();
    snprintf(f->path, sizeof(f->path), "%s/disk.img", f->dir);
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    struct fx *f = *st;
    tu_rmtree(f->dir);
    if (f->shm[0])
        tu_rmtree(f->shm);
    free(f->dir);
    free(f);
    return 0;
}

static struct blk_disk *open_at(struct fx *f, const char *path, uint64_t size, unsigned qd)
{
    struct blk_disk_conf c = { .kind = f->kind, .path = path, .size = size, .qdepth = qd };
    struct blk_disk *d = NULL;
    int r = blk_disk_open(&d, &c, f->err, sizeof(f->err));
    if (r != 0)
        fail_msg("blk_disk_open: %d: %s", r, f->err);
    assert_non_null(d);
    return d;
}

static struct blk_disk *open_disk(struct fx *f, uint64_t size, unsigned qd)
{
    return open_at(f, f->path, size, qd);
}

static void *abuf(size_t len)
{
    void *p = aligned_alloc(4096, (len + 4095) / 4096 * 4096);   /* C11: a multiple */
    assert_non_null(p);
    memset(p, 0, len);
    return p;
}

/* A pattern that differs per byte, per sector and per seed. */
static void fill(uint8_t *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 9) * 13u + 1u);
}

static uint64_t fnv1a(const uint8_t *p, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* Collect exactly n completions (bounded wait), in *c. */
static void collect(struct blk_disk *d, struct blk_completion *c, int n)
{
    int got = 0;
    double end = tu_now() + TU_WAIT_S;
    while (got < n) {
        int r = blk_disk_reap(d, c + got, n - got);
        assert_true(r >= 0);
        got += r;
        if (got < n) {
            if (tu_now() > end)
                fail_msg("only %d of %d completions after %.0f s", got, n, TU_WAIT_S);
            int w = blk_disk_wait(d, WAIT_NS);
            assert_true(w == 0 || w == -ETIME);
        }
    }
}

/* One request, kicked alone and waited for: its result. */
static int do_io(struct blk_disk *d, enum blk_disk_op op, uint64_t off, const struct iovec *iov,
                 int n, uint64_t tag)
{
    assert_int_equal(blk_disk_queue(d, op, off, iov, n, tag), 0);
    assert_int_equal(blk_disk_kick(d), 1);
    struct blk_completion c;
    collect(d, &c, 1);
    assert_int_equal(c.tag, tag);
    return c.res;
}

static int rw1(struct blk_disk *d, enum blk_disk_op op, uint64_t off, void *buf, size_t len)
{
    struct iovec v = { buf, len };
    return do_io(d, op, off, &v, 1, off ^ 0x5a5a);
}

/* ---- round trips -------------------------------------------------------------- */

struct rt_case {
    uint64_t off;
    size_t lens[12];                /* iovec lengths, 0-terminated */
    size_t skew;                    /* buffer start past a 4 KiB boundary */
};

static void test_roundtrip(void **st)
{
    struct fx *f = *st;
    const uint64_t size = MIB;
    struct blk_disk *d = open_disk(f, size, 0);
    assert_int_equal(blk_disk_size(d), size);
    static const struct rt_case cases[] = {
        { 0, { 512 }, 0 },
        { 512, { 4096 }, 512 },
        { 25 * 512, { 512, 1024, 2560 }, 1536 },
        { 8192, { 8192, 512 }, 0 },
        { 65536, { 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096 }, 0 },
        { MIB - 44 * KIB, { 44 * KIB }, 512 },
    };
    for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const struct rt_case *rc = &cases[k];
        size_t total = 0;
        int n = 0;
        while (rc->lens[n])
            total += rc->lens[n++];
        uint8_t *want = malloc(total);
        fill(want, total, k);
        /* The write: each iovec in its own buffer, at the case's skew. */
        struct iovec iov[12];
        uint8_t *bufs[12];
        size_t at = 0;
        for (int i = 0; i < n; i++) {
            bufs[i] = abuf(rc->lens[i] + rc->skew);
            iov[i] = (struct iovec){ bufs[i] + rc->skew, rc->lens[i] };
            memcpy(iov[i].iov_base, want + at, rc->lens[i]);
            at += rc->lens[i];
        }
        assert_int_equal(do_io(d, BLK_DISK_WRITE, rc->off, iov, n, 1000 + k), (int)total);
        /* The read back in one iovec, then in sectors. */
        uint8_t *got = abuf(total);
        assert_int_equal(rw1(d, BLK_DISK_READ, rc->off, got, total), (int)total);
        assert_memory_equal(got, want, total);
        memset(got, 0, total);
        int ns = (int)(total / 512) < 11 ? (int)(total / 512) : 11;
        struct iovec sv[11];
        size_t per = total / (size_t)ns / 512 * 512, left = total;
        for (int i = 0; i < ns; i++) {
            size_t l = i == ns - 1 ? left : per;
            sv[i] = (struct iovec){ got + (total - left), l };
            left -= l;
        }
        assert_int_equal(do_io(d, BLK_DISK_READ, rc->off, sv, ns, 2000 + k), (int)total);
        assert_memory_equal(got, want, total);
        for (int i = 0; i < n; i++)
            free(bufs[i]);
        free(got);
        free(want);
    }
    /* Never written: zeros. */
    uint8_t *z = abuf(8192), *zero = calloc(1, 8192);
    memset(z, 0xee, 8192);
    assert_int_equal(rw1(d, BLK_DISK_READ, 512 * KIB, z, 8192), 8192);
    assert_memory_equal(z, zero, 8192);
    /* An overwrite of part of an earlier write: the latest wins. */
    uint8_t *a = abuf(8192), *b = abuf(4096), *r = abuf(8192);
    fill(a, 8192, 41);
    fill(b, 4096, 42);
    assert_int_equal(rw1(d, BLK_DISK_WRITE, 256 * KIB, a, 8192), 8192);
    assert_int_equal(rw1(d, BLK_DISK_WRITE, 256 * KIB + 2048, b, 4096), 4096);
    assert_int_equal(rw1(d, BLK_DISK_READ, 256 * KIB, r, 8192), 8192);
    assert_memory_equal(r, a, 2048);
    assert_memory_equal(r + 2048, b, 4096);
    assert_memory_equal(r + 6144, a + 6144, 2048);
    assert_int_equal(blk_disk_inflight(d), 0);
    free(a), free(b), free(r), free(z), free(zero);
    blk_disk_close(d);
}

/* Eight writes in one kick, then eight reads in one kick. */
static void test_batch(void **st)
{
    struct fx *f = *st;
    struct blk_disk *d = open_disk(f, MIB, 8);
    uint8_t *w = abuf(8 * 4096), *r = abuf(8 * 4096);
    fill(w, 8 * 4096, 7);
    for (int i = 0; i < 8; i++) {
        struct iovec v = { w + i * 4096, 4096 };
        assert_int_equal(blk_disk_queue(d, BLK_DISK_WRITE, (uint64_t)i * 12288, &v, 1, 100 + i), 0);
    }
    assert_int_equal(blk_disk_inflight(d), 8);
    assert_int_equal(blk_disk_kick(d), 8);
    assert_int_equal(blk_disk_kick(d), 0);
    struct blk_completion c[8];
    collect(d, c, 8);
    unsigned seen = 0;
    for (int i = 0; i < 8; i++) {
        assert_true(c[i].tag >= 100 && c[i].tag < 108);
        assert_int_equal(c[i].res, 4096);
        seen |= 1u << (c[i].tag - 100);
    }
    assert_int_equal(seen, 0xff);
    for (int i = 0; i < 8; i++) {
        struct iovec v = { r + i * 4096, 4096 };
        assert_int_equal(blk_disk_queue(d, BLK_DISK_READ, (uint64_t)i * 12288, &v, 1, 200 + i), 0);
    }
    assert_int_equal(blk_disk_kick(d), 8);
    collect(d, c, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(c[i].res, 4096);
    assert_memory_equal(r, w, 8 * 4096);
    assert_int_equal(blk_disk_inflight(d), 0);
    free(w), free(r);
    blk_disk_close(d);
}

/* Nothing happens before the kick: no completion, and (file) nothing on disk. */
static void test_nothing_before_kick(void **st)
{
    struct fx *f = *st;
    struct blk_disk *d = open_disk(f, 64 * KIB, 0);
    uint8_t *w = abuf(4096);
    fill(w, 4096, 3);
    struct iovec v = { w, 4096 };
    struct blk_completion c;
    assert_int_equal(blk_disk_wait(d, 0), -ETIME);
    assert_int_equal(blk_disk_wait(d, 1000000), -ETIME);      /* nothing in flight */
    assert_int_equal(blk_disk_queue(d, BLK_DISK_WRITE, 8192, &v, 1, 9), 0);
    assert_int_equal(blk_disk_reap(d, &c, 1), 0);
    assert_int_equal(blk_disk_wait(d, 20000000), -ETIME);
    assert_int_equal(blk_disk_reap(d, &c, 1), 0);
    assert_int_equal(blk_disk_inflight(d), 1);
    if (f->kind == BLK_DISK_FILE) {
        int fd = open(f->path, O_RDONLY);
        uint8_t back[4096], zero[4096] = { 0 };
        assert_int_equal(pread(fd, back, 4096, 8192), 4096);
        assert_memory_equal(back, zero, 4096);
        close(fd);
    }
    assert_int_equal(blk_disk_kick(d), 1);
    collect(d, &c, 1);
    assert_int_equal(c.tag, 9);
    assert_int_equal(c.res, 4096);
    assert_int_equal(blk_disk_reap(d, &c, 1), 0);
    assert_int_equal(blk_disk_reap(d, NULL, 0), 0);
    assert_int_equal(blk_disk_reap(d, NULL, 1), -EINVAL);
    assert_int_equal(blk_disk_inflight(d), 0);
    free(w);
    blk_disk_close(d);
}

/* qdepth in flight, the next -EAGAIN, until a completion is reaped. */
static void test_qdepth(void **st)
{
    struct fx *f = *st;
    struct blk_disk *d = open_disk(f, 64 * KIB, 4);
    assert_int_equal(blk_disk_qdepth(d), 4);
    uint8_t *b = abuf(6 * 512);
    struct iovec v[6];
    for (int i = 0; i < 6; i++) {
        v[i] = (struct iovec){ b + i * 512, 512 };
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(blk_disk_queue(d, BLK_DISK_READ, (uint64_t)i * 512, &v[i], 1, i), 0);
    assert_int_equal(blk_disk_inflight(d), 4);
    assert_int_equal(blk_disk_queue(d, BLK_DISK_READ, 0, &v[4], 1, 4), -EAGAIN);
    assert_int_equal(blk_disk_queue(d, BLK_DISK_FLUSH, 0, NULL, 0, 4), -EAGAIN);
    assert_int_equal(blk_disk_kick(d), 4);
    /* Completed but not reaped still counts. */
    double end = tu_now() + TU_WAIT_S;
    while (blk_disk_wait(d, WAIT_NS) != 0)
        assert_true(tu_now() < end);
    assert_int_equal(blk_disk_queue(d, BLK_DISK_READ, 0, &v[4], 1, 4), -EAGAIN);
    assert_int_equal(blk_disk_inflight(d), 4);
    struct blk_completion c[5];
    assert_int_equal(blk_disk_reap(d, c, 1), 1);
    assert_int_equal(c[0].res, 512);
    assert_int_equal(blk_disk_inflight(d), 3);
    assert_int_equal(blk_disk_queue(d, BLK_DISK_READ, 0, &v[4], 1, 4), 0);
    assert_int_equal(blk_disk_queue(d, BLK_DISK_READ, 0, &v[5], 1, 5), -EAGAIN);
    assert_int_equal(blk_disk_kick(d), 1);
    collect(d, c + 1, 4);
    unsigned seen = 1u << c[0].tag;
    for (int i = 1; i < 5; i++)
        seen |= 1u << c[i].tag;
    assert_int_equal(seen, 0x1f);
    assert_int_equal(blk_disk_inflight(d), 0);
    blk_disk_close(d);
    free(b);
    /* qdepth 0 means 32. */
    d = open_disk(f, 64 * KIB, 0);
    assert_int_equal(blk_disk_qdepth(d), 32);
    blk_disk_close(d);
}

static void test_bad_requests(void **st)
{
    struct fx *f = *st;
    const uint64_t size = 64 * KIB;
    struct blk_disk *d = open_disk(f, size, 0);
    uint8_t *b = abuf(3 * 4096);
    struct iovec ok = { b, 4096 }, one = { b, 512 };
    struct iovec two[2] = { { b, 512 }, { b + 4096, 4096 } };
    const int R = BLK_DISK_READ;
    assert_int_equal(blk_disk_queue(d, R, size, &one, 1, 0), -EINVAL);            /* at the end */
    assert_int_equal(blk_disk_queue(d, R, size - 2048, &ok, 1, 0), -EINVAL);      /* across it */
    assert_int_equal(blk_disk_queue(d, R, UINT64_MAX - 511, &one, 1, 0), -EINVAL); /* wraps */
    assert_int_equal(blk_disk_queue(d, R, size - 512, two, 2, 0), -EINVAL);
    assert_int_equal(blk_disk_queue(d, R, 100, &one, 1, 0), -EINVAL);             /* offset */
    assert_int_equal(blk_disk_queue(d, BLK_DISK_WRITE, 4097, &ok, 1, 0), -EINVAL);
    struct iovec odd_len = { b, 1000 }, odd_addr = { b + 256, 512 }, empty = { b, 0 };
    assert_int_equal(blk_disk_queue(d, R, 0, &odd_len, 1, 0), -EINVAL);
    assert_int_equal(blk_disk_queue(d, R, 0, &odd_addr, 1, 0), -EINVAL);
    assert_int_equal(blk_disk_queue(d, R, 0, &empty, 1, 0), -EINVAL);
    assert_int_equal(blk_disk_queue(d, R, 0, &ok, 0, 0), -EINVAL);               /* no iovecs */
    assert_int_equal(blk_disk_queue(d, R, 0, NULL, 1, 0), -EINVAL);
    assert_int_equal(blk_disk_queue(d, R, 0, &ok, -1, 0), -EINVAL);
    assert_int_equal(blk_disk_queue(d, BLK_DISK_FLUSH, 0, &ok, 1, 0), -EINVAL);
    assert_int_equal(blk_disk_queue(d, (enum blk_disk_op)9, 0, &ok, 1, 0), -EINVAL);
    assert_int_equal(blk_disk_inflight(d), 0);
    assert_int_equal(blk_disk_kick(d), 0);
    /* The edges that are fine. */
    assert_int_equal(rw1(d, BLK_DISK_WRITE, size - 4096, b, 4096), 4096);
    assert_int_equal(rw1(d, BLK_DISK_READ, size - 512, b + 512, 512), 512);
    assert_int_equal(do_io(d, BLK_DISK_READ, size - 4608, two, 2, 3), 4608);
    free(b);
    blk_disk_close(d);
}

static void test_flush(void **st)
{
    struct fx *f = *st;
    struct blk_disk *d = open_disk(f, 64 * KIB, 0);
    uint8_t *b = abuf(4096);
    fill(b, 4096, 5);
    assert_int_equal(rw1(d, BLK_DISK_WRITE, 0, b, 4096), 4096);
    assert_int_equal(do_io(d, BLK_DISK_FLUSH, 0, NULL, 0, 77), 0);
    /* A flush queued behind writes in one kick: all complete, the flush with 0. */
    struct iovec v = { b, 4096 };
    assert_int_equal(blk_disk_queue(d, BLK_DISK_WRITE, 4096, &v, 1, 1), 0);
    assert_int_equal(blk_disk_queue(d, BLK_DISK_WRITE, 8192, &v, 1, 2), 0);
    assert_int_equal(blk_disk_queue(d, BLK_DISK_FLUSH, 12345, NULL, 0, 3), 0);
    assert_int_equal(blk_disk_kick(d), 3);
    struct blk_completion c[3];
    collect(d, c, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(c[i].res, c[i].tag == 3 ? 0 : 4096);
    assert_int_equal(c[2].tag, 3);      /* the flush waited for the writes before it */
    free(b);
    blk_disk_close(d);
}

/* Close with writes in flight and one never kicked: close waits (and kicks). */
static void test_close_inflight(void **st)
{
    struct fx *f = *st;
    struct blk_disk *d = open_disk(f, MIB, 16);
    uint8_t *w = abuf(16 * 44 * KIB);
    fill(w, 16 * 44 * KIB, 11);
    for (int i = 0; i < 15; i++) {
        struct iovec v = { w + i * 44 * KIB, 44 * KIB };
        assert_int_equal(blk_disk_queue(d, BLK_DISK_WRITE, (uint64_t)i * 44 * KIB, &v, 1, i), 0);
    }
    assert_int_equal(blk_disk_kick(d), 15);
    struct iovec last = { w + 15 * 44 * KIB, 44 * KIB };
    assert_int_equal(blk_disk_queue(d, BLK_DISK_WRITE, 15 * 44 * KIB, &last, 1, 15), 0);
    blk_disk_close(d);
    if (f->kind == BLK_DISK_FILE) {
        uint8_t *back = malloc(16 * 44 * KIB);
        int fd = open(f->path, O_RDONLY);
        assert_int_equal(pread(fd, back, 16 * 44 * KIB, 0), 16 * 44 * KIB);
        close(fd);
        assert_memory_equal(back, w, 16 * 44 * KIB);
        free(back);
    }
    free(w);
}

/* Refusals every kind shares: the size, the qdepth, the kind. */
static void test_refuse_conf(void **st)
{
    struct fx *f = *st;
    struct blk_disk *d = (struct blk_disk *)1;
    struct blk_disk_conf c = { .kind = f->kind, .path = f->path, .size = 1000 };
    assert_int_equal(blk_disk_open(&d, &c, f->err, sizeof(f->err)), -EINVAL);
    assert_null(d);
    assert_string_equal(f->err, "blk disk: size 1000 is not a positive multiple of 512 bytes: "
                                "give whole sectors");
    c.size = 0;
    assert_int_equal(blk_disk_open(&d, &c, f->err, sizeof(f->err)), -EINVAL);
    assert_true(strncmp(f->err, "blk disk: size 0 is not", 23) == 0);
    c.size = MIB;
    c.qdepth = 5000;
    assert_int_equal(blk_disk_open(&d, &c, f->err, sizeof(f->err)), -EINVAL);
    assert_true(strncmp(f->err, "blk disk: qdepth 5000 is more than 4096", 39) == 0);
    c.qdepth = 0;
    c.kind = (enum blk_disk_kind)7;
    assert_int_equal(blk_disk_open(&d, &c, f->err, sizeof(f->err)), -EINVAL);
    assert_true(strncmp(f->err, "blk disk: unknown disk kind 7", 29) == 0);
    assert_int_equal(blk_disk_open(&d, NULL, NULL, 0), -EINVAL);
    if (f->kind == BLK_DISK_MEMORY) {
        c.kind = BLK_DISK_MEMORY;
        c.size = 1ull << 60;            /* 1 EiB: beyond any address space */
        assert_int_equal(blk_disk_open(&d, &c, f->err, sizeof(f->err)), -ENOMEM);
        assert_string_equal(f->err, "blk disk: cannot map a memory disk of 1152921504606846976 "
                                    "bytes: Cannot allocate memory: give a smaller size");
    }
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), -1);       /* no file left behind */
}

/* ---- file only -------------------------------------------------------------------- */

static void test_file_create(void **st)
{
    struct fx *f = *st;
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), -1);
    mode_t old = umask(022);
    struct blk_disk *d = open_disk(f, 3 * MIB, 0);
    umask(old);
    assert_int_equal(stat(f->path, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0644);
    assert_int_equal(sb.st_size, 3 * MIB);
    assert_true((uint64_t)sb.st_blocks * 512 < 3 * MIB);   /* sparse: grown, not written */
    assert_int_equal(blk_disk_size(d), 3 * MIB);
    blk_disk_close(d);
}

/* A smaller file grows and keeps its data; a larger one is served in part. */
static void test_file_existing(void **st)
{
    struct fx *f = *st;
    uint8_t *pat = malloc(MIB), *b = abuf(8192);
    fill(pat, MIB, 21);
    int fd = open(f->path, O_CREAT | O_WRONLY, 0600);
    assert_int_equal(pwrite(fd, pat, 8192, 0), 8192);
    close(fd);
    struct blk_disk *d = open_disk(f, 64 * KIB, 0);
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_size, 64 * KIB);
    assert_int_equal(sb.st_mode & 07777, 0600);     /* an existing file's mode is kept */
    assert_int_equal(rw1(d, BLK_DISK_READ, 0, b, 8192), 8192);
    assert_memory_equal(b, pat, 8192);
    assert_int_equal(rw1(d, BLK_DISK_READ, 56 * KIB, b, 8192), 8192);
    for (int i = 0; i < 8192; i++)
        assert_int_equal(b[i], 0);
    blk_disk_close(d);

    fd = open(f->path, O_WRONLY);
    assert_int_equal(pwrite(fd, pat, MIB, 0), MIB);
    close(fd);
    d = open_disk(f, 64 * KIB, 0);
    assert_int_equal(blk_disk_size(d), 64 * KIB);
    assert_int_equal(rw1(d, BLK_DISK_READ, 56 * KIB, b, 8192), 8192);
    assert_memory_equal(b, pat + 56 * KIB, 8192);
    struct iovec v = { b, 512 };
    assert_int_equal(blk_disk_queue(d, BLK_DISK_READ, 64 * KIB, &v, 1, 0), -EINVAL);
    blk_disk_close(d);
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_size, MIB);              /* never truncated */
    free(pat), free(b);
}

/* Written through the disk, closed, read with plain pread: the same bytes. */
static void test_file_persist(void **st)
{
    struct fx *f = *st;
    const size_t size = 2 * MIB;
    uint8_t *want = calloc(1, size), *b = abuf(44 * KIB);
    struct blk_disk *d = open_disk(f, size, 0);
    static const uint64_t offs[] = { 0, 4096 * 7, 300 * KIB + 512, 2 * MIB - 44 * KIB };
    for (unsigned k = 0; k < 4; k++) {
        size_t len = 44 * KIB - k * 4096;
        fill(b, len, 60 + k);
        memcpy(want + offs[k], b, len);
        assert_int_equal(rw1(d, BLK_DISK_WRITE, offs[k], b, len), (int)len);
    }
    assert_int_equal(do_io(d, BLK_DISK_FLUSH, 0, NULL, 0, 1), 0);
    blk_disk_close(d);
    uint8_t *back = malloc(size);
    int fd = open(f->path, O_RDONLY);
    assert_int_equal(pread(fd, back, size, 0), (ssize_t)size);
    close(fd);
    assert_int_equal(fnv1a(back, size), fnv1a(want, size));
    assert_memory_equal(back, want, size);
    /* And through a disk opened again. */
    d = open_disk(f, size, 0);
    assert_int_equal(rw1(d, BLK_DISK_READ, offs[2], b, 44 * KIB), 44 * KIB);
    assert_memory_equal(b, want + offs[2], 44 * KIB);
    blk_disk_close(d);
    free(want), free(b), free(back);
}

static void expect_refusal(struct fx *f, const char *path, uint64_t size, int rc, const char *prefix)
{
    struct blk_disk *d = (struct blk_disk *)1;
    struct blk_disk_conf c = { .kind = BLK_DISK_FILE, .path = path, .size = size };
    int r = blk_disk_open(&d, &c, f->err, sizeof(f->err));
    if (r != rc || strncmp(f->err, prefix, strlen(prefix)) != 0)
        fail_msg("got %d \"%s\", want %d \"%s...\"", r, f->err, rc, prefix);
    assert_null(d);
}

static void test_file_refusals(void **st)
{
    struct fx *f = *st;
    char path[600], want[1200];
    /* A parent that is a regular file (a chmod 0500 directory would not stop root). */
    char *plain = tu_write(f->dir, "plain", "x");
    snprintf(path, sizeof(path), "%s/img", plain);
    snprintf(want, sizeof(want), "blk disk: cannot open or create %s: Not a directory: ", path);
    expect_refusal(f, path, MIB, -ENOTDIR, want);
    free(plain);
    /* A directory. */
    snprintf(want, sizeof(want), "blk disk: %s is a directory: give the path of an image file",
             f->dir);
    expect_refusal(f, f->dir, MIB, -EISDIR, want);
    /* Not a regular file. */
    expect_refusal(f, "/dev/null", MIB, -EINVAL, "blk disk: /dev/null is not a regular file");
    /* No path. */
    expect_refusal(f, NULL, MIB, -EINVAL, "blk disk: a file disk needs a path");
    expect_refusal(f, "", MIB, -EINVAL, "blk disk: a file disk needs a path");
    /* A size that is not whole sectors: nothing is created. */
    expect_refusal(f, f->path, MIB + 100, -EINVAL,
                   "blk disk: size 1048676 is not a positive multiple of 512 bytes");
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), -1);
    /* 1 EiB: more than the filesystem has; the file made for it is removed. */
    const uint64_t eib = 1ull << 60;
    snprintf(want, sizeof(want),
             "blk disk: %s: an image of %llu bytes needs %llu more, but its filesystem has only ",
             f->path, (unsigned long long)eib, (unsigned long long)eib);
    expect_refusal(f, f->path, eib, -ENOSPC, want);
    assert_non_null(strstr(f->err, " bytes free: free some space or give a smaller size"));
    assert_int_equal(stat(f->path, &sb), -1);
    /* ... and an existing file is left as it was. */
    char *img = tu_write(f->dir, "small.img", "abc");
    snprintf(want, sizeof(want), "blk disk: %s: an image of %llu bytes needs %llu more", img,
             (unsigned long long)eib, (unsigned long long)(eib - 3));
    expect_refusal(f, img, eib, -ENOSPC, want);
    assert_int_equal(stat(img, &sb), 0);
    assert_int_equal(sb.st_size, 3);
    free(img);
}

/* The O_DIRECT bit of the fd open on path, from /proc/self/fdinfo (-1: none open). */
static int fd_direct(const char *path)
{
    DIR *dir = opendir("/proc/self/fd");
    assert_non_null(dir);
    int found = -1;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        char l[600], t[600];
        snprintf(l, sizeof(l), "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(l, t, sizeof(t) - 1);
        if (n <= 0)
            continue;
        t[n] = '\0';
        if (strcmp(t, path) != 0)
            continue;
        snprintf(l, sizeof(l), "/proc/self/fdinfo/%s", e->d_name);
        char *info = tu_read(l, NULL);
        assert_non_null(info);
        char *fl = strstr(info, "flags:");
        assert_non_null(fl);
        found = (strtoul(fl + 6, NULL, 8) & O_DIRECT) != 0;
        free(info);
    }
    closedir(dir);
    return found;
}

/* Whether the test's own probe finds direct I/O usable at 512 bytes in dir. */
static bool dir_has_direct(const char *dir)
{
    char p[600];
    snprintf(p, sizeof(p), "%s/probe", dir);
    int fd = open(p, O_RDWR | O_CREAT | O_DIRECT, 0600);
    if (fd < 0) {
        fd = open(p, O_RDWR | O_CREAT, 0600);
        close(fd);
        unlink(p);
        return false;
    }
    struct statfs fs;
    bool ok = fstatfs(fd, &fs) == 0 && fs.f_type != 0x01021994;   /* TMPFS_MAGIC */
    struct statx sx;
    if (ok && statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
        (sx.stx_mask & STATX_DIOALIGN))
        ok = sx.stx_dio_offset_align >= 1 && sx.stx_dio_offset_align <= 512 &&
             sx.stx_dio_mem_align >= 1 && sx.stx_dio_mem_align <= 512;
    close(fd);
    unlink(p);
    return ok;
}

static void check_direct_in(struct fx *f, const char *dir, bool want)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/d.img", dir);
    struct blk_disk *d = open_at(f, path, MIB, 0);
    assert_int_equal(blk_disk_direct(d), want);
    assert_int_equal(fd_direct(path), want);
    uint8_t *w = abuf(12 * KIB), *r = abuf(12 * KIB);
    fill(w, 12 * KIB, 99);
    struct iovec v[2] = { { w, 512 }, { w + 4096, 8 * KIB } };
    assert_int_equal(do_io(d, BLK_DISK_WRITE, 1536, v, 2, 1), 512 + 8 * KIB);
    assert_int_equal(rw1(d, BLK_DISK_READ, 1536, r, 512 + 8 * KIB), 512 + 8 * KIB);
    assert_memory_equal(r, w, 512);
    assert_memory_equal(r + 512, w + 4096, 8 * KIB);
    blk_disk_close(d);
    free(w), free(r);
}

static void test_file_direct(void **st)
{
    struct fx *f = *st;
    bool want = dir_has_direct(f->dir);
    print_message("[   INFO   ] %s: direct I/O %s\n", f->dir, want ? "expected" : "not expected");
    check_direct_in(f, f->dir, want);
}

static void test_file_tmpfs_buffered(void **st)
{
    struct fx *f = *st;
    struct statfs fs;
    if (statfs("/dev/shm", &fs) != 0 || fs.f_type != 0x01021994)
        TU_SKIP("no tmpfs at /dev/shm");
    char dir[] = "/dev/shm/fvtest-blk.XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(f->shm, sizeof(f->shm), "%s", dir);      /* teardown removes it, pass or fail */
    check_direct_in(f, dir, false);
}

/* The file shrinks behind the disk's back: a read across the new end moves
 * part (short), its remainder moves nothing: -EIO. */
static void test_file_short_read(void **st)
{
    struct fx *f = *st;
    struct blk_disk *d = open_disk(f, 64 * KIB, 0);
    uint8_t *b = abuf(8192);
    fill(b, 8192, 1);
    assert_int_equal(rw1(d, BLK_DISK_WRITE, 32 * KIB, b, 8192), 8192);
    assert_int_equal(truncate(f->path, 36 * KIB), 0);
    struct iovec v[2] = { { b, 4096 }, { b + 4096, 4096 } };
    assert_int_equal(do_io(d, BLK_DISK_READ, 32 * KIB, v, 2, 5), -EIO);
    assert_int_equal(rw1(d, BLK_DISK_READ, 40 * KIB, b, 4096), -EIO);
    assert_int_equal(rw1(d, BLK_DISK_READ, 28 * KIB, b, 8192), 8192);   /* before the end: fine */
    assert_int_equal(blk_disk_inflight(d), 0);
    blk_disk_close(d);
    free(b);
}

#define BOTH(t)                                                                    \
    { #t "/memory", t, setup, teardown, &K_MEM }, { #t "/file", t, setup, teardown, &K_FILE }
#define FILE_ONLY(t) { #t, t, setup, teardown, &K_FILE }

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_roundtrip),
        BOTH(test_batch),
        BOTH(test_nothing_before_kick),
        BOTH(test_qdepth),
        BOTH(test_bad_requests),
        BOTH(test_flush),
        BOTH(test_close_inflight),
        BOTH(test_refuse_conf),
        FILE_ONLY(test_file_create),
        FILE_ONLY(test_file_existing),
        FILE_ONLY(test_file_persist),
        FILE_ONLY(test_file_refusals),
        FILE_ONLY(test_file_direct),
        FILE_ONLY(test_file_tmpfs_buffered),
        FILE_ONLY(test_file_short_read),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
