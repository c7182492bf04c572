/* Reading a data file in bounded chunks and cutting it into top-level values:
 * memory is the chunk plus the largest value, never the whole file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "ds_internal.h"
#include "util.h"

static int fill(ds_reader *r, size_t keep, size_t *dropped, int *got, pe_err *e);

int rd_open(ds_reader *r, const char *path, const char *mem, size_t memlen,
            const ds_limits *lim, pe_err *e)
{
    struct stat st;
    sha256_ctx *c;

    memset(r, 0, sizeof *r);
    r->path = path;
    r->line = 1;
    r->keep_all = 1;
    r->chunk = lim->chunk_bytes ? lim->chunk_bytes : DS_DEFAULT_CHUNK;
    r->max_file = lim->max_file_bytes;
    r->max_field = lim->max_field_bytes;
    if (mem) {
        r->mem = mem;
        r->memlen = memlen;
    } else {
        int rc = pe_open_input(path, &r->f, e);
        if (rc)
            return rc;
        if (fstat(fileno(r->f), &st) == 0 && S_ISREG(st.st_mode))
            r->size = (size_t)st.st_size;
        /* a regular file over the limit is refused before reading it */
        if (r->max_file && r->size > r->max_file) {
            fclose(r->f);
            r->f = NULL;
            return pe_errf(e, PE_EXIT_DATA,
                           "%s: file is larger than the limit of %zu bytes (raise it with "
                           "--max-file-bytes)", path, r->max_file);
        }
    }
    c = xmalloc(sizeof *c);
    sha256_init(c);
    r->sha = c;
    /* a byte-order mark is skipped, and columns count from after it */
    while (r->len < 3 && !r->eof) {
        size_t dropped;
        int got, rc = fill(r, 0, &dropped, &got, e);
        if (rc)
            return rc;
    }
    if (r->len >= 3 && memcmp(r->buf, "\xef\xbb\xbf", 3) == 0)
        r->pos = r->start = r->line_start = r->counted = 3;
    return 0;
}

void rd_close(ds_reader *r)
{
    if (r->sha) {
        uint8_t d[32];
        sha256_final(r->sha, d);
        free(r->sha);
    }
    if (r->f)
        fclose(r->f);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

/* Count the newlines before file offset off (not yet dropped from the window). */
static void count_to(ds_reader *r, size_t off)
{
    const char *p = r->buf + (r->counted - r->base), *end = r->buf + (off - r->base), *nl;
    if (off <= r->counted)
        return;
    while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        r->line++;
        r->line_start = r->base + (size_t)(nl - r->buf) + 1;
        p = nl + 1;
    }
    r->counted = off;
}

static void where_off(ds_reader *r, size_t off, size_t *line, size_t *col)
{
    count_to(r, off);
    *line = r->line;
    *col = off - r->line_start + 1;
}

void rd_where(ds_reader *r, size_t *line, size_t *col)
{
    where_off(r, r->base + r->pos, line, col);
}

/* Read another chunk; bytes before keep (index into buf) may be dropped first.
 * Returns the number of bytes dropped (indices shift down by it); *got = 0 at the end. */
static int fill(ds_reader *r, size_t keep, size_t *dropped, int *got, pe_err *e)
{
    size_t n;
    *dropped = 0;
    *got = 0;
    if (r->eof)
        return 0;
    if (!r->keep_all && keep > 0) {
        count_to(r, r->base + keep);
        memmove(r->buf, r->buf + keep, r->len - keep);
        r->len -= keep;
        r->base += keep;
        r->pos -= keep;
        *dropped = keep;
    }
    if (r->cap - r->len < r->chunk + 1)
        r->buf = xgrow(r->buf, &r->cap, r->len + r->chunk + 1, 1);
    if (r->f) {
        n = fread(r->buf + r->len, 1, r->chunk, r->f);
        if (n == 0 && ferror(r->f))
            return pe_errf(e, PE_EXIT_IO, "%s: read error: %s", r->path, strerror(errno));
    } else {
        n = r->memlen - r->total < r->chunk ? r->memlen - r->total : r->chunk;
        memcpy(r->buf + r->len, r->mem + r->total, n);
    }
    if (n == 0) {
        r->eof = 1;
        return 0;
    }
    sha256_update(r->sha, r->buf + r->len, n);
    r->len += n;
    r->total += n;
    r->buf[r->len] = '\0';
    if (r->max_file && r->total > r->max_file && (r->too_big = 1))
        return pe_errf(e, PE_EXIT_DATA,
                       "%s: file is larger than the limit of %zu bytes (raise it with "
                       "--max-file-bytes)", r->path, r->max_file);
    *got = 1;
    return 0;
}

