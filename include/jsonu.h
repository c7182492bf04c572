/*
 * jsonu: small helpers around cJSON with error paths.
 *
 * Ownership: jsonu_parse() returns a tree the caller frees with cJSON_Delete();
 * jsonu_print() returns a string the caller frees with free(). Getters return
 * pointers into the tree. The position scanner reads text it is given and
 * returns offsets into it.
 */
#ifndef PE_JSONU_H
#define PE_JSONU_H

#include <cJSON.h>
#include <stddef.h>

/* Parse len bytes; on failure NULL and *err_off = byte offset of the error. */
cJSON *jsonu_parse(const char *data, size_t len, size_t *err_off);
/* Compact JSON text; aborts on out-of-memory. */
char *jsonu_print(const cJSON *j);
/* 1-based line and column of a byte offset. */
void jsonu_line_col(const char *data, size_t off, size_t *line, size_t *col);
/* A string member, or NULL when absent or not a string. */
const char *jsonu_str(const cJSON *obj, const char *key);
/* A member as text: strings as they are, numbers in their shortest form
 * (4 → "4", 3.5 → "3.5"); NULL for other types. Caller frees. */
char *jsonu_text(const cJSON *v);
/* Type name for messages ("string", "number", "array", ...). */
const char *jsonu_type(const cJSON *v);

/* The position scanner: offsets in JSON text without building a tree, for error
 * messages and for cutting a file into its top-level elements. The text must be
 * valid JSON from offset i on (except jsonu_skip_ws); JSONU_NONE means absent. */
#define JSONU_NONE ((size_t)-1)
/* Index of the first non-whitespace byte at or after i (n if none). */
size_t jsonu_skip_ws(const char *s, size_t n, size_t i);
/* Index just past the value starting at i. */
size_t jsonu_skip_value(const char *s, size_t n, size_t i);
/* Offset of element k of the array starting at i, or JSONU_NONE. */
size_t jsonu_scan_elem(const char *s, size_t n, size_t i, size_t k);
/* Offset of the value of member key of the object starting at i, or JSONU_NONE. */
size_t jsonu_scan_member(const char *s, size_t n, size_t i, const char *key);

#endif
