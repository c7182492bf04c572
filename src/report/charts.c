#include "charts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void fixed(buf *b, double v, int prec)
{
    if (isnan(v))
        buf_adds(b, "\xe2\x80\x94");
    else
        buf_printf(b, "%.*f", prec, v);
}

#define LABEL_CHARS 22 /* characters per line of a row label */

/* The left margin that the wrapped labels need, and each row's height: rows
 * grow with their label's lines so that no label is clipped. */
static double label_layout(const char *const *labels, size_t n, double min_h, double extra,
                           double *rh, double *total)
{
    size_t widest = 8;
    *total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t w, lines = svg_wrap_lines(labels[i], LABEL_CHARS, &w);
        double h = (double)lines * 14 + extra;
        rh[i] = h > min_h ? h : min_h;
        *total += rh[i];
        if (w > widest)
            widest = w;
    }
    return (double)widest * SVG_CHAR_PX + 20;
}

void chart_intervals(buf *b, const char *metric, int higher_better, int unit,
                     const chart_interval *rows, size_t n)
{
    const double R = 24, T = 30, PW = 306;
    const char **labels = xcalloc(n ? n : 1, sizeof *labels);
    double *rh = xcalloc(n ? n : 1, sizeof *rh), body, L, H, w = PW, top = 0, y0 = T;
    svg_axis a;
    for (size_t i = 0; i < n; i++) {
        labels[i] = rows[i].label;
        if (!isnan(rows[i].v) && rows[i].v > top)
            top = rows[i].v;
        if (!isnan(rows[i].hi) && rows[i].hi > top)
            top = rows[i].hi;
    }
    L = label_layout(labels, n, 26, 10, rh, &body);
    H = T + body + 30;
    a = svg_nice_axis(0, top > 0 ? top : 1, 5);
    if (unit && a.hi > 1)
        a = svg_nice_axis(0, 1, 5);
    svg_begin(b, L + PW + R, H, "intervals", metric, 0);
    buf_printf(b, "<text x=\"%.0f\" y=\"18\" class=\"t\">", L);
    svg_escape(b, metric);
    buf_printf(b, " %s <tspan class=\"s\">(%s is better; 95%% interval)</tspan></text>",
               higher_better ? "\xe2\x86\x91" : "\xe2\x86\x93", higher_better ? "higher" : "lower");
    svg_x_grid(b, &a, L, w, T - 4, T + body);
    for (size_t i = 0; i < n; i++) {
        const chart_interval *r = &rows[i];
        double y = y0 + rh[i] / 2;
        size_t widest, lines = svg_wrap_lines(r->label, LABEL_CHARS, &widest);
        y0 += rh[i];
        buf_adds(b, "<g><title>");
        svg_escape(b, r->label);
        buf_adds(b, ": ");
        fixed(b, r->v, 4);
        if (!isnan(r->lo)) {
            buf_adds(b, " [");
            fixed(b, r->lo, 4);
            buf_adds(b, ", ");
            fixed(b, r->hi, 4);
            buf_adds(b, "]");
        }
        buf_adds(b, "</title>");
        svg_text_lines(b, r->label, LABEL_CHARS, L - 10, y + 4 - (double)(lines - 1) * 7, 14,
                       "end");
        if (!isnan(r->lo) && !isnan(r->hi)) {
            double x1 = svg_axis_px(&a, r->lo, L, w), x2 = svg_axis_px(&a, r->hi, L, w);
            buf_printf(b, "<path d=\"M%.1f %.1fv8M%.1f %.1fH%.1fM%.1f %.1fv8\" stroke=\"%s\" "
                          "stroke-width=\"2\" fill=\"none\"/>",
                       x1, y - 4, x1, y, x2, x2, y - 4, r->colour);
        }
        if (!isnan(r->v))
            buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>",
                       svg_axis_px(&a, r->v, L, w), y, r->colour);
        buf_adds(b, "</g>");
    }
    buf_adds(b, "</svg>");
    free(labels);
    free(rh);
}

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

