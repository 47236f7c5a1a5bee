#!/usr/bin/env bash
# bench/ping_tap.sh [COUNT] — the host's ping to a guest over netback's TAP
# port, beside the floor a bare DPDK program gets answering ping on the
# same kind of port (build/bench/dpdk_ping_floor: net_tap, busy-polling,
# the same guest network stack). Both in a network namespace of this
# script's own (nothing leaves it), each pinged COUNT times (default 500)
# back to back (-i 0) and at 10 ms spacing. Needs root, /dev/net/tun and a
# DPDK build. Figures: docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-500}
ns=fvping$$
ip netns add "$ns"
tmp=$(mktemp -d /tmp/fv-ping.XXXXXX)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
nsx() { ip netns exec "$ns" "$@"; }
nsx ip link set lo up
wait_if() { for _ in $(seq 500); do nsx ip link show "$1" >/dev/null 2>&1 && return 0; sleep 0.02; done; return 1; }
pings() { # LABEL
  local b2b spaced
  b2b=$(nsx ping -q -c "$count" -i 0 198.18.0.2 | awk -F/ '/^rtt/ {print $5}')
  spaced=$(nsx ping -q -c "$((count / 5))" -i 0.01 198.18.0.2 | awk -F/ '/^rtt/ {print $5}')
  printf '%-28s avg rtt back to back %6s ms   at 10 ms spacing %6s ms\n' "$1" "$b2b" "$spaced"
}
secs=$((count / 50 + 10))
nsx build/bench/dpdk_ping_floor fvp0 "$secs" >"$tmp/floor.log" 2>&1 &
floor=$!
wait_if fvp0
nsx ip addr add 198.18.0.1/24 dev fvp0
nsx ip link set fvp0 up
sleep 0.2
pings "bare DPDK (floor)"
kill "$floor" 2>/dev/null || true; wait "$floor" 2>/dev/null || true
for cpu in dom0 dedicated; do
  nsx build/fairvisor run scenarios/net-tap.yaml --out "$tmp/fv-$cpu" --no-plot --quiet \
    --set duration="${secs}s" --set netback.tap.name=fvp1 --set netback.cpu=$cpu >"$tmp/fv.log" 2>&1 &
  fv=$!
  wait_if fvp1
  sleep 0.5
  pings "fairvisor, netback.cpu: $cpu"
  kill -INT "$fv" 2>/dev/null || true; wait "$fv" 2>/dev/null || true
done
