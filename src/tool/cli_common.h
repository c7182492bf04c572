/*
 * cli_common: helpers shared by the subcommands: number parsing for flags,
 * getopt error messages, the signal handler of the commands other than run.
 */
#ifndef PE_CLI_COMMON_H
#define PE_CLI_COMMON_H

#include <stddef.h>

#include "util.h"

/* The method run when --method is not given. */
#define CLI_DEFAULT_METHOD "personaagent"

/* The message for getopt_long's '?' (unknown option, with the nearest name in
 * opts as a suggestion) or ':' (missing value). */
struct option;
int cli_getopt_error(int argc, char **argv, int ch, const struct option *opts, pe_err *e);
/* Levenshtein distance, and the candidate nearest to word when it is near
 * enough to be a typo (NULL otherwise). */
size_t cli_edit_distance(const char *a, const char *b);
const char *cli_closest(const char *word, const char *const *cands, size_t n);
/* SIGINT and SIGTERM for the commands other than run: the first is passed to
 * the library (pe_signal_note), which stops at its next check, so the command
 * exits 130 or 143 with every file it wrote whole; a second ends the process
 * at once. */
void cli_catch_signals(void);
/* The message for an unknown --task (lamp2: which of lamp2m and lamp2n). */
int cli_unknown_task(const char *name, pe_err *e);

#endif
