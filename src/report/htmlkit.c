#include "htmlkit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charts.h"
#include "metrics.h"

#define MAX_JSON_BYTES ((size_t)256 << 20)

void htmlkit_wrap(buf *b, const char *open, const char *s, const char *close)
{
    buf_adds(b, open);
    svg_escape(b, s);
    buf_adds(b, close);
}

void htmlkit_url_path(buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p)) {
            buf_addc(b, (char)*p);
        } else {
            buf_addc(b, '%');
            buf_addc(b, hex[*p >> 4]);
            buf_addc(b, hex[*p & 15]);
        }
    }
}

void htmlkit_fixed(buf *b, double v, int prec)
{
    if (isnan(v))
        buf_adds(b, HTMLKIT_DASH);
    else
        buf_printf(b, "%.*f", prec, v);
}

/* An integer with thin grouping: 1234567 → "1,234,567". */
void htmlkit_count(buf *b, double v)
{
    char d[32];
    size_t n, lead;
    if (isnan(v) || v < 0) {
        buf_adds(b, HTMLKIT_DASH);
        return;
    }
    snprintf(d, sizeof d, "%.0f", v);
    n = strlen(d);
    lead = n % 3 ? n % 3 : 3;
    buf_add(b, d, lead);
    for (size_t i = lead; i < n; i += 3) {
        buf_addc(b, ',');
        buf_add(b, d + i, 3);
    }
}

void htmlkit_cost(buf *b, double v)
{
    if (isnan(v) || v < 0)
        buf_adds(b, HTMLKIT_DASH);
    else
        buf_printf(b, "$%.4f", v);
}

/* data-* attribute with the shortest exact form (reads back to the same double). */
void htmlkit_attr_num(buf *b, const char *name, double v)
{
    char x[64];
    if (isnan(v))
        return;
    pe_fmt_double(x, sizeof x, v);
    buf_printf(b, " %s=\"%s\"", name, x);
}

int htmlkit_parse_num(const char *s, double *v)
{
    char *end;
    if (!s || !*s)
        return 0;
    errno = 0;
    *v = strtod(s, &end);
    while (*end == ' ')
        end++;
    return *end == '\0' && end != s && isfinite(*v);
}

double htmlkit_json_num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

cJSON *htmlkit_json_load(const char *dir, const char *name, pe_err *e)
{
    cJSON *j;
    report_read_json(dir, name, MAX_JSON_BYTES, &j, e);
    return j;
}

void htmlkit_json_value(buf *b, const cJSON *v)
{
    if (!v || cJSON_IsNull(v)) {
        buf_adds(b, HTMLKIT_DASH);
    } else if (cJSON_IsString(v)) {
        svg_escape(b, v->valuestring);
    } else if (cJSON_IsBool(v)) {
        buf_adds(b, cJSON_IsTrue(v) ? "yes" : "no");
    } else if (cJSON_IsNumber(v) && v->valuedouble != floor(v->valuedouble)) {
        buf_printf(b, "%.6g", v->valuedouble);
    } else if (cJSON_IsNumber(v)) {
        char *t = jsonu_text(v);
        svg_escape(b, t);
        free(t);
    } else if (cJSON_IsArray(v)) {
        const cJSON *x;
        int first = 1;
        if (!cJSON_GetArraySize(v))
            buf_adds(b, HTMLKIT_DASH);
        cJSON_ArrayForEach(x, v)
        {
            if (!first)
                buf_adds(b, ", ");
            htmlkit_json_value(b, x);
            first = 0;
        }
    } else {
        char *t = jsonu_print(v);
        htmlkit_wrap(b, "<code>", t, "</code>");
        free(t);
    }
}

void htmlkit_kv_row(buf *b, const char *key, const cJSON *v)
{
    htmlkit_wrap(b, "<tr><th>", key, "</th><td>");
    htmlkit_json_value(b, v);
    buf_adds(b, "</td></tr>");
}

