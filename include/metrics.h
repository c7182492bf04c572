/*
 * metrics: accuracy, macro-F1, MAE and RMSE with the official LaMP semantics
 * (eval/evaluation.py), and seeded bootstrap confidence intervals.
 *
 * Ownership: nothing is allocated for the caller; golds and preds are raw
 * strings that are only read. Results go into caller-provided structs.
 *
 * Semantics, as the official scorer computes them:
 * - Classification: gold and prediction are stripped of surrounding whitespace
 *   (Python str.strip(), Unicode whitespace included) and looked up exactly,
 *   case-sensitively, in the task's label list; a string not in the list maps
 *   to -1. Accuracy is the share of equal mapped pairs (so -1 == -1 counts).
 *   F1 is the unweighted mean over ALL labels of 2TP/(2TP+FP+FN), 0 for a label
 *   with no TP, FP or FN; the mean is summed in numpy's pairwise order.
 * - Rating: float() of the stripped prediction, no clamping; an unparsable
 *   prediction becomes whichever of 1.0 and 5.0 is farther from float(gold)
 *   (5.0 on a tie). A prediction that float() reads as inf or nan ("inf",
 *   "1e400", "nan") counts as unparsable: LaMP's scorer passes it on to
 *   sklearn, which stops with "Input contains infinity or NaN", so the
 *   official rule for a non-number is the only one that gives a score.
 *   MAE = mean |p-g|, RMSE = sqrt(mean (p-g)^2), pairwise sums.
 *   An unparsable gold (the official scorer crashes on it) yields NAN metrics.
 */
#ifndef PE_METRICS_H
#define PE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "task.h"

typedef struct metrics_result {
    size_t n;       /* scored predictions */
    size_t invalid; /* predictions that map to no label (classification) or do not parse (rating) */
    double accuracy, f1; /* classification tasks; NAN for rating */
    double mae, rmse;    /* rating task; NAN for classification */
} metrics_result;

/* Score n (gold, prediction) pairs. n == 0 gives NAN metrics. */
void metrics_compute(const task *t, const char *const *golds, const char *const *preds, size_t n,
                     metrics_result *r);

/* The official rating mapping of one string: float(s.strip()). Returns 1 when
 * it parses to a finite number (a gold that does not makes the official
 * scorer crash). */
int metrics_parse_rating(const char *s, double *v);

/* Percentile bootstrap 95% intervals: B resamples of the n pairs with
 * replacement (seeded, deterministic), lo/hi = the 2.5th and 97.5th
 * percentiles of each metric (linear interpolation, numpy's default). n and
 * invalid in lo/hi are those of the full sample. B == 0 or n == 0 leaves the
 * metrics NAN. */
void metrics_bootstrap(const task *t, const char *const *golds, const char *const *preds, size_t n,
                       size_t B, uint64_t seed, metrics_result *lo, metrics_result *hi);

/* Paired bootstrap of the difference between two runs over the same n
 * queries (run A: golds ga, predictions pa; run B: gb, pb): d[m] = metric m of
 * B minus that of A; lo/hi the percentile interval of level (0.95: the 2.5th
 * and 97.5th percentiles) of the same difference over B resamples, each
 * drawing the same query indices for both runs (seeded). NAN when n == 0;
 * lo/hi NAN when B == 0. */
void metrics_paired_bootstrap(const task *t, const char *const *ga, const char *const *pa,
                              const char *const *gb, const char *const *pb, size_t n, size_t B,
                              uint64_t seed, double level, double d[2], double lo[2],
                              double hi[2]);

/* The task's two metrics in order, by their official keys: ("accuracy", "f1")
 * or ("MAE", "RMSE"); returns 2. */
size_t metrics_names(const task *t, const char **names /* [2] */);
/* Value of metric i (0 or 1) in the metrics_names() order of r's task kind:
 * r->accuracy/r->f1 when those are set, else r->mae/r->rmse. */
double metrics_value(const metrics_result *r, size_t i);
/* 1 when a larger value of metric i is better (accuracy, f1), 0 (MAE, RMSE). */
int metrics_higher_is_better(const task *t, size_t i);

#endif
