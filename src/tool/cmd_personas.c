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

typedef struct persona_rec {
    char *user, *initial, *final;
    size_t iterations;
} persona_rec;

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

static int rec_cmp(const void *a, const void *b)
{
    return strcmp(((const persona_rec *)a)->user, ((const persona_rec *)b)->user);
}

/* The last record of each user for method *method; with *method NULL,
 * personaagent when the file has it, else the first method with personas.
 * *method is always a string the caller frees. */
static int load(const char *dir, char **method, persona_rec **out, size_t *nout, pe_err *e)
{
    char *path = xasprintf("%s/personas.jsonl", dir), *data;
    size_t len, n = 0, cap = 0, lineno = 0;
    persona_rec *v = NULL;
    cJSON **lines = NULL;
    size_t nlines = 0, lcap = 0;
    int rc = pe_read_file(path, 0, &data, &len, e);

    *out = NULL;
    *nout = 0;
    if (rc) {
        free(path);
        return rc;
    }
    for (size_t pos = 0; pos < len && !rc;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (data + pos)) : len - pos;
        cJSON *j = ll ? jsonu_parse(data + pos, ll, NULL) : NULL;
        lineno++;
        pos += ll + (nl ? 1 : 0);
        if (!ll)
            continue;
        if (!j) {
            if (nl) /* a torn last line is dropped; a bad line elsewhere is an error */
                rc = pe_errf(e, PE_EXIT_DATA, "%s:%zu: not JSON", path, lineno);
            continue;
        }
        if (!jsonu_str(j, "method") || !jsonu_str(j, "user") || !jsonu_str(j, "final")) {
            cJSON_Delete(j);
            continue;
        }
        lines = xgrow(lines, &lcap, nlines + 1, sizeof *lines);
        lines[nlines++] = j;
    }
    for (size_t i = 0; !*method && i < nlines; i++)
        if (strcmp(jsonu_str(lines[i], "method"), "personaagent") == 0)
            *method = xstrdup("personaagent");
    if (!*method)
        *method = xstrdup(nlines ? jsonu_str(lines[0], "method") : "");
    for (size_t i = 0; !rc && i < nlines; i++) {
        const cJSON *j = lines[i], *al = cJSON_GetObjectItemCaseSensitive(j, "alignment");
        const char *u = jsonu_str(j, "user"), *ini = jsonu_str(j, "initial");
        persona_rec *r = NULL;
        if (strcmp(jsonu_str(j, "method"), *method) != 0)
            continue;
        for (size_t k = 0; k < n; k++)
            if (strcmp(v[k].user, u) == 0)
                r = &v[k];
        /* the first line holds the initial persona; a later one (an --online
         * re-alignment, or a resumed run) the newer final persona */
        if (!r) {
            v = xgrow(v, &cap, n + 1, sizeof *v);
            r = &v[n++];
            r->user = xstrdup(u);
            r->initial = xstrdup(ini ? ini : "");
            r->iterations = 0;
        } else {
            free(r->final);
        }
        r->final = xstrdup(jsonu_str(j, "final"));
        {
            /* a turn-0 line again (a resumed run prepared the user anew) restarts the count */
            const cJSON *turn = cJSON_GetObjectItemCaseSensitive(j, "turn");
            size_t it = cJSON_IsArray(al) ? (size_t)cJSON_GetArraySize(al) : 0;
            if (!cJSON_IsNumber(turn) || turn->valuedouble == 0)
                r->iterations = it;
            else
                r->iterations += it;
        }
    }
    for (size_t i = 0; i < nlines; i++)
        cJSON_Delete(lines[i]);
    free(lines);
    free(data);
    free(path);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(v[i].user), free(v[i].initial), free(v[i].final);
        free(v);
        return rc;
    }
    qsort(v, n, sizeof *v, rec_cmp);
    *out = v;
    *nout = n;
    return 0;
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
    persona_rec *r = NULL;
    size_t n = 0;
    word_set *fin = NULL;
    double *m = NULL, off = 0, drift = 0;
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
    if ((rc = load(dir, &method, &r, &n, &e)))
        goto fail;
    if (n == 0) {
        rc = pe_errf(&e, PE_EXIT_DATA, "%s/personas.jsonl: no personas%s%s", dir,
                     method ? " of method " : "", method ? method : "");
        goto fail;
    }
    fin = xcalloc(n, sizeof *fin);
    m = xcalloc(n * n, sizeof *m);
    labels = xcalloc(n, sizeof *labels);
    for (size_t i = 0; i < n; i++) {
        fin[i] = analysis_words(r[i].final);
        labels[i] = r[i].user;
    }
    csv_begin(&cw, &csv);
    csv_str(&cw, "user");
    for (size_t i = 0; i < n; i++)
        csv_str(&cw, r[i].user);
    csv_end_row(&cw);
    for (size_t i = 0; i < n; i++) {
        csv_str(&cw, r[i].user);
        for (size_t j = 0; j < n; j++) {
            m[i * n + j] = i == j ? 1.0 : analysis_jaccard(&fin[i], &fin[j]);
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
        word_set ini = analysis_words(r[i].initial);
        double jv = analysis_jaccard(&ini, &fin[i]);
        drift += 1 - jv;
        csv_str(&cw, method ? method : "");
        csv_str(&cw, r[i].user);
        csv_num(&cw, jv);
        csv_size(&cw, ini.n);
        csv_size(&cw, fin[i].n);
        csv_size(&cw, r[i].iterations);
        csv_end_row(&cw);
        analysis_words_free(&ini);
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
    for (size_t i = 0; i < n; i++) {
        free(r[i].user);
        free(r[i].initial);
        free(r[i].final);
        if (fin)
            analysis_words_free(&fin[i]);
    }
    free(r);
    free(fin);
    free(m);
    free(labels);
    buf_free(&csv);
    buf_free(&svg);
    buf_free(&dcsv);
    free(method);
    return rc;
}
