/* blkback_setup.c — blkback's set-up: opening every vbd's disk, the I/O
 * scheduler's flows and the modelled device, connecting a guest's ring,
 * tearing it all down. The pass is blkback.c; the state both use is
 * blkback_priv.h. */
#include "blkback_priv.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../hv/evtchn.h"
#include "../hv/scenario.h"

int blkback_connect(struct blkback *bb, int d, int vbd, uint32_t ring_ref, int port)
{
    if (d < 0 || d >= bb->nr_doms || bb->first[d] < 0 || vbd < 0 ||
        vbd >= bb->c.scn->domains[d].nr_vbds)
        return -ENODEV;
    struct bb_vbd *v = &bb->vbd[bb->first[d] + vbd];
    if (!v->gt)
        return -ENODEV;                 /* a domain without a grant table has no ring to give */
    int expect = VBD_IDLE;
    /* Claim it first: two vCPUs of one guest may race to connect. */
    if (!atomic_compare_exchange_strong(&v->state, &expect, VBD_CLAIMED))
        return -EBUSY;
    int err = 0;
    struct blkif_sring *s = gnttab_map(v->gt, 0, ring_ref, true, &err);
    if (!s) {
        atomic_store(&v->state, VBD_IDLE);
        return err ? err : -EINVAL;
    }
    int local = evtchn_bind_interdomain(bb->c.ev, 0, v->domid, port);
    if (local < 0) {
        gnttab_unmap(v->gt, ring_ref);
        atomic_store(&v->state, VBD_IDLE);
        return local;
    }
    v->ring_ref = ring_ref;
    v->port = local;
    FV_BACK_RING_INIT(&v->ring, s);
    v->st.connected = true;
    /* Pairs with the acquire load in the pass: the vbd is filled in. */
    atomic_store_explicit(&v->state, VBD_CONNECTED, memory_order_release);
    return 0;
}

static int open_disk(struct blkback *bb, struct bb_vbd *v, const struct scn_vbd *sv, char *err,
                     size_t errlen)
{
    const struct scn_blkback *m = &bb->c.scn->blkback;
    unsigned qdepth = m->qdepth ? m->qdepth : BB_QDEPTH_DEFAULT;
    /* In virtual time the disk serves at once; the model says when. */
    bool file = sv->backend == SCN_BLK_FILE;
    v->sync_io = file && bb->c.virtual_time;
    struct blk_disk_conf dc = { .kind = file ? BLK_DISK_FILE : BLK_DISK_MEMORY,
                                .path = file ? sv->path : NULL, .size = sv->size,
                                .qdepth = qdepth < BB_RING ? qdepth : BB_RING };
    char why[256] = "";
    int rc = blk_disk_open(&v->disk, &dc, why, sizeof(why));
    if (rc) {
        v->disk = NULL;
        snprintf(err, errlen, "domain %s vbd %d: %s", v->dom_name, v->idx,
                 why[0] ? why : strerror(-rc));
        return rc;
    }
    v->sectors = blk_disk_size(v->disk) / BLKIF_SECTOR;
    v->st.direct = blk_disk_direct(v->disk);
    unsigned n = blk_disk_qdepth(v->disk);
    v->nslots = dc.qdepth < n ? dc.qdepth : n;
    v->slot = calloc(v->nslots, sizeof(*v->slot));
    /* Untouched until used: a large aligned_alloc is fresh mapped memory. */
    v->bufs = aligned_alloc(4096, (size_t)v->nslots * BB_MAX_BYTES);
    if (!v->slot || !v->bufs) {
        snprintf(err, errlen, "domain %s vbd %d: out of memory for its buffers", v->dom_name,
                 v->idx);
        return -ENOMEM;
    }
    for (unsigned k = 0; k < v->nslots; k++)
        v->slot[k].buf = v->bufs + (size_t)k * BB_MAX_BYTES;
    return 0;
}

