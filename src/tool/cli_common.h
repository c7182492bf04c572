/*
 * cli_common: helpers shared by the subcommands: number parsing for flags,
 * getopt error messages.
 */
#ifndef PE_CLI_COMMON_H
#define PE_CLI_COMMON_H

#include "util.h"

/* The method run when --method is not given. */
#define CLI_DEFAULT_METHOD "personaagent"

/* Parse a whole decimal number >= min for flag name; PE_EXIT_USAGE otherwise. */
int cli_parse_count(const char *flag, const char *s, unsigned long long min,
                    unsigned long long *out, pe_err *e);
/* The message for getopt_long's '?' (unknown option) or ':' (missing value). */
int cli_getopt_error(int argc, char **argv, int ch, pe_err *e);

#endif
