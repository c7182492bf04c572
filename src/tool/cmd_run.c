/* persona-eval [run]: argv and the environment -> a pe_run_config; pe_run() does the rest. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "sweep.h"

/* The configuration and what the tool itself keeps beside it. */
typedef struct run_args {
    pe_run_config c;
    const char **data, **user_ids, **headers; /* the arrays c points to */
    const char *sweep;
    int quiet, progress_given;
} run_args;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    if (stop_signal) /* a second signal: leave at once; files stay consistent (line appends) */
        _exit(sig == SIGINT ? PE_EXIT_SIGINT : PE_EXIT_SIGTERM);
    stop_signal = sig;
}

static void log_stderr(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "persona-eval: %s\n", msg);
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: persona-eval [run] --task TASK [options]\n"
        "\n"
        "Runs one or more methods for every user of a LaMP data set and writes a run\n"
        "directory with predictions, per-user metrics and a summary.\n"
        "\n"
        "  --task T            lamp1, lamp2m, lamp2n or lamp3 (required)\n"
        "  --data FILE         input file; repeatable (default: data/sample/TASK.jsonl)\n"
        "  --format F          " DS_FORMATS " (default: auto)\n"
        "  --method LIST       comma-separated methods, or \"all\" (default: %s)\n"
        "  --out DIR           run directory (default: results/TASK-METHOD-UTCTIME)\n"
        "  --users N           only the N users with the most history\n"
        "  --user ID           only this user; repeatable\n"
        "  --max-queries N     at most N queries per user\n"
        "  --k K               retrieved memories (default 4)\n"
        "  --strict-answers    no lenient answer extraction, exact labels only\n"
        "  --bootstrap B       bootstrap draws for 95%% intervals (default 1000; 0: none)\n"
        "  --seed S            seed for bootstrap and sampling (default 42)\n"
        "  -j, --jobs N        queries in flight (default 8)\n",
        CLI_DEFAULT_METHOD);
    fprintf(f,
        "\n"
        "LLM (methods that call a model):\n"
        "  --llm http|offline  backend (default: http when an endpoint is configured, else\n"
        "                      the offline responder, a deterministic stand-in that is\n"
        "                      not a language model)\n"
        "  --endpoint URL      OpenAI-compatible base URL (or OPENAI_BASE_URL)\n"
        "  --model NAME        model (or OPENAI_MODEL)\n"
        "  --api-key-env VAR   environment variable holding the key (OPENAI_API_KEY)\n"
        "  --header 'N: V'     extra request header; repeatable\n"
        "  --extra-body JSON   fields merged into every chat request\n"
        "  --temperature T     sampling temperature (default 0.1)\n"
        "  --timeout S         per-attempt timeout in seconds (default 120)\n"
        "  --retries N         retries of a failed request (default 6)\n"
        "  --max-response-bytes N  response body cap (default 8388608)\n"
        "  --insecure          do not verify TLS certificates\n"
        "  --rps R             requests per second over all workers (default: no limit)\n"
        "  --price-in USD, --price-out USD  per million prompt / completion tokens\n"
        "  --tools native|text|auto  tool protocol (default auto: native, text if refused)\n"
        "  --cache rw|ro|off   request cache mode (default rw)\n"
        "  --cache-dir DIR     (default $XDG_CACHE_HOME/persona-eval)\n"
        "  --cache-shared      leave the endpoint URL out of the cache key\n"
        "  --offline           replay from the cache only; a miss is an error\n"
        "  --prompts DIR       override prompt templates by file name\n"
        "  --wiki SPEC         off, a MediaWiki URL or kiwix:URL (default: off with the\n"
        "                      offline responder, else https://en.wikipedia.org)\n"
        "  --max-steps N       model calls per query (default 6)\n"
        "  --summary-items N   history items in the user summary (default 50)\n"
        "  --align-batch N     replayed items per alignment iteration (default 3)\n"
        "  --align-iters N     alignment iterations (default 1)\n"
        "  --online            answer each user's queries in time order, revealing each\n"
        "                      gold after its answer (it joins memory and alignment)\n"
        "  --align-every N     with --online, re-align every N answers (default 1)\n"
        "  --sweep NAME=V,...  one run per value of align-batch, align-iters, k or\n"
        "                      max-steps, into one folder, with sweep.csv and charts\n");
    fprintf(f,
        "\n"
        "Episodic memory:\n"
        "  --embed KIND        bm25 (LaMP's retriever, default), tfidf, or http (an\n"
        "                      OpenAI-compatible /embeddings endpoint)\n"
        "  --embed-endpoint URL, --embed-model NAME  for --embed http (default: the chat\n"
        "                      endpoint and model)\n"
        "  --tokenize lamp|words  whitespace like LaMP (bm25 default) or words (tfidf)\n"
        "  --dim N             hashed vector size for bm25 and tfidf (default 4096)\n"
        "  --resume DIR        continue the run in DIR (same options as it was started with)\n"
        "  --shard I/N         run only shard I of N (users split by a hash of their id)\n"
        "  --shard auto --shards N\n"
        "                      the index from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX\n"
        "  --grace S           on SIGINT/SIGTERM, wait S seconds for queries in flight\n"
        "                      (default 30)\n"
        "  --progress WHEN     auto, always or never: the status line on stderr (default auto)\n"
        "  -q, --quiet         no summary table on stdout\n"
        "  -v, --verbose       more log lines on stderr\n"
        "  -h, --help          this help\n"
        "\n"
        "Limits (docs/robustness.md):\n");
    fputs("  --max-file-bytes N  largest data file read (default 4294967296)\n"
          "  --max-field-bytes N largest text field of a data file (default 1048576)\n"
          "  --max-profile-items N  most history items of one user (default 1000000)\n"
          "  --max-observation-chars N  cut a tool observation fed back to the model at N\n"
          "                      characters (default 4000)\n"
          "\n"
          "Methods:\n", f);
    for (size_t i = 0; i < methods_count(); i++)
        fprintf(f, "  %-24s %s\n", methods_at(i)->name, methods_at(i)->definition);
}

