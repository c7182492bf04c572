#include "agent.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonu.h"
#include "redact.h"

/* ---- the text protocol parser ------------------------------------------------------- */

typedef enum { KW_NONE, KW_THOUGHT, KW_ACTION, KW_INPUT, KW_FINAL, KW_OBS } kw;

/* Match the words of a keyword at p (case-insensitive; words separated by spaces or '_'),
 * then optional spaces, digits ("Action 2:"), '*' and the colon. Returns the position
 * after the colon (and any '*'), or NULL. */
static const char *match_kw(const char *p, const char *const *words)
{
    for (int i = 0; words[i]; i++) {
        size_t n = strlen(words[i]);
        if (i) {
            if (*p != ' ' && *p != '_' && *p != '-')
                return NULL;
            while (*p == ' ' || *p == '_' || *p == '-')
                p++;
        }
        if (strncasecmp(p, words[i], n))
            return NULL;
        p += n;
    }
    while (*p == ' ' || *p == '\t' || *p == '*' || isdigit((unsigned char)*p))
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == '*')
        p++;
    return p;
}

/* The keyword a line starts with (after blanks and markdown marks), *val = after it. */
static kw line_kw(const char *line, const char **val)
{
    static const char *const th[] = {"thought", NULL}, *const ac[] = {"action", NULL},
                             *const in[] = {"action", "input", NULL},
                             *const fa[] = {"final", "answer", NULL},
                             *const ob[] = {"observation", NULL};
    const char *p = line;
    while (*p == ' ' || *p == '\t' || *p == '*' || *p == '#' || *p == '>' || *p == '-')
        p++;
    if ((*val = match_kw(p, in)))
        return KW_INPUT;
    if ((*val = match_kw(p, ac)))
        return KW_ACTION;
    if ((*val = match_kw(p, fa)))
        return KW_FINAL;
    if ((*val = match_kw(p, th)))
        return KW_THOUGHT;
    if ((*val = match_kw(p, ob)))
        return KW_OBS;
    *val = NULL;
    return KW_NONE;
}

typedef struct line {
    const char *start, *end; /* without the newline */
    kw k;
    const char *val;         /* after the keyword's colon */
} line;

static size_t split_lines(const char *text, line **out)
{
    size_t n = 0, cap = 0;
    const char *p = text;
    *out = NULL;
    while (*p) {
        const char *nl = strchr(p, '\n'), *e = nl ? nl : p + strlen(p);
        char *copy = xstrndup(p, (size_t)(e - p));
        const char *v;
        kw k = line_kw(copy, &v);
        *out = xgrow(*out, &cap, n + 1, sizeof **out);
        (*out)[n] = (line){p, e, k, k ? p + (v - copy) : NULL};
        n++;
        free(copy);
        p = nl ? nl + 1 : e;
    }
    return n;
}

/* Text from `from` on line i to the end of the last line before the next keyword line;
 * *stop = the index of that keyword line (or n). */
static char *block(const line *l, size_t n, size_t i, const char *from, size_t *stop)
{
    size_t j = i + 1;
    char *raw, *s;
    while (j < n && l[j].k == KW_NONE)
        j++;
    raw = xstrndup(from, (size_t)(l[j - 1].end - from));
    s = pe_strip(raw);
    free(raw);
    if (stop)
        *stop = j;
    return s;
}

/* "Final Answer:" in the middle of a line ("Thought: easy. Final Answer: comedy"). */
static const char *inline_final(const char *start, const char *end)
{
    static const char *const fa[] = {"final", "answer", NULL};
    for (const char *p = start; p < end; p++)
        if ((*p == 'f' || *p == 'F') && (p == start || !isalnum((unsigned char)p[-1]))) {
            const char *v = match_kw(p, fa);
            if (v && v <= end + 1)
                return v;
        }
    return NULL;
}

static int is_quote(char c)
{
    return c == '"' || c == '\'' || c == '`';
}

