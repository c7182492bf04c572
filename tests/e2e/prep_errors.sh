#!/bin/sh
# Every alignment feedback and update call fails (HTTP 500): PersonaAgent's
# queries of those users end in error (never answered by an unaligned persona
# and scored), the summary counts them, the run exits 4; rag, which prepares
# nothing, is unaffected.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
# shellcheck source=tests/e2e/loopback.inc
. tests/e2e/loopback.inc
lb_start
base="http://127.0.0.1:$port/c/agent,failalign/v1"
rc=0
"$BIN" --task lamp2m --method personaagent,rag --users 3 --max-queries 2 --endpoint "$base" \
    --model m --retries 0 --cache off --wiki off --bootstrap 10 -q --out "$tmp/run" \
    2> "$tmp/err" || rc=$?
[ "$rc" -eq 4 ] || { echo "expected exit 4, got $rc"; cat "$tmp/err"; exit 1; }
python3 - "$tmp/run" <<'PY'
import csv, json, sys
d = sys.argv[1]
preds = [json.loads(l) for l in open(d + "/predictions.jsonl")]
pa = [p for p in preds if p["method"] == "personaagent"]
rag = [p for p in preds if p["method"] == "rag"]
assert len(pa) == 6 and all(p["error"] and "persona alignment" in p["error"] for p in pa), pa
assert len(rag) == 6 and not any(p["error"] for p in rag)
rows = {r["method"]: r for r in csv.DictReader(open(d + "/summary.csv"))}
assert rows["personaagent"]["errors"] == "6" and rows["personaagent"]["n"] == "0", rows
assert rows["rag"]["errors"] == "0"
personas = [json.loads(l) for l in open(d + "/personas.jsonl")]
assert all(p["error"] for p in personas if p["method"] == "personaagent")
PY
echo ok
