/* registry.c — the one table of workloads, chosen by `kind`. Domain-0's
 * workload_netback is not listed: the loader gives it to Domain-0 alone. */
#include "workload.h"

#include <string.h>

extern const struct workload_desc workload_cpu_hog;
extern const struct workload_desc workload_cpu_periodic;
extern const struct workload_desc workload_cpu_bursty;
extern const struct workload_desc workload_cpu_spin;
extern const struct workload_desc workload_evtchn_ping;
extern const struct workload_desc workload_idle;
extern const struct workload_desc workload_hostile;
extern const struct workload_desc workload_net_flood;
extern const struct workload_desc workload_net_sink;
extern const struct workload_desc workload_net_echo;
extern const struct workload_desc workload_net_hostile;
extern const struct workload_desc workload_blk_flood;
extern const struct workload_desc workload_blk_latency;
extern const struct workload_desc workload_blk_verify;

const struct workload_desc *const workload_kinds[] = {
    &workload_cpu_hog,
    &workload_cpu_periodic,
    &workload_cpu_bursty,
    &workload_cpu_spin,
    &workload_evtchn_ping,
    &workload_net_flood,
    &workload_net_sink,
    &workload_net_echo,
    &workload_blk_flood,
    &workload_blk_latency,
    &workload_blk_verify,
    &workload_idle,
    &workload_hostile,
    &workload_net_hostile,
    NULL,
};

const struct workload_desc *workload_find(const char *kind)
{
    for (int i = 0; workload_kinds[i]; i++)
        if (strcmp(workload_kinds[i]->kind, kind) == 0)
            return workload_kinds[i];
    return NULL;
}

extern const struct wl_peer_rule workload_evtchn_ping_peer[];
extern const struct wl_peer_rule workload_net_flood_peer[];
extern const struct wl_peer_rule workload_net_echo_peer[];
extern const struct wl_peer_rule workload_net_hostile_peer[];

const struct wl_peer_param workload_peer_params[] = {
    { "evtchn-ping", "peer", workload_evtchn_ping_peer },
    { "net-flood", "peer", workload_net_flood_peer },
    { "net-echo", "peer", workload_net_echo_peer },
    { "net-hostile", "peer", workload_net_hostile_peer },
    { NULL, NULL, NULL },
};

const struct wl_peer_rule *workload_peer_rules(const struct workload_desc *w, const char *name)
{
    for (const struct wl_peer_param *p = workload_peer_params; p->kind; p++)
        if (strcmp(p->kind, w->kind) == 0 && strcmp(p->param, name) == 0)
            return p->rules;
    return NULL;
}

int workload_param_index(const struct workload_desc *w, const char *name)
{
    for (int i = 0; w->params && w->params[i].name; i++)
        if (strcmp(w->params[i].name, name) == 0)
            return i;
    return -1;
}
