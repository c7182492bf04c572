#include "html_run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include "charts.h"
#include "csv.h"
#include "htmlkit.h"
#include "metrics.h"
#include "report.h"

#define MAX_CSV_BYTES ((size_t)256 << 20)
#define MAX_HEATMAP 150 /* users; a larger matrix would make the page unwieldy */

/* The values of one method in users.csv; strings borrowed from the table. */
typedef struct dist {
    chart_dist c;
    double *v;
    const char **user;
    size_t cap, ucap, missing;
} dist;

static size_t dist_of(dist **d, size_t *nd, size_t *cap, const char *method)
{
    size_t i;
    for (i = 0; i < *nd; i++)
        if (strcmp((*d)[i].c.label, method) == 0)
            return i;
    *d = xgrow(*d, cap, *nd + 1, sizeof **d);
    memset(&(*d)[*nd], 0, sizeof **d);
    (*d)[*nd].c.label = method;
    return (*nd)++;
}

static void section_users(buf *b, const char *dir, const task *t, const method_summary *s,
                          size_t ns, svg_colours *col)
{
    const char *names[2];
    csv_tab tab;
    pe_err e = {0};
    dist *d = NULL;
    chart_dist *cd;
    size_t nd = 0, cap = 0, vcol;
    char *path = xasprintf("%s/users.csv", dir);
    metrics_names(t, names);
    htmlkit_wrap(b, "<section id=\"users\"><h2>Per-user ", names[0], "</h2>");
    if (csv_load(path, MAX_CSV_BYTES, &tab, &e)) {
        htmlkit_wrap(b, "<p class=\"note\">No per-user results: ", e.msg, "</p></section>");
        free(path);
        return;
    }
    free(path);
    vcol = csv_column(&tab, names[0]);
    /* methods in the summary's order, then any others as they appear */
    for (size_t i = 0; i < ns; i++)
        dist_of(&d, &nd, &cap, s[i].method);
    for (size_t r = 1; r < tab.n; r++) {
        const csv_row *row = &tab.r[r];
        double v;
        dist *m;
        if (row->n < 2)
            continue;
        m = &d[dist_of(&d, &nd, &cap, row->f[0])];
        if (vcol < row->n && htmlkit_parse_num(row->f[vcol], &v)) {
            m->v = xgrow(m->v, &m->cap, m->c.n + 1, sizeof *m->v);
            m->user = xgrow(m->user, &m->ucap, m->c.n + 1, sizeof *m->user);
            m->v[m->c.n] = v;
            m->user[m->c.n++] = row->f[1];
        } else {
            m->missing++;
        }
    }
    buf_adds(b, "<p class=\"note\">One dot per user: the user's ");
    svg_escape(b, names[0]);
    buf_adds(b, " over their own queries (hover for the user id). The box spans the quartiles "
                "with the median marked; the whiskers span the range.</p>");
    cd = xcalloc(nd ? nd : 1, sizeof *cd);
    for (size_t i = 0; i < nd; i++) {
        cd[i] = d[i].c;
        cd[i].v = d[i].v;
        cd[i].point = d[i].user;
    }
    chart_distribution(b, names[0], !t->rating, cd, nd, col);
    for (size_t i = 0; i < nd; i++)
        if (d[i].c.n > CHART_MAX_DOTS) {
            buf_adds(b, "<p class=\"note\">");
            svg_escape(b, d[i].c.label);
            buf_printf(b, ": %zu users; the dots show every %zu-th, the box all.</p>", d[i].c.n,
                       (d[i].c.n + CHART_MAX_DOTS - 1) / CHART_MAX_DOTS);
        }
    for (size_t i = 0; i < nd; i++)
        if (d[i].missing) {
            buf_adds(b, "<p class=\"note\">");
            svg_escape(b, d[i].c.label);
            buf_printf(b, ": %zu user(s) without a scored query are not shown.</p>",
                       d[i].missing);
        }
    buf_adds(b, "</section>");
    for (size_t i = 0; i < nd; i++) {
        free(d[i].user);
        free(d[i].v);
    }
    free(cd);
    free(d);
    csv_free(&tab);
}

