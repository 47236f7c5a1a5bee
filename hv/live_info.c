/* live_info.c — what a live host tells about itself and its domains
 * (GET /v1/host, /v1/domains, /metrics, top), read under the engine lock. */
#include "live_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "starve.h"

#include "version.h"

void live_host_info(struct live *l, struct live_host_info *out)
{
    pthread_mutex_lock(&l->rl.lock);
    int alive = 0;
    for (int d = 0; d < l->scn->nr_domains; d++)
        alive += live_alive(l, d);
    *out = (struct live_host_info){
        .version = FV_VERSION, .policy = l->scn->policy->name, .ops = l->scn->policy,
        .gp = l->rl.s->gp, .mode = l->scn->mode, .pcpus = l->scn->pcpus,
        .uptime_ns = real_now(&l->rl), .domains = alive, .created = l->scn->nr_domains,
        .max_domains = l->max_domains, .chargeback = l->scn->chargeback,
        .nr_counters = l->rl.nr_counters,
    };
    memcpy(out->counter_names, l->rl.counter_names, sizeof(out->counter_names));
    pthread_mutex_unlock(&l->rl.lock);
}

static struct live_pct pct(const struct fv_hist *h)
{
    return (struct live_pct){ hist_quantile(h, 0.5), hist_quantile(h, 0.99), h->count ? h->max : 0 };
}

/* (engine lock held) Domain index d's figures. */
static void fill(struct live *l, int d, struct live_dom_info *o, struct dom_blk *blk)
{
    const struct scn_domain *sd = &l->scn->domains[d];
    const struct dom_result *r = &l->rl.res[d];
    const struct sched_domain *dom = l->rl.s->doms[d];
    const struct real_dstate *ds = &l->rl.ds[d];
    fv_ns_t now = real_now(&l->rl), life = now - ds->created_ns;
    memset(o, 0, sizeof(*o));
    snprintf(o->name, sizeof(o->name), "%s", sd->name);
    o->id = sd->id;
    o->state = ds->dead || ds->dying ? LIVE_DESTROYED : ds->paused ? LIVE_PAUSED : LIVE_BLOCKED;
    for (int i = 0; o->state == LIVE_BLOCKED && i < dom->nr_units; i++)
        if (dom->units[i]->runnable)
            o->state = LIVE_RUNNING;
    o->vcpus = sd->vcpus;
    o->memory = sd->memory;
    o->mem_resident = r->mem_resident_bytes;
    o->sp = dom->params;
    o->created_ns = ds->created_ns;
    o->destroyed_ns = ds->destroyed_ns;
    o->cpu_ns = r->cpu_ns;
    o->cpu_share = life > 0 ? (double)r->cpu_ns / ((double)life * l->scn->pcpus) : 0.0;
    o->cpu_share_recent = metrics_recent_share(&l->rl.m, d);
    o->wait_ns = pct(&r->wait);
    o->wakeup_ns = pct(&r->wakeup);
    o->work_units = r->work_units;
    struct dom_net net;
    memset(&net, 0, sizeof(net));
    host_net_counters(&l->rl.h, d, &net);
    o->net_tx_pkts = net.tx_pkts, o->net_rx_pkts = net.rx_pkts;
    o->net_tx_bytes = net.tx_bytes, o->net_rx_bytes = net.rx_bytes, o->net_drops = net.drops;
    memset(blk, 0, offsetof(struct dom_blk, latency));
    host_blk_source(&l->rl.h, d, blk);
    o->blk_reads = blk->reads, o->blk_writes = blk->writes, o->blk_bytes = blk->bytes;
    o->backend_cpu_ns = host_backend_ns(&l->rl.h, d);
    memcpy(o->counters, r->counters, sizeof(o->counters));
    for (int k = 0; k < RUN_STARVE_RESOURCES; k++) {
        struct run_starve t = starve_totals(l->rl.m.starve, d, (enum starve_res)k);
        o->starved_ns += t.starved_ns;
        o->starvation_events += t.events;
    }
}

int live_domains(struct live *l, struct live_dom_info **out, int *n)
{
    struct dom_blk *blk = malloc(sizeof(*blk));
    pthread_mutex_lock(&l->rl.lock);
    int cap = l->scn->nr_domains;
    struct live_dom_info *v = blk ? malloc((cap ? (size_t)cap : 1) * sizeof(*v)) : NULL;
    int k = 0;
    for (int d = 0; v && d < cap; d++)
        if (live_alive(l, d))
            fill(l, d, &v[k++], blk);
    pthread_mutex_unlock(&l->rl.lock);
    free(blk);
    if (!v)
        return -ENOMEM;
    *out = v;
    *n = k;
    return 0;
}

int live_domain(struct live *l, const char *name, struct live_dom_info *out)
{
    struct dom_blk *blk = malloc(sizeof(*blk));
    if (!blk)
        return -ENOMEM;
    int rc = -ENOENT;
    pthread_mutex_lock(&l->rl.lock);
    for (int d = 0; d < l->scn->nr_domains && rc; d++)
        if (live_alive(l, d) && strcmp(l->scn->domains[d].name, name) == 0) {
            fill(l, d, out, blk);
            rc = 0;
        }
    pthread_mutex_unlock(&l->rl.lock);
    free(blk);
    return rc;
}
