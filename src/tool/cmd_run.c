/* persona-eval [run]: load data, run methods for every user, write the run directory. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "cli_common.h"
#include "version.h"
#include "cmd.h"
#include "dataset.h"
#include "embed_http.h"
#include "encoder.h"
#include "html.h"
#include "methods.h"
#include "report.h"
#include "offline.h"
#include "progress.h"
#include "prompts.h"
#include "runner.h"
#include "tools.h"
#include "topk.h"
#include "runctl.h" /* scale: resume, shards, shutdown, progress */
#include "settings.h"
#include "sweep.h"

typedef struct run_config {
    const task *task;
    const char **data;
    size_t ndata;
    const char *format;
    const char *methods;
    const char *out;
    size_t users;
    const char **user_ids;
    size_t nuser_ids;
    size_t max_queries;
    int strict;
    size_t k;
    size_t bootstrap;
    uint64_t seed;
    int jobs;
    int quiet, verbose;
    /* LLM */
    const char *llm;          /* "http", "offline" or NULL (decided by the endpoint) */
    const char *endpoint, *model, *api_key_env;
    const char **headers;
    size_t nheaders;
    const char *extra_body;
    double timeout, temperature, rps, price_in, price_out;
    unsigned long long max_response, retries;
    int insecure;
    const char *tools;        /* native, text, auto */
    const char *cache_mode, *cache_dir;
    int cache_shared, offline_cache;
    const char *prompts_dir;
    const char *wiki;
    size_t max_steps, summary_items, align_batch, align_iters;
    int online;
    size_t align_every;
    const char *sweep;
    const char *embed, *embed_endpoint, *embed_model, *tokenize;
    size_t dim;
    runctl ctl; /* --resume, --shard, --shards, --grace, --progress */
    ds_limits limits; /* --max-file-bytes, --max-field-bytes, --max-profile-items */
    unsigned long long max_obs; /* --max-observation-chars */
} run_config;

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    if (stop_flag) /* a second signal: leave at once; files stay consistent (line appends) */
        _exit(sig == SIGINT ? PE_EXIT_SIGINT : PE_EXIT_SIGTERM);
    stop_flag = 1;
    stop_signal = sig;
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
        RUNCTL_USAGE
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
enum { O_MAXFILE = 2000, O_MAXFIELD, O_MAXPROF, O_MAXOBS };

