/* blkif.h — the virtual disk's shared-ring protocol, Xen's blkif in shape:
 * one ring of 32 requests per vbd in a page the guest granted to domain 0,
 * one event channel. A request names up to 11 segments, each a granted
 * page and a range of 512-byte sectors in it; a response answers it by id.
 */
#ifndef FV_BLKIF_H
#define FV_BLKIF_H

#include <stdint.h>

#include "../hv/ring.h"

#define BLKIF_OP_READ 0
#define BLKIF_OP_WRITE 1
#define BLKIF_OP_WRITE_BARRIER 2        /* a write ordered after every earlier one, durable */
#define BLKIF_OP_FLUSH_DISKCACHE 3
#define BLKIF_OP_DISCARD 5              /* not supported: EOPNOTSUPP */
#define BLKIF_OP_INDIRECT 6             /* not supported: EOPNOTSUPP */

#define BLKIF_RSP_EOPNOTSUPP (-2)
#define BLKIF_RSP_ERROR (-1)
#define BLKIF_RSP_OKAY 0

#define BLKIF_MAX_SEGMENTS_PER_REQUEST 11
#define BLKIF_SECTOR 512u
#define BLKIF_SECTORS_PER_PAGE 8u

struct blkif_request_segment {
    uint32_t gref;                      /* a page of the guest's */
    uint8_t first_sect, last_sect;      /* sectors within it, inclusive: 0..7 */
    uint16_t pad;
};

struct blkif_request {
    uint8_t operation;                  /* BLKIF_OP_* */
    uint8_t nr_segments;                /* 1..11 for reads and writes; 0 for a flush */
    uint16_t handle;                    /* the vbd (unused: one ring per vbd) */
    uint32_t pad;
    uint64_t id;                        /* echoed in the response */
    uint64_t sector_number;             /* the first sector on the disk */
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

struct blkif_response {
    uint64_t id;
    uint8_t operation;
    uint8_t pad;
    int16_t status;                     /* BLKIF_RSP_* */
    uint32_t pad2;
};

_Static_assert(sizeof(struct blkif_request) == 112, "Xen's blkif request is 112 bytes");

FV_RING_DEFINE(blkif, struct blkif_request, struct blkif_response);

#endif
