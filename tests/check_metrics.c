/* metrics: hand-computed cases for each official rule, agreement with a
 * literal re-implementation of the official scorer (scripts/official_eval.py)
 * on randomized predictions, the bootstrap, and the score subcommand run
 * in-process. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "jsonu.h"
#include "metrics.h"
#include "task.h"
#include "testutil.h"
#include "util.h"

#define EPS 1e-12

static metrics_result score(const char *task_name, const char *const *golds,
                            const char *const *preds, size_t n)
{
    metrics_result r;
    metrics_compute(task_get(task_name), golds, preds, n, &r);
    return r;
}

START_TEST(classification_rules)
{
    /* comedy = 2, action = 3, sci-fi = 0 in the official movie tag order */
    const char *g[] = {"comedy", "comedy", "action", "sci-fi"};
    const char *p[] = {"Comedy", " comedy\n", "action", "drama"};
    metrics_result r = score("lamp2m", g, p, 4);
    ck_assert_uint_eq(r.n, 4);
    ck_assert_uint_eq(r.invalid, 2); /* "Comedy" (case) and "drama" (not a tag) */
    ck_assert_double_eq_tol(r.accuracy, 0.5, EPS);
    /* comedy: TP 1, FN 1 -> 2/3; action: TP 1 -> 1; sci-fi: FN 1 -> 0; 12 absent tags 0 */
    ck_assert_double_eq_tol(r.f1, (2.0 / 3 + 1.0) / 15, EPS);
    ck_assert(isnan(r.mae) && isnan(r.rmse));
}
END_TEST

START_TEST(absent_labels_count_zero)
{
    const char *g[] = {"sports", "sports", "crime", "crime"};
    const char *p[] = {"sports", "crime", "crime", "crime"};
    metrics_result r = score("lamp2n", g, p, 4);
    /* sports: TP 1, FN 1 -> 2/3; crime: TP 2, FP 1 -> 4/5; the other 13 categories 0 */
    ck_assert_double_eq_tol(r.accuracy, 0.75, EPS);
    ck_assert_double_eq_tol(r.f1, (2.0 / 3 + 4.0 / 5) / 15, EPS);
    ck_assert_uint_eq(r.invalid, 0);
}
END_TEST

START_TEST(lamp1_and_invalid_predictions)
{
    const char *g[] = {"[1]", "[2]", "[1]"};
    const char *p[] = {"[1]", "[1]", "1"};
    metrics_result r = score("lamp1", g, p, 3);
    /* [1]: TP 1, FP 1, FN 1 -> 1/2; [2]: FN 1 -> 0; "1" is -1: an FN only */
    ck_assert_double_eq_tol(r.accuracy, 1.0 / 3, EPS);
    ck_assert_double_eq_tol(r.f1, 0.25, EPS);
    ck_assert_uint_eq(r.invalid, 1);
}
END_TEST

START_TEST(gold_outside_label_list)
{
    /* The official code maps such a gold to -1 too, and -1 == -1 counts as right. */
    const char *g[] = {"unknown", "unknown", "comedy"};
    const char *p[] = {"nope", "comedy", "comedy"};
    metrics_result r = score("lamp2m", g, p, 3);
    ck_assert_double_eq_tol(r.accuracy, 2.0 / 3, EPS);
    /* comedy: TP 1, FP 1 (from the -1 gold) -> 2/3 */
    ck_assert_double_eq_tol(r.f1, 2.0 / 3 / 15, EPS);
    ck_assert_uint_eq(r.invalid, 1);
}
END_TEST

START_TEST(unicode_whitespace_is_stripped)
{
    /* Python's str.strip() removes U+00A0 and U+3000 as well */
    const char *g[] = {"comedy", "action"};
    const char *p[] = {"\xc2\xa0" "comedy\t", "action\xe3\x80\x80"};
    metrics_result r = score("lamp2m", g, p, 2);
    ck_assert_double_eq_tol(r.accuracy, 1.0, EPS);
    ck_assert_uint_eq(r.invalid, 0);
}
END_TEST

