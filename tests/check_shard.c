/* shard: index parsing (flag and scheduler environment), a deterministic and
 * balanced split, and the cover check merge relies on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shard.h"
#include "testutil.h"

/* 64-bit FNV-1a with murmur3's fmix64, written out independently. */
static size_t ref_shard(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return (size_t)(h % n);
}

START_TEST(parse_spec)
{
    shard s;
    pe_err e = {0};
    ck_assert_int_eq(shard_parse("0/1", &s, &e), 0);
    ck_assert_uint_eq(s.index, 0);
    ck_assert_uint_eq(s.count, 1);
    ck_assert_int_eq(shard_parse("7/8", &s, &e), 0);
    ck_assert_uint_eq(s.index, 7);
    ck_assert_uint_eq(s.count, 8);
    ck_assert_int_eq(shard_parse("8/8", &s, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "out of range"));
    ck_assert_int_eq(shard_parse("1/0", &s, &e), PE_EXIT_USAGE);
    ck_assert_int_eq(shard_parse("-1/3", &s, &e), PE_EXIT_USAGE);
    ck_assert_int_eq(shard_parse("1/3x", &s, &e), PE_EXIT_USAGE);
    ck_assert_int_eq(shard_parse("/3", &s, &e), PE_EXIT_USAGE);
    ck_assert_int_eq(shard_parse("3", &s, &e), PE_EXIT_USAGE);
    ck_assert_int_eq(shard_parse("1/ 3", &s, &e), PE_EXIT_USAGE);
}
END_TEST

START_TEST(from_env)
{
    shard s;
    pe_err e = {0};
    unsetenv("SLURM_ARRAY_TASK_ID");
    unsetenv("SLURM_ARRAY_TASK_MIN");
    unsetenv("JOB_COMPLETION_INDEX");
    ck_assert_int_eq(shard_from_env(4, &s, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "JOB_COMPLETION_INDEX"));
    setenv("JOB_COMPLETION_INDEX", "3", 1);
    ck_assert_int_eq(shard_from_env(4, &s, &e), 0);
    ck_assert_uint_eq(s.index, 3);
    ck_assert_uint_eq(s.count, 4);
    ck_assert_int_eq(shard_from_env(3, &s, &e), PE_EXIT_USAGE);
    ck_assert_int_eq(shard_from_env(0, &s, &e), PE_EXIT_USAGE);
    /* Slurm wins over Kubernetes; the array may start above 0 */
    setenv("SLURM_ARRAY_TASK_ID", "1", 1);
    ck_assert_int_eq(shard_from_env(4, &s, &e), 0);
    ck_assert_uint_eq(s.index, 1);
    setenv("SLURM_ARRAY_TASK_ID", "12", 1);
    setenv("SLURM_ARRAY_TASK_MIN", "10", 1);
    ck_assert_int_eq(shard_from_env(4, &s, &e), 0);
    ck_assert_uint_eq(s.index, 2);
    setenv("SLURM_ARRAY_TASK_ID", "9", 1);
    ck_assert_int_eq(shard_from_env(4, &s, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "below"));
    setenv("SLURM_ARRAY_TASK_ID", "14", 1);
    ck_assert_int_eq(shard_from_env(4, &s, &e), PE_EXIT_USAGE);
    setenv("SLURM_ARRAY_TASK_ID", "1x", 1);
    ck_assert_int_eq(shard_from_env(4, &s, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "SLURM_ARRAY_TASK_ID=\"1x\""));
    unsetenv("SLURM_ARRAY_TASK_ID");
    unsetenv("SLURM_ARRAY_TASK_MIN");
    unsetenv("JOB_COMPLETION_INDEX");
}
END_TEST

START_TEST(split_deterministic_and_balanced)
{
    size_t count[7] = {0};
    char id[32];
    ck_assert_uint_eq(shard_of("u001", 1), 0);
    for (int i = 0; i < 7000; i++) {
        size_t k;
        snprintf(id, sizeof id, "user-%05d", i);
        k = shard_of(id, 7);
        ck_assert_uint_eq(k, ref_shard(id, 7));
        count[k]++;
    }
    for (int k = 0; k < 7; k++) /* 1000 expected each; 5 sigma is about 150 */
        ck_assert(count[k] > 850 && count[k] < 1150);
}
END_TEST

START_TEST(split_dataset)
{
    dataset d = {0}, rest;
    size_t *pos;
    shard s = {1, 3};
    const char *ids[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    size_t k = 0, want = 0;
    d.nusers = 10;
    d.users = xcalloc(10, sizeof *d.users);
    for (size_t i = 0; i < 10; i++)
        d.users[i].id = (char *)ids[i]; /* texts belong to an arena, never to the users */
    for (size_t i = 0; i < 10; i++)
        want += ref_shard(ids[i], 3) == 1;
    shard_split(&d, &s, &rest, &pos);
    ck_assert_uint_eq(d.nusers, want);
    ck_assert_uint_eq(rest.nusers, 10 - want);
    for (size_t i = 0; i < 10; i++)
        if (ref_shard(ids[i], 3) == 1) {
            ck_assert_str_eq(d.users[k].id, ids[i]); /* file order kept */
            ck_assert_uint_eq(pos[k], i);
            k++;
        }
    free(pos);
    dataset_free(&d);
    dataset_free(&rest);
}
END_TEST

START_TEST(cover)
{
    /* 4 users split over 2 shards by hand, from the reference hash */
    const char *ids[] = {"u1", "u2", "u3", "u4"};
    const char *in[2][4];
    size_t pos[2][4], n[2] = {0, 0};
    shard_part p[3];
    pe_err e = {0};
    for (size_t i = 0; i < 4; i++) {
        size_t k = ref_shard(ids[i], 2);
        in[k][n[k]] = ids[i];
        pos[k][n[k]++] = i;
    }
    for (size_t k = 0; k < 2; k++)
        p[k] = (shard_part){k ? "s1" : "s0", k, 2, 4, in[k], pos[k], n[k]};
    ck_assert_int_eq(shard_check_cover(p, 2, &e), 0);
    /* missing shard */
    ck_assert_int_eq(shard_check_cover(p + 1, 1, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "missing shard 0"));
    /* duplicated shard */
    p[2] = p[1];
    ck_assert_int_eq(shard_check_cover(p, 3, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "duplicated shard 1"));
    /* a different split */
    p[2] = p[1];
    p[2].count = 3;
    ck_assert_int_eq(shard_check_cover(p + 1, 2, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "not one split"));
    /* a user missing from its shard */
    if (n[0] > 0) {
        p[0].nusers = n[0] - 1;
        ck_assert_int_eq(shard_check_cover(p, 2, &e), PE_EXIT_USAGE);
        ck_assert_ptr_nonnull(strstr(e.msg, "1 missing"));
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shard");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, parse_spec);
    tcase_add_test(tc, from_env);
    tcase_add_test(tc, split_deterministic_and_balanced);
    tcase_add_test(tc, split_dataset);
    tcase_add_test(tc, cover);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
