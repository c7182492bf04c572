#include "topk.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Rows scored per sgemv call: the score block stays in L1/L2. */
#define ROW_BLOCK 4096
/* Batch blocks: QB x IB scores (128 KiB) reused while the heaps consume them. */
#define QUERY_BLOCK 64
#define ITEM_BLOCK 512

/* A kept hit while selecting: the score at the caller's precision, and its
 * tie key (the filter's tie[index], or the index). */
typedef struct hent {
    double score;
    size_t key, index;
} hent;

/* 1 when a ranks above b in the module's total order: score, then tie key,
 * then index. Scores arrive as float or double; a float widens to double
 * exactly. */
static inline int ranks_above(const hent *a, const hent *b)
{
    int na = isnan(a->score), nb = isnan(b->score);
    if (na != nb)
        return nb;
    if (!na && a->score != b->score)
        return a->score > b->score;
    if (a->key != b->key)
        return a->key > b->key;
    return a->index > b->index;
}

/* Selection state of one query: a heap of at most k hits whose root is the
 * worst kept hit, plus the filter, consumed in ascending index order. */
typedef struct sel {
    hent *h;
    topk_hit *out;
    size_t n, k;
    size_t cutoff;
    const size_t *tie;
    size_t *ex; /* sorted exclusions, owned */
    size_t nex, exi;
} sel;

