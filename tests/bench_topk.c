/* bench_topk: the dense top-K core. First, side by side in one run for one
 * query (Q=1, N=10^5, d=1024, K=4, one thread): a STREAM triad compiled -O3
 * for the CPU's widest vector instructions (what -march=native gives this
 * loop), topk_search() (sgemv on blocks of rows, each block's scores taken
 * by the heap while in cache), plain sgemv over all items into one score
 * array plus a heap, and numpy's X @ q + argpartition (when a python3 with numpy is
 * found; PE_PYTHON names one). Then queries/s and effective matrix-read GB/s
 * over N x d x K x Q beside a naive scalar loop. Wall time, the best of
 * several repetitions (the machine is shared). Printed, never asserted. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topk.h"
#include "util.h"

#define NMAX 100000
#define DMAX 1024
#define MIN_SECONDS 0.25

static float *rand_floats(size_t n, uint64_t seed)
{
    float *v = xmalloc(n * sizeof *v);
    uint64_t x = seed;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        v[i] = (float)((x >> 40) & 0xffff) / 65536.0f - 0.5f;
    }
    return v;
}

/* STREAM triad a = b + s*c (GB/s, 3 streams counted as STREAM does). */
__attribute__((optimize("O3"), target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
static void triad(float *restrict a, const float *restrict b, const float *restrict c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = b[i] + 1.5f * c[i];
}

static double bw_triad(float *a, const float *b, const float *c, size_t n)
{
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t = pe_now(), dt;
        triad(a, b, c, n);
        dt = pe_now() - t;
        if ((double)n * 12 / dt / 1e9 > best)
            best = (double)n * 12 / dt / 1e9;
    }
    if (a[n / 2] == 12345.678f)
        puts("");
    return best;
}

/* Best seconds per query of topk_search() or of sgemv over all items + a
 * heap (plain = 1). */
static double one_query_secs(const float *items, size_t n, size_t d, const float *q, size_t k,
                             int plain)
{
    float *s = plain ? xmalloc(n * sizeof *s) : NULL;
    topk_hit h[64];
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double t = pe_now(), dt;
        if (plain) {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)n, (blasint)d, 1.0f, items,
                        (blasint)d, q, 1, 0.0f, s, 1);
            topk_select(s, n, k, NULL, h);
        } else {
            topk_search(items, n, d, q, k, NULL, h);
        }
        dt = pe_now() - t;
        best = dt < best ? dt : best;
    }
    free(s);
    return best;
}

/* numpy's best seconds per query for the same shape (its own random
 * matrix), one BLAS thread; 0 when no python3 with numpy is found. */
static double numpy_secs(size_t n, size_t d, size_t k)
{
    static const char *cand[] = {NULL, "python3", "/usr/bin/python3"};
    char cmd[1024];
    double secs = 0;
    cand[0] = getenv("PE_PYTHON");
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
        FILE *p;
        if (!cand[i])
            continue;
        snprintf(cmd, sizeof cmd,
                 "OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 '%s' -c '\n"
                 "import time, numpy as np\n"
                 "g = np.random.default_rng(7)\n"
                 "X = g.random((%zu, %zu), dtype=np.float32) - 0.5\n"
                 "q = g.random(%zu, dtype=np.float32) - 0.5\n"
                 "best = 1e9\n"
                 "for _ in range(12):\n"
                 "    t = time.perf_counter()\n"
                 "    s = X @ q\n"
                 "    i = np.argpartition(-s, %zu)[:%zu]\n"
                 "    i = i[np.argsort(-s[i])]\n"
                 "    best = min(best, time.perf_counter() - t)\n"
                 "print(best)\n' 2>/dev/null",
                 cand[i], n, d, d, k, k);
        if (!(p = popen(cmd, "r")))
            continue;
        if (fscanf(p, "%lf", &secs) != 1)
            secs = 0;
        if (pclose(p) == 0 && secs > 0)
            return secs;
    }
    return 0;
}

/* The three in-process measurements take turns over several rounds, so
 * that load from other processes falls on all of them alike; each keeps
 * its best. */
