#include "sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "buf.h"
#include "metrics.h"
#include "report.h"
#include "util.h"

static const struct {
    const char *name;
    unsigned long min;
} params[] = {{"align-batch", 0}, {"align-iters", 0}, {"k", 1}, {"max-steps", 1}};

/* Drop the options a sweep sets itself (--sweep, --out, --NAME) from argv. */
static int skip_arg(const char *a, const char *name, int *skip_next)
{
    const char *own[] = {"--sweep", "--out", NULL, NULL};
    char flag[64];
    snprintf(flag, sizeof flag, "--%s", name);
    own[2] = flag;
    for (size_t i = 0; own[i]; i++) {
        size_t l = strlen(own[i]);
        if (strcmp(a, own[i]) == 0) {
            *skip_next = 1;
            return 1;
        }
        if (strncmp(a, own[i], l) == 0 && a[l] == '=')
            return 1;
    }
    return 0;
}

int sweep_run(int argc, char **argv, const char *spec, const char *out_dir,
              int (*run)(int, char **))
{
    const char *eq = strchr(spec, '=');
    char name[32];
    unsigned long *vals = NULL;
    size_t nvals = 0, cap = 0, min = 0;
    int found = 0, worst = 0;
    pe_err e = {0};
    buf csv = BUF_INIT;
    const task *t = NULL;
    char **labels = NULL;
    double *x = NULL, *y[2] = {NULL, NULL};
    size_t nlabels = 0;

    if (!eq || (size_t)(eq - spec) >= sizeof name) {
        fprintf(stderr, "persona-eval: --sweep: expected NAME=v1,v2,... (NAME: align-batch, "
                        "align-iters, k, max-steps)\n");
        return PE_EXIT_USAGE;
    }
    memcpy(name, spec, (size_t)(eq - spec));
    name[eq - spec] = '\0';
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (strcmp(params[i].name, name) == 0)
            found = 1, min = params[i].min;
    if (!found) {
        fprintf(stderr, "persona-eval: --sweep: cannot sweep \"%s\" (align-batch, align-iters, "
                        "k, max-steps)\n", name);
        return PE_EXIT_USAGE;
    }
    for (const char *p = eq + 1; *p;) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || (*end && *end != ',') || *p == '-' || v < min || v > 1000000) {
            fprintf(stderr, "persona-eval: --sweep %s: \"%s\" is not a list of whole numbers "
                            ">= %zu\n", name, eq + 1, min);
            free(vals);
            return PE_EXIT_USAGE;
        }
        vals = xgrow(vals, &cap, nvals + 1, sizeof *vals);
        vals[nvals++] = v;
        p = *end ? end + 1 : end;
    }
    if (!nvals || pe_mkdirs(out_dir, &e) != 0) {
        fprintf(stderr, "persona-eval: %s\n", nvals ? e.msg : "--sweep: no values");
        free(vals);
        return nvals ? e.code : PE_EXIT_USAGE;
    }
    buf_adds(&csv, "param,value,method");
    x = xcalloc(nvals, sizeof *x);
    for (size_t i = 0; i < nvals; i++) {
        char **av = xcalloc((size_t)argc + 8, sizeof *av), val[32];
        char *sub = xasprintf("%s/%s=%lu", out_dir, name, vals[i]), *flag = xasprintf("--%s", name);
        int ac = 0, skip_next = 0, rc;
        method_summary *s = NULL;
        size_t ns = 0;
        const task *st;

        for (int k = 0; k < argc; k++) {
            if (skip_next) {
                skip_next = 0;
                continue;
            }
            if (k > 0 && skip_arg(argv[k], name, &skip_next))
                continue;
            av[ac++] = argv[k];
        }
        snprintf(val, sizeof val, "%lu", vals[i]);
        av[ac++] = flag;
        av[ac++] = val;
        av[ac++] = "--out";
        av[ac++] = sub;
        av[ac++] = "-q";
        fprintf(stderr, "persona-eval: sweep %s=%lu -> %s\n", name, vals[i], sub);
        rc = run(ac, av);
        x[i] = (double)vals[i];
        if (rc > worst)
            worst = rc;
        if (rc && rc != PE_EXIT_RUNERRORS) {
            free(av);
            free(sub);
            free(flag);
            goto out;
        }
        if (report_read_summary(sub, &st, &s, &ns, &e) != 0) {
            fprintf(stderr, "persona-eval: %s\n", e.msg);
            worst = e.code;
            free(av);
            free(sub);
            free(flag);
            goto out;
        }
        if (!t) {
            const char *mn[2];
            t = st;
            metrics_names(t, mn);
            buf_printf(&csv, ",%s,%s\n", mn[0], mn[1]);
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
            char a[64], b[64];
            pe_fmt_double(a, sizeof a, s[k].value[0]);
            pe_fmt_double(b, sizeof b, s[k].value[1]);
            buf_printf(&csv, "%s,%lu,", name, vals[i]);
            buf_csv_field(&csv, s[k].method);
            buf_printf(&csv, ",%s,%s\n", a, b);
            for (size_t l = 0; l < nlabels; l++)
                if (strcmp(labels[l], s[k].method) == 0) {
                    y[0][l * nvals + i] = s[k].value[0];
                    y[1][l * nvals + i] = s[k].value[1];
                }
        }
        report_free_summaries(s, ns);
        free(av);
        free(sub);
        free(flag);
    }
    {
        int rc = pe_write_atomic_in(out_dir, "sweep.csv", buf_str(&csv), csv.len, &e);
        for (size_t k = 0; !rc && t && k < 2; k++) {
            const char *mn[2];
            buf svg = BUF_INIT;
            char *title, svgname[64];
            metrics_names(t, mn);
            title = xasprintf("%s against %s (%s)", mn[k], name, t->name);
            analysis_svg_lines(&svg, title, name, mn[k], x, nvals, (const char *const *)labels,
                               nlabels, y[k]);
            snprintf(svgname, sizeof svgname, "sweep_%s.svg", mn[k]);
            rc = pe_write_atomic_in(out_dir, svgname, buf_str(&svg), svg.len, &e);
            free(title);
            buf_free(&svg);
        }
        if (rc) {
            fprintf(stderr, "persona-eval: %s\n", e.msg);
            worst = rc;
        } else {
            fputs(buf_str(&csv), stdout);
            printf("\nSweep: %s (sweep.csv, sweep_*.svg)\n", out_dir);
        }
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
