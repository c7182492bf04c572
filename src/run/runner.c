#include "runner.h"

#include "pipeline.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { JOB_PREP, JOB_QUERY, JOB_ONLINE };

typedef struct job {
    int kind;
    size_t user, method, query;
} job;

/* Jobs start in a FIFO in user order; a finished PREP(user, method) pushes
 * that pair's queries onto a LIFO taken first, so a user's memory and persona
 * live only while the user is being answered, and up to `jobs` users are
 * prepared at once when preparation is what takes time. */
typedef struct run_state {
    const run_shared *rs;
    const runner_opts *o;
    pthread_mutex_t mu;
    pthread_cond_t cv;  /* a job was pushed, a worker exited or finished recording */
    job *fifo;
    size_t nfifo, head;
    job *ready;
    size_t nready, capready;
    size_t preps_running;
    user_state *users;
    size_t *pending; /* jobs left per user */
    size_t users_done;
    runner_stats st;
    int fatal;
    pe_err err;
    int alive;       /* workers not yet exited */
    int recording;   /* workers writing an answer right now */
    int abandoned;   /* the grace period ran out: record nothing more */
    long delay_ms;   /* test hook (RUNNER_DELAY_ENV) */
} run_state;

static int stopping(const run_state *s)
{
    return s->fatal || s->abandoned || (s->o->stop && *s->o->stop) ||
           (s->o->halt && s->o->halt(s->o->halt_ctx));
}

