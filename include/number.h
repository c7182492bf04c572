/*
 * number: numbers read and written as Python does, and whole-number counts
 * from the command line.
 *
 * Ownership: results go into the caller's variables and buffers; on failure
 * nothing is written to *out.
 */
#ifndef PE_NUMBER_H
#define PE_NUMBER_H

#include <stddef.h>

#include "status.h"

/* Shortest decimal form that reads back to the same double, like Python's repr(). */
void pe_fmt_double(char *buf, size_t n, double v);

/* Parse like Python float(): surrounding whitespace allowed, '_' between digits,
 * inf/nan words; returns 1 on success. */
int pe_parse_pyfloat(const char *s, double *out);

/* A whole number >= min for option flag (digits only, no sign): 0, or
 * PE_EXIT_USAGE with "FLAG: "S" is not a whole number" or "FLAG: must be at
 * least MIN" in e. */
int pe_parse_count(const char *flag, const char *s, unsigned long long min,
                   unsigned long long *out, pe_err *e);
/* The same with an upper bound ("FLAG: must be at most MAX"). */
int pe_parse_count_max(const char *flag, const char *s, unsigned long long min,
                       unsigned long long max, unsigned long long *out, pe_err *e);

#endif
