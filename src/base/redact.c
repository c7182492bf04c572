#include "redact.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

#define MIN_SECRET 4
#define MIN_SK_TOKEN 8

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;
static size_t nsecrets, capsecrets;

void redact_add(const char *secret)
{
    if (!secret || strlen(secret) < MIN_SECRET)
        return;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < nsecrets; i++)
        if (!strcmp(secrets[i], secret)) {
            pthread_mutex_unlock(&mu);
            return;
        }
    secrets = xgrow(secrets, &capsecrets, nsecrets + 1, sizeof *secrets);
    secrets[nsecrets++] = xstrdup(secret);
    /* longest first, so that a secret containing another is replaced whole */
    for (size_t i = nsecrets - 1; i > 0 && strlen(secrets[i]) > strlen(secrets[i - 1]); i--) {
        char *t = secrets[i];
        secrets[i] = secrets[i - 1];
        secrets[i - 1] = t;
    }
    pthread_mutex_unlock(&mu);
}

void redact_add_header(const char *header)
{
    const char *v = header ? strchr(header, ':') : NULL;
    char *val;
    if (!v)
        return;
    val = pe_strip(v + 1);
    redact_add(val);
    if (!strncasecmp(val, "bearer ", 7) || !strncasecmp(val, "basic ", 6)) {
        char *tok = pe_strip(strchr(val, ' '));
        redact_add(tok);
        free(tok);
    }
    free(val);
}

/* The userinfo span of url: [*start, *end) before the '@' of the authority. */
static int userinfo_span(const char *url, const char **start, const char **end)
{
    const char *p = strstr(url, "://"), *auth_end, *at;
    if (!p)
        return 0;
    p += 3;
    auth_end = p + strcspn(p, "/?# \t\r\n\"'<>");
    at = memchr(p, '@', (size_t)(auth_end - p));
    if (!at)
        return 0;
    /* the last '@' of the authority ends the userinfo */
    for (const char *q = at; q && q < auth_end; q = memchr(q + 1, '@', (size_t)(auth_end - q - 1)))
        at = q;
    *start = p;
    *end = at;
    return 1;
}

void redact_add_url(const char *url)
{
    const char *s, *e, *colon;
    char *ui;
    if (!url || !userinfo_span(url, &s, &e))
        return;
    ui = xstrndup(s, (size_t)(e - s));
    redact_add(ui);
    colon = strchr(ui, ':');
    if (colon)
        redact_add(colon + 1);
    free(ui);
}

void redact_clear(void)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < nsecrets; i++)
        free(secrets[i]);
    free(secrets);
    secrets = NULL;
    nsecrets = capsecrets = 0;
    pthread_mutex_unlock(&mu);
}

static int tokc(char c)
{
    return isalnum((unsigned char)c) || (c && strchr("-._~+/=", c) != NULL);
}

/* Replace credential-shaped tokens of s into b. */
static void patterns(buf *b, const char *s)
{
    const char *p = s;
    while (*p) {
        const char *q;
        size_t sch = !strncasecmp(p, "bearer", 6) ? 6 : !strncasecmp(p, "basic", 5) ? 5 : 0;
        if ((p == s || !isalnum((unsigned char)p[-1])) && sch &&
            (p[sch] == ' ' || p[sch] == '\t')) {
            q = p + sch;
            while (*q == ' ' || *q == '\t')
                q++;
            if (tokc(*q) && strncmp(q, REDACT_MARK, 3)) {
                buf_add(b, p, (size_t)(q - p));
                buf_adds(b, REDACT_MARK);
                while (tokc(*q))
                    q++;
                p = q;
                continue;
            }
        }
        if ((p == s || !isalnum((unsigned char)p[-1])) && !strncmp(p, "sk-", 3)) {
            size_t n = 0;
            q = p + 3;
            while (isalnum((unsigned char)q[n]) || q[n] == '-' || q[n] == '_')
                n++;
            if (n >= MIN_SK_TOKEN) {
                buf_adds(b, "sk-" REDACT_MARK);
                p = q + n;
                continue;
            }
        }
        if (!strncmp(p, "://", 3)) {
            const char *us, *ue;
            if (userinfo_span(p, &us, &ue) &&
                (size_t)(ue - us) > 0 && strncmp(us, REDACT_MARK "@", 4)) {
                buf_adds(b, "://" REDACT_MARK);
                p = ue;
                continue;
            }
        }
        buf_addc(b, *p++);
    }
}

char *redact(const char *s)
{
    buf a = BUF_INIT, b = BUF_INIT;
    if (!s)
        return NULL;
    buf_adds(&a, s);
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < nsecrets; i++) {
        const char *p = buf_str(&a), *hit;
        size_t kl = strlen(secrets[i]);
        if (!strstr(p, secrets[i]))
            continue;
        buf_reset(&b);
        while ((hit = strstr(p, secrets[i]))) {
            buf_add(&b, p, (size_t)(hit - p));
            buf_adds(&b, REDACT_MARK);
            p = hit + kl;
        }
        buf_adds(&b, p);
        buf_reset(&a);
        buf_add(&a, b.data, b.len);
    }
    pthread_mutex_unlock(&mu);
    buf_reset(&b);
    patterns(&b, buf_str(&a));
    buf_free(&a);
    return buf_detach(&b);
}

void redact_inplace(char *s, size_t cap)
{
    char *r;
    if (!s || !cap)
        return;
    r = redact(s);
    snprintf(s, cap, "%s", r);
    free(r);
}

void redact_err(pe_err *e)
{
    if (e)
        redact_inplace(e->msg, sizeof e->msg);
}

char *redact_url(const char *url)
{
    const char *s, *e;
    if (!url)
        return NULL;
    if (!userinfo_span(url, &s, &e))
        return xstrdup(url);
    return xasprintf("%.*s%s", (int)(s - url), url, e + 1);
}
