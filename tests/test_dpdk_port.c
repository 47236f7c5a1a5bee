/* test_dpdk_port.c — netback's DPDK ports, in one process (EAL starts once
 * per process): EAL's init leaves the caller's CPU affinity as it was;
 * RING loops 1,000 distinct frames back in order, byte for byte, takes
 * fewer when its ring is full and gives every buffer back; NULL takes
 * everything and returns nothing; TAP, in a network namespace of this
 * process's own, creates fvt0 as 198.18.0.1/24 and the kernel answers an
 * ARP request sent through it; a second TAP port of the same name is
 * refused; closing the last port leaves EAL up for the next. Skipped
 * (77) in a build without DPDK or when not root.
 *
 * A NULL port is opened first and closed by the last test. */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "netback/port.h"

#define TAP_NAME "fvt0"
#define TAP_IP 0xc6120001u          /* 198.18.0.1 */
#define PEER_IP 0xc6120002u         /* 198.18.0.2 */
static const uint8_t peer_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x02 };

static struct nb_port *keeper;      /* keeps EAL up until the last test */
static char rundir[128];
static cpu_set_t cpus_before, cpus_after;   /* around the first open (EAL's init) */

static struct nb_port *open_ok(const struct nb_port_conf *c)
{
    struct nb_port *p = NULL;
    char err[256] = "";
    int rc = nb_port_open(&p, c, err, sizeof(err));
    if (rc != 0)
        fail_msg("nb_port_open(%s): %d %s", nb_port_kind_name(c->kind), rc, err);
    assert_non_null(p);
    return p;
}

static int group_setup(void **st)
{
    (void)st;
    struct nb_port_conf c = { .kind = NB_PORT_NULL };
    char err[256] = "";
    snprintf(rundir, sizeof(rundir), "/var/run/dpdk/fv-%d", (int)getpid());
    sched_getaffinity(0, sizeof(cpus_before), &cpus_before);
    if (nb_port_open(&keeper, &c, err, sizeof(err)) != 0) {
        fprintf(stderr, "cannot open the first DPDK port: %s\n", err);
        return -1;
    }
    sched_getaffinity(0, sizeof(cpus_after), &cpus_after);
    return 0;
}

/* EAL pins the thread that initialises it to one CPU; the port gives the
 * caller its own set back. */
static void test_eal_init_keeps_affinity(void **st)
{
    (void)st;
    assert_true(CPU_COUNT(&cpus_before) >= 1);
    assert_true(CPU_EQUAL(&cpus_before, &cpus_after));
    struct stat sb;
    assert_int_equal(stat(rundir, &sb), 0);             /* EAL is up, under our prefix */
}

/* Frame i of the ring test: 64 bytes, broadcast from 00:16:3e:00:00:01,
 * ethertype 0x88b5, then i and bytes that depend on i. */
static void ring_frame(uint8_t *f, unsigned i)
{
    static const uint8_t hdr[14] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x16,
                                     0x3e, 0x00, 0x00, 0x01, 0x88, 0xb5 };
    memcpy(f, hdr, 14);
    memcpy(f + 14, &i, 4);
    for (unsigned j = 18; j < 64; j++)
        f[j] = (uint8_t)(i * 13 + j);
}

static void test_ring_loopback(void **st)
{
    (void)st;
    struct nb_port_conf c = { .kind = NB_PORT_RING };
    struct nb_port *p = open_ok(&c);
    static struct nb_pkt tx[1000], rx[1000];
    uint8_t want[64];

    assert_int_equal(nb_port_alloc(p, tx, 1000), 1000);
    for (unsigned i = 0; i < 1000; i++) {
        assert_true(tx[i].cap >= 2048);
        if (i % 10 == 3)
            tx[i].data += 64;       /* a frame need not start where the buffer does */
        ring_frame(tx[i].data, i);
        tx[i].len = 64;
    }
    /* Bursts of 100: more than NB_BURST, so the port splits them. */
    for (unsigned i = 0; i < 1000; i += 100)
        assert_int_equal(nb_port_tx(p, tx + i, 100), 100);
    unsigned got = 0, k;
    while (got < 1000 && (k = nb_port_rx(p, rx + got, 64)) > 0)
        got += k;
    assert_int_equal(got, 1000);
    assert_int_equal(nb_port_rx(p, rx, 1), 0);
    for (unsigned i = 0; i < 1000; i++) {
        ring_frame(want, i);
        assert_int_equal(rx[i].len, 64);
        assert_memory_equal(rx[i].data, want, 64);
    }
    nb_port_free(p, rx, 1000);
    nb_port_close(p);
}

