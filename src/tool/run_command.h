/*
 * run_command: the command line of `run` as a list of words: what run.json
 * records (full option names, secret values replaced by ***), the recorded
 * command a bare `--resume DIR` continues from, and request headers given
 * outside argv (PERSONA_EVAL_HEADERS, --header @FILE); and its help text.
 *
 * Ownership: a run_words owns its strings; run_words_free() releases them.
 */
#ifndef PE_RUN_COMMAND_H
#define PE_RUN_COMMAND_H

#include <stddef.h>
#include <stdio.h>

#include "util.h"

typedef struct run_words {
    char **v;
    size_t n, cap;
} run_words;

void run_words_add(run_words *w, const char *s);
void run_words_free(run_words *w);

/* Record one option (its full name, without "--") and its value (NULL for a
 * flag) in the canonical command; header values and URL credentials are
 * replaced by ***. */
void run_command_option(run_words *cmd, const char *name, const char *value);

/* For `--resume DIR`: the words of DIR/run.json's recorded command that the
 * new command line does not override (out, resume and sweep are dropped; a
 * repeatable option given again replaces all its recorded values; headers are
 * never recorded, so they come from the new command line or the environment).
 * argv is the new command line (argv[0] is the subcommand). The result starts
 * with argv[0], then the recorded words, then argv[1..]. */
int run_command_resume(const char *dir, int argc, char **argv, run_words *out, pe_err *e);

/* Headers from outside argv: PERSONA_EVAL_HEADERS (one "Name: value" a line)
 * and, for an argument "@FILE", the lines of FILE. Appends to out. */
int run_command_env_headers(run_words *out, pe_err *e);
int run_command_file_headers(const char *path, run_words *out, pe_err *e);

/* The help text of `run` (every option and the methods) on f. */
void run_usage(FILE *f);

#endif
