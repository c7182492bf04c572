/* llm against the hostile modes of the loopback server: echoed secrets,
 * malformed 200s, absurd usage, invalid UTF-8, slow starts, context-length and
 * ambiguous 400s, tool-call floods. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cache.h"
#include "llm.h"
#include "llm_wire.h"
#include "loopback.h"
#include "redact.h"
#include "testutil.h"

static const llm_msg HI[] = {{LLM_USER, "What is 2+2?", NULL, 0, NULL}};
static const llm_msg LONG[] = {{LLM_USER, "LONGUSER history history", NULL, 0, NULL}};
static const llm_tool TOOLS[] = {{"memory_search", "Search memory",
                                  "{\"type\":\"object\",\"properties\":{\"query\":"
                                  "{\"type\":\"string\"}}}"}};

static void capture_log(void *ctx, const char *msg)
{
    buf_adds(ctx, msg);
    buf_addc(ctx, '\n');
}

static llm_client *client(const char *base, int retries, buf *log)
{
    llm_config c;
    llm_client *cl;
    llm_config_default(&c);
    c.base_url = base;
    c.model = "test-model";
    c.http.backoff_base_s = 0.01;
    c.http.backoff_cap_s = 0.02;
    c.http.timeout_s = 5;
    c.http.retries = retries;
    c.log = log ? capture_log : NULL;
    c.log_ctx = log;
    c.verbose = log ? 2 : 0;
    cl = llm_client_new(&c, NULL);
    ck_assert_ptr_nonnull(cl);
    return cl;
}

static llm_request request(const llm_msg *m, int tools)
{
    llm_request rq = {0};
    rq.msgs = m;
    rq.nmsgs = 1;
    rq.temperature = -1;
    if (tools) {
        rq.tools = TOOLS;
        rq.ntools = 1;
        rq.tool_choice = "auto";
    }
    return rq;
}

static void assert_clean(const char *text, const char *const *planted)
{
    for (size_t i = 0; planted[i]; i++)
        ck_assert_msg(!text || !strstr(text, planted[i]), "\"%s\" leaked into: %s", planted[i],
                      text);
}

START_TEST(echoed_secrets_never_come_back)
{
    lb_server *s = lb_start(NULL);
    char *base = xasprintf("http://alice:pw-planted-4711@127.0.0.1:%d/c/echo401/v1", s->port);
    const char *planted[] = {"sk-planted-key-0815", "hdr-planted-0042", "pw-planted-4711",
                             "alice:pw", NULL};
    const char *hdrs[] = {"X-Secret: hdr-planted-0042"};
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    llm_response r;
    llm_request rq = request(HI, 0);
    pe_err e = {0};
    buf log = BUF_INIT;
    int rc = 0;

    llm_config_default(&c);
    c.base_url = base;
    c.model = "m";
    c.api_key = "sk-planted-key-0815";
    c.headers = hdrs;
    c.nheaders = 1;
    c.http.retries = 0;
    c.log = capture_log;
    c.log_ctx = &log;
    c.verbose = 2;
    cl = llm_client_new(&c, NULL);
    w = llm_worker_new(cl);
    for (int i = 0; i < 3; i++) {
        rc = llm_chat(w, &rq, &r, &e);
        ck_assert_int_eq(r.http_status, 401);
        assert_clean(e.msg, planted);
        assert_clean(r.error_raw, planted);
        ck_assert_ptr_nonnull(strstr(r.error_raw, "***"));
        llm_response_free(&r);
    }
    /* three 401s prove the configuration wrong: exit 69, its message redacted too */
    ck_assert_int_eq(rc, PE_EXIT_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(e.msg, "HTTP 401"));
    assert_clean(buf_str(&log), planted);
    /* the server did receive them (the echo proves it): "invalid credentials: ..." */
    ck_assert_ptr_nonnull(strstr(buf_str(&log), "invalid credentials"));
    buf_free(&log);
    llm_worker_free(w);
    llm_client_free(cl);
    free(base);
    lb_stop(s);
}
END_TEST

/* One chat of HI through a fresh client on the server's controls ctl; the
 * client's totals after it in *t. */
