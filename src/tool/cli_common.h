/*
 * cli_common: helpers shared by the subcommands: number parsing for flags,
 * getopt error messages.
 */
#ifndef PE_CLI_COMMON_H
#define PE_CLI_COMMON_H

#include <stddef.h>

#include "util.h"

/* The method run when --method is not given. */
#define CLI_DEFAULT_METHOD "personaagent"

/* Parse a whole decimal number >= min for flag name; PE_EXIT_USAGE otherwise. */
int cli_parse_count(const char *flag, const char *s, unsigned long long min,
                    unsigned long long *out, pe_err *e);
/* The message for getopt_long's '?' (unknown option, with the nearest name in
 * opts as a suggestion) or ':' (missing value). */
struct option;
int cli_getopt_error(int argc, char **argv, int ch, const struct option *opts, pe_err *e);
/* Levenshtein distance, and the candidate nearest to word when it is near
 * enough to be a typo (NULL otherwise). */
size_t cli_edit_distance(const char *a, const char *b);
const char *cli_closest(const char *word, const char *const *cands, size_t n);
/* The message for an unknown --task (lamp2: which of lamp2m and lamp2n). */
int cli_unknown_task(const char *name, pe_err *e);

#endif
