/* topk: the top-K core against a brute-force reference (score every item in
 * double precision, filter, fully sort, cut), on random integer-valued data
 * so that dot products are exact and ties are frequent; once per dot-product
 * kernel the CPU runs (dot_force), and split over two threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dot.h"
#include "testutil.h"
#include "topk.h"
#include "util.h"

typedef struct ref_hit {
    double score;
    size_t index;
} ref_hit;

/* NaN last; higher score first; then higher index (LaMP's reversed argsort). */
static int ref_cmp(const void *a, const void *b)
{
    const ref_hit *x = a, *y = b;
    int nx = isnan(x->score), ny = isnan(y->score);
    if (nx != ny)
        return nx - ny;
    if (!nx && x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->index > y->index ? -1 : x->index < y->index;
}

static int excluded(const topk_filter *f, size_t i)
{
    if (!f)
        return 0;
    if (i >= f->cutoff)
        return 1;
    for (size_t j = 0; j < f->nexclude; j++)
        if (f->exclude[j] == i)
            return 1;
    return 0;
}

/* Brute force: returns the number of hits in out. */
static size_t ref_topk(const float *items, size_t n, size_t d, const float *q, size_t k,
                       const topk_filter *f, ref_hit *out)
{
    ref_hit *all = xcalloc(n + 1, sizeof *all);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        if (excluded(f, i))
            continue;
        for (size_t j = 0; j < d; j++)
            s += (double)items[i * d + j] * q[j];
        all[m++] = (ref_hit){s, i};
    }
    qsort(all, m, sizeof *all, ref_cmp);
    if (m > k)
        m = k;
    memcpy(out, all, m * sizeof *out);
    free(all);
    return m;
}

static void fill(pe_rng *r, float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (float)((int)pe_rng_below(r, 7) - 3);
}

/* Random filter: cutoff often unset or past the end, duplicate and
 * out-of-range exclusions included. */
static topk_filter rand_filter(pe_rng *r, size_t n, size_t *ex)
{
    topk_filter f = TOPK_FILTER_ALL;
    uint64_t c = pe_rng_below(r, 4);
    if (c == 1)
        f.cutoff = (size_t)pe_rng_below(r, n + 3);
    else if (c == 2)
        f.cutoff = n + 10;
    if (pe_rng_below(r, 2)) {
        f.nexclude = (size_t)pe_rng_below(r, 8);
        for (size_t i = 0; i < f.nexclude; i++)
            ex[i] = (size_t)pe_rng_below(r, n + 2);
        f.exclude = ex;
    }
    return f;
}

static void assert_same(const topk_hit *got, size_t ng, const ref_hit *want, size_t nw)
{
    ck_assert_uint_eq(ng, nw);
    for (size_t i = 0; i < nw; i++) {
        ck_assert_uint_eq(got[i].index, want[i].index);
        if (isnan(want[i].score))
            ck_assert(isnan(got[i].score));
        else
            ck_assert_double_eq((double)got[i].score, want[i].score);
    }
}

static void make_items(pe_rng *r, float *items, size_t n, size_t d)
{
    fill(r, items, n * d);
    /* a few items whose score will be NaN */
    for (size_t i = 0; i < n; i++)
        if (pe_rng_below(r, 20) == 0)
            items[i * d + pe_rng_below(r, d)] = NAN;
}

/* The kernels by loop index; a test for one the CPU lacks passes empty. */
static const char *const kernels[] = {"avx512", "avx2", "generic"};

static int use_kernel(int i)
{
    topk_set_blas_threads(1);
    return dot_force(kernels[i]) == 0;
}

