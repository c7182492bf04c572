#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Scores of one sample, prepared once so that the bootstrap can resample
 * indices without parsing strings again. */
typedef struct prepared {
    const task *t;
    size_t n, invalid;
    int *gold_ix, *pred_ix; /* classification: label index or -1 */
    double *diff;           /* rating: prediction - gold */
} prepared;

/* The official create_mapping: all_labels.index(x), -1 when absent. */
static int label_index(const task *t, const char *s)
{
    size_t len;
    const char *p = pe_strip_span(s, &len);
    for (size_t k = 0; k < t->nlabels; k++)
        if (strlen(t->labels[k]) == len && memcmp(t->labels[k], p, len) == 0)
            return (int)k;
    return -1;
}

int metrics_parse_rating(const char *s, double *v)
{
    size_t len;
    const char *p = pe_strip_span(s, &len);
    char *c = xstrndup(p, len);
    /* float("inf") and float("nan") succeed in Python, but LaMP's scorer then
     * hands them to sklearn, which rejects non-finite input: a rating that is
     * not a finite number is no rating */
    int ok = pe_parse_pyfloat(c, v) && isfinite(*v);
    free(c);
    return ok;
}

static void prepare(const task *t, const char *const *golds, const char *const *preds, size_t n,
                    prepared *p)
{
    memset(p, 0, sizeof *p);
    p->t = t;
    p->n = n;
    if (t->rating) {
        p->diff = xmalloc((n ? n : 1) * sizeof *p->diff);
        for (size_t i = 0; i < n; i++) {
            double g, v;
            if (!metrics_parse_rating(golds[i], &g))
                g = NAN;
            if (!metrics_parse_rating(preds[i], &v)) {
                p->invalid++;
                v = fabs(1.0 - g) > fabs(5.0 - g) ? 1.0 : 5.0;
            }
            p->diff[i] = v - g;
        }
        return;
    }
    p->gold_ix = xmalloc((n ? n : 1) * sizeof *p->gold_ix);
    p->pred_ix = xmalloc((n ? n : 1) * sizeof *p->pred_ix);
    for (size_t i = 0; i < n; i++) {
        p->gold_ix[i] = label_index(t, golds[i]);
        p->pred_ix[i] = label_index(t, preds[i]);
        if (p->pred_ix[i] < 0)
            p->invalid++;
    }
}

static void prepared_free(prepared *p)
{
    free(p->gold_ix);
    free(p->pred_ix);
    free(p->diff);
}

/* numpy's pairwise summation (pairwise_sum_DOUBLE), which np.mean uses on a
 * contiguous array: the order decides the last bits of the result. */
static double pairwise_sum(const double *a, size_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (size_t i = 0; i < n; i++)
            res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8], res;
        size_t i;
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        for (i = 8; i < n - n % 8; i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

static void result_init(metrics_result *r, size_t n, size_t invalid)
{
    r->n = n;
    r->invalid = invalid;
    r->accuracy = r->f1 = r->mae = r->rmse = NAN;
}

/* Metrics of the sample p, or of its resample idx[0..n) when idx is non-NULL.
 * scratch holds max(n, 3 * nlabels) doubles. */
static void score(const prepared *p, const size_t *idx, double *scratch, metrics_result *r)
{
    size_t n = p->n;
    result_init(r, n, p->invalid);
    if (n == 0)
        return;
    if (p->t->rating) {
        double s;
        for (size_t i = 0; i < n; i++)
            scratch[i] = fabs(p->diff[idx ? idx[i] : i]);
        r->mae = pairwise_sum(scratch, n) / (double)n;
        for (size_t i = 0; i < n; i++) {
            s = p->diff[idx ? idx[i] : i];
            scratch[i] = s * s;
        }
        r->rmse = sqrt(pairwise_sum(scratch, n) / (double)n);
        return;
    }
    size_t K = p->t->nlabels, correct = 0;
    double *tp = scratch, *fp = scratch + K, *fn = scratch + 2 * K;
    memset(scratch, 0, 3 * K * sizeof *scratch);
    for (size_t i = 0; i < n; i++) {
        size_t j = idx ? idx[i] : i;
        int g = p->gold_ix[j], q = p->pred_ix[j];
        if (g == q) {
            correct++;
            if (g >= 0)
                tp[g] += 1;
            continue;
        }
        if (g >= 0)
            fn[g] += 1;
        if (q >= 0)
            fp[q] += 1;
    }
    r->accuracy = (double)correct / (double)n;
    /* per-label F1 into tp[] (sklearn: 2TP / (2TP + FP + FN), 0 when that is 0/0) */
    for (size_t k = 0; k < K; k++) {
        double den = 2.0 * tp[k] + fp[k] + fn[k];
        tp[k] = den > 0 ? 2.0 * tp[k] / den : 0.0;
    }
    r->f1 = pairwise_sum(tp, K) / (double)K;
}

static size_t scratch_len(const prepared *p)
{
    size_t k = 3 * p->t->nlabels;
    return p->n > k ? p->n : k;
}

void metrics_compute(const task *t, const char *const *golds, const char *const *preds, size_t n,
                     metrics_result *r)
{
    prepared p;
    double *scratch;
    prepare(t, golds, preds, n, &p);
    scratch = xmalloc(scratch_len(&p) * sizeof *scratch);
    score(&p, NULL, scratch, r);
    free(scratch);
    prepared_free(&p);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y); /* NaN last */
    return (x > y) - (x < y);
}

