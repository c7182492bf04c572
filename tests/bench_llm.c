/* bench_llm: chat throughput against the loopback server answering in one
 * write after 100 ms: 3,000 single-call requests at 32 and 128 workers (-j),
 * then over two replicas (two servers) at 64 workers each, each beside the
 * ideal calls x latency / workers; client CPU per call; then the same calls
 * from a warm cache (no HTTP at all). Printed, never asserted. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cache.h"
#include "llm.h"
#include "loopback.h"

#define CALLS 3000
#define WORKERS 32
#define MAX_WORKERS 128
#define LATENCY 0.1

static llm_client *CL;
static int next_call;
static int failures;

static void *run(void *p)
{
    llm_worker *w = llm_worker_new(CL);
    (void)p;
    for (;;) {
        int i = __atomic_fetch_add(&next_call, 1, __ATOMIC_SEQ_CST);
        char text[96];
        llm_msg m[2] = {{LLM_SYSTEM, "You are a helpful personalized assistant.", NULL, 0, NULL},
                        {LLM_USER, text, NULL, 0, NULL}};
        llm_request rq = {0};
        llm_response r;
        if (i >= CALLS)
            break;
        snprintf(text, sizeof text, "Which tag does this movie relate to? description: film %d",
                 i);
        rq.msgs = m;
        rq.nmsgs = 2;
        rq.temperature = -1;
        if (llm_chat(w, &rq, &r, NULL) != 0)
            __atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST);
        llm_response_free(&r);
    }
    llm_worker_free(w);
    return NULL;
}

static double cpu_now(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
           u.ru_stime.tv_usec / 1e6;
}

/* replicas: NULL or a second base URL */
static void pass(const char *name, const char *base, const char *replica, cache *ca, int workers)
{
    llm_config c;
    pthread_t th[MAX_WORKERS];
    llm_totals t;
    double t0, c0, wall, cpu;

    llm_config_default(&c);
    c.base_url = base;
    c.replicas = &replica;
    c.nreplicas = replica != NULL;
    c.model = "bench-model";
    c.cache = ca;
    CL = llm_client_new(&c, NULL);
    next_call = 0;
    failures = 0;
    t0 = pe_now();
    c0 = cpu_now();
    for (int i = 0; i < workers; i++)
        pthread_create(&th[i], NULL, run, NULL);
    for (int i = 0; i < workers; i++)
        pthread_join(th[i], NULL);
    wall = pe_now() - t0;
    cpu = cpu_now() - c0;
    llm_get_totals(CL, &t);
    printf("%-22s %5d calls  %3d workers  wall %7.3f s  %9.0f calls/s  cpu/call %.3f ms  "
           "http %lu  hits %lu  failures %d\n",
           name, CALLS, workers, wall, CALLS / wall, cpu * 1e3 / CALLS, t.http_requests,
           t.cache_hits, failures);
    if (ca == NULL || t.cache_hits == 0) {
        double ideal = CALLS * LATENCY / workers;
        printf("%-22s ideal %.3f s  ratio %.3f\n", "", ideal, wall / ideal);
    }
    llm_client_free(CL);
}

int main(void)
{
    lb_server *s = lb_start_opt(NULL, 0), *s2 = lb_start_opt(NULL, 0);
    char *base = lb_base_ctl(s, "latency=0.1"), *base2 = lb_base_ctl(s2, "latency=0.1");
    char *dir = tu_tmpdir();
    cache *ca = cache_open(dir, CACHE_RW, NULL);

    /* the client's own cost first, then with the cache recording every answer */
    pass("no cache, -j 32", base, NULL, NULL, 32);
    pass("no cache, -j 128", base, NULL, NULL, 128);
    pass("2 replicas, -j 64 each", base, base2, NULL, 128);
    pass("cold (cache rw)", base, NULL, ca, WORKERS);
    pass("warm cache, 32 workers", base, NULL, ca, WORKERS);
    pass("warm cache, 1 worker", base, NULL, ca, 1);
    cache_close(ca);
    tu_rmrf(dir);
    free(dir);
    free(base);
    free(base2);
    lb_stop(s);
    lb_stop(s2);
    return 0;
}
