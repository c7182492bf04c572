/* Comparison tables of method summaries as Markdown, CSV or JSON. */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csv.h"
#include "metrics.h"

void report_fmt_metric(char *b, size_t n, double v)
{
    if (!isfinite(v))
        snprintf(b, n, "null");
    else
        pe_fmt_double(b, n, v);
}

static void md_cell(buf *b, double v, double lo, double hi)
{
    if (!isfinite(v)) {
        buf_adds(b, "n/a");
        return;
    }
    buf_printf(b, "%.3f", v);
    if (isfinite(lo) && isfinite(hi))
        buf_printf(b, " [%.3f, %.3f]", lo, hi);
}

/* One Markdown table of rows that share a task. */
static void md_table(buf *out, const task *t, const report_row *rows, size_t n, int with_run)
{
    const char *names[2];
    int llm = 0;
    metrics_names(t, names);
    for (size_t i = 0; i < n; i++)
        llm |= rows[i].s->calls > 0;
    buf_printf(out, "%s| method | n | %s%s | %s%s | invalid | errors |%s\n",
               with_run ? "| run " : "", names[0], metrics_higher_is_better(t, 0) ? " ↑" : " ↓",
               names[1], metrics_higher_is_better(t, 1) ? " ↑" : " ↓",
               llm ? " calls (prep, shared) | cached | tokens in / out | cost (USD) | "
                     "spent now (USD) |"
                   : "");
    buf_printf(out, "%s|---|---:|---|---|---:|---:|%s\n", with_run ? "|---" : "",
               llm ? "---:|---:|---:|---:|---:|" : "");
    for (size_t i = 0; i < n; i++) {
        const method_summary *s = rows[i].s;
        if (with_run)
            buf_printf(out, "| %s ", rows[i].run);
        buf_printf(out, "| %s | %zu | ", s->method, s->n);
        md_cell(out, s->value[0], s->lo[0], s->hi[0]);
        buf_adds(out, " | ");
        md_cell(out, s->value[1], s->lo[1], s->hi[1]);
        buf_printf(out, " | %zu | %zu |", s->invalid, s->errors);
        if (llm) {
            buf_printf(out, " %ld (%ld, %ld) | %ld | %ld / %ld", s->calls, s->prep_calls,
                       s->shared_calls, s->calls_cached, s->prompt_tokens, s->completion_tokens);
            if (s->tokens_unknown)
                buf_printf(out, " (%zu without reported usage)", s->tokens_unknown);
            buf_printf(out, " | %.4f | %.4f |", s->cost_usd, s->cost_spent_usd);
        }
        buf_addc(out, '\n');
    }
    buf_printf(out, "\nTask %s; %s with 95%% bootstrap intervals in brackets.\n", t->name,
               t->rating ? "MAE and RMSE (lower is better)"
                         : "accuracy and macro-F1 (higher is better)");
}

/* The metric columns of every task among the rows, in first-seen order. */
static size_t metric_union(const task *t0, const report_row *rows, size_t n, const char *out[4])
{
    size_t m = 0;
    for (size_t i = 0; i <= n; i++) {
        const char *names[2];
        if (i == n && m)
            break;
        metrics_names(i < n ? rows[i].t : t0, names);
        for (size_t k = 0; k < 2; k++) {
            size_t j = 0;
            while (j < m && strcmp(out[j], names[k]) != 0)
                j++;
            if (j == m && m < 4)
                out[m++] = names[k];
        }
    }
    return m;
}

/* t0: the task of an empty table. */
static void csv_table(buf *out, const task *t0, const report_row *rows, size_t n, int with_run)
{
    static const char *const head[] = {"task", "method", "n", "invalid", "errors"};
    static const char *const tail[] = {"calls",          "prompt_tokens", "completion_tokens",
                                       "tokens_unknown", "cost_usd",      "prep_calls",
                                       "shared_calls",   "calls_cached",  "cost_spent_usd",
                                       "shared_cost_usd"};
    static const char *const expect_cols[] = {"complete", "n_expected"};
    const char *cols[4];
    size_t nc = metric_union(t0, rows, n, cols);
    int expected = 0;
    csv_writer w;
    for (size_t i = 0; i < n; i++)
        expected |= rows[i].s->n_expected > 0;
    csv_begin(&w, out);
    if (with_run)
        csv_str(&w, "run");
    csv_strs(&w, head, 5);
    for (size_t c = 0; c < nc; c++) {
        buf_printf(out, "%s%s,%s_lo,%s_hi", w.col ? "," : "", cols[c], cols[c], cols[c]);
        w.col += 3;
    }
    csv_strs(&w, tail, sizeof tail / sizeof tail[0]);
    if (expected)
        csv_strs(&w, expect_cols, 2);
    csv_end_row(&w);
    for (size_t i = 0; i < n; i++) {
        const method_summary *s = rows[i].s;
        const char *names[2];
        metrics_names(rows[i].t, names);
        if (with_run)
            csv_str(&w, rows[i].run);
        csv_str(&w, rows[i].t->name);
        csv_str(&w, s->method);
        csv_size(&w, s->n);
        csv_size(&w, s->invalid);
        csv_size(&w, s->errors);
        for (size_t c = 0; c < nc; c++) {
            size_t k = strcmp(cols[c], names[0]) == 0 ? 0 : strcmp(cols[c], names[1]) == 0 ? 1 : 2;
            if (k == 2) { /* this task has no such metric */
                csv_empty(&w, 3);
                continue;
            }
            csv_num(&w, s->value[k]);
            csv_num(&w, s->lo[k]);
            csv_num(&w, s->hi[k]);
        }
        csv_long(&w, s->calls);
        csv_long(&w, s->prompt_tokens);
        csv_long(&w, s->completion_tokens);
        csv_size(&w, s->tokens_unknown);
        csv_num(&w, s->cost_usd);
        csv_long(&w, s->prep_calls);
        csv_long(&w, s->shared_calls);
        csv_long(&w, s->calls_cached);
        csv_num(&w, s->cost_spent_usd);
        csv_num(&w, s->shared_cost_usd);
        if (expected) {
            csv_str(&w, s->n + s->errors + s->nogold >= s->n_expected ? "true" : "false");
            csv_size(&w, s->n_expected);
        }
        csv_end_row(&w);
    }
}

