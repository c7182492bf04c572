#!/bin/sh
# scripts/k8s-indexed-job.yaml without a cluster: the manifest parsed as YAML
# and its Jobs checked field by field (an Indexed Job whose completions match
# --shards, the shard folder taken from JOB_COMPLETION_INDEX, the key from a
# Secret, a merge Job on the same volume covering every shard), then the
# pods' shell scripts run here, one per index with /runs and /data mapped to
# a temporary folder, a shard run twice (the retried pod resumes), the merge
# Job's script last: its summary must equal a run on one machine byte for
# byte. Needs python3-yaml (scripts/install-deps.sh installs it).
set -eu
BIN=$(cd "$(dirname "${PE_BIN:-./persona-eval}")" && pwd)/$(basename "${PE_BIN:-./persona-eval}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -c 'import yaml' 2> /dev/null || {
    echo "k8s: python3 cannot import yaml: install python3-yaml" \
        "(scripts/install-deps.sh installs it)" >&2
    exit 1
}
mkdir -p "$tmp/bin"
ln -s "$BIN" "$tmp/bin/persona-eval"
python3 - scripts/k8s-indexed-job.yaml "$tmp" data/sample <<'PY'
import os, re, shutil, subprocess, sys, yaml
path, tmp, sample = sys.argv[1:4]
docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
assert len(docs) == 2, "want the shard Job and the merge Job, got %d documents" % len(docs)
for d in docs:
    assert d["apiVersion"] == "batch/v1" and d["kind"] == "Job", d.get("kind")
shard, merge = docs
assert shard["metadata"]["name"] != merge["metadata"]["name"]

def pod(job):
    t = job["spec"]["template"]["spec"]
    assert len(t["containers"]) == 1
    c = t["containers"][0]
    assert c["command"] == ["/bin/sh", "-c"], c["command"]
    assert len(c["args"]) == 1 and isinstance(c["args"][0], str)
    vols = {v["name"]: v for v in t["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert set(mounts) <= set(vols), (mounts, list(vols))
    return t, c, vols, mounts

# the shard Job
s = shard["spec"]
assert s["completionMode"] == "Indexed"
n = s["completions"]
assert isinstance(n, int) and n >= 2, n
assert isinstance(s["parallelism"], int) and 1 <= s["parallelism"] <= n
assert isinstance(s["backoffLimitPerIndex"], int) and s["backoffLimitPerIndex"] >= 1
t, c, vols, mounts = pod(shard)
# backoffLimitPerIndex requires restartPolicy Never
assert t["restartPolicy"] == "Never", t["restartPolicy"]
script = c["args"][0]
assert re.findall(r"--shards (\d+)", script) == [str(n)], (script, n)
assert "--shard auto" in script
assert re.search(r"dir=/runs/\S*\$JOB_COMPLETION_INDEX", script), script
assert "--resume" in script and "--out" in script
env = {e["name"]: e for e in c["env"]}
for name in ("OPENAI_BASE_URL", "OPENAI_MODEL", "OPENAI_API_KEY"):
    assert name in env, name
assert "value" not in env["OPENAI_API_KEY"], "the key must come from a Secret"
assert env["OPENAI_API_KEY"]["valueFrom"]["secretKeyRef"]["name"]
assert mounts["runs"] == "/runs"
prefix = re.search(r"dir=(/runs/\S*)\$JOB_COMPLETION_INDEX", script).group(1)

# the merge Job: plain (not indexed), same runs volume, every shard once
m = merge["spec"]
assert m.get("completionMode", "NonIndexed") == "NonIndexed"
assert m.get("completions", 1) == 1 and m.get("parallelism", 1) == 1
mt, mc, mvols, mmounts = pod(merge)
assert mt["restartPolicy"] in ("Never", "OnFailure")
assert mvols["runs"] == vols["runs"], (mvols["runs"], vols["runs"])
assert mmounts["runs"] == "/runs"
mscript = mc["args"][0]
waits = re.search(r"for i in ([0-9 ]+); do", mscript)
assert waits and waits.group(1).split() == [str(i) for i in range(n)], mscript
merged = re.search(r"merge ((?:\\\s+|\S+\s+)*?)--out (\S+)", mscript)
assert merged, mscript
dirs = merged.group(1).replace("\\", " ").split()
assert dirs == ["%s%d" % (prefix, i) for i in range(n)], dirs

# the scripts, run here
runs, data = os.path.join(tmp, "runs"), os.path.join(tmp, "data")
os.makedirs(runs)
os.makedirs(data)
for f in os.listdir(sample):
    shutil.copy(os.path.join(sample, f), data)
local = lambda text: text.replace("/runs", runs).replace("/data/", data + "/")
environ = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "SLURM_", "JOB_COMPLETION"))}
environ["PATH"] = os.path.join(tmp, "bin") + ":" + environ["PATH"]
def sh(text, **extra):
    r = subprocess.run(["/bin/sh", "-c", local(text)], env=dict(environ, **extra),
                       cwd=tmp, timeout=120, capture_output=True, text=True)
    assert r.returncode == 0, (text, r.returncode, r.stderr)
for i in range(n):
    sh(script, JOB_COMPLETION_INDEX=str(i))
first = open(local(prefix) + "0/summary.json").read()
sh(script, JOB_COMPLETION_INDEX="0")  # a retried pod resumes its folder
assert open(local(prefix) + "0/summary.json").read() == first
sh(mscript)
out = local(merged.group(2))
# the same run on one machine: the shard script without --shard, into one folder
run = re.search(r"exec (persona-eval .*?)\$where", script, re.S).group(1)
run = run.replace("--shard auto --shards %d" % n, "")
sh(run + " --out " + os.path.join(tmp, "one"))
for f in ("summary.csv", "summary.json"):
    a = open(os.path.join(tmp, "one", f), "rb").read()
    b = open(os.path.join(out, f), "rb").read()
    assert a == b, "merged %s differs from the one-machine run" % f
PY
echo ok
