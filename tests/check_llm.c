/* llm: request bodies, response parsing, cache use, fatal-early stop, tools
 * rejection, adaptive in-flight cap, rate limit, embeddings and the secrecy of
 * the API key, against the loopback server. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "jsonu.h"
#include "buf.h"
#include "llm.h"
#include "loopback.h"
#include "testutil.h"

static const llm_msg HI[] = {{LLM_SYSTEM, "Be brief.", NULL, 0, NULL},
                             {LLM_USER, "What is 2+2?", NULL, 0, NULL}};

static void test_config(llm_config *c, const char *base)
{
    llm_config_default(c);
    c->base_url = base;
    c->model = "test-model";
    c->http.backoff_base_s = 0.01;
    c->http.backoff_cap_s = 0.05;
    c->http.timeout_s = 5;
}

static llm_request simple_request(void)
{
    llm_request rq = {0};
    rq.msgs = HI;
    rq.nmsgs = 2;
    rq.temperature = -1;
    return rq;
}

/* The nth recorded request body (0-based) as JSON. */
static cJSON *recorded_body(lb_server *s, int n)
{
    char *log = lb_requests(s), *p = log, *nl;
    cJSON *j = NULL, *b;
    for (int i = 0; i < n && p; i++)
        p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
    ck_assert_ptr_nonnull(p);
    nl = strchr(p, '\n');
    j = jsonu_parse(p, nl ? (size_t)(nl - p) : strlen(p), NULL);
    ck_assert_ptr_nonnull(j);
    b = cJSON_DetachItemFromObject(j, "body");
    cJSON_Delete(j);
    free(log);
    return b;
}

START_TEST(request_body_on_the_wire)
{
    lb_server *s = lb_start(NULL);
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    llm_response r;
    pe_err e = {0};
    llm_tool_call tc = {(char *)"call_9", (char *)"memory_search", (char *)"{\"query\":\"x\"}",
                        NULL, NULL};
    const llm_msg msgs[] = {{LLM_SYSTEM, "sys", NULL, 0, NULL},
                            {LLM_USER, "question", NULL, 0, NULL},
                            {LLM_ASSISTANT, NULL, &tc, 1, NULL},
                            {LLM_TOOL, "1. result", NULL, 0, "call_9"}};
    const llm_tool tools[] = {{"memory_search", "Search memory",
                               "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"}}}"}};
    const char *stop[] = {"Observation:"};
    llm_request rq = {0};
    cJSON *b, *m;
    char *t;

    test_config(&c, s->base);
    c.extra_body = "{\"top_k\":20,\"temperature\":0.7}";
    cl = llm_client_new(&c, &e);
    ck_assert_ptr_nonnull(cl);
    w = llm_worker_new(cl);
    rq.msgs = msgs;
    rq.nmsgs = 4;
    rq.tools = tools;
    rq.ntools = 1;
    rq.tool_choice = "auto";
    rq.temperature = -1;
    rq.max_tokens = 64;
    rq.has_seed = 1;
    rq.seed = 42;
    rq.stop = stop;
    rq.nstop = 1;
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), 0);
    ck_assert_str_eq(r.content, "echo: question");
    ck_assert_str_eq(r.finish_reason, "stop");
    ck_assert_str_eq(r.model, "test-model");
    ck_assert_str_eq(r.system_fingerprint, "fp_loopback");
    ck_assert_int_eq(r.usage.known, 1);
    ck_assert_int_eq(r.usage.prompt_tokens, 11);
    ck_assert_int_eq(r.usage.completion_tokens, 7);
    llm_response_free(&r);

    b = recorded_body(s, 0);
    ck_assert_str_eq(jsonu_str(b, "model"), "test-model");
    /* extra_body overrides the default temperature and adds its keys */
    ck_assert_double_eq(cJSON_GetObjectItem(b, "temperature")->valuedouble, 0.7);
    ck_assert_double_eq(cJSON_GetObjectItem(b, "top_k")->valuedouble, 20);
    ck_assert_double_eq(cJSON_GetObjectItem(b, "max_tokens")->valuedouble, 64);
    ck_assert_double_eq(cJSON_GetObjectItem(b, "seed")->valuedouble, 42);
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "stop"), 0)->valuestring,
                     "Observation:");
    ck_assert_str_eq(jsonu_str(b, "tool_choice"), "auto");
    m = cJSON_GetArrayItem(cJSON_GetObjectItem(b, "tools"), 0);
    ck_assert_str_eq(jsonu_str(m, "type"), "function");
    ck_assert_str_eq(jsonu_str(cJSON_GetObjectItem(m, "function"), "name"), "memory_search");
    m = cJSON_GetObjectItem(b, "messages");
    ck_assert_int_eq(cJSON_GetArraySize(m), 4);
    ck_assert_str_eq(jsonu_str(cJSON_GetArrayItem(m, 0), "role"), "system");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 2), "content")));
    t = jsonu_print(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 2), "tool_calls"));
    ck_assert_str_eq(t, "[{\"id\":\"call_9\",\"type\":\"function\",\"function\":{\"name\":"
                        "\"memory_search\",\"arguments\":\"{\\\"query\\\":\\\"x\\\"}\"}}]");
    free(t);
    ck_assert_str_eq(jsonu_str(cJSON_GetArrayItem(m, 3), "tool_call_id"), "call_9");
    ck_assert_str_eq(jsonu_str(cJSON_GetArrayItem(m, 3), "role"), "tool");
    cJSON_Delete(b);

    /* a named tool_choice becomes an object */
    rq.tool_choice = "memory_search";
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), 0);
    llm_response_free(&r);
    b = recorded_body(s, 1);
    t = jsonu_print(cJSON_GetObjectItem(b, "tool_choice"));
    ck_assert_str_eq(t, "{\"type\":\"function\",\"function\":{\"name\":\"memory_search\"}}");
    free(t);
    cJSON_Delete(b);
    llm_worker_free(w);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

