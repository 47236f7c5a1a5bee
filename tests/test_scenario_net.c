/* test_scenario_net.c — the scenario loader's network: `vifs` and their auto
 * MACs and IPs, rates, `netback:` and `dom0:`, Domain-0 appended last,
 * netback.cpu: dedicated pinning, `peer: host`, every refusal with its exact
 * message and position, the resolved scenario.yaml loading back to the same
 * scenario, and a CPU-only scenario written exactly as before networking. */
#include "testutil.h"
#include "scn_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SINK "    workload: net-sink\n"
#define VIF(x) "    vifs: [" x "]\n"

static const char *mac_str(const struct scn_vif *v)
{
    static char b[32];
    snprintf(b, sizeof(b), "%02x:%02x:%02x:%02x:%02x:%02x", v->mac[0], v->mac[1], v->mac[2],
             v->mac[3], v->mac[4], v->mac[5]);
    return b;
}

static const char *ip_str(uint32_t ip)
{
    static char b[32];
    snprintf(b, sizeof(b), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
    return b;
}

static bool iface_exists(const char *name)
{
    char path[64];
    snprintf(path, sizeof(path), "/sys/class/net/%s", name);
    return access(path, F_OK) == 0;
}

/* A TAP name no interface of this host has (the TAP tests need one). */
#define FREE_TAP "fvscntest0"
/* A TAP port needs the real engine (the loader refuses it in virtual time). */
#define TAP_HEAD MIN_HEAD "engine: real\n" "netback: { port: tap, tap: { name: " FREE_TAP " } }\n"

/* ---- defaults --------------------------------------------------------------- */

static void test_auto_macs_ips(void **st)
{
    (void)st;
    struct scenario s;
    load_ok(MIN_HEAD "domains:\n  - name: flood\n    workload: { kind: net-flood, peer: sink }\n"
            "  - name: sink\n" SINK "  - name: web\n" VIF("{}, { weight: 7 }")
            "  - name: hog\n    workload: cpu-hog\n", NULL, 0, &s);
    assert_int_equal(s.nr_guests, 4);
    assert_int_equal(s.nr_domains, 5);
    static const char *const macs[] = { "00:16:3e:00:01:00", "00:16:3e:00:02:00",
                                        "00:16:3e:00:03:00", "00:16:3e:00:03:01" };
    static const char *const ips[] = { "198.18.0.2", "198.18.0.3", "198.18.0.4", "198.18.0.5" };
    static const int dom[] = { 0, 1, 2, 2 }, idx[] = { 0, 0, 0, 1 };
    assert_int_equal(s.domains[0].nr_vifs, 1);
    assert_int_equal(s.domains[1].nr_vifs, 1);
    assert_int_equal(s.domains[2].nr_vifs, 2);
    assert_int_equal(s.domains[3].nr_vifs, 0);
    assert_null(s.domains[3].vifs);
    for (int k = 0; k < 4; k++) {
        const struct scn_vif *v = &s.domains[dom[k]].vifs[idx[k]];
        assert_string_equal(mac_str(v), macs[k]);
        assert_string_equal(ip_str(v->ip), ips[k]);
        assert_int_equal(v->prefix, 24);
        assert_int_equal(v->weight, k == 3 ? 7 : 256);
        assert_int_equal(v->rate_bytes, 0);
        assert_int_equal(v->rate_interval, FV_MS(50));
    }
    /* netback's defaults */
    const struct scn_netback *nb = &s.netback;
    assert_int_equal(nb->port, SCN_NB_RING);
    assert_int_equal(nb->cpu, SCN_NB_DOM0);
    assert_string_equal(nb->tap_name, "fv0");
    assert_string_equal(ip_str(nb->tap_ip), "198.18.0.1");
    assert_int_equal(nb->tap_prefix, 24);
    assert_int_equal(nb->poll, FV_US(100));
    assert_int_equal(nb->cost_packet, 70);
    assert_int_equal(nb->cost_burst, FV_US(1));
    assert_int_equal(nb->cost_kib, 350);
    assert_int_equal(nb->cost_notify, FV_US(15));
    /* Domain-0, last */
    assert_int_equal(s.dom0, 4);
    const struct scn_domain *d0 = &s.domains[4];
    assert_string_equal(d0->name, "Domain-0");
    assert_int_equal(d0->id, 0);
    assert_true(d0->is_dom0);
    assert_int_equal(d0->vcpus, 1);
    assert_int_equal(d0->sp.weight, 256);
    assert_int_equal(d0->sp.cap, 0);
    assert_int_equal(d0->memory, 64ULL << 20);
    assert_string_equal(d0->wl.desc->kind, "backends");
    assert_int_equal(d0->nr_vifs, 0);
    assert_false(d0->pinned);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(s.domains[i].id, i + 1);
        assert_false(s.domains[i].is_dom0);
        assert_false(s.domains[i].pinned);
    }
    /* net-flood's peer is sink's id */
    assert_int_equal(s.domains[0].wl.args.v[workload_param_index(s.domains[0].wl.desc, "peer")],
                     2);
    scenario_free(&s);
}

/* Auto addresses skip the given ones and the TAP's; replicas each get
 * their own; an address without a prefix takes the TAP's. */
