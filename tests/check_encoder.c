/* encoder: tokenizers, BM25 against an exact scorer written here after
 * rank_bm25's BM25Okapi, TF-IDF cosine and the pluggable backend. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "encoder.h"
#include "testutil.h"
#include "topk.h"
#include "util.h"

static void assert_tokens(encoder_tok mode, const char *text, const char *const *want, size_t n)
{
    char **t;
    size_t nt;
    pe_err e = {0};
    ck_assert_int_eq(encoder_tokenize(mode, text, &t, &nt, &e), 0);
    ck_assert_uint_eq(nt, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(t[i], want[i]);
    encoder_tokens_free(t, nt);
}

START_TEST(tokenize_lamp)
{
    /* Python: "Hi,\u00a0there\tyou  x\u3000y\x1cz\u2003w\u200bv\u0085u".split() */
    const char *w1[] = {"Hi,", "there", "you", "x", "y", "z", "w\xe2\x80\x8bv", "u"};
    const char *w2[] = {"don't", "STOP.", "\xc3\x89t\xc3\xa9"};
    assert_tokens(ENCODER_TOK_LAMP,
                  "  Hi,\xc2\xa0there\tyou  x\xe3\x80\x80y\x1cz\xe2\x80\x83w\xe2\x80\x8bv"
                  "\xc2\x85u\n",
                  w1, 8);
    assert_tokens(ENCODER_TOK_LAMP, "don't STOP. \xc3\x89t\xc3\xa9", w2, 3);
    assert_tokens(ENCODER_TOK_DEFAULT, " \t\r\n\v\f", NULL, 0);
    assert_tokens(ENCODER_TOK_LAMP, "", NULL, 0);
}
END_TEST

START_TEST(tokenize_words)
{
    /* Héllo, WORLD! Ça-va ŁÓDŹ ŸES İx don't 3×4 naïve½ */
    const char *w[] = {"h\xc3\xa9llo",         "world", "\xc3\xa7" "a", "va",
                       "\xc5\x82\xc3\xb3" "d\xc5\xba", "\xc3\xbf" "es", "ix", "don", "t",
                       "3",                    "4",     "na\xc3\xafve\xc2\xbd"};
    const char *w2[] = {"abc", "d\xc3\xa9" "f", "\xe6\x97\xa5\xe6\x9c\xac"};
    assert_tokens(ENCODER_TOK_WORDS,
                  "H\xc3\xa9llo, WORLD! \xc3\x87" "a-va \xc5\x81\xc3\x93" "D\xc5\xb9 \xc5\xb8" "ES "
                  "\xc4\xb0x don't 3\xc3\x97" "4 na\xc3\xafve\xc2\xbd",
                  w, 12);
    /* general punctuation (em dash, curly quotes) separates; CJK letters join */
    assert_tokens(ENCODER_TOK_WORDS,
                  "abc\xe2\x80\x94\xe2\x80\x9c" "D\xc3\x89" "F\xe2\x80\x9d \xe6\x97\xa5\xe6\x9c\xac",
                  w2, 3);
}
END_TEST

START_TEST(invalid_utf8)
{
    static const struct {
        const char *text;
        size_t at;
    } bad[] = {
        {"abc\xff", 3},          {"ab\xc3", 2},           {"\xc0\xaf", 0},
        {"ok \xed\xa0\x80", 3},  {"x\xf4\x90\x80\x80", 1}, {"caf\xc3\xa9 \x80", 6},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int mode = ENCODER_TOK_LAMP; mode <= ENCODER_TOK_WORDS; mode++) {
            char **t = (char **)1, want[64];
            size_t nt;
            pe_err e = {0};
            ck_assert_int_eq(encoder_tokenize((encoder_tok)mode, bad[i].text, &t, &nt, &e),
                             PE_EXIT_DATA);
            ck_assert_ptr_null(t);
            snprintf(want, sizeof want, "byte %zu", bad[i].at);
            ck_assert_msg(strstr(e.msg, want), "%s: want %s", e.msg, want);
        }
    }
    {
        const char *docs[] = {"fine", "also \xe2\x82 bad"};
        encoder *enc;
        pe_err e = {0};
        ck_assert_int_eq(encoder_fit(NULL, docs, 2, &enc, &e), PE_EXIT_DATA);
        ck_assert_ptr_null(enc);
        ck_assert_ptr_nonnull(strstr(e.msg, "text 1"));
        ck_assert_ptr_nonnull(strstr(e.msg, "byte 5"));
    }
}
END_TEST

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

