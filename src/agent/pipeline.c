#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "memory.h"
#include "persona.h"
#include "tools.h"
#include "topk.h"

/* What one agent run is made of, built from a method's `uses` bits. */
typedef struct plan {
    char *system;
    char *user;
    agent_tool tools[2];
    size_t ntools;
    memory_tool_ctx mctx;
    struct membank_state *mb;
    topk_filter filter;
    size_t exclude;
} plan;

static void plan_free(plan *p)
{
    free(p->system);
    free(p->user);
    if (p->mb)
        membank_state_free(p->mb);
    memset(p, 0, sizeof *p);
}

static persona_llm persona_cfg(const run_shared *rs)
{
    persona_llm pl;
    pl.client = rs->llm;
    pl.prompts = rs->prompts;
    pl.task = rs->task;
    pl.temperature = rs->temperature;
    pl.price_in = rs->price_in;
    pl.price_out = rs->price_out;
    return pl;
}

int pipeline_user_summary(const run_shared *rs, user_state *us, llm_worker *w,
                          const char **summary, const char **error, pe_err *e)
{
    int rc = 0;
    pthread_mutex_lock(&us->mu);
    if (!us->summary_done) {
        persona_llm pl = persona_cfg(rs);
        pe_err qe = {0};
        char *s = NULL;
        memset(&us->summary_acct, 0, sizeof us->summary_acct);
        rc = persona_summarize(&pl, w, us->user, us->user->nitems, rs->summary_items,
                               rs->summary_chars, &s, &us->summary_acct, &qe);
        if (rc == PE_EXIT_RUNERRORS) {
            us->summary_error = xasprintf("semantic memory: %s", qe.msg);
            rc = 0;
        } else if (rc) {
            *e = qe;
        } else {
            us->summary = s;
        }
        us->summary_done = !rc;
    }
    *summary = us->summary;
    *error = us->summary_error;
    pthread_mutex_unlock(&us->mu);
    return rc;
}

/* ICL: k demonstrations (input -> label) from other users' histories, drawn
 * with the run's seed; lamp1 demonstrations are built from another user's
 * paper, that user's previous paper as the related reference and a third
 * user's paper as the other. */
static char *icl_prompt(const run_shared *rs, const user_state *us, const ds_query *q)
{
    const task *t = rs->task;
    size_t np = methods_pool_size(rs), self = methods_pool_find(rs, us->user->id);
    buf b = BUF_INIT;
    pe_rng rng;
    size_t made = 0;

    pe_rng_seed(&rng, rs->seed ^ pe_hash64(q->id, strlen(q->id),
                                          pe_hash64(us->user->id, strlen(us->user->id), 0)));
    for (size_t tries = 0; np > 1 && made < rs->k && tries < 50 * rs->k; tries++) {
        size_t o = (self + 1 + pe_rng_below(&rng, np - 1)) % np;
        const ds_user *ou = methods_pool_user(rs, o);
        char *in = NULL;
        const char *label = NULL;
        char *lab1 = NULL;
        if (!ou->nitems)
            continue;
        if (t->id == TASK_LAMP1) {
            size_t j, third;
            const ds_user *tu;
            if (ou->nitems < 2 || np < 3)
                continue;
            j = 1 + pe_rng_below(&rng, ou->nitems - 1);
            third = (o + 1 + pe_rng_below(&rng, np - 1)) % np;
            tu = methods_pool_user(rs, third);
            if (third == self || !tu->nitems)
                continue;
            {
                const char *neg = tu->items[pe_rng_below(&rng, tu->nitems)].field[0];
                int first = pe_rng_below(&rng, 2) == 0;
                in = task_build_lamp1_input(ou->items[j].field[0],
                                            first ? ou->items[j - 1].field[0] : neg,
                                            first ? neg : ou->items[j - 1].field[0]);
                lab1 = xstrdup(first ? "[1]" : "[2]");
                label = lab1;
            }
        } else {
            const ds_item *it = &ou->items[pe_rng_below(&rng, ou->nitems)];
            const char *v[2] = {it->field[0], it->field[1]};
            if (!it->label)
                continue;
            in = task_build_input(t, v);
            label = it->label;
        }
        buf_printf(&b, "%s\nAnswer: %s\n\n", in, label);
        free(in);
        free(lab1);
        made++;
    }
    buf_adds(&b, q->input);
    return buf_detach(&b);
}