/* Strip matching quotes, backticks and code fences around s (in place, returns s). */
static char *unquote(char *s)
{
    size_t n = strlen(s);
    if (n >= 3 && !strncmp(s, "```", 3)) {
        char *nl = strchr(s, '\n'), *end = strstr(s + 3, "```"), *t;
        if (nl && end && end > nl) {
            t = xstrndup(nl + 1, (size_t)(end - nl - 1));
            free(s);
            s = pe_strip(t);
            free(t);
            n = strlen(s);
        }
    }
    while (n >= 2 && is_quote(s[0]) && s[n - 1] == s[0]) {
        memmove(s, s + 1, n - 2);
        s[n - 2] = 0;
        n -= 2;
    }
    return s;
}

/* A JSON object's first string member, a JSON string's value, a number's text; else
 * the plain text without surrounding quotes. */
static char *input_value(char *raw)
{
    char *s = unquote(raw), *v = NULL;
    cJSON *j = (*s == '{' || *s == '"') ? jsonu_parse(s, strlen(s), NULL) : NULL;
    if (cJSON_IsString(j)) {
        v = xstrdup(j->valuestring);
    } else if (cJSON_IsObject(j)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, j) {
            if ((v = jsonu_text(it)))
                break;
        }
        if (!v)
            v = xstrdup("");
    }
    cJSON_Delete(j);
    if (!v)
        return s;
    free(s);
    s = pe_strip(v);
    free(v);
    return s;
}

/* The tool name of an Action line: the first name-like token, without quotes or
 * backticks; bracketed text after it ("search[Einstein]") goes to *arg. */
