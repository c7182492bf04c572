#!/bin/sh
# The LLM methods over HTTP against the loopback OpenAI-compatible server:
# native tool calls, the text protocol, the automatic fallback when the server
# refuses tools, a server failing 20% of requests, and a planted API key that
# must reach the server and nothing written to disk.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# shellcheck source=tests/e2e/loopback.inc
. tests/e2e/loopback.inc
lb_start --log "$tmp/requests.jsonl"
base="http://127.0.0.1:$port"
key="sk-planted-$(date +%s)-e2e"
export OPENAI_API_KEY="$key"

run() { # name, endpoint path, extra args...
    name=$1 path=$2
    shift 2
    "$BIN" --task lamp2m --users 2 --max-queries 2 --endpoint "$base$path" --model test-model \
        --cache-dir "$tmp/cache" --bootstrap 50 -q --out "$tmp/$name" "$@" 2> "$tmp/$name.err"
}

: > "$tmp/requests.jsonl"
run native /c/agent/v1 --method personaagent,rag,pag,icl --tools native --retries 0
cp "$tmp/requests.jsonl" "$tmp/native.requests"
: > "$tmp/requests.jsonl"
run text /c/agent/v1 --method personaagent --tools text --retries 0
cp "$tmp/requests.jsonl" "$tmp/text.requests"
: > "$tmp/requests.jsonl"
run auto /c/agent,rejecttools/v1 --method personaagent-nopersona --tools auto --retries 0
cp "$tmp/requests.jsonl" "$tmp/auto.requests"

grep -q "Model <strong>test-model</strong>" "$tmp/native/report.html"
! grep -q "Offline responder" "$tmp/native/report.html"
python3 - "$tmp" prompts <<'PY'
import json, sys
tmp, prompts = sys.argv[1:]
def reqs(name):
    return [json.loads(l) for l in open(f"{tmp}/{name}.requests")]
def text(name):
    return open(f"{prompts}/{name}.txt").read()
for name in ("native", "text", "auto"):
    s = json.load(open(f"{tmp}/{name}/summary.json"))
    assert all(m["errors"] == 0 and m["n"] == 4 for m in s["methods"]), (name, s)
native = reqs("native")
assert all(r["auth"] for r in native), "the key did not reach the server"
bodies = [r["body"] for r in native if r["path"].endswith("/chat/completions")]
users = [m["content"] for b in bodies for m in b["messages"] if m["role"] == "user"]
# Appendix A prompts, verbatim apart from the filled slots
fb = text("feedback").split("{{question}}")[0]
up = text("update").split("{{persona}}")[0]
assert any(u.startswith(fb) for u in users), "no feedback prompt"
assert any(u.startswith(up) for u in users), "no update prompt"
# the persona is the system message of PersonaAgent's agent calls, and the
# tools carry the Appendix C descriptions verbatim
init = text("persona_init").split("{{summary}}")[0]
agent = [b for b in bodies if b.get("tools")]
assert agent, "no native tool calls"
sys_msgs = [b["messages"][0] for b in agent]
assert all(m["role"] == "system" for m in sys_msgs)
assert any(m["content"].startswith(init) for m in sys_msgs)
assert any(m["content"].startswith("You are a helpful assistant for this user") for m in sys_msgs), \
    "the aligned persona was never used"
descs = {t["function"]["name"]: t["function"]["description"] for b in agent for t in b["tools"]}
assert descs["memory_search"] == text("tool_memory").rstrip("\n") or \
    descs["memory_search"] == text("tool_memory"), descs["memory_search"]
assert any(m["role"] == "tool" for b in agent for m in b["messages"]), "no tool results sent"
# the text protocol: instructions in the system message, no native tools
tb = [r["body"] for r in reqs("text") if r["path"].endswith("/chat/completions")]
assert not any(b.get("tools") for b in tb)
assert any("Action Input:" in (b["messages"][0].get("content") or "") for b in tb)
assert any(any((m.get("content") or "").startswith("Observation:") for m in b["messages"])
           for b in tb)