static const char css[] =
    "body{margin:0;background:#fff;color:#1f2328;font:15px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}"
    "main{max-width:1100px;margin:0 auto;padding:24px 28px 40px}"
    "h1{font-size:26px;margin:0 0 2px}"
    "h2{font-size:19px;margin:34px 0 10px;padding-bottom:5px;border-bottom:1px solid #d8dee4}"
    "h3{font-size:15px;margin:18px 0 6px}"
    ".sub{color:#59636e;margin:0 0 10px}"
    "nav{font-size:14px;margin:10px 0 0}nav a{margin-right:16px}"
    "a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}"
    "table{border-collapse:collapse;margin:8px 0 10px;font-variant-numeric:tabular-nums}"
    "th,td{padding:5px 12px;border-bottom:1px solid #e5e8eb;text-align:left;"
    "vertical-align:top}"
    "thead th{background:#f6f8fa;border-bottom:2px solid #d0d7de;font-weight:600;"
    "white-space:nowrap}"
    "tbody th{font-weight:500;color:#59636e}"
    ".kv th,.kv td{padding:3px 12px}caption{text-align:left;font-weight:600;padding:0 0 4px}"
    ".num{text-align:right}td.ci{text-align:right;color:#59636e;white-space:nowrap}"
    "td.best{font-weight:700}tr.total th,tr.total td{border-top:2px solid #d0d7de}"
    "code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;"
    "font-size:13px}"
    "pre.cmd{background:#f6f8fa;padding:8px 12px;border-radius:6px;white-space:pre-wrap;"
    "word-break:break-all}"
    ".sha{word-break:break-all}"
    ".note{color:#59636e;font-size:13px;margin:4px 0}"
    ".warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px}"
    ".charts{display:flex;flex-wrap:wrap;gap:8px 32px;align-items:flex-start}"
    "svg{display:block;max-width:100%;height:auto;margin:6px 0}"
    "svg text{font-size:12px;fill:#1f2328}svg .t{font-size:14px;font-weight:600}"
    "svg .s{font-size:11px;fill:#59636e;font-weight:400}"
    "svg .pt{fill-opacity:.6}"
    ".legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px;padding:0;margin:4px 0;"
    "font-size:13px}"
    ".sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;"
    "vertical-align:-1px}"
    ".wide{overflow-x:auto}th.m{white-space:normal;min-width:100px;max-width:140px;"
    "overflow-wrap:break-word}.method,td.m,span.m{overflow-wrap:anywhere}"
    "table.sortable th{cursor:pointer}th .s{font-weight:400;color:#59636e;font-size:12px}"
    "details.user{border:1px solid #d8dee4;border-radius:6px;margin:6px 0;padding:4px 12px}"
    "details.user summary{cursor:pointer;font-weight:600}"
    "h4{font-size:14px;margin:14px 0 4px}h5{font-size:13px;margin:10px 0 2px}"
    "pre.text{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;padding:6px 10px;"
    "border-radius:6px;font-size:12px;margin:2px 0 6px}"
    "p.s{color:#59636e;font-size:12px;margin:6px 0 0}"
    "ul.ans,ul.fb{margin:0;padding-left:16px;font-size:13px}.ok{color:#1a7f37}.no{color:#cf222e}"
    ".err{color:#9a6700}td.input{max-width:420px;font-size:13px}"
    "ul.trace{font-size:12px;padding-left:16px}ul.trace ol{margin:2px 0 6px}"
    "footer{margin-top:36px;color:#59636e;font-size:12px}"
    "@media print{nav{display:none}}";

void htmlkit_page_begin(buf *b, const char *title)
{
    buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                "<meta name=\"generator\" content=\"persona-eval " PE_VERSION "\"><title>");
    svg_escape(b, title);
    buf_printf(b, "</title><style>%s</style></head>\n<body><main>\n", css);
}

void htmlkit_page_end(buf *b)
{
    char now[32];
    pe_utc_iso(now, sizeof now);
    buf_printf(b, "<footer>Generated by persona-eval %s at %s. Self-contained: no network "
                  "access, no external assets.</footer>\n</main></body></html>\n",
               PE_VERSION, now);
}

/* Sorting of table.sortable by a heading's column (cells' data-v, numbers
 * before text, empty cells last) and opening the <details> a link points to. */
const char htmlkit_script[] =
    "<script>document.querySelectorAll('table.sortable th').forEach(function(th,i){"
    "th.addEventListener('click',function(){var tb=th.closest('table').tBodies[0],"
    "rows=Array.prototype.slice.call(tb.rows),d=th.dataset.dir==='a'?-1:1;"
    "th.dataset.dir=d>0?'a':'d';rows.sort(function(a,b){var p=a.cells[i].dataset.v,"
    "q=b.cells[i].dataset.v;if(p===undefined||q===undefined)return(p===undefined)-"
    "(q===undefined);var m=Number(p),n=Number(q);return d*(isNaN(m)||isNaN(n)?"
    "p.localeCompare(q):m-n)});rows.forEach(function(r){tb.appendChild(r)})})});"
    "function peOpen(){var h=decodeURIComponent(location.hash.slice(1)),"
    "e=h&&document.getElementById(h);if(e&&e.tagName==='DETAILS')e.open=true}"
    "addEventListener('hashchange',peOpen);peOpen();</script>\n";

