/*
 * pipeline: the one mechanism behind every LLM method. A method descriptor's
 * `uses` bits choose the system prompt (persona, MemoryBank summary, generic
 * or none), the user message (the input, ICL demonstrations, LaMP's RAG
 * layout, PAG's summary), the tools (memory_search, wikipedia) and whether the
 * persona is aligned; the agent runs it. No method has a pipeline of its own.
 *
 * Ownership: everything is borrowed from the run; results go into the
 * method_answer and the user state as methods.h describes.
 */
#ifndef PE_PIPELINE_H
#define PE_PIPELINE_H

#include "methods.h"

/* method_prep_fn for LLM methods: the user's summary (M_SUMMARY), the
 * persona (M_PERSONA) and its alignment (M_ALIGN); logs to personas.jsonl. */
int pipeline_prepare(const run_shared *rs, user_state *us, size_t mi, llm_worker *w, pe_err *e);

/* --online: re-align the persona of (user, method) over the most recent
 * items of us->user, which by then holds the revealed queries; logged to
 * personas.jsonl with the turn. A no-op for methods without alignment. */
int pipeline_realign(const run_shared *rs, user_state *us, size_t mi, size_t turn, pe_err *e);

/* method_fn for LLM methods; the agent's steps go to traces.jsonl. */
int pipeline_answer(const run_shared *rs, user_state *us, size_t mi, const ds_query *q,
                    llm_worker *w, method_answer *a, pe_err *e);

/* The semantic memory of the user (computed once, under us->mu); NULL with
 * *error set when the LLM call failed. Returns a fatal code or 0. */
int pipeline_user_summary(const run_shared *rs, user_state *us, llm_worker *w,
                          const char **summary, const char **error, pe_err *e);

#endif
