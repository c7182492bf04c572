/* progress: the status line's text (phase, counts, cost, replicas), the
 * ticker (drawn from the start, without updates), the line versus log-line
 * forms, and the last line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "progress.h"
#include "testutil.h"

static char *format(const progress_snapshot *s, double elapsed)
{
    buf b = BUF_INIT;
    progress_format(&b, s, elapsed);
    return buf_detach(&b);
}

#define CHECK_LINE(s, elapsed, want)                                                           \
    do {                                                                                       \
        char *got_ = format(s, elapsed);                                                       \
        ck_assert_str_eq(got_, want);                                                          \
        free(got_);                                                                            \
    } while (0)

START_TEST(format_loading_and_preparing)
{
    progress_snapshot s;
    memset(&s, 0, sizeof s);
    /* before the runner: the phase and the time only */
    CHECK_LINE(&s, 2.2, "loading  elapsed 2s");

    /* preparing: 2 of 10 users prepared in 5 s of running, 16 calls; jobs are
     * 10 preparations and 60 queries, 2 done in 5 s: 68 left take 170 s */
    s.phase = PROGRESS_RUNNING;
    s.have_runner = 1;
    s.users_total = 10;
    s.preps_done = 2;
    s.preps_total = 10;
    s.queries_total = 60;
    s.have_llm = 1;
    s.calls = 16;
    s.tokens = 4000;
    s.priced = 1;
    s.cost_usd = 0.004;
    s.run_s = 5;
    CHECK_LINE(&s, 7, "preparing  users 0/10  prepared 2/10  queries 0/60  calls 16 (3.2/s)  "
                      "tokens 4000  cost $0.0040  errors 0  elapsed 7s  eta 2m50s");

    /* every preparation done and no query yet: answering */
    s.preps_done = 10;
    s.calls = 160;
    s.cost_usd = 0;
    s.tokens = 0;
    s.run_s = 50;
    /* 10 of 70 jobs in 50 s: 60 left take 300 s */
    CHECK_LINE(&s, 52, "answering  users 0/10  prepared 10/10  queries 0/60  calls 160 (3.2/s)  "
                       "cost $0.0000  errors 0  elapsed 52s  eta 5m00s");
}
END_TEST

START_TEST(format_answering_cached_endpoints)
{
    progress_snapshot s;
    progress_endpoint eps[3] = {{412, 0, 0, 0}, {37, 5, 2, 1}, {409, 0, 0, 0}};
    memset(&s, 0, sizeof s);
    /* a resumed run (100 queries done before) without preparation */
    s.phase = PROGRESS_RUNNING;
    s.have_runner = 1;
    s.users_done = 3;
    s.users_total = 30;
    s.queries_total = 400;
    s.queries_skipped = 100;
    s.queries_done = 50;
    s.errors = 2;
    s.have_llm = 1;
    s.calls = 812;
    s.cached = 40;
    s.call_errors = 5;
    s.retries = 3;
    s.tokens = 10000;
    s.endpoints = eps;
    s.nendpoints = 3;
    s.run_s = 10;
    /* 50 of 300 in 10 s: 250 left take 50 s; 812 calls in 10 s */
    CHECK_LINE(&s, 12, "answering  users 3/30  queries 150/400  calls 812 (40 cached, 81.2/s)  "
                       "tokens 10000  errors 2 (failed calls 5)  elapsed 12s  eta 50s  "
                       "retries 3  endpoints 412 | 37 (errors 5, rested 2, resting) | 409");

    /* 429s and the cap; one endpoint is not listed */
    s.nendpoints = 1;
    s.retries = 0;
    s.rate_limited = 7;
    s.inflight_cap = 6;
    s.call_errors = 0;
    s.cached = 0;
    CHECK_LINE(&s, 12, "answering  users 3/30  queries 150/400  calls 812 (81.2/s)  "
                       "tokens 10000  errors 2  elapsed 12s  eta 50s  "
                       "429s 7 (in flight <= 6)");
}
END_TEST

START_TEST(format_end_phases)
{
    progress_snapshot s;
    memset(&s, 0, sizeof s);
    s.phase = PROGRESS_SUMMARIZING;
    s.have_runner = 1;
    s.users_done = s.users_total = 1;
    s.queries_total = s.queries_done = 10;
    s.have_llm = 1;
    s.calls = 30;
    s.priced = 1;
    s.cost_usd = 12.5;
    s.run_s = 30;
    /* no ETA once the runner is done; dollars with cents from $1 */
    CHECK_LINE(&s, 3725, "summarizing  users 1/1  queries 10/10  calls 30 (1.0/s)  cost $12.50  "
                         "errors 0  elapsed 1h02m");
    s.phase = PROGRESS_DONE;
    s.have_llm = 0;
    CHECK_LINE(&s, 61, "done  users 1/1  queries 10/10  errors 0  elapsed 1m01s");
    s.phase = PROGRESS_STOPPED;
    CHECK_LINE(&s, 0, "stopped  users 1/1  queries 10/10  errors 0  elapsed 0s");
}
END_TEST

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

