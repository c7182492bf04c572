/* persona-eval [run]: argv and the environment -> a pe_run_config; pe_run() does the rest. */
#include <getopt.h>
#include <stddef.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "cli_common.h"
#include "cmd.h"
#include "encoder.h"
#include "methods.h"
#include "offline.h"
#include "pe_run.h"
#include "progress.h"
#include "redact.h"
#include "run_command.h"
#include "sweep.h"

/* The configuration and what the tool itself keeps beside it. */
typedef struct run_args {
    pe_run_config c;
    const char **data, **user_ids, **headers; /* the arrays c points to */
    run_words cmd;                            /* the canonical command line */
    run_words file_headers;                   /* headers read from files or the environment */
    const char *sweep;
    char *endpoints;                          /* repeated --endpoint, comma-joined */
    int quiet, progress_given, share;
    int argc;                                 /* the command line being parsed */
    char **argv;
} run_args;

static void run_args_free(run_args *a)
{
    free(a->data);
    free(a->user_ids);
    free(a->headers);
    free(a->endpoints);
    run_words_free(&a->cmd);
    run_words_free(&a->file_headers);
}

static volatile sig_atomic_t stop_signal, stop_now;
static atomic_int in_flight;
static int progress_line; /* the progress line is drawn on stderr */
static char grace_text[96]; /* the rest of the first message, made before the handler is set */

/* Only async-signal-safe calls: write(2) of text formatted here (n < 0: no
 * number). */
static void say(const char *a, int n, const char *b)
{
    char num[24], *p = num + sizeof num;
    ssize_t ignored;
    *--p = '\0';
    while (n >= 0 && p > num) {
        *--p = (char)('0' + n % 10);
        if ((n /= 10) == 0)
            break;
    }
    ignored = write(2, a, strlen(a));
    ignored = write(2, p, strlen(p));
    ignored = write(2, b, strlen(b));
    (void)ignored;
}

static void on_signal(int sig)
{
    pe_signal_note(sig); /* the library's loops outside the answers stop on it */
    if (stop_signal) { /* the second: give up on the queries in flight, still summarize */
        stop_now = 1;
        say("\npersona-eval: stopping now: ", atomic_load(&in_flight),
            " queries in flight are abandoned\n");
        return;
    }
    stop_signal = sig;
    if (atomic_load(&in_flight) == 0) /* loading, preparing or summarizing */
        say("\npersona-eval: stopping (Ctrl-C again to stop now)\n", -1, "");
    else
        say("\npersona-eval: stopping: finishing ", atomic_load(&in_flight), grace_text);
}

/* ctx: NULL, or an int set when the progress line is drawn on stderr (a
 * message then replaces the line, which the next redraw puts below it). */
static void log_stderr(void *ctx, const char *msg)
{
    char *safe = redact(msg);
    fprintf(stderr, "%spersona-eval: %s\n", ctx && *(int *)ctx ? "\r\033[K" : "", safe);
    free(safe);
}

enum { O_TASK = 256, O_DATA, O_FORMAT, O_METHOD, O_OUT, O_USERS, O_USER, O_MAXQ, O_K, O_STRICT,
       O_BOOT, O_SEED, O_LLM, O_ENDPOINT, O_MODEL, O_KEYENV, O_HEADER, O_EXTRA, O_TEMP,
       O_TIMEOUT, O_RETRIES, O_MAXRESP, O_INSECURE, O_RPS, O_PIN, O_POUT, O_TOOLS, O_CACHE,
       O_CACHEDIR, O_CACHESHARED, O_OFFLINE, O_PROMPTS, O_WIKI, O_MAXSTEPS, O_SUMITEMS,
       O_ABATCH, O_AITERS, O_ONLINE, O_AEVERY, O_SWEEP, O_EMBED, O_EMBEP, O_EMBMODEL,
       O_TOKENIZE, O_DIM, O_MAXFILE, O_MAXFIELD, O_MAXPROF, O_MAXOBS, O_RESUME, O_SHARD,
       O_SHARDS, O_GRACE, O_PROGRESS, O_PINTERVAL, O_SHARE, O_MAXTOOLS };

