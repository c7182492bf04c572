/* The loader: each file read in bounded chunks (ds_scan.c), cut into its top-level
 * elements, the elements parsed by worker threads (ds_parse.c) and appended by this
 * thread in file order, so results and the first error reported never depend on
 * timing. LaMP outputs files are paired with their questions afterwards. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ds_internal.h"
#include "jsonu.h"
#include "util.h"

#define MAX_THREADS 8
#define THREADS_FROM_BYTES ((size_t)1 << 20)
#define DETECT_MAX ((size_t)256 << 20)

static int load_threads; /* dataset_set_load_threads() */

void dataset_set_load_threads(int n)
{
    load_threads = n < 0 ? 0 : n;
}

typedef struct origin {
    size_t src;
    size_t line; /* of the element or JSONL line */
    long elem;   /* -1: none */
    int lamp;    /* from a LaMP questions file: its query takes a gold from the outputs */
} origin;

typedef struct loader {
    const task *t;
    dataset *d;
    size_t ucap, scap;
    size_t nmore; /* warnings past DS_MAX_WARNINGS, only counted */
    origin *orig;
    size_t ocap;
    ds_gold *golds;
    size_t ngolds, gcap;
    char **pending; /* outputs files found beside questions files */
    size_t npending, pcap;
    const char *const *paths;
    size_t npaths;
    const ds_limits *lim;
} loader;

/* Keep a warning (taking msg), or count it once DS_MAX_WARNINGS are kept. */
static void warn(loader *L, char *msg)
{
    dataset *d = L->d;
    if (d->nwarnings >= DS_MAX_WARNINGS) {
        free(msg);
        L->nmore++;
        return;
    }
    d->warnings = xrealloc(d->warnings, (d->nwarnings + 1) * sizeof *d->warnings);
    d->warnings[d->nwarnings++] = msg;
}

static size_t add_source(loader *L, const char *path, const char *format)
{
    ds_source *s;
    L->d->sources = xgrow(L->d->sources, &L->scap, L->d->nsources + 1, sizeof *s);
    s = &L->d->sources[L->d->nsources];
    memset(s, 0, sizeof *s);
    s->path = xstrdup(path);
    s->format = xstrdup(format);
    return L->d->nsources++;
}

/* Take a parsed element into the dataset (in file order). */
static int append(loader *L, ds_parsed *p, size_t src, const ds_span *sp, long elem, int lamp,
                  pe_err *e)
{
    dataset *d = L->d;
    if (p->rc) {
        *e = p->err;
        return p->rc;
    }
    for (size_t i = 0; i < p->nwarnings; i++)
        warn(L, p->warnings[i]);
    p->nwarnings = 0;
    d->users = xgrow(d->users, &L->ucap, d->nusers + 1, sizeof *d->users);
    L->orig = xgrow(L->orig, &L->ocap, d->nusers + 1, sizeof *L->orig);
    L->orig[d->nusers] = (origin){src, sp->line, elem, lamp};
    d->users[d->nusers++] = p->user;
    arena_adopt(d->arena, p->arena);
    p->arena = NULL;
    return 0;
}

/* ---- the element pipeline: this thread cuts, workers parse, this thread appends ---- */

typedef struct job {
    ds_span span;
    long elem;
    ds_parsed res;
    int done;
} job;

typedef struct pipe_ {
    loader *L;
    ds_file f;
    size_t src;
    int lamp;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    job *ring;
    size_t cap, head, tail, next; /* head: oldest not appended; next: next to parse */
    int stop, failed; /* failed: an appended element had an error */
    pthread_t th[MAX_THREADS];
    size_t nth;
} pipe_;

static void *worker(void *arg)
{
    pipe_ *P = arg;
    for (;;) {
        job *j;
        pthread_mutex_lock(&P->mu);
        while (!P->stop && P->next == P->tail)
            pthread_cond_wait(&P->work, &P->mu);
        if (P->stop) {
            pthread_mutex_unlock(&P->mu);
            return NULL;
        }
        j = &P->ring[P->next++ % P->cap];
        pthread_mutex_unlock(&P->mu);
        ds_parse_element(&P->f, &j->span, j->elem, &j->res);
        free(j->span.text);
        j->span.text = NULL;
        pthread_mutex_lock(&P->mu);
        j->done = 1;
        pthread_cond_broadcast(&P->done);
        pthread_mutex_unlock(&P->mu);
    }
}

