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
/* Row ranges one query's scan reads at once (see dot_rows_lanes). */
#define LANES 4
/* Multiply-adds below which a search stays on the calling thread. */
#define PARALLEL_MIN ((size_t)1 << 21)

/* Threads per search (topk_set_blas_threads). */
static atomic_int search_nthreads = 1;

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
    for (size_t j = 0; j < end; j++) {
        double v = fs ? fs[j] : ds[j];
        /* Below the worst kept hit: out. An equal score goes on to the tie
         * rule (key, then index); NaNs compare false and go on. */
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

/* One search over the item rows [lo, hi): each query's best kc (k capped
 * by the item count) go to out[i*stride ..] and their number to counts[i].
 * single: one query through dot_rows (else dot_block). */
typedef struct part {
    const float *items;
    size_t d;
    const float *qs;
    size_t nq, kc, stride;
    const topk_filter *filters;
    int single;
    size_t lo, hi;
    topk_hit *out;
    size_t *counts;
} part;

/* The best k of parts' hits: part i's at hits + i*hstride, counts[i*cstride]
 * of them. Returns the number written to out. */
static size_t merge(const topk_hit *hits, size_t hstride, const size_t *counts, size_t cstride,
                    size_t parts, size_t k, const size_t *tie, topk_hit *out)
{
    sel m;
    sel_init(&m, out, k, NULL);
    m.tie = tie; /* the filter's cutoff and exclusions were applied by the parts */
    for (size_t i = 0; i < parts; i++)
        for (size_t h = 0; h < counts[i * cstride]; h++)
            sel_offer(&m, hits[i * hstride + h].score, hits[i * hstride + h].index);
    return sel_finish(&m);
}

/* One query: the rows are taken in LANES ranges far apart, a row of each at
 * a time (dot_rows_lanes), each range with its own selection; merged. */
static void search_lanes(const part *p)
{
    const topk_filter *f = p->filters;
    size_t nv = visible(p->hi, f), chunks, nl, per, start[LANES], end[LANES], counts[LANES];
    float *c = xmalloc((size_t)LANES * ITEM_BLOCK * sizeof *c);
    topk_hit *hits;
    sel s[LANES];

    nv = nv > p->lo ? nv : p->lo;
    chunks = (nv - p->lo + ITEM_BLOCK - 1) / ITEM_BLOCK;
    nl = chunks >= LANES ? LANES : 1;
    per = (chunks + nl - 1) / nl * ITEM_BLOCK;
    hits = nl > 1 ? xmalloc(nl * (p->kc ? p->kc : 1) * sizeof *hits) : p->out;
    for (size_t l = 0; l < nl; l++) {
        start[l] = p->lo + l * per < nv ? p->lo + l * per : nv;
        end[l] = p->lo + (l + 1) * per < nv ? p->lo + (l + 1) * per : nv;
        sel_init(&s[l], hits + l * p->kc, p->kc, f);
    }
    for (size_t off = 0; off < per && p->kc > 0; off += ITEM_BLOCK) {
        size_t cnt[LANES];
        const float *x[LANES];
        float *o[LANES];
        int same = 1;
        for (size_t l = 0; l < nl; l++) {
            size_t b = start[l] + off < end[l] ? start[l] + off : end[l];
            cnt[l] = end[l] - b < ITEM_BLOCK ? end[l] - b : ITEM_BLOCK;
            x[l] = p->items + b * p->d;
            o[l] = c + l * ITEM_BLOCK;
            same &= cnt[l] == cnt[0];
        }
        if (same)
            dot_rows_lanes(x, o, nl, cnt[0], p->d, p->qs);
        else
            for (size_t l = 0; l < nl; l++)
                dot_rows(x[l], cnt[l], p->d, p->qs, o[l]);
        for (size_t l = 0; l < nl; l++)
            sel_scan(&s[l], o[l], NULL, start[l] + off, cnt[l]);
    }
    for (size_t l = 0; l < nl; l++)
        counts[l] = sel_finish(&s[l]);
    if (nl > 1) {
        p->counts[0] = merge(hits, p->kc, counts, 1, nl, p->kc, f ? f->tie : NULL, p->out);
        free(hits);
    } else {
        p->counts[0] = counts[0];
    }
    free(c);
}

static void search_part(const part *p)
{
    float *c;
    sel s[QUERY_BLOCK];

    if (p->single) {
        search_lanes(p);
        return;
    }
    c = xmalloc((size_t)QUERY_BLOCK * ITEM_BLOCK * sizeof *c);
    for (size_t q0 = 0; q0 < p->nq; q0 += QUERY_BLOCK) {
        size_t qb = p->nq - q0 < QUERY_BLOCK ? p->nq - q0 : QUERY_BLOCK, nv = p->lo;
        const float *qs = p->qs + q0 * p->d;
        for (size_t i = 0; i < qb; i++) {
            const topk_filter *f = p->filters ? &p->filters[q0 + i] : NULL;
            size_t v = visible(p->hi, f);
            sel_init(&s[i], p->out + (q0 + i) * p->stride, p->kc, f);
            if (v > nv)
                nv = v;
        }
        for (size_t i0 = p->lo; i0 < nv && p->kc > 0; i0 += ITEM_BLOCK) {
            size_t ib = nv - i0 < ITEM_BLOCK ? nv - i0 : ITEM_BLOCK;
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

/* The search of nq queries over n items (k hits per query at most, out
 * strided by k): split at chunk borders over the threads (each row's score
 * is the same bits whatever the split), the parts' hits merged. */
static void search(part *p, size_t n, size_t k)
{
    size_t nv = 0, t;
    for (size_t i = 0; i < p->nq; i++) {
        size_t v = visible(n, p->filters ? &p->filters[i] : NULL);
        nv = v > nv ? v : nv;
    }
    p->kc = k < nv ? k : nv;
    p->stride = k;
    p->lo = 0;
    p->hi = n;
    t = search_threads(p, nv);
    if (t <= 1) {
        search_part(p);
        return;
    }

    size_t per = (nv + ITEM_BLOCK - 1) / ITEM_BLOCK, kc = p->kc ? p->kc : 1;
    part *parts = xmalloc(t * sizeof *parts);
    pthread_t *tid = xmalloc(t * sizeof *tid);
    int *started = xcalloc(t, sizeof *started);
    topk_hit *hits = xmalloc(t * p->nq * kc * sizeof *hits);
    size_t *counts = xmalloc(t * p->nq * sizeof *counts);

    per = (per + t - 1) / t * ITEM_BLOCK;
    for (size_t i = 0; i < t; i++) {
        parts[i] = *p;
        parts[i].stride = kc;
        parts[i].lo = i * per < nv ? i * per : nv;
        parts[i].hi = (i + 1) * per < nv ? (i + 1) * per : nv;
        parts[i].out = hits + i * p->nq * kc;
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
    for (size_t q = 0; q < p->nq; q++)
        p->counts[q] = merge(hits + q * kc, p->nq * kc, counts + q, p->nq, t, p->kc,
                             p->filters ? p->filters[q].tie : NULL, p->out + q * k);
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
    part p = {items, d, query, 1, 0, 0, f, 1, 0, 0, out, &count};
    search(&p, n, k);
    return count;
}

void topk_search_batch(const float *items, size_t n, size_t d, const float *queries, size_t nq,
                       size_t k, const topk_filter *filters, topk_hit *out, size_t *counts)
{
    part p = {items, d, queries, nq, 0, 0, filters, 0, 0, 0, out, counts};
    search(&p, n, k);
}

/* OpenBLAS's pthread build starts its server threads when it is loaded, and
 * an idle one spins in sched_yield for about 2^28 cycles before it sleeps:
 * on a small machine, a core taken from the run's first tenth of a second.
 * blas_thread_shutdown_ (what OpenBLAS's own fork handler calls) stops them;
 * OpenBLAS starts them again at its next threaded call. Weak: a BLAS without
 * it is left as it is. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

void topk_set_blas_threads(int n)
{
    atomic_store(&search_nthreads, n < 1 ? 1 : n);
    openblas_set_num_threads(n < 1 ? 1 : n);
    if (n <= 1 && blas_thread_shutdown_)
        blas_thread_shutdown_();
}

const char *topk_blas_info(void)
{
    static _Thread_local char info[256];
    const char *cfg = openblas_get_config();
    snprintf(info, sizeof info, "%s; threads=%d; kernel=%s", cfg ? cfg : "OpenBLAS",
             openblas_get_num_threads(), dot_kernel());
    return info;
}
