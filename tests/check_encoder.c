/* encoder: tokenizers, kind names and the pluggable dense backend (the
 * lexical kinds are tested in check_lexical.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "encoder.h"
#include "testutil.h"
#include "topk.h"
#include "util.h"

static void assert_tokens(encoder_tok mode, const char *text, const char *const *want, size_t n)
{
    char **t;
    size_t nt;
    pe_err e = {0};
    ck_assert_int_eq(encoder_tokenize(mode, text, &t, &nt, &e), 0);
    ck_assert_uint_eq(nt, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(t[i], want[i]);
    encoder_tokens_free(t, nt);
}

START_TEST(tokenize_lamp)
{
    /* Python: "Hi,\u00a0there\tyou  x\u3000y\x1cz\u2003w\u200bv\u0085u".split() */
    const char *w1[] = {"Hi,", "there", "you", "x", "y", "z", "w\xe2\x80\x8bv", "u"};
    const char *w2[] = {"don't", "STOP.", "\xc3\x89t\xc3\xa9"};
    assert_tokens(ENCODER_TOK_LAMP,
                  "  Hi,\xc2\xa0there\tyou  x\xe3\x80\x80y\x1cz\xe2\x80\x83w\xe2\x80\x8bv"
                  "\xc2\x85u\n",
                  w1, 8);
    assert_tokens(ENCODER_TOK_LAMP, "don't STOP. \xc3\x89t\xc3\xa9", w2, 3);
    assert_tokens(ENCODER_TOK_DEFAULT, " \t\r\n\v\f", NULL, 0);
    assert_tokens(ENCODER_TOK_LAMP, "", NULL, 0);
}
END_TEST

START_TEST(tokenize_words)
{
    /* Héllo, WORLD! Ça-va ŁÓDŹ ŸES İx don't 3×4 naïve½ */
    const char *w[] = {"h\xc3\xa9llo",         "world", "\xc3\xa7" "a", "va",
                       "\xc5\x82\xc3\xb3" "d\xc5\xba", "\xc3\xbf" "es", "ix", "don", "t",
                       "3",                    "4",     "na\xc3\xafve\xc2\xbd"};
    const char *w2[] = {"abc", "d\xc3\xa9" "f", "\xe6\x97\xa5\xe6\x9c\xac"};
    assert_tokens(ENCODER_TOK_WORDS,
                  "H\xc3\xa9llo, WORLD! \xc3\x87" "a-va \xc5\x81\xc3\x93" "D\xc5\xb9 \xc5\xb8" "ES "
                  "\xc4\xb0x don't 3\xc3\x97" "4 na\xc3\xafve\xc2\xbd",
                  w, 12);
    /* general punctuation (em dash, curly quotes) separates; CJK letters join */
    assert_tokens(ENCODER_TOK_WORDS,
                  "abc\xe2\x80\x94\xe2\x80\x9c" "D\xc3\x89"
                  "F\xe2\x80\x9d \xe6\x97\xa5\xe6\x9c\xac",
                  w2, 3);
}
END_TEST

START_TEST(invalid_utf8)
{
    static const struct {
        const char *text;
        size_t at;
    } bad[] = {
        {"abc\xff", 3},          {"ab\xc3", 2},           {"\xc0\xaf", 0},
        {"ok \xed\xa0\x80", 3},  {"x\xf4\x90\x80\x80", 1}, {"caf\xc3\xa9 \x80", 6},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int mode = ENCODER_TOK_LAMP; mode <= ENCODER_TOK_WORDS; mode++) {
            char **t = (char **)1, want[64];
            size_t nt;
            pe_err e = {0};
            ck_assert_int_eq(encoder_tokenize((encoder_tok)mode, bad[i].text, &t, &nt, &e),
                             PE_EXIT_DATA);
            ck_assert_ptr_null(t);
            snprintf(want, sizeof want, "byte %zu", bad[i].at);
            ck_assert_msg(strstr(e.msg, want), "%s: want %s", e.msg, want);
        }
    }
}
END_TEST

static int fake_backend(void *ctx, const char *const *texts, size_t n, float *out, size_t d,
                        pe_err *e)
{
    int *calls = ctx;
    (*calls)++;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(texts[i], "fail") == 0)
            return pe_errf(e, PE_EXIT_UNAVAILABLE, "backend refused");
        for (size_t j = 0; j < d; j++)
            out[i * d + j] = (float)(strlen(texts[i]) + j);
    }
    return 0;
}

START_TEST(backend_plugs_in)
{
    int calls = 0;
    encoder_opts o = {.kind = ENCODER_BACKEND, .dim = 3, .backend = fake_backend,
                      .backend_ctx = &calls};
    const char *t[] = {"ab", "abcd"}, *f[] = {"fail"};
    float v[6];
    encoder *enc;
    encoder_kind k;
    pe_err e = {0};

    ck_assert_int_eq(encoder_fit(&o, t, 2, &enc, &e), 0);
    ck_assert_uint_eq(encoder_dim(enc), 3);
    ck_assert_int_eq(encoder_encode_docs(enc, t, 2, v, &e), 0);
    ck_assert_float_eq(v[0], 2);
    ck_assert_float_eq(v[5], 6);
    ck_assert_int_eq(encoder_encode_queries(enc, f, 1, v, &e), PE_EXIT_UNAVAILABLE);
    ck_assert_int_eq(calls, 2);
    encoder_free(enc);
    o.dim = 0; /* a backend needs its dimension */
    ck_assert_int_eq(encoder_fit(&o, t, 2, &enc, &e), PE_EXIT_USAGE);
    o.dim = 3;
    o.backend = NULL;
    ck_assert_int_eq(encoder_fit(&o, t, 2, &enc, &e), PE_EXIT_USAGE);
    o.kind = ENCODER_BM25; /* lexical kinds have no vectors */
    ck_assert_int_eq(encoder_fit(&o, t, 2, &enc, &e), PE_EXIT_USAGE);
    ck_assert(encoder_kind_lexical(ENCODER_TFIDF) && !encoder_kind_lexical(ENCODER_BACKEND));
    ck_assert_int_eq(encoder_kind_parse("http", &k), 0);
    ck_assert_int_eq(k, ENCODER_BACKEND);
    ck_assert_int_eq(encoder_kind_parse("bm26", &k), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("encoder");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tokenize_lamp);
    tcase_add_test(tc, tokenize_words);
    tcase_add_test(tc, invalid_utf8);
    tcase_add_test(tc, backend_plugs_in);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
