/* agent: the text-protocol parser on realistic model turns, and the loop against
 * the loopback server (native tool calls, text protocol, AUTO fallback, step
 * limit, bad arguments, unknown tools, failures) and the offline responder. */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "jsonu.h"
#include "loopback.h"
#include "memory.h"
#include "task.h"
#include "testutil.h"
#include "tools.h"

/* ---- parser ------------------------------------------------------------------------------ */

static void expect_action(const char *text, const char *name, const char *input)
{
    agent_step s;
    agent_parse_text(text, 0, &s);
    ck_assert_msg(s.kind == AGENT_STEP_ACTION, "not an action: %s", text);
    ck_assert_str_eq(s.action, name);
    ck_assert_str_eq(s.input, input);
    agent_step_free(&s);
}

static void expect_final(const char *text, int last, const char *answer)
{
    agent_step s;
    agent_parse_text(text, last, &s);
    ck_assert_msg(s.kind == AGENT_STEP_FINAL, "not final: %s", text);
    ck_assert_str_eq(s.answer, answer);
    agent_step_free(&s);
}

START_TEST(parse_actions)
{
    agent_step s;
    const char *t = "Thought: I need the user's history.\nAction: memory_search\n"
                    "Action Input: detective films\nObservation: 1. made up\nFinal Answer: x";

    agent_parse_text(t, 0, &s);
    ck_assert_int_eq(s.kind, AGENT_STEP_ACTION);
    ck_assert_str_eq(s.thought, "I need the user's history.");
    ck_assert_str_eq(s.action, "memory_search");
    ck_assert_str_eq(s.input, "detective films");
    /* cut after the Action Input line: the hallucinated observation is dropped */
    ck_assert_uint_eq(s.end, (size_t)(strstr(t, "\nObservation") - t));
    agent_step_free(&s);

    expect_action("action:   `memory_search`\naction input: \"robots\"", "memory_search", "robots");
    expect_action("ACTION: 'wikipedia' (to get background)\nACTION INPUT: Film noir", "wikipedia",
                  "Film noir");
    expect_action("Action: memory_search\nAction Input: {\"query\": \"space opera\"}",
                  "memory_search", "space opera");
    expect_action("Action: memory_search\nAction Input: ```json\n{\"query\": \"heists\"}\n```",
                  "memory_search", "heists");
    expect_action("Action: wikipedia\nAction Input: \"Albert Einstein\"", "wikipedia",
                  "Albert Einstein");
    /* multi-line plain input up to the next keyword */
    expect_action("Action: memory_search\nAction Input: a film about\ntwo detectives\nThought: x",
                  "memory_search", "a film about\ntwo detectives");
    /* no Thought, prose before, markdown bold */
    expect_action("Let me check the memory first.\n**Action:** memory_search\n**Action Input:** "
                  "cop dramas", "memory_search", "cop dramas");
    expect_action("Thought 1: search\nAction 1: memory_search\nAction Input 1: crime",
                  "memory_search", "crime");
    /* the original ReAct bracket style */
    expect_action("Action: wikipedia[Film noir]", "wikipedia", "Film noir");
    expect_action("Action: memory_search.\nAction Input: x", "memory_search", "x");
    /* no input at all */
    expect_action("Action: memory_search", "memory_search", "");

    agent_parse_text("Thought: hmm\nAction: memory_search", 0, &s);
    ck_assert_str_eq(s.thought, "hmm");
    ck_assert_uint_eq(s.end, strlen("Thought: hmm\nAction: memory_search"));
    agent_step_free(&s);
    agent_parse_text("I will search.\nAction: memory_search\nAction Input: x", 0, &s);
    ck_assert_str_eq(s.thought, "I will search.");
    agent_step_free(&s);
}
END_TEST

