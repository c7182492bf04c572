/* offline: the deterministic responder's rules (docs/llm.md), each with its
 * expected answer worked out by hand. */
#include <stdlib.h>
#include <string.h>

#include "jsonu.h"
#include "llm.h"
#include "offline.h"
#include "task.h"
#include "testutil.h"

static const llm_tool MEM = {"memory_search", "Search the user's memory",
                             "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"}}}"};
static const llm_tool WIKI = {"wikipedia", "Wikipedia summary",
                              "{\"type\":\"object\",\"properties\":{\"topic\":{\"type\":\"string\"}}}"};
static const char TWO[] = "You are a helpful personalized assistant. STRICT RULES: 2. MUST use "
                          "at least TWO tools to answer the question.";

static char *lamp2m_input(const char *desc)
{
    const char *v[1] = {desc};
    return task_build_input(task_get("lamp2m"), v);
}

static void ask(const llm_msg *m, size_t n, const llm_tool *tools, size_t nt, llm_response *r)
{
    llm_request rq = {0};
    rq.msgs = m;
    rq.nmsgs = n;
    rq.tools = tools;
    rq.ntools = nt;
    rq.temperature = -1;
    ck_assert_int_eq(offline_chat(&rq, r, NULL), 0);
    ck_assert_int_eq(r->offline, 1);
    ck_assert_int_eq(r->usage.known, 0);
}

START_TEST(tool_sequence_then_weighted_majority)
{
    char *in = lamp2m_input("A detective hunts a killer in foggy London streets.");
    llm_tool tools[2] = {MEM, WIKI};
    llm_response r, r2;
    llm_tool_call c1, c2;
    const char *obs = "1. [2014-03-02] \"A clown makes jokes\" -> label: comedy (score 1.0)\n"
                      "2. [2015-01-01] \"Cars explode\" -> label: action (score 0.5)\n"
                      "3. [2016-07-09] \"A heist goes wrong\" -> label: action (score 0.6)\n";
    llm_msg m[6] = {{LLM_SYSTEM, TWO, NULL, 0, NULL}, {LLM_USER, in, NULL, 0, NULL}};

    ask(m, 2, tools, 2, &r);
    ck_assert_uint_eq(r.ntool_calls, 1);
    ck_assert_str_eq(r.tool_calls[0].name, "memory_search");
    ck_assert_str_eq(jsonu_str(r.tool_calls[0].args, "query"),
                     "A detective hunts a killer in foggy London streets.");
    ck_assert_str_eq(r.finish_reason, "tool_calls");
    ck_assert_ptr_null(r.content);
    c1 = r.tool_calls[0];
    m[2] = (llm_msg){LLM_ASSISTANT, NULL, &c1, 1, NULL};
    m[3] = (llm_msg){LLM_TOOL, obs, NULL, 0, c1.id};

    ask(m, 4, tools, 2, &r2);
    ck_assert_uint_eq(r2.ntool_calls, 1);
    ck_assert_str_eq(r2.tool_calls[0].name, "wikipedia");
    ck_assert_str_eq(jsonu_str(r2.tool_calls[0].args, "topic"), "A detective hunts a killer");
    ck_assert_str_ne(r2.tool_calls[0].id, c1.id);
    c2 = r2.tool_calls[0];
    m[4] = (llm_msg){LLM_ASSISTANT, NULL, &c2, 1, NULL};
    m[5] = (llm_msg){LLM_TOOL, "London is the capital of England.", NULL, 0, c2.id};
    {
        llm_response r3;
        /* action 0.5 + 0.6 = 1.1 beats comedy 1.0 */
        ask(m, 6, tools, 2, &r3);
        ck_assert_uint_eq(r3.ntool_calls, 0);
        ck_assert_str_eq(r3.content, "action");
        llm_response_free(&r3);
    }
    /* without the two-tools rule the memory result is enough */
    m[0].content = "You are a helpful assistant.";
    {
        llm_response r4;
        ask(m, 4, tools, 2, &r4);
        ck_assert_uint_eq(r4.ntool_calls, 0);
        ck_assert_str_eq(r4.content, "action");
        llm_response_free(&r4);
    }
    llm_response_free(&r);
    llm_response_free(&r2);
    free(in);
}
END_TEST

