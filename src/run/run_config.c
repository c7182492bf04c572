#include "run_config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "settings.h"

void run_config_init(pe_run_config *c)
{
    memset(c, 0, sizeof *c);
    c->limits = ds_limits_default();
    c->methods = "personaagent";
    c->k = 4;
    c->bootstrap = 1000;
    c->seed = PE_SEED_DEFAULT;
    c->temperature = 0.1;
    c->retries = 6;
    c->max_response_bytes = 8u << 20;
    c->tools = "auto";
    c->max_steps = 6;
    c->summary_items = 50;
    c->align_batch = 3;
    c->align_iters = 1;
    c->align_every = 1;
    c->max_observation_chars = AGENT_MAX_OBSERVATION_CHARS;
    c->max_tool_calls = AGENT_MAX_TOOL_CALLS;
    c->jobs = 8;
    c->grace_s = 30;
    c->progress = PROGRESS_AUTO;
    c->progress_interval_s = 30;
}

#define C(f) offsetof(pe_run_config, f)
#define D(f) offsetof(run_derived, f)
#define KEEP(opt, why) {opt, NULL, 0, RS_STR, 0, 0, NULL, why}

/* Every option of `run`. A row with RS_RESULT is part of the config, its hash,
 * the --resume check and the merge check; every other row says why it does
 * not change results. tests/check_run_config.c walks `run --help` against it. */
static const run_setting table[] = {
    {"--task", "task", RS_RESULT, RS_STR, C(task), 0, NULL, NULL},
    {"--data", "data_sha256", RS_RESULT | RS_DERIVED, RS_STRS, D(data_sha256), D(ndata), NULL,
     NULL},
    {"--format", "format", RS_RESULT, RS_STR, C(format), 0, "auto", NULL},
    {"--method|--methods", "methods", RS_RESULT | RS_DERIVED, RS_STRS, D(methods), D(nmethods),
     NULL, NULL},
    {"--users", "users", RS_RESULT, RS_SIZE, C(users), 0, NULL, NULL},
    {"--user", "user_ids", RS_RESULT, RS_STRS, C(user_ids), C(nuser_ids), NULL, NULL},
    {"--max-queries", "max_queries", RS_RESULT, RS_SIZE, C(max_queries), 0, NULL, NULL},
    {"--k", "k", RS_RESULT, RS_SIZE, C(k), 0, NULL, NULL},
    {"--strict-answers", "strict_answers", RS_RESULT, RS_INT, C(strict_answers), 0, NULL, NULL},
    {"--bootstrap", "bootstrap", RS_RESULT, RS_SIZE, C(bootstrap), 0, NULL, NULL},
    {"--seed", "seed", RS_RESULT, RS_U64, C(seed), 0, NULL, NULL},
    {"--llm", "llm", RS_RESULT | RS_IF_LLM | RS_DERIVED, RS_STR, D(backend), 0, NULL, NULL},
    {"--model", "model", RS_RESULT | RS_IF_LLM | RS_DERIVED, RS_STR, D(model), 0, NULL, NULL},
    {"--extra-body", "extra_body", RS_RESULT | RS_IF_LLM, RS_STR, C(extra_body), 0, "", NULL},
    {"--temperature", "temperature", RS_RESULT | RS_IF_LLM, RS_DOUBLE, C(temperature), 0, NULL,
     NULL},
    {"--tools", "tools", RS_RESULT | RS_IF_LLM, RS_STR, C(tools), 0, "auto", NULL},
    {"--prompts", "prompts", RS_RESULT | RS_IF_LLM | RS_DERIVED, RS_STR, D(prompts_sha256), 0,
     NULL, NULL},
    {"--wiki", "wiki", RS_RESULT | RS_IF_LLM | RS_DERIVED, RS_STR, D(wiki), 0, NULL, NULL},
    {"--max-steps", "max_steps", RS_RESULT | RS_IF_LLM, RS_SIZE, C(max_steps), 0, NULL, NULL},
    {"--summary-items", "summary_items", RS_RESULT | RS_IF_LLM, RS_SIZE, C(summary_items), 0,
     NULL, NULL},
    {"--align-batch", "align_batch", RS_RESULT | RS_IF_LLM, RS_SIZE, C(align_batch), 0, NULL,
     NULL},
    {"--align-iters", "align_iters", RS_RESULT | RS_IF_LLM, RS_SIZE, C(align_iters), 0, NULL,
     NULL},
    {"--max-observation-chars", "max_observation_chars", RS_RESULT | RS_IF_LLM, RS_ULL,
     C(max_observation_chars), 0, NULL, NULL},
    {"--max-tool-calls", "max_tool_calls", RS_RESULT | RS_IF_LLM, RS_SIZE, C(max_tool_calls), 0,
     NULL, NULL},
    {"--price-in", "price_in", RS_RESULT | RS_IF_LLM, RS_DOUBLE, C(price_in), 0, NULL, NULL},
    {"--price-out", "price_out", RS_RESULT | RS_IF_LLM, RS_DOUBLE, C(price_out), 0, NULL, NULL},
    {"--online", "online", RS_RESULT, RS_INT, C(online), 0, NULL, NULL},
    {"--align-every", "align_every", RS_RESULT | RS_IF_ONLINE, RS_SIZE, C(align_every), 0, NULL,
     NULL},
    {"--embed", "embed", RS_RESULT, RS_STR, C(embed), 0, "bm25", NULL},
    {"--embed-model", "embed_model", RS_RESULT | RS_IF_EMBED, RS_STR, C(embed_model), 0, "",
     NULL},
    {"--tokenize", "tokenize", RS_RESULT, RS_STR, C(tokenize), 0, "default", NULL},
    {"--dim", "dim", RS_RESULT | RS_IF_EMBED, RS_SIZE, C(dim), 0, NULL, NULL},
    KEEP("--endpoint", "where the model is served (its replicas), not which model answers"),
    KEEP("--embed-endpoint", "where the embedding model is served (--embed-model names it)"),
    KEEP("--api-key-env", "which variable holds the key"),
    KEEP("--header", "request headers for gateways; values are secrets"),
    KEEP("--timeout", "a timed-out call is retried or counted as an error, never an answer"),
    KEEP("--retries", "how often a failed call is tried again"),
    KEEP("--max-response-bytes", "a larger body is an error, never an answer"),
    KEEP("--insecure", "TLS verification"),
    KEEP("--rps", "pacing of requests"),
    KEEP("--cache", "the cache replays the answers the endpoint gave"),
    KEEP("--cache-dir", "where the cache lives"),
    KEEP("--cache-shared", "whether the endpoint URL is part of the cache key"),
    KEEP("--offline", "answers from the cache only"),
    KEEP("--sweep", "a sweep is several runs, each with its own config"),
    KEEP("--max-file-bytes", "a larger file is refused, never read differently"),
    KEEP("--max-field-bytes", "a larger field is refused, never read differently"),
    KEEP("--max-profile-items", "a longer history is refused, never read differently"),
    KEEP("-j|--jobs", "requests in flight; results do not depend on the order of completion"),
    KEEP("--out", "where the run is written"),
    KEEP("--resume", "continues the same run"),
    KEEP("--shard", "which users this process runs; merge joins the shards"),
    KEEP("--shards", "with --shard auto"),
    KEEP("--grace", "how long a stop waits for queries in flight"),
    KEEP("--progress", "the status line"),
    KEEP("--progress-interval", "how often the status line is logged"),
    KEEP("--share-results", "who may read the run folder"),
    KEEP("-q|--quiet", "what is printed"),
    KEEP("-v|--verbose", "what is logged"),
    KEEP("-h|--help", "prints help"),
};

