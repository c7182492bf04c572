/* score: official-format scoring (golds file + predictions file), or the
 * rescoring of a run directory's predictions.jsonl, per method. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "cli_common.h"
#include "cmd.h"
#include "dataset.h"
#include "jsonu.h"
#include "metrics.h"
#include "report.h"
#include "task.h"
#include "util.h"

#define MAX_LISTED_IDS 10
#define MAX_BOOTSTRAP 10000000UL

static const char usage[] =
    "usage: persona-eval score --task T --golds OUTPUTS.json --preds PREDS.json [options]\n"
    "       persona-eval score [--task T] RUN_DIR [options]\n"
    "\n"
    "Scores predictions with the official LaMP semantics and prints JSON on stdout.\n"
    "The first form reads two files in the official format ({\"task\", \"golds\":[{\"id\",\n"
    "\"output\"}]}) with the same ids and prints the official keys (accuracy and f1, or\n"
    "MAE and RMSE) with n and invalid. The second rescores RUN_DIR/predictions.jsonl per\n"
    "method; the task comes from RUN_DIR/run.json unless --task is given.\n"
    "\n"
    "options:\n"
    "  --task T          lamp1, lamp2m, lamp2n or lamp3 (also LaMP_2M, ...)\n"
    "  --golds FILE      gold outputs in the official format\n"
    "  --preds FILE      predictions in the official format\n"
    "  --bootstrap B     add 95% percentile bootstrap intervals from B resamples (\"ci\")\n"
    "  --seed S          bootstrap seed (default " CLI_STR(PE_SEED_DEFAULT)
    ", as in run and report)\n"
    "  --max-file-bytes N   largest file read (default 4294967296; 0: no limit)\n"
    "  --max-field-bytes N  largest id or output (default 1048576; 0: no limit)\n"
    "  -h, --help        this text\n"
    "\n"
    "exit status: 0 scored, 2 bad command line, 65 bad or mismatched data, 66 missing file\n";

/* A value as the official scorer's str(x) sees it: strings and numbers as
 * text, null as "None". NULL for other types. */
static char *value_text(const cJSON *v)
{
    if (cJSON_IsNull(v))
        return xstrdup("None");
    return jsonu_text(v);
}

static int parse_json(const char *path, const char *data, size_t len, cJSON **out, pe_err *e)
{
    size_t off = 0, line, col;
    *out = jsonu_parse(data, len, &off);
    if (*out)
        return 0;
    jsonu_line_col(data, off, &line, &col);
    return pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: invalid JSON", path, line, col);
}

/* An official {"task", "golds":[{"id","output"}]} file: distinct ids in
 * first-seen order, each with its last output (the official dict). */
typedef struct official {
    char *task; /* NULL when absent */
    char **ids, **outs;
    size_t n;
} official;

static void official_free(official *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->ids[i]);
        free(o->outs[i]);
    }
    free(o->ids);
    free(o->outs);
    free(o->task);
    memset(o, 0, sizeof *o);
}

/* The read error of pe_read_file, naming the flag when the file is over the limit. */
static int read_limited(const char *path, size_t max, char **data, size_t *len, pe_err *e)
{
    int rc = pe_read_file(path, max, data, len, e);
    if (rc == PE_EXIT_DATA)
        pe_errf(e, rc, "%s: file is larger than the limit of %zu bytes (raise it with "
                "--max-file-bytes)", path, max);
    return rc;
}

/* A field over --max-field-bytes. */
static int field_too_long(const char *where, const char *field, const char *s, size_t max,
                          pe_err *e)
{
    size_t n = strlen(s);
    if (!max || n <= max)
        return 0;
    return pe_errf(e, PE_EXIT_DATA, "%s: field \"%s\" is %zu bytes, over the limit of %zu "
                   "(raise it with --max-field-bytes)", where, field, n, max);
}

