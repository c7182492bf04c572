/*
 * html_run: report.html, the self-contained page of one run directory. It
 * needs nothing but the file: CSS and SVG charts are inline, there is no
 * external asset.
 *
 * The page holds the summary table with 95% intervals, the per-user
 * distribution of the first metric per method (users.csv), token and cost
 * totals (run.json "stats", per method from predictions.jsonl), the run's
 * settings, data files and versions (run.json), sweep charts (sweep.csv),
 * the persona similarity heatmap (personas_jaccard.csv) and relative links
 * to the raw files present. Only summary.json is required; every other file
 * is optional, and a section whose file is missing or unreadable says so.
 * Scaffolding shared with the comparison page is htmlkit.h; the users table and
 * details come from html_users.c, the persona section from html_personas.c.
 *
 * Ownership: nothing is returned to the caller; text is only read. Every
 * string that comes from data (methods, user ids, paths, settings) is escaped.
 */
#ifndef PE_HTML_RUN_H
#define PE_HTML_RUN_H

#include "dataset.h"
#include "report.h"
#include "util.h"

/* Write dir/report.html atomically from the files in dir. */
int html_write_run(const char *dir, pe_err *e);
/* The same, with what the run already holds (all borrowed): its loaded users
 * (data) as the source of the query inputs shown for the first users, instead
 * of reading the data files run.json names again, and its predictions (recs,
 * as report_load_predictions() read them from dir) instead of reading
 * predictions.jsonl again. NULL: read them. */
int html_write_run_with(const char *dir, const dataset *data, const pred_record *recs,
                        size_t nrec, pe_err *e);

/* Write one page for a sweep folder (sweep.csv and one run folder per value,
 * no summary.json of its own): the sweep's charts, the runs' summaries side
 * by side and links to each run's report.html. */
int html_write_sweep(const char *out_path, const char *dir, pe_err *e);
/* dir is a sweep folder: it has sweep.csv and no summary.json. */
int html_is_sweep(const char *dir);

#endif