static void test_auto_skips_given(void **st)
{
    (void)st;
    struct scenario s;
    load_ok(MIN_HEAD "netback: { tap: { address: 198.18.0.3/24 } }\ndomains:\n"
            "  - name: a\n" VIF("{ ip: 198.18.0.4, mac: 02:00:00:00:00:09 }, {}")
            "  - name: r\n    count: 2\n" SINK, NULL, 0, &s);
    assert_int_equal(s.nr_guests, 3);
    assert_string_equal(ip_str(s.domains[0].vifs[0].ip), "198.18.0.4");
    assert_int_equal(s.domains[0].vifs[0].prefix, 24);
    assert_string_equal(mac_str(&s.domains[0].vifs[0]), "02:00:00:00:00:09");
    assert_string_equal(ip_str(s.domains[0].vifs[1].ip), "198.18.0.1");
    assert_string_equal(mac_str(&s.domains[0].vifs[1]), "00:16:3e:00:01:01");
    assert_string_equal(ip_str(s.domains[1].vifs[0].ip), "198.18.0.2");
    assert_string_equal(mac_str(&s.domains[1].vifs[0]), "00:16:3e:00:02:00");
    assert_string_equal(ip_str(s.domains[2].vifs[0].ip), "198.18.0.5");
    assert_string_equal(mac_str(&s.domains[2].vifs[0]), "00:16:3e:00:03:00");
    scenario_free(&s);
    /* A prefix written is kept; the TAP's /24 is the default otherwise. */
    load_ok(MIN_HEAD "domains:\n  - name: a\n" VIF("{ ip: 10.9.8.7/8 }, { ip: 10.9.8.6 }"), NULL,
            0, &s);
    assert_int_equal(s.domains[0].vifs[0].prefix, 8);
    assert_int_equal(s.domains[0].vifs[1].prefix, 24);
    scenario_free(&s);
}

/* Past 253 vifs the subnet is RFC 2544's whole /15: 198.18.0.255 and
 * 198.18.1.0 are skipped all the same; MACs carry the id's two bytes. */
static void test_many_vifs(void **st)
{
    (void)st;
    struct scenario s;
    load_ok(MIN_HEAD "domains:\n  - name: a\n    count: 300\n" SINK, NULL, 0, &s);
    assert_int_equal(s.netback.tap_prefix, 15);
    assert_string_equal(ip_str(s.netback.tap_ip), "198.18.0.1");
    assert_string_equal(ip_str(s.domains[252].vifs[0].ip), "198.18.0.254");
    assert_string_equal(ip_str(s.domains[253].vifs[0].ip), "198.18.1.1");
    assert_string_equal(ip_str(s.domains[299].vifs[0].ip), "198.18.1.47");
    assert_int_equal(s.domains[299].vifs[0].prefix, 15);
    assert_string_equal(mac_str(&s.domains[299].vifs[0]), "00:16:3e:01:2c:00");
    scenario_free(&s);
    /* 253 fit in one /24 */
    load_ok(MIN_HEAD "domains:\n  - name: a\n    count: 253\n" SINK, NULL, 0, &s);
    assert_int_equal(s.netback.tap_prefix, 24);
    assert_string_equal(ip_str(s.domains[252].vifs[0].ip), "198.18.0.254");
    scenario_free(&s);
    /* No more than the subnet holds */
    load_bad(MIN_HEAD "netback: { tap: { address: 10.0.0.1/29 } }\ndomains:\n  - name: a\n"
             "    count: 6\n" SINK, NULL, 0, "s.yaml:4:5: no address left in 10.0.0.0/29 for "
             "vif 0 of domain a-5 (expected fewer vifs or fewer given ips, or "
             "netback.tap.address with a shorter prefix)");
}

static void test_default_vif(void **st)
{
    (void)st;
    struct scenario s;
    static const char *const kinds[] = { "net-flood, peer: b", "net-sink",
                                         "net-echo, role: client, peer: b" };
    static const char *const peers[] = { "net-sink", "net-sink", "{ kind: net-echo, role: server }" };
    for (int k = 0; k < 3; k++) {
        char text[512];
        snprintf(text, sizeof(text), MIN_HEAD "domains:\n  - name: a\n    workload: { kind: %s }\n"
                 "  - name: b\n    workload: %s\n", kinds[k], peers[k]);
        load_ok(text, NULL, 0, &s);
        assert_int_equal(s.domains[0].nr_vifs, 1);
        assert_int_equal(s.domains[1].nr_vifs, 1);
        assert_int_equal(s.dom0, 2);
        scenario_free(&s);
    }
    /* No network: no netback, no Domain-0; `vifs: []` is no vif. */
    load_ok(MIN_HEAD "domains:\n  - name: a\n    workload: cpu-hog\n    vifs: []\n  - name: b\n",
            NULL, 0, &s);
    assert_int_equal(s.nr_domains, 2);
    assert_int_equal(s.nr_guests, 2);
    assert_int_equal(s.dom0, -1);
    assert_int_equal(s.netback.port, SCN_NB_NONE);
    assert_int_equal(s.domains[0].nr_vifs, 0);
    assert_false(s.domains[0].is_dom0 || s.domains[1].is_dom0);
    scenario_free(&s);
}

static void test_dom0_params(void **st)
{
    (void)st;
    struct scenario s;
    load_ok(MIN_HEAD "dom0: { vcpus: 2, weight: 512, cap: 150, memory: 128MiB }\n"
            "netback: { port: null, poll: 20us, cost: { packet: 1us, burst: 0ns, kib: 3ns } }\n"
            "domains:\n  - name: a\n" SINK, NULL, 0, &s);
    const struct scn_domain *d = &s.domains[s.dom0];
    assert_int_equal(s.dom0, 1);
    assert_int_equal(d->vcpus, 2);
    assert_int_equal(d->sp.weight, 512);
    assert_int_equal(d->sp.cap, 150);
    assert_int_equal(d->memory, 128ULL << 20);
    assert_int_equal(s.netback.port, SCN_NB_NULL);
    assert_int_equal(s.netback.poll, FV_US(20));
    assert_int_equal(s.netback.cost_packet, FV_US(1));
    assert_int_equal(s.netback.cost_burst, 0);
    assert_int_equal(s.netback.cost_kib, 3);
    scenario_free(&s);
}

