/* The streaming loader: files cut into chunks smaller than their elements, parsed
 * on several threads, give exactly what was written; a truncated file fails at its
 * end; real files' quirks (byte-order mark, lone surrogates, null text, float
 * scores) load with warnings. Expected values come from the generator below, which
 * writes each element from known parts, and from sha256sum. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dataset.h"
#include "testutil.h"
#include "util.h"

#define NUSERS 40

static int nprofile(int u)
{
    return u % 7 + 1;
}

/* The text of profile item j of user u: long enough to cross small chunks. */
static char *text_of(int u, int j)
{
    buf b = BUF_INIT;
    for (int k = 0; k <= (u * 3 + j) % 11; k++)
        buf_printf(&b, "word%d-%d-%d ", u, j, k);
    buf_adds(&b, "caf\xc3\xa9 \\ \"quoted\"");
    return buf_detach(&b);
}

/* A LaMP-2N questions file (with a byte-order mark) and its outputs file. */
static void write_lamp2n(const char *qpath, const char *opath)
{
    buf q = BUF_INIT, o = BUF_INIT;
    static const char *cats[] = {"sports", "crime", "politics"};
    buf_adds(&q, "\xef\xbb\xbf[\n");
    buf_adds(&o, "{\"task\": \"LaMP_2N\", \"golds\": [\n");
    for (int u = 0; u < NUSERS; u++) {
        buf_printf(&q, "%s{\"id\": \"q%d\", \"input\": \"Which category ... article: story %d\",\n"
                       " \"profile\": [", u ? ",\n" : "", u, u);
        for (int j = 0; j < nprofile(u); j++) {
            char *t = text_of(u, j);
            buf_printf(&q, "%s\n  {\"id\": \"p%d-%d\", \"date\": \"20%02d\", \"title\": \"T%d\", "
                           "\"text\": ", j ? "," : "", u, j, 10 + j, j);
            buf_json_str(&q, t);
            buf_printf(&q, ", \"category\": \"%s\"}", cats[(u + j) % 3]);
            free(t);
        }
        buf_adds(&q, "]}");
        buf_printf(&o, "%s{\"id\": \"q%d\", \"output\": \"%s\"}", u ? ",\n" : "", u, cats[u % 3]);
    }
    buf_adds(&q, "\n]\n");
    buf_adds(&o, "]}\n");
    tu_write(qpath, buf_str(&q));
    tu_write(opath, buf_str(&o));
    buf_free(&q);
    buf_free(&o);
}

static void check_lamp2n(const dataset *d)
{
    static const char *cats[] = {"sports", "crime", "politics"};
    ck_assert_uint_eq(d->nusers, NUSERS);
    for (int u = 0; u < NUSERS; u++) {
        const ds_user *us = &d->users[u];
        char id[32];
        snprintf(id, sizeof id, "q%d", u);
        ck_assert_str_eq(us->id, id);
        ck_assert_uint_eq(us->nitems, (size_t)nprofile(u));
        ck_assert_uint_eq(us->nqueries, 1);
        ck_assert_str_eq(us->queries[0].gold, cats[u % 3]);
        for (int j = 0; j < nprofile(u); j++) {
            const ds_item *it = &us->items[j];
            char *t = text_of(u, j), *want = xasprintf("p%d-%d", u, j);
            /* the JSON escapes \\ and \" read back as one character each */
            char *plain = xstrdup(t), *w = plain;
            for (const char *r = t; *r; r++) {
                if (*r == '\\' && (r[1] == '\\' || r[1] == '"'))
                    r++;
                *w++ = *r;
            }
            *w = '\0';
            ck_assert_str_eq(it->id, want);
            ck_assert_str_eq(it->field[1], plain);
            ck_assert_str_eq(it->label, cats[(u + j) % 3]);
            free(t);
            free(plain);
            free(want);
        }
    }
}

