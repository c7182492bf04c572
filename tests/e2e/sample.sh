#!/bin/sh
# The bundled sample (data/sample/) is exactly what scripts/gen-sample.py writes with its
# default seed, every file is well-formed in its format, and the whole folder stays small.
# Run from the repository root.
set -eu

dir=data/sample
max_bytes=5000000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

python3 scripts/gen-sample.py --out "$tmp/gen" --quiet
if ! diff -rq "$dir" "$tmp/gen" >"$tmp/diff"; then
    cat "$tmp/diff" >&2
    echo "sample: $dir differs from a fresh scripts/gen-sample.py run; regenerate it" >&2
    exit 1
fi

bytes=$(cat "$dir"/* | wc -c)
if [ "$bytes" -ge "$max_bytes" ]; then
    echo "sample: $dir holds $bytes bytes, limit $max_bytes" >&2
    exit 1
fi

python3 - "$dir" <<'PY'
import json, re, sys

d = sys.argv[1]
LABELS = {
    "lamp1": ["[1]", "[2]"],
    "lamp2m": ["sci-fi", "based on a book", "comedy", "action", "twist ending", "dystopia",
               "dark comedy", "classic", "psychology", "fantasy", "romance",
               "thought-provoking", "social commentary", "violence", "true story"],
    "lamp2n": ["food & drink", "sports", "education", "parents", "religion", "travel",
               "business", "crime", "science & technology", "culture & arts",
               "entertainment", "politics", "women", "style & beauty", "healthy living"],
    "lamp3": ["1", "2", "3", "4", "5"],
}
FIELDS = {"lamp1": ["title", "abstract"], "lamp2m": ["description"],
          "lamp2n": ["title", "text"], "lamp3": ["text"]}
OFFICIAL = {"lamp1": ("LaMP_1", None), "lamp2m": ("LaMP_2M", "tag"),
            "lamp2n": ("LaMP_2N", "category"), "lamp3": ("LaMP_3", "score")}
INPUT = {
    "lamp1": re.compile(r'For an author who has written the paper with the title "([^"]+)", '
                        r'which reference is related\? Just answer with \[1\] or \[2\] '
                        r'without explanation\. \[1\]: "([^"]+)" \[2\]: "([^"]+)"\Z'),
    "lamp2m": re.compile(r"Which tag does this movie relate to among the following tags\? "
                         r"Just answer with the tag name without further explanation\. "
                         r"tags: \[sci-fi, based on a book, comedy, action, twist ending, "
                         r"dystopia, dark comedy, classic, psychology, fantasy, romance, "
                         r"thought-provoking, social commentary, violence, true story\] "
                         r"description: (\S.*)\Z"),
    "lamp2n": re.compile(r"Which category does this article relate to among the following "
                         r"categories\? Just answer with the category name without further "
                         r"explanation\. categories: \[women, religion, politics, "
                         r"style & beauty, entertainment, culture & arts, sports, "
                         r"science & technology, travel, business, crime, education, "
                         r"healthy living, parents, food & drink\] article: (\S.*)\Z"),
    "lamp3": re.compile(r"What is the score of the following review on a scale of 1 to 5\? "
                        r"just answer with 1, 2, 3, 4, or 5 without further explanation\. "
                        r"review: (\S.*)\Z"),
}
DATE = {"lamp1": re.compile(r"\d{4}\Z"), "other": re.compile(r"\d{4}-\d\d-\d\d\Z")}
problems = []


def bad(where, msg):
    problems.append("%s: %s" % (where, msg))


non_ascii = False
for task in LABELS:
    path = "%s/%s.jsonl" % (d, task)
    raw = open(path, "rb").read()
    non_ascii |= any(b > 127 for b in raw)
    text = raw.decode("utf-8")
    if not text.endswith("\n") or "\n\n" in text:
        bad(path, "must be one JSON object per line, ending in a newline")
    users = []
    for ln, line in enumerate(text.splitlines(), 1):
        where = "%s:%d" % (path, ln)
        try:
            u = json.loads(line)
        except ValueError as err:
            bad(where, "not JSON: %s" % err)
            continue
        users.append(u)
        if u.get("user") != "u%03d" % ln or u.get("task") != task:
            bad(where, "user/task fields")
        hist, qs = u.get("history", []), u.get("queries", [])
        if not 20 <= len(hist) <= 200 or not 3 <= len(qs) <= 10:
            bad(where, "%d history items, %d queries" % (len(hist), len(qs)))
        dre = DATE["lamp1" if task == "lamp1" else "other"]
        prev = ""
        for i, it in enumerate(hist):
            if it.get("id") != "%s-h%d" % (u["user"], i):
                bad(where, "history id %r" % it.get("id"))
            if not dre.match(it.get("date", "")) or it["date"] < prev:
                bad(where, "history date %r" % it.get("date"))
            if task != "lamp1" and it["date"] == prev:
                bad(where, "repeated date %r" % prev)
            prev = it.get("date", "")
            for f in FIELDS[task]:
                if not isinstance(it.get(f), str) or not it[f]:
                    bad(where, "history %s: field %s" % (it.get("id"), f))
            if (task == "lamp1") != ("label" not in it):
                bad(where, "history %s: label presence" % it.get("id"))
            if task != "lamp1" and it.get("label") not in LABELS[task]:
                bad(where, "history %s: label %r" % (it.get("id"), it.get("label")))
        last_hist, qprev = prev, prev
        for i, q in enumerate(qs):
            if q.get("id") != "%s-q%d" % (u["user"], i):
                bad(where, "query id %r" % q.get("id"))
            qd = q.get("date", "")
            if not dre.match(qd) or qd <= last_hist or qd < qprev:
                bad(where, "query %s: date %r must follow the history (%r) in order"
                    % (q.get("id"), qd, last_hist))
            qprev = qd
            m = INPUT[task].match(q.get("input", ""))
            if not m:
                bad(where, "query %s: input does not follow the LaMP template" % q.get("id"))
            if q.get("gold") not in LABELS[task]:
                bad(where, "query %s: gold %r" % (q.get("id"), q.get("gold")))
    # Official layout: one question per user, the user's latest query, whole history.
    qpath, opath = "%s/%s_questions.json" % (d, task), "%s/%s_outputs.json" % (d, task)
    questions = json.load(open(qpath, encoding="utf-8"))
    outputs = json.load(open(opath, encoding="utf-8"))
    name, lfield = OFFICIAL[task]
    if outputs.get("task") != name:
        bad(opath, "task %r" % outputs.get("task"))
    golds = {g["id"]: g["output"] for g in outputs.get("golds", [])}
    ids = [q["id"] for q in questions]
    if len(set(ids)) != len(ids) or set(ids) != set(golds) or len(ids) != len(users):
        bad(qpath, "question ids must be unique, one per user, and match the golds")
    numeric = 0
    for q, u in zip(questions, users):
        last = u["queries"][-1]
        if q["input"] != last["input"] or golds.get(q["id"]) != last["gold"]:
            bad(qpath, "question %s is not user %s's latest query" % (q["id"], u["user"]))
        if len(set(p["id"] for p in q["profile"])) != len(q["profile"]):
            bad(qpath, "question %s: repeated profile ids" % q["id"])
        want = sorted((h["date"],) + tuple(h[f] for f in FIELDS[task])
                      + ((h["label"],) if lfield else ()) for h in u["history"])
        got = []
        for p in q["profile"]:
            lab = ()
            if lfield:
                v = p.get(lfield)
                numeric += isinstance(v, int)
                lab = (str(v),)
            got.append((p["date"],) + tuple(p[f] for f in FIELDS[task]) + lab)
        if sorted(got) != want:
            bad(qpath, "question %s: profile differs from user %s's history"
                % (q["id"], u["user"]))
    if task == "lamp3" and numeric == 0:
        bad(qpath, "expected a few numeric scores")
if not non_ascii:
    bad(d, "no non-ASCII (UTF-8) text anywhere")
for p in problems[:30]:
    print("sample:", p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
echo "sample: ok ($bytes bytes)"