START_TEST(single_query_matches_reference)
{
    pe_rng r;
    if (!use_kernel(_i))
        return;
    pe_rng_seed(&r, 11);
    for (int trial = 0; trial < 300; trial++) {
        /* from 721 items on, a scan is split into four ranges (lanes) */
        size_t n = trial == 0   ? 0
                   : trial == 1 ? 9000
                   : trial < 20 ? 700 + (size_t)pe_rng_below(&r, 3000)
                                : (size_t)pe_rng_below(&r, 300);
        size_t d = 1 + (size_t)pe_rng_below(&r, 70); /* every vector tail */
        size_t k = (size_t)pe_rng_below(&r, n + 6), ex[8];
        /* the rows start anywhere in a cache line */
        float *buf = xmalloc(((n + 1) * d + 16) * sizeof *buf), *q = xmalloc(d * sizeof *q);
        float *items = buf + pe_rng_below(&r, 16);
        topk_hit *got = xmalloc((k + 1) * sizeof *got);
        ref_hit *want = xmalloc((k + 1) * sizeof *want);
        topk_filter f = rand_filter(&r, n, ex);
        const topk_filter *fp = pe_rng_below(&r, 3) ? &f : NULL;

        make_items(&r, items, n, d);
        fill(&r, q, d);
        assert_same(got, topk_search(items, n, d, q, k, fp, got), want,
                    ref_topk(items, n, d, q, k, fp, want));
        free(buf);
        free(q);
        free(got);
        free(want);
    }
}
END_TEST

START_TEST(batch_matches_reference)
{
    pe_rng r;
    if (!use_kernel(_i))
        return;
    pe_rng_seed(&r, 12);
    for (int trial = 0; trial < 40; trial++) {
        size_t n = trial == 0 ? 0 : (size_t)pe_rng_below(&r, 1300);
        size_t d = 1 + (size_t)pe_rng_below(&r, 50);
        size_t nq = 1 + (size_t)pe_rng_below(&r, 140);
        size_t k = (size_t)pe_rng_below(&r, trial % 5 == 0 ? n + 3 : 12);
        float *items = xmalloc((n + 1) * d * sizeof *items);
        float *qs = xmalloc(nq * d * sizeof *qs);
        topk_hit *got = xmalloc((nq * k + 1) * sizeof *got);
        ref_hit *want = xmalloc((k + 1) * sizeof *want);
        topk_filter *fs = xmalloc(nq * sizeof *fs);
        size_t *ex = xmalloc(nq * 8 * sizeof *ex), *counts = xmalloc(nq * sizeof *counts);
        int use_f = trial % 3 != 0;

        make_items(&r, items, n, d);
        fill(&r, qs, nq * d);
        for (size_t i = 0; i < nq; i++)
            fs[i] = rand_filter(&r, n, ex + 8 * i);
        topk_search_batch(items, n, d, qs, nq, k, use_f ? fs : NULL, got, counts);
        for (size_t i = 0; i < nq; i++)
            assert_same(got + i * k, counts[i], want,
                        ref_topk(items, n, d, qs + i * d, k, use_f ? &fs[i] : NULL, want));
        free(items);
        free(qs);
        free(got);
        free(want);
        free(fs);
        free(ex);
        free(counts);
    }
}
END_TEST

/* Searches big enough to be split over two threads: the same hits as the
 * reference, ties across the split included, and on real-valued data the
 * same scores (bits) as one thread. */
START_TEST(threads_match_reference)
{
    enum { n = 70001, d = 130, nq = 7, k = 9 };
    float *items = xmalloc((size_t)n * d * sizeof *items), *qs = xmalloc(nq * d * sizeof *qs);
    topk_hit got[nq * k], one[nq * k];
    ref_hit want[k];
    size_t counts[nq], counts1[nq], ex[8];
    topk_filter fs[nq];
    pe_rng r;

    if (!use_kernel(_i)) { /* not on this CPU */
        free(items);
        free(qs);
        return;
    }
    pe_rng_seed(&r, 13);
    make_items(&r, items, n, d);
    fill(&r, qs, nq * d);
    for (size_t i = 0; i < nq; i++)
        fs[i] = TOPK_FILTER_ALL;
    fs[1].cutoff = 40000;
    fs[2] = rand_filter(&r, n, ex);
    topk_set_blas_threads(2);
    assert_same(got, topk_search(items, n, d, qs, k, &fs[1], got), want,
                ref_topk(items, n, d, qs, k, &fs[1], want));
    topk_search_batch(items, n, d, qs, nq, k, fs, got, counts);
    for (size_t i = 0; i < nq; i++)
        assert_same(got + i * k, counts[i], want, ref_topk(items, n, d, qs + i * d, k, &fs[i], want));

    for (size_t i = 0; i < (size_t)n * d; i++)
        items[i] = (float)pe_rng_below(&r, 1u << 20) / 4096.0f - 128.0f;
    for (size_t i = 0; i < nq * d; i++)
        qs[i] = (float)pe_rng_below(&r, 1u << 20) / 1048576.0f - 0.5f;
    topk_search_batch(items, n, d, qs, nq, k, NULL, got, counts);
    topk_set_blas_threads(1);
    topk_search_batch(items, n, d, qs, nq, k, NULL, one, counts1);
    for (size_t i = 0; i < nq; i++) {
        ck_assert_uint_eq(counts[i], counts1[i]);
        for (size_t j = 0; j < counts[i]; j++) {
            ck_assert_uint_eq(got[i * k + j].index, one[i * k + j].index);
            ck_assert(memcmp(&got[i * k + j].score, &one[i * k + j].score, sizeof(float)) == 0);
        }
    }
    free(items);
    free(qs);
}
END_TEST

