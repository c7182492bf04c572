/* bench_llm: chat throughput against the reference server of loopback_fixed.h
 * (one write exactly 100 ms after each request), every pass beside the ideal
 * calls x latency / workers:
 *   - the server alone from a minimal client (blocking sockets, one keep-alive
 *     connection per thread): what any client can reach on this machine now;
 *   - 3,000 single-call llm_chat() requests in process at -j 32 and -j 128,
 *     and over two replicas (two servers) at -j 64 each;
 *   - the same through the binary: `persona-eval run --method prompt` on a
 *     generated lamp2m file of 3,000 users with one query each, timed from
 *     exec to exit, and its answering phase alone (run.json's wall_s);
 *   - tests/loopback_server.py (the tests' scriptable server) from the minimal
 *     client at -j 128, which shows why it is not the reference;
 *   - client CPU per call, and the calls recorded into and replayed from a cache.
 * Every timed pass runs BENCH_LLM_RUNS times (default 3); printed are the
 * median wall time, its ratio to the ideal and the range of ratios. "floor" is
 * ceil(calls / workers) x latency / ideal: whole rounds of 100 ms. Printed,
 * never asserted. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "llm.h"
#include "loopback.h"
#include "loopback_fixed.h"

#define CALLS 3000
#define MAX_WORKERS 128
#define MAX_RUNS 15
#define LATENCY 0.1

typedef struct pass_cfg {
    const char *base, *replica;    /* replica: NULL or a second base URL */
    int port, port2;               /* the minimal client's servers (port2: 0 or a second) */
    int workers;
    cache *ca;
    const char *data, *dir;        /* the binary's input file and scratch folder */
} pass_cfg;

typedef struct pass_result {
    double wall, cpu, inner;       /* inner: the binary's answering phase (run.json) */
    unsigned long http, hits;
    int failures;
} pass_result;

static int next_call, failures;

static double cpu_now(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
           u.ru_stime.tv_usec / 1e6;
}

static int take_call(void)
{
    return __atomic_fetch_add(&next_call, 1, __ATOMIC_SEQ_CST);
}

static void failed(void)
{
    __atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST);
}

/* ---- the minimal client: one blocking keep-alive connection per thread ---- */

typedef struct raw_arg {
    int port;
} raw_arg;

static int raw_exchange(int fd, const char *req, size_t n)
{
    char b[4096], *end, *cl;
    size_t have = 0;
    if (write(fd, req, n) != (ssize_t)n)
        return -1;
    for (;;) {
        ssize_t r = read(fd, b + have, sizeof b - 1 - have);
        if (r <= 0)
            return -1;
        have += (size_t)r;
        b[have] = '\0';
        if ((end = strstr(b, "\r\n\r\n")) && (cl = strcasestr(b, "content-length:")) &&
            have >= (size_t)(end + 4 - b) + strtoul(cl + 15, NULL, 10))
            return strncmp(b, "HTTP/1.1 200", 12) == 0 ? 0 : -1;
        if (have == sizeof b - 1)
            return -1;
    }
}

static void *raw_run(void *p)
{
    const raw_arg *a = p;
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)a->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        failed();
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (int i; (i = take_call()) < CALLS;) {
        char body[256], req[512];
        int nb = snprintf(body, sizeof body,
                          "{\"model\":\"bench-model\",\"messages\":[{\"role\":\"user\","
                          "\"content\":\"Which tag does this movie relate to? description: "
                          "film %d\"}]}",
                          i);
        int n = snprintf(req, sizeof req,
                         "POST /c/latency=0.1/v1/chat/completions HTTP/1.1\r\nHost: "
                         "127.0.0.1:%d\r\nContent-Type: application/json\r\nContent-Length: "
                         "%d\r\n\r\n%s",
                         a->port, nb, body);
        if (raw_exchange(fd, req, (size_t)n) != 0) {
            failed();
            break;
        }
    }
    close(fd);
    return NULL;
}

static pass_result raw_pass(const pass_cfg *c)
{
    pthread_t th[MAX_WORKERS];
    raw_arg a[MAX_WORKERS];
    pass_result r = {0};
    double t0 = pe_now();
    for (int i = 0; i < c->workers; i++) {
        a[i].port = c->port2 && i % 2 ? c->port2 : c->port;
        pthread_create(&th[i], NULL, raw_run, &a[i]);
    }
    for (int i = 0; i < c->workers; i++)
        pthread_join(th[i], NULL);
    r.wall = pe_now() - t0;
    return r;
}

/* ---- in process: llm_chat() from worker threads ---- */

static llm_client *CL;

