/* dataset: loading the three formats, time order, outputs pairing, prepare, select,
 * JSONL round trip and every kind of bad input. Expected values are worked out by hand
 * from the fixtures in tests/data/dataset/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "testutil.h"

#define FIX "tests/data/dataset/"

static const char P2M[] =
    "Which tag does this movie relate to among the following tags? Just answer with the tag "
    "name without further explanation. tags: [sci-fi, based on a book, comedy, action, twist "
    "ending, dystopia, dark comedy, classic, psychology, fantasy, romance, thought-provoking, "
    "social commentary, violence, true story] description: ";

static char *fix(const char *name)
{
    return xasprintf("%s/" FIX "%s", tu_root(), name);
}

static int load1(dataset *d, const char *tname, const char *path, const char *fmt, pe_err *e)
{
    const char *p[1] = {path};
    return dataset_load(d, task_get(tname), p, 1, fmt, e);
}

/* Ids of a user's items (or queries), joined by spaces. */
static char *ids_of(const ds_user *u, int queries)
{
    char *s = xstrdup("");
    size_t n = queries ? u->nqueries : u->nitems;
    for (size_t i = 0; i < n; i++) {
        const char *id = queries ? u->queries[i].id : u->items[i].id;
        char *t = xasprintf("%s%s%s", s, i ? " " : "", id);
        free(s);
        s = t;
    }
    return s;
}

static char *item_ids(const ds_user *u)
{
    return ids_of(u, 0);
}

static char *query_ids(const ds_user *u)
{
    return ids_of(u, 1);
}

#define ck_ids(fn, u, expect)                                                                  \
    do {                                                                                       \
        char *ids_ = fn(u);                                                                    \
        ck_assert_str_eq(ids_, expect);                                                        \
        free(ids_);                                                                            \
    } while (0)

static const ds_user *find_user(const dataset *d, const char *id)
{
    for (size_t i = 0; i < d->nusers; i++)
        if (!strcmp(d->users[i].id, id))
            return &d->users[i];
    return NULL;
}

START_TEST(lamp_with_outputs_beside)
{
    char *q = fix("lamp2m_questions.json"), *o = fix("lamp2m_outputs.json"), *out = NULL;
    dataset d;
    pe_err e = {0};
    const ds_user *u;

    ck_assert_int_eq(load1(&d, "lamp2m", q, NULL, &e), 0);
    ck_assert_ptr_eq(d.task, task_get("lamp2m"));
    ck_assert_uint_eq(d.nusers, 4);
    ck_assert_uint_eq(d.nsources, 2);
    ck_assert_str_eq(d.sources[0].path, q);
    ck_assert_str_eq(d.sources[0].format, "lamp");
    ck_assert_str_eq(d.sources[1].path, o);
    ck_assert_str_eq(d.sources[1].format, "lamp-outputs");
    /* SHA-256 as sha256sum computes it */
    ck_assert_int_eq(tu_sh(&out, NULL, "sha256sum '%s' | cut -c1-64", q), 0);
    out[64] = '\0';
    ck_assert_str_eq(d.sources[0].sha256, out);
    free(out);

    u = &d.users[0];
    ck_assert_str_eq(u->id, "110");
    /* 2014 < 2014-03-02 < 2015-06-01; the undated 1102 stays after 1101; the two
     * 2015-06-01 items keep file order */
    ck_ids(item_ids, u, "1101 1102 1103 1100 1104");
    ck_assert_str_eq(u->items[0].field[0], "A petty criminal fakes insanity.");
    ck_assert_str_eq(u->items[0].label, "psychology");
    ck_assert_str_eq(u->items[0].date, "2014");
    ck_assert_ptr_null(u->items[1].date);
    ck_assert_uint_eq(u->nqueries, 1);
    ck_assert_str_eq(u->queries[0].id, "110");
    ck_assert_str_eq(u->queries[0].gold, "romance");
    ck_assert_ptr_eq(strstr(u->queries[0].input, P2M), u->queries[0].input);
    /* undated item before any dated one stays first */
    ck_ids(item_ids, &d.users[1], "1110 1111");
    ck_assert_str_eq(d.users[1].queries[0].gold, "fantasy");
    ck_assert_ptr_null(d.users[2].queries[0].gold); /* 112 has no gold */
    ck_assert_str_eq(d.users[3].queries[0].gold, "comedy");
    ck_assert_uint_eq(dataset_nqueries(&d), 4);
    dataset_free(&d);
    ck_assert_uint_eq(d.nusers, 0);
    free(q);
    free(o);
}
END_TEST

