/* disk_file.c — the file disk: a raw image file served through io_uring
 * (liburing), one ring of qdepth entries per disk.
 *
 * Opening. A missing file is created (mode 0644, less the umask) and an
 * existing one smaller than `size` is grown with ftruncate (sparse: no
 * block is written), after checking that the growth fits in the free space
 * its filesystem offers (statvfs f_bavail: what an unprivileged user may
 * use). A file larger than `size` is used as it is: only its first `size`
 * bytes are served and it is never truncated. A directory, anything but a
 * regular file, or a path that cannot be opened read-write is refused. A
 * file this call created is removed again if opening fails later on.
 *
 * Direct I/O. The file is opened O_DIRECT; buffered instead when
 *  - the filesystem refuses O_DIRECT at open (EINVAL, e.g. tmpfs before
 *    Linux 6.6),
 *  - it is tmpfs (which accepts O_DIRECT since 6.6 but is page cache
 *    either way),
 *  - or statx reports a direct-I/O alignment (STATX_DIOALIGN, Linux 6.1+)
 *    of 0 (no direct I/O) or above 512 bytes (a 4Kn device): the interface
 *    promises 512-byte granularity, which such a device cannot honour.
 * disk.c already refuses buffers and lengths that are not 512-aligned, so
 * every request that passes is valid for O_DIRECT.
 *
 * Requests. READ and WRITE are IORING_OP_READ/WRITE for one iovec,
 * READV/WRITEV for several; FLUSH is fsync with IORING_FSYNC_DATASYNC and
 * IOSQE_IO_DRAIN, so it starts only after everything kicked before it has
 * completed (what blkif's FLUSH_DISKCACHE and WRITE_BARRIER need), and what
 * is kicked after it waits for it. SQEs are prepared at blk_disk_kick and
 * sent by one io_uring_submit; if that fails (blk_disk_kick returns its
 * -errno) they stay in the ring and go with the next submit, at the latest
 * from the next reap or wait. The file is a
 * registered file (IOSQE_FIXED_FILE; the plain fd if registration fails).
 * Buffers are not registered: blkback hands a different set of bounce
 * buffers with every request and the interface has no call to announce a
 * pool, and registering per request would cost more than it saves.
 *
 * Short transfers. A read or write that moves fewer bytes than asked (the
 * kernel may split a large one) is resubmitted for the remainder at once,
 * from reap or wait; one that moves nothing (the file was truncated behind
 * our back) completes with -EIO. A remainder resubmitted after a FLUSH was
 * kicked is not covered by that FLUSH.
 *
 * Waits use io_uring_wait_cqe_timeout, which on kernels without
 * IORING_FEAT_EXT_ARG (before 5.11) would submit an internal timeout SQE and
 * with it anything prepared: such kernels are refused at open.
 */
#include "disk_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

struct blk_file {
    struct blk_disk d;                  /* first: the common part */
    struct io_uring ring;
    bool ring_up;
    int fd;
    bool fixed;                         /* fd registered as fixed file 0 */
};

/* ---- requests --------------------------------------------------------------- */

static void file_prep(struct blk_file *f, struct io_uring_sqe *sqe, int slot)
{
    struct blk_slot *s = &f->d.slots[slot];
    int fd = f->fixed ? 0 : f->fd;
    switch (s->op) {
    case BLK_DISK_READ:
        if (s->iovcnt == 1)
            io_uring_prep_read(sqe, fd, s->iov[0].iov_base, (unsigned)s->iov[0].iov_len, s->off);
        else
            io_uring_prep_readv(sqe, fd, s->iov, (unsigned)s->iovcnt, s->off);
        break;
    case BLK_DISK_WRITE:
        if (s->iovcnt == 1)
            io_uring_prep_write(sqe, fd, s->iov[0].iov_base, (unsigned)s->iov[0].iov_len, s->off);
        else
            io_uring_prep_writev(sqe, fd, s->iov, (unsigned)s->iovcnt, s->off);
        break;
    case BLK_DISK_FLUSH:
        io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
        sqe->flags |= IOSQE_IO_DRAIN;
        break;
    }
    if (f->fixed)
        sqe->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(sqe, (uint64_t)slot);
}

static int file_start(struct blk_disk *d, int slot)
{
    struct blk_file *f = (struct blk_file *)d;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&f->ring);
    if (!sqe)
        return -EBUSY;
    file_prep(f, sqe, slot);
    return 0;
}

static int file_submit(struct blk_disk *d)
{
    struct blk_file *f = (struct blk_file *)d;
    if (io_uring_sq_ready(&f->ring) == 0)
        return 0;
    /* On failure the SQEs stay in the ring and go with the next submit. */
    return io_uring_submit(&f->ring);
}

/* One CQE: complete its slot, or queue the remainder of a short transfer
 * (true: an SQE was prepared). */
