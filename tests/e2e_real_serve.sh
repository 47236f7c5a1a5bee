#!/usr/bin/env bash
# e2e_real_serve.sh — `fairvisor serve` as a live host, driven for real: with
# curl (the client every dashboard has) and with the xl-like verbs. One host
# on a loopback port with a test token, starting from an event-channel
# ping-pong pair on one pCPU:
#   - three domains created (curl JSON, `create` YAML file, curl YAML);
#   - bad requests (no token, wrong token, a 10 MiB body, broken JSON, an
#     unknown field, weight 0, a duplicate name) each get their status and
#     a JSON error, and the host's domains are the same after each (GET);
#   - weight 512 against 256 and 256: the re-weighted hog's share of what
#     the three hogs get over 2 s is 0.5 within 0.1 (wall-clock time on a
#     shared machine);
#   - a paused domain's CPU time stands still (exactly: the figures are
#     folded in every 100 ms, read 300 ms after the pause and 500 ms later);
#   - the ping-pong server destroyed while its client keeps sending: the
#     client lives on, its round trips stop;
#   - the event stream, /metrics, `top -b -i 3`, and `list` over this host
#     and a second one (HOST column);
#   - on the second host (no domains, Domain-0 with netback and blkback):
#     a list of two domains created together, a flooder with a vif and a
#     vbd and its sink, frames received, the flooder destroyed (its life
#     and frames in the results);
#   - `shutdown`: the results directory covers the whole life (the
#     destroyed domain with destroyed_ns, the created ones with created_ns).
set -u
bin=${FV_BIN:-}
src=${FV_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}

skip() { echo "skip: $*"; exit 77; }
fail() { echo "FAIL: $*"; for f in "$tmp"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }

[[ -n $bin && -x $bin ]] || skip "no fairvisor binary (FV_BIN=$bin)"
command -v curl >/dev/null || skip "curl not found (tools/deps installs it)"
command -v jq >/dev/null || skip "jq not found (tools/deps installs it)"

tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

export FAIRVISOR_TOKEN=e2e-$RANDOM$RANDOM$RANDOM

cat > "$tmp/host.yaml" <<'EOF'
name: live-e2e
engine: real
duration: 1s
pcpus: 1
domains:
  - {name: ping, workload: {kind: evtchn-ping, role: client, peer: pong}}
  - {name: pong, workload: {kind: evtchn-ping, role: server, peer: ping}}
EOF

# start NAME [SCENARIO]: a host on a free loopback port; its URL in $url.
start() {
    local name=$1
    shift
    "$bin" serve "$@" --listen 127.0.0.1:0 --token-file "$tmp/$name.token" \
        --out "$tmp/$name-results" > "$tmp/$name.log" 2>&1 &
    pids+=($!)
    echo $! > "$tmp/$name.pid"
    url=
    for _ in $(seq 200); do
        url=$(sed -n 's/^fairvisor serve: listening on \(http:[^ ]*\).*/\1/p' "$tmp/$name.log")
        [[ -n $url ]] && return 0
        sleep 0.1
    done
    return 1
}

# api METHOD PATH [BODYFILE] [TOKEN]: the status on stdout, the body in $tmp/body.
api() {
    local tok=${4-$FAIRVISOR_TOKEN} auth=()
    [[ -n $tok ]] && auth=(-H "Authorization: Bearer $tok")
    local data=()
    [[ -n ${3:-} ]] && data=(--data-binary "@$3")
    curl -sS -o "$tmp/body" -w '%{http_code}' -X "$1" "${auth[@]}" "${data[@]}" "$A$2"
}

expect() {  # expect STATUS METHOD PATH [BODYFILE] [TOKEN]
    local want=$1
    shift
    local got
    got=$(api "$@")
    [[ $got == "$want" ]] || fail "$1 $2: status $got, expected $want: $(cat "$tmp/body")"
}

is_json_error() {   # the last body is {"status": N, "error": "..."}
    jq -e --argjson s "$1" '.status == $s and (.error | type == "string" and length > 0)' \
        "$tmp/body" >/dev/null || fail "not a JSON error $1: $(cat "$tmp/body")"
}

field() { expect 200 GET "/v1/domains/$1"; jq -r ".$2" "$tmp/body"; }
state() { expect 200 GET /v1/domains; jq -c '[.domains[] | {name, sched}]' "$tmp/body"; }

start a "$tmp/host.yaml" || fail "host a did not start"
A=$url
echo "host a: $A"
[[ $(stat -c %a "$tmp/a.token") == 600 ]] || fail "token file is not 0600"

