#!/usr/bin/env bash
# bench/blk_vs_fio.sh [ROUNDS] — blkback's file disk against fio on the same
# file: 4 KiB random reads at queue depth 32 for 5 s, O_DIRECT, io_uring,
# ROUNDS times (default 3), alternating so that both see the same machine:
#   blk_disk  build/bench/bench_blk_disk: blk_disk_queue/kick/wait/reap
#             (blkback/disk.h) keeping 32 reads in flight
#   fio       fio --ioengine=io_uring --rw=randread --bs=4k --iodepth=32
#             --direct=1 --size=1g --runtime=5 --time_based
# The file ($FV_BLK_FILE, default /var/tmp/fv-blk-bench.img, 1 GiB) is
# written once, by bench_blk_disk, and kept for the next run; it must be on
# a filesystem with direct I/O (not tmpfs). BUILD (default build) names the
# build directory. Needs fio (tools/deps).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
build=${BUILD:-build}
file=${FV_BLK_FILE:-/var/tmp/fv-blk-bench.img}
bench=$build/bench/bench_blk_disk
[ -x "$bench" ] || { echo "blk_vs_fio: $bench missing: cmake --build $build --target bench_blk_disk" >&2; exit 2; }
command -v fio >/dev/null || { echo "blk_vs_fio: fio missing: tools/deps" >&2; exit 2; }
# Lay the file out (and warm nothing: both read with O_DIRECT).
"$bench" --file "$file" --size 1g --seconds 0.1 >/dev/null
for r in $(seq "$rounds"); do
  ours=$("$bench" --file "$file" --size 1g --seconds 5 --qdepth 32 --bs 4096)
  echo "$ours" | grep -q "direct I/O" || { echo "blk_vs_fio: $file is not served with direct I/O: $ours" >&2; exit 1; }
  iops=$(echo "$ours" | sed -n 's/.*: \([0-9]*\) IOPS.*/\1/p')
  fio_iops=$(fio --name=randread --ioengine=io_uring --rw=randread --bs=4k --iodepth=32 \
                 --direct=1 --size=1g --runtime=5 --time_based --filename="$file" \
                 --output-format=json | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["read"]["iops"]))')
  python3 -c "
o, f = $iops, $fio_iops
print(f'round $r: blk_disk {o:8d} IOPS | fio {f:8d} IOPS | blk_disk/fio {o/f:.3f}')"
done
