#include "sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "buf.h"
#include "csv.h"
#include "metrics.h"
#include "report.h"
#include "pe_run.h"
#include "run_config.h"
#include "util.h"

static const struct {
    const char *name;
    unsigned long min;
} params[] = {{"align-batch", 0}, {"align-iters", 0}, {"k", 1}, {"max-steps", 1}};

/* The command recorded in a sweep run's run.json: the sweep's, without its
 * --sweep and --out (and any opt of its own), with "opt v" and "--out sub", so
 * that `--resume sub` alone continues that run. Returns an array of n words
 * to free with the words. */
static char **run_command(const pe_run_config *c, const char *opt, unsigned long v,
                          const char *sub, size_t *n)
{
    const char *drop[] = {"--sweep", "--out", opt};
    char **w = xcalloc(c->ncommand + 4, sizeof *w);
    size_t k = 0;
    for (size_t i = 0; i < c->ncommand; i++) {
        const char *s = c->command[i];
        int skip = 0;
        for (size_t d = 0; d < sizeof drop / sizeof *drop && !skip; d++) {
            size_t l = strlen(drop[d]);
            if (strncmp(s, drop[d], l) == 0 && (s[l] == '\0' || s[l] == '='))
                skip = s[l] == '\0' ? 2 : 1; /* the option, and its value when apart */
        }
        if (skip) {
            i += (size_t)skip - 1;
            continue;
        }
        w[k++] = xstrdup(s);
    }
    w[k++] = xstrdup(opt);
    w[k++] = xasprintf("%lu", v);
    w[k++] = xstrdup("--out");
    w[k++] = xstrdup(sub);
    *n = k;
    return w;
}

int sweep_run(const pe_run_config *c, const char *spec, const char *out_dir, pe_err *e)
{
    const char *eq = strchr(spec, '=');
    char name[32], opt[40];
    unsigned long *vals = NULL;
    size_t nvals = 0, cap = 0, min = 0;
    int found = 0, worst = 0;
    buf csv = BUF_INIT;
    csv_writer cw;
    const task *t = NULL;
    char **labels = NULL;
    double *x = NULL, *y[2] = {NULL, NULL};
    size_t nlabels = 0;
    const run_setting *rs;

    if (!eq || (size_t)(eq - spec) >= sizeof name)
        return pe_errf(e, PE_EXIT_USAGE, "--sweep: expected NAME=v1,v2,... (NAME: align-batch, "
                                         "align-iters, k, max-steps)");
    memcpy(name, spec, (size_t)(eq - spec));
    name[eq - spec] = '\0';
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (strcmp(params[i].name, name) == 0)
            found = 1, min = params[i].min;
    snprintf(opt, sizeof opt, "--%s", name);
    rs = run_settings_find(opt);
    if (!found || !rs || rs->type != RS_SIZE)
        return pe_errf(e, PE_EXIT_USAGE, "--sweep: cannot sweep \"%s\" (align-batch, "
                                         "align-iters, k, max-steps)", name);
    for (const char *p = eq + 1; *p;) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || (*end && *end != ',') || *p == '-' || v < min || v > 1000000) {
            free(vals);
            return pe_errf(e, PE_EXIT_USAGE, "--sweep %s: \"%s\" is not a list of whole numbers "
                                             ">= %zu", name, eq + 1, min);
        }
        vals = xgrow(vals, &cap, nvals + 1, sizeof *vals);
        vals[nvals++] = v;
        p = *end ? end + 1 : end;
    }
    if (!nvals) {
        free(vals);
        return pe_errf(e, PE_EXIT_USAGE, "--sweep: no values");
    }
    if (pe_mkdirs(out_dir, e) != 0) {
        free(vals);
        return e->code;
    }
    csv_begin(&cw, &csv);
    csv_strs(&cw, (const char *const[]){"param", "value", "method"}, 3);
    x = xcalloc(nvals, sizeof *x);
    for (size_t i = 0; i < nvals; i++) {
        char *sub = xasprintf("%s/%s=%lu", out_dir, name, vals[i]);
        pe_run_config one = *c;
        pe_run_result res;
        int rc;
        method_summary *s = NULL;
        size_t ns = 0, nwords;
        const task *st;
        char **words;

        *(size_t *)((char *)&one + rs->offset) = (size_t)vals[i];
        one.out = sub;
        words = run_command(c, opt, vals[i], sub, &nwords);
        one.command = (const char *const *)words;
        one.ncommand = nwords;
        pe_logf(c->log, c->log_ctx, "sweep %s=%lu -> %s", name, vals[i], sub);
        rc = pe_run(&one, &res, e);
        for (size_t k = 0; k < nwords; k++)
            free(words[k]);
        free(words);
        if (res.abandoned) { /* the workers still read the sub-run's data */
            free(sub);
            worst = rc;
            goto out;
        }
        pe_run_result_free(&res);
        x[i] = (double)vals[i];
        if (rc > worst)
            worst = rc;
        if (rc && rc != PE_EXIT_RUNERRORS) {
            free(sub);
            goto out;
        }
        if (report_read_summary(sub, &st, &s, &ns, e) != 0) {
            worst = e->code;
            free(sub);
            goto out;
        }
        if (!t) {
            const char *mn[2];
            t = st;
            metrics_names(t, mn);
            csv_strs(&cw, mn, 2);
            csv_end_row(&cw);
            nlabels = ns;
            labels = xcalloc(ns ? ns : 1, sizeof *labels);
            for (size_t k = 0; k < ns; k++)
                labels[k] = xstrdup(s[k].method);
            y[0] = xcalloc(nvals * (ns ? ns : 1), sizeof *y[0]);
            y[1] = xcalloc(nvals * (ns ? ns : 1), sizeof *y[1]);
            for (size_t k = 0; k < nvals * (ns ? ns : 1); k++)
                y[0][k] = y[1][k] = NAN;
        }
        for (size_t k = 0; k < ns; k++) {
            csv_str(&cw, name);
            csv_size(&cw, (size_t)vals[i]);
            csv_str(&cw, s[k].method);
            csv_num(&cw, s[k].value[0]);
            csv_num(&cw, s[k].value[1]);
            csv_end_row(&cw);
            for (size_t l = 0; l < nlabels; l++)
                if (strcmp(labels[l], s[k].method) == 0) {
                    y[0][l * nvals + i] = s[k].value[0];
                    y[1][l * nvals + i] = s[k].value[1];
                }
        }
        report_free_summaries(s, ns);
        free(sub);
    }
    {
        int rc = pe_write_atomic_in(out_dir, "sweep.csv", buf_str(&csv), csv.len, e);
        for (size_t k = 0; !rc && t && k < 2; k++) {
            const char *mn[2];
            buf svg = BUF_INIT;
            char *title, svgname[64];
            metrics_names(t, mn);
            title = xasprintf("%s against %s (%s)", mn[k], name, t->name);
            analysis_svg_lines(&svg, title, name, mn[k], x, nvals, (const char *const *)labels,
                               nlabels, y[k]);
            snprintf(svgname, sizeof svgname, "sweep_%s.svg", mn[k]);
            rc = pe_write_atomic_in(out_dir, svgname, buf_str(&svg), svg.len, e);
            free(title);
            buf_free(&svg);
        }
        if (rc)
            worst = rc;
    }
out:
    for (size_t k = 0; k < nlabels; k++)
        free(labels[k]);
    free(labels);
    free(x);
    free(y[0]);
    free(y[1]);
    free(vals);
    buf_free(&csv);
    return worst;
}
