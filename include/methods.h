/*
 * methods: every method and ablation as one small descriptor saying what it
 * uses, plus the function that answers one query. The runner owns the loop;
 * methods own policy.
 *
 * Ownership: descriptors are static. A method_answer's strings are malloc'd
 * by the method and freed by the runner (method_answer_free). Per-user state
 * (user_state) is created and freed by the runner; methods fill its lazily
 * built parts under its mutex through the accessors below.
 */
#ifndef PE_METHODS_H
#define PE_METHODS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "dataset.h"
#include "llm.h"
#include "persona.h"
#include "prompts.h"
#include "task.h"
#include "util.h"

struct wiki_client;
struct encoder_opts;

/* What a method uses (a descriptor's `uses` bits). */
enum {
    M_LLM = 1u << 0,         /* calls the LLM */
    M_MEMORY = 1u << 1,      /* needs the user's episodic memory */
    M_SUMMARY = 1u << 2,     /* semantic memory (LLM summary of the user) */
    M_PERSONA = 1u << 3,     /* persona system prompt initialized from the summary */
    M_ALIGN = 1u << 4,       /* test-time alignment of the persona */
    M_TOOL_MEMORY = 1u << 5, /* memory_search tool */
    M_TOOL_WIKI = 1u << 6,   /* wikipedia tool */
    M_REFERENCE = 1u << 7,   /* a reference method that needs no LLM */
    M_ICL = 1u << 8,         /* few-shot demonstrations from other users */
    M_RAG = 1u << 9,         /* retrieved items in LaMP's prompt layout */
    M_MEMBANK = 1u << 10     /* memory tool scores decay with age, grow with recall */
};

/* Where the agent layer sends its records: one JSON object per call, without
 * a newline (traces.jsonl and personas.jsonl lines). The run connects them to
 * its run directory; NULL functions drop the records. */
typedef struct run_sink {
    void (*trace)(void *ctx, const char *json_line);
    void (*persona)(void *ctx, const char *json_line);
    void *ctx;
} run_sink;

/* Everything a method may read during a run (read-only once the run starts). */
typedef struct run_shared {
    const task *task;
    const dataset *data;
    /* Every loaded user sorted by id, whatever the selection and the shard:
     * what is drawn from other users (ICL demonstrations, lamp1 replays) comes
     * from here, so results do not depend on sharding. NULL: data's users. */
    const ds_user *const *pool;
    size_t npool;
    int strict_answers;
    size_t k;                /* retrieved memories (default 4) */
    uint64_t seed;
    int global_label;        /* most frequent label over all loaded histories */
    double global_mean;      /* lamp3: mean rating over all loaded histories */
    const struct encoder_opts *encoder; /* NULL: defaults */
    const struct method *const *methods; /* the run's methods; per-user state is by index */
    size_t nmethods;
    /* LLM methods (all NULL/0 in a run of reference methods only) */
    llm_client *llm;
    const prompt_set *prompts;
    struct wiki_client *wiki;  /* NULL: --wiki off */
    agent_mode tools_mode;
    atomic_int *text_fallback;
    int max_steps;
    size_t summary_items;      /* history items the summary sees (50) */
    size_t summary_chars;      /* their text budget */
    size_t obs_chars;          /* per item text in tool observations */
    size_t max_obs_chars;      /* one whole observation (0: the agent's default) */
    size_t max_tool_calls;     /* tool calls run per model response (0: the agent's default) */
    size_t align_batch, align_iters;
    double temperature;
    double price_in, price_out;
    run_sink sink;             /* agent traces and persona records */
    /* --online: each user's queries in time order, each gold revealed after its
     * answer; the persona re-aligned every align_every answers */
    int online;
    size_t align_every;
} run_shared;

/* Per-user state shared by the methods answering that user's queries. */
typedef struct user_method {
    char *persona;    /* the method's final persona (M_PERSONA) */
    char *prep_error; /* why preparation failed: the method's queries end in error */
} user_method;

typedef struct user_state {
    const ds_user *user;
    size_t index;              /* position in the dataset */
    pthread_mutex_t mu;
    struct memory *memory;     /* built on first use (methods_user_memory) */
    int memory_rc;             /* its build status, once tried */
    char *memory_err;          /* its message when it failed (a user's state stays small:
                                  a run holds one per user) */
    int summary_done;          /* semantic memory, computed on first use */
    char *summary;             /* NULL when it failed */
    char *summary_error;
    llm_acct summary_acct;     /* the summary's calls (shared by the methods using it) */
    user_method *per;          /* one per run method */
    size_t nper;
} user_state;

typedef struct method_answer {
    char *raw;   /* the final answer text (NULL on error) */
    char *error; /* NULL, or why this query could not be answered */
    long calls;  /* LLM calls made */
    long calls_cached;                     /* of which answered from the request cache */
    long prompt_tokens, completion_tokens; /* -1: unknown */
    double cost_usd;                       /* < 0: unknown */
    double cost_spent_usd;                 /* cost_usd without the cached calls; < 0: unknown */
} method_answer;

/* Answer one query with the run's method number mi. w is the calling
 * thread's LLM worker (NULL when the run has no LLM). Returns 0 (the answer
 * or a per-query error is in a), or a PE_EXIT_* code for a failure that must
 * stop the run (e filled). */
typedef int (*method_fn)(const run_shared *rs, user_state *us, size_t mi, const ds_query *q,
                         llm_worker *w, method_answer *a, pe_err *e);
/* Prepare (user, method) before its queries: summary, persona, alignment.
 * A per-user failure goes into us->per[mi].prep_error; the return value is
 * 0 or a code that stops the run. */
typedef int (*method_prep_fn)(const run_shared *rs, user_state *us, size_t mi, llm_worker *w,
                              pe_err *e);

typedef struct method {
    const char *name;
    unsigned uses;
    const char *definition; /* one line, for --help and the README */
    method_fn answer;
    method_prep_fn prepare; /* NULL: nothing to prepare */
} method;

const method *methods_get(const char *name);
size_t methods_count(void);
const method *methods_at(size_t i);
/* Parse a comma-separated list ("all" = every method); duplicates removed,
 * order kept. Returns PE_EXIT_USAGE naming an unknown method. */
int methods_parse_list(const char *list, const method ***out, size_t *n, pe_err *e);

/* 1 when any of the methods calls the LLM. */
int methods_need_llm(const method *const *m, size_t n);

/* The pool of run_shared (or data's users when it has none): its size, its
 * user i, and the position of the user with this id (npool when absent). */
size_t methods_pool_size(const run_shared *rs);
const ds_user *methods_pool_user(const run_shared *rs, size_t i);
size_t methods_pool_find(const run_shared *rs, const char *id);
/* Sort users by id into a pool (the caller frees the array). */
const ds_user **methods_pool_new(const ds_user *const *users, size_t n);

/* Global statistics for the reference methods, over every loaded history. */
void methods_global_stats(const dataset *d, int *label, double *mean);

/* The user's memory, built on first use; NULL with the error in e when it fails. */
struct memory *methods_user_memory(const run_shared *rs, user_state *us, pe_err *e);
/* Forget the user's memory so the next use rebuilds it from us->user (after
 * its history grew, --online). */
void methods_user_forget_memory(user_state *us);

void user_state_init(user_state *us, const ds_user *u, size_t index, size_t nmethods);
void user_state_release(user_state *us);
void method_answer_free(method_answer *a);

#endif
