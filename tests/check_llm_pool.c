/* llm_pool: the least-in-flight choice, resting with backoff, and a chat
 * client spreading requests over replicas of which one is down or failing. */
#include <stdlib.h>
#include <string.h>

#include "llm.h"
#include "llm_pool.h"
#include "loopback.h"
#include "testutil.h"

static llm_pool *three(void)
{
    static const char *const urls[] = {"http://a/v1", "http://b/v1/", "http://c/v1"};
    return llm_pool_new(urls, 3);
}

START_TEST(least_in_flight)
{
    llm_pool *p = three();
    unsigned char tried[3] = {0};
    /* all idle: ties go to fewer requests, then to the first */
    ck_assert_uint_eq(llm_pool_acquire(p, NULL, 0), 0);
    ck_assert_uint_eq(llm_pool_acquire(p, NULL, 0), 1);
    ck_assert_uint_eq(llm_pool_acquire(p, NULL, 0), 2);
    /* b finishes first: it has the fewest in flight */
    llm_pool_release(p, 1, LLM_POOL_OK, 0);
    ck_assert_uint_eq(llm_pool_acquire(p, NULL, 0), 1);
    /* one each in flight; b has had 2 requests, a and c 1: a */
    ck_assert_uint_eq(llm_pool_acquire(p, NULL, 0), 0);
    /* in flight a 2, b 1, c 1; requests a 2, b 2, c 1: c */
    ck_assert_uint_eq(llm_pool_acquire(p, NULL, 0), 2);
    /* a request that failed on b and c goes to a, though a is the busiest */
    tried[1] = tried[2] = 1;
    ck_assert_uint_eq(llm_pool_acquire(p, tried, 0), 0);
    /* tried everywhere: still an answer (the least recently rested, here a) */
    tried[0] = 1;
    ck_assert_uint_lt(llm_pool_acquire(p, tried, 0), 3);
    ck_assert_str_eq(llm_pool_url(p, 1), "http://b/v1");
    llm_pool_free(p);
}
END_TEST

START_TEST(dead_rests_with_doubling_backoff)
{
    llm_pool *p = three();
    llm_pool_stats st;
    /* a refuses at t=100: rested 1 s */
    ck_assert_uint_eq(llm_pool_acquire(p, NULL, 100), 0);
    ck_assert_int_eq(llm_pool_release(p, 0, LLM_POOL_DEAD, 100), 1);
    ck_assert_int_eq(llm_pool_has_fresh(p, NULL, 100), 1);
    /* while a rests, b and c take everything though a has nothing in flight */
    for (int i = 0; i < 4; i++)
        ck_assert_uint_ne(llm_pool_acquire(p, NULL, 100.99), 0);
    ck_assert_uint_eq(llm_pool_acquire(p, NULL, 101.0), 0); /* back at 101 */
    /* refused again: 2 s this time, then 4 s */
    ck_assert_int_eq(llm_pool_release(p, 0, LLM_POOL_DEAD, 101), 1);
    ck_assert_uint_ne(llm_pool_acquire(p, NULL, 102.99), 0);
    ck_assert_uint_eq(llm_pool_acquire(p, NULL, 103.0), 0);
    ck_assert_int_eq(llm_pool_release(p, 0, LLM_POOL_DEAD, 103), 1);
    ck_assert_uint_ne(llm_pool_acquire(p, NULL, 106.99), 0);
    ck_assert_uint_eq(llm_pool_acquire(p, NULL, 107.0), 0);
    /* an answer ends the backoff: the next refusal rests 1 s again */
    llm_pool_release(p, 0, LLM_POOL_OK, 107);
    ck_assert_uint_eq(llm_pool_acquire(p, NULL, 200), 0);
    ck_assert_int_eq(llm_pool_release(p, 0, LLM_POOL_DEAD, 200), 1);
    llm_pool_stats_get(p, 0, 200.5, &st);
    ck_assert_int_eq(st.resting, 1);
    llm_pool_stats_get(p, 0, 201, &st);
    ck_assert_int_eq(st.resting, 0);
    ck_assert_uint_eq(st.requests, 5);
    ck_assert_uint_eq(st.errors, 4);
    ck_assert_uint_eq(st.rested, 4);
    ck_assert_str_eq(st.url, "http://a/v1");
    llm_pool_free(p);
}
END_TEST

