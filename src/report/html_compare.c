#include "html_compare.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htmlkit.h"
#include "report.h"
#include "runset.h"

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

static void run_card(buf *b, const char *out_path, const runset_run *r, size_t idx)
{
    pe_err e = {0};
    cJSON *run = htmlkit_json_load(r->dir, "run.json", &e);
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(run, "stats");
    int has_report = htmlkit_has_file(r->dir, "report.html");
    buf_printf(b, "<section class=\"run\" id=\"run-%zu\"><h3>", idx + 1);
    svg_escape(b, r->label);
    htmlkit_wrap(b, "</h3><p class=\"note\"><span class=\"mono\">", r->dir,
                 "</span> \xc2\xb7 <a href=\"");
    rel_href(b, out_path, r->dir, has_report ? "report.html" : "summary.json");
    buf_printf(b, "\">%s</a></p><table class=\"kv\"><tbody>",
               has_report ? "full report" : "summary.json");
    htmlkit_wrap(b, "<tr><th>task</th><td>", r->t->name, "</td></tr>");
    if (run) {
        static const char *const keys[] = {"methods", "started", "incomplete"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            htmlkit_kv_row(b, keys[k], cJSON_GetObjectItemCaseSensitive(run, keys[k]));
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
    runset rs;
    buf b = BUF_INIT;
    svg_colours col = {NULL, 0, 0};
    int rc = runset_load(&rs, dirs, n, e);

    if (rc) {
        runset_free(&rs);
        return rc;
    }
    for (size_t i = 0; i < rs.nrows; i++)
        svg_colour_of(&col, rs.rows[i].s->method);
    htmlkit_page_begin(&b, "persona-eval: comparison of runs");
    buf_printf(&b, "<header><h1>persona-eval comparison</h1><p class=\"sub\">%zu run(s). "
                   "Methods as rows; 95%% bootstrap intervals.</p></header>\n",
               rs.n);
    for (size_t i = 0, j; i < rs.nrows; i = j) {
        const task *t = rs.rows[i].t;
        char *id = xasprintf("summary-%s", t->name);
        j = runset_task_end(&rs, i);
        buf_adds(&b, "<section class=\"task\"><h2>Task ");
        svg_escape(&b, t->name);
        buf_adds(&b, "</h2>");
        htmlkit_summary_table(&b, t, rs.rows + i, j - i, 1, id);
        htmlkit_interval_charts(&b, t, rs.rows + i, j - i, 1, &col);
        buf_adds(&b, "</section>\n");
        free(id);
    }
    buf_adds(&b, "<section id=\"runs\"><h2>Runs</h2><div class=\"charts\">");
    for (size_t i = 0; i < rs.n; i++)
        run_card(&b, out_path, &rs.runs[i], i);
    buf_adds(&b, "</div></section>\n");
    htmlkit_page_end(&b);
    rc = pe_write_atomic(out_path, buf_str(&b), b.len, e);
    runset_free(&rs);
    buf_free(&b);
    svg_colours_free(&col);
    return rc;
}