START_TEST(rating_rules)
{
    const char *g[] = {"1", "2", "3", "4", "5", " 3 "};
    const char *p[] = {"3.5", " 4 ", "four", "7", "x", "1e0"};
    metrics_result r = score("lamp3", g, p, 6);
    /* |2.5|, |2|, four at gold 3 (tie) -> 5.0: |2|, |3| (no clamping), x at gold 5 -> 1.0: |4|,
     * |1 - 3| = 2 */
    ck_assert_uint_eq(r.invalid, 2);
    ck_assert_double_eq_tol(r.mae, 15.5 / 6, EPS);
    ck_assert_double_eq_tol(r.rmse, sqrt((6.25 + 4 + 4 + 9 + 16 + 4) / 6), EPS);
    ck_assert(isnan(r.accuracy) && isnan(r.f1));
}
END_TEST

START_TEST(rating_unparsable_goes_to_far_extreme)
{
    const double expect[] = {5.0, 5.0, 5.0, 1.0, 1.0}; /* gold 1..5 */
    const char *golds[] = {"1", "2", "3", "4", "5"};
    for (size_t i = 0; i < 5; i++) {
        const char *p[] = {"four"};
        metrics_result r = score("lamp3", &golds[i], p, 1);
        ck_assert_double_eq_tol(r.mae, fabs(expect[i] - (double)(i + 1)), EPS);
        ck_assert_uint_eq(r.invalid, 1);
    }
    {
        const char *g[] = {"2"}, *p[] = {"2.0"};
        metrics_result r = score("lamp3", g, p, 1);
        ck_assert_double_eq_tol(r.mae, 0, EPS);
        ck_assert_uint_eq(r.invalid, 0);
    }
    {
        /* an unparsable gold: the official scorer crashes; we give NAN */
        const char *g[] = {"three"}, *p[] = {"3"};
        metrics_result r = score("lamp3", g, p, 1);
        ck_assert(isnan(r.mae));
    }
}
END_TEST

START_TEST(empty_and_names)
{
    const char *names[2];
    metrics_result r = score("lamp2m", NULL, NULL, 0);
    ck_assert_uint_eq(r.n, 0);
    ck_assert(isnan(r.accuracy) && isnan(r.f1) && isnan(r.mae) && isnan(r.rmse));
    r = score("lamp3", NULL, NULL, 0);
    ck_assert(isnan(r.mae) && isnan(r.rmse));

    ck_assert_uint_eq(metrics_names(task_get("lamp1"), names), 2);
    ck_assert_str_eq(names[0], "accuracy");
    ck_assert_str_eq(names[1], "f1");
    metrics_names(task_get("lamp3"), names);
    ck_assert_str_eq(names[0], "MAE");
    ck_assert_str_eq(names[1], "RMSE");
    ck_assert_int_eq(metrics_higher_is_better(task_get("lamp2n"), 1), 1);
    ck_assert_int_eq(metrics_higher_is_better(task_get("lamp3"), 0), 0);
    {
        const char *g[] = {"5"}, *p[] = {"3"};
        r = score("lamp3", g, p, 1);
        ck_assert_double_eq_tol(metrics_value(&r, 0), 2.0, EPS);
        ck_assert_double_eq_tol(metrics_value(&r, 1), 2.0, EPS);
    }
    {
        const char *g[] = {"[1]", "[2]"}, *p[] = {"[1]", "[1]"};
        r = score("lamp1", g, p, 2);
        ck_assert_double_eq_tol(metrics_value(&r, 0), 0.5, EPS);
        ck_assert_double_eq_tol(metrics_value(&r, 1), (2.0 / 3 + 0) / 2, EPS);
    }
}
END_TEST

/* ---- agreement with scripts/official_eval.py ---- */

static const char *const pads[] = {"", " ", "\n", "\t ", "\xc2\xa0", "  \r\n"};

