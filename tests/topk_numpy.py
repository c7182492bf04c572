#!/usr/bin/env python3
"""numpy's dense top-K for tests/bench_topk.c: X @ q, then argpartition and a
sort of the K kept, on a float32 matrix of its own with the bench's shape and
value range (uniform in [-0.5, 0.5)).

Usage: topk_numpy.py N D K. Prints "ready" once the matrix exists, then for
every line read on stdin searches once (the next of 8 queries) and prints
the seconds that took, wall and on the CPU (time.thread_time; with one BLAS
thread the search runs in this thread): only the search is timed, so the bench can take turns
with its own measurements in one run. Run it with OPENBLAS_NUM_THREADS set.
"""
import sys
import time

import numpy as np


def main():
    n, d, k = (int(a) for a in sys.argv[1:4])
    g = np.random.default_rng(7)
    x = g.random((n, d), dtype=np.float32)
    x -= 0.5
    qs = g.random((8, d), dtype=np.float32) - 0.5
    print("ready", flush=True)
    for i, _ in enumerate(sys.stdin):
        q = qs[i % 8]
        t, c = time.perf_counter(), time.thread_time()
        s = x @ q
        top = np.argpartition(-s, k)[:k]
        top = top[np.argsort(-s[top])]
        c = time.thread_time() - c
        print(time.perf_counter() - t, c, flush=True)


if __name__ == "__main__":
    main()