# ---- three domains -------------------------------------------------------------------
echo '{"name": "hog1", "workload": {"kind": "cpu-hog"}}' > "$tmp/hog1.json"
expect 201 POST /v1/domains "$tmp/hog1.json"
[[ $(jq -r .name "$tmp/body") == hog1 ]] || fail "POST answered $(cat "$tmp/body")"
printf 'name: hog2\nworkload:\n  kind: cpu-hog\n' > "$tmp/hog2.yaml"
out=$("$bin" create "$tmp/hog2.yaml" --host "$A") || fail "create hog2: $out"
printf 'name: hog3\nworkload: {kind: cpu-hog}\n' > "$tmp/hog3.yaml"
expect 201 POST /v1/domains "$tmp/hog3.yaml"
expect 200 GET /v1/domains
[[ $(jq -r '[.domains[].name] | join(",")' "$tmp/body") == ping,pong,hog1,hog2,hog3 ]] ||
    fail "domains: $(cat "$tmp/body")"

# ---- bad requests change nothing -----------------------------------------------------
before=$(state)
expect 401 GET /v1/domains "" ""
is_json_error 401
expect 401 GET /v1/domains "" "wrong-token"
is_json_error 401
head -c $((10 << 20)) /dev/zero | tr '\0' 'x' > "$tmp/big"
expect 413 POST /v1/domains "$tmp/big"
is_json_error 413
echo '{"weight": 512' > "$tmp/broken.json"
expect 400 PATCH /v1/domains/hog1/sched "$tmp/broken.json"
is_json_error 400
echo '{"name": "hog4", "colour": "red"}' > "$tmp/unknown.json"
expect 400 POST /v1/domains "$tmp/unknown.json"
is_json_error 400
jq -e '.error | test("colour")' "$tmp/body" >/dev/null || fail "no field named: $(cat "$tmp/body")"
echo '{"weight": 0}' > "$tmp/w0.json"
expect 400 PATCH /v1/domains/hog1/sched "$tmp/w0.json"
is_json_error 400
echo '{"name": "hog4", "weight": 0}' > "$tmp/w0dom.json"
expect 400 POST /v1/domains "$tmp/w0dom.json"
is_json_error 400
expect 409 POST /v1/domains "$tmp/hog1.json"
is_json_error 409
expect 404 GET /v1/domains/nobody
is_json_error 404
[[ $(state) == "$before" ]] || fail "state changed: $before -> $(state)"

# ---- weights -----------------------------------------------------------------------
"$bin" sched-credit -d hog1 -w 512 --host "$A" || fail "sched-credit -w"
[[ $(field hog1 sched.weight) == 512 ]] || fail "weight not 512"
sleep 0.3
c1=$(field hog1 cpu_ns) c2=$(field hog2 cpu_ns) c3=$(field hog3 cpu_ns)
sleep 2
d1=$(( $(field hog1 cpu_ns) - c1 )) d2=$(( $(field hog2 cpu_ns) - c2 )) d3=$(( $(field hog3 cpu_ns) - c3 ))
share=$(echo "$d1 $d2 $d3" | awk '{ printf "%.3f", $1 / ($1 + $2 + $3) }')
echo "hog1 at weight 512 against 256, 256: $share of what the hogs got (expected 0.5 +- 0.1)"
awk -v s="$share" 'BEGIN { exit !(s > 0.4 && s < 0.6) }' || fail "share $share"

# ---- pause ---------------------------------------------------------------------------
"$bin" pause hog3 --host "$A" || fail "pause"
expect 409 POST /v1/domains/hog3/pause
is_json_error 409
sleep 0.3
[[ $(field hog3 state) == paused ]] || fail "hog3 not paused"
p1=$(field hog3 cpu_ns)
sleep 0.5
p2=$(field hog3 cpu_ns)
echo "paused hog3: cpu_ns $p1 then $p2"
[[ $p1 == "$p2" ]] || fail "a paused domain ran: $p1 -> $p2"
"$bin" unpause hog3 --host "$A" || fail "unpause"
sleep 0.5
(( $(field hog3 cpu_ns) > p2 )) || fail "hog3 did not run again"

# ---- destroy the server while the client sends ------------------------------------------
(( $(field ping work_units) > 0 )) || fail "no round trips"
"$bin" destroy pong --host "$A" || fail "destroy"
expect 404 GET /v1/domains/pong
sleep 0.3
r1=$(field ping work_units)
sleep 0.5
[[ $(field ping work_units) == "$r1" ]] || fail "round trips went on without a server"

# ---- events, metrics, top ---------------------------------------------------------------
curl -sS -N --max-time 2 -H "Authorization: Bearer $FAIRVISOR_TOKEN" "$A/v1/events?after=0" \
    > "$tmp/events" 2>/dev/null
[[ $(grep -c '^event: created' "$tmp/events") == 5 ]] || fail "events: $(head -40 "$tmp/events")"
grep -q '^event: destroyed' "$tmp/events" || fail "no destroyed event"
grep -q '"domain": *"pong"' "$tmp/events" || fail "no pong in the events"
expect 200 GET /metrics
grep -q '^fairvisor_domain_cpu_seconds_total{domain="hog1",id="3"} ' "$tmp/body" ||
    fail "metrics: $(head -20 "$tmp/body")"
