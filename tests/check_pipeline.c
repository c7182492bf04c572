/* pipeline: what a method's descriptor bits put into the request, read back
 * from the requests the loopback server recorded. The expected RAG prompt is
 * LaMP's published layout (items joined by ", and ", then ". " and the input),
 * written out by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonu.h"
#include "loopback.h"
#include "pipeline.h"
#include "testutil.h"

#define Q "Which tag does this movie relate to among the following tags? Just answer with " \
          "the tag name without further explanation. tags: [sci-fi, based on a book, comedy, " \
          "action, twist ending, dystopia, dark comedy, classic, psychology, fantasy, romance, " \
          "thought-provoking, social commentary, violence, true story] description: "

/* u1's items share 2, 1 and 0 words with its query; u2 and u3 use other labels. */
static const char *DATA =
    "{\"user\":\"u1\",\"history\":["
    "{\"id\":\"a\",\"date\":\"2001-01-01\",\"description\":\"zebra yak quokka\",\"label\":\"comedy\"},"
    "{\"id\":\"b\",\"date\":\"2001-01-02\",\"description\":\"zebra ibis newt\",\"label\":\"action\"},"
    "{\"id\":\"c\",\"date\":\"2001-01-03\",\"description\":\"otter wombat emu\",\"label\":\"comedy\"}],"
    "\"queries\":[{\"id\":\"q1\",\"input\":\"" Q "zebra yak lemur\",\"gold\":\"comedy\"}]}\n"
    "{\"user\":\"u2\",\"history\":["
    "{\"id\":\"d\",\"description\":\"a quiet harbour\",\"label\":\"romance\"},"
    "{\"id\":\"e\",\"description\":\"a dark forest\",\"label\":\"fantasy\"}],"
    "\"queries\":[{\"id\":\"q2\",\"input\":\"" Q "x\",\"gold\":\"romance\"}]}\n"
    "{\"user\":\"u3\",\"history\":["
    "{\"id\":\"f\",\"description\":\"a long war\",\"label\":\"violence\"}],"
    "\"queries\":[{\"id\":\"q3\",\"input\":\"" Q "y\",\"gold\":\"violence\"}]}\n";

typedef struct fixture {
    lb_server *srv;
    llm_client *cl;
    llm_worker *w;
    prompt_set *p;
    dataset d;
    run_shared rs;
    const method *m[1];
    user_state us;
} fixture;

static void setup(fixture *f, const char *mname)
{
    llm_config c;
    pe_err e = {0};
    memset(f, 0, sizeof *f);
    f->srv = lb_start(NULL);
    llm_config_default(&c);
    c.base_url = f->srv->base;
    c.model = "m";
    c.http.retries = 0;
    f->cl = llm_client_new(&c, &e);
    ck_assert_ptr_nonnull(f->cl);
    f->w = llm_worker_new(f->cl);
    ck_assert_int_eq(prompts_load(NULL, &f->p, &e), 0);
    ck_assert_int_eq(dataset_load_mem(&f->d, task_get("lamp2m"), "t.jsonl", DATA, strlen(DATA),
                                      "jsonl", NULL, &e), 0);
    f->m[0] = methods_get(mname);
    ck_assert_ptr_nonnull(f->m[0]);
    f->rs.task = task_get("lamp2m");
    f->rs.data = &f->d;
    f->rs.k = 2;
    f->rs.seed = 42;
    f->rs.methods = f->m;
    f->rs.nmethods = 1;
    f->rs.llm = f->cl;
    f->rs.prompts = f->p;
    f->rs.tools_mode = AGENT_NATIVE;
    f->rs.max_steps = 2;
    f->rs.summary_items = 50;
    f->rs.summary_chars = 24000;
    f->rs.obs_chars = 600;
    f->rs.temperature = 0.1;
    user_state_init(&f->us, &f->d.users[0], 0, 1);
}

static void teardown(fixture *f)
{
    user_state_release(&f->us);
    pthread_mutex_destroy(&f->us.mu);
    dataset_free(&f->d);
    prompts_free(f->p);
    llm_worker_free(f->w);
    llm_client_free(f->cl);
    lb_stop(f->srv);
}

static method_answer answer(fixture *f)
{
    method_answer a;
    pe_err e = {0};
    memset(&a, 0, sizeof a);
    ck_assert_int_eq(pipeline_answer(&f->rs, &f->us, 0, &f->d.users[0].queries[0], f->w, &a, &e),
                     0);
    ck_assert_msg(a.error == NULL, "%s", a.error ? a.error : "");
    return a;
}

/* The body of recorded request n (caller deletes). */
static cJSON *body(fixture *f, int n)
{
    char *log = lb_requests(f->srv), *p = log, *nl;
    cJSON *j, *b;
    for (int i = 0; i < n && p; i++)
        p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
    ck_assert_ptr_nonnull(p);
    nl = strchr(p, '\n');
    j = jsonu_parse(p, nl ? (size_t)(nl - p) : strlen(p), NULL);
    b = cJSON_DetachItemFromObject(j, "body");
    cJSON_Delete(j);
    free(log);
    return b;
}