static void pipe_start(pipe_ *P, loader *L, const ds_file *f, size_t src, int lamp,
                       size_t nthreads)
{
    memset(P, 0, sizeof *P);
    P->L = L;
    P->f = *f;
    P->src = src;
    P->lamp = lamp;
    pthread_mutex_init(&P->mu, NULL);
    pthread_cond_init(&P->work, NULL);
    pthread_cond_init(&P->done, NULL);
    P->cap = nthreads ? 4 * nthreads : 1;
    P->ring = xcalloc(P->cap, sizeof *P->ring);
    for (size_t i = 0; i < nthreads; i++)
        if (pthread_create(&P->th[P->nth], NULL, worker, P) == 0)
            P->nth++;
}

/* Append the oldest job once it is parsed. */
static int pipe_drain_one(pipe_ *P, pe_err *e)
{
    job *j = &P->ring[P->head % P->cap];
    int rc;
    if (P->nth == 0) {
        ds_parse_element(&P->f, &j->span, j->elem, &j->res);
        free(j->span.text);
        j->span.text = NULL;
    } else {
        pthread_mutex_lock(&P->mu);
        while (!j->done)
            pthread_cond_wait(&P->done, &P->mu);
        pthread_mutex_unlock(&P->mu);
    }
    rc = append(P->L, &j->res, P->src, &j->span, j->elem, P->lamp, e);
    P->failed |= rc != 0;
    ds_parsed_free(&j->res);
    memset(j, 0, sizeof *j);
    P->head++;
    if (P->nth == 0)
        P->next = P->head;
    return rc;
}

/* Queue a span (taking its text); appends finished jobs when the ring is full. */
static int pipe_submit(pipe_ *P, ds_span *sp, long elem, pe_err *e)
{
    job *j;
    int rc;
    if ((rc = pe_interrupted(e, "loading the data")))
        return rc;
    while (P->tail - P->head == P->cap)
        if ((rc = pipe_drain_one(P, e)))
            return rc;
    j = &P->ring[P->tail % P->cap];
    pthread_mutex_lock(&P->mu);
    j->span = *sp;
    j->elem = elem;
    j->done = 0;
    P->tail++;
    pthread_cond_signal(&P->work);
    pthread_mutex_unlock(&P->mu);
    memset(sp, 0, sizeof *sp);
    return 0;
}

/* Append everything queued (rc 0), or discard it after an error (rc != 0). A queued
 * element's error comes before rc's, since it is earlier in the file. */
static int pipe_finish(pipe_ *P, int rc, pe_err *e)
{
    pe_err later = *e;
    int first = 0;
    /* after an element's error the queued ones are later in the file: not looked at */
    while (!P->failed && P->head < P->tail && !first)
        first = pipe_drain_one(P, e);
    if (!first && rc)
        *e = later;
    pthread_mutex_lock(&P->mu);
    P->stop = 1;
    pthread_cond_broadcast(&P->work);
    pthread_mutex_unlock(&P->mu);
    for (size_t i = 0; i < P->nth; i++)
        pthread_join(P->th[i], NULL);
    for (size_t i = 0; i < P->cap; i++) {
        free(P->ring[i].span.text);
        ds_parsed_free(&P->ring[i].res);
    }
    free(P->ring);
    pthread_mutex_destroy(&P->mu);
    pthread_cond_destroy(&P->work);
    pthread_cond_destroy(&P->done);
    return first ? first : rc;
}

static size_t threads_for(size_t size)
{
    long n;
    if (load_threads > 0)
        return (size_t)(load_threads > MAX_THREADS ? MAX_THREADS : load_threads);
    if (size < THREADS_FROM_BYTES)
        return 0;
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (size_t)n;
}

