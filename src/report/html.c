#include "html.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "jsonu.h"
#include "metrics.h"
#include "report.h"

/* Okabe-Ito colours (distinguishable with colour-blindness), then grey and black. */
static const char *const palette[] = {"#0072b2", "#e69f00", "#009e73", "#cc79a7",
                                      "#56b4e9", "#d55e00", "#7f7f7f", "#000000"};
#define NPAL (sizeof palette / sizeof palette[0])
#define MAX_CSV_BYTES ((size_t)256 << 20)
#define MAX_HEATMAP 150 /* users; a larger matrix would make the page unwieldy */
#define DASH "\xe2\x80\x94"
#define FFFD "\xef\xbf\xbd"

/* ---------------------------------------------------------------- escaping */

void html_escape(buf *b, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
            if (n > 1 && i + n <= len && pe_utf8_valid(s + i, n, NULL)) {
                buf_add(b, s + i, n);
                i += n;
            } else {
                buf_adds(b, FFFD);
                i++;
            }
            continue;
        }
        switch (c) {
        case '&': buf_adds(b, "&amp;"); break;
        case '<': buf_adds(b, "&lt;"); break;
        case '>': buf_adds(b, "&gt;"); break;
        case '"': buf_adds(b, "&quot;"); break;
        case '\'': buf_adds(b, "&#39;"); break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                buf_adds(b, FFFD);
            else
                buf_addc(b, (char)c);
        }
        i++;
    }
}

/* open, s escaped, close. */
static void wrap(buf *b, const char *open, const char *s, const char *close)
{
    buf_adds(b, open);
    html_escape(b, s);
    buf_adds(b, close);
}

/* At most max characters of s, escaped, with an ellipsis when cut. */
static void escape_trunc(buf *b, const char *s, size_t max)
{
    size_t i = 0, chars = 0;
    char *cut;
    while (s[i] && chars < max) {
        i++;
        while (((unsigned char)s[i] & 0xc0) == 0x80)
            i++;
        chars++;
    }
    if (!s[i]) {
        html_escape(b, s);
        return;
    }
    cut = xstrndup(s, i);
    html_escape(b, cut);
    buf_adds(b, "\xe2\x80\xa6");
    free(cut);
}

/* A relative URL: bytes outside the unreserved set (and '/') percent-encoded. */
static void url_path(buf *b, const char *s)
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

/* ------------------------------------------------------------------ numbers */

static void add_fixed(buf *b, double v, int prec)
{
    if (isnan(v))
        buf_adds(b, DASH);
    else
        buf_printf(b, "%.*f", prec, v);
}

/* An integer with thin grouping: 1234567 → "1,234,567". */
static void add_count(buf *b, double v)
{
    char d[32];
    size_t n, lead;
    if (isnan(v) || v < 0) {
        buf_adds(b, DASH);
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

static void add_cost(buf *b, double v)
{
    if (isnan(v) || v < 0)
        buf_adds(b, DASH);
    else
        buf_printf(b, "$%.4f", v);
}

/* data-* attribute with the shortest exact form (reads back to the same double). */
static void attr_num(buf *b, const char *name, double v)
{
    char x[64];
    if (isnan(v))
        return;
    pe_fmt_double(x, sizeof x, v);
    buf_printf(b, " %s=\"%s\"", name, x);
}

static int parse_num(const char *s, double *v)
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

static double json_num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* ---------------------------------------------------------------------- CSV */

typedef struct csv_row {
    char **f;
    size_t n;
} csv_row;

typedef struct csv_tab {
    csv_row *r;
    size_t n;
} csv_tab;

static void csv_free(csv_tab *t)
{
    for (size_t i = 0; i < t->n; i++) {
        for (size_t k = 0; k < t->r[i].n; k++)
            free(t->r[i].f[k]);
        free(t->r[i].f);
    }
    free(t->r);
    t->r = NULL;
    t->n = 0;
}

/* RFC 4180 with LF or CRLF line ends; blank lines are skipped. */
static int csv_parse(const char *path, const char *d, size_t len, csv_tab *t, pe_err *e)
{
    size_t i = 0, line = 1, cap = 0;
    memset(t, 0, sizeof *t);
    while (i < len) {
        csv_row row = {NULL, 0};
        size_t fcap = 0;
        if (d[i] == '\n' || d[i] == '\r') {
            line += d[i++] == '\n';
            continue;
        }
        for (;;) {
            buf f = BUF_INIT;
            if (i < len && d[i] == '"') {
                size_t qline = line;
                for (i++;; i++) {
                    if (i >= len) {
                        buf_free(&f);
                        t->r = xgrow(t->r, &cap, t->n + 1, sizeof *t->r);
                        t->r[t->n++] = row;
                        csv_free(t);
                        return pe_errf(e, PE_EXIT_DATA, "%s:%zu: unterminated quoted field",
                                       path, qline);
                    }
                    if (d[i] == '"' && i + 1 < len && d[i + 1] == '"') {
                        buf_addc(&f, '"');
                        i++;
                    } else if (d[i] == '"') {
                        i++;
                        break;
                    } else {
                        line += d[i] == '\n';
                        buf_addc(&f, d[i]);
                    }
                }
            }
            while (i < len && d[i] != ',' && d[i] != '\n' && d[i] != '\r')
                buf_addc(&f, d[i++]);
            row.f = xgrow(row.f, &fcap, row.n + 1, sizeof *row.f);
            row.f[row.n++] = buf_detach(&f);
            if (i < len && d[i] == ',') {
                i++;
                continue;
            }
            break;
        }
        if (i < len && d[i] == '\r')
            i++;
        if (i < len && d[i] == '\n') {
            i++;
            line++;
        }
        t->r = xgrow(t->r, &cap, t->n + 1, sizeof *t->r);
        t->r[t->n++] = row;
    }
    return 0;
}

static int csv_load(const char *dir, const char *name, csv_tab *t, pe_err *e)
{
    char *path = xasprintf("%s/%s", dir, name), *data;
    size_t len;
    int rc = pe_read_file(path, MAX_CSV_BYTES, &data, &len, e);
    memset(t, 0, sizeof *t);
    if (!rc) {
        rc = csv_parse(path, data, len, t, e);
        free(data);
    }
    free(path);
    return rc;
}

static cJSON *json_load(const char *dir, const char *name, pe_err *e)
{
    char *path = xasprintf("%s/%s", dir, name), *data;
    size_t len, off;
    cJSON *j = NULL;
    if (pe_read_file(path, MAX_CSV_BYTES, &data, &len, e) == 0) {
        j = jsonu_parse(data, len, &off);
        if (!j || !cJSON_IsObject(j)) {
            size_t l, c;
            jsonu_line_col(data, off, &l, &c);
            pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: not a JSON object", path, l, c);
            cJSON_Delete(j);
            j = NULL;
        }
        free(data);
    }
    free(path);
    return j;
}

/* ------------------------------------------------------------ method colours */

typedef struct colours {
    char **names;
    size_t n, cap;
} colours;

static const char *colour_of(colours *c, const char *method)
{
    size_t i;
    for (i = 0; i < c->n; i++)
        if (strcmp(c->names[i], method) == 0)
            break;
    if (i == c->n) {
        c->names = xgrow(c->names, &c->cap, c->n + 1, sizeof *c->names);
        c->names[c->n++] = xstrdup(method);
    }
    return palette[i % NPAL];
}

static void colours_free(colours *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->names[i]);
    free(c->names);
}

/* -------------------------------------------------------------------- axes */

typedef struct axis {
    double lo, hi, step;
    int decimals;
} axis;

/* Round [lo, hi] outwards to about target "nice" steps (1, 2 or 5 times a power of 10). */
static axis nice_axis(double lo, double hi, int target)
{
    axis a;
    double raw, mag, r;
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = 0;
        hi = 1;
    }
    if (hi - lo < 1e-12) {
        double pad = fabs(lo) > 1e-9 ? fabs(lo) * 0.1 : 0.5;
        lo -= pad;
        hi += pad;
    }
    raw = (hi - lo) / target;
    mag = pow(10, floor(log10(raw)));
    r = raw / mag;
    a.step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
    a.lo = floor(lo / a.step + 1e-9) * a.step;
    a.hi = ceil(hi / a.step - 1e-9) * a.step;
    a.decimals = a.step >= 1 ? 0 : (int)ceil(-log10(a.step) - 1e-9);
    return a;
}

