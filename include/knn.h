/*
 * knn: the no-LLM method. Predicts a label from the K memories most similar
 * to the query: a similarity-weighted vote (lamp2m, lamp2n), a weighted mean
 * rating (lamp3) or, for lamp1, the reference whose own top-K memories are
 * more similar on average. Rules in docs/memory.md.
 *
 * Ownership: returned labels are new strings the caller frees.
 */
#ifndef PE_KNN_H
#define PE_KNN_H

#include <stddef.h>

#include "memory.h"
#include "task.h"
#include "topk.h"
#include "util.h"

#define KNN_DEFAULT_K 4

/* Predict the label for a LaMP input (the retrieval query is
 * task_query_text(), or both references for lamp1). f limits what may be
 * retrieved (NULL = the whole history). An unparsable lamp1 input or
 * invalid UTF-8 fails with PE_EXIT_DATA. */
int knn_predict(const memory *m, const task *t, const char *input, size_t k,
                const topk_filter *f, char **label, pe_err *e);

/* The decision from given hits: labels[hit.index] are the items' labels.
 * Weighted vote or weighted mean rating as knn_predict(); never NULL. */
char *knn_vote(const task *t, const char *const *labels, const topk_hit *hits, size_t n);

#endif
