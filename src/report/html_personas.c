/* The persona section of report.html from personas.jsonl: what `persona-eval
 * personas` computes (pairwise Jaccard similarity of the final personas, the
 * drift of each from its initial persona), drawn as a heatmap and a table. */
#include "htmlkit.h"

#include <stdlib.h>

#include "analysis.h"
#include "charts.h"

#define MAX_HEATMAP 150 /* users; a larger matrix would make the page unwieldy */

int htmlkit_personas_section(buf *b, const char *dir)
{
    char *method = NULL;
    analysis_persona *r = NULL;
    size_t n = 0, *nw;
    double *m, *jv, off = 0, drift = 0;
    pe_err e = {0};
    if (!htmlkit_has_file(dir, "personas.jsonl"))
        return 0;
    if (analysis_personas_load(dir, &method, &r, &n, &e)) {
        htmlkit_wrap(b, "<section id=\"personas\"><h2>Persona similarity</h2><p class=\"note\">",
                     e.msg, "</p></section>");
        free(method);
        return 1;
    }
    if (n == 0) {
        free(method);
        return 0;
    }
    m = xcalloc(n * n, sizeof *m);
    jv = xcalloc(n, sizeof *jv);
    nw = xcalloc(2 * n, sizeof *nw);
    analysis_similarity(r, n, m, jv, nw);
    for (size_t i = 0; i < n; i++) {
        drift += 1 - jv[i];
        for (size_t k = 0; k < n; k++)
            off += i != k ? m[i * n + k] : 0;
    }
    buf_adds(b, "<section id=\"personas\"><h2>Persona similarity</h2><p class=\"note\">");
    buf_printf(b, "The final personas of %zu users of ", n);
    htmlkit_wrap(b, "<strong>", method, "</strong>");
    buf_printf(b, ": mean pairwise Jaccard similarity of their word sets <strong "
                  "id=\"persona-jaccard\">%.3f</strong>; mean drift from the initial persona "
                  "(1 \xe2\x88\x92 Jaccard) <strong id=\"persona-drift\">%.3f</strong> (as "
                  "<code>persona-eval personas</code> computes).</p>",
               n > 1 ? off / (double)(n * (n - 1)) : 1.0, drift / (double)n);
    if (n > MAX_HEATMAP) {
        buf_printf(b, "<p class=\"note\">%zu users: too many for a heatmap; "
                      "<code>persona-eval personas</code> writes the matrix.</p>", n);
    } else {
        const char **labels = xcalloc(n, sizeof *labels);
        for (size_t i = 0; i < n; i++)
            labels[i] = r[i].user;
        chart_heatmap(b, "persona similarity heatmap", labels, labels, n, m, 0);
        free(labels);
    }
    buf_adds(b, "<h3>Drift</h3><table class=\"sortable\" id=\"drift-table\"><thead><tr>"
                "<th>user</th><th class=\"num\">alignment iterations</th><th class=\"num\">"
                "words initial</th><th class=\"num\">words final</th><th class=\"num\">"
                "Jaccard initial\xe2\x80\x93" "final</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        htmlkit_wrap(b, "<tr><td data-v=\"", r[i].user, "\">");
        svg_escape(b, r[i].user);
        buf_printf(b, "</td><td class=\"num\" data-v=\"%zu\">%zu</td><td class=\"num\" "
                      "data-v=\"%zu\">%zu</td><td class=\"num\" data-v=\"%zu\">%zu</td>"
                      "<td class=\"num\" data-v=\"%.6f\">%.3f</td></tr>",
                   r[i].iterations, r[i].iterations, nw[2 * i], nw[2 * i], nw[2 * i + 1],
                   nw[2 * i + 1], jv[i], jv[i]);
    }
    buf_adds(b, "</tbody></table></section>");
    free(m);
    free(jv);
    free(nw);
    analysis_personas_free(r, n);
    free(method);
    return 1;
}
