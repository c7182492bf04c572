/* persona-eval merge DIR... --out DIR: join shard run directories into one run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli_common.h"
#include "cmd.h"
#include "jsonu.h"
#include "report.h"
#include "run_config.h"
#include "settings.h"
#include "shard.h"

typedef struct part {
    cJSON *run;
    shard_part sp;
    const char **users;
    size_t *positions;
} part;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: persona-eval merge DIR... --out DIR [--allow-incomplete] [-q]\n"
        "\n"
        "Joins the run directories of the shards of one run (--shard i/N) into one run\n"
        "directory and rescores it: the summary equals that of an unsharded run. The\n"
        "shards must share one configuration (config_hash) and hold every user once.\n"
        "A shard that was interrupted (incomplete) stops the merge with exit 5 and\n"
        "nothing written, unless --allow-incomplete is given: then the merged run is\n"
        "marked INCOMPLETE in its summaries and on stdout.\n"
        "\n"
        "  --out DIR            the merged run directory (must not hold a run)\n"
        "  --allow-incomplete   merge interrupted shards too\n"
        "  -q, --quiet          no summary table on stdout\n"
        "  -h, --help           this help\n");
}

static size_t num(const cJSON *o, const char *k, size_t dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (size_t)v->valuedouble : dflt;
}

/* The shard record of one run.json. */
static int load_part(const char *dir, part *p, pe_err *e)
{
    const cJSON *sh, *users, *pos, *x, *q;
    size_t n, i = 0;
    int rc = report_read_json(dir, "run.json", 0, &p->run, e);
    if (rc)
        return rc;
    users = cJSON_GetObjectItemCaseSensitive(p->run, "users");
    pos = cJSON_GetObjectItemCaseSensitive(p->run, "user_positions");
    if (!jsonu_str(p->run, "config_hash") || !cJSON_IsArray(users) || !cJSON_IsArray(pos) ||
        cJSON_GetArraySize(users) != cJSON_GetArraySize(pos))
        return pe_errf(e, PE_EXIT_DATA,
                       "%s/run.json: needs \"config_hash\", \"users\" and \"user_positions\" "
                       "(written by a run of this version)", dir);
    n = (size_t)cJSON_GetArraySize(users);
    p->users = xcalloc(n ? n : 1, sizeof *p->users);
    p->positions = xcalloc(n ? n : 1, sizeof *p->positions);
    /* walk both arrays together: cJSON_GetArrayItem is linear, a lookup per
     * user would make this quadratic */
    q = pos->child;
    cJSON_ArrayForEach(x, users)
    {
        if (!cJSON_IsString(x) || !cJSON_IsNumber(q) || q->valuedouble < 0)
            return pe_errf(e, PE_EXIT_DATA, "%s/run.json: \"users\"[%zu] or "
                           "\"user_positions\"[%zu] has the wrong type", dir, i, i);
        p->users[i] = x->valuestring;
        p->positions[i++] = (size_t)q->valuedouble;
        q = q->next;
    }
    sh = cJSON_GetObjectItemCaseSensitive(p->run, "shard");
    p->sp.dir = dir;
    p->sp.index = cJSON_IsObject(sh) ? num(sh, "index", 0) : 0;
    p->sp.count = cJSON_IsObject(sh) ? num(sh, "count", 1) : 1;
    p->sp.users_total = num(p->run, "users_total", n);
    p->sp.users = p->users;
    p->sp.positions = p->positions;
    p->sp.nusers = n;
    return 0;
}

/* Append dir/name up to its last newline (a torn tail is left out). */
static int append_lines(buf *out, const char *dir, const char *name, pe_err *e)
{
    char *p = xasprintf("%s/%s", dir, name), *data;
    size_t len;
    int rc;
    if (!pe_file_exists(p)) {
        free(p);
        return 0;
    }
    rc = pe_read_file(p, 0, &data, &len, e);
    free(p);
    if (rc)
        return rc;
    while (len > 0 && data[len - 1] != '\n')
        len--;
    buf_add(out, data, len);
    free(data);
    return 0;
}

