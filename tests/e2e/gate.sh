#!/bin/sh
# report --baseline, the CI gate, on run directories crafted from one offline
# run: each dishonest comparison exits with its documented code naming the
# reason, and the override flags let deliberate comparisons through. Also: the
# comparison table labels runs by the shortest unique end of their paths and
# says who answered.
set -u
BIN=${PE_BIN:-./persona-eval}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pe-gate-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail=0

"$BIN" run --task lamp2m --method knn,majority,user-majority --llm offline --cache off -q \
    --bootstrap 50 --out "$TMP/base" >/dev/null 2>&1 || { echo "FAIL: base run"; exit 1; }

# craft NAME PYTHON: copy base to NAME, then edit it (p: the predictions list,
# s: summary.json, r: run.json; all written back)
craft() {
    rm -rf "$TMP/$1"
    cp -r "$TMP/base" "$TMP/$1"
    python3 - "$TMP/$1" "$2" <<'PY'
import json, sys
d, code = sys.argv[1], sys.argv[2]
p = [json.loads(l) for l in open(d + "/predictions.jsonl")]
s = json.load(open(d + "/summary.json"))
r = json.load(open(d + "/run.json"))
exec(code)
with open(d + "/predictions.jsonl", "w") as f:
    for x in p:
        f.write(json.dumps(x) + "\n")
json.dump(s, open(d + "/summary.json", "w"))
json.dump(r, open(d + "/run.json", "w"))
PY
}

expect() { # name, exit code, text that stderr (or stdout) must contain, args...
    name=$1 want=$2 text=$3
    shift 3
    "$BIN" report "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ "$rc" -ne "$want" ] || ! cat "$TMP/out" "$TMP/err" | grep -qF -- "$text"; then
        echo "FAIL $name: rc=$rc (want $want), output lacks \"$text\":"
        sed 's/^/  /' "$TMP/out" "$TMP/err"
        fail=1
    fi
}

craft same 'pass'
expect same 0 "gate: pass" --baseline "$TMP/base" "$TMP/same"

# interrupted after 66 of the queries
craft cut 'p[:] = p[:66]; s["incomplete"] = True; r["incomplete"] = True'
expect incomplete 5 "NEW ($TMP/cut) is incomplete" --baseline "$TMP/base" "$TMP/cut"

# 45 queries errored; then 6 errored of one method while its survivors are right
craft errored 'for x in p[:45]: x.update(error="HTTP 500", pred=None, raw=None)'
expect errored 6 "has 45 errored queries and 0 preparation errors" \
    --baseline "$TMP/base" "$TMP/errored"
craft survivors '
k = [x for x in p if x["method"] == "knn"]
for x in k[:6]: x.update(error="HTTP 500", pred=None, raw=None)
for x in k[6:]: x["pred"] = x["gold"]'
expect survivors 6 "has 6 errored queries" --baseline "$TMP/base" "$TMP/survivors"
expect survivors-allowed 0 "errored in either run: not compared" --allow-errors \
    --baseline "$TMP/base" "$TMP/survivors"

# preparation errors reported by the run count as errors
craft prep 's["methods"][0]["prep_errors"] = 2'
expect prep 6 "0 errored queries and 2 preparation errors" --baseline "$TMP/base" "$TMP/prep"

# a 3-user subset: different queries, even though the answers are the same
craft subset '
keep = sorted({x["user"] for x in p})[:3]
p[:] = [x for x in p if x["user"] in keep]'
expect subset 7 "the runs cover different queries" --baseline "$TMP/base" "$TMP/subset"
expect subset-allowed 0 "gate: pass" --allow-different-queries --baseline "$TMP/base" \
    "$TMP/subset"

# other data, other settings; the model alone may differ
craft data 'r["config"]["data_sha256"] = ["00" * 32]'
expect data 7 "the data differ (SHA-256)" --baseline "$TMP/base" "$TMP/data"
expect data-allowed 0 "gate: pass" --allow-data --baseline "$TMP/base" "$TMP/data"
craft settings 'r["config"]["k"] = 8'
expect settings 7 "result-changing settings differ: k: 4 -> 8" --baseline "$TMP/base" \
    "$TMP/settings"
expect settings-allowed 0 "gate: pass" --allow-settings --baseline "$TMP/base" "$TMP/settings"
craft model 'r["config"]["model"] = "other-model"; r["config"]["endpoint"] = "http://x"'
expect model 0 "gate: pass" --baseline "$TMP/base" "$TMP/model"
craft task 's["task"] = "lamp2n"'
expect task 7 "the tasks differ: BASE lamp2m, NEW lamp2n" --allow-settings \
    --baseline "$TMP/base" "$TMP/task"

# a drop: 40 of knn's right answers become wrong. The paired difference is
# -40/n_knn exactly (computed here); one changed answer is not significant.
craft drop '
k = [x for x in p if x["method"] == "knn" and x["pred"] == x["gold"]]
for x in k[:40]: x["pred"] = "not a tag"'
n=$(python3 -c "
import json
p = [json.loads(l) for l in open('$TMP/base/predictions.jsonl')]
print(sum(1 for x in p if x['method'] == 'knn'))")
dwant=$(python3 -c "print('%+.4f' % (-40 / $n))")
expect drop 3 "| knn | accuracy | $n | " --baseline "$TMP/base" "$TMP/drop"
grep -qF -- "| $dwant [" "$TMP/out" || { echo "FAIL drop: no difference $dwant"; fail=1; }
grep -qF "knn: accuracy is worse" "$TMP/err" || { echo "FAIL drop: reason"; fail=1; }
expect drop-tolerated 0 "gate: pass" --tolerance 0.5 --baseline "$TMP/base" "$TMP/drop"
craft one 'k = [x for x in p if x["method"] == "knn" and x["pred"] == x["gold"]]
k[0]["pred"] = "not a tag"'
expect one-answer 0 "lower, not significant" --baseline "$TMP/base" "$TMP/one"

mkdir -p "$TMP/a" "$TMP/b"
cp -r "$TMP/base" "$TMP/a/latest"
cp -r "$TMP/base" "$TMP/b/latest"
"$BIN" report "$TMP/a/latest" "$TMP/b/latest/" > "$TMP/out" 2>&1
grep -qF "| a/latest | knn |" "$TMP/out" && grep -qF "| b/latest | knn |" "$TMP/out" &&
    grep -qF -- "- b/latest: $TMP/b/latest, no model recorded" "$TMP/out" ||
    { echo "FAIL labels:"; cat "$TMP/out"; fail=1; }
exit $fail
