/* bench_topk: queries/s and effective matrix-read GB/s of the BLAS top-K core
 * over N x d x K x Q, beside a naive scalar loop and a STREAM-like memory
 * bandwidth measured in the same run. Numbers are printed, never asserted. */
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

/* Read-sum over the whole array with independent accumulators (GB/s). */
static double bw_read(const float *a, size_t n)
{
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        float s[8] = {0};
        double t = pe_now(), dt;
        for (size_t i = 0; i + 8 <= n; i += 8)
            for (int j = 0; j < 8; j++)
                s[j] += a[i + j];
        dt = pe_now() - t;
        if (s[0] + s[3] + s[7] == 12345.678f) /* keep the loop */
            puts("");
        if ((double)n * 4 / dt / 1e9 > best)
            best = (double)n * 4 / dt / 1e9;
    }
    return best;
}

/* STREAM triad a = b + s*c over 3 arrays (GB/s, 3 streams counted). */
static double bw_triad(size_t n)
{
    float *a = rand_floats(n, 1), *b = rand_floats(n, 2), *c = rand_floats(n, 3);
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t = pe_now(), dt;
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] + 1.5f * c[i];
        dt = pe_now() - t;
        if ((double)n * 12 / dt / 1e9 > best)
            best = (double)n * 12 / dt / 1e9;
    }
    if (a[n / 2] == 12345.678f)
        puts("");
    free(a);
    free(b);
    free(c);
    return best;
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
    double read_bw, triad_bw, q1_big = 0, gb1_big = 0;

    topk_set_blas_threads(1);
    read_bw = bw_read(items, (size_t)NMAX * DMAX);
    triad_bw = bw_triad((size_t)16 << 20);
    printf("%s\n", topk_blas_info());
    printf("memory bandwidth: read-sum %.2f GB/s, triad %.2f GB/s (one thread)\n\n", read_bw,
           triad_bw);
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
                    if (ns[a] == NMAX && ds[b] == DMAX && ks[c] == 4 && qs_n[e] == 1) {
                        q1_big = qps;
                        gb1_big = gbs;
                    }
                    if (ns[a] == NMAX && ds[b] == DMAX && ks[c] == 4 && qs_n[e] == 64)
                        printf("  -> N=%d d=%d: Q=1 at %.0f%% of read bandwidth; Q=64 gives "
                               "%.1fx the per-query throughput of Q=1\n",
                               NMAX, DMAX, 100 * gb1_big / read_bw, qps / q1_big);
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
