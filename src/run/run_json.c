/* run.json: every setting, versions, data files and their SHA-256, counts, timings. */
#include "run_parts.h"

#include <cblas.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "offline.h"
#include "pe_run.h"
#include "topk.h"
#include "version.h"

void pe_versions_json(buf *b)
{
    buf_adds(b, "{\"libcurl\": ");
    buf_json_str(b, curl_version_info(CURLVERSION_NOW)->version);
    buf_adds(b, ", \"cjson\": ");
    buf_json_str(b, cJSON_Version());
    buf_adds(b, ", \"openblas\": ");
    buf_json_str(b, openblas_get_config());
    buf_addc(b, '}');
}

void pe_versions_text(buf *b)
{
    buf_printf(b, "libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
    buf_printf(b, "cJSON %s\n", cJSON_Version());
    buf_printf(b, "%s\n", openblas_get_config());
}

static void str_list(buf *b, const char *const *v, size_t n)
{
    buf_addc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_adds(b, ", ");
        buf_json_str(b, v[i]);
    }
    buf_addc(b, ']');
}

static double num_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) && v->valuedouble > 0 ? v->valuedouble : 0;
}

void run_prior_read(const cJSON *run, run_prior *p)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(run, "llm"), "totals");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(run, "stats");
    llm_totals *l = &p->llm;
    memset(p, 0, sizeof *p);
    p->sessions = (unsigned)num_of(run, "sessions");
    if (!p->sessions)
        p->sessions = 1; /* written before sessions were counted */
    l->calls = (unsigned long)num_of(t, "calls");
    l->errors = (unsigned long)num_of(t, "errors");
    l->unknown_usage = (unsigned long)num_of(t, "unknown_usage");
    l->cache_hits = (unsigned long)num_of(t, "cache_hits");
    l->prompt_tokens = (unsigned long long)num_of(t, "prompt_tokens");
    l->completion_tokens = (unsigned long long)num_of(t, "completion_tokens");
    l->est_prompt_tokens = (unsigned long long)num_of(t, "est_prompt_tokens");
    l->est_completion_tokens = (unsigned long long)num_of(t, "est_completion_tokens");
    l->http_requests = (unsigned long)num_of(t, "http_requests");
    l->retries = (unsigned long)num_of(t, "retries");
    l->rate_limited = (unsigned long)num_of(t, "rate_limited");
    l->cost_usd = num_of(t, "cost_usd");
    /* a run.json from before the field: nothing was known to be cached */
    l->cost_spent_usd = cJSON_GetObjectItemCaseSensitive(t, "cost_spent_usd")
                            ? num_of(t, "cost_spent_usd")
                            : l->cost_usd;
    p->stats.calls = (long)num_of(st, "calls");
    p->stats.prompt_tokens = (long)num_of(st, "prompt_tokens");
    p->stats.completion_tokens = (long)num_of(st, "completion_tokens");
    p->stats.cost_usd = num_of(st, "cost_usd");
}

/* This session's totals plus the earlier sessions'. */
static void add_prior(llm_totals *t, const run_prior *p)
{
    const llm_totals *l = &p->llm;
    if (!p->sessions)
        return;
    t->calls += l->calls;
    t->errors += l->errors;
    t->unknown_usage += l->unknown_usage;
    t->cache_hits += l->cache_hits;
    t->prompt_tokens += l->prompt_tokens;
    t->completion_tokens += l->completion_tokens;
    t->est_prompt_tokens += l->est_prompt_tokens;
    t->est_completion_tokens += l->est_completion_tokens;
    t->http_requests += l->http_requests;
    t->retries += l->retries;
    t->rate_limited += l->rate_limited;
    t->cost_usd += l->cost_usd;
    t->cost_spent_usd += l->cost_spent_usd;
}