/* Percentile q (0..1) of sorted a[0..n), linear interpolation between ranks. */
static double percentile(const double *a, size_t n, double q)
{
    double pos = q * (double)(n - 1), f = floor(pos);
    size_t i = (size_t)f;
    if (i + 1 >= n)
        return a[n - 1];
    return a[i] + (a[i + 1] - a[i]) * (pos - f);
}

static void set_metric(metrics_result *r, int rating, size_t i, double v)
{
    if (rating)
        *(i == 0 ? &r->mae : &r->rmse) = v;
    else
        *(i == 0 ? &r->accuracy : &r->f1) = v;
}

/* The percentiles qlo and qhi (0..1) over B resamples of the n queries
 * (seeded): of a's metrics, or, with b, of b's minus a's on the same
 * resampled queries (the pairing). */
static void resample(const prepared *a, const prepared *b, size_t B, uint64_t seed, double qlo,
                     double qhi, double *scratch, double lo[2], double hi[2])
{
    size_t n = a->n, *idx = xmalloc(n * sizeof *idx);
    double *vals[2] = {xmalloc(B * sizeof(double)), xmalloc(B * sizeof(double))};
    metrics_result ra, rb;
    pe_rng rng;
    pe_rng_seed(&rng, seed);
    for (size_t k = 0; k < B; k++) {
        if (pe_interrupted(NULL, NULL)) { /* the caller reports it; the numbers are void */
            lo[0] = lo[1] = hi[0] = hi[1] = NAN;
            free(vals[0]);
            free(vals[1]);
            free(idx);
            return;
        }
        for (size_t i = 0; i < n; i++)
            idx[i] = (size_t)pe_rng_below(&rng, n);
        score(a, idx, scratch, &ra);
        if (b)
            score(b, idx, scratch, &rb);
        for (size_t m = 0; m < 2; m++)
            vals[m][k] = b ? metrics_value(&rb, m) - metrics_value(&ra, m) : metrics_value(&ra, m);
    }
    for (size_t m = 0; m < 2; m++) {
        qsort(vals[m], B, sizeof(double), cmp_double);
        lo[m] = percentile(vals[m], B, qlo);
        hi[m] = percentile(vals[m], B, qhi);
        free(vals[m]);
    }
    free(idx);
}

void metrics_bootstrap(const task *t, const char *const *golds, const char *const *preds, size_t n,
                       size_t B, uint64_t seed, metrics_result *lo, metrics_result *hi)
{
    prepared p;
    double *scratch, l[2], h[2];

    prepare(t, golds, preds, n, &p);
    result_init(lo, n, p.invalid);
    result_init(hi, n, p.invalid);
    if (B > 0 && n > 0) {
        scratch = xmalloc(scratch_len(&p) * sizeof *scratch);
        resample(&p, NULL, B, seed, 0.025, 0.975, scratch, l, h);
        for (size_t m = 0; m < 2; m++) {
            set_metric(lo, t->rating, m, l[m]);
            set_metric(hi, t->rating, m, h[m]);
        }
        free(scratch);
    }
    prepared_free(&p);
}

void metrics_paired_bootstrap(const task *t, const char *const *ga, const char *const *pa,
                              const char *const *gb, const char *const *pb, size_t n, size_t B,
                              uint64_t seed, double level, double d[2], double lo[2],
                              double hi[2])
{
    prepared a, b;
    double *scratch;
    metrics_result ra, rb;

    for (size_t m = 0; m < 2; m++)
        d[m] = lo[m] = hi[m] = NAN;
    if (n == 0)
        return;
    prepare(t, ga, pa, n, &a);
    prepare(t, gb, pb, n, &b);
    scratch = xmalloc(scratch_len(&a) * sizeof *scratch);
    score(&a, NULL, scratch, &ra);
    score(&b, NULL, scratch, &rb);
    for (size_t m = 0; m < 2; m++)
        d[m] = metrics_value(&rb, m) - metrics_value(&ra, m);
    if (B > 0)
        resample(&a, &b, B, seed, (1 - level) / 2, 1 - (1 - level) / 2, scratch, lo, hi);
    free(scratch);
    prepared_free(&a);
    prepared_free(&b);
}

size_t metrics_names(const task *t, const char **names)
{
    names[0] = t->rating ? "MAE" : "accuracy";
    names[1] = t->rating ? "RMSE" : "f1";
    return 2;
}

double metrics_value(const metrics_result *r, size_t i)
{
    if (!isnan(r->accuracy) || !isnan(r->f1))
        return i == 0 ? r->accuracy : r->f1;
    return i == 0 ? r->mae : r->rmse;
}

int metrics_higher_is_better(const task *t, size_t i)
{
    (void)i;
    return !t->rating;
}
