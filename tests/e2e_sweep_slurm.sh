#!/usr/bin/env bash
# e2e_sweep_slurm.sh — `fairvisor sweep --emit slurm` on a real Slurm: a
# one-node cluster on localhost from Debian's slurm-wlm and munge, started
# as root in a temporary directory (munged with a generated key on its own
# socket; slurmctld and slurmd with a generated slurm.conf on free ports, no
# cgroups: proctrack/linuxproc, task/none). A 4-point sweep of
# tests/data/sweep.yaml is emitted, submitted as an array job, waited for,
# collected, and compared with the same sweep run locally: the same
# sweep.csv, knees and density data (the sim engine is deterministic), and
# the graph drawn. The job is cancelled and the daemons stopped on exit,
# failure included. Skips (77) only when the packages are missing or the
# daemons cannot start here (not root, or a daemon failed: its log tail is
# printed). About 5 s for the array job on a 2-CPU machine.
set -u
PATH=$PATH:/usr/sbin:/sbin
bin=${FV_BIN:-}
src=${FV_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
scn=$src/tests/data/sweep.yaml
args=(--vary domains.flood.count=1..2 --policies credit,credit2
      --slo 'victim.net.latency_ns.p99<1ms')

skip() { echo "skip: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[[ -n $bin && -x $bin ]] || skip "no fairvisor binary (FV_BIN=$bin)"
for c in munged mungekey munge slurmctld slurmd sbatch squeue sinfo scancel; do
    command -v "$c" >/dev/null ||
        skip "$c not found: the slurm-wlm and munge packages are missing (tools/deps installs them)"
done
[[ $(id -u) -eq 0 ]] || skip "not root: this one-node cluster runs munged, slurmctld and slurmd as root"

tmp=$(mktemp -d /tmp/fv-slurm.XXXXXX) || fail "mktemp"
munged_pid='' ctld_pid='' slurmd_pid='' jid=''

# Stop a daemon we started: SIGTERM, up to 15 s, then SIGKILL.
stop() {
    local pid=$1 i
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 150; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# This cluster's job step daemons: slurmstepd processes (slurmd starts
# them detached) with our slurm.conf in their environment.
steps() {
    local p
    for p in /proc/[0-9]*; do
        [[ $(cat "$p/comm" 2>/dev/null) == slurmstepd ]] &&
            { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qxF "SLURM_CONF=$tmp/slurm.conf" &&
            echo "${p#/proc/}"
    done
}

cleanup() {
    local i
    if [[ -n $jid ]]; then
        scancel "$jid" 2>/dev/null
        for ((i = 0; i < 100; i++)); do
            [[ -z $(squeue -h -j "$jid" 2>/dev/null) ]] && break
            sleep 0.2
        done
    fi
    for ((i = 0; i < 100; i++)); do         # steps end on their own after the job
        [[ -z $(steps) ]] && break
        sleep 0.1
    done
    stop "$slurmd_pid"
    stop "$ctld_pid"
    stop "$munged_pid"
    for i in $(steps); do
        kill -KILL "$i" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The log tails of the daemons, for a skip or a failure.
logs() {
    local f
    for f in "$tmp"/munged.out "$tmp"/slurmctld.out "$tmp"/slurmctld.log "$tmp"/slurmd.out \
             "$tmp"/slurmd.log; do
        [[ -s $f ]] && { echo "--- ${f##*/} (last lines)"; tail -n 8 "$f"; }
    done
}

# A TCP port nobody listens on (nor talks from) in /proc/net/tcp{,6}.
port_free() {
    ! grep -qi ":$(printf %04X "$1") " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
for ((i = 0; i < 50; i++)); do
    port=$((20000 + RANDOM % 20000))
    port_free "$port" && port_free $((port + 1)) && break
done

# munged: a generated key in a private folder; its socket folder (and the
# folders above it) world-executable, as munged insists.
chmod 0755 "$tmp"
mkdir -m 0700 "$tmp/key" && mkdir -m 0755 "$tmp/munge" "$tmp/state" "$tmp/spool" ||
    fail "cannot create folders in $tmp"
mungekey --create --keyfile="$tmp/key/munge.key" >"$tmp/munged.out" 2>&1 ||
    dd if=/dev/urandom of="$tmp/key/munge.key" bs=1024 count=1 status=none
chmod 0400 "$tmp/key/munge.key"
sock=$tmp/munge/munge.socket
munged -F --socket="$sock" --key-file="$tmp/key/munge.key" --pid-file="$tmp/munge/munged.pid" \
    --log-file="$tmp/munge/munged.log" --seed-file="$tmp/munge/munged.seed" \
    >>"$tmp/munged.out" 2>&1 &
munged_pid=$!
for ((i = 0; i < 100; i++)); do
    munge -n -S "$sock" 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1 && break
    kill -0 "$munged_pid" 2>/dev/null || break
    sleep 0.1
done
munge -n -S "$sock" 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1 ||
    { logs; skip "munged does not start here (its log above)"; }

cat >"$tmp/slurm.conf" <<EOF
ClusterName=fvtest
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
NodeName=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf
slurmctld -D -f "$SLURM_CONF" >"$tmp/slurmctld.out" 2>&1 &
ctld_pid=$!
slurmd -D -f "$SLURM_CONF" -N localhost >"$tmp/slurmd.out" 2>&1 &
slurmd_pid=$!
for ((i = 0; i < 300; i++)); do
    [[ $(sinfo -h -o %T 2>/dev/null) == idle* ]] && break
    kill -0 "$ctld_pid" 2>/dev/null && kill -0 "$slurmd_pid" 2>/dev/null || break
    sleep 0.1
done
[[ $(sinfo -h -o %T 2>/dev/null) == idle* ]] ||
    { logs; skip "slurmctld and slurmd do not bring node localhost up here (logs above)"; }
echo "ok   one-node cluster up (ports $port, $((port + 1)))"

# ---- the sweep ----------------------------------------------------------------
em=$tmp/emitted local=$tmp/local
out=$("$bin" sweep "$scn" "${args[@]}" --emit slurm "$em" 2>&1) ||
    fail "sweep --emit slurm: exit $?: $out"
grep -q '^#SBATCH --array=0-3$' "$em/sweep.sbatch" || fail "sweep.sbatch: no --array=0-3"
[[ $(grep -c $'^[0-3]\t' "$em/grid.tsv") -eq 4 ]] || fail "grid.tsv: not 4 point rows"
grep -qF "sbatch $em/sweep.sbatch" <<<"$out" || fail "the sbatch command is not printed: $out"

t0=$(date +%s.%N)
jid=$(sbatch --parsable "$em/sweep.sbatch" 2>&1) || { logs; fail "sbatch: $jid"; }
jid=${jid%%;*}
for ((i = 0; i < 1200; i++)); do
    [[ -z $(squeue -h -j "$jid" 2>/dev/null) ]] && break
    sleep 0.1
done
[[ -z $(squeue -h -j "$jid" 2>/dev/null) ]] && done_job=1 || done_job=0
t1=$(date +%s.%N)
((done_job)) || { squeue; logs; fail "array job $jid not done after 120 s"; }
jid=''
echo "ok   array job of 4 tasks ran in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"

out=$("$bin" sweep --collect "$em" 2>&1) ||
    { cat "$em"/logs/*.log 2>/dev/null | tail -n 20; fail "sweep --collect: exit $?: $out"; }
grep -q 'points: 4 ok, 0 failed, 0 missing (of 4)' <<<"$out" || fail "collect: $out"
[[ $(grep -c ',ok,' "$em/sweep.csv") -eq 4 ]] || fail "collected sweep.csv: not 4 ok rows"
for f in plots/density.png plots/density.svg; do
    [[ -s $em/$f ]] || fail "collected $f missing or empty"
done

out=$("$bin" sweep "$scn" "${args[@]}" -j 2 --out "$local" 2>&1) || fail "local sweep: exit $?: $out"
for f in sweep.csv knees.csv knee.txt plots/density.dat; do
    cmp -s "$local/$f" "$em/$f" ||
        { diff "$local/$f" "$em/$f"; fail "$f differs between the local and the Slurm sweep"; }
done
echo "ok   collected sweep.csv, knees and density data equal the local run's"
echo "PASS"
