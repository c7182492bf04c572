#include "llm.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "jsonu.h"
#include "offline.h"

#define FATAL_EARLY_N 3
#define ERROR_RAW_MAX 500

struct llm_client {
    llm_config cfg; /* strings below replace the borrowed ones */
    char *base_url, *model, *api_key, *embed_base_url, *embed_model;
    char **headers;
    cJSON *extra;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    llm_totals tot;
    /* adaptive in-flight gate */
    int inflight, cap, ceiling;
    double last_429, last_change;
    /* rps pacing */
    double next_slot;
    /* fatal-early detector */
    int completed, succeeded, same, fatal;
    long first_status;
    char fatal_msg[1200];
};

struct llm_worker {
    llm_client *c;
    http_handle *h;
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

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static char *trim_slash(const char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == '/')
        n--;
    return xstrndup(s, n);
}

llm_client *llm_client_new(const llm_config *cfg, pe_err *e)
{
    llm_client *c = xcalloc(1, sizeof *c);

    c->cfg = *cfg;
    if (cfg->backend == LLM_BACKEND_HTTP) {
        if (!cfg->base_url || !*cfg->base_url) {
            free(c);
            pe_errf(e, PE_EXIT_USAGE, "llm: no endpoint base URL (--base-url)");
            return NULL;
        }
        if (!cfg->model || !*cfg->model) {
            free(c);
            pe_errf(e, PE_EXIT_USAGE, "llm: no model name (--model)");
            return NULL;
        }
    }
    if (cfg->extra_body && *cfg->extra_body) {
        size_t off = 0;
        c->extra = jsonu_parse(cfg->extra_body, strlen(cfg->extra_body), &off);
        if (!cJSON_IsObject(c->extra)) {
            cJSON_Delete(c->extra);
            free(c);
            pe_errf(e, PE_EXIT_USAGE, "llm: extra_body:%zu: must be a JSON object", off + 1);
            return NULL;
        }
    }
    if (http_global_init(e) != 0) {
        cJSON_Delete(c->extra);
        free(c);
        return NULL;
    }
    c->base_url = cfg->base_url ? trim_slash(cfg->base_url) : xstrdup("");
    c->embed_base_url = cfg->embed_base_url && *cfg->embed_base_url
                            ? trim_slash(cfg->embed_base_url) : xstrdup(c->base_url);
    c->model = xstrdup(cfg->model ? cfg->model : "offline");
    c->embed_model = xstrdup(cfg->embed_model && *cfg->embed_model ? cfg->embed_model : c->model);
    c->api_key = dup_or_null(cfg->api_key);
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
    c->cap = cfg->max_inflight > 0 ? cfg->max_inflight : 0;
    c->ceiling = c->cap;
    c->last_429 = c->last_change = -1e9;
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
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

llm_worker *llm_worker_new(llm_client *c)
{
    llm_worker *w = xcalloc(1, sizeof *w);
    w->c = c; /* the HTTP handle is made on first network use: cache hits need none */
    return w;
}

llm_client *llm_worker_client(const llm_worker *w)
{
    return w->c;
}

double llm_cost(const llm_client *c, const llm_response *r)
{
    if (!r->usage.known)
        return -1;
    return ((double)r->usage.prompt_tokens * c->cfg.price_in +
            (double)r->usage.completion_tokens * c->cfg.price_out) / 1e6;
}

void llm_worker_free(llm_worker *w)
{
    if (!w)
        return;
    http_handle_free(w->h);
    free(w);
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

/* ---- request body ---------------------------------------------------------------- */

static const char *role_name(llm_role r)
{
    static const char *const names[] = {"system", "user", "assistant", "tool"};
    return names[r];
}

static cJSON *message_json(const llm_msg *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "role", role_name(m->role));
    if (m->content)
        cJSON_AddStringToObject(o, "content", m->content);
    else
        cJSON_AddNullToObject(o, "content");
    if (m->role == LLM_ASSISTANT && m->ntool_calls) {
        cJSON *arr = cJSON_AddArrayToObject(o, "tool_calls");
        for (size_t i = 0; i < m->ntool_calls; i++) {
            const llm_tool_call *tc = &m->tool_calls[i];
            cJSON *c = cJSON_CreateObject(), *f;
            cJSON_AddStringToObject(c, "id", tc->id ? tc->id : "");
            cJSON_AddStringToObject(c, "type", "function");
            f = cJSON_AddObjectToObject(c, "function");
            cJSON_AddStringToObject(f, "name", tc->name ? tc->name : "");
            cJSON_AddStringToObject(f, "arguments", tc->arguments ? tc->arguments : "{}");
            cJSON_AddItemToArray(arr, c);
        }
    }
    if (m->role == LLM_TOOL)
        cJSON_AddStringToObject(o, "tool_call_id", m->tool_call_id ? m->tool_call_id : "");
    return o;
}

cJSON *llm_request_body(const llm_client *c, const llm_request *rq)
{
    cJSON *b = cJSON_CreateObject(), *arr, *it;
    double t = rq->temperature >= 0 ? rq->temperature : c->cfg.temperature;

    cJSON_AddStringToObject(b, "model", c->model);
    arr = cJSON_AddArrayToObject(b, "messages");
    for (size_t i = 0; i < rq->nmsgs; i++)
        cJSON_AddItemToArray(arr, message_json(&rq->msgs[i]));
    cJSON_AddNumberToObject(b, "temperature", t);
    if (rq->max_tokens > 0)
        cJSON_AddNumberToObject(b, "max_tokens", rq->max_tokens);
    if (rq->has_seed)
        cJSON_AddNumberToObject(b, "seed", (double)rq->seed);
    if (rq->nstop) {
        arr = cJSON_AddArrayToObject(b, "stop");
        for (size_t i = 0; i < rq->nstop; i++)
            cJSON_AddItemToArray(arr, cJSON_CreateString(rq->stop[i]));
    }
    if (rq->ntools) {
        arr = cJSON_AddArrayToObject(b, "tools");
        for (size_t i = 0; i < rq->ntools; i++) {
            const llm_tool *tl = &rq->tools[i];
            cJSON *o = cJSON_CreateObject(), *f, *p;
            size_t off = 0;
            p = tl->parameters ? jsonu_parse(tl->parameters, strlen(tl->parameters), &off)
                               : cJSON_Parse("{\"type\":\"object\",\"properties\":{}}");
            if (!cJSON_IsObject(p)) {
                cJSON_Delete(p);
                cJSON_Delete(o);
                cJSON_Delete(b);
                return NULL;
            }
            cJSON_AddStringToObject(o, "type", "function");
            f = cJSON_AddObjectToObject(o, "function");
            cJSON_AddStringToObject(f, "name", tl->name);
            if (tl->description)
                cJSON_AddStringToObject(f, "description", tl->description);
            cJSON_AddItemToObject(f, "parameters", p);
            cJSON_AddItemToArray(arr, o);
        }
    }
    if (rq->tool_choice) {
        const char *tc = rq->tool_choice;
        if (!strcmp(tc, "auto") || !strcmp(tc, "none") || !strcmp(tc, "required")) {
            cJSON_AddStringToObject(b, "tool_choice", tc);
        } else {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "type", "function");
            cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "function"), "name", tc);
            cJSON_AddItemToObject(b, "tool_choice", o);
        }
    }
    if (c->extra) {
        cJSON_ArrayForEach(it, c->extra) {
            cJSON_DeleteItemFromObjectCaseSensitive(b, it->string);
            cJSON_AddItemToObject(b, it->string, cJSON_Duplicate(it, 1));
        }
    }
    return b;
}

