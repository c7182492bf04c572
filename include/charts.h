/*
 * charts: the SVG charts of the reports, drawn with the svg kit: metric values
 * with their 95% intervals, per-user distributions, line charts of parameter
 * sweeps, and a heatmap of a square matrix (persona similarity). The same
 * functions draw inside report.html and into standalone .svg files.
 *
 * Ownership: everything is appended to a caller's buf; inputs are only read.
 * Colours come from the caller's svg_colours, so a method keeps its colour
 * across the charts of one page.
 */
#ifndef PE_CHARTS_H
#define PE_CHARTS_H

#include <stddef.h>

#include "buf.h"
#include "svg.h"

/* One row of an interval chart: a dot at v, a line from lo to hi (NAN: none). */
typedef struct chart_interval {
    const char *label, *colour;
    double v, lo, hi;
} chart_interval;
/* unit: the metric lies in [0, 1]. */
void chart_intervals(buf *b, const char *metric, int higher_better, int unit,
                     const chart_interval *rows, size_t n);

/* One row of a distribution chart: n values, each with the name of its point
 * (a user id), drawn as dots over a box of the quartiles. A row of more than
 * CHART_MAX_DOTS values shows the dots of an evenly spaced subset (the box
 * and whiskers always cover all). */
#define CHART_MAX_DOTS 2000
typedef struct chart_dist {
    const char *label;
    const double *v;
    const char *const *point;
    size_t n;
} chart_dist;
void chart_distribution(buf *b, const char *metric, int unit, const chart_dist *d, size_t nd,
                        svg_colours *col);

/* A line chart: one line per series over nx x values named xs; when numeric,
 * xv holds their values (in ascending order) and the x axis is to scale, else
 * the values are spaced evenly. y[i] NAN: no point. */
typedef struct chart_series {
    const char *name;
    const double *y;
} chart_series;
void chart_lines(buf *b, const char *title, const char *xlabel, const char *ylabel,
                 const char *const *xs, const double *xv, int numeric, size_t nx,
                 const chart_series *se, size_t ns, svg_colours *col, int standalone);

/* An n x n heatmap; m[i * n + k] NAN: no value (grey). Colours span
 * [min(0, lowest), max(1, highest)]. Labels and values are shown when the
 * cells are large enough. */
void chart_heatmap(buf *b, const char *title, const char *const *rows, const char *const *cols,
                   size_t n, const double *m, int standalone);

#endif
