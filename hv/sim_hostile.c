/* sim_hostile.c — guests that would stop virtual time (see sim_priv.h).
 *
 * Guests are not trusted to let time pass. Every guest API call is a
 * hypercall (sim_hc_enter/sim_hc_exit): a vCPU making SIM_MAX_CALLS of them at
 * one virtual instant (a poll-and-block loop whose block returns at once,
 * a yield loop) is a guest that would stop virtual time, and its domain is
 * crashed, as Xen's domain_crash. Deterministic: the count, not the host's
 * speed, decides. Guest code that calls nothing at all (a pure spin) is
 * caught by a watchdog: a timer on this thread's CPU time ticks every
 * SIM_WD_TICK_NS; SIM_WD_TICKS of them in guest code without a single
 * hypercall (or SIM_WD_ENTRY_TICKS in one guest entry, calls or not) and
 * the vCPU is switched out from the signal handler and its domain crashed.
 * A guest that stops calling altogether never resumes, so the instant it
 * is crashed at is the same on any host and results stay deterministic;
 * only a guest doing a second or more of real host work between calls
 * (which a workload never needs: work is guest_compute) could see a fast
 * and a slow host differ. The same paths honour a stop request (SIGINT)
 * whatever a guest does: at its next hypercall, or at the next tick.
 * ThreadSanitizer runs signal handlers only inside intercepted calls, with
 * every signal blocked, so a TSan build has no watchdog (as the real
 * engine has no asynchronous preemption there): a pure spin cannot be
 * stopped in it.
 *
 * Locking: the engine's one thread. The watchdog handler runs on it too;
 * what it reads (in_guest, entry, hcalls) is written with signal fences
 * around it.
 */
#include "sim_priv.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fault.h"
#include "schedule.h"

static __thread struct sim *wd_sim;

/* Is the context the signal interrupted running with the thread's usual
 * mask? Not when the tick landed on the first instruction of another
 * handler (SIGINT's, which blocks SIGINT while it runs): switching away
 * then would lose that handler, and leave its signal blocked. */
static bool usual_mask(const struct sim *sim, const ucontext_t *uc)
{
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(&uc->uc_sigmask, sig) > 0 && sigismember(&sim->wd_mask, sig) <= 0)
            return false;
    return true;
}

/* A tick of this thread's CPU time. Switching out of a handler is what the
 * real engine's preemption does (real.c): the signal frame stays on the
 * vCPU's stack, which is never resumed. */
static void on_watchdog(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)si;
    struct sim *sim = wd_sim;
    if (!sim)
        return;
    if (sim->wd_entry != sim->entry) {
        sim->wd_entry = sim->entry;
        sim->wd_entry_ticks = 0;
    }
    if (sim->wd_hcalls != sim->hcalls) {
        sim->wd_hcalls = sim->hcalls;
        sim->wd_quiet_ticks = 0;
    }
    sim->wd_entry_ticks++;
    sim->wd_quiet_ticks++;
    struct sim_vcpu *v = sim->in_guest;
    if (!v || !fv_ctx_on_stack(&v->ctx, __builtin_frame_address(0)) || !usual_mask(sim, uc))
        return;
    bool stop = *sim->stop;
    if (!stop && sim->wd_quiet_ticks < SIM_WD_TICKS && sim->wd_entry_ticks < SIM_WD_ENTRY_TICKS)
        return;
    sim->in_guest = NULL;
    sim->wd_switched = true;
    v->why = sim->wd_quiet_ticks >= SIM_WD_TICKS ? CRASH_SPIN : CRASH_LONG;
    sim_leave_guest(v, stop ? REQ_STOP : REQ_CRASH);
}

/* The handler is installed once for the process and never removed: a
 * thread without a running sim (wd_sim NULL) ignores the signal, so runs
 * on several threads cannot pull it from under each other. */
static pthread_once_t wd_once = PTHREAD_ONCE_INIT;
static int wd_install_rc;

