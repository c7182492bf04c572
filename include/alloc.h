/*
 * alloc: allocation that cannot fail.
 *
 * Ownership: x* allocators never return NULL (they print and abort on
 * out-of-memory, as a CLI cannot recover from it); memory they return is the
 * caller's to free().
 */
#ifndef PE_ALLOC_H
#define PE_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array to hold at least need elements of size size; *cap is updated. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
