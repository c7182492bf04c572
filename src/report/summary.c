/* Summaries: predictions -> users.csv and summary.{json,csv,md}, and back. */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csv.h"
#include "jsonu.h"
#include "metrics.h"

void report_free_summaries(method_summary *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i].method);
    free(s);
}

/* Ranks of names given in an order, looked up in O(log n): sorted by name, the
 * first position of each name kept. */
typedef struct ranked {
    const char *name;
    size_t rank;
} ranked;

static int ranked_cmp(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    int c = strcmp(a->name, b->name);
    return c ? c : (a->rank < b->rank ? -1 : a->rank > b->rank);
}

static ranked *ranks_make(const char *const *order, size_t n, size_t *out_n)
{
    ranked *r = xmalloc((n ? n : 1) * sizeof *r);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        r[i].name = order[i];
        r[i].rank = i;
    }
    qsort(r, n, sizeof *r, ranked_cmp);
    for (size_t i = 0; i < n; i++)
        if (m == 0 || strcmp(r[m - 1].name, r[i].name) != 0)
            r[m++] = r[i];
    *out_n = m;
    return r;
}

/* The rank of s, or n (after every named one) when it is not in the order. */
static size_t rank_of(const char *s, const ranked *r, size_t nr, size_t n)
{
    size_t lo = 0, hi = nr;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(r[mid].name, s) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < nr && strcmp(r[lo].name, s) == 0 ? r[lo].rank : n;
}

typedef struct keyed {
    size_t mrank, urank;
    pred_record *r;
} keyed;

static int keyed_cmp(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    int c;
    if (a->mrank != b->mrank)
        return a->mrank < b->mrank ? -1 : 1;
    if ((c = strcmp(a->r->method, b->r->method)) != 0)
        return c;
    if (a->urank != b->urank)
        return a->urank < b->urank ? -1 : 1;
    if ((c = strcmp(a->r->user, b->r->user)) != 0)
        return c;
    return strcmp(a->r->id, b->r->id);
}

static void score_range(const task *t, keyed *k, size_t from, size_t to, size_t B, uint64_t seed,
                        method_summary *s)
{
    size_t m = 0;
    const char **golds = xmalloc((to - from + 1) * sizeof *golds);
    const char **preds = xmalloc((to - from + 1) * sizeof *preds);
    metrics_result r, lo, hi;

    s->n = s->invalid = s->errors = s->nogold = 0;
    s->calls = s->prompt_tokens = s->completion_tokens = 0;
    s->tokens_unknown = 0;
    s->cost_usd = s->cost_spent_usd = 0;
    s->calls_cached = 0;
    for (size_t i = from; i < to; i++) {
        const pred_record *rec = k[i].r;
        s->calls += rec->calls;
        if (rec->prompt_tokens >= 0 && rec->completion_tokens >= 0) {
            s->prompt_tokens += rec->prompt_tokens;
            s->completion_tokens += rec->completion_tokens;
        } else if (rec->calls > 0) {
            s->tokens_unknown++;
        }
        if (rec->cost_usd > 0)
            s->cost_usd += rec->cost_usd;
        if (rec->cost_spent_usd > 0)
            s->cost_spent_usd += rec->cost_spent_usd;
        s->calls_cached += rec->calls_cached;
        if (rec->error) {
            s->errors++;
            continue;
        }
        if (!rec->gold) { /* answered, but there is nothing to score it against */
            s->nogold++;
            continue;
        }
        golds[m] = rec->gold;
        preds[m] = rec->pred;
        m++;
    }
    metrics_compute(t, golds, preds, m, &r);
    s->n = r.n;
    s->invalid = r.invalid;
    for (size_t i = 0; i < 2; i++) {
        s->value[i] = m ? metrics_value(&r, i) : NAN; /* nothing scored: no number */
        s->lo[i] = s->hi[i] = NAN;
    }
    if (B > 0 && m > 0) {
        metrics_bootstrap(t, golds, preds, m, B, seed, &lo, &hi);
        for (size_t i = 0; i < 2; i++) {
            s->lo[i] = metrics_value(&lo, i);
            s->hi[i] = metrics_value(&hi, i);
        }
    }
    free(golds);
    free(preds);
}

