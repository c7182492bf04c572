/*
 * pe_run: the library's entry point. pe_run() runs one evaluation from a
 * pe_run_config (run_config.h): it loads the data, selects and shards the
 * users, sets up the LLM client, the cache and the memory encoder, runs every
 * method for every user, writes the run directory (run.json, predictions,
 * traces, personas, summaries, report.html) and returns a status, as
 * curl_easy_perform() does for a transfer: 0, or a PE_EXIT_* code with the
 * message in the pe_err.
 *
 *     pe_run_config c;
 *     pe_run_result r;
 *     pe_err e = {0};
 *     run_config_init(&c);
 *     c.task = "lamp2m";
 *     c.methods = "rag,personaagent";
 *     int rc = pe_run(&c, &r, &e);
 *
 * Status: 0 when every query was answered; PE_EXIT_RUNERRORS when the run
 * finished but some queries ended in error; PE_EXIT_SIGINT/SIGTERM when
 * *c->stop was set (the summary is written, marked incomplete);
 * PE_EXIT_NOINPUT when c->offline_cache and a call found no cache entry (the
 * run stopped at the first miss; the summary is written, marked incomplete
 * when queries are left); any other code when the run could not be done
 * (nothing half-written for bad input; r.out is then NULL).
 *
 * Ownership: pe_run() borrows the config. The result owns its strings and
 * summaries, freed by pe_run_result_free(), except after an abandoned stop
 * (r.abandoned > 0): worker threads still read the run's data then, so the
 * process must exit without freeing anything more (_exit).
 */
#ifndef PE_PE_RUN_H
#define PE_PE_RUN_H

#include <stddef.h>

#include "buf.h"
#include "report.h"
#include "run_config.h"
#include "runner.h"
#include "task.h"
#include "util.h"

typedef struct pe_run_result {
    char *out;                  /* the run directory (NULL when none was made) */
    const task *task;
    method_summary *summaries;  /* per method, in the order given */
    size_t nsummaries;
    runner_stats stats;
    int offline;                /* answers came from the offline responder */
    char *model;                /* the model that answered (NULL: no LLM method) */
    int incomplete;             /* stopped before every query was answered */
    size_t abandoned;           /* queries still in flight after the grace period */
} pe_run_result;

int pe_run(const pe_run_config *c, pe_run_result *r, pe_err *e);
void pe_run_result_free(pe_run_result *r);

/* The libraries a run used: {"libcurl": "...", "cjson": "...", "openblas": "..."}. */
void pe_versions_json(buf *b);
/* The same, one line per library (for --version). */
void pe_versions_text(buf *b);

#endif
