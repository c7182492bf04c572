/*
 * cache: a content-addressed request cache on disk. An entry is the response
 * to one canonical request, stored as <dir>/<key[0..2]>/<key[2..]>.json and
 * written to a unique temporary file then renamed, so several processes and
 * threads share one folder safely. Only successful responses are stored. An
 * entry is a header line carrying the SHA-256 of the content, then the
 * content: an entry failing its checksum is a miss (counted in
 * cache_stats.corrupt). The folders are made 0700 and entries 0600: cached
 * prompts hold users' histories.
 *
 * Ownership: cache_open() returns a cache freed with cache_close(); it is safe
 * to share between threads. Strings returned are the caller's to free().
 */
#ifndef PE_CACHE_H
#define PE_CACHE_H

#include <cJSON.h>
#include <stddef.h>

#include "util.h"

/* Bump when the stored entry or the key composition changes. */
#define CACHE_FORMAT_VERSION 2

typedef enum cache_mode {
    CACHE_OFF,     /* no reads, no writes */
    CACHE_RW,      /* read and record (default) */
    CACHE_RO,      /* read only; misses go to the network but are not stored */
    CACHE_OFFLINE  /* read only; a miss is an error */
} cache_mode;

typedef struct cache cache;

typedef struct cache_stats {
    unsigned long hits, misses, writes, write_errors;
    unsigned long corrupt;  /* entries whose checksum did not match (also misses) */
    unsigned long long bytes_read, bytes_written;
} cache_stats;

/* Open (creating dir in RW mode). dir NULL = cache_default_dir(). */
cache *cache_open(const char *dir, cache_mode mode, pe_err *e);
void cache_close(cache *c);
cache_mode cache_get_mode(const cache *c);
const char *cache_dir(const cache *c);
/* "off", "rw", "ro", "offline" → mode; -1 when unknown. */
int cache_mode_parse(const char *s);
/* $XDG_CACHE_HOME/persona-eval, else $HOME/.cache/persona-eval. */
char *cache_default_dir(void);

/* Canonical text of a JSON value: object keys sorted recursively, compact. */
char *cache_canonical(const cJSON *j);
/* SHA-256 hex of a canonical text. */
void cache_key(const char *canonical, char hex[65]);
/* The path of an entry. */
char *cache_path(const cache *c, const char *hex);

/* 1 on a hit (*data, *len set to the content; caller frees), 0 on a miss
 * (also in OFF mode, when the entry cannot be read, or fails its checksum).
 * Counts hits, misses and corrupt entries. */
int cache_get(cache *c, const char *hex, char **data, size_t *len);
/* Store an entry (RW mode only; otherwise a no-op returning 0). */
int cache_put(cache *c, const char *hex, const char *data, size_t len, pe_err *e);
void cache_get_stats(cache *c, cache_stats *s);

#endif
