/*
 * tools: the agent's two tools. memory_search retrieves the user's top-K
 * memories (honouring the no-leakage filter) as a numbered observation;
 * wikipedia returns a short summary of a topic from MediaWiki's REST API
 * (falling back to opensearch for a title) or from a kiwix-serve instance.
 *
 * Ownership: tool contexts are made by the caller and borrowed by the tools;
 * a wiki client is shared by threads (each call makes its own HTTP handle or
 * uses the calling thread's). Observations are malloc'd.
 */
#ifndef PE_TOOLS_H
#define PE_TOOLS_H

#include <stddef.h>

#include "agent.h"
#include "memory.h"
#include "prompts.h"
#include "topk.h"

/* memory_search over m: the k best items, only those allowed by filter
 * (NULL: all). Observation lines as memory_format_observation(). */
typedef struct memory_tool_ctx {
    const memory *mem;
    size_t k;
    const topk_filter *filter;
    size_t max_chars;        /* per item text; 0: no limit */
    /* MemoryBank mode (membank method): scores decay with age and grow with
     * recall; NULL for plain search. */
    struct membank_state *membank;
} memory_tool_ctx;

agent_tool tools_memory(const prompt_set *p, memory_tool_ctx *ctx);
/* The observation for one search (what the tool returns). */
char *tools_memory_search(memory_tool_ctx *ctx, const char *query);

/* MemoryBank (Zhong et al. 2024) forgetting curve over one user's memory:
 * every item has a strength S (1 at first); a search scores each candidate
 * similarity x retention, retention = exp(-dt / (S * tau)), dt = days between
 * the query date and the item date (tau = 365), or, when either date is
 * missing, the item's distance in items from the newest visible item (tau =
 * 50); recalled items get S += 1. Thread-safe (one mutex). */
typedef struct membank_state membank_state;
membank_state *membank_state_new(const memory *m, const char *query_date);
/* The date later searches are made at ("YYYY" or "YYYY-MM-DD"; NULL: none). */
void membank_set_date(membank_state *s, const char *query_date);
/* The current strength of item i. */
double membank_strength(membank_state *s, size_t i);
void membank_state_free(membank_state *s);

/* MemoryBank state for one query: per item strength S (starts at 1); the
 * query's date (may be NULL) against which ages are measured. */
struct membank_state *membank_state_new(const memory *m, const char *query_date);
void membank_state_free(struct membank_state *s);

/* Wikipedia: spec "off", a MediaWiki base URL ("https://en.wikipedia.org"),
 * or "kiwix:URL" (a kiwix-serve root, e.g. "kiwix:http://127.0.0.1:8080"). */
typedef struct wiki_client wiki_client;
int tools_wiki_new(const char *spec, double timeout_s, wiki_client **out, pe_err *e);
void tools_wiki_free(wiki_client *w);
agent_tool tools_wikipedia(const prompt_set *p, wiki_client *w);
/* A summary for topic (max_chars at most); NULL with e set when nothing found. */
char *tools_wiki_summary(wiki_client *w, const char *topic, size_t max_chars, pe_err *e);

#endif