static int cmp_part(const void *a, const void *b)
{
    const part *x = a, *y = b;
    return x->sp.index < y->sp.index ? -1 : x->sp.index > y->sp.index;
}

static cJSON *llm_totals_of(const cJSON *run)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(run, "llm"),
                                            "totals");
}

static void add_stats(cJSON *into, const cJSON *from)
{
    cJSON *c;
    if (!cJSON_IsObject(into) || !cJSON_IsObject(from))
        return;
    cJSON_ArrayForEach(c, into)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, c->string);
        if (cJSON_IsNumber(c) && cJSON_IsNumber(v))
            cJSON_SetNumberValue(c, c->valuedouble + v->valuedouble);
    }
}

/* run.json of the merged run: the first shard's, with the users of all and
 * the shards' stats and LLM totals summed. */
static char *merged_run_json(part *p, size_t n, const char **order, size_t total, int incomplete,
                             char **dirs)
{
    cJSON *r = cJSON_Duplicate(p[0].run, 1), *users = cJSON_CreateArray(),
          *pos = cJSON_CreateArray(), *from = cJSON_CreateArray();
    char *text;
    cJSON_ReplaceItemInObjectCaseSensitive(r, "shard", cJSON_CreateNull());
    for (size_t i = 0; i < total; i++) {
        cJSON_AddItemToArray(users, cJSON_CreateString(order[i]));
        cJSON_AddItemToArray(pos, cJSON_CreateNumber((double)i));
    }
    cJSON_ReplaceItemInObjectCaseSensitive(r, "users", users);
    cJSON_ReplaceItemInObjectCaseSensitive(r, "user_positions", pos);
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(from, cJSON_CreateString(dirs[i]));
        if (i) {
            add_stats(cJSON_GetObjectItemCaseSensitive(r, "stats"),
                      cJSON_GetObjectItemCaseSensitive(p[i].run, "stats"));
            add_stats(llm_totals_of(r), llm_totals_of(p[i].run));
        }
    }
    cJSON_DeleteItemFromObjectCaseSensitive(r, "merged_from");
    cJSON_AddItemToObject(r, "merged_from", from);
    cJSON_ReplaceItemInObjectCaseSensitive(r, "incomplete", cJSON_CreateBool(incomplete));
    text = cJSON_Print(r);
    cJSON_Delete(r);
    if (!text)
        abort();
    return text;
}

/* Per method, the shards' queries expected and failed preparations summed, and
 * the provenance they share (their summary.json files). */
static int shard_figures(const part *p, size_t n, const char *const *morder, size_t nm,
                         size_t *expected, size_t *preperr, cJSON **prov, int *have, pe_err *e)
{
    for (size_t i = 0; i < n; i++) {
        cJSON *sj = NULL;
        const cJSON *m;
        int rc = report_read_json(p[i].sp.dir, "summary.json", 64u << 20, &sj, e);
        if (rc)
            return rc;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(sj, "methods")) {
            const cJSON *x = cJSON_GetObjectItemCaseSensitive(m, "n_expected");
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(m, "prep_errors");
            for (size_t k = 0; k < nm && cJSON_IsNumber(x); k++)
                if (strcmp(jsonu_str(m, "method"), morder[k]) == 0) {
                    expected[k] += (size_t)x->valuedouble;
                    preperr[k] += cJSON_IsNumber(y) ? (size_t)y->valuedouble : 0;
                    *have = 1;
                }
        }
        if (!*prov && cJSON_GetObjectItemCaseSensitive(sj, "provenance"))
            *prov = cJSON_DetachItemFromObjectCaseSensitive(sj, "provenance");
        cJSON_Delete(sj);
    }
    return 0;
}

