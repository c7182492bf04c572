/*
 * progress: the status line of a run, from its start (loading) to its end
 * (summarizing). On a terminal, one line on stderr redrawn every 0.25 s;
 * elsewhere, a log line every log interval (30 s unless set). A ticker thread
 * draws it, so the line moves when no query finishes (a run preparing its
 * users, a slow endpoint); the runner's updates only copy its counts, and the
 * LLM counts (every call as it completes, preparation and embeddings
 * included) are read from the clients by the ticker: nothing is drawn on the
 * threads that make calls.
 *
 * Ownership: progress_new() returns an object freed with progress_free(); it
 * borrows the stream and the LLM clients (they must outlive progress_finish()
 * or progress_free(), which stop the ticker). All functions but new and free
 * may be called from any thread.
 */
#ifndef PE_PROGRESS_H
#define PE_PROGRESS_H

#include <stdio.h>

#include "buf.h"
#include "llm.h"
#include "runner.h"

typedef enum { PROGRESS_AUTO, PROGRESS_ALWAYS, PROGRESS_NEVER } progress_mode;

/* "auto", "always" or "never"; PE_EXIT_USAGE otherwise. */
int progress_parse_mode(const char *s, progress_mode *m, pe_err *e);

/* What the run is doing. PREPARING and ANSWERING are told apart from the
 * runner's counts: preparing until the first query of the session is answered
 * while preparations are left, answering after. */
typedef enum {
    PROGRESS_LOADING,     /* data, users, LLM client, resume check */
    PROGRESS_RUNNING,     /* the runner: preparing or answering */
    PROGRESS_SUMMARIZING, /* summaries, run.json, report.html */
    PROGRESS_DONE,
    PROGRESS_STOPPED      /* ended by a signal or a fatal error: incomplete */
} progress_phase;

/* One replica's counts (llm_pool_stats). */
typedef struct progress_endpoint {
    unsigned long requests, errors, rested;
    int resting;
} progress_endpoint;

/* Everything one line shows. */
typedef struct progress_snapshot {
    progress_phase phase;
    int have_runner;          /* the runner's counts below are known */
    size_t users_done, users_total;
    size_t preps_done, preps_total;
    size_t queries_total, queries_done, queries_skipped, errors;
    int have_llm;             /* an LLM client: the call counts below are known */
    unsigned long calls;      /* completed chat and embeddings calls, cache hits included */
    unsigned long cached, call_errors, retries, rate_limited;
    int inflight_cap;
    unsigned long long tokens; /* reported prompt + completion tokens */
    int priced;               /* prices are configured: cost_usd is shown */
    double cost_usd;
    size_t nendpoints;        /* shown when more than one */
    const progress_endpoint *endpoints;
    double run_s;             /* seconds since the runner started (rates, ETA) */
} progress_snapshot;

/* The phase as shown: "loading", "preparing", "answering", "summarizing",
 * "done" or "stopped". */
const char *progress_phase_name(const progress_snapshot *s);

/* The line's text: "preparing  users 0/10  prepared 2/10  queries 0/60  calls
 * 16 (3.2/s) ...". elapsed in seconds since the run started. */
void progress_format(buf *out, const progress_snapshot *s, double elapsed);

typedef struct progress progress;
/* mode AUTO: status line when f is a terminal, log lines otherwise; ALWAYS:
 * the status line anyway; NEVER: nothing (and no thread). */
progress *progress_new(progress_mode mode, FILE *f);
/* Seconds between two outputs: redraws of the line (default 0.25) and log
 * lines (default 30); set before progress_start(). */
void progress_set_intervals(progress *p, double line_s, double log_s);
/* The clients whose calls are counted (either may be NULL): the chat client
 * and the /embeddings client of --embed http. Set before the first call. */
void progress_set_llm(progress *p, llm_client *chat, llm_client *embed, int priced);
/* Start the ticker: the line is drawn at once (a status line) and then every
 * interval until progress_finish(). */
void progress_start(progress *p);
void progress_set_phase(progress *p, progress_phase phase);
/* A runner_progress_fn (ctx is the progress): copies the counts. */
void progress_update(void *ctx, const runner_stats *st, size_t users_done, size_t users_total);
/* Stop the ticker and draw the last state, phase DONE (STOPPED when
 * incomplete), with a final newline; in log mode only when a line was
 * printed before. Once only; later calls do nothing. */
void progress_finish(progress *p, int incomplete);
/* Stops the ticker; a status line left without its final newline is erased. */
void progress_free(progress *p);

#endif
