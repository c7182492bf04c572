#!/bin/sh
# Every step after the answers at 10^5 users (2 history items and 1 query each,
# offline user-majority): the run's summaries and report.html, --resume's scan,
# score and merge each finish within a generous limit (a step that is quadratic
# in users takes minutes here), and their numbers agree with a recount of
# predictions.jsonl in Python.
set -eu
BIN=${PE_BIN:-./persona-eval}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pe-scale-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
LIMIT=${PE_SCALE_LIMIT:-240}

python3 - "$TMP/data.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for u in range(100000):
        f.write(json.dumps({"user": "u%06d" % u, "history": [
            {"id": "a%d" % u, "title": "t", "text": "a b c", "category": "sports"},
            {"id": "b%d" % u, "title": "t", "text": "d e", "category": "politics"}],
            "queries": [{"id": "q%d" % u, "input": "article: x y",
                         "gold": ["sports", "politics", "crime"][u % 3]}]}) + "\n")
PY
timeout "$LIMIT" "$BIN" run --task lamp2n --data "$TMP/data.jsonl" --method user-majority \
    --llm offline --cache off -q --bootstrap 100 --out "$TMP/run" >/dev/null
[ -f "$TMP/run/report.html" ]
# the per-user chart shows a subset of the dots: the page stays small
[ "$(wc -c < "$TMP/run/report.html")" -lt 2000000 ]
grep -q "100000 users; the dots show every 50-th, the box all" "$TMP/run/report.html"
timeout "$LIMIT" "$BIN" run --task lamp2n --data "$TMP/data.jsonl" --method user-majority \
    --llm offline --cache off -q --bootstrap 100 --resume "$TMP/run" >/dev/null
timeout "$LIMIT" "$BIN" score "$TMP/run" > "$TMP/score.json"
timeout "$LIMIT" "$BIN" merge "$TMP/run" --out "$TMP/merged" -q
python3 - "$TMP" <<'PY'
import csv, json, sys
d = sys.argv[1]
preds = [json.loads(l) for l in open(d + "/run/predictions.jsonl")]
last = {}
for p in preds:
    last[(p["method"], p["user"], p["id"])] = p
assert len(last) == 100000, len(last)
right = sum(1 for p in last.values() if p["pred"].strip() == p["gold"])
for run in ("run", "merged"):
    s = json.load(open(d + "/" + run + "/summary.json"))
    m = s["methods"][0]
    assert s["n_users"] == 100000 and m["n"] == 100000, (run, s["n_users"], m["n"])
    assert m["accuracy"] == right / 100000, (run, m["accuracy"], right)
    rows = list(csv.reader(open(d + "/" + run + "/users.csv")))
    assert len(rows) == 100001 and all(len(r) == len(rows[0]) for r in rows)
sc = json.load(open(d + "/score.json"))
assert sc["methods"][0]["n"] == 100000 and sc["methods"][0]["accuracy"] == right / 100000
PY
echo ok