static char *random_label(pe_rng *rng, const task *t, size_t kmax)
{
    const char *l = t->labels[pe_rng_below(rng, kmax)];
    const char *a = pads[pe_rng_below(rng, 6)], *b = pads[pe_rng_below(rng, 6)];
    return xasprintf("%s%s%s", pe_rng_below(rng, 3) ? "" : a, l, pe_rng_below(rng, 3) ? "" : b);
}

static char *random_class_pred(pe_rng *rng, const task *t, size_t kmax)
{
    static const char *const junk[] = {"", "none", "I think comedy", "[3]", "Sports ", "dark  comedy",
                                       "1", "sci fi", "true story.", "crime!"};
    uint64_t u = pe_rng_below(rng, 10);
    if (u < 6)
        return random_label(rng, t, kmax);
    if (u < 8) { /* a case variant: always wrong */
        char *s = xstrdup(t->labels[pe_rng_below(rng, kmax)]);
        s[0] = (char)(s[0] >= 'a' && s[0] <= 'z' ? s[0] - 32 : s[0]);
        s[strlen(s) - 1] = (char)(s[strlen(s) - 1] >= 'a' && s[strlen(s) - 1] <= 'z'
                                      ? s[strlen(s) - 1] - 32
                                      : s[strlen(s) - 1]);
        return s;
    }
    return xstrdup(junk[pe_rng_below(rng, 10)]);
}

static char *random_rating_pred(pe_rng *rng)
{
    static const char *const v[] = {"1",   "2",    "3",   "4",    "5",  " 4 ", "3.5", "7",
                                     "0",  "-2",   "1e0", "four", "",   "4.",  ".5",  "1_0",
                                     "4/5", "2.25", "+3", "five stars", "3.7", "\t5\n",
                                     "3.3", "4.1", "2.9", "1.7",
                                     /* float() reads these as inf or nan: unparsable */
                                     "inf", "1e400", "nan", "-inf", " Infinity ", "-1e999"};
    return xstrdup(v[pe_rng_below(rng, sizeof v / sizeof *v)]);
}

static void write_official(const char *path, const char *task_official, char **vals, size_t n)
{
    buf b = BUF_INIT;
    buf_adds(&b, "{\"task\": ");
    buf_json_str(&b, task_official);
    buf_adds(&b, ", \"golds\": [");
    for (size_t i = 0; i < n; i++) {
        buf_printf(&b, "%s{\"id\": \"q%zu\", \"output\": ", i ? ", " : "", i);
        buf_json_str(&b, vals[i]);
        buf_adds(&b, "}");
    }
    buf_adds(&b, "]}\n");
    tu_write(path, buf_str(&b));
    buf_free(&b);
}

/* Runs the reference scorer; returns its two metric values. */
static void reference(const char *dir, const task *t, double out[2])
{
    char *res = NULL, *err = NULL, *g = tu_path(dir, "g.json"), *p = tu_path(dir, "p.json");
    const char *names[2];
    cJSON *j;
    int rc = tu_sh(&res, &err, "python3 '%s/scripts/official_eval.py' --golds_json '%s' "
                   "--preds_json '%s' --task_name '%s'", tu_root(), g, p, t->official);
    ck_assert_msg(rc == 0, "official_eval.py failed: %s", err);
    j = cJSON_Parse(res);
    ck_assert_ptr_nonnull(j);
    metrics_names(t, names);
    for (int i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, names[i]);
        ck_assert_msg(cJSON_IsNumber(v), "no %s in %s", names[i], res);
        out[i] = v->valuedouble;
    }
    cJSON_Delete(j);
    free(res);
    free(err);
    free(g);
    free(p);
}

