/* engine.c — what both engines share: choosing one, registering domains,
 * result entries, per-domain seeds, guest buffer checks, the console. */
#include "engine.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "domtab.h"
#include "fault.h"
#include "guest_api.h"
#include "schedule.h"

/* The engines, chosen by the scenario's `engine:`. Each builds the run's
 * host (host.c: domains' memory, event channels, grant tables, devices)
 * the same way and supplies what differs: time, running vCPUs, and how
 * device service is paid for. */
struct engine_ops {
    const char *name;
    int (*run)(const struct scenario *scn, const struct engine_opts *o, struct run_result *out,
               char *err, size_t errlen);
};

static const struct engine_ops engines[] = {
    { "sim", sim_run },
    { "real", real_run },
};

int engine_run(const struct scenario *scn, const struct engine_opts *o,
               struct run_result *out, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
        if (strcmp(scn->engine, engines[i].name) == 0)
            return engines[i].run(scn, o, out, err, errlen);
    snprintf(err, errlen, "%s: unknown engine '%s' (expected sim or real)", scn->file, scn->engine);
    return -EINVAL;
}

int engine_setup_error(char *err, size_t errlen, const char *what, int rc)
{
    snprintf(err, errlen, "cannot set up the run: %s%s%s", what ? what : "", what ? ": " : "",
             strerror(rc < 0 ? -rc : rc));
    return rc;
}

void engine_dom_crashed(const char *name, fv_ns_t at, const char *why)
{
    char t[32];
    fprintf(stderr, "fairvisor: domain %s crashed at %s: %s\n", name, fv_fmt_ns(at, t, sizeof(t)),
            why);
}

static int add_domains(struct scheduler *s, const struct scenario *scn, char *err, size_t errlen)
{
    if (fv_fault("domains"))
        return engine_setup_error(err, errlen, "registering domains", -ENOMEM);
    long vcpus = 0;
    for (int i = 0; i < scn->nr_domains; i++)
        vcpus += scn->domains[i].vcpus;
    if (vcpus > fv_ctx_max()) {
        snprintf(err, errlen, "cannot set up the run: %ld vCPUs, and this ThreadSanitizer build "
                 "runs at most %d (it counts each vCPU as a thread; use a build without TSan)",
                 vcpus, fv_ctx_max());
        return -E2BIG;
    }
    for (int i = 0; i < scn->nr_domains; i++) {
        const struct scn_domain *sd = &scn->domains[i];
        if (!sched_core_add_domain(s, sd->id, sd->name, &sd->sp, sd->vcpus,
                                   sd->pinned ? &sd->pin : NULL, err, errlen))
            return errno == ENOMEM ? engine_setup_error(err, errlen, "registering domains", -ENOMEM)
                                   : -EINVAL;
    }
    return 0;
}

int engine_sched_build(struct scheduler **out, const struct scenario *scn,
                       const struct sched_core_ops *core, void *ctx, char *err, size_t errlen)
{
    if (fv_fault("sched"))
        return engine_setup_error(err, errlen, "the scheduler", -ENOMEM);
    *out = sched_core_create(scn->policy, scn->pcpus, &scn->gp, core, ctx, err, errlen);
    if (!*out)
        return errno == ENOMEM ? engine_setup_error(err, errlen, "the scheduler", -ENOMEM) : -EINVAL;
    return add_domains(*out, scn, err, errlen);
}

struct dom_result *engine_results_new(const struct scenario *scn)
{
    return engine_results_new_cap(scn, 0);
}

struct dom_result *engine_results_new_cap(const struct scenario *scn, int cap)
{
    size_t n = cap > scn->nr_domains ? (size_t)cap : (size_t)scn->nr_domains;
    struct dom_result *res = fv_fault("results") ? NULL : calloc(n ? n : 1, sizeof(*res));
    if (!res)
        return NULL;
    for (int d = 0; d < scn->nr_domains; d++)
        engine_result_init(&res[d], &scn->domains[d]);
    return res;
}

void engine_result_init(struct dom_result *r, const struct scn_domain *sd)
{
    snprintf(r->name, sizeof(r->name), "%s", sd->name);
    r->id = sd->id;
    r->vcpus = sd->vcpus;
    r->weight = sd->sp.weight;
    r->cap = sd->sp.cap;
}