START_TEST(parse_finals)
{
    agent_step s;

    expect_final("Thought: I now know the final answer\nFinal Answer: comedy", 0, "comedy");
    expect_final("final answer:   [2]  ", 0, "[2]");
    expect_final("Final_Answer: 4", 0, "4");
    expect_final("**Final Answer:** sci-fi", 0, "sci-fi");
    /* inline after a thought */
    expect_final("Thought: it is clearly a comedy. Final Answer: comedy", 0, "comedy");
    /* a multi-line answer up to the next keyword */
    expect_final("Final Answer: line one\nline two\nObservation: x", 0, "line one\nline two");
    expect_final("Final Answer:\ncomedy", 0, "comedy");
    /* the first of Action and Final Answer wins */
    expect_final("Final Answer: comedy\nAction: memory_search\nAction Input: x", 0, "comedy");
    expect_action("Action: memory_search\nAction Input: x\nFinal Answer: comedy", "memory_search",
                  "x");
    /* neither: NONE, unless it is the last step */
    agent_parse_text("It is probably a comedy.", 0, &s);
    ck_assert_int_eq(s.kind, AGENT_STEP_NONE);
    ck_assert_ptr_null(s.answer);
    agent_step_free(&s);
    expect_final("  comedy\n", 1, "comedy");
    /* the last step never runs a tool */
    expect_final("Action: memory_search\nAction Input: x", 1, "Action: memory_search\n"
                                                              "Action Input: x");
    expect_final("Action: memory_search\nFinal Answer: drama", 1, "drama");
    /* words that merely start like keywords */
    agent_parse_text("Actions speak louder.\nThoughtful: no", 0, &s);
    ck_assert_int_eq(s.kind, AGENT_STEP_NONE);
    agent_step_free(&s);
    agent_parse_text(NULL, 0, &s);
    ck_assert_int_eq(s.kind, AGENT_STEP_NONE);
    agent_step_free(&s);
}
END_TEST

/* ---- the loop ---------------------------------------------------------------------------- */

typedef struct fake {
    int runs;
    char last[256];
} fake;

static char *fake_run(void *ctx, const char *input)
{
    fake *f = ctx;
    f->runs++;
    snprintf(f->last, sizeof f->last, "%s", input);
    return xasprintf("OBS[%s]", input);
}

static prompt_set *P;
static fake FM, FW;

static void tools2(agent_tool t[2])
{
    t[0] = (agent_tool){"memory_search", prompts_get(P, "tool_memory"), "query", "the query",
                        fake_run, &FM};
    t[1] = (agent_tool){"wikipedia", prompts_get(P, "tool_wikipedia"), "topic", "the topic",
                        fake_run, &FW};
}

static void setup(void)
{
    ck_assert_int_eq(prompts_load(NULL, &P, NULL), 0);
    memset(&FM, 0, sizeof FM);
    memset(&FW, 0, sizeof FW);
}

static void teardown(void)
{
    prompts_free(P);
}

static llm_client *client(const char *base, int offline)
{
    llm_config c;
    llm_client *cl;
    pe_err e = {0};
    llm_config_default(&c);
    c.base_url = base;
    c.model = "m";
    c.backend = offline ? LLM_BACKEND_OFFLINE : LLM_BACKEND_HTTP;
    c.http.retries = 0;
    c.http.timeout_s = 5;
    c.http.backoff_base_s = 0.01;
    c.price_in = 1;   /* USD per 10^6 tokens */
    c.price_out = 2;
    cl = llm_client_new(&c, &e);
    ck_assert_msg(cl != NULL, "%s", e.msg);
    return cl;
}

static cJSON *body_n(lb_server *s, int n)
{
    char *log = lb_requests(s), *p = log, *nl;
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

static const cJSON *msg(const cJSON *body, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(body, "messages"), i);
}

static int nmsgs(const cJSON *body)
{
    return cJSON_GetArraySize(cJSON_GetObjectItem(body, "messages"));
}

#define USAGE "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5}"
#define TEXT(s) "{\"body\":{\"choices\":[{\"finish_reason\":\"stop\",\"message\":{\"content\":" \
                s "}}]," USAGE "}}"
#define CALL(id, name, args) "{\"id\":\"" id "\",\"type\":\"function\",\"function\":{\"name\":\"" \
                             name "\",\"arguments\":" args "}}"
#define CALLS(...) "{\"body\":{\"choices\":[{\"finish_reason\":\"tool_calls\",\"message\":{" \
                   "\"content\":null,\"tool_calls\":[" __VA_ARGS__ "]}}]," USAGE "}}"

