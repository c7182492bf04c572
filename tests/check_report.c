/* report: predictions round trip (torn last line, last record wins), summaries
 * with hand-computed metrics, tables, and reading summaries back. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "csv.h"
#include "jsonu.h"
#include "report.h"
#include "testutil.h"

static pred_record rec(const char *m, const char *u, const char *id, const char *gold,
                       const char *pred, const char *err)
{
    pred_record r;
    memset(&r, 0, sizeof r);
    r.method = (char *)m;
    r.user = (char *)u;
    r.id = (char *)id;
    r.gold = (char *)gold;
    r.raw = (char *)pred;
    r.pred = (char *)pred;
    r.valid = pred != NULL;
    r.error = (char *)err;
    r.prompt_tokens = r.completion_tokens = -1;
    r.cost_usd = -1;
    return r;
}

START_TEST(append_and_load)
{
    char *dir = tu_tmpdir(), *p = tu_path(dir, "predictions.jsonl");
    report_writer *w;
    pe_err e = {0};
    pred_record *recs;
    size_t n, torn;
    pred_record a = rec("knn", "u1", "q1", "comedy", "comedy", NULL);
    pred_record b = rec("knn", "u1", "q2", "action", NULL, "HTTP 500: boom");
    pred_record c = rec("knn", "u1", "q1", "comedy", "action", NULL); /* later wins */
    c.calls = 3;
    c.prompt_tokens = 120;
    c.completion_tokens = 7;
    c.cost_usd = 0.25;

    ck_assert_int_eq(report_open(dir, &w, &e), 0);
    ck_assert_int_eq(report_append_prediction(w, &a, &e), 0);
    ck_assert_int_eq(report_append_prediction(w, &b, &e), 0);
    ck_assert_int_eq(report_append_prediction(w, &c, &e), 0);
    ck_assert_int_eq(report_close(w, &e), 0);
    /* a writer killed mid-line leaves a torn last line */
    tu_sh(NULL, NULL, "printf '{\"user\":\"u2\",\"id\":\"q' >> '%s'", p);
    ck_assert_int_eq(report_load_predictions(dir, &recs, &n, &torn, &e), 0);
    ck_assert_uint_eq(torn, 1);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(recs[0].id, "q2");
    ck_assert_str_eq(recs[0].error, "HTTP 500: boom");
    ck_assert_ptr_null(recs[0].pred);
    ck_assert_str_eq(recs[1].id, "q1");
    ck_assert_str_eq(recs[1].pred, "action");
    ck_assert_int_eq(recs[1].prompt_tokens, 120);
    ck_assert_int_eq(recs[1].calls, 3);
    ck_assert_double_eq(recs[1].cost_usd, 0.25);
    ck_assert_int_eq(recs[0].prompt_tokens, -1);
    report_free_predictions(recs, n);

    /* a broken line that is not the last one is an error naming the line */
    tu_sh(NULL, NULL, "printf '\\n{\"user\":1}\\n' >> '%s'", p);
    ck_assert_int_eq(report_load_predictions(dir, &recs, &n, &torn, &e), PE_EXIT_DATA);
    ck_assert_ptr_nonnull(strstr(e.msg, "predictions.jsonl:4"));
    tu_rmrf(dir);
    free(p);
    free(dir);
}
END_TEST

/* A signal noted before (or during) the summaries stops them with its exit
 * code and writes no file; reading predictions.jsonl stops the same way. */
START_TEST(interrupted_summary_writes_nothing)
{
    char *dir = tu_tmpdir(), *p = tu_path(dir, "summary.json"), *q = tu_path(dir, "users.csv");
    const task *t = task_get("lamp2m");
    pe_err e = {0};
    method_summary *s = NULL;
    size_t ns = 0, n = 0;
    summary_opts o = {0};
    pred_record r[] = {rec("m", "u1", "a", "comedy", "comedy", NULL),
                       rec("m", "u2", "b", "action", "comedy", NULL)}, *back = NULL;
    report_writer *w;

    ck_assert_int_eq(report_open(dir, &w, &e), 0);
    ck_assert_int_eq(report_append_prediction(w, &r[0], &e), 0);
    ck_assert_int_eq(report_close(w, &e), 0);
    o.bootstrap = 50;
    pe_signal_note(SIGTERM);
    ck_assert_int_eq(report_summarize(dir, t, r, 2, &o, &s, &ns, &e), PE_EXIT_SIGTERM);
    ck_assert_str_eq(e.msg, "interrupted by SIGTERM while writing the summaries");
    ck_assert_ptr_null(s);
    ck_assert(!tu_exists(p) && !tu_exists(q));
    ck_assert_int_eq(report_load_predictions(dir, &back, &n, NULL, &e), PE_EXIT_SIGTERM);
    ck_assert_ptr_null(back);
    pe_interrupt_arm(); /* forgotten: the next summary is written */
    ck_assert_int_eq(report_summarize(dir, t, r, 2, &o, &s, &ns, &e), 0);
    ck_assert(tu_exists(p) && tu_exists(q));
    report_free_summaries(s, ns);
    tu_rmrf(dir);
    free(dir);
    free(p);
    free(q);
}
END_TEST

