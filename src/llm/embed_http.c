#include "embed_http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct embed_http {
    llm_client *client;
    size_t batch;
    pthread_mutex_t mu;
    llm_worker **idle; /* workers not in use */
    size_t nidle, cap;
    size_t dim;       /* 0 until a response arrived */
    int succeeded;    /* an embeddings request of this backend succeeded */
    int fatal;        /* failed before any success: every call returns fatal_msg */
    char fatal_msg[sizeof(((pe_err *)0)->msg)];
};

embed_http *embed_http_new(llm_client *c, size_t batch)
{
    embed_http *h = xcalloc(1, sizeof *h);
    h->client = c;
    h->batch = batch;
    pthread_mutex_init(&h->mu, NULL);
    return h;
}

void embed_http_free(embed_http *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->nidle; i++)
        llm_worker_free(h->idle[i]);
    free(h->idle);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static llm_worker *worker_take(embed_http *h)
{
    llm_worker *w = NULL;
    pthread_mutex_lock(&h->mu);
    if (h->nidle)
        w = h->idle[--h->nidle];
    pthread_mutex_unlock(&h->mu);
    return w ? w : llm_worker_new(h->client);
}

static void worker_give(embed_http *h, llm_worker *w)
{
    pthread_mutex_lock(&h->mu);
    h->idle = xgrow(h->idle, &h->cap, h->nidle + 1, sizeof *h->idle);
    h->idle[h->nidle++] = w;
    pthread_mutex_unlock(&h->mu);
}

/* Record how a call ended; returns the code the caller reports. */
static int outcome(embed_http *h, int rc, size_t dim, pe_err *e)
{
    pthread_mutex_lock(&h->mu);
    if (rc == 0) {
        h->succeeded = 1;
        if (!h->dim)
            h->dim = dim;
    } else if (rc == PE_EXIT_RUNERRORS && !h->succeeded) {
        if (!h->fatal) {
            h->fatal = 1;
            snprintf(h->fatal_msg, sizeof h->fatal_msg,
                     "the embeddings endpoint failed before any request succeeded; stopping "
                     "(check --embed-endpoint, --embed-model and the key): %.900s",
                     e ? e->msg : "");
        }
        rc = pe_errf(e, PE_EXIT_UNAVAILABLE, "%s", h->fatal_msg);
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

/* Embed n texts (one llm_embed call) into out, checking the dimension
 * against want (0 = any); *dim receives it. */
static int embed_chunk(embed_http *h, llm_worker *w, const char *const *texts, size_t n,
                       float *out, size_t want, size_t *dim, pe_err *e)
{
    const char **in = xmalloc(n * sizeof *in);
    float *v = NULL;
    size_t d = 0;
    int rc;

    for (size_t i = 0; i < n; i++)
        in[i] = texts[i] && *texts[i] ? texts[i] : " ";
    rc = llm_embed(w, in, n, 1, &v, &d, e);
    free(in);
    rc = outcome(h, rc, d, e);
    if (rc == 0 && want && d != want)
        rc = pe_errf(e, PE_EXIT_USAGE,
                     "the embeddings endpoint returns %zu-dimensional vectors but the encoder "
                     "expects %zu (leave --dim unset to use the model's dimension)",
                     d, want);
    if (rc == 0 && out)
        memcpy(out, v, n * d * sizeof *out);
    free(v);
    *dim = d;
    return rc;
}

static int check_fatal(embed_http *h, pe_err *e)
{
    int fatal;
    pthread_mutex_lock(&h->mu);
    fatal = h->fatal;
    pthread_mutex_unlock(&h->mu);
    return fatal ? pe_errf(e, PE_EXIT_UNAVAILABLE, "%s", h->fatal_msg) : 0;
}

int embed_http_encode(void *ctx, const char *const *texts, size_t n, float *out, size_t d,
                      pe_err *e)
{
    embed_http *h = ctx;
    size_t step = h->batch ? h->batch : n, got;
    llm_worker *w;
    int rc;

    if ((rc = check_fatal(h, e)) != 0 || n == 0)
        return rc;
    w = worker_take(h);
    for (size_t s = 0; s < n && rc == 0; s += step) {
        size_t m = n - s < step ? n - s : step;
        rc = embed_chunk(h, w, texts + s, m, out + s * d, d, &got, e);
    }
    worker_give(h, w);
    return rc;
}

size_t embed_http_dim(embed_http *h)
{
    size_t d;
    pthread_mutex_lock(&h->mu);
    d = h->dim;
    pthread_mutex_unlock(&h->mu);
    return d;
}

int embed_http_probe_dim(embed_http *h, size_t *dim, pe_err *e)
{
    const char *probe[] = {EMBED_HTTP_PROBE_TEXT};
    llm_worker *w;
    int rc;

    *dim = embed_http_dim(h);
    if (*dim)
        return 0;
    if ((rc = check_fatal(h, e)) != 0)
        return rc;
    w = worker_take(h);
    rc = embed_chunk(h, w, probe, 1, NULL, 0, dim, e);
    worker_give(h, w);
    if (rc != 0)
        *dim = 0;
    return rc;
}

int embed_http_encoder_opts(embed_http *h, encoder_opts *o, pe_err *e)
{
    o->kind = ENCODER_BACKEND;
    o->backend = embed_http_encode;
    o->backend_ctx = h;
    if (!o->dim)
        return embed_http_probe_dim(h, &o->dim, e);
    return 0;
}
