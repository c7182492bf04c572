/*
 * run_parts: the pieces pe_run() is assembled from, private to src/run/:
 * the LLM wiring of a run (client, cache, prompts, Wikipedia, the /embeddings
 * encoder) and the text of run.json.
 *
 * Ownership: run_llm_setup() fills a run_llm that run_llm_free() releases;
 * run_json_text() returns text the caller frees.
 */
#ifndef PE_RUN_PARTS_H
#define PE_RUN_PARTS_H

#include <stdatomic.h>

#include "buf.h"
#include "cache.h"
#include "dataset.h"
#include "embed_http.h"
#include "encoder.h"
#include "llm.h"
#include "methods.h"
#include "prompts.h"
#include "run_config.h"
#include "runctl.h"
#include "runner.h"
#include "tools.h"

/* Everything the LLM methods need, made once per run. */
typedef struct run_llm {
    llm_client *client;
    cache *cache;
    prompt_set *prompts;
    wiki_client *wiki;
    atomic_int text_fallback;
    int offline;
    char *endpoint;   /* without credentials or query string */
    char *model;
    const char *wiki_spec;
    const char *cache_mode;
    char *cache_dir;
    char prompts_sha256[65];
    /* --embed http */
    llm_client *embed_client;
    embed_http *embed;
    char *embed_endpoint, *embed_model;
} run_llm;

/* The chat client (for runs with LLM methods). */
int run_llm_setup(const pe_run_config *c, run_llm *ls, pe_err *e);
/* The memory encoder; --embed http gets a client of its own. */
int run_encoder_setup(const pe_run_config *c, run_llm *ls, encoder_opts *o, pe_err *e);
void run_llm_free(run_llm *ls);
/* --offline: the chat and embedding calls that found no cache entry so far
 * (0 in other cache modes), and a runner_opts halt function (ctx is the
 * run_llm) that stops the run once there is one. */
unsigned long run_llm_offline_misses(run_llm *ls);
int run_llm_offline_halt(void *ctx);

/* What the earlier sessions of a resumed run recorded in run.json (their
 * totals, themselves summed over the sessions before them). */
typedef struct run_prior {
    unsigned sessions;     /* earlier sessions (0: a new run) */
    llm_totals llm;        /* "llm" "totals" */
    runner_stats stats;    /* "stats": calls, tokens and cost only */
} run_prior;

/* The totals of a run.json (parsed) as the prior of the next session; a
 * run.json without them counts as zero. */
void run_prior_read(const cJSON *run, run_prior *p);

/* What run.json says. finished NULL and st NULL while the run is going. */
typedef struct run_record {
    const pe_run_config *config;
    const dataset *data;
    const method *const *methods;
    size_t nmethods;
    const runctl *ctl;
    run_llm *llm;
    const char *started, *finished;
    const runner_stats *stats;
    int incomplete;
    const run_prior *prior; /* may be NULL: a new run */
} run_record;

char *run_json_text(const run_record *r);

#endif
