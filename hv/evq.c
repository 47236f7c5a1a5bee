/* evq.c — see evq.h. */
#include "evq.h"

#include <errno.h>
#include <stdlib.h>

static inline int before(const struct sched_timer *a, const struct sched_timer *b)
{
    return a->expires < b->expires || (a->expires == b->expires && a->seq < b->seq);
}

static inline void place(struct evq *q, int64_t i, struct sched_timer *t)
{
    q->heap[i] = t;
    t->heap_idx = i;
}

static void sift_up(struct evq *q, int64_t i)
{
    struct sched_timer *t = q->heap[i];
    while (i > 0) {
        int64_t parent = (i - 1) / 2;
        if (!before(t, q->heap[parent]))
            break;
        place(q, i, q->heap[parent]);
        i = parent;
    }
    place(q, i, t);
}

static void sift_down(struct evq *q, int64_t i)
{
    struct sched_timer *t = q->heap[i];
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= q->len)
            break;
        if (c + 1 < q->len && before(q->heap[c + 1], q->heap[c]))
            c++;
        if (!before(q->heap[c], t))
            break;
        place(q, i, q->heap[c]);
        i = c;
    }
    place(q, i, t);
}

int evq_init(struct evq *q)
{
    q->len = 0;
    q->cap = 64;
    q->next_seq = 0;
    q->heap = malloc((size_t)q->cap * sizeof(*q->heap));
    return q->heap ? 0 : -ENOMEM;
}

void evq_fini(struct evq *q)
{
    /* The timers are not touched: their owners may already be gone. */
    free(q->heap);
    q->heap = NULL;
    q->len = q->cap = 0;
}

void evq_cancel(struct evq *q, struct sched_timer *t)
{
    int64_t i = t->heap_idx;
    if (i < 0)
        return;
    t->heap_idx = -1;
    struct sched_timer *last = q->heap[--q->len];
    if (i == q->len)
        return;
    place(q, i, last);
    if (i > 0 && before(last, q->heap[(i - 1) / 2]))
        sift_up(q, i);
    else
        sift_down(q, i);
}

int evq_push(struct evq *q, struct sched_timer *t, fv_ns_t when)
{
    evq_cancel(q, t);
    if (q->len == q->cap) {
        struct sched_timer **h = realloc(q->heap, (size_t)q->cap * 2 * sizeof(*h));
        if (!h)
            return -ENOMEM;
        q->heap = h;
        q->cap *= 2;
    }
    t->expires = when;
    t->seq = q->next_seq++;
    place(q, q->len++, t);
    sift_up(q, q->len - 1);
    return 0;
}

struct sched_timer *evq_pop(struct evq *q)
{
    if (!q->len)
        return NULL;
    struct sched_timer *t = q->heap[0];
    evq_cancel(q, t);
    return t;
}