START_TEST(lamp_pairing_by_paths)
{
    char *dir = tu_tmpdir(), *q = tu_path(dir, "qs.json"), *o = tu_path(dir, "golds.json");
    char *fq = fix("lamp2m_questions.json"), *fo = fix("lamp2m_outputs.json");
    const char *both[2];
    dataset d;
    pe_err e = {0};

    ck_assert_int_eq(tu_sh(NULL, NULL, "cp '%s' '%s' && cp '%s' '%s'", fq, q, fo, o), 0);
    /* alone: no outputs beside it (the names do not pair), so no golds */
    ck_assert_int_eq(load1(&d, "lamp2m", q, "auto", &e), 0);
    ck_assert_uint_eq(d.nsources, 1);
    ck_assert_ptr_null(d.users[0].queries[0].gold);
    dataset_free(&d);
    /* the outputs file first among the paths works as well */
    both[0] = o;
    both[1] = q;
    ck_assert_int_eq(dataset_load(&d, task_get("lamp2m"), both, 2, "lamp", &e), 0);
    ck_assert_uint_eq(d.nsources, 2);
    ck_assert_str_eq(d.sources[0].format, "lamp-outputs");
    ck_assert_str_eq(d.users[0].queries[0].gold, "romance");
    ck_assert_str_eq(d.users[3].queries[0].gold, "comedy");
    dataset_free(&d);
    tu_rmrf(dir);
    free(dir), free(q), free(o), free(fq), free(fo);
}
END_TEST

START_TEST(grouped_numeric_scores)
{
    char *p = fix("grouped_lamp3.json");
    dataset d;
    pe_err e = {0};
    const ds_user *u;

    ck_assert_int_eq(load1(&d, "lamp3", p, NULL, &e), 0);
    ck_assert_str_eq(d.sources[0].format, "grouped");
    ck_assert_uint_eq(d.nusers, 2);
    u = &d.users[0];
    ck_assert_str_eq(u->id, "u2");
    ck_ids(item_ids, u, "p2 p3 p1");
    ck_assert_str_eq(u->items[0].label, "1");
    ck_assert_str_eq(u->items[1].label, "3"); /* the number 3 */
    ck_assert_str_eq(u->items[2].label, "5");
    ck_assert_str_eq(u->items[2].field[0], "Great kettle.");
    ck_assert_str_eq(u->queries[0].gold, "4");
    ck_assert_str_eq(d.users[1].items[0].label, "3.5");
    ck_assert_uint_eq(d.users[1].nqueries, 0);
    dataset_free(&d);
    /* the same file named explicitly */
    ck_assert_int_eq(load1(&d, "lamp3", p, "grouped", &e), 0);
    ck_assert_uint_eq(d.nusers, 2);
    dataset_free(&d);
    free(p);
}
END_TEST

START_TEST(jsonl_fields_and_labels)
{
    char *p = fix("small_lamp2n.jsonl");
    dataset d;
    pe_err e = {0};
    const ds_user *u;

    ck_assert_int_eq(load1(&d, "lamp2n", p, NULL, &e), 0);
    ck_assert_str_eq(d.sources[0].format, "jsonl");
    ck_assert_uint_eq(d.nusers, 2);
    u = &d.users[0];
    ck_ids(item_ids, u, "a0 a1");
    ck_assert_str_eq(u->items[0].field[0], "Vote");
    ck_assert_str_eq(u->items[0].field[1], "Elections.");
    ck_assert_str_eq(u->items[0].label, "politics");     /* from "label" */
    ck_assert_str_eq(u->items[1].label, "sports");       /* from "category" */
    ck_assert_str_eq(u->queries[0].date, "2013");
    ck_assert_str_eq(u->queries[0].gold, "politics");
    ck_assert_str_eq(d.users[1].id, "n2");
    dataset_free(&d);
    free(p);
}
END_TEST

START_TEST(date_order_rules)
{
    char *dir = tu_tmpdir(), *p = tu_path(dir, "d.jsonl");
    dataset d;
    pe_err e = {0};

    tu_write(p, "{\"user\":\"u\",\"history\":["
                "{\"id\":\"x0\",\"description\":\"\",\"tag\":\"a\"},"
                "{\"id\":\"x1\",\"date\":\"2015\",\"description\":\"\",\"tag\":\"a\"},"
                "{\"id\":\"x2\",\"description\":\"\",\"tag\":\"a\"},"
                "{\"id\":\"x3\",\"date\":\"2014-05-01\",\"description\":\"\",\"tag\":\"a\"},"
                "{\"id\":\"x4\",\"date\":2014,\"description\":\"\",\"tag\":\"a\"},"
                "{\"id\":\"x5\",\"date\":\"2015-01-01\",\"description\":\"\",\"tag\":\"a\"}],"
                "\"queries\":[{\"id\":\"q1\",\"date\":\"2020\",\"input\":\"i\"},"
                "{\"id\":\"q0\",\"date\":\"2019-12-31\",\"input\":\"i\"}]}\n");
    ck_assert_int_eq(load1(&d, "lamp2m", p, "jsonl", &e), 0);
    /* x0: before any date, first; x2 follows x1 (2015); (2014) < (2014,5,1) < (2015) <
     * (2015,1,1) */
    ck_ids(item_ids, &d.users[0], "x0 x4 x3 x1 x2 x5");
    ck_ids(query_ids, &d.users[0], "q0 q1");
    ck_assert_str_eq(d.users[0].items[1].date, "2014"); /* a number read as text */
    dataset_free(&d);
    tu_rmrf(dir);
    free(dir), free(p);
}
END_TEST