static int official_load(const char *path, const ds_limits *lim, official *o, pe_err *e)
{
    char *data;
    size_t len, i = 0;
    cJSON *root, *golds, *task_v, *g;
    strmap seen;
    int rc;

    memset(o, 0, sizeof *o);
    if ((rc = read_limited(path, lim->max_file_bytes, &data, &len, e)) != 0)
        return rc;
    rc = parse_json(path, data, len, &root, e);
    free(data);
    if (rc)
        return rc;
    task_v = cJSON_GetObjectItemCaseSensitive(root, "task");
    golds = cJSON_GetObjectItemCaseSensitive(root, "golds");
    if (!cJSON_IsObject(root))
        rc = pe_errf(e, PE_EXIT_DATA, "%s: expected an object {\"task\", \"golds\"}, found %s",
                     path, jsonu_type(root));
    else if (task_v && !cJSON_IsString(task_v))
        rc = pe_errf(e, PE_EXIT_DATA, "%s: field \"task\" must be a string, found %s", path,
                     jsonu_type(task_v));
    else if (!cJSON_IsArray(golds))
        rc = pe_errf(e, PE_EXIT_DATA, "%s: field \"golds\" must be an array, found %s", path,
                     jsonu_type(golds));
    if (rc) {
        cJSON_Delete(root);
        return rc;
    }
    if (task_v)
        o->task = xstrdup(task_v->valuestring);
    size_t cap = (size_t)cJSON_GetArraySize(golds) + 1;
    o->ids = xmalloc(cap * sizeof *o->ids);
    o->outs = xmalloc(cap * sizeof *o->outs);
    strmap_init(&seen, cap);
    cJSON_ArrayForEach(g, golds) {
        const cJSON *idv = cJSON_GetObjectItemCaseSensitive(g, "id");
        const cJSON *outv = cJSON_GetObjectItemCaseSensitive(g, "output");
        char *id = cJSON_IsObject(g) ? jsonu_text(idv) : NULL, *out;
        size_t at;
        if (!cJSON_IsObject(g)) {
            rc = pe_errf(e, PE_EXIT_DATA, "%s: golds[%zu] must be an object, found %s", path, i,
                         jsonu_type(g));
            break;
        }
        if (!id) {
            rc = pe_errf(e, PE_EXIT_DATA, "%s: golds[%zu]: field \"id\" must be a string, found %s",
                         path, i, jsonu_type(idv));
            break;
        }
        if (!outv || !(out = value_text(outv))) {
            rc = pe_errf(e, PE_EXIT_DATA,
                         "%s: golds[%zu] (id \"%s\"): field \"output\" must be a string, found %s",
                         path, i, id, jsonu_type(outv));
            free(id);
            break;
        }
        {
            char *where = xasprintf("%s: golds[%zu]", path, i);
            rc = field_too_long(where, "id", id, lim->max_field_bytes, e);
            if (!rc)
                rc = field_too_long(where, "output", out, lim->max_field_bytes, e);
            free(where);
            if (rc) {
                free(id);
                free(out);
                break;
            }
        }
        at = strmap_get(&seen, id);
        if (at != STRMAP_NONE) {
            free(o->outs[at]);
            o->outs[at] = out;
            free(id);
        } else {
            o->ids[o->n] = id;
            o->outs[o->n] = out;
            strmap_put(&seen, id, o->n++);
        }
        i++;
    }
    strmap_free(&seen);
    cJSON_Delete(root);
    if (rc)
        official_free(o);
    return rc;
}

/* Appends `"a", "b", ...` (at most MAX_LISTED_IDS) of the ids not in other. */
static size_t list_unmatched(buf *b, const official *o, const strmap *other)
{
    size_t count = 0;
    for (size_t i = 0; i < o->n; i++) {
        if (strmap_get(other, o->ids[i]) != STRMAP_NONE)
            continue;
        if (count < MAX_LISTED_IDS) {
            if (count)
                buf_adds(b, ", ");
            buf_json_str(b, o->ids[i]);
        } else if (count == MAX_LISTED_IDS) {
            buf_adds(b, ", ...");
        }
        count++;
    }
    return count;
}

static void put_num(buf *b, double v)
{
    char num[64];
    if (isnan(v)) {
        buf_adds(b, "null");
        return;
    }
    pe_fmt_double(num, sizeof num, v);
    buf_adds(b, num);
}