static char *action_name(const char *val, const char *end, char **arg)
{
    const char *p = val, *a;
    *arg = NULL;
    while (p < end && (isspace((unsigned char)*p) || is_quote(*p) || *p == '*'))
        p++;
    a = p;
    while (p < end && (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.'))
        p++;
    if (p < end && (*p == '[' || *p == '(')) {
        const char *close = memchr(p, *p == '[' ? ']' : ')', (size_t)(end - p));
        if (close) {
            char *raw = xstrndup(p + 1, (size_t)(close - p - 1)), *t = pe_strip(raw);
            free(raw);
            *arg = input_value(t);
        }
    }
    while (p > a && p[-1] == '.')
        p--;
    return xstrndup(a, (size_t)(p - a));
}

void agent_step_free(agent_step *s)
{
    free(s->thought);
    free(s->action);
    free(s->input);
    free(s->answer);
    memset(s, 0, sizeof *s);
}

void agent_parse_text(const char *text, int last, agent_step *out)
{
    line *l;
    size_t n, act = SIZE_MAX, fin = SIZE_MAX, j;
    const char *fin_val = NULL;

    memset(out, 0, sizeof *out);
    text = text ? text : "";
    out->end = strlen(text);
    n = split_lines(text, &l);
    for (size_t i = 0; i < n && act == SIZE_MAX && fin == SIZE_MAX; i++) {
        if (l[i].k == KW_ACTION && !last) {
            act = i;
        } else if (l[i].k == KW_FINAL) {
            fin = i;
            fin_val = l[i].val;
        } else if ((fin_val = inline_final(l[i].start, l[i].end))) {
            fin = i;
        }
    }
    /* the thought: a Thought block before the step, else the prose before it */
    j = act < fin ? act : fin;
    for (size_t i = 0; i < n && i < j; i++)
        if (l[i].k == KW_THOUGHT) {
            out->thought = block(l, n, i, l[i].val, NULL);
            break;
        }
    if (!out->thought && j < n && j > 0) {
        char *raw = xstrndup(text, (size_t)(l[j].start - text));
        out->thought = pe_strip(raw);
        free(raw);
    }
    if (out->thought && !*out->thought) {
        free(out->thought);
        out->thought = NULL;
    }
    if (act != SIZE_MAX) {
        char *arg;
        size_t stop = act + 1;
        out->kind = AGENT_STEP_ACTION;
        out->action = action_name(l[act].val, l[act].end, &arg);
        for (size_t i = act + 1; i < n; i++) {
            if (l[i].k == KW_INPUT) {
                char *raw = block(l, n, i, l[i].val, &stop);
                out->input = input_value(raw);
                break;
            }
            if (l[i].k != KW_NONE)
                break;
        }
        if (!out->input) {
            out->input = arg ? arg : xstrdup("");
        } else {
            free(arg);
        }
        out->end = (size_t)(l[stop - 1].end - text);
    } else if (fin != SIZE_MAX) {
        char *raw = xstrndup(fin_val, (size_t)(l[fin].end - fin_val)), *first = pe_strip(raw);
        char *rest = NULL;
        size_t stop = fin + 1;
        free(raw);
        while (stop < n && l[stop].k == KW_NONE)
            stop++;
        if (stop > fin + 1) {
            raw = xstrndup(l[fin].end, (size_t)(l[stop - 1].end - l[fin].end));
            rest = pe_strip(raw);
            free(raw);
        }
        out->kind = AGENT_STEP_FINAL;
        if (rest && *rest)
            out->answer = *first ? xasprintf("%s\n%s", first, rest) : xstrdup(rest);
        else
            out->answer = xstrdup(first);
        free(first);
        free(rest);
    } else if (last) {
        out->kind = AGENT_STEP_FINAL;
        out->answer = pe_strip(text);
    }
    free(l);
}

/* ---- the loop ------------------------------------------------------------------------ */

typedef struct conv {
    llm_msg *m;
    size_t n, cap;
    char **owned;            /* strings the messages point to */
    size_t nowned, capowned;
    llm_response *resp;      /* responses whose tool calls the messages point to */
    size_t nresp, capresp;
} conv;

static const char *own(conv *c, char *s)
{
    c->owned = xgrow(c->owned, &c->capowned, c->nowned + 1, sizeof *c->owned);
    c->owned[c->nowned++] = s;
    return s;
}

static void add_msg(conv *c, llm_role role, const char *content, const llm_tool_call *tc,
                    size_t ntc, const char *id)
{
    c->m = xgrow(c->m, &c->cap, c->n + 1, sizeof *c->m);
    c->m[c->n++] = (llm_msg){role, content, tc, ntc, id};
}

static void conv_free(conv *c)
{
    for (size_t i = 0; i < c->nowned; i++)
        free(c->owned[i]);
    for (size_t i = 0; i < c->nresp; i++)
        llm_response_free(&c->resp[i]);
    free(c->owned);
    free(c->resp);
    free(c->m);
    memset(c, 0, sizeof *c);
}

typedef struct run {
    const agent_opts *o;
    llm_worker *w;
    agent_result *r;
    cJSON *trace;
    llm_tool *ltools;
    char **schemas;
    int unknown_usage, unknown_cost;
    long ptok, ctok;
    double cost, spent;
} run;

static char *schema(const agent_tool *t)
{
    cJSON *s = cJSON_CreateObject(), *props = cJSON_AddObjectToObject(s, "properties");
    cJSON *a = cJSON_AddObjectToObject(props, t->arg), *req;
    char *out;
    cJSON_AddStringToObject(s, "type", "object");
    cJSON_AddStringToObject(a, "type", "string");
    if (t->arg_description)
        cJSON_AddStringToObject(a, "description", t->arg_description);
    req = cJSON_AddArrayToObject(s, "required");
    cJSON_AddItemToArray(req, cJSON_CreateString(t->arg));
    /* "type" first, as people write it */
    cJSON_DetachItemViaPointer(s, props);
    cJSON_DetachItemViaPointer(s, req);
    cJSON_AddItemToObject(s, "properties", props);
    cJSON_AddItemToObject(s, "required", req);
    out = jsonu_print(s);
    cJSON_Delete(s);
    return out;
}

static const agent_tool *find_tool(const agent_opts *o, const char *name)
{
    for (size_t i = 0; name && i < o->ntools; i++)
        if (!strcmp(o->tools[i].name, name))
            return &o->tools[i];
    for (size_t i = 0; name && i < o->ntools; i++) /* "Memory_Search" */
        if (!strcasecmp(o->tools[i].name, name))
            return &o->tools[i];
    return NULL;
}

static char *unknown_tool(const agent_opts *o, const char *name)
{
    buf b = BUF_INIT;
    buf_printf(&b, "Error: there is no tool named \"%s\". Available tools: ", name ? name : "");
    for (size_t i = 0; i < o->ntools; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", o->tools[i].name);
    buf_adds(&b, ".");
    return buf_detach(&b);
}

/* The byte length of the first max UTF-8 characters of s; *chars = all of them. */
static size_t utf8_prefix(const char *s, size_t max, size_t *chars)
{
    size_t n = 0, cut = 0, i;
    for (i = 0; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) == 0x80)
            continue;
        if (n == max)
            cut = i;
        n++;
    }
    *chars = n;
    return n <= max ? i : cut;
}

/* Cut obs (taken) to at most max UTF-8 characters, with a note saying so. */
static char *cap_observation(char *obs, size_t max)
{
    size_t chars, cut = utf8_prefix(obs, max, &chars);
    char *out;
    if (chars <= max)
        return obs;
    out = xasprintf("%.*s\n[observation cut to %zu of %zu characters "
                    "(--max-observation-chars)]", (int)cut, obs, max, chars);
    free(obs);
    return out;
}

static size_t arg_cap(const agent_opts *o)
{
    return o->max_argument_chars ? o->max_argument_chars : AGENT_MAX_ARGUMENT_CHARS;
}

/* The input (taken) cut to the argument cap; *cut_from = its length in characters
 * when it was cut, else 0. */
static char *cap_argument(const agent_opts *o, char *input, size_t *cut_from)
{
    size_t chars, cut;
    *cut_from = 0;
    if (!input)
        return NULL;
    cut = utf8_prefix(input, arg_cap(o), &chars);
    if (chars <= arg_cap(o))
        return input;
    *cut_from = chars;
    input[cut] = '\0';
    return input;
}

static char *run_tool(run *R, const agent_tool *t, const char *input, size_t cut_from)
{
    char *obs;
    size_t max = R->o->max_observation_chars ? R->o->max_observation_chars
                                             : AGENT_MAX_OBSERVATION_CHARS;
    R->r->tool_calls++;
    if (!input || !*input)
        return xasprintf("Error: the tool %s needs a non-empty \"%s\".", t->name, t->arg);
    obs = t->run(t->ctx, input);
    obs = cap_observation(obs ? obs : xstrdup(""), max);
    if (cut_from) {
        char *noted = xasprintf("[the argument was cut to its first %zu of %zu characters]\n%s",
                                arg_cap(R->o), cut_from, obs);
        free(obs);
        obs = noted;
    }
    return obs;
}

/* Cut at a character boundary for the trace. */
static cJSON *trace_text(const char *s)
{
    size_t n = strlen(s), k = AGENT_TRACE_TEXT_MAX;
    char *t;
    cJSON *j;
    if (n <= AGENT_TRACE_TEXT_MAX)
        return cJSON_CreateString(s);
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    t = xasprintf("%.*s...", (int)k, s);
    j = cJSON_CreateString(t);
    free(t);
    return j;
}

static cJSON *num_or_null(int known, double v)
{
    return known ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

/* One model call with its trace entry. Returns llm_chat's code; *entry is the trace object. */
static int call(run *R, const conv *c, int native, int final, int step, llm_response *resp,
                cJSON **entry, pe_err *e)
{
    const agent_opts *o = R->o;
    llm_request rq;
    cJSON *t = cJSON_CreateObject(), *req, *names;
    double t0 = pe_now();
    int rc;

    memset(&rq, 0, sizeof rq);
    rq.msgs = c->m;
    rq.nmsgs = c->n;
    rq.temperature = o->temperature;
    rq.max_tool_calls = o->max_tool_calls ? o->max_tool_calls : AGENT_MAX_TOOL_CALLS;
    if (native && o->ntools) {
        rq.tools = R->ltools;
        rq.ntools = o->ntools;
        rq.tool_choice = final ? "none" : "auto";
    }
    rc = llm_chat(R->w, &rq, resp, e);
    R->r->calls++;
    cJSON_AddNumberToObject(t, "step", step);
    cJSON_AddStringToObject(t, "mode", native && o->ntools ? "native" : "text");
    cJSON_AddBoolToObject(t, "final", final);
    req = cJSON_AddObjectToObject(t, "request");
    cJSON_AddNumberToObject(req, "messages", (double)c->n);
    names = cJSON_AddArrayToObject(req, "tools");
    for (size_t i = 0; native && !final && i < o->ntools; i++)
        cJSON_AddItemToArray(names, cJSON_CreateString(o->tools[i].name));
    if (rc == 0) {
        const llm_usage *u = &resp->usage;
        double cost = llm_cost(llm_worker_client(R->w), resp);
        cJSON_AddItemToObject(t, "content",
                              resp->content ? trace_text(resp->content) : cJSON_CreateNull());
        if (resp->utf8_replaced)
            cJSON_AddNumberToObject(t, "utf8_replaced", (double)resp->utf8_replaced);
        if (u->absurd)
            cJSON_AddBoolToObject(t, "usage_absurd", 1);
        cJSON_AddBoolToObject(t, "reasoning", resp->reasoning != NULL);
        cJSON_AddItemToObject(t, "finish_reason", resp->finish_reason
                                                      ? cJSON_CreateString(resp->finish_reason)
                                                      : cJSON_CreateNull());
        cJSON_AddItemToObject(t, "prompt_tokens", num_or_null(u->known, (double)u->prompt_tokens));
        cJSON_AddItemToObject(t, "completion_tokens",
                              num_or_null(u->known, (double)u->completion_tokens));
        cJSON_AddNumberToObject(t, "est_prompt_tokens", (double)u->est_prompt_tokens);
        cJSON_AddNumberToObject(t, "est_completion_tokens", (double)u->est_completion_tokens);
        if (u->known) {
            R->ptok += u->prompt_tokens;
            R->ctok += u->completion_tokens;
        } else {
            R->unknown_usage = 1;
        }
        if (resp->cached)
            R->r->calls_cached++;
        if (cost >= 0) {
            R->cost += cost;
            R->spent += resp->cached ? 0 : cost;
        } else
            R->unknown_cost = 1;
        R->r->est_prompt_tokens += u->est_prompt_tokens;
        R->r->est_completion_tokens += u->est_completion_tokens;
    } else {
        cJSON_AddStringToObject(t, "error", e && e->msg[0] ? e->msg : "request failed");
    }
    cJSON_AddNumberToObject(t, "latency_s", pe_now() - t0);
    cJSON_AddBoolToObject(t, "cached", rc == 0 && resp->cached);
    cJSON_AddItemToArray(R->trace, t);
    *entry = t;
    return rc;
}

static void trace_tool(cJSON *entry, const char *id, const char *name, const char *input,
                       const char *obs)
{
    cJSON *calls = cJSON_GetObjectItem(entry, "tool_calls"), *c;
    cJSON *obsa = cJSON_GetObjectItem(entry, "observations");
    if (!calls)
        calls = cJSON_AddArrayToObject(entry, "tool_calls");
    if (!obsa)
        obsa = cJSON_AddArrayToObject(entry, "observations");
    c = cJSON_CreateObject();
    if (id)
        cJSON_AddStringToObject(c, "id", id);
    cJSON_AddStringToObject(c, "name", name ? name : "");
    cJSON_AddItemToObject(c, "input", input ? trace_text(input) : cJSON_CreateNull());
    cJSON_AddItemToArray(calls, c);
    cJSON_AddItemToArray(obsa, trace_text(obs));
}

/* The input of a native call: the tool's argument, else the first string member. */
static char *native_input(const agent_tool *t, const cJSON *args)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, t->arg), *it;
    if (cJSON_IsString(v))
        return pe_strip(v->valuestring);
    cJSON_ArrayForEach(it, args) {
        if (cJSON_IsString(it))
            return pe_strip(it->valuestring);
    }
    return NULL;
}