START_TEST(prepare_defaults)
{
    char *q = fix("lamp2m_questions.json"), *in112;
    dataset d, p;
    pe_err e = {0};
    ds_prepare_opts o = {100, -1};
    const ds_user *u;
    size_t nh = 0;

    ck_assert_int_eq(load1(&d, "lamp2m", q, NULL, &e), 0);
    ck_assert_int_eq(dataset_prepare(&d, &o, &p, &e), 0);
    /* 110: 5 items + its question = 6 -> 1 query; 111: 3 -> 1; 112: 5 profile items (no
     * gold) -> 1; 113: 5 -> 1 */
    ck_assert_uint_eq(p.nusers, 4);
    for (size_t i = 0; i < p.nusers; i++)
        nh += p.users[i].nitems;
    ck_assert_uint_eq(nh, 5 + 2 + 4 + 4);
    ck_assert_uint_eq(dataset_nqueries(&p), 4);
    ck_assert_uint_eq(p.nsources, 2);
    u = &p.users[0];
    ck_ids(item_ids, u, "1101 1102 1103 1100 1104");
    ck_assert_str_eq(u->queries[0].id, "110");
    ck_assert_str_eq(u->queries[0].gold, "romance");
    ck_assert_str_eq(u->queries[0].input, d.users[0].queries[0].input);
    u = find_user(&p, "112");
    ck_ids(item_ids, u, "1120 1121 1122 1123");
    ck_assert_str_eq(u->queries[0].id, "1124");
    ck_assert_str_eq(u->queries[0].date, "2005");
    ck_assert_str_eq(u->queries[0].gold, "dystopia");
    in112 = xasprintf("%sThe last one.", P2M);
    ck_assert_str_eq(u->queries[0].input, in112);
    free(in112);
    dataset_free(&p);
    dataset_free(&d);
    free(q);
}
END_TEST

START_TEST(prepare_top_users_and_last)
{
    char *q = fix("lamp2m_questions.json");
    dataset d, p;
    pe_err e = {0};
    ds_prepare_opts o = {2, 3};
    const ds_user *u;

    ck_assert_int_eq(load1(&d, "lamp2m", q, NULL, &e), 0);
    ck_assert_int_eq(dataset_prepare(&d, &o, &p, &e), 0);
    /* 110 has 6 interactions; 112 and 113 tie at 5 and 112 wins by id */
    ck_assert_uint_eq(p.nusers, 2);
    ck_assert_str_eq(p.users[0].id, "110");
    ck_assert_str_eq(p.users[1].id, "112");
    u = &p.users[0];
    ck_ids(item_ids, u, "1101 1102 1103");
    ck_ids(query_ids, u, "1100 1104 110");
    ck_assert_str_eq(u->queries[0].gold, "action");
    ck_assert_str_eq(u->queries[1].date, "2015-06-01");
    ck_assert_ptr_null(u->queries[2].date);
    ck_ids(item_ids, &p.users[1], "1120 1121");
    ck_ids(query_ids, &p.users[1], "1122 1123 1124");
    dataset_free(&p);
    /* a question becomes an interaction item with its text pulled from the input */
    o = (ds_prepare_opts){0, 0};
    ck_assert_int_eq(dataset_prepare(&d, &o, &p, &e), 0);
    ck_assert_uint_eq(p.nusers, 4);
    ck_assert_uint_eq(dataset_nqueries(&p), 0);
    u = &p.users[0];
    ck_assert_uint_eq(u->nitems, 6);
    ck_assert_str_eq(u->items[5].id, "110");
    ck_assert_str_eq(u->items[5].field[0], "Princess Ann runs away in Rome.");
    ck_assert_str_eq(u->items[5].label, "romance");
    dataset_free(&p);
    dataset_free(&d);
    free(q);
}
END_TEST

START_TEST(prepare_ten_percent)
{
    char *dir = tu_tmpdir(), *path = tu_path(dir, "u.jsonl");
    FILE *f = fopen(path, "w");
    dataset d, p;
    pe_err e = {0};
    ds_prepare_opts o = {0, -1};
    static const size_t sizes[] = {25, 1, 2, 9, 10, 3};
    static const size_t expect_q[] = {2, 0, 1, 1, 1, 1};

    for (size_t u = 0; u < 6; u++) {
        fprintf(f, "{\"user\":\"u%zu\",\"history\":[", u);
        for (size_t i = 0; i < sizes[u]; i++)
            fprintf(f, "%s{\"id\":\"u%zu-%zu\",\"date\":\"%zu\",\"text\":\"t%zu\",\"score\":%zu}",
                    i ? "," : "", u, i, 2000 + i, i, 1 + i % 5);
        fprintf(f, "],\"queries\":[]}\n");
    }
    fclose(f);
    ck_assert_int_eq(load1(&d, "lamp3", path, NULL, &e), 0);
    ck_assert_int_eq(dataset_prepare(&d, &o, &p, &e), 0);
    for (size_t u = 0; u < 6; u++) {
        ck_assert_uint_eq(p.users[u].nqueries, expect_q[u]);
        ck_assert_uint_eq(p.users[u].nitems, sizes[u] - expect_q[u]);
    }
    /* the most recent items are the queries */
    ck_ids(query_ids, &p.users[0], "u0-23 u0-24");
    ck_assert_str_eq(p.users[0].queries[1].gold, "5"); /* 1 + 24 % 5 */
    ck_assert_str_eq(p.users[0].queries[1].input,
                     "What is the score of the following review on a scale of 1 to 5? just "
                     "answer with 1, 2, 3, 4, or 5 without further explanation. review: t24");
    dataset_free(&p);
    /* more than there are: at least one history item stays */
    o.test_last = 5;
    ck_assert_int_eq(dataset_prepare(&d, &o, &p, &e), 0);
    ck_assert_uint_eq(p.users[5].nqueries, 2);
    ck_assert_uint_eq(p.users[5].nitems, 1);
    ck_assert_uint_eq(p.users[1].nqueries, 0);
    dataset_free(&p);
    dataset_free(&d);
    tu_rmrf(dir);
    free(dir), free(path);
}
END_TEST