static int chat_once(lb_server *s, const char *ctl, int retries, llm_response *r,
                     llm_totals *t, pe_err *e)
{
    char *base = lb_base_ctl(s, ctl);
    llm_client *cl = client(base, retries, NULL);
    llm_worker *w = llm_worker_new(cl);
    llm_request rq = request(HI, 0);
    int rc = llm_chat(w, &rq, r, e);
    llm_get_totals(cl, t);
    llm_worker_free(w);
    llm_client_free(cl);
    free(base);
    return rc;
}

START_TEST(malformed_200s_are_errors_retried_and_counted)
{
    static const char *const kinds[] = {"contentnull", "contentnum", "choicesobj",
                                        "choicesempty", "nul"};
    lb_server *s = lb_start(NULL);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        char *ctl = xasprintf("malformed=%s", kinds[k]);
        llm_response r;
        llm_totals t;
        pe_err e = {0};
        ck_assert_int_eq(chat_once(s, ctl, 2, &r, &t, &e), PE_EXIT_RUNERRORS);
        ck_assert_msg(strstr(e.msg, "invalid response") != NULL, "%s: %s", kinds[k], e.msg);
        ck_assert_ptr_null(r.content);
        llm_response_free(&r);
        ck_assert_uint_eq(t.invalid_responses, 3); /* the first attempt and two retries */
        ck_assert_uint_eq(t.errors, 1);
        free(ctl);
    }
    lb_stop(s);
}
END_TEST

START_TEST(one_malformed_200_then_a_good_answer)
{
    lb_server *s = lb_start(NULL);
    llm_response r;
    llm_totals t;

    ck_assert_int_eq(chat_once(s, "malformed=contentnull,malformedfirst=1", 2, &r, &t, NULL), 0);
    ck_assert_str_eq(r.content, "echo: What is 2+2?"); /* the default responder */
    llm_response_free(&r);
    ck_assert_uint_eq(t.invalid_responses, 1);
    ck_assert_uint_eq(t.errors, 0);
    ck_assert_int_eq(lb_count(s), 2);
    lb_stop(s);
}
END_TEST

START_TEST(invalid_utf8_replaced_and_recorded)
{
    lb_server *s = lb_start(NULL);
    llm_response r;
    llm_totals t;

    ck_assert_int_eq(chat_once(s, "malformed=badutf8", 0, &r, &t, NULL), 0);
    /* "comedy" then the bytes FF FE: each invalid byte becomes U+FFFD */
    ck_assert_str_eq(r.content, "comedy\xEF\xBF\xBD\xEF\xBF\xBD");
    ck_assert_uint_eq(r.utf8_replaced, 2);
    llm_response_free(&r);
    ck_assert_uint_eq(t.utf8_replaced, 1);
    lb_stop(s);
}
END_TEST

START_TEST(absurd_usage_flagged_unknown)
{
    static const char *const kinds[] = {"malformed=usagehuge", "malformed=usageneg"};
    lb_server *s = lb_start(NULL);
    for (int k = 0; k < 2; k++) {
        llm_response r;
        llm_totals t;
        ck_assert_int_eq(chat_once(s, kinds[k], 0, &r, &t, NULL), 0);
        ck_assert_int_eq(r.usage.absurd, 1);
        ck_assert_int_eq(r.usage.known, 0);
        ck_assert_int_eq(r.usage.prompt_tokens, 0);
        llm_response_free(&r);
        ck_assert_uint_eq(t.absurd_usage, 1);
        ck_assert_uint_eq(t.unknown_usage, 1);
        ck_assert_uint_eq(t.prompt_tokens, 0);
        ck_assert_double_eq(t.cost_usd, 0);
    }
    lb_stop(s);
}
END_TEST

