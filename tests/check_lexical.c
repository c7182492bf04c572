/* lexical: exact BM25Okapi and TF-IDF over a sparse index. Scores against an
 * exact scorer written here after the BM25Okapi formula, hand-derived values,
 * and tests/lexical_ref.py (numpy) on generated users whose vocabularies
 * exceed 40k tokens: top-K sets and order, ties in LaMP's order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lexical.h"
#include "testutil.h"
#include "topk.h"
#include "util.h"

/* ---- an exact BM25Okapi, after rank_bm25 (strings, no hashing) ---- */

typedef struct rdoc {
    char **tok;
    size_t n;
} rdoc;

typedef struct rbm25 {
    rdoc *docs;
    size_t ndocs;
    char **terms; /* distinct terms */
    double *idf;
    size_t nterms;
    double avgdl;
} rbm25;

static rdoc split_ws(const char *s)
{
    rdoc d = {0};
    size_t cap = 0;
    while (*s) {
        const char *a;
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        a = s;
        while (*s && *s != ' ')
            s++;
        d.tok = xgrow(d.tok, &cap, d.n + 1, sizeof *d.tok);
        d.tok[d.n++] = xstrndup(a, (size_t)(s - a));
    }
    return d;
}

static size_t count_in(const rdoc *d, const char *w)
{
    size_t c = 0;
    for (size_t i = 0; i < d->n; i++)
        c += strcmp(d->tok[i], w) == 0;
    return c;
}

static long term_index(const rbm25 *r, const char *w)
{
    for (size_t i = 0; i < r->nterms; i++)
        if (strcmp(r->terms[i], w) == 0)
            return (long)i;
    return -1;
}

static void rbm25_init(rbm25 *r, const char *const *docs, size_t n)
{
    size_t cap = 0, total = 0;
    double sum = 0, eps;
    memset(r, 0, sizeof *r);
    r->docs = xcalloc(n + 1, sizeof *r->docs);
    r->ndocs = n;
    for (size_t i = 0; i < n; i++) {
        r->docs[i] = split_ws(docs[i]);
        total += r->docs[i].n;
        for (size_t j = 0; j < r->docs[i].n; j++)
            if (term_index(r, r->docs[i].tok[j]) < 0) {
                r->terms = xgrow(r->terms, &cap, r->nterms + 1, sizeof *r->terms);
                r->terms[r->nterms++] = r->docs[i].tok[j];
            }
    }
    r->avgdl = (double)total / (double)n;
    r->idf = xcalloc(r->nterms + 1, sizeof *r->idf);
    for (size_t t = 0; t < r->nterms; t++) {
        double df = 0;
        for (size_t i = 0; i < n; i++)
            df += count_in(&r->docs[i], r->terms[t]) > 0;
        r->idf[t] = log((double)n - df + 0.5) - log(df + 0.5);
        sum += r->idf[t];
    }
    eps = 0.25 * sum / (double)r->nterms;
    for (size_t t = 0; t < r->nterms; t++)
        if (r->idf[t] < 0)
            r->idf[t] = eps;
}

static double rbm25_score(const rbm25 *r, const rdoc *q, size_t d)
{
    double s = 0;
    for (size_t i = 0; i < q->n; i++) {
        long t = term_index(r, q->tok[i]);
        double tf = (double)count_in(&r->docs[d], q->tok[i]);
        if (t < 0)
            continue;
        s += r->idf[t] * tf * 2.5 /
             (tf + 1.5 * (1 - 0.75 + 0.75 * (double)r->docs[d].n / r->avgdl));
    }
    return s;
}

static void rdoc_free(rdoc *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->tok[i]);
    free(d->tok);
}

static void rbm25_free(rbm25 *r)
{
    for (size_t i = 0; i < r->ndocs; i++)
        rdoc_free(&r->docs[i]);
    free(r->docs);
    free(r->terms);
    free(r->idf);
}

static lexical *build(encoder_kind kind, const char *const *docs, size_t n)
{
    encoder_opts o = {.kind = kind};
    lexical *lx;
    pe_err e = {0};
    ck_assert_msg(lexical_build(&o, docs, n, &lx, &e) == 0, "%s", e.msg);
    return lx;
}

