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
#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "task.h"
#include "util.h"

/* What a method uses (a descriptor's `uses` bits). */
enum {
    M_LLM = 1u << 0,         /* calls the LLM */
    M_MEMORY = 1u << 1,      /* needs the user's episodic memory */
    M_SUMMARY = 1u << 2,     /* semantic memory (LLM summary of the user) */
    M_PERSONA = 1u << 3,     /* persona system prompt initialized from the summary */
    M_ALIGN = 1u << 4,       /* test-time alignment of the persona */
    M_TOOL_MEMORY = 1u << 5, /* memory_search tool */
    M_TOOL_WIKI = 1u << 6,   /* wikipedia tool */
    M_REFERENCE = 1u << 7    /* a reference method that needs no LLM */
};

/* Everything a method may read during a run (read-only once the run starts). */
typedef struct run_shared {
    const task *task;
    const dataset *data;
    int strict_answers;
    size_t k;                /* retrieved memories (default 4) */
    uint64_t seed;
    int global_label;        /* most frequent label over all loaded histories */
    double global_mean;      /* lamp3: mean rating over all loaded histories */
    const struct encoder_opts *encoder; /* NULL: defaults */
} run_shared;

/* Per-user state shared by the methods answering that user's queries. */
typedef struct user_state {
    const ds_user *user;
    size_t index;              /* position in the dataset */
    pthread_mutex_t mu;
    struct memory *memory;     /* built on first use (methods_user_memory) */
    int memory_rc;             /* its build status, once tried */
    char memory_err[512];
} user_state;

typedef struct method_answer {
    char *raw;   /* the final answer text (NULL on error) */
    char *error; /* NULL, or why this query could not be answered */
    long calls;  /* LLM calls made */
    long prompt_tokens, completion_tokens; /* -1: unknown */
    double cost_usd;                       /* < 0: unknown */
} method_answer;

/* Answer one query. Returns 0 (the answer or a per-query error is in a), or a
 * PE_EXIT_* code for a failure that must stop the run (e filled). */
typedef int (*method_fn)(const run_shared *rs, user_state *us, const ds_query *q,
                         method_answer *a, pe_err *e);

typedef struct method {
    const char *name;
    unsigned uses;
    const char *definition; /* one line, for --help and the README */
    method_fn answer;
} method;

const method *methods_get(const char *name);
size_t methods_count(void);
const method *methods_at(size_t i);
/* Parse a comma-separated list ("all" = every method); duplicates removed,
 * order kept. Returns PE_EXIT_USAGE naming an unknown method. */
int methods_parse_list(const char *list, const method ***out, size_t *n, pe_err *e);

/* Global statistics for the reference methods, over every loaded history. */
void methods_global_stats(const dataset *d, int *label, double *mean);

/* The user's memory, built on first use; NULL with the error in e when it fails. */
struct memory *methods_user_memory(const run_shared *rs, user_state *us, pe_err *e);

void user_state_init(user_state *us, const ds_user *u, size_t index);
void user_state_release(user_state *us);
void method_answer_free(method_answer *a);

#endif
