/* test_blkback_service.c — what blkback promises a good guest, white-box:
 * barrier ordering, flushes, the queue depth, the virtual-time model's due
 * times and CPU, connecting while a pass runs, real time on memory and on
 * image files. Hostile guests are tests/test_blkback.c; the fixture is
 * tests/blkback_tests.h. */
#include "tests/blkback_tests.h"

/* ---- ordering: barriers and flushes ----------------------------------------------- */

/* W (sector 0, 2 pages), BARRIER (sector 0, 1 page), R (sector 0), posted
 * together. The barrier starts only once W is answered (then its write and
 * a flush); R is not taken until the barrier is answered (rewriting it
 * meanwhile still counts: 3 pages), and reads the barrier's page over W's
 * first. */
static void test_write_barrier_ordering(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[A];
    uint64_t answered = bbf_stats(f, A)->latency.count;
    fv_ns_t t0 = f->now + FV_MS(1);
    f->now = t0;
    bbf_fill(bbf_data(g, 0), 3 * BBF_PAGE, 1);
    uint64_t w = bbf_post(g, BLKIF_OP_WRITE, 0, 2, 0)->id;
    uint64_t b = bbf_post(g, BLKIF_OP_WRITE_BARRIER, 0, 1, 2)->id;
    struct blkif_request *rr = bbf_post(g, BLKIF_OP_READ, 0, 2, 4);
    uint64_t r = rr->id;
    bbf_push(f, A);
    bbf_pass(f);
    fv_ns_t t_w = t0 + LAT + 2 * PAGE_NS;
    assert_int_equal(f->due, t_w);
    rr->nr_segments = 3;
    rr->seg[2] = (struct blkif_request_segment){ .gref = (uint32_t)g->data_ref[6], .last_sect = 7 };
    struct blkif_response rsp;
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    f->now = t_w - 1;
    bbf_pass(f);
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    assert_int_equal(f->due, t_w);
    /* W answered; the barrier starts now, alone. */
    f->now = t_w;
    bbf_pass(f);
    take_rsp(g, w, BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    fv_ns_t t_b = t_w + LAT + PAGE_NS;
    assert_int_equal(f->due, t_b);
    f->now = t_b - 1;
    bbf_pass(f);
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    f->now = t_b;
    bbf_pass(f);
    take_rsp(g, b, BLKIF_OP_WRITE_BARRIER, BLKIF_RSP_OKAY);
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    fv_ns_t t_r = t_b + LAT + 3 * PAGE_NS;
    assert_int_equal(f->due, t_r);
    f->now = t_r;
    bbf_pass(f);
    take_rsp(g, r, BLKIF_OP_READ, BLKIF_RSP_OKAY);
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    assert_int_equal(f->due, 0);
    memcpy(g->disk, bbf_data(g, 2), BBF_PAGE);
    memcpy(g->disk + BBF_PAGE, bbf_data(g, 1), BBF_PAGE);
    assert_memory_equal(bbf_data(g, 4), g->disk, 3 * BBF_PAGE);
    const struct blkback_vbd_stats *s = bbf_stats(f, A);
    assert_int_equal(s->errors, 0);
    assert_int_equal(s->flushes, 0);    /* a barrier counts as a write */
    assert_int_equal(s->latency.count, answered + 3);
    assert_int_equal(bbf_disk_ok(f, A), 0);
    assert_others_ok(f);
}

/* A barrier posted after reads in service waits for them; one with no
 * segments is a pure ordering point (and a flush). */
static void test_barrier_without_data(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[A];
    const struct blkback_vbd_stats *s = bbf_stats(f, A);
    uint64_t writes = s->writes, wbytes = s->write_bytes;
    fv_ns_t t0 = f->now + FV_MS(1);
    f->now = t0;
    uint64_t r1 = bbf_post(g, BLKIF_OP_READ, 0, 1, 0)->id;
    struct blkif_request *b = bbf_post(g, BLKIF_OP_WRITE_BARRIER, 0, 1, 2);
    b->nr_segments = 0;
    uint64_t bid = b->id;
    bbf_push(f, A);
    bbf_pass(f);
    fv_ns_t t1 = t0 + LAT + PAGE_NS;
    assert_int_equal(f->due, t1);
    f->now = t1;
    bbf_pass(f);
    take_rsp(g, r1, BLKIF_OP_READ, BLKIF_RSP_OKAY);
    assert_int_equal(f->due, t1 + LAT);
    f->now = t1 + LAT;
    bbf_pass(f);
    take_rsp(g, bid, BLKIF_OP_WRITE_BARRIER, BLKIF_RSP_OKAY);
    assert_int_equal(f->due, 0);
    assert_int_equal(s->writes, writes + 1);
    assert_int_equal(s->write_bytes, wbytes);
    assert_others_ok(f);
}

static void test_flush(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[A];
    fv_ns_t t0 = f->now + FV_MS(1);
    f->now = t0;
    struct blkif_request *r = bbf_post(g, BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0);
    uint64_t id = r->id;
    bbf_push(f, A);
    bbf_pass(f);
    assert_int_equal(f->due, t0 + LAT);
    assert_int_equal(f->cost, COST_REQ);
    f->now = f->due;
    bbf_pass(f);
    take_rsp(g, id, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_RSP_OKAY);
    const struct blkback_vbd_stats *s = bbf_stats(f, A);
    assert_int_equal(s->flushes, 1);
    assert_int_equal(s->errors, 0);
    /* A flush names no data: one with segments is refused. */
    expect(f, evil_post(f, BLKIF_OP_FLUSH_DISKCACHE, 0, 1), BLKIF_RSP_ERROR);
    assert_int_equal(bbf_stats(f, EVIL)->flushes, 0);
    assert_int_equal(bbf_do(f, EVIL, BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0), BLKIF_RSP_OKAY);
    assert_int_equal(bbf_stats(f, EVIL)->flushes, 1);
}

/* ---- the queue depth ------------------------------------------------------------- */

/* qdepth 4: ten reads posted at once; four are taken, the rest wait on the
 * ring (rewriting one of them still counts), and each answer lets one more in. */
static void test_qdepth_respected(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[A];
    fv_ns_t t0 = f->now + FV_MS(1);
    f->now = t0;
    struct blkif_request *req[10];
    uint64_t id[10];
    for (int k = 0; k < 10; k++) {
        req[k] = bbf_post(g, BLKIF_OP_READ, 8 * (uint64_t)k, 1, k);
        id[k] = req[k]->id;
    }
    bbf_push(f, A);
    bbf_pass(f);
    struct blkif_response rsp;
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    fv_ns_t step = LAT + PAGE_NS;
    assert_int_equal(f->due, t0 + step);
    /* Requests 4..9 are still the guest's: the last becomes unsupported. */
    req[9]->operation = 200;
    for (int k = 0; k < 4; k++)                 /* the four in service stay served */
        req[k]->sector_number = UINT64_MAX;
    /* Each due time answers one and starts one: serial service, one at a time. */
    for (int k = 0; k < 9; k++) {
        f->now = t0 + step * (k + 1);
        bbf_pass(f);
        take_rsp(g, id[k], BLKIF_OP_READ, BLKIF_RSP_OKAY);
        if (k < 5) {
            assert_int_equal(bbf_rsp(g, &rsp), 0);
        } else if (k == 5) {
            /* The slot 5 left took 9, refused at once (no slot needed). */
            take_rsp(g, id[9], 200, BLKIF_RSP_EOPNOTSUPP);
        }
        assert_int_equal(f->due, k < 8 ? t0 + step * (k + 2) : 0);
        assert_memory_equal(bbf_data(g, k), g->disk + (size_t)k * BBF_PAGE, BBF_PAGE);
    }
    assert_int_equal(bbf_stats(f, A)->reads, 9);
    assert_int_equal(bbf_stats(f, A)->unsupported, 1);
    assert_others_ok(f);
}

/* ---- the virtual-time model -------------------------------------------------------- */

/* due = max(now, the vbd's previous due) + latency + bytes / bandwidth;
 * *next_due is the earliest; blkback's CPU is exactly the model. */
static void test_virtual_time_due_and_cost(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[A];
    const struct blkback_vbd_stats *s = bbf_stats(f, A);
    fv_ns_t ns0 = s->backend_ns;
    uint64_t lat0 = s->latency.count;
    fv_ns_t t0 = f->now + FV_MS(1);
    f->now = t0;
    uint64_t id[3];
    for (int k = 0; k < 3; k++) {
        bbf_fill(bbf_data(g, 2 * k), 2 * BBF_PAGE, 70u + (uint32_t)k);
        id[k] = bbf_post(g, BLKIF_OP_WRITE, 8 * (uint64_t)k, k + 1, 2 * k)->id;
    }
    bbf_push(f, A);
    bbf_pass(f);
    fv_ns_t d1 = t0 + LAT + 1 * PAGE_NS, d2 = d1 + LAT + 2 * PAGE_NS, d3 = d2 + LAT + 3 * PAGE_NS;
    assert_int_equal(f->due, d1);
    /* 3 requests, 6 pages copied out: 24 KiB. */
    assert_int_equal(f->cost, 3 * COST_REQ + 24 * COST_KIB);
    assert_int_equal(s->backend_ns - ns0, 3 * COST_REQ + 24 * COST_KIB);
    struct blkif_response rsp;
    f->now = d1 - 1;
    bbf_pass(f);
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    assert_int_equal(f->due, d1);
    assert_int_equal(f->cost, 0);
    f->now = d2;                        /* late: both answered in this pass */
    bbf_pass(f);
    take_rsp(g, id[0], BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
    take_rsp(g, id[1], BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
    assert_int_equal(bbf_rsp(g, &rsp), 0);
    assert_int_equal(f->due, d3);
    assert_int_equal(f->cost, 0);       /* writes copy nothing back */
    f->now = d3;
    bbf_pass(f);
    take_rsp(g, id[2], BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
    assert_int_equal(f->due, 0);
    assert_int_equal(s->latency.count - lat0, 3);
    assert_int_equal(s->latency.max, (uint64_t)(d3 - t0));
    /* Idle since d3: a read at t4 starts at t4, and its copy back is charged
     * when it is answered. */
    fv_ns_t t4 = d3 + 5000000;
    f->now = t4;
    uint64_t rid = bbf_post(g, BLKIF_OP_READ, 0, 2, 8)->id;
    bbf_push(f, A);
    bbf_pass(f);
    assert_int_equal(f->cost, COST_REQ);
    fv_ns_t d4 = t4 + LAT + 2 * PAGE_NS;
    assert_int_equal(f->due, d4);
    f->now = d4;
    bbf_pass(f);
    take_rsp(g, rid, BLKIF_OP_READ, BLKIF_RSP_OKAY);
    assert_int_equal(f->cost, 8 * COST_KIB);
    assert_int_equal(s->backend_ns - ns0, 4 * COST_REQ + 32 * COST_KIB);
    /* What was written is there. */
    memcpy(g->disk, bbf_data(g, 0), BBF_PAGE);
    memcpy(g->disk + 8 * 512, bbf_data(g, 2), 2 * BBF_PAGE);
    memcpy(g->disk + 16 * 512, bbf_data(g, 4), 3 * BBF_PAGE);
    assert_int_equal(bbf_disk_ok(f, A), 0);
    assert_others_ok(f);
}

/* The vbds share one disk (of one unit here, the fixture's default): B's
 * read, taken after A's in the same pass, starts once A's is done (FIFO,
 * blkback.fairness none). */
static void test_virtual_time_shared_disk(void **st)
{
    struct bbf *f = *st;
    fv_ns_t t0 = f->now + FV_MS(1);
    f->now = t0;
    uint64_t ia = bbf_post(&f->g[A], BLKIF_OP_READ, 0, 4, 0)->id;
    uint64_t ib = bbf_post(&f->g[B], BLKIF_OP_READ, 0, 1, 0)->id;
    bbf_push(f, A);
    bbf_push(f, B);
    bbf_pass(f);
    fv_ns_t da = t0 + LAT + 4 * PAGE_NS;
    assert_int_equal(f->due, da);
    f->now = f->due;
    bbf_pass(f);
    take_rsp(&f->g[A], ia, BLKIF_OP_READ, BLKIF_RSP_OKAY);
    assert_int_equal(f->due, da + LAT + PAGE_NS);
    f->now = f->due;
    bbf_pass(f);
    take_rsp(&f->g[B], ib, BLKIF_OP_READ, BLKIF_RSP_OKAY);
    assert_int_equal(f->due, 0);
}

/* ---- connecting ------------------------------------------------------------------- */

static void test_connect_errors(void **st)
{
    struct bbf *f = *st;
    struct bbf_guest *g = &f->g[EVIL];
    assert_int_equal(blkback_connect(f->bb, g->d, 1, 0, g->port), -ENODEV);
    assert_int_equal(blkback_connect(f->bb, g->d, -1, 0, g->port), -ENODEV);
    assert_int_equal(blkback_connect(f->bb, 3, 0, 0, g->port), -ENODEV);    /* Domain-0 */
    assert_int_equal(blkback_connect(f->bb, 4, 0, 0, g->port), -ENODEV);
    assert_int_equal(blkback_connect(f->bb, -1, 0, 0, g->port), -ENODEV);
    assert_null(blkback_vbd_stats(f->bb, g->d, 1));
    assert_null(blkback_vbd_stats(f->bb, 3, 0));
    /* A ring reference that is no grant, a read-only one, a bad port: the
     * vbd stays free for a good connect. */
    assert_int_equal(blkback_connect(f->bb, g->d, 0, 100, g->port), -ENOENT);
    int ro = gnttab_grant(g->gt, 0, bbf_page(g, FREE_PAGE), true);
    assert_true(ro > 0);
    assert_int_equal(blkback_connect(f->bb, g->d, 0, (uint32_t)ro, g->port), -EACCES);
    assert_int_equal(blkback_connect(f->bb, g->d, 0, (uint32_t)g->ring_ref, 999), -EINVAL);
    assert_int_equal(gnttab_pinned(g->gt), 0);
    assert_false(bbf_stats(f, EVIL)->connected);
    assert_int_equal(bbf_connect(f, EVIL), 0);
    assert_int_equal(bbf_connect(f, EVIL), -EBUSY);
    assert_true(bbf_stats(f, EVIL)->connected);
    bbf_settle(f);
    assert_int_equal(bbf_write(f, EVIL, 0, 2, 0, 5), BLKIF_RSP_OKAY);
    assert_int_equal(bbf_read_ok(f, EVIL, 0, 2, 6), 0);
    assert_int_equal(gnttab_pinned(g->gt), 1);
}

/* blkback_connect comes from guest vCPU threads while the pass runs on
 * domain 0's: connect fills the vbd, then publishes CONNECTED with a
 * release store, which the pass's acquire load pairs with (a data race on
 * the vbd under ThreadSanitizer otherwise). In every build, the vbds must
 * come up and serve. */
struct poller {
    struct bbf *f;
    atomic_bool stop;
    atomic_int passes;
};

static void *poll_thread(void *arg)
{
    struct poller *p = arg;
    domtab_thread_online();
    while (!atomic_load(&p->stop)) {
        fv_ns_t cost, due;
        blkback_poll(p->f->bb, 0, &cost, &due);
        atomic_fetch_add(&p->passes, 1);
    }
    domtab_thread_offline();
    return NULL;
}

static void test_connect_while_polling(void **st)
{
    (void)st;
    for (int r = 0; r < 30; r++) {
        struct bbf *f = make(0, r % 2);
        struct poller p = { .f = f };
        atomic_init(&p.stop, false);
        atomic_init(&p.passes, 0);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, poll_thread, &p), 0);
        int rc[3];
        bool stalled = false;
        for (int i = 0; i < 3; i++) {
            int n = atomic_load(&p.passes);
            for (double end = tu_now() + TU_WAIT_S; atomic_load(&p.passes) == n && !stalled;)
                if (!(stalled = tu_now() > end))
                    sched_yield();
            rc[i] = bbf_connect(f, i);
        }
        atomic_store(&p.stop, true);
        tu_join(t, TU_WAIT_S, "the polling thread");
        if (stalled)
            fail_msg("the polling thread made no pass in %.0f s", TU_WAIT_S);
        for (int i = 0; i < 3; i++)
            assert_int_equal(rc[i], 0);
        bbf_settle(f);
        assert_int_equal(bbf_write(f, EVIL, 0, 1, 0, 1), BLKIF_RSP_OKAY);
        assert_others_ok(f);
        bbf_fini(f);
        free(f);
    }
}

/* Real time: answered in the pass that took them (the memory disk), CPU
 * measured, no due time. */
static void test_real_time_pass(void **st)
{
    (void)st;
    struct bbf *f = make_up(0, true);
    const struct blkback_vbd_stats *s = bbf_stats(f, A);
    fv_ns_t ns0 = s->backend_ns;
    struct bbf_guest *g = &f->g[A];
    uint64_t id = bbf_post(g, BLKIF_OP_WRITE, 0, 3, 0)->id;
    bbf_fill(bbf_data(g, 0), 3 * BBF_PAGE, 3);
    bbf_push(f, A);
    assert_true(bbf_pass(f) > 0);
    assert_int_equal(f->cost, 0);
    assert_int_equal(f->due, 0);
    take_rsp(g, id, BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
    memcpy(g->disk, bbf_data(g, 0), 3 * BBF_PAGE);
    assert_true(s->backend_ns > ns0);
    assert_int_equal(bbf_disk_ok(f, A), 0);
    assert_others_ok(f);
    bbf_fini(f);
    free(f);
}

/* Real time on image files (io_uring): completions come in later passes,
 * which *next_due asks for; barriers, flushes and refusals as in memory. */
static void test_file_disks_real_time(void **st)
{
    (void)st;
    char *dir = tu_tmpdir();
    struct bbf *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct bbf_conf c = { .guests = 3, .pages = PAGES, .disk_size = DISK, .real_time = true,
                          .file_dir = dir };
    assert_int_equal(bbf_init(f, &c), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(bbf_front(f, i), 0);
        assert_int_equal(bbf_connect(f, i), 0);
    }
    bbf_settle(f);
    for (int i = 0; i < 3; i++)
        fill_disk(f, i);
    struct bbf_guest *g = &f->g[A];
    bbf_fill(bbf_data(g, 0), 2 * BBF_PAGE, 8);
    uint64_t w = bbf_post(g, BLKIF_OP_WRITE, 0, 1, 0)->id;
    uint64_t b = bbf_post(g, BLKIF_OP_WRITE_BARRIER, 0, 1, 1)->id;
    uint64_t fl = bbf_post(g, BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0)->id;
    bbf_push(f, A);
    bbf_settle(f);
    take_rsp(g, w, BLKIF_OP_WRITE, BLKIF_RSP_OKAY);
    take_rsp(g, b, BLKIF_OP_WRITE_BARRIER, BLKIF_RSP_OKAY);
    take_rsp(g, fl, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_RSP_OKAY);
    memcpy(g->disk, bbf_data(g, 1), BBF_PAGE);
    assert_int_equal(f->due, 0);
    assert_int_equal(bbf_stats(f, A)->flushes, 1);
    assert_true(bbf_stats(f, A)->backend_ns > 0);
    expect(f, evil_post(f, BLKIF_OP_READ, SECTORS, 1), BLKIF_RSP_ERROR);
    bbf_fini(f);
    free(f);
    assert_int_equal(tu_rmtree(dir), 0);
    free(dir);
}

int main(void)
{
    domtab_thread_online();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_write_barrier_ordering),
        T(test_barrier_without_data),
        T(test_flush),
        cmocka_unit_test_setup_teardown(test_qdepth_respected, setup_q4, teardown),
        T(test_virtual_time_due_and_cost),
        T(test_virtual_time_shared_disk),
        cmocka_unit_test_setup_teardown(test_connect_errors, setup_unconnected, teardown),
        cmocka_unit_test(test_connect_while_polling),
        cmocka_unit_test(test_real_time_pass),
        cmocka_unit_test(test_file_disks_real_time),
    };
    int rc = tu_status(cmocka_run_group_tests(tests, NULL, NULL));
    domtab_thread_offline();
    return rc;
}