/* The cache key object: format version, endpoint (unless shared), the body and
 * the repetition index when sampling is not (near) deterministic. */
static char *key_text(const llm_client *c, const char *url, const cJSON *body, double temp,
                      int rep)
{
    cJSON *k = cJSON_CreateObject();
    char *s;
    cJSON_AddNumberToObject(k, "v", CACHE_FORMAT_VERSION);
    if (!c->cfg.cache_shared)
        cJSON_AddStringToObject(k, "endpoint", url);
    cJSON_AddItemReferenceToObject(k, "request", (cJSON *)body);
    if (temp > 0)
        cJSON_AddNumberToObject(k, "rep", rep);
    s = cache_canonical(k);
    cJSON_Delete(k);
    return s;
}

char *llm_cache_key_text(const llm_client *c, const llm_request *rq)
{
    cJSON *b = llm_request_body(c, rq);
    char *url, *s;
    if (!b)
        return NULL;
    url = xasprintf("%s/chat/completions", c->base_url);
    s = key_text(c, url, b, rq->temperature >= 0 ? rq->temperature : c->cfg.temperature,
                 rq->rep);
    free(url);
    cJSON_Delete(b);
    return s;
}

/* ---- response parsing ------------------------------------------------------------ */

/* Split text into the answer and reasoning: <think>...</think> blocks, an
 * unclosed <think> (to the end) and text before a lone </think> are reasoning. */
