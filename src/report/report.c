#include "report.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "jsonu.h"
#include "metrics.h"

struct report_writer {
    pthread_mutex_t mu;
    char *dir;
    FILE *f[3]; /* predictions, traces, personas */
    double last_sync;
    int err;
    char errmsg[512];
    /* the background flusher: fsyncs pending lines within a second even when no
     * further line comes */
    pthread_t flusher;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    int has_flusher, stopping, dirty;
    unsigned long syncs;
};

enum { F_PRED, F_TRACE, F_PERSONA };
static void start_flusher(report_writer *w);
static const char *const file_names[3] = {"predictions.jsonl", "traces.jsonl", "personas.jsonl"};

int report_open(const char *dir, report_writer **out, pe_err *e)
{
    report_writer *w;
    int rc = pe_mkdirs(dir, e);

    *out = NULL;
    if (rc)
        return rc;
    w = xcalloc(1, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&w->cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    w->dir = xstrdup(dir);
    for (int i = 0; i < 3; i++) {
        char *p = xasprintf("%s/%s", dir, file_names[i]);
        w->f[i] = fopen(p, "a");
        if (!w->f[i]) {
            rc = pe_errf(e, PE_EXIT_IO, "%s: cannot open for appending: %s", p, strerror(errno));
            free(p);
            report_close(w, NULL);
            return rc;
        }
        free(p);
    }
    w->last_sync = pe_now();
    start_flusher(w);
    *out = w;
    return 0;
}

static void sync_all(report_writer *w)
{
    for (int i = 0; i < 3; i++)
        if (w->f[i] && (fflush(w->f[i]) != 0 || fsync(fileno(w->f[i])) != 0) && !w->err) {
            w->err = PE_EXIT_IO;
            snprintf(w->errmsg, sizeof w->errmsg, "%s/%s: write error: %s", w->dir,
                     file_names[i], strerror(errno));
        }
    w->last_sync = pe_now();
    w->dirty = 0;
    w->syncs++;
}

/* Wait (on w->cv, w->mu held) until the monotonic time t or a signal. */
static void wait_until(report_writer *w, double t)
{
    struct timespec ts;
    double now = pe_now(), wait = t - now;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (wait <= 0)
        return;
    ts.tv_sec += (time_t)wait;
    ts.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static void *flusher_main(void *arg)
{
    report_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stopping) {
        if (!w->dirty) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        if (pe_now() - w->last_sync < 1.0) {
            wait_until(w, w->last_sync + 1.0);
            continue;
        }
        sync_all(w);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void start_flusher(report_writer *w)
{
    w->has_flusher = pthread_create(&w->flusher, NULL, flusher_main, w) == 0;
}

unsigned long report_syncs(report_writer *w)
{
    unsigned long n;
    pthread_mutex_lock(&w->mu);
    n = w->syncs;
    pthread_mutex_unlock(&w->mu);
    return n;
}

/* Write one line and flush it, so a killed process loses at most what is in
 * flight; fsync at most once a second keeps the cost down. */
static int append_line(report_writer *w, int which, const char *line, size_t len, pe_err *e)
{
    int rc = 0;
    pthread_mutex_lock(&w->mu);
    if (fwrite(line, 1, len, w->f[which]) != len || fputc('\n', w->f[which]) == EOF ||
        fflush(w->f[which]) != 0) {
        if (!w->err) {
            w->err = PE_EXIT_IO;
            snprintf(w->errmsg, sizeof w->errmsg, "%s/%s: write error: %s", w->dir,
                     file_names[which], strerror(errno));
        }
    } else if (w->has_flusher) {
        if (!w->dirty) {
            w->dirty = 1;
            pthread_cond_signal(&w->cv);
        }
    } else if (pe_now() - w->last_sync >= 1.0) {
        sync_all(w);
    }
    if (w->err)
        rc = pe_errf(e, w->err, "%s", w->errmsg);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

static void json_num_or_null(buf *b, long v)
{
    if (v < 0)
        buf_adds(b, "null");
    else
        buf_printf(b, "%ld", v);
}

int report_append_prediction(report_writer *w, const pred_record *r, pe_err *e)
{
    buf b = BUF_INIT;
    char num[64];
    int rc;

    buf_adds(&b, "{\"user\":");
    buf_json_str(&b, r->user);
    buf_adds(&b, ",\"id\":");
    buf_json_str(&b, r->id);
    buf_adds(&b, ",\"method\":");
    buf_json_str(&b, r->method);
    buf_adds(&b, ",\"gold\":");
    buf_json_str_or_null(&b, r->gold);
    buf_adds(&b, ",\"raw\":");
    buf_json_str_or_null(&b, r->raw);
    buf_adds(&b, ",\"pred\":");
    buf_json_str_or_null(&b, r->pred);
    buf_printf(&b, ",\"valid\":%s,\"error\":", r->valid ? "true" : "false");
    buf_json_str_or_null(&b, r->error);
    buf_printf(&b, ",\"calls\":%ld,\"prompt_tokens\":", r->calls);
    json_num_or_null(&b, r->prompt_tokens);
    buf_adds(&b, ",\"completion_tokens\":");
    json_num_or_null(&b, r->completion_tokens);
    pe_fmt_double(num, sizeof num, r->latency_s);
    buf_printf(&b, ",\"latency_s\":%s,\"cost_usd\":", num);
    if (r->cost_usd < 0) {
        buf_adds(&b, "null");
    } else {
        pe_fmt_double(num, sizeof num, r->cost_usd);
        buf_adds(&b, num);
    }
    buf_addc(&b, '}');
    rc = append_line(w, F_PRED, b.data, b.len, e);
    buf_free(&b);
    return rc;
}

int report_append_trace(report_writer *w, const char *json_line, pe_err *e)
{
    return append_line(w, F_TRACE, json_line, strlen(json_line), e);
}

int report_append_persona(report_writer *w, const char *json_line, pe_err *e)
{
    return append_line(w, F_PERSONA, json_line, strlen(json_line), e);
}

int report_sync(report_writer *w, pe_err *e)
{
    int rc = 0;
    pthread_mutex_lock(&w->mu);
    sync_all(w);
    if (w->err)
        rc = pe_errf(e, w->err, "%s", w->errmsg);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int report_close(report_writer *w, pe_err *e)
{
    int rc = 0;
    if (!w)
        return 0;
    if (w->has_flusher) {
        pthread_mutex_lock(&w->mu);
        w->stopping = 1;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->flusher, NULL);
    }
    pthread_mutex_lock(&w->mu);
    sync_all(w);
    for (int i = 0; i < 3; i++)
        if (w->f[i] && fclose(w->f[i]) != 0 && !w->err) {
            w->err = PE_EXIT_IO;
            snprintf(w->errmsg, sizeof w->errmsg, "%s/%s: close error: %s", w->dir,
                     file_names[i], strerror(errno));
        }
    if (w->err)
        rc = pe_errf(e, w->err, "%s", w->errmsg);
    pthread_mutex_unlock(&w->mu);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->dir);
    free(w);
    return rc;
}

static void free_record(pred_record *r)
{
    free(r->user);
    free(r->id);
    free(r->method);
    free(r->gold);
    free(r->raw);
    free(r->pred);
    free(r->error);
}

void report_free_predictions(pred_record *recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free_record(&recs[i]);
    free(recs);
}

static char *dup_str_or_null(const cJSON *o, const char *k)
{
    const char *s = jsonu_str(o, k);
    return s ? xstrdup(s) : NULL;
}

static long num_or_minus(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

static int parse_record(const char *path, size_t lineno, const char *line, size_t len,
                        pred_record *r, pe_err *e)
{
    size_t off;
    cJSON *j = jsonu_parse(line, len, &off);
    const cJSON *v;

    memset(r, 0, sizeof *r);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: not a JSON object", path, lineno, off + 1);
    }
    if (!jsonu_str(j, "user") || !jsonu_str(j, "id") || !jsonu_str(j, "method")) {
        cJSON_Delete(j);
        return pe_errf(e, PE_EXIT_DATA,
                       "%s:%zu: fields \"user\", \"id\" and \"method\" must be strings", path,
                       lineno);
    }
    r->user = dup_str_or_null(j, "user");
    r->id = dup_str_or_null(j, "id");
    r->method = dup_str_or_null(j, "method");
    r->gold = dup_str_or_null(j, "gold");
    r->raw = dup_str_or_null(j, "raw");
    r->pred = dup_str_or_null(j, "pred");
    r->error = dup_str_or_null(j, "error");
    r->valid = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "valid"));
    r->calls = num_or_minus(j, "calls");
    if (r->calls < 0)
        r->calls = 0;
    r->prompt_tokens = num_or_minus(j, "prompt_tokens");
    r->completion_tokens = num_or_minus(j, "completion_tokens");
    v = cJSON_GetObjectItemCaseSensitive(j, "latency_s");
    r->latency_s = cJSON_IsNumber(v) ? v->valuedouble : 0;
    v = cJSON_GetObjectItemCaseSensitive(j, "cost_usd");
    r->cost_usd = cJSON_IsNumber(v) ? v->valuedouble : -1;
    cJSON_Delete(j);
    if (!r->error && !r->pred) {
        free_record(r);
        return pe_errf(e, PE_EXIT_DATA, "%s:%zu: a record without \"error\" needs \"pred\"",
                       path, lineno);
    }
    return 0;
}

static int key_cmp(const pred_record *a, const pred_record *b)
{
    int c = strcmp(a->method, b->method);
    if (!c)
        c = strcmp(a->user, b->user);
    if (!c)
        c = strcmp(a->id, b->id);
    return c;
}

static int rec_ptr_cmp(const void *x, const void *y)
{
    const pred_record *a = *(const pred_record *const *)x, *b = *(const pred_record *const *)y;
    int c = key_cmp(a, b);
    /* later lines win: keep file order among equal keys */
    return c ? c : (a < b ? -1 : a > b);
}

int report_load_predictions(const char *dir, pred_record **recs, size_t *n, size_t *torn,
                            pe_err *e)
{
    char *path = xasprintf("%s/predictions.jsonl", dir), *data;
    size_t len, cap = 0, count = 0, lineno = 0;
    pred_record *r = NULL;
    int rc;

    *recs = NULL;
    *n = 0;
    if (torn)
        *torn = 0;
    rc = pe_read_file(path, 0, &data, &len, e);
    if (rc) {
        free(path);
        return rc;
    }
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (data + pos)) : len - pos;
        lineno++;
        if (ll > 0) {
            pred_record rec;
            rc = parse_record(path, lineno, data + pos, ll, &rec, e);
            if (rc && !nl) {
                /* torn last line from a killed writer: drop it */
                if (torn)
                    (*torn)++;
                rc = 0;
            } else if (rc) {
                report_free_predictions(r, count);
                free(data);
                free(path);
                return rc;
            } else {
                r = xgrow(r, &cap, count + 1, sizeof *r);
                r[count++] = rec;
            }
        }
        pos += ll + (nl ? 1 : 0);
    }
    free(data);
    free(path);
    /* keep the last record of each key, in file order */
    if (count > 1) {
        pred_record **ptr = xmalloc(count * sizeof *ptr), *outv;
        char *keep = xcalloc(count, 1);
        size_t m = 0;
        for (size_t i = 0; i < count; i++)
            ptr[i] = &r[i];
        qsort(ptr, count, sizeof *ptr, rec_ptr_cmp);
        for (size_t i = 0; i < count; i++)
            if (i + 1 == count || key_cmp(ptr[i], ptr[i + 1]) != 0)
                keep[ptr[i] - r] = 1;
        outv = xmalloc(count * sizeof *outv);
        for (size_t i = 0; i < count; i++) {
            if (keep[i])
                outv[m++] = r[i];
            else
                free_record(&r[i]);
        }
        free(r);
        free(keep);
        free(ptr);
        r = outv;
        count = m;
    }
    *recs = r;
    *n = count;
    return 0;
}

