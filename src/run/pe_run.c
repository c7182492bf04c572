/* pe_run(): one evaluation, from a configuration to a run directory. */
#include "pe_run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "html_run.h"
#include "jsonu.h"
#include "run_parts.h"
#include "topk.h"

/* Everything one call of pe_run() holds. */
typedef struct run_state {
    const pe_run_config *c;
    const task *task;
    dataset data;
    dataset unselected;         /* users left out by --users/--user */
    const ds_user **pool;       /* every loaded user, by id */
    const method **methods;
    size_t nmethods;
    run_llm llm;
    encoder_opts enc;
    runctl ctl;
    report_writer *w;
    char *default_data;
    int lock_fd;                /* the run folder's lock, held for the whole run */
    const char *resume;         /* c->resume when that folder holds a run */
    const char *fresh_out;      /* c->resume when it holds nothing yet */
    char started[32], finished[32];
    run_shared rs;
    runner_opts ro;
    size_t *prep_failed;        /* per method */
    run_prior prior;            /* --resume: the earlier sessions' totals */
} run_state;

static void sink_trace(void *ctx, const char *line)
{
    report_append_trace(ctx, line, NULL);
}

static void sink_persona(void *ctx, const char *line)
{
    report_append_persona(ctx, line, NULL);
}

/* The data files: the config's, or the bundled sample of the task. */
static int load_data(run_state *s, pe_err *e)
{
    const pe_run_config *c = s->c;
    const char *const *paths = c->data;
    size_t n = c->ndata;
    const char *one[1];

    if (!n) {
        s->default_data = xasprintf("data/sample/%s.jsonl", s->task->name);
        if (!pe_file_exists(s->default_data))
            return pe_errf(e, PE_EXIT_USAGE,
                           "no --data given and the sample %s is not here (run from the "
                           "source folder, or name a file with --data)",
                           s->default_data);
        one[0] = s->default_data;
        paths = one;
        n = 1;
    }
    return dataset_load_limits(&s->data, s->task, paths, n, c->format, &c->limits, e);
}

/* The canonical settings of this run (run_config's table). */
static cJSON *settings_of(const run_state *s)
{
    const dataset *d = &s->data;
    const char **names = xcalloc(s->nmethods ? s->nmethods : 1, sizeof *names);
    const char **sums = xcalloc(d->nsources ? d->nsources : 1, sizeof *sums);
    run_derived dv = {0};
    cJSON *out;

    for (size_t i = 0; i < s->nmethods; i++)
        names[i] = s->methods[i]->name;
    for (size_t i = 0; i < d->nsources; i++)
        sums[i] = d->sources[i].sha256;
    dv.data_sha256 = sums;
    dv.ndata = d->nsources;
    dv.methods = names;
    dv.nmethods = s->nmethods;
    dv.llm = s->llm.client != NULL;
    dv.embed_http = s->llm.embed != NULL;
    dv.backend = s->llm.offline ? "offline" : "http";
    dv.model = s->llm.model;
    dv.prompts_sha256 = s->llm.prompts_sha256;
    dv.wiki = s->llm.wiki_spec;
    out = run_config_settings(s->c, &dv);
    free(names);
    free(sums);
    return out;
}

static char *default_out(const run_state *s)
{
    char stamp[32], *out;
    buf name = BUF_INIT;
    pe_utc_compact(stamp, sizeof stamp);
    for (size_t i = 0; i < s->nmethods; i++)
        buf_printf(&name, "%s%s", i ? "+" : "", s->methods[i]->name);
    if (s->nmethods > 3) {
        buf_reset(&name);
        buf_printf(&name, "%zu-methods", s->nmethods);
    }
    out = xasprintf("results/%s-%s-%s", s->task->name, buf_str(&name), stamp);
    buf_free(&name);
    return out;
}

static int write_run_json(const run_state *s, const char *out, const runner_stats *st,
                          int incomplete, pe_err *e)
{
    run_record rec = {s->c,      &s->data,    s->methods, s->nmethods, &s->ctl,
                      (run_llm *)&s->llm, s->started, NULL, st, incomplete, &s->prior};
    char *rj;
    int rc;
    if (st)
        rec.finished = s->finished;
    rj = run_json_text(&rec);
    rc = pe_write_atomic_in(out, "run.json", rj, strlen(rj), e);
    free(rj);
    return rc;
}

