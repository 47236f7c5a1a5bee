/* host.c — the parts of a run both engines share: event channels, domain
 * memory, grant tables, vifs and netback. See host.h. */
#include "host.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../blkback/blkback.h"
#include "../netback/netback.h"
#include "../netback/port.h"
#include "../workloads/blkfront.h"
#include "../workloads/netfront.h"
#include "../workloads/guest.h"
#include "ctx.h"
#include "domtab.h"
#include "fault.h"
#include "gnttab.h"
#include "guest_api.h"
#include "run.h"
#include "scenario.h"
#include "starve.h"

_Static_assert(HOST_IO_PAGES_PER_VIF == NETFRONT_PAGES, "netfront lays out what the host maps");
_Static_assert(HOST_IO_PAGES_PER_VBD == BLKFRONT_PAGES, "blkfront lays out what the host maps");

/* ---- domain memory ---------------------------------------------------------------- */

static uint64_t io_bytes(const struct scn_domain *sd)
{
    return ((uint64_t)sd->nr_vifs * HOST_IO_PAGES_PER_VIF +
            (uint64_t)sd->nr_vbds * HOST_IO_PAGES_PER_VBD) * HOST_PAGE;
}

static int map_domain(struct host *h, int d)
{
    const struct scn_domain *sd = &h->scn->domains[d];
    struct host_dom *hd = &h->dom[d];
    uint64_t stacks = h->conf.map_all ? (uint64_t)sd->vcpus * h->conf.stack_slot : 0;
    uint64_t io = io_bytes(sd);
    uint64_t size = HOST_PAGE + io + stacks;
    uint64_t guest = 0;
    if (h->conf.map_all) {
        /* The guest memory is what `memory` leaves once the rest is in; a
         * domain too small for its stacks and rings gets 1 MiB more. */
        guest = sd->memory > size + HOST_PAGE ? sd->memory - size - HOST_PAGE : (1u << 20);
        size += guest + HOST_PAGE;
    }
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (m == MAP_FAILED)
        return -errno;
    fv_stack_unpoison(m, size);
    hd->mem = m;
    hd->mem_size = size;
    hd->guest = hd->mem + HOST_PAGE;
    hd->guest_size = guest;
    hd->io = hd->guest + guest;
    hd->io_size = io;
    hd->stacks = stacks ? hd->io + io + HOST_PAGE : NULL;   /* after the guard page */
    /* The grant table covers the guest's own pages: shared info and guard
     * are the hypervisor's, the stacks live above the I/O area. */
    hd->gt = fv_fault("gnttab") ? NULL
                                : gnttab_create(sd->id, hd->guest, guest + io, GNTTAB_DEFAULT_MAX);
    return hd->gt ? 0 : -ENOMEM;
}