void report_free_summaries(method_summary *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i].method);
    free(s);
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Canonical order: methods as given (others by name), users as given (others by
 * id), then query ids. */
static size_t rank_of(const char *s, const char *const *order, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(order[i], s) == 0)
            return i;
    return n;
}

typedef struct keyed {
    size_t mrank, urank;
    pred_record *r;
} keyed;

static int keyed_cmp(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    int c;
    if (a->mrank != b->mrank)
        return a->mrank < b->mrank ? -1 : 1;
    if ((c = strcmp(a->r->method, b->r->method)) != 0)
        return c;
    if (a->urank != b->urank)
        return a->urank < b->urank ? -1 : 1;
    if ((c = strcmp(a->r->user, b->r->user)) != 0)
        return c;
    return strcmp(a->r->id, b->r->id);
}

static void fmt_metric(char *b, size_t n, double v)
{
    if (isnan(v))
        snprintf(b, n, "null");
    else
        pe_fmt_double(b, n, v);
}

static void score_range(const task *t, keyed *k, size_t from, size_t to, size_t B, uint64_t seed,
                        method_summary *s)
{
    size_t m = 0;
    const char **golds = xmalloc((to - from + 1) * sizeof *golds);
    const char **preds = xmalloc((to - from + 1) * sizeof *preds);
    metrics_result r, lo, hi;

    s->n = s->invalid = s->errors = 0;
    s->calls = s->prompt_tokens = s->completion_tokens = 0;
    s->tokens_unknown = 0;
    s->cost_usd = 0;
    for (size_t i = from; i < to; i++) {
        const pred_record *rec = k[i].r;
        s->calls += rec->calls;
        if (rec->prompt_tokens >= 0 && rec->completion_tokens >= 0) {
            s->prompt_tokens += rec->prompt_tokens;
            s->completion_tokens += rec->completion_tokens;
        } else if (rec->calls > 0) {
            s->tokens_unknown++;
        }
        if (rec->cost_usd > 0)
            s->cost_usd += rec->cost_usd;
        if (k[i].r->error) {
            s->errors++;
            continue;
        }
        golds[m] = k[i].r->gold ? k[i].r->gold : "";
        preds[m] = k[i].r->pred;
        m++;
    }
    metrics_compute(t, golds, preds, m, &r);
    s->n = r.n;
    s->invalid = r.invalid;
    for (size_t i = 0; i < 2; i++) {
        s->value[i] = metrics_value(&r, i);
        s->lo[i] = s->hi[i] = NAN;
    }
    if (B > 0 && m > 0) {
        metrics_bootstrap(t, golds, preds, m, B, seed, &lo, &hi);
        for (size_t i = 0; i < 2; i++) {
            s->lo[i] = metrics_value(&lo, i);
            s->hi[i] = metrics_value(&hi, i);
        }
    }
    free(golds);
    free(preds);
}