/* --resume: the endpoint's tool support as the run decided it, so that a
 * resumed run speaks the same protocol, and the earlier sessions' totals, so
 * that run.json's cover every session. */
static int restore_previous(run_state *s, const char *dir, pe_err *e)
{
    cJSON *run = NULL;
    const char *name;
    int rc, ts;
    if (!pe_file_exists(dir))
        return 0; /* the resume check reports it */
    if ((rc = report_read_json(dir, "run.json", 64u << 20, &run, e)))
        return rc == PE_EXIT_NOINPUT ? 0 : rc;
    run_prior_read(run, &s->prior);
    name = jsonu_str(cJSON_GetObjectItemCaseSensitive(run, "llm"), "tool_support");
    if (s->llm.client && name && (ts = llm_tool_support_parse(name)) >= 0) {
        llm_set_tool_support(s->llm.client, (llm_tool_support)ts);
        if (ts == LLM_TOOLS_TEXT)
            atomic_store(&s->llm.text_fallback, 1);
    }
    cJSON_Delete(run);
    return 0;
}

/* A resumed folder holds a run once run.json is written; a run killed before
 * that left at most its lock, and starts afresh. */
static int started(const char *dir)
{
    char *p = xasprintf("%s/run.json", dir), *q = xasprintf("%s/predictions.jsonl", dir);
    int yes = pe_file_exists(p) || pe_file_exists(q);
    free(p);
    free(q);
    return yes;
}

/* Claim the run folder before anything is written to it: one run at a time
 * (flock: released by the kernel when the process ends, however it ends). */