static bool file_cqe(struct blk_file *f, uint64_t slot, int res)
{
    if (slot >= f->d.qdepth)
        return false;                   /* not ours: cannot happen */
    struct blk_slot *s = &f->d.slots[slot];
    if (s->op == BLK_DISK_FLUSH || res < 0) {
        blk_disk_complete(&f->d, (int)slot, res < 0 ? res : 0);
        return false;
    }
    if (res == 0) {
        blk_disk_complete(&f->d, (int)slot, -EIO);
        return false;
    }
    blk_slot_advance(s, (size_t)res);
    if (s->done >= s->total) {
        blk_disk_complete(&f->d, (int)slot, (int)s->total);
        return false;
    }
    /* At most qdepth SQEs exist at a time (one per started slot), and the
     * ring has at least qdepth: this cannot fail. */
    struct io_uring_sqe *sqe = io_uring_get_sqe(&f->ring);
    if (!sqe) {
        blk_disk_complete(&f->d, (int)slot, -EIO);
        return false;
    }
    file_prep(f, sqe, (int)slot);
    return true;
}

static void file_harvest(struct blk_disk *d)
{
    struct blk_file *f = (struct blk_file *)d;
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    bool resubmit = false;
    io_uring_for_each_cqe(&f->ring, head, cqe) {
        resubmit |= file_cqe(f, io_uring_cqe_get_data64(cqe), cqe->res);
        n++;
    }
    io_uring_cq_advance(&f->ring, n);
    /* Remainders, and what a failed io_uring_submit left in the ring (kicked
     * already: sending it now is what the kick meant). */
    if (resubmit || io_uring_sq_ready(&f->ring) > 0)
        io_uring_submit(&f->ring);
}

static int file_wait(struct blk_disk *d, int64_t deadline_ns)
{
    struct blk_file *f = (struct blk_file *)d;
    for (;;) {
        int64_t left = deadline_ns - blk_now_ns();
        if (left <= 0)
            return -ETIME;
        struct __kernel_timespec ts = { .tv_sec = left / 1000000000, .tv_nsec = left % 1000000000 };
        struct io_uring_cqe *cqe;
        int r = io_uring_wait_cqe_timeout(&f->ring, &cqe, &ts);
        file_harvest(d);
        if (d->fifo_count > 0)
            return 0;
        if (r == 0 || r == -EINTR || r == -ETIME)
            continue;                   /* a resubmitted remainder, or the deadline check */
        return r;
    }
}

static void file_drain(struct blk_disk *d)
{
    struct blk_file *f = (struct blk_file *)d;
    while (d->started > 0) {
        if (io_uring_sq_ready(&f->ring) > 0)
            io_uring_submit(&f->ring);
        struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 100000000 };
        struct io_uring_cqe *cqe;
        int r = io_uring_wait_cqe_timeout(&f->ring, &cqe, &ts);
        if (r != 0 && r != -ETIME && r != -EINTR) {
            fprintf(stderr, "blk disk: closing with %u requests in flight: %s\n", d->started,
                    strerror(-r));
            return;
        }
        file_harvest(d);
    }
}

static void file_destroy(struct blk_disk *d)
{
    struct blk_file *f = (struct blk_file *)d;
    if (f->ring_up)
        io_uring_queue_exit(&f->ring);
    if (f->fd >= 0)
        close(f->fd);
}

static const struct blk_disk_ops file_ops = {
    .start = file_start,
    .submit = file_submit,
    .harvest = file_harvest,
    .wait = file_wait,
    .drain = file_drain,
    .destroy = file_destroy,
};

/* ---- opening ---------------------------------------------------------------- */

static const char *open_hint(int e)
{
    switch (e) {
    case ENOENT:
        return "its directory must exist";
    case ENOTDIR:
        return "a component of the path is not a directory";
    case EACCES:
    case EPERM:
        return "the file must be readable and writable (and its directory writable, to create it)";
    case EROFS:
        return "the filesystem is read-only: put the image elsewhere";
    default:
        return "check the path";
    }
}

/* Open c->path read-write, creating it if missing; refuse what is not a
 * regular file. The fd, or -errno with err filled. */
