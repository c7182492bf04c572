/* The one reader of predictions.jsonl: every step after the answers (summaries,
 * score, merge, resume, report.html) reads predictions through it. */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonu.h"

static void free_record(pred_record *r)
{
    char *owned[] = {r->user, r->id, r->method, r->gold, r->raw, r->pred, r->error};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        free(owned[i]);
}

void report_free_predictions(pred_record *recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free_record(&recs[i]);
    free(recs);
}

static char *dup_str_or_null(const cJSON *o, const char *k)
{
    const char *s = jsonu_str(o, k);
    return s ? xstrdup(s) : NULL;
}

static long num_or_minus(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

static int parse_record(const char *path, size_t lineno, const char *line, size_t len,
                        pred_record *r, pe_err *e)
{
    size_t off;
    cJSON *j = jsonu_parse(line, len, &off);
    const cJSON *v, *idv;
    const char *user;

    memset(r, 0, sizeof *r);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: not a JSON object", path, lineno, off + 1);
    }
    user = jsonu_str(j, "user");
    idv = cJSON_GetObjectItemCaseSensitive(j, "id");
    if (!user || !jsonu_str(j, "method") || !(cJSON_IsString(idv) || cJSON_IsNumber(idv))) {
        cJSON_Delete(j);
        return pe_errf(e, PE_EXIT_DATA,
                       "%s:%zu: user \"%s\": fields \"user\", \"id\" and \"method\" must be "
                       "strings", path, lineno, user ? user : "?");
    }
    v = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (v && !cJSON_IsNull(v) && !cJSON_IsString(v)) {
        cJSON_Delete(j);
        return pe_errf(e, PE_EXIT_DATA, "%s:%zu: user \"%s\": field \"error\" must be null or "
                       "a string", path, lineno, user);
    }
    r->user = xstrdup(user);
    r->id = jsonu_text(idv);
    r->method = dup_str_or_null(j, "method");
    r->gold = dup_str_or_null(j, "gold");
    r->raw = dup_str_or_null(j, "raw");
    r->pred = dup_str_or_null(j, "pred");
    r->error = dup_str_or_null(j, "error");
    r->valid = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "valid"));
    r->calls = num_or_minus(j, "calls");
    if (r->calls < 0)
        r->calls = 0;
    r->prompt_tokens = num_or_minus(j, "prompt_tokens");
    r->completion_tokens = num_or_minus(j, "completion_tokens");
    v = cJSON_GetObjectItemCaseSensitive(j, "latency_s");
    r->latency_s = cJSON_IsNumber(v) ? v->valuedouble : 0;
    v = cJSON_GetObjectItemCaseSensitive(j, "cost_usd");
    r->cost_usd = cJSON_IsNumber(v) ? v->valuedouble : -1;
    r->calls_cached = num_or_minus(j, "calls_cached");
    if (r->calls_cached < 0 || r->calls_cached > r->calls)
        r->calls_cached = 0;
    v = cJSON_GetObjectItemCaseSensitive(j, "cost_spent_usd");
    r->cost_spent_usd = cJSON_IsNumber(v) ? v->valuedouble : v ? -1 : r->cost_usd;
    cJSON_Delete(j);
    if (!r->error && !r->pred) {
        free_record(r);
        return pe_errf(e, PE_EXIT_DATA, "%s:%zu: user \"%s\": a record without \"error\" needs "
                       "\"pred\"", path, lineno, user);
    }
    return 0;
}

int report_key_cmp(const pred_record *a, const pred_record *b)
{
    int c = strcmp(a->method, b->method);
    if (!c)
        c = strcmp(a->user, b->user);
    if (!c)
        c = strcmp(a->id, b->id);
    return c;
}

static int rec_ptr_cmp(const void *x, const void *y)
{
    const pred_record *a = *(const pred_record *const *)x, *b = *(const pred_record *const *)y;
    int c = report_key_cmp(a, b);
    /* later lines win: keep file order among equal keys */
    return c ? c : (a < b ? -1 : a > b);
}

/* Keep the last record of each key, in file order: O(n log n). */
static void dedup(pred_record **recs, size_t *n)
{
    pred_record *r = *recs, **ptr, *outv;
    char *keep;
    size_t count = *n, m = 0;
    if (count < 2)
        return;
    ptr = xmalloc(count * sizeof *ptr);
    keep = xcalloc(count, 1);
    for (size_t i = 0; i < count; i++)
        ptr[i] = &r[i];
    qsort(ptr, count, sizeof *ptr, rec_ptr_cmp);
    for (size_t i = 0; i < count; i++)
        if (i + 1 == count || report_key_cmp(ptr[i], ptr[i + 1]) != 0)
            keep[ptr[i] - r] = 1;
    outv = xmalloc(count * sizeof *outv);
    for (size_t i = 0; i < count; i++) {
        if (keep[i])
            outv[m++] = r[i];
        else
            free_record(&r[i]);
    }
    free(r);
    free(keep);
    free(ptr);
    *recs = outv;
    *n = m;
}

int report_read_predictions(const char *path, size_t max_bytes, pred_record **recs, size_t *n,
                            size_t *torn, pe_err *e)
{
    char *data;
    size_t len, cap = 0, count = 0, lineno = 0;
    pred_record *r = NULL;
    int rc;

    *recs = NULL;
    *n = 0;
    if (torn)
        *torn = 0;
    rc = pe_read_file(path, max_bytes, &data, &len, e);
    if (rc == PE_EXIT_DATA && max_bytes)
        pe_errf(e, rc, "%s: file is larger than the limit of %zu bytes (raise it with "
                "--max-file-bytes)", path, max_bytes);
    if (rc)
        return rc;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (data + pos)) : len - pos;
        lineno++;
        if ((rc = pe_interrupted(e, "reading the predictions"))) {
            report_free_predictions(r, count);
            free(data);
            return rc;
        }
        if (strspn(data + pos, " \t\r") < ll) {
            pred_record rec;
            rc = parse_record(path, lineno, data + pos, ll, &rec, e);
            if (rc && !nl) {
                /* torn last line from a killed writer: drop it */
                if (torn)
                    (*torn)++;
                rc = 0;
            } else if (rc) {
                report_free_predictions(r, count);
                free(data);
                return rc;
            } else {
                r = xgrow(r, &cap, count + 1, sizeof *r);
                r[count++] = rec;
            }
        }
        pos += ll + (nl ? 1 : 0);
    }
    free(data);
    dedup(&r, &count);
    *recs = r;
    *n = count;
    return 0;
}

int report_load_predictions(const char *dir, pred_record **recs, size_t *n, size_t *torn,
                            pe_err *e)
{
    char *path = xasprintf("%s/predictions.jsonl", dir);
    int rc = report_read_predictions(path, 0, recs, n, torn, e);
    free(path);
    return rc;
}