static void summary_json(buf *b, const task *t, const method_summary *s, size_t n,
                         size_t nusers, const summary_opts *o)
{
    const char *names[2];
    char v[64];
    metrics_names(t, names);
    buf_adds(b, "{\"task\":");
    buf_json_str(b, t->name);
    buf_printf(b, ",\"incomplete\":%s,\"n_users\":%zu,\"bootstrap\":{\"B\":%zu,\"seed\":%llu},"
                  "\"methods\":[",
               o->incomplete ? "true" : "false", nusers, o->bootstrap,
               (unsigned long long)o->seed);
    for (size_t i = 0; i < n; i++) {
        buf_adds(b, i ? ",{\"method\":" : "{\"method\":");
        buf_json_str(b, s[i].method);
        buf_printf(b, ",\"n\":%zu,\"users\":%zu,\"invalid\":%zu,\"errors\":%zu", s[i].n,
                   s[i].users, s[i].invalid, s[i].errors);
        for (size_t k = 0; k < 2; k++) {
            fmt_metric(v, sizeof v, s[i].value[k]);
            buf_printf(b, ",\"%s\":%s", names[k], v);
        }
        buf_adds(b, ",\"ci\":{");
        for (size_t k = 0; k < 2; k++) {
            char lo[64], hi[64];
            fmt_metric(lo, sizeof lo, s[i].lo[k]);
            fmt_metric(hi, sizeof hi, s[i].hi[k]);
            buf_printf(b, "%s\"%s\":[%s,%s]", k ? "," : "", names[k], lo, hi);
        }
        pe_fmt_double(v, sizeof v, s[i].cost_usd);
        buf_printf(b, "},\"calls\":%ld,\"prompt_tokens\":%ld,\"completion_tokens\":%ld,"
                      "\"tokens_unknown\":%zu,\"cost_usd\":%s}",
                   s[i].calls, s[i].prompt_tokens, s[i].completion_tokens, s[i].tokens_unknown,
                   v);
    }
    buf_adds(b, "]}\n");
}

