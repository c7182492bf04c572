/*
 * llm_pool: replicas of one model behind several base URLs. Each request goes
 * to the replica with the fewest requests in flight among those not resting;
 * a replica that refuses connections, or fails LLM_POOL_STREAK times in a row
 * (5xx, resets, timeouts), rests for a backoff that doubles with each rest
 * (LLM_POOL_REST_BASE_S up to LLM_POOL_REST_CAP_S) and is tried again when
 * the rest ends; a success ends the streak and resets the backoff.
 *
 * Ownership: the pool copies the URLs; llm_pool_free() releases it. All
 * functions are thread-safe. Times are pe_now() seconds, passed in so that the
 * choice can be tested without waiting.
 */
#ifndef PE_LLM_POOL_H
#define PE_LLM_POOL_H

#include <stddef.h>

#define LLM_POOL_STREAK 3
#define LLM_POOL_REST_BASE_S 1.0
#define LLM_POOL_REST_CAP_S 30.0

typedef enum llm_pool_outcome {
    LLM_POOL_OK,   /* a response that was not a server failure (2xx, 4xx) */
    LLM_POOL_FAIL, /* 5xx, reset, timeout: counts towards the streak */
    LLM_POOL_DEAD  /* no connection could be made: rests at once */
} llm_pool_outcome;

typedef struct llm_pool_stats {
    const char *url;         /* without userinfo or query (owned by the pool) */
    unsigned long requests;  /* attempts sent to this replica */
    unsigned long errors;    /* attempts that failed (FAIL or DEAD) */
    unsigned long rested;    /* times it was rested */
    int in_flight;
    int resting;             /* resting at the time asked */
} llm_pool_stats;

typedef struct llm_pool llm_pool;

llm_pool *llm_pool_new(const char *const *urls, size_t n);
void llm_pool_free(llm_pool *p);
size_t llm_pool_size(const llm_pool *p);
/* The base URL of replica i (as given, trailing slashes removed). */
const char *llm_pool_url(const llm_pool *p, size_t i);
/* Choose a replica for one attempt and count it in flight. tried (n flags, or
 * NULL) marks the replicas this request already failed on: they are avoided
 * while another is usable. Resting replicas are chosen only when every other
 * is resting or tried (then the one whose rest ends first). */
size_t llm_pool_acquire(llm_pool *p, const unsigned char *tried, double now);
/* The attempt on replica i ended with outcome. Returns 1 when it rested the replica. */
int llm_pool_release(llm_pool *p, size_t i, llm_pool_outcome outcome, double now);
/* 1 when some replica other than the tried ones is not resting at now. */
int llm_pool_has_fresh(llm_pool *p, const unsigned char *tried, double now);
void llm_pool_stats_get(llm_pool *p, size_t i, double now, llm_pool_stats *s);

#endif
