#include "progress.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct progress {
    FILE *f;
    int line;    /* 1: redrawn status line; 0: log lines */
    int enabled;
    int drawn;   /* something was printed */
    int open;    /* a status line is drawn without its final newline */
    int finished;
    double t0, t_run, line_s, log_s;
    llm_client *chat, *embed;
    int priced;
    /* under mu: the state the ticker draws */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    progress_phase phase;
    int have_runner;
    runner_stats st;
    size_t users_done, users_total;
    int ticking, stop;
    pthread_t th;
    /* the ticker's own (or the finishing thread's, after the ticker ended) */
    progress_endpoint *eps;
    size_t neps;
    buf b;
};

int progress_parse_mode(const char *s, progress_mode *m, pe_err *e)
{
    if (strcmp(s, "auto") == 0)
        *m = PROGRESS_AUTO;
    else if (strcmp(s, "always") == 0)
        *m = PROGRESS_ALWAYS;
    else if (strcmp(s, "never") == 0)
        *m = PROGRESS_NEVER;
    else
        return pe_errf(e, PE_EXIT_USAGE, "--progress: \"%s\" is not auto, always or never", s);
    return 0;
}

const char *progress_phase_name(const progress_snapshot *s)
{
    switch (s->phase) {
    case PROGRESS_LOADING:
        return "loading";
    case PROGRESS_RUNNING:
        return s->queries_done == 0 && s->preps_done < s->preps_total ? "preparing"
                                                                      : "answering";
    case PROGRESS_SUMMARIZING:
        return "summarizing";
    case PROGRESS_DONE:
        return "done";
    case PROGRESS_STOPPED:
        break;
    }
    return "stopped";
}

static void fmt_duration(buf *b, double s)
{
    long v = s < 0 ? 0 : (long)(s + 0.5);
    if (v >= 3600)
        buf_printf(b, "%ldh%02ldm", v / 3600, v / 60 % 60);
    else if (v >= 60)
        buf_printf(b, "%ldm%02lds", v / 60, v % 60);
    else
        buf_printf(b, "%lds", v);
}

static void fmt_llm(buf *out, const progress_snapshot *s)
{
    buf_printf(out, "  calls %lu (", s->calls);
    if (s->cached)
        buf_printf(out, "%lu cached, ", s->cached);
    buf_printf(out, "%.1f/s)", s->run_s > 0 ? (double)s->calls / s->run_s : 0.0);
    if (s->tokens)
        buf_printf(out, "  tokens %llu", s->tokens);
    if (s->priced)
        buf_printf(out, "  cost $%.*f", s->cost_usd >= 1 ? 2 : 4, s->cost_usd);
}

/* The replicas and the gate: only what is not nothing. */
static void fmt_endpoints(buf *out, const progress_snapshot *s)
{
    if (s->retries)
        buf_printf(out, "  retries %lu", s->retries);
    if (s->rate_limited)
        buf_printf(out, "  429s %lu (in flight <= %d)", s->rate_limited, s->inflight_cap);
    if (s->nendpoints < 2)
        return;
    buf_adds(out, "  endpoints");
    for (size_t i = 0; i < s->nendpoints; i++) {
        const progress_endpoint *ep = &s->endpoints[i];
        buf_printf(out, "%s %lu", i ? " |" : "", ep->requests);
        if (ep->errors)
            buf_printf(out, " (errors %lu, rested %lu%s)", ep->errors, ep->rested,
                       ep->resting ? ", resting" : "");
    }
}

void progress_format(buf *out, const progress_snapshot *s, double elapsed)
{
    buf_adds(out, progress_phase_name(s));
    if (s->have_runner) {
        size_t done = s->queries_skipped + s->queries_done;
        size_t todo = s->preps_total + s->queries_total - s->queries_skipped;
        size_t jobs = s->preps_done + s->queries_done;
        buf_printf(out, "  users %zu/%zu", s->users_done, s->users_total);
        if (s->preps_total)
            buf_printf(out, "  prepared %zu/%zu", s->preps_done, s->preps_total);
        buf_printf(out, "  queries %zu/%zu", done, s->queries_total);
        if (s->have_llm)
            fmt_llm(out, s);
        buf_printf(out, "  errors %zu", s->errors);
        if (s->call_errors)
            buf_printf(out, " (failed calls %lu)", s->call_errors);
        buf_adds(out, "  elapsed ");
        fmt_duration(out, elapsed);
        /* preparations and queries as equal units of work, at the rate so far */
        if (s->phase == PROGRESS_RUNNING && jobs > 0 && jobs < todo && s->run_s > 0) {
            buf_adds(out, "  eta ");
            fmt_duration(out, s->run_s / (double)jobs * (double)(todo - jobs));
        }
    } else {
        if (s->have_llm && s->calls)
            fmt_llm(out, s);
        buf_adds(out, "  elapsed ");
        fmt_duration(out, elapsed);
    }
    if (s->have_llm)
        fmt_endpoints(out, s);
}

progress *progress_new(progress_mode mode, FILE *f)
{
    progress *p = xcalloc(1, sizeof *p);
    pthread_condattr_t ca;
    p->f = f;
    p->enabled = mode != PROGRESS_NEVER;
    p->line = mode == PROGRESS_ALWAYS || (mode == PROGRESS_AUTO && isatty(fileno(f)));
    p->line_s = 0.25;
    p->log_s = 30;
    p->t0 = p->t_run = pe_now();
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    return p;
}

void progress_set_intervals(progress *p, double line_s, double log_s)
{
    p->line_s = line_s;
    p->log_s = log_s;
}