enum { O_TASK = 256, O_DATA, O_FORMAT, O_METHOD, O_OUT, O_USERS, O_USER, O_MAXQ, O_K, O_STRICT,
       O_BOOT, O_SEED, O_LLM, O_ENDPOINT, O_MODEL, O_KEYENV, O_HEADER, O_EXTRA, O_TEMP,
       O_TIMEOUT, O_RETRIES, O_MAXRESP, O_INSECURE, O_RPS, O_PIN, O_POUT, O_TOOLS, O_CACHE,
       O_CACHEDIR, O_CACHESHARED, O_OFFLINE, O_PROMPTS, O_WIKI, O_MAXSTEPS, O_SUMITEMS,
       O_ABATCH, O_AITERS, O_ONLINE, O_AEVERY, O_SWEEP, O_EMBED, O_EMBEP, O_EMBMODEL,
       O_TOKENIZE, O_DIM };

static int parse_number(const char *flag, const char *s, double min, double *out, pe_err *e)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !(v >= min) || v > 1e12)
        return pe_errf(e, PE_EXIT_USAGE, "%s: \"%s\" is not a number >= %g", flag, s, min);
    *out = v;
    return 0;
}

/* Options for limits on what is read (docs/robustness.md). */
enum { O_MAXFILE = 2000, O_MAXFIELD, O_MAXPROF, O_MAXOBS, O_RESUME, O_SHARD, O_SHARDS, O_GRACE,
       O_PROGRESS };

