/* run_config: every option of `run --help` has a row in the settings table, and
 * every result-changing row changes the config hash. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "run_config.h"
#include "settings.h"
#include "testutil.h"

/* The options named in `run --help`, before its list of methods. */
static size_t help_options(char ***out)
{
    char *text = NULL, *line, *save = NULL;
    char **v = NULL;
    size_t n = 0;
    ck_assert_int_eq(tu_sh(&text, NULL, "'%s' run --help", tu_bin()), 0);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "Methods:", 8) == 0)
            break;
        for (char *p = line; *p; p++) {
            size_t l = 1;
            if (p[0] != '-' || (p > line && (isalnum((unsigned char)p[-1]) || p[-1] == '-')))
                continue;
            if (p[1] == '-')
                l = 2;
            if (!islower((unsigned char)p[l]))
                continue;
            while (islower((unsigned char)p[l]) || p[l] == '-')
                l++;
            if (l == 2 && !isalpha((unsigned char)p[1]))
                continue;
            v = realloc(v, (n + 1) * sizeof *v);
            v[n++] = strndup(p, l);
            p += l - 1;
        }
    }
    free(text);
    *out = v;
    return n;
}

START_TEST(every_help_option_is_in_the_table)
{
    char **opt;
    size_t n = help_options(&opt);
    ck_assert_uint_ge(n, 50);
    for (size_t i = 0; i < n; i++) {
        const run_setting *s = run_settings_find(opt[i]);
        if (!s)
            ck_abort_msg("%s is in run --help but not in the settings table", opt[i]);
        if (!(s->flags & RS_RESULT) && (!s->why || !*s->why))
            ck_abort_msg("%s does not change results but says not why", opt[i]);
        if ((s->flags & RS_RESULT) && !s->key)
            ck_abort_msg("%s changes results but has no config key", opt[i]);
    }
    /* and no row names an option that run does not have */
    for (size_t r = 0; r < run_settings_count(); r++) {
        const char *names = run_settings_at(r)->option;
        int seen = 0;
        for (size_t i = 0; i < n && !seen; i++)
            seen = run_settings_find(opt[i]) == run_settings_at(r);
        if (!seen)
            ck_abort_msg("the table row %s is not in run --help", names);
    }
    for (size_t i = 0; i < n; i++)
        free(opt[i]);
    free(opt);
}
END_TEST

static const char *data_a[] = {"aaaa"}, *data_b[] = {"bbbb"};
static const char *meth_a[] = {"rag"}, *meth_b[] = {"icl"};
static const char *users_b[] = {"u1"};

static void base(pe_run_config *c, run_derived *d)
{
    run_config_init(c);
    c->task = "lamp2m";
    c->online = 1;
    memset(d, 0, sizeof *d);
    d->data_sha256 = data_a;
    d->ndata = 1;
    d->methods = meth_a;
    d->nmethods = 1;
    d->llm = 1;
    d->embed_http = 1;
    d->backend = "http";
    d->model = "m";
    d->prompts_sha256 = "p";
    d->wiki = "off";
}

static void hash(const pe_run_config *c, const run_derived *d, char out[65])
{
    cJSON *s = run_config_settings(c, d);
    settings_hash(s, out);
    cJSON_Delete(s);
}

/* Change the value a row reads, whatever its type. */
static void mutate(const run_setting *s, void *basep)
{
    char *p = (char *)basep + s->offset;
    switch (s->type) {
    case RS_STR:
        *(const char **)p = "something else";
        break;
    case RS_STRS:
        *(const char *const **)p = s->count_offset == offsetof(run_derived, nmethods) &&
                                           (s->flags & RS_DERIVED)
                                       ? meth_b
                                   : (s->flags & RS_DERIVED) ? data_b
                                                             : users_b;
        *(size_t *)((char *)basep + s->count_offset) = 1;
        break;
    case RS_SIZE:
        *(size_t *)p += 1;
        break;
    case RS_U64:
        *(uint64_t *)p += 1;
        break;
    case RS_ULL:
        *(unsigned long long *)p += 1;
        break;
    case RS_INT:
        *(int *)p = !*(int *)p;
        break;
    case RS_DOUBLE:
        *(double *)p += 0.5;
        break;
    }
}

