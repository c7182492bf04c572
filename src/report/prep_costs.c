/* What preparation cost: the accounting personas.jsonl records per (user,
 * method, turn), added to the method rows of a summary. Read from the run
 * folder, so a run, `score RUN_DIR` and `merge` (which concatenates the
 * shards' personas.jsonl) count the same calls. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "jsonu.h"

/* One piece of preparation: the method's own calls or the shared summary's. */
typedef struct prep_acct {
    long calls, cached, prompt_tokens, completion_tokens, unreported;
    double cost, spent;
} prep_acct;

typedef struct prep_line {
    char *user, *method;
    long turn;
    size_t order; /* line number: the last of equal keys wins (a resumed preparation) */
    prep_acct own, shared;
} prep_line;

static long count_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) && v->valuedouble > 0 ? (long)v->valuedouble : 0;
}

static double cost_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) && v->valuedouble > 0 ? v->valuedouble : 0;
}

static void read_acct(const cJSON *o, prep_acct *a)
{
    memset(a, 0, sizeof *a);
    if (!cJSON_IsObject(o))
        return;
    a->calls = count_of(o, "calls");
    a->cached = count_of(o, "calls_cached");
    a->prompt_tokens = count_of(o, "prompt_tokens");
    a->completion_tokens = count_of(o, "completion_tokens");
    a->unreported = count_of(o, "calls_unreported");
    a->cost = cost_of(o, "cost_usd");
    a->spent = cost_of(o, "cost_spent_usd");
}

static int line_cmp(const void *x, const void *y)
{
    const prep_line *a = x, *b = y;
    int c = strcmp(a->method, b->method);
    if (!c)
        c = strcmp(a->user, b->user);
    if (!c)
        c = (a->turn > b->turn) - (a->turn < b->turn);
    return c ? c : (a->order > b->order) - (a->order < b->order);
}

/* The lines of dir/personas.jsonl that carry accounting ("prep"); a torn last
 * line is left out (the run was interrupted while writing it). */
static int read_lines(const char *dir, prep_line **out, size_t *nout, pe_err *e)
{
    char *path = xasprintf("%s/personas.jsonl", dir), *data = NULL;
    size_t len = 0, cap = 0, n = 0, lineno = 0;
    prep_line *v = NULL;
    int rc = 0;

    *out = NULL;
    *nout = 0;
    if (!pe_file_exists(path)) {
        free(path);
        return 0;
    }
    rc = pe_read_file(path, 0, &data, &len, e);
    for (size_t i = 0; !rc && i < len;) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - data) : len, off;
        cJSON *j = jsonu_parse(data + i, end - i, &off);
        lineno++;
        if (!cJSON_IsObject(j)) {
            if (nl)
                rc = pe_errf(e, PE_EXIT_DATA, "%s:%zu: not a JSON object", path, lineno);
        } else if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "prep")) &&
                   jsonu_str(j, "user") && jsonu_str(j, "method")) {
            prep_line *l;
            v = xgrow(v, &cap, n + 1, sizeof *v);
            l = &v[n++];
            l->user = xstrdup(jsonu_str(j, "user"));
            l->method = xstrdup(jsonu_str(j, "method"));
            l->turn = count_of(j, "turn");
            l->order = lineno;
            read_acct(cJSON_GetObjectItemCaseSensitive(j, "prep"), &l->own);
            read_acct(cJSON_GetObjectItemCaseSensitive(j, "shared"), &l->shared);
        }
        cJSON_Delete(j);
        i = end + 1;
    }
    free(data);
    free(path);
    *out = v;
    *nout = n;
    return rc;
}

static void add_acct(method_summary *s, const prep_acct *a, int shared)
{
    s->calls += a->calls;
    s->prep_calls += a->calls;
    s->calls_cached += a->cached;
    s->prompt_tokens += a->prompt_tokens;
    s->completion_tokens += a->completion_tokens;
    s->tokens_unknown += a->unreported > 0;
    s->cost_usd += a->cost;
    s->cost_spent_usd += a->spent;
    if (shared) {
        s->shared_calls += a->calls;
        s->shared_cost_usd += a->cost;
    }
}

struct prep_index {
    prep_line *v; /* sorted by (method, user, turn, order); superseded lines removed */
    size_t n;
};

int prep_index_read(const char *dir, prep_index **out, pe_err *e)
{
    prep_line *v;
    size_t nv, k = 0;
    int rc = read_lines(dir, &v, &nv, e);

    /* sorted, so that the sums do not depend on the order the lines were
     * written in (threads, shards) */
    if (nv)
        qsort(v, nv, sizeof *v, line_cmp);
    for (size_t i = 0; i < nv; i++) {
        if (i + 1 < nv && strcmp(v[i].method, v[i + 1].method) == 0 &&
            strcmp(v[i].user, v[i + 1].user) == 0 && v[i].turn == v[i + 1].turn) {
            /* a later line of the same preparation replaces it */
            free(v[i].user);
            free(v[i].method);
            continue;
        }
        v[k++] = v[i];
    }
    *out = xcalloc(1, sizeof **out);
    (*out)->v = v;
    (*out)->n = k;
    return rc;
}

/* The first line of (method, user), or of method alone when user is NULL. */
static size_t lower_bound(const prep_index *x, const char *method, const char *user)
{
    size_t lo = 0, hi = x->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(x->v[mid].method, method);
        if (!c && user)
            c = strcmp(x->v[mid].user, user);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void prep_index_add(const prep_index *x, const char *method, const char *user,
                    method_summary *s)
{
    if (!x)
        return;
    for (size_t i = lower_bound(x, method, user);
         i < x->n && strcmp(x->v[i].method, method) == 0 &&
         (!user || strcmp(x->v[i].user, user) == 0);
         i++) {
        add_acct(s, &x->v[i].own, 0);
        add_acct(s, &x->v[i].shared, 1);
    }
}

void prep_index_free(prep_index *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++) {
        free(x->v[i].user);
        free(x->v[i].method);
    }
    free(x->v);
    free(x);
}
