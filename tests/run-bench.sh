#!/bin/sh
# Runs every benchmark binary given as an argument; each prints its own table.
set -eu
for b in "$@"; do
    echo "== $(basename "$b")"
    "$b"
done
