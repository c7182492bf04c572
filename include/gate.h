/*
 * gate: the CI comparison of a new run with a stored baseline (`report
 * --baseline BASE NEW`). It compares the same queries, matched by (method,
 * user, id), and says why when the two runs cannot be compared honestly:
 *
 *   PE_EXIT_INCOMPLETE (5)   NEW (or BASE) was interrupted before every query
 *                            was answered (summary.json or run.json "incomplete")
 *   PE_EXIT_ERRORED (6)      NEW has errored queries, or preparation errors
 *                            ("prep_errors" in summary.json)
 *   PE_EXIT_INCOMPARABLE (7) the runs cover different queries, or differ in
 *                            task, data SHA-256 or result-changing settings
 *                            (run.json "config", every key but model,
 *                            endpoint, and the query selection: methods,
 *                            users, user_ids, max_queries, whose effect the
 *                            query comparison sees)
 *   PE_EXIT_REGRESSION (3)   a metric dropped: the paired difference over the
 *                            shared queries is worse than --tolerance and its
 *                            paired bootstrap interval excludes 0
 *
 * Each check but the task can be waived for a deliberate comparison
 * (allow_* options); the waived reason is still reported. When several
 * reasons hold, the verdict is the first in the order above.
 *
 * Ownership: gate_check() appends its table and reasons to the caller's
 * bufs; nothing else is returned.
 */
#ifndef PE_GATE_H
#define PE_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "util.h"

typedef struct gate_opts {
    double tolerance;  /* allowed worsening of a metric (absolute; default 0) */
    double level;      /* interval level (default 0.95) */
    size_t bootstrap;  /* paired bootstrap draws (default 1000) */
    uint64_t seed;     /* bootstrap seed (default 42) */
    int allow_incomplete, allow_errors, allow_different_queries, allow_data, allow_settings;
} gate_opts;

void gate_opts_default(gate_opts *o);

/* Compare the run directories base and cur. The per-metric table (Markdown)
 * goes to out, one line per reason to why, the exit status to *verdict (0:
 * pass). Returns 0, or a status with e set when a run's files cannot be read. */
int gate_check(const char *base, const char *cur, const gate_opts *o, buf *out, buf *why,
               int *verdict, pe_err *e);

#endif