# automatic fallback: tools refused once, then the text protocol
r = json.load(open(f"{tmp}/auto/run.json"))
assert r["llm"]["text_fallback"] is True, r["llm"]
ab = [r["body"] for r in reqs("auto")]
assert any(b.get("tools") for b in ab) and any("Action Input:" in
    (b["messages"][0].get("content") or "") for b in ab if b["messages"])
PY

# a server failing 20% of requests: every query is answered or reported as an
# error, errors are counted, and the exit status says so
rc=0
run flaky /c/agent,fail=0.2/v1 --method prompt,rag --users 10 --max-queries 3 --retries 0 \
    --cache off || rc=$?
python3 - "$tmp/flaky" "$rc" <<'PY'
import json, sys
run, rc = sys.argv[1], int(sys.argv[2])
preds = [json.loads(l) for l in open(run + "/predictions.jsonl")]
assert len(preds) == 2 * 30, len(preds)
errors = [p for p in preds if p["error"] is not None]
assert all((p["error"] is None) == (p["pred"] is not None) for p in preds)
s = json.load(open(run + "/summary.json"))
assert sum(m["errors"] for m in s["methods"]) == len(errors)
assert sum(m["n"] for m in s["methods"]) == len(preds) - len(errors)
assert (rc == 4) == (len(errors) > 0), (rc, len(errors))
assert errors, "a 20% failure rate produced no error in 60 requests"
PY

# episodic memory from an /embeddings endpoint (--embed http); the server's
# vectors are [len(text), 1, 0, 2], so the runs must complete and record it
"$BIN" --task lamp2m --method knn,rag --users 2 --max-queries 2 --embed http \
    --embed-endpoint "$base/v1" --embed-model emb-model --endpoint "$base/c/agent/v1" \
    --model test-model --cache-dir "$tmp/cache" -q --bootstrap 0 --out "$tmp/embed" \
    2> "$tmp/embed.err"
python3 - "$tmp/embed" "$tmp/requests.jsonl" <<'PY'
import json, sys
run, log = sys.argv[1:]
r = json.load(open(run + "/run.json"))
assert r["config"]["embed"] == "http" and r["config"]["embed_model"] == "emb-model", r["config"]
assert all(p["error"] is None for p in map(json.loads, open(run + "/predictions.jsonl")))
emb = [json.loads(l) for l in open(log) if '"/v1/embeddings"' in l]
assert emb and all(e["body"]["model"] == "emb-model" for e in emb), len(emb)
PY
# an endpoint that refuses every request (no key) stops the run at once: exit 69
rc=0
env -u OPENAI_API_KEY "$BIN" --task lamp2m --method prompt --users 5 \
    --endpoint "$base/c/requireauth/v1" --model test-model --cache off -q --bootstrap 0 \
    --out "$tmp/refused" 2> "$tmp/refused.err" || rc=$?
[ "$rc" -eq 69 ] || { echo "expected exit 69, got $rc"; cat "$tmp/refused.err"; exit 1; }
grep -q "401" "$tmp/refused.err"
[ "$(wc -l < "$tmp/refused.err")" -le 3 ]
# knn needs no endpoint even when none is configured
env -u OPENAI_API_KEY "$BIN" --task lamp2m --method knn --users 2 --out "$tmp/knn" -q \
    --bootstrap 0 2> "$tmp/knn.err"
! grep -q "offline responder" "$tmp/knn.err"
# the planted key is in no file written: run directories, cache, logs
if grep -r -l -F "$key" "$tmp" >/dev/null; then
    echo "the API key was written to disk:"; grep -r -l -F "$key" "$tmp"; exit 1
fi
[ -d "$tmp/cache" ] && [ -n "$(ls -A "$tmp/cache")" ]
echo ok
