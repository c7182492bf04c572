#!/bin/sh
# The reproductions of issue-level failures that had no end-to-end test of
# their own: duplicate ids, bad lamp3 values, fixed CSV columns when a metric
# is null, one CSV header over tasks, provenance in the summaries, and a
# damaged cache entry.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
expect() { # expect CODE PATTERN command...
    code=$1; pat=$2; shift 2
    rc=0; "$@" > "$tmp/out" 2>&1 || rc=$?
    [ "$rc" -eq "$code" ] || { echo "expected exit $code, got $rc: $*"; cat "$tmp/out"; exit 1; }
    grep -qF -- "$pat" "$tmp/out" || { echo "no \"$pat\" in:"; cat "$tmp/out"; exit 1; }
}
H='"history":[{"id":"h1","text":"good","label":"4"},{"id":"h2","text":"bad","label":"1"}]'
# duplicate query ids of one user, duplicate history ids: exit 65 naming user and id
printf '{"user":"u1",%s,"queries":[{"id":"q1","input":"review: a","gold":"4"},{"id":"q1","input":"review: b","gold":"2"}]}\n' "$H" > "$tmp/dupq.jsonl"
expect 65 '"q1"' "$BIN" --task lamp3 --method majority --data "$tmp/dupq.jsonl" --out "$tmp/x"
printf '{"user":"u1","history":[{"id":"h1","text":"a","label":"4"},{"id":"h1","text":"b","label":"1"}],"queries":[{"id":"q1","input":"review: a","gold":"4"}]}\n' > "$tmp/duph.jsonl"
expect 65 '"h1"' "$BIN" --task lamp3 --method majority --data "$tmp/duph.jsonl" --out "$tmp/x"
# lamp3 golds that are no finite rating: exit 65 naming the item
for g in abc 1e400; do
    printf '{"user":"u1",%s,"queries":[{"id":"q1","input":"review: a","gold":"%s"}]}\n' "$H" "$g" \
        > "$tmp/gold.jsonl"
    expect 65 'field "gold"' "$BIN" --task lamp3 --method majority --data "$tmp/gold.jsonl" --out "$tmp/x"
done
[ ! -e "$tmp/x" ]

echo '{}' > "$tmp/script.json"
# shellcheck source=tests/e2e/loopback.inc
. tests/e2e/loopback.inc
lb_start --script "$tmp/script.json" --log "$tmp/req.jsonl"
# every query of a method errored: its null metrics are empty in each of their columns
rc=0
"$BIN" --task lamp2m --method prompt,majority --users 2 --max-queries 2 --bootstrap 10 \
    --endpoint "http://127.0.0.1:$port/c/fail=1/v1" --model m --retries 0 --cache off -q \
    --out "$tmp/err" > /dev/null 2>&1 || rc=$?
[ "$rc" -eq 4 ] || { echo "all-errored run: expected exit 4, got $rc"; exit 1; }
python3 - "$tmp/err/summary.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
head = rows[0]
assert all(len(r) == len(head) for r in rows), [len(r) for r in rows]
p = dict(zip(head, rows[1]))
assert p["method"] == "prompt" and p["n"] == "0" and p["errors"] == "4", p
assert all(p[k] == "" for k in ("accuracy", "accuracy_lo", "accuracy_hi", "f1", "f1_lo", "f1_hi")), p
assert p["calls"] != "", p
PY
# one CSV header over runs of two tasks
"$BIN" --task lamp3 --method majority -q --bootstrap 10 --out "$tmp/l3" > /dev/null
"$BIN" report --format csv "$tmp/err" "$tmp/l3" > "$tmp/both.csv"
[ "$(grep -c '^run,\|^task,' "$tmp/both.csv")" -eq 1 ] || { cat "$tmp/both.csv"; exit 1; }
python3 - "$tmp/both.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
assert all(len(r) == len(rows[0]) for r in rows)
assert "accuracy" in rows[0] and "MAE" in rows[0], rows[0]
PY
# a model answering inf: unparsable (the farther extreme), and no Infinity in any JSON
printf '{"user":"u1",%s,"queries":[{"id":"q1","input":"review: a","gold":"2"}]}\n' "$H" \
    > "$tmp/one.jsonl"
cat > "$tmp/script.json" <<'JSON'
{"/v1/chat/completions": [{"body": {"choices": [{"message": {"content": "inf"}}],
 "usage": {"prompt_tokens": 5, "completion_tokens": 1}}, "repeat": 2}]}
JSON
kill "$srv"; wait "$srv" 2>/dev/null || true
rm -f "$tmp/req.jsonl"
lb_start --script "$tmp/script.json" --log "$tmp/req.jsonl"
"$BIN" --task lamp3 --method prompt --data "$tmp/one.jsonl" --bootstrap 10 --model judge-1 \
    --endpoint "http://127.0.0.1:$port/v1" --cache-dir "$tmp/cache" -q --out "$tmp/inf" > /dev/null
python3 - "$tmp/inf" <<'PY'
import json, sys
d = sys.argv[1]
def strict(path):
    return json.load(open(path), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
s = strict(d + "/summary.json")
m = s["methods"][0]
assert m["MAE"] == 3.0, m          # gold 2, unparsable: 5.0 is farther
strict(d + "/run.json")
# provenance: which model answered, over which data and settings
p = s["provenance"]
assert p["model"] == "judge-1" and len(p["data_sha256"]) == 64 and len(p["config_hash"]) == 64, p
assert "judge-1" in open(d + "/summary.md").read()
PY
# a damaged cache entry is a miss: re-requested, never served
n0=$(wc -l < "$tmp/req.jsonl")
f=$(grep -rl '"inf"' "$tmp/cache" | head -n 1)
[ -n "$f" ] || { echo "no cache entry holds the answer"; exit 1; }
sed -i 's/"inf"/"ing"/' "$f"
"$BIN" --task lamp3 --method prompt --data "$tmp/one.jsonl" --bootstrap 10 --model judge-1 \
    --endpoint "http://127.0.0.1:$port/v1" --cache-dir "$tmp/cache" -q --out "$tmp/inf2" \
    > /dev/null 2> "$tmp/err2"
[ "$(wc -l < "$tmp/req.jsonl")" -eq $((n0 + 1)) ] || { echo "the damaged entry was served"; exit 1; }
if grep -q '"ing"' "$tmp/inf2/predictions.jsonl"; then echo "the damaged answer was used"; exit 1; fi
echo ok
