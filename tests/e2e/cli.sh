#!/bin/sh
# The command line's rough edges: suggestions for typos, the lamp2 hint, clear
# messages for negative numbers, empty list items and URLs, the run folder on
# stdout with -q, and several data files after one --data.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
expect() { # expect CODE PATTERN command...
    code=$1; pat=$2; shift 2
    rc=0; "$@" > "$tmp/out" 2>&1 || rc=$?
    [ "$rc" -eq "$code" ] || { echo "expected exit $code, got $rc: $*"; cat "$tmp/out"; exit 1; }
    grep -qF -- "$pat" "$tmp/out" || { echo "no \"$pat\" in:"; cat "$tmp/out"; exit 1; }
}
expect 2 "unknown option --taks (did you mean --task?)" "$BIN" --taks lamp2m
expect 2 "unknown option --metod (did you mean --method?)" "$BIN" --task lamp2m --metod rag
expect 2 'unknown command "reprot" (did you mean report?)' "$BIN" reprot runs/x
expect 2 "lamp2m (movie tags) and lamp2n (news categories)" "$BIN" --task lamp2
expect 2 'unknown task "lamp33" (did you mean lamp3?)' "$BIN" --task lamp33
expect 2 "--k: -1 is negative; expected a whole number >= 1" "$BIN" --task lamp2m --k -1
expect 2 '--method "rag,,knn": an empty item in the list' "$BIN" --task lamp2m --method rag,,knn
expect 2 '--endpoint "foo" is not an http:// or https:// URL' \
    "$BIN" --task lamp2m --method prompt --endpoint foo --model m
# -q: the run folder is the only line on stdout
out=$("$BIN" --task lamp3 --method majority -q --bootstrap 10 --out "$tmp/q" 2>/dev/null)
[ "$out" = "$tmp/q" ] || { echo "-q printed \"$out\""; exit 1; }
# without --out too
(cd "$tmp" && mkdir -p data/sample && cp "$OLDPWD/data/sample/lamp3.jsonl" data/sample/ &&
    out=$("$BIN" --task lamp3 --method majority -q --bootstrap 10 2>/dev/null) &&
    [ -f "$out/summary.json" ] && case $out in results/lamp3-majority-*) ;; *) exit 1 ;; esac)
# --data A B: both files
"$BIN" --task lamp2m --method majority -q --bootstrap 10 --out "$tmp/two" \
    --data data/sample/lamp2m_questions.json data/sample/lamp2m_outputs.json > /dev/null
python3 -c 'import json,sys; assert len(json.load(open(sys.argv[1]))["data"]) == 2' \
    "$tmp/two/run.json"
echo ok
