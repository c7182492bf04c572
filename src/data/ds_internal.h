/*
 * ds_internal: the pieces the files of the dataset module share (dataset.c,
 * ds_scan.c, ds_parse.c, ds_load.c, ds_prepare.c); not a public interface.
 *
 * Ownership: a dataset's strings and item/query arrays live in its arena
 * (dataset.arena); its users, sources and warnings arrays are malloc'd. A
 * ds_span's text is malloc'd and passes to whoever takes the span; a
 * ds_parsed hands its arena and warnings to the loader, which adopts them.
 * ds_top_users() returns a flag array the caller frees.
 */
#ifndef PE_DS_INTERNAL_H
#define PE_DS_INTERNAL_H

#include <stdio.h>

#include "arena.h"
#include "dataset.h"

/* The read size when ds_limits.chunk_bytes is 0. */
#define DS_DEFAULT_CHUNK ((size_t)4 << 20)

/* keep[i] = 1 for the n users with the most history items (interactions = 0) or
 * interactions (history plus answered queries; interactions = 1), ties by id;
 * n = 0 keeps all. */
unsigned char *ds_top_users(const dataset *d, size_t n, int interactions);

/* ---- ds_scan.c: a file read in bounded chunks, cut into top-level values ---- */

typedef struct ds_reader {
    const char *path;
    FILE *f;            /* NULL when reading memory */
    const char *mem;
    size_t memlen;
    char *buf;          /* buf[0..len) holds the file's bytes [base, base + len) */
    size_t cap, len, base;
    size_t pos;         /* the next byte to look at (index into buf) */
    size_t line, line_start, counted; /* line number at file offset counted, and
                                         where that line starts */
    size_t chunk, max_file, max_field, total;
    size_t size;        /* a regular file's size from fstat; else 0 */
    size_t cut_max;     /* rd_value() fails on a longer value (0: no bound) */
    int eof, too_big;   /* too_big: the file is over max_file */
    int keep_all;       /* drop nothing, so rd_rewind() can go back (set at open) */
    size_t start;       /* file offset of the first byte after a byte-order mark */
    void *sha;          /* sha256_ctx */
} ds_reader;

/* One top-level value (array files) or line (JSONL), copied out of the file. */
typedef struct ds_span {
    char *text;         /* NUL-terminated copy (malloc) */
    size_t len;
    size_t off;         /* file offset of text[0] */
    size_t line, col;   /* 1-based position of text[0] */
} ds_span;

int rd_open(ds_reader *r, const char *path, const char *mem, size_t memlen,
            const ds_limits *lim, pe_err *e);
/* The next non-whitespace byte (not consumed), or -1 at the end of the file. */
int rd_peek(ds_reader *r, int *c, pe_err *e);
/* Consume one byte (after rd_peek). */
void rd_skip(ds_reader *r);
/* Cut the JSON value starting at the current byte; what names the value in
 * messages ("element 3"). A string over max_field fails here, before the
 * value is read whole; so does a value the file ends inside. */
int rd_value(ds_reader *r, const char *what, ds_span *out, pe_err *e);
/* Cut the line starting at the current byte (without its newline); *got = 0
 * at the end of the file. */
int rd_line(ds_reader *r, ds_span *out, int *got, pe_err *e);
/* The position of the current byte. */
void rd_where(ds_reader *r, size_t *line, size_t *col);
/* Go back to the first byte of the file (only while keep_all is set). */
void rd_rewind(ds_reader *r);
/* Read to the end and write the file's SHA-256. */
int rd_finish(ds_reader *r, char sha[65], pe_err *e);
void rd_close(ds_reader *r);

/* ---- ds_parse.c: one element (a LaMP question, a grouped user, a JSONL line) ---- */

typedef enum ds_kind { DS_LAMP, DS_GROUPED, DS_JSONL } ds_kind;

typedef struct ds_file {
    const task *t;
    const char *path;
    const ds_limits *lim;
    ds_kind kind;
} ds_file;

typedef struct ds_parsed {
    int rc;
    pe_err err;
    ds_user user;       /* strings and arrays in arena */
    pe_arena *arena;
    char **warnings;    /* malloc'd messages */
    size_t nwarnings, wcap;
} ds_parsed;

/* Parse span (element index elem of an array file; -1 for a JSONL line whose
 * number is span->line) into out. Safe to call from several threads at once. */
void ds_parse_element(const ds_file *f, ds_span *span, long elem, ds_parsed *out);
void ds_parsed_free(ds_parsed *p);

/* A gold of an outputs file. */
typedef struct ds_gold {
    char *id, *output;
    size_t src, line, idx;
    int used;
} ds_gold;

/* An outputs file's one object: its golds appended to *golds (task checked
 * against the golds' labels); warnings are added to warn. */
int ds_parse_outputs(const ds_file *f, ds_span *span, size_t src, ds_gold **golds,
                     size_t *ngolds, size_t *gcap, ds_parsed *warn, pe_err *e);

#endif
