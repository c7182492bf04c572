#!/bin/sh
# Shards 0/3, 1/3 and 2/3 merged give the unsharded run's summary byte for
# byte; a missing shard, a duplicated shard and mismatched settings are refused.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
A="--task lamp2n --method majority,user-majority --max-queries 4 --bootstrap 300 -q"

# shellcheck disable=SC2086
"$BIN" $A --out "$tmp/all"
for i in 0 1 2; do
    # shellcheck disable=SC2086
    "$BIN" $A --shard "$i/3" --out "$tmp/s$i"
done
"$BIN" merge "$tmp/s2" "$tmp/s0" "$tmp/s1" --out "$tmp/merged" -q
for f in summary.json summary.csv summary.md users.csv; do
    cmp "$tmp/all/$f" "$tmp/merged/$f" || { echo "merged $f differs"; exit 1; }
done
python3 - "$tmp" <<'PY'
import json, sys
t = sys.argv[1]
def preds(d):
    return sorted((p["method"], p["user"], p["id"], p["pred"])
                  for p in map(json.loads, open(d + "/predictions.jsonl")))
assert preds(t + "/all") == preds(t + "/merged")
runs = [json.load(open("%s/s%d/run.json" % (t, i))) for i in range(3)]
full = json.load(open(t + "/all/run.json"))
users = [u for r in runs for u in r["users"]]
assert sorted(users) == sorted(full["users"]) and len(set(users)) == len(users)
assert all(r["config_hash"] == full["config_hash"] for r in runs)
assert [r["shard"] for r in runs] == [{"index": i, "count": 3} for i in range(3)]
assert all(r["users_total"] == len(full["users"]) for r in runs)
m = json.load(open(t + "/merged/run.json"))
assert m["users"] == full["users"] and m["shard"] is None and m["incomplete"] is False
PY

expect() { # expect CODE PATTERN command...
    code=$1; pat=$2; shift 2
    rc=0; "$@" > "$tmp/out.txt" 2>&1 || rc=$?
    [ "$rc" -eq "$code" ] || { echo "expected exit $code, got $rc: $*"; cat "$tmp/out.txt"; exit 1; }
    grep -q "$pat" "$tmp/out.txt" || { echo "no \"$pat\" in:"; cat "$tmp/out.txt"; exit 1; }
}
expect 2 "missing shard 1 " "$BIN" merge "$tmp/s0" "$tmp/s2" --out "$tmp/m2"
expect 2 "duplicated shard 0" "$BIN" merge "$tmp/s0" "$tmp/s0" "$tmp/s1" "$tmp/s2" --out "$tmp/m3"
# shellcheck disable=SC2086
"$BIN" $A --k 7 --shard 1/3 --out "$tmp/k7"
expect 2 "k (recorded 4, now 7)" "$BIN" merge "$tmp/s0" "$tmp/k7" "$tmp/s2" --out "$tmp/m4"
[ ! -e "$tmp/m2" ] && [ ! -e "$tmp/m3" ] && [ ! -e "$tmp/m4" ]
# an interrupted shard: refused with exit 5 and nothing written, unless allowed;
# then stdout and summary.md say INCOMPLETE
cp -r "$tmp/s1" "$tmp/s1cut"
python3 - "$tmp/s1cut/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["incomplete"] = True
json.dump(r, open(sys.argv[1], "w"))
PY
expect 5 "incomplete shard(s): $tmp/s1cut" "$BIN" merge "$tmp/s0" "$tmp/s1cut" "$tmp/s2" \
    --out "$tmp/m5"
[ ! -e "$tmp/m5" ]
expect 0 "^INCOMPLETE:" "$BIN" merge "$tmp/s0" "$tmp/s1cut" "$tmp/s2" --out "$tmp/m5" \
    --allow-incomplete
grep -q "INCOMPLETE run" "$tmp/m5/summary.md"
grep -q '"incomplete":true' "$tmp/m5/summary.json"
# bad shard specifications
# shellcheck disable=SC2086
expect 2 "out of range" "$BIN" $A --shard 3/3 --out "$tmp/x"
# shellcheck disable=SC2086
expect 2 "not INDEX/COUNT" "$BIN" $A --shard 1of3 --out "$tmp/x"
# shellcheck disable=SC2086
expect 2 "goes with --shard auto" "$BIN" $A --shards 3 --out "$tmp/x"
[ ! -e "$tmp/x" ]
echo ok
