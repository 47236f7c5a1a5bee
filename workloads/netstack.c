/* netstack.c — the guest's minimal network stack (netstack.h).
 *
 * Guest code that is also unit tested and fuzzed on the host: no libc, no
 * guest.h, only the compiler's builtins on caller-supplied buffers. Every
 * read of a received frame is preceded by a length check against what the
 * frame holds, never against what its headers claim. */
#include "netstack.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#define IP_BCAST 0xFFFFFFFFu
#define IP_MCAST_FIRST 0xE0000000u     /* 224/4 multicast and 240/4 reserved above */
#define IP_TTL 64
#define IP_FRAG_MASK 0x3FFFu           /* MF and the fragment offset; DF is fine */
#define ARP_REQUEST 1
#define ARP_REPLY 2
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8

static const uint8_t bcast_mac[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

/* ---- byte order and checksums ------------------------------------------ */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

uint32_t ns_ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

uint16_t ns_csum(const void *data, uint32_t len, uint32_t sum)
{
    const uint8_t *p = data;
    /* 64 bits cannot overflow for any 32-bit length: fold once at the end. */
    uint64_t acc = sum;
    uint32_t i = 0;
    for (; i + 1 < len; i += 2)
        acc += get16(p + i);
    if (i < len)
        acc += (uint32_t)p[i] << 8;
    while (acc >> 16)
        acc = (acc & 0xFFFF) + (acc >> 16);
    return (uint16_t)~acc;
}

/* The unfolded sum of the UDP pseudo-header (RFC 768). */
static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    return (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + proto + len;
}

/* ---- addresses ---------------------------------------------------------- */

static uint32_t netmask(const struct ns_stack *s)
{
    return s->prefix == 0 ? 0 : s->prefix >= 32 ? IP_BCAST : IP_BCAST << (32 - s->prefix);
}

/* The subnet broadcast; /31 and /32 have none (RFC 3021). */
static bool is_subnet_bcast(const struct ns_stack *s, uint32_t ip)
{
    return s->prefix <= 30 && ip == (s->ip | ~netmask(s));
}

static bool is_bcast(const struct ns_stack *s, uint32_t ip)
{
    return ip == IP_BCAST || is_subnet_bcast(s, ip);
}

/* An address we can reach directly and may cache: unicast, on our subnet,
 * not the subnet's own (all-zeros or all-ones host part), not ours. */
static bool is_neighbour(const struct ns_stack *s, uint32_t ip)
{
    uint32_t m = netmask(s);
    if (ip == 0 || ip >= IP_MCAST_FIRST || ip == s->ip || (ip & m) != (s->ip & m))
        return false;
    return !(s->prefix <= 30 && ((ip & ~m) == 0 || (ip & ~m) == ~m));
}

static bool is_unicast_mac(const uint8_t *m)
{
    return !(m[0] & 1) && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) != 0;
}

/* ---- ARP cache ---------------------------------------------------------- */

static unsigned arp_slot(uint32_t ip)
{
    /* Fibonacci hashing: neighbours are usually consecutive addresses. */
    return (unsigned)((ip * 2654435761u) >> 26) & (NS_ARP_SLOTS - 1);
}

const uint8_t *ns_arp_lookup(const struct ns_stack *s, uint32_t ip)
{
    const struct ns_arp_entry *a = &s->arp[arp_slot(ip)];
    return a->valid && a->ip == ip ? a->mac : NULL;
}

void ns_arp_learn(struct ns_stack *s, uint32_t ip, const uint8_t mac[6])
{
    if (!is_neighbour(s, ip) || !is_unicast_mac(mac))
        return;
    struct ns_arp_entry *a = &s->arp[arp_slot(ip)];
    a->ip = ip;
    __builtin_memcpy(a->mac, mac, 6);
    a->valid = 1;
}

void ns_init(struct ns_stack *s, const uint8_t mac[6], uint32_t ip, uint8_t prefix)
{
    __builtin_memset(s, 0, sizeof(*s));
    __builtin_memcpy(s->mac, mac, 6);
    s->ip = ip;
    s->prefix = prefix > 32 ? 32 : prefix;
}

