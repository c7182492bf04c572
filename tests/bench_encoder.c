/* bench_encoder: documents/s and MB/s of building users' exact lexical
 * indexes (bm25 and tfidf, what memory_build() does) and of scoring, one
 * thread, on two corpora: the history item texts of the bundled samples
 * (data/sample/<task>.jsonl, repeated until each measurement takes a while)
 * and ~100 MB of generated text split into users of 100 documents. Columns:
 *   build         lexical_build() (tokens, vocabulary, postings, weights)
 *   query         lexical_scores() of every document's text against its
 *                 user's index (every item scored)
 * Times are the thread's CPU time, so the rates are per core and do not
 * count time the (shared) machine gave to other processes; each figure is
 * the best of a few passes (neighbours on a shared machine only slow a
 * pass down). Peak RSS
 * (getrusage) closes the table. Printed, never asserted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "buf.h"
#include "dataset.h"
#include "lexical.h"
#include "task.h"
#include "util.h"

#define TOTAL_BYTES ((size_t)100 << 20)
#define DOCS_PER_USER 100
#define SAMPLE_MIN_BYTES ((size_t)20 << 20) /* bytes processed per sample measurement */

/* A corpus: documents grouped into users (user u is docs[start[u] .. start[u+1]]). */
typedef struct corpus {
    char **docs;
    size_t n, cap, bytes;
    size_t *start;
    size_t nusers, ucap;
} corpus;

static void add_doc(corpus *c, char *doc)
{
    c->docs = xgrow(c->docs, &c->cap, c->n + 1, sizeof *c->docs);
    c->docs[c->n++] = doc;
    c->bytes += strlen(doc);
}

static void end_user(corpus *c)
{
    if (!c->nusers) {
        c->start = xgrow(c->start, &c->ucap, 1, sizeof *c->start);
        c->start[0] = 0;
    }
    c->start = xgrow(c->start, &c->ucap, c->nusers + 2, sizeof *c->start);
    c->start[++c->nusers] = c->n;
}

static char *gen_doc(pe_rng *g)
{
    static const char *extra[] = {"caf\xc3\xa9", "na\xc3\xafve", "\xc3\x89t\xc3\xa9", "r\xc3\xb4le",
                                  "don't", "well-known", "U.S.", "(2014)"};
    size_t words = 40 + (size_t)pe_rng_below(g, 160);
    buf b = BUF_INIT;
    for (size_t i = 0; i < words; i++) {
        uint64_t c = pe_rng_below(g, 100);
        if (i)
            buf_addc(&b, ' ');
        if (c < 3)
            buf_adds(&b, extra[pe_rng_below(g, 8)]);
        else if (c < 6)
            buf_printf(&b, "Word%u,", (unsigned)pe_rng_below(g, 5000));
        else
            buf_printf(&b, "w%u", (unsigned)pe_rng_below(g, pe_rng_below(g, 20000) + 1));
    }
    return buf_detach(&b);
}

static void gen_corpus(corpus *c)
{
    pe_rng g;
    pe_rng_seed(&g, 42);
    while (c->bytes < TOTAL_BYTES) {
        add_doc(c, gen_doc(&g));
        if (c->n % DOCS_PER_USER == 0)
            end_user(c);
    }
    if (c->start[c->nusers] != c->n)
        end_user(c);
}

/* Every sample user's history texts, as memory_build() forms them. */
static int sample_corpus(corpus *c)
{
    static const char *tasks[] = {"lamp1", "lamp2m", "lamp2n", "lamp3"};
    for (size_t k = 0; k < 4; k++) {
        const task *t = task_get(tasks[k]);
        char *path = xasprintf("data/sample/%s.jsonl", tasks[k]);
        const char *paths[] = {path};
        dataset d;
        pe_err e = {0};
        if (dataset_load(&d, t, paths, 1, "jsonl", &e) != 0) {
            fprintf(stderr, "bench_encoder: %s\n", e.msg);
            free(path);
            return -1;
        }
        for (size_t u = 0; u < d.nusers; u++) {
            for (size_t i = 0; i < d.users[u].nitems; i++) {
                const ds_item *it = &d.users[u].items[i];
                const char *fv[2] = {it->field[0] ? it->field[0] : "",
                                     it->field[1] ? it->field[1] : ""};
                add_doc(c, task_item_text(t, fv));
            }
            end_user(c);
        }
        dataset_free(&d);
        free(path);
    }
    return 0;
}