static int parse_args(int argc, char **argv, run_args *a, pe_err *e)
{
    static const struct option opts[] = {
        {"task", required_argument, NULL, O_TASK},
        {"data", required_argument, NULL, O_DATA},
        {"format", required_argument, NULL, O_FORMAT},
        {"method", required_argument, NULL, O_METHOD},
        {"methods", required_argument, NULL, O_METHOD},
        {"out", required_argument, NULL, O_OUT},
        {"users", required_argument, NULL, O_USERS},
        {"user", required_argument, NULL, O_USER},
        {"max-queries", required_argument, NULL, O_MAXQ},
        {"k", required_argument, NULL, O_K},
        {"strict-answers", no_argument, NULL, O_STRICT},
        {"bootstrap", required_argument, NULL, O_BOOT},
        {"seed", required_argument, NULL, O_SEED},
        {"jobs", required_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"llm", required_argument, NULL, O_LLM},
        {"endpoint", required_argument, NULL, O_ENDPOINT},
        {"model", required_argument, NULL, O_MODEL},
        {"api-key-env", required_argument, NULL, O_KEYENV},
        {"header", required_argument, NULL, O_HEADER},
        {"extra-body", required_argument, NULL, O_EXTRA},
        {"temperature", required_argument, NULL, O_TEMP},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"retries", required_argument, NULL, O_RETRIES},
        {"max-response-bytes", required_argument, NULL, O_MAXRESP},
        {"insecure", no_argument, NULL, O_INSECURE},
        {"rps", required_argument, NULL, O_RPS},
        {"price-in", required_argument, NULL, O_PIN},
        {"price-out", required_argument, NULL, O_POUT},
        {"tools", required_argument, NULL, O_TOOLS},
        {"cache", required_argument, NULL, O_CACHE},
        {"cache-dir", required_argument, NULL, O_CACHEDIR},
        {"cache-shared", no_argument, NULL, O_CACHESHARED},
        {"offline", no_argument, NULL, O_OFFLINE},
        {"prompts", required_argument, NULL, O_PROMPTS},
        {"wiki", required_argument, NULL, O_WIKI},
        {"max-steps", required_argument, NULL, O_MAXSTEPS},
        {"summary-items", required_argument, NULL, O_SUMITEMS},
        {"align-batch", required_argument, NULL, O_ABATCH},
        {"align-iters", required_argument, NULL, O_AITERS},
        {"online", no_argument, NULL, O_ONLINE},
        {"align-every", required_argument, NULL, O_AEVERY},
        {"sweep", required_argument, NULL, O_SWEEP},
        {"embed", required_argument, NULL, O_EMBED},
        {"embed-endpoint", required_argument, NULL, O_EMBEP},
        {"embed-model", required_argument, NULL, O_EMBMODEL},
        {"tokenize", required_argument, NULL, O_TOKENIZE},
        {"dim", required_argument, NULL, O_DIM},
        {"resume", required_argument, NULL, O_RESUME},
        {"shard", required_argument, NULL, O_SHARD},
        {"shards", required_argument, NULL, O_SHARDS},
        {"grace", required_argument, NULL, O_GRACE},
        {"progress", required_argument, NULL, O_PROGRESS},
        {"max-file-bytes", required_argument, NULL, O_MAXFILE},
        {"max-field-bytes", required_argument, NULL, O_MAXFIELD},
        {"max-profile-items", required_argument, NULL, O_MAXPROF},
        {"max-observation-chars", required_argument, NULL, O_MAXOBS},
        {NULL, 0, NULL, 0},
    };
    pe_run_config *c = &a->c;
    int ch, rc;
    unsigned long long v;

    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":j:qvh", opts, NULL)) != -1) {
        switch (ch) {
        case O_TASK:
            if (!task_get(optarg))
                return pe_errf(e, PE_EXIT_USAGE, "unknown task \"%s\" (tasks: %s)", optarg,
                               task_names());
            c->task = optarg;
            break;
        case O_DATA:
            a->data = xrealloc(a->data, (c->ndata + 1) * sizeof *a->data);
            a->data[c->ndata++] = optarg;
            c->data = a->data;
            break;
        case O_FORMAT:
            c->format = optarg;
            break;
        case O_METHOD:
            c->methods = optarg;
            break;
        case O_OUT:
            c->out = optarg;
            break;
        case O_USERS:
            if ((rc = cli_parse_count("--users", optarg, 1, &v, e)))
                return rc;
            c->users = (size_t)v;
            break;
        case O_USER:
            a->user_ids = xrealloc(a->user_ids, (c->nuser_ids + 1) * sizeof *a->user_ids);
            a->user_ids[c->nuser_ids++] = optarg;
            c->user_ids = a->user_ids;
            break;
        case O_MAXQ:
            if ((rc = cli_parse_count("--max-queries", optarg, 1, &v, e)))
                return rc;
            c->max_queries = (size_t)v;
            break;
        case O_K:
            if ((rc = cli_parse_count("--k", optarg, 1, &v, e)))
                return rc;
            c->k = (size_t)v;
            break;
        case O_STRICT:
            c->strict_answers = 1;
            break;
        case O_BOOT:
            if ((rc = cli_parse_count("--bootstrap", optarg, 0, &v, e)))
                return rc;
            c->bootstrap = (size_t)v;
            break;
        case O_SEED:
            if ((rc = cli_parse_count("--seed", optarg, 0, &v, e)))
                return rc;
            c->seed = v;
            break;
        case 'j':
            if ((rc = cli_parse_count("--jobs", optarg, 1, &v, e)))
                return rc;
            if (v > 1024)
                return pe_errf(e, PE_EXIT_USAGE, "--jobs: at most 1024");
            c->jobs = (int)v;
            break;
        case 'q':
            a->quiet = 1;
            break;
        case 'v':
            c->verbose++;
            break;
        case 'h':
            usage(stdout);
            return -1;
        case O_LLM:
            if (strcmp(optarg, "http") && strcmp(optarg, "offline"))
                return pe_errf(e, PE_EXIT_USAGE, "--llm: http or offline, not \"%s\"", optarg);
            c->llm = optarg;
            break;
        case O_ENDPOINT:
            c->endpoint = optarg;
            break;
        case O_MODEL:
            c->model = optarg;
            break;
        case O_KEYENV:
            c->api_key_env = optarg;
            break;
        case O_HEADER:
            if (!strchr(optarg, ':'))
                return pe_errf(e, PE_EXIT_USAGE, "--header: expected \"Name: value\"");
            a->headers = xrealloc(a->headers, (c->nheaders + 1) * sizeof *a->headers);
            a->headers[c->nheaders++] = optarg;
            c->headers = a->headers;
            break;
        case O_EXTRA: {
            cJSON *j = cJSON_Parse(optarg);
            int ok = cJSON_IsObject(j);
            cJSON_Delete(j);
            if (!ok)
                return pe_errf(e, PE_EXIT_USAGE, "--extra-body: not a JSON object");
            c->extra_body = optarg;
            break;
        }
        case O_TEMP:
            if ((rc = parse_number("--temperature", optarg, 0, &c->temperature, e)))
                return rc;
            break;
        case O_TIMEOUT:
            if ((rc = parse_number("--timeout", optarg, 0.001, &c->timeout, e)))
                return rc;
            break;
        case O_RETRIES:
            if ((rc = cli_parse_count("--retries", optarg, 0, &c->retries, e)))
                return rc;
            break;
        case O_MAXRESP:
            if ((rc = cli_parse_count("--max-response-bytes", optarg, 1024,
                                      &c->max_response_bytes, e)))
                return rc;
            break;
        case O_INSECURE:
            c->insecure = 1;
            break;
        case O_RPS:
            if ((rc = parse_number("--rps", optarg, 0, &c->rps, e)))
                return rc;
            break;
        case O_PIN:
            if ((rc = parse_number("--price-in", optarg, 0, &c->price_in, e)))
                return rc;
            break;
        case O_POUT:
            if ((rc = parse_number("--price-out", optarg, 0, &c->price_out, e)))
                return rc;
            break;
        case O_TOOLS:
            if (strcmp(optarg, "native") && strcmp(optarg, "text") && strcmp(optarg, "auto"))
                return pe_errf(e, PE_EXIT_USAGE, "--tools: native, text or auto, not \"%s\"",
                               optarg);
            c->tools = optarg;
            break;
        case O_CACHE:
            if (cache_mode_parse(optarg) < 0 || !strcmp(optarg, "offline"))
                return pe_errf(e, PE_EXIT_USAGE, "--cache: rw, ro or off, not \"%s\"", optarg);
            c->cache = optarg;
            break;
        case O_CACHEDIR:
            c->cache_dir = optarg;
            break;
        case O_CACHESHARED:
            c->cache_shared = 1;
            break;
        case O_OFFLINE:
            c->offline_cache = 1;
            break;
        case O_PROMPTS:
            c->prompts_dir = optarg;
            break;
        case O_WIKI:
            c->wiki = optarg;
            break;
        case O_MAXSTEPS:
            if ((rc = cli_parse_count("--max-steps", optarg, 1, &v, e)))
                return rc;
            c->max_steps = (size_t)v;
            break;
        case O_SUMITEMS:
            if ((rc = cli_parse_count("--summary-items", optarg, 0, &v, e)))
                return rc;
            c->summary_items = (size_t)v;
            break;
        case O_ABATCH:
            if ((rc = cli_parse_count("--align-batch", optarg, 0, &v, e)))
                return rc;
            c->align_batch = (size_t)v;
            break;
        case O_AITERS:
            if ((rc = cli_parse_count("--align-iters", optarg, 0, &v, e)))
                return rc;
            c->align_iters = (size_t)v;
            break;
        case O_ONLINE:
            c->online = 1;
            break;
        case O_AEVERY:
            if ((rc = cli_parse_count("--align-every", optarg, 0, &v, e)))
                return rc;
            c->align_every = (size_t)v;
            break;
        case O_SWEEP:
            a->sweep = optarg;
            break;
        case O_EMBED: {
            encoder_kind k;
            if (encoder_kind_parse(optarg, &k) != 0)
                return pe_errf(e, PE_EXIT_USAGE, "--embed: %s, not \"%s\"", ENCODER_KINDS,
                               optarg);
            c->embed = optarg;
            break;
        }
        case O_EMBEP:
            c->embed_endpoint = optarg;
            break;
        case O_EMBMODEL:
            c->embed_model = optarg;
            break;
        case O_TOKENIZE: {
            encoder_tok tk;
            if (encoder_tok_parse(optarg, &tk) != 0)
                return pe_errf(e, PE_EXIT_USAGE, "--tokenize: %s, not \"%s\"",
                               ENCODER_TOKENIZERS, optarg);
            c->tokenize = optarg;
            break;
        }
        case O_DIM:
            if ((rc = cli_parse_count("--dim", optarg, 1, &v, e)))
                return rc;
            c->dim = (size_t)v;
            break;
        case O_MAXFILE: case O_MAXFIELD: case O_MAXPROF: case O_MAXOBS:
            if ((rc = cli_parse_count(ch == O_MAXFILE    ? "--max-file-bytes"
                                      : ch == O_MAXFIELD ? "--max-field-bytes"
                                      : ch == O_MAXPROF  ? "--max-profile-items"
                                                         : "--max-observation-chars",
                                      optarg, ch == O_MAXOBS, &v, e)))
                return rc;
            if (ch == O_MAXOBS)
                c->max_observation_chars = v;
            else
                *(ch == O_MAXFILE ? &c->limits.max_file_bytes
                  : ch == O_MAXFIELD ? &c->limits.max_field_bytes
                                     : &c->limits.max_profile_items) = (size_t)v;
            break;
        case O_RESUME:
            c->resume = optarg;
            break;
        case O_SHARD:
            c->shard = optarg;
            break;
        case O_SHARDS:
            if ((rc = cli_parse_count("--shards", optarg, 1, &v, e)))
                return rc;
            if (v > 1000000)
                return pe_errf(e, PE_EXIT_USAGE, "--shards: at most 1000000");
            c->shards = (size_t)v;
            break;
        case O_GRACE:
            if ((rc = parse_number("--grace", optarg, 0, &c->grace_s, e)))
                return rc;
            break;
        case O_PROGRESS:
            if ((rc = progress_parse_mode(optarg, &c->progress, e)))
                return rc;
            a->progress_given = 1;
            break;
        default:
            return cli_getopt_error(argc, argv, ch, e);
        }
    }
    if (optind < argc)
        return pe_errf(e, PE_EXIT_USAGE, "unexpected argument \"%s\"", argv[optind]);
    if (!c->task)
        return pe_errf(e, PE_EXIT_USAGE, "--task is required (tasks: %s)", task_names());
    return 0;
}


