#!/bin/sh
# Download LaMP's official data files (questions + outputs, train and dev) for the four
# tasks persona-eval evaluates, and check that each file really is JSON of the right
# shape: the LaMP site answers some wrong paths with an HTML page and status 200.
#
#   scripts/fetch-lamp.sh [--split time|user] [--out DIR] [--base URL] [--dry-run] [TASK...]
#
# TASK is lamp1, lamp2m, lamp2n or lamp3 (default: all four). Files land in
# DIR/<task>/{train,dev}_{questions,outputs}.json (DIR defaults to data/lamp). The test
# split is not fetched: its golds are withheld by LaMP. Needs curl or wget; python3, when
# present, checks the JSON fully. Exit status: 0 all fetched, 1 a download or check
# failed, 2 usage.
set -eu

base=https://ciir.cs.umass.edu/downloads/LaMP
split=time
out=data/lamp
dry=0

usage() {
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
        --split) [ $# -ge 2 ] || { usage >&2; exit 2; }; split=$2; shift 2 ;;
        --out) [ $# -ge 2 ] || { usage >&2; exit 2; }; out=$2; shift 2 ;;
        --base) [ $# -ge 2 ] || { usage >&2; exit 2; }; base=${2%/}; shift 2 ;;
        --dry-run) dry=1; shift ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        -*) echo "fetch-lamp: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) break ;;
    esac
done
case "$split" in
    time|user) ;;
    *) echo "fetch-lamp: --split must be time or user, not '$split'" >&2; exit 2 ;;
esac
[ $# -gt 0 ] || set -- lamp1 lamp2m lamp2n lamp3

# Remote folder of one task in one split (LaMP-2 news is the original LaMP_2; the movie
# tagging data was added later under LaMP_2/new/).
remote_dir() {
    case "$1" in
        lamp1) d=LaMP_1 ;;
        lamp2n) d=LaMP_2 ;;
        lamp2m) d=LaMP_2/new ;;
        lamp3) d=LaMP_3 ;;
        *) return 1 ;;
    esac
    if [ "$split" = time ]; then
        echo "time/$d"
    else
        echo "$d"
    fi
}

for t in "$@"; do
    remote_dir "$t" >/dev/null || {
        echo "fetch-lamp: unknown task '$t' (lamp1, lamp2m, lamp2n, lamp3)" >&2
        exit 2
    }
done

if command -v curl >/dev/null 2>&1; then
    get() { curl -fsSL --retry 2 --connect-timeout 30 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
    get() { wget -q --tries=3 --timeout=30 -O "$2" "$1"; }
elif [ "$dry" -eq 0 ]; then
    echo "fetch-lamp: needs curl or wget" >&2
    exit 1
fi

# check FILE KIND: KIND "questions" must be a JSON array, "outputs" an object with golds.
check() {
    first=$(tr -d ' \t\r\n' <"$1" | head -c 1)
    case "$first" in
        '[' | '{') ;;
        '<') echo "an HTML page (wrong path, or the network blocked the request), not JSON"
             return 1 ;;
        '') echo "an empty file"; return 1 ;;
        *) echo "not JSON (starts with '$first')"; return 1 ;;
    esac
    command -v python3 >/dev/null 2>&1 || return 0
    python3 - "$1" "$2" <<'PY'
import json, sys
path, kind = sys.argv[1], sys.argv[2]
try:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
except ValueError as err:
    print("not valid JSON: %s" % err)
    sys.exit(1)
if kind == "questions" and not (isinstance(doc, list) and doc and "profile" in doc[0]):
    print("not a LaMP questions file (expected an array of {id, input, profile})")
    sys.exit(1)
if kind == "outputs" and not (isinstance(doc, dict) and isinstance(doc.get("golds"), list)):
    print("not a LaMP outputs file (expected {task, golds})")
    sys.exit(1)
PY
}

failed=0
for t in "$@"; do
    rdir=$(remote_dir "$t")
    for s in train dev; do
        for kind in questions outputs; do
            url="$base/$rdir/$s/${s}_$kind.json"
            dest="$out/$t/${s}_$kind.json"
            if [ "$dry" -eq 1 ]; then
                echo "$url -> $dest"
                continue
            fi
            mkdir -p "$out/$t"
            echo "fetch-lamp: $url"
            if ! get "$url" "$dest.part"; then
                echo "fetch-lamp: download failed: $url" >&2
                rm -f "$dest.part"
                failed=1
                continue
            fi
            if ! why=$(check "$dest.part" "$kind"); then
                echo "fetch-lamp: $url: got $why" >&2
                rm -f "$dest.part"
                failed=1
                continue
            fi
            mv "$dest.part" "$dest"
        done
    done
done
[ "$dry" -eq 1 ] && exit 0
if [ "$failed" -ne 0 ]; then
    echo "fetch-lamp: some files are missing; if the network blocks the LaMP site," \
        "download them elsewhere and copy them to $out/<task>/" >&2
    exit 1
fi
echo "fetch-lamp: done. Convert with, for example:"
for t in "$@"; do
    echo "  persona-eval prepare --task $t --data $out/$t/dev_questions.json" \
        "$out/$t/dev_outputs.json --top-users 100 --out data/$t.jsonl"
done
