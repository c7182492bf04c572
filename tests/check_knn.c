/* knn: the vote rules on hand-made hits, and predictions on small memories
 * whose answers are clear by reading them. */
#include <stdlib.h>
#include <string.h>

#include "knn.h"
#include "testutil.h"
#include "util.h"

#define S(x) ((char *)(x))

static void assert_vote(const char *task_name, const char *const *labels, const topk_hit *h,
                        size_t n, const char *want)
{
    char *got = knn_vote(task_get(task_name), labels, h, n);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(vote_labels)
{
    const char *lab[] = {"comedy", "action", "action", "sci-fi", "nonsense"};
    /* weighted: comedy 3 beats action 1 + 1 (unweighted, action would win) */
    topk_hit w[] = {{0, 3.0f}, {1, 1.0f}, {2, 1.0f}};
    /* tie 1 : 1 → sci-fi, earlier than comedy in the task's list */
    topk_hit tie[] = {{0, 1.0f}, {3, 1.0f}};
    /* all zero → unweighted: action 2 : comedy 1 */
    topk_hit zero[] = {{0, 0.0f}, {1, 0.0f}, {2, 0.0f}};
    /* negative similarities count 0 → action 0.5 alone */
    topk_hit neg[] = {{0, -4.0f}, {1, 0.5f}};
    /* all negative → unweighted tie comedy : sci-fi → sci-fi */
    topk_hit allneg[] = {{0, -1.0f}, {3, -2.0f}};
    /* a label outside the list never wins */
    topk_hit bad[] = {{4, 9.0f}, {0, 0.1f}};

    assert_vote("lamp2m", lab, w, 3, "comedy");
    assert_vote("lamp2m", lab, tie, 2, "sci-fi");
    assert_vote("lamp2m", lab, zero, 3, "action");
    assert_vote("lamp2m", lab, neg, 2, "action");
    assert_vote("lamp2m", lab, allneg, 2, "sci-fi");
    assert_vote("lamp2m", lab, bad, 2, "comedy");
    assert_vote("lamp2m", lab, bad, 1, "sci-fi"); /* nothing valid: first label */
    assert_vote("lamp2m", lab, w, 0, "sci-fi");
}
END_TEST

START_TEST(vote_ratings)
{
    const char *lab[] = {"3", "4", "2", "5", "1", "0", "9", "x"};
    topk_hit half[] = {{0, 1.0f}, {1, 1.0f}};                     /* 3.5 → 4 */
    topk_hit w[] = {{2, 3.0f}, {3, 1.0f}};                        /* 11/4 = 2.75 → 3 */
    topk_hit lo[] = {{2, 3.0f}, {4, 1.0f}};                       /* 7/4 = 1.75 → 2 */
    topk_hit under[] = {{5, 1.0f}};                               /* 0 → 1 */
    topk_hit over[] = {{6, 1.0f}, {3, 1.0f}};                     /* 7 → 5 */
    topk_hit zero[] = {{3, 0.0f}, {4, 0.0f}, {0, 0.0f}, {2, 0.0f}}; /* 11/4 → 3 */
    topk_hit skip[] = {{7, 5.0f}, {2, 1.0f}};                     /* "x" ignored → 2 */

    assert_vote("lamp3", lab, half, 2, "4");
    assert_vote("lamp3", lab, w, 2, "3");
    assert_vote("lamp3", lab, lo, 2, "2");
    assert_vote("lamp3", lab, under, 1, "1");
    assert_vote("lamp3", lab, over, 2, "5");
    assert_vote("lamp3", lab, zero, 4, "3");
    assert_vote("lamp3", lab, skip, 2, "2");
    assert_vote("lamp3", lab, skip, 1, "1"); /* nothing valid: first label */
}
END_TEST

static memory *build(const char *task_name, ds_item *items, size_t n)
{
    ds_user u = {S("u1"), items, n, NULL, 0};
    memory *m;
    pe_err e = {0};
    ck_assert_msg(memory_build(task_get(task_name), &u, NULL, &m, &e) == 0, "%s", e.msg);
    return m;
}

static void assert_predict(const memory *m, const char *input, size_t k, const topk_filter *f,
                           const char *want)
{
    char *got;
    pe_err e = {0};
    ck_assert_msg(knn_predict(m, m->task, input, k, f, &got, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(predict_movies)
{
    ds_item it[] = {
        {S("h0"), NULL, {S("Two lovers meet in Paris and fall in love"), S("")}, S("romance"), 0},
        {S("h1"), NULL, {S("A gangster war with guns and blood"), S("")}, S("violence"), 0},
        {S("h2"), NULL, {S("Lovers separated by war find love again"), S("")}, S("romance"), 0},
        {S("h3"), NULL, {S("A detective hunts a killer"), S("")}, S("violence"), 0},
        {S("h4"), NULL, {S("Robots rebel on a starship"), S("")}, S("sci-fi"), 0},
        {S("h5"), NULL, {S("A baker opens a shop"), S("")}, S("comedy"), 0},
    };
    const task *t = task_get("lamp2m");
    memory *m = build("lamp2m", it, 6);
    const char *v[1] = {"Lovers fall in love in Paris"};
    char *in = task_build_input(t, v), *in2;
    topk_filter f = {1, NULL, 0, NULL};

    assert_predict(m, in, KNN_DEFAULT_K, NULL, "romance");
    v[0] = "guns and blood in a gangster war";
    in2 = task_build_input(t, v);
    assert_predict(m, in2, KNN_DEFAULT_K, NULL, "violence");
    /* only h0 visible: its label whatever the query */
    assert_predict(m, in2, KNN_DEFAULT_K, &f, "romance");
    memory_free(m);
    m = build("lamp2m", NULL, 0);
    assert_predict(m, in, KNN_DEFAULT_K, NULL, "sci-fi"); /* empty history: first label */
    memory_free(m);
    free(in);
    free(in2);
}
END_TEST

START_TEST(predict_ratings)
{
    ds_item it[] = {
        {S("h0"), NULL, {S("great kettle love it"), S("")}, S("5"), 0},
        {S("h1"), NULL, {S("love this great product"), S("")}, S("5"), 0},
        {S("h2"), NULL, {S("terrible broke after a week"), S("")}, S("1"), 0},
        {S("h3"), NULL, {S("awful terrible waste"), S("")}, S("1"), 0},
        {S("h4"), NULL, {S("okay average toaster"), S("")}, S("3"), 0},
    };
    const task *t = task_get("lamp3");
    memory *m = build("lamp3", it, 5);
    const char *v[1] = {"great kettle, love"};
    char *in = task_build_input(t, v);
    assert_predict(m, in, KNN_DEFAULT_K, NULL, "5");
    free(in);
    v[0] = "terrible and awful";
    in = task_build_input(t, v);
    assert_predict(m, in, KNN_DEFAULT_K, NULL, "1");
    free(in);
    memory_free(m);
}
END_TEST

START_TEST(predict_citations)
{
    ds_item it[] = {
        {S("p0"), S("2018"), {S("Deep neural networks"), S("training deep networks with sgd")},
         NULL, 0},
        {S("p1"), S("2019"), {S("Convolutional networks"), S("image features with deep nets")},
         NULL, 0},
        {S("p2"), S("2020"), {S("Attention models"), S("neural attention for translation")},
         NULL, 0},
    };
    memory *m = build("lamp1", it, 3);
    char *a = task_build_lamp1_input("My paper", "Growing tomatoes in clay soil",
                                     "Deep networks for image recognition");
    char *b = task_build_lamp1_input("My paper", "Neural attention networks",
                                     "Growing tomatoes in clay soil");
    char *c = task_build_lamp1_input("My paper", "zebra", "quokka"), *got;
    pe_err e = {0};

    assert_predict(m, a, KNN_DEFAULT_K, NULL, "[2]");
    assert_predict(m, b, KNN_DEFAULT_K, NULL, "[1]");
    assert_predict(m, c, KNN_DEFAULT_K, NULL, "[1]"); /* tie → [1] */
    ck_assert_int_eq(knn_predict(m, m->task, "no quotes at all", 4, NULL, &got, &e),
                     PE_EXIT_DATA);
    ck_assert_ptr_null(got);
    ck_assert_ptr_nonnull(strstr(e.msg, "u1"));
    memory_free(m);
    free(a);
    free(b);
    free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("knn");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, vote_labels);
    tcase_add_test(tc, vote_ratings);
    tcase_add_test(tc, predict_movies);
    tcase_add_test(tc, predict_ratings);
    tcase_add_test(tc, predict_citations);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
