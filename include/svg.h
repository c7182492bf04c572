/*
 * svg: the one kit for inline SVG charts and for escaping text into HTML or
 * SVG: escaping with UTF-8 cleaning, "nice" value axes with grid lines, the
 * opening tag of a chart, the method colour palette and a sequential colour
 * ramp. The charts themselves are in charts.h.
 *
 * Ownership: everything is appended to a caller's buf; strings are only read.
 * A colours table owns copies of the names it has seen; free it with
 * svg_colours_free().
 */
#ifndef PE_SVG_H
#define PE_SVG_H

#include <stddef.h>

#include "buf.h"

/* Append s as XML/HTML text (also safe inside a quoted attribute value): & < >
 * " ' become entities; invalid UTF-8 bytes and control characters other than
 * tab and newline become U+FFFD. NULL appends nothing. */
void svg_escape(buf *b, const char *s);
/* At most max characters of s, escaped, with an ellipsis when cut. */
void svg_escape_trunc(buf *b, const char *s, size_t max);

/* Labels are wrapped, never clipped: lines of at most max characters, broken
 * after '-', '_', '/', '.' or ':' or at a space when there is one in the
 * line, else inside the word. svg_wrap_lines() counts the lines and sets
 * *widest to the character count of the longest; svg_text_lines() draws them
 * as one <text> at x, the first baseline at y, lines lh apart, and returns
 * the number of lines. */
size_t svg_wrap_lines(const char *s, size_t max, size_t *widest);
size_t svg_text_lines(buf *b, const char *s, size_t max, double x, double y, double lh,
                      const char *anchor);
/* The width in pixels that n characters of 12px text need at most. */
#define SVG_CHAR_PX 7.0

/* A value axis rounded outwards to about target steps of 1, 2 or 5 times a
 * power of ten. */
typedef struct svg_axis {
    double lo, hi, step;
    int decimals;
} svg_axis;
svg_axis svg_nice_axis(double lo, double hi, int target);
/* The pixel position of v on an axis drawn from x0 over w pixels. */
double svg_axis_px(const svg_axis *a, double v, double x0, double w);
/* Vertical grid lines with labels under y1, for a horizontal axis. */
void svg_x_grid(buf *b, const svg_axis *a, double x0, double w, double y0, double y1);
/* Horizontal grid lines with labels left of x0, for a vertical axis (y0 top, h tall). */
void svg_y_grid(buf *b, const svg_axis *a, double y0, double h, double x0, double x1);

/* The opening <svg> tag of a w x h chart with a class and an accessible label.
 * standalone: the chart is a file of its own, so it carries its text styles
 * (inside an HTML page the page's style sheet gives them). */
void svg_begin(buf *b, double w, double h, const char *cls, const char *label, int standalone);

/* Colours by method name: the first name seen gets the first colour of a
 * palette distinguishable with colour-blindness (Okabe-Ito), and so on. */
typedef struct svg_colours {
    char **names;
    size_t n, cap;
} svg_colours;
const char *svg_colour_of(svg_colours *c, const char *name);
void svg_colours_free(svg_colours *c);

/* A light-to-dark blue ramp over [0, 1] (clamped). */
void svg_ramp(double v, int rgb[3]);

#endif
