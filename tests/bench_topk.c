/* bench_topk: the dense top-K core. First, side by side in one run for one
 * query (Q=1, N=10^5, d=1024 float32, K=4, one thread each): a STREAM triad
 * a[i] = b[i] + s*c[i] and a pure read (a sum) over arrays far larger than
 * the caches, compiled -O3 -march=native (see the Makefile); topk_search();
 * plain sgemv over all items into one score array plus a heap; numpy's
 * X @ q + argpartition (tests/topk_numpy.py, a python3 with numpy found on
 * the PATH, at /usr/bin/python3, or named by PE_PYTHON). They take turns
 * over several rounds so that load from other processes falls on all alike,
 * each keeping its best of two per round; medians over the rounds are
 * printed. Then the same for two threads, and queries/s over N x d x K x Q
 * beside a naive scalar loop. Printed, never asserted. */
#include <cblas.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dot.h"
#include "topk.h"
#include "util.h"

#define NMAX 100000
#define DMAX 1024
#define MIN_SECONDS 0.25
#define ROUNDS 11
/* Floats per bandwidth array: 128 MiB each, far beyond any cache. */
#define STREAM_N ((size_t)1 << 25)

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

/* STREAM triad: 12 bytes per element counted, as STREAM does (with write
 * allocation the memory traffic is 16). */
__attribute__((noinline)) static void triad(float *restrict a, const float *restrict b,
                                            const float *restrict c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = b[i] + 1.5f * c[i];
}

/* Pure read: four vector sums, 4 bytes per element. */
typedef float vec16 __attribute__((vector_size(64)));
__attribute__((noinline)) static float read_sum(const float *x, size_t n)
{
    vec16 s[4] = {{0}};
    float t = 0;
    for (size_t i = 0; i + 64 <= n; i += 64)
        for (int u = 0; u < 4; u++) {
            vec16 v;
            memcpy(&v, x + i + 16 * u, sizeof v);
            s[u] += v;
        }
    for (int j = 0; j < 16; j++)
        t += (s[0][j] + s[1][j]) + (s[2][j] + s[3][j]);
    return t;
}

/* numpy in a child process (tests/topk_numpy.py), one search per request. */
typedef struct numpy_proc {
    pid_t pid;
    FILE *in, *out;
} numpy_proc;

static int numpy_start(numpy_proc *np, const char *python, size_t n, size_t d, size_t k,
                       int threads)
{
    int to[2], from[2];
    char line[64], a[3][32];
    if (pipe(to) != 0)
        return -1;
    if (pipe(from) != 0) {
        close(to[0]);
        close(to[1]);
        return -1;
    }
    snprintf(a[0], sizeof a[0], "%zu", n);
    snprintf(a[1], sizeof a[1], "%zu", d);
    snprintf(a[2], sizeof a[2], "%zu", k);
    snprintf(line, sizeof line, "%d", threads);
    np->pid = fork();
    if (np->pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[0]);
        close(to[1]);
        close(from[0]);
        close(from[1]);
        if (!freopen("/dev/null", "w", stderr))
            _exit(127);
        setenv("OPENBLAS_NUM_THREADS", line, 1);
        setenv("OMP_NUM_THREADS", line, 1);
        execlp(python, python, "tests/topk_numpy.py", a[0], a[1], a[2], (char *)NULL);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    np->in = fdopen(to[1], "w");
    np->out = fdopen(from[0], "r");
    if (np->pid > 0 && np->in && np->out && fgets(line, sizeof line, np->out) &&
        strncmp(line, "ready", 5) == 0)
        return 0;
    if (np->in)
        fclose(np->in);
    if (np->out)
        fclose(np->out);
    if (np->pid > 0)
        waitpid(np->pid, NULL, 0);
    return -1;
}

/* Seconds of one numpy search, 0 on failure. */
static double numpy_once(numpy_proc *np)
{
    double secs = 0;
    if (fputs("run\n", np->in) == EOF || fflush(np->in) != 0 ||
        fscanf(np->out, "%lf", &secs) != 1)
        return 0;
    return secs;
}

static void numpy_stop(numpy_proc *np)
{
    fclose(np->in);
    fclose(np->out);
    waitpid(np->pid, NULL, 0);
}

/* A numpy child for threads BLAS threads; 0 when no python3 has numpy. */
static int numpy_find(numpy_proc *np, size_t n, size_t d, size_t k, int threads)
{
    const char *cand[] = {getenv("PE_PYTHON"), "python3", "/usr/bin/python3"};
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++)
        if (cand[i] && numpy_start(np, cand[i], n, d, k, threads) == 0)
            return 1;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { M_TRIAD, M_READ, M_OURS, M_PLAIN, M_NUMPY, M_COUNT };