START_TEST(summarize_classification)
{
    char *dir = tu_tmpdir();
    const task *t = task_get("lamp2m");
    pe_err e = {0};
    method_summary *s, *back;
    size_t ns, nb;
    const task *bt;
    summary_opts o = {0};
    /* method m: 4 scored, 1 error. gold/pred: comedy/comedy, comedy/action,
     * action/action, action/Comedy(-1).
     * accuracy = 2/4. comedy: TP1 FP0 FN1 -> 2/3; action: TP1 FP1 FN1 -> 2/4.
     * F1 = (2/3 + 1/2) / 15. */
    pred_record r[] = {
        rec("m", "u2", "a", "comedy", "comedy", NULL),
        rec("m", "u1", "b", "comedy", "action", NULL),
        rec("m", "u1", "c", "action", "action", NULL),
        rec("m", "u2", "d", "action", "Comedy", NULL),
        rec("m", "u2", "e", "action", NULL, "timeout"),
    };
    r[3].valid = 0;
    /* tokens: two queries reported usage, one made calls without usage */
    r[0].calls = 2, r[0].prompt_tokens = 100, r[0].completion_tokens = 10, r[0].cost_usd = 0.5;
    r[1].calls = 1, r[1].prompt_tokens = 40, r[1].completion_tokens = 4, r[1].cost_usd = 0.25;
    r[2].calls = 4;
    o.bootstrap = 200;
    o.seed = 7;
    ck_assert_int_eq(report_summarize(dir, t, r, 5, &o, &s, &ns, &e), 0);
    ck_assert_uint_eq(ns, 1);
    ck_assert_uint_eq(s[0].n, 4);
    ck_assert_uint_eq(s[0].errors, 1);
    ck_assert_uint_eq(s[0].invalid, 1);
    ck_assert_uint_eq(s[0].users, 2);
    ck_assert_int_eq(s[0].calls, 7);
    ck_assert_int_eq(s[0].prompt_tokens, 140);
    ck_assert_int_eq(s[0].completion_tokens, 14);
    ck_assert_uint_eq(s[0].tokens_unknown, 1);
    ck_assert_double_eq_tol(s[0].cost_usd, 0.75, 1e-12);
    ck_assert_double_eq_tol(s[0].value[0], 0.5, 1e-15);
    ck_assert_double_eq_tol(s[0].value[1], (2.0 / 3 + 0.5) / 15, 1e-15);
    ck_assert(s[0].lo[0] <= 0.5 && s[0].hi[0] >= 0.5);
    {
        char *csv = tu_path(dir, "users.csv"), *txt = tu_read(csv);
        /* u1 (b, c): 1 of 2 right */
        ck_assert_ptr_nonnull(strstr(txt, "method,user,n,invalid,errors,accuracy,f1,calls,"
                                          "prompt_tokens,completion_tokens,tokens_unknown,"
                                          "cost_usd,prep_calls,shared_calls\n"));
        ck_assert_ptr_nonnull(strstr(txt, "m,u1,2,0,0,0.5,"));
        ck_assert_ptr_nonnull(strstr(txt, "m,u2,2,1,1,0.5,"));
        free(txt);
        free(csv);
    }
    ck_assert_int_eq(report_read_summary(dir, &bt, &back, &nb, &e), 0);
    ck_assert_ptr_eq(bt, t);
    ck_assert_uint_eq(nb, 1);
    ck_assert_double_eq(back[0].value[1], s[0].value[1]);
    ck_assert_double_eq(back[0].lo[0], s[0].lo[0]);
    ck_assert_uint_eq(back[0].errors, 1);
    ck_assert_int_eq(back[0].prompt_tokens, 140);
    ck_assert_double_eq_tol(back[0].cost_usd, 0.75, 1e-12);
    {
        buf b = BUF_INIT;
        report_table(&b, "md", t, back, nb, NULL);
        ck_assert_ptr_nonnull(strstr(buf_str(&b), "| m | 4 | 0.500 ["));
        buf_reset(&b);
        report_table(&b, "csv", t, back, nb, NULL);
        ck_assert_ptr_nonnull(strstr(buf_str(&b), "task,method,n,invalid,errors,accuracy,"));
        ck_assert_ptr_nonnull(strstr(buf_str(&b), "lamp2m,m,4,1,1,0.5,"));
        buf_free(&b);
    }
    report_free_summaries(s, ns);
    report_free_summaries(back, nb);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(summary_independent_of_order)
{
    char *d1 = tu_tmpdir(), *d2 = tu_tmpdir();
    const task *t = task_get("lamp3");
    pe_err e = {0};
    method_summary *s1, *s2;
    size_t n1, n2;
    summary_opts o = {0};
    pred_record r[] = {
        rec("x", "u1", "a", "5", "4", NULL), rec("x", "u1", "b", "1", "three", NULL),
        rec("x", "u2", "c", "3", "3.5", NULL), rec("x", "u3", "d", "2", "2", NULL),
    };
    pred_record rev[] = {r[3], r[2], r[1], r[0]};
    o.bootstrap = 300;
    o.seed = 11;
    ck_assert_int_eq(report_summarize(d1, t, r, 4, &o, &s1, &n1, &e), 0);
    ck_assert_int_eq(report_summarize(d2, t, rev, 4, &o, &s2, &n2, &e), 0);
    /* |5-4| + |1-5| (unparsable, gold 1 -> 5.0) + 0.5 + 0 = 5.5 */
    ck_assert_double_eq_tol(s1[0].value[0], 5.5 / 4, 1e-15);
    ck_assert_double_eq_tol(s1[0].value[1], sqrt((1 + 16 + 0.25) / 4), 1e-15);
    ck_assert_double_eq(s1[0].lo[0], s2[0].lo[0]);
    ck_assert_double_eq(s1[0].hi[1], s2[0].hi[1]);
    {
        char *a = tu_path(d1, "summary.json"), *b = tu_path(d2, "summary.json");
        char *ta = tu_read(a), *tb = tu_read(b);
        ck_assert_str_eq(ta, tb);
        free(a), free(b), free(ta), free(tb);
    }
    report_free_summaries(s1, n1);
    report_free_summaries(s2, n2);
    tu_rmrf(d1);
    tu_rmrf(d2);
    free(d1);
    free(d2);
}
END_TEST


/* every row as wide as its header, read back with the CSV reader */
static void assert_rect(const char *dir, const char *name)
{
    char *p = tu_path(dir, name), *txt = tu_read(p);
    csv_tab t;
    pe_err e = {0};
    ck_assert_int_eq(csv_parse(p, txt, strlen(txt), &t, &e), 0);
    ck_assert_uint_gt(t.n, 1);
    for (size_t i = 1; i < t.n; i++)
        ck_assert_msg(t.r[i].n == t.r[0].n, "%s row %zu: %zu fields, header %zu", name, i,
                      t.r[i].n, t.r[0].n);
    csv_free(&t);
    free(txt);
    free(p);
}

START_TEST(null_metrics_keep_columns)
{
    char *dir = tu_tmpdir(), *p, *txt;
    const task *t = task_get("lamp3");
    pe_err e = {0};
    method_summary *s;
    size_t ns;
    summary_opts o = {0};
    /* "dead": every query errored (null metrics); "inf": answers inf, 1e400 and
     * nan, which are unparsable: golds 2, 4 and 1 map to 5, 1 and 5:
     * MAE = (3 + 3 + 4) / 3, RMSE = sqrt((9 + 9 + 16) / 3) */
    pred_record r[] = {
        rec("dead", "u1", "a", "2", NULL, "HTTP 500"), rec("dead", "u2", "b", "4", NULL, "x"),
        rec("inf", "u1", "a", "2", "inf", NULL), rec("inf", "u2", "b", "4", "1e400", NULL),
        rec("inf", "u2", "c", "1", "nan", NULL),
    };
    r[0].calls = 2;
    o.bootstrap = 50;
    o.seed = 3;
    ck_assert_int_eq(report_summarize(dir, t, r, 5, &o, &s, &ns, &e), 0);
    ck_assert_uint_eq(ns, 2);
    ck_assert_double_eq_tol(s[1].value[0], 10.0 / 3, 1e-12);
    ck_assert_double_eq_tol(s[1].value[1], sqrt(34.0 / 3), 1e-12);
    ck_assert_uint_eq(s[1].invalid, 3);
    assert_rect(dir, "summary.csv");
    assert_rect(dir, "users.csv");
    p = tu_path(dir, "summary.csv");
    txt = tu_read(p);
    /* the null MAE and RMSE: three empty fields each, then calls = 2 */
    ck_assert_ptr_nonnull(strstr(txt, "lamp3,dead,0,0,2,,,,,,,2,0,0,1,0.0,0,0,0,0.0,0.0\n"));
    free(txt);
    free(p);
    p = tu_path(dir, "summary.json");
    txt = tu_read(p);
    ck_assert_ptr_null(strstr(txt, "Infinity"));
    ck_assert_ptr_null(strstr(txt, "NaN"));
    ck_assert_ptr_null(strstr(txt, "nan"));
    {
        size_t off;
        cJSON *j = jsonu_parse(txt, strlen(txt), &off);
        ck_assert_ptr_nonnull(j);
        ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "methods"), 0), "MAE")));
        cJSON_Delete(j);
    }
    free(txt);
    free(p);
    report_free_summaries(s, ns);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(csv_union_of_tasks)
{
    method_summary a, b;
    report_row rows[2];
    buf out = BUF_INIT;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.method = "knn", a.n = 4, a.value[0] = 0.5, a.value[1] = 0.25;
    a.lo[0] = a.hi[0] = a.lo[1] = a.hi[1] = NAN;
    b.method = "rag", b.n = 2, b.value[0] = 1.5, b.value[1] = NAN, b.lo[0] = 1, b.hi[0] = 2;
    b.lo[1] = b.hi[1] = NAN;
    rows[0] = (report_row){"r1", task_get("lamp2m"), &a};
    rows[1] = (report_row){"r2", task_get("lamp3"), &b};
    ck_assert_int_eq(report_rows_table(&out, "csv", rows, 2, 1), 0);
    ck_assert_str_eq(buf_str(&out),
                     "run,task,method,n,invalid,errors,accuracy,accuracy_lo,accuracy_hi,f1,"
                     "f1_lo,f1_hi,MAE,MAE_lo,MAE_hi,RMSE,RMSE_lo,RMSE_hi,calls,prompt_tokens,"
                     "completion_tokens,tokens_unknown,cost_usd,prep_calls,shared_calls,"
                     "calls_cached,cost_spent_usd,shared_cost_usd\n"
                     "r1,lamp2m,knn,4,0,0,0.5,,,0.25,,,,,,,,,0,0,0,0,0.0,0,0,0,0.0,0.0\n"
                     "r2,lamp3,rag,2,0,0,,,,,,,1.5,1.0,2.0,,,,0,0,0,0,0.0,0,0,0,0.0,0.0\n");
    buf_free(&out);
}
END_TEST