/* The query text, the system prompt, the user message and the tools of one
 * agent run. persona: the system prompt of M_PERSONA methods. cutoff and
 * exclude restrict memory (alignment replays); TOPK_ALL for test queries. */
static int build_plan(const run_shared *rs, user_state *us, size_t mi, const char *persona,
                      const char *input, const char *qid, const char *qdate, size_t cutoff,
                      plan *p, char **qerr, llm_worker *w, pe_err *e)
{
    const method *m = rs->methods[mi];
    unsigned u = m->uses;
    memory *mem = NULL;
    const char *summary = NULL, *serr = NULL;
    int rc;

    memset(p, 0, sizeof *p);
    p->filter = (topk_filter){cutoff, NULL, 0, NULL};
    if (cutoff != TOPK_ALL) {
        p->exclude = cutoff;
        p->filter.exclude = &p->exclude;
        p->filter.nexclude = 1;
    }
    if (u & M_MEMORY) {
        mem = methods_user_memory(rs, us, e);
        if (!mem && e->code == PE_EXIT_RUNERRORS) { /* an embeddings request failed */
            *qerr = xasprintf("episodic memory: %s", e->msg);
            return 0;
        }
        if (!mem)
            return e->code;
    }
    if ((u & M_SUMMARY) && !(u & M_PERSONA)) {
        if ((rc = pipeline_user_summary(rs, us, w, &summary, &serr, e)))
            return rc;
        if (!summary) {
            *qerr = xstrdup(serr);
            return 0;
        }
    }
    /* system prompt */
    if (u & M_PERSONA) {
        p->system = xstrdup(persona ? persona : "");
    } else if (u & M_MEMBANK) {
        const char *kv[] = {"summary", summary, NULL};
        if (!(p->system = prompts_render(rs->prompts, "system_membank", kv, e)))
            return e->code;
    } else if (u & (M_TOOL_MEMORY | M_TOOL_WIKI)) {
        if (!(p->system = prompts_render(rs->prompts, "system_generic", NULL, e)))
            return e->code;
    }
    /* user message */
    if (u & M_RAG) {
        char *qt = task_query_text(rs->task, input);
        topk_hit *hits = xcalloc(rs->k ? rs->k : 1, sizeof *hits);
        size_t n = 0;
        rc = memory_search(mem, qt, rs->k, &p->filter, hits, &n, e);
        free(qt);
        if (rc) {
            free(hits);
            return rc;
        }
        p->user = memory_format_lamp(mem, rs->task, hits, n, input);
        free(hits);
        if (u & M_SUMMARY) {
            const char *kv[] = {"summary", summary, "prompt", p->user, NULL};
            char *s = prompts_render(rs->prompts, "pag", kv, e);
            if (!s)
                return e->code;
            free(p->user);
            p->user = s;
        }
    } else if (u & M_ICL) {
        ds_query q = {(char *)qid, (char *)qdate, (char *)input, NULL};
        p->user = icl_prompt(rs, us, &q);
    } else {
        p->user = xstrdup(input);
    }
    /* tools */
    if (u & M_TOOL_MEMORY) {
        p->mctx.mem = mem;
        p->mctx.k = rs->k;
        p->mctx.filter = &p->filter;
        p->mctx.max_chars = rs->obs_chars;
        if (u & M_MEMBANK)
            p->mctx.membank = p->mb = membank_state_new(mem, qdate);
        p->tools[p->ntools++] = tools_memory(rs->prompts, &p->mctx);
    }
    if ((u & M_TOOL_WIKI) && rs->wiki)
        p->tools[p->ntools++] = tools_wikipedia(rs->prompts, rs->wiki);
    return 0;
}