static void stat_cell(buf *b, const cJSON *stats, const char *key, int cost)
{
    double v = htmlkit_json_num(stats, key);
    buf_adds(b, "<td class=\"num\">");
    if (cost)
        htmlkit_cost(b, v);
    else
        htmlkit_count(b, v);
    buf_adds(b, "</td>");
}

typedef struct usage {
    const char *method;
    size_t queries, errors;
    double calls, prompt, completion, cost, latency;
    int has_prompt, has_completion, has_cost;
} usage;

static void section_cost(buf *b, const cJSON *run, const method_summary *s, size_t ns,
                         const pred_record *recs, size_t nrec, const pe_err *pe)
{
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(run, "stats");
    static const char *const keys[] = {"calls", "prompt_tokens", "completion_tokens",
                                       "cost_usd"};
    usage *u = NULL;
    size_t nu = 0, cap = 0;

    buf_adds(b, "<section id=\"cost\"><h2>Tokens and cost</h2><table id=\"cost-table\"><thead>"
                "<tr><th></th><th class=\"num\">LLM calls</th><th class=\"num\">prompt tokens"
                "</th><th class=\"num\">completion tokens</th><th class=\"num\">cost (USD)</th>"
                "<th class=\"num\">mean latency (s)</th></tr></thead><tbody>");
    /* the summary's method order, as in every table of the page */
    for (size_t i = 0; i < ns; i++) {
        u = xgrow(u, &cap, nu + 1, sizeof *u);
        memset(&u[nu], 0, sizeof *u);
        u[nu++].method = s[i].method;
    }
    if (pe->code == 0) {
        for (size_t i = 0; i < nrec; i++) {
            const pred_record *r = &recs[i];
            size_t k;
            for (k = 0; k < nu; k++)
                if (strcmp(u[k].method, r->method) == 0)
                    break;
            if (k == nu) {
                u = xgrow(u, &cap, nu + 1, sizeof *u);
                memset(&u[nu], 0, sizeof *u);
                u[nu++].method = r->method;
            }
            u[k].queries++;
            u[k].calls += (double)r->calls;
            u[k].latency += r->latency_s;
            if (r->prompt_tokens >= 0) {
                u[k].prompt += (double)r->prompt_tokens;
                u[k].has_prompt = 1;
            }
            if (r->completion_tokens >= 0) {
                u[k].completion += (double)r->completion_tokens;
                u[k].has_completion = 1;
            }
            if (r->cost_usd >= 0) {
                u[k].cost += r->cost_usd;
                u[k].has_cost = 1;
            }
        }
        for (size_t k = 0; k < nu; k++) {
            if (!u[k].queries)
                continue;
            htmlkit_wrap(b, "<tr><td class=\"method\">", u[k].method, "</td><td class=\"num\">");
            htmlkit_count(b, u[k].calls);
            buf_adds(b, "</td><td class=\"num\">");
            htmlkit_count(b, u[k].has_prompt ? u[k].prompt : NAN);
            buf_adds(b, "</td><td class=\"num\">");
            htmlkit_count(b, u[k].has_completion ? u[k].completion : NAN);
            buf_adds(b, "</td><td class=\"num\">");
            htmlkit_cost(b, u[k].has_cost ? u[k].cost : NAN);
            buf_printf(b, "</td><td class=\"num\">%.3f</td></tr>",
                       u[k].latency / (double)u[k].queries);
        }
    }
    buf_adds(b, "<tr class=\"total\"><th>total (run.json)</th>");
    for (size_t k = 0; k < 4; k++)
        stat_cell(b, stats, keys[k], k == 3);
    buf_printf(b, "<td class=\"num\">%s</td></tr></tbody></table>", HTMLKIT_DASH);
    buf_adds(b, "<p class=\"note\">" HTMLKIT_DASH
                " : not reported (the endpoint gave no usage, or the "
                "run has no run.json).");
    if (!cJSON_IsObject(stats))
        buf_adds(b, " Totals unknown: run.json has no \"stats\".");
    if (pe->code) {
        buf_adds(b, " Per-method usage unavailable: ");
        svg_escape(b, pe->msg);
    }
    buf_adds(b, "</p></section>");
    free(u);
}

