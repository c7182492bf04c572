/*
 * progress: the status line of a run. On a terminal, one line on stderr
 * redrawn at most 4 times a second; elsewhere, a log line every 30 s. The
 * update is O(1) and rate-limited, as the runner calls it after every query
 * under its mutex.
 *
 * Ownership: progress_new() returns an object freed with progress_free(); it
 * borrows the stream.
 */
#ifndef PE_PROGRESS_H
#define PE_PROGRESS_H

#include <stdio.h>

#include "buf.h"
#include "runner.h"

typedef enum { PROGRESS_AUTO, PROGRESS_ALWAYS, PROGRESS_NEVER } progress_mode;

/* "auto", "always" or "never"; PE_EXIT_USAGE otherwise. */
int progress_parse_mode(const char *s, progress_mode *m, pe_err *e);

/* Extra counters for the line (e.g. cache hits), appended as they are. */
typedef void (*progress_extra_fn)(void *ctx, buf *out);

typedef struct progress progress;
/* mode AUTO: status line when f is a terminal, log lines otherwise; ALWAYS:
 * the status line anyway; NEVER: nothing. */
progress *progress_new(progress_mode mode, FILE *f);
/* Minimum seconds between two outputs (defaults 0.25 and 30). */
void progress_set_intervals(progress *p, double line_s, double log_s);
void progress_set_extra(progress *p, progress_extra_fn fn, void *ctx);
/* A runner_progress_fn (ctx is the progress). */
void progress_update(void *ctx, const runner_stats *st, size_t users_done, size_t users_total);
/* Last state and a final newline (the status line), or one last log line. */
void progress_finish(progress *p);
void progress_free(progress *p);

/* The line's text: "users 3/30  queries 120/378  ...". elapsed in seconds. */
void progress_format(buf *out, const runner_stats *st, size_t users_done, size_t users_total,
                     double elapsed);

#endif
