/* The baseline gate: same queries, same data and settings, no errors, then a
 * paired comparison of each metric (see gate.h). */
#include "gate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonu.h"
#include "metrics.h"
#include "report.h"

typedef struct gate_run {
    const char *dir, *role; /* role: "BASE" or "NEW" */
    cJSON *run, *sum;       /* run.json may be NULL */
    const task *t;
    method_summary *s;
    size_t ns;
    pred_record *r, **sorted; /* sorted: by (method, user, id) */
    size_t n;
} gate_run;

void gate_opts_default(gate_opts *o)
{
    memset(o, 0, sizeof *o);
    o->level = 0.95;
    o->bootstrap = 1000;
    o->seed = PE_SEED_DEFAULT;
}

static int ptr_key_cmp(const void *a, const void *b)
{
    return report_key_cmp(*(const pred_record *const *)a, *(const pred_record *const *)b);
}

static int load(const char *dir, const char *role, gate_run *g, pe_err *e)
{
    pe_err ignored = {0};
    int rc;
    memset(g, 0, sizeof *g);
    g->dir = dir;
    g->role = role;
    if ((rc = report_read_summary(dir, &g->t, &g->s, &g->ns, e)) ||
        (rc = report_read_json(dir, "summary.json", 0, &g->sum, e)) ||
        (rc = report_load_predictions(dir, &g->r, &g->n, NULL, e)))
        return rc;
    report_read_json(dir, "run.json", 0, &g->run, &ignored);
    g->sorted = xmalloc((g->n ? g->n : 1) * sizeof *g->sorted);
    for (size_t i = 0; i < g->n; i++)
        g->sorted[i] = &g->r[i];
    qsort(g->sorted, g->n, sizeof *g->sorted, ptr_key_cmp);
    return 0;
}

static void unload(gate_run *g)
{
    cJSON_Delete(g->run);
    cJSON_Delete(g->sum);
    report_free_summaries(g->s, g->ns);
    report_free_predictions(g->r, g->n);
    free(g->sorted);
}

/* Record a reason; the verdict is the first failing one in gate.h's order. */
typedef struct verdict {
    buf *why;
    int code, rank;
} verdict;

static int rank_of(int code)
{
    switch (code) {
    case PE_EXIT_INCOMPLETE: return 1;
    case PE_EXIT_ERRORED: return 2;
    case PE_EXIT_INCOMPARABLE: return 3;
    default: return 4;
    }
}

static void reason(verdict *v, int code, int waived, const char *flag, const char *text)
{
    buf_printf(v->why, "%s%s%s%s\n", text, waived ? " (allowed by " : "", waived ? flag : "",
               waived ? ")" : "");
    if (!waived && (!v->code || rank_of(code) < v->rank)) {
        v->code = code;
        v->rank = rank_of(code);
    }
}

static int incomplete(const gate_run *g)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g->sum, "incomplete")) ||
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g->run, "incomplete"));
}

static void check_complete(const gate_run *g, const gate_opts *o, verdict *v)
{
    char *t;
    if (!incomplete(g))
        return;
    t = xasprintf("%s (%s) is incomplete: interrupted before every query was answered",
                  g->role, g->dir);
    reason(v, PE_EXIT_INCOMPLETE, o->allow_incomplete, "--allow-incomplete", t);
    free(t);
}

static void check_errors(const gate_run *g, const gate_opts *o, verdict *v)
{
    size_t errs = 0, prep = 0;
    char *t;
    for (size_t i = 0; i < g->n; i++)
        errs += g->r[i].error != NULL;
    for (size_t i = 0; i < g->ns; i++)
        prep += g->s[i].prep_errors;
    if (!errs && !prep)
        return;
    t = xasprintf("%s (%s) has %zu errored quer%s and %zu preparation error%s", g->role, g->dir,
                  errs, errs == 1 ? "y" : "ies", prep, prep == 1 ? "" : "s");
    reason(v, PE_EXIT_ERRORED, o->allow_errors, "--allow-errors", t);
    free(t);
}

static const cJSON *config(const gate_run *g)
{
    return cJSON_GetObjectItemCaseSensitive(g->run, "config");
}

/* Keys of run.json "config" that the comparison of settings skips: the model
 * being compared, and the query selection, which the query comparison sees. */
static int skipped(const char *key)
{
    static const char *const skip[] = {"model", "endpoint", "methods", "users", "user_ids",
                                       "max_queries", "data_sha256"};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strcmp(skip[i], key) == 0)
            return 1;
    return 0;
}