static void corpus_free(corpus *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->docs[i]);
    free(c->docs);
    free(c->start);
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum { M_BUILD, M_QUERY, M_COUNT };

/* Seconds of each measurement over the whole corpus, repeated reps times:
 * the fastest of passes such runs. Queries: every document's text against
 * its own user's index. */
static int run(const corpus *c, encoder_kind kind, size_t reps, size_t passes,
               double best[M_COUNT])
{
    encoder_opts o = {.kind = kind};
    size_t maxu = 0;
    double *scores;
    for (size_t u = 0; u < c->nusers; u++)
        if (c->start[u + 1] - c->start[u] > maxu)
            maxu = c->start[u + 1] - c->start[u];
    scores = xmalloc((maxu ? maxu : 1) * sizeof *scores);
    for (size_t p = 0; p < passes; p++) {
        double secs[M_COUNT] = {0};
        for (size_t r = 0; r < reps; r++) {
            for (size_t u = 0; u < c->nusers; u++) {
                size_t m = c->start[u + 1] - c->start[u];
                const char *const *d = (const char *const *)c->docs + c->start[u];
                lexical *lx;
                pe_err e = {0};
                double t0 = cpu_now(), t1, t2;
                int rc = lexical_build(&o, d, m, &lx, &e);
                t1 = cpu_now();
                for (size_t i = 0; rc == 0 && i < m; i++)
                    rc = lexical_scores(lx, d[i], LEXICAL_ALL, scores, &e);
                t2 = cpu_now();
                if (rc != 0) {
                    fprintf(stderr, "bench_encoder: %s\n", e.msg);
                    free(scores);
                    return -1;
                }
                lexical_free(lx);
                secs[M_BUILD] += t1 - t0;
                secs[M_QUERY] += t2 - t1;
            }
        }
        for (size_t k = 0; k < M_COUNT; k++)
            if (p == 0 || secs[k] < best[k])
                best[k] = secs[k];
    }
    free(scores);
    return 0;
}

static int table(const char *name, const corpus *c, size_t reps, size_t passes)
{
    static const encoder_kind kinds[] = {ENCODER_BM25, ENCODER_TFIDF};
    double docs = (double)c->n * (double)reps, mb = (double)c->bytes * (double)reps / 1e6;
    printf("%s: %zu users, %zu documents, %.2f MB\n  x %zu per measurement, best of %zu, "
           "one thread, CPU time\n",
           name, c->nusers, c->n, (double)c->bytes / 1e6, reps, passes);
    printf("  %-6s %12s %12s %12s %12s\n", "kind", "build MB/s", "build d/s", "query MB/s",
           "queries/s");
    for (size_t k = 0; k < 2; k++) {
        double s[M_COUNT];
        if (run(c, kinds[k], reps, passes, s) != 0)
            return -1;
        printf("  %-6s %12.1f %12.0f %12.1f %12.0f\n", encoder_kind_name(kinds[k]),
               mb / s[M_BUILD], docs / s[M_BUILD], mb / s[M_QUERY], docs / s[M_QUERY]);
    }
    printf("\n");
    return 0;
}

int main(void)
{
    corpus sample = {0}, big = {0};
    struct rusage ru;
    int rc = 0;

    if (sample_corpus(&sample) != 0)
        return 1;
    if (sample.bytes)
        rc = table("sample history texts (data/sample/*.jsonl)", &sample,
                   SAMPLE_MIN_BYTES / sample.bytes + 1, 3);
    corpus_free(&sample);
    gen_corpus(&big);
    if (rc == 0)
        rc = table("generated corpus", &big, 1, 2);
    corpus_free(&big);
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %.1f MB (the generated corpus itself is ~%d MB)\n",
           (double)ru.ru_maxrss / 1024.0, (int)(TOTAL_BYTES >> 20));
    return rc ? 1 : 0;
}