static int parse(const char *body, llm_response *r)
{
    memset(r, 0, sizeof *r);
    return llm_parse_chat(body, strlen(body), r, NULL);
}

START_TEST(parse_responses)
{
    llm_response r;

    ck_assert_int_eq(parse("{\"choices\":[{\"message\":{\"content\":\"<think>hmm, comedy?"
                           "</think>\\n horror \"},\"finish_reason\":\"stop\"}]}", &r), 0);
    ck_assert_str_eq(r.content, "horror");
    ck_assert_str_eq(r.reasoning, "hmm, comedy?");
    ck_assert_int_eq(r.usage.known, 0);
    llm_response_free(&r);

    /* a template that opens <think> itself: only the closing tag arrives */
    ck_assert_int_eq(parse("{\"choices\":[{\"message\":{\"content\":\"draft</think>final\"}}]}",
                           &r), 0);
    ck_assert_str_eq(r.content, "final");
    ck_assert_str_eq(r.reasoning, "draft");
    llm_response_free(&r);

    ck_assert_int_eq(parse("{\"choices\":[{\"message\":{\"content\":\"4\",\"reasoning_content\":"
                           "\"long thought\"}}],\"usage\":{\"prompt_tokens\":5,"
                           "\"completion_tokens\":1}}", &r), 0);
    ck_assert_str_eq(r.content, "4");
    ck_assert_str_eq(r.reasoning, "long thought");
    ck_assert_int_eq(r.usage.known, 1);
    ck_assert_int_eq(r.usage.prompt_tokens, 5);
    llm_response_free(&r);

    /* null content with tool calls: "" arguments mean {}, bad JSON is flagged */
    ck_assert_int_eq(parse("{\"choices\":[{\"finish_reason\":\"tool_calls\",\"message\":{"
                           "\"content\":null,\"tool_calls\":["
                           "{\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\"wikipedia\","
                           "\"arguments\":\"\"}},"
                           "{\"id\":\"b\",\"type\":\"function\",\"function\":{\"name\":"
                           "\"memory_search\",\"arguments\":\"{\\\"query\\\": \\\"x\"}},"
                           "{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":"
                           "\"memory_search\",\"arguments\":\"{\\\"query\\\":\\\"films\\\"}\"}}"
                           "]}}]}", &r), 0);
    ck_assert_ptr_null(r.content);
    ck_assert_str_eq(r.finish_reason, "tool_calls");
    ck_assert_uint_eq(r.ntool_calls, 3);
    ck_assert_str_eq(r.tool_calls[0].arguments, "{}");
    ck_assert(cJSON_IsObject(r.tool_calls[0].args));
    ck_assert_ptr_null(r.tool_calls[0].args_error);
    ck_assert_ptr_null(r.tool_calls[1].args);
    ck_assert_ptr_nonnull(strstr(r.tool_calls[1].args_error, "not valid JSON"));
    ck_assert_str_eq(r.tool_calls[1].arguments, "{\"query\": \"x");
    ck_assert_str_eq(jsonu_str(r.tool_calls[2].args, "query"), "films");
    ck_assert_str_eq(r.tool_calls[2].id, "c");
    llm_response_free(&r);

    ck_assert_int_ne(parse("{\"choices\":[]}", &r), 0);
    llm_response_free(&r);
    ck_assert_int_ne(parse("{\"choices\": [ {\"mess", &r), 0);
    llm_response_free(&r);
}
END_TEST