static void split_think(const char *s, char **answer, char **reasoning)
{
    buf a = BUF_INIT, r = BUF_INIT;
    const char *p = s, *open, *close;

    close = strstr(s, "</think>");
    open = strstr(s, "<think>");
    if (close && (!open || close < open)) {
        buf_add(&r, s, (size_t)(close - s));
        p = close + 8;
    }
    while ((open = strstr(p, "<think>"))) {
        buf_add(&a, p, (size_t)(open - p));
        close = strstr(open + 7, "</think>");
        if (r.len)
            buf_addc(&r, '\n');
        if (!close) {
            buf_adds(&r, open + 7);
            p = open + strlen(open);
            break;
        }
        buf_add(&r, open + 7, (size_t)(close - open - 7));
        p = close + 8;
    }
    buf_adds(&a, p);
    *answer = pe_strip(buf_str(&a));
    *reasoning = r.len ? pe_strip(buf_str(&r)) : NULL;
    buf_free(&a);
    buf_free(&r);
}

static char *content_text(const cJSON *c)
{
    if (cJSON_IsString(c))
        return xstrdup(c->valuestring);
    if (cJSON_IsArray(c)) { /* [{"type":"text","text":"..."}] */
        buf b = BUF_INIT;
        const cJSON *it;
        cJSON_ArrayForEach(it, c) {
            const char *t = jsonu_str(it, "text");
            if (t)
                buf_adds(&b, t);
        }
        return buf_detach(&b);
    }
    return NULL;
}

static void parse_args(llm_tool_call *tc, const cJSON *a)
{
    size_t off = 0;
    if (cJSON_IsObject(a)) {
        tc->arguments = jsonu_print(a);
        tc->args = cJSON_Duplicate(a, 1);
        return;
    }
    if (!cJSON_IsString(a) || !a->valuestring[strspn(a->valuestring, " \t\r\n")]) {
        tc->arguments = xstrdup("{}");
        tc->args = cJSON_CreateObject();
        return;
    }
    tc->arguments = xstrdup(a->valuestring);
    tc->args = jsonu_parse(tc->arguments, strlen(tc->arguments), &off);
    if (!tc->args) {
        tc->args_error = xasprintf("tool \"%s\": arguments are not valid JSON (error at byte "
                                   "%zu); send a JSON object", tc->name, off + 1);
    } else if (!cJSON_IsObject(tc->args)) {
        tc->args_error = xasprintf("tool \"%s\": arguments must be a JSON object, not %s",
                                   tc->name, jsonu_type(tc->args));
        cJSON_Delete(tc->args);
        tc->args = NULL;
    }
}

