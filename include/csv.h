/*
 * csv: the one CSV writer and reader (RFC 4180). The writer builds rows into a
 * buf: the first row (the header) fixes the number of fields, and every later
 * row is padded to that number, so a missing value never shifts a column.
 * Missing numbers (NAN, infinities) are empty fields. The reader parses a
 * whole file into rows of fields.
 *
 * Ownership: a csv_writer borrows its buf. csv_parse()/csv_load() fill a
 * csv_tab that owns every field; free it with csv_free().
 */
#ifndef PE_CSV_H
#define PE_CSV_H

#include <stddef.h>

#include "buf.h"
#include "util.h"

typedef struct csv_writer {
    buf *b;
    size_t ncols; /* fields of the header; 0 until the header ends */
    size_t col;   /* fields written in the current row */
} csv_writer;

void csv_begin(csv_writer *w, buf *b);
/* One field: s quoted when it holds a comma, quote, CR or LF; NULL is empty. */
void csv_str(csv_writer *w, const char *s);
/* n fields, one csv_str() each (a header, typically). */
void csv_strs(csv_writer *w, const char *const *v, size_t n);
/* A number in its shortest exact form; NAN or an infinity is an empty field. */
void csv_num(csv_writer *w, double v);
void csv_long(csv_writer *w, long v);
void csv_size(csv_writer *w, size_t v);
/* n empty fields. */
void csv_empty(csv_writer *w, size_t n);
/* End the row: the first row ends the header; later rows get empty fields up
 * to the header's count. */
void csv_end_row(csv_writer *w);

typedef struct csv_row {
    char **f;
    size_t n;
} csv_row;

typedef struct csv_tab {
    csv_row *r;
    size_t n;
} csv_tab;

/* Parse RFC 4180 text with LF or CRLF line ends; blank lines are skipped.
 * Errors name path and line. */
int csv_parse(const char *path, const char *d, size_t len, csv_tab *t, pe_err *e);
/* Read and parse a file of at most max bytes (0: no limit). */
int csv_load(const char *path, size_t max, csv_tab *t, pe_err *e);
void csv_free(csv_tab *t);
/* The index of the header field named name, or (size_t)-1. */
size_t csv_column(const csv_tab *t, const char *name);

#endif
