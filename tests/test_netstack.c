/* test_netstack.c — the guest network stack (workloads/netstack.h): exact
 * ARP reply, ICMP echo reply and UDP frame bytes against hand-built and
 * hand-computed ones, the RFC 1071 checksum, ARP resolution (-EAGAIN, then
 * the reply), routing errors, the drop counter of each malformed frame,
 * fixed-size flood frames, and the ARP cache. Checksums of hand-built frames
 * come from the test's own implementation (tcsum), not from ns_csum. */
#include "testutil.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "workloads/netstack.h"

/* We are 198.18.0.2/24 at 02:00:00:00:00:02; the peer 198.18.0.1 at
 * 02:00:00:00:00:01. */
static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
#define OUR_IP 0xC6120002u
#define PEER_IP 0xC6120001u

static void init_us(struct ns_stack *s)
{
    ns_init(s, our_mac, ns_ip(198, 18, 0, 2), 24);
}

static void init_peer(struct ns_stack *p)
{
    ns_init(p, peer_mac, ns_ip(198, 18, 0, 1), 24);
}

/* RFC 1071 computed differently from ns_csum: even and odd bytes summed
 * apart (section 2(B), byte order independence), combined, then folded. */
static uint16_t tcsum(const uint8_t *p, size_t n, uint32_t sum)
{
    uint64_t hi = 0, lo = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 2 == 0)
            hi += p[i];
        else
            lo += p[i];
    }
    uint64_t t = sum + hi * 256 + lo;
    while (t > 0xFFFF)
        t = (t >> 16) + (t & 0xFFFF);
    return (uint16_t)~t;
}

static void w16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v & 0xFF;
}

static void w32(uint8_t *p, uint32_t v)
{
    w16(p, v >> 16);
    w16(p + 2, v & 0xFFFF);
}

static uint16_t r16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static size_t eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    w16(f + 12, type);
    return 14;
}

/* An IPv4 header with ihl_words*4 bytes (options: NOPs then EOL), checksum
 * filled; returns its length. */
static size_t iphdr(uint8_t *ip, int ihl_words, uint16_t tot, uint16_t id, uint16_t frag,
                    uint8_t proto, uint32_t src, uint32_t dst)
{
    size_t hl = (size_t)ihl_words * 4;
    memset(ip, 0, hl);
    ip[0] = 0x40 | ihl_words;
    w16(ip + 2, tot);
    w16(ip + 4, id);
    w16(ip + 6, frag);
    ip[8] = 64;
    ip[9] = proto;
    w32(ip + 12, src);
    w32(ip + 16, dst);
    for (size_t i = 20; i + 1 < hl; i++)
        ip[i] = 1;
    w16(ip + 10, tcsum(ip, hl, 0));
    return hl;
}

/* The peer's UDP datagram to us, by hand (UDP checksum over the
 * pseudo-header); returns the frame length (unpadded). */
