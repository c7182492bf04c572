/* html: escaping, the run page built from fixture files (table cells, charts,
 * token totals, settings, raw-file links), optional files missing or present
 * (sweep charts, persona heatmap), and the comparison page's tables and links. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "charts.h"
#include "html_compare.h"
#include "html_run.h"
#include "svg.h"
#include "testutil.h"

#define DASH "\xe2\x80\x94"

static char *esc(const char *s)
{
    buf b = BUF_INIT;
    svg_escape(&b, s);
    return buf_detach(&b);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The inner HTML of the <td> cells of the row that opens with row_attr
 * (e.g. data-method="rag"), inside the table whose id is table_id. */
static size_t row_cells(const char *html, const char *table_id, const char *row_attr,
                        char cells[][128], size_t max)
{
    char *tid = xasprintf("id=\"%s\"", table_id);
    const char *t = strstr(html, tid), *end, *r, *row_end;
    size_t n = 0;
    free(tid);
    ck_assert_msg(t != NULL, "table %s missing", table_id);
    end = strstr(t, "</table>");
    r = strstr(t, row_attr);
    ck_assert_msg(r != NULL && r < end, "row %s missing", row_attr);
    row_end = strstr(r, "</tr>");
    for (const char *c = strstr(r, "<td"); c && c < row_end && n < max;
         c = strstr(c + 1, "<td")) {
        const char *open = strchr(c, '>') + 1, *close = strstr(open, "</td>");
        size_t len = (size_t)(close - open);
        ck_assert_uint_lt(len, 128);
        memcpy(cells[n], open, len);
        cells[n++][len] = '\0';
    }
    return n;
}

/* Every string of the NULL-ended list needles is in hay. */
static void has_all(const char *hay, const char *const *needles)
{
    for (; *needles; needles++)
        ck_assert_msg(strstr(hay, *needles) != NULL, "missing: %s", *needles);
}

/* cells[0..n) hold exactly the n strings of want. */
static void cells_are(char cells[][128], size_t n, const char *const *want)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strcmp(cells[i], want[i]) == 0, "cell %zu: \"%s\", want \"%s\"", i,
                      cells[i], want[i]);
}

static const char summary_lamp2m[] =
    "{\"task\":\"lamp2m\",\"incomplete\":false,\"n_users\":3,\"bootstrap\":{\"B\":100,"
    "\"seed\":7},\"methods\":["
    "{\"method\":\"knn <b>&\\\"x\\\"\",\"n\":12,\"users\":3,\"invalid\":1,\"errors\":2,"
    "\"accuracy\":0.25,\"f1\":0.123456,\"ci\":{\"accuracy\":[0.1,0.4],\"f1\":[null,null]}},"
    "{\"method\":\"rag\",\"n\":12,\"users\":3,\"invalid\":0,\"errors\":0,\"accuracy\":0.5,"
    "\"f1\":0.3,\"ci\":{\"accuracy\":[0.2,0.75],\"f1\":[0.1,0.45]}}]}\n";

static const char summary_lamp3[] =
    "{\"task\":\"lamp3\",\"n_users\":2,\"methods\":[{\"method\":\"majority\",\"n\":5,"
    "\"users\":2,\"invalid\":0,\"errors\":0,\"MAE\":0.8,\"RMSE\":1.25,"
    "\"ci\":{\"MAE\":[0.5,1.5],\"RMSE\":[1,2]}}]}\n";

static char *fixture_run(const char *parent, const char *name, const char *summary)
{
    char *dir = tu_path(parent, name), *p;
    tu_sh(NULL, NULL, "mkdir -p '%s'", dir);
    p = tu_path(dir, "summary.json");
    tu_write(p, summary);
    free(p);
    return dir;
}

static char *write_and_read(const char *dir)
{
    pe_err e = {0};
    char *p = tu_path(dir, "report.html"), *html;
    ck_assert_msg(html_write_run(dir, &e) == 0, "%s", e.msg);
    html = tu_read(p);
    free(p);
    return html;
}