static double dot(const float *a, const float *b, size_t d)
{
    double s = 0;
    for (size_t i = 0; i < d; i++)
        s += (double)a[i] * b[i];
    return s;
}

START_TEST(bm25_exact_without_collisions)
{
    /* "the" is in every document (negative idf → epsilon * average idf), "cat"
     * in two of four (idf 0), the rest rarer; repeats in the query count. */
    const char *docs[] = {"the cat sat on the mat", "the dog ate the cat food",
                          "the bird sang", "the end"};
    const char *queries[] = {"the cat", "cat cat dog", "bird the sang sang", "zebra"};
    encoder_opts o = {.dim = 1u << 22};
    encoder *enc;
    rbm25 r;
    float *dv = xmalloc(4 * o.dim * sizeof *dv), *qv = xmalloc(4 * o.dim * sizeof *qv);
    pe_err e = {0};

    rbm25_init(&r, docs, 4);
    /* by hand: nine terms with df 1, "cat" with idf 0, "the" with ln(.5/4.5) */
    ck_assert_double_eq_tol(r.idf[term_index(&r, "the")],
                            0.25 * (9 * log(3.5 / 1.5) + log(0.5 / 4.5)) / 11, 1e-12);
    ck_assert_int_eq(encoder_fit(&o, docs, 4, &enc, &e), 0);
    ck_assert_int_eq(encoder_encode_docs(enc, docs, 4, dv, &e), 0);
    ck_assert_int_eq(encoder_encode_queries(enc, queries, 4, qv, &e), 0);
    for (size_t q = 0; q < 4; q++) {
        rdoc qd = split_ws(queries[q]);
        for (size_t d = 0; d < 4; d++) {
            double want = rbm25_score(&r, &qd, d), got = dot(qv + q * o.dim, dv + d * o.dim, o.dim);
            ck_assert_msg(fabs(got - want) < 1e-5, "q%zu d%zu: %g vs %g", q, d, got, want);
        }
        rdoc_free(&qd);
    }
    ck_assert_double_gt(rbm25_score(&r, &(rdoc){(char *[]){"bird"}, 1}, 2), 0.5);
    rbm25_free(&r);
    encoder_free(enc);
    free(dv);
    free(qv);
}
END_TEST

/* Every query's exact BM25 against every document, at o->dim. */
static void assert_bm25_exact(const char *const *docs, size_t nd, const char *const *queries,
                              size_t nq, size_t dim)
{
    encoder_opts o = {.dim = dim};
    encoder *enc;
    rbm25 r;
    float *dv = xmalloc(nd * dim * sizeof *dv), *qv = xmalloc(nq * dim * sizeof *qv);
    pe_err e = {0};

    rbm25_init(&r, docs, nd);
    ck_assert_int_eq(encoder_fit(&o, docs, nd, &enc, &e), 0);
    ck_assert_int_eq(encoder_encode_docs(enc, docs, nd, dv, &e), 0);
    ck_assert_int_eq(encoder_encode_queries(enc, queries, nq, qv, &e), 0);
    for (size_t q = 0; q < nq; q++) {
        rdoc qd = split_ws(queries[q]);
        for (size_t d = 0; d < nd; d++) {
            double want = rbm25_score(&r, &qd, d), got = dot(qv + q * dim, dv + d * dim, dim);
            ck_assert_msg(fabs(got - want) < 1e-5, "q \"%s\" d%zu: %g vs %g", queries[q], d,
                          got, want);
        }
        rdoc_free(&qd);
    }
    rbm25_free(&r);
    encoder_free(enc);
    free(dv);
    free(qv);
}

