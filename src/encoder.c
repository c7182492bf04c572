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

struct encoder {
    encoder_kind kind;
    encoder_tok tok;
    size_t dim;
    size_t ndocs;
    double avgdl;
    /* term statistics: open addressing on the 64-bit token hash (0 = empty) */
    uint64_t *keys;
    uint32_t *df;
    float *idf;
    size_t cap, nterms;
    uint32_t *slot;   /* each term's dimension, assigned at fit (see assign_slots) */
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

/* Walks the tokens of one text. words mode writes the lowered token into
 * low (at most as long as the text: lowering never lengthens a character). */
typedef struct tok_iter {
    const unsigned char *s;
    size_t len, pos;
    encoder_tok mode;
    char *low;
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

/* 1: a token in (*tok, *n); 0: end of text; -1: invalid UTF-8 at *bad. */
static int tok_next(tok_iter *it, const char **tok, size_t *n, size_t *bad)
{
    const unsigned char *s = it->s;
    size_t i = it->pos, start = 0, w = 0;
    uint32_t c;
    int in = 0;

    while (i < it->len) {
        size_t l;
        if (s[i] < 0x80) {
            c = s[i];
            l = 1;
        } else if ((l = utf8_decode(s, it->len, i, &c)) == 0) {
            *bad = i;
            return -1;
        }
        int keep = it->mode == ENCODER_TOK_WORDS ? word_char(c) : !py_space(c);
        if (keep) {
            if (!in) {
                in = 1;
                start = i;
            }
            if (it->mode == ENCODER_TOK_WORDS) {
                uint32_t lc = lower_cp(c);
                if (lc < 0x80)
                    it->low[w++] = (char)lc;
                else
                    w += utf8_encode(lc, it->low + w);
            }
        } else if (in) {
            break;
        }
        i += l;
    }
    it->pos = i;
    if (!in)
        return 0;
    if (it->mode == ENCODER_TOK_WORDS) {
        *tok = it->low;
        *n = w;
    } else {
        *tok = (const char *)s + start;
        *n = i - start;
    }
    return 1;
}

/* ---- term table ---- */

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t token_hash(const char *t, size_t n)
{
    uint64_t h = pe_hash64(t, n, TOKEN_SEED);
    return h ? h : 1;
}

static uint64_t bigram_hash(uint64_t a, uint64_t b)
{
    uint64_t h = mix64(a * 0x9e3779b97f4a7c15ULL ^ mix64(b + 0x632be59bd9b4e019ULL));
    return h ? h : 1;
}

static size_t table_slot(const encoder *enc, uint64_t key)
{
    size_t mask = enc->cap - 1, i = (size_t)key & mask;
    while (enc->keys[i] && enc->keys[i] != key)
        i = (i + 1) & mask;
    return i;
}

static void table_grow(encoder *enc)
{
    uint64_t *ok = enc->keys;
    uint32_t *od = enc->df;
    size_t oc = enc->cap;
    enc->cap = oc ? oc * 2 : 1024;
    enc->keys = xcalloc(enc->cap, sizeof *enc->keys);
    enc->df = xcalloc(enc->cap, sizeof *enc->df);
    for (size_t i = 0; i < oc; i++)
        if (ok[i]) {
            size_t s = table_slot(enc, ok[i]);
            enc->keys[s] = ok[i];
            enc->df[s] = od[i];
        }
    free(ok);
    free(od);
}

static void table_add_df(encoder *enc, uint64_t key)
{
    size_t s;
    if (2 * (enc->nterms + 1) > enc->cap)
        table_grow(enc);
    s = table_slot(enc, key);
    if (!enc->keys[s]) {
        enc->keys[s] = key;
        enc->nterms++;
    }
    enc->df[s]++;
}

/* The table entry of a vocabulary term, or -1 when the corpus never saw it. */
static long term_find(const encoder *enc, uint64_t key)
{
    size_t s;
    if (!enc->cap)
        return -1;
    s = table_slot(enc, key);
    return enc->keys[s] ? (long)s : -1;
}

/* ---- term lists of one text ---- */

typedef struct terms {
    uint64_t *h; /* token hashes (then bigram hashes for tfidf) */
    size_t n, cap;
    size_t ntok; /* tokens only (BM25 document length) */
    /* distinct terms in first-occurrence order with their counts */
    uint64_t *uh;
    uint32_t *uc;
    size_t nu;
    /* scratch map term -> position in uh, cleared per text */
    uint64_t *mk;
    uint32_t *mi;
    size_t mcap;
    tok_iter it;
} terms;

/* Count distinct terms in one pass (a small open-addressing map). */
static void terms_count(terms *t)
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

static void terms_push(terms *t, uint64_t h)
{
    if (t->n == t->cap)
        t->h = xgrow(t->h, &t->cap, t->n + 1, sizeof *t->h);
    t->h[t->n++] = h;
}

/* Tokenize text into term hashes and count the distinct ones. */
static int terms_of(terms *t, encoder_tok mode, int bigrams, const char *text, size_t which,
                    pe_err *e)
{
    const char *tok;
    size_t n, bad, first;
    int r;

    t->n = 0;
    tok_start(&t->it, text ? text : "", mode);
    while ((r = tok_next(&t->it, &tok, &n, &bad)) == 1)
        terms_push(t, token_hash(tok, n));
    if (r < 0)
        return pe_errf(e, PE_EXIT_DATA, "text %zu: invalid UTF-8 at byte %zu", which, bad);
    t->ntok = t->n;
    if (bigrams) {
        first = t->n;
        for (size_t i = 1; i < first; i++)
            terms_push(t, bigram_hash(t->h[i - 1], t->h[i]));
    }
    terms_count(t);
    return 0;
}

static void terms_free(terms *t)
{
    free(t->h);
    free(t->uh);
    free(t->uc);
    free(t->mk);
    free(t->mi);
    free(t->it.low);
}

/* Signed feature hashing with collisions resolved at fit time: a term's
 * bucket comes from its hash (bucket_of); a term whose bucket another vocabulary term
 * already holds moves to the lowest free bucket while free buckets remain,
 * and shares its hashed bucket after that. The sign comes from the hash's
 * top bit either way. So scores are exact while the user's vocabulary fits
 * in dim and degrade like plain feature hashing beyond. Table order is a
 * function of the corpus, so the assignment is deterministic; O(terms + dim). */
/* Bucket of a hash in [0, dim) without a division (multiply-shift on the
 * low 32 bits; the sign uses bit 63). */
static inline size_t bucket_of(uint64_t key, size_t dim)
{
    return (size_t)(((key & 0xffffffffu) * (uint64_t)dim) >> 32);
}

static void assign_slots(encoder *enc)
{
    unsigned char *used = xcalloc(enc->dim, 1);
    size_t next = 0;
    enc->slot = xcalloc(enc->cap ? enc->cap : 1, sizeof *enc->slot);
    for (size_t i = 0; i < enc->cap; i++) {
        size_t b = bucket_of(enc->keys[i], enc->dim);
        if (!enc->keys[i])
            continue;
        enc->slot[i] = used[b] ? UINT32_MAX : (uint32_t)b;
        used[b] = 1;
    }
    for (size_t i = 0; i < enc->cap; i++) {
        if (!enc->keys[i] || enc->slot[i] != UINT32_MAX)
            continue;
        while (next < enc->dim && used[next])
            next++;
        if (next < enc->dim) {
            enc->slot[i] = (uint32_t)next;
            used[next] = 1;
        } else {
            enc->slot[i] = (uint32_t)bucket_of(enc->keys[i], enc->dim);
        }
    }
    free(used);
}

static inline void slot_add(const encoder *enc, float *v, long entry, double w)
{
    v[enc->slot[entry]] += (float)(enc->keys[entry] >> 63 ? -w : w);
}

static void l2_normalize(float *v, size_t dim)
{
    double s = 0;
    for (size_t i = 0; i < dim; i++)
        s += (double)v[i] * v[i];
    if (s > 0) {
        float inv = (float)(1.0 / sqrt(s));
        for (size_t i = 0; i < dim; i++)
            v[i] *= inv;
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
    free(enc->idf);
    free(enc->slot);
    free(enc);
}

/* rank_bm25 BM25Okapi._calc_idf: the average is taken over every term's idf
 * before negative ones are replaced by epsilon * average. */
static void bm25_idf(encoder *enc)
{
    double sum = 0, n = (double)enc->ndocs, eps;
    for (size_t i = 0; i < enc->cap; i++)
        if (enc->keys[i]) {
            double idf = log(n - enc->df[i] + 0.5) - log(enc->df[i] + 0.5);
            enc->idf[i] = (float)idf;
            sum += idf;
        }
    eps = enc->nterms ? BM25_EPS * sum / (double)enc->nterms : 0;
    for (size_t i = 0; i < enc->cap; i++)
        if (enc->keys[i] && enc->idf[i] < 0)
            enc->idf[i] = (float)eps;
}

/* Smoothed IDF (scikit-learn's default): ln((1 + N) / (1 + df)) + 1. */
static void tfidf_idf(encoder *enc)
{
    double n = (double)enc->ndocs;
    for (size_t i = 0; i < enc->cap; i++)
        if (enc->keys[i])
            enc->idf[i] = (float)(log((1 + n) / (1 + enc->df[i])) + 1);
}

int encoder_fit(const encoder_opts *o, const char *const *docs, size_t n, encoder **out,
                pe_err *e)
{
    static const encoder_opts defaults = {0};
    encoder *enc;
    terms t = {0};
    size_t total = 0;

    *out = NULL;
    if (!o)
        o = &defaults;
    if (o->kind == ENCODER_BACKEND && !o->backend)
        return pe_errf(e, PE_EXIT_USAGE, "encoder \"http\": no embedding backend configured");
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
        *out = enc;
        return 0;
    }
    for (size_t d = 0; d < n; d++) {
        int rc = terms_of(&t, enc->tok, enc->kind == ENCODER_TFIDF, docs[d], d, e);
        if (rc != 0) {
            terms_free(&t);
            encoder_free(enc);
            return rc;
        }
        total += t.ntok;
        for (size_t i = 0; i < t.nu; i++)
            table_add_df(enc, t.uh[i]);
    }
    terms_free(&t);
    enc->avgdl = n ? (double)total / (double)n : 0;
    enc->idf = xcalloc(enc->cap ? enc->cap : 1, sizeof *enc->idf);
    if (enc->kind == ENCODER_BM25)
        bm25_idf(enc);
    else
        tfidf_idf(enc);
    assign_slots(enc);
    *out = enc;
    return 0;
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

static int encode(const encoder *enc, const char *const *texts, size_t n, float *out, int query,
                  pe_err *e)
{
    terms t = {0};
    int tfidf = enc->kind == ENCODER_TFIDF;

    if (enc->kind == ENCODER_BACKEND)
        return n ? enc->backend(enc->backend_ctx, texts, n, out, enc->dim, e) : 0;
    memset(out, 0, n * enc->dim * sizeof *out);
    for (size_t d = 0; d < n; d++) {
        float *v = out + d * enc->dim;
        double norm;
        int rc = terms_of(&t, enc->tok, tfidf, texts[d], d, e);
        if (rc != 0) {
            terms_free(&t);
            return rc;
        }
        norm = enc->avgdl > 0 ? BM25_K1 * (1 - BM25_B + BM25_B * (double)t.ntok / enc->avgdl)
                              : BM25_K1;
        for (size_t i = 0; i < t.nu; i++) {
            double tf = t.uc[i], w, idf;
            long at = term_find(enc, t.uh[i]);
            if (at < 0)
                continue;
            idf = enc->idf[at];
            if (tfidf)
                w = tf * idf;
            else if (query)
                w = tf * sqrt(fabs(idf));
            else
                w = signed_sqrt(idf) * tf * (BM25_K1 + 1) / (tf + norm);
            slot_add(enc, v, at, w);
        }
        if (tfidf)
            l2_normalize(v, enc->dim);
    }
    terms_free(&t);
    return 0;
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
    const char *tok;
    size_t n, bad, cap = 0;
    char **v = NULL;
    int r;

    *toks = NULL;
    *ntoks = 0;
    tok_start(&it, text, mode == ENCODER_TOK_WORDS ? mode : ENCODER_TOK_LAMP);
    while ((r = tok_next(&it, &tok, &n, &bad)) == 1) {
        v = xgrow(v, &cap, *ntoks + 1, sizeof *v);
        v[(*ntoks)++] = xstrndup(tok, n);
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
