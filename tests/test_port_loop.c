/* test_port_loop.c — netback's in-memory LOOP port: FIFO order, payloads
 * and buffers come back as sent, the bound on frames in flight (tx takes
 * fewer when it is reached), alloc/free accounting down to the last buffer
 * (and the warning at close when the caller still holds some), rx on an
 * empty port, misuse caught, and what the DPDK kinds answer without DPDK. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netback/port.h"

static struct nb_port *open_loop(unsigned nr_bufs)
{
    struct nb_port_conf c = { .kind = NB_PORT_LOOP, .nr_bufs = nr_bufs };
    struct nb_port *p = NULL;
    char err[256] = "";
    int rc = nb_port_open(&p, &c, err, sizeof(err));
    if (rc != 0)
        fail_msg("nb_port_open(loop, %u): %d %s", nr_bufs, rc, err);
    assert_non_null(p);
    return p;
}

/* Frame i: length 60 + i % 100, bytes a function of i and the offset. */
static uint16_t frame_len(unsigned i)
{
    return (uint16_t)(60 + i % 100);
}

static void write_frame(struct nb_pkt *pkt, unsigned i)
{
    pkt->len = frame_len(i);
    for (unsigned j = 0; j < pkt->len; j++)
        pkt->data[j] = (uint8_t)(i * 31 + j * 7 + 1);
}

static void check_frame(const struct nb_pkt *pkt, unsigned i)
{
    assert_int_equal(pkt->len, frame_len(i));
    for (unsigned j = 0; j < pkt->len; j++)
        if (pkt->data[j] != (uint8_t)(i * 31 + j * 7 + 1))
            fail_msg("frame %u byte %u: %u, expected %u", i, j, pkt->data[j],
                     (uint8_t)(i * 31 + j * 7 + 1));
}

static void test_fifo_order_and_payload(void **st)
{
    (void)st;
    struct nb_port *p = open_loop(64);
    struct nb_pkt tx[40], rx[50];
    assert_int_equal(nb_port_alloc(p, tx, 40), 40);
    for (unsigned i = 0; i < 40; i++) {
        assert_true(tx[i].cap >= 2048);
        assert_int_equal(tx[i].len, 0);
        if (i == 7)
            tx[i].data += 128;      /* a frame need not start at the buffer's start */
        write_frame(&tx[i], i);
    }
    /* Sent in three calls, received in two: order across calls is kept. */
    assert_int_equal(nb_port_tx(p, tx, 5), 5);
    assert_int_equal(nb_port_tx(p, tx + 5, 30), 30);
    assert_int_equal(nb_port_tx(p, tx + 35, 5), 5);
    assert_int_equal(nb_port_rx(p, rx, 13), 13);
    assert_int_equal(nb_port_rx(p, rx + 13, 50 - 13), 27);
    for (unsigned i = 0; i < 40; i++) {
        check_frame(&rx[i], i);
        assert_ptr_equal(rx[i].data, tx[i].data);
        assert_ptr_equal(rx[i].m, tx[i].m);
        assert_int_equal(rx[i].cap, tx[i].cap);
    }
    assert_int_equal(nb_port_rx(p, rx, 50), 0);
    nb_port_free(p, rx, 40);
    nb_port_close(p);
}

static void test_rx_empty(void **st)
{
    (void)st;
    struct nb_port *p = open_loop(16);
    struct nb_pkt pkts[NB_BURST];
    assert_int_equal(nb_port_rx(p, pkts, NB_BURST), 0);
    assert_int_equal(nb_port_rx(p, pkts, 1), 0);
    assert_int_equal(nb_port_rx(p, pkts, 0), 0);
    /* Drained after a round trip: empty again. */
    assert_int_equal(nb_port_alloc(p, pkts, 3), 3);
    for (unsigned i = 0; i < 3; i++)
        write_frame(&pkts[i], i);
    assert_int_equal(nb_port_tx(p, pkts, 3), 3);
    assert_int_equal(nb_port_rx(p, pkts, NB_BURST), 3);
    assert_int_equal(nb_port_rx(p, pkts + 3, NB_BURST - 3), 0);
    nb_port_free(p, pkts, 3);
    nb_port_close(p);
}