START_TEST(escaping)
{
    char *s = esc("<a href=\"x\">Tom & Jerry's</a>");
    ck_assert_str_eq(s, "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
    free(s);
    /* valid UTF-8 passes, a stray byte, a cut sequence and a control become U+FFFD */
    s = esc("caf\xc3\xa9 \xff|\x01|\xe2\x82");
    ck_assert_str_eq(s, "caf\xc3\xa9 \xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd");
    free(s);
    s = esc("tab\tand\nnewline");
    ck_assert_str_eq(s, "tab\tand\nnewline");
    free(s);
}
END_TEST

START_TEST(run_page)
{
    char *tmp = tu_tmpdir(), *dir = fixture_run(tmp, "run<1>", summary_lamp2m), *p, *html;
    char cells[16][128];
    size_t n;
    DIR *d;
    struct dirent *de;

    p = tu_path(dir, "users.csv");
    tu_write(p, "method,user,n,invalid,errors,accuracy,f1\r\n"
                "rag,\"u,1\",4,0,0,0.5,0.3\r\n"
                "rag,u2,4,0,0,0.25,0.2\r\n"
                "rag,u3,4,0,4,,\r\n"
                "\"knn <b>&\"\"x\"\"\",u2,4,0,0,1,1\r\n");
    free(p);
    p = tu_path(dir, "run.json");
    tu_write(p, "{\"task\":\"lamp2m\",\"methods\":[\"knn\",\"rag\"],\"started\":"
                "\"2026-01-01T00:00:00Z\",\"settings\":{\"k\":4,\"note\":\"<i>\"},"
                "\"data\":[{\"path\":\"data/a&b.jsonl\",\"format\":\"jsonl\",\"sha256\":"
                "\"abc123\"}],\"stats\":{\"calls\":1234567,\"completion_tokens\":null,"
                "\"cost_usd\":0.5},\"command\":[\"persona-eval\",\"--out\",\"my dir\"]}");
    free(p);
    html = write_and_read(dir);

    /* the summary table holds summary.json's numbers, 3 decimals, intervals in brackets */
    n = row_cells(html, "summary-table", "data-method=\"knn &lt;b&gt;&amp;&quot;x&quot;\"",
                  cells, 16);
    ck_assert_uint_eq(n, 9);
    ck_assert_str_eq(cells[0], "knn &lt;b&gt;&amp;&quot;x&quot;");
    ck_assert_str_eq(cells[1], "12");
    ck_assert_str_eq(cells[2], "3");
    ck_assert_str_eq(cells[3], "0.250");
    ck_assert_str_eq(cells[4], "[0.100, 0.400]");
    ck_assert_str_eq(cells[5], "0.123");
    ck_assert_str_eq(cells[6], DASH); /* no interval */
    ck_assert_str_eq(cells[7], "1");
    ck_assert_str_eq(cells[8], "2");
    n = row_cells(html, "summary-table", "data-method=\"rag\"", cells, 16);
    ck_assert_uint_eq(n, 9);
    ck_assert_str_eq(cells[3], "0.500");
    ck_assert_str_eq(cells[4], "[0.200, 0.750]");
    ck_assert_str_eq(cells[5], "0.300");
    ck_assert_str_eq(cells[6], "[0.100, 0.450]");
    /* exact values ride along in attributes; the best method is marked */
    ck_assert_ptr_nonnull(strstr(html, "data-value=\"0.123456\""));
    ck_assert_ptr_nonnull(strstr(html, "class=\"num best\" data-metric=\"accuracy\" "
                                       "data-value=\"0.5\""));
    /* data is never markup */
    ck_assert_ptr_null(strstr(html, "<b>"));
    ck_assert_ptr_null(strstr(html, "<i>"));
    ck_assert_uint_eq(count(html, "<script"), 1); /* the page's own */
    ck_assert_ptr_nonnull(strstr(html, "<title>persona-eval lamp2m: run&lt;1&gt;</title>"));

    /* charts: two interval plots and the per-user distribution, one dot per scored user */
    ck_assert_uint_eq(count(html, "<svg "), 3);
    ck_assert_uint_eq(count(html, "class=\"intervals\""), 2);
    ck_assert_ptr_nonnull(strstr(html, "<title>u,1: 0.5000</title>"));
    ck_assert_ptr_nonnull(strstr(html, "<title>u2: 0.2500</title>"));
    ck_assert_ptr_nonnull(strstr(html, "<title>u2: 1.0000</title>"));
    ck_assert_uint_eq(count(html, "class=\"pt\""), 3);
    ck_assert_ptr_nonnull(strstr(html, "rag: median 0.375,"));
    ck_assert_ptr_nonnull(strstr(html, "range 0.250\xe2\x80\x93" "0.500"));
    ck_assert_ptr_nonnull(strstr(html, "rag: 1 user(s) without a scored query"));

    /* totals from run.json "stats": grouped digits, dashes where not reported */
    n = row_cells(html, "cost-table", "class=\"total\"", cells, 16);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(cells[0], "1,234,567");
    ck_assert_str_eq(cells[1], DASH);
    ck_assert_str_eq(cells[2], DASH);
    ck_assert_str_eq(cells[3], "$0.5000");
    ck_assert_ptr_nonnull(strstr(html, "Per-method usage unavailable"));

    /* settings, data files and the command line, escaped */
    ck_assert_ptr_nonnull(strstr(html, "<th>note</th><td>&lt;i&gt;</td>"));
    ck_assert_ptr_nonnull(strstr(html, "data/a&amp;b.jsonl"));
    ck_assert_ptr_nonnull(strstr(html, "abc123"));
    ck_assert_ptr_nonnull(strstr(html, "persona-eval --out &#39;my dir&#39;</pre>"));
    ck_assert_ptr_nonnull(strstr(html, "<th>bootstrap seed</th><td>7</td>"));

    /* links only to files that exist; no optional section without its file */
    ck_assert_ptr_nonnull(strstr(html, "<a href=\"summary.json\">"));
    ck_assert_ptr_nonnull(strstr(html, "<a href=\"users.csv\">"));
    ck_assert_ptr_nonnull(strstr(html, "<a href=\"run.json\">"));
    ck_assert_ptr_null(strstr(html, "<a href=\"predictions.jsonl\">"));
    ck_assert_ptr_null(strstr(html, "id=\"sweep\""));
    ck_assert_ptr_null(strstr(html, "id=\"personas\""));
    /* self-contained: one inline script, which loads nothing */
    ck_assert_uint_eq(count(html, "<script>"), 1);
    ck_assert_ptr_null(strstr(html, "fetch("));
    ck_assert_ptr_null(strstr(html, "XMLHttpRequest"));
    ck_assert_ptr_null(strstr(html, "<link"));
    ck_assert_ptr_null(strstr(html, "src="));
    ck_assert_ptr_nonnull(strstr(html, "</html>\n"));

    /* written atomically: nothing but the page was added */
    d = opendir(dir);
    n = 0;
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    ck_assert_uint_eq(n, 4);
    free(html);
    free(dir);
    tu_rmrf(tmp);
    free(tmp);
}
END_TEST

START_TEST(only_summary)
{
    char *tmp = tu_tmpdir(), *dir = fixture_run(tmp, "bare", summary_lamp3), *html, *p;
    pe_err e = {0};
    char cells[16][128];

    html = write_and_read(dir);
    ck_assert_uint_eq(row_cells(html, "summary-table", "data-method=\"majority\"", cells, 16), 9);
    ck_assert_str_eq(cells[3], "0.800");
    ck_assert_str_eq(cells[4], "[0.500, 1.500]");
    ck_assert_str_eq(cells[5], "1.250");
    ck_assert_str_eq(cells[6], "[1.000, 2.000]");
    ck_assert_ptr_nonnull(strstr(html, "MAE \xe2\x86\x93</th>"));
    ck_assert_ptr_nonnull(strstr(html, "No per-user results:"));
    ck_assert_ptr_nonnull(strstr(html, "Settings unknown:"));
    ck_assert_ptr_nonnull(strstr(html, "Totals unknown"));
    ck_assert_ptr_null(strstr(html, "<a href=\"users.csv\">"));
    free(html);

    /* without summary.json there is no page */
    p = tu_path(dir, "summary.json");
    remove(p);
    free(p);
    p = tu_path(dir, "report.html");
    remove(p);
    ck_assert_int_eq(html_write_run(dir, &e), PE_EXIT_NOINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "summary.json"));
    ck_assert(!tu_exists(p));
    free(p);
    free(dir);
    tu_rmrf(tmp);
    free(tmp);
}
END_TEST

