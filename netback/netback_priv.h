/* netback_priv.h — netback's state and the internals its files share
 * (netback.c: RX, TX, the pass; netback_drr.c: the DRR TX rounds;
 * netback_setup.c: building, connecting, a live host's vifs). Not
 * for callers: the interface is netback.h. */
#ifndef FV_NETBACK_PRIV_H
#define FV_NETBACK_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "../hv/scenario.h"
#include "netback.h"
#include "netif.h"
#include "port.h"
#include "qos.h"

#define NB_TX_BUDGET 64                 /* TX requests per vif per pass */
#define NB_RX_BUDGET 256                /* frames from the port per pass */
#define NB_STORM_RUN 1000               /* events in a row with no work: a storm */
#define NB_ETH_HLEN 14

enum { VIF_IDLE, VIF_CONNECTED, VIF_DEAD };
#define NB_HTAB_GONE (-1)

struct nb_vif {
    _Atomic int state;
    int d, idx, domid;
    const char *dom_name;
    uint8_t mac[6];
    struct gnttab *gt;
    uint32_t tx_ref, rx_ref;
    struct netif_tx_back tx;
    struct netif_rx_back rx;
    int port;                           /* domain 0's end of the event channel */
    uint32_t rx_prod_seen;              /* RX requests seen posted (event accounting) */
    uint32_t quiet_events;              /* events in a row that brought no work */
    bool tx_dirty, rx_dirty;            /* responses to push this pass */
    uint32_t pass_frames;               /* frames of this vif moved in this pass */
    int pass_tx;                        /* TX requests taken in this pass */
    bool pass_event;                    /* drr: its event, cleared at the pass's start */
    bool pass_budgeted;                 /* drr: seen with requests pending this pass */
    bool stalled;                       /* out of credit this pass: its requests wait */
    bool drr_waiting;                   /* drr: this round its head frame did not fit */
    struct nb_drr drr;
    struct nb_credit credit;            /* the vif's `rate` (bytes 0: unlimited) */
    struct netback_vif_stats st;
};

struct netback {
    struct netback_conf c;
    int nr_vifs;
    struct nb_vif *vif;
    int cap_vifs;                       /* room in vif[] (a live host adds vifs) */
    int *first;                         /* by domain index: its vif 0 in vif[], or -1 */
    int nr_doms;                        /* room in first[]: the domains at build time, or
                                           a live host's room_doms */
    uint32_t hmask;                     /* MAC hash table: vif index + 1, 0 = empty,
                                           NB_HTAB_GONE = a removed vif's (probe on) */
    int32_t *htab;
    /* A pass holds it throughout; adding and removing a domain's vifs take
     * it, so that no pass ever sees a vif half made or half gone. */
    pthread_mutex_t lock;
    uint64_t unowned_drops;
    fv_ns_t cost;                       /* this pass's modelled cost */
    fv_ns_t measured;                   /* real time: what the pass charged to vifs so far */
    fv_ns_t carry;                      /* real time: passes that moved nothing, not yet shared */
    fv_ns_t now;                        /* this pass's time (run time, or CLOCK_MONOTONIC) */
    fv_ns_t due;                        /* this pass: the earliest credit timer of a stalled vif */
    int rx_left;                        /* frames the port may still deliver this pass */
    bool drr;                           /* netback.fairness: drr */
    int drr_cur;                        /* drr: the vif whose turn comes first next pass */
    bool drr_in_turn;                   /* drr: ...and it has had its quantum already */
};

/* The MAC table's hash (FNV-1a over the six bytes). */
static inline uint32_t nb_mac_hash(const uint8_t *m)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 6; i++)
        h = (h ^ m[i]) * 16777619u;
    return h;
}

/* Counters are written by the pass alone and may be read meanwhile from
 * another thread (the timeline's sampler): relaxed single-writer stores. */
#define NB_ADD(field, n) __atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED)

static inline fv_ns_t nb_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (fv_ns_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Measured time (real engine) spent on v's frames. */
static inline void nb_charge_time(struct netback *nb, struct nb_vif *v, fv_ns_t ns)
{
    NB_ADD(v->st.backend_ns, ns);
    nb->measured += ns;
}

/* Disconnect v alone: its rings are unmapped, its event channel closed
 * (the guest sees the port close), the reason logged and kept. */
void nb_vif_disconnect(struct netback *nb, struct nb_vif *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* v's TX producer (read once by the caller) checked: false when it is more
 * than a ring ahead (v was disconnected). */
bool nb_tx_prod_ok(struct netback *nb, struct nb_vif *v, uint32_t prod);
/* The head TX request copied out of the shared ring (not consumed), and
 * whether its size is one netback accepts (else taking it disconnects). */
bool nb_tx_peek(struct nb_vif *v, struct netif_tx_request *req);
/* Whether v's credit lets a frame of `size` go now; if not, v is stalled
 * for this pass and nb->due notes when to come back. */
bool nb_tx_credit(struct netback *nb, struct nb_vif *v, uint32_t size);
/* v is out of credit until `due`: its ring waits, and the pass's next_due
 * is no later than that. */
void nb_vif_stall(struct netback *nb, struct nb_vif *v, fv_ns_t due);
/* Consume the head request, whose copy is *req: 0 (its frame is in p), 1
 * (refused and answered; p unused), -1 (v was disconnected). */
int nb_tx_take(struct netback *nb, struct nb_vif *v, const struct netif_tx_request *req,
               struct nb_pkt *p);
/* Send frames p[0..n), p[i] taken from src[i]; what the port refuses is
 * dropped and counted to its sender. */
void nb_forward(struct netback *nb, struct nb_vif *const *src, struct nb_pkt *p, unsigned n);
/* Deliver what the port received, in bursts while nb->rx_left > 0: the
 * count (taken off rx_left). */
int nb_rx_from_port(struct netback *nb);
/* The DRR TX rounds (netback_drr.c): every connected vif's TX requests,
 * port RX delivered between rounds. Returns the frames moved. */
int nb_drr_tx(struct netback *nb);
/* Push the RX responses of a connected v now (notifying its guest if it
 * asked), not at the end of the pass. */
void nb_push_rx(struct netback *nb, struct nb_vif *v);

#endif
