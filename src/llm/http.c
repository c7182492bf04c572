#include "http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "jsonu.h"
#include "redact.h"

struct http_handle {
    CURL *curl;
    pe_rng rng;
    buf body;
    double retry_after; /* from this attempt's headers; -1 when absent */
    int overflow;
    char errbuf[CURL_ERROR_SIZE];
};

void http_opts_default(http_opts *o)
{
    o->connect_timeout_s = 10;
    o->timeout_s = 120;
    o->deadline_s = 600;
    o->max_body = 8u << 20;
    o->retries = 6;
    o->backoff_base_s = 0.5;
    o->backoff_cap_s = 30;
    o->insecure = 0;
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init_once(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int http_global_init(pe_err *e)
{
    pthread_once(&global_once, global_init_once);
    if (global_rc != CURLE_OK)
        return pe_errf(e, PE_EXIT_INTERNAL, "libcurl initialization failed: %s",
                       curl_easy_strerror(global_rc));
    return 0;
}

void http_reserve_fds(int n)
{
    struct rlimit rl;
    int base, fd;
    if (n <= 0)
        return;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)n >= rl.rlim_cur)
        n = rl.rlim_cur > 1 ? (int)rl.rlim_cur - 1 : 0;
    if (n <= 0 || (base = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
        return;
    /* the table grows to hold the highest descriptor; it never shrinks */
    if ((fd = fcntl(base, F_DUPFD_CLOEXEC, n)) >= 0)
        close(fd);
    close(base);
}

http_handle *http_handle_new(void)
{
    http_handle *h = xcalloc(1, sizeof *h);
    http_global_init(NULL);
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        return NULL;
    }
    pe_rng_seed(&h->rng, (uint64_t)(uintptr_t)h ^ (uint64_t)(pe_now() * 1e9));
    return h;
}

void http_handle_free(http_handle *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    buf_free(&h->body);
    free(h);
}

void http_response_free(http_response *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

int http_status_retryable(long s)
{
    return s == 408 || s == 409 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

int http_curl_retryable(int c)
{
    switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

int http_curl_dead(int c)
{
    return c == CURLE_COULDNT_RESOLVE_HOST || c == CURLE_COULDNT_CONNECT ||
           c == CURLE_COULDNT_RESOLVE_PROXY || c == CURLE_UNSUPPORTED_PROTOCOL ||
           c == CURLE_URL_MALFORMAT;
}

double http_parse_retry_after(const char *v)
{
    char *end;
    double s;
    time_t t;

    while (*v == ' ' || *v == '\t')
        v++;
    if (!*v)
        return -1;
    errno = 0;
    s = strtod(v, &end);
    if (end != v && errno == 0) {
        while (isspace((unsigned char)*end))
            end++;
        if (!*end)
            return s < 0 || !isfinite(s) ? -1 : s;
    }
    t = curl_getdate(v, NULL);
    if (t < 0)
        return -1;
    s = difftime(t, time(NULL));
    return s < 0 ? 0 : s;
}

double http_backoff(int n, double base, double cap, double u)
{
    double top = base * ldexp(1.0, n > 60 ? 60 : n);
    if (top > cap)
        top = cap;
    return top * u;
}

char *http_error_text(const char *body, size_t len)
{
    cJSON *j, *err;
    const char *s = NULL;
    char *out = NULL;

    if (!body || !len || !(j = jsonu_parse(body, len, NULL)))
        return NULL;
    err = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsObject(err))
        s = jsonu_str(err, "message");
    else if (cJSON_IsString(err))
        s = err->valuestring;
    if (!s)
        s = jsonu_str(j, "detail");
    if (!s)
        s = jsonu_str(j, "message");
    if (s)
        out = xstrdup(s);
    cJSON_Delete(j);
    return out;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    http_handle *h = ud;
    if (buf_add(&h->body, p, size * n) != 0) {
        h->overflow = 1;
        return 0;
    }
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    http_handle *h = ud;
    size_t len = size * n, k;
    static const char ra[] = "retry-after:", ram[] = "retry-after-ms:";
    char val[128];

    if (len > sizeof ra - 1 && strncasecmp(p, ram, sizeof ram - 1) == 0) {
        k = len - (sizeof ram - 1) < sizeof val - 1 ? len - (sizeof ram - 1) : sizeof val - 1;
        memcpy(val, p + sizeof ram - 1, k);
        val[k] = 0;
        double ms = http_parse_retry_after(val);
        if (ms >= 0)
            h->retry_after = ms / 1000.0; /* the more precise header wins */
    } else if (len > sizeof ra - 1 && strncasecmp(p, ra, sizeof ra - 1) == 0 &&
               h->retry_after < 0) {
        k = len - (sizeof ra - 1) < sizeof val - 1 ? len - (sizeof ra - 1) : sizeof val - 1;
        memcpy(val, p + sizeof ra - 1, k);
        val[k] = 0;
        h->retry_after = http_parse_retry_after(val);
    }
    return len;
}

void http_sleep(double s)
{
    struct timespec ts;
    if (s <= 0)
        return;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* One attempt; returns the CURLcode. */
static int attempt(http_handle *h, const http_opts *o, const char *url,
                   struct curl_slist *hdrs, const char *body, size_t len, double timeout,
                   http_response *r)
{
    CURL *c = h->curl;
    CURLcode rc;
    curl_off_t up = 0, down = 0;

    buf_init(&h->body, o->max_body);
    h->overflow = 0;
    h->retry_after = -1;
    h->errbuf[0] = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->connect_timeout_s * 1000));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000 < 1 ? 1 : timeout * 1000));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    rc = curl_easy_perform(c);
    r->status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
    curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &down);
    r->bytes_sent += (size_t)up;
    r->bytes_received += (size_t)down;
    r->retry_after_s = h->retry_after;
    free(r->body);
    r->len = h->body.len;
    r->body = buf_detach(&h->body);
    return (int)rc;
}

