/* evq.h — the sim engine's event queue: a binary min-heap of timers ordered
 * by (expires, seq). seq is the arming order, so timers due at the same
 * virtual instant fire in the order they were armed: runs are deterministic.
 * Timers are struct sched_timer (the policy timer type), so policy timers
 * and the engine's own events share one queue; each knows its heap index,
 * which makes cancel and re-arm O(log n). Written here because no Debian C
 * library offers an intrusive heap with stable, cancellable handles. */
#ifndef FV_EVQ_H
#define FV_EVQ_H

#include <stdint.h>

#include "../sched/sched.h"

struct evq {
    struct sched_timer **heap;
    int64_t len, cap;
    uint64_t next_seq;
};

int evq_init(struct evq *q);
/* Free the queue. Armed timers are left as they are (not written). */
void evq_fini(struct evq *q);
/* Arm (or re-arm) t at `when`. Returns 0 or -ENOMEM. */
int evq_push(struct evq *q, struct sched_timer *t, fv_ns_t when);
/* Disarm t if armed. */
void evq_cancel(struct evq *q, struct sched_timer *t);

static inline struct sched_timer *evq_peek(const struct evq *q)
{
    return q->len ? q->heap[0] : NULL;
}

/* Remove and return the earliest timer (disarmed), or NULL. */
struct sched_timer *evq_pop(struct evq *q);

#endif
