#!/bin/sh
# The HTML report: a real run writes report.html, `report --html` writes the
# comparison page, and headless Chromium renders both: the screenshot is not
# blank and has coloured chart marks, and the table cells in the rendered DOM
# hold summary.json's numbers. Chromium is required (scripts/install-deps.sh
# installs it): without it this test fails rather than skipping.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$(dirname "$0")/chromium.inc"

"$BIN" --task lamp2m --method majority,user-majority --out "$tmp/run" --bootstrap 200 -q
"$BIN" --task lamp3 --method majority,user-majority --out "$tmp/lamp3" --bootstrap 200 -q
[ -s "$tmp/run/report.html" ] || { echo "no report.html"; exit 1; }
[ -s "$tmp/lamp3/report.html" ] || { echo "no report.html for lamp3"; exit 1; }

"$BIN" report --html "$tmp/compare.html" "$tmp/run" "$tmp/lamp3" > "$tmp/report.out" \
    2> "$tmp/report.err"
[ ! -s "$tmp/report.out" ] || { echo "report --html printed to stdout"; exit 1; }
grep -qx "wrote $tmp/compare.html" "$tmp/report.err"

chrome --screenshot="$tmp/shot.png" --window-size=1200,1600 "file://$tmp/run/report.html" \
    > /dev/null || { tail -n 20 "$tmp/chromium.log"; exit 1; }
chrome --dump-dom "file://$tmp/run/report.html" > "$tmp/run.dom" ||
    { tail -n 20 "$tmp/chromium.log"; exit 1; }
chrome --dump-dom "file://$tmp/compare.html" > "$tmp/compare.dom" ||
    { tail -n 20 "$tmp/chromium.log"; exit 1; }

python3 - "$tmp" <<'PY'
import json, struct, sys, zlib
from html.parser import HTMLParser

tmp = sys.argv[1]

def pixels(path):
    """Count non-white and strongly coloured pixels of an 8-bit RGB(A) PNG."""
    d = open(path, "rb").read()
    assert d[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(d):
        n, = struct.unpack(">I", d[pos:pos + 4])
        typ, body = d[pos + 4:pos + 8], d[pos + 8:pos + 8 + n]
        pos += 12 + n
        if typ == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif typ == b"IDAT":
            idat += body
    assert depth == 8 and ctype in (2, 6), (depth, ctype)
    raw, bpp = zlib.decompress(idat), 3 if ctype == 2 else 4
    stride = w * bpp
    prev, nonwhite, colour = bytearray(stride), 0, 0
    for y in range(h):
        off = y * (stride + 1)
        f, line = raw[off], bytearray(raw[off + 1:off + 1 + stride])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + (left + prev[i]) // 2) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        for x in range(0, stride, bpp):
            r, g, b = line[x], line[x + 1], line[x + 2]
            if min(r, g, b) < 235:
                nonwhite += 1
                if max(r, g, b) - min(r, g, b) > 60:
                    colour += 1
        prev = line
    return w * h, nonwhite, colour

total, nonwhite, colour = pixels(tmp + "/shot.png")
# text, table rules and charts: a blank or unstyled render has (almost) none of these
assert nonwhite > total * 0.02, ("screenshot looks blank", nonwhite, total)
assert colour > 1000, ("no coloured chart marks in the screenshot", colour)

class Tables(HTMLParser):
    """Rows of cell texts of every table with an id, as the browser built them."""
    def __init__(self):
        super().__init__()
        self.tables, self.cur, self.row, self.cell = {}, None, None, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self.cur = self.tables.setdefault(a["id"], [])
        elif tag == "tr" and self.cur is not None:
            self.row = []
            self.cur.append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "table":
            self.cur = self.row = None
    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)

def parse(path):
    p = Tables()
    p.feed(open(path, encoding="utf-8").read())
    return p.tables

def expected_row(m, names):
    row = [m["method"], str(m["n"]), str(m["users"])]
    for k in names:
        row.append("%.3f" % m[k])
        lo, hi = m["ci"][k]
        row.append("[%.3f, %.3f]" % (lo, hi))
    return row + [str(m["invalid"]), str(m["errors"])]

def check(tables, table_id, summary, run_label=None):
    s = json.load(open(summary))
    names = ["MAE", "RMSE"] if s["task"] == "lamp3" else ["accuracy", "f1"]
    rows = [r for r in tables[table_id][1:] if r]
    if run_label is not None:
        rows = [r[1:] for r in rows if r[0] == run_label]
    want = [expected_row(m, names) for m in s["methods"]]
    assert rows == want, (table_id, rows, want)

run = parse(tmp + "/run.dom")
check(run, "summary-table", tmp + "/run/summary.json")
stats = json.load(open(tmp + "/run/run.json"))["stats"]
total = [r for r in run["cost-table"] if r and r[0].startswith("total")][0]
assert total[1] == "{:,}".format(stats["calls"]), (total, stats)
dom = open(tmp + "/run.dom", encoding="utf-8").read()
for f in ("predictions.jsonl", "users.csv", "summary.json", "run.json"):
    assert 'href="%s"' % f in dom, f
assert dom.count("<svg") >= 3, "charts missing"

cmp = parse(tmp + "/compare.dom")
check(cmp, "summary-lamp2m", tmp + "/run/summary.json", "run")
check(cmp, "summary-lamp3", tmp + "/lamp3/summary.json", "lamp3")
PY
echo ok
