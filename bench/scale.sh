#!/usr/bin/env bash
# bench/scale.sh [SCENARIO] [--set k=v ...] — run the sim engine at scale and
# report scheduling events per second of wall time. Needs build/fairvisor.
set -euo pipefail
cd "$(dirname "$0")/.."
scn=${1:-bench/scale-10k.yaml}
shift || true
out=$(mktemp -d /tmp/fv-scale.XXXXXX)
/usr/bin/time -f '%e s wall, %M KiB max RSS' build/fairvisor run "$scn" --out "$out" --no-plot --quiet "$@"
python3 - "$out/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
ev, sch, wall = s["events"], s["schedules"], s["wall_s"]
print(f'{len(s["domains"])} domains, {s["pcpus"]} pCPUs, {s["duration_ns"]/1e9:.0f} s virtual, policy {s["policy"]}')
print(f'events {ev:,}  do_schedule calls {sch:,}  engine wall {wall:.2f} s')
print(f'{ev/wall/1e6:.2f} M events/s   {(ev+sch)/wall/1e6:.2f} M events+schedules/s')
PY
rm -rf "$out"
