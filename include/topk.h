/*
 * topk: the K best items by dot product (dense vectors), or the K best of a
 * score array.
 *
 * Items are a row-major float32 matrix (n rows of dimension d); a query is d
 * floats. The dot products come from dot.h's kernels (AVX-512, AVX2+FMA or
 * portable, picked at run time) in chunks of rows whose scores are selected
 * from while in cache, so the matrix is read once per call and no n-long
 * score array exists; a batch of queries shares that one pass. Selection
 * first compares a score with the worst kept hit (most items stop there),
 * then a bounded heap (O(n log k)); only the k kept hits are sorted.
 *
 * Order, the same everywhere: higher score first; equal scores → the higher
 * tie key first, the key being the filter's tie[index] when it gives one
 * (memory passes each item's position in the file's profile) and the index
 * otherwise, then the higher index (LaMP's np.argsort(scores)[::-1] over the
 * profile in file order, see docs/memory.md); NaN ranks below every number
 * (-inf included) and NaNs among themselves by the same tie rule. So k >= n returns every admitted
 * item, and n = 0 or k = 0 returns nothing.
 *
 * Ownership: callers own every array; out arrays hold at least k hits (per
 * query for a batch). Nothing here allocates memory that outlives a call.
 * The functions are thread-safe (BLAS threading is process-wide, see below).
 */
#ifndef PE_TOPK_H
#define PE_TOPK_H

#include <stddef.h>
#include <stdint.h>

typedef struct topk_hit {
    size_t index; /* row in the item matrix */
    float score;
} topk_hit;

/* Which items a query may see, applied in the same pass as the selection.
 * cutoff: only items with index < cutoff (TOPK_ALL = no cutoff); alignment
 * replaying history item j passes cutoff = j so only strictly older items are
 * seen. exclude: indices never returned (any order, duplicates allowed).
 * tie: NULL, or one key per item (n of them) ranking equal scores, higher
 * key first. */
typedef struct topk_filter {
    size_t cutoff;
    const size_t *exclude;
    size_t nexclude;
    const size_t *tie;
} topk_filter;

#define TOPK_ALL SIZE_MAX
#define TOPK_FILTER_ALL ((topk_filter){TOPK_ALL, NULL, 0, NULL})

/* The k best of scores[0..n) that pass f (NULL = all). Returns the number of
 * hits written to out (min(k, admitted items)), best first. */
size_t topk_select(const float *scores, size_t n, size_t k, const topk_filter *f,
                   topk_hit *out);

/* The same over double scores (the lexical scorers'), compared at double
 * precision; hits carry the score rounded to float. */
size_t topk_select_f64(const double *scores, size_t n, size_t k, const topk_filter *f,
                       topk_hit *out);

/* One query against n x d items. Returns the number of hits in out. */
size_t topk_search(const float *items, size_t n, size_t d, const float *query, size_t k,
                   const topk_filter *f, topk_hit *out);

/* nq queries (row-major nq x d) at once. filters is NULL or holds one
 * filter per query. Query i's hits go to out[i*k ..] and their number to
 * counts[i]. A query's scores may differ in the last bits from
 * topk_search's (another summation order), so items that tie exactly can
 * come out in either order between the two. */
void topk_search_batch(const float *items, size_t n, size_t d, const float *queries, size_t nq,
                       size_t k, const topk_filter *filters, topk_hit *out, size_t *counts);

/* Threads for the whole process: a search big enough is split over n
 * threads by item ranges (results identical whatever n), and OpenBLAS gets
 * n (openblas_set_num_threads) for the batches it computes. The runner
 * passes 1 when its own workers run in parallel. n < 1 is taken as 1; 1
 * until called. With 1, OpenBLAS's idle server threads are stopped (they would
 * spin for a while); it restarts them when it next needs them. */
void topk_set_blas_threads(int n);
/* "<openblas_get_config()>; threads=<n>; kernel=<dot_kernel()>", for
 * run.json. Thread-local static storage, valid until the next call in the
 * same thread. */
const char *topk_blas_info(void);

#endif
