/* cache: canonical text, key, sharded layout, modes, sharing between threads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache.h"
#include "jsonu.h"
#include "testutil.h"

START_TEST(canonical_sorted_compact)
{
    const char *in = "{ \"b\": 1, \"a\": {\"d\": [ {\"z\":1, \"y\":\"q\"} ], \"c\": null},"
                     " \"A\": true }";
    cJSON *j = jsonu_parse(in, strlen(in), NULL);
    char *s = cache_canonical(j), hex[65], *again;
    /* keys sorted by byte value at every level; arrays keep their order */
    ck_assert_str_eq(s, "{\"A\":true,\"a\":{\"c\":null,\"d\":[{\"y\":\"q\",\"z\":1}]},\"b\":1}");
    cache_key(s, hex);
    /* SHA-256 of the canonical text, computed independently with sha256_hex */
    {
        char ref[65];
        sha256_hex(s, strlen(s), ref);
        ck_assert_str_eq(hex, ref);
    }
    /* the same object with another key order has the same text */
    cJSON_Delete(j);
    in = "{\"A\":true,\"b\":1,\"a\":{\"c\":null,\"d\":[{\"y\":\"q\",\"z\":1}]}}";
    j = jsonu_parse(in, strlen(in), NULL);
    ck_assert_ptr_nonnull(j);
    again = cache_canonical(j);
    ck_assert_str_eq(again, s);
    free(again);
    free(s);
    cJSON_Delete(j);
}
END_TEST