/* ---- building frames ---------------------------------------------------- */

static uint32_t put_eth(uint8_t *out, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    __builtin_memcpy(out, dst, 6);
    __builtin_memcpy(out + 6, src, 6);
    put16(out + 12, type);
    return NS_ETH_HLEN;
}

/* Zero-pad a frame of n bytes to NS_FRAME_MIN; returns its length. */
static uint32_t pad(uint8_t *out, uint32_t n)
{
    if (n >= NS_FRAME_MIN)
        return n;
    __builtin_memset(out + n, 0, NS_FRAME_MIN - n);
    return NS_FRAME_MIN;
}

static uint32_t put_arp(uint8_t *out, uint16_t op, const uint8_t *eth_dst, const uint8_t *sha,
                        uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
    uint8_t *a = out + put_eth(out, eth_dst, sha, NS_ETHERTYPE_ARP);
    put16(a, 1);                        /* hardware: Ethernet */
    put16(a + 2, NS_ETHERTYPE_IPV4);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, op);
    __builtin_memcpy(a + 8, sha, 6);
    put32(a + 14, spa);
    __builtin_memcpy(a + 18, tha, 6);
    put32(a + 24, tpa);
    return pad(out, NS_ETH_HLEN + NS_ARP_LEN);
}

int ns_arp_request(struct ns_stack *s, uint32_t ip, uint8_t *out, uint32_t cap)
{
    static const uint8_t unknown[6] = { 0 };
    if (cap < NS_FRAME_MIN)
        return -EMSGSIZE;
    return (int)put_arp(out, ARP_REQUEST, bcast_mac, s->mac, s->ip, unknown, ip);
}

/* Ethernet and an option-less IPv4 header from us to dst carrying l4len
 * bytes of proto; returns the offset of the layer-4 header. */
static uint32_t put_ip(struct ns_stack *s, uint8_t *out, const uint8_t *dst_mac, uint32_t dst,
                       uint8_t proto, uint8_t tos, uint32_t l4len)
{
    uint8_t *ip = out + put_eth(out, dst_mac, s->mac, NS_ETHERTYPE_IPV4);
    ip[0] = 0x45;
    ip[1] = tos;
    put16(ip + 2, (uint16_t)(NS_IP_HLEN + l4len));
    put16(ip + 4, s->ip_id++);
    put16(ip + 6, 0);                   /* no fragmentation flags: the frame is whole */
    ip[8] = IP_TTL;
    ip[9] = proto;
    put16(ip + 10, 0);
    put32(ip + 12, s->ip);
    put32(ip + 16, dst);
    put16(ip + 10, ns_csum(ip, NS_IP_HLEN, 0));
    return NS_ETH_HLEN + NS_IP_HLEN;
}

/* Where a packet of `frame` bytes (before padding; at least `min`) to dst
 * goes: 0 with *mac set, or the error of ns_udp_frame (for -EAGAIN the ARP
 * request is in out). */
static int route(struct ns_stack *s, uint32_t dst, uint32_t frame, uint32_t min, uint8_t *out,
                 uint32_t cap, uint32_t *arp_len, const uint8_t **mac)
{
    if (arp_len)
        *arp_len = 0;
    bool bcast = is_bcast(s, dst);
    if (!bcast && !is_neighbour(s, dst))
        return -EHOSTUNREACH;
    if (frame < min || frame > NS_FRAME_MAX || (frame < NS_FRAME_MIN ? NS_FRAME_MIN : frame) > cap)
        return -EMSGSIZE;
    *mac = bcast ? bcast_mac : ns_arp_lookup(s, dst);
    if (*mac)
        return 0;
    int n = ns_arp_request(s, dst, out, cap);
    if (arp_len && n > 0)
        *arp_len = (uint32_t)n;
    return -EAGAIN;
}

/* The UDP header of a datagram of ulen bytes at udp (payload in place),
 * checksum filled. */
static void put_udp(uint8_t *udp, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                    uint16_t ulen)
{
    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, ulen);
    put16(udp + 6, 0);
    uint16_t c = ns_csum(udp, ulen, pseudo_sum(src, dst, NS_IPPROTO_UDP, ulen));
    put16(udp + 6, c ? c : 0xFFFF);     /* 0 would mean "no checksum" (RFC 768) */
}

