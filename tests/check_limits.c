/* limits: --max-file-bytes, --max-field-bytes, --max-profile-items (dataset
 * loading in run, prepare and score) and --max-observation-chars (tool
 * observations fed back to the model). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "testutil.h"

/* One JSONL user with nhist lamp2m history items whose description is desc. */
static char *user_line(const char *id, size_t nhist, const char *desc)
{
    size_t cap = 256 + nhist * (64 + strlen(desc));
    char *s = malloc(cap), *p = s;
    p += snprintf(p, cap, "{\"user\":\"%s\",\"history\":[", id);
    for (size_t i = 0; i < nhist; i++)
        p += snprintf(p, cap - (size_t)(p - s),
                      "%s{\"id\":\"h%zu\",\"description\":\"%s\",\"tag\":\"comedy\"}",
                      i ? "," : "", i, desc);
    snprintf(p, cap - (size_t)(p - s), "],\"queries\":[{\"id\":\"q\",\"input\":\"x\"}]}\n");
    return s;
}

static int load(const char *text, const ds_limits *lim, pe_err *e)
{
    dataset d;
    int rc = dataset_load_mem(&d, task_get("lamp2m"), "mem.jsonl", text, strlen(text), "jsonl",
                              lim, e);
    if (!rc)
        dataset_free(&d);
    return rc;
}

START_TEST(defaults)
{
    ds_limits l = ds_limits_default();
    ck_assert_uint_eq(l.max_file_bytes, 4294967296u);
    ck_assert_uint_eq(l.max_field_bytes, 1048576u);
    ck_assert_uint_eq(l.max_profile_items, 1000000u);
}
END_TEST

START_TEST(field_limit)
{
    char *ok = user_line("u7", 2, "0123456789"), *big = user_line("u7", 2, "01234567890");
    ds_limits l = ds_limits_default();
    pe_err e = {0, ""};
    l.max_field_bytes = 10;
    ck_assert_int_eq(load(ok, &l, &e), 0); /* exactly at the limit */
    ck_assert_int_eq(load(big, &l, &e), PE_EXIT_DATA);
    ck_assert_ptr_nonnull(strstr(e.msg, "mem.jsonl:1: "));
    ck_assert_ptr_nonnull(strstr(e.msg, "user \"u7\""));
    ck_assert_ptr_nonnull(strstr(e.msg, "history[0]: field \"description\" is 11 bytes"));
    ck_assert_ptr_nonnull(strstr(e.msg, "limit of 10"));
    ck_assert_ptr_nonnull(strstr(e.msg, "--max-field-bytes"));
    l.max_field_bytes = 0; /* no limit */
    ck_assert_int_eq(load(big, &l, &e), 0);
    ck_assert_int_eq(load(big, NULL, &e), 0);
    free(ok);
    free(big);
}
END_TEST

START_TEST(profile_limit)
{
    char *three = user_line("u9", 3, "d"), *four = user_line("u9", 4, "d");
    ds_limits l = ds_limits_default();
    pe_err e = {0, ""};
    l.max_profile_items = 3;
    ck_assert_int_eq(load(three, &l, &e), 0);
    ck_assert_int_eq(load(four, &l, &e), PE_EXIT_DATA);
    ck_assert_ptr_nonnull(strstr(e.msg, "user \"u9\""));
    ck_assert_ptr_nonnull(strstr(e.msg, "history: has 4 items, over the limit of 3"));
    ck_assert_ptr_nonnull(strstr(e.msg, "--max-profile-items"));
    free(three);
    free(four);
}
END_TEST

START_TEST(file_limit)
{
    char *dir = tu_tmpdir(), *path = tu_path(dir, "u.jsonl"), *line = user_line("u1", 1, "d");
    const char *paths[1] = {path};
    size_t n = strlen(line);
    ds_limits l = ds_limits_default();
    dataset d;
    pe_err e = {0, ""};
    tu_write(path, line);
    l.max_file_bytes = n;
    ck_assert_int_eq(dataset_load_limits(&d, task_get("lamp2m"), paths, 1, NULL, &l, &e), 0);
    dataset_free(&d);
    l.max_file_bytes = n - 1;
    ck_assert_int_eq(dataset_load_limits(&d, task_get("lamp2m"), paths, 1, NULL, &l, &e),
                     PE_EXIT_DATA);
    ck_assert_ptr_nonnull(strstr(e.msg, path));
    ck_assert_ptr_nonnull(strstr(e.msg, "--max-file-bytes"));
    ck_assert_uint_eq(d.nusers, 0);
    tu_rmrf(dir);
    free(dir);
    free(path);
    free(line);
}
END_TEST