static void write_trace(const run_shared *rs, const char *user, const char *id, const char *mname,
                        const char *phase, const char *trace)
{
    buf b = BUF_INIT;
    if (!rs->sink.trace)
        return;
    buf_adds(&b, "{\"user\":");
    buf_json_str(&b, user);
    buf_adds(&b, ",\"id\":");
    buf_json_str(&b, id);
    buf_adds(&b, ",\"method\":");
    buf_json_str(&b, mname);
    buf_adds(&b, ",\"phase\":");
    buf_json_str(&b, phase);
    buf_adds(&b, ",\"steps\":");
    buf_adds(&b, trace && *trace ? trace : "[]");
    buf_addc(&b, '}');
    rs->sink.trace(rs->sink.ctx, buf_str(&b));
    buf_free(&b);
}

/* Run one agent on a plan; the answer or the per-query error into ans/err. */
static int run_plan(const run_shared *rs, llm_worker *w, const plan *p, agent_result *r,
                    pe_err *e)
{
    agent_opts o;
    memset(&o, 0, sizeof o);
    o.system = p->system;
    o.user = p->user;
    o.tools = p->tools;
    o.ntools = p->ntools;
    o.max_steps = rs->max_steps;
    o.mode = rs->tools_mode;
    o.text_fallback = rs->text_fallback;
    o.max_tool_calls = rs->max_tool_calls;
    o.prompts = rs->prompts;
    o.temperature = rs->temperature;
    o.max_observation_chars = rs->max_obs_chars;
    return agent_run(w, &o, r, e);
}

typedef struct sim_ctx {
    const run_shared *rs;
    user_state *us;
    size_t mi;
} sim_ctx;

static int simulate(void *ctx, llm_worker *w, const char *persona, size_t item, const char *input,
                    char **answer, char **error, llm_acct *acct, pe_err *e)
{
    sim_ctx *c = ctx;
    const ds_item *it = &c->us->user->items[item];
    plan p;
    agent_result r;
    char *qerr = NULL;
    int rc;

    *answer = *error = NULL;
    rc = build_plan(c->rs, c->us, c->mi, persona, input, it->id, it->date, item, &p, &qerr, w, e);
    if (rc || qerr) {
        *error = qerr;
        plan_free(&p);
        return rc;
    }
    memset(&r, 0, sizeof r);
    rc = run_plan(c->rs, w, &p, &r, e);
    write_trace(c->rs, c->us->user->id, it->id, c->rs->methods[c->mi]->name, "align", r.trace);
    acct->calls += r.calls;
    if (r.prompt_tokens >= 0 && r.completion_tokens >= 0) {
        acct->prompt_tokens += r.prompt_tokens;
        acct->completion_tokens += r.completion_tokens;
    } else {
        acct->unknown += r.calls;
    }
    acct->cached += r.calls_cached;
    if (r.cost_usd > 0)
        acct->cost_usd += r.cost_usd;
    if (r.cost_spent_usd > 0)
        acct->cost_spent_usd += r.cost_spent_usd;
    if (!rc) {
        *answer = r.answer;
        *error = r.error;
        r.answer = r.error = NULL;
    }
    agent_result_free(&r);
    plan_free(&p);
    return rc;
}

/* lamp1 replay of paper j: title j; the related reference is the user's
 * older paper most similar to it, the other a paper of another user; the
 * position of the related one is drawn with the run's seed. */