static int parse_args(int argc, char **argv, run_config *c, pe_err *e)
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
        RUNCTL_LONG_OPTIONS,
        {"max-file-bytes", required_argument, NULL, O_MAXFILE},
        {"max-field-bytes", required_argument, NULL, O_MAXFIELD},
        {"max-profile-items", required_argument, NULL, O_MAXPROF},
        {"max-observation-chars", required_argument, NULL, O_MAXOBS},
        {NULL, 0, NULL, 0},
    };
    int ch, rc;
    unsigned long long v;

    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":j:qvh", opts, NULL)) != -1) {
        switch (ch) {
        case O_TASK:
            if (!(c->task = task_get(optarg)))
                return pe_errf(e, PE_EXIT_USAGE, "unknown task \"%s\" (tasks: %s)", optarg,
                               task_names());
            break;
        case O_DATA:
            c->data = xrealloc(c->data, (c->ndata + 1) * sizeof *c->data);
            c->data[c->ndata++] = optarg;
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
            c->user_ids = xrealloc(c->user_ids, (c->nuser_ids + 1) * sizeof *c->user_ids);
            c->user_ids[c->nuser_ids++] = optarg;
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
            c->strict = 1;
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
            c->quiet = 1;
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
            c->headers = xrealloc(c->headers, (c->nheaders + 1) * sizeof *c->headers);
            c->headers[c->nheaders++] = optarg;
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
            if ((rc = cli_parse_count("--max-response-bytes", optarg, 1024, &c->max_response,
                                      e)))
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
            c->cache_mode = optarg;
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
            c->sweep = optarg;
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
                c->max_obs = v;
            else
                *(ch == O_MAXFILE ? &c->limits.max_file_bytes
                  : ch == O_MAXFIELD ? &c->limits.max_field_bytes
                                     : &c->limits.max_profile_items) = (size_t)v;
            break;
        case RUNCTL_O_RESUME: case RUNCTL_O_SHARD: case RUNCTL_O_SHARDS: case RUNCTL_O_GRACE:
        case RUNCTL_O_PROGRESS:
            if ((rc = runctl_option(&c->ctl, ch, optarg, e)))
                return rc;
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

/* Everything the LLM methods need, made once per run. */
typedef struct llm_setup {
    llm_client *client;
    cache *cache;
    prompt_set *prompts;
    wiki_client *wiki;
    atomic_int text_fallback;
    int offline;
    char *endpoint;   /* without credentials or query string */
    char *model;
    const char *wiki_spec;
    const char *cache_mode;
    char *cache_dir;
    char prompts_sha256[65];
    /* --embed http */
    llm_client *embed_client;
    embed_http *embed;
    char *embed_endpoint, *embed_model;
} llm_setup;

static void log_stderr(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "persona-eval: %s\n", msg);
}

/* A URL as it may be written to run.json and logs: no user:password@, no query. */
static char *url_public(const char *url)
{
    const char *scheme = strstr(url, "://"), *host = scheme ? scheme + 3 : url, *at, *end;
    buf b = BUF_INIT;
    end = host + strcspn(host, "/?#");
    at = memchr(host, '@', (size_t)(end - host));
    buf_add(&b, url, (size_t)(host - url));
    if (at)
        host = at + 1;
    buf_add(&b, host, strcspn(host, "?#"));
    return buf_detach(&b);
}

/* What every client of the run shares: headers, timeouts, retries, limits, the
 * cache and the logs. */
static void client_config(const run_config *c, const llm_setup *ls, llm_config *cfg)
{
    llm_config_default(cfg);
    cfg->headers = c->headers;
    cfg->nheaders = c->nheaders;
    if (c->timeout > 0)
        cfg->http.timeout_s = c->timeout;
    cfg->http.retries = (int)c->retries;
    cfg->http.max_body = (size_t)c->max_response;
    cfg->http.insecure = c->insecure;
    cfg->rps = c->rps;
    /* -j bounds the requests in flight, alignment replays included */
    cfg->max_inflight = c->jobs;
    cfg->cache = ls->cache;
    cfg->cache_shared = c->cache_shared;
    cfg->log = log_stderr;
    cfg->verbose = c->verbose;
}

/* The request cache, opened once for the run; the offline responder answers
 * instantly, so a run that only uses it has no cache unless asked for. */
static int open_cache(const run_config *c, llm_setup *ls, int offline, pe_err *e)
{
    if (ls->cache_mode)
        return 0;
    ls->cache_mode = c->offline_cache ? "offline"
                     : c->cache_mode  ? c->cache_mode
                     : offline        ? "off"
                                      : "rw";
    if (strcmp(ls->cache_mode, "off") == 0)
        return 0;
    ls->cache_dir = c->cache_dir ? xstrdup(c->cache_dir) : cache_default_dir();
    if (!(ls->cache = cache_open(ls->cache_dir, (cache_mode)cache_mode_parse(ls->cache_mode), e)))
        return e->code ? e->code : PE_EXIT_IO;
    return 0;
}

static int setup_llm(const run_config *c, llm_setup *ls, pe_err *e)
{
    const char *endpoint = c->endpoint ? c->endpoint : getenv("OPENAI_BASE_URL");
    const char *model = c->model ? c->model : getenv("OPENAI_MODEL");
    const char *keyvar = c->api_key_env ? c->api_key_env : "OPENAI_API_KEY";
    const char *key = getenv(keyvar);
    llm_config cfg;
    int rc;

    if (endpoint && !*endpoint)
        endpoint = NULL;
    ls->offline = c->llm ? strcmp(c->llm, "offline") == 0 : endpoint == NULL;
    if ((rc = prompts_load(c->prompts_dir, &ls->prompts, e)))
        return rc;
    prompts_digest(ls->prompts, ls->prompts_sha256);
    if (!ls->offline && (!endpoint || !model || !*model))
        return pe_errf(e, PE_EXIT_USAGE, "--llm http needs --endpoint (or OPENAI_BASE_URL) and "
                                         "--model (or OPENAI_MODEL)");
    if (c->api_key_env && !key)
        return pe_errf(e, PE_EXIT_USAGE, "--api-key-env: the variable %s is not set", keyvar);
    if ((rc = open_cache(c, ls, ls->offline, e)))
        return rc;
    client_config(c, ls, &cfg);
    if (ls->offline) {
        cfg.backend = LLM_BACKEND_OFFLINE;
        fprintf(stderr, "persona-eval: no endpoint: answering with the %s\n", OFFLINE_LABEL);
        ls->model = xstrdup("offline");
    } else {
        ls->endpoint = url_public(endpoint);
        ls->model = xstrdup(model);
        cfg.base_url = endpoint;
        cfg.model = model;
        cfg.api_key = key;
    }
    cfg.extra_body = c->extra_body;
    cfg.temperature = c->temperature;
    if (c->insecure)
        fprintf(stderr, "persona-eval: warning: TLS certificates are not verified (--insecure)\n");
    cfg.price_in = c->price_in;
    cfg.price_out = c->price_out;
    if ((rc = http_global_init(e)))
        return rc;
    if (!(ls->client = llm_client_new(&cfg, e)))
        return e->code ? e->code : PE_EXIT_USAGE;
    ls->wiki_spec = c->wiki ? c->wiki : ls->offline ? "off" : "https://en.wikipedia.org";
    if ((rc = tools_wiki_new(ls->wiki_spec, c->timeout > 0 ? c->timeout : 30, &ls->wiki, e)))
        return rc;
    return 0;
}

/* The memory encoder; --embed http gets a client of its own for the
 * /embeddings endpoint (the chat backend may be the offline responder). */
static int setup_encoder(const run_config *c, llm_setup *ls, encoder_opts *o, pe_err *e)
{
    const char *endpoint = c->embed_endpoint   ? c->embed_endpoint
                           : c->endpoint       ? c->endpoint
                                               : getenv("OPENAI_BASE_URL");
    const char *model = c->embed_model ? c->embed_model : c->model ? c->model
                                                                   : getenv("OPENAI_MODEL");
    llm_config cfg;
    int rc;

    memset(o, 0, sizeof *o);
    if (c->embed)
        encoder_kind_parse(c->embed, &o->kind);
    if (c->tokenize)
        encoder_tok_parse(c->tokenize, &o->tokenize);
    o->dim = c->dim;
    if (o->kind != ENCODER_BACKEND)
        return 0;
    if (!endpoint || !*endpoint || !model || !*model)
        return pe_errf(e, PE_EXIT_USAGE, "--embed http needs --embed-endpoint or --endpoint, and "
                                         "--embed-model or --model");
    if ((rc = open_cache(c, ls, 0, e)))
        return rc;
    client_config(c, ls, &cfg);
    ls->embed_endpoint = url_public(endpoint);
    ls->embed_model = xstrdup(model);
    cfg.base_url = endpoint;
    cfg.model = model;
    cfg.api_key = getenv(c->api_key_env ? c->api_key_env : "OPENAI_API_KEY");
    if ((rc = http_global_init(e)))
        return rc;
    if (!(ls->embed_client = llm_client_new(&cfg, e)))
        return e->code ? e->code : PE_EXIT_USAGE;
    ls->embed = embed_http_new(ls->embed_client, 0);
    return embed_http_encoder_opts(ls->embed, o, e);
}

static void free_llm(llm_setup *ls)
{
    embed_http_free(ls->embed);
    llm_client_free(ls->embed_client);
    free(ls->embed_endpoint);
    free(ls->embed_model);
    llm_client_free(ls->client);
    cache_close(ls->cache);
    prompts_free(ls->prompts);
    tools_wiki_free(ls->wiki);
    free(ls->endpoint);
    free(ls->model);
    free(ls->cache_dir);
}

/* The status line's LLM part: cache hits, in-flight cap after 429s, retries. */
static void progress_llm(void *ctx, buf *out)
{
    llm_setup *ls = ctx;
    llm_totals t;
    int cap = llm_inflight_cap(ls->client);
    llm_get_totals(ls->client, &t);
    buf_printf(out, "cache hits %lu", t.cache_hits);
    if (t.retries)
        buf_printf(out, ", retries %lu", t.retries);
    if (t.rate_limited)
        buf_printf(out, ", 429s %lu (in flight <= %d)", t.rate_limited, cap);
}

/* argv as recorded in run.json: header values may carry credentials. */
static void json_argv(buf *b, int argc, char **argv)
{
    int redact_next = 0;
    buf_addc(b, '[');
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (i)
            buf_adds(b, ", ");
        if (redact_next || strncmp(a, "--header=", 9) == 0) {
            const char *colon = strchr(a, ':');
            char *r = xasprintf("%.*s: <redacted>", colon ? (int)(colon - a) : (int)strlen(a), a);
            buf_json_str(b, r);
            free(r);
        } else {
            buf_json_str(b, a);
        }
        redact_next = strcmp(a, "--header") == 0;
    }
    buf_addc(b, ']');
}