START_TEST(sweep_and_heatmap)
{
    char *tmp = tu_tmpdir(), *dir = fixture_run(tmp, "sw", summary_lamp2m), *p, *html;
    const char *sec;

    p = tu_path(dir, "sweep.csv");
    tu_write(p, "param,value,method,accuracy,f1\n"
                "k,4,a,0.5,0.4\n"
                "k,1,a,0.3,0.2\n"
                "k,2,b,0.6,0.5\n"
                "k,1,b,0.55,0.45\n"
                "temp,low,a,0.1,0.1\n");
    free(p);
    p = tu_path(dir, "personas_jaccard.csv");
    tu_write(p, ",u1,u<2\nu1,1,0.5\nu<2,0.5,0\n");
    free(p);
    html = write_and_read(dir);

    sec = strstr(html, "id=\"sweep\"");
    ck_assert_ptr_nonnull(sec);
    ck_assert_ptr_nonnull(strstr(sec, "aria-label=\"accuracy vs k\""));
    ck_assert_ptr_nonnull(strstr(sec, "aria-label=\"f1 vs k\""));
    ck_assert_ptr_nonnull(strstr(sec, "aria-label=\"accuracy vs temp\""));
    /* one point per (value, method) row and metric: 4 for k and 1 for temp, twice */
    ck_assert_uint_eq(count(sec, "<circle"), 10);
    ck_assert_ptr_nonnull(strstr(sec, "<title>a, k = 1: 0.3000</title>"));
    ck_assert_ptr_nonnull(strstr(sec, "<title>b, k = 2: 0.6000</title>"));
    ck_assert_ptr_nonnull(strstr(sec, "<title>b, k = 2: 0.5000</title>"));
    /* numeric values in ascending order: a's line goes k=1 (0.3) then k=4 (0.5) */
    ck_assert(strstr(sec, "a, k = 1: 0.3000") < strstr(sec, "a, k = 4: 0.5000"));

    sec = strstr(html, "id=\"personas\"");
    ck_assert_ptr_nonnull(sec);
    ck_assert_uint_eq(count(sec, "<rect x="), 4 + 1 /* colour legend */);
    /* ramp ends: 1 is the darkest blue, 0 near-white, 0.5 the middle stop */
    ck_assert_ptr_nonnull(strstr(sec, "fill=\"rgb(8,48,107)\"><title>u1 \xc3\x97 u1: 1.000"));
    ck_assert_ptr_nonnull(strstr(sec, "fill=\"rgb(107,174,214)\"><title>u1 \xc3\x97 u&lt;2: "
                                      "0.500"));
    ck_assert_ptr_nonnull(strstr(sec, "fill=\"rgb(247,251,255)\"><title>u&lt;2 \xc3\x97 u&lt;2: "
                                      "0.000"));
    ck_assert_ptr_nonnull(strstr(html, "<a href=\"sweep.csv\">"));
    ck_assert_ptr_nonnull(strstr(html, "<a href=\"personas_jaccard.csv\">"));
    free(html);

    /* a matrix that is not square is reported, not drawn */
    p = tu_path(dir, "personas_jaccard.csv");
    tu_write(p, "x,a,b\na,1\n");
    free(p);
    p = tu_path(dir, "sweep.csv");
    tu_write(p, "param,value,method,accuracy\nk,\"1\n");
    free(p);
    html = write_and_read(dir);
    ck_assert_ptr_nonnull(strstr(html, "not a square matrix"));
    ck_assert_ptr_nonnull(strstr(html, "sweep.csv:2: unterminated quoted field"));
    ck_assert_ptr_null(strstr(html, "class=\"heatmap\""));
    free(html);
    free(dir);
    tu_rmrf(tmp);
    free(tmp);
}
END_TEST

