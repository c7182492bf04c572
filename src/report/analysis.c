#include "analysis.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

word_set analysis_words(const char *text)
{
    word_set w = {NULL, 0};
    size_t cap = 0, start = 0, len = strlen(text);
    char *low = xmalloc(len + 1);

    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)text[i] : 0;
        int word = c && (isalnum(c) || c >= 0x80);
        low[i] = (char)tolower(c);
        if (word)
            continue;
        if (i > start) {
            w.h = xgrow(w.h, &cap, w.n + 1, sizeof *w.h);
            w.h[w.n++] = pe_hash64(low + start, i - start, 0);
        }
        start = i + 1;
    }
    free(low);
    qsort(w.h, w.n, sizeof *w.h, u64_cmp);
    {
        size_t k = 0;
        for (size_t i = 0; i < w.n; i++)
            if (k == 0 || w.h[k - 1] != w.h[i])
                w.h[k++] = w.h[i];
        w.n = k;
    }
    return w;
}

void analysis_words_free(word_set *w)
{
    free(w->h);
    w->h = NULL;
    w->n = 0;
}

double analysis_jaccard(const word_set *a, const word_set *b)
{
    size_t i = 0, j = 0, inter = 0;
    if (a->n == 0 && b->n == 0)
        return 1.0;
    while (i < a->n && j < b->n) {
        if (a->h[i] == b->h[j])
            inter++, i++, j++;
        else if (a->h[i] < b->h[j])
            i++;
        else
            j++;
    }
    return (double)inter / (double)(a->n + b->n - inter);
}

static void xml_text(buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': buf_adds(b, "&lt;"); break;
        case '>': buf_adds(b, "&gt;"); break;
        case '&': buf_adds(b, "&amp;"); break;
        case '"': buf_adds(b, "&quot;"); break;
        default: buf_addc(b, *s);
        }
    }
}

/* Cool blue (0) to warm red (1), as the paper's heatmap. */
static void color(double v, int *r, int *g, int *bl)
{
    if (isnan(v))
        v = 0;
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    if (v < 0.5) {
        double t = v / 0.5;
        *r = (int)(59 + t * (221 - 59));
        *g = (int)(76 + t * (221 - 76));
        *bl = (int)(192 + t * (221 - 192));
    } else {
        double t = (v - 0.5) / 0.5;
        *r = (int)(221 + t * (180 - 221));
        *g = (int)(221 + t * (4 - 221));
        *bl = (int)(221 + t * (38 - 221));
    }
}

void analysis_svg_heatmap(buf *out, const char *title, const char *const *labels, size_t n,
                          const double *m)
{
    const int cell = n > 60 ? 6 : n > 30 ? 10 : 18, left = 90, top = 40;
    int size = (int)n * cell;
    buf_printf(out,
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "font-family=\"sans-serif\" font-size=\"10\">\n<title>",
               left + size + 80, top + size + 90);
    xml_text(out, title);
    buf_adds(out, "</title>\n<text x=\"4\" y=\"16\" font-size=\"13\">");
    xml_text(out, title);
    buf_adds(out, "</text>\n");
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            int r, g, bl;
            color(m[i * n + j], &r, &g, &bl);
            buf_printf(out,
                       "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                       "fill=\"rgb(%d,%d,%d)\"><title>",
                       left + (int)j * cell, top + (int)i * cell, cell, cell, r, g, bl);
            xml_text(out, labels[i]);
            buf_adds(out, " / ");
            xml_text(out, labels[j]);
            buf_printf(out, ": %.3f</title></rect>\n", m[i * n + j]);
        }
        if (cell >= 10) {
            buf_printf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 4,
                       top + (int)i * cell + cell - 3);
            xml_text(out, labels[i]);
            buf_adds(out, "</text>\n");
            buf_printf(out, "<text transform=\"translate(%d,%d) rotate(90)\">",
                       left + (int)i * cell + cell - 4, top + size + 4);
            xml_text(out, labels[i]);
            buf_adds(out, "</text>\n");
        }
    }
    /* legend */
    for (int k = 0; k <= 10; k++) {
        int r, g, bl;
        color(k / 10.0, &r, &g, &bl);
        buf_printf(out, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"%d\" fill=\"rgb(%d,%d,%d)\"/>\n",
                   left + size + 20, top + (10 - k) * (size / 11 > 4 ? size / 11 : 4), 
                   size / 11 > 4 ? size / 11 : 4, r, g, bl);
    }
    buf_printf(out, "<text x=\"%d\" y=\"%d\">1.0</text><text x=\"%d\" y=\"%d\">0.0</text>\n",
               left + size + 38, top + 10, left + size + 38,
               top + 11 * (size / 11 > 4 ? size / 11 : 4));
    buf_adds(out, "</svg>\n");
}

