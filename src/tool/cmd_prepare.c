/* persona-eval prepare: LaMP files -> our JSONL (top-N users, history/test split). */
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cmd.h"
#include "dataset.h"
#include "util.h"

static const char usage[] =
    "usage: persona-eval prepare --task T --data FILE [FILE...] --out FILE.jsonl\n"
    "                            [--format F] [--top-users N] [--test-last M]\n"
    "                            [--user ID]... [--max-queries N]\n"
    "\n"
    "Turn LaMP files into persona-eval JSONL: each user's interactions in time order\n"
    "(profile items, then the LaMP question when its gold is known), the N users with\n"
    "the most interactions, and each user's M most recent interactions as test queries.\n"
    "\n"
    "  --task T          lamp1, lamp2m, lamp2n or lamp3\n"
    "  --data FILE...    input files (repeatable; further arguments are files too):\n"
    "                    LaMP *_questions.json (+ *_outputs.json, found beside it),\n"
    "                    user-grouped JSON, or JSONL\n"
    "  --format F        auto (default), lamp, grouped, jsonl\n"
    "  --top-users N     keep the N users with the most interactions (default 100;\n"
    "                    0 = all; ties by user id)\n"
    "  --test-last M     the M most recent interactions become queries (default: 10%\n"
    "                    of each user's interactions, at least 1; at least 1 item is\n"
    "                    always kept as history). lamp1 keeps its LaMP questions.\n"
    "  --user ID         keep only this user (repeatable), after the split\n"
    "  --max-queries N   at most N queries per user, after the split\n"
    "  --out FILE        output JSONL, written atomically\n"
    "  --max-file-bytes N, --max-field-bytes N, --max-profile-items N\n"
    "                    limits on what is read (defaults 4 GiB, 1 MiB, 1000000;\n"
    "                    docs/robustness.md)\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit status: 0 ok, 2 bad command line, 65 bad input data, 66 missing input file,\n"
    "74 write error. Formats: docs/data-formats.md.\n";

/* A count option, or a message on stderr and PE_EXIT_USAGE. */
static int parse_count(const char *flag, const char *s, long *out)
{
    unsigned long long v;
    pe_err e = {0};
    if (pe_parse_count_max(flag, s, 0, LONG_MAX, &v, &e)) {
        fprintf(stderr, "persona-eval prepare: %s\n", e.msg);
        return e.code;
    }
    *out = (long)v;
    return 0;
}

int cmd_prepare(int argc, char **argv)
{
    enum { O_TASK = 256, O_DATA, O_FORMAT, O_TOP, O_LAST, O_OUT, O_USER, O_MAXQ, O_MAXFILE,
           O_MAXFIELD, O_MAXPROF };
    static const struct option opts[] = {
        {"task", required_argument, NULL, O_TASK},
        {"data", required_argument, NULL, O_DATA},
        {"format", required_argument, NULL, O_FORMAT},
        {"top-users", required_argument, NULL, O_TOP},
        {"test-last", required_argument, NULL, O_LAST},
        {"out", required_argument, NULL, O_OUT},
        {"user", required_argument, NULL, O_USER},
        {"max-queries", required_argument, NULL, O_MAXQ},
        {"max-file-bytes", required_argument, NULL, O_MAXFILE},
        {"max-field-bytes", required_argument, NULL, O_MAXFIELD},
        {"max-profile-items", required_argument, NULL, O_MAXPROF},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *task_name = NULL, *format = NULL, *out = NULL;
    const char **files = NULL;
    const char **users = xcalloc((size_t)argc + 1, sizeof *users);
    size_t nfiles = 0, nusers = 0, nhist = 0;
    long top = 100, last = -1, maxq = 0, lim;
    ds_limits limits = ds_limits_default();
    ds_prepare_opts po;
    dataset in, prep;
    const task *t;
    pe_err e = {0};
    int c, rc = PE_EXIT_USAGE;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_TASK: task_name = optarg; break;
        case O_DATA: cli_data_files(argc, argv, optarg, &files, &nfiles); break;
        case O_FORMAT: format = optarg; break;
        case O_OUT: out = optarg; break;
        case O_USER: users[nusers++] = optarg; break;
        case O_TOP:
            if (parse_count("--top-users", optarg, &top))
                goto done;
            break;
        case O_LAST:
            if (parse_count("--test-last", optarg, &last))
                goto done;
            break;
        case O_MAXQ:
            if (parse_count("--max-queries", optarg, &maxq))
                goto done;
            break;
        case O_MAXFILE: case O_MAXFIELD: case O_MAXPROF:
            if (parse_count(c == O_MAXFILE    ? "--max-file-bytes"
                            : c == O_MAXFIELD ? "--max-field-bytes"
                                              : "--max-profile-items",
                            optarg, &lim))
                goto done;
            *(c == O_MAXFILE    ? &limits.max_file_bytes
              : c == O_MAXFIELD ? &limits.max_field_bytes
                                : &limits.max_profile_items) = (size_t)lim;
            break;
        case 'h':
            fputs(usage, stdout);
            rc = PE_OK;
            goto done;
        default:
            cli_getopt_error(argc, argv, c, opts, &e);
            fprintf(stderr, "persona-eval prepare: %s\n", e.msg);
            goto done;
        }
    }
    while (optind < argc) { /* words after the options are files too */
        const char *f = argv[optind++];
        cli_data_files(argc, argv, f, &files, &nfiles);
    }
    if (!task_name || !nfiles || !out) {
        fprintf(stderr, "persona-eval prepare: --task, --data and --out are required "
                        "(see --help)\n");
        goto done;
    }
    if (!(t = task_get(task_name))) {
        cli_unknown_task(task_name, &e);
        fprintf(stderr, "persona-eval prepare: %s\n", e.msg);
        goto done;
    }
    rc = dataset_load_limits(&in, t, files, nfiles, format, &limits, &e);
    if (rc) {
        fprintf(stderr, "persona-eval prepare: %s\n", e.msg);
        goto done;
    }
    for (size_t i = 0; i < in.nwarnings; i++)
        fprintf(stderr, "persona-eval prepare: warning: %s\n", in.warnings[i]);
    po.top_users = (size_t)top;
    po.test_last = last;
    rc = dataset_prepare(&in, &po, &prep, &e);
    if (!rc && in.nogold && t->id != TASK_LAMP1)
        fprintf(stderr, "persona-eval prepare: found no gold for %zu quer%s: they are left "
                "out, and each user's test queries are its most recent profile items "
                "instead\n", in.nogold, in.nogold == 1 ? "y" : "ies");
    else if (!rc && in.nogold)
        fprintf(stderr, "persona-eval prepare: found no gold for %zu quer%s: they are kept "
                "as queries, which a run answers but cannot score\n", in.nogold,
                in.nogold == 1 ? "y" : "ies");
    dataset_free(&in);
    if (!rc)
        rc = dataset_select(&prep, NULL, 0, users, nusers, (size_t)maxq, &e);
    if (!rc)
        rc = dataset_write_jsonl(&prep, out, &e);
    if (rc) {
        fprintf(stderr, "persona-eval prepare: %s\n", e.msg);
    } else {
        for (size_t i = 0; i < prep.nusers; i++)
            nhist += prep.users[i].nitems;
        printf("%s: %zu users, %zu history items, %zu queries\n", out, prep.nusers, nhist,
               dataset_nqueries(&prep));
        if (fflush(stdout) != 0) {
            fprintf(stderr, "persona-eval prepare: cannot write to stdout\n");
            rc = PE_EXIT_IO;
        }
    }
    dataset_free(&prep);
done:
    free(files);
    free(users);
    return rc;
}
