/*
 * text: UTF-8 validation and Python-compatible whitespace handling.
 *
 * Ownership: pe_strip() returns a new string the caller frees; the span
 * functions return pointers into the string they were given.
 */
#ifndef PE_TEXT_H
#define PE_TEXT_H

#include <stddef.h>

/* UTF-8 validation: returns 1 when valid; else 0 and the offset of the first bad byte. */
int pe_utf8_valid(const char *s, size_t len, size_t *bad_offset);

/* Strip whitespace on both sides exactly like Python's str.strip() (ASCII and
 * Unicode whitespace in UTF-8): a new string, or a span of s. */
char *pe_strip(const char *s);
const char *pe_strip_span(const char *s, size_t *len);
/* Case-insensitive (ASCII) search; NULL if absent. */
const char *pe_strcasestr(const char *hay, const char *needle);
int pe_streq(const char *a, const char *b); /* NULL-safe */

#endif