int ns_udp_frame(struct ns_stack *s, uint32_t dst_ip, uint16_t sport, uint16_t dport,
                 const void *payload, uint16_t plen, uint8_t *out, uint32_t cap, uint32_t *arp_len)
{
    const uint8_t *mac;
    int rc = route(s, dst_ip, NS_UDP_PAYLOAD_OFF + (uint32_t)plen, 0, out, cap, arp_len, &mac);
    if (rc < 0)
        return rc;
    uint16_t ulen = (uint16_t)(NS_UDP_HLEN + plen);
    uint8_t *udp = out + put_ip(s, out, mac, dst_ip, NS_IPPROTO_UDP, 0, ulen);
    if (plen)
        __builtin_memcpy(udp + NS_UDP_HLEN, payload, plen);
    put_udp(udp, s->ip, dst_ip, sport, dport, ulen);
    return (int)pad(out, NS_UDP_PAYLOAD_OFF + plen);
}

int ns_udp_frame_sized(struct ns_stack *s, uint32_t dst_ip, uint16_t sport, uint16_t dport,
                       uint32_t frame_len, uint8_t *out, uint32_t cap, uint32_t *payload_off,
                       uint32_t *arp_len)
{
    const uint8_t *mac;
    int rc = route(s, dst_ip, frame_len, NS_FRAME_MIN, out, cap, arp_len, &mac);
    if (rc < 0)
        return rc;
    uint16_t ulen = (uint16_t)(frame_len - NS_ETH_HLEN - NS_IP_HLEN);
    uint8_t *udp = out + put_ip(s, out, mac, dst_ip, NS_IPPROTO_UDP, 0, ulen);
    __builtin_memset(udp + NS_UDP_HLEN, 0, ulen - NS_UDP_HLEN);
    put_udp(udp, s->ip, dst_ip, sport, dport, ulen);
    if (payload_off)
        *payload_off = NS_UDP_PAYLOAD_OFF;
    return (int)frame_len;
}

void ns_udp_fix_csum(uint8_t *frame, uint32_t frame_len)
{
    if (frame_len < NS_UDP_PAYLOAD_OFF || get16(frame + 12) != NS_ETHERTYPE_IPV4)
        return;
    uint8_t *ip = frame + NS_ETH_HLEN;
    uint32_t ihl = (ip[0] & 0xFu) * 4;
    if (ip[0] >> 4 != 4 || ihl < NS_IP_HLEN || ip[9] != NS_IPPROTO_UDP ||
        NS_ETH_HLEN + ihl + NS_UDP_HLEN > frame_len)
        return;
    uint8_t *udp = ip + ihl;
    uint16_t ulen = get16(udp + 4);
    if (ulen < NS_UDP_HLEN || NS_ETH_HLEN + ihl + ulen > frame_len)
        return;
    put_udp(udp, get32(ip + 12), get32(ip + 16), get16(udp), get16(udp + 2), ulen);
}

int ns_icmp_echo_frame(struct ns_stack *s, uint32_t dst_ip, uint16_t id, uint16_t seq,
                       const void *data, uint16_t dlen, uint8_t *out, uint32_t cap,
                       uint32_t *arp_len)
{
    const uint8_t *mac;
    uint32_t l4len = NS_ICMP_HLEN + (uint32_t)dlen;
    int rc = route(s, dst_ip, NS_ETH_HLEN + NS_IP_HLEN + l4len, 0, out, cap, arp_len, &mac);
    if (rc < 0)
        return rc;
    uint8_t *icmp = out + put_ip(s, out, mac, dst_ip, NS_IPPROTO_ICMP, 0, l4len);
    icmp[0] = ICMP_ECHO_REQUEST;
    icmp[1] = 0;
    put16(icmp + 2, 0);
    put16(icmp + 4, id);
    put16(icmp + 6, seq);
    if (dlen)
        __builtin_memcpy(icmp + NS_ICMP_HLEN, data, dlen);
    put16(icmp + 2, ns_csum(icmp, l4len, 0));
    return (int)pad(out, NS_ETH_HLEN + NS_IP_HLEN + l4len);
}