/* Seconds of one run of measurement m (numpy through np). */
static double measure(int m, const float *items, size_t n, size_t d, const float *q, size_t k,
                      float *stream[3], float *scores, numpy_proc *np)
{
    topk_hit h[64];
    double t = pe_now();
    switch (m) {
    case M_TRIAD:
        triad(stream[0], stream[1], stream[2], STREAM_N);
        break;
    case M_READ:
        if (read_sum(stream[1], STREAM_N) == 12345.678f)
            puts("");
        break;
    case M_OURS:
        topk_search(items, n, d, q, k, NULL, h);
        break;
    case M_PLAIN:
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)n, (blasint)d, 1.0f, items,
                    (blasint)d, q, 1, 0.0f, scores, 1);
        topk_select(scores, n, k, NULL, h);
        break;
    default:
        return numpy_once(np);
    }
    return pe_now() - t;
}

/* Q=1 side by side for the given thread count (bandwidth kernels on one
 * thread always). */
static void headline(const float *items, const float *qs, float *stream[3], int threads)
{
    static const char *names[M_COUNT] = {
        "STREAM triad (12 B/element)", "pure read (sum)", "topk_search (fused, own kernel)",
        "cblas_sgemv all items + heap", "numpy X @ q + argpartition"};
    const size_t n = NMAX, d = DMAX, k = 4;
    double gb = (double)n * d * 4 / 1e9, secs[M_COUNT][ROUNDS], med[M_COUNT],
           vs_np[ROUNDS], vs_plain[ROUNDS];
    float *scores = xmalloc(n * sizeof *scores);
    numpy_proc np;
    int have_np = numpy_find(&np, n, d, k, threads);

    topk_set_blas_threads(threads);
    for (int r = 0; r < ROUNDS; r++) {
        const float *q = qs + (size_t)(r % 8) * d;
        for (int m = 0; m < M_COUNT; m++) {
            double a = 0, b = 0;
            if (m == M_NUMPY && !have_np)
                continue;
            a = measure(m, items, n, d, q, k, stream, scores, &np);
            b = measure(m, items, n, d, q, k, stream, scores, &np);
            secs[m][r] = a < b ? a : b;
        }
        vs_plain[r] = secs[M_PLAIN][r] / secs[M_OURS][r];
        vs_np[r] = have_np ? secs[M_NUMPY][r] / secs[M_OURS][r] : 0;
    }
    if (have_np)
        numpy_stop(&np);
    free(scores);
    for (int m = 0; m < M_COUNT; m++)
        med[m] = m == M_NUMPY && !have_np ? 0 : median(secs[m], ROUNDS);

    double bw[M_COUNT];
    bw[M_TRIAD] = (double)STREAM_N * 12 / med[M_TRIAD] / 1e9;
    bw[M_READ] = (double)STREAM_N * 4 / med[M_READ] / 1e9;
    printf("Q=1, N=%zu, d=%zu, K=%zu, float32 (matrix %.0f MB); search: %d thread%s "
           "(ours, sgemv, numpy alike), bandwidth kernels: 1 thread, %s; kernel %s; medians "
           "of %d rounds:\n",
           n, d, k, gb * 1e3, threads, threads > 1 ? "s" : "", "-O3 -march=native",
           dot_kernel(), ROUNDS);
    printf("  %-34s %9s %8s %8s %8s\n", "", "ms", "GB/s", "% triad", "% read");
    for (int m = 0; m < M_COUNT; m++) {
        if (m == M_NUMPY && !have_np) {
            printf("  numpy: no python3 with numpy found (set PE_PYTHON)\n");
            continue;
        }
        if (m > M_READ)
            bw[m] = gb / med[m];
        printf("  %-34s %9.2f %8.2f %7.0f%% %7.0f%%\n", names[m], med[m] * 1e3, bw[m],
               100 * bw[m] / bw[M_TRIAD], 100 * bw[m] / bw[M_READ]);
    }
    /* median() sorts: the ends are then each ratio's worst and best round */
    double r_plain = median(vs_plain, ROUNDS), r_np = have_np ? median(vs_np, ROUNDS) : 0;
    printf("  topk_search is %.2fx sgemv+heap (per round: median %.2f, %.2f-%.2f)\n",
           med[M_PLAIN] / med[M_OURS], r_plain, vs_plain[0], vs_plain[ROUNDS - 1]);
    if (have_np)
        printf("  topk_search is %.2fx numpy (per round: median %.2f, %.2f-%.2f)\n",
               med[M_NUMPY] / med[M_OURS], r_np, vs_np[0], vs_np[ROUNDS - 1]);
    printf("  (%% triad: matrix bytes read per second over the triad's, counted at 12 B per "
           "element)\n\n");
    topk_set_blas_threads(1);
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
    float *stream[3] = {rand_floats(STREAM_N, 1), rand_floats(STREAM_N, 2),
                        rand_floats(STREAM_N, 3)};
    double q1_big = 0;

    signal(SIGPIPE, SIG_IGN); /* a numpy child that dies is reported, not fatal */
    topk_set_blas_threads(1);
    printf("%s\n\n", topk_blas_info());
    headline(items, qs, stream, 1);
    headline(items, qs, stream, 2);
    for (int i = 0; i < 3; i++)
        free(stream[i]);
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
    free(items);
    free(qs);
    return 0;
}