"$bin" top -b -i 3 -d 0.3 --host "$A" > "$tmp/top" || fail "top"
[[ $(grep -c '^ *NAME ' "$tmp/top") == 3 ]] || fail "top: $(cat "$tmp/top")"
for col in STATE 'CPU(sec)' 'CPU(%)' MEM VCPUS NETTX NETRX VBD_RD VBD_WR 'BACKEND(%)' WAIT STARVED; do
    head -1 "$tmp/top" | grep -qF "$col" || fail "top lacks $col: $(head -1 "$tmp/top")"
done
[[ $(grep -c '^ *hog1 ' "$tmp/top") == 3 ]] || fail "top rows: $(cat "$tmp/top")"

# ---- two hosts, one list ----------------------------------------------------------------
# Host b starts with no domain, its Domain-0 running netback and blkback.
printf 'name: b\nengine: real\nduration: 1s\npcpus: 1\nnetback: { port: ring }\nblkback: { backend: memory }\n' \
    > "$tmp/b.yaml"
start b "$tmp/b.yaml" || fail "host b did not start"
B=$url
printf '%s %s\n%s %s\n' "$A" "$tmp/a.token" "$B" "$tmp/b.token" > "$tmp/hosts"
echo '{"name": "web"}' > "$tmp/web.json"
FAIRVISOR_TOKEN= "$bin" create "$tmp/web.json" --hosts-file "$tmp/hosts" > /dev/null 2>&1
FAIRVISOR_TOKEN= "$bin" list --host "$B" --token-file "$tmp/b.token" > /dev/null ||
    fail "list on b"
FAIRVISOR_TOKEN= "$bin" list --hosts-file "$tmp/hosts" > "$tmp/list" || fail "list: $(cat "$tmp/list")"
cat "$tmp/list"
head -1 "$tmp/list" | grep -q '^Host ' || fail "no HOST column"
grep -qE "^$A +hog1 " "$tmp/list" || fail "hog1 of a not listed"
grep -qE "^$B +web " "$tmp/list" || fail "web of b not listed"

# ---- host b: a list created together, with a vif and a vbd ------------------------------
printf -- '- {name: sink, workload: {kind: net-sink}}\n- {name: flood, workload: {kind: net-flood, peer: sink, rate: 20000}, vbds: [{size: 1MiB}]}\n' \
    > "$tmp/pair.yaml"
out=$(FAIRVISOR_TOKEN= "$bin" create "$tmp/pair.yaml" --host "$B" --token-file "$tmp/b.token") ||
    fail "create the list on b: $out"
[[ $(grep -c '^Created domain' <<<"$out") == 2 ]] || fail "create the list on b: $out"
sleep 0.5
btok=$(cat "$tmp/b.token")
rx=$(curl -sS -H "Authorization: Bearer $btok" "$B/v1/domains/sink" | jq -r .net.rx_pkts)
[[ $rx =~ ^[0-9]+$ && $rx -gt 0 ]] || fail "sink on b received nothing ($rx)"
FAIRVISOR_TOKEN= "$bin" destroy flood --host "$B" --token-file "$tmp/b.token" ||
    fail "destroy flood on b"
echo "ok   b: sink received $rx frames from a flooder created with it; flooder destroyed"

# ---- shutdown: the whole life in the results --------------------------------------------
"$bin" shutdown --host "$A" || fail "shutdown"
pa=$(cat "$tmp/a.pid")
for _ in $(seq 300); do kill -0 "$pa" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pa" 2>/dev/null && fail "host a still runs after shutdown"
wait "$pa"
rc=$?
[[ $rc == 0 ]] || fail "serve a exited $rc"
sum=$tmp/a-results/summary.json
[[ -s $sum ]] || fail "no $sum"
jq -e '.live == true and (.domains | length) == 6' "$sum" >/dev/null || fail "summary: $(head -c 600 "$sum")"
jq -e '.domains[] | select(.name == "pong") | .destroyed_ns > 0' "$sum" >/dev/null ||
    fail "pong not destroyed in the results"
jq -e '[.domains[] | select(.name | test("^hog")) | .created_ns > 0 and .cpu_ns > 0] | all' "$sum" \
    >/dev/null || fail "hogs' life missing"
grep -q ',hog1,' "$tmp/a-results/timeline.csv" || fail "hog1 not in the timeline"
kill -TERM "$(cat "$tmp/b.pid")"
wait "$(cat "$tmp/b.pid")"
[[ -s $tmp/b-results/summary.json ]] || fail "host b wrote no results on SIGTERM"
jq -e '[.domains[] | select(.name == "flood") | .destroyed_ns > 0 and .net.tx_pkts > 0] == [true]' \
    "$tmp/b-results/summary.json" >/dev/null || fail "b: flood's life and frames missing"
echo "ok"
