/*
 * shard: splitting users over N independent processes. A user belongs to
 * shard pe_hash64(id) mod N, so the split depends only on the ids (not on file
 * order or the machine). The index comes from --shard i/N, or with
 * --shard auto from the scheduler's environment: SLURM_ARRAY_TASK_ID (minus
 * SLURM_ARRAY_TASK_MIN when set) or JOB_COMPLETION_INDEX (Kubernetes Indexed
 * Jobs).
 *
 * Ownership: shard_split() moves the users it drops into *rest (free it with
 * dataset_free) and returns positions the caller frees.
 */
#ifndef PE_SHARD_H
#define PE_SHARD_H

#include <stddef.h>

#include "dataset.h"
#include "util.h"

typedef struct shard {
    size_t index, count; /* count 0: not sharded */
} shard;

/* "i/N" with 0 <= i < N; PE_EXIT_USAGE naming the problem otherwise. */
int shard_parse(const char *spec, shard *s, pe_err *e);
/* The index from the environment for count shards (see above). */
int shard_from_env(size_t count, shard *s, pe_err *e);
/* The shard of a user id among count shards. */
size_t shard_of(const char *user, size_t count);

/* Keep in d only the users of shard s (in their order); the others move to
 * rest. *pos[i] = the position the i-th kept user had before the split. */
int shard_split(dataset *d, const shard *s, dataset *rest, size_t **pos);

/* One shard directory's record, as merge reads it from run.json. */
typedef struct shard_part {
    const char *dir;
    size_t index, count;   /* 0/1 for an unsharded run */
    size_t users_total;    /* users selected before sharding */
    const char *const *users;
    const size_t *positions; /* each user's position before sharding */
    size_t nusers;
} shard_part;

/* Check that parts are the shards 0..N-1 of one split, each once, and that
 * together they hold every user exactly once. PE_EXIT_USAGE naming missing or
 * duplicated shard indexes, missing positions and duplicated or misplaced
 * users. */
int shard_check_cover(const shard_part *p, size_t n, pe_err *e);

#endif
