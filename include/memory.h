/*
 * memory: one user's episodic memory. The time-ordered history indexed once
 * (bm25/tfidf: an exact sparse lexical index; an embedding backend: an
 * n x dim float32 matrix searched by the top-K core) with ids, dates, labels
 * and texts, searched with time (cutoff) and exclusion filters, and rendered
 * for prompts (LaMP's RAG layout) or for the agent's memory tool.
 *
 * A search with cutoff j sees items 0..j-1 only, and for the lexical kinds
 * its statistics (df, N, average length, TF-IDF norms) come from those items
 * only too: replaying history item j ranks as LaMP would with item j as the
 * query and the older items as the whole profile.
 *
 * Equal scores rank the item listed later in the user's profile in the file
 * first (pos), whatever the filter says about ties: LaMP's
 * np.argsort(scores)[::-1] over the profile in file order.
 *
 * Ownership: memory_build() copies everything it needs from the user; the
 * memory owns its strings, index, matrix and encoder, and memory_free()
 * releases them. A built memory is read-only: searches from several threads
 * at once are safe. Formatters return new strings the caller frees.
 */
#ifndef PE_MEMORY_H
#define PE_MEMORY_H

#include <stddef.h>

#include "dataset.h"
#include "encoder.h"
#include "lexical.h"
#include "task.h"
#include "topk.h"
#include "util.h"

typedef struct memory {
    const task *task;
    char *user;
    size_t n;       /* history items, oldest first: index i is item i of the user */
    lexical *lex;   /* bm25, tfidf; NULL for a backend */
    size_t dim;     /* backend: vector size; 0 for lexical kinds */
    float *mat;     /* backend: n x dim, row-major; NULL for lexical kinds */
    char **ids;
    char **dates;   /* entries may be NULL */
    char **labels;  /* entries NULL for lamp1 */
    char **texts;   /* task_item_text() of each item: what is encoded */
    char **field[2];/* the item's task fields, in task->fields order */
    size_t *pos;    /* each item's position in the profile as the file lists it */
    encoder *enc;   /* backend only */
} memory;

/* Encode u's history with the options (NULL = bm25 defaults). Fails with
 * PE_EXIT_DATA naming the user and item on invalid text. */
int memory_build(const task *t, const ds_user *u, const encoder_opts *o, memory **out,
                 pe_err *e);
void memory_free(memory *m);

/* The k best items for a query text (encoded as a query against the user's
 * own statistics), best first, honouring f (NULL = every item). out holds k
 * hits; *nout receives how many were found. */
int memory_search(const memory *m, const char *query, size_t k, const topk_filter *f,
                  topk_hit *out, size_t *nout, pe_err *e);
/* nq queries at once (a backend's go through sgemm); filters NULL or one
 * per query; query i's hits at out[i*k ..], their number in counts[i]. */
int memory_search_batch(const memory *m, const char *const *queries, size_t nq, size_t k,
                        const topk_filter *filters, topk_hit *out, size_t *counts, pe_err *e);

/* The input with retrieved items prepended the way LaMP's official prompts
 * do (tokenizer-free variant; layouts in docs/memory.md). n = 0 returns the
 * input unchanged. */
char *memory_format_lamp(const memory *m, const task *t, const topk_hit *hits, size_t n,
                         const char *input);

/* A numbered list for the memory tool, one item per line:
 *   1. [2014-03-02] "text" -> tag: comedy (score 3.21)
 * Texts longer than max_chars bytes (0 = no limit) are cut at a character
 * boundary and end in "..."; line breaks inside texts become spaces. No
 * hits: "No matching memories.". */
char *memory_format_observation(const memory *m, const topk_hit *hits, size_t n,
                                size_t max_chars);

#endif