static const char *content(const cJSON *b, int i, const char *role)
{
    const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(b, "messages"), i);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(jsonu_str(m, "role"), role);
    return jsonu_str(m, "content");
}

START_TEST(prompt_is_the_input_alone)
{
    fixture f;
    method_answer a;
    cJSON *b;
    setup(&f, "prompt");
    a = answer(&f);
    ck_assert_int_eq(lb_count(f.srv), 1);
    b = body(&f, 0);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(b, "messages")), 1);
    ck_assert_str_eq(content(b, 0, "user"), Q "zebra yak lemur");
    ck_assert_ptr_null(cJSON_GetObjectItem(b, "tools"));
    ck_assert_str_eq(a.raw, "echo: " Q "zebra yak lemur");
    cJSON_Delete(b);
    method_answer_free(&a);
    teardown(&f);
}
END_TEST

START_TEST(rag_is_lamps_layout)
{
    fixture f;
    method_answer a;
    cJSON *b;
    setup(&f, "rag");
    a = answer(&f);
    b = body(&f, 0);
    ck_assert_str_eq(content(b, 0, "user"),
                     "the tag for the movie: \"zebra yak quokka\" is \"comedy\" , and "
                     "the tag for the movie: \"zebra ibis newt\" is \"action\" . " Q
                     "zebra yak lemur");
    cJSON_Delete(b);
    method_answer_free(&a);
    teardown(&f);
}
END_TEST

START_TEST(icl_draws_other_users)
{
    fixture f;
    method_answer a;
    cJSON *b;
    const char *u;
    size_t n = 0;
    setup(&f, "icl");
    a = answer(&f);
    b = body(&f, 0);
    u = content(b, 0, "user");
    for (const char *p = u; (p = strstr(p, "\nAnswer: ")); p++) {
        const char *l = p + 9;
        ck_assert_msg(!strncmp(l, "romance\n", 8) || !strncmp(l, "fantasy\n", 8) ||
                          !strncmp(l, "violence\n", 9),
                      "a demonstration not from another user: %.20s", l);
        n++;
    }
    ck_assert_uint_eq(n, 2);
    ck_assert_ptr_nonnull(strstr(u, "\n\n" Q "zebra yak lemur"));
    cJSON_Delete(b);
    method_answer_free(&a);
    teardown(&f);
}
END_TEST

START_TEST(pag_puts_the_summary_first)
{
    fixture f;
    method_answer a;
    cJSON *b;
    const char *u;
    setup(&f, "pag");
    a = answer(&f);
    ck_assert_int_eq(lb_count(f.srv), 2);
    b = body(&f, 0);
    ck_assert_ptr_nonnull(strstr(content(b, 0, "user"), "Past interactions (oldest first):\n"
                                                         "1. [2001-01-01] \"zebra yak quokka\""));
    cJSON_Delete(b);
    b = body(&f, 1);
    u = content(b, 0, "user");
    /* pag.txt: "User profile: {{summary}}", a blank line, then rag's prompt */
    ck_assert_str_eq(u + strlen(u) - strlen(Q "zebra yak lemur\n"), Q "zebra yak lemur\n");
    ck_assert_int_eq(strncmp(u, "User profile: echo: Summarize the user's", 40), 0);
    ck_assert_ptr_nonnull(strstr(u, "\n\nthe tag for the movie: \"zebra yak quokka\" is"));
    cJSON_Delete(b);
    method_answer_free(&a);
    teardown(&f);
}
END_TEST

START_TEST(agent_without_persona_has_the_memory_tool)
{
    fixture f;
    method_answer a;
    cJSON *b, *tools;
    setup(&f, "personaagent-nopersona");
    a = answer(&f);
    b = body(&f, 0);
    ck_assert_int_eq(strncmp(content(b, 0, "system"), "You are a helpful assistant.", 28), 0);
    ck_assert_str_eq(content(b, 1, "user"), Q "zebra yak lemur");
    tools = cJSON_GetObjectItem(b, "tools");
    ck_assert_int_eq(cJSON_GetArraySize(tools), 1); /* no wiki client: no wikipedia tool */
    ck_assert_str_eq(jsonu_str(cJSON_GetObjectItem(cJSON_GetArrayItem(tools, 0), "function"),
                               "name"),
                     "memory_search");
    cJSON_Delete(b);
    method_answer_free(&a);
    teardown(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pipeline");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, prompt_is_the_input_alone);
    tcase_add_test(tc, rag_is_lamps_layout);
    tcase_add_test(tc, icl_draws_other_users);
    tcase_add_test(tc, pag_puts_the_summary_first);
    tcase_add_test(tc, agent_without_persona_has_the_memory_tool);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
