#!/usr/bin/env bash
# bench/net_vs_dpdk.sh [ROUNDS] — netback against raw DPDK on the same kind
# of vdev (net_ring), side by side in one run of this script, ROUNDS times
# (default 3), alternating so that both see the same machine:
#   raw      build/bench/bench_dpdk_raw 3: one thread allocating 64-byte
#            mbufs, tx_burst, rx_burst, free on net_ring0 (packets/s)
#   netback  build/fairvisor run bench/net-ring.yaml (real engine): a flood
#            guest sends 64-byte UDP frames to a sink guest as fast as its
#            TX ring drains; Domain-0's netback busy-polls on a pCPU of its
#            own and moves every frame through net_ring. Reported:
#              capacity  frames netback took from the guests per second of
#                        its own CPU (backend_cpu_ns of both guests): what
#                        one core of netback forwards, guest ring to guest ring
#              delivered frames the sink guest received per second of run
#                        (the guests share the other pCPU; the sink drops
#                        what arrives while it is not running)
# Needs build/ with DPDK. Figures: docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
out=$(mktemp -d /tmp/fv-netbench.XXXXXX)
trap 'rm -rf "$out"' EXIT
for r in $(seq "$rounds"); do
  raw=$(build/bench/bench_dpdk_raw 3 | awk '/packets\/s/ {print $5}')
  build/fairvisor run bench/net-ring.yaml --out "$out/r$r" --no-plot --quiet >/dev/null
  python3 - "$out/r$r/summary.json" "$raw" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); raw = float(sys.argv[2])
d = {x["name"]: x for x in s["domains"]}
fl, sk, d0 = d["flood"], d["sink"], d["Domain-0"]
busy = (fl["backend_cpu_ns"] + sk["backend_cpu_ns"]) / 1e9
cap = fl["net"]["tx_pkts"] / busy if busy else 0
dur = s["duration_ns"] / 1e9
print(f'raw DPDK {raw/1e6:6.2f} Mpps ({1e9/raw:5.1f} ns/frame) | netback capacity '
      f'{cap/1e6:5.2f} Mpps ({1e9/cap:5.0f} ns/frame) ratio {cap/raw:.3f} | '
      f'delivered guest->guest {sk["net"]["rx_pkts"]/dur/1e3:6.0f} kpps, '
      f'taken from the flood {fl["net"]["tx_pkts"]/dur/1e3:6.0f} kpps, sink drops '
      f'{sk["net"]["drops"]/dur/1e3:6.0f} kpps, Domain-0 cpu {d0["cpu_share"]*100:.0f}%')
PY
done
