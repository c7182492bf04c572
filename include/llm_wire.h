/*
 * llm_wire: the OpenAI chat-completions and embeddings wire format. Builds
 * request bodies and cache-key texts from llm_request, and parses and
 * validates response bodies into llm_response. No I/O: the HTTP backend and
 * the cache call it, and so do the fuzz targets.
 *
 * Ownership: built cJSON bodies and key texts are the caller's (cJSON_Delete,
 * free). A parse fills an llm_response the caller releases with
 * llm_response_free(), also when the parse failed.
 */
#ifndef PE_LLM_WIRE_H
#define PE_LLM_WIRE_H

#include <cJSON.h>
#include <stddef.h>

#include "llm.h"

/* Tool calls kept from one response when the request sets no cap. */
#define LLM_MAX_TOOL_CALLS 64
/* A usage count above this (per call) is absurd: flagged, and the usage is unknown. */
#define LLM_USAGE_SANE_MAX 1000000000L
/* Usage counts are clamped to [0, LLM_USAGE_CLAMP]. */
#define LLM_USAGE_CLAMP (1L << 62)

/* The body of a chat request: model, messages, sampling, tools, extra_body
 * members merged over the rest (extra may be NULL). NULL when a tool's
 * parameters are not a JSON object. */
cJSON *llm_wire_chat_body(const char *model, double default_temp, const cJSON *extra,
                          const llm_request *rq);
/* The body of an embeddings request for n texts. */
cJSON *llm_wire_embed_body(const char *model, const char *const *texts, size_t n);
/* The cache-key text of a request body: the cache format version, the
 * endpoint URL (NULL: shared cache, not part of the key), the body and, when
 * temp > 0, the repetition index. */
char *llm_wire_key_text(const char *url, const cJSON *body, double temp, int rep);

/* Parse and validate a chat completion body, keeping at most max_calls tool
 * calls (0: LLM_MAX_TOOL_CALLS; out->ntool_calls_total counts them all).
 * A body is invalid (PE_EXIT_RUNERRORS, e says why) when it is not JSON,
 * holds a NUL character, has no non-empty "choices" array, no message object,
 * or a message with neither string content nor tool calls. Invalid UTF-8 in
 * text is replaced by U+FFFD and counted in out->utf8_replaced; usage counts
 * are clamped and, when absurd, flagged (out->usage.absurd) and unknown. */
int llm_wire_parse_chat(const char *body, size_t len, size_t max_calls, llm_response *out,
                        pe_err *e);

/* Parse an embeddings body of n vectors into a row-major n x *dim array
 * (caller frees) in input order ("index" honoured). */
int llm_wire_parse_embed(const char *body, size_t len, size_t n, float **vecs, size_t *dim,
                         pe_err *e);

/* The error text of a response body, as http_error_text; and whether it is
 * about tools or functions, or about the context length. */
int llm_wire_error_about_tools(const char *body, size_t len);
int llm_wire_error_about_context(const char *body, size_t len);

#endif
