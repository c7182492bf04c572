/* The per-user part of report.html: a sortable table of every user (up to
 * MAX_ROWS) and, for the first MAX_DETAILS users, a <details> element with
 * their queries (input, gold, each method's answer), their personas' evolution
 * (personas.jsonl) and the agent trace (traces.jsonl, capped per user). */
#include "htmlkit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "dataset.h"
#include "metrics.h"
#include "strmap.h"

#define MAX_CSV_BYTES ((size_t)256 << 20)
#define MAX_ROWS 5000        /* users in the table; beyond, see users.csv */
#define MAX_DETAILS 100      /* users with queries, personas and trace */
#define MAX_TEXT 4000        /* characters of a persona or an input shown */
#define MAX_OBS 300          /* characters of a tool observation or answer */
#define MAX_TRACE ((size_t)24 << 10) /* bytes of trace HTML per user */
#define MAX_PERSONA ((size_t)48 << 10) /* bytes of persona HTML per user */
#define MAX_LINE ((size_t)4 << 20)   /* a longer JSONL line is skipped */

typedef struct ucell {
    double n, metric, errors, calls, cost;
} ucell;

typedef struct uinfo {
    const char *id; /* borrowed from users.csv */
    ucell *m;       /* one per method of the page */
    double n, errors, calls, cost;
    size_t *recs, nrecs, rcap; /* predictions of this user (details only) */
    buf persona, trace;
    size_t trace_cut, persona_cut;
} uinfo;

typedef struct users {
    const task *t;
    const char *const *methods;
    size_t nm;
    uinfo *u;
    size_t n, cap;
    strmap index; /* user id -> position in u */
} users;

static double num_at(const csv_row *row, size_t col)
{
    double v;
    return col < row->n && htmlkit_parse_num(row->f[col], &v) ? v : NAN;
}

static void add_known(double *sum, double v)
{
    if (!isnan(v))
        *sum = isnan(*sum) ? v : *sum + v;
}

static size_t method_index(const users *us, const char *m)
{
    for (size_t i = 0; i < us->nm; i++)
        if (strcmp(us->methods[i], m) == 0)
            return i;
    return us->nm;
}

/* One row per user from users.csv, the cells of the page's methods filled. */
static void collect(users *us, const csv_tab *tab, const char *metric)
{
    size_t cn = csv_column(tab, "n"), cm = csv_column(tab, metric);
    size_t ce = csv_column(tab, "errors"), cc = csv_column(tab, "calls");
    size_t cu = csv_column(tab, "cost_usd");
    for (size_t r = 1; r < tab->n; r++) {
        const csv_row *row = &tab->r[r];
        size_t k, mi;
        uinfo *u;
        if (row->n < 2 || (mi = method_index(us, row->f[0])) == us->nm)
            continue;
        k = strmap_add(&us->index, row->f[1], us->n);
        if (k == us->n) {
            us->u = xgrow(us->u, &us->cap, us->n + 1, sizeof *us->u);
            u = &us->u[us->n++];
            memset(u, 0, sizeof *u);
            u->id = row->f[1];
            u->m = xcalloc(us->nm, sizeof *u->m);
            for (size_t i = 0; i < us->nm; i++)
                u->m[i] = (ucell){NAN, NAN, NAN, NAN, NAN};
            u->n = u->errors = u->calls = u->cost = NAN;
        }
        u = &us->u[k];
        u->m[mi] = (ucell){num_at(row, cn), num_at(row, cm), num_at(row, ce), num_at(row, cc),
                           num_at(row, cu)};
        if (isnan(u->n) || u->m[mi].n > u->n)
            u->n = u->m[mi].n;
        add_known(&u->errors, u->m[mi].errors);
        add_known(&u->calls, u->m[mi].calls);
        add_known(&u->cost, u->m[mi].cost);
    }
}

/* A numeric cell that the table script sorts by data-v. */
static void num_cell(buf *b, double v, int prec)
{
    buf_adds(b, "<td class=\"num\"");
    htmlkit_attr_num(b, "data-v", v);
    buf_addc(b, '>');
    if (prec < 0)
        htmlkit_count(b, v);
    else if (prec == 4)
        htmlkit_cost(b, v);
    else
        htmlkit_fixed(b, v, prec);
    buf_adds(b, "</td>");
}

