/* memory: building from a user, searching with time and exclusion filters
 * (no leakage), and the prompt formatters against hand-written strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "memory.h"
#include "testutil.h"
#include "util.h"

#define S(x) ((char *)(x))

static ds_item item(const char *id, const char *date, const char *f0, const char *f1,
                    const char *label)
{
    return (ds_item){S(id), S(date), {S(f0), S(f1)}, S(label), 0};
}

static memory *build(const char *task_name, ds_item *items, size_t n, const encoder_opts *o)
{
    ds_user u = {S("u7"), items, n, NULL, 0};
    memory *m;
    pe_err e = {0};
    ck_assert_msg(memory_build(task_get(task_name), &u, o, &m, &e) == 0, "%s", e.msg);
    return m;
}

/* Equal scores rank by the profile's order in the file, not by the date
 * order of the history. The profile below, in file order, is f0 (2020-03),
 * f1 (2020-01), f2 (2020-02), f3 (2019-12), f4 (2019-11); the query "good"
 * scores f0 and f2 alike (one "good" in two tokens each) and the others 0.
 * LaMP: np.argsort([s, 0, s, 0, 0])[::-1] = [2, 0, 4, 3, 1], i.e. f2 f0 f4
 * f3 f1 (the date order alone would give f0 f2 f1 f3 f4). */
