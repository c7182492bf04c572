/* persona: the summary prompt's window and budget, and Algorithm 1 (which
 * items each iteration replays, what the feedback and update calls are
 * asked, which persona each step sees) against the loopback server. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonu.h"
#include "loopback.h"
#include "persona.h"
#include "testutil.h"

static const char *LABELS[] = {"comedy", "action", "romance", "sci-fi", "fantasy", "classic"};
static ds_item ITEMS[6];
static ds_user USER;
static prompt_set *P;

static void setup(void)
{
    static char ids[6][16], descs[6][40];
    pe_err e = {0};
    for (int i = 0; i < 6; i++) {
        snprintf(ids[i], sizeof ids[i], "h%d", i);
        snprintf(descs[i], sizeof descs[i], "movie number %d", i);
        memset(&ITEMS[i], 0, sizeof ITEMS[i]);
        ITEMS[i].id = ids[i];
        ITEMS[i].field[0] = descs[i];
        ITEMS[i].field[1] = (char *)"";
        ITEMS[i].label = (char *)LABELS[i];
    }
    USER.id = (char *)"u1";
    USER.items = ITEMS;
    USER.nitems = 6;
    ck_assert_int_eq(prompts_load(NULL, &P, &e), 0);
}

static void teardown(void)
{
    prompts_free(P);
}

static llm_client *client(const char *base)
{
    llm_config c;
    llm_client *cl;
    pe_err e = {0};
    llm_config_default(&c);
    c.base_url = base;
    c.model = "m";
    c.http.retries = 0;
    c.http.timeout_s = 5;
    cl = llm_client_new(&c, &e);
    ck_assert_msg(cl != NULL, "%s", e.msg);
    return cl;
}

/* The user message of recorded request n. */
static char *request_text(lb_server *s, int n)
{
    char *log = lb_requests(s), *p = log, *nl, *out;
    cJSON *j;
    for (int i = 0; i < n && p; i++)
        p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
    ck_assert_ptr_nonnull(p);
    nl = strchr(p, '\n');
    j = jsonu_parse(p, nl ? (size_t)(nl - p) : strlen(p), NULL);
    out = xstrdup(jsonu_str(cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "body"), "messages"), 0), "content"));
    cJSON_Delete(j);
    free(log);
    return out;
}

#define TEXT(s) "{\"body\":{\"choices\":[{\"message\":{\"content\":\"" s "\"}}]," \
                "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}}"

START_TEST(summary_window_and_budget)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":[" TEXT("S1") "," TEXT("S2") "]}");
    llm_client *cl = client(s->base);
    llm_worker *w = llm_worker_new(cl);
    persona_llm pl = {cl, P, task_get("lamp2m"), 0.1, 0, 0};
    llm_acct acct = {0};
    pe_err e = {0};
    char *out, *t, *line;
    size_t one;

    /* the 3 most recent items before item 5, oldest first */
    ck_assert_int_eq(persona_summarize(&pl, w, &USER, 5, 3, 0, &out, &acct, &e), 0);
    ck_assert_str_eq(out, "S1");
    free(out);
    t = request_text(s, 0);
    ck_assert_ptr_nonnull(strstr(t, "1. \"movie number 2\" -> label: romance\n"
                                    "2. \"movie number 3\" -> label: sci-fi\n"
                                    "3. \"movie number 4\" -> label: fantasy\n"));
    ck_assert_ptr_null(strstr(t, "movie number 1"));
    ck_assert_ptr_null(strstr(t, "movie number 5"));
    free(t);
    /* a budget of two lines keeps the two newest */
    line = persona_item_line(pl.task, &ITEMS[4]);
    one = strlen(line);
    free(line);
    ck_assert_int_eq(persona_summarize(&pl, w, &USER, 5, 3, 2 * one + 1, &out, &acct, &e), 0);
    free(out);
    t = request_text(s, 1);
    ck_assert_ptr_nonnull(strstr(t, "1. \"movie number 3\" -> label: sci-fi\n"
                                    "2. \"movie number 4\" -> label: fantasy\n"));
    ck_assert_ptr_null(strstr(t, "movie number 2"));
    free(t);
    ck_assert_int_eq(acct.calls, 2);
    ck_assert_int_eq(acct.prompt_tokens, 6);
    llm_worker_free(w);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

/* The simulate callback: records the items and personas it is given. */
typedef struct sim_log {
    pthread_mutex_t mu;
    int seen[6];
    char persona[6][16];
} sim_log;

static int simulate(void *ctx, llm_worker *w, const char *persona, size_t item,
                    const char *input, char **answer, char **error, llm_acct *acct, pe_err *e)
{
    sim_log *l = ctx;
    (void)w, (void)input, (void)acct, (void)e;
    pthread_mutex_lock(&l->mu);
    l->seen[item]++;
    snprintf(l->persona[item], sizeof l->persona[item], "%s", persona);
    pthread_mutex_unlock(&l->mu);
    *answer = xstrdup("comedy");
    *error = NULL;
    return 0;
}