/* A row's score does not depend on where it sits in memory: the same bits
 * for the rows and query copied to every float offset in a cache line. */
START_TEST(alignment_keeps_scores)
{
    enum { n = 37, d = 83 };
    float *src = xmalloc(n * d * sizeof *src), *buf = xmalloc((n * d + 32) * sizeof *buf);
    float q0[d], *qbuf = xmalloc((d + 32) * sizeof *qbuf);
    topk_hit first[n], got[n];
    pe_rng r;

    if (!use_kernel(_i)) { /* not on this CPU */
        free(src);
        free(buf);
        free(qbuf);
        return;
    }
    pe_rng_seed(&r, 14);
    for (size_t i = 0; i < n * d; i++)
        src[i] = (float)pe_rng_below(&r, 1u << 20) / 1048576.0f - 0.5f;
    for (size_t j = 0; j < d; j++)
        q0[j] = (float)pe_rng_below(&r, 1u << 20) / 1048576.0f - 0.5f;
    for (size_t shift = 0; shift < 16; shift++) {
        float *items = buf + shift, *q = qbuf + (shift * 7) % 16;
        memcpy(items, src, sizeof *src * n * d);
        memcpy(q, q0, sizeof q0);
        ck_assert_uint_eq(topk_search(items, n, d, q, n, NULL, shift ? got : first), n);
        for (size_t i = 0; shift && i < n; i++) {
            ck_assert_uint_eq(got[i].index, first[i].index);
            ck_assert(memcmp(&got[i].score, &first[i].score, sizeof(float)) == 0);
        }
    }
    free(src);
    free(buf);
    free(qbuf);
}
END_TEST

START_TEST(kernel_names)
{
    ck_assert_int_eq(dot_force("generic"), 0);
    ck_assert_str_eq(dot_kernel(), "generic");
    ck_assert_ptr_nonnull(strstr(topk_blas_info(), "kernel=generic"));
    ck_assert_int_eq(dot_force("sse9"), -1);
    ck_assert_str_eq(dot_kernel(), "generic");
    ck_assert_int_eq(dot_force(NULL), 0);
}
END_TEST

START_TEST(select_order_by_hand)
{
    const float s[] = {1, NAN, INFINITY, -INFINITY, 1, NAN, 0};
    topk_hit h[8];
    size_t ex[] = {6};
    topk_filter f = {TOPK_ALL, ex, 1, NULL};

    ck_assert_uint_eq(topk_select(s, 7, 8, &f, h), 6);
    ck_assert_uint_eq(h[0].index, 2); /* +inf */
    ck_assert_uint_eq(h[1].index, 4); /* 1, the later item first */
    ck_assert_uint_eq(h[2].index, 0);
    ck_assert_uint_eq(h[3].index, 3); /* -inf still above NaN */
    ck_assert_uint_eq(h[4].index, 5); /* NaNs: the later first too */
    ck_assert_uint_eq(h[5].index, 1);
    ck_assert_uint_eq(topk_select(s, 7, 2, NULL, h), 2);
    ck_assert_uint_eq(h[0].index, 2);
    ck_assert_uint_eq(h[1].index, 4);
    f = (topk_filter){2, NULL, 0, NULL};
    ck_assert_uint_eq(topk_select(s, 7, 5, &f, h), 2);
    ck_assert_uint_eq(h[0].index, 0);
    ck_assert_uint_eq(h[1].index, 1);
    ck_assert_uint_eq(topk_select(s, 0, 5, NULL, h), 0);
    ck_assert_uint_eq(topk_select(s, 7, 0, NULL, h), 0);
}
END_TEST