static struct curl_slist *build_headers(int post, const char *api_key,
                                        const char *const *headers, size_t n)
{
    struct curl_slist *l = NULL;
    if (post) {
        l = curl_slist_append(l, "Content-Type: application/json");
        l = curl_slist_append(l, "Accept: application/json");
    }
    l = curl_slist_append(l, "Expect:"); /* no 100-continue round trip */
    if (api_key && *api_key) {
        char *a = xasprintf("Authorization: Bearer %s", api_key);
        l = curl_slist_append(l, a);
        memset(a, 0, strlen(a));
        free(a);
    }
    for (size_t i = 0; i < n; i++)
        l = curl_slist_append(l, headers[i]);
    return l;
}

static void describe_failure(const http_handle *h, const http_response *r, int crc,
                             const char *url, size_t max_body, pe_err *e)
{
    if (crc == CURLE_WRITE_ERROR && h->overflow) {
        pe_errf(e, PE_EXIT_RUNERRORS,
                "%s: response body larger than the %zu-byte cap (max response bytes)", url,
                max_body);
    } else if (crc != CURLE_OK) {
        pe_errf(e, PE_EXIT_RUNERRORS, "%s: %s%s%s (after %d attempt%s)", url,
                curl_easy_strerror((CURLcode)crc), h->errbuf[0] ? ": " : "", h->errbuf,
                r->attempts, r->attempts == 1 ? "" : "s");
    } else {
        char *msg = http_error_text(r->body, r->len);
        pe_errf(e, PE_EXIT_RUNERRORS, "%s: HTTP %ld%s%s (after %d attempt%s)", url, r->status,
                msg ? ": " : "", msg ? msg : "", r->attempts, r->attempts == 1 ? "" : "s");
        free(msg);
    }
}

/* A POST when body is non-NULL, else a GET; retries as documented. */
static int request(http_handle *h, const http_opts *o, const char *url, const char *api_key,
                   const char *const *headers, size_t nheaders, const char *body, size_t len,
                   const http_hooks *hooks, http_response *r, pe_err *e)
{
    struct curl_slist *hdrs = build_headers(body != NULL, api_key, headers, nheaders);
    double start = pe_now(), deadline = o->deadline_s > 0 ? start + o->deadline_s : 0;
    int crc = CURLE_OK, ok = 0;
    char invalid_why[sizeof e->msg] = "";

    memset(r, 0, sizeof *r);
    r->retry_after_s = -1;
    for (int n = 0;; n++) {
        double timeout = o->timeout_s, wait;
        if (deadline) {
            double left = deadline - pe_now();
            if (left < timeout)
                timeout = left;
        }
        if (hooks && hooks->before)
            hooks->before(hooks->ctx);
        crc = attempt(h, o, url, hdrs, body, len, timeout, r);
        r->attempts = n + 1;
        r->retries = n;
        if (hooks && hooks->after)
            hooks->after(hooks->ctx, crc == CURLE_OK ? r->status : 0, crc);
        r->curl_code = crc;
        if (crc == CURLE_OK && r->status >= 200 && r->status < 300) {
            pe_err why = {0};
            if (!hooks || !hooks->validate ||
                hooks->validate(hooks->vctx, r->body ? r->body : "", r->len, &why) == 0) {
                ok = 1;
                break;
            }
            r->invalid++;
            snprintf(invalid_why, sizeof invalid_why, "%s", why.msg);
        } else if (crc == CURLE_OK ? !http_status_retryable(r->status)
                                   : !http_curl_retryable(crc)) {
            break;
        }
        if (n >= o->retries)
            break;
        if (r->retry_after_s >= 0)
            wait = r->retry_after_s;
        else
            wait = http_backoff(n, o->backoff_base_s, o->backoff_cap_s, pe_rng_unit(&h->rng));
        if (deadline && pe_now() + wait >= deadline)
            break;
        http_sleep(wait);
    }
    curl_slist_free_all(hdrs);
    if (ok)
        return 0;
    if (crc == CURLE_OK && r->status >= 200 && r->status < 300)
        pe_errf(e, PE_EXIT_RUNERRORS, "%s: HTTP %ld with an %s (after %d attempt%s)", url,
                r->status, invalid_why, r->attempts, r->attempts == 1 ? "" : "s");
    else
        describe_failure(h, r, crc, url, o->max_body, e);
    redact_err(e);
    return PE_EXIT_RUNERRORS;
}

int http_post(http_handle *h, const http_opts *o, const char *url, const char *api_key,
              const char *const *headers, size_t nheaders, const char *body, size_t len,
              const http_hooks *hooks, http_response *r, pe_err *e)
{
    return request(h, o, url, api_key, headers, nheaders, body ? body : "", len, hooks, r, e);
}

int http_get(http_handle *h, const http_opts *o, const char *url, const char *const *headers,
             size_t nheaders, http_response *r, pe_err *e)
{
    return request(h, o, url, NULL, headers, nheaders, NULL, 0, NULL, r, e);
}