#define R required_argument
static const struct option OPTS[] = {
    {"task", R, NULL, O_TASK}, {"data", R, NULL, O_DATA}, {"format", R, NULL, O_FORMAT},
    {"method", R, NULL, O_METHOD}, {"methods", R, NULL, O_METHOD}, {"out", R, NULL, O_OUT},
    {"users", R, NULL, O_USERS}, {"user", R, NULL, O_USER}, {"max-queries", R, NULL, O_MAXQ},
    {"k", R, NULL, O_K}, {"strict-answers", no_argument, NULL, O_STRICT},
    {"bootstrap", R, NULL, O_BOOT}, {"seed", R, NULL, O_SEED}, {"jobs", R, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'}, {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'}, {"llm", R, NULL, O_LLM}, {"endpoint", R, NULL, O_ENDPOINT},
    {"model", R, NULL, O_MODEL}, {"api-key-env", R, NULL, O_KEYENV},
    {"header", R, NULL, O_HEADER}, {"extra-body", R, NULL, O_EXTRA},
    {"temperature", R, NULL, O_TEMP}, {"timeout", R, NULL, O_TIMEOUT},
    {"retries", R, NULL, O_RETRIES}, {"max-response-bytes", R, NULL, O_MAXRESP},
    {"insecure", no_argument, NULL, O_INSECURE}, {"rps", R, NULL, O_RPS},
    {"price-in", R, NULL, O_PIN}, {"price-out", R, NULL, O_POUT}, {"tools", R, NULL, O_TOOLS},
    {"cache", R, NULL, O_CACHE}, {"cache-dir", R, NULL, O_CACHEDIR},
    {"cache-shared", no_argument, NULL, O_CACHESHARED},
    {"offline", no_argument, NULL, O_OFFLINE}, {"prompts", R, NULL, O_PROMPTS},
    {"wiki", R, NULL, O_WIKI}, {"max-steps", R, NULL, O_MAXSTEPS},
    {"summary-items", R, NULL, O_SUMITEMS}, {"align-batch", R, NULL, O_ABATCH},
    {"align-iters", R, NULL, O_AITERS}, {"online", no_argument, NULL, O_ONLINE},
    {"align-every", R, NULL, O_AEVERY}, {"sweep", R, NULL, O_SWEEP},
    {"embed", R, NULL, O_EMBED}, {"embed-endpoint", R, NULL, O_EMBEP},
    {"embed-model", R, NULL, O_EMBMODEL}, {"tokenize", R, NULL, O_TOKENIZE},
    {"dim", R, NULL, O_DIM}, {"resume", R, NULL, O_RESUME}, {"shard", R, NULL, O_SHARD},
    {"shards", R, NULL, O_SHARDS}, {"grace", R, NULL, O_GRACE},
    {"progress", R, NULL, O_PROGRESS}, {"progress-interval", R, NULL, O_PINTERVAL},
    {"max-file-bytes", R, NULL, O_MAXFILE},
    {"max-field-bytes", R, NULL, O_MAXFIELD}, {"max-profile-items", R, NULL, O_MAXPROF},
    {"max-observation-chars", R, NULL, O_MAXOBS}, {"share-results", no_argument, NULL, O_SHARE},
    {"max-tool-calls", R, NULL, O_MAXTOOLS},
    {NULL, 0, NULL, 0},
};
#undef R

/* Options stored as they are: a string, a flag, a whole number >= min, or a
 * number >= min, at an offset of pe_run_config. */
