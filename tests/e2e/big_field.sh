#!/bin/sh
# A 1 GB text field is refused with exit 65 and a message naming the file, position,
# user and field, while the peak memory of `prepare` stays under 100 MB: the loader
# never holds the whole file or the whole field. The file is generated in a temporary
# folder and deleted.
set -eu
BIN=${PE_BIN:-./persona-eval}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$BIN" "$tmp" <<'PY'
import os, resource, subprocess, sys
bin_, tmp = sys.argv[1], sys.argv[2]
path = os.path.join(tmp, "big_questions.json")
piece = b"word " * ((8 << 20) // 5)
with open(path, "wb") as f:
    head = b'[{"id": "q1", "input": "x", "profile": [{"id": "p1", "title": "t", "text": "'
    f.write(head)
    n = 0
    while n < (1 << 30):
        f.write(piece)
        n += len(piece)
    f.write(b'", "category": "sports"}]}]\n')
r = subprocess.run([bin_, "prepare", "--task", "lamp2n", "--data", path,
                    "--out", os.path.join(tmp, "out.jsonl")],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
os.unlink(path)
rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
err = r.stderr.decode()
print("big_field.sh: exit %d, peak RSS %.1f MB: %s" % (r.returncode, rss_mb, err.strip()))
assert r.returncode == 65, "want exit 65"
# the position of the field's opening quote: the last byte of head
want = ('big_questions.json:1:%d: element 0: user "q1": field "text" is over the limit of '
        '1048576' % len(head))
assert want in err, "message: " + err
assert rss_mb < 100, "peak RSS %.1f MB" % rss_mb
assert not os.path.exists(os.path.join(tmp, "out.jsonl"))
PY
echo "big_field.sh: ok"