static void test_dedicated(void **st)
{
    (void)st;
    struct scenario s;
    load_ok(MIN_HEAD "pcpus: 4\nnetback: { cpu: dedicated }\ndomains:\n  - name: a\n    pin: [0]\n"
            SINK "  - name: b\n    count: 2\n", NULL, 0, &s);
    assert_int_equal(s.netback.cpu, SCN_NB_DEDICATED);
    assert_int_equal(s.nr_domains, 4);
    assert_true(s.domains[0].pinned);
    assert_int_equal(cpumask_weight(&s.domains[0].pin), 1);
    assert_true(cpumask_test(&s.domains[0].pin, 0));
    for (int i = 1; i <= 2; i++) {
        assert_true(s.domains[i].pinned);
        assert_int_equal(cpumask_weight(&s.domains[i].pin), 3);
        assert_false(cpumask_test(&s.domains[i].pin, 3));
    }
    const struct scn_domain *d0 = &s.domains[3];
    assert_true(d0->is_dom0 && d0->pinned);
    assert_int_equal(cpumask_weight(&d0->pin), 1);
    assert_true(cpumask_test(&d0->pin, 3));
    scenario_free(&s);
}

/* ---- rates ------------------------------------------------------------------- */

/* The credit per interval is floor(rate in bytes/s x interval), at least
 * one byte: 10Mbit/s is 1250000 B/s, 62500 per 50ms; 1MiB/s is 1048576
 * B/s, 52428.8 per 50ms rounded down to 52428. */
static void test_rates(void **st)
{
    (void)st;
    static const struct {
        const char *rate;
        uint64_t bytes;
        fv_ns_t interval;
    } cases[] = {
        { "10Mbit/s@50ms", 62500, FV_MS(50) },
        { "10Mbit/s", 62500, FV_MS(50) },
        { "10Mbit", 62500, FV_MS(50) },
        { "1MiB/s", 52428, FV_MS(50) },
        { "1MiB/s@100ms", 104857, FV_MS(100) },
        { "1bit/s", 1, FV_MS(50) },
        { "1.5Mbit/s", 9375, FV_MS(50) },
        { "100kbit/s@20ms", 250, FV_MS(20) },
        { "100Kbit/s@1s", 12500, FV_SEC(1) },
        { "8Gbit/s@1s", 1000000000, FV_SEC(1) },
        { "64KiB/50ms@50ms", 65536, FV_MS(50) },
        { "1KiB/ms@100us", 102, FV_US(100) },
        { "10 Mbit/s@2.5ms", 3125, FV_US(2500) },
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char text[256];
        struct scenario s;
        snprintf(text, sizeof(text), MIN_HEAD "domains:\n  - name: a\n    vifs: [{ rate: \"%s\" }]\n",
                 cases[k].rate);
        load_ok(text, NULL, 0, &s);
        if (s.domains[0].vifs[0].rate_bytes != cases[k].bytes)
            fail_msg("%s: %llu bytes (expected %llu)", cases[k].rate,
                     (unsigned long long)s.domains[0].vifs[0].rate_bytes,
                     (unsigned long long)cases[k].bytes);
        assert_int_equal(s.domains[0].vifs[0].rate_interval, cases[k].interval);
        scenario_free(&s);
    }
}

#define RATE_EXPECT "(expected RATE/s[@INTERVAL] such as 10Mbit/s@50ms, RATE in bit, kbit, Mbit, " \
                    "Gbit, B, KiB, MiB or GiB"
#define VIF_HEAD MIN_HEAD "domains:\n  - name: a\n    vifs: "

static void test_rate_refusals(void **st)
{
    (void)st;
    load_bad(VIF_HEAD "[{ rate: 10Mb/s }]\n", NULL, 0,
             "s.yaml:4:20: rate \"10Mb/s\" is not a rate " RATE_EXPECT ")");
    load_bad(VIF_HEAD "[{ rate: 10 }]\n", NULL, 0,
             "s.yaml:4:20: rate \"10\" is not a rate " RATE_EXPECT ")");
    load_bad(VIF_HEAD "[{ rate: \"10Mbit/s@\" }]\n", NULL, 0,
             "s.yaml:4:20: rate \"10Mbit/s@\" is not a rate " RATE_EXPECT ")");
    load_bad(VIF_HEAD "[{ rate: 0Mbit/s }]\n", NULL, 0, "s.yaml:4:20: rate 0Mbit/s is zero "
             "(expected a rate > 0: a vif without rate is unlimited)");
    load_bad(VIF_HEAD "[{ rate: 1Mbit/s@10us }]\n", NULL, 0, "s.yaml:4:20: rate 1Mbit/s@10us "
             "credits every 10us (expected @INTERVAL >= 100us: Xen's minimum timer)");
    load_bad(VIF_HEAD "[{ rate: -1Mbit/s }]\n", NULL, 0,
             "s.yaml:4:20: rate -1Mbit/s is negative " RATE_EXPECT ")");
    load_bad(VIF_HEAD "[{ rate: 0.1bit/s }]\n", NULL, 0,
             "s.yaml:4:20: rate 0.1bit/s is not a whole number of bits " RATE_EXPECT ")");
    load_bad(VIF_HEAD "[{ rate: 10Mbit/0s }]\n", NULL, 0,
             "s.yaml:4:20: rate 10Mbit/0s is out of range " RATE_EXPECT ", each part > 0)");
    load_bad(VIF_HEAD "[{ rate: 1TiB/1ns@1s }]\n", NULL, 0, "s.yaml:4:20: rate 1TiB/1ns@1s is out "
             "of range (expected at most 1152921504606846975 bytes per interval)");
}

