#include "tools.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "jsonu.h"

/* ---- memory_search ----------------------------------------------------------------- */

#define MEMBANK_TAU_DAYS 365.0
#define MEMBANK_TAU_STEPS 50.0
#define MEMBANK_CANDIDATES 4 /* candidates per result, by plain similarity */

struct membank_state {
    const memory *mem;
    double *strength;
    long *days;      /* item dates as day numbers; NO_DAY when absent */
    long query_day;  /* NO_DAY when absent */
    pthread_mutex_t mu;
};

#define NO_DAY (-2147483647L)

/* Days since 1970-01-01 of "YYYY" (taken as YYYY-01-01) or "YYYY-MM-DD"; NO_DAY else. */
static long day_number(const char *s)
{
    int y, m = 1, d = 1;
    size_t n = s ? strlen(s) : 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]) && !((i == 4 || i == 7) && s[i] == '-'))
            return NO_DAY;
    if (n == 4)
        y = atoi(s);
    else if (n == 10 && s[4] == '-' && s[7] == '-')
        y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    else
        return NO_DAY;
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return NO_DAY;
    /* days_from_civil (H. Hinnant) */
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

membank_state *membank_state_new(const memory *m, const char *query_date)
{
    membank_state *s = xcalloc(1, sizeof *s);
    s->mem = m;
    s->strength = xmalloc((m->n ? m->n : 1) * sizeof *s->strength);
    s->days = xmalloc((m->n ? m->n : 1) * sizeof *s->days);
    for (size_t i = 0; i < m->n; i++) {
        s->strength[i] = 1;
        s->days[i] = day_number(m->dates[i]);
    }
    s->query_day = day_number(query_date);
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

void membank_set_date(membank_state *s, const char *query_date)
{
    pthread_mutex_lock(&s->mu);
    s->query_day = day_number(query_date);
    pthread_mutex_unlock(&s->mu);
}

double membank_strength(membank_state *s, size_t i)
{
    double v;
    pthread_mutex_lock(&s->mu);
    v = i < s->mem->n ? s->strength[i] : 0;
    pthread_mutex_unlock(&s->mu);
    return v;
}

void membank_state_free(membank_state *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s->strength);
    free(s->days);
    free(s);
}

static int hit_cmp(const void *a, const void *b)
{
    const topk_hit *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Rescore the candidates with the forgetting curve, keep the k best, strengthen them. */
static size_t membank_rescore(membank_state *s, const topk_filter *f, topk_hit *h, size_t n,
                              size_t k)
{
    size_t newest = s->mem->n ? s->mem->n - 1 : 0;
    if (f && f->cutoff != TOPK_ALL && f->cutoff <= s->mem->n)
        newest = f->cutoff ? f->cutoff - 1 : 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < n; i++) {
        size_t j = h[i].index;
        double dt, tau, r;
        if (s->query_day != NO_DAY && s->days[j] != NO_DAY) {
            dt = (double)(s->query_day - s->days[j]);
            tau = MEMBANK_TAU_DAYS;
        } else {
            dt = j <= newest ? (double)(newest - j) : 0;
            tau = MEMBANK_TAU_STEPS;
        }
        if (dt < 0)
            dt = 0;
        r = exp(-dt / (s->strength[j] * tau));
        /* an older item never ranks above a newer one of equal similarity */
        h[i].score = h[i].score >= 0 ? (float)(h[i].score * r) : (float)(h[i].score / r);
    }
    qsort(h, n, sizeof *h, hit_cmp);
    if (n > k)
        n = k;
    for (size_t i = 0; i < n; i++)
        s->strength[h[i].index] += 1;
    pthread_mutex_unlock(&s->mu);
    return n;
}

char *tools_memory_search(memory_tool_ctx *c, const char *query)
{
    size_t want = c->k, n = 0;
    topk_hit *h;
    pe_err e = {0};
    char *out;

    if (!query || !*query)
        return xstrdup("Error: the query is empty; give a specific search query.");
    if (c->membank)
        want = c->k * MEMBANK_CANDIDATES;
    h = xcalloc(want ? want : 1, sizeof *h);
    if (memory_search(c->mem, query, want, c->filter, h, &n, &e) != 0) {
        free(h);
        return xasprintf("Error: memory search failed: %s", e.msg);
    }
    if (c->membank)
        n = membank_rescore(c->membank, c->filter, h, n, c->k);
    out = memory_format_observation(c->mem, h, n, c->max_chars);
    free(h);
    return out;
}