static void legend(buf *b, const char *const *methods, size_t n, svg_colours *col)
{
    buf_adds(b, "<ul class=\"legend\">");
    for (size_t i = 0; i < n; i++) {
        buf_printf(b, "<li><span class=\"sw\" style=\"background:%s\"></span>",
                   svg_colour_of(col, methods[i]));
        svg_escape(b, methods[i]);
        buf_adds(b, "</li>");
    }
    buf_adds(b, "</ul>");
}

static size_t intern(const char ***v, size_t *n, size_t *cap, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i], s) == 0)
            return i;
    *v = xgrow(*v, cap, *n + 1, sizeof **v);
    (*v)[*n] = s;
    return (*n)++;
}

static void sweep_param(buf *b, const csv_tab *tab, const char *param, svg_colours *col)
{
    const csv_row *hdr = &tab->r[0];
    const char **xs = NULL, **ms = NULL;
    size_t nx = 0, xcap = 0, nm = 0, mcap = 0;
    double *xv;
    int numeric = 1;
    for (size_t r = 1; r < tab->n; r++)
        if (tab->r[r].n >= 3 && strcmp(tab->r[r].f[0], param) == 0) {
            intern(&xs, &nx, &xcap, tab->r[r].f[1]);
            intern(&ms, &nm, &mcap, tab->r[r].f[2]);
        }
    xv = xcalloc(nx ? nx : 1, sizeof *xv);
    for (size_t i = 0; i < nx; i++)
        numeric &= htmlkit_parse_num(xs[i], &xv[i]);
    /* numeric values in ascending order */
    if (numeric)
        for (size_t i = 1; i < nx; i++)
            for (size_t j = i; j > 0 && xv[j - 1] > xv[j]; j--) {
                double tv = xv[j];
                const char *ts = xs[j];
                xv[j] = xv[j - 1], xs[j] = xs[j - 1];
                xv[j - 1] = tv, xs[j - 1] = ts;
            }
    htmlkit_wrap(b, "<h3>", param, "</h3>");
    legend(b, ms, nm, col);
    buf_adds(b, "<div class=\"charts\">");
    for (size_t m = 3; m < hdr->n; m++) {
        chart_series *se = xcalloc(nm ? nm : 1, sizeof *se);
        double *y = xmalloc((nm && nx ? nm * nx : 1) * sizeof *y);
        char *title = xasprintf("%s vs %s", hdr->f[m], param);
        for (size_t i = 0; i < nm * nx; i++)
            y[i] = NAN;
        for (size_t r = 1; r < tab->n; r++) {
            const csv_row *row = &tab->r[r];
            double v;
            size_t xi, mi;
            if (row->n <= m || strcmp(row->f[0], param) != 0 || !htmlkit_parse_num(row->f[m], &v))
                continue;
            for (xi = 0; xi < nx && strcmp(xs[xi], row->f[1]) != 0; xi++)
                ;
            for (mi = 0; mi < nm && strcmp(ms[mi], row->f[2]) != 0; mi++)
                ;
            y[mi * nx + xi] = v;
        }
        for (size_t k = 0; k < nm; k++) {
            se[k].name = ms[k];
            se[k].y = y + k * nx;
        }
        chart_lines(b, title, param, hdr->f[m], xs, xv, numeric, nx, se, nm, col, 0);
        free(title);
        free(y);
        free(se);
    }
    buf_adds(b, "</div>");
    free(xv);
    free(xs);
    free(ms);
}