static size_t udp_by_hand(uint8_t *f, const uint8_t *dst_mac, uint32_t dst, const char *payload)
{
    size_t plen = strlen(payload), off = eth(f, dst_mac, peer_mac, 0x0800);
    off += iphdr(f + off, 5, (uint16_t)(28 + plen), 7, 0x4000, 17, PEER_IP, dst);
    uint8_t *u = f + off;
    w16(u, 4000);
    w16(u + 2, 9);
    w16(u + 4, (uint16_t)(8 + plen));
    w16(u + 6, 0);
    memcpy(u + 8, payload, plen);
    uint32_t ps = (PEER_IP >> 16) + (PEER_IP & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + 17 + 8 + (uint32_t)plen;
    uint16_t c = tcsum(u, 8 + plen, ps);
    w16(u + 6, c ? c : 0xFFFF);
    return off + 8 + plen;
}

/* ---- checksum ------------------------------------------------------------ */

static void test_csum_rfc1071(void **st)
{
    (void)st;
    /* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to 2ddf0, folds to
     * ddf2; the checksum is its complement. */
    static const uint8_t ex[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    assert_int_equal(ns_csum(ex, 8, 0), 0x220d);
    assert_int_equal(tcsum(ex, 8, 0), 0x220d);
    /* A partial sum is added before folding: 2ddf0 + 1234 = 2f024 -> f026. */
    assert_int_equal(ns_csum(ex, 8, 0x1234), 0x0fd9);
    /* An odd last byte is the high half of a zero-padded word. */
    static const uint8_t odd[3] = { 0x12, 0x34, 0x56 };
    assert_int_equal(ns_csum(odd, 3, 0), (uint16_t)~(0x1234 + 0x5600));
    /* Over data with its correct checksum appended: 0. */
    uint8_t with[10];
    memcpy(with, ex, 8);
    w16(with + 8, 0x220d);
    assert_int_equal(ns_csum(with, 10, 0), 0);
    assert_int_equal(ns_csum(ex, 0, 0), 0xFFFF);
    assert_int_equal(ns_ip(198, 18, 0, 2), OUR_IP);
}

/* ---- ARP ----------------------------------------------------------------- */

static size_t arp_by_hand(uint8_t *f, uint16_t op, const uint8_t *dst, const uint8_t *sha,
                          uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
    memset(f, 0, 60);
    size_t off = eth(f, dst, sha, 0x0806);
    static const uint8_t hdr[6] = { 0x00, 0x01, 0x08, 0x00, 0x06, 0x04 };
    memcpy(f + off, hdr, 6);
    w16(f + off + 6, op);
    memcpy(f + off + 8, sha, 6);
    w32(f + off + 14, spa);
    memcpy(f + off + 18, tha, 6);
    w32(f + off + 24, tpa);
    return 42;
}

static void test_arp_reply_exact(void **st)
{
    (void)st;
    struct ns_stack s;
    init_us(&s);
    static const uint8_t zero[6] = { 0 };
    uint8_t req[60], out[NS_FRAME_MAX], want[60];
    arp_by_hand(req, 1, bcast, peer_mac, PEER_IP, zero, OUR_IP);
    memset(out, 0xAA, sizeof(out));
    uint32_t out_len = 12345;
    /* A 42-byte request, as Linux sends over a TAP (no padding), and the
     * 60-byte padded one get the same answer. */
    for (uint32_t len = 42; len <= 60; len += 18) {
        assert_int_equal(ns_input(&s, req, len, out, &out_len, NULL, NULL), NS_RX_CONSUMED);
        assert_int_equal(out_len, 60);
        static const uint8_t expect[60] = {
            0x02, 0, 0, 0, 0, 0x01,  0x02, 0, 0, 0, 0, 0x02,  0x08, 0x06,
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
            0x02, 0, 0, 0, 0, 0x02,  0xc6, 0x12, 0x00, 0x02,     /* sender: us */
            0x02, 0, 0, 0, 0, 0x01,  0xc6, 0x12, 0x00, 0x01,     /* target: the asker */
        };                                                      /* 18 bytes of zero padding */
        memcpy(want, expect, 60);
        assert_memory_equal(out, want, 60);
    }
    assert_int_equal(s.st.rx_frames, 2);
    assert_int_equal(s.st.rx_arp, 2);
    assert_int_equal(s.st.tx_arp_replies, 2);
    /* The asker is learned (RFC 826: it targeted us). */
    const uint8_t *m = ns_arp_lookup(&s, PEER_IP);
    assert_non_null(m);
    assert_memory_equal(m, peer_mac, 6);
}

static void test_arp_other_ip(void **st)
{
    (void)st;
    struct ns_stack s;
    init_us(&s);
    static const uint8_t zero[6] = { 0 };
    static const uint8_t new_mac[6] = { 0x02, 0, 0, 0, 0, 0x77 };
    uint8_t req[60], out[NS_FRAME_MAX];
    uint32_t out_len = 99;
    arp_by_hand(req, 1, bcast, peer_mac, PEER_IP, zero, ns_ip(198, 18, 0, 3));
    assert_int_equal(ns_input(&s, req, 60, out, &out_len, NULL, NULL), NS_RX_CONSUMED);
    assert_int_equal(out_len, 0);
    assert_int_equal(s.st.tx_arp_replies, 0);
    assert_int_equal(s.st.rx_arp, 1);
    /* Not for us and not cached before: not added. */
    assert_null(ns_arp_lookup(&s, PEER_IP));
    /* Cached before: refreshed with the new MAC. */
    ns_arp_learn(&s, PEER_IP, peer_mac);
    arp_by_hand(req, 1, bcast, new_mac, PEER_IP, zero, ns_ip(198, 18, 0, 3));
    assert_int_equal(ns_input(&s, req, 60, out, &out_len, NULL, NULL), NS_RX_CONSUMED);
    assert_int_equal(out_len, 0);
    assert_memory_equal(ns_arp_lookup(&s, PEER_IP), new_mac, 6);
}

/* ---- ICMP echo ----------------------------------------------------------- */

/* The peer's ping to us as Linux ping sends it: DF set, 56 data bytes. */
static size_t echo_request_by_hand(uint8_t *f, int ihl_words, uint8_t tos)
{
    size_t off = eth(f, our_mac, peer_mac, 0x0800);
    size_t hl = (size_t)ihl_words * 4;
    off += iphdr(f + off, ihl_words, (uint16_t)(hl + 64), 0x1c46, 0x4000, 1, PEER_IP, OUR_IP);
    f[15] = tos;
    w16(f + 24, 0);
    w16(f + 24, tcsum(f + 14, hl, 0));
    uint8_t *ic = f + off;
    ic[0] = 8;
    ic[1] = 0;
    w16(ic + 2, 0);
    w16(ic + 4, 0x0abc);
    w16(ic + 6, 0x0001);
    for (int i = 0; i < 56; i++)
        ic[8 + i] = (uint8_t)(0x10 + i);
    w16(ic + 2, tcsum(ic, 64, 0));
    return off + 64;
}

/* The reply to echo_request_by_hand's request; ip_csum computed by hand. */
static void check_echo_reply(const uint8_t *out, uint32_t out_len, const uint8_t *req_icmp,
                             uint8_t tos, uint16_t ip_csum)
{
    assert_int_equal(out_len, 14 + 20 + 64);
    uint8_t want[14 + 20 + 64];
    static const uint8_t head[34] = {
        0x02, 0, 0, 0, 0, 0x01,  0x02, 0, 0, 0, 0, 0x02,  0x08, 0x00,
        0x45, 0x00, 0x00, 0x54,  0x00, 0x00, 0x00, 0x00,     /* id 0 (ns_init), no flags */
        0x40, 0x01, 0x00, 0x00,                              /* TTL 64, ICMP */
        0xc6, 0x12, 0x00, 0x02,  0xc6, 0x12, 0x00, 0x01,
    };
    memcpy(want, head, 34);
    want[15] = tos;                                         /* as the request's */
    w16(want + 24, ip_csum);
    memcpy(want + 34, req_icmp, 64);
    want[34] = 0;                                           /* echo reply */
    /* Type 8 -> 0 lowers the sum by 0x0800: the checksum rises by 0x0800
     * (one's complement, end-around carry). */
    uint32_t c = r16(req_icmp + 2) + 0x0800u;
    c = (c & 0xFFFF) + (c >> 16);
    w16(want + 36, (uint16_t)c);
    assert_memory_equal(out, want, sizeof(want));
    assert_int_equal(tcsum(out + 14, 20, 0), 0);
    assert_int_equal(tcsum(out + 34, 64, 0), 0);
}

static void test_icmp_echo_reply_exact(void **st)
{
    (void)st;
    struct ns_stack s;
    init_us(&s);
    uint8_t req[200], out[NS_FRAME_MAX];
    uint32_t out_len = 0;
    size_t n = echo_request_by_hand(req, 5, 0);
    assert_int_equal(ns_input(&s, req, (uint32_t)n, out, &out_len, NULL, NULL), NS_RX_CONSUMED);
    check_echo_reply(out, out_len, req + 34, 0, 0xee81);
    assert_int_equal(s.st.rx_icmp_echo, 1);
    assert_int_equal(s.ip_id, 1);
    /* The sender of a packet addressed to us is learned. */
    assert_memory_equal(ns_arp_lookup(&s, PEER_IP), peer_mac, 6);

    /* With 8 bytes of IP options and TOS 0x10: the same reply, without
     * options, with the TOS; the header sum is 0x10 more. */
    init_us(&s);
    n = echo_request_by_hand(req, 7, 0x10);
    assert_int_equal(req[14], 0x47);
    assert_int_equal(ns_input(&s, req, (uint32_t)n, out, &out_len, NULL, NULL), NS_RX_CONSUMED);
    check_echo_reply(out, out_len, req + 14 + 28, 0x10, 0xee71);
}

static void test_echo_roundtrip(void **st)
{
    (void)st;
    struct ns_stack s, p;
    init_us(&s);
    init_peer(&p);
    ns_arp_learn(&s, PEER_IP, peer_mac);
    uint8_t ping[NS_FRAME_MAX], pong[NS_FRAME_MAX];
    uint32_t arp_len = 7, pong_len = 0;
    static const char data[] = "fairvisor ping";
    int n = ns_icmp_echo_frame(&s, PEER_IP, 42, 7, data, sizeof(data), ping, sizeof(ping), &arp_len);
    assert_int_equal(14 + 20 + 8 + sizeof(data), 57);
    assert_int_equal(n, 60);                /* padded; the padding is no data */
    assert_int_equal(arp_len, 0);
    assert_int_equal(ns_input(&p, ping, (uint32_t)n, pong, &pong_len, NULL, NULL), NS_RX_CONSUMED);
    assert_int_equal(p.st.rx_icmp_echo, 1);
    assert_int_equal(pong_len, (uint32_t)n);
    struct ns_echo e;
    memset(&e, 0, sizeof(e));
    assert_int_equal(ns_input(&s, pong, pong_len, NULL, NULL, NULL, &e), NS_RX_ECHO_REPLY);
    assert_int_equal(e.src_ip, PEER_IP);
    assert_int_equal(e.id, 42);
    assert_int_equal(e.seq, 7);
    assert_int_equal(e.len, sizeof(data));
    assert_ptr_equal(e.data, pong + 42);
    assert_memory_equal(e.data, data, sizeof(data));
    assert_int_equal(s.st.rx_echo_replies, 1);
}

/* ---- UDP ----------------------------------------------------------------- */

static void test_udp_frame_exact(void **st)
{
    (void)st;
    struct ns_stack s, p;
    init_us(&s);
    init_peer(&p);
    s.ip_id = 0x1234;
    ns_arp_learn(&s, PEER_IP, peer_mac);
    uint8_t out[NS_FRAME_MAX];
    memset(out, 0xAA, sizeof(out));
    uint32_t arp_len = 9;
    int n = ns_udp_frame(&s, PEER_IP, 5000, 9, "hello", 5, out, sizeof(out), &arp_len);
    assert_int_equal(n, 60);
    assert_int_equal(arp_len, 0);
    static const uint8_t want[60] = {
        0x02, 0, 0, 0, 0, 0x01,  0x02, 0, 0, 0, 0, 0x02,  0x08, 0x00,
        0x45, 0x00, 0x00, 0x21,  0x12, 0x34, 0x00, 0x00,     /* 33 bytes, id 0x1234 */
        0x40, 0x11, 0xdc, 0x70,                              /* TTL 64, UDP, checksum by hand */
        0xc6, 0x12, 0x00, 0x02,  0xc6, 0x12, 0x00, 0x01,
        0x13, 0x88, 0x00, 0x09, 0x00, 0x0d, 0x1c, 0x49,      /* 5000 -> 9, 13 bytes, by hand */
        'h', 'e', 'l', 'l', 'o',
    };                                                      /* 13 bytes of zero padding */
    assert_memory_equal(out, want, 60);
    assert_int_equal(s.ip_id, 0x1235);

    struct ns_udp u;
    memset(&u, 0, sizeof(u));
    uint32_t out_len = 1;
    uint8_t reply[NS_FRAME_MAX];
    assert_int_equal(ns_input(&p, out, 60, reply, &out_len, &u, NULL), NS_RX_UDP);
    assert_int_equal(out_len, 0);
    assert_int_equal(u.src_ip, OUR_IP);
    assert_int_equal(u.sport, 5000);
    assert_int_equal(u.dport, 9);
    assert_int_equal(u.len, 5);
    assert_ptr_equal(u.payload, out + 42);
    assert_memory_equal(u.payload, "hello", 5);
    assert_memory_equal(u.src_mac, our_mac, 6);
    assert_int_equal(p.st.rx_udp, 1);
}

/* A datagram whose checksum computes to 0 carries 0xFFFF (RFC 768: 0
 * would mean none). */
static void test_udp_csum_zero_sent_as_ffff(void **st)
{
    (void)st;
    struct ns_stack s, p;
    init_us(&s);
    init_peer(&p);
    ns_arp_learn(&s, PEER_IP, peer_mac);
    uint8_t d[14] = { 0x13, 0x88, 0x00, 0x09, 0x00, 0x0e, 0, 0, 'h', 'e', 'l', 'l', 0, 0 };
    uint32_t ps = (OUR_IP >> 16) + (OUR_IP & 0xFFFF) + (PEER_IP >> 16) + (PEER_IP & 0xFFFF) + 17 + 14;
    uint16_t folded = (uint16_t)~tcsum(d, 14, ps);
    w16(d + 12, (uint16_t)(0xFFFF - folded));           /* the sum becomes 0xFFFF */
    assert_int_equal(tcsum(d, 14, ps), 0);
    uint8_t out[NS_FRAME_MAX];
    assert_int_equal(ns_udp_frame(&s, PEER_IP, 5000, 9, d + 8, 6, out, sizeof(out), NULL), 60);
    assert_int_equal(r16(out + 40), 0xFFFF);
    struct ns_udp u;
    assert_int_equal(ns_input(&p, out, 60, NULL, NULL, &u, NULL), NS_RX_UDP);
    assert_memory_equal(u.payload, d + 8, 6);
}

static void test_udp_by_hand_received(void **st)
{
    (void)st;
    struct ns_stack s;
    init_us(&s);
    uint8_t f[100];
    struct ns_udp u;
    size_t n = udp_by_hand(f, our_mac, OUR_IP, "payload!");
    assert_int_equal(ns_input(&s, f, (uint32_t)n, NULL, NULL, &u, NULL), NS_RX_UDP);
    assert_int_equal(u.len, 8);
    assert_int_equal(u.sport, 4000);
    assert_memory_equal(u.payload, "payload!", 8);
    /* Broadcast, limited and subnet: received, the sender not learned. */
    init_us(&s);
    n = udp_by_hand(f, bcast, 0xFFFFFFFFu, "b");
    assert_int_equal(ns_input(&s, f, (uint32_t)n, NULL, NULL, &u, NULL), NS_RX_UDP);
    n = udp_by_hand(f, bcast, ns_ip(198, 18, 0, 255), "b");
    assert_int_equal(ns_input(&s, f, (uint32_t)n, NULL, NULL, &u, NULL), NS_RX_UDP);
    assert_null(ns_arp_lookup(&s, PEER_IP));
    /* Checksum 0: none, accepted even with the payload changed. */
    n = udp_by_hand(f, our_mac, OUR_IP, "nocsum");
    w16(f + 40, 0);
    f[42] ^= 0xFF;
    assert_int_equal(ns_input(&s, f, (uint32_t)n, NULL, NULL, &u, NULL), NS_RX_UDP);
    assert_int_equal(s.st.rx_udp, 3);
}

static void test_udp_eagain_then_arp_reply(void **st)
{
    (void)st;
    struct ns_stack s, p;
    init_us(&s);
    init_peer(&p);
    uint8_t out[NS_FRAME_MAX], reply[NS_FRAME_MAX];
    uint32_t arp_len = 0, reply_len = 0;
    int n = ns_udp_frame(&s, PEER_IP, 1, 2, "x", 1, out, sizeof(out), &arp_len);
    assert_int_equal(n, -EAGAIN);
    assert_int_equal(arp_len, 60);
    static const uint8_t zero[6] = { 0 };
    uint8_t want[60];
    arp_by_hand(want, 1, bcast, our_mac, OUR_IP, zero, PEER_IP);
    assert_memory_equal(out, want, 60);
    /* ns_arp_request alone builds the same frame. */
    uint8_t again[60];
    assert_int_equal(ns_arp_request(&s, PEER_IP, again, sizeof(again)), 60);
    assert_memory_equal(again, want, 60);
    assert_int_equal(ns_arp_request(&s, PEER_IP, again, 59), -EMSGSIZE);

    /* The peer answers; its answer teaches us its MAC. */
    assert_int_equal(ns_input(&p, out, arp_len, reply, &reply_len, NULL, NULL), NS_RX_CONSUMED);
    assert_int_equal(reply_len, 60);
    uint32_t none = 5;
    assert_int_equal(ns_input(&s, reply, reply_len, out, &none, NULL, NULL), NS_RX_CONSUMED);
    assert_int_equal(none, 0);
    assert_memory_equal(ns_arp_lookup(&s, PEER_IP), peer_mac, 6);
    n = ns_udp_frame(&s, PEER_IP, 1, 2, "x", 1, out, sizeof(out), &arp_len);
    assert_int_equal(n, 60);
    assert_int_equal(arp_len, 0);
    assert_memory_equal(out, peer_mac, 6);
    /* ICMP resolves the same way. */
    init_us(&s);
    assert_int_equal(ns_icmp_echo_frame(&s, PEER_IP, 1, 1, NULL, 0, out, sizeof(out), &arp_len), -EAGAIN);
    assert_memory_equal(out, want, 60);
}

static void test_udp_routing_errors(void **st)
{
    (void)st;
    struct ns_stack s;
    init_us(&s);
    uint8_t out[NS_FRAME_MAX];
    uint32_t arp_len = 3;
    const uint32_t unreachable[] = {
        ns_ip(10, 0, 0, 1), ns_ip(198, 18, 1, 1), 0, OUR_IP, ns_ip(198, 18, 0, 0), ns_ip(224, 0, 0, 1),
    };
    for (size_t i = 0; i < sizeof(unreachable) / sizeof(unreachable[0]); i++) {
        assert_int_equal(ns_udp_frame(&s, unreachable[i], 1, 2, "x", 1, out, sizeof(out), &arp_len),
                         -EHOSTUNREACH);
        assert_int_equal(arp_len, 0);
        assert_int_equal(ns_icmp_echo_frame(&s, unreachable[i], 1, 2, NULL, 0, out, sizeof(out), NULL),
                         -EHOSTUNREACH);
    }
    /* Broadcasts need no ARP. */
    const uint32_t bcasts[] = { 0xFFFFFFFFu, ns_ip(198, 18, 0, 255) };
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(ns_udp_frame(&s, bcasts[i], 1, 2, "x", 1, out, sizeof(out), &arp_len), 60);
        assert_memory_equal(out, bcast, 6);
        assert_int_equal((uint32_t)r16(out + 30) << 16 | r16(out + 32), bcasts[i]);
    }
    /* Sizes: 1472 bytes of payload fill a 1514-byte frame; one more does not. */
    static uint8_t big[1500];
    ns_arp_learn(&s, PEER_IP, peer_mac);
    assert_int_equal(ns_udp_frame(&s, PEER_IP, 1, 2, big, 1472, out, sizeof(out), NULL), 1514);
    assert_int_equal(ns_udp_frame(&s, PEER_IP, 1, 2, big, 1473, out, sizeof(out), NULL), -EMSGSIZE);
    assert_int_equal(ns_udp_frame(&s, PEER_IP, 1, 2, big, 100, out, 141, NULL), -EMSGSIZE);
    assert_int_equal(ns_udp_frame(&s, PEER_IP, 1, 2, big, 100, out, 142, NULL), 142);
    assert_int_equal(ns_udp_frame(&s, PEER_IP, 1, 2, big, 0, out, 59, NULL), -EMSGSIZE);
    assert_int_equal(ns_icmp_echo_frame(&s, PEER_IP, 1, 2, big, 1473, out, sizeof(out), NULL), -EMSGSIZE);
    assert_int_equal(ns_icmp_echo_frame(&s, PEER_IP, 1, 2, big, 1472, out, sizeof(out), NULL), 1514);
}

static void test_udp_frame_sized(void **st)
{
    (void)st;
    struct ns_stack s, p;
    init_us(&s);
    init_peer(&p);
    ns_arp_learn(&s, PEER_IP, peer_mac);
    static uint8_t out[NS_FRAME_MAX + 16];
    const uint32_t sizes[] = { 60, 64, 1514 };
    for (size_t i = 0; i < 3; i++) {
        uint32_t off = 0, arp_len = 1, len = sizes[i];
        memset(out, 0xAA, sizeof(out));
        assert_int_equal(ns_udp_frame_sized(&s, PEER_IP, 7, 9, len, out, sizeof(out), &off, &arp_len),
                         (int)len);
        assert_int_equal(off, 42);
        assert_int_equal(arp_len, 0);
        assert_int_equal(r16(out + 16), len - 14);        /* IP total length: no padding */
        assert_int_equal(r16(out + 38), len - 34);        /* UDP length */
        assert_int_equal(out[len], 0xAA);                 /* nothing written past the frame */
        for (uint32_t k = off; k < len; k++)
            assert_int_equal(out[k], 0);                  /* the payload is zeroed */
        struct ns_udp u;
        assert_int_equal(ns_input(&p, out, len, NULL, NULL, &u, NULL), NS_RX_UDP);
        assert_int_equal(u.len, len - 42);
        /* A payload filled in afterwards needs the checksum fixed. */
        memset(out + off, 0x5A, len - off);
        assert_int_equal(ns_input(&p, out, len, NULL, NULL, &u, NULL), NS_RX_DROP);
        ns_udp_fix_csum(out, len);
        assert_int_equal(ns_input(&p, out, len, NULL, NULL, &u, NULL), NS_RX_UDP);
        assert_int_equal(u.payload[0], 0x5A);
    }
    assert_int_equal(p.st.drop_bad_csum, 3);
    uint32_t off = 0;
    assert_int_equal(ns_udp_frame_sized(&s, PEER_IP, 7, 9, 59, out, sizeof(out), &off, NULL), -EMSGSIZE);
    assert_int_equal(ns_udp_frame_sized(&s, PEER_IP, 7, 9, 1515, out, sizeof(out), &off, NULL), -EMSGSIZE);
    assert_int_equal(ns_udp_frame_sized(&s, PEER_IP, 7, 9, 100, out, 99, &off, NULL), -EMSGSIZE);
    assert_int_equal(ns_udp_frame_sized(&s, ns_ip(10, 0, 0, 1), 7, 9, 100, out, sizeof(out), &off, NULL),
                     -EHOSTUNREACH);
    uint32_t arp_len = 0;
    assert_int_equal(ns_udp_frame_sized(&s, ns_ip(198, 18, 0, 9), 7, 9, 100, out, sizeof(out), &off,
                                        &arp_len), -EAGAIN);
    assert_int_equal(arp_len, 60);
    assert_int_equal(r16(out + 12), 0x0806);
}

/* ---- drops ----------------------------------------------------------------- */

/* Feeding f must drop it and count exactly the counter at `field`. */
static void expect_drop(const uint8_t *f, size_t len, size_t field, const char *what)
{
    struct ns_stack s;
    init_us(&s);
    struct ns_stats before = s.st;
    uint8_t out[NS_FRAME_MAX];
    uint32_t out_len = 77;
    enum ns_rx r = ns_input(&s, f, (uint32_t)len, out, &out_len, NULL, NULL);
    if (r != NS_RX_DROP)
        fail_msg("%s: not dropped (%d)", what, r);
    assert_int_equal(out_len, 0);
    before.rx_frames++;
    uint64_t v;
    memcpy(&v, (char *)&before + field, sizeof(v));
    v++;
    memcpy((char *)&before + field, &v, sizeof(v));
    if (memcmp(&before, &s.st, sizeof(before)) != 0)
        fail_msg("%s: not counted where expected", what);
}

#define DROP(f, len, ctr, what) expect_drop(f, len, offsetof(struct ns_stats, ctr), what)

static void test_drops_counted(void **st)
{
    (void)st;
    uint8_t f[200], g[200];
    size_t n = udp_by_hand(f, our_mac, OUR_IP, "hello, drops");
    {   /* the unmodified frame is accepted */
        struct ns_stack s;
        init_us(&s);
        assert_int_equal(ns_input(&s, f, (uint32_t)n, NULL, NULL, NULL, NULL), NS_RX_UDP);
    }
    DROP(f, 13, drop_short, "13-byte frame");
    DROP(f, 33, drop_short, "IPv4 shorter than 20 bytes");
    uint8_t arp[60];
    static const uint8_t zero[6] = { 0 };
    arp_by_hand(arp, 1, bcast, peer_mac, PEER_IP, zero, OUR_IP);
    DROP(arp, 41, drop_short, "truncated ARP");
    arp[18] = 0x86;     /* protocol type 0x86dd */
    DROP(arp, 60, drop_unsupported, "ARP for another protocol");

    memcpy(g, f, n);
    g[5] = 0x09;
    DROP(g, n, drop_not_ours, "another MAC");
    memcpy(g, f, n);
    g[0] = 0x01;        /* multicast */
    DROP(g, n, drop_not_ours, "multicast MAC");
    n = udp_by_hand(g, our_mac, ns_ip(198, 18, 0, 3), "elsewhere");
    DROP(g, n, drop_not_ours, "another IP");

    n = udp_by_hand(f, our_mac, OUR_IP, "hello, drops");
    memcpy(g, f, n);
    g[24] ^= 0x01;
    DROP(g, n, drop_bad_csum, "IP header checksum");
    memcpy(g, f, n);
    g[n - 1] ^= 0x01;
    DROP(g, n, drop_bad_csum, "UDP checksum");

    memcpy(g, f, n);
    iphdr(g + 14, 5, (uint16_t)(n - 14), 7, 0x2000, 17, PEER_IP, OUR_IP);   /* MF */
    DROP(g, n, drop_frag, "first fragment");
    iphdr(g + 14, 5, (uint16_t)(n - 14), 7, 0x0001, 17, PEER_IP, OUR_IP);   /* offset 8 */
    DROP(g, n, drop_frag, "last fragment");

    memcpy(g, f, n);
    w16(g + 12, 0x86dd);
    DROP(g, n, drop_unsupported, "IPv6 ethertype");
    memcpy(g, f, n);
    iphdr(g + 14, 5, (uint16_t)(n - 14), 7, 0, 6, PEER_IP, OUR_IP);         /* TCP */
    DROP(g, n, drop_unsupported, "TCP");

    /* IHL 15 (60 bytes) in a 40-byte packet; the checksum of the first 20
     * bytes would even be right. */
    memcpy(g, f, n);
    g[14] = 0x4F;
    DROP(g, n, drop_bad_ip, "IHL past the frame");
    memcpy(g, f, n);
    g[14] = 0x44;
    DROP(g, n, drop_bad_ip, "IHL below 5");
    memcpy(g, f, n);
    iphdr(g + 14, 5, (uint16_t)(n - 14 + 1), 7, 0, 17, PEER_IP, OUR_IP);
    DROP(g, n, drop_bad_ip, "total length past the frame");
    iphdr(g + 14, 5, 19, 7, 0, 17, PEER_IP, OUR_IP);
    DROP(g, n, drop_bad_ip, "total length below the header");
    memcpy(g, f, n);
    g[14] = 0x65;
    w16(g + 24, 0);
    w16(g + 24, tcsum(g + 14, 20, 0));
    DROP(g, n, drop_bad_ip, "IP version 6");
    memcpy(g, f, n);
    w16(g + 38, (uint16_t)(n - 34 + 1));
    DROP(g, n, drop_bad_ip, "UDP length past the packet");
    memcpy(g, f, n);
    iphdr(g + 14, 5, 20 + 7, 7, 0, 17, PEER_IP, OUR_IP);
    DROP(g, n, drop_short, "UDP header cut by the total length");
    memcpy(g, f, n);
    iphdr(g + 14, 5, (uint16_t)(n - 14), 7, 0, 17, ns_ip(198, 18, 0, 255), OUR_IP);
    DROP(g, n, drop_bad_ip, "broadcast source");
    iphdr(g + 14, 5, (uint16_t)(n - 14), 7, 0, 17, 0, OUR_IP);
    DROP(g, n, drop_bad_ip, "source 0.0.0.0");
    iphdr(g + 14, 5, (uint16_t)(n - 14), 7, 0, 17, ns_ip(224, 0, 0, 1), OUR_IP);
    DROP(g, n, drop_bad_ip, "multicast source");

    /* ICMP: a bad checksum, a type other than echo, a broadcast ping. */
    n = echo_request_by_hand(g, 5, 0);
    g[40] ^= 0xFF;
    DROP(g, n, drop_bad_csum, "ICMP checksum");
    n = echo_request_by_hand(g, 5, 0);
    g[34] = 13;         /* timestamp */
    w16(g + 36, 0);
    w16(g + 36, tcsum(g + 34, 64, 0));
    DROP(g, n, drop_unsupported, "ICMP timestamp");
    n = echo_request_by_hand(g, 5, 0);
    iphdr(g + 14, 5, 84, 7, 0, 1, PEER_IP, 0xFFFFFFFFu);
    memcpy(g, bcast, 6);
    DROP(g, n, drop_not_ours, "broadcast ping");
}

/* ---- ARP cache -------------------------------------------------------------- */

static void test_arp_cache(void **st)
{
    (void)st;
    struct ns_stack s;
    init_us(&s);
    static const uint8_t m2[6] = { 0x02, 0, 0, 0, 0, 0x22 };
    assert_null(ns_arp_lookup(&s, PEER_IP));
    ns_arp_learn(&s, PEER_IP, peer_mac);
    assert_memory_equal(ns_arp_lookup(&s, PEER_IP), peer_mac, 6);
    ns_arp_learn(&s, PEER_IP, m2);
    assert_memory_equal(ns_arp_lookup(&s, PEER_IP), m2, 6);

    /* Refused: ourselves, off-subnet, broadcast and network addresses,
     * multicast or zero MACs. */
    static const uint8_t mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
    static const uint8_t zero[6] = { 0 };
    const uint32_t bad_ip[] = { OUR_IP, ns_ip(10, 0, 0, 1), ns_ip(198, 18, 0, 255),
                                ns_ip(198, 18, 0, 0), 0xFFFFFFFFu, 0 };
    for (size_t i = 0; i < sizeof(bad_ip) / sizeof(bad_ip[0]); i++) {
        ns_arp_learn(&s, bad_ip[i], m2);
        assert_null(ns_arp_lookup(&s, bad_ip[i]));
    }
    ns_arp_learn(&s, ns_ip(198, 18, 0, 5), mcast);
    ns_arp_learn(&s, ns_ip(198, 18, 0, 5), zero);
    ns_arp_learn(&s, ns_ip(198, 18, 0, 5), bcast);
    assert_null(ns_arp_lookup(&s, ns_ip(198, 18, 0, 5)));

    /* A full /24 cannot fit NS_ARP_SLOTS: some address replaced another,
     * the last one learned is always there, and at most NS_ARP_SLOTS are. */
    init_us(&s);
    uint32_t a = ns_ip(198, 18, 0, 1), victim_of = 0;
    ns_arp_learn(&s, a, peer_mac);
    for (int h = 3; h < 255; h++) {
        uint32_t ip = ns_ip(198, 18, 0, (uint8_t)h);
        ns_arp_learn(&s, ip, m2);
        assert_memory_equal(ns_arp_lookup(&s, ip), m2, 6);
        if (!victim_of && !ns_arp_lookup(&s, a))
            victim_of = ip;
    }
    assert_int_not_equal(victim_of, 0);
    int cached = 0;
    for (int h = 1; h < 255; h++)
        cached += ns_arp_lookup(&s, ns_ip(198, 18, 0, (uint8_t)h)) != NULL;
    assert_in_range(cached, 1, NS_ARP_SLOTS);

    /* A prefix above 32 is 32: nobody else is on the subnet. */
    ns_init(&s, our_mac, OUR_IP, 40);
    assert_int_equal(s.prefix, 32);
    uint8_t out[NS_FRAME_MAX];
    assert_int_equal(ns_udp_frame(&s, PEER_IP, 1, 2, NULL, 0, out, sizeof(out), NULL), -EHOSTUNREACH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csum_rfc1071),
        cmocka_unit_test(test_arp_reply_exact),
        cmocka_unit_test(test_arp_other_ip),
        cmocka_unit_test(test_icmp_echo_reply_exact),
        cmocka_unit_test(test_echo_roundtrip),
        cmocka_unit_test(test_udp_frame_exact),
        cmocka_unit_test(test_udp_csum_zero_sent_as_ffff),
        cmocka_unit_test(test_udp_by_hand_received),
        cmocka_unit_test(test_udp_eagain_then_arp_reply),
        cmocka_unit_test(test_udp_routing_errors),
        cmocka_unit_test(test_udp_frame_sized),
        cmocka_unit_test(test_drops_counted),
        cmocka_unit_test(test_arp_cache),
    };
    return tu_status(cmocka_run_group_tests(tests, NULL, NULL));
}
