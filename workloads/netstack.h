/* netstack.h — the guest's minimal network stack: Ethernet, ARP (RFC 826),
 * IPv4 (RFC 791) without fragmentation or routing, ICMP echo (RFC 792) and
 * UDP (RFC 768), on one interface with one address and an on-link subnet.
 *
 * Pure functions on buffers: no allocation, no I/O, no libc, no guest.h
 * calls, so the network workloads run it over netfront and the tests and
 * the fuzz harness call it directly. Multi-byte fields are in network byte
 * order on the wire; the API takes IPv4 addresses and ports in host byte
 * order. Functions that can fail return a negative errno. Output buffers
 * receive whole Ethernet frames (no FCS), zero-padded to NS_FRAME_MIN.
 *
 * Receiving (ns_input): frames to our MAC or broadcast. ARP requests for our
 * address are answered; ARP merges the sender into the cache as RFC 826
 * says (an entry already cached is refreshed, a new one is added when the
 * ARP targets us); IPv4 packets addressed to our address add their on-link
 * sender too. ICMP echo requests to our address are answered in `out`;
 * echo replies and UDP datagrams (to our address, 255.255.255.255 or the
 * subnet broadcast) are handed back. Every dropped frame bumps exactly one
 * drop counter:
 *   drop_short       too short for the Ethernet, ARP, IPv4 (20 bytes), ICMP
 *                    or UDP header it carries
 *   drop_not_ours    Ethernet destination neither our MAC nor broadcast, or
 *                    IPv4 destination not ours (ICMP: our address only)
 *   drop_bad_ip      IPv4 version, IHL beyond the packet, total length below
 *                    the header or beyond the frame, UDP length inconsistent,
 *                    a broadcast/multicast/zero/own source address or an
 *                    Ethernet source that is multicast or all zeros
 *   drop_bad_csum    IPv4 header, ICMP or UDP (when not 0) checksum wrong
 *   drop_frag        a fragment (MF set or a fragment offset)
 *   drop_unsupported another ethertype or IP protocol, ICMP other than echo,
 *                    ARP not Ethernet/IPv4 or with an odd opcode or sender
 *                    MAC, an echo request whose reply would exceed
 *                    NS_FRAME_MAX
 */
#ifndef FV_NETSTACK_H
#define FV_NETSTACK_H

#include <stdint.h>

#define NS_ETH_HLEN 14
#define NS_FRAME_MIN 60            /* frames shorter than this are padded with zeros */
#define NS_FRAME_MAX 1514          /* Ethernet without FCS */
#define NS_ARP_SLOTS 64            /* a power of two */

#define NS_ETHERTYPE_IPV4 0x0800
#define NS_ETHERTYPE_ARP 0x0806
#define NS_IPPROTO_ICMP 1
#define NS_IPPROTO_UDP 17
#define NS_IP_HLEN 20              /* without options */
#define NS_UDP_HLEN 8
#define NS_ICMP_HLEN 8             /* echo: type, code, checksum, id, seq */
#define NS_ARP_LEN 28              /* Ethernet/IPv4 ARP body */
/* Where a UDP payload starts in the frames this stack builds. */
#define NS_UDP_PAYLOAD_OFF (NS_ETH_HLEN + NS_IP_HLEN + NS_UDP_HLEN)
#define NS_UDP_PAYLOAD_MAX (NS_FRAME_MAX - NS_UDP_PAYLOAD_OFF)    /* 1472 */
#define NS_ICMP_DATA_MAX (NS_FRAME_MAX - NS_ETH_HLEN - NS_IP_HLEN - NS_ICMP_HLEN)

/* A cache slot: valid != 0 when it holds ip -> mac. */
struct ns_arp_entry { uint32_t ip; uint8_t mac[6]; uint8_t valid; };
struct ns_stats {
    uint64_t rx_frames;         /* every frame handed to ns_input */
    uint64_t rx_arp;            /* well-formed ARP requests and replies */
    uint64_t tx_arp_replies;
    uint64_t rx_icmp_echo;      /* echo requests to us (each answered) */
    uint64_t rx_udp;
    uint64_t rx_echo_replies;
    uint64_t drop_short, drop_not_ours, drop_bad_ip, drop_bad_csum, drop_frag, drop_unsupported;
};
struct ns_stack {
    uint8_t mac[6];
    uint32_t ip;                /* host order */
    uint8_t prefix;             /* subnet prefix length, 0..32 */
    uint16_t ip_id;             /* the IPv4 identification of the next packet sent */
    struct ns_arp_entry arp[NS_ARP_SLOTS];
    struct ns_stats st;
};
/* A received UDP datagram; payload points into the frame. */
struct ns_udp { uint32_t src_ip; uint16_t sport, dport; const uint8_t *payload; uint16_t len; uint8_t src_mac[6]; };
/* A received echo reply; data points into the frame. */
struct ns_echo { uint32_t src_ip; uint16_t id, seq; const uint8_t *data; uint16_t len; };
enum ns_rx { NS_RX_DROP, NS_RX_CONSUMED, NS_RX_UDP, NS_RX_ECHO_REPLY };