static void parse_tool_calls(const cJSON *arr, llm_response *out)
{
    const cJSON *it;
    size_t n = 0;
    cJSON_ArrayForEach(it, arr) n++;
    if (!n)
        return;
    out->tool_calls = xcalloc(n, sizeof *out->tool_calls);
    cJSON_ArrayForEach(it, arr) {
        llm_tool_call *tc = &out->tool_calls[out->ntool_calls];
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(it, "function");
        const char *id = jsonu_str(it, "id"), *name = jsonu_str(f, "name");
        if (!cJSON_IsObject(f))
            continue;
        tc->id = xasprintf("%s", id ? id : "");
        if (!*tc->id) {
            free(tc->id);
            tc->id = xasprintf("call_%zu", out->ntool_calls);
        }
        tc->name = xstrdup(name ? name : "");
        parse_args(tc, cJSON_GetObjectItemCaseSensitive(f, "arguments"));
        out->ntool_calls++;
    }
}

int llm_parse_chat(const char *body, size_t len, llm_response *out, pe_err *e)
{
    size_t off = 0;
    cJSON *j = jsonu_parse(body, len, &off);
    const cJSON *ch, *msg, *u;
    char *text, *reason = NULL;
    const char *rc;

    if (!j)
        return pe_errf(e, PE_EXIT_RUNERRORS, "malformed JSON in the response at byte %zu",
                       off + 1);
    ch = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "choices"), 0);
    msg = cJSON_GetObjectItemCaseSensitive(ch, "message");
    if (!cJSON_IsObject(msg)) {
        cJSON_Delete(j);
        return pe_errf(e, PE_EXIT_RUNERRORS, "response has no choices[0].message object");
    }
    text = content_text(cJSON_GetObjectItemCaseSensitive(msg, "content"));
    rc = jsonu_str(msg, "reasoning_content");
    if (!rc)
        rc = jsonu_str(msg, "reasoning");
    if (text) {
        char *ans;
        split_think(text, &ans, &reason);
        free(text);
        out->content = ans;
    }
    if (rc && *rc) {
        char *both = reason ? xasprintf("%s\n%s", rc, reason) : xstrdup(rc);
        free(reason);
        reason = both;
    }
    out->reasoning = reason;
    parse_tool_calls(cJSON_GetObjectItemCaseSensitive(msg, "tool_calls"), out);
    out->finish_reason = dup_or_null(jsonu_str(ch, "finish_reason"));
    out->model = dup_or_null(jsonu_str(j, "model"));
    out->system_fingerprint = dup_or_null(jsonu_str(j, "system_fingerprint"));
    u = cJSON_GetObjectItemCaseSensitive(j, "usage");
    if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens")) &&
        cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(u, "completion_tokens"))) {
        out->usage.known = 1;
        out->usage.prompt_tokens = (long)cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens")->valuedouble;
        out->usage.completion_tokens = (long)cJSON_GetObjectItemCaseSensitive(u, "completion_tokens")->valuedouble;
    }
    cJSON_Delete(j);
    return 0;
}

/* -v: a failed request and the start of its body, with the key never shown
 * even if the server echoed it. */
static void log_failure(llm_client *c, const char *msg, const char *raw)
{
    buf b = BUF_INIT;
    const char *p;
    if (c->cfg.verbose < 1 || !c->cfg.log)
        return;
    buf_printf(&b, "request failed: %s; body: %s", msg, raw ? raw : "(none)");
    if (c->api_key && *c->api_key) {
        size_t kl = strlen(c->api_key);
        while ((p = strstr(buf_str(&b), c->api_key)) != NULL) {
            buf rest = BUF_INIT;
            size_t at = (size_t)(p - b.data);
            buf_adds(&rest, p + kl);
            b.len = at;
            b.data[at] = '\0';
            buf_adds(&b, "<redacted>");
            buf_adds(&b, buf_str(&rest));
            buf_free(&rest);
        }
    }
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] == '\n' || b.data[i] == '\r')
            b.data[i] = ' ';
    c->cfg.log(c->cfg.log_ctx, buf_str(&b));
    buf_free(&b);
}

/* ---- gate, rate limit, fatal-early ---------------------------------------------- */