/* Every query's BM25 against every document equals the scorer above. */
static void assert_bm25_exact(const char *const *docs, size_t nd, const char *const *queries,
                              size_t nq)
{
    lexical *lx = build(ENCODER_BM25, docs, nd);
    double *got = xmalloc(nd * sizeof *got);
    rbm25 r;
    pe_err e = {0};

    rbm25_init(&r, docs, nd);
    for (size_t q = 0; q < nq; q++) {
        rdoc qd = split_ws(queries[q]);
        ck_assert_int_eq(lexical_scores(lx, queries[q], LEXICAL_ALL, got, &e), 0);
        for (size_t d = 0; d < nd; d++) {
            double want = rbm25_score(&r, &qd, d);
            ck_assert_msg(fabs(got[d] - want) <= 1e-12 * (1 + fabs(want)),
                          "q \"%s\" d%zu: %.17g vs %.17g", queries[q], d, got[d], want);
        }
        rdoc_free(&qd);
    }
    rbm25_free(&r);
    lexical_free(lx);
    free(got);
}

START_TEST(bm25_by_hand)
{
    /* "the" is in every document (negative idf → epsilon * average idf), "cat"
     * in two of four (idf 0), the rest rarer; repeats in the query count. */
    const char *docs[] = {"the cat sat on the mat", "the dog ate the cat food",
                          "the bird sang", "the end"};
    const char *queries[] = {"the cat", "cat cat dog", "bird the sang sang", "zebra"};
    rbm25 r;
    lexical *lx = build(ENCODER_BM25, docs, 4);
    double s[4];
    pe_err e = {0};

    rbm25_init(&r, docs, 4);
    /* by hand: nine terms with df 1, "cat" with idf 0, "the" with ln(.5/4.5) */
    ck_assert_double_eq_tol(r.idf[term_index(&r, "the")],
                            0.25 * (9 * log(3.5 / 1.5) + log(0.5 / 4.5)) / 11, 1e-12);
    ck_assert_double_gt(rbm25_score(&r, &(rdoc){(char *[]){"bird"}, 1}, 2), 0.5);
    rbm25_free(&r);
    assert_bm25_exact(docs, 4, queries, 4);
    /* "cat" alone: idf 0 → every score exactly 0 */
    ck_assert_int_eq(lexical_scores(lx, "cat", LEXICAL_ALL, s, &e), 0);
    for (size_t d = 0; d < 4; d++)
        ck_assert(s[d] == 0);
    ck_assert_uint_eq(lexical_nterms(lx), 11);
    /* distinct (document, term) pairs: 5 + 5 + 3 + 2 */
    ck_assert_uint_eq(lexical_npairs(lx), 15);
    ck_assert_int_eq(lexical_scores(lx, "bad \xff", LEXICAL_ALL, s, &e), PE_EXIT_DATA);
    ck_assert_ptr_nonnull(strstr(e.msg, "byte 4"));
    lexical_free(lx);
}
END_TEST

START_TEST(bm25_long_tokens_are_distinct_terms)
{
    /* equal first bytes, different tails, lengths 7..22, a case difference */
    const char *docs[] = {"abcdefgh x",          "abcdefghi y",        "abcdefghij z",
                          "abcdefgh12345678 x",  "abcdefgh12345679 y", "abcdefgh123456789 z",
                          "Abcdefgh x",          "abcdefg y",          "internationalization x",
                          "internationalizations y"};
    const char *queries[] = {"abcdefgh",          "abcdefghi",         "abcdefgh12345679",
                             "abcdefgh123456789", "Abcdefgh abcdefg",  "internationalizations",
                             "x y z"};
    lexical *lx = build(ENCODER_BM25, docs, 10);
    double s[10];
    pe_err e = {0};

    assert_bm25_exact(docs, 10, queries, 7);
    /* each long query word matches its own document only */
    for (size_t q = 0; q < 10; q++) {
        char *w = xstrndup(docs[q], (size_t)(strchr(docs[q], ' ') - docs[q]));
        ck_assert_int_eq(lexical_scores(lx, w, LEXICAL_ALL, s, &e), 0);
        for (size_t d = 0; d < 10; d++)
            ck_assert_msg((s[d] > 0.1) == (d == q), "\"%s\" against document %zu", w, d);
        free(w);
    }
    lexical_free(lx);
}
END_TEST

