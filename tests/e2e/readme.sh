#!/bin/sh
# Every command in README.md's code blocks runs as written, in a folder laid
# out like the source folder after `make` (the sample data, include/, build/,
# ./persona-eval, and persona-eval on PATH). The few changes are listed in
# RULES below, each with its reason:
#   - installing packages and building are skipped (the test runs on a built
#     tree; `make check` is what runs this test);
#   - endpoint hosts (localhost:8000, gpu1..3:8000) become loopback servers
#     (tests/loopback_server.py, its agent responder), Wikipedia becomes the
#     first of them (no network in tests), and runs against them are limited
#     to 2 users x 1 query;
#   - "..." placeholders become a test key and a test header value;
#   - HOME and XDG_CACHE_HOME point into the test's folder, and every command
#     starts with an empty request cache (so that each reaches its servers);
#   - the C example is the ```c block saved as prog.c; a sanitizer build
#     (PE_BUILD of `make asan`) links with the sanitizer flags.
# Code blocks labelled sh, bash or nothing are commands; ```c is the library
# example; other labels (json, text, ...) are not run. A command that no rule
# matches fails the test: a new README command needs a rule here.
set -eu
BIN=${PE_BIN:-./persona-eval}
BUILD=${PE_BUILD:-build}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
BUILD=$(cd "$BUILD" && pwd)
tmp=$(mktemp -d)
srv=""
srvs=""
trap 'for p in $srvs; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
. tests/e2e/loopback.inc
ports=""
for i in 1 2 3; do
    lb_start --log "$tmp/requests$i.jsonl"
    srvs="$srvs $srv"
    ports="$ports $port"
done
src="$tmp/src"
mkdir -p "$src/data" "$tmp/bin" "$tmp/home" "$tmp/cache"
cp -R data/sample "$src/data/"
ln -s "$PWD/include" "$src/include"
ln -s "$BUILD" "$src/build"
ln -s "$BIN" "$src/persona-eval"
ln -s "$BIN" "$tmp/bin/persona-eval"
san=""
if nm "$BUILD/libpersonaeval.a" 2>/dev/null | grep -q __asan_; then
    san="-fsanitize=address,undefined"
fi

python3 - README.md "$tmp" "$san" $ports <<'PY'
import json, os, re, shlex, shutil, subprocess, sys

readme, tmp, san, *ports = sys.argv[1:]
src = f"{tmp}/src"
p1, p2, p3 = ports
agent = lambda p: f"http://127.0.0.1:{p}/c/agent"
LIMIT = f" --users 2 --max-queries 1 --wiki {agent(p1)}"

# (pattern matched against the whole command, action, reason); the first match wins.
# action: None = skip; a function command -> command to run.
RULES = [
    (r"scripts/install-deps\.sh", None,
     "installs Debian packages as root; a machine that runs the tests has them"),
    (r"make check", None, "runs the test suite, which runs this test"),
    (r"make", None, "the binary and library under test are built already (PE_BIN, PE_BUILD)"),
    (r"export OPENAI_API_KEY=\.\.\.",
     lambda c: c.replace("...", "sk-readme-test-key"), "a placeholder key"),
    (r"export PERSONA_EVAL_HEADERS='X-Gateway-Token: \.\.\.'",
     lambda c: c.replace("...", "readme-gateway-token"), "a placeholder header value"),
    (r"persona-eval .*--endpoint http://localhost:8000/v1 .*",
     lambda c: c.replace("http://localhost:8000", agent(p1)) + LIMIT,
     "the endpoint is a loopback server; 2 users x 1 query"),
    (r"persona-eval .*--endpoint http://gpu1:8000/v1 --endpoint http://gpu2:8000/v1 "
     r"--endpoint http://gpu3:8000/v1.*",
     lambda c: c.replace("http://gpu1:8000", agent(p1)).replace("http://gpu2:8000", agent(p2))
                .replace("http://gpu3:8000", agent(p3)) + LIMIT,
     "the three replicas are three loopback servers; 2 users x 1 query"),
    (r"(\./)?persona-eval (?!.*--endpoint).*", lambda c: c, "runs as written"),
    (r"cc prog\.c .*-lm -pthread && \./a\.out",
     lambda c: c.replace("-lm -pthread", f"-lm -pthread {san}".rstrip()),
     "the library example; with the sanitizer flags when PE_BUILD is a sanitizer build"),
]