/* ---- peer: host, and roles without a peer ------------------------------------ */

static void test_peer_host(void **st)
{
    (void)st;
    if (iface_exists(FREE_TAP))
        TU_SKIP("an interface named " FREE_TAP " exists on this host");
    struct scenario s;
    load_ok(TAP_HEAD "domains:\n  - name: a\n    workload: { kind: net-flood, peer: host }\n"
            "  - name: c\n    workload: { kind: net-echo, role: client, peer: host }\n", NULL, 0, &s);
    assert_int_equal(s.netback.port, SCN_NB_TAP);
    assert_string_equal(s.netback.tap_name, FREE_TAP);
    assert_int_equal(s.domains[0].wl.args.v[workload_param_index(s.domains[0].wl.desc, "peer")], 0);
    assert_int_equal(s.domains[1].wl.args.v[workload_param_index(s.domains[1].wl.desc, "peer")], 0);
    scenario_free(&s);
    const char *text = MIN_HEAD "domains:\n  - name: a\n    workload: { kind: net-flood, peer: host }\n";
    load_bad(text, NULL, 0, "s.yaml:4:40: peer host is the host side of the TAP port, but "
             "netback.port is ring (expected netback.port: tap, or a domain)");
    const char *null[] = { "netback.port=null" };
    load_bad(text, null, 1, "s.yaml:4:40: peer host is the host side of the TAP port, but "
             "netback.port is null (expected netback.port: tap, or a domain)");
    /* evtchn-ping has no host */
    load_bad(MIN_HEAD "domains:\n  - name: a\n    workload: { kind: evtchn-ping, peer: host }\n",
             NULL, 0, "s.yaml:4:42: peer \"host\" is not a domain (expected the name of another "
             "domain, or its id 1..1)");
    /* A domain named host could be written back only as "host". */
    load_bad(MIN_HEAD "domains:\n  - name: a\n    workload: { kind: net-flood, peer: 2 }\n"
             "  - name: host\n" SINK, NULL, 0, "s.yaml:4:40: peer \"2\" is the domain named host, "
             "which this peer would read as the TAP's host side (expected a domain with another "
             "name)");
    load_bad(MIN_HEAD "domains:\n  - name: a\n    workload: { kind: net-flood, peer: 3 }\n"
             "  - name: b\n" SINK, NULL, 0, "s.yaml:4:40: peer \"3\" is not a domain (expected "
             "the name of another domain, its id 1..2, or host)");
}

static void test_peer_unused(void **st)
{
    (void)st;
    struct scenario s;
    /* A server's peer is not resolved: its default (domain 1) is itself. */
    load_ok(MIN_HEAD "domains:\n  - name: srv\n    workload: { kind: net-echo, role: server }\n",
            NULL, 0, &s);
    assert_int_equal(s.domains[0].wl.args.v[workload_param_index(s.domains[0].wl.desc, "peer")], 0);
    scenario_free(&s);
    load_bad(MIN_HEAD "domains:\n  - name: a\n    workload: { kind: net-echo, role: server, "
             "peer: b }\n  - name: b\n", NULL, 0, "s.yaml:4:53: peer \"b\" means nothing to "
             "net-echo with role server (expected no peer: this role has none)");
    load_bad(MIN_HEAD "domains:\n  - name: a\n    workload: { kind: net-flood, peer: b }\n"
             "  - name: b\n    workload: net-flood\n", NULL, 0, "s.yaml:4:40: peer b runs "
             "net-flood (expected a domain running net-sink)");
    load_bad(MIN_HEAD "domains:\n  - name: c\n    workload: { kind: net-echo, peer: s }\n"
             "  - name: s\n    workload: { kind: net-echo, role: client, peer: c }\n", NULL, 0,
             "s.yaml:4:39: peer s runs net-echo with role client (expected a domain running "
             "net-echo with role server)");
}

/* ---- refusals ------------------------------------------------------------------ */