/* Open the section of an optional CSV file: 0 when the file is absent (no
 * section) or unreadable (a section with the error, closed); 1 when loaded. */
static int optional_csv(buf *b, const char *dir, const char *name, const char *id,
                        const char *heading, csv_tab *tab)
{
    pe_err e = {0};
    char *path;
    int rc;
    if (!htmlkit_has_file(dir, name))
        return 0;
    buf_printf(b, "<section id=\"%s\"><h2>%s</h2>", id, heading);
    path = xasprintf("%s/%s", dir, name);
    rc = csv_load(path, MAX_CSV_BYTES, tab, &e);
    free(path);
    if (rc) {
        htmlkit_wrap(b, "<p class=\"note\">", e.msg, "</p></section>");
        return 0;
    }
    return 1;
}

static void section_sweep(buf *b, const char *dir, svg_colours *col)
{
    csv_tab tab;
    if (!optional_csv(b, dir, "sweep.csv", "sweep", "Sweeps", &tab))
        return;
    if (tab.n < 2 || tab.r[0].n < 4) {
        buf_adds(b, "<p class=\"note\">sweep.csv has no rows of the form "
                    "<code>param,value,method,metric...</code>.</p>");
    } else {
        const char **params = NULL;
        size_t np = 0, cap = 0;
        for (size_t r = 1; r < tab.n; r++)
            if (tab.r[r].n >= 3)
                intern(&params, &np, &cap, tab.r[r].f[0]);
        for (size_t i = 0; i < np; i++)
            sweep_param(b, &tab, params[i], col);
        free(params);
    }
    buf_adds(b, "</section>");
    csv_free(&tab);
}

static void section_heatmap(buf *b, const char *dir)
{
    csv_tab tab;
    int square;
    size_t n;
    if (!optional_csv(b, dir, "personas_jaccard.csv", "personas", "Persona similarity", &tab))
        return;
    n = tab.n ? tab.r[0].n - 1 : 0;
    square = tab.n > 1 && tab.n == n + 1;
    for (size_t i = 1; square && i < tab.n; i++)
        square = tab.r[i].n == n + 1;
    if (!square) {
        buf_adds(b, "<p class=\"note\">personas_jaccard.csv is not a square matrix (a header "
                    "row of user ids, then one row per user).</p>");
    } else if (n > MAX_HEATMAP) {
        buf_printf(b, "<p class=\"note\">%zu users: too many to draw; see "
                      "<a href=\"personas_jaccard.csv\">personas_jaccard.csv</a>.</p>", n);
    } else {
        buf_printf(b, "<p class=\"note\">Jaccard similarity of the %zu users' final personas "
                      "(hover a cell for the pair and value).</p>", n);
        {
        const char **rows = xcalloc(n, sizeof *rows);
        double *m = xmalloc(n * n * sizeof *m);
        for (size_t i = 0; i < n; i++) {
            rows[i] = tab.r[i + 1].f[0];
            for (size_t k = 0; k < n; k++)
                if (!htmlkit_parse_num(tab.r[i + 1].f[k + 1], &m[i * n + k]))
                    m[i * n + k] = NAN;
        }
        chart_heatmap(b, "persona similarity heatmap", rows, (const char *const *)tab.r[0].f + 1,
                      n, m, 0);
        free(rows);
        free(m);
        }
    }
    buf_adds(b, "</section>");
    csv_free(&tab);
}

