#!/bin/sh
# report.html in a real browser: a run on the sample is rendered by headless
# Chromium; the DOM it builds has one row per user, the users' queries and a
# persona text from personas.jsonl, a link to a user opens their details (the
# page's script ran), chart labels carry full method names, and the
# screenshot is a non-empty PNG. A sweep folder gets its own page. Chromium is
# required (scripts/install-deps.sh installs it): without it this test fails.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$(dirname "$0")/chromium.inc"

"$BIN" --task lamp2m --method personaagent,personaagent-nopersona,rag,knn --llm offline \
    --cache off --bootstrap 100 -q --out "$tmp/run" > /dev/null 2>&1
[ -s "$tmp/run/report.html" ] || { echo "no report.html"; exit 1; }

chrome --screenshot="$tmp/shot.png" --window-size=1200,1600 "file://$tmp/run/report.html" \
    > /dev/null
chrome --dump-dom "file://$tmp/run/report.html" > "$tmp/run.dom"
chrome --dump-dom "file://$tmp/run/report.html#user-0" > "$tmp/user0.dom"

"$BIN" --task lamp2m --sweep k=1,4 --method knn,rag --users 3 --max-queries 2 \
    --out "$tmp/sweep" --bootstrap 0 > /dev/null 2>&1
"$BIN" report --html "$tmp/sweep.html" "$tmp/sweep" 2> "$tmp/sweep.err" ||
    { cat "$tmp/sweep.err"; echo "report --html refused the sweep folder"; exit 1; }
chrome --dump-dom "file://$tmp/sweep.html" > "$tmp/sweep.dom"

python3 - "$tmp" <<'PY'
import csv, json, sys
from html.parser import HTMLParser

tmp = sys.argv[1]
png = open(tmp + "/shot.png", "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000, ("screenshot", len(png))

class Dom(HTMLParser):
    """User rows, open details, label texts and all text, as the browser built them."""
    def __init__(self):
        super().__init__()
        self.users, self.open_details, self.text = [], [], []
        self.labels, self.in_label, self.stack = [], None, []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and a.get("class") == "user":
            self.users.append(a.get("data-user"))
        if tag == "details" and "open" in a:
            self.open_details.append(a.get("id"))
        if tag == "text" and a.get("text-anchor") == "end":
            self.in_label = []
    def handle_endtag(self, tag):
        if tag == "text" and self.in_label is not None:
            self.labels.append("".join(self.in_label))
            self.in_label = None
    def handle_data(self, data):
        self.text.append(data)
        if self.in_label is not None:
            self.in_label.append(data)

def parse(path):
    d = Dom()
    d.feed(open(path, encoding="utf-8").read())
    d.all = " ".join(" ".join(d.text).split())
    return d

run = parse(tmp + "/run.dom")
users = sorted({r["user"] for r in csv.DictReader(open(tmp + "/run/users.csv"))})
assert sorted(run.users) == users, (run.users, users)
assert len(users) >= 10, users

# a final persona of personaagent and a query input, word for word
first = None
for line in open(tmp + "/run/personas.jsonl"):
    p = json.loads(line)
    if p["method"] == "personaagent" and p["final"] and p["user"] == run.users[0]:
        first = p
assert first, "no personaagent persona for " + run.users[0]
assert " ".join(first["final"].split()) in run.all, "persona text missing"
for line in open("data/sample/lamp2m.jsonl"):
    u = json.loads(line)
    if u["user"] == run.users[0]:
        q = u["queries"][0]["input"]
        assert " ".join(q.split()) in run.all, "query input missing"
        break
else:
    raise AssertionError("user not in the sample")
assert "Alignment iteration 1" in run.all
assert "memory_search(" in run.all, "no agent trace"
assert "Persona similarity" in run.all and "mean pairwise Jaccard" in run.all

# full method names: the chart labels, their wrapped lines joined, are the names
for m in ("personaagent-nopersona", "personaagent", "rag", "knn"):
    assert m in run.labels, (m, run.labels)
assert not [l for l in run.labels if l.startswith("ersona")], run.labels

assert run.open_details == [], run.open_details
assert parse(tmp + "/user0.dom").open_details == ["user-0"], "the link did not open user-0"

sweep = open(tmp + "/sweep.dom", encoding="utf-8").read()
assert sweep.count('class="sweep"') == 2, "sweep charts missing"
assert 'id="sweep-runs"' in sweep and 'href="k%3D4/report.html"' in sweep
PY
echo ok