START_TEST(slow_start_is_not_a_wrong_url)
{
    lb_server *s = lb_start(NULL);
    char *base = lb_base_ctl(s, "slowstart=3,hang=3");
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    llm_request rq = request(HI, 0);
    llm_response r;
    pe_err e = {0};

    llm_config_default(&c);
    c.base_url = base;
    c.model = "m";
    c.http.timeout_s = 0.5;
    c.http.retries = 0;
    cl = llm_client_new(&c, NULL);
    w = llm_worker_new(cl);
    for (int i = 0; i < 3; i++) { /* three timeouts without a byte: errors, never exit 69 */
        ck_assert_int_eq(llm_chat(w, &rq, &r, &e), PE_EXIT_RUNERRORS);
        ck_assert_int_eq(r.http_status, 0);
        llm_response_free(&r);
    }
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), 0);
    llm_response_free(&r);
    llm_worker_free(w);
    llm_client_free(cl);
    free(base);
    lb_stop(s);
}
END_TEST

START_TEST(context_400_never_switches_tools)
{
    lb_server *s = lb_start(NULL);
    char *base = lb_base_ctl(s, "agent,context400=LONGUSER");
    llm_client *cl = client(base, 0, NULL);
    llm_worker *w = llm_worker_new(cl);
    llm_request lrq = request(LONG, 1), rq = request(HI, 1);
    llm_response r;
    pe_err e = {0};

    for (int i = 0; i < 4; i++) { /* the long user fails, and only that user */
        ck_assert_int_eq(llm_chat(w, &lrq, &r, &e), PE_EXIT_RUNERRORS);
        ck_assert_int_eq(r.tools_rejected, 0);
        ck_assert_int_eq(r.http_status, 400);
        llm_response_free(&r);
    }
    ck_assert_ptr_nonnull(strstr(e.msg, "maximum context length"));
    ck_assert_int_eq(llm_get_tool_support(cl), LLM_TOOLS_UNKNOWN);
    ck_assert_int_eq(llm_chat(w, &rq, &r, &e), 0); /* another user: native tool calls */
    ck_assert_uint_eq(r.ntool_calls, 1);
    llm_response_free(&r);
    ck_assert_int_eq(llm_get_tool_support(cl), LLM_TOOLS_NATIVE);
    ck_assert_int_eq(lb_count(s), 5); /* no probe: the error named the context */
    llm_worker_free(w);
    llm_client_free(cl);
    free(base);
    lb_stop(s);
}
END_TEST

START_TEST(ambiguous_400_settled_by_one_probe)
{
    lb_server *s = lb_start(NULL);
    char *base = lb_base_ctl(s, "agent,ambiguous400=LONGUSER"), *quiet;
    llm_client *cl = client(base, 0, NULL);
    llm_worker *w = llm_worker_new(cl);
    llm_request lrq = request(LONG, 1);
    llm_response r;
    char *log;

    /* the probe (one tool, no LONGUSER) succeeds: tools work, the 400 was this query's */
    ck_assert_int_eq(llm_chat(w, &lrq, &r, NULL), PE_EXIT_RUNERRORS);
    ck_assert_int_eq(r.tools_rejected, 0);
    llm_response_free(&r);
    ck_assert_int_eq(llm_get_tool_support(cl), LLM_TOOLS_NATIVE);
    ck_assert_int_eq(llm_chat(w, &lrq, &r, NULL), PE_EXIT_RUNERRORS);
    llm_response_free(&r);
    ck_assert_int_eq(lb_count(s), 3); /* one probe only */
    log = lb_requests(s);
    ck_assert_ptr_nonnull(strstr(log, "\"name\": \"probe\""));
    free(log);
    llm_worker_free(w);
    llm_client_free(cl);
    free(base);

    /* a server refusing every request with tools, naming nothing: the probe fails too */
    quiet = lb_base_ctl(s, "agent,quietrejecttools");
    cl = client(quiet, 0, NULL);
    w = llm_worker_new(cl);
    ck_assert_int_eq(llm_chat(w, &lrq, &r, NULL), PE_EXIT_RUNERRORS);
    ck_assert_int_eq(r.tools_rejected, 1);
    llm_response_free(&r);
    ck_assert_int_eq(llm_get_tool_support(cl), LLM_TOOLS_TEXT);
    ck_assert_str_eq(llm_tool_support_name(llm_get_tool_support(cl)), "text");
    ck_assert_int_eq(llm_tool_support_parse("native"), LLM_TOOLS_NATIVE);
    ck_assert_int_eq(llm_tool_support_parse("bogus"), -1);
    /* restored on --resume: a new client told "text" never probes */
    llm_worker_free(w);
    llm_client_free(cl);
    free(quiet);
    lb_stop(s);
}
END_TEST