static int lock_folder(run_state *s, const char *dir, pe_err *e)
{
    char *path = xasprintf("%s/.lock", dir), pid[32];
    int rc = pe_mkdirs(dir, e), n;
    if (!rc && (s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
        rc = pe_errf(e, PE_EXIT_IO, "%s: %s", path, strerror(errno));
    if (!rc && flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        char other[32] = "";
        ssize_t got = pread(s->lock_fd, other, sizeof other - 1, 0);
        other[got > 0 ? got : 0] = '\0';
        other[strcspn(other, "\n")] = '\0';
        rc = errno == EWOULDBLOCK
                 ? pe_errf(e, PE_EXIT_LOCKED, "%s is in use by another run (process %s)", dir,
                           *other ? other : "?")
                 : pe_errf(e, PE_EXIT_IO, "%s: %s", path, strerror(errno));
    }
    if (!rc) {
        n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (ftruncate(s->lock_fd, 0) != 0 || pwrite(s->lock_fd, pid, (size_t)n, 0) != n)
            rc = pe_errf(e, PE_EXIT_IO, "%s: %s", path, strerror(errno));
    }
    free(path);
    return rc;
}

/* Every loaded user, sorted by id, for what is drawn from other users. */
static void make_pool(run_state *s, run_shared *rs)
{
    const dataset *parts[3] = {&s->data, &s->unselected, &s->ctl.rest};
    size_t n = 0;
    const ds_user **all;
    for (size_t p = 0; p < 3; p++)
        n += parts[p]->nusers;
    all = xcalloc(n ? n : 1, sizeof *all);
    n = 0;
    for (size_t p = 0; p < 3; p++)
        for (size_t i = 0; i < parts[p]->nusers; i++)
            all[n++] = &parts[p]->users[i];
    s->pool = methods_pool_new(all, n);
    free(all);
    rs->pool = s->pool;
    rs->npool = n;
}

/* Everything up to the first query: data, users, LLM, encoder, resume, the
 * run directory and its first run.json. */
static int prepare(run_state *s, pe_run_result *r, run_shared *rs, pe_err *e)
{
    const pe_run_config *c = s->c;
    const char *out = c->out;
    char *pp;
    int rc, exists;

    if (!c->task || !(s->task = task_get(c->task)))
        return pe_errf(e, PE_EXIT_USAGE, "unknown task \"%s\" (tasks: %s)",
                       c->task ? c->task : "", task_names());
    r->task = s->task;
    if ((rc = methods_parse_list(c->methods, &s->methods, &s->nmethods, e)))
        return rc;
    if ((rc = load_data(s, e)))
        return rc;
    for (size_t i = 0; i < s->data.nwarnings; i++)
        pe_logf(c->log, c->log_ctx, "%s", s->data.warnings[i]);
    methods_global_stats(&s->data, &rs->global_label, &rs->global_mean);
    if ((rc = dataset_select(&s->data, &s->unselected, c->users, c->user_ids, c->nuser_ids,
                             c->max_queries, e)))
        return rc;
    if (methods_need_llm(s->methods, s->nmethods) && (rc = run_llm_setup(c, &s->llm, e)))
        return rc;
    if (s->resume && (rc = restore_previous(s, s->resume, e)))
        return rc;
    if ((rc = run_encoder_setup(c, &s->llm, &s->enc, e)))
        return rc;
    r->offline = s->llm.client && s->llm.offline;
    r->model = s->llm.client ? xstrdup(s->llm.model) : NULL;
    if (s->resume && out && strcmp(out, s->resume) != 0)
        return pe_errf(e, PE_EXIT_USAGE, "--out %s and --resume %s name different folders", out,
                       s->resume);
    r->out = s->resume      ? xstrdup(s->resume)
             : out          ? xstrdup(out)
             : s->fresh_out ? xstrdup(s->fresh_out)
                            : default_out(s);
    /* a resumed folder is locked before its torn tails are repaired; a new one
     * only once the options are known to be good (bad input writes nothing) */
    if (s->resume && (rc = lock_folder(s, r->out, e)))
        return rc;
    if ((rc = runctl_prepare(&s->ctl, &s->data, settings_of(s), &out, e)))
        return rc;
    if (!s->resume && (rc = lock_folder(s, r->out, e)))
        return rc;
    make_pool(s, rs);
    pe_utc_iso(s->started, sizeof s->started);
    pp = xasprintf("%s/predictions.jsonl", r->out);
    exists = pe_file_exists(pp);
    free(pp);
    if (exists && !s->resume)
        return pe_errf(e, PE_EXIT_USAGE,
                       "%s already holds a run; choose another --out or remove it", r->out);
    if ((rc = report_open(r->out, &s->w, e)))
        return rc;
    return write_run_json(s, r->out, NULL, 1, e);
}

static void shared_from_config(const run_state *s, run_shared *rs)
{
    const pe_run_config *c = s->c;
    rs->task = s->task;
    rs->data = &s->data;
    rs->strict_answers = c->strict_answers;
    rs->k = c->k;
    rs->seed = c->seed;
    rs->methods = s->methods;
    rs->nmethods = s->nmethods;
    rs->encoder = &s->enc;
    rs->llm = s->llm.client;
    rs->prompts = s->llm.prompts;
    rs->wiki = s->llm.wiki;
    rs->tools_mode = !strcmp(c->tools, "native") ? AGENT_NATIVE
                     : !strcmp(c->tools, "text") ? AGENT_TEXT
                                                 : AGENT_AUTO;
    rs->text_fallback = (atomic_int *)&s->llm.text_fallback;
    rs->max_steps = (int)c->max_steps;
    rs->summary_items = c->summary_items;
    rs->summary_chars = 24000;
    rs->obs_chars = 600;
    rs->max_obs_chars = (size_t)c->max_observation_chars;
    rs->max_tool_calls = c->max_tool_calls;
    rs->align_batch = c->align_batch;
    rs->align_iters = c->align_iters;
    rs->temperature = c->temperature;
    rs->price_in = c->price_in;
    rs->price_out = c->price_out;
    rs->sink.trace = sink_trace;
    rs->sink.persona = sink_persona;
    rs->sink.ctx = s->w;
    rs->online = c->online;
    rs->align_every = c->align_every;
}

/* The host (and port) of a URL that has no credentials. */
static char *url_host(const char *url)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    return xasprintf("%.*s", (int)strcspn(h, "/?#"), h);
}

/* The data files' SHA-256, comma-separated in load order. */
static char *data_sums(const dataset *d)
{
    buf b = BUF_INIT;
    for (size_t i = 0; i < d->nsources; i++)
        buf_printf(&b, "%s%s", i ? "," : "", d->sources[i].sha256);
    return buf_detach(&b);
}

/* After the answers: summaries from predictions.jsonl, the final run.json and
 * report.html. */
static int summarize(run_state *s, pe_run_result *r, pe_err *e)
{
    summary_opts so = {0};
    pred_record *recs = NULL;
    size_t nrec = 0, torn = 0;
    const char **mo = xcalloc(s->nmethods ? s->nmethods : 1, sizeof *mo);
    const char **uo = xcalloc(s->data.nusers ? s->data.nusers : 1, sizeof *uo);
    size_t *expected = xcalloc(s->nmethods ? s->nmethods : 1, sizeof *expected);
    char *host = NULL, *sums = NULL;
    int rc;

    for (size_t i = 0; i < s->nmethods; i++)
        mo[i] = s->methods[i]->name;
    for (size_t i = 0; i < s->data.nusers; i++)
        uo[i] = s->data.users[i].id;
    so.bootstrap = s->c->bootstrap;
    so.seed = s->c->seed;
    so.method_order = mo;
    so.nmethod_order = s->nmethods;
    so.user_order = uo;
    so.nuser_order = s->data.nusers;
    so.incomplete = r->incomplete;
    for (size_t i = 0; i < s->nmethods; i++)
        expected[i] = dataset_nqueries(&s->data);
    so.n_expected = expected;
    so.prep_errors = s->prep_failed;
    if (s->llm.client) {
        so.model = s->llm.model;
        so.backend = s->llm.offline ? "offline responder (not a language model)" : "http";
        so.endpoint_host = host = s->llm.endpoint ? url_host(s->llm.endpoint) : NULL;
    }
    so.data_sha256 = sums = data_sums(&s->data);
    so.config_hash = s->ctl.hash;
    rc = report_load_predictions(r->out, &recs, &nrec, &torn, e);
    if (!rc)
        rc = report_summarize(r->out, s->task, recs, nrec, &so, &r->summaries, &r->nsummaries,
                              e);
    free(mo);
    free(uo);
    free(expected);
    free(host);
    free(sums);
    pe_utc_iso(s->finished, sizeof s->finished);
    if (!rc)
        rc = write_run_json(s, r->out, &r->stats, r->incomplete, e);
    if (!rc) /* the predictions just read, not read again */
        rc = html_write_run_with(r->out, &s->data, recs, nrec, e);
    report_free_predictions(recs, nrec);
    return rc;
}

/* Frees s itself too. */
static void release(run_state *s)
{
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    runctl_free(&s->ctl);
    if (s->w)
        report_close(s->w, NULL);
    dataset_free(&s->data);
    dataset_free(&s->unselected);
    free(s->pool);
    run_llm_free(&s->llm);
    free(s->methods);
    free(s->default_data);
    free(s->prep_failed);
    free(s);
}

int pe_run(const pe_run_config *c, pe_run_result *r, pe_err *e)
{
    /* on the heap: after an abandoned stop the workers still read it */
    run_state *s = xcalloc(1, sizeof *s);
    s->lock_fd = -1;
    runner_opts *ro = &s->ro;
    int rc, runrc, src;
    unsigned long misses;
    pe_err e2 = {0};

    memset(r, 0, sizeof *r);
    pe_interrupt_arm();
    s->c = c;
    s->resume = c->resume && started(c->resume) ? c->resume : NULL;
    if (c->resume && !s->resume && !c->out) /* killed before its first write: start afresh */
        s->fresh_out = c->resume;
    /* one BLAS thread per worker when workers run in parallel; all cores for
     * one. Set first: loading needs the cores OpenBLAS's idle threads spin on */
    topk_set_blas_threads(c->jobs > 1 ? 1 : (int)sysconf(_SC_NPROCESSORS_ONLN));
    runctl_init(&s->ctl, s->resume, c->shard, c->shards, c->grace_s, c->progress);
    runctl_progress_start(&s->ctl, c->progress_interval_s);
    if ((rc = prepare(s, r, &s->rs, e))) {
        free(r->out); /* the folder does not hold this run */
        r->out = NULL;
        release(s);
        return rc;
    }
    shared_from_config(s, &s->rs);
    ro->methods = s->methods;
    ro->nmethods = s->nmethods;
    ro->jobs = c->jobs > 0 ? c->jobs : 1;
    ro->out = s->w;
    ro->stop = c->stop;
    ro->stop_now = c->stop_now;
    s->prep_failed = xcalloc(s->nmethods ? s->nmethods : 1, sizeof *s->prep_failed);
    ro->prep_failed = s->prep_failed;
    ro->in_flight = c->in_flight;
    if (c->offline_cache) { /* a miss stops the run: the cache cannot fill itself */
        ro->halt = run_llm_offline_halt;
        ro->halt_ctx = &s->llm;
    }
    runctl_runner_opts(&s->ctl, ro);
    progress_set_llm(s->ctl.prog, s->llm.client, s->llm.embed_client,
                     c->price_in > 0 || c->price_out > 0);
    if (c->verbose)
        pe_logf(c->log, c->log_ctx, "%zu users, %zu queries, %zu method(s) -> %s", s->data.nusers,
                dataset_nqueries(&s->data), s->nmethods, r->out);
    runrc = runner_run(&s->rs, ro, &r->stats, e);
    progress_set_phase(s->ctl.prog, PROGRESS_SUMMARIZING);
    r->abandoned = r->stats.abandoned;
    /* abandoned workers may still append: keep the writer and everything they read */
    rc = r->abandoned ? report_sync(s->w, runrc ? NULL : e) : report_close(s->w, runrc ? NULL : e);
    if (!r->abandoned)
        s->w = NULL;
    misses = run_llm_offline_misses(&s->llm);
    r->incomplete = runrc != 0 || (c->stop && *c->stop) ||
                    (misses && r->stats.queries_done + r->stats.queries_skipped <
                                   r->stats.queries_total);
    if (!runrc && rc) {
        runctl_finish(&s->ctl, 1);
        if (!r->abandoned)
            release(s);
        return rc;
    }
    pe_interrupt_arm(); /* a stop during the answers still writes the summary */
    src = summarize(s, r, runrc ? &e2 : e);
    if (src == PE_EXIT_SIGINT || src == PE_EXIT_SIGTERM) { /* a signal while summarizing */
        if (runrc && e)
            *e = e2;
        runrc = src;
    }
    runctl_finish(&s->ctl, r->incomplete || src);
    if (runrc)
        rc = runrc;
    else if (src)
        rc = src;
    else if (c->stop && *c->stop)
        rc = *c->stop == SIGTERM ? PE_EXIT_SIGTERM : PE_EXIT_SIGINT;
    else if (misses)
        rc = pe_errf(e, PE_EXIT_NOINPUT,
                     "--offline: %lu call%s found no entry in the cache %s, and the run stopped "
                     "at the first (the count covers the calls made until then: the first miss "
                     "and those of the queries already under way); %zu of %zu queries are not "
                     "answered. Fill the cache with a run without --offline, same options.",
                     misses, misses == 1 ? "" : "s", s->llm.cache_dir ? s->llm.cache_dir : "",
                     r->stats.queries_total - r->stats.queries_done - r->stats.queries_skipped +
                         r->stats.errors,
                     r->stats.queries_total);
    else
        rc = r->stats.errors ? PE_EXIT_RUNERRORS : 0;
    if (!r->abandoned) /* else the workers still read it all: the caller must _exit */
        release(s);
    return rc;
}

void pe_run_result_free(pe_run_result *r)
{
    report_free_summaries(r->summaries, r->nsummaries);
    free(r->out);
    free(r->model);
    memset(r, 0, sizeof *r);
}