/* nr_bufs 8: 8 frames in flight at most, 16 buffers in the pool. */
static void test_in_flight_bound(void **st)
{
    (void)st;
    struct nb_port *p = open_loop(8);
    struct nb_pkt tx[16], rx[16];
    assert_int_equal(nb_port_alloc(p, tx, 16), 16);
    for (unsigned i = 0; i < 16; i++)
        write_frame(&tx[i], i);
    assert_int_equal(nb_port_tx(p, tx, 16), 8);
    assert_int_equal(nb_port_tx(p, tx + 8, 8), 0);      /* full: takes none */
    assert_int_equal(nb_port_rx(p, rx, 3), 3);
    assert_int_equal(nb_port_tx(p, tx + 8, 8), 3);      /* room for 3 */
    assert_int_equal(nb_port_rx(p, rx + 3, 16), 8);
    assert_int_equal(nb_port_tx(p, tx + 11, 5), 5);     /* the caller kept 11..15 */
    assert_int_equal(nb_port_rx(p, rx + 11, 5), 5);
    for (unsigned i = 0; i < 16; i++)
        check_frame(&rx[i], i);
    nb_port_free(p, rx, 16);
    assert_int_equal(nb_port_alloc(p, tx, 16), 16);      /* every buffer is back */
    nb_port_free(p, tx, 16);
    nb_port_close(p);
}

static void test_alloc_free_accounting(void **st)
{
    (void)st;
    struct nb_port *p = open_loop(32);                  /* a pool of 64 */
    struct nb_pkt a[64], one;
    assert_int_equal(nb_port_alloc(p, a, 64), 64);
    assert_int_equal(nb_port_alloc(p, &one, 1), 0);
    for (unsigned i = 0; i < 64; i++)
        for (unsigned j = 0; j < i; j++)
            assert_ptr_not_equal(a[i].m, a[j].m);       /* 64 distinct buffers */
    nb_port_free(p, a + 54, 10);
    assert_int_equal(nb_port_alloc(p, a + 54, 11), 0);  /* all or nothing */
    assert_int_equal(nb_port_alloc(p, a + 54, 10), 10);
    nb_port_free(p, a, 64);
    /* Many cycles through every path: a buffer lost on any of them would
     * show as a short alloc at the end. */
    unsigned in_flight = 0;
    for (unsigned it = 0; it < 1000; it++) {
        struct nb_pkt b[NB_BURST];
        unsigned n = 1 + it % NB_BURST;
        assert_int_equal(nb_port_alloc(p, b, n), n);
        for (unsigned i = 0; i < n; i++)
            write_frame(&b[i], it + i);
        unsigned k = nb_port_tx(p, b, n);
        assert_int_equal(k, n < 32 - in_flight ? n : 32 - in_flight);
        nb_port_free(p, b + k, n - k);                  /* what tx did not take */
        in_flight += k;
        if (it % 3 == 0)
            continue;                                   /* left in flight a while */
        unsigned got;
        while ((got = nb_port_rx(p, b, NB_BURST)) > 0) {
            nb_port_free(p, b, got);
            in_flight -= got;
        }
        assert_int_equal(in_flight, 0);
    }
    struct nb_pkt b[NB_BURST];
    unsigned got;
    while ((got = nb_port_rx(p, b, NB_BURST)) > 0)
        nb_port_free(p, b, got);
    assert_int_equal(nb_port_alloc(p, a, 64), 64);
    assert_int_equal(nb_port_alloc(p, &one, 1), 0);
    nb_port_free(p, a, 64);
    nb_port_close(p);
}

/* What close says on stderr while f runs on a fresh port. */
static char *close_message(void (*f)(struct nb_port *p))
{
    char path[] = "/tmp/fvtest-port.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    struct nb_port *p = open_loop(16);
    f(p);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    char *text = tu_read(path, NULL);
    unlink(path);
    assert_non_null(text);
    return text;
}

static void hold_three(struct nb_port *p)
{
    struct nb_pkt a[5];
    assert_int_equal(nb_port_alloc(p, a, 5), 5);
    nb_port_free(p, a + 3, 2);
    nb_port_close(p);
}

static void all_back_some_in_flight(struct nb_port *p)
{
    struct nb_pkt a[5];
    assert_int_equal(nb_port_alloc(p, a, 5), 5);
    for (unsigned i = 0; i < 5; i++)
        write_frame(&a[i], i);
    assert_int_equal(nb_port_tx(p, a, 5), 5);
    nb_port_close(p);                       /* in flight is the port's to drop */
}

static void test_close_accounting(void **st)
{
    (void)st;
    char *m = close_message(hold_three);
    assert_non_null(strstr(m, "closed with 3 buffer(s) still held by the caller"));
    free(m);
    m = close_message(all_back_some_in_flight);
    assert_string_equal(m, "");
    free(m);
}

