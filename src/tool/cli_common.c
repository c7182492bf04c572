/* Helpers shared by the subcommands: numbers in flags, getopt messages. */
#include "cli_common.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>

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
