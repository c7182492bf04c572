#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonu.h"

cJSON *settings_new(void)
{
    cJSON *s = cJSON_CreateObject();
    if (!s)
        abort();
    return s;
}

static void put(cJSON *s, const char *key, cJSON *v)
{
    if (!v)
        abort();
    if (cJSON_GetObjectItemCaseSensitive(s, key))
        cJSON_ReplaceItemInObjectCaseSensitive(s, key, v);
    else
        cJSON_AddItemToObject(s, key, v);
}

void settings_add_str(cJSON *s, const char *key, const char *v)
{
    put(s, key, v ? cJSON_CreateString(v) : cJSON_CreateNull());
}

void settings_add_bool(cJSON *s, const char *key, int v)
{
    put(s, key, cJSON_CreateBool(v != 0));
}

void settings_add_u64(cJSON *s, const char *key, uint64_t v)
{
    if (v <= (1ULL << 53)) {
        put(s, key, cJSON_CreateNumber((double)v));
    } else {
        char t[32];
        snprintf(t, sizeof t, "%llu", (unsigned long long)v);
        put(s, key, cJSON_CreateString(t));
    }
}

void settings_add_num(cJSON *s, const char *key, double v)
{
    put(s, key, cJSON_CreateNumber(v));
}

void settings_add_strs(cJSON *s, const char *key, const char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    if (!a)
        abort();
    for (size_t i = 0; i < n; i++) {
        cJSON *x = cJSON_CreateString(v[i]);
        if (!x)
            abort();
        cJSON_AddItemToArray(a, x);
    }
    put(s, key, a);
}

static int child_cmp(const void *x, const void *y)
{
    const cJSON *a = *(cJSON *const *)x, *b = *(cJSON *const *)y;
    return strcmp(a->string, b->string);
}

/* Sort every object's members by key, in place. */
static void sort_keys(cJSON *j)
{
    size_t n = 0, i = 0;
    cJSON *c, **v;
    if (!cJSON_IsObject(j) && !cJSON_IsArray(j))
        return;
    for (c = j->child; c; c = c->next, n++)
        sort_keys(c);
    if (!cJSON_IsObject(j) || n < 2)
        return;
    v = xmalloc(n * sizeof *v);
    for (c = j->child; c; c = c->next)
        v[i++] = c;
    qsort(v, n, sizeof *v, child_cmp);
    for (i = 0; i < n; i++) {
        v[i]->prev = i ? v[i - 1] : v[n - 1]; /* cJSON: the head's prev is the tail */
        v[i]->next = i + 1 < n ? v[i + 1] : NULL;
    }
    j->child = v[0];
    free(v);
}

char *settings_canonical(const cJSON *s)
{
    cJSON *d = cJSON_Duplicate(s, 1);
    char *t;
    if (!d)
        abort();
    sort_keys(d);
    t = jsonu_print(d);
    cJSON_Delete(d);
    return t;
}

void settings_hash(const cJSON *s, char out[65])
{
    char *t = settings_canonical(s);
    sha256_hex(t, strlen(t), out);
    free(t);
}
