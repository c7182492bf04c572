/* http: retry policy helpers, and the transport against the loopback server
 * with injected faults (no libcurl mocking). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "http.h"
#include "loopback.h"
#include "testutil.h"

static void fast_opts(http_opts *o)
{
    http_opts_default(o);
    o->backoff_base_s = 0.01;
    o->backoff_cap_s = 0.05;
    o->timeout_s = 5;
    o->deadline_s = 20;
}

/* Each test runs its own handle through this. */
static http_handle *H;

static int post_h(lb_server *s, const http_opts *o, const char *key, http_response *r, pe_err *e)
{
    char *url = xasprintf("%s/chat/completions", s->base);
    static const char body[] = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    const char *hdr[] = {"X-Run: 7"};
    int rc = http_post(H, o, url, key, hdr, 1, body, strlen(body), NULL, r, e);
    free(url);
    return rc;
}

static void setup(void)
{
    H = http_handle_new();
}

static void teardown(void)
{
    http_handle_free(H);
}

static char *err_text(const char *body)
{
    return http_error_text(body, strlen(body));
}

START_TEST(policy_helpers)
{
    static const long retry[] = {408, 409, 429, 500, 502, 503, 504};
    static const long no[] = {200, 400, 401, 403, 404, 422, 501};
    char date[64], *t;
    time_t later = time(NULL) + 20;
    struct tm tm;

    for (size_t i = 0; i < 7; i++) {
        ck_assert_int_eq(http_status_retryable(retry[i]), 1);
        ck_assert_int_eq(http_status_retryable(no[i]), 0);
    }
    ck_assert_double_eq(http_parse_retry_after("3"), 3);
    ck_assert_double_eq(http_parse_retry_after(" 1.5 "), 1.5);
    ck_assert_double_eq(http_parse_retry_after("soon"), -1);
    gmtime_r(&later, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    ck_assert(fabs(http_parse_retry_after(date) - 20) <= 2);
    /* full jitter: u * min(cap, base * 2^n) */
    ck_assert_double_eq_tol(http_backoff(0, 0.5, 30, 0.5), 0.25, 1e-12);
    ck_assert_double_eq_tol(http_backoff(3, 0.5, 30, 1.0), 4.0, 1e-12);
    ck_assert_double_eq_tol(http_backoff(10, 0.5, 30, 0.5), 15.0, 1e-12);
    ck_assert_double_eq(http_backoff(2, 0.5, 30, 0), 0);

    t = err_text("{\"error\":{\"message\":\"bad model\"}}");
    ck_assert_str_eq(t, "bad model");
    free(t);
    t = err_text("{\"error\":\"quota\"}");
    ck_assert_str_eq(t, "quota");
    free(t);
    t = err_text("{\"detail\":\"Not Found\"}");
    ck_assert_str_eq(t, "Not Found");
    free(t);
    t = err_text("{\"message\":\"m\"}");
    ck_assert_str_eq(t, "m");
    free(t);
    ck_assert_ptr_null(err_text("<html>"));
}
END_TEST

START_TEST(success_headers_and_body)
{
    lb_server *s = lb_start(NULL);
    http_opts o;
    http_response r;
    pe_err e = {0};
    char *log;

    fast_opts(&o);
    ck_assert_int_eq(post_h(s, &o, "sk-test-key", &r, &e), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.attempts, 1);
    ck_assert_ptr_nonnull(strstr(r.body, "echo: hi"));
    http_response_free(&r);
    log = lb_requests(s);
    ck_assert_ptr_nonnull(strstr(log, "\"auth\": true"));
    ck_assert_ptr_nonnull(strstr(log, "\"content-type\": \"application/json\""));
    ck_assert_ptr_nonnull(strstr(log, "\"x-run\": \"7\""));
    ck_assert_ptr_null(strstr(log, "sk-test-key"));
    free(log);
    /* no key: no Authorization header */
    ck_assert_int_eq(post_h(s, &o, NULL, &r, &e), 0);
    http_response_free(&r);
    log = lb_requests(s);
    ck_assert_ptr_nonnull(strstr(log, "\"auth\": false"));
    free(log);
    lb_stop(s);
}
END_TEST

START_TEST(retry_after_429)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":[{\"status\":429,\"headers\":"
                            "{\"retry-after-ms\":\"300\"},\"body\":{\"error\":\"slow down\"}}]}");
    http_opts o;
    http_response r;
    pe_err e = {0};
    double t0 = pe_now();

    fast_opts(&o);
    ck_assert_int_eq(post_h(s, &o, NULL, &r, &e), 0);
    ck_assert_int_eq(r.attempts, 2);
    ck_assert(pe_now() - t0 >= 0.3); /* waited as told, not the 10 ms backoff */
    http_response_free(&r);
    lb_stop(s);
}
END_TEST

