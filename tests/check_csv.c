/* csv: the writer keeps every row as wide as its header (missing values and
 * non-finite numbers are empty fields), quotes only what RFC 4180 requires,
 * and the reader gives back what the writer wrote; the SVG kit's escaping
 * cleans UTF-8 for standalone files as for pages. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "buf.h"
#include "csv.h"
#include "testutil.h"

START_TEST(writer_fixed_columns)
{
    buf b = BUF_INIT;
    csv_writer w;
    csv_begin(&w, &b);
    csv_str(&w, "a");
    csv_str(&w, "b");
    csv_str(&w, "c");
    csv_str(&w, "d");
    csv_end_row(&w);
    csv_str(&w, "x,y");
    csv_num(&w, NAN);
    csv_num(&w, INFINITY);
    csv_num(&w, 0.25);
    csv_end_row(&w);
    csv_str(&w, "say \"hi\"\nthere");
    csv_end_row(&w); /* a short row is padded */
    csv_long(&w, -3);
    csv_size(&w, 7);
    csv_empty(&w, 1);
    csv_str(&w, NULL);
    csv_end_row(&w);
    ck_assert_str_eq(buf_str(&b), "a,b,c,d\n"
                                  "\"x,y\",,,0.25\n"
                                  "\"say \"\"hi\"\"\nthere\",,,\n"
                                  "-3,7,,\n");
    buf_free(&b);
}
END_TEST

START_TEST(reader_round_trip)
{
    const char text[] = "a,b\r\n\"x,y\",\"q\"\"\n2\"\n\nlast,\n";
    csv_tab t;
    pe_err e = {0};
    ck_assert_int_eq(csv_parse("t.csv", text, strlen(text), &t, &e), 0);
    ck_assert_uint_eq(t.n, 3);
    ck_assert_uint_eq(t.r[1].n, 2);
    ck_assert_str_eq(t.r[1].f[0], "x,y");
    ck_assert_str_eq(t.r[1].f[1], "q\"\n2");
    ck_assert_str_eq(t.r[2].f[0], "last");
    ck_assert_str_eq(t.r[2].f[1], "");
    ck_assert_uint_eq(csv_column(&t, "b"), 1);
    ck_assert_uint_eq(csv_column(&t, "z"), (size_t)-1);
    csv_free(&t);
    ck_assert_int_eq(csv_parse("t.csv", "a\n\"b\n", 5, &t, &e), PE_EXIT_DATA);
    ck_assert_str_eq(e.msg, "t.csv:2: unterminated quoted field");
}
END_TEST

START_TEST(standalone_svg_escapes_utf8)
{
    /* a label with a stray byte and a control character in a standalone
     * heatmap file: replaced, as in the HTML pages */
    const char *labels[2] = {"a\xff<b>", "c\x01"};
    double m[4] = {1, 0.5, 0.5, 1};
    buf b = BUF_INIT;
    analysis_svg_heatmap(&b, "t & t", labels, 2, m);
    ck_assert_ptr_nonnull(strstr(buf_str(&b), "a\xef\xbf\xbd&lt;b&gt;"));
    ck_assert_ptr_nonnull(strstr(buf_str(&b), "c\xef\xbf\xbd"));
    ck_assert_ptr_nonnull(strstr(buf_str(&b), "aria-label=\"t &amp; t\""));
    ck_assert_ptr_null(strstr(buf_str(&b), "\xff"));
    buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, writer_fixed_columns);
    tcase_add_test(tc, reader_round_trip);
    tcase_add_test(tc, standalone_svg_escapes_utf8);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