START_TEST(prepare_lamp1)
{
    char *q = fix("lamp1_questions.json");
    dataset d, p;
    pe_err e = {0};
    ds_prepare_opts o = {1, 5};

    ck_assert_int_eq(load1(&d, "lamp1", q, NULL, &e), 0);
    ck_assert_ptr_null(d.users[0].items[0].label);
    ck_assert_str_eq(d.users[0].items[0].field[0], "Early paper");
    ck_assert_str_eq(d.users[0].items[0].field[1], "A.");
    ck_assert_int_eq(dataset_prepare(&d, &o, &p, &e), 0);
    /* 200 has 2 items + 1 question, 201 has 1 + 1 */
    ck_assert_uint_eq(p.nusers, 1);
    ck_assert_str_eq(p.users[0].id, "200");
    ck_ids(item_ids, &p.users[0], "2000 2001");
    ck_ids(query_ids, &p.users[0], "200");
    ck_assert_str_eq(p.users[0].queries[0].gold, "[1]");
    ck_assert_str_eq(p.users[0].queries[0].input, d.users[0].queries[0].input);
    dataset_free(&p);
    dataset_free(&d);
    free(q);
}
END_TEST

START_TEST(select_subsets)
{
    char *q = fix("lamp2m_questions.json");
    const char *ids[2] = {"113", "111"}, *bad[1] = {"nobody"};
    dataset d;
    pe_err e = {0};

    ck_assert_int_eq(load1(&d, "lamp2m", q, NULL, &e), 0);
    ck_assert_int_eq(dataset_select(&d, NULL, 0, ids, 2, 0, &e), 0);
    ck_assert_uint_eq(d.nusers, 2);
    ck_assert_str_eq(d.users[0].id, "111"); /* file order */
    ck_assert_str_eq(d.users[1].id, "113");
    dataset_free(&d);

    /* history sizes 5, 2, 5, 4: the top 2 are 110 and 112 (tie by id), in file order */
    ck_assert_int_eq(load1(&d, "lamp2m", q, NULL, &e), 0);
    ck_assert_int_eq(dataset_select(&d, NULL, 2, NULL, 0, 0, &e), 0);
    ck_assert_uint_eq(d.nusers, 2);
    ck_assert_str_eq(d.users[0].id, "110");
    ck_assert_str_eq(d.users[1].id, "112");
    ck_assert_int_eq(dataset_select(&d, NULL, 0, NULL, 0, 0, &e), 0);
    ck_assert_uint_eq(d.nusers, 2);
    ck_assert_int_eq(dataset_select(&d, NULL, 0, bad, 1, 0, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "user \"nobody\""));
    dataset_free(&d);

    ck_assert_int_eq(load1(&d, "lamp2m", q, NULL, &e), 0);
    {
        dataset p;
        ds_prepare_opts o = {0, 3};
        ck_assert_int_eq(dataset_prepare(&d, &o, &p, &e), 0);
        ck_assert_int_eq(dataset_select(&p, NULL, 0, NULL, 0, 2, &e), 0);
        ck_ids(query_ids, &p.users[0], "1100 1104");
        ck_assert_uint_eq(p.users[1].nqueries, 2); /* 111: 3 interactions -> 2 queries */
        ck_assert_uint_eq(dataset_nqueries(&p), 8);
        dataset_free(&p);
    }
    dataset_free(&d);
    free(q);
}
END_TEST

