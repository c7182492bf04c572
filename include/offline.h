/*
 * offline: a deterministic in-process stand-in for a chat endpoint. It is NOT a
 * language model: it applies the fixed rules of docs/llm.md ("Offline
 * responder") to the request, so the pipeline runs and is tested without a
 * network. Responses are marked offline and carry estimated usage only.
 *
 * Ownership: offline_chat() fills out, which the caller frees with
 * llm_response_free().
 */
#ifndef PE_OFFLINE_H
#define PE_OFFLINE_H

#include "llm.h"

/* The label identifying the backend in reports and logs. */
#define OFFLINE_LABEL "offline responder (deterministic rules, not a language model)"

int offline_chat(const llm_request *rq, llm_response *out, pe_err *e);

#endif
