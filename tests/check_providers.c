/* The provider compatibility corpus: every tests/fixtures/providers/ (one .json per case) holds
 * a response body in the shape a provider documents (the file names the page)
 * and the result expected from it, derived by hand from the body. The loopback
 * server replays each body; the parsed response or the error is compared. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cache.h"
#include "jsonu.h"
#include "llm.h"
#include "loopback.h"
#include "testutil.h"

static const llm_msg MSG[] = {{LLM_USER, "Which tag?", NULL, 0, NULL}};
static const llm_tool TOOLS[] = {
    {"memory_search", "Search memory",
     "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"}}}"},
    {"wikipedia", "Wikipedia", "{\"type\":\"object\",\"properties\":{\"topic\":{\"type\":"
                               "\"string\"}}}"}};

static void check_ok(const char *name, const cJSON *x, const llm_response *r)
{
    const cJSON *c = cJSON_GetObjectItem(x, "content"), *calls, *it, *v;
    size_t i = 0;

    if (cJSON_IsNull(c))
        ck_assert_msg(r->content == NULL, "%s: content %s", name, r->content);
    else if (cJSON_IsString(c))
        ck_assert_msg(r->content && !strcmp(r->content, c->valuestring), "%s: content \"%s\"",
                      name, r->content ? r->content : "(null)");
    if ((v = cJSON_GetObjectItem(x, "reasoning")))
        ck_assert_msg(r->reasoning && !strcmp(r->reasoning, v->valuestring), "%s: reasoning",
                      name);
    else
        ck_assert_msg(r->reasoning == NULL, "%s: reasoning %s", name, r->reasoning);
    ck_assert_msg(pe_streq(r->finish_reason, jsonu_str(x, "finish_reason")), "%s: finish %s",
                  name, r->finish_reason);
    if ((v = cJSON_GetObjectItem(x, "usage_known")))
        ck_assert_int_eq(r->usage.known, cJSON_IsTrue(v));
    if ((v = cJSON_GetObjectItem(x, "prompt_tokens"))) {
        ck_assert_msg(r->usage.known, "%s: usage unknown", name);
        ck_assert_int_eq(r->usage.prompt_tokens, (long)v->valuedouble);
        ck_assert_int_eq(r->usage.completion_tokens,
                         (long)cJSON_GetObjectItem(x, "completion_tokens")->valuedouble);
    }
    calls = cJSON_GetObjectItem(x, "tool_calls");
    ck_assert_msg(r->ntool_calls == (size_t)cJSON_GetArraySize(calls), "%s: %zu tool calls",
                  name, r->ntool_calls);
    cJSON_ArrayForEach(it, calls) {
        const llm_tool_call *tc = &r->tool_calls[i++];
        char *want = cache_canonical(cJSON_GetObjectItem(it, "args"));
        char *got = tc->args ? cache_canonical(tc->args) : xstrdup("(invalid)");
        ck_assert_str_eq(tc->id, jsonu_str(it, "id"));
        ck_assert_str_eq(tc->name, jsonu_str(it, "name"));
        ck_assert_msg(!strcmp(got, want), "%s: arguments %s, expected %s", name, got, want);
        free(want);
        free(got);
    }
}

static void check_error(const char *name, const cJSON *x, const llm_response *r,
                        const pe_err *e, int requests)
{
    const cJSON *v;
    const char *secret = jsonu_str(x, "secret");
    ck_assert_int_eq(r->http_status, (long)cJSON_GetObjectItem(x, "status")->valuedouble);
    ck_assert_msg(strstr(e->msg, jsonu_str(x, "error_contains")) != NULL, "%s: %s", name,
                  e->msg);
    if (secret) {
        ck_assert_msg(!strstr(e->msg, secret), "%s: secret in %s", name, e->msg);
        ck_assert_msg(!strstr(r->error_raw, secret), "%s: secret in the raw body", name);
    }
    if ((v = cJSON_GetObjectItem(x, "tools_refused")))
        ck_assert_msg(r->tools_rejected == cJSON_IsTrue(v), "%s: tools_rejected %d", name,
                      r->tools_rejected);
    if ((v = cJSON_GetObjectItem(x, "probes")))
        ck_assert_msg(requests - 1 == (int)v->valuedouble, "%s: %d probes", name, requests - 1);
}

static void replay(const char *dir, const char *name)
{
    char *path = tu_path(dir, name), *text = tu_read(path), *script;
    cJSON *f = jsonu_parse(text, strlen(text), NULL), *entry, *sc;
    const cJSON *x = cJSON_GetObjectItem(f, "expect");
    lb_server *s;
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    llm_request rq = {0};
    llm_response r;
    pe_err e = {0};
    int rc;

    ck_assert_msg(f && jsonu_str(f, "documentation") && x, "%s: malformed fixture", name);
    sc = cJSON_CreateObject();
    entry = cJSON_CreateObject();
    cJSON_AddItemToObject(entry, "status",
                          cJSON_Duplicate(cJSON_GetObjectItem(f, "status"), 1));
    cJSON_AddItemToObject(entry, "body", cJSON_Duplicate(cJSON_GetObjectItem(f, "body"), 1));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(sc, "/v1/chat/completions"), entry);
    script = jsonu_print(sc);
    s = lb_start(script);
    llm_config_default(&c);
    c.base_url = s->base;
    c.model = "m";
    c.http.retries = 0;
    cl = llm_client_new(&c, NULL);
    w = llm_worker_new(cl);
    rq.msgs = MSG;
    rq.nmsgs = 1;
    rq.temperature = -1;
    if (cJSON_IsTrue(cJSON_GetObjectItem(f, "request_tools"))) {
        rq.tools = TOOLS;
        rq.ntools = 2;
        rq.tool_choice = "auto";
    }
    rc = llm_chat(w, &rq, &r, &e);
    if (cJSON_IsTrue(cJSON_GetObjectItem(x, "ok"))) {
        ck_assert_msg(rc == 0, "%s: %s", name, e.msg);
        check_ok(name, x, &r);
    } else {
        ck_assert_msg(rc != 0, "%s: no error", name);
        check_error(name, x, &r, &e, lb_count(s));
    }
    llm_response_free(&r);
    llm_worker_free(w);
    llm_client_free(cl);
    lb_stop(s);
    cJSON_Delete(sc);
    cJSON_Delete(f);
    free(script);
    free(text);
    free(path);
}

START_TEST(provider_corpus)
{
    char *dir = tu_path(tu_root(), "tests/fixtures/providers");
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 5 && !strcmp(de->d_name + l - 5, ".json")) {
            replay(dir, de->d_name);
            n++;
        }
    }
    closedir(d);
    ck_assert_int_ge(n, 28);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("providers");
    TCase *tc = tcase_create("corpus");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, provider_corpus);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
