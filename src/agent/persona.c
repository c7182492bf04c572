#include "persona.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void llm_acct_add(llm_acct *a, const llm_response *r, double price_in, double price_out)
{
    a->calls++;
    if (r->usage.known) {
        a->prompt_tokens += r->usage.prompt_tokens;
        a->completion_tokens += r->usage.completion_tokens;
        double c = ((double)r->usage.prompt_tokens * price_in +
                    (double)r->usage.completion_tokens * price_out) / 1e6;
        a->cost_usd += c;
        a->cost_spent_usd += r->cached ? 0 : c;
    } else {
        a->unknown++;
    }
    a->cached += r->cached != 0;
}

void llm_acct_merge(llm_acct *a, const llm_acct *b)
{
    a->calls += b->calls;
    a->prompt_tokens += b->prompt_tokens;
    a->completion_tokens += b->completion_tokens;
    a->unknown += b->unknown;
    a->cached += b->cached;
    a->cost_usd += b->cost_usd;
    a->cost_spent_usd += b->cost_spent_usd;
}

char *persona_item_line(const task *t, const ds_item *it)
{
    /* the layout of the memory tool's observation lines, so that summaries and
     * observations read alike */
    char *text = task_item_text(t, (const char *const *)it->field), *line;
    const char *date = it->date;
    if (t->id == TASK_LAMP1)
        line = xasprintf("%s%s%s\"%s\"", date ? "[" : "", date ? date : "", date ? "] " : "",
                         it->field[0]);
    else
        line = xasprintf("%s%s%s\"%s\" -> label: %s", date ? "[" : "", date ? date : "",
                         date ? "] " : "", text, it->label ? it->label : "");
    free(text);
    return line;
}

/* One single-message call; content of the answer in *out (stripped). */
static int ask(const persona_llm *pl, llm_worker *w, const char *text, char **out,
               llm_acct *acct, pe_err *e)
{
    llm_msg m = {LLM_USER, text, NULL, 0, NULL};
    llm_request rq;
    llm_response r;
    int rc;

    memset(&rq, 0, sizeof rq);
    rq.msgs = &m;
    rq.nmsgs = 1;
    rq.temperature = pl->temperature;
    *out = NULL;
    rc = llm_chat(w, &rq, &r, e);
    if (!rc || r.http_status)
        llm_acct_add(acct, &r, pl->price_in, pl->price_out);
    if (!rc)
        *out = pe_strip(r.content ? r.content : "");
    llm_response_free(&r);
    return rc;
}

int persona_summarize(const persona_llm *pl, llm_worker *w, const ds_user *u, size_t upto,
                      size_t items, size_t max_chars, char **out, llm_acct *acct, pe_err *e)
{
    size_t lo, start, used = 0;
    buf list = BUF_INIT;
    char name[64], *prompt;
    int rc;

    *out = NULL;
    if (upto > u->nitems)
        upto = u->nitems;
    lo = upto > items ? upto - items : 0;
    /* the newest items first until the budget is spent; listed oldest first */
    for (start = upto; start > lo; start--) {
        char *l = persona_item_line(pl->task, &u->items[start - 1]);
        size_t len = strlen(l);
        free(l);
        if (max_chars && used > 0 && used + len > max_chars)
            break;
        used += len;
    }
    if (start == upto) {
        *out = xstrdup("");
        return 0;
    }
    for (size_t i = start, k = 1; i < upto; i++, k++) {
        char *l = persona_item_line(pl->task, &u->items[i]);
        buf_printf(&list, "%zu. %s\n", k, l);
        free(l);
    }
    snprintf(name, sizeof name, "summary_%s", pl->task->name);
    {
        const char *kv[] = {"items", buf_str(&list), NULL};
        prompt = prompts_render(pl->prompts, name, kv, e);
    }
    buf_free(&list);
    if (!prompt)
        return e->code;
    rc = ask(pl, w, prompt, out, acct, e);
    free(prompt);
    return rc;
}

char *persona_initial(const persona_llm *pl, const char *summary, pe_err *e)
{
    const char *kv[] = {"summary", summary ? summary : "", NULL};
    return prompts_render(pl->prompts, "persona_init", kv, e);
}

/* One replayed item of a batch, run on its own thread. */
typedef struct replay_job {
    const persona_llm *pl;
    const persona_align_opts *o;
    const char *persona;
    size_t item;
    char *input, *expected, *answer, *error, *feedback;
    llm_acct acct;
    int rc;
    pe_err err;
} replay_job;