START_TEST(agrees_with_official_reference)
{
    static const char *const tasks[] = {"lamp1", "lamp2m", "lamp2n", "lamp3"};
    static const size_t sizes[] = {1, 7, 40, 300};
    char *dir = tu_tmpdir();
    pe_rng rng;
    size_t runs = 0;
    pe_rng_seed(&rng, 20240611);
    for (size_t ti = 0; ti < 4; ti++) {
        const task *t = task_get(tasks[ti]);
        for (size_t si = 0; si < 4; si++) {
            size_t n = sizes[si];
            /* a few labels only, to leave some absent from golds and predictions; all of
             * them in the largest sample, where the summation order shows in the last bits */
            size_t kmax = t->rating || si == 3 ? t->nlabels
                                               : 1 + (size_t)pe_rng_below(&rng, t->nlabels);
            char **g = xmalloc(n * sizeof *g), **p = xmalloc(n * sizeof *p);
            char *gp = tu_path(dir, "g.json"), *pp = tu_path(dir, "p.json");
            double ref[2];
            metrics_result r;
            for (size_t i = 0; i < n; i++) {
                if (t->rating) {
                    g[i] = xasprintf("%s%d", pe_rng_below(&rng, 4) ? "" : " ",
                                     1 + (int)pe_rng_below(&rng, 5));
                    p[i] = random_rating_pred(&rng);
                } else {
                    g[i] = pe_rng_below(&rng, 40) ? random_label(&rng, t, kmax) : xstrdup("??");
                    p[i] = random_class_pred(&rng, t, kmax);
                }
            }
            write_official(gp, t->official, g, n);
            write_official(pp, t->official, p, n);
            reference(dir, t, ref);
            metrics_compute(t, (const char *const *)g, (const char *const *)p, n, &r);
            for (size_t m = 0; m < 2; m++)
                ck_assert_msg(metrics_value(&r, m) == ref[m], /* bit for bit */
                              "%s n=%zu metric %zu: %.17g vs official %.17g", t->name, n, m,
                              metrics_value(&r, m), ref[m]);
            runs++;
            for (size_t i = 0; i < n; i++) {
                free(g[i]);
                free(p[i]);
            }
            free(g);
            free(p);
            free(gp);
            free(pp);
        }
    }
    ck_assert_uint_eq(runs, 16);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* ---- bootstrap ---- */

static void random_sample(pe_rng *rng, const task *t, size_t n, char **g, char **p)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)pe_rng_below(rng, t->nlabels);
        g[i] = xstrdup(t->labels[k]);
        /* right about 60% of the time */
        p[i] = xstrdup(t->labels[pe_rng_below(rng, 10) < 6 ? k : pe_rng_below(rng, t->nlabels)]);
    }
}

START_TEST(bootstrap_intervals)
{
    const char *tasks[] = {"lamp2m", "lamp3"};
    for (size_t ti = 0; ti < 2; ti++) {
        const task *t = task_get(tasks[ti]);
        enum { N = 200 };
        char *g[N], *p[N];
        const char *const *cg = (const char *const *)g, *const *cp = (const char *const *)p;
        metrics_result r, lo, hi, lo2, hi2, lo3, hi3;
        pe_rng rng;
        pe_rng_seed(&rng, 7 + ti);
        random_sample(&rng, t, N, g, p);
        metrics_compute(t, cg, cp, N, &r);
        metrics_bootstrap(t, cg, cp, N, 500, 1, &lo, &hi);
        metrics_bootstrap(t, cg, cp, N, 500, 1, &lo2, &hi2);
        metrics_bootstrap(t, cg, cp, N, 500, 2, &lo3, &hi3);
        for (size_t m = 0; m < 2; m++) {
            double v = metrics_value(&r, m);
            ck_assert(metrics_value(&lo, m) < v && v < metrics_value(&hi, m));
            /* same seed, same interval, bit for bit */
            ck_assert(metrics_value(&lo, m) == metrics_value(&lo2, m));
            ck_assert(metrics_value(&hi, m) == metrics_value(&hi2, m));
            /* a 95% interval of 200 draws is not tiny and not the whole range */
            ck_assert(metrics_value(&hi, m) - metrics_value(&lo, m) > 0.01);
        }
        ck_assert(metrics_value(&lo, 0) != metrics_value(&lo3, 0) ||
                  metrics_value(&hi, 0) != metrics_value(&hi3, 0) ||
                  metrics_value(&lo, 1) != metrics_value(&lo3, 1));
        ck_assert_uint_eq(lo.n, N);
        metrics_bootstrap(t, cg, cp, N, 0, 1, &lo, &hi);
        ck_assert(isnan(metrics_value(&lo, 0)) && isnan(metrics_value(&hi, 1)));
        for (size_t i = 0; i < N; i++) {
            free(g[i]);
            free(p[i]);
        }
    }
}
END_TEST