START_TEST(every_result_setting_changes_the_hash)
{
    size_t checked = 0;
    for (size_t i = 0; i < run_settings_count(); i++) {
        const run_setting *s = run_settings_at(i);
        pe_run_config c;
        run_derived d;
        char h0[65], h1[65];
        if (!(s->flags & RS_RESULT))
            continue;
        base(&c, &d);
        hash(&c, &d, h0);
        mutate(s, s->flags & RS_DERIVED ? (void *)&d : (void *)&c);
        hash(&c, &d, h1);
        if (strcmp(h0, h1) == 0)
            ck_abort_msg("changing %s does not change the config hash", s->option);
        checked++;
    }
    ck_assert_uint_ge(checked, 25);
}
END_TEST

START_TEST(max_observation_chars_is_result_changing)
{
    pe_run_config c;
    run_derived d;
    char h0[65], h1[65];
    base(&c, &d);
    hash(&c, &d, h0);
    c.max_observation_chars = 100;
    hash(&c, &d, h1);
    ck_assert_str_ne(h0, h1);
}
END_TEST

START_TEST(other_settings_keep_the_hash)
{
    pe_run_config c;
    run_derived d;
    char h0[65], h1[65];
    base(&c, &d);
    hash(&c, &d, h0);
    c.jobs = 3;
    c.endpoint = "http://127.0.0.1:9/v1";
    c.timeout = 5;
    c.retries = 1;
    c.grace_s = 2;
    c.progress = PROGRESS_NEVER;
    c.out = "elsewhere";
    c.shard = "1/3";
    c.cache = "off";
    c.limits.max_field_bytes = 10;
    hash(&c, &d, h1);
    ck_assert_str_eq(h0, h1);
}
END_TEST

START_TEST(llm_settings_only_with_an_llm)
{
    pe_run_config c;
    run_derived d;
    char h0[65], h1[65];
    cJSON *s;
    base(&c, &d);
    d.llm = 0;
    hash(&c, &d, h0);
    c.temperature = 0.7;
    c.max_observation_chars = 10;
    hash(&c, &d, h1);
    ck_assert_str_eq(h0, h1);
    s = run_config_settings(&c, &d);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(s, "temperature"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(s, "k"));
    cJSON_Delete(s);
}
END_TEST

START_TEST(diff_names_options)
{
    pe_run_config c;
    run_derived d;
    cJSON *a, *b;
    buf out = BUF_INIT;
    base(&c, &d);
    a = run_config_settings(&c, &d);
    c.max_observation_chars = 100;
    c.k = 5;
    b = run_config_settings(&c, &d);
    ck_assert_uint_eq(run_config_diff(a, b, &out), 2);
    ck_assert_str_eq(buf_str(&out), "--k (recorded 4, now 5); "
                                    "--max-observation-chars (recorded 4000, now 100)");
    buf_free(&out);
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

START_TEST(find_by_any_name)
{
    ck_assert_ptr_eq(run_settings_find("-j"), run_settings_find("--jobs"));
    ck_assert_ptr_eq(run_settings_find("--methods"), run_settings_find("--method"));
    ck_assert_ptr_null(run_settings_find("--nope"));
    ck_assert_ptr_null(run_settings_find("--k-"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("run_config");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, every_help_option_is_in_the_table);
    tcase_add_test(tc, every_result_setting_changes_the_hash);
    tcase_add_test(tc, max_observation_chars_is_result_changing);
    tcase_add_test(tc, other_settings_keep_the_hash);
    tcase_add_test(tc, llm_settings_only_with_an_llm);
    tcase_add_test(tc, diff_names_options);
    tcase_add_test(tc, find_by_any_name);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
