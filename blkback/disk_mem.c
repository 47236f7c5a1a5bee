/* disk_mem.c — the memory disk: `size` bytes of anonymous memory, mapped
 * MAP_NORESERVE so that a large disk costs only the pages written (read
 * before written, a sector is zeros). Nothing survives blk_disk_close.
 *
 * Each request is done, and completes, at blk_disk_kick, in queue order:
 * as with the file disk nothing happens before the kick, and completions
 * are reaped the same way. blk_disk_wait has nothing asynchronous to wait
 * for: with no completion ready it sleeps out its timeout. A FLUSH has
 * nothing to make durable and completes with 0.
 *
 * MAP_NORESERVE means memory is not reserved up front: a host that runs out
 * of memory while the disk is being filled kills the process (the OOM
 * killer or SIGSEGV, depending on the overcommit policy).
 */
#include "disk_impl.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

struct blk_mem {
    struct blk_disk d;                  /* first: the common part */
    uint8_t *mem;
};

static int mem_start(struct blk_disk *d, int slot)
{
    struct blk_mem *m = (struct blk_mem *)d;
    struct blk_slot *s = &d->slots[slot];
    uint8_t *p = m->mem + s->off;
    for (int i = 0; i < s->iovcnt; i++) {
        if (s->op == BLK_DISK_READ)
            memcpy(s->iov[i].iov_base, p, s->iov[i].iov_len);
        else
            memcpy(p, s->iov[i].iov_base, s->iov[i].iov_len);
        p += s->iov[i].iov_len;
    }
    blk_disk_complete(d, slot, (int)s->total);
    return 0;
}

static int mem_submit(struct blk_disk *d)
{
    (void)d;
    return 0;
}

static void mem_harvest(struct blk_disk *d)
{
    (void)d;
}

static int mem_wait(struct blk_disk *d, int64_t deadline_ns)
{
    (void)d;
    struct timespec ts = { .tv_sec = deadline_ns / 1000000000, .tv_nsec = deadline_ns % 1000000000 };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
    return -ETIME;
}

static void mem_drain(struct blk_disk *d)
{
    (void)d;
}

static void mem_destroy(struct blk_disk *d)
{
    struct blk_mem *m = (struct blk_mem *)d;
    if (m->mem)
        munmap(m->mem, (size_t)d->size);
}

static const struct blk_disk_ops mem_ops = {
    .start = mem_start,
    .submit = mem_submit,
    .harvest = mem_harvest,
    .wait = mem_wait,
    .drain = mem_drain,
    .destroy = mem_destroy,
};

int blk_mem_open(struct blk_disk **out, const struct blk_disk_conf *c, char *err, size_t errlen)
{
    if (c->size > SIZE_MAX)
        return blk_errf(err, errlen, -ENOMEM,
                        "a memory disk of %llu bytes does not fit this address space: "
                        "give a smaller size",
                        (unsigned long long)c->size);
    struct blk_mem *m = calloc(1, sizeof(*m));
    if (!m || blk_disk_init(&m->d, &mem_ops, c) != 0) {
        free(m);
        return blk_errf(err, errlen, -ENOMEM, "out of memory for a disk of qdepth %u", c->qdepth);
    }
    void *p = mmap(NULL, (size_t)c->size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        blk_disk_fini(&m->d);
        free(m);
        return blk_errf(err, errlen, -e,
                        "cannot map a memory disk of %llu bytes: %s: give a smaller size",
                        (unsigned long long)c->size, strerror(e));
    }
    m->mem = p;
    *out = &m->d;
    return 0;
}