static void sift_down(hent *h, size_t n, size_t i)
{
    hent x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        /* the child that ranks lower is the one nearer the root */
        if (c + 1 < n && ranks_above(&h[c], &h[c + 1]))
            c++;
        if (!ranks_above(&x, &h[c]))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static void sift_up(hent *h, size_t i)
{
    hent x = h[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ranks_above(&h[p], &x))
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static inline void sel_offer(sel *s, double score, size_t idx)
{
    hent x = {score, s->tie ? s->tie[idx] : idx, idx};
    if (s->n < s->k) {
        s->h[s->n] = x;
        sift_up(s->h, s->n++);
    } else if (ranks_above(&x, &s->h[0])) {
        s->h[0] = x;
        sift_down(s->h, s->n, 0);
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static void sel_init(sel *s, topk_hit *out, size_t k, const topk_filter *f)
{
    *s = (sel){xmalloc((k ? k : 1) * sizeof(hent)), out, 0, k, TOPK_ALL, NULL, NULL, 0, 0};
    if (!f)
        return;
    s->cutoff = f->cutoff;
    s->tie = f->tie;
    if (f->nexclude) {
        s->ex = xmalloc(f->nexclude * sizeof *s->ex);
        memcpy(s->ex, f->exclude, f->nexclude * sizeof *s->ex);
        qsort(s->ex, f->nexclude, sizeof *s->ex, cmp_size);
        s->nex = f->nexclude;
    }
}

/* The items base .. base+cnt-1 the filter admits: [base, base + *end)
 * minus exclusions, checked by sel_excluded in ascending order. */
static size_t sel_end(const sel *s, size_t base, size_t cnt)
{
    if (s->k == 0 || s->cutoff <= base)
        return 0;
    return s->cutoff - base < cnt ? s->cutoff - base : cnt;
}

static inline int sel_excluded(sel *s, size_t idx)
{
    while (s->exi < s->nex && s->ex[s->exi] < idx)
        s->exi++;
    return s->exi < s->nex && s->ex[s->exi] == idx;
}

/* Offer scores of items base .. base+cnt-1: fs (float) or, when fs is NULL,
 * ds (double). */
static void sel_scan(sel *s, const float *fs, const double *ds, size_t base, size_t cnt)
{
    size_t end = sel_end(s, base, cnt);
    for (size_t j = 0; j < end; j++)
        if (s->exi >= s->nex || !sel_excluded(s, base + j))
            sel_offer(s, fs ? fs[j] : ds[j], base + j);
}

/* Sort the kept hits best first (heap sort: the worst goes to the end),
 * write them out and release the state; returns the count. */
static size_t sel_finish(sel *s)
{
    for (size_t m = s->n; m > 1; m--) {
        hent t = s->h[0];
        s->h[0] = s->h[m - 1];
        s->h[m - 1] = t;
        sift_down(s->h, m - 1, 0);
    }
    for (size_t i = 0; i < s->n; i++)
        s->out[i] = (topk_hit){s->h[i].index, (float)s->h[i].score};
    free(s->h);
    free(s->ex);
    s->h = NULL;
    s->ex = NULL;
    return s->n;
}

/* Items a filter can admit at most: n capped by the cutoff. */
static size_t visible(size_t n, const topk_filter *f)
{
    return f && f->cutoff < n ? f->cutoff : n;
}

/* The k best of fs or ds (see sel_scan) through f. */
static size_t select_array(const float *fs, const double *ds, size_t n, size_t k,
                           const topk_filter *f, topk_hit *out)
{
    sel s;
    sel_init(&s, out, k, f);
    sel_scan(&s, fs, ds, 0, n);
    return sel_finish(&s);
}

size_t topk_select(const float *scores, size_t n, size_t k, const topk_filter *f,
                   topk_hit *out)
{
    return select_array(scores, NULL, n, k, f, out);
}

size_t topk_select_f64(const double *scores, size_t n, size_t k, const topk_filter *f,
                       topk_hit *out)
{
    return select_array(NULL, scores, n, k, f, out);
}

size_t topk_search(const float *items, size_t n, size_t d, const float *query, size_t k,
                   const topk_filter *f, topk_hit *out)
{
    float scores[ROW_BLOCK];
    size_t nv = visible(n, f);
    sel s;

    sel_init(&s, out, k, f);
    for (size_t b0 = 0; b0 < nv && k > 0; b0 += ROW_BLOCK) {
        size_t rows = nv - b0 < ROW_BLOCK ? nv - b0 : ROW_BLOCK;
        if (d == 0)
            memset(scores, 0, rows * sizeof *scores);
        else
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)rows, (blasint)d, 1.0f,
                        items + b0 * d, (blasint)d, query, 1, 0.0f, scores, 1);
        sel_scan(&s, scores, NULL, b0, rows);
    }
    return sel_finish(&s);
}

void topk_search_batch(const float *items, size_t n, size_t d, const float *queries, size_t nq,
                       size_t k, const topk_filter *filters, topk_hit *out, size_t *counts)
{
    float *c = xmalloc((size_t)QUERY_BLOCK * ITEM_BLOCK * sizeof *c);
    sel s[QUERY_BLOCK];

    for (size_t q0 = 0; q0 < nq; q0 += QUERY_BLOCK) {
        size_t qb = nq - q0 < QUERY_BLOCK ? nq - q0 : QUERY_BLOCK, nv = 0;
        for (size_t i = 0; i < qb; i++) {
            const topk_filter *f = filters ? &filters[q0 + i] : NULL;
            size_t v = visible(n, f);
            sel_init(&s[i], out + (q0 + i) * k, k, f);
            if (v > nv)
                nv = v;
        }
        for (size_t i0 = 0; i0 < nv && k > 0; i0 += ITEM_BLOCK) {
            size_t ib = nv - i0 < ITEM_BLOCK ? nv - i0 : ITEM_BLOCK;
            if (d == 0)
                memset(c, 0, qb * ib * sizeof *c);
            else
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)qb, (blasint)ib,
                            (blasint)d, 1.0f, queries + q0 * d, (blasint)d, items + i0 * d,
                            (blasint)d, 0.0f, c, (blasint)ib);
            for (size_t i = 0; i < qb; i++)
                sel_scan(&s[i], c + i * ib, NULL, i0, ib);
        }
        for (size_t i = 0; i < qb; i++)
            counts[q0 + i] = sel_finish(&s[i]);
    }
    free(c);
}

void topk_set_blas_threads(int n)
{
    openblas_set_num_threads(n < 1 ? 1 : n);
}

const char *topk_blas_info(void)
{
    static _Thread_local char info[256];
    const char *cfg = openblas_get_config();
    snprintf(info, sizeof info, "%s; threads=%d", cfg ? cfg : "OpenBLAS",
             openblas_get_num_threads());
    return info;
}
