/* One element of a data file (a LaMP question, a grouped user, a JSONL line) parsed
 * alone into a user whose strings sit in one exact-size arena block. Runs on worker
 * threads: everything here is local to the element. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ds_internal.h"
#include "jsonu.h"
#include "util.h"

#define NOPOS JSONU_NONE

typedef struct ctx {
    const task *t;
    const char *path;
    const ds_limits *lim;
    const char *data; /* the element's text */
    size_t len;
    size_t line0, col0; /* file position of data[0] */
    int jsonl;        /* a JSONL line: messages give the line only */
    long elem;        /* index in the top-level array, -1 for JSONL */
    const char *user;
    pe_arena *scratch; /* strings made here (numbers as text, "") until the copy */
    ds_parsed *out;   /* for warnings */
    /* offsets of the elements of the last array a position was asked for */
    const char *arr_name;
    size_t arr_at, *arr_off, arr_n;
} ctx;

static void warnf(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(ctx *c, const char *fmt, ...)
{
    ds_parsed *p = c->out;
    va_list ap;
    char msg[768];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->warnings = xgrow(p->warnings, &p->wcap, p->nwarnings + 1, sizeof *p->warnings);
    p->warnings[p->nwarnings++] = xstrdup(msg);
}

/* Offset (in data) of element idx of the array at off, through a table built once. */
static size_t arr_elem(ctx *c, const char *arr, size_t off, size_t idx)
{
    if (off >= c->len || c->data[off] != '[')
        return NOPOS;
    if (c->arr_name != arr || c->arr_at != off) {
        size_t i = off + 1, cap = 0;
        free(c->arr_off);
        c->arr_off = NULL;
        c->arr_n = 0;
        c->arr_name = arr;
        c->arr_at = off;
        for (;;) {
            i = jsonu_skip_ws(c->data, c->len, i);
            if (i >= c->len || c->data[i] == ']')
                break;
            c->arr_off = xgrow(c->arr_off, &cap, c->arr_n + 1, sizeof *c->arr_off);
            c->arr_off[c->arr_n++] = i;
            i = jsonu_skip_ws(c->data, c->len, jsonu_skip_value(c->data, c->len, i));
            if (i < c->len && c->data[i] == ',')
                i++;
        }
    }
    return idx < c->arr_n ? c->arr_off[idx] : NOPOS;
}

/* Offset in data of arr[idx].field of the element (arr NULL: the element itself; idx < 0:
 * arr is an object member); as deep as it can be found. */
static size_t locate(ctx *c, const char *arr, long idx, const char *field)
{
    size_t off = jsonu_skip_ws(c->data, c->len, 0), o;
    if (arr && (o = jsonu_scan_member(c->data, c->len, off, arr)) != NOPOS) {
        off = o;
        if (idx >= 0 && (o = arr_elem(c, arr, off, (size_t)idx)) != NOPOS)
            off = o;
    }
    if (field && (o = jsonu_scan_member(c->data, c->len, off, field)) != NOPOS)
        off = o;
    return off;
}

/* File line and column of an offset in data. */
static void file_pos(const ctx *c, size_t off, size_t *line, size_t *col)
{
    size_t l, k;
    jsonu_line_col(c->data, off, &l, &k);
    *line = c->line0 + l - 1;
    *col = l == 1 ? c->col0 + k - 1 : k;
}

/* Record an error at arr[idx].field of the element (see locate). */
static int cerr(ctx *c, pe_err *e, const char *arr, long idx, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int cerr(ctx *c, pe_err *e, const char *arr, long idx, const char *field,
                const char *fmt, ...)
{
    char msg[768];
    buf b = BUF_INIT;
    size_t line = c->line0, col;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!c->jsonl)
        file_pos(c, locate(c, arr, idx, field), &line, &col);
    buf_printf(&b, "%s:%zu: ", c->path, line);
    if (c->elem >= 0)
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

/* A number as Python's str() shows what json.load made of it: an integer token as
 * written, a float in repr() form (4.0 stays "4.0", as LaMP's prompts show it). */
static char *number_text(ctx *c, const cJSON *v, const char *arr, long idx, const char *key)
{
    size_t off = locate(c, arr, idx, key), end = off;
    char num[64];
    int is_float = 0;
    while (end < c->len && !strchr(",]} \t\r\n", c->data[end])) {
        is_float |= c->data[end] == '.' || c->data[end] == 'e' || c->data[end] == 'E';
        end++;
    }
    /* an overflowing number (1e400) keeps its text, for the message that refuses it */
    if (off < c->len && (!is_float || !isfinite(v->valuedouble)) && end > off &&
        end - off < sizeof num) {
        if (end - off == 2 && !memcmp(c->data + off, "-0", 2))
            return arena_strdup(c->scratch, "0");
        return arena_strndup(c->scratch, c->data + off, end - off);
    }
    pe_fmt_double(num, sizeof num, v->valuedouble);
    return arena_strdup(c->scratch, num);
}

enum { OPTIONAL, REQUIRED, TEXT };

/* A text member (string or number), borrowed from the tree or made in the scratch
 * arena. OPTIONAL: absent or null gives NULL; REQUIRED: both are errors; TEXT (a
 * text field): absent is an error, null reads as "" with a warning. */
static int get_text(ctx *c, const cJSON *o, const char *arr, long idx, const char *key,
                    int mode, const char **out, pe_err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    size_t n;
    *out = NULL;
    if (!v || (cJSON_IsNull(v) && mode != REQUIRED)) {
        if (v && mode == TEXT) {
            size_t line, col;
            file_pos(c, locate(c, arr, idx, key), &line, &col);
            if (arr && idx >= 0)
                warnf(c, "%s:%zu: user \"%s\": %s[%ld]: field \"%s\" is null; read as \"\"",
                      c->path, c->jsonl ? c->line0 : line, c->user ? c->user : "?", arr, idx,
                      key);
            else
                warnf(c, "%s:%zu: user \"%s\": field \"%s\" is null; read as \"\"", c->path,
                      c->jsonl ? c->line0 : line, c->user ? c->user : "?", key);
            *out = "";
            return 0;
        }
        if (mode != OPTIONAL)
            return cerr(c, e, arr, idx, key, "is missing");
        return 0;
    }
    if (cJSON_IsString(v))
        *out = v->valuestring;
    else if (cJSON_IsNumber(v))
        *out = number_text(c, v, arr, idx, key);
    else
        return cerr(c, e, arr, idx, key, "must be a string, not %s", jsonu_type(v));
    n = strlen(*out);
    if (c->lim->max_field_bytes && n > c->lim->max_field_bytes) {
        *out = NULL;
        return cerr(c, e, arr, idx, key,
                    "is %zu bytes, over the limit of %zu (raise it with --max-field-bytes)", n,
                    c->lim->max_field_bytes);
    }
    return 0;
}

static int get_array(ctx *c, const cJSON *o, const char *key, const cJSON **out, pe_err *e)
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

static int get_date(ctx *c, const cJSON *o, const char *arr, long idx, const char **out,
                    pe_err *e)
{
    dkey k;
    int rc = get_text(c, o, arr, idx, "date", OPTIONAL, out, e);
    if (rc == 0 && *out && parse_date(*out, &k) != 0) {
        rc = cerr(c, e, arr, idx, "date", "must be YYYY or YYYY-MM-DD, not \"%s\"", *out);
        *out = NULL;
    }
    return rc;
}

/* lamp3's labels and golds are ratings: text Python's float() reads as a finite number
 * (the official scorer calls float() on them; "abc" or 1e400 would make every
 * metric of the run meaningless). */
static int check_rating(ctx *c, const char *v, const char *arr, long idx, const char *key,
                        pe_err *e)
{
    double x;
    if (!c->t->rating || (pe_parse_pyfloat(v, &x) && isfinite(x)))
        return 0;
    return cerr(c, e, arr, idx, key, "\"%s\" is not a finite rating", v);
}

/* The loaded strings are borrowed (from the tree or the scratch arena) until
 * compact() copies them; the casts below drop a const that compact() restores. */
static int parse_item(ctx *c, const cJSON *o, const char *arr, long idx, ds_item *it,
                      pe_err *e)
{
    const task *t = c->t;
    const char *s;
    int rc;
    memset(it, 0, sizeof *it);
    it->pos = (size_t)idx;
    if (!cJSON_IsObject(o))
        return cerr(c, e, arr, idx, NULL, "must be an object, not %s", jsonu_type(o));
    if ((rc = get_text(c, o, arr, idx, "id", REQUIRED, &s, e)))
        return rc;
    it->id = (char *)s;
    if ((rc = get_date(c, o, arr, idx, &s, e)))
        return rc;
    it->date = (char *)s;
    for (size_t f = 0; f < 2; f++) {
        s = "";
        if (f < t->nfields && (rc = get_text(c, o, arr, idx, t->fields[f], TEXT, &s, e)))
            return rc;
        it->field[f] = (char *)s;
    }
    if (t->label_field) {
        const char *key = cJSON_GetObjectItemCaseSensitive(o, "label") ? "label"
                                                                      : t->label_field;
        if ((rc = get_text(c, o, arr, idx, key, REQUIRED, &s, e)) ||
            (rc = check_rating(c, s, arr, idx, key, e)))
            return rc;
        it->label = (char *)s;
    }
    return 0;
}

static int parse_query(ctx *c, const cJSON *o, const char *arr, long idx, ds_query *q,
                       pe_err *e)
{
    const char *id = NULL, *date = NULL, *input = NULL, *gold = NULL;
    int rc;
    memset(q, 0, sizeof *q);
    if (!cJSON_IsObject(o))
        return cerr(c, e, arr, idx, NULL, "must be an object, not %s", jsonu_type(o));
    if ((rc = get_text(c, o, arr, idx, "id", REQUIRED, &id, e)) ||
        (rc = get_date(c, o, arr, idx, &date, e)) ||
        (rc = get_text(c, o, arr, idx, "input", TEXT, &input, e)) ||
        (rc = get_text(c, o, arr, idx, "gold", OPTIONAL, &gold, e)) ||
        (gold && (rc = check_rating(c, gold, arr, idx, "gold", e))))
        return rc;
    q->id = (char *)id;
    q->date = (char *)date;
    q->input = (char *)input;
    q->gold = (char *)gold;
    return 0;
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

/* Parse a profile/history array (queries = 0) or a query array (queries = 1) into u. */
static int parse_list(ctx *c, const cJSON *arr, const char *name, int queries, ds_user *u,
                      pe_err *e)
{
    const cJSON *it;
    size_t n = (size_t)cJSON_GetArraySize(arr), j = 0;
    if (!queries && c->lim->max_profile_items && n > c->lim->max_profile_items)
        return cerr(c, e, name, -1, NULL,
                    "has %zu items, over the limit of %zu (raise it with --max-profile-items)",
                    n, c->lim->max_profile_items);
    if (queries)
        u->queries = xcalloc(n ? n : 1, sizeof *u->queries);
    else
        u->items = xcalloc(n ? n : 1, sizeof *u->items);
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

/* Ids are unique among a user's history items and among its queries. */
static int check_ids(ctx *c, const ds_user *u, const char *hist, const char *qs, pe_err *e)
{
    strmap m = {0};
    int rc = 0;
    for (size_t i = 0; i < u->nitems && !rc; i++) {
        size_t first = strmap_add(&m, u->items[i].id, i);
        if (first != i)
            rc = cerr(c, e, NULL, -1, NULL, "%s id \"%s\" appears twice (items %zu and %zu)",
                      hist, u->items[i].id, first, i);
    }
    strmap_free(&m);
    for (size_t i = 0; i < u->nqueries && !rc; i++) {
        size_t first = strmap_add(&m, u->queries[i].id, i);
        if (first != i)
            rc = cerr(c, e, NULL, -1, NULL, "%s id \"%s\" appears twice (queries %zu and %zu)",
                      qs, u->queries[i].id, first, i);
    }
    strmap_free(&m);
    return rc;
}

static size_t slen0(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copy u (borrowed strings, malloc'd arrays) into one arena block of exactly the size
 * it needs: the memory a loaded user costs is its text and its records, no more. */
static void compact(ds_user *u, ds_parsed *out)
{
    size_t size = slen0(u->id) + 4 * sizeof(max_align_t);
    ds_item *items;
    ds_query *qs;
    pe_arena *a;

    size += u->nitems * sizeof *items + u->nqueries * sizeof *qs;
    for (size_t i = 0; i < u->nitems; i++) {
        const ds_item *it = &u->items[i];
        size += slen0(it->id) + slen0(it->date) + slen0(it->field[0]) + slen0(it->field[1]) +
                slen0(it->label);
    }
    for (size_t i = 0; i < u->nqueries; i++) {
        const ds_query *q = &u->queries[i];
        size += slen0(q->id) + slen0(q->date) + slen0(q->input) + slen0(q->gold);
    }
    a = arena_new(size);
    items = arena_alloc(a, u->nitems * sizeof *items + 1);
    qs = arena_alloc(a, u->nqueries * sizeof *qs + 1);
    for (size_t i = 0; i < u->nitems; i++) {
        const ds_item *it = &u->items[i];
        items[i].id = arena_strdup(a, it->id);
        items[i].date = arena_strdup(a, it->date);
        items[i].field[0] = arena_strdup(a, it->field[0]);
        items[i].field[1] = arena_strdup(a, it->field[1]);
        items[i].label = arena_strdup(a, it->label);
        items[i].pos = it->pos;
    }
    for (size_t i = 0; i < u->nqueries; i++) {
        const ds_query *q = &u->queries[i];
        qs[i].id = arena_strdup(a, q->id);
        qs[i].date = arena_strdup(a, q->date);
        qs[i].input = arena_strdup(a, q->input);
        qs[i].gold = arena_strdup(a, q->gold);
    }
    out->user.id = arena_strdup(a, u->id);
    out->user.items = items;
    out->user.nitems = u->nitems;
    out->user.queries = qs;
    out->user.nqueries = u->nqueries;
    out->arena = a;
}

/* LaMP questions ({id, input, profile}) or user-grouped ({user_id, profile, query}). */
static int parse_array_elem(ctx *c, const cJSON *el, int grouped, ds_user *u, pe_err *e)
{
    const cJSON *prof, *qs;
    const char *id, *input;
    int rc;

    if (!cJSON_IsObject(el))
        return cerr(c, e, NULL, -1, NULL, "must be an object, not %s", jsonu_type(el));
    if ((rc = get_text(c, el, NULL, -1, grouped ? "user_id" : "id", REQUIRED, &id, e)))
        return rc;
    u->id = (char *)id;
    c->user = id;
    if ((rc = get_array(c, el, "profile", &prof, e)) ||
        (rc = parse_list(c, prof, "profile", 0, u, e)))
        return rc;
    if (grouped)
        return (rc = get_array(c, el, "query", &qs, e)) ? rc
                                                          : parse_list(c, qs, "query", 1, u, e);
    if ((rc = get_text(c, el, NULL, -1, "input", TEXT, &input, e)))
        return rc;
    u->queries = xcalloc(1, sizeof *u->queries);
    u->queries[0].id = (char *)id;
    u->queries[0].input = (char *)input;
    u->nqueries = 1;
    return 0;
}

static int parse_jsonl_user(ctx *c, const cJSON *j, ds_user *u, pe_err *e)
{
    const cJSON *hist, *qs;
    const char *id, *tname;
    int rc;

    if (!cJSON_IsObject(j))
        return cerr(c, e, NULL, -1, NULL, "line must be a JSON object, not %s", jsonu_type(j));
    if ((rc = get_text(c, j, NULL, -1, "user", REQUIRED, &id, e)))
        return rc;
    u->id = (char *)id;
    c->user = id;
    if ((rc = get_text(c, j, NULL, -1, "task", OPTIONAL, &tname, e)) ||
        (rc = get_array(c, j, "history", &hist, e)) ||
        (rc = parse_list(c, hist, "history", 0, u, e)) ||
        (rc = get_array(c, j, "queries", &qs, e)) ||
        (rc = parse_list(c, qs, "queries", 1, u, e)))
        return rc;
    if (tname) {
        /* the user's labels decide what LaMP_2 means */
        const char **labels = xcalloc(u->nitems + u->nqueries + 1, sizeof *labels);
        size_t n = 0;
        char why[512];
        for (size_t i = 0; i < u->nitems; i++)
            if (u->items[i].label)
                labels[n++] = u->items[i].label;
        for (size_t i = 0; i < u->nqueries; i++)
            if (u->queries[i].gold)
                labels[n++] = u->queries[i].gold;
        if (!task_file_matches(c->t, tname, labels, n, why, sizeof why))
            rc = cerr(c, e, NULL, -1, "task", "%s", why);
        free(labels);
    }
    return rc;
}

/* JSON escapes of lone UTF-16 surrogates (\ud83d without its pair) become \ufffd in
 * place (the same length), as Python's json reads them into text it cannot encode. */
static void fix_surrogates(ctx *c, char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        char *b = memchr(s + i, '\\', n - i);
        unsigned v, w;
        if (!b)
            return;
        i = (size_t)(b - s);
        if (i + 1 >= n || s[i + 1] != 'u') {
            i += 2;
            continue;
        }
        if (i + 6 > n || sscanf(s + i + 2, "%4x", &v) != 1 || v < 0xd800 || v > 0xdfff) {
            i += 6;
            continue;
        }
        if (v < 0xdc00 && i + 12 <= n && s[i + 6] == '\\' && s[i + 7] == 'u' &&
            sscanf(s + i + 8, "%4x", &w) == 1 && w >= 0xdc00 && w <= 0xdfff) {
            i += 12; /* a proper pair */
            continue;
        }
        {
            size_t line, col;
            char esc[7];
            memcpy(esc, s + i, 6);
            esc[6] = '\0';
            file_pos(c, i, &line, &col);
            if (c->elem >= 0)
                warnf(c, "%s:%zu:%zu: element %ld: the lone surrogate %s became U+FFFD",
                      c->path, line, col, c->elem, esc);
            else
                warnf(c, "%s:%zu:%zu: the lone surrogate %s became U+FFFD", c->path, line, col,
                      esc);
        }
        memcpy(s + i + 2, "fffd", 4);
        i += 6;
    }
}

static void ctx_init(ctx *c, const ds_file *f, const ds_span *span, long elem,
                     ds_parsed *out)
{
    memset(c, 0, sizeof *c);
    c->t = f->t;
    c->path = f->path;
    c->lim = f->lim;
    c->data = span->text;
    c->len = span->len;
    c->line0 = span->line;
    c->col0 = span->col;
    c->jsonl = f->kind == DS_JSONL;
    c->elem = elem;
    c->out = out;
}

/* The element's tree once its UTF-8 is checked and lone surrogates are replaced; NULL
 * with e set. */
static cJSON *parse_span(ctx *c, ds_span *span, pe_err *e)
{
    size_t bad, line, col;
    cJSON *j;
    if (!pe_utf8_valid(span->text, span->len, &bad)) {
        file_pos(c, bad, &line, &col);
        pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: invalid UTF-8 at byte offset %zu", c->path, line,
                col, span->off + bad);
        return NULL;
    }
    fix_surrogates(c, span->text, span->len);
    if (!(j = jsonu_parse(span->text, span->len, &bad))) {
        file_pos(c, bad, &line, &col);
        pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: invalid JSON", c->path, line, col);
    }
    return j;
}

void ds_parse_element(const ds_file *f, ds_span *span, long elem, ds_parsed *out)
{
    ctx c;
    ds_user u;
    cJSON *j;
    pe_err *e = &out->err;

    memset(out, 0, sizeof *out);
    memset(&u, 0, sizeof u);
    ctx_init(&c, f, span, elem, out);
    if (!(j = parse_span(&c, span, e))) {
        out->rc = e->code;
        return;
    }
    c.scratch = arena_new(0);
    out->rc = c.jsonl ? parse_jsonl_user(&c, j, &u, e)
                      : parse_array_elem(&c, j, f->kind == DS_GROUPED, &u, e);
    if (!out->rc)
        out->rc = check_ids(&c, &u, c.jsonl ? "history" : "profile",
                            c.jsonl ? "queries" : "query", e);
    if (!out->rc) {
        sort_by_date(u.items, u.nitems, sizeof *u.items, offsetof(ds_item, date));
        sort_by_date(u.queries, u.nqueries, sizeof *u.queries, offsetof(ds_query, date));
        compact(&u, out);
    }
    free(u.items);
    free(u.queries);
    free(c.arr_off);
    cJSON_Delete(j);
    arena_unref(c.scratch);
}

void ds_parsed_free(ds_parsed *p)
{
    for (size_t i = 0; i < p->nwarnings; i++)
        free(p->warnings[i]);
    free(p->warnings);
    arena_unref(p->arena);
    memset(p, 0, sizeof *p);
}

/* ---- outputs files ---- */

/* The golds array of an outputs file (the object is the span). */
static int read_golds(ctx *c, const cJSON *golds, size_t src, ds_gold **gv, size_t *ng,
                      size_t *gcap, pe_err *e)
{
    const cJSON *g;
    size_t off, line, col;
    strmap ids = {0};
    long k = 0;
    int rc = 0;

    for (size_t i = 0; i < *ng; i++) /* gold ids are unique over every outputs file */
        strmap_add(&ids, (*gv)[i].id, i);
    off = jsonu_scan_member(c->data, c->len, jsonu_skip_ws(c->data, c->len, 0), "golds");
    off = off == NOPOS ? c->len : jsonu_skip_ws(c->data, c->len, off + 1);
    cJSON_ArrayForEach(g, golds)
    {
        ds_gold *gd;
        const char *id, *output;
        file_pos(c, off, &line, &col);
        if (!cJSON_IsObject(g)) {
            rc = cerr(c, e, "golds", k, NULL, "must be an object, not %s", jsonu_type(g));
            break;
        }
        if ((rc = get_text(c, g, "golds", k, "id", REQUIRED, &id, e)) ||
            (rc = get_text(c, g, "golds", k, "output", REQUIRED, &output, e)) ||
            (rc = check_rating(c, output, "golds", k, "output", e)))
            break;
        *gv = xgrow(*gv, gcap, *ng + 1, sizeof **gv);
        gd = &(*gv)[(*ng)++];
        memset(gd, 0, sizeof *gd);
        gd->src = src;
        gd->line = line;
        gd->idx = (size_t)k;
        gd->id = xstrdup(id);
        gd->output = xstrdup(output);
        if (strmap_add(&ids, gd->id, *ng - 1) != *ng - 1) {
            rc = cerr(c, e, "golds", k, "id", "\"%s\" appears twice", gd->id);
            break;
        }
        off = jsonu_skip_ws(c->data, c->len, jsonu_skip_value(c->data, c->len, off));
        if (off < c->len && c->data[off] == ',')
            off = jsonu_skip_ws(c->data, c->len, off + 1);
        k++;
    }
    strmap_free(&ids);
    return rc;
}

int ds_parse_outputs(const ds_file *f, ds_span *span, size_t src, ds_gold **golds,
                     size_t *ngolds, size_t *gcap, ds_parsed *warn, pe_err *e)
{
    ctx c;
    const cJSON *gv;
    const char *tname;
    size_t first = *ngolds;
    cJSON *root;
    int rc;

    ctx_init(&c, f, span, -1, warn);
    c.jsonl = 0;
    if (!(root = parse_span(&c, span, e)))
        return e->code;
    c.scratch = arena_new(0);
    if (!(rc = get_text(&c, root, NULL, -1, "task", REQUIRED, &tname, e)) &&
        !(rc = get_array(&c, root, "golds", &gv, e)) &&
        !(rc = read_golds(&c, gv, src, golds, ngolds, gcap, e))) {
        /* the golds decide what LaMP_2 means */
        const char **labels = xcalloc(*ngolds - first + 1, sizeof *labels);
        char why[512];
        for (size_t i = first; i < *ngolds; i++)
            labels[i - first] = (*golds)[i].output;
        if (!task_file_matches(f->t, tname, labels, *ngolds - first, why, sizeof why))
            rc = cerr(&c, e, NULL, -1, "task", "%s", why);
        free(labels);
    }
    free(c.arr_off);
    arena_unref(c.scratch);
    cJSON_Delete(root);
    return rc;
}
