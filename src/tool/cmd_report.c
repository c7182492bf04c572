/* persona-eval report: compare run directories; check a run against a baseline. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli_common.h"
#include "cmd.h"
#include "gate.h"
#include "html_compare.h"
#include "html_run.h"
#include "metrics.h"
#include "report.h"
#include "runset.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: persona-eval report [--format md|csv|json] DIR...\n"
        "       persona-eval report --html OUT.html DIR...\n"
        "       persona-eval report --html OUT.html SWEEP_DIR\n"
        "       persona-eval report --baseline BASE_DIR [gate options] DIR\n"
        "\n"
        "Prints one comparison table of the runs' summaries (methods as rows, metrics\n"
        "with 95%% bootstrap intervals as columns; runs labelled by the shortest unique\n"
        "end of their path). With --baseline, the CI gate: compares DIR with BASE_DIR\n"
        "over the same queries, matched by (method, user, id), and exits\n"
        "  5 when DIR (or BASE_DIR) is incomplete,\n"
        "  6 when DIR has errored queries or preparation errors,\n"
        "  7 when the runs cover different queries or differ in task, data (SHA-256)\n"
        "    or result-changing settings other than the model,\n"
        "  3 when a metric dropped: the paired difference over the shared queries is\n"
        "    worse than the tolerance and its paired bootstrap interval excludes 0,\n"
        "  0 otherwise. The reasons are printed on stderr.\n"
        "\n"
        "  --format F       md (default), csv or json\n"
        "  --html OUT       write a self-contained HTML comparison page instead (of a\n"
        "                   --sweep folder: its charts and runs)\n"
        "  --baseline DIR   the stored baseline run\n"
        "  --tolerance X    allowed absolute worsening of each metric (default 0)\n"
        "  --level L        interval level of the paired bootstrap (default 0.95)\n"
        "  --bootstrap B    paired bootstrap draws (default 1000)\n"
        "  --seed S         paired bootstrap seed (default " CLI_STR(PE_SEED_DEFAULT) ")\n"
        "  --allow-incomplete, --allow-errors, --allow-different-queries,\n"
        "  --allow-data, --allow-settings\n"
        "                   waive one check for a deliberate comparison (still reported)\n"
        "  -h, --help       this help\n");
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"baseline", required_argument, NULL, 'b'},
        {"tolerance", required_argument, NULL, 't'},
        {"html", required_argument, NULL, 'H'},
        {"level", required_argument, NULL, 'l'},
        {"bootstrap", required_argument, NULL, 'B'},
        {"seed", required_argument, NULL, 's'},
        {"allow-incomplete", no_argument, NULL, 1},
        {"allow-errors", no_argument, NULL, 2},
        {"allow-different-queries", no_argument, NULL, 3},
        {"allow-data", no_argument, NULL, 4},
        {"allow-settings", no_argument, NULL, 5},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *fmt = "md", *baseline = NULL, *html = NULL;
    gate_opts go;
    int ch, rc = 0, li = 0;
    pe_err e = {0};
    runset rs;

    gate_opts_default(&go);
    memset(&rs, 0, sizeof rs);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h", opts, &li)) != -1) {
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
        case 't':
        case 'l':
        case 'B':
        case 's': {
            char *end;
            double x = strtod(optarg, &end);
            if (*end || !*optarg || !(x >= 0) || (ch == 'l' && !(x > 0 && x < 1)) ||
                ((ch == 'B' || ch == 's') && x != floor(x))) {
                fprintf(stderr, "persona-eval: --%s: \"%s\" is not %s\n", opts[li].name, optarg,
                        ch == 'l'   ? "a number between 0 and 1"
                        : ch == 't' ? "a number >= 0"
                                    : "a whole number >= 0");
                return PE_EXIT_USAGE;
            }
            if (ch == 't')
                go.tolerance = x;
            else if (ch == 'l')
                go.level = x;
            else if (ch == 'B')
                go.bootstrap = (size_t)x;
            else
                go.seed = (uint64_t)x;
            break;
        }
        case 1: go.allow_incomplete = 1; break;
        case 2: go.allow_errors = 1; break;
        case 3: go.allow_different_queries = 1; break;
        case 4: go.allow_data = 1; break;
        case 5: go.allow_settings = 1; break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            cli_getopt_error(argc, argv, ch, opts, &e);
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
    if (html && argc - optind == 1 && html_is_sweep(argv[optind])) {
        if ((rc = html_write_sweep(html, argv[optind], &e)))
            goto fail;
        fprintf(stderr, "wrote %s\n", html);
        goto done;
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
        buf out = BUF_INIT, why = BUF_INIT;
        int verdict;
        if ((rc = gate_check(baseline, argv[optind], &go, &out, &why, &verdict, &e)))
            goto fail;
        fputs(buf_str(&out), stdout);
        if (why.len)
            fprintf(stderr, "persona-eval: %s", buf_str(&why));
        printf("\n%s\n", verdict == 0 ? "gate: pass"
                          : verdict == PE_EXIT_REGRESSION ? "gate: FAIL (a metric dropped)"
                          : verdict == PE_EXIT_INCOMPLETE ? "gate: FAIL (incomplete run)"
                          : verdict == PE_EXIT_ERRORED ? "gate: FAIL (errored queries)"
                                                       : "gate: FAIL (runs not comparable)");
        buf_free(&out);
        buf_free(&why);
        rc = verdict;
        goto done;
    }
    {
        buf out = BUF_INIT;
        report_rows_table(&out, fmt, rs.rows, rs.nrows, rs.n > 1);
        if (strcmp(fmt, "md") == 0) {
            buf_adds(&out, "\nRuns:\n");
            runset_describe(&rs, &out);
        }
        fputs(buf_str(&out), stdout);
        buf_free(&out);
    }
    goto done;
fail:
    fprintf(stderr, "persona-eval: %s\n", e.msg);
done:
    runset_free(&rs);
    return rc;
}