/* A tie key per item orders equal scores (higher key first), before the
 * index; scores still come first. */
START_TEST(select_ties_by_key)
{
    const float s[] = {1, 1, 2, 1, 1};
    const size_t tie[] = {3, 0, 9, 4, 3};
    const float items[] = {1, 1, 2, 1, 1}; /* d = 1: the same scores through sgemv */
    const float q[] = {1};
    topk_filter f = {TOPK_ALL, NULL, 0, tie};
    topk_hit h[5];
    static const size_t want[] = {2, 3, 4, 0, 1};

    ck_assert_uint_eq(topk_select(s, 5, 5, &f, h), 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_uint_eq(h[i].index, want[i]);
    ck_assert_uint_eq(topk_search(items, 5, 1, q, 3, &f, h), 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_uint_eq(h[i].index, want[i]);
}
END_TEST

/* Equal scores everywhere: the tie keys alone order the hits, also when the
 * rows are scanned in several ranges (lanes: n > 4 chunks) or split over two
 * threads and the parts' hits merged. Expected: the items of the k highest
 * keys, highest first, found by sorting the keys. */
START_TEST(ties_by_key_across_parts)
{
    enum { n = 5000, d = 512, nq = 3, k = 6 };
    float *items = xmalloc((size_t)n * d * sizeof *items), *qs = xmalloc(nq * d * sizeof *qs);
    size_t *tie = xmalloc(n * sizeof *tie), want[k], counts[nq];
    topk_hit got[nq * k];
    topk_filter fs[nq];

    if (!use_kernel(_i)) { /* not on this CPU */
        free(items);
        free(qs);
        free(tie);
        return;
    }
    for (size_t i = 0; i < (size_t)n * d; i++)
        items[i] = 0.5f; /* every score 256, exactly */
    for (size_t i = 0; i < nq * d; i++)
        qs[i] = 1.0f;
    for (size_t i = 0; i < n; i++)
        tie[i] = i * 7919 % n; /* a permutation: 7919 is prime to 5000 */
    for (size_t r = 0; r < k; r++) /* key n-1-r belongs to item i with i*7919 = n-1-r (mod n) */
        for (size_t i = 0; i < n; i++)
            if (tie[i] == n - 1 - r)
                want[r] = i;
    for (size_t i = 0; i < nq; i++)
        fs[i] = (topk_filter){TOPK_ALL, NULL, 0, tie};
    for (int threads = 1; threads <= 2; threads++) {
        topk_set_blas_threads(threads);
        ck_assert_uint_eq(topk_search(items, n, d, qs, k, &fs[0], got), k);
        for (size_t r = 0; r < k; r++)
            ck_assert_uint_eq(got[r].index, want[r]);
        topk_search_batch(items, n, d, qs, nq, k, fs, got, counts);
        for (size_t q = 0; q < nq; q++) {
            ck_assert_uint_eq(counts[q], k);
            for (size_t r = 0; r < k; r++)
                ck_assert_uint_eq(got[q * k + r].index, want[r]);
        }
    }
    topk_set_blas_threads(1);
    free(items);
    free(qs);
    free(tie);
}
END_TEST

START_TEST(blas_threads)
{
    topk_set_blas_threads(1);
    ck_assert_ptr_nonnull(strstr(topk_blas_info(), "threads=1"));
    topk_set_blas_threads(0); /* clamped to 1 */
    ck_assert_ptr_nonnull(strstr(topk_blas_info(), "threads=1"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("topk");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, select_order_by_hand);
    tcase_add_test(tc, select_ties_by_key);
    tcase_add_loop_test(tc, single_query_matches_reference, 0, 3);
    tcase_add_loop_test(tc, batch_matches_reference, 0, 3);
    tcase_add_loop_test(tc, threads_match_reference, 0, 3);
    tcase_add_loop_test(tc, alignment_keeps_scores, 0, 3);
    tcase_add_loop_test(tc, ties_by_key_across_parts, 0, 3);
    tcase_add_test(tc, kernel_names);
    tcase_add_test(tc, blas_threads);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
