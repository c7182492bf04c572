#include "lexical.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenize.h"
#include "util.h"

/* rank_bm25.BM25Okapi defaults, as LaMP uses them. */
#define BM25_K1 1.5
#define BM25_B 0.75
#define BM25_EPS 0.25
#define TERM_SEED 0x70657273ULL

struct lexical {
    encoder_kind kind;
    encoder_tok tok;
    size_t ndocs;
    /* vocabulary: term t is bytes[toff[t] .. toff[t+1]), ids in first-occurrence
     * order over the corpus (rank_bm25's dictionary order) */
    size_t nterms, vcap;
    char *bytes;
    size_t nbytes, bcap;
    size_t *toff;
    uint64_t *hash;
    uint32_t *table; /* open addressing on the hash: term id + 1, 0 = empty */
    size_t tcap;
    /* postings of term t: pstart[t] .. pstart[t+1], in item order */
    size_t *pstart;
    uint32_t *pdoc, *ptf;
    double *pw;   /* the document weight over the whole history */
    double *idf;  /* over the whole history (bm25: after the epsilon floor) */
    uint32_t *dl; /* tokens per item */
    uint64_t *dlsum;  /* ndocs + 1 prefix sums of dl */
    size_t *vprefix;  /* ndocs + 1: terms first seen in items before d */
};

/* ---- one text's terms ---- */

/* The terms of one text in order: its tokens, then (tfidf) the bigrams of
 * consecutive tokens as "a b" (no token contains a space: both tokenizers
 * split on it). Bytes are kept by offset, so growth never invalidates. */
typedef struct terms {
    tokenize_iter it;
    char *b;
    size_t nb, bcap;
    size_t *off; /* n + 1 */
    size_t n, ocap, ntok;
} terms;

static void terms_push(terms *t, const void *p, size_t len, const void *p2, size_t len2)
{
    if (t->n + 2 > t->ocap)
        t->off = xgrow(t->off, &t->ocap, t->n + 2, sizeof *t->off);
    t->b = xgrow(t->b, &t->bcap, t->nb + len + len2 + 1, 1);
    memcpy(t->b + t->nb, p, len);
    t->nb += len;
    if (p2) {
        t->b[t->nb++] = ' ';
        memcpy(t->b + t->nb, p2, len2);
        t->nb += len2;
    }
    t->off[++t->n] = t->nb;
}

/* 0, or -1 with *bad the byte offset of invalid UTF-8. */
static int terms_scan(terms *t, encoder_tok mode, int bigrams, const char *text, size_t *bad)
{
    const unsigned char *tok;
    size_t n;
    int r;

    t->n = t->nb = 0;
    if (!t->ocap)
        t->off = xgrow(t->off, &t->ocap, 2, sizeof *t->off);
    t->off[0] = 0;
    tokenize_start(&t->it, text, mode);
    while ((r = tokenize_next(&t->it, &tok, &n, bad)) == 1)
        terms_push(t, tok, n, NULL, 0);
    if (r < 0)
        return -1;
    t->ntok = t->n;
    for (size_t i = 1; bigrams && i < t->ntok; i++) {
        size_t a = t->off[i - 1], la = t->off[i] - a, lb = t->off[i + 1] - t->off[i];
        /* room first, so the push copies from a buffer that does not move */
        t->b = xgrow(t->b, &t->bcap, t->nb + la + lb + 1, 1);
        terms_push(t, t->b + a, la, t->b + a + la, lb);
    }
    return 0;
}

static void terms_free(terms *t)
{
    tokenize_done(&t->it);
    free(t->b);
    free(t->off);
}

/* ---- vocabulary ---- */

static inline uint64_t term_hash(const char *p, size_t n)
{
    return pe_hash64(p, n, TERM_SEED);
}