/* The text of the <details> element of user index k. */
static char *details_of(const char *html, size_t k)
{
    char *id = xasprintf("<details class=\"user\" id=\"user-%zu\">", k);
    const char *s = strstr(html, id), *end;
    free(id);
    ck_assert_msg(s != NULL, "details of user %zu missing", k);
    end = strstr(s, "</details>");
    return xstrndup(s, (size_t)(end - s));
}

START_TEST(users_section)
{
    char *tmp = tu_tmpdir(), *dir = fixture_run(tmp, "users", summary_lamp2m), *p, *html, *u1;
    char *data = tu_path(tmp, "data.jsonl"), *run;
    char cells[16][128];
    const char *sec;

    tu_write(data, "{\"user\":\"u1\",\"task\":\"lamp2m\",\"history\":[{\"id\":\"u1-h0\","
                   "\"description\":\"old film\",\"label\":\"comedy\"}],\"queries\":[{\"id\":"
                   "\"u1-q0\",\"input\":\"Which tag for <the> film about a heist?\",\"gold\":"
                   "\"comedy\"}]}\n"
                   "{\"user\":\"u2\",\"task\":\"lamp2m\",\"history\":[{\"id\":\"u2-h0\","
                   "\"description\":\"x\",\"label\":\"drama\"}],\"queries\":[{\"id\":\"u2-q0\","
                   "\"input\":\"second input\",\"gold\":\"drama\"}]}\n");
    p = tu_path(dir, "run.json");
    run = xasprintf("{\"task\":\"lamp2m\",\"settings\":{\"users\":0,\"max_queries\":0,\"k\":0},"
                    "\"data\":[{\"path\":\"%s\",\"format\":\"jsonl\"}]}", data);
    tu_write(p, run);
    free(run);
    free(p);
    p = tu_path(dir, "users.csv");
    tu_write(p, "method,user,n,invalid,errors,accuracy,f1,calls,prompt_tokens,"
                "completion_tokens,tokens_unknown,cost_usd\n"
                "rag,u1,1,0,0,1.0,1.0,2,0,0,1,0.25\n"
                "rag,u2,1,0,1,,,1,0,0,1,0.5\n"
                "\"knn <b>&\"\"x\"\"\",u1,1,0,0,0.0,0.0,3,0,0,1,\n");
    free(p);
    p = tu_path(dir, "predictions.jsonl");
    tu_write(p, "{\"user\":\"u1\",\"id\":\"u1-q0\",\"method\":\"rag\",\"gold\":\"comedy\","
                "\"raw\":\"comedy\",\"pred\":\"comedy\",\"valid\":true,\"error\":null,"
                "\"calls\":2,\"latency_s\":0.1}\n"
                "{\"user\":\"u1\",\"id\":\"u1-q0\",\"method\":\"knn <b>&\\\"x\\\"\",\"gold\":"
                "\"comedy\",\"raw\":\"drama\",\"pred\":\"drama\",\"valid\":true,\"error\":null,"
                "\"calls\":3,\"latency_s\":0.1}\n"
                "{\"user\":\"u2\",\"id\":\"u2-q0\",\"method\":\"rag\",\"gold\":\"drama\","
                "\"raw\":null,\"pred\":null,\"valid\":false,\"error\":\"timeout <x>\","
                "\"calls\":1,\"latency_s\":0.1}\n");
    free(p);
    /* Jaccard by hand: finals {alpha beta gamma} and {alpha beta delta}: 2/4 = 0.5;
     * drift of u1: {alpha beta} vs {alpha beta gamma}: 1 - 2/3; of u2: 1 - 1 = 0 */
    p = tu_path(dir, "personas.jsonl");
    tu_write(p, "{\"user\":\"u1\",\"method\":\"personaagent\",\"turn\":0,\"initial\":"
                "\"Alpha beta\",\"alignment\":[{\"iteration\":1,\"items\":[{\"id\":\"u1-h0\","
                "\"feedback\":\"prefers gamma rays\",\"error\":null}],\"persona\":"
                "\"alpha beta gamma!\"}],\"final\":\"alpha, beta gamma\"}\n"
                "{\"user\":\"u2\",\"method\":\"personaagent\",\"turn\":0,\"initial\":"
                "\"alpha beta delta\",\"alignment\":[],\"final\":\"delta alpha beta\"}\n");
    free(p);
    p = tu_path(dir, "traces.jsonl");
    tu_write(p, "{\"user\":\"u1\",\"id\":\"u1-q0\",\"method\":\"rag\",\"phase\":\"query\","
                "\"steps\":[{\"step\":1,\"tool_calls\":[{\"name\":\"memory_search\",\"input\":"
                "\"heist films\"}],\"observations\":[\"1. old film -> comedy\"],"
                "\"content\":null},{\"step\":2,\"content\":\"comedy\"}]}\n");
    free(p);
    html = write_and_read(dir);

    /* one row per user; cells: user, n, each method's accuracy in the summary's
     * order (knn first), errors, calls and cost summed over the methods */
    ck_assert_uint_eq(row_cells(html, "user-table", "data-user=\"u1\"", cells, 16), 7);
    cells_are(cells, 7, (const char *[]){"<a href=\"#user-0\">u1</a>", "1", "0.000", "1.000",
                                         "0", "5", "$0.2500"});
    ck_assert_uint_eq(row_cells(html, "user-table", "data-user=\"u2\"", cells, 16), 7);
    cells_are(cells, 7, (const char *[]){"<a href=\"#user-1\">u2</a>", "1", DASH, DASH, "1",
                                         "1", "$0.5000"});
    /* full method names in the headings, escaped */
    ck_assert_ptr_nonnull(strstr(html, "<th class=\"num m\">knn &lt;b&gt;&amp;&quot;x&quot;<br>"));

    u1 = details_of(html, 0);
    /* the input from the data file, answers marked against the gold, the
     * persona's evolution and the trace */
    has_all(u1, (const char *[]){"<summary>u1</summary>",
                                 "Which tag for &lt;the&gt; film about a heist?",
                                 "<span class=\"ok\">comedy</span>",
                                 "<span class=\"no\">drama</span>", "Alpha beta</pre>",
                                 "prefers gamma rays", "alpha, beta gamma</pre>",
                                 "<code>memory_search(heist films)</code>",
                                 "1. old film -&gt; comedy", NULL});
    ck_assert_ptr_null(strstr(u1, "second input"));
    free(u1);
    u1 = details_of(html, 1);
    ck_assert_ptr_nonnull(strstr(u1, "second input"));
    ck_assert_ptr_nonnull(strstr(u1, "error: timeout &lt;x&gt;"));
    free(u1);

    sec = strstr(html, "<section id=\"personas\">");
    ck_assert_ptr_nonnull(sec);
    ck_assert_ptr_nonnull(strstr(sec, "id=\"persona-jaccard\">0.500<"));
    ck_assert_ptr_nonnull(strstr(sec, "id=\"persona-drift\">0.167<"));
    ck_assert_ptr_nonnull(strstr(sec, "class=\"heatmap\""));
    ck_assert_uint_eq(row_cells(html, "drift-table", "<td data-v=\"u1\"", cells, 16), 5);
    cells_are(cells, 5, (const char *[]){"u1", "1", "2", "3", "0.667"});

    /* 0 users or queries means all; other zeros stay numbers */
    ck_assert_ptr_nonnull(strstr(html, "<th>users</th><td>all</td>"));
    ck_assert_ptr_nonnull(strstr(html, "<th>max_queries</th><td>all</td>"));
    ck_assert_ptr_nonnull(strstr(html, "<th>k</th><td>0</td>"));
    /* the cost table follows the summary's method order */
    {
        const char *k = strstr(html, "<tr><td class=\"method\">knn");
        const char *r = strstr(html, "<tr><td class=\"method\">rag");
        ck_assert(k && r && k < r);
    }
    free(html);
    free(data);
    free(dir);
    tu_rmrf(tmp);
    free(tmp);
}
END_TEST

