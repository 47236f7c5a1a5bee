/* port_dpdk.c — netback's DPDK ports: net_ring, net_tap and net_null vdevs
 * behind port.h. Built only when libdpdk is found (FV_HAVE_DPDK).
 *
 * Locking: one caller at a time per port (alloc, free, tx, rx): each port
 * has its own mempool and a single rx/tx queue pair, and net_ring's ring is
 * single-producer single-consumer, so nothing on the data path takes a
 * lock. Different ports may be driven from different threads at once. The
 * mempool has no per-lcore cache (cache size 0): the caller is not an EAL
 * lcore, and in the hypervisor it may be a domain-0 vCPU that moves between
 * host threads, so a per-lcore cache would be indexed by whichever lcore id
 * the current host thread happens to carry (or none). Allocation goes
 * straight to the pool's multi-producer multi-consumer ring. open and close
 * (and with them EAL's one init and one cleanup per process) are
 * serialised by eal_lock.
 *
 * EAL: initialised by the first open with --no-huge -m 512 --no-pci
 * --no-shconf --no-telemetry (no hugepages, no PCI devices: every port is a
 * vdev hot-plugged by rte_eal_hotplug_add), --file-prefix fv-PID so that
 * processes never share a runtime directory, and one lcore: the first CPU
 * the caller may run on. rte_eal_init pins the calling thread to that lcore;
 * the caller is fairvisor's main thread, so its affinity is saved before and
 * restored after. Logs go to stderr (EAL writes to stdout and syslog
 * otherwise) at level notice, net_tap's at crit: on every open it reports
 * that the kernel has no multiq qdisc for rte_flow (unused here) and that
 * it has no secondary process to tell (--no-shconf). FV_DPDK_LOG=LEVEL
 * replaces both with one --log-level=LEVEL (DPDK's syntax: info, or
 * pmd.net.tap:info).
 * Drivers: a shared-library DPDK (Debian's) dlopen()s every PMD in its
 * plugin directory at init; -d only adds to that, and only a static link
 * avoids it. Measured here: 0.15 s and ~30 MB resident for ~160 libraries,
 * once per process. Kept: a static link would put whole-archive PMDs into
 * every executable that links fvcore, for a cost paid once.
 */
#include "port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#define NB_DEFAULT_BUFS 8191u       /* 2^n - 1: the best size for a ring-backed mempool */
#define NB_MAX_BUFS (1u << 20)

enum eal_state { EAL_NONE, EAL_UP, EAL_DOWN };

static pthread_mutex_t eal_lock = PTHREAD_MUTEX_INITIALIZER;
static enum eal_state eal_state;
static unsigned eal_ports;          /* DPDK ports open */
static unsigned eal_seq;            /* names vdevs and mempools uniquely */
static char eal_rundir[512];
static char eal_failure[256];       /* EAL_DOWN: why no DPDK port can open now */
static int eal_down_rc;             /* EAL_DOWN: the error of every later open */

struct nb_dpdk {
    struct nb_port port;
    uint16_t port_id;
    struct rte_mempool *mp;
    char vdev[32];
};

/* ---- the data path ---------------------------------------------------------------- */

static void dpdk_die(const char *call, const char *what)
{
    fprintf(stderr, "netback dpdk port: %s: %s\n", call, what);
    abort();
}

static void pkt_from_mbuf(struct nb_pkt *pkt, struct rte_mbuf *m)
{
    pkt->data = rte_pktmbuf_mtod(m, uint8_t *);
    pkt->len = m->data_len;
    pkt->cap = (uint16_t)(m->buf_len - m->data_off);
    pkt->m = m;
}

/* In bulk: without a per-lcore cache, each mempool put is an atomic ring
 * operation, so one put per burst rather than per buffer. */
static void dpdk_free(struct nb_port *p, struct nb_pkt *pkts, unsigned n)
{
    struct rte_mbuf *m[NB_BURST];
    (void)p;
    for (unsigned done = 0; done < n;) {
        unsigned b = n - done < NB_BURST ? n - done : NB_BURST;
        for (unsigned i = 0; i < b; i++)
            m[i] = pkts[done + i].m;
        rte_pktmbuf_free_bulk(m, b);
        done += b;
    }
}

