/* bench_dpdk_raw.c — the raw-DPDK baseline for netback: on net_ring0,
 * repeatedly allocate a burst of 32 mbufs, write a frame into each,
 * tx_burst, rx_burst and free what came back, for N seconds; print
 * packets/s and ns/packet. Plain DPDK calls, not netback/port.h: this is
 * what the port layer, and later netback, is measured against. --port runs
 * the same loop through port.h (nb_port_*), --both runs each in its own
 * child process (EAL starts once per process) and prints them side by side.
 *
 *   bench_dpdk_raw [SECONDS] [--size BYTES] [--cache N] [--port | --both]
 *
 * SECONDS defaults to 3; --size is the frame length (60..2048, default 64);
 * --cache is the raw mode's mempool per-lcore cache (default 0, as the
 * port layer must use: its callers are not EAL lcores). Needs root for
 * EAL's runtime directory under /var/run/dpdk (removed on exit).
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "netback/port.h"

#define BURST 32
#define NBUFS 8191

struct opts {
    double seconds;
    unsigned size;
    unsigned cache;
    enum { MODE_RAW, MODE_PORT, MODE_BOTH } mode;
};

struct result {
    uint64_t pkts;
    double secs;
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* An Ethernet frame of len bytes: broadcast, from 00:16:3e:00:00:01,
 * ethertype 0x88b5 (local experimental), a sequence number after that. */
static void write_frame(uint8_t *p, unsigned len, uint32_t seq)
{
    static const uint8_t hdr[14] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x16,
                                     0x3e, 0x00, 0x00, 0x01, 0x88, 0xb5 };
    memcpy(p, hdr, sizeof(hdr));
    memcpy(p + 14, &seq, sizeof(seq));
    memset(p + 18, 0xa5, len - 18);
}

static void print_result(const char *mode, const struct opts *o, const struct result *r)
{
    double pps = (double)r->pkts / r->secs;
    printf("%-5s net_ring0 %4u B: %10.0f packets/s  %7.1f ns/packet  (%llu packets in %.2f s)\n",
           mode, o->size, pps, 1e9 / pps, (unsigned long long)r->pkts, r->secs);
    fflush(stdout);
}

/* ---- raw DPDK ------------------------------------------------------------------------ */

static char rundir[512];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static int raw_eal_init(void)
{
    static char prefix[40], lcore[16];
    char *argv[] = { "bench_dpdk_raw", "-l", lcore, "--no-huge", "-m", "512", "--no-pci",
                     "--no-shconf", "--no-telemetry", "--file-prefix", prefix,
                     "--vdev=net_ring0", "--log-level=notice", NULL };
    cpu_set_t set;
    int cpu = 0;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &set))
            cpu++;
    snprintf(prefix, sizeof(prefix), "fv-bench-%d", (int)getpid());
    snprintf(lcore, sizeof(lcore), "%d", cpu);
    rte_openlog_stream(stderr);
    if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0) {
        fprintf(stderr, "bench_dpdk_raw: rte_eal_init: %s (run as root)\n", rte_strerror(rte_errno));
        return -1;
    }
    snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
    return 0;
}

static int raw_port_start(uint16_t port, struct rte_mempool *mp)
{
    struct rte_eth_conf conf = { 0 };
    if (rte_eth_dev_configure(port, 1, 1, &conf) < 0 ||
        rte_eth_rx_queue_setup(port, 0, 64, SOCKET_ID_ANY, NULL, mp) < 0 ||
        rte_eth_tx_queue_setup(port, 0, 64, SOCKET_ID_ANY, NULL) < 0 ||
        rte_eth_dev_start(port) < 0) {
        fprintf(stderr, "bench_dpdk_raw: cannot start net_ring0\n");
        return -1;
    }
    return 0;
}

/* The timed loop: one burst round trip per iteration. */
static struct result raw_loop(uint16_t port, struct rte_mempool *mp, const struct opts *o)
{
    struct rte_mbuf *tx[BURST], *rx[BURST];
    struct result r = { 0, 0 };
    uint32_t seq = 0;
    double t0 = now(), end = t0 + o->seconds, t = t0;
    for (uint64_t it = 0; t < end; it++) {
        if (rte_pktmbuf_alloc_bulk(mp, tx, BURST) == 0) {
            for (unsigned i = 0; i < BURST; i++) {
                write_frame(rte_pktmbuf_mtod(tx[i], uint8_t *), o->size, seq++);
                tx[i]->data_len = (uint16_t)o->size;
                tx[i]->pkt_len = o->size;
            }
            uint16_t k = rte_eth_tx_burst(port, 0, tx, BURST);
            if (k < BURST)
                rte_pktmbuf_free_bulk(tx + k, BURST - k);
        }
        uint16_t n = rte_eth_rx_burst(port, 0, rx, BURST);
        r.pkts += n;
        rte_pktmbuf_free_bulk(rx, n);
        if ((it & 1023) == 0)
            t = now();
    }
    r.secs = now() - t0;
    return r;
}

