#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "pe_run.h"
#include "version.h"
#include "cmd.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: persona-eval [run] --task TASK [options]   run methods, write a run directory\n"
        "       persona-eval prepare --task TASK --data FILES... --out FILE.jsonl\n"
        "       persona-eval score --task TASK --golds FILE --preds FILE | score RUN_DIR\n"
        "       persona-eval report [--format md|csv|json] [--baseline DIR] DIR...\n"
        "       persona-eval personas [--method M] RUN_DIR\n"
        "       persona-eval merge DIR... --out DIR          join shard run directories\n"
        "       persona-eval --version | --help\n"
        "\n"
        "Each subcommand takes --help. Exit codes: 0 success, 1 internal error, 2 usage,\n"
        "3 regression against a baseline, 4 some queries ended in error, 5 incomplete\n"
        "run or shard, 6 errored run, 7 runs not comparable (report --baseline),\n"
        "65 bad data, 66 missing input (or an --offline cache miss), 69 endpoint\n"
        "unavailable, 74 I/O error, 75 run folder in use, 130/143 interrupted.\n"
        "`run` prints the run folder as the last line of stdout. See persona-eval(1).\n");
}

int cli_main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"run", cmd_run},       {"prepare", cmd_prepare},   {"score", cmd_score},
        {"report", cmd_report}, {"personas", cmd_personas}, {"merge", cmd_merge},
    };
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        buf b = BUF_INIT;
        printf("persona-eval %s (git %s)\n", PE_VERSION, PE_GIT_REV);
        pe_versions_text(&b);
        fputs(buf_str(&b), stdout);
        buf_free(&b);
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : PE_EXIT_IO;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? PE_EXIT_USAGE : 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) {
            int rc;
            if (cmds[i].fn != cmd_run) /* run sets up its own (grace, stop now) */
                cli_catch_signals();
            rc = cmds[i].fn(argc - 1, argv + 1);
            if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "persona-eval: error writing to standard output\n");
                return rc ? rc : PE_EXIT_IO;
            }
            return rc;
        }
    if (argv[1][0] != '-') { /* a word that is no subcommand: a typo, or run's stray argument */
        const char *names[] = {"run", "prepare", "score", "report", "personas", "merge"};
        const char *near = cli_closest(argv[1], names, sizeof names / sizeof names[0]);
        if (near) {
            fprintf(stderr, "persona-eval: unknown command \"%s\" (did you mean %s?)\n", argv[1],
                    near);
            return PE_EXIT_USAGE;
        }
    }
    /* no subcommand: run, with argv[0] standing in for the subcommand name */
    {
        int rc = cmd_run(argc, argv);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "persona-eval: error writing to standard output\n");
            return rc ? rc : PE_EXIT_IO;
        }
        return rc;
    }
}