/* `"accuracy": x, "f1": y` (no leading separator). */
static void put_metrics(buf *b, const task *t, const metrics_result *r)
{
    const char *names[2];
    size_t k = metrics_names(t, names);
    for (size_t i = 0; i < k; i++) {
        buf_printf(b, "%s\"%s\": ", i ? ", " : "", names[i]);
        put_num(b, metrics_value(r, i));
    }
}

/* `, "ci": {"accuracy": [lo, hi], ...}` */
static void put_ci(buf *b, const task *t, const metrics_result *lo, const metrics_result *hi)
{
    const char *names[2];
    size_t k = metrics_names(t, names);
    buf_adds(b, ", \"ci\": {");
    for (size_t i = 0; i < k; i++) {
        buf_printf(b, "%s\"%s\": [", i ? ", " : "", names[i]);
        put_num(b, metrics_value(lo, i));
        buf_adds(b, ", ");
        put_num(b, metrics_value(hi, i));
        buf_adds(b, "]");
    }
    buf_adds(b, "}");
}

/* The members of one score (no leading separator). Official files (errors ==
 * (size_t)-1): the official keys, then n and invalid. Run directories: n,
 * invalid and errors, then the metrics. Then "ci" when B > 0. */
static void score_pairs(buf *b, const task *t, char *const *golds, char *const *preds, size_t n,
                        size_t B, uint64_t seed, size_t errors)
{
    metrics_result r, lo, hi;
    const char *const *g = (const char *const *)golds, *const *p = (const char *const *)preds;
    metrics_compute(t, g, p, n, &r);
    if (errors == (size_t)-1) {
        put_metrics(b, t, &r);
        buf_printf(b, ", \"n\": %zu, \"invalid\": %zu", r.n, r.invalid);
    } else {
        buf_printf(b, "\"n\": %zu, \"invalid\": %zu, \"errors\": %zu, ", r.n, r.invalid, errors);
        put_metrics(b, t, &r);
    }
    if (B) {
        metrics_bootstrap(t, g, p, n, B, seed, &lo, &hi);
        put_ci(b, t, &lo, &hi);
    }
}

/* The official scorer crashes on a rating gold that float() rejects; we stop
 * with a message instead. */
static int check_rating_gold(const task *t, const char *gold, const char *where, pe_err *e)
{
    double v;
    if (!t->rating || metrics_parse_rating(gold, &v))
        return 0;
    return pe_errf(e, PE_EXIT_DATA, "%s: gold \"%s\" is not a number", where, gold);
}

static int score_files(const task *t, const char *golds_path, const char *preds_path, size_t B,
                       uint64_t seed, const ds_limits *lim, buf *out, pe_err *e)
{
    official g, p;
    strmap gmap, pmap;
    char **preds = NULL, why[512];
    int rc;

    if ((rc = official_load(golds_path, lim, &g, e)) != 0)
        return rc;
    if ((rc = official_load(preds_path, lim, &p, e)) != 0) {
        official_free(&g);
        return rc;
    }
    /* both files' task names are read as the golds say (LaMP_2: news or movies) */
    if (g.task && !task_file_matches(t, g.task, (const char *const *)g.outs, g.n, why,
                                     sizeof why))
        rc = pe_errf(e, PE_EXIT_DATA, "%s: field \"task\" %s", golds_path, why);
    else if (p.task && !task_file_matches(t, p.task, (const char *const *)g.outs, g.n, why,
                                          sizeof why))
        rc = pe_errf(e, PE_EXIT_DATA, "%s: field \"task\" %s", preds_path, why);
    strmap_init(&gmap, g.n);
    strmap_init(&pmap, p.n);
    for (size_t i = 0; i < g.n; i++)
        strmap_put(&gmap, g.ids[i], i);
    for (size_t i = 0; i < p.n; i++)
        strmap_put(&pmap, p.ids[i], i);
    if (!rc) {
        buf missing = BUF_INIT, extra = BUF_INIT;
        size_t nm = list_unmatched(&missing, &g, &pmap), ne = list_unmatched(&extra, &p, &gmap);
        if (nm || ne)
            rc = pe_errf(e, PE_EXIT_DATA,
                         "prediction ids do not match gold ids: %zu gold id(s) missing from %s%s%s%s"
                         "; %zu extra id(s) in %s%s%s%s",
                         nm, preds_path, nm ? " (" : "", buf_str(&missing), nm ? ")" : "", ne,
                         preds_path, ne ? " (" : "", buf_str(&extra), ne ? ")" : "");
        buf_free(&missing);
        buf_free(&extra);
    }
    for (size_t i = 0; !rc && i < g.n; i++) {
        char *where = xasprintf("%s: id \"%s\"", golds_path, g.ids[i]);
        rc = check_rating_gold(t, g.outs[i], where, e);
        free(where);
    }
    if (!rc) {
        preds = xmalloc((g.n + 1) * sizeof *preds);
        for (size_t i = 0; i < g.n; i++)
            preds[i] = p.outs[strmap_get(&pmap, g.ids[i])];
        buf_adds(out, "{");
        score_pairs(out, t, g.outs, preds, g.n, B, seed, (size_t)-1);
        buf_adds(out, "}\n");
        rc = pe_interrupted(e, "scoring");
    }
    free(preds);
    strmap_free(&gmap);
    strmap_free(&pmap);
    official_free(&g);
    official_free(&p);
    return rc;
}