static void record_answer(run_state *s, const job *j, method_answer *a, double latency)
{
    const ds_user *u = &s->rs->data->users[j->user];
    const ds_query *q = &u->queries[j->query];
    const method *m = s->o->methods[j->method];
    pred_record r;
    pe_err e = {0};
    char *pred = NULL;
    int label = -1;

    memset(&r, 0, sizeof r);
    r.user = u->id;
    r.id = q->id;
    r.method = (char *)m->name;
    r.gold = q->gold;
    r.calls = a->calls;
    r.prompt_tokens = a->prompt_tokens;
    r.completion_tokens = a->completion_tokens;
    r.cost_usd = a->cost_usd;
    r.calls_cached = a->calls_cached;
    r.cost_spent_usd = a->cost_spent_usd;
    r.latency_s = latency;
    if (a->error || !a->raw) {
        r.error = a->error ? a->error : "the method gave no answer";
    } else {
        label = task_normalize(s->rs->task, a->raw, s->rs->strict_answers);
        pred = label >= 0 ? xstrdup(s->rs->task->labels[label]) : pe_strip(a->raw);
        r.raw = a->raw;
        r.pred = pred;
        r.valid = label >= 0;
    }
    if (report_append_prediction(s->o->out, &r, &e) != 0) {
        pthread_mutex_lock(&s->mu);
        if (!s->fatal) {
            s->fatal = e.code;
            s->err = e;
        }
        pthread_mutex_unlock(&s->mu);
    }
    free(pred);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Called with s->mu held. */
static void report_progress(run_state *s)
{
    if (s->o->progress)
        s->o->progress(s->o->progress_ctx, &s->st, s->users_done, s->rs->data->nusers);
}

/* Called with s->mu held. */
static void set_fatal_locked(run_state *s, int rc, const pe_err *e)
{
    if (!s->fatal) {
        s->fatal = rc;
        s->err = *e;
    }
    pthread_cond_broadcast(&s->cv);
}

/* Called with s->mu held: one job of user u is finished. Returns 1 when it was
 * the user's last. */
static int job_done(run_state *s, size_t u)
{
    if (--s->pending[u])
        return 0;
    s->users_done++;
    return 1;
}

/* Called with s->mu held. */
static void push_queries(run_state *s, size_t u, size_t m)
{
    const ds_user *du = &s->rs->data->users[u];
    /* pushed in reverse so that the first query is taken first */
    for (size_t q = du->nqueries; q-- > 0;) {
        if (s->o->is_done &&
            s->o->is_done(s->o->done_ctx, s->o->methods[m]->name, du->id, du->queries[q].id))
            continue;
        s->ready = xgrow(s->ready, &s->capready, s->nready + 1, sizeof *s->ready);
        s->ready[s->nready++] = (job){JOB_QUERY, u, m, q};
        s->pending[u]++;
    }
    pthread_cond_broadcast(&s->cv);
}

/* Answer query j->query of user state us and record it. Returns 1 when the
 * worker must stop; *last is set when it was the user's last job (counted
 * only when count_job). */
static int answer_and_record(run_state *s, const job *j, user_state *us, llm_worker *w,
                             int count_job, int *last)
{
    method_answer a;
    pe_err e = {0};
    double t0 = pe_now();
    int rc;

    *last = 0;
    memset(&a, 0, sizeof a);
    a.prompt_tokens = a.completion_tokens = -1;
    a.cost_usd = a.cost_spent_usd = -1;
    if (s->delay_ms > 0)
        sleep_ms(s->delay_ms);
    rc = s->o->methods[j->method]->answer(s->rs, us, j->method,
                                          &s->rs->data->users[j->user].queries[j->query], w,
                                          &a, &e);
    pthread_mutex_lock(&s->mu);
    if (s->abandoned) { /* the caller has moved on: touch nothing it owns */
        pthread_mutex_unlock(&s->mu);
        method_answer_free(&a);
        return 1;
    }
    if (rc) {
        set_fatal_locked(s, rc, &e);
        pthread_mutex_unlock(&s->mu);
        method_answer_free(&a);
        return 1;
    }
    s->recording++;
    pthread_mutex_unlock(&s->mu);

    record_answer(s, j, &a, pe_now() - t0);

    pthread_mutex_lock(&s->mu);
    s->recording--;
    s->st.queries_done++;
    if (a.error || !a.raw)
        s->st.errors++;
    s->st.calls += a.calls;
    if (a.prompt_tokens > 0)
        s->st.prompt_tokens += a.prompt_tokens;
    if (a.completion_tokens > 0)
        s->st.completion_tokens += a.completion_tokens;
    if (a.cost_usd > 0)
        s->st.cost_usd += a.cost_usd;
    if (count_job)
        *last = job_done(s, j->user);
    report_progress(s);
    /* an answer makes no job: only a stopping run waits on it (recording == 0) */
    if (stopping(s))
        pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    method_answer_free(&a);
    return 0;
}

/* Returns 0 to go on, 1 when the worker must stop. */
static int run_query(run_state *s, const job *j, llm_worker *w)
{
    int last, stop = answer_and_record(s, j, &s->users[j->user], w, 1, &last);
    if (stop) {
        pthread_mutex_lock(&s->mu);
        last = !s->abandoned && job_done(s, j->user);
        pthread_mutex_unlock(&s->mu);
    }
    /* the user's last job: free what was built for it */
    if (last)
        user_state_release(&s->users[j->user]);
    return stop;
}

/* --online: one (user, method) session. Queries are answered in time order;
 * after each, its gold joins the user's history (memory, alignment window)
 * and every align_every answers the persona is re-aligned. */
static int run_online(run_state *s, const job *j, llm_worker *w)
{
    const task *t = s->rs->task;
    const ds_user *u = &s->rs->data->users[j->user];
    const method *m = s->o->methods[j->method];
    ds_user ext = *u;
    ds_item *revealed = xcalloc(u->nqueries ? u->nqueries : 1, sizeof *revealed);
    size_t nrev = 0, turn = 0;
    user_state us;
    pe_err e = {0};
    int stop = 0, rc = 0, last;

    ext.items = xcalloc(u->nitems + u->nqueries + 1, sizeof *ext.items);
    memcpy(ext.items, u->items, u->nitems * sizeof *ext.items);
    user_state_init(&us, &ext, j->user, s->o->nmethods);
    if (m->prepare) {
        rc = m->prepare(s->rs, &us, j->method, w, &e);
        pthread_mutex_lock(&s->mu);
        if (!s->abandoned) {
            s->st.preps_done++;
            report_progress(s);
        }
        pthread_mutex_unlock(&s->mu);
    }
    for (size_t q = 0; !rc && !stop && q < u->nqueries; q++) {
        const ds_query *dq = &u->queries[q];
        job qj = {JOB_QUERY, j->user, j->method, q};
        pthread_mutex_lock(&s->mu);
        stop = stopping(s);
        pthread_mutex_unlock(&s->mu);
        if (stop)
            break;
        if (!s->o->is_done ||
            !s->o->is_done(s->o->done_ctx, m->name, u->id, dq->id))
            stop = answer_and_record(s, &qj, &us, w, 0, &last);
        if (stop || !dq->gold)
            continue;
        dataset_query_item(t, dq, &revealed[nrev]);
        revealed[nrev].pos = u->nitems + nrev;
        ext.items[ext.nitems++] = revealed[nrev++];
        methods_user_forget_memory(&us);
        turn++;
        /* no re-alignment after the last query: nothing would use it */
        if (s->rs->align_every && turn % s->rs->align_every == 0 && m->prepare &&
            q + 1 < u->nqueries)
            rc = pipeline_realign(s->rs, &us, j->method, turn, &e);
    }
    user_state_release(&us);
    pthread_mutex_destroy(&us.mu);
    for (size_t i = 0; i < nrev; i++)
        dataset_query_item_free(&revealed[i]);
    free(revealed);
    free(ext.items);
    pthread_mutex_lock(&s->mu);
    if (rc && !s->abandoned)
        set_fatal_locked(s, rc, &e);
    last = !s->abandoned && job_done(s, j->user);
    if (last)
        report_progress(s);
    pthread_mutex_unlock(&s->mu);
    if (last)
        user_state_release(&s->users[j->user]);
    return stop || rc;
}

static int run_prep(run_state *s, const job *j, llm_worker *w)
{
    pe_err e = {0};
    int rc = s->o->methods[j->method]->prepare(s->rs, &s->users[j->user], j->method, w, &e);
    int last;

    pthread_mutex_lock(&s->mu);
    s->preps_running--;
    if (s->abandoned) {
        pthread_mutex_unlock(&s->mu);
        return 1;
    }
    if (rc)
        set_fatal_locked(s, rc, &e);
    else
        push_queries(s, j->user, j->method);
    if (!rc && s->users[j->user].per[j->method].prep_error && s->o->prep_failed)
        s->o->prep_failed[j->method]++;
    s->st.preps_done++;
    last = job_done(s, j->user);
    report_progress(s);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (last)
        user_state_release(&s->users[j->user]);
    return rc != 0;
}

static void *worker(void *arg)
{
    run_state *s = arg;
    llm_worker *w = s->rs->llm ? llm_worker_new(s->rs->llm) : NULL;
    int stop;
    for (;;) {
        job j;
        pthread_mutex_lock(&s->mu);
        while (!stopping(s) && s->nready == 0 && s->head >= s->nfifo && s->preps_running > 0)
            pthread_cond_wait(&s->cv, &s->mu);
        if (stopping(s) || (s->nready == 0 && s->head >= s->nfifo)) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        j = s->nready ? s->ready[--s->nready] : s->fifo[s->head++];
        if (j.kind == JOB_PREP)
            s->preps_running++;
        pthread_mutex_unlock(&s->mu);
        if (s->o->in_flight)
            atomic_fetch_add(s->o->in_flight, 1);
        stop = j.kind == JOB_PREP     ? run_prep(s, &j, w)
               : j.kind == JOB_ONLINE ? run_online(s, &j, w)
                                      : run_query(s, &j, w);
        if (s->o->in_flight)
            atomic_fetch_sub(s->o->in_flight, 1);
        if (stop)
            break;
    }
    llm_worker_free(w);
    pthread_mutex_lock(&s->mu);
    s->alive--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Wait on s->cv (s->mu held) for at most sec seconds. */
static void timed_wait(run_state *s, double sec)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)(sec * 1e9);
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

/* Wait for the workers; once stop is set, for at most the grace period.
 * Returns 1 when the workers were abandoned. */
static int wait_workers(run_state *s)
{
    double stop_at = -1;
    int abandoned = 0;
    pthread_mutex_lock(&s->mu);
    while (s->alive > 0) {
        if (s->o->grace_s > 0 && s->o->stop && *s->o->stop) {
            double now = pe_now();
            if (stop_at < 0)
                stop_at = now;
            if (now - stop_at >= s->o->grace_s || (s->o->stop_now && *s->o->stop_now)) {
                s->abandoned = abandoned = 1;
                pthread_cond_broadcast(&s->cv);
                break;
            }
        }
        timed_wait(s, 0.05);
    }
    /* answers being written finish first, so the caller can close the files */
    while (s->recording > 0)
        pthread_cond_wait(&s->cv, &s->mu);
    if (abandoned)
        s->st.abandoned = (size_t)s->alive;
    pthread_mutex_unlock(&s->mu);
    return abandoned;
}

/* The initial jobs: per user and method, one PREP job when the method has
 * something to prepare, else its queries; (method, user, query) triples
 * already done are skipped. */
static void plan_jobs(run_state *s)
{
    const runner_opts *o = s->o;
    const dataset *d = s->rs->data;
    size_t cap = 0;

    for (size_t u = 0; u < d->nusers; u++) {
        user_state_init(&s->users[u], &d->users[u], u, o->nmethods);
        for (size_t m = 0; m < o->nmethods; m++) {
            size_t todo = 0;
            for (size_t q = 0; q < d->users[u].nqueries; q++) {
                s->st.queries_total++;
                if (o->is_done && o->is_done(o->done_ctx, o->methods[m]->name, d->users[u].id,
                                             d->users[u].queries[q].id))
                    s->st.queries_skipped++;
                else
                    todo++;
            }
            if (!todo)
                continue;
            s->fifo = xgrow(s->fifo, &cap, s->nfifo + (o->methods[m]->prepare ? 1 : todo),
                            sizeof *s->fifo);
            if (o->methods[m]->prepare)
                s->st.preps_total++;
            if (s->rs->online) {
                s->fifo[s->nfifo++] = (job){JOB_ONLINE, u, m, 0};
                s->pending[u]++;
                continue;
            }
            if (o->methods[m]->prepare) {
                s->fifo[s->nfifo++] = (job){JOB_PREP, u, m, 0};
                s->pending[u]++;
                continue;
            }
            for (size_t q = 0; q < d->users[u].nqueries; q++)
                if (!o->is_done || !o->is_done(o->done_ctx, o->methods[m]->name,
                                               d->users[u].id, d->users[u].queries[q].id)) {
                    s->fifo[s->nfifo++] = (job){JOB_QUERY, u, m, q};
                    s->pending[u]++;
                }
        }
        if (!s->pending[u])
            s->users_done++;
    }
}

int runner_run(const run_shared *rs, const runner_opts *o, runner_stats *st, pe_err *e)
{
    /* on the heap: abandoned workers may still use it after we return */
    run_state *s = xcalloc(1, sizeof *s);
    const dataset *d = rs->data;
    int nthreads = o->jobs > 0 ? o->jobs : 1, rc;
    size_t work;
    pthread_t *th;
    double t0 = pe_now();
    const char *delay = getenv(RUNNER_DELAY_ENV);
    pthread_condattr_t ca;

    s->rs = rs;
    s->o = o;
    s->delay_ms = delay ? strtol(delay, NULL, 10) : 0;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    s->users = xcalloc(d->nusers ? d->nusers : 1, sizeof *s->users);
    s->pending = xcalloc(d->nusers ? d->nusers : 1, sizeof *s->pending);
    plan_jobs(s);
    report_progress(s);

    /* no more threads than there can ever be jobs at once */
    work = s->st.queries_total - s->st.queries_skipped;
    if ((size_t)nthreads > work)
        nthreads = work ? (int)work : 1;
    th = xcalloc((size_t)nthreads, sizeof *th);
    s->alive = nthreads;
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, worker, s) != 0) {
            pthread_mutex_lock(&s->mu);
            s->alive -= nthreads - i;
            pthread_mutex_unlock(&s->mu);
            nthreads = i;
            if (i == 0) {
                s->alive = 1;
                worker(s);
            }
            break;
        }
    if (wait_workers(s)) {
        /* grace period over: leave the workers and everything they use */
        for (int i = 0; i < nthreads; i++)
            pthread_detach(th[i]);
        free(th);
        pthread_mutex_lock(&s->mu);
        s->st.wall_s = pe_now() - t0;
        *st = s->st;
        rc = s->fatal;
        if (rc && e)
            *e = s->err;
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    for (int i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    free(th);

    for (size_t u = 0; u < d->nusers; u++) {
        user_state_release(&s->users[u]);
        pthread_mutex_destroy(&s->users[u].mu);
    }
    s->st.wall_s = pe_now() - t0;
    report_progress(s); /* the last counts, whatever job ended last */
    *st = s->st;
    rc = s->fatal;
    if (rc && e)
        *e = s->err;
    free(s->users);
    free(s->pending);
    free(s->fifo);
    free(s->ready);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return rc;
}
