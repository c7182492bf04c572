#include "methods.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "knn.h"
#include "memory.h"
#include "pipeline.h"

static int mean_rating(const ds_item *items, size_t n, double *mean)
{
    double sum = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        double v;
        if (items[i].label && pe_parse_pyfloat(items[i].label, &v) && isfinite(v)) {
            sum += v;
            m++;
        }
    }
    if (!m)
        return 0;
    *mean = sum / (double)m;
    return 1;
}

/* Most frequent label; ties go to the earlier label in the task's list. */
static int top_label(const task *t, const size_t *counts)
{
    int best = -1;
    for (size_t i = 0; i < t->nlabels; i++)
        if (counts[i] && (best < 0 || counts[i] > counts[best]))
            best = (int)i;
    return best;
}

static void count_labels(const task *t, const ds_item *items, size_t n, size_t *counts)
{
    for (size_t i = 0; i < n; i++) {
        int l = task_label_index(t, items[i].label);
        if (l >= 0)
            counts[l]++;
    }
}

size_t methods_pool_size(const run_shared *rs)
{
    return rs->pool ? rs->npool : rs->data->nusers;
}

const ds_user *methods_pool_user(const run_shared *rs, size_t i)
{
    return rs->pool ? rs->pool[i] : &rs->data->users[i];
}

