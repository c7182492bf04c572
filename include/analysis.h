/*
 * analysis: persona similarity (the paper's Appendix G) and the standalone SVG
 * files of the persona heatmap and of parameter sweeps (its Figure 3), drawn
 * with the report charts (charts.h).
 *
 * Ownership: word sets are made by analysis_words() and freed with
 * analysis_words_free(); personas loaded by analysis_personas_load() are
 * freed with analysis_personas_free(); SVG text is appended to a caller's buf.
 */
#ifndef PE_ANALYSIS_H
#define PE_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "util.h"

/* The set of words of a text: lower-cased (ASCII), split on anything that is
 * not a letter or digit (bytes >= 0x80 count as letters), as sorted hashes. */
typedef struct word_set {
    uint64_t *h;
    size_t n;
} word_set;
word_set analysis_words(const char *text);
void analysis_words_free(word_set *w);
/* |A ∩ B| / |A ∪ B|; 1 when both are empty. */
double analysis_jaccard(const word_set *a, const word_set *b);

/* One user's persona of one method in personas.jsonl: the first initial
 * persona, the latest final one and the alignment iterations in between (all
 * re-alignments of an --online run counted). */
typedef struct analysis_persona {
    char *user, *initial, *final;
    size_t iterations;
} analysis_persona;
/* The personas of method *method in dir/personas.jsonl, sorted by user; with
 * *method NULL, personaagent when the file has it, else the first method with
 * personas. *method is always set to a string the caller frees. */
int analysis_personas_load(const char *dir, char **method, analysis_persona **out, size_t *nout,
                           pe_err *e);
void analysis_personas_free(analysis_persona *v, size_t n);
/* m[i * n + k]: Jaccard similarity of the final personas of users i and k (1
 * on the diagonal); drift[i]: Jaccard similarity of user i's initial and final
 * persona; nwords[2 * i], nwords[2 * i + 1]: word counts of the initial and
 * final persona (drift and nwords may be NULL). */
void analysis_similarity(const analysis_persona *r, size_t n, double *m, double *drift,
                         size_t *nwords);

/* An n x n heatmap of values in [0, 1] with row and column labels. */
void analysis_svg_heatmap(buf *out, const char *title, const char *const *labels, size_t n,
                          const double *m);

/* A line chart: nseries lines over the same x values; y[s * nx + i]. */
void analysis_svg_lines(buf *out, const char *title, const char *xlabel, const char *ylabel,
                        const double *x, size_t nx, const char *const *series, size_t nseries,
                        const double *y);

#endif
