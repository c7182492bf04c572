/*
 * settings: a run's canonical settings, the ones that change results (task,
 * methods, data SHA-256s, k, strictness, seed, bootstrap draws, the user
 * selection, ...), as one flat cJSON object, and its SHA-256 (config_hash).
 * Settings that do not change results (jobs, progress, the out folder, the
 * shard) stay out, so shards and resumed runs share one hash.
 *
 * Ownership: settings_new() returns a tree the caller frees with
 * cJSON_Delete(); settings_canonical() returns text the caller frees.
 */
#ifndef PE_SETTINGS_H
#define PE_SETTINGS_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "util.h"

cJSON *settings_new(void);
/* Add (or replace) one key. A NULL string is stored as null. */
void settings_add_str(cJSON *s, const char *key, const char *v);
void settings_add_bool(cJSON *s, const char *key, int v);
/* Whole numbers: stored as a JSON number up to 2^53, as a decimal string above. */
void settings_add_u64(cJSON *s, const char *key, uint64_t v);
void settings_add_num(cJSON *s, const char *key, double v);
void settings_add_strs(cJSON *s, const char *key, const char *const *v, size_t n);

/* Compact JSON with object keys sorted (recursively): the text that is hashed. */
char *settings_canonical(const cJSON *s);
/* SHA-256 of settings_canonical(), as 64 hex digits. */
void settings_hash(const cJSON *s, char out[65]);
#endif