void analysis_svg_lines(buf *out, const char *title, const char *xlabel, const char *ylabel,
                        const double *x, size_t nx, const char *const *series, size_t nseries,
                        const double *y)
{
    static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                          "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
    const int w = 520, h = 320, l = 60, r = 150, t = 36, bt = 46;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < nx; i++) {
        x0 = fmin(x0, x[i]);
        x1 = fmax(x1, x[i]);
    }
    for (size_t i = 0; i < nx * nseries; i++)
        if (!isnan(y[i])) {
            y0 = fmin(y0, y[i]);
            y1 = fmax(y1, y[i]);
        }
    if (!(x1 > x0))
        x0 -= 1, x1 += 1;
    if (!(y1 > y0)) {
        if (!isfinite(y0))
            y0 = 0, y1 = 1;
        else
            y0 -= 0.05, y1 += 0.05;
    }
    buf_printf(out,
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "font-family=\"sans-serif\" font-size=\"11\">\n<title>",
               w, h);
    xml_text(out, title);
    buf_adds(out, "</title>\n<text x=\"4\" y=\"16\" font-size=\"13\">");
    xml_text(out, title);
    buf_printf(out, "</text>\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                    "stroke=\"#888\"/>\n",
               l, t, w - l - r, h - t - bt);
#define PX(v) (l + ((v) - x0) / (x1 - x0) * (w - l - r))
#define PY(v) (t + (1 - ((v) - y0) / (y1 - y0)) * (h - t - bt))
    for (size_t i = 0; i < nx; i++)
        buf_printf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", PX(x[i]),
                   h - bt + 14, x[i]);
    for (int k = 0; k <= 4; k++) {
        double v = y0 + (y1 - y0) * k / 4;
        buf_printf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3f</text>\n", l - 4,
                   PY(v) + 4, v);
    }
    buf_printf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", l + (w - l - r) / 2, h - 8);
    xml_text(out, xlabel);
    buf_printf(out, "</text>\n<text transform=\"translate(12,%d) rotate(-90)\" "
                    "text-anchor=\"middle\">",
               t + (h - t - bt) / 2);
    xml_text(out, ylabel);
    buf_adds(out, "</text>\n");
    for (size_t s = 0; s < nseries; s++) {
        const char *c = palette[s % (sizeof palette / sizeof palette[0])];
        int started = 0;
        buf_printf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", c);
        for (size_t i = 0; i < nx; i++)
            if (!isnan(y[s * nx + i])) {
                buf_printf(out, "%s%.1f,%.1f", started ? " " : "", PX(x[i]), PY(y[s * nx + i]));
                started = 1;
            }
        buf_adds(out, "\"/>\n");
        for (size_t i = 0; i < nx; i++)
            if (!isnan(y[s * nx + i]))
                buf_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                           PX(x[i]), PY(y[s * nx + i]), c);
        buf_printf(out, "<text x=\"%d\" y=\"%d\" fill=\"%s\">", w - r + 8, t + 14 + (int)s * 16,
                   c);
        xml_text(out, series[s]);
        buf_adds(out, "</text>\n");
    }
#undef PX
#undef PY
    buf_adds(out, "</svg>\n");
}
