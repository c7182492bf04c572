#include "llm_wire.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cache.h"
#include "jsonu.h"

/* Bodies larger than this are scanned for an oversized tool_calls array before
 * they are parsed, so that a flood of calls never becomes a tree of objects. */
#define SHRINK_MIN_BYTES (64 * 1024)

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* ---- request bodies --------------------------------------------------------------- */

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

static cJSON *tool_json(const llm_tool *tl)
{
    cJSON *o, *f, *p;
    size_t off = 0;
    p = tl->parameters ? jsonu_parse(tl->parameters, strlen(tl->parameters), &off)
                       : cJSON_Parse("{\"type\":\"object\",\"properties\":{}}");
    if (!cJSON_IsObject(p)) {
        cJSON_Delete(p);
        return NULL;
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "function");
    f = cJSON_AddObjectToObject(o, "function");
    cJSON_AddStringToObject(f, "name", tl->name);
    if (tl->description)
        cJSON_AddStringToObject(f, "description", tl->description);
    cJSON_AddItemToObject(f, "parameters", p);
    return o;
}

cJSON *llm_wire_chat_body(const char *model, double default_temp, const cJSON *extra,
                          const llm_request *rq)
{
    cJSON *b = cJSON_CreateObject(), *arr;
    const cJSON *it;
    double t = rq->temperature >= 0 ? rq->temperature : default_temp;

    cJSON_AddStringToObject(b, "model", model);
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
            cJSON *o = tool_json(&rq->tools[i]);
            if (!o) {
                cJSON_Delete(b);
                return NULL;
            }
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
    cJSON_ArrayForEach(it, extra) {
        cJSON_DeleteItemFromObjectCaseSensitive(b, it->string);
        cJSON_AddItemToObject(b, it->string, cJSON_Duplicate(it, 1));
    }
    return b;
}

cJSON *llm_wire_embed_body(const char *model, const char *const *texts, size_t n)
{
    cJSON *b = cJSON_CreateObject(), *in;
    cJSON_AddStringToObject(b, "model", model);
    in = cJSON_AddArrayToObject(b, "input");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(in, cJSON_CreateString(texts[i]));
    return b;
}

char *llm_wire_key_text(const char *url, const cJSON *body, double temp, int rep)
{
    cJSON *k = cJSON_CreateObject();
    char *s;
    cJSON_AddNumberToObject(k, "v", CACHE_FORMAT_VERSION);
    if (url)
        cJSON_AddStringToObject(k, "endpoint", url);
    cJSON_AddItemReferenceToObject(k, "request", (cJSON *)body);
    if (temp > 0)
        cJSON_AddNumberToObject(k, "rep", rep);
    s = cache_canonical(k);
    cJSON_Delete(k);
    return s;
}

/* ---- a minimal JSON scanner (positions only) for oversized tool_calls --------------- */

static const char *ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* The position after the JSON value at p, or NULL when malformed. */
static const char *skip_value(const char *p, const char *end)
{
    int depth = 0;
    p = ws(p, end);
    if (p >= end)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p != '{' && *p != '[') {
        while (p < end && !memchr(",}] \t\r\n", *p, 7))
            p++;
        return p;
    }
    while (p < end) {
        if (*p == '"') {
            if (!(p = skip_string(p, end)))
                return NULL;
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if ((*p == '}' || *p == ']') && --depth == 0)
            return p + 1;
        p++;
    }
    return NULL;
}

/* The value of key in the object at p (p at '{'), or NULL. */
static const char *member(const char *p, const char *end, const char *key)
{
    size_t kl = strlen(key);
    p = ws(p, end);
    if (p >= end || *p != '{')
        return NULL;
    p++;
    for (;;) {
        const char *k, *v;
        size_t klen;
        p = ws(p, end);
        if (p >= end || *p != '"')
            return NULL;
        k = p + 1;
        if (!(p = skip_string(p, end)))
            return NULL;
        klen = (size_t)(p - 1 - k);
        p = ws(p, end);
        if (p >= end || *p != ':')
            return NULL;
        v = ws(p + 1, end);
        if (klen == kl && !memcmp(k, key, kl))
            return v;
        if (!(p = skip_value(v, end)))
            return NULL;
        p = ws(p, end);
        if (p >= end || *p != ',')
            return NULL;
        p++;
    }
}

