/* persona-eval [run]: load data, run methods for every user, write the run directory. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli_common.h"
#include "version.h"
#include "cmd.h"
#include "dataset.h"
#include "html.h"
#include "methods.h"
#include "report.h"
#include "runner.h"

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
        "  -j, --jobs N        queries in flight (default 8)\n"
        "  -q, --quiet         no summary table on stdout\n"
        "  -v, --verbose       more log lines on stderr\n"
        "  -h, --help          this help\n"
        "\n"
        "Methods:\n",
        CLI_DEFAULT_METHOD);
    for (size_t i = 0; i < methods_count(); i++)
        fprintf(f, "  %-24s %s\n", methods_at(i)->name, methods_at(i)->definition);
}

enum { O_TASK = 256, O_DATA, O_FORMAT, O_METHOD, O_OUT, O_USERS, O_USER, O_MAXQ, O_K, O_STRICT,
       O_BOOT, O_SEED };

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

/* run.json: every setting, versions, data files and their SHA-256, counts, timings. */
static char *run_json(const run_config *c, const dataset *d, const method *const *m, size_t nm,
                      int argc, char **argv, const char *started, const char *finished,
                      const runner_stats *st, int incomplete)
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
    buf_adds(&b, ",\n  \"command\": [");
    for (int i = 0; i < argc; i++) {
        if (i)
            buf_adds(&b, ", ");
        buf_json_str(&b, argv[i]);
    }
    buf_adds(&b, "],\n  \"task\": ");
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
    buf_adds(&b, "\n}\n");
    return buf_detach(&b);
}

static int write_run_json(const char *dir, const char *text, pe_err *e)
{
    char *p = xasprintf("%s/run.json", dir);
    int rc = pe_write_atomic(p, text, strlen(text), e);
    free(p);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    run_config c = {0};
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
    rc = parse_args(argc, argv, &c, &e);
    if (rc == -1) {
        rc = 0;
        goto done;
    }
    if (rc)
        goto fail;
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
    if ((rc = dataset_load(&d, c.task, c.data, c.ndata, c.format, &e)))
        goto fail;
    methods_global_stats(&d, &rs.global_label, &rs.global_mean);
    if ((rc = dataset_select(&d, c.users, c.user_ids, c.nuser_ids, c.max_queries, &e)))
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
        if (exists) {
            rc = pe_errf(&e, PE_EXIT_USAGE,
                         "%s already holds a run; choose another --out or remove it", out);
            goto fail;
        }
    }
    if ((rc = report_open(out, &w, &e)))
        goto fail;
    rj = run_json(&c, &d, methods, nmethods, argc, argv, started, NULL, NULL, 1);
    rc = write_run_json(out, rj, &e);
    free(rj);
    if (rc)
        goto fail;

    rs.task = c.task;
    rs.data = &d;
    rs.strict_answers = c.strict;
    rs.k = c.k;
    rs.seed = c.seed;
    ro.methods = methods;
    ro.nmethods = nmethods;
    ro.jobs = c.jobs;
    ro.out = w;
    ro.stop = &stop_flag;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (c.verbose)
        fprintf(stderr, "persona-eval: %zu users, %zu queries, %zu method(s) -> %s\n", d.nusers,
                dataset_nqueries(&d), nmethods, out);
    runrc = runner_run(&rs, &ro, &st, &e);
    rc = report_close(w, runrc ? NULL : &e);
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
                      incomplete);
        if (!src)
            src = write_run_json(out, rj, &e2);
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
    if (w)
        report_close(w, NULL);
    report_free_predictions(recs, nrec);
    report_free_summaries(sums, nsum);
    dataset_free(&d);
    free(methods);
    free(c.data);
    free(c.user_ids);
    free(default_data);
    free(out);
    return rc;
}
