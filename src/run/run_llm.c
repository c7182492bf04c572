/* The LLM wiring of a run: client, cache, prompts, Wikipedia, --embed http. */
#include "run_parts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "offline.h"

/* A URL as it may be written to run.json and logs: no user:password@, no query. */
static char *url_public(const char *url)
{
    const char *scheme = strstr(url, "://"), *host = scheme ? scheme + 3 : url, *at, *end;
    buf b = BUF_INIT;
    end = host + strcspn(host, "/?#");
    at = memchr(host, '@', (size_t)(end - host));
    buf_add(&b, url, (size_t)(host - url));
    if (at)
        host = at + 1;
    buf_add(&b, host, strcspn(host, "?#"));
    return buf_detach(&b);
}

/* What every client of the run shares: headers, timeouts, retries, limits, the
 * cache and the logs. */
static void client_config(const pe_run_config *c, const run_llm *ls, llm_config *cfg)
{
    llm_config_default(cfg);
    cfg->headers = c->headers;
    cfg->nheaders = c->nheaders;
    if (c->timeout > 0)
        cfg->http.timeout_s = c->timeout;
    cfg->http.retries = (int)c->retries;
    cfg->http.max_body = (size_t)c->max_response_bytes;
    cfg->http.insecure = c->insecure;
    cfg->rps = c->rps;
    /* -j bounds the requests in flight, alignment replays included */
    cfg->max_inflight = c->jobs;
    cfg->cache = ls->cache;
    cfg->cache_shared = c->cache_shared;
    cfg->log = c->log;
    cfg->log_ctx = c->log_ctx;
    cfg->verbose = c->verbose;
}

/* The request cache, opened once for the run; the offline responder answers
 * instantly, so a run that only uses it has no cache unless asked for. */
static int open_cache(const pe_run_config *c, run_llm *ls, int offline, pe_err *e)
{
    if (ls->cache_mode)
        return 0;
    ls->cache_mode = c->offline_cache ? "offline"
                     : c->cache       ? c->cache
                     : offline        ? "off"
                                      : "rw";
    if (strcmp(ls->cache_mode, "off") == 0)
        return 0;
    ls->cache_dir = c->cache_dir ? xstrdup(c->cache_dir) : cache_default_dir();
    if (!(ls->cache = cache_open(ls->cache_dir, (cache_mode)cache_mode_parse(ls->cache_mode), e)))
        return e->code ? e->code : PE_EXIT_IO;
    return 0;
}

/* An http(s) URL with a host. */
static int check_url(const char *what, const char *url, pe_err *e)
{
    const char *host = NULL;
    if (strncmp(url, "http://", 7) == 0)
        host = url + 7;
    else if (strncmp(url, "https://", 8) == 0)
        host = url + 8;
    if (!host || !*host || *host == '/' || *host == ':')
        return pe_errf(e, PE_EXIT_USAGE, "%s \"%s\" is not an http:// or https:// URL with a "
                                         "host (e.g. http://127.0.0.1:8000/v1)", what, url);
    return 0;
}

static const char *env_or(const char *v, const char *var)
{
    return v ? v : getenv(var);
}

/* The length of the first URL of a list: URLs are separated by white space
 * (repeated --endpoint) or by a comma right before "http://" or "https://"
 * (OPENAI_BASE_URL), so that a comma inside a URL's path stays in it. */
static size_t url_len(const char *list)
{
    size_t n = 0;
    for (; list[n] && !strchr(" \t\n", list[n]); n++)
        if (list[n] == ',' &&
            (strncmp(list + n + 1, "http://", 7) == 0 || strncmp(list + n + 1, "https://", 8) == 0))
            break;
    return n;
}

/* The URLs of --endpoint (repeated) or OPENAI_BASE_URL, each checked; *n of
 * them in a NULL-terminated array of copies (caller frees). */
static int split_urls(const char *what, const char *list, char ***urls, size_t *n, pe_err *e)
{
    char **v = xcalloc(1, sizeof *v);
    size_t k = 0;
    int rc = 0;
    for (const char *p = list + strspn(list, " \t\n"); *p;) {
        size_t len = url_len(p);
        v = xrealloc(v, (k + 2) * sizeof *v);
        v[k++] = xstrndup(p, len);
        v[k] = NULL;
        if (rc == 0)
            rc = check_url(what, v[k - 1], e);
        p += len;
        p += *p == ',';
        p += strspn(p, " \t\n");
    }
    if (rc == 0 && k == 0)
        rc = pe_errf(e, PE_EXIT_USAGE, "%s: no URL in \"%s\"", what, list);
    *urls = v;
    *n = k;
    return rc;
}

