/* runner: the scheduling contract with instrumented methods: every (method,
 * user, query) is answered once and recorded, -j bounds the answers in
 * flight and is reached, a user's queries start only after its preparation,
 * resume skips are honoured, a stop request or a halt check (--offline after
 * its first miss) stops new work, and the progress callback sees the plan,
 * each preparation and answer, and the end. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "runner.h"
#include "testutil.h"

enum { NUSERS = 5, NQ = 4 };

static pthread_mutex_t MU = PTHREAD_MUTEX_INITIALIZER;
static int IN_FLIGHT, MAX_IN_FLIGHT, ANSWERS;
static int PREPARED[NUSERS];
static int EARLY;          /* answers that came before their user's preparation */
static long SLEEP_MS;
static volatile sig_atomic_t *STOP_AFTER_FLAG;
static int STOP_AFTER;     /* set *STOP_AFTER_FLAG after this many answers */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int answer(const run_shared *rs, user_state *us, size_t mi, const ds_query *q,
                  llm_worker *w, method_answer *a, pe_err *e)
{
    (void)rs, (void)w, (void)e;
    pthread_mutex_lock(&MU);
    if (mi == 1 && !PREPARED[us->index])
        EARLY++;
    if (++IN_FLIGHT > MAX_IN_FLIGHT)
        MAX_IN_FLIGHT = IN_FLIGHT;
    pthread_mutex_unlock(&MU);
    sleep_ms(SLEEP_MS);
    pthread_mutex_lock(&MU);
    IN_FLIGHT--;
    ANSWERS++;
    if (STOP_AFTER_FLAG && ANSWERS == STOP_AFTER)
        *STOP_AFTER_FLAG = 2;
    pthread_mutex_unlock(&MU);
    a->raw = xasprintf("answer %s", q->id);
    a->calls = 1;
    a->prompt_tokens = a->completion_tokens = 2;
    a->cost_usd = 0;
    return 0;
}

static int prepare(const run_shared *rs, user_state *us, size_t mi, llm_worker *w, pe_err *e)
{
    (void)rs, (void)mi, (void)w, (void)e;
    sleep_ms(SLEEP_MS);
    pthread_mutex_lock(&MU);
    PREPARED[us->index] = 1;
    pthread_mutex_unlock(&MU);
    return 0;
}

static const method M_PLAIN = {"plain", 0, "answers at once", answer, NULL};
static const method M_PREP = {"prepared", 0, "prepares each user first", answer, prepare};

static ds_user USERS[NUSERS];
static ds_query QUERIES[NUSERS][NQ];
static dataset DATA;

static void make_data(void)
{
    static char uid[NUSERS][16], qid[NUSERS][NQ][32];
    memset(&DATA, 0, sizeof DATA);
    for (int u = 0; u < NUSERS; u++) {
        snprintf(uid[u], sizeof uid[u], "u%d", u);
        memset(&USERS[u], 0, sizeof USERS[u]);
        USERS[u].id = uid[u];
        for (int q = 0; q < NQ; q++) {
            snprintf(qid[u][q], sizeof qid[u][q], "q%d%d", u, q);
            QUERIES[u][q] = (ds_query){qid[u][q], NULL, (char *)"input", (char *)"comedy"};
        }
        USERS[u].queries = QUERIES[u];
        USERS[u].nqueries = NQ;
    }
    DATA.users = USERS;
    DATA.nusers = NUSERS;
}

static void reset(long sleep)
{
    IN_FLIGHT = MAX_IN_FLIGHT = ANSWERS = EARLY = 0;
    memset(PREPARED, 0, sizeof PREPARED);
    SLEEP_MS = sleep;
    STOP_AFTER_FLAG = NULL;
}

