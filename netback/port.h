/* port.h — netback's packet ports: where domain 0 sends the frames its
 * guests transmit and takes the frames they receive.
 *
 * Kinds:
 *   LOOP  an in-memory loopback without DPDK (the virtual-time engine and
 *         tests): what is sent comes back on rx, in order, untouched. At
 *         most nr_bufs frames are in flight (sent, not yet received); tx
 *         takes fewer when that many are. Its pool holds 2 * nr_bufs
 *         buffers so that a sender can reach that bound, as a NIC's
 *         mempool is larger than its descriptor ring.
 *   RING  DPDK's net_ring vdev: a loopback through an rte_ring of 1024
 *         slots (1023 frames in flight at most).
 *   TAP   DPDK's net_tap: a host interface tap_name, given tap_ip/
 *         tap_prefix and brought up; what is sent reaches the host's stack.
 *   NULL  DPDK's net_null: a sink; rx returns nothing.
 * A DPDK port has a mempool of nr_bufs buffers (128 at least). The first
 * DPDK port opened initialises DPDK's EAL for the process (file prefix
 * fv-PID: as root its runtime directory is /var/run/dpdk/fv-PID); the last
 * one closed cleans EAL up and removes that directory. EAL initialises
 * once per process: a DPDK port opened after that fails with -EALREADY.
 *
 * Buffers: nb_port_alloc hands out buffers with cap >= 2048 bytes from
 * data; the caller writes a frame and sets len. data may be moved inside
 * the buffer (cap still counts from where it was), as long as the frame
 * stays inside. tx takes a prefix of the burst; what it did not take and
 * what rx returns belong to the caller until sent or freed. A buffer goes
 * back only to the port it came from. A frame past its buffer, or a buffer
 * freed or sent twice, is a bug in the caller: the loop port aborts with a
 * message; the DPDK ports abort on the first.
 *
 * Locking: one caller at a time per port (any thread, not necessarily the
 * same one each call); different ports may be used from different threads
 * at once. open and close may be called from any thread.
 */
#ifndef FV_NETBACK_PORT_H
#define FV_NETBACK_PORT_H

#include <stddef.h>
#include <stdint.h>

#define NB_BURST 32

struct nb_pkt {
    uint8_t *data;
    uint16_t len;
    uint16_t cap;               /* bytes usable from data */
    void *m;                    /* the backing buffer (an rte_mbuf for DPDK ports) */
};

enum nb_port_kind { NB_PORT_LOOP, NB_PORT_RING, NB_PORT_TAP, NB_PORT_NULL };

struct nb_port_conf {
    enum nb_port_kind kind;
    const char *tap_name;       /* TAP: the interface to create */
    uint32_t tap_ip;            /* TAP: its address (not 0), host byte order */
    uint8_t tap_prefix;         /* TAP: its prefix length (1..32) */
    unsigned nr_bufs;           /* 0 = a default (8191) */
};

struct nb_port;

/* Open a port. 0, or -errno with a message in err saying what is missing
 * and how to get it: -ENOTSUP (DPDK kinds in a build without DPDK),
 * -ENOENT (no /dev/net/tun), -EPERM (TAP needs root), -EEXIST (an
 * interface named tap_name exists already), -EINVAL (a bad conf),
 * -EALREADY (EAL was cleaned up already in this process), -ENOMEM, or
 * -EIO (DPDK refused; the message names the step, DPDK's own on stderr).
 * *out is NULL on failure. */
int nb_port_open(struct nb_port **out, const struct nb_port_conf *c, char *err, size_t errlen);
/* Close a port; frames still in flight are dropped. Every buffer the caller
 * holds must have been freed or sent. The last DPDK port closed cleans EAL
 * up and removes its runtime directory. NULL is a no-op. */
void nb_port_close(struct nb_port *p);
/* Fill pkts[0..n) with fresh buffers (len 0, cap >= 2048): n, or 0 if
 * fewer than n are free. */
unsigned nb_port_alloc(struct nb_port *p, struct nb_pkt *pkts, unsigned n);
void nb_port_free(struct nb_port *p, struct nb_pkt *pkts, unsigned n);
/* Send pkts[0..k) and take them; returns k. The caller still owns
 * pkts[k..n). */
unsigned nb_port_tx(struct nb_port *p, struct nb_pkt *pkts, unsigned n);
/* Receive up to n frames into pkts: the count. The caller owns them. */
unsigned nb_port_rx(struct nb_port *p, struct nb_pkt *pkts, unsigned n);
/* Whether kind k can be opened here: 0, or -ENOTSUP/-ENOENT/-EPERM with
 * the reason and the fix in why (-EALREADY once EAL was cleaned up). */
int nb_port_available(enum nb_port_kind k, char *why, size_t len);
/* "loop" "ring" "tap" "null" ("?" for anything else). */
const char *nb_port_kind_name(enum nb_port_kind k);

/* ---- internal to netback/port_*.c, not for callers ------------------------ */

/* Every port begins with its kind's ops; the public calls dispatch through
 * them. port_dpdk.c (built only with FV_HAVE_DPDK) provides the DPDK
 * kinds. */
struct nb_port_ops {
    void (*close)(struct nb_port *p);
    unsigned (*alloc)(struct nb_port *p, struct nb_pkt *pkts, unsigned n);
    void (*free)(struct nb_port *p, struct nb_pkt *pkts, unsigned n);
    unsigned (*tx)(struct nb_port *p, struct nb_pkt *pkts, unsigned n);
    unsigned (*rx)(struct nb_port *p, struct nb_pkt *pkts, unsigned n);
};
struct nb_port {
    const struct nb_port_ops *ops;
    enum nb_port_kind kind;
};
int nb_dpdk_open(struct nb_port **out, const struct nb_port_conf *c, char *err, size_t errlen);
int nb_dpdk_available(enum nb_port_kind k, char *why, size_t len);

#endif
