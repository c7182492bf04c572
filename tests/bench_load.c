/* bench_load: loading a generated LaMP-2N official questions file of over 200 MB
 * (1,500 users x 300 profile items of about 90 words), side by side with Python's
 * json.load of the same file, and the peak memory of `persona-eval prepare` on it
 * relative to the file size. Numbers are printed, never asserted.
 * BENCH_LOAD_USERS / BENCH_LOAD_ITEMS change the size; BENCH_LOAD_KEEP=1 keeps the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "dataset.h"
#include "testutil.h"
#include "util.h"

static const char *const cats[] = {"women", "religion", "politics", "style & beauty",
                                   "entertainment", "culture & arts", "sports",
                                   "science & technology", "travel", "business", "crime",
                                   "education", "healthy living", "parents", "food & drink"};

static size_t env_size(const char *name, size_t def)
{
    const char *s = getenv(name);
    return s && atol(s) > 0 ? (size_t)atol(s) : def;
}

static void words(buf *b, pe_rng *r, size_t n)
{
    static const char *const w[] = {"the", "a", "news", "report", "city", "market", "team",
                                    "season", "election", "policy", "health", "study",
                                    "family", "school", "travel", "recipe", "fashion",
                                    "court", "police", "science", "music", "film", "art",
                                    "growth", "vote", "coach", "patients", "students"};
    for (size_t i = 0; i < n; i++) {
        buf_adds(b, i ? " " : "");
        if (pe_rng_below(r, 8) == 0)
            buf_printf(b, "w%llu", (unsigned long long)pe_rng_below(r, 100000));
        else
            buf_adds(b, w[pe_rng_below(r, sizeof w / sizeof *w)]);
    }
}

static size_t generate(const char *path, size_t users, size_t items)
{
    FILE *f = fopen(path, "wb");
    buf b = BUF_INIT;
    pe_rng r;
    size_t total = 0;
    pe_rng_seed(&r, 42);
    if (!f) {
        perror(path);
        exit(1);
    }
    buf_adds(&b, "[");
    for (size_t u = 0; u < users; u++) {
        buf_printf(&b, "%s{\"id\": \"%zu\", \"input\": \"Which category does this article relate "
                       "to among the following categories? article: ", u ? ", " : "", 1000 + u);
        words(&b, &r, 60);
        buf_adds(&b, "\", \"profile\": [");
        for (size_t j = 0; j < items; j++) {
            buf_printf(&b, "%s{\"text\": \"", j ? ", " : "");
            words(&b, &r, 80 + pe_rng_below(&r, 20));
            buf_adds(&b, "\", \"title\": \"");
            words(&b, &r, 8);
            buf_printf(&b, "\", \"category\": \"%s\", \"id\": \"%zu%03zu\", \"date\": \"20%02u-%02u-%02u\"}",
                       cats[pe_rng_below(&r, 15)], 1000 + u, j, (unsigned)(12 + j / 120),
                       (unsigned)(1 + j % 12), (unsigned)(1 + j % 28));
        }
        buf_adds(&b, "]}");
        fwrite(b.data, 1, b.len, f);
        total += b.len;
        buf_reset(&b);
    }
    fputs("]\n", f);
    fclose(f);
    buf_free(&b);
    return total + 2;
}

int main(void)
{
    size_t users = env_size("BENCH_LOAD_USERS", 1500), items = env_size("BENCH_LOAD_ITEMS", 300);
    const char *bin = getenv("PE_BIN") ? getenv("PE_BIN") : "./persona-eval";
    char dir[] = "/tmp/pe-bench-load-XXXXXX", *path, *out, *py;
    double mb, t, best = 1e9, tpy, tprep;
    long rss_py = 0, rss_prep = 0;
    const task *lamp2n = task_get("lamp2n");

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    path = xasprintf("%s/lamp2n_questions.json", dir);
    out = xasprintf("%s/out.jsonl", dir);
    mb = (double)generate(path, users, items) / 1e6;
    printf("file: %zu users x %zu items, %.1f MB\n", users, items, mb);

    /* in-process load, best of 3 (every core parses) */
    for (int rep = 0; rep < 3; rep++) {
        const char *p[1] = {path};
        dataset d;
        pe_err e = {0};
        t = pe_now();
        if (dataset_load(&d, lamp2n, p, 1, "lamp", &e)) {
            fprintf(stderr, "load: %s\n", e.msg);
            return 1;
        }
        t = pe_now() - t;
        dataset_free(&d);
        if (t < best)
            best = t;
    }
    py = xasprintf("import json; json.load(open('%s'))", path);
    {
        char *argv[] = {"python3", "-c", py, NULL};
        tpy = tu_run_timed(argv, &rss_py);
    }
    {
        char *argv[] = {(char *)bin, "prepare", "--task", "lamp2n", "--data", path,
                        "--top-users", "0", "--out", out, NULL};
        tprep = tu_run_timed(argv, &rss_prep);
    }
    printf("%-34s %8s %9s %12s\n", "", "seconds", "MB/s", "peak RSS/file");
    printf("%-34s %8.2f %9.1f %12s\n", "dataset_load (this library)", best, mb / best, "");
    if (tpy > 0)
        printf("%-34s %8.2f %9.1f %11.2fx\n", "python3 json.load", tpy, mb / tpy,
               (double)rss_py * 1024 / 1e6 / mb);
    if (tprep > 0)
        printf("%-34s %8.2f %9.1f %11.2fx\n", "persona-eval prepare --top-users 0", tprep,
               mb / tprep, (double)rss_prep * 1024 / 1e6 / mb);
    if (tpy > 0)
        printf("load speed: %.2fx python's json.load\n", tpy / best);
    unlink(out);
    if (getenv("BENCH_LOAD_KEEP")) { /* for looking at the file afterwards */
        printf("kept %s\n", path);
    } else {
        unlink(path);
        rmdir(dir);
    }
    free(py);
    free(out);
    free(path);
    return 0;
}