static void section_settings(buf *b, const cJSON *run, const cJSON *sum, const char *run_err)
{
    static const char *const top[] = {"task", "methods", "started", "finished", "wall_s",
                                       "incomplete", "version", "git_revision"};
    const cJSON *o, *x;
    buf_adds(b, "<section id=\"settings\"><h2>Run settings</h2>");
    if (!run) {
        htmlkit_wrap(b, "<p class=\"note\">Settings unknown: ", run_err, "</p>");
    }
    buf_adds(b, "<div class=\"charts\"><table class=\"kv\"><caption>Run</caption><tbody>");
    for (size_t i = 0; run && i < sizeof top / sizeof top[0]; i++)
        if (cJSON_GetObjectItemCaseSensitive(run, top[i]))
            htmlkit_kv_row(b, top[i], cJSON_GetObjectItemCaseSensitive(run, top[i]));
    o = cJSON_GetObjectItemCaseSensitive(sum, "bootstrap");
    if (cJSON_IsObject(o)) {
        htmlkit_kv_row(b, "bootstrap draws", cJSON_GetObjectItemCaseSensitive(o, "B"));
        htmlkit_kv_row(b, "bootstrap seed", cJSON_GetObjectItemCaseSensitive(o, "seed"));
    }
    buf_adds(b, "</tbody></table><table class=\"kv\"><caption>Options</caption><tbody>");
    o = cJSON_GetObjectItemCaseSensitive(run, "settings");
    cJSON_ArrayForEach(x, (cJSON_IsObject(o) ? o : NULL))
    {
        /* 0 users or queries is the command line's way of saying "all" */
        if ((strcmp(x->string, "users") == 0 || strcmp(x->string, "max_queries") == 0) &&
            cJSON_IsNumber(x) && x->valuedouble == 0)
            htmlkit_wrap(b, "<tr><th>", x->string, "</th><td>all</td></tr>");
        else
            htmlkit_kv_row(b, x->string, x);
    }
    buf_adds(b, "</tbody></table><table class=\"kv\"><caption>Counts and libraries</caption>"
                "<tbody>");
    o = cJSON_GetObjectItemCaseSensitive(run, "counts");
    cJSON_ArrayForEach(x, (cJSON_IsObject(o) ? o : NULL)) htmlkit_kv_row(b, x->string, x);
    o = cJSON_GetObjectItemCaseSensitive(run, "libraries");
    cJSON_ArrayForEach(x, (cJSON_IsObject(o) ? o : NULL)) htmlkit_kv_row(b, x->string, x);
    buf_adds(b, "</tbody></table></div>");
    o = cJSON_GetObjectItemCaseSensitive(run, "command");
    if (cJSON_IsArray(o)) {
        int first = 1;
        buf_adds(b, "<h3>Command</h3><pre class=\"cmd\">");
        cJSON_ArrayForEach(x, o)
        {
            const char *s = cJSON_IsString(x) ? x->valuestring : "?";
            int plain = *s != '\0';
            for (const char *p = s; *p; p++)
                plain &= strchr(" \t\n'\"\\$`*?[]{}()<>|&;#~", *p) == NULL;
            if (!first)
                buf_addc(b, ' ');
            if (plain) {
                svg_escape(b, s);
            } else {
                /* shell single quotes, so the line can be pasted back */
                buf q = BUF_INIT;
                buf_addc(&q, '\'');
                for (const char *p = s; *p; p++) {
                    if (*p == '\'')
                        buf_adds(&q, "'\\''");
                    else
                        buf_addc(&q, *p);
                }
                buf_addc(&q, '\'');
                svg_escape(b, buf_str(&q));
                buf_free(&q);
            }
            first = 0;
        }
        buf_adds(b, "</pre>");
    }
    o = cJSON_GetObjectItemCaseSensitive(run, "data");
    if (cJSON_IsArray(o)) {
        buf_adds(b, "<h3>Data files</h3><table id=\"data-files\"><thead><tr><th>path</th>"
                    "<th>format</th><th>SHA-256</th></tr></thead><tbody>");
        static const char *const cols[][2] = {
            {"path", "<td class=\"mono\">"},
            {"format", "<td>"},
            {"sha256", "<td class=\"mono sha\">"}};
        cJSON_ArrayForEach(x, o)
        {
            buf_adds(b, "<tr>");
            for (size_t k = 0; k < 3; k++) {
                buf_adds(b, cols[k][1]);
                htmlkit_json_value(b, cJSON_GetObjectItemCaseSensitive(x, cols[k][0]));
                buf_adds(b, "</td>");
            }
            buf_adds(b, "</tr>");
        }
        buf_adds(b, "</tbody></table>");
    }
    buf_adds(b, "</section>");
}