static void headline(const float *items, const float *q)
{
    const size_t n = NMAX, d = DMAX, k = 4, tn = (size_t)1 << 24;
    float *ta = rand_floats(tn, 1), *tb = rand_floats(tn, 2), *tc = rand_floats(tn, 3);
    double gb = (double)n * d * 4 / 1e9, triad_bw = 0, ours = 1e9, plain = 1e9, np;

    for (int round = 0; round < 6; round++) {
        double t = bw_triad(ta, tb, tc, tn), o = one_query_secs(items, n, d, q, k, 0),
               p = one_query_secs(items, n, d, q, k, 1);
        triad_bw = t > triad_bw ? t : triad_bw;
        ours = o < ours ? o : ours;
        plain = p < plain ? p : plain;
    }
    free(ta);
    free(tb);
    free(tc);
    np = numpy_secs(n, d, k);

    printf("Q=1, N=%zu, d=%zu, K=%zu, one thread (matrix %.0f MB):\n", n, d, k, gb * 1e3);
    printf("  %-34s %10s %9s %9s\n", "", "ms/query", "GB/s", "% triad");
    printf("  %-34s %10s %9.2f %9s\n", "STREAM triad (-O3, widest ISA)", "", triad_bw, "100%");
    printf("  %-34s %10.2f %9.2f %8.0f%%\n", "topk_search (sgemv blocks + heap)", ours * 1e3,
           gb / ours, 100 * gb / ours / triad_bw);
    printf("  %-34s %10.2f %9.2f %8.0f%%\n", "sgemv over all items + heap", plain * 1e3,
           gb / plain, 100 * gb / plain / triad_bw);
    if (np > 0)
        printf("  %-34s %10.2f %9.2f %8.0f%%\n", "numpy X @ q + argpartition", np * 1e3,
               gb / np, 100 * gb / np / triad_bw);
    else
        printf("  numpy: no python3 with numpy found (set PE_PYTHON)\n");
    printf("  topk_search is %.2fx sgemv+heap%s", plain / ours, np > 0 ? "" : "\n");
    if (np > 0)
        printf(", %.2fx numpy\n", np / ours);
    printf("\n");
}

static double naive_qps(const float *items, size_t n, size_t d, const float *q, size_t k)
{
    float *s = xmalloc(n * sizeof *s);
    topk_hit *h = xmalloc(k * sizeof *h);
    size_t reps = 0;
    double t = pe_now(), dt;
    do {
        for (size_t i = 0; i < n; i++) {
            float acc = 0;
            for (size_t j = 0; j < d; j++)
                acc += items[i * d + j] * q[j];
            s[i] = acc;
        }
        topk_select(s, n, k, NULL, h);
        reps++;
    } while ((dt = pe_now() - t) < MIN_SECONDS / 2);
    free(s);
    free(h);
    return (double)reps / dt;
}

/* queries/s for Q queries per call (Q = 1: sgemv path). */
static double blas_qps(const float *items, size_t n, size_t d, const float *qs, size_t nq,
                       size_t k, double *gbs)
{
    topk_hit *h = xmalloc(nq * k * sizeof *h);
    size_t *counts = xmalloc(nq * sizeof *counts), calls = 0;
    double t = pe_now(), dt;
    do {
        const float *q = qs + (calls % 8) * d;
        if (nq == 1)
            topk_search(items, n, d, q, k, NULL, h);
        else
            topk_search_batch(items, n, d, qs, nq, k, NULL, h, counts);
        calls++;
    } while ((dt = pe_now() - t) < MIN_SECONDS);
    *gbs = (double)calls * (double)n * (double)d * 4 / dt / 1e9;
    free(h);
    free(counts);
    return (double)(calls * nq) / dt;
}

int main(void)
{
    static const size_t ns[] = {100, 1000, 10000, 100000}, ds[] = {384, 1024}, ks[] = {4, 50},
                        qs_n[] = {1, 64};
    float *items = rand_floats((size_t)NMAX * DMAX, 7), *qs = rand_floats(64 * DMAX, 9);
    double q1_big = 0;

    topk_set_blas_threads(1);
    printf("%s\n\n", topk_blas_info());
    headline(items, qs);
    printf("%7s %5s %3s %3s %12s %8s %12s %10s\n", "N", "d", "K", "Q", "queries/s", "GB/s",
           "naive q/s", "vs naive");
    for (size_t a = 0; a < 4; a++)
        for (size_t b = 0; b < 2; b++)
            for (size_t c = 0; c < 2; c++) {
                double naive = naive_qps(items, ns[a], ds[b], qs, ks[c]);
                for (size_t e = 0; e < 2; e++) {
                    double gbs, qps = blas_qps(items, ns[a], ds[b], qs, qs_n[e], ks[c], &gbs);
                    printf("%7zu %5zu %3zu %3zu %12.1f %8.2f %12.1f %9.1fx\n", ns[a], ds[b],
                           ks[c], qs_n[e], qps, gbs, naive, qps / naive);
                    if (ns[a] == NMAX && ds[b] == DMAX && ks[c] == 4 && qs_n[e] == 1)
                        q1_big = qps;
                    if (ns[a] == NMAX && ds[b] == DMAX && ks[c] == 4 && qs_n[e] == 64)
                        printf("  -> N=%d d=%d: Q=64 gives %.1fx the per-query throughput "
                               "of Q=1\n",
                               NMAX, DMAX, qps / q1_big);
                }
            }
    topk_set_blas_threads(2);
    {
        double gbs, qps = blas_qps(items, NMAX, DMAX, qs, 1, 4, &gbs);
        printf("\n2 BLAS threads, N=%d d=%d K=4 Q=1: %.1f queries/s, %.2f GB/s\n", NMAX, DMAX,
               qps, gbs);
    }
    free(items);
    free(qs);
    return 0;
}