static void llm_json(buf *b, const pe_run_config *c, run_llm *ls, const run_prior *prior)
{
    llm_totals t;
    char num[64], spent[64];
    buf_adds(b, ",\n  \"llm\": {\"backend\": ");
    buf_json_str(b, ls->offline ? "offline" : "http");
    if (ls->offline) {
        buf_adds(b, ", \"note\": ");
        buf_json_str(b, OFFLINE_LABEL);
    }
    buf_adds(b, ", \"endpoint\": ");
    if (ls->endpoint)
        buf_json_str(b, ls->endpoint);
    else
        buf_adds(b, "null");
    if (llm_endpoint_count(ls->client)) {
        buf_adds(b, ", \"endpoints\": [");
        for (size_t i = 0; i < llm_endpoint_count(ls->client); i++) {
            llm_pool_stats st;
            llm_endpoint_stats(ls->client, i, &st);
            buf_adds(b, i ? ", {\"url\": " : "{\"url\": ");
            buf_json_str(b, st.url);
            buf_printf(b, ", \"requests\": %lu, \"errors\": %lu, \"rested\": %lu}", st.requests,
                       st.errors, st.rested);
        }
        buf_addc(b, ']');
    }
    buf_adds(b, ", \"model\": ");
    buf_json_str(b, ls->model);
    pe_fmt_double(num, sizeof num, c->temperature);
    buf_printf(b, ", \"temperature\": %s, \"tools\": \"%s\", \"text_fallback\": %s, "
                  "\"max_steps\": %zu, \"summary_items\": %zu, \"align_batch\": %zu, "
                  "\"align_iters\": %zu, \"headers\": %zu, \"extra_body\": %s, \"wiki\": ",
               num, c->tools, atomic_load(&ls->text_fallback) ? "true" : "false", c->max_steps,
               c->summary_items, c->align_batch, c->align_iters, c->nheaders,
               c->extra_body ? c->extra_body : "null");
    buf_json_str(b, ls->wiki_spec);
    buf_adds(b, ", \"tool_support\": ");
    buf_json_str(b, llm_tool_support_name(llm_get_tool_support(ls->client)));
    buf_adds(b, ", \"cache\": {\"mode\": ");
    buf_json_str(b, ls->cache_mode);
    if (ls->cache) {
        cache_stats cs;
        cache_get_stats(ls->cache, &cs);
        buf_adds(b, ", \"dir\": ");
        buf_json_str(b, ls->cache_dir);
        buf_printf(b, ", \"hits\": %lu, \"misses\": %lu, \"writes\": %lu, "
                      "\"bytes_read\": %llu, \"bytes_written\": %llu",
                   cs.hits, cs.misses, cs.writes, cs.bytes_read, cs.bytes_written);
    }
    llm_get_totals(ls->client, &t);
    if (prior)
        add_prior(&t, prior);
    pe_fmt_double(num, sizeof num, t.cost_usd);
    pe_fmt_double(spent, sizeof spent, t.cost_spent_usd);
    buf_printf(b, "}, \"totals\": {\"calls\": %lu, \"errors\": %lu, \"unknown_usage\": %lu, "
                  "\"cache_hits\": %lu, \"prompt_tokens\": %llu, \"completion_tokens\": %llu, "
                  "\"est_prompt_tokens\": %llu, \"est_completion_tokens\": %llu, "
                  "\"http_requests\": %lu, \"retries\": %lu, \"rate_limited\": %lu, "
                  "\"cost_usd\": %s, \"cost_spent_usd\": %s}, \"prompts\": ",
               t.calls, t.errors, t.unknown_usage, t.cache_hits, t.prompt_tokens,
               t.completion_tokens, t.est_prompt_tokens, t.est_completion_tokens,
               t.http_requests, t.retries, t.rate_limited, num, spent);
    prompts_used_json(ls->prompts, b);
    buf_addc(b, '}');
}

