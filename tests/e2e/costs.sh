#!/bin/sh
# Honest costs against the loopback server (11 prompt + 7 completion tokens per
# reply; at $3 / $15 per million tokens each reply costs $0.000138):
#  - each method's row counts every call made for it, its preparation (user
#    summary, alignment replays, feedback, updates) included: calls minus the
#    cache hits equal the requests the server's log shows for that method,
#    told apart by their prompts; the shared summary is in each row that used
#    it and once in run.json's totals, which equal the log;
#  - a second run over the same cache sends nothing: calls_cached = calls and
#    cost_spent_usd = 0, while cost_usd still shows what the calls cost;
#  - an interrupted and resumed run's run.json totals equal an uninterrupted
#    run's and the requests of both sessions.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# shellcheck source=tests/e2e/loopback.inc
. tests/e2e/loopback.inc
lb_start --log "$tmp/requests.jsonl"
base="http://127.0.0.1:$port/c/agent/v1"

run() { # out, extra args...
    out=$1
    shift
    "$BIN" run --task lamp2m --users 3 --max-queries 2 --endpoint "$base" --model test-model \
        --price-in 3 --price-out 15 --bootstrap 20 --retries 0 -q --out "$out" "$@"
}

# check.py SUMMARY_JSON RUN_JSON LOG MODE: MODE "fresh" compares each row with
# the requests of the log; "replay" expects no request and everything cached.
cat > "$tmp/check.py" <<'EOF'
import csv, json, sys

summary, run, log, mode = sys.argv[1:5]
PER_CALL = (11 * 3 + 7 * 15) / 1e6
rows = {m["method"]: m for m in json.load(open(summary))["methods"]}
totals = json.load(open(run))["llm"]["totals"]
reqs = [json.loads(l) for l in open(log)]
chat = [r["body"] for r in reqs if r["path"].endswith("/chat/completions")]


def kind(body):
    """Which part of which method a request is, from its prompt alone."""
    msgs = body["messages"]
    first = msgs[0]["content"] or ""
    if msgs[0]["role"] == "system":
        return "agent"  # personaagent: its persona as the system prompt (queries, replays)
    if first.startswith("Summarize the user's preferences"):
        return "summary"
    if first.startswith("You are a meticulous and critical evaluator"):
        return "feedback"
    if first.startswith("You are a prompt engineering assistant"):
        return "update"
    return "plain"  # rag: the LaMP retrieval layout, no system prompt


count = {}
for b in chat:
    count[kind(b)] = count.get(kind(b), 0) + 1
sent = {
    "personaagent": count.get("agent", 0) + count.get("summary", 0) + count.get("feedback", 0)
    + count.get("update", 0),
    "rag": count.get("plain", 0),
}
prep = count.get("summary", 0) + count.get("feedback", 0) + count.get("update", 0)


def close(a, b):
    return abs(a - b) < 1e-9


bad = []
if mode == "fresh":
    if len(reqs) != len(chat):
        bad.append("requests other than chat completions: %d" % (len(reqs) - len(chat)))
    for m, n in sent.items():
        r = rows[m]
        if r["calls"] - r["calls_cached"] != n:
            bad.append("%s: calls %d - cached %d != %d requests sent" %
                       (m, r["calls"], r["calls_cached"], n))
        if not close(r["cost_spent_usd"], n * PER_CALL):
            bad.append("%s: cost_spent_usd %r != %d x %r" % (m, r["cost_spent_usd"], n, PER_CALL))
        if not close(r["cost_usd"], r["calls"] * PER_CALL):
            bad.append("%s: cost_usd %r != calls %d x %r" % (m, r["cost_usd"], r["calls"], PER_CALL))
    pa = rows["personaagent"]
    if count.get("summary", 0) == 0 or count.get("update", 0) == 0:
        bad.append("no summary or update request: %r" % count)
    if pa["shared_calls"] != count.get("summary", 0):
        bad.append("shared_calls %d != %d summary requests" % (pa["shared_calls"], count["summary"]))
    if pa["prep_calls"] < prep:  # cache hits among the replays make it larger, never smaller
        bad.append("prep_calls %d < %d preparation requests" % (pa["prep_calls"], prep))
    if rows["rag"]["prep_calls"] != 0 or rows["rag"]["shared_calls"] != 0:
        bad.append("rag has preparation calls")
    if totals["http_requests"] != len(chat):
        bad.append("run.json http_requests %d != %d in the log" % (totals["http_requests"], len(chat)))
    if totals["calls"] - totals["cache_hits"] != len(chat):
        bad.append("run.json calls - cache_hits != %d requests" % len(chat))
    if totals["calls"] != sum(r["calls"] for r in rows.values()):
        bad.append("run.json calls %d != sum of the rows (nothing shared between them)" %
                   totals["calls"])
    if not close(totals["cost_spent_usd"], len(chat) * PER_CALL):
        bad.append("run.json cost_spent_usd %r" % totals["cost_spent_usd"])
elif mode == "replay":
    if chat:
        bad.append("%d requests sent by a replay" % len(chat))
    for m, r in rows.items():
        if r["calls"] == 0 or r["calls_cached"] != r["calls"] or r["cost_spent_usd"] != 0:
            bad.append("%s: calls %d, cached %d, spent %r" %
                       (m, r["calls"], r["calls_cached"], r["cost_spent_usd"]))
        if not close(r["cost_usd"], r["calls"] * PER_CALL):
            bad.append("%s: cost_usd %r" % (m, r["cost_usd"]))
    if totals["cache_hits"] != totals["calls"] or totals["cost_spent_usd"] != 0:
        bad.append("run.json totals: %r" % totals)