START_TEST(ties_follow_the_file_order)
{
    static const char text[] =
        "{\"user\":\"u\",\"history\":["
        "{\"id\":\"f0\",\"date\":\"2020-03-01\",\"text\":\"good food\",\"score\":1},"
        "{\"id\":\"f1\",\"date\":\"2020-01-01\",\"text\":\"bad room\",\"score\":2},"
        "{\"id\":\"f2\",\"date\":\"2020-02-01\",\"text\":\"good view\",\"score\":3},"
        "{\"id\":\"f3\",\"date\":\"2019-12-01\",\"text\":\"nice staff\",\"score\":4},"
        "{\"id\":\"f4\",\"date\":\"2019-11-01\",\"text\":\"slow wifi\",\"score\":5}],"
        "\"queries\":[{\"id\":\"q\",\"input\":\"i\",\"gold\":\"1\"}]}\n";
    static const char *const want[] = {"f2", "f0", "f4", "f3", "f1"};
    static const char *const kinds[] = {"bm25", "tfidf"};
    dataset d;
    pe_err e = {0};

    ck_assert_msg(dataset_load_mem(&d, task_get("lamp3"), "p.jsonl", text, sizeof text - 1,
                                   "jsonl", NULL, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(d.users[0].items[0].id, "f4"); /* the history is in date order */
    for (size_t k = 0; k < 2; k++) {
        encoder_opts o = {0};
        memory *m;
        topk_hit h[5];
        size_t n;
        ck_assert_int_eq(encoder_kind_parse(kinds[k], &o.kind), 0);
        ck_assert_msg(memory_build(d.task, &d.users[0], &o, &m, &e) == 0, "%s", e.msg);
        ck_assert_int_eq(memory_search(m, "good", 5, NULL, h, &n, &e), 0);
        ck_assert_uint_eq(n, 5);
        for (size_t i = 0; i < 5; i++)
            ck_assert_str_eq(m->ids[h[i].index], want[i]);
        memory_free(m);
    }
    dataset_free(&d);
}
END_TEST

START_TEST(build_and_search)
{
    ds_item it[] = {
        item("h0", "2014-03-02", "A robot uprising on Mars", NULL, "sci-fi"),
        item("h1", "2015", "Two friends on a road trip of jokes", NULL, "comedy"),
        item("h2", NULL, "Alien robot invasion of Earth", NULL, "sci-fi"),
    };
    memory *m = build("lamp2m", it, 3, NULL);
    topk_hit h[3];
    size_t n;
    pe_err e = {0};

    ck_assert_uint_eq(m->n, 3);
    ck_assert_ptr_nonnull(m->lex); /* bm25: a sparse index, no vectors */
    ck_assert_ptr_null(m->mat);
    ck_assert_uint_eq(m->dim, 0);
    ck_assert_str_eq(m->ids[2], "h2");
    ck_assert_ptr_null(m->dates[2]);
    ck_assert_str_eq(m->labels[1], "comedy");
    ck_assert_str_eq(m->texts[0], "A robot uprising on Mars");
    ck_assert_int_eq(memory_search(m, "robot invasion", 3, NULL, h, &n, &e), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(h[0].index, 2); /* both words */
    ck_assert_uint_eq(h[1].index, 0); /* "robot" only */
    ck_assert_uint_eq(h[2].index, 1);
    ck_assert_float_eq(h[2].score, 0);
    ck_assert_int_eq(memory_search(m, "bad \xff", 3, NULL, h, &n, &e), PE_EXIT_DATA);
    ck_assert_ptr_nonnull(strstr(e.msg, "user \"u7\""));
    memory_free(m);
}
END_TEST

START_TEST(invalid_item_names_user_item_field)
{
    ds_item it[] = {item("h0", NULL, "fine", "x", "sports"),
                    item("h1", NULL, "ok", "caf\xc3 au lait", "travel")};
    ds_user u = {S("u9"), it, 2, NULL, 0};
    memory *m = (memory *)1;
    pe_err e = {0};
    ck_assert_int_eq(memory_build(task_get("lamp2n"), &u, NULL, &m, &e), PE_EXIT_DATA);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(e.msg, "user \"u9\": history item \"h1\": field \"text\": invalid UTF-8 "
                            "at byte 3");
}
END_TEST

/* Alignment replays item j: with cutoff j and j excluded, nothing from j on
 * may come back, through the single and the batch (sgemm) paths. */
START_TEST(alignment_searches_never_see_j_or_newer)
{
    enum { N = 40, K = 4 };
    ds_item it[N];
    char *text[N], id[N][8];
    topk_filter f[N];
    size_t ex[N], counts[N];
    topk_hit h[N * K], one[K];
    pe_rng g;
    memory *m;
    pe_err e = {0};

    pe_rng_seed(&g, 5);
    for (size_t i = 0; i < N; i++) {
        buf b = BUF_INIT;
        for (int w = 0; w < 12; w++)
            buf_printf(&b, "%sw%u", w ? " " : "", (unsigned)pe_rng_below(&g, 60));
        text[i] = buf_detach(&b);
        snprintf(id[i], sizeof id[i], "h%zu", i);
        it[i] = item(id[i], NULL, text[i], NULL, "comedy");
    }
    m = build("lamp2m", it, N, NULL);
    for (size_t j = 0; j < N; j++) {
        size_t n;
        ex[j] = j;
        f[j] = (topk_filter){j, &ex[j], 1, NULL};
        /* unfiltered, item j is its own best match: the filter is what hides it */
        ck_assert_int_eq(memory_search(m, text[j], K, NULL, one, &n, &e), 0);
        ck_assert_uint_eq(one[0].index, j);
        ck_assert_int_eq(memory_search(m, text[j], K, &f[j], one, &n, &e), 0);
        ck_assert_uint_eq(n, j < K ? j : K);
        for (size_t i = 0; i < n; i++)
            ck_assert_uint_lt(one[i].index, j);
    }
    ck_assert_int_eq(memory_search_batch(m, (const char *const *)text, N, K, f, h, counts, &e), 0);
    for (size_t j = 0; j < N; j++) {
        size_t n;
        ck_assert_uint_eq(counts[j], j < K ? j : K);
        ck_assert_int_eq(memory_search(m, text[j], K, &f[j], one, &n, &e), 0);
        for (size_t i = 0; i < counts[j]; i++) {
            ck_assert_uint_lt(h[j * K + i].index, j);
            /* same ranking up to rounding (sgemm and sgemv sum in different orders,
             * so exact ties may come out in either order) */
            ck_assert_float_eq_tol(h[j * K + i].score, one[i].score, 1e-4f);
        }
    }
    /* exclusion alone (the whole history otherwise visible) */
    {
        size_t n, exs[] = {3, 0};
        topk_filter fe = {TOPK_ALL, exs, 2, NULL};
        ck_assert_int_eq(memory_search(m, text[3], N, &fe, h, &n, &e), 0);
        ck_assert_uint_eq(n, N - 2);
        for (size_t i = 0; i < n; i++)
            ck_assert(h[i].index != 3 && h[i].index != 0);
    }
    memory_free(m);
    for (size_t i = 0; i < N; i++)
        free(text[i]);
}
END_TEST

START_TEST(format_lamp_layouts)
{
    ds_item mv[] = {item("a", NULL, "A heist.", NULL, "action"),
                    item("b", NULL, "Laughs.", NULL, "comedy")};
    ds_item nw[] = {item("a", NULL, "NFL Fumbles", "The NFL is big.", "sports")};
    ds_item rv[] = {item("a", NULL, "Great kettle.", NULL, "5"),
                    item("b", NULL, "Broke.", NULL, "1")};
    ds_item pp[] = {item("a", "2019", "Deep Nets", "We study nets.", NULL),
                    item("b", "2020", "Wide Nets", "Wider.", NULL)};
    topk_hit h2[] = {{1, 2.0f}, {0, 1.0f}}, h1[] = {{0, 1.0f}};
    memory *m;
    char *s;

    m = build("lamp2m", mv, 2, NULL);
    s = memory_format_lamp(m, m->task, h2, 2, "Which tag? description: X");
    ck_assert_str_eq(s, "the tag for the movie: \"Laughs.\" is \"comedy\" , and the tag for the "
                        "movie: \"A heist.\" is \"action\" . Which tag? description: X");
    free(s);
    s = memory_format_lamp(m, m->task, h2, 0, "In.");
    ck_assert_str_eq(s, "In.");
    free(s);
    memory_free(m);

    m = build("lamp2n", nw, 1, NULL);
    s = memory_format_lamp(m, m->task, h1, 1, "article: Y");
    ck_assert_str_eq(s, "the category for the article: \"The NFL is big.\" is \"sports\" . "
                        "article: Y");
    free(s);
    memory_free(m);

    m = build("lamp3", rv, 2, NULL);
    s = memory_format_lamp(m, m->task, h2, 2, "review: Z");
    ck_assert_str_eq(s, "1 is the score for \"Broke.\" , and 5 is the score for \"Great kettle.\" "
                        ". review: Z");
    free(s);
    memory_free(m);

    m = build("lamp1", pp, 2, NULL);
    s = memory_format_lamp(m, m->task, h2, 2,
                           "For an author who has written the paper with the title \"T\", which "
                           "reference is related?");
    ck_assert_str_eq(s, "For an author who has written the paper with the title, and \"Wide "
                        "Nets\", and \"Deep Nets\" \"T\", which reference is related?");
    free(s);
    s = memory_format_lamp(m, m->task, h1, 1, "no marker here");
    ck_assert_str_eq(s, "no marker here");
    free(s);
    memory_free(m);
}
END_TEST

START_TEST(format_observation)
{
    ds_item mv[] = {item("a", "2014-03-02", "A heist\nin Rome.", NULL, "action"),
                    item("b", NULL, "Caf\xc3\xa9 jokes", NULL, "comedy")};
    ds_item pp[] = {item("a", "2019", "Deep Nets", "We study nets.", NULL)};
    topk_hit h[] = {{0, 3.214f}, {1, 0.5f}};
    memory *m = build("lamp2m", mv, 2, NULL);
    char *s = memory_format_observation(m, h, 2, 0);

    ck_assert_str_eq(s, "1. [2014-03-02] \"A heist in Rome.\" -> label: action (score 3.21)\n"
                        "2. \"Caf\xc3\xa9 jokes\" -> label: comedy (score 0.50)\n");
    free(s);
    /* 4 bytes would split the é: cut before it */
    s = memory_format_observation(m, h + 1, 1, 4);
    ck_assert_str_eq(s, "1. \"Caf...\" -> label: comedy (score 0.50)\n");
    free(s);
    s = memory_format_observation(m, h, 0, 10);
    ck_assert_str_eq(s, "No matching memories.");
    free(s);
    memory_free(m);

    m = build("lamp1", pp, 1, NULL);
    s = memory_format_observation(m, h, 1, 9);
    ck_assert_str_eq(s, "1. [2019] \"Deep Nets...\" (score 3.21)\n");
    free(s);
    memory_free(m);
}
END_TEST

START_TEST(tfidf_memory_and_empty_history)
{
    ds_item mv[] = {item("a", NULL, "Space opera", NULL, "sci-fi"),
                    item("b", NULL, "Romantic comedy in Paris", NULL, "romance")};
    encoder_opts o = {.kind = ENCODER_TFIDF};
    memory *m = build("lamp2m", mv, 2, &o);
    topk_hit h[2];
    size_t n;
    pe_err e = {0};

    ck_assert_int_eq(lexical_kind(m->lex), ENCODER_TFIDF);
    ck_assert_int_eq(memory_search(m, "PARIS!", 2, NULL, h, &n, &e), 0);
    ck_assert_uint_eq(h[0].index, 1);
    memory_free(m);

    m = build("lamp2m", NULL, 0, NULL);
    ck_assert_int_eq(memory_search(m, "anything", 4, NULL, h, &n, &e), 0);
    ck_assert_uint_eq(n, 0);
    memory_free(m);
}
END_TEST

/* Replaying item j: the search with cutoff j equals, hit for hit and score
 * for score, a search of a memory built from items 0..j-1 alone (df, N and
 * the average length of the older items only), for both lexical kinds. */
START_TEST(replay_statistics_come_from_older_items)
{
    enum { N = 30, K = 5 };
    static const char *words[] = {"robot", "Mars", "comedy", "road", "trip", "alien",
                                  "jokes", "Paris", "love", "war", "space", "opera"};
    ds_item it[N];
    char *text[N], id[N][8];
    pe_rng g;
    pe_err e = {0};

    pe_rng_seed(&g, 11);
    for (size_t i = 0; i < N; i++) {
        buf b = BUF_INIT;
        size_t len = 1 + (size_t)pe_rng_below(&g, 9);
        for (size_t w = 0; w < len; w++)
            buf_printf(&b, "%s%s", w ? " " : "", words[pe_rng_below(&g, 12)]);
        text[i] = buf_detach(&b);
        snprintf(id[i], sizeof id[i], "h%zu", i);
        it[i] = item(id[i], NULL, text[i], NULL, "comedy");
    }
    for (int kind = ENCODER_BM25; kind <= ENCODER_TFIDF; kind++) {
        encoder_opts o = {.kind = (encoder_kind)kind};
        memory *all = build("lamp2m", it, N, &o);
        for (size_t j = 1; j < N; j++) {
            memory *old = build("lamp2m", it, j, &o);
            topk_filter f = {j, &j, 1, NULL};
            topk_hit a[K], b[K];
            size_t na, nb;
            ck_assert_int_eq(memory_search(all, text[j], K, &f, a, &na, &e), 0);
            ck_assert_int_eq(memory_search(old, text[j], K, NULL, b, &nb, &e), 0);
            ck_assert_uint_eq(na, nb);
            for (size_t i = 0; i < na; i++) {
                ck_assert_uint_eq(a[i].index, b[i].index);
                ck_assert_msg(a[i].score == b[i].score, "kind %d j %zu hit %zu: %g vs %g",
                              kind, j, i, (double)a[i].score, (double)b[i].score);
            }
            memory_free(old);
        }
        memory_free(all);
    }
    /* the statistics do change with the prefix: "robot" is frequent in the
     * whole history but rare among the first two items */
    {
        ds_item r[] = {item("a", NULL, "robot war", NULL, "x"), item("b", NULL, "love", NULL, "x"),
                       item("c", NULL, "robot", NULL, "x"), item("d", NULL, "robot", NULL, "x")};
        memory *m = build("lamp2m", r, 4, NULL);
        topk_filter f = {2, NULL, 0, NULL};
        topk_hit h[2];
        size_t n;
        /* N = 2, df(robot) = 1: idf = ln(1.5) - ln(1.5) = 0, kept as 0 */
        ck_assert_int_eq(memory_search(m, "robot", 2, &f, h, &n, &e), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_float_eq(h[0].score, 0);
        ck_assert_float_eq(h[1].score, 0);
        ck_assert_uint_eq(h[0].index, 1); /* a tie: the later item first */
        memory_free(m);
    }
    for (size_t i = 0; i < N; i++)
        free(text[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("memory");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, build_and_search);
    tcase_add_test(tc, invalid_item_names_user_item_field);
    tcase_add_test(tc, alignment_searches_never_see_j_or_newer);
    tcase_add_test(tc, format_lamp_layouts);
    tcase_add_test(tc, format_observation);
    tcase_add_test(tc, tfidf_memory_and_empty_history);
    tcase_add_test(tc, replay_statistics_come_from_older_items);
    tcase_add_test(tc, ties_follow_the_file_order);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