static unsigned dpdk_alloc(struct nb_port *p, struct nb_pkt *pkts, unsigned n)
{
    struct nb_dpdk *d = (struct nb_dpdk *)p;
    struct rte_mbuf *m[NB_BURST];
    for (unsigned done = 0; done < n;) {
        unsigned b = n - done < NB_BURST ? n - done : NB_BURST;
        if (rte_pktmbuf_alloc_bulk(d->mp, m, b) != 0) {
            dpdk_free(p, pkts, done);
            return 0;
        }
        for (unsigned i = 0; i < b; i++)
            pkt_from_mbuf(&pkts[done + i], m[i]);
        done += b;
    }
    return n;
}

/* The mbuf behind pkt, made to describe the frame the caller wrote. */
static struct rte_mbuf *mbuf_for_tx(struct nb_pkt *pkt)
{
    struct rte_mbuf *m = pkt->m;
    uint8_t *base = m->buf_addr;
    if (pkt->data < base || (size_t)(pkt->data - base) + pkt->len > m->buf_len)
        dpdk_die("nb_port_tx", "a frame that does not fit in its buffer");
    m->data_off = (uint16_t)(pkt->data - base);
    m->data_len = pkt->len;
    m->pkt_len = pkt->len;
    return m;
}

static unsigned dpdk_tx(struct nb_port *p, struct nb_pkt *pkts, unsigned n)
{
    struct nb_dpdk *d = (struct nb_dpdk *)p;
    struct rte_mbuf *m[NB_BURST];
    unsigned sent = 0;
    while (sent < n) {
        unsigned b = n - sent < NB_BURST ? n - sent : NB_BURST;
        for (unsigned i = 0; i < b; i++)
            m[i] = mbuf_for_tx(&pkts[sent + i]);
        unsigned k = rte_eth_tx_burst(d->port_id, 0, m, (uint16_t)b);
        sent += k;
        if (k < b)
            break;
    }
    return sent;
}

static unsigned dpdk_rx(struct nb_port *p, struct nb_pkt *pkts, unsigned n)
{
    struct nb_dpdk *d = (struct nb_dpdk *)p;
    struct rte_mbuf *m[NB_BURST];
    unsigned got = 0;
    while (got < n) {
        unsigned b = n - got < NB_BURST ? n - got : NB_BURST;
        unsigned k = rte_eth_rx_burst(d->port_id, 0, m, (uint16_t)b);
        for (unsigned i = 0; i < k; i++) {
            /* A frame larger than one buffer (a TAP peer with a jumbo
             * MTU) is dropped: callers see whole frames in one buffer. */
            if (m[i]->nb_segs != 1)
                rte_pktmbuf_free(m[i]);
            else
                pkt_from_mbuf(&pkts[got++], m[i]);
        }
        if (k < b)
            break;
    }
    return got;
}

/* ---- EAL, once per process -------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0 && errno != ENOENT)
        fprintf(stderr, "netback dpdk port: cannot remove %s: %s\n", path, strerror(errno));
    return 0;
}

static void remove_rundir(void)
{
    if (eal_rundir[0])
        nftw(eal_rundir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Where EAL puts its runtime directory, for cleaning up after a failed
 * init (on success EAL's own answer replaces it). */
static void guess_rundir(const char *prefix)
{
    const char *base = "/var/run";
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (geteuid() != 0)
        base = xdg ? xdg : "/tmp";
    snprintf(eal_rundir, sizeof(eal_rundir), "%s/dpdk/%s", base, prefix);
}

static int first_cpu(const cpu_set_t *set)
{
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, set))
            return c;
    return 0;
}