static void box(buf *b, const svg_axis *a, double L, double w, double yc, const char *c,
                const char *label, const double *sv, size_t n)
{
    double q1 = quantile(sv, n, 0.25), med = quantile(sv, n, 0.5), q3 = quantile(sv, n, 0.75);
    double xmin = svg_axis_px(a, sv[0], L, w), xmax = svg_axis_px(a, sv[n - 1], L, w);
    double x1 = svg_axis_px(a, q1, L, w), x3 = svg_axis_px(a, q3, L, w);
    buf_adds(b, "<g><title>");
    svg_escape(b, label);
    buf_printf(b, ": median %.3f, quartiles %.3f\xe2\x80\x93%.3f, range %.3f\xe2\x80\x93"
                  "%.3f</title>",
               med, q1, q3, sv[0], sv[n - 1]);
    buf_printf(b, "<path d=\"M%.1f %.1fH%.1fM%.1f %.1fH%.1fM%.1f %.1fv10M%.1f %.1fv10\" "
                  "stroke=\"%s\" stroke-width=\"1.5\"/>",
               xmin, yc, x1, x3, yc, xmax, xmin, yc - 5, xmax, yc - 5, c);
    buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"20\" fill=\"%s\" "
                  "fill-opacity=\"0.15\" stroke=\"%s\" stroke-width=\"1.5\"/>",
               x1, yc - 10, x3 - x1 > 1 ? x3 - x1 : 1, c, c);
    buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                  "stroke-width=\"3\"/></g>",
               svg_axis_px(a, med, L, w), yc - 10, svg_axis_px(a, med, L, w), yc + 10, c);
}

void chart_distribution(buf *b, const char *metric, int unit, const chart_dist *d, size_t nd,
                        svg_colours *col)
{
    const double R = 30, T = 8, PW = 620;
    const char **labels = xcalloc(nd ? nd : 1, sizeof *labels);
    double *rh = xcalloc(nd ? nd : 1, sizeof *rh), body, L, H, w = PW, top = 0, y0 = T;
    svg_axis a;
    for (size_t i = 0; i < nd; i++) {
        labels[i] = d[i].label;
        for (size_t k = 0; k < d[i].n; k++)
            if (d[i].v[k] > top)
                top = d[i].v[k];
    }
    L = label_layout(labels, nd, 50, 24, rh, &body);
    H = T + body + 34;
    a = unit ? svg_nice_axis(0, 1, 10) : svg_nice_axis(0, top > 0 ? top : 1, 8);
    svg_begin(b, L + PW + R, H, "dist", metric, 0);
    svg_x_grid(b, &a, L, w, T, T + body);
    for (size_t i = 0; i < nd; i++) {
        const chart_dist *m = &d[i];
        const char *c = svg_colour_of(col, m->label);
        double yc = y0 + rh[i] / 2;
        size_t widest, lines = svg_wrap_lines(m->label, LABEL_CHARS, &widest);
        svg_text_lines(b, m->label, LABEL_CHARS, L - 12, yc - 2 - (double)(lines - 1) * 7, 14,
                       "end");
        buf_printf(b, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" class=\"s\">"
                      "%zu users</text>",
                   L - 12, yc + 12 + (double)(lines - 1) * 7, m->n);
        if (i)
            buf_printf(b, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
                          "stroke=\"#f0f2f4\"/>",
                       L, y0, L + w, y0);
        y0 += rh[i];
        if (m->n) { /* no user has a score when every query ended in error */
            double *sv = xmalloc(m->n * sizeof *sv);
            memcpy(sv, m->v, m->n * sizeof *sv);
            qsort(sv, m->n, sizeof *sv, cmp_double);
            box(b, &a, L, w, yc, c, m->label, sv, m->n);
            free(sv);
        }
        /* at most CHART_MAX_DOTS dots a row, every stride-th user: beyond that the
         * dots are a blur and the page grows by 100 bytes a user; the box
         * still covers every user */
        for (size_t k = 0; k < m->n; k += (m->n + CHART_MAX_DOTS - 1) / CHART_MAX_DOTS) {
            /* deterministic jitter so that equal values stay visible */
            double j = (double)(pe_hash64(m->point[k], strlen(m->point[k]), 7) % 1000) / 999.0;
            buf_printf(b, "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\">"
                          "<title>",
                       svg_axis_px(&a, m->v[k], L, w), yc - 14 + 28 * j, c);
            svg_escape(b, m->point[k]);
            buf_printf(b, ": %.4f</title></circle>", m->v[k]);
        }
    }
    buf_adds(b, "</svg>");
    free(labels);
    free(rh);
}