static agent_opts opts(const agent_tool *t, size_t nt, agent_mode mode)
{
    agent_opts o;
    memset(&o, 0, sizeof o);
    o.system = "You are a persona: loves film noir.";
    o.user = "Which tag does this movie relate to? description: A detective in the rain.";
    o.tools = t;
    o.ntools = nt;
    o.mode = mode;
    o.prompts = P;
    o.temperature = -1;
    return o;
}

START_TEST(native_tool_calls)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":["
                            CALLS(CALL("c1", "memory_search", "\"{\\\"query\\\": \\\"rainy "
                                                              "detectives\\\"}\"") ","
                                  CALL("c2", "wikipedia", "\"{\\\"topic\\\":\\\"Film noir\\\"}\""))
                            "," TEXT("\"noir\"") "]}");
    llm_client *cl = client(s->base, 0);
    llm_worker *w = llm_worker_new(cl);
    agent_tool t[2];
    agent_opts o;
    agent_result r;
    cJSON *b, *tl, *fn, *tr;
    char *sch;

    tools2(t);
    o = opts(t, 2, AGENT_NATIVE);
    ck_assert_int_eq(agent_run(w, &o, &r, NULL), 0);
    ck_assert_str_eq(r.answer, "noir");
    ck_assert_ptr_null(r.error);
    ck_assert_int_eq(r.calls, 2);
    ck_assert_int_eq(r.tool_calls, 2);
    ck_assert_int_eq(r.prompt_tokens, 20);
    ck_assert_int_eq(r.completion_tokens, 10);
    ck_assert_double_eq_tol(r.cost_usd, (20 * 1 + 10 * 2) / 1e6, 1e-12);
    ck_assert_str_eq(FM.last, "rainy detectives");
    ck_assert_str_eq(FW.last, "Film noir");

    b = body_n(s, 0);
    ck_assert_str_eq(jsonu_str(msg(b, 0), "role"), "system");
    ck_assert_str_eq(jsonu_str(msg(b, 0), "content"), o.system);
    ck_assert_str_eq(jsonu_str(msg(b, 1), "content"), o.user);
    ck_assert_str_eq(jsonu_str(b, "tool_choice"), "auto");
    tl = cJSON_GetObjectItem(b, "tools");
    ck_assert_int_eq(cJSON_GetArraySize(tl), 2);
    fn = cJSON_GetObjectItem(cJSON_GetArrayItem(tl, 0), "function");
    ck_assert_str_eq(jsonu_str(fn, "name"), "memory_search");
    /* Appendix C, verbatim from the prompt file */
    ck_assert_ptr_nonnull(strstr(jsonu_str(fn, "description"), "Retrieve top-k relevant "
                                                               "items/histories from the user "
                                                               "memory"));
    ck_assert_str_eq(jsonu_str(fn, "description"), prompts_get(P, "tool_memory"));
    sch = jsonu_print(cJSON_GetObjectItem(fn, "parameters"));
    ck_assert_str_eq(sch, "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\","
                          "\"description\":\"the query\"}},\"required\":[\"query\"]}");
    free(sch);
    fn = cJSON_GetObjectItem(cJSON_GetArrayItem(tl, 1), "function");
    ck_assert_str_eq(jsonu_str(fn, "description"), prompts_get(P, "tool_wikipedia"));
    cJSON_Delete(b);

    b = body_n(s, 1);
    ck_assert_int_eq(nmsgs(b), 5);
    ck_assert_str_eq(jsonu_str(msg(b, 2), "role"), "assistant");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(msg(b, 2), "tool_calls")), 2);
    ck_assert_str_eq(jsonu_str(msg(b, 3), "role"), "tool");
    ck_assert_str_eq(jsonu_str(msg(b, 3), "tool_call_id"), "c1");
    ck_assert_str_eq(jsonu_str(msg(b, 3), "content"), "OBS[rainy detectives]");
    ck_assert_str_eq(jsonu_str(msg(b, 4), "tool_call_id"), "c2");
    ck_assert_str_eq(jsonu_str(msg(b, 4), "content"), "OBS[Film noir]");
    cJSON_Delete(b);

    tr = jsonu_parse(r.trace, strlen(r.trace), NULL);
    ck_assert_int_eq(cJSON_GetArraySize(tr), 2);
    {
        const cJSON *e0 = cJSON_GetArrayItem(tr, 0), *e1 = cJSON_GetArrayItem(tr, 1);
        ck_assert_str_eq(jsonu_str(e0, "mode"), "native");
        ck_assert_int_eq(cJSON_GetObjectItem(e0, "step")->valueint, 1);
        ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(e0, "request"),
                                             "messages")->valueint, 2);
        ck_assert_str_eq(jsonu_str(cJSON_GetArrayItem(cJSON_GetObjectItem(e0, "tool_calls"), 1),
                                   "input"), "Film noir");
        ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(e0, "observations"), 0)
                             ->valuestring, "OBS[rainy detectives]");
        ck_assert_str_eq(jsonu_str(e0, "finish_reason"), "tool_calls");
        ck_assert_int_eq(cJSON_GetObjectItem(e0, "prompt_tokens")->valueint, 10);
        ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(e0, "cached")));
        ck_assert(cJSON_IsNull(cJSON_GetObjectItem(e0, "content")));
        ck_assert_str_eq(jsonu_str(e1, "content"), "noir");
    }
    cJSON_Delete(tr);
    agent_result_free(&r);
    llm_worker_free(w);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