static int eal_start(char *err, size_t errlen)
{
    static char prefix[32], lcore[16], loglevel[80] = "--log-level=";
    const char *lv = getenv("FV_DPDK_LOG");
    char *argv[] = { "fairvisor", "-l", lcore, "--no-huge", "-m", "512", "--no-pci",
                     "--no-shconf", "--no-telemetry", "--file-prefix", prefix,
                     "--log-level=notice", "--log-level=pmd.net.tap:crit", NULL };
    int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
    cpu_set_t saved;
    bool have_saved = pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) == 0;

    snprintf(prefix, sizeof(prefix), "fv-%d", (int)getpid());
    if (lv && *lv) {                /* instead of ours, not as well: see above */
        snprintf(loglevel + 12, sizeof(loglevel) - 12, "%s", lv);
        argv[argc - 2] = loglevel;
        argv[--argc] = NULL;
    }
    snprintf(lcore, sizeof(lcore), "%d", have_saved ? first_cpu(&saved) : 0);
    guess_rundir(prefix);
    rte_openlog_stream(stderr);
    int rc = rte_eal_init(argc, argv);
    int e = rte_errno;
    if (have_saved)
        pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
    if (rc < 0) {
        eal_state = EAL_DOWN;
        eal_down_rc = e == EALREADY ? -EALREADY : -EIO;
        remove_rundir();
        snprintf(eal_failure, sizeof(eal_failure), "-%s: DPDK's EAL failed to start: %s "
                 "(its messages are on stderr)", e == EALREADY ? "EALREADY" : "EIO",
                 rte_strerror(e));
        snprintf(err, errlen, "%s", eal_failure);
        return eal_down_rc;
    }
    snprintf(eal_rundir, sizeof(eal_rundir), "%s", rte_eal_get_runtime_dir());
    eal_state = EAL_UP;
    return 0;
}

/* ---- availability ------------------------------------------------------------------ */

/* CAP_NET_ADMIN (12) in the effective set: root, or a capable user. */
static bool have_net_admin(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long caps = 0;
    bool found = false;
    if (!f)
        return geteuid() == 0;
    while (!found && fgets(line, sizeof(line), f))
        found = sscanf(line, "CapEff: %llx", &caps) == 1;
    fclose(f);
    return found ? (caps >> 12) & 1 : geteuid() == 0;
}

static int tap_available(char *why, size_t len)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        snprintf(why, len, "-ENOENT: no /dev/net/tun: load the tun module (modprobe tun); "
                           "in a container, pass the device in (--device /dev/net/tun)");
        return -ENOENT;
    }
    if (fd >= 0)
        close(fd);
    if (fd < 0 || !have_net_admin()) {
        snprintf(why, len, "-EPERM: a TAP port creates a network interface, which needs "
                           "root (CAP_NET_ADMIN): run as root");
        return -EPERM;
    }
    return 0;
}

int nb_dpdk_available(enum nb_port_kind k, char *why, size_t len)
{
    pthread_mutex_lock(&eal_lock);
    int rc = eal_state == EAL_DOWN ? eal_down_rc : 0;
    if (rc)
        snprintf(why, len, "%s", eal_failure);
    pthread_mutex_unlock(&eal_lock);
    if (rc)
        return rc;
    return k == NB_PORT_TAP ? tap_available(why, len) : 0;
}

/* ---- open and close ---------------------------------------------------------------- */

static void dpdk_close(struct nb_port *p);

static const struct nb_port_ops dpdk_ops = {
    .close = dpdk_close, .alloc = dpdk_alloc, .free = dpdk_free, .tx = dpdk_tx, .rx = dpdk_rx,
};

/* EAL stays up from the first open to the end of the process, ports or
 * not: it starts only once per process, and one process may make several
 * runs (tests do). At exit it is cleaned up and its runtime directory goes. */
static void eal_atexit(void)
{
    if (eal_state != EAL_UP)
        return;
    rte_eal_cleanup();
    remove_rundir();
    eal_state = EAL_DOWN;
}

