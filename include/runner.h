/*
 * runner: the scheduler. Users x methods x queries, run by worker threads that
 * keep up to `jobs` queries in flight whatever the shape of the work (few users
 * with many queries, or many users), each answer appended to the run directory
 * as it completes.
 *
 * Ownership: the runner borrows everything in runner_opts; it creates and frees
 * the per-user state itself, freeing a user's memory as soon as that user's
 * last query is answered.
 */
#ifndef PE_RUNNER_H
#define PE_RUNNER_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

#include "methods.h"
#include "report.h"

typedef struct runner_stats {
    size_t queries_total, queries_done, queries_skipped, errors;
    size_t preps_total, preps_done; /* (user, method) preparations planned and finished */
    long calls, prompt_tokens, completion_tokens;
    double cost_usd;
    double wall_s;
    size_t abandoned; /* queries still in flight when the grace period ran out */
} runner_stats;

/* Progress callback, called once the jobs are planned, then from worker
 * threads after each query and each preparation, with the runner's lock held
 * (it must be quick; may be NULL). */
typedef void (*runner_progress_fn)(void *ctx, const runner_stats *st, size_t users_done,
                                   size_t users_total);

typedef struct runner_opts {
    const method *const *methods;
    size_t nmethods;
    int jobs;                  /* worker threads (>= 1) */
    report_writer *out;
    /* (method, user, query id) triples already answered (resume): skipped. */
    int (*is_done)(void *ctx, const char *method, const char *user, const char *id);
    void *done_ctx;
    volatile sig_atomic_t *stop; /* set (non-zero) to stop starting new queries */
    /* When not NULL, asked (under the runner's lock, after every job) whether to
     * stop starting new jobs, like *stop but with no grace period: the jobs
     * under way finish (--offline after its first cache miss). */
    int (*halt)(void *ctx);
    void *halt_ctx;
    runner_progress_fn progress;
    void *progress_ctx;
    /* After *stop is set, wait at most this long (seconds) for the queries in
     * flight; 0: no limit. When it runs out the runner returns at once with
     * stats.abandoned > 0, leaving the workers running: they record nothing
     * more, but they still read everything borrowed through runner_opts and
     * run_shared, so the caller must then write its reports and exit without
     * freeing any of it. */
    double grace_s;
    /* Set (non-zero) to end the grace period at once (a second Ctrl-C). */
    volatile sig_atomic_t *stop_now;
    /* When not NULL, kept equal to the number of jobs being worked on, for a
     * signal handler to read. */
    atomic_int *in_flight;
    /* When not NULL (one per method): users whose preparation of the method
     * failed (their queries of it end in error). */
    size_t *prep_failed;
} runner_opts;

/* Test hook: the environment variable PE_TEST_QUERY_DELAY_MS=N makes every
 * query take N ms longer (so that tests can interrupt a run mid-way). */
#define RUNNER_DELAY_ENV "PE_TEST_QUERY_DELAY_MS"

/* Run every (method, user, query) not already done. Per-query failures are
 * recorded as errors in predictions.jsonl; a failure that makes going on
 * pointless (the endpoint refuses everything, a write error) stops the run and
 * is returned. */
int runner_run(const run_shared *rs, const runner_opts *o, runner_stats *st, pe_err *e);

#endif
