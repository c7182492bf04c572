#include "text.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"

int pe_utf8_valid(const char *s, size_t len, size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1, cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2, cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3, cp = c & 0x07;
        } else {
            goto bad;
        }
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
                goto bad;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            goto bad;
        i += n + 1;
    }
    return 1;
bad:
    if (bad_offset)
        *bad_offset = i;
    return 0;
}

/* Length of the Python whitespace character (str.isspace) at p, or 0. */
static size_t ws_len(const unsigned char *p, size_t avail)
{
    if (avail >= 1 && ((*p >= 0x09 && *p <= 0x0d) || (*p >= 0x1c && *p <= 0x20)))
        return 1;
    if (avail >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
        return 2; /* U+0085, U+00A0 */
    if (avail < 3)
        return 0;
    if ((p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) ||  /* U+1680 */
        (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80))    /* U+3000 */
        return 3;
    if (p[0] == 0xe2 && p[1] == 0x80 &&
        ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
        return 3; /* U+2000..U+200A, U+2028, U+2029, U+202F */
    if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
        return 3; /* U+205F */
    return 0;
}

const char *pe_strip_span(const char *s, size_t *len)
{
    const unsigned char *a = (const unsigned char *)s, *b = a + strlen(s);
    size_t k;
    while (a < b && (k = ws_len(a, (size_t)(b - a))) > 0)
        a += k;
    for (;;) {
        size_t w = 0;
        for (k = 1; k <= 3 && !w; k++)
            if ((size_t)(b - a) >= k && ws_len(b - k, k) == k)
                w = k;
        if (!w)
            break;
        b -= w;
    }
    *len = (size_t)(b - a);
    return (const char *)a;
}

char *pe_strip(const char *s)
{
    size_t len;
    const char *p = pe_strip_span(s, &len);
    return xstrndup(p, len);
}

const char *pe_strcasestr(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return hay;
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

int pe_streq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