START_TEST(retry_5xx_truncate_reset)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":[{\"status\":503},{\"status\":500},"
                            "{\"fault\":\"truncate\"},{\"fault\":\"reset\"},{\"status\":502},"
                            "{\"status\":504}]}");
    http_opts o;
    http_response r;
    pe_err e = {0};

    fast_opts(&o);
    ck_assert_int_eq(post_h(s, &o, NULL, &r, &e), 0);
    ck_assert_int_eq(r.attempts, 7);
    ck_assert_int_eq(r.retries, 6);
    ck_assert_ptr_nonnull(strstr(r.body, "echo: hi"));
    http_response_free(&r);
    ck_assert_int_eq(lb_count(s), 7);
    lb_stop(s);
}
END_TEST

START_TEST(retries_exhausted)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":[{\"status\":500,\"repeat\":10,"
                            "\"body\":{\"error\":{\"message\":\"boom\"}}}]}");
    http_opts o;
    http_response r;
    pe_err e = {0};

    fast_opts(&o);
    o.retries = 2;
    ck_assert_int_eq(post_h(s, &o, NULL, &r, &e), PE_EXIT_RUNERRORS);
    ck_assert_int_eq(r.status, 500);
    ck_assert_ptr_nonnull(strstr(e.msg, "HTTP 500: boom (after 3 attempts)"));
    http_response_free(&r);
    ck_assert_int_eq(lb_count(s), 3);
    lb_stop(s);
}
END_TEST

START_TEST(client_errors_not_retried)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":[{\"status\":404,"
                            "\"body\":{\"detail\":\"model m not found\"}}]}");
    http_opts o;
    http_response r;
    pe_err e = {0};

    fast_opts(&o);
    ck_assert_int_eq(post_h(s, &o, "sk-abc", &r, &e), PE_EXIT_RUNERRORS);
    ck_assert_int_eq(r.status, 404);
    ck_assert_int_eq(r.attempts, 1);
    ck_assert_ptr_nonnull(strstr(e.msg, "HTTP 404: model m not found"));
    ck_assert_ptr_null(strstr(e.msg, "sk-abc"));
    http_response_free(&r);
    lb_stop(s);
}
END_TEST

START_TEST(slow_drip_times_out)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":[{\"fault\":\"drip\",\"seconds\":4}]}");
    http_opts o;
    http_response r;
    pe_err e = {0};
    double t0 = pe_now();

    fast_opts(&o);
    o.timeout_s = 0.6;
    o.retries = 0;
    ck_assert_int_eq(post_h(s, &o, NULL, &r, &e), PE_EXIT_RUNERRORS);
    ck_assert(pe_now() - t0 < 2.5);
    ck_assert_ptr_nonnull(pe_strcasestr(e.msg, "timeout"));
    http_response_free(&r);
    lb_stop(s);
}
END_TEST

