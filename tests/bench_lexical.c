/* bench_lexical: exact BM25 for one heavy user: 3,000 history items of ~90
 * words with a vocabulary over 40k tokens (LaMP's most active users). Prints
 * the index build time and size, the per-query search time of the sparse
 * index (every item scored exactly, top 4 selected; with and without a
 * replay cutoff, whose statistics come from the older items) beside a naive
 * loop that scores every item for every query token by looking the token up
 * in the item (rank_bm25's get_scores() in C), and the peak RSS of the whole
 * benchmark. Times are the thread's CPU time. Printed, never asserted. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "buf.h"
#include "lexical.h"
#include "topk.h"
#include "util.h"

#define ITEMS 3000
#define WORDS 90
#define QUERIES 200
#define K 4

/* The thread's CPU time: the machine is shared, so wall time would count
 * other processes. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *stop[] = {"the", "a", "of", "and", "to", "in", "is", "it", "for", "on"};

/* Zipf-like word ids: log-uniform over [1, 10^6). */
static void add_word(buf *b, pe_rng *g)
{
    double u = (double)pe_rng_below(g, 1u << 30) / (double)(1u << 30);
    if (pe_rng_below(g, 4) == 0)
        buf_adds(b, stop[pe_rng_below(g, 10)]);
    else
        buf_printf(b, "w%u", (unsigned)pow(1e6, u));
}

static char *gen_text(pe_rng *g, size_t words)
{
    buf b = BUF_INIT;
    for (size_t i = 0; i < words; i++) {
        if (i)
            buf_addc(&b, ' ');
        add_word(&b, g);
    }
    return buf_detach(&b);
}

/* ---- the naive scorer: per item a sorted list of (token, count) ---- */

typedef struct nitem {
    char **tok; /* sorted distinct tokens */
    unsigned *cnt;
    size_t n, len;
} nitem;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **split(const char *s, size_t *n)
{
    char **v = NULL, *copy = xstrdup(s), *save = NULL;
    size_t cap = 0;
    *n = 0;
    for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        v = xgrow(v, &cap, *n + 1, sizeof *v);
        v[(*n)++] = xstrdup(t);
    }
    free(copy);
    return v;
}

static nitem naive_item(const char *text)
{
    nitem it = {0};
    char **t = split(text, &it.len);
    qsort(t, it.len, sizeof *t, cmp_str);
    it.tok = xmalloc((it.len ? it.len : 1) * sizeof *it.tok);
    it.cnt = xmalloc((it.len ? it.len : 1) * sizeof *it.cnt);
    for (size_t i = 0; i < it.len; i++) {
        if (it.n && strcmp(it.tok[it.n - 1], t[i]) == 0) {
            it.cnt[it.n - 1]++;
            free(t[i]);
            continue;
        }
        it.tok[it.n] = t[i];
        it.cnt[it.n++] = 1;
    }
    free(t);
    return it;
}

static unsigned naive_tf(const nitem *it, const char *w)
{
    char **p = bsearch(&w, it->tok, it->n, sizeof *it->tok, cmp_str);
    return p ? it->cnt[p - it->tok] : 0;
}

/* idf of a token over all items (computed per query token, as the loop
 * needs it; rank_bm25 precomputes it, so it is excluded from the timing). */
static double naive_idf(const nitem *items, size_t n, const char *w, double eps)
{
    size_t df = 0;
    double idf;
    for (size_t i = 0; i < n; i++)
        df += naive_tf(&items[i], w) > 0;
    if (!df)
        return 0;
    idf = log((double)(n - df) + 0.5) - log((double)df + 0.5);
    return idf < 0 ? eps : idf;
}

