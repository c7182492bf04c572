/*
 * dataset: users with time-ordered histories and test queries, loaded from
 * LaMP official files, user-grouped files or our JSONL; `prepare`; subsets.
 *
 * Ownership: a dataset owns every string and array inside it; the strings and
 * the item and query arrays live in its arena (d->arena, shared with a dataset
 * prepared from it), the users, sources and warnings arrays are malloc'd.
 * dataset_free() releases all of it. Code outside the data layer may move or
 * drop ds_user records (dataset_select, shard_split) and free the users array
 * it made, but never frees or reallocates a string or an item/query array.
 * Loaders leave *d empty on failure. Loading reads a file in bounded chunks and
 * parses its top-level elements on all cores (results and messages are the same
 * as on one core).
 */
#ifndef PE_DATASET_H
#define PE_DATASET_H

#include <stddef.h>

#include "task.h"
#include "util.h"

typedef struct ds_item {
    char *id;
    char *date;     /* "YYYY" or "YYYY-MM-DD"; NULL when absent */
    char *field[2]; /* the task's text fields, in task->fields order (never NULL) */
    char *label;    /* the label as a string ("4" for a score); NULL for lamp1 */
    size_t pos;     /* its position in the user's profile as the file lists it (the
                       history is sorted by date; equal retrieval scores rank the
                       later pos first, as LaMP does); items made from queries
                       come after the profile */
} ds_item;

typedef struct ds_query {
    char *id;
    char *date;  /* may be NULL */
    char *input; /* the LaMP input string */
    char *gold;  /* NULL when unknown */
} ds_query;

typedef struct ds_user {
    char *id;
    ds_item *items; /* history, oldest first */
    size_t nitems;
    ds_query *queries; /* test queries, in time order */
    size_t nqueries;
} ds_user;

typedef struct ds_source {
    char *path;
    char *format; /* "lamp", "grouped", "jsonl" */
    char sha256[65];
} ds_source;

struct pe_arena;

/* At most this many warnings are kept as messages; the rest are counted. */
#define DS_MAX_WARNINGS 50

typedef struct dataset {
    const task *task;
    ds_user *users;
    size_t nusers;
    ds_source *sources;
    size_t nsources;
    /* Warnings of the load, for the tool to print (null text fields read as "",
     * lone surrogates replaced, questions without golds): at most
     * DS_MAX_WARNINGS messages, then one counting the rest. */
    char **warnings;
    size_t nwarnings;
    /* Queries loaded without a gold (a LaMP questions file without its outputs
     * file, a test split): they can be answered but not scored. */
    size_t nogold;
    struct pe_arena *arena;
} dataset;

/* Limits on what a load reads; a value over a limit fails with PE_EXIT_DATA and a
 * message naming the file, user and field, the limit and the flag that raises it. */
typedef struct ds_limits {
    size_t max_file_bytes;    /* per data file (--max-file-bytes); 0 = no limit */
    size_t max_field_bytes;   /* per text field (--max-field-bytes); 0 = no limit */
    size_t max_profile_items; /* per user's profile/history (--max-profile-items); 0 = none */
    size_t chunk_bytes;       /* read size (0: 4 MiB); not a limit, for tests */
} ds_limits;
#define DS_DEFAULT_MAX_FILE_BYTES ((size_t)4 << 30)
#define DS_DEFAULT_MAX_FIELD_BYTES ((size_t)1 << 20)
#define DS_DEFAULT_MAX_PROFILE_ITEMS ((size_t)1000000)
/* The defaults above. */
ds_limits ds_limits_default(void);

/* Formats for --format; NULL or "auto" detects. */
#define DS_FORMATS "auto, lamp, grouped, jsonl"

/* Load and merge the given files. A LaMP questions file pairs with an outputs
 * file among paths (or beside it: foo_questions.json ↔ foo_outputs.json) when
 * present. Every failure names the file, the byte offset or line, the user and
 * the field; codes PE_EXIT_DATA, PE_EXIT_NOINPUT or PE_EXIT_IO. */
int dataset_load(dataset *d, const task *t, const char *const *paths, size_t npaths,
                 const char *format, pe_err *e);
/* dataset_load with explicit limits (NULL: ds_limits_default()). */
int dataset_load_limits(dataset *d, const task *t, const char *const *paths, size_t npaths,
                        const char *format, const ds_limits *lim, pe_err *e);
/* Load one in-memory text as if it were the file named name (no outputs file is
 * paired; for tests and fuzzing). data need not be NUL-terminated. */
int dataset_load_mem(dataset *d, const task *t, const char *name, const char *data,
                     size_t len, const char *format, const ds_limits *lim, pe_err *e);
void dataset_free(dataset *d);
/* Threads that parse elements while loading: 0 (the default) uses every core
 * for files over 1 MiB and none besides the caller for smaller ones; n > 0
 * forces n workers (tests, benchmarks). Set before loading, not during. */
void dataset_set_load_threads(int n);

/* Write our normalized JSONL (one user per line), atomically. */
int dataset_write_jsonl(const dataset *d, const char *path, pe_err *e);

/* prepare: N users with the most interactions (ties by id); each user's M most
 * recent labelled interactions become test queries (test_last < 0: 10% of the
 * user's interactions, at least 1). lamp1 keeps its LaMP questions as queries. */
typedef struct ds_prepare_opts {
    size_t top_users; /* 0 = all */
    long test_last;   /* < 0: 10% */
} ds_prepare_opts;
int dataset_prepare(const dataset *in, const ds_prepare_opts *o, dataset *out, pe_err *e);

/* Subsets for quick runs, applied in place: keep the users named in ids (if
 * nids > 0), else the n users with the most history (n = 0: all; ties by id);
 * then at most max_queries queries per user (0: all). Fails with PE_EXIT_USAGE
 * when a named user does not exist. User order stays as in the file. The users
 * left out are listed in *rest (free it with dataset_free; their texts stay in
 * d's arena, so rest is valid while d is), or dropped when rest is NULL. */
int dataset_select(dataset *d, dataset *rest, size_t n, const char *const *ids, size_t nids,
                   size_t max_queries, pe_err *e);

/* Total number of queries over all users. */
size_t dataset_nqueries(const dataset *d);
/* Queries without a gold over the current users (after select or sharding). */
size_t dataset_nqueries_nogold(const dataset *d);

/* The history item an answered query becomes once its gold is revealed
 * (--online): its text fields pulled out of the input (lamp1: the title),
 * its gold as the label (none for lamp1). id, date and label point into q;
 * the fields are new strings: free them with dataset_query_item_free(). */
void dataset_query_item(const task *t, const ds_query *q, ds_item *out);
void dataset_query_item_free(ds_item *it);

#endif
