/* live_priv.h — what live.c and live_parse.c share: the host's state. */
#ifndef FV_LIVE_PRIV_H
#define FV_LIVE_PRIV_H

#include <pthread.h>
#include <stdlib.h>

#include "live.h"
#include "real_priv.h"
#include "scenario.h"

struct live {
    struct real rl;                     /* the engine (rl.lock guards its state) */
    struct scenario *scn;               /* grown in place: scn->domains has room for max */
    int max_domains;
    pthread_mutex_t mu;                 /* one management call at a time */
    volatile sig_atomic_t stop;
    /* events: a ring under ev_mu, waited for on ev_cv */
    pthread_mutex_t ev_mu;
    pthread_cond_t ev_cv;
    struct live_event *ring;            /* [LIVE_EVENT_RING] */
    uint64_t seq;                       /* the last event's */
};

/* (rl.lock or mu held, or a reader that tolerates a stale answer) Is
 * domain index d alive: created and neither dying nor destroyed? */
static inline bool live_alive(const struct live *l, int d)
{
    const struct real_dstate *ds = &l->rl.ds[d];
    return d < l->scn->nr_domains && !ds->dying && !ds->dead;
}

/* live_body.c: where each domain entry of a create request's body is: the
 * whole body (a mapping, or text the loader will refuse, *n = 1), or each
 * item of a sequence (YAML or JSON). 0, -E2BIG (more than max items),
 * -ENODATA (an empty sequence), -ENOMEM. */
struct live_item {
    size_t off, len;                    /* its text in the body */
    int line, col;                      /* where it starts (1-based) */
};
int live_body_items(const char *text, size_t len, struct live_item *items, int max, int *n);

/* Free parsed domains nd[from..to)'s device arrays (not the host's yet). */
static inline void live_free_devices(struct scn_domain *nd, int from, int to)
{
    for (int i = from; i < to; i++) {
        free(nd[i].vifs);
        free(nd[i].vbds);
    }
}

/* live_parse.c: read the domain entries of a body (see live_create) into
 * out[0..*n), at most max, with their peers as the host's ids (the i-th
 * will be index scn->nr_domains + i); the caller gives them their indexes
 * and ids. Each out[i]'s vifs and vbds are its own (malloc'd). */
int live_parse_domains(const struct live *l, const char *file, const char *text, size_t len,
                       struct scn_domain *out, int max, int *n, char *err, size_t errlen);

#endif
