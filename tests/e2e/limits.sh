#!/bin/sh
# Limits on what is read: each flag in run, prepare and score; a value over a
# limit exits 65 with a message naming the file, user, field, limit and flag,
# and leaves no output behind; at the limit the input is accepted.
set -u
BIN=${PE_BIN:-./persona-eval}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pe-limits-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail=0

expect() { # name, exit code, text in stderr ("" for none), command...
    name=$1 want=$2 text=$3
    shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL $name: exit $rc, want $want"; sed 's/^/  stderr: /' "$TMP/err"; fail=1
    elif [ -n "$text" ] && ! grep -qF -- "$text" "$TMP/err"; then
        echo "FAIL $name: stderr lacks: $text"; sed 's/^/  stderr: /' "$TMP/err"; fail=1
    fi
}

# One lamp2m user: 3 history items, the longest description 12 bytes.
cat >"$TMP/u.jsonl" <<'J'
{"user":"u5","history":[{"id":"h1","description":"twelve bytes","tag":"comedy"},{"id":"h2","description":"short","tag":"action"},{"id":"h3","description":"tiny","tag":"comedy"}],"queries":[{"id":"q1","input":"x","gold":"comedy"}]}
J
size=$(wc -c <"$TMP/u.jsonl")

# prepare
expect prepare-field 65 'user "u5": history[0]: field "description" is 12 bytes, over the limit of 11 (raise it with --max-field-bytes)' \
    "$BIN" prepare --task lamp2m --data "$TMP/u.jsonl" --max-field-bytes 11 --out "$TMP/p.jsonl"
[ -e "$TMP/p.jsonl" ] && { echo "FAIL prepare-field: output written"; fail=1; }
expect prepare-field-at 0 "" \
    "$BIN" prepare --task lamp2m --data "$TMP/u.jsonl" --max-field-bytes 12 --out "$TMP/p.jsonl"
expect prepare-profile 65 'user "u5": history: has 3 items, over the limit of 2 (raise it with --max-profile-items)' \
    "$BIN" prepare --task lamp2m --data "$TMP/u.jsonl" --max-profile-items 2 --out "$TMP/p2.jsonl"
expect prepare-file 65 "u.jsonl: file is larger than the limit of $((size - 1)) bytes (raise it with --max-file-bytes)" \
    "$BIN" prepare --task lamp2m --data "$TMP/u.jsonl" --max-file-bytes $((size - 1)) --out "$TMP/p3.jsonl"

# run
expect run-field 65 "--max-field-bytes" \
    "$BIN" run --task lamp2m --data "$TMP/u.jsonl" --max-field-bytes 4 -q --out "$TMP/r1"
[ -e "$TMP/r1" ] && { echo "FAIL run-field: run folder created"; fail=1; }
expect run-profile 65 "--max-profile-items" \
    "$BIN" run --task lamp2m --data "$TMP/u.jsonl" --max-profile-items 1 -q --out "$TMP/r2"
expect run-file 65 "--max-file-bytes" \
    "$BIN" run --task lamp2m --data "$TMP/u.jsonl" --max-file-bytes 10 -q --out "$TMP/r3"
expect run-at-limits 0 "" \
    "$BIN" run --task lamp2m --data "$TMP/u.jsonl" --max-file-bytes "$size" --max-field-bytes 12 \
    --max-profile-items 3 -q --out "$TMP/r4"
expect run-bad-flag 2 "--max-field-bytes" \
    "$BIN" run --task lamp2m --data "$TMP/u.jsonl" --max-field-bytes lots -q --out "$TMP/r5"

# run: observations cut for the model (the offline responder calls memory_search)
expect run-observations 0 "" \
    "$BIN" run --task lamp2m --method personaagent --users 1 --max-queries 1 \
    --max-observation-chars 30 -q --out "$TMP/r6"
grep -q 'observation cut to 30 of [0-9]* characters (--max-observation-chars)' "$TMP/r6/traces.jsonl" ||
    { echo "FAIL run-observations: no cut observation in traces.jsonl"; fail=1; }

# score
printf '{"task":"LaMP_2M","golds":[{"id":"a","output":"comedy"}]}\n' >"$TMP/g.json"
expect score-field 65 'g.json: golds[0]: field "output" is 6 bytes, over the limit of 5' \
    "$BIN" score --task lamp2m --golds "$TMP/g.json" --preds "$TMP/g.json" --max-field-bytes 5
expect score-file 65 "(raise it with --max-file-bytes)" \
    "$BIN" score --task lamp2m --golds "$TMP/g.json" --preds "$TMP/g.json" --max-file-bytes 20
expect score-run-file 65 "predictions.jsonl: file is larger than the limit of 10 bytes" \
    "$BIN" score "$TMP/r4" --max-file-bytes 10
expect score-ok 0 "" \
    "$BIN" score --task lamp2m --golds "$TMP/g.json" --preds "$TMP/g.json" --max-field-bytes 6

exit $fail
