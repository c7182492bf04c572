/* bench_report: what every step after the answers costs as users grow: the
 * summaries (users.csv, summary.{json,csv,md}) of 20k and 200k users with one
 * query each, read back through the predictions reader, then report.html.
 * The ratio of 200k to 20k shows the growth (10 would be linear); printed,
 * never asserted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_run.h"
#include "report.h"
#include "testutil.h"

static double summarize(size_t users, double *load_s, double *html_s)
{
    char *dir = tu_tmpdir();
    const task *t = task_get("lamp2n");
    const char **order = xmalloc(users * sizeof *order);
    pred_record *recs;
    method_summary *s;
    size_t n, ns, torn;
    report_writer *w;
    summary_opts o = {0};
    pe_err e = {0};
    double t0;

    if (report_open(dir, &w, &e))
        abort();
    for (size_t u = 0; u < users; u++) {
        char user[32], id[32];
        pred_record r;
        memset(&r, 0, sizeof r);
        snprintf(user, sizeof user, "u%07zu", (users * 7919 + u * 104729) % users);
        snprintf(id, sizeof id, "q%zu", u);
        r.user = user;
        r.id = id;
        r.method = "user-majority";
        r.gold = u % 3 ? "sports" : "politics";
        r.raw = r.pred = u % 5 ? "sports" : "crime";
        r.valid = 1;
        r.prompt_tokens = r.completion_tokens = -1;
        r.cost_usd = -1;
        if (report_append_prediction(w, &r, &e))
            abort();
    }
    if (report_close(w, &e))
        abort();
    t0 = pe_now();
    if (report_load_predictions(dir, &recs, &n, &torn, &e))
        abort();
    *load_s = pe_now() - t0;
    for (size_t u = 0; u < n; u++)
        order[u] = recs[n - 1 - u].user; /* the run's user order, not sorted by id */
    o.method_order = (const char *const[]){"user-majority"};
    o.nmethod_order = 1;
    o.user_order = order;
    o.nuser_order = n;
    o.bootstrap = 100;
    o.seed = 1;
    t0 = pe_now();
    if (report_summarize(dir, t, recs, n, &o, &s, &ns, &e))
        abort();
    t0 = pe_now() - t0;
    {
        double h = pe_now();
        if (html_write_run(dir, &e))
            abort();
        *html_s = pe_now() - h;
    }
    report_free_summaries(s, ns);
    report_free_predictions(recs, n);
    free(order);
    tu_rmrf(dir);
    free(dir);
    return t0;
}

int main(void)
{
    static const size_t sizes[2] = {20000, 200000};
    double sum[2], load[2], html[2];
    printf("%10s %12s %12s %12s\n", "users", "read (s)", "summary (s)", "report.html (s)");
    for (size_t i = 0; i < 2; i++) {
        sum[i] = summarize(sizes[i], &load[i], &html[i]);
        printf("%10zu %12.3f %12.3f %12.3f\n", sizes[i], load[i], sum[i], html[i]);
    }
    printf("200k / 20k: read %.1fx, summary %.1fx, report.html %.1fx (10x is linear)\n",
           load[1] / load[0], sum[1] / sum[0], html[1] / html[0]);
    return 0;
}