static void assert_same(const dataset *a, const dataset *b)
{
    ck_assert_uint_eq(a->nusers, b->nusers);
    for (size_t i = 0; i < a->nusers; i++) {
        const ds_user *x = &a->users[i], *y = &b->users[i];
        ck_assert_str_eq(x->id, y->id);
        ck_assert_uint_eq(x->nitems, y->nitems);
        ck_assert_uint_eq(x->nqueries, y->nqueries);
        for (size_t j = 0; j < x->nitems; j++) {
            ck_assert_str_eq(x->items[j].id, y->items[j].id);
            ck_assert_int_eq(pe_streq(x->items[j].date, y->items[j].date), 1);
            ck_assert_str_eq(x->items[j].field[0], y->items[j].field[0]);
            ck_assert_str_eq(x->items[j].field[1], y->items[j].field[1]);
            ck_assert_int_eq(pe_streq(x->items[j].label, y->items[j].label), 1);
        }
        for (size_t j = 0; j < x->nqueries; j++) {
            ck_assert_str_eq(x->queries[j].id, y->queries[j].id);
            ck_assert_int_eq(pe_streq(x->queries[j].date, y->queries[j].date), 1);
            ck_assert_str_eq(x->queries[j].input, y->queries[j].input);
            ck_assert_int_eq(pe_streq(x->queries[j].gold, y->queries[j].gold), 1);
        }
    }
}

START_TEST(write_load_round_trip)
{
    static const char *const cases[][2] = {{"lamp2m", "lamp2m_questions.json"},
                                           {"lamp3", "grouped_lamp3.json"},
                                           {"lamp2n", "small_lamp2n.jsonl"},
                                           {"lamp1", "lamp1_questions.json"}};
    char *dir = tu_tmpdir(), *out = tu_path(dir, "o.jsonl");

    for (size_t c = 0; c < 4; c++) {
        char *q = fix(cases[c][1]), *text, *line;
        dataset d, p, back;
        pe_err e = {0};
        ds_prepare_opts o = {0, 2};
        size_t lines = 0;

        ck_assert_int_eq(load1(&d, cases[c][0], q, NULL, &e), 0);
        ck_assert_int_eq(dataset_prepare(&d, &o, &p, &e), 0);
        ck_assert_int_eq(dataset_write_jsonl(&p, out, &e), 0);
        text = tu_read(out);
        for (line = text; (line = strchr(line, '\n')); line++)
            lines++;
        ck_assert_uint_eq(lines, p.nusers);
        ck_assert_ptr_nonnull(strstr(text, "\"task\":\""));
        free(text);
        ck_assert_int_eq(load1(&back, cases[c][0], out, NULL, &e), 0);
        ck_assert_str_eq(back.sources[0].format, "jsonl");
        assert_same(&p, &back);
        dataset_free(&back);
        dataset_free(&p);
        dataset_free(&d);
        free(q);
    }
    tu_rmrf(dir);
    free(dir), free(out);
}
END_TEST

/* Load text written to a file named name; expect code and every needle in the message,
 * and an empty dataset. */
static void expect_bad(const char *tname, const char *name, const char *text, size_t textlen,
                       const char *fmt, int code, const char *const *needles)
{
    char *dir = tu_tmpdir(), *p = tu_path(dir, name);
    FILE *f = fopen(p, "wb");
    dataset d;
    pe_err e = {0};
    int rc;

    fwrite(text, 1, textlen, f);
    fclose(f);
    rc = load1(&d, tname, p, fmt, &e);
    ck_assert_msg(rc == code, "%s: code %d, want %d (%s)", name, rc, code, e.msg);
    ck_assert_int_eq(e.code, code);
    ck_assert_msg(strstr(e.msg, p) == e.msg, "message does not start with the file: %s",
                  e.msg);
    for (size_t i = 0; needles[i]; i++)
        ck_assert_msg(strstr(e.msg, needles[i]), "\"%s\" not in: %s", needles[i], e.msg);
    ck_assert_uint_eq(d.nusers, 0);
    ck_assert_ptr_null(d.users);
    ck_assert_ptr_null(d.sources);
    tu_rmrf(dir);
    free(dir), free(p);
}

#define BAD(task, name, text, fmt, code, ...)                                                  \
    do {                                                                                       \
        static const char *const n_[] = {__VA_ARGS__, NULL};                                   \
        expect_bad(task, name, text, sizeof(text) - 1, fmt, code, n_);                         \
    } while (0)

START_TEST(bad_json)
{
    /* the error is at line 3, column 12 (the x) */
    BAD("lamp2m", "q.json", "[\n {\"id\": \"1\",\n  \"input\": x, \"profile\": []}\n]",
        NULL, PE_EXIT_DATA, "q.json:3:12: invalid JSON");
    BAD("lamp2m", "u.jsonl",
        "{\"user\":\"a\",\"history\":[],\"queries\":[]}\n{\"user\":\"b\",\n", NULL,
        PE_EXIT_DATA, "u.jsonl:2:", "invalid JSON");
    BAD("lamp2m", "e.json", "", NULL, PE_EXIT_DATA, "e.json: file is empty");
    BAD("lamp2m", "w.jsonl", " \n\n", "jsonl", PE_EXIT_DATA, "file is empty");
    /* 0xff at byte 18 (line 1, column 19) */
    BAD("lamp2m", "x.jsonl", "{\"user\":\"a\",\"id\":\"\xff\"}\n", NULL, PE_EXIT_DATA,
        "x.jsonl:1:19: invalid UTF-8 at byte offset 18");
    BAD("lamp2m", "z.json", "[]", NULL, PE_EXIT_DATA, "contains no questions");
    BAD("lamp2m", "n.json", "[{\"x\": 1}]", NULL, PE_EXIT_DATA, "cannot detect the format");
}
END_TEST

