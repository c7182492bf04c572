/*
 * loopback_fixed: the benchmarks' reference server. A forked child process on
 * 127.0.0.1 answers every HTTP/1.1 request (keep-alive, any path) with one
 * fixed OpenAI chat completion, status line, headers and body in one write,
 * exactly `latency` seconds after the request's last byte was read. Requests
 * fall due in arrival order (the latency is the same for all), so pending
 * answers are a FIFO served by one absolute timerfd; one thread, epoll,
 * TCP_NODELAY, a listen backlog of 4096. Its own cost is a few microseconds a
 * request, so any time a benchmark measures beyond calls x latency / workers
 * is the client's (tests/loopback_server.py, the tests' scriptable server,
 * runs Python code per request and is itself a bottleneck at 128 connections).
 * Header-only, like loopback.h.
 *
 * Ownership: lbf_start() returns a server stopped and freed by lbf_stop().
 * Start servers before the process creates threads (the child is forked).
 */
#ifndef PE_TEST_LOOPBACK_FIXED_H
#define PE_TEST_LOOPBACK_FIXED_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

typedef struct lbf_server {
    pid_t pid;
    int port;
    char *base; /* "http://127.0.0.1:PORT/v1" */
} lbf_server;

/* The answer: a valid chat completion whose content is a LaMP-2M label. */
#define LBF_BODY                                                                              \
    "{\"id\":\"chatcmpl-fixed\",\"object\":\"chat.completion\",\"created\":0,\"model\":"      \
    "\"bench-model\",\"choices\":[{\"index\":0,\"finish_reason\":\"stop\",\"message\":{"     \
    "\"role\":\"assistant\",\"content\":\"comedy\"}}],\"usage\":{\"prompt_tokens\":11,"     \
    "\"completion_tokens\":7,\"total_tokens\":18}}"

typedef struct lbf_conn {
    int fd;
    size_t len;
    char buf[65536]; /* a request larger than this closes the connection */
} lbf_conn;

typedef struct lbf_due {
    int fd;
    struct timespec at;
} lbf_due;

static inline int lbf_ts_le(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec <= b->tv_nsec);
}

/* The length of the first complete request in c->buf, 0 when incomplete. */
static inline size_t lbf_request_len(lbf_conn *c)
{
    char *end, *p;
    size_t head, body = 0;
    c->buf[c->len] = '\0';
    if (!(end = strstr(c->buf, "\r\n\r\n")))
        return 0;
    head = (size_t)(end + 4 - c->buf);
    for (p = c->buf; p && p < end; p = strstr(p, "\r\n"), p = p ? p + 2 : NULL)
        if (strncasecmp(p, "content-length:", 15) == 0)
            body = strtoul(p + 15, NULL, 10);
    return c->len >= head + body ? head + body : 0;
}

static inline void lbf_arm(int tfd, const struct timespec *at)
{
    struct itimerspec it;
    memset(&it, 0, sizeof it);
    it.it_value = *at;
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &it, NULL);
}

static inline void lbf_serve(int ls, double latency)
{
    static const char body[] = LBF_BODY;
    char reply[512];
    int nreply = snprintf(reply, sizeof reply,
                          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n%s",
                          sizeof body - 1, body);
    int ep = epoll_create1(0), tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK), one = 1;
    long lat_ns = (long)(latency * 1e9);
    lbf_due *q = NULL;
    size_t qh = 0, qt = 0, qcap = 0;
    struct epoll_event ev;
    static int ls_tag, tfd_tag;

    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = &ls_tag;
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    ev.data.ptr = &tfd_tag;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    for (;;) {
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == &ls_tag) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    lbf_conn *c = malloc(sizeof *c);
                    if (!c)
                        _exit(1);
                    c->fd = fd;
                    c->len = 0;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    ev.events = EPOLLIN;
                    ev.data.ptr = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
            } else if (tag == &tfd_tag) {
                uint64_t x;
                struct timespec now;
                if (read(tfd, &x, sizeof x) < 0 && errno != EAGAIN)
                    _exit(1);
                clock_gettime(CLOCK_MONOTONIC, &now);
                for (; qh < qt && lbf_ts_le(&q[qh].at, &now); qh++)
                    if (q[qh].fd >= 0 && write(q[qh].fd, reply, (size_t)nreply) < 0) {
                        /* the client went away; its connection closes on read */
                    }
                if (qh < qt)
                    lbf_arm(tfd, &q[qh].at);
            } else {
                lbf_conn *c = tag;
                size_t len;
                ssize_t r;
                while ((r = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len)) > 0)
                    c->len += (size_t)r;
                if (r == 0 || (r < 0 && errno != EAGAIN) || c->len >= sizeof c->buf - 1) {
                    for (size_t k = qh; k < qt; k++) /* its answers still due: dropped */
                        if (q[k].fd == c->fd)
                            q[k].fd = -1;
                    close(c->fd);
                    free(c);
                    continue;
                }
                while ((len = lbf_request_len(c)) > 0) {
                    struct timespec at;
                    clock_gettime(CLOCK_MONOTONIC, &at);
                    at.tv_nsec += lat_ns % 1000000000L;
                    at.tv_sec += lat_ns / 1000000000L + at.tv_nsec / 1000000000L;
                    at.tv_nsec %= 1000000000L;
                    if (qt == qcap) {
                        memmove(q, q + qh, (qt - qh) * sizeof *q);
                        qt -= qh;
                        qh = 0;
                        if (qt == qcap) {
                            qcap = qcap ? 2 * qcap : 1024;
                            if (!(q = realloc(q, qcap * sizeof *q)))
                                _exit(1);
                        }
                    }
                    q[qt++] = (lbf_due){c->fd, at};
                    if (qt - qh == 1)
                        lbf_arm(tfd, &at);
                    memmove(c->buf, c->buf + len, c->len - len);
                    c->len -= len;
                }
            }
        }
    }
}

static inline lbf_server *lbf_start(double latency)
{
    lbf_server *s = xcalloc(1, sizeof *s);
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 4096) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) != 0) {
        perror("loopback_fixed");
        abort();
    }
    s->port = ntohs(a.sin_port);
    s->base = xasprintf("http://127.0.0.1:%d/v1", s->port);
    fflush(NULL);
    s->pid = fork();
    if (s->pid == 0) {
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_UNBLOCK, &all, NULL); /* SIGTERM stops it */
        signal(SIGTERM, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* no server outlives its benchmark */
        lbf_serve(ls, latency);
        _exit(0);
    }
    if (s->pid < 0) {
        perror("fork");
        abort();
    }
    close(ls);
    return s;
}

static inline void lbf_stop(lbf_server *s)
{
    if (!s)
        return;
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    free(s->base);
    free(s);
}

#endif