START_TEST(unweighted_lines_count_one)
{
    char *in = lamp2m_input("Space travel.");
    char *user = xasprintf("%s\n\nRetrieved:\n1. \"a\" -> label: sci-fi\n2. \"b\" -> label: "
                           "comedy\n3. \"c\" -> label: sci-fi\n", in);
    llm_msg m[] = {{LLM_USER, user, NULL, 0, NULL}};
    llm_response r;
    ask(m, 1, NULL, 0, &r);
    ck_assert_str_eq(r.content, "sci-fi");
    llm_response_free(&r);
    free(user);
    free(in);
}
END_TEST

START_TEST(lamp_rag_prompts)
{
    llm_response r;
    const char *v[2] = {"Title", "Stocks fell on Monday."};
    char *in = task_build_input(task_get("lamp2n"), v);
    char *user = xasprintf("the category for the article: \"Team wins\" is \"sports\", the "
                           "category for the article: \"Vote \"today\"\" is \"politics\", the "
                           "category for the article: \"Cup final\" is \"sports\"\n%s", in);
    llm_msg m[] = {{LLM_USER, user, NULL, 0, NULL}};
    ask(m, 1, NULL, 0, &r);
    ck_assert_str_eq(r.content, "sports");
    llm_response_free(&r);
    free(user);
    free(in);

    v[0] = "Nice kettle.";
    in = task_build_input(task_get("lamp3"), v);
    /* mean of 5, 4, 5, 3 = 4.25 -> 4 */
    user = xasprintf("5 is the score for \"great\", 4 is the score for \"good\", 5 is the score "
                     "for \"superb\", 3 is the score for \"ok\"\n%s", in);
    m[0].content = user;
    ask(m, 1, NULL, 0, &r);
    ck_assert_str_eq(r.content, "4");
    llm_response_free(&r);
    free(user);
    free(in);
}
END_TEST

START_TEST(lamp3_weighted_mean_rounds)
{
    const char *v[1] = {"Broke after a week."};
    char *in = task_build_input(task_get("lamp3"), v);
    /* (4*2 + 2*1) / 3 = 3.33 -> 3; (5*1 + 4*1)/2 = 4.5 -> 5 (half up) */
    const char *obs1 = "1. [2020] \"ok\" -> label: 4 (score 2)\n2. [2021] \"bad\" -> label: 2 "
                       "(score 1)";
    const char *obs2 = "1. [2020] \"ok\" -> label: 5 (score 1)\n2. [2021] \"fine\" -> label: 4 "
                       "(score 1)";
    llm_tool_call c = {(char *)"call_1", (char *)"memory_search", (char *)"{}", NULL, NULL};
    llm_msg m[] = {{LLM_USER, in, NULL, 0, NULL},
                   {LLM_ASSISTANT, NULL, &c, 1, NULL},
                   {LLM_TOOL, obs1, NULL, 0, "call_1"}};
    llm_tool tools[1] = {MEM};
    llm_response r;
    ask(m, 3, tools, 1, &r);
    ck_assert_str_eq(r.content, "3");
    llm_response_free(&r);
    m[2].content = obs2;
    ask(m, 3, tools, 1, &r);
    ck_assert_str_eq(r.content, "5");
    llm_response_free(&r);
    free(in);
}
END_TEST

START_TEST(lamp1_more_similar_reference)
{
    char *in = task_build_lamp1_input("Deep nets", "Convolutional networks for image recognition",
                                      "Bayesian inference for protein folding");
    const char *obs = "1. [2019] \"Protein structure prediction with Bayesian models\" "
                      "(score 2.0)\n2. [2018] \"Folding dynamics of protein chains\" (score 1.0)";
    char *user = xasprintf("%s\n%s", in, obs);
    llm_msg m[] = {{LLM_USER, user, NULL, 0, NULL}};
    llm_response r;
    ask(m, 1, NULL, 0, &r);
    ck_assert_str_eq(r.content, "[2]");
    llm_response_free(&r);
    free(user);
    free(in);
}
END_TEST

