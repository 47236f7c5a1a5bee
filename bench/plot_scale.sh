#!/usr/bin/env bash
# bench/plot_scale.sh [--set k=v ...] — how long `fairvisor plot` takes on a
# run of 2,000 domains, almost all replicas (`count:`): it runs the scenario
# below on the virtual-time engine without graphs (10 s, a sample every
# 100 ms: 200,000 timeline rows), then draws its graphs 3 times and prints
# each time and the median, in seconds. Extra arguments go to `fairvisor
# run`. Needs build/fairvisor (or $FV_BIN) and gnuplot.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${FV_BIN:-build/fairvisor}
command -v gnuplot >/dev/null || { echo "plot_scale: gnuplot not found (tools/deps installs it)" >&2; exit 1; }
out=$(mktemp -d /tmp/fv-plot-scale.XXXXXX)
trap 'rm -rf "$out"' EXIT
# An echo pair, 60 UDP flooders into one sink, 400 disk flooders, 1,530
# periodic probes and 7 CPU hogs: every timeline graph and latency CDF has
# data, and the groups have 7 to 1,530 members.
cat > "$out/plot-scale.yaml" <<'EOF'
name: plot-scale
engine: sim
duration: 10s
seed: 1
pcpus: 2
sample: 100ms
sched: { policy: credit, tslice: 1ms }
netback: { port: ring, cpu: dom0 }
blkback: { backend: memory }
domains:
  - name: client
    workload: { kind: net-echo, role: client, peer: server, rate: 1k, size: 64B }
  - name: server
    workload: { kind: net-echo, role: server }
  - name: sink
    workload: { kind: net-sink, work: 2us }
  - name: flood
    count: 60
    workload: { kind: net-flood, peer: sink, size: 64B, rate: 200 }
  - name: disk
    count: 400
    workload: { kind: blk-flood, iodepth: 4, rate: 100 }
    vbds: [{ size: 1MiB }]
  - name: probe
    count: 1530
    workload: { kind: cpu-periodic, period: 100ms, burst: 100us }
  - name: hog
    count: 7
    workload: { kind: cpu-hog }
EOF
"$bin" run "$out/plot-scale.yaml" --out "$out/run" --no-plot --quiet "$@" >/dev/null
doms=$(awk -F, 'NR > 1 { d[$2] = 1 } END { print length(d) }' "$out/run/timeline.csv")
rows=$(($(wc -l < "$out/run/timeline.csv") - 1))
echo "$doms domains (Domain-0 included), $rows timeline rows; fairvisor plot:"
times=()
for i in 1 2 3; do
    t0=$(date +%s.%N)
    "$bin" plot "$out/run" >/dev/null
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
    printf '  run %d: %.2f s\n' "$i" "${times[-1]}"
done
printf 'median %.2f s (%d graphs in %s)\n' "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)" \
    "$(ls "$out/run/plots"/*.svg | wc -l)" "$(ls "$out/run/plots"/*.svg | xargs -n1 basename | sed 's/\.svg$//' | paste -sd' ')"