size_t run_settings_count(void)
{
    return sizeof table / sizeof table[0];
}

const run_setting *run_settings_at(size_t i)
{
    return i < run_settings_count() ? &table[i] : NULL;
}

/* 1 when name is one of the |-separated names of a row. */
static int names_match(const char *names, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = names; *p;) {
        size_t l = strcspn(p, "|");
        if (l == n && strncmp(p, name, n) == 0)
            return 1;
        p += l;
        if (*p == '|')
            p++;
    }
    return 0;
}

const run_setting *run_settings_find(const char *option)
{
    for (size_t i = 0; i < run_settings_count(); i++)
        if (names_match(table[i].option, option))
            return &table[i];
    return NULL;
}

static int applies(const run_setting *s, const pe_run_config *c, const run_derived *d)
{
    if (!(s->flags & RS_RESULT))
        return 0;
    if ((s->flags & RS_IF_LLM) && !d->llm)
        return 0;
    if ((s->flags & RS_IF_EMBED) && !d->embed_http)
        return 0;
    if ((s->flags & RS_IF_ONLINE) && !c->online)
        return 0;
    return 1;
}

static void put(cJSON *out, const run_setting *s, const void *base)
{
    const char *p = (const char *)base + s->offset;
    switch (s->type) {
    case RS_STR: {
        const char *v = *(const char *const *)p;
        settings_add_str(out, s->key, v ? v : s->unset);
        break;
    }
    case RS_STRS:
        settings_add_strs(out, s->key, *(const char *const *const *)p,
                          *(const size_t *)((const char *)base + s->count_offset));
        break;
    case RS_SIZE:
        settings_add_u64(out, s->key, *(const size_t *)p);
        break;
    case RS_U64:
        settings_add_u64(out, s->key, *(const uint64_t *)p);
        break;
    case RS_ULL:
        settings_add_u64(out, s->key, *(const unsigned long long *)p);
        break;
    case RS_INT:
        settings_add_bool(out, s->key, *(const int *)p);
        break;
    case RS_DOUBLE:
        settings_add_num(out, s->key, *(const double *)p);
        break;
    }
}

cJSON *run_config_settings(const pe_run_config *c, const run_derived *d)
{
    cJSON *s = settings_new();
    for (size_t i = 0; i < run_settings_count(); i++)
        if (applies(&table[i], c, d))
            put(s, &table[i], table[i].flags & RS_DERIVED ? (const void *)d : (const void *)c);
    return s;
}

/* The option that records key, for messages. */
static const char *option_of(const char *key)
{
    for (size_t i = 0; i < run_settings_count(); i++)
        if (table[i].key && strcmp(table[i].key, key) == 0)
            return table[i].option;
    return NULL;
}

static void diff_item(buf *out, size_t *n, const char *key, const cJSON *a, const cJSON *b)
{
    char *ta = a ? settings_canonical(a) : NULL, *tb = b ? settings_canonical(b) : NULL;
    if (!ta || !tb || strcmp(ta, tb) != 0) {
        const char *opt = option_of(key);
        buf_adds(out, (*n)++ ? "; " : "");
        if (opt)
            buf_add(out, opt, strcspn(opt, "|"));
        else
            buf_adds(out, key);
        buf_printf(out, " (recorded %s, now %s)", ta ? ta : "absent", tb ? tb : "absent");
    }
    free(ta);
    free(tb);
}

size_t run_config_diff(const cJSON *recorded, const cJSON *now, buf *out)
{
    size_t n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, recorded)
        diff_item(out, &n, c->string, c, cJSON_GetObjectItemCaseSensitive(now, c->string));
    cJSON_ArrayForEach(c, now)
        if (!cJSON_GetObjectItemCaseSensitive(recorded, c->string))
            diff_item(out, &n, c->string, NULL, c);
    return n;
}
