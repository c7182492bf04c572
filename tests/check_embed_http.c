/* embed_http: the /embeddings encoder backend against the loopback server,
 * whose default responder answers [len(text), 1, 0, 2] per input (listed in
 * reverse order with their indices). Expected vectors and rankings are
 * computed here from that rule. */
#include <cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "embed_http.h"
#include "jsonu.h"
#include "llm.h"
#include "loopback.h"
#include "memory.h"
#include "task.h"
#include "testutil.h"
#include "util.h"

static void test_config(llm_config *c, const char *base)
{
    llm_config_default(c);
    c->base_url = base;
    c->model = "chat-model";
    c->embed_model = "emb-model";
    c->http.backoff_base_s = 0.01;
    c->http.backoff_cap_s = 0.05;
    c->http.timeout_s = 5;
}

/* The loopback vector of a text of len ASCII characters, normalized. */
static void want_vec(size_t len, float out[4])
{
    double l = (double)len, n = sqrt(l * l + 5);
    out[0] = (float)(l / n);
    out[1] = (float)(1 / n);
    out[2] = 0;
    out[3] = (float)(2 / n);
}

static void assert_vec(const float *got, size_t len)
{
    float w[4];
    want_vec(len, w);
    for (int k = 0; k < 4; k++)
        ck_assert_msg(fabsf(got[k] - w[k]) < 1e-6, "len %zu, entry %d: %g vs %g", len, k,
                      (double)got[k], (double)w[k]);
}

/* The recorded requests as JSON objects (caller frees with cJSON_Delete). */
static cJSON *recorded(lb_server *s)
{
    char *log = lb_requests(s), *p = log, *nl;
    cJSON *all = cJSON_CreateArray();
    while (*p) {
        cJSON *j;
        nl = strchr(p, '\n');
        j = jsonu_parse(p, nl ? (size_t)(nl - p) : strlen(p), NULL);
        ck_assert_ptr_nonnull(j);
        cJSON_AddItemToArray(all, j);
        if (!nl)
            break;
        p = nl + 1;
    }
    free(log);
    return all;
}