START_TEST(missing_usage_is_unknown)
{
    lb_server *s = lb_start(NULL);
    char *base = lb_base_ctl(s, "nousage");
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    llm_response r;
    llm_request rq = simple_request();
    llm_totals t;

    test_config(&c, base);
    cl = llm_client_new(&c, NULL);
    w = llm_worker_new(cl);
    ck_assert_int_eq(llm_chat(w, &rq, &r, NULL), 0);
    ck_assert_int_eq(r.usage.known, 0);
    /* estimate = bytes / 4 rounded up: "Be brief." (9) -> 3, "What is 2+2?" (12) -> 3 */
    ck_assert_int_eq(r.usage.est_prompt_tokens, 6);
    /* "echo: What is 2+2?" (18) -> 5 */
    ck_assert_int_eq(r.usage.est_completion_tokens, 5);
    llm_response_free(&r);
    llm_get_totals(cl, &t);
    ck_assert_uint_eq(t.calls, 1);
    ck_assert_uint_eq(t.unknown_usage, 1);
    ck_assert_uint_eq(t.prompt_tokens, 0);
    ck_assert_uint_eq(t.est_prompt_tokens, 6);
    llm_worker_free(w);
    llm_client_free(cl);
    free(base);
    lb_stop(s);
}
END_TEST

START_TEST(malformed_json_and_bad_args_from_server)
{
    lb_server *s = lb_start(
        "{\"/v1/chat/completions\":[{\"fault\":\"malformed\",\"repeat\":7},"
        "{\"body\":{\"choices\":[{\"finish_reason\":\"tool_calls\",\"message\":{\"content\":null,"
        "\"tool_calls\":[{\"id\":\"t1\",\"type\":\"function\",\"function\":{\"name\":"
        "\"memory_search\",\"arguments\":\"{query: films}\"}}]}}]}}]}");
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    llm_response r;
    llm_request rq = simple_request();
    pe_err e = {0};
    llm_totals t;

    test_config(&c, s->base);
    cl = llm_client_new(&c, NULL);
    w = llm_worker_new(cl);
    /* an invalid 200 is retried like a 5xx (1 + 6 retries), then an error */
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), PE_EXIT_RUNERRORS);
    ck_assert_ptr_nonnull(strstr(e.msg, "malformed JSON"));
    ck_assert_ptr_nonnull(strstr(r.error_raw, "{\"choices\""));
    llm_response_free(&r);
    llm_get_totals(cl, &t);
    ck_assert_uint_eq(t.invalid_responses, 7);
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), 0);
    ck_assert_uint_eq(r.ntool_calls, 1);
    ck_assert_ptr_null(r.tool_calls[0].args);
    ck_assert_ptr_nonnull(r.tool_calls[0].args_error);
    llm_response_free(&r);
    llm_get_totals(cl, &t);
    ck_assert_uint_eq(t.calls, 2);
    ck_assert_uint_eq(t.errors, 1);
    llm_worker_free(w);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

