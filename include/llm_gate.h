/*
 * llm_gate: the admission gate every HTTP attempt of a client passes: a
 * requests-per-second pacer shared by all threads, and an adaptive in-flight
 * cap that shrinks by a fifth on each episode of HTTP 429 and grows back by
 * one after recover_s seconds without one (never above where it started).
 *
 * Ownership: llm_gate_new() returns a gate freed with llm_gate_free(); it is
 * shared by threads. The log callback is borrowed.
 */
#ifndef PE_LLM_GATE_H
#define PE_LLM_GATE_H

typedef struct llm_gate llm_gate;

/* max_inflight 0: no cap until a 429; rps 0: no pacing; recover_s > 0. */
llm_gate *llm_gate_new(int max_inflight, double rps, double recover_s,
                       void (*log)(void *ctx, const char *msg), void *log_ctx);
void llm_gate_free(llm_gate *g);
/* Block until an attempt may start (http_hooks.before). */
void llm_gate_before(void *gate);
/* After an attempt with its status (0: no response) (http_hooks.after). */
void llm_gate_after(void *gate, long status, int curl_code);
/* The current in-flight cap (0 = none). */
int llm_gate_cap(llm_gate *g);
/* Attempts admitted, and answered with 429, so far. */
void llm_gate_counts(llm_gate *g, unsigned long *admitted, unsigned long *rate_limited);

#endif
