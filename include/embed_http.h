/*
 * embed_http: the "--embed http" encoder backend. Texts become the vectors
 * of an OpenAI-compatible POST {embed_base_url}/embeddings endpoint, reached
 * through the LLM client (llm_embed): requests carry the client's embed_model
 * and at most min(batch, embed_batch) inputs, are retried, rate-limited and
 * cached like chat requests (same canonical key over the embeddings URL and
 * body; the client's cache mode applies, so a rerun sends nothing). Vectors
 * are L2-normalized, so dot products are cosines.
 *
 * Use: embed_http_encoder_opts() fills an encoder_opts (probing the
 * dimension with one short text when o->dim is 0); encoder_fit() and
 * memory_build() then call embed_http_encode() for documents and queries.
 *
 * Errors: a failed request is PE_EXIT_RUNERRORS with the client's message
 * (URL, status, server text). While no embeddings request of this backend
 * has succeeded, a failure is PE_EXIT_UNAVAILABLE instead (wrong URL, key or
 * model: every request would fail), and every later call returns it at once
 * without sending anything. A dimension other than the encoder's is
 * PE_EXIT_USAGE; the offline LLM backend has no embeddings (PE_EXIT_USAGE).
 *
 * Threads: embed_http_encode() may run in several threads at once; each call
 * takes an llm_worker (its own keep-alive HTTP handle) from a pool, creating
 * one when all are busy, and returns it afterwards.
 *
 * Ownership: embed_http_new() borrows the client, which must outlive the
 * backend; embed_http_free() frees the pooled workers and is called after
 * every encoder using the backend is freed.
 */
#ifndef PE_EMBED_HTTP_H
#define PE_EMBED_HTTP_H

#include <stddef.h>

#include "encoder.h"
#include "llm.h"
#include "util.h"

typedef struct embed_http embed_http;

/* The text embedded by embed_http_probe_dim(). */
#define EMBED_HTTP_PROBE_TEXT "dimension probe"

/* batch: texts per llm_embed call (0 = all of a call's texts; the client
 * still splits them into requests of its embed_batch). */
embed_http *embed_http_new(llm_client *c, size_t batch);
void embed_http_free(embed_http *h);

/* An encoder_batch_fn (ctx = the embed_http): n L2-normalized vectors of d
 * floats, row-major, into out. Empty texts are sent as " " (endpoints
 * reject empty inputs). */
int embed_http_encode(void *ctx, const char *const *texts, size_t n, float *out, size_t d,
                      pe_err *e);

/* The endpoint's dimension: from an earlier response, else by embedding
 * EMBED_HTTP_PROBE_TEXT (one request, cached like any other). */
int embed_http_probe_dim(embed_http *h, size_t *dim, pe_err *e);
/* The dimension seen so far, 0 before the first successful response. */
size_t embed_http_dim(embed_http *h);

/* Set o->kind = ENCODER_BACKEND, o->backend and o->backend_ctx; when o->dim
 * is 0, probe and set it to the endpoint's dimension. */
int embed_http_encoder_opts(embed_http *h, encoder_opts *o, pe_err *e);

#endif