START_TEST(bad_types_and_fields)
{
    char *p = fix("bad_type.jsonl");
    dataset d;
    pe_err e = {0};
    char *want;

    ck_assert_int_eq(load1(&d, "lamp2m", p, NULL, &e), PE_EXIT_DATA);
    want = xasprintf("%s:2: user \"u17\": history[1]: field \"tag\" must be a string, not an "
                     "array",
                     p);
    ck_assert_str_eq(e.msg, want);
    free(want);
    free(p);

    /* element 1 starts on line 3; its "input" is missing */
    BAD("lamp2m", "q.json",
        "[{\"id\":\"1\",\"input\":\"i\",\"profile\":[]},\n"
        "\n"
        " {\"id\":\"2\",\n  \"profile\":[]}]",
        NULL, PE_EXIT_DATA, "q.json:3: element 1: user \"2\": field \"input\" is missing");
    /* profile[1] is on line 4, its bad "date" too */
    BAD("lamp2m", "d.json",
        "[{\"id\":\"7\",\"input\":\"i\",\"profile\":[\n"
        "  {\"id\":\"a\",\"description\":\"x\",\"tag\":\"comedy\"},\n"
        "  {\"id\":\"b\",\"description\":\"x\",\n"
        "   \"date\":\"03/02/2014\",\"tag\":\"comedy\"}]}]",
        NULL, PE_EXIT_DATA,
        "d.json:4: element 0: user \"7\": profile[1]: field \"date\" must be YYYY or "
        "YYYY-MM-DD, not \"03/02/2014\"");
    BAD("lamp3", "g.json",
        "[{\"user_id\":\"u1\",\"profile\":[{\"id\":\"a\",\"text\":\"t\",\"score\":true}],"
        "\"query\":[]}]",
        NULL, PE_EXIT_DATA, "user \"u1\": profile[0]: field \"score\" must be a string, not a "
        "boolean");
    BAD("lamp3", "g2.json", "[{\"user_id\":\"u1\",\"profile\":{},\"query\":[]}]", "grouped",
        PE_EXIT_DATA, "user \"u1\": field \"profile\" must be an array, not an object");
    BAD("lamp3", "g3.json", "[{\"user_id\":\"u1\",\"profile\":[],\"query\":[{\"id\":\"q\"}]}]",
        NULL, PE_EXIT_DATA, "user \"u1\": query[0]: field \"input\" is missing");
    BAD("lamp2m", "j.jsonl", "{\"user\":\"a\",\"history\":[],\"queries\":[]}\n[1]\n", NULL,
        PE_EXIT_DATA, "j.jsonl:2: line must be a JSON object, not an array");
    BAD("lamp2m", "k.jsonl", "{\"user\":\"a\",\"queries\":[]}\n", NULL, PE_EXIT_DATA,
        "k.jsonl:1: user \"a\": field \"history\" is missing");
    BAD("lamp2n", "m.jsonl",
        "{\"user\":\"a\",\"history\":[{\"id\":\"h\",\"title\":\"t\",\"text\":\"x\"}],"
        "\"queries\":[]}\n",
        NULL, PE_EXIT_DATA, "history[0]: field \"category\" is missing");
    /* a lamp file named as grouped */
    BAD("lamp2m", "f.json", "[{\"id\":\"1\",\"input\":\"i\",\"profile\":[]}]", "grouped",
        PE_EXIT_DATA, "element 0: field \"user_id\" is missing");
}
END_TEST