START_TEST(chunks_smaller_than_elements)
{
    char *dir = tu_tmpdir(), *q = tu_path(dir, "x_questions.json"),
         *o = tu_path(dir, "x_outputs.json"), *out = NULL;
    const char *paths[1] = {q};
    static const size_t chunks[] = {1, 7, 64, 1000, 0};
    static const int threads[] = {0, 1, 3};
    char want[65];

    write_lamp2n(q, o);
    ck_assert_int_eq(tu_sh(&out, NULL, "sha256sum '%s'", q), 0);
    memcpy(want, out, 64);
    want[64] = '\0';
    free(out);
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) {
        for (size_t k = 0; k < sizeof threads / sizeof *threads; k++) {
            ds_limits lim = ds_limits_default();
            dataset d;
            pe_err e = {0};
            lim.chunk_bytes = chunks[c];
            dataset_set_load_threads(threads[k]);
            ck_assert_msg(dataset_load_limits(&d, task_get("lamp2n"), paths, 1, NULL, &lim,
                                              &e) == 0,
                          "chunk %zu threads %d: %s", chunks[c], threads[k], e.msg);
            check_lamp2n(&d);
            ck_assert_uint_eq(d.nsources, 2);
            ck_assert_str_eq(d.sources[0].sha256, want);
            ck_assert_uint_eq(d.nwarnings, 0);
            ck_assert_uint_eq(d.nogold, 0);
            dataset_free(&d);
        }
    }
    dataset_set_load_threads(0);
    tu_rmrf(dir);
    free(dir);
    free(q);
    free(o);
}
END_TEST

/* The error of the earliest bad element is the one reported, whatever the threads do. */
START_TEST(first_error_in_file_order)
{
    buf b = BUF_INIT;
    buf_adds(&b, "[");
    for (int u = 0; u < 60; u++) {
        if (u == 5 || u == 7)
            buf_printf(&b, "%s{\"id\": \"q%d\", \"input\": 7, \"profile\": [{}]}", u ? ",\n" : "",
                       u);
        else
            buf_printf(&b, "%s{\"id\": \"q%d\", \"input\": \"x\", \"profile\": []}", u ? ",\n" : "",
                       u);
    }
    buf_adds(&b, "]");
    for (int t = 0; t < 4; t++) {
        ds_limits lim = ds_limits_default();
        dataset d;
        pe_err e = {0};
        lim.chunk_bytes = 16;
        dataset_set_load_threads(t);
        ck_assert_int_eq(dataset_load_mem(&d, task_get("lamp2n"), "m.json", buf_str(&b), b.len,
                                          NULL, &lim, &e), PE_EXIT_DATA);
        ck_assert_str_eq(e.msg, "m.json:6: element 5: user \"q5\": profile[0]: field \"id\" is "
                                "missing");
    }
    dataset_set_load_threads(0);
    buf_free(&b);
}
END_TEST

/* A file cut inside its third element fails at its last byte's end. */
START_TEST(truncated_file)
{
    char *dir = tu_tmpdir(), *q = tu_path(dir, "t.json"), *o = tu_path(dir, "nothing"),
         *text, *cut, *want;
    const char *paths[1] = {q};
    size_t line = 1, col = 1;
    dataset d;
    pe_err e = {0};

    write_lamp2n(q, o);
    text = tu_read(q);
    /* the middle of element 2: after the start of "q2" and some bytes more */
    cut = strstr(text, "\"q2\"") + 40;
    *cut = '\0';
    tu_write(q, text);
    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            line++, col = 1;
        else
            col++;
    }
    col -= 3 * (line == 1); /* columns count from after the byte-order mark */
    for (size_t chunk = 5; chunk <= 4096; chunk *= 9) {
        ds_limits lim = ds_limits_default();
        lim.chunk_bytes = chunk;
        ck_assert_int_eq(dataset_load_limits(&d, task_get("lamp2n"), paths, 1, NULL, &lim, &e),
                         PE_EXIT_DATA);
        want = xasprintf("%s:%zu:%zu: invalid JSON (the file ends inside element 2)", q, line,
                         col);
        ck_assert_str_eq(e.msg, want);
        free(want);
    }
    tu_rmrf(dir);
    free(text);
    free(dir);
    free(q);
    free(o);
}
END_TEST

