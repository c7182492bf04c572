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
#include <time.h>
#include <unistd.h>

#include "dot.h"
#include "topk.h"
#include "util.h"

#define NMAX 100000
#define DMAX 1024
#define MIN_SECONDS 0.25
#define ROUNDS 15
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

/* One numpy search: wall and on-CPU seconds; 0 on failure. */
static int numpy_once(numpy_proc *np, double *wall, double *cpu)
{
    if (fputs("run\n", np->in) == EOF || fflush(np->in) != 0 ||
        fscanf(np->out, "%lf %lf", wall, cpu) != 2)
        return 0;
    return 1;
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

enum { M_TRIAD, M_READ, M_OURS, M_PLAIN, M_NUMPY, M_COUNT };

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


/* On-CPU seconds of the calling thread: what a measurement took while it
 * held a core (the machine is shared; wall time also counts the time other
 * processes held it). */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* One run of measurement m (numpy through np): wall and on-CPU seconds. */
static void measure(int m, const float *items, size_t n, size_t d, const float *q, size_t k,
                    float *stream[3], float *scores, numpy_proc *np, double *wall, double *cpu)
{
    topk_hit h[64];
    double t = pe_now(), c = cpu_now();
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
        if (!numpy_once(np, wall, cpu))
            *wall = *cpu = 0;
        return;
    }
    *cpu = cpu_now() - c;
    *wall = pe_now() - t;
}

/* Prints the table of medians over the rounds of secs[m][r]. */
static void print_table(double secs[M_COUNT][ROUNDS], int have_np, double gb)
{
    static const char *names[M_COUNT] = {
        "STREAM triad (12 B/element)", "pure read (sum)", "topk_search (fused, own kernel)",
        "cblas_sgemv all items + heap", "numpy X @ q + argpartition"};
    double med[M_COUNT], bw[M_COUNT], ratio[2][ROUNDS];

    for (int r = 0; r < ROUNDS; r++) {
        ratio[0][r] = secs[M_PLAIN][r] / secs[M_OURS][r];
        ratio[1][r] = have_np ? secs[M_NUMPY][r] / secs[M_OURS][r] : 0;
    }
    for (int m = 0; m < M_COUNT; m++)
        med[m] = m == M_NUMPY && !have_np ? 0 : median(secs[m], ROUNDS);
    bw[M_TRIAD] = (double)STREAM_N * 12 / med[M_TRIAD] / 1e9;
    bw[M_READ] = (double)STREAM_N * 4 / med[M_READ] / 1e9;
    printf("  %-34s %9s %8s %8s %8s\n", "", "ms", "GB/s", "% triad", "% read");
    for (int m = 0; m < M_COUNT; m++) {
        if (m == M_NUMPY && !have_np) {
            printf("  numpy: not run (needs tests/topk_numpy.py, so the source tree as the "
                   "working directory, and a python3 with numpy: PE_PYTHON names one)\n");
            continue;
        }
        if (m > M_READ)
            bw[m] = gb / med[m];
        printf("  %-34s %9.2f %8.2f %7.0f%% %7.0f%%\n", names[m], med[m] * 1e3, bw[m],
               100 * bw[m] / bw[M_TRIAD], 100 * bw[m] / bw[M_READ]);
    }
    for (int i = 0; i < 1 + have_np; i++) {
        /* median() sorts: the ends are then the ratio's worst and best round */
        double mr = median(ratio[i], ROUNDS);
        printf("  topk_search is %.2fx %s (per round: median %.2f, %.2f-%.2f)\n",
               med[i ? M_NUMPY : M_PLAIN] / med[M_OURS], i ? "numpy" : "sgemv+heap", mr,
               ratio[i][0], ratio[i][ROUNDS - 1]);
    }
}

/* Q=1 side by side for the given thread count (bandwidth kernels on one
 * thread always). One thread: on-CPU times, then wall times; more: wall. */
static void headline(const float *items, const float *qs, float *stream[3], int threads)
{
    const size_t n = NMAX, d = DMAX, k = 4;
    double gb = (double)n * d * 4 / 1e9, wall[M_COUNT][ROUNDS], cpu[M_COUNT][ROUNDS];
    float *scores = xmalloc(n * sizeof *scores);
    numpy_proc np = {0, NULL, NULL};
    int have_np = numpy_find(&np, n, d, k, threads);

    topk_set_blas_threads(threads);
    for (int r = 0; r < ROUNDS; r++) {
        const float *q = qs + (size_t)(r % 8) * d;
        for (int m = 0; m < M_COUNT; m++) {
            double w[2], c[2];
            if (m == M_NUMPY && !have_np)
                continue;
            for (int i = 0; i < 2; i++)
                measure(m, items, n, d, q, k, stream, scores, &np, &w[i], &c[i]);
            wall[m][r] = w[0] < w[1] ? w[0] : w[1];
            cpu[m][r] = c[0] < c[1] ? c[0] : c[1];
        }
    }
    if (have_np)
        numpy_stop(&np);
    free(scores);
    topk_set_blas_threads(1);

    printf("Q=1, N=%zu, d=%zu, K=%zu, float32 (matrix %.0f MB), kernel %s; the search with %d "
           "thread%s (ours, sgemv and numpy alike), triad and read with 1, compiled -O3 "
           "-march=native; %d rounds taking turns, best of 2 in a round, medians.\n",
           n, d, k, gb * 1e3, dot_kernel(), threads, threads > 1 ? "s" : "", ROUNDS);
    if (threads == 1) {
        printf(" On-CPU time (CLOCK_THREAD_CPUTIME_ID; numpy: time.thread_time):\n");
        print_table(cpu, have_np, gb);
    }
    printf(" Wall time:\n");
    print_table(wall, have_np, gb);
    printf("  (%% triad: matrix bytes read per second over the triad's 12 B per element; "
           "%% read: over the pure read's 4 B)\n\n");
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
    float *stream[3];
    double q1_big = 0;

    /* STREAM's arrays are aligned; a read straddling cache lines is slower */
    for (int i = 0; i < 3; i++) {
        float *v = rand_floats(STREAM_N, (uint64_t)i + 1);
        if (!(stream[i] = aligned_alloc(64, STREAM_N * sizeof *v)))
            return 1;
        memcpy(stream[i], v, STREAM_N * sizeof *v);
        free(v);
    }
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
