#!/bin/sh
# persona-eval score on official-format files and on a run directory, against
# values computed by hand (see the comments); wrong inputs and their exit codes.
set -u
BIN=${PE_BIN:-./persona-eval}
D=tests/data/metrics
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pe-score-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail=0

expect_out() { # name, expected stdout, command...
    name=$1 want=$2
    shift 2
    got=$("$@" 2>"$TMP/err")
    rc=$?
    if [ "$rc" -ne 0 ] || [ "$got" != "$want" ]; then
        echo "FAIL $name: rc=$rc"
        echo "  want: $want"
        echo "  got:  $got"
        sed 's/^/  stderr: /' "$TMP/err"
        fail=1
    fi
}

expect_rc() { # name, exit code, text that stderr must contain, command...
    name=$1 want=$2 text=$3
    shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ "$rc" -ne "$want" ] || ! grep -qF -- "$text" "$TMP/err"; then
        echo "FAIL $name: rc=$rc (want $want), stderr lacks \"$text\":"
        sed 's/^/  stderr: /' "$TMP/err"
        fail=1
    fi
    if [ "$rc" -ne 0 ] && [ -s "$TMP/out" ]; then
        echo "FAIL $name: printed a result although it failed"
        fail=1
    fi
}

# lamp2m: a, c, d right; b "Comedy" and e "drama" map to -1; f's duplicate: the last
# ("comedy") wins. comedy TP1 FP1 FN1 -> 1/2, action 1, romance 1, sci-fi and classic 0,
# ten absent tags 0: F1 = 2.5 / 15.
expect_out lamp2m \
    '{"accuracy": 0.5, "f1": 0.16666666666666666, "n": 6, "invalid": 2}' \
    "$BIN" score --task lamp2m --golds $D/lamp2m_golds.json --preds $D/lamp2m_preds.json

# lamp3: |4-5| = 1, |3.5-3| = 0.5, "n/a" at gold 1 -> 5.0: 4, |4-4| = 0.
# MAE = 5.5/4, RMSE = sqrt(17.25/4).
expect_out lamp3 \
    '{"MAE": 1.375, "RMSE": 2.0766559657295187, "n": 4, "invalid": 1}' \
    "$BIN" score --task LaMP_3 --golds $D/lamp3_golds.json --preds $D/lamp3_preds.json

# run directory: the task from run.json; the torn last line is ignored with a warning.
# persona: a right, b errored, c wrong: comedy TP1 FP1 -> 2/3, F1 = (2/3)/15.
# zero-shot: a "Comedy!" -> -1, c right: action 1, F1 = 1/15.
expect_out rundir \
    '{"task": "lamp2m", "methods": [{"method": "persona", "n": 2, "invalid": 0, "errors": 1, "accuracy": 0.5, "f1": 0.04444444444444444}, {"method": "zero-shot", "n": 2, "invalid": 1, "errors": 0, "accuracy": 0.5, "f1": 0.06666666666666667}]}' \
    "$BIN" score $D/run
grep -q "torn" "$TMP/err" || { echo "FAIL rundir: no warning about the torn line"; fail=1; }

# bootstrap: deterministic for a seed, and the interval holds the point estimate
a=$("$BIN" score --task lamp3 --golds $D/lamp3_golds.json --preds $D/lamp3_preds.json \
    --bootstrap 200 --seed 9)
b=$("$BIN" score --task lamp3 --golds $D/lamp3_golds.json --preds $D/lamp3_preds.json \
    --bootstrap 200 --seed 9)
if [ "$a" != "$b" ] || ! printf '%s' "$a" | python3 -c '
import json, sys
r = json.load(sys.stdin)
for k in ("MAE", "RMSE"):
    lo, hi = r["ci"][k]
    assert lo <= r[k] <= hi and lo < hi, (k, lo, r[k], hi)
'; then
    echo "FAIL bootstrap: $a / $b"
    fail=1
fi

expect_rc mismatch 65 '2 gold id(s) missing from' \
    "$BIN" score --task lamp2m --golds $D/lamp2m_golds.json --preds $D/lamp2m_preds_mismatch.json
grep -qF '"e", "f"' "$TMP/err" && grep -qF '"zz1"' "$TMP/err" || {
    echo "FAIL mismatch: the ids are not named"; cat "$TMP/err"; fail=1; }
expect_rc wrong-task 65 'field "task" is "LaMP_3", but the task is lamp2m' \
    "$BIN" score --task lamp2m --golds $D/lamp3_golds.json --preds $D/lamp3_preds.json
expect_rc bad-json 65 'lamp3_preds_broken.json:3:' \
    "$BIN" score --task lamp3 --golds $D/lamp3_golds.json --preds $D/lamp3_preds_broken.json
expect_rc missing 66 'nonexistent.json' \
    "$BIN" score --task lamp3 --golds $D/lamp3_golds.json --preds $D/nonexistent.json
expect_rc bad-flag 2 'unknown option' "$BIN" score --frobnicate
expect_rc no-task 2 '--task' "$BIN" score --golds $D/lamp3_golds.json --preds $D/lamp3_preds.json
# the one predictions reader keys on (method, user, id): two users may share a
# query id and both count; a repeated line for the same user replaces the first.
mkdir -p "$TMP/shared"
printf '{"task": "lamp2m"}\n' > "$TMP/shared/run.json"
cat > "$TMP/shared/predictions.jsonl" <<'EOF2'
{"user":"u1","id":"q1","method":"m","gold":"comedy","pred":"action","error":null}
{"user":"u2","id":"q1","method":"m","gold":"action","pred":"action","error":null}
{"user":"u1","id":"q1","method":"m","gold":"comedy","pred":"comedy","error":null}
EOF2
# u1 q1 comedy/comedy (the later line), u2 q1 action/action: accuracy 1, F1 = 2/15
expect_out shared-ids \
    '{"task": "lamp2m", "methods": [{"method": "m", "n": 2, "invalid": 0, "errors": 0, "accuracy": 1.0, "f1": 0.13333333333333333}]}' \
    "$BIN" score "$TMP/shared"
# every run writes each method's predictions in LaMP's official format; score
# reads them back with the golds file written beside them and gives the
# summary's numbers, and so does the reference re-implementation of LaMP's
# evaluation (for lamp2m, "LaMP_2" means movie tags there)
"$BIN" run --task lamp2m --method knn,majority --llm offline --cache off -q --bootstrap 0 \
    --out "$TMP/off" >/dev/null 2>&1 || { echo "FAIL official: run"; fail=1; }
for m in knn majority; do
    got=$("$BIN" score --task lamp2m --golds "$TMP/off/official_golds.json" \
        --preds "$TMP/off/official_$m.json" 2>"$TMP/err")
    ref=$(python3 scripts/official_eval.py --golds_json "$TMP/off/official_golds.json" \
        --preds_json "$TMP/off/official_$m.json" --task_name LaMP_2)
    if ! python3 - "$TMP/off/summary.json" "$m" "$got" "$ref" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
m = next(x for x in s["methods"] if x["method"] == sys.argv[2])
got, ref = json.loads(sys.argv[3]), json.loads(sys.argv[4])
assert got["n"] == m["n"], (got, m)
for k in ("accuracy", "f1"):
    assert got[k] == m[k] == ref[k], (k, got[k], m[k], ref[k])
PY
    then
        echo "FAIL official $m: $got vs summary / $ref"
        fail=1
    fi
done
exit $fail