/* vbd[k...] for domain index d's vbds, their disks opened. */
static int fill_vbds(struct blkback *bb, int d, int k, struct gnttab *gt, char *err,
                     size_t errlen)
{
    const struct scn_domain *sd = &bb->c.scn->domains[d];
    for (int i = 0; i < sd->nr_vbds; i++, k++) {
        struct bb_vbd *v = &bb->vbd[k];
        atomic_init(&v->state, VBD_IDLE);
        v->d = d;
        v->idx = i;
        v->domid = sd->id;
        v->dom_name = sd->name;
        v->gt = gt;
        v->barrier = -1;
        v->flow = k;
        int rc = open_disk(bb, v, &sd->vbds[i], err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

static void close_vbd(struct bb_vbd *v)
{
    if (v->disk)
        blk_disk_close(v->disk);        /* waits for I/O into the buffers below */
    v->disk = NULL;
    free(v->slot);
    free(v->bufs);
    v->slot = NULL;
    v->bufs = NULL;
}

static int build_vbds(struct blkback *bb, struct gnttab *const *gt, char *err, size_t errlen)
{
    const struct scenario *scn = bb->c.scn;
    for (int d = 0; d < scn->nr_domains; d++)
        bb->nr_vbds += scn->domains[d].nr_vbds;
    bb->cap_vbds = bb->nr_vbds + (bb->c.room_vbds > 0 ? bb->c.room_vbds : 0);
    bb->nr_doms = bb->c.room_doms > scn->nr_domains ? bb->c.room_doms : scn->nr_domains;
    bb->vbd = calloc((size_t)bb->cap_vbds + 1, sizeof(*bb->vbd));
    bb->first = malloc(((size_t)bb->nr_doms + 1) * sizeof(*bb->first));
    if (!bb->vbd || !bb->first) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (int d = 0; d < bb->nr_doms; d++)
        bb->first[d] = -1;
    for (int d = 0, k = 0; d < scn->nr_domains; k += scn->domains[d++].nr_vbds) {
        if (scn->domains[d].nr_vbds)
            bb->first[d] = k;
        int rc = fill_vbds(bb, d, k, gt ? gt[d] : NULL, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

static void set_flow(struct blkback *bb, int k)
{
    const struct bb_vbd *v = &bb->vbd[k];
    const struct scn_vbd *sv = &bb->c.scn->domains[v->d].vbds[v->idx];
    bb_qos_set(&bb->q, v->flow, sv->weight, sv->reservation, sv->limit);
}

int blkback_add_domain(struct blkback *bb, int d, struct gnttab *gt, char *err, size_t errlen)
{
    int n = bb->c.scn->domains[d].nr_vbds;
    /* Only this call writes past nr_vbds (a live host makes one domain at
     * a time), and no pass looks there: the disks open without the lock. */
    int k = bb->nr_vbds;
    if (d < 0 || d >= bb->nr_doms || k + n > bb->cap_vbds) {
        snprintf(err, errlen, "blkback has room for %d vbds (the host's --max-domains)",
                 bb->cap_vbds);
        return -ENOSPC;
    }
    if (bb->first[d] >= 0) {
        snprintf(err, errlen, "domain index %d has its vbds already", d);
        return -EEXIST;
    }
    int rc = fill_vbds(bb, d, k, gt, err, errlen);
    if (rc) {
        for (int i = 0; i < n; i++) {
            close_vbd(&bb->vbd[k + i]);
            memset(&bb->vbd[k + i], 0, sizeof(bb->vbd[k + i]));
        }
        return rc;
    }
    pthread_mutex_lock(&bb->lock);
    for (int i = 0; i < n; i++)
        set_flow(bb, k + i);
    bb->q.nflows = k + n;
    bb->q_timed = bb_qos_timed(&bb->q);
    if (n)
        bb->first[d] = k;
    /* Readers on other threads (statistics) find d's vbds by first[d]. */
    __atomic_store_n(&bb->nr_vbds, k + n, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&bb->lock);
    return 0;
}

void blkback_remove_domain(struct blkback *bb, int d, bool forget)
{
    int k0 = d >= 0 && d < bb->nr_doms ? bb->first[d] : -1;
    if (k0 < 0)
        return;
    int n = bb->c.scn->domains[d].nr_vbds;
    pthread_mutex_lock(&bb->lock);
    for (int i = 0; i < n; i++) {
        struct bb_vbd *v = &bb->vbd[k0 + i];
        if (atomic_load(&v->state) == VBD_CONNECTED) {
            bb_vbd_release(bb, v);
            gnttab_unmap(v->gt, v->ring_ref);
            evtchn_close(bb->c.ev, 0, v->port);
        }
        v->dirty = v->kick = v->p_in = false;
        atomic_store_explicit(&v->state, VBD_DEAD, memory_order_release);
        v->gt = NULL;
    }
    if (forget)
        bb->first[d] = -1;              /* its slots stay dead; d gets new ones */
    pthread_mutex_unlock(&bb->lock);
    /* A dead vbd's disk and slots are no pass's any more. */
    for (int i = 0; i < n; i++)
        close_vbd(&bb->vbd[k0 + i]);
}

/* One flow per vbd in the scheduler, with the vbd's weight, reservation
 * and limit; the modelled device's units. */
static int make_sched(struct blkback *bb, char *err, size_t errlen)
{
    const struct scenario *scn = bb->c.scn;
    const struct scn_blkback *m = &scn->blkback;
    enum bb_qos_mode mode = m->fairness == SCN_BLK_FAIR_SFQ ? BB_QOS_SFQ : BB_QOS_FIFO;
    bb->depth = m->depth ? m->depth : BB_DEPTH_DEFAULT;
    bb->units = m->model_depth ? m->model_depth : BB_DEPTH_DEFAULT;
    bb->unit_free = calloc(bb->units, sizeof(*bb->unit_free));
    if (!bb->unit_free || bb_qos_init(&bb->q, mode, bb->cap_vbds)) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (int k = 0; k < bb->nr_vbds; k++)
        set_flow(bb, k);
    bb->q.nflows = bb->nr_vbds;         /* the room beyond: flows of vbds added later */
    bb->q_timed = bb_qos_timed(&bb->q);
    return 0;
}

struct blkback *blkback_create(const struct blkback_conf *c, char *err, size_t errlen)
{
    if (errlen)
        err[0] = 0;
    struct blkback *bb = calloc(1, sizeof(*bb));
    if (!bb) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    bb->c = *c;
    bb->c.gt = NULL;                    /* the caller's array need not outlive the call */
    pthread_mutex_init(&bb->lock, NULL);
    if (build_vbds(bb, c->gt, err, errlen) == 0 && make_sched(bb, err, errlen) == 0)
        return bb;
    blkback_destroy(bb);
    return NULL;
}

void blkback_destroy(struct blkback *bb)
{
    if (!bb)
        return;
    for (int k = 0; bb->vbd && k < bb->nr_vbds; k++) {
        struct bb_vbd *v = &bb->vbd[k];
        if (atomic_load(&v->state) == VBD_CONNECTED)
            gnttab_unmap(v->gt, v->ring_ref);
        close_vbd(v);
    }
    free(bb->vbd);
    free(bb->first);
    bb_qos_fini(&bb->q);
    free(bb->unit_free);
    pthread_mutex_destroy(&bb->lock);
    free(bb);
}