/* net_ring's ring holds 1,023 frames: tx takes that prefix of 1,100, the
 * caller keeps the rest and can send it once the ring drains. */
static void test_ring_full_takes_fewer(void **st)
{
    (void)st;
    struct nb_port_conf c = { .kind = NB_PORT_RING, .nr_bufs = 2047 };
    struct nb_port *p = open_ok(&c);
    static struct nb_pkt tx[1100], rx[1100];
    assert_int_equal(nb_port_alloc(p, tx, 1100), 1100);
    for (unsigned i = 0; i < 1100; i++) {
        ring_frame(tx[i].data, i);
        tx[i].len = 64;
    }
    unsigned k = nb_port_tx(p, tx, 1100);
    assert_int_equal(k, 1023);                         /* port.h: 1024 slots, one kept empty */
    assert_int_equal(nb_port_tx(p, tx + k, 1100 - k), 0);
    unsigned got = 0, n;
    while ((n = nb_port_rx(p, rx + got, 1100 - got)) > 0)
        got += n;
    assert_int_equal(got, k);
    assert_int_equal(nb_port_tx(p, tx + k, 1100 - k), 1100 - k);
    while ((n = nb_port_rx(p, rx + got, 1100 - got)) > 0)
        got += n;
    assert_int_equal(got, 1100);
    for (unsigned i = 0; i < 1100; i++) {
        uint32_t seq;
        memcpy(&seq, rx[i].data + 14, 4);
        assert_int_equal(seq, i);
    }
    nb_port_free(p, rx, 1100);
    nb_port_close(p);
}

/* A pool of 255 buffers through 1,000 round trips: every path gives its
 * buffers back, and the pool hands out exactly its size, all or nothing. */
static void test_ring_accounting(void **st)
{
    (void)st;
    struct nb_port_conf c = { .kind = NB_PORT_RING, .nr_bufs = 255 };
    struct nb_port *p = open_ok(&c);
    static struct nb_pkt a[255];
    struct nb_pkt one;
    for (unsigned it = 0; it < 1000; it++) {
        unsigned n = 1 + it % 100, got = 0, k;
        assert_int_equal(nb_port_alloc(p, a, n), n);
        for (unsigned i = 0; i < n; i++) {
            ring_frame(a[i].data, it + i);
            a[i].len = 64;
        }
        assert_int_equal(nb_port_tx(p, a, n), n);
        while ((k = nb_port_rx(p, a + got, n - got)) > 0)
            got += k;
        assert_int_equal(got, n);
        nb_port_free(p, a, n);
    }
    assert_int_equal(nb_port_alloc(p, a, 255), 255);
    assert_int_equal(nb_port_alloc(p, &one, 1), 0);
    nb_port_free(p, a + 200, 55);
    assert_int_equal(nb_port_alloc(p, a + 200, 56), 0);    /* all or nothing */
    assert_int_equal(nb_port_alloc(p, a + 200, 55), 55);
    nb_port_free(p, a, 255);
    nb_port_close(p);
}

static void test_null_sink(void **st)
{
    (void)st;
    struct nb_port_conf c = { .kind = NB_PORT_NULL, .nr_bufs = 1023 };
    struct nb_port *p = open_ok(&c);
    struct nb_pkt pkts[NB_BURST];
    /* 32,000 frames through a pool of 1,023: tx must give every buffer
     * back, and rx never makes one up. */
    for (unsigned it = 0; it < 1000; it++) {
        assert_int_equal(nb_port_alloc(p, pkts, NB_BURST), NB_BURST);
        for (unsigned i = 0; i < NB_BURST; i++) {
            ring_frame(pkts[i].data, it * NB_BURST + i);
            pkts[i].len = 64;
        }
        assert_int_equal(nb_port_tx(p, pkts, NB_BURST), NB_BURST);
        assert_int_equal(nb_port_rx(p, pkts, NB_BURST), 0);
    }
    nb_port_close(p);
}