static void test_netback_refusals(void **st)
{
    (void)st;
    load_bad(MIN_HEAD "netback: { port: wire }\ndomains:\n  - name: a\n" SINK, NULL, 0,
             "s.yaml:2:18: unknown netback.port \"wire\" (expected one of: ring, tap, null)");
    load_bad(MIN_HEAD "netback: { cpu: dedicated }\ndomains:\n  - name: a\n" SINK, NULL, 0,
             "s.yaml:2:17: netback.cpu: dedicated needs pcpus >= 2: one pCPU is netback's own "
             "(expected pcpus >= 2, or cpu: dom0; pcpus is 1)");
    load_bad(MIN_HEAD "netback: { fairness: wfq }\ndomains:\n  - name: a\n" SINK, NULL, 0,
             "s.yaml:2:22: unknown netback.fairness \"wfq\" (expected one of: none, drr)");
    load_bad(MIN_HEAD "netback: { prot: ring }\ndomains:\n  - name: a\n" SINK, NULL, 0,
             "s.yaml:2:12: unknown key \"prot\" in netback (expected one of: port, cpu, tap, "
             "poll, cost, fairness)");
    load_bad(MIN_HEAD "netback: { port: ring }\n" ONE_DOM, NULL, 0, "s.yaml:2:10: netback: no "
             "domain has a vif (expected a domain with vifs, or running a net-* workload)");
    load_bad(MIN_HEAD "dom0: { vcpus: 2 }\n" ONE_DOM, NULL, 0, "s.yaml:2:7: dom0: no domain has "
             "a vif or a vbd (expected a domain with vifs or vbds, or running a net-* or blk-* "
             "workload: Domain-0 runs netback and blkback)");
    load_bad(MIN_HEAD "netback: { tap: { name: abcdefghijklmnop } }\ndomains:\n  - name: a\n" SINK,
             NULL, 0, "s.yaml:2:25: netback.tap.name \"abcdefghijklmnop\" is too long (expected "
             "at most 15 characters)");
    load_bad(MIN_HEAD "netback: { tap: { address: 198.18.0.0 } }\ndomains:\n  - name: a\n" SINK,
             NULL, 0, "s.yaml:2:28: netback.tap.address 198.18.0.0/24 is the network address "
             "of its subnet (expected a host address in 198.18.0.0/24)");
    load_bad(MIN_HEAD "netback: { poll: 0ns }\ndomains:\n  - name: a\n" SINK, NULL, 0,
             "s.yaml:2:18: poll 0ns is out of range (expected a duration > 0)");
    load_bad(MIN_HEAD "dom0: { cap: 150 }\ndomains:\n  - name: a\n" SINK, NULL, 0,
             "s.yaml:2:14: cap 150 is out of range (expected 0..100 for 1 vcpus)");
    load_bad(MIN_HEAD "dom0: { vcpus: 1 }\ndomains:\n  - { name: a, count: 1023, vcpus: 64 }\n"
             "  - name: b\n    vcpus: 64\n" SINK, NULL, 0, "s.yaml:2:16: Domain-0's 1 vcpus make 65537 vCPUs "
             "(expected at most 65536 vCPUs in all: each is an execution context with a stack "
             "of its own)");
}

/* A TAP name the host already has: lo, which every Linux host has. */
/* The host's network stack does not run in virtual time. */
static void test_tap_needs_real(void **st)
{
    (void)st;
    load_bad(MIN_HEAD "netback: { port: tap }\ndomains:\n  - name: a\n" SINK, NULL, 0,
             "s.yaml:2:18: netback.port: tap needs engine: real (the host's own network stack does "
             "not run in virtual time; expected ring or null with engine: sim)");
}

static void test_tap_in_use(void **st)
{
    (void)st;
    if (!iface_exists("lo"))
        TU_SKIP("no loopback interface in /sys/class/net");
    load_bad(MIN_HEAD "engine: real\nnetback: { port: tap, tap: { name: lo } }\ndomains:\n  - name: a\n" SINK,
             NULL, 0, "s.yaml:3:36: netback.tap.name: interface lo already exists on this host "
             "(expected the name of no interface: fairvisor creates the TAP)");
    const char *const set[] = { "netback.tap.name=lo" };
    load_bad(MIN_HEAD "engine: real\nnetback: { port: tap }\ndomains:\n  - name: a\n" SINK, set, 1,
             "--set netback.tap.name=lo: netback.tap.name: interface lo already exists on this "
             "host (expected the name of no interface: fairvisor creates the TAP)");
    /* Only the TAP port creates one. */
    struct scenario s;
    load_ok(MIN_HEAD "netback: { port: ring, tap: { name: lo } }\ndomains:\n  - name: a\n" SINK,
            NULL, 0, &s);
    scenario_free(&s);
}

static void test_mac_refusals(void **st)
{
    (void)st;
    load_bad(MIN_HEAD "domains:\n  - name: a\n" VIF("{ mac: '02:00:00:00:00:01' }") "  - name: b\n"
             VIF("{ mac: '02:00:00:00:00:01' }"), NULL, 0, "s.yaml:6:19: mac 02:00:00:00:00:01 "
             "of vif 0 of domain b is also the mac of vif 0 of domain a (expected a different "
             "MAC for each vif)");
    load_bad(MIN_HEAD "domains:\n  - name: a\n" VIF("{}") "  - name: b\n"
             VIF("{ mac: 00:16:3e:00:01:00 }"), NULL, 0, "s.yaml:6:19: mac 00:16:3e:00:01:00 of "
             "vif 0 of domain b is also the auto mac of vif 0 of domain a (expected a different "
             "MAC for each vif)");
    load_bad(VIF_HEAD "[{ mac: '01:00:5e:00:00:01' }]\n", NULL, 0, "s.yaml:4:19: mac "
             "01:00:5e:00:00:01 is a multicast address (expected a unicast MAC: bit 0 of the "
             "first byte clear)");
    load_bad(VIF_HEAD "[{ mac: '00:00:00:00:00:00' }]\n", NULL, 0, "s.yaml:4:19: mac "
             "00:00:00:00:00:00 is all zeros (expected a unicast MAC, or auto)");
    load_bad(VIF_HEAD "[{ mac: 00:16:3e }]\n", NULL, 0, "s.yaml:4:19: mac \"00:16:3e\" is not a "
             "MAC address (expected auto, or six hex pairs such as 00:16:3e:00:01:00)");
    load_bad(MIN_HEAD "domains:\n  - name: a\n    count: 2\n" VIF("{ mac: '02:00:00:00:00:01' }"),
             NULL, 0, "s.yaml:5:19: mac on a domain with count 2 would be the same on every "
             "replica (expected mac: auto, or no mac key)");
}