static void test_default_size(void **st)
{
    (void)st;
    struct nb_port *p = open_loop(0);                   /* 8191 in flight, 16382 buffers */
    struct nb_pkt *a = calloc(16382, sizeof(*a)), one;
    assert_int_equal(nb_port_alloc(p, a, 16382), 16382);
    assert_int_equal(nb_port_alloc(p, &one, 1), 0);
    for (unsigned i = 0; i < 16382; i++)
        a[i].len = 60;
    assert_int_equal(nb_port_tx(p, a, 16382), 8191);
    assert_int_equal(nb_port_rx(p, a, 16382), 8191);
    nb_port_free(p, a, 16382);
    free(a);
    nb_port_close(p);
}

/* Misuse aborts in a child process with the reason on stderr. */
static void expect_abort(void (*f)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        f();
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void double_free(void)
{
    struct nb_port *p = open_loop(8);
    struct nb_pkt a;
    nb_port_alloc(p, &a, 1);
    nb_port_free(p, &a, 1);
    nb_port_free(p, &a, 1);
}

static void frame_past_buffer(void)
{
    struct nb_port *p = open_loop(8);
    struct nb_pkt a;
    nb_port_alloc(p, &a, 1);
    a.data += 100;
    a.len = (uint16_t)(a.cap - 99);
    nb_port_tx(p, &a, 1);
}

static void foreign_buffer(void)
{
    struct nb_port *p = open_loop(8), *q = open_loop(8);
    struct nb_pkt a;
    nb_port_alloc(q, &a, 1);
    a.len = 60;
    nb_port_tx(p, &a, 1);
}

static void test_misuse_aborts(void **st)
{
    (void)st;
    expect_abort(double_free);
    expect_abort(frame_past_buffer);
    expect_abort(foreign_buffer);
}

static void test_kinds_and_availability(void **st)
{
    (void)st;
    char why[256] = "";
    assert_string_equal(nb_port_kind_name(NB_PORT_LOOP), "loop");
    assert_string_equal(nb_port_kind_name(NB_PORT_RING), "ring");
    assert_string_equal(nb_port_kind_name(NB_PORT_TAP), "tap");
    assert_string_equal(nb_port_kind_name(NB_PORT_NULL), "null");
    assert_int_equal(nb_port_available(NB_PORT_LOOP, why, sizeof(why)), 0);
    assert_int_equal(nb_port_available((enum nb_port_kind)9, why, sizeof(why)), -EINVAL);

    struct nb_port *p = (struct nb_port *)&why;         /* must be reset to NULL */
    struct nb_port_conf bad = { .kind = (enum nb_port_kind)9 };
    assert_int_equal(nb_port_open(&p, &bad, why, sizeof(why)), -EINVAL);
    assert_null(p);
    struct nb_port_conf huge = { .kind = NB_PORT_LOOP, .nr_bufs = 1u << 21 };
    assert_int_equal(nb_port_open(&p, &huge, why, sizeof(why)), -EINVAL);
    assert_null(p);
#ifndef FV_HAVE_DPDK
    enum nb_port_kind dpdk[] = { NB_PORT_RING, NB_PORT_TAP, NB_PORT_NULL };
    for (unsigned i = 0; i < 3; i++) {
        struct nb_port_conf c = { .kind = dpdk[i], .tap_name = "fvt9", .tap_ip = 0xc6120001,
                                  .tap_prefix = 24 };
        why[0] = 0;
        assert_int_equal(nb_port_available(dpdk[i], why, sizeof(why)), -ENOTSUP);
        assert_non_null(strstr(why, "rebuild with libdpdk-dev installed (tools/deps)"));
        why[0] = 0;
        assert_int_equal(nb_port_open(&p, &c, why, sizeof(why)), -ENOTSUP);
        assert_null(p);
        assert_non_null(strstr(why, "rebuild with libdpdk-dev installed (tools/deps)"));
    }
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_order_and_payload),
        cmocka_unit_test(test_rx_empty),
        cmocka_unit_test(test_in_flight_bound),
        cmocka_unit_test(test_alloc_free_accounting),
        cmocka_unit_test(test_close_accounting),
        cmocka_unit_test(test_default_size),
        cmocka_unit_test(test_misuse_aborts),
        cmocka_unit_test(test_kinds_and_availability),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