static int ifreq_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
    int rc = ioctl(fd, req, ifr);
    close(fd);
    return rc;
}

/* An ARP request "who-has 198.18.0.1 tell 198.18.0.2" from peer_mac,
 * padded to Ethernet's 60-byte minimum. */
static uint16_t arp_request(uint8_t *f)
{
    uint32_t spa = htonl(PEER_IP), tpa = htonl(TAP_IP);
    memset(f, 0, 60);
    memset(f, 0xff, 6);
    memcpy(f + 6, peer_mac, 6);
    f[12] = 0x08, f[13] = 0x06;                         /* ARP */
    f[14] = 0x00, f[15] = 0x01;                         /* Ethernet */
    f[16] = 0x08, f[17] = 0x00;                         /* IPv4 */
    f[18] = 6, f[19] = 4;
    f[20] = 0x00, f[21] = 0x01;                         /* request */
    memcpy(f + 22, peer_mac, 6);
    memcpy(f + 28, &spa, 4);
    memcpy(f + 38, &tpa, 4);
    return 60;
}

/* A reply from 198.18.0.1 to 198.18.0.2 at peer_mac? */
static bool is_arp_reply(const struct nb_pkt *p)
{
    uint32_t spa = htonl(TAP_IP), tpa = htonl(PEER_IP);
    const uint8_t *f = p->data;
    return p->len >= 42 && !memcmp(f, peer_mac, 6) && f[12] == 0x08 && f[13] == 0x06 &&
           f[20] == 0x00 && f[21] == 0x02 && !memcmp(f + 28, &spa, 4) &&
           !memcmp(f + 32, peer_mac, 6) && !memcmp(f + 38, &tpa, 4);
}

static void check_tap_interface(void)
{
    struct ifreq ifr = { 0 };
    assert_int_not_equal(if_nametoindex(TAP_NAME), 0);
    assert_int_equal(ifreq_ioctl(TAP_NAME, SIOCGIFFLAGS, &ifr), 0);
    assert_true(ifr.ifr_flags & IFF_UP);
    assert_int_equal(ifreq_ioctl(TAP_NAME, SIOCGIFADDR, &ifr), 0);
    assert_int_equal(ntohl(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr), TAP_IP);
    assert_int_equal(ifreq_ioctl(TAP_NAME, SIOCGIFNETMASK, &ifr), 0);
    assert_int_equal(ntohl(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr), 0xffffff00u);
}

static void test_tap_arp(void **st)
{
    (void)st;
    struct nb_port_conf c = { .kind = NB_PORT_TAP, .tap_name = TAP_NAME, .tap_ip = TAP_IP,
                              .tap_prefix = 24 };
    struct nb_port *p = open_ok(&c), *q = NULL;
    struct nb_pkt pkts[NB_BURST];
    char err[256] = "";
    check_tap_interface();

    assert_int_equal(nb_port_open(&q, &c, err, sizeof(err)), -EEXIST);
    assert_null(q);
    assert_string_equal(err, "-EEXIST: a network interface named fvt0 already exists");

    assert_int_equal(nb_port_alloc(p, pkts, 1), 1);
    pkts[0].len = arp_request(pkts[0].data);
    assert_int_equal(nb_port_tx(p, pkts, 1), 1);
    /* The kernel may send other frames first (IPv6 neighbour discovery). */
    bool replied = false;
    double deadline = tu_now() + 5.0;
    while (!replied && tu_now() < deadline) {
        unsigned n = nb_port_rx(p, pkts, NB_BURST);
        for (unsigned i = 0; i < n; i++)
            replied |= is_arp_reply(&pkts[i]);
        nb_port_free(p, pkts, n);
        if (!n)
            nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    }
    assert_true(replied);
    nb_port_close(p);
    assert_int_equal(if_nametoindex(TAP_NAME), 0);      /* the interface went with it */
}

