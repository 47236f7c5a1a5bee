/* fuzz_netstack.c — libFuzzer harness: the guest network stack's receive
 * path (ns_input) and the answers it builds (workloads/netstack.h).
 *
 * Every input is used three ways, each on a fresh stack (198.18.0.2/24
 * that already knows 198.18.0.1):
 *   1. the whole input as one frame;
 *   2. the same frame with its IPv4, ICMP and UDP checksums made right (when
 *      the lengths allow), so mutations get past the checksum checks;
 *   3. a sequence of frames on one stack, to exercise the ARP cache: each is
 *      a 2-byte big-endian length (bit 15: fix its checksums as in 2) and
 *      that many bytes (fewer at the end of the input). Every UDP datagram
 *      received is echoed back as net-echo's server would (ns_udp_frame),
 *      resolving the sender by ARP when needed.
 * Each frame is fed from an exact-size heap copy, so ASan sees any read
 * past it. Invariants checked (a violation aborts, a finding like a crash):
 * exactly one counter moves per frame (rx_frames) plus exactly one drop
 * counter on NS_RX_DROP; an answer is only given with NS_RX_CONSUMED and
 * is NS_FRAME_MIN..NS_FRAME_MAX bytes; UDP payloads and echo data lie in
 * the frame; an echo reply or ARP reply we build is accepted by a second
 * stack standing for the asker, with the same id, seq and data; a UDP
 * datagram we build is received by its addressee with the same payload, and
 * an ARP request we send is answered and makes the datagram build.
 *   tools/fuzz netstack [SECONDS]
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>

#include "workloads/netstack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz: %s: ", #cond);                              \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            abort();                                                           \
        }                                                                      \
    } while (0)

#define US_IP 0xC6120002u            /* 198.18.0.2 */
#define KNOWN_IP 0xC6120001u         /* 198.18.0.1 */
#define SEQ_MAX_FRAMES 64
static const uint8_t us_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t known_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void fresh(struct ns_stack *s)
{
    ns_init(s, us_mac, US_IP, 24);
    ns_arp_learn(s, KNOWN_IP, known_mac);
}

static uint64_t drops(const struct ns_stats *st)
{
    return st->drop_short + st->drop_not_ours + st->drop_bad_ip + st->drop_bad_csum +
           st->drop_frag + st->drop_unsupported;
}

static uint64_t counted(const struct ns_stats *st)
{
    return st->rx_arp + st->rx_icmp_echo + st->rx_udp + st->rx_echo_replies + drops(st);
}

/* Make the IPv4 header checksum, and the ICMP or (non-zero) UDP one,
 * right, where the frame's own lengths allow. */
