#include "encoder.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* rank_bm25.BM25Okapi defaults, as LaMP uses them. */
#define BM25_K1 1.5
#define BM25_B 0.75
#define BM25_EPS 0.25
#define TOKEN_SEED 0x70657273ULL
/* Vocabulary lookups run this many terms ahead of the index probes they
 * prefetch (the index of a large user outgrows the L2 cache). */
#define PREFETCH_AHEAD 8

struct encoder {
    encoder_kind kind;
    encoder_tok tok;
    size_t dim;
    size_t ndocs;
    double avgdl;
    /* vocabulary terms by id (first-occurrence order in the corpus) */
    uint64_t *keys;   /* 64-bit term hash, never 0 */
    uint32_t *df;
    /* what encoding needs of a term, in one place: the idf factor (tfidf:
     * idf; bm25: sign(idf) sqrt(|idf|)) and the dimension (assigned at fit,
     * see assign_slots) with the hash's sign in bit 31 */
    struct tinfo {
        double f;
        uint32_t slot;
    } *term;
    size_t nterms, tcap;
    /* index: open addressing on the hash (key 0 = empty) -> term id */
    struct ient {
        uint64_t key;
        uint32_t id;
    } *index;
    size_t icap;
    encoder_batch_fn backend;
    void *backend_ctx;
};

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
typedef struct tok_iter {
    const unsigned char *s;
    size_t len, pos;
    encoder_tok mode;
    unsigned char *low;
    size_t lowcap;
} tok_iter;

