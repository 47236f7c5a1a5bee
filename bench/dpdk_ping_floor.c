/* dpdk_ping_floor.c — the floor for a host's ping to a guest over a TAP
 * port: a bare DPDK program (raw DPDK calls, no fairvisor) that creates a
 * net_tap interface and answers ARP and ICMP echo on it with the same
 * guest network stack the guests run (workloads/netstack.h), busy-polling
 * one core. bench/ping_tap.sh pings it and then a fairvisor guest on the
 * same kind of port, side by side.
 *   dpdk_ping_floor IFNAME SECONDS      (answers as 198.18.0.2/24)
 * The caller brings IFNAME up with 198.18.0.1/24 once it exists. */
#include <errno.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "workloads/netstack.h"

#define BURST 32

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static int start(const char *ifname, uint16_t *port, struct rte_mempool **mp)
{
    static char prefix[40], vdev[64];
    char *argv[] = { "dpdk_ping_floor", "-l", "0", "--no-huge", "-m", "512", "--no-pci",
                     "--no-shconf", "--no-telemetry", "--file-prefix", prefix, "--vdev", vdev,
                     "--log-level=crit", NULL };
    snprintf(prefix, sizeof(prefix), "fv-ping-%d", (int)getpid());
    snprintf(vdev, sizeof(vdev), "net_tap0,iface=%s", ifname);
    if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0) {
        fprintf(stderr, "dpdk_ping_floor: rte_eal_init: %s\n", rte_strerror(rte_errno));
        return -1;
    }
    *mp = rte_pktmbuf_pool_create("ping_mp", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    struct rte_eth_conf conf = { 0 };
    if (!*mp || rte_eth_dev_get_port_by_name("net_tap0", port) != 0 ||
        rte_eth_dev_configure(*port, 1, 1, &conf) < 0 ||
        rte_eth_rx_queue_setup(*port, 0, 256, SOCKET_ID_ANY, NULL, *mp) < 0 ||
        rte_eth_tx_queue_setup(*port, 0, 256, SOCKET_ID_ANY, NULL) < 0 ||
        rte_eth_dev_start(*port) < 0) {
        fprintf(stderr, "dpdk_ping_floor: cannot start net_tap0 (%s)\n", ifname);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: dpdk_ping_floor IFNAME SECONDS\n");
        return 2;
    }
    uint16_t port;
    struct rte_mempool *mp;
    if (start(argv[1], &port, &mp) < 0)
        return 1;
    static struct ns_stack ns;
    const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0xff, 0x02 };
    ns_init(&ns, mac, ns_ip(198, 18, 0, 2), 24);
    uint64_t answered = 0;
    double end = now() + atof(argv[2]);
    for (uint64_t it = 0;; it++) {
        struct rte_mbuf *rx[BURST], *tx[BURST];
        uint16_t n = rte_eth_rx_burst(port, 0, rx, BURST), k = 0;
        for (uint16_t i = 0; i < n; i++) {
            uint8_t out[NS_FRAME_MAX];
            uint32_t out_len = 0;
            ns_input(&ns, rte_pktmbuf_mtod(rx[i], uint8_t *), rte_pktmbuf_data_len(rx[i]), out,
                     &out_len, NULL, NULL);
            struct rte_mbuf *m = out_len ? rte_pktmbuf_alloc(mp) : NULL;
            if (m) {
                memcpy(rte_pktmbuf_mtod(m, uint8_t *), out, out_len);
                m->data_len = (uint16_t)out_len;
                m->pkt_len = out_len;
                tx[k++] = m;
            }
        }
        rte_pktmbuf_free_bulk(rx, n);
        uint16_t sent = k ? rte_eth_tx_burst(port, 0, tx, k) : 0;
        if (sent < k)
            rte_pktmbuf_free_bulk(tx + sent, k - sent);
        answered += sent;
        if ((it & 4095) == 0 && now() > end)
            break;
    }
    printf("dpdk_ping_floor: answered %llu frames\n", (unsigned long long)answered);
    rte_eth_dev_stop(port);
    rte_eth_dev_close(port);
    char dir[512];
    snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
    rte_eal_cleanup();
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}
