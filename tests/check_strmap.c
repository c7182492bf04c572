/* strmap: lookups, duplicate detection and growth, checked against a plain
 * linear search over the same keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "testutil.h"
#include "util.h"

START_TEST(empty_map)
{
    strmap m = {0};
    ck_assert(strmap_get(&m, "a") == STRMAP_NONE);
    strmap_free(&m);
    ck_assert(strmap_get(&m, "a") == STRMAP_NONE);
}
END_TEST

START_TEST(add_keeps_first_put_replaces)
{
    strmap m = {0};
    ck_assert_uint_eq(strmap_add(&m, "u1", 0), 0);
    ck_assert_uint_eq(strmap_add(&m, "u2", 1), 1);
    /* a duplicate reports the index stored first */
    ck_assert_uint_eq(strmap_add(&m, "u1", 2), 0);
    ck_assert_uint_eq(strmap_get(&m, "u1"), 0);
    strmap_put(&m, "u1", 7);
    ck_assert_uint_eq(strmap_get(&m, "u1"), 7);
    ck_assert_uint_eq(m.len, 2);
    ck_assert(strmap_get(&m, "") == STRMAP_NONE);
    ck_assert_uint_eq(strmap_add(&m, "", 9), 9);
    ck_assert_uint_eq(strmap_get(&m, ""), 9);
    strmap_free(&m);
}
END_TEST

START_TEST(growth_matches_linear_search)
{
    enum { N = 5000 };
    char **keys = malloc(N * sizeof *keys);
    strmap m;
    strmap_init(&m, 4);
    for (size_t i = 0; i < N; i++) {
        keys[i] = xasprintf("user-%zu", i % 3001); /* every key below 1999 twice */
        size_t first = i % 3001;
        ck_assert_uint_eq(strmap_add(&m, keys[i], i), first);
    }
    ck_assert_uint_eq(m.len, 3001);
    for (size_t i = 0; i < 3001; i++)
        ck_assert_uint_eq(strmap_get(&m, keys[i]), i);
    ck_assert(strmap_get(&m, "user-3001") == STRMAP_NONE);
    strmap_free(&m);
    for (size_t i = 0; i < N; i++)
        free(keys[i]);
    free(keys);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strmap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, empty_map);
    tcase_add_test(tc, add_keeps_first_put_replaces);
    tcase_add_test(tc, growth_matches_linear_search);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
