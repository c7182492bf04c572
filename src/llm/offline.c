#include "offline.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonu.h"
#include "llm_backend.h"
#include "task.h"

/* A labelled (or, for lamp1, quoted) retrieved item. */
typedef struct item {
    char *label; /* NULL when the line names no label */
    char *text;  /* quoted text, or NULL */
    double w;
} item;

typedef struct items {
    item *v;
    size_t n, cap;
} items;

static void items_add(items *it, char *label, char *text, double w)
{
    it->v = xgrow(it->v, &it->cap, it->n + 1, sizeof *it->v);
    it->v[it->n++] = (item){label, text, w};
}

static void items_free(items *it)
{
    for (size_t i = 0; i < it->n; i++) {
        free(it->v[i].label);
        free(it->v[i].text);
    }
    free(it->v);
}

static const char *first_of_role(const llm_request *rq, llm_role role)
{
    for (size_t i = 0; i < rq->nmsgs; i++)
        if (rq->msgs[i].role == role && rq->msgs[i].content)
            return rq->msgs[i].content;
    return NULL;
}

static const char *find_in_msgs(const llm_request *rq, const char *needle)
{
    for (size_t i = 0; i < rq->nmsgs; i++) {
        const char *p = rq->msgs[i].content ? pe_strcasestr(rq->msgs[i].content, needle) : NULL;
        if (p)
            return p;
    }
    return NULL;
}

static const task *detect_task(const llm_request *rq)
{
    static const struct { const char *marker, *name; } m[] = {
        {"tags: [", "lamp2m"}, {"categories: [", "lamp2n"},
        {"1, 2, 3, 4, or 5", "lamp3"}, {"[1] or [2]", "lamp1"}};
    for (int role = LLM_USER; role >= LLM_SYSTEM; role--)
        for (size_t i = 0; i < rq->nmsgs; i++) {
            if ((int)rq->msgs[i].role != role || !rq->msgs[i].content)
                continue;
            for (size_t k = 0; k < sizeof m / sizeof m[0]; k++)
                if (strstr(rq->msgs[i].content, m[k].marker))
                    return task_get(m[k].name);
        }
    return NULL;
}

/* The rest of the line after marker (stripped), or NULL. */
static char *line_after(const char *text, const char *marker)
{
    const char *p = pe_strcasestr(text, marker), *end;
    char *raw, *s;
    if (!p)
        return NULL;
    p += strlen(marker);
    end = strchr(p, '\n');
    raw = end ? xstrndup(p, (size_t)(end - p)) : xstrdup(p);
    s = pe_strip(raw);
    free(raw);
    return s;
}

/* ---- parsing retrieved items ----------------------------------------------------- */

static char *quoted_in(const char *line, const char *stop)
{
    const char *a = strchr(line, '"'), *b = NULL;
    for (const char *p = a ? a + 1 : NULL; p && *p && (!stop || p < stop); p++)
        if (*p == '"')
            b = p;
    return a && b ? xstrndup(a + 1, (size_t)(b - a - 1)) : NULL;
}

/* Memory observation lines: `1. [2014-03-02] "text" -> label: comedy (score 3.21)`. */
static void parse_memory_lines(const char *text, items *out)
{
    const char *line = text;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        char *l = nl ? xstrndup(line, (size_t)(nl - line)) : xstrdup(line);
        const char *p = l, *arrow = strstr(l, "-> label:"), *sc = strstr(l, "(score ");
        double w = 1;
        while (*p == ' ')
            p++;
        if (!strncmp(p, "Observation:", 12))
            for (p += 12; *p == ' ';)
                p++;
        if (isdigit((unsigned char)*p) && (arrow || sc)) {
            char *label = NULL;
            if (sc) {
                double s = strtod(sc + 7, NULL);
                w = s > 0 ? s : 1e-6;
            }
            if (arrow) {
                const char *a = arrow + 9, *b = sc && sc > a ? sc : a + strlen(a);
                char *raw = xstrndup(a, (size_t)(b - a));
                label = pe_strip(raw);
                free(raw);
            }
            items_add(out, label, quoted_in(l, arrow ? arrow : sc), w);
        }
        free(l);
        line = nl ? nl + 1 : NULL;
    }
}

/* LaMP RAG prompts: `the tag for the movie: "..." is "comedy"`, `the category for the
 * article: "..." is "sports"`, `4 is the score for "..."`. */