void progress_set_llm(progress *p, llm_client *chat, llm_client *embed, int priced)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->chat = chat;
    p->embed = embed;
    p->priced = priced;
    pthread_mutex_unlock(&p->mu);
}

static void add_client(progress_snapshot *s, llm_client *c)
{
    llm_totals t;
    if (!c)
        return;
    llm_get_totals(c, &t);
    s->have_llm = 1;
    s->calls += t.calls + t.embed_calls;
    s->cached += t.cache_hits;
    s->call_errors += t.errors;
    s->retries += t.retries;
    s->rate_limited += t.rate_limited;
    s->tokens += t.prompt_tokens + t.completion_tokens;
    s->cost_usd += t.cost_usd;
}

/* The state to draw, copied under mu; the LLM counts are read after, outside
 * it, so that the runner's updates never wait on the clients' locks. */
static void snapshot(progress *p, progress_snapshot *s, double now)
{
    llm_client *chat, *embed;
    memset(s, 0, sizeof *s);
    pthread_mutex_lock(&p->mu);
    s->phase = p->phase;
    s->have_runner = p->have_runner;
    s->users_done = p->users_done;
    s->users_total = p->users_total;
    s->preps_done = p->st.preps_done;
    s->preps_total = p->st.preps_total;
    s->queries_total = p->st.queries_total;
    s->queries_done = p->st.queries_done;
    s->queries_skipped = p->st.queries_skipped;
    s->errors = p->st.errors;
    s->run_s = p->have_runner ? now - p->t_run : 0;
    s->priced = p->priced;
    chat = p->chat;
    embed = p->embed;
    pthread_mutex_unlock(&p->mu);
    add_client(s, chat);
    add_client(s, embed);
    if (chat && llm_endpoint_count(chat) > 1) {
        size_t n = llm_endpoint_count(chat);
        if (n != p->neps) {
            p->eps = xrealloc(p->eps, n * sizeof *p->eps);
            p->neps = n;
        }
        for (size_t i = 0; i < n; i++) {
            llm_pool_stats ps;
            llm_endpoint_stats(chat, i, &ps);
            p->eps[i] = (progress_endpoint){ps.requests, ps.errors, ps.rested, ps.resting};
        }
        s->inflight_cap = llm_inflight_cap(chat);
        s->endpoints = p->eps;
        s->nendpoints = n;
    } else if (chat) {
        s->inflight_cap = llm_inflight_cap(chat);
    }
}

/* Draw the current state; called by one thread at a time (the ticker, or the
 * finishing thread once the ticker has ended). */
static void emit(progress *p, int final)
{
    progress_snapshot s;
    double now = pe_now();
    snapshot(p, &s, now);
    buf_reset(&p->b);
    if (p->line)
        buf_adds(&p->b, "\r\033[K");
    buf_adds(&p->b, "persona-eval: ");
    progress_format(&p->b, &s, now - p->t0);
    if (!p->line || final)
        buf_addc(&p->b, '\n');
    fputs(buf_str(&p->b), p->f);
    fflush(p->f);
    p->drawn = 1;
    p->open = p->line && !final;
}

/* Wait on p->cv (p->mu held) for at most sec seconds. */
static void timed_wait(progress *p, double sec)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)sec;
    ts.tv_nsec += (long)((sec - (double)(time_t)sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&p->cv, &p->mu, &ts);
}

static void *ticker(void *arg)
{
    progress *p = arg;
    double every = p->line ? p->line_s : p->log_s, next = pe_now() + every;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        double now = pe_now();
        if (now < next) {
            timed_wait(p, next - now);
            continue;
        }
        pthread_mutex_unlock(&p->mu); /* drawing reads the clients: not under mu */
        emit(p, 0);
        pthread_mutex_lock(&p->mu);
        next = now + every;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

void progress_start(progress *p)
{
    if (!p || !p->enabled || p->ticking)
        return;
    if (p->line) /* here, not in the ticker: the first state is the one drawn */
        emit(p, 0);
    if (pthread_create(&p->th, NULL, ticker, p) == 0)
        p->ticking = 1;
}

static void stop_ticker(progress *p)
{
    if (!p->ticking)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    p->ticking = 0;
}

void progress_set_phase(progress *p, progress_phase phase)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->phase = phase;
    pthread_mutex_unlock(&p->mu);
}

void progress_update(void *ctx, const runner_stats *st, size_t users_done, size_t users_total)
{
    progress *p = ctx;
    if (!p || !p->enabled)
        return;
    pthread_mutex_lock(&p->mu);
    if (!p->have_runner) {
        p->have_runner = 1;
        p->t_run = pe_now();
        if (p->phase == PROGRESS_LOADING)
            p->phase = PROGRESS_RUNNING;
    }
    p->st = *st;
    p->users_done = users_done;
    p->users_total = users_total;
    pthread_mutex_unlock(&p->mu);
}

void progress_finish(progress *p, int incomplete)
{
    if (!p || !p->enabled || p->finished)
        return;
    stop_ticker(p);
    p->finished = 1;
    progress_set_phase(p, incomplete ? PROGRESS_STOPPED : PROGRESS_DONE);
    if (p->line || p->drawn)
        emit(p, 1);
}

void progress_free(progress *p)
{
    if (!p)
        return;
    stop_ticker(p);
    if (p->open) { /* a run that failed: no half line before its message */
        fputs("\r\033[K", p->f);
        fflush(p->f);
    }
    free(p->eps);
    buf_free(&p->b);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
