#!/bin/sh
# Every method on every task, offline: three shards merged equal the unsharded
# run byte for byte (summaries, users.csv, predictions, final personas), so
# nothing drawn from "other users" (ICL demonstrations, lamp1 replays) depends
# on which users a shard holds.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

check() { # task, options...: the whole run against three merged shards
    task=$1
    shift
    A="--task $task --max-queries 3 --bootstrap 50 -q --cache off $*"
    # shellcheck disable=SC2086
    "$BIN" $A --out "$tmp/$task-all" 2> /dev/null
    for i in 0 1 2; do
        # shellcheck disable=SC2086
        "$BIN" $A --shard "$i/3" --out "$tmp/$task-s$i" 2> /dev/null
    done
    "$BIN" merge "$tmp/$task-s0" "$tmp/$task-s1" "$tmp/$task-s2" --out "$tmp/$task-m" -q
    for f in summary.json summary.csv users.csv; do
        cmp "$tmp/$task-all/$f" "$tmp/$task-m/$f" || { echo "$task: merged $f differs"; exit 1; }
    done
    python3 - "$tmp/$task-all" "$tmp/$task-s0" "$tmp/$task-s1" "$tmp/$task-s2" <<'PY'
import json, sys
full, shards = sys.argv[1], sys.argv[2:]
def lines(d, name, key):
    return sorted(key(json.loads(l)) for l in open(d + "/" + name))
pk = lambda p: (p["method"], p["user"], p["id"], p["raw"], p["pred"])
ck = lambda p: (p["method"], p["user"], p["turn"], p["final"] or "")
for name, key in (("predictions.jsonl", pk), ("personas.jsonl", ck)):
    want = lines(full, name, key)
    got = sorted(x for s in shards for x in lines(s, name, key))
    assert want == got, "%s: %s differs between the shards and the whole run" % (full, name)
PY
    rm -rf "$tmp/$task-all" "$tmp/$task-s0" "$tmp/$task-s1" "$tmp/$task-s2" "$tmp/$task-m"
}

for task in lamp1 lamp2m lamp2n lamp3; do
    check "$task" --method all --llm offline
done
# The loopback server's default responder echoes the prompt, so an answer shows
# exactly which demonstrations (ICL) and replayed papers (lamp1 alignment) it saw.
# shellcheck source=tests/e2e/loopback.inc
. tests/e2e/loopback.inc
lb_start
base="http://127.0.0.1:$port/v1"
check lamp2m --method icl --endpoint "$base" --model echo --wiki off -j 4
check lamp1 --method icl,personaagent --endpoint "$base" --model echo --wiki off -j 4 --users 9
echo ok
