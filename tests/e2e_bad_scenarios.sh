#!/usr/bin/env bash
# e2e_bad_scenarios.sh — every tests/data/bad/*.yaml is refused by the CLI
# before anything runs: exit status 2 and a first stderr line
# `FILE:LINE:COL: ...` at the place and with the phrase its first line
# names (`# expect: LINE:COL PHRASE`). Skips (77) until the binary exists.
set -u
bin=${FV_BIN:-}
src=${FV_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
if [[ -z $bin || ! -x $bin ]]; then
    echo "skip: no fairvisor binary (FV_BIN=$bin)"
    exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fails=0 n=0
for f in "$src"/tests/data/bad/*.yaml; do
    n=$((n + 1))
    first=$(head -n 1 "$f")
    if [[ ! $first =~ ^#\ expect:\ ([0-9]+):([0-9]+)\ (.*)$ ]]; then
        echo "FAIL $f: first line is not '# expect: LINE:COL PHRASE'"
        fails=$((fails + 1))
        continue
    fi
    want="$f:${BASH_REMATCH[1]}:${BASH_REMATCH[2]}:" phrase=${BASH_REMATCH[3]}
    "$bin" run "$f" --engine sim --out "$out/run" >"$out/stdout" 2>"$out/stderr"
    rc=$?
    line=$(head -n 1 "$out/stderr")
    if [[ $rc -ne 2 ]]; then
        echo "FAIL $f: exit status $rc (expected 2); stderr: $line"
        fails=$((fails + 1))
    elif [[ $line != "$want"* || $line != *"$phrase"* ]]; then
        echo "FAIL $f: stderr '$line' (expected '$want ...$phrase...')"
        fails=$((fails + 1))
    elif [[ -e $out/run ]]; then
        echo "FAIL $f: refused, yet a results directory was written"
        fails=$((fails + 1))
    else
        echo "ok   $f"
    fi
done
echo "$((n - fails))/$n bad scenarios refused as expected"
[[ $fails -eq 0 && $n -gt 0 ]]