static void test_ip_refusals(void **st)
{
    (void)st;
    load_bad(MIN_HEAD "domains:\n  - name: a\n" VIF("{ ip: 10.0.0.5 }") "  - name: b\n"
             VIF("{ ip: 10.0.0.5/16 }"), NULL, 0, "s.yaml:6:18: ip 10.0.0.5 of vif 0 of domain "
             "b is also the ip of vif 0 of domain a (expected a different address for each vif)");
    load_bad(VIF_HEAD "[{ ip: 198.18.0.1 }]\n", NULL, 0, "s.yaml:4:18: ip 198.18.0.1 is the "
             "TAP's address (expected another address: netback.tap.address is 198.18.0.1/24)");
    load_bad(VIF_HEAD "[{ ip: 198.18.0.255 }]\n", NULL, 0, "s.yaml:4:18: ip 198.18.0.255/24 is "
             "the broadcast address of its subnet (expected a host address in 198.18.0.0/24)");
    load_bad(VIF_HEAD "[{ ip: 10.1.0.0/16 }]\n", NULL, 0, "s.yaml:4:18: ip 10.1.0.0/16 is the "
             "network address of its subnet (expected a host address in 10.1.0.0/16)");
    load_bad(VIF_HEAD "[{ ip: 1.2.3 }]\n", NULL, 0, "s.yaml:4:18: ip \"1.2.3\" is not an IPv4 "
             "address (expected auto, or A.B.C.D/PREFIX such as 198.18.0.2/24)");
    load_bad(VIF_HEAD "[{ ip: 1.2.3.04 }]\n", NULL, 0, "s.yaml:4:18: ip \"1.2.3.04\" is not an "
             "IPv4 address (expected auto, or A.B.C.D/PREFIX such as 198.18.0.2/24)");
    load_bad(VIF_HEAD "[{ ip: 1.2.3.4/33 }]\n", NULL, 0, "s.yaml:4:18: ip \"1.2.3.4/33\" has a "
             "bad prefix (expected /1 to /32 after the address, such as /24)");
    load_bad(VIF_HEAD "[{ ip: 224.0.0.1 }]\n", NULL, 0, "s.yaml:4:18: ip 224.0.0.1 is not a "
             "unicast address (expected a host address such as 198.18.0.2/24)");
    load_bad(MIN_HEAD "domains:\n  - name: a\n    count: 2\n" VIF("{ ip: 10.0.0.2 }"), NULL, 0,
             "s.yaml:5:18: ip on a domain with count 2 would be the same on every replica "
             "(expected ip: auto, or no ip key)");
    if (iface_exists(FREE_TAP))
        TU_SKIP("an interface named " FREE_TAP " exists on this host");
    load_bad(TAP_HEAD "domains:\n  - name: a\n" VIF("{ ip: 198.18.1.7 }"), NULL, 0,
             "s.yaml:6:18: ip 198.18.1.7 is outside the TAP's subnet 198.18.0.0/24 (expected an "
             "address in 198.18.0.0/24: netback.port is tap)");
}

static void test_vif_refusals(void **st)
{
    (void)st;
    load_bad(VIF_HEAD "[{},{},{},{},{},{},{},{},{}]\n", NULL, 0,
             "s.yaml:4:11: vifs has 9 entries (expected at most 8 per domain)");
    load_bad(VIF_HEAD "[]\n" SINK, NULL, 0, "s.yaml:4:11: vifs is empty (expected at least one "
             "vif: workload net-sink uses the domain's first)");
    load_bad(VIF_HEAD "{ mac: auto }\n", NULL, 0, "s.yaml:4:11: vifs is a mapping (expected a "
             "list such as [{ mac: auto, ip: auto }])");
    load_bad(VIF_HEAD "[{ weight: 0 }]\n", NULL, 0,
             "s.yaml:4:22: weight 0 is out of range (expected 1..65535)");
    load_bad(VIF_HEAD "[{ mtu: 9000 }]\n", NULL, 0, "s.yaml:4:14: unknown key \"mtu\" in vif "
             "(expected one of: mac, ip, weight, rate)");
}

static void test_pin_dedicated(void **st)
{
    (void)st;
    load_bad(MIN_HEAD "pcpus: 3\nnetback: { cpu: dedicated }\ndomains:\n  - name: a\n"
             "    pin: [0, 2]\n" SINK, NULL, 0, "s.yaml:6:14: pin 2 is netback's dedicated pCPU "
             "(expected pCPUs 0..1: netback.cpu is dedicated)");
    load_bad(MIN_HEAD "pcpus: 2\nnetback: { cpu: dedicated }\ndomains:\n  - name: a\n"
             "    count: 2\n    pin: 1\n" SINK, NULL, 0, "s.yaml:7:10: pin 1 of domain a-0 is "
             "netback's dedicated pCPU (expected pCPUs 0..0: netback.cpu is dedicated)");
}

static void test_reserved_domain0(void **st)
{
    (void)st;
    load_bad(MIN_HEAD "domains:\n  - name: a\n  - name: Domain-0\n", NULL, 0, "s.yaml:4:11: "
             "domain name \"Domain-0\" is reserved for the control domain (expected another name)");
    load_bad(MIN_HEAD "domains:\n  - name: Domain\n    count: 2\n" SINK, NULL, 0, "s.yaml:3:11: "
             "name \"Domain\" with count 2 gives \"Domain-0\", which is reserved for the control "
             "domain (expected another name)");
}

/* ---- --set ------------------------------------------------------------------- */

