#include "report.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

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

static void note_error(report_writer *w, int i, int err)
{
    if (!w->err) {
        w->err = PE_EXIT_IO;
        snprintf(w->errmsg, sizeof w->errmsg, "%s/%s: write error: %s", w->dir,
                 file_names[i], strerror(err));
    }
}

/* Called with w->mu held, which it releases during the fsyncs when unlocked is
 * set (the flusher: appends go on meanwhile; a line appended after the fflush
 * marks the files dirty again and is synced the next time). */
static void sync_all(report_writer *w, int unlocked)
{
    int fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = w->f[i] ? fileno(w->f[i]) : -1;
        if (w->f[i] && fflush(w->f[i]) != 0)
            note_error(w, i, errno);
    }
    w->dirty = 0;
    if (unlocked)
        pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < 3; i++) {
        int err = fds[i] >= 0 && fsync(fds[i]) != 0 ? errno : 0;
        if (err && unlocked) {
            pthread_mutex_lock(&w->mu);
            note_error(w, i, err);
            pthread_mutex_unlock(&w->mu);
        } else if (err) {
            note_error(w, i, err);
        }
    }
    if (unlocked)
        pthread_mutex_lock(&w->mu);
    w->last_sync = pe_now();
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
        sync_all(w, 1);
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
        sync_all(w, 0);
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
    {
        const char *const keys[] = {"id", "method", "gold", "raw", "pred"};
        const char *const vals[] = {r->id, r->method, r->gold, r->raw, r->pred};
        for (size_t i = 0; i < 5; i++) {
            buf_printf(&b, ",\"%s\":", keys[i]);
            buf_json_str_or_null(&b, vals[i]);
        }
    }
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
    buf_printf(&b, ",\"calls_cached\":%ld,\"cost_spent_usd\":", r->calls_cached);
    if (r->cost_spent_usd < 0) {
        buf_adds(&b, "null");
    } else {
        pe_fmt_double(num, sizeof num, r->cost_spent_usd);
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
    sync_all(w, 0);
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
    sync_all(w, 0);
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