text = open(readme).read()
blocks = [(m.group(1), m.group(2), text[:m.start()].count("\n") + 1)
          for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.M | re.S)]
commands, c_blocks = [], []
for lang, body, line in blocks:
    if lang == "c":
        c_blocks.append(body)
        continue
    if lang not in ("", "sh", "bash"):
        continue
    for cmd in body.replace("\\\n", " ").splitlines():
        cmd = re.sub(r"\s+#[^'\"]*$", "", cmd).strip()  # a comment after the command
        # a && b: two commands (README's commands have no && inside quotes)
        commands += [(line, " ".join(c.split())) for c in re.split(r"&&", cmd) if c.strip()]
# "cc ... && ./a.out" is one step: the build and its run
merged = []
for line, c in commands:
    if c == "./a.out" and merged and merged[-1][1].startswith("cc prog.c"):
        merged[-1] = (line, merged[-1][1] + " && ./a.out")
    else:
        merged.append((line, c))
commands = merged
assert len(c_blocks) == 1, f"{len(c_blocks)} C blocks: this test saves exactly one as prog.c"
open(f"{src}/prog.c", "w").write(c_blocks[0])

env = dict(os.environ, PATH=f"{tmp}/bin:" + os.environ["PATH"], HOME=f"{tmp}/home",
           XDG_CACHE_HOME=f"{tmp}/cache")
for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "PERSONA_EVAL_HEADERS"):
    env.pop(k, None)
ran, skipped, outputs = 0, 0, {}
for line, cmd in commands:
    rule = next((r for r in RULES if re.fullmatch(r[0], cmd)), None)
    if rule is None:
        sys.exit(f"README.md:{line}: no rule in tests/e2e/readme.sh for: {cmd}")
    if rule[1] is None:
        print(f"skip README.md:{line}: {cmd}  ({rule[2]})")
        skipped += 1
        continue
    run = rule[1](cmd)
    if run.startswith("export "):
        name, _, value = run[len("export "):].partition("=")
        env[name] = shlex.split(value)[0]
        continue
    shutil.rmtree(f"{tmp}/cache", ignore_errors=True)  # each command reaches its server
    p = subprocess.run(run, shell=True, cwd=src, env=env, capture_output=True, text=True,
                       timeout=300)
    if p.returncode != 0:
        sys.exit(f"README.md:{line}: exit {p.returncode}: {run}\n{p.stdout[-2000:]}\n"
                 f"{p.stderr[-2000:]}")
    outputs[cmd] = p.stdout
    ran += 1
    # a run's last line is its run folder
    if re.match(r"(\./)?persona-eval ", cmd):
        last = p.stdout.strip().splitlines()[-1]
        assert os.path.isfile(os.path.join(src, last, "summary.json")), (cmd, last)

# what the substituted commands must have done
assert any("accuracy" in o for c, o in outputs.items() if c.startswith("cc prog.c")), \
    "the library example printed no accuracy"
reqs = [[json.loads(l) for l in open(f"{tmp}/requests{i}.jsonl")] for i in (1, 2, 3)]
chat = [[r for r in rs if r["path"].endswith("/chat/completions")] for rs in reqs]
assert all(chat), ("a replica received no request", [len(c) for c in chat])
assert all(r["auth"] for rs in chat for r in rs), "the key did not reach the server"
assert all(r["headers"].get("x-gateway-token") == "readme-gateway-token"
           for rs in chat for r in rs), "the PERSONA_EVAL_HEADERS header did not reach it"
print(f"{ran} README commands run, {skipped} skipped")
PY
echo ok