/* Keep the response alive (messages point into it) and return it. */
static llm_response *keep(conv *c, llm_response *resp)
{
    c->resp = xgrow(c->resp, &c->capresp, c->nresp + 1, sizeof *c->resp);
    c->resp[c->nresp] = *resp;
    memset(resp, 0, sizeof *resp);
    return &c->resp[c->nresp++];
}

/* The arguments echoed back for a call whose argument was cut: {arg: input}. */
static void recap_arguments(llm_tool_call *tc, const agent_tool *t, const char *input)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, t->arg, input);
    free(tc->arguments);
    tc->arguments = jsonu_print(a);
    cJSON_Delete(a);
}

/* Native tool calls of one response (at most max_tool_calls were kept by the
 * client): echo the assistant turn, run each call, add the tool results; the
 * calls beyond the cap are answered by a note on the last result. */
static void native_tools(run *R, conv *c, llm_response *resp, cJSON *entry)
{
    llm_response *kept = keep(c, resp);
    size_t cap = R->o->max_tool_calls ? R->o->max_tool_calls : AGENT_MAX_TOOL_CALLS;
    size_t n = kept->ntool_calls < cap ? kept->ntool_calls : cap;
    size_t total = kept->ntool_calls_total > n ? kept->ntool_calls_total : n;

    add_msg(c, LLM_ASSISTANT, kept->content, kept->tool_calls, n, NULL);
    if (total > n) {
        R->r->tool_calls_dropped += (long)(total - n);
        cJSON_AddNumberToObject(entry, "tool_calls_total", (double)total);
        cJSON_AddNumberToObject(entry, "tool_calls_dropped", (double)(total - n));
    }
    for (size_t i = 0; i < n; i++) {
        llm_tool_call *tc = &kept->tool_calls[i];
        const agent_tool *t = find_tool(R->o, tc->name);
        char *obs, *input = NULL;
        size_t cut_from = 0;
        if (!t) {
            obs = unknown_tool(R->o, tc->name);
        } else if (!tc->args) {
            obs = xasprintf("Error: %s", tc->args_error ? tc->args_error
                                                       : "the arguments are not a JSON object");
        } else if (!(input = cap_argument(R->o, native_input(t, tc->args), &cut_from))) {
            obs = xasprintf("Error: the tool %s needs a string argument \"%s\".", t->name,
                            t->arg);
        } else {
            obs = run_tool(R, t, input, cut_from);
            if (cut_from)
                recap_arguments(tc, t, input);
        }
        if (i + 1 == n && total > n) {
            char *noted = xasprintf("%s\n\nError: the response made %zu tool calls; only the "
                                    "first %zu were run (at most %zu per response). Make "
                                    "fewer calls.", obs, total, n, cap);
            free(obs);
            obs = noted;
        }
        if (strlen(tc->arguments) > 4 * arg_cap(R->o)) /* an unparsed flood of bytes */
            recap_arguments(tc, t ? t : &(agent_tool){.arg = "input"}, "");
        trace_tool(entry, tc->id, tc->name, input ? input : tc->arguments, obs);
        free(input);
        add_msg(c, LLM_TOOL, own(c, obs), NULL, 0, tc->id ? tc->id : "");
    }
}

