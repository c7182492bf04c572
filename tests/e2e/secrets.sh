#!/bin/sh
# Secrets given on the command line (an abbreviated --header, --header @FILE,
# URL user:password), through PERSONA_EVAL_HEADERS or the key variable reach
# no file of the run folder and no output line; run.json records the command
# with full option names and *** for secret values; under umask 022 the run
# folder is private (0700, files 0600) unless --share-results.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
srv=""
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
umask 022

# shellcheck source=tests/e2e/loopback.inc
. tests/e2e/loopback.inc
lb_start --log "$tmp/requests.jsonl"
s=$(date +%s)
export OPENAI_API_KEY="sk-keyvar-$s"
export PERSONA_EVAL_HEADERS="X-Env-Token: envsecret-$s"
printf 'X-File-Token: filesecret-%s\n' "$s" > "$tmp/headers"

"$BIN" --task lamp2m --method prompt,rag --users 2 --max-queries 1 --bootstrap 10 \
    --endpoint "http://user:urlsecret-$s@127.0.0.1:$port/v1" --model m --cache off \
    --hea "Authorization: Bearer sk-abbrev-$s" --header "@$tmp/headers" -v \
    --out "$tmp/run" > "$tmp/out" 2> "$tmp/err"
for secret in "sk-keyvar-$s" "envsecret-$s" "filesecret-$s" "urlsecret-$s" "sk-abbrev-$s"; do
    if grep -rl -- "$secret" "$tmp/run" "$tmp/out" "$tmp/err"; then
        echo "secret $secret was written"
        exit 1
    fi
done
python3 - "$tmp/run/run.json" <<'PY'
import json, sys
cmd = json.load(open(sys.argv[1]))["command"]
assert cmd[:2] == ["persona-eval", "run"], cmd
assert "--header" in cmd and "--hea" not in cmd, cmd
assert "Authorization: ***" in cmd and any(w.endswith("/headers") for w in cmd), cmd
assert any(w.startswith("http://***@127.0.0.1:") for w in cmd), cmd
assert "--verbose" in cmd, cmd
PY
# the headers reached the server
grep -q "filesecret-$s" "$tmp/requests.jsonl" && grep -q "envsecret-$s" "$tmp/requests.jsonl"

# a resume cannot take the recorded URL (its password was never written):
# refused naming --endpoint, and accepted with the URL given again
rc=0
"$BIN" --resume "$tmp/run" 2> "$tmp/err" || rc=$?
[ "$rc" -eq 2 ] || { echo "resume with a redacted URL: expected exit 2, got $rc"; exit 1; }
grep -q -- "records --endpoint without its secret part" "$tmp/err" || { cat "$tmp/err"; exit 1; }
"$BIN" --resume "$tmp/run" --endpoint "http://user:urlsecret-$s@127.0.0.1:$port/v1" \
    --hea "Authorization: Bearer sk-abbrev-$s" --header "@$tmp/headers" > "$tmp/out" 2> "$tmp/err"
if grep -rl -- "urlsecret-$s" "$tmp/run" "$tmp/out" "$tmp/err"; then
    echo "the resumed run wrote the URL's password"
    exit 1
fi

# private by default, the umask kept with --share-results
[ "$(stat -c %a "$tmp/run")" = 700 ] || { echo "run folder is $(stat -c %a "$tmp/run")"; exit 1; }
for f in "$tmp"/run/*; do
    [ "$(stat -c %a "$f")" = 600 ] || { echo "$f is $(stat -c %a "$f")"; exit 1; }
done
"$BIN" --task lamp3 --method majority -q --bootstrap 10 --share-results --out "$tmp/shared"
[ "$(stat -c %a "$tmp/shared")" = 755 ] && [ "$(stat -c %a "$tmp/shared/summary.csv")" = 644 ]
echo ok