static double ax_px(const axis *a, double v, double x0, double w)
{
    return x0 + (v - a->lo) / (a->hi - a->lo) * w;
}

/* Vertical grid lines and labels of a horizontal value axis. */
static void x_grid(buf *b, const axis *a, double x0, double w, double y0, double y1)
{
    for (double v = a->lo; v <= a->hi + a->step * 1e-6; v += a->step) {
        double x = ax_px(a, v, x0, w);
        buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e8eb\"/>"
                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"s\">%.*f</text>",
                   x, y0, x, y1, x, y1 + 15, a->decimals, fabs(v) < 1e-12 ? 0.0 : v);
    }
}

static void y_grid(buf *b, const axis *a, double y0, double h, double x0, double x1)
{
    for (double v = a->lo; v <= a->hi + a->step * 1e-6; v += a->step) {
        double y = y0 + h - (v - a->lo) / (a->hi - a->lo) * h;
        buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e8eb\"/>"
                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" class=\"s\">%.*f</text>",
                   x0, y, x1, y, x0 - 6, y + 4, a->decimals, fabs(v) < 1e-12 ? 0.0 : v);
    }
}

static void svg_begin(buf *b, double w, double h, const char *cls, const char *label)
{
    buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"%s\" width=\"%.0f\" "
                  "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
               cls, w, h, w, h);
    html_escape(b, label);
    buf_adds(b, "\">");
}

/* ------------------------------------------------------- interval plot */

typedef struct ci_row {
    const char *label;
    const char *colour;
    double v, lo, hi;
} ci_row;

/* One metric: a dot per row with its 95% interval as a line. */
static void svg_intervals(buf *b, const char *metric, int higher_better, int unit,
                          const ci_row *rows, size_t n)
{
    const double W = 480, L = 150, R = 24, T = 30, RH = 26;
    double H = T + (double)n * RH + 30, w = W - L - R, top = 0;
    axis a;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(rows[i].v) && rows[i].v > top)
            top = rows[i].v;
        if (!isnan(rows[i].hi) && rows[i].hi > top)
            top = rows[i].hi;
    }
    a = nice_axis(0, top > 0 ? top : 1, 5);
    if (unit && a.hi > 1)
        a = nice_axis(0, 1, 5);
    svg_begin(b, W, H, "intervals", metric);
    buf_printf(b, "<text x=\"%.0f\" y=\"18\" class=\"t\">", L);
    html_escape(b, metric);
    buf_printf(b, " %s <tspan class=\"s\">(%s is better; 95%% interval)</tspan></text>",
               higher_better ? "\xe2\x86\x91" : "\xe2\x86\x93", higher_better ? "higher" : "lower");
    x_grid(b, &a, L, w, T - 4, T + (double)n * RH);
    for (size_t i = 0; i < n; i++) {
        const ci_row *r = &rows[i];
        double y = T + (double)i * RH + RH / 2;
        buf_printf(b, "<g><title>");
        html_escape(b, r->label);
        buf_adds(b, ": ");
        add_fixed(b, r->v, 4);
        if (!isnan(r->lo)) {
            buf_adds(b, " [");
            add_fixed(b, r->lo, 4);
            buf_adds(b, ", ");
            add_fixed(b, r->hi, 4);
            buf_adds(b, "]");
        }
        buf_printf(b, "</title><text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", L - 10, y + 4);
        escape_trunc(b, r->label, 24);
        buf_adds(b, "</text>");
        if (!isnan(r->lo) && !isnan(r->hi)) {
            double x1 = ax_px(&a, r->lo, L, w), x2 = ax_px(&a, r->hi, L, w);
            buf_printf(b, "<path d=\"M%.1f %.1fv8M%.1f %.1fH%.1fM%.1f %.1fv8\" stroke=\"%s\" "
                          "stroke-width=\"2\" fill=\"none\"/>",
                       x1, y - 4, x1, y, x2, x2, y - 4, r->colour);
        }
        if (!isnan(r->v))
            buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>",
                       ax_px(&a, r->v, L, w), y, r->colour);
        buf_adds(b, "</g>");
    }
    buf_adds(b, "</svg>");
}

/* -------------------------------------------------------------- summary table */

