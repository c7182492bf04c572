/* cli_common: edit distance and suggestions (values worked out by hand), and
 * shell words checked by handing them to a real /bin/sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "testutil.h"

START_TEST(edit_distance_by_hand)
{
    ck_assert_uint_eq(cli_edit_distance("", ""), 0);
    ck_assert_uint_eq(cli_edit_distance("", "abc"), 3);
    ck_assert_uint_eq(cli_edit_distance("kitten", "sitting"), 3);
    ck_assert_uint_eq(cli_edit_distance("taks", "task"), 2); /* two substitutions */
    ck_assert_uint_eq(cli_edit_distance("metod", "method"), 1);
    ck_assert_uint_eq(cli_edit_distance("reprot", "report"), 2);
}
END_TEST

START_TEST(closest_within_limit)
{
    const char *opts[] = {"task", "method", "model", "report"};
    ck_assert_str_eq(cli_closest("taks", opts, 4), "task");
    ck_assert_str_eq(cli_closest("metod", opts, 4), "method");
    ck_assert_str_eq(cli_closest("reprot", opts, 4), "report");
    /* "zzzz" is 4 edits from "task": beyond the limit of 2 for short words */
    ck_assert_ptr_null(cli_closest("zzzz", opts, 4));
}
END_TEST

/* What /bin/sh makes of "printf %s WORD": the word given back unchanged. */
static char *through_shell(const char *word)
{
    char *cmd = xasprintf("printf %%s %s", word), out[256];
    FILE *p = popen(cmd, "r");
    size_t n;
    ck_assert_ptr_nonnull(p);
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    free(cmd);
    return xstrdup(out);
}

START_TEST(shell_words_paste_back)
{
    const char *plain[] = {"runs/x", "/tmp/a-b_c.d", "u@h:1/p%2B=+,"};
    const char *odd[] = {"my dir", "it's", "$HOME", "a;b", "`x`", "a\"b", "*", "~", ""};
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        char *w = cli_shell_word(plain[i]);
        ck_assert_str_eq(w, plain[i]); /* no quotes where none are needed */
        free(w);
    }
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        char *w = cli_shell_word(odd[i]), *back = through_shell(w);
        ck_assert_msg(w[0] == '\'', "%s not quoted: %s", odd[i], w);
        ck_assert_str_eq(back, odd[i]);
        free(back);
        free(w);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, edit_distance_by_hand);
    tcase_add_test(tc, closest_within_limit);
    tcase_add_test(tc, shell_words_paste_back);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
