/* The HTTP backend: the OpenAI wire format over libcurl, through the cache and
 * the gate, with the tool-support decision. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "jsonu.h"
#include "llm_backend.h"
#include "llm_wire.h"
#include "redact.h"
#include "rng.h"

#define ERROR_RAW_MAX 500

typedef int (*parse_fn)(const char *body, size_t len, void *out, pe_err *e);

typedef struct validate_ctx {
    parse_fn parse;
    void *out;
} validate_ctx;

static int validate_cb(void *vctx, const char *body, size_t len, pe_err *why)
{
    validate_ctx *v = vctx;
    return v->parse(body, len, v->out, why);
}

/* -v: a failed request and the start of its body, on one line, redacted. */
static void log_failure(llm_client *c, const char *msg, const char *raw)
{
    buf b = BUF_INIT;
    char *r;
    if (c->cfg.verbose < 1 || !c->cfg.log)
        return;
    buf_printf(&b, "request failed: %s; body: %s", msg, raw ? raw : "(none)");
    r = redact(buf_str(&b));
    for (char *p = r; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    c->cfg.log(c->cfg.log_ctx, r);
    free(r);
    buf_free(&b);
}

static http_handle *handle(llm_worker *w, pe_err *e)
{
    if (!w->state && !(w->state = http_handle_new()))
        pe_errf(e, PE_EXIT_INTERNAL, "libcurl: cannot create a handle");
    return w->state;
}

static void note_corrupt(llm_client *c)
{
    cache_stats st;
    int first;
    cache_get_stats(c->cfg.cache, &st);
    pthread_mutex_lock(&c->mu);
    first = c->tot.cache_corrupt == 0 && st.corrupt > 0;
    if (st.corrupt > c->tot.cache_corrupt)
        c->tot.cache_corrupt = st.corrupt;
    pthread_mutex_unlock(&c->mu);
    if (first)
        llm_logf(c, "cache: an entry in %s failed its checksum and was requested again "
                 "(further damaged entries are counted, not logged)", cache_dir(c->cfg.cache));
}

static llm_pool_outcome outcome_of(int rc, const http_response *hr)
{
    if (rc == 0)
        return LLM_POOL_OK;
    if (hr->status == 0)
        return http_curl_dead(hr->curl_code) ? LLM_POOL_DEAD : LLM_POOL_FAIL;
    return hr->status >= 500 ? LLM_POOL_FAIL : LLM_POOL_OK;
}

/* Whether the failed attempt is worth another (on another replica when there is one). */
static int retryable(const http_response *hr)
{
    return hr->status == 0 ? http_curl_retryable(hr->curl_code)
                           : http_status_retryable(hr->status) || hr->invalid > 0;
}

/* POST text to path on the replicas (llm_pool.h): one attempt at a time, each on
 * the replica the pool chooses, a failed attempt moving at once to a replica
 * this request has not failed on; only when none is left does it wait the
 * backoff (or Retry-After) and start over. With one replica the attempts and
 * waits are those of http_post. hr sums the attempts. */
static int post_pooled(llm_worker *w, const char *path, const char *text,
                       const http_hooks *hooks, http_response *hr, pe_err *e)
{
    llm_client *c = w->c;
    llm_pool *p = c->pool;
    size_t n = llm_pool_size(p);
    http_opts o = c->cfg.http;
    unsigned char *tried = xcalloc(n, 1);
    double start = pe_now();
    int rc, budget = o.retries + (int)n - 1, waits = 0, attempts = 0, invalid = 0;
    size_t sent = 0, received = 0;
    pe_rng jitter;

    pe_rng_seed(&jitter, (uint64_t)(start * 1e6) ^ (uint64_t)(uintptr_t)w);
    if (n > 1)
        o.retries = 0;
    for (;;) {
        size_t i = llm_pool_acquire(p, tried, pe_now());
        char *url = xasprintf("%s%s", llm_pool_url(p, i), path);
        rc = http_post(w->state, &o, url, c->api_key, (const char *const *)c->headers,
                       c->cfg.nheaders, text, strlen(text), hooks, hr, e);
        free(url);
        llm_pool_release(p, i, outcome_of(rc, hr), pe_now());
        attempts += hr->attempts;
        invalid += hr->invalid;
        sent += hr->bytes_sent;
        received += hr->bytes_received;
        if (n == 1 || rc == 0 || !retryable(hr) || attempts > budget ||
            (c->cfg.http.deadline_s > 0 && pe_now() - start >= c->cfg.http.deadline_s))
            break;
        tried[i] = 1;
        if (!llm_pool_has_fresh(p, tried, pe_now())) {
            memset(tried, 0, n);
            http_sleep(hr->retry_after_s >= 0 ? hr->retry_after_s
                       : http_backoff(waits++, o.backoff_base_s, o.backoff_cap_s,
                                      pe_rng_unit(&jitter)));
        }
        http_response_free(hr);
        memset(e, 0, sizeof *e);
    }
    free(tried);
    hr->attempts = attempts;
    hr->retries = attempts - 1;
    hr->invalid = invalid;
    hr->bytes_sent = sent;
    hr->bytes_received = received;
    return rc;
}

/* POST body to url through the cache (pooled: url is a path on the replicas).
 * On success the parsed result is in out (parse called on each 2xx body until
 * one is valid; an invalid body is retried like a 5xx). */
static int post_cached(llm_worker *w, const char *url, int pooled, const cJSON *body,
                       const char *keytext, const char *what, parse_fn parse, void *out,
                       llm_response *err_out, llm_call *call, pe_err *e)
{
    llm_client *c = w->c;
    char hex[65], *data = NULL, *text;
    size_t len = 0;
    int rc;
    http_response hr;
    validate_ctx vc = {parse, out};
    http_hooks hooks = {llm_gate_before, llm_gate_after, c->gate, validate_cb, &vc};

    if (c->cfg.cache) {
        cache_key(keytext, hex);
        if (cache_get(c->cfg.cache, hex, &data, &len)) {
            rc = parse(data, len, out, NULL);
            free(data);
            if (rc == 0) {
                call->cached = 1;
                llm_count(c, &c->tot.cache_hits, 1);
                return 0;
            }
        }
        note_corrupt(c);
        llm_count(c, &c->tot.cache_misses, 1);
        if (c->cfg.verbose >= 2) /* what the key was made of, to debug unexpected misses */
            llm_logf(c, "cache miss %.16s for %s: %.300s", hex, what, keytext);
        if (cache_get_mode(c->cfg.cache) == CACHE_OFFLINE)
            return pe_errf(e, PE_EXIT_RUNERRORS, "cache miss in offline cache mode for %s "
                           "(key %.16s)", what, hex);
    }
    if (!handle(w, e))
        return PE_EXIT_INTERNAL;
    text = jsonu_print(body);
    if (pooled)
        rc = post_pooled(w, url, text, &hooks, &hr, e);
    else
        rc = http_post(w->state, &c->cfg.http, url, c->api_key, (const char *const *)c->headers,
                       c->cfg.nheaders, text, strlen(text), &hooks, &hr, e);
    free(text);
    call->reached = hr.attempts > 0;
    call->status = hr.status;
    call->dead = hr.status == 0 && http_curl_dead(hr.curl_code);
    call->retries += hr.retries;
    call->invalid += hr.invalid;
    call->bytes_sent += hr.bytes_sent;
    call->bytes_received += hr.bytes_received;
    if (rc != 0) {
        err_out->http_status = hr.status;
        if (hr.body && hr.len) {
            char *raw = xstrndup(hr.body, hr.len < ERROR_RAW_MAX ? hr.len : ERROR_RAW_MAX);
            err_out->error_raw = redact(raw);
            free(raw);
        }
        log_failure(c, e->msg, err_out->error_raw);
    } else if (c->cfg.cache) {
        pe_err ce = {0};
        if (cache_put(c->cfg.cache, hex, hr.body, hr.len, &ce) != 0)
            llm_logf(c, "%s", ce.msg);
    }
    http_response_free(&hr);
    return rc;
}

typedef struct chat_parse {
    llm_response *r;
    size_t max_calls;
} chat_parse;

static int parse_chat_cb(const char *body, size_t len, void *out, pe_err *e)
{
    chat_parse *p = out;
    int rc;
    llm_response_free(p->r);
    rc = llm_wire_parse_chat(body, len, p->max_calls, p->r, e);
    if (rc != 0)
        llm_response_free(p->r);
    return rc;
}

/* The minimal probe: one message, one tool without parameters. Returns its HTTP
 * status (0 when none arrived) and whether its error names tools. */
static long probe_tools(llm_worker *w, int *about_tools)
{
    llm_client *c = w->c;
    static const llm_msg msg = {LLM_USER, "Reply with the word ok.", NULL, 0, NULL};
    static const llm_tool tool = {"probe", "Does nothing.",
                                  "{\"type\":\"object\",\"properties\":{}}"};
    llm_request rq = {0};
    http_hooks hooks = {llm_gate_before, llm_gate_after, c->gate, NULL, NULL};
    http_response hr;
    pe_err e = {0};
    char *url = xasprintf("%s/chat/completions", c->base_url), *text;
    cJSON *b;
    long status;

    rq.msgs = &msg;
    rq.nmsgs = 1;
    rq.tools = &tool;
    rq.ntools = 1;
    rq.temperature = 0;
    rq.max_tokens = 8;
    b = llm_wire_chat_body(c->model, c->cfg.temperature, c->extra, &rq);
    text = jsonu_print(b);
    if (handle(w, &e))
        http_post(w->state, &c->cfg.http, url, c->api_key, (const char *const *)c->headers,
                  c->cfg.nheaders, text, strlen(text), &hooks, &hr, &e);
    else
        memset(&hr, 0, sizeof hr);
    status = hr.status;
    *about_tools = llm_wire_error_about_tools(hr.body, hr.len);
    http_response_free(&hr);
    free(text);
    free(url);
    cJSON_Delete(b);
    return status;
}

static void set_support(llm_client *c, llm_tool_support s, const char *why)
{
    int changed;
    pthread_mutex_lock(&c->mu);
    changed = c->tools == LLM_TOOLS_UNKNOWN && s != LLM_TOOLS_UNKNOWN;
    if (changed)
        c->tools = s;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (changed && s == LLM_TOOLS_TEXT)
        llm_logf(c, "the endpoint refuses native tool calls (%s): the text protocol is used "
                 "for the rest of the run", why);
}

/* After a request with tools failed with status and body: 1 when the endpoint
 * refuses tools (decided now or before). Context-length and other per-query
 * errors never decide; an ambiguous 400/422 is settled by one probe. */
static int tools_refused(llm_worker *w, long status, const char *body, size_t len)
{
    llm_client *c = w->c;
    llm_tool_support s;
    int about = 0;
    long ps;

    pthread_mutex_lock(&c->mu);
    s = c->tools;
    pthread_mutex_unlock(&c->mu);
    if (s != LLM_TOOLS_UNKNOWN)
        return s == LLM_TOOLS_TEXT;
    if (status < 400 || status >= 500 || http_status_retryable(status) ||
        llm_wire_error_about_context(body, len))
        return 0;
    if (llm_wire_error_about_tools(body, len)) {
        set_support(c, LLM_TOOLS_TEXT, "its error names tools");
        return 1;
    }
    if (status != 400 && status != 422)
        return 0;
    pthread_mutex_lock(&c->mu);
    while (c->probing)
        pthread_cond_wait(&c->cv, &c->mu);
    s = c->tools;
    if (s == LLM_TOOLS_UNKNOWN)
        c->probing = 1;
    pthread_mutex_unlock(&c->mu);
    if (s != LLM_TOOLS_UNKNOWN)
        return s == LLM_TOOLS_TEXT;
    ps = probe_tools(w, &about);
    pthread_mutex_lock(&c->mu);
    c->probing = 0;
    pthread_mutex_unlock(&c->mu);
    if (ps >= 200 && ps < 300)
        set_support(c, LLM_TOOLS_NATIVE, "");
    else if (ps == 400 || ps == 422 || about)
        set_support(c, LLM_TOOLS_TEXT, "a minimal request with one tool was refused");
    else
        set_support(c, LLM_TOOLS_UNKNOWN, "");
    pthread_mutex_lock(&c->mu);
    s = c->tools;
    pthread_mutex_unlock(&c->mu);
    return s == LLM_TOOLS_TEXT;
}

/* The cache key names the endpoint without its userinfo: no credential in a
 * key text (-vv logs it), and a changed password keeps the cache. */
static char *key_text(const llm_client *c, const char *url, const cJSON *body, double temp,
                      int rep)
{
    char *u = c->cfg.cache_shared ? NULL : redact_url(url), *k;
    k = llm_wire_key_text(u, body, temp, rep);
    free(u);
    return k;
}

char *llm_cache_key_text(const llm_client *c, const llm_request *rq)
{
    cJSON *b = llm_request_body(c, rq);
    char *url, *s;
    if (!b)
        return NULL;
    url = xasprintf("%s/chat/completions", c->base_url);
    s = key_text(c, url, b, rq->temperature >= 0 ? rq->temperature : c->cfg.temperature, rq->rep);
    free(url);
    cJSON_Delete(b);
    return s;
}

static const char *last_user_text(const llm_request *rq)
{
    for (size_t i = rq->nmsgs; i-- > 0;)
        if (rq->msgs[i].role == LLM_USER && rq->msgs[i].content)
            return rq->msgs[i].content;
    return "";
}

static int http_chat(llm_worker *w, const llm_request *rq, llm_response *out, llm_call *call,
                     pe_err *e)
{
    llm_client *c = w->c;
    double temp = rq->temperature >= 0 ? rq->temperature : c->cfg.temperature;
    cJSON *body = llm_wire_chat_body(c->model, c->cfg.temperature, c->extra, rq);
    char *url, *key = NULL, what[160];
    chat_parse cp = {out, rq->max_tool_calls};
    int rc;

    if (!body)
        return pe_errf(e, PE_EXIT_USAGE, "llm: a tool's parameters are not a JSON object");
    url = xasprintf("%s/chat/completions", c->base_url);
    if (c->cfg.cache)
        key = key_text(c, url, body, temp, rq->rep);
    snprintf(what, sizeof what, "the request whose last user message starts \"%.50s\"",
             last_user_text(rq));
    rc = post_cached(w, "/chat/completions", 1, body, key, what, parse_chat_cb, &cp, out, call,
                     e);
    if (rc == 0 && rq->ntools && !call->cached)
        set_support(c, LLM_TOOLS_NATIVE, "");
    if (rc != 0 && rq->ntools && call->reached) {
        char *raw = out->error_raw;
        out->tools_rejected = tools_refused(w, out->http_status, raw, raw ? strlen(raw) : 0);
        if (out->tools_rejected)
            pe_err_prefix(e, "the endpoint refuses tools (the text protocol is used): ");
    }
    cJSON_Delete(body);
    free(url);
    free(key);
    return rc;
}

typedef struct embed_parse {
    size_t n, dim;
    float *v;
} embed_parse;

static int parse_embed_cb(const char *body, size_t len, void *out, pe_err *e)
{
    embed_parse *p = out;
    free(p->v);
    p->v = NULL;
    return llm_wire_parse_embed(body, len, p->n, &p->v, &p->dim, e);
}

static int http_embed(llm_worker *w, const char *const *texts, size_t n, float **vecs,
                      size_t *dim, llm_call *call, pe_err *e)
{
    llm_client *c = w->c;
    char *url = xasprintf("%s/embeddings", c->embed_base_url);
    size_t batch = c->cfg.embed_batch, d = 0;
    float *all = NULL;
    int rc = 0;

    for (size_t s = 0; s < n && rc == 0; s += batch) {
        size_t m = n - s < batch ? n - s : batch;
        cJSON *b = llm_wire_embed_body(c->embed_model, texts + s, m);
        embed_parse ep = {m, 0, NULL};
        llm_response dummy = {0};
        char *key = NULL;

        if (c->cfg.cache)
            key = key_text(c, url, b, 0, 0);
        rc = post_cached(w, url, 0, b, key, "the embeddings request", parse_embed_cb, &ep, &dummy,
                         call, e);
        llm_count(c, &c->tot.embed_calls, 1);
        if (rc == 0 && d && ep.dim != d)
            rc = pe_errf(e, PE_EXIT_RUNERRORS, "embeddings: dimension changed from %zu to %zu",
                         d, ep.dim);
        if (rc == 0) {
            if (!d) {
                d = ep.dim;
                all = xcalloc(n * d, sizeof *all);
            }
            memcpy(all + s * d, ep.v, m * d * sizeof *all);
        }
        free(ep.v);
        free(key);
        llm_response_free(&dummy);
        cJSON_Delete(b);
    }
    free(url);
    if (rc) {
        free(all);
        return rc;
    }
    *vecs = all;
    *dim = d;
    return 0;
}

static void http_worker_free(void *state)
{
    http_handle_free(state);
}

const llm_backend_ops llm_backend_http = {"http", http_chat, http_embed, http_worker_free};