int rd_peek(ds_reader *r, int *c, pe_err *e)
{
    for (;;) {
        size_t dropped;
        int got, rc;
        while (r->pos < r->len) {
            char ch = r->buf[r->pos];
            if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
                *c = (unsigned char)ch;
                return 0;
            }
            r->pos++;
        }
        if ((rc = fill(r, r->pos, &dropped, &got, e)))
            return rc;
        if (!got) {
            *c = -1;
            return 0;
        }
    }
}

void rd_skip(ds_reader *r)
{
    r->pos++;
}

void rd_rewind(ds_reader *r)
{
    r->pos = r->start;
    r->line = 1;
    r->counted = r->line_start = r->start;
    r->keep_all = 0;
}

#define EARLY_LIMIT ((size_t)4 << 20)

/* Scanner state while cutting a value: enough to check string sizes and to name
 * the field and user of a string that is too long. */
typedef struct scan {
    size_t depth;
    unsigned char kind[64]; /* '{' or '[' for the first 64 levels */
    char key[64], user[128];
    size_t str0;   /* index (relative to the value) where the open string started */
    size_t slen;   /* bytes the open string decodes to, at least */
    int in_str, is_key, expect_key;
} scan;

static int in_object(const scan *s)
{
    return s->depth > 0 && s->depth <= sizeof s->kind && s->kind[s->depth - 1] == '{';
}