/* The task named in RUN_DIR/run.json, or NULL with e set. */
static const task *rundir_task(const char *dir, pe_err *e)
{
    char *path = xasprintf("%s/run.json", dir), *data;
    const char *name;
    const task *t = NULL;
    size_t len;
    cJSON *j = NULL;

    if (pe_read_file(path, 0, &data, &len, e) != 0) {
        pe_err_prefix(e, "no --task given and ");
        free(path);
        return NULL;
    }
    if (parse_json(path, data, len, &j, e) == 0) {
        name = jsonu_str(j, "task");
        if (!name)
            pe_errf(e, PE_EXIT_DATA, "%s: field \"task\" must be a string", path);
        else if (!(t = task_get(name)))
            pe_errf(e, PE_EXIT_DATA, "%s: unknown task \"%s\" (known: %s)", path, name,
                    task_names());
    }
    cJSON_Delete(j);
    free(data);
    free(path);
    return t;
}

/* Methods in the order of their first kept record. */
static size_t method_list(const pred_record *r, size_t n, const char ***out)
{
    const char **m = xmalloc((n ? n : 1) * sizeof *m);
    size_t nm = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < nm && strcmp(m[k], r[i].method) != 0)
            k++;
        if (k == nm)
            m[nm++] = r[i].method;
    }
    *out = m;
    return nm;
}

static int score_rundir(const task *t, const char *dir, size_t B, uint64_t seed,
                        const ds_limits *lim, buf *out, pe_err *e)
{
    char *path = xasprintf("%s/predictions.jsonl", dir);
    char **golds, **preds;
    const char **methods = NULL;
    pred_record *r;
    size_t n, torn, nogold = 0, nm;
    int rc = report_read_predictions(path, lim->max_file_bytes, &r, &n, &torn, e);

    for (size_t i = 0; !rc && i < n; i++)
        if (!r[i].error && r[i].gold) {
            char *where = xasprintf("%s: user \"%s\", id \"%s\"", path, r[i].user, r[i].id);
            rc = check_rating_gold(t, r[i].gold, where, e);
            free(where);
        }
    if (rc) {
        if (n)
            report_free_predictions(r, n);
        free(path);
        return rc;
    }
    if (torn)
        fprintf(stderr, "persona-eval score: warning: %s: ignoring the torn last line (no "
                "newline at its end)\n", path);
    nm = method_list(r, n, &methods);
    golds = xmalloc((n + 1) * sizeof *golds);
    preds = xmalloc((n + 1) * sizeof *preds);
    buf_adds(out, "{\"task\": ");
    buf_json_str(out, t->name);
    buf_adds(out, ", \"methods\": [");
    for (size_t m = 0; m < nm; m++) {
        size_t k = 0, errors = 0;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(r[i].method, methods[m]) != 0)
                continue;
            if (r[i].error)
                errors++;
            else if (!r[i].gold)
                nogold++;
            else
                golds[k] = r[i].gold, preds[k++] = r[i].pred;
        }
        buf_adds(out, m ? ", {\"method\": " : "{\"method\": ");
        buf_json_str(out, methods[m]);
        buf_adds(out, ", ");
        score_pairs(out, t, golds, preds, k, B, seed, errors);
        buf_adds(out, "}");
    }
    buf_adds(out, "]}\n");
    if (nogold)
        fprintf(stderr, "persona-eval score: warning: %s: %zu prediction(s) without a gold were "
                "not scored\n", path, nogold);
    free(golds);
    free(preds);
    free(methods);
    free(path);
    report_free_predictions(r, n);
    return pe_interrupted(e, "scoring");
}