/* The canonical settings: every setting that changes results, and only those
 * (config_hash in run.json; --resume and merge compare them key by key). Not
 * here: jobs, progress, grace, out folder, shard. Add new result-changing
 * settings (model, endpoint, temperature, ...) here. */
static cJSON *run_settings(const run_config *c, const dataset *d, const method *const *m,
                           size_t nm, const llm_setup *ls)
{
    cJSON *s = settings_new();
    const char **names = xcalloc(nm ? nm : 1, sizeof *names);
    const char **sums = xcalloc(d->nsources ? d->nsources : 1, sizeof *sums);
    for (size_t i = 0; i < nm; i++)
        names[i] = m[i]->name;
    for (size_t i = 0; i < d->nsources; i++)
        sums[i] = d->sources[i].sha256;
    settings_add_str(s, "task", c->task->name);
    settings_add_strs(s, "methods", names, nm);
    settings_add_strs(s, "data_sha256", sums, d->nsources);
    settings_add_str(s, "format", c->format ? c->format : "auto");
    settings_add_u64(s, "k", c->k);
    settings_add_bool(s, "strict_answers", c->strict);
    settings_add_u64(s, "seed", c->seed);
    settings_add_u64(s, "bootstrap", c->bootstrap);
    settings_add_u64(s, "users", c->users);
    settings_add_strs(s, "user_ids", c->user_ids, c->nuser_ids);
    settings_add_u64(s, "max_queries", c->max_queries);
    if (ls->client) {
        settings_add_str(s, "llm", ls->offline ? "offline" : "http");
        settings_add_str(s, "endpoint", ls->endpoint ? ls->endpoint : "");
        settings_add_str(s, "model", ls->model);
        settings_add_num(s, "temperature", c->temperature);
        settings_add_str(s, "tools", c->tools);
        settings_add_str(s, "extra_body", c->extra_body ? c->extra_body : "");
        settings_add_u64(s, "max_steps", c->max_steps);
        settings_add_u64(s, "summary_items", c->summary_items);
        settings_add_u64(s, "align_batch", c->align_batch);
        settings_add_u64(s, "align_iters", c->align_iters);
        settings_add_str(s, "wiki", ls->wiki_spec);
        settings_add_str(s, "prompts", ls->prompts_sha256);
    }
    settings_add_str(s, "embed", c->embed ? c->embed : "bm25");
    settings_add_str(s, "tokenize", c->tokenize ? c->tokenize : "default");
    settings_add_u64(s, "dim", c->dim);
    if (ls->embed) {
        settings_add_str(s, "embed_endpoint", ls->embed_endpoint);
        settings_add_str(s, "embed_model", ls->embed_model);
    }
    settings_add_bool(s, "online", c->online);
    if (c->online)
        settings_add_u64(s, "align_every", c->align_every);
    free(names);
    free(sums);
    return s;
}