static int lamp1_replay(void *ctx, size_t item, char **input, char **expected)
{
    sim_ctx *c = ctx;
    const run_shared *rs = c->rs;
    const ds_user *u = c->us->user;
    memory *mem;
    topk_hit hit;
    size_t n = 0;
    topk_filter f = {item, NULL, 0, NULL};
    pe_err e = {0};
    pe_rng rng;
    const ds_user *other;
    const char *neg;
    int first;
    size_t np = methods_pool_size(rs), self = methods_pool_find(rs, u->id);

    if (item == 0 || np < 2 || !(mem = methods_user_memory(rs, c->us, &e)))
        return -1;
    if (memory_search(mem, u->items[item].field[0], 1, &f, &hit, &n, &e) != 0 || n == 0)
        return -1;
    pe_rng_seed(&rng, rs->seed ^ pe_hash64(u->items[item].id, strlen(u->items[item].id), 1));
    other = methods_pool_user(rs, (self + 1 + pe_rng_below(&rng, np - 1)) % np);
    if (!other->nitems)
        return -1;
    neg = other->items[pe_rng_below(&rng, other->nitems)].field[0];
    first = pe_rng_below(&rng, 2) == 0;
    *input = task_build_lamp1_input(u->items[item].field[0],
                                    first ? u->items[hit.index].field[0] : neg,
                                    first ? neg : u->items[hit.index].field[0]);
    *expected = xstrdup(first ? "[1]" : "[2]");
    return 0;
}

/* The accounting of a piece of preparation as a JSON object. */
static void acct_json(buf *b, const llm_acct *a)
{
    char cost[64], spent[64];
    pe_fmt_double(cost, sizeof cost, a->cost_usd);
    pe_fmt_double(spent, sizeof spent, a->cost_spent_usd);
    buf_printf(b, "{\"calls\":%ld,\"calls_cached\":%ld,\"prompt_tokens\":%ld,"
                  "\"completion_tokens\":%ld,\"calls_unreported\":%ld,\"cost_usd\":%s,"
                  "\"cost_spent_usd\":%s}",
               a->calls, a->cached, a->prompt_tokens, a->completion_tokens, a->unknown, cost,
               spent);
}

/* One line of personas.jsonl: turn 0 is the preparation before the user's
 * queries, turn t > 0 a re-alignment after t answers (--online). "prep" holds
 * the calls made for this method alone (alignment), "shared" the user's
 * summary, made once for every method that uses it (NULL: none). The
 * summaries add both to the method's row. */
static void log_persona(const run_shared *rs, const user_state *us, size_t mi, size_t turn,
                        const char *summary, const char *initial, const buf *alignment,
                        const llm_acct *own, const llm_acct *shared)
{
    static const llm_acct none;
    const user_method *um = &us->per[mi];
    buf line = BUF_INIT;
    if (!rs->sink.persona)
        return;
    buf_adds(&line, "{\"user\":");
    buf_json_str(&line, us->user->id);
    buf_adds(&line, ",\"method\":");
    buf_json_str(&line, rs->methods[mi]->name);
    buf_printf(&line, ",\"turn\":%zu,\"summary\":", turn);
    buf_json_str_or_null(&line, summary);
    buf_adds(&line, ",\"error\":");
    buf_json_str_or_null(&line, um->prep_error);
    buf_adds(&line, ",\"initial\":");
    buf_json_str_or_null(&line, initial);
    buf_adds(&line, ",\"alignment\":");
    buf_adds(&line, alignment->len ? buf_str(alignment) : "[]");
    buf_adds(&line, ",\"final\":");
    buf_json_str_or_null(&line, um->persona);
    buf_printf(&line, ",\"alignment_calls\":%ld,\"prep\":", own->calls);
    acct_json(&line, own);
    buf_adds(&line, ",\"shared\":");
    acct_json(&line, shared ? shared : &none);
    buf_addc(&line, '}');
    rs->sink.persona(rs->sink.ctx, buf_str(&line));
    buf_free(&line);
}

/* Algorithm 1 on the persona. A replay, feedback or update that failed makes
 * the preparation fail (um->prep_error): the method's queries of this user
 * then end in error rather than being answered by a half-aligned persona. */
