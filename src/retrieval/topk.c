#include "topk.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dot.h"
#include "util.h"

/* Items scored at a time (a multiple of the kernels' row tiles); their
 * scores, QUERY_BLOCK x ITEM_BLOCK (60 KiB), are selected from while in
 * cache, so no n-long score array exists. */
#define ITEM_BLOCK 240
#define QUERY_BLOCK 64
/* Multiply-adds below which a search stays on the calling thread. */
#define PARALLEL_MIN ((size_t)1 << 21)

/* Threads per search (topk_set_blas_threads). */
static atomic_int search_nthreads = 1;

/* 1 when (sa, ia) ranks above (sb, ib) in the module's total order. Scores
 * arrive as float or double; a float widens to double exactly. */
static inline int ranks_above(double sa, size_t ia, double sb, size_t ib)
{
    int na = isnan(sa), nb = isnan(sb);
    if (na || nb)
        return na && nb ? ia > ib : nb;
    if (sa != sb)
        return sa > sb;
    return ia > ib;
}

/* A kept hit while selecting: the score at the caller's precision. */
typedef struct hent {
    double score;
    size_t index;
} hent;

/* Selection state of one query: a heap of at most k hits whose root is the
 * worst kept hit, plus the filter, consumed in ascending index order. */
typedef struct sel {
    hent *h;
    topk_hit *out;
    size_t n, k;
    size_t cutoff;
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
        if (c + 1 < n && ranks_above(h[c].score, h[c].index, h[c + 1].score, h[c + 1].index))
            c++;
        if (!ranks_above(x.score, x.index, h[c].score, h[c].index))
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
        if (!ranks_above(h[p].score, h[p].index, x.score, x.index))
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static inline void sel_offer(sel *s, double score, size_t idx)
{
    if (s->n < s->k) {
        s->h[s->n] = (hent){score, idx};
        sift_up(s->h, s->n++);
    } else if (ranks_above(score, idx, s->h[0].score, s->h[0].index)) {
        s->h[0] = (hent){score, idx};
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
    *s = (sel){xmalloc((k ? k : 1) * sizeof(hent)), out, 0, k, TOPK_ALL, NULL, 0, 0};
    if (!f)
        return;
    s->cutoff = f->cutoff;
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
    for (size_t j = 0; j < end; j++) {
        double v = fs ? fs[j] : ds[j];
        /* Below the worst kept hit: out (items come in ascending index, so
         * an equal score ranks above it). NaNs compare false and go on. */
        if (s->n == s->k && v < s->h[0].score)
            continue;
        if (s->exi >= s->nex || !sel_excluded(s, base + j))
            sel_offer(s, v, base + j);
    }
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

/* One search over the item rows [lo, hi): each query's k best among them go
 * to out[i*k ..] and their number to counts[i]. single: one query through
 * dot_rows (else dot_block). */
typedef struct part {
    const float *items;
    size_t d;
    const float *qs;
    size_t nq, k;
    const topk_filter *filters;
    int single;
    size_t lo, hi;
    topk_hit *out;
    size_t *counts;
} part;

static void search_part(const part *p)
{
    float *c = xmalloc((size_t)QUERY_BLOCK * ITEM_BLOCK * sizeof *c);
    sel s[QUERY_BLOCK];

    for (size_t q0 = 0; q0 < p->nq; q0 += QUERY_BLOCK) {
        size_t qb = p->nq - q0 < QUERY_BLOCK ? p->nq - q0 : QUERY_BLOCK, nv = p->lo;
        const float *qs = p->qs + q0 * p->d;
        for (size_t i = 0; i < qb; i++) {
            const topk_filter *f = p->filters ? &p->filters[q0 + i] : NULL;
            size_t v = visible(p->hi, f);
            sel_init(&s[i], p->out + (q0 + i) * p->k, p->k, f);
            if (v > nv)
                nv = v;
        }
        for (size_t i0 = p->lo; i0 < nv && p->k > 0; i0 += ITEM_BLOCK) {
            size_t ib = nv - i0 < ITEM_BLOCK ? nv - i0 : ITEM_BLOCK;
            if (p->single)
                dot_rows(p->items + i0 * p->d, ib, p->d, qs, c);
            else
                dot_block(p->items + i0 * p->d, ib, p->d, qs, qb, c);
            for (size_t i = 0; i < qb; i++)
                sel_scan(&s[i], c + i * ib, NULL, i0, ib);
        }
        for (size_t i = 0; i < qb; i++)
            p->counts[q0 + i] = sel_finish(&s[i]);
    }
    free(c);
}

static void *search_thread(void *arg)
{
    search_part(arg);
    return NULL;
}

/* Threads for one search: 1 when the work is small or OpenBLAS does the
 * arithmetic (its own threads apply then). */
static size_t search_threads(const part *p, size_t nv)
{
    size_t t = (size_t)atomic_load(&search_nthreads), chunks = (nv + ITEM_BLOCK - 1) / ITEM_BLOCK;
    if (t <= 1 || (!p->single && dot_block_blas()) || nv * p->d * p->nq < PARALLEL_MIN)
        return 1;
    return t < chunks ? t : chunks;
}

/* p covers every item; split it at chunk borders (so each row's score is
 * the same bits whatever the thread count) and merge the parts' hits. */
static void search(part *p, size_t n)
{
    size_t nv = 0, t;
    for (size_t i = 0; i < p->nq; i++) {
        size_t v = visible(n, p->filters ? &p->filters[i] : NULL);
        nv = v > nv ? v : nv;
    }
    p->lo = 0;
    p->hi = n;
    t = search_threads(p, nv);
    if (t <= 1) {
        search_part(p);
        return;
    }

    size_t per = (nv + ITEM_BLOCK - 1) / ITEM_BLOCK;
    part *parts = xmalloc(t * sizeof *parts);
    pthread_t *tid = xmalloc(t * sizeof *tid);
    int *started = xcalloc(t, sizeof *started);
    topk_hit *hits = xmalloc(t * p->nq * p->k * sizeof *hits);
    size_t *counts = xmalloc(t * p->nq * sizeof *counts);

    per = (per + t - 1) / t * ITEM_BLOCK;
    for (size_t i = 0; i < t; i++) {
        parts[i] = *p;
        parts[i].lo = i * per < nv ? i * per : nv;
        parts[i].hi = (i + 1) * per < nv ? (i + 1) * per : nv;
        parts[i].out = hits + i * p->nq * p->k;
        parts[i].counts = counts + i * p->nq;
    }
    for (size_t i = 1; i < t; i++)
        started[i] = pthread_create(&tid[i], NULL, search_thread, &parts[i]) == 0;
    search_part(&parts[0]);
    for (size_t i = 1; i < t; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            search_part(&parts[i]);
    }
    for (size_t q = 0; q < p->nq; q++) {
        sel m;
        sel_init(&m, p->out + q * p->k, p->k, NULL);
        for (size_t i = 0; i < t; i++)
            for (size_t h = 0; h < counts[i * p->nq + q]; h++) {
                const topk_hit *x = &hits[(i * p->nq + q) * p->k + h];
                sel_offer(&m, x->score, x->index);
            }
        p->counts[q] = sel_finish(&m);
    }
    free(parts);
    free(tid);
    free(started);
    free(hits);
    free(counts);
}

size_t topk_search(const float *items, size_t n, size_t d, const float *query, size_t k,
                   const topk_filter *f, topk_hit *out)
{
    size_t count = 0;
    part p = {items, d, query, 1, k, f, 1, 0, 0, out, &count};
    search(&p, n);
    return count;
}

void topk_search_batch(const float *items, size_t n, size_t d, const float *queries, size_t nq,
                       size_t k, const topk_filter *filters, topk_hit *out, size_t *counts)
{
    part p = {items, d, queries, nq, k, filters, 0, 0, 0, out, counts};
    search(&p, n);
}

void topk_set_blas_threads(int n)
{
    atomic_store(&search_nthreads, n < 1 ? 1 : n);
    openblas_set_num_threads(n < 1 ? 1 : n);
}

const char *topk_blas_info(void)
{
    static _Thread_local char info[256];
    const char *cfg = openblas_get_config();
    snprintf(info, sizeof info, "%s; threads=%d; kernel=%s", cfg ? cfg : "OpenBLAS",
             openblas_get_num_threads(), dot_kernel());
    return info;
}