START_TEST(tools_rejected)
{
    lb_server *s = lb_start(NULL);
    char *base = lb_base_ctl(s, "rejecttools");
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    llm_response r;
    llm_request rq = simple_request();
    const llm_tool tools[] = {{"wikipedia", "Wiki", NULL}};
    pe_err e = {0};

    test_config(&c, base);
    cl = llm_client_new(&c, NULL);
    w = llm_worker_new(cl);
    rq.tools = tools;
    rq.ntools = 1;
    /* more than three rejections: the fatal-early stop must not fire for them */
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(llm_chat(w, &rq, &r, &e), PE_EXIT_RUNERRORS);
        ck_assert_int_eq(r.tools_rejected, 1);
        ck_assert_int_eq(r.http_status, 400);
        llm_response_free(&r);
    }
    ck_assert_ptr_nonnull(strstr(e.msg, "refuses tools"));
    ck_assert_int_eq(llm_get_tool_support(cl), LLM_TOOLS_TEXT);
    rq.ntools = 0; /* the text-mode fallback works */
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), 0);
    ck_assert_int_eq(r.tools_rejected, 0);
    llm_response_free(&r);
    ck_assert_int_eq(lb_count(s), 5);
    llm_worker_free(w);
    llm_client_free(cl);
    free(base);
    lb_stop(s);
}
END_TEST

START_TEST(fatal_early_unreachable)
{
    /* nothing listens on the port: every request fails without an answer */
    lb_server *s = lb_start(NULL);
    char *base = lb_base_ctl(s, "latency=0");
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    llm_response r;
    llm_request rq = simple_request();
    pe_err e = {0};

    lb_stop(s); /* the port is closed from here on */
    test_config(&c, base);
    c.http.retries = 1;
    cl = llm_client_new(&c, NULL);
    w = llm_worker_new(cl);
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), PE_EXIT_RUNERRORS);
    ck_assert_int_eq(r.http_status, 0);
    llm_response_free(&r);
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), PE_EXIT_RUNERRORS);
    llm_response_free(&r);
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), PE_EXIT_UNAVAILABLE);
    llm_response_free(&r);
    ck_assert_ptr_nonnull(strstr(e.msg, "the first 3 requests to the endpoint failed"));
    ck_assert_ptr_nonnull(strstr(e.msg, "onnect")); /* libcurl's connect error */
    llm_worker_free(w);
    llm_client_free(cl);
    free(base);
}
END_TEST

START_TEST(fatal_early_stop)
{
    lb_server *s = lb_start(NULL);
    char *base = lb_base_ctl(s, "requireauth");
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    llm_response r;
    llm_request rq = simple_request();
    pe_err e = {0};

    test_config(&c, base);
    cl = llm_client_new(&c, NULL);
    w = llm_worker_new(cl);
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), PE_EXIT_RUNERRORS);
    ck_assert_int_eq(r.http_status, 401);
    ck_assert_ptr_nonnull(strstr(e.msg, "missing API key"));
    llm_response_free(&r);
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), PE_EXIT_RUNERRORS);
    llm_response_free(&r);
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), PE_EXIT_UNAVAILABLE);
    llm_response_free(&r);
    ck_assert_ptr_nonnull(strstr(e.msg, "the first 3 requests to the endpoint failed"));
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), PE_EXIT_UNAVAILABLE); /* no request sent */
    llm_response_free(&r);
    ck_assert_int_eq(lb_count(s), 3);
    llm_worker_free(w);
    llm_client_free(cl);

    /* one success among the first requests: errors stay per request */
    c.api_key = "k";
    cl = llm_client_new(&c, NULL);
    w = llm_worker_new(cl);
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), 0);
    llm_response_free(&r);
    llm_worker_free(w);
    llm_client_free(cl);
    c.api_key = NULL;
    free(base);
    lb_stop(s);
}
END_TEST