START_TEST(details_capped)
{
    char *tmp = tu_tmpdir(), *dir = fixture_run(tmp, "many", summary_lamp2m), *p, *html;
    buf csv = BUF_INIT;
    buf_adds(&csv, "method,user,n,invalid,errors,accuracy,f1\n");
    for (int i = 0; i < 130; i++)
        buf_printf(&csv, "rag,user%03d,1,0,0,1,1\n", i);
    p = tu_path(dir, "users.csv");
    tu_write(p, buf_str(&csv));
    free(p);
    html = write_and_read(dir);
    ck_assert_uint_eq(count(html, "<tr class=\"user\""), 130);
    ck_assert_uint_eq(count(html, "<details class=\"user\""), 100);
    ck_assert_ptr_nonnull(strstr(html, "shown for the first 100 users only"));
    ck_assert_ptr_nonnull(strstr(html, "Query inputs not shown: run.json names no data files"));
    free(html);
    buf_free(&csv);
    free(dir);
    tu_rmrf(tmp);
    free(tmp);
}
END_TEST

/* The characters of the <text> element at s without its tags. */
static char *text_of(const char *s)
{
    buf b = BUF_INIT;
    const char *end = strstr(s, "</text>");
    int in_tag = 0;
    for (const char *p = s; p < end; p++) {
        if (*p == '<')
            in_tag = 1;
        else if (*p == '>')
            in_tag = 0;
        else if (!in_tag)
            buf_addc(&b, *p);
    }
    return buf_detach(&b);
}

