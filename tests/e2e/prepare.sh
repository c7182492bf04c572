#!/bin/sh
# persona-eval prepare on the fixtures in tests/data/dataset: a LaMP questions file
# (its outputs file found beside it) becomes our JSONL with the documented counts; bad
# input exits 65 with one message on stderr and writes nothing.
set -eu
BIN=${PE_BIN:-./persona-eval}
FIX=tests/data/dataset
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "prepare.sh: $*" >&2; exit 1; }

# 4 questions; 112 has no gold; top 2 by interactions are 110 (6) and 112 (5, wins the
# tie with 113 by id); the 3 most recent interactions become queries.
"$BIN" prepare --task lamp2m --data $FIX/lamp2m_questions.json --top-users 2 --test-last 3 \
    --out "$tmp/out.jsonl" >"$tmp/stdout" 2>"$tmp/stderr" || fail "prepare failed: $(cat "$tmp/stderr")"
grep -q '2 users, 5 history items, 6 queries' "$tmp/stdout" || fail "counts: $(cat "$tmp/stdout")"
[ "$(wc -l <"$tmp/out.jsonl")" -eq 2 ] || fail "expected 2 lines"
python3 - "$tmp/out.jsonl" <<'PY' || fail "output content"
import json, sys
users = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert [u["user"] for u in users] == ["110", "112"], users
u = users[0]
assert u["task"] == "lamp2m"
assert [h["id"] for h in u["history"]] == ["1101", "1102", "1103"]
assert [q["id"] for q in u["queries"]] == ["1100", "1104", "110"]
assert [q["gold"] for q in u["queries"]] == ["action", "romance", "romance"]
assert u["queries"][0]["input"].endswith("] description: A zombie outbreak.")
assert "date" not in u["history"][1]
PY

# defaults: all 4 users (fewer than 100), one query each
"$BIN" prepare --task lamp2m --data $FIX/lamp2m_questions.json --out "$tmp/all.jsonl" \
    >"$tmp/stdout" || fail "defaults"
grep -q '4 users, 15 history items, 4 queries' "$tmp/stdout" || fail "defaults: $(cat "$tmp/stdout")"

# our own JSONL reads back
"$BIN" prepare --task lamp2m --data "$tmp/out.jsonl" --format jsonl --test-last 0 \
    --out "$tmp/again.jsonl" >"$tmp/stdout" || fail "reading our JSONL"
grep -q '2 users, 11 history items, 0 queries' "$tmp/stdout" || fail "reread: $(cat "$tmp/stdout")"

# bad input: exit 65, one line naming file, line, user and field; no output
set +e
"$BIN" prepare --task lamp2m --data $FIX/bad_type.jsonl --out "$tmp/bad.jsonl" \
    >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
set -e
[ "$rc" -eq 65 ] || fail "bad input: exit $rc, want 65"
grep -q 'bad_type.jsonl:2: user "u17": history\[1\]: field "tag" must be a string, not an array' \
    "$tmp/stderr" || fail "bad input message: $(cat "$tmp/stderr")"
[ "$(wc -l <"$tmp/stderr")" -eq 1 ] || fail "more than one line on stderr"
[ ! -e "$tmp/bad.jsonl" ] || fail "output written for bad input"
ls "$tmp" | grep -q 'bad.jsonl' && fail "temporary file left behind"

# a missing file is 66; an unknown task or a bad flag is 2
set +e
"$BIN" prepare --task lamp2m --data "$tmp/none.json" --out "$tmp/x.jsonl" 2>/dev/null
[ $? -eq 66 ] || fail "missing file: want 66"
"$BIN" prepare --task lamp9 --data $FIX/bad_type.jsonl --out "$tmp/x.jsonl" 2>"$tmp/stderr"
[ $? -eq 2 ] || fail "unknown task: want 2"
grep -q 'unknown task "lamp9"' "$tmp/stderr" || fail "unknown task message"
"$BIN" prepare --task lamp2m --data $FIX/bad_type.jsonl --top-users -3 --out "$tmp/x.jsonl" \
    2>/dev/null
[ $? -eq 2 ] || fail "bad --top-users: want 2"
"$BIN" prepare --help >"$tmp/stdout"
[ $? -eq 0 ] || fail "--help"
set -e
grep -q -- '--test-last' "$tmp/stdout" || fail "--help text"
[ ! -e "$tmp/x.jsonl" ] || fail "output written on error"

# a questions file without its outputs file: prepare says it found no golds and what it
# did instead (the 30 questions are left out; each user's newest profile item is a query)
mkdir "$tmp/nogold"
cp data/sample/lamp2m_questions.json "$tmp/nogold/"
"$BIN" prepare --task lamp2m --data "$tmp/nogold/lamp2m_questions.json" --top-users 0 \
    --test-last 1 --out "$tmp/nogold.jsonl" >"$tmp/stdout" 2>"$tmp/stderr" ||
    fail "no outputs: $(cat "$tmp/stderr")"
grep -q 'warning: no golds for 30 of 30 queries (LaMP questions without an outputs file' \
    "$tmp/stderr" || fail "no outputs warning: $(cat "$tmp/stderr")"
grep -q 'found no gold for 30 queries: they are left out, and each user.s test queries are its most recent profile items instead' \
    "$tmp/stderr" || fail "no outputs: what prepare did: $(cat "$tmp/stderr")"
python3 - "$tmp/nogold.jsonl" data/sample/lamp2m_questions.json <<'PY' || fail "no outputs content"
import json, sys
users = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
qs = json.load(open(sys.argv[2], encoding="utf-8"))
assert len(users) == 30
for u, q in zip(users, qs):
    # the newest profile item (dates sort as integer tuples, ties in file order)
    prof = sorted(enumerate(q["profile"]),
                  key=lambda p: (tuple(map(int, p[1]["date"].split("-"))), p[0]))
    assert [x["id"] for x in u["queries"]] == [prof[-1][1]["id"]], (u["user"], u["queries"])
    assert u["queries"][0]["gold"] == prof[-1][1]["tag"]
PY
exit 0
