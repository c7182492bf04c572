#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void buf_init(buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

static int reserve(buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (b->max && b->len + extra > b->max) {
        buf_free(b);
        return -1;
    }
    if (need > b->cap) {
        size_t c = b->cap ? b->cap : 64;
        while (c < need)
            c *= 2;
        b->data = xrealloc(b->data, c);
        b->cap = c;
    }
    return 0;
}

int buf_add(buf *b, const void *data, size_t len)
{
    if (reserve(b, len) != 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int buf_adds(buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

int buf_addc(buf *b, char c)
{
    return buf_add(b, &c, 1);
}

int buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap, aq;
    int n;

    va_start(ap, fmt);
    va_copy(aq, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) != 0) {
        va_end(aq);
        return -1;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, aq);
    va_end(aq);
    b->len += (size_t)n;
    return 0;
}

int buf_json_str(buf *b, const char *s)
{
    static const char hx[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    if (buf_addc(b, '"') != 0)
        return -1;
    while (*p) {
        /* copy runs of plain bytes in one go */
        const unsigned char *q = p;
        while (*q && *q >= 0x20 && *q != '"' && *q != '\\')
            q++;
        if (q > p && buf_add(b, p, (size_t)(q - p)) != 0)
            return -1;
        p = q;
        if (!*p)
            break;
        {
            char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
            size_t n = 2;
            switch (*p) {
            case '"': esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            case '\b': esc[1] = 'b'; break;
            case '\f': esc[1] = 'f'; break;
            default:
                esc[1] = 'u', esc[2] = '0', esc[3] = '0';
                esc[4] = hx[*p >> 4], esc[5] = hx[*p & 15];
                n = 6;
            }
            if (buf_add(b, esc, n) != 0)
                return -1;
            p++;
        }
    }
    return buf_addc(b, '"');
}

int buf_json_str_or_null(buf *b, const char *s)
{
    return s ? buf_json_str(b, s) : buf_adds(b, "null");
}

int buf_csv_field(buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n"))
        return buf_adds(b, s);
    if (buf_addc(b, '"') != 0)
        return -1;
    for (; *s; s++) {
        if (*s == '"' && buf_addc(b, '"') != 0)
            return -1;
        if (buf_addc(b, *s) != 0)
            return -1;
    }
    return buf_addc(b, '"');
}

const char *buf_str(const buf *b)
{
    return b->data ? b->data : "";
}

void buf_reset(buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *buf_detach(buf *b)
{
    char *p = b->data ? b->data : xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void buf_free(buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
