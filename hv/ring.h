/* ring.h — Xen's split-driver shared ring (public/io/ring.h), header-only.
 *
 * One 4 KiB page shared by a frontend (the guest's driver: produces
 * requests, consumes responses) and a backend (consumes requests, produces
 * responses). The page holds a 64-byte header (req_prod, req_event,
 * rsp_prod, rsp_event, padding) and then FV_RING_SIZE slots, each a union
 * of one request and one response: the largest power of two that fits. A
 * request's slot is reused for its response. Indices are free-running
 * uint32_t (masked on access, wrapping at 2^32); each side keeps its
 * private indices beside its pointer to the page:
 *     front: req_prod_pvt (next request to write), rsp_cons (next response)
 *     back:  rsp_prod_pvt (next response to write), req_cons (next request)
 *
 *   FV_RING_DEFINE(blk, struct blk_req, struct blk_rsp);
 *   // union blk_sring_entry, struct blk_sring, blk_front, blk_back, blk_RING_SIZE
 *
 * Event suppression as in Xen: a producer publishes a batch with
 * PUSH_*_AND_CHECK_NOTIFY, which says whether the peer asked to be told
 * (its event index lies in the batch just published); a consumer that runs
 * dry calls FINAL_CHECK_FOR_*, which sets its event index to "the next
 * one" and looks again, and only then waits for a notification.
 *
 * The backend does not trust the frontend: it reads req_prod once
 * (FV_RING_REQ_PROD), treats a producer more than a ring ahead as a broken
 * ring (FV_RING_REQUEST_PROD_OVERFLOW: disconnect), bounds its work with
 * FV_RING_UNCONSUMED_REQUESTS and copies each request out of the shared
 * slot before looking at it (FV_RING_COPY_REQUEST: XSA-155, no double fetch).
 *
 * Locking (ordering; the two sides run on different threads, no locks):
 *   - Shared indices are only read and written with __atomic builtins;
 *     slots are plain memory handed over by the indices.
 *   - A producer writes its slots, then publishes its index with a store
 *     that is (at least) a release; the consumer loads the index with an
 *     acquire (FV_RING_REQ_PROD, FV_RING_RSP_PROD, the loads in the final
 *     checks) before reading the slots. Release/acquire pairs: requests
 *     (front's push, back's REQ_PROD), responses (back's push, front's
 *     RSP_PROD). A slot goes back to the front only through rsp_prod, which
 *     the back publishes after its copy of the request, so the back's reads
 *     of a slot happen before the front writes the next request into it.
 *   - Notification is a store-buffering pattern: the producer stores its
 *     index and then reads the peer's event index; the consumer (final
 *     check) stores its event index and then reads the producer's index.
 *     Each needs a full barrier between its store and its load. Both are
 *     written as seq_cst atomics (the index store and the event load in
 *     PUSH_*_AND_CHECK_NOTIFY; the event store and the index load in
 *     FINAL_CHECK_*): in C11's single total order of seq_cst operations one
 *     of the two stores precedes the other side's load, so either the
 *     producer sees the new event index and notifies, or the consumer sees
 *     the new work; never neither (no lost wake-up). A seq_cst store is
 *     also the release the data needs (Xen's wmb before the store). On
 *     x86-64 it is an xchg, i.e. Xen's store + mb(); standalone fences are
 *     avoided because ThreadSanitizer does not model them.
 *   - Private indices belong to one thread each; nothing orders them.
 */
#ifndef FV_RING_H
#define FV_RING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FV_RING_PAGE_SIZE 4096u
#define FV_RING_HDR_SIZE 64u        /* slots start here */

