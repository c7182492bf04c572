#include "dataset.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "ds_internal.h"
#include "jsonu.h"

#define NOPOS JSONU_NONE

/* ---- error context ---- */

typedef struct ctx {
    const task *t;
    const char *path;
    const char *data; /* the JSON text being read (a whole file, or one JSONL line) */
    size_t len;
    size_t line;     /* JSONL: line number; 0 for JSON files */
    long elem;       /* index in the top-level array, -1 when none */
    size_t elem_off; /* offset of that element (or of the root) in data */
    const char *user;
    const ds_limits *lim;
} ctx;

/* Record an error at arr[idx].field of the current element (arr NULL: the element itself;
 * idx < 0: arr is an object member, not an array). */
static int cerr(const ctx *c, pe_err *e, const char *arr, long idx, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int cerr(const ctx *c, pe_err *e, const char *arr, long idx, const char *field,
                const char *fmt, ...)
{
    char msg[768];
    buf b = BUF_INIT;
    size_t line = c->line;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!line && c->data && c->elem_off != NOPOS) {
        size_t off = c->elem_off, o, col;
        if (arr && (o = jsonu_scan_member(c->data, c->len, off, arr)) != NOPOS) {
            off = o;
            if (idx >= 0 && (o = jsonu_scan_elem(c->data, c->len, off, (size_t)idx)) != NOPOS)
                off = o;
        }
        if (field && (o = jsonu_scan_member(c->data, c->len, off, field)) != NOPOS)
            off = o;
        jsonu_line_col(c->data, off, &line, &col);
    }
    buf_adds(&b, c->path);
    if (line)
        buf_printf(&b, ":%zu", line);
    buf_adds(&b, ": ");
    if (c->elem >= 0 && !c->line)
        buf_printf(&b, "element %ld: ", c->elem);
    if (c->user)
        buf_printf(&b, "user \"%s\": ", c->user);
    if (arr && idx >= 0)
        buf_printf(&b, "%s[%ld]: ", arr, idx);
    else if (arr)
        buf_printf(&b, "%s: ", arr);
    if (field)
        buf_printf(&b, "field \"%s\" ", field);
    buf_adds(&b, msg);
    pe_errf(e, PE_EXIT_DATA, "%s", buf_str(&b));
    buf_free(&b);
    return PE_EXIT_DATA;
}

/* A text member (string or number); NULL or absent is an error when required. */
static int get_text(const ctx *c, const cJSON *o, const char *arr, long idx, const char *key,
                    int required, char **out, pe_err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    if (!v || (cJSON_IsNull(v) && !required)) {
        if (required)
            return cerr(c, e, arr, idx, key, "is missing");
        return 0;
    }
    *out = jsonu_text(v);
    if (!*out)
        return cerr(c, e, arr, idx, key, "must be a string, not %s", jsonu_type(v));
    if (c->lim->max_field_bytes && strlen(*out) > c->lim->max_field_bytes) {
        size_t n = strlen(*out);
        free(*out);
        *out = NULL;
        return cerr(c, e, arr, idx, key,
                    "is %zu bytes, over the limit of %zu (raise it with --max-field-bytes)", n,
                    c->lim->max_field_bytes);
    }
    return 0;
}

static int get_array(const ctx *c, const cJSON *o, const char *key, const cJSON **out, pe_err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = v;
    if (!v)
        return cerr(c, e, NULL, -1, key, "is missing");
    if (!cJSON_IsArray(v))
        return cerr(c, e, NULL, -1, key, "must be an array, not %s", jsonu_type(v));
    return 0;
}

/* Dates: 1 to 3 groups of digits joined by '-' ("2014", "2014-03-02"), compared as
 * tuples of integers like the official tuple(map(int, date.split('-'))). */
typedef struct dkey {
    long v[3];
    int n;
} dkey;

static int parse_date(const char *s, dkey *k)
{
    k->n = 0;
    for (;;) {
        long v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            if (++digits > 9)
                return -1;
            v = v * 10 + (*s++ - '0');
        }
        if (!digits || k->n == 3)
            return -1;
        k->v[k->n++] = v;
        if (*s == '\0')
            return 0;
        if (*s++ != '-')
            return -1;
    }
}