static const char *const raw_files[][2] = {
    {"summary.json", "per-method metrics and intervals"},
    {"summary.csv", "the summary as CSV"},
    {"summary.md", "the summary as a Markdown table"},
    {"users.csv", "per-method, per-user metrics"},
    {"predictions.jsonl", "one line per query and method"},
    {"run.json", "settings, versions, data files, counts, timings"},
    {"traces.jsonl", "agent steps"},
    {"personas.jsonl", "persona evolution"},
    {"official_golds.json", "golds in LaMP's official format"},
    {"sweep.csv", "parameter sweep results"},
    {"personas_jaccard.csv", "persona similarity matrix"},
};

static void section_files(buf *b, const char *dir)
{
    buf_adds(b, "<section id=\"files\"><h2>Raw files</h2><table id=\"files-table\"><tbody>");
    for (size_t i = 0; i < sizeof raw_files / sizeof raw_files[0]; i++) {
        char *p = xasprintf("%s/%s", dir, raw_files[i][0]);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            buf_printf(b, "<tr><td class=\"mono\"><a href=\"%s\">%s</a></td><td>%s</td>"
                          "<td class=\"num\">",
                       raw_files[i][0], raw_files[i][0], raw_files[i][1]);
            if (st.st_size < 10240)
                buf_printf(b, "%lld B", (long long)st.st_size);
            else if (st.st_size < 10 << 20)
                buf_printf(b, "%.0f KiB", (double)st.st_size / 1024);
            else
                buf_printf(b, "%.1f MiB", (double)st.st_size / 1048576);
            buf_adds(b, "</td></tr>");
        }
        free(p);
    }
    buf_adds(b, "</tbody></table></section>");
}

int html_write_run(const char *dir, pe_err *e)
{
    return html_write_run_with(dir, NULL, NULL, 0, e);
}