/* The id of the term (p, n) with hash h, or -1. */
static long vocab_find(const lexical *lx, const char *p, size_t n, uint64_t h)
{
    size_t mask = lx->tcap - 1;
    if (!lx->tcap)
        return -1;
    for (size_t i = (size_t)h & mask; lx->table[i]; i = (i + 1) & mask) {
        uint32_t id = lx->table[i] - 1;
        if (lx->hash[id] == h && lx->toff[id + 1] - lx->toff[id] == n &&
            memcmp(lx->bytes + lx->toff[id], p, n) == 0)
            return id;
    }
    return -1;
}

/* A table of at least twice the terms (a power of two), holding them all. */
static void table_grow(lexical *lx)
{
    size_t cap = lx->tcap ? lx->tcap * 2 : 1024, mask;
    while (cap < 2 * (lx->nterms + 1))
        cap *= 2;
    mask = cap - 1;
    free(lx->table);
    lx->table = xcalloc(cap, sizeof *lx->table);
    lx->tcap = cap;
    for (size_t t = 0; t < lx->nterms; t++) {
        size_t i = (size_t)lx->hash[t] & mask;
        while (lx->table[i])
            i = (i + 1) & mask;
        lx->table[i] = (uint32_t)t + 1;
    }
}

/* The id of (p, n), added when new (load factor at most 1/2). */
static uint32_t vocab_add(lexical *lx, const char *p, size_t n)
{
    uint64_t h = term_hash(p, n);
    long id = vocab_find(lx, p, n, h);
    size_t i;
    if (id >= 0)
        return (uint32_t)id;
    if (2 * (lx->nterms + 1) > lx->tcap)
        table_grow(lx);
    if (lx->nterms + 2 > lx->vcap) { /* the same growth for both arrays */
        size_t c = lx->vcap;
        lx->hash = xgrow(lx->hash, &c, lx->nterms + 2, sizeof *lx->hash);
        lx->toff = xgrow(lx->toff, &lx->vcap, lx->nterms + 2, sizeof *lx->toff);
    }
    lx->bytes = xgrow(lx->bytes, &lx->bcap, lx->nbytes + n + 1, 1);
    memcpy(lx->bytes + lx->nbytes, p, n);
    lx->nbytes += n;
    lx->hash[lx->nterms] = h;
    lx->toff[lx->nterms + 1] = lx->nbytes;
    for (i = (size_t)h & (lx->tcap - 1); lx->table[i]; i = (i + 1) & (lx->tcap - 1))
        ;
    lx->table[i] = (uint32_t)lx->nterms + 1;
    return (uint32_t)lx->nterms++;
}

/* ---- statistics ---- */

/* Postings of t among items 0..c-1 (postings are in item order). */
static size_t df_below(const lexical *lx, size_t t, size_t c)
{
    size_t lo = lx->pstart[t], hi = lx->pstart[t + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lx->pdoc[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - lx->pstart[t];
}

/* idf of every term seen in items 0..c-1 (the first vprefix[c] ids) over
 * those c items. bm25 as rank_bm25's _calc_idf: the sum runs in dictionary
 * order, the average over every term, then negatives become eps x average. */
static void idf_prefix(const lexical *lx, size_t c, double *idf)
{
    size_t nt = lx->vprefix[c];
    double *by_df = xmalloc((c + 1) * sizeof *by_df), sum = 0;

    for (size_t df = 1; df <= c; df++)
        by_df[df] = lx->kind == ENCODER_TFIDF
                        ? log((1 + (double)c) / (1 + (double)df)) + 1
                        : log((double)(c - df) + 0.5) - log((double)df + 0.5);
    for (size_t t = 0; t < nt; t++) {
        size_t df = c == lx->ndocs ? lx->pstart[t + 1] - lx->pstart[t] : df_below(lx, t, c);
        idf[t] = by_df[df];
        sum += idf[t];
    }
    free(by_df);
    if (lx->kind == ENCODER_BM25 && nt) {
        double eps = BM25_EPS * (sum / (double)nt);
        for (size_t t = 0; t < nt; t++)
            if (idf[t] < 0)
                idf[t] = eps;
    }
}

/* rank_bm25's term-frequency factor, in its order of operations. */
static inline double bm25_weight(double tf, double dl, double avgdl)
{
    return tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * dl / avgdl));
}

