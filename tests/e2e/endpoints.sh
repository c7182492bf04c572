#!/bin/sh
# Several endpoints (replicas of one model): three loopback servers, the second
# killed while the run is under way. The run must finish with every query
# answered and no error, the killed replica's requests retried on the others,
# and run.json must count each replica's requests, errors and rests. Repeated
# --endpoint and comma-separated OPENAI_BASE_URL give the same replicas.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

start() { # name: a server recording to $tmp/NAME.jsonl, its port in $tmp/NAME.port
    python3 tests/loopback_server.py --log "$tmp/$1.jsonl" > "$tmp/$1.port" &
    pids="$pids $!"
    eval "pid_$1=$!"
    i=0
    while [ ! -s "$tmp/$1.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
start a
start b
start c
url() { echo "http://127.0.0.1:$(head -n 1 "$tmp/$1.port")/c/latency=0.05${2:-}/v1"; }

# the queries of the run (one call each for rag), counted by the offline responder
"$BIN" --task lamp2m --method rag --users 10 --max-queries 6 --llm offline --cache off \
    --bootstrap 20 -q --out "$tmp/offline" > /dev/null 2>&1
# at -j 6 with 50 ms a call; b dies after 7 requests
"$BIN" --task lamp2m --method rag --users 10 --max-queries 6 --model test-model --cache off \
    --endpoint "$(url a)" --endpoint "$(url b)" --endpoint "$(url c)" -j 6 --retries 2 \
    --bootstrap 20 -q --out "$tmp/run" > /dev/null 2> "$tmp/run.err" &
run=$!
i=0
while [ "$(wc -l < "$tmp/b.jsonl" 2>/dev/null || echo 0)" -lt 7 ] && [ $i -lt 400 ]; do
    sleep 0.02
    i=$((i + 1))
done
kill -9 "$pid_b"
wait "$run" || { cat "$tmp/run.err"; echo "FAIL: the run failed after a replica died"; exit 1; }

python3 - "$tmp" <<'PY'
import csv, json, sys
tmp = sys.argv[1]
run = json.load(open(tmp + "/run/run.json"))
llm = run["llm"]
eps = llm["endpoints"]
def lines(n):
    return sum(1 for l in open(f"{tmp}/{n}.jsonl") if '"/c/' in l and "chat/completions" in l)
answered = {n: lines(n) for n in "abc"}
assert len(eps) == 3, eps
assert llm["totals"]["errors"] == 0, llm["totals"]
# every query answered: as many scored answers as the offline run, one call each
want = int(next(csv.DictReader(open(tmp + "/offline/summary.csv")))["n"])
row = next(csv.DictReader(open(tmp + "/run/summary.csv")))
assert want > 20 and row["n"] == str(want) and row["errors"] == "0", (want, row)
assert row["complete"] == "true" and llm["totals"]["calls"] == want, (row, llm["totals"])
# the killed replica failed at least once and was rested; the others never failed
assert eps[1]["errors"] >= 1 and eps[1]["rested"] >= 1, eps
assert eps[0]["errors"] == 0 and eps[2]["errors"] == 0, eps
# the live replicas answered the rest: requests sent to a and c all arrived
assert answered["a"] == eps[0]["requests"] and answered["c"] == eps[2]["requests"], (answered, eps)
# every call was answered by exactly one replica
assert answered["a"] + answered["b"] + answered["c"] >= want, answered
assert eps[0]["requests"] + eps[2]["requests"] + eps[1]["requests"] - eps[1]["errors"] == want, eps
assert answered["a"] > 0 and answered["c"] > 0 and answered["b"] >= 7, answered
for e in eps:
    assert e["url"].startswith("http://127.0.0.1:"), e
PY

# OPENAI_BASE_URL with commas: both live replicas, spread by least-in-flight; a
# comma inside a URL (the server's controls) stays in it
: > "$tmp/a.jsonl"
: > "$tmp/c.jsonl"
OPENAI_BASE_URL="$(url a ,nousage),$(url c ,nousage)" "$BIN" --task lamp2m --method rag --users 10 --max-queries 6 \
    --model test-model --cache off -j 4 --bootstrap 20 --progress always --out "$tmp/env" \
    > /dev/null 2> "$tmp/env.err"
# the progress line counts each replica's requests
grep -q "endpoints [0-9][0-9]* | [0-9]" "$tmp/env.err"
python3 - "$tmp" <<'PY'
import csv, json, sys
tmp = sys.argv[1]
eps = json.load(open(tmp + "/env/run.json"))["llm"]["endpoints"]
want = int(next(csv.DictReader(open(tmp + "/offline/summary.csv")))["n"])
assert len(eps) == 2, eps
# least-in-flight with equal servers: neither replica gets under a quarter
assert sum(e["requests"] for e in eps) == want and all(e["requests"] >= want // 4 for e in eps), eps
assert sum(1 for l in open(tmp + "/a.jsonl")) == eps[0]["requests"], eps
assert sum(1 for l in open(tmp + "/c.jsonl")) == eps[1]["requests"], eps
assert all(e["url"].endswith("/c/latency=0.05,nousage/v1") for e in eps), eps
PY

# a bad URL in the list is refused before any request
if "$BIN" --task lamp2m --method rag --model m --endpoint "$(url a)" --endpoint foo \
    --out "$tmp/bad" 2> "$tmp/bad.err"; then
    echo "FAIL: --endpoint foo accepted"; exit 1
fi
grep -q '"foo" is not an http' "$tmp/bad.err"
echo "endpoints: ok"
