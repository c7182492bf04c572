#include "html.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htmlkit.h"
#include "report.h"

/* The href from the folder holding out_path to dir/file: relative when both
 * resolve, else dir as given. */
static void rel_href(buf *b, const char *out_path, const char *dir, const char *file)
{
    char *od = xstrdup(out_path), *slash = strrchr(od, '/');
    char from[PATH_MAX], to[PATH_MAX];
    if (slash)
        slash[slash == od ? 1 : 0] = '\0';
    if (realpath(slash ? od : ".", from) && realpath(dir, to)) {
        size_t i = 0, common = 0;
        /* longest common prefix ending at a path boundary */
        while (from[i] && from[i] == to[i]) {
            i++;
            if ((from[i] == '/' || !from[i]) && (to[i] == '/' || !to[i]))
                common = i;
        }
        if (strcmp(from, "/") == 0)
            common = 0;
        else
            for (const char *p = from + common; *p; p++)
                if (*p == '/')
                    buf_adds(b, "../");
        if (to[common] == '/')
            htmlkit_url_path(b, to + common + 1);
        else
            htmlkit_url_path(b, to + common);
        if (to[common])
            buf_addc(b, '/');
    } else {
        htmlkit_url_path(b, dir);
        buf_addc(b, '/');
    }
    htmlkit_url_path(b, file);
    free(od);
}

typedef struct cmp_run {
    const char *dir;
    char *label;
    const task *t;
    method_summary *s;
    size_t n;
} cmp_run;

static void run_card(buf *b, const char *out_path, const cmp_run *r, size_t idx)
{
    pe_err e = {0};
    cJSON *run = htmlkit_json_load(r->dir, "run.json", &e);
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(run, "stats");
    int has_report = htmlkit_has_file(r->dir, "report.html");
    buf_printf(b, "<section class=\"run\" id=\"run-%zu\"><h3>", idx + 1);
    svg_escape(b, r->label);
    htmlkit_wrap(b, "</h3><p class=\"note\"><span class=\"mono\">", r->dir, "</span> \xc2\xb7 <a href=\"");
    rel_href(b, out_path, r->dir, has_report ? "report.html" : "summary.json");
    buf_printf(b, "\">%s</a></p><table class=\"kv\"><tbody>",
               has_report ? "full report" : "summary.json");
    htmlkit_wrap(b, "<tr><th>task</th><td>", r->t->name, "</td></tr>");
    if (run) {
        htmlkit_kv_row(b, "methods", cJSON_GetObjectItemCaseSensitive(run, "methods"));
        htmlkit_kv_row(b, "started", cJSON_GetObjectItemCaseSensitive(run, "started"));
        htmlkit_kv_row(b, "incomplete", cJSON_GetObjectItemCaseSensitive(run, "incomplete"));
        buf_adds(b, "<tr><th>LLM calls</th><td>");
        htmlkit_count(b, htmlkit_json_num(stats, "calls"));
        buf_adds(b, "</td></tr><tr><th>tokens (prompt + completion)</th><td>");
        htmlkit_count(b, htmlkit_json_num(stats, "prompt_tokens"));
        buf_adds(b, " + ");
        htmlkit_count(b, htmlkit_json_num(stats, "completion_tokens"));
        buf_adds(b, "</td></tr><tr><th>cost</th><td>");
        htmlkit_cost(b, htmlkit_json_num(stats, "cost_usd"));
        buf_adds(b, "</td></tr>");
    } else {
        htmlkit_wrap(b, "<tr><th>run.json</th><td>", e.msg, "</td></tr>");
    }
    buf_adds(b, "</tbody></table></section>");
    cJSON_Delete(run);
}

int html_write_compare(const char *out_path, const char *const *dirs, size_t n, pe_err *e)
{
    cmp_run *runs = xcalloc(n ? n : 1, sizeof *runs);
    buf b = BUF_INIT;
    svg_colours col = {NULL, 0, 0};
    size_t nr = 0;
    int rc = 0;

    for (; nr < n; nr++) {
        cmp_run *r = &runs[nr];
        r->dir = dirs[nr];
        if ((rc = report_read_summary(dirs[nr], &r->t, &r->s, &r->n, e)))
            goto done;
        r->label = htmlkit_base_name(dirs[nr]);
        for (size_t m = 0; m < r->n; m++)
            svg_colour_of(&col, r->s[m].method);
    }
    htmlkit_page_begin(&b, "persona-eval: comparison of runs");
    buf_printf(&b, "<header><h1>persona-eval comparison</h1><p class=\"sub\">%zu run(s). "
                   "Methods as rows; 95%% bootstrap intervals.</p></header>\n",
               nr);
    /* one table per task, runs in the order given */
    for (size_t i = 0; i < nr; i++) {
        size_t total = 0, k = 0;
        int seen = 0;
        method_summary *all;
        const char **labels;
        char *id;
        for (size_t j = 0; j < i; j++)
            seen |= runs[j].t == runs[i].t;
        if (seen)
            continue;
        for (size_t j = i; j < nr; j++)
            if (runs[j].t == runs[i].t)
                total += runs[j].n;
        all = xcalloc(total ? total : 1, sizeof *all);
        labels = xcalloc(total ? total : 1, sizeof *labels);
        for (size_t j = i; j < nr; j++)
            if (runs[j].t == runs[i].t)
                for (size_t m = 0; m < runs[j].n; m++) {
                    all[k] = runs[j].s[m];
                    labels[k++] = runs[j].label;
                }
        buf_adds(&b, "<section class=\"task\"><h2>Task ");
        svg_escape(&b, runs[i].t->name);
        buf_adds(&b, "</h2>");
        id = xasprintf("summary-%s", runs[i].t->name);
        htmlkit_summary_table(&b, runs[i].t, all, k, labels, id);
        htmlkit_interval_charts(&b, runs[i].t, all, k, labels, &col);
        buf_adds(&b, "</section>\n");
        free(id);
        free(all);
        free(labels);
    }
    buf_adds(&b, "<section id=\"runs\"><h2>Runs</h2><div class=\"charts\">");
    for (size_t i = 0; i < nr; i++)
        run_card(&b, out_path, &runs[i], i);
    buf_adds(&b, "</div></section>\n");
    htmlkit_page_end(&b);
    rc = pe_write_atomic(out_path, buf_str(&b), b.len, e);
done:
    for (size_t i = 0; i < nr; i++) {
        report_free_summaries(runs[i].s, runs[i].n);
        free(runs[i].label);
    }
    free(runs);
    buf_free(&b);
    svg_colours_free(&col);
    return rc;
}
