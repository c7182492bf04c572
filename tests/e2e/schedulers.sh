#!/bin/sh
# The scheduler examples: shell syntax, shellcheck, the shape of
# the Kubernetes manifest, and the shard index taken from SLURM_ARRAY_TASK_ID
# (minus SLURM_ARRAY_TASK_MIN) and JOB_COMPLETION_INDEX.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bash -n scripts/slurm-array.sh
for s in tests/e2e/resume.sh tests/e2e/shard.sh tests/e2e/schedulers.sh; do sh -n "$s"; done
command -v shellcheck > /dev/null 2>&1 ||
    { echo "schedulers: shellcheck is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
shellcheck scripts/slurm-array.sh tests/e2e/resume.sh tests/e2e/shard.sh tests/e2e/schedulers.sh
# the one-liner in docs/scale.md parses
sed -n 's/^    \(parallel .*\)$/\1/p' docs/scale.md > "$tmp/oneliner.sh"
[ -s "$tmp/oneliner.sh" ] && bash -n "$tmp/oneliner.sh"

# a light structural check of the manifest (no YAML module in the stdlib)
python3 - scripts/k8s-indexed-job.yaml <<'PY'
import re, sys
text = open(sys.argv[1]).read()
assert "\t" not in text, "tabs in YAML"
def top(key):
    m = re.search(r"^%s:\s*(\S.*)$" % key, text, re.M)
    return m.group(1).strip() if m else None
assert top("apiVersion") == "batch/v1", top("apiVersion")
assert top("kind") == "Job"
def val(key):
    m = re.search(r"^\s+%s:\s*(\S.*)$" % key, text, re.M)
    assert m, key + " missing"
    return m.group(1).strip()
assert val("completionMode") == "Indexed"
n = int(val("completions"))
assert int(val("parallelism")) >= 1
assert val("restartPolicy") in ("Never", "OnFailure")
shards = re.findall(r"--shards (\d+)", text)
assert shards and all(int(s) == n for s in shards), (shards, n)
assert "--shard auto" in text and "$JOB_COMPLETION_INDEX" in text
# indentation: every non-comment line indents by a multiple of two
for i, line in enumerate(text.splitlines(), 1):
    if line.strip() and not line.lstrip().startswith("#"):
        ind = len(line) - len(line.lstrip(" "))
        assert ind % 2 == 0, "line %d: odd indentation" % i
PY

A="--task lamp3 --method majority --max-queries 1 --bootstrap 0 -q"
shard_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["shard"])' "$1"; }
# shellcheck disable=SC2086
SLURM_ARRAY_TASK_ID=2 "$BIN" $A --shard auto --shards 4 --out "$tmp/slurm"
[ "$(shard_of "$tmp/slurm/run.json")" = "{'index': 2, 'count': 4}" ]
# shellcheck disable=SC2086
SLURM_ARRAY_TASK_ID=7 SLURM_ARRAY_TASK_MIN=5 "$BIN" $A --shard auto --shards 4 --out "$tmp/min"
[ "$(shard_of "$tmp/min/run.json")" = "{'index': 2, 'count': 4}" ]
# shellcheck disable=SC2086
JOB_COMPLETION_INDEX=3 "$BIN" $A --shard auto --shards 4 --out "$tmp/k8s"
[ "$(shard_of "$tmp/k8s/run.json")" = "{'index': 3, 'count': 4}" ]
# the split follows the ids: shard 3 of 4 by hand (64-bit FNV-1a, seed 0, then
# murmur3's fmix64 finalizer, as pe_hash64)
python3 - "$tmp/k8s/run.json" data/sample/lamp3.jsonl <<'PY'
import json, sys
def fnv(s, h=0xcbf29ce484222325):
    for b in s.encode():
        h = ((h ^ b) * 0x100000001b3) & M
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & M
    h ^= h >> 33
    h = (h * 0xc4ceb9fe1a85ec53) & M
    return h ^ (h >> 33)
M = 0xFFFFFFFFFFFFFFFF
run = json.load(open(sys.argv[1]))
ids = [json.loads(l)["user"] for l in open(sys.argv[2])]
want = [u for u in ids if fnv(u) % 4 == 3]
assert run["users"] == want, (run["users"], want)
assert run["users_total"] == len(ids)
PY
fail() { # fail PATTERN env...: exit 2 naming the problem, nothing written
    pat=$1; shift
    rc=0
    # shellcheck disable=SC2086
    env "$@" "$BIN" $A --shard auto --shards 4 --out "$tmp/bad" 2> "$tmp/err" || rc=$?
    [ "$rc" -eq 2 ] || { echo "expected exit 2, got $rc for $*"; exit 1; }
    grep -q "$pat" "$tmp/err" || { echo "no \"$pat\":"; cat "$tmp/err"; exit 1; }
    [ ! -e "$tmp/bad" ]
}
fail "out of range" JOB_COMPLETION_INDEX=4
fail "not a whole number" SLURM_ARRAY_TASK_ID=x
fail "below" SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_MIN=2
fail "neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX" -u SLURM_ARRAY_TASK_ID \
    -u JOB_COMPLETION_INDEX
echo ok