/* When choices[0].message.tool_calls has more than max elements, a copy of the
 * body with only the first max (NULL otherwise); *total = the element count. */
static char *shrink_tool_calls(const char *body, size_t len, size_t max, size_t *total)
{
    const char *end = body + len, *ch, *msg, *arr, *p, *cut = NULL, *close;
    size_t n = 0;
    buf b = BUF_INIT;

    *total = 0;
    if (!(ch = member(body, end, "choices")) || *ch != '[')
        return NULL;
    if (!(msg = member(ws(ch + 1, end), end, "message")))
        return NULL;
    if (!(arr = member(msg, end, "tool_calls")) || *arr != '[')
        return NULL;
    p = ws(arr + 1, end);
    if (p < end && *p == ']')
        return NULL;
    for (;;) {
        if (!(p = skip_value(p, end)))
            return NULL;
        if (++n == max)
            cut = p;
        p = ws(p, end);
        if (p >= end)
            return NULL;
        if (*p == ']')
            break;
        if (*p != ',')
            return NULL;
        p++;
    }
    close = p;
    *total = n;
    if (!cut || n <= max)
        return NULL;
    buf_add(&b, body, (size_t)(cut - body));
    buf_add(&b, close, (size_t)(end - close));
    return buf_detach(&b);
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

/* Replace each invalid UTF-8 sequence of s (taken) by U+FFFD; *n counts them. */
static char *fix_utf8(char *s, size_t *n)
{
    size_t len, bad, at = 0;
    buf b = BUF_INIT;
    if (!s)
        return NULL;
    len = strlen(s);
    if (pe_utf8_valid(s, len, &bad))
        return s;
    while (!pe_utf8_valid(s + at, len - at, &bad)) {
        buf_add(&b, s + at, bad);
        buf_adds(&b, "\xEF\xBF\xBD");
        at += bad + 1;
        (*n)++;
        while (at < len && ((unsigned char)s[at] & 0xC0) == 0x80)
            at++;
    }
    buf_adds(&b, s + at);
    free(s);
    return buf_detach(&b);
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

static void parse_tool_calls(const cJSON *arr, size_t max, llm_response *out)
{
    const cJSON *it;
    size_t n = 0;
    cJSON_ArrayForEach(it, arr) n++;
    if (out->ntool_calls_total < n)
        out->ntool_calls_total = n;
    if (!n)
        return;
    out->tool_calls = xcalloc(n < max ? n : max, sizeof *out->tool_calls);
    cJSON_ArrayForEach(it, arr) {
        llm_tool_call *tc = &out->tool_calls[out->ntool_calls];
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(it, "function");
        const char *id = jsonu_str(it, "id"), *name = jsonu_str(f, "name");
        if (out->ntool_calls == max)
            break;
        if (!cJSON_IsObject(f))
            continue;
        tc->id = xstrdup(id && *id ? id : "");
        if (!*tc->id) {
            free(tc->id);
            tc->id = xasprintf("call_%zu", out->ntool_calls);
        }
        tc->name = fix_utf8(xstrdup(name ? name : ""), &out->utf8_replaced);
        parse_args(tc, cJSON_GetObjectItemCaseSensitive(f, "arguments"));
        tc->arguments = fix_utf8(tc->arguments, &out->utf8_replaced);
        out->ntool_calls++;
    }
}

static void parse_function_call(const cJSON *fc, size_t max, llm_response *out)
{
    cJSON *arr, *call;
    if (!cJSON_IsObject(fc) || !jsonu_str(fc, "name"))
        return;
    arr = cJSON_CreateArray();
    call = cJSON_CreateObject();
    cJSON_AddItemToObject(call, "function", cJSON_Duplicate(fc, 1));
    cJSON_AddItemToArray(arr, call);
    parse_tool_calls(arr, max, out);
    cJSON_Delete(arr);
}

/* A "\u0000" escape outside an escaped backslash, or a raw NUL byte. */
static int holds_nul(const char *body, size_t len)
{
    if (memchr(body, 0, len))
        return 1;
    for (size_t i = 0; i + 5 < len; i++) {
        if (body[i] == '\\') {
            if (body[i + 1] == 'u' && !memcmp(body + i + 2, "0000", 4))
                return 1;
            i++; /* the escaped character */
        }
    }
    return 0;
}

/* A usage count: clamped to [0, LLM_USAGE_CLAMP]; *absurd when outside the sane range. */
static long usage_count(const cJSON *v, int *absurd)
{
    double d = v->valuedouble;
    if (!isfinite(d) || d < 0 || d > (double)LLM_USAGE_SANE_MAX)
        *absurd = 1;
    if (!(d >= 0))
        return 0;
    if (d >= (double)LLM_USAGE_CLAMP)
        return LLM_USAGE_CLAMP;
    return (long)d;
}

static void parse_usage(const cJSON *u, llm_response *out)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(u, "completion_tokens");
    int absurd = 0;
    if (!cJSON_IsNumber(p) || !cJSON_IsNumber(c))
        return;
    out->usage.prompt_tokens = usage_count(p, &absurd);
    out->usage.completion_tokens = usage_count(c, &absurd);
    out->usage.absurd = absurd;
    out->usage.known = !absurd;
    if (absurd)
        out->usage.prompt_tokens = out->usage.completion_tokens = 0;
}

static int parse_tree(const cJSON *j, size_t max, llm_response *out, pe_err *e)
{
    const cJSON *chs = cJSON_GetObjectItemCaseSensitive(j, "choices"), *ch, *msg, *content;
    char *text, *reason = NULL, *rc;
    const char *r;

    if (!cJSON_IsArray(chs) || !cJSON_GetArraySize(chs))
        return pe_errf(e, PE_EXIT_RUNERRORS, "invalid response: \"choices\" is not a "
                       "non-empty array");
    ch = cJSON_GetArrayItem(chs, 0);
    msg = cJSON_GetObjectItemCaseSensitive(ch, "message");
    if (!cJSON_IsObject(msg))
        return pe_errf(e, PE_EXIT_RUNERRORS, "invalid response: no choices[0].message object");
    content = cJSON_GetObjectItemCaseSensitive(msg, "content");
    parse_tool_calls(cJSON_GetObjectItemCaseSensitive(msg, "tool_calls"), max, out);
    if (!out->ntool_calls_total) /* the deprecated functions API: one function_call */
        parse_function_call(cJSON_GetObjectItemCaseSensitive(msg, "function_call"), max, out);
    text = content_text(content);
    if (!text && !out->ntool_calls)
        return pe_errf(e, PE_EXIT_RUNERRORS, "invalid response: the message has neither "
                       "string content nor tool calls (content is %s)", jsonu_type(content));
    r = jsonu_str(msg, "reasoning_content");
    if (!r)
        r = jsonu_str(msg, "reasoning");
    if (text) {
        char *ans;
        split_think(text, &ans, &reason);
        free(text);
        out->content = fix_utf8(ans, &out->utf8_replaced);
    }
    rc = r && *r ? (reason ? xasprintf("%s\n%s", r, reason) : xstrdup(r)) : NULL;
    if (rc) {
        free(reason);
        reason = rc;
    }
    out->reasoning = fix_utf8(reason, &out->utf8_replaced);
    out->finish_reason = dup_or_null(jsonu_str(ch, "finish_reason"));
    out->model = dup_or_null(jsonu_str(j, "model"));
    out->system_fingerprint = dup_or_null(jsonu_str(j, "system_fingerprint"));
    parse_usage(cJSON_GetObjectItemCaseSensitive(j, "usage"), out);
    return 0;
}

int llm_wire_parse_chat(const char *body, size_t len, size_t max_calls, llm_response *out,
                        pe_err *e)
{
    size_t off = 0, total = 0, max = max_calls ? max_calls : LLM_MAX_TOOL_CALLS;
    char *small = NULL;
    cJSON *j;
    int rc;

    if (holds_nul(body, len))
        return pe_errf(e, PE_EXIT_RUNERRORS, "invalid response: it holds a NUL character");
    if (len > SHRINK_MIN_BYTES && (small = shrink_tool_calls(body, len, max, &total)))
        out->ntool_calls_total = total;
    j = small ? jsonu_parse(small, strlen(small), &off) : jsonu_parse(body, len, &off);
    free(small);
    if (!j)
        return pe_errf(e, PE_EXIT_RUNERRORS, "malformed JSON in the response at byte %zu",
                       off + 1);
    rc = parse_tree(j, max, out, e);
    cJSON_Delete(j);
    return rc;
}

int llm_wire_parse_embed(const char *body, size_t len, size_t n, float **vecs, size_t *dim,
                         pe_err *e)
{
    size_t off = 0, i = 0, d = 0;
    cJSON *j = jsonu_parse(body, len, &off);
    const cJSON *data, *it;
    float *v = NULL;
    int rc = 0;

    *vecs = NULL;
    *dim = 0;
    if (!j)
        return pe_errf(e, PE_EXIT_RUNERRORS, "malformed JSON in the response at byte %zu",
                       off + 1);
    data = cJSON_GetObjectItemCaseSensitive(j, "data");
    if (!cJSON_IsArray(data) || cJSON_GetArraySize(data) != (int)n) {
        cJSON_Delete(j);
        return pe_errf(e, PE_EXIT_RUNERRORS, "embeddings: expected %zu vectors in \"data\", "
                       "got %d", n, cJSON_GetArraySize(data));
    }
    cJSON_ArrayForEach(it, data) {
        const cJSON *emb = cJSON_GetObjectItemCaseSensitive(it, "embedding"), *x;
        const cJSON *idx = cJSON_GetObjectItemCaseSensitive(it, "index");
        size_t row = cJSON_IsNumber(idx) && idx->valuedouble >= 0 ? (size_t)idx->valuedouble
                                                                   : i, k = 0;
        size_t m = (size_t)cJSON_GetArraySize(emb);
        if (!cJSON_IsArray(emb) || !m || row >= n || (d && m != d)) {
            rc = pe_errf(e, PE_EXIT_RUNERRORS, "embeddings: data[%zu] has a bad index or "
                         "embedding", i);
            break;
        }
        if (!d) {
            d = m;
            v = xcalloc(n * d, sizeof *v);
        }
        cJSON_ArrayForEach(x, emb) v[row * d + k++] = (float)x->valuedouble;
        i++;
    }
    cJSON_Delete(j);
    if (rc) {
        free(v);
        return rc;
    }
    *vecs = v;
    *dim = d;
    return 0;
}

static int error_mentions(const char *body, size_t len, const char *const *words)
{
    char *msg = body ? http_error_text(body, len) : NULL;
    int hit = 0;
    for (size_t i = 0; msg && words[i] && !hit; i++)
        hit = pe_strcasestr(msg, words[i]) != NULL;
    free(msg);
    return hit;
}

int llm_wire_error_about_context(const char *body, size_t len)
{
    /* "context" with a word saying it overflowed ("maximum context length", "exceeds the
     * available context size", "ContextWindowExceededError"), or the phrases of servers
     * that do not say "context" */
    static const char *const ctx[] = {"context", NULL};
    static const char *const over[] = {"length", "window", "size", "exceed", "maximum",
                                       "too long", NULL};
    static const char *const w[] = {"too many tokens", "prompt is too long",
                                    "reduce the length", NULL};
    return (error_mentions(body, len, ctx) && error_mentions(body, len, over)) ||
           error_mentions(body, len, w);
}

int llm_wire_error_about_tools(const char *body, size_t len)
{
    static const char *const w[] = {"tool", "function", NULL};
    return !llm_wire_error_about_context(body, len) && error_mentions(body, len, w);
}
