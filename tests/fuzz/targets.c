/* The fuzzing entry points (see targets.h). */
#include "targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "cmd.h"
#include "dataset.h"
#include "http.h"
#include "llm.h"
#include "metrics.h"
#include "report.h"
#include "task.h"
#include "util.h"

static const char *const fz_tasks[4] = {"lamp1", "lamp2m", "lamp2n", "lamp3"};
static const char *const fz_formats[4] = {"auto", "lamp", "grouped", "jsonl"};

int fz_sane_rc(int rc)
{
    return rc == 0 || rc == PE_EXIT_DATA || rc == PE_EXIT_NOINPUT || rc == PE_EXIT_USAGE ||
           rc == PE_EXIT_RUNERRORS;
}

/* A NUL-terminated copy of data. */
static char *fz_copy(const uint8_t *data, size_t size)
{
    char *s = xmalloc(size + 1);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* One folder per process for the files the targets write. */
static char *fz_dir;

static void fz_cleanup(void)
{
    static const char *const names[] = {"golds.json", "preds.json", "predictions.jsonl",
                                        "users.jsonl"};
    if (!fz_dir)
        return;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char *p = xasprintf("%s/%s", fz_dir, names[i]);
        unlink(p);
        free(p);
    }
    rmdir(fz_dir);
    free(fz_dir);
    fz_dir = NULL;
}

static const char *fz_tmpdir(void)
{
    if (!fz_dir) {
        const char *t = getenv("TMPDIR");
        char *d = xasprintf("%s/pe-fuzz-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(d))
            abort();
        fz_dir = d;
        atexit(fz_cleanup);
    }
    return fz_dir;
}

static void fz_write(const char *name, const char *data, size_t len)
{
    char *p = xasprintf("%s/%s", fz_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
        abort();
    free(p);
}

int fz_dataset(const uint8_t *data, size_t size)
{
    const task *t;
    const char *fmt;
    dataset d, back, prep;
    ds_limits lim = ds_limits_default();
    ds_prepare_opts po = {3, -1};
    pe_err e = {0, ""};
    int rc;

    if (size < 2)
        return 0;
    t = task_get(fz_tasks[data[0] % 4]);
    fmt = fz_formats[data[1] % 4];
    lim.max_field_bytes = 4096;
    lim.max_profile_items = 64;
    /* chunks of 8, 64 or 512 bytes as well as the default: elements cross chunk borders */
    lim.chunk_bytes = (data[1] >> 2) % 4 ? (size_t)1 << ((data[1] >> 2) % 4 * 3) : 0;
    rc = dataset_load_mem(&d, t, "fuzz.json", (const char *)data + 2, size - 2, fmt, &lim, &e);
    if (rc)
        return rc;
    /* every query yields a history item; written JSONL reads back the same */
    for (size_t u = 0; u < d.nusers; u++)
        for (size_t q = 0; q < d.users[u].nqueries; q++) {
            ds_item it;
            dataset_query_item(t, &d.users[u].queries[q], &it);
            dataset_query_item_free(&it);
        }
    {
        char *p = xasprintf("%s/users.jsonl", fz_tmpdir());
        const char *paths[1] = {p};
        if (dataset_write_jsonl(&d, p, &e) != 0)
            abort();
        if (dataset_load(&back, t, paths, 1, "jsonl", &e) != 0)
            abort();
        if (back.nusers != d.nusers || dataset_nqueries(&back) != dataset_nqueries(&d))
            abort();
        dataset_free(&back);
        free(p);
    }
    if (dataset_prepare(&d, &po, &prep, &e) == 0)
        dataset_free(&prep);
    dataset_select(&d, NULL, 2, NULL, 0, 1, &e);
    dataset_free(&d);
    return 0;
}

int fz_chat(const uint8_t *data, size_t size)
{
    char *body = xmalloc(size ? size : 1), *msg;
    llm_response r;
    pe_err e = {0, ""};
    int rc;

    if (size)
        memcpy(body, data, size);
    memset(&r, 0, sizeof r);
    rc = llm_parse_chat(body, size, &r, &e);
    llm_response_free(&r);
    msg = http_error_text(body, size);
    free(msg);
    free(body);
    return rc;
}

int fz_react(const uint8_t *data, size_t size)
{
    char *text;
    agent_step s;

    if (size < 1)
        return 0;
    text = fz_copy(data + 1, size - 1);
    memset(&s, 0, sizeof s);
    agent_parse_text(text, data[0] & 1, &s);
    if (s.end > strlen(text))
        abort();
    agent_step_free(&s);
    free(text);
    return 0;
}

/* Score the text's lines pairwise (gold, prediction, gold, ...) with metrics_compute. */
static void fz_metrics(const task *t, char *text)
{
    const char **lines = NULL;
    size_t n = 0, cap = 0;
    metrics_result r;
    double v;

    for (char *s = text, *nl; s; s = nl ? nl + 1 : NULL) {
        nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        lines = xgrow(lines, &cap, n + 1, sizeof *lines);
        lines[n++] = s;
        (void)task_normalize(t, s, 0);
        (void)task_normalize(t, s, 1);
        (void)metrics_parse_rating(s, &v);
    }
    if (n >= 2) {
        const char **g = xmalloc((n / 2) * sizeof *g), **p = xmalloc((n / 2) * sizeof *p);
        for (size_t i = 0; i < n / 2; i++) {
            g[i] = lines[2 * i];
            p[i] = lines[2 * i + 1];
        }
        metrics_compute(t, g, p, n / 2, &r);
        free(g);
        free(p);
    }
    free(lines);
}

int fz_score(const uint8_t *data, size_t size)
{
    const task *t;
    char *text, *sep, *gpath, *ppath;
    int rc, rundir;

    if (size < 2)
        return 0;
    t = task_get(fz_tasks[data[0] % 4]);
    rundir = data[1] & 1;
    text = fz_copy(data + 2, size - 2);
    gpath = xasprintf("%s/golds.json", fz_tmpdir());
    ppath = xasprintf("%s/preds.json", fz_tmpdir());
    if (rundir) {
        char *argv[] = {"score", "--task", (char *)t->name, (char *)fz_tmpdir(), NULL};
        pred_record *recs;
        size_t n, torn;
        pe_err e = {0, ""};
        fz_write("predictions.jsonl", (const char *)data + 2, size - 2);
        rc = cmd_score(4, argv);
        if (report_load_predictions(fz_tmpdir(), &recs, &n, &torn, &e) == 0)
            report_free_predictions(recs, n);
    } else {
        char *argv[] = {"score", "--task", (char *)t->name, "--golds", gpath, "--preds", ppath,
                        NULL};
        const char *ptext;
        sep = strstr(text, "\n--\n");
        ptext = sep ? sep + 4 : "";
        fz_write("golds.json", text, sep ? (size_t)(sep - text) : size - 2);
        fz_write("preds.json", ptext, strlen(ptext));
        rc = cmd_score(7, argv);
    }
    fz_metrics(t, text);
    free(gpath);
    free(ppath);
    free(text);
    return rc;
}
