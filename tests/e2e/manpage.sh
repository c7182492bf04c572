#!/bin/sh
# The man page is complete: every option that a subcommand's --help lists is
# described in that subcommand's OPTIONS section of docs/persona-eval.1, every
# environment variable the sources read is in ENVIRONMENT, and every exit code
# of include/status.h is in EXIT STATUS and in README.md's exit-code table.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for sub in run prepare score report personas merge; do
    "$BIN" "$sub" --help > "$tmp/$sub.help"
done
"$BIN" --help > "$tmp/top.help"
grep -rhoE 'getenv\("[A-Z_]+"\)' src | sed 's/getenv("//; s/")//' > "$tmp/env"
# variables named through a macro or a default
grep -rhoE '#define [A-Z_]+_ENV "[A-Z_]+"' include src | sed 's/.* "//; s/"//' >> "$tmp/env"
grep -rhoE 'env_or\([^,]+, "[A-Z_]+"\)|: "OPENAI_API_KEY"' src | grep -oE '"[A-Z_]+"' |
    tr -d '"' >> "$tmp/env"
python3 - "$tmp" docs/persona-eval.1 include/status.h README.md <<'PY'
import re, sys
tmp, man_path, status_path, readme_path = sys.argv[1:]
man = open(man_path).read().replace("\\-", "-").replace("\\fR", "").replace("\\fP", "")
sections, name = {}, None
for line in man.splitlines():
    if line.startswith(".SH "):
        name = line[4:].strip().strip('"')
        sections[name] = ""
    elif name:
        sections[name] += line + "\n"
def words(text):
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])", text))
# the sections that describe each subcommand's options
where = {"run": ["RUN OPTIONS", "LLM OPTIONS"], "prepare": ["PREPARE OPTIONS"],
         "score": ["SCORE OPTIONS"], "report": ["REPORT OPTIONS"],
         "personas": ["PERSONAS OPTIONS"], "merge": ["MERGE OPTIONS"],
         "top": ["SYNOPSIS", "DESCRIPTION"]}
missing = []
for sub, secs in where.items():
    # the option lists: lines that start (indented) with an option
    # (the top-level help: its usage lines)
    listed = [l for l in open(f"{tmp}/{sub}.help")
              if re.match(r"\s+--?[a-zA-Z]", l) or (sub == "top" and "persona-eval" in l)]
    opts = words("".join(listed))
    assert opts, sub
    described = words("".join(sections.get(s, "") for s in secs))
    # -h/--help: the DESCRIPTION says every subcommand takes them
    described |= {"-h", "--help"}
    missing += [f"{sub} {o}" for o in sorted(opts - described)]
assert not missing, "options of --help missing from the man page: " + ", ".join(missing)
# the items the man page must name
for item in ("--html", "--embed", "--tokenize", "--insecure", "--max-file-bytes",
             "--max-field-bytes", "--max-profile-items", "--max-observation-chars",
             "--max-tool-calls", "--offline"):
    assert item in man, item
env = sorted(set(open(f"{tmp}/env").read().split()))
assert {"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL", "HOME"} <= set(env), env
missing = [v for v in env if v not in sections["ENVIRONMENT"]]
assert not missing, f"environment variables missing from ENVIRONMENT: {missing}"
codes = sorted(set(int(c) for c in re.findall(r"PE_\w+ = (\d+)", open(status_path).read())))
assert 0 in codes and 66 in codes and len(codes) >= 14, codes
exit_man = sections["EXIT STATUS"]
readme = open(readme_path).read().split("## Exit codes", 1)[1].split("\n## ", 1)[0]
for c in codes:
    assert re.search(rf"^\.B[R]? .*\b{c}\b", exit_man, re.M), f"exit {c} not in EXIT STATUS"
    assert re.search(rf"^\| [0-9, ]*\b{c}\b", readme, re.M), f"exit {c} not in README"
print(f"{sum(1 for _ in where)} help texts, {len(env)} variables, {len(codes)} exit codes")
PY
# the page renders without warnings
if command -v groff > /dev/null 2>&1; then
    groff -man -Tutf8 -ww -z docs/persona-eval.1 2> "$tmp/groff"
    [ ! -s "$tmp/groff" ] || { cat "$tmp/groff"; exit 1; }
fi
echo ok
