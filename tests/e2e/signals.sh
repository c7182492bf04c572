#!/bin/sh
# Ctrl-C: the first says at once how many queries are in flight and how long it
# waits; the second stops at once and still writes the summary, marked
# incomplete; both end with the command that resumes the run.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
d=$tmp/run
PE_TEST_QUERY_DELAY_MS=6000 "$BIN" --task lamp3 --method majority -q -j 3 --grace 60 \
    --out "$d" 2> "$tmp/err" &
pid=$!
sleep 1
kill -INT "$pid"
sleep 0.5
grep -q "stopping: finishing 3 queries in flight (up to 60 s); Ctrl-C again to stop now" \
    "$tmp/err" || { echo "no message after the first Ctrl-C:"; cat "$tmp/err"; exit 1; }
t0=$(date +%s)
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || { echo "expected exit 130, got $rc"; exit 1; }
[ $(($(date +%s) - t0)) -le 3 ] || { echo "the second Ctrl-C did not stop at once"; exit 1; }
grep -q '"incomplete":true' "$d/summary.json"
grep -q "continue with: persona-eval --resume $d" "$tmp/err"
grep -qi "incomplete run" "$d/summary.md"
"$BIN" --resume "$d" > /dev/null
grep -q '"incomplete":false' "$d/summary.json"

# a sweep: the signal stops the run under way (summary marked incomplete) and
# the sweep after it; stdout still ends with the sweep folder
sw=$tmp/sweep
PE_TEST_QUERY_DELAY_MS=300 "$BIN" --task lamp3 --method majority --sweep k=1,2,3 -j 2 \
    --grace 60 --out "$sw" > "$tmp/out" 2> "$tmp/err" &
pid=$!
sleep 1
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || { echo "sweep: expected exit 130, got $rc"; cat "$tmp/err"; exit 1; }
[ "$(tail -n 1 "$tmp/out")" = "$sw" ] || { echo "sweep: last line"; cat "$tmp/out"; exit 1; }
grep -q '"incomplete":true' "$sw/k=1/summary.json"
[ ! -e "$sw/k=2" ] && [ ! -e "$sw/sweep.csv" ] || { echo "the sweep went on"; exit 1; }
grep -q "the sweep stopped after the run it was doing" "$tmp/err"
# its run.json records the swept value, so --resume alone finishes it
"$BIN" --resume "$sw/k=1" > /dev/null
grep -q '"incomplete":false' "$sw/k=1/summary.json"
grep -q '"k":1,' "$sw/k=1/run.json"
echo ok
