#!/bin/sh
# Crash safety: runs killed with SIGKILL at random points, then resumed, end
# with the same reports as an uninterrupted run; SIGINT exits 130 with a
# summary marked incomplete and --resume completes it; a resume with other
# settings is refused naming them; the grace period bounds shutdown.
# PE_TEST_QUERY_DELAY_MS (test-only) slows every query so a run can be hit mid-way.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
A="--task lamp2m --method majority,user-majority --max-queries 3 -j 4 -q --bootstrap 200"

same() { # same REF DIR: byte-identical summaries, equal prediction sets
    for f in summary.json summary.csv users.csv; do
        cmp "$1/$f" "$2/$f" || { echo "$2: $f differs from the uninterrupted run"; exit 1; }
    done
    python3 - "$1" "$2" <<'PY'
import json, sys
def preds(d):
    lines = open(d + "/predictions.jsonl").read().split("\n")
    assert lines[-1] == "", "predictions.jsonl does not end with a newline"
    last = {}
    for l in lines[:-1]:
        p = json.loads(l)   # every line is valid JSON (torn tails were cut)
        last[(p["method"], p["user"], p["id"])] = p["pred"]
    return last
a, b = preds(sys.argv[1]), preds(sys.argv[2])
assert a == b, (len(a), len(b))
PY
}

# shellcheck disable=SC2086
"$BIN" $A --out "$tmp/ref"
[ "$(wc -l < "$tmp/ref/predictions.jsonl")" -eq 180 ]

trial=1
while [ "$trial" -le 5 ]; do
    d="$tmp/k$trial"
    delay=$(awk -v s="$$$trial" 'BEGIN { srand(s); printf "%.2f", 0.2 + rand() * 1.1 }')
    # shellcheck disable=SC2086
    PE_TEST_QUERY_DELAY_MS=40 "$BIN" $A --out "$d" & pid=$!
    # killed at a random point after the run began writing (a slow start, as under a
    # sanitizer, must not turn the trial into one of a run that never started)
    i=0
    while [ ! -s "$d/run.json" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # shellcheck disable=SC2086
    "$BIN" $A --resume "$d"
    same "$tmp/ref" "$d"
    grep -q '"incomplete": false' "$d/run.json"
    trial=$((trial + 1))
done

# the same for LLM methods (offline responder): preparation (summary, persona,
# alignment) is redone for unfinished users and gives the same answers
L="--task lamp2m --method personaagent,rag --users 6 --max-queries 3 -j 2 -q --bootstrap 200"
# shellcheck disable=SC2086
"$BIN" $L --out "$tmp/lref" 2>/dev/null
for trial in 1 2; do
    d="$tmp/l$trial"
    delay=$(awk -v s="$$$trial" 'BEGIN { srand(s); printf "%.2f", 0.3 + rand() * 0.6 }')
    # shellcheck disable=SC2086
    PE_TEST_QUERY_DELAY_MS=60 "$BIN" $L --out "$d" 2>/dev/null & pid=$!
    i=0
    while [ ! -s "$d/run.json" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # shellcheck disable=SC2086
    "$BIN" $L --resume "$d" 2>/dev/null
    same "$tmp/lref" "$d"
done

# a torn last line (a writer killed mid-line) is cut before appending
d="$tmp/torn"
# shellcheck disable=SC2086
"$BIN" $A --max-queries 1 --out "$d"
head -n 20 "$d/predictions.jsonl" > "$d/p" && printf '{"user":"u0' >> "$d/p"
mv "$d/p" "$d/predictions.jsonl"
# shellcheck disable=SC2086
"$BIN" $A --max-queries 1 --resume "$d"
# shellcheck disable=SC2086
"$BIN" $A --max-queries 1 --out "$tmp/torn-ref"
same "$tmp/torn-ref" "$d"

# SIGINT: stop, let in-flight queries finish, summary marked incomplete, exit 130
d="$tmp/int"
# shellcheck disable=SC2086
PE_TEST_QUERY_DELAY_MS=25 "$BIN" $A --out "$d" & pid=$!
sleep 0.4
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || { echo "SIGINT: expected exit 130, got $rc"; exit 1; }
grep -q '"incomplete":true' "$d/summary.json"
grep -q '"incomplete": true' "$d/run.json"
n=$(wc -l < "$d/predictions.jsonl")
if [ "$n" -eq 0 ] || [ "$n" -ge 180 ]; then echo "SIGINT: $n predictions"; exit 1; fi
# shellcheck disable=SC2086
"$BIN" $A --resume "$d"
same "$tmp/ref" "$d"
grep -q '"incomplete":false' "$d/summary.json"

# SIGTERM with queries longer than the grace period: exit 143 within the grace
d="$tmp/term"
# shellcheck disable=SC2086
PE_TEST_QUERY_DELAY_MS=5000 "$BIN" $A --grace 0.3 --out "$d" 2> "$tmp/term.err" & pid=$!
sleep 0.3
t0=$(date +%s)
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 143 ] || { echo "SIGTERM: expected exit 143, got $rc"; exit 1; }
[ $(($(date +%s) - t0)) -le 2 ] || { echo "SIGTERM: the grace period was not kept"; exit 1; }
grep -q abandoned "$tmp/term.err"
grep -q '"incomplete":true' "$d/summary.json"

# other settings on resume: refused, naming them, nothing changed
cp "$tmp/ref/predictions.jsonl" "$tmp/before"
rc=0
# shellcheck disable=SC2086
"$BIN" $A --k 5 --strict-answers --resume "$tmp/ref" 2> "$tmp/err" || rc=$?
[ "$rc" -eq 2 ] || { echo "mismatched resume: expected exit 2, got $rc"; exit 1; }
grep -q -- "--k (recorded 4, now 5)" "$tmp/err" && grep -q -- "--strict-answers" "$tmp/err"
cmp "$tmp/before" "$tmp/ref/predictions.jsonl"

# a setting that changes only what the model sees is result-changing too
obs="--method prompt --llm offline --max-queries 1 --users 2 -q --bootstrap 10 --cache off"
# shellcheck disable=SC2086
"$BIN" --task lamp2m $obs --out "$tmp/obs" 2>/dev/null
rc=0
# shellcheck disable=SC2086
"$BIN" --task lamp2m $obs --max-observation-chars 100 --resume "$tmp/obs" 2> "$tmp/err" || rc=$?
[ "$rc" -eq 2 ] || { echo "--max-observation-chars on resume: expected exit 2, got $rc"; exit 1; }
grep -q -- "--max-observation-chars (recorded 4000, now 100)" "$tmp/err"
rc=0
# shellcheck disable=SC2086
"$BIN" $A --resume "$tmp/nothing-here" 2> "$tmp/err" || rc=$?
[ "$rc" -eq 66 ] || { echo "resume of a missing run: expected exit 66, got $rc"; exit 1; }
grep -q "no run.json there" "$tmp/err"

# --resume alone continues from the recorded command; a result-changing option
# given with it is refused, one that is not is taken
d=$tmp/one
# shellcheck disable=SC2086
PE_TEST_QUERY_DELAY_MS=300 "$BIN" $A --out "$d" 2>/dev/null &
pid=$!
sleep 0.8
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || { echo "SIGINT: expected 130, got $rc"; exit 1; }
rc=0
"$BIN" --resume "$d" --seed 7 2> "$tmp/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--seed (recorded 42, now 7)" "$tmp/err"
"$BIN" --resume "$d" -j 2 --progress never
cmp "$tmp/ref/summary.json" "$d/summary.json"
echo ok