static void wd_install(void)
{
    wd_install_rc = engine_switching_handler(FV_SIG_WATCHDOG, on_watchdog);
}

int sim_watchdog_start(struct sim *sim)
{
    if (fv_fault("watchdog"))
        return -EAGAIN;
    if (!SIM_WATCHDOG)
        return 0;
    pthread_once(&wd_once, wd_install);
    if (wd_install_rc)
        return wd_install_rc;
    struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = FV_SIG_WATCHDOG };
    sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &sim->wd_timer))
        return -errno;
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, FV_SIG_WATCHDOG);
    pthread_sigmask(SIG_UNBLOCK, &ss, &sim->wd_mask);
    sigdelset(&sim->wd_mask, FV_SIG_WATCHDOG);
    wd_sim = sim;
    sim->wd_armed = true;
    const char *env = getenv("FV_WD_TICK_US");
    long us = env ? strtol(env, NULL, 10) : 0;
    sim->wd_tick_ns = us > 0 && us < 1000000 ? us * 1000 : SIM_WD_TICK_NS;
    struct itimerspec its = { .it_interval = { 0, sim->wd_tick_ns }, .it_value = { 0, sim->wd_tick_ns } };
    timer_settime(sim->wd_timer, 0, &its, NULL);
    return 0;
}

void sim_watchdog_stop(struct sim *sim)
{
    if (!sim->wd_armed)
        return;
    timer_delete(sim->wd_timer);
    wd_sim = NULL;
    sim->wd_armed = false;
}

/* After a vCPU left from the handler: the kernel did not restore the mask
 * (the handler never returned). */
void sim_watchdog_after_switch(struct sim *sim)
{
    if (!sim->wd_switched)
        return;
    sim->wd_switched = false;
    pthread_sigmask(SIG_SETMASK, &sim->wd_mask, NULL);
}

/* v's domain dies, as with Xen's domain_crash: every vCPU of it stops for
 * good and wakes no more; the others run on. */
void sim_crash_domain(struct sim *sim, struct sim_vcpu *v)
{
    struct dom_result *r = &sim->res[v->dom_index];
    if (r->crashed)
        return;
    r->crashed = true;
    r->crashed_at_ns = sim->now;
    char t[32];
    if (v->why == CRASH_SPIN)
        snprintf(r->crash_reason, sizeof(r->crash_reason), "vCPU %d ran guest code for %s of "
                 "host CPU time without a hypercall (in virtual time a guest must compute, "
                 "block or yield for time to pass)", v->g.vcpuid,
                 fv_fmt_ns(SIM_WD_TICKS * sim->wd_tick_ns, t, sizeof(t)));
    else if (v->why == CRASH_LONG)
        snprintf(r->crash_reason, sizeof(r->crash_reason), "vCPU %d ran %s of host CPU time "
                 "without letting virtual time pass (a guest must compute, block or yield for "
                 "time to pass)", v->g.vcpuid,
                 fv_fmt_ns(SIM_WD_ENTRY_TICKS * sim->wd_tick_ns, t, sizeof(t)));
    else
        snprintf(r->crash_reason, sizeof(r->crash_reason), "vCPU %d made %u hypercalls at one "
                 "instant of virtual time (a guest must compute, block or yield for time to "
                 "pass)", v->g.vcpuid, SIM_MAX_CALLS);
    engine_dom_crashed(v->sd->name, sim->now, r->crash_reason);
    const struct sched_domain *d = v->u->dom;
    for (int i = 0; i < d->nr_units; i++) {
        struct sim_vcpu *w = &sim->vcpu[d->units[i]->id];
        w->dead = true;
        evq_cancel(&sim->q, &w->timer);
        if (!w->u->runnable)
            continue;
        if (!w->u->is_running)
            metrics_block(&sim->m, w->u->id, sim->now);
        sched_core_sleep(sim->s, w->u, sim->now);   /* tickles its pCPU if running */
    }
}