static int make_memory(struct host *h)
{
    const struct scenario *scn = h->scn;
    int cap = h->conf.cap_doms > scn->nr_domains ? h->conf.cap_doms : scn->nr_domains;
    h->dom = fv_fault("memory") ? NULL : calloc(cap ? (size_t)cap : 1, sizeof(*h->dom));
    if (!h->dom)
        return -ENOMEM;
    for (int d = 0; d < scn->nr_domains; d++) {
        if (!h->conf.map_all && scn->domains[d].nr_vifs == 0 && scn->domains[d].nr_vbds == 0)
            continue;
        int rc = map_domain(h, d);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- the backend ------------------------------------------------------------------ */

/* How many more domains a live host may create (0: not a live host). */
static int room(const struct host *h)
{
    return h->conf.cap_doms > h->scn->nr_domains ? h->conf.cap_doms - h->scn->nr_domains : 0;
}

static int make_netback(struct host *h, char *err, size_t errlen)
{
    const struct scn_netback *n = &h->scn->netback;
    if (n->port == SCN_NB_NONE)
        return 0;
    struct nb_port_conf pc = { .kind = NB_PORT_LOOP, .tap_name = n->tap_name,
                               .tap_ip = n->tap_ip, .tap_prefix = n->tap_prefix };
    if (h->conf.virtual_time) {
        if (n->port == SCN_NB_TAP) {
            snprintf(err, errlen, "%s: netback.port: tap needs engine: real (the host's own "
                     "network stack does not run in virtual time; use ring or null)", h->scn->file);
            return -EINVAL;
        }
    } else {
        pc.kind = n->port == SCN_NB_TAP ? NB_PORT_TAP : n->port == SCN_NB_NULL ? NB_PORT_NULL
                                                                               : NB_PORT_RING;
    }
    char why[256] = "";
    int rc = nb_port_open(&h->port, &pc, why, sizeof(why));
    if (rc) {
        snprintf(err, errlen, "cannot set up the run: netback port %s: %s",
                 nb_port_kind_name(pc.kind), why[0] ? why : strerror(-rc));
        return rc;
    }
    struct gnttab **gt = malloc((size_t)h->scn->nr_domains * sizeof(*gt));
    if (!gt)
        return engine_setup_error(err, errlen, "netback", -ENOMEM);
    for (int d = 0; d < h->scn->nr_domains; d++)
        gt[d] = h->dom[d].gt;
    struct netback_conf c = {
        .scn = h->scn, .port = h->port,
        .sink = h->conf.virtual_time && n->port == SCN_NB_NULL,
        .local_switch = n->port == SCN_NB_TAP, .virtual_time = h->conf.virtual_time,
        .polling = n->cpu == SCN_NB_DEDICATED,
        .ev = &h->ev.tab, .gt = gt,
        /* A live host: up to two vifs for each domain it may still create. */
        .room_doms = h->conf.cap_doms, .room_vifs = 2 * room(h),
    };
    h->nb = fv_fault("netback") ? NULL : netback_create(&c);
    free(gt);
    return h->nb ? 0 : engine_setup_error(err, errlen, "netback", -ENOMEM);
}

static int make_blkback(struct host *h, char *err, size_t errlen)
{
    if (!h->scn->blkback.present)
        return 0;
    struct gnttab **gt = malloc((size_t)h->scn->nr_domains * sizeof(*gt));
    if (!gt)
        return engine_setup_error(err, errlen, "blkback", -ENOMEM);
    for (int d = 0; d < h->scn->nr_domains; d++)
        gt[d] = h->dom[d].gt;
    struct blkback_conf c = { .scn = h->scn, .virtual_time = h->conf.virtual_time,
                              .ev = &h->ev.tab, .gt = gt,
                              .room_doms = h->conf.cap_doms, .room_vbds = 2 * room(h) };
    char why[384] = "";
    h->bb = fv_fault("blkback") ? NULL : blkback_create(&c, why, sizeof(why));
    free(gt);
    if (h->bb)
        return 0;
    snprintf(err, errlen, "cannot set up the run: blkback: %s", why[0] ? why : strerror(ENOMEM));
    return -ENOMEM;
}

/* ---- charge-back ------------------------------------------------------------------ */

static int make_charges(struct host *h)
{
    const struct scenario *scn = h->scn;
    int n = 0;
    for (int d = 0; d < scn->nr_domains; d++)
        n += scn->domains[d].nr_vifs > 0 || scn->domains[d].nr_vbds > 0;
    if (h->nb || h->bb)                 /* room for a live host's domains with devices */
        n += room(h);
    if (!n)
        return 0;
    h->charge_seen = calloc((size_t)n, sizeof(*h->charge_seen));
    h->charges = calloc((size_t)n, sizeof(*h->charges));
    if (!h->charge_seen || !h->charges)
        return -ENOMEM;
    for (int d = 0; d < scn->nr_domains; d++)
        if (scn->domains[d].nr_vifs > 0 || scn->domains[d].nr_vbds > 0)
            h->charge_seen[h->nr_charge_doms++].dom = d;
    return 0;
}

fv_ns_t host_backend_ns(const struct host *h, int d)
{
    fv_ns_t total = 0;
    for (int v = 0; h->nb && v < h->scn->domains[d].nr_vifs; v++) {
        const struct netback_vif_stats *st = netback_vif_stats(h->nb, d, v);
        total += st ? __atomic_load_n(&st->backend_ns, __ATOMIC_RELAXED) : 0;
    }
    for (int v = 0; h->bb && v < h->scn->domains[d].nr_vbds; v++) {
        const struct blkback_vbd_stats *st = blkback_vbd_stats(h->bb, d, v);
        total += st ? __atomic_load_n(&st->backend_ns, __ATOMIC_RELAXED) : 0;
    }
    return total;
}

int host_backend_deltas(struct host *h, const struct host_charge **out)
{
    int n = 0, nr = __atomic_load_n(&h->nr_charge_doms, __ATOMIC_ACQUIRE);
    for (int i = 0; i < nr; i++) {
        struct host_charge *seen = &h->charge_seen[i];
        int d = __atomic_load_n(&seen->dom, __ATOMIC_RELAXED);
        if (d < 0)
            continue;                   /* a creation undone (host_dom_devices_remove) */
        fv_ns_t total = host_backend_ns(h, d);
        /* Only growth is charged: a counter that went back (a pass that
         * shared its rest unevenly) is charged again only past its peak. */
        if (total > seen->ns) {
            h->charges[n++] = (struct host_charge){ d, total - seen->ns };
            seen->ns = total;
        }
    }
    *out = h->charges;
    return n;
}

/* ---- life cycle ------------------------------------------------------------------- */

int host_build(struct host *h, const struct scenario *scn, const struct host_conf *c,
               char *err, size_t errlen)
{
    memset(h, 0, sizeof(*h));
    h->scn = scn;
    h->conf = *c;
    int rc = make_memory(h);
    if (rc)
        return engine_setup_error(err, errlen, "domain memory and grant tables", rc);
    if ((rc = engine_evtchn_init(&h->ev, scn, c->cap_doms, c->notify, c->ctx)))
        return engine_setup_error(err, errlen, "event channels", rc);
    if ((rc = make_netback(h, err, errlen)))
        return rc;
    if ((rc = make_blkback(h, err, errlen)))
        return rc;
    return make_charges(h) ? engine_setup_error(err, errlen, "charge-back", -ENOMEM) : 0;
}

void host_destroy(struct host *h)
{
    if (h->bb)
        blkback_destroy(h->bb);
    h->bb = NULL;
    if (h->nb)
        netback_destroy(h->nb);
    h->nb = NULL;
    if (h->port)
        nb_port_close(h->port);
    h->port = NULL;
    engine_evtchn_fini(&h->ev);
    for (int d = 0; h->dom && d < h->scn->nr_domains; d++)
        host_dom_unmap(h, d);
    free(h->dom);
    h->dom = NULL;
    free(h->charge_seen);
    free(h->charges);
    h->charge_seen = h->charges = NULL;
}

static void set_time_base(struct host *h, int d)
{
    if (!h->dom[d].mem)
        return;
    struct fv_shared_info *si = (struct fv_shared_info *)h->dom[d].mem;
    si->time_base_ns = h->time_base;
    atomic_store_explicit(&si->version, 2, memory_order_release);
}

void host_set_time_base(struct host *h, int64_t ns)
{
    h->time_base = ns;
    for (int d = 0; h->dom && d < h->scn->nr_domains; d++)
        set_time_base(h, d);
}

/* ---- domains at run time (a live host) ---------------------------------------------- */

/* d's vifs and vbds join the backends, and its backend time the charges. */
static int add_devices(struct host *h, int d, char *err, size_t errlen)
{
    const struct scn_domain *sd = &h->scn->domains[d];
    int rc = sd->nr_vifs ? netback_add_domain(h->nb, d, h->dom[d].gt) : 0;
    if (rc) {
        snprintf(err, errlen, "domain %s: netback has room for no more vifs (the host's "
                 "--max-domains)", sd->name);
        return rc;
    }
    if (sd->nr_vbds && (rc = blkback_add_domain(h->bb, d, h->dom[d].gt, err, errlen))) {
        if (sd->nr_vifs)
            netback_remove_domain(h->nb, d, true);
        return rc;
    }
    int n = h->nr_charge_doms;
    h->charge_seen[n] = (struct host_charge){ d, 0 };
    /* The pass reads the count without a lock (host_backend_deltas). */
    __atomic_store_n(&h->nr_charge_doms, n + 1, __ATOMIC_RELEASE);
    return 0;
}

int host_dom_map(struct host *h, int d, char *err, size_t errlen)
{
    const struct scn_domain *sd = &h->scn->domains[d];
    bool no_net = sd->nr_vifs && !h->nb;
    if (no_net || (sd->nr_vbds && !h->bb)) {
        const char *missing = no_net ? "netback" : "blkback";
        snprintf(err, errlen, "domain %s: this host has no %s: its Domain-0 runs %s (start "
                 "`serve` from a scenario with %s, or one that names `%s:`)", sd->name, missing,
                 h->nb ? "netback only" : h->bb ? "blkback only" : "no backend",
                 no_net ? "a vif" : "a vbd", missing);
        return -ENOTSUP;
    }
    int rc = map_domain(h, d);
    if (rc == 0 && (sd->nr_vifs || sd->nr_vbds))
        rc = add_devices(h, d, err, errlen);
    else if (rc)
        snprintf(err, errlen, "domain %s: its memory: %s", sd->name, strerror(-rc));
    if (rc) {
        host_dom_unmap(h, d);
        return rc;
    }
    set_time_base(h, d);
    return 0;
}

void host_dom_devices_remove(struct host *h, int d, bool forget)
{
    const struct scn_domain *sd = &h->scn->domains[d];
    if (sd->nr_vifs && h->nb)
        netback_remove_domain(h->nb, d, forget);
    if (sd->nr_vbds && h->bb)
        blkback_remove_domain(h->bb, d, forget);
    if (!forget || (!sd->nr_vifs && !sd->nr_vbds))
        return;
    /* Its charge entry is skipped from now on: the index will be another
     * domain's (the pass reads the entries without a lock). */
    int nr = __atomic_load_n(&h->nr_charge_doms, __ATOMIC_ACQUIRE);
    for (int i = 0; i < nr; i++)
        if (__atomic_load_n(&h->charge_seen[i].dom, __ATOMIC_RELAXED) == d)
            __atomic_store_n(&h->charge_seen[i].dom, -1, __ATOMIC_RELAXED);
}

int host_dom_evtchn_add(struct host *h, int d)
{
    const struct scn_domain *sd = &h->scn->domains[d];
    struct evtchn_dom *ev = evtchn_dom_create(sd->id, sd->vcpus, 0);
    if (!ev)
        return -errno;
    int rc = domtab_insert(h->ev.dt, sd->id, (void *)(intptr_t)d, ev);
    if (rc)
        evtchn_dom_free(ev);
    return rc;
}

void host_dom_evtchn_remove(struct host *h, int d)
{
    const struct domtab_entry *e;
    struct evtchn_dom *ev = NULL;
    void *dom;
    domtab_read_lock();
    e = domtab_lookup(h->ev.dt, h->scn->domains[d].id);
    if (e && e->evtchn)
        evtchn_dom_teardown(&h->ev.tab, e->evtchn);
    domtab_read_unlock();
    if (domtab_remove(h->ev.dt, h->scn->domains[d].id, &dom, &ev) == 0 && ev)
        evtchn_dom_free(ev);
}

void host_dom_unmap(struct host *h, int d)
{
    struct host_dom *hd = &h->dom[d];
    if (hd->gt)
        gnttab_destroy(hd->gt);
    if (hd->mem) {
        fv_stack_unpoison(hd->mem, hd->mem_size);
        munmap(hd->mem, hd->mem_size);
    }
    memset(hd, 0, sizeof(*hd));
}

static void collect_blk(const struct host *h, struct dom_result *res)
{
    for (int d = 0; h->bb && d < h->scn->nr_domains; d++) {
        struct dom_blk *b = &res[d].blk;
        for (int v = 0; v < h->scn->domains[d].nr_vbds; v++) {
            const struct blkback_vbd_stats *st = blkback_vbd_stats(h->bb, d, v);
            if (!st)
                continue;
            b->present = true;
            b->reads += st->reads;
            b->writes += st->writes;
            b->flushes += st->flushes;
            b->bytes += st->read_bytes + st->write_bytes;
            b->errors += st->errors;
            b->unsupported += st->unsupported;
            hist_merge(&b->latency, &st->latency);
            b->direct |= st->direct;
            res[d].backend_cpu_ns += st->backend_ns;
            if (st->disconnected && !b->disconnects++)
                snprintf(b->disconnect_reason, sizeof(b->disconnect_reason), "vbd %d: %s", v,
                         st->reason);
        }
    }
}

void host_collect(const struct host *h, struct dom_result *res)
{
    collect_blk(h, res);
    if (!h->nb)
        return;
    for (int d = 0; d < h->scn->nr_domains; d++) {
        struct dom_result *r = &res[d];
        for (int v = 0; v < h->scn->domains[d].nr_vifs; v++) {
            const struct netback_vif_stats *st = netback_vif_stats(h->nb, d, v);
            if (!st)
                continue;
            r->net.tx_pkts += st->tx_pkts;
            r->net.tx_bytes += st->tx_bytes;
            r->net.rx_pkts += st->rx_pkts;
            r->net.rx_bytes += st->rx_bytes;
            for (int k = 0; k < NB_DROP_MAX; k++) {
                r->net.drops_by[k] += st->drops[k];
                r->net.drops += st->drops[k];
            }
            r->backend_cpu_ns += st->backend_ns;
            if (st->disconnected && !r->net.disconnects++)
                snprintf(r->net.disconnect_reason, sizeof(r->net.disconnect_reason), "vif %d: %s",
                         v, st->reason);
        }
        r->net.present = h->scn->domains[d].nr_vifs > 0;
    }
    if (engine_dom0_index(h->scn) >= 0) {
        struct dom_result *r0 = &res[engine_dom0_index(h->scn)];
        r0->net.present = true;
        r0->net.drops += netback_unowned_drops(h->nb);
        r0->net.drops_by[NB_DROP_NO_DEST] += netback_unowned_drops(h->nb);
    }
}

void host_net_counters(const struct host *h, int d, struct dom_net *out)
{
    memset(out, 0, sizeof(*out));
    if (!h->nb)
        return;
#define LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
    for (int v = 0; v < h->scn->domains[d].nr_vifs; v++) {
        const struct netback_vif_stats *st = netback_vif_stats(h->nb, d, v);
        out->tx_pkts += LD(st->tx_pkts);
        out->tx_bytes += LD(st->tx_bytes);
        out->rx_pkts += LD(st->rx_pkts);
        out->rx_bytes += LD(st->rx_bytes);
        for (int k = 0; k < NB_DROP_MAX; k++) {
            uint64_t n = LD(st->drops[k]);
            out->drops_by[k] += n;
            out->drops += n;
        }
    }
#undef LD
    out->present = h->scn->domains[d].nr_vifs > 0;
}

void host_net_source(void *ctx, int d, struct dom_net *out) { host_net_counters(ctx, d, out); }

void host_starve_source(void *ctx, int d, struct starve_io *out)
{
    const struct host *h = ctx;
    uint64_t served;
    for (int v = 0; h->nb && v < h->scn->domains[d].nr_vifs; v++) {
        int n = netback_vif_backlog(h->nb, d, v, &served);
        out->net = true;
        out->net_pending += n > 0 ? (uint64_t)n : 0;
        out->net_served += served;
    }
    for (int v = 0; h->bb && v < h->scn->domains[d].nr_vbds; v++) {
        int n = blkback_vbd_backlog(h->bb, d, v, &served);
        out->blk = true;
        out->blk_pending += n > 0 ? (uint64_t)n : 0;
        out->blk_served += served;
    }
}

void host_blk_source(void *ctx, int d, struct dom_blk *out)
{
    const struct host *h = ctx;
    memset(out, 0, sizeof(*out));
    for (int v = 0; h->bb && v < h->scn->domains[d].nr_vbds; v++) {
        const struct blkback_vbd_stats *st = blkback_vbd_stats(h->bb, d, v);
#define LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
        out->reads += LD(st->reads);
        out->writes += LD(st->writes);
        out->flushes += LD(st->flushes);
        out->bytes += LD(st->read_bytes) + LD(st->write_bytes);
        out->errors += LD(st->errors);
        out->unsupported += LD(st->unsupported);
#undef LD
        out->present = true;
    }
}

/* ---- hypercalls ------------------------------------------------------------------- */

void *host_io_area(struct host *h, int d, uint64_t *size)
{
    *size = h->dom[d].io_size;
    return h->dom[d].io_size ? h->dom[d].io : NULL;
}

/* Domain `domid`'s index while it exists, from any thread: the domain
 * table, whose publication orders what was written for the domain before
 * (a live host adds domains while guests run; scn->nr_domains is the
 * scheduler lock's). */
static int dom_index_of(const struct host *h, int domid)
{
    domtab_read_lock();
    const struct domtab_entry *e = domtab_lookup(h->ev.dt, domid);
    int d = e ? (int)(intptr_t)e->dom : -1;
    domtab_read_unlock();
    return d;
}

int host_grant(struct host *h, int d, int domid, const void *page, int readonly)
{
    if (!h->dom[d].gt)
        return -EINVAL;
    if (dom_index_of(h, domid) < 0)
        return -ESRCH;
    return gnttab_grant(h->dom[d].gt, domid, page, readonly != 0);
}

int host_grant_end(struct host *h, int d, int ref)
{
    if (!h->dom[d].gt || ref < 0)
        return -EINVAL;
    return gnttab_end(h->dom[d].gt, (grant_ref_t)ref);
}

int host_net_addr(const struct host *h, int domid, int vif, struct guest_net_addr *out)
{
    const struct scenario *scn = h->scn;
    memset(out, 0, sizeof(*out));
    if (domid == 0) {
        if (scn->netback.port != SCN_NB_TAP || vif != 0)
            return -ENODEV;
        out->ip = scn->netback.tap_ip;
        out->prefix = scn->netback.tap_prefix;
        return 0;
    }
    int d = dom_index_of(h, domid);
    if (d < 0)
        return -ESRCH;
    if (vif < 0 || vif >= scn->domains[d].nr_vifs)
        return -ENODEV;
    const struct scn_vif *sv = &scn->domains[d].vifs[vif];
    memcpy(out->mac, sv->mac, 6);
    out->ip = sv->ip;
    out->prefix = sv->prefix;
    return 0;
}

int host_vif_count(const struct host *h, int d) { return h->scn->domains[d].nr_vifs; }

int host_vif_connect(struct host *h, int d, int vif, int tx_ref, int rx_ref, int port)
{
    if (!h->nb || vif < 0 || vif >= h->scn->domains[d].nr_vifs)
        return -ENODEV;
    if (tx_ref < 0 || rx_ref < 0 || port <= 0)
        return -EINVAL;
    return netback_connect(h->nb, d, vif, (uint32_t)tx_ref, (uint32_t)rx_ref, port);
}

int host_vbd_count(const struct host *h, int d) { return h->scn->domains[d].nr_vbds; }

int host_vbd_info(const struct host *h, int d, int vbd, uint64_t *sectors)
{
    if (vbd < 0 || vbd >= h->scn->domains[d].nr_vbds)
        return -ENODEV;
    *sectors = h->scn->domains[d].vbds[vbd].size / 512;
    return 0;
}

int host_vbd_connect(struct host *h, int d, int vbd, int ring_ref, int port)
{
    if (!h->bb || vbd < 0 || vbd >= h->scn->domains[d].nr_vbds)
        return -ENODEV;
    if (ring_ref < 0 || port <= 0)
        return -EINVAL;
    return blkback_connect(h->bb, d, vbd, (uint32_t)ring_ref, port);
}

int host_backend_poll(struct host *h, int d, fv_ns_t now, struct guest_backend_pass *out)
{
    memset(out, 0, sizeof(*out));
    if (d != engine_dom0_index(h->scn) || (!h->nb && !h->bb))
        return -EPERM;
    int work = 0;
    if (h->nb) {
        const struct scn_netback *n = &h->scn->netback;
        out->dedicated = n->cpu == SCN_NB_DEDICATED;
        /* Only frames from the host (tap) arrive without an event. */
        out->poll_ns = n->port == SCN_NB_TAP || out->dedicated ? n->poll : 0;
        fv_ns_t due = 0;
        work = netback_poll_at(h->nb, now, &out->cost, &due);
        /* A vif out of credit: come back when its credit timer fires. */
        if (due > now && (!out->poll_ns || due - now < out->poll_ns))
            out->poll_ns = due - now;
    }
    if (h->bb) {
        fv_ns_t cost = 0, due = 0;
        int rc = blkback_poll(h->bb, now, &cost, &due);
        out->cost += cost;
        work += rc > 0 ? rc : 0;
        out->dedicated |= h->scn->blkback.cpu == SCN_NB_DEDICATED;
        /* Requests in service: come back when the next one is due. */
        if (due > now && (!out->poll_ns || due - now < out->poll_ns))
            out->poll_ns = due - now;
    }
    if (work > 0)                   /* (an idle pass served no one: not worth a look) */
        starve_io_pass(h->starve);  /* what this pass served, what still waits */
    return work;
}
