#include "tokenize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- UTF-8 and tokenization ---- */

/* Decode the code point at s[i]; returns its byte length, or 0 when the
 * sequence is invalid (overlong, surrogate, beyond U+10FFFF, truncated). */
static size_t utf8_decode(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
    unsigned c = s[i];
    size_t n;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        n = 1, v = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 2, v = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 3, v = c & 0x07;
    else
        return 0;
    for (size_t k = 1; k <= n; k++) {
        if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i + k] & 0x3f);
    }
    if ((n == 2 && v < 0x800) || (n == 3 && (v < 0x10000 || v > 0x10ffff)) ||
        (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n + 1;
}

/* Python's str.isspace() set, which str.split() splits on. */
static int py_space(uint32_t c)
{
    if (c < 0x80)
        return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
    return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
           c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Letters and digits for the words tokenizer (see docs/memory.md). */
static int word_char(uint32_t c)
{
    if (c < 0x80)
        return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
    if (c < 0x100)
        return c == 0xaa || c == 0xb2 || c == 0xb3 || c == 0xb5 || c == 0xb9 || c == 0xba ||
               (c >= 0xbc && c <= 0xbe) || (c >= 0xc0 && c != 0xd7 && c != 0xf7);
    if (py_space(c))
        return 0;
    /* punctuation and symbol blocks */
    if ((c >= 0x2000 && c <= 0x2bff) || (c >= 0x3000 && c <= 0x303f) ||
        (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff0f) ||
        (c >= 0xff1a && c <= 0xff20) || (c >= 0xff3b && c <= 0xff40) ||
        (c >= 0xff5b && c <= 0xff65) || (c >= 0x1f000 && c <= 0x1faff) || c == 0xfffd)
        return 0;
    return 1;
}

/* Lower case for ASCII, Latin-1 and Latin Extended-A (U+0130 İ becomes i). */
static uint32_t lower_cp(uint32_t c)
{
    if (c < 0x80)
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    if (c >= 0xc0 && c <= 0xde && c != 0xd7)
        return c + 0x20;
    if (c == 0x130)
        return 'i';
    if (c == 0x178)
        return 0xff;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
        return c % 2 == 0 ? c + 1 : c;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
        return c % 2 == 1 ? c + 1 : c;
    return c;
}

static size_t utf8_encode(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | c >> 12);
        out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | c >> 18);
    out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* ---- tokenizers ---- */

/* Walks the tokens of one text. words mode writes the lowered token into
 * low (at most as long as the text: lowering never lengthens a character).
 * ASCII bytes take a fast path; other characters are decoded. */
void tokenize_start(tokenize_iter *it, const char *s, encoder_tok mode)
{
    if (!s)
        s = "";
    if (mode != ENCODER_TOK_WORDS)
        mode = ENCODER_TOK_LAMP;
    it->s = (const unsigned char *)s;
    it->len = strlen(s);
    it->pos = 0;
    it->mode = mode;
    if (mode == ENCODER_TOK_WORDS && it->lowcap < it->len + 1)
        it->low = xgrow(it->low, &it->lowcap, it->len + 1, 1);
}

static inline int ascii_space(unsigned c)
{
    return c == ' ' || c - 0x09u <= 4u || c - 0x1cu <= 3u;
}

/* The lowered ASCII letter or digit, or 0 for a separator. */
static inline unsigned ascii_word(unsigned c)
{
    unsigned l = c | 0x20;
    if (l - 'a' < 26u)
        return l;
    return c - '0' < 10u ? c : 0;
}

/* lamp: runs of non-whitespace, in place. 1: a token in (*tok, *n); 0: end
 * of text; -1: invalid UTF-8 at *bad. */
static int tok_next_lamp(tokenize_iter *it, const unsigned char **tok, size_t *n, size_t *bad)
{
    const unsigned char *s = it->s;
    size_t len = it->len, i = it->pos, start, l;
    uint32_t c;

    for (;;) { /* separators */
        if (i >= len) {
            it->pos = i;
            return 0;
        }
        if (s[i] < 0x80) {
            if (!ascii_space(s[i]))
                break;
            i++;
            continue;
        }
        if ((l = utf8_decode(s, len, i, &c)) == 0)
            goto invalid;
        if (!py_space(c))
            break;
        i += l;
    }
    start = i;
    while (i < len) {
        if (s[i] < 0x80) {
            if (ascii_space(s[i]))
                break;
            i++;
            continue;
        }
        if ((l = utf8_decode(s, len, i, &c)) == 0)
            goto invalid;
        if (py_space(c))
            break;
        i += l;
    }
    it->pos = i;
    *tok = s + start;
    *n = i - start;
    return 1;
invalid:
    it->pos = i;
    *bad = i;
    return -1;
}

/* words: runs of letters and digits, lowered into it->low. */
static int tok_next_words(tokenize_iter *it, const unsigned char **tok, size_t *n, size_t *bad)
{
    const unsigned char *s = it->s;
    unsigned char *low = it->low;
    size_t len = it->len, i = it->pos, w = 0, l;
    uint32_t c;
    int in = 0;

    while (i < len) {
        if (s[i] < 0x80) {
            unsigned lc = ascii_word(s[i]);
            if (lc) {
                low[w++] = (unsigned char)lc;
                in = 1;
            } else if (in) {
                break;
            }
            i++;
            continue;
        }
        if ((l = utf8_decode(s, len, i, &c)) == 0) {
            it->pos = i;
            *bad = i;
            return -1;
        }
        if (word_char(c)) {
            c = lower_cp(c);
            w += utf8_encode(c, (char *)low + w);
            in = 1;
        } else if (in) {
            break;
        }
        i += l;
    }
    it->pos = i;
    if (!in)
        return 0;
    *tok = low;
    *n = w;
    return 1;
}

int tokenize_next(tokenize_iter *it, const unsigned char **tok, size_t *n, size_t *bad)
{
    return it->mode == ENCODER_TOK_WORDS ? tok_next_words(it, tok, n, bad)
                                         : tok_next_lamp(it, tok, n, bad);
}

void tokenize_done(tokenize_iter *it)
{
    free(it->low);
    it->low = NULL;
    it->lowcap = 0;
}
