#include "memory.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* Every text field valid UTF-8, checked here so the message can name the item
 * and field rather than an encoder-internal index. */
static int check_item(const task *t, const ds_user *u, size_t i, pe_err *e)
{
    const ds_item *it = &u->items[i];
    for (size_t f = 0; f < t->nfields; f++) {
        const char *v = it->field[f] ? it->field[f] : "";
        size_t bad;
        if (!pe_utf8_valid(v, strlen(v), &bad))
            return pe_errf(e, PE_EXIT_DATA,
                           "user \"%s\": history item \"%s\": field \"%s\": invalid UTF-8 at "
                           "byte %zu",
                           u->id, it->id ? it->id : "?", t->fields[f], bad);
    }
    return 0;
}

int memory_build(const task *t, const ds_user *u, const encoder_opts *o, memory **out,
                 pe_err *e)
{
    memory *m;
    int rc;

    *out = NULL;
    for (size_t i = 0; i < u->nitems; i++)
        if ((rc = check_item(t, u, i, e)) != 0)
            return rc;
    m = xcalloc(1, sizeof *m);
    m->task = t;
    m->user = xstrdup(u->id ? u->id : "");
    m->n = u->nitems;
    m->ids = xcalloc(m->n + 1, sizeof *m->ids);
    m->dates = xcalloc(m->n + 1, sizeof *m->dates);
    m->labels = xcalloc(m->n + 1, sizeof *m->labels);
    m->texts = xcalloc(m->n + 1, sizeof *m->texts);
    m->field[0] = xcalloc(m->n + 1, sizeof *m->field[0]);
    m->field[1] = xcalloc(m->n + 1, sizeof *m->field[1]);
    m->pos = xcalloc(m->n + 1, sizeof *m->pos);
    for (size_t i = 0; i < m->n; i++) {
        const ds_item *it = &u->items[i];
        const char *fv[2] = {it->field[0] ? it->field[0] : "", it->field[1] ? it->field[1] : ""};
        m->ids[i] = xstrdup(it->id ? it->id : "");
        m->dates[i] = dup_or_null(it->date);
        m->labels[i] = dup_or_null(it->label);
        m->texts[i] = task_item_text(t, fv);
        m->field[0][i] = xstrdup(fv[0]);
        m->field[1][i] = xstrdup(fv[1]);
        m->pos[i] = it->pos;
    }
    if (!o || encoder_kind_lexical(o->kind)) {
        rc = lexical_build(o, (const char *const *)m->texts, m->n, &m->lex, e);
    } else {
        rc = encoder_fit_encode(o, (const char *const *)m->texts, m->n, &m->enc, &m->mat, e);
        if (rc == 0)
            m->dim = encoder_dim(m->enc);
    }
    if (rc != 0) {
        pe_err_prefix(e, "user \"%s\": history: ", m->user);
        memory_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

static void free_strv(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void memory_free(memory *m)
{
    if (!m)
        return;
    free_strv(m->ids, m->n);
    free_strv(m->dates, m->n);
    free_strv(m->labels, m->n);
    free_strv(m->texts, m->n);
    free_strv(m->field[0], m->n);
    free_strv(m->field[1], m->n);
    encoder_free(m->enc);
    lexical_free(m->lex);
    free(m->mat);
    free(m->pos);
    free(m->user);
    free(m);
}

/* The callers' filters (NULL: every item) with ties in the file's order. */
static topk_filter *tie_filters(const memory *m, const topk_filter *filters, size_t nq)
{
    topk_filter *f = xmalloc(nq * sizeof *f);
    for (size_t i = 0; i < nq; i++) {
        f[i] = filters ? filters[i] : TOPK_FILTER_ALL;
        f[i].tie = m->pos;
    }
    return f;
}

/* Each query scored exactly over the items its cutoff admits, with their
 * statistics, then the k best selected at double precision. */
static int lexical_search(const memory *m, const char *const *queries, size_t nq, size_t k,
                          const topk_filter *filters, topk_hit *out, size_t *counts, pe_err *e)
{
    double *scores = xmalloc((m->n ? m->n : 1) * sizeof *scores);
    int rc = 0;

    for (size_t i = 0; i < nq && rc == 0; i++) {
        const topk_filter *f = filters ? &filters[i] : NULL;
        size_t c = f && f->cutoff < m->n ? f->cutoff : m->n;
        rc = lexical_scores(m->lex, queries[i], c, scores, e);
        if (rc != 0)
            pe_err_prefix(e, "user \"%s\": query: ", m->user);
        else
            counts[i] = topk_select_f64(scores, c, k, f, out + i * k);
    }
    free(scores);
    return rc;
}

int memory_search_batch(const memory *m, const char *const *queries, size_t nq, size_t k,
                        const topk_filter *filters, topk_hit *out, size_t *counts, pe_err *e)
{
    float *qv;
    topk_filter *f;
    int rc;

    if (nq == 0)
        return 0;
    f = tie_filters(m, filters, nq);
    if (m->lex) {
        rc = lexical_search(m, queries, nq, k, f, out, counts, e);
        free(f);
        return rc;
    }
    qv = xmalloc(nq * m->dim * sizeof *qv);
    rc = encoder_encode_queries(m->enc, queries, nq, qv, e);
    if (rc != 0)
        pe_err_prefix(e, "user \"%s\": query: ", m->user);
    else if (nq == 1)
        counts[0] = topk_search(m->mat, m->n, m->dim, qv, k, f, out);
    else
        topk_search_batch(m->mat, m->n, m->dim, qv, nq, k, f, out, counts);
    free(qv);
    free(f);
    return rc;
}

int memory_search(const memory *m, const char *query, size_t k, const topk_filter *f,
                  topk_hit *out, size_t *nout, pe_err *e)
{
    *nout = 0;
    return memory_search_batch(m, &query, 1, k, f, out, nout, e);
}

/* ---- formatters ---- */

char *memory_format_lamp(const memory *m, const task *t, const topk_hit *hits, size_t n,
                         const char *input)
{
    buf b = BUF_INIT;

    if (n == 0)
        return xstrdup(input);
    for (size_t i = 0; i < n; i++) {
        size_t j = hits[i].index;
        const char *label = m->labels[j] ? m->labels[j] : "";
        if (i > 0)
            buf_adds(&b, ", and ");
        switch (t->id) {
        case TASK_LAMP1:
            buf_printf(&b, "\"%s\"", m->field[0][j]);
            break;
        case TASK_LAMP2M:
            buf_printf(&b, "the tag for the movie: \"%s\" is \"%s\" ", m->field[0][j], label);
            break;
        case TASK_LAMP2N:
            buf_printf(&b, "the category for the article: \"%s\" is \"%s\" ", m->field[1][j],
                       label);
            break;
        default:
            buf_printf(&b, "%s is the score for \"%s\" ", label, m->field[0][j]);
            break;
        }
    }
    if (t->id == TASK_LAMP1) {
        /* LaMP's add_string_after_title: right after the first "title". */
        const char *at = strstr(input, "title");
        char *items = buf_detach(&b);
        if (at) {
            size_t pre = (size_t)(at - input) + 5;
            buf_add(&b, input, pre);
            buf_adds(&b, ", and ");
            buf_adds(&b, items);
            buf_adds(&b, input + pre);
        } else {
            buf_adds(&b, input);
        }
        free(items);
        return buf_detach(&b);
    }
    buf_adds(&b, ". ");
    buf_adds(&b, input);
    return buf_detach(&b);
}

/* text with line breaks as spaces, cut to max bytes at a character start. */
static void add_excerpt(buf *b, const char *s, size_t max)
{
    size_t len = strlen(s), cut = len;
    if (max && len > max) {
        cut = max;
        while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
            cut--;
    }
    for (size_t i = 0; i < cut; i++)
        buf_addc(b, s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' : s[i]);
    if (cut < len)
        buf_adds(b, "...");
}

char *memory_format_observation(const memory *m, const topk_hit *hits, size_t n,
                                size_t max_chars)
{
    buf b = BUF_INIT;

    if (n == 0)
        return xstrdup("No matching memories.");
    for (size_t i = 0; i < n; i++) {
        size_t j = hits[i].index;
        buf_printf(&b, "%zu. ", i + 1);
        if (m->dates[j])
            buf_printf(&b, "[%s] ", m->dates[j]);
        buf_addc(&b, '"');
        add_excerpt(&b, m->texts[j], max_chars);
        buf_addc(&b, '"');
        if (m->labels[j])
            buf_printf(&b, " -> label: %s", m->labels[j]);
        buf_printf(&b, " (score %.2f)\n", (double)hits[i].score);
    }
    return buf_detach(&b);
}