static void method_th(buf *b, const char *m, const char *metric)
{
    htmlkit_wrap(b, "<th class=\"num m\">", m, "<br><span class=\"s\">");
    svg_escape(b, metric);
    buf_adds(b, "</span></th>");
}

static void user_table(buf *b, const users *us, const char *metric)
{
    size_t rows = us->n < MAX_ROWS ? us->n : MAX_ROWS;
    buf_adds(b, "<div class=\"wide\"><table class=\"sortable\" id=\"user-table\"><thead><tr>"
                "<th>user</th><th class=\"num\">n</th>");
    for (size_t i = 0; i < us->nm; i++)
        method_th(b, us->methods[i], metric);
    buf_adds(b, "<th class=\"num\">errors</th><th class=\"num\">LLM calls</th>"
                "<th class=\"num\">cost (USD)</th></tr></thead><tbody>");
    for (size_t k = 0; k < rows; k++) {
        const uinfo *u = &us->u[k];
        htmlkit_wrap(b, "<tr class=\"user\" data-user=\"", u->id, "\"><td data-v=\"");
        svg_escape(b, u->id);
        buf_adds(b, "\">");
        if (k < MAX_DETAILS)
            buf_printf(b, "<a href=\"#user-%zu\">", k);
        svg_escape(b, u->id);
        buf_adds(b, k < MAX_DETAILS ? "</a></td>" : "</td>");
        num_cell(b, u->n, -1);
        for (size_t i = 0; i < us->nm; i++)
            num_cell(b, u->m[i].metric, 3);
        num_cell(b, u->errors, -1);
        num_cell(b, u->calls, -1);
        num_cell(b, u->cost, 4);
        buf_adds(b, "</tr>");
    }
    buf_adds(b, "</tbody></table></div>");
    buf_printf(b, "<p class=\"note\">%zu users; click a column heading to sort. n: the user's "
                  "queries; errors, calls and cost summed over the methods.",
               us->n);
    if (us->n > rows)
        buf_printf(b, " The table shows the first %zu users; all are in "
                      "<a href=\"users.csv\">users.csv</a>.",
                   rows);
    if (us->n > MAX_DETAILS)
        buf_printf(b, " Queries, personas and traces are shown for the first %d users only "
                      "(the page stays small); the rest are in the raw files.",
                   MAX_DETAILS);
    buf_adds(b, "</p>");
}

/* Calls fn on each complete line of dir/name that parses as a JSON object of
 * a user with details; lines longer than MAX_LINE are skipped. */
static void each_line(const char *dir, const char *name, users *us,
                      void (*fn)(users *, uinfo *, const cJSON *))
{
    char *path = xasprintf("%s/%s", dir, name), *line = NULL;
    size_t cap = 0;
    ssize_t len;
    FILE *f = fopen(path, "r");
    free(path);
    if (!f)
        return;
    while ((len = getline(&line, &cap, f)) > 0) {
        cJSON *j;
        size_t k;
        if ((size_t)len > MAX_LINE || line[len - 1] != '\n')
            continue;
        j = jsonu_parse(line, (size_t)len, NULL);
        k = jsonu_str(j, "user") ? strmap_get(&us->index, jsonu_str(j, "user")) : STRMAP_NONE;
        if (k != STRMAP_NONE && k < MAX_DETAILS)
            fn(us, &us->u[k], j);
        cJSON_Delete(j);
    }
    free(line);
    fclose(f);
}

static void pre_text(buf *b, const char *s)
{
    buf_adds(b, "<pre class=\"text\">");
    svg_escape_trunc(b, s ? s : "", MAX_TEXT);
    buf_adds(b, "</pre>");
}

