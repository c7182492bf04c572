/*
 * encoder: text → float32 vectors whose dot products rank memories.
 *
 * An encoder is fitted once on one user's history (the corpus: IDF and
 * average length come from it alone) and is then read-only, so several
 * threads may encode with it at once. Built-in kinds:
 *   bm25  (default) documents become BM25Okapi term weights and queries term
 *         counts (idf split between the two), feature-hashed (signed) into
 *         dim floats, so that dot(query, doc) is rank_bm25's get_scores()
 *         value up to hash collisions (k1 = 1.5, b = 0.75, epsilon = 0.25).
 *         Collisions are resolved at fit time while the user's vocabulary
 *         fits in dim, so scores are then exact; words outside the
 *         vocabulary are dropped (they match no memory).
 *   tfidf L2-normalized hashed TF-IDF of word unigrams and bigrams (cosine).
 *   backend  any embedding service plugged in through encode_batch (the HTTP
 *         /embeddings encoder lives in another module and fills these fields).
 * docs/memory.md gives the formulas and the tokenizers.
 *
 * Ownership: encoder_fit() returns an encoder the caller frees with
 * encoder_free(); it copies nothing from docs after returning. Output arrays
 * are the caller's (n x dim floats). encoder_tokenize() returns an array of
 * strings the caller frees with encoder_tokens_free().
 */
#ifndef PE_ENCODER_H
#define PE_ENCODER_H

#include <stddef.h>

#include "util.h"

#define ENCODER_DEFAULT_DIM 4096
#define ENCODER_KINDS "bm25, tfidf, http"
#define ENCODER_TOKENIZERS "lamp, words"

typedef enum encoder_kind { ENCODER_BM25, ENCODER_TFIDF, ENCODER_BACKEND } encoder_kind;

/* lamp: Python str.split() (Unicode whitespace), case kept, as LaMP's BM25.
 * words: runs of letters and digits, ASCII and Latin-1/Latin Extended-A
 * letters lower-cased. DEFAULT: lamp for bm25, words for tfidf. */
typedef enum encoder_tok { ENCODER_TOK_DEFAULT, ENCODER_TOK_LAMP, ENCODER_TOK_WORDS } encoder_tok;

/* A pluggable embedding backend: write n vectors of d floats to out
 * (row-major); return 0 or a PE_EXIT_* code with e filled. The same function
 * encodes documents and queries. */
typedef int (*encoder_batch_fn)(void *ctx, const char *const *texts, size_t n, float *out,
                                size_t d, pe_err *e);

typedef struct encoder_opts {
    encoder_kind kind;     /* zero-initialized: bm25 */
    encoder_tok tokenize;  /* zero-initialized: the kind's default */
    size_t dim;            /* 0: ENCODER_DEFAULT_DIM; for a backend, its vector size */
    encoder_batch_fn backend; /* ENCODER_BACKEND only */
    void *backend_ctx;
} encoder_opts;

typedef struct encoder encoder;

/* Names for flags: "bm25", "tfidf", "http" (= backend); "lamp", "words".
 * Return 0, or -1 for an unknown name. */
int encoder_kind_parse(const char *s, encoder_kind *out);
int encoder_tok_parse(const char *s, encoder_tok *out);
const char *encoder_kind_name(encoder_kind k);
const char *encoder_tok_name(encoder_tok t);

/* Fit on a corpus of n documents (the user's history texts). Invalid UTF-8
 * fails with PE_EXIT_DATA naming the document index and byte offset; a
 * backend kind without a function fails with PE_EXIT_USAGE. */
int encoder_fit(const encoder_opts *o, const char *const *docs, size_t n, encoder **out,
                pe_err *e);
/* encoder_fit() and the documents encoded as by encoder_encode_docs(), in
 * one pass (each document tokenized once): *mat receives n x encoder_dim()
 * floats (at least one row; the caller frees it). The same values as the two
 * calls; on failure *out and *mat are NULL. */
int encoder_fit_encode(const encoder_opts *o, const char *const *docs, size_t n, encoder **out,
                       float **mat, pe_err *e);
void encoder_free(encoder *enc);
size_t encoder_dim(const encoder *enc);
/* The tokenizer actually used (never ENCODER_TOK_DEFAULT). */
encoder_tok encoder_tokenizer(const encoder *enc);

/* Encode n texts as documents (memory items) or as queries; out holds
 * n x encoder_dim() floats and is overwritten. Errors as encoder_fit(). */
int encoder_encode_docs(const encoder *enc, const char *const *texts, size_t n, float *out,
                        pe_err *e);
int encoder_encode_queries(const encoder *enc, const char *const *texts, size_t n, float *out,
                           pe_err *e);

/* The tokens of text under mode (DEFAULT = lamp). Invalid UTF-8 →
 * PE_EXIT_DATA with the byte offset, *toks = NULL. */
int encoder_tokenize(encoder_tok mode, const char *text, char ***toks, size_t *ntoks, pe_err *e);
void encoder_tokens_free(char **toks, size_t n);

#endif