void report_cost_json(buf *out, const method_summary *s)
{
    char cost[64], spent[64], shared[64];
    report_fmt_metric(cost, sizeof cost, s->cost_usd);
    report_fmt_metric(spent, sizeof spent, s->cost_spent_usd);
    report_fmt_metric(shared, sizeof shared, s->shared_cost_usd);
    buf_printf(out, ",\"calls\":%ld,\"prompt_tokens\":%ld,\"completion_tokens\":%ld,"
                    "\"tokens_unknown\":%zu,\"cost_usd\":%s,\"prep_calls\":%ld,"
                    "\"shared_calls\":%ld,\"calls_cached\":%ld,\"cost_spent_usd\":%s,"
                    "\"shared_cost_usd\":%s",
               s->calls, s->prompt_tokens, s->completion_tokens, s->tokens_unknown, cost,
               s->prep_calls, s->shared_calls, s->calls_cached, spent, shared);
}

static void json_table(buf *out, const report_row *rows, size_t n, int with_run)
{
    buf_adds(out, "[");
    for (size_t i = 0; i < n; i++) {
        const method_summary *s = rows[i].s;
        const char *names[2];
        char v[64], lo[64], hi[64];
        metrics_names(rows[i].t, names);
        buf_adds(out, i ? ",{" : "{");
        if (with_run) {
            buf_adds(out, "\"run\":");
            buf_json_str(out, rows[i].run);
            buf_addc(out, ',');
        }
        buf_printf(out, "\"task\":\"%s\",\"method\":", rows[i].t->name);
        buf_json_str(out, s->method);
        buf_printf(out, ",\"n\":%zu,\"invalid\":%zu,\"errors\":%zu", s->n, s->invalid,
                   s->errors);
        for (size_t k = 0; k < 2; k++) {
            report_fmt_metric(v, sizeof v, s->value[k]);
            report_fmt_metric(lo, sizeof lo, s->lo[k]);
            report_fmt_metric(hi, sizeof hi, s->hi[k]);
            buf_printf(out, ",\"%s\":%s,\"%s_ci\":[%s,%s]", names[k], v, names[k], lo, hi);
        }
        report_cost_json(out, s);
        buf_addc(out, '}');
    }
    buf_adds(out, "]\n");
}

int report_rows_table(buf *out, const char *fmt, const report_row *rows, size_t n, int with_run)
{
    if (strcmp(fmt, "md") == 0) {
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && rows[j].t == rows[i].t)
                j++;
            if (i)
                buf_addc(out, '\n');
            md_table(out, rows[i].t, rows + i, j - i, with_run);
            i = j;
        }
    } else if (strcmp(fmt, "csv") == 0) {
        csv_table(out, n ? rows[0].t : NULL, rows, n, with_run);
    } else if (strcmp(fmt, "json") == 0) {
        json_table(out, rows, n, with_run);
    } else {
        return -1;
    }
    return 0;
}

int report_table(buf *out, const char *fmt, const task *t, const method_summary *s, size_t n,
                 const char *const *labels)
{
    report_row *rows = xcalloc(n ? n : 1, sizeof *rows);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        rows[i].run = labels ? labels[i] : NULL;
        rows[i].t = t;
        rows[i].s = &s[i];
    }
    if (n == 0 && strcmp(fmt, "md") == 0)
        md_table(out, t, rows, 0, labels != NULL);
    else if (n == 0 && strcmp(fmt, "csv") == 0)
        csv_table(out, t, rows, 0, labels != NULL);
    else
        rc = report_rows_table(out, fmt, rows, n, labels != NULL);
    free(rows);
    return rc;
}
