/*
 * report: the run directory. Appends prediction records as queries complete
 * (report.c: one writer, flushed at once and fsync'd within about a second by
 * a background thread), reads predictions.jsonl back (predictions.c: the one
 * reader, used by summaries, score, merge, resume and report.html), and turns
 * the predictions into users.csv and summary.{json,csv,md} (summary.c), so a
 * summary is always a pure function of the predictions file (rescoring, resume
 * and merge give the same numbers); table.c prints comparison tables. Every
 * step after the answers is O(n log n) in predictions and users.
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
    long calls_cached;     /* calls answered from the request cache (0 when not recorded) */
    double cost_spent_usd; /* cost_usd without the cached calls; < 0: unknown (when not
                              recorded: cost_usd) */
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

/* Read a predictions.jsonl file of at most max_bytes (0: no limit). A torn
 * last line (no final newline, not valid JSON) is dropped and counted in
 * *torn; a bad line elsewhere is an error naming file, line and user. When
 * the same (method, user, id) appears more than once, the last line wins;
 * records stay in file order. An "id" may be a JSON number (read as its text). */
int report_read_predictions(const char *path, size_t max_bytes, pred_record **recs, size_t *n,
                            size_t *torn, pe_err *e);
/* The same for dir/predictions.jsonl without a size limit. */
int report_load_predictions(const char *dir, pred_record **recs, size_t *n, size_t *torn,
                            pe_err *e);
/* The order of the key (method, user, id): strcmp of each in turn. */
int report_key_cmp(const pred_record *a, const pred_record *b);
void report_free_predictions(pred_record *recs, size_t n);

/* Per-method results, as summary.json holds them. */
typedef struct method_summary {
    char *method;
    size_t n, invalid, errors, users;
    size_t nogold;      /* answered queries without a gold: written, not scored */
    size_t prep_errors; /* failed preparation calls (0 when the run reported none) */
    size_t n_expected;  /* queries the run was to answer (0: not reported) */
    double value[2];  /* the task's two metrics (metrics_names order) */
    double lo[2], hi[2]; /* bootstrap 95% interval; NAN when B = 0 */
    /* Every call made for the method: its queries and its preparation (the
     * user summary, alignment replays, feedback and updates). A summary of a
     * user shared by several methods is in each of their rows (shared_calls,
     * shared_cost_usd) and once in run.json's totals. */
    long calls, prompt_tokens, completion_tokens; /* tokens: as reported */
    size_t tokens_unknown;     /* queries (or preparations) with calls but no usage */
    double cost_usd;           /* of every call, as if none had been answered from the cache */
    long prep_calls;           /* of calls: preparation */
    long shared_calls;         /* of prep_calls: the shared user summary */
    long calls_cached;         /* of calls: answered from the request cache */
    double cost_spent_usd;     /* cost_usd without the cached calls: spent by this run */
    double shared_cost_usd;    /* of cost_usd: the shared user summary */
} method_summary;

typedef struct summary_opts {
    size_t bootstrap; /* B draws */
    uint64_t seed;
    const char *const *method_order; /* methods in this order first (may be NULL) */
    size_t nmethod_order;
    const char *const *user_order;   /* users in this order (may be NULL: by id) */
    size_t nuser_order;
    int incomplete;                  /* mark the summary as from an interrupted run */
    /* Optional figures from the run (NULL: absent, and their fields and
     * columns are left out): per method of method_order, the queries it was
     * to answer (summary.json "n_expected"/"complete", summary.csv columns
     * complete,n_expected) and its failed preparation calls ("prep_errors"). */
    const size_t *n_expected;
    const size_t *prep_errors;
    /* Optional provenance (NULL: absent): summary.json "provenance" and a line
     * of summary.md. endpoint_host is a host name only, never a URL with
     * credentials. */
    const char *model, *endpoint_host, *backend, *data_sha256, *config_hash;
} summary_opts;

/* Score recs and write users.csv, summary.json, summary.csv and summary.md in
 * dir atomically; returns the per-method summaries (free with
 * report_free_summaries). Records are put in canonical order first (method,
 * user, query id), so the numbers do not depend on completion order. */
int report_summarize(const char *dir, const task *t, pred_record *recs, size_t n,
                     const summary_opts *o, method_summary **out, size_t *nout, pe_err *e);
void report_free_summaries(method_summary *s, size_t n);
/* The preparation recorded in dir/personas.jsonl (its "prep" and "shared"
 * accounting; for each (user, method, turn) the last line), indexed by
 * (method, user). No file: an empty index. prep_index_add() adds the
 * preparation of (method, user), or of every user of method when user is
 * NULL, to s: calls, tokens, cost, prep_calls, shared_calls. The index owns
 * its strings; free it with prep_index_free(). report_summarize() uses it. */
typedef struct prep_index prep_index;
int prep_index_read(const char *dir, prep_index **out, pe_err *e);
void prep_index_add(const prep_index *x, const char *method, const char *user,
                    method_summary *s);
void prep_index_free(prep_index *x);

/* The comparison table (methods as rows, metrics with intervals as columns) for
 * one task, as "md", "csv" or "json"; appended to out (a buf *). Returns -1
 * for an unknown format. Every CSV row has the header's fields; a missing
 * metric is an empty field in each of its three columns. */
struct buf;
int report_table(struct buf *out, const char *fmt, const task *t, const method_summary *s,
                 size_t n, const char *const *run_labels);
/* One row of a table over runs of possibly different tasks. */
typedef struct report_row {
    const char *run; /* label, or NULL */
    const task *t;
    const method_summary *s;
} report_row;
/* The table of rows (grouped by task by the caller): "md" prints one table per
 * task, "csv" one header with the union of the tasks' metric columns (empty
 * where a task lacks a metric), "json" one array. with_run adds a run column. */
int report_rows_table(struct buf *out, const char *fmt, const report_row *rows, size_t n,
                      int with_run);
/* The cost fields of a row as JSON members (",\"calls\":...,\"shared_cost_usd\":..."). */
void report_cost_json(struct buf *out, const method_summary *s);
/* A metric for JSON: its shortest exact form, or null when not finite. */
void report_fmt_metric(char *b, size_t n, double v);

/* Write each method's predictions in LaMP's official format into dir:
 * official_METHOD.json = {"task": "LaMP_1" | "LaMP_2" | "LaMP_3", "golds":
 * [{"id", "output"}, ...]} (both lamp2 tasks are "LaMP_2", as LaMP's
 * evaluation.py names them; characters of METHOD outside [A-Za-z0-9._-]
 * become '_'), sorted by (user, id); an errored query has no answer and is
 * left out. When the records carry golds, official_golds.json holds them in
 * the same format (sorted by id, one per id), so `persona-eval score --golds
 * official_golds.json --preds official_METHOD.json` scores a method as LaMP
 * would. report_summarize() calls this for every summary it writes. */
int report_write_official(const char *dir, const task *t, const pred_record *recs, size_t n,
                          pe_err *e);

/* Read dir/name (at most max bytes; 0: no limit) as a JSON object into *out
 * (the caller deletes it); an error names file, line and column. */
struct cJSON;
int report_read_json(const char *dir, const char *name, size_t max, struct cJSON **out,
                     pe_err *e);

/* Read a run directory's summary.json back (and its task). */
int report_read_summary(const char *dir, const task **t, method_summary **out, size_t *nout,
                        pe_err *e);

#endif
