/*
 * redact: the one point every string leaving the process passes through
 * before it reaches a file, stdout, stderr or a report: registered secrets
 * (the API key, header values, URL userinfo) and anything shaped like a
 * credential ("Bearer <token>", "Basic <token>", "sk-<token>", "scheme://user:pass@") are
 * replaced by "***".
 *
 * Ownership: the registry is process-wide and thread-safe; registered strings
 * are copied and kept until redact_clear(). Functions returning char * return
 * a new string the caller frees.
 */
#ifndef PE_REDACT_H
#define PE_REDACT_H

#include <stddef.h>

#include "util.h"

/* What a secret is replaced by. */
#define REDACT_MARK "***"

/* Register a secret (ignored when NULL or shorter than 4 bytes, which would
 * mangle ordinary text). */
void redact_add(const char *secret);
/* Register the value of a "Name: value" header (and the token of "Bearer x"). */
void redact_add_header(const char *header);
/* Register the userinfo of a URL ("user:pass", and "pass" alone). */
void redact_add_url(const char *url);
/* Forget every registered secret (tests). */
void redact_clear(void);

/* s with every secret and credential-shaped token replaced (NULL: NULL). */
char *redact(const char *s);
/* The same in place in a NUL-terminated buffer of cap bytes (cut to fit). */
void redact_inplace(char *s, size_t cap);
/* Redact an error message in place. */
void redact_err(pe_err *e);
/* url without its userinfo ("http://host/v1"). */
char *redact_url(const char *url);

#endif
