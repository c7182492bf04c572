/*
 * llm: the chat and embeddings client: tool calls, usage and cost
 * accounting, the fatal-early stop, tool-support detection and the redaction
 * of every error it returns. What answers is a backend behind one interface
 * (llm_backend.h): HTTP in the OpenAI wire format (llm_wire.h, with the cache
 * and the rate/in-flight gate of llm_gate.h) or the offline responder
 * (offline.h), answering the same structures.
 *
 * Ownership: an llm_client is shared by all threads; each thread makes its own
 * llm_worker (one HTTP handle, kept alive). Requests borrow every string they
 * point to. An llm_response owns its strings and is released with
 * llm_response_free(), also after a failed call. The config's strings are
 * copied by llm_client_new(); the api key is held in memory only and never
 * written to a file, log, cache entry or message.
 */
#ifndef PE_LLM_H
#define PE_LLM_H

#include <cJSON.h>
#include <stddef.h>

#include "cache.h"
#include "http.h"
#include "llm_pool.h"
#include "util.h"

typedef enum llm_backend { LLM_BACKEND_HTTP, LLM_BACKEND_OFFLINE } llm_backend;
/* Whether the endpoint takes native tool calls, decided once per client
 * (endpoint and model): UNKNOWN until a request with tools succeeds (NATIVE)
 * or an error about tools, or a 400/422 to a minimal probe with one tool,
 * proves it refuses them (TEXT). */
typedef enum llm_tool_support {
    LLM_TOOLS_UNKNOWN, LLM_TOOLS_NATIVE, LLM_TOOLS_TEXT
} llm_tool_support;

typedef enum llm_role { LLM_SYSTEM, LLM_USER, LLM_ASSISTANT, LLM_TOOL } llm_role;

typedef struct llm_tool_call {
    char *id;
    char *name;
    char *arguments;  /* the raw JSON text the model sent ("" kept as "{}") */
    cJSON *args;      /* parsed object, or NULL when invalid */
    char *args_error; /* why the arguments are invalid (tell the model), else NULL */
} llm_tool_call;

typedef struct llm_msg {
    llm_role role;
    const char *content;              /* may be NULL for an assistant turn with tool calls */
    const llm_tool_call *tool_calls;  /* assistant turns */
    size_t ntool_calls;
    const char *tool_call_id;         /* tool turns */
} llm_msg;

typedef struct llm_tool {
    const char *name;
    const char *description;
    const char *parameters; /* JSON Schema object, as text */
} llm_tool;

typedef struct llm_request {
    const llm_msg *msgs;
    size_t nmsgs;
    const llm_tool *tools;
    size_t ntools;
    const char *tool_choice;   /* NULL, "auto", "none", "required" or a tool name */
    double temperature;        /* < 0: the client's default (0.1) */
    int max_tokens;            /* 0: not sent */
    int has_seed;
    long long seed;
    const char *const *stop;
    size_t nstop;
    int rep;                   /* repetition index; part of the cache key when temperature > 0 */
    size_t max_tool_calls;     /* tool calls kept from the response; 0: LLM_MAX_TOOL_CALLS */
} llm_request;

typedef struct llm_usage {
    int known;                 /* 0: the endpoint reported no usage ("unknown", never 0) */
    long prompt_tokens, completion_tokens;       /* valid when known */
    long est_prompt_tokens, est_completion_tokens; /* local estimate: bytes / 4 */
    int absurd;                /* the endpoint reported negative or absurd counts (> 1e9):
                                  flagged, and the usage is unknown */
} llm_usage;

typedef struct llm_response {
    char *content;            /* the answer with reasoning stripped; NULL when null */
    char *reasoning;          /* <think> text or reasoning_content, else NULL */
    llm_tool_call *tool_calls;
    size_t ntool_calls;       /* kept: at most the request's max_tool_calls */
    size_t ntool_calls_total; /* in the response */
    size_t utf8_replaced;     /* invalid UTF-8 sequences replaced by U+FFFD */
    char *finish_reason, *model, *system_fingerprint;
    llm_usage usage;
    int cached;               /* served from the cache */
    int offline;              /* produced by the offline responder (not a language model) */
    /* On failure: */
    long http_status;         /* last status, 0 when none */
    int tools_rejected;       /* the endpoint refuses tools (llm_tool_support TEXT): use the
                                 text protocol */
    char *error_raw;          /* the error body, at most ~500 bytes, redacted (verbose logs) */
} llm_response;