START_TEST(bootstrap_degenerate_and_kind)
{
    const char *g[] = {"comedy", "action", "comedy"}, *p[] = {"comedy", "action", "comedy"};
    metrics_result lo, hi;
    metrics_bootstrap(task_get("lamp2m"), g, p, 3, 50, 3, &lo, &hi);
    /* every resample is all right: accuracy 1 */
    ck_assert_double_eq_tol(lo.accuracy, 1.0, EPS);
    ck_assert_double_eq_tol(hi.accuracy, 1.0, EPS);
    ck_assert(isnan(lo.mae) && isnan(hi.rmse));
    metrics_bootstrap(task_get("lamp2m"), g, p, 0, 50, 3, &lo, &hi);
    ck_assert(isnan(lo.accuracy) && isnan(hi.f1));
}
END_TEST

/* ---- the score subcommand, in a child with stdout and stderr captured ---- */

static int run_score(char **out, char **err, const char *dir, int argc, const char **args)
{
    char *o = tu_path(dir, "stdout"), *e = tu_path(dir, "stderr");
    pid_t pid;
    int st;
    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char *argv[16];
        if (!freopen(o, "w", stdout) || !freopen(e, "w", stderr))
            _exit(99);
        argv[0] = (char *)"score";
        for (int i = 0; i < argc; i++)
            argv[i + 1] = (char *)args[i];
        argv[argc + 1] = NULL;
        st = cmd_score(argc + 1, argv);
        fflush(NULL);
        _exit(st);
    }
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    *out = tu_read(o);
    *err = tu_read(e);
    free(o);
    free(e);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