static char *text_system(const agent_opts *o, pe_err *e)
{
    buf tools = BUF_INIT, names = BUF_INIT;
    const char *kv[5];
    char *rendered, *out;
    for (size_t i = 0; i < o->ntools; i++) {
        buf_printf(&tools, "%s%s: %s", i ? "\n\n" : "", o->tools[i].name,
                   o->tools[i].description ? o->tools[i].description : "");
        buf_printf(&names, "%s%s", i ? ", " : "", o->tools[i].name);
    }
    kv[0] = "tools";
    kv[1] = buf_str(&tools);
    kv[2] = "tool_names";
    kv[3] = buf_str(&names);
    kv[4] = NULL;
    rendered = prompts_render(o->prompts, "react_text", kv, e);
    buf_free(&tools);
    buf_free(&names);
    if (!rendered)
        return NULL;
    out = o->system && *o->system ? xasprintf("%s\n\n%s", o->system, rendered)
                                  : xstrdup(rendered);
    free(rendered);
    return out;
}

static char *final_prompt(const agent_opts *o)
{
    const char *p = o->prompts ? prompts_get(o->prompts, "final_answer") : NULL;
    char *s = p ? prompts_render(o->prompts, "final_answer", (const char *const[]){NULL}, NULL)
                : NULL;
    return s ? s : xstrdup("Give your final answer now.");
}

