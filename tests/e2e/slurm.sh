#!/bin/sh
# scripts/slurm-array.sh on a real single-node Slurm: munged, slurmctld and
# slurmd started here with a configuration, key, ports, state and spool
# folders of their own under a temporary folder (nothing of the system's is
# used or changed), 3 array shards and the dependent merge job submitted by
# the script, and the merged summary compared byte for byte with a run on one
# machine. Needs root (slurmd starts the jobs) and Debian's slurm-wlm and
# munge packages (scripts/install-deps.sh installs them).
set -eu
BIN=$(cd "$(dirname "${PE_BIN:-./persona-eval}")" && pwd)/$(basename "${PE_BIN:-./persona-eval}")
ROOT=$(pwd)
tmp=$(mktemp -d)
pids=""
stop() {
    for p in $pids; do kill "$p" 2> /dev/null || true; done
    # the daemons exit within a second or two of SIGTERM; do not leave them behind
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        alive=""
        for p in $pids; do kill -0 "$p" 2> /dev/null && alive="$alive $p"; done
        [ -z "$alive" ] && break
        sleep 0.5
    done
    for p in $alive; do kill -9 "$p" 2> /dev/null || true; done
    rm -rf "$tmp"
}
trap stop EXIT
trap 'exit 1' INT TERM HUP

missing=""
for c in munged slurmctld slurmd sbatch scontrol; do
    command -v "$c" > /dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
    command -v "$c" > /dev/null 2>&1 || missing="$missing $c"
done
if [ -n "$missing" ]; then
    echo "slurm: missing$missing: install the slurm-wlm and munge packages" \
        "(scripts/install-deps.sh installs them)" >&2
    exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "slurm: needs root (slurmd starts the jobs as their user)" >&2
    exit 1
fi

dump() { # the daemons' logs, for a failure
    for f in "$tmp"/log/*; do echo "--- $f"; tail -n 30 "$f"; done >&2
    for f in "$tmp"/runs/*.log; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; } >&2; done
    return 0
}
die() { echo "slurm: $*" >&2; dump; exit 1; }
wait_for() { # wait_for SECONDS WHAT command...: retry until the command succeeds
    limit=$(($1 * 4)); what=$2; shift 2
    i=0
    until "$@" > /dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -lt "$limit" ] || die "timed out waiting for $what"
        sleep 0.25
    done
}

mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log" "$tmp/runs"
chmod 711 "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/key" bs=1024 count=1 2> /dev/null
chmod 400 "$tmp/munge/key"
sock=$tmp/munge/sock
munged --foreground --force --socket="$sock" --key-file="$tmp/munge/key" \
    --log-file="$tmp/log/munged.log" --pid-file="$tmp/munge/pid" \
    --seed-file="$tmp/munge/seed" 2> "$tmp/log/munged.err" &
pids="$pids $!"
wait_for 20 "munged's socket" test -S "$sock"

# two ports free now on the loopback interface (the kernel picks them)
# shellcheck disable=SC2046
set -- $(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s:
    x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
ctld_port=$1
slurmd_port=$2
host=$(hostname -s)
cpus=$(nproc)
conf=$tmp/slurm.conf
cat > "$conf" << EOF
ClusterName=pe-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire is also how long a requeued job waits before it starts again
AuthInfo=socket=$sock,cred_expire=10
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
MinJobAge=600
NodeName=localhost NodeHostname=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
SLURM_CONF=$conf
export SLURM_CONF
slurmctld -D -i -f "$conf" > "$tmp/log/slurmctld.out" 2>&1 &
pids="$pids $!"
slurmd -D -f "$conf" -N localhost > "$tmp/log/slurmd.out" 2>&1 &
pids="$pids $!"
node_idle() { scontrol show node localhost | grep -q 'State=IDLE'; }
wait_for 60 "the node to be idle" node_idle

# the run on one machine, then the same run through the script
A="--task lamp2n --data $ROOT/data/sample/lamp2n.jsonl --method majority,rag,personaagent"
A="$A --llm offline --max-queries 3 --bootstrap 200 -q"
# shellcheck disable=SC2086
"$BIN" $A --out "$tmp/one"
cd "$tmp/runs"
pfx="it's lamp2n"  # a space and a quote: the script quotes for sh
# shellcheck disable=SC2086
PERSONA_EVAL=$BIN bash "$ROOT/scripts/slurm-array.sh" 3 "$pfx" $A > "$tmp/submit.out" ||
    die "slurm-array.sh failed"
cat "$tmp/submit.out"
merge_id() {
    id=$(sed -n 's/.* merge job \([0-9][0-9]*\).*/\1/p' "$1")
    [ -n "$id" ] || die "no merge job id in: $(cat "$1")"
    echo "$id"
}
job_state() { scontrol show job "$1" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
ended() {
    case $(job_state "$1") in PENDING | RUNNING | CONFIGURING | COMPLETING | '') return 1 ;; esac
}
merge=$(merge_id "$tmp/submit.out")
wait_for 180 "the merge job $merge" ended "$merge"
[ "$(job_state "$merge")" = COMPLETED ] || die "merge job $merge ended $(job_state "$merge")"
for f in summary.csv summary.json; do
    cmp "$tmp/one/$f" "$pfx/$f" || die "merged $f differs from the one-machine run"
done
python3 - "$tmp/runs/$pfx" <<'PY'
import json, sys
t = sys.argv[1]
runs = [json.load(open("%s.shard-%d/run.json" % (t, i))) for i in range(3)]
assert [r["shard"] for r in runs] == [{"index": i, "count": 3} for i in range(3)], runs
users = [u for r in runs for u in r["users"]]
merged = json.load(open(t + "/run.json"))
assert sorted(users) == sorted(merged["users"]) and len(set(users)) == len(users)
assert merged["shard"] is None and merged["incomplete"] is False
PY

# a requeued shard resumes its folder: nothing to redo, the same summary
array=$(sed -n 's/.*array job \([0-9][0-9]*\).*/\1/p' "$tmp/submit.out")
cp "$pfx.shard-1/summary.json" "$tmp/shard1.json"
scontrol requeue "${array}_1" || die "cannot requeue ${array}_1"
requeued() { scontrol show job "${array}_1" | grep -q 'Restarts=1' && ended "${array}_1"; }
wait_for 60 "the requeued shard ${array}_1" requeued
[ "$(job_state "${array}_1")" = COMPLETED ] || die "requeued shard ended $(job_state "${array}_1")"
cmp "$tmp/shard1.json" "$pfx.shard-1/summary.json" || die "the requeued shard's summary changed"

# shards that fail: the merge is cancelled, not left pending forever
PERSONA_EVAL=$BIN bash "$ROOT/scripts/slurm-array.sh" 2 bad --task nosuch > "$tmp/submit.out" ||
    die "slurm-array.sh failed"
merge=$(merge_id "$tmp/submit.out")
wait_for 60 "the merge job $merge after failed shards" ended "$merge"
[ "$(job_state "$merge")" = CANCELLED ] || die "merge job $merge ended $(job_state "$merge")"
[ ! -e bad ] || die "a merge was written from failed shards"
grep -q nosuch bad.shard-0.log || die "the shard's log does not name the bad task"
echo ok