static char *repeat_char(char c, size_t n)
{
    char *s = xmalloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

START_TEST(memory_retrieves_by_embedding)
{
    lb_server *s = lb_start(NULL);
    static const size_t lens[] = {3, 8, 15, 40, 9, 100};
    const task *t = task_get("lamp2m");
    ds_item items[6];
    ds_user u = {.id = "u1", .items = items, .nitems = 6};
    llm_config c;
    llm_client *cl;
    embed_http *h;
    encoder_opts o = {0};
    memory *m;
    topk_hit hits[6];
    size_t nh;
    pe_err e = {0};

    memset(items, 0, sizeof items);
    for (size_t i = 0; i < 6; i++) {
        items[i].id = xasprintf("h%zu", i);
        items[i].field[0] = repeat_char((char)('a' + i), lens[i]);
        items[i].field[1] = xstrdup("");
        items[i].label = xstrdup(t->labels[i]);
    }
    test_config(&c, s->base);
    cl = llm_client_new(&c, &e);
    ck_assert_ptr_nonnull(cl);
    h = embed_http_new(cl, 0);
    ck_assert_uint_eq(embed_http_dim(h), 0);
    ck_assert_int_eq(embed_http_encoder_opts(h, &o, &e), 0);
    ck_assert_uint_eq(o.dim, 4);
    ck_assert_int_eq(o.kind, ENCODER_BACKEND);
    ck_assert_int_eq(memory_build(t, &u, &o, &m, &e), 0);
    ck_assert_uint_eq(m->dim, 4);
    for (size_t i = 0; i < 6; i++)
        assert_vec(m->mat + i * 4, lens[i]);
    /* probe + one request for the six documents */
    ck_assert_int_eq(lb_count(s), 2);
    {
        /* query of 10 characters: cosine (10 L + 5) / sqrt(105 (L^2 + 5)) */
        char *q = repeat_char('q', 10);
        double cos[6];
        size_t order[6];
        ck_assert_int_eq(memory_search(m, q, 6, NULL, hits, &nh, &e), 0);
        ck_assert_uint_eq(nh, 6);
        for (size_t i = 0; i < 6; i++) {
            double l = (double)lens[i];
            cos[i] = (10 * l + 5) / sqrt(105 * (l * l + 5));
            order[i] = i;
        }
        for (size_t a = 0; a < 6; a++)
            for (size_t b = a + 1; b < 6; b++)
                if (cos[order[b]] > cos[order[a]]) {
                    size_t x = order[a];
                    order[a] = order[b];
                    order[b] = x;
                }
        ck_assert_uint_eq(order[0], 4); /* length 9 is the closest direction */
        for (size_t i = 0; i < 6; i++) {
            ck_assert_uint_eq(hits[i].index, order[i]);
            ck_assert_double_eq_tol(hits[i].score, cos[order[i]], 1e-5);
        }
        free(q);
    }
    ck_assert_int_eq(lb_count(s), 3);
    memory_free(m);
    embed_http_free(h);
    llm_client_free(cl);
    for (size_t i = 0; i < 6; i++) {
        free(items[i].id);
        free(items[i].field[0]);
        free(items[i].field[1]);
        free(items[i].label);
    }
    lb_stop(s);
}
END_TEST

START_TEST(batches_model_and_endpoint)
{
    lb_server *s = lb_start(NULL);
    char *emb = xasprintf("http://127.0.0.1:%d/emb/v1", s->port);
    char *chat = xasprintf("http://127.0.0.1:%d/chat/v1", s->port);
    const char *texts[10] = {"a", "bb", "ccc", "", "eeeee", "ffffff", "g", "hh", "iii", "jjjj"};
    size_t lens[10] = {1, 2, 3, 1, 5, 6, 1, 2, 3, 4}; /* "" is sent as " " */
    const int want_inputs[2][4] = {{3, 3, 3, 1}, {4, 4, 2, 0}};
    float out[40];
    llm_config c;
    llm_client *cl;
    pe_err e = {0};

    test_config(&c, chat);
    c.embed_base_url = emb;
    c.embed_batch = 4;
    cl = llm_client_new(&c, &e);
    for (int round = 0; round < 2; round++) {
        /* batch 3 → calls of 3, 3, 3, 1; batch 0 → one call split by the client 4, 4, 2 */
        embed_http *h = embed_http_new(cl, round == 0 ? 3 : 0);
        cJSON *reqs, *r;
        int i = 0;
        char *log0 = lb_requests(s);
        size_t before = (size_t)lb_count(s);
        free(log0);
        ck_assert_int_eq(embed_http_encode(h, texts, 10, out, 4, &e), 0);
        for (size_t k = 0; k < 10; k++)
            assert_vec(out + k * 4, lens[k]);
        reqs = recorded(s);
        ck_assert_int_eq(cJSON_GetArraySize(reqs) - (int)before, round == 0 ? 4 : 3);
        cJSON_ArrayForEach(r, reqs) {
            const cJSON *b = cJSON_GetObjectItem(r, "body");
            if (i++ < (int)before)
                continue;
            ck_assert_str_eq(jsonu_str(r, "path"), "/emb/v1/embeddings");
            ck_assert_str_eq(jsonu_str(b, "model"), "emb-model");
            ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(b, "input")),
                             want_inputs[round][i - 1 - (int)before]);
        }
        cJSON_Delete(reqs);
        ck_assert_uint_eq(embed_http_dim(h), 4);
        embed_http_free(h);
    }
    {
        /* every /embeddings request is counted as it completes (the progress
         * line's calls), apart from the chat calls: 4 and 3 requests */
        llm_totals t;
        llm_get_totals(cl, &t);
        ck_assert_uint_eq(t.embed_calls, 7);
        ck_assert_uint_eq(t.calls, 0);
    }
    llm_client_free(cl);
    free(emb);
    free(chat);
    lb_stop(s);
}
END_TEST

