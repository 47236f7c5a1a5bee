/* engine.h — running a loaded scenario on an engine (DESIGN §4).
 *   sim:  virtual time, one event queue, deterministic for a seed.
 *   real: pCPU threads on host CPUs (a later issue).
 */
#ifndef FV_ENGINE_H
#define FV_ENGINE_H

#include <signal.h>
#include <stddef.h>

#include "run.h"
#include "scenario.h"

struct engine_opts {
    struct timeline_sink sink;              /* timeline rows as they come */
    volatile sig_atomic_t *stop;            /* set (e.g. by SIGINT) to end early */
};

/* Run `scn` on the engine it names. Fills `out` (free with
 * run_result_free). Returns 0 (also when stopped early: out->complete is
 * false), -EINVAL/-ENOSYS with a message in err for a scenario this build
 * cannot run, or another -errno. */
int engine_run(const struct scenario *scn, const struct engine_opts *o,
               struct run_result *out, char *err, size_t errlen);

int sim_run(const struct scenario *scn, const struct engine_opts *o,
            struct run_result *out, char *err, size_t errlen);

#endif
