/*
 * html: a self-contained HTML page for a run directory (report.html) and a
 * comparison page of several runs. The pages need nothing but the file: CSS
 * and SVG charts are inline, one small inline script sorts tables and opens a
 * linked user's details; nothing is fetched.
 *
 * A run page holds the summary table with 95% intervals, the per-user
 * distribution of the first metric per method (users.csv), a sortable table
 * of the users, each opening to the user's queries and answers
 * (predictions.jsonl, inputs from the run's data files), persona evolution
 * (personas.jsonl) and agent trace (traces.jsonl), with a cap on how many
 * users get these details, token and cost
 * totals (run.json "stats", per method from predictions.jsonl), the run's
 * settings, data files and versions (run.json), sweep charts (sweep.csv),
 * the persona similarity heatmap and drift (from personas.jsonl, else
 * personas_jaccard.csv) and relative links
 * to the raw files present. Only summary.json is required; every other file
 * is optional, and a section whose file is missing or unreadable says so.
 *
 * The code is split by subsystem: html_page.c (scaffolding shared by both
 * pages, htmlkit.h), html_run.c (the run and sweep pages), html_users.c (a
 * run's users), html_personas.c (persona similarity), html_compare.c (the
 * comparison page); charts come from charts.h and escaping from svg.h.
 *
 * Ownership: nothing is returned to the caller; text is only read. Every
 * string that comes from data (methods, user ids, paths, settings) is escaped.
 */
#ifndef PE_HTML_H
#define PE_HTML_H

#include <stddef.h>

#include "util.h"

/* Write dir/report.html atomically from the files in dir. */
int html_write_run(const char *dir, pe_err *e);

/* Write one comparison page of the runs in dirs (one table per task, runs in
 * the order given, then a short section per run linking its report.html). */
int html_write_compare(const char *out_path, const char *const *dirs, size_t n, pe_err *e);

/* Write one page for a sweep folder (sweep.csv and one run folder per value,
 * no summary.json of its own): the sweep's charts, the runs' summaries side
 * by side and links to each run's report.html. */
int html_write_sweep(const char *out_path, const char *dir, pe_err *e);
/* dir is a sweep folder: it has sweep.csv and no summary.json. */
int html_is_sweep(const char *dir);

#endif