/* run.json: every setting, versions, data files and their SHA-256, counts, timings. */
static void llm_json(buf *b, const run_config *c, llm_setup *ls)
{
    llm_totals t;
    char num[64];
    buf_adds(b, ",\n  \"llm\": {\"backend\": ");
    buf_json_str(b, ls->offline ? "offline" : "http");
    if (ls->offline) {
        buf_adds(b, ", \"note\": ");
        buf_json_str(b, OFFLINE_LABEL);
    }
    buf_adds(b, ", \"endpoint\": ");
    if (ls->endpoint)
        buf_json_str(b, ls->endpoint);
    else
        buf_adds(b, "null");
    buf_adds(b, ", \"model\": ");
    buf_json_str(b, ls->model);
    pe_fmt_double(num, sizeof num, c->temperature);
    buf_printf(b, ", \"temperature\": %s, \"tools\": \"%s\", \"text_fallback\": %s, "
                  "\"max_steps\": %zu, \"summary_items\": %zu, \"align_batch\": %zu, "
                  "\"align_iters\": %zu, \"headers\": %zu, \"extra_body\": %s, \"wiki\": ",
               num, c->tools, atomic_load(&ls->text_fallback) ? "true" : "false", c->max_steps,
               c->summary_items, c->align_batch, c->align_iters, c->nheaders,
               c->extra_body ? c->extra_body : "null");
    buf_json_str(b, ls->wiki_spec);
    buf_adds(b, ", \"cache\": {\"mode\": ");
    buf_json_str(b, ls->cache_mode);
    if (ls->cache) {
        cache_stats cs;
        cache_get_stats(ls->cache, &cs);
        buf_adds(b, ", \"dir\": ");
        buf_json_str(b, ls->cache_dir);
        buf_printf(b, ", \"hits\": %lu, \"misses\": %lu, \"writes\": %lu, "
                      "\"bytes_read\": %llu, \"bytes_written\": %llu",
                   cs.hits, cs.misses, cs.writes, cs.bytes_read, cs.bytes_written);
    }
    llm_get_totals(ls->client, &t);
    pe_fmt_double(num, sizeof num, t.cost_usd);
    buf_printf(b, "}, \"totals\": {\"calls\": %lu, \"errors\": %lu, \"unknown_usage\": %lu, "
                  "\"prompt_tokens\": %llu, \"completion_tokens\": %llu, "
                  "\"est_prompt_tokens\": %llu, \"est_completion_tokens\": %llu, "
                  "\"http_requests\": %lu, \"retries\": %lu, \"rate_limited\": %lu, "
                  "\"cost_usd\": %s}, \"prompts\": ",
               t.calls, t.errors, t.unknown_usage, t.prompt_tokens, t.completion_tokens,
               t.est_prompt_tokens, t.est_completion_tokens, t.http_requests, t.retries,
               t.rate_limited, num);
    prompts_used_json(ls->prompts, b);
    buf_addc(b, '}');
}