/* ---- one file ---- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The elements of a top-level array, after its '['. */
static int load_array(loader *L, ds_reader *r, const ds_file *f, size_t src, size_t size,
                      pe_err *e)
{
    pipe_ P;
    ds_span sp = {0};
    long k = 0;
    int c, rc = 0;
    char what[64];

    pipe_start(&P, L, f, src, f->kind == DS_LAMP, threads_for(size));
    for (;;) {
        if ((rc = rd_peek(r, &c, e)))
            break;
        if (c == ']' && k == 0) {
            rc = pe_errf(e, PE_EXIT_DATA, "%s:1: contains no %s", f->path,
                         f->kind == DS_GROUPED ? "users" : "questions");
            break;
        }
        snprintf(what, sizeof what, "element %ld", k);
        if (c == -1) {
            size_t line, col;
            rd_where(r, &line, &col);
            rc = pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: invalid JSON (the file ends before %s)",
                         f->path, line, col, what);
            break;
        }
        if ((rc = rd_value(r, what, &sp, e)) || (rc = pipe_submit(&P, &sp, k, e)))
            break;
        k++;
        if ((rc = rd_peek(r, &c, e)))
            break;
        if (c == ',') {
            rd_skip(r);
            continue;
        }
        if (c == ']') {
            rd_skip(r);
            if (!(rc = rd_peek(r, &c, e)) && c != -1) {
                size_t line, col;
                rd_where(r, &line, &col);
                rc = pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: invalid JSON (text after the array)",
                             f->path, line, col);
            }
            break;
        }
        {
            size_t line, col;
            rd_where(r, &line, &col);
            rc = pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: invalid JSON%s", f->path, line, col,
                         c == -1 ? " (the file ends inside the array)" : "");
            break;
        }
    }
    free(sp.text); /* not queued when the queue failed */
    return pipe_finish(&P, rc, e);
}

static int load_jsonl(loader *L, ds_reader *r, const ds_file *f, size_t src, size_t size,
                      pe_err *e)
{
    pipe_ P;
    ds_span sp = {0};
    int got, rc = 0;

    pipe_start(&P, L, f, src, 0, threads_for(size));
    for (;;) {
        if ((rc = rd_line(r, &sp, &got, e)) || !got)
            break;
        if (jsonu_skip_ws(sp.text, sp.len, 0) == sp.len) {
            free(sp.text); /* a blank line */
            sp.text = NULL;
            continue;
        }
        if ((rc = pipe_submit(&P, &sp, -1, e)))
            break;
    }
    free(sp.text);
    return pipe_finish(&P, rc, e);
}

/* What an array file holds, from its first element's members. */
static const char *detect_array(ds_reader *r, const char *path, pe_err *e, int *rc)
{
    ds_span sp;
    cJSON *j = NULL;
    const char *fmt = NULL;
    size_t off, start;
    int c;

    *rc = 0;
    r->keep_all = 1;
    rd_skip(r); /* '[' */
    if ((*rc = rd_peek(r, &c, e)))
        return NULL;
    if (c == ']' || c == -1)
        return "lamp"; /* load_array reports it */
    if ((*rc = rd_value(r, "element 0", &sp, e)))
        return NULL;
    /* the position scanner reads the members even where the parser would stop (lone
     * surrogates); an element that is not valid JSON is reported when it is parsed */
    start = jsonu_skip_ws(sp.text, sp.len, 0);
    if (sp.text[start] == '{' &&
        jsonu_scan_member(sp.text, sp.len, start, "user_id") != JSONU_NONE)
        fmt = "grouped";
    else if (sp.text[start] != '{' ||
             jsonu_scan_member(sp.text, sp.len, start, "profile") != JSONU_NONE ||
             !(j = jsonu_parse(sp.text, sp.len, &off)))
        fmt = "lamp";
    else
        *rc = pe_errf(e, PE_EXIT_DATA,
                      "%s: cannot detect the format (expected an array of LaMP questions with "
                      "\"profile\" or of users with \"user_id\", or JSONL); name it with "
                      "--format", path);
    cJSON_Delete(j);
    free(sp.text);
    return fmt;
}