/* Start a conversation: system (NULL: none) and user. */
static void conv_start(conv *c, const char *system, const char *user)
{
    if (system)
        add_msg(c, LLM_SYSTEM, system, NULL, 0, NULL);
    add_msg(c, LLM_USER, user ? user : "", NULL, 0, NULL);
}

/* The assistant turn of a text-protocol step as sent back: the text up to the
 * Action Input, rebuilt with the cut input when the turn is oversized. */
static char *echo_turn(const agent_opts *o, const char *text, const agent_step *s)
{
    if (s->end <= 4 * arg_cap(o) + 4096 || s->kind != AGENT_STEP_ACTION)
        return xstrndup(text, s->end);
    return xasprintf("Action: %s\nAction Input: %s", s->action ? s->action : "",
                     s->input ? s->input : "");
}

/* The trace as one redacted JSON text of at most max bytes: steps past the
 * budget are replaced by a marker saying how many were dropped. */
static char *print_trace(cJSON *trace, size_t max)
{
    char *t = jsonu_print(trace), *r;
    size_t n = (size_t)cJSON_GetArraySize(trace), dropped = 0;
    while (strlen(t) > max && n > 0) {
        cJSON *mark = cJSON_CreateObject();
        cJSON_DeleteItemFromArray(trace, (int)--n);
        if (dropped)
            cJSON_DeleteItemFromArray(trace, (int)n);
        dropped++;
        cJSON_AddStringToObject(mark, "event", "trace_truncated");
        cJSON_AddNumberToObject(mark, "steps_dropped", (double)dropped);
        cJSON_AddItemToArray(trace, mark);
        free(t);
        t = jsonu_print(trace);
    }
    r = redact(t);
    free(t);
    return r;
}

