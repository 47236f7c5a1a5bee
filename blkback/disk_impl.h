/* disk_impl.h — internal to blkback/disk*.c, not for callers (they use
 * disk.h). disk.c owns what every kind shares: checking requests, the
 * slots of requests in flight, the list queued since the last kick and the
 * FIFO of completions not yet reaped. A kind (disk_mem.c, disk_file.c)
 * embeds struct blk_disk first and supplies the ops below.
 *
 * A request lives in a slot from blk_disk_queue until it completes; its
 * completion then waits in the FIFO until blk_disk_reap. It counts against
 * qdepth the whole time, so the FIFO (qdepth entries) never overflows.
 */
#ifndef FV_BLK_DISK_IMPL_H
#define FV_BLK_DISK_IMPL_H

#include "disk.h"

#define BLK_SLOT_IOV 16                 /* iovecs kept inline per slot (blkback uses <= 11) */
#define BLK_DISK_MAX_QDEPTH 4096u
#define BLK_DISK_MAX_IOVCNT 1024        /* IOV_MAX */
#define BLK_DISK_MAX_BYTES 0x7ffffe00u  /* the largest multiple of 512 an int result holds */

struct blk_slot {
    uint64_t tag;
    uint64_t off;                       /* where what is still to do starts */
    struct iovec *iov;                  /* what is still to do: into iov_inline or iov_heap */
    int iovcnt;
    enum blk_disk_op op;
    size_t total, done;                 /* bytes asked for, bytes done so far */
    int next;                           /* free list or queued list; -1 ends it */
    struct iovec *iov_heap;             /* when iovcnt > BLK_SLOT_IOV */
    struct iovec iov_inline[BLK_SLOT_IOV];
};

struct blk_disk_ops {
    /* Start one kicked request. The memory disk does it and completes it;
     * the file disk prepares an SQE. -EBUSY: no room now, try at the next
     * kick (the slot stays queued). */
    int (*start)(struct blk_disk *d, int slot);
    /* After a kick's starts: send them (one io_uring_submit). */
    int (*submit)(struct blk_disk *d);
    /* Move whatever has completed into the FIFO, without blocking. */
    void (*harvest)(struct blk_disk *d);
    /* Block until the FIFO is not empty or deadline_ns (CLOCK_MONOTONIC)
     * passes: 0 or -ETIME. */
    int (*wait)(struct blk_disk *d, int64_t deadline_ns);
    /* Block until nothing started is still running (blk_disk_close). */
    void (*drain)(struct blk_disk *d);
    /* Free the kind's own resources (the common part is freed by disk.c). */
    void (*destroy)(struct blk_disk *d);
};

struct blk_disk {
    const struct blk_disk_ops *ops;
    enum blk_disk_kind kind;
    uint64_t size;
    unsigned qdepth;
    unsigned inflight;                  /* queued, started or completed, not yet reaped */
    unsigned started;                   /* kicked and not yet completed */
    bool direct;
    struct blk_slot *slots;             /* qdepth of them */
    int free_head;                      /* free slots */
    int queued_head, queued_tail;       /* queued since the last kick, in order */
    struct blk_completion *fifo;        /* qdepth entries */
    unsigned fifo_head, fifo_count;
};

/* Set up the common part of a disk the kind has allocated (zeroed): slots
 * and FIFO for c->qdepth (already defaulted and checked). -ENOMEM. */
int blk_disk_init(struct blk_disk *d, const struct blk_disk_ops *ops, const struct blk_disk_conf *c);
/* Free the common part (after ops->destroy, or when open fails). */
void blk_disk_fini(struct blk_disk *d);
/* Slot s is done with result res: its completion joins the FIFO. */
void blk_disk_complete(struct blk_disk *d, int slot, int res);
/* The slot's remaining iovecs after `bytes` more were done. */
void blk_slot_advance(struct blk_slot *s, size_t bytes);
int64_t blk_now_ns(void);
/* Write "blk disk: " and the formatted reason into err (if any); return rc. */
int blk_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

int blk_mem_open(struct blk_disk **out, const struct blk_disk_conf *c, char *err, size_t errlen);
int blk_file_open(struct blk_disk **out, const struct blk_disk_conf *c, char *err, size_t errlen);

#endif
