#include "dot.h"

#include <cblas.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define DOT_X86 1
#include <immintrin.h>
#endif

enum { K_GENERIC, K_AVX2, K_AVX512, K_COUNT };
static const char *const kernel_names[K_COUNT] = {"generic", "avx2", "avx512"};

/* -1 until the CPU was asked (or a test forced a kernel). */
static atomic_int chosen = -1;

/* 1 when the CPU runs kernel k. */
static int cpu_has(int k)
{
#ifdef DOT_X86
    __builtin_cpu_init();
    if (k == K_AVX512)
        return __builtin_cpu_supports("avx512f");
    if (k == K_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return k == K_GENERIC;
}

static int cpu_best(void)
{
    int k = K_COUNT - 1;
    while (!cpu_has(k))
        k--;
    return k;
}

static int kernel(void)
{
    int k = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (k < 0) {
        k = cpu_best();
        atomic_store_explicit(&chosen, k, memory_order_relaxed);
    }
    return k;
}

const char *dot_kernel(void)
{
    return kernel_names[kernel()];
}

int dot_force(const char *name)
{
    if (!name) {
        atomic_store(&chosen, cpu_best());
        return 0;
    }
    for (int k = 0; k < K_COUNT; k++)
        if (strcmp(name, kernel_names[k]) == 0 && cpu_has(k)) {
            atomic_store(&chosen, k);
            return 0;
        }
    return -1;
}

/* Portable: four partial sums over j mod 4, added pairwise. */
static float dot_generic(const float *x, const float *q, size_t d)
{
    float s[4] = {0, 0, 0, 0};
    size_t j = 0;
    for (; j + 4 <= d; j += 4)
        for (int u = 0; u < 4; u++)
            s[u] += x[j + u] * q[j + u];
    for (int u = 0; j < d; j++, u++)
        s[u] += x[j] * q[j];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

/* The row kernels: the dot products of R rows (R = 4 or 1) at x[r] with q
 * go to *o[r]. */
typedef void (*rows_fn)(const float *const *x, size_t d, const float *q, float *const *o);

static void rows_generic(const float *const *x, size_t d, const float *q, float *const *o)
{
    for (int r = 0; r < 4; r++)
        *o[r] = dot_generic(x[r], q, d);
}

static void row_generic(const float *const *x, size_t d, const float *q, float *const *o)
{
    *o[0] = dot_generic(x[0], q, d);
}

#ifdef DOT_X86
#define T512 __attribute__((target("avx512f")))
#define T256 __attribute__((target("avx2,fma")))
#define INL __attribute__((always_inline)) inline
/* The R and S loops must unroll so that the accumulators live in registers. */
#define UNROLL _Pragma("GCC unroll 8")

/* The lanes of the aligned 16-float chunk k (from a row's 64-byte aligned
 * base) that hold the row's elements: positions off .. off+d-1. */
static inline __mmask16 chunk_mask(size_t off, size_t d, size_t k)
{
    size_t s = 16 * k, lo = s < off ? off - s : 0, hi;
    if (off + d <= s)
        return 0;
    hi = off + d - s < 16 ? off + d - s : 16;
    if (lo >= hi)
        return 0;
    return (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}

/* AVX-512, one query: R rows at once (hiding load latency, the query chunk
 * loaded once for all), two accumulators per row: pairs of 16-float chunks
 * go to a and b, a last whole chunk to a, the tail to b. Rows are read by
 * aligned loads (masked at both ends, so nothing outside the row is touched)
 * and each 16-element chunk is put together from two of them by a permute:
 * a load that straddles cache lines halves a streaming read's bandwidth.
 * The arithmetic is the same whatever a row's alignment or R. */
static T512 INL void rows512_r(const float *const *x, size_t d, const float *q,
                               float *const *out, int R)
{
    const __m512i iota = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const float *base[4];
    __m512 a[4], b[4], cur[4];
    __m512i idx[4];
    size_t off[4], full = d / 16, c = 0;

    UNROLL
    for (int r = 0; r < R; r++) {
        off[r] = ((uintptr_t)x[r] & 63) / sizeof(float);
        base[r] = (const float *)((uintptr_t)x[r] & ~(uintptr_t)63);
        idx[r] = _mm512_add_epi32(iota, _mm512_set1_epi32((int)off[r]));
        cur[r] = _mm512_maskz_load_ps(chunk_mask(off[r], d, 0), base[r]);
        a[r] = b[r] = _mm512_setzero_ps();
    }
    /* chunks 1 .. full-1 lie inside every row: plain aligned loads */
    for (; c + 3 <= full; c += 2) {
        __m512 q0 = _mm512_loadu_ps(q + 16 * c), q1 = _mm512_loadu_ps(q + 16 * c + 16);
        UNROLL
        for (int r = 0; r < R; r++) {
            __m512 n1 = _mm512_load_ps(base[r] + 16 * (c + 1));
            __m512 n2 = _mm512_load_ps(base[r] + 16 * (c + 2));
            a[r] = _mm512_fmadd_ps(_mm512_permutex2var_ps(cur[r], idx[r], n1), q0, a[r]);
            b[r] = _mm512_fmadd_ps(_mm512_permutex2var_ps(n1, idx[r], n2), q1, b[r]);
            cur[r] = n2;
        }
    }
    if (c + 2 <= full) {
        __m512 q0 = _mm512_loadu_ps(q + 16 * c), q1 = _mm512_loadu_ps(q + 16 * c + 16);
        UNROLL
        for (int r = 0; r < R; r++) {
            __m512 n1 = _mm512_load_ps(base[r] + 16 * (c + 1));
            __m512 n2 = _mm512_maskz_load_ps(chunk_mask(off[r], d, c + 2), base[r] + 16 * (c + 2));
            a[r] = _mm512_fmadd_ps(_mm512_permutex2var_ps(cur[r], idx[r], n1), q0, a[r]);
            b[r] = _mm512_fmadd_ps(_mm512_permutex2var_ps(n1, idx[r], n2), q1, b[r]);
            cur[r] = n2;
        }
        c += 2;
    }
    if (c + 1 <= full) {
        __m512 q0 = _mm512_loadu_ps(q + 16 * c);
        UNROLL
        for (int r = 0; r < R; r++) {
            __m512 n1 = _mm512_maskz_load_ps(chunk_mask(off[r], d, c + 1), base[r] + 16 * (c + 1));
            a[r] = _mm512_fmadd_ps(_mm512_permutex2var_ps(cur[r], idx[r], n1), q0, a[r]);
            cur[r] = n1;
        }
        c++;
    }
    if (16 * full < d) {
        __m512 q0 = _mm512_maskz_loadu_ps((__mmask16)((1u << (d - 16 * full)) - 1), q + 16 * c);
        UNROLL
        for (int r = 0; r < R; r++) {
            __m512 n1 = _mm512_maskz_load_ps(chunk_mask(off[r], d, c + 1), base[r] + 16 * (c + 1));
            b[r] = _mm512_fmadd_ps(_mm512_permutex2var_ps(cur[r], idx[r], n1), q0, b[r]);
        }
    }
    UNROLL
    for (int r = 0; r < R; r++)
        *out[r] = _mm512_reduce_add_ps(_mm512_add_ps(a[r], b[r]));
}

static T512 void rows512_4(const float *const *x, size_t d, const float *q, float *const *o)
{
    rows512_r(x, d, q, o, 4);
}

static T512 void rows512_1(const float *const *x, size_t d, const float *q, float *const *o)
{
    rows512_r(x, d, q, o, 1);
}

/* AVX-512, a batch: R rows x S queries of dot products held in R*S
 * registers (24 at most), each loaded row chunk used for S queries and each
 * query chunk for R rows. One accumulator per pair, the same for every R
 * and S. c[s*ldc + r]. */
static T512 INL void tile512(const float *x, size_t d, const float *qs, float *c, size_t ldc,
                             int R, int S)
{
    __m512 acc[6][4], qv[4];
    size_t j = 0;
    UNROLL
    for (int r = 0; r < R; r++)
        UNROLL
        for (int s = 0; s < S; s++)
            acc[r][s] = _mm512_setzero_ps();
    for (; j + 16 <= d; j += 16) {
        UNROLL
        for (int s = 0; s < S; s++)
            qv[s] = _mm512_loadu_ps(qs + s * d + j);
        UNROLL
        for (int r = 0; r < R; r++) {
            __m512 xv = _mm512_loadu_ps(x + r * d + j);
            UNROLL
            for (int s = 0; s < S; s++)
                acc[r][s] = _mm512_fmadd_ps(xv, qv[s], acc[r][s]);
        }
    }
    if (j < d) {
        __mmask16 m = (__mmask16)((1u << (d - j)) - 1);
        UNROLL
        for (int s = 0; s < S; s++)
            qv[s] = _mm512_maskz_loadu_ps(m, qs + s * d + j);
        UNROLL
        for (int r = 0; r < R; r++) {
            __m512 xv = _mm512_maskz_loadu_ps(m, x + r * d + j);
            UNROLL
            for (int s = 0; s < S; s++)
                acc[r][s] = _mm512_fmadd_ps(xv, qv[s], acc[r][s]);
        }
    }
    UNROLL
    for (int r = 0; r < R; r++)
        UNROLL
        for (int s = 0; s < S; s++)
            c[s * ldc + r] = _mm512_reduce_add_ps(acc[r][s]);
}

static T512 void tile512_6x4(const float *x, size_t d, const float *qs, float *c, size_t ldc)
{
    tile512(x, d, qs, c, ldc, 6, 4);
}

static T512 void tile512_6x1(const float *x, size_t d, const float *qs, float *c, size_t ldc)
{
    tile512(x, d, qs, c, ldc, 6, 1);
}

static T512 void tile512_1x4(const float *x, size_t d, const float *qs, float *c, size_t ldc)
{
    tile512(x, d, qs, c, ldc, 1, 4);
}

static T512 void tile512_1x1(const float *x, size_t d, const float *qs, float *c, size_t ldc)
{
    tile512(x, d, qs, c, ldc, 1, 1);
}

/* Six rows stay in L1 while every query passes over them (the queries of a
 * batch stay in L2), so the rows are read from memory once. */
static void block512(const float *x, size_t n, size_t d, const float *qs, size_t nq, float *c)
{
    size_t i = 0, j;
    for (; i + 6 <= n; i += 6) {
        for (j = 0; j + 4 <= nq; j += 4)
            tile512_6x4(x + i * d, d, qs + j * d, c + j * n + i, n);
        for (; j < nq; j++)
            tile512_6x1(x + i * d, d, qs + j * d, c + j * n + i, n);
    }
    for (; i < n; i++) {
        for (j = 0; j + 4 <= nq; j += 4)
            tile512_1x4(x + i * d, d, qs + j * d, c + j * n + i, n);
        for (; j < nq; j++)
            tile512_1x1(x + i * d, d, qs + j * d, c + j * n + i, n);
    }
}

static T256 INL float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* AVX2+FMA, one query: as rows512_r with 8-float chunks. */
static T256 INL void rows256_r(const float *const *x, size_t d, const float *q,
                               float *const *out, int R)
{
    static const int lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    __m256 a[4], b[4];
    size_t j = 0;
    UNROLL
    for (int r = 0; r < R; r++)
        a[r] = b[r] = _mm256_setzero_ps();
    for (; j + 16 <= d; j += 16) {
        __m256 q0 = _mm256_loadu_ps(q + j), q1 = _mm256_loadu_ps(q + j + 8);
        UNROLL
        for (int r = 0; r < R; r++) {
            a[r] = _mm256_fmadd_ps(_mm256_loadu_ps(x[r] + j), q0, a[r]);
            b[r] = _mm256_fmadd_ps(_mm256_loadu_ps(x[r] + j + 8), q1, b[r]);
        }
    }
    if (j + 8 <= d) {
        __m256 q0 = _mm256_loadu_ps(q + j);
        UNROLL
        for (int r = 0; r < R; r++)
            a[r] = _mm256_fmadd_ps(_mm256_loadu_ps(x[r] + j), q0, a[r]);
        j += 8;
    }
    if (j < d) {
        __m256i m = _mm256_loadu_si256((const __m256i *)(lanes + 8 - (d - j)));
        __m256 q0 = _mm256_maskload_ps(q + j, m);
        UNROLL
        for (int r = 0; r < R; r++)
            b[r] = _mm256_fmadd_ps(_mm256_maskload_ps(x[r] + j, m), q0, b[r]);
    }
    UNROLL
    for (int r = 0; r < R; r++)
        *out[r] = hsum256(_mm256_add_ps(a[r], b[r]));
}

static T256 void rows256_4(const float *const *x, size_t d, const float *q, float *const *o)
{
    rows256_r(x, d, q, o, 4);
}

static T256 void rows256_1(const float *const *x, size_t d, const float *q, float *const *o)
{
    rows256_r(x, d, q, o, 1);
}
#endif

void dot_rows_lanes(const float *const *x, float *const *out, size_t nl, size_t n, size_t d,
                    const float *q)
{
    rows_fn four = rows_generic, one = row_generic;
    size_t per = 4 / nl, i = 0;
    const float *p[4];
    float *o[4];

    switch (kernel()) {
#ifdef DOT_X86
    case K_AVX512:
        four = rows512_4;
        one = rows512_1;
        break;
    case K_AVX2:
        four = rows256_4;
        one = rows256_1;
        break;
#endif
    default:
        break;
    }
    for (; i + per <= n; i += per) {
        for (size_t g = 0; g < 4; g++) {
            p[g] = x[g / per] + (i + g % per) * d;
            o[g] = out[g / per] + i + g % per;
        }
        four(p, d, q, o);
    }
    for (; i < n; i++)
        for (size_t l = 0; l < nl; l++) {
            p[0] = x[l] + i * d;
            o[0] = out[l] + i;
            one(p, d, q, o);
        }
}

void dot_rows(const float *x, size_t n, size_t d, const float *q, float *out)
{
    dot_rows_lanes(&x, &out, 1, n, d, q);
}

int dot_block_blas(void)
{
    return kernel() != K_AVX512;
}

void dot_block(const float *x, size_t n, size_t d, const float *qs, size_t nq, float *c)
{
    if (n == 0 || nq == 0)
        return;
    if (d == 0) {
        memset(c, 0, n * nq * sizeof *c);
        return;
    }
#ifdef DOT_X86
    if (!dot_block_blas()) {
        block512(x, n, d, qs, nq, c);
        return;
    }
#endif
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nq, (blasint)n, (blasint)d,
                1.0f, qs, (blasint)d, x, (blasint)d, 0.0f, c, (blasint)n);
}