static void json_str_member(buf *b, const char *key, const char *v, int *first)
{
    if (!v)
        return;
    buf_printf(b, "%s\"%s\":", *first ? "" : ",", key);
    buf_json_str(b, v);
    *first = 0;
}

static void summary_json(buf *b, const task *t, const method_summary *s, size_t n,
                         size_t nusers, const summary_opts *o)
{
    const char *names[2];
    char v[64];
    int first = 1;
    metrics_names(t, names);
    buf_adds(b, "{\"task\":");
    buf_json_str(b, t->name);
    buf_printf(b, ",\"incomplete\":%s,\"n_users\":%zu,\"bootstrap\":{\"B\":%zu,\"seed\":%llu},",
               o->incomplete ? "true" : "false", nusers, o->bootstrap,
               (unsigned long long)o->seed);
    if (o->model || o->endpoint_host || o->backend || o->data_sha256 || o->config_hash) {
        buf_adds(b, "\"provenance\":{");
        json_str_member(b, "model", o->model, &first);
        json_str_member(b, "endpoint_host", o->endpoint_host, &first);
        json_str_member(b, "backend", o->backend, &first);
        json_str_member(b, "data_sha256", o->data_sha256, &first);
        json_str_member(b, "config_hash", o->config_hash, &first);
        buf_adds(b, "},");
    }
    buf_adds(b, "\"methods\":[");
    for (size_t i = 0; i < n; i++) {
        buf_adds(b, i ? ",{\"method\":" : "{\"method\":");
        buf_json_str(b, s[i].method);
        buf_printf(b, ",\"n\":%zu,\"users\":%zu,\"invalid\":%zu,\"errors\":%zu", s[i].n,
                   s[i].users, s[i].invalid, s[i].errors);
        if (o->prep_errors)
            buf_printf(b, ",\"prep_errors\":%zu", s[i].prep_errors);
        if (s[i].nogold)
            buf_printf(b, ",\"no_gold\":%zu", s[i].nogold);
        if (o->n_expected)
            buf_printf(b, ",\"n_expected\":%zu,\"complete\":%s", s[i].n_expected,
                       s[i].n + s[i].errors + s[i].nogold >= s[i].n_expected ? "true" : "false");
        for (size_t k = 0; k < 2; k++) {
            report_fmt_metric(v, sizeof v, s[i].value[k]);
            buf_printf(b, ",\"%s\":%s", names[k], v);
        }
        buf_adds(b, ",\"ci\":{");
        for (size_t k = 0; k < 2; k++) {
            char lo[64], hi[64];
            report_fmt_metric(lo, sizeof lo, s[i].lo[k]);
            report_fmt_metric(hi, sizeof hi, s[i].hi[k]);
            buf_printf(b, "%s\"%s\":[%s,%s]", k ? "," : "", names[k], lo, hi);
        }
        buf_adds(b, "}");
        report_cost_json(b, &s[i]);
        buf_addc(b, '}');
    }
    buf_adds(b, "]}\n");
}

static void users_header(csv_writer *w, const char *const names[2])
{
    static const char *const head[] = {"method", "user", "n", "invalid", "errors"};
    static const char *const tail[] = {"calls",    "prompt_tokens", "completion_tokens",
                                       "tokens_unknown", "cost_usd", "prep_calls",
                                       "shared_calls"};
    csv_strs(w, head, 5);
    csv_strs(w, names, 2);
    csv_strs(w, tail, 7);
    csv_end_row(w);
}

