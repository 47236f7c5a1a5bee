/* engine.h — running a loaded scenario on an engine (DESIGN §4).
 *   sim:  virtual time, one event queue, deterministic for a seed.
 *   real: pCPU threads pinned to host CPUs, wall-clock time.
 */
#ifndef FV_ENGINE_H
#define FV_ENGINE_H

#include <signal.h>
#include <stddef.h>

#include "evtchn.h"
#include "run.h"
#include "scenario.h"

struct engine_opts {
    struct timeline_sink sink;              /* timeline rows as they come */
    volatile sig_atomic_t *stop;            /* set (e.g. by SIGINT) to end early */
};

/* Run `scn` on the engine it names. Fills `out` (free with
 * run_result_free). Returns 0 (also when stopped early: out->complete is
 * false), -EINVAL with a message in err for a scenario the engine or policy
 * refuses (bad input), or another -errno with a message when setting up
 * the run failed (nothing is filled in then). */
int engine_run(const struct scenario *scn, const struct engine_opts *o,
               struct run_result *out, char *err, size_t errlen);

int sim_run(const struct scenario *scn, const struct engine_opts *o,
            struct run_result *out, char *err, size_t errlen);
int real_run(const struct scenario *scn, const struct engine_opts *o,
             struct run_result *out, char *err, size_t errlen);

/* ---- shared by the engines (hv/engine.c) ---- */

struct scheduler;
struct dom_result;

/* The run's scheduler: scn's policy on its pCPUs, with the engine's core
 * services `core` (context `ctx`), and every scenario domain registered in
 * order. 0 with *out set, -EINVAL (the policy refused a parameter: bad
 * input) or another -errno (set-up failed), with a message in err. */
struct sched_core_ops;
int engine_sched_build(struct scheduler **out, const struct scenario *scn,
                       const struct sched_core_ops *core, void *ctx, char *err, size_t errlen);
/* A result entry per domain (names, ids, parameters; zeroed figures). */
struct dom_result *engine_results_new(const struct scenario *scn);
/* The same with room for cap domains (a live host's, zeroed), and one
 * entry's names, ids and parameters. */
struct dom_result *engine_results_new_cap(const struct scenario *scn, int cap);
void engine_result_init(struct dom_result *r, const struct scn_domain *sd);
/* What the scheduler kept per domain, after the run: each unit's
 * policy-reported deadline misses summed, and the backend time charged. */
void engine_collect_sched(const struct scheduler *s, struct dom_result *res);
/* The seed a domain's guests draw from: the scenario seed mixed with the id. */
uint64_t engine_dom_seed(uint64_t seed, int domid);
/* Does [p, p+len) lie within [lo, lo+size)? (no overflow) */
int engine_range_ok(const void *p, uint64_t len, const void *lo, uint64_t size);
/* Event channels of a run: a domain table holding every scenario domain
 * (entry dom = its index, as a pointer-sized integer) and the port tables. */
struct engine_evtchn {
    struct domtab *dt;
    struct evtchn_tab tab;
};
/* cap_doms: room for domains added at run time (ids up to cap_doms). */
int engine_evtchn_init(struct engine_evtchn *e, const struct scenario *scn, int cap_doms,
                       evtchn_notify_fn notify, void *ctx);
void engine_evtchn_fini(struct engine_evtchn *e);
/* The scenario index of Domain-0, or -1 (a scenario built by hand, with
 * dom0 left 0, has none unless that entry says it is Domain-0). */
static inline int engine_dom0_index(const struct scenario *scn)
{
    int d = scn->dom0;
    /* A live host adds domains while the pCPUs run (real_dom.c stores the
     * count with release): entries below it are filled in. */
    return d >= 0 && d < __atomic_load_n(&scn->nr_domains, __ATOMIC_ACQUIRE) &&
           scn->domains[d].is_dom0 ? d : -1;
}
/* The scenario index of domain `domid`, or -1: guests' ids are index + 1,
 * skipping Domain-0's index (id 0), which a loaded scenario puts last and
 * a live host keeps where it is as it adds domains after it. */
static inline int engine_dom_index(const struct scenario *scn, int domid)
{
    int d0 = engine_dom0_index(scn);
    if (domid == 0)
        return d0;
    if (domid < 1)
        return -1;
    int d = d0 >= 0 && domid - 1 >= d0 ? domid : domid - 1;
    return d < scn->nr_domains ? d : -1;
}
/* The id domain index d has by that rule. */
static inline int engine_dom_id(const struct scenario *scn, int d)
{
    int d0 = engine_dom0_index(scn);
    return d == d0 ? 0 : d0 >= 0 && d > d0 ? d : d + 1;
}
/* The unit of vCPU `vcpu` of domain `domid` (untrusted values), or NULL. */
struct sched_unit *engine_unit_of(const struct scheduler *s, const struct scenario *scn,
                                  int domid, int vcpu);
/* One guest event-channel hypercall (enum guest_evtchn_op in guest_api.h). */
int engine_evtchn_op(struct engine_evtchn *e, int domid, int op, int a, int b);

/* The host CPU the real engine pins pCPU `pcpu` to. */
int engine_host_cpu(int pcpu);

/* A set-up step failed: "cannot set up the run: WHAT: strerror(-rc)" into
 * err (WHAT may be NULL). Returns rc. */
int engine_setup_error(char *err, size_t errlen, const char *what, int rc);
/* Say on stderr that domain `name` was crashed at `at` and why. */
void engine_dom_crashed(const char *name, fv_ns_t at, const char *why);

/* Install `fn` for signal `sig` as a handler that may switch from the
 * interrupted vCPU to the engine and never return: SA_NODEFER, so the
 * signal stays deliverable after such a switch. 0 or -errno. */
int engine_switching_handler(int sig, void (*fn)(int, siginfo_t *, void *));

/* With FV_DUMP set in the environment, the policy's dump to stderr. */
void engine_dump(struct scheduler *s);
/* A guest console line to stderr: "console NAME: text". */
void engine_console(const char *dom, const char *buf, uint64_t len);

#endif
