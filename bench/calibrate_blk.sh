#!/usr/bin/env bash
# bench/calibrate_blk.sh — measure the virtual-time engine's disk model on
# this host (blkback.model: latency, bandwidth; blkback.cost: request, kib):
#   latency    fio: 4 KiB random reads at queue depth 1, O_DIRECT, io_uring,
#              3 s: the mean completion latency
#   bandwidth  fio: 1 MiB sequential reads at queue depth 8, O_DIRECT, 3 s
#   request, kib  the real engine (bench/blk-randread.yaml on a memory disk,
#              Domain-0 busy-polling): backend_cpu_ns per request at 4 KiB
#              and at 44 KiB, flat out at queue depth 32 (a pass serves many
#              requests, as a busy disk does): per44 - per4 = 40 × kib
# on the image $FV_BLK_FILE (default /var/tmp/fv-blk-bench.img, 1 GiB, laid
# out if missing). Prints a `blkback:` line. docs/CALIBRATION.md.
set -euo pipefail
cd "$(dirname "$0")/.."
file=${FV_BLK_FILE:-/var/tmp/fv-blk-bench.img}
command -v fio >/dev/null || { echo "calibrate_blk: fio missing: tools/deps" >&2; exit 2; }
out=$(mktemp -d /tmp/fv-calblk.XXXXXX)
trap 'rm -rf "$out"' EXIT
[ -s "$file" ] || fio --name=layout --rw=write --bs=1m --size=1g --filename="$file" \
                      --output-format=terse >/dev/null
lat=$(fio --name=lat --ioengine=io_uring --rw=randread --bs=4k --iodepth=1 --direct=1 --size=1g \
          --runtime=3 --time_based --filename="$file" --output-format=json |
      python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["read"]["clat_ns"]["mean"]))')
bw=$(fio --name=bw --ioengine=io_uring --rw=read --bs=1m --iodepth=8 --direct=1 --size=1g \
         --runtime=3 --time_based --filename="$file" --output-format=json |
     python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["read"]["bw_bytes"]))')
for bs in 4KiB 44KiB; do
  build/fairvisor run bench/blk-randread.yaml --out "$out/$bs" --no-plot --quiet --set duration=2s \
    --set domains.0.vbds.0.backend=memory --set domains.0.vbds.0.path= \
    --set domains.0.workload.bs=$bs --set domains.0.workload.rate=0 >/dev/null 2>&1 ||
  build/fairvisor run bench/blk-randread.yaml --out "$out/$bs" --no-plot --quiet --set duration=2s \
    --set domains.0.workload.bs=$bs --set domains.0.workload.rate=0 >/dev/null
done
python3 - "$out" "$lat" "$bw" <<'PY'
import json, sys
def per(bs):
    s = json.load(open(f"{sys.argv[1]}/{bs}/summary.json"))
    d = [x for x in s["domains"] if x["name"] == "reader"][0]
    return d["backend_cpu_ns"] / max(1, d["blk"]["reads"])
p4, p44 = per("4KiB"), per("44KiB")
kib = max(0.0, (p44 - p4) / 40)
req = max(0.0, p4 - 4 * kib)
lat, bw = int(sys.argv[2]), int(sys.argv[3])
print(f"fio: 4 KiB QD1 mean latency {lat/1e3:.1f} us, 1 MiB sequential {bw/2**20:.0f} MiB/s; "
      f"blkback per request: {p4:.0f} ns at 4 KiB, {p44:.0f} ns at 44 KiB")
print(f"blkback: {{ model: {{ latency: {lat//1000}us, bandwidth: {bw//2**20}MiB/s }}, "
      f"cost: {{ request: {req:.0f}ns, kib: {kib:.0f}ns }} }}")
PY