START_TEST(run_figures_and_provenance)
{
    char *dir = tu_tmpdir(), *p, *txt;
    const task *t = task_get("lamp1");
    pe_err e = {0};
    method_summary *s, *back;
    size_t ns, nb;
    const task *bt;
    summary_opts o = {0};
    const char *order[] = {"b", "a"};
    const size_t expected[] = {3, 1}, prep[] = {0, 2};
    pred_record r[] = {
        rec("a", "u1", "q1", "[1]", "[1]", NULL), rec("b", "u1", "q1", "[1]", "[2]", NULL),
        rec("b", "u2", "q2", "[2]", "[2]", NULL),
    };
    o.method_order = order;
    o.nmethod_order = 2;
    o.n_expected = expected;
    o.prep_errors = prep;
    o.model = "m-1";
    o.backend = "http";
    o.endpoint_host = "llm.example";
    o.data_sha256 = "abc";
    o.config_hash = "def";
    ck_assert_int_eq(report_summarize(dir, t, r, 3, &o, &s, &ns, &e), 0);
    /* b answered 2 of its 3 expected queries; a its 1 */
    ck_assert_str_eq(s[0].method, "b");
    p = tu_path(dir, "summary.csv");
    txt = tu_read(p);
    ck_assert_ptr_nonnull(strstr(txt, ",cost_usd,prep_calls,shared_calls,calls_cached,cost_spent_usd,"
                                      "shared_cost_usd,complete,n_expected\n"));
    ck_assert_ptr_nonnull(strstr(txt, ",false,3\n"));
    ck_assert_ptr_nonnull(strstr(txt, ",true,1\n"));
    free(txt);
    free(p);
    p = tu_path(dir, "summary.json");
    txt = tu_read(p);
    ck_assert_ptr_nonnull(strstr(txt, "\"provenance\":{\"model\":\"m-1\",\"endpoint_host\":"
                                      "\"llm.example\",\"backend\":\"http\",\"data_sha256\":"
                                      "\"abc\",\"config_hash\":\"def\"}"));
    free(txt);
    free(p);
    ck_assert_int_eq(report_read_summary(dir, &bt, &back, &nb, &e), 0);
    ck_assert_uint_eq(back[1].prep_errors, 2);
    ck_assert_uint_eq(back[0].n_expected, 3);
    report_free_summaries(back, nb);
    report_free_summaries(s, ns);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* A method the run was to answer but with no prediction at all (its
 * preparation failed, the run stopped) keeps a row: n 0, no metric,
 * complete false, its preparation's calls; in method_order's order. */
START_TEST(expected_method_without_predictions)
{
    char *dir = tu_tmpdir(), *p = tu_path(dir, "personas.jsonl"), *txt;
    const task *t = task_get("lamp2m");
    pe_err e = {0};
    method_summary *s;
    size_t ns;
    summary_opts o = {0};
    const char *order[] = {"pa", "knn"};
    const size_t expected[] = {2, 2}, prep[] = {1, 0};
    pred_record r[] = {rec("knn", "u1", "q1", "comedy", "comedy", NULL)};
    tu_write(p, "{\"user\":\"u1\",\"method\":\"pa\",\"turn\":0,\"prep\":{\"calls\":3,"
                "\"cost_usd\":0.25}}\n");
    o.method_order = order;
    o.nmethod_order = 2;
    o.n_expected = expected;
    o.prep_errors = prep;
    ck_assert_int_eq(report_summarize(dir, t, r, 1, &o, &s, &ns, &e), 0);
    ck_assert_uint_eq(ns, 2);
    ck_assert_str_eq(s[0].method, "pa");
    ck_assert_uint_eq(s[0].n, 0);
    ck_assert(isnan(s[0].value[0]) && isnan(s[0].value[1]));
    ck_assert_uint_eq(s[0].n_expected, 2);
    ck_assert_uint_eq(s[0].prep_errors, 1);
    ck_assert_int_eq(s[0].calls, 3);
    ck_assert_int_eq(s[0].prep_calls, 3);
    ck_assert_str_eq(s[1].method, "knn");
    ck_assert_uint_eq(s[1].n, 1);
    free(p);
    p = tu_path(dir, "summary.csv");
    txt = tu_read(p);
    ck_assert_ptr_nonnull(strstr(txt, "\nlamp2m,pa,0,0,0,,,,,,,3,0,0,0,0.25,3,0,0,0.0,0.0,false,2\n"));
    free(txt);
    free(p);
    report_free_summaries(s, ns);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* Preparation recorded in personas.jsonl joins the method rows: a resumed
 * preparation (the same user, method and turn again) replaces the first; the
 * shared summary is counted in each row that used it; a torn last line is
 * left out. Expected: pa = 3 queries calls + u1 (own 4 + shared 1) + u2 (own 2,
 * 1 cached, + shared 1) = 11 calls, 8 of preparation, 2 shared, 1 cached. */
START_TEST(preparation_in_rows)
{
    char *dir = tu_tmpdir(), *p = tu_path(dir, "personas.jsonl");
    const task *t = task_get("lamp2m");
    summary_opts o = {0};
    method_summary *s = NULL;
    size_t ns = 0;
    pe_err e = {0};
    pred_record r[] = {
        rec("pa", "u1", "a", "comedy", "comedy", NULL),
        rec("pag", "u1", "a", "comedy", "comedy", NULL),
    };
    const char *sh = "\"shared\":{\"calls\":1,\"calls_cached\":0,\"prompt_tokens\":10,"
                     "\"completion_tokens\":1,\"calls_unreported\":0,\"cost_usd\":0.5,"
                     "\"cost_spent_usd\":0.5}";
    char *txt = xasprintf(
        "{\"user\":\"u1\",\"method\":\"pa\",\"turn\":0,\"prep\":{\"calls\":9,\"cost_usd\":9,"
        "\"cost_spent_usd\":9},%s}\n"
        "{\"user\":\"u1\",\"method\":\"pag\",\"turn\":0,\"prep\":{\"calls\":0},%s}\n"
        "{\"user\":\"u2\",\"method\":\"pa\",\"turn\":0,\"prep\":{\"calls\":2,\"calls_cached\":1,"
        "\"prompt_tokens\":4,\"completion_tokens\":2,\"cost_usd\":2,\"cost_spent_usd\":1},%s}\n"
        "{\"user\":\"u1\",\"method\":\"pa\",\"turn\":0,\"prep\":{\"calls\":4,\"cost_usd\":4,"
        "\"cost_spent_usd\":4},%s}\n"
        "{\"user\":\"u3\",\"method\":\"pa\",\"turn\":0,\"prep\":{\"calls\":50",
        sh, sh, sh, sh);
    tu_write(p, txt);
    r[0].calls = 3, r[0].prompt_tokens = 30, r[0].completion_tokens = 3, r[0].cost_usd = 3;
    r[0].cost_spent_usd = 3;
    ck_assert_int_eq(report_summarize(dir, t, r, 2, &o, &s, &ns, &e), 0);
    ck_assert_uint_eq(ns, 2);
    ck_assert_str_eq(s[0].method, "pa");
    ck_assert_int_eq(s[0].calls, 11);
    ck_assert_int_eq(s[0].prep_calls, 8);
    ck_assert_int_eq(s[0].shared_calls, 2);
    ck_assert_int_eq(s[0].calls_cached, 1);
    ck_assert_int_eq(s[0].prompt_tokens, 30 + 10 + 4 + 10);
    ck_assert_double_eq_tol(s[0].cost_usd, 3 + 4.5 + 2.5, 1e-12);
    ck_assert_double_eq_tol(s[0].cost_spent_usd, 3 + 4.5 + 1.5, 1e-12);
    ck_assert_double_eq_tol(s[0].shared_cost_usd, 1, 1e-12);
    ck_assert_int_eq(s[1].calls, 1);
    ck_assert_int_eq(s[1].shared_calls, 1);
    report_free_summaries(s, ns);
    free(txt);
    free(p);
    /* users.csv: each (method, user) row holds that user's preparation too:
     * pa,u1 = 3 query calls + own 4 + shared 1 = 8 calls (5 of preparation, 1
     * shared), cost 3 + 4 + 0.5; pag,u1 = the shared summary alone. (u2 has no
     * answered query, so no row: its preparation is in summary.csv only.) F1 is
     * macro over LaMP-2M's 15 labels: 1/15. */
    p = tu_path(dir, "users.csv");
    txt = tu_read(p);
    ck_assert_str_eq(txt, "method,user,n,invalid,errors,accuracy,f1,calls,prompt_tokens,"
                          "completion_tokens,tokens_unknown,cost_usd,prep_calls,shared_calls\n"
                          "pa,u1,1,0,0,1.0,0.06666666666666667,8,40,4,0,7.5,5,1\n"
                          "pag,u1,1,0,0,1.0,0.06666666666666667,1,10,1,0,0.5,1,1\n");
    free(txt);
    free(p);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* pending lines are fsync'd within about a second even when nothing else is
 * appended, and closing stops the flusher at once */
START_TEST(background_fsync)
{
    char *dir = tu_tmpdir();
    report_writer *w;
    pe_err e = {0};
    pred_record a = rec("knn", "u1", "q1", "comedy", "comedy", NULL);
    unsigned long s0;
    double t;

    ck_assert_int_eq(report_open(dir, &w, &e), 0);
    s0 = report_syncs(w);
    ck_assert_int_eq(report_append_prediction(w, &a, &e), 0);
    t = pe_now();
    while (report_syncs(w) == s0 && pe_now() - t < 3)
        usleep(20000);
    ck_assert_uint_gt(report_syncs(w), s0);
    ck_assert(pe_now() - t < 1.6);
    /* nothing pending: no more syncs */
    s0 = report_syncs(w);
    usleep(1200000);
    ck_assert_uint_eq(report_syncs(w), s0);
    t = pe_now();
    ck_assert_int_eq(report_close(w, &e), 0);
    ck_assert(pe_now() - t < 0.5);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, append_and_load);
    tcase_add_test(tc, interrupted_summary_writes_nothing);
    tcase_add_test(tc, summarize_classification);
    tcase_add_test(tc, summary_independent_of_order);
    tcase_add_test(tc, background_fsync);
    tcase_add_test(tc, null_metrics_keep_columns);
    tcase_add_test(tc, csv_union_of_tasks);
    tcase_add_test(tc, run_figures_and_provenance);
    tcase_add_test(tc, preparation_in_rows);
    tcase_add_test(tc, expected_method_without_predictions);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