/* ---- receiving ---------------------------------------------------------- */

static enum ns_rx drop(uint64_t *counter)
{
    (*counter)++;
    return NS_RX_DROP;
}

/* What ns_input is working on; out_len is never NULL here. */
struct rx {
    struct ns_stack *s;
    const uint8_t *frame;
    uint32_t len;
    uint8_t *out;
    uint32_t *out_len;
};

static enum ns_rx arp_input(struct rx *r)
{
    struct ns_stack *s = r->s;
    if (r->len < NS_ETH_HLEN + NS_ARP_LEN)
        return drop(&s->st.drop_short);
    const uint8_t *a = r->frame + NS_ETH_HLEN;
    uint16_t op = get16(a + 6);
    if (get16(a) != 1 || get16(a + 2) != NS_ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4 ||
        (op != ARP_REQUEST && op != ARP_REPLY) || !is_unicast_mac(a + 8))
        return drop(&s->st.drop_unsupported);
    s->st.rx_arp++;
    const uint8_t *sha = a + 8;
    uint32_t spa = get32(a + 14), tpa = get32(a + 24);
    /* RFC 826's merge: refresh a sender we know; add it when it talks to us. */
    if (ns_arp_lookup(s, spa) || tpa == s->ip)
        ns_arp_learn(s, spa, sha);
    /* A sender claiming our own address asks nothing (an announcement or a
     * conflict), and a probe's sender address 0 is answered as Linux does. */
    if (op == ARP_REQUEST && tpa == s->ip && s->ip != 0 && spa != s->ip && r->out) {
        *r->out_len = put_arp(r->out, ARP_REPLY, sha, s->mac, s->ip, sha, spa);
        s->st.tx_arp_replies++;
    }
    return NS_RX_CONSUMED;
}

static enum ns_rx icmp_input(struct rx *r, const uint8_t *ip, uint32_t ihl, uint32_t tot,
                             struct ns_echo *e)
{
    struct ns_stack *s = r->s;
    const uint8_t *icmp = ip + ihl;
    uint32_t l4len = tot - ihl;
    if (l4len < NS_ICMP_HLEN)
        return drop(&s->st.drop_short);
    if (ns_csum(icmp, l4len, 0) != 0)
        return drop(&s->st.drop_bad_csum);
    uint32_t src = get32(ip + 12);
    if (icmp[0] == ICMP_ECHO_REPLY) {
        s->st.rx_echo_replies++;
        if (e) {
            e->src_ip = src;
            e->id = get16(icmp + 4);
            e->seq = get16(icmp + 6);
            e->data = icmp + NS_ICMP_HLEN;
            e->len = (uint16_t)(l4len - NS_ICMP_HLEN);
        }
        return NS_RX_ECHO_REPLY;
    }
    if (icmp[0] != ICMP_ECHO_REQUEST)
        return drop(&s->st.drop_unsupported);
    if (NS_ETH_HLEN + NS_IP_HLEN + l4len > NS_FRAME_MAX)
        return drop(&s->st.drop_unsupported);
    s->st.rx_icmp_echo++;
    if (!r->out)
        return NS_RX_CONSUMED;
    /* RFC 792: addresses swapped, type 0, the rest (id, seq, data) as
     * received. The request's options are not echoed (RFC 1122 3.2.2.6
     * only asks for record-route and timestamp, which we do not keep). */
    uint8_t *reply = r->out + put_ip(s, r->out, r->frame + 6, src, NS_IPPROTO_ICMP, ip[1], l4len);
    __builtin_memcpy(reply, icmp, l4len);
    reply[0] = ICMP_ECHO_REPLY;
    reply[1] = 0;
    put16(reply + 2, 0);
    put16(reply + 2, ns_csum(reply, l4len, 0));
    *r->out_len = pad(r->out, NS_ETH_HLEN + NS_IP_HLEN + l4len);
    return NS_RX_CONSUMED;
}