START_TEST(text_protocol_round_trip)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":["
                            TEXT("\"Thought: look it up\\nAction: `memory_search`\\nAction Input: "
                                 "{\\\"query\\\": \\\"rain\\\"}\\nObservation: invented\"")
                            "," TEXT("\"Action: web_search\\nAction Input: x\"")
                            "," TEXT("\"Thought: done\\nFinal Answer: noir\"") "]}");
    llm_client *cl = client(s->base, 0);
    llm_worker *w = llm_worker_new(cl);
    agent_tool t[2];
    agent_opts o;
    agent_result r;
    cJSON *b;
    const char *sys;

    tools2(t);
    o = opts(t, 2, AGENT_TEXT);
    ck_assert_int_eq(agent_run(w, &o, &r, NULL), 0);
    ck_assert_str_eq(r.answer, "noir");
    ck_assert_int_eq(r.calls, 3);
    ck_assert_int_eq(r.tool_calls, 1);
    ck_assert_int_eq(FM.runs, 1);

    b = body_n(s, 0);
    ck_assert_ptr_null(cJSON_GetObjectItem(b, "tools"));
    sys = jsonu_str(msg(b, 0), "content");
    /* the persona, then the react_text instructions with the tools */
    ck_assert(!strncmp(sys, "You are a persona: loves film noir.\n\nYou can use these tools:\n",
                       strlen("You are a persona: loves film noir.\n\nYou can use these tools:\n")));
    {
        char *blk = xasprintf("memory_search: %s\n\nwikipedia: %s", prompts_get(P, "tool_memory"),
                              prompts_get(P, "tool_wikipedia"));
        ck_assert_ptr_nonnull(strstr(sys, blk));
        free(blk);
    }
    ck_assert_ptr_nonnull(strstr(sys, "one of [memory_search, wikipedia]"));
    cJSON_Delete(b);

    b = body_n(s, 1);
    ck_assert_int_eq(nmsgs(b), 4);
    ck_assert_str_eq(jsonu_str(msg(b, 2), "role"), "assistant");
    ck_assert_str_eq(jsonu_str(msg(b, 2), "content"), "Thought: look it up\nAction: "
                                                      "`memory_search`\nAction Input: "
                                                      "{\"query\": \"rain\"}");
    ck_assert_str_eq(jsonu_str(msg(b, 3), "role"), "user");
    ck_assert_str_eq(jsonu_str(msg(b, 3), "content"), "Observation: OBS[rain]");
    cJSON_Delete(b);
    b = body_n(s, 2);
    ck_assert_int_eq(nmsgs(b), 6);
    ck_assert_ptr_nonnull(strstr(jsonu_str(msg(b, 5), "content"),
                                 "Observation: Error: there is no tool named \"web_search\". "
                                 "Available tools: memory_search, wikipedia."));
    cJSON_Delete(b);
    ck_assert_ptr_nonnull(strstr(r.trace, "\"mode\":\"text\""));
    agent_result_free(&r);
    llm_worker_free(w);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