START_TEST(refused_before_any_success_is_unavailable)
{
    lb_server *s = lb_start("{\"/v1/embeddings\": [{\"status\": 401, \"body\": {\"error\": "
                            "{\"message\": \"invalid api key\"}}}]}");
    const char *t[] = {"x"};
    float out[4];
    size_t dim = 99;
    llm_config c;
    llm_client *cl;
    embed_http *h;
    pe_err e = {0};

    test_config(&c, s->base);
    cl = llm_client_new(&c, &e);
    h = embed_http_new(cl, 0);
    ck_assert_int_eq(embed_http_probe_dim(h, &dim, &e), PE_EXIT_UNAVAILABLE);
    ck_assert_uint_eq(dim, 0);
    ck_assert_msg(strstr(e.msg, "401") && strstr(e.msg, "invalid api key") &&
                      strstr(e.msg, "/v1/embeddings"),
                  "%s", e.msg);
    /* later calls stop at once, without a request (the server would now answer) */
    memset(&e, 0, sizeof e);
    ck_assert_int_eq(embed_http_encode(h, t, 1, out, 4, &e), PE_EXIT_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(e.msg, "invalid api key"));
    ck_assert_int_eq(lb_count(s), 1);
    embed_http_free(h);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

START_TEST(failure_after_success_is_a_run_error)
{
    lb_server *s = lb_start(
        "{\"/v1/embeddings\": [{\"body\": {\"data\": [{\"index\": 0, \"embedding\": "
        "[3, 0, 4]}]}}, {\"status\": 500, \"body\": {\"error\": {\"message\": \"overloaded\"}}}]}");
    const char *t[] = {"abcd"};
    float out[4];
    size_t dim;
    llm_config c;
    llm_client *cl;
    embed_http *h;
    encoder_opts o = {.dim = 0};
    pe_err e = {0};

    test_config(&c, s->base);
    c.http.retries = 0;
    cl = llm_client_new(&c, &e);
    h = embed_http_new(cl, 0);
    ck_assert_int_eq(embed_http_probe_dim(h, &dim, &e), 0);
    ck_assert_uint_eq(dim, 3);
    ck_assert_int_eq(embed_http_probe_dim(h, &dim, &e), 0); /* known: no request */
    ck_assert_int_eq(lb_count(s), 1);
    ck_assert_int_eq(embed_http_encode(h, t, 1, out, 3, &e), PE_EXIT_RUNERRORS);
    ck_assert_msg(strstr(e.msg, "500") && strstr(e.msg, "overloaded"), "%s", e.msg);
    /* the next request reaches the default responder: 4 dimensions, not 3 */
    memset(&e, 0, sizeof e);
    ck_assert_int_eq(embed_http_encode(h, t, 1, out, 3, &e), PE_EXIT_USAGE);
    ck_assert_msg(strstr(e.msg, "4-dimensional") && strstr(e.msg, "expects 3"), "%s", e.msg);
    ck_assert_int_eq(embed_http_encode(h, t, 1, out, 4, &e), 0);
    assert_vec(out, 4);
    /* the opts keep a given dimension without probing */
    o.dim = 4;
    ck_assert_int_eq(embed_http_encoder_opts(h, &o, &e), 0);
    ck_assert_uint_eq(o.dim, 4);
    ck_assert_ptr_eq(o.backend_ctx, h);
    ck_assert_int_eq(lb_count(s), 4);
    embed_http_free(h);
    llm_client_free(cl);
    lb_stop(s);
}
END_TEST

START_TEST(offline_llm_has_no_embeddings)
{
    llm_config c;
    llm_client *cl;
    embed_http *h;
    size_t dim;
    pe_err e = {0};

    test_config(&c, "http://127.0.0.1:9/v1");
    c.backend = LLM_BACKEND_OFFLINE;
    cl = llm_client_new(&c, &e);
    ck_assert_ptr_nonnull(cl);
    h = embed_http_new(cl, 0);
    ck_assert_int_eq(embed_http_probe_dim(h, &dim, &e), PE_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "offline"));
    embed_http_free(h);
    llm_client_free(cl);
}
END_TEST

/* Encode texts through a fresh client on cache dir in mode; returns the
 * code and checks the vectors on success. */