START_TEST(status_line_from_the_start)
{
    char *dir = tu_tmpdir(), *p = tu_path(dir, "err"), *txt;
    FILE *f = fopen(p, "w");
    runner_stats st;
    progress *g;
    pe_err e = {0};
    progress_mode m;

    ck_assert_int_eq(progress_parse_mode("always", &m, &e), 0);
    ck_assert_int_eq(m, PROGRESS_ALWAYS);
    ck_assert_int_eq(progress_parse_mode("sometimes", &m, &e), PE_EXIT_USAGE);
    memset(&st, 0, sizeof st);
    st.queries_total = 1000;
    g = progress_new(PROGRESS_ALWAYS, f);
    progress_set_intervals(g, 3600, 3600); /* nothing between the first and the last */
    progress_start(g);
    progress_set_phase(g, PROGRESS_LOADING);
    for (int i = 0; i < 1000; i++) {
        st.queries_done++;
        progress_update(g, &st, 0, 5);
    }
    progress_set_phase(g, PROGRESS_SUMMARIZING);
    progress_finish(g, 0);
    progress_finish(g, 0); /* once only */
    progress_free(g);
    fclose(f);
    txt = tu_read(p);
    /* drawn at the start (loading), then the last state with a newline */
    ck_assert_str_eq(txt, "\r\033[Kpersona-eval: loading  elapsed 0s"
                          "\r\033[Kpersona-eval: done  users 0/5  queries 1000/1000  errors 0  "
                          "elapsed 0s\n");
    free(txt);

    /* a run that fails while loading: the line is erased, no half line left */
    f = fopen(p, "w");
    g = progress_new(PROGRESS_ALWAYS, f);
    progress_start(g);
    progress_free(g);
    fclose(f);
    txt = tu_read(p);
    ck_assert_str_eq(txt, "\r\033[Kpersona-eval: loading  elapsed 0s\r\033[K");
    free(txt);
    tu_rmrf(dir);
    free(dir);
    free(p);
}
END_TEST

START_TEST(log_lines_without_updates)
{
    char *dir = tu_tmpdir(), *p = tu_path(dir, "err"), *txt, *last;
    FILE *f = fopen(p, "w");
    runner_stats st;
    progress *g;
    int lines = 0;

    /* never: nothing at all */
    g = progress_new(PROGRESS_NEVER, f);
    progress_start(g);
    progress_finish(g, 0);
    progress_free(g);
    /* auto on a file: log lines every 0.05 s though nothing is updated */
    memset(&st, 0, sizeof st);
    st.queries_total = 4;
    st.preps_total = 2;
    g = progress_new(PROGRESS_AUTO, f);
    progress_set_intervals(g, 0.25, 0.05);
    progress_start(g);
    progress_update(g, &st, 0, 2);
    nap(0.4);
    progress_finish(g, 1);
    progress_free(g);
    fclose(f);
    txt = tu_read(p);
    for (char *q = txt; (q = strchr(q, '\n')); q++)
        lines++;
    ck_assert_msg(lines >= 3, "%d lines: %s", lines, txt);
    ck_assert_ptr_null(strchr(txt, '\r'));
    ck_assert_msg(strncmp(txt, "persona-eval: preparing  users 0/2  prepared 0/2  queries 0/4  "
                               "errors 0  elapsed 0s\n", 76) == 0, "%s", txt);
    txt[strlen(txt) - 1] = '\0';
    last = strrchr(txt, '\n') + 1;
    ck_assert_str_eq(last, "persona-eval: stopped  users 0/2  prepared 0/2  queries 0/4  "
                           "errors 0  elapsed 0s");
    free(txt);

    /* a log run too short for one line prints nothing, not even at the end */
    f = fopen(p, "w");
    g = progress_new(PROGRESS_AUTO, f);
    progress_start(g);
    progress_update(g, &st, 0, 2);
    progress_finish(g, 0);
    progress_free(g);
    fclose(f);
    txt = tu_read(p);
    ck_assert_str_eq(txt, "");
    free(txt);
    tu_rmrf(dir);
    free(dir);
    free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("progress");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, format_loading_and_preparing);
    tcase_add_test(tc, format_answering_cached_endpoints);
    tcase_add_test(tc, format_end_phases);
    tcase_add_test(tc, status_line_from_the_start);
    tcase_add_test(tc, log_lines_without_updates);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