START_TEST(auto_falls_back_to_text)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":["
                            "{\"status\":400,\"body\":{\"error\":{\"message\":\"tools are not "
                            "supported\"}}},"
                            TEXT("\"Action: memory_search\\nAction Input: rain\"") ","
                            TEXT("\"Final Answer: noir\"") ","
                            TEXT("\"Final Answer: drama\"") "]}");
    llm_client *cl = client(s->base, 0);
    llm_worker *w = llm_worker_new(cl);
    agent_tool t[2];
    agent_opts o;
    agent_result r;
    atomic_int flag = 0;
    cJSON *b;

    tools2(t);
    o = opts(t, 2, AGENT_AUTO);
    o.text_fallback = &flag;
    ck_assert_int_eq(agent_run(w, &o, &r, NULL), 0);
    ck_assert_str_eq(r.answer, "noir");
    ck_assert_int_eq(atomic_load(&flag), 1);
    ck_assert_int_eq(r.calls, 3);
    ck_assert_ptr_nonnull(strstr(r.trace, "\"event\":\"text_fallback\""));
    ck_assert_ptr_nonnull(strstr(r.trace, "\"first_in_run\":true"));
    b = body_n(s, 0);
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(b, "tools"));
    cJSON_Delete(b);
    b = body_n(s, 1); /* the same step again, in text mode */
    ck_assert_ptr_null(cJSON_GetObjectItem(b, "tools"));
    ck_assert_ptr_nonnull(strstr(jsonu_str(msg(b, 0), "content"), "Action Input:"));
    ck_assert_int_eq(nmsgs(b), 2);
    cJSON_Delete(b);
    agent_result_free(&r);
    /* a later query goes straight to text */
    ck_assert_int_eq(agent_run(w, &o, &r, NULL), 0);
    ck_assert_str_eq(r.answer, "drama");
    ck_assert_int_eq(r.calls, 1);
    ck_assert_ptr_null(strstr(r.trace, "text_fallback"));
    b = body_n(s, 3);
    ck_assert_ptr_null(cJSON_GetObjectItem(b, "tools"));
    cJSON_Delete(b);
    agent_result_free(&r);
    llm_worker_free(w);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

START_TEST(step_limit_then_final_call)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":["
                            CALLS(CALL("a", "memory_search", "\"{\\\"query\\\":\\\"q1\\\"}\"")) ","
                            CALLS(CALL("b", "memory_search", "\"{\\\"query\\\":\\\"q2\\\"}\"")) ","
                            TEXT("\" Final answer: noir \"") "]}");
    llm_client *cl = client(s->base, 0);
    llm_worker *w = llm_worker_new(cl);
    agent_tool t[2];
    agent_opts o;
    agent_result r;
    cJSON *b;

    tools2(t);
    o = opts(t, 2, AGENT_NATIVE);
    o.max_steps = 2;
    ck_assert_int_eq(agent_run(w, &o, &r, NULL), 0);
    ck_assert_int_eq(r.calls, 3);
    ck_assert_int_eq(r.tool_calls, 2);
    ck_assert_str_eq(r.answer, "Final answer: noir"); /* extraction is the caller's */
    b = body_n(s, 2);
    ck_assert_str_eq(jsonu_str(b, "tool_choice"), "none");
    ck_assert_int_eq(nmsgs(b), 7);
    ck_assert_str_eq(jsonu_str(msg(b, 6), "role"), "user");
    ck_assert_str_eq(jsonu_str(msg(b, 6), "content"), prompts_get(P, "final_answer"));
    cJSON_Delete(b);
    ck_assert_ptr_nonnull(strstr(r.trace, "\"final\":true"));
    agent_result_free(&r);
    llm_worker_free(w);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

