#!/bin/sh
# Two runs started together on one --out: in 30 tries exactly one proceeds; the
# other exits 75 (the folder is in use) or 2 (it already holds a run), and the
# predictions never mix the two method sets. --resume takes the same lock.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
A="--task lamp3 --bootstrap 10 -q --max-queries 2"
i=0
while [ $i -lt 30 ]; do
    d=$tmp/run$i
    # shellcheck disable=SC2086
    "$BIN" $A --method majority --out "$d" 2> "$tmp/a.err" & pa=$!
    # shellcheck disable=SC2086
    "$BIN" $A --method user-majority --out "$d" 2> "$tmp/b.err" & pb=$!
    ra=0; wait $pa || ra=$?
    rb=0; wait $pb || rb=$?
    ok=0
    [ $ra -eq 0 ] && ok=$((ok + 1))
    [ $rb -eq 0 ] && ok=$((ok + 1))
    [ $ok -eq 1 ] || { echo "try $i: $ok runs proceeded (exits $ra, $rb)"; exit 1; }
    for r in $ra $rb; do
        case $r in 0|2|75) ;; *) echo "try $i: unexpected exit $r"; cat "$tmp"/*.err; exit 1 ;; esac
    done
    n=$(python3 -c 'import json,sys; print(len({json.loads(l)["method"] for l in open(sys.argv[1])}))' \
        "$d/predictions.jsonl")
    [ "$n" -eq 1 ] || { echo "try $i: predictions of $n methods"; exit 1; }
    i=$((i + 1))
done
# a run in progress keeps --resume out too
d=$tmp/slow
# shellcheck disable=SC2086
PE_TEST_QUERY_DELAY_MS=400 "$BIN" $A --method majority --out "$d" 2>/dev/null & p=$!
sleep 0.5
rc=0
"$BIN" --resume "$d" 2> "$tmp/err" || rc=$?
if [ $rc -ne 75 ] || ! grep -q "in use by another run" "$tmp/err"; then echo "resume: exit $rc"; exit 1; fi
wait $p
echo ok