START_TEST(cmd_official_files)
{
    char *dir = tu_tmpdir(), *out, *err;
    char *g = tu_path(dir, "golds.json"), *p = tu_path(dir, "preds.json");
    int rc;
    tu_write(g, "{\"task\": \"LaMP_1\", \"golds\": [{\"id\": \"a\", \"output\": \"[1]\"},"
                " {\"id\": \"b\", \"output\": \"[2]\"}, {\"id\": \"c\", \"output\": \"[1]\"}]}");
    /* duplicate id b: the last one wins; c is invalid */
    tu_write(p, "{\"task\": \"LaMP_1\", \"golds\": [{\"id\": \"b\", \"output\": \"[1]\"},"
                " {\"id\": \"c\", \"output\": \"1\"}, {\"id\": \"a\", \"output\": \" [1]\"},"
                " {\"id\": \"b\", \"output\": \"[2]\"}]}");
    rc = run_score(&out, &err, dir, 6,
                   (const char *[]){"--task", "lamp1", "--golds", g, "--preds", p});
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    /* [1]: TP 1, FN 1 -> 2/3; [2]: TP 1 -> 1; F1 = (2/3 + 1) / 2 in doubles; accuracy 2/3 */
    ck_assert_str_eq(out, "{\"accuracy\": 0.6666666666666666, \"f1\": 0.8333333333333333, "
                          "\"n\": 3, \"invalid\": 1}\n");
    free(out);
    free(err);

    rc = run_score(&out, &err, dir, 6,
                   (const char *[]){"--task", "lamp2m", "--golds", g, "--preds", p});
    ck_assert_int_eq(rc, 65); /* the files say LaMP_1 */
    ck_assert_ptr_nonnull(strstr(err, "LaMP_1"));
    free(out);
    free(err);

    tu_write(p, "{\"task\": \"LaMP_1\", \"golds\": [{\"id\": \"a\", \"output\": \"[1]\"},"
                " {\"id\": \"x\", \"output\": \"[1]\"}]}");
    rc = run_score(&out, &err, dir, 6,
                   (const char *[]){"--task", "lamp1", "--golds", g, "--preds", p});
    ck_assert_int_eq(rc, 65);
    ck_assert_ptr_nonnull(strstr(err, "2 gold id(s) missing"));
    ck_assert_ptr_nonnull(strstr(err, "\"b\", \"c\""));
    ck_assert_ptr_nonnull(strstr(err, "1 extra id(s)"));
    ck_assert_ptr_nonnull(strstr(err, "\"x\""));
    ck_assert_str_eq(out, "");
    free(out);
    free(err);

    tu_write(p, "{\"task\": \"LaMP_1\",\n \"golds\": [{\"id\": \"a\" \"output\": 1}]}");
    rc = run_score(&out, &err, dir, 6,
                   (const char *[]){"--task", "lamp1", "--golds", g, "--preds", p});
    ck_assert_int_eq(rc, 65);
    ck_assert_ptr_nonnull(strstr(err, "preds.json:2:"));
    free(out);
    free(err);

    rc = run_score(&out, &err, dir, 6, (const char *[]){"--task", "lamp1", "--golds", g, "--preds",
                                                       "/nonexistent/p.json"});
    ck_assert_int_eq(rc, 66);
    free(out);
    free(err);
    rc = run_score(&out, &err, dir, 2, (const char *[]){"--bootstrap", "x"});
    ck_assert_int_eq(rc, 2);
    free(out);
    free(err);
    rc = run_score(&out, &err, dir, 1, (const char *[]){"--help"});
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(strstr(out, "--golds"));
    free(out);
    free(err);
    tu_rmrf(dir);
    free(g);
    free(p);
    free(dir);
}
END_TEST

START_TEST(cmd_rating_files_with_ci)
{
    char *dir = tu_tmpdir(), *out, *err;
    char *g = tu_path(dir, "golds.json"), *p = tu_path(dir, "preds.json");
    cJSON *j;
    int rc;
    tu_write(g, "{\"task\": \"LaMP_3\", \"golds\": [{\"id\": \"1\", \"output\": \"3\"},"
                " {\"id\": \"2\", \"output\": \"5\"}, {\"id\": \"3\", \"output\": \"4\"}]}");
    tu_write(p, "{\"golds\": [{\"id\": \"1\", \"output\": \"four\"}, {\"id\": \"2\", \"output\": 4},"
                " {\"id\": \"3\", \"output\": \"4\"}]}");
    rc = run_score(&out, &err, dir, 10,
                   (const char *[]){"--task", "lamp3", "--golds", g, "--preds", p, "--bootstrap",
                                    "100", "--seed", "5"});
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    /* |5 - 3| = 2, |4 - 5| = 1, 0: MAE 1, RMSE sqrt(5/3) */
    j = cJSON_Parse(out);
    ck_assert_ptr_nonnull(j);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(j, "MAE")->valuedouble, 1.0, EPS);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(j, "RMSE")->valuedouble, sqrt(5.0 / 3), EPS);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "invalid")->valueint, 1);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "ci"), "MAE")),
                     2);
    cJSON_Delete(j);
    free(out);
    free(err);
    tu_write(g, "{\"task\": \"LaMP_3\", \"golds\": [{\"id\": \"1\", \"output\": \"three\"}]}");
    tu_write(p, "{\"golds\": [{\"id\": \"1\", \"output\": \"3\"}]}");
    rc = run_score(&out, &err, dir, 6,
                   (const char *[]){"--task", "lamp3", "--golds", g, "--preds", p});
    ck_assert_int_eq(rc, 65);
    ck_assert_ptr_nonnull(strstr(err, "\"three\""));
    free(out);
    free(err);
    tu_rmrf(dir);
    free(g);
    free(p);
    free(dir);
}
END_TEST

