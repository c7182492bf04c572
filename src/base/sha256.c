#include "sha256.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libcrypto fails only on out-of-memory or a broken installation; a CLI cannot go on. */
static void crypto_fail(const char *what)
{
    fprintf(stderr, "persona-eval: libcrypto SHA-256 failed in %s\n", what);
    abort();
}

void sha256_init(sha256_ctx *c)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        crypto_fail("init");
    c->md = md;
}

void sha256_update(sha256_ctx *c, const void *data, size_t len)
{
    if (len && EVP_DigestUpdate(c->md, data, len) != 1)
        crypto_fail("update");
}

void sha256_final(sha256_ctx *c, uint8_t out[32])
{
    unsigned n = 0;
    if (EVP_DigestFinal_ex(c->md, out, &n) != 1 || n != 32)
        crypto_fail("final");
    EVP_MD_CTX_free(c->md);
    c->md = NULL;
}

void pe_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[bytes[i] >> 4];
        out[2 * i + 1] = hx[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

void sha256_hex(const void *data, size_t len, char out[65])
{
    uint8_t d[32];
    unsigned n = 0;
    if (EVP_Digest(data, len, d, &n, EVP_sha256(), NULL) != 1 || n != 32)
        crypto_fail("digest");
    pe_hex(d, 32, out);
}

int pe_sha256_file(const char *path, char out[65], pe_err *e)
{
    FILE *f = fopen(path, "rb");
    sha256_ctx c;
    uint8_t d[32];
    size_t n;
    char *blk;

    if (!f)
        return pe_errf(e, PE_EXIT_NOINPUT, "%s: cannot open: %s", path, strerror(errno));
    blk = malloc(1 << 20);
    if (!blk)
        crypto_fail("buffer");
    sha256_init(&c);
    while ((n = fread(blk, 1, 1 << 20, f)) > 0)
        sha256_update(&c, blk, n);
    free(blk);
    sha256_final(&c, d);
    if (ferror(f)) {
        fclose(f);
        return pe_errf(e, PE_EXIT_IO, "%s: read error", path);
    }
    fclose(f);
    pe_hex(d, 32, out);
    return 0;
}
