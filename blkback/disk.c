/* disk.c — the public blk_disk calls: checking the configuration and each
 * request, the slots, the queued list and the completion FIFO every kind
 * shares, and dispatch to the kind (disk_mem.c, disk_file.c).
 *
 * Choices the interface leaves open, the same for every kind:
 * - A request is refused with -EINVAL (before -EAGAIN is considered) for an
 *   unknown op; a READ or WRITE without iovecs, with more than 1024, with an
 *   iovec that is empty or not 512-aligned in address and length, with an
 *   offset not 512-aligned, with more than 0x7ffffe00 bytes in all (the
 *   result is an int), or reaching past the end; a FLUSH with iovecs (its
 *   offset is ignored). The 512-byte alignment of buffers is checked for the
 *   memory disk too, so that a caller that works on one works on the other.
 * - A request counts against qdepth from blk_disk_queue until its
 *   completion is reaped, not merely until it completes: the FIFO of
 *   completions then never overflows.
 * - The iovec array is copied at queue time: the caller's may be on its
 *   stack. The buffers themselves must stay valid until the completion is
 *   reaped (or blk_disk_close returns).
 * - blk_disk_wait with timeout_ns <= 0 only looks; otherwise it waits even
 *   when nothing is in flight (the caller asked for a pause).
 * - blk_disk_close kicks whatever is still queued (writes the caller
 *   believes are on their way are not dropped), waits for everything, and
 *   does not flush.
 */
#include "disk_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int blk_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen > 0) {
        int n = snprintf(err, errlen, "blk disk: ");
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return rc;
}

int64_t blk_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int blk_disk_init(struct blk_disk *d, const struct blk_disk_ops *ops, const struct blk_disk_conf *c)
{
    d->ops = ops;
    d->kind = c->kind;
    d->size = c->size;
    d->qdepth = c->qdepth;
    d->slots = calloc(c->qdepth, sizeof(*d->slots));
    d->fifo = calloc(c->qdepth, sizeof(*d->fifo));
    if (!d->slots || !d->fifo) {
        blk_disk_fini(d);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < c->qdepth; i++)
        d->slots[i].next = i + 1 < c->qdepth ? (int)i + 1 : -1;
    d->free_head = 0;
    d->queued_head = d->queued_tail = -1;
    return 0;
}

void blk_disk_fini(struct blk_disk *d)
{
    if (d->slots)
        for (unsigned i = 0; i < d->qdepth; i++)
            free(d->slots[i].iov_heap);
    free(d->slots);
    free(d->fifo);
    d->slots = NULL;
    d->fifo = NULL;
}

int blk_disk_open(struct blk_disk **out, const struct blk_disk_conf *c, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    if (!out || !c)
        return blk_errf(err, errlen, -EINVAL, "no configuration given");
    *out = NULL;
    struct blk_disk_conf cc = *c;
    if (cc.qdepth == 0)
        cc.qdepth = 32;
    if (cc.size == 0 || cc.size % 512 != 0)
        return blk_errf(err, errlen, -EINVAL,
                        "size %llu is not a positive multiple of 512 bytes: give whole sectors",
                        (unsigned long long)cc.size);
    if (cc.size > (uint64_t)INT64_MAX)
        return blk_errf(err, errlen, -EINVAL, "size %llu is beyond what a file offset holds",
                        (unsigned long long)cc.size);
    if (cc.qdepth > BLK_DISK_MAX_QDEPTH)
        return blk_errf(err, errlen, -EINVAL, "qdepth %u is more than %u: give a smaller one",
                        cc.qdepth, BLK_DISK_MAX_QDEPTH);
    switch (cc.kind) {
    case BLK_DISK_MEMORY:
        return blk_mem_open(out, &cc, err, errlen);
    case BLK_DISK_FILE:
        return blk_file_open(out, &cc, err, errlen);
    }
    return blk_errf(err, errlen, -EINVAL, "unknown disk kind %d: memory or file", (int)cc.kind);
}

void blk_disk_close(struct blk_disk *d)
{
    if (!d)
        return;
    blk_disk_kick(d);
    d->ops->drain(d);
    d->ops->destroy(d);
    blk_disk_fini(d);
    free(d);
}

uint64_t blk_disk_size(const struct blk_disk *d) { return d->size; }
bool blk_disk_direct(const struct blk_disk *d) { return d->direct; }
unsigned blk_disk_qdepth(const struct blk_disk *d) { return d->qdepth; }
unsigned blk_disk_inflight(const struct blk_disk *d) { return d->inflight; }

/* -EINVAL for anything the rules at the top of this file refuse; else 0
 * with the byte count in *total. */