START_TEST(fallbacks_and_text_protocol)
{
    char *in = lamp2m_input("Ghosts in an old house.");
    llm_msg m[] = {{LLM_SYSTEM, "This user loves fantasy films; fantasy above all, some comedy.",
                    NULL, 0, NULL},
                   {LLM_USER, in, NULL, 0, NULL}};
    llm_response r;
    ask(m, 2, NULL, 0, &r);
    ck_assert_str_eq(r.content, "fantasy");
    llm_response_free(&r);
    ask(m + 1, 1, NULL, 0, &r);
    ck_assert_str_eq(r.content, "sci-fi"); /* first label of lamp2m */
    llm_response_free(&r);
    m[0].content = "Answer with Thought / Action / Final Answer: <label>. The user likes comedy.";
    ask(m, 2, NULL, 0, &r);
    ck_assert_str_eq(r.content, "Final Answer: comedy");
    llm_response_free(&r);
    m[1].content = "Say hello.";
    ask(m + 1, 1, NULL, 0, &r);
    ck_assert_ptr_nonnull(strstr(r.content, "no label list"));
    llm_response_free(&r);
    free(in);
}
END_TEST

START_TEST(feedback_update_summary)
{
    const char *fb_prompt =
        "You are a meticulous and critical evaluator of personalized AI agent responses.\n\n"
        "Question: Which tag?\n\nExpected Answer: comedy\nAgent Response: horror\n\nFeedback:";
    llm_msg m[] = {{LLM_USER, fb_prompt, NULL, 0, NULL}};
    llm_response r, r2;
    char *upd;

    ask(m, 1, NULL, 0, &r);
    ck_assert_ptr_nonnull(strstr(r.content, "answered \"horror\""));
    ck_assert_ptr_nonnull(strstr(r.content, "expected answer was \"comedy\""));

    upd = xasprintf("You are a prompt engineering assistant.\n\nCurrent system prompt: You are "
                    "a helpful assistant.\nUser summary: likes films.\nPreferred answers: "
                    "drama\nProvided Feedback: %s\nExpected Answer: action\n\nBased on the "
                    "feedback above, generate an updated system prompt.", r.content);
    m[0].content = upd;
    ask(m, 1, NULL, 0, &r2);
    ck_assert_str_eq(r2.content, "You are a helpful assistant.\nUser summary: likes films.\n"
                                 "Preferred answers: drama; comedy; action");
    llm_response_free(&r2);
    free(upd);
    llm_response_free(&r);

    m[0].content = "Summarize the user's preferences from these items:\n"
                   "1. [2010] \"a\" -> label: comedy\n2. [2011] \"b\" -> label: action\n"
                   "3. [2012] \"c\" -> label: comedy\n4. [2013] \"d\" -> label: romance\n"
                   "5. [2014] \"e\" -> label: action\n6. [2015] \"f\" -> label: comedy\n"
                   "7. [2016] \"g\" -> label: drama\n";
    ask(m, 1, NULL, 0, &r);
    ck_assert_str_eq(r.content, "Most frequent labels among the listed items: comedy (3), "
                                "action (2), romance (1).");
    llm_response_free(&r);
}
END_TEST

