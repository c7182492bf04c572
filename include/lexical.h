/*
 * lexical: exact BM25 and TF-IDF retrieval over one user's history, for any
 * vocabulary size, as a sparse index (no hashing into dimensions).
 *
 * The history's terms (exact byte strings) form the vocabulary; every
 * non-zero (item, term) pair is one posting, listed per term in item order
 * with its count and its precomputed document weight. A query is scored by
 * walking the postings of its terms only, so memory and time are
 * proportional to the non-zero pairs, never to items x vocabulary.
 *   bm25  rank_bm25's BM25Okapi.get_scores() over the tokens: k1 = 1.5,
 *         b = 0.75; idf = ln(N - df + 0.5) - ln(df + 0.5), a negative idf
 *         replaced by 0.25 x the average idf of every term (the average taken
 *         before the replacement; an idf of exactly 0 is kept); a repeated
 *         query token counts each time; unknown tokens add nothing. Scores are
 *         computed in double in rank_bm25's order of operations.
 *   tfidf cosine of L2-normalized vectors of raw counts x smoothed idf
 *         (ln((1 + N) / (1 + df)) + 1) over word unigrams and bigrams ("a b");
 *         the query's unknown terms are dropped before it is normalized.
 *
 * Statistics of a prefix: lexical_scores() with cutoff c < N scores items
 * 0..c-1 with df, N, the average idf, the average length and the TF-IDF
 * norms of those c items only, exactly as a fresh index built over them
 * (what LaMP computes when item c is the query and the older items its
 * profile).
 *
 * Ownership: lexical_build() copies what it needs; the index owns all of it
 * and lexical_free() releases it. A built index is read-only: several
 * threads may score with it at once. Score arrays are the caller's.
 */
#ifndef PE_LEXICAL_H
#define PE_LEXICAL_H

#include <stddef.h>

#include "encoder.h"
#include "util.h"

typedef struct lexical lexical;

/* Index n documents with o's kind (bm25 or tfidf; NULL = bm25) and
 * tokenizer. Invalid UTF-8 fails with PE_EXIT_DATA naming the document
 * index and byte offset; a backend kind fails with PE_EXIT_USAGE. */
int lexical_build(const encoder_opts *o, const char *const *docs, size_t n, lexical **out,
                  pe_err *e);
void lexical_free(lexical *lx);

/* Score items 0..c-1, c = min(cutoff, N) (LEXICAL_ALL = every item), with
 * the statistics of those c items: scores receives c doubles. Returns 0, or
 * PE_EXIT_DATA when the query is not valid UTF-8. */
#define LEXICAL_ALL ((size_t)-1)
int lexical_scores(const lexical *lx, const char *query, size_t cutoff, double *scores,
                   pe_err *e);

size_t lexical_ndocs(const lexical *lx);
size_t lexical_nterms(const lexical *lx);
/* Non-zero (item, term) pairs: the postings. */
size_t lexical_npairs(const lexical *lx);
/* Heap bytes the index holds. */
size_t lexical_bytes(const lexical *lx);
encoder_kind lexical_kind(const lexical *lx);
encoder_tok lexical_tokenizer(const lexical *lx);

#endif
