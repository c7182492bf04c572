/*
 * loopback: start and stop tests/loopback_server.py (a Python 3 stdlib
 * OpenAI-compatible fake) from a test or benchmark. Header-only so that the
 * suites that need it include it without a Makefile change.
 *
 * Ownership: lb_start() returns a server stopped and freed by lb_stop().
 */
#ifndef PE_TEST_LOOPBACK_H
#define PE_TEST_LOOPBACK_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "util.h"

typedef struct lb_server {
    pid_t pid;
    int port;
    char *dir;    /* temporary folder holding script.json and requests.jsonl */
    char *log;    /* requests.jsonl */
    char *base;   /* "http://127.0.0.1:PORT/v1" */
} lb_server;

/* Start the server with an optional script (JSON text, NULL = none); record
 * requests to s->log when record is set. */
static inline lb_server *lb_start_opt(const char *script, int record)
{
    lb_server *s = xcalloc(1, sizeof *s);
    char *spath, *srv, line[32] = {0};
    int fd[2];
    FILE *f;

    s->dir = tu_tmpdir();
    s->log = tu_path(s->dir, "requests.jsonl");
    spath = tu_path(s->dir, "script.json");
    tu_write(spath, script ? script : "{}");
    srv = tu_path(tu_root(), "tests/loopback_server.py");
    if (pipe(fd) != 0)
        abort();
    s->pid = fork();
    if (s->pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        if (record)
            execlp("python3", "python3", srv, "--script", spath, "--log", s->log, (char *)NULL);
        else
            execlp("python3", "python3", srv, "--script", spath, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    f = fdopen(fd[0], "r");
    if (!f || !fgets(line, sizeof line, f) || (s->port = atoi(line)) <= 0) {
        fprintf(stderr, "loopback server did not start\n");
        abort();
    }
    fclose(f);
    s->base = xasprintf("http://127.0.0.1:%d/v1", s->port);
    free(spath);
    free(srv);
    return s;
}

static inline lb_server *lb_start(const char *script)
{
    return lb_start_opt(script, 1);
}

/* A base URL with default-responder controls ("latency=0.1,nousage"). */
static inline char *lb_base_ctl(const lb_server *s, const char *controls)
{
    return xasprintf("http://127.0.0.1:%d/c/%s/v1", s->port, controls);
}

/* The recorded requests so far (JSONL text; caller frees). */
static inline char *lb_requests(const lb_server *s)
{
    return tu_read(s->log);
}

/* Number of recorded requests. */
static inline int lb_count(const lb_server *s)
{
    char *t = lb_requests(s);
    int n = 0;
    for (const char *p = t; *p; p++)
        n += *p == '\n';
    free(t);
    return n;
}

static inline void lb_stop(lb_server *s)
{
    if (!s)
        return;
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    tu_rmrf(s->dir);
    free(s->dir);
    free(s->log);
    free(s->base);
    free(s);
}

#endif