int report_summarize(const char *dir, const task *t, pred_record *recs, size_t n,
                     const summary_opts *o, method_summary **out, size_t *nout, pe_err *e)
{
    keyed *k = xmalloc((n ? n : 1) * sizeof *k);
    method_summary *ms = NULL;
    size_t nms = 0, cap = 0, nusers = 0;
    buf users = BUF_INIT, b = BUF_INIT;
    const char *names[2];
    int rc = 0;
    const char *last_user = NULL;

    *out = NULL;
    *nout = 0;
    metrics_names(t, names);
    for (size_t i = 0; i < n; i++) {
        k[i].r = &recs[i];
        k[i].mrank = rank_of(recs[i].method, o->method_order, o->nmethod_order);
        k[i].urank = rank_of(recs[i].user, o->user_order, o->nuser_order);
    }
    qsort(k, n, sizeof *k, keyed_cmp);

    buf_printf(&users, "method,user,n,invalid,errors,%s,%s,calls,prompt_tokens,"
                       "completion_tokens,tokens_unknown,cost_usd\n",
               names[0], names[1]);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        method_summary *s;
        while (j < n && strcmp(k[j].r->method, k[i].r->method) == 0)
            j++;
        ms = xgrow(ms, &cap, nms + 1, sizeof *ms);
        s = &ms[nms++];
        memset(s, 0, sizeof *s);
        s->method = xstrdup(k[i].r->method);
        score_range(t, k, i, j, o->bootstrap, o->seed, s);
        /* per user */
        for (size_t u = i; u < j;) {
            size_t v = u;
            method_summary us;
            char a[64], c[64];
            while (v < j && strcmp(k[v].r->user, k[u].r->user) == 0)
                v++;
            memset(&us, 0, sizeof us);
            score_range(t, k, u, v, 0, 0, &us);
            s->users++;
            buf_csv_field(&users, s->method);
            buf_addc(&users, ',');
            buf_csv_field(&users, k[u].r->user);
            fmt_metric(a, sizeof a, us.value[0]);
            fmt_metric(c, sizeof c, us.value[1]);
            buf_printf(&users, ",%zu,%zu,%zu,%s,%s", us.n, us.invalid, us.errors,
                       strcmp(a, "null") ? a : "", strcmp(c, "null") ? c : "");
            pe_fmt_double(a, sizeof a, us.cost_usd);
            buf_printf(&users, ",%ld,%ld,%ld,%zu,%s\n", us.calls, us.prompt_tokens,
                       us.completion_tokens, us.tokens_unknown, a);
            u = v;
        }
        i = j;
    }
    /* distinct users over all methods */
    {
        const char **ids = xmalloc((n ? n : 1) * sizeof *ids);
        for (size_t i = 0; i < n; i++)
            ids[i] = recs[i].user;
        qsort(ids, n, sizeof *ids, cmp_str_ptr);
        for (size_t i = 0; i < n; i++)
            if (!last_user || strcmp(last_user, ids[i]) != 0) {
                nusers++;
                last_user = ids[i];
            }
        free(ids);
    }
    summary_json(&b, t, ms, nms, nusers, o);
    rc = pe_write_atomic_in(dir, "summary.json", buf_str(&b), b.len, e);
    if (!rc)
        rc = pe_write_atomic_in(dir, "users.csv", buf_str(&users), users.len, e);
    if (!rc) {
        buf_reset(&b);
        report_table(&b, "csv", t, ms, nms, NULL);
        rc = pe_write_atomic_in(dir, "summary.csv", buf_str(&b), b.len, e);
    }
    if (!rc) {
        buf_reset(&b);
        if (o->incomplete)
            buf_adds(&b, "**Incomplete run**: interrupted before every query was answered.\n\n");
        report_table(&b, "md", t, ms, nms, NULL);
        rc = pe_write_atomic_in(dir, "summary.md", buf_str(&b), b.len, e);
    }
    buf_free(&b);
    buf_free(&users);
    free(k);
    if (rc) {
        report_free_summaries(ms, nms);
        return rc;
    }
    *out = ms;
    *nout = nms;
    return 0;
}