static void persona_line(users *us, uinfo *u, const cJSON *j)
{
    const cJSON *al = cJSON_GetObjectItemCaseSensitive(j, "alignment"), *it;
    const char *ini = jsonu_str(j, "initial"), *fin = jsonu_str(j, "final");
    buf *b = &u->persona;
    (void)us;
    if (!ini && !fin && !jsonu_str(j, "summary"))
        return;
    if (b->len >= MAX_PERSONA) {
        u->persona_cut++;
        return;
    }
    htmlkit_wrap(b, "<div class=\"persona\"><h5>", jsonu_str(j, "method"), "");
    buf_printf(b, " <span class=\"s\">turn %.0f</span></h5>",
               htmlkit_json_num(j, "turn") >= 0 ? htmlkit_json_num(j, "turn") : 0);
    if (jsonu_str(j, "error"))
        htmlkit_wrap(b, "<p class=\"warn\">", jsonu_str(j, "error"), "</p>");
    if (!ini && !fin) {
        buf_adds(b, "<p class=\"s\">User summary</p>");
        pre_text(b, jsonu_str(j, "summary"));
        buf_adds(b, "</div>");
        return;
    }
    buf_adds(b, "<p class=\"s\">Initial persona</p>");
    pre_text(b, ini);
    cJSON_ArrayForEach(it, (cJSON_IsArray(al) ? al : NULL))
    {
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(it, "items"), *x;
        buf_printf(b, "<p class=\"s\">Alignment iteration %.0f</p><ul class=\"fb\">",
                   htmlkit_json_num(it, "iteration"));
        cJSON_ArrayForEach(x, (cJSON_IsArray(items) ? items : NULL))
        {
            htmlkit_wrap(b, "<li><span class=\"mono\">", jsonu_str(x, "id"), "</span>: ");
            svg_escape_trunc(b, jsonu_str(x, "error") ? jsonu_str(x, "error")
                              : jsonu_str(x, "feedback") ? jsonu_str(x, "feedback") : "",
                             MAX_TEXT);
            buf_adds(b, "</li>");
        }
        buf_adds(b, "</ul>");
        if (jsonu_str(it, "persona")) {
            buf_adds(b, "<p class=\"s\">Persona after the iteration</p>");
            pre_text(b, jsonu_str(it, "persona"));
        }
    }
    buf_adds(b, "<p class=\"s\">Final persona</p>");
    pre_text(b, fin);
    buf_adds(b, "</div>");
}

static void trace_line(users *us, uinfo *u, const cJSON *j)
{
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(j, "steps"), *s;
    buf *b = &u->trace;
    (void)us;
    if (b->len >= MAX_TRACE) {
        u->trace_cut++;
        return;
    }
    htmlkit_wrap(b, "<li><strong>", jsonu_str(j, "method"), "</strong> ");
    htmlkit_wrap(b, "<span class=\"mono\">", jsonu_str(j, "id"), "</span> ");
    htmlkit_wrap(b, "<span class=\"s\">", jsonu_str(j, "phase"), "</span><ol>");
    cJSON_ArrayForEach(s, (cJSON_IsArray(steps) ? steps : NULL))
    {
        const cJSON *calls = cJSON_GetObjectItemCaseSensitive(s, "tool_calls"), *c;
        const cJSON *obs = cJSON_GetObjectItemCaseSensitive(s, "observations");
        size_t i = 0;
        buf_adds(b, "<li>");
        cJSON_ArrayForEach(c, (cJSON_IsArray(calls) ? calls : NULL))
        {
            const cJSON *o = cJSON_GetArrayItem(obs, (int)i++);
            htmlkit_wrap(b, "<code>", jsonu_str(c, "name"), "(");
            svg_escape_trunc(b, jsonu_str(c, "input") ? jsonu_str(c, "input") : "", MAX_OBS);
            buf_adds(b, ")</code>");
            if (cJSON_IsString(o)) {
                buf_adds(b, " \xe2\x86\x92 ");
                svg_escape_trunc(b, o->valuestring, MAX_OBS);
            }
            buf_adds(b, "<br>");
        }
        if (jsonu_str(s, "content")) {
            buf_adds(b, "answer: ");
            svg_escape_trunc(b, jsonu_str(s, "content"), MAX_OBS);
        }
        buf_adds(b, "</li>");
    }
    buf_adds(b, "</ol></li>");
}