static char *pline(const char *method, const char *id, const char *gold, const char *pred,
                   const char *error)
{
    return xasprintf("{\"user\":\"u1\",\"id\":\"%s\",\"method\":\"%s\",\"gold\":\"%s\","
                     "\"raw\":\"%s\",\"pred\":\"%s\",\"valid\":true,\"error\":%s,\"calls\":1,"
                     "\"prompt_tokens\":null,\"completion_tokens\":null,\"latency_s\":0.1}",
                     id, method, gold, pred, pred, error ? error : "null");
}

START_TEST(cmd_run_dir)
{
    char *dir = tu_tmpdir(), *out, *err, *path = tu_path(dir, "predictions.jsonl");
    char *l[7];
    char *text;
    int rc;
    l[0] = pline("persona", "q1", "comedy", "comedy", NULL);
    l[1] = pline("icl", "q1", "comedy", "action", NULL);
    l[2] = pline("persona", "q2", "action", "action", NULL);
    l[3] = pline("persona", "q3", "action", "", "\"timeout\"");
    l[4] = pline("icl", "q2", "action", "action", "\"timeout\"");
    l[5] = pline("icl", "q2", "action", "Action", NULL); /* the retry replaces the error */
    l[6] = xstrdup("{\"user\":\"u1\",\"id\":\"q9\",\"meth");
    text = xasprintf("%s\n%s\n%s\n%s\n%s\n%s\n%s", l[0], l[1], l[2], l[3], l[4], l[5], l[6]);
    tu_write(path, text);
    free(text);
    text = tu_path(dir, "run.json");
    tu_write(text, "{\"task\": \"lamp2m\", \"seed\": 1}");
    free(text);
    rc = run_score(&out, &err, dir, 1, (const char *[]){dir});
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    ck_assert_ptr_nonnull(strstr(err, "torn"));
    /* persona: q1, q2 right (q3 errored): comedy 1, action 1 -> F1 2/15. icl: q1 comedy
     * predicted as action, q2 (the retry) "Action" -> -1: no TP anywhere */
    ck_assert_str_eq(out,
                     "{\"task\": \"lamp2m\", \"methods\": [{\"method\": \"persona\", "
                     "\"n\": 2, \"invalid\": 0, \"errors\": 1, \"accuracy\": 1.0, "
                     "\"f1\": 0.13333333333333333}, {\"method\": \"icl\", \"n\": 2, "
                     "\"invalid\": 1, \"errors\": 0, \"accuracy\": 0.0, \"f1\": 0.0}]}\n");
    free(out);
    free(err);

    /* a malformed line that is not the last one is an error naming the line */
    text = xasprintf("%s\n{oops\n%s\n", l[0], l[2]);
    tu_write(path, text);
    free(text);
    rc = run_score(&out, &err, dir, 3, (const char *[]){"--task", "lamp2m", dir});
    ck_assert_int_eq(rc, 65);
    ck_assert_ptr_nonnull(strstr(err, "predictions.jsonl:2:"));
    free(out);
    free(err);
    for (int i = 0; i < 7; i++)
        free(l[i]);
    tu_rmrf(dir);
    free(path);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, classification_rules);
    tcase_add_test(tc, absent_labels_count_zero);
    tcase_add_test(tc, lamp1_and_invalid_predictions);
    tcase_add_test(tc, gold_outside_label_list);
    tcase_add_test(tc, unicode_whitespace_is_stripped);
    tcase_add_test(tc, rating_rules);
    tcase_add_test(tc, rating_unparsable_goes_to_far_extreme);
    tcase_add_test(tc, empty_and_names);
    tcase_add_test(tc, agrees_with_official_reference);
    tcase_add_test(tc, bootstrap_intervals);
    tcase_add_test(tc, bootstrap_degenerate_and_kind);
    tcase_add_test(tc, cmd_official_files);
    tcase_add_test(tc, cmd_rating_files_with_ci);
    tcase_add_test(tc, cmd_run_dir);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
