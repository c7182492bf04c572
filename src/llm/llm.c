#include "llm.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonu.h"
#include "llm_backend.h"
#include "llm_wire.h"
#include "redact.h"

#define FATAL_EARLY_N 3

static const llm_backend_ops *const backends[] = {
    [LLM_BACKEND_HTTP] = &llm_backend_http,
    [LLM_BACKEND_OFFLINE] = &llm_backend_offline,
};

void llm_config_default(llm_config *c)
{
    memset(c, 0, sizeof *c);
    c->backend = LLM_BACKEND_HTTP;
    c->temperature = 0.1;
    c->embed_batch = 64;
    c->recover_s = 15;
    http_opts_default(&c->http);
}

static char *trim_slash(const char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == '/')
        n--;
    return xstrndup(s, n);
}

void llm_logf(llm_client *c, const char *fmt, ...)
{
    char msg[512], *r;
    va_list ap;
    if (!c->cfg.log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r = redact(msg);
    c->cfg.log(c->cfg.log_ctx, r);
    free(r);
}

void llm_count(llm_client *c, unsigned long *counter, unsigned long n)
{
    pthread_mutex_lock(&c->mu);
    *counter += n;
    pthread_mutex_unlock(&c->mu);
}

static int check_config(const llm_config *cfg, cJSON **extra, pe_err *e)
{
    if (cfg->backend == LLM_BACKEND_HTTP && (!cfg->base_url || !*cfg->base_url))
        return pe_errf(e, PE_EXIT_USAGE, "llm: no endpoint base URL (--base-url)");
    if (cfg->backend == LLM_BACKEND_HTTP && (!cfg->model || !*cfg->model))
        return pe_errf(e, PE_EXIT_USAGE, "llm: no model name (--model)");
    if (cfg->extra_body && *cfg->extra_body) {
        size_t off = 0;
        *extra = jsonu_parse(cfg->extra_body, strlen(cfg->extra_body), &off);
        if (!cJSON_IsObject(*extra)) {
            cJSON_Delete(*extra);
            *extra = NULL;
            return pe_errf(e, PE_EXIT_USAGE, "llm: extra_body:%zu: must be a JSON object",
                           off + 1);
        }
    }
    return http_global_init(e);
}

/* The key, header values and URL userinfo never leave the process. */
static void register_secrets(const llm_config *cfg)
{
    redact_add(cfg->api_key);
    for (size_t i = 0; i < cfg->nheaders; i++)
        redact_add_header(cfg->headers[i]);
    redact_add_url(cfg->base_url);
    for (size_t i = 0; i < cfg->nreplicas; i++)
        redact_add_url(cfg->replicas[i]);
    redact_add_url(cfg->embed_base_url);
}

llm_client *llm_client_new(const llm_config *cfg, pe_err *e)
{
    llm_client *c;
    cJSON *extra = NULL;

    if (check_config(cfg, &extra, e) != 0) {
        cJSON_Delete(extra);
        return NULL;
    }
    register_secrets(cfg);
    c = xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    c->ops = backends[cfg->backend];
    c->extra = extra;
    c->base_url = cfg->base_url ? trim_slash(cfg->base_url) : xstrdup("");
    c->embed_base_url = cfg->embed_base_url && *cfg->embed_base_url
                            ? trim_slash(cfg->embed_base_url) : xstrdup(c->base_url);
    c->model = xstrdup(cfg->model ? cfg->model : "offline");
    c->embed_model = xstrdup(cfg->embed_model && *cfg->embed_model ? cfg->embed_model : c->model);
    c->api_key = cfg->api_key ? xstrdup(cfg->api_key) : NULL;
    c->headers = xcalloc(cfg->nheaders + 1, sizeof *c->headers);
    for (size_t i = 0; i < cfg->nheaders; i++)
        c->headers[i] = xstrdup(cfg->headers[i]);
    c->cfg.base_url = c->base_url;
    c->cfg.model = c->model;
    c->cfg.api_key = c->api_key;
    c->cfg.embed_base_url = c->embed_base_url;
    c->cfg.embed_model = c->embed_model;
    c->cfg.headers = (const char *const *)c->headers;
    c->cfg.extra_body = NULL;
    if (c->cfg.embed_batch == 0)
        c->cfg.embed_batch = 64;
    if (cfg->backend == LLM_BACKEND_HTTP) {
        const char **urls = xcalloc(cfg->nreplicas + 1, sizeof *urls);
        urls[0] = c->base_url;
        for (size_t i = 0; i < cfg->nreplicas; i++)
            urls[i + 1] = cfg->replicas[i];
        c->pool = llm_pool_new(urls, cfg->nreplicas + 1);
        free(urls);
        /* per worker: its handle's wake-up pair and a connection per replica */
        if (cfg->max_inflight > 0)
            http_reserve_fds(cfg->max_inflight * (3 + (int)cfg->nreplicas) + 64);
    }
    c->cfg.replicas = NULL;
    c->cfg.nreplicas = 0;
    c->gate = llm_gate_new(cfg->max_inflight, cfg->rps, cfg->recover_s, cfg->log, cfg->log_ctx);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    return c;
}

void llm_client_free(llm_client *c)
{
    if (!c)
        return;
    if (c->api_key)
        memset(c->api_key, 0, strlen(c->api_key));
    free(c->base_url);
    free(c->embed_base_url);
    free(c->model);
    free(c->embed_model);
    free(c->api_key);
    for (size_t i = 0; i < c->cfg.nheaders; i++)
        free(c->headers[i]);
    free(c->headers);
    cJSON_Delete(c->extra);
    llm_gate_free(c->gate);
    llm_pool_free(c->pool);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

llm_worker *llm_worker_new(llm_client *c)
{
    llm_worker *w = xcalloc(1, sizeof *w);
    w->c = c; /* backend state is made on first use: cache hits need no HTTP handle */
    return w;
}

void llm_worker_free(llm_worker *w)
{
    if (!w)
        return;
    if (w->state && w->c->ops->worker_free)
        w->c->ops->worker_free(w->state);
    free(w);
}

llm_client *llm_worker_client(const llm_worker *w)
{
    return w->c;
}

const char *llm_backend_name(const llm_client *c)
{
    return c->ops->name;
}

double llm_cost(const llm_client *c, const llm_response *r)
{
    if (!r->usage.known)
        return -1;
    return ((double)r->usage.prompt_tokens * c->cfg.price_in +
            (double)r->usage.completion_tokens * c->cfg.price_out) / 1e6;
}

static void free_calls(llm_tool_call *tc, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(tc[i].id);
        free(tc[i].name);
        free(tc[i].arguments);
        cJSON_Delete(tc[i].args);
        free(tc[i].args_error);
    }
    free(tc);
}

void llm_response_free(llm_response *r)
{
    free(r->content);
    free(r->reasoning);
    free_calls(r->tool_calls, r->ntool_calls);
    free(r->finish_reason);
    free(r->model);
    free(r->system_fingerprint);
    free(r->error_raw);
    memset(r, 0, sizeof *r);
}

long llm_estimate_tokens(const char *s)
{
    return s ? (long)((strlen(s) + 3) / 4) : 0;
}

cJSON *llm_request_body(const llm_client *c, const llm_request *rq)
{
    return llm_wire_chat_body(c->model, c->cfg.temperature, c->extra, rq);
}

int llm_parse_chat(const char *body, size_t len, llm_response *out, pe_err *e)
{
    return llm_wire_parse_chat(body, len, 0, out, e);
}

/* ---- fatal-early stop ------------------------------------------------------------ */

/* An answer proving the configuration wrong: 401, 403, 404, a model that does
 * not exist, or no server at the URL. Timeouts and 5xx are not proof. */
static int proves_misconfigured(const llm_call *call, const llm_response *r)
{
    if (call->status == 401 || call->status == 403 || call->status == 404)
        return 1;
    if ((call->status == 400 || call->status == 422) && r->error_raw &&
        pe_strcasestr(r->error_raw, "model") &&
        (pe_strcasestr(r->error_raw, "not found") || pe_strcasestr(r->error_raw, "not exist")))
        return 1;
    return call->status == 0 && call->dead;
}

/* Record how a request ended; returns 1 when the run must stop. */
static int fatal_early_update(llm_client *c, int ok, const llm_call *call,
                              const llm_response *r, const char *msg)
{
    int fatal;
    pthread_mutex_lock(&c->mu);
    if (!c->fatal && !c->succeeded && c->completed < FATAL_EARLY_N) {
        int counts = !ok && !r->tools_rejected && proves_misconfigured(call, r);
        c->completed++;
        if (ok) {
            c->succeeded = 1;
        } else if (c->completed == 1) {
            c->first_status = call->status;
            c->same = counts;
        } else if (!counts || call->status != c->first_status) {
            c->same = 0;
        }
        if (c->completed == FATAL_EARLY_N && c->same) {
            c->fatal = 1;
            snprintf(c->fatal_msg, sizeof c->fatal_msg,
                     "the first %d requests to the endpoint failed with the same error; "
                     "stopping (check the base URL, the key and the model): %.900s",
                     FATAL_EARLY_N, msg);
            redact_inplace(c->fatal_msg, sizeof c->fatal_msg);
        }
    } else if (ok) {
        c->succeeded = 1;
    }
    fatal = c->fatal;
    pthread_mutex_unlock(&c->mu);
    return fatal;
}

static int stopped(llm_client *c, pe_err *e)
{
    int fatal;
    pthread_mutex_lock(&c->mu);
    fatal = c->fatal;
    pthread_mutex_unlock(&c->mu);
    return fatal ? pe_errf(e, PE_EXIT_UNAVAILABLE, "%s", c->fatal_msg) : 0;
}

/* ---- the call -------------------------------------------------------------------- */

static void account(llm_client *c, const llm_response *r, int ok, const llm_call *call)
{
    pthread_mutex_lock(&c->mu);
    c->tot.calls++;
    if (!ok)
        c->tot.errors++;
    c->tot.retries += (unsigned long)call->retries;
    c->tot.invalid_responses += (unsigned long)call->invalid;
    c->tot.bytes_sent += call->bytes_sent;
    c->tot.bytes_received += call->bytes_received;
    if (ok) {
        if (r->usage.known) {
            c->tot.prompt_tokens += (unsigned long long)r->usage.prompt_tokens;
            c->tot.completion_tokens += (unsigned long long)r->usage.completion_tokens;
            double cost = (r->usage.prompt_tokens * c->cfg.price_in +
                           r->usage.completion_tokens * c->cfg.price_out) / 1e6;
            c->tot.cost_usd += cost;
            c->tot.cost_spent_usd += r->cached ? 0 : cost;
        } else {
            c->tot.unknown_usage++;
        }
        c->tot.absurd_usage += r->usage.absurd != 0;
        c->tot.utf8_replaced += r->utf8_replaced != 0;
        c->tot.est_prompt_tokens += (unsigned long long)r->usage.est_prompt_tokens;
        c->tot.est_completion_tokens += (unsigned long long)r->usage.est_completion_tokens;
    }
    pthread_mutex_unlock(&c->mu);
}

static void estimate(const llm_request *rq, llm_response *r)
{
    long p = 0, q = llm_estimate_tokens(r->content) + llm_estimate_tokens(r->reasoning);
    for (size_t i = 0; i < rq->nmsgs; i++) {
        p += llm_estimate_tokens(rq->msgs[i].content);
        for (size_t k = 0; k < rq->msgs[i].ntool_calls; k++)
            p += llm_estimate_tokens(rq->msgs[i].tool_calls[k].arguments);
    }
    for (size_t i = 0; i < rq->ntools; i++)
        p += llm_estimate_tokens(rq->tools[i].description) +
             llm_estimate_tokens(rq->tools[i].parameters);
    for (size_t k = 0; k < r->ntool_calls; k++)
        q += llm_estimate_tokens(r->tool_calls[k].arguments);
    r->usage.est_prompt_tokens = p;
    r->usage.est_completion_tokens = q;
}

int llm_chat(llm_worker *w, const llm_request *rq, llm_response *out, pe_err *e)
{
    llm_client *c = w->c;
    llm_call call = {0};
    pe_err local = {0};
    int rc;

    if (!e)
        e = &local;
    memset(out, 0, sizeof *out);
    if ((rc = stopped(c, e)) != 0)
        return rc;
    rc = c->ops->chat(w, rq, out, &call, e);
    if (rc == 0) {
        out->cached = call.cached;
        estimate(rq, out);
    } else {
        redact_err(e);
    }
    if (!call.cached && call.reached && fatal_early_update(c, rc == 0, &call, out, e->msg) &&
        rc != 0)
        rc = pe_errf(e, PE_EXIT_UNAVAILABLE, "%s", c->fatal_msg);
    account(c, out, rc == 0, &call);
    return rc;
}

int llm_embed(llm_worker *w, const char *const *texts, size_t n, int normalize, float **vecs,
              size_t *dim, pe_err *e)
{
    llm_client *c = w->c;
    llm_call call = {0};
    float *all = NULL;
    size_t d = 0;
    int rc;

    *vecs = NULL;
    *dim = 0;
    if (!c->ops->embed)
        return pe_errf(e, PE_EXIT_USAGE, "the %s backend computes no embeddings; use the "
                       "built-in lexical encoder", c->ops->name);
    rc = c->ops->embed(w, texts, n, &all, &d, &call, e);
    pthread_mutex_lock(&c->mu);
    c->tot.retries += (unsigned long)call.retries;
    c->tot.invalid_responses += (unsigned long)call.invalid;
    c->tot.bytes_sent += call.bytes_sent;
    c->tot.bytes_received += call.bytes_received;
    if (rc)
        c->tot.errors++;
    pthread_mutex_unlock(&c->mu);
    if (rc) {
        redact_err(e);
        return rc;
    }
    if (normalize) {
        for (size_t i = 0; i < n; i++) {
            double ss = 0;
            for (size_t k = 0; k < d; k++)
                ss += (double)all[i * d + k] * all[i * d + k];
            if (ss > 0)
                for (size_t k = 0; k < d; k++)
                    all[i * d + k] = (float)(all[i * d + k] / sqrt(ss));
        }
    }
    *vecs = all;
    *dim = d;
    return 0;
}

void llm_get_totals(llm_client *c, llm_totals *t)
{
    unsigned long admitted, limited;
    llm_gate_counts(c->gate, &admitted, &limited);
    pthread_mutex_lock(&c->mu);
    *t = c->tot;
    pthread_mutex_unlock(&c->mu);
    t->http_requests = admitted;
    t->rate_limited = limited;
}

int llm_inflight_cap(llm_client *c)
{
    return llm_gate_cap(c->gate);
}

llm_tool_support llm_get_tool_support(llm_client *c)
{
    llm_tool_support s;
    pthread_mutex_lock(&c->mu);
    s = c->tools;
    pthread_mutex_unlock(&c->mu);
    return s;
}

void llm_set_tool_support(llm_client *c, llm_tool_support s)
{
    pthread_mutex_lock(&c->mu);
    c->tools = s;
    pthread_mutex_unlock(&c->mu);
}

static const char *const support_names[] = {"unknown", "native", "text"};

const char *llm_tool_support_name(llm_tool_support s)
{
    return (unsigned)s < 3 ? support_names[s] : "unknown";
}

int llm_tool_support_parse(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (pe_streq(s, support_names[i]))
            return i;
    return -1;
}

size_t llm_endpoint_count(const llm_client *c)
{
    return c->pool ? llm_pool_size(c->pool) : 0;
}

void llm_endpoint_stats(llm_client *c, size_t i, llm_pool_stats *s)
{
    llm_pool_stats_get(c->pool, i, pe_now(), s);
}