static char *memory_run(void *ctx, const char *input)
{
    return tools_memory_search(ctx, input);
}

static const char *desc(const prompt_set *p, const char *name)
{
    const char *d = p ? prompts_get(p, name) : NULL;
    return d ? d : "";
}

agent_tool tools_memory(const prompt_set *p, memory_tool_ctx *ctx)
{
    agent_tool t = {"memory_search", desc(p, "tool_memory"), "query",
                    "a specific search query or question about the content", memory_run, ctx};
    return t;
}

/* ---- wikipedia ---------------------------------------------------------------------- */

typedef enum { WIKI_MEDIAWIKI, WIKI_KIWIX } wiki_kind;

struct wiki_client {
    wiki_kind kind;
    char *base;
    http_opts http;
};

#define WIKI_MAX_CHARS 1000
#define WIKI_UA "User-Agent: persona-eval/" PE_VERSION " (research evaluation tool)"

int tools_wiki_new(const char *spec, double timeout_s, wiki_client **out, pe_err *e)
{
    wiki_client *w;
    const char *url = spec;
    wiki_kind kind = WIKI_MEDIAWIKI;
    size_t n;

    *out = NULL;
    if (!spec || !strcmp(spec, "off"))
        return 0;
    if (!strncmp(spec, "kiwix:", 6)) {
        kind = WIKI_KIWIX;
        url = spec + 6;
    }
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        return pe_errf(e, PE_EXIT_USAGE, "--wiki \"%s\": expected off, a MediaWiki URL "
                       "(https://...) or kiwix:URL", spec);
    w = xcalloc(1, sizeof *w);
    w->kind = kind;
    n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    w->base = xstrndup(url, n);
    http_opts_default(&w->http);
    if (timeout_s > 0)
        w->http.timeout_s = timeout_s;
    w->http.retries = 2;
    w->http.deadline_s = w->http.timeout_s * 3;
    w->http.max_body = 4u << 20;
    *out = w;
    return 0;
}

void tools_wiki_free(wiki_client *w)
{
    if (!w)
        return;
    free(w->base);
    free(w);
}

/* Percent-encoding of everything but unreserved characters; spaces as `space`. */
static char *url_escape(const char *s, char space)
{
    buf b = BUF_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            buf_addc(&b, (char)*p);
        else if (*p == ' ' && space)
            buf_addc(&b, space);
        else
            buf_printf(&b, "%%%02X", *p);
    }
    return buf_detach(&b);
}

static int get(wiki_client *w, const char *url, http_response *r, pe_err *e)
{
    const char *hdr[] = {WIKI_UA};
    http_handle *h = http_handle_new();
    int rc;
    if (!h)
        return pe_errf(e, PE_EXIT_RUNERRORS, "%s: cannot make an HTTP handle", url);
    rc = http_get(h, &w->http, url, hdr, 1, r, e);
    http_handle_free(h);
    return rc;
}

/* Cut s to at most max bytes at a character boundary, preferring a space, with "...". */
static char *cut_text(const char *s, size_t max)
{
    size_t n = strlen(s), k;
    if (!max || n <= max)
        return xstrdup(s);
    k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    for (size_t j = k; j > 0 && k - j < 100; j--)
        if (s[j] == ' ') {
            k = j;
            break;
        }
    return xasprintf("%.*s...", (int)k, s);
}

static char *mw_summary(wiki_client *w, const char *title, pe_err *e)
{
    char *t = url_escape(title, '_');
    char *url = xasprintf("%s/api/rest_v1/page/summary/%s", w->base, t);
    http_response r;
    cJSON *j;
    const char *ex;
    char *out = NULL;
    int rc = get(w, url, &r, e);

    if (rc == 0 && (j = jsonu_parse(r.body, r.len, NULL))) {
        ex = jsonu_str(j, "extract");
        if (ex && *ex)
            out = pe_strip(ex);
        cJSON_Delete(j);
    }
    http_response_free(&r);
    free(url);
    free(t);
    return out;
}