static void users_row(csv_writer *w, const char *method, const char *user,
                      const method_summary *us)
{
    csv_str(w, method);
    csv_str(w, user);
    csv_size(w, us->n);
    csv_size(w, us->invalid);
    csv_size(w, us->errors);
    csv_num(w, us->value[0]);
    csv_num(w, us->value[1]);
    csv_long(w, us->calls);
    csv_long(w, us->prompt_tokens);
    csv_long(w, us->completion_tokens);
    csv_size(w, us->tokens_unknown);
    csv_num(w, us->cost_usd);
    csv_long(w, us->prep_calls);
    csv_long(w, us->shared_calls);
    csv_end_row(w);
}

static int str_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t distinct_users(const pred_record *recs, size_t n)
{
    const char **ids = xmalloc((n ? n : 1) * sizeof *ids);
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        ids[i] = recs[i].user;
    qsort(ids, n, sizeof *ids, str_ptr_cmp);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(ids[i - 1], ids[i]) != 0)
            count++;
    free(ids);
    return count;
}

/* The optional per-method figures the run passed, by the method's place in
 * method_order. */
static void run_figures(method_summary *s, const summary_opts *o, const ranked *mr, size_t nmr)
{
    size_t i = rank_of(s->method, mr, nmr, o->nmethod_order);
    if (i >= o->nmethod_order)
        return;
    if (o->n_expected)
        s->n_expected = o->n_expected[i];
    if (o->prep_errors)
        s->prep_errors = o->prep_errors[i];
}

/* The methods of method_order in that order, a method the run was to answer
 * but that has no prediction (every query left unanswered, say after its
 * preparation failed) given an empty row, so that it is not lost from the
 * summary; then any other method, as found. */
static method_summary *expected_methods(const task *t, method_summary *ms, size_t *nms,
                                        const summary_opts *o, const ranked *mr, size_t nmr,
                                        const prep_index *prep)
{
    size_t n = *nms, k = 0, total = n;
    method_summary *out;
    for (size_t i = 0; i < o->nmethod_order; i++) {
        size_t j = 0;
        while (j < n && strcmp(ms[j].method, o->method_order[i]) != 0)
            j++;
        total += j == n;
    }
    if (total == n)
        return ms;
    out = xcalloc(total, sizeof *out);
    for (size_t i = 0; i < o->nmethod_order; i++) {
        size_t j = 0;
        while (j < n && strcmp(ms[j].method, o->method_order[i]) != 0)
            j++;
        if (j < n) {
            out[k++] = ms[j];
            ms[j].method = NULL; /* moved */
            continue;
        }
        out[k].method = xstrdup(o->method_order[i]);
        score_range(t, NULL, 0, 0, 0, 0, &out[k]);
        run_figures(&out[k], o, mr, nmr);
        prep_index_add(prep, out[k].method, NULL, &out[k]);
        k++;
    }
    for (size_t j = 0; j < n; j++)
        if (ms[j].method)
            out[k++] = ms[j];
    free(ms);
    *nms = k;
    return out;
}

static void incomplete_banner(buf *b, const summary_opts *o)
{
    if (o->incomplete)
        buf_adds(b, "**INCOMPLETE run**: interrupted before every query was answered; the "
                    "numbers cover the answered queries only.\n\n");
}

static void provenance_md(buf *b, const summary_opts *o)
{
    if (!o->model && !o->backend && !o->data_sha256)
        return;
    buf_printf(b, "Answered by %s%s%s%s%s. Data SHA-256 %s; config %s.\n\n",
               o->backend ? o->backend : "?", o->model ? " model " : "",
               o->model ? o->model : "", o->endpoint_host ? " at " : "",
               o->endpoint_host ? o->endpoint_host : "",
               o->data_sha256 ? o->data_sha256 : "unknown",
               o->config_hash ? o->config_hash : "unknown");
}