/* The ids of the queries of user u in first-seen order, and the inputs. */
static void user_queries(buf *b, const users *us, const uinfo *u, const pred_record *recs,
                         const strmap *inputs, const char *const *inp)
{
    strmap seen;
    strmap_init(&seen, u->nrecs);
    buf_adds(b, "<h4>Queries</h4><table class=\"queries\"><thead><tr><th>query</th>"
                "<th>input</th><th>gold</th><th>answers</th></tr></thead><tbody>");
    for (size_t i = 0; i < u->nrecs; i++) {
        const pred_record *q = &recs[u->recs[i]];
        size_t at;
        if (strmap_add(&seen, q->id, i) != i)
            continue;
        htmlkit_wrap(b, "<tr><td class=\"mono\">", q->id, "</td><td class=\"input\">");
        at = strmap_get(inputs, q->id);
        if (at != STRMAP_NONE)
            svg_escape_trunc(b, inp[at], MAX_TEXT);
        else
            buf_adds(b, HTMLKIT_DASH);
        htmlkit_wrap(b, "</td><td>", q->gold ? q->gold : HTMLKIT_DASH,
                     "</td><td><ul class=\"ans\">");
        for (size_t m = 0; m < us->nm; m++)
            for (size_t k = i; k < u->nrecs; k++) {
                const pred_record *r = &recs[u->recs[k]];
                int ok;
                if (strcmp(r->id, q->id) != 0 || strcmp(r->method, us->methods[m]) != 0)
                    continue;
                ok = r->gold && r->pred && strcmp(r->gold, r->pred) == 0;
                htmlkit_wrap(b, "<li><span class=\"m\">", r->method, "</span>: ");
                if (r->error) {
                    htmlkit_wrap(b, "<span class=\"err\">error: ", r->error, "</span>");
                } else {
                    buf_printf(b, "<span class=\"%s\">", ok ? "ok" : "no");
                    svg_escape_trunc(b, r->pred ? r->pred : "", MAX_OBS);
                    buf_adds(b, "</span>");
                }
                buf_adds(b, "</li>");
                break;
            }
        buf_adds(b, "</ul></td></tr>");
    }
    buf_adds(b, "</tbody></table>");
    strmap_free(&seen);
}

static void user_details(buf *b, const users *us, size_t k, const char *metric,
                         const pred_record *recs, const strmap *inputs, const char *const *inp)
{
    const uinfo *u = &us->u[k];
    buf_printf(b, "<details class=\"user\" id=\"user-%zu\"><summary>", k);
    svg_escape(b, u->id);
    buf_adds(b, "</summary><table class=\"kv\"><thead><tr><th>method</th><th class=\"num\">n"
                "</th>");
    htmlkit_wrap(b, "<th class=\"num\">", metric, "</th>");
    buf_adds(b, "<th class=\"num\">errors</th><th class=\"num\">LLM calls</th>"
                "<th class=\"num\">cost (USD)</th></tr></thead><tbody>");
    for (size_t i = 0; i < us->nm; i++) {
        htmlkit_wrap(b, "<tr><td class=\"m\">", us->methods[i], "</td>");
        num_cell(b, u->m[i].n, -1);
        num_cell(b, u->m[i].metric, 3);
        num_cell(b, u->m[i].errors, -1);
        num_cell(b, u->m[i].calls, -1);
        num_cell(b, u->m[i].cost, 4);
        buf_adds(b, "</tr>");
    }
    buf_adds(b, "</tbody></table>");
    user_queries(b, us, u, recs, inputs, inp);
    if (u->persona.len) {
        buf_adds(b, "<h4>Personas</h4>");
        buf_add(b, u->persona.data, u->persona.len);
        if (u->persona_cut)
            buf_printf(b, "<p class=\"note\">%zu more persona record(s) not shown; see "
                          "<a href=\"personas.jsonl\">personas.jsonl</a>.</p>",
                       u->persona_cut);
    }
    if (u->trace.len) {
        buf_adds(b, "<h4>Agent trace</h4><ul class=\"trace\">");
        buf_add(b, u->trace.data, u->trace.len);
        buf_adds(b, "</ul>");
        if (u->trace_cut)
            buf_printf(b, "<p class=\"note\">%zu more trace line(s) not shown; see "
                          "<a href=\"traces.jsonl\">traces.jsonl</a>.</p>",
                       u->trace_cut);
    }
    buf_adds(b, "</details>");
}

/* The run's data files, as run.json names them. A failure is reported on
 * the page (a run made elsewhere names paths that may not exist here). */
