#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct progress {
    FILE *f;
    int line;    /* 1: redrawn status line; 0: log lines */
    int enabled;
    int drawn;   /* something was printed */
    double t0, last, line_s, log_s;
    runner_stats st;
    size_t users_done, users_total;
    int have;    /* st holds a state */
    progress_extra_fn extra;
    void *extra_ctx;
    buf b;
};

int progress_parse_mode(const char *s, progress_mode *m, pe_err *e)
{
    if (strcmp(s, "auto") == 0)
        *m = PROGRESS_AUTO;
    else if (strcmp(s, "always") == 0)
        *m = PROGRESS_ALWAYS;
    else if (strcmp(s, "never") == 0)
        *m = PROGRESS_NEVER;
    else
        return pe_errf(e, PE_EXIT_USAGE, "--progress: \"%s\" is not auto, always or never", s);
    return 0;
}

progress *progress_new(progress_mode mode, FILE *f)
{
    progress *p = xcalloc(1, sizeof *p);
    p->f = f;
    p->enabled = mode != PROGRESS_NEVER;
    p->line = mode == PROGRESS_ALWAYS || (mode == PROGRESS_AUTO && isatty(fileno(f)));
    p->line_s = 0.25;
    p->log_s = 30;
    p->t0 = p->last = pe_now();
    return p;
}

void progress_set_intervals(progress *p, double line_s, double log_s)
{
    p->line_s = line_s;
    p->log_s = log_s;
}

void progress_set_extra(progress *p, progress_extra_fn fn, void *ctx)
{
    p->extra = fn;
    p->extra_ctx = ctx;
}

static void fmt_duration(buf *b, double s)
{
    long v = s < 0 ? 0 : (long)(s + 0.5);
    if (v >= 3600)
        buf_printf(b, "%ldh%02ldm", v / 3600, v / 60 % 60);
    else if (v >= 60)
        buf_printf(b, "%ldm%02lds", v / 60, v % 60);
    else
        buf_printf(b, "%lds", v);
}

void progress_format(buf *out, const runner_stats *st, size_t users_done, size_t users_total,
                     double elapsed)
{
    size_t done = st->queries_skipped + st->queries_done;
    size_t todo = st->queries_total - st->queries_skipped;
    buf_printf(out, "users %zu/%zu  queries %zu/%zu", users_done, users_total, done,
               st->queries_total);
    if (st->calls > 0 && elapsed > 0)
        buf_printf(out, "  calls %ld (%.1f/s)", st->calls, (double)st->calls / elapsed);
    if (st->prompt_tokens + st->completion_tokens > 0)
        buf_printf(out, "  tokens %ld", st->prompt_tokens + st->completion_tokens);
    buf_printf(out, "  errors %zu  elapsed ", st->errors);
    fmt_duration(out, elapsed);
    if (st->queries_done > 0 && st->queries_done < todo) {
        buf_adds(out, "  eta ");
        fmt_duration(out, elapsed / (double)st->queries_done *
                              (double)(todo - st->queries_done));
    }
}

static void emit(progress *p, double now, int final)
{
    buf_reset(&p->b);
    if (p->line)
        buf_adds(&p->b, "\r\033[K");
    buf_adds(&p->b, "persona-eval: ");
    progress_format(&p->b, &p->st, p->users_done, p->users_total, now - p->t0);
    if (p->extra) {
        buf_adds(&p->b, "  ");
        p->extra(p->extra_ctx, &p->b);
    }
    if (!p->line || final)
        buf_addc(&p->b, '\n');
    fputs(buf_str(&p->b), p->f);
    fflush(p->f);
    p->drawn = 1;
    p->last = now;
}

void progress_update(void *ctx, const runner_stats *st, size_t users_done, size_t users_total)
{
    progress *p = ctx;
    double now;
    if (!p || !p->enabled)
        return;
    p->st = *st;
    p->users_done = users_done;
    p->users_total = users_total;
    p->have = 1;
    now = pe_now();
    if (now - p->last >= (p->line ? p->line_s : p->log_s))
        emit(p, now, 0);
}

void progress_finish(progress *p)
{
    if (!p || !p->enabled || !p->have)
        return;
    if (p->line || p->drawn)
        emit(p, pe_now(), 1);
}

void progress_free(progress *p)
{
    if (!p)
        return;
    buf_free(&p->b);
    free(p);
}