START_TEST(text_step_limit_accepts_plain_answer)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":["
                            TEXT("\"I think it is noir.\"") ","
                            TEXT("\"noir\"") "]}");
    llm_client *cl = client(s->base, 0);
    llm_worker *w = llm_worker_new(cl);
    agent_tool t[2];
    agent_opts o;
    agent_result r;
    cJSON *b;

    tools2(t);
    o = opts(t, 2, AGENT_TEXT);
    o.max_steps = 1;
    ck_assert_int_eq(agent_run(w, &o, &r, NULL), 0);
    ck_assert_str_eq(r.answer, "noir");
    ck_assert_int_eq(r.calls, 2);
    b = body_n(s, 1);
    /* the format reminder, then the final prompt */
    ck_assert_int_eq(nmsgs(b), 5);
    ck_assert_ptr_nonnull(strstr(jsonu_str(msg(b, 3), "content"), "Invalid format"));
    ck_assert_str_eq(jsonu_str(msg(b, 4), "content"), prompts_get(P, "final_answer"));
    cJSON_Delete(b);
    agent_result_free(&r);
    llm_worker_free(w);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

START_TEST(invalid_arguments_and_unknown_tool)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":["
                            CALLS(CALL("x1", "memory_search", "\"{query: films}\"") ","
                                  CALL("x2", "google", "\"{\\\"q\\\":\\\"a\\\"}\"") ","
                                  CALL("x3", "memory_search", "\"{\\\"q\\\":\\\"typo key\\\"}\""))
                            "," TEXT("\"noir\"") "]}");
    llm_client *cl = client(s->base, 0);
    llm_worker *w = llm_worker_new(cl);
    agent_tool t[2];
    agent_opts o;
    agent_result r;
    cJSON *b;

    tools2(t);
    o = opts(t, 2, AGENT_NATIVE);
    ck_assert_int_eq(agent_run(w, &o, &r, NULL), 0);
    ck_assert_str_eq(r.answer, "noir");
    b = body_n(s, 1);
    ck_assert_int_eq(nmsgs(b), 6);
    ck_assert_str_eq(jsonu_str(msg(b, 3), "tool_call_id"), "x1");
    ck_assert(!strncmp(jsonu_str(msg(b, 3), "content"), "Error: ", 7));
    ck_assert_ptr_nonnull(strstr(jsonu_str(msg(b, 3), "content"), "not valid JSON"));
    ck_assert_str_eq(jsonu_str(msg(b, 4), "content"), "Error: there is no tool named \"google\". "
                                                      "Available tools: memory_search, "
                                                      "wikipedia.");
    /* a wrong key with a string value is still understood */
    ck_assert_str_eq(jsonu_str(msg(b, 5), "content"), "OBS[typo key]");
    ck_assert_int_eq(FM.runs, 1);
    cJSON_Delete(b);
    agent_result_free(&r);
    llm_worker_free(w);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

START_TEST(failing_request_is_an_error_result)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":["
                            CALLS(CALL("a", "memory_search", "\"{\\\"query\\\":\\\"q\\\"}\"")) ","
                            "{\"status\":500,\"body\":{\"error\":{\"message\":\"boom\"}}}]}");
    llm_client *cl = client(s->base, 0);
    llm_worker *w = llm_worker_new(cl);
    agent_tool t[2];
    agent_opts o;
    agent_result r;
    pe_err e = {0};

    tools2(t);
    o = opts(t, 2, AGENT_NATIVE);
    ck_assert_int_eq(agent_run(w, &o, &r, &e), 0);
    ck_assert_ptr_null(r.answer);
    ck_assert_ptr_nonnull(strstr(r.error, "HTTP 500"));
    ck_assert_ptr_nonnull(strstr(r.error, "boom"));
    ck_assert_int_eq(r.calls, 2);
    ck_assert_ptr_nonnull(strstr(r.trace, "\"error\":"));
    agent_result_free(&r);
    llm_worker_free(w);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

START_TEST(unavailable_endpoint_stops)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":[{\"status\":401,\"repeat\":5,"
                            "\"body\":{\"error\":{\"message\":\"bad key\"}}}]}");
    llm_client *cl = client(s->base, 0);
    llm_worker *w = llm_worker_new(cl);
    agent_opts o = opts(NULL, 0, AGENT_NATIVE);
    agent_result r;
    pe_err e = {0};
    int rc = 0;

    /* the fatal-early detector fires on the third refused request */
    for (int i = 0; i < 3; i++) {
        rc = agent_run(w, &o, &r, &e);
        if (i < 2) {
            ck_assert_int_eq(rc, 0);
            ck_assert_ptr_nonnull(r.error);
        }
        agent_result_free(&r);
    }
    ck_assert_int_eq(rc, PE_EXIT_UNAVAILABLE);
    llm_worker_free(w);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