static int check_request(const struct blk_disk *d, enum blk_disk_op op, uint64_t off,
                         const struct iovec *iov, int iovcnt, size_t *total)
{
    *total = 0;
    if (op == BLK_DISK_FLUSH)
        return iovcnt == 0 ? 0 : -EINVAL;
    if (op != BLK_DISK_READ && op != BLK_DISK_WRITE)
        return -EINVAL;
    if (!iov || iovcnt < 1 || iovcnt > BLK_DISK_MAX_IOVCNT || off % 512 != 0)
        return -EINVAL;
    size_t t = 0;
    for (int i = 0; i < iovcnt; i++) {
        size_t len = iov[i].iov_len;
        if (len == 0 || len % 512 != 0 || (uintptr_t)iov[i].iov_base % 512 != 0 ||
            len > BLK_DISK_MAX_BYTES - t)
            return -EINVAL;
        t += len;
    }
    if (off > d->size || t > d->size - off)
        return -EINVAL;
    *total = t;
    return 0;
}

int blk_disk_queue(struct blk_disk *d, enum blk_disk_op op, uint64_t off, const struct iovec *iov,
                   int iovcnt, uint64_t tag)
{
    size_t total;
    int r = check_request(d, op, off, iov, iovcnt, &total);
    if (r != 0)
        return r;
    if (d->inflight >= d->qdepth || d->free_head < 0)
        return -EAGAIN;
    int i = d->free_head;
    struct blk_slot *s = &d->slots[i];
    s->iov = s->iov_inline;
    if (iovcnt > BLK_SLOT_IOV) {
        s->iov_heap = malloc(sizeof(*iov) * (size_t)iovcnt);
        if (!s->iov_heap)
            return -ENOMEM;
        s->iov = s->iov_heap;
    }
    if (iovcnt > 0)
        memcpy(s->iov, iov, sizeof(*iov) * (size_t)iovcnt);
    d->free_head = s->next;
    s->iovcnt = iovcnt;
    s->tag = tag;
    s->op = op;
    s->off = op == BLK_DISK_FLUSH ? 0 : off;
    s->total = total;
    s->done = 0;
    s->next = -1;
    if (d->queued_tail >= 0)
        d->slots[d->queued_tail].next = i;
    else
        d->queued_head = i;
    d->queued_tail = i;
    d->inflight++;
    return 0;
}

int blk_disk_kick(struct blk_disk *d)
{
    int n = 0;
    while (d->queued_head >= 0) {
        int i = d->queued_head;
        int next = d->slots[i].next;  /* start may complete the slot and reuse next */
        d->started++;
        if (d->ops->start(d, i) == -EBUSY) {
            d->started--;
            break;
        }
        d->queued_head = next;
        if (next < 0)
            d->queued_tail = -1;
        n++;
    }
    int r = d->ops->submit(d);
    return r < 0 ? r : n;
}

void blk_disk_complete(struct blk_disk *d, int slot, int res)
{
    struct blk_slot *s = &d->slots[slot];
    unsigned at = (d->fifo_head + d->fifo_count) % d->qdepth;
    d->fifo[at] = (struct blk_completion){ .tag = s->tag, .res = res };
    d->fifo_count++;
    free(s->iov_heap);
    s->iov_heap = NULL;
    s->iov = NULL;
    s->next = d->free_head;
    d->free_head = slot;
    d->started--;
}

void blk_slot_advance(struct blk_slot *s, size_t bytes)
{
    s->done += bytes;
    s->off += bytes;
    while (bytes > 0 && s->iovcnt > 0) {
        size_t take = bytes < s->iov[0].iov_len ? bytes : s->iov[0].iov_len;
        s->iov[0].iov_base = (char *)s->iov[0].iov_base + take;
        s->iov[0].iov_len -= take;
        bytes -= take;
        if (s->iov[0].iov_len == 0) {
            s->iov++;
            s->iovcnt--;
        }
    }
}

int blk_disk_reap(struct blk_disk *d, struct blk_completion *c, int n)
{
    if (n < 0 || (n > 0 && !c))
        return -EINVAL;
    d->ops->harvest(d);
    int k = 0;
    while (k < n && d->fifo_count > 0) {
        c[k++] = d->fifo[d->fifo_head];
        d->fifo_head = (d->fifo_head + 1) % d->qdepth;
        d->fifo_count--;
        d->inflight--;
    }
    return k;
}

int blk_disk_wait(struct blk_disk *d, int64_t timeout_ns)
{
    d->ops->harvest(d);
    if (d->fifo_count > 0)
        return 0;
    if (timeout_ns <= 0)
        return -ETIME;
    return d->ops->wait(d, blk_now_ns() + timeout_ns);
}
