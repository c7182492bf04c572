/* Replicas of one model: least-in-flight choice and resting with backoff. */
#include "llm_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "redact.h"

typedef struct replica {
    char *url, *public_url; /* public_url: for run.json and logs */
    int in_flight, streak, level;
    double rest_until;
    unsigned long requests, errors, rested;
} replica;

struct llm_pool {
    pthread_mutex_t mu;
    size_t n;
    replica *r;
};

static char *trimmed(const char *u)
{
    size_t n = strlen(u);
    while (n > 0 && u[n - 1] == '/')
        n--;
    return xstrndup(u, n);
}

llm_pool *llm_pool_new(const char *const *urls, size_t n)
{
    llm_pool *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    p->n = n;
    p->r = xcalloc(n ? n : 1, sizeof *p->r);
    for (size_t i = 0; i < n; i++) {
        p->r[i].url = trimmed(urls[i]);
        p->r[i].public_url = redact_url(p->r[i].url);
        p->r[i].public_url[strcspn(p->r[i].public_url, "?#")] = '\0'; /* a key may hide there */
    }
    return p;
}

void llm_pool_free(llm_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->r[i].url);
        free(p->r[i].public_url);
    }
    free(p->r);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

size_t llm_pool_size(const llm_pool *p)
{
    return p->n;
}

const char *llm_pool_url(const llm_pool *p, size_t i)
{
    return p->r[i].url;
}

static int usable(const replica *r, size_t i, const unsigned char *tried, double now)
{
    return r->rest_until <= now && !(tried && tried[i]);
}

/* Fewest in flight among the usable; ties go to the replica with fewer
 * requests so far, which spreads a run that never fills any replica. */
static size_t choose(const llm_pool *p, const unsigned char *tried, double now)
{
    size_t best = p->n;
    for (size_t i = 0; i < p->n; i++) {
        const replica *r = &p->r[i];
        if (!usable(r, i, tried, now))
            continue;
        if (best == p->n || r->in_flight < p->r[best].in_flight ||
            (r->in_flight == p->r[best].in_flight && r->requests < p->r[best].requests))
            best = i;
    }
    if (best < p->n)
        return best;
    /* every replica rests or was tried: the untried one back soonest, else any */
    for (int pass = 0; pass < 2 && best == p->n; pass++)
        for (size_t i = 0; i < p->n; i++)
            if ((pass || !(tried && tried[i])) &&
                (best == p->n || p->r[i].rest_until < p->r[best].rest_until))
                best = i;
    return best;
}

size_t llm_pool_acquire(llm_pool *p, const unsigned char *tried, double now)
{
    size_t i;
    pthread_mutex_lock(&p->mu);
    i = choose(p, tried, now);
    p->r[i].in_flight++;
    p->r[i].requests++;
    pthread_mutex_unlock(&p->mu);
    return i;
}

int llm_pool_release(llm_pool *p, size_t i, llm_pool_outcome outcome, double now)
{
    replica *r = &p->r[i];
    int rest = 0;
    pthread_mutex_lock(&p->mu);
    r->in_flight--;
    if (outcome == LLM_POOL_OK) {
        r->streak = 0;
        r->level = 0;
    } else {
        r->errors++;
        r->streak++;
        /* attempts already in flight when it was rested fail too: one rest for them */
        rest = r->rest_until <= now &&
               (outcome == LLM_POOL_DEAD || r->streak >= LLM_POOL_STREAK);
        if (rest) {
            double d = LLM_POOL_REST_BASE_S;
            for (int k = 0; k < r->level && d < LLM_POOL_REST_CAP_S; k++)
                d *= 2;
            r->rest_until = now + (d < LLM_POOL_REST_CAP_S ? d : LLM_POOL_REST_CAP_S);
            r->level++;
            r->rested++;
            r->streak = 0;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return rest;
}

int llm_pool_has_fresh(llm_pool *p, const unsigned char *tried, double now)
{
    int any = 0;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->n && !any; i++)
        any = usable(&p->r[i], i, tried, now);
    pthread_mutex_unlock(&p->mu);
    return any;
}

void llm_pool_stats_get(llm_pool *p, size_t i, double now, llm_pool_stats *s)
{
    const replica *r = &p->r[i];
    pthread_mutex_lock(&p->mu);
    s->url = r->public_url;
    s->requests = r->requests;
    s->errors = r->errors;
    s->rested = r->rested;
    s->in_flight = r->in_flight;
    s->resting = r->rest_until > now;
    pthread_mutex_unlock(&p->mu);
}