static void summary_table(buf *b, const task *t, const method_summary *s, size_t n,
                          const char *const *runs, const char *id)
{
    const char *names[2];
    int best[2] = {-1, -1};
    metrics_names(t, names);
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < n; i++) {
            int hib = metrics_higher_is_better(t, k);
            double v = s[i].value[k];
            if (isnan(v))
                continue;
            if (best[k] < 0 || (hib ? v > s[best[k]].value[k] : v < s[best[k]].value[k]))
                best[k] = (int)i;
        }
    wrap(b, "<table class=\"summary\" id=\"", id, "\" data-task=\"");
    html_escape(b, t->name);
    buf_printf(b, "\"><thead><tr>%s<th>method</th><th class=\"num\">n</th>"
                  "<th class=\"num\">users</th>",
               runs ? "<th>run</th>" : "");
    for (size_t k = 0; k < 2; k++) {
        buf_adds(b, "<th class=\"num\">");
        html_escape(b, names[k]);
        buf_printf(b, " %s</th><th class=\"num\">95%% interval</th>",
                   metrics_higher_is_better(t, k) ? "\xe2\x86\x91" : "\xe2\x86\x93");
    }
    buf_adds(b, "<th class=\"num\">invalid</th><th class=\"num\">errors</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        buf_adds(b, "<tr");
        if (runs) {
            buf_adds(b, " data-run=\"");
            html_escape(b, runs[i]);
            buf_addc(b, '"');
        }
        wrap(b, " data-method=\"", s[i].method, "\">");
        if (runs) {
            wrap(b, "<td>", runs[i], "</td>");
        }
        buf_adds(b, "<td class=\"method\">");
        html_escape(b, s[i].method);
        buf_printf(b, "</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td>", s[i].n,
                   s[i].users);
        for (size_t k = 0; k < 2; k++) {
            buf_printf(b, "<td class=\"num%s\" data-metric=\"%s\"",
                       best[k] == (int)i && n > 1 ? " best" : "", names[k]);
            attr_num(b, "data-value", s[i].value[k]);
            buf_addc(b, '>');
            add_fixed(b, s[i].value[k], 3);
            buf_printf(b, "</td><td class=\"ci\" data-metric=\"%s\"", names[k]);
            attr_num(b, "data-lo", s[i].lo[k]);
            attr_num(b, "data-hi", s[i].hi[k]);
            buf_addc(b, '>');
            if (isnan(s[i].lo[k]) || isnan(s[i].hi[k])) {
                buf_adds(b, DASH);
            } else {
                buf_printf(b, "[%.3f, %.3f]", s[i].lo[k], s[i].hi[k]);
            }
            buf_adds(b, "</td>");
        }
        buf_printf(b, "<td class=\"num\">%zu</td><td class=\"num\">%zu</td></tr>", s[i].invalid,
                   s[i].errors);
    }
    buf_adds(b, "</tbody></table>");
}

static void interval_charts(buf *b, const task *t, const method_summary *s, size_t n,
                            const char *const *runs, colours *col)
{
    const char *names[2];
    ci_row *rows = xcalloc(n ? n : 1, sizeof *rows);
    char **labels = xcalloc(n ? n : 1, sizeof *labels);
    metrics_names(t, names);
    for (size_t i = 0; i < n; i++)
        labels[i] = runs ? xasprintf("%s \xc2\xb7 %s", runs[i], s[i].method)
                         : xstrdup(s[i].method);
    buf_adds(b, "<div class=\"charts\">");
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < n; i++) {
            rows[i].label = labels[i];
            rows[i].colour = colour_of(col, s[i].method);
            rows[i].v = s[i].value[k];
            rows[i].lo = s[i].lo[k];
            rows[i].hi = s[i].hi[k];
        }
        svg_intervals(b, names[k], metrics_higher_is_better(t, k), !t->rating, rows, n);
    }
    buf_adds(b, "</div>");
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
    free(rows);
}

/* --------------------------------------------------- per-user distribution */

typedef struct dist {
    char *method;
    double *v;
    char **user;
    size_t n, vcap, ucap, missing;
} dist;

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, c = *(const double *)y;
    return a < c ? -1 : a > c;
}

/* numpy's default percentile: linear interpolation between order statistics. */
static double quantile(const double *sorted, size_t n, double q)
{
    double pos = q * (double)(n - 1), f = floor(pos);
    size_t i = (size_t)f;
    if (i + 1 >= n)
        return sorted[n - 1];
    return sorted[i] + (pos - f) * (sorted[i + 1] - sorted[i]);
}

static void svg_distribution(buf *b, const char *metric, int unit, dist *d, size_t nd,
                             colours *col)
{
    const double W = 820, L = 170, R = 30, T = 8, RH = 50;
    double H = T + (double)nd * RH + 34, w = W - L - R, top = 0;
    axis a;
    for (size_t i = 0; i < nd; i++)
        for (size_t k = 0; k < d[i].n; k++)
            if (d[i].v[k] > top)
                top = d[i].v[k];
    a = unit ? nice_axis(0, 1, 10) : nice_axis(0, top > 0 ? top : 1, 8);
    svg_begin(b, W, H, "dist", metric);
    x_grid(b, &a, L, w, T, T + (double)nd * RH);
    for (size_t i = 0; i < nd; i++) {
        dist *m = &d[i];
        const char *c = colour_of(col, m->method);
        double yc = T + (double)i * RH + RH / 2;
        double *sv = xmalloc((m->n ? m->n : 1) * sizeof *sv);
        buf_printf(b, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", L - 12, yc - 2);
        escape_trunc(b, m->method, 24);
        buf_printf(b, "</text><text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" class=\"s\">"
                      "%zu users</text>",
                   L - 12, yc + 12, m->n);
        if (i)
            buf_printf(b, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
                          "stroke=\"#f0f2f4\"/>",
                       L, yc - RH / 2, L + w, yc - RH / 2);
        if (m->n) /* no user has a score when every query ended in error */
            memcpy(sv, m->v, m->n * sizeof *sv);
        qsort(sv, m->n, sizeof *sv, cmp_double);
        if (m->n) {
            double q1 = quantile(sv, m->n, 0.25), med = quantile(sv, m->n, 0.5),
                   q3 = quantile(sv, m->n, 0.75);
            double xmin = ax_px(&a, sv[0], L, w), xmax = ax_px(&a, sv[m->n - 1], L, w);
            double x1 = ax_px(&a, q1, L, w), x3 = ax_px(&a, q3, L, w);
            buf_printf(b, "<g><title>");
            html_escape(b, m->method);
            buf_printf(b, ": median %.3f, quartiles %.3f\xe2\x80\x93%.3f, range %.3f\xe2\x80\x93"
                          "%.3f</title>",
                       med, q1, q3, sv[0], sv[m->n - 1]);
            buf_printf(b, "<path d=\"M%.1f %.1fH%.1fM%.1f %.1fH%.1fM%.1f %.1fv10M%.1f %.1fv10\" "
                          "stroke=\"%s\" stroke-width=\"1.5\"/>",
                       xmin, yc, x1, x3, yc, xmax, xmin, yc - 5, xmax, yc - 5, c);
            buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"20\" fill=\"%s\" "
                          "fill-opacity=\"0.15\" stroke=\"%s\" stroke-width=\"1.5\"/>",
                       x1, yc - 10, x3 - x1 > 1 ? x3 - x1 : 1, c, c);
            buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                          "stroke-width=\"3\"/></g>",
                       ax_px(&a, med, L, w), yc - 10, ax_px(&a, med, L, w), yc + 10, c);
        }
        for (size_t k = 0; k < m->n; k++) {
            /* deterministic jitter so that equal values stay visible */
            double j = (double)(pe_hash64(m->user[k], strlen(m->user[k]), 7) % 1000) / 999.0;
            buf_printf(b, "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\">"
                          "<title>",
                       ax_px(&a, m->v[k], L, w), yc - 14 + 28 * j, c);
            html_escape(b, m->user[k]);
            buf_printf(b, ": %.4f</title></circle>", m->v[k]);
        }
        free(sv);
    }
    buf_adds(b, "</svg>");
}