typedef enum { V_STR, V_FLAG, V_SIZE, V_ULL, V_NUM } vkind;
#define C(f) offsetof(pe_run_config, f)
static const struct {
    int ch;
    vkind kind;
    double min;
    size_t at;
} VALUES[] = {
    {O_FORMAT, V_STR, 0, C(format)},        {O_METHOD, V_STR, 0, C(methods)},
    {O_OUT, V_STR, 0, C(out)},
    {O_MODEL, V_STR, 0, C(model)},          {O_KEYENV, V_STR, 0, C(api_key_env)},
    {O_CACHEDIR, V_STR, 0, C(cache_dir)},   {O_PROMPTS, V_STR, 0, C(prompts_dir)},
    {O_WIKI, V_STR, 0, C(wiki)},            {O_EMBEP, V_STR, 0, C(embed_endpoint)},
    {O_EMBMODEL, V_STR, 0, C(embed_model)}, {O_RESUME, V_STR, 0, C(resume)},
    {O_SHARD, V_STR, 0, C(shard)},          {O_STRICT, V_FLAG, 0, C(strict_answers)},
    {O_INSECURE, V_FLAG, 0, C(insecure)},   {O_CACHESHARED, V_FLAG, 0, C(cache_shared)},
    {O_OFFLINE, V_FLAG, 0, C(offline_cache)}, {O_ONLINE, V_FLAG, 0, C(online)},
    {O_USERS, V_SIZE, 1, C(users)},         {O_MAXQ, V_SIZE, 1, C(max_queries)},
    {O_K, V_SIZE, 1, C(k)},                 {O_BOOT, V_SIZE, 0, C(bootstrap)},
    {O_MAXSTEPS, V_SIZE, 1, C(max_steps)},  {O_SUMITEMS, V_SIZE, 0, C(summary_items)},
    {O_ABATCH, V_SIZE, 0, C(align_batch)},  {O_AITERS, V_SIZE, 0, C(align_iters)},
    {O_AEVERY, V_SIZE, 0, C(align_every)},  {O_DIM, V_SIZE, 1, C(dim)},
    {O_SHARDS, V_SIZE, 1, C(shards)},       {O_MAXFILE, V_SIZE, 0, C(limits.max_file_bytes)},
    {O_MAXFIELD, V_SIZE, 0, C(limits.max_field_bytes)},
    {O_MAXPROF, V_SIZE, 0, C(limits.max_profile_items)},
    {O_SEED, V_ULL, 0, C(seed)},            {O_RETRIES, V_ULL, 0, C(retries)},
    {O_MAXRESP, V_ULL, 1024, C(max_response_bytes)},
    {O_MAXOBS, V_ULL, 1, C(max_observation_chars)},
    {O_MAXTOOLS, V_SIZE, 1, C(max_tool_calls)},
    {O_TEMP, V_NUM, 0, C(temperature)},     {O_TIMEOUT, V_NUM, 0.001, C(timeout)},
    {O_RPS, V_NUM, 0, C(rps)},              {O_PIN, V_NUM, 0, C(price_in)},
    {O_POUT, V_NUM, 0, C(price_out)},       {O_GRACE, V_NUM, 0, C(grace_s)},
    {O_PINTERVAL, V_NUM, 0.1, C(progress_interval_s)},
};
#undef C

/* The option's name as the user spelled it, for messages. */
static char *flag_name(int ch)
{
    for (size_t i = 0; OPTS[i].name; i++)
        if (OPTS[i].val == ch)
            return xasprintf("--%s", OPTS[i].name);
    return xasprintf("-%c", ch);
}

static int parse_value(pe_run_config *c, int ch, const char *arg, pe_err *e)
{
    for (size_t i = 0; i < sizeof VALUES / sizeof VALUES[0]; i++) {
        char *p = (char *)c + VALUES[i].at, *flag, *end;
        unsigned long long v = 0;
        double d;
        int rc = 0;
        if (VALUES[i].ch != ch)
            continue;
        flag = flag_name(ch);
        switch (VALUES[i].kind) {
        case V_STR:
            *(const char **)p = arg;
            break;
        case V_FLAG:
            *(int *)p = 1;
            break;
        case V_SIZE:
        case V_ULL:
            if ((rc = pe_parse_count(flag, arg, (unsigned long long)VALUES[i].min, &v, e)))
                break;
            if (VALUES[i].kind == V_SIZE)
                *(size_t *)p = (size_t)v;
            else
                *(unsigned long long *)p = v;
            break;
        case V_NUM:
            d = strtod(arg, &end);
            if (!*arg || *end || !(d >= VALUES[i].min) || d > 1e12)
                rc = pe_errf(e, PE_EXIT_USAGE, "%s: \"%s\" is not a number >= %g", flag, arg,
                             VALUES[i].min);
            else
                *(double *)p = d;
            break;
        }
        free(flag);
        return rc;
    }
    return PE_EXIT_INTERNAL;
}