static int check_conf(const struct nb_port_conf *c, char *err, size_t errlen)
{
    if (c->nr_bufs > NB_MAX_BUFS || (c->nr_bufs && c->nr_bufs < 4 * NB_BURST)) {
        snprintf(err, errlen, "-EINVAL: nr_bufs %u: a DPDK port needs %u to %u", c->nr_bufs,
                 4 * NB_BURST, NB_MAX_BUFS);
        return -EINVAL;
    }
    if (c->kind != NB_PORT_TAP)
        return 0;
    const char *n = c->tap_name;
    if (!n || !*n || strlen(n) >= IFNAMSIZ || strpbrk(n, "/:,= \t\n")) {
        snprintf(err, errlen, "-EINVAL: a TAP port needs an interface name of 1 to %d "
                 "characters without / : , = or spaces (got \"%s\")", IFNAMSIZ - 1,
                 n ? n : "(none)");
        return -EINVAL;
    }
    if (c->tap_ip == 0 || c->tap_prefix < 1 || c->tap_prefix > 32) {
        snprintf(err, errlen, "-EINVAL: a TAP port needs an address and a prefix length of "
                 "1..32 (got %u.%u.%u.%u/%u)", c->tap_ip >> 24, (c->tap_ip >> 16) & 255,
                 (c->tap_ip >> 8) & 255, c->tap_ip & 255, c->tap_prefix);
        return -EINVAL;
    }
    return 0;
}

/* Give the host side of a TAP port its address and bring it up. */
static int tap_configure(const struct nb_port_conf *c, char *err, size_t errlen)
{
    struct ifreq ifr = { 0 };
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    const char *step = "socket";
    int rc = 0, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->tap_name);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(c->tap_ip);
    step = "SIOCSIFADDR";
    if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
        goto fail;
    sin->sin_addr.s_addr = htonl(c->tap_prefix == 32 ? ~0u : ~(~0u >> c->tap_prefix));
    step = "SIOCSIFNETMASK";
    if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
        goto fail;
    step = "SIOCGIFFLAGS";
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        goto fail;
    ifr.ifr_flags |= IFF_UP;
    step = "SIOCSIFFLAGS";
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
        goto fail;
    close(fd);
    return 0;
fail:
    rc = -errno;
    snprintf(err, errlen, "-%s: setting up interface %s (%s): %s", rc == -EPERM ? "EPERM" : "EIO",
             c->tap_name, step, strerror(-rc));
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Configure, set up one rx/tx queue pair and start ethdev d->port_id. */
static int eth_start(struct nb_dpdk *d, char *err, size_t errlen)
{
    struct rte_eth_conf conf = { 0 };
    uint16_t nrx = 64, ntx = 64;    /* net_tap pre-fills its rx queue: keep it small */
    const char *step = "rte_eth_dev_configure";
    int rc = rte_eth_dev_configure(d->port_id, 1, 1, &conf);
    if (rc == 0) {
        step = "rte_eth_dev_adjust_nb_rx_tx_desc";
        rc = rte_eth_dev_adjust_nb_rx_tx_desc(d->port_id, &nrx, &ntx);
    }
    if (rc == 0) {
        step = "rte_eth_rx_queue_setup";
        rc = rte_eth_rx_queue_setup(d->port_id, 0, nrx, SOCKET_ID_ANY, NULL, d->mp);
    }
    if (rc == 0) {
        step = "rte_eth_tx_queue_setup";
        rc = rte_eth_tx_queue_setup(d->port_id, 0, ntx, SOCKET_ID_ANY, NULL);
    }
    if (rc == 0) {
        step = "rte_eth_dev_start";
        rc = rte_eth_dev_start(d->port_id);
    }
    if (rc < 0)
        snprintf(err, errlen, "-EIO: %s (%s): %s", step, d->vdev, rte_strerror(-rc));
    return rc < 0 ? -EIO : 0;
}

