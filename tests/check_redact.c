/* redact: planted secrets and credential-shaped tokens never survive. */
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "testutil.h"

static void eq(const char *in, const char *want)
{
    char *got = redact(in);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(registered_secrets)
{
    redact_clear();
    redact_add("k3y-planted-0001");
    redact_add_header("X-Api-Token: tok-planted-0002");
    redact_add_header("Authorization: Bearer abc.planted.0003");
    redact_add_url("http://alice:pw-planted-0004@127.0.0.1:9/v1");
    redact_add("abc"); /* too short: ordinary text stays */
    eq("key k3y-planted-0001 twice k3y-planted-0001", "key *** twice ***");
    eq("header tok-planted-0002.", "header ***.");
    eq("token abc.planted.0003 alone", "token *** alone");
    eq("pw-planted-0004 and alice:pw-planted-0004", "*** and ***");
    eq("abc", "abc");
    redact_clear();
    eq("k3y-planted-0001", "k3y-planted-0001");
}
END_TEST

START_TEST(credential_shapes)
{
    redact_clear();
    eq("Authorization: Bearer xyz-123_ab.c/d=", "Authorization: Bearer ***");
    eq("bearer   T0KEN rest", "bearer   *** rest");
    eq("Authorization: Basic YWxpY2U6cHc=", "Authorization: Basic ***");
    eq("bad key: sk-proj-ABCdef123456789 given", "bad key: sk-*** given");
    eq("sk-short", "sk-short");                 /* fewer than 8 token characters */
    eq("task-abcdefghijkl", "task-abcdefghijkl"); /* not at a word boundary */
    eq("GET http://u:p@h:1/v1/x failed", "GET http://***@h:1/v1/x failed");
    eq("https://host/v1?a=b@c", "https://host/v1?a=b@c"); /* no userinfo */
    eq("a Bearer's word", "a Bearer's word");
    eq("", "");
    ck_assert_ptr_null(redact(NULL));
}
END_TEST

START_TEST(in_place_and_urls)
{
    char buf[16] = "Bearer aaaaaaaa";
    pe_err e = {0};
    char *u;
    redact_clear();
    redact_inplace(buf, sizeof buf);
    ck_assert_str_eq(buf, "Bearer ***");
    redact_add("zz-secret-zz");
    pe_errf(&e, PE_EXIT_RUNERRORS, "HTTP 401: zz-secret-zz");
    redact_err(&e);
    ck_assert_str_eq(e.msg, "HTTP 401: ***");
    u = redact_url("http://user:pass@host:8000/v1");
    ck_assert_str_eq(u, "http://host:8000/v1");
    free(u);
    u = redact_url("http://host/v1");
    ck_assert_str_eq(u, "http://host/v1");
    free(u);
    redact_clear();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redact");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, registered_secrets);
    tcase_add_test(tc, credential_shapes);
    tcase_add_test(tc, in_place_and_urls);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