static void fail(agent_result *r, const pe_err *e)
{
    free(r->answer);
    r->answer = NULL;
    r->error = xstrdup(e->msg[0] ? e->msg : "the request failed");
}

int agent_run(llm_worker *w, const agent_opts *o, agent_result *r, pe_err *e)
{
    run R;
    conv c = {0};
    int max = o->max_steps > 0 ? o->max_steps : 6, rc = 0, step = 0, native;
    int use_tools = o->ntools > 0;
    pe_err local = {0};
    char *tsys = NULL;

    if (!e)
        e = &local;
    memset(r, 0, sizeof *r);
    memset(&R, 0, sizeof R);
    R.o = o;
    R.w = w;
    R.r = r;
    R.trace = cJSON_CreateArray();
    native = o->mode == AGENT_NATIVE ||
             (o->mode == AGENT_AUTO && !(o->text_fallback && atomic_load(o->text_fallback)) &&
              llm_get_tool_support(llm_worker_client(w)) != LLM_TOOLS_TEXT);
    if (use_tools) {
        R.ltools = xcalloc(o->ntools, sizeof *R.ltools);
        R.schemas = xcalloc(o->ntools, sizeof *R.schemas);
        for (size_t i = 0; i < o->ntools; i++) {
            R.schemas[i] = schema(&o->tools[i]);
            R.ltools[i] = (llm_tool){o->tools[i].name, o->tools[i].description, R.schemas[i]};
        }
    }
restart:
    conv_free(&c);
    if (use_tools && !native) {
        free(tsys);
        if (!(tsys = text_system(o, e))) {
            r->error = xstrdup(e->msg);
            rc = 0;
            goto done;
        }
        conv_start(&c, tsys, o->user);
    } else {
        conv_start(&c, o->system, o->user);
    }
    for (;;) {
        int final = use_tools && step >= max;
        llm_response resp;
        cJSON *entry;
        if (final) /* the step limit: ask for the answer without tools */
            add_msg(&c, LLM_USER, own(&c, final_prompt(o)), NULL, 0, NULL);
        step++;
        rc = call(&R, &c, native, final, step, &resp, &entry, e);
        if (rc == PE_EXIT_UNAVAILABLE) {
            llm_response_free(&resp);
            fail(r, e);
            goto done;
        }
        if (rc != 0) {
            int rejected = resp.tools_rejected;
            llm_response_free(&resp);
            if (rejected && native && o->mode == AGENT_AUTO && use_tools) {
                int first = o->text_fallback ? !atomic_exchange(o->text_fallback, 1) : 1;
                cJSON *ev = cJSON_CreateObject();
                cJSON_AddStringToObject(ev, "event", "text_fallback");
                cJSON_AddNumberToObject(ev, "step", step);
                cJSON_AddBoolToObject(ev, "first_in_run", first);
                cJSON_AddStringToObject(ev, "error", e->msg);
                cJSON_AddItemToArray(R.trace, ev);
                native = 0;
                step = 0; /* the rejected call does not use up a step */
                memset(e, 0, sizeof *e);
                goto restart;
            }
            fail(r, e);
            rc = 0;
            goto done;
        }
        if (!use_tools) {
            r->answer = pe_strip(resp.content ? resp.content : "");
            llm_response_free(&resp);
            break;
        }
        if (native) {
            if (resp.ntool_calls && !final) {
                native_tools(&R, &c, &resp, entry);
                continue;
            }
            r->answer = pe_strip(resp.content ? resp.content : "");
            llm_response_free(&resp);
            break;
        } else {
            agent_step s;
            const char *text = resp.content ? resp.content : "";
            agent_parse_text(text, final, &s);
            if (s.kind == AGENT_STEP_FINAL) {
                r->answer = s.answer;
                s.answer = NULL;
                agent_step_free(&s);
                llm_response_free(&resp);
                break;
            }
            add_msg(&c, LLM_ASSISTANT, own(&c, echo_turn(o, text, &s)), NULL, 0, NULL);
            if (s.kind == AGENT_STEP_ACTION) {
                const agent_tool *t = find_tool(o, s.action);
                size_t cut_from = 0;
                char *obs;
                s.input = cap_argument(o, s.input, &cut_from);
                obs = t ? run_tool(&R, t, s.input, cut_from) : unknown_tool(o, s.action);
                trace_tool(entry, NULL, s.action, s.input, obs);
                add_msg(&c, LLM_USER, own(&c, xasprintf("Observation: %s", obs)), NULL, 0, NULL);
                free(obs);
            } else {
                add_msg(&c, LLM_USER,
                        "Observation: Invalid format. Write an Action line and an Action Input "
                        "line, or a Final Answer line.", NULL, 0, NULL);
            }
            agent_step_free(&s);
            llm_response_free(&resp);
        }
    }
done:
    r->prompt_tokens = R.unknown_usage ? -1 : R.ptok;
    r->completion_tokens = R.unknown_usage ? -1 : R.ctok;
    r->cost_usd = R.unknown_cost ? -1 : R.cost;
    r->cost_spent_usd = R.unknown_cost ? -1 : R.spent;
    r->trace = print_trace(R.trace, o->max_trace_bytes ? o->max_trace_bytes
                                                       : AGENT_MAX_TRACE_BYTES);
    cJSON_Delete(R.trace);
    conv_free(&c);
    for (size_t i = 0; R.schemas && i < o->ntools; i++)
        free(R.schemas[i]);
    free(R.schemas);
    free(R.ltools);
    free(tsys);
    return rc;
}

void agent_result_free(agent_result *r)
{
    free(r->answer);
    free(r->error);
    free(r->trace);
    memset(r, 0, sizeof *r);
}
