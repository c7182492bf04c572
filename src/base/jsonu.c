#include "jsonu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

cJSON *jsonu_parse(const char *data, size_t len, size_t *err_off)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    if (!j) {
        if (err_off)
            *err_off = end && end >= data ? (size_t)(end - data) : 0;
        return NULL;
    }
    /* trailing garbage after the value is an error too */
    while (end && (size_t)(end - data) < len &&
           (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
        end++;
    if (end && (size_t)(end - data) < len) {
        if (err_off)
            *err_off = (size_t)(end - data);
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

char *jsonu_print(const cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j);
    if (!s) {
        fprintf(stderr, "persona-eval: out of memory printing JSON\n");
        abort();
    }
    return s;
}

void jsonu_line_col(const char *data, size_t off, size_t *line, size_t *col)
{
    size_t l = 1, c = 1;
    for (size_t i = 0; i < off && data[i]; i++) {
        if (data[i] == '\n')
            l++, c = 1;
        else
            c++;
    }
    *line = l;
    *col = c;
}

const char *jsonu_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *jsonu_text(const cJSON *v)
{
    char num[64];
    if (cJSON_IsString(v))
        return xstrdup(v->valuestring);
    if (!cJSON_IsNumber(v))
        return NULL;
    if (isfinite(v->valuedouble) && v->valuedouble == floor(v->valuedouble) &&
        fabs(v->valuedouble) < 1e15) {
        snprintf(num, sizeof num, "%.0f", v->valuedouble);
        return xstrdup(num);
    }
    pe_fmt_double(num, sizeof num, v->valuedouble);
    return xstrdup(num);
}

const char *jsonu_type(const cJSON *v)
{
    if (!v)
        return "missing";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsObject(v))
        return "an object";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNull(v))
        return "null";
    return "invalid";
}

/* The position scanner: it walks text known to be valid JSON without building a tree. */

size_t jsonu_skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

static size_t skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n && s[i] != '"'; i++)
        if (s[i] == '\\')
            i++;
    return i < n ? i + 1 : n;
}

/* Index just past the JSON value starting at i (the text is known to be valid JSON). */
size_t jsonu_skip_value(const char *s, size_t n, size_t i)
{
    size_t depth = 0;
    if (i >= n)
        return n;
    if (s[i] == '"')
        return skip_string(s, n, i);
    if (s[i] != '[' && s[i] != '{') {
        size_t start = i;
        while (i < n && s[i] && !strchr(",]} \t\r\n", s[i]))
            i++;
        /* always one byte on, so a caller walking text that is not JSON (cJSON takes a
         * NUL byte for whitespace) cannot loop in place */
        return i > start ? i : start + 1;
    }
    while (i < n) {
        if (s[i] == '"') {
            i = skip_string(s, n, i);
            continue;
        }
        if (s[i] == '[' || s[i] == '{')
            depth++;
        else if ((s[i] == ']' || s[i] == '}') && --depth == 0)
            return i + 1;
        i++;
    }
    return n;
}

/* Offset of element k of the array at i, or JSONU_NONE. */
size_t jsonu_scan_elem(const char *s, size_t n, size_t i, size_t k)
{
    if (i >= n || s[i] != '[')
        return JSONU_NONE;
    i++;
    for (size_t j = 0;; j++) {
        i = jsonu_skip_ws(s, n, i);
        if (i >= n || s[i] == ']')
            return JSONU_NONE;
        if (j == k)
            return i;
        i = jsonu_skip_ws(s, n, jsonu_skip_value(s, n, i));
        if (i < n && s[i] == ',')
            i++;
    }
}

/* Offset of the value of member key of the object at i, or JSONU_NONE. */
size_t jsonu_scan_member(const char *s, size_t n, size_t i, const char *key)
{
    size_t kl = strlen(key);
    if (i >= n || s[i] != '{')
        return JSONU_NONE;
    i++;
    for (;;) {
        size_t k0, k1;
        i = jsonu_skip_ws(s, n, i);
        if (i >= n || s[i] != '"')
            return JSONU_NONE;
        k0 = i + 1;
        i = skip_string(s, n, i);
        k1 = i - 1;
        i = jsonu_skip_ws(s, n, i);
        if (i >= n || s[i] != ':')
            return JSONU_NONE;
        i = jsonu_skip_ws(s, n, i + 1);
        if (k1 - k0 == kl && memcmp(s + k0, key, kl) == 0)
            return i;
        i = jsonu_skip_ws(s, n, jsonu_skip_value(s, n, i));
        if (i < n && s[i] == ',')
            i++;
    }
}