/* TF-IDF document norms over items 0..c-1 with the idf of that prefix. */
static double *tfidf_norms(const lexical *lx, size_t c, const double *idf)
{
    double *nrm = xcalloc(c ? c : 1, sizeof *nrm);
    for (size_t t = 0; t < lx->vprefix[c]; t++)
        for (size_t p = lx->pstart[t]; p < lx->pstart[t + 1] && lx->pdoc[p] < c; p++) {
            double x = lx->ptf[p] * idf[t];
            nrm[lx->pdoc[p]] += x * x;
        }
    for (size_t d = 0; d < c; d++)
        nrm[d] = nrm[d] > 0 ? sqrt(nrm[d]) : 1;
    return nrm;
}

/* The whole history's idf and document weights, kept for searches without
 * a cutoff. */
static void weigh_all(lexical *lx)
{
    size_t n = lx->ndocs;
    double avgdl = n ? (double)lx->dlsum[n] / (double)n : 0, *nrm = NULL;

    lx->idf = xmalloc((lx->nterms ? lx->nterms : 1) * sizeof *lx->idf);
    idf_prefix(lx, n, lx->idf);
    lx->pw = xmalloc((lx->pstart[lx->nterms] ? lx->pstart[lx->nterms] : 1) * sizeof *lx->pw);
    if (lx->kind == ENCODER_TFIDF)
        nrm = tfidf_norms(lx, n, lx->idf);
    for (size_t t = 0; t < lx->nterms; t++)
        for (size_t p = lx->pstart[t]; p < lx->pstart[t + 1]; p++)
            lx->pw[p] = nrm ? lx->ptf[p] * lx->idf[t] / nrm[lx->pdoc[p]]
                            : bm25_weight(lx->ptf[p], lx->dl[lx->pdoc[p]], avgdl);
    free(nrm);
}

/* ---- building ---- */

