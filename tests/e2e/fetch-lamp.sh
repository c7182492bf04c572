#!/bin/sh
# scripts/fetch-lamp.sh against a local copy of the LaMP site layout (file:// URLs, no
# network): good JSON files land in place; an HTML page served under a .json name, a
# missing file or a questions file of the wrong shape is rejected, leaves nothing behind
# and makes the script fail. Run from the repository root.
set -eu

if ! command -v curl >/dev/null 2>&1; then
    echo "fetch-lamp test: the file:// test needs curl (scripts/install-deps.sh installs it)" >&2
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
site=$tmp/site
fail() { echo "fetch-lamp test: $*" >&2; exit 1; }

for s in train dev; do
    mkdir -p "$site/time/LaMP_3/$s" "$site/time/LaMP_1/$s" "$site/time/LaMP_2/new/$s"
    printf '[{"id":"1","input":"x","profile":[{"id":"10","text":"caf\303\251","score":"4"}]}]\n' \
        >"$site/time/LaMP_3/$s/${s}_questions.json"
    printf '{"task":"LaMP_3","golds":[{"id":"1","output":"4"}]}\n' \
        >"$site/time/LaMP_3/$s/${s}_outputs.json"
    for k in questions outputs; do
        printf '<!DOCTYPE html>\n<html><body>Not here</body></html>\n' \
            >"$site/time/LaMP_1/$s/${s}_$k.json"
        printf '{"task":"LaMP_2M","golds":[]}\n' >"$site/time/LaMP_2/new/$s/${s}_$k.json"
    done
done

sh scripts/fetch-lamp.sh --base "file://$site" --out "$tmp/out" lamp3 >"$tmp/log" 2>&1 ||
    { cat "$tmp/log"; fail "lamp3 from a good site failed"; }
for s in train dev; do
    for k in questions outputs; do
        cmp "$site/time/LaMP_3/$s/${s}_$k.json" "$tmp/out/lamp3/${s}_$k.json" ||
            fail "lamp3 $s $k not copied"
    done
done
grep -q "persona-eval prepare --task lamp3 --data $tmp/out/lamp3/dev_questions.json" \
    "$tmp/log" || fail "no prepare hint printed"

if sh scripts/fetch-lamp.sh --base "file://$site" --out "$tmp/out" lamp1 >"$tmp/log" 2>&1
then fail "an HTML page was accepted as JSON"; fi
grep -q "HTML page" "$tmp/log" || { cat "$tmp/log"; fail "no HTML diagnosis"; }
[ -z "$(ls -A "$tmp/out/lamp1")" ] || fail "files left behind: $(ls "$tmp/out/lamp1")"

# lamp2m: the outputs files are fine, the questions files are objects, not arrays.
if sh scripts/fetch-lamp.sh --base "file://$site" --out "$tmp/out" lamp2m >"$tmp/log" 2>&1
then fail "a questions file of the wrong shape was accepted"; fi
[ -f "$tmp/out/lamp2m/dev_outputs.json" ] || fail "good outputs file not kept"
[ ! -e "$tmp/out/lamp2m/dev_questions.json" ] || fail "bad questions file kept"

if sh scripts/fetch-lamp.sh --base "file://$site" --out "$tmp/out" lamp2n >"$tmp/log" 2>&1
then fail "missing files were reported as fetched"; fi
grep -q "download failed" "$tmp/log" || fail "no download failure reported"

if sh scripts/fetch-lamp.sh --split month lamp1 >/dev/null 2>&1; then
    fail "bad --split accepted"
fi
echo "fetch-lamp: ok"
