#!/bin/sh
# The reference methods run end to end on the sample for all four tasks, the run
# directory is complete, `score RUN_DIR` agrees with the summary, and `report`
# compares runs and catches regressions against a baseline.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for t in lamp1 lamp2m lamp2n lamp3; do
    "$BIN" --task "$t" --method majority,user-majority,knn --out "$tmp/$t" --bootstrap 200 -q
    for f in run.json predictions.jsonl users.csv summary.json summary.csv summary.md \
             traces.jsonl personas.jsonl; do
        [ -f "$tmp/$t/$f" ] || { echo "$t: missing $f"; exit 1; }
    done
    python3 - "$tmp/$t" "data/sample/$t.jsonl" "$t" <<'PY'
import json, sys, csv
run, data, task = sys.argv[1:]
users = [json.loads(l) for l in open(data)]
nq = sum(len(u["queries"]) for u in users)
preds = [json.loads(l) for l in open(run + "/predictions.jsonl")]
assert len(preds) == 3 * nq, (len(preds), nq)
keys = {(p["method"], p["user"], p["id"]) for p in preds}
assert len(keys) == len(preds), "duplicate predictions"
gold = {(u["user"], q["id"]): q["gold"] for u in users for q in u["queries"]}
for p in preds:
    assert p["gold"] == gold[(p["user"], p["id"])]
    assert p["error"] is None and p["valid"] is True
s = json.load(open(run + "/summary.json"))
assert s["task"] == task and s["n_users"] == len(users), s
assert [m["method"] for m in s["methods"]] == ["majority", "user-majority", "knn"]
for m in s["methods"]:
    assert m["n"] == nq and m["errors"] == 0
    names = ["MAE", "RMSE"] if task == "lamp3" else ["accuracy", "f1"]
    for k in names:
        lo, hi = m["ci"][k]
        assert lo <= m[k] <= hi, (k, m)
rows = list(csv.DictReader(open(run + "/users.csv")))
assert len(rows) == 3 * len(users)
r = json.load(open(run + "/run.json"))
assert r["task"] == task and r["counts"]["queries"] == nq and r["incomplete"] is False
assert len(r["data"][0]["sha256"]) == 64
# planted preferences: personalization helps
by = {m["method"]: m for m in s["methods"]}
if task in ("lamp2m", "lamp2n"):
    assert by["user-majority"]["accuracy"] > by["majority"]["accuracy"], by
    assert by["knn"]["accuracy"] > by["user-majority"]["accuracy"], by
if task == "lamp1":
    assert by["knn"]["accuracy"] > 0.8, by
if task == "lamp3":
    assert by["user-majority"]["MAE"] < by["majority"]["MAE"], by
PY
    # rescoring the run directory gives the summary's numbers
    "$BIN" score "$tmp/$t" > "$tmp/$t.score.json"
    python3 - "$tmp/$t" "$tmp/$t.score.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/summary.json"))
r = json.load(open(sys.argv[2]))
got = {m["method"]: m for m in r["methods"]}
for m in s["methods"]:
    for k in ("accuracy", "f1", "MAE", "RMSE"):
        if k in m:
            assert got[m["method"]][k] == m[k], (k, got[m["method"]][k], m[k])
PY
done

# one comparison table over two runs of different tasks, as CSV for pipelines
"$BIN" report --format csv "$tmp/lamp2m" "$tmp/lamp3" > "$tmp/report.csv"
grep -q '^run,task,method,n,' "$tmp/report.csv"
grep -q '^lamp2m,lamp2m,user-majority,' "$tmp/report.csv"
grep -q '^lamp3,lamp3,majority,' "$tmp/report.csv"
"$BIN" report "$tmp/lamp2m" | grep -q '| user-majority |'

# a run compared with itself passes; a worse run fails with exit 3
"$BIN" report --baseline "$tmp/lamp2m" "$tmp/lamp2m" > /dev/null
"$BIN" --task lamp2m --method user-majority --user u001 --user u002 --out "$tmp/small" -q \
    --bootstrap 0
cp -r "$tmp/lamp2m" "$tmp/worse"
python3 - "$tmp/worse/predictions.jsonl" <<'PY'
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])]
for x in p:
    x["pred"] = "not a tag"
open(sys.argv[1], "w").write("".join(json.dumps(x) + "\n" for x in p))
PY
rc=0
"$BIN" report --baseline "$tmp/lamp2m" "$tmp/worse" > "$tmp/reg.txt" 2>&1 || rc=$?
[ "$rc" -eq 3 ] || { echo "expected exit 3, got $rc"; cat "$tmp/reg.txt"; exit 1; }
grep -q WORSE "$tmp/reg.txt"

# subsets: --users picks the most active users, --max-queries caps per user
"$BIN" --task lamp3 --method majority --users 3 --max-queries 2 --out "$tmp/sub" -q
[ "$(wc -l < "$tmp/sub/predictions.jsonl")" -eq 6 ]

# usage errors exit 2 and write nothing
rc=0; "$BIN" --task lamp9 --out "$tmp/x" 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] && [ ! -e "$tmp/x" ]
rc=0; "$BIN" --task lamp2m --method nope --out "$tmp/x" 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] && [ ! -e "$tmp/x" ]
rc=0; "$BIN" --task lamp2m --user nobody --out "$tmp/x" 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] && [ ! -e "$tmp/x" ]
# an existing run is never overwritten
rc=0; "$BIN" --task lamp2m --method majority --out "$tmp/lamp2m" 2>/dev/null || rc=$?
[ "$rc" -eq 2 ]
echo ok
