#!/bin/sh
# A LaMP questions file without its outputs file: the run says so, writes the
# predictions (also in LaMP's official format) and scores nothing: n = 0 and
# empty metrics, never 0.000.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp data/sample/lamp2m_questions.json "$tmp/q.json"
"$BIN" --task lamp2m --method majority,user-majority --data "$tmp/q.json" --bootstrap 10 \
    --out "$tmp/run" > "$tmp/out" 2> "$tmp/err"
grep -q "no golds for 30 of 30 queries" "$tmp/err"
python3 - "$tmp/run" <<'PY'
import csv, json, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/summary.csv")))
assert [r["n"] for r in rows] == ["0", "0"], rows
assert all(r["accuracy"] == "" and r["f1"] == "" for r in rows), rows
s = json.load(open(d + "/summary.json"))
assert all(m["no_gold"] == 30 and m["accuracy"] is None for m in s["methods"]), s
preds = [json.loads(l) for l in open(d + "/predictions.jsonl")]
assert len(preds) == 60 and all(p["pred"] for p in preds)
off = json.load(open(d + "/official_majority.json"))
assert off["task"] == "LaMP_2" and len(off["golds"]) == 30
PY
if grep -q "0\.000" "$tmp/out"; then echo "0.000 printed for nothing scored"; exit 1; fi
echo ok
