/* netback_setup.c — netback's set-up: building the vifs and the MAC table,
 * a guest connecting its rings, a live host's domains adding and removing
 * theirs between passes, tearing it all down, and what other threads read
 * meanwhile (statistics, starvation backlog). The pass is netback.c; the
 * state both use is netback_priv.h, the rules in netback.h's Locking. */
#include "netback_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../hv/evtchn.h"
#include "../hv/gnttab.h"

/* ---- set-up ---------------------------------------------------------------------- */

int netback_connect(struct netback *nb, int d, int vif, uint32_t tx_ref, uint32_t rx_ref, int port)
{
    if (d < 0 || d >= nb->nr_doms || nb->first[d] < 0 ||
        vif >= nb->c.scn->domains[d].nr_vifs || vif < 0)
        return -ENODEV;
    struct nb_vif *v = &nb->vif[nb->first[d] + vif];
    int expect = VIF_IDLE;
    /* Claim it first: two vCPUs of one guest may race to connect. */
    if (!atomic_compare_exchange_strong(&v->state, &expect, -1))
        return -EBUSY;
    int err = 0;
    struct netif_tx_sring *txs = gnttab_map(v->gt, 0, tx_ref, true, &err);
    if (!txs)
        goto undo;
    struct netif_rx_sring *rxs = gnttab_map(v->gt, 0, rx_ref, true, &err);
    if (!rxs)
        goto unmap_tx;
    int local = evtchn_bind_interdomain(nb->c.ev, 0, v->domid, port);
    if (local < 0) {
        err = local;
        goto unmap_rx;
    }
    v->tx_ref = tx_ref;
    v->rx_ref = rx_ref;
    v->port = local;
    FV_BACK_RING_INIT(&v->tx, txs);
    FV_BACK_RING_INIT(&v->rx, rxs);
    v->rx_prod_seen = 0;
    v->st.connected = true;
    /* Pairs with the acquire loads in the pass: the vif is filled in. */
    atomic_store_explicit(&v->state, VIF_CONNECTED, memory_order_release);
    return 0;
unmap_rx:
    gnttab_unmap(v->gt, rx_ref);
unmap_tx:
    gnttab_unmap(v->gt, tx_ref);
undo:
    atomic_store(&v->state, VIF_IDLE);
    return err;
}

static void htab_insert(struct netback *nb, int k)
{
    uint32_t h = nb_mac_hash(nb->vif[k].mac) & nb->hmask;
    while (nb->htab[h] > 0)
        h = (h + 1) & nb->hmask;
    nb->htab[h] = k + 1;
}

/* Slots vif[k...] for domain index d's vifs. */
static void fill_vifs(struct netback *nb, int d, int k, struct gnttab *gt)
{
    const struct scn_domain *sd = &nb->c.scn->domains[d];
    nb->first[d] = sd->nr_vifs ? k : -1;
    for (int i = 0; i < sd->nr_vifs; i++, k++) {
        struct nb_vif *v = &nb->vif[k];
        atomic_init(&v->state, VIF_IDLE);
        v->d = d;
        v->idx = i;
        v->domid = sd->id;
        v->dom_name = sd->name;
        memcpy(v->mac, sd->vifs[i].mac, 6);
        v->gt = gt;
        nb_drr_init(&v->drr, sd->vifs[i].weight);
        nb_credit_init(&v->credit, sd->vifs[i].rate_bytes, sd->vifs[i].rate_interval, nb->now);
        htab_insert(nb, k);
    }
}

static int build_vifs(struct netback *nb, struct gnttab *const *gt)
{
    const struct scenario *scn = nb->c.scn;
    for (int d = 0; d < scn->nr_domains; d++)
        nb->nr_vifs += scn->domains[d].nr_vifs;
    nb->cap_vifs = nb->nr_vifs + (nb->c.room_vifs > 0 ? nb->c.room_vifs : 0);
    nb->nr_doms = nb->c.room_doms > scn->nr_domains ? nb->c.room_doms : scn->nr_domains;
    nb->vif = calloc((size_t)nb->cap_vifs + 1, sizeof(*nb->vif));
    nb->first = malloc(((size_t)nb->nr_doms + 1) * sizeof(*nb->first));
    /* Twice the room: probes stay short; a removed vif's mark stays. */
    uint32_t hsize = 16;
    while (hsize < 2u * (uint32_t)nb->cap_vifs)
        hsize <<= 1;
    nb->hmask = hsize - 1;
    nb->htab = calloc(hsize, sizeof(*nb->htab));
    if (!nb->vif || !nb->first || !nb->htab)
        return -ENOMEM;
    for (int d = 0; d < nb->nr_doms; d++)
        nb->first[d] = -1;
    for (int d = 0, k = 0; d < scn->nr_domains; k += scn->domains[d++].nr_vifs)
        fill_vifs(nb, d, k, gt ? gt[d] : NULL);
    return 0;
}

