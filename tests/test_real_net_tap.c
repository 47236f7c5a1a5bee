/* test_real_net_tap.c — the host reaches a guest through netback's TAP
 * port: in a network namespace of its own (so that no packet leaves it),
 * this test runs `fairvisor run` with `netback.port: tap`, then the host's
 * own `ping -c 20` gets 20 replies from the guest at 198.18.0.2, and a UDP
 * socket on the host side exchanges datagrams with the guest's net-echo
 * server, payloads intact.
 *
 * Skipped (77) without root, /dev/net/tun, ping, or a DPDK build. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "netback/port.h"
#include "testutil.h"

#define IFNAME "fvt0"

static const char *scenario =
    "name: tap-echo\n"
    "engine: real\n"
    "duration: %ds\n"
    "pcpus: 2\n"
    "netback: { port: tap, tap: { name: " IFNAME ", address: 198.18.0.1/24 } }\n"
    "domains:\n"
    "  - name: echo\n"
    "    workload: { kind: net-echo, role: server, port: 7 }\n"
    "    vifs: [{ ip: 198.18.0.2/24 }]\n"
    "  - name: hog\n"
    "    workload: { kind: cpu-hog }\n";

static void need(void)
{
    char why[256];
    if (geteuid() != 0)
        TU_SKIP("needs root (a network namespace and a TAP interface)");
    if (access("/dev/net/tun", R_OK | W_OK) != 0)
        TU_SKIP("no /dev/net/tun (load the tun module)");
    if (nb_port_available(NB_PORT_TAP, why, sizeof(why)))
        TU_SKIP("%s", why);
    if (system("command -v ping >/dev/null 2>&1") != 0)
        fail_msg("ping is missing: tools/deps installs iputils-ping");
}

/* This process and everything it starts get a namespace of their own. */
static void private_netns(void)
{
    if (unshare(CLONE_NEWNET) != 0)
        TU_SKIP("unshare(CLONE_NEWNET): %s", strerror(errno));
    assert_int_equal(system("ip link set lo up"), 0);
}

/* Start fairvisor in the background; returns its pid. */
static pid_t start(const char *dir, int seconds)
{
    char text[1024], path[512], out[512];
    snprintf(text, sizeof(text), scenario, seconds);
    char *file = tu_write(dir, "tap.yaml", text);
    snprintf(out, sizeof(out), "%s/out", dir);
    snprintf(path, sizeof(path), "%s/log", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(tu_bin(), "fairvisor", "run", file, "--out", out, (char *)NULL);
        _exit(127);
    }
    free(file);
    return pid;
}

/* Wait until the TAP interface is up with its address. */
static void wait_for_tap(pid_t pid)
{
    double t0 = tu_now();
    while (tu_now() - t0 < TU_WAIT_S) {
        if (system("ip -o addr show dev " IFNAME " 2>/dev/null | grep -q 198.18.0.1/24") == 0)
            return;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            fail_msg("fairvisor exited (status %d) before " IFNAME " came up", st);
        usleep(20000);
    }
    fail_msg(IFNAME " did not come up within %.0f s", TU_WAIT_S);
}

static int finish(pid_t pid)
{
    int st = 0;
    double t0 = tu_now();
    while (waitpid(pid, &st, WNOHANG) != pid) {
        if (tu_now() - t0 > TU_WAIT_S) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            fail_msg("fairvisor did not finish");
        }
        usleep(50000);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Datagrams to the guest's echo server come back unchanged. */
static int udp_exchange(int n)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    struct timeval tv = { 1, 0 };
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(7) };
    inet_pton(AF_INET, "198.18.0.2", &to.sin_addr);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        char msg[64], back[128];
        int len = snprintf(msg, sizeof(msg), "fairvisor datagram %d", i);
        assert_int_equal(sendto(s, msg, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)), len);
        ssize_t r = recv(s, back, sizeof(back), 0);
        if (r == len && memcmp(back, msg, (size_t)len) == 0)
            ok++;
    }
    close(s);
    return ok;
}

static void host_reaches_guest(void **state)
{
    (void)state;
    need();
    private_netns();
    char *dir = tu_tmpdir();
    pid_t pid = start(dir, 8);
    wait_for_tap(pid);
    char *out = NULL;
    int rc = tu_run("ping -c 20 -i 0.05 -W 2 198.18.0.2", &out);
    if (rc != 0 || !strstr(out, "20 received"))
        fail_msg("ping: status %d:\n%s", rc, out);
    free(out);
    int ok = udp_exchange(20);
    assert_int_equal(ok, 20);
    assert_int_equal(finish(pid), 0);
    /* DPDK's runtime directory went with the process. */
    char rundir[128];
    struct stat sb;
    snprintf(rundir, sizeof(rundir), "/var/run/dpdk/fv-%d", (int)pid);
    assert_int_equal(stat(rundir, &sb), -1);
    char sum[512];
    snprintf(sum, sizeof(sum), "%s/out", dir);
    json_t *j = tu_summary(sum);
    json_t *echo = json_array_get(json_object_get(j, "domains"), 0);
    assert_string_equal(json_string_value(json_object_get(echo, "name")), "echo");
    json_t *net = json_object_get(echo, "net");
    /* 20 echo requests and 20 datagrams at least (plus ARP) each way */
    assert_true(json_integer_value(json_object_get(net, "rx_pkts")) >= 40);
    assert_true(json_integer_value(json_object_get(net, "tx_pkts")) >= 40);
    assert_int_equal(json_integer_value(json_object_get(echo, "work_units")), 20);
    json_decref(j);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(host_reaches_guest),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
