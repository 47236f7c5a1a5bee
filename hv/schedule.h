/* schedule.h — the scheduling core shared by both engines (Xen's
 * common/sched/core.c in miniature).
 *
 * It builds a scheduler instance from a policy's ops table, registers
 * domains and vCPUs through the policy's alloc hooks, and runs the vCPU state
 * machine: wake, sleep (block), yield and schedule. It does not know about
 * contexts or clocks: the engine calls these functions with the scheduler
 * lock held, then switches to whatever sched_core_schedule() chose and arms
 * that pCPU's slice timer at now + runtime.
 */
#ifndef FV_SCHEDULE_H
#define FV_SCHEDULE_H

#include "../sched/sched.h"

/* Create an instance of `ops` for nr_cpus pCPUs with the global parameters
 * gp (validated with ops->check_global). Returns NULL and a message in err
 * on failure, errno EINVAL (parameters refused) or ENOMEM. Domains are
 * added with sched_core_add_domain, then
 * sched_core_start calls init-time hooks that need every domain. */
struct scheduler *sched_core_create(const struct sched_ops *ops, int nr_cpus,
                                    const struct sched_global_params *gp,
                                    const struct sched_core_ops *core, void *core_ctx,
                                    char *err, size_t errlen);

/* Register a domain with nr_units vCPUs. The core allocates the domain and
 * its units (ids are dense, in order of registration); affinity may be NULL
 * (all pCPUs). Units start not runnable. Returns the domain or NULL with a
 * message in err, errno EINVAL (parameters refused) or ENOMEM. */
struct sched_domain *sched_core_add_domain(struct scheduler *s, int domid, const char *name,
                                           const struct sched_dom_params *p, int nr_units,
                                           const fv_cpumask_t *affinity,
                                           char *err, size_t errlen);

/* Take domain d out of the running policy (a domain destroyed at run
 * time): every unit removed (remove_unit) and its data freed (free_udata),
 * then the domain's (free_domdata). No unit of d may be running or
 * runnable: the engine puts them to sleep and waits until no pCPU runs
 * them. The domain and unit structs stay, marked dead, so that indexes,
 * ids and what the core counted (charged_ns, deadline misses) remain for
 * the results; sched_core_destroy frees them. */
void sched_core_remove_domain(struct scheduler *s, struct sched_domain *d);

/* Change domain d's parameters through the policy's adjust hook, and keep
 * them in d->params: 0, -EINVAL (refused: nothing changed), -ENOTSUP (the
 * policy has no adjust). The same for the global ones (adjust_global,
 * kept in s->gp). */
int sched_core_adjust(struct scheduler *s, struct sched_domain *d, const struct sched_dom_params *p);
int sched_core_adjust_global(struct scheduler *s, const struct sched_global_params *gp);

/* Free everything (policy data through its free hooks, then the instance). */
void sched_core_destroy(struct scheduler *s);

/* A blocked unit becomes runnable: policy wake hook (which may tickle). */
void sched_core_wake(struct scheduler *s, struct sched_unit *u, fv_ns_t now);
/* A runnable unit blocks. If it is running, its pCPU is tickled. */
void sched_core_sleep(struct scheduler *s, struct sched_unit *u, fv_ns_t now);
/* The running unit yields; its pCPU is tickled. */
void sched_core_yield(struct scheduler *s, struct sched_unit *u, fv_ns_t now);

/* Run do_schedule for `cpu` and commit its decision: the previous unit
 * (if any) stops running, the next one starts on this cpu (migrating it if
 * it was queued elsewhere). Returns the decision; *prev gets the unit that
 * was running before (may equal next). */
struct sched_decision sched_core_schedule(struct scheduler *s, int cpu, fv_ns_t now,
                                          struct sched_unit **prev);

/* Charge ns of work done elsewhere to u (policy charge hook, if any) and
 * count it in u's domain's charged_ns. Returns what was charged: ns, or 0
 * when ns <= 0 or the policy has no charge hook. */
fv_ns_t sched_core_charge(struct scheduler *s, struct sched_unit *u, fv_ns_t ns);

/* Charge-back: ns of backend time spent on domain d's I/O, split evenly
 * over its runnable vCPUs (the ones competing for CPU, where a debit has an
 * effect; the first take the odd nanoseconds), or all to vCPU 0 when none
 * is runnable (the vCPU a frontend binds its event channel to). Returns
 * what was charged, as sched_core_charge. */
fv_ns_t sched_core_charge_domain(struct scheduler *s, struct sched_domain *d, fv_ns_t ns);

/* Entitled pCPUs for each domain given demand (policy entitle hook, else
 * sched_waterfill over all pCPUs), over the interval since the previous
 * call. With charge-back, a domain charged c pCPUs' worth of backend time
 * over the interval (charged_iv / interval) is entitled to its share of
 * nr_cpus + (sum of c) with demand + c, less c: what the policy promises
 * its own vCPUs once it has paid for its I/O. */
void sched_core_entitle(struct scheduler *s, struct sched_demand *d, int n);

#endif
