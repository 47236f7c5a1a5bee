/* real_dom.c — the real engine's domains at run time (a live host, live.c):
 * adding one while the pCPUs run, pausing it, and destroying it.
 *
 * A domain is published in steps, each visible only once the previous is
 * done: its memory and grant table (no lock: nobody knows the index yet),
 * then under the scheduler lock its units in the policy, vCPU contexts,
 * results entry and metrics (the pCPUs see it from here, but nothing wakes
 * it), then its event channels in the domain table (peers can find it),
 * then its vCPUs wake. Destruction runs the other way: nothing may wake it
 * (dying), its vCPUs are put to sleep and its event channels closed, then
 * we wait until no pCPU runs it; only then does it leave the policy and
 * lose its memory. Locking: see real.c; the domain table's own rules in
 * domtab.h (the RCU grace period is waited for without the lock held).
 */
#include "real_priv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctx.h"
#include "schedule.h"
#include "starve.h"

/* ---- adding ------------------------------------------------------------------------ */

static int check_room(struct real *rl, const struct scn_domain *sd, char *err, size_t errlen)
{
    if (rl->scn->nr_domains >= rl->cap_doms) {
        snprintf(err, errlen, "the host has created its %d domains (--max-domains)", rl->cap_doms);
        return -ENOSPC;
    }
    if (rl->s->nr_units + sd->vcpus > rl->cap_units || rl->s->nr_units + sd->vcpus > fv_ctx_max()) {
        snprintf(err, errlen, "domain %s: %d more vCPUs exceed the host's room for %d",
                 sd->name, sd->vcpus, rl->cap_units < fv_ctx_max() ? rl->cap_units : fv_ctx_max());
        return -ENOSPC;
    }
    return 0;
}

/* (lock held) Register scn->domains[d] with the policy, make its vCPUs,
 * results entry and metrics. */
static int register_dom(struct real *rl, struct scenario *scn, int d, char *err, size_t errlen)
{
    const struct scn_domain *sd = &scn->domains[d];
    if (!sched_core_add_domain(rl->s, sd->id, sd->name, &sd->sp, sd->vcpus,
                               sd->pinned ? &sd->pin : NULL, err, errlen))
        return errno == ENOMEM ? -ENOMEM : -EINVAL;
    fv_ns_t now = real_now(rl);
    engine_result_init(&rl->res[d], sd);
    rl->res[d].created_ns = now;
    /* Made paused, every vCPU runnable on unpause (real_dom_wake): an event
     * a peer sends meanwhile is kept for then. */
    rl->ds[d] = (struct real_dstate){ .created_ns = now, .paused = true };
    __atomic_store_n(&scn->nr_domains, d + 1, __ATOMIC_RELEASE);   /* engine_dom0_index */
    scn->nr_guests++;
    int rc = real_vcpus_init(rl, d);
    for (int i = 0; !rc && i < rl->s->doms[d]->nr_units; i++)
        rl->vcpu[rl->s->doms[d]->units[i]->id].paused_runnable = true;
    if (!rc)
        rc = metrics_add_domain(&rl->m, now);
    if (rc) {
        /* Registered but unusable: it stays, dead, as the policy's data
         * cannot be taken back half way. */
        rl->ds[d].dead = rl->ds[d].dying = true;
        rl->ds[d].destroyed_ns = now;
        sched_core_remove_domain(rl->s, rl->s->doms[d]);
        snprintf(err, errlen, "domain %s: its vCPUs: %s", sd->name, strerror(-rc));
    }
    return rc;
}

int real_dom_add(struct real *rl, struct scenario *scn, int d, char *err, size_t errlen)
{
    const struct scn_domain *sd = &scn->domains[d];
    pthread_mutex_lock(&rl->lock);
    int rc = check_room(rl, sd, err, errlen);
    pthread_mutex_unlock(&rl->lock);
    if (rc)
        return rc;
    if ((rc = host_dom_map(&rl->h, d, err, errlen)))
        return rc;
    pthread_mutex_lock(&rl->lock);
    rc = register_dom(rl, scn, d, err, errlen);
    pthread_mutex_unlock(&rl->lock);
    if (rc == -EINVAL || rc == -ENOMEM) {
        if (rl->s->nr_doms <= d) {      /* the policy refused it: the index stays free */
            host_dom_devices_remove(&rl->h, d, true);
            host_dom_unmap(&rl->h, d);
        }
        return rc;
    }
    if (rc)
        return rc;
    /* Its vifs and vbds are watched for I/O starvation from now on. */
    starve_io_watch(rl->m.starve, d, true);
    if ((rc = host_dom_evtchn_add(&rl->h, d))) {
        snprintf(err, errlen, "domain %s: its event channels: %s", sd->name, strerror(-rc));
        real_dom_remove(rl, d);
        return rc;
    }
    return 0;
}