START_TEST(no_tools_single_call)
{
    lb_server *s = lb_start(NULL);
    llm_client *cl = client(s->base, 0);
    llm_worker *w = llm_worker_new(cl);
    agent_opts o = opts(NULL, 0, AGENT_AUTO);
    agent_result r;

    o.system = NULL;
    ck_assert_int_eq(agent_run(w, &o, &r, NULL), 0);
    ck_assert_str_eq(r.answer, "echo: Which tag does this movie relate to? description: A "
                               "detective in the rain.");
    ck_assert_int_eq(r.calls, 1);
    ck_assert_int_eq(r.prompt_tokens, 11); /* the default responder's usage */
    agent_result_free(&r);
    ck_assert_int_eq(lb_count(s), 1);
    {
        cJSON *b = body_n(s, 0);
        ck_assert_int_eq(nmsgs(b), 1);
        ck_assert_ptr_null(cJSON_GetObjectItem(b, "tools"));
        cJSON_Delete(b);
    }
    llm_worker_free(w);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

/* ---- the offline responder drives the loop ------------------------------------------------ */

static void offline_loop(agent_mode mode)
{
    ds_item it[] = {
        {(char *)"h0", (char *)"2014-01-01", {(char *)"A detective in a rainy city", (char *)""},
         (char *)"action", 0},
        {(char *)"h1", (char *)"2015-01-01", {(char *)"Detective hunts a killer in rain",
                                              (char *)""}, (char *)"action", 0},
        {(char *)"h2", (char *)"2016-01-01", {(char *)"A clown tells jokes", (char *)""},
         (char *)"comedy", 0},
    };
    ds_user u = {(char *)"u", it, 3, NULL, 0};
    memory *m;
    memory_tool_ctx mc;
    agent_tool t[2];
    llm_client *cl = client("http://unused", 1);
    llm_worker *w = llm_worker_new(cl);
    const char *v[1] = {"A detective walks in the rain."};
    char *in = task_build_input(task_get("lamp2m"), v);
    agent_opts o;
    agent_result r;

    ck_assert_int_eq(memory_build(task_get("lamp2m"), &u, NULL, &m, NULL), 0);
    mc = (memory_tool_ctx){m, 2, NULL, 0, NULL};
    t[0] = tools_memory(P, &mc);
    t[1] = (agent_tool){"wikipedia", prompts_get(P, "tool_wikipedia"), "topic", NULL, fake_run,
                        &FW};
    o = opts(t, 2, mode);
    o.system = "You are a helpful assistant. STRICT RULES: MUST use at least TWO tools.";
    o.user = in;
    ck_assert_int_eq(agent_run(w, &o, &r, NULL), 0);
    ck_assert_ptr_null(r.error);
    /* the two detective items (action) are retrieved; the answer is their label */
    ck_assert_str_eq(r.answer, "action");
    ck_assert_int_eq(r.calls, 3);
    ck_assert_int_eq(r.tool_calls, 2);
    ck_assert_str_eq(FW.last, "A detective walks in the");
    ck_assert_int_eq(r.prompt_tokens, -1); /* the offline responder reports no usage */
    ck_assert(r.cost_usd < 0);
    ck_assert(r.est_prompt_tokens > 0);
    agent_result_free(&r);
    memory_free(m);
    free(in);
    llm_worker_free(w);
    llm_client_free(cl);
}

START_TEST(tool_call_flood_bounded)
{
    lb_server *s = lb_start(NULL);
    char *base = lb_base_ctl(s, "agent,flood=5000");
    llm_client *cl = client(base, 0);
    llm_worker *w = llm_worker_new(cl);
    agent_tool t[2];
    agent_opts o;
    agent_result r;
    cJSON *b, *last;
    const cJSON *calls;

    tools2(t);
    o = opts(t, 2, AGENT_NATIVE);
    o.max_steps = 2;
    ck_assert_int_eq(agent_run(w, &o, &r, NULL), 0);
    ck_assert_ptr_nonnull(r.answer);
    ck_assert_int_eq(r.calls, 3);                  /* two flooded steps and the final call */
    ck_assert_int_eq(r.tool_calls, 2 * 8);         /* 8 run per response */
    ck_assert_int_eq(r.tool_calls_dropped, 2 * (5000 - 8));
    ck_assert_int_eq(FM.runs, 16);
    ck_assert_ptr_nonnull(strstr(r.trace, "\"tool_calls_dropped\":4992"));
    ck_assert_uint_lt(strlen(r.trace), AGENT_MAX_TRACE_BYTES);
    /* the follow-up request: 8 calls echoed, 8 results, the last one says why */
    b = body_n(s, 1);
    ck_assert_int_eq(nmsgs(b), 2 + 1 + 8);
    calls = cJSON_GetObjectItem(msg(b, 2), "tool_calls");
    ck_assert_int_eq(cJSON_GetArraySize(calls), 8);
    last = (cJSON *)msg(b, 10);
    ck_assert_str_eq(jsonu_str(last, "role"), "tool");
    ck_assert_ptr_nonnull(strstr(jsonu_str(last, "content"), "made 5000 tool calls; only the "
                                                             "first 8 were run"));
    cJSON_Delete(b);
    agent_result_free(&r);
    llm_worker_free(w);
    llm_client_free(cl);
    free(base);
    lb_stop(s);
}
END_TEST

START_TEST(huge_argument_cut)
{
    lb_server *s = lb_start(NULL);
    char *base = lb_base_ctl(s, "agent,bigarg=3000000");
    llm_client *cl = client(base, 0);
    llm_worker *w = llm_worker_new(cl);
    agent_tool t[2];
    agent_opts o;
    agent_result r;
    cJSON *b, *args;
    const cJSON *tc;

    tools2(t);
    o = opts(t, 2, AGENT_NATIVE);
    o.max_steps = 1;
    o.max_argument_chars = 100;
    ck_assert_int_eq(agent_run(w, &o, &r, NULL), 0);
    ck_assert_int_eq(FM.runs, 1);
    ck_assert_uint_eq(strlen(FM.last), 100); /* the tool saw the first 100 characters */
    ck_assert_uint_lt(strlen(r.trace), 20000);
    b = body_n(s, 1);
    tc = cJSON_GetArrayItem(cJSON_GetObjectItem(msg(b, 2), "tool_calls"), 0);
    args = cJSON_Parse(jsonu_str(cJSON_GetObjectItem(tc, "function"), "arguments"));
    ck_assert_uint_eq(strlen(jsonu_str(args, "query")), 100); /* echoed back cut */
    ck_assert_ptr_nonnull(strstr(jsonu_str(msg(b, 3), "content"),
                                 "[the argument was cut to its first 100 of 3000000 characters]"));
    cJSON_Delete(args);
    cJSON_Delete(b);
    agent_result_free(&r);
    llm_worker_free(w);
    llm_client_free(cl);
    free(base);
    lb_stop(s);
}
END_TEST

START_TEST(offline_native)
{
    offline_loop(AGENT_NATIVE);
}
END_TEST

START_TEST(offline_text)
{
    offline_loop(AGENT_TEXT);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("agent");
    TCase *p = tcase_create("parser"), *c = tcase_create("loop");
    tcase_add_test(p, parse_actions);
    tcase_add_test(p, parse_finals);
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_set_timeout(c, 30);
    tcase_add_test(c, native_tool_calls);
    tcase_add_test(c, text_protocol_round_trip);
    tcase_add_test(c, auto_falls_back_to_text);
    tcase_add_test(c, step_limit_then_final_call);
    tcase_add_test(c, text_step_limit_accepts_plain_answer);
    tcase_add_test(c, invalid_arguments_and_unknown_tool);
    tcase_add_test(c, failing_request_is_an_error_result);
    tcase_add_test(c, unavailable_endpoint_stops);
    tcase_add_test(c, no_tools_single_call);
    tcase_add_test(c, offline_native);
    tcase_add_test(c, tool_call_flood_bounded);
    tcase_add_test(c, huge_argument_cut);
    tcase_add_test(c, offline_text);
    suite_add_tcase(s, p);
    suite_add_tcase(s, c);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
