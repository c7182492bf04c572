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

int pe_open_input(const char *path, FILE **out, pe_err *e)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    *out = NULL;
    if (!f)
        return pe_errf(e, errno == ENOENT || errno == EACCES ? PE_EXIT_NOINPUT : PE_EXIT_IO,
                       "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return pe_errf(e, PE_EXIT_NOINPUT, "%s: is a directory, not a file", path);
    }
    *out = f;
    return 0;
}

int pe_read_file(const char *path, size_t max, char **data, size_t *len, pe_err *e)
{
    FILE *f;
    char *p = NULL;
    size_t n = 0, cap = 0;
    int rc = pe_open_input(path, &f, e);

    *data = NULL;
    *len = 0;
    if (rc)
        return rc;
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

int pe_atomic_open(pe_atomic *w, const char *path, pe_err *e)
{
    /* unique per process and call, so threads and processes never share a temp file */
    static atomic_ulong seq;
    int fd;

    w->path = xstrdup(path);
    w->tmp = xasprintf("%s.tmp.%ld.%lu", path, (long)getpid(),
                       (unsigned long)atomic_fetch_add(&seq, 1));
    fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || !(w->f = fdopen(fd, "wb"))) {
        int err = errno;
        if (fd >= 0) {
            close(fd);
            unlink(w->tmp);
        }
        free(w->path);
        free(w->tmp);
        w->path = w->tmp = NULL;
        w->f = NULL;
        return pe_errf(e, PE_EXIT_IO, "%s: cannot create: %s", path, strerror(err));
    }
    return 0;
}

int pe_atomic_write(pe_atomic *w, const void *data, size_t len, pe_err *e)
{
    if (len && fwrite(data, 1, len, w->f) != len) {
        int err = errno;
        char *path = xstrdup(w->path);
        pe_atomic_abort(w);
        pe_errf(e, PE_EXIT_IO, "%s: write error: %s", path, strerror(err));
        free(path);
        return PE_EXIT_IO;
    }
    return 0;
}

void pe_atomic_abort(pe_atomic *w)
{
    if (w->f) {
        fclose(w->f);
        unlink(w->tmp);
    }
    free(w->path);
    free(w->tmp);
    w->path = w->tmp = NULL;
    w->f = NULL;
}

int pe_atomic_commit(pe_atomic *w, pe_err *e)
{
    int rc = 0, err = 0;
    if (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0)
        err = errno;
    if (fclose(w->f) != 0 && !err)
        err = errno;
    w->f = NULL;
    if (err)
        rc = pe_errf(e, PE_EXIT_IO, "%s: write error: %s", w->path, strerror(err));
    else if (rename(w->tmp, w->path) != 0)
        rc = pe_errf(e, PE_EXIT_IO, "%s: cannot rename into place: %s", w->path,
                     strerror(errno));
    if (rc)
        unlink(w->tmp);
    free(w->path);
    free(w->tmp);
    w->path = w->tmp = NULL;
    return rc;
}

int pe_write_atomic(const char *path, const void *data, size_t len, pe_err *e)
{
    pe_atomic w;
    int rc = pe_atomic_open(&w, path, e);
    if (!rc)
        rc = pe_atomic_write(&w, data, len, e);
    if (!rc)
        rc = pe_atomic_commit(&w, e);
    return rc;
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
