/*
 * buf: a growable byte buffer with a cap, always NUL-terminated.
 *
 * Ownership: buf_init() cannot fail and fixes the cap (0 = no cap). data is
 * NULL until the first append. An append past the cap fails with -1, frees the
 * storage and leaves the buffer empty (as curl's dynbuf does), so a caller
 * never works with a half-filled buffer. buf_detach() hands the storage to the
 * caller (free() it) and resets the buffer. Allocation failure aborts.
 */
#ifndef PE_BUF_H
#define PE_BUF_H

#include <stddef.h>

typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* 0 = unlimited */
} buf;

#define BUF_INIT {NULL, 0, 0, 0}

void buf_init(buf *b, size_t max);
int buf_add(buf *b, const void *data, size_t len);
int buf_adds(buf *b, const char *s);
int buf_addc(buf *b, char c);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included. */
int buf_json_str(buf *b, const char *s);
/* The same, or null when s is NULL. */
int buf_json_str_or_null(buf *b, const char *s);
/* Append s as an RFC 4180 CSV field (quoted only when needed). */
int buf_csv_field(buf *b, const char *s);
/* The contents as a string ("" when empty; never NULL). */
const char *buf_str(const buf *b);
void buf_reset(buf *b);  /* len = 0, storage kept */
char *buf_detach(buf *b); /* never NULL */
void buf_free(buf *b);

#endif