static void parse_lamp_rag(const char *text, items *out)
{
    static const char *const markers[] = {"the tag for the movie: \"",
                                          "the category for the article: \""};
    for (size_t k = 0; k < 2; k++) {
        const char *p = text;
        while ((p = strstr(p, markers[k]))) {
            const char *q = p + strlen(markers[k]), *is = strstr(q, "\" is \""), *end;
            if (!is)
                break;
            end = strchr(is + 6, '"');
            if (!end)
                break;
            items_add(out, xstrndup(is + 6, (size_t)(end - is - 6)),
                      xstrndup(q, (size_t)(is - q)), 1);
            p = end + 1;
        }
    }
    for (const char *p = text; (p = strstr(p, " is the score for \"")); p++) {
        if (p > text && isdigit((unsigned char)p[-1]) &&
            (p - 1 == text || !isalnum((unsigned char)p[-2])))
            items_add(out, xstrndup(p - 1, 1), NULL, 1);
    }
}

static void parse_items(const llm_request *rq, items *out)
{
    for (size_t i = 0; i < rq->nmsgs; i++) {
        if (rq->msgs[i].role == LLM_SYSTEM || !rq->msgs[i].content)
            continue;
        parse_memory_lines(rq->msgs[i].content, out);
        parse_lamp_rag(rq->msgs[i].content, out);
    }
}

/* ---- choosing an answer ---------------------------------------------------------- */

static int weighted_majority(const task *t, const items *it)
{
    double *w = xcalloc(t->nlabels, sizeof *w);
    int best = -1;
    for (size_t i = 0; i < it->n; i++) {
        int k = it->v[i].label ? task_label_index(t, it->v[i].label) : -1;
        if (k >= 0)
            w[k] += it->v[i].w;
    }
    for (size_t k = 0; k < t->nlabels; k++)
        if (w[k] > 0 && (best < 0 || w[k] > w[best]))
            best = (int)k;
    free(w);
    return best;
}

static int weighted_rating(const items *it)
{
    double sum = 0, wsum = 0;
    for (size_t i = 0; i < it->n; i++) {
        double r;
        if (!it->v[i].label || !pe_parse_pyfloat(it->v[i].label, &r) || r < 1 || r > 5)
            continue;
        sum += r * it->v[i].w;
        wsum += it->v[i].w;
    }
    if (wsum <= 0)
        return -1;
    return (int)floor(sum / wsum + 0.5) - 1; /* label index of the rounded rating */
}

/* Lowercase alphanumeric words of 3+ characters, as hashes. */
static size_t words(const char *s, uint64_t **out)
{
    size_t n = 0, cap = 0;
    *out = NULL;
    while (*s) {
        const char *a;
        while (*s && !isalnum((unsigned char)*s))
            s++;
        a = s;
        while (isalnum((unsigned char)*s))
            s++;
        if (s - a >= 3) {
            char w[64];
            size_t k = (size_t)(s - a) < sizeof w ? (size_t)(s - a) : sizeof w;
            for (size_t i = 0; i < k; i++)
                w[i] = (char)tolower((unsigned char)a[i]);
            *out = xgrow(*out, &cap, n + 1, sizeof **out);
            (*out)[n++] = pe_hash64(w, k, 0);
        }
    }
    return n;
}

/* Share of the reference's words found in the text. */
static double overlap(const char *ref, const char *text)
{
    uint64_t *a, *b;
    size_t na = words(ref, &a), nb = words(text, &b), hit = 0;
    for (size_t i = 0; i < na; i++)
        for (size_t k = 0; k < nb; k++)
            if (a[i] == b[k]) {
                hit++;
                break;
            }
    free(a);
    free(b);
    return na ? (double)hit / (double)na : 0;
}

static int lamp1_choice(const char *input, const items *it)
{
    char *title, *r1, *r2;
    double s1 = 0, s2 = 0;
    int any = 0;
    if (!input || task_lamp1_parse(input, &title, &r1, &r2) != 0)
        return -1;
    for (size_t i = 0; i < it->n; i++) {
        if (!it->v[i].text)
            continue;
        any = 1;
        s1 += it->v[i].w * overlap(r1, it->v[i].text);
        s2 += it->v[i].w * overlap(r2, it->v[i].text);
    }
    free(title);
    free(r1);
    free(r2);
    return any ? (s2 > s1 ? 1 : 0) : -1;
}

