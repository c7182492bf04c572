#include "knn.h"

#include <math.h>
#include <stdlib.h>

#include "util.h"

/* Similarity weights: negative or non-finite similarities count 0; when
 * nothing positive remains, every hit counts 1 (unweighted vote). ok[i]
 * marks hits whose label takes part. */
static void weights(const topk_hit *hits, size_t n, const int *ok, double *w)
{
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        double s = hits[i].score;
        w[i] = ok[i] && isfinite(s) && s > 0 ? s : 0;
        total += w[i];
    }
    if (total <= 0)
        for (size_t i = 0; i < n; i++)
            w[i] = ok[i] ? 1 : 0;
}

static char *vote_rating(const task *t, const char *const *labels, const topk_hit *hits,
                         size_t n, int *ok, double *w)
{
    double *r = xcalloc(n ? n : 1, sizeof *r), sw = 0, swr = 0, mean;
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        const char *l = labels[hits[i].index];
        ok[i] = l && pe_parse_pyfloat(l, &r[i]) && isfinite(r[i]);
        any |= ok[i];
    }
    weights(hits, n, ok, w);
    for (size_t i = 0; i < n; i++) {
        sw += w[i];
        swr += w[i] * (ok[i] ? r[i] : 0);
    }
    free(r);
    if (!any)
        return xstrdup(t->labels[0]);
    mean = floor(swr / sw + 0.5);
    if (mean < 1)
        mean = 1;
    if (mean > 5)
        mean = 5;
    return xasprintf("%d", (int)mean);
}

static char *vote_label(const task *t, const char *const *labels, const topk_hit *hits,
                        size_t n, int *ok, double *w)
{
    double *votes = xcalloc(t->nlabels, sizeof *votes);
    int *li = xcalloc(n ? n : 1, sizeof *li);
    size_t best = 0;
    for (size_t i = 0; i < n; i++) {
        li[i] = task_label_index(t, labels[hits[i].index]);
        ok[i] = li[i] >= 0;
    }
    weights(hits, n, ok, w);
    for (size_t i = 0; i < n; i++)
        if (ok[i])
            votes[li[i]] += w[i];
    /* strict > keeps the earlier label of the list on a tie */
    for (size_t j = 1; j < t->nlabels; j++)
        if (votes[j] > votes[best])
            best = j;
    free(votes);
    free(li);
    return xstrdup(t->labels[best]);
}

char *knn_vote(const task *t, const char *const *labels, const topk_hit *hits, size_t n)
{
    int *ok;
    double *w;
    char *res;
    if (t->id == TASK_LAMP1 || n == 0)
        return xstrdup(t->labels[0]);
    ok = xcalloc(n, sizeof *ok);
    w = xcalloc(n, sizeof *w);
    res = t->rating ? vote_rating(t, labels, hits, n, ok, w) : vote_label(t, labels, hits, n, ok, w);
    free(ok);
    free(w);
    return res;
}

static double mean_score(const topk_hit *h, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += h[i].score;
    return n ? s / (double)n : 0;
}

static int predict_lamp1(const memory *m, const task *t, const char *input, size_t k,
                         const topk_filter *f, char **label, pe_err *e)
{
    char *title, *refs[2];
    topk_filter fs[2];
    topk_hit *hits;
    size_t counts[2] = {0, 0};
    int rc;

    if (task_lamp1_parse(input, &title, &refs[0], &refs[1]) != 0)
        return pe_errf(e, PE_EXIT_DATA,
                       "user \"%s\": lamp1 input has no title and two quoted references",
                       m->user);
    fs[0] = fs[1] = f ? *f : TOPK_FILTER_ALL;
    hits = xcalloc(2 * (k ? k : 1), sizeof *hits);
    rc = memory_search_batch(m, (const char *const *)refs, 2, k, fs, hits, counts, e);
    if (rc == 0)
        *label = xstrdup(t->labels[mean_score(hits + k, counts[1]) >
                                           mean_score(hits, counts[0])
                                       ? 1
                                       : 0]);
    free(hits);
    free(title);
    free(refs[0]);
    free(refs[1]);
    return rc;
}

int knn_predict(const memory *m, const task *t, const char *input, size_t k,
                const topk_filter *f, char **label, pe_err *e)
{
    char *q;
    topk_hit *hits;
    size_t n;
    int rc;

    *label = NULL;
    if (t->id == TASK_LAMP1)
        return predict_lamp1(m, t, input, k, f, label, e);
    q = task_query_text(t, input);
    hits = xcalloc(k ? k : 1, sizeof *hits);
    rc = memory_search(m, q, k, f, hits, &n, e);
    if (rc == 0)
        *label = knn_vote(t, (const char *const *)m->labels, hits, n);
    free(hits);
    free(q);
    return rc;
}