static void logf_client(llm_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_client(llm_client *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    if (!c->cfg.log)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->cfg.log(c->cfg.log_ctx, msg);
}

static void sleep_until(double t)
{
    double d = t - pe_now();
    struct timespec ts;
    if (d <= 0)
        return;
    ts.tv_sec = (time_t)d;
    ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void gate_before(void *ctx)
{
    llm_client *c = ctx;
    double now = pe_now(), slot = 0;

    pthread_mutex_lock(&c->mu);
    if (c->cfg.rps > 0) {
        slot = c->next_slot > now ? c->next_slot : now;
        c->next_slot = slot + 1.0 / c->cfg.rps;
    }
    pthread_mutex_unlock(&c->mu);
    sleep_until(slot);
    pthread_mutex_lock(&c->mu);
    for (;;) {
        now = pe_now();
        /* grow back only after a shrink (cap below the ceiling it came from) */
        if (c->cap > 0 && c->cap < c->ceiling && now - c->last_429 >= c->cfg.recover_s &&
            now - c->last_change >= c->cfg.recover_s) {
            c->cap++;
            c->last_change = now;
            if (c->cap >= c->ceiling) {
                logf_client(c, "no HTTP 429 for %.0f s: in-flight cap restored", c->cfg.recover_s);
                c->cap = c->cfg.max_inflight > 0 ? c->cfg.max_inflight : 0;
            } else {
                logf_client(c, "no HTTP 429 for %.0f s: in-flight cap raised to %d",
                            c->cfg.recover_s, c->cap);
            }
            pthread_cond_broadcast(&c->cv);
        }
        if (c->cap <= 0 || c->inflight < c->cap)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    }
    c->inflight++;
    c->tot.http_requests++;
    pthread_mutex_unlock(&c->mu);
}

static void gate_after(void *ctx, long status, int curl_code)
{
    llm_client *c = ctx;
    double now = pe_now();
    (void)curl_code;
    pthread_mutex_lock(&c->mu);
    c->inflight--;
    if (status == 429) {
        c->tot.rate_limited++;
        /* One shrink per episode: 429s within a second of the last shrink belong to it. */
        if (now - c->last_429 > 1.0 || c->cap == 0) {
            int from = c->cap > 0 ? c->cap : c->inflight + 1;
            int to = (int)(from * 0.8);
            if (to < 1)
                to = 1;
            if (c->ceiling < from)
                c->ceiling = from;
            if (to != c->cap) {
                c->cap = to;
                logf_client(c, "HTTP 429 from the endpoint: in-flight cap %d -> %d", from, to);
            }
            c->last_change = now;
        }
        c->last_429 = now;
    }
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Record how a request ended; returns 1 when the run must stop. */
static int fatal_early_update(llm_client *c, int ok, long status, int tools_rejected,
                              const char *msg)
{
    int fatal;
    pthread_mutex_lock(&c->mu);
    if (!c->fatal && !c->succeeded && c->completed < FATAL_EARLY_N) {
        /* a non-retryable 4xx (key, model, path), or no answer at all after every
         * retry (wrong host or port) */
        int counts = !ok && !tools_rejected &&
                     ((status >= 400 && status < 500 && !http_status_retryable(status)) ||
                      status == 0);
        c->completed++;
        if (ok) {
            c->succeeded = 1;
        } else if (c->completed == 1) {
            c->first_status = status;
            c->same = counts;
        } else if (!counts || status != c->first_status) {
            c->same = 0;
        }
        if (c->completed == FATAL_EARLY_N && c->same) {
            c->fatal = 1;
            snprintf(c->fatal_msg, sizeof c->fatal_msg,
                     "the first %d requests to the endpoint failed with the same error; "
                     "stopping (check the base URL, the key and the model): %.900s",
                     FATAL_EARLY_N, msg);
        }
    } else if (ok) {
        c->succeeded = 1;
    }
    fatal = c->fatal;
    pthread_mutex_unlock(&c->mu);
    return fatal;
}

/* ---- the call -------------------------------------------------------------------- */

static void account(llm_client *c, const llm_response *r, int ok, const http_response *hr)
{
    pthread_mutex_lock(&c->mu);
    c->tot.calls++;
    if (!ok)
        c->tot.errors++;
    if (hr) {
        c->tot.retries += (unsigned long)hr->retries;
        c->tot.bytes_sent += hr->bytes_sent;
        c->tot.bytes_received += hr->bytes_received;
    }
    if (ok) {
        if (r->usage.known) {
            c->tot.prompt_tokens += (unsigned long long)r->usage.prompt_tokens;
            c->tot.completion_tokens += (unsigned long long)r->usage.completion_tokens;
            c->tot.cost_usd += (r->usage.prompt_tokens * c->cfg.price_in +
                                r->usage.completion_tokens * c->cfg.price_out) / 1e6;
        } else {
            c->tot.unknown_usage++;
        }
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

static const char *last_user_text(const llm_request *rq)
{
    for (size_t i = rq->nmsgs; i-- > 0;)
        if (rq->msgs[i].role == LLM_USER && rq->msgs[i].content)
            return rq->msgs[i].content;
    return "";
}

typedef int (*parse_fn)(const char *body, size_t len, void *out, pe_err *e);

/* POST body to url through the cache. On success the parsed result is in
 * out (parse called once); *cached tells where it came from. */
static int post_cached(llm_worker *w, const char *url, const cJSON *body, const char *keytext,
                       const char *what, parse_fn parse, void *out, llm_response *err_out,
                       int *cached, http_response *hr, pe_err *e)
{
    llm_client *c = w->c;
    char hex[65], *data = NULL, *text;
    size_t len = 0;
    int rc;
    http_hooks hooks = {gate_before, gate_after, c};

    *cached = 0;
    memset(hr, 0, sizeof *hr);
    if (c->cfg.cache) {
        cache_key(keytext, hex);
        if (cache_get(c->cfg.cache, hex, &data, &len)) {
            rc = parse(data, len, out, NULL);
            free(data);
            if (rc == 0) {
                *cached = 1;
                pthread_mutex_lock(&c->mu);
                c->tot.cache_hits++;
                pthread_mutex_unlock(&c->mu);
                return 0;
            }
        }
        pthread_mutex_lock(&c->mu);
        c->tot.cache_misses++;
        pthread_mutex_unlock(&c->mu);
        if (c->cfg.verbose >= 2) /* what the key was made of, to debug unexpected misses */
            logf_client(c, "cache miss %.16s for %s: %.300s", hex, what, keytext);
        if (cache_get_mode(c->cfg.cache) == CACHE_OFFLINE)
            return pe_errf(e, PE_EXIT_RUNERRORS, "cache miss in offline cache mode for %s "
                           "(key %.16s)", what, hex);
    }
    if (!w->h && !(w->h = http_handle_new()))
        return pe_errf(e, PE_EXIT_INTERNAL, "libcurl: cannot create a handle");
    text = jsonu_print(body);
    rc = http_post(w->h, &c->cfg.http, url, c->api_key, (const char *const *)c->headers,
                   c->cfg.nheaders, text, strlen(text), &hooks, hr, e);
    free(text);
    if (rc != 0) {
        err_out->http_status = hr->status;
        if (hr->body && hr->len)
            err_out->error_raw = xstrndup(hr->body, hr->len < ERROR_RAW_MAX ? hr->len
                                                                              : ERROR_RAW_MAX);
        log_failure(c, e->msg, err_out->error_raw);
        return rc;
    }
    rc = parse(hr->body, hr->len, out, e);
    if (rc != 0) {
        pe_err_prefix(e, "%s: ", url);
        err_out->http_status = hr->status;
        err_out->error_raw = xstrndup(hr->body, hr->len < ERROR_RAW_MAX ? hr->len : ERROR_RAW_MAX);
        log_failure(c, e->msg, err_out->error_raw);
        return rc;
    }
    if (c->cfg.cache) {
        pe_err ce = {0};
        if (cache_put(c->cfg.cache, hex, hr->body, hr->len, &ce) != 0)
            logf_client(c, "%s", ce.msg);
    }
    return 0;
}

static int parse_chat_cb(const char *body, size_t len, void *out, pe_err *e)
{
    llm_response *r = out;
    int rc = llm_parse_chat(body, len, r, e);
    if (rc != 0)
        llm_response_free(r);
    return rc;
}

static int is_tools_rejection(const llm_request *rq, long status, const char *body, size_t len)
{
    char *msg;
    int hit;
    if (!rq->ntools || status < 400 || status >= 500 || http_status_retryable(status))
        return 0;
    if (status == 400 || status == 422)
        return 1;
    msg = http_error_text(body, len);
    hit = msg && pe_strcasestr(msg, "tool");
    free(msg);
    return hit;
}

int llm_chat(llm_worker *w, const llm_request *rq, llm_response *out, pe_err *e)
{
    llm_client *c = w->c;
    cJSON *body;
    char *url, *key = NULL, what[160];
    http_response hr;
    int rc, cached = 0, fatal;
    double temp = rq->temperature >= 0 ? rq->temperature : c->cfg.temperature;
    pe_err local = {0};

    if (!e)
        e = &local;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&c->mu);
    fatal = c->fatal;
    pthread_mutex_unlock(&c->mu);
    if (fatal)
        return pe_errf(e, PE_EXIT_UNAVAILABLE, "%s", c->fatal_msg);
    if (c->cfg.backend == LLM_BACKEND_OFFLINE) {
        rc = offline_chat(rq, out, e);
        if (rc == 0)
            estimate(rq, out);
        account(c, out, rc == 0, NULL);
        return rc;
    }
    body = llm_request_body(c, rq);
    if (!body)
        return pe_errf(e, PE_EXIT_USAGE, "llm: a tool's parameters are not a JSON object");
    url = xasprintf("%s/chat/completions", c->base_url);
    if (c->cfg.cache)
        key = key_text(c, url, body, temp, rq->rep);
    snprintf(what, sizeof what, "the request whose last user message starts \"%.50s\"",
             last_user_text(rq));
    rc = post_cached(w, url, body, key, what, parse_chat_cb, out, out, &cached, &hr, e);
    if (rc == 0) {
        out->cached = cached;
        estimate(rq, out);
    } else if (hr.attempts) {
        out->tools_rejected = is_tools_rejection(rq, hr.status, hr.body, hr.len);
        if (out->tools_rejected)
            pe_err_prefix(e, "the server rejected the tools (use text tool mode): ");
    }
    if (!cached && (rc == 0 || hr.attempts) &&
        fatal_early_update(c, rc == 0, rc == 0 ? 200 : hr.status, out->tools_rejected, e->msg) &&
        rc != 0)
        rc = pe_errf(e, PE_EXIT_UNAVAILABLE, "%s", c->fatal_msg);
    account(c, out, rc == 0, &hr);
    http_response_free(&hr);
    cJSON_Delete(body);
    free(url);
    free(key);
    return rc;
}

/* ---- embeddings ------------------------------------------------------------------ */

typedef struct embed_out {
    size_t n, dim;
    float *v;
} embed_out;

static int parse_embed_cb(const char *body, size_t len, void *out, pe_err *e)
{
    embed_out *eo = out;
    size_t off = 0, i = 0;
    cJSON *j = jsonu_parse(body, len, &off);
    const cJSON *d, *it;
    int rc = 0;

    if (!j)
        return pe_errf(e, PE_EXIT_RUNERRORS, "malformed JSON in the response at byte %zu",
                       off + 1);
    d = cJSON_GetObjectItemCaseSensitive(j, "data");
    if (cJSON_GetArraySize(d) != (int)eo->n) {
        cJSON_Delete(j);
        return pe_errf(e, PE_EXIT_RUNERRORS, "embeddings: expected %zu vectors in \"data\", "
                       "got %d", eo->n, cJSON_GetArraySize(d));
    }
    eo->dim = 0;
    cJSON_ArrayForEach(it, d) {
        const cJSON *emb = cJSON_GetObjectItemCaseSensitive(it, "embedding"), *x;
        const cJSON *idx = cJSON_GetObjectItemCaseSensitive(it, "index");
        size_t row = cJSON_IsNumber(idx) ? (size_t)idx->valuedouble : i, k = 0;
        size_t dim = (size_t)cJSON_GetArraySize(emb);
        if (!cJSON_IsArray(emb) || !dim || row >= eo->n || (eo->dim && dim != eo->dim)) {
            rc = pe_errf(e, PE_EXIT_RUNERRORS, "embeddings: data[%zu] has a bad index or "
                         "embedding", i);
            break;
        }
        if (!eo->dim) {
            eo->dim = dim;
            eo->v = xcalloc(eo->n * dim, sizeof *eo->v);
        }
        cJSON_ArrayForEach(x, emb) eo->v[row * dim + k++] = (float)x->valuedouble;
        i++;
    }
    cJSON_Delete(j);
    if (rc) {
        free(eo->v);
        eo->v = NULL;
    }
    return rc;
}

int llm_embed(llm_worker *w, const char *const *texts, size_t n, int normalize, float **vecs,
              size_t *dim, pe_err *e)
{
    llm_client *c = w->c;
    char *url;
    size_t batch = c->cfg.embed_batch, d = 0;
    float *all = NULL;
    int rc = 0;

    *vecs = NULL;
    *dim = 0;
    if (c->cfg.backend != LLM_BACKEND_HTTP)
        return pe_errf(e, PE_EXIT_USAGE, "the offline responder computes no embeddings; use "
                       "the built-in lexical encoder");
    url = xasprintf("%s/embeddings", c->embed_base_url);
    for (size_t s = 0; s < n && rc == 0; s += batch) {
        size_t m = n - s < batch ? n - s : batch;
        cJSON *b = cJSON_CreateObject(), *in;
        embed_out eo = {m, 0, NULL};
        llm_response dummy = {0};
        http_response hr;
        char *key = NULL;
        int cached;

        cJSON_AddStringToObject(b, "model", c->embed_model);
        in = cJSON_AddArrayToObject(b, "input");
        for (size_t i = 0; i < m; i++)
            cJSON_AddItemToArray(in, cJSON_CreateString(texts[s + i]));
        if (c->cfg.cache)
            key = key_text(c, url, b, 0, 0);
        rc = post_cached(w, url, b, key, "the embeddings request", parse_embed_cb, &eo, &dummy,
                         &cached, &hr, e);
        if (rc == 0 && d && eo.dim != d)
            rc = pe_errf(e, PE_EXIT_RUNERRORS, "embeddings: dimension changed from %zu to %zu",
                         d, eo.dim);
        if (rc == 0) {
            if (!d) {
                d = eo.dim;
                all = xcalloc(n * d, sizeof *all);
            }
            memcpy(all + s * d, eo.v, m * d * sizeof *all);
        }
        pthread_mutex_lock(&c->mu);
        c->tot.retries += (unsigned long)hr.retries;
        c->tot.bytes_sent += hr.bytes_sent;
        c->tot.bytes_received += hr.bytes_received;
        if (rc)
            c->tot.errors++;
        pthread_mutex_unlock(&c->mu);
        free(eo.v);
        free(key);
        llm_response_free(&dummy);
        http_response_free(&hr);
        cJSON_Delete(b);
    }
    free(url);
    if (rc) {
        free(all);
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
    pthread_mutex_lock(&c->mu);
    *t = c->tot;
    pthread_mutex_unlock(&c->mu);
}

int llm_inflight_cap(llm_client *c)
{
    int cap;
    pthread_mutex_lock(&c->mu);
    cap = c->cap;
    pthread_mutex_unlock(&c->mu);
    return cap;
}
