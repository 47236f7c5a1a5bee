/* qos.c — DRR and the credit rate limit; the rules are in qos.h. */
#include "qos.h"

uint32_t nb_drr_quantum(uint32_t weight)
{
    uint64_t q = (uint64_t)NB_DRR_FRAME * weight / NB_DRR_WEIGHT_UNIT;
    return q ? (uint32_t)q : 1;
}

void nb_drr_init(struct nb_drr *d, uint32_t weight)
{
    d->quantum = nb_drr_quantum(weight);
    d->deficit = 0;
}

void nb_drr_turn(struct nb_drr *d) { d->deficit += d->quantum; }

bool nb_drr_take(struct nb_drr *d, uint32_t size)
{
    if (size > d->deficit)
        return false;
    d->deficit -= size;
    return true;
}

void nb_drr_idle(struct nb_drr *d) { d->deficit = 0; }

uint64_t nb_drr_turns_needed(const struct nb_drr *d, uint32_t size)
{
    if (size <= d->deficit + d->quantum)
        return 1;
    return (size - d->deficit + d->quantum - 1) / d->quantum;
}

/* ---- credit ---------------------------------------------------------------------- */

void nb_credit_init(struct nb_credit *c, uint64_t bytes, fv_ns_t interval, fv_ns_t now)
{
    *c = (struct nb_credit){ .bytes = bytes, .interval = interval, .remaining = bytes,
                             .window_start = now };
}

uint64_t nb_credit_max_burst(const struct nb_credit *c)
{
    return c->bytes > NB_CREDIT_BURST_FLOOR ? c->bytes : NB_CREDIT_BURST_FLOOR;
}

/* tx_add_credit: one window's credit, up to the burst cap (a sum that would
 * wrap is the cap too). */
static void add_credit(struct nb_credit *c)
{
    uint64_t max = nb_credit_max_burst(c), sum = c->remaining + c->bytes;
    if (sum < c->remaining || sum > max)
        sum = max;
    c->remaining = sum;
}

bool nb_credit_stalled(struct nb_credit *c, fv_ns_t now, fv_ns_t *due)
{
    if (!c->timer_armed)
        return false;
    if (now >= c->timer) {
        c->timer_armed = false;
        add_credit(c);
        return false;
    }
    *due = c->timer;
    return true;
}

bool nb_credit_take(struct nb_credit *c, uint32_t size, fv_ns_t now, fv_ns_t *due)
{
    if (!c->bytes)
        return true;
    if (nb_credit_stalled(c, now, due)) {
        if (size > c->remaining)
            return false;
    } else if (size > c->remaining) {
        fv_ns_t next = c->window_start + c->interval;
        if (now >= next) {
            c->window_start = now;
            add_credit(c);
        }
        if (size > c->remaining) {
            c->timer_armed = true;
            c->timer = next > now ? next : now + 1;
            c->window_start = next;
            *due = c->timer;
            return false;
        }
    }
    c->remaining -= size;
    return true;
}