static int dkey_cmp(const dkey *a, const dkey *b)
{
    for (int i = 0; i < a->n && i < b->n; i++)
        if (a->v[i] != b->v[i])
            return a->v[i] < b->v[i] ? -1 : 1;
    return a->n < b->n ? -1 : a->n > b->n;
}

static int get_date(const ctx *c, const cJSON *o, const char *arr, long idx, char **out,
                    pe_err *e)
{
    dkey k;
    int rc = get_text(c, o, arr, idx, "date", 0, out, e);
    if (rc == 0 && *out && parse_date(*out, &k) != 0) {
        rc = cerr(c, e, arr, idx, "date", "must be YYYY or YYYY-MM-DD, not \"%s\"", *out);
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* A history item: id, optional date, the task's text fields and its label (the task's own
 * label field or "label"; absent for lamp1). */
static int parse_item(const ctx *c, const cJSON *o, const char *arr, long idx, ds_item *it,
                      pe_err *e)
{
    const task *t = c->t;
    int rc;
    memset(it, 0, sizeof *it);
    if (!cJSON_IsObject(o))
        return cerr(c, e, arr, idx, NULL, "must be an object, not %s", jsonu_type(o));
    if ((rc = get_text(c, o, arr, idx, "id", 1, &it->id, e)) ||
        (rc = get_date(c, o, arr, idx, &it->date, e)))
        goto fail;
    for (size_t f = 0; f < t->nfields; f++)
        if ((rc = get_text(c, o, arr, idx, t->fields[f], 1, &it->field[f], e)))
            goto fail;
    for (size_t f = t->nfields; f < 2; f++)
        it->field[f] = xstrdup("");
    if (t->label_field) {
        const char *key = cJSON_GetObjectItemCaseSensitive(o, "label") ? "label"
                                                                      : t->label_field;
        if ((rc = get_text(c, o, arr, idx, key, 1, &it->label, e)))
            goto fail;
    }
    return 0;
fail:
    ds_item_free(it);
    memset(it, 0, sizeof *it);
    return rc;
}

static int parse_query(const ctx *c, const cJSON *o, const char *arr, long idx, ds_query *q,
                       pe_err *e)
{
    int rc;
    memset(q, 0, sizeof *q);
    if (!cJSON_IsObject(o))
        return cerr(c, e, arr, idx, NULL, "must be an object, not %s", jsonu_type(o));
    if ((rc = get_text(c, o, arr, idx, "id", 1, &q->id, e)) ||
        (rc = get_date(c, o, arr, idx, &q->date, e)) ||
        (rc = get_text(c, o, arr, idx, "input", 1, &q->input, e)) ||
        (rc = get_text(c, o, arr, idx, "gold", 0, &q->gold, e))) {
        ds_query_free(q);
        memset(q, 0, sizeof *q);
    }
    return rc;
}

/* Stable sort by date; an item without a date takes the key of the item before it in
 * the file (items before the first dated one sort first), so it stays right after that
 * item. */
typedef struct skey {
    dkey k;
    int none; /* before any dated item */
    size_t pos;
} skey;

static int skey_cmp(const void *pa, const void *pb)
{
    const skey *a = pa, *b = pb;
    int r;
    if (a->none != b->none)
        return a->none ? -1 : 1;
    if (!a->none && (r = dkey_cmp(&a->k, &b->k)) != 0)
        return r;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static void sort_by_date(void *arr, size_t n, size_t size, size_t date_off)
{
    skey *k;
    char *tmp, *base = arr;
    dkey prev = {{0, 0, 0}, 0};
    int have = 0;

    if (n < 2)
        return;
    k = xmalloc(n * sizeof *k);
    for (size_t i = 0; i < n; i++) {
        const char *date = *(char **)(void *)(base + i * size + date_off);
        if (date && parse_date(date, &prev) == 0)
            have = 1;
        k[i].k = prev;
        k[i].none = !have;
        k[i].pos = i;
    }
    qsort(k, n, sizeof *k, skey_cmp);
    tmp = xmalloc(n * size);
    for (size_t i = 0; i < n; i++)
        memcpy(tmp + i * size, base + k[i].pos * size, size);
    memcpy(base, tmp, n * size);
    free(tmp);
    free(k);
}

static void user_sort(ds_user *u)
{
    sort_by_date(u->items, u->nitems, sizeof *u->items, offsetof(ds_item, date));
    sort_by_date(u->queries, u->nqueries, sizeof *u->queries, offsetof(ds_query, date));
}

/* ---- the loader ---- */

typedef struct origin {
    size_t src;
    size_t line; /* 0: unknown */
    long elem;   /* -1: none */
    int lamp;    /* from a LaMP questions file: its query takes a gold from the outputs */
} origin;

typedef struct gold {
    char *id, *output;
    size_t src, line, idx;
    int used;
} gold;

typedef struct loader {
    const task *t;
    dataset *d;
    size_t ucap, scap;
    origin *orig;
    size_t ocap;
    gold *golds;
    size_t ngolds, gcap;
    strmap gmap;
    char **pending; /* outputs files found beside questions files */
    size_t npending, pcap;
    const char *const *paths;
    size_t npaths;
    const ds_limits *lim;
} loader;

/* The file's "task" (tname) must mean the loader's task, LaMP_2 decided by the labels. */
static int check_task(const ctx *c, const char *tname, const char *const *labels, size_t n,
                      pe_err *e)
{
    char why[512];
    if (task_file_matches(c->t, tname, labels, n, why, sizeof why))
        return 0;
    return cerr(c, e, NULL, -1, "task", "%s", why);
}

static size_t add_source(loader *L, const char *path, const char *format, const char *data,
                         size_t len)
{
    ds_source *s;
    L->d->sources = xgrow(L->d->sources, &L->scap, L->d->nsources + 1, sizeof *s);
    s = &L->d->sources[L->d->nsources];
    s->path = xstrdup(path);
    s->format = xstrdup(format);
    sha256_hex(data, len, s->sha256);
    return L->d->nsources++;
}

static ds_user *add_user(loader *L, char *id, size_t src, size_t line, long elem, int lamp)
{
    ds_user *u;
    L->d->users = xgrow(L->d->users, &L->ucap, L->d->nusers + 1, sizeof *u);
    L->orig = xgrow(L->orig, &L->ocap, L->d->nusers + 1, sizeof *L->orig);
    L->orig[L->d->nusers] = (origin){src, line, elem, lamp};
    u = &L->d->users[L->d->nusers++];
    memset(u, 0, sizeof *u);
    u->id = id;
    return u;
}

/* Parse a profile/history array (queries = 0) or a query array (queries = 1) into u. */
static int parse_list(const ctx *c, const cJSON *arr, const char *name, int queries,
                      ds_user *u, pe_err *e)
{
    const cJSON *it;
    size_t n = (size_t)cJSON_GetArraySize(arr), j = 0;
    if (!queries && c->lim->max_profile_items && n > c->lim->max_profile_items)
        return cerr(c, e, name, -1, NULL,
                    "has %zu items, over the limit of %zu (raise it with --max-profile-items)",
                    n, c->lim->max_profile_items);
    if (queries)
        u->queries = xcalloc(n, sizeof *u->queries);
    else
        u->items = xcalloc(n, sizeof *u->items);
    cJSON_ArrayForEach(it, arr)
    {
        int rc = queries ? parse_query(c, it, name, (long)j, &u->queries[j], e)
                         : parse_item(c, it, name, (long)j, &u->items[j], e);
        if (rc)
            return rc;
        j++;
        *(queries ? &u->nqueries : &u->nitems) = j;
    }
    return 0;
}

/* LaMP questions ({id, input, profile}) or user-grouped ({user_id, profile, query}). */
static int load_array(loader *L, ctx *c, const cJSON *root, size_t src, int grouped,
                      pe_err *e)
{
    const cJSON *el;
    size_t off = jsonu_skip_ws(c->data, c->len, 0), line = 1, lineoff = 0;
    long k = 0;

    if (!cJSON_IsArray(root))
        return cerr(c, e, NULL, -1, NULL, "expected a JSON array of %s, not %s",
                    grouped ? "users" : "questions", jsonu_type(root));
    if (cJSON_GetArraySize(root) == 0)
        return cerr(c, e, NULL, -1, NULL, "contains no %s", grouped ? "users" : "questions");
    off = jsonu_skip_ws(c->data, c->len, off + 1);
    cJSON_ArrayForEach(el, root)
    {
        const cJSON *prof, *qs;
        char *id;
        ds_user *u;
        int rc;

        /* walk the text alongside the tree so each element's line is known */
        for (; lineoff < off; lineoff++)
            line += c->data[lineoff] == '\n';
        c->elem = k;
        c->elem_off = off;
        c->user = NULL;
        if (!cJSON_IsObject(el))
            return cerr(c, e, NULL, -1, NULL, "must be an object, not %s", jsonu_type(el));
        if ((rc = get_text(c, el, NULL, -1, grouped ? "user_id" : "id", 1, &id, e)))
            return rc;
        u = add_user(L, id, src, line, k, !grouped);
        c->user = u->id;
        if ((rc = get_array(c, el, "profile", &prof, e)) ||
            (rc = parse_list(c, prof, "profile", 0, u, e)))
            return rc;
        if (grouped) {
            if ((rc = get_array(c, el, "query", &qs, e)) ||
                (rc = parse_list(c, qs, "query", 1, u, e)))
                return rc;
        } else {
            char *input;
            if ((rc = get_text(c, el, NULL, -1, "input", 1, &input, e)))
                return rc;
            u->queries = xcalloc(1, sizeof *u->queries);
            u->queries[0].id = xstrdup(u->id);
            u->queries[0].input = input;
            u->nqueries = 1;
        }
        user_sort(u);
        off = jsonu_skip_ws(c->data, c->len, jsonu_skip_value(c->data, c->len, off));
        if (off < c->len && c->data[off] == ',')
            off = jsonu_skip_ws(c->data, c->len, off + 1);
        k++;
    }
    return 0;
}

static int load_jsonl(loader *L, ctx *c, const char *data, size_t len, size_t src, pe_err *e)
{
    size_t lineno = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(data + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - data) : len, erroff;
        const cJSON *hist, *qs;
        cJSON *j;
        char *id, *tname;
        ds_user *u;
        int rc;

        lineno++;
        c->data = data + at;
        c->len = end - at;
        c->line = lineno;
        c->elem = -1;
        c->elem_off = 0;
        c->user = NULL;
        at = end + 1;
        if (jsonu_skip_ws(c->data, c->len, 0) == c->len)
            continue; /* blank line */
        j = jsonu_parse(c->data, c->len, &erroff);
        if (!j)
            return pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: invalid JSON", c->path, lineno,
                           erroff + 1);
        rc = 0;
        if (!cJSON_IsObject(j)) {
            rc = cerr(c, e, NULL, -1, NULL, "line must be a JSON object, not %s",
                      jsonu_type(j));
            goto next;
        }
        if ((rc = get_text(c, j, NULL, -1, "user", 1, &id, e)))
            goto next;
        u = add_user(L, id, src, lineno, -1, 0);
        c->user = u->id;
        if ((rc = get_text(c, j, NULL, -1, "task", 0, &tname, e)))
            goto next;
        if ((rc = get_array(c, j, "history", &hist, e)) ||
            (rc = parse_list(c, hist, "history", 0, u, e)) ||
            (rc = get_array(c, j, "queries", &qs, e)) ||
            (rc = parse_list(c, qs, "queries", 1, u, e))) {
            free(tname);
            goto next;
        }
        if (tname) {
            /* the user's labels decide what LaMP_2 means */
            const char **labels = xcalloc(u->nitems + u->nqueries + 1, sizeof *labels);
            size_t n = 0;
            for (size_t i = 0; i < u->nitems; i++)
                if (u->items[i].label)
                    labels[n++] = u->items[i].label;
            for (size_t i = 0; i < u->nqueries; i++)
                if (u->queries[i].gold)
                    labels[n++] = u->queries[i].gold;
            rc = check_task(c, tname, labels, n, e);
            free(labels);
            free(tname);
            if (rc)
                goto next;
        }
        user_sort(u);
    next:
        cJSON_Delete(j);
        if (rc)
            return rc;
    }
    return 0;
}