START_TEST(labels_and_colours)
{
    static const char label[] = "lamp3 \xc2\xb7 personaagent-nopersona";
    chart_interval row = {label, "#000", 0.5, 0.4, 0.6};
    buf b = BUF_INIT;
    const char *s;
    char *txt;
    double x;
    svg_colours col = {NULL, 0, 0};
    const char *seen[16];
    size_t widest;

    /* wrapped after the hyphen, every character kept */
    ck_assert_uint_eq(svg_wrap_lines(label, 22, &widest), 2);
    ck_assert_uint_eq(widest, 21);
    ck_assert_uint_eq(svg_wrap_lines("personaagent-nopersona", 22, &widest), 1);
    ck_assert_uint_eq(svg_wrap_lines("a b", 1, &widest), 2);
    ck_assert_uint_eq(svg_wrap_lines("persona agent", 8, &widest), 2);
    ck_assert_uint_eq(widest, 7);
    ck_assert_uint_eq(svg_wrap_lines("abcdefghij", 4, &widest), 3);
    chart_intervals(&b, "accuracy", 1, 1, &row, 1);
    s = strstr(buf_str(&b), "</title><text x=\""); /* the row's label */
    ck_assert_ptr_nonnull(s);
    s += strlen("</title>");
    txt = text_of(s);
    ck_assert_str_eq(txt, label);
    ck_assert_uint_eq(count(s, "<tspan"), 2);
    /* anchored at the end, far enough right for the widest line */
    x = strtod(s + strlen("<text x=\""), NULL);
    ck_assert_double_ge(x, 21 * SVG_CHAR_PX);
    free(txt);
    buf_free(&b);

    /* one colour per method for the fifteen methods of a run */
    for (size_t i = 0; i < 16; i++) {
        char name[16];
        snprintf(name, sizeof name, "m%zu", i);
        seen[i] = svg_colour_of(&col, name);
        for (size_t k = 0; k < i; k++)
            ck_assert_str_ne(seen[k], seen[i]);
    }
    svg_colours_free(&col);
}
END_TEST

