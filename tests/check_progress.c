/* progress: the status line's text, rate limiting, modes, and the line
 * versus log-line forms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"
#include "testutil.h"

START_TEST(format_line)
{
    buf b = BUF_INIT;
    runner_stats st;
    memset(&st, 0, sizeof st);
    st.queries_total = 400;
    st.queries_skipped = 100;
    st.queries_done = 50;
    st.errors = 2;
    st.calls = 120;
    st.prompt_tokens = 9000;
    st.completion_tokens = 1000;
    /* 50 of 300 to do in 10 s: 250 left take 50 s */
    progress_format(&b, &st, 3, 30, 10.0);
    ck_assert_str_eq(buf_str(&b), "users 3/30  queries 150/400  calls 120 (12.0/s)  tokens 10000"
                                  "  errors 2  elapsed 10s  eta 50s");
    buf_reset(&b);
    memset(&st, 0, sizeof st);
    st.queries_total = st.queries_done = 10;
    progress_format(&b, &st, 1, 1, 3725);
    ck_assert_str_eq(buf_str(&b), "users 1/1  queries 10/10  errors 0  elapsed 1h02m");
    buf_free(&b);
}
END_TEST

static void extra(void *ctx, buf *out)
{
    buf_printf(out, "cache %d hits", *(int *)ctx);
}

START_TEST(rate_limited_line)
{
    char *dir = tu_tmpdir(), *p = tu_path(dir, "err"), *txt;
    FILE *f = fopen(p, "w");
    runner_stats st;
    progress *g;
    int hits = 7;
    pe_err e = {0};
    progress_mode m;

    ck_assert_int_eq(progress_parse_mode("always", &m, &e), 0);
    ck_assert_int_eq(m, PROGRESS_ALWAYS);
    ck_assert_int_eq(progress_parse_mode("sometimes", &m, &e), PE_EXIT_USAGE);
    memset(&st, 0, sizeof st);
    st.queries_total = 1000;
    g = progress_new(PROGRESS_ALWAYS, f);
    progress_set_intervals(g, 3600, 3600); /* nothing before the end */
    progress_set_extra(g, extra, &hits);
    for (int i = 0; i < 1000; i++) {
        st.queries_done++;
        progress_update(g, &st, 0, 5);
    }
    progress_finish(g);
    progress_free(g);
    fclose(f);
    txt = tu_read(p);
    /* one redraw only (the final one), with the final counts and the hook */
    ck_assert_str_eq(txt, "\r\033[Kpersona-eval: users 0/5  queries 1000/1000  errors 0  "
                          "elapsed 0s  cache 7 hits\n");
    free(txt);

    /* never: nothing at all; auto on a file: log lines, one per interval */
    f = fopen(p, "w");
    g = progress_new(PROGRESS_NEVER, f);
    progress_update(g, &st, 5, 5);
    progress_finish(g);
    progress_free(g);
    g = progress_new(PROGRESS_AUTO, f);
    progress_set_intervals(g, 0, 0);
    progress_update(g, &st, 5, 5);
    progress_update(g, &st, 5, 5);
    progress_free(g);
    fclose(f);
    txt = tu_read(p);
    ck_assert_str_eq(txt, "persona-eval: users 5/5  queries 1000/1000  errors 0  elapsed 0s\n"
                          "persona-eval: users 5/5  queries 1000/1000  errors 0  elapsed 0s\n");
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
    tcase_add_test(tc, format_line);
    tcase_add_test(tc, rate_limited_line);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