static void diff_key(buf *d, const char *key, const cJSON *a, const cJSON *b)
{
    char *ta = a ? jsonu_print(a) : xstrdup("(absent)"), *tb = b ? jsonu_print(b) : xstrdup(
                                                                         "(absent)");
    buf_printf(d, "%s%s: %s -> %s", d->len ? "; " : "", key, ta, tb);
    free(ta);
    free(tb);
}

static void check_settings(const gate_run *b, const gate_run *c, const gate_opts *o, verdict *v)
{
    const cJSON *cb = config(b), *cc = config(c), *x;
    buf d = BUF_INIT;
    char *t;
    if (!cJSON_IsObject(cb) || !cJSON_IsObject(cc)) {
        t = xasprintf("cannot compare data and settings: %s has no run.json \"config\"",
                      !cJSON_IsObject(cb) ? b->role : c->role);
        reason(v, PE_EXIT_INCOMPARABLE, o->allow_settings && o->allow_data,
               "--allow-settings --allow-data", t);
        free(t);
        return;
    }
    if (!cJSON_Compare(cJSON_GetObjectItemCaseSensitive(cb, "data_sha256"),
                       cJSON_GetObjectItemCaseSensitive(cc, "data_sha256"), 1)) {
        diff_key(&d, "data_sha256", cJSON_GetObjectItemCaseSensitive(cb, "data_sha256"),
                 cJSON_GetObjectItemCaseSensitive(cc, "data_sha256"));
        t = xasprintf("the data differ (SHA-256): %s", buf_str(&d));
        reason(v, PE_EXIT_INCOMPARABLE, o->allow_data, "--allow-data", t);
        free(t);
        buf_reset(&d);
    }
    cJSON_ArrayForEach(x, cb)
    {
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(cc, x->string);
        if (!skipped(x->string) && !cJSON_Compare(x, y, 1))
            diff_key(&d, x->string, x, y);
    }
    cJSON_ArrayForEach(x, cc)
        if (!skipped(x->string) && !cJSON_GetObjectItemCaseSensitive(cb, x->string))
            diff_key(&d, x->string, NULL, x);
    if (d.len) {
        t = xasprintf("result-changing settings differ: %s", buf_str(&d));
        reason(v, PE_EXIT_INCOMPARABLE, o->allow_settings, "--allow-settings", t);
        free(t);
    }
    buf_free(&d);
}

/* Merge-join of the two sorted key lists: counts what only one side has. */
static void check_queries(const gate_run *b, const gate_run *c, const gate_opts *o, verdict *v)
{
    size_t i = 0, j = 0, only_b = 0, only_c = 0;
    char *t;
    while (i < b->n || j < c->n) {
        int k = i == b->n ? 1 : j == c->n ? -1 : report_key_cmp(b->sorted[i], c->sorted[j]);
        only_b += k < 0;
        only_c += k > 0;
        i += k <= 0;
        j += k >= 0;
    }
    if (!only_b && !only_c)
        return;
    t = xasprintf("the runs cover different queries (matched by method, user, id): %zu of "
                  "BASE's %zu are not in NEW, %zu of NEW's %zu are not in BASE; metrics below "
                  "are over the shared queries",
                  only_b, b->n, only_c, c->n);
    reason(v, PE_EXIT_INCOMPARABLE, o->allow_different_queries, "--allow-different-queries", t);
    free(t);
}

static void model_line(buf *out, const gate_run *g)
{
    const cJSON *llm = cJSON_GetObjectItemCaseSensitive(g->run, "llm");
    const char *backend = jsonu_str(llm, "backend"), *model = jsonu_str(llm, "model");
    buf_printf(out, "%s: %s (%s%s%s)\n", g->role, g->dir, backend ? backend : "backend unknown",
               model ? ", model " : "", model ? model : "");
}

static void fmt_num(buf *out, double v)
{
    if (isfinite(v))
        buf_printf(out, "%.4f", v);
    else
        buf_adds(out, "n/a");
}

/* The pairs of one method: queries both runs answered without error. */
static size_t pairs(const gate_run *b, const gate_run *c, const char *method, const char ***g,
                    size_t *nerr)
{
    size_t i = 0, j = 0, m = 0, cap = 0;
    *nerr = 0;
    while (i < b->n && j < c->n) {
        int k = report_key_cmp(b->sorted[i], c->sorted[j]);
        const pred_record *x = b->sorted[i], *y = c->sorted[j];
        if (k < 0) {
            i++;
            continue;
        }
        if (k > 0) {
            j++;
            continue;
        }
        i++, j++;
        if (strcmp(x->method, method) != 0)
            continue;
        if (x->error || y->error) {
            (*nerr)++;
            continue;
        }
        *g = xgrow(*g, &cap, 4 * (m + 1), sizeof **g);
        (*g)[4 * m] = x->gold ? x->gold : "";
        (*g)[4 * m + 1] = x->pred;
        (*g)[4 * m + 2] = y->gold ? y->gold : "";
        (*g)[4 * m + 3] = y->pred;
        m++;
    }
    return m;
}