START_TEST(bm25_long_tokens_are_distinct_terms)
{
    /* tokens hashed 8 bytes at a time: equal first words, different tails,
     * lengths 7..17, a word of zero bytes' worth of difference in case */
    const char *docs[] = {"abcdefgh x",          "abcdefghi y",        "abcdefghij z",
                          "abcdefgh12345678 x",  "abcdefgh12345679 y", "abcdefgh123456789 z",
                          "Abcdefgh x",          "abcdefg y",          "internationalization x",
                          "internationalizations y"};
    const char *queries[] = {"abcdefgh",          "abcdefghi",         "abcdefgh12345679",
                             "abcdefgh123456789", "Abcdefgh abcdefg",  "internationalizations",
                             "x y z"};
    assert_bm25_exact(docs, 10, queries, 7, 1u << 20);
    /* and each long query word matches its own document only */
    {
        encoder_opts o = {.dim = 1u << 20};
        encoder *enc;
        float *dv, *qv = xmalloc(o.dim * sizeof *qv);
        pe_err e = {0};
        ck_assert_int_eq(encoder_fit_encode(&o, docs, 10, &enc, &dv, &e), 0);
        for (size_t q = 0; q < 10; q++) {
            char *w = xstrndup(docs[q], (size_t)(strchr(docs[q], ' ') - docs[q]));
            ck_assert_int_eq(encoder_encode_queries(enc, (const char *const *)&w, 1, qv, &e), 0);
            for (size_t d = 0; d < 10; d++)
                ck_assert_msg((dot(qv, dv + d * o.dim, o.dim) > 0.1) == (d == q),
                              "\"%s\" against document %zu", w, d);
            free(w);
        }
        encoder_free(enc);
        free(dv);
        free(qv);
    }
}
END_TEST

/* A corpus with repeats, Unicode and more vocabulary than some dims hold. */
static char **mixed_corpus(size_t n)
{
    static const char *words[] = {"the", "The", "caf\xc3\xa9", "CAF\xc3\x89", "na\xc3\xafve",
                                  "well-known", "U.S.", "don't", "\xe6\x97\xa5\xe6\x9c\xac",
                                  "internationalization"};
    pe_rng g;
    char **docs = xcalloc(n, sizeof *docs);
    pe_rng_seed(&g, 7);
    for (size_t i = 0; i < n; i++) {
        buf b = BUF_INIT;
        size_t len = 1 + (size_t)pe_rng_below(&g, 40);
        for (size_t k = 0; k < len; k++) {
            uint64_t c = pe_rng_below(&g, 10);
            if (k)
                buf_adds(&b, c == 0 ? "\t" : " ");
            if (c < 4)
                buf_adds(&b, words[pe_rng_below(&g, 10)]);
            else
                buf_printf(&b, "w%u", (unsigned)pe_rng_below(&g, 300));
        }
        docs[i] = buf_detach(&b);
    }
    docs[n / 2][0] = '\0'; /* an empty document */
    return docs;
}

START_TEST(fit_encode_equals_fit_then_encode)
{
    const size_t n = 60, dims[] = {16, 256, 4096};
    char **docs = mixed_corpus(n);
    for (int kind = ENCODER_BM25; kind <= ENCODER_TFIDF; kind++)
        for (int tok = ENCODER_TOK_LAMP; tok <= ENCODER_TOK_WORDS; tok++)
            for (size_t di = 0; di < 3; di++) {
                encoder_opts o = {.kind = (encoder_kind)kind, .tokenize = (encoder_tok)tok,
                                  .dim = dims[di]};
                encoder *a, *b;
                float *ma, *mb = xmalloc(n * dims[di] * sizeof *mb);
                pe_err e = {0};
                ck_assert_int_eq(encoder_fit_encode(&o, (const char *const *)docs, n, &a, &ma,
                                                    &e), 0);
                ck_assert_int_eq(encoder_fit(&o, (const char *const *)docs, n, &b, &e), 0);
                ck_assert_int_eq(encoder_encode_docs(b, (const char *const *)docs, n, mb, &e), 0);
                ck_assert_uint_eq(encoder_dim(a), dims[di]);
                for (size_t i = 0; i < n * dims[di]; i++)
                    ck_assert_msg(ma[i] == mb[i], "kind %d tok %d dim %zu: entry %zu", kind, tok,
                                  dims[di], i);
                /* tfidf rows have norm 1 also when terms share buckets (dim 16) */
                if (kind == ENCODER_TFIDF)
                    for (size_t d = 0; d < n; d++) {
                        double nn = dot(ma + d * dims[di], ma + d * dims[di], dims[di]);
                        ck_assert_msg(d == n / 2 ? nn == 0 : fabs(nn - 1) < 1e-5,
                                      "dim %zu doc %zu: squared norm %g", dims[di], d, nn);
                    }
                encoder_free(a);
                encoder_free(b);
                free(ma);
                free(mb);
            }
    {
        encoder_opts o = {.dim = (size_t)1 << 31};
        encoder *enc;
        float *m;
        pe_err e = {0};
        ck_assert_int_eq(encoder_fit_encode(&o, (const char *const *)docs, n, &enc, &m, &e),
                         PE_EXIT_USAGE);
        ck_assert_ptr_null(enc);
        ck_assert_ptr_null(m);
        docs[3][2] = (char)0xff;
        o.dim = 0;
        ck_assert_int_eq(encoder_fit_encode(&o, (const char *const *)docs, n, &enc, &m, &e),
                         PE_EXIT_DATA);
        ck_assert_ptr_null(enc);
        ck_assert_ptr_null(m);
        ck_assert_ptr_nonnull(strstr(e.msg, "text 3: invalid UTF-8 at byte 2"));
    }
    for (size_t i = 0; i < n; i++)
        free(docs[i]);
    free(docs);
}
END_TEST