static void fix_csums(uint8_t *f, size_t len)
{
    if (len < 34 || rd16(f + 12) != NS_ETHERTYPE_IPV4)
        return;
    uint8_t *ip = f + 14;
    size_t ihl = (ip[0] & 0xFu) * 4;
    if (ihl < 20 || 14 + ihl > len)
        return;
    wr16(ip + 10, 0);
    wr16(ip + 10, ns_csum(ip, (uint32_t)ihl, 0));
    size_t tot = rd16(ip + 2);
    if (tot < ihl + 8 || 14 + tot > len)
        return;
    uint8_t *l4 = ip + ihl;
    if (ip[9] == NS_IPPROTO_ICMP) {
        wr16(l4 + 2, 0);
        wr16(l4 + 2, ns_csum(l4, (uint32_t)(tot - ihl), 0));
    } else if (ip[9] == NS_IPPROTO_UDP && rd16(l4 + 6) != 0) {
        uint16_t ulen = rd16(l4 + 4);
        if (ulen < 8 || ulen > tot - ihl)
            return;
        uint32_t src = rd32(ip + 12), dst = rd32(ip + 16);
        uint32_t ps = (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + 17 + ulen;
        wr16(l4 + 6, 0);
        uint16_t c = ns_csum(l4, ulen, ps);
        wr16(l4 + 6, c ? c : 0xFFFF);
    }
}

/* The asker of `req` (a frame ns_input answered with `reply`) receives
 * the reply. */
static void check_answer(const uint8_t *req, const uint8_t *reply, uint32_t reply_len)
{
    struct ns_stack asker;
    uint32_t out_len = 1;
    uint8_t *out = malloc(NS_FRAME_MAX);
    struct ns_echo e;
    if (!out)
        abort();
    if (rd16(req + 12) == NS_ETHERTYPE_ARP) {
        uint32_t spa = rd32(req + 14 + 14);
        CHECK(memcmp(reply, req + 14 + 8, 6) == 0, "ARP reply not sent to the asker's MAC");
        ns_init(&asker, req + 14 + 8, spa, 24);
        enum ns_rx r = ns_input(&asker, reply, reply_len, out, &out_len, NULL, NULL);
        CHECK(r == NS_RX_CONSUMED && out_len == 0, "asker refused our ARP reply (%d)", r);
        CHECK(asker.st.rx_arp == 1, "our ARP reply is no ARP to the asker");
        if ((spa & 0xFFFFFF00u) == (US_IP & 0xFFFFFF00u) && (spa & 0xFF) != 0 && (spa & 0xFF) != 0xFF)
            CHECK(ns_arp_lookup(&asker, US_IP) && !memcmp(ns_arp_lookup(&asker, US_IP), us_mac, 6),
                  "the asker did not learn us from our ARP reply");
    } else {
        const uint8_t *ip = req + 14, *icmp = ip + (ip[0] & 0xFu) * 4;
        uint32_t dlen = rd16(ip + 2) - (ip[0] & 0xFu) * 4 - 8;
        ns_init(&asker, req + 6, rd32(ip + 12), 24);
        enum ns_rx r = ns_input(&asker, reply, reply_len, out, &out_len, NULL, &e);
        CHECK(r == NS_RX_ECHO_REPLY, "the pinger refused our echo reply (%d)", r);
        CHECK(e.src_ip == US_IP && e.id == rd16(icmp + 4) && e.seq == rd16(icmp + 6) &&
              e.len == dlen && memcmp(e.data, icmp + 8, dlen) == 0,
              "echo reply differs from the request");
        CHECK(reply[14 + 8] == 64, "echo reply TTL %u", reply[14 + 8]);
    }
    free(out);
}

/* Feed len bytes to s from an exact-size copy and check the invariants.
 * On NS_RX_UDP, *u is filled and *copy is the frame (the caller frees it). */
static enum ns_rx feed(struct ns_stack *s, const uint8_t *bytes, size_t len, int fix,
                       struct ns_udp *u, uint8_t **copy)
{
    uint8_t *f = malloc(len ? len : 1), *out = malloc(NS_FRAME_MAX);
    if (!f || !out)
        abort();
    memcpy(f, bytes, len);
    if (fix)
        fix_csums(f, len);
    struct ns_stats before = s->st;
    struct ns_echo e;
    uint32_t out_len = 0xDEAD;
    enum ns_rx r = ns_input(s, f, (uint32_t)len, out, &out_len, u, &e);
    CHECK(s->st.rx_frames == before.rx_frames + 1, "rx_frames");
    CHECK(counted(&s->st) == counted(&before) + 1, "not exactly one counter moved (r %d)", r);
    CHECK((drops(&s->st) != drops(&before)) == (r == NS_RX_DROP), "drop not counted as one (r %d)", r);
    CHECK(out_len <= NS_FRAME_MAX, "out_len %u", out_len);
    CHECK(out_len == 0 || (out_len >= NS_FRAME_MIN && r == NS_RX_CONSUMED),
          "answer of %u bytes with r %d", out_len, r);
    if (r == NS_RX_UDP)
        CHECK(u->payload >= f + 42 && u->payload + u->len <= f + len, "UDP payload outside the frame");
    if (r == NS_RX_ECHO_REPLY)
        CHECK(e.data >= f + 42 && e.data + e.len <= f + len, "echo data outside the frame");
    if (out_len)
        check_answer(f, out, out_len);
    free(out);
    if (r == NS_RX_UDP && copy)
        *copy = f;
    else
        free(f);
    return r;
}

/* A flood frame of a size taken from the datagram, its payload filled
 * afterwards, reaches peer (which stands for u's sender). */
static void sized(struct ns_stack *s, struct ns_stack *peer, const struct ns_udp *u)
{
    uint8_t *out = malloc(NS_FRAME_MAX);
    if (!out)
        abort();
    uint32_t want = NS_FRAME_MIN + u->len % (NS_FRAME_MAX - NS_FRAME_MIN + 1), off = 0, arp_len = 1;
    int n = ns_udp_frame_sized(s, u->src_ip, u->dport, u->sport, want, out, NS_FRAME_MAX, &off, &arp_len);
    CHECK(n == (int)want && off == NS_UDP_PAYLOAD_OFF && arp_len == 0, "sized frame: %d", n);
    uint32_t plen = want - off, copy = plen < u->len ? plen : u->len;
    memcpy(out + off, u->payload, copy);
    ns_udp_fix_csum(out, want);
    struct ns_udp back;
    CHECK(ns_input(peer, out, want, NULL, NULL, &back, NULL) == NS_RX_UDP && back.len == plen &&
          memcmp(back.payload, u->payload, copy) == 0, "the addressee did not receive our sized frame");
    free(out);
}

/* We ping peer (u's sender, its MAC known) with u's payload as data; its
 * answer comes back to us as our echo reply. */
static void ping(struct ns_stack *s, struct ns_stack *peer, const struct ns_udp *u)
{
    uint8_t *req = malloc(NS_FRAME_MAX), *ans = malloc(NS_FRAME_MAX);
    if (!req || !ans)
        abort();
    uint16_t dlen = u->len < NS_ICMP_DATA_MAX ? u->len : NS_ICMP_DATA_MAX;
    uint32_t ans_len = 0;
    int n = ns_icmp_echo_frame(s, u->src_ip, u->sport, u->dport, u->payload, dlen, req, NS_FRAME_MAX, NULL);
    CHECK(n >= NS_FRAME_MIN && n <= NS_FRAME_MAX, "ping frame: %d", n);
    CHECK(ns_input(peer, req, (uint32_t)n, ans, &ans_len, NULL, NULL) == NS_RX_CONSUMED &&
          ans_len >= NS_FRAME_MIN, "the peer did not answer our ping");
    struct ns_echo e;
    CHECK(ns_input(s, ans, ans_len, NULL, NULL, NULL, &e) == NS_RX_ECHO_REPLY && e.src_ip == u->src_ip &&
          e.id == u->sport && e.seq == u->dport && e.len == dlen && memcmp(e.data, u->payload, dlen) == 0,
          "our ping's answer is not our echo reply");
    free(ans);
    free(req);
}

/* Echo a received datagram back as net-echo's server would. */
static void echo_back(struct ns_stack *s, const struct ns_udp *u)
{
    uint8_t *out = malloc(NS_FRAME_MAX), *ans = malloc(NS_FRAME_MAX);
    if (!out || !ans)
        abort();
    uint32_t arp_len = 0xDEAD, ans_len = 0;
    int n = ns_udp_frame(s, u->src_ip, u->dport, u->sport, u->payload, u->len, out, NS_FRAME_MAX, &arp_len);
    if (n == -EAGAIN) {
        CHECK(arp_len == NS_FRAME_MIN && rd16(out + 12) == NS_ETHERTYPE_ARP, "ARP request %u", arp_len);
        /* The addressee answers; the answer must let the datagram build. */
        struct ns_stack peer;
        ns_init(&peer, u->src_mac, u->src_ip, s->prefix);
        CHECK(ns_input(&peer, out, arp_len, ans, &ans_len, NULL, NULL) == NS_RX_CONSUMED &&
              ans_len == NS_FRAME_MIN, "the addressee did not answer our ARP request");
        CHECK(ns_input(s, ans, ans_len, out, &arp_len, NULL, NULL) == NS_RX_CONSUMED, "ARP reply refused");
        n = ns_udp_frame(s, u->src_ip, u->dport, u->sport, u->payload, u->len, out, NS_FRAME_MAX, &arp_len);
        CHECK(n > 0, "still no datagram after the ARP reply (%d)", n);
    }
    if (n > 0) {
        CHECK(arp_len == 0 && n >= NS_FRAME_MIN && n <= NS_FRAME_MAX, "datagram of %d bytes", n);
        struct ns_stack peer;
        struct ns_udp back;
        ns_init(&peer, out, u->src_ip, s->prefix);
        CHECK(ns_input(&peer, out, (uint32_t)n, ans, &ans_len, &back, NULL) == NS_RX_UDP &&
              back.src_ip == US_IP && back.sport == u->dport && back.dport == u->sport &&
              back.len == u->len && memcmp(back.payload, u->payload, u->len) == 0,
              "the addressee did not receive our datagram");
        sized(s, &peer, u);
        ping(s, &peer, u);
    } else {
        CHECK(n == -EHOSTUNREACH || (n == -EMSGSIZE && u->len > NS_UDP_PAYLOAD_MAX),
              "ns_udp_frame: %d", n);
    }
    free(ans);
    free(out);
}

static void sequence(const uint8_t *data, size_t size)
{
    struct ns_stack s;
    fresh(&s);
    for (int i = 0; i < SEQ_MAX_FRAMES && size >= 2; i++) {
        uint16_t hdr = rd16(data);
        size_t len = hdr & 0x7FFF;
        data += 2;
        size -= 2;
        if (len > size)
            len = size;
        struct ns_udp u;
        uint8_t *frame = NULL;
        if (feed(&s, data, len, hdr >> 15, &u, &frame) == NS_RX_UDP) {
            echo_back(&s, &u);
            free(frame);
        }
        data += len;
        size -= len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ns_stack s;
    struct ns_udp u;
    for (int fix = 0; fix < 2; fix++) {
        fresh(&s);
        feed(&s, data, size, fix, &u, NULL);
    }
    sequence(data, size);
    return 0;
}
