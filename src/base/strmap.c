#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "hash.h"

void strmap_init(strmap *m, size_t hint)
{
    m->cap = 16;
    while (m->cap < 2 * hint)
        m->cap *= 2;
    m->keys = xcalloc(m->cap, sizeof *m->keys);
    m->vals = xcalloc(m->cap, sizeof *m->vals);
    m->len = 0;
}

void strmap_free(strmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* The slot holding key, or the empty slot where it would go (cap must be > 0). */
static size_t slot(const strmap *m, const char *key)
{
    size_t i = (size_t)pe_hash64(key, strlen(key), 0) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

size_t strmap_get(const strmap *m, const char *key)
{
    size_t i;
    if (!m->cap)
        return STRMAP_NONE;
    i = slot(m, key);
    return m->keys[i] ? m->vals[i] : STRMAP_NONE;
}

/* Keep the load factor at most 1/2 so probes stay short. */
static void reserve(strmap *m)
{
    strmap old = *m;
    if (m->cap && 2 * (m->len + 1) <= m->cap)
        return;
    strmap_init(m, old.cap ? old.cap : 8);
    for (size_t j = 0; j < old.cap; j++)
        if (old.keys[j]) {
            size_t i = slot(m, old.keys[j]);
            m->keys[i] = old.keys[j];
            m->vals[i] = old.vals[j];
            m->len++;
        }
    free(old.keys);
    free(old.vals);
}

size_t strmap_add(strmap *m, const char *key, size_t val)
{
    size_t i;
    reserve(m);
    i = slot(m, key);
    if (m->keys[i])
        return m->vals[i];
    m->keys[i] = key;
    m->vals[i] = val;
    m->len++;
    return val;
}

void strmap_put(strmap *m, const char *key, size_t val)
{
    size_t i;
    reserve(m);
    i = slot(m, key);
    if (!m->keys[i]) {
        m->keys[i] = key;
        m->len++;
    }
    m->vals[i] = val;
}