static char *grep_dir(const char *dir, const char *needle)
{
    char *out = NULL;
    tu_sh(&out, NULL, "grep -rl -- '%s' '%s' || true", needle, dir);
    return out;
}

START_TEST(cache_hits_and_modes)
{
    lb_server *s = lb_start(NULL);
    char *dir = tu_tmpdir(), *key, hex[65], *path, *g;
    pe_err e = {0};
    cache *ca = cache_open(dir, CACHE_RW, &e);
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    llm_response r;
    llm_request rq = simple_request();
    llm_totals t;

    test_config(&c, s->base);
    c.cache = ca;
    c.api_key = "sk-PLANTED-SECRET-0042";
    cl = llm_client_new(&c, NULL);
    w = llm_worker_new(cl);
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), 0);
    ck_assert_int_eq(r.cached, 0);
    llm_response_free(&r);
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), 0);
    ck_assert_int_eq(r.cached, 1);
    ck_assert_str_eq(r.content, "echo: What is 2+2?");
    ck_assert_int_eq(r.usage.known, 1);
    llm_response_free(&r);
    ck_assert_int_eq(lb_count(s), 1);
    llm_get_totals(cl, &t);
    ck_assert_uint_eq(t.cache_hits, 1);
    ck_assert_uint_eq(t.cache_misses, 1);
    ck_assert_uint_eq(t.http_requests, 1);

    /* the entry sits at dir/ab/cdef....json, keyed by the canonical text */
    key = llm_cache_key_text(cl, &rq);
    ck_assert_ptr_nonnull(strstr(key, "\"endpoint\":\""));
    ck_assert_ptr_nonnull(strstr(key, "\"v\":2"));
    ck_assert_ptr_nonnull(strstr(key, "\"rep\":0")); /* the default temperature 0.1 > 0 */
    free(key);
    rq.temperature = 0;
    key = llm_cache_key_text(cl, &rq);
    ck_assert_ptr_null(strstr(key, "\"rep\""));
    cache_key(key, hex);
    free(key);
    rq.temperature = 0.7;
    rq.rep = 2;
    key = llm_cache_key_text(cl, &rq);
    ck_assert_ptr_nonnull(strstr(key, "\"rep\":2"));
    free(key);
    rq = simple_request();
    key = llm_cache_key_text(cl, &rq);
    cache_key(key, hex);
    path = xasprintf("%s/%.2s/%s.json", dir, hex, hex + 2);
    ck_assert(tu_exists(path));
    free(path);
    free(key);

    /* the key is in no file of the cache and the server saw the header */
    g = grep_dir(dir, "PLANTED-SECRET");
    ck_assert_str_eq(g, "");
    free(g);
    g = lb_requests(s);
    ck_assert_ptr_nonnull(strstr(g, "\"auth\": true"));
    ck_assert_ptr_null(strstr(g, "PLANTED"));
    free(g);
    llm_worker_free(w);
    llm_client_free(cl);
    cache_close(ca);

    /* offline cache mode: a hit works, a miss names the request */
    ca = cache_open(dir, CACHE_OFFLINE, &e);
    c.cache = ca;
    cl = llm_client_new(&c, NULL);
    w = llm_worker_new(cl);
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), 0);
    ck_assert_int_eq(r.cached, 1);
    llm_response_free(&r);
    {
        const llm_msg m2[] = {{LLM_USER, "Which tag does this movie relate to?", NULL, 0, NULL}};
        rq.msgs = m2;
        rq.nmsgs = 1;
        ck_assert_int_eq(llm_chat(w, &rq, &r, &e), PE_EXIT_RUNERRORS);
        ck_assert_ptr_nonnull(strstr(e.msg, "\"Which tag does this movie relate to?"));
        ck_assert_ptr_null(strstr(e.msg, "PLANTED"));
        llm_response_free(&r);
    }
    ck_assert_int_eq(lb_count(s), 1);
    llm_worker_free(w);
    llm_client_free(cl);
    cache_close(ca);
    c.api_key = NULL;
    tu_rmrf(dir);
    free(dir);
    lb_stop(s);
}
END_TEST