int cmd_score(int argc, char **argv)
{
    static const struct option opts[] = {
        {"task", required_argument, NULL, 't'},    {"golds", required_argument, NULL, 'g'},
        {"preds", required_argument, NULL, 'p'},   {"bootstrap", required_argument, NULL, 'B'},
        {"seed", required_argument, NULL, 's'},    {"help", no_argument, NULL, 'h'},
        {"max-file-bytes", required_argument, NULL, 'F'},
        {"max-field-bytes", required_argument, NULL, 'L'},
        {NULL, 0, NULL, 0}};
    const char *task_name = NULL, *golds = NULL, *preds = NULL, *dir = NULL;
    unsigned long long B = 0, seed = PE_SEED_DEFAULT, lv;
    ds_limits lim = ds_limits_default();
    const task *t = NULL;
    pe_err e = {0, ""};
    buf out = BUF_INIT;
    int c, rc;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 't': task_name = optarg; break;
        case 'g': golds = optarg; break;
        case 'p': preds = optarg; break;
        case 'B':
            if (pe_parse_count_max("--bootstrap", optarg, 0, MAX_BOOTSTRAP, &B, &e))
                goto usage;
            break;
        case 's':
            if (pe_parse_count_max("--seed", optarg, 0, UINT64_MAX, &seed, &e))
                goto usage;
            break;
        case 'F': case 'L':
            if (pe_parse_count_max(c == 'F' ? "--max-file-bytes" : "--max-field-bytes", optarg,
                                   0, SIZE_MAX, &lv, &e))
                goto usage;
            *(c == 'F' ? &lim.max_file_bytes : &lim.max_field_bytes) = (size_t)lv;
            break;
        case 'h': fputs(usage, stdout); return PE_OK;
        default:
            cli_getopt_error(argc, argv, c, opts, &e);
            goto usage;
        }
    }
    if (optind < argc)
        dir = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "persona-eval score: unexpected argument \"%s\" (see --help)\n",
                argv[optind]);
        return PE_EXIT_USAGE;
    }
    if (dir ? golds || preds : !golds || !preds) {
        fprintf(stderr, "persona-eval score: give either --golds and --preds, or a run "
                "directory (see --help)\n");
        return PE_EXIT_USAGE;
    }
    if (task_name && !(t = task_get(task_name))) {
        cli_unknown_task(task_name, &e);
        goto usage;
    }
    if (!t && !dir) {
        fprintf(stderr, "persona-eval score: --task is required with --golds/--preds\n");
        return PE_EXIT_USAGE;
    }
    if (!t && !(t = rundir_task(dir, &e))) {
        fprintf(stderr, "persona-eval score: %s\n", e.msg);
        return e.code;
    }
    rc = dir ? score_rundir(t, dir, (size_t)B, seed, &lim, &out, &e)
             : score_files(t, golds, preds, (size_t)B, seed, &lim, &out, &e);
    if (rc) {
        fprintf(stderr, "persona-eval score: %s\n", e.msg);
    } else {
        fputs(buf_str(&out), stdout);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "persona-eval score: writing the result failed\n");
            rc = PE_EXIT_IO;
        }
    }
    buf_free(&out);
    return rc;
usage:
    fprintf(stderr, "persona-eval score: %s\n", e.msg);
    return e.code;
}