static void tok_start(tok_iter *it, const char *s, encoder_tok mode)
{
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
static int tok_next_lamp(tok_iter *it, const unsigned char **tok, size_t *n, size_t *bad)
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
static int tok_next_words(tok_iter *it, const unsigned char **tok, size_t *n, size_t *bad)
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

static inline int tok_next(tok_iter *it, const unsigned char **tok, size_t *n, size_t *bad)
{
    return it->mode == ENCODER_TOK_WORDS ? tok_next_words(it, tok, n, bad)
                                         : tok_next_lamp(it, tok, n, bad);
}

/* ---- term hashing ---- */


/* Little-endian 64-bit load (one instruction on x86; the same hash on any
 * byte order). */
static inline uint64_t load64le(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

/* A token's 64-bit hash: the bytes as little-endian 8-byte words, each
 * folded in by xor, multiply and xorshift (a bijection of the state, so
 * tokens of up to 8 bytes and the same length never collide), then the
 * murmur3 finalizer. Never 0 (0 marks an empty table slot). */
static inline uint64_t token_hash(const unsigned char *p, size_t n)
{
    uint64_t h = TOKEN_SEED ^ ((uint64_t)n * 0x9e3779b97f4a7c15ULL);
    for (; n >= 8; p += 8, n -= 8) {
        h = (h ^ load64le(p)) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
    }
    if (n) {
        uint64_t w = 0;
        for (size_t k = 0; k < n; k++)
            w |= (uint64_t)p[k] << (8 * k);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
    }
    h = pe_mix64(h);
    return h ? h : 1;
}

/* Bigram (a, b) from its two token hashes (already well mixed): ordered, as
 * a is multiplied and b is not. */
static inline uint64_t bigram_hash(uint64_t a, uint64_t b)
{
    uint64_t h = pe_mix64(a * 0x9e3779b97f4a7c15ULL ^ b ^ 0x632be59bd9b4e019ULL);
    return h ? h : 1;
}

/* The term hashes of one text: its tokens, then (tfidf) the bigrams of
 * consecutive tokens, combined from the two token hashes. */
typedef struct scan {
    tok_iter it;
    uint64_t *h;
    size_t n, cap;
    size_t ntok; /* tokens only (BM25 document length) */
    /* distinct terms in first-occurrence order with their counts */
    uint64_t *uh;
    uint32_t *uc;
    size_t nu;
    /* scratch map hash -> position in uh, cleared per text */
    uint64_t *mk;
    uint32_t *mi;
    size_t mcap;
} scan;

static inline void scan_push(scan *t, uint64_t h)
{
    if (t->n == t->cap)
        t->h = xgrow(t->h, &t->cap, t->n + 1, sizeof *t->h);
    t->h[t->n++] = h;
}

/* Count the distinct terms (a small open-addressing map, cache-resident). */
static void scan_count(scan *t)
{
    size_t need = 64, mask;
    while (need < 2 * t->n)
        need <<= 1;
    if (t->mcap < need) {
        free(t->mk);
        free(t->mi);
        free(t->uh);
        free(t->uc);
        t->mk = xmalloc(need * sizeof *t->mk);
        t->mi = xmalloc(need * sizeof *t->mi);
        t->uh = xmalloc(need * sizeof *t->uh);
        t->uc = xmalloc(need * sizeof *t->uc);
        t->mcap = need;
    }
    memset(t->mk, 0, need * sizeof *t->mk);
    mask = need - 1;
    t->nu = 0;
    for (size_t i = 0; i < t->n; i++) {
        uint64_t h = t->h[i];
        size_t s = (size_t)h & mask;
        while (t->mk[s] && t->mk[s] != h)
            s = (s + 1) & mask;
        if (!t->mk[s]) {
            t->mk[s] = h;
            t->mi[s] = (uint32_t)t->nu;
            t->uh[t->nu] = h;
            t->uc[t->nu++] = 0;
        }
        t->uc[t->mi[s]]++;
    }
}

/* Tokenize and hash a text, then count its distinct terms. */
static int scan_text(scan *t, encoder_tok mode, int bigrams, const char *text, size_t which,
                     pe_err *e)
{
    const unsigned char *tok;
    size_t n, bad;
    int r;

    t->n = 0;
    tok_start(&t->it, text ? text : "", mode);
    while ((r = tok_next(&t->it, &tok, &n, &bad)) == 1)
        scan_push(t, token_hash(tok, n));
    if (r < 0)
        return pe_errf(e, PE_EXIT_DATA, "text %zu: invalid UTF-8 at byte %zu", which, bad);
    t->ntok = t->n;
    if (bigrams)
        for (size_t i = 1; i < t->ntok; i++)
            scan_push(t, bigram_hash(t->h[i - 1], t->h[i]));
    scan_count(t);
    return 0;
}

static void scan_free(scan *t)
{
    free(t->h);
    free(t->it.low);
    free(t->uh);
    free(t->uc);
    free(t->mk);
    free(t->mi);
}

/* ---- vocabulary ---- */

/* The id of a vocabulary term, or -1 when the corpus never saw it. */
static inline long term_find(const encoder *enc, uint64_t key)
{
    size_t mask = enc->icap - 1, i;
    if (!enc->icap)
        return -1;
    for (i = (size_t)key & mask; enc->index[i].key; i = (i + 1) & mask)
        if (enc->index[i].key == key)
            return (long)enc->index[i].id;
    return -1;
}

/* An index of at least min entries (a power of two) holding every term. */
static void index_grow(encoder *enc, size_t min)
{
    size_t mask, cap = enc->icap ? enc->icap * 2 : 1024;
    while (cap < min)
        cap *= 2;
    free(enc->index);
    enc->icap = cap;
    mask = cap - 1;
    enc->index = xcalloc(cap, sizeof *enc->index);
    for (size_t t = 0; t < enc->nterms; t++) {
        size_t i = (size_t)enc->keys[t] & mask;
        while (enc->index[i].key)
            i = (i + 1) & mask;
        enc->index[i].key = enc->keys[t];
        enc->index[i].id = (uint32_t)t;
    }
}

/* The id of key, added to the vocabulary when new (load factor <= 1/2). */
static inline uint32_t term_add(encoder *enc, uint64_t key)
{
    size_t mask, i;
    if (2 * (enc->nterms + 1) > enc->icap) /* room for one more, found or not */
        index_grow(enc, 0);
    mask = enc->icap - 1;
    for (i = (size_t)key & mask; enc->index[i].key; i = (i + 1) & mask)
        if (enc->index[i].key == key)
            return enc->index[i].id;
    if (enc->nterms == enc->tcap) { /* the same growth for both arrays */
        size_t c = enc->tcap;
        enc->keys = xgrow(enc->keys, &c, enc->nterms + 1, sizeof *enc->keys);
        enc->df = xgrow(enc->df, &enc->tcap, enc->nterms + 1, sizeof *enc->df);
    }
    enc->index[i].key = key;
    enc->index[i].id = (uint32_t)enc->nterms;
    enc->keys[enc->nterms] = key;
    enc->df[enc->nterms] = 0;
    return (uint32_t)enc->nterms++;
}

/* Signed feature hashing with collisions resolved at fit time: a term's
 * bucket comes from its hash (bucket_of); a term whose bucket another
 * vocabulary term already holds moves to the lowest free bucket while free
 * buckets remain, and shares its hashed bucket after that. The sign comes
 * from the hash's top bit either way. So scores are exact while the user's
 * vocabulary fits in dim and degrade like plain feature hashing beyond.
 * Terms are taken in first-occurrence order, so the assignment is a
 * function of the corpus; O(terms + dim). */
/* Bucket of a hash in [0, dim) without a division (multiply-shift on the
 * low 32 bits; the sign uses bit 63). */
static inline size_t bucket_of(uint64_t key, size_t dim)
{
    return (size_t)(((key & 0xffffffffu) * (uint64_t)dim) >> 32);
}

#define SLOT_NEG 0x80000000u
#define SLOT_MASK 0x7fffffffu

static void assign_slots(encoder *enc)
{
    unsigned char *used = xcalloc(enc->dim, 1);
    size_t next = 0;
    uint32_t *slot = xmalloc((enc->nterms ? enc->nterms : 1) * sizeof *slot);
    for (size_t t = 0; t < enc->nterms; t++) {
        size_t b = bucket_of(enc->keys[t], enc->dim);
        slot[t] = used[b] ? UINT32_MAX : (uint32_t)b;
        used[b] = 1;
    }
    for (size_t t = 0; t < enc->nterms; t++) {
        if (slot[t] != UINT32_MAX)
            continue;
        while (next < enc->dim && used[next])
            next++;
        if (next < enc->dim) {
            slot[t] = (uint32_t)next;
            used[next] = 1;
        } else {
            slot[t] = (uint32_t)bucket_of(enc->keys[t], enc->dim);
        }
    }
    for (size_t t = 0; t < enc->nterms; t++)
        enc->term[t].slot = slot[t] | (enc->keys[t] >> 63 ? SLOT_NEG : 0);
    free(slot);
    free(used);
}

/* ---- one text's distinct terms ---- */

/* Distinct vocabulary terms of one text in first-occurrence order with
 * their counts. */
typedef struct tlist {
    uint32_t *id, *cnt;
    size_t n, cap;
    float *save; /* tfidf normalization scratch, cap entries */
} tlist;

static void tlist_reserve(tlist *l, size_t need)
{
    if (l->cap >= need)
        return;
    size_t c1 = l->cap, c2 = l->cap; /* the same growth for all three */
    l->id = xgrow(l->id, &c1, need, sizeof *l->id);
    l->cnt = xgrow(l->cnt, &c2, need, sizeof *l->cnt);
    l->save = xgrow(l->save, &l->cap, need, sizeof *l->save);
}

static inline void tlist_push(tlist *l, uint32_t id, uint32_t cnt)
{
    l->id[l->n] = id;
    l->cnt[l->n++] = cnt;
}

/* The known terms of a scanned text (read-only use of the encoder). */
static void tlist_of(tlist *l, const encoder *enc, const scan *t)
{
    tlist_reserve(l, t->nu);
    l->n = 0;
    for (size_t i = 0; i < t->nu; i++) {
        long id;
        if (i + PREFETCH_AHEAD < t->nu)
            __builtin_prefetch(&enc->index[(size_t)t->uh[i + PREFETCH_AHEAD] & (enc->icap - 1)]);
        id = term_find(enc, t->uh[i]);
        if (id >= 0)
            tlist_push(l, (uint32_t)id, t->uc[i]);
    }
}

static void tlist_free(tlist *l)
{
    free(l->id);
    free(l->cnt);
    free(l->save);
}

/* BM25 splits each term's idf as sqrt(|idf|) on the query side and
 * sign(idf) sqrt(|idf|) on the document side: the product is exactly idf,
 * while a collision between a frequent query word (small idf, large count)
 * and a rare document word adds far less noise than with the whole idf on
 * one side. */
static double signed_sqrt(double x)
{
    return x < 0 ? -sqrt(-x) : sqrt(x);
}

/* One text's row: v (dim floats) zeroed here, just before the terms are
 * added, so that it is cache-resident while they land at random places;
 * tfidf rows are then L2-normalized over the touched entries only. save
 * holds n floats. */
static void encode_terms(const encoder *enc, const uint32_t *id, const uint32_t *cnt, size_t n,
                         size_t ntok, int query, float *v, float *save)
{
    int tfidf = enc->kind == ENCODER_TFIDF;
    double norm = enc->avgdl > 0 ? BM25_K1 * (1 - BM25_B + BM25_B * (double)ntok / enc->avgdl)
                                 : BM25_K1;
    double ss = 0;

    memset(v, 0, enc->dim * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        const struct tinfo *ti = &enc->term[id[i]];
        double tf = cnt[i], w;
        if (tfidf)
            w = tf * ti->f;
        else if (query)
            w = tf * fabs(ti->f); /* sqrt(|idf|) */
        else
            w = ti->f * tf * (BM25_K1 + 1) / (tf + norm);
        v[ti->slot & SLOT_MASK] += (float)(ti->slot & SLOT_NEG ? -w : w);
    }
    if (!tfidf)
        return;
    /* Each touched entry counted once: it is zeroed once read, and the
     * saved values are written back in reverse so that the first reading
     * (the real value) lands last. */
    for (size_t i = 0; i < n; i++) {
        float *x = &v[enc->term[id[i]].slot & SLOT_MASK];
        save[i] = *x;
        ss += (double)*x * *x;
        *x = 0;
    }
    {
        float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 1.0f;
        for (size_t i = n; i-- > 0;)
            v[enc->term[id[i]].slot & SLOT_MASK] = ss > 0 ? save[i] * inv : save[i];
    }
}

/* ---- public ---- */

int encoder_kind_parse(const char *s, encoder_kind *out)
{
    if (pe_streq(s, "bm25"))
        *out = ENCODER_BM25;
    else if (pe_streq(s, "tfidf"))
        *out = ENCODER_TFIDF;
    else if (pe_streq(s, "http"))
        *out = ENCODER_BACKEND;
    else
        return -1;
    return 0;
}

int encoder_tok_parse(const char *s, encoder_tok *out)
{
    if (pe_streq(s, "lamp"))
        *out = ENCODER_TOK_LAMP;
    else if (pe_streq(s, "words"))
        *out = ENCODER_TOK_WORDS;
    else
        return -1;
    return 0;
}

const char *encoder_kind_name(encoder_kind k)
{
    return k == ENCODER_BM25 ? "bm25" : k == ENCODER_TFIDF ? "tfidf" : "http";
}

const char *encoder_tok_name(encoder_tok t)
{
    return t == ENCODER_TOK_WORDS ? "words" : "lamp";
}

size_t encoder_dim(const encoder *enc)
{
    return enc->dim;
}

encoder_tok encoder_tokenizer(const encoder *enc)
{
    return enc->tok;
}

void encoder_free(encoder *enc)
{
    if (!enc)
        return;
    free(enc->keys);
    free(enc->df);
    free(enc->term);
    free(enc->index);
    free(enc);
}

/* rank_bm25 BM25Okapi._calc_idf: the average is taken over every term's idf
 * before negative ones are replaced by epsilon * average. */
static void bm25_idf(encoder *enc, float *idf)
{
    double sum = 0, n = (double)enc->ndocs, eps;
    /* the idf depends on df (1..N) only: one logarithm pair per value */
    double *by_df = xmalloc((enc->ndocs + 1) * sizeof *by_df);
    for (size_t df = 1; df <= enc->ndocs; df++)
        by_df[df] = log(n - (double)df + 0.5) - log((double)df + 0.5);
    for (size_t t = 0; t < enc->nterms; t++) {
        double v = by_df[enc->df[t]];
        idf[t] = (float)v;
        sum += v;
    }
    free(by_df);
    eps = enc->nterms ? BM25_EPS * sum / (double)enc->nterms : 0;
    for (size_t t = 0; t < enc->nterms; t++) {
        if (idf[t] < 0)
            idf[t] = (float)eps;
        enc->term[t].f = signed_sqrt(idf[t]);
    }
}

/* Smoothed IDF (scikit-learn's default): ln((1 + N) / (1 + df)) + 1. */
static void tfidf_idf(encoder *enc, float *idf)
{
    double n = (double)enc->ndocs;
    float *by_df = xmalloc((enc->ndocs + 1) * sizeof *by_df);
    for (size_t df = 1; df <= enc->ndocs; df++)
        by_df[df] = (float)(log((1 + n) / (1 + (double)df)) + 1);
    for (size_t t = 0; t < enc->nterms; t++) {
        idf[t] = by_df[enc->df[t]];
        enc->term[t].f = idf[t];
    }
    free(by_df);
}

/* The corpus pass: every document tokenized once; its distinct terms (ids
 * and counts) appended to l, document d's at l->id[start[d] .. start[d+1]].
 * Without keep, each document's list is dropped once counted. */
typedef struct fit_lists {
    tlist l;
    size_t *start;   /* n + 1 */
    uint32_t *ntok;  /* n */
} fit_lists;

static int fit_corpus(encoder *enc, const char *const *docs, size_t n, fit_lists *fl, int keep,
                      pe_err *e)
{
    scan t = {0};
    tlist *l = &fl->l;
    size_t total = 0, bytes = 0;
    int rc = 0;

    /* Size the index once for a typical vocabulary (a term per 8 bytes of
     * text, twice that with bigrams); it still grows when needed. */
    for (size_t d = 0; d < n; d++)
        bytes += docs[d] ? strlen(docs[d]) : 0;
    index_grow(enc, 2 * (bytes / 8) * (enc->kind == ENCODER_TFIDF ? 2 : 1));
    if (keep) {
        fl->start = xmalloc((n + 1) * sizeof *fl->start);
        fl->ntok = xmalloc((n ? n : 1) * sizeof *fl->ntok);
    }
    for (size_t d = 0; d < n; d++) {
        size_t base = keep ? l->n : 0;
        if ((rc = scan_text(&t, enc->tok, enc->kind == ENCODER_TFIDF, docs[d], d, e)) != 0)
            break;
        total += t.ntok;
        tlist_reserve(l, base + t.nu);
        l->n = base;
        for (size_t i = 0; i < t.nu; i++) {
            uint32_t id;
            if (i + PREFETCH_AHEAD < t.nu)
                __builtin_prefetch(&enc->index[(size_t)t.uh[i + PREFETCH_AHEAD] &
                                               (enc->icap - 1)]);
            id = term_add(enc, t.uh[i]);
            enc->df[id]++;
            tlist_push(l, id, t.uc[i]);
        }
        if (keep) {
            fl->start[d] = base;
            fl->ntok[d] = (uint32_t)t.ntok;
        }
    }
    if (keep)
        fl->start[n] = l->n;
    scan_free(&t);
    enc->avgdl = n ? (double)total / (double)n : 0;
    return rc;
}

static void fit_lists_free(fit_lists *fl)
{
    tlist_free(&fl->l);
    free(fl->start);
    free(fl->ntok);
}

/* encoder_fit, and with mat the documents' vectors from the same pass. */
static int fit(const encoder_opts *o, const char *const *docs, size_t n, encoder **out,
               float **mat, pe_err *e)
{
    static const encoder_opts defaults = {0};
    encoder *enc;
    fit_lists fl = {0};
    int rc;

    *out = NULL;
    if (mat)
        *mat = NULL;
    if (!o)
        o = &defaults;
    if (o->kind == ENCODER_BACKEND && !o->backend)
        return pe_errf(e, PE_EXIT_USAGE, "encoder \"http\": no embedding backend configured");
    if (o->dim > SLOT_MASK)
        return pe_errf(e, PE_EXIT_USAGE, "encoder: dimension %zu is larger than %u", o->dim,
                       SLOT_MASK);
    enc = xcalloc(1, sizeof *enc);
    enc->kind = o->kind;
    enc->tok = o->tokenize != ENCODER_TOK_DEFAULT ? o->tokenize
               : o->kind == ENCODER_TFIDF        ? ENCODER_TOK_WORDS
                                                 : ENCODER_TOK_LAMP;
    enc->dim = o->dim ? o->dim : ENCODER_DEFAULT_DIM;
    enc->ndocs = n;
    enc->backend = o->backend;
    enc->backend_ctx = o->backend_ctx;
    if (enc->kind == ENCODER_BACKEND) {
        if (mat) {
            float *m = xmalloc((n ? n : 1) * enc->dim * sizeof *m);
            if (n && (rc = enc->backend(enc->backend_ctx, docs, n, m, enc->dim, e)) != 0) {
                free(m);
                encoder_free(enc);
                return rc;
            }
            *mat = m;
        }
        *out = enc;
        return 0;
    }
    if ((rc = fit_corpus(enc, docs, n, &fl, mat != NULL, e)) != 0) {
        fit_lists_free(&fl);
        encoder_free(enc);
        return rc;
    }
    {
        float *idf = xmalloc((enc->nterms ? enc->nterms : 1) * sizeof *idf);
        enc->term = xmalloc((enc->nterms ? enc->nterms : 1) * sizeof *enc->term);
        if (enc->kind == ENCODER_BM25)
            bm25_idf(enc, idf);
        else
            tfidf_idf(enc, idf);
        free(idf);
    }
    assign_slots(enc);
    if (mat) {
        float *m = xmalloc((n ? n : 1) * enc->dim * sizeof *m);
        for (size_t d = 0; d < n; d++) {
            size_t s = fl.start[d];
            encode_terms(enc, fl.l.id + s, fl.l.cnt + s, fl.start[d + 1] - s, fl.ntok[d], 0,
                         m + d * enc->dim, fl.l.save + s);
        }
        *mat = m;
    }
    fit_lists_free(&fl);
    *out = enc;
    return 0;
}

int encoder_fit(const encoder_opts *o, const char *const *docs, size_t n, encoder **out,
                pe_err *e)
{
    return fit(o, docs, n, out, NULL, e);
}

int encoder_fit_encode(const encoder_opts *o, const char *const *docs, size_t n, encoder **out,
                       float **mat, pe_err *e)
{
    return fit(o, docs, n, out, mat, e);
}

static int encode(const encoder *enc, const char *const *texts, size_t n, float *out, int query,
                  pe_err *e)
{
    scan t = {0};
    tlist l = {0};
    int rc = 0;

    if (enc->kind == ENCODER_BACKEND)
        return n ? enc->backend(enc->backend_ctx, texts, n, out, enc->dim, e) : 0;
    for (size_t d = 0; d < n; d++) {
        rc = scan_text(&t, enc->tok, enc->kind == ENCODER_TFIDF, texts[d], d, e);
        if (rc != 0)
            break;
        tlist_of(&l, enc, &t);
        encode_terms(enc, l.id, l.cnt, l.n, t.ntok, query, out + d * enc->dim, l.save);
    }
    scan_free(&t);
    tlist_free(&l);
    return rc;
}

int encoder_encode_docs(const encoder *enc, const char *const *texts, size_t n, float *out,
                        pe_err *e)
{
    return encode(enc, texts, n, out, 0, e);
}

int encoder_encode_queries(const encoder *enc, const char *const *texts, size_t n, float *out,
                           pe_err *e)
{
    return encode(enc, texts, n, out, 1, e);
}

int encoder_tokenize(encoder_tok mode, const char *text, char ***toks, size_t *ntoks, pe_err *e)
{
    tok_iter it = {0};
    const unsigned char *tok;
    size_t n, bad, cap = 0;
    char **v = NULL;
    int r;

    *toks = NULL;
    *ntoks = 0;
    tok_start(&it, text, mode == ENCODER_TOK_WORDS ? mode : ENCODER_TOK_LAMP);
    while ((r = tok_next(&it, &tok, &n, &bad)) == 1) {
        v = xgrow(v, &cap, *ntoks + 1, sizeof *v);
        v[(*ntoks)++] = xstrndup((const char *)tok, n);
    }
    free(it.low);
    if (r < 0) {
        encoder_tokens_free(v, *ntoks);
        *ntoks = 0;
        return pe_errf(e, PE_EXIT_DATA, "invalid UTF-8 at byte %zu", bad);
    }
    *toks = v;
    return 0;
}

void encoder_tokens_free(char **toks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(toks[i]);
    free(toks);
}
