/* task: label lists, templates, query extraction and answer normalization,
 * against strings copied from LaMP's published data and prompts. */
#include <stdlib.h>
#include <string.h>

#include "task.h"
#include "testutil.h"

START_TEST(lookup_and_labels)
{
    const task *t = task_get("lamp2m");
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(t->nlabels, 15);
    ck_assert_str_eq(t->labels[0], "sci-fi");
    ck_assert_str_eq(t->labels[14], "true story");
    ck_assert_ptr_eq(task_get("LaMP_2M"), t);
    ck_assert_ptr_null(task_get("LaMP_2")); /* ambiguous without labels */
    ck_assert_ptr_null(task_get("lamp4"));
    t = task_get("lamp2n");
    ck_assert_str_eq(t->labels[0], "food & drink");
    ck_assert_str_eq(t->labels[8], "science & technology");
    ck_assert_str_eq(t->labels[14], "healthy living");
    ck_assert_uint_eq(task_get("lamp1")->nlabels, 2);
    ck_assert_str_eq(task_get("lamp1")->labels[1], "[2]");
    ck_assert_str_eq(task_get("lamp3")->labels[4], "5");
    ck_assert_int_eq(task_label_index(t, "sports"), 1);
    ck_assert_int_eq(task_label_index(t, "Sports"), -1); /* case-sensitive */
}
END_TEST

START_TEST(templates)
{
    const task *t = task_get("lamp2n");
    const char *v[2] = {"NFL Fumbles", "The NFL is a huge business."};
    char *in = task_build_input(t, v), *q;
    ck_assert_str_eq(in,
        "Which category does this article relate to among the following categories? Just "
        "answer with the category name without further explanation. categories: [women, "
        "religion, politics, style & beauty, entertainment, culture & arts, sports, science & "
        "technology, travel, business, crime, education, healthy living, parents, food & "
        "drink] article: The NFL is a huge business.");
    q = task_query_text(t, in);
    ck_assert_str_eq(q, "The NFL is a huge business.");
    free(q);
    free(in);
    q = task_item_text(t, v);
    ck_assert_str_eq(q, "NFL Fumbles The NFL is a huge business.");
    free(q);

    t = task_get("lamp3");
    v[0] = "Great kettle.";
    in = task_build_input(t, v);
    ck_assert_str_eq(in, "What is the score of the following review on a scale of 1 to 5? just "
                         "answer with 1, 2, 3, 4, or 5 without further explanation. review: "
                         "Great kettle.");
    q = task_query_text(t, in);
    ck_assert_str_eq(q, "Great kettle.");
    free(q);
    free(in);

    t = task_get("lamp2m");
    v[0] = "A petty criminal fakes insanity.";
    in = task_build_input(t, v);
    ck_assert_ptr_nonnull(strstr(in, "violence, true story] description: A petty criminal"));
    q = task_query_text(t, in);
    ck_assert_str_eq(q, "A petty criminal fakes insanity.");
    free(q);
    free(in);
    ck_assert_ptr_null(task_build_input(task_get("lamp1"), v));
}
END_TEST

START_TEST(lamp1_input)
{
    const task *t = task_get("lamp1");
    char *in = task_build_lamp1_input("Deep Nets", "Backprop", "Gradient \"boosting\""), *q;
    char *title, *r1, *r2;
    ck_assert_str_eq(in, "For an author who has written the paper with the title \"Deep Nets\", "
                         "which reference is related? Just answer with [1] or [2] without "
                         "explanation. [1]: \"Backprop\" [2]: \"Gradient \"boosting\"\"");
    ck_assert_int_eq(task_lamp1_parse(in, &title, &r1, &r2), 0);
    ck_assert_str_eq(title, "Deep Nets");
    ck_assert_str_eq(r1, "Backprop");
    ck_assert_str_eq(r2, "Gradient \"boosting\"");
    q = task_query_text(t, in);
    ck_assert_str_eq(q, "Backprop Gradient \"boosting\"");
    free(q);
    free(title);
    free(r1);
    free(r2);
    free(in);
}
END_TEST