static void capture_log(void *ctx, const char *msg)
{
    buf *b = ctx;
    buf_adds(b, msg);
    buf_addc(b, '\n');
}

START_TEST(verbose_failure_log_redacts_the_key)
{
    /* a server that echoes the key in its error body */
    lb_server *s = lb_start("{\"/v1/chat/completions\":[{\"status\":401,\"body\":{\"error\":"
                            "{\"message\":\"bad key sk-echo-4711 given\"}}}]}");
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    llm_response r;
    llm_request rq = simple_request();
    pe_err e = {0};
    buf log = BUF_INIT;

    test_config(&c, s->base);
    c.api_key = "sk-echo-4711";
    c.log = capture_log;
    c.log_ctx = &log;
    c.verbose = 1;
    cl = llm_client_new(&c, NULL);
    w = llm_worker_new(cl);
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), PE_EXIT_RUNERRORS);
    llm_response_free(&r);
    ck_assert_ptr_nonnull(strstr(buf_str(&log), "request failed:"));
    ck_assert_ptr_nonnull(strstr(buf_str(&log), "bad key *** given"));
    ck_assert_ptr_null(strstr(buf_str(&log), "sk-echo-4711"));
    buf_free(&log);
    llm_worker_free(w);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

START_TEST(errors_are_not_cached_and_key_not_leaked)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":[{\"status\":400,\"body\":{\"error\":"
                            "{\"message\":\"bad request\"}}}]}");
    char *dir = tu_tmpdir(), *g;
    pe_err e = {0};
    cache *ca = cache_open(dir, CACHE_RW, &e);
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    llm_response r;
    llm_request rq = simple_request();

    test_config(&c, s->base);
    c.cache = ca;
    c.api_key = "sk-PLANTED-SECRET-0042";
    cl = llm_client_new(&c, NULL);
    w = llm_worker_new(cl);
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), PE_EXIT_RUNERRORS);
    ck_assert_ptr_null(strstr(e.msg, "PLANTED"));
    ck_assert_ptr_null(strstr(r.error_raw, "PLANTED"));
    llm_response_free(&r);
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), 0); /* retried on the network, not a cached error */
    ck_assert_int_eq(r.cached, 0);
    llm_response_free(&r);
    ck_assert_int_eq(lb_count(s), 2);
    g = grep_dir(dir, "PLANTED");
    ck_assert_str_eq(g, "");
    free(g);
    llm_worker_free(w);
    llm_client_free(cl);
    cache_close(ca);
    tu_rmrf(dir);
    free(dir);
    lb_stop(s);
}
END_TEST

typedef struct thr {
    llm_client *cl;
    int n, ok;
} thr;

static void *worker_main(void *p)
{
    thr *t = p;
    llm_worker *w = llm_worker_new(t->cl);
    llm_request rq = simple_request();
    for (int i = 0; i < t->n; i++) {
        llm_response r;
        if (llm_chat(w, &rq, &r, NULL) == 0)
            t->ok++;
        llm_response_free(&r);
    }
    llm_worker_free(w);
    return NULL;
}

static void run_threads(llm_client *cl, int nthreads, int per, int *ok)
{
    pthread_t th[16];
    thr t[16];
    *ok = 0;
    for (int i = 0; i < nthreads; i++) {
        t[i] = (thr){cl, per, 0};
        pthread_create(&th[i], NULL, worker_main, &t[i]);
    }
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        *ok += t[i].ok;
    }
}

static int nlogs;
static void count_log(void *ctx, const char *msg)
{
    (void)ctx;
    if (strstr(msg, "in-flight cap"))
        __atomic_add_fetch(&nlogs, 1, __ATOMIC_SEQ_CST);
}