/* Pair foo_questions.json with foo_outputs.json beside it. */
static void find_outputs(loader *L, const char *path)
{
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

/* Load one file (mem: its text in memory). format: NULL/"auto" detects; an outputs file
 * is recognized in any mode. */
static int load_one(loader *L, const char *path, const char *mem, size_t memlen,
                    const char *format, pe_err *e)
{
    ds_reader r;
    ds_file f = {L->t, path, L->lim, DS_LAMP};
    ds_span sp = {0};
    const char *fmt = NULL;
    size_t src = SIZE_MAX, size = mem ? memlen : 0;
    int auto_fmt = !format || !strcmp(format, "auto"), c, rc;

    if ((rc = rd_open(&r, path, mem, memlen, L->lim, e)))
        return rc;
    if (!mem)
        size = r.size;
    if ((rc = rd_peek(&r, &c, e)))
        goto done;
    if (c == -1) {
        rc = pe_errf(e, PE_EXIT_DATA, "%s: file is empty", path);
        goto done;
    }
    if (c == '[' && !pe_streq(format, "jsonl")) {
        if (auto_fmt) {
            if (!(fmt = detect_array(&r, path, e, &rc)))
                goto done;
            rd_rewind(&r);
            rd_peek(&r, &c, e);
        } else {
            fmt = format;
        }
        r.keep_all = 0;
        rd_skip(&r);
        f.kind = !strcmp(fmt, "grouped") ? DS_GROUPED : DS_LAMP;
        src = add_source(L, path, fmt);
        rc = load_array(L, &r, &f, src, size, e);
        if (!rc && f.kind == DS_LAMP && ends_with(path, "_questions.json"))
            find_outputs(L, path);
    } else {
        /* an outputs file (one object, possibly over several lines) or JSONL */
        cJSON *j;
        size_t off;
        /* the whole file is kept until the format is known: an outputs file is one
         * value, a JSONL file's first value its first line; a value that does not end
         * within DETECT_MAX is taken for broken JSONL, not read on */
        r.cut_max = DETECT_MAX;
        if ((rc = rd_value(&r, "the first value", &sp, e))) {
            /* not one JSON value: JSONL, whose lines report what is wrong */
            if (r.too_big || !(auto_fmt || !strcmp(format, "jsonl")))
                goto done;
            rc = 0;
        }
        r.cut_max = 0;
        j = sp.text ? jsonu_parse(sp.text, sp.len, &off) : NULL;
        if (cJSON_IsObject(j) && cJSON_GetObjectItemCaseSensitive(j, "golds")) {
            fmt = "lamp-outputs";
        } else if (auto_fmt || !strcmp(format, "jsonl")) {
            fmt = "jsonl";
        } else {
            rc = j ? pe_errf(e, PE_EXIT_DATA, "%s:%zu: expected a JSON array of %s, not %s",
                             path, sp.line, !strcmp(format, "grouped") ? "users" : "questions",
                             jsonu_type(j))
                   : pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: invalid JSON", path, sp.line,
                             sp.col + off);
        }
        cJSON_Delete(j);
        if (rc)
            goto done;
        f.kind = DS_JSONL;
        src = add_source(L, path, fmt);
        if (!strcmp(fmt, "lamp-outputs")) {
            r.keep_all = 0;
            ds_parsed w;
            memset(&w, 0, sizeof w);
            rc = ds_parse_outputs(&f, &sp, src, &L->golds, &L->ngolds, &L->gcap, &w, e);
            for (size_t i = 0; i < w.nwarnings; i++)
                warn(L, w.warnings[i]);
            w.nwarnings = 0;
            ds_parsed_free(&w);
            if (!rc && !(rc = rd_peek(&r, &c, e)) && c != -1) {
                size_t line, col;
                rd_where(&r, &line, &col);
                rc = pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: invalid JSON (text after the "
                             "object)", path, line, col);
            }
        } else {
            rd_rewind(&r);
            rc = load_jsonl(L, &r, &f, src, size, e);
        }
    }
    if (!rc)
        rc = rd_finish(&r, L->d->sources[src].sha256, e);
done:
    free(sp.text);
    rd_close(&r);
    return rc;
}