START_TEST(normalize)
{
    const task *m = task_get("lamp2m"), *r = task_get("lamp3"), *c = task_get("lamp1");
    ck_assert_int_eq(task_normalize(m, "  comedy\n", 1), 2);
    ck_assert_int_eq(task_normalize(m, "Comedy", 1), -1);
    ck_assert_int_eq(task_normalize(m, "Comedy", 0), 2);
    ck_assert_int_eq(task_normalize(m, "Final answer: Comedy.", 0), 2);
    ck_assert_int_eq(task_normalize(m, "Final answer: dark comedy", 0), 6);
    ck_assert_int_eq(task_normalize(m, "dark comedy, not comedy", 0), -1);
    ck_assert_int_eq(task_normalize(m, "comedy or action", 0), -1);
    ck_assert_int_eq(task_normalize(m, "comedy... yes, comedy", 0), 2);
    ck_assert_int_eq(task_normalize(m, "no idea", 0), -1);
    ck_assert_int_eq(task_normalize(m, "Sci-Fi", 0), 0);
    ck_assert_int_eq(task_normalize(m, "classical music", 0), -1); /* not at a word end */
    ck_assert_int_eq(task_normalize(r, "4", 0), 3);
    ck_assert_int_eq(task_normalize(r, "Rating: 4", 0), 3);
    ck_assert_int_eq(task_normalize(r, "4 out of 5", 0), -1);
    ck_assert_int_eq(task_normalize(r, "14", 0), -1);
    ck_assert_int_eq(task_normalize(c, "The answer is [2].", 0), 1);
    ck_assert_int_eq(task_normalize(c, "[1]", 1), 0);
    ck_assert_int_eq(task_normalize(c, NULL, 0), -1);
    ck_assert_int_eq(task_normalize(c, "2", 0), 1);
    ck_assert_int_eq(task_normalize(c, "Reference 1.", 0), 0);
    ck_assert_int_eq(task_normalize(c, "1 or 2", 0), -1);
    ck_assert_int_eq(task_normalize(c, "12", 0), -1);
    ck_assert_int_eq(task_normalize(c, "2", 1), -1); /* strict: exact labels only */
}
END_TEST

START_TEST(lamp2_from_labels)
{
    const char *news[] = {"sports", "not a label", "crime"};
    const char *movies[] = {"comedy", "sci-fi"};
    const char *mixed[] = {"comedy", "crime"};
    const char *none[] = {"zzz"};
    char why[512];
    int und;
    ck_assert_ptr_eq(task_from_file("LaMP_2", news, 3, &und), task_get("lamp2n"));
    ck_assert_int_eq(und, 0);
    ck_assert_ptr_eq(task_from_file("lamp-2", movies, 2, &und), task_get("lamp2m"));
    ck_assert_ptr_null(task_from_file("LaMP_2", mixed, 2, &und));
    ck_assert_int_eq(und, 0);
    ck_assert_ptr_null(task_from_file("LaMP_2", none, 1, &und));
    ck_assert_int_eq(und, 1);
    /* other names do not look at labels */
    ck_assert_ptr_eq(task_from_file("LaMP_2M", news, 3, &und), task_get("lamp2m"));
    ck_assert(task_file_matches(task_get("lamp2n"), "LaMP_2", news, 3, NULL, 0));
    ck_assert(!task_file_matches(task_get("lamp2m"), "LaMP_2", news, 3, why, sizeof why));
    ck_assert_str_eq(why, "is \"LaMP_2\", which means lamp2n here (its labels are news "
                          "categories), but the task is lamp2m");
    ck_assert(task_file_matches(task_get("lamp2m"), "LaMP_2", NULL, 0, NULL, 0));
    ck_assert(task_file_matches(task_get("lamp2n"), "LaMP_2", none, 1, NULL, 0));
    ck_assert(!task_file_matches(task_get("lamp3"), "LaMP_2", none, 1, why, sizeof why));
    ck_assert(!task_file_matches(task_get("lamp2m"), "LaMP_2", mixed, 2, why, sizeof why));
    ck_assert_str_eq(why, "is \"LaMP_2\", but its labels mix news categories and movie tags");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("task");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, lookup_and_labels);
    tcase_add_test(tc, templates);
    tcase_add_test(tc, lamp1_input);
    tcase_add_test(tc, normalize);
    tcase_add_test(tc, lamp2_from_labels);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