/* Append to a growing list the configuration points at. */
static const char **push(const char **list, size_t *n, const char *v)
{
    list = xrealloc(list, (*n + 1) * sizeof *list);
    list[(*n)++] = v;
    return list;
}

/* The options whose values are checked against a fixed set, or collected. */
static int parse_special(run_args *a, int ch, const char *arg, pe_err *e)
{
    pe_run_config *c = &a->c;
    unsigned long long v;
    int rc;
    switch (ch) {
    case O_TASK:
        if (!task_get(arg))
            return cli_unknown_task(arg, e);
        c->task = arg;
        return 0;
    case O_DATA: { /* --data A B C: the words up to the next option are files too */
        size_t from = c->ndata + 1;
        cli_data_files(a->argc, a->argv, arg, &a->data, &c->ndata);
        c->data = a->data;
        for (size_t i = from; i < c->ndata; i++)
            run_command_option(&a->cmd, "data", a->data[i]);
        return 0;
    }
    case O_ENDPOINT: { /* repeated: replicas of one model, separated by a space (no URL has one) */
        char *joined = c->endpoint ? xasprintf("%s %s", c->endpoint, arg) : xstrdup(arg);
        free(a->endpoints);
        c->endpoint = a->endpoints = joined;
        return 0;
    }
    case O_USER:
        c->user_ids = a->user_ids = push(a->user_ids, &c->nuser_ids, arg);
        return 0;
    case O_HEADER:
        if (arg[0] == '@') {
            size_t from = a->file_headers.n;
            if ((rc = run_command_file_headers(arg + 1, &a->file_headers, e)))
                return rc;
            for (size_t i = from; i < a->file_headers.n; i++)
                c->headers = a->headers = push(a->headers, &c->nheaders, a->file_headers.v[i]);
            return 0;
        }
        if (!strchr(arg, ':'))
            return pe_errf(e, PE_EXIT_USAGE, "--header: expected \"Name: value\" or @FILE");
        c->headers = a->headers = push(a->headers, &c->nheaders, arg);
        return 0;
    case 'j':
        if ((rc = pe_parse_count("--jobs", arg, 1, &v, e)))
            return rc;
        if (v > 1024)
            return pe_errf(e, PE_EXIT_USAGE, "--jobs: at most 1024");
        c->jobs = (int)v;
        return 0;
    case O_EXTRA: {
        cJSON *j = cJSON_Parse(arg);
        int ok = cJSON_IsObject(j);
        cJSON_Delete(j);
        if (!ok)
            return pe_errf(e, PE_EXIT_USAGE, "--extra-body: not a JSON object");
        c->extra_body = arg;
        return 0;
    }
    case O_LLM:
        if (strcmp(arg, "http") && strcmp(arg, "offline"))
            return pe_errf(e, PE_EXIT_USAGE, "--llm: http or offline, not \"%s\"", arg);
        c->llm = arg;
        return 0;
    case O_TOOLS:
        if (strcmp(arg, "native") && strcmp(arg, "text") && strcmp(arg, "auto"))
            return pe_errf(e, PE_EXIT_USAGE, "--tools: native, text or auto, not \"%s\"", arg);
        c->tools = arg;
        return 0;
    case O_CACHE:
        if (cache_mode_parse(arg) < 0 || !strcmp(arg, "offline"))
            return pe_errf(e, PE_EXIT_USAGE, "--cache: rw, ro or off, not \"%s\"", arg);
        c->cache = arg;
        return 0;
    case O_EMBED: {
        encoder_kind k;
        if (encoder_kind_parse(arg, &k) != 0)
            return pe_errf(e, PE_EXIT_USAGE, "--embed: %s, not \"%s\"", ENCODER_KINDS, arg);
        c->embed = arg;
        return 0;
    }
    case O_TOKENIZE: {
        encoder_tok tk;
        if (encoder_tok_parse(arg, &tk) != 0)
            return pe_errf(e, PE_EXIT_USAGE, "--tokenize: %s, not \"%s\"", ENCODER_TOKENIZERS,
                           arg);
        c->tokenize = arg;
        return 0;
    }
    case O_PROGRESS:
        a->progress_given = 1;
        return progress_parse_mode(arg, &c->progress, e);
    case O_SWEEP:
        a->sweep = arg;
        return 0;
    case O_SHARE:
        a->share = 1;
        return 0;
    default:
        return parse_value(c, ch, arg, e);
    }
}