static int merge(char **dirs, size_t n, const char *out, int quiet, int allow_incomplete,
                 pe_err *e)
{
    part *p = xcalloc(n, sizeof *p);
    const cJSON *cfg;
    const char **order = NULL, **morder = NULL;
    size_t total = 0, nm = 0, nrec = 0, nsum = 0;
    const task *t;
    int rc = 0, incomplete = 0;
    buf lines = BUF_INIT;
    pred_record *recs = NULL;
    method_summary *sums = NULL;
    char *rj, *pp;
    char **sorted_dirs = xcalloc(n, sizeof *sorted_dirs);
    size_t *expected = NULL, *preperr = NULL;
    cJSON *prov = NULL;
    int have = 0;

    for (size_t i = 0; i < n && !rc; i++)
        rc = load_part(dirs[i], &p[i], e);
    for (size_t i = 1; i < n && !rc; i++)
        if (strcmp(jsonu_str(p[i].run, "config_hash"), jsonu_str(p[0].run, "config_hash"))) {
            buf d = BUF_INIT;
            run_config_diff(cJSON_GetObjectItemCaseSensitive(p[0].run, "config"),
                          cJSON_GetObjectItemCaseSensitive(p[i].run, "config"), &d);
            rc = pe_errf(e, PE_EXIT_USAGE,
                         "merge: %s and %s were run with different settings (config_hash): %s",
                         dirs[0], dirs[i], buf_str(&d));
            buf_free(&d);
        }
    if (!rc) {
        shard_part *sp = xcalloc(n, sizeof *sp);
        for (size_t i = 0; i < n; i++)
            sp[i] = p[i].sp;
        rc = shard_check_cover(sp, n, e);
        free(sp);
    }
    cfg = rc ? NULL : cJSON_GetObjectItemCaseSensitive(p[0].run, "config");
    if (!rc && !(t = task_get(jsonu_str(cfg, "task"))))
        rc = pe_errf(e, PE_EXIT_DATA, "%s/run.json: \"config\" names no known task", dirs[0]);
    pp = xasprintf("%s/predictions.jsonl", out);
    if (!rc && (pe_file_exists(pp) || pe_file_exists(out)))
        rc = pe_errf(e, PE_EXIT_USAGE, "%s already exists; choose another --out", out);
    if (!rc && !allow_incomplete) {
        buf which = BUF_INIT;
        for (size_t i = 0; i < n; i++)
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p[i].run, "incomplete")))
                buf_printf(&which, "%s%s", which.len ? ", " : "", dirs[i]);
        if (which.len)
            rc = pe_errf(e, PE_EXIT_INCOMPLETE,
                         "incomplete shard(s): %s (interrupted before every query was "
                         "answered; resume them, or merge anyway with --allow-incomplete)",
                         buf_str(&which));
        buf_free(&which);
    }
    free(pp);
    if (rc)
        goto done;

    /* shards in index order; users in their order before sharding */
    for (size_t i = 0; i < n; i++)
        p[i].sp.dir = dirs[i];
    qsort(p, n, sizeof *p, cmp_part);
    total = p[0].sp.users_total;
    order = xcalloc(total ? total : 1, sizeof *order);
    for (size_t i = 0; i < n; i++) {
        sorted_dirs[i] = (char *)p[i].sp.dir;
        for (size_t u = 0; u < p[i].sp.nusers; u++)
            order[p[i].positions[u]] = p[i].users[u];
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p[i].run, "incomplete")))
            incomplete = 1;
    }
    {
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(cfg, "methods"), *m;
        morder = xcalloc((size_t)cJSON_GetArraySize(ms) + 1, sizeof *morder);
        cJSON_ArrayForEach(m, ms)
            if (cJSON_IsString(m))
                morder[nm++] = m->valuestring;
    }
    if ((rc = pe_mkdirs(out, e)))
        goto done;
    {
        static const char *const files[] = {"predictions.jsonl", "traces.jsonl",
                                            "personas.jsonl"};
        for (size_t f = 0; f < 3 && !rc; f++) {
            buf_reset(&lines);
            for (size_t i = 0; i < n && !rc; i++)
                rc = append_lines(&lines, p[i].sp.dir, files[f], e);
            if (!rc)
                rc = pe_write_atomic_in(out, files[f], buf_str(&lines), lines.len, e);
        }
    }
    if (!rc)
        rc = report_load_predictions(out, &recs, &nrec, NULL, e);
    if (!rc) {
        summary_opts so = {0};
        so.bootstrap = num(cfg, "bootstrap", 1000);
        so.seed = num(cfg, "seed", PE_SEED_DEFAULT);
        so.method_order = morder;
        so.nmethod_order = nm;
        so.user_order = order;
        so.nuser_order = total;
        so.incomplete = incomplete;
        expected = xcalloc(nm ? nm : 1, sizeof *expected);
        preperr = xcalloc(nm ? nm : 1, sizeof *preperr);
        rc = shard_figures(p, n, morder, nm, expected, preperr, &prov, &have, e);
        if (!rc && have) { /* the same figures as the unsharded run's summary */
            so.n_expected = expected;
            so.prep_errors = preperr;
        }
        if (!rc && prov) {
            so.model = jsonu_str(prov, "model");
            so.endpoint_host = jsonu_str(prov, "endpoint_host");
            so.backend = jsonu_str(prov, "backend");
            so.data_sha256 = jsonu_str(prov, "data_sha256");
            so.config_hash = jsonu_str(prov, "config_hash");
        }
        if (!rc)
            rc = report_summarize(out, t, recs, nrec, &so, &sums, &nsum, e);
    }
    if (!rc) {
        rj = merged_run_json(p, n, order, total, incomplete, sorted_dirs);
        rc = pe_write_atomic_in(out, "run.json", rj, strlen(rj), e);
        free(rj);
    }
    if (!rc && !quiet) {
        buf tb = BUF_INIT;
        if (incomplete)
            fputs("INCOMPLETE: at least one shard was interrupted before every query was "
                  "answered; the numbers cover the answered queries only.\n\n", stdout);
        report_table(&tb, "md", t, sums, nsum, NULL);
        fputs(buf_str(&tb), stdout);
        buf_free(&tb);
        printf("\nMerged %zu shard%s: %s\n", n, n == 1 ? "" : "s", out);
    } else if (!rc && incomplete) {
        fprintf(stderr, "persona-eval merge: INCOMPLETE: at least one shard was interrupted "
                "before every query was answered\n");
    }
