/* persona-eval personas RUN_DIR: how similar the final personas are (pairwise
 * Jaccard of their word sets, the paper's Appendix G) and how far each moved
 * from its initialization. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "buf.h"
#include "cli_common.h"
#include "cmd.h"
#include "csv.h"
#include "jsonu.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: persona-eval personas [--method M] RUN_DIR\n"
        "\n"
        "Reads RUN_DIR/personas.jsonl and writes, for the method's final personas:\n"
        "  personas_jaccard.csv  pairwise Jaccard similarity of their word sets\n"
        "                        (lower-cased, split on anything not a letter or digit)\n"
        "  personas_jaccard.svg  the same as a heatmap\n"
        "  personas_drift.csv    per user: Jaccard similarity of the initial and the final\n"
        "                        persona, word counts and alignment iterations (all\n"
        "                        re-alignments of an --online run counted)\n"
        "\n"
        "  --method M   the method whose personas to compare (default: personaagent, or\n"
        "               the first method with personas in the file)\n");
}

int cmd_personas(int argc, char **argv)
{
    static const struct option opts[] = {
        {"method", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *method = NULL;
    const char *dir;
    analysis_persona *r = NULL;
    size_t n = 0;
    double *m = NULL, *jv = NULL, off = 0, drift = 0;
    size_t *nw = NULL;
    buf csv = BUF_INIT, svg = BUF_INIT, dcsv = BUF_INIT;
    csv_writer cw;
    static const char *const drift_head[] = {"method", "user", "jaccard_initial_final",
                                             "words_initial", "words_final", "iterations"};
    const char **labels = NULL;
    pe_err e = {0};
    int ch, rc;

    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (ch == 'm') {
            free(method);
            method = xstrdup(optarg);
        } else if (ch == 'h') {
            usage(stdout);
            return 0;
        } else {
            cli_getopt_error(argc, argv, ch, opts, &e);
            fprintf(stderr, "persona-eval: %s\n", e.msg);
            return PE_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "persona-eval: personas takes one run directory\n");
        return PE_EXIT_USAGE;
    }
    dir = argv[optind];
    if ((rc = analysis_personas_load(dir, &method, &r, &n, &e)))
        goto fail;
    if (n == 0) {
        rc = pe_errf(&e, PE_EXIT_DATA, "%s/personas.jsonl: no personas%s%s", dir,
                     method ? " of method " : "", method ? method : "");
        goto fail;
    }
    jv = xcalloc(n, sizeof *jv);
    nw = xcalloc(2 * n, sizeof *nw);
    m = xcalloc(n * n, sizeof *m);
    labels = xcalloc(n, sizeof *labels);
    for (size_t i = 0; i < n; i++)
        labels[i] = r[i].user;
    analysis_similarity(r, n, m, jv, nw);
    csv_begin(&cw, &csv);
    csv_str(&cw, "user");
    for (size_t i = 0; i < n; i++)
        csv_str(&cw, r[i].user);
    csv_end_row(&cw);
    for (size_t i = 0; i < n; i++) {
        csv_str(&cw, r[i].user);
        for (size_t j = 0; j < n; j++) {
            if (i != j)
                off += m[i * n + j];
            csv_num(&cw, m[i * n + j]);
        }
        csv_end_row(&cw);
    }
    csv_begin(&cw, &dcsv);
    csv_strs(&cw, drift_head, 6);
    csv_end_row(&cw);
    for (size_t i = 0; i < n; i++) {
        drift += 1 - jv[i];
        csv_str(&cw, method ? method : "");
        csv_str(&cw, r[i].user);
        csv_num(&cw, jv[i]);
        csv_size(&cw, nw[2 * i]);
        csv_size(&cw, nw[2 * i + 1]);
        csv_size(&cw, r[i].iterations);
        csv_end_row(&cw);
    }
    {
        char *title = xasprintf("Jaccard similarity of the final personas (%s)",
                                method ? method : "");
        analysis_svg_heatmap(&svg, title, labels, n, m);
        free(title);
    }
    if ((rc = pe_write_atomic_in(dir, "personas_jaccard.csv", buf_str(&csv), csv.len, &e)) ||
        (rc = pe_write_atomic_in(dir, "personas_jaccard.svg", buf_str(&svg), svg.len, &e)) ||
        (rc = pe_write_atomic_in(dir, "personas_drift.csv", buf_str(&dcsv), dcsv.len, &e)))
        goto fail;
    printf("%zu personas of %s: mean pairwise Jaccard %.3f, mean drift from the initial "
           "persona (1 - Jaccard) %.3f\nwrote %s/personas_jaccard.csv, personas_jaccard.svg, "
           "personas_drift.csv\n",
           n, method ? method : "?", n > 1 ? off / (double)(n * (n - 1)) : 1.0,
           drift / (double)n, dir);
    goto done;
fail:
    fprintf(stderr, "persona-eval: %s\n", e.msg);
done:
    analysis_personas_free(r, n);
    free(jv);
    free(nw);
    free(m);
    free(labels);
    buf_free(&csv);
    buf_free(&svg);
    buf_free(&dcsv);
    free(method);
    return rc;
}