static int parse_args(int argc, char **argv, run_args *a, pe_err *e)
{
    int ch, rc, li = -1;
    size_t from;

    optind = 1;
    opterr = 0;
    a->argc = argc;
    a->argv = argv;
    run_words_add(&a->cmd, "persona-eval");
    run_words_add(&a->cmd, "run");
    while ((ch = getopt_long(argc, argv, ":j:qvh", OPTS, &li)) != -1) {
        if (ch != '?' && ch != ':' && ch != 'h') /* full option names, secrets replaced */
            run_command_option(&a->cmd, li >= 0 ? OPTS[li].name
                                        : ch == 'j' ? "jobs" : ch == 'q' ? "quiet" : "verbose",
                               ch == 'j' || (li >= 0 && OPTS[li].has_arg) ? optarg : NULL);
        li = -1;
        if (ch == 'h') {
            run_usage(stdout);
            return -1;
        } else if (ch == 'q') {
            a->quiet = 1;
        } else if (ch == 'v') {
            a->c.verbose++;
        } else if (ch == '?' || ch == ':') {
            return cli_getopt_error(argc, argv, ch, OPTS, e);
        } else if ((rc = parse_special(a, ch, optarg, e))) {
            return rc;
        }
    }
    from = a->file_headers.n;
    if ((rc = run_command_env_headers(&a->file_headers, e)))
        return rc;
    for (size_t i = from; i < a->file_headers.n; i++)
        a->c.headers = a->headers = push(a->headers, &a->c.nheaders, a->file_headers.v[i]);
    if (a->c.shards > 1000000)
        return pe_errf(e, PE_EXIT_USAGE, "--shards: at most 1000000");
    if (optind < argc)
        return pe_errf(e, PE_EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);
    return 0;
}