int report_summarize(const char *dir, const task *t, pred_record *recs, size_t n,
                     const summary_opts *o, method_summary **out, size_t *nout, pe_err *e)
{
    keyed *k = xmalloc((n ? n : 1) * sizeof *k);
    method_summary *ms = NULL;
    size_t nms = 0, cap = 0, nmr, nur;
    buf users = BUF_INIT, b = BUF_INIT;
    csv_writer uw;
    const char *names[2];
    ranked *mr = ranks_make(o->method_order, o->nmethod_order, &nmr);
    ranked *ur = ranks_make(o->user_order, o->nuser_order, &nur);
    prep_index *prep = NULL;
    int rc = prep_index_read(dir, &prep, e);

    *out = NULL;
    *nout = 0;
    metrics_names(t, names);
    for (size_t i = 0; i < n; i++) {
        k[i].r = &recs[i];
        k[i].mrank = rank_of(recs[i].method, mr, nmr, o->nmethod_order);
        k[i].urank = rank_of(recs[i].user, ur, nur, o->nuser_order);
    }
    qsort(k, n, sizeof *k, keyed_cmp);

    csv_begin(&uw, &users);
    users_header(&uw, names);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        method_summary *s;
        while (j < n && strcmp(k[j].r->method, k[i].r->method) == 0)
            j++;
        ms = xgrow(ms, &cap, nms + 1, sizeof *ms);
        s = &ms[nms++];
        memset(s, 0, sizeof *s);
        s->method = xstrdup(k[i].r->method);
        score_range(t, k, i, j, o->bootstrap, o->seed, s);
        run_figures(s, o, mr, nmr);
        prep_index_add(prep, s->method, NULL, s);
        for (size_t u = i; u < j && !rc;) {
            size_t v = u;
            method_summary us;
            if ((rc = pe_interrupted(e, "writing the summaries")))
                break;
            while (v < j && strcmp(k[v].r->user, k[u].r->user) == 0)
                v++;
            memset(&us, 0, sizeof us);
            score_range(t, k, u, v, 0, 0, &us);
            prep_index_add(prep, s->method, k[u].r->user, &us);
            s->users++;
            users_row(&uw, s->method, k[u].r->user, &us);
            u = v;
        }
        i = j;
        if (!rc)
            rc = pe_interrupted(e, "writing the summaries");
        if (rc)
            break;
    }
    if (!rc)
        ms = expected_methods(t, ms, &nms, o, mr, nmr, prep);
    prep_index_free(prep);
    if (rc) {
        buf_free(&users);
        free(k);
        free(mr);
        free(ur);
        report_free_summaries(ms, nms);
        return rc;
    }
    summary_json(&b, t, ms, nms, distinct_users(recs, n), o);
    rc = pe_write_atomic_in(dir, "summary.json", buf_str(&b), b.len, e);
    if (!rc)
        rc = pe_write_atomic_in(dir, "users.csv", buf_str(&users), users.len, e);
    if (!rc) {
        buf_reset(&b);
        report_table(&b, "csv", t, ms, nms, NULL);
        rc = pe_write_atomic_in(dir, "summary.csv", buf_str(&b), b.len, e);
    }
    if (!rc) {
        buf_reset(&b);
        incomplete_banner(&b, o);
        provenance_md(&b, o);
        report_table(&b, "md", t, ms, nms, NULL);
        rc = pe_write_atomic_in(dir, "summary.md", buf_str(&b), b.len, e);
    }
    if (!rc)
        rc = report_write_official(dir, t, recs, n, e);
    buf_free(&b);
    buf_free(&users);
    free(k);
    free(mr);
    free(ur);
    if (rc) {
        report_free_summaries(ms, nms);
        return rc;
    }
    *out = ms;
    *nout = nms;
    return 0;
}

int report_read_json(const char *dir, const char *name, size_t max, cJSON **out, pe_err *e)
{
    char *path = xasprintf("%s/%s", dir, name), *data;
    size_t len, off;
    int rc = pe_read_file(path, max, &data, &len, e);
    *out = NULL;
    if (!rc) {
        *out = jsonu_parse(data, len, &off);
        if (!cJSON_IsObject(*out)) {
            size_t line, col;
            jsonu_line_col(data, off, &line, &col);
            rc = pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: not a JSON object", path, line, col);
            cJSON_Delete(*out);
            *out = NULL;
        }
        free(data);
    }
    free(path);
    return rc;
}