static void section_users(buf *b, const char *dir, const task *t, const method_summary *s,
                          size_t ns, colours *col)
{
    const char *names[2];
    csv_tab tab;
    pe_err e = {0};
    dist *d = NULL;
    size_t nd = 0, cap = 0, vcol = 5;
    metrics_names(t, names);
    wrap(b, "<section id=\"users\"><h2>Per-user ", names[0], "</h2>");
    if (csv_load(dir, "users.csv", &tab, &e)) {
        wrap(b, "<p class=\"note\">No per-user results: ", e.msg, "</p></section>");
        return;
    }
    if (tab.n > 0)
        for (size_t k = 0; k < tab.r[0].n; k++)
            if (strcmp(tab.r[0].f[k], names[0]) == 0)
                vcol = k;
    /* methods in the summary's order, then any others as they appear */
    for (size_t i = 0; i < ns; i++) {
        d = xgrow(d, &cap, nd + 1, sizeof *d);
        memset(&d[nd], 0, sizeof *d);
        d[nd++].method = xstrdup(s[i].method);
    }
    for (size_t r = 1; r < tab.n; r++) {
        const csv_row *row = &tab.r[r];
        double v;
        size_t i;
        if (row->n < 2)
            continue;
        for (i = 0; i < nd; i++)
            if (strcmp(d[i].method, row->f[0]) == 0)
                break;
        if (i == nd) {
            d = xgrow(d, &cap, nd + 1, sizeof *d);
            memset(&d[nd], 0, sizeof *d);
            d[nd++].method = xstrdup(row->f[0]);
        }
        if (vcol < row->n && parse_num(row->f[vcol], &v)) {
            d[i].v = xgrow(d[i].v, &d[i].vcap, d[i].n + 1, sizeof *d[i].v);
            d[i].user = xgrow(d[i].user, &d[i].ucap, d[i].n + 1, sizeof *d[i].user);
            d[i].v[d[i].n] = v;
            d[i].user[d[i].n++] = xstrdup(row->f[1]);
        } else {
            d[i].missing++;
        }
    }
    buf_adds(b, "<p class=\"note\">One dot per user: the user's ");
    html_escape(b, names[0]);
    buf_adds(b, " over their own queries (hover for the user id). The box spans the quartiles "
                "with the median marked; the whiskers span the range.</p>");
    svg_distribution(b, names[0], !t->rating, d, nd, col);
    for (size_t i = 0; i < nd; i++)
        if (d[i].missing) {
            buf_adds(b, "<p class=\"note\">");
            html_escape(b, d[i].method);
            buf_printf(b, ": %zu user(s) without a scored query are not shown.</p>",
                       d[i].missing);
        }
    buf_adds(b, "</section>");
    for (size_t i = 0; i < nd; i++) {
        for (size_t k = 0; k < d[i].n; k++)
            free(d[i].user[k]);
        free(d[i].user);
        free(d[i].v);
        free(d[i].method);
    }
    free(d);
    csv_free(&tab);
}

/* ---------------------------------------------------------- tokens and cost */

static void stat_cell(buf *b, const cJSON *stats, const char *key, int cost)
{
    double v = json_num(stats, key);
    buf_adds(b, "<td class=\"num\">");
    if (cost)
        add_cost(b, v);
    else
        add_count(b, v);
    buf_adds(b, "</td>");
}

typedef struct usage {
    const char *method;
    size_t queries, errors;
    double calls, prompt, completion, cost, latency;
    int has_prompt, has_completion, has_cost;
} usage;

static void section_cost(buf *b, const char *dir, const cJSON *run)
{
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(run, "stats");
    static const char *const keys[] = {"calls", "prompt_tokens", "completion_tokens",
                                       "cost_usd"};
    pred_record *recs = NULL;
    size_t nrec = 0;
    pe_err e = {0};
    usage *u = NULL;
    size_t nu = 0, cap = 0;

    buf_adds(b, "<section id=\"cost\"><h2>Tokens and cost</h2><table id=\"cost-table\"><thead>"
                "<tr><th></th><th class=\"num\">LLM calls</th><th class=\"num\">prompt tokens"
                "</th><th class=\"num\">completion tokens</th><th class=\"num\">cost (USD)</th>"
                "<th class=\"num\">mean latency (s)</th></tr></thead><tbody>");
    if (report_load_predictions(dir, &recs, &nrec, NULL, &e) == 0) {
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
            wrap(b, "<tr><td class=\"method\">", u[k].method, "</td><td class=\"num\">");
            add_count(b, u[k].calls);
            buf_adds(b, "</td><td class=\"num\">");
            add_count(b, u[k].has_prompt ? u[k].prompt : NAN);
            buf_adds(b, "</td><td class=\"num\">");
            add_count(b, u[k].has_completion ? u[k].completion : NAN);
            buf_adds(b, "</td><td class=\"num\">");
            add_cost(b, u[k].has_cost ? u[k].cost : NAN);
            buf_printf(b, "</td><td class=\"num\">%.3f</td></tr>",
                       u[k].latency / (double)u[k].queries);
        }
    }
    buf_adds(b, "<tr class=\"total\"><th>total (run.json)</th>");
    for (size_t k = 0; k < 4; k++)
        stat_cell(b, stats, keys[k], k == 3);
    buf_printf(b, "<td class=\"num\">%s</td></tr></tbody></table>", DASH);
    buf_adds(b, "<p class=\"note\">" DASH " : not reported (the endpoint gave no usage, or the "
                "run has no run.json).");
    if (!cJSON_IsObject(stats))
        buf_adds(b, " Totals unknown: run.json has no \"stats\".");
    if (e.code) {
        buf_adds(b, " Per-method usage unavailable: ");
        html_escape(b, e.msg);
    }
    buf_adds(b, "</p></section>");
    free(u);
    report_free_predictions(recs, nrec);
}

/* ------------------------------------------------------------------ sweeps */