START_TEST(bad_users_tasks_golds)
{
    char *dir = tu_tmpdir(), *q = tu_path(dir, "t_questions.json"),
         *o = tu_path(dir, "t_outputs.json"), *want;
    dataset d;
    pe_err e = {0};

    BAD("lamp2m", "dup.jsonl",
        "{\"user\":\"u1\",\"history\":[],\"queries\":[]}\n"
        "{\"user\":\"u2\",\"history\":[],\"queries\":[]}\n"
        "{\"user\":\"u1\",\"history\":[],\"queries\":[]}\n",
        NULL, PE_EXIT_DATA, "dup.jsonl:3: user \"u1\" appears twice (first at ",
        "dup.jsonl:1)");
    BAD("lamp2m", "task.jsonl", "{\"user\":\"u1\",\"task\":\"lamp3\",\"history\":[],\"queries\":[]}\n",
        NULL, PE_EXIT_DATA, "task.jsonl:1: user \"u1\": field \"task\" is \"lamp3\", but the "
        "task is lamp2m");

    /* golds: one names no question; it is on line 3 of the outputs file */
    tu_write(q, "[{\"id\":\"1\",\"input\":\"i\",\"profile\":[]}]");
    tu_write(o, "{\"task\":\"LaMP_2M\",\"golds\":[\n{\"id\":\"1\",\"output\":\"comedy\"},\n"
                "{\"id\":\"999\",\"output\":\"action\"}]}");
    ck_assert_int_eq(load1(&d, "lamp2m", q, NULL, &e), PE_EXIT_DATA);
    want = xasprintf("%s:3: golds[1]: id \"999\" has no question", o);
    ck_assert_msg(strstr(e.msg, want) == e.msg, "%s", e.msg);
    free(want);
    ck_assert_uint_eq(d.nusers, 0);

    /* the outputs task must match; LaMP_2 means what its golds are (here movie tags) */
    tu_write(o, "{\"task\":\"LaMP_3\",\"golds\":[{\"id\":\"1\",\"output\":\"comedy\"}]}");
    ck_assert_int_eq(load1(&d, "lamp2m", q, NULL, &e), PE_EXIT_DATA);
    ck_assert_msg(strstr(e.msg, "field \"task\" is \"LaMP_3\", but the task is lamp2m"),
                  "%s", e.msg);
    tu_write(o, "{\"task\":\"LaMP_2\",\"golds\":[{\"id\":\"1\",\"output\":\"comedy\"}]}");
    ck_assert_int_eq(load1(&d, "lamp2m", q, NULL, &e), 0);
    ck_assert_str_eq(d.users[0].queries[0].gold, "comedy");
    dataset_free(&d);
    tu_write(q, "[{\"id\":\"1\",\"input\":\"i\",\"profile\":[{\"id\":\"p\",\"title\":\"t\","
                "\"text\":\"x\",\"category\":\"crime\"}]}]");
    ck_assert_int_eq(load1(&d, "lamp2n", q, NULL, &e), PE_EXIT_DATA);
    ck_assert_msg(strstr(e.msg, "field \"task\" is \"LaMP_2\", which means lamp2m here"),
                  "%s", e.msg);
    tu_write(o, "{\"task\":\"LaMP_2\",\"golds\":[{\"id\":\"1\",\"output\":\"crime\"}]}");
    ck_assert_int_eq(load1(&d, "lamp2n", q, NULL, &e), 0);
    ck_assert_str_eq(d.users[0].queries[0].gold, "crime");
    dataset_free(&d);
    tu_write(o, "{\"task\":\"LaMP_2M\",\"golds\":[{\"id\":\"1\",\"output\":\"crime\"}]}");
    ck_assert_int_eq(load1(&d, "lamp2n", q, NULL, &e), PE_EXIT_DATA);
    tu_write(o, "{\"task\":\"LaMP_2N\",\"golds\":[{\"id\":\"1\",\"output\":\"crime\"},"
                "{\"id\":\"1\",\"output\":\"crime\"}]}");
    ck_assert_int_eq(load1(&d, "lamp2n", q, NULL, &e), PE_EXIT_DATA);
    ck_assert_msg(strstr(e.msg, "golds[1]: field \"id\" \"1\" appears twice"), "%s", e.msg);
    tu_write(o, "{\"task\":\"LaMP_2N\",\"golds\":[{\"id\":\"1\",\"output\":[]}]}");
    ck_assert_int_eq(load1(&d, "lamp2n", q, NULL, &e), PE_EXIT_DATA);
    ck_assert_msg(strstr(e.msg, "golds[0]: field \"output\" must be a string, not an array"),
                  "%s", e.msg);
    ck_assert_uint_eq(d.nusers, 0);
    tu_rmrf(dir);
    free(dir), free(q), free(o);
}
END_TEST

static int load_text(dataset *d, const char *tname, const char *name, const char *text,
                     pe_err *e)
{
    return dataset_load_mem(d, task_get(tname), name, text, strlen(text), NULL, NULL, e);
}