static void copy_small(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static int too_long(ds_reader *r, const scan *s, size_t at, const char *what, pe_err *e)
{
    size_t line, col;
    buf b = BUF_INIT;
    where_off(r, r->base + at, &line, &col);
    buf_printf(&b, "%s:%zu:%zu: ", r->path, line, col);
    if (what)
        buf_printf(&b, "%s: ", what);
    if (s->user[0])
        buf_printf(&b, "user \"%s\": ", s->user);
    if (s->key[0])
        buf_printf(&b, "field \"%s\" ", s->key);
    else
        buf_adds(&b, "a string ");
    buf_printf(&b, "is over the limit of %zu (raise it with --max-field-bytes)", r->max_field);
    pe_errf(e, PE_EXIT_DATA, "%s", buf_str(&b));
    buf_free(&b);
    return PE_EXIT_DATA;
}

/* Cut from r->pos: a JSON value (line = 0) or a line (line = 1). */
static int cut(ds_reader *r, int line_mode, const char *what, ds_span *out, int *got,
               pe_err *e)
{
    size_t k = 0, mark = r->pos, dropped;
    scan s;
    int rc, more, scalar = 0, first = 1;

    memset(&s, 0, sizeof s);
    memset(out, 0, sizeof *out);
    *got = 0;
    for (;;) {
        const char *p;
        size_t avail;
        if (mark + k >= r->len) {
            if ((rc = fill(r, mark, &dropped, &more, e)))
                return rc;
            mark -= dropped;
            if (!more) {
                if (line_mode || (scalar && !s.in_str))
                    break;
                if (k == 0)
                    return 0;
                {
                    size_t line, col;
                    where_off(r, r->base + r->len, &line, &col);
                    return pe_errf(e, PE_EXIT_DATA,
                                   "%s:%zu:%zu: invalid JSON (the file ends inside %s)",
                                   r->path, line, col, what);
                }
            }
            continue;
        }
        if (r->cut_max && k > r->cut_max)
            return pe_errf(e, PE_EXIT_DATA, "%s: %s is longer than %zu bytes", r->path,
                           what ? what : "the line", r->cut_max);
        p = r->buf + mark;
        avail = r->len - mark;
        if (s.in_str) {
            size_t k0 = k;
            while (k < avail && p[k] != '"' && p[k] != '\\' && p[k] != '\n')
                k++;
            s.slen += k - k0;
            if (k < avail && p[k] == '\\') {
                /* an escape decodes to at least one byte; \uXXXX is 6 bytes here */
                size_t need = k + 1 < avail && p[k + 1] == 'u' ? 6 : 2;
                if (k + need > avail) {
                    if (r->eof)
                        k = avail;
                    else if ((rc = fill(r, mark, &dropped, &more, e)))
                        return rc;
                    else
                        mark -= dropped;
                    continue;
                }
                k += need;
                s.slen++;
            } else if (k < avail && p[k] == '"') {
                s.in_str = 0;
                if (s.is_key)
                    copy_small(s.key, sizeof s.key, p + s.str0 + 1, k - s.str0 - 1);
                else if (s.depth == 1 && (!strcmp(s.key, "id") || !strcmp(s.key, "user_id") ||
                                          !strcmp(s.key, "user")))
                    copy_small(s.user, sizeof s.user, p + s.str0 + 1, k - s.str0 - 1);
                k++;
                if (!line_mode && s.depth == 0)
                    break;
            } else if (k < avail) { /* a raw newline: invalid JSON, left to the parser */
                s.in_str = 0;
                if (line_mode)
                    break;
                k++;
            }
            /* a huge string is refused before it is read whole; smaller ones over the
             * limit get the parser's exact message */
            if (r->max_field && s.slen > r->max_field && s.slen > EARLY_LIMIT && !s.is_key)
                return too_long(r, &s, mark + s.str0, what, e);
            continue;
        }
        {
            char ch = p[k];
            if (line_mode && ch == '\n')
                break;
            if (first && !line_mode && ch != '{' && ch != '[' && ch != '"')
                scalar = 1;
            first = 0;
            if (scalar) {
                if (strchr(",]} \t\r\n", ch))
                    break;
                k++;
                continue;
            }
            if (ch == '"') {
                s.in_str = 1;
                s.str0 = k;
                s.slen = 0;
                s.is_key = s.expect_key;
                s.expect_key = 0;
            } else if (ch == '{' || ch == '[') {
                if (s.depth < sizeof s.kind)
                    s.kind[s.depth] = (unsigned char)ch;
                s.depth++;
                s.expect_key = ch == '{';
            } else if (ch == '}' || ch == ']') {
                if (s.depth > 0)
                    s.depth--;
                s.expect_key = 0;
                if (!line_mode && s.depth == 0) {
                    k++;
                    break;
                }
            } else if (ch == ',') {
                s.expect_key = in_object(&s);
            } else if (ch == ':') {
                s.expect_key = 0;
            }
            k++;
        }
    }
    out->len = k;
    out->text = xmalloc(k + 1);
    memcpy(out->text, r->buf + mark, k);
    out->text[k] = '\0';
    out->off = r->base + mark;
    where_off(r, out->off, &out->line, &out->col);
    r->pos = mark + k;
    *got = 1;
    return 0;
}

int rd_value(ds_reader *r, const char *what, ds_span *out, pe_err *e)
{
    int got, rc = cut(r, 0, what, out, &got, e);
    if (!rc && !got) {
        size_t line, col;
        rd_where(r, &line, &col);
        return pe_errf(e, PE_EXIT_DATA, "%s:%zu:%zu: invalid JSON (the file ends before %s)",
                       r->path, line, col, what);
    }
    return rc;
}

int rd_line(ds_reader *r, ds_span *out, int *got, pe_err *e)
{
    int rc;
    if (r->pos >= r->len) {
        size_t dropped;
        int more;
        if ((rc = fill(r, r->pos, &dropped, &more, e)))
            return rc;
        if (!more) {
            *got = 0;
            memset(out, 0, sizeof *out);
            return 0;
        }
    }
    rc = cut(r, 1, NULL, out, got, e);
    if (!rc && *got && r->pos < r->len && r->buf[r->pos] == '\n')
        r->pos++;
    return rc;
}

int rd_finish(ds_reader *r, char sha[65], pe_err *e)
{
    uint8_t d[32];
    for (;;) {
        size_t dropped;
        int got, rc;
        if ((rc = fill(r, r->len, &dropped, &got, e)))
            return rc;
        if (!got)
            break;
    }
    sha256_final(r->sha, d);
    free(r->sha);
    r->sha = NULL;
    pe_hex(d, 32, sha);
    return 0;
}