static void *replay_thread(void *arg)
{
    replay_job *j = arg;
    llm_worker *w = llm_worker_new(j->pl->client);
    j->rc = j->o->simulate(j->o->ctx, w, j->persona, j->item, j->input, &j->answer, &j->error,
                           &j->acct, &j->err);
    if (!j->rc) {
        const char *kv[] = {"question", j->input, "expected", j->expected, "response",
                            j->answer ? j->answer : "(no answer)", NULL};
        char *prompt = prompts_render(j->pl->prompts, "feedback", kv, &j->err);
        if (!prompt) {
            j->rc = j->err.code;
        } else {
            int rc = ask(j->pl, w, prompt, &j->feedback, &j->acct, &j->err);
            free(prompt);
            /* a failed feedback call leaves this item out of the update */
            if (rc == PE_EXIT_UNAVAILABLE)
                j->rc = rc;
            else if (rc) {
                free(j->error);
                j->error = xstrdup(j->err.msg);
            }
        }
    }
    llm_worker_free(w);
    return NULL;
}

static int default_replay(const task *t, const ds_item *it, char **input, char **expected)
{
    const char *v[2] = {it->field[0], it->field[1]};
    if (!it->label || t->id == TASK_LAMP1)
        return -1;
    *input = task_build_input(t, v);
    *expected = xstrdup(it->label);
    return *input ? 0 : -1;
}

int persona_align(const persona_llm *pl, const ds_user *u, const persona_align_opts *o,
                  char **persona, buf *log, llm_acct *acct, pe_err *e)
{
    size_t next = o->upto < u->nitems ? o->upto : u->nitems; /* replay items below this */
    size_t failed = 0;
    int rc = 0;

    buf_addc(log, '[');
    for (size_t it = 0; it < o->iters && !rc; it++) {
        replay_job *jobs = xcalloc(o->batch ? o->batch : 1, sizeof *jobs);
        pthread_t *th = xcalloc(o->batch ? o->batch : 1, sizeof *th);
        char *started = xcalloc(o->batch ? o->batch : 1, 1);
        size_t n = 0;
        buf agg = BUF_INIT;

        /* the most recent replayable items not used by an earlier iteration */
        while (n < o->batch && next > 0) {
            replay_job *j = &jobs[n];
            size_t item = --next;
            int ok = o->replay ? o->replay(o->ctx, item, &j->input, &j->expected)
                               : default_replay(pl->task, &u->items[item], &j->input,
                                                &j->expected);
            if (ok != 0)
                continue;
            j->pl = pl;
            j->o = o;
            j->persona = *persona;
            j->item = item;
            n++;
        }
        if (n == 0) {
            free(jobs);
            free(th);
            free(started);
            break;
        }
        for (size_t i = 0; i < n; i++)
            started[i] = pthread_create(&th[i], NULL, replay_thread, &jobs[i]) == 0;
        for (size_t i = 0; i < n; i++) {
            if (started[i])
                pthread_join(th[i], NULL);
            else
                replay_thread(&jobs[i]);
        }
        buf_printf(log, "%s{\"iteration\":%zu,\"items\":[", it ? "," : "", it + 1);
        for (size_t i = 0, k = 0; i < n; i++) {
            replay_job *j = &jobs[i];
            llm_acct_merge(acct, &j->acct);
            if (j->rc && !rc) {
                rc = j->rc;
                *e = j->err;
            }
            buf_printf(log, "%s{\"id\":", i ? "," : "");
            buf_json_str(log, u->items[j->item].id);
            buf_adds(log, ",\"expected\":");
            buf_json_str_or_null(log, j->expected);
            buf_adds(log, ",\"answer\":");
            buf_json_str_or_null(log, j->answer);
            buf_adds(log, ",\"feedback\":");
            buf_json_str_or_null(log, j->feedback);
            buf_adds(log, ",\"error\":");
            buf_json_str_or_null(log, j->error);
            buf_addc(log, '}');
            if (j->feedback && *j->feedback)
                buf_printf(&agg, "%zu. %s\n", ++k, j->feedback);
            failed += j->error != NULL;
        }
        buf_addc(log, ']');
        if (!rc && agg.len) {
            const char *kv[] = {"persona", *persona, "feedback", buf_str(&agg), NULL};
            char *prompt = prompts_render(pl->prompts, "update", kv, e), *np = NULL;
            llm_worker *w;
            if (!prompt) {
                rc = e->code;
            } else {
                w = llm_worker_new(pl->client);
                rc = ask(pl, w, prompt, &np, acct, e);
                llm_worker_free(w);
                free(prompt);
                if (rc == PE_EXIT_RUNERRORS) {
                    /* the update failed: keep the persona, record why */
                    buf_adds(log, ",\"update_error\":");
                    buf_json_str(log, e->msg);
                    failed++;
                    rc = 0;
                } else if (!rc && np && *np) {
                    free(*persona);
                    *persona = np;
                    np = NULL;
                }
                free(np);
            }
        }
        buf_adds(log, ",\"persona\":");
        buf_json_str(log, *persona);
        buf_addc(log, '}');
        for (size_t i = 0; i < n; i++) {
            free(jobs[i].input);
            free(jobs[i].expected);
            free(jobs[i].answer);
            free(jobs[i].error);
            free(jobs[i].feedback);
        }
        buf_free(&agg);
        free(jobs);
        free(th);
        free(started);
    }
    buf_addc(log, ']');
    if (o->failed)
        *o->failed = failed;
    return rc;
}
