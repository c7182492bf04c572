/* resume and settings: the canonical settings text and hash, naming
 * differing keys, cutting torn tails, the set of answered queries, and the
 * config check against run.json. */
#include <stdlib.h>
#include <string.h>

#include "resume.h"
#include "run_config.h"
#include "settings.h"
#include "testutil.h"

START_TEST(canonical_and_hash)
{
    cJSON *a = settings_new(), *b = settings_new();
    const char *m[] = {"rag", "personaagent"};
    char *t, ha[65], hb[65], want[65];
    settings_add_str(a, "task", "lamp2m");
    settings_add_u64(a, "k", 4);
    settings_add_strs(a, "methods", m, 2);
    settings_add_bool(a, "strict_answers", 0);
    settings_add_u64(a, "seed", 18446744073709551615ULL);
    /* the same settings added in another order */
    settings_add_u64(b, "seed", 18446744073709551615ULL);
    settings_add_bool(b, "strict_answers", 0);
    settings_add_strs(b, "methods", m, 2);
    settings_add_u64(b, "k", 3);
    settings_add_u64(b, "k", 4); /* replaced, not added twice */
    settings_add_str(b, "task", "lamp2m");
    t = settings_canonical(a);
    ck_assert_str_eq(t, "{\"k\":4,\"methods\":[\"rag\",\"personaagent\"],"
                        "\"seed\":\"18446744073709551615\",\"strict_answers\":false,"
                        "\"task\":\"lamp2m\"}");
    settings_hash(a, ha);
    settings_hash(b, hb);
    ck_assert_str_eq(ha, hb);
    sha256_hex(t, strlen(t), want);
    ck_assert_str_eq(ha, want);
    free(t);
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

START_TEST(diff_names_keys)
{
    cJSON *a = settings_new(), *b = settings_new();
    buf d = BUF_INIT;
    settings_add_str(a, "task", "lamp2m");
    settings_add_u64(a, "k", 4);
    settings_add_str(a, "model", "m1");
    settings_add_str(b, "task", "lamp2m");
    settings_add_u64(b, "k", 5);
    settings_add_num(b, "temperature", 0.1);
    settings_add_u64(a, "zz_unknown", 1);
    /* options are named as the command line spells them; unknown keys as they are */
    ck_assert_uint_eq(run_config_diff(a, b, &d), 4);
    ck_assert_str_eq(buf_str(&d), "--k (recorded 4, now 5); --model (recorded \"m1\", now absent); "
                                  "zz_unknown (recorded 1, now absent); "
                                  "--temperature (recorded absent, now 0.1)");
    buf_reset(&d);
    ck_assert_uint_eq(run_config_diff(a, a, &d), 0);
    ck_assert_str_eq(buf_str(&d), "");
    buf_free(&d);
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

START_TEST(truncate_torn)
{
    char *dir = tu_tmpdir(), *p = tu_path(dir, "predictions.jsonl"), *q = tu_path(dir, "x");
    char *txt;
    size_t cut;
    pe_err e = {0};
    /* a torn line after two whole ones */
    tu_write(p, "{\"a\":1}\n{\"b\":2}\n{\"c\":");
    ck_assert_int_eq(resume_truncate_torn(p, &cut, &e), 0);
    ck_assert_uint_eq(cut, 5);
    txt = tu_read(p);
    ck_assert_str_eq(txt, "{\"a\":1}\n{\"b\":2}\n");
    free(txt);
    /* whole lines: nothing to cut */
    ck_assert_int_eq(resume_truncate_torn(p, &cut, &e), 0);
    ck_assert_uint_eq(cut, 0);
    /* no newline at all: everything goes */
    tu_write(q, "{\"partial");
    ck_assert_int_eq(resume_truncate_torn(q, &cut, &e), 0);
    ck_assert_uint_eq(cut, 9);
    txt = tu_read(q);
    ck_assert_str_eq(txt, "");
    free(txt);
    /* a torn line longer than the read block */
    {
        buf b = BUF_INIT;
        buf_adds(&b, "{\"ok\":1}\n");
        for (int i = 0; i < 10000; i++)
            buf_addc(&b, 'x');
        tu_write(q, buf_str(&b));
        buf_free(&b);
    }
    ck_assert_int_eq(resume_truncate_torn(q, &cut, &e), 0);
    ck_assert_uint_eq(cut, 10000);
    /* a missing file is fine */
    tu_rmrf(q);
    ck_assert_int_eq(resume_truncate_torn(q, &cut, &e), 0);
    ck_assert_uint_eq(cut, 0);
    tu_rmrf(dir);
    free(dir);
    free(p);
    free(q);
}
END_TEST

START_TEST(done_set)
{
    pred_record r[3];
    resume_set *s;
    memset(r, 0, sizeof r);
    r[0].method = "knn", r[0].user = "u1", r[0].id = "q1", r[0].pred = "x";
    r[1].method = "knn", r[1].user = "u1", r[1].id = "q2", r[1].error = "HTTP 500";
    r[2].method = "rag", r[2].user = "u1", r[2].id = "q1", r[2].pred = "y";
    s = resume_set_new(r, 3);
    ck_assert_uint_eq(resume_set_count(s), 2);
    ck_assert_int_eq(resume_is_done(s, "knn", "u1", "q1"), 1);
    ck_assert_int_eq(resume_is_done(s, "knn", "u1", "q2"), 0); /* errored: run again */
    ck_assert_int_eq(resume_is_done(s, "rag", "u1", "q1"), 1);
    ck_assert_int_eq(resume_is_done(s, "rag", "u1", "q2"), 0);
    /* the key parts are kept apart: "k"+"nnu1" is not "knn"+"u1" */
    ck_assert_int_eq(resume_is_done(s, "k", "nnu1", "q1"), 0);
    resume_set_free(s);
}
END_TEST

START_TEST(check_config)
{
    char *dir = tu_tmpdir(), *p = tu_path(dir, "run.json");
    cJSON *now = settings_new(), *run;
    pe_err e = {0};
    settings_add_str(now, "task", "lamp3");
    settings_add_u64(now, "k", 4);
    tu_write(p, "{\"config\": {\"task\": \"lamp3\", \"k\": 4}}");
    ck_assert_int_eq(resume_read_run(dir, &run, &e), 0);
    ck_assert_int_eq(resume_check_config(dir, run, now, &e), 0);
    settings_add_str(now, "task", "lamp2m");
    ck_assert_int_eq(resume_check_config(dir, run, now, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "task (recorded \"lamp3\", now \"lamp2m\")"));
    cJSON_Delete(run);
    tu_write(p, "{\"task\": \"lamp3\"}");
    ck_assert_int_eq(resume_read_run(dir, &run, &e), 0);
    ck_assert_int_eq(resume_check_config(dir, run, now, &e), PE_EXIT_USAGE);
    cJSON_Delete(run);
    tu_write(p, "{\"task\": ");
    ck_assert_int_eq(resume_read_run(dir, &run, &e), PE_EXIT_DATA);
    tu_rmrf(p);
    ck_assert_int_eq(resume_read_run(dir, &run, &e), PE_EXIT_USAGE);
    cJSON_Delete(now);
    tu_rmrf(dir);
    free(dir);
    free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("resume");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, canonical_and_hash);
    tcase_add_test(tc, diff_names_keys);
    tcase_add_test(tc, truncate_torn);
    tcase_add_test(tc, done_set);
    tcase_add_test(tc, check_config);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
