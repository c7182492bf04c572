#!/bin/sh
# Runs every benchmark binary given as an argument; each prints its own table.
# Then, when Debian's libfaiss-dev is installed, builds tests/faiss_flat.cpp
# against the library beside the benchmarks and runs it (the dense top-K
# core's batch path beside FAISS's flat inner-product index), its OpenMP
# threads waiting passively: spinning ones fight for the cores of a shared
# machine and make FAISS's two-thread time several times worse.
set -eu
for b in "$@"; do
    echo "== $(basename "$b")"
    "$b"
done
[ $# -gt 0 ] || exit 0
build=$(dirname "$1")/..
if [ -f /usr/include/faiss/IndexFlat.h ] && command -v "${CXX:-c++}" >/dev/null 2>&1; then
    out=$(dirname "$1")/faiss_flat
    echo "== faiss_flat"
    if "${CXX:-c++}" -O2 -Iinclude -o "$out" tests/faiss_flat.cpp "$build/libpersonaeval.a" \
        -lfaiss -fopenmp $(pkg-config --libs openblas) -lm -pthread; then
        OMP_WAIT_POLICY=passive "$out"
    else
        echo "faiss_flat: does not build against this libfaiss-dev; skipped"
    fi
else
    echo "== faiss_flat: libfaiss-dev not installed; skipped"
fi