int lexical_build(const encoder_opts *o, const char *const *docs, size_t n, lexical **out,
                  pe_err *e)
{
    lexical *lx;
    terms t = {0};
    uint32_t *stamp = NULL, *slot = NULL, *pid = NULL, *ptf = NULL, *df;
    size_t scap = 0, pcap = 0, np = 0, bad, *dstart;
    int rc = 0;

    *out = NULL;
    if (o && !encoder_kind_lexical(o->kind))
        return pe_errf(e, PE_EXIT_USAGE, "encoder \"%s\" is not lexical",
                       encoder_kind_name(o->kind));
    lx = xcalloc(1, sizeof *lx);
    lx->kind = o ? o->kind : ENCODER_BM25;
    lx->tok = encoder_tokenizer_for(o);
    lx->ndocs = n;
    lx->dl = xmalloc((n ? n : 1) * sizeof *lx->dl);
    lx->dlsum = xmalloc((n + 1) * sizeof *lx->dlsum);
    lx->vprefix = xmalloc((n + 1) * sizeof *lx->vprefix);
    lx->toff = xgrow(NULL, &lx->vcap, 2, sizeof *lx->toff);
    {
        size_t c = 0;
        lx->hash = xgrow(NULL, &c, lx->vcap, sizeof *lx->hash);
    }
    lx->toff[0] = 0;
    dstart = xmalloc((n + 1) * sizeof *dstart);
    lx->dlsum[0] = 0;
    /* pass 1: each item's distinct terms (first-occurrence order) and counts */
    for (size_t d = 0; d < n; d++) {
        if (terms_scan(&t, lx->tok, lx->kind == ENCODER_TFIDF, docs[d], &bad) != 0) {
            rc = pe_errf(e, PE_EXIT_DATA, "text %zu: invalid UTF-8 at byte %zu", d, bad);
            break;
        }
        lx->vprefix[d] = lx->nterms;
        lx->dl[d] = (uint32_t)t.ntok;
        lx->dlsum[d + 1] = lx->dlsum[d] + t.ntok;
        dstart[d] = np;
        for (size_t i = 0; i < t.n; i++) {
            uint32_t id = vocab_add(lx, t.b + t.off[i], t.off[i + 1] - t.off[i]);
            if (id >= scap) { /* the same growth for both; new stamps zeroed */
                size_t old = scap, c = scap;
                stamp = xgrow(stamp, &c, (size_t)id + 1, sizeof *stamp);
                slot = xgrow(slot, &scap, (size_t)id + 1, sizeof *slot);
                memset(stamp + old, 0, (scap - old) * sizeof *stamp);
            }
            if (stamp[id] == d + 1) {
                ptf[slot[id]]++;
                continue;
            }
            if (np == pcap) {
                size_t c = pcap;
                pid = xgrow(pid, &c, np + 1, sizeof *pid);
                ptf = xgrow(ptf, &pcap, np + 1, sizeof *ptf);
            }
            stamp[id] = (uint32_t)d + 1;
            slot[id] = (uint32_t)np;
            pid[np] = id;
            ptf[np++] = 1;
        }
    }
    free(stamp);
    free(slot);
    terms_free(&t);
    if (rc != 0) {
        free(pid);
        free(ptf);
        free(dstart);
        lexical_free(lx);
        return rc;
    }
    lx->vprefix[n] = lx->nterms;
    dstart[n] = np;
    /* pass 2: item-major pairs to term-major postings (a counting sort, so
     * each term's postings stay in item order) */
    df = xcalloc(lx->nterms + 1, sizeof *df);
    for (size_t p = 0; p < np; p++)
        df[pid[p]]++;
    lx->pstart = xmalloc((lx->nterms + 1) * sizeof *lx->pstart);
    lx->pstart[0] = 0;
    for (size_t k = 0; k < lx->nterms; k++)
        lx->pstart[k + 1] = lx->pstart[k] + df[k];
    lx->pdoc = xmalloc((np ? np : 1) * sizeof *lx->pdoc);
    lx->ptf = xmalloc((np ? np : 1) * sizeof *lx->ptf);
    memset(df, 0, lx->nterms * sizeof *df); /* now: postings filled per term */
    for (size_t d = 0; d < n; d++)
        for (size_t p = dstart[d]; p < dstart[d + 1]; p++) {
            size_t at = lx->pstart[pid[p]] + df[pid[p]]++;
            lx->pdoc[at] = (uint32_t)d;
            lx->ptf[at] = ptf[p];
        }
    free(df);
    free(dstart);
    free(pid);
    free(ptf);
    free(lx->table); /* rebuilt at its final size */
    lx->table = NULL;
    lx->tcap = 0;
    table_grow(lx);
    weigh_all(lx);
    *out = lx;
    return 0;
}

void lexical_free(lexical *lx)
{
    if (!lx)
        return;
    free(lx->bytes);
    free(lx->toff);
    free(lx->hash);
    free(lx->table);
    free(lx->pstart);
    free(lx->pdoc);
    free(lx->ptf);
    free(lx->pw);
    free(lx->idf);
    free(lx->dl);
    free(lx->dlsum);
    free(lx->vprefix);
    free(lx);
}

/* ---- scoring ---- */

/* The query's vocabulary terms among the first nt ids, in query order
 * (repeats kept); unknown terms dropped. Returns how many. */
static size_t query_ids(const lexical *lx, const terms *t, size_t nt, uint32_t *ids)
{
    size_t m = 0;
    for (size_t i = 0; i < t->n; i++) {
        const char *p = t->b + t->off[i];
        size_t len = t->off[i + 1] - t->off[i];
        long id = vocab_find(lx, p, len, term_hash(p, len));
        if (id >= 0 && (size_t)id < nt)
            ids[m++] = (uint32_t)id;
    }
    return m;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* BM25: for each query token in order, idf x weight added to the items that
 * hold it (rank_bm25 adds idf x 0 to the others). */
static void score_bm25(const lexical *lx, const uint32_t *ids, size_t m, size_t c,
                       const double *idf, double *scores)
{
    double avgdl = c ? (double)lx->dlsum[c] / (double)c : 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t t = ids[i];
        for (size_t p = lx->pstart[t]; p < lx->pstart[t + 1] && lx->pdoc[p] < c; p++) {
            double w = c == lx->ndocs ? lx->pw[p]
                                      : bm25_weight(lx->ptf[p], lx->dl[lx->pdoc[p]], avgdl);
            scores[lx->pdoc[p]] += idf[t] * w;
        }
    }
}

