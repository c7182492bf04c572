#include "svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define FFFD "\xef\xbf\xbd"

/* Okabe-Ito, then Paul Tol's muted scheme: sixteen colours, so that every
 * method of a run (there are fifteen) has its own. */
static const char *const palette[] = {"#0072b2", "#e69f00", "#009e73", "#cc79a7",
                                      "#56b4e9", "#d55e00", "#7f7f7f", "#000000",
                                      "#332288", "#88ccee", "#117733", "#882255",
                                      "#999933", "#cc6677", "#44aa99", "#ddcc77"};
#define NPAL (sizeof palette / sizeof palette[0])

void svg_escape(buf *b, const char *s)
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

void svg_escape_trunc(buf *b, const char *s, size_t max)
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
        svg_escape(b, s);
        return;
    }
    cut = xstrndup(s, i);
    svg_escape(b, cut);
    buf_adds(b, "\xe2\x80\xa6");
    free(cut);
}

/* The byte length of the next line of s (at most max characters) and, in
 * *skip, how many bytes the caller moves past it (a space at the break is
 * dropped). */
static size_t next_line(const char *s, size_t max, size_t *skip, size_t *chars)
{
    size_t i = 0, n = 0, brk = 0, brk_chars = 0;
    while (s[i] && n < max) {
        unsigned char c = (unsigned char)s[i];
        i++;
        while (((unsigned char)s[i] & 0xc0) == 0x80)
            i++;
        n++;
        if (c == ' ') {
            brk = i - 1, brk_chars = n - 1;
        } else if (strchr("-_/.:", c)) {
            brk = i, brk_chars = n;
        }
    }
    if (s[i] == ' ') { /* the line ends just before a space */
        *chars = n;
        *skip = i + 1;
        return i;
    }
    if (!s[i] || brk == 0) {
        *chars = n;
        *skip = i;
        return i;
    }
    if (s[brk] == ' ') {
        *chars = brk_chars;
        *skip = brk + 1;
        return brk;
    }
    *chars = brk_chars;
    *skip = brk;
    return brk;
}

size_t svg_wrap_lines(const char *s, size_t max, size_t *widest)
{
    size_t lines = 0, skip, chars;
    *widest = 0;
    while (*s) {
        next_line(s, max, &skip, &chars);
        if (chars > *widest)
            *widest = chars;
        s += skip;
        lines++;
    }
    return lines ? lines : 1;
}

size_t svg_text_lines(buf *b, const char *s, size_t max, double x, double y, double lh,
                      const char *anchor)
{
    size_t lines = 0, skip, chars;
    buf_printf(b, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"%s\">", x, y, anchor);
    while (*s) {
        size_t len = next_line(s, max, &skip, &chars);
        char *line = xstrndup(s, len);
        buf_printf(b, "<tspan x=\"%.0f\" dy=\"%.0f\">", x, lines ? lh : 0.0);
        svg_escape(b, line);
        buf_adds(b, "</tspan>");
        free(line);
        s += skip;
        lines++;
    }
    buf_adds(b, "</text>");
    return lines ? lines : 1;
}

svg_axis svg_nice_axis(double lo, double hi, int target)
{
    svg_axis a;
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

double svg_axis_px(const svg_axis *a, double v, double x0, double w)
{
    return x0 + (v - a->lo) / (a->hi - a->lo) * w;
}

void svg_x_grid(buf *b, const svg_axis *a, double x0, double w, double y0, double y1)
{
    for (double v = a->lo; v <= a->hi + a->step * 1e-6; v += a->step) {
        double x = svg_axis_px(a, v, x0, w);
        buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e8eb\"/>"
                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"s\">%.*f</text>",
                   x, y0, x, y1, x, y1 + 15, a->decimals, fabs(v) < 1e-12 ? 0.0 : v);
    }
}

void svg_y_grid(buf *b, const svg_axis *a, double y0, double h, double x0, double x1)
{
    for (double v = a->lo; v <= a->hi + a->step * 1e-6; v += a->step) {
        double y = y0 + h - (v - a->lo) / (a->hi - a->lo) * h;
        buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e8eb\"/>"
                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" class=\"s\">%.*f</text>",
                   x0, y, x1, y, x0 - 6, y + 4, a->decimals, fabs(v) < 1e-12 ? 0.0 : v);
    }
}

void svg_begin(buf *b, double w, double h, const char *cls, const char *label, int standalone)
{
    buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"%s\" width=\"%.0f\" "
                  "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
               cls, w, h, w, h);
    svg_escape(b, label);
    buf_adds(b, "\">");
    if (standalone)
        buf_adds(b, "<style>text{font:12px sans-serif;fill:#1f2328}.t{font-size:14px;"
                    "font-weight:600}.s{font-size:11px;fill:#59636e}.pt{fill-opacity:.6}"
                    "</style>\n");
}

const char *svg_colour_of(svg_colours *c, const char *name)
{
    size_t i;
    for (i = 0; i < c->n; i++)
        if (strcmp(c->names[i], name) == 0)
            break;
    if (i == c->n) {
        c->names = xgrow(c->names, &c->cap, c->n + 1, sizeof *c->names);
        c->names[c->n++] = xstrdup(name);
    }
    return palette[i % NPAL];
}

void svg_colours_free(svg_colours *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->names[i]);
    free(c->names);
    c->names = NULL;
    c->n = c->cap = 0;
}

void svg_ramp(double v, int rgb[3])
{
    static const int stops[3][3] = {{247, 251, 255}, {107, 174, 214}, {8, 48, 107}};
    int s;
    double f;
    if (isnan(v) || v < 0)
        v = 0;
    if (v > 1)
        v = 1;
    s = v < 0.5 ? 0 : 1;
    f = v < 0.5 ? v / 0.5 : (v - 0.5) / 0.5;
    for (int k = 0; k < 3; k++)
        rgb[k] = (int)lround(stops[s][k] + f * (stops[s + 1][k] - stops[s][k]));
}
