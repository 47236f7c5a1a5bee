/* SKELETON — being written; replaced by the real policy. */
#include "sched.h"
static int sk_init(struct scheduler *s) { (void)s; return 0; }
static void sk_deinit(struct scheduler *s) { (void)s; }
static int sk_alloc_udata(struct scheduler *s, struct sched_unit *u) { (void)s; (void)u; return 0; }
static void sk_free_udata(struct scheduler *s, struct sched_unit *u) { (void)s; (void)u; }
static struct sched_decision sk_do_schedule(struct scheduler *s, int cpu, fv_ns_t now)
{ (void)s; (void)cpu; (void)now; return (struct sched_decision){ NULL, -1 }; }
static int sk_pick_pcpu(struct scheduler *s, struct sched_unit *u) { (void)s; return u->cpu; }
const struct sched_ops sched_null_ops = {
    .name = "null", .init = sk_init, .deinit = sk_deinit, .alloc_udata = sk_alloc_udata,
    .free_udata = sk_free_udata, .do_schedule = sk_do_schedule, .pick_pcpu = sk_pick_pcpu,
};