/* Occurrences of label in text at word boundaries (case-insensitive). */
static size_t count_label(const char *text, const char *label)
{
    size_t n = 0, len = strlen(label);
    for (const char *p = text; (p = pe_strcasestr(p, label)); p += len) {
        int before = p == text || !isalnum((unsigned char)p[-1]);
        int after = !isalnum((unsigned char)p[len]);
        /* the text protocol's "Action:" and "Action Input:" keywords are not labels */
        int keyword = p[len] == ':' || !strncmp(p + len, " Input:", 7);
        n += before && after && !keyword;
    }
    return n;
}

static int label_from_system(const task *t, const char *sys)
{
    size_t best = 0;
    int k = 0;
    for (size_t i = 0; sys && i < t->nlabels; i++) {
        size_t c = count_label(sys, t->labels[i]);
        if (c > best) {
            best = c;
            k = (int)i;
        }
    }
    return k;
}

static char *answer_label(const llm_request *rq)
{
    const task *t = detect_task(rq);
    const char *sys = first_of_role(rq, LLM_SYSTEM), *user = first_of_role(rq, LLM_USER);
    items it = {0};
    int k = -1;
    char *ans;

    if (!t)
        return xstrdup("offline responder: no label list found in the request");
    parse_items(rq, &it);
    if (t->id == TASK_LAMP1)
        k = lamp1_choice(user, &it);
    else if (t->rating)
        k = weighted_rating(&it);
    else
        k = weighted_majority(t, &it);
    if (k < 0)
        k = label_from_system(t, sys);
    items_free(&it);
    if (sys && strstr(sys, "Final Answer:"))
        ans = xasprintf("Final Answer: %s", t->labels[k]);
    else
        ans = xstrdup(t->labels[k]);
    return ans;
}

/* ---- feedback, update, summary --------------------------------------------------- */

static char *feedback(const llm_request *rq)
{
    const char *m = find_in_msgs(rq, "Expected Answer:");
    char *exp = m ? line_after(m, "Expected Answer:") : xstrdup("");
    char *got = m ? line_after(m, "Agent Response:") : NULL, *out;
    if (!got)
        got = xstrdup("");
    if (!strcmp(exp, got))
        out = xasprintf("The agent answered \"%s\" and the expected answer was \"%s\": they "
                        "match, keep the persona's preferences.", got, exp);
    else
        out = xasprintf("The agent answered \"%s\" but the expected answer was \"%s\": state "
                        "in the persona that this user prefers \"%s\" for inputs like this one.",
                        got, exp, exp);
    free(exp);
    free(got);
    return out;
}

static int list_has(char **v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return 1;
    return 0;
}

static void list_add(char ***v, size_t *n, size_t *cap, char *s)
{
    if (!*s || list_has(*v, *n, s)) {
        free(s);
        return;
    }
    *v = xgrow(*v, cap, *n + 1, sizeof **v);
    (*v)[(*n)++] = s;
}

#define PREFERRED "Preferred answers:"

static char *update(const llm_request *rq)
{
    const char *m = find_in_msgs(rq, "Current system prompt:");
    const char *fb = strstr(m, "Provided Feedback:"), *fb_end, *p;
    char **list = NULL, *raw, *persona, *out;
    size_t n = 0, cap = 0;
    buf b = BUF_INIT;

    m += strlen("Current system prompt:");
    if (!fb)
        fb = m + strlen(m);
    /* the persona without its Preferred answers line, whose items are kept */
    raw = xstrndup(m, (size_t)(fb - m));
    for (char *line = raw, *nl; line; line = nl) {
        nl = strchr(line, '\n');
        if (nl)
            *nl++ = 0;
        if (!strncmp(line, PREFERRED, strlen(PREFERRED))) {
            for (char *s = line + strlen(PREFERRED), *semi; s; s = semi) {
                semi = strchr(s, ';');
                if (semi)
                    *semi++ = 0;
                list_add(&list, &n, &cap, pe_strip(s));
            }
        } else {
            buf_adds(&b, line);
            buf_addc(&b, '\n');
        }
    }
    free(raw);
    persona = pe_strip(buf_str(&b));
    buf_free(&b);
    /* expected answers named in the feedback */
    if (*fb)
        fb += strlen("Provided Feedback:");
    fb_end = strstr(fb, "Based on the feedback above");
    if (!fb_end)
        fb_end = fb + strlen(fb);
    for (p = fb; (p = pe_strcasestr(p, "expected answer")) && p < fb_end;) {
        const char *a = p + strlen("expected answer"), *q, *e;
        while (*a == ' ')
            a++;
        if (!strncmp(a, "was ", 4))
            a += 4;
        else if (*a == ':')
            a++;
        while (*a == ' ')
            a++;
        if (*a == '"' && (q = strchr(a + 1, '"')) && q <= fb_end) {
            list_add(&list, &n, &cap, xstrndup(a + 1, (size_t)(q - a - 1)));
            p = q + 1;
            continue;
        }
        e = a + strcspn(a, "\n");
        if (e > fb_end)
            e = fb_end;
        raw = xstrndup(a, (size_t)(e - a));
        list_add(&list, &n, &cap, pe_strip(raw));
        free(raw);
        p = e;
    }
    buf_adds(&b, persona);
    if (n) {
        buf_adds(&b, *persona ? "\n" PREFERRED " " : PREFERRED " ");
        for (size_t i = 0; i < n; i++) {
            buf_printf(&b, "%s%s", i ? "; " : "", list[i]);
            free(list[i]);
        }
    }
    free(list);
    free(persona);
    out = buf_detach(&b);
    return out;
}

