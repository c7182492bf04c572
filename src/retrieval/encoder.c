#include "encoder.h"

#include <stdlib.h>

#include "tokenize.h"
#include "util.h"

struct encoder {
    size_t dim;
    encoder_batch_fn backend;
    void *backend_ctx;
};

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

int encoder_kind_lexical(encoder_kind k)
{
    return k == ENCODER_BM25 || k == ENCODER_TFIDF;
}

encoder_tok encoder_tokenizer_for(const encoder_opts *o)
{
    if (o && o->tokenize != ENCODER_TOK_DEFAULT)
        return o->tokenize;
    return o && o->kind == ENCODER_TFIDF ? ENCODER_TOK_WORDS : ENCODER_TOK_LAMP;
}

size_t encoder_dim(const encoder *enc)
{
    return enc->dim;
}

void encoder_free(encoder *enc)
{
    free(enc);
}

int encoder_fit_encode(const encoder_opts *o, const char *const *docs, size_t n, encoder **out,
                       float **mat, pe_err *e)
{
    encoder *enc;
    int rc;

    *out = NULL;
    if (mat)
        *mat = NULL;
    if (!o || encoder_kind_lexical(o->kind))
        return pe_errf(e, PE_EXIT_USAGE, "encoder \"%s\" is lexical: it has no vectors",
                       encoder_kind_name(o ? o->kind : ENCODER_BM25));
    if (!o->backend)
        return pe_errf(e, PE_EXIT_USAGE, "encoder \"http\": no embedding backend configured");
    if (!o->dim)
        return pe_errf(e, PE_EXIT_USAGE, "encoder \"http\": no vector dimension");
    enc = xcalloc(1, sizeof *enc);
    enc->dim = o->dim;
    enc->backend = o->backend;
    enc->backend_ctx = o->backend_ctx;
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

int encoder_fit(const encoder_opts *o, const char *const *docs, size_t n, encoder **out,
                pe_err *e)
{
    return encoder_fit_encode(o, docs, n, out, NULL, e);
}

int encoder_encode_docs(const encoder *enc, const char *const *texts, size_t n, float *out,
                        pe_err *e)
{
    return n ? enc->backend(enc->backend_ctx, texts, n, out, enc->dim, e) : 0;
}

int encoder_encode_queries(const encoder *enc, const char *const *texts, size_t n, float *out,
                           pe_err *e)
{
    return encoder_encode_docs(enc, texts, n, out, e);
}

int encoder_tokenize(encoder_tok mode, const char *text, char ***toks, size_t *ntoks, pe_err *e)
{
    tokenize_iter it = TOKENIZE_ITER_INIT;
    const unsigned char *tok;
    size_t n, bad, cap = 0;
    char **v = NULL;
    int r;

    *toks = NULL;
    *ntoks = 0;
    tokenize_start(&it, text, mode);
    while ((r = tokenize_next(&it, &tok, &n, &bad)) == 1) {
        v = xgrow(v, &cap, *ntoks + 1, sizeof *v);
        v[(*ntoks)++] = xstrndup((const char *)tok, n);
    }
    tokenize_done(&it);
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
