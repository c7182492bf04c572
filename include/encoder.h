/*
 * encoder: the retrieval kinds and tokenizers by name, and the dense encoder
 * (text → float32 vectors whose dot products rank memories).
 *
 * Kinds:
 *   bm25  (default) rank_bm25's BM25Okapi, exact for any vocabulary: a
 *         sparse index over the user's history (include/lexical.h); no
 *         vectors, no dimension.
 *   tfidf cosine of L2-normalized TF-IDF vectors of word unigrams and
 *         bigrams, exact and sparse the same way.
 *   backend  any embedding service plugged in through encode_batch (the HTTP
 *         /embeddings encoder lives in another module and fills these
 *         fields): the only kind encoded here, searched by the top-K core.
 * docs/memory.md gives the formulas and the tokenizers (include/tokenize.h).
 *
 * Ownership: encoder_fit() returns an encoder the caller frees with
 * encoder_free(); it keeps nothing of docs after returning. Output arrays
 * are the caller's (n x dim floats). encoder_tokenize() returns an array of
 * strings the caller frees with encoder_tokens_free(). A fitted encoder is
 * read-only: several threads may encode with it at once.
 */
#ifndef PE_ENCODER_H
#define PE_ENCODER_H

#include <stddef.h>

#include "util.h"

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
    encoder_tok tokenize;  /* zero-initialized: the kind's default (lexical kinds) */
    size_t dim;            /* the backend's vector size; ignored by lexical kinds */
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
/* 1 for bm25 and tfidf (sparse, exact), 0 for a backend. */
int encoder_kind_lexical(encoder_kind k);
/* The tokenizer a lexical kind uses under o (never ENCODER_TOK_DEFAULT). */
encoder_tok encoder_tokenizer_for(const encoder_opts *o);

/* Fit a backend encoder (o->kind ENCODER_BACKEND with a function and a
 * dimension); a lexical kind or a missing function or dimension fails with
 * PE_EXIT_USAGE. n documents are not read: a backend has no statistics. */
int encoder_fit(const encoder_opts *o, const char *const *docs, size_t n, encoder **out,
                pe_err *e);
/* encoder_fit() and the documents encoded: *mat receives n x encoder_dim()
 * floats (at least one row; the caller frees it). On failure *out and *mat
 * are NULL. */
int encoder_fit_encode(const encoder_opts *o, const char *const *docs, size_t n, encoder **out,
                       float **mat, pe_err *e);
void encoder_free(encoder *enc);
size_t encoder_dim(const encoder *enc);

/* Encode n texts as documents (memory items) or as queries; out holds
 * n x encoder_dim() floats and is overwritten. Errors are the backend's. */
int encoder_encode_docs(const encoder *enc, const char *const *texts, size_t n, float *out,
                        pe_err *e);
int encoder_encode_queries(const encoder *enc, const char *const *texts, size_t n, float *out,
                           pe_err *e);

/* The tokens of text under mode (DEFAULT = lamp). Invalid UTF-8 →
 * PE_EXIT_DATA with the byte offset, *toks = NULL. */
int encoder_tokenize(encoder_tok mode, const char *text, char ***toks, size_t *ntoks, pe_err *e);
void encoder_tokens_free(char **toks, size_t n);

#endif
