/* prompts: built-in templates carry the paper's published prompts verbatim;
 * rendering; overrides from a folder. */
#include <stdlib.h>
#include <string.h>

#include "prompts.h"
#include "testutil.h"

START_TEST(builtins_verbatim)
{
    prompt_set *p;
    pe_err e = {0};
    const char *t;
    ck_assert_int_eq(prompts_load(NULL, &p, &e), 0);
    /* Appendix A, loss gradient prompt */
    t = prompts_get(p, "feedback");
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(strstr(t, "You are a meticulous and critical evaluator of personalized "
                                    "AI agent responses."));
    ck_assert_ptr_nonnull(strstr(t, "Make sure the feedback is concise and and clear."));
    /* Appendix A, gradient update prompt */
    t = prompts_get(p, "update");
    ck_assert_ptr_nonnull(strstr(t, "Current system prompt: {{persona}}\nProvided Feedback: "
                                    "{{feedback}}"));
    /* Appendix B */
    t = prompts_get(p, "persona_init");
    ck_assert_ptr_nonnull(strstr(t, "You are a helpful personalized assistant. Take more than "
                                    "two actions to infer the user preference and answer the "
                                    "question. User summary: {{summary}}"));
    ck_assert_ptr_nonnull(strstr(t, "2. MUST use at least TWO tools to answer the question."));
    /* Appendix C */
    ck_assert_ptr_nonnull(strstr(prompts_get(p, "tool_wikipedia"),
                                 "Use this tool to get a brief summary from Wikipedia about a "
                                 "specific topic."));
    ck_assert_ptr_nonnull(strstr(prompts_get(p, "tool_memory"),
                                 "Requirement: must use this tool at least once to answer the "
                                 "question."));
    ck_assert_ptr_null(prompts_get(p, "nope"));
    prompts_free(p);
}
END_TEST

START_TEST(render)
{
    prompt_set *p;
    pe_err e = {0};
    const char *kv[] = {"persona", "Be brief.", "feedback", "Likes {{braces}}.", NULL};
    char *s;
    buf b = BUF_INIT;
    ck_assert_int_eq(prompts_load(NULL, &p, &e), 0);
    s = prompts_render(p, "update", kv, &e);
    ck_assert_ptr_nonnull(s);
    /* values are inserted as they are, never rendered again */
    ck_assert_ptr_nonnull(strstr(s, "Current system prompt: Be brief.\nProvided Feedback: "
                                    "Likes {{braces}}.\n"));
    free(s);
    s = prompts_render(p, "feedback", kv, &e);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(e.msg, "{{question}}"));
    prompts_used_json(p, &b);
    ck_assert_ptr_nonnull(strstr(buf_str(&b), "\"update\": {\"sha256\": \""));
    ck_assert_ptr_nonnull(strstr(buf_str(&b), "\"source\": \"built-in\""));
    ck_assert_ptr_null(strstr(buf_str(&b), "persona_init"));
    buf_free(&b);
    prompts_free(p);
}
END_TEST

START_TEST(override_dir)
{
    char *dir = tu_tmpdir(), *f = tu_path(dir, "update.txt"), *g = tu_path(dir, "updat.txt");
    prompt_set *p;
    pe_err e = {0};
    tu_write(f, "New: {{persona}}");
    ck_assert_int_eq(prompts_load(dir, &p, &e), 0);
    ck_assert_str_eq(prompts_get(p, "update"), "New: {{persona}}");
    ck_assert_ptr_nonnull(strstr(prompts_get(p, "feedback"), "meticulous"));
    prompts_free(p);
    tu_write(g, "typo");
    ck_assert_int_eq(prompts_load(dir, &p, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "updat"));
    ck_assert_int_eq(prompts_load("/nonexistent-prompts", &p, &e), PE_EXIT_NOINPUT);
    tu_rmrf(dir);
    free(f);
    free(g);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("prompts");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, builtins_verbatim);
    tcase_add_test(tc, render);
    tcase_add_test(tc, override_dir);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