static int read_golds(loader *L, ctx *c, const cJSON *golds, size_t src, pe_err *e);

static int load_outputs(loader *L, ctx *c, const cJSON *root, size_t src, pe_err *e)
{
    const cJSON *golds;
    char *tname;
    int rc;

    c->elem = -1;
    c->elem_off = jsonu_skip_ws(c->data, c->len, 0);
    size_t first = L->ngolds;
    if ((rc = get_text(c, root, NULL, -1, "task", 1, &tname, e)))
        return rc;
    if ((rc = get_array(c, root, "golds", &golds, e)) ||
        (rc = read_golds(L, c, golds, src, e))) {
        free(tname);
        return rc;
    }
    {
        /* the golds decide what LaMP_2 means */
        const char **labels = xcalloc(L->ngolds - first + 1, sizeof *labels);
        for (size_t i = first; i < L->ngolds; i++)
            labels[i - first] = L->golds[i].output;
        rc = check_task(c, tname, labels, L->ngolds - first, e);
        free(labels);
        free(tname);
    }
    return rc;
}

/* The golds array of an outputs file. */
static int read_golds(loader *L, ctx *c, const cJSON *golds, size_t src, pe_err *e)
{
    const cJSON *g;
    size_t off, lineoff = 0, line = 1;
    long k = 0;
    int rc;

    off = jsonu_scan_member(c->data, c->len, c->elem_off, "golds");
    off = off == NOPOS ? c->len : jsonu_skip_ws(c->data, c->len, off + 1);
    cJSON_ArrayForEach(g, golds)
    {
        gold *gd;
        for (; lineoff < off && lineoff < c->len; lineoff++)
            line += c->data[lineoff] == '\n';
        L->golds = xgrow(L->golds, &L->gcap, L->ngolds + 1, sizeof *gd);
        gd = &L->golds[L->ngolds];
        memset(gd, 0, sizeof *gd);
        gd->src = src;
        gd->line = line;
        gd->idx = (size_t)k;
        if (!cJSON_IsObject(g))
            return cerr(c, e, "golds", k, NULL, "must be an object, not %s", jsonu_type(g));
        if ((rc = get_text(c, g, "golds", k, "id", 1, &gd->id, e)))
            return rc;
        if ((rc = get_text(c, g, "golds", k, "output", 1, &gd->output, e))) {
            free(gd->id);
            return rc;
        }
        L->ngolds++;
        if (strmap_add(&L->gmap, gd->id, L->ngolds - 1) != L->ngolds - 1)
            return cerr(c, e, "golds", k, "id", "\"%s\" appears twice", gd->id);
        off = jsonu_skip_ws(c->data, c->len, jsonu_skip_value(c->data, c->len, off));
        if (off < c->len && c->data[off] == ',')
            off = jsonu_skip_ws(c->data, c->len, off + 1);
        k++;
    }
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Check a file's text for emptiness and UTF-8. */
static int check_text(const char *path, const char *data, size_t len, pe_err *e)
{
    size_t bad, line, col;
    if (jsonu_skip_ws(data, len, 0) == len)
        return pe_errf(e, PE_EXIT_DATA, "%s: file is empty", path);
    if (!pe_utf8_valid(data, len, &bad)) {
        jsonu_line_col(data, bad, &line, &col);
        return pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: invalid UTF-8 at byte offset %zu", path,
                       line, col, bad);
    }
    return 0;
}

