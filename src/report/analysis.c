#include "analysis.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "charts.h"
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

void analysis_svg_heatmap(buf *out, const char *title, const char *const *labels, size_t n,
                          const double *m)
{
    chart_heatmap(out, title, labels, labels, n, m, 1);
    buf_addc(out, '\n');
}

void analysis_svg_lines(buf *out, const char *title, const char *xlabel, const char *ylabel,
                        const double *x, size_t nx, const char *const *series, size_t nseries,
                        const double *y)
{
    char **xs = xcalloc(nx ? nx : 1, sizeof *xs);
    chart_series *se = xcalloc(nseries ? nseries : 1, sizeof *se);
    svg_colours col = {NULL, 0, 0};
    for (size_t i = 0; i < nx; i++)
        xs[i] = xasprintf("%g", x[i]);
    for (size_t s = 0; s < nseries; s++) {
        se[s].name = series[s];
        se[s].y = y + s * nx;
    }
    chart_lines(out, title, xlabel, ylabel, (const char *const *)xs, x, 1, nx, se, nseries, &col,
                1);
    buf_addc(out, '\n');
    for (size_t i = 0; i < nx; i++)
        free(xs[i]);
    free(xs);
    free(se);
    svg_colours_free(&col);
}
