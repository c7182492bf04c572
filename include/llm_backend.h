/*
 * llm_backend: the interface between the chat and embeddings client (llm.h)
 * and what answers it. A backend is a table of functions; the client calls
 * through it and does the rest itself (fatal-early stop, accounting, usage
 * estimates, redaction of errors). Two backends: HTTP (llm_backend.c: the
 * OpenAI wire format over libcurl, with the cache, the gate and tool-support
 * detection) and the offline responder (offline.c).
 *
 * Ownership: the client struct is defined here for backends only; callers
 * outside src/llm use llm.h. A backend's worker state is made lazily by the
 * backend and released through worker_free.
 */
#ifndef PE_LLM_BACKEND_H
#define PE_LLM_BACKEND_H

#include <pthread.h>

#include "llm.h"
#include "llm_gate.h"

/* How one call went, for the client's accounting. */
typedef struct llm_call {
    int reached;      /* the request went to the endpoint (at least one attempt) */
    int cached;       /* served from the cache */
    long status;      /* last HTTP status, 0 when none */
    int dead;         /* no connection could be made (refused, unresolvable) */
    int retries;
    int invalid;      /* 2xx bodies rejected as invalid */
    size_t bytes_sent, bytes_received;
} llm_call;

typedef struct llm_backend_ops {
    const char *name;
    int (*chat)(llm_worker *w, const llm_request *rq, llm_response *out, llm_call *call,
                pe_err *e);
    /* NULL: the backend computes no embeddings. */
    int (*embed)(llm_worker *w, const char *const *texts, size_t n, float **vecs,
                 size_t *dim, llm_call *call, pe_err *e);
    void (*worker_free)(void *state);
} llm_backend_ops;

extern const llm_backend_ops llm_backend_http;
extern const llm_backend_ops llm_backend_offline;

struct llm_client {
    llm_config cfg; /* strings below replace the borrowed ones */
    const llm_backend_ops *ops;
    char *base_url, *model, *api_key, *embed_base_url, *embed_model;
    char **headers;
    cJSON *extra;
    llm_gate *gate;
    llm_pool *pool; /* base_url and the replicas; NULL for the offline responder */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    llm_totals tot;
    /* tool support, decided once (see llm_tool_support) */
    llm_tool_support tools;
    int probing;
    /* fatal-early detector */
    int completed, succeeded, same, fatal;
    long first_status;
    char fatal_msg[1200];
};

struct llm_worker {
    llm_client *c;
    void *state; /* the backend's (the HTTP handle) */
};

/* A warning through the client's log callback (redacted). */
void llm_logf(llm_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add n to a counter of c->tot under the lock. */
void llm_count(llm_client *c, unsigned long *counter, unsigned long n);

#endif