int html_write_run_with(const char *dir, const dataset *data, const pred_record *given,
                        size_t ngiven, pe_err *e)
{
    const task *t;
    method_summary *s;
    report_row *rows;
    size_t ns;
    pe_err re = {0}, se = {0};
    cJSON *run, *sum;
    buf b = BUF_INIT, title = BUF_INIT;
    svg_colours col = {NULL, 0, 0};
    char *name, *path;
    const char *started, *finished;
    int rc = report_read_summary(dir, &t, &s, &ns, e);

    if (rc)
        return rc;
    run = htmlkit_json_load(dir, "run.json", &re);
    sum = htmlkit_json_load(dir, "summary.json", &se);
    name = htmlkit_base_name(dir);
    for (size_t i = 0; i < ns; i++)
        svg_colour_of(&col, s[i].method);
    buf_printf(&title, "persona-eval %s: %s", t->name, name);
    htmlkit_page_begin(&b, buf_str(&title));
    buf_adds(&b, "<header><h1>persona-eval ");
    svg_escape(&b, t->name);
    buf_adds(&b, " <span class=\"sub\">");
    svg_escape(&b, name);
    buf_adds(&b, "</span></h1><p class=\"sub\">");
    started = jsonu_str(run, "started");
    finished = jsonu_str(run, "finished");
    if (started) {
        buf_adds(&b, "Started ");
        svg_escape(&b, started);
        if (finished) {
            buf_adds(&b, ", finished ");
            svg_escape(&b, finished);
        }
        buf_adds(&b, ". ");
    }
    buf_printf(&b, "%zu method(s)", ns);
    if (!isnan(htmlkit_json_num(sum, "n_users")))
        buf_printf(&b, ", %.0f users", htmlkit_json_num(sum, "n_users"));
    buf_adds(&b, ".</p><nav><a href=\"#summary\">Summary</a><a href=\"#users\">Per user</a>"
                 "<a href=\"#user-list\">Users</a>"
                 "<a href=\"#cost\">Tokens and cost</a>");
    if (htmlkit_has_file(dir, "sweep.csv"))
        buf_adds(&b, "<a href=\"#sweep\">Sweeps</a>");
    if (htmlkit_has_file(dir, "personas_jaccard.csv") || htmlkit_has_file(dir, "personas.jsonl"))
        buf_adds(&b, "<a href=\"#personas\">Personas</a>");
    buf_adds(&b, "<a href=\"#settings\">Settings</a><a href=\"#files\">Raw files</a></nav>"
                 "</header>\n");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sum, "incomplete")))
        buf_adds(&b, "<p class=\"warn\"><strong>Incomplete run:</strong> interrupted before "
                     "every query was answered; the numbers cover the answered queries.</p>");
    {
        /* who answered: a model, or the offline responder (which is not one) */
        const cJSON *llm = cJSON_GetObjectItemCaseSensitive(run, "llm");
        const char *backend = jsonu_str(llm, "backend"), *model = jsonu_str(llm, "model");
        const char *endpoint = jsonu_str(llm, "endpoint");
        if (backend && strcmp(backend, "offline") == 0) {
            buf_adds(&b, "<p class=\"warn\"><strong>Offline responder:</strong> the LLM "
                         "methods were answered by ");
            svg_escape(&b, jsonu_str(llm, "note") ? jsonu_str(llm, "note")
                                                   : "the offline responder");
            buf_adds(&b, "; these numbers say nothing about any model.</p>");
        } else if (backend && model) {
            buf_adds(&b, "<p class=\"sub\">Model <strong>");
            svg_escape(&b, model);
            buf_adds(&b, "</strong>");
            if (endpoint) {
                buf_adds(&b, " at ");
                svg_escape(&b, endpoint);
            }
            buf_adds(&b, ".</p>");
        }
    }
    buf_adds(&b, "<section id=\"summary\"><h2>Summary</h2>");
    rows = xcalloc(ns ? ns : 1, sizeof *rows);
    for (size_t i = 0; i < ns; i++) {
        rows[i].t = t;
        rows[i].s = &s[i];
    }
    htmlkit_summary_table(&b, t, rows, ns, 0, "summary-table");
    buf_printf(&b, "<p class=\"note\">%s pooled over all queries; 95%% percentile bootstrap "
                   "intervals over queries. <strong>Bold</strong>: the best method.</p>",
               t->rating ? "MAE and RMSE (lower is better)"
                         : "Accuracy and macro-F1 (higher is better)");
    htmlkit_interval_charts(&b, t, rows, ns, 0, &col);
    free(rows);
    buf_adds(&b, "</section>\n");
    section_users(&b, dir, t, s, ns, &col);
    buf_addc(&b, '\n');
    {
        const char **methods = xcalloc(ns ? ns : 1, sizeof *methods);
        for (size_t i = 0; i < ns; i++)
            methods[i] = s[i].method;
        /* read once for the users' answers and the usage per method */
        pe_err pe = {0};
        pred_record *read = NULL;
        size_t nread = 0;
        if (!given)
            report_load_predictions(dir, &read, &nread, NULL, &pe);
        htmlkit_users_section(&b, dir, t, run, data, methods, ns, given ? given : read,
                              given ? ngiven : nread, &pe);
        buf_addc(&b, '\n');
        section_cost(&b, run, s, ns, given ? given : read, given ? ngiven : nread, &pe);
        report_free_predictions(read, nread);
        free(methods);
    }
    buf_addc(&b, '\n');
    section_sweep(&b, dir, &col);
    if (!htmlkit_personas_section(&b, dir))
        section_heatmap(&b, dir);
    section_settings(&b, run, sum, re.msg);
    buf_addc(&b, '\n');
    section_files(&b, dir);
    buf_adds(&b, htmlkit_script);
    htmlkit_page_end(&b);

    path = xasprintf("%s/report.html", dir);
    if (!(rc = pe_interrupted(e, "writing report.html")))
        rc = pe_write_atomic(path, buf_str(&b), b.len, e);
    free(path);
    free(name);
    buf_free(&b);
    buf_free(&title);
    svg_colours_free(&col);
    cJSON_Delete(run);
    cJSON_Delete(sum);
    report_free_summaries(s, ns);
    return rc;
}