static int align(const run_shared *rs, user_state *us, size_t mi, char **persona, buf *log,
                 llm_acct *acct, pe_err *e)
{
    persona_llm pl = persona_cfg(rs);
    sim_ctx sc = {rs, us, mi};
    size_t failed = 0;
    persona_align_opts ao = {rs->align_batch, rs->align_iters, us->user->nitems, simulate,
                             rs->task->id == TASK_LAMP1 ? lamp1_replay : NULL, &sc, &failed};
    int rc = persona_align(&pl, us->user, &ao, persona, log, acct, e);
    if (!rc && failed && !us->per[mi].prep_error)
        us->per[mi].prep_error = xasprintf("persona alignment: %zu replay, feedback or update "
                                           "call%s failed (see personas.jsonl)",
                                           failed, failed == 1 ? "" : "s");
    return rc;
}

int pipeline_prepare(const run_shared *rs, user_state *us, size_t mi, llm_worker *w, pe_err *e)
{
    const method *m = rs->methods[mi];
    user_method *um = &us->per[mi];
    persona_llm pl = persona_cfg(rs);
    const char *summary = NULL, *serr = NULL;
    char *persona = NULL, *initial = NULL;
    buf log = BUF_INIT;
    llm_acct acct = {0};
    int rc = 0;

    if (m->uses & M_SUMMARY) {
        if ((rc = pipeline_user_summary(rs, us, w, &summary, &serr, e)))
            return rc;
        if (!summary)
            um->prep_error = xstrdup(serr);
    }
    if ((m->uses & M_PERSONA) && !um->prep_error) {
        if (!(persona = persona_initial(&pl, (m->uses & M_SUMMARY) ? summary : "", e)))
            return e->code;
        initial = xstrdup(persona);
        if ((m->uses & M_ALIGN) && rs->align_iters > 0 && rs->align_batch > 0 &&
            (rc = align(rs, us, mi, &persona, &log, &acct, e))) {
            free(persona);
            free(initial);
            buf_free(&log);
            return rc;
        }
        um->persona = persona;
    }
    if (m->uses & (M_PERSONA | M_SUMMARY))
        log_persona(rs, us, mi, 0, summary, initial, &log, &acct,
                    (m->uses & M_SUMMARY) ? &us->summary_acct : NULL);
    free(initial);
    buf_free(&log);
    return 0;
}

int pipeline_realign(const run_shared *rs, user_state *us, size_t mi, size_t turn, pe_err *e)
{
    const method *m = rs->methods[mi];
    user_method *um = &us->per[mi];
    buf log = BUF_INIT;
    llm_acct acct = {0};
    char *before;
    int rc;

    if (!(m->uses & M_ALIGN) || !um->persona || rs->align_iters == 0 || rs->align_batch == 0)
        return 0;
    before = xstrdup(um->persona);
    rc = align(rs, us, mi, &um->persona, &log, &acct, e);
    if (!rc)
        log_persona(rs, us, mi, turn, NULL, before, &log, &acct, NULL);
    free(before);
    buf_free(&log);
    return rc;
}

int pipeline_answer(const run_shared *rs, user_state *us, size_t mi, const ds_query *q,
                    llm_worker *w, method_answer *a, pe_err *e)
{
    const user_method *um = &us->per[mi];
    plan p;
    agent_result r;
    char *qerr = NULL;
    int rc;

    if (um->prep_error) {
        a->error = xstrdup(um->prep_error);
        return 0;
    }
    rc = build_plan(rs, us, mi, um->persona, q->input, q->id, q->date, TOPK_ALL, &p, &qerr, w,
                    e);
    if (rc || qerr) {
        a->error = qerr;
        plan_free(&p);
        return rc;
    }
    memset(&r, 0, sizeof r);
    rc = run_plan(rs, w, &p, &r, e);
    write_trace(rs, us->user->id, q->id, rs->methods[mi]->name, "query", r.trace);
    if (!rc) {
        a->raw = r.answer;
        a->error = r.error;
        r.answer = r.error = NULL;
        a->calls = r.calls;
        a->prompt_tokens = r.prompt_tokens;
        a->completion_tokens = r.completion_tokens;
        a->cost_usd = r.cost_usd;
        a->calls_cached = r.calls_cached;
        a->cost_spent_usd = r.cost_spent_usd;
    }
    agent_result_free(&r);
    plan_free(&p);
    return rc;
}
