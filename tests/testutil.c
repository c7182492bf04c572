#include "testutil.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

char *tu_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *tmpl = xasprintf("%s/pe-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        abort();
    }
    return tmpl;
}

void tu_rmrf(const char *path)
{
    if (path && *path && strcmp(path, "/") != 0)
        tu_sh(NULL, NULL, "rm -rf '%s'", path);
}

static char *slurp_and_remove(const char *path)
{
    char *data = NULL;
    size_t len;
    if (pe_read_file(path, 0, &data, &len, NULL) != 0)
        data = xstrdup("");
    unlink(path);
    return data;
}

int tu_sh(char **out, char **err, const char *fmt, ...)
{
    va_list ap;
    char *cmd, *full, *dir = NULL, *o = NULL, *e = NULL;
    int st;

    va_start(ap, fmt);
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    if (out || err) {
        dir = tu_tmpdir();
        o = tu_path(dir, "out");
        e = tu_path(dir, "err");
        full = xasprintf("( %s ) >'%s' 2>'%s' </dev/null", cmd, o, e);
    } else {
        full = xasprintf("( %s ) </dev/null", cmd);
    }
    st = system(full);
    if (out)
        *out = slurp_and_remove(o);
    if (err)
        *err = slurp_and_remove(e);
    if (dir)
        rmdir(dir);
    free(dir);
    free(o);
    free(e);
    free(full);
    free(cmd);
    if (st == -1)
        return -1;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}

const char *tu_bin(void)
{
    const char *b = getenv("PE_BIN");
    return b && *b ? b : "./persona-eval";
}

const char *tu_root(void)
{
    static char cwd[4096];
    if (!cwd[0] && !getcwd(cwd, sizeof cwd))
        abort();
    return cwd;
}

char *tu_read(const char *path)
{
    char *data;
    size_t len;
    if (pe_read_file(path, 0, &data, &len, NULL) != 0)
        return xstrdup("");
    return data;
}

void tu_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        abort();
    }
    fputs(text, f);
    fclose(f);
}

int tu_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

char *tu_path(const char *dir, const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

int tu_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

double tu_run_timed(char *const argv[], long *rss_kb)
{
    struct rusage ru;
    int st;
    double t = pe_now();
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pid < 0 || wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    *rss_kb = ru.ru_maxrss;
    return pe_now() - t;
}
