/* pe_run(): the library runs an evaluation without the binary. Expected
 * answers are computed here from the sample file itself. */
#include <cJSON.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "pe_run.h"
#include "testutil.h"

/* user-majority by hand: each user's most frequent history label, a tie going
 * to the label earlier in the task's list; accuracy over every query. */
static double user_majority_accuracy(const char *path, const task *t, size_t *nq)
{
    char *text = tu_read(path), *save = NULL;
    size_t right = 0, n = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *u = cJSON_Parse(line), *it;
        size_t *count = calloc(t->nlabels, sizeof *count), best = 0;
        ck_assert_ptr_nonnull(u);
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(u, "history")) {
            const char *l = cJSON_GetObjectItem(it, "label")->valuestring;
            for (size_t i = 0; i < t->nlabels; i++)
                if (strcmp(t->labels[i], l) == 0)
                    count[i]++;
        }
        for (size_t i = 1; i < t->nlabels; i++)
            if (count[i] > count[best])
                best = i;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(u, "queries")) {
            right += strcmp(cJSON_GetObjectItem(it, "gold")->valuestring, t->labels[best]) == 0;
            n++;
        }
        free(count);
        cJSON_Delete(u);
    }
    free(text);
    *nq = n;
    return (double)right / (double)n;
}

START_TEST(runs_the_sample)
{
    char *dir = tu_tmpdir(), *out = tu_path(dir, "run"), *p;
    pe_run_config c;
    pe_run_result r;
    pe_err e = {0};
    size_t nq;
    double want;

    run_config_init(&c);
    c.task = "lamp2m";
    c.methods = "user-majority,majority";
    c.out = out;
    c.bootstrap = 20;
    c.progress = PROGRESS_NEVER;
    ck_assert_int_eq(pe_run(&c, &r, &e), 0);
    ck_assert_str_eq(r.out, out);
    ck_assert_ptr_eq(r.task, task_get("lamp2m"));
    ck_assert_uint_eq(r.nsummaries, 2);
    ck_assert_str_eq(r.summaries[0].method, "user-majority");
    want = user_majority_accuracy("data/sample/lamp2m.jsonl", task_get("lamp2m"), &nq);
    ck_assert_uint_eq(r.summaries[0].n, nq);
    ck_assert_double_eq_tol(r.summaries[0].value[0], want, 1e-12);
    ck_assert_uint_eq(r.stats.queries_done, 2 * nq);
    ck_assert_int_eq(r.incomplete, 0);
    for (const char *f = "run.json\0predictions.jsonl\0summary.json\0summary.csv\0users.csv\0"
                         "report.html\0";
         *f; f += strlen(f) + 1) {
        p = tu_path(out, f);
        ck_assert_msg(tu_exists(p), "%s not written", f);
        free(p);
    }
    pe_run_result_free(&r);
    /* the same folder again is refused: it holds a run */
    ck_assert_int_eq(pe_run(&c, &r, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "already holds a run"));
    pe_run_result_free(&r);
    tu_rmrf(dir);
    free(dir);
    free(out);
}
END_TEST

START_TEST(bad_config_writes_nothing)
{
    char *dir = tu_tmpdir(), *out = tu_path(dir, "run");
    pe_run_config c;
    pe_run_result r;
    pe_err e = {0};
    run_config_init(&c);
    c.task = "lamp9";
    c.out = out;
    ck_assert_int_eq(pe_run(&c, &r, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "lamp9"));
    ck_assert_int_eq(tu_exists(out), 0);
    c.task = "lamp2m";
    c.methods = "rag,nope";
    ck_assert_int_eq(pe_run(&c, &r, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "nope"));
    ck_assert_int_eq(tu_exists(out), 0);
    pe_run_result_free(&r);
    tu_rmrf(dir);
    free(dir);
    free(out);
}
END_TEST

START_TEST(stop_before_the_start_is_incomplete)
{
    char *dir = tu_tmpdir(), *out = tu_path(dir, "run"), *sum, *p;
    volatile sig_atomic_t stop = SIGTERM;
    pe_run_config c;
    pe_run_result r;
    pe_err e = {0};
    run_config_init(&c);
    c.task = "lamp3";
    c.methods = "majority";
    c.out = out;
    c.stop = &stop;
    c.progress = PROGRESS_NEVER;
    ck_assert_int_eq(pe_run(&c, &r, &e), PE_EXIT_SIGTERM);
    ck_assert_int_eq(r.incomplete, 1);
    ck_assert_uint_lt(r.stats.queries_done, r.stats.queries_total);
    p = tu_path(out, "summary.json");
    sum = tu_read(p);
    free(p);
    ck_assert_ptr_nonnull(strstr(sum, "\"incomplete\":true"));
    free(sum);
    pe_run_result_free(&r);
    tu_rmrf(dir);
    free(dir);
    free(out);
}
END_TEST

START_TEST(resume_refuses_another_observation_cap)
{
    char *dir = tu_tmpdir(), *out = tu_path(dir, "run");
    pe_run_config c;
    pe_run_result r;
    pe_err e = {0};
    run_config_init(&c);
    c.task = "lamp2m";
    c.methods = "prompt";
    c.llm = "offline";
    c.cache = "off";
    c.users = 2;
    c.max_queries = 1;
    c.bootstrap = 10;
    c.out = out;
    c.progress = PROGRESS_NEVER;
    ck_assert_int_eq(pe_run(&c, &r, &e), 0);
    pe_run_result_free(&r);
    c.resume = out;
    ck_assert_int_eq(pe_run(&c, &r, &e), 0); /* the same settings: nothing left to do */
    ck_assert_uint_eq(r.stats.queries_skipped, 2);
    pe_run_result_free(&r);
    c.max_observation_chars = 100;
    ck_assert_int_eq(pe_run(&c, &r, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "--max-observation-chars (recorded 4000, now 100)"));
    pe_run_result_free(&r);
    tu_rmrf(dir);
    free(dir);
    free(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pe_run");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, runs_the_sample);
    tcase_add_test(tc, bad_config_writes_nothing);
    tcase_add_test(tc, stop_before_the_start_is_incomplete);
    tcase_add_test(tc, resume_refuses_another_observation_cap);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