static char *summary(const llm_request *rq)
{
    items it = {0};
    const char **lab = NULL;
    size_t *cnt = NULL, n = 0, cap = 0, cap2 = 0;
    buf b = BUF_INIT;

    parse_items(rq, &it);
    for (size_t i = 0; i < it.n; i++) {
        size_t k;
        if (!it.v[i].label || !*it.v[i].label)
            continue;
        for (k = 0; k < n && strcmp(lab[k], it.v[i].label); k++)
            ;
        if (k == n) {
            lab = xgrow(lab, &cap, n + 1, sizeof *lab);
            cnt = xgrow(cnt, &cap2, n + 1, sizeof *cnt);
            lab[n] = it.v[i].label;
            cnt[n++] = 0;
        }
        cnt[k]++;
    }
    if (!n)
        buf_adds(&b, "No labelled items were listed.");
    else
        buf_adds(&b, "Most frequent labels among the listed items: ");
    for (size_t r = 0; r < 3 && r < n; r++) {
        size_t best = 0;
        for (size_t k = 1; k < n; k++) /* highest count, then first seen */
            if (cnt[k] > cnt[best])
                best = k;
        buf_printf(&b, "%s%s (%zu)", r ? ", " : "", lab[best], cnt[best]);
        cnt[best] = 0;
    }
    if (n)
        buf_addc(&b, '.');
    free(lab);
    free(cnt);
    items_free(&it);
    return buf_detach(&b);
}

/* ---- tools ----------------------------------------------------------------------- */

static const llm_tool *offered(const llm_request *rq, const char *name)
{
    for (size_t i = 0; i < rq->ntools; i++)
        if (pe_streq(rq->tools[i].name, name))
            return &rq->tools[i];
    return NULL;
}

static int called(const llm_request *rq, const char *name)
{
    for (size_t i = 0; i < rq->nmsgs; i++)
        for (size_t k = 0; k < rq->msgs[i].ntool_calls; k++)
            if (pe_streq(rq->msgs[i].tool_calls[k].name, name))
                return 1;
    return 0;
}

/* The first property of the tool's parameter schema, else fallback. */
static char *arg_name(const llm_tool *t, const char *fallback)
{
    cJSON *p = t->parameters ? cJSON_Parse(t->parameters) : NULL;
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(p, "properties");
    char *s = xstrdup(props && props->child && props->child->string ? props->child->string
                                                                   : fallback);
    cJSON_Delete(p);
    return s;
}

static void make_call(const llm_request *rq, const llm_tool *t, const char *fallback_arg,
                      const char *value, llm_response *out)
{
    cJSON *a = cJSON_CreateObject();
    char *name = arg_name(t, fallback_arg);
    size_t ntool = 0;
    for (size_t i = 0; i < rq->nmsgs; i++)
        ntool += rq->msgs[i].ntool_calls;
    cJSON_AddStringToObject(a, name, value);
    out->tool_calls = xcalloc(1, sizeof *out->tool_calls);
    out->ntool_calls = 1;
    out->tool_calls[0].id = xasprintf("call_%zu", ntool + 1);
    out->tool_calls[0].name = xstrdup(t->name);
    out->tool_calls[0].arguments = jsonu_print(a);
    out->tool_calls[0].args = a;
    out->finish_reason = xstrdup("tool_calls");
    free(name);
}

static char *query_text(const llm_request *rq)
{
    const char *user = first_of_role(rq, LLM_USER);
    const task *t = detect_task(rq);
    if (!user)
        return xstrdup("");
    return t ? task_query_text(t, user) : pe_strip(user);
}