typedef struct series {
    const char *method;
    double *y; /* per x index; NAN when absent */
} series;

static void svg_sweep(buf *b, const char *param, const char *metric, char **xs, const double *xv,
                      int numeric, size_t nx, const series *se, size_t ns, colours *col)
{
    const double W = 480, H = 300, L = 56, R = 20, T = 30, B = 46;
    double w = W - L - R, h = H - T - B, ylo = INFINITY, yhi = -INFINITY, *px;
    axis ya, xa = {0, 1, 1, 0};
    buf label = BUF_INIT;
    for (size_t s = 0; s < ns; s++)
        for (size_t i = 0; i < nx; i++)
            if (!isnan(se[s].y[i])) {
                ylo = fmin(ylo, se[s].y[i]);
                yhi = fmax(yhi, se[s].y[i]);
            }
    if (ylo > yhi)
        ylo = 0, yhi = 1;
    ya = nice_axis(ylo, yhi, 5);
    if (numeric && nx > 0) {
        double lo = xv[0], hi = xv[0];
        for (size_t i = 1; i < nx; i++)
            lo = fmin(lo, xv[i]), hi = fmax(hi, xv[i]);
        xa = nice_axis(lo, hi, 6);
    }
    buf_printf(&label, "%s vs %s", metric, param);
    svg_begin(b, W, H, "sweep", buf_str(&label));
    buf_free(&label);
    buf_printf(b, "<text x=\"%.0f\" y=\"18\" class=\"t\">", L);
    html_escape(b, metric);
    wrap(b, " <tspan class=\"s\">vs</tspan> ", param, "</text>");
    y_grid(b, &ya, T, h, L, L + w);
    if (numeric) {
        x_grid(b, &xa, L, w, T, T + h);
    } else {
        for (size_t i = 0; i < nx; i++) {
            double x = L + (nx > 1 ? (double)i / (double)(nx - 1) * w : w / 2);
            buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"s\">", x,
                       T + h + 15);
            escape_trunc(b, xs[i], 12);
            buf_adds(b, "</text>");
        }
    }
    buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"s\">", L + w / 2,
               H - 8);
    html_escape(b, param);
    buf_adds(b, "</text>");
    px = xmalloc((nx ? nx : 1) * sizeof *px);
    for (size_t i = 0; i < nx; i++)
        px[i] = numeric ? ax_px(&xa, xv[i], L, w)
                        : L + (nx > 1 ? (double)i / (double)(nx - 1) * w : w / 2);
    for (size_t s = 0; s < ns; s++) {
        const char *c = colour_of(col, se[s].method);
        int pen = 0;
        buf_printf(b, "<g><path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"", c);
        for (size_t i = 0; i < nx; i++)
            if (!isnan(se[s].y[i])) {
                buf_printf(b, "%s%.1f %.1f", pen ? "L" : "M", px[i],
                           T + h - (se[s].y[i] - ya.lo) / (ya.hi - ya.lo) * h);
                pen = 1;
            }
        buf_adds(b, "\"/>");
        for (size_t i = 0; i < nx; i++) {
            if (isnan(se[s].y[i]))
                continue;
            buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>", px[i],
                       T + h - (se[s].y[i] - ya.lo) / (ya.hi - ya.lo) * h, c);
            html_escape(b, se[s].method);
            wrap(b, ", ", param, " = ");
            html_escape(b, xs[i]);
            buf_printf(b, ": %.4f</title></circle>", se[s].y[i]);
        }
        buf_adds(b, "</g>");
    }
    buf_adds(b, "</svg>");
    free(px);
}

