#include "dataset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ds_internal.h"

static void item_copy(ds_item *dst, const ds_item *src)
{
    dst->id = xstrdup(src->id);
    dst->date = ds_dupn(src->date);
    dst->field[0] = xstrdup(src->field[0] ? src->field[0] : "");
    dst->field[1] = xstrdup(src->field[1] ? src->field[1] : "");
    dst->label = ds_dupn(src->label);
}

static void query_copy(ds_query *dst, const ds_query *src)
{
    dst->id = xstrdup(src->id);
    dst->date = ds_dupn(src->date);
    dst->input = xstrdup(src->input);
    dst->gold = ds_dupn(src->gold);
}

static size_t n_interactions(const task *t, const ds_user *u)
{
    size_t n = u->nitems;
    for (size_t j = 0; j < u->nqueries; j++)
        n += t->id == TASK_LAMP1 || u->queries[j].gold;
    return n;
}

typedef struct rank {
    size_t n, idx;
    const char *id;
} rank;

static int rank_cmp(const void *pa, const void *pb)
{
    const rank *a = pa, *b = pb;
    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* keep[i] = 1 for the n users with the largest count (ties by id); n = 0 keeps all. */
unsigned char *ds_top_users(const dataset *d, size_t n, int interactions)
{
    unsigned char *keep = xcalloc(d->nusers, 1);
    rank *r = xmalloc(d->nusers * sizeof *r);
    if (n == 0 || n > d->nusers)
        n = d->nusers;
    for (size_t i = 0; i < d->nusers; i++) {
        const ds_user *u = &d->users[i];
        r[i] = (rank){interactions ? n_interactions(d->task, u) : u->nitems, i, u->id};
    }
    qsort(r, d->nusers, sizeof *r, rank_cmp);
    for (size_t i = 0; i < n; i++)
        keep[r[i].idx] = 1;
    free(r);
    return keep;
}

/* A user's interactions, oldest first: history items, then each query with a gold as an
 * item (its text pulled out of the input). inputs[k] is the original input of a query,
 * NULL for profile items. */
static ds_item *interactions(const task *t, const ds_user *u, const char ***inputs, size_t *n)
{
    ds_item *it = xcalloc(u->nitems + u->nqueries, sizeof *it);
    const char **in = xcalloc(u->nitems + u->nqueries, sizeof *in);
    size_t k = 0;
    for (size_t j = 0; j < u->nitems; j++)
        item_copy(&it[k++], &u->items[j]);
    for (size_t j = 0; j < u->nqueries; j++) {
        const ds_query *q = &u->queries[j];
        char *text;
        if (!q->gold)
            continue;
        text = task_query_text(t, q->input);
        it[k].id = xstrdup(q->id);
        it[k].date = ds_dupn(q->date);
        /* lamp2n's input carries only the article text, not its title */
        it[k].field[0] = t->id == TASK_LAMP2N ? xstrdup("") : text;
        it[k].field[1] = t->id == TASK_LAMP2N ? text : xstrdup("");
        it[k].label = xstrdup(q->gold);
        in[k++] = q->input;
    }
    *inputs = in;
    *n = k;
    return it;
}

static void split_user(const task *t, const ds_user *u, long test_last, ds_user *o)
{
    const char **inputs;
    size_t n, m;
    ds_item *it = interactions(t, u, &inputs, &n);

    m = test_last < 0 ? n / 10 : (size_t)test_last;
    if (test_last < 0 && m < 1)
        m = 1;
    if (m > n - (n > 0)) /* keep at least one history item */
        m = n - (n > 0);
    o->items = it;
    o->nitems = n - m;
    o->queries = xcalloc(m, sizeof *o->queries);
    o->nqueries = m;
    for (size_t k = 0; k < m; k++) {
        ds_item *src = &it[n - m + k];
        ds_query *q = &o->queries[k];
        const char *fv[2] = {src->field[0], src->field[1]};
        q->id = src->id;
        q->date = src->date;
        q->gold = src->label;
        q->input = inputs[n - m + k] ? xstrdup(inputs[n - m + k]) : task_build_input(t, fv);
        free(src->field[0]);
        free(src->field[1]);
    }
    free(inputs);
}

int dataset_prepare(const dataset *in, const ds_prepare_opts *o, dataset *out, pe_err *e)
{
    const task *t = in->task;
    unsigned char *keep;
    size_t cap = 0;

    (void)e;
    memset(out, 0, sizeof *out);
    out->task = t;
    out->sources = xcalloc(in->nsources, sizeof *out->sources);
    for (size_t i = 0; i < in->nsources; i++) {
        out->sources[i].path = xstrdup(in->sources[i].path);
        out->sources[i].format = xstrdup(in->sources[i].format);
        memcpy(out->sources[i].sha256, in->sources[i].sha256, sizeof out->sources[i].sha256);
    }
    out->nsources = in->nsources;
    keep = ds_top_users(in, o->top_users, 1);
    for (size_t i = 0; i < in->nusers; i++) {
        const ds_user *u = &in->users[i];
        ds_user *ou;
        if (!keep[i])
            continue;
        out->users = xgrow(out->users, &cap, out->nusers + 1, sizeof *out->users);
        ou = &out->users[out->nusers++];
        memset(ou, 0, sizeof *ou);
        ou->id = xstrdup(u->id);
        if (t->id == TASK_LAMP1) {
            ou->items = xcalloc(u->nitems, sizeof *ou->items);
            for (size_t j = 0; j < u->nitems; j++)
                item_copy(&ou->items[j], &u->items[j]);
            ou->nitems = u->nitems;
            ou->queries = xcalloc(u->nqueries, sizeof *ou->queries);
            for (size_t j = 0; j < u->nqueries; j++)
                query_copy(&ou->queries[j], &u->queries[j]);
            ou->nqueries = u->nqueries;
        } else {
            split_user(t, u, o->test_last, ou);
        }
    }
    free(keep);
    return 0;
}