int netback_add_domain(struct netback *nb, int d, struct gnttab *gt)
{
    int n = nb->c.scn->domains[d].nr_vifs;
    pthread_mutex_lock(&nb->lock);
    int rc = d < 0 || d >= nb->nr_doms || nb->nr_vifs + n > nb->cap_vifs ? -ENOSPC
             : nb->first[d] >= 0                                        ? -EEXIST
                                                                        : 0;
    if (rc == 0 && n) {
        fill_vifs(nb, d, nb->nr_vifs, gt);
        /* Readers on other threads (statistics) find d's vifs by first[d]. */
        __atomic_store_n(&nb->nr_vifs, nb->nr_vifs + n, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&nb->lock);
    return rc;
}

void netback_remove_domain(struct netback *nb, int d, bool forget)
{
    pthread_mutex_lock(&nb->lock);
    int k0 = d >= 0 && d < nb->nr_doms ? nb->first[d] : -1;
    for (int i = 0; k0 >= 0 && i < nb->c.scn->domains[d].nr_vifs; i++) {
        struct nb_vif *v = &nb->vif[k0 + i];
        if (atomic_load(&v->state) == VIF_CONNECTED) {
            gnttab_unmap(v->gt, v->tx_ref);
            gnttab_unmap(v->gt, v->rx_ref);
            evtchn_close(nb->c.ev, 0, v->port);
        }
        atomic_store_explicit(&v->state, VIF_DEAD, memory_order_release);
        uint32_t h = nb_mac_hash(v->mac) & nb->hmask;
        while (nb->htab[h] != k0 + i + 1)
            h = (h + 1) & nb->hmask;
        nb->htab[h] = NB_HTAB_GONE;
        v->gt = NULL;
    }
    if (k0 >= 0 && forget)
        nb->first[d] = -1;              /* its slots stay dead; d gets new ones */
    if (nb->drr_cur >= 0 && nb->drr_cur < nb->nr_vifs &&
        atomic_load(&nb->vif[nb->drr_cur].state) == VIF_DEAD)
        nb->drr_in_turn = false;        /* its turn is over */
    pthread_mutex_unlock(&nb->lock);
}

struct netback *netback_create(const struct netback_conf *c)
{
    struct netback *nb = calloc(1, sizeof(*nb));
    if (!nb)
        return NULL;
    nb->c = *c;
    nb->c.gt = NULL;
    nb->drr = c->scn->netback.fairness == SCN_NB_FAIR_DRR;
    /* Credit windows start now: at run time 0, or on the host's clock. */
    nb->now = c->virtual_time ? 0 : nb_mono_ns();
    pthread_mutex_init(&nb->lock, NULL);
    if (build_vifs(nb, c->gt) == 0)
        return nb;
    netback_destroy(nb);
    errno = ENOMEM;
    return NULL;
}

void netback_destroy(struct netback *nb)
{
    if (!nb)
        return;
    for (int k = 0; nb->vif && k < nb->nr_vifs; k++)
        if (atomic_load(&nb->vif[k].state) == VIF_CONNECTED) {
            gnttab_unmap(nb->vif[k].gt, nb->vif[k].tx_ref);
            gnttab_unmap(nb->vif[k].gt, nb->vif[k].rx_ref);
        }
    free(nb->vif);
    free(nb->first);
    free(nb->htab);
    pthread_mutex_destroy(&nb->lock);
    free(nb);
}

const struct netback_vif_stats *netback_vif_stats(const struct netback *nb, int d, int vif)
{
    if (d < 0 || d >= nb->nr_doms || nb->first[d] < 0 || vif < 0 ||
        vif >= nb->c.scn->domains[d].nr_vifs)
        return NULL;
    return &nb->vif[nb->first[d] + vif].st;
}

uint64_t netback_unowned_drops(const struct netback *nb) { return nb->unowned_drops; }

/* ---- starvation (hv/starve.h) ----------------------------------------------------- */

int netback_vif_backlog(const struct netback *nb, int d, int vif, uint64_t *served)
{
    *served = 0;
    if (d < 0 || d >= nb->nr_doms || nb->first[d] < 0 || vif < 0 ||
        vif >= nb->c.scn->domains[d].nr_vifs)
        return -ENODEV;
    const struct nb_vif *v = &nb->vif[nb->first[d] + vif];
#define NB_LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
    *served = NB_LD(v->st.tx_pkts) + NB_LD(v->st.rx_pkts) + NB_LD(v->st.drops[NB_DROP_SPOOFED]);
#undef NB_LD
    if (atomic_load_explicit(&v->state, memory_order_acquire) != VIF_CONNECTED)
        return 0;
    /* Every TX request is answered once, so what is neither consumed nor
     * answered is between the two shared producers (a hostile front may
     * claim more than a ring: that is at most a ring's worth). */
    uint32_t n = __atomic_load_n(&v->tx.sring->req_prod, __ATOMIC_ACQUIRE) -
                 __atomic_load_n(&v->tx.sring->rsp_prod, __ATOMIC_ACQUIRE);
    return n > (uint32_t)netif_tx_RING_SIZE ? (int)netif_tx_RING_SIZE : (int)n;
}