START_TEST(invalid_utf8_names_text_and_byte)
{
    const char *docs[] = {"fine", "also \xe2\x82 bad"};
    encoder_opts b = {.kind = ENCODER_BACKEND};
    lexical *lx = (lexical *)1;
    pe_err e = {0};
    ck_assert_int_eq(lexical_build(NULL, docs, 2, &lx, &e), PE_EXIT_DATA);
    ck_assert_ptr_null(lx);
    ck_assert_ptr_nonnull(strstr(e.msg, "text 1"));
    ck_assert_ptr_nonnull(strstr(e.msg, "byte 5"));
    ck_assert_int_eq(lexical_build(&b, docs, 1, &lx, &e), PE_EXIT_USAGE);
}
END_TEST

START_TEST(tfidf_cosine_and_bigrams)
{
    const char *docs[] = {"New York city lights", "York is new to me", "Paris in spring",
                          "NEW york!"};
    lexical *lx = build(ENCODER_TFIDF, docs, 4);
    double s[4];
    pe_err e = {0};

    ck_assert_int_eq(lexical_tokenizer(lx), ENCODER_TOK_WORDS);
    /* terms: 4 + 5 + 3 + 2 unigrams, 3 + 4 + 2 + 1 bigrams; shared: new, york,
     * "new york" */
    ck_assert_uint_eq(lexical_npairs(lx), 24);
    ck_assert_uint_eq(lexical_nterms(lx), 24 - 2 * 2 - 1 * 1);
    ck_assert_int_eq(lexical_scores(lx, "new york", LEXICAL_ALL, s, &e), 0);
    /* "new york" as a bigram is in doc 0, not in doc 1 with the same words */
    ck_assert_double_gt(s[0], s[1] + 0.05);
    /* case and punctuation folded: doc 3 is the query's twin */
    ck_assert_double_eq_tol(s[3], 1.0, 1e-12);
    ck_assert_int_eq(lexical_scores(lx, "paris spring", LEXICAL_ALL, s, &e), 0);
    ck_assert_double_gt(s[2], 0.3);
    ck_assert(s[0] == 0);
    /* by hand, N = 4: doc 2 = {paris, in, spring, "paris in", "in spring"}, all
     * df 1 (idf ln(5/2) + 1); the query {paris, spring, "paris spring"} keeps
     * two known terms: cosine = 2 / (sqrt(5) sqrt(2)) */
    ck_assert_double_eq_tol(s[2], 2 / (sqrt(5) * sqrt(2)), 1e-12);
    lexical_free(lx);
}
END_TEST

/* ---- against tests/lexical_ref.py ---- */

/* The first interpreter that imports numpy, or NULL. */
static const char *python_with_numpy(void)
{
    static const char *cand[] = {NULL, "python3", "/usr/bin/python3"};
    cand[0] = getenv("PE_PYTHON");
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++)
        if (cand[i] && tu_sh(NULL, NULL, "'%s' -c 'import numpy' 2>/dev/null", cand[i]) == 0)
            return cand[i];
    return NULL;
}

typedef struct ref_user {
    encoder_kind kind;
    char **docs;
    size_t n, cap;
} ref_user;

static void ref_user_clear(ref_user *u)
{
    for (size_t i = 0; i < u->n; i++)
        free(u->docs[i]);
    u->n = 0;
}

/* Checks the hits of one query against the R lines that follow it. */
static size_t check_query(const lexical *lx, const char *qline, FILE *f, char **lb,
                          size_t *bcap)
{
    char *line = xstrdup(qline); /* *lb is read into below */
    size_t cutoff, k, nh, nr = 0, n = lexical_ndocs(lx);
    int off = 0;
    double *s = xmalloc((n ? n : 1) * sizeof *s);
    topk_hit *h;
    pe_err e = {0};

    ck_assert_int_eq(sscanf(line, "Q %zu %zu %n", &cutoff, &k, &off), 2);
    h = xmalloc((k ? k : 1) * sizeof *h);
    ck_assert_int_eq(lexical_scores(lx, line + off, cutoff, s, &e), 0);
    nh = topk_select_f64(s, cutoff < n ? cutoff : n, k, NULL, h);
    while (getline(lb, bcap, f) > 0 && (*lb)[0] == 'R') {
        size_t idx;
        double want;
        ck_assert_int_eq(sscanf(*lb, "R %zu %lf", &idx, &want), 2);
        ck_assert_msg(nr < nh, "query \"%.40s\": %zu hits, more expected", line + off, nh);
        ck_assert_msg(h[nr].index == idx, "cutoff %zu query \"%.60s\" hit %zu: item %zu, "
                      "want %zu (score %.9g, want %.9g)", cutoff, line + off, nr, h[nr].index,
                      idx, (double)h[nr].score, s[idx]);
        ck_assert_msg(fabs((double)h[nr].score - want) <= 1e-6 * (1 + fabs(want)),
                      "hit %zu: score %.9g want %.17g", nr, (double)h[nr].score, want);
        nr++;
    }
    ck_assert_uint_eq(nh, nr);
    free(s);
    free(h);
    free(line);
    return nr;
}

