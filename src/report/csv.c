#include "csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void csv_begin(csv_writer *w, buf *b)
{
    w->b = b;
    w->ncols = 0;
    w->col = 0;
}

static void sep(csv_writer *w)
{
    if (w->col++)
        buf_addc(w->b, ',');
}

void csv_str(csv_writer *w, const char *s)
{
    sep(w);
    if (s)
        buf_csv_field(w->b, s);
}

void csv_strs(csv_writer *w, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        csv_str(w, v[i]);
}

void csv_num(csv_writer *w, double v)
{
    char x[64];
    sep(w);
    if (!isfinite(v))
        return;
    pe_fmt_double(x, sizeof x, v);
    buf_adds(w->b, x);
}

void csv_long(csv_writer *w, long v)
{
    sep(w);
    buf_printf(w->b, "%ld", v);
}

void csv_size(csv_writer *w, size_t v)
{
    sep(w);
    buf_printf(w->b, "%zu", v);
}

void csv_empty(csv_writer *w, size_t n)
{
    while (n--)
        sep(w);
}

void csv_end_row(csv_writer *w)
{
    if (!w->ncols)
        w->ncols = w->col;
    else if (w->col < w->ncols)
        csv_empty(w, w->ncols - w->col);
    buf_addc(w->b, '\n');
    w->col = 0;
}

void csv_free(csv_tab *t)
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

/* One quoted field starting at d[*i] == '"'; *line counts the newlines inside. */
static int quoted(const char *d, size_t len, size_t *i, size_t *line, buf *f)
{
    for ((*i)++; *i < len; (*i)++) {
        if (d[*i] == '"' && *i + 1 < len && d[*i + 1] == '"') {
            buf_addc(f, '"');
            (*i)++;
        } else if (d[*i] == '"') {
            (*i)++;
            return 0;
        } else {
            *line += d[*i] == '\n';
            buf_addc(f, d[*i]);
        }
    }
    return -1;
}

int csv_parse(const char *path, const char *d, size_t len, csv_tab *t, pe_err *e)
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
            size_t qline = line;
            if (i < len && d[i] == '"' && quoted(d, len, &i, &line, &f) != 0) {
                buf_free(&f);
                t->r = xgrow(t->r, &cap, t->n + 1, sizeof *t->r);
                t->r[t->n++] = row;
                csv_free(t);
                return pe_errf(e, PE_EXIT_DATA, "%s:%zu: unterminated quoted field", path,
                               qline);
            }
            {
                size_t from = i; /* the unquoted rest, copied at once */
                while (i < len && d[i] != ',' && d[i] != '\n' && d[i] != '\r')
                    i++;
                buf_add(&f, d + from, i - from);
            }
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

int csv_load(const char *path, size_t max, csv_tab *t, pe_err *e)
{
    char *data;
    size_t len;
    int rc = pe_read_file(path, max, &data, &len, e);
    memset(t, 0, sizeof *t);
    if (!rc) {
        rc = csv_parse(path, data, len, t, e);
        free(data);
    }
    return rc;
}

size_t csv_column(const csv_tab *t, const char *name)
{
    if (t->n == 0)
        return (size_t)-1;
    for (size_t k = 0; k < t->r[0].n; k++)
        if (strcmp(t->r[0].f[k], name) == 0)
            return k;
    return (size_t)-1;
}