int main(void)
{
    char **docs = xmalloc(ITEMS * sizeof *docs), **queries = xmalloc(QUERIES * sizeof *queries);
    double *scores = xmalloc(ITEMS * sizeof *scores), *qidf, t, t_build, t_exact, t_replay,
           t_naive, avgdl = 0, eps;
    nitem *items = xmalloc(ITEMS * sizeof *items);
    topk_hit h[K], hn[K];
    size_t agree = 0, bytes = 0;
    struct rusage ru;
    lexical *lx;
    pe_rng g;
    pe_err e = {0};

    pe_rng_seed(&g, 10);
    for (size_t i = 0; i < ITEMS; i++) {
        docs[i] = gen_text(&g, WORDS / 2 + (size_t)pe_rng_below(&g, WORDS));
        bytes += strlen(docs[i]);
    }
    for (size_t q = 0; q < QUERIES; q++)
        queries[q] = gen_text(&g, 20);

    t_build = 0;
    for (int rep = 0; rep < 3; rep++) { /* the best of three: the machine is shared */
        t = cpu_now();
        if (lexical_build(NULL, (const char *const *)docs, ITEMS, &lx, &e) != 0) {
            fprintf(stderr, "bench_lexical: %s\n", e.msg);
            return 1;
        }
        t = cpu_now() - t;
        t_build = rep == 0 || t < t_build ? t : t_build;
        if (rep < 2)
            lexical_free(lx);
    }

    t = cpu_now();
    for (size_t q = 0; q < QUERIES; q++) {
        lexical_scores(lx, queries[q], LEXICAL_ALL, scores, &e);
        topk_select_f64(scores, ITEMS, K, NULL, h);
    }
    t_exact = (cpu_now() - t) / QUERIES;
    t = cpu_now();
    for (size_t q = 0; q < QUERIES; q++) {
        lexical_scores(lx, queries[q], ITEMS / 2, scores, &e);
        topk_select_f64(scores, ITEMS / 2, K, NULL, h);
    }
    t_replay = (cpu_now() - t) / QUERIES;

    /* naive: the same scores by looking every query token up in every item */
    for (size_t i = 0; i < ITEMS; i++) {
        items[i] = naive_item(docs[i]);
        avgdl += (double)items[i].len;
    }
    avgdl /= ITEMS;
    {
        /* rank_bm25's epsilon: 0.25 x the average idf of every term */
        char **all = NULL;
        size_t nall = 0, cap = 0, nt = 0;
        double sum = 0;
        for (size_t i = 0; i < ITEMS; i++)
            for (size_t j = 0; j < items[i].n; j++) {
                all = xgrow(all, &cap, nall + 1, sizeof *all);
                all[nall++] = items[i].tok[j];
            }
        qsort(all, nall, sizeof *all, cmp_str);
        for (size_t a = 0, b; a < nall; a = b, nt++) {
            for (b = a; b < nall && strcmp(all[a], all[b]) == 0; b++)
                ;
            sum += log((double)(ITEMS - (b - a)) + 0.5) - log((double)(b - a) + 0.5);
        }
        eps = 0.25 * sum / (double)nt;
        free(all);
    }
    t_naive = 0;
    for (size_t q = 0; q < QUERIES; q++) {
        size_t nw;
        char **w = split(queries[q], &nw);
        qidf = xmalloc((nw ? nw : 1) * sizeof *qidf);
        for (size_t j = 0; j < nw; j++)
            qidf[j] = naive_idf(items, ITEMS, w[j], eps);
        t = cpu_now();
        for (size_t i = 0; i < ITEMS; i++) {
            double s = 0;
            for (size_t j = 0; j < nw; j++) {
                double tf = naive_tf(&items[i], w[j]);
                s += qidf[j] * (tf * 2.5 / (tf + 1.5 * (0.25 + 0.75 * (double)items[i].len /
                                                               avgdl)));
            }
            scores[i] = s;
        }
        topk_select_f64(scores, ITEMS, K, NULL, hn);
        t_naive += cpu_now() - t;
        lexical_scores(lx, queries[q], LEXICAL_ALL, scores, &e);
        topk_select_f64(scores, ITEMS, K, NULL, h);
        {
            int same = 1;
            for (size_t j = 0; j < K; j++)
                same &= h[j].index == hn[j].index;
            agree += (size_t)same;
        }
        for (size_t j = 0; j < nw; j++)
            free(w[j]);
        free(w);
        free(qidf);
    }
    t_naive /= QUERIES;

    printf("one user: %d items, %.2f MB of text, %zu distinct tokens, %zu (item, token) "
           "pairs\n",
           ITEMS, (double)bytes / 1e6, lexical_nterms(lx), lexical_npairs(lx));
    printf("  index: built in %.1f ms, %.2f MB (%.1f bytes per pair); a dense float matrix "
           "of items x vocabulary would take %.0f MB\n",
           t_build * 1e3, (double)lexical_bytes(lx) / 1e6,
           (double)lexical_bytes(lx) / (double)lexical_npairs(lx),
           (double)ITEMS * (double)lexical_nterms(lx) * 4 / 1e6);
    printf("  per query (20 tokens, top %d, every item scored exactly):\n", K);
    printf("    sparse index            %9.1f us\n", t_exact * 1e6);
    printf("    sparse, replay cutoff   %9.1f us (statistics of the %d older items)\n",
           t_replay * 1e6, ITEMS / 2);
    printf("    naive loop over items   %9.1f us (%.0fx slower; same top %d in %zu of %d "
           "queries)\n",
           t_naive * 1e6, t_naive / t_exact, K, agree, QUERIES);
    lexical_free(lx);
    for (size_t i = 0; i < ITEMS; i++) {
        for (size_t j = 0; j < items[i].n; j++)
            free(items[i].tok[j]);
        free(items[i].tok);
        free(items[i].cnt);
        free(docs[i]);
    }
    for (size_t q = 0; q < QUERIES; q++)
        free(queries[q]);
    free(items);
    free(docs);
    free(queries);
    free(scores);
    getrusage(RUSAGE_SELF, &ru);
    printf("  peak RSS of the whole benchmark: %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    return 0;
}
