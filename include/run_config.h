/*
 * run_config: what one evaluation is run with (pe_run_config), its defaults,
 * and the one table of settings that says, for every option of `run`,
 * whether it changes results. The canonical settings object (run.json's
 * "config"), the config hash, the --resume check and the merge check are all
 * generated from that table, so a setting that changes what the model sees
 * cannot be left out of any of them.
 *
 * Ownership: a pe_run_config borrows every string and array it points to;
 * the caller keeps them alive until pe_run() returns. run_config_settings()
 * returns a cJSON tree the caller frees with cJSON_Delete(). The table is
 * static.
 */
#ifndef PE_RUN_CONFIG_H
#define PE_RUN_CONFIG_H

#include <cJSON.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "dataset.h"
#include "progress.h"
#include "util.h"

typedef struct pe_run_config {
    /* data */
    const char *task;                 /* lamp1, lamp2m, lamp2n, lamp3 (required) */
    const char *const *data;          /* input files; none: data/sample/TASK.jsonl */
    size_t ndata;
    const char *format;               /* NULL: auto */
    size_t users;                     /* 0: all; else the N users with most history */
    const char *const *user_ids;      /* only these users */
    size_t nuser_ids;
    size_t max_queries;               /* 0: all */
    ds_limits limits;
    /* methods and scoring */
    const char *methods;              /* comma-separated, or "all" */
    int strict_answers;
    size_t k;
    size_t bootstrap;
    uint64_t seed;
    /* the LLM */
    const char *llm;                  /* "http", "offline", NULL: http with an endpoint */
    const char *endpoint, *model;     /* NULL: OPENAI_BASE_URL, OPENAI_MODEL; several
                                         endpoints (replicas of one model) are separated
                                         by spaces, or by commas before http(s):// */
    const char *api_key_env;          /* NULL: OPENAI_API_KEY */
    const char *const *headers;       /* "Name: value" */
    size_t nheaders;
    const char *extra_body;           /* a JSON object merged into chat requests */
    double temperature, timeout, rps, price_in, price_out;
    unsigned long long retries, max_response_bytes;
    int insecure;
    const char *tools;                /* native, text, auto */
    const char *cache;                /* rw, ro, off; NULL: rw (off for the offline responder) */
    const char *cache_dir;            /* NULL: $XDG_CACHE_HOME/persona-eval */
    int cache_shared;
    int offline_cache;                /* --offline: replay only; the first miss stops the
                                         run (PE_EXIT_NOINPUT, the misses counted) */
    const char *prompts_dir;
    const char *wiki;                 /* NULL: off offline, else Wikipedia */
    /* agent, persona, alignment */
    size_t max_steps, summary_items, align_batch, align_iters, align_every;
    int online;
    unsigned long long max_observation_chars;
    size_t max_tool_calls;            /* tool calls run per model response */
    /* episodic memory */
    const char *embed, *embed_endpoint, *embed_model, *tokenize;
    size_t dim;
    /* scale */
    int jobs;
    const char *out;                  /* NULL: results/TASK-METHODS-UTC */
    const char *resume;               /* continue the run in this folder (one that holds no
                                         run yet, as after a kill before run.json: start it) */
    const char *shard;                /* "I/N" or "auto" */
    size_t shards;                    /* with shard "auto" */
    double grace_s;                   /* wait for queries in flight after a stop (0: none) */
    progress_mode progress;
    double progress_interval_s;       /* seconds between log lines (not on a terminal) */
    int verbose;
    /* what the run records and how it is told to stop */
    const char *const *command;       /* the command line, recorded in run.json as given:
                                         canonical and without secrets (the tool's job) */
    size_t ncommand;
    volatile sig_atomic_t *stop;      /* set to SIGINT or SIGTERM to stop starting queries */
    volatile sig_atomic_t *stop_now;  /* set to give up on the queries in flight at once */
    atomic_int *in_flight;            /* kept equal to the jobs being worked on (or NULL) */
    void (*log)(void *ctx, const char *msg); /* notices and warnings; NULL: none */
    void *log_ctx;
} pe_run_config;

/* The defaults: k 4, bootstrap 1000, seed 42, -j 8, temperature 0.1, ... */
void run_config_init(pe_run_config *c);

/* What a run derives before it starts, recorded beside the options. */
typedef struct run_derived {
    const char *const *data_sha256;   /* one per data file, in order */
    size_t ndata;
    const char *const *methods;       /* method names, as parsed */
    size_t nmethods;
    int llm;                          /* 1 when a method calls the LLM */
    int embed_http;                   /* 1 with --embed http */
    const char *backend;              /* "http" or "offline" */
    const char *model;
    const char *prompts_sha256;       /* digest of every template */
    const char *wiki;                 /* the wiki spec in use */
} run_derived;

/* One row of the table. */
enum {
    RS_RESULT = 1u << 0,      /* changes results: in the config, the hash, the checks */
    RS_IF_LLM = 1u << 1,      /* recorded only when a method calls the LLM */
    RS_IF_EMBED = 1u << 2,    /* recorded only with --embed http */
    RS_IF_ONLINE = 1u << 3,   /* recorded only with --online */
    RS_DERIVED = 1u << 4      /* the value comes from run_derived, not the options */
};
typedef enum { RS_STR, RS_STRS, RS_SIZE, RS_U64, RS_ULL, RS_INT, RS_DOUBLE } rs_type;

typedef struct run_setting {
    const char *option;   /* the option of `run`, "--k"; several names: "--method|--methods" */
    const char *key;      /* its key in run.json's "config" (result-changing rows) */
    unsigned flags;
    rs_type type;
    size_t offset;        /* in pe_run_config, or run_derived with RS_DERIVED */
    size_t count_offset;  /* RS_STRS: the count beside the array */
    const char *unset;    /* RS_STR: recorded for NULL */
    const char *why;      /* rows that do not change results: why not */
} run_setting;

size_t run_settings_count(void);
const run_setting *run_settings_at(size_t i);
/* The row of an option ("--k", "-j" and "--jobs" alike); NULL when unknown. */
const run_setting *run_settings_find(const char *option);

/* The canonical settings: every result-changing row that applies. */
cJSON *run_config_settings(const pe_run_config *c, const run_derived *d);
/* Name the result-changing settings that differ between a recorded config
 * and now, as "--option (recorded X, now Y)" items joined by "; ". Returns
 * how many differ. */
size_t run_config_diff(const cJSON *recorded, const cJSON *now, buf *out);

#endif
