#!/bin/sh
# The run against the hostile modes of the loopback server (docs/robustness.md):
# a server echoing the key, headers and URL userinfo in its 401s; a tool-call
# flood at -j 8 (peak RSS measured with getrusage of the child); a
# context-length 400 for one user; malformed 200s; invalid UTF-8; absurd usage;
# a slow start.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"; }
trap cleanup EXIT

# shellcheck source=tests/e2e/loopback.inc
. tests/e2e/loopback.inc
lb_start
host="127.0.0.1:$port"
key="sk-plantedkey$(date +%s)x"
hdr="hdrsecret$(date +%s)y"
pw="pwsecret$(date +%s)z"
export OPENAI_API_KEY="$key"
export OPENAI_MODEL=test-model

run() { # name, controls, extra args...; prints the exit code
    name=$1 ctl=$2
    shift 2
    set +e
    "$BIN" --task lamp2m --endpoint "http://$host/c/$ctl/v1" --cache-dir "$tmp/cache" \
        --bootstrap 0 --out "$tmp/$name" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"
    echo $?
    set -e
}
fail() { echo "hostile.sh: $*" >&2; exit 1; }

# 1. echo401: the key (environment), a header and URL userinfo (environment) are
# echoed by the server; none of them may reach a file or an output line.
set +e
OPENAI_BASE_URL="http://alice:$pw@$host/c/echo401/v1" "$BIN" --task lamp2m --users 2 \
    --max-queries 2 --method rag --header "X-Secret: $hdr" --cache-dir "$tmp/cache" -vv \
    --retries 0 --out "$tmp/echo" > "$tmp/echo.out" 2> "$tmp/echo.err"
rc=$?
set -e
[ "$rc" = 69 ] || fail "echo401: exit $rc, expected 69"
grep -q "invalid credentials" "$tmp/echo.err" || fail "echo401: the server's message is missing"
for s in "$key" "$hdr" "$pw"; do
    if grep -rl -- "$s" "$tmp/echo" "$tmp/echo.out" "$tmp/echo.err" "$tmp/cache" 2>/dev/null; then
        fail "echo401: a planted secret leaked"
    fi
done

# The same secrets in successful runs: -v, then replayed from the cache, then resumed.
for pass in first cached; do
    OPENAI_BASE_URL="http://alice:$pw@$host/c/agent/v1" "$BIN" --task lamp2m --users 2 \
        --max-queries 2 --method personaagent,rag --header "X-Secret: $hdr" -v \
        --cache-dir "$tmp/cache" --bootstrap 0 --out "$tmp/ok_$pass" > "$tmp/ok_$pass.out" \
        2> "$tmp/ok_$pass.err" || fail "secrets: the $pass run failed"
done
OPENAI_BASE_URL="http://alice:$pw@$host/c/agent/v1" "$BIN" --resume "$tmp/ok_first" \
    --task lamp2m --users 2 --max-queries 2 --method personaagent,rag \
    --header "X-Secret: $hdr" -v --cache-dir "$tmp/cache" --bootstrap 0 \
    > "$tmp/ok_resume.out" 2> "$tmp/ok_resume.err" || fail "secrets: the resumed run failed"
grep -q '"hits": [1-9]' "$tmp/ok_cached/run.json" || fail "secrets: the second run used no cache"
for s in "$key" "$hdr" "$pw"; do
    if grep -rl -- "$s" "$tmp"/ok_* "$tmp/cache" 2>/dev/null; then
        fail "a planted secret leaked from a successful, cached or resumed run"
    fi
done