static int run_raw(const struct opts *o)
{
    uint16_t port;
    int rc = 1;
    if (raw_eal_init() < 0)
        return 1;
    struct rte_mempool *mp = rte_pktmbuf_pool_create("bench_mp", NBUFS, o->cache, 0,
                                                     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (!mp)
        fprintf(stderr, "bench_dpdk_raw: mempool: %s\n", rte_strerror(rte_errno));
    else if (rte_eth_dev_get_port_by_name("net_ring0", &port) != 0)
        fprintf(stderr, "bench_dpdk_raw: no net_ring0\n");
    else if (raw_port_start(port, mp) == 0) {
        struct result r = raw_loop(port, mp, o);
        char mode[16];
        snprintf(mode, sizeof(mode), o->cache ? "raw/c" : "raw");
        print_result(mode, o, &r);
        rte_eth_dev_stop(port);
        rte_eth_dev_close(port);
        rc = 0;
    }
    rte_mempool_free(mp);
    rte_eal_cleanup();
    nftw(rundir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return rc;
}

/* ---- through port.h ------------------------------------------------------------------ */

static int run_port(const struct opts *o)
{
    struct nb_port_conf c = { .kind = NB_PORT_RING, .nr_bufs = NBUFS };
    struct nb_port *p;
    struct nb_pkt tx[BURST], rx[BURST];
    char err[256];
    if (nb_port_open(&p, &c, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_dpdk_raw: %s\n", err);
        return 1;
    }
    struct result r = { 0, 0 };
    uint32_t seq = 0;
    double t0 = now(), end = t0 + o->seconds, t = t0;
    for (uint64_t it = 0; t < end; it++) {
        if (nb_port_alloc(p, tx, BURST) == BURST) {
            for (unsigned i = 0; i < BURST; i++) {
                write_frame(tx[i].data, o->size, seq++);
                tx[i].len = (uint16_t)o->size;
            }
            unsigned k = nb_port_tx(p, tx, BURST);
            nb_port_free(p, tx + k, BURST - k);
        }
        unsigned n = nb_port_rx(p, rx, BURST);
        r.pkts += n;
        nb_port_free(p, rx, n);
        if ((it & 1023) == 0)
            t = now();
    }
    r.secs = now() - t0;
    print_result("port", o, &r);
    nb_port_close(p);
    return 0;
}

/* ---- main ---------------------------------------------------------------------------- */

static int run_child(int (*fn)(const struct opts *), const struct opts *o)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0)
        _exit(fn(o));
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_dpdk_raw [SECONDS] [--size BYTES] [--cache N] [--port | --both]\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct opts o = { .seconds = 3.0, .size = 64, .cache = 0, .mode = MODE_RAW };
    for (int i = 1; i < argc; i++) {
        char *end;
        if (!strcmp(argv[i], "--port"))
            o.mode = MODE_PORT;
        else if (!strcmp(argv[i], "--both"))
            o.mode = MODE_BOTH;
        else if (!strcmp(argv[i], "--size") && i + 1 < argc)
            o.size = (unsigned)strtoul(argv[++i], &end, 10);
        else if (!strcmp(argv[i], "--cache") && i + 1 < argc)
            o.cache = (unsigned)strtoul(argv[++i], &end, 10);
        else if (argv[i][0] != '-' && (o.seconds = strtod(argv[i], &end)) > 0 && !*end)
            continue;
        else
            return usage();
    }
    if (o.size < 60 || o.size > 2048 || o.cache > RTE_MEMPOOL_CACHE_MAX_SIZE || o.seconds <= 0)
        return usage();
    if (o.mode == MODE_RAW)
        return run_raw(&o);
    if (o.mode == MODE_PORT)
        return run_port(&o);
    int rc = run_child(run_raw, &o);
    return run_child(run_port, &o) || rc;
}
