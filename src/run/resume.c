#include "resume.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "jsonu.h"
#include "run_config.h"
#include "settings.h"

int resume_truncate_torn(const char *path, size_t *cut, pe_err *e)
{
    int fd = open(path, O_RDWR);
    struct stat sb;
    off_t end, pos;
    char blk[4096];

    *cut = 0;
    if (fd < 0)
        return errno == ENOENT ? 0
                               : pe_errf(e, PE_EXIT_IO, "%s: cannot open: %s", path,
                                         strerror(errno));
    if (fstat(fd, &sb) != 0) {
        int rc = pe_errf(e, PE_EXIT_IO, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    end = sb.st_size;
    /* scan backwards for the last newline */
    for (pos = end; pos > 0;) {
        off_t from = pos > (off_t)sizeof blk ? pos - (off_t)sizeof blk : 0;
        ssize_t got = pread(fd, blk, (size_t)(pos - from), from);
        if (got != pos - from) {
            int rc = pe_errf(e, PE_EXIT_IO, "%s: read error: %s", path,
                             got < 0 ? strerror(errno) : "short read");
            close(fd);
            return rc;
        }
        for (ssize_t i = got; i > 0; i--)
            if (blk[i - 1] == '\n') {
                pos = from + i;
                goto found;
            }
        pos = from;
    }
found:
    if (pos < end) {
        if (ftruncate(fd, pos) != 0 || fsync(fd) != 0) {
            int rc = pe_errf(e, PE_EXIT_IO, "%s: cannot cut the torn last line: %s", path,
                             strerror(errno));
            close(fd);
            return rc;
        }
        *cut = (size_t)(end - pos);
    }
    close(fd);
    return 0;
}

int resume_repair_dir(const char *dir, size_t *cut, pe_err *e)
{
    static const char *const names[] = {"predictions.jsonl", "traces.jsonl", "personas.jsonl"};
    *cut = 0;
    for (size_t i = 0; i < 3; i++) {
        char *p = xasprintf("%s/%s", dir, names[i]);
        size_t c;
        int rc = resume_truncate_torn(p, &c, e);
        free(p);
        if (rc)
            return rc;
        *cut += c;
    }
    return 0;
}

int resume_read_run(const char *dir, cJSON **run, pe_err *e)
{
    char *p = xasprintf("%s/run.json", dir), *data;
    size_t len, off;
    int rc = pe_read_file(p, 0, &data, &len, e);

    *run = NULL;
    if (rc) {
        pe_err_prefix(e, "--resume: ");
        free(p);
        return rc == PE_EXIT_NOINPUT ? PE_EXIT_USAGE : rc;
    }
    *run = jsonu_parse(data, len, &off);
    if (!*run || !cJSON_IsObject(*run)) {
        size_t line, col;
        jsonu_line_col(data, off, &line, &col);
        rc = pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: not a JSON object", p, line, col);
        cJSON_Delete(*run);
        *run = NULL;
    }
    free(data);
    free(p);
    return rc;
}

int resume_check_config(const char *dir, const cJSON *run, const cJSON *settings, pe_err *e)
{
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(run, "config");
    buf d = BUF_INIT;
    size_t n;
    int rc = 0;

    if (!cJSON_IsObject(rec))
        return pe_errf(e, PE_EXIT_USAGE,
                       "--resume: %s/run.json has no \"config\" object (not a resumable run)",
                       dir);
    n = run_config_diff(rec, settings, &d);
    if (n)
        rc = pe_errf(e, PE_EXIT_USAGE,
                     "--resume: the command line does not match %s/run.json in %zu setting%s: %s",
                     dir, n, n == 1 ? "" : "s", buf_str(&d));
    buf_free(&d);
    return rc;
}

/* An open-addressing set of "method\0user\0id" keys. */
struct resume_set {
    char **key;
    size_t *klen;
    size_t cap, n;
};

static char *make_key(const char *m, const char *u, const char *id, size_t *len)
{
    size_t a = strlen(m), b = strlen(u), c = strlen(id);
    char *k = xmalloc(a + b + c + 3);
    memcpy(k, m, a + 1);
    memcpy(k + a + 1, u, b + 1);
    memcpy(k + a + b + 2, id, c + 1);
    *len = a + b + c + 3;
    return k;
}

static size_t slot_of(const resume_set *s, const char *k, size_t len)
{
    size_t i = (size_t)pe_hash64(k, len, 0) & (s->cap - 1);
    while (s->key[i] && !(s->klen[i] == len && memcmp(s->key[i], k, len) == 0))
        i = (i + 1) & (s->cap - 1);
    return i;
}

resume_set *resume_set_new(const pred_record *recs, size_t n)
{
    resume_set *s = xcalloc(1, sizeof *s);
    s->cap = 16;
    while (s->cap < 2 * n + 2)
        s->cap *= 2;
    s->key = xcalloc(s->cap, sizeof *s->key);
    s->klen = xcalloc(s->cap, sizeof *s->klen);
    for (size_t i = 0; i < n; i++) {
        size_t len, at;
        char *k;
        if (recs[i].error)
            continue;
        k = make_key(recs[i].method, recs[i].user, recs[i].id, &len);
        at = slot_of(s, k, len);
        if (s->key[at]) {
            free(k);
            continue;
        }
        s->key[at] = k;
        s->klen[at] = len;
        s->n++;
    }
    return s;
}

size_t resume_set_count(const resume_set *s)
{
    return s ? s->n : 0;
}

int resume_is_done(void *ctx, const char *mname, const char *user, const char *id)
{
    resume_set *s = ctx;
    size_t len;
    char *k;
    int found;
    if (!s || !s->n)
        return 0;
    k = make_key(mname, user, id, &len);
    found = s->key[slot_of(s, k, len)] != NULL;
    free(k);
    return found;
}

void resume_set_free(resume_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->cap; i++)
        free(s->key[i]);
    free(s->key);
    free(s->klen);
    free(s);
}
