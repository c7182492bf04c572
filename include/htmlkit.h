/*
 * htmlkit: the parts shared by the report pages (html_run.c, html_compare.c):
 * the page scaffolding (head with the inline style sheet, footer), number
 * formatting for tables, reading optional JSON files of a run directory, the
 * key-value rows of settings, and the summary table with its interval charts.
 *
 * Ownership: text is appended to a caller's buf and only read otherwise;
 * htmlkit_json_load() returns a cJSON tree the caller deletes;
 * htmlkit_base_name() returns a string the caller frees. Every string that
 * comes from data is escaped (svg_escape).
 */
#ifndef PE_HTMLKIT_H
#define PE_HTMLKIT_H

#include <stddef.h>

#include "buf.h"
#include "dataset.h"
#include "jsonu.h"
#include "report.h"
#include "svg.h"

#define HTMLKIT_DASH "\xe2\x80\x94"

void htmlkit_page_begin(buf *b, const char *title);
/* The page's only script, inline: sortable tables, links that open a <details>. */
extern const char htmlkit_script[];
void htmlkit_page_end(buf *b);
/* open, s escaped, close. */
void htmlkit_wrap(buf *b, const char *open, const char *s, const char *close);
/* A relative URL: bytes outside the unreserved set (and '/') percent-encoded. */
void htmlkit_url_path(buf *b, const char *s);

/* Numbers in table cells; NAN (and negative counts and costs) print a dash. */
void htmlkit_fixed(buf *b, double v, int prec);
void htmlkit_count(buf *b, double v); /* 1234567 -> 1,234,567 */
void htmlkit_cost(buf *b, double v);  /* $0.1234 */
/* A data-* attribute with the shortest exact form of v (nothing for NAN). */
void htmlkit_attr_num(buf *b, const char *name, double v);
/* A finite number filling all of s (trailing spaces allowed). */
int htmlkit_parse_num(const char *s, double *v);

/* dir/name as a JSON object, or NULL with e set. */
cJSON *htmlkit_json_load(const char *dir, const char *name, pe_err *e);
double htmlkit_json_num(const cJSON *o, const char *k); /* NAN when absent */
int htmlkit_has_file(const char *dir, const char *name);
/* The last component of a path, trailing slashes ignored. */
char *htmlkit_base_name(const char *path);
/* A JSON value as table text: strings escaped, booleans yes/no, arrays
 * comma-separated, null a dash. */
void htmlkit_json_value(buf *b, const cJSON *v);
/* A settings row: <tr><th>key</th><td>value</td></tr>. */
void htmlkit_kv_row(buf *b, const char *key, const cJSON *v);

/* The summary table of the rows of one task t (a run column when with_run)
 * and one interval chart per metric. */
void htmlkit_summary_table(buf *b, const task *t, const report_row *rows, size_t n,
                           int with_run, const char *id);
void htmlkit_interval_charts(buf *b, const task *t, const report_row *rows, size_t n,
                             int with_run, svg_colours *col);

/* The "Users" section of report.html (html_users.c): a table of every user
 * with each method's first metric (methods in the page's order), sortable by
 * the page script, and for the first users a <details> element with their
 * queries, personas and agent trace; the page says how many are shown. recs
 * are the run's predictions (pe: why there are none). The queries' inputs
 * come from data, or when it is NULL from the data files run.json names. */
void htmlkit_users_section(buf *b, const char *dir, const task *t, const cJSON *run,
                           const dataset *data, const char *const *methods, size_t nm,
                           const pred_record *recs, size_t nrec, const pe_err *pe);
/* The persona section from dir/personas.jsonl (html_personas.c): similarity
 * heatmap and drift table of one method's personas. 0 when the file is absent
 * or holds no persona (no section written). */
int htmlkit_personas_section(buf *b, const char *dir);

#endif