static int reload_data(const cJSON *run, const task *t, dataset *d, pe_err *e)
{
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(run, "data"), *x;
    const char **paths = NULL;
    size_t n = 0, cap = 0;
    int rc;
    cJSON_ArrayForEach(x, (cJSON_IsArray(files) ? files : NULL)) if (jsonu_str(x, "path"))
    {
        paths = xgrow(paths, &cap, n + 1, sizeof *paths);
        paths[n++] = jsonu_str(x, "path");
    }
    if (!n)
        return pe_errf(e, PE_EXIT_NOINPUT, "run.json names no data files");
    rc = dataset_load(d, t, paths, n, NULL, e);
    free(paths);
    return rc;
}

/* The inputs of the queries of the users with details, from d: inputs maps
 * a query id to its position in *inp. */
static void collect_inputs(const users *us, const dataset *d, strmap *inputs, const char ***inp)
{
    size_t ni = 0, icap = 0;
    for (size_t i = 0; i < d->nusers; i++) {
        size_t k = strmap_get(&us->index, d->users[i].id);
        if (k == STRMAP_NONE || k >= MAX_DETAILS)
            continue;
        for (size_t q = 0; q < d->users[i].nqueries; q++) {
            *inp = xgrow(*inp, &icap, ni + 1, sizeof **inp);
            (*inp)[ni] = d->users[i].queries[q].input;
            strmap_add(inputs, d->users[i].queries[q].id, ni++);
        }
    }
}

void htmlkit_users_section(buf *b, const char *dir, const task *t, const cJSON *run,
                           const dataset *data, const char *const *methods, size_t nm,
                           const pred_record *recs, size_t nrec, const pe_err *pe)
{
    const char *names[2];
    users us = {t, methods, nm, NULL, 0, 0, {0}};
    csv_tab tab;
    pe_err e = {0}, de = {0};
    dataset d;
    strmap inputs;
    const char **inp = NULL;
    char *path = xasprintf("%s/users.csv", dir);
    metrics_names(t, names);
    buf_adds(b, "<section id=\"user-list\"><h2>Users</h2>");
    if (csv_load(path, MAX_CSV_BYTES, &tab, &e)) {
        htmlkit_wrap(b, "<p class=\"note\">No per-user results: ", e.msg, "</p></section>");
        free(path);
        return;
    }
    free(path);
    strmap_init(&us.index, tab.n);
    collect(&us, &tab, names[0]);
    user_table(b, &us, names[0]);
    memset(&d, 0, sizeof d);
    strmap_init(&inputs, 64);
    for (size_t i = 0; i < nrec; i++) {
        size_t k = strmap_get(&us.index, recs[i].user);
        if (k != STRMAP_NONE && k < MAX_DETAILS) {
            uinfo *u = &us.u[k];
            u->recs = xgrow(u->recs, &u->rcap, u->nrecs + 1, sizeof *u->recs);
            u->recs[u->nrecs++] = i;
        }
    }
    if (us.n && data)
        collect_inputs(&us, data, &inputs, &inp);
    else if (us.n && reload_data(run, t, &d, &de) == 0)
        collect_inputs(&us, &d, &inputs, &inp);
    else if (us.n)
        htmlkit_wrap(b, "<p class=\"note\">Query inputs not shown: ", de.msg, "</p>");
    if (pe->code)
        htmlkit_wrap(b, "<p class=\"note\">Answers not shown: ", pe->msg, "</p>");
    each_line(dir, "personas.jsonl", &us, persona_line);
    each_line(dir, "traces.jsonl", &us, trace_line);
    for (size_t k = 0; k < us.n && k < MAX_DETAILS; k++)
        user_details(b, &us, k, names[0], recs, &inputs, inp);
    buf_adds(b, "</section>");
    for (size_t k = 0; k < us.n; k++) {
        free(us.u[k].m);
        free(us.u[k].recs);
        buf_free(&us.u[k].persona);
        buf_free(&us.u[k].trace);
    }
    free(us.u);
    strmap_free(&us.index);
    strmap_free(&inputs);
    free(inp);
    if (!de.code && us.n && !data)
        dataset_free(&d);
    csv_free(&tab);
}
