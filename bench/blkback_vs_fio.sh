#!/usr/bin/env bash
# bench/blkback_vs_fio.sh [ROUNDS] — blkback against fio on the same file:
# 4 KiB random reads at queue depth 32 for 5 s, O_DIRECT, io_uring, ROUNDS
# times (default 3), alternating so that both see the same machine:
#   blkback  build/fairvisor run bench/blk-randread.yaml (real engine): a
#            guest's blk-flood posts the reads on its blkif ring; Domain-0's
#            blkback, busy-polling on a pCPU of its own, serves them from
#            the image with io_uring and copies each 4 KiB into the guest
#   fio      fio --ioengine=io_uring --rw=randread --bs=4k --iodepth=32
#            --direct=1 --size=1g --runtime=5 --time_based, on the same file
# The file ($FV_BLK_FILE, default /var/tmp/fv-blk-bench.img, 1 GiB) is laid
# out once and kept; it must be on a filesystem with direct I/O (not
# tmpfs). Needs fio (tools/deps). Figures: docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
file=${FV_BLK_FILE:-/var/tmp/fv-blk-bench.img}
command -v fio >/dev/null || { echo "blkback_vs_fio: fio missing: tools/deps" >&2; exit 2; }
out=$(mktemp -d /tmp/fv-blkbench.XXXXXX)
trap 'rm -rf "$out"' EXIT
[ -s "$file" ] || fio --name=layout --rw=write --bs=1m --size=1g --filename="$file" \
                      --output-format=terse >/dev/null
for r in $(seq "$rounds"); do
  build/fairvisor run bench/blk-randread.yaml --out "$out/r$r" --no-plot --quiet \
    --set domains.0.vbds.0.path="$file" >/dev/null
  fio_iops=$(fio --name=randread --ioengine=io_uring --rw=randread --bs=4k --iodepth=32 \
                 --direct=1 --size=1g --runtime=5 --time_based --filename="$file" \
                 --output-format=json | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["read"]["iops"]))')
  python3 - "$out/r$r/summary.json" "$fio_iops" "$r" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); f = float(sys.argv[2])
d = [x for x in s["domains"] if x["name"] == "reader"][0]
iops = d["blk"]["reads"] / (s["duration_ns"] / 1e9)
print(f'round {sys.argv[3]}: blkback {iops:8.0f} IOPS (direct {d["blk"]["direct"]}, p99 '
      f'{d["blk"]["latency_ns"]["p99"]/1e3:.0f} us) | fio {f:8.0f} IOPS | blkback/fio {iops/f:.3f}')
PY
done