typedef struct llm_config {
    llm_backend backend;
    const char *base_url;        /* "http://host:8000/v1"; the cache key names this one */
    const char *const *replicas; /* more base URLs serving the same model (llm_pool.h): */
    size_t nreplicas;            /* chat requests are spread over base_url and these */
    const char *model;
    const char *api_key;         /* NULL or "" = no Authorization header */
    const char *const *headers;  /* "Name: value" */
    size_t nheaders;
    const char *extra_body;      /* JSON object merged into every chat request */
    const char *embed_base_url;  /* NULL = base_url */
    const char *embed_model;     /* NULL = model */
    size_t embed_batch;          /* inputs per embeddings request, default 64 */
    double temperature;          /* default 0.1 */
    http_opts http;
    double rps;                  /* requests per second across threads; 0 = no limit */
    int max_inflight;            /* initial in-flight cap; 0 = no cap until a 429 */
    double recover_s;            /* seconds without 429 before the cap grows by 1 (15) */
    double price_in, price_out;  /* USD per million tokens */
    cache *cache;                /* borrowed; NULL = no cache */
    int cache_shared;            /* 1: the endpoint URL is not part of the cache key; else
                                    base_url is, whichever replica answered */
    void (*log)(void *ctx, const char *msg); /* warnings (429 episodes), may be NULL */
    int verbose;                 /* 1: log failed requests with their raw body (the key
                                    redacted); 2: also the cache key text of each miss */
    void *log_ctx;
} llm_config;

/* Defaults: HTTP backend, temperature 0.1, http_opts_default, batch 64, 15 s. */
void llm_config_default(llm_config *c);

typedef struct llm_totals {
    unsigned long calls, errors, unknown_usage, cache_hits, cache_misses;
    unsigned long embed_calls;        /* /embeddings requests (one per batch), cache hits
                                         included; not in calls */
    unsigned long http_requests, retries, rate_limited;
    unsigned long invalid_responses;  /* 2xx bodies rejected as invalid (each retried) */
    unsigned long utf8_replaced;      /* responses with invalid UTF-8 replaced */
    unsigned long absurd_usage;       /* responses with absurd usage counts */
    unsigned long cache_corrupt;      /* cache entries failing their checksum */
    unsigned long long prompt_tokens, completion_tokens; /* reported */
    unsigned long long est_prompt_tokens, est_completion_tokens;
    unsigned long long bytes_sent, bytes_received;
    double cost_usd;                                     /* from reported tokens */
    double cost_spent_usd;     /* cost_usd without the calls answered from the cache */
} llm_totals;

typedef struct llm_client llm_client;
typedef struct llm_worker llm_worker;

llm_client *llm_client_new(const llm_config *c, pe_err *e);
void llm_client_free(llm_client *c);
llm_worker *llm_worker_new(llm_client *c);
void llm_worker_free(llm_worker *w);

/* One chat completion. Returns 0, PE_EXIT_RUNERRORS (this request failed; the
 * run can go on) or PE_EXIT_UNAVAILABLE (the first requests of the run were
 * refused with the same error proving the configuration wrong (401, 403, 404,
 * model not found), or no connection could be made: stop). out is always
 * initialized; e's message and out->error_raw are redacted (redact.h). */
int llm_chat(llm_worker *w, const llm_request *rq, llm_response *out, pe_err *e);
void llm_response_free(llm_response *r);

/* Embeddings of n texts, in input order, as one n x *dim row-major array
 * (caller frees); rows L2-normalized when normalize. */
int llm_embed(llm_worker *w, const char *const *texts, size_t n, int normalize, float **vecs,
              size_t *dim, pe_err *e);

/* The request body sent for rq (extra_body merged). */
cJSON *llm_request_body(const llm_client *c, const llm_request *rq);
/* The canonical cache-key text of a chat request (for -v logs on cache misses). */
char *llm_cache_key_text(const llm_client *c, const llm_request *rq);
/* Parse a chat completion body into out (0, or PE_EXIT_RUNERRORS with e set). */
int llm_parse_chat(const char *body, size_t len, llm_response *out, pe_err *e);
/* Totals so far (thread-safe snapshot). */
void llm_get_totals(llm_client *c, llm_totals *t);
/* Current in-flight cap (0 = none). */
int llm_inflight_cap(llm_client *c);
/* The tool-support decision (record it in run.json) and its restoration on
 * --resume (before the first request). */
llm_tool_support llm_get_tool_support(llm_client *c);
void llm_set_tool_support(llm_client *c, llm_tool_support s);
/* "unknown", "native", "text"; and back (-1 when unknown). */
const char *llm_tool_support_name(llm_tool_support s);
int llm_tool_support_parse(const char *s);
/* The backend's name: "http" or "offline". */
const char *llm_backend_name(const llm_client *c);
/* The replicas chat requests go to (base_url first; 0 for the offline
 * responder) and the counts of replica i so far. */
size_t llm_endpoint_count(const llm_client *c);
void llm_endpoint_stats(llm_client *c, size_t i, llm_pool_stats *s);
/* The client a worker belongs to. */
llm_client *llm_worker_client(const llm_worker *w);
/* USD cost of one response from its reported usage and the client's prices;
 * -1 when the usage is unknown. */
double llm_cost(const llm_client *c, const llm_response *r);
/* Local token estimate for a text: bytes / 4, rounded up. */
long llm_estimate_tokens(const char *s);

#endif
