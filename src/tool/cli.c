#include "cli.h"

#include <cJSON.h>
#include <cblas.h>
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "version.h"
#include "cmd.h"

int cli_parse_count(const char *flag, const char *s, unsigned long long min,
                    unsigned long long *out, pe_err *e)
{
    char *end;
    unsigned long long v;
    if (!*s || *s == '-' || *s == '+')
        return pe_errf(e, PE_EXIT_USAGE, "%s: \"%s\" is not a whole number", flag, s);
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end)
        return pe_errf(e, PE_EXIT_USAGE, "%s: \"%s\" is not a whole number", flag, s);
    if (v < min)
        return pe_errf(e, PE_EXIT_USAGE, "%s: must be at least %llu", flag, min);
    *out = v;
    return 0;
}

int cli_getopt_error(int argc, char **argv, int ch, pe_err *e)
{
    const char *arg = optind - 1 < argc && optind >= 1 ? argv[optind - 1] : "?";
    if (ch == ':')
        return pe_errf(e, PE_EXIT_USAGE, "option %s needs a value", arg);
    if (optopt)
        return pe_errf(e, PE_EXIT_USAGE, "unknown option -%c (see --help)", optopt);
    return pe_errf(e, PE_EXIT_USAGE, "unknown option %s (see --help)", arg);
}

void cli_versions_json(buf *b)
{
    buf_adds(b, "{\"libcurl\": ");
    buf_json_str(b, curl_version_info(CURLVERSION_NOW)->version);
    buf_adds(b, ", \"cjson\": ");
    buf_json_str(b, cJSON_Version());
    buf_adds(b, ", \"openblas\": ");
    buf_json_str(b, openblas_get_config());
    buf_addc(b, '}');
}

void cli_versions_text(buf *b)
{
    buf_printf(b, "libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
    buf_printf(b, "cJSON %s\n", cJSON_Version());
    buf_printf(b, "%s\n", openblas_get_config());
}

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
        "3 regression against a baseline, 4 some queries ended in error, 65 bad data,\n"
        "66 missing input, 69 endpoint unavailable, 74 I/O error, 130/143 interrupted.\n");
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
        cli_versions_text(&b);
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
            int rc = cmds[i].fn(argc - 1, argv + 1);
            if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "persona-eval: error writing to standard output\n");
                return rc ? rc : PE_EXIT_IO;
            }
            return rc;
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