START_TEST(tool_call_flood_is_cut_while_parsing)
{
    lb_server *s = lb_start(NULL);
    char *base = lb_base_ctl(s, "agent,flood=50000");
    llm_client *cl = client(base, 0, NULL);
    llm_worker *w = llm_worker_new(cl);
    llm_request rq = request(HI, 1);
    llm_response r;

    rq.max_tool_calls = 8;
    ck_assert_int_eq(llm_chat(w, &rq, &r, NULL), 0);
    ck_assert_uint_eq(r.ntool_calls, 8);
    ck_assert_uint_eq(r.ntool_calls_total, 50000);
    ck_assert_str_eq(r.tool_calls[7].id, "call_f7");
    ck_assert_str_eq(r.tool_calls[7].arguments, "{\"query\": \"q7\"}");
    llm_response_free(&r);
    llm_worker_free(w);
    llm_client_free(cl);
    free(base);
    lb_stop(s);
}
END_TEST

START_TEST(damaged_cache_entry_requested_again)
{
    lb_server *s = lb_start(NULL);
    char *dir = tu_tmpdir(), *out = NULL, *p;
    pe_err e = {0};
    cache *ca = cache_open(dir, CACHE_RW, &e);
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    llm_request rq = request(HI, 0);
    llm_response r;
    llm_totals t;
    buf log = BUF_INIT;

    llm_config_default(&c);
    c.base_url = s->base;
    c.model = "m";
    c.cache = ca;
    c.log = capture_log;
    c.log_ctx = &log;
    cl = llm_client_new(&c, NULL);
    w = llm_worker_new(cl);
    ck_assert_int_eq(llm_chat(w, &rq, &r, NULL), 0);
    llm_response_free(&r);
    /* flip one byte of the stored answer ("echo:" -> "echO:") */
    tu_sh(&out, NULL, "find '%s' -name '*.json' -exec sed -i 's/echo:/echO:/' {} +", dir);
    free(out);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(llm_chat(w, &rq, &r, NULL), 0);
        ck_assert_int_eq(r.cached, i == 1); /* re-requested, stored again, then a hit */
        ck_assert_str_eq(r.content, "echo: What is 2+2?");
        llm_response_free(&r);
    }
    ck_assert_int_eq(lb_count(s), 2);
    llm_get_totals(cl, &t);
    ck_assert_uint_eq(t.cache_corrupt, 1);
    p = strstr(buf_str(&log), "failed its checksum");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_null(strstr(p + 1, "failed its checksum")); /* logged once */
    buf_free(&log);
    llm_worker_free(w);
    llm_client_free(cl);
    cache_close(ca);
    tu_rmrf(dir);
    free(dir);
    lb_stop(s);
}
END_TEST

/* A large body whose tool_calls array is cut by the scanner before parsing: the
 * kept calls, the count and everything after the array are as in the body. */