START_TEST(failure_streak_and_cap)
{
    static const char *const urls[] = {"http://user:pw@a:1/v1?key=secret", "http://b/v1"};
    llm_pool *p = llm_pool_new(urls, 2);
    llm_pool_stats st;
    const unsigned char *not_b = (const unsigned char *)"\0\1"; /* keeps the attempts on a */
    double t = 0;
    /* two 5xx, an answer, two more: no rest (the streak restarted) */
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(llm_pool_acquire(p, not_b, 0), 0);
        ck_assert_int_eq(llm_pool_release(p, 0, i == 2 ? LLM_POOL_OK : LLM_POOL_FAIL, 0), 0);
    }
    /* the third failure in a row rests it */
    ck_assert_uint_eq(llm_pool_acquire(p, not_b, 0), 0);
    ck_assert_int_eq(llm_pool_release(p, 0, LLM_POOL_FAIL, 0), 1);
    /* attempts that were in flight when it was rested do not rest it again */
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(llm_pool_acquire(p, not_b, 0.5), 0);
        ck_assert_int_eq(llm_pool_release(p, 0, LLM_POOL_DEAD, 0.5), 0);
    }
    /* rests of 1, 2, 4, 8, 16, then 30 s at most */
    t = 1;
    for (int k = 1; k <= 7; k++) {
        double d = k < 5 ? (double)(1 << k) : 30; /* 32 and beyond: the cap */
        ck_assert_uint_eq(llm_pool_acquire(p, not_b, t), 0);
        ck_assert_int_eq(llm_pool_release(p, 0, LLM_POOL_DEAD, t), 1);
        ck_assert_int_eq(llm_pool_has_fresh(p, not_b, t + d - 0.01), 0);
        ck_assert_int_eq(llm_pool_has_fresh(p, not_b, t + d), 1);
        t += d;
    }
    /* every replica resting: the one back first */
    ck_assert_uint_eq(llm_pool_acquire(p, NULL, t), 1); /* fewer requests so far */
    ck_assert_uint_eq(llm_pool_acquire(p, NULL, t), 0); /* fewer in flight */
    ck_assert_int_eq(llm_pool_release(p, 1, LLM_POOL_DEAD, t), 1);  /* b until t + 1 */
    ck_assert_int_eq(llm_pool_release(p, 0, LLM_POOL_DEAD, t), 1);  /* a until t + 30 */
    ck_assert_uint_eq(llm_pool_acquire(p, NULL, t + 0.5), 1);
    llm_pool_stats_get(p, 0, t, &st);
    ck_assert_str_eq(st.url, "http://a:1/v1");
    ck_assert_uint_eq(st.rested, 9);
    llm_pool_free(p);
}
END_TEST

static llm_client *client(const char *const *urls, size_t n)
{
    llm_config c;
    llm_config_default(&c);
    c.base_url = urls[0];
    c.replicas = urls + 1;
    c.nreplicas = n - 1;
    c.model = "m";
    c.http.retries = 2;
    c.http.backoff_base_s = 0.01;
    return llm_client_new(&c, NULL);
}

static int ask(llm_worker *w, int i)
{
    char text[32];
    llm_msg m = {LLM_USER, text, NULL, 0, NULL};
    llm_request rq = {0};
    llm_response r;
    pe_err e = {0};
    int rc;
    snprintf(text, sizeof text, "q%d", i);
    rq.msgs = &m;
    rq.nmsgs = 1;
    rq.temperature = -1;
    rc = llm_chat(w, &rq, &r, &e);
    if (rc == 0)
        ck_assert_str_eq(r.content, (snprintf(text, sizeof text, "echo: q%d", i), text));
    llm_response_free(&r);
    return rc;
}

/* A replica with nothing listening and one answering 500 to everything: every
 * request is answered by the healthy one, the others are rested. */
START_TEST(chat_survives_dead_and_failing_replicas)
{
    lb_server *good = lb_start(NULL), *bad = lb_start(NULL), *gone = lb_start_opt(NULL, 0);
    char *failing = lb_base_ctl(bad, "fail=1");
    const char *urls[3];
    llm_client *c;
    llm_worker *w;
    llm_pool_stats st[3];
    llm_totals t;

    urls[0] = gone->base;
    urls[1] = failing;
    urls[2] = good->base;
    kill(gone->pid, SIGKILL); /* its port now refuses connections */
    waitpid(gone->pid, NULL, 0);
    c = client(urls, 3);
    w = llm_worker_new(c);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(ask(w, i), 0);
    ck_assert_uint_eq(llm_endpoint_count(c), 3);
    for (size_t i = 0; i < 3; i++)
        llm_endpoint_stats(c, i, &st[i]);
    llm_get_totals(c, &t);
    ck_assert_uint_eq(t.errors, 0);
    ck_assert_uint_eq(st[2].requests, 12);
    ck_assert_uint_eq(st[2].errors, 0);
    ck_assert_int_eq(lb_count(good), 12);
    /* the refused replica was rested at each try (once, unless the run outlived
     * its 1 s rest), the failing one when its streak of three failures ended */
    ck_assert_uint_ge(st[0].requests, 1);
    ck_assert_uint_eq(st[0].errors, st[0].requests);
    ck_assert_uint_eq(st[0].rested, st[0].requests);
    ck_assert_uint_ge(st[1].requests, 3);
    ck_assert_uint_eq(st[1].errors, st[1].requests);
    ck_assert_uint_ge(st[1].rested, 1);
    ck_assert_int_eq(lb_count(bad), (int)st[1].requests);
    llm_worker_free(w);
    llm_client_free(c);
    free(failing);
    lb_stop(bad);
    lb_stop(good);
    tu_rmrf(gone->dir);
    free(gone->dir);
    free(gone->log);
    free(gone->base);
    free(gone);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("llm_pool");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, least_in_flight);
    tcase_add_test(tc, dead_rests_with_doubling_backoff);
    tcase_add_test(tc, failure_streak_and_cap);
    tcase_add_test(tc, chat_survives_dead_and_failing_replicas);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