/* A stack with address ip/prefix (prefix above 32 is taken as 32), an
 * empty ARP cache and zeroed counters. */
void ns_init(struct ns_stack *s, const uint8_t mac[6], uint32_t ip, uint8_t prefix);

/* Handle one received frame of len bytes (see the top of the file). A frame
 * that needs an answer (an ARP request for our IP, an ICMP echo request to
 * our IP) gets it written into `out` (cap >= NS_FRAME_MAX) with *out_len
 * set; otherwise *out_len = 0. Returns NS_RX_UDP (*u filled; payload points
 * into `frame`), NS_RX_ECHO_REPLY (*e filled: an answer to our own ping),
 * NS_RX_CONSUMED (ARP, or an echo request answered), NS_RX_DROP (the
 * reason counted in st). Never reads outside [frame, frame + len). out, u
 * and e may be NULL: then nothing is written there (an echo request is
 * still counted, unanswered). */
enum ns_rx ns_input(struct ns_stack *s, const uint8_t *frame, uint32_t len, uint8_t *out,
                    uint32_t *out_len, struct ns_udp *u, struct ns_echo *e);

/* A UDP datagram to dst_ip as a whole Ethernet frame (UDP checksum filled)
 * in out; returns the frame length (>= NS_FRAME_MIN), -EHOSTUNREACH if
 * dst_ip is outside our subnet (or is 0.0.0.0 or our own address),
 * -EMSGSIZE if it does not fit NS_FRAME_MAX or cap, or -EAGAIN when dst_ip's
 * MAC is not known yet: then out holds an ARP request for it instead, of
 * *arp_len bytes (the caller sends it and retries later). *arp_len is 0
 * otherwise (arp_len may be NULL). 255.255.255.255 and the subnet broadcast
 * go to ff:ff:ff:ff:ff:ff. Each packet sent takes the next s->ip_id. */
int ns_udp_frame(struct ns_stack *s, uint32_t dst_ip, uint16_t sport, uint16_t dport,
                 const void *payload, uint16_t plen, uint8_t *out, uint32_t cap, uint32_t *arp_len);
/* A frame of exactly frame_len bytes (NS_FRAME_MIN..NS_FRAME_MAX, else
 * -EMSGSIZE) carrying UDP with a zeroed payload of frame_len -
 * NS_UDP_PAYLOAD_OFF bytes at *payload_off, checksum filled: for floods of a
 * given wire size. The caller may fill the payload afterwards and call
 * ns_udp_fix_csum. Returns frame_len or the errors of ns_udp_frame. */
int ns_udp_frame_sized(struct ns_stack *s, uint32_t dst_ip, uint16_t sport, uint16_t dport,
                       uint32_t frame_len, uint8_t *out, uint32_t cap, uint32_t *payload_off,
                       uint32_t *arp_len);
/* Recompute the UDP checksum of a frame built by ns_udp_frame_sized (or
 * ns_udp_frame) after its payload was changed. Frames that are no IPv4/UDP
 * or whose lengths do not fit frame_len are left alone. */
void ns_udp_fix_csum(uint8_t *frame, uint32_t frame_len);

/* A broadcast ARP request for ip (NS_FRAME_MIN bytes); returns its length or
 * -EMSGSIZE if cap < NS_FRAME_MIN. */
int ns_arp_request(struct ns_stack *s, uint32_t ip, uint8_t *out, uint32_t cap);
/* An ICMP echo request (ping) to dst_ip carrying id, seq and dlen bytes of
 * data; returns and errors as ns_udp_frame. */
int ns_icmp_echo_frame(struct ns_stack *s, uint32_t dst_ip, uint16_t id, uint16_t seq,
                       const void *data, uint16_t dlen, uint8_t *out, uint32_t cap,
                       uint32_t *arp_len);

/* The cached MAC of ip, or NULL. */
const uint8_t *ns_arp_lookup(const struct ns_stack *s, uint32_t ip);
/* Cache ip -> mac in ip's slot (replacing whatever another address held
 * there). Ignored unless ip is a unicast address of our subnet other than
 * ours and mac a unicast MAC other than 00:00:00:00:00:00. */
void ns_arp_learn(struct ns_stack *s, uint32_t ip, const uint8_t mac[6]);

/* RFC 1071 Internet checksum over len bytes (big-endian 16-bit words, an
 * odd last byte padded with zero), starting from a partial sum (0, or the
 * unfolded sum of a pseudo-header): the one's complement of the folded
 * one's-complement sum, in host order. Over data including a correct
 * checksum it is 0. */
uint16_t ns_csum(const void *data, uint32_t len, uint32_t sum);
/* The host-order address a.b.c.d. */
uint32_t ns_ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d);

#endif
