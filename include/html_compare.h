/*
 * html_compare: one self-contained HTML page comparing several run
 * directories (`persona-eval report --html`): one table per task, runs in
 * the order given, then a short section per run linking its report.html.
 *
 * Ownership: nothing is returned to the caller; text is only read, and every
 * string that comes from data is escaped.
 */
#ifndef PE_HTML_COMPARE_H
#define PE_HTML_COMPARE_H

#include <stddef.h>

#include "util.h"

/* Write one comparison page of the runs in dirs. */
int html_write_compare(const char *out_path, const char *const *dirs, size_t n, pe_err *e);

#endif
