/*
 * files: whole-file reads, atomic writes, folders.
 *
 * Ownership: pe_read_file() hands the caller a buffer to free(), pe_open_input()
 * a stream to fclose(); paths are
 * borrowed. A file written through pe_write_atomic() is either the complete new
 * content or untouched: nothing half-written is ever left under its name.
 */
#ifndef PE_FILES_H
#define PE_FILES_H

#include <stddef.h>
#include <stdio.h>

#include "status.h"

/* Open an input file for reading into *f; PE_EXIT_NOINPUT when it is missing,
 * unreadable or a directory (PE_EXIT_IO for other failures). */
int pe_open_input(const char *path, FILE **f, pe_err *e);
/* Read a whole file (at most max bytes; 0 = no limit) into a NUL-terminated buffer. */
int pe_read_file(const char *path, size_t max, char **data, size_t *len, pe_err *e);
/* Write data to path atomically: temporary file in the same folder, fsync, rename. */
int pe_write_atomic(const char *path, const void *data, size_t len, pe_err *e);
/* The same written piece by piece: pe_atomic_open() creates the temporary file,
 * pe_atomic_commit() makes it the file at path; a failed write or
 * pe_atomic_abort() removes it. Every opened writer ends in commit or abort
 * (a failed pe_atomic_write() has already aborted). */
typedef struct pe_atomic {
    char *path, *tmp;
    FILE *f;
} pe_atomic;
int pe_atomic_open(pe_atomic *w, const char *path, pe_err *e);
int pe_atomic_write(pe_atomic *w, const void *data, size_t len, pe_err *e);
int pe_atomic_commit(pe_atomic *w, pe_err *e);
void pe_atomic_abort(pe_atomic *w);
/* The same for the file name inside folder dir. */
int pe_write_atomic_in(const char *dir, const char *name, const void *data, size_t len,
                       pe_err *e);
/* mkdir -p. */
int pe_mkdirs(const char *path, pe_err *e);
int pe_file_exists(const char *path);

#endif