void real_dom_wake(struct real *rl, int d)
{
    real_dom_pause(rl, d, false);
}

/* ---- pausing ----------------------------------------------------------------------- */

/* (lock held) Put unit u to sleep now; a running one leaves its pCPU at
 * the tick its pCPU is kicked with, and its metrics stop then. */
static void put_to_sleep(struct real *rl, struct sched_unit *u, fv_ns_t now)
{
    if (!u->runnable)
        return;
    if (!u->is_running)
        metrics_block(&rl->m, u->id, now);
    sched_core_sleep(rl->s, u, now);
}

int real_dom_pause(struct real *rl, int d, bool pause)
{
    pthread_mutex_lock(&rl->lock);
    struct real_dstate *ds = &rl->ds[d];
    int rc = ds->dying || ds->dead ? -ENOENT : ds->paused == pause ? -EBUSY : 0;
    if (rc) {
        pthread_mutex_unlock(&rl->lock);
        return rc;
    }
    fv_ns_t now = real_now(rl);
    const struct sched_domain *dom = rl->s->doms[d];
    ds->paused = pause;
    for (int i = 0; i < dom->nr_units; i++) {
        struct sched_unit *u = dom->units[i];
        struct real_vcpu *v = &rl->vcpu[u->id];
        if (pause) {
            v->paused_runnable = u->runnable;
            put_to_sleep(rl, u, now);
        } else if (v->paused_runnable || v->pending) {
            /* Runnable when paused, or an event came meanwhile. */
            metrics_boot(&rl->m, u->id, now);
            sched_core_wake(rl->s, u, now);
        }
    }
    pthread_mutex_unlock(&rl->lock);
    return 0;
}

/* ---- destroying --------------------------------------------------------------------- */

/* (lock held) Does a pCPU still run one of domain d's vCPUs? */
static bool still_running(struct real *rl, int d)
{
    const struct sched_domain *dom = rl->s->doms[d];
    for (int i = 0; i < dom->nr_units; i++)
        if (dom->units[i]->is_running)
            return true;
    return false;
}

int real_dom_remove(struct real *rl, int d)
{
    pthread_mutex_lock(&rl->lock);
    struct real_dstate *ds = &rl->ds[d];
    if (ds->dying || ds->dead) {
        pthread_mutex_unlock(&rl->lock);
        return -ENOENT;
    }
    ds->dying = true;
    fv_ns_t now = real_now(rl);
    const struct sched_domain *dom = rl->s->doms[d];
    for (int i = 0; i < dom->nr_units; i++) {
        struct real_vcpu *v = &rl->vcpu[dom->units[i]->id];
        rl->s->core->timer_stop(rl, &v->timer);
        put_to_sleep(rl, dom->units[i], now);
    }
    pthread_mutex_unlock(&rl->lock);

    /* Its ports close (peers' go back to unbound and their sends fail),
     * and once the grace period is over no sender can still reach it. */
    host_dom_evtchn_remove(&rl->h, d);
    /* A running vCPU was tickled off its pCPU; it leaves at the tick. */
    for (;;) {
        pthread_mutex_lock(&rl->lock);
        if (rl->done) {                 /* the host is stopping: it frees everything */
            rl->res[d].destroyed_ns = ds->destroyed_ns = real_now(rl);
            pthread_mutex_unlock(&rl->lock);
            return 0;
        }
        bool running = still_running(rl, d);
        pthread_mutex_unlock(&rl->lock);
        if (!running)
            break;
        nanosleep(&(struct timespec){ 0, 200 * 1000 }, NULL);
    }
    /* Its devices go before its grants: no pass touches its rings after
     * this (not under our lock: a pass takes it to charge back). */
    starve_io_watch(rl->m.starve, d, false);
    host_dom_devices_remove(&rl->h, d, false);
    pthread_mutex_lock(&rl->lock);
    now = real_now(rl);
    metrics_remove_domain(&rl->m, d, now);
    sched_core_remove_domain(rl->s, rl->s->doms[d]);
    real_measure_memory(rl, d);
    ds->dead = true;
    rl->res[d].destroyed_ns = ds->destroyed_ns = now;
    pthread_mutex_unlock(&rl->lock);
    for (int i = 0; i < dom->nr_units; i++) {
        struct real_vcpu *v = &rl->vcpu[dom->units[i]->id];
        if (v->made)
            fv_ctx_destroy(&v->ctx);
        v->made = false;
    }
    host_dom_unmap(&rl->h, d);
    return 0;
}
