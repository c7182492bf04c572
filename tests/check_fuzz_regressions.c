/* fuzz regressions: every saved crash input (tests/data/fuzz-regressions/<target>/)
 * and every seed (tests/fuzz/corpus/<target>/) replayed through the fuzzing entry
 * points; each must return a documented status without crashing (the suite runs
 * under ASan/UBSan in make asan and under valgrind in make valgrind). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz/targets.c"
#include "testutil.h"

typedef int (*fz_fn)(const uint8_t *, size_t);

/* Replay every regular file in dir; returns how many were replayed. */
static size_t replay_dir(const char *dir, fz_fn fn)
{
    char *path = tu_path(tu_root(), dir);
    DIR *d = opendir(path);
    struct dirent *de;
    size_t n = 0;
    int out = dup(1), err = dup(2), null = open("/dev/null", O_WRONLY);

    ck_assert_msg(d != NULL, "cannot open %s", path);
    while ((de = readdir(d))) {
        char *f;
        FILE *fp;
        uint8_t *data;
        long len;
        int rc;
        if (de->d_name[0] == '.' || !strcmp(de->d_name, "README.md"))
            continue;
        f = tu_path(path, de->d_name);
        fp = fopen(f, "rb");
        ck_assert_ptr_nonnull(fp);
        fseek(fp, 0, SEEK_END);
        len = ftell(fp);
        rewind(fp);
        data = xmalloc((size_t)len + 1);
        ck_assert_uint_eq(fread(data, 1, (size_t)len, fp), (size_t)len);
        fclose(fp);
        /* cmd_score prints its result and errors: keep them out of the test log */
        fflush(stdout);
        fflush(stderr);
        dup2(null, 1);
        dup2(null, 2);
        rc = fn(data, (size_t)len);
        fflush(stdout);
        fflush(stderr);
        dup2(out, 1);
        dup2(err, 2);
        ck_assert_msg(fz_sane_rc(rc), "%s: status %d", f, rc);
        free(data);
        free(f);
        n++;
    }
    closedir(d);
    close(out);
    close(err);
    close(null);
    free(path);
    return n;
}

static void replay(const char *target, fz_fn fn)
{
    char *reg = xasprintf("tests/data/fuzz-regressions/%s", target);
    char *seeds = xasprintf("tests/fuzz/corpus/%s", target);
    replay_dir(reg, fn);
    ck_assert_uint_gt(replay_dir(seeds, fn), 0);
    free(reg);
    free(seeds);
}

START_TEST(dataset_inputs)
{
    replay("dataset", fz_dataset);
}
END_TEST

START_TEST(chat_inputs)
{
    replay("chat", fz_chat);
}
END_TEST

START_TEST(react_inputs)
{
    replay("react", fz_react);
}
END_TEST

START_TEST(score_inputs)
{
    replay("score", fz_score);
}
END_TEST

/* The entry points reach the code they claim to: a seed that is valid data loads. */
START_TEST(entry_points_reach_the_parsers)
{
    static const char ok[] = "13{\"user\":\"u\",\"history\":[],\"queries\":[{\"id\":\"q\","
                             "\"input\":\"x\"}]}\n";
    static const char bad[] = "13{\"user\":7}\n";
    static const char golds[] = "30{\"task\":\"LaMP_3\",\"golds\":[{\"id\":\"a\",\"output\":\"3\"}]}"
                                "\n--\n{\"task\":\"LaMP_3\",\"golds\":[{\"id\":\"a\",\"output\":\"4\"}]}";
    int out = dup(1), null = open("/dev/null", O_WRONLY);
    ck_assert_int_eq(fz_dataset((const uint8_t *)ok, sizeof ok - 1), 0);
    ck_assert_int_eq(fz_dataset((const uint8_t *)bad, sizeof bad - 1), PE_EXIT_DATA);
    fflush(stdout);
    dup2(null, 1);
    ck_assert_int_eq(fz_score((const uint8_t *)golds, sizeof golds - 1), 0);
    fflush(stdout);
    dup2(out, 1);
    close(out);
    close(null);
    ck_assert_int_eq(fz_chat((const uint8_t *)"{\"choices\":[]}", 14), PE_EXIT_RUNERRORS);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("fuzz_regressions");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, dataset_inputs);
    tcase_add_test(tc, chat_inputs);
    tcase_add_test(tc, react_inputs);
    tcase_add_test(tc, score_inputs);
    tcase_add_test(tc, entry_points_reach_the_parsers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
