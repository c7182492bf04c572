/* util and buf: hashing against published vectors, float parsing like Python,
 * atomic writes, capped buffers, JSON and CSV escaping. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "rng.h"
#include "testutil.h"
#include "util.h"

START_TEST(sha256_vectors)
{
    char hex[65];
    /* FIPS 180-4 examples */
    sha256_hex("abc", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256_hex("", 0, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    {
        const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        sha256_hex(m, strlen(m), hex);
        ck_assert_str_eq(hex,
                         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    }
    {
        /* one million 'a', fed in uneven pieces */
        sha256_ctx c;
        uint8_t d[32];
        char *a = malloc(1000000);
        memset(a, 'a', 1000000);
        sha256_init(&c);
        sha256_update(&c, a, 1);
        sha256_update(&c, a + 1, 62);
        sha256_update(&c, a + 63, 1000000 - 63);
        sha256_final(&c, d);
        pe_hex(d, 32, hex);
        ck_assert_str_eq(hex,
                         "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        free(a);
    }
}
END_TEST

START_TEST(pyfloat)
{
    /* accepted by Python float() */
    static const struct { const char *s; double v; } ok[] = {
        {"4", 4}, {" 4 ", 4}, {"4.0", 4}, {"3.5", 3.5}, {"7", 7}, {"1e0", 1},
        {"+3", 3}, {"-2.5", -2.5}, {"1_0", 10}, {".5", 0.5}, {"5.", 5}, {"\t2\n", 2},
        {"1E2", 100},
    };
    static const char *bad[] = {"", " ", "four", "4 stars", "0x10", "1__0", "_1", "1_",
                                "4,0", "1e", "--1", "[4]", "4.0.0"};
    double v;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_msg(pe_parse_pyfloat(ok[i].s, &v), "rejected '%s'", ok[i].s);
        ck_assert_double_eq(v, ok[i].v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!pe_parse_pyfloat(bad[i], &v), "accepted '%s'", bad[i]);
    ck_assert(pe_parse_pyfloat("inf", &v) && isinf(v) && v > 0);
    ck_assert(pe_parse_pyfloat("-Infinity", &v) && isinf(v) && v < 0);
    ck_assert(pe_parse_pyfloat("nan", &v) && isnan(v));
}
END_TEST

START_TEST(fmt_double_shortest)
{
    char b[64];
    pe_fmt_double(b, sizeof b, 0.1);
    ck_assert_str_eq(b, "0.1");
    pe_fmt_double(b, sizeof b, 1.0 / 3.0);
    ck_assert_str_eq(b, "0.3333333333333333"); /* Python repr(1/3) */
    pe_fmt_double(b, sizeof b, 2.0);
    ck_assert_str_eq(b, "2.0");
    pe_fmt_double(b, sizeof b, 0.1 + 0.2);
    ck_assert_str_eq(b, "0.30000000000000004");
}
END_TEST

/* The shortest form, found the naive way: each precision in turn. */
static void fmt_naive(char *out, size_t n, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    if (!strpbrk(out, ".eEn"))
        strcat(out, ".0");
}

/* pe_fmt_double equals the naive search on random bit patterns, decimals of
 * few digits, integers, powers of ten, subnormals and the extremes. */
START_TEST(fmt_double_equals_naive_search)
{
    const double fixed[] = {0.0, -0.0, 1.0, -1.0, 100.0, 1e5, 1e16, 1e17, 1e21, 1e22, 123456789.0,
                            0.001, 1e-5, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                            0.1, 0.2, 0.3, 1.0 / 3.0, 2.0 / 3.0, 9007199254740993.0};
    char want[64], got[64];
    pe_rng r;
    pe_rng_seed(&r, 7);
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        fmt_naive(want, sizeof want, fixed[i]);
        pe_fmt_double(got, sizeof got, fixed[i]);
        ck_assert_str_eq(got, want);
    }
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = pe_rng_next(&r);
        double v;
        switch (i % 4) {
        case 0: /* any finite double */
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v))
                continue;
            break;
        case 1: /* a decimal of a few digits, as costs and metrics are */
            v = (double)(bits % 100000) / pow(10, (double)((bits >> 40) % 9));
            break;
        case 2: /* a ratio, as accuracies are */
            v = (double)(bits % 1000) / (double)(1 + (bits >> 32) % 999);
            break;
        default: /* an integer, or a subnormal */
            v = (bits & 1) ? (double)(bits >> 11) : (double)(bits >> 12) * 5e-324;
            break;
        }
        fmt_naive(want, sizeof want, v);
        pe_fmt_double(got, sizeof got, v);
        ck_assert_msg(strcmp(got, want) == 0, "%.17g: \"%s\", naive \"%s\"", v, got, want);
    }
}
END_TEST