done:
    for (size_t i = 0; i < n; i++) {
        cJSON_Delete(p[i].run);
        free(p[i].users);
        free(p[i].positions);
    }
    free(p);
    free(order);
    free(morder);
    free(sorted_dirs);
    free(expected);
    free(preperr);
    cJSON_Delete(prov);
    buf_free(&lines);
    report_free_predictions(recs, nrec);
    report_free_summaries(sums, nsum);
    return rc;
}

int cmd_merge(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"allow-incomplete", no_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    int ch, quiet = 0, allow_incomplete = 0, rc;
    pe_err e = {0};

    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'o':
            out = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'I':
            allow_incomplete = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            rc = cli_getopt_error(argc, argv, ch, opts, &e);
            fprintf(stderr, "persona-eval merge: %s\n", e.msg);
            return rc;
        }
    }
    if (!out || optind >= argc) {
        fprintf(stderr, "persona-eval merge: %s\n",
                !out ? "--out DIR is required" : "name the shard run directories");
        return PE_EXIT_USAGE;
    }
    rc = merge(argv + optind, (size_t)(argc - optind), out, quiet, allow_incomplete, &e);
    if (rc)
        fprintf(stderr, "persona-eval merge: %s\n", e.msg);
    if ((rc == PE_EXIT_SIGINT || rc == PE_EXIT_SIGTERM) && pe_file_exists(out))
        fprintf(stderr, "persona-eval merge: %s holds a partial merge (whole files, no "
                "run.json): remove it before merging again\n", out);
    return rc;
}
