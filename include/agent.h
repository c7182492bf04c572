/*
 * agent: the ReAct loop. The system message is the persona (or a method's
 * system prompt), the user message the task input; tools are offered either
 * as native tool calls or through the text protocol (Thought / Action /
 * Action Input / Observation / Final Answer, grammar in docs/agent.md). At
 * most max_steps model calls; when the limit is reached with no answer, one
 * last call without tools asks for the final answer. With no tools the loop
 * is a single call (the prompt, ICL, RAG and PAG methods).
 *
 * Bounds, so that a hostile endpoint costs neither memory nor time: at most
 * max_tool_calls tool calls of one response are run (the rest are answered
 * with an error the model reads, and counted); a tool argument is cut to
 * max_argument_chars, an observation to max_observation_chars; every text in
 * the trace is cut to AGENT_TRACE_TEXT_MAX bytes and the whole trace to
 * max_trace_bytes (with a marker). Traces and errors are redacted (redact.h).
 *
 * Ownership: options and tools are borrowed. agent_result's strings are the
 * caller's: free them with agent_result_free().
 */
#ifndef PE_AGENT_H
#define PE_AGENT_H

#include <stdatomic.h>
#include <stddef.h>

#include "llm.h"
#include "prompts.h"
#include "util.h"

typedef enum agent_mode { AGENT_NATIVE, AGENT_TEXT, AGENT_AUTO } agent_mode;

/* A tool the agent may call. run() returns the observation text (malloc'd,
 * never NULL: a failing tool returns its error as the observation). */
typedef struct agent_tool {
    const char *name;        /* "memory_search", "wikipedia" */
    const char *description; /* shown to the model */
    const char *arg;         /* the one string argument: "query" or "topic" */
    const char *arg_description; /* its description in the JSON schema (NULL: none) */
    char *(*run)(void *ctx, const char *input);
    void *ctx;
} agent_tool;

typedef struct agent_opts {
    const char *system;      /* NULL: no system message */
    const char *user;        /* the task input */
    const agent_tool *tools;
    size_t ntools;
    int max_steps;           /* model calls before the final no-tools call; default 6 */
    agent_mode mode;
    /* AUTO: set to 1 (for the rest of the run, shared by all workers) when the
     * endpoint refuses native tools (llm_get_tool_support() says TEXT, decided
     * by the client); the agent then uses the text protocol. */
    atomic_int *text_fallback;
    const prompt_set *prompts; /* react_text, final_answer */
    double temperature;      /* < 0: the client's default */
    size_t max_observation_chars; /* one tool observation fed back to the model, in
                                     characters; longer ones are cut with a note
                                     (0: AGENT_MAX_OBSERVATION_CHARS) */
    size_t max_tool_calls;   /* tool calls run per model response (--max-tool-calls;
                                0: AGENT_MAX_TOOL_CALLS) */
    size_t max_argument_chars; /* one tool argument, in characters; longer ones are cut
                                  (0: AGENT_MAX_ARGUMENT_CHARS) */
    size_t max_trace_bytes;  /* the whole trace of one query (0: AGENT_MAX_TRACE_BYTES) */
} agent_opts;
#define AGENT_MAX_OBSERVATION_CHARS 4000
#define AGENT_MAX_TOOL_CALLS 8
#define AGENT_MAX_ARGUMENT_CHARS 1000
#define AGENT_MAX_TRACE_BYTES (256 * 1024)
#define AGENT_TRACE_TEXT_MAX 2000

typedef struct agent_result {
    char *answer;            /* the final answer text; NULL when error is set */
    char *error;             /* why no answer (the last request failed after retries) */
    long calls;              /* model calls made */
    long tool_calls;
    long tool_calls_dropped; /* calls beyond max_tool_calls, answered with an error */
    long prompt_tokens, completion_tokens; /* reported totals; -1 when any call had none */
    long est_prompt_tokens, est_completion_tokens;
    double cost_usd;         /* < 0: unknown */
    long calls_cached;       /* calls answered from the request cache */
    double cost_spent_usd;   /* cost_usd without the cached calls; < 0: unknown */
    char *trace;             /* JSON array of steps: request summary, model text, tool call,
                                observation, tokens, latency */
} agent_result;

/* Run the loop. Returns 0 (answer or per-query error in r), or
 * PE_EXIT_UNAVAILABLE when the endpoint refuses everything (stop the run). */
int agent_run(llm_worker *w, const agent_opts *o, agent_result *r, pe_err *e);
void agent_result_free(agent_result *r);

/* The text protocol parser, exposed for tests and fuzzing. */
typedef enum agent_step_kind { AGENT_STEP_NONE, AGENT_STEP_ACTION, AGENT_STEP_FINAL } agent_step_kind;
typedef struct agent_step {
    agent_step_kind kind;
    char *thought;  /* may be NULL */
    char *action;   /* tool name (ACTION) */
    char *input;    /* tool input, plain text; a JSON object's single string value is unwrapped */
    char *answer;   /* FINAL */
    size_t end;     /* ACTION: byte offset just past the Action Input (where the turn is cut
                       before it is sent back); otherwise strlen(text) */
} agent_step;
/* Parse one model turn (grammar in docs/agent.md): the first of an Action
 * line and a Final Answer wins. last: never an ACTION; with no Final Answer
 * the whole text, stripped, is the answer. Otherwise a turn with neither is
 * NONE. */
void agent_parse_text(const char *text, int last, agent_step *out);
void agent_step_free(agent_step *s);

#endif