static void test_bad_conf(void **st)
{
    (void)st;
    struct nb_port *p = NULL;
    char err[256];
    struct nb_port_conf c[] = {
        { .kind = NB_PORT_TAP, .tap_name = NULL, .tap_ip = TAP_IP, .tap_prefix = 24 },
        { .kind = NB_PORT_TAP, .tap_name = "much-too-long-name", .tap_ip = TAP_IP, .tap_prefix = 24 },
        { .kind = NB_PORT_TAP, .tap_name = "a,b", .tap_ip = TAP_IP, .tap_prefix = 24 },
        { .kind = NB_PORT_TAP, .tap_name = "fvt1", .tap_ip = TAP_IP, .tap_prefix = 33 },
        { .kind = NB_PORT_TAP, .tap_name = "fvt1", .tap_ip = 0, .tap_prefix = 24 },
        { .kind = NB_PORT_RING, .nr_bufs = 10 },
    };
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        assert_int_equal(nb_port_open(&p, &c[i], err, sizeof(err)), -EINVAL);
        assert_null(p);
        assert_int_equal(strncmp(err, "-EINVAL: ", 9), 0);
    }
    assert_int_equal(if_nametoindex("fvt1"), 0);
}

/* Last: closing the last port leaves EAL up (it starts once per process,
 * and a process may make several runs): a port opens again and works. The
 * runtime directory goes at exit (test_real_net_tap checks that on a
 * fairvisor process). */
static void test_last_close_keeps_eal(void **st)
{
    (void)st;
    struct stat sb;
    struct nb_port *p = NULL;
    struct nb_port_conf c = { .kind = NB_PORT_RING };
    char err[256] = "";
    nb_port_close(keeper);
    keeper = NULL;
    assert_int_equal(stat(rundir, &sb), 0);
    assert_int_equal(nb_port_open(&p, &c, err, sizeof(err)), 0);
    struct nb_pkt pk[4];
    assert_int_equal(nb_port_alloc(p, pk, 4), 4);
    for (int i = 0; i < 4; i++) {
        memset(pk[i].data, i + 1, 64);
        pk[i].len = 64;
    }
    assert_int_equal(nb_port_tx(p, pk, 4), 4);
    assert_int_equal(nb_port_rx(p, pk, 4), 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pk[i].data[63], i + 1);
    nb_port_free(p, pk, 4);
    nb_port_close(p);
    assert_int_equal(nb_port_available(NB_PORT_RING, err, sizeof(err)), 0);
}

/* A network namespace of this process's own, its loopback up: the TAP
 * interface and everything sent through it stay in here. */
static int private_netns(void)
{
    struct ifreq ifr = { 0 };
    if (unshare(CLONE_NEWNET) != 0) {
        fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
        return -1;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    int rc = fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) != 0 ? -1 : 0;
    ifr.ifr_flags |= IFF_UP;
    if (rc == 0)
        rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
    if (fd >= 0)
        close(fd);
    return rc;
}

int main(void)
{
#ifndef FV_HAVE_DPDK
    printf("[ SKIPPED  ] this build has no DPDK: rebuild with libdpdk-dev installed (tools/deps)\n");
    return 77;
#else
    if (geteuid() != 0) {
        printf("[ SKIPPED  ] DPDK ports need root (EAL's runtime directory, TAP interfaces)\n");
        return 77;
    }
    if (private_netns() != 0) {
        printf("[ SKIPPED  ] cannot make a private network namespace\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eal_init_keeps_affinity),
        cmocka_unit_test(test_ring_loopback),
        cmocka_unit_test(test_ring_full_takes_fewer),
        cmocka_unit_test(test_ring_accounting),
        cmocka_unit_test(test_null_sink),
        cmocka_unit_test(test_tap_arp),
        cmocka_unit_test(test_bad_conf),
        cmocka_unit_test(test_last_close_keeps_eal),
    };
    return tu_status(cmocka_run_group_tests(tests, group_setup, NULL));
#endif
}
