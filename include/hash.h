/*
 * hash: fast non-cryptographic hashing of tokens and ids (SHA-256 is in sha256.h).
 *
 * Ownership: pure functions of their arguments; nothing is kept.
 */
#ifndef PE_HASH_H
#define PE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit FNV-1a with a final mix, for hashing tokens and ids (not for security). */
uint64_t pe_hash64(const void *data, size_t len, uint64_t seed);
/* murmur3's fmix64 finalizer: every input bit affects every output bit. */
uint64_t pe_mix64(uint64_t h);

#endif
