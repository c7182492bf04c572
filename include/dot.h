/*
 * dot: dense float32 dot products of item rows with queries, the arithmetic
 * under topk. Kernels for AVX-512F, for AVX2+FMA and a portable one are all
 * built; the widest the CPU supports is picked at run time. A batch of
 * queries goes through an AVX-512 register-tiled kernel, or OpenBLAS sgemm
 * where AVX-512 is missing.
 *
 * Each row's dot product is summed in an order fixed by the kernel, d and
 * whether it is one query or a batch, never by n, by where a call starts or
 * by the row's alignment in memory, so splitting the rows between calls (or
 * threads) gives the same bits. (OpenBLAS sgemm, for batches without
 * AVX-512, makes no such promise.)
 *
 * Ownership: callers own every array. Nothing is allocated. Thread-safe,
 * dot_force() aside.
 */
#ifndef PE_DOT_H
#define PE_DOT_H

#include <stddef.h>

/* out[i] = x[i*d ..] . q for the n rows of x (row-major n x d). */
void dot_rows(const float *x, size_t n, size_t d, const float *q, float *out);

/* dot_rows over nl (1, 2 or 4) ranges of n rows each at once: out[l][i] =
 * x[l][i*d ..] . q. A core reads several distant ranges faster than one
 * (more memory streams in flight), so a long scan is best split in four. */
void dot_rows_lanes(const float *const *x, float *const *out, size_t nl, size_t n, size_t d,
                    const float *q);

/* c[j*n + i] = x[i*d ..] . qs[j*d ..] for n rows and nq queries. */
void dot_block(const float *x, size_t n, size_t d, const float *qs, size_t nq, float *c);

/* 1 when dot_block runs on OpenBLAS sgemm (no AVX-512 kernel in use), whose
 * own threads (openblas_set_num_threads) then apply. */
int dot_block_blas(void);

/* The kernel in use: "avx512", "avx2" or "generic". */
const char *dot_kernel(void);

/* For tests and benchmarks only: use the named kernel from now on (NULL: the
 * widest the CPU supports again). Returns 0, or -1 (nothing changed) when the
 * name is unknown or the CPU lacks the instructions. Not thread-safe. */
int dot_force(const char *name);

#endif