/* Topical synthetic text: stop words, the topic's own vocabulary (Zipf-like)
 * and a shared tail. */
static char *gen_doc(pe_rng *g, size_t topic, size_t len)
{
    static const char *stop[] = {"the", "a", "of", "and", "to", "in", "is", "it", "for", "on",
                                 "with", "as", "was", "at", "by", "an", "be", "this", "that",
                                 "from"};
    buf b = BUF_INIT;
    for (size_t i = 0; i < len; i++) {
        uint64_t c = pe_rng_below(g, 100);
        if (i)
            buf_addc(&b, ' ');
        if (c < 40) {
            buf_adds(&b, stop[pe_rng_below(g, pe_rng_below(g, 20) + 1)]);
        } else if (c < 85) {
            size_t w = (size_t)pe_rng_below(g, pe_rng_below(g, 80) + 1);
            buf_printf(&b, "t%zuw%zu", topic, w);
        } else {
            buf_printf(&b, "g%zu", (size_t)pe_rng_below(g, 2000));
        }
    }
    return buf_detach(&b);
}

/* Mean fraction of the hashed top-4 whose exact score reaches the exact 4th
 * best (ties at the boundary are equally right), over 30 users x 5 queries. */
static double top4_overlap(size_t d)
{
    pe_rng g;
    double overlap = 0;
    size_t nq_total = 0;
    pe_rng_seed(&g, 2024);
    for (int user = 0; user < 30; user++) {
        size_t n = 20 + (size_t)pe_rng_below(&g, 181);
        encoder_opts oo = {.dim = d};
        char **docs = xcalloc(n, sizeof *docs);
        float *mat = xmalloc(n * d * sizeof *mat), *qv = xmalloc(d * sizeof *qv);
        double *exact = xmalloc(n * sizeof *exact);
        encoder *enc;
        rbm25 r;
        pe_err e = {0};
        for (size_t i = 0; i < n; i++)
            docs[i] = gen_doc(&g, (size_t)pe_rng_below(&g, 15), 8 + (size_t)pe_rng_below(&g, 50));
        rbm25_init(&r, (const char *const *)docs, n);
        ck_assert_int_eq(encoder_fit(&oo, (const char *const *)docs, n, &enc, &e), 0);
        ck_assert_int_eq(encoder_encode_docs(enc, (const char *const *)docs, n, mat, &e), 0);
        for (int qi = 0; qi < 5; qi++) {
            char *q = gen_doc(&g, (size_t)pe_rng_below(&g, 15), 10 + (size_t)pe_rng_below(&g, 30));
            rdoc qd = split_ws(q);
            topk_hit h[4];
            double fourth;
            size_t nh, good = 0;
            for (size_t i = 0; i < n; i++)
                exact[i] = rbm25_score(&r, &qd, i);
            {
                double *s = xmalloc(n * sizeof *s);
                memcpy(s, exact, n * sizeof *s);
                for (size_t a = 0; a < 4; a++)
                    for (size_t b2 = a + 1; b2 < n; b2++)
                        if (s[b2] > s[a]) {
                            double t = s[a];
                            s[a] = s[b2];
                            s[b2] = t;
                        }
                fourth = s[3];
                free(s);
            }
            ck_assert_int_eq(encoder_encode_queries(enc, (const char *const *)&q, 1, qv, &e), 0);
            nh = topk_search(mat, n, d, qv, 4, NULL, h);
            ck_assert_uint_eq(nh, 4);
            for (size_t i = 0; i < 4; i++)
                good += exact[h[i].index] >= fourth - 1e-9;
            overlap += (double)good / 4;
            nq_total++;
            rdoc_free(&qd);
            free(q);
        }
        rbm25_free(&r);
        encoder_free(enc);
        for (size_t i = 0; i < n; i++)
            free(docs[i]);
        free(docs);
        free(mat);
        free(qv);
        free(exact);
    }
    return overlap / (double)nq_total;
}