# 2. flood: 50,000 tool calls (5 MB) in every tool-calling answer, 8 queries at once.
python3 - "$BIN" "$host" "$tmp" <<'PY' || fail "flood"
import json, resource, subprocess, sys
bin, host, tmp = sys.argv[1:]
rc = subprocess.run([bin, "--task", "lamp2m", "--users", "8", "--max-queries", "1", "-j", "8",
                     "--endpoint", "http://%s/c/agent,flood=50000/v1" % host,
                     "--method", "personaagent-nopersona", "--tools", "native", "--max-steps", "2",
                     "--cache", "off", "--bootstrap", "0", "-q", "--out", tmp + "/flood"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
# AddressSanitizer's shadow memory and quarantine inflate RSS several times over:
# the 150 MB bound holds for the plain build (make check), a loose one under make asan.
asan = b"libasan" in subprocess.run(["ldd", bin], capture_output=True).stdout
bound = 600 if asan else 150
print("flood: exit %d, peak RSS %.1f MB (bound %d MB)" % (rc, rss_mb, bound))
assert rc == 0, rc
assert rss_mb < bound, rss_mb
preds = [json.loads(l) for l in open(tmp + "/flood/predictions.jsonl")]
assert len(preds) == 8 and all(p["error"] is None for p in preds), preds
for line in open(tmp + "/flood/traces.jsonl"):
    assert len(line) < 300 * 1024, len(line)
    t = json.loads(line)
    dropped = [s.get("tool_calls_dropped") for s in t["steps"] if "tool_calls_dropped" in s]
    assert dropped and all(d == 50000 - 8 for d in dropped), dropped
PY

# 3. a context-length 400 for one user's query: that query errs, the others run native.
u0=u001
word=$(python3 - <<'PY'
import json, urllib.parse
# u001's first query description appears in no other text of the sample
u = json.loads(open("data/sample/lamp2m.jsonl").readline())
print(urllib.parse.quote(u["queries"][0]["input"].split("description: ", 1)[1], safe=""))
PY
)
rc=$(run ctx "agent,context400=$word" --user "$u0" --user u002 --user u003 --max-queries 1 -j 4 \
     --method personaagent-nopersona --cache off -q)
[ "$rc" = 4 ] || fail "context400: exit $rc, expected 4 (one query errored)"
python3 - "$tmp/ctx" "$u0" <<'PY' || fail "context400"
import json, sys
d, u0 = sys.argv[1:]
preds = [json.loads(l) for l in open(d + "/predictions.jsonl")]
bad = [p for p in preds if p["error"]]
assert len(bad) == 1 and bad[0]["user"] == u0, bad
assert "maximum context length" in bad[0]["error"], bad[0]["error"]
assert len(preds) > 1 and all(p["error"] is None for p in preds if p["user"] != u0), preds
for line in open(d + "/traces.jsonl"):
    t = json.loads(line)
    assert all(s.get("mode", "native") == "native" for s in t["steps"]), t
assert json.load(open(d + "/run.json"))["llm"]["text_fallback"] is False
PY

# 4. malformed 200s: errors (retried, then counted), never scored.
for kind in contentnull contentnum choicesobj choicesempty nul; do
    rc=$(run "m_$kind" "agent,malformed=$kind" --users 2 --max-queries 1 --method rag \
         --retries 1 --cache off -q)
    [ "$rc" = 4 ] || fail "malformed=$kind: exit $rc, expected 4"
    python3 - "$tmp/m_$kind" <<'PY' || fail "malformed=$kind"
import json, sys
preds = [json.loads(l) for l in open(sys.argv[1] + "/predictions.jsonl")]
assert preds and all(p["error"] and "invalid response" in p["error"] for p in preds), preds
assert all(p["pred"] is None for p in preds), preds
PY
done

# 5. invalid UTF-8 is replaced (the files stay valid UTF-8); absurd usage is unknown.
rc=$(run utf8 "agent,malformed=badutf8" --users 2 --max-queries 1 --method rag --cache off -q)
[ "$rc" = 0 ] || fail "badutf8: exit $rc"
rc=$(run usage "agent,malformed=usagehuge" --users 2 --max-queries 1 --method rag --cache off -q)
[ "$rc" = 0 ] || fail "usagehuge: exit $rc"
python3 - "$tmp" <<'PY' || fail "badutf8/usagehuge"
import json, sys
tmp = sys.argv[1]
for name in ("utf8", "usage"):
    for f in ("predictions.jsonl", "traces.jsonl", "summary.json", "summary.csv", "users.csv"):
        open("%s/%s/%s" % (tmp, name, f), encoding="utf-8", errors="strict").read()
preds = [json.loads(l) for l in open(tmp + "/utf8/predictions.jsonl")]
assert all("\ufffd" in p["raw"] for p in preds), preds
preds = [json.loads(l) for l in open(tmp + "/usage/predictions.jsonl")]
assert all(p["prompt_tokens"] is None for p in preds), preds
text = open(tmp + "/usage/summary.json").read() + open(tmp + "/usage/users.csv").read()
assert "e+300" not in text and "18446744" not in text and "Infinity" not in text
PY

# 6. a slow start: the first requests time out without a byte; retried, not exit 69.
rc=$(run slow "agent,slowstart=3,hang=4" --users 2 --max-queries 2 --method rag -j 1 \
     --timeout 1 --retries 3 --cache off -q)
[ "$rc" = 0 ] || fail "slowstart: exit $rc, expected 0"
echo ok
