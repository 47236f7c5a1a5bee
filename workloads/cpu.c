/* cpu.c — the CPU workloads: cpu-hog, cpu-periodic (the latency probe),
 * cpu-bursty and idle. Guest code: only guest.h calls and pure helpers. */
#include <stddef.h>

#include "guest.h"
#include "guest_rand.h"
#include "workload.h"

/* ---- cpu-hog: computes forever, one work unit per chunk ----------------- */

enum { HOG_WSS, HOG_CHUNK };

static const struct wl_param_desc hog_params[] = {
    [HOG_WSS] = { "wss", WL_BYTES, 0, 1LL << 40, 0, NULL,
                  "working set touched per chunk (real engine); 0 = registers only" },
    [HOG_CHUNK] = { "chunk", WL_NS, 1000, 1000000000, 1000000, NULL,
                    "CPU time per work unit" },
    { 0 },
};

static void hog_main(const struct wl_args *a)
{
    for (;;) {
        guest_touch(a->v[HOG_CHUNK], (uint64_t)a->v[HOG_WSS]);
        guest_work_units(1);
    }
}

/* ---- cpu-periodic: `burst` of CPU every `period` -------------------------- */

enum { PER_PERIOD, PER_BURST, PER_OFFSET };

static const struct wl_param_desc periodic_params[] = {
    [PER_PERIOD] = { "period", WL_NS, 10000, 100000000000LL, 10000000, NULL,
                     "release interval" },
    [PER_BURST] = { "burst", WL_NS, 1000, 100000000000LL, 1000000, NULL,
                    "CPU time needed per release (deadline: the next release)" },
    [PER_OFFSET] = { "offset", WL_NS, 0, 100000000000LL, 0, NULL,
                     "time of the first release" },
    { 0 },
};

static void periodic_main(const struct wl_args *a)
{
    fv_ns_t period = a->v[PER_PERIOD];
    fv_ns_t release = a->v[PER_OFFSET];
    if (release > guest_now())
        guest_sleep_until(release);
    for (;;) {
        /* How late the burst starts after its release, as the guest sees
         * it (the hypervisor measures wake-to-run on its own). */
        guest_latency_sample(guest_now() - release);
        guest_compute(a->v[PER_BURST]);
        guest_work_units(1);
        fv_ns_t deadline = release + period;
        fv_ns_t now = guest_now();
        if (now > deadline)
            guest_deadline_miss();
        /* Releases that passed while this one ran are skipped, each a miss
         * of its own: a real-time task does not queue up stale work. */
        release = deadline;
        while (release + period <= now) {
            release += period;
            guest_deadline_miss();
        }
        if (release > now)
            guest_sleep_until(release);
    }
}

/* ---- cpu-bursty: on/off spans drawn from seeded distributions ------------ */

enum { BUR_ON, BUR_OFF, BUR_DIST };

static const char *const bursty_dists[] = { "exponential", "uniform", "fixed", NULL };

static const struct wl_param_desc bursty_params[] = {
    [BUR_ON] = { "on", WL_NS, 1000, 100000000000LL, 5000000, NULL, "mean CPU burst" },
    [BUR_OFF] = { "off", WL_NS, 0, 100000000000LL, 20000000, NULL, "mean sleep between bursts" },
    [BUR_DIST] = { "dist", WL_ENUM, 0, 2, 0, bursty_dists,
                   "exponential | uniform (0..2 x mean) | fixed" },
    { 0 },
};

static fv_ns_t bursty_draw(struct guest_rng *r, int dist, fv_ns_t mean)
{
    switch (dist) {
    case 0:
        return grand_exp(r, mean);
    case 1:
        return grand_range(r, 0, 2 * mean);
    default:
        return mean;
    }
}

static void bursty_main(const struct wl_args *a)
{
    struct guest_rng rng;
    grand_seed(&rng, guest_seed() ^ (uint64_t)guest_vcpuid() * 0x9e3779b97f4a7c15ULL);
    int dist = (int)a->v[BUR_DIST];
    for (;;) {
        guest_compute(bursty_draw(&rng, dist, a->v[BUR_ON]));
        guest_work_units(1);
        fv_ns_t off = bursty_draw(&rng, dist, a->v[BUR_OFF]);
        if (off > 0)
            guest_sleep_until(guest_now() + off);
    }
}

/* ---- cpu-spin: the hostile hog that never calls the hypervisor ---------- */

/* Work the compiler cannot drop or hoist: an LCG step on a volatile. */
static void spin_step(volatile uint64_t *x)
{
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
}

static void spin_main(const struct wl_args *a)
{
    (void)a;
    volatile uint64_t x = 1;
    /* Virtual time only advances through the hypervisor, so under the sim
     * engine the spinner is modelled as computing forever. */
    if (guest_time_is_virtual())
        for (;;)
            guest_compute(FV_SEC(1));
    for (;;)
        spin_step(&x);
}

/* ---- idle ----------------------------------------------------------------- */

static void idle_main(const struct wl_args *a)
{
    (void)a;
    for (;;)
        guest_block();
}

const struct workload_desc workload_cpu_hog = {
    "cpu-hog", "computes forever, one work unit per chunk", hog_params, hog_main,
};
const struct workload_desc workload_cpu_periodic = {
    "cpu-periodic", "the latency probe: burst of CPU every period; deadline = next release",
    periodic_params, periodic_main,
};
const struct workload_desc workload_cpu_bursty = {
    "cpu-bursty", "on/off CPU spans drawn from a seeded distribution", bursty_params, bursty_main,
};
const struct workload_desc workload_cpu_spin = {
    "cpu-spin", "loops forever without ever calling the hypervisor (only preemption stops it)",
    NULL, spin_main,
};
const struct workload_desc workload_idle = {
    "idle", "blocks forever", NULL, idle_main,
};