START_TEST(matches_numpy_reference)
{
    const char *py = python_with_numpy();
    char *dir = tu_tmpdir(), *path = tu_path(dir, "ref.txt"), *line = NULL;
    size_t cap = 0, users = 0, queries = 0, maxvocab = 0;
    ref_user u = {0};
    lexical *lx = NULL;
    FILE *f;

    ck_assert_msg(py, "python3 with numpy is needed (Debian: apt-get install python3-numpy)");
    ck_assert_int_eq(tu_sh(NULL, NULL, "'%s' '%s/tests/lexical_ref.py' '%s'", py, tu_root(),
                           path), 0);
    ck_assert_ptr_nonnull(f = fopen(path, "r"));
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
    again:
        if (line[0] == 'U') {
            char kind[16];
            ck_assert_int_eq(sscanf(line, "U %15s", kind), 1);
            u.kind = strcmp(kind, "tfidf") == 0 ? ENCODER_TFIDF : ENCODER_BM25;
            ref_user_clear(&u);
        } else if (line[0] == 'D') {
            u.docs = xgrow(u.docs, &u.cap, u.n + 1, sizeof *u.docs);
            u.docs[u.n++] = xstrdup(line + 2);
        } else if (line[0] == 'Q') {
            if (!lx) {
                lx = build(u.kind, (const char *const *)u.docs, u.n);
                if (lexical_nterms(lx) > maxvocab)
                    maxvocab = lexical_nterms(lx);
            }
            check_query(lx, line, f, &line, &cap);
            queries++;
            if (line[0] != 'R' && !feof(f)) {
                line[strcspn(line, "\n")] = '\0';
                goto again;
            }
        } else if (line[0] == 'E') {
            lexical_free(lx);
            lx = NULL;
            users++;
        }
    }
    fclose(f);
    ck_assert_uint_eq(users, 7);
    ck_assert_uint_ge(queries, 60);
    ck_assert_uint_gt(maxvocab, 40000);
    ref_user_clear(&u);
    free(u.docs);
    free(line);
    free(path);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* Memory follows the non-zero pairs, not items x vocabulary: 3,000 items of
 * a 40k+ vocabulary stay under 64 bytes per pair, term and item. */
START_TEST(memory_follows_pairs)
{
    enum { N = 3000 };
    char **docs = xmalloc(N * sizeof *docs);
    pe_rng g;
    lexical *lx;

    pe_rng_seed(&g, 3);
    for (size_t i = 0; i < N; i++) {
        buf b = BUF_INIT;
        for (int w = 0; w < 40; w++)
            buf_printf(&b, "%sw%u", w ? " " : "", (unsigned)pe_rng_below(&g, 200000));
        docs[i] = buf_detach(&b);
    }
    lx = build(ENCODER_BM25, (const char *const *)docs, N);
    ck_assert_uint_gt(lexical_nterms(lx), 40000);
    ck_assert_uint_le(lexical_npairs(lx), (size_t)N * 40);
    ck_assert_uint_le(lexical_bytes(lx),
                      64 * (lexical_npairs(lx) + lexical_nterms(lx) + (size_t)N));
    /* a dense float matrix of the same shape would take items x vocabulary x 4 */
    ck_assert_uint_lt(lexical_bytes(lx) * 100, (size_t)N * lexical_nterms(lx) * 4);
    lexical_free(lx);
    for (size_t i = 0; i < N; i++)
        free(docs[i]);
    free(docs);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lexical");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, bm25_by_hand);
    tcase_add_test(tc, bm25_long_tokens_are_distinct_terms);
    tcase_add_test(tc, invalid_utf8_names_text_and_byte);
    tcase_add_test(tc, tfidf_cosine_and_bigrams);
    tcase_add_test(tc, memory_follows_pairs);
    tcase_add_test(tc, matches_numpy_reference);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
