/*
 * persona: semantic memory (an LLM summary of the user), the persona's
 * initialization (Appendix B) and test-time alignment by textual gradients
 * (Algorithm 1, Appendix A).
 *
 * Ownership: every char * returned is the caller's to free. The simulate
 * callback borrows the persona it is given.
 */
#ifndef PE_PERSONA_H
#define PE_PERSONA_H

#include <stddef.h>

#include "buf.h"
#include "dataset.h"
#include "llm.h"
#include "prompts.h"
#include "task.h"
#include "util.h"

/* Token and call accounting for a piece of work. */
typedef struct llm_acct {
    long calls;
    long prompt_tokens, completion_tokens; /* reported */
    long unknown;                          /* calls without reported usage */
    long cached;                           /* calls answered from the request cache */
    double cost_usd;                       /* of every call, as if none was cached */
    double cost_spent_usd;                 /* of the calls not answered from the cache */
} llm_acct;
void llm_acct_add(llm_acct *a, const llm_response *r, double price_in, double price_out);
void llm_acct_merge(llm_acct *a, const llm_acct *b);

/* History item it as one line of a summary prompt, laid out like the memory
 * tool's observations: `[2014-03-02] "text" -> label: comedy` (lamp1: the
 * quoted title). */
char *persona_item_line(const task *t, const ds_item *it);

/* Semantic memory: a summary of the `items` most recent history items before
 * `upto` (exclusive), listed oldest first and cut to at most max_chars of
 * item text (oldest items dropped first). */
typedef struct persona_llm {
    llm_client *client;
    const prompt_set *prompts;
    const task *task;
    double temperature;
    double price_in, price_out;
} persona_llm;

int persona_summarize(const persona_llm *pl, llm_worker *w, const ds_user *u, size_t upto,
                      size_t items, size_t max_chars, char **out, llm_acct *acct, pe_err *e);

/* Appendix B: the initial persona from the summary ("" when none). */
char *persona_initial(const persona_llm *pl, const char *summary, pe_err *e);

/* Simulate the agent on history item `item` (a replayed query) with persona;
 * its memory must see only items strictly older than `item`. Returns 0 with
 * *answer set, or a PE_EXIT_* code that stops the run. A per-query failure is
 * reported by returning 0 with *answer NULL and *error set. */
typedef int (*persona_simulate_fn)(void *ctx, llm_worker *w, const char *persona, size_t item,
                                   const char *input, char **answer, char **error,
                                   llm_acct *acct, pe_err *e);

/* The query and expected answer replaying history item `item`; returns 0, or
 * -1 when the item cannot be replayed (it is then skipped). NULL: the task's
 * input template over the item's fields, and its label. */
typedef int (*persona_replay_fn)(void *ctx, size_t item, char **input, char **expected);

typedef struct persona_align_opts {
    size_t batch;      /* n: replayed items per iteration (3) */
    size_t iters;      /* E: iterations (1) */
    size_t upto;       /* replay items before this index (the history end, or a cutoff) */
    persona_simulate_fn simulate;
    persona_replay_fn replay;
    void *ctx;         /* passed to simulate and replay */
    size_t *failed;    /* if not NULL: set to the replays, feedback and update calls that
                          failed (the persona then rests on less than Algorithm 1 asks) */
} persona_align_opts;

/* Algorithm 1. Iteration i replays the next `batch` most recent labelled items
 * before upto not used by an earlier iteration; the simulations and the
 * feedback calls of a batch run concurrently (one thread and LLM worker each);
 * one update call turns the aggregated feedback into the new persona. *persona
 * is replaced. The record of every iteration (items, answers, feedback, new
 * persona) is appended to log as a JSON array. */
int persona_align(const persona_llm *pl, const ds_user *u, const persona_align_opts *o,
                  char **persona, buf *log, llm_acct *acct, pe_err *e);

#endif
