/*
 * sha256: SHA-256 of memory and files, from libcrypto (OpenSSL's EVP interface).
 *
 * Ownership: a sha256_ctx holds a libcrypto digest context from sha256_init()
 * until sha256_final(), which releases it; every started context must be
 * finished. Hex digests are written into the caller's 65-byte array.
 */
#ifndef PE_SHA256_H
#define PE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef struct sha256_ctx {
    void *md; /* EVP_MD_CTX */
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
/* The digest; releases the context. */
void sha256_final(sha256_ctx *c, uint8_t out[32]);
/* Lower-case hex digest of len bytes. */
void sha256_hex(const void *data, size_t len, char out[65]);
/* n bytes as lower-case hex (out holds 2n + 1 bytes). */
void pe_hex(const uint8_t *bytes, size_t n, char *out);
/* The hex digest of a file's contents. */
int pe_sha256_file(const char *path, char out[65], pe_err *e);

#endif
