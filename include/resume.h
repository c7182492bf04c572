/*
 * resume: continuing an interrupted run directory. Torn tails left by a
 * killed writer are cut off (so the files stay valid JSONL before anything is
 * appended), run.json's settings are checked against the command line, and
 * the (method, user, id) triples answered without error form the set the
 * runner skips; errored ones run again and their new line supersedes.
 *
 * Ownership: resume_set_new() copies what it keeps; free it with
 * resume_set_free(). resume_read_run() returns a tree the caller deletes.
 */
#ifndef PE_RESUME_H
#define PE_RESUME_H

#include <cJSON.h>
#include <stddef.h>

#include "report.h"
#include "util.h"

/* Cut path back to just after its last newline; *cut = bytes removed. A
 * missing file is fine (nothing to cut). */
int resume_truncate_torn(const char *path, size_t *cut, pe_err *e);
/* The same for dir's predictions.jsonl, traces.jsonl and personas.jsonl;
 * *cut = bytes removed over all three. */
int resume_repair_dir(const char *dir, size_t *cut, pe_err *e);

/* dir/run.json, parsed. */
int resume_read_run(const char *dir, cJSON **run, pe_err *e);
/* Compare run.json's "config" with settings: PE_EXIT_USAGE naming every
 * differing key when they differ. */
int resume_check_config(const char *dir, const cJSON *run, const cJSON *settings, pe_err *e);

typedef struct resume_set resume_set;
/* The records answered without error. */
resume_set *resume_set_new(const pred_record *recs, size_t n);
size_t resume_set_count(const resume_set *s);
/* runner_opts.is_done: 1 when (method, user, id) is in the set (ctx a resume_set). */
int resume_is_done(void *ctx, const char *method, const char *user, const char *id);
void resume_set_free(resume_set *s);

#endif