void engine_collect_sched(const struct scheduler *s, struct dom_result *res)
{
    for (int d = 0; d < s->nr_doms; d++) {
        for (int i = 0; i < s->doms[d]->nr_units; i++)
            res[d].sched_deadline_misses += s->doms[d]->units[i]->deadline_misses;
        res[d].charged_ns = s->doms[d]->charged_ns;
    }
}

uint64_t engine_dom_seed(uint64_t seed, int domid)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(domid + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int engine_range_ok(const void *p, uint64_t len, const void *lo, uint64_t size)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)lo;
    return a >= b && a - b <= size && len <= size - (a - b);
}

void engine_console(const char *dom, const char *buf, uint64_t len)
{
    /* Copy first: the guest may rewrite its buffer while we print. */
    char line[4097];
    memcpy(line, buf, len);
    line[len] = '\0';
    for (uint64_t i = 0; i < len; i++)
        if (line[i] == '\n' || (unsigned char)line[i] < 0x20)
            line[i] = ' ';
    fprintf(stderr, "console %s: %s\n", dom, line);
}

int engine_switching_handler(int sig, void (*fn)(int, siginfo_t *, void *))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL) ? -errno : 0;
}

void engine_dump(struct scheduler *s)
{
    if (getenv("FV_DUMP") && s->ops->dump)
        s->ops->dump(s, stderr);
}

static void free_entry(int id, void *dom, struct evtchn_dom *ev, void *arg)
{
    (void)id;
    (void)dom;
    (void)arg;
    evtchn_dom_free(ev);
}

int engine_evtchn_init(struct engine_evtchn *e, const struct scenario *scn, int cap_doms,
                       evtchn_notify_fn notify, void *ctx)
{
    if (fv_fault("evtchn"))
        return -ENOMEM;
    int cap = cap_doms > scn->nr_domains ? cap_doms : scn->nr_domains;
    e->dt = domtab_create(cap + 1 < DOMID_FIRST_RESERVED ? cap + 1 : DOMID_FIRST_RESERVED);
    if (!e->dt)
        return -errno;
    evtchn_tab_init(&e->tab, e->dt, notify, ctx);
    for (int d = 0; d < scn->nr_domains; d++) {
        struct evtchn_dom *ev = evtchn_dom_create(scn->domains[d].id, scn->domains[d].vcpus, 0);
        if (!ev)
            return -errno;
        int rc = domtab_insert(e->dt, scn->domains[d].id, (void *)(intptr_t)d, ev);
        if (rc) {
            evtchn_dom_free(ev);
            return rc;
        }
    }
    return 0;
}

void engine_evtchn_fini(struct engine_evtchn *e)
{
    if (e->dt)
        domtab_destroy(e->dt, free_entry, NULL);
    e->dt = NULL;
}

int engine_evtchn_op(struct engine_evtchn *e, int domid, int op, int a, int b)
{
    struct evtchn_tab *t = &e->tab;
    switch (op) {
    case GEV_ALLOC_UNBOUND: return evtchn_alloc_unbound(t, domid, a);
    case GEV_BIND:          return evtchn_bind_interdomain(t, domid, a, b);
    case GEV_SEND:          return evtchn_send(t, domid, a);
    case GEV_CLOSE:         return evtchn_close(t, domid, a);
    case GEV_POLL:          return evtchn_test_and_clear_pending(t, domid, a);
    case GEV_MASK:          return evtchn_mask(t, domid, a);
    case GEV_UNMASK:        return evtchn_unmask(t, domid, a);
    case GEV_BIND_VCPU:     return evtchn_bind_vcpu(t, domid, a, b);
    default:                return -EINVAL;
    }
}

struct sched_unit *engine_unit_of(const struct scheduler *s, const struct scenario *scn,
                                  int domid, int vcpu)
{
    int d = engine_dom_index(scn, domid);
    if (d < 0 || vcpu < 0 || vcpu >= s->doms[d]->nr_units)
        return NULL;
    return s->doms[d]->units[vcpu];
}

int engine_host_cpu(int pcpu)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return pcpu % (int)(n > 0 ? n : 1);
}
