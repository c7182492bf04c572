/* methods: the descriptor table, list parsing and the reference methods on a
 * hand-built data set. */
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "testutil.h"

static ds_item item(const char *f0, const char *f1, const char *label)
{
    ds_item it;
    memset(&it, 0, sizeof it);
    it.id = (char *)"i";
    it.field[0] = (char *)f0;
    it.field[1] = (char *)(f1 ? f1 : "");
    it.label = (char *)label;
    return it;
}

static char *answer(const method *m, const run_shared *rs, const ds_user *u, const char *input)
{
    user_state us;
    method_answer a;
    ds_query q = {(char *)"q", NULL, (char *)input, NULL};
    pe_err e = {0};
    memset(&a, 0, sizeof a);
    user_state_init(&us, u, 0, 1);
    ck_assert_int_eq(m->answer(rs, &us, 0, &q, NULL, &a, &e), 0);
    user_state_release(&us);
    pthread_mutex_destroy(&us.mu);
    ck_assert_ptr_nonnull(a.raw);
    free(a.error);
    return a.raw;
}

START_TEST(majority_and_user_majority)
{
    const task *t = task_get("lamp2m");
    /* u1: comedy x1, action x2; u2: romance x3, comedy x1; u3: action x1,
     * comedy x1. Global: comedy 3, action 3, romance 3: a tie, won by the
     * earliest in the list (comedy 2, action 3, romance 10). */
    ds_item h1[] = {item("a", NULL, "comedy"), item("b", NULL, "action"),
                    item("c", NULL, "action")};
    ds_item h2[] = {item("d", NULL, "romance"), item("e", NULL, "romance"),
                    item("f", NULL, "romance"), item("g", NULL, "comedy")};
    ds_item h3[] = {item("h", NULL, "action"), item("i", NULL, "comedy")};
    ds_user users[] = {{(char *)"u1", h1, 3, NULL, 0}, {(char *)"u2", h2, 4, NULL, 0},
                       {(char *)"u3", h3, 2, NULL, 0}};
    dataset d = {.task = t, .users = users, .nusers = 3};
    run_shared rs = {0};
    char *s;

    rs.task = t;
    rs.data = &d;
    methods_global_stats(&d, &rs.global_label, &rs.global_mean);
    ck_assert_str_eq(t->labels[rs.global_label], "comedy");
    s = answer(methods_get("majority"), &rs, &users[0], "x");
    ck_assert_str_eq(s, "comedy");
    free(s);
    s = answer(methods_get("user-majority"), &rs, &users[0], "x");
    ck_assert_str_eq(s, "action");
    free(s);
    s = answer(methods_get("user-majority"), &rs, &users[2], "x");
    ck_assert_str_eq(s, "comedy"); /* tie: comedy (index 2) comes before action (3) */
    free(s);
}
END_TEST

START_TEST(rating_means)
{
    const task *t = task_get("lamp3");
    /* u1 mean 4.5 -> 5 (half up); u2 mean 2.25 -> 2; global (9 + 9) / 6 = 3.0 -> 3 */
    ds_item h1[] = {item("a", NULL, "4"), item("b", NULL, "5")};
    ds_item h2[] = {item("c", NULL, "1"), item("d", NULL, "2"), item("e", NULL, "3"),
                    item("f", NULL, "3")};
    ds_user users[] = {{(char *)"u1", h1, 2, NULL, 0}, {(char *)"u2", h2, 4, NULL, 0}};
    dataset d = {.task = t, .users = users, .nusers = 2};
    run_shared rs = {0};
    char *s;
    rs.task = t;
    rs.data = &d;
    methods_global_stats(&d, &rs.global_label, &rs.global_mean);
    ck_assert_double_eq_tol(rs.global_mean, 3.0, 1e-12);
    s = answer(methods_get("user-majority"), &rs, &users[0], "x");
    ck_assert_str_eq(s, "5");
    free(s);
    s = answer(methods_get("user-majority"), &rs, &users[1], "x");
    ck_assert_str_eq(s, "2");
    free(s);
    s = answer(methods_get("majority"), &rs, &users[1], "x");
    ck_assert_str_eq(s, "3");
    free(s);
}
END_TEST

START_TEST(lamp1_overlap)
{
    const task *t = task_get("lamp1");
    ds_item h[] = {item("Graph neural networks for molecules",
                        "We study message passing networks on molecular graphs.", NULL),
                   item("Scalable graph learning", "Sampling methods for large graphs.", NULL)};
    ds_user u = {(char *)"u1", h, 2, NULL, 0};
    dataset d = {.task = t, .users = &u, .nusers = 1};
    run_shared rs = {0};
    char *in1 = task_build_lamp1_input("New paper", "Speech recognition with transducers",
                                       "Message passing on molecular graphs");
    char *in2 = task_build_lamp1_input("New paper", "Graph sampling methods",
                                       "Speech recognition with transducers");
    char *s;
    rs.task = t;
    rs.data = &d;
    s = answer(methods_get("user-majority"), &rs, &u, in1);
    ck_assert_str_eq(s, "[2]");
    free(s);
    s = answer(methods_get("majority"), &rs, &u, in2);
    ck_assert_str_eq(s, "[1]");
    free(s);
    free(in1);
    free(in2);
}
END_TEST

START_TEST(parse_lists)
{
    const method **m;
    size_t n;
    pe_err e = {0};
    ck_assert_int_eq(methods_parse_list("user-majority, majority,user-majority", &m, &n, &e), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(m[0]->name, "user-majority");
    ck_assert_str_eq(m[1]->name, "majority");
    free(m);
    ck_assert_int_eq(methods_parse_list("all", &m, &n, &e), 0);
    ck_assert_uint_eq(n, methods_count());
    free(m);
    ck_assert_int_eq(methods_parse_list("majority,nope", &m, &n, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "\"nope\""));
    ck_assert_int_eq(methods_parse_list(" , ", &m, &n, &e), PE_EXIT_USAGE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("methods");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, majority_and_user_majority);
    tcase_add_test(tc, rating_means);
    tcase_add_test(tc, lamp1_overlap);
    tcase_add_test(tc, parse_lists);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