size_t methods_pool_find(const run_shared *rs, const char *id)
{
    size_t lo = 0, hi = methods_pool_size(rs);
    if (!rs->pool) {
        for (size_t i = 0; i < hi; i++)
            if (strcmp(rs->data->users[i].id, id) == 0)
                return i;
        return hi;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(rs->pool[mid]->id, id);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return rs->npool;
}

static int by_id(const void *a, const void *b)
{
    return strcmp((*(const ds_user *const *)a)->id, (*(const ds_user *const *)b)->id);
}

const ds_user **methods_pool_new(const ds_user *const *users, size_t n)
{
    const ds_user **p = xcalloc(n ? n : 1, sizeof *p);
    memcpy(p, users, n * sizeof *p);
    qsort(p, n, sizeof *p, by_id);
    return p;
}

void methods_global_stats(const dataset *d, int *label, double *mean)
{
    const task *t = d->task;
    size_t *counts = xcalloc(t->nlabels, sizeof *counts);
    double sum = 0, m;
    size_t nm = 0;

    for (size_t u = 0; u < d->nusers; u++) {
        count_labels(t, d->users[u].items, d->users[u].nitems, counts);
        if (mean_rating(d->users[u].items, d->users[u].nitems, &m)) {
            sum += m * (double)d->users[u].nitems;
            nm += d->users[u].nitems;
        }
    }
    *label = top_label(t, counts);
    if (*label < 0)
        *label = 0;
    *mean = nm ? sum / (double)nm : 3.0;
    free(counts);
}

/* Ratings are rounded half up and kept within 1..5. */
static char *rating_label(double mean)
{
    long r = (long)floor(mean + 0.5);
    if (r < 1)
        r = 1;
    if (r > 5)
        r = 5;
    return xasprintf("%ld", r);
}

/* lamp1 heuristic: the reference sharing the larger share of its words (ASCII
 * letters and digits, lower-cased, 3+ characters) with the user's papers;
 * a tie answers "[1]". */
typedef struct wordset {
    uint64_t *h;
    size_t n, cap;
} wordset;

static void words_each(const char *s, void (*fn)(void *, uint64_t), void *ctx)
{
    char w[64];
    size_t n = 0;
    for (const char *p = s;; p++) {
        if (*p && isalnum((unsigned char)*p)) {
            if (n < sizeof w)
                w[n] = (char)tolower((unsigned char)*p);
            n++;
            continue;
        }
        if (n >= 3)
            fn(ctx, pe_hash64(w, n < sizeof w ? n : sizeof w, 0));
        n = 0;
        if (!*p)
            break;
    }
}

static void ws_add(void *ctx, uint64_t h)
{
    wordset *ws = ctx;
    ws->h = xgrow(ws->h, &ws->cap, ws->n + 1, sizeof *ws->h);
    ws->h[ws->n++] = h;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct overlap {
    const wordset *vocab;
    size_t hit, total;
} overlap;

static void ov_add(void *ctx, uint64_t h)
{
    overlap *o = ctx;
    o->total++;
    if (bsearch(&h, o->vocab->h, o->vocab->n, sizeof h, u64_cmp))
        o->hit++;
}

static char *lamp1_overlap(const ds_user *u, const char *input)
{
    wordset vocab = {0};
    char *title, *r1, *r2;
    overlap a, b;
    int second;

    if (task_lamp1_parse(input, &title, &r1, &r2) != 0)
        return xstrdup("[1]");
    for (size_t i = 0; i < u->nitems; i++) {
        words_each(u->items[i].field[0], ws_add, &vocab);
        words_each(u->items[i].field[1], ws_add, &vocab);
    }
    qsort(vocab.h, vocab.n, sizeof *vocab.h, u64_cmp);
    a = (overlap){&vocab, 0, 0};
    b = (overlap){&vocab, 0, 0};
    words_each(r1, ov_add, &a);
    words_each(r2, ov_add, &b);
    /* compare hit shares without division: a.hit/a.total vs b.hit/b.total */
    second = (double)b.hit * (double)(a.total ? a.total : 1) >
             (double)a.hit * (double)(b.total ? b.total : 1);
    if (!a.total)
        second = b.hit > 0;
    free(vocab.h);
    free(title);
    free(r1);
    free(r2);
    return xstrdup(second ? "[2]" : "[1]");
}

static int answer_majority(const run_shared *rs, user_state *us, size_t mi, const ds_query *q,
                           llm_worker *w, method_answer *a, pe_err *e)
{
    (void)e;
    (void)mi;
    (void)w;
    if (rs->task->id == TASK_LAMP1)
        a->raw = lamp1_overlap(us->user, q->input);
    else if (rs->task->rating)
        a->raw = rating_label(rs->global_mean);
    else
        a->raw = xstrdup(rs->task->labels[rs->global_label]);
    return 0;
}

static int answer_user_majority(const run_shared *rs, user_state *us, size_t mi,
                                const ds_query *q, llm_worker *w, method_answer *a, pe_err *e)
{
    const task *t = rs->task;
    const ds_user *u = us->user;
    double m;

    if (t->id == TASK_LAMP1 || (t->rating && !mean_rating(u->items, u->nitems, &m)))
        return answer_majority(rs, us, mi, q, w, a, e);
    if (t->rating) {
        a->raw = rating_label(m);
    } else {
        size_t *counts = xcalloc(t->nlabels, sizeof *counts);
        int l;
        count_labels(t, u->items, u->nitems, counts);
        l = top_label(t, counts);
        a->raw = xstrdup(t->labels[l >= 0 ? l : rs->global_label]);
        free(counts);
    }
    return 0;
}

static int answer_knn(const run_shared *rs, user_state *us, size_t mi, const ds_query *q,
                      llm_worker *w, method_answer *a, pe_err *e)
{
    memory *m = methods_user_memory(rs, us, e);
    int rc;
    (void)mi;
    (void)w;
    if (!m && e->code == PE_EXIT_RUNERRORS) { /* an embeddings request failed */
        a->error = xasprintf("episodic memory: %s", e->msg);
        return 0;
    }
    if (!m)
        return e->code;
    rc = knn_predict(m, rs->task, q->input, rs->k, NULL, &a->raw, e);
    if (rc == PE_EXIT_RUNERRORS) {
        a->error = xstrdup(e->msg);
        rc = 0;
    }
    return rc;
}

#define LLM(name, uses, def) {name, M_LLM | (uses), def, pipeline_answer, pipeline_prepare}

static const method table[] = {
    LLM("personaagent",
        M_MEMORY | M_SUMMARY | M_PERSONA | M_ALIGN | M_TOOL_MEMORY | M_TOOL_WIKI,
        "PersonaAgent: the persona (initialized from the user summary, Appendix B) as the "
        "system prompt, memory_search and wikipedia tools, test-time alignment (Algorithm 1)"),
    LLM("prompt", 0, "the task input alone, one call"),
    LLM("icl", M_ICL,
        "K demonstrations (input, answer) drawn with the run's seed from other users' "
        "histories, then the task input"),
    LLM("rag", M_MEMORY | M_RAG,
        "the K items most similar to the query from the user's memory, in LaMP's official "
        "prompt layout"),
    LLM("pag", M_MEMORY | M_RAG | M_SUMMARY, "rag with the user summary before it"),
    LLM("react", M_TOOL_WIKI,
        "ReAct agent with a generic system prompt and the wikipedia tool only"),
    LLM("membank", M_MEMORY | M_SUMMARY | M_TOOL_MEMORY | M_MEMBANK,
        "ReAct agent with a generic system prompt, the global user summary and a memory tool "
        "whose scores decay with age and grow with recall (MemoryBank)"),
    LLM("personaagent-noalign", M_MEMORY | M_SUMMARY | M_PERSONA | M_TOOL_MEMORY | M_TOOL_WIKI,
        "PersonaAgent with the initial persona, no alignment"),
    LLM("personaagent-nopersona", M_MEMORY | M_TOOL_MEMORY | M_TOOL_WIKI,
        "generic system prompt, memory_search and wikipedia tools, no alignment"),
    LLM("personaagent-nomemory", M_PERSONA | M_ALIGN | M_TOOL_WIKI,
        "no memory tool and no summary in the persona; wikipedia tool; alignment on"),
    LLM("personaagent-noaction", M_MEMORY | M_SUMMARY | M_PERSONA | M_ALIGN,
        "no tools: the aligned persona and the task input in one call"),
    {"knn", M_REFERENCE | M_MEMORY,
     "similarity-weighted vote over the labels of the K retrieved memories (lamp3: weighted "
     "mean rating; lamp1: the reference closer to its top-K papers); no LLM",
     answer_knn, NULL},
    {"majority", M_REFERENCE,
     "the label most frequent over all users' histories (lamp3: the rounded global mean "
     "rating; lamp1: the word-overlap heuristic)",
     answer_majority, NULL},
    {"user-majority", M_REFERENCE,
     "the user's own most frequent label, ties to the earlier label in the list (lamp3: the "
     "user's rounded mean rating; lamp1: the word-overlap heuristic)",
     answer_user_majority, NULL},
};

size_t methods_count(void)
{
    return sizeof table / sizeof table[0];
}

const method *methods_at(size_t i)
{
    return i < methods_count() ? &table[i] : NULL;
}

const method *methods_get(const char *name)
{
    for (size_t i = 0; i < methods_count(); i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

int methods_parse_list(const char *list, const method ***out, size_t *n, pe_err *e)
{
    const method **v;
    size_t k = 0;
    char *copy, *save = NULL;

    for (const char *p = list;; p++) { /* every item between commas must name something */
        const char *end = p + strcspn(p, ",");
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end)
            return pe_errf(e, PE_EXIT_USAGE, "--method \"%s\": an empty item in the list", list);
        if (!*(p = end))
            break;
    }
    v = xcalloc(methods_count(), sizeof *v);
    copy = xstrdup(list);

    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *name = pe_strip(tok);
        if (strcmp(name, "all") == 0) {
            for (size_t i = 0; i < methods_count(); i++) {
                int dup = 0;
                for (size_t j = 0; j < k; j++)
                    dup |= v[j] == &table[i];
                if (!dup)
                    v[k++] = &table[i];
            }
        } else if (*name) {
            const method *m = methods_get(name);
            int dup = 0;
            if (!m) {
                buf names = BUF_INIT;
                for (size_t i = 0; i < methods_count(); i++)
                    buf_printf(&names, "%s%s", i ? ", " : "", table[i].name);
                pe_errf(e, PE_EXIT_USAGE, "unknown method \"%s\" (methods: %s, all)", name,
                        buf_str(&names));
                buf_free(&names);
                free(name);
                free(copy);
                free(v);
                return PE_EXIT_USAGE;
            }
            for (size_t j = 0; j < k; j++)
                dup |= v[j] == m;
            if (!dup)
                v[k++] = m;
        }
        free(name);
    }
    free(copy);
    if (!k) {
        free(v);
        return pe_errf(e, PE_EXIT_USAGE, "no method given");
    }
    *out = v;
    *n = k;
    return 0;
}

void user_state_init(user_state *us, const ds_user *u, size_t index, size_t nmethods)
{
    memset(us, 0, sizeof *us);
    us->user = u;
    us->index = index;
    us->nper = nmethods;
    us->per = xcalloc(nmethods ? nmethods : 1, sizeof *us->per);
    pthread_mutex_init(&us->mu, NULL);
}

void method_answer_free(method_answer *a)
{
    free(a->raw);
    free(a->error);
    a->raw = a->error = NULL;
}

struct memory *methods_user_memory(const run_shared *rs, user_state *us, pe_err *e)
{
    memory *m;
    pthread_mutex_lock(&us->mu);
    if (!us->memory && !us->memory_rc) {
        pe_err be = {0};
        us->memory_rc = memory_build(rs->task, us->user, rs->encoder, &us->memory, &be);
        if (us->memory_rc)
            us->memory_err = xstrdup(be.msg);
    }
    m = us->memory;
    if (!m)
        pe_errf(e, us->memory_rc, "%s", us->memory_err);
    pthread_mutex_unlock(&us->mu);
    return m;
}

void methods_user_forget_memory(user_state *us)
{
    pthread_mutex_lock(&us->mu);
    memory_free(us->memory);
    us->memory = NULL;
    us->memory_rc = 0;
    free(us->memory_err);
    us->memory_err = NULL;
    pthread_mutex_unlock(&us->mu);
}

/* Frees what was built for the user; safe to call more than once. */
void user_state_release(user_state *us)
{
    pthread_mutex_lock(&us->mu);
    memory_free(us->memory);
    us->memory = NULL;
    free(us->memory_err);
    us->memory_err = NULL;
    free(us->summary);
    free(us->summary_error);
    us->summary = us->summary_error = NULL;
    for (size_t i = 0; i < us->nper; i++) {
        free(us->per[i].persona);
        free(us->per[i].prep_error);
    }
    free(us->per);
    us->per = NULL;
    us->nper = 0;
    pthread_mutex_unlock(&us->mu);
}

int methods_need_llm(const method *const *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (m[i]->uses & M_LLM)
            return 1;
    return 0;
}
