#include "dataset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ds_internal.h"

ds_limits ds_limits_default(void)
{
    ds_limits l = {DS_DEFAULT_MAX_FILE_BYTES, DS_DEFAULT_MAX_FIELD_BYTES,
                   DS_DEFAULT_MAX_PROFILE_ITEMS, 0};
    return l;
}

void dataset_free(dataset *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nsources; i++) {
        free(d->sources[i].path);
        free(d->sources[i].format);
    }
    for (size_t i = 0; i < d->nwarnings; i++)
        free(d->warnings[i]);
    free(d->warnings);
    free(d->users);
    free(d->sources);
    arena_unref(d->arena);
    memset(d, 0, sizeof *d);
}

size_t dataset_nqueries(const dataset *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->nusers; i++)
        n += d->users[i].nqueries;
    return n;
}

size_t dataset_nqueries_nogold(const dataset *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->nusers; i++)
        for (size_t j = 0; j < d->users[i].nqueries; j++)
            n += !d->users[i].queries[j].gold;
    return n;
}

/* ---- writing ---- */

static void add_kv(buf *b, const char *key, const char *val)
{
    buf_addc(b, ',');
    buf_json_str(b, key);
    buf_addc(b, ':');
    buf_json_str(b, val);
}

int dataset_write_jsonl(const dataset *d, const char *path, pe_err *e)
{
    buf b = BUF_INIT;
    const task *t = d->task;
    pe_atomic w;
    int rc = pe_atomic_open(&w, path, e);

    /* written a user at a time: memory stays one user's line, whatever the file size */
    for (size_t i = 0; i < d->nusers && !rc; i++) {
        const ds_user *u = &d->users[i];
        if ((rc = pe_interrupted(e, "writing the prepared data"))) {
            pe_atomic_abort(&w);
            break;
        }
        buf_adds(&b, "{\"user\":");
        buf_json_str(&b, u->id);
        add_kv(&b, "task", t->name);
        buf_adds(&b, ",\"history\":[");
        for (size_t j = 0; j < u->nitems; j++) {
            const ds_item *it = &u->items[j];
            buf_adds(&b, j ? ",{\"id\":" : "{\"id\":");
            buf_json_str(&b, it->id);
            if (it->date)
                add_kv(&b, "date", it->date);
            for (size_t f = 0; f < t->nfields; f++)
                add_kv(&b, t->fields[f], it->field[f]);
            if (t->label_field && it->label)
                add_kv(&b, "label", it->label);
            buf_addc(&b, '}');
        }
        buf_adds(&b, "],\"queries\":[");
        for (size_t j = 0; j < u->nqueries; j++) {
            const ds_query *q = &u->queries[j];
            buf_adds(&b, j ? ",{\"id\":" : "{\"id\":");
            buf_json_str(&b, q->id);
            if (q->date)
                add_kv(&b, "date", q->date);
            add_kv(&b, "input", q->input);
            if (q->gold)
                add_kv(&b, "gold", q->gold);
            buf_addc(&b, '}');
        }
        buf_adds(&b, "]}\n");
        if (b.len >= ((size_t)1 << 20) || i + 1 == d->nusers) {
            rc = pe_atomic_write(&w, b.data, b.len, e);
            buf_reset(&b);
        }
    }
    buf_free(&b);
    return rc ? rc : pe_atomic_commit(&w, e);
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

int dataset_select(dataset *d, dataset *rest, size_t n, const char *const *ids, size_t nids,
                   size_t max_queries, pe_err *e)
{
    unsigned char *keep;
    size_t k = 0;

    if (rest)
        memset(rest, 0, sizeof *rest);

    if (nids > 0) {
        strmap m = {0};
        keep = xcalloc(d->nusers ? d->nusers : 1, 1);
        for (size_t i = 0; i < d->nusers; i++)
            strmap_add(&m, d->users[i].id, i);
        for (size_t i = 0; i < nids; i++) {
            size_t at = strmap_get(&m, ids[i]);
            if (at == STRMAP_NONE) {
                strmap_free(&m);
                free(keep);
                return pe_errf(e, PE_EXIT_USAGE, "user \"%s\" is not in the data", ids[i]);
            }
            keep[at] = 1;
        }
        strmap_free(&m);
    } else {
        keep = ds_top_users(d, n, 0);
    }
    if (rest) {
        rest->task = d->task;
        rest->users = xcalloc(d->nusers ? d->nusers : 1, sizeof *rest->users);
    }
    for (size_t i = 0; i < d->nusers; i++) {
        /* dropped users and queries stay in the arena until dataset_free() of d */
        if (!keep[i]) {
            if (rest)
                rest->users[rest->nusers++] = d->users[i];
            continue;
        }
        d->users[k] = d->users[i];
        if (max_queries && d->users[k].nqueries > max_queries)
            d->users[k].nqueries = max_queries;
        k++;
    }
    d->nusers = k;
    free(keep);
    return 0;
}

void dataset_query_item(const task *t, const ds_query *q, ds_item *out)
{
    memset(out, 0, sizeof *out);
    out->id = q->id;
    out->date = q->date;
    out->label = t->id == TASK_LAMP1 ? NULL : q->gold;
    if (t->id == TASK_LAMP1) {
        char *title = NULL, *r1 = NULL, *r2 = NULL;
        if (task_lamp1_parse(q->input, &title, &r1, &r2) != 0)
            title = xstrdup("");
        free(r1);
        free(r2);
        out->field[0] = title;
        out->field[1] = xstrdup("");
    } else if (t->id == TASK_LAMP2N) {
        out->field[0] = xstrdup("");
        out->field[1] = task_query_text(t, q->input);
    } else {
        out->field[0] = task_query_text(t, q->input);
        out->field[1] = xstrdup("");
    }
}

void dataset_query_item_free(ds_item *it)
{
    free(it->field[0]);
    free(it->field[1]);
    it->field[0] = it->field[1] = NULL;
}

