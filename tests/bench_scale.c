/* bench_scale: a whole run at scale, side by side in one process: `persona-eval
 * run --method user-majority --llm offline` on 20k and 200k users with 2
 * history items and 1 query each (generated in a temporary folder, deleted
 * after). The time of 200k over the time of 20k shows how the run grows with
 * users (10 is linear; the target is at most 15); peak RSS per user beside it.
 * Printed, never asserted. BENCH_SCALE_USERS=N adds a run of N users (for a
 * measurement by hand at 10^6). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"
#include "util.h"

static void generate(const char *path, size_t users)
{
    static const char *const cats[] = {"sports", "politics", "crime"};
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    for (size_t u = 0; u < users; u++)
        fprintf(f,
                "{\"user\": \"u%07zu\", \"history\": [{\"id\": \"a%zu\", \"title\": \"t\", "
                "\"text\": \"a b c\", \"category\": \"sports\"}, {\"id\": \"b%zu\", \"title\": "
                "\"t\", \"text\": \"d e\", \"category\": \"politics\"}], \"queries\": [{\"id\": "
                "\"q%zu\", \"input\": \"article: x y\", \"gold\": \"%s\"}]}\n",
                u, u, u, u, cats[u % 3]);
    if (fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* Seconds of one run over `users` users; peak RSS in *rss_kb. */
static double run_users(const char *bin, const char *dir, size_t users, long *rss_kb)
{
    char *data = xasprintf("%s/users-%zu.jsonl", dir, users);
    char *out = xasprintf("%s/run-%zu", dir, users);
    char *argv[] = {(char *)bin, "run",     "--task",  "lamp2n", "--data",      data,
                    "--method",  "user-majority",       "--llm", "offline",     "--cache",
                    "off",       "-q",      "--bootstrap", "100", "--out",      out,
                    NULL};
    double t;
    generate(data, users);
    t = tu_run_timed(argv, rss_kb);
    unlink(data);
    tu_rmrf(out);
    free(data);
    free(out);
    return t;
}

int main(void)
{
    const char *bin = getenv("PE_BIN") ? getenv("PE_BIN") : "./persona-eval";
    const char *extra = getenv("BENCH_SCALE_USERS");
    size_t sizes[3] = {20000, 200000, 0}, nsizes = 2;
    double secs[3];
    long rss[3] = {0};
    char *dir = tu_tmpdir();

    if (extra && atol(extra) > 0)
        sizes[nsizes++] = (size_t)atol(extra);
    printf("offline user-majority, 2 history items and 1 query per user\n");
    printf("%10s %9s %12s %14s\n", "users", "seconds", "peak RSS MB", "RSS KB/user");
    for (size_t i = 0; i < nsizes; i++) {
        secs[i] = run_users(bin, dir, sizes[i], &rss[i]);
        if (secs[i] < 0) {
            printf("%10zu  failed\n", sizes[i]);
            continue;
        }
        printf("%10zu %9.2f %12.1f %14.2f\n", sizes[i], secs[i], (double)rss[i] / 1024,
               (double)rss[i] / (double)sizes[i]);
    }
    if (secs[0] > 0 && secs[1] > 0)
        printf("time 200k / time 20k: %.1fx (linear: 10x; target: at most 15x)\n",
               secs[1] / secs[0]);
    tu_rmrf(dir);
    free(dir);
    return 0;
}
