/*
 * report: the run directory. Appends prediction records as queries complete
 * (one writer, flushed at once and fsync'd within about a second by a
 * background thread), and turns
 * predictions.jsonl back into users.csv and summary.{json,csv,md}, so a summary
 * is always a pure function of the predictions file (rescoring, resume and
 * merge give the same numbers).
 *
 * Ownership: report_open() returns a writer the caller closes with
 * report_close(). pred_record strings belong to whoever filled the record;
 * report_load_predictions() returns an array the caller frees with
 * report_free_predictions().
 */
#ifndef PE_REPORT_H
#define PE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "task.h"
#include "util.h"

/* One line of predictions.jsonl (docs/DESIGN.md §8). */
typedef struct pred_record {
    char *user, *id, *method;
    char *gold;  /* may be NULL */
    char *raw;   /* NULL on error */
    char *pred;  /* NULL on error */
    int valid;
    char *error; /* NULL when answered */
    long calls;
    long prompt_tokens, completion_tokens; /* -1: not reported */
    double latency_s;
    double cost_usd; /* < 0: unknown */
} pred_record;

typedef struct report_writer report_writer;

/* Create dir (and parents) and open its append-only files. */
int report_open(const char *dir, report_writer **w, pe_err *e);
/* Thread-safe: append one prediction line. */
int report_append_prediction(report_writer *w, const pred_record *r, pe_err *e);
/* Thread-safe: append a ready JSON object (one line, no newline) to traces.jsonl
 * or personas.jsonl. */
int report_append_trace(report_writer *w, const char *json_line, pe_err *e);
int report_append_persona(report_writer *w, const char *json_line, pe_err *e);
/* How many times the files were fsync'd so far (a background thread fsyncs
 * pending lines within about a second of their append). */
unsigned long report_syncs(report_writer *w);
/* Flush and fsync now, keeping the writer open (for a caller that must not
 * free it because abandoned threads may still append). */
int report_sync(report_writer *w, pe_err *e);
/* Flush, fsync and close; returns the first write error seen, if any. */
int report_close(report_writer *w, pe_err *e);

/* Read dir/predictions.jsonl. A torn last line (no final newline, not valid
 * JSON) is dropped and counted in *torn; a bad line elsewhere is an error. When
 * the same (method, user, id) appears more than once, the last line wins. */
int report_load_predictions(const char *dir, pred_record **recs, size_t *n, size_t *torn,
                            pe_err *e);
void report_free_predictions(pred_record *recs, size_t n);

/* Per-method results, as summary.json holds them. */
typedef struct method_summary {
    char *method;
    size_t n, invalid, errors, users;
    double value[2];  /* the task's two metrics (metrics_names order) */
    double lo[2], hi[2]; /* bootstrap 95% interval; NAN when B = 0 */
    /* what the queries cost (preparation calls are in run.json's totals) */
    long calls, prompt_tokens, completion_tokens; /* tokens: as reported */
    size_t tokens_unknown;                         /* queries with calls but no usage */
    double cost_usd;
} method_summary;

typedef struct summary_opts {
    size_t bootstrap; /* B draws */
    uint64_t seed;
    const char *const *method_order; /* methods in this order first (may be NULL) */
    size_t nmethod_order;
    const char *const *user_order;   /* users in this order (may be NULL: by id) */
    size_t nuser_order;
    int incomplete;                  /* mark the summary as from an interrupted run */
} summary_opts;

/* Score recs and write users.csv, summary.json, summary.csv and summary.md in
 * dir atomically; returns the per-method summaries (free with
 * report_free_summaries). Records are put in canonical order first (method,
 * user, query id), so the numbers do not depend on completion order. */
int report_summarize(const char *dir, const task *t, pred_record *recs, size_t n,
                     const summary_opts *o, method_summary **out, size_t *nout, pe_err *e);
void report_free_summaries(method_summary *s, size_t n);

/* The comparison table (methods as rows, metrics with intervals as columns) for
 * one task, as "md", "csv" or "json"; appended to out (a buf *). */
struct buf;
int report_table(struct buf *out, const char *fmt, const task *t, const method_summary *s,
                 size_t n, const char *const *run_labels);

/* Read a run directory's summary.json back (and its task). */
int report_read_summary(const char *dir, const task **t, method_summary **out, size_t *nout,
                        pe_err *e);

#endif
