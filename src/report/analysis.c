#include "analysis.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "charts.h"
#include "files.h"
#include "jsonu.h"
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
    if (w.n > 1)
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

static int rec_cmp(const void *a, const void *b)
{
    return strcmp(((const analysis_persona *)a)->user, ((const analysis_persona *)b)->user);
}

int analysis_personas_load(const char *dir, char **method, analysis_persona **out, size_t *nout,
                           pe_err *e)
{
    char *path = xasprintf("%s/personas.jsonl", dir), *data;
    size_t len, n = 0, cap = 0, lineno = 0;
    analysis_persona *v = NULL;
    cJSON **lines = NULL;
    size_t nlines = 0, lcap = 0;
    int rc = pe_read_file(path, 0, &data, &len, e);

    *out = NULL;
    *nout = 0;
    if (rc) {
        free(path);
        return rc;
    }
    for (size_t pos = 0; pos < len && !rc;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (data + pos)) : len - pos;
        cJSON *j = ll ? jsonu_parse(data + pos, ll, NULL) : NULL;
        lineno++;
        pos += ll + (nl ? 1 : 0);
        if (!ll)
            continue;
        if (!j) {
            if (nl) /* a torn last line is dropped; a bad line elsewhere is an error */
                rc = pe_errf(e, PE_EXIT_DATA, "%s:%zu: not JSON", path, lineno);
            continue;
        }
        if (!jsonu_str(j, "method") || !jsonu_str(j, "user") || !jsonu_str(j, "final")) {
            cJSON_Delete(j);
            continue;
        }
        lines = xgrow(lines, &lcap, nlines + 1, sizeof *lines);
        lines[nlines++] = j;
    }
    for (size_t i = 0; !*method && i < nlines; i++)
        if (strcmp(jsonu_str(lines[i], "method"), "personaagent") == 0)
            *method = xstrdup("personaagent");
    if (!*method)
        *method = xstrdup(nlines ? jsonu_str(lines[0], "method") : "");
    for (size_t i = 0; !rc && i < nlines; i++) {
        const cJSON *j = lines[i], *al = cJSON_GetObjectItemCaseSensitive(j, "alignment");
        const char *u = jsonu_str(j, "user"), *ini = jsonu_str(j, "initial");
        analysis_persona *r = NULL;
        if (strcmp(jsonu_str(j, "method"), *method) != 0)
            continue;
        for (size_t k = 0; k < n; k++)
            if (strcmp(v[k].user, u) == 0)
                r = &v[k];
        /* the first line holds the initial persona; a later one (an --online
         * re-alignment, or a resumed run) the newer final persona */
        if (!r) {
            v = xgrow(v, &cap, n + 1, sizeof *v);
            r = &v[n++];
            r->user = xstrdup(u);
            r->initial = xstrdup(ini ? ini : "");
            r->iterations = 0;
        } else {
            free(r->final);
        }
        r->final = xstrdup(jsonu_str(j, "final"));
        {
            /* a turn-0 line again (a resumed run prepared the user anew) restarts the count */
            const cJSON *turn = cJSON_GetObjectItemCaseSensitive(j, "turn");
            size_t it = cJSON_IsArray(al) ? (size_t)cJSON_GetArraySize(al) : 0;
            if (!cJSON_IsNumber(turn) || turn->valuedouble == 0)
                r->iterations = it;
            else
                r->iterations += it;
        }
    }
    for (size_t i = 0; i < nlines; i++)
        cJSON_Delete(lines[i]);
    free(lines);
    free(data);
    free(path);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(v[i].user), free(v[i].initial), free(v[i].final);
        free(v);
        return rc;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, rec_cmp);
    *out = v;
    *nout = n;
    return 0;
}

void analysis_personas_free(analysis_persona *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].user);
        free(v[i].initial);
        free(v[i].final);
    }
    free(v);
}

void analysis_similarity(const analysis_persona *r, size_t n, double *m, double *drift,
                         size_t *nwords)
{
    word_set *fin = xcalloc(n ? n : 1, sizeof *fin);
    for (size_t i = 0; i < n; i++)
        fin[i] = analysis_words(r[i].final);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n; k++)
            m[i * n + k] = i == k ? 1.0 : analysis_jaccard(&fin[i], &fin[k]);
    for (size_t i = 0; i < n && (drift || nwords); i++) {
        word_set ini = analysis_words(r[i].initial);
        if (drift)
            drift[i] = analysis_jaccard(&ini, &fin[i]);
        if (nwords) {
            nwords[2 * i] = ini.n;
            nwords[2 * i + 1] = fin[i].n;
        }
        analysis_words_free(&ini);
    }
    for (size_t i = 0; i < n; i++)
        analysis_words_free(&fin[i]);
    free(fin);
}