static void *llm_run(void *p)
{
    llm_worker *w = llm_worker_new(CL);
    (void)p;
    for (int i; (i = take_call()) < CALLS;) {
        char text[96];
        llm_msg m[2] = {{LLM_SYSTEM, "You are a helpful personalized assistant.", NULL, 0, NULL},
                        {LLM_USER, text, NULL, 0, NULL}};
        llm_request rq = {0};
        llm_response r;
        snprintf(text, sizeof text, "Which tag does this movie relate to? description: film %d",
                 i);
        rq.msgs = m;
        rq.nmsgs = 2;
        rq.temperature = -1;
        if (llm_chat(w, &rq, &r, NULL) != 0)
            failed();
        llm_response_free(&r);
    }
    llm_worker_free(w);
    return NULL;
}

static pass_result llm_pass(const pass_cfg *c)
{
    llm_config cfg;
    pthread_t th[MAX_WORKERS];
    llm_totals t;
    pass_result r = {0};
    double t0, c0;

    llm_config_default(&cfg);
    cfg.base_url = c->base;
    cfg.replicas = &c->replica;
    cfg.nreplicas = c->replica != NULL;
    cfg.model = "bench-model";
    cfg.cache = c->ca;
    cfg.max_inflight = c->workers; /* as `run -j` sets it */
    CL = llm_client_new(&cfg, NULL);
    t0 = pe_now();
    c0 = cpu_now();
    for (int i = 0; i < c->workers; i++)
        pthread_create(&th[i], NULL, llm_run, NULL);
    for (int i = 0; i < c->workers; i++)
        pthread_join(th[i], NULL);
    r.wall = pe_now() - t0;
    r.cpu = cpu_now() - c0;
    llm_get_totals(CL, &t);
    r.http = t.http_requests;
    r.hits = t.cache_hits;
    llm_client_free(CL);
    return r;
}

/* ---- through the binary ---- */

/* lamp2m users with one history item and one query each */
static void write_dataset(const char *path)
{
    static const char *const tags[] = {"comedy", "action", "classic", "romance", "fantasy"};
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    for (int u = 0; u < CALLS; u++)
        fprintf(f,
                "{\"user\":\"b%05d\",\"task\":\"lamp2m\",\"history\":[{\"id\":\"b%05d-h0\","
                "\"date\":\"2008-10-14\",\"description\":\"A bored funeral director botches a "
                "robbery, take %d.\",\"label\":\"%s\"}],\"queries\":[{\"id\":\"b%05d-q0\","
                "\"date\":\"2016-04-08\",\"input\":\"Which tag does this movie relate to among "
                "the following tags? Just answer with the tag name without further "
                "explanation. tags: [sci-fi, based on a book, comedy, action, twist ending, "
                "dystopia, dark comedy, classic, psychology, fantasy, romance, "
                "thought-provoking, social commentary, violence, true story] description: A "
                "village doctor writes letters to a soldier overseas, film %d.\",\"gold\":\"%s\"}]}\n",
                u, u, u, tags[u % 5], u, u, tags[(u / 5) % 5]);
    fclose(f);
}

static double json_number_after(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p ? strtod(p + strlen(key), NULL) : -1;
}

static pass_result bin_pass(const pass_cfg *c)
{
    const char *bin = getenv("PE_BIN") ? getenv("PE_BIN") : "./persona-eval";
    char *out = xasprintf("%s/run", c->dir), *err = xasprintf("%s/stderr", c->dir);
    char j[16], *runjson;
    pass_result r = {0};
    int st = -1;
    double t0;
    pid_t pid;

    tu_rmrf(out);
    snprintf(j, sizeof j, "%d", c->workers);
    t0 = pe_now();
    pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY), fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const char *argv[24] = {bin, "run", "--task", "lamp2m", "--data", c->data,
                                "--method", "prompt", "--model", "bench-model", "--cache",
                                "off", "-j", j, "--progress", "never", "-q", "--out", out,
                                "--endpoint", c->base};
        int n = 21;
        if (c->replica) {
            argv[n++] = "--endpoint";
            argv[n++] = c->replica;
        }
        argv[n] = NULL;
        dup2(fd, 1);
        dup2(fe, 2);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char *t = tu_read(err);
        fprintf(stderr, "persona-eval run failed (status %d): %.500s\n", st, t);
        free(t);
        failed();
    }
    r.wall = pe_now() - t0;
    runjson = tu_path(out, "run.json");
    {
        char *t = tu_read(runjson);
        r.inner = json_number_after(t, "\"wall_s\": ");
        if (json_number_after(t, "\"errors\": ") != 0)
            failed();
        free(t);
    }
    free(runjson);
    tu_rmrf(out);
    free(out);
    free(err);
    return r;
}