START_TEST(known_sha256)
{
    char hex[65];
    cache_key("abc", hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(layout_and_modes)
{
    char *dir = tu_tmpdir(), *sub = tu_path(dir, "c"), *data, *path, *expect;
    const char hex[] = "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd";
    pe_err e = {0};
    cache *c = cache_open(sub, CACHE_RW, &e);
    cache_stats st;
    size_t len;

    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(cache_get(c, hex, &data, &len), 0);
    ck_assert_int_eq(cache_put(c, hex, "{\"x\":1}", 7, &e), 0);
    expect = xasprintf("%s/ab/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd.json",
                       sub);
    path = cache_path(c, hex);
    ck_assert_str_eq(path, expect);
    ck_assert(tu_exists(expect));
    ck_assert_int_eq(cache_get(c, hex, &data, &len), 1);
    ck_assert_str_eq(data, "{\"x\":1}");
    free(data);
    cache_get_stats(c, &st);
    ck_assert_uint_eq(st.hits, 1);
    ck_assert_uint_eq(st.misses, 1);
    ck_assert_uint_eq(st.writes, 1);
    ck_assert_uint_eq(st.bytes_written, 7);
    ck_assert_uint_eq(st.bytes_read, 7);
    cache_close(c);
    /* no temporary files left behind */
    {
        char *out = NULL;
        tu_sh(&out, NULL, "find '%s' -name '*.tmp.*' | wc -l", sub);
        ck_assert_int_eq(atoi(out), 0);
        free(out);
    }

    c = cache_open(sub, CACHE_RO, &e);
    ck_assert_int_eq(cache_get(c, hex, &data, &len), 1);
    free(data);
    ck_assert_int_eq(cache_put(c, "cd00", "{}", 2, &e), 0);
    {
        char *p2 = cache_path(c, "cd00");
        ck_assert(!tu_exists(p2)); /* read-only: nothing stored */
        free(p2);
    }
    cache_close(c);

    c = cache_open(sub, CACHE_OFF, &e);
    ck_assert_int_eq(cache_get(c, hex, &data, &len), 0);
    cache_close(c);

    ck_assert_int_eq(cache_mode_parse("ro"), CACHE_RO);
    ck_assert_int_eq(cache_mode_parse("offline"), CACHE_OFFLINE);
    ck_assert_int_eq(cache_mode_parse("rw"), CACHE_RW);
    ck_assert_int_eq(cache_mode_parse("write"), -1);
    free(path);
    free(expect);
    free(sub);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(checksum_and_private_modes)
{
    char *dir = tu_tmpdir(), *sub = tu_path(dir, "c"), *data, *path, *raw, *flip;
    const char hex[] = "cd0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd";
    const char body[] = "{\"choices\":[{\"message\":{\"content\":\"comedy\"}}]}";
    char sum[65], *want;
    pe_err e = {0};
    cache *c;
    cache_stats st;
    struct stat sb;
    size_t len;
    mode_t old = umask(022);

    c = cache_open(sub, CACHE_RW, &e);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(cache_put(c, hex, body, strlen(body), &e), 0);
    path = cache_path(c, hex);
    /* the entry: a header line with the SHA-256 of the content, then the content */
    sha256_hex(body, strlen(body), sum);
    want = xasprintf("pe-cache-2 sha256=%s\n%s", sum, body);
    raw = tu_read(path);
    ck_assert_str_eq(raw, want);
    /* private under umask 022: folders 0700, entries 0600 */
    ck_assert_int_eq(stat(sub, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0700);
    {
        char *shard = tu_path(sub, "cd");
        ck_assert_int_eq(stat(shard, &sb), 0);
        ck_assert_int_eq(sb.st_mode & 0777, 0700);
        free(shard);
    }
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    /* one flipped byte in the answer ("comedz"), still valid JSON: a miss, counted */
    flip = xstrdup(raw);
    *strstr(flip, "comedy") = 'C';
    tu_write(path, flip);
    ck_assert_int_eq(cache_get(c, hex, &data, &len), 0);
    ck_assert_ptr_null(data);
    /* an entry of the old format (no header) is a miss too */
    tu_write(path, body);
    ck_assert_int_eq(cache_get(c, hex, &data, &len), 0);
    cache_get_stats(c, &st);
    ck_assert_uint_eq(st.corrupt, 2);
    ck_assert_uint_eq(st.misses, 2);
    ck_assert_uint_eq(st.hits, 0);
    cache_close(c);
    umask(old);
    free(flip);
    free(raw);
    free(want);
    free(path);
    free(sub);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(default_dir)
{
    char *d;
    setenv("XDG_CACHE_HOME", "/x/cache", 1);
    d = cache_default_dir();
    ck_assert_str_eq(d, "/x/cache/persona-eval");
    free(d);
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    d = cache_default_dir();
    ck_assert_str_eq(d, "/home/u/.cache/persona-eval");
    free(d);
}
END_TEST

static cache *shared;

static void *writer(void *p)
{
    (void)p;
    for (int i = 0; i < 50; i++) {
        char hex[65];
        char body[32];
        int n = snprintf(body, sizeof body, "{\"i\":%d}", i % 10);
        cache_key(body, hex);
        cache_put(shared, hex, body, (size_t)n, NULL);
    }
    return NULL;
}

START_TEST(concurrent_writers_same_keys)
{
    char *dir = tu_tmpdir(), *out = NULL;
    pthread_t th[4];
    pe_err e = {0};
    shared = cache_open(dir, CACHE_RW, &e);
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, writer, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 10; i++) {
        char hex[65], body[32], *data;
        size_t len;
        snprintf(body, sizeof body, "{\"i\":%d}", i);
        cache_key(body, hex);
        ck_assert_int_eq(cache_get(shared, hex, &data, &len), 1);
        ck_assert_str_eq(data, body);
        free(data);
    }
    tu_sh(&out, NULL, "find '%s' -type f | wc -l", dir);
    ck_assert_int_eq(atoi(out), 10);
    free(out);
    cache_close(shared);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, canonical_sorted_compact);
    tcase_add_test(tc, known_sha256);
    tcase_add_test(tc, layout_and_modes);
    tcase_add_test(tc, default_dir);
    tcase_add_test(tc, checksum_and_private_modes);
    tcase_add_test(tc, concurrent_writers_same_keys);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