static void test_sets(void **st)
{
    (void)st;
    struct scenario s;
    const char *const sets[] = { "netback.port=null", "domains.0.vifs.0.ip=10.0.0.9/8",
                                 "domains.a.vifs.1.rate=1Gbit/s@1ms" };
    load_ok(MIN_HEAD "domains:\n  - name: a\n" VIF("{ ip: 10.0.0.5 }, {}"), sets, 3, &s);
    assert_int_equal(s.netback.port, SCN_NB_NULL);
    assert_string_equal(ip_str(s.domains[0].vifs[0].ip), "10.0.0.9");
    assert_int_equal(s.domains[0].vifs[0].prefix, 8);
    assert_int_equal(s.domains[0].vifs[1].rate_bytes, 125000);
    assert_int_equal(s.domains[0].vifs[1].rate_interval, FV_MS(1));
    scenario_free(&s);
    const char *const bad[] = { "domains.0.vifs.0.ip=10.0.0.0/8" };
    load_bad(MIN_HEAD "domains:\n  - name: a\n" VIF("{ ip: 10.0.0.5 }"), bad, 1,
             "--set domains.0.vifs.0.ip=10.0.0.0/8: ip 10.0.0.0/8 is the network address of its "
             "subnet (expected a host address in 10.0.0.0/8)");
}

/* ---- the resolved scenario.yaml ------------------------------------------------ */

static void assert_same_net(const struct scenario *a, const struct scenario *b)
{
    assert_same(a, b);
    assert_int_equal(a->dom0, b->dom0);
    assert_int_equal(a->nr_guests, b->nr_guests);
    assert_memory_equal(&a->netback, &b->netback, sizeof(a->netback));
    for (int i = 0; i < a->nr_domains; i++) {
        const struct scn_domain *x = &a->domains[i], *y = &b->domains[i];
        assert_int_equal(x->is_dom0, y->is_dom0);
        assert_int_equal(x->nr_vifs, y->nr_vifs);
        for (int j = 0; j < x->nr_vifs; j++) {
            const struct scn_vif *v = &x->vifs[j], *w = &y->vifs[j];
            assert_memory_equal(v->mac, w->mac, 6);
            assert_int_equal(v->ip, w->ip);
            assert_int_equal(v->prefix, w->prefix);
            assert_int_equal(v->weight, w->weight);
            assert_int_equal(v->rate_bytes, w->rate_bytes);
            assert_int_equal(v->rate_interval, w->rate_interval);
        }
    }
}

/* Write a's resolved form, load it back into b; the text in *yaml. */
static void write_load(const struct scenario *a, struct scenario *b, char **yaml)
{
    size_t len;
    FILE *f = open_memstream(yaml, &len);
    assert_non_null(f);
    assert_int_equal(scenario_write_yaml(a, f), 0);
    assert_int_equal(fclose(f), 0);
    if (scenario_load_string("r.yaml", *yaml, NULL, 0, b, err, sizeof(err)))
        fail_msg("reload refused: %s\n%s", err, *yaml);
}

static void net_round_trip(const char *text, const char *const *sets, int nsets, bool dedicated)
{
    struct scenario a, b;
    char *y1 = NULL, *y2 = NULL;
    load_ok(text, sets, nsets, &a);
    write_load(&a, &b, &y1);
    assert_same_net(&a, &b);
    assert_int_equal(a.netback.cpu == SCN_NB_DEDICATED, dedicated);
    /* Domain-0 is not written among the domains, and the file is a fixed
     * point: written again, it is the same text. */
    assert_null(strstr(y1, "name: \"Domain-0\""));
    struct scenario c;
    write_load(&b, &c, &y2);
    assert_string_equal(y1, y2);
    scenario_free(&a);
    scenario_free(&b);
    scenario_free(&c);
    free(y1);
    free(y2);
}

static void test_round_trip(void **st)
{
    (void)st;
    net_round_trip(MIN_HEAD "pcpus: 3\nnetback: { cpu: dedicated, poll: 50us, cost: { kib: 7ns } }\n"
                   "dom0: { vcpus: 2, weight: 1024, cap: 50, memory: 32MiB }\n"
                   "domains:\n  - name: client\n    workload: { kind: net-echo, role: client, "
                   "peer: srv, rate: 2k }\n  - name: srv\n    workload: { kind: net-echo, role: "
                   "server }\n  - name: flood\n    count: 2\n    pin: 1\n"
                   "    vifs: [{ rate: 10Mbit/s }, { weight: 5, rate: \"1MiB/s@3ms\" }]\n"
                   "    workload: { kind: net-flood, peer: sink }\n  - name: sink\n" SINK
                   "  - name: web\n" VIF("{ mac: 02:aa:bb:cc:dd:ee, ip: 10.1.2.3/8 }")
                   "  - name: hog\n    workload: cpu-hog\n", NULL, 0, true);
    net_round_trip(MIN_HEAD "domains:\n  - name: a\n    count: 300\n" SINK, NULL, 0, false);
    const char *const sets[] = { "netback.port=null", "sched.policy=rtds" };
    net_round_trip(MIN_HEAD "domains:\n  - name: a\n" SINK, sets, 2, false);
    if (iface_exists(FREE_TAP))
        TU_SKIP("an interface named " FREE_TAP " exists on this host");
    net_round_trip(TAP_HEAD "domains:\n  - name: a\n    workload: { kind: net-flood, peer: host }\n"
                   "  - name: c\n    workload: { kind: net-echo, peer: host, count: 5 }\n",
                   NULL, 0, false);
}

/* arinc653 windows may name Domain-0 (id 0): it runs only in a window. */
static void test_windows_dom0(void **st)
{
    (void)st;
    net_round_trip(MIN_HEAD "sched: { policy: arinc653, windows: [{ domain: Domain-0, length: "
                   "1ms }, { domain: a, length: 2ms }] }\ndomains:\n  - name: a\n" SINK, NULL, 0,
                   false);
    struct scenario s;
    load_ok(MIN_HEAD "sched: { policy: arinc653, windows: [{ domain: Domain-0, length: 1ms }] }\n"
            "domains:\n  - name: a\n" SINK, NULL, 0, &s);
    assert_int_equal(s.gp.windows[0].domid, 0);
    scenario_free(&s);
}