START_TEST(wire_cuts_large_tool_call_arrays)
{
    buf b = BUF_INIT;
    llm_response r;
    pe_err e = {0};
    const char *nul;

    buf_adds(&b, "{\"id\":\"x \\\"[{\\\" tricky ] }\",\"choices\":[{\"index\":0,\"message\":"
                 "{\"tool_calls\":[");
    for (int i = 0; i < 2000; i++)
        buf_printf(&b, "%s{\"id\":\"c%d\",\"type\":\"function\",\"function\":{\"name\":"
                   "\"memory_search\",\"arguments\":\"{\\\"query\\\":\\\"q]%d\\\"}\"}}",
                   i ? " , " : "", i, i);
    buf_adds(&b, "] ,\"content\":null,\"role\":\"assistant\"},\"finish_reason\":\"tool_calls\"}],"
                 "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4},\"pad\":\"");
    for (int i = 0; i < 70000; i++)
        buf_addc(&b, i % 7 ? 'x' : '[');
    buf_adds(&b, "\"}");
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(llm_wire_parse_chat(b.data, b.len, 3, &r, &e), 0);
    ck_assert_uint_eq(r.ntool_calls, 3);
    ck_assert_uint_eq(r.ntool_calls_total, 2000);
    ck_assert_str_eq(r.tool_calls[2].id, "c2");
    ck_assert_str_eq(r.tool_calls[2].arguments, "{\"query\":\"q]2\"}");
    ck_assert_str_eq(r.finish_reason, "tool_calls");
    ck_assert_int_eq(r.usage.known, 1);
    ck_assert_int_eq(r.usage.completion_tokens, 4);
    llm_response_free(&r);
    /* no cap given: LLM_MAX_TOOL_CALLS */
    ck_assert_int_eq(llm_wire_parse_chat(b.data, b.len, 0, &r, &e), 0);
    ck_assert_uint_eq(r.ntool_calls, LLM_MAX_TOOL_CALLS);
    llm_response_free(&r);
    /* a NUL, raw or escaped, is invalid; an escaped backslash before u0000 is text */
    nul = "{\"choices\":[{\"message\":{\"content\":\"a\\u0000b\"}}]}";
    ck_assert_int_ne(llm_wire_parse_chat(nul, strlen(nul), 0, &r, &e), 0);
    ck_assert_ptr_nonnull(strstr(e.msg, "NUL"));
    llm_response_free(&r);
    nul = "{\"choices\":[{\"message\":{\"content\":\"a\\\\u0000\"}}]}";
    ck_assert_int_eq(llm_wire_parse_chat(nul, strlen(nul), 0, &r, &e), 0);
    ck_assert_str_eq(r.content, "a\\u0000");
    llm_response_free(&r);
    buf_free(&b);
}
END_TEST

typedef struct probe_arg {
    llm_client *cl;
    int rc, rejected;
} probe_arg;

static void *ambiguous_call(void *p)
{
    probe_arg *a = p;
    llm_worker *w = llm_worker_new(a->cl);
    llm_request rq = request(LONG, 1);
    llm_response r;
    a->rc = llm_chat(w, &rq, &r, NULL);
    a->rejected = r.tools_rejected;
    llm_response_free(&r);
    llm_worker_free(w);
    return NULL;
}

START_TEST(one_probe_for_many_threads)
{
    lb_server *s = lb_start(NULL);
    char *base = lb_base_ctl(s, "agent,latency=0.2,ambiguous400=LONGUSER");
    llm_client *cl = client(base, 0, NULL);
    pthread_t th[6];
    probe_arg a[6];

    for (int i = 0; i < 6; i++) {
        a[i] = (probe_arg){cl, -1, -1};
        pthread_create(&th[i], NULL, ambiguous_call, &a[i]);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(a[i].rc, PE_EXIT_RUNERRORS);
        ck_assert_int_eq(a[i].rejected, 0);
    }
    ck_assert_int_eq(llm_get_tool_support(cl), LLM_TOOLS_NATIVE);
    ck_assert_int_eq(lb_count(s), 6 + 1); /* six queries, one probe */
    llm_client_free(cl);
    free(base);
    lb_stop(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("llm_hostile");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, echoed_secrets_never_come_back);
    tcase_add_test(tc, malformed_200s_are_errors_retried_and_counted);
    tcase_add_test(tc, one_malformed_200_then_a_good_answer);
    tcase_add_test(tc, invalid_utf8_replaced_and_recorded);
    tcase_add_test(tc, absurd_usage_flagged_unknown);
    tcase_add_test(tc, slow_start_is_not_a_wrong_url);
    tcase_add_test(tc, context_400_never_switches_tools);
    tcase_add_test(tc, ambiguous_400_settled_by_one_probe);
    tcase_add_test(tc, tool_call_flood_is_cut_while_parsing);
    tcase_add_test(tc, damaged_cache_entry_requested_again);
    tcase_add_test(tc, wire_cuts_large_tool_call_arrays);
    tcase_add_test(tc, one_probe_for_many_threads);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