START_TEST(strip_like_python)
{
    char *s = pe_strip("  \t comedy \n");
    ck_assert_str_eq(s, "comedy");
    free(s);
    s = pe_strip("   ");
    ck_assert_str_eq(s, "");
    free(s);
    /* Unicode whitespace too: U+00A0, U+3000, U+2003 (Python str.isspace) */
    s = pe_strip("\xc2\xa0\xe3\x80\x80" "action" "\xe2\x80\x83\n");
    ck_assert_str_eq(s, "action");
    free(s);
    s = pe_strip("caf\xc3\xa9"); /* a non-space multibyte character stays */
    ck_assert_str_eq(s, "caf\xc3\xa9");
    free(s);
}
END_TEST

START_TEST(utf8)
{
    size_t off;
    ck_assert(pe_utf8_valid("caf\xc3\xa9", 5, &off));
    ck_assert(!pe_utf8_valid("ab\xff" "c", 4, &off));
    ck_assert_uint_eq(off, 2);
    ck_assert(!pe_utf8_valid("ab\xc3", 3, &off)); /* truncated sequence */
    ck_assert_uint_eq(off, 2);
    ck_assert(!pe_utf8_valid("\xed\xa0\x80", 3, &off)); /* surrogate */
    ck_assert(!pe_utf8_valid("\xc0\xaf", 2, &off));     /* overlong */
    ck_assert(pe_utf8_valid("\xf0\x9f\x98\x80", 4, &off));
}
END_TEST

START_TEST(buffer_cap)
{
    buf b;
    buf_init(&b, 8);
    ck_assert_int_eq(buf_adds(&b, "12345"), 0);
    ck_assert_int_eq(buf_adds(&b, "678"), 0);
    ck_assert_str_eq(buf_str(&b), "12345678");
    ck_assert_int_eq(buf_adds(&b, "9"), -1);
    ck_assert_uint_eq(b.len, 0); /* emptied on failure */
    ck_assert_str_eq(buf_str(&b), "");
    buf_free(&b);
}
END_TEST

START_TEST(buffer_escapes)
{
    buf b = BUF_INIT;
    buf_json_str(&b, "a\"b\\c\n\x01");
    ck_assert_str_eq(buf_str(&b), "\"a\\\"b\\\\c\\n\\u0001\"");
    buf_reset(&b);
    buf_csv_field(&b, "plain");
    buf_addc(&b, ',');
    buf_csv_field(&b, "with, comma and \"quote\"");
    ck_assert_str_eq(buf_str(&b), "plain,\"with, comma and \"\"quote\"\"\"");
    buf_free(&b);
}
END_TEST

START_TEST(atomic_write)
{
    char *dir = tu_tmpdir(), *p = tu_path(dir, "a/b/out.txt"), *d2 = tu_path(dir, "a/b");
    pe_err e = {0};
    ck_assert_int_eq(pe_mkdirs(d2, &e), 0);
    ck_assert_int_eq(pe_write_atomic(p, "hello", 5, &e), 0);
    {
        char *got = tu_read(p);
        ck_assert_str_eq(got, "hello");
        free(got);
    }
    /* no temporary file is left behind */
    {
        char *out;
        tu_sh(&out, NULL, "ls '%s' | wc -l", d2);
        ck_assert_int_eq(atoi(out), 1);
        free(out);
    }
    ck_assert_int_eq(pe_write_atomic("/nonexistent-dir/x", "x", 1, &e), PE_EXIT_IO);
    ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent-dir/x"));
    tu_rmrf(dir);
    free(p);
    free(d2);
    free(dir);
}
END_TEST