/* What the loader wrote for this CPU-only scenario before it knew networking
 * (the committed loader's output, kept verbatim): networking adds nothing. */
static const char cpu_only[] =
    "name: cpu-only\nduration: 2s\npcpus: 2\nseed: 7\n"
    "sched: { policy: arinc653, windows: [{ domain: ping, length: 5ms }, "
    "{ domain: hog-1, length: 1500us }] }\n"
    "domains:\n  - name: ping\n    vcpus: 2\n    pin: [1]\n"
    "    workload: { kind: evtchn-ping, role: client, peer: pong, port: 2 }\n"
    "  - name: pong\n    vcpus: 2\n    workload: { kind: evtchn-ping, role: server, peer: ping }\n"
    "  - name: hog\n    count: 2\n    memory: 128MiB\n    workload: { kind: cpu-hog, wss: 4MiB }\n";

#define DOM_TAIL "    weight: 256\n    cap: 0\n    period: 10ms\n    budget: 4ms\n" \
                 "    extratime: true\n    workload:\n"
static const char cpu_only_resolved[] =
    "# fully resolved: every default filled in, count replicas expanded\n"
    "name: \"cpu-only\"\nengine: sim\nduration: 2s\nseed: 7\nmode: density\npcpus: 2\n"
    "sample: 100ms\nstarvation:\n  threshold: 100ms\nsched:\n  policy: arinc653\n  chargeback: off\n"
    "  frame: 0ns\n"
    "  windows:\n    - { domain: \"ping\", length: 5ms }\n    - { domain: \"hog-1\", length: 1500us }\n"
    "domains:\n"
    "  - name: \"ping\"\n    vcpus: 2\n    memory: 64MiB\n    pin: [1]\n" DOM_TAIL
    "      kind: evtchn-ping\n      role: client\n      peer: \"pong\"\n      count: 0\n"
    "      work: 0ns\n      port: 2\n"
    "  - name: \"pong\"\n    vcpus: 2\n    memory: 64MiB\n" DOM_TAIL
    "      kind: evtchn-ping\n      role: server\n      peer: \"ping\"\n      count: 0\n"
    "      work: 0ns\n      port: 1\n"
    "  - name: \"hog-0\"\n    group: \"hog\"\n    vcpus: 1\n    memory: 128MiB\n" DOM_TAIL
    "      kind: cpu-hog\n      wss: 4MiB\n      chunk: 1ms\n"
    "  - name: \"hog-1\"\n    group: \"hog\"\n    vcpus: 1\n    memory: 128MiB\n" DOM_TAIL
    "      kind: cpu-hog\n      wss: 4MiB\n      chunk: 1ms\n";

static void test_cpu_only_unchanged(void **st)
{
    (void)st;
    struct scenario a, b;
    char *y = NULL;
    load_ok(cpu_only, NULL, 0, &a);
    assert_int_equal(a.dom0, -1);
    assert_int_equal(a.nr_guests, 4);
    assert_int_equal(a.nr_domains, 4);
    assert_int_equal(a.netback.port, SCN_NB_NONE);
    write_load(&a, &b, &y);
    assert_string_equal(y, cpu_only_resolved);
    scenario_free(&a);
    scenario_free(&b);
    free(y);
}

/* ---- limits ------------------------------------------------------------------ */

/* Vifs count toward the resolved form's size; the /15 holds 130047 auto
 * addresses (512 /24s of 254, less the TAP's). */
static void test_vif_limits(void **st)
{
    (void)st;
    load_bad(MIN_HEAD "domains:\n  - name: a\n    count: 16300\n" VIF("{},{},{},{},{},{},{},{}"),
             NULL, 0, "s.yaml:5:33: no address left in 198.18.0.0/15 for vif 7 of domain a-16255 "
             "(expected fewer vifs or fewer given ips, or netback.tap.address with a shorter "
             "prefix)");
    load_bad(MIN_HEAD "netback: { tap: { address: 10.0.0.1/8 } }\ndomains:\n  - name: a\n"
             "    count: 32751\n" VIF("{},{},{},{},{},{},{},{}"),
             NULL, 0, "s.yaml:4:3: the resolved scenario, every replica written out, would be "
             "larger than 16MiB or 2097152 values (expected fewer domains, shorter pin lists or "
             "fewer vifs: a run's scenario.yaml must load again)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_macs_ips),
        cmocka_unit_test(test_auto_skips_given),
        cmocka_unit_test(test_many_vifs),
        cmocka_unit_test(test_default_vif),
        cmocka_unit_test(test_dom0_params),
        cmocka_unit_test(test_dedicated),
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_rate_refusals),
        cmocka_unit_test(test_peer_host),
        cmocka_unit_test(test_peer_unused),
        cmocka_unit_test(test_netback_refusals),
        cmocka_unit_test(test_tap_in_use),
        cmocka_unit_test(test_tap_needs_real),
        cmocka_unit_test(test_mac_refusals),
        cmocka_unit_test(test_ip_refusals),
        cmocka_unit_test(test_vif_refusals),
        cmocka_unit_test(test_pin_dedicated),
        cmocka_unit_test(test_reserved_domain0),
        cmocka_unit_test(test_sets),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_windows_dom0),
        cmocka_unit_test(test_cpu_only_unchanged),
        cmocka_unit_test(test_vif_limits),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