static int is_outputs(const cJSON *j)
{
    return cJSON_IsObject(j) && cJSON_GetObjectItemCaseSensitive(j, "golds");
}

/* Load one file's text (NUL-terminated; the caller frees it). format: NULL/"auto" detects;
 * an outputs file is recognized in any mode. */
static int load_text(loader *L, const char *path, const char *data, size_t len,
                     const char *format, pe_err *e)
{
    size_t start, erroff, line, col;
    cJSON *root = NULL;
    ctx c = {L->t, path, NULL, 0, 0, -1, 0, NULL, L->lim};
    const char *fmt;
    int auto_fmt = !format || !strcmp(format, "auto"), rc;

    if ((rc = check_text(path, data, len, e)))
        return rc;
    c.data = data;
    c.len = len;
    start = jsonu_skip_ws(data, len, 0);
    if (data[start] == '{' || (pe_streq(format, "jsonl") && data[start] != '[')) {
        /* JSONL, or an outputs file (one JSON object, possibly over several lines) */
        root = jsonu_parse(data, len, &erroff);
        if (is_outputs(root)) {
            fmt = "lamp-outputs";
        } else if (auto_fmt || !strcmp(format, "jsonl")) {
            fmt = "jsonl";
        } else if (!root) {
            jsonu_line_col(data, erroff, &line, &col);
            rc = pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: invalid JSON", path, line, col);
            goto done;
        } else {
            fmt = format; /* load_array reports the wrong type */
        }
    } else {
        root = jsonu_parse(data, len, &erroff);
        if (!root) {
            jsonu_line_col(data, erroff, &line, &col);
            rc = pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: invalid JSON", path, line, col);
            goto done;
        }
        if (!auto_fmt) {
            fmt = format;
        } else {
            const cJSON *first = cJSON_IsArray(root) ? root->child : NULL;
            if (cJSON_GetObjectItemCaseSensitive(first, "user_id"))
                fmt = "grouped";
            else if (cJSON_GetObjectItemCaseSensitive(first, "profile"))
                fmt = "lamp";
            else if (cJSON_IsArray(root) && !first)
                fmt = "lamp"; /* load_array reports the empty array */
            else {
                rc = pe_errf(e, PE_EXIT_DATA,
                             "%s: cannot detect the format (expected an array of LaMP "
                             "questions with \"profile\" or of users with \"user_id\", or "
                             "JSONL); name it with --format",
                             path);
                goto done;
            }
        }
    }
    {
        size_t src = add_source(L, path, fmt, data, len);
        if (!strcmp(fmt, "jsonl")) {
            cJSON_Delete(root);
            root = NULL;
            rc = load_jsonl(L, &c, data, len, src, e);
        } else if (!strcmp(fmt, "lamp-outputs")) {
            rc = load_outputs(L, &c, root, src, e);
        } else {
            rc = load_array(L, &c, root, src, !strcmp(fmt, "grouped"), e);
            if (!rc && !strcmp(fmt, "lamp") && ends_with(path, "_questions.json")) {
                /* foo_questions.json pairs with foo_outputs.json beside it */
                size_t n = strlen(path) - strlen("_questions.json");
                char *o = xasprintf("%.*s_outputs.json", (int)n, path);
                int listed = 0;
                for (size_t i = 0; i < L->npaths; i++)
                    listed |= !strcmp(L->paths[i], o);
                for (size_t i = 0; i < L->npending; i++)
                    listed |= !strcmp(L->pending[i], o);
                if (!listed && pe_file_exists(o)) {
                    L->pending = xgrow(L->pending, &L->pcap, L->npending + 1, sizeof(char *));
                    L->pending[L->npending++] = o;
                } else {
                    free(o);
                }
            }
        }
    }
done:
    cJSON_Delete(root);
    return rc;
}