START_TEST(through_the_client)
{
    llm_config c;
    llm_client *cl;
    llm_worker *w;
    llm_response r;
    llm_totals t;
    char *in = lamp2m_input("Robots.");
    llm_msg m[] = {{LLM_USER, in, NULL, 0, NULL}};
    llm_request rq = {0};

    llm_config_default(&c);
    c.backend = LLM_BACKEND_OFFLINE;
    cl = llm_client_new(&c, NULL);
    ck_assert_ptr_nonnull(cl);
    w = llm_worker_new(cl);
    rq.msgs = m;
    rq.nmsgs = 1;
    rq.temperature = -1;
    ck_assert_int_eq(llm_chat(w, &rq, &r, NULL), 0);
    ck_assert_str_eq(r.content, "sci-fi");
    ck_assert_int_eq(r.offline, 1);
    ck_assert_int_gt(r.usage.est_prompt_tokens, 0);
    llm_response_free(&r);
    llm_get_totals(cl, &t);
    ck_assert_uint_eq(t.calls, 1);
    ck_assert_uint_eq(t.unknown_usage, 1);
    ck_assert_uint_eq(t.prompt_tokens, 0);
    ck_assert_uint_eq(t.http_requests, 0);
    llm_worker_free(w);
    llm_client_free(cl);
    free(in);
}
END_TEST

/* The text ReAct protocol: tool names listed in a system prompt that carries the
 * react_text instructions. */
START_TEST(text_protocol_tool_sequence)
{
    char *in = lamp2m_input("A detective hunts a killer in foggy London streets.");
    const char *sys = "You are a helpful personalized assistant. MUST use at least TWO tools.\n\n"
                      "You can use these tools:\nmemory_search: Retrieve items.\n\nwikipedia: "
                      "Summaries.\n\nAction: one of [memory_search, wikipedia]\nAction Input: "
                      "the input\nFinal Answer: the answer";
    const char *a1 = "Thought: I should look for similar items in the user's memory.\n"
                     "Action: memory_search\nAction Input: A detective hunts a killer in foggy "
                     "London streets.";
    const char *obs = "Observation: 1. [2014-03-02] \"A clown\" -> label: comedy (score 1.0)\n"
                      "2. [2015-01-01] \"Cars explode\" -> label: action (score 0.5)\n"
                      "3. [2016-07-09] \"A heist\" -> label: action (score 0.6)\n";
    llm_msg m[6] = {{LLM_SYSTEM, sys, NULL, 0, NULL}, {LLM_USER, in, NULL, 0, NULL}};
    llm_response r;

    ask(m, 2, NULL, 0, &r);
    ck_assert_str_eq(r.content, a1);
    ck_assert_uint_eq(r.ntool_calls, 0);
    llm_response_free(&r);
    m[2] = (llm_msg){LLM_ASSISTANT, a1, NULL, 0, NULL};
    m[3] = (llm_msg){LLM_USER, obs, NULL, 0, NULL};
    ask(m, 4, NULL, 0, &r);
    ck_assert_str_eq(r.content, "Thought: I should get background knowledge on the topic.\n"
                                "Action: wikipedia\nAction Input: A detective hunts a killer");
    m[4] = (llm_msg){LLM_ASSISTANT, r.content, NULL, 0, NULL};
    m[5] = (llm_msg){LLM_USER, "Observation: London is a city.", NULL, 0, NULL};
    {
        llm_response r2;
        /* the first observation line counts too: action 1.1 beats comedy 1.0 */
        ask(m, 6, NULL, 0, &r2);
        ck_assert_str_eq(r2.content, "Final Answer: action");
        llm_response_free(&r2);
        /* the final prompt instead of an observation: no more tools */
        m[3] = (llm_msg){LLM_USER, "You have used all your steps.", NULL, 0, NULL};
        ask(m, 4, NULL, 0, &r2);
        /* no items, no label named in the system prompt ("Action:" is a keyword): the first */
        ck_assert_str_eq(r2.content, "Final Answer: sci-fi");
        llm_response_free(&r2);
    }
    llm_response_free(&r);
    free(in);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("offline");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, tool_sequence_then_weighted_majority);
    tcase_add_test(tc, unweighted_lines_count_one);
    tcase_add_test(tc, lamp_rag_prompts);
    tcase_add_test(tc, lamp3_weighted_mean_rounds);
    tcase_add_test(tc, lamp1_more_similar_reference);
    tcase_add_test(tc, fallbacks_and_text_protocol);
    tcase_add_test(tc, feedback_update_summary);
    tcase_add_test(tc, through_the_client);
    tcase_add_test(tc, text_protocol_tool_sequence);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
