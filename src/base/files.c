#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

int pe_read_file(const char *path, size_t max, char **data, size_t *len, pe_err *e)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    size_t n = 0, cap = 0;

    *data = NULL;
    *len = 0;
    if (!f)
        return pe_errf(e, errno == ENOENT || errno == EACCES ? PE_EXIT_NOINPUT : PE_EXIT_IO,
                       "%s: cannot open: %s", path, strerror(errno));
    for (;;) {
        size_t got;
        p = xgrow(p, &cap, n + 65536 + 1, 1);
        got = fread(p + n, 1, cap - n - 1, f);
        n += got;
        if (max && n > max) {
            fclose(f);
            free(p);
            return pe_errf(e, PE_EXIT_DATA, "%s: file is larger than the limit of %zu bytes",
                           path, max);
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int err = errno;
        fclose(f);
        free(p);
        return pe_errf(e, PE_EXIT_IO, "%s: read error: %s", path, strerror(err));
    }
    fclose(f);
    p[n] = '\0';
    *data = p;
    *len = n;
    return 0;
}

int pe_write_atomic(const char *path, const void *data, size_t len, pe_err *e)
{
    /* unique per process and call, so threads and processes never share a temp file */
    static atomic_ulong seq;
    char *tmp = xasprintf("%s.tmp.%ld.%lu", path, (long)getpid(),
                          (unsigned long)atomic_fetch_add(&seq, 1));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const char *p = data;
    size_t left = len;

    if (fd < 0) {
        int err = errno;
        free(tmp);
        return pe_errf(e, PE_EXIT_IO, "%s: cannot create: %s", path, strerror(err));
    }
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int err = errno;
            close(fd);
            unlink(tmp);
            free(tmp);
            return pe_errf(e, PE_EXIT_IO, "%s: write error: %s", path, strerror(err));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int err = errno;
        unlink(tmp);
        free(tmp);
        return pe_errf(e, PE_EXIT_IO, "%s: write error: %s", path, strerror(err));
    }
    if (rename(tmp, path) != 0) {
        int err = errno;
        unlink(tmp);
        free(tmp);
        return pe_errf(e, PE_EXIT_IO, "%s: cannot rename into place: %s", path, strerror(err));
    }
    free(tmp);
    return 0;
}

int pe_write_atomic_in(const char *dir, const char *name, const void *data, size_t len,
                       pe_err *e)
{
    char *p = xasprintf("%s/%s", dir, name);
    int rc = pe_write_atomic(p, data, len, e);
    free(p);
    return rc;
}

int pe_mkdirs(const char *path, pe_err *e)
{
    char *p = xstrdup(path);
    size_t n = strlen(p);

    for (size_t i = 1; i <= n; i++) {
        if (p[i] == '/' || p[i] == '\0') {
            char c = p[i];
            p[i] = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                int err = errno;
                pe_errf(e, PE_EXIT_IO, "%s: cannot create directory: %s", p, strerror(err));
                free(p);
                return PE_EXIT_IO;
            }
            p[i] = c;
        }
    }
    free(p);
    return 0;
}

int pe_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}