static void free_urls(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

int run_llm_setup(const pe_run_config *c, run_llm *ls, pe_err *e)
{
    const char *endpoint = env_or(c->endpoint, "OPENAI_BASE_URL");
    const char *model = env_or(c->model, "OPENAI_MODEL");
    const char *keyvar = c->api_key_env ? c->api_key_env : "OPENAI_API_KEY";
    const char *key = getenv(keyvar);
    llm_config cfg;
    char **urls = NULL;
    size_t nurls = 0;
    int rc;

    if (endpoint && !*endpoint)
        endpoint = NULL;
    ls->offline = c->llm ? strcmp(c->llm, "offline") == 0 : endpoint == NULL;
    if ((rc = prompts_load(c->prompts_dir, &ls->prompts, e)))
        return rc;
    prompts_digest(ls->prompts, ls->prompts_sha256);
    if (ls->offline && c->offline_cache)
        return pe_errf(e, PE_EXIT_USAGE,
                       "--offline replays an endpoint's cached answers: it needs --endpoint "
                       "(or OPENAI_BASE_URL) and --model of the run that filled the cache, "
                       "not the offline responder");
    if (!ls->offline && (!endpoint || !model || !*model))
        return pe_errf(e, PE_EXIT_USAGE, "--llm http needs --endpoint (or OPENAI_BASE_URL) and "
                                         "--model (or OPENAI_MODEL)");
    if (c->api_key_env && !key)
        return pe_errf(e, PE_EXIT_USAGE, "--api-key-env: the variable %s is not set", keyvar);
    if (!ls->offline && (rc = split_urls(c->endpoint ? "--endpoint" : "OPENAI_BASE_URL", endpoint,
                                         &urls, &nurls, e))) {
        free_urls(urls);
        return rc;
    }
    if ((rc = open_cache(c, ls, ls->offline, e))) {
        free_urls(urls);
        return rc;
    }
    client_config(c, ls, &cfg);
    if (ls->offline) {
        cfg.backend = LLM_BACKEND_OFFLINE;
        pe_logf(c->log, c->log_ctx, "no endpoint: answering with the %s", OFFLINE_LABEL);
        ls->model = xstrdup("offline");
    } else {
        ls->endpoint = url_public(urls[0]);
        ls->model = xstrdup(model);
        cfg.base_url = urls[0];
        cfg.replicas = (const char *const *)urls + 1;
        cfg.nreplicas = nurls - 1;
        cfg.model = model;
        cfg.api_key = key;
    }
    cfg.extra_body = c->extra_body;
    cfg.temperature = c->temperature;
    if (c->insecure)
        pe_logf(c->log, c->log_ctx, "warning: TLS certificates are not verified (--insecure)");
    cfg.price_in = c->price_in;
    cfg.price_out = c->price_out;
    if ((rc = http_global_init(e)) == 0 && !(ls->client = llm_client_new(&cfg, e)))
        rc = e->code ? e->code : PE_EXIT_USAGE;
    free_urls(urls);
    if (rc)
        return rc;
    ls->wiki_spec = c->wiki ? c->wiki : ls->offline ? "off" : "https://en.wikipedia.org";
    return tools_wiki_new(ls->wiki_spec, c->timeout > 0 ? c->timeout : 30, &ls->wiki, e);
}

static int encoder_setup(const pe_run_config *c, run_llm *ls, encoder_opts *o,
                         const char *endpoint, const char *model, pe_err *e)
{
    llm_config cfg;
    int rc;

    memset(o, 0, sizeof *o);
    if (c->embed && encoder_kind_parse(c->embed, &o->kind) != 0)
        return pe_errf(e, PE_EXIT_USAGE, "--embed: %s, not \"%s\"", ENCODER_KINDS, c->embed);
    if (c->tokenize && encoder_tok_parse(c->tokenize, &o->tokenize) != 0)
        return pe_errf(e, PE_EXIT_USAGE, "--tokenize: %s, not \"%s\"", ENCODER_TOKENIZERS,
                       c->tokenize);
    o->dim = c->dim;
    if (o->kind != ENCODER_BACKEND)
        return 0;
    if (!endpoint || !*endpoint || !model || !*model)
        return pe_errf(e, PE_EXIT_USAGE, "--embed http needs --embed-endpoint or --endpoint, and "
                                         "--embed-model or --model");
    if ((rc = check_url("--embed-endpoint", endpoint, e)))
        return rc;
    if ((rc = open_cache(c, ls, 0, e)))
        return rc;
    client_config(c, ls, &cfg);
    ls->embed_endpoint = url_public(endpoint);
    ls->embed_model = xstrdup(model);
    cfg.base_url = endpoint;
    cfg.model = model;
    cfg.api_key = getenv(c->api_key_env ? c->api_key_env : "OPENAI_API_KEY");
    if ((rc = http_global_init(e)))
        return rc;
    if (!(ls->embed_client = llm_client_new(&cfg, e)))
        return e->code ? e->code : PE_EXIT_USAGE;
    ls->embed = embed_http_new(ls->embed_client, 0);
    return embed_http_encoder_opts(ls->embed, o, e);
}

int run_encoder_setup(const pe_run_config *c, run_llm *ls, encoder_opts *o, pe_err *e)
{
    const char *list = c->embed_endpoint ? c->embed_endpoint
                                         : env_or(c->endpoint, "OPENAI_BASE_URL");
    /* of several chat replicas, the first serves the embeddings */
    char *first = list ? xstrndup(list + strspn(list, " \t\n"),
                                  url_len(list + strspn(list, " \t\n"))) : NULL;
    int rc = encoder_setup(c, ls, o, first,
                           c->embed_model ? c->embed_model : env_or(c->model, "OPENAI_MODEL"), e);
    free(first);
    return rc;
}

void run_llm_free(run_llm *ls)
{
    embed_http_free(ls->embed);
    llm_client_free(ls->embed_client);
    free(ls->embed_endpoint);
    free(ls->embed_model);
    llm_client_free(ls->client);
    cache_close(ls->cache);
    prompts_free(ls->prompts);
    tools_wiki_free(ls->wiki);
    free(ls->endpoint);
    free(ls->model);
    free(ls->cache_dir);
}

unsigned long run_llm_offline_misses(run_llm *ls)
{
    llm_totals t;
    unsigned long n = 0;
    if (!ls->cache_mode || strcmp(ls->cache_mode, "offline") != 0)
        return 0;
    if (ls->client) {
        llm_get_totals(ls->client, &t);
        n += t.cache_misses;
    }
    if (ls->embed_client) {
        llm_get_totals(ls->embed_client, &t);
        n += t.cache_misses;
    }
    return n;
}

int run_llm_offline_halt(void *ctx)
{
    return run_llm_offline_misses(ctx) > 0;
}