/* The vdev, its ethdev and its mempool for d (EAL is up). */
static int dpdk_create(struct nb_dpdk *d, const struct nb_port_conf *c, char *err, size_t errlen)
{
    static const char *const drv[] = { [NB_PORT_RING] = "net_ring", [NB_PORT_TAP] = "net_tap",
                                       [NB_PORT_NULL] = "net_null" };
    char mpname[RTE_MEMPOOL_NAMESIZE], args[64] = "";
    unsigned seq = eal_seq++;
    int rc, ret = -EIO;

    snprintf(d->vdev, sizeof(d->vdev), "%s%u", drv[c->kind], seq);
    snprintf(mpname, sizeof(mpname), "nb_mp%u", seq);
    if (c->kind == NB_PORT_TAP)
        snprintf(args, sizeof(args), "iface=%s", c->tap_name);
    else if (c->kind == NB_PORT_NULL)
        snprintf(args, sizeof(args), "no-rx=1");   /* else net_null's rx makes up frames */
    d->mp = rte_pktmbuf_pool_create(mpname, c->nr_bufs ? c->nr_bufs : NB_DEFAULT_BUFS, 0, 0,
                                    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (!d->mp) {
        snprintf(err, errlen, "-ENOMEM: no mempool for %s: %s (EAL has -m 512 MB)", d->vdev,
                 rte_strerror(rte_errno));
        return -ENOMEM;
    }
    rc = rte_eal_hotplug_add("vdev", d->vdev, args);
    if (rc < 0) {
        snprintf(err, errlen, "-EIO: creating DPDK vdev %s,%s failed: %s (DPDK's messages are "
                 "on stderr)", d->vdev, args, rte_strerror(-rc));
        goto undo_mempool;
    }
    if (rte_eth_dev_get_port_by_name(d->vdev, &d->port_id) != 0) {
        snprintf(err, errlen, "-EIO: vdev %s has no ethdev", d->vdev);
        goto undo_vdev;
    }
    if (eth_start(d, err, errlen) < 0)
        goto undo_ethdev;
    if (c->kind == NB_PORT_TAP && (ret = tap_configure(c, err, errlen)) < 0)
        goto undo_started;
    return 0;

undo_started:
    rte_eth_dev_stop(d->port_id);
undo_ethdev:
    rte_eth_dev_close(d->port_id);
undo_vdev:
    rte_eal_hotplug_remove("vdev", d->vdev);
undo_mempool:
    rte_mempool_free(d->mp);
    return ret;
}

static int dpdk_open_locked(struct nb_port **out, const struct nb_port_conf *c, char *err,
                            size_t errlen)
{
    int rc = check_conf(c, err, errlen);
    if (rc == 0 && eal_state == EAL_DOWN) {
        snprintf(err, errlen, "%s", eal_failure);
        rc = eal_down_rc;
    }
    if (rc == 0 && c->kind == NB_PORT_TAP) {
        rc = tap_available(err, errlen);
        if (rc == 0 && if_nametoindex(c->tap_name) != 0) {
            snprintf(err, errlen, "-EEXIST: a network interface named %s already exists",
                     c->tap_name);
            rc = -EEXIST;
        }
    }
    if (rc == 0 && eal_state == EAL_NONE) {
        rc = eal_start(err, errlen);
        if (rc == 0)
            atexit(eal_atexit);
    }
    if (rc < 0)
        return rc;

    struct nb_dpdk *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "-ENOMEM: no memory for a port");
        return -ENOMEM;
    }
    d->port = (struct nb_port){ .ops = &dpdk_ops, .kind = c->kind };
    rc = dpdk_create(d, c, err, errlen);
    if (rc < 0) {
        free(d);
        return rc;
    }
    eal_ports++;
    *out = &d->port;
    return 0;
}

int nb_dpdk_open(struct nb_port **out, const struct nb_port_conf *c, char *err, size_t errlen)
{
    pthread_mutex_lock(&eal_lock);
    int rc = dpdk_open_locked(out, c, err, errlen);
    pthread_mutex_unlock(&eal_lock);
    return rc;
}

static void dpdk_close(struct nb_port *p)
{
    struct nb_dpdk *d = (struct nb_dpdk *)p;
    struct nb_pkt pkts[NB_BURST];
    unsigned k;

    /* Frames still in flight go back to the pool first, so that what is
     * left in use afterwards is what the caller kept. Bounded: a TAP peer
     * may keep sending. */
    for (int i = 0; i < 64 && (k = dpdk_rx(p, pkts, NB_BURST)) > 0; i++)
        dpdk_free(p, pkts, k);
    pthread_mutex_lock(&eal_lock);
    rte_eth_dev_stop(d->port_id);
    rte_eth_dev_close(d->port_id);
    rte_eal_hotplug_remove("vdev", d->vdev);
    unsigned held = rte_mempool_in_use_count(d->mp);
    if (held)
        fprintf(stderr, "netback dpdk port: %s closed with %u buffer(s) still held by the "
                "caller\n", d->vdev, held);
    rte_mempool_free(d->mp);
    free(d);
    eal_ports--;
    pthread_mutex_unlock(&eal_lock);
}
