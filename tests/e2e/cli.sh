#!/bin/sh
# The command line's rough edges: suggestions for typos, the lamp2 hint, clear
# messages for negative numbers, empty list items and URLs, the run folder on
# stdout (last, also with -q), several data files after one --data in every
# subcommand that reads data, a directory given as a file (exit 66), one default
# seed, and --offline stopping at its first cache miss (exit 66).
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
srv=""
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"' EXIT
. tests/e2e/loopback.inc
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
expect 2 "unknown option --taks (did you mean --task?)" "$BIN" prepare --taks lamp2m
expect 2 "unknown option --bootsrap (did you mean --bootstrap?)" "$BIN" score --bootsrap 5 x
expect 2 "lamp2m (movie tags) and lamp2n" "$BIN" prepare --task lamp2 --data x --out y
expect 2 "lamp2m (movie tags) and lamp2n" "$BIN" score --task lamp2 --golds x --preds y
expect 2 '--bootstrap: "-1" is not a whole number >= 0' "$BIN" report --bootstrap -1 x

# a directory where a file is expected: 66 in every subcommand that reads files
expect 66 "data/sample: is a directory, not a file" "$BIN" --task lamp2m --data data/sample
expect 66 "data/sample: is a directory, not a file" \
    "$BIN" prepare --task lamp2m --data data/sample --out "$tmp/p.jsonl"
expect 66 "data/sample: is a directory, not a file" \
    "$BIN" score --task lamp2m --golds data/sample --preds data/sample
mkdir -p "$tmp/dir/run.json" "$tmp/dir/summary.json" "$tmp/dir/personas.jsonl"
expect 66 "run.json: is a directory, not a file" "$BIN" score "$tmp/dir"
expect 66 "summary.json: is a directory, not a file" "$BIN" report "$tmp/dir"
expect 66 "personas.jsonl: is a directory, not a file" "$BIN" personas "$tmp/dir"
expect 66 "run.json: is a directory, not a file" "$BIN" merge "$tmp/dir" --out "$tmp/m"
[ ! -e "$tmp/p.jsonl" ]

# prepare: --data A B is --data A --data B, options after the files included
q=data/sample/lamp2m_questions.json o=data/sample/lamp2m_outputs.json
"$BIN" prepare --task lamp2m --data "$q" "$o" --top-users 3 --out "$tmp/p1.jsonl" > /dev/null
"$BIN" prepare --task lamp2m --data "$q" --data "$o" --top-users 3 --out "$tmp/p2.jsonl" \
    > /dev/null
cmp "$tmp/p1.jsonl" "$tmp/p2.jsonl"
[ "$(wc -l < "$tmp/p1.jsonl")" -eq 3 ]
# run: the same, recorded as two --data in run.json's command
"$BIN" --task lamp2m --method majority -q --bootstrap 10 --out "$tmp/two2" \
    --data "$q" --data "$o" > /dev/null
python3 - "$tmp/two/run.json" "$tmp/two2/run.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["data"] == b["data"] and len(a["data"]) == 2, (a["data"], b["data"])
cmd = a["command"]
assert [cmd[i + 1] for i, w in enumerate(cmd) if w == "--data"] == [d["path"] for d in a["data"]], cmd
PY

# one default seed (42) in run, score and report: score without --seed is score --seed 42
"$BIN" --task lamp2m --method majority,rag -q --bootstrap 0 --out "$tmp/s" > /dev/null 2>&1
"$BIN" score "$tmp/s" --bootstrap 300 > "$tmp/s.default"
"$BIN" score "$tmp/s" --bootstrap 300 --seed 42 > "$tmp/s.42"
"$BIN" score "$tmp/s" --bootstrap 300 --seed 0 > "$tmp/s.0"
cmp "$tmp/s.default" "$tmp/s.42"
! cmp -s "$tmp/s.default" "$tmp/s.0"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["settings"]["seed"] == 42' \
    "$tmp/s/run.json"
for sub in run score report; do
    "$BIN" $sub --help | grep -q -- "--seed.*default 42" || { echo "$sub --help: seed"; exit 1; }
done

# the run folder is the last line of stdout: with and without -q, on exit 4, on --resume
last() { tail -n 1 "$tmp/out"; }
"$BIN" --task lamp3 --method majority --bootstrap 10 --out "$tmp/l1" > "$tmp/out" 2>/dev/null
[ "$(last)" = "$tmp/l1" ]
"$BIN" --resume "$tmp/l1" > "$tmp/out" 2>/dev/null
[ "$(last)" = "$tmp/l1" ]
"$BIN" --task lamp3 --method knn --sweep k=1,2 --bootstrap 10 --out "$tmp/sw" > "$tmp/out" \
    2>/dev/null