START_TEST(bm25_top4_overlap_on_topical_corpora)
{
    double o = top4_overlap(ENCODER_DEFAULT_DIM);
    ck_assert_msg(o >= 0.95, "mean top-4 overlap %.3f at the default dim", o);
    /* a dim below most users' vocabulary: buckets are shared */
    o = top4_overlap(1024);
    ck_assert_msg(o >= 0.9, "mean top-4 overlap %.3f at dim 1024", o);
}
END_TEST

START_TEST(tfidf_cosine_and_bigrams)
{
    const char *docs[] = {"New York city lights", "York is new to me", "Paris in spring",
                          "NEW york!"};
    const char *q[] = {"new york", "paris spring"};
    encoder_opts o = {.kind = ENCODER_TFIDF};
    encoder *enc;
    size_t d;
    float *dv, *qv;
    pe_err e = {0};

    ck_assert_int_eq(encoder_fit(&o, docs, 4, &enc, &e), 0);
    ck_assert_int_eq(encoder_tokenizer(enc), ENCODER_TOK_WORDS);
    d = encoder_dim(enc);
    dv = xmalloc(4 * d * sizeof *dv);
    qv = xmalloc(2 * d * sizeof *qv);
    ck_assert_int_eq(encoder_encode_docs(enc, docs, 4, dv, &e), 0);
    ck_assert_int_eq(encoder_encode_queries(enc, q, 2, qv, &e), 0);
    for (size_t i = 0; i < 4; i++)
        ck_assert_double_eq_tol(dot(dv + i * d, dv + i * d, d), 1.0, 1e-5);
    /* "new york" as a bigram is in doc 0, not in doc 1 with the same words */
    ck_assert_double_gt(dot(qv, dv, d), dot(qv, dv + d, d) + 0.05);
    /* case and punctuation folded: doc 3 is the query's twin */
    ck_assert_double_eq_tol(dot(qv, dv + 3 * d, d), 1.0, 1e-5);
    ck_assert_double_gt(dot(qv + d, dv + 2 * d, d), 0.3);
    ck_assert_double_eq_tol(dot(qv + d, dv, d), 0.0, 1e-6);
    encoder_free(enc);
    free(dv);
    free(qv);
}
END_TEST

static int fake_backend(void *ctx, const char *const *texts, size_t n, float *out, size_t d,
                        pe_err *e)
{
    int *calls = ctx;
    (*calls)++;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(texts[i], "fail") == 0)
            return pe_errf(e, PE_EXIT_UNAVAILABLE, "backend refused");
        for (size_t j = 0; j < d; j++)
            out[i * d + j] = (float)(strlen(texts[i]) + j);
    }
    return 0;
}

START_TEST(backend_plugs_in)
{
    int calls = 0;
    encoder_opts o = {.kind = ENCODER_BACKEND, .dim = 3, .backend = fake_backend,
                      .backend_ctx = &calls};
    const char *t[] = {"ab", "abcd"}, *f[] = {"fail"};
    float v[6];
    encoder *enc;
    encoder_kind k;
    pe_err e = {0};

    ck_assert_int_eq(encoder_fit(&o, t, 2, &enc, &e), 0);
    ck_assert_uint_eq(encoder_dim(enc), 3);
    ck_assert_int_eq(encoder_encode_docs(enc, t, 2, v, &e), 0);
    ck_assert_float_eq(v[0], 2);
    ck_assert_float_eq(v[5], 6);
    ck_assert_int_eq(encoder_encode_queries(enc, f, 1, v, &e), PE_EXIT_UNAVAILABLE);
    ck_assert_int_eq(calls, 2);
    encoder_free(enc);
    o.backend = NULL;
    ck_assert_int_eq(encoder_fit(&o, t, 2, &enc, &e), PE_EXIT_USAGE);
    ck_assert_int_eq(encoder_kind_parse("http", &k), 0);
    ck_assert_int_eq(k, ENCODER_BACKEND);
    ck_assert_int_eq(encoder_kind_parse("bm26", &k), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("encoder");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tokenize_lamp);
    tcase_add_test(tc, tokenize_words);
    tcase_add_test(tc, invalid_utf8);
    tcase_add_test(tc, bm25_exact_without_collisions);
    tcase_add_test(tc, bm25_long_tokens_are_distinct_terms);
    tcase_add_test(tc, fit_encode_equals_fit_then_encode);
    tcase_add_test(tc, bm25_top4_overlap_on_topical_corpora);
    tcase_add_test(tc, tfidf_cosine_and_bigrams);
    tcase_add_test(tc, backend_plugs_in);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