int html_is_sweep(const char *dir)
{
    return htmlkit_has_file(dir, "sweep.csv") && !htmlkit_has_file(dir, "summary.json");
}

/* The sub-runs of a sweep folder: its directories holding a summary.json,
 * in name order (k=1, k=4, ...). */
static int subdir_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int html_write_sweep(const char *out_path, const char *dir, pe_err *e)
{
    buf b = BUF_INIT;
    svg_colours col = {NULL, 0, 0};
    char *name = htmlkit_base_name(dir), **subs = NULL, *title;
    size_t nsub = 0, scap = 0, nrows = 0, rcap = 0;
    report_row *rows = NULL;
    method_summary **sums;
    size_t *nsums;
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc;

    if (!d) {
        free(name);
        return pe_errf(e, PE_EXIT_NOINPUT, "%s: cannot open the sweep folder", dir);
    }
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') {
            char *p = xasprintf("%s/%s", dir, de->d_name);
            if (htmlkit_has_file(p, "summary.json")) {
                subs = xgrow(subs, &scap, nsub + 1, sizeof *subs);
                subs[nsub++] = xstrdup(de->d_name);
            }
            free(p);
        }
    closedir(d);
    if (nsub > 1)
        qsort(subs, nsub, sizeof *subs, subdir_cmp);
    sums = xcalloc(nsub ? nsub : 1, sizeof *sums);
    nsums = xcalloc(nsub ? nsub : 1, sizeof *nsums);
    title = xasprintf("persona-eval sweep: %s", name);
    htmlkit_page_begin(&b, title);
    htmlkit_wrap(&b, "<header><h1>persona-eval sweep <span class=\"sub\">", name,
                 "</span></h1>");
    buf_printf(&b, "<p class=\"sub\">%zu run(s), one per value.</p><nav><a href=\"#sweep\">"
                   "Sweeps</a><a href=\"#runs\">Runs</a></nav></header>\n", nsub);
    for (size_t i = 0; i < nsub; i++) {
        char *p = xasprintf("%s/%s", dir, subs[i]);
        const task *t;
        pe_err se = {0};
        if (report_read_summary(p, &t, &sums[i], &nsums[i], &se) == 0) {
            for (size_t k = 0; k < nsums[i]; k++) {
                svg_colour_of(&col, sums[i][k].method);
                rows = xgrow(rows, &rcap, nrows + 1, sizeof *rows);
                rows[nrows++] = (report_row){subs[i], t, &sums[i][k]};
            }
        }
        free(p);
    }
    section_sweep(&b, dir, &col);
    buf_adds(&b, "<section id=\"runs\"><h2>Runs</h2>");
    if (nrows)
        htmlkit_summary_table(&b, rows[0].t, rows, nrows, 1, "sweep-runs");
    buf_adds(&b, "<ul>");
    for (size_t i = 0; i < nsub; i++) {
        buf_adds(&b, "<li><a href=\"");
        htmlkit_url_path(&b, subs[i]);
        htmlkit_wrap(&b, "/report.html\">", subs[i], "</a></li>");
    }
    buf_adds(&b, "</ul></section>");
    buf_adds(&b, htmlkit_script);
    htmlkit_page_end(&b);
    rc = pe_write_atomic(out_path, buf_str(&b), b.len, e);
    for (size_t i = 0; i < nsub; i++) {
        report_free_summaries(sums[i], nsums[i]);
        free(subs[i]);
    }
    free(sums);
    free(nsums);
    free(subs);
    free(rows);
    free(title);
    free(name);
    buf_free(&b);
    svg_colours_free(&col);
    return rc;
}