[ "$(last)" = "$tmp/sw" ] && [ -f "$tmp/sw/sweep.csv" ]
# interrupted: once (the queries in flight finish), and twice (they are abandoned)
for n in 1 2; do
    PE_TEST_QUERY_DELAY_MS=2000 "$BIN" --task lamp3 --method majority -j 2 --bootstrap 10 \
        --out "$tmp/int$n" > "$tmp/out" 2>/dev/null &
    pid=$!
    sleep 0.7
    kill -INT "$pid"
    [ "$n" -eq 1 ] || { sleep 0.3; kill -INT "$pid"; }
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 130 ] || { echo "interrupted $n times: exit $rc"; exit 1; }
    [ "$(last)" = "$tmp/int$n" ] || { echo "interrupted $n times: last line $(last)"; exit 1; }
    grep -q '"incomplete":true' "$tmp/int$n/summary.json"
done
lb_start
rc=0
"$BIN" --task lamp2m --method prompt --users 2 --max-queries 2 --retries 0 \
    --endpoint "http://127.0.0.1:$port/c/fail=1/v1" --model m --cache off --bootstrap 10 \
    --out "$tmp/l4" > "$tmp/out" 2>/dev/null || rc=$?
[ "$rc" -eq 4 ] || [ "$rc" -eq 69 ] || { echo "fail=1 run exited $rc"; exit 1; }
[ "$(last)" = "$tmp/l4" ] || { echo "exit $rc: last line \"$(last)\""; exit 1; }

# --offline: an empty cache stops at once, with the count of calls that missed
url="http://127.0.0.1:$port/v1"
off() { # out dir, jobs, extra args...
    o=$1 j=$2
    shift 2
    rc=0
    "$BIN" --task lamp2m --method prompt --max-queries 4 -j "$j" --endpoint "$url" \
        --model m --cache-dir "$tmp/cache" --bootstrap 10 --out "$tmp/$o" "$@" \
        > "$tmp/out" 2> "$tmp/err" || rc=$?
}
off empty 2 --users 5 --offline
[ "$rc" -eq 66 ] || { echo "--offline, empty cache: exit $rc"; cat "$tmp/err"; exit 1; }
grep -q "found no entry in the cache $tmp/cache, and the run stopped at the first" "$tmp/err"
[ "$(last)" = "$tmp/empty" ]
python3 - "$tmp/empty" "$tmp/err" <<'PY'
import json, re, sys
d, err = sys.argv[1:]
recs = [json.loads(l) for l in open(f"{d}/predictions.jsonl")]
n = int(re.search(r"(\d+) calls? found no entry", open(err).read()).group(1))
# 20 queries; -j 2: the first miss and at most one other query under way
assert 1 <= n <= 2 and len(recs) <= 2 and all(r.get("error") for r in recs), (n, recs)
assert re.search(r"(\d+) of 20 queries are not answered", open(err).read()).group(1) == "20"
assert json.load(open(f"{d}/summary.json"))["incomplete"] is True
PY
# --offline without an endpoint (the offline responder has no cache): refused
rc=0
"$BIN" --task lamp2m --method prompt --offline --out "$tmp/noep" > "$tmp/out" 2> "$tmp/err" ||
    rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--offline replays an endpoint's cached answers" "$tmp/err" ||
    { echo "--offline without endpoint: exit $rc"; cat "$tmp/err"; exit 1; }
[ ! -e "$tmp/noep" ] || { echo "--offline without endpoint made a run folder"; exit 1; }
# a partly filled cache: the 4 queries of the first user (u001) are cached, then -j 1
# stops at the second user's first query
off fill 1 --user u001
[ "$rc" -eq 0 ] || { echo "filling the cache: exit $rc"; cat "$tmp/err"; exit 1; }
off part 1 --users 3 --offline
[ "$rc" -eq 66 ] || { echo "--offline, partial cache: exit $rc"; cat "$tmp/err"; exit 1; }
grep -q "1 call found no entry" "$tmp/err"
grep -q "8 of 12 queries are not answered" "$tmp/err"
python3 - "$tmp/part" "$tmp/fill" <<'PY'
import json, sys
part, fill = ([json.loads(l) for l in open(f"{d}/predictions.jsonl")] for d in sys.argv[1:])
ok = [r for r in part if not r.get("error")]
assert len(part) == 5 and len(ok) == 4, part
assert sorted((r["user"], r["id"], r["pred"]) for r in ok) == \
    sorted((r["user"], r["id"], r["pred"]) for r in fill)
PY
echo ok
