/*
 * util: allocation, errors, files, hashing, time, small string helpers.
 *
 * Ownership: x* allocators never return NULL (they print and abort on
 * out-of-memory, as a CLI cannot recover from it); memory they return is the
 * caller's to free(). Functions that can fail return 0 or a PE_EXIT_* status
 * and describe the failure in a pe_err the caller passes in.
 */
#ifndef PE_UTIL_H
#define PE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes, documented in README.md and persona-eval.1. */
enum {
    PE_OK = 0,
    PE_EXIT_INTERNAL = 1,    /* a bug or an unexpected system failure */
    PE_EXIT_USAGE = 2,       /* bad command line */
    PE_EXIT_REGRESSION = 3,  /* report --baseline: a metric got worse */
    PE_EXIT_RUNERRORS = 4,   /* the run finished but some queries ended in error */
    PE_EXIT_INCOMPLETE = 5,  /* report --baseline, merge: a run or shard is incomplete */
    PE_EXIT_ERRORED = 6,     /* report --baseline: the new run has errored queries */
    PE_EXIT_INCOMPARABLE = 7,/* report --baseline: other queries, task, data or settings */
    PE_EXIT_DATA = 65,       /* bad input data */
    PE_EXIT_NOINPUT = 66,    /* an input file does not exist or cannot be opened */
    PE_EXIT_UNAVAILABLE = 69,/* the endpoint refuses every request (key, model, path) */
    PE_EXIT_IO = 74,         /* reading or writing files failed */
    PE_EXIT_LOCKED = 75,     /* another run is using the run folder */
    PE_EXIT_SIGINT = 130,
    PE_EXIT_SIGTERM = 143
};

typedef struct pe_err {
    int code;       /* 0 while no error was recorded */
    char msg[1024];
} pe_err;

/* Record a formatted message and code in e (if e is non-NULL); returns code. */
int pe_errf(pe_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix the message already in e with a formatted context ("file.json: "). */
void pe_err_prefix(pe_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array to hold at least need elements of size size; *cap is updated. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole file (at most max bytes; 0 = no limit) into a NUL-terminated buffer. */
int pe_read_file(const char *path, size_t max, char **data, size_t *len, pe_err *e);
/* Write data to path atomically: temporary file in the same folder, fsync, rename. */
int pe_write_atomic(const char *path, const void *data, size_t len, pe_err *e);
/* The same for the file name inside folder dir. */
int pe_write_atomic_in(const char *dir, const char *name, const void *data, size_t len,
                       pe_err *e);
/* mkdir -p. */
int pe_mkdirs(const char *path, pe_err *e);
int pe_file_exists(const char *path);

/* SHA-256. */
typedef struct sha256_ctx {
    uint32_t h[8];
    uint64_t nbytes;
    uint8_t block[64];
    size_t used;
} sha256_ctx;
void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
void sha256_final(sha256_ctx *c, uint8_t out[32]);
void sha256_hex(const void *data, size_t len, char out[65]);
void pe_hex(const uint8_t *bytes, size_t n, char *out);
int pe_sha256_file(const char *path, char out[65], pe_err *e);

/* 64-bit FNV-1a, for hashing tokens and ids (not for security). */
uint64_t pe_hash64(const void *data, size_t len, uint64_t seed);
/* murmur3's fmix64 finalizer: every input bit affects every output bit. */
uint64_t pe_mix64(uint64_t h);

/* UTF-8 validation: returns 1 when valid; else 0 and the offset of the first bad byte. */
int pe_utf8_valid(const char *s, size_t len, size_t *bad_offset);

/* Seconds from a monotonic clock. */
double pe_now(void);
/* Wall-clock UTC time as "2026-11-25T20:46:38Z" (buf of at least 21 bytes). */
void pe_utc_iso(char *buf, size_t n);
/* Wall-clock UTC time as "20261125T204638Z", for directory names. */
void pe_utc_compact(char *buf, size_t n);

/* Shortest decimal form that reads back to the same double, like Python's repr(). */
void pe_fmt_double(char *buf, size_t n, double v);

/* Strip whitespace on both sides exactly like Python's str.strip() (ASCII and
 * Unicode whitespace in UTF-8): a new string, or a span of s. */
char *pe_strip(const char *s);
const char *pe_strip_span(const char *s, size_t *len);
/* Case-insensitive (ASCII) search; NULL if absent. */
const char *pe_strcasestr(const char *hay, const char *needle);
int pe_streq(const char *a, const char *b); /* NULL-safe */

/* Parse like Python float(): surrounding whitespace allowed, '_' between digits,
 * inf/nan words; returns 1 on success. */
int pe_parse_pyfloat(const char *s, double *out);

/* Deterministic PRNG (splitmix64 seeded xoshiro256**). */
typedef struct pe_rng { uint64_t s[4]; } pe_rng;
void pe_rng_seed(pe_rng *r, uint64_t seed);
uint64_t pe_rng_next(pe_rng *r);
/* Uniform integer in [0, n). */
uint64_t pe_rng_below(pe_rng *r, uint64_t n);
double pe_rng_unit(pe_rng *r); /* [0, 1) */

#endif