static void legend(buf *b, const char *const *methods, size_t n, colours *col)
{
    buf_adds(b, "<ul class=\"legend\">");
    for (size_t i = 0; i < n; i++) {
        buf_printf(b, "<li><span class=\"sw\" style=\"background:%s\"></span>",
                   colour_of(col, methods[i]));
        html_escape(b, methods[i]);
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

/* One sweep parameter: a chart per metric column, a line per method. */
static void sweep_param(buf *b, const csv_tab *tab, const char *param, colours *col)
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
        numeric &= parse_num(xs[i], &xv[i]);
    /* numeric values in ascending order */
    if (numeric)
        for (size_t i = 1; i < nx; i++)
            for (size_t j = i; j > 0 && xv[j - 1] > xv[j]; j--) {
                double tv = xv[j];
                const char *ts = xs[j];
                xv[j] = xv[j - 1], xs[j] = xs[j - 1];
                xv[j - 1] = tv, xs[j - 1] = ts;
            }
    wrap(b, "<h3>", param, "</h3>");
    legend(b, ms, nm, col);
    buf_adds(b, "<div class=\"charts\">");
    for (size_t m = 3; m < hdr->n; m++) {
        series *se = xcalloc(nm ? nm : 1, sizeof *se);
        for (size_t s = 0; s < nm; s++) {
            se[s].method = ms[s];
            se[s].y = xmalloc((nx ? nx : 1) * sizeof *se[s].y);
            for (size_t i = 0; i < nx; i++)
                se[s].y[i] = NAN;
        }
        for (size_t r = 1; r < tab->n; r++) {
            const csv_row *row = &tab->r[r];
            double y;
            size_t xi, mi;
            if (row->n <= m || strcmp(row->f[0], param) != 0 || !parse_num(row->f[m], &y))
                continue;
            for (xi = 0; xi < nx && strcmp(xs[xi], row->f[1]) != 0; xi++)
                ;
            for (mi = 0; mi < nm && strcmp(ms[mi], row->f[2]) != 0; mi++)
                ;
            se[mi].y[xi] = y;
        }
        svg_sweep(b, param, hdr->f[m], (char **)xs, xv, numeric, nx, se, nm, col);
        for (size_t s = 0; s < nm; s++)
            free(se[s].y);
        free(se);
    }
    buf_adds(b, "</div>");
    free(xv);
    free(xs);
    free(ms);
}

static int has_file(const char *dir, const char *name)
{
    char *p = xasprintf("%s/%s", dir, name);
    int r = pe_file_exists(p);
    free(p);
    return r;
}

/* Open the section of an optional CSV file: 0 when the file is absent (no
 * section) or unreadable (a section with the error, closed); 1 when loaded. */
static int optional_csv(buf *b, const char *dir, const char *name, const char *id,
                        const char *heading, csv_tab *tab)
{
    pe_err e = {0};
    if (!has_file(dir, name))
        return 0;
    buf_printf(b, "<section id=\"%s\"><h2>%s</h2>", id, heading);
    if (csv_load(dir, name, tab, &e)) {
        wrap(b, "<p class=\"note\">", e.msg, "</p></section>");
        return 0;
    }
    return 1;
}

static void section_sweep(buf *b, const char *dir, colours *col)
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

/* ----------------------------------------------------------------- heatmap */

/* A light-to-dark blue ramp over [0, 1]. */
static void ramp(double v, int rgb[3])
{
    static const int stops[3][3] = {{247, 251, 255}, {107, 174, 214}, {8, 48, 107}};
    int s = v < 0.5 ? 0 : 1;
    double f = v < 0.5 ? v / 0.5 : (v - 0.5) / 0.5;
    if (f < 0)
        f = 0;
    if (f > 1)
        f = 1;
    for (int k = 0; k < 3; k++)
        rgb[k] = (int)lround(stops[s][k] + f * (stops[s + 1][k] - stops[s][k]));
}

static void svg_heatmap(buf *b, const csv_tab *tab, size_t n)
{
    double cs = 560.0 / (double)n, lab, W, H, lo = 0, hi = 1;
    int show_labels, show_values;
    if (cs > 30)
        cs = 30;
    if (cs < 4)
        cs = 4;
    show_labels = cs >= 8;
    show_values = cs >= 26;
    lab = show_labels ? 90 : 10;
    W = lab + cs * (double)n + 90;
    H = lab + cs * (double)n + 10;
    for (size_t i = 1; i <= n; i++)
        for (size_t k = 1; k <= n; k++) {
            double v;
            if (parse_num(tab->r[i].f[k], &v))
                lo = fmin(lo, v), hi = fmax(hi, v);
        }
    svg_begin(b, W, H, "heatmap", "persona similarity heatmap");
    buf_adds(b, "<defs><linearGradient id=\"hm-ramp\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">");
    for (int s = 0; s <= 4; s++) {
        int rgb[3];
        ramp(s / 4.0, rgb);
        buf_printf(b, "<stop offset=\"%d%%\" stop-color=\"rgb(%d,%d,%d)\"/>", s * 25, rgb[0],
                   rgb[1], rgb[2]);
    }
    buf_adds(b, "</linearGradient></defs>");
    for (size_t i = 1; i <= n; i++) {
        double y = lab + cs * (double)(i - 1);
        if (show_labels) {
            double fs = cs - 2 < 11 ? cs - 2 : 11;
            buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                          "style=\"font-size:%.0fpx\">",
                       lab - 4, y + cs / 2 + fs / 3, fs);
            escape_trunc(b, tab->r[i].f[0], 12);
            buf_printf(b, "</text><text transform=\"translate(%.1f %.1f) rotate(-90)\" "
                          "style=\"font-size:%.0fpx\">",
                       y + cs / 2 + fs / 3, lab - 4, fs);
            escape_trunc(b, tab->r[0].f[i], 12);
            buf_adds(b, "</text>");
        }
        for (size_t k = 1; k <= n; k++) {
            double v, x = lab + cs * (double)(k - 1);
            int rgb[3] = {221, 221, 221}, ok = parse_num(tab->r[i].f[k], &v);
            if (ok)
                ramp((v - lo) / (hi - lo), rgb);
            buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                          "fill=\"rgb(%d,%d,%d)\"><title>",
                       x, y, cs, cs, rgb[0], rgb[1], rgb[2]);
            html_escape(b, tab->r[i].f[0]);
            wrap(b, " \xc3\x97 ", tab->r[0].f[k], ": ");
            if (ok)
                buf_printf(b, "%.3f", v);
            else
                buf_adds(b, "no value");
            buf_adds(b, "</title></rect>");
            if (ok && show_values)
                buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                              "style=\"font-size:10px;fill:%s\">%.2f</text>",
                           x + cs / 2, y + cs / 2 + 3.5,
                           (v - lo) / (hi - lo) > 0.55 ? "#fff" : "#1f2328", v);
        }
    }
    {
        double gx = lab + cs * (double)n + 20, gh = cs * (double)n < 200 ? cs * (double)n : 200;
        buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"%.1f\" "
                      "fill=\"url(#hm-ramp)\" stroke=\"#d0d7de\"/>"
                      "<text x=\"%.1f\" y=\"%.1f\" class=\"s\">%.2f</text>"
                      "<text x=\"%.1f\" y=\"%.1f\" class=\"s\">%.2f</text>",
                   gx, lab, gh, gx + 20, lab + 9, hi, gx + 20, lab + gh, lo);
    }
    buf_adds(b, "</svg>");
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
        svg_heatmap(b, &tab, n);
    }
    buf_adds(b, "</section>");
    csv_free(&tab);
}

/* ---------------------------------------------------------------- settings */

static void json_value(buf *b, const cJSON *v)
{
    if (!v || cJSON_IsNull(v)) {
        buf_adds(b, DASH);
    } else if (cJSON_IsString(v)) {
        html_escape(b, v->valuestring);
    } else if (cJSON_IsBool(v)) {
        buf_adds(b, cJSON_IsTrue(v) ? "yes" : "no");
    } else if (cJSON_IsNumber(v) && v->valuedouble != floor(v->valuedouble)) {
        buf_printf(b, "%.6g", v->valuedouble);
    } else if (cJSON_IsNumber(v)) {
        char *t = jsonu_text(v);
        html_escape(b, t);
        free(t);
    } else if (cJSON_IsArray(v)) {
        const cJSON *x;
        int first = 1;
        if (!cJSON_GetArraySize(v))
            buf_adds(b, DASH);
        cJSON_ArrayForEach(x, v)
        {
            if (!first)
                buf_adds(b, ", ");
            json_value(b, x);
            first = 0;
        }
    } else {
        char *t = jsonu_print(v);
        wrap(b, "<code>", t, "</code>");
        free(t);
    }
}

static void kv_row(buf *b, const char *key, const cJSON *v)
{
    wrap(b, "<tr><th>", key, "</th><td>");
    json_value(b, v);
    buf_adds(b, "</td></tr>");
}