static char *run_json(const run_config *c, const dataset *d, const method *const *m, size_t nm,
                      int argc, char **argv, const char *started, const char *finished,
                      const runner_stats *st, int incomplete, llm_setup *ls)
{
    buf b = BUF_INIT;
    size_t hist = 0;
    char num[64];

    for (size_t u = 0; u < d->nusers; u++)
        hist += d->users[u].nitems;
    buf_adds(&b, "{\n  \"tool\": \"persona-eval\",\n  \"version\": ");
    buf_json_str(&b, PE_VERSION);
    buf_adds(&b, ",\n  \"git_revision\": ");
    buf_json_str(&b, PE_GIT_REV);
    buf_adds(&b, ",\n  \"libraries\": ");
    cli_versions_json(&b);
    buf_adds(&b, ",\n  \"command\": ");
    json_argv(&b, argc, argv);
    buf_adds(&b, ",\n  \"task\": ");
    buf_json_str(&b, c->task->name);
    buf_adds(&b, ",\n  \"methods\": [");
    for (size_t i = 0; i < nm; i++) {
        if (i)
            buf_adds(&b, ", ");
        buf_json_str(&b, m[i]->name);
    }
    buf_printf(&b, "],\n  \"settings\": {\"k\": %zu, \"strict_answers\": %s, \"bootstrap\": %zu, "
                   "\"seed\": %llu, \"jobs\": %d, \"users\": %zu, \"max_queries\": %zu, "
                   "\"format\": ",
               c->k, c->strict ? "true" : "false", c->bootstrap, (unsigned long long)c->seed,
               c->jobs, c->users, c->max_queries);
    buf_json_str(&b, c->format ? c->format : "auto");
    buf_adds(&b, ", \"user_ids\": [");
    for (size_t i = 0; i < c->nuser_ids; i++) {
        if (i)
            buf_adds(&b, ", ");
        buf_json_str(&b, c->user_ids[i]);
    }
    buf_adds(&b, "]},\n  \"data\": [");
    for (size_t i = 0; i < d->nsources; i++) {
        buf_adds(&b, i ? ",\n    {\"path\": " : "\n    {\"path\": ");
        buf_json_str(&b, d->sources[i].path);
        buf_adds(&b, ", \"format\": ");
        buf_json_str(&b, d->sources[i].format);
        buf_printf(&b, ", \"sha256\": \"%s\"}", d->sources[i].sha256);
    }
    buf_printf(&b, "\n  ],\n  \"counts\": {\"users\": %zu, \"history_items\": %zu, "
                   "\"queries\": %zu},\n",
               d->nusers, hist, dataset_nqueries(d));
    runctl_run_json(&c->ctl, &b);
    buf_adds(&b, "  \"started\": ");
    buf_json_str(&b, started);
    buf_adds(&b, ",\n  \"finished\": ");
    if (finished)
        buf_json_str(&b, finished);
    else
        buf_adds(&b, "null");
    pe_fmt_double(num, sizeof num, st ? st->wall_s : 0);
    buf_printf(&b, ",\n  \"incomplete\": %s,\n  \"wall_s\": %s", incomplete ? "true" : "false",
               num);
    if (st) {
        pe_fmt_double(num, sizeof num, st->cost_usd);
        buf_printf(&b, ",\n  \"stats\": {\"queries_total\": %zu, \"queries_done\": %zu, "
                       "\"queries_skipped\": %zu, \"errors\": %zu, \"calls\": %ld, "
                       "\"prompt_tokens\": %ld, \"completion_tokens\": %ld, \"cost_usd\": %s}",
                   st->queries_total, st->queries_done, st->queries_skipped, st->errors,
                   st->calls, st->prompt_tokens, st->completion_tokens, num);
    }
    if (ls && ls->client)
        llm_json(&b, c, ls);
    buf_adds(&b, ",\n  \"blas\": ");
    buf_json_str(&b, topk_blas_info());
    buf_adds(&b, "\n}\n");
    return buf_detach(&b);
}