/* Print what a finished (or stopped) run produced; returns the exit status. */
static int finish(const run_args *a, const pe_run_result *r, int rc, const pe_err *e)
{
    if (r->summaries && !a->quiet) {
        buf t = BUF_INIT;
        report_table(&t, "md", r->task, r->summaries, r->nsummaries, NULL);
        fputs(buf_str(&t), stdout);
        buf_free(&t);
        if (r->offline)
            printf("\nAnswers came from the %s.", OFFLINE_LABEL);
        printf("\nResults: %s\n", r->out);
    }
    if (rc == PE_EXIT_SIGINT || rc == PE_EXIT_SIGTERM) {
        fprintf(stderr, "persona-eval: interrupted; the summary in %s is marked incomplete\n",
                r->out);
    } else if (rc == PE_EXIT_RUNERRORS) {
        fprintf(stderr, "persona-eval: %zu of %zu queries ended in error (see %s/"
                        "predictions.jsonl)\n", r->stats.errors, r->stats.queries_done, r->out);
    } else if (rc) {
        fprintf(stderr, "persona-eval: %s\n", e->msg);
    }
    if (r->abandoned) { /* workers still use the run's data: leave without freeing it */
        fprintf(stderr, "persona-eval: %zu queries still in flight after the grace period "
                        "were abandoned\n", r->abandoned);
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
    if (rc && rc != PE_EXIT_RUNERRORS) {
        fprintf(stderr, "persona-eval: %s\n", e->msg);
    } else {
        char *text = NULL;
        size_t len = 0;
        if (pe_read_file(csv, 64u << 20, &text, &len, e) == 0)
            fwrite(text, 1, len, stdout);
        free(text);
        printf("\nSweep: %s (sweep.csv, sweep_*.svg)\n", dir);
    }
    free(csv);
    free(dir);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    run_args a;
    pe_run_result r;
    pe_err e = {0};
    int rc;
    struct sigaction sa;

    memset(&a, 0, sizeof a);
    run_config_init(&a.c);
    a.c.methods = CLI_DEFAULT_METHOD;
    rc = parse_args(argc, argv, &a, &e);
    if (rc == -1) {
        rc = 0;
        goto done;
    }
    if (rc) {
        fprintf(stderr, "persona-eval: %s\n", e.msg);
        goto done;
    }
    if (a.quiet && !a.progress_given)
        a.c.progress = PROGRESS_NEVER;
    a.c.command = (const char *const *)argv;
    a.c.ncommand = (size_t)argc;
    a.c.stop = &stop_signal;
    a.c.log = log_stderr;
    if (a.sweep) {
        rc = run_sweep(&a, &e);
        goto done;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = finish(&a, &r, pe_run(&a.c, &r, &e), &e);
    pe_run_result_free(&r);
done:
    free(a.data);
    free(a.user_ids);
    free(a.headers);
    return rc;
}