static int encode_cached(lb_server *s, const char *dir, cache_mode mode, pe_err *e)
{
    const char *t[] = {"one", "three", "eleven"};
    float out[12];
    llm_config c;
    llm_client *cl;
    embed_http *h;
    cache *ca = cache_open(dir, mode, e);
    int rc;

    ck_assert_ptr_nonnull(ca);
    test_config(&c, s->base);
    c.cache = ca;
    cl = llm_client_new(&c, e);
    h = embed_http_new(cl, 0);
    rc = embed_http_encode(h, t, 3, out, 4, e);
    if (rc == 0) {
        assert_vec(out, 3);
        assert_vec(out + 4, 5);
        assert_vec(out + 8, 6);
    }
    embed_http_free(h);
    llm_client_free(cl);
    cache_close(ca);
    return rc;
}

START_TEST(requests_are_cached)
{
    lb_server *s = lb_start(NULL);
    char *dir = tu_tmpdir(), *empty = tu_tmpdir();
    pe_err e = {0};

    ck_assert_int_eq(encode_cached(s, dir, CACHE_RW, &e), 0);
    ck_assert_int_eq(lb_count(s), 1);
    ck_assert_int_eq(encode_cached(s, dir, CACHE_RW, &e), 0); /* rerun: free */
    ck_assert_int_eq(encode_cached(s, dir, CACHE_OFFLINE, &e), 0);
    ck_assert_int_eq(lb_count(s), 1);
    ck_assert_int_eq(encode_cached(s, dir, CACHE_OFF, &e), 0);
    ck_assert_int_eq(lb_count(s), 2);
    ck_assert_int_eq(encode_cached(s, empty, CACHE_OFFLINE, &e), PE_EXIT_UNAVAILABLE);
    ck_assert_msg(strstr(e.msg, "cache miss in offline cache mode"), "%s", e.msg);
    ck_assert_int_eq(lb_count(s), 2);
    tu_rmrf(dir);
    tu_rmrf(empty);
    free(dir);
    free(empty);
    lb_stop(s);
}
END_TEST

typedef struct job {
    embed_http *h;
    size_t base; /* texts of lengths base + 1 .. base + 12 */
    int rc;
    float out[12 * 4];
} job;

static void *run_job(void *p)
{
    job *j = p;
    char *texts[12];
    pe_err e = {0};
    for (size_t i = 0; i < 12; i++)
        texts[i] = repeat_char('t', j->base + i + 1);
    j->rc = embed_http_encode(j->h, (const char *const *)texts, 12, j->out, 4, &e);
    for (size_t i = 0; i < 12; i++)
        free(texts[i]);
    return NULL;
}

START_TEST(threads_share_one_backend)
{
    lb_server *s = lb_start(NULL);
    char *slow = lb_base_ctl(s, "latency=0.05");
    llm_config c;
    llm_client *cl;
    embed_http *h;
    job jobs[4];
    pthread_t th[4];
    pe_err e = {0};

    test_config(&c, slow);
    c.embed_batch = 4;
    cl = llm_client_new(&c, &e);
    h = embed_http_new(cl, 0);
    for (size_t k = 0; k < 4; k++) {
        jobs[k].h = h;
        jobs[k].base = 20 * k;
        ck_assert_int_eq(pthread_create(&th[k], NULL, run_job, &jobs[k]), 0);
    }
    for (size_t k = 0; k < 4; k++) {
        pthread_join(th[k], NULL);
        ck_assert_int_eq(jobs[k].rc, 0);
        for (size_t i = 0; i < 12; i++)
            assert_vec(jobs[k].out + i * 4, jobs[k].base + i + 1);
    }
    ck_assert_int_eq(lb_count(s), 12);
    embed_http_free(h);
    llm_client_free(cl);
    free(slow);
    lb_stop(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("embed_http");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, memory_retrieves_by_embedding);
    tcase_add_test(tc, batches_model_and_endpoint);
    tcase_add_test(tc, refused_before_any_success_is_unavailable);
    tcase_add_test(tc, failure_after_success_is_a_run_error);
    tcase_add_test(tc, offline_llm_has_no_embeddings);
    tcase_add_test(tc, requests_are_cached);
    tcase_add_test(tc, threads_share_one_backend);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
