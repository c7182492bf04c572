/* persona-eval report: compare run directories; check a run against a baseline. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli_common.h"
#include "cmd.h"
#include "html.h"
#include "metrics.h"
#include "report.h"
#include "runset.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: persona-eval report [--format md|csv|json] DIR...\n"
        "       persona-eval report --html OUT.html DIR...\n"
        "       persona-eval report --baseline BASE_DIR [--tolerance X] DIR\n"
        "\n"
        "Prints one comparison table of the runs' summaries (methods as rows, metrics\n"
        "with 95%% bootstrap intervals as columns). With --baseline, compares DIR with\n"
        "BASE_DIR method by method and exits 3 when a metric is worse by more than the\n"
        "tolerance (default: outside the baseline's bootstrap interval) or a baseline\n"
        "method is missing.\n"
        "\n"
        "  --format F       md (default), csv or json\n"
        "  --html OUT       write a self-contained HTML comparison page instead\n"
        "  --baseline DIR   the stored baseline run\n"
        "  --tolerance X    allowed absolute worsening of each metric\n"
        "  -h, --help       this help\n");
}

static int compare_baseline(const runset_run *base, const runset_run *cur, double tol,
                            int has_tol)
{
    const char *names[2];
    int worse = 0;
    if (base->t != cur->t) {
        fprintf(stderr, "persona-eval: baseline task %s differs from the run's task %s\n",
                base->t->name, cur->t->name);
        return PE_EXIT_USAGE;
    }
    metrics_names(cur->t, names);
    printf("| method | metric | baseline | run | allowed | verdict |\n"
           "|---|---|---:|---:|---:|---|\n");
    for (size_t i = 0; i < base->n; i++) {
        const method_summary *b = &base->s[i], *c = NULL;
        for (size_t j = 0; j < cur->n; j++)
            if (strcmp(cur->s[j].method, b->method) == 0)
                c = &cur->s[j];
        if (!c) {
            printf("| %s | - | - | - | - | missing from the run |\n", b->method);
            worse = 1;
            continue;
        }
        for (size_t k = 0; k < 2; k++) {
            int hib = metrics_higher_is_better(cur->t, k);
            double limit, v = c->value[k], bv = b->value[k];
            int bad;
            if (has_tol)
                limit = hib ? bv - tol : bv + tol;
            else
                limit = hib ? b->lo[k] : b->hi[k];
            if (isnan(limit))
                limit = bv; /* no interval stored: any worsening counts */
            bad = isnan(v) || (hib ? v < limit : v > limit);
            if (isnan(bv))
                bad = 0;
            printf("| %s | %s | %.4f | %.4f | %s %.4f | %s |\n", b->method, names[k], bv, v,
                   hib ? ">=" : "<=", limit, bad ? "WORSE" : "ok");
            worse |= bad;
        }
    }
    if (worse)
        fprintf(stderr, "persona-eval: the run is worse than the baseline (see the table)\n");
    return worse ? PE_EXIT_REGRESSION : 0;
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"baseline", required_argument, NULL, 'b'},
        {"tolerance", required_argument, NULL, 't'},
        {"html", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *fmt = "md", *baseline = NULL, *html = NULL;
    double tol = 0;
    int has_tol = 0, ch, rc = 0;
    pe_err e = {0};
    runset rs, base;

    memset(&rs, 0, sizeof rs);
    memset(&base, 0, sizeof base);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (ch) {
        case 'f':
            fmt = optarg;
            if (strcmp(fmt, "md") && strcmp(fmt, "csv") && strcmp(fmt, "json")) {
                fprintf(stderr, "persona-eval: --format: md, csv or json, not \"%s\"\n", fmt);
                return PE_EXIT_USAGE;
            }
            break;
        case 'b':
            baseline = optarg;
            break;
        case 'H':
            html = optarg;
            break;
        case 't': {
            char *end;
            tol = strtod(optarg, &end);
            if (*end || tol < 0 || isnan(tol)) {
                fprintf(stderr, "persona-eval: --tolerance: not a number >= 0: \"%s\"\n",
                        optarg);
                return PE_EXIT_USAGE;
            }
            has_tol = 1;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            cli_getopt_error(argc, argv, ch, &e);
            fprintf(stderr, "persona-eval: %s\n", e.msg);
            return PE_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "persona-eval: report needs at least one run directory\n");
        return PE_EXIT_USAGE;
    }
    if (baseline && html) {
        fprintf(stderr, "persona-eval: --html and --baseline cannot be combined\n");
        return PE_EXIT_USAGE;
    }
    if (baseline && argc - optind != 1) {
        fprintf(stderr, "persona-eval: --baseline compares exactly one run directory\n");
        return PE_EXIT_USAGE;
    }
    for (int i = optind; i < argc; i++) {
        size_t l = strlen(argv[i]);
        while (l > 1 && argv[i][l - 1] == '/')
            argv[i][--l] = '\0';
    }
    if ((rc = runset_load(&rs, (const char *const *)argv + optind, (size_t)(argc - optind), &e)))
        goto fail;
    if (html) {
        if ((rc = html_write_compare(html, (const char *const *)argv + optind, rs.n, &e)))
            goto fail;
        fprintf(stderr, "wrote %s\n", html);
        goto done;
    }
    if (baseline) {
        const char *bd[1] = {baseline};
        if ((rc = runset_load(&base, bd, 1, &e)))
            goto fail;
        rc = compare_baseline(&base.runs[0], &rs.runs[0], tol, has_tol);
        goto done;
    }
    {
        buf out = BUF_INIT;
        report_rows_table(&out, fmt, rs.rows, rs.nrows, rs.n > 1);
        fputs(buf_str(&out), stdout);
        buf_free(&out);
    }
    goto done;
fail:
    fprintf(stderr, "persona-eval: %s\n", e.msg);
done:
    runset_free(&rs);
    runset_free(&base);
    return rc;
}
