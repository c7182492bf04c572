#!/bin/sh
# --online reveals each gold after its answer (it joins memory and alignment,
# never before), --sweep writes one run per value with sweep.csv and charts,
# and `personas` writes the similarity matrix, heatmap and drift.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$BIN" --task lamp2m --online --method personaagent,knn --users 3 --max-queries 4 \
    --out "$tmp/online" -q --bootstrap 0 2>/dev/null
python3 - "$tmp/online" data/sample/lamp2m.jsonl <<'PY'
import json, sys, re
run, data = sys.argv[1:]
users = {u["user"]: u for u in map(json.loads, open(data))}
r = json.load(open(run + "/run.json"))
assert r["config"]["online"] is True, r["config"]
preds = [json.loads(l) for l in open(run + "/predictions.jsonl")]
assert len(preds) == 2 * 3 * 4 and all(p["error"] is None for p in preds)
personas = [json.loads(l) for l in open(run + "/personas.jsonl")]
turns = sorted({p["turn"] for p in personas if p["method"] == "personaagent"})
assert turns == [0, 1, 2, 3], turns   # re-aligned after every answer but the last
date_re = re.compile(r"^\s*\d+\. \[([0-9-]+)\]", re.M)
for t in map(json.loads, open(run + "/traces.jsonl")):
    if t["method"] != "personaagent" or t["phase"] != "query":
        continue
    qdates = {q["id"]: q["date"] for q in users[t["user"]]["queries"]}
    for st in t["steps"]:
        for obs in st.get("observations") or []:
            for d in date_re.findall(obs):
                assert d < qdates[t["id"]], ("a future gold leaked", t["id"], d)
PY
# a revealed gold is in memory for the next query: three queries with the same
# text; the second and third retrieve the earlier ones, the first does not
python3 - "$tmp/one.jsonl" <<'PY'
import json, sys
hist = [{"id": "h%d" % i, "date": "2010-01-0%d" % (i + 1), "description": d, "label": l}
        for i, (d, l) in enumerate([("a quiet village drama", "classic"),
                                    ("robots fight in space", "sci-fi"),
                                    ("a heist goes wrong", "action")])]
pre = ("Which tag does this movie relate to among the following tags? Just answer with the tag "
       "name without further explanation. tags: [sci-fi, based on a book, comedy, action, "
       "twist ending, dystopia, dark comedy, classic, psychology, fantasy, romance, "
       "thought-provoking, social commentary, violence, true story] description: ")
qs = [{"id": "q%d" % i, "date": "2012-0%d-01" % (i + 1),
       "input": pre + "zebra quantum lighthouse", "gold": "comedy"} for i in range(3)]
open(sys.argv[1], "w").write(json.dumps({"user": "solo", "task": "lamp2m", "history": hist,
                                         "queries": qs}) + "\n")
PY
"$BIN" --task lamp2m --data "$tmp/one.jsonl" --online --method personaagent,knn --k 1 \
    --out "$tmp/one" -q --bootstrap 0 2>/dev/null
python3 - "$tmp/one" <<'PY'
import json, sys
run = sys.argv[1]
obs = {}
for t in map(json.loads, open(run + "/traces.jsonl")):
    if t["phase"] == "query":
        obs[t["id"]] = " ".join(o for st in t["steps"] for o in (st.get("observations") or []))
assert "zebra" not in obs["q0"], obs["q0"]
assert "[2012-01-01]" in obs["q1"] and "zebra" in obs["q1"], obs["q1"]
assert "zebra" in obs["q2"] and "2012-03-01" not in obs["q2"], obs["q2"]
preds = {(p["method"], p["id"]): p["pred"] for p in map(json.loads, open(run + "/predictions.jsonl"))}
# with K = 1 the revealed "comedy" wins from the second query on
assert preds[("knn", "q1")] == "comedy" and preds[("knn", "q2")] == "comedy", preds
assert preds[("knn", "q0")] != "comedy", preds
PY
"$BIN" personas "$tmp/online" > "$tmp/personas.out"
grep -q "personas of personaagent" "$tmp/personas.out"
python3 - "$tmp/online" <<'PY'
import csv, sys
run = sys.argv[1]
rows = list(csv.reader(open(run + "/personas_jaccard.csv")))
n = len(rows) - 1
assert n == 3 and all(len(r) == n + 1 for r in rows)
for i in range(n):
    assert float(rows[i + 1][i + 1]) == 1.0
    for j in range(n):
        assert rows[i + 1][j + 1] == rows[j + 1][i + 1]
        assert 0 <= float(rows[i + 1][j + 1]) <= 1
drift = list(csv.DictReader(open(run + "/personas_drift.csv")))
assert len(drift) == 3 and all(float(d["jaccard_initial_final"]) < 1 for d in drift)
assert open(run + "/personas_jaccard.svg").read().startswith("<svg")
PY

"$BIN" --task lamp2m --sweep k=1,4 --method knn,rag --users 3 --max-queries 2 \
    --out "$tmp/sweep" --bootstrap 0 > "$tmp/sweep.out" 2>/dev/null
[ -f "$tmp/sweep/k=1/summary.json" ] && [ -f "$tmp/sweep/k=4/summary.json" ]
python3 - "$tmp/sweep" <<'PY'
import csv, json, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/sweep.csv")))
assert [(r["value"], r["method"]) for r in rows] == \
    [("1", "knn"), ("1", "rag"), ("4", "knn"), ("4", "rag")], rows
for r in rows:
    s = json.load(open(f"{d}/k={r['value']}/summary.json"))
    m = next(m for m in s["methods"] if m["method"] == r["method"])
    assert float(r["accuracy"]) == m["accuracy"]
    assert json.load(open(f"{d}/k={r['value']}/run.json"))["settings"]["k"] == int(r["value"])
for m in ("accuracy", "f1"):
    svg = open(f"{d}/sweep_{m}.svg").read()
    assert svg.count("<polyline") == 2
PY
rc=0; "$BIN" --task lamp2m --sweep temperature=1,2 --out "$tmp/bad" 2>/dev/null || rc=$?
[ "$rc" -eq 2 ]
echo ok