static void compare_method(buf *out, const gate_run *b, const gate_run *c, const char *method,
                           const gate_opts *o, verdict *v)
{
    const char **quad = NULL, **cols[4];
    const char *names[2];
    size_t nerr, m = pairs(b, c, method, &quad, &nerr);
    double d[2], lo[2], hi[2];
    metrics_names(b->t, names);
    for (size_t k = 0; k < 4; k++) {
        cols[k] = xmalloc((m ? m : 1) * sizeof *cols[k]);
        for (size_t i = 0; i < m; i++)
            cols[k][i] = quad[4 * i + k];
    }
    metrics_paired_bootstrap(b->t, cols[0], cols[1], cols[2], cols[3], m, o->bootstrap, o->seed,
                             o->level, d, lo, hi);
    for (size_t k = 0; k < 2; k++) {
        int hib = metrics_higher_is_better(b->t, k);
        double worse = hib ? -d[k] : d[k]; /* > 0: NEW is worse */
        int sig = hib ? hi[k] < 0 : lo[k] > 0;
        const char *verdict_text = "ok";
        if (m == 0)
            verdict_text = "no shared scored queries";
        else if (sig && worse > o->tolerance)
            verdict_text = "WORSE";
        else if (worse > o->tolerance)
            verdict_text = "lower, not significant";
        else if (sig && worse < 0)
            verdict_text = "better";
        buf_printf(out, "| %s | %s | %zu | ", method, names[k], m);
        {
            metrics_result rb, rc;
            metrics_compute(b->t, cols[0], cols[1], m, &rb);
            metrics_compute(b->t, cols[2], cols[3], m, &rc);
            fmt_num(out, metrics_value(&rb, k));
            buf_adds(out, " | ");
            fmt_num(out, metrics_value(&rc, k));
        }
        buf_adds(out, " | ");
        if (isfinite(d[k]))
            buf_printf(out, "%+.4f", d[k]);
        else
            buf_adds(out, "n/a");
        if (isfinite(lo[k]))
            buf_printf(out, " [%+.4f, %+.4f]", lo[k], hi[k]);
        buf_printf(out, " | %s |\n", verdict_text);
        if (strcmp(verdict_text, "WORSE") == 0) {
            char *t = xasprintf("%s: %s is worse by %.4f (interval excludes 0, tolerance %g)",
                                method, names[k], worse, o->tolerance);
            reason(v, PE_EXIT_REGRESSION, 0, NULL, t);
            free(t);
        }
    }
    if (nerr)
        buf_printf(out, "| %s | | %zu | | | | errored in either run: not compared |\n", method,
                   nerr);
    for (size_t k = 0; k < 4; k++)
        free(cols[k]);
    free(quad);
}

int gate_check(const char *base, const char *cur, const gate_opts *o, buf *out, buf *why,
               int *verdict_code, pe_err *e)
{
    gate_run b, c;
    verdict v = {why, 0, 0};
    int rc = load(base, "BASE", &b, e);
    if (!rc)
        rc = load(cur, "NEW", &c, e);
    else
        memset(&c, 0, sizeof c);
    *verdict_code = 0;
    if (rc)
        goto done;
    model_line(out, &b);
    model_line(out, &c);
    if (b.t != c.t) {
        char *t = xasprintf("the tasks differ: BASE %s, NEW %s", b.t->name, c.t->name);
        reason(&v, PE_EXIT_INCOMPARABLE, 0, NULL, t);
        free(t);
        goto verdict;
    }
    check_complete(&c, o, &v);
    check_complete(&b, o, &v);
    check_errors(&c, o, &v);
    check_settings(&b, &c, o, &v);
    check_queries(&b, &c, o, &v);
    buf_printf(out, "\n| method | metric | shared | baseline | new | difference [%g%% "
                    "interval] | verdict |\n|---|---|---:|---:|---:|---|---|\n",
               o->level * 100);
    for (size_t i = 0; i < b.ns; i++)
        compare_method(out, &b, &c, b.s[i].method, o, &v);
verdict:
    *verdict_code = v.code;
done:
    unload(&b);
    unload(&c);
    return rc;
}