/* The commands take the flags and exit 65 with the message. */
START_TEST(commands)
{
    char *dir = tu_tmpdir(), *err = NULL;
    int rc = tu_sh(NULL, &err, "cd '%s' && '%s' prepare --task lamp2m --data "
                   "data/sample/lamp2m.jsonl --max-profile-items 5 --out '%s/p.jsonl'",
                   tu_root(), tu_bin(), dir);
    ck_assert_int_eq(rc, 65);
    ck_assert_ptr_nonnull(strstr(err, "--max-profile-items"));
    {
        char *p = tu_path(dir, "p.jsonl");
        ck_assert_int_eq(tu_exists(p), 0);
        free(p);
    }
    free(err);
    rc = tu_sh(NULL, &err, "cd '%s' && '%s' score --task lamp2m --golds "
               "data/sample/lamp2m_outputs.json --preds data/sample/lamp2m_outputs.json "
               "--max-field-bytes 4", tu_root(), tu_bin());
    ck_assert_int_eq(rc, 65);
    ck_assert_ptr_nonnull(strstr(err, "lamp2m_outputs.json: golds[0]: field \"output\""));
    free(err);
    rc = tu_sh(NULL, &err, "cd '%s' && '%s' score --task lamp2m --golds "
               "data/sample/lamp2m_outputs.json --preds data/sample/lamp2m_outputs.json "
               "--max-file-bytes 100", tu_root(), tu_bin());
    ck_assert_int_eq(rc, 65);
    ck_assert_ptr_nonnull(strstr(err, "larger than the limit of 100 bytes"));
    free(err);
    rc = tu_sh(NULL, &err, "cd '%s' && '%s' run --task lamp2m --users 1 --max-field-bytes 9 "
               "-q --out '%s/r'", tu_root(), tu_bin(), dir);
    ck_assert_int_eq(rc, 65);
    ck_assert_ptr_nonnull(strstr(err, "over the limit of 9 (raise it with --max-field-bytes)"));
    free(err);
    rc = tu_sh(NULL, &err, "'%s' run --task lamp2m --max-observation-chars 0", tu_bin());
    ck_assert_int_eq(rc, 2);
    free(err);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* A tool observation longer than --max-observation-chars reaches the model cut,
 * with a note; the offline responder calls memory_search. */
START_TEST(observation_cap)
{
    char *dir = tu_tmpdir(), *trace, *p;
    size_t ncut = 0;
    int rc = tu_sh(NULL, NULL, "cd '%s' && '%s' run --task lamp2m --method personaagent "
                   "--users 1 --max-queries 1 --max-observation-chars 25 -q --out '%s/r'",
                   tu_root(), tu_bin(), dir);
    ck_assert_int_eq(rc, 0);
    p = tu_path(dir, "r/traces.jsonl");
    trace = tu_read(p);
    free(p);
    for (p = trace; (p = strstr(p, "\"observations\":[\"")); ncut++) {
        const char *obs = p + strlen("\"observations\":[\""), *note;
        note = strstr(obs, "\\n[observation cut to 25 of ");
        ck_assert_ptr_nonnull(note);
        /* the kept text is 25 characters (ASCII memory lines; \" counts as one) */
        size_t chars = 0;
        for (const char *q = obs; q < note; q++, chars++)
            q += *q == '\\';
        ck_assert_uint_eq(chars, 25);
        p = (char *)note;
    }
    ck_assert_uint_gt(ncut, 0);
    free(trace);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = tcase_create("limits");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, field_limit);
    tcase_add_test(tc, profile_limit);
    tcase_add_test(tc, file_limit);
    tcase_add_test(tc, commands);
    tcase_add_test(tc, observation_cap);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