static void cell(buf *b, double v, double lo, double hi, int md)
{
    if (isnan(v)) {
        buf_adds(b, md ? "n/a" : "");
        return;
    }
    if (md) {
        buf_printf(b, "%.3f", v);
        if (!isnan(lo))
            buf_printf(b, " [%.3f, %.3f]", lo, hi);
    } else {
        char x[64];
        pe_fmt_double(x, sizeof x, v);
        buf_adds(b, x);
        buf_addc(b, ',');
        if (!isnan(lo)) {
            pe_fmt_double(x, sizeof x, lo);
            buf_adds(b, x);
        }
        buf_addc(b, ',');
        if (!isnan(hi)) {
            pe_fmt_double(x, sizeof x, hi);
            buf_adds(b, x);
        }
    }
}

int report_table(buf *out, const char *fmt, const task *t, const method_summary *s, size_t n,
                 const char *const *labels)
{
    const char *names[2];
    metrics_names(t, names);
    if (strcmp(fmt, "md") == 0) {
        int llm = 0;
        for (size_t i = 0; i < n; i++)
            llm |= s[i].calls > 0;
        buf_printf(out, "%s| method | n | %s%s | %s%s | invalid | errors |%s\n",
                   labels ? "| run " : "", names[0], metrics_higher_is_better(t, 0) ? " ↑" : " ↓",
                   names[1], metrics_higher_is_better(t, 1) ? " ↑" : " ↓",
                   llm ? " calls | tokens in / out | cost (USD) |" : "");
        buf_printf(out, "%s|---|---:|---|---|---:|---:|%s\n", labels ? "|---" : "",
                   llm ? "---:|---:|---:|" : "");
        for (size_t i = 0; i < n; i++) {
            if (labels)
                buf_printf(out, "| %s ", labels[i]);
            buf_printf(out, "| %s | %zu | ", s[i].method, s[i].n);
            cell(out, s[i].value[0], s[i].lo[0], s[i].hi[0], 1);
            buf_adds(out, " | ");
            cell(out, s[i].value[1], s[i].lo[1], s[i].hi[1], 1);
            buf_printf(out, " | %zu | %zu |", s[i].invalid, s[i].errors);
            if (llm) {
                buf_printf(out, " %ld | %ld / %ld", s[i].calls, s[i].prompt_tokens,
                           s[i].completion_tokens);
                if (s[i].tokens_unknown)
                    buf_printf(out, " (%zu queries unreported)", s[i].tokens_unknown);
                buf_printf(out, " | %.4f |", s[i].cost_usd);
            }
            buf_addc(out, '\n');
        }
        buf_printf(out, "\nTask %s; %s with 95%% bootstrap intervals in brackets.\n", t->name,
                   t->rating ? "MAE and RMSE (lower is better)"
                             : "accuracy and macro-F1 (higher is better)");
    } else if (strcmp(fmt, "csv") == 0) {
        buf_printf(out, "%stask,method,n,invalid,errors,%s,%s_lo,%s_hi,%s,%s_lo,%s_hi,calls,"
                        "prompt_tokens,completion_tokens,tokens_unknown,cost_usd\n",
                   labels ? "run," : "", names[0], names[0], names[0], names[1], names[1],
                   names[1]);
        for (size_t i = 0; i < n; i++) {
            if (labels) {
                buf_csv_field(out, labels[i]);
                buf_addc(out, ',');
            }
            buf_printf(out, "%s,", t->name);
            buf_csv_field(out, s[i].method);
            buf_printf(out, ",%zu,%zu,%zu,", s[i].n, s[i].invalid, s[i].errors);
            cell(out, s[i].value[0], s[i].lo[0], s[i].hi[0], 0);
            buf_addc(out, ',');
            cell(out, s[i].value[1], s[i].lo[1], s[i].hi[1], 0);
            {
                char c[64];
                pe_fmt_double(c, sizeof c, s[i].cost_usd);
                buf_printf(out, ",%ld,%ld,%ld,%zu,%s\n", s[i].calls, s[i].prompt_tokens,
                           s[i].completion_tokens, s[i].tokens_unknown, c);
            }
        }
    } else if (strcmp(fmt, "json") == 0) {
        buf_adds(out, "[");
        for (size_t i = 0; i < n; i++) {
            char v[64], lo[64], hi[64];
            buf_adds(out, i ? ",{" : "{");
            if (labels) {
                buf_adds(out, "\"run\":");
                buf_json_str(out, labels[i]);
                buf_addc(out, ',');
            }
            buf_printf(out, "\"task\":\"%s\",\"method\":", t->name);
            buf_json_str(out, s[i].method);
            buf_printf(out, ",\"n\":%zu,\"invalid\":%zu,\"errors\":%zu", s[i].n, s[i].invalid,
                       s[i].errors);
            for (size_t k = 0; k < 2; k++) {
                fmt_metric(v, sizeof v, s[i].value[k]);
                fmt_metric(lo, sizeof lo, s[i].lo[k]);
                fmt_metric(hi, sizeof hi, s[i].hi[k]);
                buf_printf(out, ",\"%s\":%s,\"%s_ci\":[%s,%s]", names[k], v, names[k], lo, hi);
            }
            pe_fmt_double(v, sizeof v, s[i].cost_usd);
            buf_printf(out, ",\"calls\":%ld,\"prompt_tokens\":%ld,\"completion_tokens\":%ld,"
                            "\"tokens_unknown\":%zu,\"cost_usd\":%s",
                       s[i].calls, s[i].prompt_tokens, s[i].completion_tokens,
                       s[i].tokens_unknown, v);
            buf_addc(out, '}');
        }
        buf_adds(out, "]\n");
    } else {
        return -1;
    }
    return 0;
}