# users.csv: each (method, user) row holds the user's preparation too, so its
# rows add up to the method's row of the summary (a complete run)
users = list(csv.DictReader(open(summary.rsplit("/", 1)[0] + "/users.csv")))
for m, r in rows.items():
    mine = [u for u in users if u["method"] == m]
    for k in ("calls", "prep_calls", "shared_calls", "prompt_tokens"):
        got = sum(int(u[k]) for u in mine)
        if got != r[k]:
            bad.append("users.csv %s: %s adds up to %d, summary %d" % (m, k, got, r[k]))
    if not close(sum(float(u["cost_usd"]) for u in mine), r["cost_usd"]):
        bad.append("users.csv %s: cost_usd does not add up to the summary's" % m)
if bad:
    print("\n".join(bad))
    sys.exit(1)
EOF

# 1. every call in its method's row
: > "$tmp/requests.jsonl"
run "$tmp/fresh" --method personaagent,rag --cache-dir "$tmp/cache"
python3 "$tmp/check.py" "$tmp/fresh/summary.json" "$tmp/fresh/run.json" "$tmp/requests.jsonl" fresh
head -n 1 "$tmp/fresh/summary.csv" | grep -q ",prep_calls,shared_calls,calls_cached,cost_spent_usd,shared_cost_usd,"

# 2. replayed from the cache: nothing spent now
: > "$tmp/requests.jsonl"
run "$tmp/replay" --method personaagent,rag --cache-dir "$tmp/cache"
python3 "$tmp/check.py" "$tmp/replay/summary.json" "$tmp/replay/run.json" "$tmp/requests.jsonl" \
    replay

# 3. the shared summary: in the row of each method that used it, once in the totals
: > "$tmp/requests.jsonl"
run "$tmp/shared" --method personaagent-noalign,pag --cache off
python3 - "$tmp/shared/summary.json" "$tmp/shared/run.json" "$tmp/requests.jsonl" <<'EOF'
import json, sys
rows = {m["method"]: m for m in json.load(open(sys.argv[1]))["methods"]}
totals = json.load(open(sys.argv[2]))["llm"]["totals"]
chat = [json.loads(l)["body"] for l in open(sys.argv[3])]
summaries = sum(1 for b in chat
                if (b["messages"][0]["content"] or "").startswith("Summarize the user's preferences"))
users = 3
assert summaries == users, summaries  # one per user, shared by both methods
for m in ("personaagent-noalign", "pag"):
    assert rows[m]["shared_calls"] == summaries, (m, rows[m])
    assert rows[m]["prep_calls"] == summaries, (m, rows[m])
assert totals["calls"] == len(chat), (totals, len(chat))
assert sum(r["calls"] for r in rows.values()) == len(chat) + summaries, rows
EOF

# 4. a resumed run's totals cover both sessions
: > "$tmp/requests.jsonl"
"$BIN" run --task lamp2m --users 4 --max-queries 3 --endpoint "$base" --model test-model \
    --price-in 3 --price-out 15 --bootstrap 20 --retries 0 -q --method rag --cache off -j 1 \
    --out "$tmp/whole"
whole=$(wc -l < "$tmp/requests.jsonl")
: > "$tmp/requests.jsonl"
PE_TEST_QUERY_DELAY_MS=150 "$BIN" run --task lamp2m --users 4 --max-queries 3 \
    --endpoint "$base" --model test-model --price-in 3 --price-out 15 --bootstrap 20 \
    --retries 0 -q --method rag --cache off -j 1 --out "$tmp/cut" 2> /dev/null & pid=$!
sleep 0.7
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || { echo "SIGINT: expected exit 130, got $rc"; exit 1; }
first=$(wc -l < "$tmp/requests.jsonl")
if [ "$first" -eq 0 ] || [ "$first" -ge "$whole" ]; then
    echo "the interrupted session sent $first of $whole requests"; exit 1
fi
"$BIN" run --task lamp2m --users 4 --max-queries 3 --endpoint "$base" --model test-model \
    --price-in 3 --price-out 15 --bootstrap 20 --retries 0 -q --method rag --cache off -j 1 \
    --resume "$tmp/cut"
python3 - "$tmp/whole/run.json" "$tmp/cut/run.json" "$(wc -l < "$tmp/requests.jsonl")" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
sent = int(sys.argv[3])
ta, tb = a["llm"]["totals"], b["llm"]["totals"]
for k in ("calls", "prompt_tokens", "completion_tokens", "http_requests", "cost_usd",
          "cost_spent_usd"):
    assert abs(ta[k] - tb[k]) < 1e-9, (k, ta[k], tb[k])
assert tb["http_requests"] == sent, (tb, sent)
for k in ("calls", "prompt_tokens", "completion_tokens"):
    assert a["stats"][k] == b["stats"][k], (k, a["stats"], b["stats"])
assert b["sessions"] == 2 and a["sessions"] == 1, (a["sessions"], b["sessions"])
EOF
echo "costs: ok"
