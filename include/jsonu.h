/*
 * jsonu: small helpers around cJSON with error paths.
 *
 * Ownership: jsonu_parse() returns a tree the caller frees with cJSON_Delete();
 * jsonu_print() returns a string the caller frees with free(). Getters return
 * pointers into the tree.
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

#endif