static void section_settings(buf *b, const cJSON *run, const cJSON *sum, const char *run_err)
{
    static const char *const top[] = {"task", "methods", "started", "finished", "wall_s",
                                       "incomplete", "version", "git_revision"};
    const cJSON *o, *x;
    buf_adds(b, "<section id=\"settings\"><h2>Run settings</h2>");
    if (!run) {
        wrap(b, "<p class=\"note\">Settings unknown: ", run_err, "</p>");
    }
    buf_adds(b, "<div class=\"charts\"><table class=\"kv\"><caption>Run</caption><tbody>");
    for (size_t i = 0; run && i < sizeof top / sizeof top[0]; i++)
        if (cJSON_GetObjectItemCaseSensitive(run, top[i]))
            kv_row(b, top[i], cJSON_GetObjectItemCaseSensitive(run, top[i]));
    o = cJSON_GetObjectItemCaseSensitive(sum, "bootstrap");
    if (cJSON_IsObject(o)) {
        kv_row(b, "bootstrap draws", cJSON_GetObjectItemCaseSensitive(o, "B"));
        kv_row(b, "bootstrap seed", cJSON_GetObjectItemCaseSensitive(o, "seed"));
    }
    buf_adds(b, "</tbody></table><table class=\"kv\"><caption>Options</caption><tbody>");
    o = cJSON_GetObjectItemCaseSensitive(run, "settings");
    cJSON_ArrayForEach(x, (cJSON_IsObject(o) ? o : NULL)) kv_row(b, x->string, x);
    buf_adds(b, "</tbody></table><table class=\"kv\"><caption>Counts and libraries</caption>"
                "<tbody>");
    o = cJSON_GetObjectItemCaseSensitive(run, "counts");
    cJSON_ArrayForEach(x, (cJSON_IsObject(o) ? o : NULL)) kv_row(b, x->string, x);
    o = cJSON_GetObjectItemCaseSensitive(run, "libraries");
    cJSON_ArrayForEach(x, (cJSON_IsObject(o) ? o : NULL)) kv_row(b, x->string, x);
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
                html_escape(b, s);
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
                html_escape(b, buf_str(&q));
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
        cJSON_ArrayForEach(x, o)
        {
            buf_adds(b, "<tr><td class=\"mono\">");
            json_value(b, cJSON_GetObjectItemCaseSensitive(x, "path"));
            buf_adds(b, "</td><td>");
            json_value(b, cJSON_GetObjectItemCaseSensitive(x, "format"));
            buf_adds(b, "</td><td class=\"mono sha\">");
            json_value(b, cJSON_GetObjectItemCaseSensitive(x, "sha256"));
            buf_adds(b, "</td></tr>");
        }
        buf_adds(b, "</tbody></table>");
    }
    buf_adds(b, "</section>");
}

/* ------------------------------------------------------------------- files */

static const char *const raw_files[][2] = {
    {"summary.json", "per-method metrics and intervals"},
    {"summary.csv", "the summary as CSV"},
    {"summary.md", "the summary as a Markdown table"},
    {"users.csv", "per-method, per-user metrics"},
    {"predictions.jsonl", "one line per query and method"},
    {"run.json", "settings, versions, data files, counts, timings"},
    {"traces.jsonl", "agent steps"},
    {"personas.jsonl", "persona evolution"},
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

/* -------------------------------------------------------------------- page */

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
    "footer{margin-top:36px;color:#59636e;font-size:12px}"
    "@media print{nav{display:none}}";

static void page_begin(buf *b, const char *title)
{
    buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                "<meta name=\"generator\" content=\"persona-eval " PE_VERSION "\"><title>");
    html_escape(b, title);
    buf_printf(b, "</title><style>%s</style></head>\n<body><main>\n", css);
}

static void page_end(buf *b)
{
    char now[32];
    pe_utc_iso(now, sizeof now);
    buf_printf(b, "<footer>Generated by persona-eval %s at %s. Self-contained: no scripts, "
                  "no external assets.</footer>\n</main></body></html>\n",
               PE_VERSION, now);
}

static char *base_name(const char *path)
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

static void method_names(const method_summary *s, size_t n, colours *col)
{
    for (size_t i = 0; i < n; i++)
        colour_of(col, s[i].method);
}

static int write_page(const char *path, const buf *b, pe_err *e)
{
    return pe_write_atomic(path, buf_str(b), b->len, e);
}

int html_write_run(const char *dir, pe_err *e)
{
    const task *t;
    method_summary *s;
    size_t ns;
    pe_err re = {0}, se = {0};
    cJSON *run, *sum;
    buf b = BUF_INIT, title = BUF_INIT;
    colours col = {NULL, 0, 0};
    char *name, *path;
    const char *started, *finished;
    int rc = report_read_summary(dir, &t, &s, &ns, e);

    if (rc)
        return rc;
    run = json_load(dir, "run.json", &re);
    sum = json_load(dir, "summary.json", &se);
    name = base_name(dir);
    method_names(s, ns, &col);
    buf_printf(&title, "persona-eval %s: %s", t->name, name);
    page_begin(&b, buf_str(&title));
    buf_adds(&b, "<header><h1>persona-eval ");
    html_escape(&b, t->name);
    buf_adds(&b, " <span class=\"sub\">");
    html_escape(&b, name);
    buf_adds(&b, "</span></h1><p class=\"sub\">");
    started = jsonu_str(run, "started");
    finished = jsonu_str(run, "finished");
    if (started) {
        buf_adds(&b, "Started ");
        html_escape(&b, started);
        if (finished) {
            buf_adds(&b, ", finished ");
            html_escape(&b, finished);
        }
        buf_adds(&b, ". ");
    }
    buf_printf(&b, "%zu method(s)", ns);
    if (!isnan(json_num(sum, "n_users")))
        buf_printf(&b, ", %.0f users", json_num(sum, "n_users"));
    buf_adds(&b, ".</p><nav><a href=\"#summary\">Summary</a><a href=\"#users\">Per user</a>"
                 "<a href=\"#cost\">Tokens and cost</a>");
    if (has_file(dir, "sweep.csv"))
        buf_adds(&b, "<a href=\"#sweep\">Sweeps</a>");
    if (has_file(dir, "personas_jaccard.csv"))
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
            html_escape(&b, jsonu_str(llm, "note") ? jsonu_str(llm, "note")
                                                   : "the offline responder");
            buf_adds(&b, "; these numbers say nothing about any model.</p>");
        } else if (backend && model) {
            buf_adds(&b, "<p class=\"sub\">Model <strong>");
            html_escape(&b, model);
            buf_adds(&b, "</strong>");
            if (endpoint) {
                buf_adds(&b, " at ");
                html_escape(&b, endpoint);
            }
            buf_adds(&b, ".</p>");
        }
    }
    buf_adds(&b, "<section id=\"summary\"><h2>Summary</h2>");
    summary_table(&b, t, s, ns, NULL, "summary-table");
    buf_printf(&b, "<p class=\"note\">%s pooled over all queries; 95%% percentile bootstrap "
                   "intervals over queries. <strong>Bold</strong>: the best method.</p>",
               t->rating ? "MAE and RMSE (lower is better)"
                         : "Accuracy and macro-F1 (higher is better)");
    interval_charts(&b, t, s, ns, NULL, &col);
    buf_adds(&b, "</section>\n");
    section_users(&b, dir, t, s, ns, &col);
    buf_addc(&b, '\n');
    section_cost(&b, dir, run);
    buf_addc(&b, '\n');
    section_sweep(&b, dir, &col);
    section_heatmap(&b, dir);
    section_settings(&b, run, sum, re.msg);
    buf_addc(&b, '\n');
    section_files(&b, dir);
    page_end(&b);

    path = xasprintf("%s/report.html", dir);
    rc = write_page(path, &b, e);
    free(path);
    free(name);
    buf_free(&b);
    buf_free(&title);
    colours_free(&col);
    cJSON_Delete(run);
    cJSON_Delete(sum);
    report_free_summaries(s, ns);
    return rc;
}

