#include "llm_gate.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "http.h"
#include "util.h"

struct llm_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int max_inflight, inflight, cap, ceiling;
    double rps, recover_s, next_slot, last_429, last_change;
    unsigned long admitted, rate_limited;
    void (*log)(void *ctx, const char *msg);
    void *log_ctx;
};

llm_gate *llm_gate_new(int max_inflight, double rps, double recover_s,
                       void (*log)(void *ctx, const char *msg), void *log_ctx)
{
    llm_gate *g = xcalloc(1, sizeof *g);
    g->max_inflight = max_inflight > 0 ? max_inflight : 0;
    g->cap = g->ceiling = g->max_inflight;
    g->rps = rps;
    g->recover_s = recover_s > 0 ? recover_s : 15;
    g->last_429 = g->last_change = -1e9;
    g->log = log;
    g->log_ctx = log_ctx;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    return g;
}

void llm_gate_free(llm_gate *g)
{
    if (!g)
        return;
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
}

void llm_gate_before(void *gate)
{
    llm_gate *g = gate;
    double now = pe_now(), slot = 0;

    pthread_mutex_lock(&g->mu);
    if (g->rps > 0) {
        slot = g->next_slot > now ? g->next_slot : now;
        g->next_slot = slot + 1.0 / g->rps;
    }
    pthread_mutex_unlock(&g->mu);
    http_sleep(slot - pe_now());
    pthread_mutex_lock(&g->mu);
    for (;;) {
        now = pe_now();
        /* grow back only after a shrink (cap below the ceiling it came from) */
        if (g->cap > 0 && g->cap < g->ceiling && now - g->last_429 >= g->recover_s &&
            now - g->last_change >= g->recover_s) {
            g->cap++;
            g->last_change = now;
            if (g->cap >= g->ceiling) {
                pe_logf(g->log, g->log_ctx, "no HTTP 429 for %.0f s: in-flight cap restored", g->recover_s);
                g->cap = g->max_inflight;
            } else {
                pe_logf(g->log, g->log_ctx, "no HTTP 429 for %.0f s: in-flight cap raised to %d",
                          g->recover_s, g->cap);
            }
            pthread_cond_broadcast(&g->cv);
        }
        if (g->cap <= 0 || g->inflight < g->cap)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
    }
    g->inflight++;
    g->admitted++;
    pthread_mutex_unlock(&g->mu);
}

void llm_gate_after(void *gate, long status, int curl_code)
{
    llm_gate *g = gate;
    double now = pe_now();
    (void)curl_code;
    pthread_mutex_lock(&g->mu);
    g->inflight--;
    if (status == 429) {
        g->rate_limited++;
        /* One shrink per episode: 429s within a second of the last shrink belong to it. */
        if (now - g->last_429 > 1.0 || g->cap == 0) {
            int from = g->cap > 0 ? g->cap : g->inflight + 1;
            int to = (int)(from * 0.8);
            if (to < 1)
                to = 1;
            if (g->ceiling < from)
                g->ceiling = from;
            if (to != g->cap) {
                g->cap = to;
                pe_logf(g->log, g->log_ctx, "HTTP 429 from the endpoint: in-flight cap %d -> %d", from, to);
            }
            g->last_change = now;
        }
        g->last_429 = now;
    }
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

int llm_gate_cap(llm_gate *g)
{
    int cap;
    pthread_mutex_lock(&g->mu);
    cap = g->cap;
    pthread_mutex_unlock(&g->mu);
    return cap;
}

void llm_gate_counts(llm_gate *g, unsigned long *admitted, unsigned long *rate_limited)
{
    pthread_mutex_lock(&g->mu);
    *admitted = g->admitted;
    *rate_limited = g->rate_limited;
    pthread_mutex_unlock(&g->mu);
}