static char *mw_search_title(wiki_client *w, const char *topic, pe_err *e)
{
    char *q = url_escape(topic, 0);
    char *url = xasprintf("%s/w/api.php?action=opensearch&search=%s&limit=1&namespace=0"
                          "&format=json", w->base, q);
    http_response r;
    cJSON *j;
    char *out = NULL;

    if (get(w, url, &r, e) == 0 && (j = jsonu_parse(r.body, r.len, NULL))) {
        const cJSON *titles = cJSON_GetArrayItem(j, 1), *t0 = cJSON_GetArrayItem(titles, 0);
        if (cJSON_IsString(t0) && *t0->valuestring)
            out = xstrdup(t0->valuestring);
        cJSON_Delete(j);
    }
    http_response_free(&r);
    free(url);
    free(q);
    return out;
}

/* ---- HTML to text (kiwix) ----------------------------------------------------------- */

static void put_utf8(buf *b, unsigned long c)
{
    if (c < 0x80) {
        buf_addc(b, (char)c);
    } else if (c < 0x800) {
        buf_addc(b, (char)(0xC0 | (c >> 6)));
        buf_addc(b, (char)(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        buf_addc(b, (char)(0xE0 | (c >> 12)));
        buf_addc(b, (char)(0x80 | ((c >> 6) & 0x3F)));
        buf_addc(b, (char)(0x80 | (c & 0x3F)));
    } else if (c < 0x110000) {
        buf_addc(b, (char)(0xF0 | (c >> 18)));
        buf_addc(b, (char)(0x80 | ((c >> 12) & 0x3F)));
        buf_addc(b, (char)(0x80 | ((c >> 6) & 0x3F)));
        buf_addc(b, (char)(0x80 | (c & 0x3F)));
    }
}

/* Append the text of [p, end) with tags removed, entities decoded and whitespace
 * collapsed to single spaces. */
static void text_of(const char *p, const char *end, buf *b)
{
    static const struct { const char *name, *text; } ent[] = {
        {"amp;", "&"}, {"lt;", "<"}, {"gt;", ">"}, {"quot;", "\""}, {"apos;", "'"},
        {"nbsp;", " "}, {"ndash;", "\xE2\x80\x93"}, {"mdash;", "\xE2\x80\x94"}};
    int space = b->len > 0;
    while (p < end) {
        if (*p == '<') {
            const char *q = memchr(p, '>', (size_t)(end - p));
            p = q ? q + 1 : end;
            space = 1;
            continue;
        }
        if (isspace((unsigned char)*p)) {
            space = 1;
            p++;
            continue;
        }
        if (space && b->len)
            buf_addc(b, ' ');
        space = 0;
        if (*p == '&') {
            size_t k;
            if (p[1] == '#') {
                char *q;
                unsigned long c = p[2] == 'x' || p[2] == 'X' ? strtoul(p + 3, &q, 16)
                                                             : strtoul(p + 2, &q, 10);
                if (*q == ';' && q > p + 2) {
                    put_utf8(b, c);
                    p = q + 1;
                    continue;
                }
            }
            for (k = 0; k < sizeof ent / sizeof ent[0]; k++)
                if (!strncmp(p + 1, ent[k].name, strlen(ent[k].name)))
                    break;
            if (k < sizeof ent / sizeof ent[0]) {
                buf_adds(b, ent[k].text);
                p += 1 + strlen(ent[k].name);
                continue;
            }
        }
        buf_addc(b, *p++);
    }
}

/* Blank out <tag ...>...</tag> elements (script, style, head) in place. */
static void drop_elements(char *s, const char *tag)
{
    char open[16], close[20];
    snprintf(open, sizeof open, "<%s", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    for (char *p = s; (p = (char *)pe_strcasestr(p, open));) {
        char c = p[strlen(open)];
        char *q;
        if (c != '>' && c != ' ' && c != '\t' && c != '\n') {
            p++;
            continue;
        }
        q = (char *)pe_strcasestr(p, close);
        q = q ? q + strlen(close) : p + strlen(p);
        memset(p, ' ', (size_t)(q - p));
        p = q;
    }
}

/* The article's paragraphs (<p> elements) as text, or its whole body when it has none. */
static char *html_to_text(const char *html)
{
    char *s = xstrdup(html), *out;
    buf b = BUF_INIT;
    drop_elements(s, "script");
    drop_elements(s, "style");
    drop_elements(s, "head");
    for (const char *p = s; (p = pe_strcasestr(p, "<p"));) {
        const char *q;
        if (p[2] != '>' && p[2] != ' ') {
            p += 2;
            continue;
        }
        q = pe_strcasestr(p, "</p>");
        if (!q)
            q = p + strlen(p);
        text_of(p, q, &b);
        p = q;
    }
    if (!b.len)
        text_of(s, s + strlen(s), &b);
    free(s);
    out = pe_strip(buf_str(&b));
    buf_free(&b);
    return out;
}

/* The text of the first <tag>...</tag> after p, entities decoded; NULL if none. */
static char *xml_elem(const char *p, const char *tag)
{
    char open[32], close[32];
    const char *a, *z;
    buf b = BUF_INIT;
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    if (!(a = strstr(p, open)) || !(z = strstr(a, close)))
        return NULL;
    text_of(a + strlen(open), z, &b);
    return buf_detach(&b);
}

static char *kiwix_summary(wiki_client *w, const char *topic, pe_err *e)
{
    char *q = url_escape(topic, 0), *link = NULL, *out = NULL;
    char *url = xasprintf("%s/search?pattern=%s&format=xml&pageLength=1", w->base, q);
    http_response r;
    const char *item;

    if (get(w, url, &r, e) == 0 && r.body && (item = strstr(r.body, "<item>")))
        link = xml_elem(item, "link");
    http_response_free(&r);
    free(url);
    if (link && *link) {
        url = xasprintf("%s%s%s", w->base, *link == '/' ? "" : "/", link);
        if (get(w, url, &r, e) == 0 && r.body) {
            out = html_to_text(r.body);
            if (!*out) {
                free(out);
                out = NULL;
            }
        }
        http_response_free(&r);
        free(url);
    }
    free(link);
    free(q);
    return out;
}

char *tools_wiki_summary(wiki_client *w, const char *topic, size_t max_chars, pe_err *e)
{
    char *text = NULL, *out;
    pe_err local = {0};

    if (!e)
        e = &local;
    e->code = 0;
    e->msg[0] = 0;
    if (!topic || !*topic) {
        pe_errf(e, PE_EXIT_RUNERRORS, "the topic is empty");
        return NULL;
    }
    if (w->kind == WIKI_KIWIX) {
        text = kiwix_summary(w, topic, e);
    } else if (!(text = mw_summary(w, topic, e))) {
        char *title = mw_search_title(w, topic, e);
        if (title)
            text = mw_summary(w, title, e);
        free(title);
    }
    if (!text) {
        /* a transport failure keeps its message; otherwise nothing was found */
        if (!e->code || strstr(e->msg, "HTTP 404"))
            pe_errf(e, PE_EXIT_RUNERRORS, "no Wikipedia article found for \"%s\"", topic);
        return NULL;
    }
    out = cut_text(text, max_chars);
    free(text);
    return out;
}

static char *wiki_run(void *ctx, const char *input)
{
    pe_err e = {0};
    char *topic = input ? pe_strip(input) : xstrdup(""), *s;
    s = tools_wiki_summary(ctx, topic, WIKI_MAX_CHARS, &e);
    if (!s) {
        if (strstr(e.msg, "no Wikipedia article found") || !*topic)
            s = xasprintf("No Wikipedia article found for \"%s\".", topic);
        else
            s = xasprintf("Error: the Wikipedia lookup failed: %s", e.msg);
    }
    free(topic);
    return s;
}

agent_tool tools_wikipedia(const prompt_set *p, wiki_client *w)
{
    agent_tool t = {"wikipedia", desc(p, "tool_wikipedia"), "topic",
                    "a clear, specific topic name", wiki_run, w};
    return t;
}