START_TEST(inflight_cap_from_the_start)
{
    /* 6 threads, 200 ms per request, at most 2 in flight: the 6 requests need three
     * rounds, so they cannot all be done in less than 0.6 s (unbounded: ~0.2 s) */
    lb_server *s = lb_start(NULL);
    char *base = lb_base_ctl(s, "latency=0.2");
    llm_config c;
    llm_client *cl;
    int ok, logs_before = nlogs;
    double t0;

    test_config(&c, base);
    c.max_inflight = 2;
    c.log = count_log;
    cl = llm_client_new(&c, NULL);
    t0 = pe_now();
    run_threads(cl, 6, 1, &ok);
    ck_assert_int_eq(ok, 6);
    ck_assert_msg(pe_now() - t0 >= 0.6, "6 requests finished in %.3f s with 2 in flight",
                  pe_now() - t0);
    ck_assert_int_eq(llm_inflight_cap(cl), 2);
    ck_assert_int_eq(nlogs, logs_before); /* no 429: nothing to report */
    llm_client_free(cl);
    free(base);
    lb_stop(s);
}
END_TEST

START_TEST(adaptive_inflight_cap)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":[{\"status\":429,\"repeat\":8,"
                            "\"headers\":{\"retry-after-ms\":\"50\"}}]}");
    char *base = lb_base_ctl(s, "latency=0.05");
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    llm_response r;
    llm_request rq = simple_request();
    int ok, cap;
    llm_totals t;

    test_config(&c, base);
    c.max_inflight = 8;
    c.recover_s = 0.4;
    c.log = count_log;
    nlogs = 0;
    cl = llm_client_new(&c, NULL);
    run_threads(cl, 8, 3, &ok);
    ck_assert_int_eq(ok, 24);
    cap = llm_inflight_cap(cl);
    ck_assert_int_lt(cap, 8);
    ck_assert_int_ge(cap, 1);
    ck_assert_int_ge(nlogs, 1);
    llm_get_totals(cl, &t);
    ck_assert_uint_eq(t.rate_limited, 8);
    ck_assert_uint_eq(t.retries, 8);
    /* after recover_s without a 429 the cap grows again */
    w = llm_worker_new(cl);
    usleep(500 * 1000);
    ck_assert_int_eq(llm_chat(w, &rq, &r, NULL), 0);
    llm_response_free(&r);
    ck_assert_int_gt(llm_inflight_cap(cl) == 0 ? 8 : llm_inflight_cap(cl), cap);
    llm_worker_free(w);
    llm_client_free(cl);
    free(base);
    lb_stop(s);
}
END_TEST

START_TEST(random_failures_recovered)
{
    lb_server *s = lb_start(NULL);
    char *base = lb_base_ctl(s, "fail=0.3");
    llm_config c;
    llm_client *cl;
    llm_totals t;
    int ok;

    test_config(&c, base);
    cl = llm_client_new(&c, NULL);
    run_threads(cl, 4, 10, &ok);
    ck_assert_int_eq(ok, 40);
    llm_get_totals(cl, &t);
    ck_assert_uint_gt(t.retries, 0);
    ck_assert_uint_eq(t.http_requests, 40 + t.retries);
    ck_assert_uint_eq(t.errors, 0);
    ck_assert_int_eq(lb_count(s), (int)t.http_requests);
    llm_client_free(cl);
    free(base);
    lb_stop(s);
}
END_TEST