START_TEST(rng_deterministic)
{
    pe_rng a, b;
    int counts[10] = {0};
    pe_rng_seed(&a, 42);
    pe_rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_eq(pe_rng_next(&a), pe_rng_next(&b));
    for (int i = 0; i < 100000; i++)
        counts[pe_rng_below(&a, 10)]++;
    for (int i = 0; i < 10; i++)
        ck_assert_msg(counts[i] > 9500 && counts[i] < 10500, "bucket %d: %d", i, counts[i]);
}
END_TEST

/* A noted signal interrupts until the next arm; the code follows the last
 * signal. (Check runs each test in its own process: the state starts clear.) */
START_TEST(interruption)
{
    pe_err e = {0};
    ck_assert_int_eq(pe_interrupted(&e, "x"), 0);
    pe_signal_note(SIGINT);
    ck_assert_int_eq(pe_interrupted(&e, "loading"), PE_EXIT_SIGINT);
    ck_assert_str_eq(e.msg, "interrupted by SIGINT while loading");
    pe_signal_note(SIGTERM);
    ck_assert_int_eq(pe_interrupted(NULL, NULL), PE_EXIT_SIGTERM);
    pe_interrupt_arm();
    ck_assert_int_eq(pe_interrupted(&e, "x"), 0);
    pe_signal_note(SIGTERM);
    ck_assert_int_eq(pe_interrupted(&e, "summing"), PE_EXIT_SIGTERM);
    ck_assert_str_eq(e.msg, "interrupted by SIGTERM while summing");
}
END_TEST

START_TEST(count_parsing)
{
    unsigned long long v = 99;
    pe_err e = {0};
    ck_assert_int_eq(pe_parse_count("--users", "12", 0, &v, &e), 0);
    ck_assert_uint_eq(v, 12);
    ck_assert_int_eq(pe_parse_count("--users", "18446744073709551615", 0, &v, &e), 0);
    ck_assert(v == 18446744073709551615ULL);
    v = 99;
    ck_assert_int_eq(pe_parse_count("--users", "-1", 0, &v, &e), PE_EXIT_USAGE);
    ck_assert_str_eq(e.msg, "--users: -1 is negative; expected a whole number >= 0");
    ck_assert_int_eq(pe_parse_count("--users", "", 0, &v, &e), PE_EXIT_USAGE);
    ck_assert_int_eq(pe_parse_count("--users", "3x", 0, &v, &e), PE_EXIT_USAGE);
    ck_assert_int_eq(pe_parse_count("--users", "18446744073709551616", 0, &v, &e),
                     PE_EXIT_USAGE);
    ck_assert_int_eq(pe_parse_count("-j", "0", 1, &v, &e), PE_EXIT_USAGE);
    ck_assert_str_eq(e.msg, "-j: must be at least 1");
    ck_assert_int_eq(pe_parse_count_max("--bootstrap", "11", 0, 10, &v, &e), PE_EXIT_USAGE);
    ck_assert_str_eq(e.msg, "--bootstrap: must be at most 10");
    ck_assert_uint_eq(v, 99); /* untouched on failure */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, sha256_vectors);
    tcase_add_test(tc, count_parsing);
    tcase_add_test(tc, interruption);
    tcase_add_test(tc, pyfloat);
    tcase_add_test(tc, fmt_double_shortest);
    tcase_add_test(tc, fmt_double_equals_naive_search);
    tcase_add_test(tc, strip_like_python);
    tcase_add_test(tc, utf8);
    tcase_add_test(tc, buffer_cap);
    tcase_add_test(tc, buffer_escapes);
    tcase_add_test(tc, atomic_write);
    tcase_add_test(tc, rng_deterministic);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
