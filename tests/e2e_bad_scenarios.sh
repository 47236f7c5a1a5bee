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
    # Files are run in virtual time (nothing real starts if one were
    # accepted), unless they say `engine: real` (a TAP port exists only
    # there).
    engine=sim
    grep -qx 'engine: real' "$f" && engine=real
    "$bin" run "$f" --engine $engine --out "$out/run" >"$out/stdout" 2>"$out/stderr"
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

# Inputs that cannot live in tests/data/bad/: each is refused with exit
# status 2 and exactly this first stderr line.
refused() {     # refused WHAT EXPECTED-FIRST-LINE ARGS...
    local what=$1 want=$2
    shift 2
    n=$((n + 1))
    "$bin" run "$@" --engine sim --out "$out/run" >"$out/stdout" 2>"$out/stderr"
    local rc=$? line
    line=$(head -n 1 "$out/stderr")
    if [[ $rc -ne 2 || $line != "$want" ]]; then
        echo "FAIL $what: exit status $rc, stderr '$line' (expected 2, '$want')"
        fails=$((fails + 1))
    elif [[ -e $out/run ]]; then
        echo "FAIL $what: refused, yet a results directory was written"
        fails=$((fails + 1))
    else
        echo "ok   $what"
    fi
}
mkdir "$out/dir.yaml"
refused "a directory" "$out/dir.yaml: is a directory (expected a YAML scenario file)" "$out/dir.yaml"
refused "/dev/zero" "/dev/zero: the scenario is larger than 16MiB (expected at most 16MiB of YAML)" \
    /dev/zero
# 40,000 levels of [ (libyaml alone took 16 s): refused at level 33.
{ printf 'duration: 1s\ndomains:\n  - name: a\n    pin: '
  head -c 40000 /dev/zero | tr '\0' '['; head -c 40000 /dev/zero | tr '\0' ']'; echo; } >"$out/deep.yaml"
refused "40,000 levels" \
    "$out/deep.yaml:4:39: lists and mappings nest more than 32 deep (expected at most 32 levels)" \
    "$out/deep.yaml"
# A long value is echoed clipped: the "(expected ...)" part is never cut.
long=$(head -c 2000 /dev/zero | tr '\0' 'x')
refused "a long --set value" "--set domains.0.weight=xxxxxxxxxxxxxxxxxxxxxxx...: weight \
\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\" is not an integer (expected 1..65535)" \
    "$src/tests/data/bursty.yaml" --set "domains.0.weight=$long"

echo "$((n - fails))/$n bad scenarios refused as expected"
[[ $fails -eq 0 && $n -gt 0 ]]