static double num_or_nan(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static double item_or_nan(const cJSON *a, int i)
{
    const cJSON *v = cJSON_GetArrayItem(a, i);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static size_t count_or_zero(const cJSON *o, const char *k)
{
    double v = num_or_nan(o, k);
    return isnan(v) || v < 0 ? 0 : (size_t)v;
}

static void read_method(const cJSON *m, const char *const names[2], method_summary *x)
{
    const cJSON *ci = cJSON_GetObjectItemCaseSensitive(m, "ci");
    double v;
    memset(x, 0, sizeof *x);
    x->method = xstrdup(jsonu_str(m, "method"));
    x->n = count_or_zero(m, "n");
    x->users = count_or_zero(m, "users");
    x->invalid = count_or_zero(m, "invalid");
    x->errors = count_or_zero(m, "errors");
    x->prep_errors = count_or_zero(m, "prep_errors");
    x->n_expected = count_or_zero(m, "n_expected");
    x->nogold = count_or_zero(m, "no_gold");
    x->calls = (long)count_or_zero(m, "calls");
    x->prompt_tokens = (long)count_or_zero(m, "prompt_tokens");
    x->completion_tokens = (long)count_or_zero(m, "completion_tokens");
    x->tokens_unknown = count_or_zero(m, "tokens_unknown");
    v = num_or_nan(m, "cost_usd");
    x->cost_usd = isnan(v) ? 0 : v;
    x->prep_calls = (long)count_or_zero(m, "prep_calls");
    x->shared_calls = (long)count_or_zero(m, "shared_calls");
    x->calls_cached = (long)count_or_zero(m, "calls_cached");
    v = num_or_nan(m, "cost_spent_usd");
    x->cost_spent_usd = isnan(v) ? x->cost_usd : v;
    v = num_or_nan(m, "shared_cost_usd");
    x->shared_cost_usd = isnan(v) ? 0 : v;
    for (size_t k = 0; k < 2; k++) {
        const cJSON *iv = cJSON_GetObjectItemCaseSensitive(ci, names[k]);
        x->value[k] = num_or_nan(m, names[k]);
        x->lo[k] = item_or_nan(iv, 0);
        x->hi[k] = item_or_nan(iv, 1);
    }
}

int report_read_summary(const char *dir, const task **t, method_summary **out, size_t *nout,
                        pe_err *e)
{
    char *path = xasprintf("%s/summary.json", dir), *data;
    size_t len, off, cap = 0, n = 0;
    cJSON *j, *methods, *m;
    method_summary *s = NULL;
    const char *names[2];
    int rc;

    *out = NULL;
    *nout = 0;
    rc = pe_read_file(path, 0, &data, &len, e);
    if (rc) {
        free(path);
        return rc;
    }
    j = jsonu_parse(data, len, &off);
    if (!j || !(*t = task_get(jsonu_str(j, "task"))) ||
        !cJSON_IsArray(methods = cJSON_GetObjectItemCaseSensitive(j, "methods"))) {
        rc = pe_errf(e, PE_EXIT_DATA, "%s: not a persona-eval summary (need \"task\" and "
                                      "\"methods\")", path);
        cJSON_Delete(j);
        free(data);
        free(path);
        return rc;
    }
    metrics_names(*t, names);
    cJSON_ArrayForEach(m, methods)
    {
        if (!jsonu_str(m, "method"))
            continue;
        s = xgrow(s, &cap, n + 1, sizeof *s);
        read_method(m, names, &s[n++]);
    }
    cJSON_Delete(j);
    free(data);
    free(path);
    *out = s;
    *nout = n;
    return 0;
}