/* ---- the table ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void row(const char *name, int workers, double *walls, int n, const char *target)
{
    double ideal = CALLS * LATENCY / workers, floor_ = ((CALLS + workers - 1) / workers) * LATENCY;
    double m = median(walls, n);
    printf("%-34s %4d %8.3f %7.3f %7.3f  %5.3f-%5.3f %6.3f  %s\n", name, workers, m, ideal,
           m / ideal, walls[0] / ideal, walls[n - 1] / ideal, floor_ / ideal, target);
}

/* Run a pass `runs` times and print its row (and, for the binary, the
 * answering phase's row). */
static void timed(const char *name, pass_result (*fn)(const pass_cfg *), const pass_cfg *c,
                  int runs, const char *target)
{
    double walls[MAX_RUNS], inner[MAX_RUNS], cpu[MAX_RUNS];
    int bad = 0;
    for (int k = 0; k < runs; k++) {
        pass_result r;
        next_call = 0;
        failures = 0;
        r = fn(c);
        walls[k] = r.wall;
        inner[k] = r.inner;
        cpu[k] = r.cpu;
        bad += failures;
    }
    row(name, c->workers, walls, runs, target);
    if (fn == bin_pass) {
        char sub[64];
        snprintf(sub, sizeof sub, "  answering phase (run.json)");
        row(sub, c->workers, inner, runs, "");
    }
    if (fn == llm_pass)
        printf("%-34s client cpu/call %.3f ms (median)\n", "", median(cpu, runs) * 1e3 / CALLS);
    if (bad)
        printf("%-34s FAILURES: %d\n", "", bad);
    fflush(stdout);
}

static void cache_pass(const char *name, const pass_cfg *c)
{
    pass_result r;
    next_call = 0;
    failures = 0;
    r = llm_pass(c);
    printf("%-34s %4d %8.3f s  %9.0f calls/s  cpu/call %.3f ms  http %lu  hits %lu  "
           "failures %d\n",
           name, c->workers, r.wall, CALLS / r.wall, r.cpu * 1e3 / CALLS, r.http, r.hits,
           failures);
}

int main(void)
{
    /* the servers first: they are forked, before any thread exists */
    lbf_server *s = lbf_start(LATENCY), *s2 = lbf_start(LATENCY);
    lb_server *py = lb_start_opt(NULL, 0);
    const char *e = getenv("BENCH_LLM_RUNS");
    int runs = e && atoi(e) > 0 ? atoi(e) : 3;
    char *dir = tu_tmpdir(), *data = tu_path(dir, "users.jsonl"), *cdir = tu_path(dir, "cache");
    cache *ca;
    pass_cfg c = {0};

    if (runs > MAX_RUNS)
        runs = MAX_RUNS;
    write_dataset(data);
    c.base = s->base;
    c.port = s->port;
    c.data = data;
    c.dir = dir;
    printf("%d single-call requests, %.0f ms server latency (loopback_fixed.h); %d runs each\n",
           CALLS, LATENCY * 1e3, runs);
    printf("%-34s %4s %8s %7s %7s  %11s %6s  %s\n", "pass", "-j", "wall s", "ideal", "ratio",
           "ratio range", "floor", "target");

    c.workers = 32;
    timed("server alone, minimal client", raw_pass, &c, runs, "");
    timed("llm_chat in process", llm_pass, &c, runs, "");
    timed("persona-eval run (end to end)", bin_pass, &c, runs, "<= 1.05");
    c.workers = 128;
    timed("server alone, minimal client", raw_pass, &c, runs, "");
    timed("llm_chat in process", llm_pass, &c, runs, "");
    timed("persona-eval run (end to end)", bin_pass, &c, runs, "<= 1.15");
    c.replica = s2->base;
    c.port2 = s2->port;
    timed("2 servers, minimal client, 64 each", raw_pass, &c, runs, "");
    timed("2 replicas, llm_chat, 64 each", llm_pass, &c, runs, "");
    timed("2 replicas, persona-eval run", bin_pass, &c, runs, "<= 1.10");
    c.replica = NULL;
    c.port2 = 0;
    c.port = py->port;
    timed("loopback_server.py, minimal client", raw_pass, &c, runs, "");
    c.port = s->port;

    /* the client's cost with the cache recording every answer, then replaying */
    ca = cache_open(cdir, CACHE_RW, NULL);
    c.ca = ca;
    cache_pass("cold cache (rw), in process", &c);
    c.workers = 32;
    cache_pass("warm cache, in process", &c);
    c.workers = 1;
    cache_pass("warm cache, in process", &c);
    cache_close(ca);

    tu_rmrf(dir);
    free(dir);
    free(data);
    free(cdir);
    lbf_stop(s);
    lbf_stop(s2);
    lb_stop(py);
    return 0;
}