START_TEST(sweep_folder)
{
    char *tmp = tu_tmpdir(), *dir = tu_path(tmp, "sweep"), *p, *html, *out, *a, *b;
    pe_err e = {0};
    tu_sh(NULL, NULL, "mkdir -p '%s'", dir);
    a = fixture_run(dir, "k=1", summary_lamp2m);
    b = fixture_run(dir, "k=4", summary_lamp2m);
    ck_assert(!html_is_sweep(dir));
    p = tu_path(dir, "sweep.csv");
    tu_write(p, "param,value,method,accuracy,f1\nk,1,rag,0.3,0.2\nk,4,rag,0.5,0.4\n");
    free(p);
    ck_assert(html_is_sweep(dir));
    ck_assert(!html_is_sweep(a));
    free(a);
    free(b);
    out = tu_path(tmp, "sweep.html");
    ck_assert_msg(html_write_sweep(out, dir, &e) == 0, "%s", e.msg);
    html = tu_read(out);
    ck_assert_uint_eq(count(html, "class=\"sweep\""), 2); /* accuracy and f1 vs k */
    /* each run's two methods in the table, and a link to its page */
    for (int k = 1; k <= 4; k += 3) {
        char row[32], link[64];
        snprintf(row, sizeof row, "<tr data-run=\"k=%d\"", k);
        snprintf(link, sizeof link, "<a href=\"k%%3D%d/report.html\">k=%d</a>", k, k);
        ck_assert_uint_eq(count(html, row), 2);
        ck_assert_uint_eq(count(html, link), 1);
    }
    ck_assert_ptr_nonnull(strstr(html, "</html>\n"));
    free(html);
    free(out);
    free(dir);
    tu_rmrf(tmp);
    free(tmp);
}
END_TEST

