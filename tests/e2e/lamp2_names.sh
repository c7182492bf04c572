#!/bin/sh
# "LaMP_2" in a data file means what its golds say: news categories -> lamp2n,
# movie tags -> lamp2m. run, prepare and score read one file of each kind the same
# way: accepted for the task its labels belong to, refused (exit 65, naming the
# reading) for the other: questions of one kind paired with a LaMP_2 outputs file
# of the other kind, and score with the other task.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "lamp2_names.sh: $*" >&2; exit 1; }

for k in n m; do
    mkdir -p "$tmp/$k"
    cp data/sample/lamp2${k}_questions.json "$tmp/$k/lamp2${k}_questions.json"
    # the old official name, and preds equal to the golds
    python3 - data/sample/lamp2${k}_outputs.json "$tmp/$k" <<'PY'
import json, sys
o = json.load(open(sys.argv[1], encoding="utf-8"))
o["task"] = "LaMP_2"
name = sys.argv[1].rsplit("/", 1)[1]
json.dump(o, open(sys.argv[2] + "/" + name, "w"))
json.dump(o, open(sys.argv[2] + "/preds.json", "w"))
PY
done
# questions of one kind beside the LaMP_2 outputs file of the other
for k in n m; do
    if [ $k = n ]; then other=m; else other=n; fi
    mkdir -p "$tmp/x$k"
    cp data/sample/lamp2${k}_questions.json "$tmp/x$k/lamp2${k}_questions.json"
    cp "$tmp/$other/lamp2${other}_outputs.json" "$tmp/x$k/lamp2${k}_outputs.json"
done

# expect_rc NAME RC PATTERN CMD...: exit code RC and PATTERN (fixed string) on stderr
expect_rc() {
    name=$1 want=$2 pat=$3
    shift 3
    set +e
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    set -e
    [ "$rc" -eq "$want" ] || fail "$name: exit $rc, want $want: $(cat "$tmp/err")"
    [ -z "$pat" ] || grep -qF "$pat" "$tmp/err" || fail "$name: no '$pat' in: $(cat "$tmp/err")"
}

for k in n m; do
    if [ $k = n ]; then other=m kind="news categories"; else other=n kind="movie tags"; fi
    q="$tmp/$k/lamp2${k}_questions.json"
    o="$tmp/$k/lamp2${k}_outputs.json"
    why="is \"LaMP_2\", which means lamp2$k here (its labels are $kind), but the task is lamp2$other"
    xq="$tmp/x$other/lamp2${other}_questions.json"

    # run: every question gets its gold from the LaMP_2 outputs file (30 scored)
    expect_rc "run lamp2$k" 0 "" "$BIN" run --task lamp2$k --data "$q" --method prompt \
        --llm offline --cache off -q --out "$tmp/run$k"
    python3 - "$tmp/run$k/predictions.jsonl" <<'PY' || fail "run lamp2$k: golds not attached"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(rows) == 30 and all(r.get("gold") for r in rows), rows[:2]
PY
    expect_rc "run lamp2$other" 65 "$why" "$BIN" run --task lamp2$other --data "$xq" \
        --method prompt --llm offline --cache off -q --out "$tmp/bad$k"

    # prepare: every profile item plus the answered question are interactions; the
    # newest of each user becomes its query
    expect_rc "prepare lamp2$k" 0 "" "$BIN" prepare --task lamp2$k --data "$q" \
        --top-users 0 --test-last 1 --out "$tmp/p$k.jsonl"
    nh=$(python3 -c 'import json,sys; print(sum(len(x["profile"]) for x in json.load(open(sys.argv[1]))))' "$q")
    grep -q "30 users, $nh history items, 30 queries" "$tmp/out" ||
        fail "prepare lamp2$k: $(cat "$tmp/out"), want $nh history items"
    expect_rc "prepare lamp2$other" 65 "$why" "$BIN" prepare --task lamp2$other --data "$xq" \
        --out "$tmp/x.jsonl"

    # score: golds and preds both named LaMP_2
    expect_rc "score lamp2$k" 0 "" "$BIN" score --task lamp2$k --golds "$o" \
        --preds "$tmp/$k/preds.json"
    grep -q '"accuracy": 1' "$tmp/out" || fail "score lamp2$k: $(cat "$tmp/out")"
    expect_rc "score lamp2$other" 65 "$why" "$BIN" score --task lamp2$other --golds "$o" \
        --preds "$tmp/$k/preds.json"
done
echo "lamp2_names.sh: ok"