char *run_json_text(const run_record *r)
{
    const pe_run_config *c = r->config;
    const dataset *d = r->data;
    const runner_stats *st = r->stats;
    buf b = BUF_INIT;
    size_t hist = 0;
    char num[64];

    for (size_t u = 0; u < d->nusers; u++)
        hist += d->users[u].nitems;
    buf_adds(&b, "{\n  \"tool\": \"persona-eval\",\n  \"version\": ");
    buf_json_str(&b, PE_VERSION);
    buf_adds(&b, ",\n  \"git_revision\": ");
    buf_json_str(&b, PE_GIT_REV);
    buf_adds(&b, ",\n  \"libraries\": ");
    pe_versions_json(&b);
    buf_adds(&b, ",\n  \"command\": ");
    str_list(&b, c->command, c->ncommand);
    buf_adds(&b, ",\n  \"task\": ");
    buf_json_str(&b, c->task);
    buf_adds(&b, ",\n  \"methods\": [");
    for (size_t i = 0; i < r->nmethods; i++) {
        if (i)
            buf_adds(&b, ", ");
        buf_json_str(&b, r->methods[i]->name);
    }
    buf_printf(&b, "],\n  \"settings\": {\"k\": %zu, \"strict_answers\": %s, \"bootstrap\": %zu, "
                   "\"seed\": %llu, \"jobs\": %d, \"users\": %zu, \"max_queries\": %zu, "
                   "\"format\": ",
               c->k, c->strict_answers ? "true" : "false", c->bootstrap,
               (unsigned long long)c->seed, c->jobs, c->users, c->max_queries);
    buf_json_str(&b, c->format ? c->format : "auto");
    buf_adds(&b, ", \"user_ids\": ");
    str_list(&b, c->user_ids, c->nuser_ids);
    buf_adds(&b, "},\n  \"data\": [");
    for (size_t i = 0; i < d->nsources; i++) {
        buf_adds(&b, i ? ",\n    {\"path\": " : "\n    {\"path\": ");
        buf_json_str(&b, d->sources[i].path);
        buf_adds(&b, ", \"format\": ");
        buf_json_str(&b, d->sources[i].format);
        buf_printf(&b, ", \"sha256\": \"%s\"}", d->sources[i].sha256);
    }
    buf_printf(&b, "\n  ],\n  \"counts\": {\"users\": %zu, \"history_items\": %zu, "
                   "\"queries\": %zu},\n",
               d->nusers, hist, dataset_nqueries(d));
    runctl_run_json(r->ctl, &b);
    buf_adds(&b, "  \"started\": ");
    buf_json_str(&b, r->started);
    buf_adds(&b, ",\n  \"finished\": ");
    if (r->finished)
        buf_json_str(&b, r->finished);
    else
        buf_adds(&b, "null");
    pe_fmt_double(num, sizeof num, st ? st->wall_s : 0);
    buf_printf(&b, ",\n  \"incomplete\": %s,\n  \"wall_s\": %s", r->incomplete ? "true" : "false",
               num);
    /* the sessions of a resumed run: totals (calls, tokens, cost) cover them
     * all; the query counts of "stats" are this session's */
    buf_printf(&b, ",\n  \"sessions\": %u", (r->prior ? r->prior->sessions : 0) + 1);
    if (st) {
        runner_stats sum = *st;
        if (r->prior) {
            sum.calls += r->prior->stats.calls;
            sum.prompt_tokens += r->prior->stats.prompt_tokens;
            sum.completion_tokens += r->prior->stats.completion_tokens;
            sum.cost_usd += r->prior->stats.cost_usd;
        }
        pe_fmt_double(num, sizeof num, sum.cost_usd);
        buf_printf(&b, ",\n  \"stats\": {\"queries_total\": %zu, \"queries_done\": %zu, "
                       "\"queries_skipped\": %zu, \"errors\": %zu, \"calls\": %ld, "
                       "\"prompt_tokens\": %ld, \"completion_tokens\": %ld, \"cost_usd\": %s}",
                   sum.queries_total, sum.queries_done, sum.queries_skipped, sum.errors,
                   sum.calls, sum.prompt_tokens, sum.completion_tokens, num);
    }
    if (r->llm && r->llm->client)
        llm_json(&b, c, r->llm, r->prior);
    buf_adds(&b, ",\n  \"blas\": ");
    buf_json_str(&b, topk_blas_info());
    buf_adds(&b, "\n}\n");
    return buf_detach(&b);
}