/* Duplicate ids and bad ratings stop the load with exit 65, naming file, user, id. */
START_TEST(ids_and_ratings)
{
    dataset d;
    pe_err e = {0};
    ck_assert_int_eq(load_text(&d, "lamp2m", "h.jsonl",
                               "{\"user\":\"u1\",\"history\":[{\"id\":\"a\",\"description\":\"x\","
                               "\"tag\":\"comedy\"},{\"id\":\"a\",\"description\":\"y\","
                               "\"tag\":\"action\"}],\"queries\":[]}\n", &e), PE_EXIT_DATA);
    ck_assert_str_eq(e.msg, "h.jsonl:1: user \"u1\": history id \"a\" appears twice (items 0 "
                            "and 1)");
    ck_assert_int_eq(load_text(&d, "lamp3", "g.json",
                               "[{\"user_id\":\"u1\",\"profile\":[],\"query\":[{\"id\":\"q\","
                               "\"input\":\"i\"},\n{\"id\":\"q\",\"input\":\"j\"}]}]", &e),
                     PE_EXIT_DATA);
    ck_assert_str_eq(e.msg, "g.json:1: element 0: user \"u1\": query id \"q\" appears twice "
                            "(queries 0 and 1)");
    /* the same query id for two users */
    ck_assert_int_eq(load_text(&d, "lamp3", "two.jsonl",
                               "{\"user\":\"u1\",\"history\":[],\"queries\":[{\"id\":\"q7\","
                               "\"input\":\"i\"}]}\n\n{\"user\":\"u2\",\"history\":[],"
                               "\"queries\":[{\"id\":\"q7\",\"input\":\"i\"}]}\n", &e),
                     PE_EXIT_DATA);
    ck_assert_str_eq(e.msg, "two.jsonl:3: user \"u2\": query id \"q7\" is also a query of user "
                            "\"u1\" (two.jsonl:1); query ids must be unique in the data");
    /* lamp3 golds and labels must be finite ratings */
    ck_assert_int_eq(load_text(&d, "lamp3", "r.jsonl",
                               "{\"user\":\"u1\",\"history\":[],\"queries\":[{\"id\":\"q\","
                               "\"input\":\"i\",\"gold\":1e400}]}\n", &e), PE_EXIT_DATA);
    ck_assert_str_eq(e.msg, "r.jsonl:1: user \"u1\": queries[0]: field \"gold\" \"1e400\" is not "
                            "a finite rating");
    ck_assert_int_eq(load_text(&d, "lamp3", "r.jsonl",
                               "{\"user\":\"u1\",\"history\":[{\"id\":\"h\",\"text\":\"t\","
                               "\"score\":\"abc\"}],\"queries\":[]}\n", &e), PE_EXIT_DATA);
    ck_assert_str_eq(e.msg, "r.jsonl:1: user \"u1\": history[0]: field \"score\" \"abc\" is not "
                            "a finite rating");
    ck_assert_int_eq(load_text(&d, "lamp3", "o.json",
                               "{\"task\":\"LaMP_3\",\"golds\":[{\"id\":\"1\",\"output\":\"4\"},\n"
                               "{\"id\":\"2\",\"output\":\"nan\"}]}", &e), PE_EXIT_DATA);
    ck_assert_str_eq(e.msg, "o.json:2: golds[1]: field \"output\" \"nan\" is not a finite "
                            "rating");
    /* ratings Python's float() reads are fine */
    ck_assert_int_eq(load_text(&d, "lamp3", "r.jsonl",
                               "{\"user\":\"u1\",\"history\":[{\"id\":\"h\",\"text\":\"t\","
                               "\"score\":\" 4.5 \"}],\"queries\":[{\"id\":\"q\",\"input\":\"i\","
                               "\"gold\":\"1_0\"}]}\n", &e), 0);
    dataset_free(&d);
}
END_TEST

/* LaMP questions without their outputs file load, flagged as unscorable. */
START_TEST(questions_without_golds)
{
    dataset d;
    pe_err e = {0};
    ck_assert_int_eq(load_text(&d, "lamp2m", "t_questions.json",
                               "[{\"id\":\"1\",\"input\":\"i\",\"profile\":[]},"
                               "{\"id\":\"2\",\"input\":\"j\",\"profile\":[]}]", &e), 0);
    ck_assert_uint_eq(d.nogold, 2);
    ck_assert_uint_eq(dataset_nqueries_nogold(&d), 2);
    ck_assert_uint_eq(d.nwarnings, 1);
    ck_assert_str_eq(d.warnings[0], "no golds for 2 of 2 queries (LaMP questions without an "
                                    "outputs file: none was given with --data or found beside "
                                    "the questions file): they can be answered but not scored");
    ck_assert_int_eq(dataset_select(&d, NULL, 0, NULL, 0, 0, &e), 0);
    dataset_free(&d);
}
END_TEST

START_TEST(bad_usage)
{
    char *p = fix("small_lamp2n.jsonl");
    const char *paths[1] = {p}, *missing[1] = {"/nonexistent/x.jsonl"};
    dataset d;
    pe_err e = {0};

    ck_assert_int_eq(dataset_load(&d, task_get("lamp9"), paths, 1, NULL, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "lamp1, lamp2m, lamp2n, lamp3"));
    ck_assert_int_eq(dataset_load(&d, task_get("lamp2n"), paths, 1, "csv", &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "unknown format \"csv\""));
    ck_assert_int_eq(dataset_load(&d, task_get("lamp2n"), paths, 0, NULL, &e), PE_EXIT_USAGE);
    ck_assert_int_eq(dataset_load(&d, task_get("lamp2n"), missing, 1, NULL, &e),
                     PE_EXIT_NOINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent/x.jsonl: cannot open"));
    ck_assert_uint_eq(d.nusers, 0);
    free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dataset");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, lamp_with_outputs_beside);
    tcase_add_test(tc, lamp_pairing_by_paths);
    tcase_add_test(tc, grouped_numeric_scores);
    tcase_add_test(tc, jsonl_fields_and_labels);
    tcase_add_test(tc, date_order_rules);
    tcase_add_test(tc, prepare_defaults);
    tcase_add_test(tc, prepare_top_users_and_last);
    tcase_add_test(tc, prepare_ten_percent);
    tcase_add_test(tc, prepare_lamp1);
    tcase_add_test(tc, select_subsets);
    tcase_add_test(tc, write_load_round_trip);
    tcase_add_test(tc, bad_json);
    tcase_add_test(tc, bad_types_and_fields);
    tcase_add_test(tc, bad_users_tasks_golds);
    tcase_add_test(tc, bad_usage);
    tcase_add_test(tc, ids_and_ratings);
    tcase_add_test(tc, questions_without_golds);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