/* TF-IDF: the query's distinct terms (sorted ids, counted) weighted and
 * normalized, dotted with the items' normalized weights. */
static void score_tfidf(const lexical *lx, uint32_t *ids, size_t m, size_t c,
                        const double *idf, double *scores)
{
    double qn = 0, *nrm = c == lx->ndocs ? NULL : tfidf_norms(lx, c, idf);
    qsort(ids, m, sizeof *ids, cmp_u32);
    for (size_t i = 0, j; i < m; i = j) {
        for (j = i; j < m && ids[j] == ids[i]; j++)
            ;
        qn += ((double)(j - i) * idf[ids[i]]) * ((double)(j - i) * idf[ids[i]]);
    }
    qn = qn > 0 ? sqrt(qn) : 1;
    for (size_t i = 0, j; i < m; i = j) {
        uint32_t t = ids[i];
        double q;
        for (j = i; j < m && ids[j] == t; j++)
            ;
        q = (double)(j - i) * idf[t] / qn;
        for (size_t p = lx->pstart[t]; p < lx->pstart[t + 1] && lx->pdoc[p] < c; p++)
            scores[lx->pdoc[p]] +=
                q * (nrm ? lx->ptf[p] * idf[t] / nrm[lx->pdoc[p]] : lx->pw[p]);
    }
    free(nrm);
}

int lexical_scores(const lexical *lx, const char *query, size_t cutoff, double *scores,
                   pe_err *e)
{
    size_t c = cutoff < lx->ndocs ? cutoff : lx->ndocs, nt = lx->vprefix[c], m;
    terms t = {0};
    uint32_t *ids;
    double *idf = NULL;
    size_t bad;

    if (terms_scan(&t, lx->tok, lx->kind == ENCODER_TFIDF, query, &bad) != 0) {
        terms_free(&t);
        return pe_errf(e, PE_EXIT_DATA, "invalid UTF-8 at byte %zu", bad);
    }
    memset(scores, 0, c * sizeof *scores);
    ids = xmalloc((t.n ? t.n : 1) * sizeof *ids);
    m = query_ids(lx, &t, nt, ids);
    if (m && c < lx->ndocs) {
        idf = xmalloc(nt * sizeof *idf);
        idf_prefix(lx, c, idf);
    }
    if (m && lx->kind == ENCODER_TFIDF)
        score_tfidf(lx, ids, m, c, idf ? idf : lx->idf, scores);
    else if (m)
        score_bm25(lx, ids, m, c, idf ? idf : lx->idf, scores);
    free(idf);
    free(ids);
    terms_free(&t);
    return 0;
}

/* ---- sizes ---- */

size_t lexical_ndocs(const lexical *lx)
{
    return lx->ndocs;
}

size_t lexical_nterms(const lexical *lx)
{
    return lx->nterms;
}

size_t lexical_npairs(const lexical *lx)
{
    return lx->pstart[lx->nterms];
}

size_t lexical_bytes(const lexical *lx)
{
    size_t np = lexical_npairs(lx), n = lx->ndocs, v = lx->nterms;
    return sizeof *lx + lx->bcap + lx->vcap * (sizeof *lx->toff + sizeof *lx->hash) +
           lx->tcap * sizeof *lx->table + (v + 1) * sizeof *lx->pstart +
           np * (sizeof *lx->pdoc + sizeof *lx->ptf + sizeof *lx->pw) + v * sizeof *lx->idf +
           n * sizeof *lx->dl + (n + 1) * (sizeof *lx->dlsum + sizeof *lx->vprefix);
}

encoder_kind lexical_kind(const lexical *lx)
{
    return lx->kind;
}

encoder_tok lexical_tokenizer(const lexical *lx)
{
    return lx->tok;
}