/* Run both methods over the data set into a fresh folder; returns the folder. */
static char *run(int jobs, runner_opts *ro, runner_stats *st, int expect_rc)
{
    static const method *ms[2] = {&M_PLAIN, &M_PREP};
    char *dir = tu_tmpdir();
    report_writer *w;
    run_shared rs;
    pe_err e = {0};
    make_data();
    memset(&rs, 0, sizeof rs);
    rs.task = task_get("lamp2m");
    rs.data = &DATA;
    rs.methods = ms;
    rs.nmethods = 2;
    ck_assert_int_eq(report_open(dir, &w, &e), 0);
    ro->methods = ms;
    ro->nmethods = 2;
    ro->jobs = jobs;
    ro->out = w;
    ck_assert_int_eq(runner_run(&rs, ro, st, &e), expect_rc);
    ck_assert_int_eq(report_close(w, &e), 0);
    return dir;
}

/* (method, user, id) of every predictions line, and no key twice. */
static size_t count_keys(const char *dir)
{
    pred_record *r;
    size_t n, torn;
    pe_err e = {0};
    ck_assert_int_eq(report_load_predictions(dir, &r, &n, &torn, &e), 0);
    for (size_t i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof want, "answer %s", r[i].id);
        ck_assert_str_eq(r[i].raw, want);
        for (size_t k = i + 1; k < n; k++)
            ck_assert(strcmp(r[i].method, r[k].method) || strcmp(r[i].user, r[k].user) ||
                      strcmp(r[i].id, r[k].id));
    }
    report_free_predictions(r, n);
    return n;
}