START_TEST(rps_limit)
{
    lb_server *s = lb_start(NULL);
    llm_config c;
    llm_client *cl;
    double t0;
    int ok;

    test_config(&c, s->base);
    c.rps = 20;
    cl = llm_client_new(&c, NULL);
    t0 = pe_now();
    run_threads(cl, 3, 3, &ok); /* 9 requests at 20/s: slots 0, 0.05, ..., 0.40 */
    ck_assert_int_eq(ok, 9);
    ck_assert(pe_now() - t0 >= 0.39);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

START_TEST(cost_totals)
{
    lb_server *s = lb_start(NULL);
    llm_config c;
    llm_client *cl;
    llm_totals t;
    int ok;

    test_config(&c, s->base);
    c.price_in = 2.5;
    c.price_out = 10;
    cl = llm_client_new(&c, NULL);
    run_threads(cl, 2, 2, &ok);
    llm_get_totals(cl, &t);
    ck_assert_uint_eq(t.calls, 4);
    ck_assert_uint_eq(t.prompt_tokens, 44);
    ck_assert_uint_eq(t.completion_tokens, 28);
    /* (44 * 2.5 + 28 * 10) / 1e6 */
    ck_assert_double_eq_tol(t.cost_usd, 390e-6, 1e-12);
    ck_assert_uint_gt(t.bytes_sent, 0);
    ck_assert_uint_gt(t.bytes_received, 0);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

START_TEST(embeddings_batched_ordered_normalized)
{
    lb_server *s = lb_start(NULL);
    char *emb = xasprintf("http://127.0.0.1:%d/emb/v1", s->port);
    const char *texts[] = {"abc", "hello", "x", "four", "seven!!"};
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    float *v;
    size_t dim;
    pe_err e = {0};
    cJSON *b;

    test_config(&c, s->base);
    c.embed_base_url = emb;
    c.embed_model = "emb-model";
    c.embed_batch = 2;
    cl = llm_client_new(&c, NULL);
    w = llm_worker_new(cl);
    ck_assert_int_eq(llm_embed(w, texts, 5, 0, &v, &dim, &e), 0);
    ck_assert_uint_eq(dim, 4);
    /* server vectors: [len, 1, 0, 2], returned in reverse order with indices */
    for (size_t i = 0; i < 5; i++) {
        ck_assert_float_eq(v[i * 4], (float)strlen(texts[i]));
        ck_assert_float_eq(v[i * 4 + 3], 2.0f);
    }
    free(v);
    ck_assert_int_eq(lb_count(s), 3);
    b = recorded_body(s, 0);
    ck_assert_str_eq(jsonu_str(b, "model"), "emb-model");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(b, "input")), 2);
    cJSON_Delete(b);
    {
        char *log = lb_requests(s);
        ck_assert_ptr_nonnull(strstr(log, "\"path\": \"/emb/v1/embeddings\""));
        free(log);
    }
    ck_assert_int_eq(llm_embed(w, texts, 1, 1, &v, &dim, &e), 0);
    /* [3,1,0,2] / sqrt(14) */
    ck_assert_float_eq_tol(v[0], 3 / sqrtf(14), 1e-6);
    ck_assert_float_eq_tol(v[1], 1 / sqrtf(14), 1e-6);
    ck_assert_float_eq_tol(v[3], 2 / sqrtf(14), 1e-6);
    free(v);
    llm_worker_free(w);
    llm_client_free(cl);
    free(emb);
    lb_stop(s);
}
END_TEST

START_TEST(config_errors)
{
    llm_config c;
    pe_err e = {0};
    test_config(&c, NULL);
    ck_assert_ptr_null(llm_client_new(&c, &e));
    ck_assert_int_eq(e.code, PE_EXIT_USAGE);
    test_config(&c, "http://127.0.0.1:1/v1");
    c.extra_body = "[1]";
    ck_assert_ptr_null(llm_client_new(&c, &e));
    ck_assert_ptr_nonnull(strstr(e.msg, "extra_body"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("llm");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, request_body_on_the_wire);
    tcase_add_test(tc, parse_responses);
    tcase_add_test(tc, missing_usage_is_unknown);
    tcase_add_test(tc, malformed_json_and_bad_args_from_server);
    tcase_add_test(tc, tools_rejected);
    tcase_add_test(tc, fatal_early_stop);
    tcase_add_test(tc, fatal_early_unreachable);
    tcase_add_test(tc, inflight_cap_from_the_start);
    tcase_add_test(tc, verbose_failure_log_redacts_the_key);
    tcase_add_test(tc, cache_hits_and_modes);
    tcase_add_test(tc, errors_are_not_cached_and_key_not_leaked);
    tcase_add_test(tc, adaptive_inflight_cap);
    tcase_add_test(tc, random_failures_recovered);
    tcase_add_test(tc, rps_limit);
    tcase_add_test(tc, cost_totals);
    tcase_add_test(tc, embeddings_batched_ordered_normalized);
    tcase_add_test(tc, config_errors);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
