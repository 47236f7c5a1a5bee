/* live_priv.h — what live.c and live_parse.c share: the host's state. */
#ifndef FV_LIVE_PRIV_H
#define FV_LIVE_PRIV_H

#include <pthread.h>

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

/* live_parse.c: read one domain entry (see live_create) into *out, with
 * its peers as the host's ids; the caller gives it its index and id. */
int live_parse_domain(const struct live *l, const char *file, const char *text, size_t len,
                      struct scn_domain *out, char *err, size_t errlen);

#endif