char *htmlkit_base_name(const char *path)
{
    size_t l = strlen(path);
    const char *s;
    char *t;
    while (l > 1 && path[l - 1] == '/')
        l--;
    t = xstrndup(path, l);
    s = strrchr(t, '/');
    if (s && s[1]) {
        char *r = xstrdup(s + 1);
        free(t);
        return r;
    }
    return t;
}

int htmlkit_has_file(const char *dir, const char *name)
{
    char *p = xasprintf("%s/%s", dir, name);
    int r = pe_file_exists(p);
    free(p);
    return r;
}

void htmlkit_summary_table(buf *b, const task *t, const report_row *rows, size_t n,
                           int with_run, const char *id)
{
    const char *names[2];
    int best[2] = {-1, -1};
    metrics_names(t, names);
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < n; i++) {
            int hib = metrics_higher_is_better(t, k);
            double v = rows[i].s->value[k];
            if (isnan(v))
                continue;
            double bv = best[k] < 0 ? NAN : rows[best[k]].s->value[k];
            if (best[k] < 0 || (hib ? v > bv : v < bv))
                best[k] = (int)i;
        }
    htmlkit_wrap(b, "<table class=\"summary\" id=\"", id, "\" data-task=\"");
    svg_escape(b, t->name);
    buf_printf(b, "\"><thead><tr>%s<th>method</th><th class=\"num\">n</th>"
                  "<th class=\"num\">users</th>",
               with_run ? "<th>run</th>" : "");
    for (size_t k = 0; k < 2; k++) {
        buf_adds(b, "<th class=\"num\">");
        svg_escape(b, names[k]);
        buf_printf(b, " %s</th><th class=\"num\">95%% interval</th>",
                   metrics_higher_is_better(t, k) ? "\xe2\x86\x91" : "\xe2\x86\x93");
    }
    buf_adds(b, "<th class=\"num\">invalid</th><th class=\"num\">errors</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        buf_adds(b, "<tr");
        if (with_run) {
            buf_adds(b, " data-run=\"");
            svg_escape(b, rows[i].run);
            buf_addc(b, '"');
        }
        htmlkit_wrap(b, " data-method=\"", rows[i].s->method, "\">");
        if (with_run) {
            htmlkit_wrap(b, "<td>", rows[i].run, "</td>");
        }
        buf_adds(b, "<td class=\"method\">");
        svg_escape(b, rows[i].s->method);
        buf_printf(b, "</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td>", rows[i].s->n,
                   rows[i].s->users);
        for (size_t k = 0; k < 2; k++) {
            buf_printf(b, "<td class=\"num%s\" data-metric=\"%s\"",
                       best[k] == (int)i && n > 1 ? " best" : "", names[k]);
            htmlkit_attr_num(b, "data-value", rows[i].s->value[k]);
            buf_addc(b, '>');
            htmlkit_fixed(b, rows[i].s->value[k], 3);
            buf_printf(b, "</td><td class=\"ci\" data-metric=\"%s\"", names[k]);
            htmlkit_attr_num(b, "data-lo", rows[i].s->lo[k]);
            htmlkit_attr_num(b, "data-hi", rows[i].s->hi[k]);
            buf_addc(b, '>');
            if (isnan(rows[i].s->lo[k]) || isnan(rows[i].s->hi[k])) {
                buf_adds(b, HTMLKIT_DASH);
            } else {
                buf_printf(b, "[%.3f, %.3f]", rows[i].s->lo[k], rows[i].s->hi[k]);
            }
            buf_adds(b, "</td>");
        }
        buf_printf(b, "<td class=\"num\">%zu</td><td class=\"num\">%zu</td></tr>",
                   rows[i].s->invalid,
                   rows[i].s->errors);
    }
    buf_adds(b, "</tbody></table>");
}

void htmlkit_interval_charts(buf *b, const task *t, const report_row *rows, size_t n,
                             int with_run, svg_colours *col)
{
    const char *names[2];
    chart_interval *ci = xcalloc(n ? n : 1, sizeof *ci);
    char **labels = xcalloc(n ? n : 1, sizeof *labels);
    metrics_names(t, names);
    for (size_t i = 0; i < n; i++)
        labels[i] = with_run ? xasprintf("%s \xc2\xb7 %s", rows[i].run, rows[i].s->method)
                         : xstrdup(rows[i].s->method);
    buf_adds(b, "<div class=\"charts\">");
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < n; i++) {
            ci[i].label = labels[i];
            ci[i].colour = svg_colour_of(col, rows[i].s->method);
            ci[i].v = rows[i].s->value[k];
            ci[i].lo = rows[i].s->lo[k];
            ci[i].hi = rows[i].s->hi[k];
        }
        chart_intervals(b, names[k], metrics_higher_is_better(t, k), !t->rating, ci, n);
    }
    buf_adds(b, "</div>");
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
    free(ci);
}