static int load_file(loader *L, const char *path, const char *format, pe_err *e)
{
    char *data;
    size_t len;
    int rc = pe_read_file(path, L->lim->max_file_bytes, &data, &len, e);
    if (rc == PE_EXIT_DATA)
        return pe_errf(e, PE_EXIT_DATA,
                       "%s: file is larger than the limit of %zu bytes (raise it with "
                       "--max-file-bytes)",
                       path, L->lim->max_file_bytes);
    if (rc)
        return rc;
    rc = load_text(L, path, data, len, format, e);
    free(data);
    return rc;
}

/* Attach golds to LaMP questions; every gold must name a question. */
static int apply_golds(loader *L, pe_err *e)
{
    for (size_t i = 0; i < L->d->nusers; i++) {
        ds_user *u = &L->d->users[i];
        size_t g;
        if (!L->orig[i].lamp || !u->nqueries || u->queries[0].gold)
            continue;
        g = strmap_get(&L->gmap, u->queries[0].id);
        if (g == STRMAP_NONE)
            continue;
        u->queries[0].gold = xstrdup(L->golds[g].output);
        L->golds[g].used = 1;
    }
    for (size_t g = 0; g < L->ngolds; g++) {
        const gold *gd = &L->golds[g];
        if (!gd->used)
            return pe_errf(e, PE_EXIT_DATA,
                           "%s:%zu: golds[%zu]: id \"%s\" has no question in the questions "
                           "files",
                           L->d->sources[gd->src].path, gd->line, gd->idx, gd->id);
    }
    return 0;
}