START_TEST(quirks)
{
    /* lamp3, user-grouped: float and integer scores, a null text, lone surrogates */
    static const char text[] =
        "\xef\xbb\xbf[{\"user_id\": \"u1\", \"profile\": [\n"
        " {\"id\": \"a\", \"text\": \"ok \\ud83d\\ude00 pair\", \"score\": 4.0},\n"
        " {\"id\": \"b\", \"text\": null, \"score\": 5},\n"
        " {\"id\": \"c\", \"text\": \"lone \\ud83d end\", \"score\": 4.50},\n"
        " {\"id\": \"d\", \"text\": \"low \\uDC00\", \"score\": \"3\"}],\n"
        " \"query\": [{\"id\": \"q\", \"input\": \"review: fine\", \"gold\": 2.0}]}]\n";
    dataset d;
    pe_err e = {0};
    ck_assert_msg(dataset_load_mem(&d, task_get("lamp3"), "g.json", text, sizeof text - 1,
                                   NULL, NULL, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(d.nusers, 1);
    ck_assert_str_eq(d.users[0].items[0].label, "4.0"); /* Python's str(4.0) */
    ck_assert_str_eq(d.users[0].items[1].label, "5");
    ck_assert_str_eq(d.users[0].items[2].label, "4.5");
    ck_assert_str_eq(d.users[0].items[3].label, "3");
    ck_assert_str_eq(d.users[0].queries[0].gold, "2.0");
    ck_assert_str_eq(d.users[0].items[0].field[0], "ok \xf0\x9f\x98\x80 pair");
    ck_assert_str_eq(d.users[0].items[1].field[0], "");
    ck_assert_str_eq(d.users[0].items[2].field[0], "lone \xef\xbf\xbd end");
    ck_assert_str_eq(d.users[0].items[3].field[0], "low \xef\xbf\xbd");
    ck_assert_uint_eq(d.nwarnings, 3);
    /* line 3 of the file; columns count bytes from the line start */
    ck_assert_str_eq(d.warnings[0], "g.json:4:28: element 0: the lone surrogate \\ud83d "
                                    "became U+FFFD");
    ck_assert_str_eq(d.warnings[1], "g.json:5:27: element 0: the lone surrogate \\uDC00 "
                                    "became U+FFFD");
    ck_assert_str_eq(d.warnings[2], "g.json:3: user \"u1\": profile[1]: field \"text\" is "
                                    "null; read as \"\"");
    dataset_free(&d);
}
END_TEST

/* 60 null texts: 50 warnings kept, then one line counting the other 10. */
START_TEST(warnings_capped)
{
    buf b = BUF_INIT;
    dataset d;
    pe_err e = {0};
    buf_adds(&b, "{\"user\":\"u1\",\"history\":[");
    for (int i = 0; i < 60; i++)
        buf_printf(&b, "%s{\"id\":\"h%d\",\"text\":null,\"score\":\"3\"}", i ? "," : "", i);
    buf_adds(&b, "],\"queries\":[]}\n");
    ck_assert_int_eq(dataset_load_mem(&d, task_get("lamp3"), "w.jsonl", buf_str(&b), b.len,
                                      NULL, NULL, &e), 0);
    ck_assert_uint_eq(d.nwarnings, DS_MAX_WARNINGS + 1);
    ck_assert_str_eq(d.warnings[49], "w.jsonl:1: user \"u1\": history[49]: field \"text\" is "
                                     "null; read as \"\"");
    ck_assert_str_eq(d.warnings[50], "... and 10 more warnings");
    dataset_free(&d);
    buf_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ds_stream");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, chunks_smaller_than_elements);
    tcase_add_test(tc, first_error_in_file_order);
    tcase_add_test(tc, truncated_file);
    tcase_add_test(tc, quirks);
    tcase_add_test(tc, warnings_capped);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
