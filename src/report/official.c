/* Predictions in LaMP's official format, one file per method, for submission
 * or for scoring with LaMP's own evaluation.py. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

static int ptr_cmp(const void *a, const void *b)
{
    const pred_record *x = *(const pred_record *const *)a, *y = *(const pred_record *const *)b;
    int c = report_key_cmp(x, y);
    return c ? c : (x < y ? -1 : x > y);
}

static int id_cmp(const void *a, const void *b)
{
    const pred_record *x = *(const pred_record *const *)a, *y = *(const pred_record *const *)b;
    int c = strcmp(x->id, y->id);
    return c ? c : ptr_cmp(a, b);
}

/* LaMP's evaluation.py knows LaMP_1, LaMP_2 and LaMP_3: both lamp2 tasks are
 * "LaMP_2" there (news categories in its first release, movie tags since). */
static const char *official_task(const task *t)
{
    return t->id == TASK_LAMP2M || t->id == TASK_LAMP2N ? "LaMP_2" : t->official;
}

static char *file_name(const char *method)
{
    char *f = xasprintf("official_%s.json", method);
    for (char *p = f + 9; *p && strcmp(p, ".json") != 0; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            *p = '_';
    return f;
}

static void entry(buf *b, int first, const char *id, const char *output)
{
    buf_adds(b, first ? "\n  {\"id\": " : ",\n  {\"id\": ");
    buf_json_str(b, id);
    buf_adds(b, ", \"output\": ");
    buf_json_str(b, output);
    buf_addc(b, '}');
}

static int write_file(const char *dir, const char *name, const task *t, buf *body, pe_err *e)
{
    buf b = BUF_INIT;
    int rc;
    buf_adds(&b, "{\"task\": ");
    buf_json_str(&b, official_task(t));
    buf_printf(&b, ", \"golds\": [%s\n]}\n", buf_str(body));
    rc = pe_write_atomic_in(dir, name, buf_str(&b), b.len, e);
    buf_free(&b);
    return rc;
}

int report_write_official(const char *dir, const task *t, const pred_record *recs, size_t n,
                          pe_err *e)
{
    const pred_record **p = xmalloc((n ? n : 1) * sizeof *p);
    buf body = BUF_INIT, golds = BUF_INIT;
    size_t ngolds = 0;
    const char *last_id = NULL;
    int rc = 0;

    for (size_t i = 0; i < n; i++)
        p[i] = &recs[i];
    qsort(p, n, sizeof *p, ptr_cmp);
    for (size_t i = 0; i < n && !rc;) {
        size_t j = i, k = 0;
        char *name;
        buf_reset(&body);
        for (; j < n && strcmp(p[j]->method, p[i]->method) == 0; j++) {
            if (!p[j]->pred)
                continue; /* errored: no answer to submit */
            entry(&body, k++ == 0, p[j]->id, p[j]->pred);
        }
        name = file_name(p[i]->method);
        rc = write_file(dir, name, t, &body, e);
        free(name);
        i = j;
    }
    /* the golds of every query any method saw, once per id */
    for (size_t i = 0; i < n; i++)
        p[i] = &recs[i];
    qsort(p, n, sizeof *p, id_cmp);
    for (size_t i = 0; i < n; i++)
        if (p[i]->gold && (!last_id || strcmp(last_id, p[i]->id) != 0)) {
            entry(&golds, ngolds++ == 0, p[i]->id, p[i]->gold);
            last_id = p[i]->id;
        }
    if (!rc && ngolds)
        rc = write_file(dir, "official_golds.json", t, &golds, e);
    buf_free(&body);
    buf_free(&golds);
    free(p);
    return rc;
}