/* ------------------------------------------------------------- comparison */

/* The href from the folder holding out_path to dir/file: relative when both
 * resolve, else dir as given. */
static void rel_href(buf *b, const char *out_path, const char *dir, const char *file)
{
    char *od = xstrdup(out_path), *slash = strrchr(od, '/');
    char from[PATH_MAX], to[PATH_MAX];
    if (slash)
        slash[slash == od ? 1 : 0] = '\0';
    if (realpath(slash ? od : ".", from) && realpath(dir, to)) {
        size_t i = 0, common = 0;
        /* longest common prefix ending at a path boundary */
        while (from[i] && from[i] == to[i]) {
            i++;
            if ((from[i] == '/' || !from[i]) && (to[i] == '/' || !to[i]))
                common = i;
        }
        if (strcmp(from, "/") == 0)
            common = 0;
        else
            for (const char *p = from + common; *p; p++)
                if (*p == '/')
                    buf_adds(b, "../");
        if (to[common] == '/')
            url_path(b, to + common + 1);
        else
            url_path(b, to + common);
        if (to[common])
            buf_addc(b, '/');
    } else {
        url_path(b, dir);
        buf_addc(b, '/');
    }
    url_path(b, file);
    free(od);
}

typedef struct cmp_run {
    const char *dir;
    char *label;
    const task *t;
    method_summary *s;
    size_t n;
} cmp_run;

static void run_card(buf *b, const char *out_path, const cmp_run *r, size_t idx)
{
    pe_err e = {0};
    cJSON *run = json_load(r->dir, "run.json", &e);
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(run, "stats");
    int has_report = has_file(r->dir, "report.html");
    buf_printf(b, "<section class=\"run\" id=\"run-%zu\"><h3>", idx + 1);
    html_escape(b, r->label);
    wrap(b, "</h3><p class=\"note\"><span class=\"mono\">", r->dir, "</span> \xc2\xb7 <a href=\"");
    rel_href(b, out_path, r->dir, has_report ? "report.html" : "summary.json");
    buf_printf(b, "\">%s</a></p><table class=\"kv\"><tbody>",
               has_report ? "full report" : "summary.json");
    wrap(b, "<tr><th>task</th><td>", r->t->name, "</td></tr>");
    if (run) {
        kv_row(b, "methods", cJSON_GetObjectItemCaseSensitive(run, "methods"));
        kv_row(b, "started", cJSON_GetObjectItemCaseSensitive(run, "started"));
        kv_row(b, "incomplete", cJSON_GetObjectItemCaseSensitive(run, "incomplete"));
        buf_adds(b, "<tr><th>LLM calls</th><td>");
        add_count(b, json_num(stats, "calls"));
        buf_adds(b, "</td></tr><tr><th>tokens (prompt + completion)</th><td>");
        add_count(b, json_num(stats, "prompt_tokens"));
        buf_adds(b, " + ");
        add_count(b, json_num(stats, "completion_tokens"));
        buf_adds(b, "</td></tr><tr><th>cost</th><td>");
        add_cost(b, json_num(stats, "cost_usd"));
        buf_adds(b, "</td></tr>");
    } else {
        wrap(b, "<tr><th>run.json</th><td>", e.msg, "</td></tr>");
    }
    buf_adds(b, "</tbody></table></section>");
    cJSON_Delete(run);
}

int html_write_compare(const char *out_path, const char *const *dirs, size_t n, pe_err *e)
{
    cmp_run *runs = xcalloc(n ? n : 1, sizeof *runs);
    buf b = BUF_INIT;
    colours col = {NULL, 0, 0};
    size_t nr = 0;
    int rc = 0;

    for (; nr < n; nr++) {
        cmp_run *r = &runs[nr];
        r->dir = dirs[nr];
        if ((rc = report_read_summary(dirs[nr], &r->t, &r->s, &r->n, e)))
            goto done;
        r->label = base_name(dirs[nr]);
        method_names(r->s, r->n, &col);
    }
    page_begin(&b, "persona-eval: comparison of runs");
    buf_printf(&b, "<header><h1>persona-eval comparison</h1><p class=\"sub\">%zu run(s). "
                   "Methods as rows; 95%% bootstrap intervals.</p></header>\n",
               nr);
    /* one table per task, runs in the order given */
    for (size_t i = 0; i < nr; i++) {
        size_t total = 0, k = 0;
        int seen = 0;
        method_summary *all;
        const char **labels;
        char *id;
        for (size_t j = 0; j < i; j++)
            seen |= runs[j].t == runs[i].t;
        if (seen)
            continue;
        for (size_t j = i; j < nr; j++)
            if (runs[j].t == runs[i].t)
                total += runs[j].n;
        all = xcalloc(total ? total : 1, sizeof *all);
        labels = xcalloc(total ? total : 1, sizeof *labels);
        for (size_t j = i; j < nr; j++)
            if (runs[j].t == runs[i].t)
                for (size_t m = 0; m < runs[j].n; m++) {
                    all[k] = runs[j].s[m];
                    labels[k++] = runs[j].label;
                }
        buf_adds(&b, "<section class=\"task\"><h2>Task ");
        html_escape(&b, runs[i].t->name);
        buf_adds(&b, "</h2>");
        id = xasprintf("summary-%s", runs[i].t->name);
        summary_table(&b, runs[i].t, all, k, labels, id);
        interval_charts(&b, runs[i].t, all, k, labels, &col);
        buf_adds(&b, "</section>\n");
        free(id);
        free(all);
        free(labels);
    }
    buf_adds(&b, "<section id=\"runs\"><h2>Runs</h2><div class=\"charts\">");
    for (size_t i = 0; i < nr; i++)
        run_card(&b, out_path, &runs[i], i);
    buf_adds(&b, "</div></section>\n");
    page_end(&b);
    rc = write_page(out_path, &b, e);
done:
    for (size_t i = 0; i < nr; i++) {
        report_free_summaries(runs[i].s, runs[i].n);
        free(runs[i].label);
    }
    free(runs);
    buf_free(&b);
    colours_free(&col);
    return rc;
}