void chart_lines(buf *b, const char *title, const char *xlabel, const char *ylabel,
                 const char *const *xs, const double *xv, int numeric, size_t nx,
                 const chart_series *se, size_t ns, svg_colours *col, int standalone)
{
    const double W = 480, H = 300, L = 56, R = 20, T = 30, B = 46;
    double w = W - L - R, h = H - T - B, ylo = INFINITY, yhi = -INFINITY, *px;
    svg_axis ya, xa = {0, 1, 1, 0};
    for (size_t s = 0; s < ns; s++)
        for (size_t i = 0; i < nx; i++)
            if (isfinite(se[s].y[i])) {
                ylo = fmin(ylo, se[s].y[i]);
                yhi = fmax(yhi, se[s].y[i]);
            }
    if (ylo > yhi)
        ylo = 0, yhi = 1;
    ya = svg_nice_axis(ylo, yhi, 5);
    if (numeric && nx > 0) {
        double lo = xv[0], hi = xv[0];
        for (size_t i = 1; i < nx; i++)
            lo = fmin(lo, xv[i]), hi = fmax(hi, xv[i]);
        xa = svg_nice_axis(lo, hi, 6);
    }
    svg_begin(b, W, H, "sweep", title, standalone);
    buf_printf(b, "<text x=\"%.0f\" y=\"18\" class=\"t\">", L);
    svg_escape(b, title);
    buf_adds(b, "</text>");
    svg_y_grid(b, &ya, T, h, L, L + w);
    px = xmalloc((nx ? nx : 1) * sizeof *px);
    for (size_t i = 0; i < nx; i++)
        px[i] = numeric ? svg_axis_px(&xa, xv[i], L, w)
                        : L + (nx > 1 ? (double)i / (double)(nx - 1) * w : w / 2);
    if (numeric) {
        svg_x_grid(b, &xa, L, w, T, T + h);
    } else {
        for (size_t i = 0; i < nx; i++) {
            buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"s\">",
                       px[i], T + h + 15);
            svg_escape_trunc(b, xs[i], 12);
            buf_adds(b, "</text>");
        }
    }
    buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"s\">", L + w / 2,
               H - 8);
    svg_escape(b, xlabel);
    buf_printf(b, "</text><text transform=\"translate(12 %.1f) rotate(-90)\" "
                  "text-anchor=\"middle\" class=\"s\">",
               T + h / 2);
    svg_escape(b, ylabel);
    buf_adds(b, "</text>");
    for (size_t s = 0; s < ns; s++) {
        const char *c = svg_colour_of(col, se[s].name);
        int pen = 0;
        buf_printf(b, "<g><polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", c);
        for (size_t i = 0; i < nx; i++)
            if (isfinite(se[s].y[i])) {
                buf_printf(b, "%s%.1f,%.1f", pen ? " " : "", px[i],
                           T + h - (se[s].y[i] - ya.lo) / (ya.hi - ya.lo) * h);
                pen = 1;
            }
        buf_adds(b, "\"/>");
        for (size_t i = 0; i < nx; i++) {
            if (!isfinite(se[s].y[i]))
                continue;
            buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>", px[i],
                       T + h - (se[s].y[i] - ya.lo) / (ya.hi - ya.lo) * h, c);
            svg_escape(b, se[s].name);
            buf_adds(b, ", ");
            svg_escape(b, xlabel);
            buf_adds(b, " = ");
            svg_escape(b, xs[i]);
            buf_printf(b, ": %.4f</title></circle>", se[s].y[i]);
        }
        buf_adds(b, "</g>");
    }
    if (standalone) { /* a file has no HTML legend beside it: full names, wrapped */
        double y = T + 14;
        for (size_t s = 0; s < ns; s++) {
            buf_printf(b, "<g class=\"s\" fill=\"%s\">", svg_colour_of(col, se[s].name));
            y += 13 * (double)svg_text_lines(b, se[s].name, 16, W - R - 100, y, 13, "start");
            buf_adds(b, "</g>");
        }
    }
    buf_adds(b, "</svg>");
    free(px);
}

