#include "task.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "util.h"

static const char *const labels_lamp1[] = {"[1]", "[2]"};
static const char *const labels_lamp2m[] = {
    "sci-fi",   "based on a book",   "comedy",           "action",   "twist ending",
    "dystopia", "dark comedy",       "classic",          "psychology", "fantasy",
    "romance",  "thought-provoking", "social commentary", "violence", "true story"};
static const char *const labels_lamp2n[] = {
    "food & drink", "sports",        "education", "parents",        "religion",
    "travel",       "business",      "crime",     "science & technology",
    "culture & arts", "entertainment", "politics", "women", "style & beauty",
    "healthy living"};
static const char *const labels_lamp3[] = {"1", "2", "3", "4", "5"};

static const char *const fields_lamp1[] = {"title", "abstract"};
static const char *const fields_lamp2m[] = {"description"};
static const char *const fields_lamp2n[] = {"title", "text"};
static const char *const fields_lamp3[] = {"text"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const task tasks[TASK_COUNT] = {
    {TASK_LAMP1, "lamp1", "LaMP_1", labels_lamp1, N(labels_lamp1), fields_lamp1,
     N(fields_lamp1), NULL, 0},
    {TASK_LAMP2M, "lamp2m", "LaMP_2M", labels_lamp2m, N(labels_lamp2m), fields_lamp2m,
     N(fields_lamp2m), "tag", 0},
    {TASK_LAMP2N, "lamp2n", "LaMP_2N", labels_lamp2n, N(labels_lamp2n), fields_lamp2n,
     N(fields_lamp2n), "category", 0},
    {TASK_LAMP3, "lamp3", "LaMP_3", labels_lamp3, N(labels_lamp3), fields_lamp3,
     N(fields_lamp3), "score", 1},
};

/* Input templates, split around the one variable part (lamp1 is built apart). */
static const char prefix_lamp2m[] =
    "Which tag does this movie relate to among the following tags? Just answer with the tag "
    "name without further explanation. tags: [sci-fi, based on a book, comedy, action, twist "
    "ending, dystopia, dark comedy, classic, psychology, fantasy, romance, thought-provoking, "
    "social commentary, violence, true story] description: ";
static const char prefix_lamp2n[] =
    "Which category does this article relate to among the following categories? Just answer "
    "with the category name without further explanation. categories: [women, religion, "
    "politics, style & beauty, entertainment, culture & arts, sports, science & technology, "
    "travel, business, crime, education, healthy living, parents, food & drink] article: ";
static const char prefix_lamp3[] =
    "What is the score of the following review on a scale of 1 to 5? just answer with 1, 2, 3, "
    "4, or 5 without further explanation. review: ";

static const char lamp1_a[] = "For an author who has written the paper with the title \"";
static const char lamp1_b[] =
    "\", which reference is related? Just answer with [1] or [2] without explanation. [1]: \"";
static const char lamp1_c[] = "\" [2]: \"";

const task *task_by_id(task_id id)
{
    return id < TASK_COUNT ? &tasks[id] : NULL;
}

const task *task_get(const char *name)
{
    static const struct {
        const char *alias;
        task_id id;
    } aliases[] = {
        {"lamp1", TASK_LAMP1},   {"lamp-1", TASK_LAMP1},   {"lamp_1", TASK_LAMP1},
        {"lamp2m", TASK_LAMP2M}, {"lamp-2m", TASK_LAMP2M}, {"lamp_2m", TASK_LAMP2M},
        {"lamp2n", TASK_LAMP2N},  {"lamp-2n", TASK_LAMP2N},
        {"lamp_2n", TASK_LAMP2N}, {"lamp3", TASK_LAMP3},   {"lamp-3", TASK_LAMP3},
        {"lamp_3", TASK_LAMP3},
    };
    if (!name)
        return NULL;
    for (size_t i = 0; i < N(aliases); i++)
        if (strcasecmp(name, aliases[i].alias) == 0)
            return &tasks[aliases[i].id];
    return NULL;
}

/* The name LaMP used for both lamp2 tasks, in its spellings. */
static int is_lamp2(const char *name)
{
    return !strcasecmp(name, "LaMP_2") || !strcasecmp(name, "LaMP-2") ||
           !strcasecmp(name, "lamp2");
}

const task *task_from_file(const char *name, const char *const *labels, size_t nlabels,
                           int *undecided)
{
    size_t news = 0, movies = 0;
    *undecided = 0;
    if (!name)
        return NULL;
    if (!is_lamp2(name))
        return task_get(name);
    for (size_t i = 0; i < nlabels; i++) {
        news += task_label_index(&tasks[TASK_LAMP2N], labels[i]) >= 0;
        movies += task_label_index(&tasks[TASK_LAMP2M], labels[i]) >= 0;
    }
    if (news && !movies)
        return &tasks[TASK_LAMP2N];
    if (movies && !news)
        return &tasks[TASK_LAMP2M];
    *undecided = !news && !movies;
    return NULL;
}

int task_file_matches(const task *t, const char *name, const char *const *labels,
                      size_t nlabels, char *why, size_t whylen)
{
    int undecided;
    const task *f = task_from_file(name, labels, nlabels, &undecided);
    if (undecided ? t->id == TASK_LAMP2M || t->id == TASK_LAMP2N : f == t)
        return 1;
    if (!why)
        return 0;
    if (f && is_lamp2(name))
        snprintf(why, whylen, "is \"%s\", which means %s here (its labels are %s), but the "
                 "task is %s", name, f->name,
                 f->id == TASK_LAMP2N ? "news categories" : "movie tags", t->name);
    else if (!f && !undecided && !is_lamp2(name))
        snprintf(why, whylen, "is \"%s\", an unknown task (known: %s)", name, task_names());
    else if (!f && !undecided)
        snprintf(why, whylen, "is \"%s\", but its labels mix news categories and movie tags",
                 name);
    else
        snprintf(why, whylen, "is \"%s\", but the task is %s", name, t->name);
    return 0;
}

const char *task_names(void)
{
    return "lamp1, lamp2m, lamp2n, lamp3";
}

int task_label_index(const task *t, const char *s)
{
    if (!s)
        return -1;
    for (size_t i = 0; i < t->nlabels; i++)
        if (strcmp(t->labels[i], s) == 0)
            return (int)i;
    return -1;
}

char *task_build_input(const task *t, const char *const *v)
{
    switch (t->id) {
    case TASK_LAMP2M:
        return xasprintf("%s%s", prefix_lamp2m, v[0]);
    case TASK_LAMP2N:
        return xasprintf("%s%s", prefix_lamp2n, v[1]);
    case TASK_LAMP3:
        return xasprintf("%s%s", prefix_lamp3, v[0]);
    default:
        return NULL;
    }
}

char *task_build_lamp1_input(const char *title, const char *ref1, const char *ref2)
{
    return xasprintf("%s%s%s%s%s%s\"", lamp1_a, title, lamp1_b, ref1, lamp1_c, ref2);
}

static char *after_marker(const char *input, const char *marker)
{
    const char *p = strstr(input, marker);
    return pe_strip(p ? p + strlen(marker) : input);
}

/* LaMP's extract_strings_between_quotes: every "..." span, in order. */
static size_t quoted_spans(const char *s, const char **start, size_t *len, size_t max)
{
    size_t n = 0;
    const char *open = NULL;
    for (const char *p = s; *p; p++) {
        if (*p != '"')
            continue;
        if (!open) {
            open = p + 1;
        } else {
            if (n < max) {
                start[n] = open;
                len[n] = (size_t)(p - open);
            }
            n++;
            open = NULL;
        }
    }
    return n;
}

int task_lamp1_parse(const char *input, char **title, char **ref1, char **ref2)
{
    const char *a = strstr(input, lamp1_a), *b, *c, *end;
    *title = *ref1 = *ref2 = NULL;
    if (a && (b = strstr(a + strlen(lamp1_a), lamp1_b)) &&
        (c = strstr(b + strlen(lamp1_b), lamp1_c))) {
        const char *r2 = c + strlen(lamp1_c);
        end = strrchr(r2, '"');
        if (!end)
            end = r2 + strlen(r2);
        *title = xstrndup(a + strlen(lamp1_a), (size_t)(b - a - strlen(lamp1_a)));
        *ref1 = xstrndup(b + strlen(lamp1_b), (size_t)(c - b - strlen(lamp1_b)));
        *ref2 = xstrndup(r2, (size_t)(end - r2));
        return 0;
    }
    {
        const char *st[3];
        size_t ln[3];
        if (quoted_spans(input, st, ln, 3) < 3)
            return -1;
        *title = xstrndup(st[0], ln[0]);
        *ref1 = xstrndup(st[1], ln[1]);
        *ref2 = xstrndup(st[2], ln[2]);
        return 0;
    }
}

char *task_query_text(const task *t, const char *input)
{
    switch (t->id) {
    case TASK_LAMP1: {
        char *title, *r1, *r2, *q;
        if (task_lamp1_parse(input, &title, &r1, &r2) != 0)
            return pe_strip(input);
        q = xasprintf("%s %s", r1, r2);
        free(title);
        free(r1);
        free(r2);
        return q;
    }
    case TASK_LAMP2M:
        return after_marker(input, "description:");
    case TASK_LAMP2N:
        return after_marker(input, "article:");
    case TASK_LAMP3:
        return after_marker(input, "review:");
    default:
        return pe_strip(input);
    }
}

char *task_item_text(const task *t, const char *const *v)
{
    switch (t->id) {
    case TASK_LAMP1:
    case TASK_LAMP2N:
        return xasprintf("%s %s", v[0] ? v[0] : "", v[1] ? v[1] : "");
    default:
        return xstrdup(v[0] ? v[0] : "");
    }
}

static int is_word(unsigned char c)
{
    return isalnum(c) || c >= 0x80;
}

typedef struct span {
    size_t at, len;
    int label;
} span;

int task_normalize(const task *t, const char *answer, int strict)
{
    char *s;
    int idx, found = -1;
    span *sp = NULL;
    size_t nsp = 0, cap = 0;

    if (!answer)
        return -1;
    s = pe_strip(answer);
    idx = task_label_index(t, s);
    if (idx >= 0 || strict) {
        free(s);
        return idx;
    }
    /* every occurrence of every label at word boundaries */
    for (size_t i = 0; i < t->nlabels; i++) {
        const char *lab = t->labels[i];
        size_t ll = strlen(lab);
        for (const char *p = s; (p = pe_strcasestr(p, lab)) != NULL; p++) {
            size_t at = (size_t)(p - s);
            int left_ok = at == 0 || !is_word((unsigned char)s[at - 1]) ||
                          !is_word((unsigned char)lab[0]);
            int right_ok = !is_word((unsigned char)p[ll]) || !is_word((unsigned char)lab[ll - 1]);
            if (!left_ok || !right_ok)
                continue;
            sp = xgrow(sp, &cap, nsp + 1, sizeof *sp);
            sp[nsp++] = (span){at, ll, (int)i};
        }
    }
    /* a span inside a longer one ("comedy" in "dark comedy") does not count */
    for (size_t i = 0; i < nsp; i++) {
        int inside = 0;
        for (size_t j = 0; j < nsp && !inside; j++)
            inside = j != i && sp[j].len > sp[i].len && sp[i].at >= sp[j].at &&
                     sp[i].at + sp[i].len <= sp[j].at + sp[j].len;
        if (inside)
            continue;
        if (found >= 0 && found != sp[i].label) {
            found = -1;
            break;
        }
        found = sp[i].label;
    }
    free(sp);
    /* lamp1 answers often drop the brackets: a lone 1 or 2 names the reference */
    if (nsp == 0 && t->id == TASK_LAMP1) {
        int digit = 0;
        for (const char *p = s; *p; p++)
            if ((*p == '1' || *p == '2') && (p == s || !is_word((unsigned char)p[-1])) &&
                !is_word((unsigned char)p[1])) {
                if (digit && digit != *p) {
                    digit = -1;
                    break;
                }
                digit = *p;
            }
        if (digit > 0)
            found = digit == '1' ? 0 : 1;
    }
    free(s);
    return found;
}
