/* disk.h — what blkback serves a vbd from: an in-memory disk, or a raw
 * image file through io_uring. Requests are submitted in batches and
 * completed asynchronously, at most `qdepth` in flight per disk; the
 * memory disk completes at submission (the completion is reaped like any
 * other). Buffers are blkback's own (4 KiB aligned, for O_DIRECT), never a
 * guest's page.
 *
 * Locking: one caller at a time per disk (blkback's pass).
 */
#ifndef FV_BLK_DISK_H
#define FV_BLK_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum blk_disk_kind { BLK_DISK_MEMORY, BLK_DISK_FILE };
enum blk_disk_op { BLK_DISK_READ, BLK_DISK_WRITE, BLK_DISK_FLUSH };

struct blk_disk_conf {
    enum blk_disk_kind kind;
    const char *path;                   /* file: created and sized if missing */
    uint64_t size;                      /* bytes, a multiple of 512 */
    unsigned qdepth;                    /* requests in flight at most (0: 32) */
};

struct blk_completion {
    uint64_t tag;                       /* what the submitter passed */
    int res;                            /* bytes done, or -errno */
};

struct blk_disk;

/* Open a disk. 0, or -errno with the reason in err (the path, what failed,
 * how to fix it). A file is opened with O_DIRECT where its filesystem allows
 * it (tmpfs does not), else buffered: blk_disk_direct says which. */
int blk_disk_open(struct blk_disk **out, const struct blk_disk_conf *c, char *err, size_t errlen);
void blk_disk_close(struct blk_disk *d);    /* waits for what is in flight */
uint64_t blk_disk_size(const struct blk_disk *d);
bool blk_disk_direct(const struct blk_disk *d);
unsigned blk_disk_qdepth(const struct blk_disk *d);
unsigned blk_disk_inflight(const struct blk_disk *d);

/* Queue one I/O of the iovecs (each 512-byte aligned in address and length)
 * at byte offset off (512-aligned; off + total <= size); FLUSH takes no
 * iovecs. 0, -EAGAIN when qdepth are in flight, -EINVAL for a bad range.
 * Nothing is sent to the kernel until blk_disk_kick (one io_uring_submit
 * for the batch). */
int blk_disk_queue(struct blk_disk *d, enum blk_disk_op op, uint64_t off, const struct iovec *iov,
                   int iovcnt, uint64_t tag);
/* Submit everything queued. Returns how many were submitted, or -errno. */
int blk_disk_kick(struct blk_disk *d);
/* Completions so far, without waiting: up to n. */
int blk_disk_reap(struct blk_disk *d, struct blk_completion *c, int n);
/* Wait until at least one completion is ready or timeout_ns passes (for
 * a busy-polling backend that has nothing else to do). 0 or -ETIME. */
int blk_disk_wait(struct blk_disk *d, int64_t timeout_ns);

#endif