START_TEST(algorithm_one)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":["
                            "{\"body\":{\"choices\":[{\"message\":{\"content\":\"more noir\"}}]},"
                            "\"repeat\":3}," TEXT("P1") ","
                            "{\"body\":{\"choices\":[{\"message\":{\"content\":\"less noir\"}}]},"
                            "\"repeat\":3}," TEXT("P2") "]}");
    llm_client *cl = client(s->base);
    persona_llm pl = {cl, P, task_get("lamp2m"), 0.1, 0, 0};
    sim_log l;
    size_t failed = 9;
    persona_align_opts o = {3, 2, 6, simulate, NULL, &l, &failed};
    llm_acct acct = {0};
    buf log = BUF_INIT;
    pe_err e = {0};
    char *persona = xstrdup("P0"), *t;
    cJSON *j;
    int fb_seen[6] = {0};

    memset(&l, 0, sizeof l);
    pthread_mutex_init(&l.mu, NULL);
    ck_assert_int_eq(persona_align(&pl, &USER, &o, &persona, &log, &acct, &e), 0);
    ck_assert_str_eq(persona, "P2");
    ck_assert_uint_eq(failed, 0);
    /* iteration 1 replays items 5, 4, 3 with P0; iteration 2 items 2, 1, 0 with P1 */
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(l.seen[i], 1);
        ck_assert_str_eq(l.persona[i], i >= 3 ? "P0" : "P1");
    }
    /* three feedback calls, each naming its item's label and the answer, then the update */
    for (int r = 0; r < 3; r++) {
        t = request_text(s, r);
        ck_assert_ptr_nonnull(strstr(t, "Agent Response: comedy"));
        for (int i = 3; i < 6; i++) {
            char want[64];
            snprintf(want, sizeof want, "Expected Answer: %s\n", LABELS[i]);
            fb_seen[i] += strstr(t, want) != NULL;
        }
        free(t);
    }
    ck_assert_int_eq(fb_seen[3] + fb_seen[4] + fb_seen[5], 3);
    ck_assert_int_eq(fb_seen[3] * fb_seen[4] * fb_seen[5], 1);
    t = request_text(s, 3);
    ck_assert_ptr_nonnull(strstr(t, "Current system prompt: P0\n"));
    ck_assert_ptr_nonnull(strstr(t, "1. more noir\n2. more noir\n3. more noir\n"));
    free(t);
    t = request_text(s, 7);
    ck_assert_ptr_nonnull(strstr(t, "Current system prompt: P1\n"));
    free(t);
    ck_assert_int_eq(lb_count(s), 8);
    ck_assert_int_eq(acct.calls, 8);
    /* the log: two iterations, each with its items and the persona it ended with */
    j = cJSON_Parse(buf_str(&log));
    ck_assert_int_eq(cJSON_GetArraySize(j), 2);
    ck_assert_str_eq(jsonu_str(cJSON_GetArrayItem(j, 0), "persona"), "P1");
    ck_assert_str_eq(jsonu_str(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 1),
                                                                       "items"), 0), "id"),
                     "h2");
    cJSON_Delete(j);
    buf_free(&log);
    free(persona);
    pthread_mutex_destroy(&l.mu);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

START_TEST(cutoff_and_failed_update)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":["
                            "{\"body\":{\"choices\":[{\"message\":{\"content\":\"fb\"}}]},"
                            "\"repeat\":2},"
                            "{\"status\":400,\"body\":{\"error\":{\"message\":\"no\"}}}]}");
    llm_client *cl = client(s->base);
    persona_llm pl = {cl, P, task_get("lamp2m"), 0.1, 0, 0};
    sim_log l;
    size_t failed = 0;
    persona_align_opts o = {2, 1, 3, simulate, NULL, &l, &failed};
    llm_acct acct = {0};
    buf log = BUF_INIT;
    pe_err e = {0};
    char *persona = xstrdup("P0");

    memset(&l, 0, sizeof l);
    pthread_mutex_init(&l.mu, NULL);
    /* upto 3: items 2 and 1 only; the update fails, the persona stays */
    ck_assert_int_eq(persona_align(&pl, &USER, &o, &persona, &log, &acct, &e), 0);
    ck_assert_int_eq(l.seen[2] + l.seen[1], 2);
    ck_assert_int_eq(l.seen[0] + l.seen[3] + l.seen[4] + l.seen[5], 0);
    ck_assert_str_eq(persona, "P0");
    ck_assert_uint_eq(failed, 1);
    ck_assert_ptr_nonnull(strstr(buf_str(&log), "\"update_error\""));
    buf_free(&log);
    free(persona);
    pthread_mutex_destroy(&l.mu);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

/* A cached response counts as a call and in cost_usd, not in what was spent:
 * 100 in + 10 out at $3 / $15 per million = $0.00045 each. */
START_TEST(acct_cached_calls)
{
    llm_acct a = {0}, b = {0};
    llm_response r;
    memset(&r, 0, sizeof r);
    r.usage.known = 1;
    r.usage.prompt_tokens = 100;
    r.usage.completion_tokens = 10;
    llm_acct_add(&a, &r, 3, 15);
    r.cached = 1;
    llm_acct_add(&a, &r, 3, 15);
    r.usage.known = 0;
    llm_acct_add(&a, &r, 3, 15);
    ck_assert_int_eq(a.calls, 3);
    ck_assert_int_eq(a.cached, 2);
    ck_assert_int_eq(a.unknown, 1);
    ck_assert_double_eq_tol(a.cost_usd, 2 * 0.00045, 1e-15);
    ck_assert_double_eq_tol(a.cost_spent_usd, 0.00045, 1e-15);
    llm_acct_merge(&b, &a);
    llm_acct_merge(&b, &a);
    ck_assert_int_eq(b.cached, 4);
    ck_assert_double_eq_tol(b.cost_spent_usd, 2 * 0.00045, 1e-15);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("persona");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, summary_window_and_budget);
    tcase_add_test(tc, acct_cached_calls);
    tcase_add_test(tc, algorithm_one);
    tcase_add_test(tc, cutoff_and_failed_update);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