static int file_open_fd(const struct blk_disk_conf *c, bool *created, char *err, size_t errlen)
{
    struct stat st;
    *created = false;
    if (stat(c->path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return blk_errf(err, errlen, -EISDIR,
                            "%s is a directory: give the path of an image file", c->path);
        if (!S_ISREG(st.st_mode))
            return blk_errf(err, errlen, -EINVAL,
                            "%s is not a regular file: a file disk serves a raw image file",
                            c->path);
    } else if (errno == ENOENT) {
        int fd = open(c->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST) {
            int e = errno;
            return blk_errf(err, errlen, -e, "cannot open or create %s: %s: %s", c->path,
                            strerror(e), open_hint(e));
        }
        if (fd >= 0) {
            *created = true;
            close(fd);
        }
    } else {
        int e = errno;
        return blk_errf(err, errlen, -e, "cannot open or create %s: %s: %s", c->path,
                        strerror(e), open_hint(e));
    }
    int fd = open(c->path, O_RDWR | O_CLOEXEC | O_DIRECT);
    if (fd < 0 && errno == EINVAL)
        fd = open(c->path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (*created)
            unlink(c->path);
        return blk_errf(err, errlen, -e, "cannot open or create %s: %s: %s", c->path,
                        strerror(e), open_hint(e));
    }
    return fd;
}

/* Grow the file to c->size if it is smaller, after checking the space. */
static int file_size(int fd, const struct blk_disk_conf *c, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return blk_errf(err, errlen, -errno, "cannot stat %s: %s", c->path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return blk_errf(err, errlen, -EINVAL,
                        "%s is not a regular file: a file disk serves a raw image file", c->path);
    if ((uint64_t)st.st_size >= c->size)
        return 0;
    uint64_t grow = c->size - (uint64_t)st.st_size;
    struct statvfs vfs;
    if (fstatvfs(fd, &vfs) != 0)
        return blk_errf(err, errlen, -errno, "cannot read the free space of %s's filesystem: %s",
                        c->path, strerror(errno));
    uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    if (vfs.f_frsize != 0 && (uint64_t)vfs.f_bavail > UINT64_MAX / vfs.f_frsize)
        avail = UINT64_MAX;
    if (grow > avail)
        return blk_errf(err, errlen, -ENOSPC,
                        "%s: an image of %llu bytes needs %llu more, but its filesystem has only "
                        "%llu bytes free: free some space or give a smaller size",
                        c->path, (unsigned long long)c->size, (unsigned long long)grow,
                        (unsigned long long)avail);
    if (ftruncate(fd, (off_t)c->size) != 0) {
        int e = errno;
        return blk_errf(err, errlen, -e, "cannot grow %s to %llu bytes: %s: give a smaller size",
                        c->path, (unsigned long long)c->size, strerror(e));
    }
    return 0;
}

/* Keep O_DIRECT only where it is real and 512-byte requests suit it (see
 * the top of this file); else clear it. Whether it stayed. */
static bool file_keep_direct(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || !(fl & O_DIRECT))
        return false;
    bool keep = true;
    struct statfs fs;
    if (fstatfs(fd, &fs) == 0 && fs.f_type == TMPFS_MAGIC)
        keep = false;
    struct statx sx;
    if (keep && statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
        (sx.stx_mask & STATX_DIOALIGN)) {
        if (sx.stx_dio_offset_align == 0 || sx.stx_dio_offset_align > 512 ||
            sx.stx_dio_mem_align == 0 || sx.stx_dio_mem_align > 512)
            keep = false;
    }
    if (!keep && fcntl(fd, F_SETFL, fl & ~O_DIRECT) != 0)
        keep = true;                    /* could not clear it: it stays in force */
    return keep;
}

static int file_ring(struct blk_file *f, const struct blk_disk_conf *c, char *err, size_t errlen)
{
    int r = io_uring_queue_init(c->qdepth, &f->ring, 0);
    if (r == -ENOSYS || r == -EPERM)
        return blk_errf(err, errlen, r,
                        "io_uring is unavailable (%s): the kernel lacks it, it is disabled "
                        "(sysctl kernel.io_uring_disabled) or a seccomp filter (a container) "
                        "blocks it: enable it, or use a memory disk",
                        strerror(-r));
    if (r < 0)
        return blk_errf(err, errlen, r,
                        "cannot set up an io_uring of %u entries for %s: %s: lower qdepth or "
                        "raise the locked-memory limit (ulimit -l)",
                        c->qdepth, c->path, strerror(-r));
    f->ring_up = true;
    if (!(f->ring.features & IORING_FEAT_EXT_ARG))
        return blk_errf(err, errlen, -ENOSYS,
                        "this kernel's io_uring lacks timed waits (IORING_FEAT_EXT_ARG): "
                        "a file disk needs Linux 5.11 or later; use a memory disk");
    f->fixed = io_uring_register_files(&f->ring, &f->fd, 1) == 0;
    return 0;
}

int blk_file_open(struct blk_disk **out, const struct blk_disk_conf *c, char *err, size_t errlen)
{
    if (!c->path || !c->path[0])
        return blk_errf(err, errlen, -EINVAL, "a file disk needs a path: give the image file's");
    struct blk_file *f = calloc(1, sizeof(*f));
    if (!f || blk_disk_init(&f->d, &file_ops, c) != 0) {
        free(f);
        return blk_errf(err, errlen, -ENOMEM, "out of memory for a disk of qdepth %u", c->qdepth);
    }
    bool created;
    f->fd = file_open_fd(c, &created, err, errlen);
    int r = f->fd < 0 ? f->fd : file_size(f->fd, c, err, errlen);
    if (r == 0) {
        f->d.direct = file_keep_direct(f->fd);
        r = file_ring(f, c, err, errlen);
    }
    if (r != 0) {
        file_destroy(&f->d);
        if (created && f->fd >= 0)
            unlink(c->path);
        blk_disk_fini(&f->d);
        free(f);
        return r;
    }
    *out = &f->d;
    return 0;
}