static char *first_words(const char *s, int n)
{
    const char *p = s;
    while (*p == ' ')
        p++;
    const char *a = p;
    for (int k = 0; *p && k < n; k++) {
        while (*p && *p != ' ')
            p++;
        if (k + 1 < n)
            while (*p == ' ')
                p++;
    }
    return xstrndup(a, (size_t)(p - a));
}

/* 1 when a tool call was made. */
static int maybe_call_tool(const llm_request *rq, llm_response *out)
{
    const llm_tool *mem = offered(rq, "memory_search"), *wiki = offered(rq, "wikipedia");
    const char *sys = first_of_role(rq, LLM_SYSTEM);
    char *q;

    if (!rq->ntools || pe_streq(rq->tool_choice, "none"))
        return 0;
    q = query_text(rq);
    if (mem && !called(rq, "memory_search")) {
        make_call(rq, mem, "query", q, out);
    } else if (wiki && !called(rq, "wikipedia") && sys && pe_strcasestr(sys, "two tools")) {
        char *topic = first_words(q, 5);
        make_call(rq, wiki, "topic", topic, out);
        free(topic);
    }
    free(q);
    return out->ntool_calls > 0;
}

/* Text protocol: the react_text instructions in the system prompt. */
static int text_protocol(const llm_request *rq)
{
    const char *sys = first_of_role(rq, LLM_SYSTEM);
    return !rq->ntools && sys && strstr(sys, "Action Input:");
}

/* A previous assistant turn wrote "Action: <name>". */
static int text_called(const llm_request *rq, const char *name)
{
    char *needle = xasprintf("Action: %s", name);
    int hit = 0;
    for (size_t i = 0; i < rq->nmsgs && !hit; i++)
        hit = rq->msgs[i].role == LLM_ASSISTANT && rq->msgs[i].content &&
              strstr(rq->msgs[i].content, needle);
    free(needle);
    return hit;
}

/* The tool rule in text form; NULL when no tool is to be called. Tools are only called
 * while the conversation ends with the task or an observation (not the final prompt). */
static char *maybe_text_action(const llm_request *rq)
{
    const char *sys = first_of_role(rq, LLM_SYSTEM), *last;
    const llm_msg *m = rq->nmsgs ? &rq->msgs[rq->nmsgs - 1] : NULL;
    char *q, *out = NULL;

    if (!m || m->role != LLM_USER || !m->content)
        return NULL;
    last = m->content;
    if (last != first_of_role(rq, LLM_USER) && strncmp(last, "Observation:", 12))
        return NULL;
    q = query_text(rq);
    for (char *c = q; *c; c++) /* one line: the input ends at the line's end */
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    if (strstr(sys, "memory_search") && !text_called(rq, "memory_search")) {
        out = xasprintf("Thought: I should look for similar items in the user's memory.\n"
                        "Action: memory_search\nAction Input: %s", q);
    } else if (strstr(sys, "wikipedia") && !text_called(rq, "wikipedia") &&
               pe_strcasestr(sys, "two tools")) {
        char *topic = first_words(q, 5);
        out = xasprintf("Thought: I should get background knowledge on the topic.\n"
                        "Action: wikipedia\nAction Input: %s", topic);
        free(topic);
    }
    free(q);
    return out;
}

int offline_chat(const llm_request *rq, llm_response *out, pe_err *e)
{
    (void)e;
    memset(out, 0, sizeof *out);
    out->offline = 1;
    out->model = xstrdup("offline");
    if (find_in_msgs(rq, "meticulous and critical evaluator")) {
        out->content = feedback(rq);
    } else if (find_in_msgs(rq, "Current system prompt:") &&
               find_in_msgs(rq, "Provided Feedback:")) {
        out->content = update(rq);
    } else if (!rq->ntools && !text_protocol(rq) &&
               (find_in_msgs(rq, "summarize") || find_in_msgs(rq, "summarise"))) {
        out->content = summary(rq);
    } else if (text_protocol(rq) && (out->content = maybe_text_action(rq))) {
        /* a Thought / Action / Action Input turn */
    } else if (!maybe_call_tool(rq, out)) {
        out->content = answer_label(rq);
    }
    if (!out->finish_reason)
        out->finish_reason = xstrdup("stop");
    out->ntool_calls_total = out->ntool_calls;
    return 0;
}

static int backend_chat(llm_worker *w, const llm_request *rq, llm_response *out, llm_call *call,
                        pe_err *e)
{
    (void)w;
    (void)call;
    return offline_chat(rq, out, e);
}

const llm_backend_ops llm_backend_offline = {"offline", backend_chat, NULL, NULL};
