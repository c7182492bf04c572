#include "runset.h"

#include <stdlib.h>
#include <string.h>

#include "jsonu.h"

/* The path without trailing slashes, as a new string. */
static char *trimmed(const char *p)
{
    size_t l = strlen(p);
    while (l > 1 && p[l - 1] == '/')
        l--;
    return xstrndup(p, l);
}

/* Where the suffix of p made of its last k components starts. */
static const char *suffix(const char *p, size_t k)
{
    const char *s = p + strlen(p);
    while (k > 0 && s > p) {
        s--;
        if (*s == '/' && --k == 0)
            return s + 1;
    }
    return p;
}

static int ends_with_component(const char *p, const char *suf)
{
    size_t lp = strlen(p), ls = strlen(suf);
    return ls <= lp && strcmp(p + lp - ls, suf) == 0 && (ls == lp || p[lp - ls - 1] == '/');
}

static void make_labels(runset *rs)
{
    char **paths = xcalloc(rs->n ? rs->n : 1, sizeof *paths);
    for (size_t i = 0; i < rs->n; i++)
        paths[i] = trimmed(rs->runs[i].dir);
    for (size_t i = 0; i < rs->n; i++) {
        const char *s = paths[i];
        for (size_t k = 1;; k++) {
            int unique = 1;
            s = suffix(paths[i], k);
            for (size_t j = 0; j < rs->n && unique; j++)
                unique = j == i || strcmp(paths[j], paths[i]) == 0 ||
                         !ends_with_component(paths[j], s);
            if (unique || s == paths[i])
                break;
        }
        rs->runs[i].label = xstrdup(s);
    }
    for (size_t i = 0; i < rs->n; i++)
        free(paths[i]);
    free(paths);
}

int runset_load(runset *rs, const char *const *dirs, size_t n, pe_err *e)
{
    size_t total = 0, k = 0;
    int rc;
    memset(rs, 0, sizeof *rs);
    rs->runs = xcalloc(n ? n : 1, sizeof *rs->runs);
    for (; rs->n < n; rs->n++) {
        runset_run *r = &rs->runs[rs->n];
        r->dir = dirs[rs->n];
        if ((rc = report_read_summary(r->dir, &r->t, &r->s, &r->n, e)))
            return rc;
        {
            pe_err ignored = {0};
            cJSON *run;
            if (report_read_json(r->dir, "run.json", 0, &run, &ignored) == 0) {
                r->has_run = 1;
                const cJSON *llm = cJSON_GetObjectItemCaseSensitive(run, "llm");
                if (jsonu_str(llm, "model"))
                    r->model = xstrdup(jsonu_str(llm, "model"));
                if (jsonu_str(llm, "backend"))
                    r->backend = xstrdup(jsonu_str(llm, "backend"));
            }
            cJSON_Delete(run);
        }
        total += r->n;
    }
    make_labels(rs);
    rs->rows = xcalloc(total ? total : 1, sizeof *rs->rows);
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i; j++)
            seen |= rs->runs[j].t == rs->runs[i].t;
        if (seen)
            continue;
        for (size_t j = i; j < n; j++)
            if (rs->runs[j].t == rs->runs[i].t)
                for (size_t m = 0; m < rs->runs[j].n; m++) {
                    rs->rows[k].run = rs->runs[j].label;
                    rs->rows[k].t = rs->runs[j].t;
                    rs->rows[k++].s = &rs->runs[j].s[m];
                }
    }
    rs->nrows = k;
    return 0;
}

void runset_free(runset *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        report_free_summaries(rs->runs[i].s, rs->runs[i].n);
        free(rs->runs[i].label);
        free(rs->runs[i].model);
        free(rs->runs[i].backend);
    }
    free(rs->runs);
    free(rs->rows);
    memset(rs, 0, sizeof *rs);
}

size_t runset_task_end(const runset *rs, size_t i)
{
    size_t j = i + 1;
    while (j < rs->nrows && rs->rows[j].t == rs->rows[i].t)
        j++;
    return j;
}

void runset_describe(const runset *rs, buf *out)
{
    for (size_t i = 0; i < rs->n; i++) {
        const runset_run *r = &rs->runs[i];
        buf_printf(out, "- %s: %s, ", r->label, r->dir);
        if (r->backend && strcmp(r->backend, "offline") == 0)
            buf_adds(out, "answered by the offline responder (not a language model)\n");
        else if (r->model)
            buf_printf(out, "model %s (%s)\n", r->model, r->backend ? r->backend : "?");
        else
            buf_adds(out, r->has_run ? "no model recorded (no method called one)\n"
                                     : "model unknown (no run.json)\n");
    }
}