START_TEST(every_query_once_within_jobs)
{
    runner_opts ro;
    runner_stats st;
    char *dir;
    memset(&ro, 0, sizeof ro);
    reset(20);
    dir = run(3, &ro, &st, 0);
    ck_assert_uint_eq(st.queries_total, 2 * NUSERS * NQ);
    ck_assert_uint_eq(st.queries_done, 2 * NUSERS * NQ);
    ck_assert_int_eq(ANSWERS, 2 * NUSERS * NQ);
    ck_assert_uint_eq(count_keys(dir), 2 * NUSERS * NQ);
    ck_assert_int_le(MAX_IN_FLIGHT, 3);
    ck_assert_int_eq(MAX_IN_FLIGHT, 3); /* 40 queries of 20 ms: -j is reached */
    ck_assert_int_eq(EARLY, 0);
    ck_assert_int_eq(st.calls, 2 * NUSERS * NQ);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(one_worker_is_serial)
{
    runner_opts ro;
    runner_stats st;
    char *dir;
    memset(&ro, 0, sizeof ro);
    reset(1);
    dir = run(1, &ro, &st, 0);
    ck_assert_int_eq(MAX_IN_FLIGHT, 1);
    ck_assert_uint_eq(count_keys(dir), 2 * NUSERS * NQ);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* Resume: the queries of user u1 and the first query of every user are done. */
static int is_done(void *ctx, const char *m, const char *user, const char *id)
{
    (void)ctx, (void)m;
    return strcmp(user, "u1") == 0 || id[2] == '0';
}

START_TEST(resume_skips)
{
    runner_opts ro;
    runner_stats st;
    char *dir;
    memset(&ro, 0, sizeof ro);
    ro.is_done = is_done;
    reset(0);
    dir = run(2, &ro, &st, 0);
    /* per method: u1's 4, and 1 of each other user's */
    ck_assert_uint_eq(st.queries_skipped, 2 * (NQ + (NUSERS - 1)));
    ck_assert_int_eq(ANSWERS, 2 * (NUSERS - 1) * (NQ - 1));
    ck_assert_uint_eq(count_keys(dir), 2 * (NUSERS - 1) * (NQ - 1));
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(stop_starts_nothing_new)
{
    volatile sig_atomic_t stop = 0;
    runner_opts ro;
    runner_stats st;
    char *dir;
    memset(&ro, 0, sizeof ro);
    reset(10);
    ro.stop = &stop;
    STOP_AFTER_FLAG = &stop;
    STOP_AFTER = 5;
    dir = run(2, &ro, &st, 0);
    /* the 5th answer sets the flag; at most the one other query in flight finishes */
    ck_assert_int_ge(ANSWERS, 5);
    ck_assert_int_le(ANSWERS, 6);
    ck_assert_uint_eq(st.queries_done, (size_t)ANSWERS);
    ck_assert_uint_eq(count_keys(dir), (size_t)ANSWERS);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* What the progress callback saw (called with the runner's lock held). */
static struct {
    int n, shrank;
    runner_stats first, last;
    size_t users_done, users_total;
} SEEN;

static void on_progress(void *ctx, const runner_stats *st, size_t users_done,
                        size_t users_total)
{
    (void)ctx;
    if (SEEN.n == 0)
        SEEN.first = *st;
    else if (st->preps_done < SEEN.last.preps_done || st->queries_done < SEEN.last.queries_done)
        SEEN.shrank++;
    SEEN.n++;
    SEEN.last = *st;
    SEEN.users_done = users_done;
    SEEN.users_total = users_total;
}

START_TEST(progress_from_the_plan_to_the_end)
{
    runner_opts ro;
    runner_stats st;
    char *dir;
    memset(&ro, 0, sizeof ro);
    memset(&SEEN, 0, sizeof SEEN);
    ro.progress = on_progress;
    reset(2);
    dir = run(3, &ro, &st, 0);
    /* once planned (nothing done, one preparation per user for "prepared"),
     * after each of the 5 preparations and 40 answers, and once at the end */
    ck_assert_int_eq(SEEN.n, 1 + NUSERS + 2 * NUSERS * NQ + 1);
    ck_assert_uint_eq(SEEN.first.preps_total, NUSERS);
    ck_assert_uint_eq(SEEN.first.preps_done, 0);
    ck_assert_uint_eq(SEEN.first.queries_done, 0);
    ck_assert_uint_eq(SEEN.first.queries_total, 2 * NUSERS * NQ);
    ck_assert_int_eq(SEEN.shrank, 0);
    ck_assert_uint_eq(SEEN.last.preps_done, NUSERS);
    ck_assert_uint_eq(SEEN.last.queries_done, 2 * NUSERS * NQ);
    ck_assert_uint_eq(SEEN.users_done, NUSERS);
    ck_assert_uint_eq(SEEN.users_total, NUSERS);
    ck_assert_uint_eq(st.preps_done, NUSERS);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* A halt check that turns true after 3 answers, with no grace period involved. */
static int halt_after_3(void *ctx)
{
    int *calls = ctx, h;
    pthread_mutex_lock(&MU);
    h = ANSWERS >= 3;
    pthread_mutex_unlock(&MU);
    (*calls)++;
    return h;
}

START_TEST(halt_starts_nothing_new)
{
    runner_opts ro;
    runner_stats st;
    char *dir;
    int calls = 0;
    memset(&ro, 0, sizeof ro);
    reset(10);
    ro.halt = halt_after_3;
    ro.halt_ctx = &calls;
    dir = run(2, &ro, &st, 0);
    /* the 3rd answer makes it true; at most the one other query in flight finishes */
    ck_assert_int_ge(ANSWERS, 3);
    ck_assert_int_le(ANSWERS, 4);
    ck_assert_int_gt(calls, 0);
    ck_assert_uint_eq(st.queries_done, (size_t)ANSWERS);
    ck_assert_uint_eq(count_keys(dir), (size_t)ANSWERS);
    ck_assert_uint_lt(st.queries_done, st.queries_total);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("runner");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_query_once_within_jobs);
    tcase_add_test(tc, one_worker_is_serial);
    tcase_add_test(tc, resume_skips);
    tcase_add_test(tc, stop_starts_nothing_new);
    tcase_add_test(tc, progress_from_the_plan_to_the_end);
    tcase_add_test(tc, halt_starts_nothing_new);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