static double num_or_nan(const cJSON *v)
{
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int report_read_summary(const char *dir, const task **t, method_summary **out, size_t *nout,
                        pe_err *e)
{
    char *path = xasprintf("%s/summary.json", dir), *data;
    size_t len, off, cap = 0, n = 0;
    cJSON *j, *methods, *m;
    method_summary *s = NULL;
    const char *names[2];
    int rc;

    *out = NULL;
    *nout = 0;
    rc = pe_read_file(path, 0, &data, &len, e);
    if (rc) {
        free(path);
        return rc;
    }
    j = jsonu_parse(data, len, &off);
    if (!j || !(*t = task_get(jsonu_str(j, "task"))) ||
        !cJSON_IsArray(methods = cJSON_GetObjectItemCaseSensitive(j, "methods"))) {
        rc = pe_errf(e, PE_EXIT_DATA, "%s: not a persona-eval summary (need \"task\" and "
                                      "\"methods\")", path);
        cJSON_Delete(j);
        free(data);
        free(path);
        return rc;
    }
    metrics_names(*t, names);
    cJSON_ArrayForEach(m, methods)
    {
        const cJSON *ci = cJSON_GetObjectItemCaseSensitive(m, "ci");
        method_summary *x;
        if (!jsonu_str(m, "method"))
            continue;
        s = xgrow(s, &cap, n + 1, sizeof *s);
        x = &s[n++];
        memset(x, 0, sizeof *x);
        x->method = xstrdup(jsonu_str(m, "method"));
        x->n = (size_t)num_or_nan(cJSON_GetObjectItemCaseSensitive(m, "n"));
        x->users = (size_t)num_or_nan(cJSON_GetObjectItemCaseSensitive(m, "users"));
        x->invalid = (size_t)num_or_nan(cJSON_GetObjectItemCaseSensitive(m, "invalid"));
        x->errors = (size_t)num_or_nan(cJSON_GetObjectItemCaseSensitive(m, "errors"));
        {
            double v = num_or_nan(cJSON_GetObjectItemCaseSensitive(m, "calls"));
            x->calls = isnan(v) ? 0 : (long)v;
            v = num_or_nan(cJSON_GetObjectItemCaseSensitive(m, "prompt_tokens"));
            x->prompt_tokens = isnan(v) ? 0 : (long)v;
            v = num_or_nan(cJSON_GetObjectItemCaseSensitive(m, "completion_tokens"));
            x->completion_tokens = isnan(v) ? 0 : (long)v;
            v = num_or_nan(cJSON_GetObjectItemCaseSensitive(m, "tokens_unknown"));
            x->tokens_unknown = isnan(v) ? 0 : (size_t)v;
            v = num_or_nan(cJSON_GetObjectItemCaseSensitive(m, "cost_usd"));
            x->cost_usd = isnan(v) ? 0 : v;
        }
        for (size_t k = 0; k < 2; k++) {
            const cJSON *iv = cJSON_GetObjectItemCaseSensitive(ci, names[k]);
            x->value[k] = num_or_nan(cJSON_GetObjectItemCaseSensitive(m, names[k]));
            x->lo[k] = num_or_nan(cJSON_GetArrayItem(iv, 0));
            x->hi[k] = num_or_nan(cJSON_GetArrayItem(iv, 1));
        }
    }
    cJSON_Delete(j);
    free(data);
    free(path);
    *out = s;
    *nout = n;
    return 0;
}
