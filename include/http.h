/*
 * http: the libcurl transport for JSON POSTs: one reusable handle per worker
 * thread (keep-alive, HTTP/2 where offered), timeouts, a body cap, retries with
 * exponential backoff, full jitter and Retry-After.
 *
 * Ownership: an http_handle belongs to one thread at a time; http_handle_free()
 * releases it. http_response.body is the caller's: free it with
 * http_response_free(). The API key is only ever placed in the Authorization
 * header; error messages pass through redact.h (no key, header value or URL
 * userinfo).
 */
#ifndef PE_HTTP_H
#define PE_HTTP_H

#include <stddef.h>

#include "util.h"

typedef struct http_opts {
    double connect_timeout_s; /* default 10 */
    double timeout_s;         /* per attempt, default 120 */
    double deadline_s;        /* overall per request incl. retries; 0 = none; default 600 */
    size_t max_body;          /* response body cap in bytes, default 8 MiB */
    int retries;              /* retries after the first attempt, default 6 */
    double backoff_base_s;    /* default 0.5 */
    double backoff_cap_s;     /* default 30 */
    int insecure;             /* 1: skip TLS verification */
} http_opts;

void http_opts_default(http_opts *o);

/* curl_global_init, once per process (thread-safe, idempotent). */
int http_global_init(pe_err *e);

/* Grow the process's file-descriptor table to hold at least n descriptors
 * now, before the worker threads open their connections: the kernel grows a
 * table shared by threads one doubling at a time, each waiting for an RCU
 * grace period that stalls every thread opening a descriptor meanwhile (tens of
 * milliseconds each on a busy machine). Clamped to RLIMIT_NOFILE; best effort. */
void http_reserve_fds(int n);

typedef struct http_handle http_handle;
http_handle *http_handle_new(void);
void http_handle_free(http_handle *h);

typedef struct http_response {
    long status;          /* last HTTP status; 0 when no response arrived */
    char *body;           /* last response body (NUL-terminated) or NULL */
    size_t len;
    int attempts;         /* attempts made */
    int retries;          /* attempts - 1 */
    double retry_after_s; /* from the last response; -1 when absent */
    size_t bytes_sent, bytes_received;
    int curl_code;        /* libcurl's result of the last attempt (0: a response arrived) */
    int invalid;          /* 2xx bodies the validate hook rejected */
} http_response;

void http_response_free(http_response *r);

/* Hooks the caller may set to gate each attempt (rate limits, in-flight cap). */
typedef struct http_hooks {
    void (*before)(void *ctx);                           /* blocks until allowed */
    void (*after)(void *ctx, long status, int curl_code); /* after each attempt */
    void *ctx;
    /* Called on each 2xx body: 0 accepts it; non-zero (with why set) rejects it
     * as invalid, and the attempt is retried like a 5xx. May be NULL. */
    int (*validate)(void *vctx, const char *body, size_t len, pe_err *why);
    void *vctx;
} http_hooks;

/* POST body to url with Content-Type: application/json, the optional bearer key
 * and extra "Name: value" headers (n of them). Retries as documented in
 * docs/llm.md. Returns 0 when a 2xx arrived; otherwise PE_EXIT_RUNERRORS with
 * e naming the status and the server's error text (r->status and r->body hold
 * the last response). */
int http_post(http_handle *h, const http_opts *o, const char *url, const char *api_key,
              const char *const *headers, size_t nheaders, const char *body, size_t len,
              const http_hooks *hooks, http_response *r, pe_err *e);

/* GET url with the extra "Name: value" headers, the same retries, timeouts,
 * deadline and body cap as http_post (no hooks, no key). Returns 0 when a 2xx
 * arrived, else PE_EXIT_RUNERRORS with e set (r holds the last response). */
int http_get(http_handle *h, const http_opts *o, const char *url, const char *const *headers,
             size_t nheaders, http_response *r, pe_err *e);

/* 1 for the statuses that are retried: 408, 409, 429, 500, 502, 503, 504. */
int http_status_retryable(long status);
/* 1 for libcurl results that are retried (connect errors, timeouts, resets). */
int http_curl_retryable(int curl_code);
/* 1 for libcurl results that show no server at the URL (refused, unresolvable,
 * malformed URL), unlike a timeout, which a slow server also gives. */
int http_curl_dead(int curl_code);
/* Parse a Retry-After value (delta seconds or an HTTP date); -1 if unparsable. */
double http_parse_retry_after(const char *value);
/* Sleep s seconds (resumed after signals); nothing when s <= 0. */
void http_sleep(double s);
/* Backoff before retry n (0-based): uniform in [0, min(cap, base*2^n)]; u in [0,1). */
double http_backoff(int n, double base, double cap, double u);
/* The error text of an error body: error.message, a string error, detail or
 * message; else NULL. Caller frees. */
char *http_error_text(const char *body, size_t len);

#endif