static void heat_legend(buf *b, double gx, double top, double gh, double lo, double hi)
{
    buf_adds(b, "<defs><linearGradient id=\"hm-ramp\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">");
    for (int s = 0; s <= 4; s++) {
        int rgb[3];
        svg_ramp(s / 4.0, rgb);
        buf_printf(b, "<stop offset=\"%d%%\" stop-color=\"rgb(%d,%d,%d)\"/>", s * 25, rgb[0],
                   rgb[1], rgb[2]);
    }
    buf_printf(b, "</linearGradient></defs><rect x=\"%.1f\" y=\"%.1f\" width=\"14\" "
                  "height=\"%.1f\" fill=\"url(#hm-ramp)\" stroke=\"#d0d7de\"/>"
                  "<text x=\"%.1f\" y=\"%.1f\" class=\"s\">%.2f</text>"
                  "<text x=\"%.1f\" y=\"%.1f\" class=\"s\">%.2f</text>",
               gx, top, gh, gx + 20, top + 9, hi, gx + 20, top + gh, lo);
}

void chart_heatmap(buf *b, const char *title, const char *const *rows, const char *const *cols,
                   size_t n, const double *m, int standalone)
{
    double cs = 560.0 / (double)(n ? n : 1), lab, W, H, lo = 0, hi = 1;
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
    for (size_t i = 0; i < n * n; i++)
        if (isfinite(m[i]))
            lo = fmin(lo, m[i]), hi = fmax(hi, m[i]);
    svg_begin(b, W, H, "heatmap", title, standalone);
    for (size_t i = 0; i < n; i++) {
        double y = lab + cs * (double)i;
        if (show_labels) {
            double fs = cs - 2 < 11 ? cs - 2 : 11;
            buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                          "style=\"font-size:%.0fpx\">",
                       lab - 4, y + cs / 2 + fs / 3, fs);
            svg_escape_trunc(b, rows[i], 12);
            buf_printf(b, "</text><text transform=\"translate(%.1f %.1f) rotate(-90)\" "
                          "style=\"font-size:%.0fpx\">",
                       y + cs / 2 + fs / 3, lab - 4, fs);
            svg_escape_trunc(b, cols[i], 12);
            buf_adds(b, "</text>");
        }
        for (size_t k = 0; k < n; k++) {
            double v = m[i * n + k], x = lab + cs * (double)k;
            int rgb[3] = {221, 221, 221}, ok = isfinite(v);
            if (ok)
                svg_ramp((v - lo) / (hi - lo), rgb);
            buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                          "fill=\"rgb(%d,%d,%d)\"><title>",
                       x, y, cs, cs, rgb[0], rgb[1], rgb[2]);
            svg_escape(b, rows[i]);
            buf_adds(b, " \xc3\x97 ");
            svg_escape(b, cols[k]);
            if (ok)
                buf_printf(b, ": %.3f", v);
            else
                buf_adds(b, ": no value");
            buf_adds(b, "</title></rect>");
            if (ok && show_values)
                buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                              "style=\"font-size:10px;fill:%s\">%.2f</text>",
                           x + cs / 2, y + cs / 2 + 3.5,
                           (v - lo) / (hi - lo) > 0.55 ? "#fff" : "#1f2328", v);
        }
    }
    heat_legend(b, lab + cs * (double)n + 20, lab, cs * (double)n < 200 ? cs * (double)n : 200,
                lo, hi);
    buf_adds(b, "</svg>");
}