/* Attach golds to LaMP questions; every gold must name a question. */
static int apply_golds(loader *L, pe_err *e)
{
    strmap gmap = {0};
    int rc = 0;
    strmap_init(&gmap, L->ngolds);
    for (size_t g = 0; g < L->ngolds; g++)
        strmap_add(&gmap, L->golds[g].id, g);
    for (size_t i = 0; i < L->d->nusers; i++) {
        ds_user *u = &L->d->users[i];
        size_t g;
        if (!L->orig[i].lamp || !u->nqueries || u->queries[0].gold)
            continue;
        g = strmap_get(&gmap, u->queries[0].id);
        if (g == STRMAP_NONE)
            continue;
        u->queries[0].gold = arena_strdup(L->d->arena, L->golds[g].output);
        L->golds[g].used = 1;
    }
    strmap_free(&gmap);
    for (size_t g = 0; g < L->ngolds && !rc; g++) {
        const ds_gold *gd = &L->golds[g];
        if (!gd->used)
            rc = pe_errf(e, PE_EXIT_DATA,
                         "%s:%zu: golds[%zu]: id \"%s\" has no question in the questions "
                         "files",
                         L->d->sources[gd->src].path, gd->line, gd->idx, gd->id);
    }
    return rc;
}

/* Query ids are unique over the dataset, as predictions are matched to golds by id. */
static int check_unique_queries(loader *L, pe_err *e)
{
    strmap m = {0};
    size_t *owner = NULL, cap = 0, n = 0;
    int rc = 0;
    for (size_t i = 0; i < L->d->nusers && !rc; i++) {
        const ds_user *u = &L->d->users[i];
        for (size_t j = 0; j < u->nqueries && !rc; j++) {
            size_t first = strmap_add(&m, u->queries[j].id, n);
            owner = xgrow(owner, &cap, n + 1, sizeof *owner);
            owner[n++] = i;
            if (first != n - 1) {
                const origin *a = &L->orig[owner[first]], *b = &L->orig[i];
                rc = pe_errf(e, PE_EXIT_DATA,
                             "%s:%zu: user \"%s\": query id \"%s\" is also a query of user "
                             "\"%s\" (%s:%zu); query ids must be unique in the data",
                             L->d->sources[b->src].path, b->line, u->id, u->queries[j].id,
                             L->d->users[owner[first]].id, L->d->sources[a->src].path, a->line);
            }
        }
    }
    free(owner);
    strmap_free(&m);
    return rc;
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

/* Say, as the first warning, that some queries have no gold. */
static void note_nogold(loader *L)
{
    dataset *d = L->d;
    int lamp = 0;
    char *msg;
    for (size_t i = 0; i < d->nusers && !lamp; i++)
        lamp = L->orig[i].lamp && d->users[i].nqueries && !d->users[i].queries[0].gold;
    msg = xasprintf("no golds for %zu of %zu queries%s: they can be answered but not scored",
                    d->nogold, dataset_nqueries(d),
                    lamp ? " (LaMP questions without an outputs file: none was given with "
                           "--data or found beside the questions file)"
                         : "");
    /* first, so it is never among the warnings only counted */
    d->warnings = xrealloc(d->warnings, (d->nwarnings + 1) * sizeof *d->warnings);
    memmove(d->warnings + 1, d->warnings, d->nwarnings * sizeof *d->warnings);
    d->warnings[0] = msg;
    d->nwarnings++;
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
    d->arena = arena_new(0);
    L.t = t;
    L.d = d;
    L.paths = paths;
    L.npaths = npaths;
    L.lim = lim ? lim : &deflim;
    if (mem)
        rc = load_one(&L, paths[0], mem, memlen, format, e);
    for (size_t i = 0; i < npaths && !rc && !mem; i++)
        rc = load_one(&L, paths[i], NULL, 0, format, e);
    for (size_t i = 0; i < L.npending && !rc && !mem; i++)
        rc = load_one(&L, L.pending[i], NULL, 0, "lamp", e);
    if (!rc)
        rc = apply_golds(&L, e);
    if (!rc)
        rc = check_unique_users(&L, e);
    if (!rc)
        rc = check_unique_queries(&L, e);
    if (!rc && L.nmore) {
        d->warnings = xrealloc(d->warnings, (d->nwarnings + 1) * sizeof *d->warnings);
        d->warnings[d->nwarnings++] = xasprintf("... and %zu more warnings", L.nmore);
    }
    if (!rc && (d->nogold = dataset_nqueries_nogold(d)) > 0)
        note_nogold(&L);
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