int cmd_run(int argc, char **argv)
{
    run_config c = {0};
    llm_setup ls = {0};
    encoder_opts enc;
    dataset d = {0};
    run_shared rs = {0};
    runner_opts ro = {0};
    runner_stats st = {0};
    const method **methods = NULL;
    size_t nmethods = 0, nrec = 0, torn = 0, nsum = 0;
    pred_record *recs = NULL;
    method_summary *sums = NULL;
    report_writer *w = NULL;
    char *out = NULL, *default_data = NULL, *rj;
    char started[32], finished[32];
    pe_err e = {0};
    int rc, runrc = 0;
    struct sigaction sa;

    c.k = 4;
    c.bootstrap = 1000;
    c.seed = 42;
    c.jobs = 8;
    c.methods = CLI_DEFAULT_METHOD;
    c.temperature = 0.1;
    c.retries = 6;
    c.max_response = 8u << 20;
    c.tools = "auto";
    c.max_steps = 6;
    c.summary_items = 50;
    c.align_batch = 3;
    c.align_iters = 1;
    c.align_every = 1;
    c.limits = ds_limits_default();
    runctl_init(&c.ctl);
    rc = parse_args(argc, argv, &c, &e);
    if (rc == -1) {
        rc = 0;
        goto done;
    }
    if (rc)
        goto fail;
    if (c.sweep) {
        char stamp[32], *dir;
        pe_utc_compact(stamp, sizeof stamp);
        dir = c.out ? xstrdup(c.out) : xasprintf("results/%s-sweep-%s", c.task->name, stamp);
        rc = sweep_run(argc, argv, c.sweep, dir, cmd_run);
        free(dir);
        goto done;
    }
    if ((rc = methods_parse_list(c.methods, &methods, &nmethods, &e)))
        goto fail;
    if (!c.ndata) {
        default_data = xasprintf("data/sample/%s.jsonl", c.task->name);
        if (!pe_file_exists(default_data)) {
            rc = pe_errf(&e, PE_EXIT_USAGE,
                         "no --data given and the sample %s is not here (run from the "
                         "source folder, or name a file with --data)",
                         default_data);
            goto fail;
        }
        c.data = xrealloc(c.data, sizeof *c.data);
        c.data[c.ndata++] = default_data;
    }
    if ((rc = dataset_load_limits(&d, c.task, c.data, c.ndata, c.format, &c.limits, &e)))
        goto fail;
    methods_global_stats(&d, &rs.global_label, &rs.global_mean);
    if ((rc = dataset_select(&d, c.users, c.user_ids, c.nuser_ids, c.max_queries, &e)))
        goto fail;
    if (methods_need_llm(methods, nmethods) && (rc = setup_llm(&c, &ls, &e)))
        goto fail;
    if ((rc = setup_encoder(&c, &ls, &enc, &e)))
        goto fail;
    if ((rc = runctl_prepare(&c.ctl, &d, run_settings(&c, &d, methods, nmethods, &ls), &c.out,
                             &e)))
        goto fail;

    pe_utc_iso(started, sizeof started);
    if (c.out) {
        out = xstrdup(c.out);
    } else {
        char stamp[32];
        buf name = BUF_INIT;
        pe_utc_compact(stamp, sizeof stamp);
        for (size_t i = 0; i < nmethods; i++)
            buf_printf(&name, "%s%s", i ? "+" : "", methods[i]->name);
        if (nmethods > 3) {
            buf_reset(&name);
            buf_printf(&name, "%zu-methods", nmethods);
        }
        out = xasprintf("results/%s-%s-%s", c.task->name, buf_str(&name), stamp);
        buf_free(&name);
    }
    {
        char *pp = xasprintf("%s/predictions.jsonl", out);
        int exists = pe_file_exists(pp);
        free(pp);
        if (exists && !c.ctl.resume) {
            rc = pe_errf(&e, PE_EXIT_USAGE,
                         "%s already holds a run; choose another --out or remove it", out);
            goto fail;
        }
    }
    if ((rc = report_open(out, &w, &e)))
        goto fail;
    rj = run_json(&c, &d, methods, nmethods, argc, argv, started, NULL, NULL, 1, &ls);
    rc = pe_write_atomic_in(out, "run.json", rj, strlen(rj), &e);
    free(rj);
    if (rc)
        goto fail;

    rs.task = c.task;
    rs.data = &d;
    rs.strict_answers = c.strict;
    rs.k = c.k;
    rs.seed = c.seed;
    rs.methods = methods;
    rs.nmethods = nmethods;
    rs.encoder = &enc;
    rs.llm = ls.client;
    rs.prompts = ls.prompts;
    rs.wiki = ls.wiki;
    rs.tools_mode = !strcmp(c.tools, "native") ? AGENT_NATIVE
                    : !strcmp(c.tools, "text") ? AGENT_TEXT
                                                : AGENT_AUTO;
    rs.text_fallback = &ls.text_fallback;
    rs.max_steps = (int)c.max_steps;
    rs.summary_items = c.summary_items;
    rs.summary_chars = 24000;
    rs.obs_chars = 600;
    rs.max_obs_chars = (size_t)c.max_obs;
    rs.align_batch = c.align_batch;
    rs.align_iters = c.align_iters;
    rs.temperature = c.temperature;
    rs.price_in = c.price_in;
    rs.price_out = c.price_out;
    rs.out = w;
    rs.online = c.online;
    rs.align_every = c.align_every;
    /* one BLAS thread per worker when workers run in parallel; all cores for one */
    topk_set_blas_threads(c.jobs > 1 ? 1 : (int)sysconf(_SC_NPROCESSORS_ONLN));
    ro.methods = methods;
    ro.nmethods = nmethods;
    ro.jobs = c.jobs;
    ro.out = w;
    ro.stop = &stop_flag;
    runctl_runner_opts(&c.ctl, &ro, c.quiet);
    if (ls.client)
        progress_set_extra(c.ctl.prog, progress_llm, &ls);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (c.verbose)
        fprintf(stderr, "persona-eval: %zu users, %zu queries, %zu method(s) -> %s\n", d.nusers,
                dataset_nqueries(&d), nmethods, out);
    runrc = runner_run(&rs, &ro, &st, &e);
    runctl_finish(&c.ctl);
    /* abandoned workers may still append: keep the writer (we _exit below) */
    rc = st.abandoned ? report_sync(w, runrc ? NULL : &e) : report_close(w, runrc ? NULL : &e);
    w = NULL;
    if (runrc) {
        rc = runrc;
        goto summarize;
    }
    if (rc)
        goto fail;
summarize:
    {
        pe_err e2 = {0};
        int incomplete = runrc != 0 || stop_flag;
        summary_opts so = {0};
        const char **mo = xcalloc(nmethods, sizeof *mo), **uo;
        int src;
        for (size_t i = 0; i < nmethods; i++)
            mo[i] = methods[i]->name;
        uo = xcalloc(d.nusers ? d.nusers : 1, sizeof *uo);
        for (size_t i = 0; i < d.nusers; i++)
            uo[i] = d.users[i].id;
        so.bootstrap = c.bootstrap;
        so.seed = c.seed;
        so.method_order = mo;
        so.nmethod_order = nmethods;
        so.user_order = uo;
        so.nuser_order = d.nusers;
        so.incomplete = incomplete;
        src = report_load_predictions(out, &recs, &nrec, &torn, &e2);
        if (!src)
            src = report_summarize(out, c.task, recs, nrec, &so, &sums, &nsum, &e2);
        free(mo);
        free(uo);
        pe_utc_iso(finished, sizeof finished);
        rj = run_json(&c, &d, methods, nmethods, argc, argv, started, finished, &st,
                      incomplete, &ls);
        if (!src)
            src = pe_write_atomic_in(out, "run.json", rj, strlen(rj), &e2);
        if (!src)
            src = html_write_run(out, &e2);
        free(rj);
        if (src && !runrc) {
            e = e2;
            rc = src;
            goto fail;
        }
        if (!src && !c.quiet) {
            buf t = BUF_INIT;
            report_table(&t, "md", c.task, sums, nsum, NULL);
            fputs(buf_str(&t), stdout);
            buf_free(&t);
            if (ls.client && ls.offline)
                printf("\nAnswers came from the %s.", OFFLINE_LABEL);
            printf("\nResults: %s\n", out);
        }
        if (runrc)
            goto fail;
        if (stop_flag) {
            fprintf(stderr, "persona-eval: interrupted; the summary in %s is marked "
                            "incomplete\n", out);
            rc = stop_signal == SIGTERM ? PE_EXIT_SIGTERM : PE_EXIT_SIGINT;
            goto done;
        }
        if (st.errors) {
            fprintf(stderr, "persona-eval: %zu of %zu queries ended in error (see %s/"
                            "predictions.jsonl)\n", st.errors, st.queries_done, out);
            rc = PE_EXIT_RUNERRORS;
        }
        goto done;
    }
fail:
    fprintf(stderr, "persona-eval: %s\n", e.msg);
done:
    if (st.abandoned) { /* workers still use the data: leave without freeing it */
        fprintf(stderr, "persona-eval: %zu queries still in flight after the grace period "
                        "were abandoned\n", st.abandoned);
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    runctl_free(&c.ctl);
    if (w)
        report_close(w, NULL);
    report_free_predictions(recs, nrec);
    report_free_summaries(sums, nsum);
    dataset_free(&d);
    free_llm(&ls);
    free(methods);
    free(c.headers);
    free(c.data);
    free(c.user_ids);
    free(default_data);
    free(out);
    return rc;
}
