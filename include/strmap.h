/*
 * strmap: a hash map from strings to indices (open addressing, linear probing).
 *
 * Ownership: keys are borrowed: each must outlive the map and stay unchanged.
 * A zeroed strmap ({0}) is an empty map; strmap_free() releases the table only
 * and leaves the map empty and reusable.
 */
#ifndef PE_STRMAP_H
#define PE_STRMAP_H

#include <stddef.h>

typedef struct strmap {
    const char **keys;
    size_t *vals;
    size_t cap, len;
} strmap;

/* The value strmap_get() returns for an absent key. */
#define STRMAP_NONE ((size_t)-1)

/* An empty map sized for about hint keys. */
void strmap_init(strmap *m, size_t hint);
void strmap_free(strmap *m);
/* The value stored for key, or STRMAP_NONE. */
size_t strmap_get(const strmap *m, const char *key);
/* Insert key -> val unless key is present; returns the value now stored (the
 * earlier one when key was present), so a caller detects duplicates. */
size_t strmap_add(strmap *m, const char *key, size_t val);
/* Insert or replace key -> val. */
void strmap_put(strmap *m, const char *key, size_t val);

#endif
