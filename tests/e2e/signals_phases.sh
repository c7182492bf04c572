#!/bin/sh
# SIGINT and SIGTERM outside the answers: while loading a large file, while
# summarizing (made long by many bootstrap draws), in score and in merge. Each
# ends within a few seconds with 130 (SIGINT) or 143 (SIGTERM), names the
# phase, and leaves only whole files: no run folder after a stop while
# loading, no summary and no temporary file after a stop while summarizing
# (run.json still says incomplete, so --resume writes it).
set -eu
BIN=${PE_BIN:-./persona-eval}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pe-sigphase-XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# $1: pid; $2: the longest wait in seconds. Sets rc to the exit status (999:
# still running after $2 s, then killed).
reap() {
    (
        n=0
        while [ "$n" -lt $(($2 * 10)) ]; do sleep 0.1; n=$((n + 1)); done
        kill -KILL "$1" 2>/dev/null && echo "still running $2 s after the signal" >&2
    ) &
    dog=$!
    rc=0
    wait "$1" || rc=$?
    if kill "$dog" 2>/dev/null; then :; else rc=999; fi
    wait "$dog" 2>/dev/null || :
}

# $1: pid; $2: seconds to wait first; $3: INT or TERM; $4: the phase the
# message names. The process must end within 5 s with 130 or 143.
stop() {
    sleep "$2"
    kill -"$3" "$1"
    reap "$1" 5
    want=130; [ "$3" = TERM ] && want=143
    [ "$rc" -eq "$want" ] || { echo "$4, SIG$3: exit $rc, not $want"; cat "$TMP/err"; exit 1; }
    grep -q "interrupted by SIG$3 while $4" "$TMP/err" ||
        { echo "$4, SIG$3: no message"; cat "$TMP/err"; exit 1; }
}

no_temp_files() {
    if ls "$1" | grep -q '\.tmp\.'; then
        echo "a temporary file was left in $1:"; ls "$1"; exit 1
    fi
}

# 1. loading: 400k users (about 100 MB) take seconds to load
python3 - "$TMP/big.jsonl" <<'PY'
import sys
line = ('{"user": "u%07d", "history": [{"id": "a%d", "title": "t", "text": "a b c d e f g h",'
        ' "category": "sports"}, {"id": "b%d", "title": "t", "text": "d e f g h i j k",'
        ' "category": "politics"}], "queries": [{"id": "q%d", "input": "article: x y z",'
        ' "gold": "sports"}]}\n')
with open(sys.argv[1], "w") as f:
    for u in range(400000):
        f.write(line % (u, u, u, u))
PY
for sig in INT TERM; do
    "$BIN" run --task lamp2n --data "$TMP/big.jsonl" --method user-majority --llm offline \
        --cache off -q --out "$TMP/load-$sig" 2> "$TMP/err" > /dev/null &
    stop $! 0.7 "$sig" "loading the data"
    grep -q "nothing was written" "$TMP/err"
    [ ! -e "$TMP/load-$sig" ] || { echo "a run folder after a stop while loading"; exit 1; }
done

# 2. summarizing: 3,000 users answered at once, then 2 million bootstrap draws
python3 - "$TMP/small.jsonl" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for u in range(3000):
        f.write('{"user": "u%d", "history": [{"id": "a%d", "title": "t", "text": "a b",'
                ' "category": "sports"}], "queries": [{"id": "q%d", "input": "article: x",'
                ' "gold": "%s"}]}\n' % (u, u, u, ["sports", "crime"][u % 2]))
PY
d=$TMP/sum
"$BIN" run --task lamp2n --data "$TMP/small.jsonl" --method user-majority --llm offline \
    --cache off -q --bootstrap 2000000 --out "$d" 2> "$TMP/err" > /dev/null &
pid=$!
n=0 # the answers are all on disk before the summary starts
while [ "$(cat "$d/predictions.jsonl" 2>/dev/null | wc -l)" -lt 3000 ] && [ "$n" -lt 600 ]; do
    sleep 0.1
    n=$((n + 1))
done
sleep 0.3
[ ! -f "$d/summary.json" ] || { echo "the summary was done too soon to test"; exit 1; }
stop "$pid" 0 TERM "writing the summaries"
grep -q "continue with: persona-eval --resume $d" "$TMP/err"
[ ! -e "$d/summary.json" ] && [ ! -e "$d/users.csv" ] && [ ! -e "$d/report.html" ]
grep -q '"incomplete": *true' "$d/run.json"
no_temp_files "$d"
[ "$(wc -l < "$d/predictions.jsonl")" -eq 3000 ]

# 3. score and merge of that run stop the same way
"$BIN" score "$d" --bootstrap 5000000 > "$TMP/score.json" 2> "$TMP/err" &
stop $! 1 INT scoring
[ ! -s "$TMP/score.json" ]

# merge takes B from run.json: a finished run, recorded as if with 2 million draws
"$BIN" run --task lamp2n --data "$TMP/small.jsonl" --method user-majority --llm offline \
    --cache off -q --bootstrap 10 --out "$TMP/done" > /dev/null
sed 's/"bootstrap": *10,/"bootstrap": 2000000,/' "$TMP/done/run.json" > "$TMP/run.json"
grep -q '"bootstrap": 2000000,' "$TMP/run.json"
mv "$TMP/run.json" "$TMP/done/run.json"
"$BIN" merge "$TMP/done" --out "$TMP/merged" -q > /dev/null 2> "$TMP/err" &
stop $! 1 TERM "writing the summaries"
grep -q "holds a partial merge" "$TMP/err"
[ ! -e "$TMP/merged/run.json" ]
no_temp_files "$TMP/merged"
echo ok
