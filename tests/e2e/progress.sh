#!/bin/sh
# Progress from the first call, against the loopback server answering each
# call after 0.25 s, PersonaAgent on 2 users of the sample (preparation: the
# summary, alignment replays, feedback and updates take seconds before the
# first query is answered):
#  - the status line (--progress always) is drawn while loading, shows phase
#    "preparing" with calls counted before any query is answered, and its last
#    line counts what was done: the requests the server received (counted in
#    its own log), run.json's calls, the tokens and the cost they make;
#  - log lines (--progress-interval 0.3, not a terminal) come while no query
#    finishes, and the last one counts each replica's requests as the server
#    saw them;
#  - a rerun from the cache sends nothing and shows every call as cached.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
. tests/e2e/loopback.inc
lb_start --log "$tmp/requests.jsonl"
base="http://127.0.0.1:$port"
slow="$base/c/agent,latency=0.25/v1"

run() { # name, extra args...: stderr in $tmp/NAME.err, the server's log in $tmp/NAME.requests
    name=$1
    shift
    : > "$tmp/requests.jsonl"
    "$BIN" run --task lamp2m --method personaagent --users 2 --max-queries 2 --model test-model \
        --cache-dir "$tmp/cache" --bootstrap 20 --retries 0 -j 2 -q --out "$tmp/$name" "$@" \
        2> "$tmp/$name.err" > /dev/null
    cp "$tmp/requests.jsonl" "$tmp/$name.requests"
}

run line --endpoint "$slow" --progress always --price-in 3 --price-out 15
run log --endpoint "$slow" --endpoint "$base/c/latency=0.25,agent/v1" --progress auto \
    --progress-interval 0.3 --cache off
run replay --endpoint "$slow" --progress always --price-in 3 --price-out 15

python3 - "$tmp" <<'PY'
import json, re, sys

tmp = sys.argv[1]
LINE = re.compile(r"^persona-eval: (loading|preparing|answering|summarizing|done|stopped)  ")


def progress_lines(name):
    """The progress lines of a run's stderr, a redrawn line split at \\r."""
    text = open(f"{tmp}/{name}.err").read()
    out = []
    for part in re.split(r"[\r\n]", text):
        part = part.replace("\033[K", "")
        if LINE.match(part):
            out.append(part)
    assert out, (name, text)
    return out


def field(line, pattern):
    m = re.search(pattern, line)
    assert m, (pattern, line)
    return m.group(1)


def posts(name):
    reqs = [json.loads(l) for l in open(f"{tmp}/{name}.requests")]
    return [r for r in reqs if r["method"] == "POST"]


def phase(line):
    return LINE.match(line).group(1)


def calls(line):
    return int(field(line, r"  calls (\d+) "))


# the status line: drawn from the start, preparing before any query is answered
lines = progress_lines("line")
assert phase(lines[0]) == "loading", lines[0]
prep = [l for l in lines if phase(l) == "preparing"]
assert prep, lines
assert all(" queries 0/4 " in l for l in prep), prep
assert any(calls(l) > 0 for l in prep), prep
# counts only grow
counted = [calls(l) for l in lines if "  calls " in l]
assert counted == sorted(counted), counted
last = lines[-1]
assert phase(last) == "done" and " users 2/2 " in last and " queries 4/4 " in last, last
run = json.load(open(f"{tmp}/line/run.json"))
tot = run["llm"]["totals"]
sent = len(posts("line"))
cached = int(field(last, r"\((\d+) cached") if " cached" in last else 0)
assert sent > 12 and calls(last) == sent + cached == tot["calls"], (last, sent, tot)
# each reply reports 11 + 7 tokens; $3 and $15 per million: $0.000138 a call
assert int(field(last, r"  tokens (\d+)")) == 18 * calls(last), last
assert field(last, r"  cost \$([0-9.]+)") == "%.4f" % (calls(last) * 0.000138), last
assert " errors 0  " in last, last

# log lines: while preparing too; the last counts each replica's requests
lines = progress_lines("log")
assert len(lines) >= 3 and not any("\r" in l for l in lines), lines
assert any(phase(l) == "preparing" and calls(l) > 0 for l in lines), lines
last = lines[-1]
reqs = posts("log")
a = sum(1 for r in reqs if r["path"].startswith("/c/agent,latency"))
b = sum(1 for r in reqs if r["path"].startswith("/c/latency=0.25,agent"))
assert a > 0 and b > 0 and a + b == len(reqs), (a, b, len(reqs))
assert phase(last) == "done" and calls(last) == len(reqs), (last, len(reqs))
assert "cached" not in last, last
assert field(last, r"  endpoints (\d+ \| \d+)$") == "%d | %d" % (a, b), (last, a, b)
assert json.load(open(f"{tmp}/log/run.json"))["llm"]["totals"]["calls"] == len(reqs)

# from the cache: nothing sent, every call cached
last = progress_lines("replay")[-1]
assert not posts("replay"), posts("replay")[:1]
n = calls(last)
assert n == tot["calls"] and field(last, r"\((\d+) cached") == str(n), (last, tot)
PY
echo "progress: ok"