START_TEST(compare_page)
{
    char *tmp = tu_tmpdir(), *runs = tu_path(tmp, "runs"), *pages = tu_path(tmp, "pages");
    char *a = fixture_run(runs, "a", summary_lamp2m), *b = fixture_run(runs, "b&b", summary_lamp3);
    char *c = fixture_run(runs, "c", summary_lamp2m), *out = tu_path(pages, "cmp.html"), *html;
    const char *dirs[3] = {a, b, c};
    char cells[16][128];
    pe_err e = {0};

    tu_sh(NULL, NULL, "mkdir -p '%s'", pages);
    free(write_and_read(a));
    ck_assert_msg(html_write_compare(out, dirs, 3, &e) == 0, "%s", e.msg);
    html = tu_read(out);
    /* one table per task; lamp2m holds runs a and c */
    ck_assert_uint_eq(count(html, "data-run=\"a\""), 2);
    ck_assert_uint_eq(count(html, "data-run=\"c\""), 2);
    ck_assert_uint_eq(row_cells(html, "summary-lamp2m", "data-run=\"c\" data-method=\"rag\"",
                                cells, 16), 10);
    ck_assert_str_eq(cells[0], "c");
    ck_assert_str_eq(cells[1], "rag");
    ck_assert_str_eq(cells[4], "0.500");
    ck_assert_str_eq(cells[5], "[0.200, 0.750]");
    ck_assert_uint_eq(row_cells(html, "summary-lamp3", "data-run=\"b&amp;b\"", cells, 16), 10);
    ck_assert_str_eq(cells[4], "0.800");
    ck_assert_str_eq(cells[7], "[1.000, 2.000]");
    /* per-run sections link relative to the page: the report when there is one */
    ck_assert_ptr_nonnull(strstr(html, "href=\"../runs/a/report.html\""));
    ck_assert_ptr_nonnull(strstr(html, "href=\"../runs/b%26b/summary.json\""));
    ck_assert_ptr_nonnull(strstr(html, "href=\"../runs/c/summary.json\""));
    free(html);

    /* a run without a summary is an error and no page is written */
    remove(out);
    dirs[1] = pages;
    ck_assert_int_eq(html_write_compare(out, dirs, 2, &e), PE_EXIT_NOINPUT);
    ck_assert(!tu_exists(out));
    free(a);
    free(b);
    free(c);
    free(out);
    free(runs);
    free(pages);
    tu_rmrf(tmp);
    free(tmp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("html");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, escaping);
    tcase_add_test(tc, run_page);
    tcase_add_test(tc, only_summary);
    tcase_add_test(tc, sweep_and_heatmap);
    tcase_add_test(tc, compare_page);
    tcase_add_test(tc, users_section);
    tcase_add_test(tc, details_capped);
    tcase_add_test(tc, labels_and_colours);
    tcase_add_test(tc, sweep_folder);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