START_TEST(deadline_bounds_retries)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":[{\"status\":503,\"repeat\":50,"
                            "\"headers\":{\"Retry-After\":\"1\"}}]}");
    http_opts o;
    http_response r;
    pe_err e = {0};
    double t0 = pe_now();

    fast_opts(&o);
    o.deadline_s = 1.5; /* room for one 1 s wait, not two */
    ck_assert_int_eq(post_h(s, &o, NULL, &r, &e), PE_EXIT_RUNERRORS);
    ck_assert_int_eq(r.attempts, 2);
    ck_assert(pe_now() - t0 < 1.5);
    http_response_free(&r);
    lb_stop(s);
}
END_TEST

START_TEST(oversize_body)
{
    lb_server *s = lb_start("{\"/v1/chat/completions\":[{\"fault\":\"oversize\",\"size\":50000}]}");
    http_opts o;
    http_response r;
    pe_err e = {0};

    fast_opts(&o);
    o.max_body = 4096;
    ck_assert_int_eq(post_h(s, &o, NULL, &r, &e), PE_EXIT_RUNERRORS);
    ck_assert_ptr_nonnull(strstr(e.msg, "larger than the 4096-byte cap"));
    ck_assert_int_eq(r.attempts, 1);
    http_response_free(&r);
    /* the same size fits under the default 8 MiB cap */
    lb_stop(s);
    s = lb_start("{\"/v1/chat/completions\":[{\"fault\":\"oversize\",\"size\":50000}]}");
    http_opts_default(&o);
    ck_assert_int_eq(post_h(s, &o, NULL, &r, &e), 0);
    ck_assert_uint_eq(r.len, 50000);
    http_response_free(&r);
    lb_stop(s);
}
END_TEST

START_TEST(connection_refused)
{
    http_opts o;
    http_response r;
    pe_err e = {0};
    lb_server *s = lb_start(NULL);
    int port = s->port;
    char *url;

    lb_stop(s); /* nothing listens on port now */
    fast_opts(&o);
    o.retries = 1;
    url = xasprintf("http://127.0.0.1:%d/v1/chat/completions", port);
    ck_assert_int_eq(http_post(H, &o, url, NULL, NULL, 0, "{}", 2, NULL, &r, &e),
                     PE_EXIT_RUNERRORS);
    ck_assert_int_eq(r.attempts, 2);
    ck_assert_int_eq(r.status, 0);
    http_response_free(&r);
    free(url);
}
END_TEST

/* The size of this process's descriptor table (FDSize in /proc/self/status). */
static long fd_table_size(void)
{
    char line[256];
    long n = -1;
    FILE *f = fopen("/proc/self/status", "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "FDSize:", 7) == 0)
            n = atol(line + 7);
    fclose(f);
    return n;
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    ck_assert_ptr_nonnull(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

START_TEST(reserve_fds)
{
    struct rlimit saved, low;
    int before = open_fds();

    /* the table holds descriptor 700 afterwards (the kernel sizes it in powers
     * of two, at least 1024 here), and no descriptor is left open */
    http_reserve_fds(0);
    http_reserve_fds(700);
    ck_assert_int_ge(fd_table_size(), 701);
    ck_assert_int_eq(open_fds(), before);
    /* a wish beyond RLIMIT_NOFILE is clamped to it, not an error */
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
    low = saved;
    low.rlim_cur = 1500 < saved.rlim_cur ? 1500 : saved.rlim_cur;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    http_reserve_fds(1 << 20);
    ck_assert_int_ge(fd_table_size(), 1024);
    ck_assert_int_eq(open_fds(), before);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, policy_helpers);
    tcase_add_test(tc, success_headers_and_body);
    tcase_add_test(tc, retry_after_429);
    tcase_add_test(tc, retry_5xx_truncate_reset);
    tcase_add_test(tc, retries_exhausted);
    tcase_add_test(tc, client_errors_not_retried);
    tcase_add_test(tc, slow_drip_times_out);
    tcase_add_test(tc, deadline_bounds_retries);
    tcase_add_test(tc, oversize_body);
    tcase_add_test(tc, connection_refused);
    tcase_add_test(tc, reserve_fds);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
