/*
 * runset: the summaries of several run directories, labelled and grouped by
 * task, for the comparison table (`report`) and the comparison page.
 *
 * A run's label is the shortest suffix of its path (whole components,
 * trailing slashes ignored) that no other run's path ends with, so two
 * ".../latest" folders get distinct labels.
 *
 * Ownership: runset_load() fills a runset that owns its summaries, labels and
 * rows; free it with runset_free(). Rows point into the runs.
 */
#ifndef PE_RUNSET_H
#define PE_RUNSET_H

#include <stddef.h>

#include "buf.h"
#include "report.h"

typedef struct runset_run {
    const char *dir; /* borrowed from the caller */
    char *label;
    const task *t;
    method_summary *s;
    size_t n;
    char *model, *backend; /* run.json "llm"; NULL when unknown */
    int has_run;           /* run.json was read */
} runset_run;

typedef struct runset {
    runset_run *runs;
    size_t n;
    report_row *rows; /* every method of every run: tasks in first-seen order, then runs
                       * in the order given */
    size_t nrows;
} runset;

int runset_load(runset *rs, const char *const *dirs, size_t n, pe_err *e);
void runset_free(runset *rs);
/* Append one line per run: its label, path and who answered (the model and
 * backend from run.json, or a warning for the offline responder). */
void runset_describe(const runset *rs, buf *out);
/* The end of the group of rows of one task starting at row i. */
size_t runset_task_end(const runset *rs, size_t i);

#endif