/* Print what a finished (or stopped) run produced; returns the exit status. */
static int finish(const run_args *a, const pe_run_result *r, int rc, const pe_err *e)
{
    if (r->summaries && !a->quiet) {
        buf t = BUF_INIT;
        if (r->incomplete)
            printf("INCOMPLETE: %zu of %zu queries answered; the numbers below cover only "
                   "those.\n\n", r->stats.queries_done + r->stats.queries_skipped,
                   r->stats.queries_total);
        report_table(&t, "md", r->task, r->summaries, r->nsummaries, NULL);
        fputs(buf_str(&t), stdout);
        buf_free(&t);
        if (r->offline)
            printf("\nAnswers came from the %s.", OFFLINE_LABEL);
        else if (r->model)
            printf("\nAnswers came from the model %s.", r->model);
        printf("\nThe run folder (summary.md, report.html, predictions.jsonl):\n");
    }
    if (r->out && pe_file_exists(r->out)) /* the last line of stdout, also with -q */
        printf("%s\n", r->out);
    if ((rc == PE_EXIT_SIGINT || rc == PE_EXIT_SIGTERM) && r->summaries) {
        char *w = cli_shell_word(r->out);
        fprintf(stderr, "persona-eval: interrupted; the summary in %s is marked incomplete\n"
                        "persona-eval: continue with: persona-eval --resume %s\n",
                r->out, w);
        free(w);
    } else if (rc == PE_EXIT_SIGINT || rc == PE_EXIT_SIGTERM) {
        /* before the first query (nothing of the run written yet, or a resumed
         * run left as it was) or while summarizing (the files in place are
         * whole: the last summary stays until --resume writes the new one) */
        char *rj = r->out ? xasprintf("%s/run.json", r->out) : NULL;
        log_stderr(NULL, e->msg);
        if (rj && pe_file_exists(rj)) {
            char *w = cli_shell_word(r->out);
            fprintf(stderr, "persona-eval: continue with: persona-eval --resume %s\n", w);
            free(w);
        } else {
            fprintf(stderr, "persona-eval: nothing was written\n");
        }
        free(rj);
    } else if (rc == PE_EXIT_RUNERRORS) {
        fprintf(stderr, "persona-eval: %zu of %zu queries ended in error (see %s/"
                        "predictions.jsonl)\n", r->stats.errors, r->stats.queries_done, r->out);
    } else if (rc) {
        log_stderr(NULL, e->msg);
    }
    if (r->abandoned) { /* workers still use the run's data: leave without freeing it */
        fprintf(stderr, "persona-eval: %zu queries in flight were abandoned (they run again "
                        "on --resume)\n", r->abandoned);
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    return rc;
}

static int run_sweep(const run_args *a, pe_err *e)
{
    char stamp[32], *dir, *csv;
    int rc;
    pe_utc_compact(stamp, sizeof stamp);
    dir = a->c.out ? xstrdup(a->c.out) : xasprintf("results/%s-sweep-%s", a->c.task, stamp);
    rc = sweep_run(&a->c, a->sweep, dir, e);
    csv = xasprintf("%s/sweep.csv", dir);
    if (rc == PE_EXIT_SIGINT || rc == PE_EXIT_SIGTERM) {
        fprintf(stderr, "persona-eval: interrupted: the sweep stopped after the run it was "
                        "doing (marked incomplete) and wrote no sweep.csv\n");
        printf("%s\n", dir);
    } else if (rc && rc != PE_EXIT_RUNERRORS) {
        log_stderr(NULL, e->msg);
    } else {
        char *text = NULL;
        size_t len = 0;
        if (pe_read_file(csv, 64u << 20, &text, &len, e) == 0)
            fwrite(text, 1, len, stdout);
        free(text);
        printf("\nThe sweep folder (sweep.csv, sweep_*.svg):\n%s\n", dir);
    }
    free(csv);
    free(dir);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    run_args a;
    run_words resumed = {0};
    pe_run_result r;
    pe_err e = {0};
    int rc;
    struct sigaction sa;

    memset(&a, 0, sizeof a);
    run_config_init(&a.c);
    a.c.methods = CLI_DEFAULT_METHOD;
    rc = parse_args(argc, argv, &a, &e);
    if (rc == 0 && a.c.resume) { /* continue from the recorded command, new options on top */
        char *dir = xstrdup(a.c.resume);
        run_args_free(&a);
        memset(&a, 0, sizeof a);
        run_config_init(&a.c);
        a.c.methods = CLI_DEFAULT_METHOD;
        rc = run_command_resume(dir, argc, argv, &resumed, &e);
        if (!rc)
            rc = parse_args((int)resumed.n, resumed.v, &a, &e);
        free(dir);
    }
    if (rc == 0 && !a.c.task)
        rc = pe_errf(&e, PE_EXIT_USAGE, "--task is required (tasks: %s)", task_names());
    if (rc == -1) {
        rc = 0;
        goto done;
    }
    if (rc) {
        log_stderr(NULL, e.msg);
        goto done;
    }
    if (a.quiet && !a.progress_given)
        a.c.progress = PROGRESS_NEVER;
    if (!a.share) { /* run folders hold user histories and personas: private by default */
        mode_t old = umask(0);
        umask(old | 077);
    }
    a.c.command = (const char *const *)a.cmd.v;
    a.c.ncommand = a.cmd.n;
    a.c.stop = &stop_signal;
    a.c.log = log_stderr;
    progress_line = a.c.progress == PROGRESS_ALWAYS ||
                    (a.c.progress == PROGRESS_AUTO && isatty(STDERR_FILENO));
    a.c.log_ctx = &progress_line;
    snprintf(grace_text, sizeof grace_text,
             " queries in flight (up to %g s); Ctrl-C again to stop now\n", a.c.grace_s);
    a.c.stop_now = &stop_now;
    a.c.in_flight = &in_flight;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (a.sweep) { /* a signal stops the run under way, and the sweep after it */
        rc = run_sweep(&a, &e);
        goto done;
    }
    rc = finish(&a, &r, pe_run(&a.c, &r, &e), &e);
    pe_run_result_free(&r);
done:
    run_args_free(&a);
    run_words_free(&resumed);
    return rc;
}
