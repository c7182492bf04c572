#include "dataset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ds_internal.h"

/* A new string made outside the arena (task_*), moved into it. */
static char *own(pe_arena *a, char *s)
{
    char *p = arena_strdup(a, s);
    free(s);
    return p;
}

/* A user's interactions, oldest first: history items (sharing the input's strings),
 * then each query with a gold as an item (its text pulled out of the input). inputs[k]
 * is the original input of a query, NULL for profile items. */
static ds_item *interactions(const task *t, const ds_user *u, const char ***inputs,
                             size_t *n, pe_arena *a)
{
    ds_item *it = xcalloc(u->nitems + u->nqueries + 1, sizeof *it);
    const char **in = xcalloc(u->nitems + u->nqueries + 1, sizeof *in);
    size_t k = 0;
    for (size_t j = 0; j < u->nitems; j++)
        it[k++] = u->items[j];
    for (size_t j = 0; j < u->nqueries; j++) {
        const ds_query *q = &u->queries[j];
        char *text;
        if (!q->gold)
            continue;
        text = own(a, task_query_text(t, q->input));
        it[k].id = q->id;
        it[k].date = q->date;
        /* lamp2n's input carries only the article text, not its title */
        it[k].field[0] = t->id == TASK_LAMP2N ? "" : text;
        it[k].field[1] = t->id == TASK_LAMP2N ? text : "";
        it[k].label = q->gold;
        it[k].pos = k;
        in[k++] = q->input;
    }
    *inputs = in;
    *n = k;
    return it;
}

static void split_user(pe_arena *a, const task *t, const ds_user *u, long test_last,
                       ds_user *o)
{
    const char **inputs;
    size_t n, m;
    ds_item *it = interactions(t, u, &inputs, &n, a);

    m = test_last < 0 ? n / 10 : (size_t)test_last;
    if (test_last < 0 && m < 1)
        m = 1;
    if (m > n - (n > 0)) /* keep at least one history item */
        m = n - (n > 0);
    /* when the history is a prefix of the profile, it is the profile's own array */
    o->items = n - m <= u->nitems ? u->items : it;
    o->nitems = n - m;
    o->queries = arena_calloc(a, (m + 1) * sizeof *o->queries);
    o->nqueries = m;
    for (size_t k = 0; k < m; k++) {
        const ds_item *src = &it[n - m + k];
        ds_query *q = &o->queries[k];
        const char *fv[2] = {src->field[0], src->field[1]};
        q->id = src->id;
        q->date = src->date;
        q->gold = src->label;
        q->input = inputs[n - m + k] ? (char *)inputs[n - m + k]
                                     : own(a, task_build_input(t, fv));
    }
    if (o->items == it) { /* answered questions among the history: an array of its own */
        o->items = arena_alloc(a, (n - m + 1) * sizeof *o->items);
        memcpy(o->items, it, (n - m) * sizeof *o->items);
    }
    free(it);
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
    /* the prepared users share the input's strings: out keeps in's arena alive */
    out->arena = arena_new(0);
    arena_hold(out->arena, in->arena);
    out->sources = xcalloc(in->nsources + 1, sizeof *out->sources);
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
        if (t->id == TASK_LAMP1)
            *ou = *u; /* the profile as history, the LaMP questions as queries */
        else {
            memset(ou, 0, sizeof *ou);
            ou->id = u->id;
            split_user(out->arena, t, u, o->test_last, ou);
        }
    }
    out->nogold = dataset_nqueries_nogold(out);
    free(keep);
    return 0;
}