static int check_unique_users(loader *L, pe_err *e)
{
    strmap m = {0};
    int rc = 0;
    for (size_t i = 0; i < L->d->nusers && !rc; i++) {
        size_t first = strmap_add(&m, L->d->users[i].id, i);
        if (first != i) {
            const origin *a = &L->orig[first], *b = &L->orig[i];
            char where[64] = "";
            if (b->elem >= 0)
                snprintf(where, sizeof where, " element %ld:", b->elem);
            rc = pe_errf(e, PE_EXIT_DATA,
                         "%s:%zu:%s user \"%s\" appears twice (first at %s:%zu)",
                         L->d->sources[b->src].path, b->line, where, L->d->users[i].id,
                         L->d->sources[a->src].path, a->line);
        }
    }
    strmap_free(&m);
    return rc;
}

/* Load paths (or, when mem is non-NULL, the text mem named paths[0]). */
static int load_all(dataset *d, const task *t, const char *const *paths, size_t npaths,
                    const char *mem, size_t memlen, const char *format, const ds_limits *lim,
                    pe_err *e)
{
    loader L;
    ds_limits deflim = ds_limits_default();
    int rc = 0;

    memset(d, 0, sizeof *d);
    memset(&L, 0, sizeof L);
    if (!t)
        return pe_errf(e, PE_EXIT_USAGE, "no task given (one of %s)", task_names());
    if (format && strcmp(format, "auto") && strcmp(format, "lamp") &&
        strcmp(format, "grouped") && strcmp(format, "jsonl"))
        return pe_errf(e, PE_EXIT_USAGE, "unknown format \"%s\" (one of %s)", format,
                       DS_FORMATS);
    if (npaths == 0)
        return pe_errf(e, PE_EXIT_USAGE, "no data files given");
    d->task = t;
    L.t = t;
    L.d = d;
    L.paths = paths;
    L.npaths = npaths;
    L.lim = lim ? lim : &deflim;
    if (mem) {
        char *copy = xmalloc(memlen + 1);
        memcpy(copy, mem, memlen);
        copy[memlen] = '\0';
        rc = load_text(&L, paths[0], copy, memlen, format, e);
        free(copy);
    }
    for (size_t i = 0; i < npaths && !rc && !mem; i++)
        rc = load_file(&L, paths[i], format, e);
    for (size_t i = 0; i < L.npending && !rc && !mem; i++)
        rc = load_file(&L, L.pending[i], "lamp", e);
    if (!rc)
        rc = apply_golds(&L, e);
    if (!rc)
        rc = check_unique_users(&L, e);
    if (!rc && d->nusers == 0)
        rc = pe_errf(e, PE_EXIT_DATA, "%s: no users or questions in the given files",
                     paths[0]);
    for (size_t i = 0; i < L.ngolds; i++) {
        free(L.golds[i].id);
        free(L.golds[i].output);
    }
    for (size_t i = 0; i < L.npending; i++)
        free(L.pending[i]);
    free(L.pending);
    free(L.golds);
    free(L.orig);
    strmap_free(&L.gmap);
    if (rc)
        dataset_free(d);
    return rc;
}

int dataset_load(dataset *d, const task *t, const char *const *paths, size_t npaths,
                 const char *format, pe_err *e)
{
    return load_all(d, t, paths, npaths, NULL, 0, format, NULL, e);
}

int dataset_load_limits(dataset *d, const task *t, const char *const *paths, size_t npaths,
                        const char *format, const ds_limits *lim, pe_err *e)
{
    return load_all(d, t, paths, npaths, NULL, 0, format, lim, e);
}

int dataset_load_mem(dataset *d, const task *t, const char *name, const char *data,
                     size_t len, const char *format, const ds_limits *lim, pe_err *e)
{
    return load_all(d, t, &name, 1, data ? data : "", len, format, lim, e);
}