static enum ns_rx udp_input(struct rx *r, const uint8_t *ip, uint32_t ihl, uint32_t tot,
                            struct ns_udp *u)
{
    struct ns_stack *s = r->s;
    const uint8_t *udp = ip + ihl;
    if (tot - ihl < NS_UDP_HLEN)
        return drop(&s->st.drop_short);
    uint16_t ulen = get16(udp + 4);
    if (ulen < NS_UDP_HLEN || ulen > tot - ihl)
        return drop(&s->st.drop_bad_ip);
    uint32_t src = get32(ip + 12), dst = get32(ip + 16);
    if (get16(udp + 6) != 0 &&
        ns_csum(udp, ulen, pseudo_sum(src, dst, NS_IPPROTO_UDP, ulen)) != 0)
        return drop(&s->st.drop_bad_csum);
    s->st.rx_udp++;
    if (u) {
        u->src_ip = src;
        u->sport = get16(udp);
        u->dport = get16(udp + 2);
        u->payload = udp + NS_UDP_HLEN;
        u->len = (uint16_t)(ulen - NS_UDP_HLEN);
        __builtin_memcpy(u->src_mac, r->frame + 6, 6);
    }
    return NS_RX_UDP;
}

static enum ns_rx ip_input(struct rx *r, struct ns_udp *u, struct ns_echo *e)
{
    struct ns_stack *s = r->s;
    if (r->len < NS_ETH_HLEN + NS_IP_HLEN)
        return drop(&s->st.drop_short);
    const uint8_t *ip = r->frame + NS_ETH_HLEN;
    uint32_t avail = r->len - NS_ETH_HLEN, ihl = (ip[0] & 0xFu) * 4;
    if (ip[0] >> 4 != 4 || ihl < NS_IP_HLEN || ihl > avail)
        return drop(&s->st.drop_bad_ip);
    if (ns_csum(ip, ihl, 0) != 0)
        return drop(&s->st.drop_bad_csum);
    /* Bytes past the total length are Ethernet padding. */
    uint32_t tot = get16(ip + 2);
    if (tot < ihl || tot > avail)
        return drop(&s->st.drop_bad_ip);
    if (get16(ip + 6) & IP_FRAG_MASK)
        return drop(&s->st.drop_frag);
    uint32_t src = get32(ip + 12), dst = get32(ip + 16);
    bool to_us = dst == s->ip;
    if (!to_us && !(ip[9] == NS_IPPROTO_UDP && is_bcast(s, dst)))
        return drop(&s->st.drop_not_ours);
    /* RFC 1122 3.2.1.3: no broadcast or multicast sources. */
    if (src == 0 || src >= IP_MCAST_FIRST || src == s->ip || is_subnet_bcast(s, src) ||
        !is_unicast_mac(r->frame + 6))
        return drop(&s->st.drop_bad_ip);
    if (to_us)
        ns_arp_learn(s, src, r->frame + 6);
    switch (ip[9]) {
    case NS_IPPROTO_ICMP:
        return icmp_input(r, ip, ihl, tot, e);
    case NS_IPPROTO_UDP:
        return udp_input(r, ip, ihl, tot, u);
    default:
        return drop(&s->st.drop_unsupported);
    }
}

enum ns_rx ns_input(struct ns_stack *s, const uint8_t *frame, uint32_t len, uint8_t *out,
                    uint32_t *out_len, struct ns_udp *u, struct ns_echo *e)
{
    uint32_t ignored;
    struct rx r = { s, frame, len, out, out_len ? out_len : &ignored };
    *r.out_len = 0;
    s->st.rx_frames++;
    if (len < NS_ETH_HLEN)
        return drop(&s->st.drop_short);
    if (__builtin_memcmp(frame, s->mac, 6) != 0 && __builtin_memcmp(frame, bcast_mac, 6) != 0)
        return drop(&s->st.drop_not_ours);
    switch (get16(frame + 12)) {
    case NS_ETHERTYPE_ARP:
        return arp_input(&r);
    case NS_ETHERTYPE_IPV4:
        return ip_input(&r, u, e);
    default:
        return drop(&s->st.drop_unsupported);
    }
}