/* Largest power of two <= n, for 1 <= n < 4096 (0 for 0): a constant. */
#define FV__RING_POW2_FLOOR(n)                                                                  \
    ((n) >= 2048 ? 2048 : (n) >= 1024 ? 1024 : (n) >= 512 ? 512 : (n) >= 256 ? 256             \
     : (n) >= 128 ? 128 : (n) >= 64 ? 64 : (n) >= 32 ? 32 : (n) >= 16 ? 16 : (n) >= 8 ? 8      \
     : (n) >= 4 ? 4 : (n) >= 2 ? 2 : (n) >= 1 ? 1 : 0)

#define FV_RING_DEFINE(name, req_type, rsp_type)                                               \
    union name##_sring_entry {                                                                 \
        req_type req;                                                                          \
        rsp_type rsp;                                                                          \
    };                                                                                         \
    enum {                                                                                     \
        name##_RING_SIZE = FV__RING_POW2_FLOOR((FV_RING_PAGE_SIZE - FV_RING_HDR_SIZE) /        \
                                               sizeof(union name##_sring_entry))               \
    };                                                                                         \
    struct name##_sring {                                                                      \
        uint32_t req_prod, req_event;                                                          \
        uint32_t rsp_prod, rsp_event;                                                          \
        uint8_t fv_pad[FV_RING_HDR_SIZE - 4 * sizeof(uint32_t)];                               \
        union name##_sring_entry ring[name##_RING_SIZE];                                       \
    };                                                                                         \
    struct name##_front {                                                                      \
        uint32_t req_prod_pvt, rsp_cons;                                                       \
        struct name##_sring *sring;                                                            \
    };                                                                                         \
    struct name##_back {                                                                       \
        uint32_t rsp_prod_pvt, req_cons;                                                       \
        struct name##_sring *sring;                                                            \
    };                                                                                         \
    _Static_assert(name##_RING_SIZE >= 1, #name ": an entry larger than a ring page");         \
    _Static_assert(offsetof(struct name##_sring, ring) == FV_RING_HDR_SIZE,                    \
                   #name ": slots must start at byte 64");                                     \
    _Static_assert(sizeof(struct name##_sring) <= FV_RING_PAGE_SIZE,                           \
                   #name ": the shared ring must fit in one page")

/* ---- set-up -------------------------------------------------------------- */

#define FV__RING_ST(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* Before the page is shared (both event indices 1: notify on the first). */
#define FV_SHARED_RING_INIT(s)                                                                 \
    do {                                                                                       \
        FV__RING_ST(&(s)->req_prod, 0);                                                        \
        FV__RING_ST(&(s)->rsp_prod, 0);                                                        \
        FV__RING_ST(&(s)->req_event, 1);                                                       \
        FV__RING_ST(&(s)->rsp_event, 1);                                                       \
        memset((s)->fv_pad, 0, sizeof((s)->fv_pad));                                           \
    } while (0)

/* Attach to a ring whose indices are all at i (INIT: i = 0). */
#define FV_FRONT_RING_ATTACH(f, s, i)                                                          \
    do {                                                                                       \
        (f)->req_prod_pvt = (i);                                                               \
        (f)->rsp_cons = (i);                                                                   \
        (f)->sring = (s);                                                                      \
    } while (0)
#define FV_BACK_RING_ATTACH(b, s, i)                                                           \
    do {                                                                                       \
        (b)->rsp_prod_pvt = (i);                                                               \
        (b)->req_cons = (i);                                                                   \
        (b)->sring = (s);                                                                      \
    } while (0)
#define FV_FRONT_RING_INIT(f, s) FV_FRONT_RING_ATTACH(f, s, 0u)
#define FV_BACK_RING_INIT(b, s) FV_BACK_RING_ATTACH(b, s, 0u)

/* ---- slots --------------------------------------------------------------- */

/* Slots in the ring of front or back r (a constant of its type). */
#define FV_RING_SIZE(r) ((uint32_t)(sizeof((r)->sring->ring) / sizeof((r)->sring->ring[0])))
#define FV__RING_SLOT(r, idx) (&(r)->sring->ring[(uint32_t)(idx) & (FV_RING_SIZE(r) - 1)])
#define FV_RING_GET_REQUEST(r, idx) (&FV__RING_SLOT(r, idx)->req)
#define FV_RING_GET_RESPONSE(r, idx) (&FV__RING_SLOT(r, idx)->rsp)

#define FV_RING_COMPILER_BARRIER() __asm__ __volatile__("" ::: "memory")

/* Copy slot idx's request into *dst (private memory) exactly once: the
 * barrier stops the compiler from re-reading the shared slot later in
 * place of dst, which a frontend could have rewritten in between. */
#define FV_RING_COPY_REQUEST(b, idx, dst)                                                      \
    do {                                                                                       \
        _Static_assert(sizeof(*(dst)) == sizeof(*FV_RING_GET_REQUEST(b, 0)),                   \
                       "COPY_REQUEST: dst is not a request");                                  \
        memcpy((dst), FV_RING_GET_REQUEST(b, idx), sizeof(*(dst)));                            \
        FV_RING_COMPILER_BARRIER();                                                            \
    } while (0)
#define FV_RING_COPY_RESPONSE(f, idx, dst)                                                     \
    do {                                                                                       \
        _Static_assert(sizeof(*(dst)) == sizeof(*FV_RING_GET_RESPONSE(f, 0)),                  \
                       "COPY_RESPONSE: dst is not a response");                                \
        memcpy((dst), FV_RING_GET_RESPONSE(f, idx), sizeof(*(dst)));                           \
        FV_RING_COMPILER_BARRIER();                                                            \
    } while (0)

/* ---- the front's view ------------------------------------------------------ */

/* Slots the front may still fill (it trusts the back: rsp_cons <= req_prod_pvt). */
#define FV_RING_FREE_REQUESTS(f) (FV_RING_SIZE(f) - ((f)->req_prod_pvt - (f)->rsp_cons))
#define FV_RING_FULL(f) (FV_RING_FREE_REQUESTS(f) == 0)
/* The back's rsp_prod, read once (acquire: the responses before it). */
#define FV_RING_RSP_PROD(f) __atomic_load_n(&(f)->sring->rsp_prod, __ATOMIC_ACQUIRE)
/* Responses published and not consumed yet (a count). */
#define FV_RING_HAS_UNCONSUMED_RESPONSES(f) ((uint32_t)(FV_RING_RSP_PROD(f) - (f)->rsp_cons))

/* ---- the back's view ------------------------------------------------------- */

/* The front's req_prod, read once (acquire: the requests before it). Use the
 * value for both the overflow check and the loop bound:
 *     uint32_t prod = FV_RING_REQ_PROD(b);
 *     if (FV_RING_REQUEST_PROD_OVERFLOW(b, prod)) -> disconnect
 *     while (b->req_cons != prod && !FV_RING_REQUEST_CONS_OVERFLOW(b, b->req_cons)) ...
 */
#define FV_RING_REQ_PROD(b) __atomic_load_n(&(b)->sring->req_prod, __ATOMIC_ACQUIRE)
/* A producer more than a ring ahead of req_cons: a broken (or hostile) front. */
#define FV_RING_REQUEST_PROD_OVERFLOW(b, prod) ((uint32_t)((prod) - (b)->req_cons) > FV_RING_SIZE(b))
/* Consuming request cons would leave no slot for its response. */
#define FV_RING_REQUEST_CONS_OVERFLOW(b, cons)                                                 \
    ((uint32_t)((cons) - (b)->rsp_prod_pvt) >= FV_RING_SIZE(b))

static inline uint32_t fv_ring_unconsumed(uint32_t prod, uint32_t cons, uint32_t rsp_prod_pvt,
                                          uint32_t size)
{
    uint32_t req = prod - cons;                     /* what the front claims */
    uint32_t rsp = size - (cons - rsp_prod_pvt);    /* slots the back can answer in */
    return req < rsp ? req : rsp;
}

/* Requests the back may consume, given a req_prod it read once. */
#define FV_RING_UNCONSUMED_REQUESTS_AT(b, prod)                                                \
    fv_ring_unconsumed((prod), (b)->req_cons, (b)->rsp_prod_pvt, FV_RING_SIZE(b))
#define FV_RING_UNCONSUMED_REQUESTS(b) FV_RING_UNCONSUMED_REQUESTS_AT(b, FV_RING_REQ_PROD(b))
#define FV_RING_HAS_UNCONSUMED_REQUESTS(b) (FV_RING_UNCONSUMED_REQUESTS(b) != 0)

/* ---- publishing and notification ----------------------------------------- */

/* Publish without deciding about a notification (release). */
#define FV_RING_PUSH_REQUESTS(f)                                                               \
    __atomic_store_n(&(f)->sring->req_prod, (f)->req_prod_pvt, __ATOMIC_RELEASE)
#define FV_RING_PUSH_RESPONSES(b)                                                              \
    __atomic_store_n(&(b)->sring->rsp_prod, (b)->rsp_prod_pvt, __ATOMIC_RELEASE)

/* Publish prod_pvt as the shared producer index; notify = whether the
 * peer's event index lies in (old, new]. The seq_cst store and load are the
 * write barrier, the publication and the full barrier (see Locking). */
#define FV__RING_PUSH_AND_CHECK(prodp, eventp, new_prod, notify)                               \
    do {                                                                                       \
        uint32_t fv_old_ = __atomic_load_n((prodp), __ATOMIC_RELAXED);                         \
        uint32_t fv_new_ = (new_prod);                                                         \
        __atomic_store_n((prodp), fv_new_, __ATOMIC_SEQ_CST);                                  \
        uint32_t fv_ev_ = __atomic_load_n((eventp), __ATOMIC_SEQ_CST);                         \
        (notify) = (uint32_t)(fv_new_ - fv_ev_) < (uint32_t)(fv_new_ - fv_old_);               \
    } while (0)
#define FV_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(f, notify)                                      \
    FV__RING_PUSH_AND_CHECK(&(f)->sring->req_prod, &(f)->sring->req_event, (f)->req_prod_pvt,  \
                            notify)
#define FV_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(b, notify)                                     \
    FV__RING_PUSH_AND_CHECK(&(b)->sring->rsp_prod, &(b)->sring->rsp_event, (b)->rsp_prod_pvt,  \
                            notify)

/* Before waiting for a notification: work = requests pending; if none, ask
 * to be notified of the next one (req_event = req_cons + 1) and look again
 * (seq_cst event store, then seq_cst index load: see Locking). */
#define FV_RING_FINAL_CHECK_FOR_REQUESTS(b, work)                                              \
    do {                                                                                       \
        (work) = FV_RING_UNCONSUMED_REQUESTS(b);                                               \
        if (work)                                                                              \
            break;                                                                             \
        __atomic_store_n(&(b)->sring->req_event, (b)->req_cons + 1, __ATOMIC_SEQ_CST);         \
        (work) = FV_RING_UNCONSUMED_REQUESTS_AT(                                               \
            b, __atomic_load_n(&(b)->sring->req_prod, __ATOMIC_SEQ_CST));                      \
    } while (0)
#define FV_RING_FINAL_CHECK_FOR_RESPONSES(f, work)                                             \
    do {                                                                                       \
        (work) = FV_RING_HAS_UNCONSUMED_RESPONSES(f);                                          \
        if (work)                                                                              \
            break;                                                                             \
        __atomic_store_n(&(f)->sring->rsp_event, (f)->rsp_cons + 1, __ATOMIC_SEQ_CST);         \
        (work) = (uint32_t)(__atomic_load_n(&(f)->sring->rsp_prod, __ATOMIC_SEQ_CST) -         \
                            (f)->rsp_cons);                                                    \
    } while (0)

#endif
