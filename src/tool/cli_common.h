/*
 * cli_common: helpers shared by the subcommands: getopt error messages with
 * suggestions, the --data file list, the unknown-task message, shell words
 * for printed commands, the signal handler of the commands other than run.
 *
 * Ownership: the strings returned point into the arguments given (argv or the
 * candidates), except cli_shell_word's, which the caller frees; the --data
 * list is a growing array the caller frees (its strings are argv's).
 */
#ifndef PE_CLI_COMMON_H
#define PE_CLI_COMMON_H

#include <stddef.h>

#include "util.h"

/* A number macro as a string literal, for help texts ("default " CLI_STR(X)). */
#define CLI_STR_(x) #x
#define CLI_STR(x) CLI_STR_(x)

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
/* --data FILE [FILE...]: appends arg (the option's value) and the words after
 * it up to the next option (a word starting with '-') to the growing array
 * *list of *n files, and moves getopt's optind past them. Every subcommand
 * with --data parses it here, so that `--data A B` and `--data A --data B`
 * mean the same everywhere. */
void cli_data_files(int argc, char **argv, const char *arg, const char ***list, size_t *n);
/* s as one shell word: as is when it holds only characters no shell treats
 * specially, else in single quotes (a quote inside written '\''), so that a
 * printed command can be pasted back. Returns a string to free. */
char *cli_shell_word(const char *s);
/* SIGINT and SIGTERM for the commands other than run: the first is passed to
 * the library (pe_signal_note), which stops at its next check, so the command
 * exits 130 or 143 with every file it wrote whole; a second ends the process
 * at once. */
void cli_catch_signals(void);
/* The message for an unknown --task (lamp2: which of lamp2m and lamp2n). */
int cli_unknown_task(const char *name, pe_err *e);

#endif
